/* Gradient tests (test_grad [label-substring]): every reference backward in
 * cpu_backward.h against central finite differences of its forward, plus
 * exact hand-computed cases (softmax-CE = (p - onehot)/N, maxpool ties and
 * NaN, SGD/Adam steps, batchnorm training statistics, dropout masks).
 *
 * The finite differences are exact enough to hold 1e-3 on float outputs:
 * every input is a multiple of 2^-10 in a few units, the step is h = 2^-7,
 * so x +- h and x +- 2h are exact floats, and the five-point stencil
 * (f(x-2h) - 8f(x-h) + 8f(x+h) - f(x+2h)) / 12h has O(h^4) truncation error.
 * The scalar probed is L = sum(y * r) in double for a fixed random r, whose
 * gradient wrt y is r: the backward gets dy = r. Gradient outputs are
 * pre-filled with NaN canaries, so an element the backward forgets fails.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/graph.h"
#include "cpu/cpu_backward.h"
#include "cpu/cpu_ops.h"

#define FD_STEP (1.0 / 128.0) /* h = 2^-7 */
#define GRID (1.0 / 1024.0)   /* inputs are multiples of 2^-10 */
#define FD_TOL 1e-3           /* max |analytic - numeric| / max |numeric| */
#define EXACT_TOL 1e-5        /* hand-computed values: abs + rel */

static int n_passed = 0, n_failed = 0;
static const char *filter = NULL; /* argv[1]: run only labels containing it */

/* ------------------------------------------------------------------------ */
/* Helpers: results, random data, allocation                                */
/* ------------------------------------------------------------------------ */

static void result(int ok, const char *label, const char *detail)
{
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

static uint64_t rng_state = 0x1234567887654321ull;

static uint32_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (uint32_t)(rng_state >> 32);
}

/* A multiple of 2^-10 in [-range, range]. */
static float grid_value(double range)
{
    const int steps = (int)(range / GRID);
    return (float)((double)((int)(rnd() % (uint32_t)(2 * steps + 1)) - steps) * GRID);
}

/* Every tensor a case allocates; freed together by free_all(). */
#define MAX_ALLOCS 64
static void *allocs[MAX_ALLOCS];
static int n_allocs = 0;

static void *tnew(size_t bytes)
{
    void *p = calloc(bytes > 0 ? bytes : 1, 1);
    if (p == NULL || n_allocs == MAX_ALLOCS) {
        fprintf(stderr, "test_grad: out of memory or too many tensors\n");
        exit(2);
    }
    allocs[n_allocs++] = p;
    return p;
}

static void free_all(void)
{
    while (n_allocs > 0)
        free(allocs[--n_allocs]);
}

static float *fnew(size_t count)
{
    return tnew(count * sizeof(float));
}

static float *frand(size_t count, double range)
{
    float *p = fnew(count);
    for (size_t i = 0; i < count; i++)
        p[i] = grid_value(range);
    return p;
}

/* Output buffer pre-filled with NaN canaries. */
static float *fcanary(size_t count)
{
    float *p = fnew(count);
    for (size_t i = 0; i < count; i++)
        p[i] = NAN;
    return p;
}

/* ------------------------------------------------------------------------ */
/* Finite differences                                                       */
/* ------------------------------------------------------------------------ */

/* What a check differentiates: fwd(ctx) recomputes y from the current
 * inputs and the probe returns sum(y * r); or scalar(ctx) returns the loss
 * itself (softmax-CE). */
typedef struct probe {
    void (*fwd)(void *ctx);
    double (*scalar)(void *ctx);
    void *ctx;
    const float *y;
    const float *r;
    size_t ny;
} probe;

static double probe_loss(const probe *pr)
{
    if (pr->scalar != NULL)
        return pr->scalar(pr->ctx);
    pr->fwd(pr->ctx);
    double acc = 0.0;
    for (size_t i = 0; i < pr->ny; i++)
        acc += (double)pr->y[i] * (double)pr->r[i];
    return acc;
}

/* Compares `analytic` (count values) with the five-point derivative of the
 * probe wrt each element of `param`; param is restored. */
static void check_fd(const char *label, const probe *pr, float *param, size_t count, const float *analytic)
{
    if (!wanted(label))
        return;
    const double h = FD_STEP;
    double max_num = 0.0, max_err = 0.0;
    size_t worst = 0;
    int bad = 0;
    double *num = calloc(count > 0 ? count : 1, sizeof(double));
    if (num == NULL) {
        result(0, label, "out of memory");
        return;
    }
    for (size_t i = 0; i < count; i++) {
        const float v = param[i];
        double f[4] = {0.0, 0.0, 0.0, 0.0};
        const int k[4] = {-2, -1, 1, 2};
        for (int j = 0; j < 4; j++) {
            const double target = (double)v + k[j] * h;
            param[i] = (float)target;
            if ((double)param[i] != target)
                bad = 1; /* the step is not exact: inputs off the grid */
            f[j] = probe_loss(pr);
        }
        param[i] = v;
        num[i] = (f[0] - 8.0 * f[1] + 8.0 * f[2] - f[3]) / (12.0 * h);
        max_num = fmax(max_num, fabs(num[i]));
    }
    probe_loss(pr); /* leave y as for the unperturbed inputs */
    for (size_t i = 0; i < count; i++) {
        const double err = isfinite(analytic[i]) ? fabs((double)analytic[i] - num[i]) : INFINITY;
        if (!(err <= max_err)) {
            max_err = err;
            worst = i;
        }
    }
    const double rel = max_err / fmax(max_num, 1e-3);
    char detail[256] = {0};
    if (bad)
        snprintf(detail, sizeof detail, "a step was not exact in float (inputs off the grid)");
    else
        snprintf(detail, sizeof detail,
                 "%zu values, max err %.2e of max |g| %.3g (worst [%zu]: analytic %.6g, numeric %.6g)", count,
                 rel, max_num, worst, count ? (double)analytic[worst] : 0.0, count ? num[worst] : 0.0);
    result(!bad && rel <= FD_TOL, label, detail);
    free(num);
}

/* Every value within EXACT_TOL (abs + rel) of the expected doubles. */
static void check_exact(const char *label, const float *got, const double *want, size_t count)
{
    if (!wanted(label))
        return;
    size_t first = count;
    double max_err = 0.0;
    for (size_t i = 0; i < count; i++) {
        const double err = fabs((double)got[i] - want[i]);
        const int ok = isfinite(got[i]) && err <= EXACT_TOL * (1.0 + fabs(want[i]));
        if (!ok && first == count)
            first = i;
        if (err > max_err || !isfinite(got[i]))
            max_err = isfinite(got[i]) ? err : INFINITY;
    }
    char detail[256] = {0};
    if (first < count)
        snprintf(detail, sizeof detail, "first mismatch [%zu]: got %.8g, want %.8g (max err %.2e)", first,
                 (double)got[first], want[first], max_err);
    else
        snprintf(detail, sizeof detail, "%zu values, max err %.2e", count, max_err);
    result(first == count, label, detail);
}

static void check_true(const char *label, int ok, const char *detail)
{
    if (wanted(label))
        result(ok, label, detail);
}

/* ------------------------------------------------------------------------ */
/* Convolution                                                              */
/* ------------------------------------------------------------------------ */

typedef struct conv_ctx {
    cs_conv2d_params p;
    int n, c, h, w, oh, ow;
    float *x, *wt, *b, *y;
    uint8_t *mask;
} conv_ctx;

static void conv_fwd(void *v)
{
    conv_ctx *k = v;
    cs_cpu_conv2d(&k->p, k->n, k->c, k->h, k->w, k->x, k->wt, k->p.bias ? k->b : NULL, k->mask, k->oh, k->ow,
                  k->y);
}

/* { K, R, S, sh, sw, pt, pb, pl, pr, dh, dw, groups, bias } */
static void conv_case(const char *name, cs_conv2d_params p, int n, int c, int h, int w, int masked)
{
    char label[160] = {0};
    conv_ctx k = {.p = p, .n = n, .c = c, .h = h, .w = w};
    k.oh = cs_conv_out_size(h, p.kernel_h, p.stride_h, p.pad_top, p.pad_bottom, p.dilation_h);
    k.ow = cs_conv_out_size(w, p.kernel_w, p.stride_w, p.pad_left, p.pad_right, p.dilation_w);
    const int cpg = c / p.groups;
    const size_t nx = (size_t)n * (size_t)c * (size_t)h * (size_t)w;
    const size_t nw = (size_t)p.out_channels * (size_t)cpg * (size_t)p.kernel_h * (size_t)p.kernel_w;
    const size_t ny = (size_t)n * (size_t)p.out_channels * (size_t)k.oh * (size_t)k.ow;
    k.x = frand(nx, 2.0);
    k.wt = frand(nw, 1.0);
    k.b = frand((size_t)p.out_channels, 1.0);
    k.y = fnew(ny);
    if (masked) {
        k.mask = tnew((size_t)p.out_channels * (size_t)cpg);
        for (int i = 0; i < p.out_channels * cpg; i++)
            k.mask[i] = (uint8_t)(rnd() % 3 != 0);
    }
    float *r = frand(ny, 1.0);
    float *dx = fcanary(nx), *dw = fcanary(nw), *db = fcanary((size_t)p.out_channels);
    cs_cpu_conv2d_backward(&k.p, n, c, h, w, k.x, k.wt, k.mask, k.oh, k.ow, r, dx, dw, p.bias ? db : NULL);

    probe pr = {.fwd = conv_fwd, .ctx = &k, .y = k.y, .r = r, .ny = ny};
    snprintf(label, sizeof label, "conv2d %s dx", name);
    check_fd(label, &pr, k.x, nx, dx);
    snprintf(label, sizeof label, "conv2d %s dw", name);
    check_fd(label, &pr, k.wt, nw, dw);
    if (p.bias) {
        snprintf(label, sizeof label, "conv2d %s db", name);
        check_fd(label, &pr, k.b, (size_t)p.out_channels, db);
    }
    if (masked) {
        /* masked weights: exactly zero gradient */
        int zero = 1, n_masked = 0;
        const size_t taps = (size_t)p.kernel_h * (size_t)p.kernel_w;
        for (size_t i = 0; i < nw; i++) {
            if (k.mask[i / taps] == 0) {
                n_masked++;
                zero = zero && dw[i] == 0.0f;
            }
        }
        char detail[96] = {0};
        snprintf(detail, sizeof detail, "%d masked weights", n_masked);
        snprintf(label, sizeof label, "conv2d %s masked dw == 0", name);
        check_true(label, zero && n_masked > 0, detail);
    }
    /* every gradient output NULL: nothing written, nothing read */
    cs_cpu_conv2d_backward(&k.p, n, c, h, w, k.x, k.wt, k.mask, k.oh, k.ow, r, NULL, NULL, NULL);
    free_all();
}

/* A 3x3 input of ones, a 2x2 kernel of ones, dy of ones: dx counts the
 * windows covering each element, dw sums 2x2 blocks of x = 1..9. */
static void conv_exact(void)
{
    const cs_conv2d_params p = {1, 2, 2, 1, 1, 0, 0, 0, 0, 1, 1, 1, 1, NULL};
    const float x[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
    const float wt[4] = {1, 1, 1, 1};
    const float dy[4] = {1, 1, 1, 1};
    float dx[9] = {0}, dw[4] = {0}, db[1] = {0};
    cs_cpu_conv2d_backward(&p, 1, 1, 3, 3, x, wt, NULL, 2, 2, dy, dx, dw, db);
    const double want_dx[9] = {1, 2, 1, 2, 4, 2, 1, 2, 1};
    const double want_dw[4] = {1 + 2 + 4 + 5, 2 + 3 + 5 + 6, 4 + 5 + 7 + 8, 5 + 6 + 8 + 9};
    const double want_db[1] = {4};
    check_exact("conv2d exact 3x3 ones dx", dx, want_dx, 9);
    check_exact("conv2d exact 3x3 dw", dw, want_dw, 4);
    check_exact("conv2d exact 3x3 db", db, want_db, 1);
}

static void test_conv(void)
{
    /* { K, R, S, sh, sw, pt, pb, pl, pr, dh, dw, groups, bias } */
    conv_case("3x3 pad 1 batch 2", (cs_conv2d_params){4, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, NULL}, 2, 3, 7,
              6, 0);
    conv_case("3x2 stride 2 asymmetric pad odd",
              (cs_conv2d_params){3, 3, 2, 2, 2, 1, 0, 0, 2, 1, 1, 1, 1, NULL}, 2, 2, 9, 7, 0);
    conv_case("3x3 dilation 2 groups 2 pad 2",
              (cs_conv2d_params){6, 3, 3, 1, 1, 2, 2, 2, 2, 2, 2, 2, 1, NULL}, 2, 4, 7, 7, 0);
    conv_case("depthwise 3x3 stride 2 pad 1 no bias",
              (cs_conv2d_params){5, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 5, 0, NULL}, 3, 5, 7, 8, 0);
    conv_case("depthwise x2 multiplier", (cs_conv2d_params){6, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 3, 1, NULL}, 2,
              3, 5, 5, 0);
    conv_case("1x1 stride 2 (downsample)", (cs_conv2d_params){4, 1, 1, 2, 2, 0, 0, 0, 0, 1, 1, 1, 0, NULL}, 2,
              3, 7, 7, 0);
    conv_case("5x5 lenet-c3-style mask", (cs_conv2d_params){8, 5, 5, 1, 1, 0, 0, 0, 0, 1, 1, 1, 1, NULL}, 2,
              6, 9, 9, 1);
    conv_case("7x7 stride 3 pad 3 groups 2 mask",
              (cs_conv2d_params){4, 7, 7, 3, 3, 3, 3, 3, 3, 1, 1, 2, 1, NULL}, 1, 4, 11, 10, 1);
    conv_exact();
}

/* ------------------------------------------------------------------------ */
/* Pooling                                                                  */
/* ------------------------------------------------------------------------ */

typedef struct pool_ctx {
    cs_pool_params p;
    int kind; /* 0 max, 1 avg, 2 adaptive */
    int n, c, h, w, oh, ow;
    float *x, *y;
} pool_ctx;

static void pool_fwd(void *v)
{
    pool_ctx *k = v;
    if (k->kind == 0)
        cs_cpu_maxpool(&k->p, k->n, k->c, k->h, k->w, k->x, k->oh, k->ow, k->y);
    else if (k->kind == 1)
        cs_cpu_avgpool(&k->p, k->n, k->c, k->h, k->w, k->x, k->oh, k->ow, k->y);
    else
        cs_cpu_adaptive_avgpool(k->n, k->c, k->h, k->w, k->x, k->oh, k->ow, k->y);
}

/* kind 2 (adaptive) takes oh, ow; the others compute them from p. */
static void pool_case(const char *name, int kind, cs_pool_params p, int n, int c, int h, int w, int oh,
                      int ow)
{
    char label[160] = {0};
    pool_ctx k = {.p = p, .kind = kind, .n = n, .c = c, .h = h, .w = w, .oh = oh, .ow = ow};
    if (kind != 2) {
        k.oh = cs_pool_out_size(h, p.kernel_h, p.stride_h, p.pad_top, p.pad_bottom, p.ceil_mode);
        k.ow = cs_pool_out_size(w, p.kernel_w, p.stride_w, p.pad_left, p.pad_right, p.ceil_mode);
    }
    const size_t nx = (size_t)n * (size_t)c * (size_t)h * (size_t)w;
    const size_t ny = (size_t)n * (size_t)c * (size_t)k.oh * (size_t)k.ow;
    if (kind == 0) {
        /* distinct values 2^-5 apart, shuffled: no ties, and a 2h = 2^-6
         * perturbation never changes a window's argmax */
        k.x = fnew(nx);
        for (size_t i = 0; i < nx; i++)
            k.x[i] = (float)(((double)i - (double)nx / 2.0) / 32.0);
        for (size_t i = nx; i > 1; i--) {
            const size_t j = rnd() % i;
            const float t = k.x[i - 1];
            k.x[i - 1] = k.x[j];
            k.x[j] = t;
        }
    } else {
        k.x = frand(nx, 2.0);
    }
    k.y = fnew(ny);
    float *r = frand(ny, 1.0);
    float *dx = fcanary(nx);
    if (kind == 0)
        cs_cpu_maxpool_backward(&k.p, n, c, h, w, k.x, k.oh, k.ow, r, dx);
    else if (kind == 1)
        cs_cpu_avgpool_backward(&k.p, n, c, h, w, k.oh, k.ow, r, dx);
    else
        cs_cpu_adaptive_avgpool_backward(n, c, h, w, k.oh, k.ow, r, dx);

    probe pr = {.fwd = pool_fwd, .ctx = &k, .y = k.y, .r = r, .ny = ny};
    snprintf(label, sizeof label, "%s %s (%dx%d -> %dx%d) dx",
             kind == 0   ? "maxpool"
             : kind == 1 ? "avgpool"
                         : "adaptive_avgpool",
             name, h, w, k.oh, k.ow);
    check_fd(label, &pr, k.x, nx, dx);
    free_all();
}

/* Ties go to the first maximum in window order; a NaN wins and the last NaN
 * wins; an all -inf window routes to its first element (PyTorch's CPU rule). */
static void maxpool_exact(void)
{
    const cs_pool_params p = {2, 2, 2, 2, 0, 0, 0, 0, 0, 1};
    /* one 2x4 plane, two 2x2 windows: {1,3 / 3,2} and {NaN,5 / NaN,0} */
    const float x[8] = {1, 3, NAN, 5, 3, 2, NAN, 0};
    const float dy[2] = {10, 20};
    float dx[8] = {0};
    cs_cpu_maxpool_backward(&p, 1, 1, 2, 4, x, 1, 2, dy, dx);
    const double want[8] = {0, 10, 0, 0, 0, 0, 20, 0};
    check_exact("maxpool exact ties first, last NaN wins", dx, want, 8);

    const float xi[4] = {-INFINITY, -INFINITY, -INFINITY, -INFINITY};
    const float dyi[1] = {7};
    float dxi[4] = {0};
    cs_cpu_maxpool_backward(&p, 1, 1, 2, 2, xi, 1, 1, dyi, dxi);
    const double wanti[4] = {7, 0, 0, 0};
    check_exact("maxpool exact all -inf window routes to its first element", dxi, wanti, 4);

    /* overlapping 2x2/1 windows on {0,9,0 / 0,0,0}: the 9 wins both windows */
    const cs_pool_params q = {2, 2, 1, 1, 0, 0, 0, 0, 0, 1};
    const float xo[6] = {0, 9, 0, 0, 0, 0};
    const float dyo[2] = {1.5f, 2.5f};
    float dxo[6] = {0};
    cs_cpu_maxpool_backward(&q, 1, 1, 2, 3, xo, 1, 2, dyo, dxo);
    const double wanto[6] = {0, 4, 0, 0, 0, 0};
    check_exact("maxpool exact overlapping windows sum at the shared max", dxo, wanto, 6);
}

/* avgpool 2x2/2 ceil_mode on a 3x3 input: the right and bottom windows hang
 * over; the divisor counts only the input part (no padding to include). */
static void avgpool_exact(void)
{
    const cs_pool_params p = {2, 2, 2, 2, 0, 0, 0, 0, 1, 1};
    const float dy[4] = {4, 8, 2, 1};
    float dx[9] = {0};
    cs_cpu_avgpool_backward(&p, 1, 1, 3, 3, 2, 2, dy, dx);
    const double want[9] = {1, 1, 4, 1, 1, 4, 1, 1, 1};
    check_exact("avgpool exact ceil_mode overhang divisor", dx, want, 9);

    /* 3x3/1 pad 1 on 2x2 (count_include_pad): every window divides by 9 */
    const cs_pool_params q = {3, 3, 1, 1, 1, 1, 1, 1, 0, 1};
    const float dyq[4] = {9, 9, 9, 9};
    float dxq[4] = {0};
    cs_cpu_avgpool_backward(&q, 1, 1, 2, 2, 2, 2, dyq, dxq);
    const double wantq[4] = {4, 4, 4, 4};
    check_exact("avgpool exact count_include_pad divides by 9", dxq, wantq, 4);
    const cs_pool_params e = {3, 3, 1, 1, 1, 1, 1, 1, 0, 0};
    cs_cpu_avgpool_backward(&e, 1, 1, 2, 2, 2, 2, dyq, dxq);
    const double wante[4] = {9, 9, 9, 9}; /* each window holds all 4 inputs: 9/4 to each, 4 windows */
    check_exact("avgpool exact count_include_pad=0 divides by the clipped area", dxq, wante, 4);
}

static void test_pool(void)
{
    /* { R, S, sh, sw, pt, pb, pl, pr, ceil, count_include_pad } */
    pool_case("3x3/2 pad 1", 0, (cs_pool_params){3, 3, 2, 2, 1, 1, 1, 1, 0, 1}, 2, 3, 7, 7, 0, 0);
    pool_case("2x2/2 ceil odd", 0, (cs_pool_params){2, 2, 2, 2, 0, 0, 0, 0, 1, 1}, 2, 2, 5, 7, 0, 0);
    pool_case("3x3/2 ceil", 0, (cs_pool_params){3, 3, 2, 2, 0, 0, 0, 0, 1, 1}, 3, 2, 6, 8, 0, 0);
    pool_case("3x3/1 pad 1 (overlap)", 0, (cs_pool_params){3, 3, 1, 1, 1, 1, 1, 1, 0, 1}, 1, 2, 5, 4, 0, 0);
    pool_case("3x2/2 asymmetric pad", 0, (cs_pool_params){3, 2, 2, 2, 1, 0, 0, 1, 0, 1}, 2, 2, 6, 5, 0, 0);
    pool_case("3x3/1 pad 1 include pad", 1, (cs_pool_params){3, 3, 1, 1, 1, 1, 1, 1, 0, 1}, 2, 3, 5, 6, 0, 0);
    pool_case("3x3/1 pad 1 exclude pad", 1, (cs_pool_params){3, 3, 1, 1, 1, 1, 1, 1, 0, 0}, 2, 3, 5, 6, 0, 0);
    pool_case("2x2/2 ceil include pad", 1, (cs_pool_params){2, 2, 2, 2, 0, 0, 0, 0, 1, 1}, 2, 2, 5, 7, 0, 0);
    pool_case("3x3/2 pad 1 ceil include pad", 1, (cs_pool_params){3, 3, 2, 2, 1, 1, 1, 1, 1, 1}, 2, 2, 6, 6,
              0, 0);
    pool_case("3x3/2 pad 1 ceil exclude pad", 1, (cs_pool_params){3, 3, 2, 2, 1, 1, 1, 1, 1, 0}, 2, 2, 6, 6,
              0, 0);
    pool_case("5x5/3 lenet-style", 1, (cs_pool_params){5, 5, 3, 3, 0, 0, 0, 0, 0, 1}, 3, 2, 11, 11, 0, 0);
    pool_case("7x5 -> 3x2", 2, (cs_pool_params){0}, 2, 3, 7, 5, 3, 2);
    pool_case("global", 2, (cs_pool_params){0}, 3, 2, 5, 5, 1, 1);
    pool_case("4x4 -> 6x6 (overlapping)", 2, (cs_pool_params){0}, 2, 2, 4, 4, 6, 6);
    maxpool_exact();
    avgpool_exact();
}

/* ------------------------------------------------------------------------ */
/* Normalisations                                                           */
/* ------------------------------------------------------------------------ */

typedef struct norm_ctx {
    int kind; /* 0 lrn, 1 bn train, 2 bn frozen, 3 affine */
    cs_lrn_params lrn;
    float eps;
    int n, c, h, w;
    float *x, *weight, *bias, *mean, *var, *invstd, *y;
} norm_ctx;

static void norm_fwd(void *v)
{
    norm_ctx *k = v;
    switch (k->kind) {
    case 0: cs_cpu_lrn(&k->lrn, k->n, k->c, k->h, k->w, k->x, k->y); break;
    case 1:
        cs_cpu_batchnorm_train(k->eps, k->n, k->c, k->h, k->w, k->x, k->weight, k->bias, k->y, k->mean,
                               k->var, k->invstd);
        break;
    case 2:
        cs_cpu_batchnorm(k->eps, k->n, k->c, k->h, k->w, k->x, k->weight, k->bias, k->mean, k->var, k->y);
        break;
    default: cs_cpu_affine(k->n, k->c, k->h, k->w, k->x, k->weight, k->bias, k->y); break;
    }
}

static void norm_case(const char *name, int kind, cs_lrn_params lrn, int n, int c, int h, int w)
{
    char label[160] = {0};
    norm_ctx k = {.kind = kind, .lrn = lrn, .eps = 1e-5f, .n = n, .c = c, .h = h, .w = w};
    const size_t nx = (size_t)n * (size_t)c * (size_t)h * (size_t)w;
    const size_t nc = (size_t)c;
    k.x = frand(nx, 2.0);
    k.weight = frand(nc, 1.0);
    k.bias = frand(nc, 1.0);
    k.mean = frand(nc, 0.5);
    k.var = fnew(nc);
    for (size_t i = 0; i < nc; i++)
        k.var[i] = 0.5f + (float)(rnd() % 1024) * (float)GRID;
    k.invstd = fnew(nc);
    k.y = fnew(nx);
    float *r = frand(nx, 1.0);
    float *dx = fcanary(nx), *dwt = fcanary(nc), *db = fcanary(nc);
    norm_fwd(&k); /* BN training: mean, invstd of this batch */
    switch (kind) {
    case 0: cs_cpu_lrn_backward(&k.lrn, n, c, h, w, k.x, r, dx); break;
    case 1:
        cs_cpu_batchnorm_train_backward(n, c, h, w, k.x, k.weight, k.mean, k.invstd, r, dx, dwt, db);
        break;
    case 2: cs_cpu_batchnorm_backward(k.eps, n, c, h, w, k.x, k.weight, k.mean, k.var, r, dx, dwt, db); break;
    default: cs_cpu_affine_backward(n, c, h, w, k.x, k.weight, r, dx, dwt, db); break;
    }
    const char *op = kind == 0   ? "lrn"
                     : kind == 1 ? "batchnorm train"
                     : kind == 2 ? "batchnorm frozen"
                                 : "affine";
    probe pr = {.fwd = norm_fwd, .ctx = &k, .y = k.y, .r = r, .ny = nx};
    snprintf(label, sizeof label, "%s %s dx", op, name);
    check_fd(label, &pr, k.x, nx, dx);
    if (kind != 0) {
        snprintf(label, sizeof label, "%s %s dweight", op, name);
        check_fd(label, &pr, k.weight, nc, dwt);
        snprintf(label, sizeof label, "%s %s dbias", op, name);
        check_fd(label, &pr, k.bias, nc, db);
    }
    free_all();
}

/* Training forward against the definition: per channel over (N, H, W), the
 * mean, biased variance for normalising, unbiased one returned; then the
 * running update with momentum 0.1. */
static void batchnorm_train_exact(void)
{
    /* N=2, C=2, H=1, W=2: channel 0 holds 1, 2, 3, 4; channel 1 holds 0, 0, 0, 8 */
    const float x[8] = {1, 2, 0, 0, 3, 4, 0, 8};
    const float weight[2] = {2, 1}, bias[2] = {0.5f, -1};
    const float eps = 1e-5f;
    float y[8] = {0}, mean[2] = {0}, var[2] = {0}, invstd[2] = {0};
    cs_cpu_batchnorm_train(eps, 2, 2, 1, 2, x, weight, bias, y, mean, var, invstd);
    const double want_mean[2] = {2.5, 2.0};
    const double want_var[2] = {5.0 / 3.0, 48.0 / 3.0}; /* unbiased: squared deviations / (M - 1) */
    const double inv0 = 1.0 / sqrt(1.25 + (double)eps), inv1 = 1.0 / sqrt(12.0 + (double)eps);
    const double want_invstd[2] = {inv0, inv1};
    const double want_y[8] = {2 * -1.5 * inv0 + 0.5, 2 * -0.5 * inv0 + 0.5, -2 * inv1 - 1, -2 * inv1 - 1,
                              2 * 0.5 * inv0 + 0.5,  2 * 1.5 * inv0 + 0.5,  -2 * inv1 - 1, 6 * inv1 - 1};
    check_exact("batchnorm train forward: batch mean", mean, want_mean, 2);
    check_exact("batchnorm train forward: unbiased variance", var, want_var, 2);
    check_exact("batchnorm train forward: invstd from the biased variance", invstd, want_invstd, 2);
    check_exact("batchnorm train forward: y", y, want_y, 8);

    float rm[2] = {0, 1}, rv[2] = {1, 2};
    cs_cpu_batchnorm_update_running(2, 0.1f, mean, var, rm, rv);
    const double want_rm[2] = {0.25, 0.9 + 0.2}, want_rv[2] = {0.9 + 0.5 / 3.0, 1.8 + 4.8 / 3.0};
    check_exact("batchnorm running mean, momentum 0.1", rm, want_rm, 2);
    check_exact("batchnorm running var (unbiased), momentum 0.1", rv, want_rv, 2);

    /* a random batch: y has zero mean and unit (biased) variance per channel */
    const int n = 3, c = 4, h = 3, w = 5;
    const size_t plane = (size_t)h * (size_t)w, nx = (size_t)n * (size_t)c * plane;
    float *xr = frand(nx, 4.0), *yr = fnew(nx);
    float ones[4] = {1, 1, 1, 1}, zeros[4] = {0, 0, 0, 0}, m4[4], v4[4], i4[4];
    cs_cpu_batchnorm_train(0.0f, n, c, h, w, xr, ones, zeros, yr, m4, v4, i4);
    double worst = 0.0;
    for (int ci = 0; ci < c; ci++) {
        double s = 0.0, ss = 0.0;
        for (int ni = 0; ni < n; ni++)
            for (size_t i = 0; i < plane; i++) {
                const double v = (double)yr[((size_t)ni * (size_t)c + (size_t)ci) * plane + i];
                s += v;
                ss += v * v;
            }
        const double m = (double)n * (double)plane;
        worst = fmax(worst, fabs(s / m));
        worst = fmax(worst, fabs(ss / m - 1.0));
    }
    char detail[96] = {0};
    snprintf(detail, sizeof detail, "max deviation %.2e", worst);
    check_true("batchnorm train forward: y has mean 0, biased variance 1", worst < 1e-5, detail);
    free_all();
}

static void test_norm(void)
{
    const cs_lrn_params none = {0, 0, 0, 0};
    norm_case("batch 3 3x2", 1, none, 3, 2, 3, 2);
    norm_case("batch 2 odd 5x3", 1, none, 2, 3, 5, 3);
    norm_case("batch 4 1x1 (after global pool)", 1, none, 4, 3, 1, 1);
    norm_case("batch 2 4x3", 2, none, 2, 3, 4, 3);
    norm_case("batch 3 3x3", 3, none, 3, 2, 3, 3);
    norm_case("size 5 alexnet params", 0, (cs_lrn_params){5, 1e-4f, 0.75f, 2.0f}, 2, 7, 3, 2);
    norm_case("size 3 alpha 0.5 k 1", 0, (cs_lrn_params){3, 0.5f, 0.75f, 1.0f}, 2, 6, 2, 3);
    norm_case("size 4 (asymmetric window) beta 1.5", 0, (cs_lrn_params){4, 0.8f, 1.5f, 1.0f}, 1, 6, 3, 2);
    batchnorm_train_exact();
}

/* ------------------------------------------------------------------------ */
/* Elementwise and data movement                                            */
/* ------------------------------------------------------------------------ */

typedef struct elt_ctx {
    int kind; /* 0 act, 1 dropout, 2 concat, 3 add, 4 scale */
    cs_act_kind act;
    float p;
    uint64_t seed;
    uint8_t *mask;
    int relu;
    int n, c, h, w;
    int parts[3], n_parts;
    float *xs[3]; /* act/dropout/scale: xs[0]; scale: s = xs[1]; add: a, b */
    float *y;
    size_t count;
} elt_ctx;

static void elt_fwd(void *v)
{
    elt_ctx *k = v;
    switch (k->kind) {
    case 0: cs_cpu_act(k->act, k->count, k->xs[0], k->y); break;
    case 1: {
        uint64_t s = k->seed; /* the same mask on every evaluation */
        cs_cpu_dropout_train(k->p, &s, k->count, k->xs[0], k->y, k->mask);
        break;
    }
    case 2: cs_cpu_concat(k->n, k->n_parts, k->parts, k->h, k->w, (const float *const *)k->xs, k->y); break;
    case 3: cs_cpu_add(k->relu, k->count, k->xs[0], k->xs[1], k->y); break;
    default: cs_cpu_scale(k->n, k->c, k->h, k->w, k->xs[0], k->xs[1], k->y); break;
    }
}

static const char *act_names[CS_ACT_COUNT] = {"relu", "tanh", "scaled_tanh", "sigmoid"};

static void act_case(cs_act_kind kind)
{
    char label[160] = {0};
    elt_ctx k = {.kind = 0, .act = kind, .count = 2 * 3 * 5 * 3};
    k.xs[0] = frand(k.count, 3.0);
    for (size_t i = 0; i < k.count; i++) /* relu: keep 2h clear of the kink */
        if (fabsf(k.xs[0][i]) < 1.0f / 16.0f)
            k.xs[0][i] = 0.25f;
    k.y = fnew(k.count);
    float *r = frand(k.count, 1.0), *dx = fcanary(k.count);
    elt_fwd(&k);
    cs_cpu_act_backward(kind, k.count, k.y, r, dx);
    probe pr = {.fwd = elt_fwd, .ctx = &k, .y = k.y, .r = r, .ny = k.count};
    snprintf(label, sizeof label, "act %s dx (from the output)", act_names[kind]);
    check_fd(label, &pr, k.xs[0], k.count, dx);
    /* in place: dx may be dy */
    float *g = fnew(k.count);
    memcpy(g, r, k.count * sizeof(float));
    cs_cpu_act_backward(kind, k.count, k.y, g, g);
    snprintf(label, sizeof label, "act %s in place equals out of place", act_names[kind]);
    check_true(label, memcmp(g, dx, k.count * sizeof(float)) == 0, "");
    free_all();
}

static void dropout_tests(void)
{
    char detail[160] = {0};
    elt_ctx k = {.kind = 1, .p = 0.3f, .seed = 42, .count = 2 * 4 * 3 * 3};
    k.xs[0] = frand(k.count, 2.0);
    k.mask = tnew(k.count);
    k.y = fnew(k.count);
    float *r = frand(k.count, 1.0), *dx = fcanary(k.count);
    elt_fwd(&k);
    cs_cpu_dropout_backward(k.p, k.count, k.mask, r, dx);
    probe pr = {.fwd = elt_fwd, .ctx = &k, .y = k.y, .r = r, .ny = k.count};
    check_fd("dropout train p=0.3 dx (same seeded mask)", &pr, k.xs[0], k.count, dx);

    /* keep rate, scale, reproducibility, the state advancing */
    const size_t big = 20000;
    float *x = fnew(big), *y = fnew(big), *y2 = fnew(big);
    uint8_t *m1 = tnew(big), *m2 = tnew(big);
    for (size_t i = 0; i < big; i++)
        x[i] = 1.0f;
    uint64_t s1 = 7, s2 = 7;
    cs_cpu_dropout_train(0.3f, &s1, big, x, y, m1);
    cs_cpu_dropout_train(0.3f, &s2, big, x, y2, m2);
    size_t kept = 0;
    int scaled = 1;
    for (size_t i = 0; i < big; i++) {
        kept += m1[i];
        scaled = scaled && y[i] == (m1[i] ? 1.0f / 0.7f : 0.0f);
    }
    const double rate = (double)kept / (double)big;
    snprintf(detail, sizeof detail, "kept %.4f of %zu (expect 0.7 +- 0.015)", rate, big);
    check_true("dropout p=0.3 keep rate", fabs(rate - 0.7) < 0.015, detail);
    check_true("dropout kept values scaled by 1/(1-p), dropped are 0", scaled, "");
    check_true("dropout same seed, same mask; state advanced",
               memcmp(m1, m2, big) == 0 && s1 == s2 && s1 != 7, "");
    cs_cpu_dropout_train(0.3f, &s1, big, x, y2, m2);
    check_true("dropout next call draws a different mask", memcmp(m1, m2, big) != 0, "");
    uint64_t s3 = 1;
    cs_cpu_dropout_train(0.0f, &s3, big, x, y, m1);
    int all = 1;
    for (size_t i = 0; i < big; i++)
        all = all && m1[i] == 1 && y[i] == 1.0f;
    check_true("dropout p=0 is the identity", all, "");
    cs_cpu_dropout_train(1.0f, &s3, big, x, y, m1);
    cs_cpu_dropout_backward(1.0f, big, m1, x, y2);
    all = 1;
    for (size_t i = 0; i < big; i++)
        all = all && m1[i] == 0 && y[i] == 0.0f && y2[i] == 0.0f;
    check_true("dropout p=1 drops everything (y = 0, dx = 0)", all, "");
    free_all();
}

static void concat_case(void)
{
    elt_ctx k = {.kind = 2, .n = 2, .h = 3, .w = 2, .parts = {2, 3, 1}, .n_parts = 3};
    const size_t plane = 6, ny = 2 * 6 * plane;
    float *dxs[3] = {NULL, NULL, NULL};
    for (int i = 0; i < 3; i++) {
        k.xs[i] = frand(2 * (size_t)k.parts[i] * plane, 2.0);
        dxs[i] = fcanary(2 * (size_t)k.parts[i] * plane);
    }
    k.y = fnew(ny);
    float *r = frand(ny, 1.0);
    cs_cpu_concat_backward(k.n, 3, k.parts, k.h, k.w, r, dxs);
    probe pr = {.fwd = elt_fwd, .ctx = &k, .y = k.y, .r = r, .ny = ny};
    check_fd("concat dx of input 0 (2 channels)", &pr, k.xs[0], 2 * 2 * plane, dxs[0]);
    check_fd("concat dx of input 1 (3 channels)", &pr, k.xs[1], 2 * 3 * plane, dxs[1]);
    check_fd("concat dx of input 2 (1 channel)", &pr, k.xs[2], 2 * 1 * plane, dxs[2]);
    /* a NULL part is skipped, the others still land in place */
    float *keep = fcanary(2 * 3 * plane);
    float *only[3] = {NULL, keep, NULL};
    cs_cpu_concat_backward(k.n, 3, k.parts, k.h, k.w, r, only);
    check_true("concat NULL parts skipped", memcmp(keep, dxs[1], 2 * 3 * plane * sizeof(float)) == 0, "");
    free_all();
}

static void add_case(int relu)
{
    char label[96] = {0};
    elt_ctx k = {.kind = 3, .relu = relu, .count = 3 * 4 * 5};
    k.xs[0] = frand(k.count, 2.0);
    k.xs[1] = frand(k.count, 2.0);
    for (size_t i = 0; i < k.count; i++) /* keep a + b clear of the relu kink */
        if (fabsf(k.xs[0][i] + k.xs[1][i]) < 1.0f / 16.0f)
            k.xs[1][i] += 0.5f;
    k.y = fnew(k.count);
    float *r = frand(k.count, 1.0), *da = fcanary(k.count), *db = fcanary(k.count);
    elt_fwd(&k);
    cs_cpu_add_backward(relu, k.count, k.y, r, da, db);
    probe pr = {.fwd = elt_fwd, .ctx = &k, .y = k.y, .r = r, .ny = k.count};
    snprintf(label, sizeof label, "add%s da", relu ? "+relu" : "");
    check_fd(label, &pr, k.xs[0], k.count, da);
    snprintf(label, sizeof label, "add%s db", relu ? "+relu" : "");
    check_fd(label, &pr, k.xs[1], k.count, db);
    free_all();
}

static void scale_case(void)
{
    elt_ctx k = {.kind = 4, .n = 2, .c = 3, .h = 4, .w = 3};
    const size_t nx = 2 * 3 * 4 * 3, ns = 2 * 3;
    k.xs[0] = frand(nx, 2.0);
    k.xs[1] = frand(ns, 1.0);
    k.y = fnew(nx);
    float *r = frand(nx, 1.0), *dx = fcanary(nx), *ds = fcanary(ns);
    cs_cpu_scale_backward(k.n, k.c, k.h, k.w, k.xs[0], k.xs[1], r, dx, ds);
    probe pr = {.fwd = elt_fwd, .ctx = &k, .y = k.y, .r = r, .ny = nx};
    check_fd("scale dx", &pr, k.xs[0], nx, dx);
    check_fd("scale ds", &pr, k.xs[1], ns, ds);
    free_all();
}

static void test_eltwise(void)
{
    for (int a = 0; a < CS_ACT_COUNT; a++)
        act_case((cs_act_kind)a);
    dropout_tests();
    concat_case();
    add_case(0);
    add_case(1);
    scale_case();

    float dst[3] = {1, 2, 3};
    const float src[3] = {0.5f, -2, 4};
    cs_cpu_grad_accumulate(3, src, dst);
    const double want[3] = {1.5, 0, 7};
    check_exact("grad accumulate dst += src", dst, want, 3);
}

/* ------------------------------------------------------------------------ */
/* Classifier head: dense, softmax, softmax-CE, RBF                         */
/* ------------------------------------------------------------------------ */

typedef struct head_ctx {
    int kind; /* 0 dense, 1 softmax, 2 rbf, 3 softmax-CE */
    int n, in, out, h, w;
    float *x, *wt, *b, *y;
    const int32_t *labels;
} head_ctx;

static void head_fwd(void *v)
{
    head_ctx *k = v;
    if (k->kind == 0)
        cs_cpu_dense(k->n, k->in, k->out, k->x, k->wt, k->b, k->y);
    else if (k->kind == 1)
        cs_cpu_softmax(k->n, k->in, k->h, k->w, k->x, k->y);
    else
        cs_cpu_rbf(k->n, k->in, k->out, k->x, k->wt, k->y);
}

static double xent_loss(void *v)
{
    head_ctx *k = v;
    double loss = 0.0;
    cs_cpu_softmax_xent(k->n, k->out, k->x, k->labels, &loss, NULL);
    return loss;
}

static void test_head(void)
{
    /* dense: batch 3, 7 -> 5 with bias */
    {
        head_ctx k = {.kind = 0, .n = 3, .in = 7, .out = 5};
        k.x = frand(21, 2.0);
        k.wt = frand(35, 1.0);
        k.b = frand(5, 1.0);
        k.y = fnew(15);
        float *r = frand(15, 1.0), *dx = fcanary(21), *dw = fcanary(35), *db = fcanary(5);
        cs_cpu_dense_backward(3, 7, 5, k.x, k.wt, r, dx, dw, db);
        probe pr = {.fwd = head_fwd, .ctx = &k, .y = k.y, .r = r, .ny = 15};
        check_fd("dense 7->5 batch 3 dx", &pr, k.x, 21, dx);
        check_fd("dense 7->5 batch 3 dw", &pr, k.wt, 35, dw);
        check_fd("dense 7->5 batch 3 db", &pr, k.b, 5, db);
        free_all();
    }
    /* softmax over C at each (h, w) */
    {
        head_ctx k = {.kind = 1, .n = 2, .in = 5, .h = 2, .w = 3};
        const size_t nx = 2 * 5 * 6;
        k.x = frand(nx, 3.0);
        k.y = fnew(nx);
        float *r = frand(nx, 1.0), *dx = fcanary(nx);
        head_fwd(&k);
        cs_cpu_softmax_backward(2, 5, 2, 3, k.y, r, dx);
        probe pr = {.fwd = head_fwd, .ctx = &k, .y = k.y, .r = r, .ny = nx};
        check_fd("softmax over C (2x3 positions) dx", &pr, k.x, nx, dx);
        free_all();
    }
    /* RBF: batch 2, 6 inputs, 4 classes */
    {
        head_ctx k = {.kind = 2, .n = 2, .in = 6, .out = 4};
        k.x = frand(12, 2.0);
        k.wt = frand(24, 1.0);
        k.y = fnew(8);
        float *r = frand(8, 1.0), *dx = fcanary(12), *dw = fcanary(24);
        cs_cpu_rbf_backward(2, 6, 4, k.x, k.wt, r, dx, dw);
        probe pr = {.fwd = head_fwd, .ctx = &k, .y = k.y, .r = r, .ny = 8};
        check_fd("rbf 6->4 batch 2 dx", &pr, k.x, 12, dx);
        check_fd("rbf 6->4 batch 2 dw", &pr, k.wt, 24, dw);
        free_all();
    }
    /* softmax-CE: finite differences of the loss itself */
    {
        const int32_t labels[3] = {2, 0, 9};
        head_ctx k = {.kind = 3, .n = 3, .out = 10, .labels = labels};
        k.x = frand(30, 4.0);
        float *g = fcanary(30);
        double loss = 0.0;
        cs_status st = cs_cpu_softmax_xent(3, 10, k.x, labels, &loss, g);
        check_true("softmax-CE returns CS_OK", st == CS_OK, cs_last_error());
        probe pr = {.scalar = xent_loss, .ctx = &k};
        check_fd("softmax-CE batch 3, 10 classes dlogits", &pr, k.x, 30, g);
        free_all();
    }
    /* softmax-CE hand case: row 0 all zero, label 1: p = 1/3, loss ln 3;
     * row 1 = (0, ln 3, 0), label 0: p = (1/5, 3/5, 1/5), loss ln 5 */
    {
        const float z[6] = {0, 0, 0, 0, (float)log(3.0), 0};
        const int32_t labels[2] = {1, 0};
        float g[6] = {0};
        double loss = 0.0;
        cs_status st = cs_cpu_softmax_xent(2, 3, z, labels, &loss, g);
        const double want_g[6] = {1.0 / 6, -1.0 / 3, 1.0 / 6, -0.4, 0.3, 0.1}; /* (p - onehot) / N */
        check_exact("softmax-CE exact grad = (p - onehot) / N", g, want_g, 6);
        const float lossf[1] = {(float)loss};
        const double want_loss[1] = {(log(3.0) + log(5.0)) / 2};
        check_exact("softmax-CE exact mean loss (ln 3 + ln 5) / 2", lossf, want_loss, 1);
        check_true("softmax-CE exact status", st == CS_OK, "");
        /* large logits: max-subtracted, no overflow */
        const float zb[3] = {1000, 0, -1000};
        const int32_t lb[1] = {1};
        st = cs_cpu_softmax_xent(1, 3, zb, lb, &loss, g);
        char detail[96] = {0};
        snprintf(detail, sizeof detail, "loss %.6g, want 1000", loss);
        check_true("softmax-CE logits +-1000 stay finite",
                   st == CS_OK && fabs(loss - 1000.0) < 1e-9 && fabs((double)g[1] + 1.0) < 1e-6, detail);
        const int32_t bad[2] = {1, 3};
        st = cs_cpu_softmax_xent(2, 3, z, bad, &loss, g);
        check_true("softmax-CE label out of range: CS_ERR_INVALID_ARG naming the sample",
                   st == CS_ERR_INVALID_ARG && strstr(cs_last_error(), "sample 1") != NULL, cs_last_error());
    }
}

/* ------------------------------------------------------------------------ */
/* Optimizers                                                               */
/* ------------------------------------------------------------------------ */

static void test_optim(void)
{
    /* SGD, lr 0.1, momentum 0.9, weight decay 0.1, p = 1, g = 0.5 twice:
     * step 1: d = 0.5 + 0.1 = 0.6, buf = 0.6, p = 1 - 0.06 = 0.94
     * step 2: d = 0.5 + 0.094 = 0.594, buf = 0.54 + 0.594 = 1.134, p = 0.94 - 0.1134 = 0.8266 */
    const cs_sgd_params sgd = {0.1, 0.9, 0.1, 0};
    float p[1] = {1}, g[1] = {0.5f}, buf[1] = {0};
    cs_cpu_sgd_step(&sgd, 1, p, g, buf);
    float got1[2] = {p[0], buf[0]};
    cs_cpu_sgd_step(&sgd, 1, p, g, buf);
    float got2[2] = {p[0], buf[0]};
    const double want1[2] = {0.94, 0.6}, want2[2] = {0.8266, 1.134};
    check_exact("sgd momentum+wd step 1 (p, buf)", got1, want1, 2);
    check_exact("sgd momentum+wd step 2 (p, buf)", got2, want2, 2);

    /* Nesterov step 1: buf = 0.6, d = 0.6 + 0.9 * 0.6 = 1.14, p = 0.886 */
    const cs_sgd_params nes = {0.1, 0.9, 0.1, 1};
    float pn[1] = {1}, bn[1] = {0};
    cs_cpu_sgd_step(&nes, 1, pn, g, bn);
    const double wantn[1] = {0.886};
    check_exact("sgd nesterov step 1", pn, wantn, 1);

    /* plain SGD, no buffer: p = 2 - 0.5 * (-1 + 0) = 2.5 */
    const cs_sgd_params plain = {0.5, 0.0, 0.0, 0};
    float pp[2] = {2, -1}, gp[2] = {-1, 4};
    cs_cpu_sgd_step(&plain, 2, pp, gp, NULL);
    const double wantp[2] = {2.5, -3};
    check_exact("sgd plain (momentum 0, buf NULL)", pp, wantp, 2);

    /* Adam lr 0.1, betas (0.9, 0.999), eps 1e-8, p = 1:
     * t=1, g = 0.5: m = 0.05, v = 0.00025; mhat = 0.5, sqrt(vhat) = 0.5,
     *   p = 1 - 0.1 * 0.5 / (0.5 + 1e-8) = 0.900000002
     * t=2, g = -0.25: m = 0.045 - 0.025 = 0.02, v = 0.00024975 + 0.0000625 = 0.00031225,
     *   p -= 0.1 / 0.19 * 0.02 / (sqrt(0.00031225) / sqrt(0.001999) + 1e-8) */
    const cs_adam_params adam = {0.1, 0.9, 0.999, 1e-8, 0.0};
    float pa[1] = {1}, ga[1] = {0.5f}, m[1] = {0}, v[1] = {0};
    cs_cpu_adam_step(&adam, 1, 1, pa, ga, m, v);
    float a1[3] = {pa[0], m[0], v[0]};
    const double wa1[3] = {1.0 - 0.1 * 0.5 / (0.5 + 1e-8), 0.05, 0.00025};
    check_exact("adam step 1 (p, m, v)", a1, wa1, 3);
    ga[0] = -0.25f;
    cs_cpu_adam_step(&adam, 2, 1, pa, ga, m, v);
    float a2[3] = {pa[0], m[0], v[0]};
    const double wa2[3] = {wa1[0] - 0.1 / 0.19 * 0.02 / (sqrt(0.00031225) / sqrt(0.001999) + 1e-8), 0.02,
                           0.00031225};
    check_exact("adam step 2 (p, m, v) with bias correction", a2, wa2, 3);

    /* eps outside the sqrt: g = 1e-9 at t = 1 gives mhat = sqrt(vhat) = 1e-9,
     * update lr * 1e-9 / (1e-9 + 1e-8) = lr / 11 (eps inside would give ~1e-5 lr) */
    const cs_adam_params adam1 = {1.0, 0.9, 0.999, 1e-8, 0.0};
    float pe[1] = {0}, ge[1] = {1e-9f}, me[1] = {0}, ve[1] = {0};
    cs_cpu_adam_step(&adam1, 1, 1, pe, ge, me, ve);
    const double wante[1] = {-(double)1e-9f / ((double)1e-9f + 1e-8)};
    check_exact("adam eps outside the sqrt (p = -1/11)", pe, wante, 1);

    /* weight decay as L2 on the gradient: p = 2, g = 0, wd = 0.5 -> g' = 1,
     * t=1: mhat = 1, sqrt(vhat) = 1: p = 2 - 0.01 / (1 + 1e-8) */
    const cs_adam_params adamw = {0.01, 0.9, 0.999, 1e-8, 0.5};
    float pw[1] = {2}, gw[1] = {0}, mw[1] = {0}, vw[1] = {0};
    cs_cpu_adam_step(&adamw, 1, 1, pw, gw, mw, vw);
    const double wantw[1] = {2.0 - 0.01 / (1.0 + 1e-8)};
    check_exact("adam weight decay added to the gradient (L2, not AdamW)", pw, wantw, 1);
}

/* ------------------------------------------------------------------------ */

int main(int argc, char **argv)
{
    if (argc > 1)
        filter = argv[1];
    test_conv();
    test_pool();
    test_norm();
    test_eltwise();
    test_head();
    test_optim();
    printf("%d passed, %d failed\n", n_passed, n_failed);
    return n_failed == 0 ? 0 : 1;
}
