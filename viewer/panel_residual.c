/* Block panel for residual units (the worked example of the panel
 * interface): F(x) (the branch's last node before the sum), the shortcut (x
 * itself or its 1x1 projection) and the sum, side by side as mean-over-
 * channels maps and their first channels on one shared colour scale, with
 * their L2 norms and how big F(x) is next to x.
 */
#include <math.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "panel.h"

#define STRIP_MAX 8 /* channels shown under each mean map */

enum { COL_F = 0, COL_X, COL_Y, COLS };

typedef struct residual_nodes {
    int f, x, y;    /* F(x), shortcut, sum */
    int projection; /* 1: the shortcut is computed inside the unit */
} residual_nodes;

/* What the last frame computed, rebuilt only when the data changes. */
static struct {
    uint64_t key;
    float *mean[COLS];  /* mean map per column, grown when needed, never per frame */
    size_t cap[COLS];
    int ready[COLS];
    double norm[COLS];
    float mean_max[COLS];
    float absmax;
} cache;

static int find_nodes(const vw_state *s, int block, residual_nodes *rn)
{
    cs_block_info info = {0};
    if (cs_graph_block(s->m.g, block, &info) != CS_OK)
        return -1;
    rn->y = -1;
    for (int i = info.first; i <= info.last; i++) {
        int idx = 0;
        if (cs_graph_node_role(s->m.g, i, &idx) == CS_ROLE_RESIDUAL_SUM)
            rn->y = i;
    }
    const int *ins = NULL;
    if (rn->y < 0 || cs_graph_node_inputs(s->m.g, rn->y, &ins) != 2)
        return -1;
    /* the shortcut: tagged as such, or coming from outside the unit (x) */
    int k = 1;
    for (int j = 0; j < 2; j++) {
        int idx = 0;
        int outside = ins[j] < info.first || ins[j] > info.last;
        if (outside || cs_graph_node_role(s->m.g, ins[j], &idx) == CS_ROLE_RESIDUAL_SHORTCUT) {
            k = j;
            break;
        }
    }
    rn->x = ins[k];
    rn->f = ins[1 - k];
    rn->projection = rn->x >= info.first && rn->x <= info.last;
    return 0;
}

static int applies(const vw_state *s, int block)
{
    residual_nodes rn;
    return find_nodes(s, block, &rn) == 0;
}

/* The panel's own mean-map buffer for a column (grows, never shrinks). */
static float *mean_buffer(int col, size_t n)
{
    if (n > cache.cap[col]) {
        float *p = realloc(cache.mean[col], n * sizeof *p);
        if (!p)
            return NULL;
        cache.mean[col] = p;
        cache.cap[col] = n;
    }
    return cache.mean[col];
}

/* Norms, mean maps and the shared scale, when the data changed. */
static void refresh(const vw_state *s, const int nodes[COLS], uint64_t key)
{
    if (cache.key == key)
        return;
    cache.key = key;
    cache.absmax = 0.0f;
    for (int i = 0; i < COLS; i++) {
        const float *out = vw_state_output(s, nodes[i]);
        cache.ready[i] = out != NULL;
        if (!out)
            continue;
        int c = 0, h = 0, w = 0;
        vw_state_shape(s, nodes[i], &c, &h, &w);
        size_t n = (size_t)c * (size_t)h * (size_t)w;
        cache.norm[i] = vw_l2(out, n);
        const vw_node_data *d = vw_state_data(s, nodes[i]);
        cache.absmax = fmaxf(cache.absmax, fmaxf(fabsf(d->min), fabsf(d->max)));
        float *mean = mean_buffer(i, (size_t)h * (size_t)w);
        if (!mean) {
            cache.ready[i] = 0;
            continue;
        }
        vw_mean_map(out, c, h, w, mean);
        cache.mean_max[i] = 0.0f;
        for (size_t j = 0; j < (size_t)h * (size_t)w; j++)
            cache.mean_max[i] = fmaxf(cache.mean_max[i], fabsf(mean[j]));
    }
}

static void draw_column(const vw_state *s, vw_render *r, vw_rect a, int col, int node, const char *label,
                        uint64_t key, int current)
{
    const vw_theme *t = vw_render_theme(r);
    int lh = vw_line_h(r, VW_FONT_SMALL);
    if (current)
        vw_frame(r, vw_inset(a, -lh / 4), t->accent, 2);
    vw_text_fit(r, VW_FONT_NORMAL, a.x, a.y, a.w, current ? t->accent : t->text, label);
    int y = a.y + vw_line_h(r, VW_FONT_NORMAL);
    vw_text_fit(r, VW_FONT_SMALL, a.x, y, a.w, t->dim, cs_graph_node_name(s->m.g, node));
    y += lh;
    if (!cache.ready[col]) {
        vw_text_wrap(r, VW_FONT_SMALL, a.x, y + lh, a.w, t->dim, "not computed yet: step on to fill it in",
                     1);
        return;
    }
    int c = 0, h = 0, w = 0;
    vw_state_shape(s, node, &c, &h, &w);
    char buf[128] = {0};
    snprintf(buf, sizeof buf, "L2 norm %.4g   %dx%dx%d", cache.norm[col], c, h, w);
    vw_text_fit(r, VW_FONT_SMALL, a.x, y, a.w, t->text, buf);
    y += lh + lh / 3;

    float a_max = cache.absmax > 0.0f ? cache.absmax : 1.0f;
    vw_range shared = {-a_max, a_max, 1};
    int strip_h = 0, k = c < STRIP_MAX ? c : STRIP_MAX;
    int cell = (a.w - (k - 1)) / (k > 0 ? k : 1);
    if (cell > 0 && w > 0)
        strip_h = cell * h / w;
    int room = a.y + a.h - y;
    if (strip_h > room / 3)
        strip_h = 0;
    vw_rect mean_area = {a.x, y, a.w, room - (strip_h ? strip_h + lh * 5 / 2 : lh + 2)};
    /* the mean map has its own symmetric scale: channel means are far smaller than single values */
    const float *mean = cache.mean[col];
    float mmax = cache.mean_max[col];
    vw_range mrg = {-(mmax > 0.0f ? mmax : 1.0f), mmax > 0.0f ? mmax : 1.0f, 1};
    int64_t mk[3] = {(int64_t)key, col, 11};
    vw_rect m = vw_draw_map(r, VW_SLOT_PANEL + col, vw_key(mk, 3), mean, h, w, mrg, mean_area);
    vw_frame(r, vw_inset(m, -1), t->border, 1);
    vw_text_fit(r, VW_FONT_SMALL, a.x, m.y + m.h + 2, a.w, t->dim, "mean over channels");
    if (!strip_h)
        return;
    /* the first channels, on the scale shared by the three columns */
    int slot = VW_SLOT_PANEL + COLS + col;
    int64_t sk[3] = {(int64_t)key, col, 12};
    uint64_t skey = vw_key(sk, 3);
    const float *out = vw_state_output(s, node);
    if (vw_image_key(r, slot) != skey) {
        uint32_t *px = vw_image_pixels(r, slot, k * w, h);
        if (!px)
            return;
        for (int i = 0; i < k; i++)
            vw_colorize(out + (size_t)i * (size_t)h * (size_t)w, h, w, shared, px + (size_t)i * (size_t)w,
                        k * w);
        vw_image_upload(r, slot, skey);
    }
    int sy = a.y + a.h - strip_h;
    vw_text_fit(r, VW_FONT_SMALL, a.x, sy - lh - 1, a.w, t->dim, "first channels (one scale for all three)");
    for (int i = 0; i < k; i++)
        vw_image_draw(r, slot, (vw_rect){i * w, 0, w, h}, (vw_rect){a.x + i * (cell + 1), sy, cell, strip_h});
}

static void draw(vw_state *s, vw_render *r, vw_rect area, int block)
{
    const vw_theme *t = vw_render_theme(r);
    residual_nodes rn;
    if (find_nodes(s, block, &rn) != 0)
        return;
    cs_block_info info = {0};
    cs_graph_block(s->m.g, block, &info);
    char desc[128] = {0};
    cs_graph_node_describe(s->m.g, rn.y, desc, sizeof desc);
    int relu = strstr(desc, "relu") != NULL;
    char title[256] = {0};
    snprintf(title, sizeof title, "residual unit %s:  y = %sF(x) + x%s", info.name, relu ? "ReLU(" : "",
             relu ? ")" : "");
    vw_rect a = vw_panel_box(r, area, title);
    int lh = vw_line_h(r, VW_FONT_NORMAL);

    const int nodes[COLS] = {rn.f, rn.x, rn.y};
    int64_t kv[6] = {(int64_t)s->data_gen,
                     block,
                     vw_state_output(s, rn.f) != NULL,
                     vw_state_output(s, rn.x) != NULL,
                     vw_state_output(s, rn.y) != NULL,
                     5};
    uint64_t key = vw_key(kv, 6);
    refresh(s, nodes, key);

    /* which column the cursor is in */
    int idx = 0;
    cs_role role = cs_graph_node_role(s->m.g, s->cursor, &idx);
    int cur = -1;
    if (s->cursor == rn.y)
        cur = COL_Y;
    else if (s->cursor == rn.x || role == CS_ROLE_RESIDUAL_SHORTCUT)
        cur = COL_X;
    else if (s->cursor >= info.first && s->cursor <= info.last)
        cur = COL_F;

    int ratio_h = 0;
    if (cache.ready[COL_F] && cache.ready[COL_X] && cache.norm[COL_X] > 0.0) {
        char buf[200] = {0};
        double q = cache.norm[COL_F] / cache.norm[COL_X];
        snprintf(buf, sizeof buf, "|F(x)| / |x| = %.2f: the unit changes its input by about %.0f%%", q,
                 100.0 * q);
        vw_text_fit(r, VW_FONT_SMALL, a.x, a.y + a.h - vw_line_h(r, VW_FONT_SMALL), a.w, t->text, buf);
        ratio_h = vw_line_h(r, VW_FONT_SMALL) + lh / 3;
    }
    int op_w = lh * 2;
    int col_w = (a.w - 2 * op_w) / COLS;
    const char *labels[COLS] = {"F(x): the residual branch",
                                rn.projection ? "x through a 1x1 projection" : "x: the shortcut",
                                relu ? "y = ReLU(F(x) + x)" : "y = F(x) + x"};
    for (int i = 0; i < COLS; i++) {
        vw_rect col = {a.x + i * (col_w + op_w), a.y, col_w, a.h - ratio_h};
        draw_column(s, r, col, i, nodes[i], labels[i], key, cur == i);
        if (i < COLS - 1) {
            const char *op = i == 0 ? "+" : "=";
            int ow = vw_text_width(r, VW_FONT_TITLE, op);
            vw_text(r, VW_FONT_TITLE, col.x + col_w + (op_w - ow) / 2, col.y + col.h / 2 - lh, t->accent, op);
        }
    }
}

const vw_panel vw_panel_residual = {"residual", CS_BLOCK_RESIDUAL, applies, draw};
