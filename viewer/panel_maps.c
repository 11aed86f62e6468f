/* Centre panel: every channel of the current layer as a grid (auto columns,
 * 1-px gutters, nearest upscaling, pages when the maps would be too small to
 * read), the hovered map outlined with its value; or one zoomed channel with
 * the value under the mouse and its receptive field on the input image.
 * A page of maps is colour-mapped into one texture only when it changes.
 */
#include <math.h>
#include <stdio.h>

#include "panel.h"

#define GUTTER 1
#define MIN_MAP_PX 22 /* smallest map side worth reading, at scale 1 */

/* Columns that make n maps of mh x mw largest in W x H; the scale via *sc. */
static int best_cols(int n, int W, int H, int mh, int mw, int gut, float *sc)
{
    int best = 1;
    float best_sc = 0.0f;
    for (int cols = 1; cols <= n; cols++) {
        int rows = (n + cols - 1) / cols;
        float cw = (float)(W - (cols - 1) * gut) / (float)cols;
        float ch = (float)(H - (rows - 1) * gut) / (float)rows;
        float k = fminf(cw / (float)mw, ch / (float)mh);
        if (k > best_sc) {
            best_sc = k;
            best = cols;
        }
        if (rows == 1)
            break;
    }
    *sc = best_sc;
    return best;
}

static void draw_tooltip(vw_render *r, int mx, int my, vw_rect bounds, const char *text)
{
    const vw_theme *t = vw_render_theme(r);
    int lh = vw_line_h(r, VW_FONT_SMALL);
    int w = vw_text_width(r, VW_FONT_SMALL, text) + lh;
    int x = mx + lh;
    int y = my + lh;
    if (x + w > bounds.x + bounds.w)
        x = mx - w - lh / 2;
    if (y + lh * 3 / 2 > bounds.y + bounds.h)
        y = my - lh * 2;
    vw_fill(r, (vw_rect){x, y, w, lh * 3 / 2}, t->overlay);
    vw_frame(r, (vw_rect){x, y, w, lh * 3 / 2}, t->border, 1);
    vw_text(r, VW_FONT_SMALL, x + lh / 2, y + lh / 4, t->text, text);
}

/* A vector of class scores: labels apply to its entries. */
static int is_class_vector(const vw_state *s, int node)
{
    int c = 0, h = 0, w = 0, lc = 0;
    vw_state_shape(s, node, &c, &h, &w);
    vw_state_shape(s, s->m.n_nodes - 1, &lc, &h, &w);
    cs_op op = cs_graph_node_op(s->m.g, node);
    return c == lc && (op == CS_OP_DENSE || op == CS_OP_SOFTMAX || op == CS_OP_RBF);
}

/* ------------------------------------------------------------------------ */
/* A short vector as labelled bars                                          */
/* ------------------------------------------------------------------------ */

#define BARS_MAX 32

static void draw_bars(vw_state *s, vw_render *r, vw_rect a, int node, const float *out, int c)
{
    const vw_theme *t = vw_render_theme(r);
    vw_ui *ui = &s->ui;
    int lh = vw_line_h(r, VW_FONT_SMALL);
    int row_h = a.h / c;
    if (row_h > lh * 2)
        row_h = lh * 2;
    int classes = is_class_vector(s, node);
    char label[128] = {0}, val[32] = {0};
    int label_w = 0;
    for (int i = 0; i < c; i++) {
        if (classes)
            vw_state_label(s, i, label, sizeof label);
        else
            snprintf(label, sizeof label, "#%d", i);
        int lw = vw_text_width(r, VW_FONT_SMALL, label);
        label_w = lw > label_w ? lw : label_w;
    }
    label_w += lh;
    int val_w = vw_text_width(r, VW_FONT_SMALL, "-0.000e+00") + lh;
    vw_rect bars = {a.x + label_w, a.y + (a.h - row_h * c) / 2, a.w - label_w - val_w, row_h * c};
    if (bars.w < lh * 4)
        return;
    vw_range rg = vw_state_range(s, node, -1);
    float span = rg.hi - rg.lo;
    int zero_x = rg.diverging ? bars.x + bars.w / 2 : bars.x;
    for (int i = 0; i < c; i++) {
        int y = bars.y + i * row_h;
        if (i == s->hover_channel)
            vw_fill(r, (vw_rect){a.x, y, a.w, row_h}, t->hover);
        if (classes)
            vw_state_label(s, i, label, sizeof label);
        else
            snprintf(label, sizeof label, "#%d", i);
        vw_text_right(r, VW_FONT_SMALL, bars.x - lh / 2, y + (row_h - lh) / 2, t->text, label);
        float v = out[i];
        float f = span > 0.0f ? (v - rg.lo) / span : 0.5f;
        int x_end = bars.x + (int)(f * (float)bars.w);
        int x0 = x_end < zero_x ? x_end : zero_x;
        int bw = x_end < zero_x ? zero_x - x_end : x_end - zero_x;
        uint32_t argb = vw_colormap_argb(f, rg.diverging);
        vw_color col = vw_rgba((uint8_t)(argb >> 16), (uint8_t)(argb >> 8), (uint8_t)argb, 255);
        vw_fill(r, (vw_rect){x0, y + row_h / 6, bw > 1 ? bw : 1, row_h - row_h / 3}, col);
        vw_text(r, VW_FONT_SMALL, bars.x + bars.w + lh / 2, y + (row_h - lh) / 2, t->dim,
                vw_fmt_value(v, val, sizeof val));
    }
    vw_line(r, zero_x, bars.y, zero_x, bars.y + bars.h, t->border);
    ui->grid = (vw_rect){a.x, bars.y, a.w, bars.h};
    ui->grid_cols = 1;
    ui->grid_cell_w = a.w;
    ui->grid_cell_h = row_h;
    ui->grid_gutter = 0;
    ui->grid_first = 0;
    ui->grid_count = c;
    ui->grid_pages = 1;
    ui->map_h = ui->map_w = 1;
    ui->vector = 1;
}

/* ------------------------------------------------------------------------ */
/* Grid of channels                                                          */
/* ------------------------------------------------------------------------ */

static void draw_grid(vw_state *s, vw_render *r, vw_rect a, int node, const float *out, int c, int h, int w)
{
    const vw_theme *t = vw_render_theme(r);
    vw_ui *ui = &s->ui;
    const int vector = h == 1 && w == 1;
    float sc = 0.0f;
    int gut = GUTTER;
    int per_page = c;
    int cols = best_cols(c, a.w, a.h, h, w, gut, &sc);
    const float min_px = vector ? 3.0f : MIN_MAP_PX * vw_render_scale(r);
    if (sc * (float)(h > w ? h : w) < min_px && c > 1) {
        int cw = (int)ceilf(min_px * (float)w / (float)(h > w ? h : w));
        int ch = (int)ceilf(min_px * (float)h / (float)(h > w ? h : w));
        int fit = ((a.w + gut) / (cw + gut)) * ((a.h + gut) / (ch + gut));
        per_page = fit < 1 ? 1 : (fit < c ? fit : c);
        cols = best_cols(per_page, a.w, a.h, h, w, gut, &sc);
    }
    if (vector && sc < 5.0f)
        gut = 0;
    if (gut == 0)
        cols = best_cols(per_page, a.w, a.h, h, w, 0, &sc);
    const float max_cell = 28.0f * vw_render_scale(r);
    if (vector && sc > max_cell) {
        /* a vector's cells stay small: a few hundred values read as a pattern */
        sc = max_cell;
        cols = (a.w + gut) / ((int)sc + gut);
        cols = cols > per_page ? per_page : cols;
    }
    sc = vw_pixel_scale(sc);
    int pages = (c + per_page - 1) / per_page;
    if (s->page >= pages)
        s->page = pages - 1;
    if (s->page < 0)
        s->page = 0;
    int first = s->page * per_page;
    int count = c - first < per_page ? c - first : per_page;
    int rows = (per_page + cols - 1) / cols;
    int cell_w = (int)((float)w * sc), cell_h = (int)((float)h * sc);
    cell_w = cell_w < 1 ? 1 : cell_w;
    cell_h = cell_h < 1 ? 1 : cell_h;
    int grid_w = cols * cell_w + (cols - 1) * gut;
    int grid_h = rows * cell_h + (rows - 1) * gut;
    vw_rect grid = {a.x + (a.w - grid_w) / 2, a.y + (a.h - grid_h) / 2, grid_w, grid_h};

    /* one texture per page: the maps packed at native size */
    int64_t kv[9] = {(int64_t)s->data_gen, node, s->page, per_page, cols, s->scope, 0, 0, 1};
    if (s->scope >= VW_SCOPE_BLOCK)
        kv[6] = cs_session_progress(s->m.sess);
    uint64_t key = vw_key(kv, 9);
    if (vw_image_key(r, VW_SLOT_MAPS) != key) {
        int aw = cols * w, ah = ((count + cols - 1) / cols) * h;
        uint32_t *px = vw_image_pixels(r, VW_SLOT_MAPS, aw, ah);
        if (!px)
            return;
        vw_range rg = vw_state_range(s, node, -1);
        for (int i = 0; i < count; i++) {
            if (s->scope == VW_SCOPE_CHANNEL)
                rg = vw_state_range(s, node, first + i);
            uint32_t *dst = px + (size_t)(i / cols) * (size_t)h * (size_t)aw + (size_t)(i % cols) * (size_t)w;
            vw_colorize(out + (size_t)(first + i) * (size_t)h * (size_t)w, h, w, rg, dst, aw);
        }
        for (int i = count; i < ((count + cols - 1) / cols) * cols; i++)
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++)
                    px[(size_t)((i / cols) * h + y) * (size_t)aw + (size_t)((i % cols) * w + x)] =
                        0xff000000u;
        vw_image_upload(r, VW_SLOT_MAPS, key);
    }
    if (gut == 0 && count == per_page && vector) {
        vw_image_draw(r, VW_SLOT_MAPS, (vw_rect){0, 0, cols * w, rows * h}, grid);
    } else {
        for (int i = 0; i < count; i++) {
            vw_rect src = {(i % cols) * w, (i / cols) * h, w, h};
            vw_rect dst = {grid.x + (i % cols) * (cell_w + gut), grid.y + (i / cols) * (cell_h + gut), cell_w,
                           cell_h};
            vw_image_draw(r, VW_SLOT_MAPS, src, dst);
        }
    }

    ui->grid = grid;
    ui->grid_cols = cols;
    ui->grid_cell_w = cell_w;
    ui->grid_cell_h = cell_h;
    ui->grid_gutter = gut;
    ui->grid_first = first;
    ui->grid_count = count;
    ui->grid_pages = pages;
    ui->map_h = h;
    ui->map_w = w;
    ui->vector = vector;

    if (s->hover_channel >= first && s->hover_channel < first + count) {
        int i = s->hover_channel - first;
        vw_rect cell = {grid.x + (i % cols) * (cell_w + gut), grid.y + (i / cols) * (cell_h + gut), cell_w,
                        cell_h};
        int th = cell_w >= 12 ? 2 : 1;
        vw_frame(r, (vw_rect){cell.x - th, cell.y - th, cell.w + 2 * th, cell.h + 2 * th}, t->accent, th);
        char tip[256] = {0}, val[32] = {0};
        int y = s->hover_y < 0 ? 0 : s->hover_y, x = s->hover_x < 0 ? 0 : s->hover_x;
        float v = out[(size_t)s->hover_channel * (size_t)h * (size_t)w + (size_t)y * (size_t)w + (size_t)x];
        vw_fmt_value(v, val, sizeof val);
        if (vector && is_class_vector(s, node)) {
            char label[128] = {0};
            snprintf(tip, sizeof tip, "#%d %s = %s", s->hover_channel,
                     vw_state_label(s, s->hover_channel, label, sizeof label), val);
        } else if (vector) {
            snprintf(tip, sizeof tip, "#%d = %s", s->hover_channel, val);
        } else {
            snprintf(tip, sizeof tip, "channel %d  (%d, %d) = %s   click: zoom", s->hover_channel, y, x, val);
        }
        draw_tooltip(r, ui->mouse_x, ui->mouse_y, a, tip);
    }
}

/* ------------------------------------------------------------------------ */
/* One zoomed channel with its receptive field                              */
/* ------------------------------------------------------------------------ */

static void draw_zoom(vw_state *s, vw_render *r, vw_rect a, int node, const float *out, int h, int w)
{
    const vw_theme *t = vw_render_theme(r);
    vw_ui *ui = &s->ui;
    int lh = vw_line_h(r, VW_FONT_NORMAL);
    int ch = s->zoom;
    const float *map = out + (size_t)ch * (size_t)h * (size_t)w;
    vw_rect left = {a.x, a.y, a.w * 3 / 5, a.h - lh * 2};
    vw_rect right = {a.x + a.w * 3 / 5 + lh, a.y + lh * 3 / 2, a.w - a.w * 3 / 5 - lh, a.h - lh * 4};

    int64_t kv[5] = {(int64_t)s->data_gen, node, ch, s->scope, 2};
    if (s->scope >= VW_SCOPE_BLOCK)
        kv[4] = 3 + cs_session_progress(s->m.sess);
    vw_range rg = vw_state_range(s, node, ch);
    vw_rect dst = vw_draw_map(r, VW_SLOT_ZOOM, vw_key(kv, 5), map, h, w, rg, left);
    vw_frame(r, (vw_rect){dst.x - 1, dst.y - 1, dst.w + 2, dst.h + 2}, t->border, 1);
    ui->zoom_map = dst;

    vw_text(r, VW_FONT_SMALL, right.x, a.y, t->dim, "input image and the receptive field");
    vw_rect in = vw_draw_input(s, r, right);
    ui->zoom_input = in;

    char line[256] = {0}, val[32] = {0};
    if (s->hover_y >= 0 && s->hover_x >= 0 && s->hover_y < h && s->hover_x < w) {
        int y = s->hover_y, x = s->hover_x;
        vw_fmt_value(map[(size_t)y * (size_t)w + (size_t)x], val, sizeof val);
        /* the hovered position on the map */
        int px0 = dst.x + x * dst.w / w, px1 = dst.x + (x + 1) * dst.w / w;
        int py0 = dst.y + y * dst.h / h, py1 = dst.y + (y + 1) * dst.h / h;
        vw_frame(r, (vw_rect){px0 - 1, py0 - 1, px1 - px0 + 2, py1 - py0 + 2}, t->accent, 2);
        int rf[4] = {0, 0, 0, 0};
        if (vw_rfield(s, node, y, y, x, x, rf) == 0 && in.w > 0) {
            int rx0 = in.x + rf[2] * in.w / s->m.in_w, rx1 = in.x + (rf[3] + 1) * in.w / s->m.in_w;
            int ry0 = in.y + rf[0] * in.h / s->m.in_h, ry1 = in.y + (rf[1] + 1) * in.h / s->m.in_h;
            vw_frame(r, (vw_rect){rx0, ry0, rx1 - rx0, ry1 - ry0}, vw_rgba(255, 40, 200, 255), 2);
            snprintf(line, sizeof line, "receptive field: rows %d-%d, columns %d-%d (%d x %d px)", rf[0],
                     rf[1], rf[2], rf[3], rf[1] - rf[0] + 1, rf[3] - rf[2] + 1);
            vw_text_wrap(r, VW_FONT_SMALL, right.x, in.y + in.h + lh / 2, right.w, t->text, line, 1);
        }
        snprintf(line, sizeof line, "channel %d at (%d, %d) = %s", ch, y, x, val);
    } else {
        snprintf(line, sizeof line, "channel %d: move the mouse over the map", ch);
    }
    vw_text_fit(r, VW_FONT_NORMAL, a.x, a.y + a.h - lh * 3 / 2, left.w, t->text, line);
}

/* ------------------------------------------------------------------------ */
/* Panel                                                                    */
/* ------------------------------------------------------------------------ */

static void draw(vw_state *s, vw_render *r, vw_rect area, int block)
{
    (void)block;
    const vw_theme *t = vw_render_theme(r);
    vw_ui *ui = &s->ui;
    ui->grid = (vw_rect){0, 0, 0, 0};
    ui->zoom_map = (vw_rect){0, 0, 0, 0};
    ui->grid_pages = 1;
    if (!s->m.g) {
        vw_panel_box(r, area, "no model");
        return;
    }
    int node = s->cursor;
    int c = 0, h = 0, w = 0;
    vw_state_shape(s, node, &c, &h, &w);
    char title[320] = {0};
    if (s->zoom >= 0)
        snprintf(title, sizeof title, "%s  -  channel %d of %d  (%d x %d)   click or Esc: all channels",
                 cs_graph_node_name(s->m.g, node), s->zoom, c, h, w);
    else if (h == 1 && w == 1)
        snprintf(title, sizeof title, "%s  -  %d values%s", cs_graph_node_name(s->m.g, node), c,
                 c <= BARS_MAX ? "" : " (one cell each)");
    else
        snprintf(title, sizeof title, "%s  -  %d channels of %d x %d", cs_graph_node_name(s->m.g, node), c, h,
                 w);
    vw_rect a = vw_panel_box(r, area, title);
    int lh = vw_line_h(r, VW_FONT_SMALL);
    vw_rect maps = {a.x, a.y, a.w, a.h - lh * 2};
    vw_rect legend = {a.x, a.y + a.h - lh * 3 / 2, a.w, lh * 3 / 2};

    if (!s->image_ok) {
        int h2 = vw_text_wrap(r, VW_FONT_SMALL, maps.x, maps.y, maps.w, t->error,
                              "The image could not be loaded (see the status line), so the input is blank. "
                              "Drop another image on the window.",
                              1);
        maps.y += h2 + lh / 2;
        maps.h -= h2 + lh / 2;
    }
    const float *out = vw_state_output(s, node);
    if (!out) {
        char msg[700] = {0};
        int progress = s->m.sess ? cs_session_progress(s->m.sess) : -1;
        if (s->compute_failed)
            snprintf(msg, sizeof msg, "not computed: %s", s->msg[0] ? s->msg : "an error stopped the run");
        else
            snprintf(msg, sizeof msg, "computing on %s ... node %d of %d (%s)", s->m.device, progress + 1,
                     s->m.n_nodes - 1,
                     cs_graph_node_name(s->m.g, progress + 1 < s->m.n_nodes ? progress + 1 : node));
        vw_text_wrap(r, VW_FONT_NORMAL, maps.x, maps.y + maps.h / 2, maps.w,
                     s->compute_failed ? t->error : t->dim, msg, 1);
        return;
    }
    if (s->zoom >= c)
        s->zoom = -1;
    if (s->zoom >= 0)
        draw_zoom(s, r, maps, node, out, h, w);
    else if (h == 1 && w == 1 && c <= BARS_MAX)
        draw_bars(s, r, maps, node, out, c);
    else
        draw_grid(s, r, maps, node, out, c, h, w);

    /* legend and page indicator */
    int ch = s->zoom >= 0 ? s->zoom : (s->hover_channel >= 0 ? s->hover_channel : 0);
    vw_range rg = vw_state_range(s, node, ch);
    char cap[160] = {0};
    int b = cs_graph_node_block(s->m.g, node);
    if (s->scope == VW_SCOPE_CHANNEL)
        snprintf(cap, sizeof cap, "colour: per channel (channel %d)  g: change", ch);
    else if (s->scope == VW_SCOPE_BLOCK && b < 0)
        snprintf(cap, sizeof cap, "colour: per block (no block: layer)  g: change");
    else
        snprintf(cap, sizeof cap, "colour: %s%s  g: change", s->scope == VW_SCOPE_GLOBAL ? "" : "per ",
                 vw_scope_name(s->scope));
    int page_w = 0;
    if (ui->grid_pages > 1 && s->zoom < 0) {
        char pg[96] = {0};
        snprintf(pg, sizeof pg, "page %d/%d  [ ]", s->page + 1, ui->grid_pages);
        page_w = vw_text_width(r, VW_FONT_SMALL, pg) + lh;
        vw_text_right(r, VW_FONT_SMALL, legend.x + legend.w, legend.y + (legend.h - lh) / 2, t->accent, pg);
    }
    int lw = legend.w - page_w;
    if (lw > lh * 40)
        lw = lh * 40;
    vw_draw_legend(r, (vw_rect){legend.x, legend.y, lw, legend.h}, rg, cap);
}

const vw_panel vw_panel_maps = {"maps", CS_BLOCK_NONE, NULL, draw};
