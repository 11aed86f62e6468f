/* Right panel, below the info: the top-k classes with bars once the last
 * layer has run. Probabilities come from the model's softmax or, for models
 * ending in logits, a softmax taken here; LeNet-5 (1998) ends in RBF
 * distances, where the smallest distance is the prediction.
 */
#include <stdio.h>

#include "panel.h"

static void draw(vw_state *s, vw_render *r, vw_rect area, int block)
{
    (void)block;
    const vw_theme *t = vw_render_theme(r);
    const vw_prediction *p = &s->m.pred;
    vw_rect a =
        vw_panel_box(r, area, p->distances ? "prediction (RBF: smallest distance wins)" : "prediction");
    if (!s->m.g)
        return;
    int lh = vw_line_h(r, VW_FONT_SMALL);
    int y = a.y;
    if (!s->m.trained) {
        y += vw_text_wrap(r, VW_FONT_SMALL, a.x, y, a.w, t->error,
                          "untrained (seeded He init): the classes below mean nothing yet", 1);
        y += lh / 3;
    }
    if (!p->valid) {
        vw_text_wrap(r, VW_FONT_SMALL, a.x, y, a.w, t->dim,
                     "appears once the last layer has run (End runs them all)", 1);
        return;
    }
    const int row_h = lh * 2 + lh / 3;
    for (int k = 0; k < p->count && y + row_h <= a.y + a.h + lh / 3; k++) {
        char label[160] = {0}, val[48] = {0};
        vw_state_label(s, p->index[k], label, sizeof label);
        if (p->distances)
            snprintf(val, sizeof val, "d = %.3g", (double)p->value[k]);
        else
            snprintf(val, sizeof val, "%.1f%%", 100.0 * (double)p->value[k]);
        int vw = vw_text_width(r, VW_FONT_SMALL, val);
        vw_text_fit(r, VW_FONT_SMALL, a.x, y, a.w - vw - lh, k == 0 ? t->text : t->dim, label);
        vw_text_right(r, VW_FONT_SMALL, a.x + a.w, y, t->text, val);
        vw_rect bar = {a.x, y + lh + 1, a.w, lh * 2 / 3};
        vw_fill(r, bar, t->panel_alt);
        bar.w = (int)((float)a.w * p->bar[k]);
        vw_fill(r, bar, k == 0 ? t->accent : t->bar);
        y += row_h;
    }
}

const vw_panel vw_panel_predict = {"predict", CS_BLOCK_NONE, NULL, draw};
