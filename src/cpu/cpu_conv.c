/* Reference 2-D convolution: the direct seven-loop definition from graph.h,
 * with groups, dilation, per-side padding and an optional connection mask.
 * Every output is one double-precision dot product; no tiling, no tricks.
 */
#include "cpu/cpu_ops.h"

void cs_cpu_conv2d(const cs_conv2d_params *p, int n, int c, int h, int w,
                   const float *x, const float *wt, const float *bias,
                   const uint8_t *mask, int oh, int ow, float *y)
{
    const int k_total = p->out_channels;
    const int groups = p->groups;
    const int cpg = c / groups;        /* input channels per group */
    const int kpg = k_total / groups;  /* output channels per group */
    const int kh = p->kernel_h;
    const int kw = p->kernel_w;
    const size_t in_plane = (size_t)h * (size_t)w;
    const size_t out_plane = (size_t)oh * (size_t)ow;

    for (int ni = 0; ni < n; ni++) {
        for (int k = 0; k < k_total; k++) {
            const int c0 = (k / kpg) * cpg;  /* first input channel of k's group */
            float *yk = y + ((size_t)ni * (size_t)k_total + (size_t)k) * out_plane;
            for (int oy = 0; oy < oh; oy++) {
                for (int ox = 0; ox < ow; ox++) {
                    double acc = bias != NULL ? (double)bias[k] : 0.0;
                    for (int ci = 0; ci < cpg; ci++) {
                        if (mask != NULL && mask[(size_t)k * (size_t)cpg + (size_t)ci] == 0) {
                            continue;
                        }
                        const float *xc = x + ((size_t)ni * (size_t)c + (size_t)(c0 + ci)) * in_plane;
                        const float *wc = wt + ((size_t)k * (size_t)cpg + (size_t)ci) * (size_t)kh * (size_t)kw;
                        for (int r = 0; r < kh; r++) {
                            const int iy = oy * p->stride_h - p->pad_top + r * p->dilation_h;
                            if (iy < 0 || iy >= h) {
                                continue;
                            }
                            for (int s = 0; s < kw; s++) {
                                const int ix = ox * p->stride_w - p->pad_left + s * p->dilation_w;
                                if (ix < 0 || ix >= w) {
                                    continue;
                                }
                                acc += (double)xc[(size_t)iy * (size_t)w + (size_t)ix] *
                                       (double)wc[(size_t)r * (size_t)kw + (size_t)s];
                            }
                        }
                    }
                    yk[(size_t)oy * (size_t)ow + (size_t)ox] = (float)acc;
                }
            }
        }
    }
}
