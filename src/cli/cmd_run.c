/* `convscope run MODEL [IMAGE...]`: classify images (or an NCHW .npy tensor)
 * on the chosen device; top-k classes, optional per-layer device times, the
 * final output as .npy, and every layer's output as .npy or PNG grids.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cli/cli.h"

static void help(FILE *to)
{
    fprintf(to,
            "usage: convscope run MODEL [IMAGE...] [options]\n\n"
            "Classifies each IMAGE (PNG, JPEG, BMP, GIF, PNM, TGA) with MODEL, preprocessed as\n"
            "the model expects, as one batch. Without --weights the shipped weights are used\n"
            "when there are some, else a seeded He initialisation (reported as untrained).\n\n"
            "  --weights FILE      safetensors with the reference's state_dict keys\n"
            "  --device N|cpu      OpenCL device index (convscope devices) or the CPU reference\n"
            "  --top K             classes to show per image (default 5)\n"
            "  --labels FILE       class names, one per line (default: the model's label set)\n"
            "  --input-npy FILE    float32 NCHW input, bypasses image preprocessing\n"
            "  --output-npy FILE   write the final output (N x classes, the logits) as .npy\n"
            "  --profile           per-layer device time from OpenCL profiling events\n"
            "  --dump DIR          write every layer's output as DIR/NNNN_<name>.npy\n"
            "  --dump-png DIR      write every layer's feature maps (first image) as PNG grids\n"
            "  --json              one JSON object per image on stdout\n"
            "  --quiet             print only the results\n");
}

typedef struct run_opts {
    const char *model, *weights, *device, *labels, *input_npy, *output_npy, *dump, *dump_png;
    const char **images;
    int n_images, top, profile, json, quiet;
} run_opts;

static int parse(int argc, char **argv, run_opts *o, int *exit_code)
{
    o->top = 5;
    o->images = calloc((size_t)argc, sizeof *o->images);
    if (!o->images) {
        *exit_code = 1;
        return -1;
    }
    for (int i = 1; i < argc; i++) {
        const char *v = NULL;
        int r = 0;
        if (cli_is_help(argv[i])) {
            help(stdout);
            *exit_code = 0;
            return -1;
        }
#define OPT(name, field)                                                                                     \
    if ((r = cli_opt(argc, argv, &i, name, &v)) != 0) {                                                       \
        if (r < 0) {                                                                                          \
            *exit_code = 2;                                                                                   \
            return -1;                                                                                        \
        }                                                                                                     \
        o->field = v;                                                                                         \
        continue;                                                                                             \
    }
        OPT("--weights", weights)
        OPT("--device", device)
        OPT("--labels", labels)
        OPT("--input-npy", input_npy)
        OPT("--output-npy", output_npy)
        OPT("--dump-png", dump_png)
        OPT("--dump", dump)
#undef OPT
        if ((r = cli_opt(argc, argv, &i, "--top", &v)) != 0) {
            if (r < 0 || (o->top = cli_int("--top", v, 1, 1000000)) < 0) {
                *exit_code = 2;
                return -1;
            }
        } else if (strcmp(argv[i], "--profile") == 0) {
            o->profile = 1;
        } else if (strcmp(argv[i], "--json") == 0) {
            o->json = 1;
        } else if (strcmp(argv[i], "--quiet") == 0 || strcmp(argv[i], "-q") == 0) {
            o->quiet = 1;
        } else if (argv[i][0] == '-' && argv[i][1] != '\0') {
            fprintf(stderr, "convscope run: unknown option '%s'\n", argv[i]);
            help(stderr);
            *exit_code = 2;
            return -1;
        } else if (!o->model) {
            o->model = argv[i];
        } else {
            o->images[o->n_images++] = argv[i];
        }
    }
    if (!o->model) {
        fprintf(stderr, "convscope run: which model? ('convscope models' lists them)\n");
        help(stderr);
        *exit_code = 2;
        return -1;
    }
    if (!o->n_images && !o->input_npy) {
        fprintf(stderr, "convscope run: give one or more images, or --input-npy FILE\n"
                        "hint: the repository ships samples in assets/images/\n");
        *exit_code = 2;
        return -1;
    }
    if (o->n_images && o->input_npy) {
        fprintf(stderr, "convscope run: give images or --input-npy, not both\n");
        *exit_code = 2;
        return -1;
    }
    return 0;
}

static int make_dir(const char *dir)
{
    if (mkdir(dir, 0777) != 0 && errno != EEXIST) {
        fprintf(stderr, "convscope run: cannot create directory '%s': %s\n", dir, strerror(errno));
        return -1;
    }
    return 0;
}

/* Layer name as a file name: '.' and '/' become '_'. */
static void file_name(char *buf, size_t size, const char *dir, int index, const char *name, const char *ext)
{
    char clean[128];
    size_t i = 0;
    for (; name[i] && i < sizeof clean - 1; i++)
        clean[i] = (name[i] == '/' || name[i] == '\\') ? '_' : name[i];
    clean[i] = '\0';
    snprintf(buf, size, "%s/%04d_%s.%s", dir, index, clean, ext);
}

static int dump_layers(cs_session *s, const cs_graph *g, int batch, const run_opts *o)
{
    if ((o->dump && make_dir(o->dump)) || (o->dump_png && make_dir(o->dump_png)))
        return -1;
    int failed = 0;
    for (int n = 0; n < cs_graph_node_count(g) && !failed; n++) {
        int c = 0, h = 0, w = 0;
        cs_graph_node_shape(g, n, &c, &h, &w);
        size_t count = (size_t)batch * (size_t)c * (size_t)h * (size_t)w;
        float *buf = malloc(count * sizeof *buf);
        if (!buf) {
            fprintf(stderr, "convscope run: out of memory dumping '%s'\n", cs_graph_node_name(g, n));
            return -1;
        }
        char path[1024];
        if (cs_session_read(s, n, buf, count) != CS_OK) {
            cli_fail("dump", NULL);
            failed = 1;
        }
        if (!failed && o->dump) {
            int64_t dims[4] = {batch, c, h, w};
            file_name(path, sizeof path, o->dump, n, cs_graph_node_name(g, n), "npy");
            if (cs_npy_write(path, buf, 4, dims) != CS_OK) {
                cli_fail("dump", NULL);
                failed = 1;
            }
        }
        if (!failed && o->dump_png) {
            file_name(path, sizeof path, o->dump_png, n, cs_graph_node_name(g, n), "png");
            if (cs_grid_png(path, buf, c, h, w) != CS_OK) {
                cli_fail("dump-png", NULL);
                failed = 1;
            }
        }
        free(buf);
    }
    if (!failed && !o->quiet && !o->json) {
        if (o->dump)
            fprintf(stderr, "wrote %d layer outputs to %s/\n", cs_graph_node_count(g), o->dump);
        if (o->dump_png)
            fprintf(stderr, "wrote %d feature-map grids to %s/\n", cs_graph_node_count(g), o->dump_png);
    }
    return failed ? -1 : 0;
}

static void print_profile(const cs_session *s, const cs_graph *g)
{
    double total = 0.0;
    for (int n = 0; n < cs_graph_node_count(g); n++) {
        double ms = cs_session_node_ms(s, n);
        if (ms > 0.0)
            total += ms;
    }
    printf("%5s  %-48s %-17s %-14s %10s %6s\n", "#", "layer", "op", "output", "ms", "%");
    for (int n = 0; n < cs_graph_node_count(g); n++) {
        double ms = cs_session_node_ms(s, n);
        int c = 0, h = 0, w = 0;
        cs_graph_node_shape(g, n, &c, &h, &w);
        char shape[32];
        snprintf(shape, sizeof shape, "%dx%dx%d", c, h, w);
        if (ms < 0.0)
            printf("%5d  %-48s %-17s %-14s %10s %6s\n", n, cs_graph_node_name(g, n),
                   cs_op_name(cs_graph_node_op(g, n)), shape, "-", "-");
        else
            printf("%5d  %-48s %-17s %-14s %10.3f %6.1f\n", n, cs_graph_node_name(g, n),
                   cs_op_name(cs_graph_node_op(g, n)), shape, ms, total > 0 ? 100.0 * ms / total : 0.0);
    }
    printf("device time: %.3f ms\n", total);
}

/* Probabilities from the final output: softmax unless it already is one. */
static void to_probs(const float *y, int classes, int is_softmax, int is_rbf, double *p)
{
    if (is_softmax) {
        for (int i = 0; i < classes; i++)
            p[i] = y[i];
        return;
    }
    /* RBF outputs are distances: smaller is better, so softmax of -d */
    double sign = is_rbf ? -1.0 : 1.0;
    double mx = -INFINITY, sum = 0.0;
    for (int i = 0; i < classes; i++)
        mx = fmax(mx, sign * y[i]);
    for (int i = 0; i < classes; i++) {
        p[i] = exp(sign * y[i] - mx);
        sum += p[i];
    }
    for (int i = 0; i < classes; i++)
        p[i] /= sum;
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

int cs_cmd_run(int argc, char **argv)
{
    run_opts o;
    memset(&o, 0, sizeof o);
    int code = 1;
    if (parse(argc, argv, &o, &code) != 0) {
        free(o.images);
        return code;
    }
    cs_device_choice dev;
    if (cs_device_parse(o.device, &dev) != CS_OK) {
        cli_fail("device", "'convscope devices' lists the devices; --device cpu is the reference backend");
        free(o.images);
        return 2;
    }

    float *input = NULL, *output = NULL;
    double *probs = NULL;
    cs_labels *labels = NULL;
    cs_session *s = NULL;
    cli_model m;
    memset(&m, 0, sizeof m);
    int batch = o.n_images;
    int in_h = 0, in_w = 0;
    int64_t ndims[8] = {0};
    int ndim = 0;
    if (o.input_npy) {
        if (cs_npy_read(o.input_npy, &input, &ndim, ndims) != CS_OK) {
            cli_fail("input", "--input-npy takes a float32 array of shape (N, C, H, W)");
            goto done;
        }
        if (ndim != 4 || ndims[0] < 1 || ndims[0] > 65536 || ndims[1] < 1 || ndims[2] < 1 || ndims[3] < 1 ||
            ndims[2] > 16384 || ndims[3] > 16384) {
            fprintf(stderr,
                    "convscope run: %s must be a non-empty (N, C, H, W) array (N <= 65536, H and W <= 16384); "
                    "it has %d dimensions%s\n",
                    o.input_npy, ndim, ndim == 4 ? " with an empty or too large one" : "");
            goto done;
        }
        batch = (int)ndims[0];
        in_h = (int)ndims[2];
        in_w = (int)ndims[3];
    }
    double t0 = now_ms();
    if (cli_model_open(&m, o.model, o.weights, in_h, in_w) != 0)
        goto done;
    const cs_graph *g = m.g;
    int in_node = cs_graph_input(g);
    int in_c = 0;
    cs_graph_node_shape(g, in_node, &in_c, &in_h, &in_w);
    size_t per_image = (size_t)in_c * (size_t)in_h * (size_t)in_w;
    if (o.input_npy && (ndims[1] != in_c || ndims[2] != in_h || ndims[3] != in_w)) {
        fprintf(stderr, "convscope run: %s is %lld x %lld x %lld per sample; %s takes %d x %d x %d\n", o.input_npy,
                (long long)ndims[1], (long long)ndims[2], (long long)ndims[3], o.model, in_c, in_h, in_w);
        goto done;
    }
    if (!o.input_npy) {
        input = malloc(per_image * (size_t)batch * sizeof *input);
        if (!input) {
            fprintf(stderr, "convscope run: out of memory for %d images\n", batch);
            goto done;
        }
        for (int i = 0; i < batch; i++)
            if (cs_image_load(o.images[i], m.info, in_h, in_w, input + per_image * (size_t)i, per_image) != CS_OK) {
                cli_fail("image", NULL);
                goto done;
            }
    }
    unsigned flags = (o.dump || o.dump_png) ? CS_SESSION_KEEP_ALL : 0;
    if (o.profile)
        flags |= CS_SESSION_PROFILE;
    if (cs_session_create(&s, g, dev, batch, flags) != CS_OK) {
        cli_fail("device", "'convscope devices' lists the devices; --device cpu is the reference backend");
        goto done;
    }
    double t_ready = now_ms();
    if (cs_session_set_input(s, input, per_image * (size_t)batch) != CS_OK || cs_session_run(s) != CS_OK) {
        cli_fail("run", NULL);
        goto done;
    }
    double t_done = now_ms();
    int last = cs_graph_node_count(g) - 1;
    int classes = 0, oh = 0, ow = 0;
    cs_graph_node_shape(g, last, &classes, &oh, &ow);
    classes *= oh * ow;
    output = malloc((size_t)classes * (size_t)batch * sizeof *output);
    probs = malloc((size_t)classes * sizeof *probs);
    if (!output || !probs || cs_session_read(s, last, output, (size_t)classes * (size_t)batch) != CS_OK) {
        cli_fail("read", NULL);
        goto done;
    }
    if (o.output_npy) {
        int64_t dims[2] = {batch, classes};
        if (cs_npy_write(o.output_npy, output, 2, dims) != CS_OK) {
            cli_fail("output-npy", NULL);
            goto done;
        }
    }
    if ((o.dump || o.dump_png) && dump_layers(s, g, batch, &o) != 0)
        goto done;

    if (o.labels ? cs_labels_load(&labels, o.labels) != CS_OK : cs_labels_builtin(&labels, m.info->labels) != CS_OK) {
        if (o.labels) {
            cli_fail("labels", NULL);
            goto done;
        }
        labels = NULL; /* class numbers only */
    }
    if (labels && cs_labels_count(labels) != classes) {
        if (o.labels) {
            fprintf(stderr, "convscope run: %s has %d labels but the model has %d classes\n", o.labels,
                    cs_labels_count(labels), classes);
            goto done;
        }
        cs_labels_free(labels);
        labels = NULL;
    }
    char wdesc[600];
    cli_model_weights_desc(&m, wdesc, sizeof wdesc);
    if (!o.quiet && !o.json) {
        printf("%s, %s, on %s\n", o.model, wdesc, cs_session_device_name(s));
        if (m.report.note[0])
            printf("note: %s\n", m.report.note);
        if (!m.trained)
            printf("note: untrained weights: the classes below are meaningless (--weights FILE; see README)\n");
    }
    int last_op_softmax = cs_graph_node_op(g, last) == CS_OP_SOFTMAX;
    int last_op_rbf = cs_graph_node_op(g, last) == CS_OP_RBF;
    int top = o.top < classes ? o.top : classes;
    for (int b = 0; b < batch; b++) {
        to_probs(output + (size_t)b * (size_t)classes, classes, last_op_softmax, last_op_rbf, probs);
        const char *src = o.input_npy ? o.input_npy : o.images[b];
        if (o.json) {
            printf("{\"model\": ");
            cli_json_str(stdout, o.model);
            printf(", \"input\": ");
            cli_json_str(stdout, src);
            printf(", \"index\": %d, \"device\": ", b);
            cli_json_str(stdout, cs_session_device_name(s));
            printf(", \"trained\": %s, \"top\": [", m.trained ? "true" : "false");
        } else if (o.input_npy) {
            printf("%s[%d]:\n", src, b);
        } else {
            printf("%s:\n", src);
        }
        for (int k = 0; k < top; k++) {
            int best = -1;
            for (int c = 0; c < classes; c++)
                if (probs[c] >= 0.0 && (best < 0 || probs[c] > probs[best]))
                    best = c;
            char fallback[32];
            snprintf(fallback, sizeof fallback, "class %d", best);
            const char *label = labels ? cs_labels_get(labels, best) : fallback;
            if (o.json) {
                printf("%s{\"class\": %d, \"label\": ", k ? ", " : "", best);
                cli_json_str(stdout, label);
                printf(", \"prob\": %.6f}", probs[best]);
            } else {
                printf("  %6.2f%%  %4d  %s\n", 100.0 * probs[best], best, label);
            }
            probs[best] = -1.0;
        }
        if (o.json)
            printf("]}\n");
    }
    if (o.profile)
        print_profile(s, g);
    if (!o.quiet && !o.json)
        fprintf(stderr, "setup %.0f ms (weights, device, kernels), inference %.1f ms for %d image%s\n",
                t_ready - t0, t_done - t_ready, batch, batch == 1 ? "" : "s");
    code = 0;

done:
    cs_session_free(s);
    cs_labels_free(labels);
    cli_model_close(&m);
    if (o.input_npy)
        cs_free(input);
    else
        free(input);
    free(output);
    free(probs);
    free(o.images);
    return code;
}
