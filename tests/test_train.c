/* Trainer tests (test_train [label-substring]), through the public API only:
 *  - whole-graph gradients: with plain SGD at lr 1 a step moves every
 *    parameter by exactly minus its gradient, which is checked against
 *    central finite differences of the step's loss (CPU reference backend;
 *    graphs mixing every trainable op: conv incl. depthwise and grouped,
 *    batchnorm in training mode, pools, concat, SE-style scale, residual add
 *    with ReLU, dense, tanh/sigmoid, RBF output);
 *  - the OpenCL trainer against the CPU trainer: the same steps (SGD with
 *    momentum and weight decay; Adam; dropout from the same seed) leave the
 *    same parameters and running statistics, for the small graphs and for
 *    every model `convscope train` ships (lenet5, lenet5_1998, fashion_*);
 *  - learning: lenet5 on real Fashion-MNIST images beats 70% test accuracy
 *    after 300 steps (chance is 10%);
 *  - errors: softmax outputs, batchnorm with one value per channel, wrong
 *    input sizes and labels give statuses and messages; state round-trips.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "convscope.h"

static int n_passed = 0, n_failed = 0;
static const char *filter = NULL;

static void result(int ok, const char *label, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

#include <stdarg.h>
static void result(int ok, const char *label, const char *fmt, ...)
{
    char detail[512] = {0};
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof detail, fmt, ap);
    va_end(ap);
    printf("%s  %s%s%s\n", ok ? "PASS" : "FAIL", label, detail[0] ? ": " : "", detail);
    if (ok)
        n_passed++;
    else
        n_failed++;
}

static int wanted(const char *label)
{
    return filter == NULL || strstr(label, filter) != NULL;
}

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;

static double urand(void) /* [0, 1) */
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (double)(rng_state >> 11) / 9007199254740992.0;
}

/* ------------------------------------------------------------------------ */
/* Parameter snapshots                                                      */
/* ------------------------------------------------------------------------ */

typedef struct snapshot {
    int n;
    float **data;
    size_t *count;
} snapshot;

static int snap_take(const cs_graph *g, snapshot *s)
{
    memset(s, 0, sizeof *s);
    int total = 0;
    for (int i = 0; i < cs_graph_node_count(g); i++)
        total += cs_graph_param_count(g, i);
    s->data = calloc((size_t)total + 1, sizeof *s->data);
    s->count = calloc((size_t)total + 1, sizeof *s->count);
    if (!s->data || !s->count)
        return -1;
    for (int i = 0; i < cs_graph_node_count(g); i++) {
        for (int j = 0; j < cs_graph_param_count(g, i); j++) {
            cs_param_info p;
            if (cs_graph_param(g, i, j, &p) != CS_OK)
                return -1;
            s->data[s->n] = malloc((p.count ? p.count : 1) * sizeof(float));
            if (!s->data[s->n])
                return -1;
            memcpy(s->data[s->n], p.data, p.count * sizeof(float));
            s->count[s->n++] = p.count;
        }
    }
    return 0;
}

static void snap_restore(cs_graph *g, const snapshot *s)
{
    int k = 0;
    for (int i = 0; i < cs_graph_node_count(g); i++) {
        for (int j = 0; j < cs_graph_param_count(g, i); j++) {
            cs_param_info p;
            cs_graph_param(g, i, j, &p);
            memcpy(p.data, s->data[k], s->count[k] * sizeof(float));
            k++;
        }
    }
}

static void snap_free(snapshot *s)
{
    for (int i = 0; i < s->n; i++)
        free(s->data[i]);
    free(s->data);
    free(s->count);
    memset(s, 0, sizeof *s);
}

/* ------------------------------------------------------------------------ */
/* Small graphs                                                             */
/* ------------------------------------------------------------------------ */

static cs_conv2d_params conv_p(int k, int kernel, int stride, int pad, int groups, int bias)
{
    cs_conv2d_params p;
    memset(&p, 0, sizeof p);
    p.out_channels = k;
    p.kernel_h = p.kernel_w = kernel;
    p.stride_h = p.stride_w = stride;
    p.pad_top = p.pad_bottom = p.pad_left = p.pad_right = pad;
    p.dilation_h = p.dilation_w = 1;
    p.groups = groups;
    p.bias = bias;
    return p;
}

static cs_pool_params pool_p(int k, int stride, int pad, int ceil_mode)
{
    cs_pool_params p;
    memset(&p, 0, sizeof p);
    p.kernel_h = p.kernel_w = k;
    p.stride_h = p.stride_w = stride;
    p.pad_top = p.pad_bottom = p.pad_left = p.pad_right = pad;
    p.ceil_mode = ceil_mode;
    p.count_include_pad = 1;
    return p;
}

/* conv-BN-ReLU, inception-style concat with a max-pool branch, SE-style
 * gate, residual add with ReLU, avg pool, depthwise + grouped convs, dense. */
static cs_graph *graph_mix(int with_dropout)
{
    cs_graph *g = NULL;
    if (cs_graph_create(&g, "mix") != CS_OK)
        return NULL;
    int x = cs_input(g, "input", 2, 7, 7);
    cs_conv2d_params p = conv_p(4, 3, 1, 1, 1, 0); /* no bias before BN: its gradient is 0 */
    int a = cs_conv2d(g, "conv1", x, &p);
    a = cs_batchnorm(g, "bn1", a, 1e-5f);
    a = cs_act(g, "relu1", a, CS_ACT_RELU);
    p = conv_p(4, 1, 1, 0, 1, 0);
    int b1 = cs_conv2d(g, "branch1", a, &p);
    cs_pool_params pp = pool_p(3, 1, 1, 0);
    int b2 = cs_maxpool(g, "branch2", a, &pp);
    int cat[2] = {b1, b2};
    int c = cs_concat(g, "cat", cat, 2);
    int s = cs_adaptive_avgpool(g, "squeeze", c, 1, 1);
    p = conv_p(8, 1, 1, 0, 1, 1);
    s = cs_conv2d(g, "excite", s, &p);
    s = cs_act(g, "gate", s, CS_ACT_SIGMOID);
    int y = cs_scale(g, "scale", c, s);
    p = conv_p(8, 3, 1, 1, 8, 0); /* depthwise */
    int dw = cs_conv2d(g, "dw", y, &p);
    p = conv_p(8, 1, 1, 0, 2, 1); /* grouped pointwise */
    dw = cs_conv2d(g, "pw", dw, &p);
    int r = cs_add(g, "res", dw, c, 1);
    pp = pool_p(2, 2, 0, 1);
    r = cs_avgpool(g, "pool", r, &pp);
    r = cs_flatten(g, "flatten", r);
    if (with_dropout)
        r = cs_dropout(g, "drop", r, 0.4f);
    r = cs_dense(g, "hidden", r, 6, 1);
    r = cs_act(g, "tanh", r, CS_ACT_TANH);
    cs_dense(g, "fc", r, 5, 1);
    if (cs_graph_status(g) != CS_OK || cs_graph_init_seeded(g, 3) != CS_OK) {
        cs_graph_free(g);
        return NULL;
    }
    return g;
}

/* A strided conv with asymmetric work, affine, scaled tanh and an RBF output
 * (LeNet-1998's pieces). */
static cs_graph *graph_rbf(void)
{
    cs_graph *g = NULL;
    if (cs_graph_create(&g, "rbfnet") != CS_OK)
        return NULL;
    int x = cs_input(g, "input", 1, 9, 9);
    cs_conv2d_params p = conv_p(3, 3, 2, 0, 1, 1);
    x = cs_conv2d(g, "c1", x, &p);
    x = cs_affine(g, "s1", x);
    x = cs_act(g, "t1", x, CS_ACT_SCALED_TANH);
    x = cs_flatten(g, "flatten", x);
    x = cs_dense(g, "f", x, 7, 1);
    x = cs_act(g, "t2", x, CS_ACT_SCALED_TANH);
    cs_rbf(g, "output", x, 4);
    if (cs_graph_status(g) != CS_OK || cs_graph_init_seeded(g, 5) != CS_OK) {
        cs_graph_free(g);
        return NULL;
    }
    /* RBF prototypes are fixed +-1 codes, as in the paper. */
    int out = cs_graph_find(g, "output");
    cs_param_info pi;
    cs_graph_param(g, out, 0, &pi);
    for (size_t i = 0; i < pi.count; i++)
        pi.data[i] = urand() < 0.5 ? -1.0f : 1.0f;
    return g;
}

static void random_batch(float *x, size_t count, int32_t *labels, int batch, int classes)
{
    for (size_t i = 0; i < count; i++)
        x[i] = (float)(urand() * 2.0 - 1.0);
    for (int b = 0; b < batch; b++)
        labels[b] = (int32_t)(urand() * classes) % classes;
}

static size_t input_count(const cs_graph *g, int batch)
{
    int c = 0, h = 0, w = 0;
    cs_graph_node_shape(g, cs_graph_input(g), &c, &h, &w);
    return (size_t)batch * (size_t)c * (size_t)h * (size_t)w;
}

/* ------------------------------------------------------------------------ */
/* Whole-graph finite differences (CPU reference)                           */
/* ------------------------------------------------------------------------ */

static void check_fd(const char *label, cs_graph *g, int batch, int classes)
{
    if (!wanted(label))
        return;
    cs_train_options o;
    cs_train_options_default(&o);
    o.batch = batch;
    o.optimizer = CS_OPT_SGD;
    o.sgd = (cs_sgd_params){.lr = 1.0, .momentum = 0.0, .weight_decay = 0.0, .nesterov = 0};
    cs_device_choice cpu = {1, 0};
    cs_trainer *t = NULL;
    snapshot before, after;
    size_t count = input_count(g, batch);
    float *x = malloc(count * sizeof *x);
    int32_t labels[16];
    random_batch(x, count, labels, batch, classes);
    if (cs_trainer_create(&t, g, cpu, &o) != CS_OK || snap_take(g, &before) != 0) {
        result(0, label, "setup: %s", cs_last_error());
        free(x);
        cs_trainer_free(t);
        return;
    }
    double loss0 = 0.0;
    cs_status st = cs_trainer_step(t, x, count, labels, &loss0, NULL);
    snap_take(g, &after);
    snap_restore(g, &before);

    /* Probe a spread of entries of every tensor that moved. */
    double max_err = 0.0, max_g = 0.0;
    int probes = 0, k = 0;
    const double h = 2e-3;
    for (int i = 0; i < cs_graph_node_count(g) && st == CS_OK; i++) {
        for (int j = 0; j < cs_graph_param_count(g, i); j++, k++) {
            cs_param_info p;
            cs_graph_param(g, i, j, &p);
            if (p.buffer)
                continue; /* running statistics, RBF prototypes */
            size_t stride = p.count > 5 ? p.count / 5 : 1;
            for (size_t e = (size_t)k % stride; e < p.count; e += stride) {
                double analytic = (double)before.data[k][e] - (double)after.data[k][e];
                double lp = 0.0, lm = 0.0;
                p.data[e] = before.data[k][e] + (float)h;
                st = cs_trainer_step(t, x, count, labels, &lp, NULL);
                snap_restore(g, &before);
                p.data[e] = before.data[k][e] - (float)h;
                if (st == CS_OK)
                    st = cs_trainer_step(t, x, count, labels, &lm, NULL);
                snap_restore(g, &before);
                if (st != CS_OK)
                    break;
                double numeric = (lp - lm) / (2.0 * h);
                double err = fabs(analytic - numeric);
                if (err > max_err)
                    max_err = err;
                if (fabs(numeric) > max_g)
                    max_g = fabs(numeric);
                probes++;
            }
        }
    }
    int ok = st == CS_OK && probes > 10 && max_err <= 2e-2 * max_g + 2e-4 && max_g > 1e-4;
    result(ok, label, "%d probes, max |analytic - numeric| %.2e, max |grad| %.2e, loss %.4f%s%s", probes,
           max_err, max_g, loss0, st == CS_OK ? "" : ": ", st == CS_OK ? "" : cs_last_error());
    snap_free(&before);
    snap_free(&after);
    cs_trainer_free(t);
    free(x);
}

/* ------------------------------------------------------------------------ */
/* OpenCL trainer vs CPU trainer                                            */
/* ------------------------------------------------------------------------ */

/* Runs `steps` steps on a clone per backend from the same data, then
 * compares every tensor (parameters and running statistics) relative to the
 * tensor's change on the CPU. */
static void check_cl_vs_cpu(const char *label, const cs_graph *g0, const cs_train_options *o, int steps,
                            const float *data, const int32_t *labels, double tol)
{
    if (!wanted(label))
        return;
    cs_graph *gc = NULL, *gl = NULL;
    cs_trainer *tc = NULL, *tl = NULL;
    snapshot init, rc, rl;
    memset(&rc, 0, sizeof rc);
    memset(&rl, 0, sizeof rl);
    cs_device_choice cpu = {1, 0}, dev = {0, 0};
    cs_device_parse(NULL, &dev);
    if (dev.reference)
        dev = (cs_device_choice){0, 0};
    size_t count = input_count(g0, o->batch);
    cs_status st = CS_OK;
    double lc = 0.0, ll = 0.0;
    if ((st = cs_graph_clone(g0, &gc)) != CS_OK || (st = cs_graph_clone(g0, &gl)) != CS_OK ||
        (st = cs_trainer_create(&tc, gc, cpu, o)) != CS_OK || (st = cs_trainer_create(&tl, gl, dev, o)) != CS_OK) {
        result(0, label, "setup: %s", cs_last_error());
        goto done;
    }
    snap_take(g0, &init);
    for (int s = 0; s < steps && st == CS_OK; s++) {
        const float *xs = data + count * (size_t)s;
        const int32_t *ls = labels + (size_t)o->batch * (size_t)s;
        st = cs_trainer_step(tc, xs, count, ls, &lc, NULL);
        if (st == CS_OK)
            st = cs_trainer_step(tl, xs, count, ls, &ll, NULL);
    }
    if (st == CS_OK)
        st = cs_trainer_sync_weights(tl);
    if (st != CS_OK) {
        result(0, label, "%s", cs_last_error());
        snap_free(&init);
        goto done;
    }
    snap_take(gc, &rc);
    snap_take(gl, &rl);
    double worst = 0.0;
    int worst_k = -1;
    for (int k = 0; k < rc.n; k++) {
        double dmax = 0.0, emax = 0.0;
        for (size_t e = 0; e < rc.count[k]; e++) {
            double d = fabs((double)rc.data[k][e] - (double)init.data[k][e]);
            double err = fabs((double)rc.data[k][e] - (double)rl.data[k][e]);
            if (d > dmax)
                dmax = d;
            if (err > emax || err != err)
                emax = err != err ? INFINITY : err;
        }
        double rel = emax / (dmax + 1e-7);
        if (rel > worst) {
            worst = rel;
            worst_k = k;
        }
    }
    result(worst <= tol && fabs(lc - ll) <= 1e-4 * (fabs(lc) + 1.0), label,
           "%d steps: worst tensor %d off by %.2e of its change; loss cpu %.6f opencl %.6f", steps, worst_k,
           worst, lc, ll);
    snap_free(&init);
done:
    snap_free(&rc);
    snap_free(&rl);
    cs_trainer_free(tc);
    cs_trainer_free(tl);
    cs_graph_free(gc);
    cs_graph_free(gl);
}

static void check_small_cl(void)
{
    float data[4 * 4 * 2 * 7 * 7];
    int32_t labels[16];
    for (int with_dropout = 0; with_dropout < 2; with_dropout++) {
        cs_graph *g = graph_mix(with_dropout);
        random_batch(data, sizeof data / sizeof data[0], labels, 16, 5);
        cs_train_options o;
        cs_train_options_default(&o);
        o.batch = 4;
        o.seed = 11;
        o.optimizer = CS_OPT_SGD;
        o.sgd = (cs_sgd_params){.lr = 0.05, .momentum = 0.9, .weight_decay = 1e-3, .nesterov = 0};
        check_cl_vs_cpu(with_dropout ? "opencl = cpu: mix + dropout, sgd" : "opencl = cpu: mix, sgd", g, &o, 4,
                        data, labels, 2e-3);
        o.optimizer = CS_OPT_ADAM;
        o.adam.lr = 1e-3;
        /* Adam normalises each step: an element whose gradient is rounding
         * noise can move by up to lr either way, so the bar is looser. */
        check_cl_vs_cpu(with_dropout ? "opencl = cpu: mix + dropout, adam" : "opencl = cpu: mix, adam", g, &o, 1,
                        data, labels, 2e-2);
        cs_graph_free(g);
    }
    cs_graph *g = graph_rbf();
    cs_train_options o;
    cs_train_options_default(&o);
    o.batch = 3;
    o.sgd.lr = 0.02;
    random_batch(data, 4 * 3 * 81, labels, 12, 4);
    check_cl_vs_cpu("opencl = cpu: rbf, sgd", g, &o, 4, data, labels, 2e-3);
    cs_graph_free(g);
}

/* ------------------------------------------------------------------------ */
/* Shipped models on real images                                            */
/* ------------------------------------------------------------------------ */

static const char *const trained_models[] = {"lenet5",           "lenet5_1998",     "fashion_vgg",
                                             "fashion_resnet8",  "fashion_seresnet8", "fashion_densenet",
                                             "fashion_inception", "fashion_xception"};

static void check_models(const cs_dataset *train)
{
    for (size_t i = 0; i < sizeof trained_models / sizeof trained_models[0]; i++) {
        char label[128];
        snprintf(label, sizeof label, "opencl = cpu: %s, 2 sgd steps on Fashion-MNIST", trained_models[i]);
        if (!wanted(label))
            continue;
        cs_graph *g = NULL;
        const cs_model_info *info = cs_model_find(trained_models[i]);
        if (!info || cs_model_build(&g, trained_models[i], NULL) != CS_OK || cs_graph_init_seeded(g, 7) != CS_OK) {
            result(0, label, "build: %s", cs_last_error());
            cs_graph_free(g);
            continue;
        }
        int c = 0, h = 0, w = 0;
        cs_graph_node_shape(g, cs_graph_input(g), &c, &h, &w);
        const int batch = 4, steps = 2;
        size_t per = (size_t)c * (size_t)h * (size_t)w;
        float *x = malloc(per * (size_t)batch * steps * sizeof *x);
        int32_t labels[batch * steps];
        for (int b = 0; b < batch * steps; b++) {
            cs_dataset_input(train, 100 + b, info, c, h, w, x + per * (size_t)b);
            labels[b] = train->labels[100 + b];
        }
        cs_train_options o;
        cs_train_options_default(&o);
        o.batch = batch;
        o.sgd = (cs_sgd_params){.lr = 0.02, .momentum = 0.9, .weight_decay = 5e-4, .nesterov = 0};
        check_cl_vs_cpu(label, g, &o, steps, x, labels, 5e-3);
        free(x);
        cs_graph_free(g);
    }
}

static void check_learns(const cs_dataset *train, const cs_dataset *test)
{
    const char *label = "lenet5 learns: > 70% test accuracy after 300 adam steps (OpenCL)";
    if (!wanted(label))
        return;
    cs_graph *g = NULL;
    cs_trainer *t = NULL;
    const cs_model_info *info = cs_model_find("lenet5");
    const int batch = 32;
    size_t per = 32 * 32;
    float *x = malloc(per * batch * sizeof *x);
    float logits[32 * 10];
    int32_t labels[32];
    cs_device_choice dev;
    cs_device_parse(NULL, &dev);
    if (dev.reference)
        dev = (cs_device_choice){0, 0};
    cs_train_options o;
    cs_train_options_default(&o);
    o.batch = batch;
    o.optimizer = CS_OPT_ADAM;
    o.adam.lr = 2e-3;
    cs_status st = cs_model_build(&g, "lenet5", NULL);
    if (st == CS_OK)
        st = cs_graph_init_seeded(g, 1);
    if (st == CS_OK)
        st = cs_trainer_create(&t, g, dev, &o);
    double first = 0.0, last = 0.0;
    for (int s = 0; s < 300 && st == CS_OK; s++) {
        for (int b = 0; b < batch; b++) {
            int idx = (s * batch + b) % train->count;
            cs_dataset_input(train, idx, info, 1, 32, 32, x + per * (size_t)b);
            labels[b] = train->labels[idx];
        }
        double loss = 0.0;
        st = cs_trainer_step(t, x, per * batch, labels, &loss, NULL);
        if (s < 10)
            first += loss / 10.0;
        if (s >= 290)
            last += loss / 10.0;
    }
    int correct = 0, n = 0;
    for (int start = 0; start < 1000 && st == CS_OK; start += batch) {
        int cnt = 1000 - start < batch ? 1000 - start : batch;
        for (int b = 0; b < cnt; b++)
            cs_dataset_input(test, start + b, info, 1, 32, 32, x + per * (size_t)b);
        st = cs_trainer_predict(t, x, per * (size_t)cnt, logits, sizeof logits / sizeof logits[0]);
        for (int b = 0; b < cnt && st == CS_OK; b++) {
            int best = 0;
            for (int k = 1; k < 10; k++)
                if (logits[b * 10 + k] > logits[b * 10 + best])
                    best = k;
            correct += best == test->labels[start + b];
            n++;
        }
    }
    double acc = n ? 100.0 * correct / n : 0.0;
    result(st == CS_OK && acc > 70.0 && last < first, label, "loss %.3f -> %.3f, test accuracy %.1f%% on %d%s%s",
           first, last, acc, n, st == CS_OK ? "" : ": ", st == CS_OK ? "" : cs_last_error());
    cs_trainer_free(t);
    cs_graph_free(g);
    free(x);
}

/* ------------------------------------------------------------------------ */
/* Errors and state                                                         */
/* ------------------------------------------------------------------------ */

static void check_errors(void)
{
    const char *label = "errors: bad graphs, sizes and labels are refused with messages";
    if (!wanted(label))
        return;
    int ok = 1;
    char why[256] = "";
    cs_device_choice cpu = {1, 0};
    cs_train_options o;
    cs_train_options_default(&o);
    cs_trainer *t = NULL;

    /* A softmax output is trained on its logits; two are refused. */
    cs_graph *g = NULL;
    cs_graph_create(&g, "soft");
    int x = cs_input(g, "input", 1, 4, 4);
    x = cs_flatten(g, "flatten", x);
    x = cs_dense(g, "fc", x, 3, 1);
    x = cs_softmax(g, "prob", x);
    cs_graph_init_seeded(g, 1);
    if (cs_trainer_create(&t, g, cpu, &o) != CS_OK) { /* the final softmax is skipped */
        ok = 0;
        snprintf(why, sizeof why, "softmax output: %s", cs_last_error());
    }
    cs_trainer_free(t);
    t = NULL;
    cs_softmax(g, "prob2", x);
    if (cs_trainer_create(&t, g, cpu, &o) != CS_ERR_UNSUPPORTED || !strstr(cs_last_error(), "softmax")) {
        ok = 0;
        snprintf(why, sizeof why, "softmax of a softmax: %s", cs_last_error());
    }
    cs_trainer_free(t);
    t = NULL;
    cs_graph_free(g);

    /* Batchnorm on 1x1 maps at batch 1. */
    g = graph_mix(0);
    cs_graph *g2 = NULL;
    cs_graph_create(&g2, "bn1");
    x = cs_input(g2, "input", 3, 1, 1);
    x = cs_batchnorm(g2, "bn", x, 1e-5f);
    x = cs_flatten(g2, "flatten", x);
    cs_dense(g2, "fc", x, 2, 1);
    cs_graph_init_seeded(g2, 1);
    o.batch = 1;
    if (cs_trainer_create(&t, g2, cpu, &o) != CS_ERR_INVALID_ARG || !strstr(cs_last_error(), "batch")) {
        ok = 0;
        snprintf(why, sizeof why, "bn batch 1: %s", cs_last_error());
    }
    cs_trainer_free(t);
    t = NULL;
    cs_graph_free(g2);

    /* Bad learning rate. */
    o.batch = 2;
    o.sgd.lr = -1.0;
    if (cs_trainer_create(&t, g, cpu, &o) != CS_ERR_INVALID_ARG) {
        ok = 0;
        snprintf(why, sizeof why, "negative lr accepted");
    }
    cs_trainer_free(t);
    t = NULL;

    /* Wrong input size and out-of-range labels. */
    cs_train_options_default(&o);
    o.batch = 2;
    if (cs_trainer_create(&t, g, cpu, &o) != CS_OK) {
        ok = 0;
        snprintf(why, sizeof why, "create: %s", cs_last_error());
    } else {
        size_t count = input_count(g, 2);
        float *in = calloc(count, sizeof *in);
        int32_t bad[2] = {0, 5}, good[2] = {1, 2};
        double loss = 0.0;
        if (cs_trainer_step(t, in, count - 1, good, &loss, NULL) != CS_ERR_INVALID_ARG) {
            ok = 0;
            snprintf(why, sizeof why, "short input accepted");
        }
        if (cs_trainer_step(t, in, count, bad, &loss, NULL) != CS_ERR_INVALID_ARG ||
            !strstr(cs_last_error(), "label")) {
            ok = 0;
            snprintf(why, sizeof why, "label 5 of 5 classes: %s", cs_last_error());
        }
        /* State round trip: step count and moments. */
        if (cs_trainer_step(t, in, count, good, &loss, NULL) != CS_OK || cs_trainer_steps(t) != 1) {
            ok = 0;
            snprintf(why, sizeof why, "step after errors: %s", cs_last_error());
        }
        int n = cs_trainer_state_count(t);
        char name[160];
        float *data = NULL;
        size_t cnt = 0;
        if (n < 2 || cs_trainer_state_get(t, 0, name, sizeof name, &data, &cnt) != CS_OK || data[0] != 1.0f) {
            ok = 0;
            snprintf(why, sizeof why, "state: %d tensors, step %g", n, data ? (double)data[0] : -1.0);
        } else {
            data[0] = 41.0f;
            if (cs_trainer_state_set(t, name, data, cnt) != CS_OK || cs_trainer_steps(t) != 41) {
                ok = 0;
                snprintf(why, sizeof why, "state set: %s", cs_last_error());
            }
            if (cs_trainer_state_set(t, name, data, cnt + 1) != CS_ERR_SHAPE ||
                cs_trainer_state_set(t, "optim.nothing.m", data, cnt) != CS_ERR_INVALID_ARG) {
                ok = 0;
                snprintf(why, sizeof why, "bad state accepted");
            }
        }
        cs_free(data);
        free(in);
    }
    cs_trainer_free(t);
    cs_graph_free(g);
    result(ok, label, "%s", why);
}

int main(int argc, char **argv)
{
    if (argc > 1)
        filter = argv[1];
    cs_graph *g = graph_mix(0);
    if (g)
        check_fd("gradients: mix graph (conv, bn, pools, concat, scale, add, dense), batch 3", g, 3, 5);
    cs_graph_free(g);
    g = graph_rbf();
    if (g)
        check_fd("gradients: rbf graph (strided conv, affine, scaled tanh, rbf), batch 2", g, 2, 4);
    cs_graph_free(g);
    check_errors();
    check_small_cl();

    cs_dataset *train = NULL, *test = NULL;
    if (cs_fashion_mnist_load(NULL, 0, &train) != CS_OK || cs_fashion_mnist_load(NULL, 1, &test) != CS_OK) {
        result(0, "Fashion-MNIST", "%s (install dataset-fashion-mnist)", cs_last_error());
    } else {
        check_models(train);
        check_learns(train, test);
    }
    cs_dataset_free(train);
    cs_dataset_free(test);
    printf("%d checks, %d failed\n", n_passed + n_failed, n_failed);
    return n_failed ? 1 : 0;
}
