/* Reference normalisation backward: local response norm, batchnorm in
 * training mode (forward with batch statistics, running-stat update and the
 * backward through the statistics), batchnorm with frozen statistics and the
 * per-channel affine. Per-channel sums are accumulated in double.
 */
#include <math.h>

#include "cpu/cpu_backward.h"

/* ------------------------------------------------------------------------ */
/* LRN                                                                      */
/* ------------------------------------------------------------------------ */

/* D_i = k + alpha/size * sum of x_j^2 over j in [i - before, i + after],
 * clipped to the channels, at element `at` of a sample's plane. */
static double lrn_div(const cs_lrn_params *p, const float *xn, size_t plane, size_t at, int ci, int c)
{
    const int before = p->size / 2;
    const int after = (p->size - 1) / 2;
    const int c0 = ci - before < 0 ? 0 : ci - before;
    const int c1 = ci + after > c - 1 ? c - 1 : ci + after;
    double sq = 0.0;
    for (int cj = c0; cj <= c1; cj++) {
        const double v = (double)xn[(size_t)cj * plane + at];
        sq += v * v;
    }
    return (double)p->k + (double)p->alpha / (double)p->size * sq;
}

void cs_cpu_lrn_backward(const cs_lrn_params *p, int n, int c, int h, int w, const float *x, const float *dy,
                         float *dx)
{
    const size_t plane = (size_t)h * (size_t)w;
    const int before = p->size / 2;
    const int after = (p->size - 1) / 2;
    const double beta = (double)p->beta;
    const double alpha_per = (double)p->alpha / (double)p->size;

    /* y_i = x_i D_i^-beta, so
     * dx_j = dy_j D_j^-beta - 2 beta alpha/size x_j * sum over the i whose
     *        window holds j (i in [j - after, j + before]) of dy_i x_i D_i^(-beta-1). */
    for (int ni = 0; ni < n; ni++) {
        const size_t base = (size_t)ni * (size_t)c * plane;
        const float *xn = x + base;
        for (int cj = 0; cj < c; cj++) {
            const int i0 = cj - after < 0 ? 0 : cj - after;
            const int i1 = cj + before > c - 1 ? c - 1 : cj + before;
            for (size_t at = 0; at < plane; at++) {
                const size_t j = (size_t)cj * plane + at;
                double cross = 0.0;
                for (int ci = i0; ci <= i1; ci++) {
                    const size_t i = (size_t)ci * plane + at;
                    const double d = lrn_div(p, xn, plane, at, ci, c);
                    cross += (double)dy[base + i] * (double)xn[i] * pow(d, -beta - 1.0);
                }
                const double dj = lrn_div(p, xn, plane, at, cj, c);
                dx[base + j] = (float)((double)dy[base + j] * pow(dj, -beta) -
                                       2.0 * beta * alpha_per * (double)xn[j] * cross);
            }
        }
    }
}

/* ------------------------------------------------------------------------ */
/* Batchnorm                                                                */
/* ------------------------------------------------------------------------ */

void cs_cpu_batchnorm_train(float eps, int n, int c, int h, int w, const float *x, const float *weight,
                            const float *bias, float *y, float *mean, float *var, float *invstd)
{
    const size_t plane = (size_t)h * (size_t)w;
    const double m = (double)n * (double)plane; /* values per channel */

    for (int ci = 0; ci < c; ci++) {
        double sum = 0.0;
        for (int ni = 0; ni < n; ni++) {
            const float *xc = x + ((size_t)ni * (size_t)c + (size_t)ci) * plane;
            for (size_t i = 0; i < plane; i++) {
                sum += (double)xc[i];
            }
        }
        const double mu = sum / m;
        double ss = 0.0; /* second pass: sum of squared deviations */
        for (int ni = 0; ni < n; ni++) {
            const float *xc = x + ((size_t)ni * (size_t)c + (size_t)ci) * plane;
            for (size_t i = 0; i < plane; i++) {
                const double d = (double)xc[i] - mu;
                ss += d * d;
            }
        }
        const double inv = 1.0 / sqrt(ss / m + (double)eps);
        for (int ni = 0; ni < n; ni++) {
            const size_t at = ((size_t)ni * (size_t)c + (size_t)ci) * plane;
            for (size_t i = 0; i < plane; i++) {
                const double v = ((double)x[at + i] - mu) * inv;
                y[at + i] = (float)(v * (double)weight[ci] + (double)bias[ci]);
            }
        }
        mean[ci] = (float)mu;
        invstd[ci] = (float)inv;
        if (var != NULL) {
            var[ci] = m > 1.0 ? (float)(ss / (m - 1.0)) : 0.0f;
        }
    }
}

void cs_cpu_batchnorm_update_running(int c, float momentum, const float *mean, const float *var,
                                     float *running_mean, float *running_var)
{
    const double mo = (double)momentum;
    for (int ci = 0; ci < c; ci++) {
        running_mean[ci] = (float)((1.0 - mo) * (double)running_mean[ci] + mo * (double)mean[ci]);
        running_var[ci] = (float)((1.0 - mo) * (double)running_var[ci] + mo * (double)var[ci]);
    }
}

void cs_cpu_batchnorm_train_backward(int n, int c, int h, int w, const float *x, const float *weight,
                                     const float *mean, const float *invstd, const float *dy, float *dx,
                                     float *dweight, float *dbias)
{
    const size_t plane = (size_t)h * (size_t)w;
    const double m = (double)n * (double)plane;

    for (int ci = 0; ci < c; ci++) {
        const double mu = (double)mean[ci];
        const double inv = (double)invstd[ci];
        double sum_dy = 0.0, sum_dy_xhat = 0.0;
        for (int ni = 0; ni < n; ni++) {
            const size_t at = ((size_t)ni * (size_t)c + (size_t)ci) * plane;
            for (size_t i = 0; i < plane; i++) {
                const double g = (double)dy[at + i];
                sum_dy += g;
                sum_dy_xhat += g * ((double)x[at + i] - mu) * inv;
            }
        }
        if (dweight != NULL) {
            dweight[ci] = (float)sum_dy_xhat;
        }
        if (dbias != NULL) {
            dbias[ci] = (float)sum_dy;
        }
        if (dx == NULL) {
            continue;
        }
        const double scale = (double)weight[ci] * inv;
        for (int ni = 0; ni < n; ni++) {
            const size_t at = ((size_t)ni * (size_t)c + (size_t)ci) * plane;
            for (size_t i = 0; i < plane; i++) {
                const double xhat = ((double)x[at + i] - mu) * inv;
                dx[at + i] = (float)(scale * ((double)dy[at + i] - sum_dy / m - xhat * sum_dy_xhat / m));
            }
        }
    }
}

void cs_cpu_batchnorm_backward(float eps, int n, int c, int h, int w, const float *x, const float *weight,
                               const float *mean, const float *var, const float *dy, float *dx,
                               float *dweight, float *dbias)
{
    const size_t plane = (size_t)h * (size_t)w;

    for (int ci = 0; ci < c; ci++) {
        const double mu = (double)mean[ci];
        const double inv = 1.0 / sqrt((double)var[ci] + (double)eps);
        double sum_dy = 0.0, sum_dy_xhat = 0.0;
        for (int ni = 0; ni < n; ni++) {
            const size_t at = ((size_t)ni * (size_t)c + (size_t)ci) * plane;
            for (size_t i = 0; i < plane; i++) {
                const double g = (double)dy[at + i];
                sum_dy += g;
                sum_dy_xhat += g * ((double)x[at + i] - mu) * inv;
                if (dx != NULL) {
                    dx[at + i] = (float)(g * (double)weight[ci] * inv);
                }
            }
        }
        if (dweight != NULL) {
            dweight[ci] = (float)sum_dy_xhat;
        }
        if (dbias != NULL) {
            dbias[ci] = (float)sum_dy;
        }
    }
}

/* ------------------------------------------------------------------------ */
/* Affine                                                                   */
/* ------------------------------------------------------------------------ */

void cs_cpu_affine_backward(int n, int c, int h, int w, const float *x, const float *weight, const float *dy,
                            float *dx, float *dweight, float *dbias)
{
    const size_t plane = (size_t)h * (size_t)w;

    for (int ci = 0; ci < c; ci++) {
        double sum_dy = 0.0, sum_dy_x = 0.0;
        for (int ni = 0; ni < n; ni++) {
            const size_t at = ((size_t)ni * (size_t)c + (size_t)ci) * plane;
            for (size_t i = 0; i < plane; i++) {
                const double g = (double)dy[at + i]; /* read before dx (may be dy) is written */
                sum_dy += g;
                sum_dy_x += g * (double)x[at + i];
                if (dx != NULL) {
                    dx[at + i] = (float)(g * (double)weight[ci]);
                }
            }
        }
        if (dweight != NULL) {
            dweight[ci] = (float)sum_dy_x;
        }
        if (dbias != NULL) {
            dbias[ci] = (float)sum_dy;
        }
    }
}
