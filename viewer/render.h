/* The viewer's thin render layer over SDL_Renderer: rectangles, lines, text
 * (stb_truetype glyph atlases baked once per size), colour themes and cached
 * image slots for colour-mapped float maps. Panels draw only through this.
 * Coordinates are output pixels (HiDPI aware: the caller sets the scale).
 */
#ifndef VW_RENDER_H
#define VW_RENDER_H

#include <stddef.h>
#include <stdint.h>

#include <SDL.h>

typedef struct vw_rect {
    int x, y, w, h;
} vw_rect;

typedef struct vw_color {
    uint8_t r, g, b, a;
} vw_color;

/* Semantic text sizes; pixel sizes follow the UI scale, HiDPI and presenter mode. */
typedef enum vw_font {
    VW_FONT_SMALL = 0,
    VW_FONT_NORMAL,
    VW_FONT_LARGE,
    VW_FONT_TITLE,
    VW_FONT_COUNT
} vw_font;

/* Colours of one theme; presenter mode switches to a high-contrast one. */
typedef struct vw_theme {
    vw_color bg;        /* window background */
    vw_color panel;     /* panel background */
    vw_color panel_alt; /* alternate rows, headers */
    vw_color border;
    vw_color text;
    vw_color dim;     /* secondary text, not-yet-computed rows */
    vw_color accent;  /* titles, block names */
    vw_color current; /* current layer row background */
    vw_color current_text;
    vw_color hover; /* hovered row / cell */
    vw_color bar;   /* bars in charts */
    vw_color error;
    vw_color good;
    vw_color overlay; /* translucent backdrop of overlays */
} vw_theme;

/* Image slots: one cached streaming texture each, rebuilt only when the
 * caller's key changes. Block panels own VW_SLOT_PANEL .. +VW_SLOT_PANEL_COUNT-1. */
enum {
    VW_SLOT_MAPS = 0,   /* the feature-map grid (one page) */
    VW_SLOT_ZOOM,       /* one zoomed channel */
    VW_SLOT_INPUT,      /* the input image, de-normalised */
    VW_SLOT_LEGEND_DIV, /* colour bars */
    VW_SLOT_LEGEND_SEQ,
    VW_SLOT_PANEL, /* first slot of the block panels */
    VW_SLOT_PANEL_COUNT = 24,
    VW_SLOT_COUNT = VW_SLOT_PANEL + VW_SLOT_PANEL_COUNT
};

typedef struct vw_render vw_render;

/* Creates the render layer on an SDL renderer. Fonts: DejaVu Sans (regular
 * and bold) from fonts-dejavu-core or $CONVSCOPE_FONT; stb_easy_font when no
 * TrueType font is found. Returns NULL (with a message on stderr) on failure. */
vw_render *vw_render_create(SDL_Renderer *sdl);
void vw_render_free(vw_render *r);
SDL_Renderer *vw_render_sdl(vw_render *r);

/* Pixel scale: HiDPI factor times the user's UI scale; presenter mode uses
 * bigger bold fonts and the high-contrast theme. Cheap when unchanged. */
void vw_render_set_scale(vw_render *r, float dpi, float ui_scale, int presenter);
/* dpi * ui_scale (* presenter factor): multiply layout constants by it. */
float vw_render_scale(const vw_render *r);
const vw_theme *vw_render_theme(const vw_render *r);
/* Output size in pixels (set by vw_render_begin). */
int vw_render_width(const vw_render *r);
int vw_render_height(const vw_render *r);

/* Starts a frame: clears to the theme background. */
void vw_render_begin(vw_render *r, int out_w, int out_h);

/* Shapes. */
void vw_fill(vw_render *r, vw_rect a, vw_color c);
void vw_frame(vw_render *r, vw_rect a, vw_color c, int thickness);
void vw_line(vw_render *r, int x0, int y0, int x1, int y1, vw_color c);
/* Clip to a (w or h <= 0: no clipping). */
void vw_clip(vw_render *r, vw_rect a);
void vw_unclip(vw_render *r);

/* Text: (x, y) is the top-left of the line box. Returns the width drawn. */
int vw_text(vw_render *r, vw_font f, int x, int y, vw_color c, const char *s);
int vw_textf(vw_render *r, vw_font f, int x, int y, vw_color c, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));
/* Draws s cut to max_w pixels, ending with "..." when cut. */
int vw_text_fit(vw_render *r, vw_font f, int x, int y, int max_w, vw_color c, const char *s);
/* Draws s right-aligned so that it ends at x_right. */
int vw_text_right(vw_render *r, vw_font f, int x_right, int y, vw_color c, const char *s);
int vw_text_width(vw_render *r, vw_font f, const char *s);
/* Line height of a font in pixels. */
int vw_line_h(vw_render *r, vw_font f);
/* Word-wraps s into max_w; draws it when draw is 1. Returns the height used. */
int vw_text_wrap(vw_render *r, vw_font f, int x, int y, int max_w, vw_color c, const char *s, int draw);

/* Image slots. vw_image_key: the key the slot was last built for (0: never).
 * vw_image_pixels: a w x h ARGB8888 staging buffer (grown, never shrunk;
 * NULL when out of memory); fill it, then vw_image_upload. */
uint64_t vw_image_key(vw_render *r, int slot);
uint32_t *vw_image_pixels(vw_render *r, int slot, int w, int h);
int vw_image_upload(vw_render *r, int slot, uint64_t key);
/* Draws the slot's src rectangle (in image pixels; w <= 0: all) into dst with
 * nearest sampling. */
void vw_image_draw(vw_render *r, int slot, vw_rect src, vw_rect dst);

/* Colour lookup tables built from cs_colormap once. t in [0, 1]. */
uint32_t vw_colormap_argb(float t, int diverging);

/* Small helpers. */
vw_color vw_rgba(uint8_t r, uint8_t g, uint8_t b, uint8_t a);
vw_rect vw_inset(vw_rect a, int by);
int vw_contains(vw_rect a, int x, int y);

#endif
