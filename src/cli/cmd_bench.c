/* `convscope bench MODEL...`: steady-state latency (median and min of R runs),
 * GFLOP/s (2 x MACs / time), cold start (weights + kernels + first run) and
 * warm start (second session, cached program binaries), peak host memory.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"

static void help(FILE *to)
{
    fprintf(to,
            "usage: convscope bench MODEL... [--device N|cpu] [--batch N] [--runs R] [--weights FILE]\n"
            "                        [--cold] [--json]\n\n"
            "Times inference on random input at the model's default size.\n"
            "  --batch N     images per run (default 1)\n"
            "  --runs R      timed runs after 2 warm-up runs (default 10); median and min reported\n"
            "  --cold        use fresh, empty program caches (convscope's and PoCL's) so the first\n"
            "                run includes every kernel compile (set before any OpenCL call)\n"
            "  --json        one JSON object per model per line: model, batch, median_ms, min_ms,\n"
            "                cold_start_ms, warm_start_ms, gflops, images_per_s, peak_rss_mib\n"
            "cold_start_ms: weights + device + kernels + first inference, in this process.\n"
            "warm_start_ms: the same for a second session (program binaries cached) minus the\n"
            "               steady-state median, i.e. what a warm start adds.\n");
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Builds a session with input set and runs once; returns wall ms or -1. */
static double start_once(const char *name, const char *weights, cs_device_choice dev, int batch,
                         cli_model *m, cs_session **s, float **input, size_t *count)
{
    double t0 = now_ms();
    if (cli_model_open(m, name, weights, 0, 0) != 0)
        return -1.0;
    int c = 0, h = 0, w = 0;
    cs_graph_node_shape(m->g, cs_graph_input(m->g), &c, &h, &w);
    *count = (size_t)batch * (size_t)c * (size_t)h * (size_t)w;
    if (!*input) {
        *input = malloc(*count * sizeof **input);
        if (!*input) {
            fprintf(stderr, "convscope bench: out of memory\n");
            return -1.0;
        }
        cs_seeded_uniform(1, "input", *input, *count);
    }
    if (cs_session_create(s, m->g, dev, batch, 0) != CS_OK || cs_session_set_input(*s, *input, *count) != CS_OK ||
        cs_session_run(*s) != CS_OK) {
        cli_fail(name, NULL);
        return -1.0;
    }
    return now_ms() - t0;
}

static int bench_one(const char *name, const char *weights, cs_device_choice dev, int batch, int runs, int json)
{
    cli_model m1, m2;
    memset(&m1, 0, sizeof m1);
    memset(&m2, 0, sizeof m2);
    cs_session *s1 = NULL, *s2 = NULL;
    float *input = NULL;
    size_t count = 0;
    double *times = calloc((size_t)runs, sizeof *times);
    int code = 1;
    if (!times)
        goto done;
    double cold = start_once(name, weights, dev, batch, &m1, &s1, &input, &count);
    if (cold < 0)
        goto done;
    for (int i = 0; i < 2; i++)
        if (cs_session_run(s1) != CS_OK) {
            cli_fail(name, NULL);
            goto done;
        }
    for (int i = 0; i < runs; i++) {
        double t = now_ms();
        if (cs_session_run(s1) != CS_OK) {
            cli_fail(name, NULL);
            goto done;
        }
        times[i] = now_ms() - t;
    }
    qsort(times, (size_t)runs, sizeof *times, cmp_double);
    double median = runs % 2 ? times[runs / 2] : 0.5 * (times[runs / 2 - 1] + times[runs / 2]);
    double best = times[0];
    cs_session_free(s1);
    s1 = NULL;
    double warm = start_once(name, weights, dev, batch, &m2, &s2, &input, &count);
    if (warm < 0)
        goto done;
    unsigned long long macs = 0;
    for (int n = 0; n < cs_graph_node_count(m1.g); n++)
        macs += cs_graph_node_macs(m1.g, n);
    double gflops = 2.0 * (double)macs * batch / (median * 1e6);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    double rss_mib = (double)ru.ru_maxrss / 1024.0;
    const char *device = cs_session_device_name(s2);
    if (json) {
        printf("{\"model\": ");
        cli_json_str(stdout, name);
        printf(", \"device\": ");
        cli_json_str(stdout, device);
        printf(", \"batch\": %d, \"runs\": %d, \"median_ms\": %.3f, \"min_ms\": %.3f, \"cold_start_ms\": %.1f, "
               "\"warm_start_ms\": %.1f, \"gflops\": %.2f, \"images_per_s\": %.2f, \"peak_rss_mib\": %.0f}\n",
               batch, runs, median, best, cold, warm - median, gflops, 1000.0 * batch / median, rss_mib);
    } else {
        printf("%-14s batch %-3d median %9.2f ms  min %9.2f ms  %7.2f GFLOP/s  %8.2f img/s  cold %7.0f ms  "
               "warm +%6.0f ms  peak %6.0f MiB  (%s)\n",
               name, batch, median, best, gflops, 1000.0 * batch / median, cold, warm - median, rss_mib, device);
    }
    fflush(stdout);
    code = 0;
done:
    cs_session_free(s1);
    cs_session_free(s2);
    cli_model_close(&m1);
    cli_model_close(&m2);
    free(input);
    free(times);
    return code;
}

int cs_cmd_bench(int argc, char **argv)
{
    const char *device = NULL, *weights = NULL;
    int batch = 1, runs = 10, json = 0, cold = 0;
    const char **models = calloc((size_t)argc, sizeof *models);
    int n_models = 0;
    if (!models)
        return 1;
    for (int i = 1; i < argc; i++) {
        const char *v = NULL;
        int r = 0;
        if (cli_is_help(argv[i])) {
            help(stdout);
            free(models);
            return 0;
        } else if ((r = cli_opt(argc, argv, &i, "--device", &v)) != 0) {
            device = v;
        } else if ((r = cli_opt(argc, argv, &i, "--weights", &v)) != 0) {
            weights = v;
        } else if ((r = cli_opt(argc, argv, &i, "--batch", &v)) != 0) {
            if (r > 0 && (batch = cli_int("--batch", v, 1, 4096)) < 0)
                r = -1;
        } else if ((r = cli_opt(argc, argv, &i, "--runs", &v)) != 0) {
            if (r > 0 && (runs = cli_int("--runs", v, 1, 100000)) < 0)
                r = -1;
        } else if (strcmp(argv[i], "--json") == 0) {
            json = 1;
        } else if (strcmp(argv[i], "--cold") == 0) {
            cold = 1;
        } else if (argv[i][0] == '-') {
            fprintf(stderr, "convscope bench: unknown option '%s'\n", argv[i]);
            r = -1;
        } else {
            models[n_models++] = argv[i];
        }
        if (r < 0) {
            help(stderr);
            free(models);
            return 2;
        }
    }
    if (!n_models || (weights && n_models > 1)) {
        fprintf(stderr, n_models ? "convscope bench: --weights goes with one model\n"
                                 : "convscope bench: which models? ('convscope models' lists them)\n");
        free(models);
        return 2;
    }
    char cache_dir[] = "/tmp/convscope-cold-XXXXXX";
    if (cold) {
        if (!mkdtemp(cache_dir)) {
            fprintf(stderr, "convscope bench: cannot create a temporary cache directory\n");
            free(models);
            return 1;
        }
        setenv("CONVSCOPE_CACHE_DIR", cache_dir, 1);
        setenv("POCL_CACHE_DIR", cache_dir, 1);
    }
    cs_device_choice dev;
    if (cs_device_parse(device, &dev) != CS_OK) {
        cli_fail("device", "'convscope devices' lists the devices");
        free(models);
        return 2;
    }
    int failed = 0;
    for (int i = 0; i < n_models; i++)
        failed |= bench_one(models[i], weights, dev, batch, runs, json);
    if (cold) {
        char cmd[128];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", cache_dir);
        if (system(cmd) != 0)
            fprintf(stderr, "convscope bench: could not remove %s\n", cache_dir);
    }
    free(models);
    return failed;
}
