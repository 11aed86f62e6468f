/* Reference classifier-head ops: fully connected (input read as flattened
 * CHW), softmax over channels at each position, and LeNet-5's RBF output
 * layer. Every reduction is accumulated in double.
 */
#include <math.h>

#include "cpu/cpu_ops.h"

void cs_cpu_dense(int n, int in, int out, const float *x, const float *wt,
                  const float *bias, float *y)
{
    for (int ni = 0; ni < n; ni++) {
        const float *xn = x + (size_t)ni * (size_t)in;
        for (int o = 0; o < out; o++) {
            const float *wo = wt + (size_t)o * (size_t)in;
            double acc = bias != NULL ? (double)bias[o] : 0.0;
            for (int i = 0; i < in; i++) {
                acc += (double)xn[i] * (double)wo[i];
            }
            y[(size_t)ni * (size_t)out + (size_t)o] = (float)acc;
        }
    }
}

void cs_cpu_softmax(int n, int c, int h, int w, const float *x, float *y)
{
    const size_t plane = (size_t)h * (size_t)w;

    for (int ni = 0; ni < n; ni++) {
        const float *xn = x + (size_t)ni * (size_t)c * plane;
        float *yn = y + (size_t)ni * (size_t)c * plane;
        for (size_t i = 0; i < plane; i++) {
            double max = -INFINITY;
            for (int ci = 0; ci < c; ci++) {
                const double v = (double)xn[(size_t)ci * plane + i];
                max = v > max ? v : max;
            }
            double sum = 0.0;
            for (int ci = 0; ci < c; ci++) {
                sum += exp((double)xn[(size_t)ci * plane + i] - max);
            }
            for (int ci = 0; ci < c; ci++) {
                const double e = exp((double)xn[(size_t)ci * plane + i] - max);
                yn[(size_t)ci * plane + i] = (float)(e / sum);
            }
        }
    }
}

void cs_cpu_rbf(int n, int in, int classes, const float *x, const float *wt, float *y)
{
    for (int ni = 0; ni < n; ni++) {
        const float *xn = x + (size_t)ni * (size_t)in;
        for (int k = 0; k < classes; k++) {
            const float *wk = wt + (size_t)k * (size_t)in;
            double acc = 0.0;
            for (int j = 0; j < in; j++) {
                const double d = (double)xn[j] - (double)wk[j];
                acc += d * d;
            }
            y[(size_t)ni * (size_t)classes + (size_t)k] = (float)acc;
        }
    }
}
