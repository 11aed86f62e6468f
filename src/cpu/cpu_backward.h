/* The CPU reference backward pass: for every op a trainable model uses, the
 * naive, obviously correct gradient of the forward in cpu_ops.h, plus the
 * training-mode forwards (batchnorm with batch statistics, dropout with a
 * seeded mask), the fused softmax + cross-entropy loss and the SGD / Adam
 * steps. The oracle the OpenCL training kernels will be tested against.
 *
 * Conventions (all functions):
 *  - NCHW, shapes next to pointers, the same argument order as the forward.
 *  - dy is the gradient of the loss wrt the forward's output y.
 *  - Gradient outputs are WRITTEN, not accumulated: a node feeding several
 *    consumers sums their dx itself (cs_cpu_grad_accumulate). Any gradient
 *    output may be NULL and is then not computed.
 *  - Reductions (over the batch, the window, the channel) are in double.
 *  - Unless noted, outputs must not alias inputs.
 */
#ifndef CS_CPU_BACKWARD_H
#define CS_CPU_BACKWARD_H

#include <stddef.h>
#include <stdint.h>

#include "convscope.h"

/* ---- cpu_backward_conv.c ----------------------------------------------- */

/* Gradient of cs_cpu_conv2d. Masked (k, c') pairs get a zero weight gradient
 * and pass nothing to dx. db is NULL-able even when the conv has a bias. */
void cs_cpu_conv2d_backward(const cs_conv2d_params *p, int n, int c, int h, int w,
                            const float *x,      /* (N, C, H, W) */
                            const float *wt,     /* (K, C/groups, R, S) */
                            const uint8_t *mask, /* (K, C/groups) or NULL */
                            int oh, int ow,
                            const float *dy,     /* (N, K, OH, OW) */
                            float *dx,           /* (N, C, H, W) or NULL */
                            float *dw,           /* (K, C/groups, R, S) or NULL */
                            float *db);          /* (K) or NULL */

/* ---- cpu_backward_pool.c ----------------------------------------------- */

/* Each dy goes to its window's argmax in x, found as the forward does (row
 * by row; the first maximum wins a tie, a NaN wins and the last NaN wins,
 * like PyTorch's CPU kernel). A window of all -inf routes to its first
 * element (PyTorch's initial index); a window holding no input element
 * routes nowhere. */
void cs_cpu_maxpool_backward(const cs_pool_params *p, int n, int c, int h, int w,
                             const float *x,   /* (N, C, H, W) */
                             int oh, int ow,
                             const float *dy,  /* (N, C, OH, OW) */
                             float *dx);       /* (N, C, H, W) */

/* dy / divisor to every input element of the window, divisor as forward. */
void cs_cpu_avgpool_backward(const cs_pool_params *p, int n, int c, int h, int w,
                             int oh, int ow,
                             const float *dy,  /* (N, C, OH, OW) */
                             float *dx);       /* (N, C, H, W) */

void cs_cpu_adaptive_avgpool_backward(int n, int c, int h, int w, int oh, int ow,
                                      const float *dy, /* (N, C, OH, OW) */
                                      float *dx);      /* (N, C, H, W) */

/* ---- cpu_backward_norm.c ----------------------------------------------- */

/* Gradient of cs_cpu_lrn wrt x. */
void cs_cpu_lrn_backward(const cs_lrn_params *p, int n, int c, int h, int w,
                         const float *x,   /* (N, C, H, W) */
                         const float *dy,  /* (N, C, H, W) */
                         float *dx);       /* (N, C, H, W) */

/* Training-mode batchnorm (PyTorch's F.batch_norm(training=True)): statistics
 * of the batch over (N, H, W) per channel, y = (x - mean) * invstd * weight +
 * bias with invstd = 1 / sqrt(biased var + eps). Writes the batch mean, the
 * UNBIASED batch variance (what PyTorch folds into running_var) and invstd
 * (what the backward takes). M = N*H*W must be >= 2, as PyTorch requires;
 * with M == 1 the unbiased variance is written as 0. */
void cs_cpu_batchnorm_train(float eps, int n, int c, int h, int w,
                            const float *x,      /* (N, C, H, W) */
                            const float *weight, /* (C) */
                            const float *bias,   /* (C) */
                            float *y,            /* (N, C, H, W) */
                            float *mean,         /* (C) out: batch mean */
                            float *var,          /* (C) out: unbiased batch variance, or NULL */
                            float *invstd);      /* (C) out: 1/sqrt(biased var + eps) */

/* running = (1 - momentum) * running + momentum * batch, for the mean and the
 * (unbiased) variance; PyTorch's default momentum is 0.1. */
void cs_cpu_batchnorm_update_running(int c, float momentum,
                                     const float *mean,   /* (C) batch mean */
                                     const float *var,    /* (C) unbiased batch variance */
                                     float *running_mean, /* (C) in/out */
                                     float *running_var); /* (C) in/out */

/* Gradient of cs_cpu_batchnorm_train (the batch statistics depend on x):
 * with xhat = (x - mean) * invstd over the M = N*H*W values of a channel,
 * dx = weight * invstd * (dy - mean(dy) - xhat * mean(dy * xhat)),
 * dweight = sum(dy * xhat), dbias = sum(dy). */
void cs_cpu_batchnorm_train_backward(int n, int c, int h, int w,
                                     const float *x,      /* (N, C, H, W) */
                                     const float *weight, /* (C) */
                                     const float *mean,   /* (C) as the forward wrote */
                                     const float *invstd, /* (C) as the forward wrote */
                                     const float *dy,     /* (N, C, H, W) */
                                     float *dx,           /* (N, C, H, W) or NULL */
                                     float *dweight,      /* (C) or NULL */
                                     float *dbias);       /* (C) or NULL */

/* Gradient of inference batchnorm (frozen statistics, cs_cpu_batchnorm):
 * dx = dy * weight / sqrt(var + eps), dweight = sum(dy * xhat), dbias = sum(dy). */
void cs_cpu_batchnorm_backward(float eps, int n, int c, int h, int w,
                               const float *x,      /* (N, C, H, W) */
                               const float *weight, /* (C) */
                               const float *mean,   /* (C) running mean */
                               const float *var,    /* (C) running var */
                               const float *dy,     /* (N, C, H, W) */
                               float *dx,           /* (N, C, H, W) or NULL */
                               float *dweight,      /* (C) or NULL */
                               float *dbias);       /* (C) or NULL */

/* Gradient of cs_cpu_affine. dx may be dy. */
void cs_cpu_affine_backward(int n, int c, int h, int w,
                            const float *x,      /* (N, C, H, W) */
                            const float *weight, /* (C) */
                            const float *dy,     /* (N, C, H, W) */
                            float *dx,           /* (N, C, H, W) or NULL */
                            float *dweight,      /* (C) or NULL */
                            float *dbias);       /* (C) or NULL */

/* ---- cpu_backward_eltwise.c -------------------------------------------- */

/* Gradient of cs_cpu_act from its OUTPUT y (the standard form, as PyTorch's
 * threshold/tanh/sigmoid backward): relu 0 where y <= 0, else dy (a NaN y
 * passes dy, as PyTorch's threshold_backward); tanh dy * (1 - y^2);
 * scaled tanh (y = A tanh(S x)) dy * S * (A - y^2 / A); sigmoid dy * y(1-y).
 * dx may be dy. */
void cs_cpu_act_backward(cs_act_kind kind, size_t count,
                         const float *y,   /* forward output */
                         const float *dy,
                         float *dx);

/* dst += src: summing the gradients a node gets from several consumers. */
void cs_cpu_grad_accumulate(size_t count, const float *src, float *dst);

/* Training-mode dropout. One draw per element from a splitmix64 stream:
 * *rng += 0x9E3779B97F4A7C15, u = top 24 bits of mix(*rng) / 2^24 in [0, 1);
 * the element is kept iff u >= p. y = x * keep / (1 - p) (the scale as the
 * float 1/(1-p), as PyTorch multiplies by its scaled mask); p >= 1 drops
 * everything (y = 0), p <= 0 keeps everything. *rng is advanced by count, so
 * a seeded state reproduces the mask. y may be x. */
void cs_cpu_dropout_train(float p, uint64_t *rng, size_t count,
                          const float *x,
                          float *y,
                          uint8_t *mask);  /* (count) out: 1 kept, 0 dropped */

/* dx = dy * mask / (1 - p), 0 where dropped (everywhere when p >= 1). dx may
 * be dy. Flatten and inference dropout are the identity: their backward is
 * cs_cpu_copy. */
void cs_cpu_dropout_backward(float p, size_t count, const uint8_t *mask, const float *dy, float *dx);

/* Splits dy along channels: dxs[i] gets channels [offset_i, offset_i +
 * channels[i]) of every sample; a NULL dxs[i] is skipped. */
void cs_cpu_concat_backward(int n, int count, const int *channels, int h, int w,
                            const float *dy,     /* (N, C, H, W), C = sum of channels */
                            float *const *dxs);  /* dxs[i]: (N, channels[i], H, W) or NULL */

/* Gradient of cs_cpu_add: da = db = dy, zero where y <= 0 when relu (y the
 * forward output, as PyTorch's relu backward). da, db may be dy. */
void cs_cpu_add_backward(int relu, size_t count,
                         const float *y,   /* forward output (read only when relu) */
                         const float *dy,
                         float *da,        /* or NULL */
                         float *db);       /* or NULL */

/* Gradient of cs_cpu_scale: dx = dy * s, ds[n,c] = sum over (h, w) of dy * x. */
void cs_cpu_scale_backward(int n, int c, int h, int w,
                           const float *x,   /* (N, C, H, W) */
                           const float *s,   /* (N, C) */
                           const float *dy,  /* (N, C, H, W) */
                           float *dx,        /* (N, C, H, W) or NULL */
                           float *ds);       /* (N, C) or NULL */

/* ---- cpu_backward_dense.c ---------------------------------------------- */

/* Gradient of cs_cpu_dense: dx = dy W, dw = dy^T x (summed over the batch),
 * db = sum over the batch of dy. */
void cs_cpu_dense_backward(int n, int in, int out,
                           const float *x,   /* (N, I) */
                           const float *wt,  /* (O, I) */
                           const float *dy,  /* (N, O) */
                           float *dx,        /* (N, I) or NULL */
                           float *dw,        /* (O, I) or NULL */
                           float *db);       /* (O) or NULL */

/* Gradient of cs_cpu_softmax from its output: dx = y * (dy - sum_c dy * y). */
void cs_cpu_softmax_backward(int n, int c, int h, int w,
                             const float *y,   /* (N, C, H, W) forward output */
                             const float *dy,  /* (N, C, H, W) */
                             float *dx);       /* (N, C, H, W) */

/* Fused softmax + cross-entropy, mean over the batch (PyTorch's
 * F.cross_entropy(logits, labels)): *loss = mean_n(logsumexp(z_n) - z_n[label]),
 * dlogits = (softmax(z) - onehot(label)) / N. dlogits may be NULL.
 * CS_ERR_INVALID_ARG naming the sample when a label is outside [0, classes). */
cs_status cs_cpu_softmax_xent(int n, int classes,
                              const float *logits,   /* (N, classes) */
                              const int32_t *labels, /* (N) */
                              double *loss,          /* out: mean loss */
                              float *dlogits);       /* (N, classes) or NULL */

/* Gradient of cs_cpu_rbf: dx[n,j] = sum_i 2 dy[n,i] (x[n,j] - w[i,j]),
 * dw[i,j] = -sum_n 2 dy[n,i] (x[n,j] - w[i,j]). */
void cs_cpu_rbf_backward(int n, int in, int classes,
                         const float *x,   /* (N, I) */
                         const float *wt,  /* (classes, I) */
                         const float *dy,  /* (N, classes) */
                         float *dx,        /* (N, I) or NULL */
                         float *dw);       /* (classes, I) or NULL */

/* ---- cpu_backward_optim.c ---------------------------------------------- */

/* cs_sgd_params and cs_adam_params are in convscope.h. Hyperparameters are doubles, as PyTorch's are Python floats; each element's
 * update is computed in double from the float state and stored as float. */


void cs_cpu_sgd_step(const cs_sgd_params *o, size_t count,
                     float *param,       /* (count) in/out */
                     const float *grad,  /* (count) */
                     float *buf);        /* (count) momentum buffer in/out, zeroed before step 1 */


void cs_cpu_adam_step(const cs_adam_params *o, int t, size_t count,
                      float *param,       /* (count) in/out */
                      const float *grad,  /* (count) */
                      float *m,           /* (count) first moment in/out, zeroed before t = 1 */
                      float *v);          /* (count) second moment in/out, zeroed before t = 1 */

#endif
