/* libFuzzer harness for the viewer's tour files (viewer/tour.c): the input is
 * the file. vw_tour_load parses it; a loaded tour is then played step by step
 * (vw_tour_go, vw_tour_caption, vw_tour_describe) against a zeroed viewer
 * state whose model, image and cursor calls are the stubs below: no SDL
 * window, no model, no device. tour.c is linked alone; SDL's headers come in
 * through state.h/render.h, its library does not.
 */
#include <stdarg.h>

#include "fuzz_common.h"
#include "tour.h"

/* ------------------------------------------------------------------------ */
/* Stubs of the viewer state calls tour.c makes (viewer/state.c needs SDL,   */
/* a session and a device). They record what the tour asked for.             */
/* ------------------------------------------------------------------------ */

static char opened_model[256];
static char set_image[2048];
static int n_open, n_image;

/* The names of viewer/state.c's vw_scope_name (keep in step with it). */
const char *vw_scope_name(vw_scope scope)
{
    static const char *names[VW_SCOPE_COUNT] = {"channel", "layer", "block", "global"};
    return scope >= 0 && scope < VW_SCOPE_COUNT ? names[scope] : "?";
}

int vw_state_open_model(vw_state *s, const char *name, const char *weights)
{
    (void)s;
    FUZZ_CHECK(weights == NULL);
    snprintf(opened_model, sizeof opened_model, "%s", name);
    n_open++;
    return -1; /* as for an unknown model: the state keeps no graph */
}

int vw_state_set_image(vw_state *s, const char *path)
{
    snprintf(set_image, sizeof set_image, "%s", path);
    snprintf(s->image_path, sizeof s->image_path, "%s", path);
    n_image++;
    return 0;
}

void vw_state_goto(vw_state *s, int node)
{
    (void)s;
    (void)node;
    FUZZ_CHECK(!"vw_state_goto without a model");
}

void vw_state_message(vw_state *s, int error, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->msg, sizeof s->msg, fmt, ap);
    va_end(ap);
    s->msg_error = error;
}

/* ------------------------------------------------------------------------ */

#define TERMINATED(arr) (memchr((arr), '\0', sizeof(arr)) != NULL)
#define TOUR_MAX_LINE 2047 /* bytes before the newline; viewer/tour.c refuses longer lines */

static size_t longest_line(const uint8_t *data, size_t size)
{
    size_t longest = 0, cur = 0;
    for (size_t i = 0; i < size; i++) {
        cur = data[i] == '\n' ? 0 : cur + 1;
        longest = cur > longest ? cur : longest;
    }
    return longest;
}

static vw_state state;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_file(data, size);
    char err[512];
    const size_t err_size = 200; /* the rest must stay untouched */
    memset(err, 0x5A, sizeof err);
    vw_tour *t = (vw_tour *)(uintptr_t)1;
    const int rc = vw_tour_load(&t, path, err, err_size);
    for (size_t i = err_size; i < sizeof err; i++)
        FUZZ_CHECK(err[i] == 0x5A);
    if (rc != 0) {
        FUZZ_CHECK(rc == -1 && t == NULL);
        FUZZ_CHECK(memchr(err, '\0', err_size) != NULL && err[0] != '\0');
        if (getenv("FUZZ_VERBOSE"))
            fprintf(stderr, "  vw_tour_load: %s\n", err);
        return 0;
    }

    /* A loaded tour: no line over the limit (a long line is refused, not
     * split into a second line that could read as a key); 1..VW_TOUR_MAX_STEPS
     * steps; every string terminated in its field; every step with a model
     * (the first names one, later ones keep it); zoom a channel or -1; scope
     * a vw_scope or -1. */
    FUZZ_CHECK(t != NULL && t->steps != NULL);
    FUZZ_CHECK(longest_line(data, size) <= TOUR_MAX_LINE);
    FUZZ_CHECK(t->count >= 1 && t->count <= VW_TOUR_MAX_STEPS && t->current == 0);
    FUZZ_CHECK(TERMINATED(t->title));
    for (int i = 0; i < t->count; i++) {
        const vw_tour_step *st = &t->steps[i];
        FUZZ_CHECK(TERMINATED(st->model) && TERMINATED(st->image) && TERMINATED(st->layer) &&
                   TERMINATED(st->caption));
        FUZZ_CHECK(st->model[0] != '\0');
        FUZZ_CHECK(st->zoom >= -1);
        FUZZ_CHECK(st->scope >= -1 && st->scope < VW_SCOPE_COUNT);
    }
    if (getenv("FUZZ_VERBOSE"))
        fprintf(stderr, "  vw_tour_load: %d steps, title '%s'\n", t->count, t->title);

    /* Play it: every step (and one either side, which clamp). */
    memset(&state, 0, sizeof state);
    state.tour = t;
    state.tour_active = 1;
    state.scope = VW_SCOPE_LAYER;
    for (int i = -1; i <= t->count; i++) {
        const int want = i < 0 ? 0 : (i >= t->count ? t->count - 1 : i);
        const vw_tour_step *st = &t->steps[want];
        const int images_before = n_image;
        const vw_scope scope_before = state.scope;
        opened_model[0] = '\0';
        vw_tour_go(&state, i);
        FUZZ_CHECK(t->current == want);
        FUZZ_CHECK(strcmp(opened_model, st->model) == 0);
        if (st->image[0] != '\0' && n_image != images_before)
            FUZZ_CHECK(strcmp(set_image, st->image) == 0);
        FUZZ_CHECK(state.scope == (st->scope >= 0 ? (vw_scope)st->scope : scope_before));
        FUZZ_CHECK(state.zoom == st->zoom);
        const char *cap = vw_tour_caption(&state);
        FUZZ_CHECK(cap == (st->caption[0] ? st->caption : NULL));
        char line[64];
        memset(line, 0x5A, sizeof line);
        vw_tour_describe(t, line, 48);
        FUZZ_CHECK(memchr(line, '\0', 48) != NULL && line[48] == 0x5A);
    }
    state.tour_active = 0;
    FUZZ_CHECK(vw_tour_caption(&state) == NULL);
    vw_tour_free(t);
    return 0;
}
