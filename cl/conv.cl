/* 2-D convolution kernels (graph.h CONV2D): a direct convolution with a
 * per-work-item register block of output channels x output columns, and a
 * depthwise variant for convolutions whose groups each read one input channel.
 * Shapes are kernel arguments; the blocking below is tunable with -D.
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
