/* Left panel: the layer list. Every node with its name (the enclosing
 * block's prefix dropped), a short op, output shape and device time, block
 * headers indented by nesting, the current layer highlighted, nodes not yet
 * computed dimmed, and the list scrolled to follow the cursor.
 */
#include <stdio.h>
#include <string.h>

#include "panel.h"

/* name without the "<block>." prefix of block b (unchanged when it has none). */
static const char *strip_block(const vw_state *s, const char *name, int b)
{
    cs_block_info info = {0};
    if (b < 0 || cs_graph_block(s->m.g, b, &info) != CS_OK || !info.name)
        return name;
    size_t n = strlen(info.name);
    if (strncmp(name, info.name, n) == 0 && name[n] == '.' && name[n + 1])
        return name + n + 1;
    return name;
}

/* The node's name without its block's prefix. */
static const char *short_name(const vw_state *s, int node)
{
    return strip_block(s, cs_graph_node_name(s->m.g, node), cs_graph_node_block(s->m.g, node));
}

static void draw(vw_state *s, vw_render *r, vw_rect area, int block)
{
    (void)block;
    const vw_theme *t = vw_render_theme(r);
    vw_ui *ui = &s->ui;
    char title[160] = {0};
    if (!s->m.g) {
        vw_panel_box(r, area, "layers");
        return;
    }
    snprintf(title, sizeof title, "%s  -  %d nodes", s->m.info->name, s->m.n_nodes);
    vw_rect a = vw_panel_box(r, area, title);
    const int lh = vw_line_h(r, VW_FONT_SMALL);
    const int row_h = lh + lh / 4;
    const int indent = lh;
    const int visible = a.h / row_h;
    const int progress = cs_session_progress(s->m.sess);

    /* follow the cursor: keep it a few rows from either edge */
    const int cur_row = s->m.node_row[s->cursor];
    if (s->list_follow && visible > 0) {
        int margin = visible > 8 ? 3 : 0;
        if (cur_row < s->list_scroll + margin || cur_row >= s->list_scroll + visible - margin)
            s->list_scroll = cur_row - visible / 2;
    }
    if (s->list_scroll > s->m.n_rows - visible)
        s->list_scroll = s->m.n_rows - visible;
    if (s->list_scroll < 0)
        s->list_scroll = 0;

    /* columns, right to left: time, shape, op */
    const int ms_w = vw_text_width(r, VW_FONT_SMALL, "000.0 ms");
    const int shape_w = vw_text_width(r, VW_FONT_SMALL, "2048x112x112");
    const int op_w = vw_text_width(r, VW_FONT_SMALL, "scaled tanh ");
    const int gap = lh / 2;
    const int x_ms = a.x + a.w;
    const int x_shape = x_ms - ms_w - gap;
    const int x_op = x_shape - shape_w - gap - op_w;
    const int show_shape = x_op - a.x > lh * 6;

    ui->list = area;
    ui->list_row_h = row_h;
    ui->list_y0 = a.y;
    ui->list_first = s->list_scroll;
    ui->list_visible = visible;

    vw_clip(r, a);
    for (int k = 0; k < visible && s->list_scroll + k < s->m.n_rows; k++) {
        const vw_row *row = &s->m.rows[s->list_scroll + k];
        int y = a.y + k * row_h;
        int ty = y + (row_h - lh) / 2;
        int x = a.x + row->depth * indent;
        vw_rect band = {a.x - lh / 3, y, a.w + 2 * (lh / 3), row_h};
        for (int d = 0; d < row->depth; d++) {
            int gx = a.x + d * indent + indent / 3;
            vw_line(r, gx, y, gx, y + row_h - 1, t->border);
        }
        if (row->node < 0) {
            cs_block_info info = {0};
            cs_graph_block(s->m.g, row->block, &info);
            char label[200] = {0};
            snprintf(label, sizeof label, "%s  (%s)",
                     info.name ? strip_block(s, info.name, info.parent) : "?", cs_block_kind_name(info.kind));
            vw_text_fit(r, VW_FONT_SMALL, x, ty, a.x + a.w - x, t->accent, label);
            continue;
        }
        int node = row->node;
        int computed = node <= progress && vw_state_output(s, node) != NULL;
        vw_color fg = computed ? t->text : t->dim;
        if (node == s->cursor) {
            vw_fill(r, band, t->current);
            fg = t->current_text;
        } else if (vw_contains(band, ui->mouse_x, ui->mouse_y) &&
                   vw_contains(area, ui->mouse_x, ui->mouse_y)) {
            vw_fill(r, band, t->hover);
        }
        char buf[96] = {0};
        double ms = cs_session_node_ms(s->m.sess, node);
        if (computed && ms >= 0.0) {
            if (s->m.max_ms > 0.0) {
                /* a thin bar under the time: the slowest layers stand out */
                int bw = (int)((double)ms_w * ms / s->m.max_ms);
                vw_fill(r, (vw_rect){x_ms - bw, y + row_h - 3, bw > 1 ? bw : 1, 2},
                        node == s->cursor ? fg : t->bar);
            }
            snprintf(buf, sizeof buf, ms >= 100.0 ? "%.0f ms" : (ms >= 10.0 ? "%.1f ms" : "%.2f ms"), ms);
            vw_text_right(r, VW_FONT_SMALL, x_ms, ty, fg, buf);
        }
        int name_end = show_shape ? x_op - gap : x_ms - ms_w - gap;
        if (show_shape) {
            vw_text_fit(r, VW_FONT_SMALL, x_op, ty, op_w, fg, vw_op_short(s, node, buf, sizeof buf));
            vw_text_right(r, VW_FONT_SMALL, x_shape, ty, fg, vw_fmt_shape(s, node, buf, sizeof buf));
        }
        vw_text_fit(r, VW_FONT_SMALL, x, ty, name_end - x, fg, short_name(s, node));
    }
    vw_unclip(r);

    /* scroll bar */
    if (s->m.n_rows > visible && visible > 0) {
        int bar_h = a.h * visible / s->m.n_rows;
        int bar_y = a.y + a.h * s->list_scroll / s->m.n_rows;
        vw_fill(r, (vw_rect){area.x + area.w - 3, bar_y, 3, bar_h < 8 ? 8 : bar_h}, t->border);
    }
}

const vw_panel vw_panel_layers = {"layers", CS_BLOCK_NONE, NULL, draw};
