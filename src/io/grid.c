/* Feature-map grids as PNG images (used by `run --dump-png` and the viewer's
 * export) and the two colour maps convscope uses everywhere: diverging with
 * zero neutral for signed tensors, sequential for non-negative ones.
 */
#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <stb_image_write.h>

#include "core/status.h"

static float clamp01(float t)
{
    return t < 0.0f ? 0.0f : (t > 1.0f ? 1.0f : t);
}

static uint8_t to_byte(float v)
{
    return (uint8_t)lrintf(clamp01(v) * 255.0f);
}

void cs_colormap(float t, int diverging, uint8_t rgb[3])
{
    t = isfinite(t) ? clamp01(t) : 0.5f;
    if (diverging) {
        /* blue (0) -> white (0.5) -> red (1) */
        float d = (t - 0.5f) * 2.0f;
        float r = d < 0.0f ? 1.0f + d * 0.85f : 1.0f;
        float g = 1.0f - fabsf(d) * 0.85f;
        float b = d > 0.0f ? 1.0f - d * 0.85f : 1.0f;
        rgb[0] = to_byte(r);
        rgb[1] = to_byte(g);
        rgb[2] = to_byte(b);
    } else {
        /* black -> purple -> orange -> light yellow (inferno-like) */
        static const float stops[5][3] = {
            {0.00f, 0.00f, 0.02f}, {0.34f, 0.06f, 0.43f}, {0.73f, 0.21f, 0.33f}, {0.98f, 0.55f, 0.04f},
            {0.99f, 1.00f, 0.64f},
        };
        float x = t * 4.0f;
        int i = (int)x;
        if (i > 3)
            i = 3;
        float f = x - (float)i;
        for (int k = 0; k < 3; k++)
            rgb[k] = to_byte(stops[i][k] + (stops[i + 1][k] - stops[i][k]) * f);
    }
}

cs_status cs_grid_png(const char *path, const float *chw, int c, int h, int w)
{
    if (!path || !chw || c <= 0 || h <= 0 || w <= 0)
        return cs_error(CS_ERR_INVALID_ARG, "cs_grid_png: bad arguments");
    int cols = (int)ceil(sqrt((double)c * (double)h / (double)w));
    if (cols < 1)
        cols = 1;
    if (cols > c)
        cols = c;
    int rows = (c + cols - 1) / cols;
    /* upscale small maps so a 7x7 map is still visible */
    int scale = 1;
    while ((long)h * scale < 48 && (long)(w * scale + 1) * cols < 2048)
        scale++;
    long width = (long)cols * (w * scale + 1) + 1;
    long height = (long)rows * (h * scale + 1) + 1;
    if (width > 32768 || height > 32768 || width * height > (1L << 28))
        return cs_error(CS_ERR_INVALID_ARG, "cs_grid_png: %d maps of %dx%d make too large an image (%ldx%ld)", c,
                        h, w, width, height);
    size_t count = (size_t)c * (size_t)h * (size_t)w;
    float lo = INFINITY, hi = -INFINITY;
    for (size_t i = 0; i < count; i++) {
        if (!isfinite(chw[i]))
            continue;
        lo = chw[i] < lo ? chw[i] : lo;
        hi = chw[i] > hi ? chw[i] : hi;
    }
    if (lo > hi)
        lo = hi = 0.0f;
    int diverging = lo < 0.0f;
    float span = diverging ? fmaxf(fabsf(lo), fabsf(hi)) : hi;
    if (span <= 0.0f)
        span = 1.0f;
    uint8_t *img = malloc((size_t)width * (size_t)height * 3);
    if (!img)
        return cs_error(CS_ERR_NO_MEMORY, "cs_grid_png: out of memory for a %ldx%ld image", width, height);
    memset(img, 40, (size_t)width * (size_t)height * 3); /* gutters: dark grey */
    for (int ch = 0; ch < c; ch++) {
        long ox = (long)(ch % cols) * (w * scale + 1) + 1;
        long oy = (long)(ch / cols) * (h * scale + 1) + 1;
        const float *m = chw + (size_t)ch * (size_t)h * (size_t)w;
        for (long y = 0; y < (long)h * scale; y++)
            for (long x = 0; x < (long)w * scale; x++) {
                float v = m[(size_t)(y / scale) * (size_t)w + (size_t)(x / scale)];
                float t = diverging ? 0.5f + 0.5f * v / span : v / span;
                cs_colormap(t, diverging, img + ((size_t)(oy + y) * (size_t)width + (size_t)(ox + x)) * 3);
            }
    }
    /* the temporary name is unique per call (process id and a counter), so
     * threads writing the same file do not share one */
    static atomic_uint tmp_seq;
    size_t tlen = strlen(path) + 48;
    char *tmp = malloc(tlen);
    if (!tmp) {
        free(img);
        return cs_error(CS_ERR_NO_MEMORY, "cs_grid_png: out of memory");
    }
    snprintf(tmp, tlen, "%s.tmp.%ld.%u", path, (long)getpid(), atomic_fetch_add(&tmp_seq, 1u));
    int ok = stbi_write_png(tmp, (int)width, (int)height, 3, img, (int)width * 3);
    free(img);
    cs_status st = CS_OK;
    if (!ok) {
        remove(tmp);
        st = cs_error(CS_ERR_IO, "cannot write PNG '%s'", tmp);
    } else if (rename(tmp, path) != 0) {
        remove(tmp);
        st = cs_error(CS_ERR_IO, "cannot rename '%s' to '%s'", tmp, path);
    }
    free(tmp);
    return st;
}
