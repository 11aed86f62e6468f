/* `convscope-viewer --train MODEL`: the state and loop of the training view.
 * Sets up the model (seeded init), Fashion-MNIST and a trainer; each frame
 * runs Adam steps for about SLICE_MS, then the curves, filters and feature
 * maps are refreshed on their own clocks and the frame is drawn. Errors go to
 * the status line and pause training; only a model that cannot train on the
 * data ends the program. --screenshot runs --train-steps steps synchronously.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <SDL.h>

#include "export.h"
#include "train_view.h"

#define SLICE_MS 40      /* training time per frame: the window stays responsive */
#define EVAL_MS 1000     /* test accuracy about once a second ... */
#define EVAL_STEPS 50    /* ... or every 50 steps when stepping without a clock (--screenshot) */
#define VIS_MS 500       /* filters and feature maps twice a second */
#define FIRST_WINDOW 20  /* steps per point of the loss curve */
#define IDLE_WAIT_MS 250 /* event wait while paused */

static void message(vw_train *t, int error, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void message(vw_train *t, int error, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(t->msg, sizeof t->msg, fmt, ap);
    va_end(ap);
    t->msg_error = error;
    t->redraw = 1;
    fprintf(error ? stderr : stdout, "%s\n", t->msg);
}

const char *vw_train_label(const vw_train *t, int i, char *buf, size_t size)
{
    const char *l = t->labels ? cs_labels_get(t->labels, i) : NULL;
    if (l)
        snprintf(buf, size, "%s", l);
    else
        snprintf(buf, size, "class %d", i);
    return buf;
}

/* ------------------------------------------------------------------------ */
/* Curves                                                                   */
/* ------------------------------------------------------------------------ */

/* Appends (x, y); a full curve first merges neighbouring pairs. */
static void curve_push(vw_curve *c, float x, float y)
{
    if (c->n == VW_TRAIN_CURVE_CAP) {
        for (int i = 0; i < VW_TRAIN_CURVE_CAP / 2; i++) {
            c->x[i] = c->x[2 * i + 1];
            c->y[i] = 0.5f * (c->y[2 * i] + c->y[2 * i + 1]);
        }
        c->n = VW_TRAIN_CURVE_CAP / 2;
    }
    c->x[c->n] = x;
    c->y[c->n] = y;
    c->n++;
}

/* ------------------------------------------------------------------------ */
/* Training                                                                 */
/* ------------------------------------------------------------------------ */

/* splitmix64: the shuffle's generator. */
static uint64_t mix64(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static void shuffle(vw_train *t)
{
    uint64_t s = t->seed * 0x2545F4914F6CDD1Dull + (uint64_t)t->epoch + 1u;
    int n = t->train->count;
    for (int i = 0; i < n; i++)
        t->order[i] = i;
    for (int i = n - 1; i > 0; i--) {
        int j = (int)(mix64(&s) % (uint64_t)(i + 1));
        int tmp = t->order[i];
        t->order[i] = t->order[j];
        t->order[j] = tmp;
    }
}

/* One optimizer step on the next batch. 0: done; -1: failed (shown, paused). */
static int train_step(vw_train *t)
{
    if (t->pos + t->batch > t->train->count) {
        t->epoch++;
        t->pos = 0;
        shuffle(t);
    }
    for (int b = 0; b < t->batch; b++) {
        int idx = t->order[t->pos + b];
        cs_dataset_input(t->train, idx, t->info, t->in_c, t->in_h, t->in_w, t->x + t->per * (size_t)b);
        t->y[b] = t->train->labels[idx];
    }
    double loss = 0.0;
    int correct = 0;
    if (cs_trainer_step(t->tr, t->x, t->per * (size_t)t->batch, t->y, &loss, &correct) != CS_OK) {
        message(t, 1, "training paused at step %d: %s", t->steps, cs_last_error());
        t->paused = 1;
        return -1;
    }
    t->pos += t->batch;
    t->steps++;
    t->last_loss = loss;
    t->win_loss += loss;
    t->win_correct += correct;
    t->win_seen += t->batch;
    if (++t->win_steps >= t->window) {
        if (t->loss.n == VW_TRAIN_CURVE_CAP)
            t->window *= 2; /* the curves halve: keep later points as wide as the merged ones */
        curve_push(&t->loss, (float)t->steps, (float)(t->win_loss / t->win_steps));
        curve_push(&t->train_acc, (float)t->steps, (float)(100.0 * t->win_correct / t->win_seen));
        t->win_loss = 0.0;
        t->win_correct = t->win_seen = t->win_steps = 0;
    }
    return 0;
}

/* Evaluation runs in batch-sized chunks so that the window can go on
 * drawing between them (training waits meanwhile: one model, one accuracy).
 * eval_chunk does the next chunk; the last one appends the accuracy to its
 * curve. 1: more to do, 0: finished, -1: failed (shown, paused). */
static int eval_chunk(vw_train *t)
{
    uint64_t t0 = SDL_GetPerformanceCounter();
    if (!t->evaluating) {
        t->evaluating = 1;
        t->eval_pos = t->eval_correct = 0;
        t->eval_ms = 0.0;
    }
    const int n = t->test->count < VW_TRAIN_EVAL_N ? t->test->count : VW_TRAIN_EVAL_N;
    const int start = t->eval_pos;
    const int cnt = n - start < t->batch ? n - start : t->batch;
    if (cs_trainer_predict(t->tr, t->eval_x + t->per * (size_t)start, t->per * (size_t)cnt, t->logits,
                           (size_t)t->batch * (size_t)t->classes) != CS_OK) {
        message(t, 1, "evaluation failed, training paused: %s", cs_last_error());
        t->paused = 1;
        t->evaluating = 0;
        t->eval_step = t->steps; /* no retry until it trains again */
        return -1;
    }
    for (int b = 0; b < cnt; b++) {
        const float *z = t->logits + (size_t)b * (size_t)t->classes;
        int best = 0;
        for (int k = 1; k < t->classes; k++)
            best = z[k] > z[best] ? k : best;
        t->eval_correct += best == t->test->labels[start + b];
    }
    t->eval_pos = start + cnt;
    t->eval_ms += (double)(SDL_GetPerformanceCounter() - t0) * 1000.0 / (double)SDL_GetPerformanceFrequency();
    if (t->eval_pos < n)
        return 1;
    t->evaluating = 0;
    t->last_test = 100.0f * (float)t->eval_correct / (float)n;
    curve_push(&t->test_acc, (float)t->steps, t->last_test);
    t->eval_step = t->steps;
    t->eval_at = SDL_GetTicks();
    t->redraw = 1;
    return 0;
}

/* A whole evaluation at once (start and --screenshot). */
static int evaluate(vw_train *t)
{
    int rc = 1;
    while (rc == 1)
        rc = eval_chunk(t);
    return rc;
}

/* ------------------------------------------------------------------------ */
/* What the panels show                                                     */
/* ------------------------------------------------------------------------ */

/* The first conv layer's weights, input channel 0, from the graph, and how
 * far they moved since step 0. */
static void copy_filters(vw_train *t)
{
    const size_t n = (size_t)t->f_k * (size_t)t->f_r * (size_t)t->f_s;
    for (size_t i = 0; i < n; i++)
        t->filters_delta[i] = 0.0f;
    for (int i = 0; t->conv >= 0 && i < cs_graph_param_count(t->g, t->conv); i++) {
        cs_param_info p = {0};
        if (cs_graph_param(t->g, t->conv, i, &p) != CS_OK || strcmp(p.name, "weight") != 0 || p.ndim != 4)
            continue;
        const size_t rs = (size_t)p.dims[2] * (size_t)p.dims[3];
        for (int k = 0; k < t->f_k; k++)
            memcpy(t->filters + (size_t)k * rs, p.data + (size_t)k * (size_t)p.dims[1] * rs,
                   rs * sizeof(float));
        for (size_t j = 0; j < n; j++)
            t->filters_delta[j] = t->filters[j] - t->filters0[j];
        return;
    }
}

/* Reads the weights back, runs the shown test image and reads the shown
 * layer. Without a trainer the filters are the seeded ones. */
static void refresh_vis(vw_train *t)
{
    t->vis_at = SDL_GetTicks();
    t->gen++;
    t->redraw = 1;
    if (!t->tr) {
        copy_filters(t);
        return;
    }
    if (cs_trainer_sync_weights(t->tr) != CS_OK) {
        message(t, 1, "cannot read the weights back: %s", cs_last_error());
        t->paused = 1;
        return;
    }
    copy_filters(t);
    t->top_valid = t->maps_valid = 0;
    if (!t->test)
        return;
    cs_dataset_input(t->test, t->sample, t->info, t->in_c, t->in_h, t->in_w, t->vis_x);
    if (cs_trainer_predict(t->tr, t->vis_x, t->per * (size_t)t->batch, t->logits,
                           (size_t)t->batch * (size_t)t->classes) != CS_OK) {
        message(t, 1, "cannot run the test image, training paused: %s", cs_last_error());
        t->paused = 1;
        return;
    }
    /* softmax of sample 0, then the top classes */
    float zmax = t->logits[0], sum = 0.0f, p[16];
    int nc = t->classes < 16 ? t->classes : 16; /* 10: check_fits */
    for (int k = 1; k < nc; k++)
        zmax = t->logits[k] > zmax ? t->logits[k] : zmax;
    for (int k = 0; k < nc; k++)
        sum += p[k] = expf(t->logits[k] - zmax);
    for (int j = 0; j < VW_TRAIN_TOPK; j++) {
        int best = -1;
        for (int k = 0; k < nc; k++) {
            int taken = 0;
            for (int i = 0; i < j; i++)
                taken |= t->top[i] == k;
            if (!taken && (best < 0 || p[k] > p[best]))
                best = k;
        }
        t->top[j] = best;
        t->top_p[j] = best >= 0 ? p[best] / sum : 0.0f;
    }
    t->top_valid = 1;
    if (t->n_layers > 0 && cs_trainer_read_node(t->tr, t->layers[t->layer], t->maps, t->maps_cap) != CS_OK) {
        message(t, 1, "cannot read layer %s: %s", cs_graph_node_name(t->g, t->layers[t->layer]),
                cs_last_error());
        return;
    }
    t->maps_valid = t->n_layers > 0;
}

static void save_weights(vw_train *t)
{
    if (t->tr && cs_trainer_sync_weights(t->tr) != CS_OK) {
        message(t, 1, "save: cannot read the weights back: %s", cs_last_error());
        return;
    }
    if (cs_graph_save_weights(t->g, t->out) != CS_OK) {
        message(t, 1, "save: %s", cs_last_error());
        return;
    }
    snprintf(t->saved, sizeof t->saved, "%s", t->out);
    message(t, 0, "saved %s (step %d)", t->out, t->steps);
}

/* ------------------------------------------------------------------------ */
/* Keys                                                                     */
/* ------------------------------------------------------------------------ */

static void key(vw_train *t, SDL_Keycode k)
{
    t->redraw = 1;
    if (t->help && k != SDLK_q) {
        t->help = 0;
        if (k == SDLK_ESCAPE || k == SDLK_h || k == SDLK_F1)
            return;
    }
    switch (k) {
    case SDLK_SPACE:
        if (!t->can_train)
            break; /* the status line says why */
        t->paused = !t->paused;
        if (t->paused)
            refresh_vis(t); /* show exactly where it stopped */
        break;
    case SDLK_RIGHTBRACKET:
    case SDLK_RIGHT:
    case SDLK_LEFTBRACKET:
    case SDLK_LEFT:
        if (t->n_layers > 0) {
            int d = k == SDLK_RIGHTBRACKET || k == SDLK_RIGHT ? 1 : t->n_layers - 1;
            t->layer = (t->layer + d) % t->n_layers;
            refresh_vis(t);
        }
        break;
    case SDLK_n:
        if (t->test) {
            t->sample = (t->sample + 1) % t->test->count;
            refresh_vis(t);
        }
        break;
    case SDLK_s: save_weights(t); break;
    case SDLK_l: t->log_loss = !t->log_loss; break;
    case SDLK_p: t->presenter = !t->presenter; break;
    case SDLK_PLUS:
    case SDLK_EQUALS:
    case SDLK_KP_PLUS: t->ui_scale = t->ui_scale + 0.125f > 3.0f ? 3.0f : t->ui_scale + 0.125f; break;
    case SDLK_MINUS:
    case SDLK_KP_MINUS: t->ui_scale = t->ui_scale - 0.125f < 0.5f ? 0.5f : t->ui_scale - 0.125f; break;
    case SDLK_0: t->ui_scale = 1.0f; break;
    case SDLK_h:
    case SDLK_F1: t->help = 1; break;
    case SDLK_ESCAPE:
    case SDLK_q: t->quit = 1; break;
    default: t->redraw = 0; break;
    }
}

/* ------------------------------------------------------------------------ */
/* Setup                                                                    */
/* ------------------------------------------------------------------------ */

static int parse_long(const char *name, const char *v, long lo, long hi, long *out)
{
    char *end = NULL;
    long x = v ? strtol(v, &end, 10) : 0;
    if (!v || !v[0] || *end || x < lo || x > hi) {
        fprintf(stderr, "convscope-viewer: %s takes an integer in [%ld, %ld], not '%s'\n", name, lo, hi,
                v ? v : "");
        return -1;
    }
    *out = x;
    return 0;
}

/* 0 when a 28x28 grey image fits the model's input (asked of the library
 * with a blank one-image data set), else prints why. */
static int check_fits(const cs_model_info *info)
{
    uint8_t px[28 * 28] = {0}, label = 0;
    cs_dataset probe = {1, 28, 28, px, &label};
    size_t n = (size_t)info->in_c * (size_t)info->in_h * (size_t)info->in_w;
    float *buf = malloc(n * sizeof *buf);
    cs_status st =
        buf ? cs_dataset_input(&probe, 0, info, info->in_c, info->in_h, info->in_w, buf) : CS_ERR_NO_MEMORY;
    free(buf);
    if (st == CS_OK && info->num_classes == 10)
        return 0;
    fprintf(stderr,
            "convscope-viewer: --train: %s cannot learn Fashion-MNIST: it takes %dx%dx%d input and "
            "has %d classes; the data set is 28x28 grey images of 10 classes\n"
            "hint: train lenet5, lenet5_1998 or a fashion_* model ('convscope models' lists them)\n",
            info->name, info->in_c, info->in_h, info->in_w, info->num_classes);
    return -1;
}

/* The nodes whose maps can be shown, the first conv, and the buffers. */
static int prepare_views(vw_train *t)
{
    int n = cs_graph_node_count(t->g);
    t->layers = malloc((size_t)n * sizeof *t->layers);
    if (!t->layers)
        return -1;
    t->conv = -1;
    size_t most = 0;
    for (int i = 0; i < n; i++) {
        int c = 0, h = 0, w = 0;
        cs_graph_node_shape(t->g, i, &c, &h, &w);
        cs_op op = cs_graph_node_op(t->g, i);
        if (op == CS_OP_CONV2D && t->conv < 0)
            t->conv = i;
        if (i == cs_graph_input(t->g) || (h <= 1 && w <= 1))
            continue;
        /* start on the first activation after the first conv */
        if (t->conv >= 0 && t->layer == 0 && op == CS_OP_ACT && t->n_layers > 0)
            t->layer = t->n_layers;
        t->layers[t->n_layers++] = i;
        size_t f = (size_t)c * (size_t)h * (size_t)w;
        most = f > most ? f : most;
    }
    t->maps_cap = most * (size_t)t->batch;
    t->maps = malloc((t->maps_cap ? t->maps_cap : 1) * sizeof *t->maps);
    for (int i = 0; t->conv >= 0 && i < cs_graph_param_count(t->g, t->conv); i++) {
        cs_param_info p = {0};
        if (cs_graph_param(t->g, t->conv, i, &p) == CS_OK && strcmp(p.name, "weight") == 0 && p.ndim == 4) {
            t->f_k = p.dims[0];
            t->f_cin = p.dims[1];
            t->f_r = p.dims[2];
            t->f_s = p.dims[3];
        }
    }
    const size_t nf = (size_t)t->f_k * (size_t)t->f_r * (size_t)t->f_s + 1;
    t->filters = malloc(nf * sizeof *t->filters);
    t->filters0 = calloc(nf, sizeof *t->filters0);
    t->filters_delta = malloc(nf * sizeof *t->filters_delta);
    if (!t->maps || !t->filters || !t->filters0 || !t->filters_delta)
        return -1;
    copy_filters(t);
    memcpy(t->filters0, t->filters, nf * sizeof *t->filters);
    return 0;
}

/* The data set, the fixed evaluation slice and the trainer; a failure is
 * shown in the status line and leaves training off. */
static int prepare_training(vw_train *t, const vw_train_args *a)
{
    if (cs_fashion_mnist_load(a->data, 0, &t->train) != CS_OK ||
        cs_fashion_mnist_load(a->data, 1, &t->test) != CS_OK) {
        message(t, 1, "no data set: %s", cs_last_error());
        cs_dataset_free(t->train);
        t->train = NULL;
        return -1;
    }
    int n_eval = t->test->count < VW_TRAIN_EVAL_N ? t->test->count : VW_TRAIN_EVAL_N;
    t->eval_x = malloc(t->per * (size_t)n_eval * sizeof *t->eval_x);
    t->order = malloc((size_t)t->train->count * sizeof *t->order);
    if (!t->eval_x || !t->order) {
        message(t, 1, "out of memory for the data set");
        return -1;
    }
    for (int i = 0; i < n_eval; i++)
        cs_dataset_input(t->test, i, t->info, t->in_c, t->in_h, t->in_w, t->eval_x + t->per * (size_t)i);
    shuffle(t);

    cs_device_choice dev = {0, 0};
    if (cs_device_parse(a->device, &dev) != CS_OK) {
        message(t, 1, "--device: %s", cs_last_error());
        return -1;
    }
    cs_train_options o;
    cs_train_options_default(&o);
    o.batch = t->batch;
    o.seed = t->seed;
    o.optimizer = CS_OPT_ADAM;
    o.adam.lr = t->lr;
    cs_status st = cs_trainer_create(&t->tr, t->g, dev, &o);
    int device_failed = st == CS_ERR_NO_DEVICE || st == CS_ERR_DEVICE || st == CS_ERR_BUILD;
    if (device_failed && !dev.reference && !a->device) {
        /* like the stepping view: no working OpenCL device, use the reference backend */
        fprintf(stderr, "convscope-viewer: OpenCL device %d: %s; training on the CPU reference backend\n",
                dev.index, cs_last_error());
        dev = (cs_device_choice){1, 0};
        st = cs_trainer_create(&t->tr, t->g, dev, &o);
    }
    if (st != CS_OK) {
        message(t, 1, "cannot train %s: %s", t->info->name, cs_last_error());
        return -1;
    }
    snprintf(t->device, sizeof t->device, "%s", cs_trainer_device_name(t->tr));
    t->can_train = 1;
    return 0;
}

static void train_free(vw_train *t)
{
    cs_trainer_free(t->tr);
    cs_graph_free(t->g);
    cs_dataset_free(t->train);
    cs_dataset_free(t->test);
    if (t->labels)
        cs_labels_free(t->labels);
    free(t->x);
    free(t->y);
    free(t->logits);
    free(t->eval_x);
    free(t->vis_x);
    free(t->order);
    free(t->filters);
    free(t->filters0);
    free(t->filters_delta);
    free(t->layers);
    free(t->maps);
}

/* ------------------------------------------------------------------------ */
/* Loops                                                                    */
/* ------------------------------------------------------------------------ */

static int screenshot(vw_train *t, const vw_train_args *a, long steps)
{
    uint64_t t0 = SDL_GetPerformanceCounter();
    for (long i = 0; i < steps && t->can_train && !t->paused; i++) {
        if (train_step(t) != 0)
            break;
        if (t->steps - t->eval_step >= EVAL_STEPS)
            evaluate(t);
    }
    double s = (double)(SDL_GetPerformanceCounter() - t0) / (double)SDL_GetPerformanceFrequency();
    if (t->steps > 0 && s > 0.0)
        t->rate = (double)t->steps * t->batch / s;
    if (t->can_train && !t->paused && t->steps > t->eval_step)
        evaluate(t);
    refresh_vis(t);
    for (const char *k = a->keys ? a->keys : ""; *k; k++) {
        if ((unsigned char)*k < 0x20 || (unsigned char)*k > 0x7e) {
            fprintf(stderr, "convscope-viewer: --keys: cannot replay character 0x%02x\n", (unsigned char)*k);
            return 2;
        }
        key(t, *k == '>' ? SDLK_RIGHT : (*k == '<' ? SDLK_LEFT : (SDL_Keycode)(unsigned char)*k));
    }
    if (steps > 0 && t->steps < steps) {
        fprintf(stderr, "convscope-viewer: training stopped after %d of %ld steps\n", t->steps, steps);
        return 1;
    }
    if (t->steps > 0)
        printf("trained %s for %d steps: loss %.4f, test accuracy %.1f%% on %d images\n", t->info->name,
               t->steps, t->last_loss, (double)t->last_test,
               t->test->count < VW_TRAIN_EVAL_N ? t->test->count : VW_TRAIN_EVAL_N);

    SDL_Surface *surf = SDL_CreateRGBSurfaceWithFormat(0, a->w, a->h, 32, SDL_PIXELFORMAT_ABGR8888);
    SDL_Renderer *sdl = surf ? SDL_CreateSoftwareRenderer(surf) : NULL;
    vw_render *r = sdl ? vw_render_create(sdl) : NULL;
    int rc = 1;
    char err[1200] = {0};
    if (!r)
        fprintf(stderr, "convscope-viewer: cannot create the software renderer: %s\n", SDL_GetError());
    else {
        vw_train_draw(t, r, a->w, a->h, 1.0f);
        SDL_RenderPresent(sdl);
        if (vw_save_png(a->screenshot, surf->pixels, surf->w, surf->h, surf->pitch, err, sizeof err) != 0)
            fprintf(stderr, "convscope-viewer: screenshot: %s\n", err);
        else {
            printf("screenshot: %s\n", a->screenshot);
            rc = 0;
        }
    }
    vw_render_free(r);
    if (sdl)
        SDL_DestroyRenderer(sdl);
    SDL_FreeSurface(surf);
    return rc;
}

/* Evaluation chunks for about SLICE_MS. */
static void eval_slice(vw_train *t)
{
    const uint64_t freq = SDL_GetPerformanceFrequency();
    const uint64_t t0 = SDL_GetPerformanceCounter();
    while (eval_chunk(t) == 1 && (SDL_GetPerformanceCounter() - t0) * 1000 < (uint64_t)SLICE_MS * freq)
        ;
    t->redraw = 1;
}

/* Steps for about SLICE_MS; the rate is measured over the steps only. */
static void train_slice(vw_train *t)
{
    const uint64_t freq = SDL_GetPerformanceFrequency();
    const uint64_t t0 = SDL_GetPerformanceCounter();
    int done = 0;
    uint64_t now = t0;
    do {
        if (train_step(t) != 0)
            break;
        done++;
        now = SDL_GetPerformanceCounter();
    } while ((now - t0) * 1000 < (uint64_t)SLICE_MS * freq);
    double s = (double)(now - t0) / (double)freq;
    if (done > 0 && s > 0.0) {
        double inst = (double)done * t->batch / s;
        t->rate = t->rate > 0.0 ? 0.8 * t->rate + 0.2 * inst : inst;
    }
    t->redraw = 1;
}

static void event(vw_train *t, const SDL_Event *e)
{
    if (e->type == SDL_KEYDOWN)
        key(t, e->key.keysym.sym);
    else if (e->type == SDL_QUIT)
        t->quit = 1;
    else if (e->type == SDL_WINDOWEVENT)
        t->redraw = 1;
}

static int window_loop(vw_train *t, const vw_train_args *a)
{
    SDL_Rect usable = {0, 0, a->w, a->h};
    int w = a->w, h = a->h;
    if (SDL_GetDisplayUsableBounds(0, &usable) == 0) {
        w = w > usable.w ? usable.w * 95 / 100 : w;
        h = h > usable.h ? usable.h * 95 / 100 : h;
    }
    char title[160] = {0};
    snprintf(title, sizeof title, "convscope-viewer - training %s", t->info->name);
    SDL_Window *win = SDL_CreateWindow(title, SDL_WINDOWPOS_CENTERED, SDL_WINDOWPOS_CENTERED, w, h,
                                       SDL_WINDOW_RESIZABLE | SDL_WINDOW_ALLOW_HIGHDPI);
    if (!win) {
        fprintf(stderr, "convscope-viewer: cannot open a window: %s\n", SDL_GetError());
        return 1;
    }
    SDL_Renderer *sdl = SDL_CreateRenderer(win, -1, SDL_RENDERER_ACCELERATED);
    if (!sdl)
        sdl = SDL_CreateRenderer(win, -1, SDL_RENDERER_SOFTWARE);
    vw_render *r = sdl ? vw_render_create(sdl) : NULL;
    if (!r) {
        fprintf(stderr, "convscope-viewer: cannot create a renderer: %s\n", SDL_GetError());
        if (sdl)
            SDL_DestroyRenderer(sdl);
        SDL_DestroyWindow(win);
        return 1;
    }
    t->redraw = 1;
    while (!t->quit) {
        int active = t->evaluating || (t->can_train && !t->paused);
        SDL_Event e;
        if (!active && !t->redraw && SDL_WaitEventTimeout(&e, IDLE_WAIT_MS))
            event(t, &e);
        while (SDL_PollEvent(&e))
            event(t, &e);
        if (t->quit)
            break;
        uint32_t now = SDL_GetTicks();
        /* the test accuracy about once a second, at most a fifth of the time */
        double eval_gap = t->eval_ms * 4.0 > EVAL_MS ? t->eval_ms * 4.0 : EVAL_MS;
        int eval_due = t->can_train && t->steps > t->eval_step && (double)(now - t->eval_at) >= eval_gap;
        if (t->evaluating || eval_due)
            eval_slice(t);
        else if (t->can_train && !t->paused)
            train_slice(t);
        if (t->can_train && !t->paused && now - t->vis_at >= VIS_MS)
            refresh_vis(t);
        if (!t->redraw)
            continue;
        t->redraw = 0;
        int ww = 1, wh = 1, ow = 1, oh = 1;
        SDL_GetWindowSize(win, &ww, &wh);
        SDL_GetRendererOutputSize(sdl, &ow, &oh);
        vw_train_draw(t, r, ow, oh, ww > 0 ? (float)ow / (float)ww : 1.0f);
        SDL_RenderPresent(sdl);
    }
    vw_render_free(r);
    SDL_DestroyRenderer(sdl);
    SDL_DestroyWindow(win);
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Entry                                                                    */
/* ------------------------------------------------------------------------ */

int vw_train_main(const vw_train_args *a)
{
    long batch = 32, seed = 1, steps = 0;
    double lr = 1e-3;
    if ((a->batch && parse_long("--batch", a->batch, 1, 4096, &batch) != 0) ||
        (a->seed && parse_long("--seed", a->seed, 0, 2147483647L, &seed) != 0) ||
        (a->steps && parse_long("--train-steps", a->steps, 0, 10000000L, &steps) != 0))
        return 2;
    if (a->lr) {
        char *end = NULL;
        lr = strtod(a->lr, &end);
        if (!a->lr[0] || *end || !(lr >= 1e-8 && lr <= 10.0)) {
            fprintf(stderr, "convscope-viewer: --lr takes a number in [1e-8, 10], not '%s'\n", a->lr);
            return 2;
        }
    }
    if (a->steps && !a->screenshot) {
        fprintf(stderr,
                "convscope-viewer: --train-steps goes with --screenshot (the window trains until q)\n");
        return 2;
    }
    static vw_train t; /* large (the curves); lives for the whole program */
    memset(&t, 0, sizeof t);
    t.info = cs_model_find(a->model);
    if (!t.info) {
        fprintf(stderr,
                "convscope-viewer: --train: no model '%s'\n"
                "hint: lenet5, lenet5_1998 and the fashion_* models train on Fashion-MNIST "
                "('convscope models' lists them)\n",
                a->model);
        return 1;
    }
    if (check_fits(t.info) != 0)
        return 1;
    t.batch = (int)batch;
    t.seed = (uint64_t)seed;
    t.lr = lr;
    t.window = FIRST_WINDOW;
    t.last_test = -1.0f;
    t.ui_scale = 1.0f;
    t.presenter = a->presenter;
    t.paused = 0;
    snprintf(t.device, sizeof t.device, "no device");
    if (a->out)
        snprintf(t.out, sizeof t.out, "%s", a->out);
    else
        snprintf(t.out, sizeof t.out, "%s-trained.safetensors", t.info->name);

    if (SDL_Init(SDL_INIT_VIDEO) != 0) {
        if (!a->screenshot) {
            fprintf(stderr,
                    "convscope-viewer: cannot start SDL video: %s\n"
                    "hint: run it on a desktop, or render without a display: --screenshot FILE\n",
                    SDL_GetError());
            return 1;
        }
        SDL_Init(0); /* the software renderer needs no display */
    }
    int rc = 1;
    if (cs_model_build(&t.g, t.info->name, NULL) != CS_OK || cs_graph_init_seeded(t.g, t.seed) != CS_OK) {
        fprintf(stderr, "convscope-viewer: --train %s: %s\n", t.info->name, cs_last_error());
        goto done;
    }
    t.classes = 0;
    int oh = 0, ow = 0;
    cs_graph_node_shape(t.g, cs_graph_node_count(t.g) - 1, &t.classes, &oh, &ow);
    cs_graph_node_shape(t.g, cs_graph_input(t.g), &t.in_c, &t.in_h, &t.in_w);
    t.per = (size_t)t.in_c * (size_t)t.in_h * (size_t)t.in_w;
    t.x = malloc(t.per * (size_t)t.batch * sizeof *t.x);
    t.vis_x = calloc(t.per * (size_t)t.batch, sizeof *t.vis_x);
    t.y = malloc((size_t)t.batch * sizeof *t.y);
    t.logits = malloc((size_t)t.batch * (size_t)(t.classes > 0 ? t.classes : 1) * sizeof *t.logits);
    if (!t.x || !t.vis_x || !t.y || !t.logits || prepare_views(&t) != 0) {
        fprintf(stderr, "convscope-viewer: out of memory for a batch of %d\n", t.batch);
        goto done;
    }
    if (cs_labels_builtin(&t.labels, t.info->labels) != CS_OK)
        t.labels = NULL;

    if (prepare_training(&t, a) != 0 && a->screenshot) {
        if (t.train) /* the data set's own message has its hint */
            fprintf(stderr, "hint: --device cpu trains on the CPU reference backend\n");
        goto done;
    }
    if (t.can_train)
        printf("training %s on %s: batch %d, adam lr %g, seed %llu; 's' saves %s\n", t.info->name, t.device,
               t.batch, t.lr, (unsigned long long)t.seed, t.out);
    if (t.can_train)
        evaluate(&t); /* the untrained accuracy: about 10% */
    refresh_vis(&t);
    rc = a->screenshot ? screenshot(&t, a, steps) : window_loop(&t, a);
done:
    train_free(&t);
    SDL_Quit();
    return rc;
}
