/* OpenCL training kernels (cl/train.cl <-> src/opencl/cl_train.c): the
 * backward of every op a trainable model uses, the training-mode forwards
 * (batchnorm with batch statistics, seeded dropout) and the optimizer steps.
 * Each function is the device twin of the cs_cpu_* function of the same name
 * in cpu/cpu_backward.h, with the same shapes, conventions and semantics:
 *  - NCHW; n is the batch; buffers hold exactly the counts cpu_backward.h gives.
 *  - Gradient outputs are WRITTEN, never accumulated; any gradient output may
 *    be NULL and is then not computed.
 *  - Work is enqueued on c->queue (in order); nothing waits for it.
 *  - Reductions accumulate in float (devices need not have doubles); results
 *    agree with the CPU reference to about 1e-5 relative.
 * Every function returns CS_OK or a status with a message (bad sizes, CL
 * errors); none exits.
 */
#ifndef CS_OPENCL_TRAIN_H
#define CS_OPENCL_TRAIN_H

#include <stddef.h>
#include <stdint.h>

#include "convscope.h"
#include "opencl/cl_runtime.h"

/* Gradient of the convolution (groups, dilation, stride, asymmetric padding).
 * wt must already have masked-out kernels zeroed; mask (uchar (K, C/groups))
 * or NULL: masked pairs get a zero weight gradient. */
cs_status cs_cl_conv2d_backward(cs_cl_context *c, const cs_conv2d_params *p,
                                int n, int ch, int h, int w,
                                cl_mem x,     /* (N, C, H, W) */
                                cl_mem wt,    /* (K, C/groups, R, S) */
                                cl_mem mask,  /* uchar (K, C/groups) or NULL */
                                int oh, int ow,
                                cl_mem dy,    /* (N, K, OH, OW) */
                                cl_mem dx,    /* (N, C, H, W) or NULL */
                                cl_mem dw,    /* (K, C/groups, R, S) or NULL */
                                cl_mem db);   /* (K) or NULL */

cs_status cs_cl_maxpool_backward(cs_cl_context *c, const cs_pool_params *p,
                                 int n, int ch, int h, int w, cl_mem x,
                                 int oh, int ow, cl_mem dy, cl_mem dx);
cs_status cs_cl_avgpool_backward(cs_cl_context *c, const cs_pool_params *p,
                                 int n, int ch, int h, int w,
                                 int oh, int ow, cl_mem dy, cl_mem dx);
cs_status cs_cl_adaptive_avgpool_backward(cs_cl_context *c, int n, int ch, int h, int w,
                                          int oh, int ow, cl_mem dy, cl_mem dx);

/* Training batchnorm forward (batch statistics) AND the running update with
 * `momentum` (cs_cpu_batchnorm_train followed by
 * cs_cpu_batchnorm_update_running): writes y, mean, invstd and updates
 * running_mean / running_var in place. */
cs_status cs_cl_batchnorm_train(cs_cl_context *c, float eps, float momentum,
                                int n, int ch, int h, int w,
                                cl_mem x, cl_mem weight, cl_mem bias, cl_mem y,
                                cl_mem mean, cl_mem invstd,
                                cl_mem running_mean, cl_mem running_var);
cs_status cs_cl_batchnorm_train_backward(cs_cl_context *c, int n, int ch, int h, int w,
                                         cl_mem x, cl_mem weight, cl_mem mean, cl_mem invstd,
                                         cl_mem dy, cl_mem dx, cl_mem dweight, cl_mem dbias);
cs_status cs_cl_affine_backward(cs_cl_context *c, int n, int ch, int h, int w,
                                cl_mem x, cl_mem weight, cl_mem dy,
                                cl_mem dx, cl_mem dweight, cl_mem dbias);

/* From the forward OUTPUT y, as cs_cpu_act_backward. dx may be dy. */
cs_status cs_cl_act_backward(cs_cl_context *c, cs_act_kind kind, size_t count,
                             cl_mem y, cl_mem dy, cl_mem dx);
/* dst += src. */
cs_status cs_cl_grad_accumulate(cs_cl_context *c, size_t count, cl_mem src, cl_mem dst);
/* buf[0..count) = 0. */
cs_status cs_cl_fill_zero(cs_cl_context *c, size_t count, cl_mem buf);

/* Element i uses the splitmix64 state rng + (i + 1) * 0x9E3779B97F4A7C15, so
 * the mask equals cs_cpu_dropout_train's from the same state; *rng is advanced
 * by count. mask is uchar (count). y may be x. */
cs_status cs_cl_dropout_train(cs_cl_context *c, float p, uint64_t *rng, size_t count,
                              cl_mem x, cl_mem y, cl_mem mask);
cs_status cs_cl_dropout_backward(cs_cl_context *c, float p, size_t count, cl_mem mask,
                                 cl_mem dy, cl_mem dx);

/* dst (N, cs, H*W) = channels [offset, offset + cs) of src (N, ctotal, H*W):
 * one input's share of a concat's gradient. */
cs_status cs_cl_channel_slice(cs_cl_context *c, int n, int ctotal, int offset, int cs, int hw,
                              cl_mem src, cl_mem dst);

cs_status cs_cl_scale_backward(cs_cl_context *c, int n, int ch, int h, int w,
                               cl_mem x, cl_mem s, cl_mem dy, cl_mem dx, cl_mem ds);

cs_status cs_cl_dense_backward(cs_cl_context *c, int n, int in, int out,
                               cl_mem x, cl_mem wt, cl_mem dy,
                               cl_mem dx, cl_mem dw, cl_mem db);
cs_status cs_cl_rbf_backward(cs_cl_context *c, int n, int in, int classes,
                             cl_mem x, cl_mem wt, cl_mem dy, cl_mem dx, cl_mem dw);

/* Optimizer steps in float with the hyperparameters as floats (bias
 * corrections of Adam computed on the host in double). */
cs_status cs_cl_sgd_step(cs_cl_context *c, const cs_sgd_params *o, size_t count,
                         cl_mem param, cl_mem grad, cl_mem buf /* NULL when momentum is 0 */);
cs_status cs_cl_adam_step(cs_cl_context *c, const cs_adam_params *o, int t, size_t count,
                          cl_mem param, cl_mem grad, cl_mem m, cl_mem v);

#endif
