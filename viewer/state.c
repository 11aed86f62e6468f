/* The viewer's state: opening a model (weights or seeded, like the CLI),
 * its session on the device, the input image, computing one node at a time
 * with a host copy and statistics of each output, colour ranges per scope,
 * and status-line messages. Host buffers grow when a node is first read and
 * are reused for every later input; nothing here allocates per frame.
 */
#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <SDL.h>

#include "state.h"

#define TICK_BUDGET_MS 30 /* compute this long per tick, then let the UI draw */

/* ------------------------------------------------------------------------ */
/* Messages, small queries                                                  */
/* ------------------------------------------------------------------------ */

void vw_state_message(vw_state *s, int error, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->msg, sizeof s->msg, fmt, ap);
    va_end(ap);
    s->msg_error = error;
    s->msg_until = error ? 0 : SDL_GetTicks() + VW_MSG_MS;
    if (s->msg_until == 0 && !error)
        s->msg_until = 1;
    fprintf(error ? stderr : stdout, "convscope-viewer: %s\n", s->msg);
    fflush(error ? stderr : stdout);
    s->redraw = 1;
}

const char *vw_scope_name(vw_scope scope)
{
    static const char *names[VW_SCOPE_COUNT] = {"channel", "layer", "block", "global"};
    return scope >= 0 && scope < VW_SCOPE_COUNT ? names[scope] : "?";
}

const vw_node_data *vw_state_data(const vw_state *s, int node)
{
    if (!s->m.g || node < 0 || node >= s->m.n_nodes)
        return NULL;
    return &s->m.nodes[node];
}

const float *vw_state_output(const vw_state *s, int node)
{
    const vw_node_data *d = vw_state_data(s, node);
    return d && d->valid ? d->host : NULL;
}

void vw_state_shape(const vw_state *s, int node, int *c, int *h, int *w)
{
    *c = *h = *w = 0;
    if (s->m.g)
        cs_graph_node_shape(s->m.g, node, c, h, w);
}

int vw_state_block_of_kind(const vw_state *s, int node, cs_block_kind kind)
{
    if (!s->m.g)
        return -1;
    int b = cs_graph_node_block(s->m.g, node);
    for (int guard = 0; b >= 0 && guard < 64; guard++) {
        cs_block_info info = {0};
        if (cs_graph_block(s->m.g, b, &info) != CS_OK)
            return -1;
        if (info.kind == kind)
            return b;
        b = info.parent;
    }
    return -1;
}

const char *vw_state_label(const vw_state *s, int i, char *buf, size_t size)
{
    const char *l = s->m.labels ? cs_labels_get(s->m.labels, i) : NULL;
    if (l)
        snprintf(buf, size, "%s", l);
    else
        snprintf(buf, size, "class %d", i);
    return buf;
}

/* ------------------------------------------------------------------------ */
/* Colour ranges                                                            */
/* ------------------------------------------------------------------------ */

static void widen(float *lo, float *hi, const vw_node_data *d)
{
    if (!d->valid)
        return;
    if (d->min < *lo)
        *lo = d->min;
    if (d->max > *hi)
        *hi = d->max;
}

vw_range vw_state_range(const vw_state *s, int node, int channel)
{
    vw_range rg = {0.0f, 1.0f, 0};
    const vw_node_data *d = vw_state_data(s, node);
    if (!d || !d->valid)
        return rg;
    float lo = d->min, hi = d->max;
    rg.diverging = d->min < 0.0f;
    if (s->scope == VW_SCOPE_CHANNEL && channel >= 0) {
        int c = 0, h = 0, w = 0;
        vw_state_shape(s, node, &c, &h, &w);
        if (channel < c) {
            const float *p = d->host + (size_t)channel * (size_t)h * (size_t)w;
            lo = FLT_MAX;
            hi = -FLT_MAX;
            for (size_t i = 0; i < (size_t)h * (size_t)w; i++) {
                if (!isfinite(p[i]))
                    continue;
                lo = p[i] < lo ? p[i] : lo;
                hi = p[i] > hi ? p[i] : hi;
            }
            if (lo > hi)
                lo = hi = 0.0f;
        }
    } else if (s->scope == VW_SCOPE_BLOCK) {
        int b = cs_graph_node_block(s->m.g, node);
        cs_block_info info = {0};
        if (b >= 0 && cs_graph_block(s->m.g, b, &info) == CS_OK)
            for (int i = info.first; i <= info.last && i < s->m.n_nodes; i++)
                widen(&lo, &hi, &s->m.nodes[i]);
    } else if (s->scope == VW_SCOPE_GLOBAL) {
        for (int i = 0; i < s->m.n_nodes; i++)
            widen(&lo, &hi, &s->m.nodes[i]);
    }
    if (rg.diverging) {
        float a = fmaxf(fabsf(lo), fabsf(hi));
        rg.lo = -(a > 0.0f ? a : 1.0f);
        rg.hi = a > 0.0f ? a : 1.0f;
    } else {
        rg.lo = 0.0f;
        rg.hi = hi > 0.0f ? hi : 1.0f;
    }
    return rg;
}

/* ------------------------------------------------------------------------ */
/* Model                                                                    */
/* ------------------------------------------------------------------------ */

static void model_free(vw_model *m)
{
    if (m->nodes)
        for (int i = 0; i < m->n_nodes; i++)
            free(m->nodes[i].host);
    free(m->nodes);
    free(m->geom);
    free(m->rf);
    free(m->rows);
    free(m->node_row);
    free(m->input);
    free(m->input_tmp);
    cs_session_free(m->sess);
    cs_labels_free(m->labels);
    cs_graph_free(m->g);
    memset(m, 0, sizeof *m);
}

static int block_depth(const cs_graph *g, int b)
{
    int depth = 0;
    for (int guard = 0; b >= 0 && guard < 64; guard++) {
        cs_block_info info = {0};
        if (cs_graph_block(g, b, &info) != CS_OK)
            break;
        depth++;
        b = info.parent;
    }
    return depth;
}

/* Rows of the layer list: each block's header just before its first node. */
static int build_rows(vw_model *m)
{
    m->rows = calloc((size_t)(m->n_nodes + m->n_blocks), sizeof *m->rows);
    m->node_row = calloc((size_t)m->n_nodes, sizeof *m->node_row);
    if (!m->rows || !m->node_row)
        return -1;
    int n = 0;
    for (int i = 0; i < m->n_nodes; i++) {
        for (int b = 0; b < m->n_blocks; b++) {
            cs_block_info info = {0};
            if (cs_graph_block(m->g, b, &info) == CS_OK && info.first == i && info.last >= info.first)
                m->rows[n++] = (vw_row){-1, b, block_depth(m->g, info.parent)};
        }
        m->node_row[i] = n;
        m->rows[n++] =
            (vw_row){i, cs_graph_node_block(m->g, i), block_depth(m->g, cs_graph_node_block(m->g, i))};
    }
    m->n_rows = n;
    return 0;
}

/* Classifier size from a weights file (fine-tuned models), 0 when unknown. */
static int classes_from_weights(const cs_model_info *info, const cs_weights *w)
{
    int ndim = 0;
    int64_t dims[8] = {0};
    if (!info->classifier || cs_weights_shape(w, info->classifier, &ndim, dims) != CS_OK || ndim < 1)
        return 0;
    return dims[0] > 0 && dims[0] <= 1000000 ? (int)dims[0] : 0;
}

/* Builds the graph with weights or seeded init (the logic of the CLI's
 * cli_model_open). 0: success; the message is set on failure. */
static int open_graph(vw_state *s, vw_model *m, const char *name, const char *weights)
{
    m->info = cs_model_find(name);
    if (!m->info) {
        cs_graph *probe = NULL;
        cs_model_build(&probe, name, NULL); /* the message lists the models */
        cs_graph_free(probe);
        vw_state_message(s, 1, "model '%s': %s", name, cs_last_error());
        return -1;
    }
    char shipped[1024] = {0};
    if (!weights) {
        char rel[256] = {0};
        snprintf(rel, sizeof rel, "weights/%s.safetensors", name);
        if (cs_asset_path(rel, shipped, sizeof shipped) == CS_OK)
            weights = shipped;
    }
    cs_weights *w = NULL;
    cs_model_options opts = {0, 0, 0};
    if (weights) {
        if (cs_weights_open(&w, weights) != CS_OK) {
            vw_state_message(s, 1, "weights '%s': %s", weights, cs_last_error());
            return -1;
        }
        opts.num_classes = classes_from_weights(m->info, w);
    }
    if (cs_model_build(&m->g, name, &opts) != CS_OK) {
        vw_state_message(s, 1, "model '%s': %s", name, cs_last_error());
        cs_weights_close(w);
        return -1;
    }
    cs_status st = CS_OK;
    if (w) {
        st = cs_graph_load_weights(m->g, w, m->info->ignore, NULL);
        if (st == CS_OK) {
            m->trained = 1;
            snprintf(m->weights, sizeof m->weights, "%s", weights);
        } else {
            vw_state_message(s, 1, "weights '%s': %s", weights, cs_last_error());
        }
        cs_weights_close(w);
    } else {
        st = cs_graph_init_seeded(m->g, 0);
        if (st != CS_OK)
            vw_state_message(s, 1, "init: %s", cs_last_error());
    }
    return st == CS_OK ? 0 : -1;
}

static int open_session(vw_state *s, vw_model *m)
{
    const unsigned flags = CS_SESSION_KEEP_ALL | CS_SESSION_PROFILE;
    if (cs_session_create(&m->sess, m->g, s->device, 1, flags) == CS_OK) {
        snprintf(m->device, sizeof m->device, "%s", cs_session_device_name(m->sess));
        return 0;
    }
    if (s->device.reference) {
        vw_state_message(s, 1, "session: %s", cs_last_error());
        return -1;
    }
    char why[512] = {0};
    snprintf(why, sizeof why, "%s", cs_last_error());
    cs_device_choice cpu = {1, 0};
    if (cs_session_create(&m->sess, m->g, cpu, 1, flags) != CS_OK) {
        vw_state_message(s, 1, "session: %s", cs_last_error());
        return -1;
    }
    s->device = cpu;
    snprintf(m->device, sizeof m->device, "%s", cs_session_device_name(m->sess));
    vw_state_message(s, 1, "OpenCL device unusable (%s); running on the CPU reference backend", why);
    return 0;
}

int vw_state_open_model(vw_state *s, const char *name, const char *weights)
{
    vw_model m = {0};
    s->msg[0] = '\0'; /* an old error does not belong to the new model */
    s->msg_error = 0;
    s->msg_until = 0;
    if (open_graph(s, &m, name, weights) != 0 || open_session(s, &m) != 0) {
        model_free(&m);
        return -1;
    }
    if (cs_labels_builtin(&m.labels, m.info->labels) != CS_OK)
        m.labels = NULL;
    m.n_nodes = cs_graph_node_count(m.g);
    m.n_blocks = cs_graph_block_count(m.g);
    cs_graph_node_shape(m.g, cs_graph_input(m.g), &m.in_c, &m.in_h, &m.in_w);
    size_t in_count = (size_t)m.in_c * (size_t)m.in_h * (size_t)m.in_w;
    m.nodes = calloc((size_t)m.n_nodes, sizeof *m.nodes);
    m.geom = calloc((size_t)m.n_nodes, sizeof *m.geom);
    m.rf = calloc((size_t)m.n_nodes * 4, sizeof *m.rf);
    m.input = calloc(in_count, sizeof *m.input);
    m.input_tmp = calloc(in_count, sizeof *m.input_tmp);
    if (!m.nodes || !m.geom || !m.rf || !m.input || !m.input_tmp || build_rows(&m) != 0) {
        vw_state_message(s, 1, "model '%s': out of memory", name);
        model_free(&m);
        return -1;
    }
    vw_rfield_prepare(&m);

    model_free(&s->m);
    s->m = m;
    s->cursor = m.n_nodes > 1 ? 1 : 0;
    s->zoom = -1;
    s->page = 0;
    s->hover_channel = -1;
    s->list_scroll = 0;
    s->list_follow = 1;
    s->playing = 0;
    s->compute_failed = 0;
    s->data_gen++;
    s->redraw = 1;
    vw_state_set_image(s, s->image_user ? s->image_path : NULL);
    return 0;
}

void vw_state_init(vw_state *s)
{
    memset(s, 0, sizeof *s);
    s->device.reference = 0;
    s->device.index = 0;
    s->ui_scale = 1.0f;
    s->scope = VW_SCOPE_LAYER;
    s->zoom = -1;
    s->hover_channel = -1;
    s->hover_y = s->hover_x = -1;
    s->list_follow = 1;
    s->picker_sel = 0;
    s->redraw = 1;
}

void vw_state_free(vw_state *s)
{
    model_free(&s->m);
}

/* ------------------------------------------------------------------------ */
/* Input image                                                              */
/* ------------------------------------------------------------------------ */

static void invalidate(vw_state *s)
{
    for (int i = 0; i < s->m.n_nodes; i++)
        s->m.nodes[i].valid = 0;
    s->m.pred.valid = 0;
    s->m.max_ms = 0.0;
    s->compute_failed = 0;
    s->data_gen++;
    s->redraw = 1;
}

int vw_state_set_image(vw_state *s, const char *path)
{
    vw_model *m = &s->m;
    if (!m->g)
        return -1;
    char def[1024] = {0};
    if (!path) {
        const char *rel = strcmp(m->info->labels, "fashion-mnist") == 0 ? "images/fashion-ankle-boot.png"
                                                                        : "images/cat.jpg";
        if (cs_asset_path(rel, def, sizeof def) != CS_OK)
            snprintf(def, sizeof def, "assets/%s", rel);
        path = def;
    }
    char chosen[1024] = {0};
    snprintf(chosen, sizeof chosen, "%s", path);
    size_t count = (size_t)m->in_c * (size_t)m->in_h * (size_t)m->in_w;
    int ok = cs_image_load(chosen, m->info, m->in_h, m->in_w, m->input_tmp, count) == CS_OK;
    if (ok) {
        memcpy(m->input, m->input_tmp, count * sizeof *m->input);
        snprintf(s->image_path, sizeof s->image_path, "%s", chosen);
        s->image_ok = 1;
        m->have_input = 1;
    } else {
        vw_state_message(s, 1, "%s", cs_last_error());
        if (m->have_input)
            return -1; /* keep what is on screen */
        memset(m->input, 0, count * sizeof *m->input);
        snprintf(s->image_path, sizeof s->image_path, "%s", chosen);
        s->image_ok = 0;
        m->have_input = 1;
    }
    if (cs_session_set_input(m->sess, m->input, count) != CS_OK) {
        vw_state_message(s, 1, "input: %s", cs_last_error());
        s->compute_failed = 1;
        return -1;
    }
    invalidate(s);
    return ok ? 0 : -1;
}

/* ------------------------------------------------------------------------ */
/* Computing                                                                */
/* ------------------------------------------------------------------------ */

static void node_stats(vw_node_data *d, size_t n)
{
    float lo = FLT_MAX, hi = -FLT_MAX;
    double sum = 0.0, sq = 0.0;
    size_t zeros = 0, finite = 0;
    for (size_t i = 0; i < n; i++) {
        float v = d->host[i];
        if (!isfinite(v))
            continue;
        finite++;
        lo = v < lo ? v : lo;
        hi = v > hi ? v : hi;
        sum += v;
        sq += (double)v * v;
        zeros += v == 0.0f;
    }
    if (finite == 0)
        lo = hi = 0.0f;
    double mean = finite ? sum / (double)finite : 0.0;
    double var = finite ? sq / (double)finite - mean * mean : 0.0;
    d->min = lo;
    d->max = hi;
    d->mean = (float)mean;
    d->std = (float)sqrt(var > 0.0 ? var : 0.0);
    d->zeros = n ? (float)((double)zeros / (double)n) : 0.0f;
    memset(d->hist, 0, sizeof d->hist);
    float span = hi - lo;
    for (size_t i = 0; i < n; i++) {
        float v = d->host[i];
        if (!isfinite(v))
            continue;
        int b = span > 0.0f ? (int)((v - lo) / span * (float)VW_HIST_BINS) : 0;
        b = b < 0 ? 0 : (b >= VW_HIST_BINS ? VW_HIST_BINS - 1 : b);
        d->hist[b]++;
    }
    d->hist_max = 1;
    for (int b = 0; b < VW_HIST_BINS; b++)
        d->hist_max = d->hist[b] > d->hist_max ? d->hist[b] : d->hist_max;
}

/* Top-k of the last node: probabilities (softmax output, or softmax of the
 * logits here), or RBF distances where the smallest wins. */
static void predict(vw_model *m, int node)
{
    vw_prediction *p = &m->pred;
    memset(p, 0, sizeof *p);
    int c = 0, h = 0, w = 0;
    cs_graph_node_shape(m->g, node, &c, &h, &w);
    const float *v = m->nodes[node].host;
    if (h != 1 || w != 1 || c < 1 || !v)
        return;
    cs_op op = cs_graph_node_op(m->g, node);
    p->distances = op == CS_OP_RBF;
    p->from_logits = op != CS_OP_SOFTMAX && op != CS_OP_RBF;
    float vmax = -FLT_MAX, sum = 0.0f;
    for (int i = 0; i < c; i++)
        vmax = v[i] > vmax ? v[i] : vmax;
    if (p->from_logits)
        for (int i = 0; i < c; i++)
            sum += expf(v[i] - vmax);
    int k = c < VW_TOPK ? c : VW_TOPK;
    for (int j = 0; j < k; j++) {
        int best = -1;
        for (int i = 0; i < c; i++) {
            int taken = 0;
            for (int q = 0; q < j; q++)
                taken |= p->index[q] == i;
            if (taken || !isfinite(v[i]))
                continue;
            if (best < 0 || (p->distances ? v[i] < v[best] : v[i] > v[best]))
                best = i;
        }
        if (best < 0)
            break;
        p->index[j] = best;
        p->value[j] = p->from_logits ? expf(v[best] - vmax) / sum : v[best];
        p->count = j + 1;
    }
    for (int j = 0; j < p->count; j++) {
        if (p->distances)
            p->bar[j] = p->value[j] > 0.0f ? p->value[0] / p->value[j] : 1.0f;
        else
            p->bar[j] = p->value[j] < 0.0f ? 0.0f : (p->value[j] > 1.0f ? 1.0f : p->value[j]);
    }
    p->valid = p->count > 0;
}

/* Reads a freshly computed node into its host copy (grown once). */
static int read_node(vw_state *s, int node)
{
    vw_model *m = &s->m;
    vw_node_data *d = &m->nodes[node];
    int c = 0, h = 0, w = 0;
    cs_graph_node_shape(m->g, node, &c, &h, &w);
    size_t n = (size_t)c * (size_t)h * (size_t)w;
    if (n > d->cap) {
        float *p = realloc(d->host, n * sizeof *p);
        if (!p) {
            vw_state_message(s, 1, "node '%s': out of host memory for %zu values",
                             cs_graph_node_name(m->g, node), n);
            return -1;
        }
        d->host = p;
        d->cap = n;
    }
    if (cs_session_read(m->sess, node, d->host, n) != CS_OK) {
        vw_state_message(s, 1, "reading '%s': %s", cs_graph_node_name(m->g, node), cs_last_error());
        return -1;
    }
    node_stats(d, n);
    d->valid = 1;
    double ms = cs_session_node_ms(m->sess, node);
    if (ms > m->max_ms)
        m->max_ms = ms;
    if (node == m->n_nodes - 1)
        predict(m, node);
    return 0;
}

int vw_state_busy(const vw_state *s)
{
    return s->m.sess && !s->compute_failed && s->cursor > cs_session_progress(s->m.sess);
}

static int step_one(vw_state *s)
{
    int id = cs_session_progress(s->m.sess) + 1;
    if (cs_session_step_to(s->m.sess, id) != CS_OK) {
        vw_state_message(s, 1, "running '%s': %s", cs_graph_node_name(s->m.g, id), cs_last_error());
        s->compute_failed = 1;
        s->playing = 0;
        return -1;
    }
    if (read_node(s, id) != 0) {
        s->compute_failed = 1;
        s->playing = 0;
        return -1;
    }
    return 0;
}

void vw_state_finish(vw_state *s)
{
    while (vw_state_busy(s))
        if (step_one(s) != 0)
            break;
}

void vw_state_request_model(vw_state *s, const char *name)
{
    snprintf(s->pending_model, sizeof s->pending_model, "%s", name);
    s->pending_shown = 0;
    s->playing = 0;
    snprintf(s->msg, sizeof s->msg, "opening %s ...", name);
    s->msg_error = 0;
    s->msg_until = 0;
    s->redraw = 1;
}

int vw_state_tick(vw_state *s, uint32_t now)
{
    int changed = 0;
    if (s->pending_model[0]) {
        if (!s->pending_shown) {
            s->pending_shown = 1;
            return 1;
        }
        char name[64] = {0};
        snprintf(name, sizeof name, "%s", s->pending_model);
        s->pending_model[0] = '\0';
        s->msg[0] = '\0';
        vw_state_open_model(s, name, NULL);
        return 1;
    }
    if (vw_state_busy(s)) {
        uint32_t start = SDL_GetTicks();
        while (vw_state_busy(s) && SDL_GetTicks() - start < TICK_BUDGET_MS)
            if (step_one(s) != 0)
                break;
        return 1;
    }
    if (s->playing && (int32_t)(now - s->play_due) >= 0) {
        if (s->cursor < s->m.n_nodes - 1) {
            vw_state_goto(s, s->cursor + 1);
            s->play_due = now + VW_PLAY_MS;
        } else {
            s->playing = 0;
        }
        changed = 1;
    }
    if (s->msg_until && (int32_t)(now - s->msg_until) >= 0) {
        s->msg[0] = '\0';
        s->msg_until = 0;
        changed = 1;
    }
    return changed;
}

int vw_state_wait_ms(const vw_state *s, uint32_t now)
{
    if (vw_state_busy(s) || s->pending_model[0])
        return 0;
    int wait = -1;
    if (s->playing) {
        int32_t d = (int32_t)(s->play_due - now);
        wait = d > 0 ? d : 0;
    }
    if (s->msg_until) {
        int32_t d = (int32_t)(s->msg_until - now);
        d = d > 0 ? d : 0;
        wait = wait < 0 || d < wait ? d : wait;
    }
    return wait;
}

void vw_state_goto(vw_state *s, int node)
{
    if (!s->m.g)
        return;
    node = node < 0 ? 0 : (node >= s->m.n_nodes ? s->m.n_nodes - 1 : node);
    if (node != s->cursor) {
        s->zoom = -1;
        s->page = 0;
        s->hover_channel = -1;
    }
    s->cursor = node;
    s->list_follow = 1;
    s->redraw = 1;
}
