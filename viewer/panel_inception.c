/* Block panel for inception modules: the four branches side by side, each
 * with its path of kernels as built (1x1, 1x1 -> 3x3, 1x1 -> 5x5 or 3x3,
 * pool -> 1x1), its channel counts, the mean map of its output and its first
 * channels; then the depth concat as one bar with the branch slices marked
 * in the branch colours.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "panel.h"

#define BRANCHES 4
#define STRIP_MAX 4 /* channels shown under each mean map */

enum { SLOT_MEAN = VW_SLOT_PANEL, SLOT_STRIP = VW_SLOT_PANEL + BRANCHES };

static const vw_color branch_color[BRANCHES] = {
    {78, 121, 167, 255}, {242, 142, 43, 255}, {89, 161, 79, 255}, {176, 122, 161, 255}};

typedef struct inception_nodes {
    int out[BRANCHES]; /* each branch's last node */
    int concat;
    int x; /* the module input */
} inception_nodes;

/* Mean maps of the branch outputs, rebuilt only when the data changes. */
static struct {
    uint64_t key;
    int ready[BRANCHES];
    float *mean[BRANCHES];
    size_t cap[BRANCHES];
    vw_range rg[BRANCHES];
} cache;

/* A float's bits, for cache keys. */
static int64_t float_bits(float f)
{
    uint32_t u = 0;
    memcpy(&u, &f, sizeof u);
    return (int64_t)u;
}

static int find_nodes(const vw_state *s, int block, inception_nodes *n)
{
    cs_block_info info = {0};
    if (cs_graph_block(s->m.g, block, &info) != CS_OK)
        return -1;
    n->concat = -1;
    for (int b = 0; b < BRANCHES; b++)
        n->out[b] = -1;
    for (int i = info.first; i <= info.last; i++) {
        int idx = 0;
        cs_role role = cs_graph_node_role(s->m.g, i, &idx);
        if (role == CS_ROLE_INCEPTION_BRANCH && idx >= 0 && idx < BRANCHES)
            n->out[idx] = i;
        else if (role == CS_ROLE_INCEPTION_CONCAT && n->concat < 0)
            n->concat = i;
    }
    const int *ins = NULL;
    if (n->concat < 0 || cs_graph_node_inputs(s->m.g, info.first, &ins) < 1)
        return -1;
    n->x = ins[0];
    for (int b = 0; b < BRANCHES; b++)
        if (n->out[b] < 0)
            return -1;
    return 0;
}

static int applies(const vw_state *s, int block)
{
    inception_nodes n = {0};
    return find_nodes(s, block, &n) == 0;
}

static void refresh(const vw_state *s, const inception_nodes *n, uint64_t key)
{
    if (cache.key == key)
        return;
    cache.key = key;
    for (int b = 0; b < BRANCHES; b++) {
        cache.ready[b] = 0;
        const float *out = vw_state_output(s, n->out[b]);
        int c = 0, h = 0, w = 0;
        vw_state_shape(s, n->out[b], &c, &h, &w);
        size_t hw = (size_t)h * (size_t)w;
        if (!out || hw == 0)
            continue;
        if (hw > cache.cap[b]) {
            float *p = realloc(cache.mean[b], hw * sizeof *p);
            if (!p)
                continue;
            cache.mean[b] = p;
            cache.cap[b] = hw;
        }
        vw_mean_map(out, c, h, w, cache.mean[b]);
        float lo = cache.mean[b][0], hi = cache.mean[b][0];
        for (size_t i = 1; i < hw; i++) {
            lo = fminf(lo, cache.mean[b][i]);
            hi = fmaxf(hi, cache.mean[b][i]);
        }
        float amax = fmaxf(fabsf(lo), fabsf(hi));
        amax = amax > 0.0f ? amax : 1.0f;
        cache.rg[b] = lo < 0.0f ? (vw_range){-amax, amax, 1} : (vw_range){0.0f, hi > 0.0f ? hi : 1.0f, 0};
        cache.ready[b] = 1;
    }
}

/* "1x1 -> 3x3" and "192 -> 96 -> 128" for branch b, from the nodes as built. */
static void describe_branch(const vw_state *s, int block, int b, char *path, size_t psize, char *chans,
                            size_t csize)
{
    cs_block_info info = {0};
    cs_graph_block(s->m.g, block, &info);
    path[0] = chans[0] = '\0';
    int first = 1;
    for (int i = info.first; i <= info.last; i++) {
        int idx = 0;
        if (cs_graph_node_role(s->m.g, i, &idx) != CS_ROLE_INCEPTION_BRANCH || idx != b)
            continue;
        cs_op op = cs_graph_node_op(s->m.g, i);
        char step[48] = {0};
        if (op == CS_OP_CONV2D) {
            cs_conv2d_params p = {0};
            cs_graph_node_conv(s->m.g, i, &p);
            snprintf(step, sizeof step, "%dx%d", p.kernel_h, p.kernel_w);
        } else if (op == CS_OP_MAXPOOL || op == CS_OP_AVGPOOL) {
            cs_pool_params p = {0};
            cs_graph_node_pool(s->m.g, i, &p);
            snprintf(step, sizeof step, "%s %dx%d", op == CS_OP_MAXPOOL ? "max" : "avg", p.kernel_h,
                     p.kernel_w);
        } else {
            continue;
        }
        const int *ins = NULL;
        if (first && cs_graph_node_inputs(s->m.g, i, &ins) >= 1) {
            int c = 0, h = 0, w = 0;
            vw_state_shape(s, ins[0], &c, &h, &w);
            snprintf(chans, csize, "%d", c);
        }
        int c = 0, h = 0, w = 0;
        vw_state_shape(s, i, &c, &h, &w);
        size_t pl = strlen(path), cl = strlen(chans);
        snprintf(path + pl, psize - pl, "%s%s", first ? "" : " -> ", step);
        snprintf(chans + cl, csize - cl, " -> %d", c);
        first = 0;
    }
}

static void draw_branch(const vw_state *s, vw_render *r, vw_rect a, int block, const inception_nodes *n,
                        int b, uint64_t key, int current)
{
    const vw_theme *t = vw_render_theme(r);
    int lh = vw_line_h(r, VW_FONT_SMALL);
    int lhn = vw_line_h(r, VW_FONT_NORMAL);
    char path[128] = {0}, chans[128] = {0}, buf[160] = {0};
    describe_branch(s, block, b, path, sizeof path, chans, sizeof chans);
    vw_fill(r, (vw_rect){a.x, a.y, a.w, lh / 3 > 2 ? lh / 3 : 2}, branch_color[b]);
    if (current)
        vw_frame(r, vw_inset(a, -lh / 4), t->accent, 2);
    int y = a.y + lh / 2;
    vw_text_fit(r, VW_FONT_NORMAL, a.x, y, a.w, current ? t->accent : t->text, path);
    y += lhn;
    snprintf(buf, sizeof buf, "%s ch", chans);
    vw_text_fit(r, VW_FONT_SMALL, a.x, y, a.w, t->dim, buf);
    y += lh + lh / 4;
    if (!cache.ready[b]) {
        vw_text_wrap(r, VW_FONT_SMALL, a.x, y + lh / 2, a.w, t->dim,
                     "not computed yet: step on to fill it in", 1);
        return;
    }
    int c = 0, h = 0, w = 0;
    vw_state_shape(s, n->out[b], &c, &h, &w);
    int k = c < STRIP_MAX ? c : STRIP_MAX;
    int gut = 1;
    int cell = (a.w - (k - 1) * gut) / (k > 0 ? k : 1);
    int strip_h = cell > 0 && w > 0 ? cell * h / w : 0;
    int room = a.y + a.h - y;
    if (strip_h > room / 3)
        strip_h = 0;
    vw_rect mean_area = {a.x, y, a.w, room - (strip_h ? strip_h + lh + lh / 4 : lh)};
    int64_t mk[3] = {(int64_t)key, b, 0x1c};
    vw_rect m = vw_draw_map(r, SLOT_MEAN + b, vw_key(mk, 3), cache.mean[b], h, w, cache.rg[b], mean_area);
    vw_frame(r, vw_inset(m, -1), t->border, 1);
    vw_text_fit(r, VW_FONT_SMALL, a.x, m.y + m.h + 2, a.w, t->dim, "mean over channels");
    if (!strip_h)
        return;
    const float *out = vw_state_output(s, n->out[b]);
    vw_range rg = vw_state_range(s, n->out[b], -1);
    /* the scale is in the key: under the block scope it widens as the module computes */
    int64_t sk[5] = {(int64_t)key, b, float_bits(rg.lo), float_bits(rg.hi), 0x1d};
    uint64_t skey = vw_key(sk, 5);
    int slot = SLOT_STRIP + b;
    if (vw_image_key(r, slot) != skey) {
        uint32_t *px = vw_image_pixels(r, slot, k * w, h);
        if (!px)
            return;
        for (int i = 0; i < k; i++)
            vw_colorize(out + (size_t)i * (size_t)h * (size_t)w, h, w, rg, px + (size_t)i * (size_t)w, k * w);
        vw_image_upload(r, slot, skey);
    }
    int sy = a.y + a.h - strip_h;
    for (int i = 0; i < k; i++)
        vw_image_draw(r, slot, (vw_rect){i * w, 0, w, h},
                      (vw_rect){a.x + i * (cell + gut), sy, cell, strip_h});
}

/* The depth concat: one bar, a slice per branch. */
static void draw_concat(const vw_state *s, vw_render *r, vw_rect a, const inception_nodes *n, int current)
{
    const vw_theme *t = vw_render_theme(r);
    int lh = vw_line_h(r, VW_FONT_SMALL);
    int ch[BRANCHES] = {0};
    int total = 0;
    for (int b = 0; b < BRANCHES; b++) {
        int h = 0, w = 0;
        vw_state_shape(s, n->out[b], &ch[b], &h, &w);
        total += ch[b];
    }
    char buf[200] = {0};
    int c = 0, h = 0, w = 0;
    vw_state_shape(s, n->concat, &c, &h, &w);
    snprintf(buf, sizeof buf, "depth concat: %d + %d + %d + %d = %d channels of %dx%d%s", ch[0], ch[1], ch[2],
             ch[3], total, h, w, vw_state_output(s, n->concat) ? "" : "  (not computed yet)");
    vw_text_fit(r, VW_FONT_SMALL, a.x, a.y, a.w, current ? t->accent : t->text, buf);
    vw_rect bar = {a.x, a.y + lh + 2, a.w, a.h - lh - 2};
    if (current)
        vw_frame(r, vw_inset(bar, -2), t->accent, 2);
    int acc = 0;
    for (int b = 0; b < BRANCHES; b++) {
        int x0 = bar.x + (int)((int64_t)acc * bar.w / (total > 0 ? total : 1));
        acc += ch[b];
        int x1 = bar.x + (int)((int64_t)acc * bar.w / (total > 0 ? total : 1));
        vw_fill(r, (vw_rect){x0, bar.y, x1 - x0 - 1 > 0 ? x1 - x0 - 1 : 1, bar.h}, branch_color[b]);
        snprintf(buf, sizeof buf, "%d", ch[b]);
        int tw = vw_text_width(r, VW_FONT_SMALL, buf);
        if (tw + lh / 2 <= x1 - x0)
            vw_text(r, VW_FONT_SMALL, x0 + (x1 - x0 - tw) / 2, bar.y + (bar.h - lh) / 2,
                    vw_rgba(15, 15, 20, 255), buf);
    }
}

static void draw_content(vw_state *s, vw_render *r, vw_rect area, int block)
{
    const vw_theme *t = vw_render_theme(r);
    inception_nodes n = {0};
    if (find_nodes(s, block, &n) != 0)
        return;
    cs_block_info info = {0};
    cs_graph_block(s->m.g, block, &info);
    char title[256] = {0};
    snprintf(title, sizeof title, "inception module %s:  four branches in parallel, then a depth concat",
             info.name);
    vw_rect a = vw_panel_box(r, area, title);
    int lh = vw_line_h(r, VW_FONT_SMALL);

    int64_t kv[7] = {(int64_t)s->data_gen, block, 0, 0, 0, 0, 0x1e};
    for (int b = 0; b < BRANCHES; b++)
        kv[2 + b] = vw_state_output(s, n.out[b]) != NULL;
    uint64_t key = vw_key(kv, 7);
    refresh(s, &n, key);

    char line[200] = {0}, shape[64] = {0};
    snprintf(line, sizeof line,
             "Every branch reads x = %s (%s) and keeps its height and width, so the outputs stack.",
             cs_graph_node_name(s->m.g, n.x), vw_fmt_shape(s, n.x, shape, sizeof shape));
    vw_text_fit(r, VW_FONT_SMALL, a.x, a.y, a.w, t->dim, line);
    int top = lh + lh / 2;

    int idx = 0;
    cs_role role = cs_graph_node_role(s->m.g, s->cursor, &idx);
    int cur = role == CS_ROLE_INCEPTION_BRANCH ? idx : -1;
    int concat_h = lh * 3;
    int gap = lh;
    int col_w = (a.w - (BRANCHES - 1) * gap) / BRANCHES;
    int cols_h = a.h - top - concat_h - lh / 2;
    for (int b = 0; b < BRANCHES; b++) {
        vw_rect col = {a.x + b * (col_w + gap), a.y + top, col_w, cols_h};
        draw_branch(s, r, col, block, &n, b, key, cur == b);
    }
    draw_concat(s, r, (vw_rect){a.x, a.y + a.h - concat_h, a.w, concat_h}, &n,
                role == CS_ROLE_INCEPTION_CONCAT);
}

/* Everything the panel draws stays inside its area. */
static void draw(vw_state *s, vw_render *r, vw_rect area, int block)
{
    vw_clip(r, area);
    draw_content(s, r, area, block);
    vw_unclip(r);
}

const vw_panel vw_panel_inception = {"inception", CS_BLOCK_INCEPTION, applies, draw};
