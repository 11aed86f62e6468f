/* Op tests: every op of the public cs_op enum on many shapes, each built as a
 * small graph through the public builder, run on the CPU reference and on an
 * OpenCL device, and compared with absolute + relative tolerance. Also: a
 * multi-node graph compared node by node, session stepping, a masked conv
 * against zeroed weights, and a few PyTorch-derived golden values.
 * Usage: test_ops [label-substring]   (device: CONVSCOPE_DEVICE, default 0)
 */
#include "convscope.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ------------------------------------------------------------------------ */
/* The case table                                                           */
/* ------------------------------------------------------------------------ */

enum { IN_UNIT = 0, IN_WIDE, IN_BIG, IN_NEG };   /* [-1,1], [-4,4], mixed to 1e3, [-4,-1] */
enum { MASK_NONE = 0, MASK_LENET_C3, MASK_RANDOM };

typedef struct op_case {
    const char *label;
    cs_op op;
    int batch;
    int c, h, w;                 /* input (C, H, W) */
    cs_conv2d_params conv;       /* CONV2D; .mask is filled from `mask` */
    int mask;                    /* CONV2D connection mask: MASK_* */
    cs_pool_params pool;         /* MAXPOOL, AVGPOOL */
    int out_h, out_w;            /* ADAPTIVE_AVGPOOL */
    cs_lrn_params lrn;
    cs_act_kind act;
    int n;                       /* DENSE out features, RBF classes */
    int bias;                    /* DENSE */
    float f;                     /* BATCHNORM eps, DROPOUT p */
    int parts[3];                /* CONCAT: channels of operands after the input */
    int n_parts;
    int relu;                    /* ADD */
    int input;                   /* IN_* */
    float atol, rtol;            /* 0: the defaults below */
} op_case;

#define ATOL_DEFAULT 1e-4f
#define RTOL_DEFAULT 1e-4f
#define ATOL_BIG 1e-2f   /* inputs up to 1e3: float32 sums of ~1e3-sized terms */

/* conv2d params, symmetric: out, kernel RxS, stride, pad, dilation, groups, bias.
 * Asymmetric rows spell the struct out: { K, R, S, sh, sw, pt, pb, pl, pr, dh, dw, g, bias }. */
#define CV(k, r, s, st, pad, dil, g, b) \
    { (k), (r), (s), (st), (st), (pad), (pad), (pad), (pad), (dil), (dil), (g), (b), NULL }
/* pool params, symmetric: kernel RxS, stride, pad, ceil_mode, count_include_pad.
 * Asymmetric rows: { R, S, sh, sw, pt, pb, pl, pr, ceil, cip }. */
#define PL(r, s, st, pad, ceil, cip) { (r), (s), (st), (st), (pad), (pad), (pad), (pad), (ceil), (cip) }

/* label, op, batch, input C, H, W */
#define T(lbl, op_, b_, c_, h_, w_) .label = (lbl), .op = (op_), .batch = (b_), .c = (c_), .h = (h_), .w = (w_)

#define CONV CS_OP_CONV2D
#define MAXP CS_OP_MAXPOOL
#define AVGP CS_OP_AVGPOOL
#define ADAP CS_OP_ADAPTIVE_AVGPOOL

static const op_case cases[] = {
    /* conv2d ------------------------------------------------------------ */
    { T("conv 3->5 7x9 k3", CONV, 1, 3, 7, 9), .conv = CV(5, 3, 3, 1, 0, 1, 1, 1) },
    { T("conv 3->5 7x9 k3 p1", CONV, 1, 3, 7, 9), .conv = CV(5, 3, 3, 1, 1, 1, 1, 1) },
    { T("conv 3->5 7x9 k3 p1 nobias", CONV, 1, 3, 7, 9), .conv = CV(5, 3, 3, 1, 1, 1, 1, 0) },
    { T("conv 1->1 5x5 k1", CONV, 1, 1, 5, 5), .conv = CV(1, 1, 1, 1, 0, 1, 1, 1) },
    /* shapes that reach every fast path of cl/conv.cl (row-by-row layout,
     * Winograd, 1x1 panels, packed depthwise) and their edges */
    { T("conv fast rows 5->7 k3 p1 6x70", CONV, 1, 5, 6, 70), .conv = CV(7, 3, 3, 1, 1, 1, 1, 1) },
    { T("conv fast rows 4->6 k3 s2 p1 6x140", CONV, 1, 4, 6, 140), .conv = CV(6, 3, 3, 2, 1, 1, 1, 1) },
    { T("conv fast rows by size 160->8 k3 p1 40x40", CONV, 1, 160, 40, 40), .conv = CV(8, 3, 3, 1, 1, 1, 1, 1) },
    { T("conv winograd 128->130 k3 p1 41x39 b2", CONV, 2, 128, 41, 39), .conv = CV(130, 3, 3, 1, 1, 1, 1, 1) },
    { T("conv winograd 384->128 k3 asym t0 b2 l1 r0 7x9", CONV, 1, 384, 7, 9),
      .conv = { 128, 3, 3, 1, 1, 0, 2, 1, 0, 1, 1, 1, 1, NULL } },
    { T("conv panels 24->130 k1 s2 9x11", CONV, 1, 24, 9, 11), .conv = CV(130, 1, 1, 2, 0, 1, 1, 1) },
    { T("conv panels 40->128 k1 7x7 b2", CONV, 2, 40, 7, 7), .conv = CV(128, 1, 1, 1, 0, 1, 1, 1) },
    { T("conv weights > input 64->96 k3 p1 6x6", CONV, 1, 64, 6, 6), .conv = CV(96, 3, 3, 1, 1, 1, 1, 1) },
    { T("conv depthwise packed 16 k3 s2 p1 9x70 b2", CONV, 2, 16, 9, 70), .conv = CV(16, 3, 3, 2, 1, 1, 16, 1) },
    { T("conv 13->17 9x7 k1", CONV, 1, 13, 9, 7), .conv = CV(17, 1, 1, 1, 0, 1, 1, 1) },
    { T("conv 13->17 9x7 k1 nobias b3", CONV, 3, 13, 9, 7), .conv = CV(17, 1, 1, 1, 0, 1, 1, 0) },
    { T("conv 4->6 5x5 k5 kernel=input", CONV, 1, 4, 5, 5), .conv = CV(6, 5, 5, 1, 0, 1, 1, 1) },
    { T("conv 4->6 5x7 k5x7 kernel=input b3", CONV, 3, 4, 5, 7), .conv = CV(6, 5, 7, 1, 0, 1, 1, 1) },
    { T("conv 4->6 3x3 k5 p1 kernel=padded input", CONV, 1, 4, 3, 3), .conv = CV(6, 5, 5, 1, 1, 1, 1, 1) },
    { T("conv 3->8 7x9 k3 p2", CONV, 1, 3, 7, 9), .conv = CV(8, 3, 3, 1, 2, 1, 1, 1) },
    { T("conv 3->8 6x6 k5 p2", CONV, 1, 3, 6, 6), .conv = CV(8, 5, 5, 1, 2, 1, 1, 1) },
    { T("conv asym pad t0 b1 l2 r0", CONV, 1, 3, 7, 9), .conv = { 5, 3, 3, 1, 1, 0, 1, 2, 0, 1, 1, 1, 1, NULL } },
    { T("conv asym pad s2 t0 b1 l0 r1 (TF same)", CONV, 1, 5, 8, 8), .conv = { 8, 3, 3, 2, 2, 0, 1, 0, 1, 1, 1, 1, 1, NULL } },
    { T("conv asym pad k3x5 t2 b0 l0 r3", CONV, 1, 3, 6, 7), .conv = { 4, 3, 5, 1, 1, 2, 0, 0, 3, 1, 1, 1, 1, NULL } },
    { T("conv asym pad b3 t1 b2 l3 r0", CONV, 3, 6, 5, 9), .conv = { 7, 3, 3, 1, 1, 1, 2, 3, 0, 1, 1, 1, 0, NULL } },
    { T("conv s2 k3 p1 9x9", CONV, 1, 5, 9, 9), .conv = CV(7, 3, 3, 2, 1, 1, 1, 1) },
    { T("conv s2 k3 p1 10x10 b3", CONV, 3, 5, 10, 10), .conv = CV(7, 3, 3, 2, 1, 1, 1, 1) },
    { T("conv s2 k3 p0 8x8 last col unused", CONV, 1, 5, 8, 8), .conv = CV(7, 3, 3, 2, 0, 1, 1, 1) },
    { T("conv s4 k11 p2 35x35 3->8 (AlexNet conv1)", CONV, 1, 3, 35, 35), .conv = CV(8, 11, 11, 4, 2, 1, 1, 1) },
    { T("conv s4 k3 stride>kernel 13x13", CONV, 1, 4, 13, 13), .conv = CV(6, 3, 3, 4, 0, 1, 1, 1) },
    { T("conv s4 k1 9x11", CONV, 1, 4, 9, 11), .conv = CV(4, 1, 1, 4, 0, 1, 1, 1) },
    { T("conv s2x1 k3 p1", CONV, 1, 4, 9, 7), .conv = { 6, 3, 3, 2, 1, 1, 1, 1, 1, 1, 1, 1, 1, NULL } },
    { T("conv s3 k4 p1 even kernel", CONV, 1, 5, 11, 10), .conv = CV(7, 4, 4, 3, 1, 1, 1, 1) },
    { T("conv s2 k2 stride=kernel 7x7", CONV, 1, 2, 7, 7), .conv = CV(3, 2, 2, 2, 0, 1, 1, 1) },
    { T("conv dil2 k3 p2 9x9", CONV, 1, 5, 9, 9), .conv = CV(5, 3, 3, 1, 2, 2, 1, 1) },
    { T("conv dil2 k3 p0 11x8", CONV, 1, 5, 11, 8), .conv = CV(5, 3, 3, 1, 0, 2, 1, 1) },
    { T("conv dil2 s2 k3 p2 12x12", CONV, 1, 4, 12, 12), .conv = CV(6, 3, 3, 2, 2, 2, 1, 1) },
    { T("conv dil2x1 k3 p(2,1)", CONV, 1, 5, 9, 9), .conv = { 5, 3, 3, 1, 1, 2, 2, 1, 1, 2, 1, 1, 1, NULL } },
    { T("conv dil3 k3 p3 13x13 33->17", CONV, 1, 33, 13, 13), .conv = CV(17, 3, 3, 1, 3, 3, 1, 1) },
    { T("conv g2 4->6 k3", CONV, 1, 4, 7, 9), .conv = CV(6, 3, 3, 1, 0, 1, 2, 1) },
    { T("conv g2 6->4 k3 p1 nobias", CONV, 1, 6, 7, 7), .conv = CV(4, 3, 3, 1, 1, 1, 2, 0) },
    { T("conv g4 8->8 k3 p1 b3", CONV, 3, 8, 9, 9), .conv = CV(8, 3, 3, 1, 1, 1, 4, 1) },
    { T("conv g2 34->66 k3 s2 p1", CONV, 1, 34, 11, 11), .conv = CV(66, 3, 3, 2, 1, 1, 2, 1) },
    { T("conv g3 3->6 k3 p1 multiplier 2", CONV, 1, 3, 8, 8), .conv = CV(6, 3, 3, 1, 1, 1, 3, 1) },
    { T("conv g2 dil2 s2 asym pad", CONV, 1, 4, 12, 11), .conv = { 6, 3, 3, 2, 2, 1, 2, 2, 1, 2, 2, 2, 1, NULL } },
    { T("conv depthwise 5 k3 p1", CONV, 1, 5, 9, 9), .conv = CV(5, 3, 3, 1, 1, 1, 5, 1) },
    { T("conv depthwise 17 k3 s2 p1", CONV, 1, 17, 13, 11), .conv = CV(17, 3, 3, 2, 1, 1, 17, 1) },
    { T("conv depthwise 32 k3 p1 nobias b3", CONV, 3, 32, 14, 14), .conv = CV(32, 3, 3, 1, 1, 1, 32, 0) },
    { T("conv depthwise 13 k5 p2", CONV, 1, 13, 10, 10), .conv = CV(13, 5, 5, 1, 2, 1, 13, 1) },
    { T("conv depthwise 64 k3 p1 28x28", CONV, 1, 64, 28, 28), .conv = CV(64, 3, 3, 1, 1, 1, 64, 1) },
    { T("conv depthwise 8 k3 dil2 p2 asym", CONV, 1, 8, 10, 9), .conv = { 8, 3, 3, 1, 1, 2, 1, 0, 2, 2, 2, 8, 1, NULL } },
    { T("conv mask LeNet C3 6->16 k5 14x14", CONV, 1, 6, 14, 14), .conv = CV(16, 5, 5, 1, 0, 1, 1, 1), .mask = MASK_LENET_C3 },
    { T("conv mask LeNet C3 b3", CONV, 3, 6, 14, 14), .conv = CV(16, 5, 5, 1, 0, 1, 1, 1), .mask = MASK_LENET_C3 },
    { T("conv mask random g2 8->6 k3 p1", CONV, 1, 8, 7, 7), .conv = CV(6, 3, 3, 1, 1, 1, 2, 1), .mask = MASK_RANDOM },
    { T("conv mask random 5->9 k3 s2 nobias", CONV, 1, 5, 9, 9), .conv = CV(9, 3, 3, 2, 0, 1, 1, 0), .mask = MASK_RANDOM },
    { T("conv 3->3 k3 p1 11x11", CONV, 1, 3, 11, 11), .conv = CV(3, 3, 3, 1, 1, 1, 1, 1) },
    { T("conv 5->5 k3 p1 11x11", CONV, 1, 5, 11, 11), .conv = CV(5, 3, 3, 1, 1, 1, 1, 1) },
    { T("conv 13->13 k3 p1 11x11", CONV, 1, 13, 11, 11), .conv = CV(13, 3, 3, 1, 1, 1, 1, 1) },
    { T("conv 17->17 k3 p1 11x11", CONV, 1, 17, 11, 11), .conv = CV(17, 3, 3, 1, 1, 1, 1, 1) },
    { T("conv 33->33 k3 p1 11x11", CONV, 1, 33, 11, 11), .conv = CV(33, 3, 3, 1, 1, 1, 1, 1) },
    { T("conv 33->17 k3 s2 p1 15x15", CONV, 1, 33, 15, 15), .conv = CV(17, 3, 3, 2, 1, 1, 1, 1) },
    { T("conv 17->33 k3 p1 9x9 b3", CONV, 3, 17, 9, 9), .conv = CV(33, 3, 3, 1, 1, 1, 1, 1) },
    { T("conv 64->64 k3 p1 28x28", CONV, 1, 64, 28, 28), .conv = CV(64, 3, 3, 1, 1, 1, 1, 1) },
    { T("conv 64->64 k3 p1 28x28 nobias b3", CONV, 3, 64, 28, 28), .conv = CV(64, 3, 3, 1, 1, 1, 1, 0) },
    { T("conv 16->32 k1 s2 14x14 projection", CONV, 1, 16, 14, 14), .conv = CV(32, 1, 1, 2, 0, 1, 1, 0) },
    { T("conv 3->8 k7 s2 p3 32x32 (ResNet conv1)", CONV, 1, 3, 32, 32), .conv = CV(8, 7, 7, 2, 3, 1, 1, 0) },
    { T("conv 8->8 k1x7 p(0,3)", CONV, 1, 8, 9, 9), .conv = { 8, 1, 7, 1, 1, 0, 0, 3, 3, 1, 1, 1, 1, NULL } },
    { T("conv 8->8 k7x1 p(3,0)", CONV, 1, 8, 9, 9), .conv = { 8, 7, 1, 1, 1, 3, 3, 0, 0, 1, 1, 1, 1, NULL } },
    { T("conv 1->1 1x1 k1", CONV, 1, 1, 1, 1), .conv = CV(1, 1, 1, 1, 0, 1, 1, 1) },
    { T("conv 4->4 1x1 k3 p1", CONV, 1, 4, 1, 1), .conv = CV(4, 3, 3, 1, 1, 1, 1, 1) },
    { T("conv 3->4 1x9 k3 p1", CONV, 1, 3, 1, 9), .conv = CV(4, 3, 3, 1, 1, 1, 1, 1) },
    { T("conv 1->6 k5 p2 28x28 b3 (LeNet C1)", CONV, 3, 1, 28, 28), .conv = CV(6, 5, 5, 1, 2, 1, 1, 1) },
    { T("conv 3->96 k11 s4 63x63 b3", CONV, 3, 3, 63, 63), .conv = CV(96, 11, 11, 4, 0, 1, 1, 1) },
    { T("conv big values 3->8 k3 p1", CONV, 1, 3, 9, 9), .conv = CV(8, 3, 3, 1, 1, 1, 1, 1), .input = IN_BIG, .atol = ATOL_BIG },
    { T("conv big values 16->16 k1 b3", CONV, 3, 16, 5, 5), .conv = CV(16, 1, 1, 1, 0, 1, 1, 1), .input = IN_BIG, .atol = ATOL_BIG },
    { T("conv big values depthwise 9 k3 p1", CONV, 1, 9, 7, 7), .conv = CV(9, 3, 3, 1, 1, 1, 9, 1), .input = IN_BIG, .atol = ATOL_BIG },

    /* maxpool ----------------------------------------------------------- */
    { T("maxpool 2x2 s2 8x8", MAXP, 1, 4, 8, 8), .pool = PL(2, 2, 2, 0, 0, 1) },
    { T("maxpool 2x2 s2 7x7 floor", MAXP, 1, 4, 7, 7), .pool = PL(2, 2, 2, 0, 0, 1) },
    { T("maxpool 2x2 s2 7x7 ceil partial", MAXP, 1, 4, 7, 7), .pool = PL(2, 2, 2, 0, 1, 1) },
    { T("maxpool 3x3 s2 13x13 (AlexNet)", MAXP, 1, 16, 13, 13), .pool = PL(3, 3, 2, 0, 0, 1) },
    { T("maxpool 3x3 s2 ceil 14x14", MAXP, 1, 5, 14, 14), .pool = PL(3, 3, 2, 0, 1, 1) },
    { T("maxpool 3x3 s2 ceil 112->56 (GoogLeNet)", MAXP, 1, 3, 112, 112), .pool = PL(3, 3, 2, 0, 1, 1) },
    { T("maxpool 3x3 s1 p1 (inception branch)", MAXP, 1, 13, 9, 9), .pool = PL(3, 3, 1, 1, 0, 1) },
    { T("maxpool 3x3 s2 p1 (ResNet) b3", MAXP, 3, 8, 16, 16), .pool = PL(3, 3, 2, 1, 0, 1) },
    { T("maxpool 2x2 s3 stride>kernel 11x11", MAXP, 1, 3, 11, 11), .pool = PL(2, 2, 3, 0, 0, 1) },
    { T("maxpool 2x2 s3 ceil partial 13x13", MAXP, 1, 3, 13, 13), .pool = PL(2, 2, 3, 0, 1, 1) },
    { T("maxpool 2x2 s3 ceil 12x12 window dropped", MAXP, 1, 3, 12, 12), .pool = PL(2, 2, 3, 0, 1, 1) },
    { T("maxpool kernel=input 7x9", MAXP, 1, 6, 7, 9), .pool = PL(7, 9, 1, 0, 0, 1) },
    { T("maxpool all negative 3x3 s2 p1", MAXP, 1, 5, 9, 9), .pool = PL(3, 3, 2, 1, 0, 1), .input = IN_NEG },
    { T("maxpool all negative 2x2 s2 p1 ceil", MAXP, 1, 5, 6, 6), .pool = PL(2, 2, 2, 1, 1, 1), .input = IN_NEG },
    { T("maxpool 2x2 s2 p1 ceil 5x5 window dropped", MAXP, 1, 4, 5, 5), .pool = PL(2, 2, 2, 1, 1, 1) },
    { T("maxpool 3x3 s2 p1 ceil 17ch b3", MAXP, 3, 17, 10, 10), .pool = PL(3, 3, 2, 1, 1, 1) },
    { T("maxpool k3x2 s(2,1)", MAXP, 1, 4, 9, 8), .pool = { 3, 2, 2, 1, 0, 0, 0, 0, 0, 1 } },
    { T("maxpool asym pad t1 b0 l0 r1 k2 s2", MAXP, 1, 4, 7, 7), .pool = { 2, 2, 2, 2, 1, 0, 0, 1, 0, 1 } },
    { T("maxpool big values 2x2 s2 b3", MAXP, 3, 7, 6, 6), .pool = PL(2, 2, 2, 0, 0, 1), .input = IN_BIG },

    /* avgpool ----------------------------------------------------------- */
    { T("avgpool 2x2 s2 8x8", AVGP, 1, 4, 8, 8), .pool = PL(2, 2, 2, 0, 0, 1) },
    { T("avgpool 2x2 s2 28x28 b3 (LeNet S2)", AVGP, 3, 6, 28, 28), .pool = PL(2, 2, 2, 0, 0, 1) },
    { T("avgpool 3x3 s1 p1 cip", AVGP, 1, 5, 7, 9), .pool = PL(3, 3, 1, 1, 0, 1) },
    { T("avgpool 3x3 s1 p1 nocip", AVGP, 1, 5, 7, 9), .pool = PL(3, 3, 1, 1, 0, 0) },
    { T("avgpool 2x2 s2 7x7 ceil partial cip", AVGP, 1, 4, 7, 7), .pool = PL(2, 2, 2, 0, 1, 1) },
    { T("avgpool 2x2 s2 7x7 ceil partial nocip", AVGP, 1, 4, 7, 7), .pool = PL(2, 2, 2, 0, 1, 0) },
    { T("avgpool 3x3 s2 p1 ceil cip 8x8", AVGP, 1, 3, 8, 8), .pool = PL(3, 3, 2, 1, 1, 1) },
    { T("avgpool 3x3 s2 p1 ceil nocip 8x8", AVGP, 1, 3, 8, 8), .pool = PL(3, 3, 2, 1, 1, 0) },
    { T("avgpool 3x3 s2 p1 cip 9x9 b3", AVGP, 3, 6, 9, 9), .pool = PL(3, 3, 2, 1, 0, 1) },
    { T("avgpool 5x5 s3 14x14 (Inception aux)", AVGP, 1, 8, 14, 14), .pool = PL(5, 5, 3, 0, 0, 1) },
    { T("avgpool 2x2 s2 7x7 floor (DenseNet transition)", AVGP, 1, 16, 7, 7), .pool = PL(2, 2, 2, 0, 0, 1) },
    { T("avgpool 2x2 s3 stride>kernel 11x11", AVGP, 1, 3, 11, 11), .pool = PL(2, 2, 3, 0, 0, 1) },
    { T("avgpool 2x2 s3 ceil partial 13x13 nocip", AVGP, 1, 3, 13, 13), .pool = PL(2, 2, 3, 0, 1, 0) },
    { T("avgpool kernel=input 7x7", AVGP, 1, 12, 7, 7), .pool = PL(7, 7, 1, 0, 0, 1) },
    { T("avgpool asym pad t1 b0 l0 r1 cip", AVGP, 1, 4, 7, 6), .pool = { 2, 2, 2, 2, 1, 0, 0, 1, 0, 1 } },
    { T("avgpool asym pad t1 b0 l0 r1 nocip", AVGP, 1, 4, 7, 6), .pool = { 2, 2, 2, 2, 1, 0, 0, 1, 0, 0 } },
    { T("avgpool 2x2 s2 p1 ceil 5x5 window dropped cip", AVGP, 1, 4, 5, 5), .pool = PL(2, 2, 2, 1, 1, 1) },
    { T("avgpool 2x2 s2 p1 ceil 5x5 window dropped nocip", AVGP, 1, 4, 5, 5), .pool = PL(2, 2, 2, 1, 1, 0) },
    { T("avgpool k3x2 s(1,2) p(1,0)", AVGP, 1, 4, 8, 9), .pool = { 3, 2, 1, 2, 1, 1, 0, 0, 0, 1 } },
    { T("avgpool 3x3 s2 p1 ceil cip 17ch b3", AVGP, 3, 17, 10, 10), .pool = PL(3, 3, 2, 1, 1, 1) },
    { T("avgpool big values 3x3 s2 p1", AVGP, 1, 5, 9, 9), .pool = PL(3, 3, 2, 1, 0, 0), .input = IN_BIG, .atol = ATOL_BIG },

    /* adaptive avgpool -------------------------------------------------- */
    { T("adaptive global 7x7->1x1", ADAP, 1, 32, 7, 7), .out_h = 1, .out_w = 1 },
    { T("adaptive global 13x9->1x1 b3", ADAP, 3, 17, 13, 9), .out_h = 1, .out_w = 1 },
    { T("adaptive 7x7->7x7", ADAP, 1, 8, 7, 7), .out_h = 7, .out_w = 7 },
    { T("adaptive 13x13->6x6", ADAP, 1, 5, 13, 13), .out_h = 6, .out_w = 6 },
    { T("adaptive 5x5->3x3", ADAP, 1, 4, 5, 5), .out_h = 3, .out_w = 3 },
    { T("adaptive 14x10->7x5", ADAP, 1, 3, 14, 10), .out_h = 7, .out_w = 5 },
    { T("adaptive 2x2->3x3 upsampling", ADAP, 1, 3, 2, 2), .out_h = 3, .out_w = 3 },
    { T("adaptive 9x11->4x3 33ch b3", ADAP, 3, 33, 9, 11), .out_h = 4, .out_w = 3 },
    { T("adaptive 6x6->6x6 256ch (AlexNet)", ADAP, 1, 256, 6, 6), .out_h = 6, .out_w = 6 },
    { T("adaptive global big values", ADAP, 1, 9, 5, 5), .out_h = 1, .out_w = 1, .input = IN_BIG, .atol = ATOL_BIG },

    /* LRN --------------------------------------------------------------- */
    { T("lrn size5 AlexNet 16ch", CS_OP_LRN, 1, 16, 7, 7), .lrn = { 5, 1e-4f, 0.75f, 2.0f } },
    { T("lrn size5 GoogLeNet 13ch b3", CS_OP_LRN, 3, 13, 6, 6), .lrn = { 5, 1e-4f, 0.75f, 1.0f } },
    { T("lrn size2 a1 b0.5 k1", CS_OP_LRN, 1, 7, 5, 5), .lrn = { 2, 1.0f, 0.5f, 1.0f } },
    { T("lrn size3 a0.5 b0.75 k1", CS_OP_LRN, 1, 9, 4, 6), .lrn = { 3, 0.5f, 0.75f, 1.0f } },
    { T("lrn size4 even a1 b0.75 k2", CS_OP_LRN, 1, 11, 3, 5), .lrn = { 4, 1.0f, 0.75f, 2.0f } },
    { T("lrn size5 C=3 smaller than size", CS_OP_LRN, 1, 3, 5, 5), .lrn = { 5, 1.0f, 0.75f, 1.0f } },
    { T("lrn size5 C=1", CS_OP_LRN, 1, 1, 5, 5), .lrn = { 5, 1.0f, 0.75f, 1.0f } },
    { T("lrn size5 a1 b0.75 k1 wide", CS_OP_LRN, 1, 8, 5, 5), .lrn = { 5, 1.0f, 0.75f, 1.0f }, .input = IN_WIDE },
    { T("lrn size7 33ch b3", CS_OP_LRN, 3, 33, 4, 4), .lrn = { 7, 0.01f, 0.75f, 1.0f } },
    { T("lrn size1 a0.5 b1 k1", CS_OP_LRN, 1, 6, 4, 4), .lrn = { 1, 0.5f, 1.0f, 1.0f } },
    { T("lrn size5 AlexNet big values", CS_OP_LRN, 1, 16, 5, 5), .lrn = { 5, 1e-4f, 0.75f, 2.0f }, .input = IN_BIG },

    /* batchnorm, affine ------------------------------------------------- */
    { T("batchnorm 5ch 7x9", CS_OP_BATCHNORM, 1, 5, 7, 9), .f = 1e-5f },
    { T("batchnorm 64ch 14x14 b3", CS_OP_BATCHNORM, 3, 64, 14, 14), .f = 1e-5f },
    { T("batchnorm 17ch 1x1 eps1e-3", CS_OP_BATCHNORM, 1, 17, 1, 1), .f = 1e-3f },
    { T("batchnorm 3ch 28x28", CS_OP_BATCHNORM, 1, 3, 28, 28), .f = 1e-5f },
    { T("batchnorm big values b3", CS_OP_BATCHNORM, 3, 7, 5, 5), .f = 1e-5f, .input = IN_BIG },
    { T("affine 6ch 14x14 (LeNet S2)", CS_OP_AFFINE, 1, 6, 14, 14) },
    { T("affine 16ch 5x5 b3", CS_OP_AFFINE, 3, 16, 5, 5) },
    { T("affine 1ch 1x1", CS_OP_AFFINE, 1, 1, 1, 1) },
    { T("affine big values", CS_OP_AFFINE, 1, 13, 3, 7), .input = IN_BIG },

    /* act --------------------------------------------------------------- */
    { T("act relu 5x7x9", CS_OP_ACT, 1, 5, 7, 9), .act = CS_ACT_RELU, .input = IN_WIDE },
    { T("act relu 17x3x3 b3", CS_OP_ACT, 3, 17, 3, 3), .act = CS_ACT_RELU, .input = IN_WIDE },
    { T("act relu big values", CS_OP_ACT, 1, 9, 5, 5), .act = CS_ACT_RELU, .input = IN_BIG },
    { T("act tanh 5x7x9", CS_OP_ACT, 1, 5, 7, 9), .act = CS_ACT_TANH, .input = IN_WIDE },
    { T("act tanh 17x3x3 b3", CS_OP_ACT, 3, 17, 3, 3), .act = CS_ACT_TANH, .input = IN_WIDE },
    { T("act tanh big values", CS_OP_ACT, 1, 9, 5, 5), .act = CS_ACT_TANH, .input = IN_BIG },
    { T("act scaled_tanh 5x7x9", CS_OP_ACT, 1, 5, 7, 9), .act = CS_ACT_SCALED_TANH, .input = IN_WIDE },
    { T("act scaled_tanh 17x3x3 b3", CS_OP_ACT, 3, 17, 3, 3), .act = CS_ACT_SCALED_TANH, .input = IN_WIDE },
    { T("act scaled_tanh big values", CS_OP_ACT, 1, 9, 5, 5), .act = CS_ACT_SCALED_TANH, .input = IN_BIG },
    { T("act sigmoid 5x7x9", CS_OP_ACT, 1, 5, 7, 9), .act = CS_ACT_SIGMOID, .input = IN_WIDE },
    { T("act sigmoid 17x3x3 b3", CS_OP_ACT, 3, 17, 3, 3), .act = CS_ACT_SIGMOID, .input = IN_WIDE },
    { T("act sigmoid big values", CS_OP_ACT, 1, 9, 5, 5), .act = CS_ACT_SIGMOID, .input = IN_BIG },

    /* dense ------------------------------------------------------------- */
    { T("dense 16x5x5->120 (LeNet F5)", CS_OP_DENSE, 1, 16, 5, 5), .n = 120, .bias = 1 },
    { T("dense 120->84", CS_OP_DENSE, 1, 120, 1, 1), .n = 84, .bias = 1 },
    { T("dense 8x3x3->10 nobias", CS_OP_DENSE, 1, 8, 3, 3), .n = 10, .bias = 0 },
    { T("dense 8x3x3->10 b3", CS_OP_DENSE, 3, 8, 3, 3), .n = 10, .bias = 1 },
    { T("dense 256x2x2->1000", CS_OP_DENSE, 1, 256, 2, 2), .n = 1000, .bias = 1 },
    { T("dense 256x2x2->1000 nobias b3", CS_OP_DENSE, 3, 256, 2, 2), .n = 1000, .bias = 0 },
    { T("dense 13x7x7->1", CS_OP_DENSE, 1, 13, 7, 7), .n = 1, .bias = 1 },
    { T("dense 13x7x7->1 nobias b3", CS_OP_DENSE, 3, 13, 7, 7), .n = 1, .bias = 0 },
    { T("dense 33x1x1->17 b3", CS_OP_DENSE, 3, 33, 1, 1), .n = 17, .bias = 1 },
    { T("dense 1x1x1->5", CS_OP_DENSE, 1, 1, 1, 1), .n = 5, .bias = 1 },
    { T("dense big values 64x2x2->10", CS_OP_DENSE, 1, 64, 2, 2), .n = 10, .bias = 1, .input = IN_BIG, .atol = ATOL_BIG },

    /* flatten, dropout -------------------------------------------------- */
    { T("flatten 16x5x5", CS_OP_FLATTEN, 1, 16, 5, 5) },
    { T("flatten 7x3x9 b3", CS_OP_FLATTEN, 3, 7, 3, 9) },
    { T("flatten 10x1x1", CS_OP_FLATTEN, 1, 10, 1, 1) },
    { T("dropout p0.5 5x7x9", CS_OP_DROPOUT, 1, 5, 7, 9), .f = 0.5f },
    { T("dropout p0.2 3x1x1 b3", CS_OP_DROPOUT, 3, 3, 1, 1), .f = 0.2f },
    { T("dropout p0 big values", CS_OP_DROPOUT, 1, 4, 4, 4), .f = 0.0f, .input = IN_BIG },

    /* concat: operand 0 is the input, the others are 1x1 projections of it */
    { T("concat 2 inputs 3+5 7x9", CS_OP_CONCAT, 1, 3, 7, 9), .parts = { 5 }, .n_parts = 1 },
    { T("concat 3 inputs 5+13+1 6x6", CS_OP_CONCAT, 1, 5, 6, 6), .parts = { 13, 1 }, .n_parts = 2 },
    { T("concat 4 inputs 16+8+17+3 5x5 b3", CS_OP_CONCAT, 3, 16, 5, 5), .parts = { 8, 17, 3 }, .n_parts = 3 },
    { T("concat 2 inputs 32+32 1x1 b3", CS_OP_CONCAT, 3, 32, 1, 1), .parts = { 32 }, .n_parts = 1 },
    { T("concat 4 inputs 1+1+1+1 9x7", CS_OP_CONCAT, 1, 1, 9, 7), .parts = { 1, 1, 1 }, .n_parts = 3 },
    { T("concat 3 inputs 64+32+16 14x14", CS_OP_CONCAT, 1, 64, 14, 14), .parts = { 32, 16 }, .n_parts = 2 },

    /* add: a = input, b = a 1x1 projection of it ------------------------ */
    { T("add 5x7x9", CS_OP_ADD, 1, 5, 7, 9) },
    { T("add relu 5x7x9", CS_OP_ADD, 1, 5, 7, 9), .relu = 1 },
    { T("add 17x3x3 b3", CS_OP_ADD, 3, 17, 3, 3) },
    { T("add relu 64x14x14 b3", CS_OP_ADD, 3, 64, 14, 14), .relu = 1 },
    { T("add relu big values", CS_OP_ADD, 1, 6, 5, 5), .relu = 1, .input = IN_BIG, .atol = ATOL_BIG },
    { T("add 1x1x1", CS_OP_ADD, 1, 1, 1, 1) },

    /* scale: x = input, s = sigmoid(global avgpool(x)) (SE) -------------- */
    { T("scale SE 17x7x7", CS_OP_SCALE, 1, 17, 7, 7) },
    { T("scale SE 64x14x14 b3", CS_OP_SCALE, 3, 64, 14, 14) },
    { T("scale SE 5x1x1", CS_OP_SCALE, 1, 5, 1, 1) },
    { T("scale SE 33x9x11 b3", CS_OP_SCALE, 3, 33, 9, 11), .input = IN_WIDE },

    /* softmax ------------------------------------------------------------ */
    { T("softmax 10x1x1", CS_OP_SOFTMAX, 1, 10, 1, 1), .input = IN_WIDE },
    { T("softmax 1000x1x1 b3", CS_OP_SOFTMAX, 3, 1000, 1, 1), .input = IN_WIDE },
    { T("softmax 5x3x4 per position", CS_OP_SOFTMAX, 1, 5, 3, 4), .input = IN_WIDE },
    { T("softmax 17x7x7 b3 per position", CS_OP_SOFTMAX, 3, 17, 7, 7), .input = IN_WIDE },
    { T("softmax big values 10x1x1 (needs max subtraction)", CS_OP_SOFTMAX, 1, 10, 1, 1), .input = IN_BIG },
    { T("softmax big values 5x3x4 b3", CS_OP_SOFTMAX, 3, 5, 3, 4), .input = IN_BIG },
    { T("softmax 1x1x1", CS_OP_SOFTMAX, 1, 1, 1, 1) },

    /* rbf ---------------------------------------------------------------- */
    { T("rbf 84->10 (LeNet)", CS_OP_RBF, 1, 84, 1, 1), .n = 10 },
    { T("rbf 84->10 b3", CS_OP_RBF, 3, 84, 1, 1), .n = 10 },
    { T("rbf 20->7", CS_OP_RBF, 1, 20, 1, 1), .n = 7 },
    { T("rbf 1->1", CS_OP_RBF, 1, 1, 1, 1), .n = 1 },
    { T("rbf 84->10 wide", CS_OP_RBF, 1, 84, 1, 1), .n = 10, .input = IN_WIDE },
};

#define N_CASES ((int)(sizeof(cases) / sizeof(cases[0])))

/* LeNet-5 C3 (LeCun et al. 1998, table I): the S2 maps each C3 map reads. */
static const char *const lenet_c3[16] = {
    "111000", "011100", "001110", "000111", "100011", "110001", "111100", "011110",
    "001111", "100111", "110011", "111001", "110110", "011011", "101101", "111111",
};

/* ------------------------------------------------------------------------ */
/* Seeded values                                                            */
/* ------------------------------------------------------------------------ */

static uint32_t rng_next(uint32_t *state)   /* xorshift32 */
{
    uint32_t x = *state;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    *state = x;
    return x;
}

static float rng_uniform(uint32_t *state, float lo, float hi)   /* [lo, hi] */
{
    const float u = (float)(rng_next(state) >> 8) * (1.0f / 16777215.0f);
    return lo + (hi - lo) * u;
}

static uint32_t seed_of(const char *label)   /* FNV-1a, never 0 */
{
    uint32_t h = 2166136261u;
    for (const char *p = label; *p; p++)
        h = (h ^ (uint8_t)*p) * 16777619u;
    return h ? h : 1u;
}

static void fill_input(float *x, size_t count, int kind, uint32_t *rng)
{
    static const float big_scale[4] = { 1.0f, 10.0f, 100.0f, 1000.0f };
    for (size_t i = 0; i < count; i++) {
        switch (kind) {
        case IN_WIDE: x[i] = rng_uniform(rng, -4.0f, 4.0f); break;
        case IN_NEG: x[i] = rng_uniform(rng, -4.0f, -1.0f); break;
        case IN_BIG: x[i] = rng_uniform(rng, -1.0f, 1.0f) * big_scale[rng_next(rng) & 3u]; break;
        default: x[i] = rng_uniform(rng, -1.0f, 1.0f); break;
        }
    }
}

/* Fills every learnable tensor of the graph: conv/dense weights scaled by
 * 1/sqrt(fan_in) so outputs stay O(1), running_var in [0.5, 1.5]. */
static int fill_params(cs_graph *g, uint32_t *rng)
{
    const int n_nodes = cs_graph_node_count(g);
    for (int id = 0; id < n_nodes; id++) {
        const int n_params = cs_graph_param_count(g, id);
        const cs_op op = cs_graph_node_op(g, id);
        for (int i = 0; i < n_params; i++) {
            cs_param_info info = { 0 };
            if (cs_graph_param(g, id, i, &info) != CS_OK || !info.data || !info.name) {
                printf("  cs_graph_param(node %d, %d) failed: %s\n", id, i, cs_last_error());
                return -1;
            }
            float lo = -1.0f, hi = 1.0f;
            if (strcmp(info.name, "running_var") == 0) {
                lo = 0.5f;
                hi = 1.5f;
            } else if ((op == CS_OP_CONV2D || op == CS_OP_DENSE) && info.ndim >= 2) {
                size_t fan_in = info.count / (size_t)(info.dims[0] > 0 ? info.dims[0] : 1);
                const float s = 1.0f / sqrtf((float)(fan_in ? fan_in : 1));
                lo = -s;
                hi = s;
            }
            for (size_t j = 0; j < info.count; j++)
                info.data[j] = rng_uniform(rng, lo, hi);
        }
    }
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Canary buffers and comparison                                            */
/* ------------------------------------------------------------------------ */

#define CANARY_BITS 0x7fcafe5au   /* a quiet NaN no backend computes */

static float canary(void)
{
    float f = 0.0f;
    const uint32_t bits = CANARY_BITS;
    memcpy(&f, &bits, sizeof f);
    return f;
}

static int is_canary(float f)
{
    uint32_t bits = 0;
    memcpy(&bits, &f, sizeof bits);
    return bits == CANARY_BITS;
}

/* count + 1 floats, all canaries; the extra one must survive every read. */
static float *canary_alloc(size_t count)
{
    float *p = malloc((count + 1) * sizeof *p);
    if (!p)
        return NULL;
    for (size_t i = 0; i <= count; i++)
        p[i] = canary();
    return p;
}

typedef struct tol {
    float atol, rtol;
} tol;

typedef struct shape4 {
    int n, c, h, w;
} shape4;

static void index_of(shape4 s, size_t i, int *n, int *c, int *h, int *w)
{
    *w = (int)(i % (size_t)s.w);
    i /= (size_t)s.w;
    *h = (int)(i % (size_t)s.h);
    i /= (size_t)s.h;
    *c = (int)(i % (size_t)s.c);
    *n = (int)(i / (size_t)s.c);
}

/* Compares `got` against `ref` (count elements, both canary-guarded at
 * [count]). Prints why on failure; *max_abs receives the largest difference. */
static int compare(const char *what, const float *ref, const float *got, shape4 s, tol t,
                   double *max_abs_out)
{
    const size_t count = (size_t)s.n * (size_t)s.c * (size_t)s.h * (size_t)s.w;
    double max_abs = 0.0, max_rel = 0.0;
    size_t n_bad = 0, first_bad = 0;
    const char *first_why = "";
    int n = 0, c = 0, h = 0, w = 0;

    for (size_t i = 0; i < count; i++) {
        const float a = ref[i], b = got[i];
        const char *why = NULL;
        if (is_canary(a) || is_canary(b))
            why = is_canary(a) ? "reference left unwritten (canary)" : "left unwritten (canary)";
        else if (!isfinite(a) || !isfinite(b))
            why = !isfinite(a) ? "reference not finite" : "not finite";
        else {
            const double d = fabs((double)a - (double)b);
            const double rel = d / fmax(fabs((double)a), 1e-30);
            if (d > max_abs)
                max_abs = d;
            if (rel > max_rel && d > 0.0)
                max_rel = rel;
            if (d > (double)t.atol + (double)t.rtol * fabs((double)a))
                why = "outside tolerance";
        }
        if (why) {
            if (n_bad == 0) {
                first_bad = i;
                first_why = why;
            }
            n_bad++;
        }
    }
    *max_abs_out = max_abs;
    int tail_ok = is_canary(ref[count]) && is_canary(got[count]);
    if (n_bad == 0 && tail_ok)
        return 0;

    printf("    %s: %zu of %zu elements bad, max abs diff %.3g, max rel diff %.3g (atol %g, rtol %g)\n",
           what, n_bad, count, max_abs, max_rel, (double)t.atol, (double)t.rtol);
    if (n_bad) {
        index_of(s, first_bad, &n, &c, &h, &w);
        printf("    first mismatch at [%zu] = (n %d, c %d, h %d, w %d): reference %.9g, got %.9g (%s)\n",
               first_bad, n, c, h, w, (double)ref[first_bad], (double)got[first_bad], first_why);
    }
    if (!tail_ok)
        printf("    the guard element after the %zu read floats was overwritten (%s)\n", count,
               is_canary(ref[count]) ? "device read" : "reference read");
    return -1;
}

/* ------------------------------------------------------------------------ */
/* Building and running one case                                            */
/* ------------------------------------------------------------------------ */

static int conv_out(int in, int k, int st, int lo, int hi, int dil)
{
    return (in + lo + hi - dil * (k - 1) - 1) / st + 1;
}

static int pool_out(int in, int k, int st, int lo, int hi, int ceil_mode)
{
    int out = (in + lo + hi - k + (ceil_mode ? st - 1 : 0)) / st + 1;
    if (ceil_mode && (out - 1) * st >= in + lo)
        out--;
    return out;
}

/* The output shape PyTorch gives, worked out here independently of the builder. */
static void expected_shape(const op_case *tc, int *c, int *h, int *w)
{
    *c = tc->c;
    *h = tc->h;
    *w = tc->w;
    switch (tc->op) {
    case CS_OP_CONV2D: {
        const cs_conv2d_params *p = &tc->conv;
        *c = p->out_channels;
        *h = conv_out(tc->h, p->kernel_h, p->stride_h, p->pad_top, p->pad_bottom, p->dilation_h);
        *w = conv_out(tc->w, p->kernel_w, p->stride_w, p->pad_left, p->pad_right, p->dilation_w);
        break;
    }
    case CS_OP_MAXPOOL:
    case CS_OP_AVGPOOL: {
        const cs_pool_params *p = &tc->pool;
        *h = pool_out(tc->h, p->kernel_h, p->stride_h, p->pad_top, p->pad_bottom, p->ceil_mode);
        *w = pool_out(tc->w, p->kernel_w, p->stride_w, p->pad_left, p->pad_right, p->ceil_mode);
        break;
    }
    case CS_OP_ADAPTIVE_AVGPOOL:
        *h = tc->out_h;
        *w = tc->out_w;
        break;
    case CS_OP_DENSE:
    case CS_OP_RBF:
        *c = tc->n;
        *h = *w = 1;
        break;
    case CS_OP_FLATTEN:
        *c = tc->c * tc->h * tc->w;
        *h = *w = 1;
        break;
    case CS_OP_CONCAT:
        for (int i = 0; i < tc->n_parts; i++)
            *c += tc->parts[i];
        break;
    default:
        break;
    }
}

static int project_1x1(cs_graph *g, const char *name, int x, int out_channels)
{
    const cs_conv2d_params p = CV(out_channels, 1, 1, 1, 0, 1, 1, 1);
    return cs_conv2d(g, name, x, &p);
}

/* Builds the case's graph; returns the node under test (always the last). */
static int build_case(const op_case *tc, cs_graph *g, uint32_t *rng)
{
    const int x = cs_input(g, "input", tc->c, tc->h, tc->w);
    switch (tc->op) {
    case CS_OP_CONV2D: {
        cs_conv2d_params p = tc->conv;
        const int cg = p.groups > 0 ? tc->c / p.groups : 0;
        uint8_t *mask = NULL;
        if (tc->mask != MASK_NONE) {
            mask = calloc((size_t)p.out_channels * (size_t)cg + 1, 1);
            if (!mask)
                return -1;
            for (int k = 0; k < p.out_channels; k++)
                for (int c = 0; c < cg; c++)
                    mask[k * cg + c] = tc->mask == MASK_LENET_C3 ? (uint8_t)(lenet_c3[k][c] == '1')
                                                                  : (uint8_t)(rng_next(rng) & 1u);
            p.mask = mask;
        }
        const int id = cs_conv2d(g, "op", x, &p);
        if (mask)   /* the builder copies the mask: scribble over ours before freeing it */
            memset(mask, 0xff, (size_t)p.out_channels * (size_t)cg);
        free(mask);
        return id;
    }
    case CS_OP_MAXPOOL: return cs_maxpool(g, "op", x, &tc->pool);
    case CS_OP_AVGPOOL: return cs_avgpool(g, "op", x, &tc->pool);
    case CS_OP_ADAPTIVE_AVGPOOL: return cs_adaptive_avgpool(g, "op", x, tc->out_h, tc->out_w);
    case CS_OP_LRN: return cs_lrn(g, "op", x, &tc->lrn);
    case CS_OP_BATCHNORM: return cs_batchnorm(g, "op", x, tc->f);
    case CS_OP_AFFINE: return cs_affine(g, "op", x);
    case CS_OP_ACT: return cs_act(g, "op", x, tc->act);
    case CS_OP_DENSE: return cs_dense(g, "op", x, tc->n, tc->bias);
    case CS_OP_FLATTEN: return cs_flatten(g, "op", x);
    case CS_OP_DROPOUT: return cs_dropout(g, "op", x, tc->f);
    case CS_OP_CONCAT: {
        static const char *const names[3] = { "part1", "part2", "part3" };
        int xs[4] = { x, -1, -1, -1 };
        for (int i = 0; i < tc->n_parts; i++)
            xs[i + 1] = project_1x1(g, names[i], x, tc->parts[i]);
        return cs_concat(g, "op", xs, tc->n_parts + 1);
    }
    case CS_OP_ADD: {
        const int b = project_1x1(g, "operand", x, tc->c);
        return cs_add(g, "op", x, b, tc->relu);
    }
    case CS_OP_SCALE: {
        const int squeeze = cs_adaptive_avgpool(g, "squeeze", x, 1, 1);
        const int excite = cs_act(g, "excite", squeeze, CS_ACT_SIGMOID);
        return cs_scale(g, "op", x, excite);
    }
    case CS_OP_SOFTMAX: return cs_softmax(g, "op", x);
    case CS_OP_RBF: return cs_rbf(g, "op", x, tc->n);
    default: return -1;
    }
}

/* Runs `g` on `dev` with `input` and reads node `node` into a fresh canary
 * buffer of count + 1 floats. Returns NULL (after printing why) on failure. */
static float *run_and_read(const cs_graph *g, cs_device_choice dev, int batch, const float *input,
                           size_t in_count, int node, size_t count)
{
    cs_session *s = NULL;
    float *out = NULL;
    const char *step = "cs_session_create";
    cs_status st = cs_session_create(&s, g, dev, batch, 0);
    if (st == CS_OK) {
        step = "cs_session_set_input";
        st = cs_session_set_input(s, input, in_count);
    }
    if (st == CS_OK) {
        step = "cs_session_run";
        st = cs_session_run(s);
    }
    if (st == CS_OK) {
        step = "cs_session_read";
        out = canary_alloc(count);
        st = out ? cs_session_read(s, node, out, count) : CS_ERR_NO_MEMORY;
    }
    if (st != CS_OK) {
        printf("    %s on %s failed: %s: %s\n", step, dev.reference ? "reference" : "OpenCL",
               cs_status_name(st), cs_last_error());
        free(out);
        out = NULL;
    }
    cs_session_free(s);
    return out;
}

static cs_device_choice ref_device(void)
{
    const cs_device_choice d = { 1, 0 };
    return d;
}

static int run_case(const op_case *tc, cs_device_choice cl_dev, double *max_abs)
{
    uint32_t rng = seed_of(tc->label);
    cs_graph *g = NULL;
    float *input = NULL, *ref = NULL, *got = NULL;
    int rc = -1;
    int c = 0, h = 0, w = 0, ec = 0, eh = 0, ew = 0;

    *max_abs = 0.0;
    if (cs_graph_create(&g, "test_ops") != CS_OK) {
        printf("    cs_graph_create failed: %s\n", cs_last_error());
        return -1;
    }
    const int node = build_case(tc, g, &rng);
    if (node < 0 || cs_graph_status(g) != CS_OK) {
        printf("    building the graph failed: %s: %s\n", cs_status_name(cs_graph_status(g)), cs_last_error());
        goto done;
    }
    if (node != cs_graph_node_count(g) - 1 || cs_graph_node_shape(g, node, &c, &h, &w) != CS_OK) {
        printf("    node %d is not the last of %d or has no shape\n", node, cs_graph_node_count(g));
        goto done;
    }
    expected_shape(tc, &ec, &eh, &ew);
    if (c != ec || h != eh || w != ew) {
        printf("    output shape (%d, %d, %d), expected (%d, %d, %d)\n", c, h, w, ec, eh, ew);
        goto done;
    }
    if (fill_params(g, &rng) != 0)
        goto done;

    const size_t in_count = (size_t)tc->batch * (size_t)tc->c * (size_t)tc->h * (size_t)tc->w;
    const size_t count = (size_t)tc->batch * (size_t)c * (size_t)h * (size_t)w;
    input = malloc(in_count * sizeof *input);
    if (!input)
        goto done;
    fill_input(input, in_count, tc->input, &rng);

    ref = run_and_read(g, ref_device(), tc->batch, input, in_count, node, count);
    got = ref ? run_and_read(g, cl_dev, tc->batch, input, in_count, node, count) : NULL;
    if (!got)
        goto done;
    const tol t = { tc->atol > 0.0f ? tc->atol : ATOL_DEFAULT, tc->rtol > 0.0f ? tc->rtol : RTOL_DEFAULT };
    const shape4 s4 = { tc->batch, c, h, w };
    rc = compare("OpenCL vs reference", ref, got, s4, t, max_abs);

done:
    free(input);
    free(ref);
    free(got);
    cs_graph_free(g);
    return rc;
}

/* ------------------------------------------------------------------------ */
/* Multi-node graph: node by node, then stepping                            */
/* ------------------------------------------------------------------------ */

enum { MN_BATCH = 2, MN_C = 3, MN_H = 17, MN_W = 17 };

static int build_multi(cs_graph *g)
{
    const cs_conv2d_params c1 = CV(8, 3, 3, 1, 1, 1, 1, 0);
    const cs_pool_params mp = PL(3, 3, 2, 1, 0, 1);
    const cs_conv2d_params c2 = CV(8, 3, 3, 1, 1, 1, 2, 1);
    const int x = cs_input(g, "input", MN_C, MN_H, MN_W);
    const int conv1 = cs_conv2d(g, "conv1", x, &c1);
    const int bn1 = cs_batchnorm(g, "bn1", conv1, 1e-5f);
    const int relu1 = cs_act(g, "relu1", bn1, CS_ACT_RELU);
    const int pool1 = cs_maxpool(g, "maxpool", relu1, &mp);
    const int conv2 = cs_conv2d(g, "layer1.0.conv", pool1, &c2);
    const int sum = cs_add(g, "layer1.0.add", pool1, conv2, 1);
    const int gap = cs_adaptive_avgpool(g, "avgpool", sum, 3, 3);
    const int flat = cs_flatten(g, "flatten", gap);
    const int fc = cs_dense(g, "fc", flat, 10, 1);
    return cs_softmax(g, "softmax", fc);
}

typedef struct multi_ctx {
    cs_graph *g;
    int n_nodes;
    float *input;
    size_t in_count;
    float **whole;   /* per node: the reference backend's whole-run output (canary-guarded) */
    float **whole_cl; /* per node: the OpenCL backend's whole-run output */
    size_t *counts;
} multi_ctx;

static size_t node_count(const cs_graph *g, int node, int batch, shape4 *s)
{
    int c = 0, h = 0, w = 0;
    cs_graph_node_shape(g, node, &c, &h, &w);
    s->n = batch;
    s->c = c;
    s->h = h;
    s->w = w;
    return (size_t)batch * (size_t)c * (size_t)h * (size_t)w;
}

static int multi_setup(multi_ctx *m)
{
    uint32_t rng = seed_of("multi-node");
    memset(m, 0, sizeof *m);
    if (cs_graph_create(&m->g, "multi") != CS_OK || build_multi(m->g) < 0) {
        printf("    building the multi-node graph failed: %s\n", cs_last_error());
        return -1;
    }
    m->n_nodes = cs_graph_node_count(m->g);
    if (fill_params(m->g, &rng) != 0)
        return -1;
    m->in_count = (size_t)MN_BATCH * MN_C * MN_H * MN_W;
    m->input = malloc(m->in_count * sizeof *m->input);
    m->whole = calloc((size_t)m->n_nodes, sizeof *m->whole);
    m->whole_cl = calloc((size_t)m->n_nodes, sizeof *m->whole_cl);
    m->counts = calloc((size_t)m->n_nodes, sizeof *m->counts);
    if (!m->input || !m->whole || !m->whole_cl || !m->counts)
        return -1;
    fill_input(m->input, m->in_count, IN_UNIT, &rng);
    return 0;
}

static void multi_teardown(multi_ctx *m)
{
    for (int i = 0; m->whole && m->whole_cl && i < m->n_nodes; i++) {
        free(m->whole[i]);
        free(m->whole_cl[i]);
    }
    free(m->whole);
    free(m->whole_cl);
    free(m->counts);
    free(m->input);
    cs_graph_free(m->g);
}

static cs_status open_keep_all(cs_session **s, const multi_ctx *m, cs_device_choice dev)
{
    cs_status st = cs_session_create(s, m->g, dev, MN_BATCH, CS_SESSION_KEEP_ALL);
    if (st == CS_OK)
        st = cs_session_set_input(*s, m->input, m->in_count);
    if (st != CS_OK)
        printf("    session on %s: %s: %s\n", dev.reference ? "reference" : "OpenCL", cs_status_name(st),
               cs_last_error());
    return st;
}

/* Reads node `id` of `s` into a canary buffer (NULL on failure, printed). */
static float *read_node(cs_session *s, const multi_ctx *m, int id)
{
    float *got = canary_alloc(m->counts[id]);
    const cs_status st = got ? cs_session_read(s, id, got, m->counts[id]) : CS_ERR_NO_MEMORY;
    if (st != CS_OK) {
        printf("    cs_session_read(node %d '%s'): %s: %s\n", id, cs_graph_node_name(m->g, id),
               cs_status_name(st), cs_last_error());
        free(got);
        return NULL;
    }
    return got;
}

/* Reads node `id` of `s` and compares it with expect[id]. */
static int check_node(cs_session *s, const multi_ctx *m, float *const *expect, int id, const char *what,
                      double *max_abs)
{
    shape4 s4 = { 0, 0, 0, 0 };
    char label[160] = "";
    const tol t = { ATOL_DEFAULT, RTOL_DEFAULT };
    double d = 0.0;
    int rc = -1;
    node_count(m->g, id, MN_BATCH, &s4);
    float *got = read_node(s, m, id);
    snprintf(label, sizeof label, "%s, node %d '%s'", what, id, cs_graph_node_name(m->g, id));
    if (got)
        rc = compare(label, expect[id], got, s4, t, &d);
    if (d > *max_abs)
        *max_abs = d;
    free(got);
    return rc;
}

/* Both backends, KEEP_ALL, whole run: every node compared. Fills m->whole. */
static int test_multi_nodes(multi_ctx *m, cs_device_choice cl_dev, double *max_abs)
{
    cs_session *ref = NULL, *cl = NULL;
    int rc = -1;
    if (open_keep_all(&ref, m, ref_device()) != CS_OK || cs_session_run(ref) != CS_OK) {
        printf("    reference run failed: %s\n", cs_last_error());
        goto done;
    }
    for (int id = 0; id < m->n_nodes; id++) {
        shape4 s4 = { 0, 0, 0, 0 };
        m->counts[id] = node_count(m->g, id, MN_BATCH, &s4);
        m->whole[id] = read_node(ref, m, id);
        if (!m->whole[id])
            goto done;
    }
    if (cs_session_progress(ref) != m->n_nodes - 1) {
        printf("    progress after a whole run is %d, expected %d\n", cs_session_progress(ref), m->n_nodes - 1);
        goto done;
    }
    if (open_keep_all(&cl, m, cl_dev) != CS_OK || cs_session_run(cl) != CS_OK) {
        printf("    OpenCL run failed: %s\n", cs_last_error());
        goto done;
    }
    rc = 0;
    {   /* count is the destination's capacity: a bigger one gets exactly the node's
         * floats (the rest keeps its canaries), a smaller one is refused untouched */
        const int last = m->n_nodes - 1;
        const size_t n = m->counts[last];
        float *buf = canary_alloc(n + 2);
        const cs_status big = buf ? cs_session_read(cl, last, buf, n + 1) : CS_ERR_NO_MEMORY;
        const int big_ok = big == CS_OK && buf && !is_canary(buf[n - 1]) && is_canary(buf[n]) && is_canary(buf[n + 1]);
        for (size_t i = 0; buf && i < n + 2; i++)
            buf[i] = canary();
        const cs_status small = buf ? cs_session_read(cl, last, buf, n - 1) : CS_ERR_NO_MEMORY;
        const int small_ok = small != CS_OK && buf && is_canary(buf[0]);
        if (!big_ok || !small_ok) {
            printf("    cs_session_read of node %d (%zu floats) into %zu: %s%s; into %zu: %s%s\n", last, n, n + 1,
                   cs_status_name(big), big_ok ? "" : " (expected CS_OK writing exactly the output)", n - 1,
                   cs_status_name(small), small_ok ? "" : " (expected an error, nothing written)");
            rc = -1;
        }
        free(buf);
    }
    for (int id = 0; id < m->n_nodes; id++) {
        m->whole_cl[id] = read_node(cl, m, id);
        if (!m->whole_cl[id] || check_node(cl, m, m->whole, id, "OpenCL vs reference", max_abs) != 0)
            rc = -1;
    }
done:
    cs_session_free(ref);
    cs_session_free(cl);
    return rc;
}

/* Stepping on one backend: step_to(k) for k increasing; progress is k; node k
 * and an earlier node equal the whole run; stepping back is free; a new input
 * resets progress; a node not yet computed cannot be read. */
static int test_stepping(multi_ctx *m, cs_device_choice dev, double *max_abs)
{
    cs_session *s = NULL;
    const char *what = dev.reference ? "reference stepping vs whole run" : "OpenCL stepping vs whole run";
    float *const *whole = dev.reference ? m->whole : m->whole_cl;
    int rc = -1;
    if (open_keep_all(&s, m, dev) != CS_OK)
        goto done;
    if (cs_session_progress(s) != -1) {
        printf("    progress before any step is %d, expected -1\n", cs_session_progress(s));
        goto done;
    }
    rc = 0;
    for (int k = 0; k < m->n_nodes && rc == 0; k++) {
        const cs_status st = cs_session_step_to(s, k);
        if (st != CS_OK) {
            printf("    cs_session_step_to(%d): %s: %s\n", k, cs_status_name(st), cs_last_error());
            rc = -1;
            break;
        }
        if (cs_session_progress(s) != k) {
            printf("    progress after step_to(%d) is %d\n", k, cs_session_progress(s));
            rc = -1;
        }
        if (check_node(s, m, whole, k, what, max_abs) != 0 || check_node(s, m, whole, k / 2, what, max_abs) != 0)
            rc = -1;
    }
    if (rc != 0)
        goto done;
    /* Step back to an early node: nothing to recompute, values unchanged. */
    if (cs_session_step_to(s, 2) != CS_OK || check_node(s, m, whole, 2, what, max_abs) != 0 ||
        check_node(s, m, whole, m->n_nodes - 1, what, max_abs) != 0) {
        printf("    stepping back to node 2 failed: %s\n", cs_last_error());
        rc = -1;
        goto done;
    }
    /* A new input resets progress; a node ahead of progress is not readable. */
    if (cs_session_set_input(s, m->input, m->in_count) != CS_OK || cs_session_progress(s) != -1) {
        printf("    after a new input progress is %d, expected -1\n", cs_session_progress(s));
        rc = -1;
        goto done;
    }
    if (cs_session_step_to(s, 4) != CS_OK || cs_session_progress(s) != 4 ||
        check_node(s, m, whole, 4, what, max_abs) != 0) {
        printf("    step_to(4) after a new input: progress %d: %s\n", cs_session_progress(s), cs_last_error());
        rc = -1;
        goto done;
    }
    {
        const int last = m->n_nodes - 1;
        float *buf = canary_alloc(m->counts[last]);
        const cs_status st = buf ? cs_session_read(s, last, buf, m->counts[last]) : CS_ERR_NO_MEMORY;
        free(buf);
        if (st == CS_OK) {
            printf("    reading node %d ahead of progress 4 succeeded; expected an error\n", last);
            rc = -1;
        }
    }
done:
    cs_session_free(s);
    return rc;
}

/* ------------------------------------------------------------------------ */
/* Masked conv equals the unmasked conv with those weights zeroed            */
/* ------------------------------------------------------------------------ */

static int test_mask_semantics(cs_device_choice dev, double *max_abs)
{
    const cs_conv2d_params base = CV(16, 5, 5, 1, 0, 1, 1, 1);
    cs_conv2d_params pm = base;
    uint8_t mask[16 * 6] = { 0 }, passed[16 * 6] = { 0 };
    cs_graph *gm = NULL, *gz = NULL;
    float *input = NULL, *a = NULL, *b = NULL;
    uint32_t rng = seed_of("mask semantics");
    const int batch = 2;
    const size_t in_count = (size_t)batch * 6 * 10 * 10, count = (size_t)batch * 16 * 6 * 6;
    int rc = -1;

    for (int k = 0; k < 16; k++)
        for (int c = 0; c < 6; c++)
            mask[k * 6 + c] = (uint8_t)(lenet_c3[k][c] == '1');
    memcpy(passed, mask, sizeof mask);
    pm.mask = passed;
    if (cs_graph_create(&gm, "masked") != CS_OK || cs_graph_create(&gz, "zeroed") != CS_OK)
        goto done;
    const int xm = cs_input(gm, "input", 6, 10, 10), xz = cs_input(gz, "input", 6, 10, 10);
    const int nm = cs_conv2d(gm, "c3", xm, &pm), nz = cs_conv2d(gz, "c3", xz, &base);
    if (nm < 0 || nz < 0) {
        printf("    building failed: %s\n", cs_last_error());
        goto done;
    }
    memset(passed, 1, sizeof passed);   /* the builder must have copied the mask */
    if (fill_params(gm, &rng) != 0)
        goto done;
    /* Copy the masked graph's parameters into the plain one, zeroing the
     * weights of unconnected (k, c) pairs. */
    for (int i = 0; i < cs_graph_param_count(gm, nm); i++) {
        cs_param_info pmi = { 0 }, pzi = { 0 };
        if (cs_graph_param(gm, nm, i, &pmi) != CS_OK || cs_graph_param(gz, nz, i, &pzi) != CS_OK ||
            pmi.count != pzi.count)
            goto done;
        memcpy(pzi.data, pmi.data, pmi.count * sizeof *pmi.data);
        if (strcmp(pzi.name, "weight") == 0)
            for (size_t j = 0; j < pzi.count; j++)
                if (!mask[j / 25])   /* weight (16, 6, 5, 5): j / 25 = k * 6 + c */
                    pzi.data[j] = 0.0f;
    }
    input = malloc(in_count * sizeof *input);
    if (!input)
        goto done;
    fill_input(input, in_count, IN_UNIT, &rng);
    a = run_and_read(gm, dev, batch, input, in_count, nm, count);
    b = a ? run_and_read(gz, dev, batch, input, in_count, nz, count) : NULL;
    if (b) {
        const tol t = { ATOL_DEFAULT, RTOL_DEFAULT };
        const shape4 s4 = { batch, 16, 6, 6 };
        rc = compare(dev.reference ? "reference: masked vs zeroed weights" : "OpenCL: masked vs zeroed weights",
                     b, a, s4, t, max_abs);
    }
done:
    free(input);
    free(a);
    free(b);
    cs_graph_free(gm);
    cs_graph_free(gz);
    return rc;
}

/* ------------------------------------------------------------------------ */
/* Golden values from PyTorch 1.13 (tiny cases where semantics are subtle)   */
/* ------------------------------------------------------------------------ */

/* Input x[i] = ((i * 7) % 11 - 5) / 4, batch 1; expected outputs printed by
 * torch.nn.functional (avg_pool2d, max_pool2d, adaptive_avg_pool2d,
 * local_response_norm, softmax, 1.7159 * tanh(2/3 x)) in PyTorch 1.13. */
typedef struct golden {
    op_case tc;
    const float *expect;
    int c, h, w;   /* expected output shape */
} golden;

static const float golden_0[] = {
    -0.3125f, 0.0f, 0.375f, -0.25f, 0.0625f, 0.125f, 0.25f, -0.3125f, -0.25f,
};
static const float golden_1[] = {
    -1.25f, 0.0f, 0.75f, -0.5f, 0.0625f, 0.125f, 0.5f, -0.3125f, -0.25f,
};
static const float golden_2[] = {
    0.027777778f, 0.111111112f, 0.0f, -0.333333343f, 0.0f, 0.027777778f, -0.138888896f, 0.0416666679f,
    -0.055555556f, -0.055555556f, -0.222222224f, 0.0f, -0.0416666679f, -0.125f, -0.208333328f, -0.125f,
    0.222222224f, -0.055555556f, 0.138888896f, 0.0416666679f, -0.166666672f, -0.222222224f, 0.222222224f,
    0.375f, -0.222222224f, 0.0f, 0.138888896f, -0.125f, -0.125f, 0.208333328f, 0.125f, -0.1875f,
};
static const float golden_3[] = {
    0.0625f, 0.166666672f, 0.0f, -1.0f, 0.0f, 0.027777778f, -0.138888896f, 0.0833333358f, -0.0833333358f,
    -0.055555556f, -0.222222224f, 0.0f, -0.125f, -0.25f, -0.416666657f, -0.5f, 0.5f, -0.0833333358f,
    0.208333328f, 0.125f, -0.25f, -0.222222224f, 0.222222224f, 0.75f, -0.333333343f, 0.0f, 0.138888896f,
    -0.25f, -0.375f, 0.416666657f, 0.25f, -0.75f,
};
static const float golden_4[] = {
    -0.4375f, 0.3125f, -0.3125f, 0.25f, 0.0f, 0.0625f, 0.125f, 0.0f, 0.4375f, -0.1875f, -0.125f, -0.25f,
    0.25f, -0.375f, 0.375f, 0.25f,
};
static const float golden_5[] = {
    -0.111111112f, 0.0f, 0.138888896f, -0.055555556f, 0.166666672f, -0.0833333358f, -0.166666672f, 0.0f,
    0.055555556f,
};
static const float golden_6[] = {
    1.0f, 1.25f, 1.25f, -0.75f, 1.0f, 1.25f, 1.0f, 1.0f, 1.25f, 1.25f, 1.0f, 0.5f, 0.75f, 0.75f, 0.5f, -0.5f,
    1.25f, 1.0f, 1.25f, 1.25f, 0.75f, 1.0f, 1.25f, 1.25f, 1.0f, 1.25f, 1.25f, 0.25f, 0.5f, 1.25f, 1.25f,
    -0.75f,
};
static const float golden_7[] = {
    -0.125f, 0.208333328f, 0.3125f, -0.291666657f, -0.111111112f, -0.0833333358f, 0.0f, -0.125f, -0.25f,
};
static const float golden_8[] = {
    -0.222222224f, 0.222222224f, -0.138888881f, 0.0f, -0.055555556f, -0.222222224f, 0.222222224f,
    0.055555556f, 0.0f, 0.138888881f, -0.222222224f, 0.222222224f,
};
static const float golden_9[] = {
    -1.25f, -0.375f, 0.0f, -0.5f, 0.0f, 0.1875f, -0.125f, -0.625f, 1.25f, 0.75f, -0.25f, -0.75f,
};
static const float golden_10[] = {
    -0.810711563f, 0.457726061f, -0.457726061f, 0.810711563f, 0.160041094f, -0.580783606f, 0.694800258f, 0.0f,
    -0.726466238f, 0.53665632f, -0.18161656f, -0.810711563f, 0.347400129f, -0.38718909f, 0.80020541f,
    0.160041094f,
};
static const float golden_11[] = {
    -0.624042213f, 0.269919306f, -0.271036983f, 0.606126189f, 0.124808438f, -0.404878944f, 0.542073965f, 0.0f,
    -0.499233752f, 0.404878944f, -0.135518491f, -0.606126189f,
};
static const float golden_12[] = {
    -0.90535748f, 0.36214301f, -0.35921061f, 0.845154226f, 0.160128161f, -0.507092535f, 0.681005239f, 0.0f,
    -0.696310639f, 0.489897937f, -0.175411597f, -0.870388269f,
};
static const float golden_13[] = {
    -0.810810804f, 0.827586174f, -0.64864862f, 0.666666687f, 0.413793087f, -0.679245234f, 0.648648679f, 0.0f,
    -0.648648679f, 0.679245234f, -0.413793087f, -0.666666687f, 0.64864862f, -0.827586174f, 0.810810804f,
};
static const float golden_14[] = {
    0.0332675874f, 0.349932015f, 0.349932015f, 0.405282199f, 0.272527337f, 0.272527337f, 0.315634102f,
    0.212244496f, 0.212244496f, 0.245816082f, 0.165296182f, 0.165296182f,
};
static const float golden_15[] = {
    -1.17069292f, 0.551683724f, -0.551683724f, 1.17069292f, 0.283364445f, -0.792946815f, 0.999997318f, 0.0f,
    -0.999997318f, 0.792946815f, -0.283364445f, -1.17069292f,
};
static const golden goldens[] = {
    { { T("avgpool 2x2 s2 p1 ceil cip 5x5", AVGP, 1, 1, 5, 5), .pool = PL(2, 2, 2, 1, 1, 1) }, golden_0, 1, 3, 3 },
    { { T("avgpool 2x2 s2 p1 ceil nocip 5x5", AVGP, 1, 1, 5, 5), .pool = PL(2, 2, 2, 1, 1, 0) }, golden_1, 1, 3, 3 },
    { { T("avgpool 3x3 s2 p1 ceil cip 6x6", AVGP, 1, 2, 6, 6), .pool = PL(3, 3, 2, 1, 1, 1) }, golden_2, 2, 4, 4 },
    { { T("avgpool 3x3 s2 p1 ceil nocip 6x6", AVGP, 1, 2, 6, 6), .pool = PL(3, 3, 2, 1, 1, 0) }, golden_3, 2, 4, 4 },
    { { T("avgpool 2x2 s2 ceil cip 7x7", AVGP, 1, 1, 7, 7), .pool = PL(2, 2, 2, 0, 1, 1) }, golden_4, 1, 4, 4 },
    { { T("avgpool 3x3 s3 p1 ceil cip 8x8", AVGP, 1, 1, 8, 8), .pool = PL(3, 3, 3, 1, 1, 1) }, golden_5, 1, 3, 3 },
    { { T("maxpool 3x3 s2 p1 ceil 6x6", MAXP, 1, 2, 6, 6), .pool = PL(3, 3, 2, 1, 1, 1) }, golden_6, 2, 4, 4 },
    { { T("adaptive 5x5->3x3", ADAP, 1, 1, 5, 5), .out_h = 3, .out_w = 3 }, golden_7, 1, 3, 3 },
    { { T("adaptive 7x5->3x2", ADAP, 1, 2, 7, 5), .out_h = 3, .out_w = 2 }, golden_8, 2, 3, 2 },
    { { T("adaptive 2x3->3x4", ADAP, 1, 1, 2, 3), .out_h = 3, .out_w = 4 }, golden_9, 1, 3, 4 },
    { { T("lrn size2 a1 b0.75 k1", CS_OP_LRN, 1, 4, 2, 2), .lrn = { 2, 1.0f, 0.75f, 1.0f } }, golden_10, 4, 2, 2 },
    { { T("lrn size5 a1 b0.75 k2 C=3", CS_OP_LRN, 1, 3, 2, 2), .lrn = { 5, 1.0f, 0.75f, 2.0f } }, golden_11, 3, 2, 2 },
    { { T("lrn size4 a2 b0.5 k1", CS_OP_LRN, 1, 6, 1, 2), .lrn = { 4, 2.0f, 0.50f, 1.0f } }, golden_12, 6, 1, 2 },
    { { T("lrn size3 a1 b1 k0.5", CS_OP_LRN, 1, 5, 1, 3), .lrn = { 3, 1.0f, 1.00f, 0.5f } }, golden_13, 5, 1, 3 },
    { { T("softmax 4x1x3 per position", CS_OP_SOFTMAX, 1, 4, 1, 3) }, golden_14, 4, 1, 3 },
    { { T("act scaled_tanh 3x2x2", CS_OP_ACT, 1, 3, 2, 2), .act = CS_ACT_SCALED_TANH }, golden_15, 3, 2, 2 },
};

#define N_GOLDENS ((int)(sizeof(goldens) / sizeof(goldens[0])))

static int run_golden(const golden *gd, cs_device_choice dev, double *max_abs)
{
    uint32_t rng = 1u;
    cs_graph *g = NULL;
    float *input = NULL, *expect = NULL, *got = NULL;
    const op_case *tc = &gd->tc;
    const size_t in_count = (size_t)tc->c * (size_t)tc->h * (size_t)tc->w;
    const size_t count = (size_t)gd->c * (size_t)gd->h * (size_t)gd->w;
    int c = 0, h = 0, w = 0, rc = -1;

    if (cs_graph_create(&g, "golden") != CS_OK)
        return -1;
    const int node = build_case(tc, g, &rng);
    if (node < 0 || cs_graph_node_shape(g, node, &c, &h, &w) != CS_OK) {
        printf("    building failed: %s\n", cs_last_error());
        goto done;
    }
    if (c != gd->c || h != gd->h || w != gd->w) {
        printf("    output shape (%d, %d, %d), PyTorch gives (%d, %d, %d)\n", c, h, w, gd->c, gd->h, gd->w);
        goto done;
    }
    input = malloc(in_count * sizeof *input);
    expect = canary_alloc(count);
    if (!input || !expect)
        goto done;
    for (size_t i = 0; i < in_count; i++)
        input[i] = (float)((int)((i * 7u) % 11u) - 5) * 0.25f;
    memcpy(expect, gd->expect, count * sizeof *expect);
    got = run_and_read(g, dev, 1, input, in_count, node, count);
    if (got) {
        const tol t = { 1e-5f, 1e-5f };
        const shape4 s4 = { 1, c, h, w };
        rc = compare("vs PyTorch", expect, got, s4, t, max_abs);
    }
done:
    free(input);
    free(expect);
    free(got);
    cs_graph_free(g);
    return rc;
}

/* ------------------------------------------------------------------------ */
/* Driver                                                                   */
/* ------------------------------------------------------------------------ */

typedef struct tally {
    int passed, failed;
    const char *filter;
} tally;

static int selected(const tally *t, const char *label)
{
    return !t->filter || strstr(label, t->filter) != NULL;
}

static void report(tally *t, const char *label, int rc, double max_abs)
{
    printf("%s  %-52s max abs diff %.3g\n", rc == 0 ? "PASS" : "FAIL", label, max_abs);
    fflush(stdout);
    if (rc == 0)
        t->passed++;
    else
        t->failed++;
}

int main(int argc, char **argv)
{
    tally t = { 0, 0, argc > 1 ? argv[1] : NULL };
    cs_device_choice cl_dev = { 0, 0 };
    const clock_t start = clock();
    struct timespec t0 = { 0, 0 }, t1 = { 0, 0 };
    double max_abs = 0.0;
    int rc = 0;

    clock_gettime(CLOCK_MONOTONIC, &t0);
    if (cs_device_parse(NULL, &cl_dev) != CS_OK) {
        printf("FAIL  cannot choose a device: %s\nhint: check CONVSCOPE_DEVICE and `convscope devices`\n",
               cs_last_error());
        return 1;
    }
    for (int i = 0; i < N_CASES; i++)
        for (int j = 0; j < i; j++)
            if (strcmp(cases[i].label, cases[j].label) == 0) {
                printf("FAIL  duplicate case label \"%s\" (labels seed the data and select cases)\n",
                       cases[i].label);
                t.failed++;
            }
    if (cl_dev.reference)
        printf("note: CONVSCOPE_DEVICE selects the reference backend; comparing it with itself\n");
    else
        printf("OpenCL device %d vs the CPU reference; %d table cases\n", cl_dev.index, N_CASES);

    for (int i = 0; i < N_CASES; i++) {
        if (!selected(&t, cases[i].label))
            continue;
        rc = run_case(&cases[i], cl_dev, &max_abs);
        report(&t, cases[i].label, rc, max_abs);
    }

    for (int i = 0; i < N_GOLDENS; i++) {
        char label[128] = "";
        snprintf(label, sizeof label, "golden %s", goldens[i].tc.label);
        if (!selected(&t, label))
            continue;
        max_abs = 0.0;
        rc = run_golden(&goldens[i], ref_device(), &max_abs);
        snprintf(label, sizeof label, "golden %s (reference)", goldens[i].tc.label);
        report(&t, label, rc, max_abs);
        max_abs = 0.0;
        rc = run_golden(&goldens[i], cl_dev, &max_abs);
        snprintf(label, sizeof label, "golden %s (OpenCL)", goldens[i].tc.label);
        report(&t, label, rc, max_abs);
    }

    if (selected(&t, "mask semantics")) {
        max_abs = 0.0;
        rc = test_mask_semantics(ref_device(), &max_abs);
        report(&t, "mask semantics: masked == zeroed weights (reference)", rc, max_abs);
        max_abs = 0.0;
        rc = test_mask_semantics(cl_dev, &max_abs);
        report(&t, "mask semantics: masked == zeroed weights (OpenCL)", rc, max_abs);
    }

    if (selected(&t, "multi-node") || selected(&t, "stepping")) {
        multi_ctx m;
        max_abs = 0.0;
        rc = multi_setup(&m);
        if (rc == 0)
            rc = test_multi_nodes(&m, cl_dev, &max_abs);
        report(&t, "multi-node graph, every node", rc, max_abs);
        if (rc == 0) {
            max_abs = 0.0;
            rc = test_stepping(&m, ref_device(), &max_abs);
            report(&t, "stepping on the reference", rc, max_abs);
            max_abs = 0.0;
            rc = test_stepping(&m, cl_dev, &max_abs);
            report(&t, "stepping on OpenCL", rc, max_abs);
        }
        multi_teardown(&m);
    }

    clock_gettime(CLOCK_MONOTONIC, &t1);
    printf("%d passed, %d failed (%.1f s wall, %.1f s CPU)\n", t.passed, t.failed,
           (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec),
           (double)(clock() - start) / CLOCKS_PER_SEC);
    return t.failed == 0 && t.passed > 0 ? 0 : 1;
}
