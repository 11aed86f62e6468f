/* Bottom panel: the status line. Model, weights (or "untrained"), device,
 * colour scale, where the cursor is, and a keys hint; a message (an error in
 * red, or where a screenshot went) takes the right-hand side while shown.
 */
#include <stdio.h>

#include "panel.h"
#include "tour.h"

static void draw(vw_state *s, vw_render *r, vw_rect area, int block)
{
    (void)block;
    const vw_theme *t = vw_render_theme(r);
    vw_fill(r, area, t->panel_alt);
    vw_line(r, area.x, area.y, area.x + area.w, area.y, t->border);
    int lh = vw_line_h(r, VW_FONT_SMALL);
    int pad = lh / 2;
    int y = area.y + (area.h - lh) / 2;
    int x = area.x + pad;
    if (!s->m.g) {
        vw_text_fit(r, VW_FONT_SMALL, x, y, area.w - 2 * pad, s->msg_error ? t->error : t->text, s->msg);
        return;
    }
    char buf[512] = {0};
    x += vw_text(r, VW_FONT_SMALL, x, y, t->accent, s->m.info->name) + pad;
    if (s->m.trained)
        snprintf(buf, sizeof buf, "trained");
    else
        snprintf(buf, sizeof buf, "UNTRAINED (seeded)");
    x += vw_text(r, VW_FONT_SMALL, x, y, s->m.trained ? t->good : t->error, buf) + pad;
    snprintf(buf, sizeof buf, "%s  |  colour %s  |  layer %d/%d%s%s", s->m.device, vw_scope_name(s->scope),
             s->cursor, s->m.n_nodes - 1, s->playing ? "  |  playing" : "",
             vw_state_busy(s) ? "  |  computing..." : "");
    int right_w = area.w / 2;
    int info_w = area.x + area.w - right_w - x;
    x += vw_text_fit(r, VW_FONT_SMALL, x, y, info_w, t->text, buf) + pad;
    const char *hint =
        "h help  m models  <- -> step  space play  g colour  c captions  s screenshot  e export";
    char tourbuf[160] = {0};
    if (s->tour && s->tour_active) {
        vw_tour_describe(s->tour, tourbuf, sizeof tourbuf);
        hint = tourbuf;
    }
    const char *right = s->msg[0] ? s->msg : hint;
    vw_color rc = s->msg[0] ? (s->msg_error ? t->error : t->good) : t->dim;
    int rw = vw_text_width(r, VW_FONT_SMALL, right);
    int avail = area.x + area.w - pad - x;
    if (rw <= avail)
        vw_text_right(r, VW_FONT_SMALL, area.x + area.w - pad, y, rc, right);
    else
        vw_text_fit(r, VW_FONT_SMALL, x, y, avail, rc, right);
}

const vw_panel vw_panel_status = {"status", CS_BLOCK_NONE, NULL, draw};
