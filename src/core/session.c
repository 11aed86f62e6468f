/* The executor: a graph prepared on a backend at a fixed batch size. Runs the
 * whole graph (headless: activations released after their last consumer and
 * their buffers reused) or steps node by node keeping every activation (the
 * viewer's mode), and reads any kept node's output back to the host.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/backend.h"
#include "core/graph.h"
#include "core/status.h"

typedef struct pool_buf {
    cs_buf *buf;
    size_t floats;
    int in_use;
} pool_buf;

struct cs_session {
    const cs_graph *g;   /* the user's graph, or `fused` */
    cs_graph *fused;     /* private copy with inference fusion applied, or NULL */
    int *root;           /* per node: the node whose buffer holds its output */
    uint8_t *stale;      /* per node: 1 when fusion means its own value is not computed */
    cs_backend *be;
    int batch;
    unsigned flags;
    cs_buf **out;        /* per root node: its output buffer, NULL when not (or no longer) held */
    int *last_use;       /* per root node: last node that reads it; n_nodes when it holds a graph output */
    pool_buf *pool;      /* headless buffer pool */
    int n_pool, cap_pool;
    cs_buf *input_buf;   /* dedicated, never pooled */
    int progress;        /* last node computed for the current input, -1 if none */
    int have_input;
};

static size_t node_floats(const cs_session *s, int id)
{
    return (size_t)s->batch * cs_shape_count(s->g->nodes[id].out);
}

/* ------------------------------------------------------------------------ */
/* Buffers                                                                  */
/* ------------------------------------------------------------------------ */

static cs_status acquire(cs_session *s, size_t floats, cs_buf **out)
{
    int best = -1;
    for (int i = 0; i < s->n_pool; i++) {
        if (s->pool[i].in_use || s->pool[i].floats < floats)
            continue;
        if (best < 0 || s->pool[i].floats < s->pool[best].floats)
            best = i;
    }
    if (best >= 0) {
        s->pool[best].in_use = 1;
        *out = s->pool[best].buf;
        return CS_OK;
    }
    if (s->n_pool == s->cap_pool) {
        int cap = s->cap_pool ? s->cap_pool * 2 : 16;
        pool_buf *pool = realloc(s->pool, (size_t)cap * sizeof *pool);
        if (!pool)
            return cs_error(CS_ERR_NO_MEMORY, "out of host memory for the buffer pool");
        s->pool = pool;
        s->cap_pool = cap;
    }
    cs_buf *buf = NULL;
    cs_status st = s->be->vt->alloc(s->be, floats, &buf);
    if (st != CS_OK)
        return st;
    s->pool[s->n_pool++] = (pool_buf){buf, floats, 1};
    *out = buf;
    return CS_OK;
}

static void give_back(cs_session *s, cs_buf *buf)
{
    for (int i = 0; i < s->n_pool; i++)
        if (s->pool[i].buf == buf)
            s->pool[i].in_use = 0;
}

/* Forget every held activation (a new input invalidates them). */
static void reset_activations(cs_session *s)
{
    for (int i = 0; i < s->g->n_nodes; i++)
        if (s->out[i] != s->input_buf)
            s->out[i] = NULL;
    for (int i = 0; i < s->n_pool; i++)
        s->pool[i].in_use = 0;
    s->progress = -1;
}

/* ------------------------------------------------------------------------ */
/* Lifetime                                                                 */
/* ------------------------------------------------------------------------ */

cs_status cs_session_create(cs_session **out, const cs_graph *g, cs_device_choice device, int batch,
                            unsigned flags)
{
    if (!out)
        return cs_error(CS_ERR_INVALID_ARG, "cs_session_create: out is NULL");
    *out = NULL;
    if (!g)
        return cs_error(CS_ERR_INVALID_ARG, "cs_session_create: graph is NULL");
    if (g->status != CS_OK)
        return cs_error(g->status == CS_OK ? CS_ERR_STATE : g->status,
                        "cs_session_create: graph '%s' has a build error (%s); fix the model first",
                        g->model, cs_status_name(g->status));
    if (g->input < 0 || g->n_nodes < 1)
        return cs_error(CS_ERR_STATE, "cs_session_create: graph '%s' has no input node", g->model);
    if (batch < 1 || batch > 65536)
        return cs_error(CS_ERR_INVALID_ARG, "cs_session_create: batch %d must be in 1..65536", batch);
    for (int i = 0; i < g->n_nodes; i++) {
        size_t per = cs_shape_count(g->nodes[i].out);
        if (per > SIZE_MAX / sizeof(float) / (size_t)batch)
            return cs_error(CS_ERR_SHAPE, "node '%s': batch %d x %zu floats overflows", g->nodes[i].name,
                            batch, per);
    }

    cs_status st = CS_OK;
    cs_session *s = calloc(1, sizeof *s);
    if (!s)
        return cs_error(CS_ERR_NO_MEMORY, "cs_session_create: out of memory");
    s->g = g;
    s->batch = batch;
    s->flags = flags;
    s->progress = -1;
    s->out = calloc((size_t)g->n_nodes, sizeof *s->out);
    s->last_use = malloc((size_t)g->n_nodes * sizeof *s->last_use);
    if (!s->out || !s->last_use) {
        st = cs_error(CS_ERR_NO_MEMORY, "cs_session_create: out of memory");
        goto cleanup;
    }
    s->root = malloc((size_t)g->n_nodes * sizeof *s->root);
    s->stale = calloc((size_t)g->n_nodes, sizeof *s->stale);
    if (!s->root || !s->stale) {
        st = cs_error(CS_ERR_NO_MEMORY, "cs_session_create: out of memory");
        goto cleanup;
    }
    for (int i = 0; i < g->n_nodes; i++)
        s->root[i] = i;
    /* Headless OpenCL sessions run a fused copy (BN folded into convs, ReLU in
     * their epilogue); stepping sessions keep every layer's own value, and the
     * reference backend stays the plain oracle. CONVSCOPE_FUSE=0 turns it off. */
    const char *fuse_env = getenv("CONVSCOPE_FUSE");
    if (!(flags & CS_SESSION_KEEP_ALL) && !device.reference && !(fuse_env && strcmp(fuse_env, "0") == 0)) {
        st = cs_graph_clone(g, &s->fused);
        if (st == CS_OK)
            st = cs_fuse_for_inference(s->fused, s->root, s->stale);
        if (st != CS_OK)
            goto cleanup;
        g = s->g = s->fused;
    }
    for (int i = 0; i < g->n_nodes; i++)
        s->last_use[i] = -1;
    int *consumers = calloc((size_t)g->n_nodes, sizeof *consumers);
    if (!consumers) {
        st = cs_error(CS_ERR_NO_MEMORY, "cs_session_create: out of memory");
        goto cleanup;
    }
    for (int i = 0; i < g->n_nodes; i++)
        for (int k = 0; k < g->nodes[i].n_inputs; k++) {
            int src = g->nodes[i].inputs[k];
            consumers[src]++;
            s->last_use[s->root[src]] = i; /* ascending i: the last consumer wins */
        }
    for (int i = 0; i < g->n_nodes; i++)
        if (consumers[i] == 0)
            s->last_use[s->root[i]] = g->n_nodes; /* holds a graph output: always kept */
    free(consumers);

    if (device.reference)
        st = cs_cpu_backend_create(&s->be);
    else
        st = cs_cl_backend_create(&s->be, device.index, (flags & CS_SESSION_PROFILE) ? 1 : 0);
    if (st != CS_OK)
        goto cleanup;
    st = s->be->vt->prepare(s->be, g, batch);
    if (st != CS_OK)
        goto cleanup;
    st = s->be->vt->alloc(s->be, node_floats(s, g->input), &s->input_buf);
    if (st != CS_OK)
        goto cleanup;
    *out = s;
    return CS_OK;

cleanup:
    cs_session_free(s);
    return st;
}

void cs_session_free(cs_session *s)
{
    if (!s)
        return;
    if (s->be) {
        for (int i = 0; i < s->n_pool; i++)
            s->be->vt->release(s->be, s->pool[i].buf);
        if (s->input_buf)
            s->be->vt->release(s->be, s->input_buf);
        s->be->vt->destroy(s->be);
    }
    free(s->pool);
    free(s->out);
    free(s->last_use);
    free(s->root);
    free(s->stale);
    cs_graph_free(s->fused);
    free(s);
}

/* ------------------------------------------------------------------------ */
/* Running                                                                  */
/* ------------------------------------------------------------------------ */

cs_status cs_session_set_input(cs_session *s, const float *data, size_t count)
{
    if (!s || !data)
        return cs_error(CS_ERR_INVALID_ARG, "cs_session_set_input: session or data is NULL");
    size_t want = node_floats(s, s->g->input);
    if (count != want) {
        cs_shape in = s->g->nodes[s->g->input].out;
        return cs_error(CS_ERR_SHAPE, "input has %zu floats but the model wants %d x %d x %d x %d = %zu",
                        count, s->batch, in.c, in.h, in.w, want);
    }
    reset_activations(s);
    s->have_input = 0;
    cs_status st = s->be->vt->write(s->be, s->input_buf, data, count);
    if (st != CS_OK)
        return cs_error_context(st, "writing the input (%zu floats) to %s", count,
                                s->be->vt->device_name(s->be));
    s->out[s->g->input] = s->input_buf;
    s->have_input = 1;
    return CS_OK;
}

static cs_status run_one(cs_session *s, int id)
{
    const cs_graph *g = s->g;
    const cs_node *n = &g->nodes[id];
    if (n->op == CS_OP_INPUT || s->root[id] != id)
        return CS_OK; /* the input is written by set_input; fused nodes share their root's buffer */
    cs_buf *in_stack[8] = {0};
    cs_buf **in = n->n_inputs <= 8 ? in_stack : malloc((size_t)n->n_inputs * sizeof *in);
    if (!in)
        return cs_error(CS_ERR_NO_MEMORY, "node '%s': out of memory", n->name);
    cs_status st = CS_OK;
    for (int k = 0; k < n->n_inputs; k++) {
        in[k] = s->out[s->root[n->inputs[k]]];
        if (!in[k]) {
            st = cs_error(CS_ERR_STATE, "node '%s': input '%s' is not available", n->name,
                          g->nodes[n->inputs[k]].name);
            goto cleanup;
        }
    }
    /* acquired before any input is given back, so it never aliases an input */
    cs_buf *out = NULL;
    st = acquire(s, node_floats(s, id), &out);
    if (st != CS_OK) {
        cs_error_context(st, "output of node %d '%s' (%s)", id, n->name, cs_op_name(n->op));
        goto cleanup;
    }
    s->out[id] = out;
    st = s->be->vt->run_node(s->be, g, id, s->batch, in, out);
    if (st != CS_OK) {
        /* not computed: its buffer goes back to the pool for the retry */
        give_back(s, out);
        s->out[id] = NULL;
        cs_error_context(st, "running node %d '%s' (%s) on %s", id, n->name, cs_op_name(n->op),
                         s->be->vt->device_name(s->be));
        goto cleanup;
    }
    if (!(s->flags & CS_SESSION_KEEP_ALL)) {
        for (int k = 0; k < n->n_inputs; k++) {
            int src = s->root[n->inputs[k]];
            if (s->last_use[src] == id && src != g->input && s->out[src]) {
                give_back(s, s->out[src]);
                s->out[src] = NULL;
            }
        }
    }
cleanup:
    if (in != in_stack)
        free(in);
    return st;
}

cs_status cs_session_step_to(cs_session *s, int node)
{
    if (!s)
        return cs_error(CS_ERR_INVALID_ARG, "cs_session_step_to: session is NULL");
    if (node < 0 || node >= s->g->n_nodes)
        return cs_error(CS_ERR_INVALID_ARG, "cs_session_step_to: node %d does not exist (graph has %d nodes)",
                        node, s->g->n_nodes);
    if (!s->have_input)
        return cs_error(CS_ERR_STATE, "cs_session_step_to: no input set (call cs_session_set_input first)");
    cs_status st = CS_OK;
    for (int id = s->progress + 1; id <= node; id++) {
        st = run_one(s, id);
        if (st != CS_OK)
            break;
        s->progress = id;
    }
    cs_status fin = s->be->vt->finish(s->be);
    return st != CS_OK ? st : fin;
}

cs_status cs_session_run(cs_session *s)
{
    if (!s)
        return cs_error(CS_ERR_INVALID_ARG, "cs_session_run: session is NULL");
    if (!s->have_input)
        return cs_error(CS_ERR_STATE, "cs_session_run: no input set (call cs_session_set_input first)");
    /* recompute everything: benchmarks run the same input many times */
    reset_activations(s);
    s->out[s->g->input] = s->input_buf;
    return cs_session_step_to(s, s->g->n_nodes - 1);
}

int cs_session_progress(const cs_session *s)
{
    return s ? s->progress : -1;
}

cs_status cs_session_read(cs_session *s, int node, float *dst, size_t count)
{
    if (!s || !dst)
        return cs_error(CS_ERR_INVALID_ARG, "cs_session_read: session or destination is NULL");
    if (node < 0 || node >= s->g->n_nodes)
        return cs_error(CS_ERR_INVALID_ARG, "cs_session_read: node %d does not exist (graph has %d nodes)",
                        node, s->g->n_nodes);
    const cs_node *n = &s->g->nodes[node];
    if (s->stale[node]) {
        int result = node; /* the layer whose value the fused kernel computes */
        for (int j = node + 1; j < s->g->n_nodes; j++)
            if (s->root[j] == s->root[node] && !s->stale[j])
                result = j;
        return cs_error(CS_ERR_STATE,
                        "node '%s' is not computed on its own in this headless session: it was fused "
                        "(batchnorm folding / ReLU epilogue) and the kernel computes '%s' directly; create the "
                        "session with CS_SESSION_KEEP_ALL to read every layer",
                        n->name, s->g->nodes[result].name);
    }
    if (node > s->progress || !s->out[s->root[node]]) {
        if (node > s->progress)
            return cs_error(CS_ERR_STATE, "node '%s' has not been computed yet (last computed: %d)", n->name,
                            s->progress);
        return cs_error(CS_ERR_STATE,
                        "node '%s': its output was released after use; create the session with "
                        "CS_SESSION_KEEP_ALL to read intermediate layers",
                        n->name);
    }
    size_t want = node_floats(s, node);
    if (count < want)
        return cs_error(CS_ERR_INVALID_ARG, "node '%s': destination holds %zu floats, output has %zu", n->name,
                        count, want);
    cs_status st = s->be->vt->read(s->be, s->out[s->root[node]], dst, want);
    if (st != CS_OK)
        cs_error_context(st, "reading node '%s' (%zu floats) from %s", n->name, want,
                         s->be->vt->device_name(s->be));
    return st;
}

double cs_session_node_ms(const cs_session *s, int node)
{
    if (!s || node < 0 || node >= s->g->n_nodes)
        return -1.0;
    return s->be->vt->node_ms(s->be, node);
}

const char *cs_session_device_name(const cs_session *s)
{
    return s ? s->be->vt->device_name(s->be) : "";
}
