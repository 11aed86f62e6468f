/* Tours: a small text file of steps (model, image, layer, caption, channel
 * to zoom, colour scope) that the viewer plays with the presenter's clicker.
 * Format: "key value" lines, a blank line between steps, '#' comments; keys
 * are model, image, layer, caption (lines join), zoom, scope. A step keeps
 * the previous step's model and image unless it names new ones.
 */
#ifndef VW_TOUR_H
#define VW_TOUR_H

#include <stddef.h>

#include "state.h"

#define VW_TOUR_MAX_STEPS 256

typedef struct vw_tour_step {
    char model[64];
    char image[1024]; /* resolved path, "" : keep */
    char layer[128];  /* node name or index, "" : keep */
    char caption[1024];
    int zoom;  /* channel, -1: none */
    int scope; /* vw_scope, -1: keep */
} vw_tour_step;

typedef struct vw_tour {
    char title[256];
    vw_tour_step *steps;
    int count;
    int current;
} vw_tour;

/* Loads a tour from a file, or by name from the shipped tours ("resnet");
 * on failure returns -1 and writes the reason to err. */
int vw_tour_load(vw_tour **out, const char *spec, char *err, size_t err_size);
void vw_tour_free(vw_tour *t);
/* Shows step i (clamped): opens its model and image when they change, moves
 * to its layer, zooms. */
void vw_tour_go(vw_state *s, int step);
/* The caption of the current step when the cursor is on its layer, else NULL. */
const char *vw_tour_caption(const vw_state *s);
/* "tour 3/8: PgDn next, PgUp back, t leaves the tour" */
void vw_tour_describe(const vw_tour *t, char *buf, size_t size);

#endif
