/* The render layer: SDL_Renderer calls behind small functions, text from
 * stb_truetype glyph atlases (baked once per pixel size into a texture; the
 * stb_easy_font fallback draws rectangles), the two themes, and image slots
 * whose streaming textures are reused and only grow.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <stb_truetype.h>

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wmissing-braces"
#include <stb_easy_font.h>
#pragma GCC diagnostic pop

#include "convscope.h"
#include "render.h"

#define FIRST_GLYPH 32
#define GLYPH_COUNT 224 /* U+0020 .. U+00FF: ASCII and Latin-1 (x, degree, micro) */
#define FONT_CACHE 12   /* baked sizes kept */
#define LUT_SIZE 1024
#define TEXT_MAX 2048 /* longest formatted string */

/* Base pixel sizes of the semantic fonts at scale 1. */
static const int base_px[VW_FONT_COUNT] = {12, 14, 17, 22};
#define PRESENTER_FACTOR 1.45f

typedef struct glyph_set {
    int px, bold;
    SDL_Texture *tex;
    int tw, th;
    int ascent, line_h;
    stbtt_bakedchar chars[GLYPH_COUNT];
    unsigned last_use;
} glyph_set;

typedef struct image_slot {
    SDL_Texture *tex;
    int cap_w, cap_h; /* texture size */
    int w, h;         /* used part */
    uint32_t *pixels; /* staging, cap_pixels entries */
    size_t cap_pixels;
    uint64_t key;
} image_slot;

struct vw_render {
    SDL_Renderer *sdl;
    unsigned char *font_data[2]; /* regular, bold; NULL: fallback */
    glyph_set fonts[FONT_CACHE];
    int n_fonts;
    unsigned use_clock;
    glyph_set *cur[VW_FONT_COUNT]; /* resolved for the current scale */
    float dpi, ui_scale, scale;
    int presenter;
    int out_w, out_h;
    image_slot slots[VW_SLOT_COUNT];
    char text[TEXT_MAX];
    char easy[65536]; /* stb_easy_font vertex buffer */
};

static const vw_theme theme_normal = {
    .bg = {24, 26, 31, 255},
    .panel = {33, 36, 43, 255},
    .panel_alt = {41, 45, 54, 255},
    .border = {60, 65, 77, 255},
    .text = {226, 229, 235, 255},
    .dim = {128, 135, 150, 255},
    .accent = {110, 180, 255, 255},
    .current = {52, 84, 140, 255},
    .current_text = {255, 255, 255, 255},
    .hover = {255, 255, 255, 40},
    .bar = {96, 160, 240, 255},
    .error = {255, 110, 100, 255},
    .good = {120, 220, 140, 255},
    .overlay = {10, 12, 16, 225},
};

static const vw_theme theme_presenter = {
    .bg = {0, 0, 0, 255},
    .panel = {0, 0, 0, 255},
    .panel_alt = {28, 28, 28, 255},
    .border = {160, 160, 160, 255},
    .text = {255, 255, 255, 255},
    .dim = {190, 190, 190, 255},
    .accent = {255, 215, 0, 255},
    .current = {255, 215, 0, 255},
    .current_text = {0, 0, 0, 255},
    .hover = {255, 255, 255, 70},
    .bar = {255, 215, 0, 255},
    .error = {255, 90, 90, 255},
    .good = {90, 255, 120, 255},
    .overlay = {0, 0, 0, 240},
};

/* ------------------------------------------------------------------------ */
/* Setup                                                                    */
/* ------------------------------------------------------------------------ */

static unsigned char *read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    unsigned char *data = NULL;
    long size = 0;
    if (fseek(f, 0, SEEK_END) == 0 && (size = ftell(f)) > 0 && size < (64l << 20) &&
        fseek(f, 0, SEEK_SET) == 0) {
        data = malloc((size_t)size);
        if (data && fread(data, 1, (size_t)size, f) != (size_t)size) {
            free(data);
            data = NULL;
        }
    }
    fclose(f);
    return data;
}

/* Loads the regular (bold = 0) or bold face: $CONVSCOPE_FONT (regular only),
 * assets/fonts, then Debian's fonts-dejavu-core. */
static unsigned char *load_font(int bold)
{
    const char *file = bold ? "DejaVuSans-Bold.ttf" : "DejaVuSans.ttf";
    const char *env = getenv("CONVSCOPE_FONT");
    unsigned char *data = NULL;
    if (env && env[0] && !bold)
        data = read_file(env);
    char path[1024] = {0};
    char rel[128] = {0};
    snprintf(rel, sizeof rel, "fonts/%s", file);
    if (!data && cs_asset_path(rel, path, sizeof path) == CS_OK)
        data = read_file(path);
    if (!data) {
        snprintf(path, sizeof path, "/usr/share/fonts/truetype/dejavu/%s", file);
        data = read_file(path);
    }
    stbtt_fontinfo info = {0};
    if (data && !stbtt_InitFont(&info, data, stbtt_GetFontOffsetForIndex(data, 0))) {
        free(data);
        data = NULL;
    }
    return data;
}

vw_render *vw_render_create(SDL_Renderer *sdl)
{
    vw_render *r = calloc(1, sizeof *r);
    if (!r) {
        fprintf(stderr, "convscope-viewer: out of memory\n");
        return NULL;
    }
    r->sdl = sdl;
    r->font_data[0] = load_font(0);
    r->font_data[1] = load_font(1);
    if (!r->font_data[0])
        fprintf(stderr, "convscope-viewer: no TrueType font found (DejaVuSans.ttf); using stb_easy_font\n"
                        "hint: apt-get install fonts-dejavu-core, or set CONVSCOPE_FONT to a .ttf file\n");
    r->dpi = 1.0f;
    r->ui_scale = 1.0f;
    r->scale = 1.0f;
    SDL_SetRenderDrawBlendMode(sdl, SDL_BLENDMODE_BLEND);
    return r;
}

void vw_render_free(vw_render *r)
{
    if (!r)
        return;
    for (int i = 0; i < r->n_fonts; i++)
        if (r->fonts[i].tex)
            SDL_DestroyTexture(r->fonts[i].tex);
    for (int i = 0; i < VW_SLOT_COUNT; i++) {
        if (r->slots[i].tex)
            SDL_DestroyTexture(r->slots[i].tex);
        free(r->slots[i].pixels);
    }
    free(r->font_data[0]);
    free(r->font_data[1]);
    free(r);
}

SDL_Renderer *vw_render_sdl(vw_render *r)
{
    return r->sdl;
}

void vw_render_set_scale(vw_render *r, float dpi, float ui_scale, int presenter)
{
    if (dpi == r->dpi && ui_scale == r->ui_scale && presenter == r->presenter)
        return;
    r->dpi = dpi;
    r->ui_scale = ui_scale;
    r->presenter = presenter;
    r->scale = dpi * ui_scale * (presenter ? PRESENTER_FACTOR : 1.0f);
    for (int i = 0; i < VW_FONT_COUNT; i++)
        r->cur[i] = NULL;
}

float vw_render_scale(const vw_render *r)
{
    return r->scale;
}

const vw_theme *vw_render_theme(const vw_render *r)
{
    return r->presenter ? &theme_presenter : &theme_normal;
}

int vw_render_width(const vw_render *r)
{
    return r->out_w;
}

int vw_render_height(const vw_render *r)
{
    return r->out_h;
}

void vw_render_begin(vw_render *r, int out_w, int out_h)
{
    r->out_w = out_w;
    r->out_h = out_h;
    vw_color bg = vw_render_theme(r)->bg;
    SDL_RenderSetClipRect(r->sdl, NULL);
    SDL_SetRenderDrawColor(r->sdl, bg.r, bg.g, bg.b, 255);
    SDL_RenderClear(r->sdl);
}

/* ------------------------------------------------------------------------ */
/* Shapes                                                                   */
/* ------------------------------------------------------------------------ */

static void set_color(vw_render *r, vw_color c)
{
    SDL_SetRenderDrawColor(r->sdl, c.r, c.g, c.b, c.a);
}

void vw_fill(vw_render *r, vw_rect a, vw_color c)
{
    if (a.w <= 0 || a.h <= 0)
        return;
    SDL_Rect q = {a.x, a.y, a.w, a.h};
    set_color(r, c);
    SDL_RenderFillRect(r->sdl, &q);
}

void vw_frame(vw_render *r, vw_rect a, vw_color c, int thickness)
{
    if (thickness < 1)
        thickness = 1;
    vw_fill(r, (vw_rect){a.x, a.y, a.w, thickness}, c);
    vw_fill(r, (vw_rect){a.x, a.y + a.h - thickness, a.w, thickness}, c);
    vw_fill(r, (vw_rect){a.x, a.y + thickness, thickness, a.h - 2 * thickness}, c);
    vw_fill(r, (vw_rect){a.x + a.w - thickness, a.y + thickness, thickness, a.h - 2 * thickness}, c);
}

void vw_line(vw_render *r, int x0, int y0, int x1, int y1, vw_color c)
{
    set_color(r, c);
    SDL_RenderDrawLine(r->sdl, x0, y0, x1, y1);
}

void vw_clip(vw_render *r, vw_rect a)
{
    if (a.w <= 0 || a.h <= 0) {
        SDL_RenderSetClipRect(r->sdl, NULL);
        return;
    }
    SDL_Rect q = {a.x, a.y, a.w, a.h};
    SDL_RenderSetClipRect(r->sdl, &q);
}

void vw_unclip(vw_render *r)
{
    SDL_RenderSetClipRect(r->sdl, NULL);
}

vw_color vw_rgba(uint8_t r, uint8_t g, uint8_t b, uint8_t a)
{
    vw_color c = {r, g, b, a};
    return c;
}

vw_rect vw_inset(vw_rect a, int by)
{
    vw_rect o = {a.x + by, a.y + by, a.w - 2 * by, a.h - 2 * by};
    if (o.w < 0)
        o.w = 0;
    if (o.h < 0)
        o.h = 0;
    return o;
}

int vw_contains(vw_rect a, int x, int y)
{
    return x >= a.x && y >= a.y && x < a.x + a.w && y < a.y + a.h;
}

/* ------------------------------------------------------------------------ */
/* Text                                                                     */
/* ------------------------------------------------------------------------ */

static int font_px(const vw_render *r, vw_font f)
{
    int px = (int)lrintf((float)base_px[f] * r->scale);
    return px < 6 ? 6 : (px > 160 ? 160 : px);
}

/* Bakes ASCII + Latin-1 at px into a white-with-alpha texture. */
static int bake(vw_render *r, glyph_set *gs, int px, int bold)
{
    const unsigned char *data = r->font_data[bold && r->font_data[1] ? 1 : 0];
    int side = 256;
    unsigned char *bitmap = NULL;
    for (;;) {
        bitmap = malloc((size_t)side * (size_t)side);
        if (!bitmap)
            return -1;
        int res = stbtt_BakeFontBitmap(data, stbtt_GetFontOffsetForIndex(data, 0), (float)px, bitmap, side,
                                       side, FIRST_GLYPH, GLYPH_COUNT, gs->chars);
        if (res > 0)
            break;
        free(bitmap);
        bitmap = NULL;
        if (side >= 4096)
            return -1;
        side *= 2;
    }
    uint32_t *argb = malloc((size_t)side * (size_t)side * sizeof *argb);
    SDL_Texture *tex =
        argb ? SDL_CreateTexture(r->sdl, SDL_PIXELFORMAT_ARGB8888, SDL_TEXTUREACCESS_STATIC, side, side)
             : NULL;
    if (!tex) {
        free(argb);
        free(bitmap);
        return -1;
    }
    for (size_t i = 0; i < (size_t)side * (size_t)side; i++)
        argb[i] = ((uint32_t)bitmap[i] << 24) | 0x00ffffffu;
    SDL_UpdateTexture(tex, NULL, argb, side * 4);
    SDL_SetTextureBlendMode(tex, SDL_BLENDMODE_BLEND);
    free(argb);
    free(bitmap);

    stbtt_fontinfo info = {0};
    stbtt_InitFont(&info, data, stbtt_GetFontOffsetForIndex(data, 0));
    int ascent = 0, descent = 0, gap = 0;
    stbtt_GetFontVMetrics(&info, &ascent, &descent, &gap);
    float sc = stbtt_ScaleForPixelHeight(&info, (float)px);
    gs->px = px;
    gs->bold = bold;
    gs->tex = tex;
    gs->tw = side;
    gs->th = side;
    gs->ascent = (int)lrintf((float)ascent * sc);
    gs->line_h = (int)lrintf((float)(ascent - descent + gap) * sc);
    return 0;
}

/* The glyph set of a semantic font at the current scale, baked on first use
 * after a scale change (never per frame). NULL: use the fallback. */
static glyph_set *glyphs(vw_render *r, vw_font f)
{
    if (!r->font_data[0])
        return NULL;
    if (r->cur[f]) {
        r->cur[f]->last_use = ++r->use_clock;
        return r->cur[f];
    }
    int px = font_px(r, f);
    int bold = r->presenter || f == VW_FONT_TITLE;
    glyph_set *gs = NULL;
    for (int i = 0; i < r->n_fonts; i++)
        if (r->fonts[i].px == px && r->fonts[i].bold == bold)
            gs = &r->fonts[i];
    if (!gs) {
        if (r->n_fonts < FONT_CACHE) {
            gs = &r->fonts[r->n_fonts++];
        } else {
            gs = &r->fonts[0];
            for (int i = 1; i < r->n_fonts; i++)
                if (r->fonts[i].last_use < gs->last_use)
                    gs = &r->fonts[i];
            for (int k = 0; k < VW_FONT_COUNT; k++)
                if (r->cur[k] == gs)
                    r->cur[k] = NULL;
            SDL_DestroyTexture(gs->tex);
        }
        memset(gs, 0, sizeof *gs);
        if (bake(r, gs, px, bold) != 0) {
            memset(gs, 0, sizeof *gs);
            gs->px = -1;
            return NULL;
        }
    }
    gs->last_use = ++r->use_clock;
    r->cur[f] = gs;
    return gs;
}

/* Next code point of UTF-8 text (Latin-1 kept, others become '?'). */
static int next_glyph(const unsigned char **p)
{
    const unsigned char *s = *p;
    int cp = '?';
    if (s[0] < 0x80) {
        cp = s[0];
        s += 1;
    } else if ((s[0] & 0xe0) == 0xc0 && (s[1] & 0xc0) == 0x80) {
        cp = ((s[0] & 0x1f) << 6) | (s[1] & 0x3f);
        s += 2;
    } else {
        s += 1;
        while ((*s & 0xc0) == 0x80)
            s++;
    }
    *p = s;
    if (cp < FIRST_GLYPH || cp >= FIRST_GLYPH + GLYPH_COUNT)
        cp = '?';
    return cp;
}

/* stb_easy_font draws about 7 px high characters at scale 1. */
static float easy_scale(const vw_render *r, vw_font f)
{
    return (float)font_px(r, f) / 10.0f;
}

int vw_line_h(vw_render *r, vw_font f)
{
    glyph_set *gs = glyphs(r, f);
    if (!gs)
        return (int)lrintf(12.0f * easy_scale(r, f));
    return gs->line_h;
}

static int width_n(vw_render *r, vw_font f, const char *s, size_t n)
{
    glyph_set *gs = glyphs(r, f);
    if (!gs) {
        char buf[TEXT_MAX] = {0};
        snprintf(buf, sizeof buf, "%.*s", (int)n, s);
        return (int)lrintf((float)stb_easy_font_width(buf) * easy_scale(r, f));
    }
    float w = 0.0f;
    const unsigned char *p = (const unsigned char *)s;
    const unsigned char *end = p + n;
    while (p < end && *p)
        w += gs->chars[next_glyph(&p) - FIRST_GLYPH].xadvance;
    return (int)ceilf(w);
}

int vw_text_width(vw_render *r, vw_font f, const char *s)
{
    return width_n(r, f, s, strlen(s));
}

static int draw_n(vw_render *r, vw_font f, int x, int y, vw_color c, const char *s, size_t n)
{
    glyph_set *gs = glyphs(r, f);
    if (!gs) {
        char buf[TEXT_MAX] = {0};
        snprintf(buf, sizeof buf, "%.*s", (int)n, s);
        float k = easy_scale(r, f);
        unsigned char col[4] = {c.r, c.g, c.b, c.a};
        int quads = stb_easy_font_print(0, 0, buf, col, r->easy, (int)sizeof r->easy);
        const float *v = (const float *)r->easy; /* 4 vertices of x, y, z, colour per quad */
        set_color(r, c);
        for (int q = 0; q < quads; q++) {
            const float *a = v + q * 16;
            SDL_Rect rc = {x + (int)lrintf(a[0] * k), y + (int)lrintf(a[1] * k),
                           (int)ceilf((a[8] - a[0]) * k), (int)ceilf((a[9] - a[1]) * k)};
            SDL_RenderFillRect(r->sdl, &rc);
        }
        return (int)lrintf((float)stb_easy_font_width(buf) * k);
    }
    SDL_SetTextureColorMod(gs->tex, c.r, c.g, c.b);
    SDL_SetTextureAlphaMod(gs->tex, c.a);
    float pen = (float)x;
    int base = y + gs->ascent;
    const unsigned char *p = (const unsigned char *)s;
    const unsigned char *end = p + n;
    while (p < end && *p) {
        const stbtt_bakedchar *b = &gs->chars[next_glyph(&p) - FIRST_GLYPH];
        SDL_Rect src = {b->x0, b->y0, b->x1 - b->x0, b->y1 - b->y0};
        SDL_Rect dst = {(int)lrintf(pen + b->xoff), base + (int)lrintf(b->yoff), src.w, src.h};
        if (src.w > 0 && src.h > 0)
            SDL_RenderCopy(r->sdl, gs->tex, &src, &dst);
        pen += b->xadvance;
    }
    return (int)ceilf(pen) - x;
}

int vw_text(vw_render *r, vw_font f, int x, int y, vw_color c, const char *s)
{
    return draw_n(r, f, x, y, c, s, strlen(s));
}

int vw_textf(vw_render *r, vw_font f, int x, int y, vw_color c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->text, sizeof r->text, fmt, ap);
    va_end(ap);
    return draw_n(r, f, x, y, c, r->text, strlen(r->text));
}

int vw_text_fit(vw_render *r, vw_font f, int x, int y, int max_w, vw_color c, const char *s)
{
    size_t n = strlen(s);
    if (max_w <= 0)
        return 0;
    if (width_n(r, f, s, n) <= max_w)
        return draw_n(r, f, x, y, c, s, n);
    int dots = vw_text_width(r, f, "...");
    while (n > 0 && width_n(r, f, s, n) + dots > max_w) {
        n--;
        while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
            n--;
    }
    int w = draw_n(r, f, x, y, c, s, n);
    return w + draw_n(r, f, x + w, y, c, "...", 3);
}

int vw_text_right(vw_render *r, vw_font f, int x_right, int y, vw_color c, const char *s)
{
    int w = vw_text_width(r, f, s);
    return draw_n(r, f, x_right - w, y, c, s, strlen(s));
}

int vw_text_wrap(vw_render *r, vw_font f, int x, int y, int max_w, vw_color c, const char *s, int draw)
{
    int lh = vw_line_h(r, f);
    int yy = y;
    const char *p = s;
    while (*p) {
        /* the longest run of whole words that fits, or one cut word */
        size_t best = 0;
        size_t i = 0;
        while (p[i] && p[i] != '\n') {
            size_t j = i;
            while (p[j] == ' ')
                j++;
            while (p[j] && p[j] != ' ' && p[j] != '\n')
                j++;
            if (width_n(r, f, p, j) > max_w && best > 0)
                break;
            best = j;
            i = j;
            if (width_n(r, f, p, j) > max_w)
                break;
        }
        if (best == 0)
            best = i > 0 ? i : 1;
        if (draw)
            draw_n(r, f, x, yy, c, p, best);
        yy += lh;
        p += best;
        while (*p == ' ')
            p++;
        if (*p == '\n')
            p++;
    }
    return yy - y;
}

/* ------------------------------------------------------------------------ */
/* Image slots                                                              */
/* ------------------------------------------------------------------------ */

uint64_t vw_image_key(vw_render *r, int slot)
{
    if (slot < 0 || slot >= VW_SLOT_COUNT)
        return 0;
    return r->slots[slot].key;
}

uint32_t *vw_image_pixels(vw_render *r, int slot, int w, int h)
{
    if (slot < 0 || slot >= VW_SLOT_COUNT || w <= 0 || h <= 0)
        return NULL;
    image_slot *im = &r->slots[slot];
    size_t need = (size_t)w * (size_t)h;
    if (need > im->cap_pixels) {
        uint32_t *p = realloc(im->pixels, need * sizeof *p);
        if (!p)
            return NULL;
        im->pixels = p;
        im->cap_pixels = need;
    }
    im->w = w;
    im->h = h;
    im->key = 0;
    return im->pixels;
}

int vw_image_upload(vw_render *r, int slot, uint64_t key)
{
    if (slot < 0 || slot >= VW_SLOT_COUNT)
        return -1;
    image_slot *im = &r->slots[slot];
    if (!im->pixels || im->w <= 0)
        return -1;
    if (!im->tex || im->w > im->cap_w || im->h > im->cap_h) {
        int cw = im->w > im->cap_w ? im->w : im->cap_w;
        int ch = im->h > im->cap_h ? im->h : im->cap_h;
        if (im->tex)
            SDL_DestroyTexture(im->tex);
        im->tex = SDL_CreateTexture(r->sdl, SDL_PIXELFORMAT_ARGB8888, SDL_TEXTUREACCESS_STREAMING, cw, ch);
        if (!im->tex) {
            im->cap_w = im->cap_h = 0;
            return -1;
        }
        SDL_SetTextureScaleMode(im->tex, SDL_ScaleModeNearest);
        SDL_SetTextureBlendMode(im->tex, SDL_BLENDMODE_NONE);
        im->cap_w = cw;
        im->cap_h = ch;
    }
    SDL_Rect area = {0, 0, im->w, im->h};
    if (SDL_UpdateTexture(im->tex, &area, im->pixels, im->w * 4) != 0)
        return -1;
    im->key = key;
    return 0;
}

void vw_image_draw(vw_render *r, int slot, vw_rect src, vw_rect dst)
{
    if (slot < 0 || slot >= VW_SLOT_COUNT || dst.w <= 0 || dst.h <= 0)
        return;
    image_slot *im = &r->slots[slot];
    if (!im->tex || !im->key)
        return;
    SDL_Rect s = {src.x, src.y, src.w, src.h};
    if (src.w <= 0 || src.h <= 0)
        s = (SDL_Rect){0, 0, im->w, im->h};
    SDL_Rect d = {dst.x, dst.y, dst.w, dst.h};
    SDL_RenderCopy(r->sdl, im->tex, &s, &d);
}

uint32_t vw_colormap_argb(float t, int diverging)
{
    static uint32_t lut[2][LUT_SIZE];
    static int ready = 0;
    if (!ready) {
        for (int d = 0; d < 2; d++)
            for (int i = 0; i < LUT_SIZE; i++) {
                uint8_t rgb[3] = {0, 0, 0};
                cs_colormap((float)i / (float)(LUT_SIZE - 1), d, rgb);
                lut[d][i] = 0xff000000u | ((uint32_t)rgb[0] << 16) | ((uint32_t)rgb[1] << 8) | rgb[2];
            }
        ready = 1;
    }
    if (!(t == t))
        t = diverging ? 0.5f : 0.0f;
    int i = (int)(t * (float)(LUT_SIZE - 1) + 0.5f);
    i = i < 0 ? 0 : (i >= LUT_SIZE ? LUT_SIZE - 1 : i);
    return lut[diverging ? 1 : 0][i];
}
