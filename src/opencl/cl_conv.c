/* Host launcher for CONV2D (cl/conv.cl): picks the depthwise kernel when every
 * group reads one input channel, else the general direct kernel, and sizes the
 * launch from the kernels' register blocking. Masks are already folded into
 * the uploaded weights by the backend.
 */
#include "opencl/cl_ops.h"

/* Register blocking of cl/conv.cl, which sizes the launch. These mirror the
 * kernel's defaults and must change with them: a build that passes -D to the
 * program must define the same values here. */
#ifndef CONV_OC_BLOCK
#define CONV_OC_BLOCK 4    /* output channels per work-item */
#endif
#ifndef CONV_OX_BLOCK
#define CONV_OX_BLOCK 4    /* output columns per work-item */
#endif
#ifndef CONV_DW_OX_BLOCK
#define CONV_DW_OX_BLOCK 4 /* output columns per work-item, depthwise */
#endif

static size_t div_up(size_t a, size_t b) { return (a + b - 1) / b; }

cs_status cs_cl_conv(const cs_cl_launch *L)
{
    const cs_node *node = L->node;
    if (node->op != CS_OP_CONV2D)
        return cs_error(CS_ERR_UNSUPPORTED, "node '%s': op %s is not a convolution (cs_cl_conv)",
                        node->name, cs_op_name(node->op));

    const cs_conv2d_params *p = &node->u.conv.p;
    const cs_shape in = L->in_shape[0];
    const cs_shape out = node->out;
    if (p->groups < 1 || in.c % p->groups != 0 || out.c % p->groups != 0)
        return cs_error(CS_ERR_SHAPE, "node '%s': groups %d do not divide %d input / %d output channels",
                        node->name, p->groups, in.c, out.c);

    cl_int C = in.c, H = in.h, W = in.w;
    cl_int K = out.c, OH = out.h, OW = out.w;
    cl_int R = p->kernel_h, S = p->kernel_w;
    cl_int sh = p->stride_h, sw = p->stride_w;
    cl_int pt = p->pad_top, pl = p->pad_left;
    cl_int dh = p->dilation_h, dw = p->dilation_w;
    cl_int groups = p->groups;
    cl_int has_bias = p->bias ? 1 : 0;
    cl_mem weight = L->params[0];
    cl_mem bias = has_bias ? L->params[1] : L->params[0];
    const size_t batch = (size_t)L->batch;

    if (C == groups) {
        /* Each group reads one input channel: depthwise (times K/C). */
        cs_cl_arg a[] = {CS_ARG(L->in[0]), CS_ARG(weight), CS_ARG(bias), CS_ARG(L->out),
                         CS_ARG(C), CS_ARG(H), CS_ARG(W), CS_ARG(K), CS_ARG(OH), CS_ARG(OW),
                         CS_ARG(R), CS_ARG(S), CS_ARG(sh), CS_ARG(sw), CS_ARG(pt), CS_ARG(pl),
                         CS_ARG(dh), CS_ARG(dw), CS_ARG(has_bias)};
        const size_t global[3] = {div_up((size_t)OW, CONV_DW_OX_BLOCK), (size_t)OH, batch * (size_t)K};
        return cs_cl_run(L->cl, "conv2d_depthwise", a, (int)(sizeof a / sizeof a[0]), 3, global, NULL);
    }

    cs_cl_arg a[] = {CS_ARG(L->in[0]), CS_ARG(weight), CS_ARG(bias), CS_ARG(L->out),
                     CS_ARG(C), CS_ARG(H), CS_ARG(W), CS_ARG(K), CS_ARG(OH), CS_ARG(OW),
                     CS_ARG(R), CS_ARG(S), CS_ARG(sh), CS_ARG(sw), CS_ARG(pt), CS_ARG(pl),
                     CS_ARG(dh), CS_ARG(dw), CS_ARG(groups), CS_ARG(has_bias)};
    const size_t kblocks = div_up((size_t)(K / groups), CONV_OC_BLOCK);
    const size_t global[3] = {div_up((size_t)OW, CONV_OX_BLOCK), (size_t)OH,
                              batch * (size_t)groups * kblocks};
    return cs_cl_run(L->cl, "conv2d_direct", a, (int)(sizeof a / sizeof a[0]), 3, global, NULL);
}
