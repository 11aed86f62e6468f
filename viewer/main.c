/* convscope-viewer: step through a CNN layer by layer, live on an OpenCL
 * device. main parses the arguments, sets SDL up, and runs the loop that only
 * dispatches: events to input.c, work to the state's tick, frames to ui.c.
 * --screenshot renders one state with the software renderer into a surface
 * (no display needed), writes the PNG atomically and exits. --train MODEL
 * hands over to the training view (train_view.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <SDL.h>

#include "export.h"
#include "input.h"
#include "panel.h"
#include "render.h"
#include "state.h"
#include "tour.h"
#include "train_view.h"
#include "ui.h"

#define DEFAULT_W 1600
#define DEFAULT_H 900

typedef struct options {
    const char *model, *weights, *image, *device, *layer, *tour, *screenshot, *keys;
    const char *train, *data, *out, *batch, *lr, *seed, *train_steps; /* --train mode */
    int w, h;
    int presenter;
} options;

static void usage(FILE *to)
{
    fprintf(to,
            "usage: convscope-viewer [options]\n"
            "Step through a convolutional network layer by layer, live on an OpenCL device.\n"
            "\n"
            "  --model M         zoo model (default lenet5; 'convscope models' lists them)\n"
            "  --weights W       safetensors weights (default: assets/weights/M.safetensors when\n"
            "                    shipped, else seeded init, shown as untrained)\n"
            "  --image I         input image (default: a sample from assets/images)\n"
            "  --device D        OpenCL device index, or 'cpu' for the reference backend\n"
            "                    (default: $CONVSCOPE_DEVICE, else 0)\n"
            "  --layer N|NAME    start at this layer (node index or name)\n"
            "  --tour FILE       play a tour: PageDown/PageUp step through it\n"
            "  --screenshot FILE render the chosen state to a PNG without a display and exit\n"
            "  --size WxH        window or screenshot size (default %dx%d)\n"
            "  --presenter       big fonts, high contrast\n"
            "  --keys KEYS       replay keys first (e.g. 'g' colour scope, 'c' captions, 'h' help,\n"
            "                    ']' next page, '>' next layer, '$' last layer)\n"
            "  --help            this text\n"
            "\n"
            "Watch a network learn (Fashion-MNIST, Adam, live curves, filters and feature maps):\n"
            "  --train M         train model M (lenet5, lenet5_1998 or fashion_*) from seeded init\n"
            "  --data DIR        Fashion-MNIST IDX files (default %s)\n"
            "  --batch B         samples per step (default 32)\n"
            "  --lr X            Adam learning rate (default 0.001)\n"
            "  --seed S          initial weights and shuffling (default 1)\n"
            "  --out FILE        where 's' saves the weights (default M-trained.safetensors)\n"
            "  --train-steps N   with --screenshot: train N steps, then render one frame\n"
            "  (--device, --size, --presenter, --screenshot and --keys apply as well)\n"
            "\n"
            "In the window, h lists every key.\n",
            DEFAULT_W, DEFAULT_H, CS_FASHION_MNIST_DIR);
}

/* "--name VALUE" or "--name=VALUE": 1 on a match, -1 when the value is missing. */
static int opt(int argc, char **argv, int *i, const char *name, const char **value)
{
    size_t n = strlen(name);
    if (strncmp(argv[*i], name, n) != 0)
        return 0;
    if (argv[*i][n] == '=') {
        *value = argv[*i] + n + 1;
        return 1;
    }
    if (argv[*i][n] != '\0')
        return 0;
    if (*i + 1 >= argc) {
        fprintf(stderr, "convscope-viewer: %s needs a value\n", name);
        return -1;
    }
    *i += 1;
    *value = argv[*i];
    return 1;
}

static int parse_args(int argc, char **argv, options *o)
{
    const char *size = NULL;
    for (int i = 1; i < argc; i++) {
        const char **slots[] = {&o->model,      &o->weights, &o->image, &o->device,     &o->layer, &o->tour,
                                &o->screenshot, &size,       &o->keys,  &o->train,      &o->data,  &o->out,
                                &o->batch,      &o->lr,      &o->seed,  &o->train_steps};
        const char *names[] = {"--model",      "--weights", "--image", "--device",     "--layer", "--tour",
                               "--screenshot", "--size",    "--keys",  "--train",      "--data",  "--out",
                               "--batch",      "--lr",      "--seed",  "--train-steps"};
        int matched = 0;
        for (size_t k = 0; k < sizeof names / sizeof names[0] && !matched; k++) {
            int m = opt(argc, argv, &i, names[k], slots[k]);
            if (m < 0)
                return 2;
            matched = m;
        }
        if (matched)
            continue;
        if (strcmp(argv[i], "--presenter") == 0) {
            o->presenter = 1;
        } else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return 1;
        } else {
            fprintf(stderr, "convscope-viewer: unknown argument '%s'\n", argv[i]);
            usage(stderr);
            return 2;
        }
    }
    if (size) {
        char *end = NULL;
        long w = strtol(size, &end, 10);
        long h = *end == 'x' ? strtol(end + 1, &end, 10) : -1;
        if (*end || w < 320 || h < 240 || w > 16384 || h > 16384) {
            fprintf(stderr, "convscope-viewer: --size takes WxH, at least 320x240, not '%s'\n", size);
            return 2;
        }
        o->w = (int)w;
        o->h = (int)h;
    }
    /* the training view's options and the stepping view's do not mix */
    const char *train_v[] = {o->data, o->out, o->batch, o->lr, o->seed, o->train_steps};
    const char *train_n[] = {"--data", "--out", "--batch", "--lr", "--seed", "--train-steps"};
    const char *step_v[] = {o->model, o->weights, o->image, o->layer, o->tour};
    const char *step_n[] = {"--model", "--weights", "--image", "--layer", "--tour"};
    for (size_t k = 0; k < sizeof train_v / sizeof train_v[0]; k++)
        if (!o->train && train_v[k]) {
            fprintf(stderr, "convscope-viewer: %s goes with --train MODEL\n", train_n[k]);
            return 2;
        }
    for (size_t k = 0; k < sizeof step_v / sizeof step_v[0]; k++)
        if (o->train && step_v[k]) {
            fprintf(stderr, "convscope-viewer: %s does not go with --train (it trains from seeded init)\n",
                    step_n[k]);
            return 2;
        }
    return 0;
}

/* --layer: a node index or a node name. */
static int find_layer(const vw_state *s, const char *spec)
{
    char *end = NULL;
    long v = strtol(spec, &end, 10);
    if (spec[0] && *end == '\0')
        return v >= 0 && v < s->m.n_nodes ? (int)v : -1;
    return cs_graph_find(s->m.g, spec);
}

/* ------------------------------------------------------------------------ */
/* Screenshot mode                                                          */
/* ------------------------------------------------------------------------ */

static int screenshot(vw_state *s, const options *o)
{
    SDL_Surface *surf = SDL_CreateRGBSurfaceWithFormat(0, o->w, o->h, 32, SDL_PIXELFORMAT_ABGR8888);
    SDL_Renderer *sdl = surf ? SDL_CreateSoftwareRenderer(surf) : NULL;
    vw_render *r = sdl ? vw_render_create(sdl) : NULL;
    if (!r) {
        fprintf(stderr, "convscope-viewer: cannot create the software renderer: %s\n", SDL_GetError());
        if (sdl)
            SDL_DestroyRenderer(sdl);
        SDL_FreeSurface(surf);
        return 1;
    }
    vw_state_finish(s);
    /* one frame lays out the panels (hit-test geometry), the second is saved */
    vw_ui_draw(s, r, o->w, o->h, 1.0f);
    vw_ui_draw(s, r, o->w, o->h, 1.0f);
    SDL_RenderPresent(sdl);
    if (s->block_panel)
        printf("panel: %s\n", s->block_panel->name);
    char err[1200] = {0};
    int rc = 0;
    if (vw_save_png(o->screenshot, surf->pixels, surf->w, surf->h, surf->pitch, err, sizeof err) != 0) {
        fprintf(stderr, "convscope-viewer: screenshot: %s\n", err);
        rc = 1;
    } else {
        printf("screenshot: %s\n", o->screenshot);
    }
    vw_render_free(r);
    SDL_DestroyRenderer(sdl);
    SDL_FreeSurface(surf);
    return rc;
}

/* ------------------------------------------------------------------------ */
/* Window mode                                                              */
/* ------------------------------------------------------------------------ */

/* s: the frame just drawn, read back before it is presented. */
static void save_frame(vw_state *s, SDL_Renderer *sdl, int w, int h)
{
    uint8_t *px = malloc((size_t)w * (size_t)h * 4);
    char path[1024] = {0}, err[1200] = {0};
    vw_output_name(s, "png", path, sizeof path);
    if (!px || SDL_RenderReadPixels(sdl, NULL, SDL_PIXELFORMAT_ABGR8888, px, w * 4) != 0)
        vw_state_message(s, 1, "screenshot: cannot read the frame back: %s",
                         px ? SDL_GetError() : "out of memory");
    else if (vw_save_png(path, px, w, h, w * 4, err, sizeof err) != 0)
        vw_state_message(s, 1, "screenshot: %s", err);
    else
        vw_state_message(s, 0, "screenshot saved: %s", path);
    free(px);
}

static int window_loop(vw_state *s, const options *o)
{
    SDL_Rect usable = {0, 0, o->w, o->h};
    int w = o->w, h = o->h;
    if (SDL_GetDisplayUsableBounds(0, &usable) == 0) {
        w = w > usable.w ? usable.w * 95 / 100 : w;
        h = h > usable.h ? usable.h * 95 / 100 : h;
    }
    SDL_Window *win = SDL_CreateWindow("convscope-viewer", SDL_WINDOWPOS_CENTERED, SDL_WINDOWPOS_CENTERED, w,
                                       h, SDL_WINDOW_RESIZABLE | SDL_WINDOW_ALLOW_HIGHDPI);
    if (!win) {
        fprintf(stderr, "convscope-viewer: cannot open a window: %s\n", SDL_GetError());
        return 1;
    }
    SDL_Renderer *sdl = SDL_CreateRenderer(win, -1, SDL_RENDERER_ACCELERATED | SDL_RENDERER_PRESENTVSYNC);
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
    SDL_EventState(SDL_DROPFILE, SDL_ENABLE);
    const cs_model_info *titled = NULL;
    while (!s->quit) {
        uint32_t now = SDL_GetTicks();
        int wait = s->redraw ? 0 : vw_state_wait_ms(s, now);
        SDL_Event e = {0};
        int got = wait < 0 ? SDL_WaitEvent(&e) : SDL_WaitEventTimeout(&e, wait);
        int ww = 1, wh = 1, ow = 1, oh = 1;
        SDL_GetWindowSize(win, &ww, &wh);
        SDL_GetRendererOutputSize(sdl, &ow, &oh);
        float dpi = ww > 0 ? (float)ow / (float)ww : 1.0f;
        if (got) {
            do
                vw_input_event(s, &e, dpi);
            while (SDL_PollEvent(&e));
        }
        if (vw_state_tick(s, SDL_GetTicks()))
            s->redraw = 1;
        if (s->want_fullscreen) {
            s->want_fullscreen = 0;
            s->fullscreen = !s->fullscreen;
            SDL_SetWindowFullscreen(win, s->fullscreen ? SDL_WINDOW_FULLSCREEN_DESKTOP : 0);
        }
        if (s->m.info != titled) {
            char title[160] = {0};
            titled = s->m.info;
            snprintf(title, sizeof title, "convscope-viewer - %s", titled ? titled->name : "");
            SDL_SetWindowTitle(win, title);
        }
        if (!s->redraw && !s->want_screenshot)
            continue;
        s->redraw = 0;
        vw_ui_draw(s, r, ow, oh, dpi);
        if (s->want_screenshot) {
            s->want_screenshot = 0;
            save_frame(s, sdl, ow, oh);
            vw_ui_draw(s, r, ow, oh, dpi); /* show where it went */
        }
        SDL_RenderPresent(sdl);
    }
    vw_render_free(r);
    SDL_DestroyRenderer(sdl);
    SDL_DestroyWindow(win);
    return 0;
}

/* ------------------------------------------------------------------------ */
/* main                                                                     */
/* ------------------------------------------------------------------------ */

int main(int argc, char **argv)
{
    options o;
    memset(&o, 0, sizeof o);
    o.w = DEFAULT_W;
    o.h = DEFAULT_H;
    int prc = parse_args(argc, argv, &o);
    if (prc)
        return prc == 1 ? 0 : 2;
    if (o.train) {
        vw_train_args ta = {.model = o.train,
                            .data = o.data,
                            .device = o.device,
                            .out = o.out,
                            .screenshot = o.screenshot,
                            .keys = o.keys,
                            .batch = o.batch,
                            .lr = o.lr,
                            .seed = o.seed,
                            .steps = o.train_steps,
                            .w = o.w,
                            .h = o.h,
                            .presenter = o.presenter};
        return vw_train_main(&ta);
    }

    static vw_state s; /* large; lives for the whole program */
    vw_state_init(&s);
    s.presenter = o.presenter;
    s.screenshot_mode = o.screenshot != NULL;
    if (cs_device_parse(o.device, &s.device) != CS_OK) {
        fprintf(stderr,
                "convscope-viewer: --device: %s\nhint: 'convscope devices' lists them; 'cpu' is the "
                "reference backend\n",
                cs_last_error());
        return 2;
    }

    int video = SDL_Init(SDL_INIT_VIDEO) == 0;
    if (!video) {
        if (!o.screenshot) {
            fprintf(stderr,
                    "convscope-viewer: cannot start SDL video: %s\n"
                    "hint: run it on a desktop, or render without a display: --screenshot FILE\n",
                    SDL_GetError());
            return 1;
        }
        SDL_Init(0); /* the software renderer needs no display */
    }

    vw_tour *tour = NULL;
    if (o.tour) {
        char err[512] = {0};
        if (vw_tour_load(&tour, o.tour, err, sizeof err) != 0) {
            fprintf(stderr, "convscope-viewer: %s\n", err);
            SDL_Quit();
            return 2;
        }
    }
    if (o.image) {
        s.image_user = 1;
        snprintf(s.image_path, sizeof s.image_path, "%s", o.image);
    }
    const char *model = o.model ? o.model : (tour ? tour->steps[0].model : "lenet5");
    if (vw_state_open_model(&s, model, o.weights) != 0) {
        fprintf(stderr,
                "hint: 'convscope models' lists the architectures; weights must be safetensors with the "
                "reference's keys\n");
        vw_tour_free(tour);
        SDL_Quit();
        return 1;
    }
    if (tour) {
        s.tour = tour;
        s.tour_active = 1;
        vw_tour_go(&s, 0);
    }
    if (o.layer) {
        int node = find_layer(&s, o.layer);
        if (node < 0) {
            fprintf(stderr,
                    "convscope-viewer: --layer: %s has no layer '%s' (0 to %d, or a name)\n"
                    "hint: 'convscope info %s' lists the layers\n",
                    s.m.info->name, o.layer, s.m.n_nodes - 1, s.m.info->name);
            vw_state_free(&s);
            vw_tour_free(tour);
            SDL_Quit();
            return 2;
        }
        vw_state_goto(&s, node);
    }
    int rc = 0;
    if (o.keys && vw_input_keys(&s, o.keys) != 0)
        rc = 2;
    else if (o.screenshot)
        rc = screenshot(&s, &o);
    else
        rc = window_loop(&s, &o);
    vw_state_free(&s);
    vw_tour_free(tour);
    SDL_Quit();
    return rc;
}
