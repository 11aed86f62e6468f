/* Soak test of the viewer's state machine (issue "Reliability"): viewer/state.c
 * and rfield.c linked without a window, driven the way the viewer drives them.
 * 10,000 layer steps (arrow keys, clicks, Home/End; computed with
 * vw_state_finish or the main loop's vw_state_tick; the output, statistics,
 * colour ranges and a receptive field read as the panels do) and 100 model
 * switches (directly and through the picker's request + tick) over the small
 * models, the image changing among the Fashion-MNIST samples every 20 steps.
 * Checked: host copies are valid exactly for the computed layers; the last
 * layer of a (model, weights file, image) seen before is unchanged; after the
 * warm-up (the first cycle over the models) resident memory grows by at most
 * SOAK_MAX_GROWTH_KB and the open file descriptors and threads are the same at
 * the end. PoCL itself grows about 6 KiB per switch (SECURITY.md).
 *
 * usage: test_soak   (env: SOAK_STEPS=10000 SOAK_SWITCHES=100
 *                     SOAK_MAX_GROWTH_KB=8192 SOAK_VERBOSE=1: a line per switch)
 */
#include <dirent.h>
#include <malloc.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "state.h"

static const char *const models[] = {
    "lenet5",           "lenet5_1998",       "fashion_vgg",      "fashion_resnet8", "fashion_seresnet8",
    "fashion_densenet", "fashion_inception", "fashion_xception",
};
#define N_MODELS ((int)(sizeof models / sizeof models[0]))

static const char *const images[] = {
    "fashion-ankle-boot.png", "fashion-bag.png",    "fashion-coat.png",  "fashion-dress.png",
    "fashion-pullover.png",   "fashion-sandal.png", "fashion-shirt.png", "fashion-sneaker.png",
    "fashion-trouser.png",    "fashion-tshirt.png",
};
#define N_IMAGES ((int)(sizeof images / sizeof images[0]))

static int n_failed = 0;

#define FAIL(...)                                                                                            \
    do {                                                                                                     \
        printf("FAIL  " __VA_ARGS__);                                                                        \
        printf("\n");                                                                                        \
        n_failed++;                                                                                          \
    } while (0)

static long env_long(const char *name, long def, long lo, long hi)
{
    const char *v = getenv(name);
    if (!v || !*v)
        return def;
    char *end = NULL;
    long n = strtol(v, &end, 10);
    if (*end != '\0' || n < lo || n > hi) {
        fprintf(stderr, "test_soak: %s=\"%s\" must be an integer in %ld..%ld\n", name, v, lo, hi);
        exit(2);
    }
    return n;
}

static double now_s(void)
{
    struct timespec ts = {0, 0};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static uint64_t rng = 0x2545F4914F6CDD1Dull;

static uint32_t next_rand(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng >> 32);
}

/* ------------------------------------------------------------------------ */
/* Process resources                                                        */
/* ------------------------------------------------------------------------ */

static long rss_kb(void) /* current resident set, /proc/self/statm */
{
    long pages = -1, resident = -1;
    FILE *f = fopen("/proc/self/statm", "r");
    if (!f)
        return -1;
    if (fscanf(f, "%ld %ld", &pages, &resident) != 2)
        resident = -1;
    fclose(f);
    return resident < 0 ? -1 : resident * (sysconf(_SC_PAGESIZE) / 1024);
}

static int open_fds(void) /* entries of /proc/self/fd, less the directory's own */
{
    DIR *d = opendir("/proc/self/fd");
    if (!d)
        return -1;
    int n = 0;
    for (struct dirent *e = readdir(d); e; e = readdir(d))
        n += e->d_name[0] != '.';
    closedir(d);
    return n - 1;
}

static int thread_count(void) /* "Threads:" of /proc/self/status */
{
    char line[256];
    int n = -1;
    FILE *f = fopen("/proc/self/status", "r");
    if (!f)
        return -1;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "Threads: %d", &n) == 1)
            break;
    fclose(f);
    return n;
}

/* ------------------------------------------------------------------------ */
/* Results seen before                                                      */
/* ------------------------------------------------------------------------ */

/* Checksum of the last layer for (model, weights file version, image). The
 * weights are identified by inode, mtime and size, taken before and after the
 * model is opened: a shipped file replaced by a training run while the test
 * runs is a new version, and a visit during which it changed is not compared. */
typedef struct weights_id {
    ino_t ino;
    struct timespec mtime;
    off_t size;
} weights_id;

typedef struct seen {
    int set;
    weights_id id;
    double sum, abs_sum;
    int top1;
} seen;

static seen results[N_MODELS][N_IMAGES];
static long n_compared = 0; /* results checked against an earlier computation */

static weights_id weights_of(int model)
{
    weights_id id;
    memset(&id, 0, sizeof id);
    char rel[256], path[1024];
    struct stat st;
    snprintf(rel, sizeof rel, "weights/%s.safetensors", models[model]);
    if (cs_asset_path(rel, path, sizeof path) == CS_OK && stat(path, &st) == 0) {
        id.ino = st.st_ino;
        id.mtime = st.st_mtim;
        id.size = st.st_size;
    }
    return id;
}

static int same_weights(weights_id a, weights_id b)
{
    return a.ino == b.ino && a.mtime.tv_sec == b.mtime.tv_sec && a.mtime.tv_nsec == b.mtime.tv_nsec &&
           a.size == b.size;
}

/* Compares the last layer against what this (model, weights, image) gave
 * before, or records it. */
static void check_result(const vw_state *s, int model, int image, const weights_id *id)
{
    int last = s->m.n_nodes - 1;
    const float *out = vw_state_output(s, last);
    if (!out) {
        FAIL("%s / %s: last layer not computed", models[model], images[image]);
        return;
    }
    if (!id)
        return; /* the weights file changed while the model was opened */
    int c = 0, h = 0, w = 0;
    vw_state_shape(s, last, &c, &h, &w);
    double sum = 0.0, abs_sum = 0.0;
    for (size_t i = 0; i < (size_t)c * (size_t)h * (size_t)w; i++) {
        sum += out[i];
        abs_sum += fabs(out[i]);
    }
    int top1 = s->m.pred.valid ? s->m.pred.index[0] : -1;
    seen *r = &results[model][image];
    if (r->set && same_weights(r->id, *id)) {
        n_compared++;
        double tol = 1e-5 * (r->abs_sum > 1.0 ? r->abs_sum : 1.0);
        if (fabs(sum - r->sum) > tol || fabs(abs_sum - r->abs_sum) > tol || top1 != r->top1)
            FAIL("%s / %s: last layer changed on a later visit: sum %.9g (was %.9g), top-1 %d (was %d)",
                 models[model], images[image], sum, r->sum, top1, r->top1);
        return;
    }
    *r = (seen){1, *id, sum, abs_sum, top1};
}

/* ------------------------------------------------------------------------ */
/* Driving the state                                                        */
/* ------------------------------------------------------------------------ */

static int image_path(int image, char *out, size_t size)
{
    char rel[128];
    snprintf(rel, sizeof rel, "images/%s", images[image]);
    if (cs_asset_path(rel, out, size) != CS_OK) {
        FAIL("asset %s: %s", rel, cs_last_error());
        return -1;
    }
    return 0;
}

/* Reads what the panels read for the cursor's node: output, statistics,
 * colour range in every scope, the receptive field of its centre. */
static double touch_node(vw_state *s, int node, long step)
{
    const vw_node_data *d = vw_state_data(s, node);
    const float *out = vw_state_output(s, node);
    if (!d || !out) {
        FAIL("step %ld: %s node %d not computed after finishing (progress %d, %s)", step,
             s->m.info ? s->m.info->name : "?", node, cs_session_progress(s->m.sess), s->msg);
        return 0.0;
    }
    int c = 0, h = 0, w = 0;
    vw_state_shape(s, node, &c, &h, &w);
    size_t n = (size_t)c * (size_t)h * (size_t)w;
    double acc = 0.0;
    for (size_t i = 0; i < n; i++)
        acc += out[i];
    if (!isfinite(d->min) || !isfinite(d->max) || d->min > d->max || !isfinite(d->mean) ||
        !(d->std >= 0.0f) || d->hist_max < 1)
        FAIL("step %ld: %s node %d: statistics min %g max %g mean %g std %g hist_max %d", step,
             s->m.info->name, node, d->min, d->max, d->mean, d->std, d->hist_max);
    for (int sc = 0; sc < VW_SCOPE_COUNT; sc++) {
        s->scope = (vw_scope)sc;
        vw_range rg = vw_state_range(s, node, c > 0 ? (int)(step % c) : 0);
        if (!(rg.lo < rg.hi))
            FAIL("step %ld: %s node %d: %s range %g..%g", step, s->m.info->name, node,
                 vw_scope_name((vw_scope)sc), rg.lo, rg.hi);
    }
    s->scope = VW_SCOPE_LAYER;
    int rf[4] = {0};
    if (h > 0 && w > 0 && vw_rfield(s, node, h / 2, h / 2, w / 2, w / 2, rf) == 0 &&
        (rf[0] > rf[1] || rf[2] > rf[3] || rf[0] < 0 || rf[2] < 0 || rf[1] >= s->m.in_h ||
         rf[3] >= s->m.in_w))
        FAIL("step %ld: %s node %d: receptive field %d..%d x %d..%d", step, s->m.info->name, node, rf[0],
             rf[1], rf[2], rf[3]);
    return acc;
}

/* A host copy is valid exactly for the nodes computed for the current input
 * (stale copies of an earlier image or model would be drawn). */
static void check_valid(const vw_state *s, long step)
{
    const int progress = cs_session_progress(s->m.sess);
    for (int i = 0; i < s->m.n_nodes; i++)
        if ((vw_state_output(s, i) != NULL) != (i <= progress)) {
            FAIL("step %ld: %s node %d: host copy %s but the session computed up to %d", step,
                 s->m.info->name, i, vw_state_output(s, i) ? "valid" : "missing", progress);
            return;
        }
    if (s->m.pred.valid != (progress == s->m.n_nodes - 1))
        FAIL("step %ld: %s: prediction %s with progress %d of %d", step, s->m.info->name,
             s->m.pred.valid ? "valid" : "missing", progress, s->m.n_nodes - 1);
}

/* Computes up to the cursor: synchronously, or through ticks like the main
 * loop (which spends up to 30 ms per tick, then draws). */
static void compute(vw_state *s, int use_ticks)
{
    if (!use_ticks) {
        vw_state_finish(s);
        return;
    }
    for (int guard = 0; vw_state_busy(s) && guard < 100000; guard++)
        vw_state_tick(s, SDL_GetTicks());
}

static int switch_model(vw_state *s, int model, int via_tick)
{
    if (!via_tick)
        return vw_state_open_model(s, models[model], NULL);
    /* the picker's path: a frame says "opening", the next tick opens it */
    vw_state_request_model(s, models[model]);
    for (int guard = 0; s->pending_model[0] && guard < 4; guard++)
        vw_state_tick(s, SDL_GetTicks());
    if (s->pending_model[0] || !s->m.info || strcmp(s->m.info->name, models[model]) != 0)
        return -1;
    return 0;
}

/* Under AddressSanitizer freed memory sits in its quarantine and
 * ThreadSanitizer's shadow memory grows as memory is touched, so resident
 * memory is not bounded there (LeakSanitizer checks for leaks at exit). */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define SOAK_SANITIZER 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define SOAK_SANITIZER 1
#endif
#endif
#ifndef SOAK_SANITIZER
#define SOAK_SANITIZER 0
#endif

int main(void)
{
    const long steps = env_long("SOAK_STEPS", 10000, 1, 100000000);
    const long switches = env_long("SOAK_SWITCHES", 100, 1, 1000000);
    const long max_growth_kb = env_long("SOAK_MAX_GROWTH_KB", 8192, 0, 1L << 30);
    const int verbose = (int)env_long("SOAK_VERBOSE", 0, 0, 1);
    const long per_switch = steps / switches > 0 ? steps / switches : 1;
#if defined(M_MMAP_THRESHOLD) && !SOAK_SANITIZER
    /* Fixed glibc thresholds: blocks of 256 KiB and more are mapped and
     * unmapped on free, and the heap top is trimmed past 1 MiB. With the
     * default (adaptive) thresholds, freed model buffers stay in the heap or
     * not depending on timing, and resident memory jumps by 16 MiB from one
     * model switch to the next; fixed, it follows what is live. */
    mallopt(M_MMAP_THRESHOLD, 256 * 1024);
    mallopt(M_TRIM_THRESHOLD, 1024 * 1024);
#endif

    vw_state *s = calloc(1, sizeof *s);
    if (!s) {
        printf("FAIL  out of memory\n");
        return 1;
    }
    vw_state_init(s);
    s->screenshot_mode = 1;

    double t0 = now_s(), checksum = 0.0;
    long rss_start = -1, rss_peak = 0, step = 0, recomputed = 0, untrained = 0, opened = 0;
    int fds_start = -1, threads_start = -1;
    int image = 0;
    printf("%ld steps, %ld model switches over %d models (SOAK_STEPS, SOAK_SWITCHES)\nrss at the end of each "
           "cycle over the models (KiB):",
           steps, switches, N_MODELS);
    fflush(stdout);
    for (long sw = 0; sw < switches; sw++) {
        const int model = (int)(sw % N_MODELS);
        if (sw == N_MODELS) { /* warm-up done, every model opened once: the baseline */
            rss_start = rss_kb();
            fds_start = open_fds();
            threads_start = thread_count();
        }
        const weights_id id_before = weights_of(model);
        if (switch_model(s, model, (int)(sw & 1)) != 0) {
            FAIL("switch %ld: opening %s: %s", sw, models[model], s->msg);
            break;
        }
        opened++;
        untrained += !s->m.trained;
        const weights_id id_after = weights_of(model);
        const weights_id *id = same_weights(id_before, id_after) ? &id_after : NULL;
        char path[1024];
        image = (image + 1) % N_IMAGES;
        s->image_user = 1;
        if (image_path(image, path, sizeof path) != 0 || vw_state_set_image(s, path) != 0) {
            FAIL("switch %ld: image %s: %s", sw, images[image], s->msg);
            break;
        }
        const int first_image = image;
        int computed_last = 0;
        int dir = 1;
        for (long k = 0; k < per_switch && step < steps; k++, step++) {
            const int n = s->m.n_nodes;
            uint32_t r = next_rand() % 100;
            int target = 0;
            if (r < 70) { /* arrow keys: walk, turning at the ends */
                if (s->cursor + dir < 0 || s->cursor + dir >= n)
                    dir = -dir;
                target = s->cursor + dir;
            } else if (r < 85) { /* a click in the layer list */
                target = (int)(next_rand() % (uint32_t)n);
            } else if (r < 95) { /* End */
                target = n - 1;
            } else { /* Home */
                target = 0;
            }
            vw_state_goto(s, target);
            int before = cs_session_progress(s->m.sess);
            compute(s, (int)(k & 1));
            recomputed += cs_session_progress(s->m.sess) > before;
            if (vw_state_busy(s) || s->compute_failed) {
                FAIL("step %ld: %s layer %d not computed: %s", step, models[model], target, s->msg);
                break;
            }
            checksum += touch_node(s, s->cursor, step);
            check_valid(s, step);
            if (s->cursor == n - 1 && image == first_image && !computed_last) {
                check_result(s, model, image, id);
                computed_last = 1;
            }
            if (k % 20 == 19) { /* a new image: everything recomputes */
                image = (image + 1) % N_IMAGES;
                if (image_path(image, path, sizeof path) != 0 || vw_state_set_image(s, path) != 0) {
                    FAIL("step %ld: image %s: %s", step, images[image], s->msg);
                    break;
                }
                check_valid(s, step);
            }
        }
        /* the first image again, to the last layer: must match its first visit */
        if (image_path(first_image, path, sizeof path) == 0 && vw_state_set_image(s, path) == 0) {
            image = first_image;
            vw_state_goto(s, s->m.n_nodes - 1);
            vw_state_finish(s);
            check_result(s, model, first_image, id);
        } else {
            FAIL("switch %ld: image %s again: %s", sw, images[first_image], s->msg);
        }
        long rss = rss_kb();
        rss_peak = rss > rss_peak ? rss : rss_peak;
        if (verbose)
            printf("\nswitch %3ld %-18s steps %6ld rss %ld KiB fds %d threads %d", sw, models[model], step,
                   rss, open_fds(), thread_count());
        else if (sw % N_MODELS == N_MODELS - 1)
            printf(" %ld", rss);
        fflush(stdout);
        if (n_failed > 20)
            break;
    }
    printf("\n");
    long rss_end = rss_kb();
    int fds_end = open_fds(), threads_end = thread_count();
    vw_state_free(s);
    free(s);
    long rss_freed = rss_kb();

    printf("%ld steps (%ld computed layers), %ld model switches (%ld without shipped weights) in %.1f s; "
           "%ld last-layer results equal to an earlier computation; output checksum %.6g\n",
           step, recomputed, opened, untrained, now_s() - t0, n_compared, checksum);
    if (n_compared == 0 && opened > N_MODELS)
        FAIL("no last-layer result was compared with an earlier one");
    if (rss_start < 0) {
        printf("no baseline: the warm-up takes the first %d switches\n", N_MODELS);
    } else {
        long growth = rss_end - rss_start;
        printf("rss: %ld KiB after the warm-up, %ld KiB at the end (%+ld KiB, limit %ld%s), peak %ld KiB, "
               "%ld KiB after freeing the state\n",
               rss_start, rss_end, growth, max_growth_kb,
               SOAK_SANITIZER ? ", not checked under a sanitizer" : "", rss_peak, rss_freed);
        printf("open fds: %d after the warm-up, %d at the end; threads: %d, %d\n", fds_start, fds_end,
               threads_start, threads_end);
        if (growth > max_growth_kb && !SOAK_SANITIZER)
            FAIL("resident memory grew by %ld KiB (limit %ld KiB)", growth, max_growth_kb);
        if (fds_end != fds_start)
            FAIL("open file descriptors: %d after the warm-up, %d at the end", fds_start, fds_end);
        if (threads_end != threads_start)
            FAIL("threads: %d after the warm-up, %d at the end", threads_start, threads_end);
    }
    if ((step < steps || opened < switches) && n_failed == 0)
        FAIL("only %ld of %ld steps and %ld of %ld switches ran", step, steps, opened, switches);
    printf("%s\n", n_failed ? "FAILED" : "PASSED");
    return n_failed ? 1 : 0;
}
