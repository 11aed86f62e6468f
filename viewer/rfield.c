/* Receptive fields: each node's spatial geometry (kernel, stride, padding,
 * dilation of convs and pools, read once at model open), and the input
 * rectangle an output region depends on, found by walking the graph backwards
 * and taking the union over every path.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "state.h"

static void set_window(vw_geom *g, int kh, int kw, int sh, int sw, int pt, int pl, int dh, int dw)
{
    g->kind = VW_GEOM_WINDOW;
    g->kh = kh;
    g->kw = kw;
    g->sh = sh;
    g->sw = sw;
    g->pt = pt;
    g->pl = pl;
    g->dh = dh;
    g->dw = dw;
}

void vw_rfield_prepare(vw_model *m)
{
    for (int i = 0; i < m->n_nodes; i++) {
        vw_geom *g = &m->geom[i];
        memset(g, 0, sizeof *g);
        g->kind = VW_GEOM_IDENTITY;
        switch (cs_graph_node_op(m->g, i)) {
        case CS_OP_CONV2D: {
            cs_conv2d_params c;
            if (cs_graph_node_conv(m->g, i, &c) == CS_OK)
                set_window(g, c.kernel_h, c.kernel_w, c.stride_h, c.stride_w, c.pad_top, c.pad_left, c.dilation_h,
                           c.dilation_w);
            break;
        }
        case CS_OP_MAXPOOL:
        case CS_OP_AVGPOOL: {
            cs_pool_params q;
            if (cs_graph_node_pool(m->g, i, &q) == CS_OK)
                set_window(g, q.kernel_h, q.kernel_w, q.stride_h, q.stride_w, q.pad_top, q.pad_left, 1, 1);
            break;
        }
        case CS_OP_ADAPTIVE_AVGPOOL: g->kind = VW_GEOM_ADAPTIVE; break;
        case CS_OP_DENSE:
        case CS_OP_FLATTEN:
        case CS_OP_SOFTMAX:
        case CS_OP_RBF: g->kind = VW_GEOM_GLOBAL; break;
        default: break;
        }
    }
}

static int clampi(int v, int lo, int hi)
{
    return v < lo ? lo : (v > hi ? hi : v);
}

/* Maps an output interval [a, b] of length `out` to the input's (length in). */
static void map_axis(const vw_geom *g, int axis, int out, int in, int *a, int *b)
{
    int lo = *a, hi = *b;
    switch (g->kind) {
    case VW_GEOM_WINDOW: {
        int k = axis ? g->kw : g->kh, s = axis ? g->sw : g->sh, p = axis ? g->pl : g->pt,
            d = axis ? g->dw : g->dh;
        lo = lo * s - p;
        hi = hi * s - p + (k - 1) * d;
        break;
    }
    case VW_GEOM_ADAPTIVE:
        lo = out > 0 ? (int)((long)lo * in / out) : 0;
        hi = out > 0 ? (int)(((long)(hi + 1) * in + out - 1) / out) - 1 : in - 1;
        break;
    case VW_GEOM_GLOBAL:
        lo = 0;
        hi = in - 1;
        break;
    default: break;
    }
    *a = clampi(lo, 0, in - 1);
    *b = clampi(hi, 0, in - 1);
}

int vw_rfield(const vw_state *s, int node, int oy0, int oy1, int ox0, int ox1, int out[4])
{
    const vw_model *m = &s->m;
    if (!m->g || node < 0 || node >= m->n_nodes)
        return -1;
    int *rf = m->rf; /* y0, y1, x0, x1 per node; y0 > y1: not reached */
    for (int i = 0; i <= node; i++) {
        rf[4 * i] = INT_MAX;
        rf[4 * i + 1] = INT_MIN;
        rf[4 * i + 2] = INT_MAX;
        rf[4 * i + 3] = INT_MIN;
    }
    rf[4 * node] = oy0;
    rf[4 * node + 1] = oy1;
    rf[4 * node + 2] = ox0;
    rf[4 * node + 3] = ox1;
    const int input = cs_graph_input(m->g);
    for (int i = node; i > input; i--) {
        if (rf[4 * i] > rf[4 * i + 1])
            continue;
        int c = 0, oh = 0, ow = 0;
        cs_graph_node_shape(m->g, i, &c, &oh, &ow);
        const int *ins = NULL;
        int n_in = cs_graph_node_inputs(m->g, i, &ins);
        for (int k = 0; k < n_in; k++) {
            int src = ins[k];
            int ih = 0, iw = 0;
            cs_graph_node_shape(m->g, src, &c, &ih, &iw);
            int y0 = rf[4 * i], y1 = rf[4 * i + 1], x0 = rf[4 * i + 2], x1 = rf[4 * i + 3];
            map_axis(&m->geom[i], 0, oh, ih, &y0, &y1);
            map_axis(&m->geom[i], 1, ow, iw, &x0, &x1);
            int *t = &rf[4 * src];
            t[0] = y0 < t[0] ? y0 : t[0];
            t[1] = y1 > t[1] ? y1 : t[1];
            t[2] = x0 < t[2] ? x0 : t[2];
            t[3] = x1 > t[3] ? x1 : t[3];
        }
    }
    if (input < 0 || rf[4 * input] > rf[4 * input + 1])
        return -1;
    memcpy(out, &rf[4 * input], 4 * sizeof *out);
    return 0;
}
