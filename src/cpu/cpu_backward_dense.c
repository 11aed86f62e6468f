/* Reference classifier-head backward: fully connected, softmax over
 * channels, the fused softmax + cross-entropy loss (mean over the batch, the
 * training objective) and LeNet-5's RBF layer. Every reduction in double.
 */
#include <math.h>

#include "core/status.h"
#include "cpu/cpu_backward.h"

void cs_cpu_dense_backward(int n, int in, int out, const float *x, const float *wt, const float *dy,
                           float *dx, float *dw, float *db)
{
    if (dx != NULL) {
        for (int ni = 0; ni < n; ni++) {
            const float *dyn = dy + (size_t)ni * (size_t)out;
            for (int i = 0; i < in; i++) {
                double acc = 0.0;
                for (int o = 0; o < out; o++) {
                    acc += (double)dyn[o] * (double)wt[(size_t)o * (size_t)in + (size_t)i];
                }
                dx[(size_t)ni * (size_t)in + (size_t)i] = (float)acc;
            }
        }
    }
    for (int o = 0; o < out; o++) {
        if (dw != NULL) {
            for (int i = 0; i < in; i++) {
                double acc = 0.0;
                for (int ni = 0; ni < n; ni++) {
                    acc += (double)dy[(size_t)ni * (size_t)out + (size_t)o] *
                           (double)x[(size_t)ni * (size_t)in + (size_t)i];
                }
                dw[(size_t)o * (size_t)in + (size_t)i] = (float)acc;
            }
        }
        if (db != NULL) {
            double acc = 0.0;
            for (int ni = 0; ni < n; ni++) {
                acc += (double)dy[(size_t)ni * (size_t)out + (size_t)o];
            }
            db[o] = (float)acc;
        }
    }
}

void cs_cpu_softmax_backward(int n, int c, int h, int w, const float *y, const float *dy, float *dx)
{
    const size_t plane = (size_t)h * (size_t)w;

    for (int ni = 0; ni < n; ni++) {
        const size_t base = (size_t)ni * (size_t)c * plane;
        for (size_t i = 0; i < plane; i++) {
            double dot = 0.0; /* sum over c of dy * y */
            for (int ci = 0; ci < c; ci++) {
                const size_t at = base + (size_t)ci * plane + i;
                dot += (double)dy[at] * (double)y[at];
            }
            for (int ci = 0; ci < c; ci++) {
                const size_t at = base + (size_t)ci * plane + i;
                dx[at] = (float)((double)y[at] * ((double)dy[at] - dot));
            }
        }
    }
}

cs_status cs_cpu_softmax_xent(int n, int classes, const float *logits, const int32_t *labels, double *loss,
                              float *dlogits)
{
    if (n < 1 || classes < 1) {
        return cs_error(CS_ERR_INVALID_ARG, "softmax cross-entropy: batch %d, classes %d (both must be >= 1)",
                        n, classes);
    }
    for (int ni = 0; ni < n; ni++) {
        if (labels[ni] < 0 || labels[ni] >= classes) {
            return cs_error(CS_ERR_INVALID_ARG,
                            "softmax cross-entropy: sample %d has label %d, outside [0, %d)", ni,
                            (int)labels[ni], classes);
        }
    }

    double total = 0.0;
    for (int ni = 0; ni < n; ni++) {
        const float *z = logits + (size_t)ni * (size_t)classes;
        double max = -INFINITY;
        for (int k = 0; k < classes; k++) {
            max = (double)z[k] > max ? (double)z[k] : max;
        }
        double sum = 0.0;
        for (int k = 0; k < classes; k++) {
            sum += exp((double)z[k] - max);
        }
        const double lse = max + log(sum); /* log sum exp z */
        total += lse - (double)z[labels[ni]];
        if (dlogits != NULL) {
            float *g = dlogits + (size_t)ni * (size_t)classes;
            for (int k = 0; k < classes; k++) {
                const double prob = exp((double)z[k] - lse);
                g[k] = (float)((prob - (k == labels[ni] ? 1.0 : 0.0)) / (double)n);
            }
        }
    }
    *loss = total / (double)n;
    return CS_OK;
}

void cs_cpu_rbf_backward(int n, int in, int classes, const float *x, const float *wt, const float *dy,
                         float *dx, float *dw)
{
    if (dx != NULL) {
        for (int ni = 0; ni < n; ni++) {
            const float *xn = x + (size_t)ni * (size_t)in;
            const float *dyn = dy + (size_t)ni * (size_t)classes;
            for (int j = 0; j < in; j++) {
                double acc = 0.0;
                for (int k = 0; k < classes; k++) {
                    acc += 2.0 * (double)dyn[k] *
                           ((double)xn[j] - (double)wt[(size_t)k * (size_t)in + (size_t)j]);
                }
                dx[(size_t)ni * (size_t)in + (size_t)j] = (float)acc;
            }
        }
    }
    if (dw != NULL) {
        for (int k = 0; k < classes; k++) {
            for (int j = 0; j < in; j++) {
                const double wkj = (double)wt[(size_t)k * (size_t)in + (size_t)j];
                double acc = 0.0;
                for (int ni = 0; ni < n; ni++) {
                    acc -= 2.0 * (double)dy[(size_t)ni * (size_t)classes + (size_t)k] *
                           ((double)x[(size_t)ni * (size_t)in + (size_t)j] - wkj);
                }
                dw[(size_t)k * (size_t)in + (size_t)j] = (float)acc;
            }
        }
    }
}
