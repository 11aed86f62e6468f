/* The block-panel registry, in one place: which special panel explains the
 * current layer. Blocks are tried from the innermost outwards (an SE block
 * inside a residual unit shows the SE panel while the cursor is inside it),
 * then the panels tied to no block.
 */
#include <stddef.h>

#include "panel.h"

/* Defined in viewer/panel_<name>.c (the transition panel in panel_dense.c). */
extern const vw_panel vw_panel_se;
extern const vw_panel vw_panel_dense;
extern const vw_panel vw_panel_transition;
extern const vw_panel vw_panel_inception;
extern const vw_panel vw_panel_separable;
extern const vw_panel vw_panel_lenet;

static const vw_panel *const block_panels[] = {
    &vw_panel_residual,  &vw_panel_se,        &vw_panel_dense, &vw_panel_transition,
    &vw_panel_inception, &vw_panel_separable, &vw_panel_lenet,
};

#define N_PANELS ((int)(sizeof block_panels / sizeof block_panels[0]))

static int offers(const vw_panel *p, const vw_state *s, int block)
{
    return p->applies == NULL || p->applies(s, block);
}

const vw_panel *vw_panel_pick(const vw_state *s, int *block)
{
    *block = -1;
    if (!s->m.g)
        return NULL;
    int b = cs_graph_node_block(s->m.g, s->cursor);
    for (int guard = 0; b >= 0 && guard < 64; guard++) {
        cs_block_info info = {0};
        if (cs_graph_block(s->m.g, b, &info) != CS_OK)
            break;
        for (int i = 0; i < N_PANELS; i++) {
            if (block_panels[i]->kind == info.kind && offers(block_panels[i], s, b)) {
                *block = b;
                return block_panels[i];
            }
        }
        b = info.parent;
    }
    for (int i = 0; i < N_PANELS; i++)
        if (block_panels[i]->kind == CS_BLOCK_NONE && offers(block_panels[i], s, -1))
            return block_panels[i];
    return NULL;
}
