/* Training entry points of the CPU reference backend: parameters are the
 * graph's own tensors (the optimizer updates them in place), the training
 * forwards and every node's backward call the cpu_backward.h functions.
 */
#include <stdlib.h>
#include <string.h>

#include "core/status.h"
#include "cpu/cpu_backward.h"
#include "cpu/cpu_ops.h"
#include "cpu/cpu_train.h"

static cs_cpu_backend *cpu_of(cs_backend *be) { return (cs_cpu_backend *)be; }

cs_status cs_cpu_prepare_train(cs_backend *be, const cs_graph *g, int batch)
{
    cs_cpu_backend *cpu = cpu_of(be);
    cs_status st = be->vt->prepare(be, g, batch);
    if (st != CS_OK)
        return st;
    free(cpu->params);
    cpu->params = calloc(g->n_nodes > 0 ? (size_t)g->n_nodes : 1, sizeof *cpu->params);
    cpu->n_param_nodes = 0;
    if (!cpu->params)
        return cs_error(CS_ERR_NO_MEMORY, "cpu: out of memory preparing %d nodes for training",
                        g->n_nodes);
    for (int i = 0; i < g->n_nodes; i++)
        for (int j = 0; j < g->nodes[i].n_params && j < CS_MAX_PARAMS; j++)
            cpu->params[i][j] = (cs_buf){g->nodes[i].params[j].data, g->nodes[i].params[j].count, 1};
    cpu->n_param_nodes = g->n_nodes;
    return CS_OK;
}

cs_buf *cs_cpu_param(cs_backend *be, int id, int i)
{
    cs_cpu_backend *cpu = cpu_of(be);
    if (!cpu->params || id < 0 || id >= cpu->n_param_nodes || i < 0 || i >= CS_MAX_PARAMS ||
        !cpu->params[id][i].data)
        return NULL;
    return &cpu->params[id][i];
}

static float *pdata(cs_cpu_backend *cpu, int id, int i)
{
    return cpu->params[id][i].data;
}

static float *bufdata(cs_buf *b) { return b ? b->data : NULL; }

cs_status cs_cpu_run_node_train(cs_backend *be, const cs_graph *g, int id, int batch,
                                cs_buf *const *in, cs_buf *out, cs_buf *const *aux,
                                float bn_momentum, uint64_t *rng)
{
    cs_cpu_backend *cpu = cpu_of(be);
    const cs_node *nd = &g->nodes[id];
    if (!cpu->params || id >= cpu->n_param_nodes)
        return cs_error(CS_ERR_STATE, "cpu: run_node_train before prepare_train");
    if (nd->op == CS_OP_BATCHNORM) {
        const cs_shape s = nd->out;
        if ((size_t)batch * (size_t)s.h * (size_t)s.w < 2)
            return cs_error(CS_ERR_INVALID_ARG,
                            "batchnorm '%s' in training needs more than one value per channel "
                            "(batch %d of %dx%d): use a larger batch", nd->name, batch, s.h, s.w);
        float *var = malloc((size_t)s.c * sizeof *var);
        if (!var)
            return cs_error(CS_ERR_NO_MEMORY, "cpu: out of memory for batch statistics");
        cs_cpu_batchnorm_train(nd->u.bn.eps, batch, s.c, s.h, s.w, in[0]->data, pdata(cpu, id, 0),
                               pdata(cpu, id, 1), out->data, aux[0]->data, var, aux[1]->data);
        cs_cpu_batchnorm_update_running(s.c, bn_momentum, aux[0]->data, var, pdata(cpu, id, 2),
                                        pdata(cpu, id, 3));
        free(var);
        return CS_OK;
    }
    if (nd->op == CS_OP_DROPOUT) {
        size_t count = (size_t)batch * cs_shape_count(nd->out);
        cs_cpu_dropout_train(nd->u.dropout.p, rng, count, in[0]->data, out->data,
                             (uint8_t *)aux[0]->data);
        return CS_OK;
    }
    return cs_cpu_run_node(be, g, id, batch, in, out);
}

cs_status cs_cpu_backward_node(cs_backend *be, const cs_graph *g, int id, int batch,
                               cs_buf *const *in, cs_buf *y, cs_buf *dy, cs_buf *const *aux,
                               cs_buf *const *dx, cs_buf *const *dparam)
{
    cs_cpu_backend *cpu = cpu_of(be);
    const cs_node *nd = &g->nodes[id];
    const cs_shape o = nd->out;
    const cs_shape s0 = nd->n_inputs > 0 ? g->nodes[nd->inputs[0]].out : o;
    const size_t n_out = (size_t)batch * cs_shape_count(o);
    float *dx0 = nd->n_inputs > 0 ? bufdata(dx[0]) : NULL;
    float *dp0 = bufdata(dparam[0]);
    float *dp1 = nd->n_params > 1 ? bufdata(dparam[1]) : NULL;

    if (!cpu->params || id >= cpu->n_param_nodes)
        return cs_error(CS_ERR_STATE, "cpu: backward_node before prepare_train");
    switch (nd->op) {
    case CS_OP_INPUT:
        return CS_OK;
    case CS_OP_CONV2D:
        if (nd->u.conv.relu)
            return cs_error(CS_ERR_UNSUPPORTED, "cpu: conv '%s' has a fused ReLU: train the "
                            "unfused graph", nd->name);
        cs_cpu_conv2d_backward(&nd->u.conv.p, batch, s0.c, s0.h, s0.w, in[0]->data,
                               pdata(cpu, id, 0), nd->u.conv.mask, o.h, o.w, dy->data, dx0, dp0,
                               nd->u.conv.p.bias ? dp1 : NULL);
        return CS_OK;
    case CS_OP_MAXPOOL:
        if (dx0)
            cs_cpu_maxpool_backward(&nd->u.pool, batch, s0.c, s0.h, s0.w, in[0]->data, o.h, o.w,
                                    dy->data, dx0);
        return CS_OK;
    case CS_OP_AVGPOOL:
        if (dx0)
            cs_cpu_avgpool_backward(&nd->u.pool, batch, s0.c, s0.h, s0.w, o.h, o.w, dy->data, dx0);
        return CS_OK;
    case CS_OP_ADAPTIVE_AVGPOOL:
        if (dx0)
            cs_cpu_adaptive_avgpool_backward(batch, s0.c, s0.h, s0.w, o.h, o.w, dy->data, dx0);
        return CS_OK;
    case CS_OP_LRN:
        if (dx0)
            cs_cpu_lrn_backward(&nd->u.lrn, batch, s0.c, s0.h, s0.w, in[0]->data, dy->data, dx0);
        return CS_OK;
    case CS_OP_BATCHNORM:
        cs_cpu_batchnorm_train_backward(batch, s0.c, s0.h, s0.w, in[0]->data, pdata(cpu, id, 0),
                                        aux[0]->data, aux[1]->data, dy->data, dx0, dp0, dp1);
        return CS_OK;
    case CS_OP_AFFINE:
        cs_cpu_affine_backward(batch, s0.c, s0.h, s0.w, in[0]->data, pdata(cpu, id, 0), dy->data,
                               dx0, dp0, dp1);
        return CS_OK;
    case CS_OP_ACT:
        if (dx0)
            cs_cpu_act_backward(nd->u.act.kind, n_out, y->data, dy->data, dx0);
        return CS_OK;
    case CS_OP_FLATTEN:
        if (dx0)
            memcpy(dx0, dy->data, n_out * sizeof(float));
        return CS_OK;
    case CS_OP_DROPOUT:
        if (dx0)
            cs_cpu_dropout_backward(nd->u.dropout.p, n_out, (const uint8_t *)aux[0]->data,
                                    dy->data, dx0);
        return CS_OK;
    case CS_OP_CONCAT: {
        int *channels = malloc((size_t)nd->n_inputs * sizeof *channels);
        float **dxs = malloc((size_t)nd->n_inputs * sizeof *dxs);
        if (!channels || !dxs) {
            free(channels);
            free(dxs);
            return cs_error(CS_ERR_NO_MEMORY, "cpu: out of memory in concat backward");
        }
        for (int i = 0; i < nd->n_inputs; i++) {
            channels[i] = g->nodes[nd->inputs[i]].out.c;
            dxs[i] = bufdata(dx[i]);
        }
        cs_cpu_concat_backward(batch, nd->n_inputs, channels, o.h, o.w, dy->data, dxs);
        free(channels);
        free(dxs);
        return CS_OK;
    }
    case CS_OP_ADD:
        cs_cpu_add_backward(nd->u.add.relu, n_out, y->data, dy->data, dx0, bufdata(dx[1]));
        return CS_OK;
    case CS_OP_SCALE:
        cs_cpu_scale_backward(batch, s0.c, s0.h, s0.w, in[0]->data, in[1]->data, dy->data, dx0,
                              bufdata(dx[1]));
        return CS_OK;
    case CS_OP_DENSE:
        cs_cpu_dense_backward(batch, (int)cs_shape_count(s0), o.c, in[0]->data, pdata(cpu, id, 0),
                              dy->data, dx0, dp0, nd->u.dense.bias ? dp1 : NULL);
        return CS_OK;
    case CS_OP_SOFTMAX:
        if (dx0)
            cs_cpu_softmax_backward(batch, s0.c, s0.h, s0.w, y->data, dy->data, dx0);
        return CS_OK;
    case CS_OP_RBF:
        /* The prototypes are a fixed buffer: only dx. */
        cs_cpu_rbf_backward(batch, (int)cs_shape_count(s0), o.c, in[0]->data, pdata(cpu, id, 0),
                            dy->data, dx0, NULL);
        return CS_OK;
    case CS_OP_COUNT:
        break;
    }
    return cs_error(CS_ERR_UNSUPPORTED, "cpu: node '%s': no backward for op %d", nd->name,
                    (int)nd->op);
}

cs_status cs_cpu_accumulate(cs_backend *be, size_t count, cs_buf *src, cs_buf *dst)
{
    (void)be;
    if (!src || !dst || src->floats < count || dst->floats < count)
        return cs_error(CS_ERR_INVALID_ARG, "cpu: accumulate of %zu floats with a short buffer",
                        count);
    cs_cpu_grad_accumulate(count, src->data, dst->data);
    return CS_OK;
}

cs_status cs_cpu_optim_step(cs_backend *be, const cs_train_options *o, int t, size_t count,
                            cs_buf *param, cs_buf *grad, cs_buf *m, cs_buf *v)
{
    (void)be;
    if (!param || !grad || param->floats < count || grad->floats < count)
        return cs_error(CS_ERR_INVALID_ARG, "cpu: optimizer step with a short buffer");
    if (o->optimizer == CS_OPT_ADAM) {
        if (!m || !v)
            return cs_error(CS_ERR_INVALID_ARG, "cpu: Adam needs its moment buffers");
        cs_cpu_adam_step(&o->adam, t, count, param->data, grad->data, m->data, v->data);
    } else {
        cs_cpu_sgd_step(&o->sgd, count, param->data, grad->data, m ? m->data : NULL);
    }
    return CS_OK;
}
