/* The frame layout: layer list on the left, feature maps in the centre (with
 * the block panel below them when one explains the current layer), info and
 * prediction on the right, the status line at the bottom, and the overlays
 * (caption, model menu, help) on top. Sizes follow the font sizes, so the UI
 * scale, HiDPI and presenter mode rescale everything.
 */
#include "panel.h"
#include "ui.h"

static int clampi(int v, int lo, int hi)
{
    return v < lo ? lo : (v > hi ? hi : v);
}

void vw_ui_draw(vw_state *s, vw_render *r, int out_w, int out_h, float dpi)
{
    vw_render_set_scale(r, dpi, s->ui_scale, s->presenter);
    vw_render_begin(r, out_w, out_h);
    const float k = vw_render_scale(r);
    const int gap = (int)(6.0f * k) > 2 ? (int)(6.0f * k) : 2;
    const int lh = vw_line_h(r, VW_FONT_SMALL);
    vw_ui *ui = &s->ui;

    const int status_h = lh * 2;
    const int body_h = out_h - status_h - 2 * gap;
    int left_w = clampi(out_w * 26 / 100, (int)(220.0f * k), (int)(430.0f * k));
    int right_w = clampi(out_w * 22 / 100, (int)(230.0f * k), (int)(380.0f * k));
    if (left_w + right_w > out_w * 2 / 3) {
        left_w = out_w / 3;
        right_w = out_w / 3 - gap;
    }
    const int centre_w = out_w - left_w - right_w - 4 * gap;

    ui->list = (vw_rect){gap, gap, left_w, body_h};
    vw_rect centre = {gap * 2 + left_w, gap, centre_w, body_h};
    vw_rect right = {centre.x + centre_w + gap, gap, right_w, body_h};
    int pred_h = clampi(lh * 16, body_h / 4, body_h / 2);
    ui->info = (vw_rect){right.x, right.y, right.w, right.h - pred_h - gap};
    ui->predict = (vw_rect){right.x, right.y + right.h - pred_h, right.w, pred_h};
    ui->status = (vw_rect){0, out_h - status_h, out_w, status_h};

    /* the caption band sits above the maps */
    vw_rect caption = {centre.x, centre.y, centre.w, 0};
    if (s->m.g) {
        caption.h = vw_caption_height(s, r, centre.w);
        if (caption.h > centre.h / 3)
            caption.h = centre.h / 3;
        if (caption.h > 0) {
            centre.y += caption.h + gap;
            centre.h -= caption.h + gap;
        }
    }

    int block = -1;
    const vw_panel *bp = s->m.g ? vw_panel_pick(s, &block) : NULL;
    ui->maps = centre;
    ui->block = (vw_rect){0, 0, 0, 0};
    if (bp) {
        int bh = centre.h * 42 / 100;
        ui->maps.h = centre.h - bh - gap;
        ui->block = (vw_rect){centre.x, centre.y + ui->maps.h + gap, centre.w, bh};
    }
    s->block_panel = bp;

    vw_panel_layers.draw(s, r, ui->list, -1);
    vw_panel_maps.draw(s, r, ui->maps, -1);
    if (bp)
        bp->draw(s, r, ui->block, block);
    vw_panel_info.draw(s, r, ui->info, -1);
    vw_panel_predict.draw(s, r, ui->predict, -1);
    vw_panel_status.draw(s, r, ui->status, -1);

    vw_rect whole = {0, 0, out_w, out_h - status_h};
    vw_panel_caption.draw(s, r, caption, -1);
    vw_panel_picker.draw(s, r, whole, -1);
    vw_panel_help.draw(s, r, whole, -1);
}
