/* DenseNet-121/161/169/201 exactly as torchvision.models.densenet*: stem,
 * dense blocks of BN-ReLU-conv1x1(bn_size*k)-BN-ReLU-conv3x3(k) layers, each
 * reading the explicit channel concat of the block input and the earlier
 * layers' outputs, transitions halving channels and size, then norm5, ReLU,
 * global average pool and the classifier.
 */
#include <string.h>

#include "core/status.h"
#include "models/models.h"

#define BN_EPS 1e-5f
#define BN_SIZE 4       /* bottleneck width = BN_SIZE * growth */
#define MAX_LAYERS 64   /* layers in one dense block (densenet201 has 48) */

typedef struct densenet_variant {
    const char *name;
    int growth;        /* k: channels each layer adds */
    int blocks[4];     /* layers per dense block */
    int init_features; /* conv0 output channels */
} densenet_variant;

static const densenet_variant variants[] = {
    {"densenet121", 32, {6, 12, 24, 16}, 64},
    {"densenet161", 48, {6, 12, 36, 24}, 96},
    {"densenet169", 32, {6, 12, 32, 32}, 64},
    {"densenet201", 32, {6, 12, 48, 32}, 64},
};

/* One dense layer "<block>.denselayer<l>" (l from 1) over the features so far
 * (block input, then layers 1..l-1); returns its k new channels. */
static int dense_layer(cs_graph *g, const char *block, int l, const int *features, int growth)
{
    char layer[CS_NAME_MAX], nm[CS_NAME_MAX];
    cs_name(layer, "%s.denselayer%d", block, l);
    cs_block_begin(g, CS_BLOCK_DENSE_LAYER, layer);
    int x = features[0];
    if (l > 1) {
        /* bn_function: torch.cat(inputs, 1) */
        x = cs_concat(g, cs_name(nm, "%s.cat", layer), features, l);
        cs_node_set_role(g, x, CS_ROLE_DENSE_CONCAT, l - 1);
    }
    x = cs_batchnorm(g, cs_name(nm, "%s.norm1", layer), x, BN_EPS);
    x = cs_act(g, cs_name(nm, "%s.relu1", layer), x, CS_ACT_RELU);
    x = cs_conv_sq(g, cs_name(nm, "%s.conv1", layer), x, BN_SIZE * growth, 1, 1, 0, 0);
    x = cs_batchnorm(g, cs_name(nm, "%s.norm2", layer), x, BN_EPS);
    x = cs_act(g, cs_name(nm, "%s.relu2", layer), x, CS_ACT_RELU);
    x = cs_conv_sq(g, cs_name(nm, "%s.conv2", layer), x, growth, 3, 1, 1, 0);
    cs_block_end(g);
    return x;
}

/* Dense block "features.denseblock<b>" of n layers; returns the concat of its
 * input and every layer's output. */
static int dense_block(cs_graph *g, int b, int x, int n, int growth)
{
    char block[CS_NAME_MAX];
    int features[MAX_LAYERS + 1] = {0};
    cs_name(block, "features.denseblock%d", b);
    cs_block_begin(g, CS_BLOCK_DENSE, block);
    features[0] = x;
    for (int l = 1; l <= n; l++)
        features[l] = dense_layer(g, block, l, features, growth);
    int out = cs_concat(g, block, features, n + 1);
    cs_node_set_role(g, out, CS_ROLE_DENSE_CONCAT, n);
    cs_block_end(g);
    return out;
}

static int transition(cs_graph *g, int t, int x, int out_c)
{
    char tr[CS_NAME_MAX], nm[CS_NAME_MAX];
    cs_name(tr, "features.transition%d", t);
    cs_block_begin(g, CS_BLOCK_TRANSITION, tr);
    x = cs_batchnorm(g, cs_name(nm, "%s.norm", tr), x, BN_EPS);
    x = cs_act(g, cs_name(nm, "%s.relu", tr), x, CS_ACT_RELU);
    x = cs_conv_sq(g, cs_name(nm, "%s.conv", tr), x, out_c, 1, 1, 0, 0);
    x = cs_avgpool_sq(g, cs_name(nm, "%s.pool", tr), x, 2, 2, 0, 0, 1);
    cs_block_end(g);
    return x;
}

static cs_status build(cs_graph *g, const cs_model_build_args *a, const densenet_variant *v)
{
    int x = cs_input(g, "input", 3, a->in_h, a->in_w);
    x = cs_conv_sq(g, "features.conv0", x, v->init_features, 7, 2, 3, 0);
    x = cs_batchnorm(g, "features.norm0", x, BN_EPS);
    x = cs_act(g, "features.relu0", x, CS_ACT_RELU);
    x = cs_maxpool_sq(g, "features.pool0", x, 3, 2, 1, 0);

    int channels = v->init_features;
    for (int b = 0; b < 4; b++) {
        x = dense_block(g, b + 1, x, v->blocks[b], v->growth);
        channels += v->blocks[b] * v->growth;
        if (b < 3) {
            channels /= 2; /* compression theta = 0.5 */
            x = transition(g, b + 1, x, channels);
        }
    }
    x = cs_batchnorm(g, "features.norm5", x, BN_EPS);

    /* DenseNet.forward: F.relu, adaptive_avg_pool2d(1, 1), flatten, classifier */
    x = cs_act(g, "relu", x, CS_ACT_RELU);
    x = cs_adaptive_avgpool(g, "avgpool", x, 1, 1);
    x = cs_flatten(g, "flatten", x);
    cs_dense(g, "classifier", x, a->num_classes, 1);
    return g->status;
}

cs_status cs_build_densenet(cs_graph *g, const cs_model_build_args *a)
{
    for (size_t i = 0; i < sizeof variants / sizeof variants[0]; i++)
        if (strcmp(variants[i].name, a->info->name) == 0)
            return build(g, a, &variants[i]);
    return cs_error(CS_ERR_UNSUPPORTED, "%s: not a densenet variant (densenet121, densenet161, densenet169, "
                    "densenet201)", a->info->name);
}
