/* Image input: decode with Debian's libstb (size checked from the PNG header
 * or stbi_info before any pixel is decoded), then the model's preprocessing
 * exactly as torchvision's reference pipeline does it on PIL images:
 * optional greyscale (PIL "L"), PIL's antialiased bilinear resize, centre
 * crop (or LeNet-style scale-and-pad), then (v / 255 - mean) / std as CHW.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <stb_image.h>

#include "core/status.h"

#define IMG_MAX_SIDE 16384
#define IMG_MAX_PIXELS (1u << 28)
#define IMG_MAX_FILE (1u << 30)   /* bytes read from disk */
#define PREC_BITS 22               /* PIL's fixed-point weights: 32 - 8 - 2 */

/* A uint8 image, channels interleaved. */
typedef struct img8 {
    int w, h, ch;
    unsigned char *px;
} img8;

/* ------------------------------------------------------------------------ */
/* PIL-exact antialiased bilinear resampling                                */
/* ------------------------------------------------------------------------ */

/* Pillow's precompute_coeffs + normalize_coeffs_8bpc for the bilinear filter
 * (support 1, stretched by the downscale factor so it antialiases). For each
 * output index: bounds[2i] = first input index, bounds[2i+1] = taps; weights
 * in k[i * ksize ...] as PREC_BITS fixed point. */
typedef struct coeffs {
    int ksize;
    int *bounds;
    int32_t *k;
} coeffs;

static double bilinear(double x)
{
    if (x < 0.0)
        x = -x;
    return x < 1.0 ? 1.0 - x : 0.0;
}

static int coeffs_make(int in_size, int out_size, coeffs *c)
{
    double scale = (double)in_size / (double)out_size;
    double filterscale = scale < 1.0 ? 1.0 : scale;
    double support = 1.0 * filterscale;
    int ksize = (int)ceil(support) * 2 + 1;
    double *kk = malloc((size_t)ksize * sizeof *kk);
    c->ksize = ksize;
    c->bounds = malloc((size_t)out_size * 2 * sizeof *c->bounds);
    c->k = malloc((size_t)out_size * (size_t)ksize * sizeof *c->k);
    if (!kk || !c->bounds || !c->k) {
        free(kk);
        return -1;
    }
    for (int xx = 0; xx < out_size; xx++) {
        double center = ((double)xx + 0.5) * scale;
        double ww = 0.0, ss = 1.0 / filterscale;
        int xmin = (int)(center - support + 0.5);
        if (xmin < 0)
            xmin = 0;
        int xmax = (int)(center + support + 0.5);
        if (xmax > in_size)
            xmax = in_size;
        xmax -= xmin;
        for (int x = 0; x < ksize; x++) {
            kk[x] = x < xmax ? bilinear(((double)(x + xmin) - center + 0.5) * ss) : 0.0;
            ww += kk[x];
        }
        for (int x = 0; x < ksize; x++) {
            double v = ww != 0.0 ? kk[x] / ww : kk[x];
            c->k[(size_t)xx * (size_t)ksize + (size_t)x] =
                (int32_t)(v < 0 ? -0.5 + v * (1 << PREC_BITS) : 0.5 + v * (1 << PREC_BITS));
        }
        c->bounds[2 * xx] = xmin;
        c->bounds[2 * xx + 1] = xmax;
    }
    free(kk);
    return 0;
}

static void coeffs_free(coeffs *c)
{
    free(c->bounds);
    free(c->k);
}

static unsigned char clip8(int64_t ss)
{
    if (ss < 0)
        return 0;
    ss >>= PREC_BITS;
    return (unsigned char)(ss > 255 ? 255 : ss);
}

/* Resizes src to out_w x out_h: horizontal pass, then vertical, each rounded
 * to uint8 as Pillow does. Returns 0, or -1 when out of memory. */
static int resize_pil(const img8 *src, int out_w, int out_h, img8 *dst)
{
    const int ch = src->ch;
    img8 tmp = {out_w, src->h, ch, NULL};
    coeffs cx = {0}, cy = {0};
    int rc = -1;
    dst->w = out_w;
    dst->h = out_h;
    dst->ch = ch;
    dst->px = malloc((size_t)out_w * (size_t)out_h * (size_t)ch);
    tmp.px = out_w == src->w ? src->px : malloc((size_t)out_w * (size_t)src->h * (size_t)ch);
    if (!dst->px || !tmp.px)
        goto done;
    if (out_w != src->w) {
        if (coeffs_make(src->w, out_w, &cx))
            goto done;
        for (int y = 0; y < src->h; y++) {
            const unsigned char *row = src->px + (size_t)y * (size_t)src->w * (size_t)ch;
            unsigned char *orow = tmp.px + (size_t)y * (size_t)out_w * (size_t)ch;
            for (int xx = 0; xx < out_w; xx++) {
                const int xmin = cx.bounds[2 * xx], n = cx.bounds[2 * xx + 1];
                const int32_t *k = cx.k + (size_t)xx * (size_t)cx.ksize;
                for (int c = 0; c < ch; c++) {
                    int64_t ss = 1 << (PREC_BITS - 1);
                    for (int x = 0; x < n; x++)
                        ss += (int64_t)row[(size_t)(xmin + x) * (size_t)ch + (size_t)c] * k[x];
                    orow[(size_t)xx * (size_t)ch + (size_t)c] = clip8(ss);
                }
            }
        }
    }
    if (out_h == src->h) {
        memcpy(dst->px, tmp.px, (size_t)out_w * (size_t)out_h * (size_t)ch);
    } else {
        if (coeffs_make(src->h, out_h, &cy))
            goto done;
        const size_t stride = (size_t)out_w * (size_t)ch;
        for (int yy = 0; yy < out_h; yy++) {
            const int ymin = cy.bounds[2 * yy], n = cy.bounds[2 * yy + 1];
            const int32_t *k = cy.k + (size_t)yy * (size_t)cy.ksize;
            unsigned char *orow = dst->px + (size_t)yy * stride;
            for (size_t i = 0; i < stride; i++) {
                int64_t ss = 1 << (PREC_BITS - 1);
                for (int y = 0; y < n; y++)
                    ss += (int64_t)tmp.px[(size_t)(ymin + y) * stride + i] * k[y];
                orow[i] = clip8(ss);
            }
        }
    }
    rc = 0;
done:
    coeffs_free(&cx);
    coeffs_free(&cy);
    if (tmp.px != src->px)
        free(tmp.px);
    if (rc) {
        free(dst->px);
        dst->px = NULL;
    }
    return rc;
}

/* ------------------------------------------------------------------------ */
/* Decode and preprocess                                                    */
/* ------------------------------------------------------------------------ */

/* Python's round() of d / 2 for d >= 0: halves go to the even neighbour. */
static int half_round_even(int d)
{
    int q = d / 2;
    if (d % 2 == 0)
        return q;
    return q % 2 == 0 ? q : q + 1;
}

/* torchvision's shorter-side resize: int(size * long / short) for the other
 * side. Returns -1 when the result would be unreasonably large (a very
 * elongated image). */
static int shorter_side(int w, int h, int size, int *ow, int *oh)
{
    double other = w <= h ? (double)size * (double)h / (double)w : (double)size * (double)w / (double)h;
    /* an elongated image (1 x 16384) would otherwise resize to millions of
     * pixels a side: cap the resized long side like a decoded one */
    if (other > (double)IMG_MAX_SIDE)
        return -1;
    *ow = w <= h ? size : (int)other;
    *oh = w <= h ? (int)other : size;
    if (*ow < 1)
        *ow = 1;
    if (*oh < 1)
        *oh = 1;
    return 0;
}

/* The size in a PNG's IHDR, read directly: stb_image will not report a size
 * it considers too large, and the user should hear what the file claims. */
static int png_size(const unsigned char *b, size_t n, uint32_t *w, uint32_t *h)
{
    static const unsigned char sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
    if (n < 24 || memcmp(b, sig, 8) != 0 || memcmp(b + 12, "IHDR", 4) != 0)
        return 0;
    *w = (uint32_t)b[16] << 24 | (uint32_t)b[17] << 16 | (uint32_t)b[18] << 8 | b[19];
    *h = (uint32_t)b[20] << 24 | (uint32_t)b[21] << 16 | (uint32_t)b[22] << 8 | b[23];
    return 1;
}

static uint32_t be32(const unsigned char *b)
{
    return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

/* Structural checks stb_image 2.27 (Debian 12) does not make before it acts
 * on what a header claims. Returns NULL when the file is fine, else what is
 * wrong. PNG: every chunk must fit in the file (a chunk claiming 1 GiB made
 * stb allocate it: tests/fuzz/crashes-found/image-6). JPEG: every Huffman
 * table may hold at most 256 codes (more makes stb write past its 257-entry
 * size table: crashes-found/image-5; fixed upstream in 2.28). */
static const char *precheck(const unsigned char *b, size_t n)
{
    static const unsigned char sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
    if (n >= 8 && memcmp(b, sig, 8) == 0) {
        size_t at = 8;
        while (at + 12 <= n) {
            uint32_t len = be32(b + at);
            if (len > n - at - 12)
                return "a PNG chunk is longer than the file";
            if (memcmp(b + at + 4, "IEND", 4) == 0)
                break;
            at += 12 + (size_t)len;
        }
        return NULL;
    }
    if (n >= 2 && b[0] == 0xFF && b[1] == 0xD8) {
        /* stb skips stray bytes between segments to find the next marker, so
         * check every DHT marker in the file (FF C4 cannot occur inside
         * entropy-coded data, where FF is always followed by 00 or RSTn) */
        for (size_t at = 2; at + 4 <= n; at++) {
            if (b[at] != 0xFF || b[at + 1] != 0xC4)
                continue;
            size_t seg = (size_t)b[at + 2] << 8 | b[at + 3];
            size_t p = at + 4, end = at + 2 + seg < n ? at + 2 + seg : n;
            while (seg >= 2 && p + 17 <= end) {
                size_t codes = 0;
                for (int i = 1; i <= 16; i++)
                    codes += b[p + (size_t)i];
                if (codes > 256)
                    return "a JPEG Huffman table has more than 256 codes";
                p += 17 + codes;
            }
        }
    }
    return NULL;
}

static cs_status read_file(const char *path, unsigned char **buf, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return cs_error(CS_ERR_IO, "image '%s': cannot open: %s", path, strerror(errno));
    struct stat sb = {0};
    cs_status st = CS_OK;
    if (fstat(fileno(f), &sb) != 0 || !S_ISREG(sb.st_mode)) {
        st = cs_error(CS_ERR_IO, "image '%s': not a regular file", path);
    } else if ((uint64_t)sb.st_size > IMG_MAX_FILE) {
        st = cs_error(CS_ERR_FORMAT, "image '%s': %lld bytes is over the 1 GiB limit", path, (long long)sb.st_size);
    } else if (sb.st_size == 0) {
        st = cs_error(CS_ERR_FORMAT, "image '%s': file is empty", path);
    } else {
        *len = (size_t)sb.st_size;
        *buf = malloc(*len);
        if (!*buf)
            st = cs_error(CS_ERR_NO_MEMORY, "image '%s': out of memory for %zu bytes", path, *len);
        else if (fread(*buf, 1, *len, f) != *len)
            st = cs_error(CS_ERR_IO, "image '%s': read failed", path);
    }
    fclose(f);
    return st;
}

cs_status cs_image_load(const char *path, const cs_model_info *m, int in_h, int in_w, float *out, size_t count)
{
    if (!path || !*path || !m || !out)
        return cs_error(CS_ERR_INVALID_ARG, "cs_image_load: path, model info and output are required");
    const int in_c = m->in_c;
    if ((in_c != 1 && in_c != 3) || in_h <= 0 || in_w <= 0 || in_h > IMG_MAX_SIDE || in_w > IMG_MAX_SIDE)
        return cs_error(CS_ERR_INVALID_ARG, "cs_image_load: input %dx%dx%d is not a 1- or 3-channel image size",
                        in_c, in_h, in_w);
    if (count != (size_t)in_c * (size_t)in_h * (size_t)in_w)
        return cs_error(CS_ERR_INVALID_ARG, "cs_image_load: output holds %zu floats, the input needs %d x %d x %d",
                        count, in_c, in_h, in_w);
    if (m->resize < 0 || m->pad < 0 || (m->resize == 0 && (in_h - 2 * m->pad < 1 || in_w - 2 * m->pad < 1)))
        return cs_error(CS_ERR_INVALID_ARG, "cs_image_load: resize %d / pad %d do not fit a %dx%d input",
                        m->resize, m->pad, in_h, in_w);
    for (int c = 0; c < in_c; c++)
        if (!(m->std[c] != 0.0f) || !isfinite(m->std[c]) || !isfinite(m->mean[c]))
            return cs_error(CS_ERR_INVALID_ARG, "cs_image_load: model '%s' has mean/std that are not usable",
                            m->name ? m->name : "?");

    unsigned char *file = NULL;
    size_t len = 0;
    cs_status st = read_file(path, &file, &len);
    if (st != CS_OK) {
        free(file);
        return st;
    }
    img8 src = {0}, grey = {0}, sized = {0};
    int x = 0, y = 0, comp = 0;
    uint32_t pw = 0, ph = 0;
    if (png_size(file, len, &pw, &ph) && (pw > IMG_MAX_SIDE || ph > IMG_MAX_SIDE)) {
        st = cs_error(CS_ERR_FORMAT,
                      "image '%s': %u x %u pixels is over the limit (%d a side, 2^28 in all); refusing to decode it "
                      "(hint: scale it down first)",
                      path, (unsigned)pw, (unsigned)ph, IMG_MAX_SIDE);
        goto done;
    }
    const char *bad = precheck(file, len);
    if (bad) {
        st = cs_error(CS_ERR_FORMAT, "image '%s': malformed file (%s)", path, bad);
        goto done;
    }
    if (len > (size_t)INT32_MAX || !stbi_info_from_memory(file, (int)len, &x, &y, &comp)) {
        st = cs_error(CS_ERR_FORMAT,
                      "image '%s': not an image convscope can read (%s); supported: PNG, JPEG, BMP, GIF, PNM, TGA",
                      path, len > (size_t)INT32_MAX ? "too large" : stbi_failure_reason());
        goto done;
    }
    if (x <= 0 || y <= 0 || x > IMG_MAX_SIDE || y > IMG_MAX_SIDE || (uint64_t)x * (uint64_t)y > IMG_MAX_PIXELS) {
        st = cs_error(CS_ERR_FORMAT,
                      "image '%s': %d x %d pixels is over the limit (%d a side, 2^28 in all); refusing to decode it "
                      "(hint: scale it down first)",
                      path, x, y, IMG_MAX_SIDE);
        goto done;
    }
    /* Decode in the file's own channel count and expand to RGB here: stb_image
     * 2.27 (Debian 12) converts 16-bit PNM channels with its 8-bit routine and
     * overreads its buffer when asked for another channel count
     * (tests/fuzz/crashes-found/image-3, fixed upstream in 2.28). */
    int dx = 0, dy = 0, dcomp = 0;
    unsigned char *native = stbi_load_from_memory(file, (int)len, &dx, &dy, &dcomp, 0);
    if (!native || dx != x || dy != y || dcomp < 1 || dcomp > 4) {
        st = cs_error(CS_ERR_FORMAT, "image '%s': cannot decode: %s", path,
                      native ? "size or channels changed while decoding" : stbi_failure_reason());
        stbi_image_free(native);
        goto done;
    }
    src.px = malloc((size_t)x * (size_t)y * 3);
    if (!src.px) {
        stbi_image_free(native);
        st = cs_error(CS_ERR_NO_MEMORY, "image '%s': out of memory for %d x %d pixels", path, x, y);
        goto done;
    }
    for (size_t i = 0; i < (size_t)x * (size_t)y; i++) {
        const unsigned char *q = native + i * (size_t)dcomp;
        unsigned char *o = src.px + 3 * i;
        if (dcomp < 3) { /* grey or grey + alpha: as PIL's convert("RGB") */
            o[0] = o[1] = o[2] = q[0];
        } else { /* RGB, or RGBA with the alpha dropped */
            o[0] = q[0];
            o[1] = q[1];
            o[2] = q[2];
        }
    }
    stbi_image_free(native);
    src.w = x;
    src.h = y;
    src.ch = 3;
    free(file);
    file = NULL;

    /* Greyscale as PIL's convert("L"): ITU-R 601-2 luma in 16.16 fixed point. */
    const img8 *cur = &src;
    if (m->grey || in_c == 1) {
        grey.w = src.w;
        grey.h = src.h;
        grey.ch = 1;
        grey.px = malloc((size_t)src.w * (size_t)src.h);
        if (!grey.px) {
            st = cs_error(CS_ERR_NO_MEMORY, "image '%s': out of memory", path);
            goto done;
        }
        for (size_t i = 0; i < (size_t)src.w * (size_t)src.h; i++) {
            const unsigned char *p = src.px + 3 * i;
            grey.px[i] = (unsigned char)((p[0] * 19595u + p[1] * 38470u + p[2] * 7471u + 0x8000u) >> 16);
        }
        cur = &grey;
    }

    /* Resize: shorter side to `resize` (scaled with the input when it is not
     * the model's default), or the whole image to the input less the padding. */
    int tw = 0, th = 0, off_x = 0, off_y = 0;
    if (m->resize > 0) {
        int r = m->resize;
        int big = in_h > in_w ? in_h : in_w, mbig = m->in_h > m->in_w ? m->in_h : m->in_w;
        if ((in_h != m->in_h || in_w != m->in_w) && mbig > 0)
            r = (int)((double)m->resize * (double)big / (double)mbig);
        if (r < 1)
            r = 1;
        if (shorter_side(cur->w, cur->h, r, &tw, &th)) {
            st = cs_error(CS_ERR_INVALID_ARG, "image '%s': %d x %d is too elongated to resize its shorter side to %d",
                          path, cur->w, cur->h, r);
            goto done;
        }
    } else {
        tw = in_w - 2 * m->pad;
        th = in_h - 2 * m->pad;
    }
    if (tw == cur->w && th == cur->h) {
        sized = *cur;
        sized.px = NULL; /* borrowed: read through cur below */
    } else if (resize_pil(cur, tw, th, &sized)) {
        st = cs_error(CS_ERR_NO_MEMORY, "image '%s': out of memory resizing %dx%d to %dx%d", path, cur->w, cur->h,
                      tw, th);
        goto done;
    }
    const unsigned char *px = sized.px ? sized.px : cur->px;
    const int ch = cur->ch;

    /* Crop (torchvision CenterCrop: zero padding when the crop is larger) or pad. */
    if (m->resize > 0) {
        off_x = in_w > tw ? -((in_w - tw) / 2) : half_round_even(tw - in_w);
        off_y = in_h > th ? -((in_h - th) / 2) : half_round_even(th - in_h);
    } else {
        off_x = -m->pad;
        off_y = -m->pad;
    }
    const size_t plane = (size_t)in_h * (size_t)in_w;
    for (int c = 0; c < in_c; c++) {
        const int sc = ch == 1 ? 0 : c;
        for (int oy = 0; oy < in_h; oy++) {
            const int sy = oy + off_y;
            for (int ox = 0; ox < in_w; ox++) {
                const int sx = ox + off_x;
                unsigned v = 0; /* background */
                if (sy >= 0 && sy < th && sx >= 0 && sx < tw)
                    v = px[((size_t)sy * (size_t)tw + (size_t)sx) * (size_t)ch + (size_t)sc];
                out[(size_t)c * plane + (size_t)oy * (size_t)in_w + (size_t)ox] =
                    ((float)v / 255.0f - m->mean[c]) / m->std[c];
            }
        }
    }
done:
    free(file);
    free(src.px);
    free(grey.px);
    free(sized.px);
    return st;
}
