/* Inference fusion on a session's private copy of a graph: batchnorm folded
 * into the convolution that feeds it (weights scaled, bias shifted), and a
 * ReLU that follows fused into the convolution's epilogue. The original nodes
 * stay in the graph as aliases of the fused result, so node ids, names and
 * the viewer's structure are unchanged; what is no longer computed is marked
 * stale and reading it is refused with an explanation.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/graph.h"
#include "core/status.h"

/* The node whose buffer holds i's output. */
static int root_of(const int *alias, int i)
{
    while (alias[i] != i)
        i = alias[i];
    return i;
}

/* Folds BN node b into conv node c: W'[k] = W[k] * s[k], b'[k] = (b[k] - mean[k]) * s[k] + beta[k],
 * s = gamma / sqrt(var + eps). Returns 0 when folded. */
static int fold_bn(cs_graph *g, int c, int b)
{
    cs_node *conv = &g->nodes[c];
    const cs_node *bn = &g->nodes[b];
    const cs_tensor *gamma = cs_node_tensor(bn, "weight"), *beta = cs_node_tensor(bn, "bias");
    const cs_tensor *mean = cs_node_tensor(bn, "running_mean"), *var = cs_node_tensor(bn, "running_var");
    if (!gamma || !beta || !mean || !var)
        return -1;
    int k_count = conv->u.conv.p.out_channels;
    if (!conv->u.conv.p.bias) {
        if (cs_node_add_param(g, c, "bias", 1, &k_count, 0.0f) != 0)
            return -1;
        conv = &g->nodes[c];
        conv->u.conv.p.bias = 1;
    }
    cs_tensor *w = &conv->params[0];
    cs_tensor *bias = NULL;
    for (int i = 0; i < conv->n_params; i++)
        if (strcmp(conv->params[i].name, "bias") == 0)
            bias = &conv->params[i];
    if (!bias)
        return -1;
    size_t per_k = w->count / (size_t)k_count;
    for (int k = 0; k < k_count; k++) {
        double s = (double)gamma->data[k] / sqrt((double)var->data[k] + (double)bn->u.bn.eps);
        for (size_t j = 0; j < per_k; j++)
            w->data[(size_t)k * per_k + j] = (float)((double)w->data[(size_t)k * per_k + j] * s);
        bias->data[k] = (float)(((double)bias->data[k] - (double)mean->data[k]) * s + (double)beta->data[k]);
    }
    return 0;
}

cs_status cs_fuse_for_inference(cs_graph *g, int *alias, uint8_t *stale)
{
    if (!g || !alias || !stale)
        return cs_error(CS_ERR_INVALID_ARG, "cs_fuse_for_inference: NULL argument");
    int n = g->n_nodes;
    int *consumers = calloc((size_t)n, sizeof *consumers);
    if (!consumers)
        return cs_error(CS_ERR_NO_MEMORY, "cs_fuse_for_inference: out of memory");
    for (int i = 0; i < n; i++) {
        alias[i] = i;
        stale[i] = 0;
        for (int k = 0; k < g->nodes[i].n_inputs; k++)
            consumers[g->nodes[i].inputs[k]]++;
    }
    for (int i = 0; i < n; i++) {
        cs_node *nd = &g->nodes[i];
        int x = nd->n_inputs == 1 ? nd->inputs[0] : -1;
        /* the producer must be a conv (possibly already extended by fusion)
         * whose result nothing else reads */
        if (x < 0 || consumers[x] != 1)
            continue;
        int c = root_of(alias, x);
        if (g->nodes[c].op != CS_OP_CONV2D || g->nodes[c].u.conv.relu)
            continue;
        if (nd->op == CS_OP_BATCHNORM && c == x) {
            if (fold_bn(g, c, i) != 0)
                continue;
        } else if (nd->op == CS_OP_ACT && nd->u.act.kind == CS_ACT_RELU) {
            g->nodes[c].u.conv.relu = 1;
        } else {
            continue;
        }
        alias[i] = c;
        stale[x] = 1; /* x's own value (pre-BN or pre-ReLU) is gone */
    }
    free(consumers);
    return g->status;
}
