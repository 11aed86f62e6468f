/* convscope: run classic convolutional networks on any OpenCL device.
 *
 * The one public header. Handles are opaque; every fallible call returns a
 * cs_status and leaves a readable message in cs_last_error(). The library never
 * exits or aborts on bad input. Tensors are float32 NCHW.
 */
#ifndef CONVSCOPE_H
#define CONVSCOPE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------ */
/* Status and errors                                                        */
/* ------------------------------------------------------------------------ */

typedef enum cs_status {
    CS_OK = 0,
    CS_ERR_INVALID_ARG,  /* a parameter is out of range or inconsistent */
    CS_ERR_SHAPE,        /* shapes do not fit together */
    CS_ERR_IO,           /* a file could not be opened, read or written */
    CS_ERR_FORMAT,       /* a file's contents are malformed */
    CS_ERR_NO_MEMORY,    /* host or device allocation failed */
    CS_ERR_NO_DEVICE,    /* no OpenCL platform/device, or the index does not exist */
    CS_ERR_DEVICE,       /* an OpenCL call failed */
    CS_ERR_BUILD,        /* an OpenCL program failed to build (message has the log) */
    CS_ERR_UNSUPPORTED,  /* valid request this build cannot do */
    CS_ERR_STATE         /* call made in the wrong order */
} cs_status;

/* Text of the most recent error on this thread ("" if none). */
const char *cs_last_error(void);
/* Stable name of a status code, e.g. "CS_ERR_SHAPE". */
const char *cs_status_name(cs_status status);

/* ------------------------------------------------------------------------ */
/* Devices                                                                  */
/* ------------------------------------------------------------------------ */

typedef struct cs_device_info {
    int index;                 /* what --device N takes */
    char platform[128];
    char name[128];
    char vendor[128];
    char version[128];         /* CL_DEVICE_VERSION */
    char driver[128];          /* CL_DRIVER_VERSION */
    int is_gpu;
    int compute_units;
    uint64_t global_mem_bytes;
    uint64_t max_alloc_bytes;
} cs_device_info;

/* Lists OpenCL devices across all platforms, in --device index order.
 * Writes up to `max` entries; *count receives the total number available.
 * Returns CS_ERR_NO_DEVICE with a hint when there is no platform at all. */
cs_status cs_devices_list(cs_device_info *out, int max, int *count);

/* A device choice as the user spells it: "cpu" (the reference backend),
 * "N" (OpenCL device index), or NULL/"" (CONVSCOPE_DEVICE if set, else 0). */
typedef struct cs_device_choice {
    int reference;  /* 1: CPU reference backend */
    int index;      /* OpenCL device index when reference == 0 */
} cs_device_choice;

cs_status cs_device_parse(const char *spec, cs_device_choice *out);

/* ------------------------------------------------------------------------ */
/* Graph: nodes in topological order, built through the cs_* builder calls   */
/* ------------------------------------------------------------------------ */

typedef struct cs_graph cs_graph;

typedef enum cs_op {
    CS_OP_INPUT = 0,
    CS_OP_CONV2D,
    CS_OP_MAXPOOL,
    CS_OP_AVGPOOL,
    CS_OP_ADAPTIVE_AVGPOOL, /* global pool is output 1x1 */
    CS_OP_LRN,
    CS_OP_BATCHNORM,
    CS_OP_AFFINE,           /* per-channel y = x * weight[c] + bias[c] */
    CS_OP_ACT,
    CS_OP_DENSE,
    CS_OP_FLATTEN,
    CS_OP_DROPOUT,          /* identity at inference */
    CS_OP_CONCAT,           /* along channels */
    CS_OP_ADD,              /* elementwise, optional ReLU */
    CS_OP_SCALE,            /* x (N,C,H,W) * s (N,C,1,1) */
    CS_OP_SOFTMAX,          /* over C of (N,C,1,1) */
    CS_OP_RBF,              /* y_i = sum_j (x_j - w_ij)^2 */
    CS_OP_COUNT
} cs_op;

typedef enum cs_act_kind {
    CS_ACT_RELU = 0,
    CS_ACT_TANH,
    CS_ACT_SCALED_TANH,     /* A * tanh(S * x), LeCun 1998: A = 1.7159, S = 2/3 */
    CS_ACT_SIGMOID,
    CS_ACT_COUNT
} cs_act_kind;

typedef struct cs_conv2d_params {
    int out_channels;
    int kernel_h, kernel_w;
    int stride_h, stride_w;              /* >= 1 */
    int pad_top, pad_bottom, pad_left, pad_right;
    int dilation_h, dilation_w;          /* >= 1 */
    int groups;                          /* >= 1, divides in and out channels */
    int bias;                            /* 1: has a bias vector */
    /* Optional connection mask, (out_channels, in_channels/groups) bytes, 1 =
     * connected. Copied by the builder. NULL: fully connected. */
    const uint8_t *mask;
} cs_conv2d_params;

typedef struct cs_pool_params {
    int kernel_h, kernel_w;
    int stride_h, stride_w;
    int pad_top, pad_bottom, pad_left, pad_right;
    int ceil_mode;           /* PyTorch ceil_mode */
    int count_include_pad;   /* avg pool only; PyTorch default is 1 */
} cs_pool_params;

typedef struct cs_lrn_params {
    int size;                /* channels in the window */
    float alpha, beta, k;    /* PyTorch LocalResponseNorm semantics */
} cs_lrn_params;

/* Structure tags the viewer reads. Blocks nest (an SE block inside a residual
 * unit, a dense layer inside a dense block). */
typedef enum cs_block_kind {
    CS_BLOCK_NONE = 0,
    CS_BLOCK_RESIDUAL,       /* residual unit */
    CS_BLOCK_INCEPTION,      /* inception module */
    CS_BLOCK_DENSE,          /* dense block */
    CS_BLOCK_DENSE_LAYER,    /* one layer of a dense block */
    CS_BLOCK_TRANSITION,     /* DenseNet transition */
    CS_BLOCK_SE,             /* squeeze-and-excitation block */
    CS_BLOCK_SEPARABLE,      /* depthwise separable convolution */
    CS_BLOCK_COUNT
} cs_block_kind;

typedef enum cs_role {
    CS_ROLE_NONE = 0,
    CS_ROLE_RESIDUAL_BRANCH,     /* F(x) path */
    CS_ROLE_RESIDUAL_SHORTCUT,   /* x or its projection */
    CS_ROLE_RESIDUAL_SUM,
    CS_ROLE_INCEPTION_BRANCH,    /* tag index = branch number */
    CS_ROLE_INCEPTION_CONCAT,
    CS_ROLE_DENSE_CONCAT,        /* tag index = layer number */
    CS_ROLE_SE_SQUEEZE,
    CS_ROLE_SE_EXCITE,
    CS_ROLE_SE_SCALE,
    CS_ROLE_DEPTHWISE,
    CS_ROLE_POINTWISE,
    CS_ROLE_COUNT
} cs_role;

cs_status cs_graph_create(cs_graph **out, const char *model_name);
void cs_graph_free(cs_graph *g);
/* Deep copy of a graph (nodes, tensors, masks, blocks). */
cs_status cs_graph_clone(const cs_graph *g, cs_graph **out);

/* Builder calls return the new node's id (>= 0), or -1 on error. Errors are
 * sticky: once a call fails, later calls return -1 and cs_graph_status()
 * returns the first failure, so a model builder may check once at the end. */
cs_status cs_graph_status(const cs_graph *g);

int cs_input(cs_graph *g, const char *name, int channels, int height, int width);
int cs_conv2d(cs_graph *g, const char *name, int x, const cs_conv2d_params *p);
int cs_maxpool(cs_graph *g, const char *name, int x, const cs_pool_params *p);
int cs_avgpool(cs_graph *g, const char *name, int x, const cs_pool_params *p);
int cs_adaptive_avgpool(cs_graph *g, const char *name, int x, int out_h, int out_w);
int cs_lrn(cs_graph *g, const char *name, int x, const cs_lrn_params *p);
int cs_batchnorm(cs_graph *g, const char *name, int x, float eps);
int cs_affine(cs_graph *g, const char *name, int x);
int cs_act(cs_graph *g, const char *name, int x, cs_act_kind kind);
int cs_dense(cs_graph *g, const char *name, int x, int out_features, int bias);
int cs_flatten(cs_graph *g, const char *name, int x);
int cs_dropout(cs_graph *g, const char *name, int x, float p);
int cs_concat(cs_graph *g, const char *name, const int *xs, int count);
int cs_add(cs_graph *g, const char *name, int a, int b, int relu);
int cs_scale(cs_graph *g, const char *name, int x, int s);
int cs_softmax(cs_graph *g, const char *name, int x);
int cs_rbf(cs_graph *g, const char *name, int x, int classes);

/* Open/close a structure block; nodes created in between belong to it. */
int cs_block_begin(cs_graph *g, cs_block_kind kind, const char *name);
void cs_block_end(cs_graph *g);
/* Give a node its role inside its block (index: branch or layer number). */
void cs_node_set_role(cs_graph *g, int node, cs_role role, int index);

int cs_graph_node_count(const cs_graph *g);
/* Per-sample output shape of a node (C, H, W). */
cs_status cs_graph_node_shape(const cs_graph *g, int node, int *c, int *h, int *w);
const char *cs_graph_node_name(const cs_graph *g, int node);
cs_op cs_graph_node_op(const cs_graph *g, int node);
int cs_graph_find(const cs_graph *g, const char *name); /* -1 if none */
const char *cs_op_name(cs_op op);
const char *cs_graph_model(const cs_graph *g);
int cs_graph_input(const cs_graph *g);   /* the input node, -1 if none */
/* Input node ids of a node; returns their count. */
int cs_graph_node_inputs(const cs_graph *g, int node, const int **ids);
/* Trainable parameters (BN statistics, RBF prototypes and builder constants
 * excluded) and multiply-accumulates per sample. */
uint64_t cs_graph_node_params(const cs_graph *g, int node);
uint64_t cs_graph_node_macs(const cs_graph *g, int node);
/* Parameters of a conv node (mask points into the graph) or a max/avg pool
 * node; CS_ERR_INVALID_ARG for a node of another op. */
cs_status cs_graph_node_conv(const cs_graph *g, int node, cs_conv2d_params *out);
cs_status cs_graph_node_pool(const cs_graph *g, int node, cs_pool_params *out);
/* Op parameters in words, e.g. "3x3/2 pad 1 groups 32, bias" or "relu". */
const char *cs_graph_node_describe(const cs_graph *g, int node, char *buf, size_t size);

typedef struct cs_block_info {
    cs_block_kind kind;
    const char *name;
    int parent;        /* enclosing block, -1 for none */
    int first, last;   /* node range, inclusive */
} cs_block_info;

int cs_graph_block_count(const cs_graph *g);
cs_status cs_graph_block(const cs_graph *g, int block, cs_block_info *out);
/* Innermost block of a node (-1: none), its role and role index. */
int cs_graph_node_block(const cs_graph *g, int node);
cs_role cs_graph_node_role(const cs_graph *g, int node, int *index);
const char *cs_block_kind_name(cs_block_kind kind);

/* Learnable tensors of a node, e.g. conv "weight" (K, C/groups, R, S) and
 * "bias" (K). Names follow PyTorch: the state_dict key is
 * "<node name>.<param name>". */
typedef struct cs_param_info {
    const char *name;
    int ndim;
    int dims[4];
    size_t count;
    float *data;   /* owned by the graph; writable */
    int buffer;    /* not learned (batchnorm running statistics, RBF prototypes) */
} cs_param_info;

int cs_graph_param_count(const cs_graph *g, int node);
cs_status cs_graph_param(const cs_graph *g, int node, int index, cs_param_info *out);

/* ------------------------------------------------------------------------ */
/* Model zoo                                                                */
/* ------------------------------------------------------------------------ */

typedef struct cs_model_info {
    const char *name;        /* "resnet50" */
    const char *family;      /* "lenet", "alexnet", "googlenet", "vgg", "resnet", "xception", "senet", "densenet" */
    const char *reference;   /* what it matches, e.g. "torchvision.models.resnet50" */
    int in_c, in_h, in_w;    /* default input */
    int min_hw;              /* smallest input height/width the architecture accepts */
    int num_classes;         /* default classifier size */
    const char *classifier;  /* state_dict key of the classifier weight ("fc.weight") */
    const char *labels;      /* default label set: "imagenet" or "fashion-mnist" */
    /* Image preprocessing: optional greyscale; resize the shorter side to
     * `resize` and centre-crop to the input (resize 0: scale the whole image
     * to the input less `pad` on each side, then pad with background 0);
     * then x = (v / 255 - mean[c]) / std[c]. */
    int grey;
    int resize;
    int pad;
    float mean[3], std[3];
    /* Reference state_dict key prefixes that are not part of inference (e.g.
     * GoogLeNet's auxiliary heads), comma-separated, or NULL. */
    const char *ignore;
} cs_model_info;

typedef struct cs_model_options {
    int num_classes;   /* 0: the model's default */
    int in_h, in_w;    /* 0: the model's default input size */
} cs_model_options;

int cs_model_count(void);
/* Model by index (0..count-1) or name; NULL when there is none. */
const cs_model_info *cs_model_at(int index);
const cs_model_info *cs_model_find(const char *name);
/* Builds the graph of a zoo model; learnable tensors start at zero: call
 * cs_graph_init_seeded or load weights. opts may be NULL. */
cs_status cs_model_build(cs_graph **out, const char *name, const cs_model_options *opts);

/* Seeded He initialisation, identical to tools/cs_init.py: every tensor is a
 * function of (seed, "<node>.<param>" key) only, so C and PyTorch get the same
 * weights. Conv/dense weights uniform in +-sqrt(6/fan_in), biases +-0.05,
 * BN weight 1 +- 0.25, running_mean +- 0.1, running_var 4 +- 1 (so deep
 * residual stacks stay in range). */
cs_status cs_graph_init_seeded(cs_graph *g, uint64_t seed);
/* Fills `count` floats with the same generator under `key` (uniform [-1, 1)). */
void cs_seeded_uniform(uint64_t seed, const char *key, float *out, size_t count);

/* ------------------------------------------------------------------------ */
/* Weights (safetensors), tensors (.npy), images, labels, assets             */
/* ------------------------------------------------------------------------ */

/* An opened safetensors file, memory-mapped and fully validated at open:
 * header length and JSON, dtypes (F32, F16, BF16), shapes, offsets inside the
 * file and not overlapping. Limits: header <= 100 MB, <= 100000 tensors, rank
 * <= 8. */
typedef struct cs_weights cs_weights;

cs_status cs_weights_open(cs_weights **out, const char *path);
void cs_weights_close(cs_weights *w);
int cs_weights_count(const cs_weights *w);
const char *cs_weights_key(const cs_weights *w, int index);
/* Shape of a tensor by key; CS_ERR_INVALID_ARG naming the key if missing. */
cs_status cs_weights_shape(const cs_weights *w, const char *key, int *ndim, int64_t dims[8]);
/* Copies a tensor converted to float32 into dst (count must equal its size). */
cs_status cs_weights_read(const cs_weights *w, const char *key, float *dst, size_t count);

typedef struct cs_load_report {
    int loaded;          /* tensors copied into the graph */
    int ignored;         /* num_batches_tracked and keys under the skip prefixes */
    char note[512];      /* e.g. "ignored 14 training-only tensors under aux1., aux2." */
} cs_load_report;

/* Loads every non-constant tensor of the graph from `w` ("<node>.<param>").
 * A missing or unexpected tensor, or a shape mismatch (the error names the
 * tensor and both shapes), fails the whole load and leaves the graph's
 * tensors unchanged. `skip` is a comma-separated list of key prefixes that are
 * ignored (e.g. "aux1.,aux2."), or NULL. report may be NULL. */
cs_status cs_graph_load_weights(cs_graph *g, const cs_weights *w, const char *skip, cs_load_report *report);
/* Writes the graph's non-constant tensors as a safetensors file (F32),
 * atomically (temp file + rename). */
cs_status cs_graph_save_weights(const cs_graph *g, const char *path);
/* Writes named 1-D float tensors as safetensors (sorted keys, atomically:
 * temp file, fsync, rename); `model` goes into the metadata. */
cs_status cs_safetensors_save(const char *path, const char *model, int n, const char *const *keys,
                              const float *const *data, const size_t *counts);

/* .npy float32 (little-endian, C order). cs_npy_read allocates *data (free
 * with cs_free); up to 8 dims. cs_npy_write is atomic. */
cs_status cs_npy_read(const char *path, float **data, int *ndim, int64_t dims[8]);
cs_status cs_npy_write(const char *path, const float *data, int ndim, const int64_t *dims);
void cs_free(void *p);

/* Decodes an image (PNG, JPEG, BMP, GIF first frame, PNM, TGA) and applies
 * the model's preprocessing (cs_model_info) for an in_h x in_w input, writing
 * in_c x in_h x in_w floats to out. Rejects images over 16384 px a side
 * before decoding. */
cs_status cs_image_load(const char *path, const cs_model_info *m, int in_h, int in_w, float *out,
                        size_t count);

/* Class labels: one per line. cs_labels_builtin loads a shipped set
 * ("imagenet", "fashion-mnist") from the assets directory. */
typedef struct cs_labels cs_labels;
cs_status cs_labels_load(cs_labels **out, const char *path);
cs_status cs_labels_builtin(cs_labels **out, const char *set);
int cs_labels_count(const cs_labels *l);
/* Label i, or NULL when out of range. */
const char *cs_labels_get(const cs_labels *l, int i);
void cs_labels_free(cs_labels *l);

/* Colour for value t in [0, 1]: diverging (blue - white - red, 0.5 is zero)
 * for signed tensors, sequential (black - yellow) for non-negative ones. */
void cs_colormap(float t, int diverging, uint8_t rgb[3]);
/* Writes the c feature maps of one sample (c x h x w floats) as a PNG grid
 * (auto columns, 1-px gutters, one colour scale for the layer: diverging with
 * zero neutral when any value is negative), atomically. */
cs_status cs_grid_png(const char *path, const float *chw, int c, int h, int w);

/* Path of a shipped asset ("labels/imagenet.txt"): $CONVSCOPE_ASSETS, else
 * the assets/ folder next to the executable's parent, else the installed or
 * source-tree assets folder. CS_ERR_IO when it is nowhere. */
cs_status cs_asset_path(const char *relative, char *out, size_t size);


/* ------------------------------------------------------------------------ */
/* Data sets: IDX files (MNIST / Fashion-MNIST)                             */
/* ------------------------------------------------------------------------ */

/* Default location of Fashion-MNIST (Debian's dataset-fashion-mnist). */
#define CS_FASHION_MNIST_DIR "/usr/share/datasets/fashion-mnist"

typedef struct cs_dataset {
    int count, height, width;
    uint8_t *pixels;  /* (count, height, width), row-major as stored */
    uint8_t *labels;  /* (count) */
} cs_dataset;

/* Reads an unsigned-byte IDX file (type 0x08, 1 to 3 dims, big-endian sizes;
 * gzip or plain, detected from the contents). *data (free with cs_free) gets
 * dims[0] * ... * dims[ndim-1] bytes. Errors name the file: CS_ERR_IO (cannot
 * open or read), CS_ERR_FORMAT (bad magic, truncated data or gzip stream,
 * trailing bytes, corrupt gzip, a size over the limits above),
 * CS_ERR_UNSUPPORTED (an IDX element type other than unsigned byte). */
cs_status cs_idx_read(const char *path, int *ndim, int dims[3], uint8_t **data);

/* An image file (magic 0x00000803: count x height x width) and its label file
 * (magic 0x00000801: count) as one data set. CS_ERR_FORMAT for a wrong magic
 * (e.g. the files swapped), CS_ERR_SHAPE naming both files when the counts
 * differ. *out is set only on success; free with cs_dataset_free. */
cs_status cs_idx_load_pair(const char *images_path, const char *labels_path, cs_dataset **out);

/* Fashion-MNIST's training set (test 0: train-images-idx3-ubyte.gz and
 * train-labels-idx1-ubyte.gz, 60000 items) or test set (test 1: t10k-*,
 * 10000) from `dir` (NULL or "": CS_FASHION_MNIST_DIR); an uncompressed copy
 * (the name without .gz) is used when the .gz is absent. Also checks the
 * images are 28x28 and every label is below 10. */
cs_status cs_fashion_mnist_load(const char *dir, int test, cs_dataset **out);

void cs_dataset_free(cs_dataset *d);
/* Sample `index` of d as model input (in_c x in_h x in_w floats, preprocessed
 * as cs_image_load does for m: the image centred with m->pad background
 * pixels on each side, then (v / 255 - mean) / std, grey copied to every
 * channel). CS_ERR_SHAPE when the image plus padding does not fill the input
 * exactly (the model needs another input size). */
cs_status cs_dataset_input(const cs_dataset *d, int index, const cs_model_info *m, int in_c, int in_h,
                           int in_w, float *out);

/* ------------------------------------------------------------------------ */
/* Session: a graph prepared on a backend at a fixed batch size              */
/* ------------------------------------------------------------------------ */

typedef struct cs_session cs_session;

enum {
    CS_SESSION_KEEP_ALL = 1u << 0, /* keep every activation (stepping, dumps) */
    CS_SESSION_PROFILE = 1u << 1   /* per-node device times */
};

/* A session reads `g` until it is freed: the graph must outlive its sessions
 * unchanged. Any number of sessions may share one graph, from any threads; a
 * session itself is used by one thread at a time (README, "Threads"). */
cs_status cs_session_create(cs_session **out, const cs_graph *g, cs_device_choice device,
                            int batch, unsigned flags);
void cs_session_free(cs_session *s);

/* Input: batch x C x H x W floats of the graph's input node. */
cs_status cs_session_set_input(cs_session *s, const float *data, size_t count);
/* Runs the whole graph. */
cs_status cs_session_run(cs_session *s);
/* Runs nodes up to and including `node` that have not run since the last
 * input (needs CS_SESSION_KEEP_ALL to step backwards for free). */
cs_status cs_session_step_to(cs_session *s, int node);
/* Index of the last node computed for the current input, -1 if none. */
int cs_session_progress(const cs_session *s);
/* Copies a computed node's output (batch x C x H x W floats) to the host.
 * `count` is the capacity of dst: smaller than the output is refused with
 * CS_ERR_INVALID_ARG; larger is fine and exactly the output is written. */
cs_status cs_session_read(cs_session *s, int node, float *dst, size_t count);
/* Device time of a node's last run in ms (profiling on), or -1. */
double cs_session_node_ms(const cs_session *s, int node);
/* Name of the backend/device the session runs on. */
const char *cs_session_device_name(const cs_session *s);


/* ------------------------------------------------------------------------ */
/* Training: forward in training mode, backward, optimizer steps            */
/* ------------------------------------------------------------------------ */

/* torch.optim.SGD (dampening 0): d = g + weight_decay * p; with momentum,
 * buf = momentum * buf + d (buf starts at zero, which equals PyTorch's copy
 * of d on the first step) and d = buf, or d + momentum * buf when nesterov;
 * then p -= lr * d. */
typedef struct cs_sgd_params {
    double lr;
    double momentum;      /* 0: plain SGD, buf unused (may be NULL) */
    double weight_decay;  /* L2, added to the gradient */
    int nesterov;
} cs_sgd_params;

/* torch.optim.Adam (amsgrad off): g = grad + weight_decay * p;
 * m = beta1 m + (1 - beta1) g; v = beta2 v + (1 - beta2) g^2;
 * p -= lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps),
 * eps outside the sqrt. t is the 1-based step number. */
typedef struct cs_adam_params {
    double lr;            /* PyTorch default 1e-3 */
    double beta1, beta2;  /* 0.9, 0.999 */
    double eps;           /* 1e-8 */
    double weight_decay;  /* 0; L2 added to the gradient (Adam, not AdamW) */
} cs_adam_params;

typedef enum cs_optimizer_kind { CS_OPT_SGD = 0, CS_OPT_ADAM = 1 } cs_optimizer_kind;

typedef struct cs_train_options {
    int batch;                 /* samples per step (>= 2 when the graph has batchnorm) */
    cs_optimizer_kind optimizer;
    cs_sgd_params sgd;         /* used when optimizer == CS_OPT_SGD */
    cs_adam_params adam;       /* used when optimizer == CS_OPT_ADAM */
    float bn_momentum;         /* running-statistics momentum, PyTorch's 0.1 */
    uint64_t seed;             /* dropout stream */
    int profile;               /* 1: per-node device times (cs_trainer_node_ms) */
} cs_train_options;

/* PyTorch's defaults: SGD lr 0.01 momentum 0.9, Adam lr 1e-3 (0.9, 0.999,
 * 1e-8), batch 64, bn momentum 0.1, seed 1. */
void cs_train_options_default(cs_train_options *o);

typedef struct cs_trainer cs_trainer;

/* A trainer over graph `g` (its tensors are the parameters; the trainer keeps
 * its own copies on the device and writes them back with
 * cs_trainer_sync_weights). The graph's output is the logits (batch x
 * classes), or RBF distances (trained as logits -d); a final softmax node is
 * skipped (the loss applies its own). Kernels a conv's connection mask leaves
 * out are set to zero in the graph. `g` must outlive the trainer and not be
 * changed while it exists. */
cs_status cs_trainer_create(cs_trainer **out, cs_graph *g, cs_device_choice device,
                            const cs_train_options *o);
void cs_trainer_free(cs_trainer *t);
/* One optimizer step on `count` = batch x C x H x W input floats and batch
 * labels: forward in training mode, softmax cross-entropy, backward, update.
 * loss (mean over the batch) and correct (predictions equal to the label)
 * may be NULL. */
cs_status cs_trainer_step(cs_trainer *t, const float *x, size_t count, const int32_t *labels,
                          double *loss, int *correct);
/* Logits of an inference forward (batchnorm with running statistics, no
 * dropout) of a batch: batch x classes floats into logits. */
cs_status cs_trainer_predict(cs_trainer *t, const float *x, size_t count, float *logits,
                             size_t logits_count);
/* Output of a node from the last step or prediction (batch x C x H x W
 * floats; `count` is the room in dst). */
cs_status cs_trainer_read_node(cs_trainer *t, int node, float *dst, size_t count);
int cs_trainer_batch(const cs_trainer *t);
/* With o.profile: mean device ms per step of a node (training forward +
 * backward + its parameters' optimizer updates) over the steps so far; -1
 * without profiling. *phases (may be NULL) gets the mean wall ms per step of
 * forward, loss (host), backward and optimizer. */
double cs_trainer_node_ms(const cs_trainer *t, int node);
void cs_trainer_phase_ms(const cs_trainer *t, double phases[4]);
const char *cs_trainer_device_name(cs_trainer *t);
/* Copies the trained parameters and running statistics into the graph. */
cs_status cs_trainer_sync_weights(cs_trainer *t);
/* Learning rate for the next steps (schedules). */
void cs_trainer_set_lr(cs_trainer *t, double lr);
int cs_trainer_steps(const cs_trainer *t);
/* Optimizer state (momentum buffers, Adam moments and step count) for
 * resuming: the tensors and their names, in a stable order. */
int cs_trainer_state_count(const cs_trainer *t);
cs_status cs_trainer_state_get(cs_trainer *t, int index, char *name, size_t name_size,
                               float **data, size_t *count);
cs_status cs_trainer_state_set(cs_trainer *t, const char *name, const float *data, size_t count);

#ifdef __cplusplus
}
#endif
#endif
