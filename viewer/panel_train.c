/* The frame of the training view: loss and accuracy curves on the left, the
 * first conv layer's filters in the middle, one layer's feature maps for a
 * test image with its top-3 prediction on the right, the status line and the
 * help overlay. Filters and maps are colour-mapped into one image slot each,
 * rebuilt only when the trainer's data changed (t->gen).
 */
#include <math.h>
#include <stdio.h>

#include "panel.h"
#include "train_view.h"

enum { SLOT_FILTERS = VW_SLOT_PANEL, SLOT_DELTA, SLOT_MAPS, SLOT_IMAGE };

static int clampi(int v, int lo, int hi)
{
    return v < lo ? lo : (v > hi ? hi : v);
}

/* ------------------------------------------------------------------------ */
/* Charts                                                                   */
/* ------------------------------------------------------------------------ */

typedef struct series {
    const vw_curve *c;
    vw_color color;
    const char *name;
} series;

/* 1, 2 or 5 times a power of ten, near range / n. */
static double nice_step(double range, int n)
{
    double raw = range / (double)(n > 0 ? n : 1);
    double mag = pow(10.0, floor(log10(raw > 0.0 ? raw : 1.0)));
    double norm = raw / mag;
    return (norm < 1.5 ? 1.0 : norm < 3.0 ? 2.0 : norm < 7.0 ? 5.0 : 10.0) * mag;
}

static const char *fmt_tick(double v, int percent, char *buf, size_t size)
{
    if (percent)
        snprintf(buf, size, "%.0f%%", v);
    else if (fabs(v) >= 10000.0)
        snprintf(buf, size, "%.0fK", v / 1000.0);
    else
        snprintf(buf, size, "%g", v);
    return buf;
}

typedef struct axis {
    double lo, hi;
    int log;
} axis;

static double axis_t(const axis *a, double v)
{
    if (a->log) {
        v = v > 1e-6 ? v : 1e-6;
        return (log10(v) - log10(a->lo)) / (log10(a->hi) - log10(a->lo));
    }
    return (v - a->lo) / (a->hi - a->lo);
}

/* Ticks of a y axis: decades (with 2 and 5 when there are few) or nice steps. */
static int y_ticks(const axis *a, double *out, int max)
{
    int n = 0;
    if (a->log) {
        int few = log10(a->hi) - log10(a->lo) < 2.0;
        for (int e = (int)floor(log10(a->lo)); e <= (int)ceil(log10(a->hi)) && n < max; e++)
            for (int m = 1; m <= 5 && n < max; m += m == 1 ? 1 : 3) {
                double v = (double)m * pow(10.0, e);
                if ((m == 1 || few) && v >= a->lo && v <= a->hi)
                    out[n++] = v;
            }
        return n;
    }
    double st = nice_step(a->hi - a->lo, 5);
    for (double v = ceil(a->lo / st) * st; v <= a->hi + st * 1e-6 && n < max; v += st)
        out[n++] = fabs(v) < st * 1e-6 ? 0.0 : v;
    return n;
}

/* A line chart of the series against training steps 0..xmax in area. */
static void draw_chart(vw_render *r, vw_rect area, const series *s, int ns, axis y, double xmax, int percent,
                       int epoch_steps, const char *empty)
{
    const vw_theme *t = vw_render_theme(r);
    const int lh = vw_line_h(r, VW_FONT_SMALL);
    const int pad = lh / 2;
    double ticks[24];
    int nt = y_ticks(&y, ticks, 24);
    char buf[48] = {0};
    int label_w = vw_text_width(r, VW_FONT_SMALL, "step");
    for (int i = 0; i < nt; i++) {
        int w = vw_text_width(r, VW_FONT_SMALL, fmt_tick(ticks[i], percent, buf, sizeof buf));
        label_w = w > label_w ? w : label_w;
    }
    /* legend row on top, x tick labels below */
    vw_rect plot = {area.x + label_w + pad, area.y + lh + pad, 0, 0};
    plot.w = area.x + area.w - plot.x - pad;
    plot.h = area.y + area.h - lh - pad / 2 - plot.y;
    if (plot.w < lh * 4 || plot.h < lh * 2)
        return;
    vw_fill(r, plot, t->bg);
    for (int i = 0; i < nt; i++) {
        int py = plot.y + plot.h - 1 - (int)lrint(axis_t(&y, ticks[i]) * (double)(plot.h - 1));
        vw_line(r, plot.x, py, plot.x + plot.w - 1, py, t->panel_alt);
        vw_text_right(r, VW_FONT_SMALL, plot.x - pad / 2, py - lh / 2, t->dim,
                      fmt_tick(ticks[i], percent, buf, sizeof buf));
    }
    double xst = nice_step(xmax, plot.w / (lh * 5) > 1 ? plot.w / (lh * 5) : 1);
    int ty = plot.y + plot.h + pad / 4;
    vw_text_right(r, VW_FONT_SMALL, plot.x - pad / 2, ty, t->dim, "step");
    int last_x = -1;
    for (double v = 0.0; v <= xmax + xst * 1e-6; v += xst) {
        int px = plot.x + (int)lrint(v / xmax * (double)(plot.w - 1));
        vw_line(r, px, plot.y, px, plot.y + plot.h - 1, t->panel_alt);
        fmt_tick(v, 0, buf, sizeof buf);
        int w = vw_text_width(r, VW_FONT_SMALL, buf);
        int lx = clampi(px - w / 2, plot.x, plot.x + plot.w - w);
        if (lx > last_x) {
            vw_text(r, VW_FONT_SMALL, lx, ty, t->dim, buf);
            last_x = lx + w + pad;
        }
    }
    /* epoch boundaries, while there are few enough to tell apart */
    for (int e = 1; epoch_steps > 0 && xmax / epoch_steps < 12.0 && e * (double)epoch_steps <= xmax; e++) {
        int px = plot.x + (int)lrint(e * (double)epoch_steps / xmax * (double)(plot.w - 1));
        for (int py = plot.y; py < plot.y + plot.h; py += 6)
            vw_line(r, px, py, px, py + 2, t->dim);
        snprintf(buf, sizeof buf, "epoch %d", e);
        vw_text(r, VW_FONT_SMALL, px + pad / 2, plot.y + pad / 4, t->dim, buf);
    }
    vw_frame(r, plot, t->border, 1);

    /* the curves, 2 px thick, clipped to the plot */
    int any = 0;
    vw_clip(r, plot);
    for (int k = 0; k < ns; k++) {
        const vw_curve *c = s[k].c;
        int px0 = 0, py0 = 0;
        for (int i = 0; i < c->n; i++) {
            int px = plot.x + (int)lrint((double)c->x[i] / xmax * (double)(plot.w - 1));
            int py = plot.y + plot.h - 1 - (int)lrint(axis_t(&y, c->y[i]) * (double)(plot.h - 1));
            if (i > 0) {
                vw_line(r, px0, py0, px, py, s[k].color);
                vw_line(r, px0, py0 - 1, px, py - 1, s[k].color);
            }
            if (c->n == 1)
                vw_fill(r, (vw_rect){px - 2, py - 2, 5, 5}, s[k].color);
            px0 = px;
            py0 = py;
        }
        any |= c->n > 0;
    }
    vw_unclip(r);
    if (!any && empty)
        vw_text_wrap(r, VW_FONT_SMALL, plot.x + pad, plot.y + pad, plot.w - 2 * pad, t->dim, empty, 1);

    /* legend: swatch, name, latest value; right-aligned above the plot */
    int x = plot.x + plot.w;
    for (int k = ns - 1; k >= 0; k--) {
        const vw_curve *c = s[k].c;
        if (c->n > 0)
            snprintf(buf, sizeof buf, percent ? "%s %.1f%%" : "%s %.3f", s[k].name, (double)c->y[c->n - 1]);
        else
            snprintf(buf, sizeof buf, "%s", s[k].name);
        x -= vw_text_width(r, VW_FONT_SMALL, buf);
        vw_text(r, VW_FONT_SMALL, x, area.y, t->text, buf);
        x -= pad / 2 + lh;
        vw_fill(r, (vw_rect){x, area.y + lh / 2 - 2, lh, 4}, s[k].color);
        x -= lh;
    }
}

static double x_extent(const vw_train *t)
{
    double x = t->steps > 100 ? t->steps : 100;
    return x;
}

static void draw_curves(vw_train *t, vw_render *r, vw_rect area)
{
    const vw_theme *th = vw_render_theme(r);
    const int gap = vw_line_h(r, VW_FONT_SMALL) / 2;
    char title[160] = {0};
    vw_rect top = {area.x, area.y, area.w, (area.h - gap) / 2};
    vw_rect bottom = {area.x, top.y + top.h + gap, area.w, area.h - top.h - gap};

    snprintf(title, sizeof title, "train loss, mean of %d steps (%s; l: %s)", t->window,
             t->log_loss ? "log" : "linear", t->log_loss ? "linear" : "log");
    vw_rect a = vw_panel_box(r, top, title);
    axis y = {0.0, 2.5, t->log_loss};
    double lo = 1e30, hi = 0.0;
    for (int i = 0; i < t->loss.n; i++) {
        lo = t->loss.y[i] < lo ? t->loss.y[i] : lo;
        hi = t->loss.y[i] > hi ? t->loss.y[i] : hi;
    }
    if (t->log_loss) {
        y.lo = t->loss.n ? pow(10.0, floor(log10(fmax(lo * 0.9, 1e-4)) * 4.0) / 4.0) : 0.1;
        y.hi = t->loss.n ? pow(10.0, ceil(log10(fmax(hi * 1.1, 1e-3)) * 4.0) / 4.0) : 10.0;
        if (y.hi <= y.lo * 1.5)
            y.hi = y.lo * 10.0;
    } else if (t->loss.n) {
        double st = nice_step(hi * 1.05, 5);
        y.hi = ceil(hi * 1.05 / st) * st;
    }
    series ls[1] = {{&t->loss, vw_rgba(255, 160, 70, 255), "train loss"}};
    char wait[96] = {0};
    snprintf(wait, sizeof wait, "the first point appears after %d steps", t->window);
    int epoch_steps = t->train ? t->train->count / t->batch : 0;
    draw_chart(r, a, ls, 1, y, x_extent(t), 0, epoch_steps,
               t->can_train ? wait : "not training (see the status line)");

    snprintf(title, sizeof title, "accuracy: train (last %d steps), test (%d images)", t->window,
             t->test && t->test->count < VW_TRAIN_EVAL_N ? t->test->count : VW_TRAIN_EVAL_N);
    a = vw_panel_box(r, bottom, title);
    series as[2] = {{&t->train_acc, th->accent, "train"}, {&t->test_acc, th->good, "test"}};
    draw_chart(r, a, as, 2, (axis){0.0, 100.0, 0}, x_extent(t), 1, epoch_steps, NULL);
}

/* ------------------------------------------------------------------------ */
/* Tiles: filters and feature maps                                          */
/* ------------------------------------------------------------------------ */

/* Columns that make n tiles of h x w largest in area; the cell side via *cell. */
static int best_cols(int n, vw_rect a, int h, int w, int gut, float *sc)
{
    int best = 1;
    float best_sc = 0.0f;
    for (int cols = 1; cols <= n; cols++) {
        int rows = (n + cols - 1) / cols;
        float k = fminf((float)(a.w - (cols - 1) * gut) / (float)(cols * w),
                        (float)(a.h - (rows - 1) * gut) / (float)(rows * h));
        if (k > best_sc) {
            best_sc = k;
            best = cols;
        }
    }
    *sc = best_sc;
    return best;
}

/* n tiles (stacked vertically in image slot `slot`, each h x w) as a grid
 * centred in area. */
static void draw_tiles(vw_render *r, int slot, int n, int h, int w, vw_rect a)
{
    const vw_theme *t = vw_render_theme(r);
    int gut = clampi((int)(4.0f * vw_render_scale(r)), 2, 12);
    float sc = 0.0f;
    int cols = best_cols(n, a, h, w, gut, &sc);
    sc = vw_pixel_scale(sc);
    int rows = (n + cols - 1) / cols;
    int cw = (int)((float)w * sc), ch = (int)((float)h * sc);
    if (cw < 1 || ch < 1)
        return;
    int x0 = a.x + (a.w - cols * cw - (cols - 1) * gut) / 2;
    int y0 = a.y + (a.h - rows * ch - (rows - 1) * gut) / 2;
    for (int i = 0; i < n; i++) {
        vw_rect dst = {x0 + (i % cols) * (cw + gut), y0 + (i / cols) * (ch + gut), cw, ch};
        vw_image_draw(r, slot, (vw_rect){0, i * h, w, h}, dst);
        vw_frame(r, (vw_rect){dst.x - 1, dst.y - 1, dst.w + 2, dst.h + 2}, t->border, 1);
    }
}

/* The colour scale of n floats: symmetric around zero when any is negative. */
static vw_range range_of(const float *v, size_t n)
{
    float lo = 0.0f, hi = 0.0f;
    for (size_t i = 0; i < n; i++) {
        lo = v[i] < lo ? v[i] : lo;
        hi = v[i] > hi ? v[i] : hi;
    }
    if (lo < 0.0f) {
        float m = fmaxf(-lo, hi);
        return (vw_range){-m, m, 1};
    }
    return (vw_range){0.0f, hi > 0.0f ? hi : 1.0f, 0};
}

/* n filter tiles (k x r x s floats) colour-mapped into `slot`, with a
 * caption above and a legend below, in area. */
static void filter_grid(vw_train *t, vw_render *r, vw_rect a, int slot, const float *w, const char *caption,
                        const char *legend_caption)
{
    const vw_theme *th = vw_render_theme(r);
    const int lh = vw_line_h(r, VW_FONT_SMALL);
    int n = t->f_k < VW_TRAIN_MAX_MAPS ? t->f_k : VW_TRAIN_MAX_MAPS;
    vw_range rg = range_of(w, (size_t)n * (size_t)t->f_r * (size_t)t->f_s);
    rg.diverging = 1;
    if (rg.lo == 0.0f && rg.hi == 1.0f) /* all zero: keep white at zero */
        rg.lo = -1.0f;
    int64_t kv[3] = {(int64_t)t->gen, slot, n};
    uint64_t key = vw_key(kv, 3);
    if (vw_image_key(r, slot) != key) {
        uint32_t *px = vw_image_pixels(r, slot, t->f_s, n * t->f_r);
        if (!px)
            return;
        vw_colorize(w, n * t->f_r, t->f_s, rg, px, t->f_s);
        vw_image_upload(r, slot, key);
    }
    vw_text_fit(r, VW_FONT_SMALL, a.x, a.y, a.w, th->text, caption);
    vw_rect legend = {a.x, a.y + a.h - lh * 3 / 2, a.w, lh * 3 / 2};
    draw_tiles(r, slot, n, t->f_r, t->f_s, (vw_rect){a.x, a.y + lh * 3 / 2, a.w, legend.y - a.y - lh * 2});
    vw_draw_legend(r, legend, rg, legend_caption);
}

static void draw_filters(vw_train *t, vw_render *r, vw_rect area)
{
    const vw_theme *th = vw_render_theme(r);
    const int lh = vw_line_h(r, VW_FONT_SMALL);
    char title[160] = {0}, note[160] = {0};
    if (t->conv < 0) {
        vw_rect a = vw_panel_box(r, area, "filters");
        vw_text(r, VW_FONT_SMALL, a.x, a.y, th->dim, "this model has no convolution");
        return;
    }
    snprintf(title, sizeof title, "filters of %s: %d x %dx%d", cs_graph_node_name(t->g, t->conv), t->f_k,
             t->f_r, t->f_s);
    vw_rect a = vw_panel_box(r, area, title);
    snprintf(note, sizeof note, "input channel 0 of %d%s; blue < 0 < red", t->f_cin,
             t->f_k > VW_TRAIN_MAX_MAPS ? "; the first 64" : "");
    int note_h = vw_text_wrap(r, VW_FONT_SMALL, a.x, a.y, a.w, th->dim, note, 1) + lh / 2;
    int half = (a.h - note_h - lh) / 2;
    filter_grid(t, r, (vw_rect){a.x, a.y + note_h, a.w, half}, SLOT_FILTERS, t->filters, "weights now",
                "weight");
    snprintf(note, sizeof note, "change since step 0 (own scale)");
    filter_grid(t, r, (vw_rect){a.x, a.y + note_h + half + lh, a.w, half}, SLOT_DELTA, t->filters_delta, note,
                "change");
}

/* The test image as stored (28x28 grey), fitted into area. */
static vw_rect draw_sample(vw_train *t, vw_render *r, vw_rect area)
{
    const cs_dataset *d = t->test;
    int64_t kv[2] = {t->sample, 'I'};
    uint64_t key = vw_key(kv, 2);
    if (vw_image_key(r, SLOT_IMAGE) != key) {
        uint32_t *px = vw_image_pixels(r, SLOT_IMAGE, d->width, d->height);
        if (!px)
            return area;
        const uint8_t *src = d->pixels + (size_t)t->sample * (size_t)d->width * (size_t)d->height;
        for (int i = 0; i < d->width * d->height; i++)
            px[i] = 0xff000000u | ((uint32_t)src[i] << 16) | ((uint32_t)src[i] << 8) | src[i];
        vw_image_upload(r, SLOT_IMAGE, key);
    }
    int side = area.w < area.h ? area.w : area.h;
    vw_rect dst = {area.x, area.y, side, side};
    vw_image_draw(r, SLOT_IMAGE, (vw_rect){0, 0, d->width, d->height}, dst);
    vw_frame(r, dst, vw_render_theme(r)->border, 1);
    return dst;
}

static void draw_prediction(vw_train *t, vw_render *r, vw_rect a)
{
    const vw_theme *th = vw_render_theme(r);
    const int lh = vw_line_h(r, VW_FONT_SMALL);
    char label[128] = {0}, val[32] = {0};
    int truth = t->test->labels[t->sample];
    int x = a.x + vw_text(r, VW_FONT_SMALL, a.x, a.y, th->dim, "true class: ");
    vw_text_fit(r, VW_FONT_SMALL, x, a.y, a.x + a.w - x, th->text,
                vw_train_label(t, truth, label, sizeof label));
    if (!t->top_valid)
        return;
    int y = a.y + lh * 3 / 2;
    int row_h = (a.y + a.h - y) / VW_TRAIN_TOPK;
    row_h = clampi(row_h, lh + 4, lh * 2 + lh / 2);
    for (int k = 0; k < VW_TRAIN_TOPK && t->top[k] >= 0; k++, y += row_h) {
        vw_train_label(t, t->top[k], label, sizeof label);
        snprintf(val, sizeof val, "%.1f%%", 100.0 * (double)t->top_p[k]);
        int vw = vw_text_width(r, VW_FONT_SMALL, val);
        vw_color c = k > 0 ? th->dim : (t->top[k] == truth ? th->good : th->error);
        vw_text_fit(r, VW_FONT_SMALL, a.x, y, a.w - vw - lh, k == 0 ? c : th->text, label);
        vw_text_right(r, VW_FONT_SMALL, a.x + a.w, y, th->text, val);
        int bh = row_h - lh - 3 > 3 ? row_h - lh - 3 : 3;
        vw_rect bar = {a.x, y + lh + 1, a.w, bh < lh / 2 ? bh : lh / 2};
        vw_fill(r, bar, th->panel_alt);
        bar.w = (int)((float)a.w * t->top_p[k]);
        vw_fill(r, bar, k == 0 ? c : th->bar);
    }
}

static void draw_maps(vw_train *t, vw_render *r, vw_rect area)
{
    const vw_theme *th = vw_render_theme(r);
    const int lh = vw_line_h(r, VW_FONT_SMALL);
    char title[200] = {0};
    if (t->n_layers == 0) {
        vw_panel_box(r, area, "feature maps");
        return;
    }
    int node = t->layers[t->layer];
    int c = 0, h = 0, w = 0;
    cs_graph_node_shape(t->g, node, &c, &h, &w);
    snprintf(title, sizeof title, "layer %d/%d %s (%s, %dx%dx%d)  [ ] choose", t->layer + 1, t->n_layers,
             cs_graph_node_name(t->g, node), cs_op_name(cs_graph_node_op(t->g, node)), c, h, w);
    vw_rect a = vw_panel_box(r, area, title);
    if (!t->test || !t->can_train) { /* the whole reason, where there is room for it */
        vw_text_wrap(r, VW_FONT_SMALL, a.x, a.y, a.w, t->msg_error ? th->error : th->dim,
                     t->msg[0] ? t->msg : "not training", 1);
        return;
    }
    /* the image and the prediction on top */
    int band = clampi(a.h / 4, lh * 5, lh * 9);
    vw_rect img = draw_sample(t, r, (vw_rect){a.x, a.y, band, band});
    char cap[64] = {0};
    snprintf(cap, sizeof cap, "test image %d (n: next)", t->sample);
    int px = img.x + img.w + lh;
    vw_text(r, VW_FONT_SMALL, px, a.y, th->accent, cap);
    draw_prediction(t, r, (vw_rect){px, a.y + lh * 3 / 2, a.x + a.w - px, band - lh * 3 / 2});

    vw_rect legend = {a.x, a.y + a.h - lh * 3 / 2, a.w, lh * 3 / 2};
    vw_rect grid = {a.x, a.y + band + lh, a.w, legend.y - a.y - band - lh * 3 / 2};
    if (!t->maps_valid) {
        vw_text(r, VW_FONT_SMALL, grid.x, grid.y, th->dim, "appears once the model has run");
        return;
    }
    int n = c < VW_TRAIN_MAX_MAPS ? c : VW_TRAIN_MAX_MAPS;
    vw_range rg = range_of(t->maps, (size_t)c * (size_t)h * (size_t)w);
    int64_t kv[3] = {(int64_t)t->gen, 'M', node};
    uint64_t key = vw_key(kv, 3);
    if (vw_image_key(r, SLOT_MAPS) != key) {
        uint32_t *pix = vw_image_pixels(r, SLOT_MAPS, w, n * h);
        if (!pix)
            return;
        vw_colorize(t->maps, n * h, w, rg, pix, w);
        vw_image_upload(r, SLOT_MAPS, key);
    }
    draw_tiles(r, SLOT_MAPS, n, h, w, grid);
    char lc[64] = {0};
    snprintf(lc, sizeof lc, n < c ? "first %d of %d channels" : "%d channels", n, c);
    vw_draw_legend(r, legend, rg, lc);
}

/* ------------------------------------------------------------------------ */
/* Status line and help                                                     */
/* ------------------------------------------------------------------------ */

static void draw_status(vw_train *t, vw_render *r, vw_rect area)
{
    const vw_theme *th = vw_render_theme(r);
    vw_fill(r, area, th->panel_alt);
    vw_line(r, area.x, area.y, area.x + area.w, area.y, th->border);
    int lh = vw_line_h(r, VW_FONT_SMALL);
    int pad = lh / 2;
    int y = area.y + (area.h - lh) / 2;
    int x = area.x + pad;
    char buf[1400] = {0}, rate[32] = {0};
    x += vw_text(r, VW_FONT_SMALL, x, y, th->accent, t->info->name) + pad;
    if (!t->can_train)
        x += vw_text(r, VW_FONT_SMALL, x, y, th->error, "NOT TRAINING") + pad;
    else if (t->paused)
        x += vw_text(r, VW_FONT_SMALL, x, y, th->error, "PAUSED") + pad;
    if (t->evaluating)
        x += vw_textf(r, VW_FONT_SMALL, x, y, th->good, "testing %d/%d", t->eval_pos,
                      t->test->count < VW_TRAIN_EVAL_N ? t->test->count : VW_TRAIN_EVAL_N) +
             pad;
    vw_fmt_count((uint64_t)(t->rate + 0.5), rate, sizeof rate);
    double epoch = t->train ? (double)t->steps * t->batch / (double)t->train->count : 0.0;
    snprintf(buf, sizeof buf, "%s  |  step %d  |  epoch %.2f  |  %s img/s  |  batch %d, adam lr %g%s%s",
             t->device, t->steps, epoch, rate, t->batch, t->lr, t->saved[0] ? "  |  saved " : "", t->saved);
    int avail = area.x + area.w - pad - x;
    const char *right = t->msg[0] ? t->msg : "space pause  [ ] layer  n image  s save  l log  h help  q quit";
    vw_color rc = t->msg[0] ? (t->msg_error ? th->error : th->good) : th->dim;
    int rw = vw_text_width(r, VW_FONT_SMALL, right);
    int lw = vw_text_width(r, VW_FONT_SMALL, buf);
    if (lw + pad + rw <= avail) {
        vw_text(r, VW_FONT_SMALL, x, y, th->text, buf);
        vw_text_right(r, VW_FONT_SMALL, area.x + area.w - pad, y, rc, right);
    } else if (t->msg[0]) { /* a message wins over the numbers */
        int mw = rw < avail * 2 / 3 ? rw : avail * 2 / 3;
        vw_text_fit(r, VW_FONT_SMALL, x, y, avail - mw - pad, th->text, buf);
        vw_text_fit(r, VW_FONT_SMALL, area.x + area.w - pad - mw, y, mw, rc, right);
    } else {
        vw_text_fit(r, VW_FONT_SMALL, x, y, avail, th->text, buf);
    }
}

typedef struct help_line {
    const char *keys, *what;
} help_line;

static const help_line help_lines[] = {
    {"Space", "pause / resume training"},
    {"]  Right", "next layer on the right"},
    {"[  Left", "previous layer"},
    {"n", "next test image"},
    {"s", "save the weights (--out, safetensors)"},
    {"l", "loss axis: linear / log"},
    {"p", "presenter mode: big fonts, high contrast"},
    {"+  -  0", "bigger / smaller / default UI scale"},
    {"h  F1", "this help"},
    {"q  Esc", "quit"},
};

#define N_HELP ((int)(sizeof help_lines / sizeof help_lines[0]))

static void draw_help(vw_render *r, vw_rect area)
{
    const vw_theme *th = vw_render_theme(r);
    int lh = vw_line_h(r, VW_FONT_NORMAL);
    int key_w = 0, what_w = vw_text_width(r, VW_FONT_LARGE, "training view keys");
    for (int i = 0; i < N_HELP; i++) {
        int kw = vw_text_width(r, VW_FONT_NORMAL, help_lines[i].keys);
        int ww = vw_text_width(r, VW_FONT_NORMAL, help_lines[i].what);
        key_w = kw > key_w ? kw : key_w;
        what_w = ww > what_w ? ww : what_w;
    }
    int pad = lh;
    int w = clampi(key_w + what_w + pad * 3, 0, area.w);
    int h = clampi((N_HELP + 2) * lh + pad * 2, 0, area.h);
    vw_rect box = {area.x + (area.w - w) / 2, area.y + (area.h - h) / 2, w, h};
    vw_fill(r, area, vw_rgba(0, 0, 0, 110));
    vw_fill(r, box, th->overlay);
    vw_frame(r, box, th->accent, 2);
    vw_clip(r, box);
    int y = box.y + pad;
    vw_text(r, VW_FONT_LARGE, box.x + pad, y - lh / 3, th->accent, "training view keys");
    y += lh * 2;
    for (int i = 0; i < N_HELP; i++, y += lh) {
        vw_text(r, VW_FONT_NORMAL, box.x + pad, y, th->accent, help_lines[i].keys);
        vw_text_fit(r, VW_FONT_NORMAL, box.x + pad * 2 + key_w, y, box.w - key_w - pad * 3, th->text,
                    help_lines[i].what);
    }
    vw_unclip(r);
}

/* ------------------------------------------------------------------------ */
/* Frame                                                                    */
/* ------------------------------------------------------------------------ */

void vw_train_draw(vw_train *t, vw_render *r, int out_w, int out_h, float dpi)
{
    vw_render_set_scale(r, dpi, t->ui_scale, t->presenter);
    vw_render_begin(r, out_w, out_h);
    const float k = vw_render_scale(r);
    const int gap = (int)(6.0f * k) > 2 ? (int)(6.0f * k) : 2;
    const int status_h = vw_line_h(r, VW_FONT_SMALL) * 2;
    const int body_h = out_h - status_h - 2 * gap;
    const int left_w = out_w * 37 / 100;
    const int mid_w = out_w * 24 / 100;
    const int right_w = out_w - left_w - mid_w - 4 * gap;

    draw_curves(t, r, (vw_rect){gap, gap, left_w, body_h});
    draw_filters(t, r, (vw_rect){gap * 2 + left_w, gap, mid_w, body_h});
    draw_maps(t, r, (vw_rect){gap * 3 + left_w + mid_w, gap, right_w, body_h});
    draw_status(t, r, (vw_rect){0, out_h - status_h, out_w, status_h});
    if (t->help)
        draw_help(r, (vw_rect){0, 0, out_w, out_h - status_h});
}
