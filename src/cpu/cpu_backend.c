/* The CPU reference backend: cs_backend_vt over host float arrays. run_node
 * checks the node against its buffers and parameters, then calls the matching
 * cpu_ops.h function; every node is timed with the monotonic clock.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/backend.h"
#include "core/status.h"
#include "cpu/cpu_ops.h"

#include "cpu/cpu_train.h"

static cs_cpu_backend *cpu_of(cs_backend *be) { return (cs_cpu_backend *)be; }

/* ------------------------------------------------------------------------ */
/* Buffers                                                                  */
/* ------------------------------------------------------------------------ */

static cs_status cpu_alloc(cs_backend *be, size_t floats, cs_buf **out)
{
    (void)be;
    *out = NULL;
    if (floats > SIZE_MAX / sizeof(float)) {
        return cs_error(CS_ERR_NO_MEMORY, "cpu: buffer of %zu floats overflows size_t", floats);
    }
    cs_buf *buf = malloc(sizeof(*buf));
    if (buf == NULL) {
        return cs_error(CS_ERR_NO_MEMORY, "cpu: out of memory for a buffer header");
    }
    buf->floats = floats;
    buf->data = calloc(floats > 0 ? floats : 1, sizeof(float));
    if (buf->data == NULL) {
        free(buf);
        return cs_error(CS_ERR_NO_MEMORY, "cpu: out of memory allocating %zu floats (%zu bytes)",
                        floats, floats * sizeof(float));
    }
    *out = buf;
    return CS_OK;
}

static void cpu_release(cs_backend *be, cs_buf *buf)
{
    (void)be;
    if (buf != NULL) {
        free(buf->data);
        free(buf);
    }
}

static cs_status cpu_write(cs_backend *be, cs_buf *dst, const float *src, size_t floats)
{
    (void)be;
    if (dst == NULL || (src == NULL && floats > 0)) {
        return cs_error(CS_ERR_INVALID_ARG, "cpu: write with a NULL buffer or source");
    }
    if (floats > dst->floats) {
        return cs_error(CS_ERR_INVALID_ARG, "cpu: write of %zu floats into a buffer of %zu",
                        floats, dst->floats);
    }
    if (floats > 0) {
        memcpy(dst->data, src, floats * sizeof(float));
    }
    return CS_OK;
}

static cs_status cpu_read(cs_backend *be, cs_buf *src, float *dst, size_t floats)
{
    (void)be;
    if (src == NULL || (dst == NULL && floats > 0)) {
        return cs_error(CS_ERR_INVALID_ARG, "cpu: read with a NULL buffer or destination");
    }
    if (floats > src->floats) {
        return cs_error(CS_ERR_INVALID_ARG, "cpu: read of %zu floats from a buffer of %zu",
                        floats, src->floats);
    }
    if (floats > 0) {
        if (dst != src->data) /* a training parameter read back into itself */
            memcpy(dst, src->data, floats * sizeof(float));
    }
    return CS_OK;
}

/* ------------------------------------------------------------------------ */
/* Checks shared by the ops                                                 */
/* ------------------------------------------------------------------------ */

/* Learnable tensor `name` of exactly `count` floats. */
static cs_status get_param(const cs_node *nd, const char *name, size_t count, const float **out)
{
    const cs_tensor *t = cs_node_tensor(nd, name);
    *out = NULL;
    if (t == NULL || t->data == NULL) {
        return cs_error(CS_ERR_INVALID_ARG, "cpu: node '%s' (%s) has no \"%s\" tensor",
                        nd->name, cs_op_name(nd->op), name);
    }
    if (t->count != count) {
        return cs_error(CS_ERR_SHAPE, "cpu: node '%s' (%s): \"%s\" has %zu floats, expected %zu",
                        nd->name, cs_op_name(nd->op), name, t->count, count);
    }
    *out = t->data;
    return CS_OK;
}

static int same_shape(cs_shape a, cs_shape b) { return a.c == b.c && a.h == b.h && a.w == b.w; }

static cs_status shape_error(const cs_node *nd, cs_shape in, const char *rule)
{
    return cs_error(CS_ERR_SHAPE, "cpu: node '%s' (%s): input %dx%dx%d, output %dx%dx%d: %s",
                    nd->name, cs_op_name(nd->op), in.c, in.h, in.w, nd->out.c, nd->out.h,
                    nd->out.w, rule);
}

/* ------------------------------------------------------------------------ */
/* Op dispatch                                                              */
/* ------------------------------------------------------------------------ */

static cs_status run_conv(const cs_node *nd, int batch, cs_shape in, const float *x, float *y)
{
    const cs_conv2d_params *p = &nd->u.conv.p;
    const uint8_t *mask = nd->u.conv.mask != NULL ? nd->u.conv.mask : p->mask;
    const float *wt = NULL;
    const float *bias = NULL;

    if (p->groups < 1 || in.c % p->groups != 0 || p->out_channels % p->groups != 0 ||
        p->out_channels != nd->out.c || p->kernel_h < 1 || p->kernel_w < 1 ||
        p->stride_h < 1 || p->stride_w < 1 || p->dilation_h < 1 || p->dilation_w < 1) {
        return cs_error(CS_ERR_INVALID_ARG,
                        "cpu: node '%s' (conv2d): C=%d K=%d groups=%d kernel %dx%d stride %dx%d "
                        "dilation %dx%d do not fit (out C %d)",
                        nd->name, in.c, p->out_channels, p->groups, p->kernel_h, p->kernel_w,
                        p->stride_h, p->stride_w,
                        p->dilation_h, p->dilation_w, nd->out.c);
    }
    const size_t w_count = (size_t)p->out_channels * (size_t)(in.c / p->groups) *
                           (size_t)p->kernel_h * (size_t)p->kernel_w;
    cs_status st = get_param(nd, "weight", w_count, &wt);
    if (st == CS_OK && p->bias) {
        st = get_param(nd, "bias", (size_t)p->out_channels, &bias);
    }
    if (st != CS_OK) {
        return st;
    }
    cs_cpu_conv2d(p, batch, in.c, in.h, in.w, x, wt, bias, mask, nd->out.h, nd->out.w, y);
    return CS_OK;
}

static cs_status run_pool(const cs_node *nd, int batch, cs_shape in, const float *x, float *y)
{
    const cs_pool_params *p = &nd->u.pool;
    if (in.c != nd->out.c) {
        return shape_error(nd, in, "pooling keeps the channel count");
    }
    if (p->kernel_h < 1 || p->kernel_w < 1 || p->stride_h < 1 || p->stride_w < 1) {
        return cs_error(CS_ERR_INVALID_ARG, "cpu: node '%s' (%s): kernel %dx%d stride %dx%d",
                        nd->name, cs_op_name(nd->op), p->kernel_h, p->kernel_w, p->stride_h,
                        p->stride_w);
    }
    if (nd->op == CS_OP_MAXPOOL) {
        cs_cpu_maxpool(p, batch, in.c, in.h, in.w, x, nd->out.h, nd->out.w, y);
    } else {
        cs_cpu_avgpool(p, batch, in.c, in.h, in.w, x, nd->out.h, nd->out.w, y);
    }
    return CS_OK;
}

static cs_status run_batchnorm(const cs_node *nd, int batch, cs_shape in, const float *x, float *y)
{
    const float *weight = NULL;
    const float *bias = NULL;
    const float *mean = NULL;
    const float *var = NULL;
    const size_t c = (size_t)in.c;

    cs_status st = get_param(nd, "weight", c, &weight);
    if (st == CS_OK) {
        st = get_param(nd, "bias", c, &bias);
    }
    if (st == CS_OK) {
        st = get_param(nd, "running_mean", c, &mean);
    }
    if (st == CS_OK) {
        st = get_param(nd, "running_var", c, &var);
    }
    if (st != CS_OK) {
        return st;
    }
    cs_cpu_batchnorm(nd->u.bn.eps, batch, in.c, in.h, in.w, x, weight, bias, mean, var, y);
    return CS_OK;
}

static cs_status run_affine(const cs_node *nd, int batch, cs_shape in, const float *x, float *y)
{
    const float *weight = NULL;
    const float *bias = NULL;

    cs_status st = get_param(nd, "weight", (size_t)in.c, &weight);
    if (st == CS_OK) {
        st = get_param(nd, "bias", (size_t)in.c, &bias);
    }
    if (st != CS_OK) {
        return st;
    }
    cs_cpu_affine(batch, in.c, in.h, in.w, x, weight, bias, y);
    return CS_OK;
}

static cs_status run_dense(const cs_node *nd, int batch, cs_shape in, const float *x, float *y)
{
    const size_t n_in = cs_shape_count(in);
    const float *wt = NULL;
    const float *bias = NULL;

    if (n_in > INT32_MAX || nd->out.h != 1 || nd->out.w != 1) {
        return shape_error(nd, in, "dense needs an output of (O,1,1) and fewer than 2^31 inputs");
    }
    cs_status st = get_param(nd, "weight", (size_t)nd->out.c * n_in, &wt);
    if (st == CS_OK && nd->u.dense.bias) {
        st = get_param(nd, "bias", (size_t)nd->out.c, &bias);
    }
    if (st != CS_OK) {
        return st;
    }
    cs_cpu_dense(batch, (int)n_in, nd->out.c, x, wt, bias, y);
    return CS_OK;
}

static cs_status run_rbf(const cs_node *nd, int batch, cs_shape in, const float *x, float *y)
{
    const size_t n_in = cs_shape_count(in);
    const float *wt = NULL;

    if (n_in > INT32_MAX || nd->out.h != 1 || nd->out.w != 1) {
        return shape_error(nd, in, "rbf needs an output of (classes,1,1) and fewer than 2^31 inputs");
    }
    cs_status st = get_param(nd, "weight", (size_t)nd->out.c * n_in, &wt);
    if (st != CS_OK) {
        return st;
    }
    cs_cpu_rbf(batch, (int)n_in, nd->out.c, x, wt, y);
    return CS_OK;
}

static cs_status run_concat(const cs_graph *g, const cs_node *nd, int batch,
                            cs_buf *const *in, float *y)
{
    const float **xs = calloc((size_t)nd->n_inputs, sizeof(*xs));
    int *channels = calloc((size_t)nd->n_inputs, sizeof(*channels));
    cs_status st = CS_OK;
    int c_total = 0;

    if (xs == NULL || channels == NULL) {
        st = cs_error(CS_ERR_NO_MEMORY, "cpu: node '%s' (concat): out of memory", nd->name);
        goto cleanup;
    }
    for (int i = 0; i < nd->n_inputs; i++) {
        const cs_shape s = g->nodes[nd->inputs[i]].out;
        if (s.h != nd->out.h || s.w != nd->out.w) {
            st = shape_error(nd, s, "concat inputs must share H and W with the output");
            goto cleanup;
        }
        xs[i] = in[i]->data;
        channels[i] = s.c;
        c_total += s.c;
    }
    if (c_total != nd->out.c) {
        st = cs_error(CS_ERR_SHAPE, "cpu: node '%s' (concat): inputs have %d channels, output %d",
                      nd->name, c_total, nd->out.c);
        goto cleanup;
    }
    cs_cpu_concat(batch, nd->n_inputs, channels, nd->out.h, nd->out.w, xs, y);

cleanup:
    free(xs);
    free(channels);
    return st;
}

/* Inputs and buffers have been checked against the node's shapes. */
static cs_status run_op(const cs_graph *g, const cs_node *nd, int batch, cs_buf *const *in,
                        cs_buf *out)
{
    const cs_shape s0 = nd->n_inputs > 0 ? g->nodes[nd->inputs[0]].out : nd->out;
    const float *x = nd->n_inputs > 0 ? in[0]->data : NULL;
    const size_t n_out = (size_t)batch * cs_shape_count(nd->out);
    float *y = out->data;

    switch (nd->op) {
    case CS_OP_INPUT:
        return CS_OK;  /* the executor writes the input buffer */
    case CS_OP_CONV2D: {
        cs_status st = run_conv(nd, batch, s0, x, y);
        if (st == CS_OK && nd->u.conv.relu) /* fused epilogue (core/fuse.c) */
            cs_cpu_act(CS_ACT_RELU, (size_t)batch * cs_shape_count(nd->out), y, y);
        return st;
    }
    case CS_OP_MAXPOOL:
    case CS_OP_AVGPOOL:
        return run_pool(nd, batch, s0, x, y);
    case CS_OP_ADAPTIVE_AVGPOOL:
        if (s0.c != nd->out.c) {
            return shape_error(nd, s0, "pooling keeps the channel count");
        }
        cs_cpu_adaptive_avgpool(batch, s0.c, s0.h, s0.w, x, nd->out.h, nd->out.w, y);
        return CS_OK;
    case CS_OP_LRN:
        if (!same_shape(s0, nd->out) || nd->u.lrn.size < 1) {
            return shape_error(nd, s0, "lrn keeps the shape and needs size >= 1");
        }
        cs_cpu_lrn(&nd->u.lrn, batch, s0.c, s0.h, s0.w, x, y);
        return CS_OK;
    case CS_OP_BATCHNORM:
    case CS_OP_AFFINE:
        if (!same_shape(s0, nd->out)) {
            return shape_error(nd, s0, "a per-channel op keeps the shape");
        }
        return nd->op == CS_OP_BATCHNORM ? run_batchnorm(nd, batch, s0, x, y)
                                         : run_affine(nd, batch, s0, x, y);
    case CS_OP_ACT:
        if (!same_shape(s0, nd->out)) {
            return shape_error(nd, s0, "an activation keeps the shape");
        }
        if ((unsigned)nd->u.act.kind >= (unsigned)CS_ACT_COUNT) {
            return cs_error(CS_ERR_UNSUPPORTED, "cpu: node '%s' (act): unknown activation %d",
                            nd->name, (int)nd->u.act.kind);
        }
        cs_cpu_act(nd->u.act.kind, n_out, x, y);
        return CS_OK;
    case CS_OP_DENSE:
        return run_dense(nd, batch, s0, x, y);
    case CS_OP_FLATTEN:
    case CS_OP_DROPOUT:
        if (cs_shape_count(s0) != cs_shape_count(nd->out)) {
            return shape_error(nd, s0, "a copy keeps the element count");
        }
        cs_cpu_copy(n_out, x, y);
        return CS_OK;
    case CS_OP_CONCAT:
        return run_concat(g, nd, batch, in, y);
    case CS_OP_ADD:
        if (nd->n_inputs != 2 || !same_shape(s0, nd->out) ||
            !same_shape(g->nodes[nd->inputs[1]].out, nd->out)) {
            return shape_error(nd, s0, "add needs two inputs of the output's shape");
        }
        cs_cpu_add(nd->u.add.relu, n_out, x, in[1]->data, y);
        return CS_OK;
    case CS_OP_SCALE:
        if (nd->n_inputs != 2 || !same_shape(s0, nd->out) ||
            cs_shape_count(g->nodes[nd->inputs[1]].out) != (size_t)s0.c) {
            return shape_error(nd, s0, "scale needs x (C,H,W) and s (C,1,1)");
        }
        cs_cpu_scale(batch, s0.c, s0.h, s0.w, x, in[1]->data, y);
        return CS_OK;
    case CS_OP_SOFTMAX:
        if (!same_shape(s0, nd->out)) {
            return shape_error(nd, s0, "softmax keeps the shape");
        }
        cs_cpu_softmax(batch, s0.c, s0.h, s0.w, x, y);
        return CS_OK;
    case CS_OP_RBF:
        return run_rbf(nd, batch, s0, x, y);
    case CS_OP_COUNT:
        break;
    }
    return cs_error(CS_ERR_UNSUPPORTED, "cpu: node %d '%s' has op %d, which the CPU backend "
                    "does not implement", (int)(nd - g->nodes), nd->name, (int)nd->op);
}

static double now_ms(void)
{
    struct timespec ts = {0, 0};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec * 1e-6;
}

cs_status cs_cpu_run_node(cs_backend *be, const cs_graph *g, int id, int batch,
                              cs_buf *const *in, cs_buf *out)
{
    cs_cpu_backend *cpu = cpu_of(be);

    if (g == NULL || id < 0 || id >= g->n_nodes || batch < 1) {
        return cs_error(CS_ERR_INVALID_ARG, "cpu: run_node(%d) with batch %d on a graph of %d nodes",
                        id, batch, g != NULL ? g->n_nodes : 0);
    }
    const cs_node *nd = &g->nodes[id];
    if (nd->op != CS_OP_INPUT) {
        const size_t need_out = (size_t)batch * cs_shape_count(nd->out);
        if (out == NULL || out->floats < need_out) {
            return cs_error(CS_ERR_SHAPE, "cpu: node '%s' (%s): output buffer holds %zu floats, "
                            "needs %zu", nd->name, cs_op_name(nd->op),
                            out != NULL ? out->floats : (size_t)0, need_out);
        }
        if (nd->n_inputs < 1 || in == NULL) {
            return cs_error(CS_ERR_INVALID_ARG, "cpu: node '%s' (%s) has no input buffers",
                            nd->name, cs_op_name(nd->op));
        }
        for (int i = 0; i < nd->n_inputs; i++) {
            const int src = nd->inputs[i];
            const size_t need = (src >= 0 && src < id)
                                    ? (size_t)batch * cs_shape_count(g->nodes[src].out)
                                    : 0;
            if (src < 0 || src >= id || in[i] == NULL || in[i]->floats < need) {
                return cs_error(CS_ERR_SHAPE, "cpu: node '%s' (%s): input %d (node %d) buffer "
                                "missing or smaller than %zu floats",
                                nd->name, cs_op_name(nd->op), i, src, need);
            }
        }
    }

    const double t0 = now_ms();
    const cs_status st = run_op(g, nd, batch, in, out);
    const double t1 = now_ms();
    if (st == CS_OK && cpu->node_ms != NULL && id < cpu->n_nodes) {
        cpu->node_ms[id] = t1 - t0;
    }
    return st;
}

/* ------------------------------------------------------------------------ */
/* Session-level entry points                                               */
/* ------------------------------------------------------------------------ */

static cs_status cpu_prepare(cs_backend *be, const cs_graph *g, int batch)
{
    cs_cpu_backend *cpu = cpu_of(be);

    if (g == NULL || g->n_nodes < 0 || batch < 1) {
        return cs_error(CS_ERR_INVALID_ARG, "cpu: prepare needs a graph and batch >= 1 (got %d)",
                        batch);
    }
    free(cpu->node_ms);
    cpu->node_ms = NULL;
    cpu->n_nodes = 0;
    if (g->n_nodes > 0) {
        cpu->node_ms = malloc((size_t)g->n_nodes * sizeof(double));
        if (cpu->node_ms == NULL) {
            return cs_error(CS_ERR_NO_MEMORY, "cpu: out of memory for %d node timings", g->n_nodes);
        }
        for (int i = 0; i < g->n_nodes; i++) {
            cpu->node_ms[i] = -1.0;
        }
        cpu->n_nodes = g->n_nodes;
    }
    return CS_OK;
}

static cs_status cpu_finish(cs_backend *be)
{
    (void)be;
    return CS_OK;
}

static double cpu_node_ms(cs_backend *be, int id)
{
    const cs_cpu_backend *cpu = cpu_of(be);
    if (cpu->node_ms == NULL || id < 0 || id >= cpu->n_nodes) {
        return -1.0;
    }
    return cpu->node_ms[id];
}

static const char *cpu_device_name(cs_backend *be)
{
    (void)be;
    return "CPU reference";
}

static void cpu_destroy(cs_backend *be)
{
    cs_cpu_backend *cpu = cpu_of(be);
    if (cpu != NULL) {
        free(cpu->node_ms);
        free(cpu->params);
        free(cpu);
    }
}

static const cs_backend_vt cpu_vt = {
    .name = "cpu",
    .prepare = cpu_prepare,
    .alloc = cpu_alloc,
    .release = cpu_release,
    .write = cpu_write,
    .read = cpu_read,
    .run_node = cs_cpu_run_node,
    .finish = cpu_finish,
    .node_ms = cpu_node_ms,
    .device_name = cpu_device_name,
    .destroy = cpu_destroy,
    .prepare_train = cs_cpu_prepare_train,
    .param = cs_cpu_param,
    .run_node_train = cs_cpu_run_node_train,
    .backward_node = cs_cpu_backward_node,
    .accumulate = cs_cpu_accumulate,
    .optim_step = cs_cpu_optim_step,
};

cs_status cs_cpu_backend_create(cs_backend **out)
{
    if (out == NULL) {
        return cs_error(CS_ERR_INVALID_ARG, "cpu: cs_cpu_backend_create(NULL)");
    }
    *out = NULL;
    cs_cpu_backend *cpu = calloc(1, sizeof(*cpu));
    if (cpu == NULL) {
        return cs_error(CS_ERR_NO_MEMORY, "cpu: out of memory creating the CPU backend");
    }
    cpu->base.vt = &cpu_vt;
    cpu->node_ms = NULL;
    cpu->n_nodes = 0;
    *out = &cpu->base;
    return CS_OK;
}
