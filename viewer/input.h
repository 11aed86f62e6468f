/* Input: SDL events (keys, mouse, dropped files, window changes) become
 * changes of the viewer state; --keys replays key presses for screenshots.
 */
#ifndef VW_INPUT_H
#define VW_INPUT_H

#include <SDL.h>

#include "state.h"

/* Applies one event. dpi: output pixels per window pixel (mouse coordinates
 * are scaled by it to match the panels' geometry). */
void vw_input_event(vw_state *s, const SDL_Event *e, float dpi);
/* Replays keys: printable characters are their keys; '>' Right, '<' Left,
 * '^' Home, '$' End. Returns -1 (after printing why) on an unknown one. */
int vw_input_keys(vw_state *s, const char *keys);
/* The zoo model a family key (1-8) opens, NULL when none. */
const char *vw_family_model(int number);

#endif
