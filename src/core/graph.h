/* Graph IR: nodes in topological order, each an op with its own parameter
 * struct (tagged union), inputs, per-sample output shape, a PyTorch-style name,
 * structure tags and learnable tensors. Internal to the library; backends,
 * model builders and tests read these structs directly.
 */
#ifndef CS_CORE_GRAPH_H
#define CS_CORE_GRAPH_H

#include "convscope.h"

/*
 * Op semantics (every backend implements exactly these; PyTorch's where named):
 *  CONV2D      params: "weight" (K, C/groups, R, S), "bias" (K) when p.bias.
 *              y[n,k,oy,ox] = bias[k] + sum over c in k's group, r, s of
 *              x[n,c, oy*sh - pad_top + r*dh, ox*sw - pad_left + s*dw] * w[k,c',r,s]
 *              (out-of-range x is 0). With a mask, terms where mask[k,c'] == 0
 *              are left out. OH = (H + pt + pb - dh*(R-1) - 1)/sh + 1.
 *  MAXPOOL     no params; padding never wins (-inf). AVGPOOL: PyTorch divisor:
 *              hstart = oy*sh - pt, hend = min(hstart + R, H + pb), pool = (hend -
 *              hstart) * (wend - wstart) before clipping to the input; then clip
 *              to [0, H); divisor = pool if count_include_pad else clipped area.
 *              Output size: (H + pt + pb - R [+ sh - 1 if ceil]) / sh + 1, and with
 *              ceil_mode the last window must start inside H + pt (else one less).
 *  ADAPTIVE_AVGPOOL  window i: [floor(i*H/OH), ceil((i+1)*H/OH)).
 *  LRN         y = x / (k + alpha/size * sum_{c' in [c - size/2, c + (size-1)/2]} x[c']^2)^beta
 *  BATCHNORM   params "weight", "bias", "running_mean", "running_var" (C each):
 *              y = (x - mean) / sqrt(var + eps) * weight + bias.
 *  AFFINE      params "weight", "bias" (C): y = x * weight[c] + bias[c].
 *  ACT         RELU max(x,0); TANH; SCALED_TANH 1.7159 * tanh(2/3 * x); SIGMOID.
 *  DENSE       params "weight" (O, I), "bias" (O) when bias; I = C*H*W of the input
 *              (read as flattened NCHW); output (O, 1, 1).
 *  FLATTEN     (C*H*W, 1, 1), same data. DROPOUT: identity.
 *  CONCAT      along channels, inputs in order; all H, W equal.
 *  ADD         a + b, same shapes; then max(.,0) when relu.
 *  SCALE       x (C,H,W) * s (C,1,1) per sample and channel.
 *  SOFTMAX     over C at each (h, w), max-subtracted.
 *  RBF         params "weight" (classes, I): y[i] = sum_j (x[j] - w[i,j])^2.
 */

#define CS_MAX_PARAMS 4
#define CS_NAME_MAX 96

typedef struct cs_shape {
    int c, h, w;  /* per sample; the batch is the session's */
} cs_shape;

static inline size_t cs_shape_count(cs_shape s) { return (size_t)s.c * (size_t)s.h * (size_t)s.w; }

typedef struct cs_tensor {
    char name[24];      /* "weight", "bias", "running_mean", ... */
    int ndim;
    int dims[4];
    size_t count;
    float *data;        /* owned by the graph */
    int buffer;         /* not a trainable parameter (BN running stats, RBF prototypes) */
    int constant;       /* set by the model builder, never loaded from weights */
} cs_tensor;

typedef struct cs_conv_op {
    cs_conv2d_params p;  /* p.mask points at `mask` below or is NULL */
    uint8_t *mask;       /* (K, C/groups), owned */
    int relu;            /* fused epilogue: max(y, 0) after the bias (set only by
                          * the inference fusion pass, core/fuse.c) */
} cs_conv_op;

typedef struct cs_adaptive_op { int out_h, out_w; } cs_adaptive_op;
typedef struct cs_bn_op { float eps; } cs_bn_op;
typedef struct cs_act_op { cs_act_kind kind; } cs_act_op;
typedef struct cs_dense_op { int out_features; int bias; } cs_dense_op;
typedef struct cs_dropout_op { float p; } cs_dropout_op;
typedef struct cs_add_op { int relu; } cs_add_op;
typedef struct cs_rbf_op { int classes; } cs_rbf_op;

typedef struct cs_block {
    cs_block_kind kind;
    char name[CS_NAME_MAX];
    int parent;          /* enclosing block, -1 for none */
    int first, last;     /* node range (inclusive) */
} cs_block;

typedef struct cs_node {
    cs_op op;
    char name[CS_NAME_MAX];
    int *inputs;         /* node ids, all < this node's id */
    int n_inputs;
    cs_shape out;
    union {
        cs_conv_op conv;
        cs_pool_params pool;       /* MAXPOOL, AVGPOOL */
        cs_adaptive_op adaptive;
        cs_lrn_params lrn;
        cs_bn_op bn;
        cs_act_op act;
        cs_dense_op dense;
        cs_dropout_op dropout;
        cs_add_op add;
        cs_rbf_op rbf;
    } u;
    int block;           /* innermost block, -1 for none */
    cs_role role;
    int role_index;
    cs_tensor params[CS_MAX_PARAMS];
    int n_params;
} cs_node;

struct cs_graph {
    char model[64];
    cs_node *nodes;
    int n_nodes, cap_nodes;
    cs_block *blocks;
    int n_blocks, cap_blocks;
    int open_block;      /* innermost open block, -1 for none */
    int input;           /* the input node id, -1 until cs_input */
    cs_status status;    /* sticky first error */
};

/* Learnable tensor by name, NULL if the node has none of that name. */
const cs_tensor *cs_node_tensor(const cs_node *n, const char *name);
/* Multiply-accumulates of one sample through the node; parameter count. */
uint64_t cs_node_macs(const cs_graph *g, int node);
uint64_t cs_node_param_count(const cs_graph *g, int node);

/* Deep copy of a graph (nodes, tensors, masks, blocks). */
cs_status cs_graph_clone(const cs_graph *g, cs_graph **out);
/* Adds a learnable tensor filled with `fill` to node `id`; -1 on failure
 * (recorded as the graph's sticky error). */
int cs_node_add_param(cs_graph *g, int id, const char *name, int ndim, const int *dims, float fill);

/* Inference fusion (core/fuse.c), on a session's private copy of the graph:
 * batchnorm folded into the convolution before it, and a following ReLU
 * fused into the convolution's epilogue. For every node, alias[i] is the node
 * whose output buffer holds i's output (i itself when not fused) and stale[i]
 * is 1 when i's own value is no longer computed (only the fused result is).
 * Graph outputs (nodes nothing reads) are never made stale. */
cs_status cs_fuse_for_inference(cs_graph *g, int *alias, uint8_t *stale);

/* Conv/pool output size along one axis; returns <= 0 when it does not fit. */
int cs_conv_out_size(int in, int kernel, int stride, int pad_lo, int pad_hi, int dilation);
int cs_pool_out_size(int in, int kernel, int stride, int pad_lo, int pad_hi, int ceil_mode);

#endif
