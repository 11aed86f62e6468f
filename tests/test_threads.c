/* Threads (issue "Reliability"): what README "Threads" promises, checked.
 * Four threads each create their own session on OpenCL device 0 from one
 * shared, read-only graph (fashion_resnet8: batchnorm and residual adds, so
 * the headless sessions clone and fuse it while the others step through it),
 * a fifth runs it on the CPU reference backend, and a sixth trains lenet5 on
 * its own graph, all at once. Each thread's logits and losses must equal a
 * single-threaded run of the same work; cs_last_error() must stay per thread
 * (an error provoked in one thread never shows in another); device listing
 * and image decoding run concurrently too, and every thread writes the same
 * .npy and .safetensors files (each write must succeed and leave one whole
 * file). Run it under ThreadSanitizer to look for data races (README
 * "Threads" says how).
 *
 * --cold-cache: the threads start with an empty program cache (a new
 * CONVSCOPE_CACHE_DIR), so the five OpenCL threads build the program at the
 * same time and all write the same cache entry; one entry and no temporary
 * file must be left.
 *
 * usage: test_threads [--cold-cache] [iterations]   (default 6 runs a thread; always device 0)
 */
#include <dirent.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "convscope.h"

#define N_CL 4               /* OpenCL session threads */
#define N_THREADS (N_CL + 2) /* + a reference-backend session + a trainer */
#define SHARED_MODEL "fashion_resnet8"
#define TRAIN_MODEL "lenet5"
#define TRAIN_BATCH 8
#define TRAIN_STEPS 4
#define N_IMAGES 4
#define TOL 1e-6
#define FILE_FLOATS (256 * 1024) /* 1 MiB a file */
#define FILE_WRITES 6            /* times each thread writes each file */

static const char *const image_names[N_IMAGES] = {"images/fashion-ankle-boot.png", "images/fashion-bag.png",
                                                  "images/fashion-dress.png", "images/fashion-sneaker.png"};

static int n_checks = 0, n_failed = 0;
static pthread_mutex_t report_lock = PTHREAD_MUTEX_INITIALIZER;

static void check(int ok, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void check(int ok, const char *fmt, ...)
{
    pthread_mutex_lock(&report_lock);
    n_checks++;
    if (!ok) {
        n_failed++;
        va_list ap;
        va_start(ap, fmt);
        printf("FAIL  ");
        vprintf(fmt, ap);
        printf("\n");
        va_end(ap);
        fflush(stdout);
    }
    pthread_mutex_unlock(&report_lock);
}

/* ------------------------------------------------------------------------ */
/* Shared, read-only after setup                                            */
/* ------------------------------------------------------------------------ */

static const cs_graph *shared_graph; /* used by every session thread, never changed */
static const cs_model_info *shared_info;
static int in_c, in_h, in_w, out_node, classes;
static float *images;                            /* N_IMAGES inputs, decoded by the main thread */
static float *ref_step, *ref_headless, *ref_cpu; /* N_IMAGES x classes logits */
static float *train_x;                           /* TRAIN_BATCH inputs */
static int32_t train_labels[TRAIN_BATCH];
static double ref_loss[TRAIN_STEPS];
static float *ref_train_logits; /* TRAIN_BATCH x 10 */
static int device_count;
static int iterations = 6;
static pthread_barrier_t barrier;
static char file_dir[1024]; /* the files every thread writes */

/* Thread t's error message names node 1000 + t: no other thread's may show. */
static int error_node(int t)
{
    return 1000 + t;
}

static void check_error_isolated(int t, const char *where, int must_be_own)
{
    const char *msg = cs_last_error();
    char own[32];
    snprintf(own, sizeof own, "node %d ", error_node(t));
    for (int u = -1; u < N_THREADS; u++) { /* -1: the main thread */
        char other[32];
        snprintf(other, sizeof other, "node %d ", error_node(u));
        if (u != t && strstr(msg, other))
            check(0, "thread %d %s: cs_last_error() shows thread %d's error: \"%s\"", t, where, u, msg);
    }
    if (must_be_own)
        check(strstr(msg, own) != NULL, "thread %d %s: its own error is gone: \"%s\"", t, where, msg);
}

static double max_diff(const float *a, const float *b, size_t n, size_t *first_bad)
{
    double worst = 0.0;
    *first_bad = (size_t)-1;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)a[i] - (double)b[i]);
        double tol = TOL + TOL * fabs((double)b[i]);
        if (!(d <= tol) && *first_bad == (size_t)-1)
            *first_bad = i;
        if (d > worst || d != d)
            worst = d;
    }
    return worst;
}

/* ------------------------------------------------------------------------ */
/* Work, the same single-threaded (reference) and in threads                */
/* ------------------------------------------------------------------------ */

typedef enum mode { MODE_STEP = 0, MODE_HEADLESS, MODE_CPU } mode;

static const char *mode_name(mode m)
{
    return m == MODE_STEP ? "stepping" : m == MODE_HEADLESS ? "headless" : "reference backend";
}

static cs_status open_session(mode m, cs_session **s)
{
    cs_device_choice dev = {m == MODE_CPU, 0};
    unsigned flags = m == MODE_STEP ? CS_SESSION_KEEP_ALL | CS_SESSION_PROFILE : 0;
    return cs_session_create(s, shared_graph, dev, 1, flags);
}

/* Logits of image i: stepping sessions go a few layers at a time. */
static cs_status infer(cs_session *s, mode m, const float *x, float *logits)
{
    cs_status st = cs_session_set_input(s, x, (size_t)in_c * in_h * in_w);
    if (st != CS_OK)
        return st;
    if (m == MODE_STEP) {
        for (int node = 3; node < out_node && st == CS_OK; node += 7)
            st = cs_session_step_to(s, node);
        if (st == CS_OK)
            st = cs_session_step_to(s, out_node);
    } else {
        st = cs_session_run(s);
    }
    return st == CS_OK ? cs_session_read(s, out_node, logits, (size_t)classes) : st;
}

static cs_status train(double loss[TRAIN_STEPS], float *logits)
{
    cs_graph *g = NULL;
    cs_trainer *t = NULL;
    cs_train_options o;
    cs_train_options_default(&o);
    o.batch = TRAIN_BATCH;
    o.optimizer = CS_OPT_ADAM;
    cs_status st = cs_model_build(&g, TRAIN_MODEL, NULL);
    if (st == CS_OK)
        st = cs_graph_init_seeded(g, 11);
    if (st == CS_OK)
        st = cs_trainer_create(&t, g, (cs_device_choice){0, 0}, &o);
    const size_t count = (size_t)TRAIN_BATCH * 32 * 32;
    for (int k = 0; k < TRAIN_STEPS && st == CS_OK; k++)
        st = cs_trainer_step(t, train_x, count, train_labels, &loss[k], NULL);
    if (st == CS_OK)
        st = cs_trainer_predict(t, train_x, count, logits, (size_t)TRAIN_BATCH * 10);
    cs_trainer_free(t);
    cs_graph_free(g);
    return st;
}

/* Every thread writes the same .npy and .safetensors files (thread t's data
 * is all t + 1), several times: each write must succeed, and the file left
 * must be one whole write (checked by the main thread afterwards). */
static void write_files(int t)
{
    float *data = malloc(FILE_FLOATS * sizeof *data);
    if (!data) {
        check(0, "thread %d: out of memory", t);
        return;
    }
    for (size_t i = 0; i < FILE_FLOATS; i++)
        data[i] = (float)(t + 1);
    char npy[1100], st_path[1100];
    snprintf(npy, sizeof npy, "%s/shared.npy", file_dir);
    snprintf(st_path, sizeof st_path, "%s/shared.safetensors", file_dir);
    const int64_t dims[1] = {FILE_FLOATS};
    const char *key = "x";
    const float *ptr = data;
    const size_t count = FILE_FLOATS;
    for (int k = 0; k < FILE_WRITES; k++) {
        cs_status st = cs_npy_write(npy, data, 1, dims);
        check(st == CS_OK, "thread %d: cs_npy_write of a file other threads write too: %s", t,
              cs_last_error());
        st = cs_safetensors_save(st_path, "threads", 1, &key, &ptr, &count);
        check(st == CS_OK, "thread %d: cs_safetensors_save of a file other threads write too: %s", t,
              cs_last_error());
    }
    free(data);
}

/* The files of write_files: one thread's data, whole; no temporary file left. */
static void check_files(void)
{
    char npy[1100], st_path[1100];
    snprintf(npy, sizeof npy, "%s/shared.npy", file_dir);
    snprintf(st_path, sizeof st_path, "%s/shared.safetensors", file_dir);
    float *data = NULL;
    int ndim = 0;
    int64_t dims[8] = {0};
    cs_status st = cs_npy_read(npy, &data, &ndim, dims);
    check(st == CS_OK && ndim == 1 && dims[0] == FILE_FLOATS, "written by every thread, %s: %s", npy,
          st == CS_OK ? "wrong shape" : cs_last_error());
    if (st == CS_OK && ndim == 1 && dims[0] == FILE_FLOATS) {
        size_t bad = 0;
        for (size_t i = 1; i < FILE_FLOATS; i++)
            bad += data[i] != data[0];
        check(bad == 0 && data[0] >= 1.0f && data[0] <= (float)N_THREADS,
              "%s mixes the data of several writes: %zu values differ from the first (%g)", npy, bad,
              data[0]);
    }
    cs_free(data);
    cs_weights *w = NULL;
    st = cs_weights_open(&w, st_path);
    float *x = malloc(FILE_FLOATS * sizeof *x);
    if (st == CS_OK && x)
        st = cs_weights_read(w, "x", x, FILE_FLOATS);
    check(st == CS_OK, "written by every thread, %s: %s", st_path, cs_last_error());
    if (st == CS_OK && x) {
        size_t bad = 0;
        for (size_t i = 1; i < FILE_FLOATS; i++)
            bad += x[i] != x[0];
        check(bad == 0, "%s mixes the data of several writes: %zu values differ", st_path, bad);
    }
    free(x);
    cs_weights_close(w);
    int entries = 0, other = 0;
    DIR *d = opendir(file_dir);
    for (struct dirent *e = d ? readdir(d) : NULL; e; e = readdir(d))
        if (e->d_name[0] != '.')
            *(strstr(e->d_name, ".tmp") ? &other : &entries) += 1;
    if (d)
        closedir(d);
    check(entries == 2 && other == 0, "%s: %d files and %d temporary files left (want 2, 0)", file_dir,
          entries, other);
}

/* ------------------------------------------------------------------------ */
/* Threads                                                                  */
/* ------------------------------------------------------------------------ */

typedef struct worker {
    int id;
    pthread_t thread;
} worker;

static void common_start(int t)
{
    check(cs_last_error()[0] == '\0', "thread %d: a new thread starts with a message: \"%s\"", t,
          cs_last_error());
    cs_device_info info[8];
    int count = 0;
    cs_status st = cs_devices_list(info, 8, &count);
    check(st == CS_OK && count == device_count,
          "thread %d: cs_devices_list: %s, %d devices (main thread: %d): %s", t, cs_status_name(st), count,
          device_count, cs_last_error());
}

static void *session_thread(void *arg)
{
    const worker *w = arg;
    const int t = w->id;
    const mode m = t < N_CL ? (t % 2 ? MODE_HEADLESS : MODE_STEP) : MODE_CPU;
    const float *ref = m == MODE_STEP ? ref_step : m == MODE_HEADLESS ? ref_headless : ref_cpu;
    const size_t in_count = (size_t)in_c * in_h * in_w;
    float *x = calloc(in_count, sizeof *x);
    float *logits = calloc((size_t)classes, sizeof *logits);
    cs_session *s = NULL;
    common_start(t);

    /* Everyone creates its session at the same moment. */
    pthread_barrier_wait(&barrier);
    cs_status st = open_session(m, &s);
    check(st == CS_OK, "thread %d: %s session: %s", t, mode_name(m), cs_last_error());

    /* Errors: each thread makes its own, then all look at theirs. */
    pthread_barrier_wait(&barrier);
    float dummy[1];
    int c = 0, h = 0, wd = 0;
    st = s ? cs_session_read(s, error_node(t), dummy, 1)
           : cs_graph_node_shape(shared_graph, error_node(t), &c, &h, &wd);
    check(st == CS_ERR_INVALID_ARG, "thread %d: reading node %d gave %s", t, error_node(t),
          cs_status_name(st));
    pthread_barrier_wait(&barrier);
    check_error_isolated(t, "after every thread made an error", 1);
    pthread_barrier_wait(&barrier);

    for (int it = 0; it < iterations && s && x && logits; it++) {
        const int i = (it + t) % N_IMAGES;
        char path[1024];
        st = cs_asset_path(image_names[i], path, sizeof path);
        if (st == CS_OK)
            st = cs_image_load(path, shared_info, in_h, in_w, x, in_count);
        check(st == CS_OK && memcmp(x, images + (size_t)i * in_count, in_count * sizeof *x) == 0,
              "thread %d: image %s decoded differently in a thread (%s)", t, image_names[i],
              st == CS_OK ? "values differ" : cs_last_error());
        st = infer(s, m, x, logits);
        if (st != CS_OK) {
            check(0, "thread %d: %s run %d: %s", t, mode_name(m), it, cs_last_error());
            break;
        }
        size_t bad = 0;
        double d = max_diff(logits, ref + (size_t)i * classes, (size_t)classes, &bad);
        check(bad == (size_t)-1,
              "thread %d: %s logits of image %d differ from the single-threaded run: max |diff| %g, "
              "first at %zu (%g vs %g)",
              t, mode_name(m), i, d, bad, bad == (size_t)-1 ? 0.0 : logits[bad],
              bad == (size_t)-1 ? 0.0 : ref[(size_t)i * classes + bad]);
        /* a bad image path: an error of this thread's own, naming its id */
        char missing[64];
        snprintf(missing, sizeof missing, "/nonexistent/node %d /x.png", error_node(t));
        check(cs_image_load(missing, shared_info, in_h, in_w, x, in_count) == CS_ERR_IO,
              "thread %d: a missing image is not CS_ERR_IO", t);
        check_error_isolated(t, "after a missing image", 1);
    }
    pthread_barrier_wait(&barrier);
    write_files(t);
    cs_session_free(s);
    free(x);
    free(logits);
    return NULL;
}

static void *trainer_thread(void *arg)
{
    const worker *w = arg;
    const int t = w->id;
    double loss[TRAIN_STEPS] = {0};
    float *logits = calloc((size_t)TRAIN_BATCH * 10, sizeof *logits);
    common_start(t);
    pthread_barrier_wait(&barrier); /* the sessions are created */
    /* this thread's error: a node that does not exist in its own graph */
    pthread_barrier_wait(&barrier);
    cs_graph *g = NULL;
    cs_status st = cs_model_build(&g, TRAIN_MODEL, NULL);
    int c = 0, h = 0, wd = 0;
    check(st == CS_OK && cs_graph_node_shape(g, error_node(t), &c, &h, &wd) == CS_ERR_INVALID_ARG,
          "thread %d: shape of node %d in its own graph: not CS_ERR_INVALID_ARG", t, error_node(t));
    cs_graph_free(g);
    pthread_barrier_wait(&barrier);
    check_error_isolated(t, "after every thread made an error", 1);
    pthread_barrier_wait(&barrier);

    /* trains while the sessions run */
    st = logits ? train(loss, logits) : CS_ERR_NO_MEMORY;
    check(st == CS_OK, "thread %d: training %s: %s", t, TRAIN_MODEL, cs_last_error());
    if (st == CS_OK) {
        for (int k = 0; k < TRAIN_STEPS; k++)
            check(fabs(loss[k] - ref_loss[k]) <= 1e-5 * fabs(ref_loss[k]) + 1e-6,
                  "thread %d: training loss at step %d is %.9g, single-threaded %.9g", t, k, loss[k],
                  ref_loss[k]);
        size_t bad = 0;
        double d = max_diff(logits, ref_train_logits, (size_t)TRAIN_BATCH * 10, &bad);
        check(bad == (size_t)-1,
              "thread %d: logits after training differ from the single-threaded run: max |diff| %g", t, d);
    }
    check_error_isolated(t, "after training", 0);
    pthread_barrier_wait(&barrier);
    write_files(t);
    free(logits);
    return NULL;
}

/* Files in the cache directory: entries (*.bin) and anything else. */
static void count_cache(const char *dir, int *entries, int *other)
{
    *entries = *other = 0;
    DIR *d = opendir(dir);
    if (!d)
        return;
    for (struct dirent *e = readdir(d); e; e = readdir(d)) {
        if (e->d_name[0] == '.')
            continue;
        size_t n = strlen(e->d_name);
        if (n > 4 && strcmp(e->d_name + n - 4, ".bin") == 0)
            (*entries)++;
        else
            (*other)++;
    }
    closedir(d);
}

static void remove_cache(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    for (struct dirent *e = readdir(d); e; e = readdir(d)) {
        char path[2048];
        if (e->d_name[0] == '.')
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        remove(path);
    }
    closedir(d);
    rmdir(dir);
}

int main(int argc, char **argv)
{
    int cold = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--cold-cache") == 0)
            cold = 1;
        else if ((iterations = atoi(argv[i])) < 1) {
            fprintf(stderr, "usage: test_threads [--cold-cache] [iterations >= 1]\n");
            return 2;
        }
    }
    cs_device_info info[8];
    if (cs_devices_list(info, 8, &device_count) != CS_OK || device_count < 1) {
        printf("SKIP  no OpenCL device: %s\n", cs_last_error());
        return 77;
    }

    /* The shared graph and the single-threaded reference. */
    cs_graph *g = NULL;
    shared_info = cs_model_find(SHARED_MODEL);
    if (!shared_info || cs_model_build(&g, SHARED_MODEL, NULL) != CS_OK ||
        cs_graph_init_seeded(g, 5) != CS_OK) {
        printf("FAIL  building %s: %s\n", SHARED_MODEL, cs_last_error());
        return 1;
    }
    shared_graph = g;
    out_node = cs_graph_node_count(g) - 1;
    int oh = 0, ow = 0;
    cs_graph_node_shape(g, cs_graph_input(g), &in_c, &in_h, &in_w);
    cs_graph_node_shape(g, out_node, &classes, &oh, &ow);
    const size_t in_count = (size_t)in_c * in_h * in_w;
    images = calloc(N_IMAGES * in_count, sizeof *images);
    ref_step = calloc((size_t)N_IMAGES * classes, sizeof *ref_step);
    ref_headless = calloc((size_t)N_IMAGES * classes, sizeof *ref_headless);
    ref_cpu = calloc((size_t)N_IMAGES * classes, sizeof *ref_cpu);
    train_x = calloc((size_t)TRAIN_BATCH * 32 * 32, sizeof *train_x);
    ref_train_logits = calloc((size_t)TRAIN_BATCH * 10, sizeof *ref_train_logits);
    if (!images || !ref_step || !ref_headless || !ref_cpu || !train_x || !ref_train_logits) {
        printf("FAIL  out of memory\n");
        return 1;
    }
    for (int i = 0; i < N_IMAGES; i++) {
        char path[1024];
        if (cs_asset_path(image_names[i], path, sizeof path) != CS_OK ||
            cs_image_load(path, shared_info, in_h, in_w, images + (size_t)i * in_count, in_count) != CS_OK) {
            printf("FAIL  %s: %s\n", image_names[i], cs_last_error());
            return 1;
        }
    }
    for (mode m = MODE_STEP; m <= MODE_CPU; m++) {
        float *ref = m == MODE_STEP ? ref_step : m == MODE_HEADLESS ? ref_headless : ref_cpu;
        cs_session *s = NULL;
        cs_status st = open_session(m, &s);
        for (int i = 0; i < N_IMAGES && st == CS_OK; i++)
            st = infer(s, m, images + (size_t)i * in_count, ref + (size_t)i * classes);
        cs_session_free(s);
        if (st != CS_OK) {
            printf("FAIL  single-threaded %s run: %s\n", mode_name(m), cs_last_error());
            return 1;
        }
    }
    cs_seeded_uniform(3, "train_x", train_x, (size_t)TRAIN_BATCH * 32 * 32);
    for (int i = 0; i < TRAIN_BATCH; i++)
        train_labels[i] = i % 10;
    if (train(ref_loss, ref_train_logits) != CS_OK) {
        printf("FAIL  single-threaded training: %s\n", cs_last_error());
        return 1;
    }

    /* The main thread's own error, which must outlive the others'. */
    int c = 0, h = 0, w = 0;
    cs_graph_node_shape(g, error_node(-1), &c, &h, &w);

    /* before any thread starts: nothing reads the environment meanwhile */
    char cache[1024] = "";
    if (cold) {
        const char *tmp = getenv("TMPDIR");
        snprintf(cache, sizeof cache, "%s/cs-threads-cache.XXXXXX", tmp && *tmp ? tmp : "/tmp");
        /* on: the default is off on PoCL, which caches its own builds */
        if (!mkdtemp(cache) || setenv("CONVSCOPE_CACHE_DIR", cache, 1) != 0 ||
            setenv("CONVSCOPE_CACHE", "on", 1) != 0) {
            printf("FAIL  cannot make a cache directory %s\n", cache);
            return 1;
        }
    }

    const char *tmpdir = getenv("TMPDIR");
    snprintf(file_dir, sizeof file_dir, "%s/cs-threads-files.XXXXXX", tmpdir && *tmpdir ? tmpdir : "/tmp");
    if (!mkdtemp(file_dir)) {
        printf("FAIL  cannot make a directory %s\n", file_dir);
        return 1;
    }

    pthread_barrier_init(&barrier, NULL, N_THREADS);
    worker workers[N_THREADS];
    for (int t = 0; t < N_THREADS; t++) {
        workers[t].id = t;
        if (pthread_create(&workers[t].thread, NULL, t == N_THREADS - 1 ? trainer_thread : session_thread,
                           &workers[t]) != 0) {
            printf("FAIL  cannot start thread %d\n", t);
            return 1;
        }
    }
    for (int t = 0; t < N_THREADS; t++)
        pthread_join(workers[t].thread, NULL);
    pthread_barrier_destroy(&barrier);
    check_error_isolated(-1, "after the threads", 1);
    check_files();
    remove_cache(file_dir);
    const char *no_cache = getenv("CONVSCOPE_NO_CACHE");
    if (cold && no_cache && strcmp(no_cache, "1") == 0) {
        printf("cold cache: not checked (CONVSCOPE_NO_CACHE=1)\n");
        remove_cache(cache);
    } else if (cold) {
        int entries = 0, other = 0;
        count_cache(cache, &entries, &other);
        check(entries == 2 && other == 0,
              "cold cache %s: %d entries and %d other files after %d threads built the same programs (want 2: "
              "inference and training, 0)",
              cache, entries, other, N_CL + 1);
        printf("cold cache: %d threads built the programs at once, %d entries left\n", N_CL + 1, entries);
        remove_cache(cache);
    }

    printf("%d threads (%d OpenCL sessions, 1 reference-backend session on one shared %s graph, 1 trainer of "
           "%s), "
           "%d runs each: %d checks, %d failed\n",
           N_THREADS, N_CL, SHARED_MODEL, TRAIN_MODEL, iterations, n_checks, n_failed);
    cs_graph_free(g);
    free(images);
    free(ref_step);
    free(ref_headless);
    free(ref_cpu);
    free(train_x);
    free(ref_train_logits);
    printf("%s\n", n_failed ? "FAILED" : "PASSED");
    return n_failed ? 1 : 0;
}
