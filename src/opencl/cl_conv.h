/* Convolution plans for the OpenCL backend (cl/conv.cl <-> cl_conv.c): which
 * kernel runs a CONV2D node, the weight re-layout and input scratch it needs,
 * and the prepare-time hook that builds them. Shared by the backend, the
 * launcher and tests/bench_kernels.c.
 */
#ifndef CS_OPENCL_CONV_H
#define CS_OPENCL_CONV_H

#include "opencl/cl_ops.h"

/* Register blocking of conv2d_gemm in cl/conv.cl, which sizes the launch and the
 * packed weights. These mirror the kernel's defaults and must change with them:
 * a build that passes -D to the program must define the same values here. */
#ifndef CONV_GEMM_TK
#define CONV_GEMM_TK 6 /* output channels per work-item */
#endif
#ifndef CONV_GEMM_TP
#define CONV_GEMM_TP 16 /* output positions per work-item */
#endif
#ifndef CONV_GEMM_CB
#define CONV_GEMM_CB 16 /* input channels per block of the packed weights */
#endif

/* The free slots of a conv node's cl_mem params (conv nodes use 0 = weight and
 * 1 = bias) that hold what cs_cl_conv_prepare builds. */
#define CS_CL_CONV_SLOT_PACKED 2  /* weights re-laid out for conv2d_gemm */
#define CS_CL_CONV_SLOT_SCRATCH 3 /* input scratch, one buffer shared by all conv nodes */

typedef enum cs_cl_conv_kind {
    CS_CL_CONV_DIRECT = 0,       /* conv2d_direct: any shape, the original weights */
    CS_CL_CONV_DEPTHWISE,        /* conv2d_depthwise: every group reads one input channel */
    CS_CL_CONV_GEMM,             /* conv2d_gemm reading x itself: 1x1, stride 1, no padding */
    CS_CL_CONV_GEMM_PACKED,      /* conv2d_pack_input into the scratch, then conv2d_gemm */
    CS_CL_CONV_DEPTHWISE_PACKED, /* conv2d_pack_input, then conv2d_depthwise_packed */
    CS_CL_CONV_WINOGRAD,         /* pack, conv2d_wino_input, conv2d_gemm (16 groups), conv2d_wino_output */
    CS_CL_CONV_GEMM_PANELS,      /* 1x1 unpadded: conv2d_pack_panels into the scratch, then conv2d_gemm */
    CS_CL_CONV_IM2COL,           /* conv2d_im2col into the scratch (1x1 stride-1 unpadded: x itself), per
                                  * group a CLBlast GEMM with the original weights, conv2d_bias_act */
    CS_CL_CONV_KIND_COUNT
} cs_cl_conv_kind;

/* Epilogue activation of the conv kernels (their `act` argument). */
#define CS_CL_CONV_ACT_NONE 0
#define CS_CL_CONV_ACT_RELU 1

/* conv2d_gemm's arguments (cl/conv.cl): the GEMM's shape, where it reads its
 * input (Xq strides, from x_offset floats into its buffer), how it tiles
 * positions and where they land in the output. */
typedef struct cs_cl_conv_gemm {
    int groups, cpg, kpg, ktiles, K; /* ktiles: CONV_GEMM_TK blocks per group */
    int R, S, stride_h, stride_w, dil_h, dil_w;
    int img_stride, ch_stride, phase_stride, phases_w, x_row;
    int pos_rows, row_len, tiles_per_row, out_pitch, OH, OW;
    int n_tiles, tiles_per_item; /* position tiles, and how many one work-item does in turn */
    int tiles_first;             /* launch dimension 0 over position tiles, else channel blocks */
    size_t x_offset;
} cs_cl_conv_gemm;

typedef struct cs_cl_conv_plan {
    cs_cl_conv_kind kind;
    int act; /* CS_CL_CONV_ACT_*: applied after the bias (the plan functions: none) */
    /* conv2d_pack_input's output (packed kinds): stride phases, grid, layout, strides */
    int phases_h, phases_w;
    int Hq, Wq; /* rows and columns of one phase plane */
    int rows;   /* layout: 0 flat (C, phases, Hq, Wq), 1 rows (Hq, C, phases, Wq) */
    int img_stride, ch_stride, phase_stride, x_row;
    cs_cl_conv_gemm gemm;  /* GEMM kinds and WINOGRAD; DEPTHWISE_PACKED uses its tiling */
    int wino_th, wino_tw;  /* WINOGRAD: rows and columns of 2x2 output tiles */
    int wino_stride;       /* WINOGRAD: floats between planes of V and M (>= th * tw) */
    size_t v_offset;       /* WINOGRAD: V's offset in the scratch (M and the packed input at 0) */
    int col_images;        /* IM2COL: images per im2col + GEMM pass (the scratch holds their columns) */
    size_t weight_floats;  /* packed weights, 0 when the kind reads the original */
    size_t scratch_floats; /* scratch for the batch, 0 when none */
} cs_cl_conv_plan;

/* The kernels for a convolution on a CPU device (PoCL) without CLBlast, and what they need. */
cs_cl_conv_plan cs_cl_conv_plan_of(const cs_conv2d_params *p, cs_shape in, cs_shape out, int batch);

/* The kernels cs_cl_conv runs for a convolution on cl, and what they need:
 *  - with CLBlast (cl->use_clblast): CS_CL_CONV_IM2COL, depthwise ones CS_CL_CONV_DEPTHWISE;
 *  - on a GPU without CLBlast: the direct kernels (DIRECT, DEPTHWISE);
 *  - else cs_cl_conv_plan_of.
 * CONVSCOPE_CONV=direct: the direct kernels on any device; =gemm: cs_cl_conv_plan_of without
 * Winograd on any device; =im2col: the CLBlast route, which cs_cl_conv_prepare refuses on a
 * context without CLBlast. */
cs_cl_conv_plan cs_cl_conv_plan_on(const cs_cl_context *cl, const cs_conv2d_params *p, cs_shape in,
                                   cs_shape out, int batch);

/* The plan of `kind` instead of the chosen one, for comparisons; a kind that
 * cannot run the shape gives CS_CL_CONV_DIRECT (DEPTHWISE_PACKED: DEPTHWISE). */
cs_cl_conv_plan cs_cl_conv_plan_as(const cs_conv2d_params *p, cs_shape in, cs_shape out, int batch,
                                   cs_cl_conv_kind kind);

/* Prepare-time hook of the OpenCL backend: for every CONV2D node of g whose
 * plan (cs_cl_conv_plan_on) needs them, uploads the packed weights (masks applied) into
 * params[node][CS_CL_CONV_SLOT_PACKED] and one zero-filled scratch, sized
 * for the largest such node at `batch`, retained into each such node's
 * params[node][CS_CL_CONV_SLOT_SCRATCH]. params is the backend's
 * (n_nodes, CS_MAX_PARAMS) table; the caller releases every slot.
 * CONVSCOPE_CONV=direct skips it all (every conv then runs the direct kernels);
 * CONVSCOPE_CONV=im2col on a context without CLBlast: CS_ERR_UNSUPPORTED. */
cs_status cs_cl_conv_prepare(cs_cl_context *cl, const cs_graph *g, int batch,
                             cl_mem (*params)[CS_MAX_PARAMS]);
/* The floats of the packed weight cs_cl_conv_prepare will make for conv node `id`
 * of g (from the host copy), 0 when it makes none: an inference session need not
 * upload the plain weight then. */
size_t cs_cl_conv_packs_weight(const cs_cl_context *cl, const cs_graph *g, int id, int batch);
/* Training: packs the current device weights (params[id][0]) of every conv
 * node with a packed plan again into its packed slot (blocking). */
cs_status cs_cl_conv_repack(cs_cl_context *cl, const cs_graph *g, int batch, cl_mem (*params)[CS_MAX_PARAMS]);

/* Packs a (K, C/groups, R, S) weight for `plan` into out (plan->weight_floats
 * floats); mask (K, C/groups) may be NULL. Needs plan->weight_floats > 0. */
cs_status cs_cl_conv_pack_weight(const cs_conv2d_params *p, int in_channels, const cs_cl_conv_plan *plan,
                                 const float *w, const uint8_t *mask, float *out);

/* Runs the node with the kernels of `plan` (cs_cl_conv picks it with
 * cs_cl_conv_plan_on); a plan whose packed weights or scratch are missing or
 * too small, or an IM2COL plan on a context without CLBlast, runs the direct
 * kernels instead. IM2COL reads the weight as uploaded (params[0], masked
 * kernels already zero, as the direct kernels need it). A graph-level fusion
 * of a following ReLU sets plan.act = CS_CL_CONV_ACT_RELU and calls this
 * (the direct kernels then run act_relu in place after the convolution). */
cs_status cs_cl_conv_run(const cs_cl_launch *L, const cs_cl_conv_plan *plan);

#endif
