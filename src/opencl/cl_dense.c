/* Host launcher for DENSE, SOFTMAX and RBF (cl/dense.cl). DENSE runs as one
 * CLBlast SGEMM plus a bias kernel when the build has CLBlast and the context
 * asks for it (use_clblast), else as the dense_forward kernel.
 */
#include <stdlib.h>

#include "cs_config.h"
#include "opencl/cl_ops.h"

#if CS_HAVE_CLBLAST
#include <clblast_c.h>

/* Y (N, O) = X (N, I) * W (O, I)^T, row-major, then Y += bias. */
static cs_status dense_clblast(const cs_cl_launch *L, cl_int I, cl_int O, cl_int has_bias)
{
    cs_cl_context *c = L->cl;
    cl_event ev = NULL;
    const size_t n = (size_t)L->batch;
    if (c->profile) {
        const cs_status st = cs_cl_event_reserve(c);
        if (st != CS_OK)
            return st;
    }
    const CLBlastStatusCode code =
        CLBlastSgemm(CLBlastLayoutRowMajor, CLBlastTransposeNo, CLBlastTransposeYes,
                     n, (size_t)O, (size_t)I, 1.0f,
                     L->in[0], 0, (size_t)I,
                     L->params[0], 0, (size_t)I,
                     0.0f, L->out, 0, (size_t)O,
                     &c->queue, c->profile ? &ev : NULL);
    if (code != CLBlastSuccess)
        return cs_error(CS_ERR_DEVICE, "node '%s': CLBlastSgemm (%zu x %d x %d) failed with status %d",
                        L->node->name, n, (int)O, (int)I, (int)code);
    if (c->profile && ev != NULL) {
        c->events[c->n_events].node = c->cur_node;
        c->events[c->n_events].event = ev;
        c->n_events++;
    }
    if (!has_bias)
        return CS_OK;
    cs_cl_arg a[] = {CS_ARG(L->out), CS_ARG(L->params[1]), CS_ARG(O)};
    const size_t global[2] = {(size_t)O, n};
    return cs_cl_run(c, "dense_add_bias", a, (int)(sizeof a / sizeof a[0]), 2, global, NULL);
}
#endif

static cs_status run_dense(const cs_cl_launch *L)
{
    const cs_node *node = L->node;
    cl_int I = (cl_int)cs_shape_count(L->in_shape[0]);
    cl_int O = node->u.dense.out_features;
    cl_int has_bias = node->u.dense.bias ? 1 : 0;
#if CS_HAVE_CLBLAST
    if (L->cl->use_clblast)
        return dense_clblast(L, I, O, has_bias);
#endif
    cl_mem bias = has_bias ? L->params[1] : L->params[0];
    cs_cl_arg a[] = {CS_ARG(L->in[0]), CS_ARG(L->params[0]), CS_ARG(bias), CS_ARG(L->out),
                     CS_ARG(I), CS_ARG(O), CS_ARG(has_bias)};
    const size_t global[2] = {(size_t)O, (size_t)L->batch};
    return cs_cl_run(L->cl, "dense_forward", a, (int)(sizeof a / sizeof a[0]), 2, global, NULL);
}

cs_status cs_cl_dense(const cs_cl_launch *L)
{
    const cs_node *node = L->node;
    switch (node->op) {
    case CS_OP_DENSE:
        return run_dense(L);
    case CS_OP_SOFTMAX: {
        cl_int C = node->out.c;
        cl_int HW = node->out.h * node->out.w;
        cs_cl_arg a[] = {CS_ARG(L->in[0]), CS_ARG(L->out), CS_ARG(C), CS_ARG(HW)};
        const size_t global[2] = {(size_t)HW, (size_t)L->batch};
        return cs_cl_run(L->cl, "softmax_channels", a, (int)(sizeof a / sizeof a[0]), 2, global, NULL);
    }
    case CS_OP_RBF: {
        cl_int I = (cl_int)cs_shape_count(L->in_shape[0]);
        cl_int classes = node->u.rbf.classes;
        cs_cl_arg a[] = {CS_ARG(L->in[0]), CS_ARG(L->params[0]), CS_ARG(L->out), CS_ARG(I), CS_ARG(classes)};
        const size_t global[2] = {(size_t)classes, (size_t)L->batch};
        return cs_cl_run(L->cl, "rbf_forward", a, (int)(sizeof a / sizeof a[0]), 2, global, NULL);
    }
    default:
        return cs_error(CS_ERR_UNSUPPORTED, "node '%s': op %s is not a dense-family op (cs_cl_dense)",
                        node->name, cs_op_name(node->op));
    }
}
