/* 2-D convolution kernels (graph.h CONV2D). Fast paths (src/opencl/cl_conv.c picks one per
 * layer): an implicit GEMM over a packed input (conv2d_pack_input / conv2d_pack_panels, then
 * conv2d_gemm), Winograd F(2x2, 3x3) on top of the same GEMM, and a packed depthwise kernel.
 * On GPUs: conv2d_im2col, a CLBlast GEMM and conv2d_bias_act.
 * Fallbacks for any shape: conv2d_direct and conv2d_depthwise, the original kernels.
 * Shapes are kernel arguments; the blocking is tunable with -D (mirrored in the host code).
 */

#ifndef CONV_OC_BLOCK
#define CONV_OC_BLOCK 4 // output channels per work-item (all in one group)
#endif
#ifndef CONV_OX_BLOCK
#define CONV_OX_BLOCK 4 // output columns per work-item, interleaved ox = gid0 + j * ceil(OW / CONV_OX_BLOCK)
#endif
#ifndef CONV_DW_OX_BLOCK
#define CONV_DW_OX_BLOCK 4 // output columns per work-item in conv2d_depthwise, interleaved the same way
#endif

/* General convolution. Work-item (gx, oy, z) with z = (n * groups + g) * kblocks + kb
 * computes output channels g*K/groups + kb*CONV_OC_BLOCK + [0, CONV_OC_BLOCK) (clipped
 * to the group) at row oy, columns gx + j * nx for j in [0, CONV_OX_BLOCK) (clipped to
 * OW), where nx = ceil(OW / CONV_OX_BLOCK) and kblocks = ceil((K/groups) / CONV_OC_BLOCK).
 * Adjacent work-items in dimension 0 read adjacent input columns (stride_w apart).
 * Global size (nx, OH, N * groups * kblocks). */
__kernel void conv2d_direct(__global const float *x,    // (N, C, H, W)
                            __global const float *w,    // (K, C/groups, R, S)
                            __global const float *bias, // (K), read only when has_bias
                            __global float *y,          // (N, K, OH, OW)
                            int C, int H, int W,
                            int K, int OH, int OW,
                            int R, int S,
                            int stride_h, int stride_w,
                            int pad_top, int pad_left,
                            int dil_h, int dil_w,
                            int groups, int has_bias)
{
    const int nx = (OW + CONV_OX_BLOCK - 1) / CONV_OX_BLOCK;
    const int gx = (int)get_global_id(0);
    const int oy = (int)get_global_id(1);
    const int z = (int)get_global_id(2);
    const int cpg = C / groups;                                 // input channels per group
    const int kpg = K / groups;                                 // output channels per group
    const int kblocks = (kpg + CONV_OC_BLOCK - 1) / CONV_OC_BLOCK;
    const int kb = z % kblocks;
    const int g = (z / kblocks) % groups;
    const int n = z / (kblocks * groups);
    if (gx >= nx || oy >= OH)
        return;

    const int k0 = g * kpg + kb * CONV_OC_BLOCK;                // first output channel
    const int k_last = g * kpg + kpg - 1;                       // last output channel of the group
    const int RS = R * S;
    __global const float *xg = x + ((size_t)n * (size_t)C + (size_t)(g * cpg)) * (size_t)H * (size_t)W;

    float acc[CONV_OC_BLOCK][CONV_OX_BLOCK];
    __global const float *wk[CONV_OC_BLOCK];                    // weight rows (C/groups, R, S)
    #pragma unroll
    for (int o = 0; o < CONV_OC_BLOCK; o++) {
        const int k = min(k0 + o, k_last);                      // past the group: recompute the last, not stored
        wk[o] = w + (size_t)k * (size_t)cpg * (size_t)RS;
        const float b = has_bias ? bias[k] : 0.0f;
        #pragma unroll
        for (int j = 0; j < CONV_OX_BLOCK; j++)
            acc[o][j] = b;
    }

    int ix0[CONV_OX_BLOCK];                                     // input column of tap s = 0
    #pragma unroll
    for (int j = 0; j < CONV_OX_BLOCK; j++)
        ix0[j] = (gx + j * nx) * stride_w - pad_left;

    for (int ci = 0; ci < cpg; ci++) {
        __global const float *xc = xg + (size_t)ci * (size_t)H * (size_t)W;
        for (int r = 0; r < R; r++) {
            const int iy = oy * stride_h - pad_top + r * dil_h;
            if (iy < 0 || iy >= H)
                continue;
            __global const float *xrow = xc + iy * W;
            const int wofs = ci * RS + r * S;
            for (int s = 0; s < S; s++) {
                float xv[CONV_OX_BLOCK];
                #pragma unroll
                for (int j = 0; j < CONV_OX_BLOCK; j++) {
                    const int ix = ix0[j] + s * dil_w;
                    xv[j] = (ix >= 0 && ix < W) ? xrow[ix] : 0.0f;
                }
                #pragma unroll
                for (int o = 0; o < CONV_OC_BLOCK; o++) {
                    const float wv = wk[o][wofs + s];
                    #pragma unroll
                    for (int j = 0; j < CONV_OX_BLOCK; j++)
                        acc[o][j] += wv * xv[j];
                }
            }
        }
    }

    __global float *yn = y + (size_t)n * (size_t)K * (size_t)OH * (size_t)OW;
    #pragma unroll
    for (int o = 0; o < CONV_OC_BLOCK; o++) {
        const int k = k0 + o;
        if (k > k_last)
            break;
        __global float *yrow = yn + ((size_t)k * (size_t)OH + (size_t)oy) * (size_t)OW;
        #pragma unroll
        for (int j = 0; j < CONV_OX_BLOCK; j++) {
            const int ox = gx + j * nx;
            if (ox < OW)
                yrow[ox] = acc[o][j];
        }
    }
}

/* Convolution whose groups each read one input channel (C/groups == 1: depthwise,
 * with K/groups output channels per input channel). Work-item (gx, oy, n*K + k)
 * computes output channel k at row oy, columns gx + j * nx for j in
 * [0, CONV_DW_OX_BLOCK), nx = ceil(OW / CONV_DW_OX_BLOCK).
 * Global size (nx, OH, N * K). */
__kernel void conv2d_depthwise(__global const float *x,    // (N, C, H, W)
                               __global const float *w,    // (K, 1, R, S)
                               __global const float *bias, // (K), read only when has_bias
                               __global float *y,          // (N, K, OH, OW)
                               int C, int H, int W,
                               int K, int OH, int OW,
                               int R, int S,
                               int stride_h, int stride_w,
                               int pad_top, int pad_left,
                               int dil_h, int dil_w,
                               int has_bias)
{
    const int nx = (OW + CONV_DW_OX_BLOCK - 1) / CONV_DW_OX_BLOCK;
    const int gx = (int)get_global_id(0);
    const int oy = (int)get_global_id(1);
    const int z = (int)get_global_id(2);
    const int k = z % K;
    const int n = z / K;
    if (gx >= nx || oy >= OH)
        return;

    const int c = k / (K / C);                                  // groups == C here
    __global const float *xc = x + ((size_t)n * (size_t)C + (size_t)c) * (size_t)H * (size_t)W;
    __global const float *wk = w + (size_t)k * (size_t)R * (size_t)S;

    const float b = has_bias ? bias[k] : 0.0f;
    float acc[CONV_DW_OX_BLOCK];
    int ix0[CONV_DW_OX_BLOCK];
    #pragma unroll
    for (int j = 0; j < CONV_DW_OX_BLOCK; j++) {
        acc[j] = b;
        ix0[j] = (gx + j * nx) * stride_w - pad_left;
    }

    for (int r = 0; r < R; r++) {
        const int iy = oy * stride_h - pad_top + r * dil_h;
        if (iy < 0 || iy >= H)
            continue;
        __global const float *xrow = xc + iy * W;
        for (int s = 0; s < S; s++) {
            const float wv = wk[r * S + s];
            #pragma unroll
            for (int j = 0; j < CONV_DW_OX_BLOCK; j++) {
                const int ix = ix0[j] + s * dil_w;
                const float xv = (ix >= 0 && ix < W) ? xrow[ix] : 0.0f;
                acc[j] += wv * xv;
            }
        }
    }

    __global float *yrow = y + (((size_t)n * (size_t)K + (size_t)k) * (size_t)OH + (size_t)oy) * (size_t)OW;
    #pragma unroll
    for (int j = 0; j < CONV_DW_OX_BLOCK; j++) {
        const int ox = gx + j * nx;
        if (ox < OW)
            yrow[ox] = acc[j];
    }
}

/* ------------------------------------------------------------------------ */
/* Implicit GEMM over a packed input (the fast path on CPUs)                */
/* ------------------------------------------------------------------------ */

/* For one image and group the convolution is the GEMM
 *     Y[k, (oy, ox)] = sum over (r, s, c) of W[k, c, r, s] * Xq[c, phase(r, s), oy + qy(r), ox + qx(s)]
 * over Xq, the input zero-padded and, for stride > 1, split into stride phases:
 *     Xq[c, (py, px), qy, qx] = x[c, qy * stride_h + py - pad_top, qx * stride_w + px - pad_left]
 * so that every tap reads Xq at unit stride along ox: tap (r, s) reads phase
 * ((r*dil_h) % stride_h, (s*dil_w) % stride_w) at qy(r) = (r*dil_h) / stride_h and
 * qx(s) = (s*dil_w) / stride_w. Xq element (c, ph, qy, qx) of image n lives at
 *     n*img_stride + c*ch_stride + ph*phase_stride + qy*x_row + qx
 * and comes in two layouts:
 *  - flat (CHW planes, x_row = Wq): output positions run over the padded grid, p = oy*Wq + ox,
 *    as one row of Pq = OH*Wq positions (columns ox >= OW are computed, never stored); tiles
 *    cross image rows, so narrow images waste little. A 1x1, stride-1, unpadded convolution
 *    reads x itself this way (Wq = W).
 *  - rows (HCW: x_row = C*phases*Wq, ch_stride = phases*Wq): each output row is a row of OW
 *    positions; the channel loop walks one contiguous stretch of memory per tap row, which
 *    the hardware prefetchers follow (large images whose planes do not stay in cache).
 *  - panels (1x1 unpadded convolutions, any stride: x_row = C*CONV_GEMM_TP, ch_stride =
 *    CONV_GEMM_TP): output positions p in blocks of CONV_GEMM_TP, each block's channels one
 *    after the other, so a tile's channel loop reads one aligned cache line after the other
 *    (conv2d_pack_panels builds it).
 * conv2d_pack_input builds Xq; conv2d_gemm holds a CONV_GEMM_TK x CONV_GEMM_TP block of Y in
 * registers and streams packed weights (one float per output channel and tap) and unit-stride
 * vectors of Xq. No barriers, no local memory, no per-element branches in the inner loop. */

#ifndef CONV_GEMM_TK
#define CONV_GEMM_TK 6 // output channels per work-item in conv2d_gemm (rows of the register block)
#endif
#ifndef CONV_GEMM_TP
#define CONV_GEMM_TP 16 // output positions per work-item in conv2d_gemm, a multiple of CONV_GEMM_VW
#endif
#ifndef CONV_GEMM_CB
#define CONV_GEMM_CB 16 // input channels per block in conv2d_gemm: all taps of a block run before the next
#endif
#ifndef CONV_GEMM_VW
#define CONV_GEMM_VW 8 // vector width of conv2d_gemm's loads and accumulators: 4, 8 or 16
#endif

#if CONV_GEMM_VW == 4
#define CONV_GEMM_VEC float4
#define CONV_GEMM_VLOAD vload4
#define CONV_GEMM_VSTORE vstore4
#elif CONV_GEMM_VW == 8
#define CONV_GEMM_VEC float8
#define CONV_GEMM_VLOAD vload8
#define CONV_GEMM_VSTORE vstore8
#elif CONV_GEMM_VW == 16
#define CONV_GEMM_VEC float16
#define CONV_GEMM_VLOAD vload16
#define CONV_GEMM_VSTORE vstore16
#else
#error "CONV_GEMM_VW must be 4, 8 or 16"
#endif
#if CONV_GEMM_TP % CONV_GEMM_VW != 0
#error "CONV_GEMM_TP must be a multiple of CONV_GEMM_VW"
#endif
#define CONV_GEMM_NV (CONV_GEMM_TP / CONV_GEMM_VW) // vectors per accumulator row

/* Multiply-add of the inner loops: fused where the device has FMA in hardware (PoCL leaves
 * mad unfused without -cl-mad-enable, which halves the peak), else mad. */
#if defined(FP_FAST_FMAF) || defined(__FMA__)
#define CONV_MAD(a, b, c) fma((a), (b), (c))
#else
#define CONV_MAD(a, b, c) mad((a), (b), (c))
#endif

#ifndef CONV_PACK_ROWS
#define CONV_PACK_ROWS 8 // rows of one phase plane per work-item in conv2d_pack_input
#endif

/* Xq from x, CONV_PACK_ROWS rows per work-item: work-item (b, (n*C + c) * phases + ph) with
 * ph = py * phases_w + px writes rows b*CONV_PACK_ROWS + [0, CONV_PACK_ROWS) (clipped to Hq) of
 * phase (py, px) of channel c of image n, zeros where they fall in the padding. Xq strides as
 * in conv2d_gemm. Global size (ceil(Hq / CONV_PACK_ROWS), N * C * phases_h * phases_w),
 * local size (1, 1): each row is a plain loop the compiler vectorises. */
__kernel void conv2d_pack_input(__global const float *x, // (N, C, H, W)
                                __global float *xq,      // packed input (flat or rows layout)
                                int C, int H, int W, int Hq, int Wq,
                                int stride_h, int stride_w,
                                int phases_h, int phases_w,
                                int pad_top, int pad_left,
                                int img_stride, int ch_stride, int phase_stride, int x_row)
{
    const int qy0 = (int)get_global_id(0) * CONV_PACK_ROWS;
    const int z = (int)get_global_id(1);                        // (n*C + c) * phases + ph
    const int phases = phases_h * phases_w;
    const int ph = z % phases;
    const int nc = z / phases;                                  // n*C + c
    const int n = nc / C;
    const int c = nc - n * C;
    const int py = ph / phases_w;
    const int px = ph - py * phases_w;
    /* Columns [lo, hi) read x, the same in every row. */
    const int first = pad_left - px;                            // qx * stride_w >= first
    const int last = W - 1 + pad_left - px;                     // qx * stride_w <= last
    const int lo = min(first > 0 ? (first + stride_w - 1) / stride_w : 0, Wq);
    const int hi = clamp(last >= 0 ? last / stride_w + 1 : 0, lo, Wq);
    const int ix0 = px - pad_left;                              // input column of qx = 0
    __global const float *xc = x + (size_t)nc * (size_t)H * (size_t)W;
    __global float *dc = xq + (size_t)n * (size_t)img_stride + (size_t)c * (size_t)ch_stride +
                         (size_t)ph * (size_t)phase_stride;
    const int qy_end = min(qy0 + CONV_PACK_ROWS, Hq);
    for (int qy = qy0; qy < qy_end; qy++) {
        __global float *dst = dc + (size_t)qy * (size_t)x_row;
        const int iy = qy * stride_h + py - pad_top;
        const int rlo = (iy >= 0 && iy < H) ? lo : Wq;          // whole row of padding: all zeros
        const int rhi = (iy >= 0 && iy < H) ? hi : Wq;
        __global const float *src = xc + (size_t)max(iy, 0) * (size_t)W;
        for (int qx = 0; qx < rlo; qx++)
            dst[qx] = 0.0f;
        if (stride_w == 1) {
            for (int qx = rlo; qx < rhi; qx++)
                dst[qx] = src[qx + ix0];
        } else {
            for (int qx = rlo; qx < rhi; qx++)
                dst[qx] = src[qx * stride_w + ix0];
        }
        for (int qx = rhi; qx < Wq; qx++)
            dst[qx] = 0.0f;
    }
}

/* Panels for a 1x1 unpadded convolution of stride (stride_h, stride_w): work-item (pb, c, n)
 * writes xp[n, pb, c, j] = x[n, c, oy * stride_h, ox * stride_w] for the output positions
 * p = pb * CONV_GEMM_TP + j = oy * OW + ox, zero past OH * OW.
 * Global size (ceil(OH * OW / CONV_GEMM_TP), C, N), local size (1, 1, 1). */
__kernel void conv2d_pack_panels(__global const float *x, // (N, C, H, W)
                                 __global float *xp,      // (N, ceil(OH*OW / CONV_GEMM_TP), C, CONV_GEMM_TP)
                                 int C, int H, int W, int OH, int OW,
                                 int stride_h, int stride_w)
{
    const int pb = (int)get_global_id(0);
    const int c = (int)get_global_id(1);
    const int n = (int)get_global_id(2);
    const int P = OH * OW;
    const int blocks = (P + CONV_GEMM_TP - 1) / CONV_GEMM_TP;
    const int p0 = pb * CONV_GEMM_TP;
    __global const float *xc = x + ((size_t)n * (size_t)C + (size_t)c) * (size_t)H * (size_t)W;
    __global float *dst = xp + (((size_t)n * (size_t)blocks + (size_t)pb) * (size_t)C + (size_t)c) * CONV_GEMM_TP;
    if (stride_h == 1 && stride_w == 1 && p0 + CONV_GEMM_TP <= P) {
        #pragma unroll
        for (int i = 0; i < CONV_GEMM_NV; i++)
            CONV_GEMM_VSTORE(CONV_GEMM_VLOAD(0, xc + p0 + i * CONV_GEMM_VW), i, dst);
        return;
    }
    int oy = p0 / OW;
    int ox = p0 - oy * OW;
    for (int j = 0; j < CONV_GEMM_TP; j++) {
        dst[j] = p0 + j < P ? xc[(size_t)(oy * stride_h) * (size_t)W + (size_t)(ox * stride_w)] : 0.0f;
        if (++ox == OW) {
            ox = 0;
            oy++;
        }
    }
}

/* Work-item (g * ktiles + kt, item, n) computes output channels g*kpg + kt*CONV_GEMM_TK +
 * [0, CONV_GEMM_TK) (clipped to the group) of image n for the position tiles
 * item * tiles_per_item + [0, tiles_per_item) (clipped to n_tiles = rows * tiles_per_row),
 * one after the other so that each reuses the weight panel from cache.
 * A tile is CONV_GEMM_TP consecutive positions of one position row: row = tile / tiles_per_row,
 * columns col0 + [0, CONV_GEMM_TP), col0 = (tile % tiles_per_row) * CONV_GEMM_TP. Position
 * (row, col) is output q = row * row_len + col at oy = q / out_pitch, ox = q % out_pitch,
 * stored when ox < OW and oy < OH. When row_len >= CONV_GEMM_TP the last tile of a row is moved back to end
 * at row_len (it reads nothing past the row) and stores only its own columns.
 * The host packs the weights in the order the loops read them: for each (g, kt), channel blocks
 * of CONV_GEMM_CB channels (the last one shorter), taps r, s, channels c of the block, then
 * CONV_GEMM_TK floats w[g*kpg + kt*CONV_GEMM_TK + o, c, r, s] (zero past the group).
 * act: 0 none, 1 ReLU after the bias. Global size (groups * ktiles,
 * ceil(n_tiles / tiles_per_item), N), or with tiles_first = 1 the first two swapped (work-items
 * that share a weight panel run back to back: weights that outweigh a cached input);
 * local size (1, 1, 1). */
__kernel void conv2d_gemm(__global const float *xq,   // packed input (see above), from x_offset on
                          __global const float *wp,   // (groups, ktiles, R, S, C/groups, CONV_GEMM_TK)
                          __global const float *bias, // (K), read only when has_bias
                          __global float *y,          // (N, K, OH, OW)
                          int cpg, int kpg, int ktiles, int K,
                          int R, int S,
                          int stride_h, int stride_w,
                          int dil_h, int dil_w,
                          int img_stride, int ch_stride, int phase_stride, int phases_w, int x_row,
                          int row_len, int tiles_per_row, int n_tiles, int tiles_per_item, int out_pitch,
                          int OH, int OW, int tiles_first,
                          int has_bias, int act, ulong x_offset)
{
    const int z = (int)get_global_id(tiles_first);              // g * ktiles + kt
    const int item = (int)get_global_id(1 - tiles_first);
    const int n = (int)get_global_id(2);
    const int g = z / ktiles;
    const int kt = z - g * ktiles;
    const int k0 = g * kpg + kt * CONV_GEMM_TK;                 // first output channel
    const int kn = min(CONV_GEMM_TK, kpg - kt * CONV_GEMM_TK);  // channels of this block in the group
    const size_t plane = (size_t)OH * (size_t)OW;
    __global const float *wz = wp + (size_t)z * (size_t)(R * S * cpg * CONV_GEMM_TK);
    __global float *yk = y + ((size_t)n * (size_t)K + (size_t)k0) * plane;
    const int tile_end = min(n_tiles, (item + 1) * tiles_per_item);

    /* Consecutive tiles reuse the weight panel from cache. */
    for (int tile = item * tiles_per_item; tile < tile_end; tile++) {
        const int row = tile / tiles_per_row;
        const int cstore = (tile - row * tiles_per_row) * CONV_GEMM_TP; // first column this tile stores
        const int col0 = (cstore + CONV_GEMM_TP > row_len && row_len >= CONV_GEMM_TP) ? row_len - CONV_GEMM_TP
                                                                                      : cstore;
        __global const float *xb = xq + x_offset + (size_t)n * (size_t)img_stride +
                                   (size_t)(g * cpg) * (size_t)ch_stride + (size_t)row * (size_t)x_row +
                                   (size_t)col0;
        __global const float *wb = wz;

        CONV_GEMM_VEC acc[CONV_GEMM_TK][CONV_GEMM_NV];
        #pragma unroll
        for (int o = 0; o < CONV_GEMM_TK; o++) {
            #pragma unroll
            for (int i = 0; i < CONV_GEMM_NV; i++)
                acc[o][i] = (CONV_GEMM_VEC)(0.0f);
        }

        /* Channels in blocks of CONV_GEMM_CB, all taps of a block before the next: the block's
         * input rows stay in L1 across the taps. Weights are read in exactly this order. */
        for (int cb = 0; cb < cpg; cb += CONV_GEMM_CB) {
            const int cn = min(CONV_GEMM_CB, cpg - cb);
            __global const float *xblk = xb + (size_t)cb * (size_t)ch_stride;
            int py = 0, qy = 0;                                 // phase and row of tap r
            for (int r = 0; r < R; r++) {
                const int row_off = py * phases_w * phase_stride + qy * x_row;
                int px = 0, qx = 0;                             // phase and column of tap s
                for (int s = 0; s < S; s++) {
                    __global const float *xc = xblk + row_off + px * phase_stride + qx;
                    for (int c = 0; c < cn; c++) {
                        CONV_GEMM_VEC xv[CONV_GEMM_NV];
                        #pragma unroll
                        for (int i = 0; i < CONV_GEMM_NV; i++)
                            xv[i] = CONV_GEMM_VLOAD(i, xc);
                        #pragma unroll
                        for (int o = 0; o < CONV_GEMM_TK; o++) {
                            const CONV_GEMM_VEC wv = (CONV_GEMM_VEC)(wb[o]);
                            #pragma unroll
                            for (int i = 0; i < CONV_GEMM_NV; i++)
                                acc[o][i] = CONV_MAD(wv, xv[i], acc[o][i]);
                        }
                        xc += ch_stride;
                        wb += CONV_GEMM_TK;
                    }
                    for (px += dil_w; px >= stride_w; px -= stride_w)
                        qx++;
                }
                for (py += dil_h; py >= stride_h; py -= stride_h)
                    qy++;
            }
        }

        /* Epilogue: bias, activation, store the positions that are real outputs. */
        const int q0 = row * row_len + col0;                    // output position of column col0
        int oy = q0 / out_pitch;
        int ox = q0 - oy * out_pitch;
        if (col0 == cstore && col0 + CONV_GEMM_TP <= row_len && oy < OH &&
            (ox + CONV_GEMM_TP <= OW || (out_pitch == OW && q0 + CONV_GEMM_TP <= OH * OW))) {
            /* A whole tile of real outputs in one output row (or, out_pitch == OW, rows that
             * follow each other in y): outputs oy * OW + ox + [0, TP). */
            const int at = oy * OW + ox;
            #pragma unroll
            for (int o = 0; o < CONV_GEMM_TK; o++) {
                if (o < kn) {
                    const CONV_GEMM_VEC b = (CONV_GEMM_VEC)(has_bias ? bias[k0 + o] : 0.0f);
                    #pragma unroll
                    for (int i = 0; i < CONV_GEMM_NV; i++) {
                        CONV_GEMM_VEC v = acc[o][i] + b;
                        if (act == 1)
                            v = fmax(v, (CONV_GEMM_VEC)(0.0f));
                        CONV_GEMM_VSTORE(v, 0, yk + (size_t)o * plane + (size_t)(at + i * CONV_GEMM_VW));
                    }
                }
            }
            continue;
        }
        int dst[CONV_GEMM_TP];                                  // output offset in the plane, -1: none
        #pragma unroll
        for (int j = 0; j < CONV_GEMM_TP; j++) {
            dst[j] = (col0 + j >= cstore && col0 + j < row_len && ox < OW && oy < OH) ? oy * OW + ox : -1;
            if (++ox == out_pitch) {
                ox = 0;
                oy++;
            }
        }
        #pragma unroll
        for (int o = 0; o < CONV_GEMM_TK; o++) {
            if (o < kn) {
                const float b = has_bias ? bias[k0 + o] : 0.0f;
                float v[CONV_GEMM_TP];
                #pragma unroll
                for (int i = 0; i < CONV_GEMM_NV; i++)
                    CONV_GEMM_VSTORE(acc[o][i], i, v);
                __global float *yo = yk + (size_t)o * plane;
                #pragma unroll
                for (int j = 0; j < CONV_GEMM_TP; j++) {
                    float t = v[j] + b;
                    if (act == 1)
                        t = fmax(t, 0.0f);
                    if (dst[j] >= 0)
                        yo[dst[j]] = t;
                }
            }
        }
    }
}

/* ------------------------------------------------------------------------ */
/* Depthwise over a packed input                                            */
/* ------------------------------------------------------------------------ */

#ifndef CONV_DW_TP
#define CONV_DW_TP 64 // output positions per work-item in conv2d_depthwise_packed, a multiple of CONV_GEMM_VW
#endif
#define CONV_DW_NV (CONV_DW_TP / CONV_GEMM_VW)

/* Convolution whose groups each read one input channel (C/groups == 1, K/C output channels
 * per input channel), over Xq in the flat layout (see conv2d_gemm: padded, stride-phase
 * split planes, positions p = oy * Wq + ox). Work-item (tile, k, n) computes output channel k
 * at positions tile * CONV_DW_TP + [0, CONV_DW_TP), moved back to end at Pq when Pq >=
 * CONV_DW_TP (storing only its own positions): unit-stride vector loads per tap, no branches
 * in the tap loop. act: 0 none, 1 ReLU after the bias.
 * Global size (ceil(Pq / CONV_DW_TP), K, N), local size (1, 1, 1). */
__kernel void conv2d_depthwise_packed(__global const float *xq,   // packed input, flat layout
                                      __global const float *w,    // (K, 1, R, S)
                                      __global const float *bias, // (K), read only when has_bias
                                      __global float *y,          // (N, K, OH, OW)
                                      int C, int K, int R, int S,
                                      int stride_h, int stride_w,
                                      int dil_h, int dil_w,
                                      int img_stride, int ch_stride, int phase_stride, int phases_w,
                                      int Wq, int Pq, int OH, int OW,
                                      int has_bias, int act)
{
    const int tile = (int)get_global_id(0);
    const int k = (int)get_global_id(1);
    const int n = (int)get_global_id(2);
    const int c = k / (K / C);                                  // the input channel of k
    const int pstore = tile * CONV_DW_TP;                       // first position this tile stores
    const int p0 = (pstore + CONV_DW_TP > Pq && Pq >= CONV_DW_TP) ? Pq - CONV_DW_TP : pstore;
    __global const float *xb = xq + (size_t)n * (size_t)img_stride + (size_t)c * (size_t)ch_stride + p0;
    __global const float *wk = w + (size_t)k * (size_t)(R * S);

    CONV_GEMM_VEC acc[CONV_DW_NV];
    #pragma unroll
    for (int i = 0; i < CONV_DW_NV; i++)
        acc[i] = (CONV_GEMM_VEC)(0.0f);
    int py = 0, qy = 0;                                         // phase and row of tap r
    for (int r = 0; r < R; r++) {
        const int row_off = py * phases_w * phase_stride + qy * Wq;
        int px = 0, qx = 0;                                     // phase and column of tap s
        for (int s = 0; s < S; s++) {
            __global const float *xc = xb + row_off + px * phase_stride + qx;
            const CONV_GEMM_VEC wv = (CONV_GEMM_VEC)(wk[r * S + s]);
            #pragma unroll
            for (int i = 0; i < CONV_DW_NV; i++)
                acc[i] = CONV_MAD(wv, CONV_GEMM_VLOAD(i, xc), acc[i]);
            for (px += dil_w; px >= stride_w; px -= stride_w)
                qx++;
        }
        for (py += dil_h; py >= stride_h; py -= stride_h)
            qy++;
    }

    const float b = has_bias ? bias[k] : 0.0f;
    float v[CONV_DW_TP];
    #pragma unroll
    for (int i = 0; i < CONV_DW_NV; i++)
        CONV_GEMM_VSTORE(acc[i], i, v);
    __global float *yk = y + ((size_t)n * (size_t)K + (size_t)k) * (size_t)OH * (size_t)OW;
    int oy = p0 / Wq;
    int ox = p0 - oy * Wq;
    if (p0 == pstore && oy < OH && ox + CONV_DW_TP <= OW) {
        /* A whole tile of real outputs in one output row. */
        #pragma unroll
        for (int i = 0; i < CONV_DW_NV; i++) {
            CONV_GEMM_VEC t = acc[i] + (CONV_GEMM_VEC)(b);
            if (act == 1)
                t = fmax(t, (CONV_GEMM_VEC)(0.0f));
            CONV_GEMM_VSTORE(t, 0, yk + (size_t)(oy * OW + ox + i * CONV_GEMM_VW));
        }
        return;
    }
    for (int j = 0; j < CONV_DW_TP; j++) {
        float t = v[j] + b;
        if (act == 1)
            t = fmax(t, 0.0f);
        if (p0 + j >= pstore && oy < OH && ox < OW)
            yk[oy * OW + ox] = t;
        if (++ox == Wq) {
            ox = 0;
            oy++;
        }
    }
}

/* ------------------------------------------------------------------------ */
/* Winograd F(2x2, 3x3)                                                     */
/* ------------------------------------------------------------------------ */

/* A 3x3, stride-1, undilated convolution as Y = A^T [ (G g G^T) . (B^T d B) ] A over 2x2
 * output tiles: 16 GEMMs (one per point xi of the 4x4 transform) of 2.25x fewer
 * multiply-adds than the direct convolution. The host packs U = G g G^T as the weights of a
 * 16-group 1x1 convolution; conv2d_wino_input writes V = B^T d B from the packed (zero-padded)
 * input as its 16*C channels, conv2d_gemm computes M (16*K channels of TH*TW tiles), and
 * conv2d_wino_output turns M into Y. Both transforms run 8 tiles of a tile row at a time
 * (float8 across tiles). */

/* V[n, xi*C + c, ty*TW + tx] = (B^T d B)[xi] (planes t_stride >= TH*TW floats apart) for the
 * 4x4 patch d at rows 2ty.., columns 2tx.. of the packed input (flat layout: plane Hq x Wq per
 * channel, Hq >= 2*TH + 2, Wq >= 2*TW + 2; the last 8 tiles of a row may read up to 16 floats
 * past it, past the last plane too: the scratch has slack). Work-item (ty, c, n) does a whole
 * tile row. Global size (TH, C, N), local size (1, 1, 1). */
__kernel void conv2d_wino_input(__global const float *xq, // packed input, flat, (N, C, Hq, Wq)
                                __global float *v,        // (N, 16 * C, t_stride) from v_offset on
                                int C, int TH, int TW, int t_stride, int Wq, int x_img, int x_ch,
                                ulong v_offset)
{
    const int ty = (int)get_global_id(0);
    const int c = (int)get_global_id(1);
    const int n = (int)get_global_id(2);
    __global const float *x0 =
        xq + (size_t)n * (size_t)x_img + (size_t)c * (size_t)x_ch + (size_t)(2 * ty) * (size_t)Wq;
    __global float *vt = v + v_offset + ((size_t)n * 16 * (size_t)C + (size_t)c) * (size_t)t_stride +
                         (size_t)ty * (size_t)TW;
    const size_t xi_stride = (size_t)C * (size_t)t_stride;      // V channel xi*C + c
    for (int tx0 = 0; tx0 < TW; tx0 += 8) {
        float8 e[4][4];                                         // B^T d: rows i, columns j
        float8 d[4][4];
        #pragma unroll
        for (int i = 0; i < 4; i++) {
            /* Columns 2tx + j of 8 tiles: even and odd elements of 16 floats from 2*tx0 + 0 and + 2. */
            __global const float *row = x0 + i * Wq + 2 * tx0;
            const float8 a0 = vload8(0, row), a1 = vload8(1, row);
            const float8 b0 = vload8(0, row + 2), b1 = vload8(1, row + 2);
            d[i][0] = (float8)(a0.even, a1.even);
            d[i][1] = (float8)(a0.odd, a1.odd);
            d[i][2] = (float8)(b0.even, b1.even);
            d[i][3] = (float8)(b0.odd, b1.odd);
        }
        #pragma unroll
        for (int j = 0; j < 4; j++) {
            e[0][j] = d[0][j] - d[2][j];
            e[1][j] = d[1][j] + d[2][j];
            e[2][j] = d[2][j] - d[1][j];
            e[3][j] = d[1][j] - d[3][j];
        }
        float8 vv[16];
        #pragma unroll
        for (int i = 0; i < 4; i++) {
            vv[i * 4 + 0] = e[i][0] - e[i][2];
            vv[i * 4 + 1] = e[i][1] + e[i][2];
            vv[i * 4 + 2] = e[i][2] - e[i][1];
            vv[i * 4 + 3] = e[i][1] - e[i][3];
        }
        if (tx0 + 8 <= TW) {
            #pragma unroll
            for (int xi = 0; xi < 16; xi++)
                vstore8(vv[xi], 0, vt + xi * xi_stride + tx0);
        } else {
            #pragma unroll
            for (int xi = 0; xi < 16; xi++) {
                float t[8];
                vstore8(vv[xi], 0, t);
                for (int j = 0; j < TW - tx0; j++)
                    vt[xi * xi_stride + tx0 + j] = t[j];
            }
        }
    }
}

/* Y[n, k, 2ty + i, 2tx + j] = (A^T M A)[i, j] + bias[k] (then act: 0 none, 1 ReLU), clipped
 * to OH x OW, from M[n, xi*K + k, ty*TW + tx] (planes t_stride floats apart; the last 8 tiles
 * of a row may read up to 7 tiles past it, the scratch has slack). Work-item (ty, k, n) does a
 * whole tile row.
 * Global size (TH, K, N), local size (1, 1, 1). */
__kernel void conv2d_wino_output(__global const float *m,    // (N, 16 * K, t_stride)
                                 __global const float *bias, // (K), read only when has_bias
                                 __global float *y,          // (N, K, OH, OW)
                                 int K, int TH, int TW, int t_stride, int OH, int OW,
                                 int has_bias, int act)
{
    const int ty = (int)get_global_id(0);
    const int k = (int)get_global_id(1);
    const int n = (int)get_global_id(2);
    const size_t xi_stride = (size_t)K * (size_t)t_stride;
    __global const float *mt =
        m + ((size_t)n * 16 * (size_t)K + (size_t)k) * (size_t)t_stride + (size_t)ty * (size_t)TW;
    __global float *y0 =
        y + (((size_t)n * (size_t)K + (size_t)k) * (size_t)OH + (size_t)(2 * ty)) * (size_t)OW;
    const float8 b = (float8)(has_bias ? bias[k] : 0.0f);
    const int two_rows = 2 * ty + 1 < OH;
    for (int tx0 = 0; tx0 < TW; tx0 += 8) {
        float8 mm[16];
        #pragma unroll
        for (int xi = 0; xi < 16; xi++)
            mm[xi] = vload8(0, mt + xi * xi_stride + tx0);
        float8 f[2][4];                                         // A^T M: rows i, columns j
        #pragma unroll
        for (int j = 0; j < 4; j++) {
            f[0][j] = mm[0 * 4 + j] + mm[1 * 4 + j] + mm[2 * 4 + j];
            f[1][j] = mm[1 * 4 + j] - mm[2 * 4 + j] - mm[3 * 4 + j];
        }
        float8 o[2][2];
        #pragma unroll
        for (int i = 0; i < 2; i++) {
            o[i][0] = f[i][0] + f[i][1] + f[i][2] + b;
            o[i][1] = f[i][1] - f[i][2] - f[i][3] + b;
            if (act == 1) {
                o[i][0] = fmax(o[i][0], (float8)(0.0f));
                o[i][1] = fmax(o[i][1], (float8)(0.0f));
            }
        }
        const int ox0 = 2 * tx0;
        #pragma unroll
        for (int i = 0; i < 2; i++) {
            if (i == 0 || two_rows) {
                /* Output columns 2tx, 2tx + 1 of 8 tiles, interleaved. */
                const float8 l = o[i][0], r = o[i][1];
                const float8 lo = (float8)(l.s0, r.s0, l.s1, r.s1, l.s2, r.s2, l.s3, r.s3);
                const float8 hi = (float8)(l.s4, r.s4, l.s5, r.s5, l.s6, r.s6, l.s7, r.s7);
                __global float *yr = y0 + (size_t)i * (size_t)OW + ox0;
                if (ox0 + 16 <= OW) {
                    vstore8(lo, 0, yr);
                    vstore8(hi, 1, yr);
                } else {
                    float t[16];
                    vstore8(lo, 0, t);
                    vstore8(hi, 1, t);
                    for (int j = 0; j < OW - ox0; j++)
                        yr[j] = t[j];
                }
            }
        }
    }
}

/* ------------------------------------------------------------------------ */
/* im2col + CLBlast GEMM (the route on GPUs)                                */
/* ------------------------------------------------------------------------ */

/* The convolution of image n and group g as the GEMM
 *     Y[n, g*kpg + k, p] = sum over j of W[g*kpg + k, j] * col[n, g*cpg*R*S + j, p],
 * j = (c*R + r)*S + s, where W is the original (K, C/groups, R, S) weight and col is built here:
 *     col[n, (c*R + r)*S + s, oy*OW + ox] = x[n0 + n, c, oy*stride_h - pad_top + r*dil_h,
 *                                             ox*stride_w - pad_left + s*dil_w]
 * (zero in the padding). The host runs the GEMM through CLBlast and then conv2d_bias_act.
 * One output element per work-item; adjacent work-items write adjacent positions.
 * Global size (>= OH*OW, C*R*S, images), any local size. */
__kernel void conv2d_im2col(__global const float *x, // (N, C, H, W)
                            __global float *col,     // (images, C*R*S, OH*OW)
                            int C, int H, int W, int OH, int OW,
                            int R, int S,
                            int stride_h, int stride_w,
                            int pad_top, int pad_left,
                            int dil_h, int dil_w,
                            int n0)                  // image of x that col image 0 comes from
{
    const int p = (int)get_global_id(0);
    const int j = (int)get_global_id(1);
    const int n = (int)get_global_id(2);
    const int P = OH * OW;
    if (p >= P)
        return;
    const int RS = R * S;
    const int c = j / RS, r = (j % RS) / S, s = j % S;
    const int iy = (p / OW) * stride_h - pad_top + r * dil_h;
    const int ix = (p % OW) * stride_w - pad_left + s * dil_w;
    const int inside = iy >= 0 && iy < H && ix >= 0 && ix < W;
    __global const float *xc = x + ((size_t)(n0 + n) * (size_t)C + (size_t)c) * (size_t)H * (size_t)W;
    col[((size_t)n * (size_t)(C * RS) + (size_t)j) * (size_t)P + (size_t)p] = inside ? xc[iy * W + ix] : 0.0f;
}

/* y[n, k, p] = act(y[n, k, p] + bias[k]) in place (act: 0 none, 1 ReLU; NaN passes through,
 * as act_relu). Global size (>= P, K, N), any local size. */
__kernel void conv2d_bias_act(__global float *y,          // (N, K, P)
                              __global const float *bias, // (K), read only when has_bias
                              int K, int P, int has_bias, int act)
{
    const int p = (int)get_global_id(0);
    const int k = (int)get_global_id(1);
    if (p >= P)
        return;
    const size_t at = (get_global_id(2) * (size_t)K + (size_t)k) * (size_t)P + (size_t)p;
    float v = y[at] + (has_bias ? bias[k] : 0.0f);
    if (act == 1 && v < 0.0f)
        v = 0.0f;
    y[at] = v;
}
