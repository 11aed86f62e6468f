/* The CPU reference ops: one naive, obviously correct function per op, the
 * oracle every OpenCL kernel is tested against. Pure functions on host float
 * arrays, NCHW, shapes next to pointers; the semantics are graph.h's.
 * Sums are accumulated in double. Unless noted, y must not alias x.
 */
#ifndef CS_CPU_OPS_H
#define CS_CPU_OPS_H

#include <stddef.h>
#include <stdint.h>

#include "convscope.h"

/* One axis of an average-pool window, PyTorch's rule: the window starts at
 * o*stride - pad_lo and may reach into the padding on both sides but never
 * past the far padding (a ceil_mode overhang); *padded is its length before
 * clipping (the count_include_pad divisor), [*lo, *hi) the part inside the
 * input. Shared by cs_cpu_avgpool and its backward so the two cannot drift. */
static inline void cs_pool_span(int o, int stride, int kernel, int pad_lo, int pad_hi, int in, int *lo, int *hi,
                                int *padded)
{
    int a = o * stride - pad_lo;
    int b = a + kernel < in + pad_hi ? a + kernel : in + pad_hi;
    *padded = b - a;
    *lo = a > 0 ? a : 0;
    *hi = b < in ? b : in;
}

/* The divisor of an average-pool window from its two axes. */
static inline int cs_pool_divisor(const cs_pool_params *p, int y0, int y1, int pool_h, int x0, int x1, int pool_w)
{
    int ch = y1 - y0 > 0 ? y1 - y0 : 0, cw = x1 - x0 > 0 ? x1 - x0 : 0;
    return p->count_include_pad ? pool_h * pool_w : ch * cw;
}

/* LeCun 1998 scaled tanh: A * tanh(S * x) (cl/eltwise.cl uses the same). */
#define CS_SCALED_TANH_A 1.7159
#define CS_SCALED_TANH_S (2.0 / 3.0)

/* ---- cpu_conv.c -------------------------------------------------------- */

/* Mask entries of 0 leave out the (k, c') terms; K = p->out_channels. */
void cs_cpu_conv2d(const cs_conv2d_params *p, int n, int c, int h, int w,
                   const float *x,     /* (N, C, H, W) */
                   const float *wt,    /* (K, C/groups, R, S) */
                   const float *bias,  /* (K) or NULL */
                   const uint8_t *mask, /* (K, C/groups) or NULL */
                   int oh, int ow,
                   float *y);          /* (N, K, OH, OW) */

/* ---- cpu_pool.c -------------------------------------------------------- */

/* Padding never wins; a window holding no input element gives -inf. NaN wins. */
void cs_cpu_maxpool(const cs_pool_params *p, int n, int c, int h, int w,
                    const float *x,    /* (N, C, H, W) */
                    int oh, int ow,
                    float *y);         /* (N, C, OH, OW) */

/* PyTorch's divisor rule (graph.h). A window holding no input element gives 0. */
void cs_cpu_avgpool(const cs_pool_params *p, int n, int c, int h, int w,
                    const float *x,    /* (N, C, H, W) */
                    int oh, int ow,
                    float *y);         /* (N, C, OH, OW) */

/* Window i: [floor(i*H/OH), ceil((i+1)*H/OH)), the same along W. */
void cs_cpu_adaptive_avgpool(int n, int c, int h, int w,
                             const float *x, /* (N, C, H, W) */
                             int oh, int ow,
                             float *y);      /* (N, C, OH, OW) */

/* ---- cpu_norm.c -------------------------------------------------------- */

/* PyTorch LocalResponseNorm across channels. */
void cs_cpu_lrn(const cs_lrn_params *p, int n, int c, int h, int w,
                const float *x,        /* (N, C, H, W) */
                float *y);             /* (N, C, H, W) */

/* Inference batchnorm: (x - mean) / sqrt(var + eps) * weight + bias. y may be x. */
void cs_cpu_batchnorm(float eps, int n, int c, int h, int w,
                      const float *x,      /* (N, C, H, W) */
                      const float *weight, /* (C) */
                      const float *bias,   /* (C) */
                      const float *mean,   /* (C) */
                      const float *var,    /* (C) */
                      float *y);           /* (N, C, H, W) */

/* y = x * weight[c] + bias[c]. y may be x. */
void cs_cpu_affine(int n, int c, int h, int w,
                   const float *x,      /* (N, C, H, W) */
                   const float *weight, /* (C) */
                   const float *bias,   /* (C) */
                   float *y);           /* (N, C, H, W) */

/* ---- cpu_eltwise.c ----------------------------------------------------- */

/* Elementwise activation over `count` floats. y may be x. */
void cs_cpu_act(cs_act_kind kind, size_t count, const float *x, float *y);

/* Flatten and dropout: y = x. y may be x. */
void cs_cpu_copy(size_t count, const float *x, float *y);

/* Concatenation along channels of `count` inputs; C = sum of channels[i]. */
void cs_cpu_concat(int n, int count, const int *channels, int h, int w,
                   const float *const *xs, /* xs[i]: (N, channels[i], H, W) */
                   float *y);              /* (N, C, H, W) */

/* y = a + b, then max(y, 0) when relu. y may be a or b. */
void cs_cpu_add(int relu, size_t count, const float *a, const float *b, float *y);

/* y[n,c,:,:] = x[n,c,:,:] * s[n,c]. y may be x. */
void cs_cpu_scale(int n, int c, int h, int w,
                  const float *x,   /* (N, C, H, W) */
                  const float *s,   /* (N, C) */
                  float *y);        /* (N, C, H, W) */

/* ---- cpu_dense.c ------------------------------------------------------- */

/* y[n,o] = bias[o] + sum_i x[n,i] * wt[o,i]; x is the input read as flattened CHW. */
void cs_cpu_dense(int n, int in, int out,
                  const float *x,    /* (N, I) */
                  const float *wt,   /* (O, I) */
                  const float *bias, /* (O) or NULL */
                  float *y);         /* (N, O) */

/* Softmax over C at each (h, w), max-subtracted. */
void cs_cpu_softmax(int n, int c, int h, int w,
                    const float *x,  /* (N, C, H, W) */
                    float *y);       /* (N, C, H, W) */

/* y[n,i] = sum_j (x[n,j] - wt[i,j])^2. */
void cs_cpu_rbf(int n, int in, int classes,
                const float *x,      /* (N, I) */
                const float *wt,     /* (classes, I) */
                float *y);           /* (N, classes) */

#endif
