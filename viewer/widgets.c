/* Widgets shared by the panels: cache keys, colour-mapping float maps into
 * image slots, mean maps and norms, the colour legend, titled boxes and
 * number formatting.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "panel.h"


uint64_t vw_key(const int64_t *v, int n)
{
    uint64_t h = 1469598103934665603ull;
    for (int i = 0; i < n; i++) {
        uint64_t x = (uint64_t)v[i];
        for (int b = 0; b < 8; b++) {
            h ^= (x >> (8 * b)) & 0xffu;
            h *= 1099511628211ull;
        }
    }
    return h ? h : 1;
}

float vw_pixel_scale(float sc)
{
    return sc >= 3.0f ? floorf(sc) : sc;
}

void vw_colorize(const float *src, int h, int w, vw_range rg, uint32_t *dst, int pitch)
{
    float span = rg.hi - rg.lo;
    float inv = span > 0.0f ? 1.0f / span : 0.0f;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            dst[(size_t)y * (size_t)pitch + (size_t)x] =
                vw_colormap_argb((src[(size_t)y * (size_t)w + (size_t)x] - rg.lo) * inv, rg.diverging);
}

vw_rect vw_draw_map(vw_render *r, int slot, uint64_t key, const float *map, int h, int w, vw_range rg,
                    vw_rect area)
{
    vw_rect dst = {area.x, area.y, 0, 0};
    if (!map || h <= 0 || w <= 0 || area.w <= 0 || area.h <= 0)
        return dst;
    if (vw_image_key(r, slot) != key) {
        uint32_t *px = vw_image_pixels(r, slot, w, h);
        if (!px)
            return dst;
        vw_colorize(map, h, w, rg, px, w);
        vw_image_upload(r, slot, key);
    }
    float sc = vw_pixel_scale(fminf((float)area.w / (float)w, (float)area.h / (float)h));
    dst.w = (int)((float)w * sc);
    dst.h = (int)((float)h * sc);
    if (dst.w < 1)
        dst.w = 1;
    if (dst.h < 1)
        dst.h = 1;
    dst.x = area.x + (area.w - dst.w) / 2;
    dst.y = area.y + (area.h - dst.h) / 2;
    vw_image_draw(r, slot, (vw_rect){0, 0, w, h}, dst);
    return dst;
}

void vw_mean_map(const float *chw, int c, int h, int w, float *out)
{
    size_t hw = (size_t)h * (size_t)w;
    for (size_t i = 0; i < hw; i++)
        out[i] = 0.0f;
    for (int k = 0; k < c; k++)
        for (size_t i = 0; i < hw; i++)
            out[i] += chw[(size_t)k * hw + i];
    for (size_t i = 0; i < hw; i++)
        out[i] /= (float)(c > 0 ? c : 1);
}

double vw_l2(const float *x, size_t n)
{
    double s = 0.0;
    for (size_t i = 0; i < n; i++)
        s += (double)x[i] * x[i];
    return sqrt(s);
}

void vw_draw_legend(vw_render *r, vw_rect area, vw_range rg, const char *caption)
{
    const vw_theme *t = vw_render_theme(r);
    int lh = vw_line_h(r, VW_FONT_SMALL);
    char lo[32] = {0}, hi[32] = {0}, mid[32] = {0};
    vw_fmt_value(rg.lo, lo, sizeof lo);
    vw_fmt_value(rg.hi, hi, sizeof hi);
    vw_fmt_value(0.5f * (rg.lo + rg.hi), mid, sizeof mid);
    int lw = vw_text_width(r, VW_FONT_SMALL, lo);
    int cw = vw_text_width(r, VW_FONT_SMALL, caption);
    int pad = lh / 2;
    int bar_x = area.x + cw + pad + lw + pad / 2;
    int bar_w = area.w - (bar_x - area.x) - vw_text_width(r, VW_FONT_SMALL, hi) - pad / 2;
    if (bar_w < 20)
        return;
    int bar_h = lh * 2 / 3;
    int y = area.y + (area.h - lh) / 2;
    vw_text(r, VW_FONT_SMALL, area.x, y, t->dim, caption);
    vw_text(r, VW_FONT_SMALL, area.x + cw + pad, y, t->text, lo);
    int slot = rg.diverging ? VW_SLOT_LEGEND_DIV : VW_SLOT_LEGEND_SEQ;
    const int steps = 256;
    if (vw_image_key(r, slot) != 1) {
        uint32_t *px = vw_image_pixels(r, slot, steps, 1);
        if (px) {
            for (int i = 0; i < steps; i++)
                px[i] = vw_colormap_argb((float)i / (float)(steps - 1), rg.diverging);
            vw_image_upload(r, slot, 1);
        }
    }
    vw_rect bar = {bar_x, y + (lh - bar_h) / 2, bar_w, bar_h};
    vw_image_draw(r, slot, (vw_rect){0, 0, steps, 1}, bar);
    vw_frame(r, bar, t->border, 1);
    if (rg.diverging) {
        int zx = bar.x + bar.w / 2;
        vw_line(r, zx, bar.y - 2, zx, bar.y + bar.h + 1, t->text);
    }
    vw_text(r, VW_FONT_SMALL, bar.x + bar.w + pad / 2, y, t->text, hi);
}

vw_rect vw_panel_box(vw_render *r, vw_rect area, const char *title)
{
    const vw_theme *t = vw_render_theme(r);
    vw_fill(r, area, t->panel);
    int lh = vw_line_h(r, VW_FONT_NORMAL);
    int pad = lh / 3;
    if (!title || !title[0])
        return vw_inset(area, pad);
    vw_fill(r, (vw_rect){area.x, area.y, area.w, lh + pad}, t->panel_alt);
    vw_text_fit(r, VW_FONT_NORMAL, area.x + pad, area.y + pad / 2, area.w - 2 * pad, t->accent, title);
    vw_rect c = {area.x + pad, area.y + lh + pad * 2, area.w - 2 * pad, area.h - lh - pad * 3};
    if (c.w < 0)
        c.w = 0;
    if (c.h < 0)
        c.h = 0;
    return c;
}

const char *vw_fmt_count(uint64_t v, char *buf, size_t size)
{
    if (v >= 1000000000ull)
        snprintf(buf, size, "%.2fG", (double)v / 1e9);
    else if (v >= 1000000ull)
        snprintf(buf, size, "%.2fM", (double)v / 1e6);
    else if (v >= 10000ull)
        snprintf(buf, size, "%.1fK", (double)v / 1e3);
    else
        snprintf(buf, size, "%llu", (unsigned long long)v);
    return buf;
}

const char *vw_fmt_value(float v, char *buf, size_t size)
{
    float a = fabsf(v);
    if (v == 0.0f)
        snprintf(buf, size, "0");
    else if (a >= 1e4f || a < 1e-3f)
        snprintf(buf, size, "%.2e", (double)v);
    else
        snprintf(buf, size, "%.3g", (double)v);
    return buf;
}

vw_rect vw_draw_input(const vw_state *s, vw_render *r, vw_rect area)
{
    const vw_model *m = &s->m;
    vw_rect dst = {area.x, area.y, 0, 0};
    if (!m->g || !m->input || m->in_h <= 0 || m->in_w <= 0)
        return dst;
    int64_t kv[2] = {(int64_t)s->data_gen, 7};
    uint64_t key = vw_key(kv, 2);
    if (vw_image_key(r, VW_SLOT_INPUT) != key) {
        uint32_t *px = vw_image_pixels(r, VW_SLOT_INPUT, m->in_w, m->in_h);
        if (!px)
            return dst;
        size_t hw = (size_t)m->in_h * (size_t)m->in_w;
        for (size_t i = 0; i < hw; i++) {
            uint32_t rgb[3] = {0, 0, 0};
            for (int k = 0; k < 3; k++) {
                int c = m->in_c >= 3 ? k : 0;
                float v = (m->input[(size_t)c * hw + i] * m->info->std[c] + m->info->mean[c]) * 255.0f;
                rgb[k] = v <= 0.0f ? 0u : (v >= 255.0f ? 255u : (uint32_t)(v + 0.5f));
            }
            px[i] = 0xff000000u | (rgb[0] << 16) | (rgb[1] << 8) | rgb[2];
        }
        vw_image_upload(r, VW_SLOT_INPUT, key);
    }
    float sc = vw_pixel_scale(fminf((float)area.w / (float)m->in_w, (float)area.h / (float)m->in_h));
    dst.w = (int)((float)m->in_w * sc);
    dst.h = (int)((float)m->in_h * sc);
    dst.x = area.x + (area.w - dst.w) / 2;
    dst.y = area.y;
    vw_image_draw(r, VW_SLOT_INPUT, (vw_rect){0, 0, m->in_w, m->in_h}, dst);
    return dst;
}

const char *vw_op_short(const vw_state *s, int node, char *buf, size_t size)
{
    const vw_geom *g = &s->m.geom[node];
    char d[256] = {0};
    cs_op op = cs_graph_node_op(s->m.g, node);
    cs_graph_node_describe(s->m.g, node, d, sizeof d);
    char stride[16] = "";
    if (g->kind == VW_GEOM_WINDOW && (g->sh > 1 || g->sw > 1))
        snprintf(stride, sizeof stride, "/%d", g->sh);
    switch (op) {
    case CS_OP_CONV2D:
        if (g->kind == VW_GEOM_WINDOW)
            snprintf(buf, size, "%s %dx%d%s", strstr(d, "depthwise") ? "dw" : "conv", g->kh, g->kw, stride);
        else
            snprintf(buf, size, "conv");
        break;
    case CS_OP_MAXPOOL:
    case CS_OP_AVGPOOL:
        snprintf(buf, size, "%s %dx%d%s", op == CS_OP_MAXPOOL ? "max" : "avg", g->kh, g->kw, stride);
        break;
    case CS_OP_ADAPTIVE_AVGPOOL: {
        int c = 0, h = 0, w = 0;
        vw_state_shape(s, node, &c, &h, &w);
        snprintf(buf, size, "%s", h == 1 && w == 1 ? "global avg" : "adapt avg");
        break;
    }
    case CS_OP_ACT: snprintf(buf, size, "%s", d); break;
    case CS_OP_BATCHNORM: snprintf(buf, size, "bn"); break;
    case CS_OP_ADD: snprintf(buf, size, "%s", strstr(d, "relu") ? "add+relu" : "add"); break;
    default: snprintf(buf, size, "%s", cs_op_name(op)); break;
    }
    return buf;
}

const char *vw_fmt_shape(const vw_state *s, int node, char *buf, size_t size)
{
    int c = 0, h = 0, w = 0;
    vw_state_shape(s, node, &c, &h, &w);
    if (h == 1 && w == 1)
        snprintf(buf, size, "%d", c);
    else
        snprintf(buf, size, "%dx%dx%d", c, h, w);
    return buf;
}
