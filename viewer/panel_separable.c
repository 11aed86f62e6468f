/* Block panel for depthwise separable convolutions (Xception): the input's
 * first channels, each through its own spatial filter (drawn between them)
 * to the depthwise output, then every pointwise output wired to all of them;
 * beside it the parameter and multiply-add saving against a regular
 * convolution of the same input, output and kernel.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "panel.h"

#define STRIP_MAX 8 /* channels shown per row */

enum { ROW_X = 0, ROW_DW, ROW_PW, ROWS };
enum { SLOT_ROWS = VW_SLOT_PANEL, SLOT_KERNELS = VW_SLOT_PANEL + ROWS };

typedef struct separable_nodes {
    int x, dw, pw;
} separable_nodes;

/* A float's bits, for cache keys. */
static int64_t float_bits(float f)
{
    uint32_t u = 0;
    memcpy(&u, &f, sizeof u);
    return (int64_t)u;
}

static int find_nodes(const vw_state *s, int block, separable_nodes *n)
{
    cs_block_info info = {0};
    if (cs_graph_block(s->m.g, block, &info) != CS_OK)
        return -1;
    n->dw = n->pw = -1;
    for (int i = info.first; i <= info.last; i++) {
        int idx = 0;
        cs_role role = cs_graph_node_role(s->m.g, i, &idx);
        if (role == CS_ROLE_DEPTHWISE && n->dw < 0)
            n->dw = i;
        else if (role == CS_ROLE_POINTWISE && n->pw < 0)
            n->pw = i;
    }
    const int *ins = NULL;
    if (n->dw < 0 || n->pw < 0 || cs_graph_node_inputs(s->m.g, n->dw, &ins) < 1)
        return -1;
    n->x = ins[0];
    return 0;
}

static int applies(const vw_state *s, int block)
{
    separable_nodes n = {0};
    return find_nodes(s, block, &n) == 0;
}

/* 73728 -> "73,728" */
static const char *fmt_int(uint64_t v, char *buf, size_t size)
{
    char digits[32] = {0};
    int n = snprintf(digits, sizeof digits, "%llu", (unsigned long long)v);
    size_t o = 0;
    for (int i = 0; i < n && o + 1 < size; i++) {
        if (i > 0 && (n - i) % 3 == 0 && o + 2 < size)
            buf[o++] = ',';
        buf[o++] = digits[i];
    }
    buf[o] = '\0';
    return buf;
}

/* k channels of node as one strip image in slot, rebuilt when key changes. */
static int build_strip(const vw_state *s, vw_render *r, int slot, uint64_t key, int node, int k)
{
    const float *out = vw_state_output(s, node);
    int c = 0, h = 0, w = 0;
    vw_state_shape(s, node, &c, &h, &w);
    if (!out || k <= 0 || h <= 0 || w <= 0)
        return 0;
    /* the scale is in the key: under the block scope it widens as the block computes */
    vw_range rg = vw_state_range(s, node, -1);
    int64_t kv[4] = {(int64_t)key, float_bits(rg.lo), float_bits(rg.hi), rg.diverging};
    key = vw_key(kv, 4);
    if (vw_image_key(r, slot) != key) {
        uint32_t *px = vw_image_pixels(r, slot, k * w, h);
        if (!px)
            return 0;
        for (int i = 0; i < k && i < c; i++)
            vw_colorize(out + (size_t)i * (size_t)h * (size_t)w, h, w, rg, px + (size_t)i * (size_t)w, k * w);
        vw_image_upload(r, slot, key);
    }
    return 1;
}

/* The first k depthwise filters (k x kh x kw) side by side in one image. */
static int build_kernels(const vw_state *s, vw_render *r, int node, int k, int *kh, int *kw)
{
    cs_param_info p = {0};
    if (cs_graph_param_count(s->m.g, node) < 1 || cs_graph_param(s->m.g, node, 0, &p) != CS_OK ||
        p.ndim != 4 || !p.data)
        return 0;
    *kh = p.dims[2];
    *kw = p.dims[3];
    int per = p.dims[1] * p.dims[2] * p.dims[3];
    if (k > p.dims[0] || *kh <= 0 || *kw <= 0)
        return 0;
    int64_t kv[5] = {(int64_t)(intptr_t)p.data, node, k, (int64_t)s->data_gen, 0x5b};
    uint64_t key = vw_key(kv, 5);
    if (vw_image_key(r, SLOT_KERNELS) != key) {
        uint32_t *px = vw_image_pixels(r, SLOT_KERNELS, k * *kw, *kh);
        if (!px)
            return 0;
        float amax = 0.0f;
        for (int i = 0; i < k * per; i++)
            amax = fmaxf(amax, fabsf(p.data[i]));
        vw_range rg = {-(amax > 0.0f ? amax : 1.0f), amax > 0.0f ? amax : 1.0f, 1};
        for (int i = 0; i < k; i++) /* the first filter of each group: one per channel */
            vw_colorize(p.data + (size_t)i * (size_t)per, *kh, *kw, rg, px + (size_t)i * (size_t)*kw,
                        k * *kw);
        vw_image_upload(r, SLOT_KERNELS, key);
    }
    return 1;
}

/* Left: the three rows and the wiring between them. */
static void draw_diagram(const vw_state *s, vw_render *r, vw_rect a, const separable_nodes *n)
{
    const vw_theme *t = vw_render_theme(r);
    int lh = vw_line_h(r, VW_FONT_SMALL);
    int nodes[ROWS] = {n->x, n->dw, n->pw};
    cs_conv2d_params dp = {0};
    cs_graph_node_conv(s->m.g, n->dw, &dp);
    char names[ROWS][48] = {{0}};
    snprintf(names[ROW_X], sizeof names[ROW_X], "x (input)");
    snprintf(names[ROW_DW], sizeof names[ROW_DW], "depthwise %dx%d", dp.kernel_h, dp.kernel_w);
    snprintf(names[ROW_PW], sizeof names[ROW_PW], "pointwise 1x1");
    int label_w = vw_text_width(r, VW_FONT_SMALL, "depthwise 3x3  ") + lh / 2;
    int sw = a.w - label_w;
    int gap = a.h * 16 / 100 > lh ? a.h * 16 / 100 : lh;
    int cell = (a.h - 2 * gap) / ROWS;
    int gut = lh / 3 > 2 ? lh / 3 : 2;
    int c_in = 0, c_out = 0, h = 0, w = 0;
    vw_state_shape(s, n->x, &c_in, &h, &w);
    vw_state_shape(s, n->pw, &c_out, &h, &w);
    int k = (sw + gut) / (cell + gut);
    k = k > STRIP_MAX ? STRIP_MAX : k;
    k = k > c_in ? c_in : k;
    k = k > c_out ? c_out : k;
    if (k < 1 || cell < 4)
        return;
    if (k * (cell + gut) - gut > sw) /* keep the strips inside when the row is narrow */
        cell = (sw - (k - 1) * gut) / k;
    int strip_w = k * (cell + gut) - gut;
    int x0 = a.x + label_w + (sw - strip_w) / 2;
    int row_y[ROWS] = {0};
    for (int i = 0; i < ROWS; i++)
        row_y[i] = a.y + i * (cell + gap);
    /* wiring first, under the maps: one line per channel, then all to all */
    vw_color wire = t->border;
    vw_color mix = t->dim;
    mix.a = 120;
    for (int i = 0; i < k; i++) {
        int cx = x0 + i * (cell + gut) + cell / 2;
        vw_line(r, cx, row_y[ROW_X] + cell, cx, row_y[ROW_DW], wire);
        for (int j = 0; j < k; j++) {
            int dx = x0 + j * (cell + gut) + cell / 2;
            vw_line(r, cx, row_y[ROW_DW] + cell, dx, row_y[ROW_PW], mix);
        }
    }
    int kh = 0, kw = 0;
    if (build_kernels(s, r, n->dw, k, &kh, &kw)) {
        int ks = gap - lh / 2;
        ks = ks > cell * 2 / 3 ? cell * 2 / 3 : ks;
        if (ks >= 6) {
            for (int i = 0; i < k; i++) {
                vw_rect dst = {x0 + i * (cell + gut) + (cell - ks) / 2, row_y[ROW_X] + cell + (gap - ks) / 2,
                               ks, ks};
                vw_image_draw(r, SLOT_KERNELS, (vw_rect){i * kw, 0, kw, kh}, dst);
                vw_frame(r, vw_inset(dst, -1), t->border, 1);
            }
        }
    }
    /* the rows */
    for (int i = 0; i < ROWS; i++) {
        int current = s->cursor == nodes[i];
        char shape[64] = {0}, buf[96] = {0}, num[32] = {0};
        int y = row_y[i];
        vw_text_fit(r, VW_FONT_SMALL, a.x, y, label_w - lh / 2, current ? t->accent : t->text, names[i]);
        if (cell >= 2 * lh)
            vw_text_fit(r, VW_FONT_SMALL, a.x, y + lh, label_w - lh / 2, t->dim,
                        vw_fmt_shape(s, nodes[i], shape, sizeof shape));
        if (i != ROW_X && cell >= 3 * lh) {
            snprintf(buf, sizeof buf, "%s params",
                     fmt_int(cs_graph_node_params(s->m.g, nodes[i]), num, sizeof num));
            vw_text_fit(r, VW_FONT_SMALL, a.x, y + 2 * lh, label_w - lh / 2, t->dim, buf);
        }
        int64_t kv[4] = {(int64_t)s->data_gen, nodes[i], k, 0x5c};
        if (!build_strip(s, r, SLOT_ROWS + i, vw_key(kv, 4), nodes[i], k)) {
            vw_fill(r, (vw_rect){x0, y, strip_w, cell}, t->panel);
            vw_text_fit(r, VW_FONT_SMALL, x0, y + (cell - lh) / 2, strip_w, t->dim, "not computed yet");
            continue;
        }
        int mh = 0, mw = 0, mc = 0;
        vw_state_shape(s, nodes[i], &mc, &mh, &mw);
        for (int j = 0; j < k; j++) {
            vw_rect dst = {x0 + j * (cell + gut), y, cell, cell};
            vw_image_draw(r, SLOT_ROWS + i, (vw_rect){j * mw, 0, mw, mh}, dst);
            vw_frame(r, vw_inset(dst, -1), current ? t->accent : t->border, 1);
        }
    }
    /* what the wiring means, in the label column beside it */
    if (gap >= lh) {
        vw_text_fit(r, VW_FONT_SMALL, a.x, row_y[ROW_X] + cell + (gap - lh) / 2, label_w - lh / 2, t->dim,
                    "own filter each");
        vw_text_fit(r, VW_FONT_SMALL, a.x, row_y[ROW_DW] + cell + (gap - lh) / 2, label_w - lh / 2, t->dim,
                    "all to all");
    }
}

/* Right: what a regular convolution would cost. */
static void draw_saving(const vw_state *s, vw_render *r, vw_rect a, const separable_nodes *n)
{
    const vw_theme *t = vw_render_theme(r);
    int lh = vw_line_h(r, VW_FONT_SMALL);
    cs_conv2d_params dp = {0}, pp = {0};
    cs_graph_node_conv(s->m.g, n->dw, &dp);
    cs_graph_node_conv(s->m.g, n->pw, &pp);
    int c_in = 0, c_out = 0, h = 0, w = 0;
    vw_state_shape(s, n->x, &c_in, &h, &w);
    vw_state_shape(s, n->pw, &c_out, &h, &w);
    uint64_t dwp = cs_graph_node_params(s->m.g, n->dw), pwp = cs_graph_node_params(s->m.g, n->pw);
    uint64_t sep = dwp + pwp;
    uint64_t full = (uint64_t)c_in * (uint64_t)c_out * (uint64_t)dp.kernel_h * (uint64_t)dp.kernel_w +
                    (pp.bias ? (uint64_t)c_out : 0u);
    uint64_t full_macs = (uint64_t)c_in * (uint64_t)c_out * (uint64_t)dp.kernel_h * (uint64_t)dp.kernel_w *
                         (uint64_t)h * (uint64_t)w;
    uint64_t sep_macs = cs_graph_node_macs(s->m.g, n->dw) + cs_graph_node_macs(s->m.g, n->pw);
    char buf[256] = {0}, f[32] = {0}, d[32] = {0}, p[32] = {0}, q[32] = {0};
    int y = a.y;
    snprintf(buf, sizeof buf, "A full %dx%d conv %d -> %d would need %s params; this needs %s + %s = %s.",
             dp.kernel_h, dp.kernel_w, c_in, c_out, fmt_int(full, f, sizeof f), fmt_int(dwp, d, sizeof d),
             fmt_int(pwp, p, sizeof p), fmt_int(sep, q, sizeof q));
    y += vw_text_wrap(r, VW_FONT_SMALL, a.x, y, a.w, t->text, buf, 1) + lh / 2;
    /* the two costs as bars on one scale */
    int bar_h = lh;
    const vw_color dw_color = {242, 142, 43, 255};
    snprintf(buf, sizeof buf, "full %dx%d conv", dp.kernel_h, dp.kernel_w);
    vw_text(r, VW_FONT_SMALL, a.x, y, t->dim, buf);
    y += lh;
    vw_fill(r, (vw_rect){a.x, y, a.w, bar_h}, t->dim);
    y += bar_h + lh / 3;
    int tx = a.x + vw_text(r, VW_FONT_SMALL, a.x, y, dw_color, "depthwise");
    tx += vw_text(r, VW_FONT_SMALL, tx, y, t->dim, " + ");
    vw_text(r, VW_FONT_SMALL, tx, y, t->bar, "pointwise");
    y += lh;
    int dw_w = full > 0 ? (int)((double)a.w * (double)dwp / (double)full) : 0;
    int pw_w = full > 0 ? (int)((double)a.w * (double)pwp / (double)full) : 0;
    vw_fill(r, (vw_rect){a.x, y, dw_w > 1 ? dw_w : 1, bar_h}, dw_color);
    vw_fill(r, (vw_rect){a.x + (dw_w > 1 ? dw_w : 1), y, pw_w > 1 ? pw_w : 1, bar_h}, t->bar);
    y += bar_h + lh / 2;
    if (sep > 0) {
        snprintf(buf, sizeof buf, "%.1fx fewer params", (double)full / (double)sep);
        if (vw_text_width(r, VW_FONT_LARGE, buf) > a.w)
            snprintf(buf, sizeof buf, "%.1fx fewer", (double)full / (double)sep);
        vw_text_fit(r, VW_FONT_LARGE, a.x, y, a.w, t->accent, buf);
        y += vw_line_h(r, VW_FONT_LARGE);
    }
    if (sep_macs > 0 && y + lh <= a.y + a.h) {
        vw_fmt_count(full_macs, f, sizeof f);
        vw_fmt_count(sep_macs, q, sizeof q);
        double ratio = (double)full_macs / (double)sep_macs;
        snprintf(buf, sizeof buf, "multiply-adds: %s instead of %s (%.1fx fewer)", q, f, ratio);
        if (y + vw_text_wrap(r, VW_FONT_SMALL, a.x, y, a.w, t->dim, buf, 0) > a.y + a.h)
            snprintf(buf, sizeof buf, "%.1fx fewer multiply-adds", ratio);
        vw_text_wrap(r, VW_FONT_SMALL, a.x, y, a.w, t->dim, buf, 1);
    }
}

static void draw_content(vw_state *s, vw_render *r, vw_rect area, int block)
{
    const vw_theme *t = vw_render_theme(r);
    separable_nodes n = {0};
    if (find_nodes(s, block, &n) != 0)
        return;
    cs_block_info info = {0};
    cs_graph_block(s->m.g, block, &info);
    char title[256] = {0};
    snprintf(title, sizeof title, "separable conv %s:  space first (depthwise), then channels (pointwise)",
             info.name);
    vw_rect a = vw_panel_box(r, area, title);
    int lh = vw_line_h(r, VW_FONT_SMALL);
    int c_in = 0, h = 0, w = 0;
    vw_state_shape(s, n.x, &c_in, &h, &w);
    char line[200] = {0};
    snprintf(
        line, sizeof line,
        "Each channel gets its own spatial filter and none are mixed; then a 1x1 conv mixes all %d channels.",
        c_in);
    vw_text_fit(r, VW_FONT_SMALL, a.x, a.y, a.w, t->dim, line);
    int top = lh + lh / 2;
    int left_w = a.w * 62 / 100;
    int gap = lh * 3 / 2;
    draw_diagram(s, r, (vw_rect){a.x, a.y + top, left_w, a.h - top}, &n);
    draw_saving(s, r, (vw_rect){a.x + left_w + gap, a.y + top, a.w - left_w - gap, a.h - top}, &n);
}

/* Everything the panel draws stays inside its area. */
static void draw(vw_state *s, vw_render *r, vw_rect area, int block)
{
    vw_clip(r, area);
    draw_content(s, r, area, block);
    vw_unclip(r);
}

const vw_panel vw_panel_separable = {"separable", CS_BLOCK_SEPARABLE, applies, draw};
