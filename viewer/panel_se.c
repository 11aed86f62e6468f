/* Block panel for squeeze-and-excitation blocks: the C recalibration weights
 * (the sigmoid gate) as bars in channel order and sorted, the squeeze vector
 * (each channel's mean) as a colour strip, and the most boosted and the most
 * damped channel before and after scaling, with one sentence in plain words.
 * Thousands of channels are binned: one bar per pixel column.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "panel.h"

enum { SLOT_STRIP = VW_SLOT_PANEL, SLOT_MAPS }; /* SLOT_MAPS .. +3: boosted/damped x before/after */

typedef struct se_nodes {
    int squeeze, gate, scale, x; /* scale = x * gate, per channel */
} se_nodes;

/* Derived from the gate, rebuilt only when the data changes. */
static struct {
    uint64_t key;
    int ready;      /* the gate has run */
    int c;          /* channels */
    int top, low;   /* most boosted and most damped channel */
    int below_half; /* channels scaled below 0.5 */
    float *sorted;  /* the gates, largest first (c floats) */
    size_t cap;
    vw_range row_rg[2]; /* colour scale of the boosted and the damped row */
} cache;

/* Draws `text` when it fits in max_w, else the shorter `brief`, cut to fit. */
static void text_fit2(vw_render *r, int x, int y, int max_w, vw_color c, const char *text, const char *brief)
{
    const char *use = vw_text_width(r, VW_FONT_SMALL, text) <= max_w ? text : brief;
    vw_text_fit(r, VW_FONT_SMALL, x, y, max_w, c, use);
}

static int find_nodes(const vw_state *s, int block, se_nodes *n)
{
    cs_block_info info = {0};
    if (cs_graph_block(s->m.g, block, &info) != CS_OK)
        return -1;
    n->squeeze = n->scale = -1;
    for (int i = info.first; i <= info.last; i++) {
        int idx = 0;
        cs_role role = cs_graph_node_role(s->m.g, i, &idx);
        if (role == CS_ROLE_SE_SQUEEZE && n->squeeze < 0)
            n->squeeze = i;
        else if (role == CS_ROLE_SE_SCALE)
            n->scale = i;
    }
    const int *ins = NULL;
    if (n->squeeze < 0 || n->scale < 0 || cs_graph_node_inputs(s->m.g, n->scale, &ins) != 2)
        return -1;
    n->x = ins[0];
    n->gate = ins[1];
    return 0;
}

static int applies(const vw_state *s, int block)
{
    se_nodes n = {0};
    return find_nodes(s, block, &n) == 0;
}

static int cmp_desc(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    if (x != x || y != y) /* NaN sorts last */
        return (x != x) - (y != y);
    return (x < y) - (x > y);
}

/* The colour scale of one channel of x, shared by its before and after maps. */
static vw_range channel_range(const vw_state *s, int node, int ch)
{
    vw_range rg = {0.0f, 1.0f, 0};
    int c = 0, h = 0, w = 0;
    vw_state_shape(s, node, &c, &h, &w);
    const float *out = vw_state_output(s, node);
    if (!out || ch < 0 || ch >= c)
        return rg;
    const float *p = out + (size_t)ch * (size_t)h * (size_t)w;
    float amax = 0.0f, hi = 0.0f;
    int negative = 0;
    for (size_t i = 0; i < (size_t)h * (size_t)w; i++) {
        amax = fmaxf(amax, fabsf(p[i]));
        hi = fmaxf(hi, p[i]);
        negative |= p[i] < 0.0f;
    }
    if (negative) {
        rg.lo = -(amax > 0.0f ? amax : 1.0f);
        rg.hi = -rg.lo;
        rg.diverging = 1;
    } else {
        rg.hi = hi > 0.0f ? hi : 1.0f;
    }
    return rg;
}

static void refresh(const vw_state *s, const se_nodes *n, uint64_t key)
{
    if (cache.key == key)
        return;
    cache.key = key;
    const float *gate = vw_state_output(s, n->gate);
    int h = 0, w = 0;
    vw_state_shape(s, n->gate, &cache.c, &h, &w);
    cache.ready = 0;
    if (!gate || cache.c <= 0)
        return;
    if ((size_t)cache.c > cache.cap) {
        float *p = realloc(cache.sorted, (size_t)cache.c * sizeof *p);
        if (!p)
            return;
        cache.sorted = p;
        cache.cap = (size_t)cache.c;
    }
    cache.top = cache.low = 0;
    cache.below_half = 0;
    for (int i = 0; i < cache.c; i++) {
        cache.sorted[i] = gate[i];
        cache.top = gate[i] > gate[cache.top] ? i : cache.top;
        cache.low = gate[i] < gate[cache.low] ? i : cache.low;
        cache.below_half += gate[i] < 0.5f;
    }
    qsort(cache.sorted, (size_t)cache.c, sizeof *cache.sorted, cmp_desc);
    cache.row_rg[0] = channel_range(s, n->x, cache.top);
    cache.row_rg[1] = channel_range(s, n->x, cache.low);
    cache.ready = 1;
}

/* Gate values (0..1) as bars, one per channel or, when there are more
 * channels than pixels, one per pixel column showing the bin's mean and (in
 * a lighter shade) its maximum. mark[0], mark[1]: channels drawn in the
 * boosted / damped colours (-1: none). */
static void draw_bars(vw_render *r, vw_rect a, const float *v, int n, const int mark[2])
{
    const vw_theme *t = vw_render_theme(r);
    int lh = vw_line_h(r, VW_FONT_SMALL);
    int axis_w = vw_text_width(r, VW_FONT_SMALL, "0.5") + lh / 3;
    vw_rect p = {a.x + axis_w, a.y, a.w - axis_w, a.h};
    if (p.w < 8 || p.h < 4 || n <= 0)
        return;
    vw_fill(r, p, t->panel_alt);
    int y_half = p.y + p.h / 2;
    vw_line(r, p.x, y_half, p.x + p.w - 1, y_half, t->border);
    vw_text_right(r, VW_FONT_SMALL, p.x - lh / 4, p.y - lh / 4, t->dim, "1");
    if (p.h >= lh * 3)
        vw_text_right(r, VW_FONT_SMALL, p.x - lh / 4, y_half - lh / 2, t->dim, "0.5");
    vw_text_right(r, VW_FONT_SMALL, p.x - lh / 4, p.y + p.h - lh * 3 / 4, t->dim, "0");
    int bins = n < p.w ? n : p.w;
    int gap = p.w / bins >= 4 ? 1 : 0;
    vw_color light = t->bar;
    light.a = 110;
    for (int b = 0; b < bins; b++) {
        int c0 = (int)((int64_t)b * n / bins), c1 = (int)((int64_t)(b + 1) * n / bins);
        float sum = 0.0f, mx = 0.0f;
        vw_color col = t->bar;
        int marked = 0;
        for (int c = c0; c < c1; c++) {
            sum += v[c];
            mx = fmaxf(mx, v[c]);
            if (c == mark[0] || c == mark[1]) {
                col = c == mark[0] ? t->good : t->error;
                marked = 1;
            }
        }
        float mean = sum / (float)(c1 - c0 > 0 ? c1 - c0 : 1);
        int hm = (int)(fminf(fmaxf(mean, 0.0f), 1.0f) * (float)p.h + 0.5f);
        int hx = (int)(fminf(fmaxf(mx, 0.0f), 1.0f) * (float)p.h + 0.5f);
        int x = p.x + (int)((int64_t)b * p.w / bins);
        int bw = p.x + (int)((int64_t)(b + 1) * p.w / bins) - x;
        if (hx > hm)
            vw_fill(r, (vw_rect){x, p.y + p.h - hx, bw - gap, hx - hm}, light);
        vw_fill(r, (vw_rect){x, p.y + p.h - hm, bw - gap, hm > 0 ? hm : 1}, col);
        if (marked) /* a tick under the bar too, to find it among thousands */
            vw_fill(r, (vw_rect){x - 1, p.y + p.h + 1, bw - gap + 2, lh / 4 > 2 ? lh / 4 : 2}, col);
    }
}

/* The squeeze vector as a strip of colours, binned to the strip's width. */
static void draw_strip(const vw_state *s, vw_render *r, vw_rect a, int node, uint64_t key)
{
    const vw_theme *t = vw_render_theme(r);
    const float *sq = vw_state_output(s, node);
    int c = 0, h = 0, w = 0;
    vw_state_shape(s, node, &c, &h, &w);
    if (!sq || c <= 0 || a.w <= 0 || a.h <= 0)
        return;
    int bins = c < a.w ? c : a.w;
    int64_t kv[4] = {(int64_t)key, bins, 0x5e, 1};
    uint64_t k = vw_key(kv, 4);
    if (vw_image_key(r, SLOT_STRIP) != k) {
        uint32_t *px = vw_image_pixels(r, SLOT_STRIP, bins, 1);
        if (!px)
            return;
        float lo = sq[0], hi = sq[0];
        for (int i = 1; i < c; i++) {
            lo = fminf(lo, sq[i]);
            hi = fmaxf(hi, sq[i]);
        }
        float amax = fmaxf(fabsf(lo), fabsf(hi));
        vw_range rg = lo < 0.0f ? (vw_range){-amax, amax, 1} : (vw_range){0.0f, hi > 0.0f ? hi : 1.0f, 0};
        float span = rg.hi - rg.lo > 0.0f ? rg.hi - rg.lo : 1.0f;
        for (int b = 0; b < bins; b++) {
            int c0 = (int)((int64_t)b * c / bins), c1 = (int)((int64_t)(b + 1) * c / bins);
            float sum = 0.0f;
            for (int i = c0; i < c1; i++)
                sum += sq[i];
            float mean = sum / (float)(c1 - c0 > 0 ? c1 - c0 : 1);
            px[b] = vw_colormap_argb((mean - rg.lo) / span, rg.diverging);
        }
        vw_image_upload(r, SLOT_STRIP, k);
    }
    vw_image_draw(r, SLOT_STRIP, (vw_rect){0, 0, bins, 1}, a);
    vw_frame(r, vw_inset(a, -1), t->border, 1);
}

/* Left half: the gates in channel order and sorted, then the squeeze strip. */
static void draw_gates(const vw_state *s, vw_render *r, vw_rect a, const se_nodes *n, uint64_t key, int where)
{
    const vw_theme *t = vw_render_theme(r);
    int lh = vw_line_h(r, VW_FONT_SMALL);
    int strip_h = lh;
    int charts_h = a.h - 3 * lh - strip_h - lh / 2 - lh / 2;
    int two = charts_h >= 4 * lh; /* room for the sorted chart too */
    int ch = two ? charts_h / 2 - lh / 4 : charts_h;
    int y = a.y;
    char buf[160] = {0};
    char brief[64] = {0};
    snprintf(buf, sizeof buf, "recalibration weights: one gate per channel (%d), channel order", cache.c);
    snprintf(brief, sizeof brief, "gates, channel order (%d)", cache.c);
    text_fit2(r, a.x, y, a.w, where == CS_ROLE_SE_EXCITE ? t->accent : t->text, buf, brief);
    y += lh;
    if (!cache.ready) {
        vw_text_wrap(r, VW_FONT_SMALL, a.x, y + lh / 2, a.w, t->dim,
                     "not computed yet: step on to the gate (the sigmoid) to fill it in", 1);
    } else {
        const float *gate = vw_state_output(s, n->gate);
        int mark[2] = {cache.top, cache.low};
        draw_bars(r, (vw_rect){a.x, y + lh / 4, a.w, ch - lh / 4}, gate, cache.c, mark);
        y += ch + lh / 2;
        if (two) {
            int bins = cache.c;
            text_fit2(r, a.x, y, a.w, t->dim, "the same gates sorted, largest first", "sorted");
            y += lh;
            int ends[2] = {0, bins - 1};
            draw_bars(r, (vw_rect){a.x, y + lh / 4, a.w, ch - lh / 4}, cache.sorted, bins, ends);
        }
    }
    /* the squeeze vector: what the excitation reads */
    y = a.y + a.h - strip_h - lh - lh / 4;
    const vw_node_data *d = vw_state_data(s, n->squeeze);
    char lo[32] = {0}, hi[32] = {0};
    int sq_ready = vw_state_output(s, n->squeeze) != NULL;
    if (sq_ready) {
        vw_fmt_value(d->min, lo, sizeof lo);
        vw_fmt_value(d->max, hi, sizeof hi);
        snprintf(buf, sizeof buf, "squeeze: the mean of each channel  (%s .. %s)", lo, hi);
        snprintf(brief, sizeof brief, "squeeze (%s .. %s)", lo, hi);
    } else {
        snprintf(buf, sizeof buf, "squeeze: the mean of each channel (not computed yet)");
        snprintf(brief, sizeof brief, "squeeze: not computed yet");
    }
    text_fit2(r, a.x, y, a.w, where == CS_ROLE_SE_SQUEEZE ? t->accent : t->dim, buf, brief);
    int axis_w = vw_text_width(r, VW_FONT_SMALL, "0.5") + lh / 3;
    draw_strip(s, r, (vw_rect){a.x + axis_w, y + lh + lh / 4, a.w - axis_w, strip_h - lh / 4}, n->squeeze,
               key);
}

/* Right half: the boosted and the damped channel, before and after scaling. */
static void draw_extremes(const vw_state *s, vw_render *r, vw_rect a, const se_nodes *n, uint64_t key,
                          int where)
{
    const vw_theme *t = vw_render_theme(r);
    int lh = vw_line_h(r, VW_FONT_SMALL);
    vw_color head = where == CS_ROLE_SE_SCALE ? t->accent : t->text;
    int gap = lh / 2;
    int col_w = (a.w - gap) / 2;
    text_fit2(r, a.x, a.y, col_w, head, "before: x", "x");
    text_fit2(r, a.x + col_w + gap, a.y, col_w, head, "after: gate × x", "gate × x");
    if (!cache.ready) {
        vw_text_wrap(r, VW_FONT_SMALL, a.x, a.y + lh * 2, a.w, t->dim,
                     "the most boosted and the most damped channel appear here once the gate has run", 1);
        return;
    }
    int row_h = (a.h - lh - gap) / 2;
    const float *x = vw_state_output(s, n->x);
    const float *y = vw_state_output(s, n->scale);
    const float *gate = vw_state_output(s, n->gate);
    int c = 0, h = 0, w = 0;
    vw_state_shape(s, n->x, &c, &h, &w);
    size_t hw = (size_t)h * (size_t)w;
    for (int row = 0; row < 2; row++) {
        int ch = row == 0 ? cache.top : cache.low;
        int ry = a.y + lh + row * (row_h + gap);
        char buf[96] = {0}, brief[64] = {0};
        snprintf(buf, sizeof buf, "%s: channel %d, gate %.2f", row == 0 ? "most boosted" : "most damped", ch,
                 (double)gate[ch]);
        snprintf(brief, sizeof brief, "%s %d: %.2f", row == 0 ? "top" : "low", ch, (double)gate[ch]);
        text_fit2(r, a.x, ry, a.w, row == 0 ? t->good : t->error, buf, brief);
        vw_rect cell = {a.x, ry + lh, col_w, row_h - lh};
        for (int col = 0; col < 2; col++) {
            const float *src = col == 0 ? x : y;
            vw_rect m = cell;
            m.x = a.x + col * (col_w + gap);
            if (!src) {
                vw_text_fit(r, VW_FONT_SMALL, m.x, m.y + lh / 2, m.w, t->dim, "not computed yet");
                continue;
            }
            int64_t kv[6] = {(int64_t)key, ch, row, col, 0x5e, 2};
            vw_rect drawn = vw_draw_map(r, SLOT_MAPS + row * 2 + col, vw_key(kv, 6), src + (size_t)ch * hw, h,
                                        w, cache.row_rg[row], m);
            vw_frame(r, vw_inset(drawn, -1), row == 0 ? t->good : t->error, 1);
        }
    }
}

static void draw_content(vw_state *s, vw_render *r, vw_rect area, int block)
{
    const vw_theme *t = vw_render_theme(r);
    se_nodes n = {0};
    if (find_nodes(s, block, &n) != 0)
        return;
    cs_block_info info = {0};
    cs_graph_block(s->m.g, block, &info);
    char title[256] = {0};
    snprintf(title, sizeof title, "SE block %s:  squeeze, excite, scale", info.name);
    vw_rect a = vw_panel_box(r, area, title);
    int lh = vw_line_h(r, VW_FONT_SMALL);
    int lhn = vw_line_h(r, VW_FONT_NORMAL);

    int64_t kv[6] = {(int64_t)s->data_gen,
                     block,
                     vw_state_output(s, n.squeeze) != NULL,
                     vw_state_output(s, n.gate) != NULL,
                     vw_state_output(s, n.scale) != NULL,
                     0x5e};
    uint64_t key = vw_key(kv, 6);
    refresh(s, &n, key);
    int idx = 0;
    cs_role where = cs_graph_node_role(s->m.g, s->cursor, &idx);

    /* the sentence */
    char line[256] = {0};
    if (cache.ready) {
        const float *gate = vw_state_output(s, n.gate);
        snprintf(line, sizeof line,
                 "The block keeps channel %d at %.2f and damps channel %d to %.2f; %d of %d channels are "
                 "scaled below 0.5.",
                 cache.top, (double)gate[cache.top], cache.low, (double)gate[cache.low], cache.below_half,
                 cache.c);
    } else {
        snprintf(line, sizeof line, "Each of the %d channels gets a weight between 0 and 1 from the gate.",
                 cache.c);
    }
    int top = vw_text_wrap(r, VW_FONT_NORMAL, a.x, a.y, a.w, t->text, line, 0);
    if (top > 2 * lhn)
        top = 2 * lhn;
    vw_clip(r, (vw_rect){a.x, a.y, a.w, top});
    vw_text_wrap(r, VW_FONT_NORMAL, a.x, a.y, a.w, t->text, line, 1);
    vw_clip(r, area);
    top += lh / 2;
    vw_rect body = {a.x, a.y + top, a.w, a.h - top};
    int left_w = body.w * 58 / 100;
    int gap = lh;
    draw_gates(s, r, (vw_rect){body.x, body.y, left_w, body.h}, &n, key, where);
    draw_extremes(s, r, (vw_rect){body.x + left_w + gap, body.y, body.w - left_w - gap, body.h}, &n, key,
                  where);
}

/* Everything the panel draws stays inside its area. */
static void draw(vw_state *s, vw_render *r, vw_rect area, int block)
{
    vw_clip(r, area);
    draw_content(s, r, area, block);
    vw_unclip(r);
}

const vw_panel vw_panel_se = {"se", CS_BLOCK_SE, applies, draw};
