/* Overlay (key h): every key and mouse action of the viewer in two columns. */
#include <stdio.h>

#include "panel.h"

typedef struct help_line {
    const char *keys;
    const char *what;
} help_line;

static const help_line lines[] = {
    {"Right / PageDown", "next layer (runs it on the device)"},
    {"Left / PageUp", "previous layer (already computed)"},
    {"Home / End", "first layer / run to the output"},
    {"Space", "play through the layers / pause"},
    {"1 - 8", "LeNet, AlexNet, GoogLeNet, VGG, ResNet, Xception, SENet, DenseNet"},
    {"m", "model menu: every architecture of the zoo"},
    {"[  ]", "previous / next page of feature maps"},
    {"g", "colour scale: per channel / layer / block / global"},
    {"c", "captions: what this layer does, in plain words"},
    {"t", "leave / resume the tour (with --tour)"},
    {"s", "screenshot PNG (path in the status line)"},
    {"e", "export this layer: PNG grid + .npy"},
    {"+  -  0", "bigger / smaller / default UI scale"},
    {"p", "presenter mode: big fonts, high contrast"},
    {"f", "fullscreen"},
    {"h  F1", "this help"},
    {"Esc", "close overlay / leave zoom / quit"},
    {"q", "quit"},
    {"click a layer", "jump there (computing up to it)"},
    {"hover a map", "channel, position and value"},
    {"click a map", "zoom it: value under the mouse, receptive field"},
    {"wheel", "scroll the layer list / page the maps"},
    {"drop an image", "run the model on it"},
};

#define N_LINES ((int)(sizeof lines / sizeof lines[0]))

static int applies(const vw_state *s, int block)
{
    (void)block;
    return s->help;
}

static void draw(vw_state *s, vw_render *r, vw_rect area, int block)
{
    (void)block;
    if (!s->help)
        return;
    const vw_theme *t = vw_render_theme(r);
    int lh = vw_line_h(r, VW_FONT_NORMAL);
    int key_w = 0, what_w = 0;
    for (int i = 0; i < N_LINES; i++) {
        int kw = vw_text_width(r, VW_FONT_NORMAL, lines[i].keys);
        int ww = vw_text_width(r, VW_FONT_NORMAL, lines[i].what);
        key_w = kw > key_w ? kw : key_w;
        what_w = ww > what_w ? ww : what_w;
    }
    int pad = lh;
    int w = key_w + what_w + pad * 3;
    int h = (N_LINES + 2) * lh + pad * 2;
    if (w > area.w)
        w = area.w;
    if (h > area.h)
        h = area.h;
    vw_rect box = {area.x + (area.w - w) / 2, area.y + (area.h - h) / 2, w, h};
    vw_fill(r, area, vw_rgba(0, 0, 0, 110));
    vw_fill(r, box, t->overlay);
    vw_frame(r, box, t->accent, 2);
    vw_clip(r, box);
    int y = box.y + pad;
    vw_text(r, VW_FONT_LARGE, box.x + pad, y - lh / 3, t->accent, "convscope-viewer keys");
    y += lh * 2;
    for (int i = 0; i < N_LINES; i++, y += lh) {
        vw_text(r, VW_FONT_NORMAL, box.x + pad, y, t->accent, lines[i].keys);
        vw_text_fit(r, VW_FONT_NORMAL, box.x + pad * 2 + key_w, y, box.w - key_w - pad * 3, t->text,
                    lines[i].what);
    }
    vw_unclip(r);
}

const vw_panel vw_panel_help = {"help", CS_BLOCK_NONE, applies, draw};
