/* Graph builder and shape inference. Every builder call validates its
 * parameters against the input shapes, infers the output shape, allocates the
 * node's learnable tensors and records structure tags. Errors are sticky and
 * name the node and the offending numbers.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/graph.h"
#include "core/status.h"

/* ------------------------------------------------------------------------ */
/* Sizes                                                                    */
/* ------------------------------------------------------------------------ */

int cs_conv_out_size(int in, int kernel, int stride, int pad_lo, int pad_hi, int dilation)
{
    long span = (long)dilation * (kernel - 1) + 1;
    long padded = (long)in + pad_lo + pad_hi;
    if (stride <= 0 || span > padded)
        return 0;
    return (int)((padded - span) / stride + 1);
}

int cs_pool_out_size(int in, int kernel, int stride, int pad_lo, int pad_hi, int ceil_mode)
{
    /* PyTorch's rule: with ceil_mode a window may be larger than the padded
     * input as long as the rounded-up count is positive (it is clipped). */
    long padded = (long)in + pad_lo + pad_hi;
    long num = padded - kernel + (ceil_mode ? stride - 1 : 0);
    if (stride <= 0 || num < 0)
        return 0;
    long out = num / stride + 1;
    /* PyTorch: with ceil_mode the last window must start inside the input or
     * its leading padding. */
    if (ceil_mode && (out - 1) * stride >= (long)in + pad_lo)
        out--;
    return (int)out;
}

/* ------------------------------------------------------------------------ */
/* Graph lifetime                                                           */
/* ------------------------------------------------------------------------ */

cs_status cs_graph_create(cs_graph **out, const char *model_name)
{
    if (!out)
        return cs_error(CS_ERR_INVALID_ARG, "cs_graph_create: out is NULL");
    *out = NULL;
    cs_graph *g = calloc(1, sizeof *g);
    if (!g)
        return cs_error(CS_ERR_NO_MEMORY, "cs_graph_create: out of memory");
    snprintf(g->model, sizeof g->model, "%s", model_name ? model_name : "graph");
    g->open_block = -1;
    g->input = -1;
    g->status = CS_OK;
    *out = g;
    return CS_OK;
}

void cs_graph_free(cs_graph *g)
{
    if (!g)
        return;
    for (int i = 0; i < g->n_nodes; i++) {
        cs_node *n = &g->nodes[i];
        free(n->inputs);
        for (int p = 0; p < n->n_params; p++)
            free(n->params[p].data);
        if (n->op == CS_OP_CONV2D)
            free(n->u.conv.mask);
    }
    free(g->nodes);
    free(g->blocks);
    free(g);
}

cs_status cs_graph_clone(const cs_graph *g, cs_graph **out)
{
    if (!g || !out)
        return cs_error(CS_ERR_INVALID_ARG, "cs_graph_clone: graph or out is NULL");
    *out = NULL;
    cs_graph *c = calloc(1, sizeof *c);
    if (!c)
        return cs_error(CS_ERR_NO_MEMORY, "cs_graph_clone: out of memory");
    *c = *g;
    c->nodes = NULL;
    c->blocks = NULL;
    c->n_nodes = c->cap_nodes = 0;
    c->n_blocks = c->cap_blocks = 0;
    if (g->n_nodes) {
        c->nodes = calloc((size_t)g->n_nodes, sizeof *c->nodes);
        if (!c->nodes)
            goto oom;
        c->cap_nodes = g->n_nodes;
    }
    if (g->n_blocks) {
        c->blocks = malloc((size_t)g->n_blocks * sizeof *c->blocks);
        if (!c->blocks)
            goto oom;
        memcpy(c->blocks, g->blocks, (size_t)g->n_blocks * sizeof *c->blocks);
        c->n_blocks = c->cap_blocks = g->n_blocks;
    }
    for (int i = 0; i < g->n_nodes; i++) {
        const cs_node *src = &g->nodes[i];
        cs_node *dst = &c->nodes[i];
        *dst = *src;
        dst->inputs = NULL;
        dst->n_params = 0;
        if (src->op == CS_OP_CONV2D) {
            dst->u.conv.mask = NULL;
            dst->u.conv.p.mask = NULL;
        }
        c->n_nodes = i + 1; /* from here on cs_graph_free cleans this node up */
        if (src->n_inputs) {
            dst->inputs = malloc((size_t)src->n_inputs * sizeof *dst->inputs);
            if (!dst->inputs)
                goto oom;
            memcpy(dst->inputs, src->inputs, (size_t)src->n_inputs * sizeof *dst->inputs);
        }
        if (src->op == CS_OP_CONV2D && src->u.conv.mask) {
            size_t m = (size_t)src->u.conv.p.out_channels * (size_t)(g->nodes[src->inputs[0]].out.c / src->u.conv.p.groups);
            dst->u.conv.mask = malloc(m);
            if (!dst->u.conv.mask)
                goto oom;
            memcpy(dst->u.conv.mask, src->u.conv.mask, m);
            dst->u.conv.p.mask = dst->u.conv.mask;
        }
        for (int p = 0; p < src->n_params; p++) {
            dst->params[p] = src->params[p];
            dst->params[p].data = malloc(src->params[p].count * sizeof(float));
            if (!dst->params[p].data)
                goto oom;
            memcpy(dst->params[p].data, src->params[p].data, src->params[p].count * sizeof(float));
            dst->n_params = p + 1;
        }
    }
    *out = c;
    return CS_OK;
oom:
    cs_graph_free(c);
    return cs_error(CS_ERR_NO_MEMORY, "cs_graph_clone: out of memory copying graph '%s'", g->model);
}

cs_status cs_graph_status(const cs_graph *g)
{
    if (!g)
        return cs_error(CS_ERR_INVALID_ARG, "graph is NULL");
    return g->status;
}

/* Record the first failure; later builder calls see it and do nothing. */
static int fail(cs_graph *g, cs_status st)
{
    if (g->status == CS_OK)
        g->status = st;
    return -1;
}

#define FAIL(g, st, ...) fail((g), cs_error((st), __VA_ARGS__))

/* ------------------------------------------------------------------------ */
/* Node creation                                                            */
/* ------------------------------------------------------------------------ */

/* Checks shared by every builder call: graph usable, name valid and unique,
 * inputs defined. Returns 0 when the call may go on. */
static int check_common(cs_graph *g, const char *op, const char *name, const int *xs, int count)
{
    if (!g)
        return -1;
    if (g->status != CS_OK) {
        /* keep the first message: the user wants the first cause */
        return -1;
    }
    if (!name || !name[0])
        return FAIL(g, CS_ERR_INVALID_ARG, "%s: a node needs a non-empty name", op);
    if (strlen(name) >= CS_NAME_MAX)
        return FAIL(g, CS_ERR_INVALID_ARG, "%s '%s': name longer than %d characters", op, name,
                    CS_NAME_MAX - 1);
    for (int i = 0; i < g->n_nodes; i++)
        if (strcmp(g->nodes[i].name, name) == 0)
            return FAIL(g, CS_ERR_INVALID_ARG, "%s '%s': a node with this name already exists (node %d)",
                        op, name, i);
    for (int i = 0; i < count; i++)
        if (xs[i] < 0 || xs[i] >= g->n_nodes)
            return FAIL(g, CS_ERR_INVALID_ARG,
                        "%s '%s': input %d is node id %d, which is not defined (graph has %d nodes)",
                        op, name, i, xs[i], g->n_nodes);
    return 0;
}

static cs_node *new_node(cs_graph *g, cs_op op, const char *name, const int *xs, int count, cs_shape out)
{
    if (g->n_nodes == g->cap_nodes) {
        int cap = g->cap_nodes ? g->cap_nodes * 2 : 64;
        cs_node *nodes = realloc(g->nodes, (size_t)cap * sizeof *nodes);
        if (!nodes) {
            FAIL(g, CS_ERR_NO_MEMORY, "%s: out of memory growing the graph", name);
            return NULL;
        }
        g->nodes = nodes;
        g->cap_nodes = cap;
    }
    int *inputs = NULL;
    if (count > 0) {
        inputs = malloc((size_t)count * sizeof *inputs);
        if (!inputs) {
            FAIL(g, CS_ERR_NO_MEMORY, "%s: out of memory", name);
            return NULL;
        }
        memcpy(inputs, xs, (size_t)count * sizeof *inputs);
    }
    cs_node *n = &g->nodes[g->n_nodes];
    memset(n, 0, sizeof *n);
    n->op = op;
    snprintf(n->name, sizeof n->name, "%s", name);
    n->inputs = inputs;
    n->n_inputs = count;
    n->out = out;
    n->block = g->open_block;
    n->role = CS_ROLE_NONE;
    n->role_index = 0;
    g->n_nodes++;
    return n;
}

/* Adds a learnable tensor filled with `fill`. */
static int add_param(cs_graph *g, cs_node *n, const char *pname, int ndim, const int *dims, float fill)
{
    size_t count = 1;
    for (int i = 0; i < ndim; i++) {
        if (dims[i] <= 0 || count > SIZE_MAX / 4 / (size_t)dims[i])
            return FAIL(g, CS_ERR_INVALID_ARG, "%s: parameter '%s' has an invalid size", n->name, pname);
        count *= (size_t)dims[i];
    }
    /* calloc: large zero tensors stay untouched pages until weights arrive,
     * so building a graph to inspect it (info, models) is cheap */
    float *data = calloc(count, sizeof *data);
    if (!data)
        return FAIL(g, CS_ERR_NO_MEMORY, "%s: out of memory for parameter '%s' (%zu floats)", n->name,
                    pname, count);
    if (fill != 0.0f)
        for (size_t i = 0; i < count; i++)
            data[i] = fill;
    cs_tensor *t = &n->params[n->n_params++];
    snprintf(t->name, sizeof t->name, "%s", pname);
    t->ndim = ndim;
    for (int i = 0; i < 4; i++)
        t->dims[i] = i < ndim ? dims[i] : 1;
    t->count = count;
    t->data = data;
    return 0;
}

int cs_node_add_param(cs_graph *g, int id, const char *name, int ndim, const int *dims, float fill)
{
    if (!g || id < 0 || id >= g->n_nodes || g->nodes[id].n_params >= CS_MAX_PARAMS)
        return g ? fail(g, cs_error(CS_ERR_INVALID_ARG, "node %d cannot take another parameter", id)) : -1;
    return add_param(g, &g->nodes[id], name, ndim, dims, fill);
}

/* Removes a half-built last node after a parameter allocation failed. */
static int drop_last(cs_graph *g)
{
    cs_node *n = &g->nodes[g->n_nodes - 1];
    free(n->inputs);
    for (int p = 0; p < n->n_params; p++)
        free(n->params[p].data);
    if (n->op == CS_OP_CONV2D)
        free(n->u.conv.mask);
    g->n_nodes--;
    return -1;
}

static cs_shape shape_of(const cs_graph *g, int id)
{
    return g->nodes[id].out;
}

int cs_input(cs_graph *g, const char *name, int channels, int height, int width)
{
    if (check_common(g, "input", name, NULL, 0))
        return -1;
    if (g->input >= 0)
        return FAIL(g, CS_ERR_INVALID_ARG, "input '%s': the graph already has an input ('%s')", name,
                    g->nodes[g->input].name);
    if (channels <= 0 || height <= 0 || width <= 0)
        return FAIL(g, CS_ERR_INVALID_ARG, "input '%s': shape %dx%dx%d must be positive", name, channels,
                    height, width);
    cs_node *n = new_node(g, CS_OP_INPUT, name, NULL, 0, (cs_shape){channels, height, width});
    if (!n)
        return -1;
    g->input = g->n_nodes - 1;
    return g->input;
}

int cs_conv2d(cs_graph *g, const char *name, int x, const cs_conv2d_params *p)
{
    if (check_common(g, "conv2d", name, &x, 1))
        return -1;
    if (!p)
        return FAIL(g, CS_ERR_INVALID_ARG, "conv2d '%s': parameters are NULL", name);
    cs_shape in = shape_of(g, x);
    if (p->out_channels <= 0)
        return FAIL(g, CS_ERR_INVALID_ARG, "conv2d '%s': out_channels %d must be positive", name,
                    p->out_channels);
    if (p->kernel_h <= 0 || p->kernel_w <= 0)
        return FAIL(g, CS_ERR_INVALID_ARG, "conv2d '%s': kernel %dx%d must be positive", name,
                    p->kernel_h, p->kernel_w);
    if (p->stride_h <= 0 || p->stride_w <= 0)
        return FAIL(g, CS_ERR_INVALID_ARG, "conv2d '%s': stride %dx%d must be positive", name,
                    p->stride_h, p->stride_w);
    if (p->dilation_h <= 0 || p->dilation_w <= 0)
        return FAIL(g, CS_ERR_INVALID_ARG, "conv2d '%s': dilation %dx%d must be positive", name,
                    p->dilation_h, p->dilation_w);
    if (p->pad_top < 0 || p->pad_bottom < 0 || p->pad_left < 0 || p->pad_right < 0)
        return FAIL(g, CS_ERR_INVALID_ARG,
                    "conv2d '%s': padding (top %d, bottom %d, left %d, right %d) must not be negative",
                    name, p->pad_top, p->pad_bottom, p->pad_left, p->pad_right);
    if (p->groups <= 0 || in.c % p->groups != 0 || p->out_channels % p->groups != 0)
        return FAIL(g, CS_ERR_INVALID_ARG,
                    "conv2d '%s': groups %d must divide both input channels %d and output channels %d",
                    name, p->groups, in.c, p->out_channels);
    int oh = cs_conv_out_size(in.h, p->kernel_h, p->stride_h, p->pad_top, p->pad_bottom, p->dilation_h);
    int ow = cs_conv_out_size(in.w, p->kernel_w, p->stride_w, p->pad_left, p->pad_right, p->dilation_w);
    if (oh <= 0 || ow <= 0)
        return FAIL(g, CS_ERR_SHAPE,
                    "conv2d '%s': kernel %dx%d (dilation %dx%d) is larger than the padded input %dx%d",
                    name, p->kernel_h, p->kernel_w, p->dilation_h, p->dilation_w,
                    in.h + p->pad_top + p->pad_bottom, in.w + p->pad_left + p->pad_right);
    cs_node *n = new_node(g, CS_OP_CONV2D, name, &x, 1, (cs_shape){p->out_channels, oh, ow});
    if (!n)
        return -1;
    n->u.conv.p = *p;
    n->u.conv.p.mask = NULL;
    n->u.conv.mask = NULL;
    int cg = in.c / p->groups;
    if (p->mask) {
        size_t mcount = (size_t)p->out_channels * (size_t)cg;
        n->u.conv.mask = malloc(mcount);
        if (!n->u.conv.mask) {
            FAIL(g, CS_ERR_NO_MEMORY, "conv2d '%s': out of memory for the mask", name);
            return drop_last(g);
        }
        memcpy(n->u.conv.mask, p->mask, mcount);
        n->u.conv.p.mask = n->u.conv.mask;
    }
    int wdims[4] = {p->out_channels, cg, p->kernel_h, p->kernel_w};
    if (add_param(g, n, "weight", 4, wdims, 0.0f))
        return drop_last(g);
    if (p->bias && add_param(g, n, "bias", 1, &p->out_channels, 0.0f))
        return drop_last(g);
    return g->n_nodes - 1;
}

static int pool_node(cs_graph *g, cs_op op, const char *opname, const char *name, int x, const cs_pool_params *p)
{
    if (check_common(g, opname, name, &x, 1))
        return -1;
    if (!p)
        return FAIL(g, CS_ERR_INVALID_ARG, "%s '%s': parameters are NULL", opname, name);
    cs_shape in = shape_of(g, x);
    if (p->kernel_h <= 0 || p->kernel_w <= 0)
        return FAIL(g, CS_ERR_INVALID_ARG, "%s '%s': kernel %dx%d must be positive", opname, name,
                    p->kernel_h, p->kernel_w);
    if (p->stride_h <= 0 || p->stride_w <= 0)
        return FAIL(g, CS_ERR_INVALID_ARG, "%s '%s': stride %dx%d must be positive", opname, name,
                    p->stride_h, p->stride_w);
    if (p->pad_top < 0 || p->pad_bottom < 0 || p->pad_left < 0 || p->pad_right < 0)
        return FAIL(g, CS_ERR_INVALID_ARG,
                    "%s '%s': padding (top %d, bottom %d, left %d, right %d) must not be negative", opname,
                    name, p->pad_top, p->pad_bottom, p->pad_left, p->pad_right);
    if (p->pad_top > p->kernel_h / 2 || p->pad_bottom > p->kernel_h / 2 || p->pad_left > p->kernel_w / 2 ||
        p->pad_right > p->kernel_w / 2)
        return FAIL(g, CS_ERR_INVALID_ARG,
                    "%s '%s': padding (top %d, bottom %d, left %d, right %d) must be at most half the "
                    "kernel %dx%d",
                    opname, name, p->pad_top, p->pad_bottom, p->pad_left, p->pad_right, p->kernel_h,
                    p->kernel_w);
    int oh = cs_pool_out_size(in.h, p->kernel_h, p->stride_h, p->pad_top, p->pad_bottom, p->ceil_mode);
    int ow = cs_pool_out_size(in.w, p->kernel_w, p->stride_w, p->pad_left, p->pad_right, p->ceil_mode);
    if (oh <= 0 || ow <= 0)
        return FAIL(g, CS_ERR_SHAPE, "%s '%s': kernel %dx%d is larger than the padded input %dx%d", opname,
                    name, p->kernel_h, p->kernel_w, in.h + p->pad_top + p->pad_bottom,
                    in.w + p->pad_left + p->pad_right);
    cs_node *n = new_node(g, op, name, &x, 1, (cs_shape){in.c, oh, ow});
    if (!n)
        return -1;
    n->u.pool = *p;
    return g->n_nodes - 1;
}

int cs_maxpool(cs_graph *g, const char *name, int x, const cs_pool_params *p)
{
    return pool_node(g, CS_OP_MAXPOOL, "maxpool", name, x, p);
}

int cs_avgpool(cs_graph *g, const char *name, int x, const cs_pool_params *p)
{
    return pool_node(g, CS_OP_AVGPOOL, "avgpool", name, x, p);
}

int cs_adaptive_avgpool(cs_graph *g, const char *name, int x, int out_h, int out_w)
{
    if (check_common(g, "adaptive_avgpool", name, &x, 1))
        return -1;
    if (out_h <= 0 || out_w <= 0)
        return FAIL(g, CS_ERR_INVALID_ARG, "adaptive_avgpool '%s': output size %dx%d must be positive", name,
                    out_h, out_w);
    cs_shape in = shape_of(g, x);
    cs_node *n = new_node(g, CS_OP_ADAPTIVE_AVGPOOL, name, &x, 1, (cs_shape){in.c, out_h, out_w});
    if (!n)
        return -1;
    n->u.adaptive.out_h = out_h;
    n->u.adaptive.out_w = out_w;
    return g->n_nodes - 1;
}

int cs_lrn(cs_graph *g, const char *name, int x, const cs_lrn_params *p)
{
    if (check_common(g, "lrn", name, &x, 1))
        return -1;
    if (!p)
        return FAIL(g, CS_ERR_INVALID_ARG, "lrn '%s': parameters are NULL", name);
    if (p->size <= 0)
        return FAIL(g, CS_ERR_INVALID_ARG, "lrn '%s': size %d must be positive", name, p->size);
    if (!isfinite(p->alpha) || !isfinite(p->beta) || !isfinite(p->k))
        return FAIL(g, CS_ERR_INVALID_ARG, "lrn '%s': alpha %g, beta %g and k %g must be finite", name,
                    (double)p->alpha, (double)p->beta, (double)p->k);
    cs_node *n = new_node(g, CS_OP_LRN, name, &x, 1, shape_of(g, x));
    if (!n)
        return -1;
    n->u.lrn = *p;
    return g->n_nodes - 1;
}

int cs_batchnorm(cs_graph *g, const char *name, int x, float eps)
{
    if (check_common(g, "batchnorm", name, &x, 1))
        return -1;
    if (!(eps >= 0.0f) || !isfinite(eps))
        return FAIL(g, CS_ERR_INVALID_ARG, "batchnorm '%s': eps %g must be finite and >= 0", name, (double)eps);
    cs_shape in = shape_of(g, x);
    cs_node *n = new_node(g, CS_OP_BATCHNORM, name, &x, 1, in);
    if (!n)
        return -1;
    n->u.bn.eps = eps;
    if (add_param(g, n, "weight", 1, &in.c, 1.0f) || add_param(g, n, "bias", 1, &in.c, 0.0f) ||
        add_param(g, n, "running_mean", 1, &in.c, 0.0f) || add_param(g, n, "running_var", 1, &in.c, 1.0f))
        return drop_last(g);
    n->params[2].buffer = 1;
    n->params[3].buffer = 1;
    return g->n_nodes - 1;
}

int cs_affine(cs_graph *g, const char *name, int x)
{
    if (check_common(g, "affine", name, &x, 1))
        return -1;
    cs_shape in = shape_of(g, x);
    cs_node *n = new_node(g, CS_OP_AFFINE, name, &x, 1, in);
    if (!n)
        return -1;
    if (add_param(g, n, "weight", 1, &in.c, 1.0f) || add_param(g, n, "bias", 1, &in.c, 0.0f))
        return drop_last(g);
    return g->n_nodes - 1;
}

int cs_act(cs_graph *g, const char *name, int x, cs_act_kind kind)
{
    if (check_common(g, "act", name, &x, 1))
        return -1;
    if ((int)kind < 0 || kind >= CS_ACT_COUNT)
        return FAIL(g, CS_ERR_INVALID_ARG, "act '%s': unknown activation %d", name, (int)kind);
    cs_node *n = new_node(g, CS_OP_ACT, name, &x, 1, shape_of(g, x));
    if (!n)
        return -1;
    n->u.act.kind = kind;
    return g->n_nodes - 1;
}

int cs_dense(cs_graph *g, const char *name, int x, int out_features, int bias)
{
    if (check_common(g, "dense", name, &x, 1))
        return -1;
    if (out_features <= 0)
        return FAIL(g, CS_ERR_INVALID_ARG, "dense '%s': out_features %d must be positive", name, out_features);
    size_t in_count = cs_shape_count(shape_of(g, x));
    if (in_count > (size_t)INT32_MAX)
        return FAIL(g, CS_ERR_SHAPE, "dense '%s': input of %zu features is too large", name, in_count);
    cs_node *n = new_node(g, CS_OP_DENSE, name, &x, 1, (cs_shape){out_features, 1, 1});
    if (!n)
        return -1;
    n->u.dense.out_features = out_features;
    n->u.dense.bias = bias ? 1 : 0;
    int wdims[2] = {out_features, (int)in_count};
    if (add_param(g, n, "weight", 2, wdims, 0.0f))
        return drop_last(g);
    if (bias && add_param(g, n, "bias", 1, &out_features, 0.0f))
        return drop_last(g);
    return g->n_nodes - 1;
}

int cs_flatten(cs_graph *g, const char *name, int x)
{
    if (check_common(g, "flatten", name, &x, 1))
        return -1;
    size_t count = cs_shape_count(shape_of(g, x));
    if (count > (size_t)INT32_MAX)
        return FAIL(g, CS_ERR_SHAPE, "flatten '%s': %zu features is too large", name, count);
    cs_node *n = new_node(g, CS_OP_FLATTEN, name, &x, 1, (cs_shape){(int)count, 1, 1});
    return n ? g->n_nodes - 1 : -1;
}

int cs_dropout(cs_graph *g, const char *name, int x, float p)
{
    if (check_common(g, "dropout", name, &x, 1))
        return -1;
    if (!(p >= 0.0f && p < 1.0f))
        return FAIL(g, CS_ERR_INVALID_ARG, "dropout '%s': p %g must be in [0, 1)", name, (double)p);
    cs_node *n = new_node(g, CS_OP_DROPOUT, name, &x, 1, shape_of(g, x));
    if (!n)
        return -1;
    n->u.dropout.p = p;
    return g->n_nodes - 1;
}

int cs_concat(cs_graph *g, const char *name, const int *xs, int count)
{
    if (count <= 0 || !xs) {
        if (check_common(g, "concat", name, NULL, 0))
            return -1;
        if (!xs)
            return FAIL(g, CS_ERR_INVALID_ARG, "concat '%s': the input list is NULL (count %d)", name, count);
        return FAIL(g, CS_ERR_INVALID_ARG, "concat '%s': needs at least one input (got %d)", name, count);
    }
    if (check_common(g, "concat", name, xs, count))
        return -1;
    cs_shape first = shape_of(g, xs[0]);
    long channels = 0;
    for (int i = 0; i < count; i++) {
        cs_shape s = shape_of(g, xs[i]);
        if (s.h != first.h || s.w != first.w)
            return FAIL(g, CS_ERR_SHAPE,
                        "concat '%s': input %d ('%s') is %dx%d but input 0 ('%s') is %dx%d", name, i,
                        g->nodes[xs[i]].name, s.h, s.w, g->nodes[xs[0]].name, first.h, first.w);
        channels += s.c;
    }
    if (channels > INT32_MAX)
        return FAIL(g, CS_ERR_SHAPE, "concat '%s': %ld channels is too many", name, channels);
    cs_node *n = new_node(g, CS_OP_CONCAT, name, xs, count, (cs_shape){(int)channels, first.h, first.w});
    return n ? g->n_nodes - 1 : -1;
}

int cs_add(cs_graph *g, const char *name, int a, int b, int relu)
{
    int xs[2] = {a, b};
    if (check_common(g, "add", name, xs, 2))
        return -1;
    cs_shape sa = shape_of(g, a), sb = shape_of(g, b);
    if (sa.c != sb.c || sa.h != sb.h || sa.w != sb.w)
        return FAIL(g, CS_ERR_SHAPE, "add '%s': shapes differ: '%s' is %dx%dx%d, '%s' is %dx%dx%d", name,
                    g->nodes[a].name, sa.c, sa.h, sa.w, g->nodes[b].name, sb.c, sb.h, sb.w);
    cs_node *n = new_node(g, CS_OP_ADD, name, xs, 2, sa);
    if (!n)
        return -1;
    n->u.add.relu = relu ? 1 : 0;
    return g->n_nodes - 1;
}

int cs_scale(cs_graph *g, const char *name, int x, int s)
{
    int xs[2] = {x, s};
    if (check_common(g, "scale", name, xs, 2))
        return -1;
    cs_shape sx = shape_of(g, x), ss = shape_of(g, s);
    if (ss.c != sx.c || ss.h != 1 || ss.w != 1)
        return FAIL(g, CS_ERR_SHAPE, "scale '%s': scale '%s' is %dx%dx%d but must be %dx1x1 for '%s'", name,
                    g->nodes[s].name, ss.c, ss.h, ss.w, sx.c, g->nodes[x].name);
    cs_node *n = new_node(g, CS_OP_SCALE, name, xs, 2, sx);
    return n ? g->n_nodes - 1 : -1;
}

int cs_softmax(cs_graph *g, const char *name, int x)
{
    if (check_common(g, "softmax", name, &x, 1))
        return -1;
    cs_node *n = new_node(g, CS_OP_SOFTMAX, name, &x, 1, shape_of(g, x));
    return n ? g->n_nodes - 1 : -1;
}

int cs_rbf(cs_graph *g, const char *name, int x, int classes)
{
    if (check_common(g, "rbf", name, &x, 1))
        return -1;
    if (classes <= 0)
        return FAIL(g, CS_ERR_INVALID_ARG, "rbf '%s': classes %d must be positive", name, classes);
    size_t in_count = cs_shape_count(shape_of(g, x));
    if (in_count > (size_t)INT32_MAX)
        return FAIL(g, CS_ERR_SHAPE, "rbf '%s': input of %zu features is too large", name, in_count);
    cs_node *n = new_node(g, CS_OP_RBF, name, &x, 1, (cs_shape){classes, 1, 1});
    if (!n)
        return -1;
    n->u.rbf.classes = classes;
    int wdims[2] = {classes, (int)in_count};
    if (add_param(g, n, "weight", 2, wdims, 0.0f))
        return drop_last(g);
    n->params[0].buffer = 1; /* fixed centres (LeCun 1998), like BN statistics: not learnt */
    return g->n_nodes - 1;
}

/* ------------------------------------------------------------------------ */
/* Structure tags                                                           */
/* ------------------------------------------------------------------------ */

int cs_block_begin(cs_graph *g, cs_block_kind kind, const char *name)
{
    if (!g || g->status != CS_OK)
        return -1;
    if ((int)kind <= CS_BLOCK_NONE || kind >= CS_BLOCK_COUNT)
        return FAIL(g, CS_ERR_INVALID_ARG, "block '%s': unknown block kind %d", name ? name : "", (int)kind);
    if (g->n_blocks == g->cap_blocks) {
        int cap = g->cap_blocks ? g->cap_blocks * 2 : 32;
        cs_block *blocks = realloc(g->blocks, (size_t)cap * sizeof *blocks);
        if (!blocks)
            return FAIL(g, CS_ERR_NO_MEMORY, "block '%s': out of memory", name ? name : "");
        g->blocks = blocks;
        g->cap_blocks = cap;
    }
    cs_block *b = &g->blocks[g->n_blocks];
    b->kind = kind;
    snprintf(b->name, sizeof b->name, "%s", name ? name : "");
    b->parent = g->open_block;
    b->first = g->n_nodes;
    b->last = g->n_nodes - 1;
    g->open_block = g->n_blocks;
    return g->n_blocks++;
}

void cs_block_end(cs_graph *g)
{
    if (!g || g->open_block < 0)
        return;
    cs_block *b = &g->blocks[g->open_block];
    b->last = g->n_nodes - 1;
    g->open_block = b->parent;
}

void cs_node_set_role(cs_graph *g, int node, cs_role role, int index)
{
    if (!g || node < 0 || node >= g->n_nodes || (int)role < 0 || role >= CS_ROLE_COUNT)
        return;
    g->nodes[node].role = role;
    g->nodes[node].role_index = index;
}

/* ------------------------------------------------------------------------ */
/* Queries                                                                  */
/* ------------------------------------------------------------------------ */

int cs_graph_node_count(const cs_graph *g)
{
    return g ? g->n_nodes : 0;
}

cs_status cs_graph_node_shape(const cs_graph *g, int node, int *c, int *h, int *w)
{
    if (!g || node < 0 || node >= g->n_nodes)
        return cs_error(CS_ERR_INVALID_ARG, "node %d does not exist (graph has %d nodes)", node,
                        g ? g->n_nodes : 0);
    cs_shape s = g->nodes[node].out;
    if (c)
        *c = s.c;
    if (h)
        *h = s.h;
    if (w)
        *w = s.w;
    return CS_OK;
}

const char *cs_graph_node_name(const cs_graph *g, int node)
{
    if (!g || node < 0 || node >= g->n_nodes)
        return NULL;
    return g->nodes[node].name;
}

cs_op cs_graph_node_op(const cs_graph *g, int node)
{
    if (!g || node < 0 || node >= g->n_nodes)
        return CS_OP_COUNT;
    return g->nodes[node].op;
}

int cs_graph_find(const cs_graph *g, const char *name)
{
    if (!g || !name)
        return -1;
    for (int i = 0; i < g->n_nodes; i++)
        if (strcmp(g->nodes[i].name, name) == 0)
            return i;
    return -1;
}

const char *cs_op_name(cs_op op)
{
    static const char *const names[CS_OP_COUNT] = {
        [CS_OP_INPUT] = "input",       [CS_OP_CONV2D] = "conv2d",
        [CS_OP_MAXPOOL] = "maxpool",   [CS_OP_AVGPOOL] = "avgpool",
        [CS_OP_ADAPTIVE_AVGPOOL] = "adaptive_avgpool",
        [CS_OP_LRN] = "lrn",           [CS_OP_BATCHNORM] = "batchnorm",
        [CS_OP_AFFINE] = "affine",     [CS_OP_ACT] = "act",
        [CS_OP_DENSE] = "dense",       [CS_OP_FLATTEN] = "flatten",
        [CS_OP_DROPOUT] = "dropout",   [CS_OP_CONCAT] = "concat",
        [CS_OP_ADD] = "add",           [CS_OP_SCALE] = "scale",
        [CS_OP_SOFTMAX] = "softmax",   [CS_OP_RBF] = "rbf",
    };
    if ((int)op < 0 || op >= CS_OP_COUNT)
        return "unknown";
    return names[op];
}

int cs_graph_param_count(const cs_graph *g, int node)
{
    if (!g || node < 0 || node >= g->n_nodes)
        return 0;
    return g->nodes[node].n_params;
}

cs_status cs_graph_param(const cs_graph *g, int node, int index, cs_param_info *out)
{
    if (!g || !out || node < 0 || node >= g->n_nodes)
        return cs_error(CS_ERR_INVALID_ARG, "cs_graph_param: node %d does not exist", node);
    const cs_node *n = &g->nodes[node];
    if (index < 0 || index >= n->n_params)
        return cs_error(CS_ERR_INVALID_ARG, "cs_graph_param: node '%s' has %d parameters, asked for %d",
                        n->name, n->n_params, index);
    const cs_tensor *t = &n->params[index];
    out->name = t->name;
    out->ndim = t->ndim;
    memcpy(out->dims, t->dims, sizeof out->dims);
    out->count = t->count;
    out->data = t->data;
    out->buffer = t->buffer || t->constant;
    return CS_OK;
}

const cs_tensor *cs_node_tensor(const cs_node *n, const char *name)
{
    for (int i = 0; i < n->n_params; i++)
        if (strcmp(n->params[i].name, name) == 0)
            return &n->params[i];
    return NULL;
}

static uint64_t conv_connections(const cs_node *n, int cg)
{
    const cs_conv2d_params *p = &n->u.conv.p;
    if (!n->u.conv.mask)
        return (uint64_t)p->out_channels * (uint64_t)cg;
    uint64_t on = 0;
    for (size_t i = 0; i < (size_t)p->out_channels * (size_t)cg; i++)
        on += n->u.conv.mask[i] ? 1u : 0u;
    return on;
}

uint64_t cs_node_macs(const cs_graph *g, int node)
{
    const cs_node *n = &g->nodes[node];
    switch (n->op) {
    case CS_OP_CONV2D: {
        const cs_conv2d_params *p = &n->u.conv.p;
        int cg = g->nodes[n->inputs[0]].out.c / p->groups;
        uint64_t per_out = conv_connections(n, cg) * (uint64_t)p->kernel_h * (uint64_t)p->kernel_w;
        return per_out * (uint64_t)n->out.h * (uint64_t)n->out.w;
    }
    case CS_OP_DENSE:
    case CS_OP_RBF:
        return (uint64_t)n->params[0].count;
    default:
        return 0;
    }
}

uint64_t cs_node_param_count(const cs_graph *g, int node)
{
    const cs_node *n = &g->nodes[node];
    uint64_t total = 0;
    for (int i = 0; i < n->n_params; i++) {
        const cs_tensor *t = &n->params[i];
        if (t->buffer || t->constant)
            continue; /* batchnorm statistics, RBF prototypes, builder constants */
        if (n->op == CS_OP_CONV2D && i == 0 && n->u.conv.mask) {
            int cg = g->nodes[n->inputs[0]].out.c / n->u.conv.p.groups;
            total += conv_connections(n, cg) * (uint64_t)n->u.conv.p.kernel_h * (uint64_t)n->u.conv.p.kernel_w;
            continue;
        }
        total += t->count;
    }
    return total;
}

/* ------------------------------------------------------------------------ */
/* Public read access for the CLI and the viewer                            */
/* ------------------------------------------------------------------------ */

const char *cs_graph_model(const cs_graph *g)
{
    return g ? g->model : "";
}

int cs_graph_input(const cs_graph *g)
{
    return g ? g->input : -1;
}

int cs_graph_node_inputs(const cs_graph *g, int node, const int **ids)
{
    if (!g || node < 0 || node >= g->n_nodes) {
        if (ids)
            *ids = NULL;
        return 0;
    }
    if (ids)
        *ids = g->nodes[node].inputs;
    return g->nodes[node].n_inputs;
}

uint64_t cs_graph_node_params(const cs_graph *g, int node)
{
    if (!g || node < 0 || node >= g->n_nodes)
        return 0;
    return cs_node_param_count(g, node);
}

uint64_t cs_graph_node_macs(const cs_graph *g, int node)
{
    if (!g || node < 0 || node >= g->n_nodes)
        return 0;
    return cs_node_macs(g, node);
}

cs_status cs_graph_node_conv(const cs_graph *g, int node, cs_conv2d_params *out)
{
    if (!g || !out || node < 0 || node >= g->n_nodes || g->nodes[node].op != CS_OP_CONV2D)
        return cs_error(CS_ERR_INVALID_ARG, "node %d is not a conv2d node", node);
    *out = g->nodes[node].u.conv.p;
    return CS_OK;
}

cs_status cs_graph_node_pool(const cs_graph *g, int node, cs_pool_params *out)
{
    if (!g || !out || node < 0 || node >= g->n_nodes ||
        (g->nodes[node].op != CS_OP_MAXPOOL && g->nodes[node].op != CS_OP_AVGPOOL))
        return cs_error(CS_ERR_INVALID_ARG, "node %d is not a pooling node", node);
    *out = g->nodes[node].u.pool;
    return CS_OK;
}

static const char *act_name(cs_act_kind kind)
{
    switch (kind) {
    case CS_ACT_RELU: return "relu";
    case CS_ACT_TANH: return "tanh";
    case CS_ACT_SCALED_TANH: return "scaled tanh 1.7159*tanh(2x/3)";
    case CS_ACT_SIGMOID: return "sigmoid";
    default: return "unknown";
    }
}

/* "3x3" or "3" when square. */
static void pair(char *buf, size_t size, int a, int b)
{
    if (a == b)
        snprintf(buf, size, "%d", a);
    else
        snprintf(buf, size, "%dx%d", a, b);
}

static void pads(char *buf, size_t size, int t, int b, int l, int r)
{
    if (t == b && t == l && t == r)
        snprintf(buf, size, "%d", t);
    else
        snprintf(buf, size, "(t%d b%d l%d r%d)", t, b, l, r);
}

const char *cs_graph_node_describe(const cs_graph *g, int node, char *buf, size_t size)
{
    if (!buf || size == 0)
        return "";
    buf[0] = '\0';
    if (!g || node < 0 || node >= g->n_nodes)
        return buf;
    const cs_node *n = &g->nodes[node];
    char s[32], p[48];
    switch (n->op) {
    case CS_OP_CONV2D: {
        const cs_conv2d_params *c = &n->u.conv.p;
        char k[32];
        snprintf(k, sizeof k, "%dx%d", c->kernel_h, c->kernel_w);
        pair(s, sizeof s, c->stride_h, c->stride_w);
        pads(p, sizeof p, c->pad_top, c->pad_bottom, c->pad_left, c->pad_right);
        int in_c = g->nodes[n->inputs[0]].out.c;
        char grp[48] = "";
        if (c->groups == in_c && c->groups == c->out_channels && c->groups > 1)
            snprintf(grp, sizeof grp, ", depthwise");
        else if (c->groups > 1)
            snprintf(grp, sizeof grp, ", groups %d", c->groups);
        char dil[32] = "";
        if (c->dilation_h > 1 || c->dilation_w > 1)
            snprintf(dil, sizeof dil, ", dilation %dx%d", c->dilation_h, c->dilation_w);
        snprintf(buf, size, "%d filters %s/%s pad %s%s%s%s%s", c->out_channels, k, s, p, grp, dil,
                 c->bias ? ", bias" : "", n->u.conv.mask ? ", connection table" : "");
        break;
    }
    case CS_OP_MAXPOOL:
    case CS_OP_AVGPOOL: {
        const cs_pool_params *q = &n->u.pool;
        pair(s, sizeof s, q->stride_h, q->stride_w);
        pads(p, sizeof p, q->pad_top, q->pad_bottom, q->pad_left, q->pad_right);
        snprintf(buf, size, "%dx%d/%s pad %s%s%s", q->kernel_h, q->kernel_w, s, p, q->ceil_mode ? ", ceil" : "",
                 n->op == CS_OP_AVGPOOL && !q->count_include_pad ? ", exclude pad" : "");
        break;
    }
    case CS_OP_ADAPTIVE_AVGPOOL:
        snprintf(buf, size, "to %dx%d", n->u.adaptive.out_h, n->u.adaptive.out_w);
        break;
    case CS_OP_LRN:
        snprintf(buf, size, "size %d, alpha %g, beta %g, k %g", n->u.lrn.size, (double)n->u.lrn.alpha,
                 (double)n->u.lrn.beta, (double)n->u.lrn.k);
        break;
    case CS_OP_BATCHNORM:
        snprintf(buf, size, "eps %g", (double)n->u.bn.eps);
        break;
    case CS_OP_AFFINE:
        snprintf(buf, size, "per-channel scale + bias");
        break;
    case CS_OP_ACT:
        snprintf(buf, size, "%s", act_name(n->u.act.kind));
        break;
    case CS_OP_DENSE:
        snprintf(buf, size, "%d outputs%s", n->u.dense.out_features, n->u.dense.bias ? ", bias" : "");
        break;
    case CS_OP_DROPOUT:
        snprintf(buf, size, "p %g (identity at inference)", (double)n->u.dropout.p);
        break;
    case CS_OP_CONCAT:
        snprintf(buf, size, "%d inputs along channels", n->n_inputs);
        break;
    case CS_OP_ADD:
        snprintf(buf, size, "%s", n->u.add.relu ? "sum, then relu" : "sum");
        break;
    case CS_OP_SCALE:
        snprintf(buf, size, "channels x gate");
        break;
    case CS_OP_RBF:
        snprintf(buf, size, "%d classes, squared distance", n->u.rbf.classes);
        break;
    default:
        break;
    }
    return buf;
}

int cs_graph_block_count(const cs_graph *g)
{
    return g ? g->n_blocks : 0;
}

cs_status cs_graph_block(const cs_graph *g, int block, cs_block_info *out)
{
    if (!g || !out || block < 0 || block >= g->n_blocks)
        return cs_error(CS_ERR_INVALID_ARG, "block %d does not exist", block);
    const cs_block *b = &g->blocks[block];
    out->kind = b->kind;
    out->name = b->name;
    out->parent = b->parent;
    out->first = b->first;
    out->last = b->last;
    return CS_OK;
}

int cs_graph_node_block(const cs_graph *g, int node)
{
    if (!g || node < 0 || node >= g->n_nodes)
        return -1;
    return g->nodes[node].block;
}

cs_role cs_graph_node_role(const cs_graph *g, int node, int *index)
{
    if (!g || node < 0 || node >= g->n_nodes) {
        if (index)
            *index = 0;
        return CS_ROLE_NONE;
    }
    if (index)
        *index = g->nodes[node].role_index;
    return g->nodes[node].role;
}

const char *cs_block_kind_name(cs_block_kind kind)
{
    static const char *const names[CS_BLOCK_COUNT] = {
        [CS_BLOCK_NONE] = "none",
        [CS_BLOCK_RESIDUAL] = "residual unit",
        [CS_BLOCK_INCEPTION] = "inception module",
        [CS_BLOCK_DENSE] = "dense block",
        [CS_BLOCK_DENSE_LAYER] = "dense layer",
        [CS_BLOCK_TRANSITION] = "transition",
        [CS_BLOCK_SE] = "SE block",
        [CS_BLOCK_SEPARABLE] = "separable conv",
    };
    if ((int)kind < 0 || kind >= CS_BLOCK_COUNT)
        return "unknown";
    return names[kind];
}
