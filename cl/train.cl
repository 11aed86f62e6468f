/* Training kernels, the device twins of src/cpu/cpu_backward_*.c (launched by
 * src/opencl/cl_train.c): convolution backward as dense shifted-dot GEMMs over
 * zero-padded, phase-split copies of x and dy; pooling backward as the CPU's own
 * per-plane loop, one plane per work-item; per-channel reductions in two stages
 * (partial sums per batch chunk, then a finalize); the dense backward as a
 * register-blocked GEMM; elementwise backward, seeded dropout and the optimizer
 * steps. All cl/ files form one program: every name here starts with train_ /
 * TRAIN_.
 */

#ifndef TRAIN_VW
#define TRAIN_VW 8 // vector width of the explicit-vector kernels (conv, reductions): 4, 8 or 16
#endif
#ifndef TRAIN_DW_TK
#define TRAIN_DW_TK 4 // output channels per work-item of train_conv_dw
#endif
#ifndef TRAIN_DW_TJ
#define TRAIN_DW_TJ 3 // weight columns (c, r, s) per work-item of train_conv_dw
#endif
#ifndef TRAIN_DW1_TJ
#define TRAIN_DW1_TJ 4 // weight columns per work-item of train_conv_dw_1k (one output channel)
#endif
#ifndef TRAIN_DX_TC
#define TRAIN_DX_TC 4 // input channels per work-item of train_conv_dx
#endif
#ifndef TRAIN_DX_TQ
#define TRAIN_DX_TQ 2 // position vectors (of TRAIN_VW) per work-item of train_conv_dx
#endif
#ifndef TRAIN_DX1_TQ
#define TRAIN_DX1_TQ 4 // position vectors per work-item of train_conv_dx_1c (one input channel)
#endif
#ifndef TRAIN_GEMM_TM
#define TRAIN_GEMM_TM 4 // rows per work-item of train_gemm_bcast (dense backward)
#endif
#ifndef TRAIN_GEMM_TV
#define TRAIN_GEMM_TV 2 // column vectors (of TRAIN_VW) per work-item of train_gemm_bcast
#endif

#if TRAIN_VW == 4
#define TRAIN_VEC float4
#define TRAIN_VLOAD vload4
#define TRAIN_VSTORE vstore4
#elif TRAIN_VW == 8
#define TRAIN_VEC float8
#define TRAIN_VLOAD vload8
#define TRAIN_VSTORE vstore8
#elif TRAIN_VW == 16
#define TRAIN_VEC float16
#define TRAIN_VLOAD vload16
#define TRAIN_VSTORE vstore16
#else
#error "TRAIN_VW must be 4, 8 or 16"
#endif

/* Fused multiply-add where the device has it in hardware, else mad. */
#if defined(FP_FAST_FMAF) || defined(__FMA__)
#define TRAIN_MAD(a, b, c) fma((a), (b), (c))
#else
#define TRAIN_MAD(a, b, c) mad((a), (b), (c))
#endif

/* Sum of the lanes of v. */
float train_hsum(TRAIN_VEC v)
{
#if TRAIN_VW == 16
    const float8 a = v.lo + v.hi;
    const float4 b = a.lo + a.hi;
#elif TRAIN_VW == 8
    const float4 b = v.lo + v.hi;
#else
    const float4 b = v;
#endif
    const float2 c = b.lo + b.hi;
    return c.x + c.y;
}

/* Sum of p[0, count) with vector loads. */
float train_sum(__global const float *p, int count)
{
    TRAIN_VEC acc = (TRAIN_VEC)(0.0f);
    const int nv = count / TRAIN_VW;
    for (int i = 0; i < nv; i++)
        acc += TRAIN_VLOAD(i, p);
    float tail = 0.0f;
    for (int i = nv * TRAIN_VW; i < count; i++)
        tail += p[i];
    return train_hsum(acc) + tail;
}

/* ------------------------------------------------------------------------ */
/* Convolution backward                                                     */
/* ------------------------------------------------------------------------ */

/* Along each axis the padded input is split into `stride` phases: padded row u
 * = iy + pad_top is phase py = u % sh, row qy = u / sh. Tap r of output row oy
 * reads u = oy*sh + r*dh, i.e. phase (r*dh) % sh at row oy + (r*dh) / sh; the
 * same along columns. With one flat plane per (image, channel, phase) of rows
 * Wq wide, tap (r, s) of output position p = oy*Wq + ox reads plane
 * ((r*dh) % sh, (s*dw) % sw) at p + off(r, s), off = ((r*dh)/sh)*Wq + (s*dw)/sw.
 * So, with dy stored on the same Wq-wide grid (zero in columns >= OW, rows >= OH
 * and in a zero margin of `pre` floats before it):
 *   dw[k, c, r, s] = sum over n, p of dyq[n, k, p] * xq[n, c, phase(r, s), p + off(r, s)]
 *   dxq[n, c, ph, q] = sum over k, taps (r, s) of phase ph of w[k, c, r, s] * dyq[n, k, q - off(r, s)]
 * two dense, unit-stride products with no bounds checks in the inner loops;
 * dx is dxq at the phase and position of each input element. */

/* xq[n, c, py*sw + px, qy*Wq + qx] = x[n, c, qy*sh + py - pt, qx*sw + px - pl], zero
 * outside x and in rows >= Hq (the slack the dw product reads past the end): one
 * work-item per plane (n, c, phase), each row a plain loop the compiler vectorises.
 * Global size (N*C*sh*sw), local size (1); planes are Xrows*Wq floats. */
__kernel void train_conv_pack_x(__global const float *x, // (N, C, H, W)
                                __global float *xq,      // (N, C, sh*sw, Xrows, Wq)
                                int H, int W, int sh, int sw, int pt, int pl, int Hq, int Wq, int Xrows)
{
    const int z = (int)get_global_id(0); // (n*C + c) * phases + ph
    const int phases = sh * sw;
    const int nc = z / phases;
    const int ph = z - nc * phases;
    const int py = ph / sw;
    const int px = ph - py * sw;
    /* columns [lo, hi) read x: 0 <= qx*sw + px - pl < W */
    const int first = pl - px, last = W - 1 + pl - px;
    const int lo = min(first > 0 ? (first + sw - 1) / sw : 0, Wq);
    const int hi = clamp(last >= 0 ? last / sw + 1 : 0, lo, Wq);
    const int ix0 = px - pl; // input column of qx = 0
    __global const float *xc = x + (size_t)nc * (size_t)H * (size_t)W;
    __global float *dst = xq + (size_t)z * (size_t)Xrows * (size_t)Wq;
    for (int qy = 0; qy < Xrows; qy++, dst += Wq) {
        const int iy = qy * sh + py - pt;
        const int inside = qy < Hq && iy >= 0 && iy < H;
        const int rlo = inside ? lo : Wq, rhi = inside ? hi : Wq;
        __global const float *src = xc + (size_t)(inside ? iy : 0) * (size_t)W;
        for (int qx = 0; qx < rlo; qx++)
            dst[qx] = 0.0f;
        if (sw == 1) {
            for (int qx = rlo; qx < rhi; qx++)
                dst[qx] = src[qx + ix0];
        } else {
            for (int qx = rlo; qx < rhi; qx++)
                dst[qx] = src[qx * sw + ix0];
        }
        for (int qx = rhi; qx < Wq; qx++)
            dst[qx] = 0.0f;
    }
}

/* dyq[n, k, (pre_rows + oy)*Wq + ox] = dy[n, k, oy, ox], zero elsewhere (columns >= OW,
 * the pre_rows margin, rows past OH): one work-item per plane (n, k).
 * Global size (N*K), local size (1). */
__kernel void train_conv_pack_dy(__global const float *dy, // (N, K, OH, OW)
                                 __global float *dyq,      // (N, K, Drows, Wq)
                                 int OH, int OW, int Wq, int Drows, int pre_rows)
{
    const int nk = (int)get_global_id(0);
    __global const float *src = dy + (size_t)nk * (size_t)OH * (size_t)OW;
    __global float *dst = dyq + (size_t)nk * (size_t)Drows * (size_t)Wq;
    for (int row = 0; row < Drows; row++, dst += Wq) {
        const int oy = row - pre_rows;
        const int n_copy = (oy >= 0 && oy < OH) ? OW : 0;
        __global const float *s = src + (size_t)max(oy, 0) * (size_t)OW;
        for (int qx = 0; qx < n_copy; qx++)
            dst[qx] = s[qx];
        for (int qx = n_copy; qx < Wq; qx++)
            dst[qx] = 0.0f;
    }
}

/* Weights in the order train_conv_dx reads them: for group g and channel tile ct
 * (tc input channels), taps t = r*S + s, output channels kk of the group, then tc
 * floats wq[...] = w[g*kpg + kk, ct*tc + o, t], zero past the group's channels
 * and for masked (k, c') pairs. Global size (groups * ctiles * R*S * kpg * tc). */
__kernel void train_conv_pack_w(__global const float *w,    // (K, C/groups, R, S)
                                __global const uchar *mask, // (K, C/groups), read only when has_mask
                                __global float *wq,         // (groups, ctiles, R*S, K/groups, tc)
                                int cpg, int kpg, int RS, int ctiles, int tc, int total, int has_mask)
{
    const int i = (int)get_global_id(0);
    if (i >= total)
        return;
    const int o = i % tc;
    int rest = i / tc;
    const int kk = rest % kpg;
    rest /= kpg;
    const int t = rest % RS;
    rest /= RS;
    const int ct = rest % ctiles;
    const int g = rest / ctiles;
    const int ci = ct * tc + o;
    const int k = g * kpg + kk;
    float v = 0.0f;
    if (ci < cpg && (!has_mask || mask[k * cpg + ci] != 0))
        v = w[((size_t)k * (size_t)cpg + (size_t)ci) * (size_t)RS + (size_t)t];
    wq[i] = v;
}

/* Weight gradient partial sums over the images [chunk*nper, chunk*nper + nper) of
 * one batch chunk: work-item (jt, g*ktiles + kt, chunk) holds a TK x TJ block,
 * output channels g*kpg + kt*TK + [0, TK) (clipped to the group) by columns
 * jt*TJ + [0, TJ) of the group's J = (C/groups)*R*S, each a TRAIN_VW-wide
 * accumulator over the positions, summed across lanes at the end.
 * part[chunk, k, j] with j = c'*R*S + r*S + s, as dw's layout.
 * Global size (ceil(J / TJ), groups * ktiles, chunks), local size (1, 1, 1). */
#define TRAIN_CONV_DW_KERNEL(NAME, TK, TJ)                                                                   \
    __kernel void NAME(__global const float *xq,  /* (N, C, sh*sw, Xrows, Wq) */                             \
                       __global const float *dyq, /* (N, K, Drows, Wq) */                                    \
                       __global float *part,      /* (chunks, K, J) */                                       \
                       int C, int K, int cpg, int kpg, int ktiles, int R, int S, int sh, int sw, int dh,     \
                       int dw, int Wq, int Lq, int Ld, int pre, int P, int N, int nper)                      \
    {                                                                                                        \
        const int jt = (int)get_global_id(0);                                                                \
        const int z = (int)get_global_id(1);                                                                 \
        const int chunk = (int)get_global_id(2);                                                             \
        const int g = z / ktiles;                                                                            \
        const int kt = z - g * ktiles;                                                                       \
        const int RS = R * S;                                                                                \
        const int J = cpg * RS;                                                                              \
        const int phases = sh * sw;                                                                          \
        const int k0 = g * kpg + kt * TK;                                                                    \
        const int k_last = g * kpg + kpg - 1;                                                                \
        int xoff[TJ]; /* column b: its plane and tap offset within one image of xq */                        \
        _Pragma("unroll")                                                                                    \
        for (int b = 0; b < TJ; b++) {                                                                       \
            const int j = min(jt * TJ + b, J - 1);                                                           \
            const int ci = j / RS;                                                                           \
            const int t = j - ci * RS;                                                                       \
            const int r = t / S;                                                                             \
            const int s = t - r * S;                                                                         \
            const int ph = ((r * dh) % sh) * sw + (s * dw) % sw;                                             \
            xoff[b] = ((g * cpg + ci) * phases + ph) * Lq + ((r * dh) / sh) * Wq + (s * dw) / sw;            \
        }                                                                                                    \
        int doff[TK]; /* row a: its dyq plane within one image */                                            \
        _Pragma("unroll")                                                                                    \
        for (int a = 0; a < TK; a++)                                                                         \
            doff[a] = min(k0 + a, k_last) * Ld + pre;                                                        \
        TRAIN_VEC acc[TK][TJ];                                                                               \
        _Pragma("unroll")                                                                                    \
        for (int a = 0; a < TK; a++) {                                                                       \
            _Pragma("unroll")                                                                                \
            for (int b = 0; b < TJ; b++)                                                                     \
                acc[a][b] = (TRAIN_VEC)(0.0f);                                                               \
        }                                                                                                    \
        const int n1 = min(N, (chunk + 1) * nper);                                                           \
        for (int n = chunk * nper; n < n1; n++) {                                                            \
            __global const float *xb = xq + (size_t)n * (size_t)C * (size_t)phases * (size_t)Lq;             \
            __global const float *db = dyq + (size_t)n * (size_t)K * (size_t)Ld;                             \
            for (int p = 0; p < P; p += TRAIN_VW) {                                                          \
                TRAIN_VEC dv[TK], xv[TJ];                                                                    \
                _Pragma("unroll")                                                                            \
                for (int a = 0; a < TK; a++)                                                                 \
                    dv[a] = TRAIN_VLOAD(0, db + doff[a] + p);                                                \
                _Pragma("unroll")                                                                            \
                for (int b = 0; b < TJ; b++)                                                                 \
                    xv[b] = TRAIN_VLOAD(0, xb + xoff[b] + p);                                                \
                _Pragma("unroll")                                                                            \
                for (int a = 0; a < TK; a++) {                                                               \
                    _Pragma("unroll")                                                                        \
                    for (int b = 0; b < TJ; b++)                                                             \
                        acc[a][b] = TRAIN_MAD(dv[a], xv[b], acc[a][b]);                                      \
                }                                                                                            \
            }                                                                                                \
        }                                                                                                    \
        _Pragma("unroll")                                                                                    \
        for (int a = 0; a < TK; a++) {                                                                       \
            const int k = k0 + a;                                                                            \
            _Pragma("unroll")                                                                                \
            for (int b = 0; b < TJ; b++) {                                                                   \
                const int j = jt * TJ + b;                                                                   \
                if (k <= k_last && j < J)                                                                    \
                    part[((size_t)chunk * (size_t)K + (size_t)k) * (size_t)J + (size_t)j] =                  \
                        train_hsum(acc[a][b]);                                                               \
            }                                                                                                \
        }                                                                                                    \
    }

/* The general blocking, and one output channel per work-item for groups of
 * one or two output channels (depthwise): no work on clipped rows. */
TRAIN_CONV_DW_KERNEL(train_conv_dw, TRAIN_DW_TK, TRAIN_DW_TJ)
TRAIN_CONV_DW_KERNEL(train_conv_dw_1k, 1, TRAIN_DW1_TJ)

/* dw[i] = sum over chunks of part[chunk, i], zero for masked (k, c') pairs
 * (i / RS = k*cpg + c'). Global size (K*J). */
__kernel void train_conv_dw_reduce(__global const float *part, // (chunks, K*J)
                                   __global const uchar *mask, // (K, C/groups), read only when has_mask
                                   __global float *dw,         // (K, C/groups, R, S)
                                   int total, int chunks, int RS, int has_mask)
{
    const int i = (int)get_global_id(0);
    if (i >= total)
        return;
    float acc = 0.0f;
    for (int ch = 0; ch < chunks; ch++)
        acc += part[(size_t)ch * (size_t)total + (size_t)i];
    dw[i] = (has_mask && mask[i / RS] == 0) ? 0.0f : acc;
}

/* Input gradient on the phase grid: work-item (qt, ct*phases + ph, n*groups + g)
 * holds input channels g*cpg + ct*TC + [0, TC) (clipped to the group) of phase ph
 * at positions qt*TQ*TRAIN_VW + [0, TQ*TRAIN_VW), summing over the group's output
 * channels and the taps of phase ph. Taps outermost and output channels inside
 * keep index arithmetic out of the inner loop; the block's few rows of every dyq
 * plane stay in L1 across the taps. dxq[n, c, ph, Qd].
 * Global size (Qd / (TQ*TRAIN_VW), ctiles * sh*sw, N * groups), local (1, 1, 1). */
#define TRAIN_CONV_DX_KERNEL(NAME, TC, TQ)                                                                   \
    __kernel void NAME(__global const float *dyq, /* (N, K, Drows, Wq) */                                    \
                       __global const float *wq,  /* (groups, ctiles, R*S, K/groups, TC) */                  \
                       __global float *dxq,       /* (N, C, sh*sw, Qd) */                                    \
                       int C, int K, int cpg, int kpg, int ctiles, int groups, int R, int S, int sh, int sw, \
                       int dh, int dw, int Wq, int Ld, int pre, int Qd)                                      \
    {                                                                                                        \
        const int qt = (int)get_global_id(0);                                                                \
        const int z1 = (int)get_global_id(1);                                                                \
        const int z2 = (int)get_global_id(2);                                                                \
        const int phases = sh * sw;                                                                          \
        const int ct = z1 / phases;                                                                          \
        const int ph = z1 - ct * phases;                                                                     \
        const int py = ph / sw;                                                                              \
        const int px = ph - py * sw;                                                                         \
        const int n = z2 / groups;                                                                           \
        const int g = z2 - n * groups;                                                                       \
        const int q0 = qt * (TQ * TRAIN_VW);                                                                 \
        TRAIN_VEC acc[TC][TQ];                                                                               \
        _Pragma("unroll")                                                                                    \
        for (int o = 0; o < TC; o++) {                                                                       \
            _Pragma("unroll")                                                                                \
            for (int v = 0; v < TQ; v++)                                                                     \
                acc[o][v] = (TRAIN_VEC)(0.0f);                                                               \
        }                                                                                                    \
        __global const float *dyb =                                                                          \
            dyq + ((size_t)n * (size_t)K + (size_t)(g * kpg)) * (size_t)Ld + (size_t)(pre + q0);             \
        __global const float *wz = wq + (size_t)(g * ctiles + ct) * (size_t)(R * S) * (size_t)kpg * TC;      \
        for (int r = 0; r < R; r++) {                                                                        \
            if ((r * dh) % sh != py)                                                                         \
                continue;                                                                                    \
            const int qr = (r * dh) / sh;                                                                    \
            for (int s = 0; s < S; s++) {                                                                    \
                if ((s * dw) % sw != px)                                                                     \
                    continue;                                                                                \
                __global const float *src = dyb - (qr * Wq + (s * dw) / sw);                                 \
                __global const float *wt = wz + (size_t)(r * S + s) * (size_t)kpg * TC;                      \
                for (int kk = 0; kk < kpg; kk++) {                                                           \
                    TRAIN_VEC dv[TQ];                                                                        \
                    _Pragma("unroll")                                                                        \
                    for (int v = 0; v < TQ; v++)                                                             \
                        dv[v] = TRAIN_VLOAD(v, src);                                                         \
                    _Pragma("unroll")                                                                        \
                    for (int o = 0; o < TC; o++) {                                                           \
                        const TRAIN_VEC wv = (TRAIN_VEC)(wt[o]);                                             \
                        _Pragma("unroll")                                                                    \
                        for (int v = 0; v < TQ; v++)                                                         \
                            acc[o][v] = TRAIN_MAD(wv, dv[v], acc[o][v]);                                     \
                    }                                                                                        \
                    src += Ld;                                                                               \
                    wt += TC;                                                                                \
                }                                                                                            \
            }                                                                                                \
        }                                                                                                    \
        _Pragma("unroll")                                                                                    \
        for (int o = 0; o < TC; o++) {                                                                       \
            const int c = ct * TC + o;                                                                       \
            if (c < cpg) {                                                                                   \
                __global float *dst =                                                                        \
                    dxq + ((size_t)(n * C + g * cpg + c) * (size_t)phases + (size_t)ph) * (size_t)Qd +       \
                    (size_t)q0;                                                                              \
                _Pragma("unroll")                                                                            \
                for (int v = 0; v < TQ; v++)                                                                 \
                    TRAIN_VSTORE(acc[o][v], v, dst);                                                         \
            }                                                                                                \
        }                                                                                                    \
    }

/* The general blocking, and one input channel per work-item with a wider
 * position block for groups of few input channels (depthwise, C = 1). */
TRAIN_CONV_DX_KERNEL(train_conv_dx, TRAIN_DX_TC, TRAIN_DX_TQ)
TRAIN_CONV_DX_KERNEL(train_conv_dx_1c, 1, TRAIN_DX1_TQ)

/* dx[n, c, iy, ix] = dxq[n, c, phase of (iy, ix), its position]: one work-item per
 * plane (n, c); each input row is one run of phase columns per column phase px.
 * Global size (N*C), local size (1). */
__kernel void train_conv_unpack_dx(__global const float *dxq, // (N, C, sh*sw, Qd)
                                   __global float *dx,        // (N, C, H, W)
                                   int H, int W, int sh, int sw, int pt, int pl, int Wq, int Qd)
{
    const int nc = (int)get_global_id(0);
    __global const float *src = dxq + (size_t)nc * (size_t)(sh * sw) * (size_t)Qd;
    __global float *dst = dx + (size_t)nc * (size_t)H * (size_t)W;
    for (int iy = 0; iy < H; iy++, dst += W) {
        const int qy = (iy + pt) / sh;
        const int py = iy + pt - qy * sh;
        for (int px = 0; px < sw; px++) {
            /* columns ix = qx*sw + px - pl inside [0, W) */
            const int first = pl - px, last = W - 1 + pl - px;
            const int lo = first > 0 ? (first + sw - 1) / sw : 0;
            const int hi = last >= 0 ? last / sw + 1 : 0;
            __global const float *s = src + (size_t)(py * sw + px) * (size_t)Qd + (size_t)(qy * Wq);
            const int ix0 = px - pl;
            if (sw == 1) {
                for (int qx = lo; qx < hi; qx++)
                    dst[qx + ix0] = s[qx];
            } else {
                for (int qx = lo; qx < hi; qx++)
                    dst[qx * sw + ix0] = s[qx];
            }
        }
    }
}

/* ------------------------------------------------------------------------ */
/* Per-channel reductions (conv bias, batchnorm, affine)                    */
/* ------------------------------------------------------------------------ */

/* part[chunk, c] = sum of x[n, c, :] over the chunk's images [chunk*nper, +nper).
 * Global size (C, chunks), local (1, 1). */
__kernel void train_chan_sum(__global const float *x, // (N, C, HW)
                             __global float *part,    // (chunks, C)
                             int C, int HW, int N, int nper)
{
    const int c = (int)get_global_id(0);
    const int chunk = (int)get_global_id(1);
    const int n1 = min(N, (chunk + 1) * nper);
    float acc = 0.0f;
    for (int n = chunk * nper; n < n1; n++)
        acc += train_sum(x + ((size_t)n * (size_t)C + (size_t)c) * (size_t)HW, HW);
    part[(size_t)chunk * (size_t)C + (size_t)c] = acc;
}

/* out[c] = sum over chunks of part[chunk, c]; or / m when mean. Global size (C). */
__kernel void train_chan_total(__global const float *part, // (chunks, C)
                               __global float *out,        // (C)
                               int C, int chunks, int mean, float m)
{
    const int c = (int)get_global_id(0);
    if (c >= C)
        return;
    float acc = 0.0f;
    for (int ch = 0; ch < chunks; ch++)
        acc += part[ch * C + c];
    out[c] = mean ? acc / m : acc;
}

/* part[chunk, c] = sum over the chunk of (x - mean[c])^2 (the second pass of the
 * batch variance). Global size (C, chunks), local (1, 1). */
__kernel void train_chan_sqdev(__global const float *x,    // (N, C, HW)
                               __global const float *mean, // (C)
                               __global float *part,       // (chunks, C)
                               int C, int HW, int N, int nper)
{
    const int c = (int)get_global_id(0);
    const int chunk = (int)get_global_id(1);
    const int n1 = min(N, (chunk + 1) * nper);
    const float mu = mean[c];
    const int nv = HW / TRAIN_VW;
    TRAIN_VEC acc = (TRAIN_VEC)(0.0f);
    float tail = 0.0f;
    for (int n = chunk * nper; n < n1; n++) {
        __global const float *p = x + ((size_t)n * (size_t)C + (size_t)c) * (size_t)HW;
        for (int i = 0; i < nv; i++) {
            const TRAIN_VEC d = TRAIN_VLOAD(i, p) - mu;
            acc = TRAIN_MAD(d, d, acc);
        }
        for (int i = nv * TRAIN_VW; i < HW; i++) {
            const float d = p[i] - mu;
            tail = TRAIN_MAD(d, d, tail);
        }
    }
    part[(size_t)chunk * (size_t)C + (size_t)c] = train_hsum(acc) + tail;
}

/* From the summed squared deviations: invstd = 1/sqrt(biased var + eps) and the
 * running statistics (1 - momentum) * running + momentum * batch, with the
 * unbiased variance (0 when m == 1). Global size (C). */
__kernel void train_bn_finish(__global const float *part,   // (chunks, C) squared deviations
                              __global const float *mean,   // (C)
                              __global float *invstd,       // (C)
                              __global float *running_mean, // (C) in/out
                              __global float *running_var,  // (C) in/out
                              int C, int chunks, float m, float eps, float momentum)
{
    const int c = (int)get_global_id(0);
    if (c >= C)
        return;
    float ss = 0.0f;
    for (int ch = 0; ch < chunks; ch++)
        ss += part[ch * C + c];
    invstd[c] = 1.0f / sqrt(ss / m + eps);
    const float var = m > 1.0f ? ss / (m - 1.0f) : 0.0f;
    running_mean[c] = (1.0f - momentum) * running_mean[c] + momentum * mean[c];
    running_var[c] = (1.0f - momentum) * running_var[c] + momentum * var;
}

/* y = (x - mean) * invstd * weight + bias. Global size (HW, N*C). */
__kernel void train_bn_apply(__global const float *x,      // (N, C, HW)
                             __global const float *mean,   // (C)
                             __global const float *invstd, // (C)
                             __global const float *weight, // (C)
                             __global const float *bias,   // (C)
                             __global float *y,            // (N, C, HW)
                             int C, int HW)
{
    const int i = (int)get_global_id(0);
    const int nc = (int)get_global_id(1);
    if (i >= HW)
        return;
    const int c = nc % C;
    const size_t at = (size_t)nc * (size_t)HW + (size_t)i;
    y[at] = (x[at] - mean[c]) * invstd[c] * weight[c] + bias[c];
}

/* part[chunk, 0, c] = sum of dy, part[chunk, 1, c] = sum of dy * xhat over the
 * chunk, xhat = (x - mean[c]) * invstd[c] when normalize (batchnorm), else x
 * (affine; mean and invstd are not read). Global size (C, chunks), local (1, 1). */
__kernel void train_chan_dy_sums(__global const float *x,      // (N, C, HW)
                                 __global const float *dy,     // (N, C, HW)
                                 __global const float *mean,   // (C), read only when normalize
                                 __global const float *invstd, // (C), read only when normalize
                                 __global float *part,         // (chunks, 2, C)
                                 int C, int HW, int N, int nper, int normalize)
{
    const int c = (int)get_global_id(0);
    const int chunk = (int)get_global_id(1);
    const int n1 = min(N, (chunk + 1) * nper);
    const float mu = normalize ? mean[c] : 0.0f;
    const float inv = normalize ? invstd[c] : 1.0f;
    const int nv = HW / TRAIN_VW;
    TRAIN_VEC s0 = (TRAIN_VEC)(0.0f), s1 = (TRAIN_VEC)(0.0f);
    float t0 = 0.0f, t1 = 0.0f;
    for (int n = chunk * nper; n < n1; n++) {
        const size_t at = ((size_t)n * (size_t)C + (size_t)c) * (size_t)HW;
        __global const float *xp = x + at;
        __global const float *gp = dy + at;
        for (int i = 0; i < nv; i++) {
            const TRAIN_VEC g = TRAIN_VLOAD(i, gp);
            s0 += g;
            s1 = TRAIN_MAD(g, (TRAIN_VLOAD(i, xp) - mu) * inv, s1);
        }
        for (int i = nv * TRAIN_VW; i < HW; i++) {
            t0 += gp[i];
            t1 = TRAIN_MAD(gp[i], (xp[i] - mu) * inv, t1);
        }
    }
    part[((size_t)chunk * 2) * (size_t)C + (size_t)c] = train_hsum(s0) + t0;
    part[((size_t)chunk * 2 + 1) * (size_t)C + (size_t)c] = train_hsum(s1) + t1;
}

/* tot[0, c] = sum of dy, tot[1, c] = sum of dy * xhat (over the chunks); also
 * dbias = tot[0] and dweight = tot[1] when asked. Global size (C). */
__kernel void train_chan_dy_finish(__global const float *part, // (chunks, 2, C)
                                   __global float *tot,        // (2, C)
                                   __global float *dweight,    // (C), written only when has_dw
                                   __global float *dbias,      // (C), written only when has_db
                                   int C, int chunks, int has_dw, int has_db)
{
    const int c = (int)get_global_id(0);
    if (c >= C)
        return;
    float s0 = 0.0f, s1 = 0.0f;
    for (int ch = 0; ch < chunks; ch++) {
        s0 += part[(2 * ch) * C + c];
        s1 += part[(2 * ch + 1) * C + c];
    }
    tot[c] = s0;
    tot[C + c] = s1;
    if (has_dw)
        dweight[c] = s1;
    if (has_db)
        dbias[c] = s0;
}

/* dx = weight * invstd * (dy - sum(dy)/m - xhat * sum(dy*xhat)/m). Global size (HW, N*C). */
__kernel void train_bn_dx(__global const float *x,      // (N, C, HW)
                          __global const float *dy,     // (N, C, HW)
                          __global const float *weight, // (C)
                          __global const float *mean,   // (C)
                          __global const float *invstd, // (C)
                          __global const float *tot,    // (2, C)
                          __global float *dx,           // (N, C, HW)
                          int C, int HW, float m)
{
    const int i = (int)get_global_id(0);
    const int nc = (int)get_global_id(1);
    if (i >= HW)
        return;
    const int c = nc % C;
    const size_t at = (size_t)nc * (size_t)HW + (size_t)i;
    const float inv = invstd[c];
    const float xhat = (x[at] - mean[c]) * inv;
    dx[at] = weight[c] * inv * (dy[at] - tot[c] / m - xhat * (tot[C + c] / m));
}

/* dx = dy * weight[c] (dx may be dy). Global size (HW, N*C). */
__kernel void train_affine_dx(__global const float *dy,     // (N, C, HW)
                              __global const float *weight, // (C)
                              __global float *dx,           // (N, C, HW)
                              int C, int HW)
{
    const int i = (int)get_global_id(0);
    const int nc = (int)get_global_id(1);
    if (i >= HW)
        return;
    const size_t at = (size_t)nc * (size_t)HW + (size_t)i;
    dx[at] = dy[at] * weight[nc % C];
}

/* ------------------------------------------------------------------------ */
/* Pooling backward                                                         */
/* ------------------------------------------------------------------------ */

/* Each kernel runs the CPU reference's own loop over one plane (n, c) per
 * work-item: dx zeroed, then each output's gradient added to its window in
 * (oy, ox) order, so every dx element gets the same float sums in the same
 * order as on the CPU. Planes are independent; windows overlap only within one.
 * Global size (planes = N*C); the loops are the same in every plane, so PoCL
 * vectorises across work-items. */

/* Max pool: each dy to its window's argmax, found as the forward scans (row by
 * row; the first maximum wins a tie, a NaN wins and the last NaN wins; the
 * first element for an all -inf window); a window holding no input element
 * routes nowhere. */
__kernel void train_maxpool_bwd(__global const float *x,  // (N, C, H, W)
                                __global const float *dy, // (N, C, OH, OW)
                                __global float *dx,       // (N, C, H, W)
                                int H, int W, int OH, int OW, int R, int S, int sh, int sw, int pt, int pl,
                                int planes)
{
    const size_t nc = get_global_id(0);
    if (nc >= (size_t)planes)
        return;
    __global const float *xp = x + nc * (size_t)H * (size_t)W;
    __global const float *dyp = dy + nc * (size_t)OH * (size_t)OW;
    __global float *dxp = dx + nc * (size_t)H * (size_t)W;
    for (int i = 0; i < H * W; i++)
        dxp[i] = 0.0f;
    for (int oy = 0; oy < OH; oy++) {
        const int y0 = max(oy * sh - pt, 0), y1 = min(oy * sh - pt + R, H);
        for (int ox = 0; ox < OW; ox++) {
            const int x0 = max(ox * sw - pl, 0), x1 = min(ox * sw - pl + S, W);
            if (y0 >= y1 || x0 >= x1)
                continue;
            int arg = y0 * W + x0;
            float best = -INFINITY;
            for (int iy = y0; iy < y1; iy++)
                for (int ix = x0; ix < x1; ix++) {
                    const float v = xp[iy * W + ix];
                    if (v > best || isnan(v)) {
                        best = v;
                        arg = iy * W + ix;
                    }
                }
            dxp[arg] += dyp[oy * OW + ox];
        }
    }
}

/* Average pool: dy / divisor to every input element of the window, window and
 * divisor as cs_pool_span / cs_pool_divisor (cpu_ops.h): the window clipped to
 * the padded extent (H + pad_bottom), whose area is the divisor when
 * count_include_pad, then to the input. */
__kernel void train_avgpool_bwd(__global const float *dy, // (N, C, OH, OW)
                                __global float *dx,       // (N, C, H, W)
                                int H, int W, int OH, int OW, int R, int S, int sh, int sw, int pt, int pb,
                                int pl, int pr, int count_include_pad, int planes)
{
    const size_t nc = get_global_id(0);
    if (nc >= (size_t)planes)
        return;
    __global const float *dyp = dy + nc * (size_t)OH * (size_t)OW;
    __global float *dxp = dx + nc * (size_t)H * (size_t)W;
    for (int i = 0; i < H * W; i++)
        dxp[i] = 0.0f;
    for (int oy = 0; oy < OH; oy++) {
        const int ya = oy * sh - pt, yb = min(ya + R, H + pb);
        const int y0 = max(ya, 0), y1 = min(yb, H);
        for (int ox = 0; ox < OW; ox++) {
            const int xa = ox * sw - pl, xb = min(xa + S, W + pr);
            const int x0 = max(xa, 0), x1 = min(xb, W);
            const int divisor = count_include_pad ? (yb - ya) * (xb - xa) : max(y1 - y0, 0) * max(x1 - x0, 0);
            if (divisor <= 0)
                continue;
            const float g = dyp[oy * OW + ox] / (float)divisor;
            for (int iy = y0; iy < y1; iy++)
                for (int ix = x0; ix < x1; ix++)
                    dxp[iy * W + ix] += g;
        }
    }
}

/* Adaptive average pool: window o along an axis of n inputs and m outputs is
 * [floor(o*n/m), ceil((o+1)*n/m)). */
__kernel void train_adaptive_avgpool_bwd(__global const float *dy, // (N, C, OH, OW)
                                         __global float *dx,       // (N, C, H, W)
                                         int H, int W, int OH, int OW, int planes)
{
    const size_t nc = get_global_id(0);
    if (nc >= (size_t)planes)
        return;
    __global const float *dyp = dy + nc * (size_t)OH * (size_t)OW;
    __global float *dxp = dx + nc * (size_t)H * (size_t)W;
    for (int i = 0; i < H * W; i++)
        dxp[i] = 0.0f;
    for (int oy = 0; oy < OH; oy++) {
        const int y0 = (oy * H) / OH, y1 = ((oy + 1) * H + OH - 1) / OH;
        for (int ox = 0; ox < OW; ox++) {
            const int x0 = (ox * W) / OW, x1 = ((ox + 1) * W + OW - 1) / OW;
            const float g = dyp[oy * OW + ox] / (float)((y1 - y0) * (x1 - x0));
            for (int iy = y0; iy < y1; iy++)
                for (int ix = x0; ix < x1; ix++)
                    dxp[iy * W + ix] += g;
        }
    }
}

/* ------------------------------------------------------------------------ */
/* Elementwise backward, dropout, data movement                             */
/* ------------------------------------------------------------------------ */

/* Activation backward from the forward output y, one kernel per kind; dx may be
 * dy. Global size (count). */
__kernel void train_act_relu_bwd(__global const float *y, __global const float *dy, __global float *dx,
                                 int count)
{
    const int i = (int)get_global_id(0);
    if (i >= count)
        return;
    dx[i] = y[i] <= 0.0f ? 0.0f : dy[i]; // a NaN y passes dy, as PyTorch's threshold_backward
}

__kernel void train_act_tanh_bwd(__global const float *y, __global const float *dy, __global float *dx,
                                 int count)
{
    const int i = (int)get_global_id(0);
    if (i >= count)
        return;
    const float v = y[i];
    dx[i] = dy[i] * (1.0f - v * v);
}

/* y = A tanh(S x): dy/dx = S (A - y^2 / A), A = 1.7159, S = 2/3 (cpu_ops.h). */
__kernel void train_act_scaled_tanh_bwd(__global const float *y, __global const float *dy, __global float *dx,
                                        int count)
{
    const int i = (int)get_global_id(0);
    if (i >= count)
        return;
    const float v = y[i];
    dx[i] = dy[i] * (2.0f / 3.0f) * (1.7159f - v * v / 1.7159f);
}

__kernel void train_act_sigmoid_bwd(__global const float *y, __global const float *dy, __global float *dx,
                                    int count)
{
    const int i = (int)get_global_id(0);
    if (i >= count)
        return;
    const float v = y[i];
    dx[i] = dy[i] * v * (1.0f - v);
}

/* dst += src. Global size (count). */
__kernel void train_accumulate(__global const float *src, __global float *dst, int count)
{
    const int i = (int)get_global_id(0);
    if (i >= count)
        return;
    dst[i] += src[i];
}

/* buf = 0. Global size (count). */
__kernel void train_fill_zero(__global float *buf, int count)
{
    const int i = (int)get_global_id(0);
    if (i >= count)
        return;
    buf[i] = 0.0f;
}

/* Element i draws splitmix64 of the state rng + (i + 1) * golden, as the CPU's
 * stream after i + 1 steps; kept iff the top 24 bits / 2^24 >= p (and keep_any,
 * i.e. p < 1). y = x * scale when kept, else 0; y may be x. Global size (count). */
__kernel void train_dropout(__global const float *x, // (count)
                            __global float *y,       // (count)
                            __global uchar *mask,    // (count)
                            ulong rng, float p, float scale, int keep_any, int count)
{
    const int i = (int)get_global_id(0);
    if (i >= count)
        return;
    ulong z = rng + ((ulong)i + 1UL) * 0x9E3779B97F4A7C15UL;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
    z = z ^ (z >> 31);
    const float u = (float)(uint)(z >> 40) * (1.0f / 16777216.0f); // exact: 24 bits
    const int keep = keep_any && u >= p;
    mask[i] = (uchar)keep;
    y[i] = keep ? x[i] * scale : 0.0f;
}

/* dx = dy * scale where kept, else 0; dx may be dy. Global size (count). */
__kernel void train_dropout_bwd(__global const uchar *mask, __global const float *dy, __global float *dx,
                                float scale, int count)
{
    const int i = (int)get_global_id(0);
    if (i >= count)
        return;
    dx[i] = mask[i] ? dy[i] * scale : 0.0f;
}

/* dst[n, :] = src[n, offset*hw : offset*hw + cs*hw]. Global size (cs*hw, N). */
__kernel void train_channel_slice(__global const float *src, // (N, ctotal, hw)
                                  __global float *dst,       // (N, cs, hw)
                                  int count, int src_count, int src_offset)
{
    const int i = (int)get_global_id(0);
    if (i >= count)
        return;
    const size_t n = get_global_id(1);
    dst[n * (size_t)count + (size_t)i] = src[n * (size_t)src_count + (size_t)src_offset + (size_t)i];
}

/* dx = dy * s[n, c]. Global size (HW, N*C). */
__kernel void train_scale_dx(__global const float *s,  // (N, C)
                             __global const float *dy, // (N, C, HW)
                             __global float *dx,       // (N, C, HW)
                             int HW)
{
    const int i = (int)get_global_id(0);
    if (i >= HW)
        return;
    const size_t nc = get_global_id(1);
    dx[nc * (size_t)HW + (size_t)i] = dy[nc * (size_t)HW + (size_t)i] * s[nc];
}

/* ds[n, c] = sum over the plane of dy * x. Global size (N*C). */
__kernel void train_scale_ds(__global const float *x,  // (N, C, HW)
                             __global const float *dy, // (N, C, HW)
                             __global float *ds,       // (N, C)
                             int planes, int HW)
{
    const int pl = (int)get_global_id(0);
    if (pl >= planes)
        return;
    const size_t at = (size_t)pl * (size_t)HW;
    float acc = 0.0f;
    for (int i = 0; i < HW; i++)
        acc = TRAIN_MAD(dy[at + (size_t)i], x[at + (size_t)i], acc);
    ds[pl] = acc;
}

/* ------------------------------------------------------------------------ */
/* Classifier head: dense and RBF                                           */
/* ------------------------------------------------------------------------ */

/* C[m, i] = sum over k of A[m*a_m + k*a_k] * B[k, i], the dense backward's two
 * products: dx = dy W (A = dy: a_m = O, a_k = 1; B = W) and dw = dy^T x (A = dy^T:
 * a_m = 1, a_k = O; B = x). Work-item (it, mt) holds rows mt*TRAIN_GEMM_TM + [0, TM)
 * (clipped to M) by columns it*TV*TRAIN_VW + [0, TV*TRAIN_VW): per k, one broadcast
 * of A per row and TV vector loads of row k of B. A block past the last column
 * does the remaining columns one by one.
 * Global size (ceil(I / (TV*TRAIN_VW)), ceil(M / TM)), local size (1, 1). */
__kernel void train_gemm_bcast(__global const float *A, // see above
                               __global const float *B, // (Kd, I)
                               __global float *Cm,      // (M, I)
                               int M, int I, int Kd, int a_m, int a_k)
{
    const int i0 = (int)get_global_id(0) * (TRAIN_GEMM_TV * TRAIN_VW);
    const int m0 = (int)get_global_id(1) * TRAIN_GEMM_TM;
    int arow[TRAIN_GEMM_TM];
    #pragma unroll
    for (int t = 0; t < TRAIN_GEMM_TM; t++)
        arow[t] = min(m0 + t, M - 1) * a_m;
    if (i0 + TRAIN_GEMM_TV * TRAIN_VW <= I) {
        TRAIN_VEC acc[TRAIN_GEMM_TM][TRAIN_GEMM_TV];
        #pragma unroll
        for (int t = 0; t < TRAIN_GEMM_TM; t++) {
            #pragma unroll
            for (int v = 0; v < TRAIN_GEMM_TV; v++)
                acc[t][v] = (TRAIN_VEC)(0.0f);
        }
        for (int k = 0; k < Kd; k++) {
            __global const float *b = B + (size_t)k * (size_t)I + (size_t)i0;
            TRAIN_VEC bv[TRAIN_GEMM_TV];
            #pragma unroll
            for (int v = 0; v < TRAIN_GEMM_TV; v++)
                bv[v] = TRAIN_VLOAD(v, b);
            #pragma unroll
            for (int t = 0; t < TRAIN_GEMM_TM; t++) {
                const TRAIN_VEC av = (TRAIN_VEC)(A[arow[t] + k * a_k]);
                #pragma unroll
                for (int v = 0; v < TRAIN_GEMM_TV; v++)
                    acc[t][v] = TRAIN_MAD(av, bv[v], acc[t][v]);
            }
        }
        #pragma unroll
        for (int t = 0; t < TRAIN_GEMM_TM; t++)
            if (m0 + t < M) {
                #pragma unroll
                for (int v = 0; v < TRAIN_GEMM_TV; v++)
                    TRAIN_VSTORE(acc[t][v], v, Cm + (size_t)(m0 + t) * (size_t)I + (size_t)i0);
            }
        return;
    }
    for (int i = i0; i < I; i++) {
        float acc[TRAIN_GEMM_TM];
        #pragma unroll
        for (int t = 0; t < TRAIN_GEMM_TM; t++)
            acc[t] = 0.0f;
        for (int k = 0; k < Kd; k++) {
            const float bv = B[(size_t)k * (size_t)I + (size_t)i];
            #pragma unroll
            for (int t = 0; t < TRAIN_GEMM_TM; t++)
                acc[t] = TRAIN_MAD(A[arow[t] + k * a_k], bv, acc[t]);
        }
        #pragma unroll
        for (int t = 0; t < TRAIN_GEMM_TM; t++)
            if (m0 + t < M)
                Cm[(size_t)(m0 + t) * (size_t)I + (size_t)i] = acc[t];
    }
}

/* db[o] = sum over n of dy[n, o]. Global size (O). */
__kernel void train_dense_db(__global const float *dy, // (N, O)
                             __global float *db,       // (O)
                             int N, int O)
{
    const int o = (int)get_global_id(0);
    if (o >= O)
        return;
    float acc = 0.0f;
    for (int n = 0; n < N; n++)
        acc += dy[n * O + o];
    db[o] = acc;
}

/* dx[n, j] = sum over k of 2 dy[n, k] (x[n, j] - w[k, j]). Global size (I, N). */
__kernel void train_rbf_dx(__global const float *x,  // (N, I)
                           __global const float *w,  // (classes, I)
                           __global const float *dy, // (N, classes)
                           __global float *dx,       // (N, I)
                           int I, int classes)
{
    const int j = (int)get_global_id(0);
    if (j >= I)
        return;
    const size_t n = get_global_id(1);
    const float xv = x[n * (size_t)I + (size_t)j];
    float acc = 0.0f;
    for (int k = 0; k < classes; k++)
        acc = TRAIN_MAD(2.0f * dy[n * (size_t)classes + (size_t)k], xv - w[(size_t)k * (size_t)I + (size_t)j],
                        acc);
    dx[n * (size_t)I + (size_t)j] = acc;
}

/* dw[k, j] = -sum over n of 2 dy[n, k] (x[n, j] - w[k, j]). Global size (I, classes). */
__kernel void train_rbf_dw(__global const float *x,  // (N, I)
                           __global const float *w,  // (classes, I)
                           __global const float *dy, // (N, classes)
                           __global float *dw,       // (classes, I)
                           int N, int I, int classes)
{
    const int j = (int)get_global_id(0);
    if (j >= I)
        return;
    const size_t k = get_global_id(1);
    const float wv = w[k * (size_t)I + (size_t)j];
    float acc = 0.0f;
    for (int n = 0; n < N; n++)
        acc = TRAIN_MAD(2.0f * dy[(size_t)n * (size_t)classes + k], x[(size_t)n * (size_t)I + (size_t)j] - wv,
                        acc);
    dw[k * (size_t)I + (size_t)j] = -acc;
}

/* ------------------------------------------------------------------------ */
/* Optimizer steps                                                          */
/* ------------------------------------------------------------------------ */

/* SGD, PyTorch's: d = g + wd * p; with momentum buf = mo * buf + d and d = buf
 * (Nesterov: d + mo * buf); p -= lr * d. buf is read only when has_momentum.
 * Global size (count). */
__kernel void train_sgd(__global float *param, __global const float *grad, __global float *buf, float lr,
                        float momentum, float weight_decay, int nesterov, int has_momentum, int count)
{
    const int i = (int)get_global_id(0);
    if (i >= count)
        return;
    const float p = param[i];
    float d = grad[i] + weight_decay * p;
    if (has_momentum) {
        const float b = momentum * buf[i] + d;
        buf[i] = b;
        d = nesterov ? d + momentum * b : b;
    }
    param[i] = p - lr * d;
}

/* Adam (L2 weight decay), bias corrections from the host:
 * m = b1 m + (1-b1) g, v = b2 v + (1-b2) g^2, p -= step_size * m / (sqrt(v)/bc2_sqrt + eps).
 * Global size (count). */
__kernel void train_adam(__global float *param, __global const float *grad, __global float *m,
                         __global float *v, float beta1, float one_minus_beta1, float beta2,
                         float one_minus_beta2, float eps, float weight_decay, float step_size,
                         float bc2_sqrt, int count)
{
    const int i = (int)get_global_id(0);
    if (i >= count)
        return;
    const float p = param[i];
    const float g = grad[i] + weight_decay * p;
    const float mi = beta1 * m[i] + one_minus_beta1 * g;
    const float vi = beta2 * v[i] + one_minus_beta2 * g * g;
    m[i] = mi;
    v[i] = vi;
    param[i] = p - step_size * mi / (sqrt(vi) / bc2_sqrt + eps);
}
