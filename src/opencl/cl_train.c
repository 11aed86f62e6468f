/* Host launchers of the training kernels (cl/train.cl), one per function of
 * cl_train.h: argument checks, launch geometry and scratch. The convolution
 * backward's big scratch (packed x and dy, the phase-grid dx, the weight
 * gradient's per-chunk partial sums) is cached between calls; small scratch
 * is created per call and released right after the enqueue (the runtime keeps
 * it until the kernels are done). Nothing here waits for the device.
 */
#include <limits.h>
#include <math.h>

#include "opencl/cl_train.h"

/* Mirrors of the kernels' blocking (cl/train.cl), which size the launches. */
#ifndef TRAIN_VW
#define TRAIN_VW 8 /* vector width of the explicit-vector kernels */
#endif
#ifndef TRAIN_DW_TK
#define TRAIN_DW_TK 4 /* output channels per work-item of train_conv_dw */
#endif
#ifndef TRAIN_DW_TJ
#define TRAIN_DW_TJ 3 /* weight columns per work-item of train_conv_dw */
#endif
#ifndef TRAIN_DW1_TJ
#define TRAIN_DW1_TJ 4 /* weight columns per work-item of train_conv_dw_1k */
#endif
#ifndef TRAIN_DX_TC
#define TRAIN_DX_TC 4 /* input channels per work-item of train_conv_dx */
#endif
#ifndef TRAIN_DX_TQ
#define TRAIN_DX_TQ 2 /* position vectors per work-item of train_conv_dx */
#endif
#ifndef TRAIN_DX1_TQ
#define TRAIN_DX1_TQ 4 /* position vectors per work-item of train_conv_dx_1c */
#endif
#ifndef TRAIN_GEMM_TM
#define TRAIN_GEMM_TM 4 /* rows per work-item of train_gemm_bcast */
#endif
#ifndef TRAIN_GEMM_TV
#define TRAIN_GEMM_TV 2 /* column vectors per work-item of train_gemm_bcast */
#endif

/* Work-items per group of the flat 1-D kernels: PoCL vectorises across them. */
#ifndef TRAIN_LOCAL
#define TRAIN_LOCAL 64
#endif
/* Work-items a per-channel reduction aims for (channels x batch chunks). */
#ifndef TRAIN_REDUCE_ITEMS
#define TRAIN_REDUCE_ITEMS 32
#endif
/* The weight gradient walks the batch in chunks of about this many bytes of
 * packed x + dy, which stay in L2 while every tile of the chunk reads them... */
#ifndef TRAIN_DW_CHUNK_BYTES
#define TRAIN_DW_CHUNK_BYTES (256 << 10)
#endif
/* ...and with at least this many work-items (tiles x chunks) in all. */
#ifndef TRAIN_DW_MIN_ITEMS
#define TRAIN_DW_MIN_ITEMS 128
#endif

#define NARGS(a) ((int)(sizeof(a) / sizeof((a)[0])))

static const size_t local_1d[1] = {TRAIN_LOCAL};
static const size_t local_one[3] = {1, 1, 1};

static long long div_up(long long a, long long b)
{
    return (a + b - 1) / b;
}

static long long max_ll(long long a, long long b)
{
    return a > b ? a : b;
}

static long long lcm_ll(long long a, long long b)
{
    long long x = a, y = b;
    while (y != 0) {
        const long long t = x % y;
        x = y;
        y = t;
    }
    return a / x * b;
}

/* ------------------------------------------------------------------------ */
/* Checks and scratch                                                       */
/* ------------------------------------------------------------------------ */

static cs_status need_context(const cs_cl_context *c, const char *op)
{
    if (c == NULL)
        return cs_error(CS_ERR_INVALID_ARG, "%s: no OpenCL context", op);
    return CS_OK;
}

/* Kernels index with int within a buffer. */
static cs_status check_count(const char *op, const char *what, long long count)
{
    if (count > INT_MAX)
        return cs_error(CS_ERR_UNSUPPORTED, "%s: %s has %lld elements, more than this build's limit of %d",
                        op, what, count, INT_MAX);
    return CS_OK;
}

/* n, c, h, w >= 1 and n*c*h*w within int. */
static cs_status check_nchw(const char *op, const char *what, int n, int c, int h, int w)
{
    if (n < 1 || c < 1 || h < 1 || w < 1)
        return cs_error(CS_ERR_INVALID_ARG, "%s: %s is (%d, %d, %d, %d); every size must be >= 1", op, what,
                        n, c, h, w);
    return check_count(op, what, (long long)n * c * h * w);
}

static cs_status need_buffer(const char *op, const char *what, cl_mem m)
{
    if (m == NULL)
        return cs_error(CS_ERR_INVALID_ARG, "%s: %s buffer is NULL", op, what);
    return CS_OK;
}

static cs_status scratch(cs_cl_context *c, const char *op, long long floats, cl_mem *out)
{
    cl_int err = CL_SUCCESS;
    cs_status st = check_count(op, "a scratch buffer", floats);
    if (st != CS_OK)
        return st;
    *out = cs_clCreateBuffer(c->ctx, CL_MEM_READ_WRITE, (size_t)(floats > 0 ? floats : 1) * sizeof(float),
                             NULL, &err);
    if (err != CL_SUCCESS || *out == NULL) {
        *out = NULL;
        return cs_error(CS_ERR_NO_MEMORY, "%s: cannot allocate %lld bytes of device scratch: %s", op,
                        floats * (long long)sizeof(float), cs_cl_error_name(err));
    }
    return CS_OK;
}

static void release(cl_mem *m)
{
    if (*m != NULL)
        clReleaseMemObject(*m);
    *m = NULL;
}

/* The big scratch buffers (packed x and dy, the phase-grid dx, the weight
 * gradient partials) are kept in the context between calls (c->scratch,
 * released by cs_cl_close): on CPU devices a fresh buffer costs a page fault
 * per 4 KiB on first touch, as much as the kernels themselves for large
 * activations. They only grow; the in-order queue runs one call's kernels
 * before the next call's, and calls on one context are not concurrent. A call
 * holds its own reference to what it got, so a buffer replaced by a later,
 * larger call stays valid for the kernels already queued. */
enum { SCRATCH_XQ = 0, SCRATCH_DYQ, SCRATCH_DXQ, SCRATCH_PART, SCRATCH_SLOTS };
_Static_assert(SCRATCH_SLOTS <= (int)(sizeof ((cs_cl_context *)0)->scratch / sizeof(cl_mem)),
               "cs_cl_context has a slot per scratch");

/* *out = scratch `slot` of at least `floats` floats (4-byte elements), with a
 * reference of the caller's own (release() it). */
static cs_status scratch_cached(cs_cl_context *c, const char *op, int slot, long long floats, cl_mem *out)
{
    cs_status st = check_count(op, "a scratch buffer", floats);
    if (st != CS_OK)
        return st;
    const size_t bytes = (size_t)(floats > 0 ? floats : 1) * sizeof(float);
    if (c->scratch_bytes[slot] < bytes) {
        release(&c->scratch[slot]);
        c->scratch_bytes[slot] = 0;
        cl_int err = CL_SUCCESS;
        c->scratch[slot] = cs_clCreateBuffer(c->ctx, CL_MEM_READ_WRITE, bytes, NULL, &err);
        if (err != CL_SUCCESS || c->scratch[slot] == NULL) {
            c->scratch[slot] = NULL;
            *out = NULL;
            return cs_error(CS_ERR_NO_MEMORY, "%s: cannot allocate %zu bytes of device scratch: %s", op,
                            bytes, cs_cl_error_name(err));
        }
        c->scratch_bytes[slot] = bytes;
    }
    clRetainMemObject(c->scratch[slot]);
    *out = c->scratch[slot];
    return CS_OK;
}

/* Batch chunking of a per-channel reduction: *chunks chunks of *nper images. */
static void chan_chunks(int n, int ch, int *nper, int *chunks)
{
    long long want = div_up(TRAIN_REDUCE_ITEMS, ch);
    if (want > n)
        want = n;
    *nper = (int)div_up(n, want);
    *chunks = (int)div_up(n, *nper);
}

/* Flat kernel over count elements with `args` ending in the int count. */
static cs_status run_flat(cs_cl_context *c, const char *kernel, const cs_cl_arg *args, int nargs,
                          size_t count)
{
    const size_t global[1] = {count};
    return cs_cl_run(c, kernel, args, nargs, 1, global, local_1d);
}

/* ------------------------------------------------------------------------ */
/* Convolution backward                                                     */
/* ------------------------------------------------------------------------ */

/* The phase-grid geometry of cl/train.cl's conv backward, all within int. */
typedef struct conv_geom {
    cl_int C, K, cpg, kpg, groups, R, S, sh, sw, dh, dw, pt, pl, H, W, OH, OW;
    cl_int phases;
    cl_int Hq, Wq;        /* rows and columns of a phase plane */
    cl_int Xrows, Lq;     /* xq plane: Xrows rows of Wq (Hq plus the slack the dw product reads) */
    cl_int pre_rows, pre; /* zero rows of dyq before the first output row */
    cl_int Qd;            /* dxq plane: positions, a multiple of both dx position blocks */
    cl_int Drows, Ld;     /* dyq plane: Drows rows of Wq */
    cl_int P;             /* positions the dw product sums: OH*Wq rounded up to TRAIN_VW */
    long long xq_floats, dyq_floats, dxq_floats;
} conv_geom;

static cs_status conv_geometry(const cs_conv2d_params *p, int n, int ch, int h, int w, int oh, int ow,
                               conv_geom *g)
{
    const char *op = "conv2d backward";
    cs_status st = CS_OK;
    if ((st = check_nchw(op, "input", n, ch, h, w)) != CS_OK)
        return st;
    if (p->out_channels < 1 || p->kernel_h < 1 || p->kernel_w < 1 || p->stride_h < 1 || p->stride_w < 1 ||
        p->dilation_h < 1 || p->dilation_w < 1 || p->groups < 1 || p->pad_top < 0 || p->pad_bottom < 0 ||
        p->pad_left < 0 || p->pad_right < 0)
        return cs_error(CS_ERR_INVALID_ARG,
                        "%s: out_channels %d, kernel %dx%d, stride %dx%d, dilation %dx%d, groups %d, padding "
                        "(%d, %d, %d, %d): sizes, strides, dilations and groups must be >= 1, padding >= 0",
                        op, p->out_channels, p->kernel_h, p->kernel_w, p->stride_h, p->stride_w,
                        p->dilation_h, p->dilation_w, p->groups, p->pad_top, p->pad_bottom, p->pad_left,
                        p->pad_right);
    if (ch % p->groups != 0 || p->out_channels % p->groups != 0)
        return cs_error(CS_ERR_INVALID_ARG, "%s: groups %d must divide the input channels %d and outputs %d",
                        op, p->groups, ch, p->out_channels);
    if ((st = check_nchw(op, "dy", n, p->out_channels, oh, ow)) != CS_OK)
        return st;
    const long long R = p->kernel_h, S = p->kernel_w, sh = p->stride_h, sw = p->stride_w;
    const long long qrmax = (R - 1) * p->dilation_h / sh, qsmax = (S - 1) * p->dilation_w / sw;
    const long long Hq = max_ll(oh + qrmax, (p->pad_top + (long long)h - 1) / sh + 1);
    const long long Wq = max_ll(ow + qsmax, (p->pad_left + (long long)w - 1) / sw + 1);
    const long long Xrows = Hq + 1 + div_up(TRAIN_VW, Wq);
    const long long pre_rows = qrmax + 1;
    const long long qb = lcm_ll(TRAIN_DX_TQ, TRAIN_DX1_TQ) * TRAIN_VW; /* both dx position blocks divide Qd */
    const long long Qd = div_up(Hq * Wq, qb) * qb;
    const long long Drows = pre_rows + div_up(Qd, Wq);
    const long long phases = sh * sw;
    const long long sizes[] = {R * S * ch, Xrows * Wq, Drows * Wq, Qd, phases,
                               (long long)n * ch * phases * Xrows * Wq,
                               (long long)n * p->out_channels * Drows * Wq, (long long)n * ch * phases * Qd,
                               (long long)p->out_channels * R * S * ch,
                               /* coordinates the kernels compute in int */
                               (R - 1) * p->dilation_h + sh, (S - 1) * p->dilation_w + sw,
                               (Xrows + 1) * sh + p->pad_top, (Wq + 1) * sw + p->pad_left};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++)
        if ((st = check_count(op, "the packed scratch", sizes[i])) != CS_OK)
            return st;

    g->C = ch;
    g->K = p->out_channels;
    g->groups = p->groups;
    g->cpg = ch / p->groups;
    g->kpg = p->out_channels / p->groups;
    g->R = p->kernel_h;
    g->S = p->kernel_w;
    g->sh = p->stride_h;
    g->sw = p->stride_w;
    g->dh = p->dilation_h;
    g->dw = p->dilation_w;
    g->pt = p->pad_top;
    g->pl = p->pad_left;
    g->H = h;
    g->W = w;
    g->OH = oh;
    g->OW = ow;
    g->phases = (cl_int)phases;
    g->Hq = (cl_int)Hq;
    g->Wq = (cl_int)Wq;
    g->Xrows = (cl_int)Xrows;
    g->Lq = (cl_int)(Xrows * Wq);
    g->pre_rows = (cl_int)pre_rows;
    g->pre = (cl_int)(pre_rows * Wq);
    g->Qd = (cl_int)Qd;
    g->Drows = (cl_int)Drows;
    g->Ld = (cl_int)(Drows * Wq);
    g->P = (cl_int)(div_up((long long)oh * Wq, TRAIN_VW) * TRAIN_VW);
    g->xq_floats = (long long)n * ch * phases * Xrows * Wq;
    g->dyq_floats = (long long)n * p->out_channels * Drows * Wq;
    g->dxq_floats = (long long)n * ch * phases * Qd;
    return CS_OK;
}

static cs_status conv_pack_dy(cs_cl_context *c, const conv_geom *g, cl_int n, cl_mem dy, cl_mem dyq)
{
    cs_cl_arg a[] = {CS_ARG(dy),    CS_ARG(dyq),      CS_ARG(g->OH),      CS_ARG(g->OW),
                     CS_ARG(g->Wq), CS_ARG(g->Drows), CS_ARG(g->pre_rows)};
    const size_t global[1] = {(size_t)n * (size_t)g->K};
    return cs_cl_run(c, "train_conv_pack_dy", a, NARGS(a), 1, global, local_one);
}

/* dw through the per-chunk partial sums. */
static cs_status conv_dw(cs_cl_context *c, const conv_geom *g, cl_int n, cl_mem x, cl_mem mask, cl_mem dyq,
                         cl_mem dw)
{
    const char *op = "conv2d backward";
    cs_status st = CS_OK;
    cl_mem xq = NULL, part = NULL;
    const int one_k = g->kpg * 2 <= TRAIN_DW_TK;
    const cl_int tk = one_k ? 1 : TRAIN_DW_TK, tj = one_k ? TRAIN_DW1_TJ : TRAIN_DW_TJ;
    const cl_int J = g->cpg * g->R * g->S;
    const cl_int ktiles = (cl_int)div_up(g->kpg, tk);
    const long long tiles = div_up(J, tj) * (long long)g->groups * ktiles;
    const long long image_bytes = ((long long)g->C * g->phases * g->Lq + (long long)g->K * g->Ld) * 4;
    long long nper = max_ll(1, TRAIN_DW_CHUNK_BYTES / image_bytes);
    const long long min_chunks = div_up(TRAIN_DW_MIN_ITEMS, tiles);
    if (nper > div_up(n, min_chunks))
        nper = div_up(n, min_chunks);
    const cl_int chunks = (cl_int)div_up(n, nper);
    cl_int nper_i = (cl_int)nper;
    cl_int total = g->K * J;
    cl_int RS = g->R * g->S;
    cl_int has_mask = mask != NULL;

    if ((st = scratch_cached(c, op, SCRATCH_XQ, g->xq_floats, &xq)) != CS_OK ||
        (st = scratch_cached(c, op, SCRATCH_PART, (long long)chunks * total, &part)) != CS_OK)
        goto cleanup;
    {
        cs_cl_arg a[] = {CS_ARG(x),     CS_ARG(xq),    CS_ARG(g->H),    CS_ARG(g->W),
                         CS_ARG(g->sh), CS_ARG(g->sw), CS_ARG(g->pt),   CS_ARG(g->pl),
                         CS_ARG(g->Hq), CS_ARG(g->Wq), CS_ARG(g->Xrows)};
        const size_t global[1] = {(size_t)n * (size_t)g->C * (size_t)g->phases};
        if ((st = cs_cl_run(c, "train_conv_pack_x", a, NARGS(a), 1, global, local_one)) != CS_OK)
            goto cleanup;
    }
    {
        cs_cl_arg a[] = {CS_ARG(xq),     CS_ARG(dyq),    CS_ARG(part),   CS_ARG(g->C),  CS_ARG(g->K),
                         CS_ARG(g->cpg), CS_ARG(g->kpg), CS_ARG(ktiles), CS_ARG(g->R),  CS_ARG(g->S),
                         CS_ARG(g->sh),  CS_ARG(g->sw),  CS_ARG(g->dh),  CS_ARG(g->dw), CS_ARG(g->Wq),
                         CS_ARG(g->Lq),  CS_ARG(g->Ld),  CS_ARG(g->pre), CS_ARG(g->P),  CS_ARG(n),
                         CS_ARG(nper_i)};
        const size_t global[3] = {(size_t)div_up(J, tj), (size_t)g->groups * (size_t)ktiles, (size_t)chunks};
        if ((st = cs_cl_run(c, one_k ? "train_conv_dw_1k" : "train_conv_dw", a, NARGS(a), 3, global,
                            local_one)) != CS_OK)
            goto cleanup;
    }
    {
        cl_mem mask_arg = has_mask ? mask : part; /* not read without a mask */
        cs_cl_arg a[] = {CS_ARG(part),   CS_ARG(mask_arg), CS_ARG(dw),      CS_ARG(total),
                         CS_ARG(chunks), CS_ARG(RS),       CS_ARG(has_mask)};
        st = run_flat(c, "train_conv_dw_reduce", a, NARGS(a), (size_t)total);
    }
cleanup:
    release(&xq);
    release(&part);
    return st;
}

static cs_status conv_dx(cs_cl_context *c, const conv_geom *g, cl_int n, cl_mem wt, cl_mem mask, cl_mem dyq,
                         cl_mem dx)
{
    const char *op = "conv2d backward";
    cs_status st = CS_OK;
    cl_mem wq = NULL, dxq = NULL;
    const int one_c = g->cpg < TRAIN_DX_TC;
    cl_int tc = one_c ? 1 : TRAIN_DX_TC;
    const cl_int tq = one_c ? TRAIN_DX1_TQ : TRAIN_DX_TQ;
    cl_int ctiles = (cl_int)div_up(g->cpg, tc);
    cl_int RS = g->R * g->S;
    const long long wq_count = (long long)g->groups * ctiles * RS * g->kpg * tc;
    cl_int has_mask = mask != NULL;

    if ((st = scratch(c, op, wq_count, &wq)) != CS_OK ||
        (st = scratch_cached(c, op, SCRATCH_DXQ, g->dxq_floats, &dxq)) != CS_OK)
        goto cleanup;
    {
        cl_mem mask_arg = has_mask ? mask : wt; /* not read without a mask */
        cl_int total = (cl_int)wq_count;
        cs_cl_arg a[] = {CS_ARG(wt), CS_ARG(mask_arg), CS_ARG(wq), CS_ARG(g->cpg), CS_ARG(g->kpg),
                         CS_ARG(RS), CS_ARG(ctiles),   CS_ARG(tc), CS_ARG(total),  CS_ARG(has_mask)};
        if ((st = run_flat(c, "train_conv_pack_w", a, NARGS(a), (size_t)total)) != CS_OK)
            goto cleanup;
    }
    {
        cs_cl_arg a[] = {CS_ARG(dyq),    CS_ARG(wq),     CS_ARG(dxq),    CS_ARG(g->C),      CS_ARG(g->K),
                         CS_ARG(g->cpg), CS_ARG(g->kpg), CS_ARG(ctiles), CS_ARG(g->groups), CS_ARG(g->R),
                         CS_ARG(g->S),   CS_ARG(g->sh),  CS_ARG(g->sw),  CS_ARG(g->dh),     CS_ARG(g->dw),
                         CS_ARG(g->Wq),  CS_ARG(g->Ld),  CS_ARG(g->pre), CS_ARG(g->Qd)};
        const size_t global[3] = {(size_t)(g->Qd / (tq * TRAIN_VW)), (size_t)ctiles * (size_t)g->phases,
                                  (size_t)n * (size_t)g->groups};
        if ((st = cs_cl_run(c, one_c ? "train_conv_dx_1c" : "train_conv_dx", a, NARGS(a), 3, global,
                            local_one)) != CS_OK)
            goto cleanup;
    }
    {
        cs_cl_arg a[] = {CS_ARG(dxq),   CS_ARG(dx),    CS_ARG(g->H),  CS_ARG(g->W),  CS_ARG(g->sh),
                         CS_ARG(g->sw), CS_ARG(g->pt), CS_ARG(g->pl), CS_ARG(g->Wq), CS_ARG(g->Qd)};
        const size_t global[1] = {(size_t)n * (size_t)g->C};
        st = cs_cl_run(c, "train_conv_unpack_dx", a, NARGS(a), 1, global, local_one);
    }
cleanup:
    release(&wq);
    release(&dxq);
    return st;
}

/* out[c] = sum over (n, plane) of x (mean: divided by m), through per-chunk partials. */
static cs_status chan_sum(cs_cl_context *c, const char *op, cl_int n, cl_int ch, cl_int hw, cl_mem x,
                          cl_mem out, int mean)
{
    cs_status st = CS_OK;
    cl_mem part = NULL;
    cl_int nper = 0, chunks = 0;
    chan_chunks(n, ch, &nper, &chunks);
    cl_int mean_i = mean;
    cl_float m = (cl_float)((double)n * (double)hw);
    if ((st = scratch(c, op, (long long)chunks * ch, &part)) != CS_OK)
        return st;
    {
        cs_cl_arg a[] = {CS_ARG(x), CS_ARG(part), CS_ARG(ch), CS_ARG(hw), CS_ARG(n), CS_ARG(nper)};
        const size_t global[2] = {(size_t)ch, (size_t)chunks};
        if ((st = cs_cl_run(c, "train_chan_sum", a, NARGS(a), 2, global, local_one)) != CS_OK)
            goto cleanup;
    }
    {
        cs_cl_arg a[] = {CS_ARG(part), CS_ARG(out), CS_ARG(ch), CS_ARG(chunks), CS_ARG(mean_i), CS_ARG(m)};
        st = run_flat(c, "train_chan_total", a, NARGS(a), (size_t)ch);
    }
cleanup:
    release(&part);
    return st;
}

cs_status cs_cl_conv2d_backward(cs_cl_context *c, const cs_conv2d_params *p, int n, int ch, int h, int w,
                                cl_mem x, cl_mem wt, cl_mem mask, int oh, int ow, cl_mem dy, cl_mem dx,
                                cl_mem dw, cl_mem db)
{
    const char *op = "conv2d backward";
    cs_status st = need_context(c, op);
    conv_geom g = {0};
    cl_mem dyq = NULL;
    if (st != CS_OK)
        return st;
    if (p == NULL)
        return cs_error(CS_ERR_INVALID_ARG, "%s: no parameters", op);
    if ((st = conv_geometry(p, n, ch, h, w, oh, ow, &g)) != CS_OK)
        return st;
    if ((st = need_buffer(op, "dy", dy)) != CS_OK ||
        (dx != NULL && (st = need_buffer(op, "wt", wt)) != CS_OK) ||
        (dw != NULL && (st = need_buffer(op, "x", x)) != CS_OK))
        return st;

    if (db != NULL && (st = chan_sum(c, op, n, g.K, oh * ow, dy, db, 0)) != CS_OK)
        return st;
    if (dx == NULL && dw == NULL)
        return CS_OK;
    if ((st = scratch_cached(c, op, SCRATCH_DYQ, g.dyq_floats, &dyq)) != CS_OK)
        return st;
    if ((st = conv_pack_dy(c, &g, n, dy, dyq)) != CS_OK)
        goto cleanup;
    if (dw != NULL && (st = conv_dw(c, &g, n, x, mask, dyq, dw)) != CS_OK)
        goto cleanup;
    if (dx != NULL)
        st = conv_dx(c, &g, n, wt, mask, dyq, dx);
cleanup:
    release(&dyq);
    return st;
}

/* ------------------------------------------------------------------------ */
/* Pooling backward                                                         */
/* ------------------------------------------------------------------------ */

static cs_status check_pool(const char *op, const cs_pool_params *p, int n, int ch, int h, int w, int oh,
                            int ow)
{
    cs_status st = CS_OK;
    if ((st = check_nchw(op, "input", n, ch, h, w)) != CS_OK ||
        (st = check_nchw(op, "dy", n, ch, oh, ow)) != CS_OK)
        return st;
    if (p == NULL)
        return CS_OK;
    if (p->kernel_h < 1 || p->kernel_w < 1 || p->stride_h < 1 || p->stride_w < 1 || p->pad_top < 0 ||
        p->pad_bottom < 0 || p->pad_left < 0 || p->pad_right < 0)
        return cs_error(CS_ERR_INVALID_ARG,
                        "%s: kernel %dx%d, stride %dx%d, padding (%d, %d, %d, %d): kernel and stride must be "
                        ">= 1, padding >= 0",
                        op, p->kernel_h, p->kernel_w, p->stride_h, p->stride_w, p->pad_top, p->pad_bottom,
                        p->pad_left, p->pad_right);
    /* window coordinates stay within int */
    return check_count(op, "the window coordinates",
                       max_ll((long long)oh * p->stride_h + p->kernel_h + h + p->pad_bottom,
                              (long long)ow * p->stride_w + p->kernel_w + w + p->pad_right));
}

cs_status cs_cl_maxpool_backward(cs_cl_context *c, const cs_pool_params *p, int n, int ch, int h, int w,
                                 cl_mem x, int oh, int ow, cl_mem dy, cl_mem dx)
{
    const char *op = "maxpool backward";
    cs_status st = need_context(c, op);
    if (st != CS_OK)
        return st;
    if (p == NULL)
        return cs_error(CS_ERR_INVALID_ARG, "%s: no parameters", op);
    if ((st = check_pool(op, p, n, ch, h, w, oh, ow)) != CS_OK || (st = need_buffer(op, "x", x)) != CS_OK ||
        (st = need_buffer(op, "dy", dy)) != CS_OK || (st = need_buffer(op, "dx", dx)) != CS_OK)
        return st;
    cl_int H = h, W = w, OH = oh, OW = ow, R = p->kernel_h, S = p->kernel_w, sh = p->stride_h,
           sw = p->stride_w;
    cl_int pt = p->pad_top, pl = p->pad_left, planes = n * ch;
    cs_cl_arg a[] = {CS_ARG(x), CS_ARG(dy), CS_ARG(dx), CS_ARG(H),  CS_ARG(W),  CS_ARG(OH), CS_ARG(OW),
                     CS_ARG(R), CS_ARG(S),  CS_ARG(sh), CS_ARG(sw), CS_ARG(pt), CS_ARG(pl), CS_ARG(planes)};
    return run_flat(c, "train_maxpool_bwd", a, NARGS(a), (size_t)planes);
}

cs_status cs_cl_avgpool_backward(cs_cl_context *c, const cs_pool_params *p, int n, int ch, int h, int w,
                                 int oh, int ow, cl_mem dy, cl_mem dx)
{
    const char *op = "avgpool backward";
    cs_status st = need_context(c, op);
    if (st != CS_OK)
        return st;
    if (p == NULL)
        return cs_error(CS_ERR_INVALID_ARG, "%s: no parameters", op);
    if ((st = check_pool(op, p, n, ch, h, w, oh, ow)) != CS_OK || (st = need_buffer(op, "dy", dy)) != CS_OK ||
        (st = need_buffer(op, "dx", dx)) != CS_OK)
        return st;
    cl_int H = h, W = w, OH = oh, OW = ow, R = p->kernel_h, S = p->kernel_w, sh = p->stride_h,
           sw = p->stride_w;
    cl_int pt = p->pad_top, pb = p->pad_bottom, pl = p->pad_left, pr = p->pad_right;
    cl_int cip = p->count_include_pad ? 1 : 0, planes = n * ch;
    cs_cl_arg a[] = {CS_ARG(dy), CS_ARG(dx), CS_ARG(H),   CS_ARG(W),     CS_ARG(OH), CS_ARG(OW),
                     CS_ARG(R),  CS_ARG(S),  CS_ARG(sh),  CS_ARG(sw),    CS_ARG(pt), CS_ARG(pb),
                     CS_ARG(pl), CS_ARG(pr), CS_ARG(cip), CS_ARG(planes)};
    return run_flat(c, "train_avgpool_bwd", a, NARGS(a), (size_t)planes);
}

cs_status cs_cl_adaptive_avgpool_backward(cs_cl_context *c, int n, int ch, int h, int w, int oh, int ow,
                                          cl_mem dy, cl_mem dx)
{
    const char *op = "adaptive avgpool backward";
    cs_status st = need_context(c, op);
    if (st != CS_OK || (st = check_pool(op, NULL, n, ch, h, w, oh, ow)) != CS_OK ||
        (st = need_buffer(op, "dy", dy)) != CS_OK || (st = need_buffer(op, "dx", dx)) != CS_OK)
        return st;
    /* the window bounds compute (o + 1) * H */
    if ((st = check_count(op, "the window coordinates",
                          max_ll((long long)(oh + 1) * (h + 1), (long long)(ow + 1) * (w + 1)))) != CS_OK)
        return st;
    cl_int H = h, W = w, OH = oh, OW = ow, planes = n * ch;
    cs_cl_arg a[] = {CS_ARG(dy), CS_ARG(dx), CS_ARG(H), CS_ARG(W), CS_ARG(OH), CS_ARG(OW), CS_ARG(planes)};
    return run_flat(c, "train_adaptive_avgpool_bwd", a, NARGS(a), (size_t)planes);
}

/* ------------------------------------------------------------------------ */
/* Batchnorm and affine                                                     */
/* ------------------------------------------------------------------------ */

cs_status cs_cl_batchnorm_train(cs_cl_context *c, float eps, float momentum, int n, int ch, int h, int w,
                                cl_mem x, cl_mem weight, cl_mem bias, cl_mem y, cl_mem mean, cl_mem invstd,
                                cl_mem running_mean, cl_mem running_var)
{
    const char *op = "batchnorm train";
    cs_status st = need_context(c, op);
    cl_mem part = NULL;
    if (st != CS_OK || (st = check_nchw(op, "input", n, ch, h, w)) != CS_OK)
        return st;
    const cl_mem bufs[] = {x, weight, bias, y, mean, invstd, running_mean, running_var};
    const char *names[] = {"x", "weight", "bias", "y", "mean", "invstd", "running_mean", "running_var"};
    for (int i = 0; i < NARGS(bufs); i++)
        if ((st = need_buffer(op, names[i], bufs[i])) != CS_OK)
            return st;
    if (!(eps >= 0.0f) || !(momentum >= 0.0f && momentum <= 1.0f))
        return cs_error(CS_ERR_INVALID_ARG, "%s: eps %g must be >= 0 and momentum %g in [0, 1]", op,
                        (double)eps, (double)momentum);
    cl_int N = n, C = ch, HW = h * w, nper = 0, chunks = 0;
    cl_float m = (cl_float)((double)n * (double)HW), eps_f = eps, mo = momentum;
    chan_chunks(n, ch, &nper, &chunks);

    if ((st = chan_sum(c, op, N, C, HW, x, mean, 1)) != CS_OK)
        return st;
    if ((st = scratch(c, op, (long long)chunks * ch, &part)) != CS_OK)
        return st;
    {
        cs_cl_arg a[] = {CS_ARG(x),  CS_ARG(mean), CS_ARG(part), CS_ARG(C),
                         CS_ARG(HW), CS_ARG(N),    CS_ARG(nper)};
        const size_t global[2] = {(size_t)ch, (size_t)chunks};
        if ((st = cs_cl_run(c, "train_chan_sqdev", a, NARGS(a), 2, global, local_one)) != CS_OK)
            goto cleanup;
    }
    {
        cs_cl_arg a[] = {CS_ARG(part),        CS_ARG(mean), CS_ARG(invstd), CS_ARG(running_mean),
                         CS_ARG(running_var), CS_ARG(C),    CS_ARG(chunks), CS_ARG(m),
                         CS_ARG(eps_f),       CS_ARG(mo)};
        if ((st = run_flat(c, "train_bn_finish", a, NARGS(a), (size_t)ch)) != CS_OK)
            goto cleanup;
    }
    {
        cs_cl_arg a[] = {CS_ARG(x),    CS_ARG(mean), CS_ARG(invstd), CS_ARG(weight),
                         CS_ARG(bias), CS_ARG(y),    CS_ARG(C),      CS_ARG(HW)};
        const size_t global[2] = {(size_t)HW, (size_t)n * (size_t)ch};
        st = cs_cl_run(c, "train_bn_apply", a, NARGS(a), 2, global, NULL);
    }
cleanup:
    release(&part);
    return st;
}

/* tot (2, C) = sum dy, sum dy * xhat (xhat = x when !normalize), and dweight / dbias. */
static cs_status dy_sums(cs_cl_context *c, const char *op, cl_int n, cl_int ch, cl_int hw, cl_mem x,
                         cl_mem dy, cl_mem mean, cl_mem invstd, cl_int normalize, cl_mem tot, cl_mem dweight,
                         cl_mem dbias)
{
    cs_status st = CS_OK;
    cl_mem part = NULL;
    cl_int nper = 0, chunks = 0;
    chan_chunks(n, ch, &nper, &chunks);
    if ((st = scratch(c, op, 2LL * chunks * ch, &part)) != CS_OK)
        return st;
    {
        cl_mem mean_arg = normalize ? mean : x, inv_arg = normalize ? invstd : x; /* not read otherwise */
        cs_cl_arg a[] = {CS_ARG(x),  CS_ARG(dy), CS_ARG(mean_arg), CS_ARG(inv_arg), CS_ARG(part),
                         CS_ARG(ch), CS_ARG(hw), CS_ARG(n),        CS_ARG(nper),    CS_ARG(normalize)};
        const size_t global[2] = {(size_t)ch, (size_t)chunks};
        if ((st = cs_cl_run(c, "train_chan_dy_sums", a, NARGS(a), 2, global, local_one)) != CS_OK)
            goto cleanup;
    }
    {
        cl_int has_dw = dweight != NULL, has_db = dbias != NULL;
        cl_mem dw_arg = has_dw ? dweight : tot, db_arg = has_db ? dbias : tot; /* not written otherwise */
        cs_cl_arg a[] = {CS_ARG(part), CS_ARG(tot),    CS_ARG(dw_arg), CS_ARG(db_arg),
                         CS_ARG(ch),   CS_ARG(chunks), CS_ARG(has_dw), CS_ARG(has_db)};
        st = run_flat(c, "train_chan_dy_finish", a, NARGS(a), (size_t)ch);
    }
cleanup:
    release(&part);
    return st;
}

cs_status cs_cl_batchnorm_train_backward(cs_cl_context *c, int n, int ch, int h, int w, cl_mem x,
                                         cl_mem weight, cl_mem mean, cl_mem invstd, cl_mem dy, cl_mem dx,
                                         cl_mem dweight, cl_mem dbias)
{
    const char *op = "batchnorm train backward";
    cs_status st = need_context(c, op);
    cl_mem tot = NULL;
    if (st != CS_OK || (st = check_nchw(op, "input", n, ch, h, w)) != CS_OK)
        return st;
    if (dx == NULL && dweight == NULL && dbias == NULL)
        return CS_OK;
    const cl_mem bufs[] = {x, mean, invstd, dy};
    const char *names[] = {"x", "mean", "invstd", "dy"};
    for (int i = 0; i < NARGS(bufs); i++)
        if ((st = need_buffer(op, names[i], bufs[i])) != CS_OK)
            return st;
    if (dx != NULL && (st = need_buffer(op, "weight", weight)) != CS_OK)
        return st;
    cl_int C = ch, HW = h * w;
    cl_float m = (cl_float)((double)n * (double)HW);
    if ((st = scratch(c, op, 2LL * ch, &tot)) != CS_OK)
        return st;
    if ((st = dy_sums(c, op, n, C, HW, x, dy, mean, invstd, 1, tot, dweight, dbias)) != CS_OK)
        goto cleanup;
    if (dx != NULL) {
        cs_cl_arg a[] = {CS_ARG(x),   CS_ARG(dy), CS_ARG(weight), CS_ARG(mean), CS_ARG(invstd),
                         CS_ARG(tot), CS_ARG(dx), CS_ARG(C),      CS_ARG(HW),   CS_ARG(m)};
        const size_t global[2] = {(size_t)HW, (size_t)n * (size_t)ch};
        st = cs_cl_run(c, "train_bn_dx", a, NARGS(a), 2, global, NULL);
    }
cleanup:
    release(&tot);
    return st;
}

cs_status cs_cl_affine_backward(cs_cl_context *c, int n, int ch, int h, int w, cl_mem x, cl_mem weight,
                                cl_mem dy, cl_mem dx, cl_mem dweight, cl_mem dbias)
{
    const char *op = "affine backward";
    cs_status st = need_context(c, op);
    cl_mem tot = NULL;
    if (st != CS_OK || (st = check_nchw(op, "input", n, ch, h, w)) != CS_OK ||
        (st = need_buffer(op, "dy", dy)) != CS_OK)
        return st;
    if ((dx != NULL && (st = need_buffer(op, "weight", weight)) != CS_OK) ||
        (dweight != NULL && (st = need_buffer(op, "x", x)) != CS_OK))
        return st;
    cl_int C = ch, HW = h * w;
    if (dweight != NULL || dbias != NULL) {
        /* the sums read dy before dx (which may be dy) is written: the queue is in order */
        cl_mem xs = x != NULL ? x : dy; /* dbias alone: "x" is only multiplied into the unused sum */
        if ((st = scratch(c, op, 2LL * ch, &tot)) != CS_OK)
            return st;
        if ((st = dy_sums(c, op, n, C, HW, xs, dy, xs, xs, 0, tot, dweight, dbias)) != CS_OK)
            goto cleanup;
    }
    if (dx != NULL) {
        cs_cl_arg a[] = {CS_ARG(dy), CS_ARG(weight), CS_ARG(dx), CS_ARG(C), CS_ARG(HW)};
        const size_t global[2] = {(size_t)HW, (size_t)n * (size_t)ch};
        st = cs_cl_run(c, "train_affine_dx", a, NARGS(a), 2, global, NULL);
    }
cleanup:
    release(&tot);
    return st;
}

/* ------------------------------------------------------------------------ */
/* Elementwise, dropout, data movement                                      */
/* ------------------------------------------------------------------------ */

static cs_status check_flat(const cs_cl_context *c, const char *op, size_t count)
{
    cs_status st = need_context(c, op);
    if (st != CS_OK)
        return st;
    return check_count(op, "the tensor", count > (size_t)LLONG_MAX ? LLONG_MAX : (long long)count);
}

cs_status cs_cl_act_backward(cs_cl_context *c, cs_act_kind kind, size_t count, cl_mem y, cl_mem dy, cl_mem dx)
{
    const char *op = "activation backward";
    const char *kernel = NULL;
    cs_status st = check_flat(c, op, count);
    if (st != CS_OK)
        return st;
    switch (kind) {
    case CS_ACT_RELU: kernel = "train_act_relu_bwd"; break;
    case CS_ACT_TANH: kernel = "train_act_tanh_bwd"; break;
    case CS_ACT_SCALED_TANH: kernel = "train_act_scaled_tanh_bwd"; break;
    case CS_ACT_SIGMOID: kernel = "train_act_sigmoid_bwd"; break;
    default: return cs_error(CS_ERR_INVALID_ARG, "%s: unknown activation kind %d", op, (int)kind);
    }
    if (count == 0)
        return CS_OK;
    if ((st = need_buffer(op, "y", y)) != CS_OK || (st = need_buffer(op, "dy", dy)) != CS_OK ||
        (st = need_buffer(op, "dx", dx)) != CS_OK)
        return st;
    cl_int n = (cl_int)count;
    cs_cl_arg a[] = {CS_ARG(y), CS_ARG(dy), CS_ARG(dx), CS_ARG(n)};
    return run_flat(c, kernel, a, NARGS(a), count);
}

cs_status cs_cl_grad_accumulate(cs_cl_context *c, size_t count, cl_mem src, cl_mem dst)
{
    const char *op = "gradient accumulate";
    cs_status st = check_flat(c, op, count);
    if (st != CS_OK || count == 0)
        return st;
    if ((st = need_buffer(op, "src", src)) != CS_OK || (st = need_buffer(op, "dst", dst)) != CS_OK)
        return st;
    cl_int n = (cl_int)count;
    cs_cl_arg a[] = {CS_ARG(src), CS_ARG(dst), CS_ARG(n)};
    return run_flat(c, "train_accumulate", a, NARGS(a), count);
}

cs_status cs_cl_fill_zero(cs_cl_context *c, size_t count, cl_mem buf)
{
    const char *op = "fill zero";
    cs_status st = check_flat(c, op, count);
    if (st != CS_OK || count == 0)
        return st;
    if ((st = need_buffer(op, "buf", buf)) != CS_OK)
        return st;
    cl_int n = (cl_int)count;
    cs_cl_arg a[] = {CS_ARG(buf), CS_ARG(n)};
    return run_flat(c, "train_fill_zero", a, NARGS(a), count);
}

/* The kept elements' factor, as cs_cpu_dropout_*: the float 1/(1-p), 0 when p >= 1. */
static cl_float keep_scale(float p)
{
    return p < 1.0f ? 1.0f / (float)(1.0 - (double)p) : 0.0f;
}

cs_status cs_cl_dropout_train(cs_cl_context *c, float p, uint64_t *rng, size_t count, cl_mem x, cl_mem y,
                              cl_mem mask)
{
    const char *op = "dropout train";
    cs_status st = check_flat(c, op, count);
    if (st != CS_OK)
        return st;
    if (rng == NULL)
        return cs_error(CS_ERR_INVALID_ARG, "%s: no rng state", op);
    if (isnan(p))
        return cs_error(CS_ERR_INVALID_ARG, "%s: p is NaN", op);
    if (count == 0)
        return CS_OK;
    if ((st = need_buffer(op, "x", x)) != CS_OK || (st = need_buffer(op, "y", y)) != CS_OK ||
        (st = need_buffer(op, "mask", mask)) != CS_OK)
        return st;
    cl_ulong state = *rng;
    cl_float pf = p, scale = keep_scale(p);
    cl_int keep_any = p < 1.0f, n = (cl_int)count;
    cs_cl_arg a[] = {CS_ARG(x),  CS_ARG(y),     CS_ARG(mask),     CS_ARG(state),
                     CS_ARG(pf), CS_ARG(scale), CS_ARG(keep_any), CS_ARG(n)};
    if ((st = run_flat(c, "train_dropout", a, NARGS(a), count)) != CS_OK)
        return st;
    *rng += (uint64_t)count * 0x9E3779B97F4A7C15ull; /* the CPU stream's state after count draws */
    return CS_OK;
}

cs_status cs_cl_dropout_backward(cs_cl_context *c, float p, size_t count, cl_mem mask, cl_mem dy, cl_mem dx)
{
    const char *op = "dropout backward";
    cs_status st = check_flat(c, op, count);
    if (st != CS_OK || count == 0)
        return st;
    if ((st = need_buffer(op, "mask", mask)) != CS_OK || (st = need_buffer(op, "dy", dy)) != CS_OK ||
        (st = need_buffer(op, "dx", dx)) != CS_OK)
        return st;
    cl_float scale = keep_scale(p);
    cl_int n = (cl_int)count;
    cs_cl_arg a[] = {CS_ARG(mask), CS_ARG(dy), CS_ARG(dx), CS_ARG(scale), CS_ARG(n)};
    return run_flat(c, "train_dropout_bwd", a, NARGS(a), count);
}

cs_status cs_cl_channel_slice(cs_cl_context *c, int n, int ctotal, int offset, int cs, int hw, cl_mem src,
                              cl_mem dst)
{
    const char *op = "channel slice";
    cs_status st = need_context(c, op);
    if (st != CS_OK || (st = check_nchw(op, "source", n, ctotal, hw, 1)) != CS_OK)
        return st;
    if (cs < 1 || offset < 0 || offset + cs > ctotal)
        return cs_error(CS_ERR_INVALID_ARG, "%s: channels [%d, %d) are not inside the source's %d", op,
                        offset, offset + cs, ctotal);
    if ((st = need_buffer(op, "src", src)) != CS_OK || (st = need_buffer(op, "dst", dst)) != CS_OK)
        return st;
    cl_int count = cs * hw, src_count = ctotal * hw, src_offset = offset * hw;
    cs_cl_arg a[] = {CS_ARG(src), CS_ARG(dst), CS_ARG(count), CS_ARG(src_count), CS_ARG(src_offset)};
    const size_t global[2] = {(size_t)count, (size_t)n};
    const size_t local[2] = {TRAIN_LOCAL, 1};
    return cs_cl_run(c, "train_channel_slice", a, NARGS(a), 2, global, local);
}

cs_status cs_cl_scale_backward(cs_cl_context *c, int n, int ch, int h, int w, cl_mem x, cl_mem s, cl_mem dy,
                               cl_mem dx, cl_mem ds)
{
    const char *op = "scale backward";
    cs_status st = need_context(c, op);
    if (st != CS_OK || (st = check_nchw(op, "input", n, ch, h, w)) != CS_OK ||
        (st = need_buffer(op, "dy", dy)) != CS_OK)
        return st;
    cl_int HW = h * w, planes = n * ch;
    if (ds != NULL) {
        if ((st = need_buffer(op, "x", x)) != CS_OK)
            return st;
        cs_cl_arg a[] = {CS_ARG(x), CS_ARG(dy), CS_ARG(ds), CS_ARG(planes), CS_ARG(HW)};
        if ((st = run_flat(c, "train_scale_ds", a, NARGS(a), (size_t)planes)) != CS_OK)
            return st;
    }
    if (dx != NULL) {
        if ((st = need_buffer(op, "s", s)) != CS_OK)
            return st;
        cs_cl_arg a[] = {CS_ARG(s), CS_ARG(dy), CS_ARG(dx), CS_ARG(HW)};
        const size_t global[2] = {(size_t)HW, (size_t)planes};
        st = cs_cl_run(c, "train_scale_dx", a, NARGS(a), 2, global, NULL);
    }
    return st;
}

/* ------------------------------------------------------------------------ */
/* Dense and RBF                                                            */
/* ------------------------------------------------------------------------ */

static cs_status check_head(const char *op, int n, int in, int out)
{
    if (n < 1 || in < 1 || out < 1)
        return cs_error(CS_ERR_INVALID_ARG, "%s: batch %d, inputs %d, outputs %d; each must be >= 1", op, n,
                        in, out);
    cs_status st = check_count(op, "x", (long long)n * in);
    if (st == CS_OK)
        st = check_count(op, "the weights", (long long)in * out);
    if (st == CS_OK)
        st = check_count(op, "dy", (long long)n * out);
    return st;
}

/* Cm (M, I) = sum over k of A[m*a_m + k*a_k] * B (Kd, I)[k, i] (train_gemm_bcast). */
static cs_status gemm_bcast(cs_cl_context *c, cl_mem A, cl_mem B, cl_mem Cm, cl_int M, cl_int I, cl_int Kd,
                            cl_int a_m, cl_int a_k)
{
    cs_cl_arg a[] = {CS_ARG(A), CS_ARG(B),  CS_ARG(Cm),  CS_ARG(M),
                     CS_ARG(I), CS_ARG(Kd), CS_ARG(a_m), CS_ARG(a_k)};
    const size_t global[2] = {(size_t)div_up(I, TRAIN_GEMM_TV * TRAIN_VW), (size_t)div_up(M, TRAIN_GEMM_TM)};
    return cs_cl_run(c, "train_gemm_bcast", a, NARGS(a), 2, global, local_one);
}

cs_status cs_cl_dense_backward(cs_cl_context *c, int n, int in, int out, cl_mem x, cl_mem wt, cl_mem dy,
                               cl_mem dx, cl_mem dw, cl_mem db)
{
    const char *op = "dense backward";
    cs_status st = need_context(c, op);
    if (st != CS_OK || (st = check_head(op, n, in, out)) != CS_OK ||
        (st = need_buffer(op, "dy", dy)) != CS_OK)
        return st;
    cl_int N = n, O = out;
    if (dx != NULL) {
        if ((st = need_buffer(op, "wt", wt)) != CS_OK ||
            (st = gemm_bcast(c, dy, wt, dx, n, in, out, out, 1)) != CS_OK)
            return st;
    }
    if (dw != NULL) {
        if ((st = need_buffer(op, "x", x)) != CS_OK ||
            (st = gemm_bcast(c, dy, x, dw, out, in, n, 1, out)) != CS_OK)
            return st;
    }
    if (db != NULL) {
        cs_cl_arg a[] = {CS_ARG(dy), CS_ARG(db), CS_ARG(N), CS_ARG(O)};
        st = run_flat(c, "train_dense_db", a, NARGS(a), (size_t)out);
    }
    return st;
}

cs_status cs_cl_rbf_backward(cs_cl_context *c, int n, int in, int classes, cl_mem x, cl_mem wt, cl_mem dy,
                             cl_mem dx, cl_mem dw)
{
    const char *op = "rbf backward";
    cs_status st = need_context(c, op);
    if (st != CS_OK || (st = check_head(op, n, in, classes)) != CS_OK)
        return st;
    if (dx == NULL && dw == NULL)
        return CS_OK;
    if ((st = need_buffer(op, "x", x)) != CS_OK || (st = need_buffer(op, "wt", wt)) != CS_OK ||
        (st = need_buffer(op, "dy", dy)) != CS_OK)
        return st;
    cl_int N = n, I = in, K = classes;
    if (dx != NULL) {
        cs_cl_arg a[] = {CS_ARG(x), CS_ARG(wt), CS_ARG(dy), CS_ARG(dx), CS_ARG(I), CS_ARG(K)};
        const size_t global[2] = {(size_t)in, (size_t)n};
        if ((st = cs_cl_run(c, "train_rbf_dx", a, NARGS(a), 2, global, NULL)) != CS_OK)
            return st;
    }
    if (dw != NULL) {
        cs_cl_arg a[] = {CS_ARG(x), CS_ARG(wt), CS_ARG(dy), CS_ARG(dw), CS_ARG(N), CS_ARG(I), CS_ARG(K)};
        const size_t global[2] = {(size_t)in, (size_t)classes};
        st = cs_cl_run(c, "train_rbf_dw", a, NARGS(a), 2, global, NULL);
    }
    return st;
}

/* ------------------------------------------------------------------------ */
/* Optimizer steps                                                          */
/* ------------------------------------------------------------------------ */

cs_status cs_cl_sgd_step(cs_cl_context *c, const cs_sgd_params *o, size_t count, cl_mem param, cl_mem grad,
                         cl_mem buf)
{
    const char *op = "sgd step";
    cs_status st = check_flat(c, op, count);
    if (st != CS_OK)
        return st;
    if (o == NULL)
        return cs_error(CS_ERR_INVALID_ARG, "%s: no hyperparameters", op);
    if (count == 0)
        return CS_OK;
    cl_int has_momentum = o->momentum != 0.0;
    if ((st = need_buffer(op, "param", param)) != CS_OK || (st = need_buffer(op, "grad", grad)) != CS_OK ||
        (has_momentum && (st = need_buffer(op, "momentum buf (momentum is not 0)", buf)) != CS_OK))
        return st;
    cl_mem buf_arg = has_momentum ? buf : param; /* not read without momentum */
    cl_float lr = (cl_float)o->lr, mo = (cl_float)o->momentum, wd = (cl_float)o->weight_decay;
    cl_int nesterov = o->nesterov ? 1 : 0, n = (cl_int)count;
    cs_cl_arg a[] = {CS_ARG(param), CS_ARG(grad),     CS_ARG(buf_arg),      CS_ARG(lr), CS_ARG(mo),
                     CS_ARG(wd),    CS_ARG(nesterov), CS_ARG(has_momentum), CS_ARG(n)};
    return run_flat(c, "train_sgd", a, NARGS(a), count);
}

cs_status cs_cl_adam_step(cs_cl_context *c, const cs_adam_params *o, int t, size_t count, cl_mem param,
                          cl_mem grad, cl_mem m, cl_mem v)
{
    const char *op = "adam step";
    cs_status st = check_flat(c, op, count);
    if (st != CS_OK)
        return st;
    if (o == NULL)
        return cs_error(CS_ERR_INVALID_ARG, "%s: no hyperparameters", op);
    if (t < 1)
        return cs_error(CS_ERR_INVALID_ARG, "%s: step t = %d, the first step is 1", op, t);
    if (count == 0)
        return CS_OK;
    if ((st = need_buffer(op, "param", param)) != CS_OK || (st = need_buffer(op, "grad", grad)) != CS_OK ||
        (st = need_buffer(op, "m", m)) != CS_OK || (st = need_buffer(op, "v", v)) != CS_OK)
        return st;
    const double bc1 = 1.0 - pow(o->beta1, (double)t);
    const double bc2_sqrt = sqrt(1.0 - pow(o->beta2, (double)t));
    cl_float b1 = (cl_float)o->beta1, omb1 = (cl_float)(1.0 - o->beta1);
    cl_float b2 = (cl_float)o->beta2, omb2 = (cl_float)(1.0 - o->beta2);
    cl_float eps = (cl_float)o->eps, wd = (cl_float)o->weight_decay;
    cl_float step_size = (cl_float)(o->lr / bc1), bc2 = (cl_float)bc2_sqrt;
    cl_int n = (cl_int)count;
    cs_cl_arg a[] = {CS_ARG(param),     CS_ARG(grad), CS_ARG(m),    CS_ARG(v),   CS_ARG(b1),
                     CS_ARG(omb1),      CS_ARG(b2),   CS_ARG(omb2), CS_ARG(eps), CS_ARG(wd),
                     CS_ARG(step_size), CS_ARG(bc2),  CS_ARG(n)};
    return run_flat(c, "train_adam", a, NARGS(a), count);
}
