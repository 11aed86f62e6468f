/* Host launcher for ACT, FLATTEN, DROPOUT, CONCAT, ADD and SCALE
 * (cl/eltwise.cl): one work-item per element over (count per sample, N);
 * CONCAT runs one copy per input into its channel slice of the output.
 */
#include "opencl/cl_ops.h"

/* Kernel for an activation kind, NULL if unknown. */
static const char *act_kernel(cs_act_kind kind)
{
    switch (kind) {
    case CS_ACT_RELU: return "act_relu";
    case CS_ACT_TANH: return "act_tanh";
    case CS_ACT_SCALED_TANH: return "act_scaled_tanh";
    case CS_ACT_SIGMOID: return "act_sigmoid";
    default: return NULL;
    }
}

/* y = x over count floats per sample, with `kernel` (act_* or copy_eltwise). */
static cs_status run_unary(const cs_cl_launch *L, const char *kernel)
{
    cl_int count = (cl_int)cs_shape_count(L->node->out);
    cs_cl_arg a[] = {CS_ARG(L->in[0]), CS_ARG(L->out), CS_ARG(count)};
    const size_t global[2] = {(size_t)count, (size_t)L->batch};
    return cs_cl_run(L->cl, kernel, a, (int)(sizeof a / sizeof a[0]), 2, global, NULL);
}

static cs_status run_concat(const cs_cl_launch *L)
{
    const cs_node *node = L->node;
    const int hw = node->out.h * node->out.w;
    cl_int out_count = (cl_int)cs_shape_count(node->out);
    int channel = 0;
    for (int i = 0; i < node->n_inputs; i++) {
        const cs_shape s = L->in_shape[i];
        if (s.h != node->out.h || s.w != node->out.w || channel + s.c > node->out.c)
            return cs_error(CS_ERR_SHAPE, "node '%s': concat input %d (%d,%d,%d) does not fit output (%d,%d,%d)",
                            node->name, i, s.c, s.h, s.w, node->out.c, node->out.h, node->out.w);
        cl_int in_count = (cl_int)cs_shape_count(s);
        cl_int offset = (cl_int)(channel * hw);
        cs_cl_arg a[] = {CS_ARG(L->in[i]), CS_ARG(L->out), CS_ARG(in_count), CS_ARG(out_count), CS_ARG(offset)};
        const size_t global[2] = {(size_t)in_count, (size_t)L->batch};
        cs_status st = cs_cl_run(L->cl, "concat_copy", a, (int)(sizeof a / sizeof a[0]), 2, global, NULL);
        if (st != CS_OK)
            return st;
        channel += s.c;
    }
    return CS_OK;
}

cs_status cs_cl_eltwise(const cs_cl_launch *L)
{
    const cs_node *node = L->node;
    switch (node->op) {
    case CS_OP_ACT: {
        const char *kernel = act_kernel(node->u.act.kind);
        if (kernel == NULL)
            return cs_error(CS_ERR_UNSUPPORTED, "node '%s': unknown activation kind %d",
                            node->name, (int)node->u.act.kind);
        return run_unary(L, kernel);
    }
    case CS_OP_FLATTEN:
    case CS_OP_DROPOUT:
        if (L->in[0] == L->out)
            return CS_OK;  /* executor aliased the buffers: nothing to move */
        return run_unary(L, "copy_eltwise");
    case CS_OP_CONCAT:
        return run_concat(L);
    case CS_OP_ADD: {
        cl_int count = (cl_int)cs_shape_count(node->out);
        cl_int relu = node->u.add.relu ? 1 : 0;
        cs_cl_arg a[] = {CS_ARG(L->in[0]), CS_ARG(L->in[1]), CS_ARG(L->out), CS_ARG(count), CS_ARG(relu)};
        const size_t global[2] = {(size_t)count, (size_t)L->batch};
        return cs_cl_run(L->cl, "add_eltwise", a, (int)(sizeof a / sizeof a[0]), 2, global, NULL);
    }
    case CS_OP_SCALE: {
        cl_int C = node->out.c;
        cl_int HW = node->out.h * node->out.w;
        cs_cl_arg a[] = {CS_ARG(L->in[0]), CS_ARG(L->in[1]), CS_ARG(L->out), CS_ARG(C), CS_ARG(HW)};
        const size_t global[3] = {(size_t)HW, (size_t)C, (size_t)L->batch};
        return cs_cl_run(L->cl, "scale_channels", a, (int)(sizeof a / sizeof a[0]), 3, global, NULL);
    }
    default:
        return cs_error(CS_ERR_UNSUPPORTED, "node '%s': op %s is not an elementwise op (cs_cl_eltwise)",
                        node->name, cs_op_name(node->op));
    }
}
