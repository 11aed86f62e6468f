/* The OpenCL backend: cs_backend_vt on top of cs_cl_open. It uploads every
 * node's learnable tensors once (conv weights with masked-out kernels zeroed),
 * owns the device buffers the executor asks for, hands each node to the op
 * launcher of its family, and turns profiling events into per-node device ms.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/backend.h"
#include "opencl/cl_conv.h"
#include "opencl/cl_ops.h"
#include "opencl/cl_runtime.h"
#include "opencl/cl_train.h"

struct cs_buf {
    cl_mem mem;
    size_t floats;
};

typedef struct cs_cl_backend {
    cs_backend base;
    cs_cl_context *cl;
    cl_ulong max_alloc;                 /* CL_DEVICE_MAX_MEM_ALLOC_SIZE */
    cl_ulong mem_limit;                 /* CL_DEVICE_GLOBAL_MEM_SIZE, or CONVSCOPE_DEVICE_MEM_LIMIT if lower */
    cl_ulong buf_bytes;                 /* held by cl_alloc buffers */
    cl_ulong param_bytes;               /* held by the uploaded parameters */
    const cs_graph *g;                  /* graph prepared, NULL before prepare */
    int n_nodes;
    cl_mem (*params)[CS_MAX_PARAMS];    /* (n_nodes, CS_MAX_PARAMS), NULL if none */
    double *ms;                         /* (n_nodes) device ms of the last run, -1 */
    cl_mem *in_mems;                    /* (max_inputs) scratch for run_node */
    cs_shape *in_shapes;                /* (max_inputs) */
    int max_inputs;
    int training;                       /* prepared by prepare_train */
    int repack;                         /* training: weights changed since the conv re-layouts */
    int batch;                          /* prepared batch */
    cs_buf (*pbufs)[CS_MAX_PARAMS];     /* (n_nodes) views of params, training only */
    cl_mem *masks;                      /* (n_nodes) conv connection masks (uchar), training only */
} cs_cl_backend;

static cs_cl_backend *cl_be(cs_backend *be) { return (cs_cl_backend *)be; }

/* ------------------------------------------------------------------------ */
/* Parameters                                                               */
/* ------------------------------------------------------------------------ */

static void release_params(cs_cl_backend *b)
{
    if (b->params)
        for (int i = 0; i < b->n_nodes; i++)
            for (int j = 0; j < CS_MAX_PARAMS; j++)
                if (b->params[i][j])
                    clReleaseMemObject(b->params[i][j]);
    if (b->masks)
        for (int i = 0; i < b->n_nodes; i++)
            if (b->masks[i])
                clReleaseMemObject(b->masks[i]);
    free(b->masks);
    free(b->pbufs);
    b->masks = NULL;
    b->pbufs = NULL;
    b->training = 0;
    free(b->params);
    free(b->ms);
    free(b->in_mems);
    free(b->in_shapes);
    b->params = NULL;
    b->ms = NULL;
    b->in_mems = NULL;
    b->in_shapes = NULL;
    b->max_inputs = 0;
    b->param_bytes = 0;
    b->n_nodes = 0;
    b->g = NULL;
}

/* Refuses an allocation that would take the backend's buffers and parameters
 * past the device's memory (or CONVSCOPE_DEVICE_MEM_LIMIT), before the
 * driver is asked: some drivers overcommit and fail later, at a launch. */
static cs_status check_budget(cs_cl_backend *b, size_t bytes, const char *what, const char *what2)
{
    const cl_ulong used = b->buf_bytes + b->param_bytes;
    if ((cl_ulong)bytes <= b->mem_limit && used <= b->mem_limit - (cl_ulong)bytes)
        return CS_OK;
    return cs_error(CS_ERR_NO_MEMORY,
                    "%s%s%s needs %.2f MiB more on %s, which would hold %.2f MiB of its %.2f MiB "
                    "(%s); hint: use a smaller --batch or a smaller model",
                    what, what2 ? "." : "", what2 ? what2 : "", (double)bytes / 1048576.0,
                    b->cl->device_name, (double)(used + bytes) / 1048576.0,
                    (double)b->mem_limit / 1048576.0,
                    getenv("CONVSCOPE_DEVICE_MEM_LIMIT") ? "CONVSCOPE_DEVICE_MEM_LIMIT"
                                                         : "CL_DEVICE_GLOBAL_MEM_SIZE");
}

/* Conv weight with the kernels the connection mask leaves out set to zero. */
static cs_status masked_weight(const cs_node *n, const cs_tensor *t, float **out)
{
    const cs_conv2d_params *p = &n->u.conv.p;
    const uint8_t *mask = n->u.conv.mask; /* (K, C/groups) */
    int k_count = p->out_channels;
    size_t cg = t->ndim == 4 ? (size_t)t->dims[1] : 0;
    size_t rs = t->ndim == 4 ? (size_t)t->dims[2] * (size_t)t->dims[3] : 0;
    *out = NULL;
    if (t->ndim != 4 || t->dims[0] != k_count || (size_t)k_count * cg * rs != t->count)
        return cs_error(CS_ERR_SHAPE, "conv %s: weight is not (K, C/groups, R, S) = %zu floats",
                        n->name, t->count);
    float *w = malloc(t->count * sizeof *w); /* (K, C/groups, R, S) */
    if (!w)
        return cs_error(CS_ERR_NO_MEMORY, "out of host memory masking the weight of %s",
                        n->name);
    memcpy(w, t->data, t->count * sizeof *w);
    for (size_t k = 0; k < (size_t)k_count; k++)
        for (size_t c = 0; c < cg; c++)
            if (!mask[k * cg + c])
                memset(w + (k * cg + c) * rs, 0, rs * sizeof *w);
    *out = w;
    return CS_OK;
}

static cs_status upload_node_params(cs_cl_backend *b, const cs_node *n, int id, int skip_weight)
{
    cs_status st = CS_OK;
    cl_int err = CL_SUCCESS;
    float *tmp = NULL;
    for (int i = 0; i < n->n_params && i < CS_MAX_PARAMS; i++) {
        const cs_tensor *t = &n->params[i];
        const float *src = t->data;
        if (t->count == 0 || (skip_weight && strcmp(t->name, "weight") == 0))
            continue;
        if (!src) {
            st = cs_error(CS_ERR_STATE, "node %d %s: parameter %s has no data", id, n->name,
                          t->name);
            goto cleanup;
        }
        if (n->op == CS_OP_CONV2D && n->u.conv.mask && strcmp(t->name, "weight") == 0) {
            if ((st = masked_weight(n, t, &tmp)) != CS_OK)
                goto cleanup;
            src = tmp;
        }
        size_t bytes = t->count * sizeof(float);
        if ((st = check_budget(b, bytes, n->name, t->name)) != CS_OK)
            goto cleanup;
        b->params[id][i] = cs_clCreateBuffer(b->cl->ctx,
                                             (b->training ? CL_MEM_READ_WRITE : CL_MEM_READ_ONLY) |
                                                 CL_MEM_COPY_HOST_PTR,
                                             bytes, (void *)src, &err);
        if (err != CL_SUCCESS) {
            b->params[id][i] = NULL;
            st = cs_error(CS_ERR_NO_MEMORY,
                          "cannot upload %s.%s (%zu bytes) to %s: clCreateBuffer failed: %s (%d)",
                          n->name, t->name, bytes, b->cl->device_name, cs_cl_error_name(err),
                          (int)err);
            goto cleanup;
        }
        b->param_bytes += bytes;
        free(tmp);
        tmp = NULL;
    }
cleanup:
    free(tmp);
    return st;
}

/* Buffer views of the parameters and the conv connection masks on the device. */
static cs_status prepare_training_state(cs_cl_backend *b, const cs_graph *g)
{
    cs_status st = CS_OK;
    cl_int err = CL_SUCCESS;
    b->pbufs = calloc(g->n_nodes > 0 ? (size_t)g->n_nodes : 1, sizeof *b->pbufs);
    b->masks = calloc(g->n_nodes > 0 ? (size_t)g->n_nodes : 1, sizeof *b->masks);
    if (!b->pbufs || !b->masks)
        return cs_error(CS_ERR_NO_MEMORY, "out of host memory preparing training");
    for (int i = 0; i < g->n_nodes; i++) {
        const cs_node *n = &g->nodes[i];
        for (int j = 0; j < n->n_params && j < CS_MAX_PARAMS; j++)
            b->pbufs[i][j] = (cs_buf){b->params[i][j], n->params[j].count};
        if (n->op == CS_OP_CONV2D && n->u.conv.mask) {
            const cs_conv2d_params *p = &n->u.conv.p;
            size_t bytes = (size_t)p->out_channels * (size_t)(n->n_inputs > 0 ?
                               g->nodes[n->inputs[0]].out.c / p->groups : 0);
            b->masks[i] = cs_clCreateBuffer(b->cl->ctx, CL_MEM_READ_ONLY | CL_MEM_COPY_HOST_PTR,
                                            bytes ? bytes : 1, n->u.conv.mask, &err);
            CS_CL_CHECK_ERR(err, "clCreateBuffer (conv mask)");
        }
    }
cleanup:
    return st;
}

static cs_status prepare(cs_backend *be, const cs_graph *g, int batch, int training)
{
    cs_cl_backend *b = cl_be(be);
    cs_status st = CS_OK;
    if (!g || batch < 1)
        return cs_error(CS_ERR_INVALID_ARG, "opencl prepare: need a graph and batch >= 1");
    release_params(b);
    b->training = training;
    int n = g->n_nodes;
    int max_inputs = 1;
    for (int i = 0; i < n; i++)
        if (g->nodes[i].n_inputs > max_inputs)
            max_inputs = g->nodes[i].n_inputs;
    b->params = calloc(n > 0 ? (size_t)n : 1, sizeof *b->params);
    b->ms = malloc((n > 0 ? (size_t)n : 1) * sizeof *b->ms);
    b->in_mems = calloc((size_t)max_inputs, sizeof *b->in_mems);
    b->in_shapes = calloc((size_t)max_inputs, sizeof *b->in_shapes);
    b->n_nodes = n;
    if (!b->params || !b->ms || !b->in_mems || !b->in_shapes) {
        st = cs_error(CS_ERR_NO_MEMORY, "out of host memory preparing %d nodes", n);
        goto cleanup;
    }
    b->max_inputs = max_inputs;
    for (int i = 0; i < n; i++)
        b->ms[i] = -1.0;
    /* Inference keeps only the packed copy of a conv weight that gets one
     * (resnet50: 94 MB less to copy and hold); training updates the plain one. */
    for (int i = 0; i < n; i++) {
        const size_t packed = training ? 0 : cs_cl_conv_packs_weight(b->cl, g, i, batch);
        if (packed > 0) { /* budgeted here: cs_cl_conv_prepare allocates it */
            if ((st = check_budget(b, packed * sizeof(float), g->nodes[i].name, "weight (packed)")) != CS_OK)
                goto cleanup;
            b->param_bytes += packed * sizeof(float);
        }
        if ((st = upload_node_params(b, &g->nodes[i], i, packed > 0)) != CS_OK)
            goto cleanup;
    }
    /* Conv re-layouts (cl_conv.c): packed weights and one shared input scratch
     * go into the free param slots of each conv node; release_params frees them.
     * Training updates the plain weights and re-packs them before the next
     * forward (cs_cl_conv_repack). */
    b->batch = batch;
    st = cs_cl_conv_prepare(b->cl, g, batch, b->params);
    if (st == CS_OK && training)
        st = prepare_training_state(b, g);
    if (st != CS_OK)
        goto cleanup;
    b->g = g;
cleanup:
    if (st != CS_OK)
        release_params(b);
    return st;
}

static cs_status cl_prepare(cs_backend *be, const cs_graph *g, int batch)
{
    return prepare(be, g, batch, 0);
}

static cs_status cl_prepare_train(cs_backend *be, const cs_graph *g, int batch)
{
    return prepare(be, g, batch, 1);
}

/* ------------------------------------------------------------------------ */
/* Buffers                                                                  */
/* ------------------------------------------------------------------------ */

static cs_status cl_alloc(cs_backend *be, size_t floats, cs_buf **out)
{
    cs_cl_backend *b = cl_be(be);
    cl_int err = CL_SUCCESS;
    if (!out)
        return cs_error(CS_ERR_INVALID_ARG, "opencl alloc: null output");
    *out = NULL;
    /* A zero-float buffer still gets one float: CL has no empty buffers. */
    size_t n = floats ? floats : 1;
    if (n > SIZE_MAX / sizeof(float) || (cl_ulong)(n * sizeof(float)) > b->max_alloc)
        return cs_error(CS_ERR_NO_MEMORY,
                        "device buffer of %zu floats (%.1f MiB) exceeds the largest single "
                        "allocation %s allows (%.1f MiB); hint: use a smaller --batch",
                        floats, (double)floats * 4.0 / 1048576.0, b->cl->device_name,
                        (double)b->max_alloc / 1048576.0);
    cs_status st = check_budget(b, n * sizeof(float), "a device buffer", NULL);
    if (st != CS_OK)
        return st;
    cs_buf *buf = calloc(1, sizeof *buf);
    if (!buf)
        return cs_error(CS_ERR_NO_MEMORY, "out of host memory");
    buf->mem = cs_clCreateBuffer(b->cl->ctx, CL_MEM_READ_WRITE, n * sizeof(float), NULL, &err);
    if (err != CL_SUCCESS) {
        free(buf);
        return cs_error(CS_ERR_NO_MEMORY,
                        "cannot allocate a device buffer of %zu floats (%.1f MiB) on %s: "
                        "clCreateBuffer failed: %s (%d); hint: use a smaller --batch",
                        floats, (double)floats * 4.0 / 1048576.0, b->cl->device_name,
                        cs_cl_error_name(err), (int)err);
    }
    buf->floats = floats;
    b->buf_bytes += n * sizeof(float);
    *out = buf;
    return CS_OK;
}

static void cl_release(cs_backend *be, cs_buf *buf)
{
    cs_cl_backend *b = cl_be(be);
    if (!buf)
        return;
    const cl_ulong bytes = (cl_ulong)(buf->floats ? buf->floats : 1) * sizeof(float);
    b->buf_bytes = b->buf_bytes >= bytes ? b->buf_bytes - bytes : 0;
    if (buf->mem)
        clReleaseMemObject(buf->mem);
    free(buf);
}

static cs_status cl_write(cs_backend *be, cs_buf *dst, const float *src, size_t floats)
{
    cs_cl_backend *b = cl_be(be);
    cs_status st = CS_OK;
    if (!dst || (!src && floats))
        return cs_error(CS_ERR_INVALID_ARG, "opencl write: null buffer");
    if (floats > dst->floats)
        return cs_error(CS_ERR_INVALID_ARG, "opencl write of %zu floats into a buffer of %zu",
                        floats, dst->floats);
    if (floats == 0)
        return CS_OK;
    CS_CL_CHECK(cs_clEnqueueWriteBuffer(b->cl->queue, dst->mem, CL_TRUE, 0, floats * sizeof(float),
                                        src, 0, NULL, NULL));
cleanup:
    return st;
}

static cs_status cl_read(cs_backend *be, cs_buf *src, float *dst, size_t floats)
{
    cs_cl_backend *b = cl_be(be);
    cs_status st = CS_OK;
    if (!src || (!dst && floats))
        return cs_error(CS_ERR_INVALID_ARG, "opencl read: null buffer");
    if (floats > src->floats)
        return cs_error(CS_ERR_INVALID_ARG, "opencl read of %zu floats from a buffer of %zu",
                        floats, src->floats);
    if (floats == 0)
        return CS_OK;
    CS_CL_CHECK(cs_clEnqueueReadBuffer(b->cl->queue, src->mem, CL_TRUE, 0, floats * sizeof(float),
                                       dst, 0, NULL, NULL));
cleanup:
    return st;
}

/* ------------------------------------------------------------------------ */
/* Running nodes                                                            */
/* ------------------------------------------------------------------------ */

static cs_status cl_run_node(cs_backend *be, const cs_graph *g, int id, int batch,
                             cs_buf *const *in, cs_buf *out)
{
    cs_cl_backend *b = cl_be(be);
    cs_status st = CS_OK;
    if (!b->g || g != b->g)
        return cs_error(CS_ERR_STATE, "opencl run_node: graph was not prepared on this backend");
    if (id < 0 || id >= b->n_nodes || batch < 1)
        return cs_error(CS_ERR_INVALID_ARG, "opencl run_node: node %d of %d, batch %d", id,
                        b->n_nodes, batch);
    const cs_node *n = &g->nodes[id];
    if (n->op == CS_OP_INPUT)
        return CS_OK; /* the executor writes the input buffer */
    if (b->training && b->repack) {
        if ((st = cs_cl_conv_repack(b->cl, g, b->batch, b->params)) != CS_OK)
            return cs_error_context(st, "updating the conv weight layouts on %s", b->cl->device_name);
        b->repack = 0;
    }
    if (!out || (n->n_inputs > 0 && !in))
        return cs_error(CS_ERR_INVALID_ARG, "opencl run_node %s: missing buffers", n->name);
    if (n->n_inputs > b->max_inputs)
        return cs_error(CS_ERR_STATE, "opencl run_node %s: graph changed since prepare", n->name);
    for (int i = 0; i < n->n_inputs; i++) {
        if (!in[i])
            return cs_error(CS_ERR_INVALID_ARG, "opencl run_node %s: input %d has no buffer",
                            n->name, i);
        b->in_mems[i] = in[i]->mem;
        b->in_shapes[i] = g->nodes[n->inputs[i]].out;
    }
    b->cl->cur_node = id;
    cs_cl_launch L = {
        .cl = b->cl,
        .g = g,
        .node = n,
        .batch = batch,
        .in = b->in_mems,
        .in_shape = b->in_shapes,
        .out = out->mem,
        .params = b->params[id],
    };
    switch (n->op) {
    case CS_OP_CONV2D:
        st = cs_cl_conv(&L);
        break;
    case CS_OP_MAXPOOL:
    case CS_OP_AVGPOOL:
    case CS_OP_ADAPTIVE_AVGPOOL:
        st = cs_cl_pool(&L);
        break;
    case CS_OP_LRN:
    case CS_OP_BATCHNORM:
    case CS_OP_AFFINE:
        st = cs_cl_norm(&L);
        break;
    case CS_OP_ACT:
    case CS_OP_FLATTEN:
    case CS_OP_DROPOUT:
    case CS_OP_CONCAT:
    case CS_OP_ADD:
    case CS_OP_SCALE:
        st = cs_cl_eltwise(&L);
        break;
    case CS_OP_DENSE:
    case CS_OP_SOFTMAX:
    case CS_OP_RBF:
        st = cs_cl_dense(&L);
        break;
    default:
        st = cs_error(CS_ERR_UNSUPPORTED, "the OpenCL backend has no op %d", (int)n->op);
        break;
    }
    return st; /* the caller (session, trainer) names the node and the device */
}


/* ------------------------------------------------------------------------ */
/* Training                                                                 */
/* ------------------------------------------------------------------------ */

static cs_buf *cl_param(cs_backend *be, int id, int i)
{
    cs_cl_backend *b = cl_be(be);
    if (!b->training || !b->pbufs || id < 0 || id >= b->n_nodes || i < 0 || i >= CS_MAX_PARAMS ||
        !b->pbufs[id][i].mem)
        return NULL;
    return &b->pbufs[id][i];
}

static cl_mem mem_of(cs_buf *buf) { return buf ? buf->mem : NULL; }

static cs_status check_train(cs_cl_backend *b, const cs_graph *g, int id)
{
    if (!b->training || g != b->g)
        return cs_error(CS_ERR_STATE, "opencl: training call before prepare_train");
    if (id < 0 || id >= b->n_nodes)
        return cs_error(CS_ERR_INVALID_ARG, "opencl: node %d of %d", id, b->n_nodes);
    return CS_OK;
}

static cs_status cl_run_node_train(cs_backend *be, const cs_graph *g, int id, int batch,
                                   cs_buf *const *in, cs_buf *out, cs_buf *const *aux,
                                   float bn_momentum, uint64_t *rng)
{
    cs_cl_backend *b = cl_be(be);
    cs_status st = check_train(b, g, id);
    if (st != CS_OK)
        return st;
    const cs_node *n = &g->nodes[id];
    const cs_shape o = n->out;
    b->cl->cur_node = id;
    if (n->op == CS_OP_BATCHNORM) {
        cl_mem *p = b->params[id];
        st = cs_cl_batchnorm_train(b->cl, n->u.bn.eps, bn_momentum, batch, o.c, o.h, o.w,
                                   in[0]->mem, p[0], p[1], out->mem, aux[0]->mem, aux[1]->mem,
                                   p[2], p[3]);
    } else if (n->op == CS_OP_DROPOUT) {
        st = cs_cl_dropout_train(b->cl, n->u.dropout.p, rng, (size_t)batch * cs_shape_count(o),
                                 in[0]->mem, out->mem, aux[0]->mem);
    } else {
        return cl_run_node(be, g, id, batch, in, out);
    }
    /* the trainer names the node and the device */
    return st;
}

static cs_status cl_backward_node(cs_backend *be, const cs_graph *g, int id, int batch,
                                  cs_buf *const *in, cs_buf *y, cs_buf *dy, cs_buf *const *aux,
                                  cs_buf *const *dx, cs_buf *const *dparam)
{
    cs_cl_backend *b = cl_be(be);
    cs_status st = check_train(b, g, id);
    if (st != CS_OK)
        return st;
    const cs_node *n = &g->nodes[id];
    const cs_shape o = n->out;
    const cs_shape s0 = n->n_inputs > 0 ? g->nodes[n->inputs[0]].out : o;
    const size_t n_out = (size_t)batch * cs_shape_count(o);
    cl_mem dx0 = n->n_inputs > 0 ? mem_of(dx[0]) : NULL;
    cl_mem dp0 = mem_of(dparam[0]);
    cl_mem dp1 = n->n_params > 1 ? mem_of(dparam[1]) : NULL;
    cl_mem *p = b->params[id];
    cs_cl_context *c = b->cl;
    c->cur_node = id;
    switch (n->op) {
    case CS_OP_INPUT:
        return CS_OK;
    case CS_OP_CONV2D:
        if (n->u.conv.relu)
            return cs_error(CS_ERR_UNSUPPORTED, "conv '%s' has a fused ReLU: train the unfused "
                            "graph", n->name);
        st = cs_cl_conv2d_backward(c, &n->u.conv.p, batch, s0.c, s0.h, s0.w, in[0]->mem, p[0],
                                   b->masks[id], o.h, o.w, dy->mem, dx0, dp0,
                                   n->u.conv.p.bias ? dp1 : NULL);
        break;
    case CS_OP_MAXPOOL:
        if (dx0)
            st = cs_cl_maxpool_backward(c, &n->u.pool, batch, s0.c, s0.h, s0.w, in[0]->mem, o.h,
                                        o.w, dy->mem, dx0);
        break;
    case CS_OP_AVGPOOL:
        if (dx0)
            st = cs_cl_avgpool_backward(c, &n->u.pool, batch, s0.c, s0.h, s0.w, o.h, o.w, dy->mem,
                                        dx0);
        break;
    case CS_OP_ADAPTIVE_AVGPOOL:
        if (dx0)
            st = cs_cl_adaptive_avgpool_backward(c, batch, s0.c, s0.h, s0.w, o.h, o.w, dy->mem,
                                                 dx0);
        break;
    case CS_OP_BATCHNORM:
        st = cs_cl_batchnorm_train_backward(c, batch, s0.c, s0.h, s0.w, in[0]->mem, p[0],
                                            aux[0]->mem, aux[1]->mem, dy->mem, dx0, dp0, dp1);
        break;
    case CS_OP_AFFINE:
        st = cs_cl_affine_backward(c, batch, s0.c, s0.h, s0.w, in[0]->mem, p[0], dy->mem, dx0,
                                   dp0, dp1);
        break;
    case CS_OP_ACT:
        if (dx0)
            st = cs_cl_act_backward(c, n->u.act.kind, n_out, y->mem, dy->mem, dx0);
        break;
    case CS_OP_FLATTEN:
        if (dx0)
            CS_CL_CHECK(cs_clEnqueueCopyBuffer(c->queue, dy->mem, dx0, 0, 0, n_out * sizeof(float),
                                               0, NULL, NULL));
        break;
    case CS_OP_DROPOUT:
        if (dx0)
            st = cs_cl_dropout_backward(c, n->u.dropout.p, n_out, aux[0]->mem, dy->mem, dx0);
        break;
    case CS_OP_CONCAT: {
        int offset = 0;
        for (int i = 0; i < n->n_inputs && st == CS_OK; i++) {
            int ci = g->nodes[n->inputs[i]].out.c;
            if (dx[i])
                st = cs_cl_channel_slice(c, batch, o.c, offset, ci, o.h * o.w, dy->mem, dx[i]->mem);
            offset += ci;
        }
        break;
    }
    case CS_OP_ADD: {
        cl_mem da = dx0, db = mem_of(dx[1]);
        if (n->u.add.relu) {
            /* Both inputs get the same masked gradient: compute it once. */
            cl_mem first = da ? da : db;
            if (first)
                st = cs_cl_act_backward(c, CS_ACT_RELU, n_out, y->mem, dy->mem, first);
            if (st == CS_OK && da && db)
                CS_CL_CHECK(cs_clEnqueueCopyBuffer(c->queue, first, db, 0, 0, n_out * sizeof(float),
                                                   0, NULL, NULL));
        } else {
            if (da)
                CS_CL_CHECK(cs_clEnqueueCopyBuffer(c->queue, dy->mem, da, 0, 0,
                                                   n_out * sizeof(float), 0, NULL, NULL));
            if (db)
                CS_CL_CHECK(cs_clEnqueueCopyBuffer(c->queue, dy->mem, db, 0, 0,
                                                   n_out * sizeof(float), 0, NULL, NULL));
        }
        break;
    }
    case CS_OP_SCALE:
        st = cs_cl_scale_backward(c, batch, s0.c, s0.h, s0.w, in[0]->mem, in[1]->mem, dy->mem, dx0,
                                  mem_of(dx[1]));
        break;
    case CS_OP_DENSE:
        st = cs_cl_dense_backward(c, batch, (int)cs_shape_count(s0), o.c, in[0]->mem, p[0],
                                  dy->mem, dx0, dp0, n->u.dense.bias ? dp1 : NULL);
        break;
    case CS_OP_RBF:
        st = cs_cl_rbf_backward(c, batch, (int)cs_shape_count(s0), o.c, in[0]->mem, p[0], dy->mem,
                                dx0, NULL);
        break;
    default:
        st = cs_error(CS_ERR_UNSUPPORTED, "the OpenCL backend has no backward for %s",
                      cs_op_name(n->op));
        break;
    }
cleanup:
    /* the trainer names the node and the device */
    return st;
}

static cs_status cl_accumulate(cs_backend *be, size_t count, cs_buf *src, cs_buf *dst)
{
    if (!src || !dst || src->floats < count || dst->floats < count)
        return cs_error(CS_ERR_INVALID_ARG, "opencl accumulate of %zu floats with a short buffer",
                        count);
    return cs_cl_grad_accumulate(cl_be(be)->cl, count, src->mem, dst->mem);
}

static cs_status cl_optim_step(cs_backend *be, const cs_train_options *o, int t, size_t count,
                               cs_buf *param, cs_buf *grad, cs_buf *m, cs_buf *v)
{
    cs_cl_context *c = cl_be(be)->cl;
    if (!param || !grad || param->floats < count || grad->floats < count)
        return cs_error(CS_ERR_INVALID_ARG, "opencl optimizer step with a short buffer");
    cl_be(be)->repack = 1;
    if (o->optimizer == CS_OPT_ADAM) {
        if (!m || !v)
            return cs_error(CS_ERR_INVALID_ARG, "opencl: Adam needs its moment buffers");
        return cs_cl_adam_step(c, &o->adam, t, count, param->mem, grad->mem, m->mem, v->mem);
    }
    return cs_cl_sgd_step(c, &o->sgd, count, param->mem, grad->mem, mem_of(m));
}

static cs_status cl_finish(cs_backend *be)
{
    cs_cl_backend *b = cl_be(be);
    cs_cl_context *c = b->cl;
    cs_status st = CS_OK;
    CS_CL_CHECK(clFinish(c->queue));
    if (c->profile && b->ms) {
        /* A node run since the last finish gets the sum of its events. */
        for (int i = 0; i < c->n_events; i++) {
            int node = c->events[i].node;
            if (node >= 0 && node < b->n_nodes)
                b->ms[node] = 0.0;
        }
        for (int i = 0; i < c->n_events; i++) {
            cl_ulong t0 = 0, t1 = 0;
            int node = c->events[i].node;
            CS_CL_CHECK(clGetEventProfilingInfo(c->events[i].event, CL_PROFILING_COMMAND_START,
                                                sizeof t0, &t0, NULL));
            CS_CL_CHECK(clGetEventProfilingInfo(c->events[i].event, CL_PROFILING_COMMAND_END,
                                                sizeof t1, &t1, NULL));
            if (node >= 0 && node < b->n_nodes && t1 >= t0)
                b->ms[node] += (double)(t1 - t0) * 1e-6;
        }
    }
cleanup:
    cs_cl_events_reset(c);
    return st;
}

static double cl_node_ms(cs_backend *be, int id)
{
    cs_cl_backend *b = cl_be(be);
    if (!b->ms || id < 0 || id >= b->n_nodes)
        return -1.0;
    return b->ms[id];
}

static const char *cl_device_name(cs_backend *be)
{
    return cl_be(be)->cl->device_name;
}

static void cl_destroy(cs_backend *be)
{
    cs_cl_backend *b = cl_be(be);
    if (!b)
        return;
    release_params(b);
    cs_cl_close(b->cl);
    free(b);
}

static const cs_backend_vt cs_cl_vt = {
    .name = "opencl",
    .prepare = cl_prepare,
    .alloc = cl_alloc,
    .release = cl_release,
    .write = cl_write,
    .read = cl_read,
    .run_node = cl_run_node,
    .finish = cl_finish,
    .node_ms = cl_node_ms,
    .device_name = cl_device_name,
    .destroy = cl_destroy,
    .prepare_train = cl_prepare_train,
    .param = cl_param,
    .run_node_train = cl_run_node_train,
    .backward_node = cl_backward_node,
    .accumulate = cl_accumulate,
    .optim_step = cl_optim_step,
};

/* CONVSCOPE_DEVICE_MEM_LIMIT: bytes with an optional K, M or G suffix (powers
 * of 1024); lowers *limit, never raises it. */
static cs_status mem_limit_env(cl_ulong *limit)
{
    const char *v = getenv("CONVSCOPE_DEVICE_MEM_LIMIT");
    if (!v || !*v)
        return CS_OK;
    char *end = NULL;
    errno = 0;
    unsigned long long n = strtoull(v, &end, 10);
    unsigned long long scale = 1;
    if (end && (*end == 'K' || *end == 'k'))
        scale = 1ull << 10;
    else if (end && (*end == 'M' || *end == 'm'))
        scale = 1ull << 20;
    else if (end && (*end == 'G' || *end == 'g'))
        scale = 1ull << 30;
    if (scale > 1)
        end++;
    if (v[0] == '-' || end == v || *end || errno || n == 0 || n > ~0ull / scale)
        return cs_error(CS_ERR_INVALID_ARG, "CONVSCOPE_DEVICE_MEM_LIMIT='%s' is not a size like 512M "
                        "or 2G", v);
    if ((cl_ulong)(n * scale) < *limit)
        *limit = (cl_ulong)(n * scale);
    return CS_OK;
}

cs_status cs_cl_backend_create(cs_backend **out, int device_index, int profile)
{
    cs_status st = CS_OK;
    cs_cl_backend *b = NULL;
    if (!out)
        return cs_error(CS_ERR_INVALID_ARG, "cs_cl_backend_create: null output");
    *out = NULL;
    b = calloc(1, sizeof *b);
    if (!b)
        return cs_error(CS_ERR_NO_MEMORY, "out of host memory creating the OpenCL backend");
    b->base.vt = &cs_cl_vt;
    if ((st = cs_cl_open(&b->cl, device_index, profile)) != CS_OK)
        goto cleanup;
    CS_CL_CHECK(clGetDeviceInfo(b->cl->device, CL_DEVICE_MAX_MEM_ALLOC_SIZE, sizeof b->max_alloc,
                                &b->max_alloc, NULL));
    CS_CL_CHECK(clGetDeviceInfo(b->cl->device, CL_DEVICE_GLOBAL_MEM_SIZE, sizeof b->mem_limit,
                                &b->mem_limit, NULL));
    if ((st = mem_limit_env(&b->mem_limit)) != CS_OK)
        goto cleanup;
    *out = &b->base;
    b = NULL;
cleanup:
    if (b) {
        cs_cl_close(b->cl);
        free(b);
    }
    return st;
}
