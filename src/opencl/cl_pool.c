/* Host launcher for MAXPOOL, AVGPOOL and ADAPTIVE_AVGPOOL (cl/pool.cl): one
 * work-item per output element over (OW, OH, N*C); output sizes come from the
 * node, which already applied ceil_mode.
 */
#include "opencl/cl_ops.h"

cs_status cs_cl_pool(const cs_cl_launch *L)
{
    const cs_node *node = L->node;
    const cs_shape in = L->in_shape[0];
    const cs_shape out = node->out;
    cl_int H = in.h, W = in.w;
    cl_int OH = out.h, OW = out.w;
    const size_t global[3] = {(size_t)OW, (size_t)OH, (size_t)L->batch * (size_t)out.c};

    if (node->op == CS_OP_ADAPTIVE_AVGPOOL) {
        cs_cl_arg a[] = {CS_ARG(L->in[0]), CS_ARG(L->out), CS_ARG(H), CS_ARG(W), CS_ARG(OH), CS_ARG(OW)};
        return cs_cl_run(L->cl, "adaptive_avgpool2d", a, (int)(sizeof a / sizeof a[0]), 3, global, NULL);
    }
    if (node->op != CS_OP_MAXPOOL && node->op != CS_OP_AVGPOOL)
        return cs_error(CS_ERR_UNSUPPORTED, "node '%s': op %s is not a pooling op (cs_cl_pool)",
                        node->name, cs_op_name(node->op));

    const cs_pool_params *p = &node->u.pool;
    cl_int R = p->kernel_h, S = p->kernel_w;
    cl_int sh = p->stride_h, sw = p->stride_w;
    cl_int pt = p->pad_top, pb = p->pad_bottom, pl = p->pad_left, pr = p->pad_right;
    cl_int include_pad = p->count_include_pad ? 1 : 0;

    if (node->op == CS_OP_MAXPOOL) {
        cs_cl_arg a[] = {CS_ARG(L->in[0]), CS_ARG(L->out), CS_ARG(H), CS_ARG(W), CS_ARG(OH), CS_ARG(OW),
                         CS_ARG(R), CS_ARG(S), CS_ARG(sh), CS_ARG(sw), CS_ARG(pt), CS_ARG(pl)};
        return cs_cl_run(L->cl, "maxpool2d", a, (int)(sizeof a / sizeof a[0]), 3, global, NULL);
    }
    cs_cl_arg a[] = {CS_ARG(L->in[0]), CS_ARG(L->out), CS_ARG(H), CS_ARG(W), CS_ARG(OH), CS_ARG(OW),
                     CS_ARG(R), CS_ARG(S), CS_ARG(sh), CS_ARG(sw), CS_ARG(pt), CS_ARG(pb),
                     CS_ARG(pl), CS_ARG(pr), CS_ARG(include_pad)};
    return cs_cl_run(L->cl, "avgpool2d", a, (int)(sizeof a / sizeof a[0]), 3, global, NULL);
}
