/* Model tests: every zoo architecture against golden tensors that PyTorch made
 * from the same seeded weights (tools/make_goldens.py), on the CPU reference
 * and on an OpenCL device, plus parameter and MAC counts against the published
 * figures (checked without running).
 *
 * usage: test_models GOLDEN_DIR [MODEL[,MODEL...]]
 * A golden file is <model>_b<batch>_<H>x<W>_s<seed>.safetensors holding
 * "logits" (compared with the graph's last node) and tensors keyed by module
 * path (compared with the node of that name).
 */
#include <dirent.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "convscope.h"
#include "core/graph.h"
#include "core/status.h"

#define REL_TOL 1e-4 /* max|y - ref| / max|ref| */
#define MAX_GOLDENS 256
#define MAX_TENSORS 16

static int g_pass = 0;
static int g_fail = 0;

static void check(int ok, const char *fmt, ...) CS_PRINTF(2, 3);
static void check(int ok, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    printf("%s ", ok ? "ok  " : "FAIL");
    vprintf(fmt, ap);
    printf("\n");
    va_end(ap);
    if (ok)
        g_pass++;
    else
        g_fail++;
    fflush(stdout);
}

/* A detail line under a check: printed, not counted. */
static void detail(int ok, const char *fmt, ...) CS_PRINTF(2, 3);
static void detail(int ok, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    printf("  %s ", ok ? "ok " : "BAD");
    vprintf(fmt, ap);
    printf("\n");
    va_end(ap);
    fflush(stdout);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* "resnet50,vgg16" filter; NULL or "" selects everything. */
static int selected(const char *filter, const char *model)
{
    if (!filter || !*filter)
        return 1;
    size_t len = strlen(model);
    for (const char *p = filter; *p;) {
        const char *end = strchr(p, ',');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        if (n == len && strncmp(p, model, n) == 0)
            return 1;
        if (!end)
            break;
        p = end + 1;
    }
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Golden files                                                             */
/* ------------------------------------------------------------------------ */

typedef struct golden {
    char path[1024];
    char model[64];
    int batch, height, width;
    unsigned long long seed;
} golden;

/* Parses "<model>_b<batch>_<H>x<W>_s<seed>.safetensors"; 0 if the name does
 * not have that form. Model names may contain underscores. */
static int parse_golden_name(const char *file, golden *out)
{
    static const char suffix[] = ".safetensors";
    size_t len = strlen(file), slen = sizeof suffix - 1;
    if (len <= slen || strcmp(file + len - slen, suffix) != 0)
        return 0;
    char base[256];
    if (len - slen >= sizeof base)
        return 0;
    memcpy(base, file, len - slen);
    base[len - slen] = '\0';
    /* the last three '_' separate batch, size and seed */
    char *parts[3] = {NULL, NULL, NULL};
    for (int i = 2; i >= 0; i--) {
        char *u = strrchr(base, '_');
        if (!u || u == base)
            return 0;
        *u = '\0';
        parts[i] = u + 1;
    }
    char tail = '\0';
    if (sscanf(parts[0], "b%d%c", &out->batch, &tail) != 1 ||
        sscanf(parts[1], "%dx%d%c", &out->height, &out->width, &tail) != 2 ||
        sscanf(parts[2], "s%llu%c", &out->seed, &tail) != 1)
        return 0;
    if (out->batch < 1 || out->height < 1 || out->width < 1 || strlen(base) >= sizeof out->model)
        return 0;
    snprintf(out->model, sizeof out->model, "%s", base);
    return 1;
}

static int cmp_golden(const void *a, const void *b)
{
    return strcmp(((const golden *)a)->path, ((const golden *)b)->path);
}

/* Golden files in dir, sorted; -1 when dir cannot be read. */
static int list_goldens(const char *dir, golden *out, int max)
{
    DIR *d = opendir(dir);
    if (!d)
        return -1;
    int n = 0;
    struct dirent *e = NULL;
    while ((e = readdir(d)) != NULL) {
        golden gd;
        memset(&gd, 0, sizeof gd);
        if (!parse_golden_name(e->d_name, &gd))
            continue;
        snprintf(gd.path, sizeof gd.path, "%s/%s", dir, e->d_name);
        if (n < max)
            out[n++] = gd;
    }
    closedir(d);
    qsort(out, (size_t)n, sizeof *out, cmp_golden);
    return n;
}

/* ------------------------------------------------------------------------ */
/* Comparison                                                               */
/* ------------------------------------------------------------------------ */

typedef struct cmp_result {
    double rel; /* max|y - ref| / max|ref| (inf when y has NaN/Inf) */
    double max_diff;
    double max_ref;
    size_t worst;  /* index of the largest difference, or the first non-finite y */
    int nonfinite; /* y values that are NaN or Inf */
} cmp_result;

static cmp_result compare(const float *y, const float *ref, size_t n)
{
    cmp_result r = {0.0, 0.0, 0.0, 0, 0};
    for (size_t i = 0; i < n; i++) {
        double a = fabs((double)ref[i]);
        if (a > r.max_ref)
            r.max_ref = a;
        if (!isfinite(y[i])) {
            if (r.nonfinite++ == 0)
                r.worst = i;
            continue;
        }
        double d = fabs((double)y[i] - (double)ref[i]);
        if (d > r.max_diff) {
            r.max_diff = d;
            if (!r.nonfinite)
                r.worst = i;
        }
    }
    if (r.nonfinite)
        r.rel = INFINITY;
    else
        r.rel = r.max_ref > 0.0 ? r.max_diff / r.max_ref : r.max_diff;
    return r;
}

/* ------------------------------------------------------------------------ */
/* One golden file                                                          */
/* ------------------------------------------------------------------------ */

typedef struct golden_tensor {
    char key[CS_NAME_MAX];
    int node;
    size_t count;
    float *ref;
} golden_tensor;

typedef struct backend_run {
    const char *label;
    cs_device_choice choice;
} backend_run;

/* Runs g on one backend and compares every golden tensor; returns the number
 * of failures and the worst relative error in *worst. */
static int run_backend(const cs_graph *g, const golden *gd, const backend_run *be, const float *input,
                       size_t input_count, const golden_tensor *ts, int nt, double *worst)
{
    int failures = 0;
    cs_session *s = NULL;
    float *y = NULL;
    double t0 = now_s();
    *worst = 0.0;
    cs_status st = cs_session_create(&s, g, be->choice, gd->batch, CS_SESSION_KEEP_ALL);
    if (st != CS_OK) {
        detail(0, "%s [%s]: session: %s: %s", gd->model, be->label, cs_status_name(st), cs_last_error());
        return 1;
    }
    st = cs_session_set_input(s, input, input_count);
    if (st == CS_OK)
        st = cs_session_run(s);
    if (st != CS_OK) {
        detail(0, "%s [%s] on %s: run: %s: %s", gd->model, be->label, cs_session_device_name(s),
               cs_status_name(st), cs_last_error());
        cs_session_free(s);
        return 1;
    }
    double run_s = now_s() - t0;
    for (int i = 0; i < nt; i++) {
        free(y);
        y = malloc(ts[i].count * sizeof *y);
        if (!y) {
            detail(0, "%s [%s]: out of memory for '%s'", gd->model, be->label, ts[i].key);
            failures++;
            break;
        }
        for (size_t j = 0; j < ts[i].count; j++)
            y[j] = NAN; /* canary: every element must be written */
        st = cs_session_read(s, ts[i].node, y, ts[i].count);
        if (st != CS_OK) {
            detail(0, "%s [%s]: read '%s': %s: %s", gd->model, be->label, ts[i].key, cs_status_name(st),
                   cs_last_error());
            failures++;
            continue;
        }
        cmp_result r = compare(y, ts[i].ref, ts[i].count);
        int ok = !r.nonfinite && r.rel <= REL_TOL;
        if (r.rel > *worst)
            *worst = r.rel;
        if (r.nonfinite)
            detail(ok, "%s [%s] %-28s node %-28s %d non-finite values, first at index %zu (ref %g)",
                   gd->model, be->label, ts[i].key, cs_graph_node_name(g, ts[i].node), r.nonfinite, r.worst,
                   (double)ts[i].ref[r.worst]);
        else
            detail(
                ok,
                "%s [%s] %-28s node %-28s rel %.3e (max diff %.3e at %zu: %.7g vs ref %.7g; max|ref| %.4g)",
                gd->model, be->label, ts[i].key, cs_graph_node_name(g, ts[i].node), r.rel, r.max_diff,
                r.worst, (double)y[r.worst], (double)ts[i].ref[r.worst], r.max_ref);
        failures += !ok;
    }
    printf("     %s [%s] on %s: %.2f s\n", gd->model, be->label, cs_session_device_name(s), run_s);
    free(y);
    cs_session_free(s);
    return failures;
}

/* Loads the golden tensors and resolves each to a node. Returns the number
 * loaded, or -1 after reporting a failure. */
static int load_tensors(const cs_graph *g, const cs_weights *w, const golden *gd, golden_tensor *ts, int max)
{
    int n = cs_weights_count(w);
    int nt = 0, bad = 0, have_logits = 0;
    for (int i = 0; i < n; i++) {
        const char *key = cs_weights_key(w, i);
        if (nt == max) {
            check(0, "%s: more than %d tensors in %s", gd->model, max, gd->path);
            bad++;
            break;
        }
        golden_tensor *t = &ts[nt];
        memset(t, 0, sizeof *t);
        snprintf(t->key, sizeof t->key, "%s", key);
        if (strcmp(key, "logits") == 0) {
            t->node = cs_graph_node_count(g) - 1;
            have_logits = 1;
        } else {
            t->node = cs_graph_find(g, key);
        }
        if (t->node < 0) {
            check(0, "%s: golden tensor '%s' has no node of that name in the graph", gd->model, key);
            bad++;
            continue;
        }
        int ndim = 0;
        int64_t dims[8] = {0};
        cs_status st = cs_weights_shape(w, key, &ndim, dims);
        if (st != CS_OK) {
            check(0, "%s: shape of '%s': %s", gd->model, key, cs_last_error());
            bad++;
            continue;
        }
        int c = 0, h = 0, wd = 0;
        cs_graph_node_shape(g, t->node, &c, &h, &wd);
        size_t count = 1;
        for (int d = 0; d < ndim; d++)
            count *= (size_t)dims[d];
        size_t expect = (size_t)gd->batch * (size_t)c * (size_t)h * (size_t)wd;
        int shape_ok = ndim >= 1 && dims[0] == gd->batch && count == expect;
        if (ndim == 4)
            shape_ok = shape_ok && dims[1] == c && dims[2] == h && dims[3] == wd;
        if (!shape_ok) {
            char gs[128] = "";
            size_t used = 0;
            for (int d = 0; d < ndim && used < sizeof gs; d++)
                used += (size_t)snprintf(gs + used, sizeof gs - used, "%s%lld", d ? ", " : "",
                                         (long long)dims[d]);
            check(0, "%s: golden '%s' is (%s) but node '%s' gives batch %d x (%d, %d, %d)", gd->model, key,
                  gs, cs_graph_node_name(g, t->node), gd->batch, c, h, wd);
            bad++;
            continue;
        }
        t->count = count;
        t->ref = malloc(count * sizeof *t->ref);
        if (!t->ref) {
            check(0, "%s: out of memory for golden '%s'", gd->model, key);
            return -1;
        }
        st = cs_weights_read(w, key, t->ref, count);
        if (st != CS_OK) {
            check(0, "%s: read golden '%s': %s", gd->model, key, cs_last_error());
            free(t->ref);
            bad++;
            continue;
        }
        nt++;
    }
    /* make_goldens.py leaves out tensors PyTorch itself cannot compute to
     * within the tolerance (float32 vs float64); the rest are still compared. */
    if (!have_logits)
        check(0,
              "%s: the golden has no \"logits\": the reference is ill-conditioned at this init (its "
              "float32 and float64 results differ; make_goldens.py says by how much), so the final output "
              "is untested",
              gd->model);
    if (bad) {
        for (int i = 0; i < nt; i++)
            free(ts[i].ref);
        return -1;
    }
    return nt;
}

static void test_golden(const golden *gd, const backend_run *backends, int n_backends)
{
    cs_graph *g = NULL;
    cs_weights *w = NULL;
    float *input = NULL;
    golden_tensor ts[MAX_TENSORS];
    int nt = 0;

    printf("---- %s: batch %d, %dx%d, seed %llu (%s)\n", gd->model, gd->batch, gd->height, gd->width,
           gd->seed, gd->path);
    cs_model_options opts = {0, gd->height, gd->width};
    cs_status st = cs_model_build(&g, gd->model, &opts);
    if (st != CS_OK) {
        check(0, "%s: build at %dx%d: %s: %s", gd->model, gd->height, gd->width, cs_status_name(st),
              cs_last_error());
        return;
    }
    st = cs_graph_init_seeded(g, gd->seed);
    if (st != CS_OK) {
        check(0, "%s: seeded init: %s", gd->model, cs_last_error());
        goto done;
    }
    st = cs_weights_open(&w, gd->path);
    if (st != CS_OK) {
        check(0, "%s: open %s: %s: %s", gd->model, gd->path, cs_status_name(st), cs_last_error());
        goto done;
    }
    nt = load_tensors(g, w, gd, ts, MAX_TENSORS);
    if (nt < 0) {
        nt = 0;
        goto done;
    }

    int c = 0, h = 0, wd = 0;
    cs_graph_node_shape(g, g->input, &c, &h, &wd);
    if (h != gd->height || wd != gd->width) {
        check(0, "%s: graph input is %dx%d, the golden's %dx%d", gd->model, h, wd, gd->height, gd->width);
        goto done;
    }
    size_t input_count = (size_t)gd->batch * (size_t)c * (size_t)h * (size_t)wd;
    input = malloc(input_count * sizeof *input);
    if (!input) {
        check(0, "%s: out of memory for the input", gd->model);
        goto done;
    }
    cs_seeded_uniform(gd->seed, "input", input, input_count);

    for (int b = 0; b < n_backends; b++) {
        double worst = 0.0;
        int failures = run_backend(g, gd, &backends[b], input, input_count, ts, nt, &worst);
        check(failures == 0, "%s [%s]: %d tensors, worst rel %.3e (tolerance %.0e)", gd->model,
              backends[b].label, nt, worst, REL_TOL);
    }

done:
    for (int i = 0; i < nt; i++)
        free(ts[i].ref);
    free(input);
    cs_weights_close(w);
    cs_graph_free(g);
}

/* ------------------------------------------------------------------------ */
/* Parameter and MAC counts at the default input                            */
/* ------------------------------------------------------------------------ */

typedef struct count_expect {
    const char *model;
    uint64_t params; /* 0: not checked */
    double gmacs;    /* 0: not checked; torchvision's published figure */
} count_expect;

static const count_expect counts[] = {
    {"lenet5", 61706, 0},          {"lenet5_1998", 60000, 0},       {"alexnet", 61100840, 0.714},
    {"googlenet", 6624904, 1.498}, {"vgg16", 138357544, 15.47},     {"vgg19", 0, 19.63},
    {"resnet18", 0, 1.814},        {"resnet34", 0, 3.664},          {"resnet50", 25557032, 4.089},
    {"resnet101", 0, 7.801},       {"resnet152", 0, 11.514},        {"xception", 22855952, 0},
    {"seresnet50", 28088024, 0},   {"densenet121", 7978856, 2.834}, {"densenet169", 0, 3.36},
    {"densenet201", 0, 4.291},
};

/* Agreement to 3 significant digits: within half a unit of the third. */
static int same_3_digits(double a, double b)
{
    double unit = pow(10.0, floor(log10(fabs(b))) - 2.0);
    return fabs(a - b) <= 0.5 * unit + 1e-12;
}

static void test_counts(const char *filter)
{
    for (size_t i = 0; i < sizeof counts / sizeof counts[0]; i++) {
        const count_expect *e = &counts[i];
        if (!selected(filter, e->model))
            continue;
        cs_graph *g = NULL;
        cs_status st = cs_model_build(&g, e->model, NULL);
        if (st != CS_OK) {
            check(0, "%s: counts: build at the default input: %s: %s", e->model, cs_status_name(st),
                  cs_last_error());
            continue;
        }
        uint64_t params = 0, macs = 0;
        for (int n = 0; n < cs_graph_node_count(g); n++) {
            params += cs_node_param_count(g, n);
            macs += cs_node_macs(g, n);
        }
        const cs_model_info *info = cs_model_find(e->model);
        if (e->params)
            check(params == e->params, "%s: %llu trainable parameters (expected %llu)", e->model,
                  (unsigned long long)params, (unsigned long long)e->params);
        if (e->gmacs > 0.0)
            check(same_3_digits((double)macs / 1e9, e->gmacs), "%s: %.4f GMAC at %dx%d (published %g)",
                  e->model, (double)macs / 1e9, info->in_h, info->in_w, e->gmacs);
        cs_graph_free(g);
    }
}

/* ------------------------------------------------------------------------ */
/* Main                                                                     */
/* ------------------------------------------------------------------------ */

int main(int argc, char **argv)
{
    if (argc < 2 || argc > 3) {
        fprintf(stderr, "usage: %s GOLDEN_DIR [MODEL[,MODEL...]]\n", argv[0]);
        return 2;
    }
    const char *dir = argv[1];
    const char *filter = argc > 2 ? argv[2] : NULL;
    double t0 = now_s();

    static golden goldens[MAX_GOLDENS];
    int n = list_goldens(dir, goldens, MAX_GOLDENS);
    if (n < 0) {
        fprintf(stderr,
                "error: cannot read the golden folder '%s'\n"
                "hint: pass tests/golden; make the files with tools/make_goldens.py\n",
                dir);
        return 2;
    }

    /* The OpenCL device: CONVSCOPE_DEVICE if set, else 0. No silent fallback. */
    backend_run backends[2] = {{"cpu-ref", {1, 0}}, {"opencl", {0, 0}}};
    int n_backends = 2;
    cs_device_choice dev = {0, 0};
    cs_status st = cs_device_parse(NULL, &dev);
    if (st != CS_OK) {
        fprintf(stderr, "error: CONVSCOPE_DEVICE: %s\n", cs_last_error());
        return 2;
    }
    if (dev.reference) {
        printf("note: CONVSCOPE_DEVICE selects the CPU reference; OpenCL is not tested in this run\n");
        n_backends = 1;
    } else {
        backends[1].choice = dev;
    }

    /* Every zoo model needs a golden file. */
    int matched = 0;
    for (int m = 0; m < cs_model_count(); m++) {
        const char *name = cs_model_at(m)->name;
        if (!selected(filter, name))
            continue;
        matched++;
        int found = 0;
        for (int i = 0; i < n; i++)
            found |= strcmp(goldens[i].model, name) == 0;
        if (!found)
            check(0,
                  "%s: no golden file in %s (hint: /opt/csref/bin/python tools/make_goldens.py --models %s)",
                  name, dir, name);
    }
    if (!matched) {
        fprintf(stderr, "error: no zoo model matches '%s'\nhint: convscope models lists them\n", filter);
        return 2;
    }
    for (int i = 0; i < n; i++) {
        if (!selected(filter, goldens[i].model))
            continue;
        if (!cs_model_find(goldens[i].model)) {
            check(0, "%s: golden file for a model the zoo does not have", goldens[i].path);
            continue;
        }
        double t = now_s();
        test_golden(&goldens[i], backends, n_backends);
        printf("     %s: %.2f s\n", goldens[i].model, now_s() - t);
    }

    test_counts(filter);

    printf("%d passed, %d failed (%.1f s)\n", g_pass, g_fail, now_s() - t0);
    return g_fail ? 1 : 0;
}
