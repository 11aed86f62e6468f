/* LeNet-5 family: `lenet5`, the modern form (tanh, plain average pooling, a
 * fully connected C3, dense logits and a softmax), and `lenet5_1998`, LeCun et
 * al. 1998 as published (scaled tanh, trainable subsampling, the Table I
 * connections in C3, Euclidean RBF output). Both match tools/cs_reference.py.
 *
 * Keys are convscope's own ("<node>.<param>", all float32):
 *   lenet5       c1.weight (6,1,5,5)    c1.bias (6)
 *                c3.weight (16,6,5,5)   c3.bias (16)
 *                c5.weight (120,16,5,5) c5.bias (120)
 *                f6.weight (84,120)     f6.bias (84)
 *                output.weight (classes,84) output.bias (classes)   61,706 parameters
 *   lenet5_1998  c1.weight/bias as above
 *                s2.weight (6)  s2.bias (6)     subsampling coefficient and bias per map
 *                c3.weight (16,6,5,5) c3.bias (16); only the 60 Table I map pairs are used,
 *                    the other weights are stored but never read
 *                s4.weight (16) s4.bias (16)
 *                c5, f6 as above
 *                output.weight (classes,84)     RBF centres, a buffer (not trainable)
 *                60,000 trainable parameters + 840 RBF centres
 * Nodes: lenet5      input c1 c1_act s2 c3 c3_act s4 c5 c5_act flatten f6 f6_act output softmax
 *        lenet5_1998 input c1 c1_act s2.pool s2 s2_act c3 c3_act s4.pool s4 s4_act c5 c5_act
 *                    flatten f6 f6_act output
 * lenet5 ends with the softmax (probabilities; "output" holds the logits);
 * lenet5_1998 ends with the RBF penalties: the smallest is the predicted class.
 */
#include <string.h>

#include "core/status.h"
#include "models/models.h"

#define S2_MAPS 6
#define C3_MAPS 16

/* LeCun et al. 1998, Table I: rows are S2 maps, columns C3 maps; 1 where the
 * C3 map reads the S2 map. Maps 0-5 read 3 contiguous S2 maps, 6-11 read 4
 * contiguous, 12-14 read 4 non-contiguous, 15 reads all six. */
/* clang-format off */
static const uint8_t c3_table[S2_MAPS][C3_MAPS] = {
    {1, 0, 0, 0, 1, 1, 1, 0, 0, 1, 1, 1, 1, 0, 1, 1},
    {1, 1, 0, 0, 0, 1, 1, 1, 0, 0, 1, 1, 1, 1, 0, 1},
    {1, 1, 1, 0, 0, 0, 1, 1, 1, 0, 0, 1, 0, 1, 1, 1},
    {0, 1, 1, 1, 0, 0, 1, 1, 1, 1, 0, 0, 1, 0, 1, 1},
    {0, 0, 1, 1, 1, 0, 0, 1, 1, 1, 1, 0, 1, 1, 0, 1},
    {0, 0, 0, 1, 1, 1, 0, 0, 1, 1, 1, 1, 0, 1, 1, 1},
};
/* clang-format on */

static int conv5(cs_graph *g, const char *name, int x, int out_c, const uint8_t *mask)
{
    /* clang-format off */
    cs_conv2d_params p = {
        .out_channels = out_c, .kernel_h = 5, .kernel_w = 5, .stride_h = 1, .stride_w = 1,
        .pad_top = 0, .pad_bottom = 0, .pad_left = 0, .pad_right = 0,
        .dilation_h = 1, .dilation_w = 1, .groups = 1, .bias = 1, .mask = mask,
    };
    /* clang-format on */
    return cs_conv2d(g, name, x, &p);
}

/* ------------------------------------------------------------------------ */
/* lenet5: the modern form                                                  */
/* ------------------------------------------------------------------------ */

static cs_status build_modern(cs_graph *g, const cs_model_build_args *a)
{
    int x = cs_input(g, "input", 1, a->in_h, a->in_w);
    x = conv5(g, "c1", x, 6, NULL);
    x = cs_act(g, "c1_act", x, CS_ACT_TANH);
    x = cs_avgpool_sq(g, "s2", x, 2, 2, 0, 0, 1);
    x = conv5(g, "c3", x, 16, NULL);
    x = cs_act(g, "c3_act", x, CS_ACT_TANH);
    x = cs_avgpool_sq(g, "s4", x, 2, 2, 0, 0, 1);
    x = conv5(g, "c5", x, 120, NULL);
    x = cs_act(g, "c5_act", x, CS_ACT_TANH);
    x = cs_flatten(g, "flatten", x);
    x = cs_dense(g, "f6", x, 84, 1);
    x = cs_act(g, "f6_act", x, CS_ACT_TANH);
    x = cs_dense(g, "output", x, a->num_classes, 1);
    cs_softmax(g, "softmax", x);
    return g->status;
}

/* ------------------------------------------------------------------------ */
/* lenet5_1998: LeCun et al. 1998                                            */
/* ------------------------------------------------------------------------ */

/* Trainable subsampling "<name>": the mean of each 2x2 window ("<name>.pool"),
 * times a coefficient plus a bias per map ("<name>", the module's output). */
static int subsample(cs_graph *g, const char *name, int x)
{
    char nm[CS_NAME_MAX];
    x = cs_avgpool_sq(g, cs_name(nm, "%s.pool", name), x, 2, 2, 0, 0, 1);
    return cs_affine(g, name, x);
}

static cs_status build_1998(cs_graph *g, const cs_model_build_args *a)
{
    uint8_t mask[C3_MAPS][S2_MAPS];
    for (int k = 0; k < C3_MAPS; k++)
        for (int c = 0; c < S2_MAPS; c++)
            mask[k][c] = c3_table[c][k];

    int x = cs_input(g, "input", 1, a->in_h, a->in_w);
    x = conv5(g, "c1", x, 6, NULL);
    x = cs_act(g, "c1_act", x, CS_ACT_SCALED_TANH);
    x = subsample(g, "s2", x);
    x = cs_act(g, "s2_act", x, CS_ACT_SCALED_TANH);
    x = conv5(g, "c3", x, C3_MAPS, &mask[0][0]);
    x = cs_act(g, "c3_act", x, CS_ACT_SCALED_TANH);
    x = subsample(g, "s4", x);
    x = cs_act(g, "s4_act", x, CS_ACT_SCALED_TANH);
    x = conv5(g, "c5", x, 120, NULL);
    x = cs_act(g, "c5_act", x, CS_ACT_SCALED_TANH);
    x = cs_flatten(g, "flatten", x);
    x = cs_dense(g, "f6", x, 84, 1);
    x = cs_act(g, "f6_act", x, CS_ACT_SCALED_TANH);
    int out = cs_rbf(g, "output", x, a->num_classes);
    /* The RBF centres were fixed by hand in the paper (stylised 7x12 bitmaps
     * of the characters), not learnt: a buffer, like BN statistics. */
    if (out >= 0)
        g->nodes[out].params[0].buffer = 1;
    return g->status;
}

/* ------------------------------------------------------------------------ */
/* Family entry point                                                       */
/* ------------------------------------------------------------------------ */

cs_status cs_build_lenet(cs_graph *g, const cs_model_build_args *a)
{
    if (strcmp(a->info->name, "lenet5") == 0)
        return build_modern(g, a);
    if (strcmp(a->info->name, "lenet5_1998") == 0)
        return build_1998(g, a);
    return cs_error(CS_ERR_UNSUPPORTED, "%s: not a lenet variant (lenet5, lenet5_1998)", a->info->name);
}
