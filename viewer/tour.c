/* Tours: parsing the step file and playing it. Paths of images are taken
 * relative to the tour file first, then to the shipped assets/images.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tour.h"

static char *trim(char *p)
{
    while (isspace((unsigned char)*p))
        p++;
    size_t n = strlen(p);
    while (n > 0 && isspace((unsigned char)p[n - 1]))
        p[--n] = '\0';
    return p;
}

static void resolve_image(const char *tour_path, const char *name, char *out, size_t size)
{
    if (name[0] == '/') {
        snprintf(out, size, "%s", name);
        return;
    }
    const char *slash = strrchr(tour_path, '/');
    int dir = slash ? (int)(slash - tour_path) : 0;
    snprintf(out, size, "%.*s%s%s", dir, tour_path, dir ? "/" : "", name);
    if (access(out, R_OK) == 0)
        return;
    char rel[1100] = {0};
    snprintf(rel, sizeof rel, "images/%s", name);
    if (cs_asset_path(rel, out, size) != CS_OK)
        snprintf(out, size, "%s", name);
}

/* zoom: a channel (0 and up) or -1 for none; anything else is refused. */
static int parse_zoom(const char *v, int *out)
{
    char *end = NULL;
    errno = 0;
    const long z = strtol(v, &end, 10);
    if (end == v || *end != '\0' || errno == ERANGE || z < -1 || z > INT_MAX)
        return -1;
    *out = (int)z;
    return 0;
}

static int parse_scope(const char *v)
{
    for (int i = 0; i < VW_SCOPE_COUNT; i++)
        if (strcmp(v, vw_scope_name((vw_scope)i)) == 0)
            return i;
    return -1;
}

/* A tour by path, or by name: assets/tours/NAME.tour through cs_asset_path. */
static FILE *open_tour(const char *spec, char *path, size_t size)
{
    snprintf(path, size, "%s", spec);
    FILE *f = fopen(path, "r");
    if (f || strchr(spec, '/'))
        return f;
    char rel[300] = {0};
    snprintf(rel, sizeof rel, "tours/%s.tour", spec);
    if (cs_asset_path(rel, path, size) == CS_OK && (f = fopen(path, "r")))
        return f;
    return NULL;
}

int vw_tour_load(vw_tour **out, const char *spec, char *err, size_t err_size)
{
    *out = NULL;
    char path[1024] = {0};
    FILE *f = open_tour(spec, path, sizeof path);
    if (!f) {
        snprintf(err, err_size,
                 "cannot open tour '%s' (a file, or a name: lenet, alexnet, googlenet, vgg, resnet, "
                 "xception, senet, densenet)",
                 spec);
        return -1;
    }
    vw_tour *t = calloc(1, sizeof *t);
    vw_tour_step *steps = calloc(VW_TOUR_MAX_STEPS, sizeof *steps);
    if (!t || !steps) {
        free(t);
        free(steps);
        fclose(f);
        snprintf(err, err_size, "out of memory");
        return -1;
    }
    t->steps = steps;
    char line[2048] = {0}; /* a longer line is refused, not split */
    int open = 0, lineno = 0, bad = 0, too_long = 0;
    vw_tour_step cur = {0};
    cur.zoom = -1;
    cur.scope = -1;
    while (!bad) {
        line[sizeof line - 1] = 'x'; /* fgets NUL-terminates here only when it fills the buffer */
        if (!fgets(line, sizeof line, f))
            break;
        lineno++;
        if (line[sizeof line - 1] == '\0' && line[sizeof line - 2] != '\n') {
            const int c = getc(f);
            if (c != EOF && c != '\n') {
                bad = too_long = lineno;
                break;
            }
        }
        char *p = trim(line);
        if (p[0] == '#')
            continue;
        if (!p[0]) {
            if (open && t->count < VW_TOUR_MAX_STEPS)
                t->steps[t->count++] = cur;
            open = 0;
            cur.layer[0] = cur.caption[0] = '\0';
            cur.image[0] = '\0';
            cur.zoom = -1;
            cur.scope = -1;
            continue;
        }
        char *v = p;
        while (*v && !isspace((unsigned char)*v))
            v++;
        if (*v)
            *v++ = '\0';
        v = trim(v);
        if (strcmp(p, "title") == 0) {
            snprintf(t->title, sizeof t->title, "%s", v);
            continue;
        }
        open = 1;
        if (strcmp(p, "model") == 0) {
            snprintf(cur.model, sizeof cur.model, "%s", v);
            if (!v[0])
                bad = lineno;
        } else if (strcmp(p, "image") == 0) {
            resolve_image(path, v, cur.image, sizeof cur.image);
            if (!v[0])
                bad = lineno;
        } else if (strcmp(p, "layer") == 0) {
            snprintf(cur.layer, sizeof cur.layer, "%s", v);
        } else if (strcmp(p, "caption") == 0) {
            size_t n = strlen(cur.caption);
            snprintf(cur.caption + n, sizeof cur.caption - n, "%s%s", n ? " " : "", v);
        } else if (strcmp(p, "zoom") == 0) {
            if (parse_zoom(v, &cur.zoom) != 0)
                bad = lineno;
        } else if (strcmp(p, "scope") == 0) {
            cur.scope = parse_scope(v);
            if (cur.scope < 0)
                bad = lineno;
        } else {
            bad = lineno;
        }
    }
    if (open && t->count < VW_TOUR_MAX_STEPS)
        t->steps[t->count++] = cur;
    fclose(f);
    if (bad || t->count == 0 || !t->steps[0].model[0]) {
        if (too_long)
            snprintf(err, err_size, "%s:%d: line longer than %d bytes", path, bad, (int)sizeof line - 1);
        else if (bad)
            snprintf(err, err_size,
                     "%s:%d: unknown key or value (keys: title, model, image, layer, caption, zoom, "
                     "scope; model and image need a value, zoom a channel or -1)",
                     path, bad);
        else
            snprintf(err, err_size, "%s: no steps, or the first step names no model", path);
        vw_tour_free(t);
        return -1;
    }
    *out = t;
    return 0;
}

void vw_tour_free(vw_tour *t)
{
    if (!t)
        return;
    free(t->steps);
    free(t);
}

static int find_layer(const vw_state *s, const char *spec)
{
    if (!spec[0] || !s->m.g)
        return -1;
    char *end = NULL;
    long v = strtol(spec, &end, 10);
    if (*end == '\0')
        return (int)v;
    return cs_graph_find(s->m.g, spec);
}

void vw_tour_go(vw_state *s, int step)
{
    vw_tour *t = s->tour;
    if (!t || t->count == 0)
        return;
    step = step < 0 ? 0 : (step >= t->count ? t->count - 1 : step);
    t->current = step;
    const vw_tour_step *st = &t->steps[step];
    if (!s->m.g || strcmp(s->m.info->name, st->model) != 0)
        vw_state_open_model(s, st->model, NULL);
    if (st->image[0] && strcmp(st->image, s->image_path) != 0) {
        s->image_user = 1;
        vw_state_set_image(s, st->image);
    }
    if (st->scope >= 0)
        s->scope = (vw_scope)st->scope;
    int node = find_layer(s, st->layer);
    if (st->layer[0] && node < 0)
        vw_state_message(s, 1, "tour step %d: no layer '%s' in %s", step + 1, st->layer, st->model);
    if (node >= 0)
        vw_state_goto(s, node);
    s->zoom = st->zoom;
    s->redraw = 1;
}

const char *vw_tour_caption(const vw_state *s)
{
    const vw_tour *t = s->tour;
    if (!t || !s->tour_active || t->current < 0 || t->current >= t->count)
        return NULL;
    const vw_tour_step *st = &t->steps[t->current];
    if (!st->caption[0])
        return NULL;
    int node = find_layer(s, st->layer);
    return node < 0 || node == s->cursor ? st->caption : NULL;
}

void vw_tour_describe(const vw_tour *t, char *buf, size_t size)
{
    snprintf(buf, size, "%s%stour %d/%d:  PgDn/-> next   PgUp/<- back   t leaves the tour", t->title,
             t->title[0] ? "  |  " : "", t->current + 1, t->count);
}
