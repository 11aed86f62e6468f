/* Host launcher for LRN, BATCHNORM and AFFINE (cl/norm.cl): one work-item per
 * element over (H*W, C, N), with the node's learnable tensors as buffers.
 */
#include "opencl/cl_ops.h"

cs_status cs_cl_norm(const cs_cl_launch *L)
{
    const cs_node *node = L->node;
    const cs_shape s = node->out;
    cl_int C = s.c;
    cl_int HW = s.h * s.w;
    const size_t global[3] = {(size_t)HW, (size_t)C, (size_t)L->batch};

    switch (node->op) {
    case CS_OP_LRN: {
        cl_int size = node->u.lrn.size;
        cl_float alpha = node->u.lrn.alpha, beta = node->u.lrn.beta, k = node->u.lrn.k;
        cs_cl_arg a[] = {CS_ARG(L->in[0]), CS_ARG(L->out), CS_ARG(C), CS_ARG(HW),
                         CS_ARG(size), CS_ARG(alpha), CS_ARG(beta), CS_ARG(k)};
        return cs_cl_run(L->cl, "lrn_across_channels", a, (int)(sizeof a / sizeof a[0]), 3, global, NULL);
    }
    case CS_OP_BATCHNORM: {
        cl_float eps = node->u.bn.eps;
        cs_cl_arg a[] = {CS_ARG(L->in[0]), CS_ARG(L->out), CS_ARG(L->params[0]), CS_ARG(L->params[1]),
                         CS_ARG(L->params[2]), CS_ARG(L->params[3]), CS_ARG(C), CS_ARG(HW), CS_ARG(eps)};
        return cs_cl_run(L->cl, "batchnorm_infer", a, (int)(sizeof a / sizeof a[0]), 3, global, NULL);
    }
    case CS_OP_AFFINE: {
        cs_cl_arg a[] = {CS_ARG(L->in[0]), CS_ARG(L->out), CS_ARG(L->params[0]), CS_ARG(L->params[1]),
                         CS_ARG(C), CS_ARG(HW)};
        return cs_cl_run(L->cl, "affine_channels", a, (int)(sizeof a / sizeof a[0]), 3, global, NULL);
    }
    default:
        return cs_error(CS_ERR_UNSUPPORTED, "node '%s': op %s is not a normalisation op (cs_cl_norm)",
                        node->name, cs_op_name(node->op));
    }
}
