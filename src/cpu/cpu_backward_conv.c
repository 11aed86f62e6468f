/* Reference 2-D convolution backward: the gradients of cs_cpu_conv2d wrt its
 * input, weight and bias. Each gradient element is one double-precision sum
 * gathered from its definition (no scatter, no scratch memory), with groups,
 * dilation, per-side padding and the connection mask as in the forward.
 */
#include "cpu/cpu_backward.h"

/* Output position o whose tap `t` reads input position i along one axis
 * (o * stride - pad + t * dilation == i), or -1 when there is none. */
static int tap_source(int i, int t, int stride, int pad, int dilation, int out)
{
    const int num = i + pad - t * dilation;
    if (num < 0 || num % stride != 0) {
        return -1;
    }
    const int o = num / stride;
    return o < out ? o : -1;
}

void cs_cpu_conv2d_backward(const cs_conv2d_params *p, int n, int c, int h, int w, const float *x,
                            const float *wt, const uint8_t *mask, int oh, int ow, const float *dy, float *dx,
                            float *dw, float *db)
{
    const int k_total = p->out_channels;
    const int groups = p->groups;
    const int cpg = c / groups;       /* input channels per group */
    const int kpg = k_total / groups; /* output channels per group */
    const int kh = p->kernel_h;
    const int kw = p->kernel_w;
    const size_t in_plane = (size_t)h * (size_t)w;
    const size_t out_plane = (size_t)oh * (size_t)ow;
    const size_t taps = (size_t)kh * (size_t)kw;

    /* db[k] = sum over n, oy, ox of dy[n,k,oy,ox] */
    if (db != NULL) {
        for (int k = 0; k < k_total; k++) {
            double acc = 0.0;
            for (int ni = 0; ni < n; ni++) {
                const float *dyk = dy + ((size_t)ni * (size_t)k_total + (size_t)k) * out_plane;
                for (size_t i = 0; i < out_plane; i++) {
                    acc += (double)dyk[i];
                }
            }
            db[k] = (float)acc;
        }
    }

    /* dw[k,ci,r,s] = sum over n, oy, ox of dy[n,k,oy,ox] * x[n, c0+ci, iy, ix] */
    if (dw != NULL) {
        for (int k = 0; k < k_total; k++) {
            const int c0 = (k / kpg) * cpg;
            for (int ci = 0; ci < cpg; ci++) {
                float *dwc = dw + ((size_t)k * (size_t)cpg + (size_t)ci) * taps;
                const int masked = mask != NULL && mask[(size_t)k * (size_t)cpg + (size_t)ci] == 0;
                for (int r = 0; r < kh; r++) {
                    for (int s = 0; s < kw; s++) {
                        double acc = 0.0;
                        for (int ni = 0; ni < n && !masked; ni++) {
                            const float *xc = x + ((size_t)ni * (size_t)c + (size_t)(c0 + ci)) * in_plane;
                            const float *dyk = dy + ((size_t)ni * (size_t)k_total + (size_t)k) * out_plane;
                            for (int oy = 0; oy < oh; oy++) {
                                const int iy = oy * p->stride_h - p->pad_top + r * p->dilation_h;
                                if (iy < 0 || iy >= h) {
                                    continue;
                                }
                                for (int ox = 0; ox < ow; ox++) {
                                    const int ix = ox * p->stride_w - p->pad_left + s * p->dilation_w;
                                    if (ix < 0 || ix >= w) {
                                        continue;
                                    }
                                    acc += (double)dyk[(size_t)oy * (size_t)ow + (size_t)ox] *
                                           (double)xc[(size_t)iy * (size_t)w + (size_t)ix];
                                }
                            }
                        }
                        dwc[(size_t)r * (size_t)kw + (size_t)s] = (float)acc;
                    }
                }
            }
        }
    }

    /* dx[n,c,iy,ix] = sum over k in c's group, r, s of dy[n,k,oy,ox] * w[k,ci,r,s]
     * for the (oy, ox) whose tap (r, s) reads (iy, ix). */
    if (dx != NULL) {
        for (int ni = 0; ni < n; ni++) {
            for (int cc = 0; cc < c; cc++) {
                const int g = cc / cpg;
                const int ci = cc - g * cpg;
                float *dxc = dx + ((size_t)ni * (size_t)c + (size_t)cc) * in_plane;
                for (int iy = 0; iy < h; iy++) {
                    for (int ix = 0; ix < w; ix++) {
                        double acc = 0.0;
                        for (int k = g * kpg; k < (g + 1) * kpg; k++) {
                            if (mask != NULL && mask[(size_t)k * (size_t)cpg + (size_t)ci] == 0) {
                                continue;
                            }
                            const float *wc = wt + ((size_t)k * (size_t)cpg + (size_t)ci) * taps;
                            const float *dyk = dy + ((size_t)ni * (size_t)k_total + (size_t)k) * out_plane;
                            for (int r = 0; r < kh; r++) {
                                const int oy = tap_source(iy, r, p->stride_h, p->pad_top, p->dilation_h, oh);
                                if (oy < 0) {
                                    continue;
                                }
                                for (int s = 0; s < kw; s++) {
                                    const int ox =
                                        tap_source(ix, s, p->stride_w, p->pad_left, p->dilation_w, ow);
                                    if (ox < 0) {
                                        continue;
                                    }
                                    acc += (double)dyk[(size_t)oy * (size_t)ow + (size_t)ox] *
                                           (double)wc[(size_t)r * (size_t)kw + (size_t)s];
                                }
                            }
                        }
                        dxc[(size_t)iy * (size_t)w + (size_t)ix] = (float)acc;
                    }
                }
            }
        }
    }
}
