/* The viewer's application state: the open model (graph, session on the
 * device, labels, per-node host copies and statistics), the input image, the
 * current layer and computing progress, and every view setting. Panels read
 * it; input.c changes it through the vw_state_* calls; main.c ticks it.
 */
#ifndef VW_STATE_H
#define VW_STATE_H

#include <stddef.h>
#include <stdint.h>

#include "convscope.h"
#include "render.h"

#define VW_HIST_BINS 48
#define VW_TOPK 5
#define VW_MSG_MS 6000 /* how long an info message stays in the status line */
#define VW_PLAY_MS 450 /* pause between layers while playing */

typedef enum vw_scope {
    VW_SCOPE_CHANNEL = 0,
    VW_SCOPE_LAYER,
    VW_SCOPE_BLOCK,
    VW_SCOPE_GLOBAL,
    VW_SCOPE_COUNT
} vw_scope;

/* Host copy of one node's output for the current input and its statistics,
 * computed once when the node is read back after running. */
typedef struct vw_node_data {
    float *host; /* c x h x w floats (batch 1); NULL until first computed */
    size_t cap;  /* floats allocated in host */
    int valid;   /* host holds the output for the current input */
    float min, max, mean, std;
    float zeros;            /* fraction of values exactly 0 (ReLU sparsity) */
    int hist[VW_HIST_BINS]; /* counts over [min, max] */
    int hist_max;
} vw_node_data;

/* Spatial geometry of a node for receptive fields (parsed once at open). */
typedef enum vw_geom_kind {
    VW_GEOM_IDENTITY = 0, /* same position in every input (act, BN, add, concat, ...) */
    VW_GEOM_WINDOW,       /* conv / pool: kernel, stride, padding, dilation */
    VW_GEOM_ADAPTIVE,     /* adaptive average pooling bins */
    VW_GEOM_GLOBAL        /* every input position (dense, flatten, softmax, RBF) */
} vw_geom_kind;

typedef struct vw_geom {
    vw_geom_kind kind;
    int kh, kw, sh, sw, pt, pl, dh, dw;
} vw_geom;

/* A row of the layer list: a node, or a block header (node -1). */
typedef struct vw_row {
    int node;
    int block;
    int depth; /* indentation level */
} vw_row;

typedef struct vw_prediction {
    int count;
    int index[VW_TOPK];
    float value[VW_TOPK]; /* probability, or RBF distance */
    float bar[VW_TOPK];   /* 0..1 */
    int distances;        /* 1: values are RBF distances (smaller is better) */
    int from_logits;      /* 1: softmax applied by the viewer */
    int valid;
} vw_prediction;

typedef struct vw_model {
    const cs_model_info *info;
    cs_graph *g;
    cs_session *sess;
    cs_labels *labels; /* NULL when the label set is missing */
    int trained;
    char weights[512]; /* the weights file, "" when seeded */
    char device[160];  /* backend / device name */
    int n_nodes, n_blocks;
    int in_c, in_h, in_w;
    float *input;     /* in_c x in_h x in_w, preprocessed */
    float *input_tmp; /* the same size: an image loads here first */
    int have_input;
    vw_node_data *nodes; /* n_nodes */
    vw_geom *geom;       /* n_nodes */
    int *rf;             /* 4 x n_nodes scratch for receptive fields */
    vw_row *rows;        /* n_rows: nodes and block headers */
    int n_rows;
    int *node_row; /* row of each node */
    double max_ms; /* slowest node so far (list bars) */
    vw_prediction pred;
} vw_model;

/* Geometry the panels record while drawing, read by input.c for hit tests. */
typedef struct vw_ui {
    vw_rect list, maps, info, predict, status, block;
    /* layer list */
    int list_row_h, list_y0, list_first, list_visible;
    /* feature-map grid: page of channels [grid_first, grid_first + grid_count) */
    vw_rect grid;
    int grid_cols, grid_cell_w, grid_cell_h, grid_gutter, grid_first, grid_count, grid_pages;
    int map_h, map_w; /* the node's map size */
    int vector;       /* 1: a C x 1 x 1 tensor drawn as one cell per value */
    /* zoomed channel and the input image beside it */
    vw_rect zoom_map, zoom_input;
    int mouse_x, mouse_y; /* output pixels */
    /* model picker */
    vw_rect picker;
    int picker_row_h, picker_first, picker_visible;
} vw_ui;

struct vw_tour;
struct vw_panel;

typedef struct vw_state {
    vw_model m;
    cs_device_choice device;
    char image_path[1024];
    int image_user; /* 1: the user chose the image (kept across models) */
    int image_ok;   /* 0: the input is blank because the image failed */
    int cursor;     /* current layer (node id) */
    int playing;
    uint32_t play_due;  /* SDL ticks of the next automatic step */
    int compute_failed; /* stop retrying until the input or model changes */
    uint64_t data_gen;  /* bumps with every new input or model */

    /* view settings */
    float ui_scale;
    int presenter;
    vw_scope scope;
    int captions;
    int help;
    int picker; /* model menu open */
    int picker_sel;
    int zoom;             /* zoomed channel, -1: the grid */
    int page;             /* page of the feature grid */
    int hover_channel;    /* -1: none */
    int hover_y, hover_x; /* map position under the mouse, -1: none */
    int list_scroll;      /* first row shown */
    int list_follow;      /* 1: the list scrolls to keep the cursor in view */
    int fullscreen;

    /* status line message */
    char msg[512];
    int msg_error;
    uint32_t msg_until; /* 0: until replaced */

    char pending_model[64]; /* a model to open on the next tick ("" : none) */
    int pending_shown;      /* the "opening ..." frame has been drawn */

    struct vw_tour *tour; /* NULL: no tour */
    int tour_active;

    /* frame bookkeeping */
    vw_ui ui;
    const struct vw_panel *block_panel; /* the block panel drawn last frame, NULL: none */
    int screenshot_mode;
    int want_screenshot; /* 's' pressed: main saves the next frame */
    int want_fullscreen; /* 'f' pressed: main toggles the window */
    int quit;
    int redraw;
} vw_state;

/* Colour scale of a map: values lo..hi, diverging (zero neutral) or not. */
typedef struct vw_range {
    float lo, hi;
    int diverging;
} vw_range;

void vw_state_init(vw_state *s);
/* Frees the model and everything the state owns. */
void vw_state_free(vw_state *s);

/* Opens a zoo model with weights (NULL: assets/weights/<name>.safetensors
 * when shipped, else seeded init, shown as "untrained"), creates its session
 * on the state's device (falling back to the CPU reference backend when no
 * OpenCL device works), loads the image and computes up to the first layer.
 * On failure the previous model stays and the error is shown. 0: success. */
int vw_state_open_model(vw_state *s, const char *name, const char *weights);
/* Loads an image as the input (NULL: the model's default sample image) and
 * recomputes up to the cursor. On failure the message is shown and, when
 * there is no previous input, a blank input is used. 0: success. */
int vw_state_set_image(vw_state *s, const char *path);

/* Opens a model on a later tick, after a frame saying so has been drawn. */
void vw_state_request_model(vw_state *s, const char *name);

/* Moves the cursor (clamped); nodes up to it compute on the next ticks. */
void vw_state_goto(vw_state *s, int node);
/* 1 while the cursor is ahead of what has been computed. */
int vw_state_busy(const vw_state *s);
/* One unit of work: computes one node, or advances play. 1: changed. */
int vw_state_tick(vw_state *s, uint32_t now_ms);
/* Milliseconds until the state needs a tick (0: now, -1: only on events). */
int vw_state_wait_ms(const vw_state *s, uint32_t now_ms);
/* Computes synchronously up to the cursor (screenshot mode). */
void vw_state_finish(vw_state *s);

/* Output of a computed node for the current input, NULL otherwise. */
const float *vw_state_output(const vw_state *s, int node);
const vw_node_data *vw_state_data(const vw_state *s, int node);
/* Output shape (C, H, W) of a node. */
void vw_state_shape(const vw_state *s, int node, int *c, int *h, int *w);
/* Enclosing block of `kind` (innermost first), -1 when none. */
int vw_state_block_of_kind(const vw_state *s, int node, cs_block_kind kind);
/* Colour scale for a node (channel: used by the channel scope) under the
 * current scope. */
vw_range vw_state_range(const vw_state *s, int node, int channel);
/* Name of a scope: "channel", "layer", "block", "global". */
const char *vw_scope_name(vw_scope scope);
/* Class label i ("class i" when the set is missing or too short). */
const char *vw_state_label(const vw_state *s, int i, char *buf, size_t size);

/* Shows a message in the status line; errors also go to stderr, info to stdout. */
void vw_state_message(vw_state *s, int error, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Receptive field (rfield.c): the input rectangle [y0, y1] x [x0, x1]
 * (inclusive, clipped to the input) that output positions [oy0, oy1] x
 * [ox0, ox1] of `node` depend on. 0: success. */
int vw_rfield(const vw_state *s, int node, int oy0, int oy1, int ox0, int ox1, int out[4]);
/* Parses every node's geometry from the graph (at model open). */
void vw_rfield_prepare(vw_model *m);

#endif
