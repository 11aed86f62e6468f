/* The panel interface: every area of the viewer's window is a vw_panel that
 * draws the state into a rectangle through the render layer, plus the shared
 * widgets panels use (colour-mapped maps, legends, number formatting).
 *
 * Adding a block panel (SE, dense block, inception, separable, LeNet, ...):
 *   1. Write viewer/panel_<name>.c defining
 *        const vw_panel vw_panel_<name> = {"<name>", CS_BLOCK_<KIND>, applies, draw};
 *      - kind: the block kind it explains. The viewer walks the current
 *        layer's blocks from the innermost outwards and offers each block to
 *        the panels of that kind in registry order; the first whose applies()
 *        returns 1 (or whose applies is NULL) is drawn, with that block's id.
 *        A panel tied to no block (the LeNet ones) uses CS_BLOCK_NONE: it is
 *        asked after the block chain, with block = -1.
 *      - draw(s, r, area, block): area is the lower part of the centre
 *        column (the feature maps keep the upper part). Read data with
 *        vw_state_output() (NULL until that node has run: draw a placeholder,
 *        the user may be stepping through the block) and shapes with
 *        vw_state_shape(); the block's node range with cs_graph_block() and
 *        roles with cs_graph_node_role().
 *      - No allocation per frame: draw maps with vw_draw_map() into the image
 *        slots VW_SLOT_PANEL + 0 .. VW_SLOT_PANEL_COUNT - 1 (one block panel
 *        is drawn per frame, so each may use every panel slot) with a key
 *        from vw_key() (include s->data_gen and which nodes have run), which
 *        rebuilds a slot only when its content changes. Derived data (means,
 *        norms, sorted gates) goes into the panel's own buffers (grown when
 *        needed, never per frame) in a small file-static cache under the same
 *        key; panel_residual.c shows all of this in about 200 lines.
 *   2. Add &vw_panel_<name> to block_panels[] in viewer/panel.c and the file
 *      to viewer/meson.build.
 * In --screenshot mode the viewer prints "panel: <name>" for the block panel
 * it drew, so tests can check for it.
 */
#ifndef VW_PANEL_H
#define VW_PANEL_H

#include "render.h"
#include "state.h"

typedef struct vw_panel {
    const char *name;
    cs_block_kind kind;                           /* CS_BLOCK_NONE: not tied to a block */
    int (*applies)(const vw_state *s, int block); /* NULL: always, for blocks of `kind` */
    void (*draw)(vw_state *s, vw_render *r, vw_rect area, int block);
} vw_panel;

/* The fixed panels (block is -1 for them). */
extern const vw_panel vw_panel_layers;  /* left: the layer list */
extern const vw_panel vw_panel_maps;    /* centre: the feature-map grid or one zoomed map */
extern const vw_panel vw_panel_info;    /* right: op, parameters, statistics, histogram */
extern const vw_panel vw_panel_predict; /* right, below: top-k classes */
extern const vw_panel vw_panel_status;  /* bottom: status line */
extern const vw_panel vw_panel_help;    /* overlay: every key */
extern const vw_panel vw_panel_picker;  /* overlay: the model menu */
extern const vw_panel vw_panel_caption; /* band above the maps: plain-words caption of the layer */

/* Block panels. */
extern const vw_panel vw_panel_residual;

/* The block panel for the current layer and the block it explains, or NULL. */
const vw_panel *vw_panel_pick(const vw_state *s, int *block);

/* ------------------------------------------------------------------------ */
/* Widgets shared by the panels (widgets.c)                                  */
/* ------------------------------------------------------------------------ */

/* A cache key from a few numbers (FNV-1a); never 0. */
uint64_t vw_key(const int64_t *v, int n);

/* The scale a map is drawn at: whole pixels from 3x up, so upscaled maps stay
 * crisp; as computed below that, so they fill their space. */
float vw_pixel_scale(float sc);

/* Colour-maps an h x w float map into ARGB pixels (dst row pitch in pixels). */
void vw_colorize(const float *src, int h, int w, vw_range rg, uint32_t *dst, int pitch);

/* Draws one h x w map scaled (nearest, aspect kept, centred) into area,
 * rebuilding image slot `slot` only when `key` changes. Returns the rectangle
 * the map covers. */
vw_rect vw_draw_map(vw_render *r, int slot, uint64_t key, const float *map, int h, int w, vw_range rg,
                    vw_rect area);

/* The mean over channels of a c x h x w tensor into out (h x w floats). */
void vw_mean_map(const float *chw, int c, int h, int w, float *out);
/* L2 norm of n floats. */
double vw_l2(const float *x, size_t n);

/* The input image as the model sees it (de-normalised), fitted into area.
 * Returns the rectangle drawn (input pixel (y, x) is at dst.x + x * dst.w /
 * in_w). */
vw_rect vw_draw_input(const vw_state *s, vw_render *r, vw_rect area);

/* A colour bar for rg with its end values and a caption, in area. */
void vw_draw_legend(vw_render *r, vw_rect area, vw_range rg, const char *caption);

/* "61.7K", "7.98M", "1.82G" */
const char *vw_fmt_count(uint64_t v, char *buf, size_t size);
/* "%.3g" with a sign-aware compact form. */
const char *vw_fmt_value(float v, char *buf, size_t size);

/* A titled box: fills area with the panel colour, draws the title, returns
 * the content rectangle below it. */
vw_rect vw_panel_box(vw_render *r, vw_rect area, const char *title);

/* A short op label for lists: "conv 3x3/2", "max 3x3/2", "relu", "dw 3x3". */
const char *vw_op_short(const vw_state *s, int node, char *buf, size_t size);
/* "C x H x W" or "C" for vectors. */
const char *vw_fmt_shape(const vw_state *s, int node, char *buf, size_t size);

/* Caption text for a node (captions.c), never NULL. */
const char *vw_caption_text(const vw_state *s, int node);
/* Height of the caption band for width w, 0 when captions are off. */
int vw_caption_height(const vw_state *s, vw_render *r, int w);

#endif
