/* Block panels for DenseNet. Inside a dense block: the concatenated state
 * growing by k channels per layer (k0 + i*k) as stacked columns coloured by
 * the layer that produced each slice, the current state as one stacked bar,
 * and its feature maps framed in their producer's colour. At a transition:
 * the compression theta (channels in -> out) and the 2x2 average pool.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "panel.h"

#define CELLS_MAX 768 /* maps shown at most in the state grid */
#define MIN_CELL 18   /* smallest map side in the grid, at scale 1 */

enum { SLOT_GRID = VW_SLOT_PANEL, SLOT_IN, SLOT_CONV, SLOT_POOL };

/* Producer colours: the block input is grey, layers cycle through these. */
static const vw_color palette[] = {
    {78, 121, 167, 255},  {242, 142, 43, 255},  {89, 161, 79, 255},   {225, 87, 89, 255},
    {118, 183, 178, 255}, {237, 201, 72, 255},  {176, 122, 161, 255}, {255, 157, 167, 255},
    {156, 117, 95, 255},  {160, 210, 100, 255},
};
#define PALETTE_N ((int)(sizeof palette / sizeof palette[0]))

static vw_color producer_color(int j)
{
    if (j <= 0)
        return vw_rgba(120, 126, 140, 255);
    return palette[(j - 1) % PALETTE_N];
}

/* ------------------------------------------------------------------------ */
/* Structure                                                                */
/* ------------------------------------------------------------------------ */

typedef struct dense_nodes {
    int n;          /* layers in the block */
    const int *ins; /* the output concat's inputs: block input, then each layer's output (n + 1) */
    int layer;      /* the layer the cursor is in, 1..n; n + 1 at the block's output */
    int state;      /* the state the cursor's layer reads: a concat, or the block input */
    int m;          /* layers included in that state */
    int shown;      /* layers shown: m, or the cursor's layer at its output node */
    int total;      /* channels in the state shown */
} dense_nodes;

/* The DENSE_CONCAT node of the block with role index m, -1 when none. */
static int concat_with(const vw_state *s, const cs_block_info *info, int m)
{
    for (int i = info->first; i <= info->last; i++) {
        int idx = 0;
        if (cs_graph_node_role(s->m.g, i, &idx) == CS_ROLE_DENSE_CONCAT && idx == m)
            return i;
    }
    return -1;
}

static int find_dense(const vw_state *s, int block, dense_nodes *d)
{
    cs_block_info info = {0};
    if (cs_graph_block(s->m.g, block, &info) != CS_OK)
        return -1;
    int final = -1, best = -1;
    for (int i = info.first; i <= info.last; i++) {
        int idx = 0;
        if (cs_graph_node_role(s->m.g, i, &idx) == CS_ROLE_DENSE_CONCAT && idx >= best) {
            best = idx;
            final = i;
        }
    }
    if (final < 0)
        return -1;
    d->n = cs_graph_node_inputs(s->m.g, final, &d->ins) - 1;
    if (d->n < 1)
        return -1;
    d->layer = d->n + 1;
    for (int j = 1; j <= d->n; j++) {
        cs_block_info li = {0};
        int lb = cs_graph_node_block(s->m.g, d->ins[j]);
        if (lb >= 0 && lb != block && cs_graph_block(s->m.g, lb, &li) == CS_OK && s->cursor >= li.first &&
            s->cursor <= li.last) {
            d->layer = j;
            break;
        }
    }
    int idx = 0;
    if (cs_graph_node_role(s->m.g, s->cursor, &idx) == CS_ROLE_DENSE_CONCAT && s->cursor >= info.first &&
        s->cursor <= info.last) {
        d->state = s->cursor;
        d->m = idx;
    } else {
        d->m = d->layer - 1;
        d->state = d->m == 0 ? d->ins[0] : concat_with(s, &info, d->m);
        if (d->state < 0) {
            d->state = final;
            d->m = d->n;
        }
    }
    /* at a layer's output its k new maps are shown too: the state the next layer reads */
    d->shown = d->layer <= d->n && s->cursor == d->ins[d->layer] ? d->layer : d->m;
    d->total = 0;
    for (int j = 0; j <= d->shown; j++) {
        int c = 0, h = 0, w = 0;
        vw_state_shape(s, d->ins[j], &c, &h, &w);
        d->total += c;
    }
    return 0;
}

static int applies_dense(const vw_state *s, int block)
{
    dense_nodes d = {0};
    return find_dense(s, block, &d) == 0;
}

static int channels_of(const vw_state *s, int node)
{
    int c = 0, h = 0, w = 0;
    vw_state_shape(s, node, &c, &h, &w);
    return c;
}

/* ------------------------------------------------------------------------ */
/* Stacked bars                                                             */
/* ------------------------------------------------------------------------ */

/* One horizontal bar with a slice per node ins[0..n-1] (its channels, in
 * producer j's colour), `total` channels filling a.w; labelled when they fit. */
static void stacked_bar(vw_render *r, vw_rect a, const int *ins, const vw_state *s, int n, int total,
                        int labels)
{
    const vw_theme *t = vw_render_theme(r);
    int lh = vw_line_h(r, VW_FONT_SMALL);
    int acc = 0;
    for (int j = 0; j < n; j++) {
        int c = channels_of(s, ins[j]);
        int x0 = a.x + (int)((int64_t)acc * a.w / (total > 0 ? total : 1));
        acc += c;
        int x1 = a.x + (int)((int64_t)acc * a.w / (total > 0 ? total : 1));
        vw_fill(r, (vw_rect){x0, a.y, x1 - x0 > 1 ? x1 - x0 : 1, a.h}, producer_color(j));
        if (x1 - x0 >= 3 && n > 1)
            vw_line(r, x1 - 1, a.y, x1 - 1, a.y + a.h - 1, t->panel);
        if (!labels)
            continue;
        char buf[32] = {0};
        if (j == 0)
            snprintf(buf, sizeof buf, "in %d", c);
        else
            snprintf(buf, sizeof buf, "+%d", c);
        int tw = vw_text_width(r, VW_FONT_SMALL, buf);
        if (tw + lh / 2 <= x1 - x0)
            vw_text(r, VW_FONT_SMALL, x0 + (x1 - x0 - tw) / 2, a.y + (a.h - lh) / 2, vw_rgba(15, 15, 20, 255),
                    buf);
    }
}

/* Columns: the state after 0..n layers, each stacked by producer; states
 * after the current one drawn as outlines. */
static void growth_chart(const vw_state *s, vw_render *r, vw_rect a, const dense_nodes *d)
{
    const vw_theme *t = vw_render_theme(r);
    int lh = vw_line_h(r, VW_FONT_SMALL);
    int total = 0;
    for (int j = 0; j <= d->n; j++)
        total += channels_of(s, d->ins[j]);
    char buf[96] = {0};
    snprintf(buf, sizeof buf, "%d", total);
    int axis_w = vw_text_width(r, VW_FONT_SMALL, buf) + lh / 3;
    vw_rect p = {a.x + axis_w, a.y + lh / 2, a.w - axis_w, a.h - lh * 2 - lh / 2};
    if (p.w < d->n + 1 || p.h < lh || total <= 0)
        return;
    vw_text_right(r, VW_FONT_SMALL, p.x - lh / 4, p.y - lh / 2, t->dim, buf);
    vw_text_right(r, VW_FONT_SMALL, p.x - lh / 4, p.y + p.h - lh, t->dim, "0");
    vw_line(r, p.x, p.y + p.h, p.x + p.w - 1, p.y + p.h, t->border);
    int cols = d->n + 1;
    for (int j = 0; j < cols; j++) {
        int x0 = p.x + (int)((int64_t)j * p.w / cols);
        int x1 = p.x + (int)((int64_t)(j + 1) * p.w / cols);
        int gap = x1 - x0 >= 4 ? 1 : 0;
        int acc = 0;
        for (int i = 0; i <= j; i++) {
            int c = channels_of(s, d->ins[i]);
            int y1 = p.y + p.h - (int)((int64_t)acc * p.h / total);
            acc += c;
            int y0 = p.y + p.h - (int)((int64_t)acc * p.h / total);
            vw_color col = producer_color(i);
            if (j > d->shown) /* the layer being computed, then the future */
                col.a = (j == d->shown + 1 && i == j && d->layer == j) ? 150 : 40;
            vw_fill(r, (vw_rect){x0, y0, x1 - x0 - gap > 0 ? x1 - x0 - gap : 1, y1 - y0 > 0 ? y1 - y0 : 1},
                    col);
        }
        if (j == d->shown) {
            int y_top = p.y + p.h - (int)((int64_t)acc * p.h / total);
            vw_frame(r, (vw_rect){x0 - 1, y_top - 1, x1 - x0 - gap + 2, p.y + p.h - y_top + 2}, t->accent, 1);
        }
    }
    /* x axis: the layer count under the first, current and last columns */
    int ty = p.y + p.h + 2;
    int cx = p.x + (int)(((int64_t)d->shown * 2 + 1) * p.w / (cols * 2));
    snprintf(buf, sizeof buf, "%d", d->shown);
    int cw = vw_text_width(r, VW_FONT_SMALL, buf);
    int lx = cx - cw / 2;
    vw_text(r, VW_FONT_SMALL, lx, ty, t->accent, buf);
    int w0 = vw_text_width(r, VW_FONT_SMALL, "0");
    if (d->shown != 0 && p.x + w0 + lh / 2 < lx)
        vw_text(r, VW_FONT_SMALL, p.x, ty, t->dim, "0");
    snprintf(buf, sizeof buf, "%d", d->n);
    int nw = vw_text_width(r, VW_FONT_SMALL, buf);
    if (d->shown != d->n && lx + cw + lh / 2 < p.x + p.w - nw)
        vw_text_right(r, VW_FONT_SMALL, p.x + p.w, ty, t->dim, buf);
    vw_text_fit(r, VW_FONT_SMALL, p.x, ty + lh, p.w, t->dim, "channels after each layer");
}

/* ------------------------------------------------------------------------ */
/* The state's maps, framed by producer                                      */
/* ------------------------------------------------------------------------ */

/* Chosen cells: the slice (producer) and the channel within it. */
static int cell_ch[CELLS_MAX], cell_src[CELLS_MAX];

/* Picks which channels to show: all when they fit at MIN_CELL or larger,
 * else the first q of every slice. Returns the cell count; *side the cell side. */
static int choose_cells(const vw_state *s, const dense_nodes *d, vw_rect g, int gut, int min_cell, int *side,
                        int *per_slice)
{
    int total = d->total;
    int slices = d->shown + 1;
    /* the largest square side that fits every channel */
    int lo = 1, hi = g.w < g.h ? g.w : g.h;
    while (lo < hi) {
        int mid = (lo + hi + 1) / 2;
        int fit = ((g.w + gut) / (mid + gut)) * ((g.h + gut) / (mid + gut));
        if (fit >= total)
            lo = mid;
        else
            hi = mid - 1;
    }
    int q = 0;
    if (lo >= min_cell && total <= CELLS_MAX) {
        *side = lo;
    } else {
        *side = min_cell;
        int room = ((g.w + gut) / (min_cell + gut)) * ((g.h + gut) / (min_cell + gut));
        room = room < CELLS_MAX ? room : CELLS_MAX;
        q = room / slices > 0 ? room / slices : 1;
    }
    *per_slice = q;
    int n = 0;
    for (int j = 0; j <= d->shown && n < CELLS_MAX; j++) {
        int c = channels_of(s, d->ins[j]);
        int take = q > 0 && q < c ? q : c;
        for (int i = 0; i < take && n < CELLS_MAX; i++) {
            cell_ch[n] = i;
            cell_src[n] = j;
            n++;
        }
    }
    return n;
}

static void state_grid(const vw_state *s, vw_render *r, vw_rect g, const dense_nodes *d)
{
    const vw_theme *t = vw_render_theme(r);
    int lh = vw_line_h(r, VW_FONT_SMALL);
    /* the slices are the outputs of the concat's inputs: the same values, computed earlier */
    int ready = 1;
    float amax = 0.0f, hi = 0.0f;
    int negative = 0;
    for (int j = 0; j <= d->shown; j++) {
        const vw_node_data *nd = vw_state_data(s, d->ins[j]);
        if (!vw_state_output(s, d->ins[j])) {
            ready = 0;
            break;
        }
        amax = fmaxf(amax, fmaxf(fabsf(nd->min), fabsf(nd->max)));
        hi = fmaxf(hi, nd->max);
        negative |= nd->min < 0.0f;
    }
    if (!ready) {
        vw_text_wrap(r, VW_FONT_SMALL, g.x, g.y + lh / 2, g.w, t->dim,
                     "not computed yet: step on to fill in this state's maps", 1);
        return;
    }
    float k = vw_render_scale(r);
    int ft = k >= 1.5f ? 3 : 2; /* producer frame */
    int gut = ft + 1;
    vw_rect grid = {g.x, g.y, g.w, g.h - lh - lh / 4};
    int side = 0, q = 0;
    int n = choose_cells(s, d, grid, gut, (int)((float)MIN_CELL * k), &side, &q);
    int c = d->total, h = 0, w = 0, c0 = 0;
    vw_state_shape(s, d->ins[0], &c0, &h, &w);
    int cols = (grid.w + gut) / (side + gut);
    if (n <= 0 || cols <= 0 || h <= 0 || w <= 0)
        return;
    int rows = (n + cols - 1) / cols;
    /* the atlas: cols x rows maps, rebuilt when the data or the choice changes */
    /* one scale for every slice, as for the concat itself */
    amax = amax > 0.0f ? amax : 1.0f;
    vw_range rg = negative ? (vw_range){-amax, amax, 1} : (vw_range){0.0f, hi > 0.0f ? hi : 1.0f, 0};
    int64_t kv[8] = {(int64_t)s->data_gen, d->ins[0], d->shown, n, cols, q, 0xde, 2};
    uint64_t key = vw_key(kv, 8);
    if (vw_image_key(r, SLOT_GRID) != key) {
        uint32_t *px = vw_image_pixels(r, SLOT_GRID, cols * w, rows * h);
        if (!px)
            return;
        size_t hw = (size_t)h * (size_t)w;
        for (int i = 0; i < n; i++)
            vw_colorize(vw_state_output(s, d->ins[cell_src[i]]) + (size_t)cell_ch[i] * hw, h, w, rg,
                        px + (size_t)(i / cols) * (size_t)h * (size_t)(cols * w) +
                            (size_t)(i % cols) * (size_t)w,
                        cols * w);
        vw_image_upload(r, SLOT_GRID, key);
    }
    int used_w = cols * (side + gut) - gut;
    int x0 = grid.x + (grid.w - used_w) / 2;
    for (int i = 0; i < n; i++) {
        vw_rect cell = {x0 + (i % cols) * (side + gut), grid.y + (i / cols) * (side + gut), side, side};
        vw_fill(r, cell, producer_color(cell_src[i]));
        vw_image_draw(r, SLOT_GRID, (vw_rect){(i % cols) * w, (i / cols) * h, w, h}, vw_inset(cell, ft));
    }
    char buf[160] = {0};
    if (q > 0)
        snprintf(buf, sizeof buf, "the first %d channel%s of each slice, framed in its producer's colour", q,
                 q == 1 ? "" : "s");
    else
        snprintf(buf, sizeof buf, "all %d channels, framed in their producer's colour (grey: block input)",
                 c);
    int gy = grid.y + rows * (side + gut) + lh / 4;
    vw_text_fit(r, VW_FONT_SMALL, g.x, gy < g.y + g.h - lh ? gy : g.y + g.h - lh, g.w, t->dim, buf);
}

static void draw_dense_content(vw_state *s, vw_render *r, vw_rect area, int block)
{
    const vw_theme *t = vw_render_theme(r);
    dense_nodes d = {0};
    if (find_dense(s, block, &d) != 0)
        return;
    cs_block_info info = {0};
    cs_graph_block(s->m.g, block, &info);
    int k0 = channels_of(s, d.ins[0]);
    int k = channels_of(s, d.ins[1]);
    char title[256] = {0};
    snprintf(title, sizeof title, "dense block %s:  k0 = %d, growth k = %d, %d layers: %d + %d x %d = %d",
             info.name, k0, k, d.n, k0, d.n, k, k0 + d.n * k);
    vw_rect a = vw_panel_box(r, area, title);
    int lh = vw_line_h(r, VW_FONT_SMALL);
    int lhn = vw_line_h(r, VW_FONT_NORMAL);

    char line[256] = {0};
    int cs = d.total;
    if (d.shown == d.layer && d.layer < d.n)
        snprintf(line, sizeof line,
                 "Layer %d adds k = %d maps: %d + %d x %d = %d channels go on to layer %d.", d.layer,
                 channels_of(s, d.ins[d.layer]), k0, d.shown, k, cs, d.layer + 1);
    else if (d.shown == d.layer)
        snprintf(line, sizeof line,
                 "The last layer adds k = %d maps: %d + %d x %d = %d channels leave the block.",
                 channels_of(s, d.ins[d.layer]), k0, d.shown, k, cs);
    else if (d.layer <= d.n && s->cursor != d.state && d.m == 0)
        snprintf(line, sizeof line, "Layer 1 reads the block input's %d channels and adds k = %d new ones.",
                 cs, channels_of(s, d.ins[1]));
    else if (d.layer <= d.n && s->cursor != d.state)
        snprintf(line, sizeof line, "Layer %d reads %d + %d x %d = %d channels and adds k = %d new ones.",
                 d.layer, k0, d.m, k, cs, channels_of(s, d.ins[d.layer]));
    else if (d.m < d.n)
        snprintf(line, sizeof line, "The state after %d layer%s: %d + %d x %d = %d channels.", d.m,
                 d.m == 1 ? "" : "s", k0, d.m, k, cs);
    else
        snprintf(line, sizeof line, "The block's output: %d + %d x %d = %d channels, on to the transition.",
                 k0, d.n, k, cs);
    vw_text_fit(r, VW_FONT_NORMAL, a.x, a.y, a.w, t->text, line);
    int top = lhn + lh / 3;
    vw_rect body = {a.x, a.y + top, a.w, a.h - top};
    int left_w = body.w * 36 / 100;
    int gap = lh;
    growth_chart(s, r, (vw_rect){body.x, body.y, left_w, body.h}, &d);

    vw_rect rt = {body.x + left_w + gap, body.y, body.w - left_w - gap, body.h};
    char buf[160] = {0};
    snprintf(buf, sizeof buf, "%d channels, sliced by the layer that made them", cs);
    vw_text_fit(r, VW_FONT_SMALL, rt.x, rt.y, rt.w, t->accent, buf);
    int bar_h = lh + lh / 3;
    stacked_bar(r, (vw_rect){rt.x, rt.y + lh + 2, rt.w, bar_h}, d.ins, s, d.shown + 1, d.total, 1);
    int gy = rt.y + lh + 2 + bar_h + lh / 2;
    state_grid(s, r, (vw_rect){rt.x, gy, rt.w, rt.y + rt.h - gy}, &d);
}

/* ------------------------------------------------------------------------ */
/* Transition                                                               */
/* ------------------------------------------------------------------------ */

typedef struct transition_nodes {
    int in, conv, pool;
} transition_nodes;

static struct {
    uint64_t key;
    int ready;
    float *mean; /* mean over the input's channels */
    size_t cap;
    float mean_max;
    vw_range ch0; /* scale of the conv's channel 0, shared with the pooled channel */
} tcache;

static int find_transition(const vw_state *s, int block, transition_nodes *tn)
{
    cs_block_info info = {0};
    if (cs_graph_block(s->m.g, block, &info) != CS_OK)
        return -1;
    tn->conv = tn->pool = -1;
    for (int i = info.first; i <= info.last; i++) {
        cs_op op = cs_graph_node_op(s->m.g, i);
        if (op == CS_OP_CONV2D && tn->conv < 0)
            tn->conv = i;
        else if (op == CS_OP_AVGPOOL && tn->pool < 0)
            tn->pool = i;
    }
    const int *ins = NULL;
    if (tn->conv < 0 || tn->pool < 0 || cs_graph_node_inputs(s->m.g, info.first, &ins) < 1)
        return -1;
    tn->in = ins[0];
    return 0;
}

static int applies_transition(const vw_state *s, int block)
{
    transition_nodes tn = {0};
    return find_transition(s, block, &tn) == 0;
}

static void refresh_transition(const vw_state *s, const transition_nodes *tn, uint64_t key)
{
    if (tcache.key == key)
        return;
    tcache.key = key;
    tcache.ready = 0;
    tcache.ch0 = (vw_range){-1.0f, 1.0f, 1};
    const float *conv = vw_state_output(s, tn->conv);
    int c = 0, h = 0, w = 0;
    vw_state_shape(s, tn->conv, &c, &h, &w);
    if (conv) {
        float amax = 0.0f, hi = 0.0f;
        int negative = 0;
        for (size_t i = 0; i < (size_t)h * (size_t)w; i++) {
            amax = fmaxf(amax, fabsf(conv[i]));
            hi = fmaxf(hi, conv[i]);
            negative |= conv[i] < 0.0f;
        }
        amax = amax > 0.0f ? amax : 1.0f;
        tcache.ch0 = negative ? (vw_range){-amax, amax, 1} : (vw_range){0.0f, hi > 0.0f ? hi : 1.0f, 0};
    }
    const float *in = vw_state_output(s, tn->in);
    vw_state_shape(s, tn->in, &c, &h, &w);
    size_t hw = (size_t)h * (size_t)w;
    if (!in || hw == 0)
        return;
    if (hw > tcache.cap) {
        float *p = realloc(tcache.mean, hw * sizeof *p);
        if (!p)
            return;
        tcache.mean = p;
        tcache.cap = hw;
    }
    vw_mean_map(in, c, h, w, tcache.mean);
    tcache.mean_max = 0.0f;
    for (size_t i = 0; i < hw; i++)
        tcache.mean_max = fmaxf(tcache.mean_max, fabsf(tcache.mean[i]));
    tcache.ready = 1;
}

/* One map column of the transition: label, shape, the map (a 2x2 window
 * marked when win >= 0: window size in map pixels). Returns the map rect. */
static vw_rect map_column(const vw_state *s, vw_render *r, vw_rect a, int slot, uint64_t key, int node,
                          const float *map, vw_range rg, const char *label, int current)
{
    const vw_theme *t = vw_render_theme(r);
    int lh = vw_line_h(r, VW_FONT_SMALL);
    vw_text_fit(r, VW_FONT_SMALL, a.x, a.y, a.w, current ? t->accent : t->text, label);
    char shape[64] = {0};
    vw_text_fit(r, VW_FONT_SMALL, a.x, a.y + lh, a.w, t->dim, vw_fmt_shape(s, node, shape, sizeof shape));
    vw_rect m = {a.x, a.y + 2 * lh + lh / 4, a.w, a.h - 2 * lh - lh / 4};
    if (!map) {
        vw_text_fit(r, VW_FONT_SMALL, m.x, m.y + lh / 2, m.w, t->dim, "not computed yet");
        return (vw_rect){0, 0, 0, 0};
    }
    int c = 0, h = 0, w = 0;
    vw_state_shape(s, node, &c, &h, &w);
    vw_rect drawn = vw_draw_map(r, slot, key, map, h, w, rg, m);
    vw_frame(r, vw_inset(drawn, -1), current ? t->accent : t->border, 1);
    return drawn;
}

static void draw_transition_content(vw_state *s, vw_render *r, vw_rect area, int block)
{
    const vw_theme *t = vw_render_theme(r);
    transition_nodes tn = {0};
    if (find_transition(s, block, &tn) != 0)
        return;
    cs_block_info info = {0};
    cs_graph_block(s->m.g, block, &info);
    int in_c = 0, in_h = 0, in_w = 0, out_c = 0, out_h = 0, out_w = 0, cc = 0, ch = 0, cw = 0;
    vw_state_shape(s, tn.in, &in_c, &in_h, &in_w);
    vw_state_shape(s, tn.conv, &cc, &ch, &cw);
    vw_state_shape(s, tn.pool, &out_c, &out_h, &out_w);
    cs_pool_params pp = {0};
    cs_graph_node_pool(s->m.g, tn.pool, &pp);
    double theta = in_c > 0 ? (double)cc / (double)in_c : 0.0;
    char title[256] = {0};
    snprintf(title, sizeof title, "transition %s:  compression theta = %.2g, then %dx%d average pool",
             info.name, theta, pp.kernel_h, pp.kernel_w);
    vw_rect a = vw_panel_box(r, area, title);
    int lh = vw_line_h(r, VW_FONT_SMALL);
    int lhn = vw_line_h(r, VW_FONT_NORMAL);

    char line[256] = {0};
    snprintf(line, sizeof line,
             "%d channels in -> %d out (1x1 conv, theta = %.2g); %dx%d -> %dx%d (%dx%d mean, stride %d).",
             in_c, cc, theta, in_h, in_w, out_h, out_w, pp.kernel_h, pp.kernel_w, pp.stride_h);
    vw_text_fit(r, VW_FONT_NORMAL, a.x, a.y, a.w, t->text, line);
    int y = a.y + lhn + lh / 3;

    /* channels in (stacked by producer when it is a dense block's output) and out, on one scale */
    int label_w = vw_text_width(r, VW_FONT_SMALL, "out 0000") + lh / 2;
    int bar_w = a.w - label_w;
    int bar_h = lh + lh / 4;
    char buf[64] = {0};
    snprintf(buf, sizeof buf, "in %d", in_c);
    vw_text(r, VW_FONT_SMALL, a.x, y + (bar_h - lh) / 2, t->text, buf);
    const int *ins = NULL;
    int idx = 0;
    if (cs_graph_node_role(s->m.g, tn.in, &idx) == CS_ROLE_DENSE_CONCAT) {
        int n = cs_graph_node_inputs(s->m.g, tn.in, &ins);
        stacked_bar(r, (vw_rect){a.x + label_w, y, bar_w, bar_h}, ins, s, n, in_c, 0);
    } else {
        vw_fill(r, (vw_rect){a.x + label_w, y, bar_w, bar_h}, producer_color(0));
    }
    y += bar_h + lh / 4;
    snprintf(buf, sizeof buf, "out %d", cc);
    vw_text(r, VW_FONT_SMALL, a.x, y + (bar_h - lh) / 2, t->text, buf);
    int out_bw = in_c > 0 ? (int)((int64_t)bar_w * cc / in_c) : 0;
    vw_fill(r, (vw_rect){a.x + label_w, y, out_bw, bar_h}, t->bar);
    vw_text(r, VW_FONT_SMALL, a.x + label_w + out_bw + lh / 2, y + (bar_h - lh) / 2, t->dim,
            "each output channel mixes all the input slices");
    y += bar_h + lh / 2;

    /* the maps: input mean, one conv channel, the same channel pooled */
    int64_t kv[6] = {(int64_t)s->data_gen,
                     block,
                     vw_state_output(s, tn.in) != NULL,
                     vw_state_output(s, tn.conv) != NULL,
                     vw_state_output(s, tn.pool) != NULL,
                     s->scope};
    uint64_t key = vw_key(kv, 6);
    refresh_transition(s, &tn, key);
    int gap = lh * 2;
    int col_w = (a.w - 2 * gap) / 3;
    vw_rect cols[3] = {{0}};
    for (int i = 0; i < 3; i++)
        cols[i] = (vw_rect){a.x + i * (col_w + gap), y, col_w, a.y + a.h - y};
    int cur_in = s->cursor < tn.conv, cur_conv = s->cursor == tn.conv, cur_pool = s->cursor >= tn.pool;
    float mm = tcache.mean_max > 0.0f ? tcache.mean_max : 1.0f;
    vw_range mrg = {-mm, mm, 1};
    int64_t k1[2] = {(int64_t)key, 1}, k2[2] = {(int64_t)key, 2}, k3[2] = {(int64_t)key, 3};
    snprintf(buf, sizeof buf, "in: mean of %d channels", in_c);
    map_column(s, r, cols[0], SLOT_IN, vw_key(k1, 2), tn.in, tcache.ready ? tcache.mean : NULL, mrg, buf,
               cur_in);
    /* conv and pool channel 0 on the conv's scale, so the pooling is the only change */
    vw_range crg = tcache.ch0;
    vw_rect mc = map_column(s, r, cols[1], SLOT_CONV, vw_key(k2, 2), tn.conv, vw_state_output(s, tn.conv),
                            crg, "1x1 conv: channel 0", cur_conv);
    vw_rect mp = map_column(s, r, cols[2], SLOT_POOL, vw_key(k3, 2), tn.pool, vw_state_output(s, tn.pool),
                            crg, "average pool: channel 0", cur_pool);
    for (int i = 0; i < 2; i++) {
        int xa = cols[i].x + col_w + lh / 2, ya = cols[i].y + cols[i].h / 2;
        vw_text(r, VW_FONT_LARGE, xa, ya - lh, t->accent, ">");
    }
    /* one pooling window: 2x2 conv pixels at the centre -> one pooled pixel */
    if (mc.w > 0 && mp.w > 0 && out_h > 0 && out_w > 0 && ch > 0 && cw > 0) {
        int py = out_h / 2, px = out_w / 2;
        int sy = py * pp.stride_h - pp.pad_top, sx = px * pp.stride_w - pp.pad_left;
        vw_rect wc = {mc.x + sx * mc.w / cw, mc.y + sy * mc.h / ch, pp.kernel_w * mc.w / cw,
                      pp.kernel_h * mc.h / ch};
        vw_rect wp = {mp.x + px * mp.w / out_w, mp.y + py * mp.h / out_h, mp.w / out_w, mp.h / out_h};
        vw_frame(r, vw_inset(wc, -1), t->accent, 2);
        vw_frame(r, vw_inset(wp, -1), t->accent, 2);
        vw_line(r, wc.x + wc.w + 1, wc.y + wc.h / 2, wp.x - 2, wp.y + wp.h / 2, t->accent);
    }
}

/* Everything the panel draws stays inside its area. */
static void draw_dense(vw_state *s, vw_render *r, vw_rect area, int block)
{
    vw_clip(r, area);
    draw_dense_content(s, r, area, block);
    vw_unclip(r);
}

/* Everything the panel draws stays inside its area. */
static void draw_transition(vw_state *s, vw_render *r, vw_rect area, int block)
{
    vw_clip(r, area);
    draw_transition_content(s, r, area, block);
    vw_unclip(r);
}

const vw_panel vw_panel_dense = {"dense", CS_BLOCK_DENSE, applies_dense, draw_dense};
const vw_panel vw_panel_transition = {"dense", CS_BLOCK_TRANSITION, applies_transition, draw_transition};
