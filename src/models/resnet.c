/* ResNet-18/34/50/101/152 exactly as torchvision.models.resnet* (v1.5: the
 * bottleneck strides on its 3x3 conv), and the network body the SE-ResNets of
 * senet.c share. Node names are the reference module paths.
 */
#include <string.h>

#include "core/status.h"
#include "models/resnet.h"

#define BN_EPS 1e-5f

static int tag(cs_graph *g, int node, cs_role role)
{
    cs_node_set_role(g, node, role, 0);
    return node;
}

/* ------------------------------------------------------------------------ */
/* Residual units                                                           */
/* ------------------------------------------------------------------------ */

/* torchvision reuses one ReLU module per unit ("relu", then "relu_1"); timm
 * has one per use ("act1", "act2"). `use` counts from 0. */
static const char *relu_name(char *buf, const char *unit, int use, const cs_resnet_spec *s)
{
    if (s->timm_names)
        return cs_name(buf, "%s.act%d", unit, use + 1);
    if (use == 0)
        return cs_name(buf, "%s.relu", unit);
    return cs_name(buf, "%s.relu_%d", unit, use);
}

/* One residual unit "<unit>" on x (in_c channels); returns its output, the
 * residual add with the final ReLU fused. */
static int residual_unit(cs_graph *g, const char *unit, int x, int in_c, int planes, int stride,
                         const cs_resnet_spec *s)
{
    char nm[CS_NAME_MAX];
    const int out_c = s->bottleneck ? planes * 4 : planes;
    cs_block_begin(g, CS_BLOCK_RESIDUAL, unit);

    int y = -1;
    if (s->bottleneck) {
        y = tag(g, cs_conv_sq(g, cs_name(nm, "%s.conv1", unit), x, planes, 1, 1, 0, 0), CS_ROLE_RESIDUAL_BRANCH);
        y = tag(g, cs_batchnorm(g, cs_name(nm, "%s.bn1", unit), y, BN_EPS), CS_ROLE_RESIDUAL_BRANCH);
        y = tag(g, cs_act(g, relu_name(nm, unit, 0, s), y, CS_ACT_RELU), CS_ROLE_RESIDUAL_BRANCH);
        y = tag(g, cs_conv_sq(g, cs_name(nm, "%s.conv2", unit), y, planes, 3, stride, 1, 0),
                CS_ROLE_RESIDUAL_BRANCH);
        y = tag(g, cs_batchnorm(g, cs_name(nm, "%s.bn2", unit), y, BN_EPS), CS_ROLE_RESIDUAL_BRANCH);
        y = tag(g, cs_act(g, relu_name(nm, unit, 1, s), y, CS_ACT_RELU), CS_ROLE_RESIDUAL_BRANCH);
        y = tag(g, cs_conv_sq(g, cs_name(nm, "%s.conv3", unit), y, out_c, 1, 1, 0, 0), CS_ROLE_RESIDUAL_BRANCH);
        y = tag(g, cs_batchnorm(g, cs_name(nm, "%s.bn3", unit), y, BN_EPS), CS_ROLE_RESIDUAL_BRANCH);
    } else {
        y = tag(g, cs_conv_sq(g, cs_name(nm, "%s.conv1", unit), x, planes, 3, stride, 1, 0),
                CS_ROLE_RESIDUAL_BRANCH);
        y = tag(g, cs_batchnorm(g, cs_name(nm, "%s.bn1", unit), y, BN_EPS), CS_ROLE_RESIDUAL_BRANCH);
        y = tag(g, cs_act(g, relu_name(nm, unit, 0, s), y, CS_ACT_RELU), CS_ROLE_RESIDUAL_BRANCH);
        y = tag(g, cs_conv_sq(g, cs_name(nm, "%s.conv2", unit), y, planes, 3, 1, 1, 0), CS_ROLE_RESIDUAL_BRANCH);
        y = tag(g, cs_batchnorm(g, cs_name(nm, "%s.bn2", unit), y, BN_EPS), CS_ROLE_RESIDUAL_BRANCH);
    }
    if (s->se)
        y = cs_se_module(g, unit, y);

    int shortcut = x;
    if (stride != 1 || in_c != out_c) {
        shortcut = tag(g, cs_conv_sq(g, cs_name(nm, "%s.downsample.0", unit), x, out_c, 1, stride, 0, 0),
                       CS_ROLE_RESIDUAL_SHORTCUT);
        shortcut = tag(g, cs_batchnorm(g, cs_name(nm, "%s.downsample.1", unit), shortcut, BN_EPS),
                       CS_ROLE_RESIDUAL_SHORTCUT);
    }
    /* out += identity; out = relu(out): the unit's output. */
    int out = tag(g, cs_add(g, unit, y, shortcut, 1), CS_ROLE_RESIDUAL_SUM);
    cs_block_end(g);
    return out;
}

/* ------------------------------------------------------------------------ */
/* Network                                                                  */
/* ------------------------------------------------------------------------ */

cs_status cs_resnet_build_spec(cs_graph *g, const cs_model_build_args *a, const cs_resnet_spec *s)
{
    static const int planes[4] = {64, 128, 256, 512};
    char nm[CS_NAME_MAX];

    int x = cs_input(g, "input", 3, a->in_h, a->in_w);
    x = cs_conv_sq(g, "conv1", x, 64, 7, 2, 3, 0);
    x = cs_batchnorm(g, "bn1", x, BN_EPS);
    x = cs_act(g, s->timm_names ? "act1" : "relu", x, CS_ACT_RELU);
    x = cs_maxpool_sq(g, "maxpool", x, 3, 2, 1, 0);

    int in_c = 64;
    for (int stage = 0; stage < 4; stage++) {
        for (int b = 0; b < s->layers[stage]; b++) {
            const int stride = (stage > 0 && b == 0) ? 2 : 1;
            cs_name(nm, "layer%d.%d", stage + 1, b);
            x = residual_unit(g, nm, x, in_c, planes[stage], stride, s);
            in_c = s->bottleneck ? planes[stage] * 4 : planes[stage];
        }
    }

    if (s->timm_names) {
        x = cs_adaptive_avgpool(g, "global_pool.pool", x, 1, 1);
        x = cs_flatten(g, "global_pool.flatten", x);
    } else {
        x = cs_adaptive_avgpool(g, "avgpool", x, 1, 1);
        x = cs_flatten(g, "flatten", x);
    }
    cs_dense(g, "fc", x, a->num_classes, 1);
    return g->status;
}

/* ------------------------------------------------------------------------ */
/* Family entry point                                                       */
/* ------------------------------------------------------------------------ */

typedef struct resnet_variant {
    const char *name;
    cs_resnet_spec spec;
} resnet_variant;

static const resnet_variant variants[] = {
    {"resnet18", {0, {2, 2, 2, 2}, 0, 0}},
    {"resnet34", {0, {3, 4, 6, 3}, 0, 0}},
    {"resnet50", {1, {3, 4, 6, 3}, 0, 0}},
    {"resnet101", {1, {3, 4, 23, 3}, 0, 0}},
    {"resnet152", {1, {3, 8, 36, 3}, 0, 0}},
};

cs_status cs_build_resnet(cs_graph *g, const cs_model_build_args *a)
{
    for (size_t i = 0; i < sizeof variants / sizeof variants[0]; i++)
        if (strcmp(variants[i].name, a->info->name) == 0)
            return cs_resnet_build_spec(g, a, &variants[i].spec);
    return cs_error(CS_ERR_UNSUPPORTED, "%s: not a resnet variant (resnet18, resnet34, resnet50, resnet101, "
                    "resnet152)", a->info->name);
}
