/* Reference pooling: max, average (PyTorch's ceil_mode / count_include_pad
 * divisor rule, per-side padding) and adaptive average. Output sizes come from
 * the caller (the graph computed them); each output visits its own window.
 */
#include <math.h>

#include "cpu/cpu_ops.h"

static int imin(int a, int b) { return a < b ? a : b; }
static int imax(int a, int b) { return a > b ? a : b; }

void cs_cpu_maxpool(const cs_pool_params *p, int n, int c, int h, int w,
                    const float *x, int oh, int ow, float *y)
{
    const size_t planes = (size_t)n * (size_t)c;
    const size_t in_plane = (size_t)h * (size_t)w;
    const size_t out_plane = (size_t)oh * (size_t)ow;

    for (size_t pl = 0; pl < planes; pl++) {
        const float *xp = x + pl * in_plane;
        float *yp = y + pl * out_plane;
        for (int oy = 0; oy < oh; oy++) {
            const int y0 = imax(oy * p->stride_h - p->pad_top, 0);
            const int y1 = imin(oy * p->stride_h - p->pad_top + p->kernel_h, h);
            for (int ox = 0; ox < ow; ox++) {
                const int x0 = imax(ox * p->stride_w - p->pad_left, 0);
                const int x1 = imin(ox * p->stride_w - p->pad_left + p->kernel_w, w);
                float best = -INFINITY;
                for (int iy = y0; iy < y1; iy++) {
                    for (int ix = x0; ix < x1; ix++) {
                        const float v = xp[(size_t)iy * (size_t)w + (size_t)ix];
                        if (v > best || isnan(v)) {
                            best = v;
                        }
                    }
                }
                yp[(size_t)oy * (size_t)ow + (size_t)ox] = best;
            }
        }
    }
}

void cs_cpu_avgpool(const cs_pool_params *p, int n, int c, int h, int w,
                    const float *x, int oh, int ow, float *y)
{
    const size_t planes = (size_t)n * (size_t)c;
    const size_t in_plane = (size_t)h * (size_t)w;
    const size_t out_plane = (size_t)oh * (size_t)ow;

    for (size_t pl = 0; pl < planes; pl++) {
        const float *xp = x + pl * in_plane;
        float *yp = y + pl * out_plane;
        for (int oy = 0; oy < oh; oy++) {
            int y0 = 0, y1 = 0, pool_h = 0;
            cs_pool_span(oy, p->stride_h, p->kernel_h, p->pad_top, p->pad_bottom, h, &y0, &y1, &pool_h);
            for (int ox = 0; ox < ow; ox++) {
                int x0 = 0, x1 = 0, pool_w = 0;
                cs_pool_span(ox, p->stride_w, p->kernel_w, p->pad_left, p->pad_right, w, &x0, &x1, &pool_w);

                double sum = 0.0;
                for (int iy = y0; iy < y1; iy++) {
                    for (int ix = x0; ix < x1; ix++) {
                        sum += (double)xp[(size_t)iy * (size_t)w + (size_t)ix];
                    }
                }
                const int divisor = cs_pool_divisor(p, y0, y1, pool_h, x0, x1, pool_w);
                yp[(size_t)oy * (size_t)ow + (size_t)ox] =
                    divisor > 0 ? (float)(sum / (double)divisor) : 0.0f;
            }
        }
    }
}

void cs_cpu_adaptive_avgpool(int n, int c, int h, int w, const float *x,
                             int oh, int ow, float *y)
{
    const size_t planes = (size_t)n * (size_t)c;
    const size_t in_plane = (size_t)h * (size_t)w;
    const size_t out_plane = (size_t)oh * (size_t)ow;

    for (size_t pl = 0; pl < planes; pl++) {
        const float *xp = x + pl * in_plane;
        float *yp = y + pl * out_plane;
        for (int oy = 0; oy < oh; oy++) {
            const long long y0 = (long long)oy * h / oh;
            const long long y1 = ((long long)(oy + 1) * h + oh - 1) / oh;
            for (int ox = 0; ox < ow; ox++) {
                const long long x0 = (long long)ox * w / ow;
                const long long x1 = ((long long)(ox + 1) * w + ow - 1) / ow;
                double sum = 0.0;
                for (long long iy = y0; iy < y1; iy++) {
                    for (long long ix = x0; ix < x1; ix++) {
                        sum += (double)xp[(size_t)iy * (size_t)w + (size_t)ix];
                    }
                }
                const double area = (double)((y1 - y0) * (x1 - x0));
                yp[(size_t)oy * (size_t)ow + (size_t)ox] = (float)(sum / area);
            }
        }
    }
}
