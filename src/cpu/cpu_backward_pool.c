/* Reference pooling backward: max (each output's gradient to its window's
 * argmax, found exactly as the forward scans), average (PyTorch's divisor
 * rule, ceil_mode, per-side padding) and adaptive average. Each output's
 * gradient is scattered over its own window into a zeroed dx.
 */
#include <math.h>
#include <string.h>

#include "cpu/cpu_backward.h"
#include "cpu/cpu_ops.h"

static int imin(int a, int b)
{
    return a < b ? a : b;
}
static int imax(int a, int b)
{
    return a > b ? a : b;
}

void cs_cpu_maxpool_backward(const cs_pool_params *p, int n, int c, int h, int w, const float *x, int oh,
                             int ow, const float *dy, float *dx)
{
    const size_t planes = (size_t)n * (size_t)c;
    const size_t in_plane = (size_t)h * (size_t)w;
    const size_t out_plane = (size_t)oh * (size_t)ow;

    memset(dx, 0, planes * in_plane * sizeof(float));
    for (size_t pl = 0; pl < planes; pl++) {
        const float *xp = x + pl * in_plane;
        const float *dyp = dy + pl * out_plane;
        float *dxp = dx + pl * in_plane;
        for (int oy = 0; oy < oh; oy++) {
            const int y0 = imax(oy * p->stride_h - p->pad_top, 0);
            const int y1 = imin(oy * p->stride_h - p->pad_top + p->kernel_h, h);
            for (int ox = 0; ox < ow; ox++) {
                const int x0 = imax(ox * p->stride_w - p->pad_left, 0);
                const int x1 = imin(ox * p->stride_w - p->pad_left + p->kernel_w, w);
                if (y0 >= y1 || x0 >= x1) {
                    continue; /* the window holds no input element */
                }
                /* The forward's scan; the argmax starts at the window's first
                 * element, as PyTorch's does, so an all -inf window routes there. */
                size_t arg = (size_t)y0 * (size_t)w + (size_t)x0;
                float best = -INFINITY;
                for (int iy = y0; iy < y1; iy++) {
                    for (int ix = x0; ix < x1; ix++) {
                        const size_t i = (size_t)iy * (size_t)w + (size_t)ix;
                        if (xp[i] > best || isnan(xp[i])) {
                            best = xp[i];
                            arg = i;
                        }
                    }
                }
                dxp[arg] += dyp[(size_t)oy * (size_t)ow + (size_t)ox];
            }
        }
    }
}

void cs_cpu_avgpool_backward(const cs_pool_params *p, int n, int c, int h, int w, int oh, int ow,
                             const float *dy, float *dx)
{
    const size_t planes = (size_t)n * (size_t)c;
    const size_t in_plane = (size_t)h * (size_t)w;
    const size_t out_plane = (size_t)oh * (size_t)ow;

    memset(dx, 0, planes * in_plane * sizeof(float));
    for (size_t pl = 0; pl < planes; pl++) {
        const float *dyp = dy + pl * out_plane;
        float *dxp = dx + pl * in_plane;
        for (int oy = 0; oy < oh; oy++) {
            /* Window and divisor exactly as cs_cpu_avgpool (cpu_ops.h). */
            int y0 = 0, y1 = 0, pool_h = 0;
            cs_pool_span(oy, p->stride_h, p->kernel_h, p->pad_top, p->pad_bottom, h, &y0, &y1, &pool_h);
            for (int ox = 0; ox < ow; ox++) {
                int x0 = 0, x1 = 0, pool_w = 0;
                cs_pool_span(ox, p->stride_w, p->kernel_w, p->pad_left, p->pad_right, w, &x0, &x1, &pool_w);

                const int divisor = cs_pool_divisor(p, y0, y1, pool_h, x0, x1, pool_w);
                if (divisor <= 0) {
                    continue; /* the forward wrote a constant 0 */
                }
                const float g = (float)((double)dyp[(size_t)oy * (size_t)ow + (size_t)ox] / (double)divisor);
                for (int iy = y0; iy < y1; iy++) {
                    for (int ix = x0; ix < x1; ix++) {
                        dxp[(size_t)iy * (size_t)w + (size_t)ix] += g;
                    }
                }
            }
        }
    }
}

void cs_cpu_adaptive_avgpool_backward(int n, int c, int h, int w, int oh, int ow, const float *dy, float *dx)
{
    const size_t planes = (size_t)n * (size_t)c;
    const size_t in_plane = (size_t)h * (size_t)w;
    const size_t out_plane = (size_t)oh * (size_t)ow;

    memset(dx, 0, planes * in_plane * sizeof(float));
    for (size_t pl = 0; pl < planes; pl++) {
        const float *dyp = dy + pl * out_plane;
        float *dxp = dx + pl * in_plane;
        for (int oy = 0; oy < oh; oy++) {
            const long long y0 = (long long)oy * h / oh;
            const long long y1 = ((long long)(oy + 1) * h + oh - 1) / oh;
            for (int ox = 0; ox < ow; ox++) {
                const long long x0 = (long long)ox * w / ow;
                const long long x1 = ((long long)(ox + 1) * w + ow - 1) / ow;
                const double area = (double)((y1 - y0) * (x1 - x0));
                const float g = (float)((double)dyp[(size_t)oy * (size_t)ow + (size_t)ox] / area);
                for (long long iy = y0; iy < y1; iy++) {
                    for (long long ix = x0; ix < x1; ix++) {
                        dxp[(size_t)iy * (size_t)w + (size_t)ix] += g;
                    }
                }
            }
        }
    }
}
