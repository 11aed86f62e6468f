/* Files the viewer writes: screenshots and layer exports, atomically (a
 * temporary name, then rename), named after the model, layer and time. */
#ifndef VW_EXPORT_H
#define VW_EXPORT_H

#include <stddef.h>
#include <stdint.h>

#include "state.h"

/* Writes 8-bit RGBA rows (pitch in bytes) as a PNG, atomically. 0: success;
 * on failure the reason is in err. */
int vw_save_png(const char *path, const uint8_t *rgba, int w, int h, int pitch, char *err, size_t err_size);
/* "convscope-<model>-<layer>-<YYYYmmdd-HHMMSS>[-n].<ext>" in the current
 * directory, not yet existing. */
void vw_output_name(const vw_state *s, const char *ext, char *out, size_t size);
/* e: the current layer as a PNG grid (cs_grid_png) and a .npy (1, C, H, W). */
void vw_export_layer(vw_state *s);

#endif
