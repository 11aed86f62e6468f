/* Xception exactly as timm legacy_xception (the Keras port, 299x299): two
 * plain convs, twelve residual blocks of ReLU / depthwise separable conv / BN
 * reps with a 1x1 strided projection where the shape changes, two more
 * separable convs, global average pool and fc.
 */
#include <string.h>

#include "core/status.h"
#include "models/models.h"

#define BN_EPS 1e-5f

typedef struct xception_block {
    int in_c, out_c;
    int reps;             /* separable convs in the block */
    int stride;           /* 2: the rep ends with maxpool 3x3/2 pad 1 */
    int start_with_relu;  /* 0: the rep starts directly with the first separable conv */
    int grow_first;       /* 1: the first separable conv changes the width, else the last */
} xception_block;

static const xception_block blocks[12] = {
    {64, 128, 2, 2, 0, 1},   {128, 256, 2, 2, 1, 1},  {256, 728, 2, 2, 1, 1},  {728, 728, 3, 1, 1, 1},
    {728, 728, 3, 1, 1, 1},  {728, 728, 3, 1, 1, 1},  {728, 728, 3, 1, 1, 1},  {728, 728, 3, 1, 1, 1},
    {728, 728, 3, 1, 1, 1},  {728, 728, 3, 1, 1, 1},  {728, 728, 3, 1, 1, 1},  {728, 1024, 2, 2, 1, 0},
};

static int branch(cs_graph *g, int node)
{
    cs_node_set_role(g, node, CS_ROLE_RESIDUAL_BRANCH, 0);
    return node;
}

/* timm Block "block<n>": rep(x) + (skipbn(skip(x)) or x). The rep's leading
 * ReLU is not in-place, so the identity shortcut sees the block input. */
static int residual_block(cs_graph *g, int n, int x, const xception_block *b)
{
    char blk[CS_NAME_MAX], nm[CS_NAME_MAX];
    cs_name(blk, "block%d", n);
    cs_block_begin(g, CS_BLOCK_RESIDUAL, blk);

    /* rep indices as timm's Sequential numbers them: [ReLU], Sep, BN, ReLU,
     * Sep, BN, ..., [MaxPool]; without start_with_relu the first ReLU is gone. */
    int idx = 0;
    int y = x;
    for (int i = 0; i < b->reps; i++) {
        int inc = b->grow_first ? (i == 0 ? b->in_c : b->out_c) : b->in_c;
        int outc = b->grow_first ? b->out_c : (i < b->reps - 1 ? b->in_c : b->out_c);
        if (i > 0 || b->start_with_relu)
            y = branch(g, cs_act(g, cs_name(nm, "%s.rep.%d", blk, idx++), y, CS_ACT_RELU));
        y = cs_separable(g, cs_name(nm, "%s.rep.%d", blk, idx++), y, inc, outc);
        y = branch(g, cs_batchnorm(g, cs_name(nm, "%s.rep.%d", blk, idx++), y, BN_EPS));
    }
    if (b->stride != 1)
        y = branch(g, cs_maxpool_sq(g, cs_name(nm, "%s.rep.%d", blk, idx++), y, 3, b->stride, 1, 0));

    int shortcut = x;
    if (b->out_c != b->in_c || b->stride != 1) {
        shortcut = cs_conv_sq(g, cs_name(nm, "%s.skip", blk), x, b->out_c, 1, b->stride, 0, 0);
        cs_node_set_role(g, shortcut, CS_ROLE_RESIDUAL_SHORTCUT, 0);
        shortcut = cs_batchnorm(g, cs_name(nm, "%s.skipbn", blk), shortcut, BN_EPS);
        cs_node_set_role(g, shortcut, CS_ROLE_RESIDUAL_SHORTCUT, 0);
    }
    /* x += skip: the block's output, no ReLU after it */
    int out = cs_add(g, blk, y, shortcut, 0);
    cs_node_set_role(g, out, CS_ROLE_RESIDUAL_SUM, 0);
    cs_block_end(g);
    return out;
}

cs_status cs_build_xception(cs_graph *g, const cs_model_build_args *a)
{
    if (strcmp(a->info->name, "xception") != 0)
        return cs_error(CS_ERR_UNSUPPORTED, "%s: not an xception variant (xception)", a->info->name);

    int x = cs_input(g, "input", 3, a->in_h, a->in_w);
    x = cs_conv_sq(g, "conv1", x, 32, 3, 2, 0, 0);
    x = cs_batchnorm(g, "bn1", x, BN_EPS);
    x = cs_act(g, "act1", x, CS_ACT_RELU);
    x = cs_conv_sq(g, "conv2", x, 64, 3, 1, 0, 0);
    x = cs_batchnorm(g, "bn2", x, BN_EPS);
    x = cs_act(g, "act2", x, CS_ACT_RELU);

    for (int n = 0; n < 12; n++)
        x = residual_block(g, n + 1, x, &blocks[n]);

    x = cs_separable(g, "conv3", x, 1024, 1536);
    x = cs_batchnorm(g, "bn3", x, BN_EPS);
    x = cs_act(g, "act3", x, CS_ACT_RELU);
    x = cs_separable(g, "conv4", x, 1536, 2048);
    x = cs_batchnorm(g, "bn4", x, BN_EPS);
    x = cs_act(g, "act4", x, CS_ACT_RELU);

    x = cs_adaptive_avgpool(g, "global_pool.pool", x, 1, 1);
    x = cs_flatten(g, "global_pool.flatten", x);
    cs_dense(g, "fc", x, a->num_classes, 1);
    return g->status;
}
