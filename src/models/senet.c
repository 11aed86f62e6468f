/* Squeeze-and-excitation networks: the SE module exactly as timm's SEModule,
 * SE-ResNet-50/101/152 as timm seresnet* (torchvision bottlenecks with the SE
 * module after bn3, before the residual add), and the dispatch of se_googlenet
 * to the SE-Inception builder in googlenet.c.
 */
#include <string.h>

#include "core/status.h"
#include "models/resnet.h"

static int tag(cs_graph *g, int node, cs_role role)
{
    cs_node_set_role(g, node, role, 0);
    return node;
}

/* timm make_divisible(channels * 1/16, 8, round_limit=0): the nearest
 * multiple of 8, at least 8. */
static int se_reduced_channels(int channels)
{
    const double v = (double)channels / 16.0;
    int rd = (int)(v + 4.0) / 8 * 8;
    return rd < 8 ? 8 : rd;
}

int cs_se_module(cs_graph *g, const char *prefix, int x)
{
    char se[CS_NAME_MAX], nm[CS_NAME_MAX];
    if (g->status != CS_OK || x < 0 || x >= g->n_nodes)
        return -1; /* an earlier builder call failed; g->status keeps its message */
    const int c = g->nodes[x].out.c;
    cs_name(se, "%s.se", prefix);
    cs_block_begin(g, CS_BLOCK_SE, se);
    /* x.mean((2, 3), keepdim=True) */
    int s = tag(g, cs_adaptive_avgpool(g, cs_name(nm, "%s.squeeze", se), x, 1, 1), CS_ROLE_SE_SQUEEZE);
    s = tag(g, cs_conv_sq(g, cs_name(nm, "%s.fc1", se), s, se_reduced_channels(c), 1, 1, 0, 1), CS_ROLE_SE_EXCITE);
    s = tag(g, cs_act(g, cs_name(nm, "%s.act", se), s, CS_ACT_RELU), CS_ROLE_SE_EXCITE);
    s = tag(g, cs_conv_sq(g, cs_name(nm, "%s.fc2", se), s, c, 1, 1, 0, 1), CS_ROLE_SE_EXCITE);
    s = tag(g, cs_act(g, cs_name(nm, "%s.gate", se), s, CS_ACT_SIGMOID), CS_ROLE_SE_EXCITE);
    /* x * gate: the SE module's output */
    int y = tag(g, cs_scale(g, se, x, s), CS_ROLE_SE_SCALE);
    cs_block_end(g);
    return y;
}

typedef struct seresnet_variant {
    const char *name;
    cs_resnet_spec spec;
} seresnet_variant;

static const seresnet_variant variants[] = {
    {"seresnet50", {1, {3, 4, 6, 3}, 1, 1}},
    {"seresnet101", {1, {3, 4, 23, 3}, 1, 1}},
    {"seresnet152", {1, {3, 8, 36, 3}, 1, 1}},
};

cs_status cs_build_senet(cs_graph *g, const cs_model_build_args *a)
{
    if (strcmp(a->info->name, "se_googlenet") == 0)
        return cs_build_inception_se(g, a);
    for (size_t i = 0; i < sizeof variants / sizeof variants[0]; i++)
        if (strcmp(variants[i].name, a->info->name) == 0)
            return cs_resnet_build_spec(g, a, &variants[i].spec);
    return cs_error(CS_ERR_UNSUPPORTED, "%s: not a senet variant (seresnet50, seresnet101, seresnet152, "
                    "se_googlenet)", a->info->name);
}
