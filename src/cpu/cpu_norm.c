/* Reference normalisations: local response norm across channels (PyTorch's
 * LocalResponseNorm), inference batchnorm and the per-channel affine.
 * Each output is computed in double from its definition in graph.h.
 */
#include <math.h>

#include "cpu/cpu_ops.h"

void cs_cpu_lrn(const cs_lrn_params *p, int n, int c, int h, int w,
                const float *x, float *y)
{
    const size_t plane = (size_t)h * (size_t)w;
    /* PyTorch pads the squared input by size/2 channels in front and
     * (size-1)/2 behind, then averages `size` channels (padding included). */
    const int before = p->size / 2;
    const int after = (p->size - 1) / 2;
    const double alpha_per = (double)p->alpha / (double)p->size;

    for (int ni = 0; ni < n; ni++) {
        const float *xn = x + (size_t)ni * (size_t)c * plane;
        float *yn = y + (size_t)ni * (size_t)c * plane;
        for (int ci = 0; ci < c; ci++) {
            const int c0 = ci - before < 0 ? 0 : ci - before;
            const int c1 = ci + after > c - 1 ? c - 1 : ci + after;
            for (size_t i = 0; i < plane; i++) {
                double sq = 0.0;
                for (int cj = c0; cj <= c1; cj++) {
                    const double v = (double)xn[(size_t)cj * plane + i];
                    sq += v * v;
                }
                const double div = pow((double)p->k + alpha_per * sq, (double)p->beta);
                yn[(size_t)ci * plane + i] = (float)((double)xn[(size_t)ci * plane + i] / div);
            }
        }
    }
}

void cs_cpu_batchnorm(float eps, int n, int c, int h, int w, const float *x,
                      const float *weight, const float *bias, const float *mean,
                      const float *var, float *y)
{
    const size_t plane = (size_t)h * (size_t)w;

    for (int ni = 0; ni < n; ni++) {
        for (int ci = 0; ci < c; ci++) {
            const double inv_std = 1.0 / sqrt((double)var[ci] + (double)eps);
            const size_t base = ((size_t)ni * (size_t)c + (size_t)ci) * plane;
            for (size_t i = 0; i < plane; i++) {
                const double v = ((double)x[base + i] - (double)mean[ci]) * inv_std;
                y[base + i] = (float)(v * (double)weight[ci] + (double)bias[ci]);
            }
        }
    }
}

void cs_cpu_affine(int n, int c, int h, int w, const float *x,
                   const float *weight, const float *bias, float *y)
{
    const size_t plane = (size_t)h * (size_t)w;

    for (int ni = 0; ni < n; ni++) {
        for (int ci = 0; ci < c; ci++) {
            const size_t base = ((size_t)ni * (size_t)c + (size_t)ci) * plane;
            for (size_t i = 0; i < plane; i++) {
                y[base + i] = (float)((double)x[base + i] * (double)weight[ci] + (double)bias[ci]);
            }
        }
    }
}
