/* Panel for LeNet-5 (tied to no block; from S2 on in lenet5 and lenet5_1998):
 * the C3 connection table as a 6 x 16 grid, the trainable subsampling
 * coefficients and biases of S2 and S4 as bars, and the RBF output: each
 * class's prototype (a 7 x 12 bitmap) with its squared distance, smallest
 * (closest) highlighted. The modern lenet5 has none of these: it says so.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "panel.h"

#define S2_MAPS 6
#define C3_MAPS 16
#define PROTO_W 7 /* RBF prototypes are 7 x 12 bitmaps of 84 values */
#define PROTO_H 12

enum { SLOT_PROTOS = VW_SLOT_PANEL };
enum { SEC_TABLE = 0, SEC_SUB, SEC_RBF, SEC_NONE };

static const vw_color bias_color = {242, 142, 43, 255};

typedef struct lenet_nodes {
    int first; /* the first subsampling node: the panel shows from here on */
    int c3;
    int sub[2]; /* S2 and S4 with trainable coefficients (affine), -1 when plain pooling */
    int rbf;    /* the RBF output, -1 in the modern form */
} lenet_nodes;

static int is_lenet(const vw_state *s)
{
    const char *name = s->m.info ? s->m.info->name : "";
    return strcmp(name, "lenet5") == 0 || strcmp(name, "lenet5_1998") == 0;
}

static int find_op(const vw_state *s, const char *name, cs_op op)
{
    int i = cs_graph_find(s->m.g, name);
    return i >= 0 && cs_graph_node_op(s->m.g, i) == op ? i : -1;
}

static int find_nodes(const vw_state *s, lenet_nodes *n)
{
    if (!s->m.g || !is_lenet(s))
        return -1;
    n->first = cs_graph_find(s->m.g, "s2.pool");
    if (n->first < 0)
        n->first = cs_graph_find(s->m.g, "s2");
    n->c3 = find_op(s, "c3", CS_OP_CONV2D);
    n->sub[0] = find_op(s, "s2", CS_OP_AFFINE);
    n->sub[1] = find_op(s, "s4", CS_OP_AFFINE);
    n->rbf = find_op(s, "output", CS_OP_RBF);
    return n->first >= 0 && n->c3 >= 0 ? 0 : -1;
}

static int applies(const vw_state *s, int block)
{
    (void)block;
    lenet_nodes n = {0};
    return find_nodes(s, &n) == 0 && s->cursor >= n.first;
}

/* Which section explains the current layer. */
static int section_of(const vw_state *s, const lenet_nodes *n)
{
    const char *name = cs_graph_node_name(s->m.g, s->cursor);
    if (s->cursor == n->c3 || strcmp(name, "c3_act") == 0)
        return SEC_TABLE;
    if (name[0] == 's' && (name[1] == '2' || name[1] == '4'))
        return SEC_SUB;
    if (s->cursor == n->rbf)
        return SEC_RBF;
    return SEC_NONE;
}

/* A section title, or its shorter form when it does not fit. */
static void header(vw_render *r, int x, int y, int w, int current, const char *text, const char *brief)
{
    const vw_theme *t = vw_render_theme(r);
    const char *use = vw_text_width(r, VW_FONT_SMALL, text) <= w ? text : brief;
    vw_text_fit(r, VW_FONT_SMALL, x, y, w, current ? t->accent : t->text, use);
}

/* ------------------------------------------------------------------------ */
/* C3 connection table                                                      */
/* ------------------------------------------------------------------------ */

static void draw_table(const vw_state *s, vw_render *r, vw_rect a, const lenet_nodes *n, int current)
{
    const vw_theme *t = vw_render_theme(r);
    int lh = vw_line_h(r, VW_FONT_SMALL);
    cs_conv2d_params p = {0};
    cs_graph_node_conv(s->m.g, n->c3, &p);
    int in_c = 0, h = 0, w = 0, out_c = 0;
    const int *ins = NULL;
    if (cs_graph_node_inputs(s->m.g, n->c3, &ins) >= 1)
        vw_state_shape(s, ins[0], &in_c, &h, &w);
    vw_state_shape(s, n->c3, &out_c, &h, &w);
    if (in_c != S2_MAPS || out_c != C3_MAPS)
        return;
    const uint8_t *mask = p.mask; /* (16, 6): mask[k * 6 + c], 1 = C3 map k reads S2 map c */
    int links = 0, per[S2_MAPS + 1] = {0};
    for (int k = 0; k < C3_MAPS; k++) {
        int m = 0;
        for (int c = 0; c < S2_MAPS; c++)
            m += mask ? mask[k * S2_MAPS + c] != 0 : 1;
        links += m;
        per[m]++;
    }
    header(r, a.x, a.y, a.w, current,
           mask ? "C3 connection table (LeCun 1998, Table I)" : "C3 connections: every map reads all of S2",
           mask ? "C3 connection table" : "C3: all connected");
    char buf[160] = {0};
    if (mask)
        snprintf(buf, sizeof buf,
                 "columns: C3 maps. %d of %d pairs: %d maps read 3, %d read 4, %d read all 6", links,
                 S2_MAPS * C3_MAPS, per[3], per[4], per[6]);
    else
        snprintf(buf, sizeof buf, "columns: C3 maps. All %d pairs (the 1998 model used 60)", links);
    if (vw_text_width(r, VW_FONT_SMALL, buf) > a.w) /* cramped: the count only */
        snprintf(buf, sizeof buf, "%d of %d pairs connected", links, S2_MAPS * C3_MAPS);
    int cap_h = vw_text_wrap(r, VW_FONT_SMALL, a.x, 0, a.w, t->dim, buf, 0);
    int row_lab = vw_text_width(r, VW_FONT_SMALL, "S2 0") + lh / 2;
    int top = a.y + lh * 2 + lh / 4;
    int cell_w = (a.w - row_lab) / C3_MAPS;
    int cell_h = (a.y + a.h - cap_h - lh / 4 - top) / S2_MAPS;
    int cell = cell_w < cell_h ? cell_w : cell_h;
    if (cell < 4)
        return;
    int gx = a.x + row_lab;
    int hover = (s->cursor == n->c3 || strcmp(cs_graph_node_name(s->m.g, s->cursor), "c3_act") == 0)
                    ? s->hover_channel
                    : -1;
    int every = vw_text_width(r, VW_FONT_SMALL, "15") + 2 <= cell ? 1 : 5;
    for (int k = 0; k < C3_MAPS; k += every) {
        char col[16] = {0};
        snprintf(col, sizeof col, "%d", k);
        int tw = vw_text_width(r, VW_FONT_SMALL, col);
        vw_text(r, VW_FONT_SMALL, gx + k * cell + (cell - tw) / 2, top - lh, k == hover ? t->accent : t->dim,
                col);
    }
    for (int c = 0; c < S2_MAPS; c++) {
        char row[16] = {0};
        snprintf(row, sizeof row, "S2 %d", c);
        if (cell >= lh - 2 || c == 0 || c == S2_MAPS - 1) /* cramped: the first and last rows only */
            vw_text(r, VW_FONT_SMALL, a.x, top + c * cell + (cell - lh) / 2, t->dim, row);
        for (int k = 0; k < C3_MAPS; k++) {
            vw_rect q = {gx + k * cell, top + c * cell, cell - 1, cell - 1};
            int on = mask ? mask[k * S2_MAPS + c] != 0 : 1;
            if (on)
                vw_fill(r, q, k == hover ? t->accent : t->bar);
            else
                vw_frame(r, q, t->border, 1);
        }
    }
    int by = top + S2_MAPS * cell + lh / 4;
    vw_text_wrap(r, VW_FONT_SMALL, a.x, by, a.w, t->dim, buf, 1);
}

/* ------------------------------------------------------------------------ */
/* Trainable subsampling                                                    */
/* ------------------------------------------------------------------------ */

/* Grouped bars around zero: per map, its coefficient then its bias. */
static void draw_coefficients(const vw_state *s, vw_render *r, vw_rect a, int node, const char *label)
{
    const vw_theme *t = vw_render_theme(r);
    int lh = vw_line_h(r, VW_FONT_SMALL);
    cs_param_info wt = {0}, bs = {0};
    if (cs_graph_param_count(s->m.g, node) < 2 || cs_graph_param(s->m.g, node, 0, &wt) != CS_OK ||
        cs_graph_param(s->m.g, node, 1, &bs) != CS_OK || wt.count != bs.count || wt.count == 0)
        return;
    float amax = 0.0f;
    for (size_t i = 0; i < wt.count; i++)
        amax = fmaxf(amax, fmaxf(fabsf(wt.data[i]), fabsf(bs.data[i])));
    amax = amax > 0.0f && isfinite(amax) ? amax : 1.0f;
    char buf[64] = {0}, v[32] = {0};
    snprintf(buf, sizeof buf, "%s  ±%s", label, vw_fmt_value(amax, v, sizeof v));
    vw_text_fit(r, VW_FONT_SMALL, a.x, a.y, a.w, t->dim, buf);
    vw_rect p = {a.x, a.y + lh, a.w, a.h - lh};
    if (p.h < 6)
        return;
    vw_fill(r, p, t->panel_alt);
    int zero = p.y + p.h / 2;
    vw_line(r, p.x, zero, p.x + p.w - 1, zero, t->border);
    int n = (int)wt.count;
    for (int i = 0; i < n; i++) {
        int x0 = p.x + (int)((int64_t)i * p.w / n), x1 = p.x + (int)((int64_t)(i + 1) * p.w / n);
        int bw = (x1 - x0 - 1) / 2;
        bw = bw > 0 ? bw : 1;
        const float vals[2] = {wt.data[i], bs.data[i]};
        for (int j = 0; j < 2; j++) {
            int len = isfinite(vals[j]) ? (int)(fabsf(vals[j]) / amax * (float)(p.h / 2)) : 0;
            len = len > 0 ? len : 1;
            vw_rect bar = {x0 + j * bw, vals[j] >= 0.0f ? zero - len : zero, bw, len};
            vw_fill(r, bar, j == 0 ? t->bar : bias_color);
        }
    }
}

static void draw_subsampling(const vw_state *s, vw_render *r, vw_rect a, const lenet_nodes *n, int current)
{
    const vw_theme *t = vw_render_theme(r);
    int lh = vw_line_h(r, VW_FONT_SMALL);
    if (n->sub[0] < 0 || n->sub[1] < 0) {
        header(r, a.x, a.y, a.w, current, "subsampling: plain 2x2 average pooling",
               "plain 2x2 average pooling");
        vw_text_wrap(r, VW_FONT_SMALL, a.x, a.y + lh, a.w, t->dim,
                     "Nothing to learn here. The 1998 model multiplies each map's 2x2 mean by a trainable "
                     "coefficient and adds a bias (open lenet5_1998).",
                     1);
        return;
    }
    header(r, a.x, a.y, a.w, current, "trainable subsampling: coef x mean(2x2) + bias, per map",
           "trainable subsampling");
    int y = a.y + lh;
    int tx = a.x + vw_text(r, VW_FONT_SMALL, a.x, y, t->bar, "coefficient");
    tx += vw_text(r, VW_FONT_SMALL, tx, y, t->dim, "  ");
    vw_text(r, VW_FONT_SMALL, tx, y, bias_color, "bias");
    y += lh + lh / 4;
    int gap = lh;
    int w2 = (a.w - gap) * 6 / 22; /* S2 has 6 maps, S4 16: widths in proportion */
    w2 = w2 > lh * 5 ? w2 : lh * 5;
    vw_rect r2 = {a.x, y, w2, a.y + a.h - y};
    vw_rect r4 = {a.x + w2 + gap, y, a.w - w2 - gap, a.y + a.h - y};
    draw_coefficients(s, r, r2, n->sub[0], "S2");
    draw_coefficients(s, r, r4, n->sub[1], "S4");
}

/* ------------------------------------------------------------------------ */
/* RBF output                                                               */
/* ------------------------------------------------------------------------ */

static void draw_rbf(const vw_state *s, vw_render *r, vw_rect a, const lenet_nodes *n, int current)
{
    const vw_theme *t = vw_render_theme(r);
    int lh = vw_line_h(r, VW_FONT_SMALL);
    if (n->rbf < 0) {
        header(r, a.x, a.y, a.w, current, "output: dense layer + softmax", "dense + softmax");
        vw_text_wrap(r, VW_FONT_SMALL, a.x, a.y + lh * 3 / 2, a.w, t->dim,
                     "The modern form scores the classes with a dense layer and turns the scores into "
                     "probabilities with a softmax. The 1998 model had an RBF layer instead: the squared "
                     "distance from F6's 84 values to a fixed 7x12 prototype bitmap of each class, smallest "
                     "wins (open lenet5_1998).",
                     1);
        return;
    }
    cs_param_info pr = {0};
    int classes = 0, h = 0, w = 0;
    vw_state_shape(s, n->rbf, &classes, &h, &w);
    if (cs_graph_param_count(s->m.g, n->rbf) < 1 || cs_graph_param(s->m.g, n->rbf, 0, &pr) != CS_OK ||
        classes <= 0 || pr.count != (size_t)classes * PROTO_W * PROTO_H)
        return;
    header(r, a.x, a.y, a.w, current, "RBF output: squared distance to each class prototype",
           "RBF: distance to prototypes");
    const float *d = vw_state_output(s, n->rbf);
    float dmax = 0.0f;
    int best = 0;
    for (int i = 0; d && i < classes; i++) {
        dmax = fmaxf(dmax, d[i]);
        best = d[i] < d[best] ? i : best;
    }
    int y = a.y + lh;
    vw_text_fit(r, VW_FONT_SMALL, a.x, y, a.w, t->dim,
                d ? "smaller = closer to the prototype: the smallest wins"
                  : "not computed yet: step on to the output (End) for the distances");
    y += lh + lh / 4;
    int row_h = (a.y + a.h - y) / classes;
    if (row_h < 4)
        return;
    /* the prototypes, one atlas of classes x (7 x 12) */
    int64_t kv[4] = {(int64_t)(intptr_t)pr.data, classes, (int64_t)s->data_gen, 0x1e};
    uint64_t key = vw_key(kv, 4);
    if (vw_image_key(r, SLOT_PROTOS) != key) {
        uint32_t *px = vw_image_pixels(r, SLOT_PROTOS, classes * PROTO_W, PROTO_H);
        if (!px)
            return;
        float amax = 0.0f;
        for (size_t i = 0; i < pr.count; i++)
            amax = fmaxf(amax, fabsf(pr.data[i]));
        vw_range rg = {-(amax > 0.0f ? amax : 1.0f), amax > 0.0f ? amax : 1.0f, 1};
        for (int c = 0; c < classes; c++)
            vw_colorize(pr.data + (size_t)c * PROTO_W * PROTO_H, PROTO_H, PROTO_W, rg,
                        px + (size_t)c * PROTO_W, classes * PROTO_W);
        vw_image_upload(r, SLOT_PROTOS, key);
    }
    int ph = row_h - 2;
    int pw = ph * PROTO_W / PROTO_H;
    pw = pw > 1 ? pw : 1;
    int label_w = 0;
    char label[96] = {0}, val[32] = {0};
    for (int c = 0; c < classes; c++) {
        int lw = vw_text_width(r, VW_FONT_SMALL, vw_state_label(s, c, label, sizeof label));
        label_w = lw > label_w ? lw : label_w;
    }
    int max_label = a.w / 3;
    label_w = (label_w < max_label ? label_w : max_label) + lh / 2;
    int val_w = vw_text_width(r, VW_FONT_SMALL, "00.00") + lh / 2;
    int bx = a.x + pw + lh / 2 + label_w;
    int bw = a.w - (bx - a.x) - val_w;
    for (int c = 0; c < classes; c++) {
        int ry = y + c * row_h;
        int win = d && c == best;
        if (win)
            vw_fill(r, (vw_rect){a.x - 2, ry, a.w + 4, row_h}, t->hover);
        vw_image_draw(r, SLOT_PROTOS, (vw_rect){c * PROTO_W, 0, PROTO_W, PROTO_H},
                      (vw_rect){a.x, ry + 1, pw, ph});
        vw_text_fit(r, VW_FONT_SMALL, a.x + pw + lh / 2, ry + (row_h - lh) / 2, label_w - lh / 4,
                    win ? t->good : t->text, vw_state_label(s, c, label, sizeof label));
        if (!d || bw < 4)
            continue;
        int len = dmax > 0.0f && isfinite(d[c]) ? (int)(d[c] / dmax * (float)bw) : 0;
        vw_fill(r, (vw_rect){bx, ry + row_h / 5, len > 1 ? len : 1, row_h - 2 * (row_h / 5)},
                win ? t->good : t->bar);
        snprintf(val, sizeof val, "%.1f", (double)d[c]);
        vw_text(r, VW_FONT_SMALL, bx + bw + lh / 4, ry + (row_h - lh) / 2, win ? t->good : t->dim, val);
    }
}

static void draw_content(vw_state *s, vw_render *r, vw_rect area, int block)
{
    (void)block;
    lenet_nodes n = {0};
    if (find_nodes(s, &n) != 0)
        return;
    const char *title = n.rbf >= 0 ? "LeNet-5 (1998): what the modern form dropped"
                                   : "LeNet-5, modern form: what it does differently from 1998";
    vw_rect a = vw_panel_box(r, area, title);
    int lh = vw_line_h(r, VW_FONT_SMALL);
    int sec = section_of(s, &n);
    int gap = lh * 3 / 2;
    int left_w = (a.w - gap) * 52 / 100;
    int table_h = a.h * 58 / 100;
    draw_table(s, r, (vw_rect){a.x, a.y, left_w, table_h}, &n, sec == SEC_TABLE);
    draw_subsampling(s, r, (vw_rect){a.x, a.y + table_h + lh / 2, left_w, a.h - table_h - lh / 2}, &n,
                     sec == SEC_SUB);
    draw_rbf(s, r, (vw_rect){a.x + left_w + gap, a.y, a.w - left_w - gap, a.h}, &n, sec == SEC_RBF);
}

/* Everything the panel draws stays inside its area. */
static void draw(vw_state *s, vw_render *r, vw_rect area, int block)
{
    vw_clip(r, area);
    draw_content(s, r, area, block);
    vw_unclip(r);
}

const vw_panel vw_panel_lenet = {"lenet", CS_BLOCK_NONE, applies, draw};
