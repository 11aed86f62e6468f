/* OpenCL training kernels against their CPU twins (test_grad_cl [label-substring]):
 * every function of opencl/cl_train.h on a table of shapes, compared with the
 * cs_cpu_* function of cpu/cpu_backward.h on the same random data, max
 * |cl - cpu| <= 1e-5 * max |cpu| + 1e-6 per output (masks and the dropout rng
 * bit for bit). Outputs are pre-filled with NaN canaries (an element a kernel
 * forgets fails) and carry guard floats past the end that must stay untouched;
 * calls with some gradient outputs NULL must still get the others right.
 * Device: CONVSCOPE_DEVICE (default 0). CS_GRAD_CL_BENCH=1 also times the
 * convolution backward (GFLOP/s of dx and dw, 2 * MACs / time).
 */
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/graph.h"
#include "cpu/cpu_backward.h"
#include "cpu/cpu_ops.h"
#include "opencl/cl_train.h"

#define REL_TOL 1e-5 /* of max |reference| */
#define ABS_TOL 1e-6
#define GUARD 4              /* floats past the end of every device output */
#define GUARD_VALUE 4321.25f /* what the guard holds: any write to it fails */

static cs_cl_context *cl = NULL;
static const char *filter = NULL;

/* ------------------------------------------------------------------------ */
/* Results                                                                  */
/* ------------------------------------------------------------------------ */

static int n_checks = 0, n_failed = 0; /* in all */
static int g_checks = 0, g_failed = 0; /* in the current group */
static const char *group = "";

static void group_begin(const char *name)
{
    group = name;
    g_checks = g_failed = 0;
}

static void group_end(void)
{
    if (g_checks > 0)
        printf("%-4s  %-22s %4d checks, %d failed\n", g_failed ? "FAIL" : "ok", group, g_checks, g_failed);
}

static void result(int ok, const char *label, const char *detail)
{
    n_checks++;
    g_checks++;
    if (!ok) {
        n_failed++;
        g_failed++;
        printf("FAIL  %s: %s\n", label, detail);
    }
}

static int wanted(const char *label)
{
    return filter == NULL || strstr(label, filter) != NULL;
}

/* ------------------------------------------------------------------------ */
/* Random data, host and device buffers                                     */
/* ------------------------------------------------------------------------ */

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;

static uint32_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (uint32_t)(rng_state >> 32);
}

/* Uniform in [lo, hi]. */
static float urand(float lo, float hi)
{
    return lo + (hi - lo) * (float)(rnd() >> 8) * (1.0f / 16777215.0f);
}

#define MAX_HOST 64
static void *host_allocs[MAX_HOST];
static int n_host = 0;
#define MAX_DEV 64
static cl_mem dev_allocs[MAX_DEV];
static int n_dev = 0;

static void fatal(const char *what)
{
    fprintf(stderr, "test_grad_cl: %s\n", what);
    exit(2);
}

static void *hnew(size_t bytes)
{
    void *p = calloc(bytes > 0 ? bytes : 1, 1);
    if (p == NULL || n_host == MAX_HOST)
        fatal("out of host memory or too many host buffers");
    host_allocs[n_host++] = p;
    return p;
}

static float *frand(size_t count, float lo, float hi)
{
    float *p = hnew(count * sizeof(float));
    for (size_t i = 0; i < count; i++)
        p[i] = urand(lo, hi);
    return p;
}

static float *fcopy(const float *src, size_t count)
{
    float *p = hnew(count * sizeof(float));
    memcpy(p, src, count * sizeof(float));
    return p;
}

static float *fnan(size_t count)
{
    float *p = hnew(count * sizeof(float));
    for (size_t i = 0; i < count; i++)
        p[i] = NAN;
    return p;
}

/* A device copy of bytes of host data. */
static cl_mem dbuf(const void *host, size_t bytes)
{
    cl_int err = CL_SUCCESS;
    if (n_dev == MAX_DEV)
        fatal("too many device buffers");
    cl_mem m = clCreateBuffer(cl->ctx, CL_MEM_READ_WRITE | CL_MEM_COPY_HOST_PTR, bytes > 0 ? bytes : 4,
                              (void *)host, &err);
    if (err != CL_SUCCESS)
        fatal("clCreateBuffer failed");
    dev_allocs[n_dev++] = m;
    return m;
}

/* A device float buffer of count values + GUARD, holding `init` (or NaN
 * canaries when init is NULL) and GUARD_VALUE in the guard. */
static cl_mem dout(const float *init, size_t count)
{
    float *h = hnew((count + GUARD) * sizeof(float));
    for (size_t i = 0; i < count; i++)
        h[i] = init ? init[i] : NAN;
    for (size_t i = count; i < count + GUARD; i++)
        h[i] = GUARD_VALUE;
    return dbuf(h, (count + GUARD) * sizeof(float));
}

static cl_mem din(const float *host, size_t count)
{
    return dbuf(host, count * sizeof(float));
}

static void dread(cl_mem m, void *host, size_t bytes)
{
    if (clEnqueueReadBuffer(cl->queue, m, CL_TRUE, 0, bytes, host, 0, NULL, NULL) != CL_SUCCESS)
        fatal("clEnqueueReadBuffer failed");
}

static void free_all(void)
{
    if (cl != NULL)
        clFinish(cl->queue);
    while (n_host > 0)
        free(host_allocs[--n_host]);
    while (n_dev > 0)
        clReleaseMemObject(dev_allocs[--n_dev]);
}

/* ------------------------------------------------------------------------ */
/* Checks                                                                   */
/* ------------------------------------------------------------------------ */

/* A launcher's status: CS_OK, or the check fails with its message. */
static int check_ok(const char *label, cs_status st)
{
    if (st != CS_OK) {
        char detail[512] = {0};
        snprintf(detail, sizeof detail, "status %d: %s", (int)st, cs_last_error());
        result(0, label, detail);
    }
    return st == CS_OK;
}

/* Device output m (count values + GUARD) against want: every value within
 * REL_TOL * max |want| + ABS_TOL (NaN only where want is NaN), guard intact. */
static void check_out(const char *label, cl_mem m, const float *want, size_t count)
{
    float *got = hnew((count + GUARD) * sizeof(float));
    dread(m, got, (count + GUARD) * sizeof(float));
    double max_ref = 0.0, max_err = 0.0;
    for (size_t i = 0; i < count; i++)
        if (isfinite(want[i]))
            max_ref = fmax(max_ref, fabs((double)want[i]));
    const double tol = REL_TOL * max_ref + ABS_TOL;
    size_t first = count;
    for (size_t i = 0; i < count; i++) {
        const double err = fabs((double)got[i] - (double)want[i]);
        const int ok = isnan(want[i]) ? isnan(got[i]) : (isinf(want[i]) ? got[i] == want[i] : err <= tol);
        if (!ok && first == count)
            first = i;
        if (isfinite(want[i]))
            max_err = isnan(err) ? INFINITY : fmax(max_err, err);
    }
    size_t guard_bad = GUARD;
    for (size_t i = 0; i < GUARD; i++)
        if (memcmp(&got[count + i], &(float){GUARD_VALUE}, sizeof(float)) != 0 && guard_bad == GUARD)
            guard_bad = i;
    char detail[320] = {0};
    if (first < count)
        snprintf(detail, sizeof detail,
                 "%zu values, first mismatch [%zu]: got %.9g, want %.9g (tol %.2e, max err %.2e)", count,
                 first, (double)got[first], (double)want[first], tol, max_err);
    else if (guard_bad < GUARD)
        snprintf(detail, sizeof detail, "guard float %zu past the end was written (%.9g)", guard_bad,
                 (double)got[count + guard_bad]);
    result(first == count && guard_bad == GUARD, label, detail);
}

/* Bytes equal, bit for bit. */
static void check_bytes(const char *label, cl_mem m, const uint8_t *want, size_t count)
{
    uint8_t *got = hnew(count);
    dread(m, got, count);
    size_t first = count;
    for (size_t i = 0; i < count && first == count; i++)
        if (got[i] != want[i])
            first = i;
    char detail[160] = {0};
    if (first < count)
        snprintf(detail, sizeof detail, "byte [%zu]: got %d, want %d", first, got[first], want[first]);
    result(first == count, label, detail);
}

static void check_true(const char *label, int ok, const char *detail)
{
    result(ok, label, detail);
}

/* A call that must fail with `want` (and enqueue nothing that breaks the queue). */
static void check_status(const char *label, cs_status got, cs_status want)
{
    char detail[512] = {0};
    snprintf(detail, sizeof detail, "status %d, want %d (%s)", (int)got, (int)want,
             got == CS_OK ? "no error" : cs_last_error());
    result(got == want, label, detail);
}

/* ------------------------------------------------------------------------ */
/* Convolution                                                              */
/* ------------------------------------------------------------------------ */

enum { MASK_NONE = 0, MASK_LENET_C3, MASK_RANDOM };

typedef struct conv_case {
    const char *label;
    int n, c, h, w;
    cs_conv2d_params p; /* { K, R, S, sh, sw, pt, pb, pl, pr, dh, dw, groups, bias } */
    int mask;
} conv_case;

/* symmetric: K, kernel, stride, pad, dilation, groups */
#define CV(k, r, st, pad, dil, g)                                                                            \
    {                                                                                                        \
        (k), (r), (r), (st), (st), (pad), (pad), (pad), (pad), (dil), (dil), (g), 1, NULL                    \
    }

static const conv_case conv_cases[] = {
    {"3->5 7x9 k3", 1, 3, 7, 9, CV(5, 3, 1, 0, 1, 1), 0},
    {"3->5 7x9 k3 p1 b3", 3, 3, 7, 9, CV(5, 3, 1, 1, 1, 1), 0},
    {"1->1 5x5 k1", 1, 1, 5, 5, CV(1, 1, 1, 0, 1, 1), 0},
    {"16->32 6x5 k1 b8", 8, 16, 6, 5, CV(32, 1, 1, 0, 1, 1), 0},
    {"3->8 6x6 k5 p2", 1, 3, 6, 6, CV(8, 5, 1, 2, 1, 1), 0},
    {"1->6 28x28 k5 p2 b3 (LeNet C1)", 3, 1, 28, 28, CV(6, 5, 1, 2, 1, 1), 0},
    {"3->8 17x19 k7 s2 p3", 2, 3, 17, 19, CV(8, 7, 2, 3, 1, 1), 0},
    {"5->7 9x9 k3 s2 p1", 1, 5, 9, 9, CV(7, 3, 2, 1, 1, 1), 0},
    {"16->17 10x10 k3 s2 p1 b3", 3, 16, 10, 10, CV(17, 3, 2, 1, 1, 1), 0},
    {"5->7 8x8 k3 s2 p0 last col unused", 1, 5, 8, 8, CV(7, 3, 2, 0, 1, 1), 0},
    {"16->32 14x14 k1 s2 projection", 2, 16, 14, 14, CV(32, 1, 2, 0, 1, 1), 0},
    {"3->8 35x35 k11 s4 p2 (AlexNet conv1)", 1, 3, 35, 35, CV(8, 11, 4, 2, 1, 1), 0},
    {"4->6 13x13 k3 s4 stride > kernel", 1, 4, 13, 13, CV(6, 3, 4, 0, 1, 1), 0},
    {"5->7 11x10 k4 s3 p1 even kernel", 1, 5, 11, 10, CV(7, 4, 3, 1, 1, 1), 0},
    {"asym pad t0 b1 l2 r0", 1, 3, 7, 9, {5, 3, 3, 1, 1, 0, 1, 2, 0, 1, 1, 1, 1, NULL}, 0},
    {"asym pad s2 t0 b1 l0 r1", 2, 5, 8, 8, {8, 3, 3, 2, 2, 0, 1, 0, 1, 1, 1, 1, 1, NULL}, 0},
    {"asym k3x5 t2 b0 l0 r3", 1, 3, 6, 7, {4, 3, 5, 1, 1, 2, 0, 0, 3, 1, 1, 1, 1, NULL}, 0},
    {"s2x1 k3 p1", 1, 4, 9, 7, {6, 3, 3, 2, 1, 1, 1, 1, 1, 1, 1, 1, 1, NULL}, 0},
    {"k1x7 p(0,3)", 2, 8, 9, 9, {8, 1, 7, 1, 1, 0, 0, 3, 3, 1, 1, 1, 1, NULL}, 0},
    {"dil2 5->5 9x9 k3 p2", 1, 5, 9, 9, CV(5, 3, 1, 2, 2, 1), 0},
    {"dil2 s2 4->6 12x12 k3 p2", 2, 4, 12, 12, CV(6, 3, 2, 2, 2, 1), 0},
    {"dil2x1 k3 p(2,1)", 1, 5, 9, 9, {5, 3, 3, 1, 1, 2, 2, 1, 1, 2, 1, 1, 1, NULL}, 0},
    {"g2 4->6 7x9 k3", 1, 4, 7, 9, CV(6, 3, 1, 0, 1, 2), 0},
    {"g2 16->32 9x9 k3 s2 p1 b3", 3, 16, 9, 9, CV(32, 3, 2, 1, 1, 2), 0},
    {"g2 dil2 s2 asym pad", 1, 4, 12, 11, {6, 3, 3, 2, 2, 1, 2, 2, 1, 2, 2, 2, 1, NULL}, 0},
    {"depthwise 16 14x14 k3 p1 b3", 3, 16, 14, 14, CV(16, 3, 1, 1, 1, 16), 0},
    {"depthwise 17 13x11 k3 s2 p1", 1, 17, 13, 11, CV(17, 3, 2, 1, 1, 17), 0},
    {"depthwise 5 10x10 k5 p2 multiplier 2", 2, 5, 10, 10, CV(10, 5, 1, 2, 1, 5), 0},
    {"g3 6->6 8x8 k3 p1 2 per group", 1, 6, 8, 8, CV(6, 3, 1, 1, 1, 3), 0},
    {"mask LeNet C3 6->16 14x14 k5 b3", 3, 6, 14, 14, CV(16, 5, 1, 0, 1, 1), MASK_LENET_C3},
    {"mask random g2 8->6 7x7 k3 p1", 1, 8, 7, 7, CV(6, 3, 1, 1, 1, 2), MASK_RANDOM},
    {"mask random 5->9 9x9 k3 s2", 2, 5, 9, 9, CV(9, 3, 2, 0, 1, 1), MASK_RANDOM},
    {"32->32 14x14 k3 p1 b8", 8, 32, 14, 14, CV(32, 3, 1, 1, 1, 1), 0},
    {"1->32 28x28 k3 p1 b3", 3, 1, 28, 28, CV(32, 3, 1, 1, 1, 1), 0},
    {"17->5 13x11 k3 p1 b3", 3, 17, 13, 11, CV(5, 3, 1, 1, 1, 1), 0},
    {"3->17 11x13 k3 p1 b8", 8, 3, 11, 13, CV(17, 3, 1, 1, 1, 1), 0},
    {"32->16 7x7 k3 s2 p1 b8", 8, 32, 7, 7, CV(16, 3, 2, 1, 1, 1), 0},
    {"4->4 1x1 k3 p1", 1, 4, 1, 1, CV(4, 3, 1, 1, 1, 1), 0},
    {"3->4 1x9 k3 p1", 2, 3, 1, 9, CV(4, 3, 1, 1, 1, 1), 0},
    {"4->6 5x7 k5x7 kernel = input", 3, 4, 5, 7, {6, 5, 7, 1, 1, 0, 0, 0, 0, 1, 1, 1, 1, NULL}, 0},
    {"4->6 3x3 k5 p1 kernel > padded input", 1, 4, 3, 3, CV(6, 5, 1, 1, 1, 1), 0},
};

/* LeNet-5 C3 (LeCun et al. 1998, table I): the S2 maps each C3 map reads. */
static const char *const lenet_c3[16] = {
    "111000", "011100", "001110", "000111", "100011", "110001", "111100", "011110",
    "001111", "100111", "110011", "111001", "110110", "011011", "101101", "111111",
};

static void conv_case_run(const conv_case *t)
{
    char label[256] = {0};
    snprintf(label, sizeof label, "conv %s", t->label);
    if (!wanted(label))
        return;
    const cs_conv2d_params *p = &t->p;
    const int n = t->n, c = t->c, h = t->h, w = t->w, K = p->out_channels, cpg = c / p->groups;
    const int oh = cs_conv_out_size(h, p->kernel_h, p->stride_h, p->pad_top, p->pad_bottom, p->dilation_h);
    const int ow = cs_conv_out_size(w, p->kernel_w, p->stride_w, p->pad_left, p->pad_right, p->dilation_w);
    const size_t nx = (size_t)n * c * h * w, nw = (size_t)K * cpg * p->kernel_h * p->kernel_w;
    const size_t ny = (size_t)n * K * oh * ow, taps = (size_t)p->kernel_h * p->kernel_w;
    float *x = frand(nx, -1.0f, 1.0f), *wt = frand(nw, -1.0f, 1.0f), *dy = frand(ny, -1.0f, 1.0f);
    uint8_t *mask = NULL;
    if (t->mask != MASK_NONE) {
        mask = hnew((size_t)K * cpg);
        for (int k = 0; k < K; k++)
            for (int ci = 0; ci < cpg; ci++)
                mask[k * cpg + ci] =
                    t->mask == MASK_LENET_C3 ? (uint8_t)(lenet_c3[k][ci] == '1') : (uint8_t)(rnd() % 3 != 0);
        for (size_t i = 0; i < nw; i++) /* the contract: masked kernels already zeroed */
            if (mask[i / taps] == 0)
                wt[i] = 0.0f;
    }
    float *rdx = fnan(nx), *rdw = fnan(nw), *rdb = fnan((size_t)K);
    cs_cpu_conv2d_backward(p, n, c, h, w, x, wt, mask, oh, ow, dy, rdx, rdw, rdb);

    cl_mem dx_ = din(x, nx), dw_ = din(wt, nw), ddy = din(dy, ny);
    cl_mem dmask = mask ? dbuf(mask, (size_t)K * cpg) : NULL;
    char l2[300] = {0};

    /* all three */
    cl_mem gx = dout(NULL, nx), gw = dout(NULL, nw), gb = dout(NULL, (size_t)K);
    snprintf(l2, sizeof l2, "%s: dx, dw, db", label);
    if (check_ok(l2, cs_cl_conv2d_backward(cl, p, n, c, h, w, dx_, dw_, dmask, oh, ow, ddy, gx, gw, gb))) {
        snprintf(l2, sizeof l2, "%s dx", label);
        check_out(l2, gx, rdx, nx);
        snprintf(l2, sizeof l2, "%s dw", label);
        check_out(l2, gw, rdw, nw);
        snprintf(l2, sizeof l2, "%s db", label);
        check_out(l2, gb, rdb, (size_t)K);
    }
    /* dx alone (NULL dw, db), then dw alone; the other outputs keep their canaries */
    cl_mem gx2 = dout(NULL, nx), gw2 = dout(NULL, nw), gb2 = dout(NULL, (size_t)K);
    snprintf(l2, sizeof l2, "%s: dx alone", label);
    if (check_ok(l2,
                 cs_cl_conv2d_backward(cl, p, n, c, h, w, NULL, dw_, dmask, oh, ow, ddy, gx2, NULL, NULL))) {
        snprintf(l2, sizeof l2, "%s dx (dw, db NULL)", label);
        check_out(l2, gx2, rdx, nx);
    }
    snprintf(l2, sizeof l2, "%s: dw alone", label);
    if (check_ok(l2,
                 cs_cl_conv2d_backward(cl, p, n, c, h, w, dx_, NULL, dmask, oh, ow, ddy, NULL, gw2, NULL))) {
        snprintf(l2, sizeof l2, "%s dw (dx, db NULL)", label);
        check_out(l2, gw2, rdw, nw);
    }
    snprintf(l2, sizeof l2, "%s: db alone", label);
    if (check_ok(l2,
                 cs_cl_conv2d_backward(cl, p, n, c, h, w, NULL, NULL, NULL, oh, ow, ddy, NULL, NULL, gb2))) {
        snprintf(l2, sizeof l2, "%s db (dx, dw NULL)", label);
        check_out(l2, gb2, rdb, (size_t)K);
    }
    if (mask != NULL) {
        /* masked pairs: exactly zero weight gradient */
        float *got = hnew(nw * sizeof(float));
        dread(gw, got, nw * sizeof(float));
        int zero = 1, n_masked = 0;
        for (size_t i = 0; i < nw; i++)
            if (mask[i / taps] == 0) {
                n_masked++;
                zero = zero && got[i] == 0.0f;
            }
        snprintf(l2, sizeof l2, "%s masked dw == 0", label);
        check_true(l2, zero && n_masked > 0, "a masked weight got a nonzero gradient");
    }
    free_all();
}

static void test_conv(void)
{
    group_begin("conv backward");
    for (size_t i = 0; i < sizeof conv_cases / sizeof conv_cases[0]; i++)
        conv_case_run(&conv_cases[i]);
    group_end();
}

/* ------------------------------------------------------------------------ */
/* Pooling                                                                  */
/* ------------------------------------------------------------------------ */

enum { POOL_MAX = 0, POOL_AVG, POOL_ADAPTIVE };
enum { DATA_UNIFORM = 0, DATA_TIES, DATA_NAN_INF };

typedef struct pool_case {
    const char *label;
    int kind;
    int n, c, h, w;
    cs_pool_params p; /* { R, S, sh, sw, pt, pb, pl, pr, ceil_mode, count_include_pad } */
    int oh, ow;       /* adaptive */
    int data;
} pool_case;

#define PL(r, st, pad, ceil, cip)                                                                            \
    {                                                                                                        \
        (r), (r), (st), (st), (pad), (pad), (pad), (pad), (ceil), (cip)                                      \
    }

static const pool_case pool_cases[] = {
    {"max 2x2 s2 8x8", POOL_MAX, 2, 3, 8, 8, PL(2, 2, 0, 0, 0), 0, 0, DATA_UNIFORM},
    {"max 2x2 s2 7x9 odd", POOL_MAX, 3, 5, 7, 9, PL(2, 2, 0, 0, 0), 0, 0, DATA_UNIFORM},
    {"max 3x3 s2 ceil 7x7", POOL_MAX, 2, 4, 7, 7, PL(3, 2, 0, 1, 0), 0, 0, DATA_UNIFORM},
    {"max 3x3 s2 ceil 14x13", POOL_MAX, 1, 3, 14, 13, PL(3, 2, 0, 1, 0), 0, 0, DATA_UNIFORM},
    {"max 3x3 s2 p1 9x9 (ResNet)", POOL_MAX, 2, 8, 9, 9, PL(3, 2, 1, 0, 0), 0, 0, DATA_UNIFORM},
    {"max 3x3 s1 p1 ties", POOL_MAX, 2, 3, 6, 7, PL(3, 1, 1, 0, 0), 0, 0, DATA_TIES},
    {"max 3x3 s2 ceil ties", POOL_MAX, 2, 3, 8, 8, PL(3, 2, 0, 1, 0), 0, 0, DATA_TIES},
    {"max 2x2 s2 NaN and -inf", POOL_MAX, 2, 3, 8, 8, PL(2, 2, 0, 0, 0), 0, 0, DATA_NAN_INF},
    {"max 3x3 s1 p1 NaN and -inf", POOL_MAX, 1, 2, 7, 7, PL(3, 1, 1, 0, 0), 0, 0, DATA_NAN_INF},
    {"max asym 3x2 s(2,1) pad", POOL_MAX, 1, 2, 7, 6, {3, 2, 2, 1, 1, 0, 0, 1, 0, 0}, 0, 0, DATA_UNIFORM},
    {"avg 2x2 s2 8x8", POOL_AVG, 2, 3, 8, 8, PL(2, 2, 0, 0, 1), 0, 0, DATA_UNIFORM},
    {"avg 3x3 s1 p1 incl pad", POOL_AVG, 2, 3, 7, 6, PL(3, 1, 1, 0, 1), 0, 0, DATA_UNIFORM},
    {"avg 3x3 s1 p1 excl pad", POOL_AVG, 2, 3, 7, 6, PL(3, 1, 1, 0, 0), 0, 0, DATA_UNIFORM},
    {"avg 3x3 s2 p1 ceil incl pad", POOL_AVG, 2, 4, 8, 8, PL(3, 2, 1, 1, 1), 0, 0, DATA_UNIFORM},
    {"avg 3x3 s2 p1 ceil excl pad", POOL_AVG, 2, 4, 8, 8, PL(3, 2, 1, 1, 0), 0, 0, DATA_UNIFORM},
    {"avg 3x3 s2 ceil 7x7 incl pad", POOL_AVG, 1, 3, 7, 7, PL(3, 2, 0, 1, 1), 0, 0, DATA_UNIFORM},
    {"avg 5x5 s3 asym pad incl", POOL_AVG, 1, 2, 11, 10, {5, 5, 3, 3, 2, 0, 1, 2, 1, 1}, 0, 0, DATA_UNIFORM},
    {"avg 5x5 s3 asym pad excl", POOL_AVG, 1, 2, 11, 10, {5, 5, 3, 3, 2, 0, 1, 2, 1, 0}, 0, 0, DATA_UNIFORM},
    {"adaptive 7x7 -> 1x1", POOL_ADAPTIVE, 3, 16, 7, 7, {0}, 1, 1, DATA_UNIFORM},
    {"adaptive 7x7 -> 3x3", POOL_ADAPTIVE, 2, 5, 7, 7, {0}, 3, 3, DATA_UNIFORM},
    {"adaptive 8x8 -> 3x3", POOL_ADAPTIVE, 2, 5, 8, 8, {0}, 3, 3, DATA_UNIFORM},
    {"adaptive 13x9 -> 4x5", POOL_ADAPTIVE, 1, 3, 13, 9, {0}, 4, 5, DATA_UNIFORM},
    {"adaptive 3x3 -> 5x4 (upsampling)", POOL_ADAPTIVE, 1, 2, 3, 3, {0}, 5, 4, DATA_UNIFORM},
};

static void pool_case_run(const pool_case *t)
{
    char label[256] = {0};
    snprintf(label, sizeof label, "pool %s", t->label);
    if (!wanted(label))
        return;
    const cs_pool_params *p = &t->p;
    const int n = t->n, c = t->c, h = t->h, w = t->w;
    int oh = t->oh, ow = t->ow;
    if (t->kind != POOL_ADAPTIVE) {
        oh = cs_pool_out_size(h, p->kernel_h, p->stride_h, p->pad_top, p->pad_bottom, p->ceil_mode);
        ow = cs_pool_out_size(w, p->kernel_w, p->stride_w, p->pad_left, p->pad_right, p->ceil_mode);
    }
    const size_t nx = (size_t)n * c * h * w, ny = (size_t)n * c * oh * ow;
    float *x = frand(nx, -1.0f, 1.0f), *dy = frand(ny, -1.0f, 1.0f), *ref = fnan(nx);
    if (t->data == DATA_TIES)
        for (size_t i = 0; i < nx; i++)
            x[i] = (float)(rnd() % 3);
    if (t->data == DATA_NAN_INF) {
        for (size_t i = 0; i < nx; i++) {
            const uint32_t r = rnd() % 16;
            x[i] = r == 0 ? NAN : (r < 8 ? -INFINITY : x[i]);
        }
        for (int i = 0; i < w && i < 4; i++) /* the first rows of the first plane all -inf */
            x[i] = x[w + i] = -INFINITY;
    }
    cl_mem dxin = din(x, nx), ddy = din(dy, ny), gx = dout(NULL, nx);
    cs_status st = CS_OK;
    switch (t->kind) {
    case POOL_MAX:
        cs_cpu_maxpool_backward(p, n, c, h, w, x, oh, ow, dy, ref);
        st = cs_cl_maxpool_backward(cl, p, n, c, h, w, dxin, oh, ow, ddy, gx);
        break;
    case POOL_AVG:
        cs_cpu_avgpool_backward(p, n, c, h, w, oh, ow, dy, ref);
        st = cs_cl_avgpool_backward(cl, p, n, c, h, w, oh, ow, ddy, gx);
        break;
    default:
        cs_cpu_adaptive_avgpool_backward(n, c, h, w, oh, ow, dy, ref);
        st = cs_cl_adaptive_avgpool_backward(cl, n, c, h, w, oh, ow, ddy, gx);
        break;
    }
    if (check_ok(label, st))
        check_out(label, gx, ref, nx);
    free_all();
}

static void test_pool(void)
{
    group_begin("pool backward");
    for (size_t i = 0; i < sizeof pool_cases / sizeof pool_cases[0]; i++)
        pool_case_run(&pool_cases[i]);
    group_end();
}

/* ------------------------------------------------------------------------ */
/* Batchnorm and affine                                                     */
/* ------------------------------------------------------------------------ */

typedef struct nchw {
    const char *label;
    int n, c, h, w;
} nchw;

static const nchw norm_shapes[] = {
    {"2x3x4x5", 2, 3, 4, 5},
    {"1x5x3x3 batch 1", 1, 5, 3, 3},
    {"4x1x7x7 one channel", 4, 1, 7, 7},
    {"3x17x1x1 plane 1", 3, 17, 1, 1},
    {"16x32x7x7", 16, 32, 7, 7},
    {"64x16x28x28 (50k per channel)", 64, 16, 28, 28},
    {"5x7x13x11 odd", 5, 7, 13, 11},
    {"1x4x1x1 one value per channel", 1, 4, 1, 1},
};

static void bn_case(const nchw *s)
{
    char label[256] = {0}, l2[300] = {0};
    snprintf(label, sizeof label, "batchnorm %s", s->label);
    if (!wanted(label))
        return;
    const int n = s->n, c = s->c, h = s->h, w = s->w;
    const size_t nx = (size_t)n * c * h * w;
    const float eps = 1e-5f, momentum = 0.1f;
    /* an offset mean: the two-pass variance must not lose it */
    float *x = frand(nx, 2.0f, 4.0f), *wt = frand((size_t)c, 0.5f, 1.5f), *b = frand((size_t)c, -1.0f, 1.0f);
    float *rm = frand((size_t)c, -1.0f, 1.0f), *rv = frand((size_t)c, 0.5f, 2.0f);
    float *y = fnan(nx), *mean = fnan((size_t)c), *var = fnan((size_t)c), *inv = fnan((size_t)c);
    float *rm_ref = fcopy(rm, (size_t)c), *rv_ref = fcopy(rv, (size_t)c);
    cs_cpu_batchnorm_train(eps, n, c, h, w, x, wt, b, y, mean, var, inv);
    cs_cpu_batchnorm_update_running(c, momentum, mean, var, rm_ref, rv_ref);

    cl_mem dx_ = din(x, nx), dwt = din(wt, (size_t)c), db_ = din(b, (size_t)c);
    cl_mem gy = dout(NULL, nx), gmean = dout(NULL, (size_t)c), ginv = dout(NULL, (size_t)c);
    cl_mem grm = dout(rm, (size_t)c), grv = dout(rv, (size_t)c);
    snprintf(l2, sizeof l2, "%s train forward", label);
    if (check_ok(l2, cs_cl_batchnorm_train(cl, eps, momentum, n, c, h, w, dx_, dwt, db_, gy, gmean, ginv, grm,
                                           grv))) {
        snprintf(l2, sizeof l2, "%s y", label);
        check_out(l2, gy, y, nx);
        snprintf(l2, sizeof l2, "%s mean", label);
        check_out(l2, gmean, mean, (size_t)c);
        snprintf(l2, sizeof l2, "%s invstd", label);
        check_out(l2, ginv, inv, (size_t)c);
        snprintf(l2, sizeof l2, "%s running_mean", label);
        check_out(l2, grm, rm_ref, (size_t)c);
        snprintf(l2, sizeof l2, "%s running_var", label);
        check_out(l2, grv, rv_ref, (size_t)c);
    }

    /* backward from the CPU's statistics (the same for both) */
    float *dy = frand(nx, -1.0f, 1.0f), *rdx = fnan(nx), *rdw = fnan((size_t)c), *rdb = fnan((size_t)c);
    cs_cpu_batchnorm_train_backward(n, c, h, w, x, wt, mean, inv, dy, rdx, rdw, rdb);
    cl_mem dmean = din(mean, (size_t)c), dinv = din(inv, (size_t)c), ddy = din(dy, nx);
    cl_mem gx = dout(NULL, nx), gw = dout(NULL, (size_t)c), gb = dout(NULL, (size_t)c);
    snprintf(l2, sizeof l2, "%s backward", label);
    if (check_ok(l2,
                 cs_cl_batchnorm_train_backward(cl, n, c, h, w, dx_, dwt, dmean, dinv, ddy, gx, gw, gb))) {
        snprintf(l2, sizeof l2, "%s dx", label);
        check_out(l2, gx, rdx, nx);
        snprintf(l2, sizeof l2, "%s dweight", label);
        check_out(l2, gw, rdw, (size_t)c);
        snprintf(l2, sizeof l2, "%s dbias", label);
        check_out(l2, gb, rdb, (size_t)c);
    }
    cl_mem gx2 = dout(NULL, nx), gb2 = dout(NULL, (size_t)c);
    snprintf(l2, sizeof l2, "%s backward dx alone", label);
    if (check_ok(l2,
                 cs_cl_batchnorm_train_backward(cl, n, c, h, w, dx_, dwt, dmean, dinv, ddy, gx2, NULL, NULL)))
        check_out(l2, gx2, rdx, nx);
    snprintf(l2, sizeof l2, "%s backward dbias alone", label);
    if (check_ok(l2,
                 cs_cl_batchnorm_train_backward(cl, n, c, h, w, dx_, dwt, dmean, dinv, ddy, NULL, NULL, gb2)))
        check_out(l2, gb2, rdb, (size_t)c);
    free_all();
}

static void affine_case(const nchw *s)
{
    char label[256] = {0}, l2[300] = {0};
    snprintf(label, sizeof label, "affine %s", s->label);
    if (!wanted(label))
        return;
    const int n = s->n, c = s->c, h = s->h, w = s->w;
    const size_t nx = (size_t)n * c * h * w;
    float *x = frand(nx, -2.0f, 2.0f), *wt = frand((size_t)c, -1.5f, 1.5f), *dy = frand(nx, -1.0f, 1.0f);
    float *rdx = fnan(nx), *rdw = fnan((size_t)c), *rdb = fnan((size_t)c);
    cs_cpu_affine_backward(n, c, h, w, x, wt, dy, rdx, rdw, rdb);
    cl_mem dx_ = din(x, nx), dwt = din(wt, (size_t)c), ddy = din(dy, nx);
    cl_mem gx = dout(NULL, nx), gw = dout(NULL, (size_t)c), gb = dout(NULL, (size_t)c);
    snprintf(l2, sizeof l2, "%s backward", label);
    if (check_ok(l2, cs_cl_affine_backward(cl, n, c, h, w, dx_, dwt, ddy, gx, gw, gb))) {
        snprintf(l2, sizeof l2, "%s dx", label);
        check_out(l2, gx, rdx, nx);
        snprintf(l2, sizeof l2, "%s dweight", label);
        check_out(l2, gw, rdw, (size_t)c);
        snprintf(l2, sizeof l2, "%s dbias", label);
        check_out(l2, gb, rdb, (size_t)c);
    }
    /* dx in place of dy, with the sums (read before dx is written) */
    cl_mem inplace = dout(dy, nx), gw2 = dout(NULL, (size_t)c), gb2 = dout(NULL, (size_t)c);
    snprintf(l2, sizeof l2, "%s in place (dx = dy)", label);
    if (check_ok(l2, cs_cl_affine_backward(cl, n, c, h, w, dx_, dwt, inplace, inplace, gw2, gb2))) {
        check_out(l2, inplace, rdx, nx);
        snprintf(l2, sizeof l2, "%s in place dweight", label);
        check_out(l2, gw2, rdw, (size_t)c);
        snprintf(l2, sizeof l2, "%s in place dbias", label);
        check_out(l2, gb2, rdb, (size_t)c);
    }
    cl_mem gb3 = dout(NULL, (size_t)c);
    snprintf(l2, sizeof l2, "%s dbias alone", label);
    if (check_ok(l2, cs_cl_affine_backward(cl, n, c, h, w, dx_, dwt, ddy, NULL, NULL, gb3)))
        check_out(l2, gb3, rdb, (size_t)c);
    free_all();
}

static void test_norm(void)
{
    group_begin("batchnorm");
    for (size_t i = 0; i < sizeof norm_shapes / sizeof norm_shapes[0]; i++)
        bn_case(&norm_shapes[i]);
    group_end();
    group_begin("affine");
    for (size_t i = 0; i < sizeof norm_shapes / sizeof norm_shapes[0]; i++)
        affine_case(&norm_shapes[i]);
    group_end();
}

/* ------------------------------------------------------------------------ */
/* Elementwise, dropout, slice, scale                                       */
/* ------------------------------------------------------------------------ */

static const size_t flat_counts[] = {1, 7, 1000, 65537};

static void test_act(void)
{
    static const char *const names[CS_ACT_COUNT] = {"relu", "tanh", "scaled_tanh", "sigmoid"};
    group_begin("activation backward");
    for (int kind = 0; kind < CS_ACT_COUNT; kind++)
        for (size_t ci = 0; ci < sizeof flat_counts / sizeof flat_counts[0]; ci++) {
            char label[160] = {0};
            const size_t count = flat_counts[ci];
            snprintf(label, sizeof label, "act %s backward %zu", names[kind], count);
            if (!wanted(label))
                continue;
            float *y = NULL;
            switch (kind) {
            case CS_ACT_RELU: y = frand(count, -1.0f, 1.0f); break;
            case CS_ACT_TANH: y = frand(count, -0.999f, 0.999f); break;
            case CS_ACT_SCALED_TANH: y = frand(count, -1.7f, 1.7f); break;
            default: y = frand(count, 0.001f, 0.999f); break;
            }
            if (kind == CS_ACT_RELU)
                for (size_t i = 0; i < count; i += 5)
                    y[i] = i % 10 == 0 ? 0.0f : NAN; /* 0 blocks, NaN passes */
            float *dy = frand(count, -1.0f, 1.0f), *ref = fnan(count);
            cs_cpu_act_backward((cs_act_kind)kind, count, y, dy, ref);
            cl_mem dyb = din(y, count), ddy = din(dy, count), gx = dout(NULL, count);
            if (check_ok(label, cs_cl_act_backward(cl, (cs_act_kind)kind, count, dyb, ddy, gx)))
                check_out(label, gx, ref, count);
            cl_mem inplace = dout(dy, count);
            snprintf(label, sizeof label, "act %s backward %zu in place", names[kind], count);
            if (check_ok(label, cs_cl_act_backward(cl, (cs_act_kind)kind, count, dyb, inplace, inplace)))
                check_out(label, inplace, ref, count);
            free_all();
        }
    group_end();

    group_begin("accumulate, fill zero");
    for (size_t ci = 0; ci < sizeof flat_counts / sizeof flat_counts[0]; ci++) {
        char label[160] = {0};
        const size_t count = flat_counts[ci];
        snprintf(label, sizeof label, "accumulate %zu", count);
        if (wanted(label)) {
            float *src = frand(count, -1.0f, 1.0f), *dst = frand(count, -1.0f, 1.0f),
                  *ref = fcopy(dst, count);
            cs_cpu_grad_accumulate(count, src, ref);
            cl_mem ds = din(src, count), dd = dout(dst, count);
            if (check_ok(label, cs_cl_grad_accumulate(cl, count, ds, dd)))
                check_out(label, dd, ref, count);
        }
        snprintf(label, sizeof label, "fill zero %zu", count);
        if (wanted(label)) {
            float *zeros = hnew(count * sizeof(float));
            cl_mem dd = dout(NULL, count);
            if (check_ok(label, cs_cl_fill_zero(cl, count, dd)))
                check_out(label, dd, zeros, count);
        }
        free_all();
    }
    group_end();
}

static void test_dropout(void)
{
    static const float ps[] = {0.0f, 0.3f, 0.5f, 0.9f, 1.0f};
    group_begin("dropout");
    for (size_t pi = 0; pi < sizeof ps / sizeof ps[0]; pi++)
        for (size_t ci = 0; ci < sizeof flat_counts / sizeof flat_counts[0]; ci++) {
            char label[160] = {0}, l2[200] = {0};
            const size_t count = flat_counts[ci];
            const float p = ps[pi];
            snprintf(label, sizeof label, "dropout p=%.1f %zu", (double)p, count);
            if (!wanted(label))
                continue;
            float *x = frand(count, -1.0f, 1.0f), *y = fnan(count);
            uint8_t *mask = hnew(count);
            uint64_t seed = ((uint64_t)rnd() << 32) | rnd(), rng_cpu = seed, rng_cl = seed;
            cs_cpu_dropout_train(p, &rng_cpu, count, x, y, mask);
            cl_mem dx_ = din(x, count), gy = dout(NULL, count), gm = dbuf(hnew(count), count);
            snprintf(l2, sizeof l2, "%s train", label);
            if (check_ok(l2, cs_cl_dropout_train(cl, p, &rng_cl, count, dx_, gy, gm))) {
                snprintf(l2, sizeof l2, "%s mask", label);
                check_bytes(l2, gm, mask, count);
                snprintf(l2, sizeof l2, "%s y", label);
                check_out(l2, gy, y, count);
                snprintf(l2, sizeof l2, "%s rng advanced by count", label);
                check_true(l2, rng_cl == rng_cpu, "the rng state differs from the CPU's after the call");
            }
            /* y = x in place, from the same state */
            rng_cl = seed;
            cl_mem inplace = dout(x, count), gm2 = dbuf(hnew(count), count);
            snprintf(l2, sizeof l2, "%s train in place", label);
            if (check_ok(l2, cs_cl_dropout_train(cl, p, &rng_cl, count, inplace, inplace, gm2))) {
                check_out(l2, inplace, y, count);
                check_bytes(l2, gm2, mask, count);
            }
            float *dy = frand(count, -1.0f, 1.0f), *rdx = fnan(count);
            cs_cpu_dropout_backward(p, count, mask, dy, rdx);
            cl_mem ddy = din(dy, count), gx = dout(NULL, count);
            snprintf(l2, sizeof l2, "%s backward", label);
            if (check_ok(l2, cs_cl_dropout_backward(cl, p, count, gm, ddy, gx)))
                check_out(l2, gx, rdx, count);
            free_all();
        }
    /* two calls continue one stream: the second mask is the CPU's next one */
    if (wanted("dropout stream")) {
        const size_t count = 1000;
        float *x = frand(2 * count, -1.0f, 1.0f), *y = fnan(2 * count);
        uint8_t *mask = hnew(2 * count);
        uint64_t rng_cpu = 42, rng_cl = 42;
        cs_cpu_dropout_train(0.5f, &rng_cpu, 2 * count, x, y, mask);
        cl_mem dx_ = din(x + count, count), gy = dout(NULL, count), gm = dbuf(hnew(count), count);
        cl_mem gm0 = dbuf(hnew(count), count), gy0 = dout(NULL, count), dx0 = din(x, count);
        if (check_ok("dropout stream first", cs_cl_dropout_train(cl, 0.5f, &rng_cl, count, dx0, gy0, gm0)) &&
            check_ok("dropout stream second", cs_cl_dropout_train(cl, 0.5f, &rng_cl, count, dx_, gy, gm))) {
            check_bytes("dropout stream second mask", gm, mask + count, count);
            check_out("dropout stream second y", gy, y + count, count);
            check_true("dropout stream rng", rng_cl == rng_cpu, "the rng state differs after two calls");
        }
        free_all();
    }
    group_end();
}

static void test_slice_scale(void)
{
    group_begin("channel slice");
    static const int slices[][5] = {/* n, ctotal, offset, cs, hw */
                                    {3, 7, 2, 3, 5},    {1, 4, 0, 4, 9},     {2, 5, 4, 1, 1},
                                    {8, 64, 0, 32, 49}, {8, 64, 32, 32, 49}, {2, 3, 0, 1, 1000}};
    for (size_t i = 0; i < sizeof slices / sizeof slices[0]; i++) {
        const int n = slices[i][0], ct = slices[i][1], off = slices[i][2], cs = slices[i][3],
                  hw = slices[i][4];
        char label[160] = {0};
        snprintf(label, sizeof label, "slice n%d c%d [%d, %d) hw%d", n, ct, off, off + cs, hw);
        if (!wanted(label))
            continue;
        const size_t ns = (size_t)n * ct * hw, nd = (size_t)n * cs * hw;
        float *src = frand(ns, -1.0f, 1.0f), *ref = fnan(nd);
        const int channels[3] = {off, cs, ct - off - cs};
        float *const dxs[3] = {NULL, ref, NULL};
        cs_cpu_concat_backward(n, 3, channels, hw, 1, src, dxs);
        cl_mem ds = din(src, ns), gd = dout(NULL, nd);
        if (check_ok(label, cs_cl_channel_slice(cl, n, ct, off, cs, hw, ds, gd)))
            check_out(label, gd, ref, nd);
        free_all();
    }
    group_end();

    group_begin("scale backward");
    static const nchw shapes[] = {{"2x5x3x3", 2, 5, 3, 3},
                                  {"4x64x7x7", 4, 64, 7, 7},
                                  {"3x2x1x1", 3, 2, 1, 1},
                                  {"2x16x28x28", 2, 16, 28, 28}};
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
        char label[160] = {0}, l2[200] = {0};
        snprintf(label, sizeof label, "scale %s", shapes[i].label);
        if (!wanted(label))
            continue;
        const int n = shapes[i].n, c = shapes[i].c, h = shapes[i].h, w = shapes[i].w;
        const size_t nx = (size_t)n * c * h * w, ns = (size_t)n * c;
        float *x = frand(nx, -1.0f, 1.0f), *s = frand(ns, 0.0f, 1.0f), *dy = frand(nx, -1.0f, 1.0f);
        float *rdx = fnan(nx), *rds = fnan(ns);
        cs_cpu_scale_backward(n, c, h, w, x, s, dy, rdx, rds);
        cl_mem dx_ = din(x, nx), dsc = din(s, ns), ddy = din(dy, nx);
        cl_mem gx = dout(NULL, nx), gs = dout(NULL, ns), gx2 = dout(NULL, nx), gs2 = dout(NULL, ns);
        if (check_ok(label, cs_cl_scale_backward(cl, n, c, h, w, dx_, dsc, ddy, gx, gs))) {
            snprintf(l2, sizeof l2, "%s dx", label);
            check_out(l2, gx, rdx, nx);
            snprintf(l2, sizeof l2, "%s ds", label);
            check_out(l2, gs, rds, ns);
        }
        snprintf(l2, sizeof l2, "%s dx alone", label);
        if (check_ok(l2, cs_cl_scale_backward(cl, n, c, h, w, dx_, dsc, ddy, gx2, NULL)))
            check_out(l2, gx2, rdx, nx);
        snprintf(l2, sizeof l2, "%s ds alone", label);
        if (check_ok(l2, cs_cl_scale_backward(cl, n, c, h, w, dx_, dsc, ddy, NULL, gs2)))
            check_out(l2, gs2, rds, ns);
        free_all();
    }
    group_end();
}

/* ------------------------------------------------------------------------ */
/* Dense and RBF                                                            */
/* ------------------------------------------------------------------------ */

static void test_head(void)
{
    static const int dense[][3] = {/* n, in, out */
                                   {1, 1, 1},    {3, 17, 5},      {7, 400, 120}, {64, 84, 10},
                                   {5, 1000, 3}, {64, 3136, 128}, {2, 9, 64}};
    group_begin("dense backward");
    for (size_t i = 0; i < sizeof dense / sizeof dense[0]; i++) {
        const int n = dense[i][0], in = dense[i][1], out = dense[i][2];
        char label[160] = {0}, l2[200] = {0};
        snprintf(label, sizeof label, "dense n%d %d->%d", n, in, out);
        if (!wanted(label))
            continue;
        const size_t nx = (size_t)n * in, nw = (size_t)out * in, ny = (size_t)n * out;
        float *x = frand(nx, -1.0f, 1.0f), *wt = frand(nw, -1.0f, 1.0f), *dy = frand(ny, -1.0f, 1.0f);
        float *rdx = fnan(nx), *rdw = fnan(nw), *rdb = fnan((size_t)out);
        cs_cpu_dense_backward(n, in, out, x, wt, dy, rdx, rdw, rdb);
        cl_mem dx_ = din(x, nx), dw_ = din(wt, nw), ddy = din(dy, ny);
        cl_mem gx = dout(NULL, nx), gw = dout(NULL, nw), gb = dout(NULL, (size_t)out);
        if (check_ok(label, cs_cl_dense_backward(cl, n, in, out, dx_, dw_, ddy, gx, gw, gb))) {
            snprintf(l2, sizeof l2, "%s dx", label);
            check_out(l2, gx, rdx, nx);
            snprintf(l2, sizeof l2, "%s dw", label);
            check_out(l2, gw, rdw, nw);
            snprintf(l2, sizeof l2, "%s db", label);
            check_out(l2, gb, rdb, (size_t)out);
        }
        cl_mem gx2 = dout(NULL, nx), gw2 = dout(NULL, nw);
        snprintf(l2, sizeof l2, "%s dx alone", label);
        if (check_ok(l2, cs_cl_dense_backward(cl, n, in, out, dx_, dw_, ddy, gx2, NULL, NULL)))
            check_out(l2, gx2, rdx, nx);
        snprintf(l2, sizeof l2, "%s dw alone", label);
        if (check_ok(l2, cs_cl_dense_backward(cl, n, in, out, dx_, dw_, ddy, NULL, gw2, NULL)))
            check_out(l2, gw2, rdw, nw);
        free_all();
    }
    group_end();

    static const int rbf[][3] = {{1, 1, 1}, {3, 84, 10}, {64, 84, 10}, {5, 13, 7}};
    group_begin("rbf backward");
    for (size_t i = 0; i < sizeof rbf / sizeof rbf[0]; i++) {
        const int n = rbf[i][0], in = rbf[i][1], k = rbf[i][2];
        char label[160] = {0}, l2[200] = {0};
        snprintf(label, sizeof label, "rbf n%d %d->%d", n, in, k);
        if (!wanted(label))
            continue;
        const size_t nx = (size_t)n * in, nw = (size_t)k * in, ny = (size_t)n * k;
        float *x = frand(nx, -1.0f, 1.0f), *wt = frand(nw, -1.0f, 1.0f), *dy = frand(ny, -1.0f, 1.0f);
        float *rdx = fnan(nx), *rdw = fnan(nw);
        cs_cpu_rbf_backward(n, in, k, x, wt, dy, rdx, rdw);
        cl_mem dx_ = din(x, nx), dw_ = din(wt, nw), ddy = din(dy, ny);
        cl_mem gx = dout(NULL, nx), gw = dout(NULL, nw), gw2 = dout(NULL, nw);
        if (check_ok(label, cs_cl_rbf_backward(cl, n, in, k, dx_, dw_, ddy, gx, gw))) {
            snprintf(l2, sizeof l2, "%s dx", label);
            check_out(l2, gx, rdx, nx);
            snprintf(l2, sizeof l2, "%s dw", label);
            check_out(l2, gw, rdw, nw);
        }
        snprintf(l2, sizeof l2, "%s dw alone", label);
        if (check_ok(l2, cs_cl_rbf_backward(cl, n, in, k, dx_, dw_, ddy, NULL, gw2)))
            check_out(l2, gw2, rdw, nw);
        free_all();
    }
    group_end();
}

/* ------------------------------------------------------------------------ */
/* Optimizers                                                               */
/* ------------------------------------------------------------------------ */

#define OPT_STEPS 6

static void test_optim(void)
{
    static const cs_sgd_params sgds[] = {{0.1, 0.0, 0.0, 0},
                                         {0.05, 0.9, 0.0, 0},
                                         {0.05, 0.9, 1e-4, 1},
                                         {0.01, 0.0, 5e-4, 0},
                                         {0.1, 0.5, 1e-2, 0}};
    const size_t count = 1003;
    group_begin("sgd");
    for (size_t i = 0; i < sizeof sgds / sizeof sgds[0]; i++) {
        const cs_sgd_params *o = &sgds[i];
        char label[160] = {0}, l2[200] = {0};
        snprintf(label, sizeof label, "sgd lr %g momentum %g wd %g%s", o->lr, o->momentum, o->weight_decay,
                 o->nesterov ? " nesterov" : "");
        if (!wanted(label))
            continue;
        float *p = frand(count, -1.0f, 1.0f), *buf = hnew(count * sizeof(float));
        cl_mem gp = dout(p, count), gbuf = dout(buf, count);
        int ok = 1;
        for (int step = 0; step < OPT_STEPS && ok; step++) {
            float *g = frand(count, -1.0f, 1.0f);
            cs_cpu_sgd_step(o, count, p, g, buf);
            cl_mem dg = din(g, count);
            snprintf(l2, sizeof l2, "%s step %d", label, step + 1);
            ok = check_ok(l2, cs_cl_sgd_step(cl, o, count, gp, dg, o->momentum != 0.0 ? gbuf : NULL));
        }
        if (ok) {
            snprintf(l2, sizeof l2, "%s param after %d steps", label, OPT_STEPS);
            check_out(l2, gp, p, count);
            snprintf(l2, sizeof l2, "%s momentum buf after %d steps", label, OPT_STEPS);
            check_out(l2, gbuf, buf, count);
        }
        free_all();
    }
    group_end();

    static const cs_adam_params adams[] = {{1e-3, 0.9, 0.999, 1e-8, 0.0}, {1e-2, 0.8, 0.99, 1e-6, 1e-2}};
    group_begin("adam");
    for (size_t i = 0; i < sizeof adams / sizeof adams[0]; i++) {
        const cs_adam_params *o = &adams[i];
        char label[160] = {0}, l2[200] = {0};
        snprintf(label, sizeof label, "adam lr %g betas %g %g wd %g", o->lr, o->beta1, o->beta2,
                 o->weight_decay);
        if (!wanted(label))
            continue;
        float *p = frand(count, -1.0f, 1.0f), *m = hnew(count * sizeof(float)),
              *v = hnew(count * sizeof(float));
        cl_mem gp = dout(p, count), gm = dout(m, count), gv = dout(v, count);
        int ok = 1;
        for (int t = 1; t <= OPT_STEPS && ok; t++) {
            float *g = frand(count, -1.0f, 1.0f);
            cs_cpu_adam_step(o, t, count, p, g, m, v);
            cl_mem dg = din(g, count);
            snprintf(l2, sizeof l2, "%s step %d", label, t);
            ok = check_ok(l2, cs_cl_adam_step(cl, o, t, count, gp, dg, gm, gv));
        }
        if (ok) {
            snprintf(l2, sizeof l2, "%s param after %d steps", label, OPT_STEPS);
            check_out(l2, gp, p, count);
            snprintf(l2, sizeof l2, "%s m", label);
            check_out(l2, gm, m, count);
            snprintf(l2, sizeof l2, "%s v", label);
            check_out(l2, gv, v, count);
        }
        free_all();
    }
    group_end();
}

/* ------------------------------------------------------------------------ */
/* Argument checks                                                          */
/* ------------------------------------------------------------------------ */

static void test_errors(void)
{
    if (!wanted("errors"))
        return;
    group_begin("argument errors");
    float *host = frand(64, -1.0f, 1.0f);
    cl_mem a = din(host, 64), b = din(host, 64), cbuf = din(host, 64);
    const cs_conv2d_params p = CV(4, 3, 1, 1, 1, 1);
    const cs_conv2d_params bad_groups = CV(4, 3, 1, 1, 1, 3);
    const cs_pool_params pool = PL(2, 2, 0, 0, 0), bad_pool = PL(0, 2, 0, 0, 0);
    const cs_sgd_params sgd = {0.1, 0.9, 0.0, 0};
    const cs_adam_params adam = {1e-3, 0.9, 0.999, 1e-8, 0.0};
    uint64_t rng = 7;
    const size_t huge = (size_t)INT_MAX + 1;

    check_status("errors: conv batch 0",
                 cs_cl_conv2d_backward(cl, &p, 0, 2, 3, 3, a, b, NULL, 3, 3, cbuf, a, b, NULL),
                 CS_ERR_INVALID_ARG);
    check_status("errors: conv groups 3 of 2 channels",
                 cs_cl_conv2d_backward(cl, &bad_groups, 1, 2, 3, 3, a, b, NULL, 3, 3, cbuf, a, b, NULL),
                 CS_ERR_INVALID_ARG);
    check_status("errors: conv NULL context",
                 cs_cl_conv2d_backward(NULL, &p, 1, 2, 3, 3, a, b, NULL, 3, 3, cbuf, a, b, NULL),
                 CS_ERR_INVALID_ARG);
    check_status("errors: conv NULL dy",
                 cs_cl_conv2d_backward(cl, &p, 1, 2, 3, 3, a, b, NULL, 3, 3, NULL, a, b, NULL),
                 CS_ERR_INVALID_ARG);
    check_status("errors: conv input over INT_MAX",
                 cs_cl_conv2d_backward(cl, &p, 65536, 2, 128, 128, a, b, NULL, 128, 128, cbuf, a, b, NULL),
                 CS_ERR_UNSUPPORTED);
    check_status("errors: conv all outputs NULL",
                 cs_cl_conv2d_backward(cl, &p, 1, 2, 3, 3, a, b, NULL, 3, 3, cbuf, NULL, NULL, NULL), CS_OK);
    check_status("errors: maxpool kernel 0",
                 cs_cl_maxpool_backward(cl, &bad_pool, 1, 1, 4, 4, a, 2, 2, b, cbuf), CS_ERR_INVALID_ARG);
    check_status("errors: avgpool channels 0", cs_cl_avgpool_backward(cl, &pool, 1, 0, 4, 4, 2, 2, b, cbuf),
                 CS_ERR_INVALID_ARG);
    check_status("errors: adaptive output 0", cs_cl_adaptive_avgpool_backward(cl, 1, 1, 4, 4, 0, 1, b, cbuf),
                 CS_ERR_INVALID_ARG);
    check_status("errors: act count over INT_MAX", cs_cl_act_backward(cl, CS_ACT_RELU, huge, a, b, cbuf),
                 CS_ERR_UNSUPPORTED);
    check_status("errors: act unknown kind", cs_cl_act_backward(cl, CS_ACT_COUNT, 8, a, b, cbuf),
                 CS_ERR_INVALID_ARG);
    check_status("errors: act count 0", cs_cl_act_backward(cl, CS_ACT_TANH, 0, NULL, NULL, NULL), CS_OK);
    check_status("errors: accumulate count 0", cs_cl_grad_accumulate(cl, 0, NULL, NULL), CS_OK);
    check_status("errors: fill zero over INT_MAX", cs_cl_fill_zero(cl, huge, a), CS_ERR_UNSUPPORTED);
    check_status("errors: dropout NULL rng", cs_cl_dropout_train(cl, 0.5f, NULL, 8, a, b, cbuf),
                 CS_ERR_INVALID_ARG);
    check_status("errors: dropout over INT_MAX", cs_cl_dropout_train(cl, 0.5f, &rng, huge, a, b, cbuf),
                 CS_ERR_UNSUPPORTED);
    check_true("errors: dropout refused leaves rng", rng == 7, "the rng state moved on a refused call");
    check_status("errors: slice past the channels", cs_cl_channel_slice(cl, 1, 4, 2, 3, 4, a, b),
                 CS_ERR_INVALID_ARG);
    check_status("errors: dense batch 0", cs_cl_dense_backward(cl, 0, 4, 4, a, b, cbuf, a, b, NULL),
                 CS_ERR_INVALID_ARG);
    check_status("errors: batchnorm NULL running_var",
                 cs_cl_batchnorm_train(cl, 1e-5f, 0.1f, 2, 2, 2, 2, a, b, cbuf, a, b, cbuf, a, NULL),
                 CS_ERR_INVALID_ARG);
    check_status("errors: sgd momentum without buf", cs_cl_sgd_step(cl, &sgd, 8, a, b, NULL),
                 CS_ERR_INVALID_ARG);
    check_status("errors: adam t 0", cs_cl_adam_step(cl, &adam, 0, 8, a, b, cbuf, a), CS_ERR_INVALID_ARG);
    check_status("errors: adam count over INT_MAX", cs_cl_adam_step(cl, &adam, 1, huge, a, b, cbuf, a),
                 CS_ERR_UNSUPPORTED);
    /* the queue still works after the refusals */
    check_status("errors: queue usable after refusals",
                 clFinish(cl->queue) == CL_SUCCESS ? CS_OK : CS_ERR_DEVICE, CS_OK);
    free_all();
    group_end();
}

/* ------------------------------------------------------------------------ */
/* Benchmark (CS_GRAD_CL_BENCH=1)                                           */
/* ------------------------------------------------------------------------ */

static double now_s(void)
{
    struct timespec t = {0, 0};
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
    const double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

#define BENCH_RUNS 5

/* Median seconds of `call` (a cs_status expression) over BENCH_RUNS runs after a warm-up. */
#define BENCH_MEDIAN(out, call)                                                                              \
    do {                                                                                                     \
        double t_[BENCH_RUNS];                                                                               \
        (out) = NAN;                                                                                         \
        for (int r_ = -1; r_ < BENCH_RUNS; r_++) {                                                           \
            clFinish(cl->queue);                                                                             \
            const double t0_ = now_s();                                                                      \
            if ((call) != CS_OK) {                                                                           \
                printf("bench: %s\n", cs_last_error());                                                      \
                break;                                                                                       \
            }                                                                                                \
            clFinish(cl->queue);                                                                             \
            if (r_ >= 0)                                                                                     \
                t_[r_] = now_s() - t0_;                                                                      \
            if (r_ == BENCH_RUNS - 1) {                                                                      \
                qsort(t_, BENCH_RUNS, sizeof t_[0], cmp_double);                                             \
                (out) = t_[BENCH_RUNS / 2];                                                                  \
            }                                                                                                \
        }                                                                                                    \
    } while (0)

static void bench_conv(void)
{
    static const conv_case shapes[] = {
        {"N64 32->32 14x14 k3 p1", 64, 32, 14, 14, CV(32, 3, 1, 1, 1, 1), 0},
        {"N64 1->32 28x28 k3 p1", 64, 1, 28, 28, CV(32, 3, 1, 1, 1, 1), 0},
        {"N64 1->6 28x28 k5 p2 (LeNet C1)", 64, 1, 28, 28, CV(6, 5, 1, 2, 1, 1), 0},
        {"N64 6->16 14x14 k5 (LeNet C3)", 64, 6, 14, 14, CV(16, 5, 1, 0, 1, 1), 0},
        {"N64 32->64 14x14 k3 s2 p1", 64, 32, 14, 14, CV(64, 3, 2, 1, 1, 1), 0},
        {"N64 64->64 7x7 k3 p1", 64, 64, 7, 7, CV(64, 3, 1, 1, 1, 1), 0},
        {"N64 32 14x14 k3 p1 depthwise", 64, 32, 14, 14, CV(32, 3, 1, 1, 1, 32), 0},
    };
    printf("conv backward, median of %d runs (packing included)\n", BENCH_RUNS);
    printf("  %-34s %8s %8s %8s %8s %8s\n", "shape", "GFLOP", "dx ms", "dx GF/s", "dw ms", "dw GF/s");
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
        const conv_case *t = &shapes[i];
        const cs_conv2d_params *p = &t->p;
        const int n = t->n, c = t->c, h = t->h, w = t->w, K = p->out_channels, cpg = c / p->groups;
        const int oh =
            cs_conv_out_size(h, p->kernel_h, p->stride_h, p->pad_top, p->pad_bottom, p->dilation_h);
        const int ow =
            cs_conv_out_size(w, p->kernel_w, p->stride_w, p->pad_left, p->pad_right, p->dilation_w);
        const size_t nx = (size_t)n * c * h * w, nw = (size_t)K * cpg * p->kernel_h * p->kernel_w;
        const size_t ny = (size_t)n * K * oh * ow;
        cl_mem x = din(frand(nx, -1.0f, 1.0f), nx), wt = din(frand(nw, -1.0f, 1.0f), nw);
        cl_mem dy = din(frand(ny, -1.0f, 1.0f), ny), dx = dout(NULL, nx), dw = dout(NULL, nw);
        const double gflop = 2.0 * (double)ny * cpg * p->kernel_h * p->kernel_w * 1e-9;
        double tdx = NAN, tdw = NAN;
        BENCH_MEDIAN(tdx, cs_cl_conv2d_backward(cl, p, n, c, h, w, x, wt, NULL, oh, ow, dy, dx, NULL, NULL));
        BENCH_MEDIAN(tdw, cs_cl_conv2d_backward(cl, p, n, c, h, w, x, wt, NULL, oh, ow, dy, NULL, dw, NULL));
        printf("  %-34s %8.3f %8.2f %8.1f %8.2f %8.1f\n", t->label, gflop, tdx * 1e3, gflop / tdx, tdw * 1e3,
               gflop / tdw);
        free_all();
    }
}

/* The other ops at training sizes: ms and GB/s of the tensors each must read and write. */
static void bench_other(void)
{
    const int n = 64, c = 16, h = 28, w = 28, hp = 14, wp = 14;
    const size_t nx = (size_t)n * c * h * w, np = (size_t)n * c * hp * wp;
    float *hx = frand(nx, -1.0f, 1.0f);
    cl_mem x = din(hx, nx), y = dout(NULL, nx), dy = din(hx, nx), dx = dout(NULL, nx);
    cl_mem vc = din(hx, (size_t)c), vc2 = din(hx + c, (size_t)c), m = dout(NULL, c), inv = dout(NULL, c);
    cl_mem rm = dout(hx, c), rv = dout(hx, c), dwc = dout(NULL, c), dbc = dout(NULL, c);
    cl_mem dyp = din(hx, np), mask = dbuf(hnew(nx), nx);
    const cs_pool_params pool = PL(2, 2, 0, 0, 0);
    const cs_sgd_params sgd = {0.01, 0.9, 1e-4, 0};
    const cs_adam_params adam = {1e-3, 0.9, 0.999, 1e-8, 0.0};
    const int dn = 64, din_ = 3136, dout_ = 128;
    cl_mem dxx = din(hx, (size_t)dn * din_), dww = din(hx, (size_t)dout_ * din_),
           ddy = din(hx, (size_t)dn * dout_);
    cl_mem gdx = dout(NULL, (size_t)dn * din_), gdw = dout(NULL, (size_t)dout_ * din_),
           gdb = dout(NULL, dout_);
    uint64_t rng = 1;
    const double mb = (double)nx * 4e-6; /* one (64, 16, 28, 28) tensor in MB */
    double t = NAN;
    printf("other ops, median of %d runs; x is (64, 16, 28, 28) = %.1f MB\n", BENCH_RUNS, mb);
#define BENCH_ROW(label, megabytes, call)                                                                    \
    do {                                                                                                     \
        BENCH_MEDIAN(t, call);                                                                               \
        printf("  %-40s %8.3f ms %8.1f GB/s\n", label, t * 1e3, (megabytes)*1e-3 / t);                       \
    } while (0)
    BENCH_ROW("batchnorm train forward", 4 * mb,
              cs_cl_batchnorm_train(cl, 1e-5f, 0.1f, n, c, h, w, x, vc, vc2, y, m, inv, rm, rv));
    BENCH_ROW("batchnorm train backward", 5 * mb,
              cs_cl_batchnorm_train_backward(cl, n, c, h, w, x, vc, m, inv, dy, dx, dwc, dbc));
    BENCH_ROW("affine backward", 3 * mb, cs_cl_affine_backward(cl, n, c, h, w, x, vc, dy, dx, dwc, dbc));
    BENCH_ROW("maxpool 2x2 s2 backward", 2.25 * mb,
              cs_cl_maxpool_backward(cl, &pool, n, c, h, w, x, hp, wp, dyp, dx));
    BENCH_ROW("avgpool 2x2 s2 backward", 1.25 * mb,
              cs_cl_avgpool_backward(cl, &pool, n, c, h, w, hp, wp, dyp, dx));
    BENCH_ROW("adaptive avgpool to 1x1 backward", mb,
              cs_cl_adaptive_avgpool_backward(cl, n, c, h, w, 1, 1, dyp, dx));
    BENCH_ROW("relu backward", 3 * mb, cs_cl_act_backward(cl, CS_ACT_RELU, nx, x, dy, dx));
    BENCH_ROW("grad accumulate", 3 * mb, cs_cl_grad_accumulate(cl, nx, x, dx));
    BENCH_ROW("dropout train", 2.25 * mb, cs_cl_dropout_train(cl, 0.5f, &rng, nx, x, y, mask));
    BENCH_ROW("sgd momentum step", 4 * mb, cs_cl_sgd_step(cl, &sgd, nx, dx, x, y));
    BENCH_ROW("adam step", 7 * mb, cs_cl_adam_step(cl, &adam, 3, nx, dx, x, y, dy));
    BENCH_ROW("scale backward (ds and dx)", 3 * mb, cs_cl_scale_backward(cl, n, c, h, w, x, m, dy, dx, y));
    const double dflop = 2.0 * dn * din_ * dout_ * 1e-9;
    BENCH_MEDIAN(t, cs_cl_dense_backward(cl, dn, din_, dout_, dxx, dww, ddy, gdx, NULL, NULL));
    printf("  %-40s %8.3f ms %8.1f GFLOP/s\n", "dense 3136->128 n64 dx", t * 1e3, dflop / t);
    BENCH_MEDIAN(t, cs_cl_dense_backward(cl, dn, din_, dout_, dxx, dww, ddy, NULL, gdw, gdb));
    printf("  %-40s %8.3f ms %8.1f GFLOP/s\n", "dense 3136->128 n64 dw, db", t * 1e3, dflop / t);
#undef BENCH_ROW
    free_all();
}

static void bench(void)
{
    printf("benchmark on %s\n", cl->device_name);
    bench_conv();
    bench_other();
}

/* ------------------------------------------------------------------------ */

int main(int argc, char **argv)
{
    cs_device_choice dev = {0, 0};
    if (argc > 1)
        filter = argv[1];
    if (cs_device_parse(NULL, &dev) != CS_OK) {
        printf("FAIL  cannot choose a device: %s\nhint: check CONVSCOPE_DEVICE and `convscope devices`\n",
               cs_last_error());
        return 1;
    }
    if (dev.reference) {
        printf("SKIP  CONVSCOPE_DEVICE selects the CPU reference; these tests need an OpenCL device\n");
        return 77;
    }
    if (cs_cl_open(&cl, dev.index, 0) != CS_OK) {
        printf(
            "FAIL  cannot open OpenCL device %d: %s\nhint: check `convscope devices` and CONVSCOPE_DEVICE\n",
            dev.index, cs_last_error());
        return 1;
    }
    const double t0 = now_s();
    printf("OpenCL device %d (%s) vs the CPU reference\n", dev.index, cl->device_name);
    test_conv();
    test_pool();
    test_norm();
    test_act();
    test_dropout();
    test_slice_scale();
    test_head();
    test_optim();
    test_errors();
    const char *env = getenv("CS_GRAD_CL_BENCH");
    if (env != NULL && strcmp(env, "1") == 0)
        bench();
    printf("%d checks, %d failed (%.1f s)\n", n_checks, n_failed, now_s() - t0);
    cs_cl_close(cl);
    return n_failed == 0 ? 0 : 1;
}
