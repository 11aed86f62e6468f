/* The frame: lays the panels out in the window and draws them in order
 * (lists, maps, the block panel when the current layer is in one, info,
 * prediction, status, then overlays). */
#ifndef VW_UI_H
#define VW_UI_H

#include "render.h"
#include "state.h"

/* Draws one frame of the state into the render target (out_w x out_h pixels). */
void vw_ui_draw(vw_state *s, vw_render *r, int out_w, int out_h, float dpi);

#endif
