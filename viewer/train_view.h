/* `convscope-viewer --train MODEL`: watch a network learn, live. A trainer
 * runs Adam steps on Fashion-MNIST in slices between frames; the window shows
 * the loss and accuracy curves, the first conv layer's filters and one layer's
 * feature maps for a fixed test image with the current top-3 prediction.
 * train_view.c owns the state and the loop; panel_train.c draws the frame.
 */
#ifndef VW_TRAIN_VIEW_H
#define VW_TRAIN_VIEW_H

#include <stddef.h>
#include <stdint.h>

#include "convscope.h"
#include "render.h"

/* The command line of the mode, as typed (NULL: the default). */
typedef struct vw_train_args {
    const char *model, *data, *device, *out, *screenshot;
    const char *keys;                      /* replayed before the screenshot, e.g. "]]" or "h" */
    const char *batch, *lr, *seed, *steps; /* numbers, checked by vw_train_main */
    int w, h;
    int presenter;
} vw_train_args;

/* Runs the mode (a window, or --screenshot after --train-steps synchronous
 * steps). Returns the exit status: 0, 1 (cannot train this model), 2 (usage). */
int vw_train_main(const vw_train_args *a);

/* ------------------------------------------------------------------------ */
/* State shared by train_view.c and panel_train.c                           */
/* ------------------------------------------------------------------------ */

#define VW_TRAIN_CURVE_CAP 1024 /* points per curve; halved by merging pairs when full */
#define VW_TRAIN_EVAL_N 500     /* test images in the fixed evaluation slice */
#define VW_TRAIN_TOPK 3
#define VW_TRAIN_MAX_MAPS 64 /* feature maps drawn for one layer */

/* A curve over training steps: x is the step count at each point. */
typedef struct vw_curve {
    float x[VW_TRAIN_CURVE_CAP];
    float y[VW_TRAIN_CURVE_CAP];
    int n;
} vw_curve;

typedef struct vw_train {
    /* model, data and trainer */
    const cs_model_info *info;
    cs_graph *g;
    cs_trainer *tr;
    cs_dataset *train, *test; /* NULL when the data set is missing */
    cs_labels *labels;        /* NULL when the label set is missing */
    char device[160];
    char out[1024]; /* where 's' saves the weights */
    int batch, classes, in_c, in_h, in_w;
    size_t per; /* in_c * in_h * in_w floats per sample */
    double lr;
    uint64_t seed;
    float *x;       /* batch x per: the training batch */
    int32_t *y;     /* batch labels */
    float *logits;  /* batch x classes */
    float *eval_x;  /* VW_TRAIN_EVAL_N x per, preprocessed once */
    float *vis_x;   /* batch x per: the shown test image in sample 0 */
    int *order;     /* shuffled training indices of the current epoch */
    int epoch, pos; /* epoch number (from 0) and position in order */

    /* progress */
    int steps;       /* optimizer steps taken */
    int window;      /* steps averaged into one curve point */
    double win_loss; /* sums over the current window */
    int win_correct, win_seen, win_steps;
    vw_curve loss, train_acc, test_acc;
    double last_loss; /* of the last step */
    float last_test;  /* latest test accuracy (%), < 0 until measured */
    double rate;      /* training images per second, smoothed */
    double eval_ms;   /* cost of the last evaluation */
    int eval_step;    /* step of the last evaluation */
    int evaluating;   /* an evaluation is part-way: eval_pos images done */
    int eval_pos, eval_correct;
    uint32_t eval_at, vis_at; /* SDL ticks of the last evaluation / visual refresh */

    /* what is shown */
    int conv;             /* first conv node, -1: none */
    float *filters;       /* conv weights, channel 0: k x r x s */
    float *filters0;      /* the same at step 0 */
    float *filters_delta; /* filters - filters0 */
    int f_k, f_r, f_s, f_cin;
    int *layers, n_layers; /* nodes with spatial maps (input excluded) */
    int layer;             /* index into layers */
    float *maps;           /* batch x c x h x w of the shown layer */
    size_t maps_cap;
    int maps_valid; /* maps hold layers[layer] for sample */
    int sample;     /* test image shown */
    int top[VW_TRAIN_TOPK];
    float top_p[VW_TRAIN_TOPK];
    int top_valid;
    uint64_t gen; /* bumps whenever filters or maps change */

    /* view and status */
    int paused, can_train, help, log_loss, presenter, quit, redraw;
    float ui_scale;
    char msg[600];
    int msg_error;
    char saved[1024]; /* last save, "" when none */
} vw_train;

/* Draws one frame of the mode (panel_train.c). */
void vw_train_draw(vw_train *t, vw_render *r, int out_w, int out_h, float dpi);
/* Class name i ("class i" when the label set is missing). */
const char *vw_train_label(const vw_train *t, int i, char *buf, size_t size);

#endif
