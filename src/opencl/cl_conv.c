/* Host side of CONV2D (cl/conv.cl): the plan that picks kernels per layer
 * shape, the prepare-time weight packing and scratch, and the launches.
 *  - 3x3 stride-1 convolutions big enough: Winograd F(2x2, 3x3) (CS_CL_CONV_WINOGRAD);
 *  - other non-depthwise convolutions: implicit GEMM (conv2d_gemm), on x itself
 *    for 1x1 stride-1 unpadded ones, else on a padded, stride-phase-split copy;
 *  - depthwise (every group reads one input channel): conv2d_depthwise_packed;
 *  - with CLBlast (GPUs): im2col and one CLBlast GEMM per group (CS_CL_CONV_IM2COL),
 *    depthwise convolutions conv2d_depthwise; GPUs without CLBlast: the direct kernels;
 *  - conv2d_direct / conv2d_depthwise (the original kernels) when the node was
 *    not prepared (or CONVSCOPE_CONV=direct) or sizes overflow int offsets.
 */
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cs_config.h"
#include "opencl/cl_conv.h"

#if CS_HAVE_CLBLAST
#include <clblast_c.h>
#endif

/* Register blocking of conv2d_direct / conv2d_depthwise, which sizes their
 * launch. Mirrors of the kernel's defaults, as CONV_GEMM_* in cl_conv.h. */
#ifndef CONV_OC_BLOCK
#define CONV_OC_BLOCK 4 /* output channels per work-item */
#endif
#ifndef CONV_OX_BLOCK
#define CONV_OX_BLOCK 4 /* output columns per work-item */
#endif
#ifndef CONV_DW_OX_BLOCK
#define CONV_DW_OX_BLOCK 4 /* output columns per work-item, depthwise */
#endif
#ifndef CONV_PACK_ROWS
#define CONV_PACK_ROWS 8 /* rows per work-item of conv2d_pack_input */
#endif
#ifndef CONV_DW_TP
#define CONV_DW_TP 64 /* output positions per work-item of conv2d_depthwise_packed */
#endif

static size_t div_up(size_t a, size_t b)
{
    return (a + b - 1) / b;
}

/* a * b, SIZE_MAX when it overflows. */
static size_t mul_sat(size_t a, size_t b)
{
    return a != 0 && b > SIZE_MAX / a ? SIZE_MAX : a * b;
}

/* ------------------------------------------------------------------------ */
/* Plans                                                                    */
/* ------------------------------------------------------------------------ */

/* The rows layout of the packed input (see cl/conv.cl) serves outputs at least
 * 4 tiles wide (whole vector stores, at most 1/8 of a row recomputed) and
 * packed inputs of at least this many bytes per image with outputs at least 2
 * tiles wide: their planes do not stay in cache, and the rows layout turns the
 * channel loop into one prefetchable stream per tap row. */
#ifndef CONV_ROWS_MIN_BYTES
#define CONV_ROWS_MIN_BYTES (1 << 20)
#endif

/* Inputs (of the whole batch) up to this size are re-read from cache for each
 * weight panel when the weights are bigger (gemm.tiles_first). */
#ifndef CONV_TILES_FIRST_MAX_BYTES
#define CONV_TILES_FIRST_MAX_BYTES (512 << 10)
#endif

/* Winograd F(2x2, 3x3) runs 3x3 stride-1 undilated ungrouped convolutions of
 * at least CONV_GEMM_TP 2x2 output tiles and a scratch (the packed input, V
 * and M: about 4x input + 4x output) of at most CONV_WINO_MAX_BYTES. It is
 * chosen (measured on PoCL, 2 Zen 3 cores) for at least CONV_WINO_MIN_CHANNELS
 * input and output channels and either at least CONV_WINO_MIN_TILES tiles or
 * at least CONV_WINO_DEEP_CHANNELS input channels; below that the transforms
 * and the GEMM's short channel loop cost more than the 2.25x fewer
 * multiply-adds save. */
#ifndef CONV_WINO_MIN_CHANNELS
#define CONV_WINO_MIN_CHANNELS 128
#endif
#ifndef CONV_WINO_MIN_TILES
#define CONV_WINO_MIN_TILES 400
#endif
#ifndef CONV_WINO_DEEP_CHANNELS
#define CONV_WINO_DEEP_CHANNELS 384
#endif
#ifndef CONV_WINO_MAX_BYTES
#define CONV_WINO_MAX_BYTES ((size_t)256 << 20)
#endif

/* Position tiles per conv2d_gemm work-item, done in turn (a power of 2), as
 * long as the launch keeps at least CONV_GEMM_MIN_ITEMS work-items. */
#ifndef CONV_GEMM_ITEM_TILES
#define CONV_GEMM_ITEM_TILES 4
#endif
#ifndef CONV_GEMM_MIN_ITEMS
#define CONV_GEMM_MIN_ITEMS 256
#endif

/* 1x1 unpadded convolutions read x repacked into panels (see cl/conv.cl) when
 * strided (they need a packing pass anyway), or when their outputs have at
 * most CONV_PANELS_MAX_POSITIONS positions and at least CONV_PANELS_MIN_K
 * channels per group (small planes: unaligned, line-straddling loads of x cost
 * more than the packing pass; measured on PoCL, 2 Zen 3 cores). */
#ifndef CONV_PANELS_MIN_K
#define CONV_PANELS_MIN_K 128
#endif
#ifndef CONV_PANELS_MAX_POSITIONS
#define CONV_PANELS_MAX_POSITIONS 512
#endif

/* The im2col route runs its columns and GEMMs over as many images at once as keep the
 * columns plus CLBlast's per-image copy of a group's weights within CONV_IM2COL_MAX_BYTES
 * (at least one image). */
#ifndef CONV_IM2COL_MAX_BYTES
#define CONV_IM2COL_MAX_BYTES ((size_t)256 << 20)
#endif
/* conv2d_im2col and conv2d_bias_act launch output positions rounded up to a multiple of
 * this, so the driver can pick whole warps / wavefronts for dimension 0. */
#ifndef CONV_IM2COL_ROUND
#define CONV_IM2COL_ROUND 32
#endif

/* Floats of slack after each scratch region: tiles read (never store) a little past the end. */
#define CONV_SCRATCH_SLACK 256

/* conv2d_pack_input's output for the shape: stride phases, padded grid of at
 * least Hq x Wq (grown to `hq` x `wq` when bigger), layout and strides.
 * Returns the floats of the batch, 0 when they overflow the kernels' ints. */
static size_t packed_input(cs_cl_conv_plan *pl, const cs_conv2d_params *p, cs_shape in, cs_shape out,
                           int batch, int rows, int hq, int wq)
{
    const int R = p->kernel_h, S = p->kernel_w;
    /* Phases only where taps land on more than one of them. */
    pl->phases_h = R > 1 ? p->stride_h : 1;
    pl->phases_w = S > 1 ? p->stride_w : 1;
    pl->Hq = out.h + (R - 1) * p->dilation_h / p->stride_h;
    pl->Wq = out.w + (S - 1) * p->dilation_w / p->stride_w;
    if (hq > pl->Hq)
        pl->Hq = hq;
    if (wq > pl->Wq)
        pl->Wq = wq;
    const size_t phases = (size_t)pl->phases_h * (size_t)pl->phases_w;
    const size_t img = (size_t)in.c * phases * (size_t)pl->Hq * (size_t)pl->Wq;
    if (img > INT_MAX || (size_t)out.h * (size_t)pl->Wq > INT_MAX)
        return 0;
    pl->rows = rows;
    pl->img_stride = (int)img;
    if (rows) {
        pl->phase_stride = pl->Wq;
        pl->ch_stride = (int)phases * pl->Wq;
        pl->x_row = in.c * pl->ch_stride;
    } else {
        pl->phase_stride = pl->Hq * pl->Wq;
        pl->ch_stride = (int)phases * pl->phase_stride;
        pl->x_row = pl->Wq;
    }
    return (size_t)batch * img;
}

/* Work-items sharing a weight panel run back to back on a core (re-reading the
 * input from cache) when the weights outweigh an input that fits in cache;
 * else those sharing an input tile do (re-reading the weights). */
static int tiles_first(size_t weight_floats, size_t x_floats)
{
    return weight_floats > x_floats && x_floats * sizeof(float) <= CONV_TILES_FIRST_MAX_BYTES;
}

/* conv2d_gemm's tiling of `pos_rows` position rows of `row_len`, for `batch`
 * images: CONV_GEMM_ITEM_TILES tiles per work-item in turn (each reuses the
 * weight panel the previous one brought into cache) while that leaves at
 * least CONV_GEMM_MIN_ITEMS work-items. */
static void gemm_tiles(cs_cl_conv_gemm *gm, int pos_rows, int row_len, int out_pitch, int batch)
{
    gm->pos_rows = pos_rows;
    gm->row_len = row_len;
    gm->out_pitch = out_pitch;
    gm->tiles_per_row = (int)div_up((size_t)row_len, CONV_GEMM_TP);
    gm->n_tiles = pos_rows * gm->tiles_per_row;
    const size_t others = (size_t)gm->groups * (size_t)gm->ktiles * (size_t)batch;
    gm->tiles_per_item = CONV_GEMM_ITEM_TILES;
    while (gm->tiles_per_item > 1 &&
           div_up((size_t)gm->n_tiles, (size_t)gm->tiles_per_item) * others < CONV_GEMM_MIN_ITEMS)
        gm->tiles_per_item /= 2;
}

/* The implicit-GEMM plan for the shape, or kind DIRECT when sizes overflow.
 * panels: 1 panels for any 1x1 unpadded convolution, 0 never, -1 where they pay
 * (CONV_PANELS_MIN_K). */
static cs_cl_conv_plan gemm_plan(const cs_conv2d_params *p, cs_shape in, cs_shape out, int batch, int panels)
{
    const cs_cl_conv_plan none = {.kind = CS_CL_CONV_DIRECT};
    cs_cl_conv_plan pl = none;
    cs_cl_conv_gemm *gm = &pl.gemm;
    const int R = p->kernel_h, S = p->kernel_w;
    gm->groups = p->groups;
    gm->cpg = in.c / p->groups;
    gm->kpg = out.c / p->groups;
    gm->K = out.c;
    gm->ktiles = (int)div_up((size_t)gm->kpg, CONV_GEMM_TK);
    gm->R = R;
    gm->S = S;
    gm->stride_h = p->stride_h;
    gm->stride_w = p->stride_w;
    gm->dil_h = p->dilation_h;
    gm->dil_w = p->dilation_w;
    gm->OH = out.h;
    gm->OW = out.w;
    pl.weight_floats =
        (size_t)p->groups * (size_t)gm->ktiles * (size_t)R * (size_t)S * (size_t)gm->cpg * CONV_GEMM_TK;
    if ((size_t)R * (size_t)S * (size_t)gm->cpg * CONV_GEMM_TK > INT_MAX)
        return none;
    const int unpadded_1x1 =
        R == 1 && S == 1 && p->pad_top == 0 && p->pad_bottom == 0 && p->pad_left == 0 && p->pad_right == 0;
    const int unit_stride = p->stride_h == 1 && p->stride_w == 1;
    size_t x_floats = 0;
    const size_t positions = (size_t)out.h * (size_t)out.w;
    const int panels_pay =
        !unit_stride || (positions <= CONV_PANELS_MAX_POSITIONS && gm->kpg >= CONV_PANELS_MIN_K);
    if (unpadded_1x1 && (panels == 1 || (panels < 0 && panels_pay))) {
        /* x repacked into panels of CONV_GEMM_TP positions, channel after channel. */
        const size_t blocks = div_up((size_t)out.h * (size_t)out.w, CONV_GEMM_TP);
        const size_t img = blocks * (size_t)in.c * CONV_GEMM_TP;
        if (img > INT_MAX)
            return none;
        pl.kind = CS_CL_CONV_GEMM_PANELS;
        pl.phases_h = pl.phases_w = 1;
        pl.img_stride = (int)img;
        pl.ch_stride = pl.phase_stride = CONV_GEMM_TP;
        pl.x_row = in.c * CONV_GEMM_TP;
        x_floats = (size_t)batch * img;
        pl.scratch_floats = x_floats + CONV_SCRATCH_SLACK;
        gemm_tiles(gm, (int)blocks, CONV_GEMM_TP, out.w, batch);
    } else if (unpadded_1x1 && unit_stride && (size_t)out.h * (size_t)out.w >= CONV_GEMM_TP) {
        /* x itself is the packed input, flat; the last tile is moved back inside it. */
        if (cs_shape_count(in) > INT_MAX)
            return none;
        pl.kind = CS_CL_CONV_GEMM;
        pl.phases_h = pl.phases_w = 1;
        pl.Hq = in.h;
        pl.Wq = in.w;
        pl.phase_stride = pl.ch_stride = in.h * in.w;
        pl.img_stride = in.c * pl.ch_stride;
        pl.x_row = in.w;
        x_floats = (size_t)batch * cs_shape_count(in);
        gemm_tiles(gm, 1, out.h * out.w, out.w, batch);
    } else {
        pl.kind = CS_CL_CONV_GEMM_PACKED;
        /* Rows layout for wide outputs, or for wide-enough ones whose planes do not stay in cache. */
        cs_cl_conv_plan probe = pl;
        const size_t flat = packed_input(&probe, p, in, out, 1, 0, 0, 0);
        const int rows = (size_t)out.w >= 2 * CONV_GEMM_TP &&
                         ((size_t)out.w >= 4 * CONV_GEMM_TP || flat * sizeof(float) >= CONV_ROWS_MIN_BYTES);
        if ((x_floats = packed_input(&pl, p, in, out, batch, rows, 0, 0)) == 0)
            return none;
        if (rows)
            gemm_tiles(gm, out.h, out.w, out.w, batch);
        else
            gemm_tiles(gm, 1, out.h * pl.Wq, pl.Wq, batch);
        pl.scratch_floats =
            x_floats + CONV_SCRATCH_SLACK + CONV_GEMM_TP + (size_t)S * (size_t)p->dilation_w + (size_t)pl.Wq;
    }
    gm->img_stride = pl.img_stride;
    gm->ch_stride = pl.ch_stride;
    gm->phase_stride = pl.phase_stride;
    gm->phases_w = pl.phases_w;
    gm->x_row = pl.x_row;
    gm->tiles_first = tiles_first(pl.weight_floats, x_floats);
    return pl;
}

/* The Winograd F(2x2, 3x3) plan, or kind DIRECT when it cannot run the shape. */
static cs_cl_conv_plan wino_plan(const cs_conv2d_params *p, cs_shape in, cs_shape out, int batch)
{
    const cs_cl_conv_plan none = {.kind = CS_CL_CONV_DIRECT};
    cs_cl_conv_plan pl = none;
    cs_cl_conv_gemm *gm = &pl.gemm;
    if (p->kernel_h != 3 || p->kernel_w != 3 || p->stride_h != 1 || p->stride_w != 1 || p->dilation_h != 1 ||
        p->dilation_w != 1 || p->groups != 1)
        return none;
    pl.kind = CS_CL_CONV_WINOGRAD;
    pl.wino_th = (out.h + 1) / 2;
    pl.wino_tw = (out.w + 1) / 2;
    const size_t T = (size_t)pl.wino_th * (size_t)pl.wino_tw;
    /* Planes an odd number of 64-byte lines apart: channel strides of many 4 KiB would map
     * the GEMM's channel loop onto a few L1 sets. */
    size_t Tp = div_up(T, 16) * 16;
    if ((Tp / 16) % 2 == 0)
        Tp += 16;
    pl.wino_stride = (int)Tp;
    /* Patches of tile row ty: input rows 2ty .. 2ty+3 of the padded input. */
    const size_t pack = packed_input(&pl, p, in, out, batch, 0, 2 * pl.wino_th + 2, 2 * pl.wino_tw + 2);
    const size_t v = (size_t)batch * 16 * (size_t)in.c * Tp, m = (size_t)batch * 16 * (size_t)out.c * Tp;
    if (pack == 0 || T < CONV_GEMM_TP || 16 * (size_t)in.c * Tp > INT_MAX ||
        16 * (size_t)out.c * Tp > INT_MAX)
        return none;
    /* Scratch: [packed input, then M | V]: M overwrites the packed input once V is made. */
    pl.v_offset = (pack > m ? pack : m) + CONV_SCRATCH_SLACK;
    pl.scratch_floats = pl.v_offset + v + CONV_SCRATCH_SLACK;
    if (pl.scratch_floats * sizeof(float) > CONV_WINO_MAX_BYTES)
        return none;
    /* The GEMM: 16 groups (one per transform point) of a 1x1 convolution over T positions. */
    gm->groups = 16;
    gm->cpg = in.c;
    gm->kpg = out.c;
    gm->K = 16 * out.c;
    gm->ktiles = (int)div_up((size_t)out.c, CONV_GEMM_TK);
    gm->R = gm->S = gm->stride_h = gm->stride_w = gm->dil_h = gm->dil_w = 1;
    gm->img_stride = (int)(16 * (size_t)in.c * Tp);
    gm->ch_stride = gm->phase_stride = gm->x_row = (int)Tp;
    gm->phases_w = 1;
    gemm_tiles(gm, 1, (int)T, (int)Tp, batch);
    gm->OH = 1;
    gm->OW = (int)Tp;
    gm->x_offset = pl.v_offset;
    pl.weight_floats = 16 * (size_t)gm->ktiles * (size_t)in.c * CONV_GEMM_TK;
    gm->tiles_first = tiles_first(pl.weight_floats, v);
    return pl;
}

static cs_cl_conv_plan depthwise_plan(const cs_conv2d_params *p, cs_shape in, cs_shape out, int batch)
{
    cs_cl_conv_plan pl = {.kind = CS_CL_CONV_DEPTHWISE_PACKED};
    const size_t x = packed_input(&pl, p, in, out, batch, 0, 0, 0);
    if (x == 0)
        return (cs_cl_conv_plan){.kind = CS_CL_CONV_DEPTHWISE};
    pl.scratch_floats =
        x + CONV_SCRATCH_SLACK + CONV_DW_TP + (size_t)p->kernel_w * (size_t)p->dilation_w + (size_t)pl.Wq;
    pl.gemm.row_len = out.h * pl.Wq;
    pl.gemm.tiles_per_row = (int)div_up((size_t)pl.gemm.row_len, CONV_DW_TP);
    return pl;
}

/* Whether the im2col route's GEMM reads x itself: 1x1, stride 1, unpadded (col would be x). */
static int im2col_reads_x(const cs_conv2d_params *p)
{
    return p->kernel_h == 1 && p->kernel_w == 1 && p->stride_h == 1 && p->stride_w == 1 && p->pad_top == 0 &&
           p->pad_bottom == 0 && p->pad_left == 0 && p->pad_right == 0;
}

/* The im2col plan, or kind DIRECT when offsets overflow the ints of the kernels and CLBlast. */
static cs_cl_conv_plan im2col_plan(const cs_conv2d_params *p, cs_shape in, cs_shape out, int batch)
{
    const cs_cl_conv_plan none = {.kind = CS_CL_CONV_DIRECT};
    cs_cl_conv_plan pl = {.kind = CS_CL_CONV_IM2COL};
    const size_t P = (size_t)out.h * (size_t)out.w;
    const size_t rs = (size_t)p->kernel_h * (size_t)p->kernel_w;
    const size_t col = im2col_reads_x(p) ? 0 : mul_sat(mul_sat((size_t)in.c, rs), P); /* per image */
    const size_t wg = mul_sat(mul_sat((size_t)(out.c / p->groups), (size_t)(in.c / p->groups)), rs);
    const size_t per_image = col + wg < col ? SIZE_MAX : col + wg;
    if (mul_sat((size_t)batch, mul_sat((size_t)out.c, P)) > INT_MAX ||
        mul_sat((size_t)batch, cs_shape_count(in)) > INT_MAX || col > INT_MAX || per_image == SIZE_MAX)
        return none;
    size_t images = CONV_IM2COL_MAX_BYTES / sizeof(float) / (per_image > 0 ? per_image : 1);
    images = images < 1 ? 1 : images > (size_t)batch ? (size_t)batch : images;
    if (col > 0 && images > INT_MAX / col)
        images = INT_MAX / col;
    pl.col_images = (int)images;
    pl.scratch_floats = col * images;
    return pl;
}

cs_cl_conv_plan cs_cl_conv_plan_as(const cs_conv2d_params *p, cs_shape in, cs_shape out, int batch,
                                   cs_cl_conv_kind kind)
{
    const int depthwise = in.c == p->groups;
    switch (kind) {
    case CS_CL_CONV_DEPTHWISE:
        return (cs_cl_conv_plan){.kind = depthwise ? CS_CL_CONV_DEPTHWISE : CS_CL_CONV_DIRECT};
    case CS_CL_CONV_DEPTHWISE_PACKED:
        return depthwise ? depthwise_plan(p, in, out, batch) : (cs_cl_conv_plan){.kind = CS_CL_CONV_DIRECT};
    case CS_CL_CONV_GEMM:
    case CS_CL_CONV_GEMM_PACKED: return gemm_plan(p, in, out, batch, 0);
    case CS_CL_CONV_GEMM_PANELS: return gemm_plan(p, in, out, batch, 1);
    case CS_CL_CONV_WINOGRAD: return wino_plan(p, in, out, batch);
    case CS_CL_CONV_IM2COL: return im2col_plan(p, in, out, batch);
    default: return (cs_cl_conv_plan){.kind = CS_CL_CONV_DIRECT};
    }
}

/* Whether CONVSCOPE_CONV is `value`: direct, gemm or im2col (see cs_cl_conv_plan_on). */
static int conv_env_is(const char *value)
{
    const char *env = getenv("CONVSCOPE_CONV");
    return env && strcmp(env, value) == 0;
}

/* Whether Winograd pays off for the shape (see CONV_WINO_MIN_CHANNELS). */
static int wino_pays(cs_shape in, cs_shape out)
{
    const size_t tiles = (size_t)((out.h + 1) / 2) * (size_t)((out.w + 1) / 2);
    if (conv_env_is("gemm"))
        return 0;
    return in.c >= CONV_WINO_MIN_CHANNELS && out.c >= CONV_WINO_MIN_CHANNELS &&
           (tiles >= CONV_WINO_MIN_TILES || in.c >= CONV_WINO_DEEP_CHANNELS);
}

cs_cl_conv_plan cs_cl_conv_plan_of(const cs_conv2d_params *p, cs_shape in, cs_shape out, int batch)
{
    if (in.c == p->groups)
        return depthwise_plan(p, in, out, batch);
    if (wino_pays(in, out)) {
        const cs_cl_conv_plan w = wino_plan(p, in, out, batch);
        if (w.kind == CS_CL_CONV_WINOGRAD)
            return w;
    }
    return gemm_plan(p, in, out, batch, -1);
}

cs_cl_conv_plan cs_cl_conv_plan_on(const cs_cl_context *cl, const cs_conv2d_params *p, cs_shape in,
                                   cs_shape out, int batch)
{
    const int depthwise = in.c == p->groups;
    const cs_cl_conv_plan direct = {.kind = depthwise ? CS_CL_CONV_DEPTHWISE : CS_CL_CONV_DIRECT};
    if (conv_env_is("direct"))
        return direct;
    if (cl->use_clblast && !conv_env_is("gemm"))
        return depthwise ? direct : im2col_plan(p, in, out, batch);
    if (cl->is_gpu && !conv_env_is("gemm"))
        return direct; /* the CPU-shaped kernels are 2-2.5x slower than these on GPUs */
    return cs_cl_conv_plan_of(p, in, out, batch);
}

/* ------------------------------------------------------------------------ */
/* Prepare: packed weights and the shared scratch                           */
/* ------------------------------------------------------------------------ */

/* conv2d_gemm's weights: for each (group, CONV_GEMM_TK block), in the kernel's
 * read order: channel blocks of CONV_GEMM_CB, taps, channels of the block,
 * CONV_GEMM_TK output channels (0 past the group). w is (K, cpg, R, S). */
static void pack_gemm_weight(const cs_cl_conv_gemm *gm, const float *w, float *out)
{
    const size_t R = (size_t)gm->R, S = (size_t)gm->S, cpg = (size_t)gm->cpg, kpg = (size_t)gm->kpg;
    const size_t RS = R * S, TK = CONV_GEMM_TK, CB = CONV_GEMM_CB, ktiles = (size_t)gm->ktiles;
    /* Written in order (one pass over out, no memset); read from TK weight rows at a time,
     * which stay in cache. */
    for (size_t g = 0; g < (size_t)gm->groups; g++)
        for (size_t kt = 0; kt < ktiles; kt++) {
            const float *rows[CONV_GEMM_TK];
            for (size_t o = 0; o < TK; o++) {
                const size_t kk = kt * TK + o;
                rows[o] = kk < kpg ? w + (g * kpg + kk) * cpg * RS : NULL;
            }
            for (size_t cb = 0; cb < cpg; cb += CB) {
                const size_t cn = cpg - cb < CB ? cpg - cb : CB;
                for (size_t t = 0; t < RS; t++)
                    for (size_t c = cb; c < cb + cn; c++)
                        for (size_t o = 0; o < TK; o++)
                            *out++ = rows[o] ? rows[o][c * RS + t] : 0.0f;
            }
        }
}

cs_status cs_cl_conv_pack_weight(const cs_conv2d_params *p, int in_channels, const cs_cl_conv_plan *plan,
                                 const float *w, const uint8_t *mask, float *out)
{
    const size_t K = (size_t)p->out_channels, cpg = (size_t)(in_channels / p->groups);
    const size_t RS = (size_t)p->kernel_h * (size_t)p->kernel_w;
    float *tmp = NULL;
    if (plan->weight_floats == 0)
        return cs_error(CS_ERR_INVALID_ARG, "cs_cl_conv_pack_weight: plan kind %d reads the original weight",
                        (int)plan->kind);
    if (plan->kind == CS_CL_CONV_WINOGRAD) {
        /* U = G g G^T per (k, c), as the (16 * K, C) weight of the 16-group GEMM. */
        tmp = malloc(16 * K * cpg * sizeof *tmp);
        if (!tmp)
            return cs_error(CS_ERR_NO_MEMORY, "out of host memory transforming a Winograd weight");
        for (size_t k = 0; k < K; k++)
            for (size_t c = 0; c < cpg; c++) {
                const float *g = w + (k * cpg + c) * 9;
                const int on = !mask || mask[k * cpg + c];
                float t[4][3]; /* G g */
                for (int j = 0; j < 3; j++) {
                    t[0][j] = g[0 * 3 + j];
                    t[1][j] = 0.5f * (g[0 * 3 + j] + g[1 * 3 + j] + g[2 * 3 + j]);
                    t[2][j] = 0.5f * (g[0 * 3 + j] - g[1 * 3 + j] + g[2 * 3 + j]);
                    t[3][j] = g[2 * 3 + j];
                }
                for (int i = 0; i < 4; i++) {
                    const float u[4] = {t[i][0], 0.5f * (t[i][0] + t[i][1] + t[i][2]),
                                        0.5f * (t[i][0] - t[i][1] + t[i][2]), t[i][2]};
                    for (int j = 0; j < 4; j++)
                        tmp[((size_t)(i * 4 + j) * K + k) * cpg + c] = on ? u[j] : 0.0f;
                }
            }
        pack_gemm_weight(&plan->gemm, tmp, out);
    } else {
        if (mask) {
            tmp = malloc(K * cpg * RS * sizeof *tmp);
            if (!tmp)
                return cs_error(CS_ERR_NO_MEMORY, "out of host memory masking a conv weight");
            for (size_t k = 0; k < K; k++)
                for (size_t c = 0; c < cpg; c++)
                    for (size_t t = 0; t < RS; t++)
                        tmp[(k * cpg + c) * RS + t] = mask[k * cpg + c] ? w[(k * cpg + c) * RS + t] : 0.0f;
            w = tmp;
        }
        pack_gemm_weight(&plan->gemm, w, out);
    }
    free(tmp);
    return CS_OK;
}

/* The plan of conv node `id` of g on cl, 0 when it is not one cs_cl_conv_prepare handles. */
static int node_plan(const cs_cl_context *cl, const cs_graph *g, int id, int batch, cs_cl_conv_plan *pl)
{
    const cs_node *n = &g->nodes[id];
    if (n->op != CS_OP_CONV2D || n->n_inputs < 1 || n->n_params > CS_CL_CONV_SLOT_PACKED)
        return 0;
    const cs_conv2d_params *p = &n->u.conv.p;
    const cs_shape in = g->nodes[n->inputs[0]].out;
    if (p->groups < 1 || in.c % p->groups != 0 || n->out.c % p->groups != 0)
        return 0;
    *pl = cs_cl_conv_plan_on(cl, p, in, n->out, batch);
    return 1;
}

/* The host weight of conv node `id` (node_plan holds for it) when it is one
 * pack_gemm_weight can read, (K, C/groups, R, S) with data, else NULL. */
static const cs_tensor *packable_weight(const cs_graph *g, int id)
{
    const cs_node *n = &g->nodes[id];
    const cs_conv2d_params *p = &n->u.conv.p;
    const cs_tensor *w = cs_node_tensor(n, "weight");
    const cs_shape in = g->nodes[n->inputs[0]].out;
    const size_t want = (size_t)n->out.c * (size_t)(in.c / p->groups) * (size_t)p->kernel_h * (size_t)p->kernel_w;
    return w && w->data && w->count == want ? w : NULL;
}

/* Whether cs_cl_conv_prepare packs the weight of conv node `id`: then it reads the
 * host weight, and the runs read only the packed one. */
size_t cs_cl_conv_packs_weight(const cs_cl_context *cl, const cs_graph *g, int id, int batch)
{
    cs_cl_conv_plan pl;
    if (!cl || !g || id < 0 || id >= g->n_nodes || conv_env_is("direct") || !node_plan(cl, g, id, batch, &pl) ||
        pl.weight_floats == 0)
        return 0;
    return packable_weight(g, id) ? pl.weight_floats : 0;
}

cs_status cs_cl_conv_prepare(cs_cl_context *cl, const cs_graph *g, int batch, cl_mem (*params)[CS_MAX_PARAMS])
{
    cs_status st = CS_OK;
    cl_int err = CL_SUCCESS;
    float *host = NULL;
    cl_mem scratch = NULL;
    size_t scratch_floats = 0;
    if (!cl || !g || !params || batch < 1)
        return cs_error(CS_ERR_INVALID_ARG, "cs_cl_conv_prepare: null argument or batch < 1");
    if (conv_env_is("direct"))
        return CS_OK;
    for (int id = 0; id < g->n_nodes; id++) {
        cs_cl_conv_plan pl;
        if (!node_plan(cl, g, id, batch, &pl))
            continue;
        const cs_node *n = &g->nodes[id];
        const cs_shape in = g->nodes[n->inputs[0]].out;
        const cs_conv2d_params *p = &n->u.conv.p;
        if (!cl->use_clblast && conv_env_is("im2col") && in.c != p->groups) {
            st = cs_error(CS_ERR_UNSUPPORTED,
                          "node '%s': CONVSCOPE_CONV=im2col needs CLBlast, which %s does not use; hint: %s",
                          n->name, cl->device_name,
                          CS_HAVE_CLBLAST ? "set CONVSCOPE_CLBLAST=1, or unset CONVSCOPE_CONV"
                                          : "this build has no CLBlast: install it and reconfigure with "
                                            "-Dclblast=enabled, or unset CONVSCOPE_CONV");
            goto cleanup;
        }
        if (pl.scratch_floats > scratch_floats)
            scratch_floats = pl.scratch_floats;
        if (pl.weight_floats == 0)
            continue;
        const cs_tensor *w = packable_weight(g, id);
        if (!w)
            continue; /* not a weight pack_weight can read: cs_cl_conv falls back to the direct kernels */
        host = malloc(pl.weight_floats * sizeof *host);
        if (!host) {
            st = cs_error(CS_ERR_NO_MEMORY, "out of host memory packing the weight of %s", n->name);
            goto cleanup;
        }
        if ((st = cs_cl_conv_pack_weight(p, in.c, &pl, w->data, n->u.conv.mask, host)) != CS_OK)
            goto cleanup;
        params[id][CS_CL_CONV_SLOT_PACKED] = cs_clCreateBuffer(
            cl->ctx, CL_MEM_READ_ONLY | CL_MEM_COPY_HOST_PTR, pl.weight_floats * sizeof *host, host, &err);
        free(host);
        host = NULL;
        if (err != CL_SUCCESS) {
            params[id][CS_CL_CONV_SLOT_PACKED] = NULL;
            st = cs_error(CS_ERR_NO_MEMORY, "cannot upload the packed weight of %s (%zu floats) to %s: %s",
                          n->name, pl.weight_floats, cl->device_name, cs_cl_error_name(err));
            goto cleanup;
        }
    }
    if (scratch_floats == 0)
        return CS_OK;
    scratch = cs_clCreateBuffer(cl->ctx, CL_MEM_READ_WRITE, scratch_floats * sizeof(float), NULL, &err);
    if (err != CL_SUCCESS) {
        scratch = NULL;
        st = cs_error(CS_ERR_NO_MEMORY,
                      "cannot allocate the conv scratch (%.1f MiB) on %s: %s; hint: use a smaller --batch",
                      (double)scratch_floats * 4.0 / 1048576.0, cl->device_name, cs_cl_error_name(err));
        goto cleanup;
    }
    /* Zero once: slack past a node's regions is read (never stored) by edge tiles. */
    const float zero = 0.0f;
    CS_CL_CHECK(cs_clEnqueueFillBuffer(cl->queue, scratch, &zero, sizeof zero, 0,
                                       scratch_floats * sizeof(float), 0, NULL, NULL));
    for (int id = 0; id < g->n_nodes; id++) {
        cs_cl_conv_plan pl;
        if (!node_plan(cl, g, id, batch, &pl) || pl.scratch_floats == 0)
            continue;
        CS_CL_CHECK(clRetainMemObject(scratch));
        params[id][CS_CL_CONV_SLOT_SCRATCH] = scratch;
    }
cleanup:
    free(host);
    if (scratch)
        clReleaseMemObject(scratch);
    return st;
}

cs_status cs_cl_conv_repack(cs_cl_context *cl, const cs_graph *g, int batch, cl_mem (*params)[CS_MAX_PARAMS])
{
    cs_status st = CS_OK;
    float *w = NULL, *packed = NULL;
    size_t w_cap = 0, packed_cap = 0;
    const cs_node *n = NULL; /* the conv being re-packed, for the message */
    for (int id = 0; id < g->n_nodes; id++) {
        cs_cl_conv_plan pl;
        if (!node_plan(cl, g, id, batch, &pl) || pl.weight_floats == 0 ||
            !params[id][CS_CL_CONV_SLOT_PACKED] || !params[id][0])
            continue;
        n = &g->nodes[id];
        const cs_shape in = g->nodes[n->inputs[0]].out;
        const size_t count = n->params[0].count;
        if (count > w_cap || pl.weight_floats > packed_cap) {
            free(w);
            free(packed);
            w_cap = count > w_cap ? count : w_cap;
            packed_cap = pl.weight_floats > packed_cap ? pl.weight_floats : packed_cap;
            w = malloc(w_cap * sizeof *w);
            packed = malloc(packed_cap * sizeof *packed);
            if (!w || !packed) {
                st = cs_error(CS_ERR_NO_MEMORY, "out of host memory");
                goto cleanup;
            }
        }
        CS_CL_CHECK(cs_clEnqueueReadBuffer(cl->queue, params[id][0], CL_TRUE, 0, count * sizeof *w, w, 0,
                                           NULL, NULL));
        if ((st = cs_cl_conv_pack_weight(&n->u.conv.p, in.c, &pl, w, n->u.conv.mask, packed)) != CS_OK)
            goto cleanup;
        CS_CL_CHECK(cs_clEnqueueWriteBuffer(cl->queue, params[id][CS_CL_CONV_SLOT_PACKED], CL_TRUE, 0,
                                            pl.weight_floats * sizeof *packed, packed, 0, NULL, NULL));
    }
cleanup:
    free(w);
    free(packed);
    if (st != CS_OK && n)
        cs_error_context(st, "re-packing the weight of %s", n->name);
    return st;
}

/* ------------------------------------------------------------------------ */
/* Launches                                                                 */
/* ------------------------------------------------------------------------ */

static size_t mem_size(cl_mem m)
{
    size_t bytes = 0;
    if (!m || clGetMemObjectInfo(m, CL_MEM_SIZE, sizeof bytes, &bytes, NULL) != CL_SUCCESS)
        return 0;
    return bytes;
}

static cs_status run_direct(const cs_cl_launch *L, int depthwise)
{
    const cs_conv2d_params *p = &L->node->u.conv.p;
    const cs_shape in = L->in_shape[0], out = L->node->out;
    cl_int C = in.c, H = in.h, W = in.w;
    cl_int K = out.c, OH = out.h, OW = out.w;
    cl_int R = p->kernel_h, S = p->kernel_w;
    cl_int sh = p->stride_h, sw = p->stride_w;
    cl_int pt = p->pad_top, pl = p->pad_left;
    cl_int dh = p->dilation_h, dw = p->dilation_w;
    cl_int groups = p->groups;
    cl_int has_bias = p->bias ? 1 : 0;
    cl_mem weight = L->params[0];
    cl_mem bias = has_bias ? L->params[1] : L->out /* not read */;
    const size_t batch = (size_t)L->batch;

    if (depthwise) {
        /* Each group reads one input channel: depthwise (times K/C). */
        cs_cl_arg a[] = {CS_ARG(L->in[0]), CS_ARG(weight), CS_ARG(bias), CS_ARG(L->out),  CS_ARG(C),
                         CS_ARG(H),        CS_ARG(W),      CS_ARG(K),    CS_ARG(OH),      CS_ARG(OW),
                         CS_ARG(R),        CS_ARG(S),      CS_ARG(sh),   CS_ARG(sw),      CS_ARG(pt),
                         CS_ARG(pl),       CS_ARG(dh),     CS_ARG(dw),   CS_ARG(has_bias)};
        const size_t global[3] = {div_up((size_t)OW, CONV_DW_OX_BLOCK), (size_t)OH, batch * (size_t)K};
        return cs_cl_run(L->cl, "conv2d_depthwise", a, (int)(sizeof a / sizeof a[0]), 3, global, NULL);
    }
    cs_cl_arg a[] = {CS_ARG(L->in[0]), CS_ARG(weight), CS_ARG(bias), CS_ARG(L->out), CS_ARG(C),
                     CS_ARG(H),        CS_ARG(W),      CS_ARG(K),    CS_ARG(OH),     CS_ARG(OW),
                     CS_ARG(R),        CS_ARG(S),      CS_ARG(sh),   CS_ARG(sw),     CS_ARG(pt),
                     CS_ARG(pl),       CS_ARG(dh),     CS_ARG(dw),   CS_ARG(groups), CS_ARG(has_bias)};
    const size_t kblocks = div_up((size_t)(K / groups), CONV_OC_BLOCK);
    const size_t global[3] = {div_up((size_t)OW, CONV_OX_BLOCK), (size_t)OH,
                              batch * (size_t)groups * kblocks};
    return cs_cl_run(L->cl, "conv2d_direct", a, (int)(sizeof a / sizeof a[0]), 3, global, NULL);
}

/* The direct kernels, then the plan's activation in place. */
static cs_status run_direct_act(const cs_cl_launch *L, int depthwise, int act)
{
    cs_status st = run_direct(L, depthwise);
    if (st != CS_OK || act == CS_CL_CONV_ACT_NONE)
        return st;
    cl_int count = (cl_int)cs_shape_count(L->node->out);
    cs_cl_arg a[] = {CS_ARG(L->out), CS_ARG(L->out), CS_ARG(count)};
    const size_t global[2] = {(size_t)count, (size_t)L->batch};
    return cs_cl_run(L->cl, "act_relu", a, (int)(sizeof a / sizeof a[0]), 2, global, NULL);
}

/* conv2d_pack_input: x into the scratch, as the plan lays it out. */
static cs_status run_pack(const cs_cl_launch *L, const cs_cl_conv_plan *pl, cl_mem xq)
{
    const cs_conv2d_params *p = &L->node->u.conv.p;
    const cs_shape in = L->in_shape[0];
    cl_int C = in.c, H = in.h, W = in.w, Hq = pl->Hq, Wq = pl->Wq;
    cl_int sh = p->stride_h, sw = p->stride_w, phases_h = pl->phases_h, phases_w = pl->phases_w;
    cl_int pt = p->pad_top, pleft = p->pad_left;
    cl_int img = pl->img_stride, chs = pl->ch_stride, phs = pl->phase_stride, x_row = pl->x_row;
    cs_cl_arg a[] = {CS_ARG(L->in[0]), CS_ARG(xq),   CS_ARG(C),     CS_ARG(H),   CS_ARG(W),
                     CS_ARG(Hq),       CS_ARG(Wq),   CS_ARG(sh),    CS_ARG(sw),  CS_ARG(phases_h),
                     CS_ARG(phases_w), CS_ARG(pt),   CS_ARG(pleft), CS_ARG(img), CS_ARG(chs),
                     CS_ARG(phs),      CS_ARG(x_row)};
    const size_t global[2] = {div_up((size_t)Hq, CONV_PACK_ROWS),
                              (size_t)L->batch * (size_t)C * (size_t)(phases_h * phases_w)};
    const size_t local[2] = {1, 1};
    return cs_cl_run(L->cl, "conv2d_pack_input", a, (int)(sizeof a / sizeof a[0]), 2, global, local);
}

/* conv2d_pack_panels: x into the scratch as panels of CONV_GEMM_TP positions. */
static cs_status run_pack_panels(const cs_cl_launch *L, const cs_cl_conv_plan *pl, cl_mem xp)
{
    const cs_conv2d_params *p = &L->node->u.conv.p;
    const cs_shape in = L->in_shape[0], out = L->node->out;
    cl_int C = in.c, H = in.h, W = in.w, OH = out.h, OW = out.w, sh = p->stride_h, sw = p->stride_w;
    cs_cl_arg a[] = {CS_ARG(L->in[0]), CS_ARG(xp), CS_ARG(C),  CS_ARG(H), CS_ARG(W),
                     CS_ARG(OH),       CS_ARG(OW), CS_ARG(sh), CS_ARG(sw)};
    const size_t global[3] = {(size_t)pl->gemm.n_tiles, (size_t)C, (size_t)L->batch};
    const size_t local[3] = {1, 1, 1};
    return cs_cl_run(L->cl, "conv2d_pack_panels", a, (int)(sizeof a / sizeof a[0]), 3, global, local);
}

/* conv2d_gemm over xq into y, with the node's bias when has_bias. */
static cs_status run_gemm(const cs_cl_launch *L, const cs_cl_conv_gemm *gm, cl_mem xq, cl_mem y,
                          cl_int has_bias, cl_int act)
{
    cl_int cpg = gm->cpg, kpg = gm->kpg, ktiles = gm->ktiles, K = gm->K, R = gm->R, S = gm->S;
    cl_int sh = gm->stride_h, sw = gm->stride_w, dh = gm->dil_h, dw = gm->dil_w;
    cl_int img = gm->img_stride, chs = gm->ch_stride, phs = gm->phase_stride, phases_w = gm->phases_w;
    cl_int x_row = gm->x_row, row_len = gm->row_len, tiles_per_row = gm->tiles_per_row;
    cl_int out_pitch = gm->out_pitch, OH = gm->OH, OW = gm->OW, tf = gm->tiles_first;
    cl_int n_tiles = gm->n_tiles, tiles_per_item = gm->tiles_per_item;
    cl_ulong x_offset = gm->x_offset;
    cl_mem bias = has_bias ? L->params[1] : L->out /* not read */;
    cs_cl_arg a[] = {CS_ARG(xq),
                     CS_ARG(L->params[CS_CL_CONV_SLOT_PACKED]),
                     CS_ARG(bias),
                     CS_ARG(y),
                     CS_ARG(cpg),
                     CS_ARG(kpg),
                     CS_ARG(ktiles),
                     CS_ARG(K),
                     CS_ARG(R),
                     CS_ARG(S),
                     CS_ARG(sh),
                     CS_ARG(sw),
                     CS_ARG(dh),
                     CS_ARG(dw),
                     CS_ARG(img),
                     CS_ARG(chs),
                     CS_ARG(phs),
                     CS_ARG(phases_w),
                     CS_ARG(x_row),
                     CS_ARG(row_len),
                     CS_ARG(tiles_per_row),
                     CS_ARG(n_tiles),
                     CS_ARG(tiles_per_item),
                     CS_ARG(out_pitch),
                     CS_ARG(OH),
                     CS_ARG(OW),
                     CS_ARG(tf),
                     CS_ARG(has_bias),
                     CS_ARG(act),
                     CS_ARG(x_offset)};
    const size_t kblocks = (size_t)gm->groups * (size_t)ktiles;
    const size_t tiles = div_up((size_t)n_tiles, (size_t)tiles_per_item);
    const size_t global[3] = {tf ? tiles : kblocks, tf ? kblocks : tiles, (size_t)L->batch};
    const size_t local[3] = {1, 1, 1};
    return cs_cl_run(L->cl, "conv2d_gemm", a, (int)(sizeof a / sizeof a[0]), 3, global, local);
}

static cs_status run_depthwise_packed(const cs_cl_launch *L, const cs_cl_conv_plan *pl, cl_mem xq)
{
    const cs_conv2d_params *p = &L->node->u.conv.p;
    const cs_shape in = L->in_shape[0], out = L->node->out;
    cl_int C = in.c, K = out.c, R = p->kernel_h, S = p->kernel_w, dh = p->dilation_h, dw = p->dilation_w;
    cl_int sh = p->stride_h, sw = p->stride_w;
    cl_int img = pl->img_stride, chs = pl->ch_stride, phs = pl->phase_stride, phases_w = pl->phases_w;
    cl_int Wq = pl->Wq, Pq = pl->gemm.row_len, OH = out.h, OW = out.w;
    cl_int has_bias = p->bias ? 1 : 0, act = pl->act;
    cl_mem bias = has_bias ? L->params[1] : L->out /* not read */;
    cs_cl_arg a[] = {CS_ARG(xq),       CS_ARG(L->params[0]),
                     CS_ARG(bias),     CS_ARG(L->out),
                     CS_ARG(C),        CS_ARG(K),
                     CS_ARG(R),        CS_ARG(S),
                     CS_ARG(sh),       CS_ARG(sw),
                     CS_ARG(dh),       CS_ARG(dw),
                     CS_ARG(img),      CS_ARG(chs),
                     CS_ARG(phs),      CS_ARG(phases_w),
                     CS_ARG(Wq),       CS_ARG(Pq),
                     CS_ARG(OH),       CS_ARG(OW),
                     CS_ARG(has_bias), CS_ARG(act)};
    const size_t global[3] = {(size_t)pl->gemm.tiles_per_row, (size_t)K, (size_t)L->batch};
    const size_t local[3] = {1, 1, 1};
    return cs_cl_run(L->cl, "conv2d_depthwise_packed", a, (int)(sizeof a / sizeof a[0]), 3, global, local);
}

static cs_status run_winograd(const cs_cl_launch *L, const cs_cl_conv_plan *pl, cl_mem scratch)
{
    cs_status st = CS_OK;
    const cs_conv2d_params *p = &L->node->u.conv.p;
    const cs_shape in = L->in_shape[0], out = L->node->out;
    cl_int C = in.c, K = out.c, TH = pl->wino_th, TW = pl->wino_tw, Tp = pl->wino_stride, Wq = pl->Wq;
    cl_int x_img = pl->img_stride, x_ch = pl->ch_stride, OH = out.h, OW = out.w;
    cl_int has_bias = p->bias ? 1 : 0, act = pl->act;
    cl_ulong v_offset = pl->v_offset;
    const size_t local[3] = {1, 1, 1};
    if ((st = run_pack(L, pl, scratch)) != CS_OK)
        return st;
    cs_cl_arg ai[] = {CS_ARG(scratch), CS_ARG(scratch), CS_ARG(C),     CS_ARG(TH),   CS_ARG(TW),
                      CS_ARG(Tp),      CS_ARG(Wq),      CS_ARG(x_img), CS_ARG(x_ch), CS_ARG(v_offset)};
    const size_t gi[3] = {(size_t)TH, (size_t)C, (size_t)L->batch};
    if ((st = cs_cl_run(L->cl, "conv2d_wino_input", ai, (int)(sizeof ai / sizeof ai[0]), 3, gi, local)) !=
        CS_OK)
        return st;
    if ((st = run_gemm(L, &pl->gemm, scratch, scratch, 0, CS_CL_CONV_ACT_NONE)) != CS_OK)
        return st;
    cl_mem bias = has_bias ? L->params[1] : L->out /* not read */;
    cs_cl_arg ao[] = {CS_ARG(scratch), CS_ARG(bias), CS_ARG(L->out), CS_ARG(K),        CS_ARG(TH), CS_ARG(TW),
                      CS_ARG(Tp),      CS_ARG(OH),   CS_ARG(OW),     CS_ARG(has_bias), CS_ARG(act)};
    const size_t go[3] = {(size_t)TH, (size_t)K, (size_t)L->batch};
    return cs_cl_run(L->cl, "conv2d_wino_output", ao, (int)(sizeof ao / sizeof ao[0]), 3, go, local);
}

#if CS_HAVE_CLBLAST
/* The im2col route, pl->col_images images at a time: conv2d_im2col into the scratch (unless
 * the GEMM reads x), then per group one strided-batched GEMM over the images, row-major,
 *     Y_n[g] (kpg x P) = W[g] (kpg x cpg*R*S) * col_n[g] (cpg*R*S x P),
 * straight into the NCHW output; then conv2d_bias_act when there is a bias or activation. */
static cs_status run_im2col(const cs_cl_launch *L, const cs_cl_conv_plan *pl, cl_mem scratch)
{
    cs_status st = CS_OK;
    cs_cl_context *c = L->cl;
    const cs_conv2d_params *p = &L->node->u.conv.p;
    const cs_shape in = L->in_shape[0], out = L->node->out;
    cl_int C = in.c, H = in.h, W = in.w, K = out.c, OH = out.h, OW = out.w, R = p->kernel_h, S = p->kernel_w;
    cl_int sh = p->stride_h, sw = p->stride_w, pt = p->pad_top, pleft = p->pad_left;
    cl_int dh = p->dilation_h, dw = p->dilation_w, has_bias = p->bias ? 1 : 0, act = pl->act;
    const size_t P = (size_t)OH * (size_t)OW, crs = (size_t)C * (size_t)R * (size_t)S;
    const size_t groups = (size_t)p->groups, kpg = (size_t)K / groups, kc = crs / groups; /* GEMM m, k */
    const int reads_x = im2col_reads_x(p);
    cl_mem cols = reads_x ? L->in[0] : scratch; /* (images, C*R*S, P) */
    const size_t gp = div_up(P, CONV_IM2COL_ROUND) * CONV_IM2COL_ROUND;
    for (cl_int n0 = 0; n0 < L->batch; n0 += pl->col_images) {
        const size_t images = (size_t)(L->batch - n0 < pl->col_images ? L->batch - n0 : pl->col_images);
        const size_t b0 = reads_x ? (size_t)n0 * crs * P : 0; /* image n0 in cols */
        if (!reads_x) {
            cs_cl_arg a[] = {CS_ARG(L->in[0]), CS_ARG(scratch), CS_ARG(C),  CS_ARG(H),
                             CS_ARG(W),        CS_ARG(OH),      CS_ARG(OW), CS_ARG(R),
                             CS_ARG(S),        CS_ARG(sh),      CS_ARG(sw), CS_ARG(pt),
                             CS_ARG(pleft),    CS_ARG(dh),      CS_ARG(dw), CS_ARG(n0)};
            const size_t global[3] = {gp, crs, images};
            if ((st = cs_cl_run(c, "conv2d_im2col", a, (int)(sizeof a / sizeof a[0]), 3, global, NULL)) !=
                CS_OK)
                return st;
        }
        for (size_t g = 0; g < groups; g++) {
            cl_event ev = NULL;
            if (c->profile && (st = cs_cl_event_reserve(c)) != CS_OK)
                return st;
            /* clang-format off */
            const CLBlastStatusCode code = CLBlastSgemmStridedBatched(
                CLBlastLayoutRowMajor, CLBlastTransposeNo, CLBlastTransposeNo, kpg, P, kc, 1.0f,
                L->params[0], g * kpg * kc, kc, 0,                              /* W[g], the same for every image */
                cols, b0 + g * kc * P, P, crs * P,                              /* col_n[g] */
                0.0f, L->out, ((size_t)n0 * (size_t)K + g * kpg) * P, P, (size_t)K * P, /* Y_n[g] */
                images, &c->queue, c->profile ? &ev : NULL);
            /* clang-format on */
            if (code != CLBlastSuccess)
                return cs_error(
                    CS_ERR_DEVICE,
                    "node '%s': CLBlastSgemmStridedBatched (%zu x %zu x %zu, %zu images, group %zu of "
                    "%zu) failed with status %d",
                    L->node->name, kpg, P, kc, images, g, groups, (int)code);
            if (c->profile && ev != NULL) {
                c->events[c->n_events].node = c->cur_node;
                c->events[c->n_events].event = ev;
                c->n_events++;
            }
        }
    }
    if (!has_bias && act == CS_CL_CONV_ACT_NONE)
        return CS_OK;
    cl_mem bias = has_bias ? L->params[1] : L->out /* not read */;
    cl_int Pi = (cl_int)P;
    cs_cl_arg a[] = {CS_ARG(L->out), CS_ARG(bias), CS_ARG(K), CS_ARG(Pi), CS_ARG(has_bias), CS_ARG(act)};
    const size_t global[3] = {gp, (size_t)K, (size_t)L->batch};
    return cs_cl_run(c, "conv2d_bias_act", a, (int)(sizeof a / sizeof a[0]), 3, global, NULL);
}
#endif

cs_status cs_cl_conv_run(const cs_cl_launch *L, const cs_cl_conv_plan *pl)
{
    cs_status st = CS_OK;
    const cs_node *node = L->node;
    const cs_conv2d_params *p = &node->u.conv.p;
    const int depthwise = L->in_shape[0].c == p->groups;
    cl_mem scratch = L->params[CS_CL_CONV_SLOT_SCRATCH];
    if (pl->act != CS_CL_CONV_ACT_NONE && pl->act != CS_CL_CONV_ACT_RELU)
        return cs_error(CS_ERR_INVALID_ARG,
                        "node '%s': conv epilogue activation %d is not one of CS_CL_CONV_ACT_*", node->name,
                        pl->act);
    const int prepared = (pl->weight_floats == 0 ||
                          mem_size(L->params[CS_CL_CONV_SLOT_PACKED]) >= pl->weight_floats * sizeof(float)) &&
                         (pl->scratch_floats == 0 || mem_size(scratch) >= pl->scratch_floats * sizeof(float));
    if (!prepared && !L->params[0])
        return cs_error(CS_ERR_STATE,
                        "node '%s': the packed weight of its plan is missing and the plain weight was not "
                        "uploaded (inference sessions keep only the packed one)",
                        node->name);
    switch (pl->kind) {
    case CS_CL_CONV_GEMM:
        if (prepared)
            return run_gemm(L, &pl->gemm, L->in[0], L->out, p->bias ? 1 : 0, pl->act);
        break;
    case CS_CL_CONV_GEMM_PACKED:
        if (prepared) {
            if ((st = run_pack(L, pl, scratch)) != CS_OK)
                return st;
            return run_gemm(L, &pl->gemm, scratch, L->out, p->bias ? 1 : 0, pl->act);
        }
        break;
    case CS_CL_CONV_GEMM_PANELS:
        if (prepared) {
            if ((st = run_pack_panels(L, pl, scratch)) != CS_OK)
                return st;
            return run_gemm(L, &pl->gemm, scratch, L->out, p->bias ? 1 : 0, pl->act);
        }
        break;
    case CS_CL_CONV_DEPTHWISE_PACKED:
        if (prepared) {
            if ((st = run_pack(L, pl, scratch)) != CS_OK)
                return st;
            return run_depthwise_packed(L, pl, scratch);
        }
        break;
    case CS_CL_CONV_WINOGRAD:
        if (prepared)
            return run_winograd(L, pl, scratch);
        break;
    case CS_CL_CONV_IM2COL:
#if CS_HAVE_CLBLAST
        if (prepared && L->cl->use_clblast)
            return run_im2col(L, pl, scratch);
#endif
        break;
    case CS_CL_CONV_DEPTHWISE: return run_direct_act(L, depthwise, pl->act);
    default: return run_direct_act(L, 0, pl->act);
    }
    /* Not prepared for this plan (or CONVSCOPE_CONV=direct): the direct kernels. */
    return run_direct_act(L, depthwise, pl->act);
}

cs_status cs_cl_conv(const cs_cl_launch *L)
{
    const cs_node *node = L->node;
    if (node->op != CS_OP_CONV2D)
        return cs_error(CS_ERR_UNSUPPORTED, "node '%s': op %s is not a convolution (cs_cl_conv)", node->name,
                        cs_op_name(node->op));
    const cs_conv2d_params *p = &node->u.conv.p;
    const cs_shape in = L->in_shape[0];
    const cs_shape out = node->out;
    if (p->groups < 1 || in.c % p->groups != 0 || out.c % p->groups != 0)
        return cs_error(CS_ERR_SHAPE, "node '%s': groups %d do not divide %d input / %d output channels",
                        node->name, p->groups, in.c, out.c);
    cs_cl_conv_plan pl = cs_cl_conv_plan_on(L->cl, p, in, out, L->batch);
    pl.act = node->u.conv.relu ? CS_CL_CONV_ACT_RELU : CS_CL_CONV_ACT_NONE; /* inference fusion */
    return cs_cl_conv_run(L, &pl);
}
