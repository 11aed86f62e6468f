/* Right panel: what the current layer is and what came out of it. Op and
 * parameters (kernel, stride, padding, groups), block and role, inputs,
 * output shape, learnable parameters, MACs, device time, min / max / mean /
 * std, the fraction of zeros, and a histogram of the values.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "panel.h"

static const char *role_name(cs_role role)
{
    switch (role) {
    case CS_ROLE_RESIDUAL_BRANCH: return "residual branch F(x)";
    case CS_ROLE_RESIDUAL_SHORTCUT: return "shortcut (projection)";
    case CS_ROLE_RESIDUAL_SUM: return "sum F(x) + x";
    case CS_ROLE_INCEPTION_BRANCH: return "inception branch";
    case CS_ROLE_INCEPTION_CONCAT: return "depth concat";
    case CS_ROLE_DENSE_CONCAT: return "dense concat";
    case CS_ROLE_SE_SQUEEZE: return "squeeze";
    case CS_ROLE_SE_EXCITE: return "excitation";
    case CS_ROLE_SE_SCALE: return "scale (recalibration)";
    case CS_ROLE_DEPTHWISE: return "depthwise";
    case CS_ROLE_POINTWISE: return "pointwise";
    default: return "";
    }
}

/* "key: value" on one line; returns the next y. */
static int kv(vw_render *r, vw_rect a, int y, const char *key, const char *value)
{
    const vw_theme *t = vw_render_theme(r);
    int lh = vw_line_h(r, VW_FONT_SMALL);
    int kw = vw_text_width(r, VW_FONT_SMALL, "device time  ");
    vw_text(r, VW_FONT_SMALL, a.x, y, t->dim, key);
    int h = vw_text_wrap(r, VW_FONT_SMALL, a.x + kw, y, a.w - kw, t->text, value, 1);
    return y + (h > lh ? h : lh);
}

static void histogram(vw_render *r, vw_rect a, const vw_node_data *d)
{
    const vw_theme *t = vw_render_theme(r);
    int lh = vw_line_h(r, VW_FONT_SMALL);
    vw_rect plot = {a.x, a.y, a.w, a.h - lh};
    vw_fill(r, plot, t->panel_alt);
    float bw = (float)plot.w / (float)VW_HIST_BINS;
    for (int b = 0; b < VW_HIST_BINS; b++) {
        if (!d->hist[b])
            continue;
        /* square-root height keeps small bins visible next to a spike at 0 */
        float f = (float)d->hist[b] / (float)d->hist_max;
        int h = (int)((float)(plot.h - 2) * (f > 0.0f ? sqrtf(f) : 0.0f));
        if (h < 1)
            h = 1;
        int x0 = plot.x + (int)((float)b * bw), x1 = plot.x + (int)((float)(b + 1) * bw);
        vw_fill(r, (vw_rect){x0, plot.y + plot.h - h, x1 - x0 > 1 ? x1 - x0 - 1 : 1, h}, t->bar);
    }
    if (d->min < 0.0f && d->max > 0.0f) {
        int zx = plot.x + (int)((float)plot.w * (-d->min) / (d->max - d->min));
        vw_line(r, zx, plot.y, zx, plot.y + plot.h, t->text);
        vw_text(r, VW_FONT_SMALL, zx + 2, plot.y, t->dim, "0");
    }
    char lo[32] = {0}, hi[32] = {0};
    vw_text(r, VW_FONT_SMALL, plot.x, plot.y + plot.h, t->dim, vw_fmt_value(d->min, lo, sizeof lo));
    vw_text_right(r, VW_FONT_SMALL, plot.x + plot.w, plot.y + plot.h, t->dim,
                  vw_fmt_value(d->max, hi, sizeof hi));
    vw_text(r, VW_FONT_SMALL, plot.x + plot.w / 2 - vw_text_width(r, VW_FONT_SMALL, "histogram (sqrt)") / 2,
            plot.y + plot.h, t->dim, "histogram (sqrt)");
}

/* The input image; with the receptive field of the map position under the
 * mouse when there is one. */
static void input_view(const vw_state *s, vw_render *r, vw_rect a)
{
    const vw_theme *t = vw_render_theme(r);
    int lh = vw_line_h(r, VW_FONT_SMALL);
    const char *cap = s->image_ok ? "input image" : "input image (blank: the image failed to load)";
    int ch = s->zoom >= 0 ? s->zoom : s->hover_channel;
    int have_rf = ch >= 0 && s->hover_y >= 0 && s->hover_x >= 0;
    if (have_rf)
        cap = "input image: receptive field of the position under the mouse";
    vw_text_fit(r, VW_FONT_SMALL, a.x, a.y, a.w, s->image_ok ? t->dim : t->error, cap);
    vw_rect in = vw_draw_input(s, r, (vw_rect){a.x, a.y + lh + 2, a.w, a.h - lh - 2});
    if (in.w <= 0)
        return;
    vw_frame(r, vw_inset(in, -1), t->border, 1);
    int rf[4] = {0, 0, 0, 0};
    if (have_rf && vw_rfield(s, s->cursor, s->hover_y, s->hover_y, s->hover_x, s->hover_x, rf) == 0) {
        int x0 = in.x + rf[2] * in.w / s->m.in_w, x1 = in.x + (rf[3] + 1) * in.w / s->m.in_w;
        int y0 = in.y + rf[0] * in.h / s->m.in_h, y1 = in.y + (rf[1] + 1) * in.h / s->m.in_h;
        vw_frame(r, (vw_rect){x0, y0, x1 - x0, y1 - y0}, vw_rgba(255, 40, 200, 255), 2);
    }
}

static void draw(vw_state *s, vw_render *r, vw_rect area, int block)
{
    (void)block;
    const vw_theme *t = vw_render_theme(r);
    if (!s->m.g) {
        vw_panel_box(r, area, "layer");
        return;
    }
    const int node = s->cursor;
    const cs_graph *g = s->m.g;
    char title[200] = {0}, buf[320] = {0}, tmp[64] = {0}, tmp2[64] = {0};
    snprintf(title, sizeof title, "layer %d: %s", node, cs_graph_node_name(g, node));
    vw_rect a = vw_panel_box(r, area, title);
    int lh = vw_line_h(r, VW_FONT_SMALL);
    int y = a.y;

    char desc[256] = {0};
    cs_graph_node_describe(g, node, desc, sizeof desc);
    snprintf(buf, sizeof buf, "%s%s%s", cs_op_name(cs_graph_node_op(g, node)), desc[0] ? ": " : "", desc);
    y = kv(r, a, y, "op", buf);

    int b = cs_graph_node_block(g, node);
    if (b >= 0) {
        cs_block_info info = {0};
        cs_graph_block(g, b, &info);
        int idx = 0;
        cs_role role = cs_graph_node_role(g, node, &idx);
        snprintf(buf, sizeof buf, "%s (%s)%s%s", info.name, cs_block_kind_name(info.kind), role ? ", " : "",
                 role_name(role));
        y = kv(r, a, y, "block", buf);
    }
    const int *ins = NULL;
    int n_in = cs_graph_node_inputs(g, node, &ins);
    if (n_in > 0) {
        size_t used = 0;
        buf[0] = '\0';
        for (int i = 0; i < n_in && used < sizeof buf; i++) {
            int n =
                snprintf(buf + used, sizeof buf - used, "%s%s", i ? ", " : "", cs_graph_node_name(g, ins[i]));
            used += n > 0 ? (size_t)n : 0;
        }
        y = kv(r, a, y, n_in > 1 ? "inputs" : "input", buf);
    }
    int c = 0, h = 0, w = 0;
    vw_state_shape(s, node, &c, &h, &w);
    snprintf(buf, sizeof buf, "%d x %d x %d  (%s values)", c, h, w,
             vw_fmt_count((uint64_t)c * (uint64_t)h * (uint64_t)w, tmp, sizeof tmp));
    y = kv(r, a, y, "output", buf);
    snprintf(buf, sizeof buf, "%s    MACs %s", vw_fmt_count(cs_graph_node_params(g, node), tmp, sizeof tmp),
             vw_fmt_count(cs_graph_node_macs(g, node), tmp2, sizeof tmp2));
    y = kv(r, a, y, "params", buf);
    double ms = cs_session_node_ms(s->m.sess, node);
    if (ms >= 0.0 && vw_state_output(s, node))
        snprintf(buf, sizeof buf, "%.3f ms on %s", ms, s->m.device);
    else
        snprintf(buf, sizeof buf, "-  (%s)", s->m.device);
    y = kv(r, a, y, "device time", buf);

    const vw_node_data *d = vw_state_data(s, node);
    y += lh / 2;
    if (!d || !d->valid) {
        vw_text(r, VW_FONT_SMALL, a.x, y, t->dim, "not computed yet");
        return;
    }
    char v0[32] = {0}, v1[32] = {0}, v2[32] = {0}, v3[32] = {0};
    snprintf(buf, sizeof buf, "%s / %s", vw_fmt_value(d->min, v0, sizeof v0),
             vw_fmt_value(d->max, v1, sizeof v1));
    y = kv(r, a, y, "min / max", buf);
    snprintf(buf, sizeof buf, "%s  (std %s)", vw_fmt_value(d->mean, v2, sizeof v2),
             vw_fmt_value(d->std, v3, sizeof v3));
    y = kv(r, a, y, "mean", buf);
    int after_relu = cs_graph_node_op(g, node) == CS_OP_ACT && strcmp(desc, "relu") == 0;
    after_relu |= cs_graph_node_op(g, node) == CS_OP_ADD && strstr(desc, "relu") != NULL;
    snprintf(buf, sizeof buf, "%.1f%%%s", 100.0 * d->zeros, after_relu ? "  (ReLU sparsity)" : "");
    y = kv(r, a, y, "zeros", buf);
    y += lh / 2;
    int hist_h = a.y + a.h - y;
    if (hist_h > lh * 9)
        hist_h = lh * 9;
    if (hist_h > lh * 3)
        histogram(r, (vw_rect){a.x, y, a.w, hist_h}, d);
    y += hist_h + lh;
    if (a.y + a.h - y > lh * 6)
        input_view(s, r, (vw_rect){a.x, y, a.w, a.y + a.h - y});
}

const vw_panel vw_panel_info = {"info", CS_BLOCK_NONE, NULL, draw};
