/* Overlay (key m): the model menu, every architecture of the zoo with its
 * family and what it matches, the ones with shipped trained weights marked
 * (the zoo lists those first); arrows and Enter or a click open one. */
#include <stdio.h>

#include "panel.h"

static int applies(const vw_state *s, int block)
{
    (void)block;
    return s->picker;
}

static void draw(vw_state *s, vw_render *r, vw_rect area, int block)
{
    (void)block;
    if (!s->picker)
        return;
    const vw_theme *t = vw_render_theme(r);
    vw_ui *ui = &s->ui;
    int lh = vw_line_h(r, VW_FONT_NORMAL);
    int row_h = lh + lh / 4;
    int n = cs_model_count();
    int pad = lh;
    int w = area.w * 3 / 4;
    int h = n * row_h + lh * 2 + pad * 2;
    if (h > area.h - 2 * pad)
        h = area.h - 2 * pad;
    vw_rect box = {area.x + (area.w - w) / 2, area.y + pad, w, h};
    vw_fill(r, area, vw_rgba(0, 0, 0, 110));
    vw_fill(r, box, t->overlay);
    vw_frame(r, box, t->accent, 2);
    vw_text(r, VW_FONT_LARGE, box.x + pad, box.y + pad / 2, t->accent, "models");
    vw_text_right(r, VW_FONT_SMALL, box.x + box.w - pad, box.y + pad / 2, t->dim,
                  "Up/Down, Enter or click: open    Esc: close");
    vw_rect list = {box.x + pad, box.y + pad / 2 + lh * 2, box.w - 2 * pad, box.h - pad - lh * 2};
    int visible = list.h / row_h;
    if (s->picker_sel < 0)
        s->picker_sel = 0;
    if (s->picker_sel >= n)
        s->picker_sel = n - 1;
    int first = s->picker_sel - visible / 2;
    if (first > n - visible)
        first = n - visible;
    if (first < 0)
        first = 0;
    ui->picker = list;
    ui->picker_row_h = row_h;
    ui->picker_first = first;
    ui->picker_visible = visible;
    int name_w = 0, fam_w = 0;
    for (int i = 0; i < n; i++) {
        int nw = vw_text_width(r, VW_FONT_NORMAL, cs_model_at(i)->name);
        int fw = vw_text_width(r, VW_FONT_NORMAL, cs_model_at(i)->family);
        name_w = nw > name_w ? nw : name_w;
        fam_w = fw > fam_w ? fw : fam_w;
    }
    name_w += lh * 2;
    fam_w += lh;
    vw_clip(r, list);
    for (int i = first; i < n && i < first + visible; i++) {
        const cs_model_info *m = cs_model_at(i);
        int y = list.y + (i - first) * row_h;
        vw_rect band = {list.x - pad / 2, y, list.w + pad, row_h};
        vw_color fg = t->text;
        if (i == s->picker_sel) {
            vw_fill(r, band, t->current);
            fg = t->current_text;
        } else if (vw_contains(band, ui->mouse_x, ui->mouse_y)) {
            vw_fill(r, band, t->hover);
        }
        int current = s->m.info && s->m.info == m;
        vw_textf(r, VW_FONT_NORMAL, list.x, y, fg, "%s%s", m->name, current ? " *" : "");
        vw_text(r, VW_FONT_NORMAL, list.x + name_w, y, i == s->picker_sel ? fg : t->accent, m->family);
        char rel[256], path[1024];
        snprintf(rel, sizeof rel, "weights/%s.safetensors", m->name);
        int trained = cs_asset_path(rel, path, sizeof path) == CS_OK;
        int tag_w = trained ? vw_text_width(r, VW_FONT_SMALL, "trained") + lh / 2 : 0;
        if (trained)
            vw_text(r, VW_FONT_SMALL, list.x + name_w + fam_w, y + lh / 8,
                    i == s->picker_sel ? fg : t->good, "trained");
        vw_text_fit(r, VW_FONT_SMALL, list.x + name_w + fam_w + tag_w, y + lh / 8,
                    list.w - name_w - fam_w - tag_w, i == s->picker_sel ? fg : t->dim, m->reference);
    }
    vw_unclip(r);
}

const vw_panel vw_panel_picker = {"picker", CS_BLOCK_NONE, applies, draw};
