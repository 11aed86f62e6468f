/* `convscope train MODEL --data DIR --out FILE`: trains a zoo model on an
 * IDX data set (Fashion-MNIST by default) on the chosen device, with a
 * progress line, a test-set accuracy per epoch and an atomic checkpoint
 * (weights + optimizer state) after every epoch; Ctrl-C stops at a step
 * boundary and leaves the last checkpoint intact; --resume continues it.
 */
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"

static void help(FILE *to)
{
    fprintf(to,
            "usage: convscope train MODEL --out FILE.safetensors [options]\n\n"
            "Trains MODEL on an IDX image data set (train-*/t10k-* files, gzipped or plain:\n"
            "Fashion-MNIST or MNIST) with softmax cross-entropy. After every epoch it prints\n"
            "the test-set accuracy and writes FILE (the weights) and FILE.state (optimizer\n"
            "state) atomically. Ctrl-C stops after the current step; the last checkpoint\n"
            "stays intact. Models that fit 28x28 grey input: lenet5, lenet5_1998, fashion_*.\n\n"
            "  --data DIR          data set directory (default " CS_FASHION_MNIST_DIR ")\n"
            "  --out FILE          checkpoint to write (required)\n"
            "  --epochs E          passes over the training set (default 5)\n"
            "  --batch B           samples per step (default 64)\n"
            "  --optimizer sgd|adam  (default adam)\n"
            "  --lr X              learning rate (default: adam 0.001, sgd 0.01)\n"
            "  --momentum M        SGD momentum (default 0.9)\n"
            "  --weight-decay W    L2 weight decay (default 0)\n"
            "  --schedule constant|cosine  learning-rate schedule over all steps (default constant)\n"
            "  --seed S            initial weights (seeded He init), shuffling and dropout (default 1)\n"
            "  --weights FILE      start from these weights instead of the seeded init\n"
            "  --resume            continue from --out and --out.state (the epoch after the last saved)\n"
            "  --limit N           use only the first N training samples (quick runs)\n"
            "  --device N|cpu      OpenCL device index, or the CPU reference backend\n"
            "  --profile           after the first epoch: device ms per step of every layer\n"
            "                      (forward + backward) and the time of each phase\n"
            "  --quiet             no progress line, only the per-epoch lines\n");
}

typedef struct train_opts {
    const char *model, *data, *out, *device, *weights;
    int epochs, batch, adam, cosine, resume, limit, quiet, profile;
    double lr, momentum, weight_decay;
    unsigned long long seed;
} train_opts;

static volatile sig_atomic_t interrupted = 0;

static void on_sigint(int sig)
{
    (void)sig;
    interrupted = 1;
    signal(SIGINT, SIG_DFL); /* a second Ctrl-C ends the process at once */
}

static int parse_double(const char *opt, const char *v, double lo, double hi, double *out)
{
    char *end = NULL;
    double d = strtod(v, &end);
    if (!v[0] || *end || !(d >= lo && d <= hi)) {
        fprintf(stderr, "convscope train: %s takes a number in [%g, %g], not '%s'\n", opt, lo, hi, v);
        return -1;
    }
    *out = d;
    return 0;
}

static int parse(int argc, char **argv, train_opts *o, int *code)
{
    o->epochs = 5;
    o->batch = 64;
    o->adam = 1;
    o->lr = -1.0;
    o->momentum = 0.9;
    o->seed = 1;
    *code = 2;
    for (int i = 1; i < argc; i++) {
        const char *v = NULL;
        int r = 0;
        if (cli_is_help(argv[i])) {
            help(stdout);
            *code = 0;
            return -1;
        }
#define STR(name, field)                                                                                     \
    if ((r = cli_opt(argc, argv, &i, name, &v)) != 0) {                                                       \
        if (r < 0)                                                                                            \
            return -1;                                                                                        \
        o->field = v;                                                                                         \
        continue;                                                                                             \
    }
        STR("--data", data)
        STR("--out", out)
        STR("--device", device)
        STR("--weights", weights)
#undef STR
        if ((r = cli_opt(argc, argv, &i, "--epochs", &v)) != 0) {
            if (r < 0 || (o->epochs = cli_int("--epochs", v, 1, 100000)) < 0)
                return -1;
        } else if ((r = cli_opt(argc, argv, &i, "--batch", &v)) != 0) {
            if (r < 0 || (o->batch = cli_int("--batch", v, 1, 65536)) < 0)
                return -1;
        } else if ((r = cli_opt(argc, argv, &i, "--limit", &v)) != 0) {
            if (r < 0 || (o->limit = cli_int("--limit", v, 1, 100000000)) < 0)
                return -1;
        } else if ((r = cli_opt(argc, argv, &i, "--seed", &v)) != 0) {
            char *end = NULL;
            if (r < 0)
                return -1;
            o->seed = strtoull(v, &end, 10);
            if (!v[0] || *end || v[0] == '-') {
                fprintf(stderr, "convscope train: --seed takes a non-negative integer, not '%s'\n", v);
                return -1;
            }
        } else if ((r = cli_opt(argc, argv, &i, "--lr", &v)) != 0) {
            if (r < 0 || parse_double("--lr", v, 1e-12, 100.0, &o->lr) < 0)
                return -1;
        } else if ((r = cli_opt(argc, argv, &i, "--momentum", &v)) != 0) {
            if (r < 0 || parse_double("--momentum", v, 0.0, 0.9999, &o->momentum) < 0)
                return -1;
        } else if ((r = cli_opt(argc, argv, &i, "--weight-decay", &v)) != 0) {
            if (r < 0 || parse_double("--weight-decay", v, 0.0, 1.0, &o->weight_decay) < 0)
                return -1;
        } else if ((r = cli_opt(argc, argv, &i, "--optimizer", &v)) != 0) {
            if (r < 0)
                return -1;
            if (strcmp(v, "sgd") == 0) {
                o->adam = 0;
            } else if (strcmp(v, "adam") == 0) {
                o->adam = 1;
            } else {
                fprintf(stderr, "convscope train: --optimizer is sgd or adam, not '%s'\n", v);
                return -1;
            }
        } else if ((r = cli_opt(argc, argv, &i, "--schedule", &v)) != 0) {
            if (r < 0)
                return -1;
            if (strcmp(v, "constant") == 0) {
                o->cosine = 0;
            } else if (strcmp(v, "cosine") == 0) {
                o->cosine = 1;
            } else {
                fprintf(stderr, "convscope train: --schedule is constant or cosine, not '%s'\n", v);
                return -1;
            }
        } else if (strcmp(argv[i], "--profile") == 0) {
            o->profile = 1;
        } else if (strcmp(argv[i], "--resume") == 0) {
            o->resume = 1;
        } else if (strcmp(argv[i], "--quiet") == 0 || strcmp(argv[i], "-q") == 0) {
            o->quiet = 1;
        } else if (argv[i][0] == '-' && argv[i][1] != '\0') {
            fprintf(stderr, "convscope train: unknown option '%s'\n", argv[i]);
            help(stderr);
            return -1;
        } else if (!o->model) {
            o->model = argv[i];
        } else {
            fprintf(stderr, "convscope train: one model at a time ('%s' is extra)\n", argv[i]);
            return -1;
        }
    }
    if (!o->model) {
        fprintf(stderr, "convscope train: which model? (lenet5, lenet5_1998, fashion_*: "
                        "'convscope models' lists them)\n");
        return -1;
    }
    if (!o->out) {
        fprintf(stderr, "convscope train: --out FILE.safetensors is required (the checkpoint)\n");
        return -1;
    }
    if (o->resume && o->weights) {
        fprintf(stderr, "convscope train: --resume continues --out; it does not take --weights\n");
        return -1;
    }
    if (o->lr < 0.0)
        o->lr = o->adam ? 1e-3 : 1e-2;
    *code = 1;
    return 0;
}

/* splitmix64: the shuffle's generator. */
static uint64_t mix64(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* The order of epoch e: a Fisher-Yates shuffle seeded by (seed, e), so a
 * resumed run sees the same batches. */
static void shuffle(int *order, int n, uint64_t seed, int epoch)
{
    uint64_t s = seed * 0x2545F4914F6CDD1Dull + (uint64_t)epoch + 1u;
    for (int i = 0; i < n; i++)
        order[i] = i;
    for (int i = n - 1; i > 0; i--) {
        int j = (int)(mix64(&s) % (uint64_t)(i + 1));
        int t = order[i];
        order[i] = order[j];
        order[j] = t;
    }
}

static double now_s(void)
{
    struct timespec ts = {0, 0};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Test-set accuracy with the trainer's inference forward. */
static int evaluate(cs_trainer *t, const cs_dataset *test, const cs_model_info *info, int batch, int classes,
                    int in_c, int in_h, int in_w, float *x, float *logits, double *acc)
{
    const size_t per = (size_t)in_c * (size_t)in_h * (size_t)in_w;
    int correct = 0;
    for (int start = 0; start < test->count; start += batch) {
        int n = test->count - start < batch ? test->count - start : batch;
        for (int b = 0; b < n; b++)
            if (cs_dataset_input(test, start + b, info, in_c, in_h, in_w, x + per * (size_t)b) != CS_OK)
                return -1;
        if (cs_trainer_predict(t, x, per * (size_t)n, logits, (size_t)n * (size_t)classes) != CS_OK)
            return -1;
        for (int b = 0; b < n; b++) {
            const float *z = logits + (size_t)b * (size_t)classes;
            int best = 0;
            for (int k = 1; k < classes; k++)
                if (z[k] > z[best])
                    best = k;
            correct += best == test->labels[start + b];
        }
    }
    *acc = 100.0 * (double)correct / (double)test->count;
    return 0;
}

static int save_checkpoint(cs_trainer *t, cs_graph *g, const char *out, int epoch)
{
    char state_path[4096];
    snprintf(state_path, sizeof state_path, "%s.state", out);
    if (cs_trainer_sync_weights(t) != CS_OK)
        return -1;
    int n = cs_trainer_state_count(t) + 1;
    char **keys = calloc((size_t)n, sizeof *keys);
    float **data = calloc((size_t)n, sizeof *data);
    size_t *counts = calloc((size_t)n, sizeof *counts);
    float epoch_f = (float)epoch;
    int rc = -1;
    if (!keys || !data || !counts)
        goto done;
    keys[0] = strdup("trainer.epoch");
    data[0] = malloc(sizeof(float));
    if (!keys[0] || !data[0])
        goto done;
    data[0][0] = epoch_f;
    counts[0] = 1;
    for (int i = 1; i < n; i++) {
        keys[i] = malloc(256);
        if (!keys[i] || cs_trainer_state_get(t, i - 1, keys[i], 256, &data[i], &counts[i]) != CS_OK)
            goto done;
    }
    /* Weights first: a state file always belongs to weights at least as new. */
    if (cs_graph_save_weights(g, out) != CS_OK ||
        cs_safetensors_save(state_path, cs_graph_model(g), n, (const char *const *)keys,
                            (const float *const *)data, counts) != CS_OK)
        goto done;
    rc = 0;
done:
    if (rc != 0 && !cs_last_error()[0])
        fprintf(stderr, "convscope train: out of memory writing the checkpoint\n");
    for (int i = 0; i < n && keys; i++) {
        free(keys[i]);
        if (data)
            free(data[i]);
    }
    free(keys);
    free(data);
    free(counts);
    return rc;
}

/* Loads FILE.state into the trainer; returns the last finished epoch or -1. */
static int load_state(cs_trainer *t, const char *out)
{
    char path[4096];
    snprintf(path, sizeof path, "%s.state", out);
    cs_weights *w = NULL;
    int epoch = -1;
    float *buf = NULL;
    if (cs_weights_open(&w, path) != CS_OK)
        return -1;
    for (int i = 0; i < cs_weights_count(w); i++) {
        const char *key = cs_weights_key(w, i);
        int ndim = 0;
        int64_t dims[8] = {0};
        if (cs_weights_shape(w, key, &ndim, dims) != CS_OK || ndim != 1 || dims[0] < 1 ||
            dims[0] > 100000000)
            goto fail;
        float *nb = realloc(buf, (size_t)dims[0] * sizeof *nb);
        if (!nb)
            goto fail;
        buf = nb;
        if (cs_weights_read(w, key, buf, (size_t)dims[0]) != CS_OK)
            goto fail;
        if (strcmp(key, "trainer.epoch") == 0) {
            if (!(buf[0] >= 1.0f && buf[0] <= 100000.0f))
                goto fail;
            epoch = (int)buf[0];
        } else if (cs_trainer_state_set(t, key, buf, (size_t)dims[0]) != CS_OK) {
            goto fail;
        }
    }
    free(buf);
    cs_weights_close(w);
    return epoch;
fail:
    free(buf);
    cs_weights_close(w);
    return -1;
}

static void print_profile(cs_trainer *t, const cs_graph *g, int batch)
{
    double ph[4];
    cs_trainer_phase_ms(t, ph);
    double total = 0.0;
    for (int i = 0; i < cs_graph_node_count(g); i++)
        if (cs_trainer_node_ms(t, i) > 0.0)
            total += cs_trainer_node_ms(t, i);
    printf("\nprofile (mean per step of %d images; device ms from OpenCL events)\n", batch);
    printf("  %-40s %-10s %9s %6s\n", "layer", "op", "ms", "share");
    for (int i = 0; i < cs_graph_node_count(g); i++) {
        double ms = cs_trainer_node_ms(t, i);
        if (ms <= 0.0)
            continue;
        printf("  %-40.40s %-10s %9.3f %5.1f%%\n", cs_graph_node_name(g, i), cs_op_name(cs_graph_node_op(g, i)), ms,
               100.0 * ms / total);
    }
    printf("  %-40s %-10s %9.3f\n", "all layers (forward + backward)", "", total);
    printf("  wall ms per step: forward %.2f, loss %.2f, backward %.2f, optimizer %.2f\n\n", ph[0], ph[1], ph[2],
           ph[3]);
}

static void progress(int epoch, int epochs, int done, int total, double loss, double acc, double rate,
                     double eta)
{
    char bar[31];
    int fill = total ? (int)((double)done / total * 30.0) : 30;
    for (int i = 0; i < 30; i++)
        bar[i] = i < fill ? '=' : (i == fill ? '>' : ' ');
    bar[30] = '\0';
    fprintf(stderr, "\repoch %d/%d [%s] %d/%d  loss %.4f  acc %5.1f%%  %.0f img/s  ETA %d:%02d ", epoch,
            epochs, bar, done, total, loss, acc, rate, (int)eta / 60, (int)eta % 60);
    fflush(stderr);
}

int cs_cmd_train(int argc, char **argv)
{
    train_opts o;
    memset(&o, 0, sizeof o);
    int code = 2;
    if (parse(argc, argv, &o, &code) != 0)
        return code;
    cs_device_choice dev;
    if (cs_device_parse(o.device, &dev) != CS_OK) {
        cli_fail("device", "'convscope devices' lists the devices; --device cpu is the reference backend");
        return 2;
    }
    code = 1;
    cs_dataset *train = NULL, *test = NULL;
    cs_trainer *t = NULL;
    cli_model m;
    memset(&m, 0, sizeof m);
    float *x = NULL, *logits = NULL;
    int32_t *labels = NULL;
    int *order = NULL;

    if (cs_fashion_mnist_load(o.data, 0, &train) != CS_OK || cs_fashion_mnist_load(o.data, 1, &test) != CS_OK) {
        cli_fail("data", "install Debian's dataset-fashion-mnist, or give --data DIR with the train-* and "
                         "t10k-* IDX files");
        goto done;
    }
    /* Weights: --resume takes --out; --weights a given file; else seeded. */
    const char *start = o.resume ? o.out : o.weights;
    if (cli_model_open(&m, o.model, start ? start : "", 0, 0) != 0) /* "": no shipped weights */
        goto done;
    if (!start && cs_graph_init_seeded(m.g, o.seed) != CS_OK) {
        cli_fail("init", NULL);
        goto done;
    }
    int in_c = 0, in_h = 0, in_w = 0;
    cs_graph_node_shape(m.g, cs_graph_input(m.g), &in_c, &in_h, &in_w);
    const size_t per = (size_t)in_c * (size_t)in_h * (size_t)in_w;
    int classes = 0, oh = 0, ow = 0;
    cs_graph_node_shape(m.g, cs_graph_node_count(m.g) - 1, &classes, &oh, &ow);
    if (classes < 10) {
        fprintf(stderr, "convscope train: %s has %d outputs; the data set has 10 classes\n", o.model, classes);
        goto done;
    }
    x = malloc(per * (size_t)o.batch * sizeof *x);
    logits = malloc((size_t)o.batch * (size_t)classes * sizeof *logits);
    labels = malloc((size_t)o.batch * sizeof *labels);
    order = malloc((size_t)train->count * sizeof *order);
    if (!x || !logits || !labels || !order) {
        fprintf(stderr, "convscope train: out of memory for a batch of %d\n", o.batch);
        goto done;
    }
    if (cs_dataset_input(train, 0, m.info, in_c, in_h, in_w, x) != CS_OK) {
        cli_fail("data", NULL);
        goto done;
    }
    cs_train_options to;
    cs_train_options_default(&to);
    to.batch = o.batch;
    to.seed = o.seed;
    to.optimizer = o.adam ? CS_OPT_ADAM : CS_OPT_SGD;
    to.adam.lr = o.lr;
    to.adam.weight_decay = o.weight_decay;
    to.sgd.lr = o.lr;
    to.sgd.momentum = o.momentum;
    to.sgd.weight_decay = o.weight_decay;
    to.profile = o.profile;
    if (cs_trainer_create(&t, m.g, dev, &to) != CS_OK) {
        cli_fail("train", "--batch sets the samples per step; --device cpu uses the reference backend");
        goto done;
    }
    int first_epoch = 1;
    if (o.resume) {
        int last = load_state(t, o.out);
        if (last < 0) {
            cli_fail("resume", "--resume needs the FILE and FILE.state a previous 'convscope train --out FILE' "
                               "wrote");
            goto done;
        }
        first_epoch = last + 1;
        if (first_epoch > o.epochs) {
            printf("%s: already trained for %d epochs (--epochs %d): nothing to do\n", o.out, last, o.epochs);
            code = 0;
            goto done;
        }
    }
    int n_train = o.limit && o.limit < train->count ? o.limit : train->count;
    int steps_per_epoch = n_train / o.batch;
    if (steps_per_epoch < 1) {
        fprintf(stderr, "convscope train: %d samples make no full batch of %d\n", n_train, o.batch);
        goto done;
    }
    long total_steps = (long)steps_per_epoch * o.epochs;
    char desc[256];
    printf("training %s on %s (%d train / %d test images) for %d epochs, batch %d, %s lr %g%s, seed %llu\n",
           o.model, o.data ? o.data : CS_FASHION_MNIST_DIR, n_train, test->count, o.epochs, o.batch,
           o.adam ? "adam" : "sgd", o.lr, o.cosine ? " (cosine)" : "", o.seed);
    printf("starting from %s%s\n", start ? cli_model_weights_desc(&m, desc, sizeof desc) : "seeded He init",
           o.resume ? " (resumed)" : "");
    fflush(stdout);
    signal(SIGINT, on_sigint);
    int show = !o.quiet && isatty(fileno(stderr));
    for (int epoch = first_epoch; epoch <= o.epochs && !interrupted; epoch++) {
        shuffle(order, n_train, o.seed, epoch);
        double t0 = now_s(), loss_sum = 0.0, last_draw = 0.0;
        long correct = 0, seen = 0;
        int step = 0;
        for (step = 0; step < steps_per_epoch && !interrupted; step++) {
            long global = (long)(epoch - 1) * steps_per_epoch + step;
            if (o.cosine)
                cs_trainer_set_lr(t, 0.5 * o.lr * (1.0 + cos(3.14159265358979323846 * (double)global /
                                                             (double)total_steps)));
            for (int b = 0; b < o.batch; b++) {
                int idx = order[step * o.batch + b];
                cs_dataset_input(train, idx, m.info, in_c, in_h, in_w, x + per * (size_t)b);
                labels[b] = train->labels[idx];
            }
            double loss = 0.0;
            int c = 0;
            if (cs_trainer_step(t, x, per * (size_t)o.batch, labels, &loss, &c) != CS_OK) {
                if (show)
                    fputc('\n', stderr);
                cli_fail("train step", NULL);
                goto done;
            }
            loss_sum += loss;
            correct += c;
            seen += o.batch;
            double now = now_s();
            if (show && (now - last_draw > 0.25 || step + 1 == steps_per_epoch)) {
                double rate = (double)seen / (now - t0);
                progress(epoch, o.epochs, (step + 1) * o.batch, steps_per_epoch * o.batch, loss_sum / (step + 1),
                         100.0 * (double)correct / (double)seen, rate,
                         (double)(steps_per_epoch - step - 1) * o.batch / rate);
                last_draw = now;
            }
        }
        if (show)
            fputc('\n', stderr);
        if (interrupted)
            break;
        double train_s = now_s() - t0;
        double acc = 0.0;
        if (evaluate(t, test, m.info, o.batch, classes, in_c, in_h, in_w, x, logits, &acc) != 0) {
            cli_fail("evaluation", NULL);
            goto done;
        }
        if (save_checkpoint(t, m.g, o.out, epoch) != 0) {
            cli_fail("checkpoint", "the previous checkpoint, if any, is unchanged");
            goto done;
        }
        printf("epoch %d/%d: loss %.4f, train acc %.2f%%, test acc %.2f%%, %.1f s (%.0f img/s), saved %s\n",
               epoch, o.epochs, loss_sum / step, 100.0 * (double)correct / (double)seen, acc, train_s,
               (double)seen / train_s, o.out);
        if (o.profile && epoch == first_epoch)
            print_profile(t, m.g, o.batch);
        fflush(stdout);
    }
    if (interrupted) {
        fprintf(stderr, "convscope train: interrupted; %s keeps the last finished epoch (continue with "
                        "--resume)\n", o.out);
        code = 130;
        goto done;
    }
    code = 0;
done:
    cs_trainer_free(t);
    cli_model_close(&m);
    cs_dataset_free(train);
    cs_dataset_free(test);
    free(x);
    free(logits);
    free(labels);
    free(order);
    return code;
}
