/* Small classic models for 28x28 greyscale Fashion-MNIST, one per family,
 * trained by `convscope train` and shipped in assets/weights/ so every
 * family's feature maps mean something in the viewer. Each keeps its family's
 * defining structure (and the structure tags the viewer draws) at a size
 * that trains in minutes on two CPU cores:
 *  - fashion_vgg: two VGG stages of two 3x3 convs (16, 32) with BN, max pools,
 *    a 64-unit hidden dense layer with dropout.
 *  - fashion_resnet8: the ResNet paper's CIFAR network (6n+2 layers) with
 *    n = 1: 3x3 stem, three stages of one basic block (16, 32, 64 channels,
 *    1x1 projection shortcuts where the shape changes), global pool, fc.
 *  - fashion_seresnet8: the same with timm's SE module in every block.
 *  - fashion_densenet: DenseNet-BC, growth k = 12, bottleneck 4k, compression
 *    0.5: 3x3 stem (24), pool, dense block of 3 layers at 14x14, transition,
 *    dense block of 3 layers at 7x7.
 *  - fashion_inception: 3x3 stem (32), pool, two GoogLeNet inception modules
 *    (1x1, 1x1-3x3, 1x1-5x5, pool-1x1 branches) with a pool between them.
 *  - fashion_xception: two entry convs, an entry-flow block (two separable
 *    convs, max pool, strided 1x1 shortcut), a middle-flow block (three
 *    ReLU-separable-BN, identity shortcut) and an exit separable conv.
 * Every conv is followed by batchnorm, so convs have no bias.
 */
#include <string.h>

#include "core/status.h"
#include "models/models.h"
#include "models/resnet.h"

#define BN_EPS 1e-5f

static int tag(cs_graph *g, int node, cs_role role, int index)
{
    cs_node_set_role(g, node, role, index);
    return node;
}

/* conv (no bias) -> BN -> ReLU as "<name>.conv", "<name>.bn", "<name>". */
static int conv_bn_relu(cs_graph *g, const char *name, int x, int out_c, int k, int stride)
{
    char nm[CS_NAME_MAX];
    x = cs_conv_sq(g, cs_name(nm, "%s.conv", name), x, out_c, k, stride, k / 2, 0);
    x = cs_batchnorm(g, cs_name(nm, "%s.bn", name), x, BN_EPS);
    return cs_act(g, name, x, CS_ACT_RELU);
}

static int head(cs_graph *g, int x, int classes)
{
    x = cs_adaptive_avgpool(g, "avgpool", x, 1, 1);
    x = cs_flatten(g, "flatten", x);
    return cs_dense(g, "fc", x, classes, 1);
}

/* ------------------------------------------------------------------------ */

static cs_status build_vgg(cs_graph *g, const cs_model_build_args *a)
{
    int x = cs_input(g, "input", 1, a->in_h, a->in_w);
    x = conv_bn_relu(g, "features.0", x, 16, 3, 1);
    x = conv_bn_relu(g, "features.1", x, 16, 3, 1);
    x = cs_maxpool_sq(g, "features.2", x, 2, 2, 0, 0);
    x = conv_bn_relu(g, "features.3", x, 32, 3, 1);
    x = conv_bn_relu(g, "features.4", x, 32, 3, 1);
    x = cs_maxpool_sq(g, "features.5", x, 2, 2, 0, 0);
    x = cs_flatten(g, "flatten", x);
    x = cs_dense(g, "classifier.0", x, 64, 1);
    x = cs_act(g, "classifier.1", x, CS_ACT_RELU);
    x = cs_dropout(g, "classifier.2", x, 0.3f);
    cs_dense(g, "classifier.3", x, a->num_classes, 1);
    return g->status;
}

/* ------------------------------------------------------------------------ */

static int basic_block(cs_graph *g, const char *unit, int x, int in_c, int out_c, int stride, int se)
{
    char nm[CS_NAME_MAX];
    cs_block_begin(g, CS_BLOCK_RESIDUAL, unit);
    int y = tag(g, cs_conv_sq(g, cs_name(nm, "%s.conv1", unit), x, out_c, 3, stride, 1, 0),
                CS_ROLE_RESIDUAL_BRANCH, 0);
    y = tag(g, cs_batchnorm(g, cs_name(nm, "%s.bn1", unit), y, BN_EPS), CS_ROLE_RESIDUAL_BRANCH, 0);
    y = tag(g, cs_act(g, cs_name(nm, "%s.relu", unit), y, CS_ACT_RELU), CS_ROLE_RESIDUAL_BRANCH, 0);
    y = tag(g, cs_conv_sq(g, cs_name(nm, "%s.conv2", unit), y, out_c, 3, 1, 1, 0),
            CS_ROLE_RESIDUAL_BRANCH, 0);
    y = tag(g, cs_batchnorm(g, cs_name(nm, "%s.bn2", unit), y, BN_EPS), CS_ROLE_RESIDUAL_BRANCH, 0);
    if (se)
        y = cs_se_module(g, unit, y);
    int shortcut = x;
    if (stride != 1 || in_c != out_c) {
        shortcut = tag(g, cs_conv_sq(g, cs_name(nm, "%s.downsample.0", unit), x, out_c, 1, stride, 0, 0),
                       CS_ROLE_RESIDUAL_SHORTCUT, 0);
        shortcut = tag(g, cs_batchnorm(g, cs_name(nm, "%s.downsample.1", unit), shortcut, BN_EPS),
                       CS_ROLE_RESIDUAL_SHORTCUT, 0);
    }
    int out = tag(g, cs_add(g, unit, y, shortcut, 1), CS_ROLE_RESIDUAL_SUM, 0);
    cs_block_end(g);
    return out;
}

static cs_status build_resnet(cs_graph *g, const cs_model_build_args *a, int se)
{
    static const int widths[3] = {16, 32, 64};
    char nm[CS_NAME_MAX];
    int x = cs_input(g, "input", 1, a->in_h, a->in_w);
    x = cs_conv_sq(g, "conv1", x, 16, 3, 1, 1, 0);
    x = cs_batchnorm(g, "bn1", x, BN_EPS);
    x = cs_act(g, "relu", x, CS_ACT_RELU);
    int in_c = 16;
    for (int s = 0; s < 3; s++) {
        x = basic_block(g, cs_name(nm, "layer%d.0", s + 1), x, in_c, widths[s], s > 0 ? 2 : 1, se);
        in_c = widths[s];
    }
    head(g, x, a->num_classes);
    return g->status;
}

static cs_status build_resnet8(cs_graph *g, const cs_model_build_args *a)
{
    return build_resnet(g, a, 0);
}

static cs_status build_seresnet8(cs_graph *g, const cs_model_build_args *a)
{
    return build_resnet(g, a, 1);
}

/* ------------------------------------------------------------------------ */

#define GROWTH 12
#define DENSE_LAYERS 3

static int dense_layer(cs_graph *g, const char *block, int l, const int *features)
{
    char layer[CS_NAME_MAX], nm[CS_NAME_MAX];
    cs_name(layer, "%s.denselayer%d", block, l);
    cs_block_begin(g, CS_BLOCK_DENSE_LAYER, layer);
    int x = features[0];
    if (l > 1) {
        x = cs_concat(g, cs_name(nm, "%s.cat", layer), features, l);
        cs_node_set_role(g, x, CS_ROLE_DENSE_CONCAT, l - 1);
    }
    x = cs_batchnorm(g, cs_name(nm, "%s.norm1", layer), x, BN_EPS);
    x = cs_act(g, cs_name(nm, "%s.relu1", layer), x, CS_ACT_RELU);
    x = cs_conv_sq(g, cs_name(nm, "%s.conv1", layer), x, 4 * GROWTH, 1, 1, 0, 0);
    x = cs_batchnorm(g, cs_name(nm, "%s.norm2", layer), x, BN_EPS);
    x = cs_act(g, cs_name(nm, "%s.relu2", layer), x, CS_ACT_RELU);
    x = cs_conv_sq(g, cs_name(nm, "%s.conv2", layer), x, GROWTH, 3, 1, 1, 0);
    cs_block_end(g);
    return x;
}

static int dense_block(cs_graph *g, int b, int x)
{
    char block[CS_NAME_MAX];
    int features[DENSE_LAYERS + 1] = {0};
    cs_name(block, "features.denseblock%d", b);
    cs_block_begin(g, CS_BLOCK_DENSE, block);
    features[0] = x;
    for (int l = 1; l <= DENSE_LAYERS; l++)
        features[l] = dense_layer(g, block, l, features);
    int out = cs_concat(g, block, features, DENSE_LAYERS + 1);
    cs_node_set_role(g, out, CS_ROLE_DENSE_CONCAT, DENSE_LAYERS);
    cs_block_end(g);
    return out;
}

static cs_status build_densenet(cs_graph *g, const cs_model_build_args *a)
{
    char nm[CS_NAME_MAX];
    int x = cs_input(g, "input", 1, a->in_h, a->in_w);
    x = cs_conv_sq(g, "features.conv0", x, 2 * GROWTH, 3, 1, 1, 0);
    x = cs_batchnorm(g, "features.norm0", x, BN_EPS);
    x = cs_act(g, "features.relu0", x, CS_ACT_RELU);
    x = cs_maxpool_sq(g, "features.pool0", x, 2, 2, 0, 0);
    int channels = 2 * GROWTH;
    x = dense_block(g, 1, x);
    channels = (channels + DENSE_LAYERS * GROWTH) / 2;
    cs_block_begin(g, CS_BLOCK_TRANSITION, "features.transition1");
    x = cs_batchnorm(g, cs_name(nm, "features.transition1.norm"), x, BN_EPS);
    x = cs_act(g, "features.transition1.relu", x, CS_ACT_RELU);
    x = cs_conv_sq(g, "features.transition1.conv", x, channels, 1, 1, 0, 0);
    x = cs_avgpool_sq(g, "features.transition1.pool", x, 2, 2, 0, 0, 1);
    cs_block_end(g);
    x = dense_block(g, 2, x);
    x = cs_batchnorm(g, "features.norm5", x, BN_EPS);
    x = cs_act(g, "relu", x, CS_ACT_RELU);
    x = cs_adaptive_avgpool(g, "avgpool", x, 1, 1);
    x = cs_flatten(g, "flatten", x);
    cs_dense(g, "classifier", x, a->num_classes, 1);
    return g->status;
}

/* ------------------------------------------------------------------------ */

typedef struct mini_inception {
    const char *name;
    int ch1x1, ch3x3red, ch3x3, ch5x5red, ch5x5, pool_proj;
} mini_inception;

static void tag_from(cs_graph *g, int first, cs_role role, int index)
{
    for (int i = first; i < g->n_nodes; i++)
        cs_node_set_role(g, i, role, index);
}

static int inception(cs_graph *g, const mini_inception *m, int x)
{
    char nm[CS_NAME_MAX];
    const char *n = m->name;
    int br[4];
    cs_block_begin(g, CS_BLOCK_INCEPTION, n);
    int first = g->n_nodes;
    br[0] = conv_bn_relu(g, cs_name(nm, "%s.branch1", n), x, m->ch1x1, 1, 1);
    tag_from(g, first, CS_ROLE_INCEPTION_BRANCH, 0);
    first = g->n_nodes;
    br[1] = conv_bn_relu(g, cs_name(nm, "%s.branch2.0", n), x, m->ch3x3red, 1, 1);
    br[1] = conv_bn_relu(g, cs_name(nm, "%s.branch2.1", n), br[1], m->ch3x3, 3, 1);
    tag_from(g, first, CS_ROLE_INCEPTION_BRANCH, 1);
    first = g->n_nodes;
    br[2] = conv_bn_relu(g, cs_name(nm, "%s.branch3.0", n), x, m->ch5x5red, 1, 1);
    br[2] = conv_bn_relu(g, cs_name(nm, "%s.branch3.1", n), br[2], m->ch5x5, 5, 1);
    tag_from(g, first, CS_ROLE_INCEPTION_BRANCH, 2);
    first = g->n_nodes;
    br[3] = cs_maxpool_sq(g, cs_name(nm, "%s.branch4.0", n), x, 3, 1, 1, 1);
    br[3] = conv_bn_relu(g, cs_name(nm, "%s.branch4.1", n), br[3], m->pool_proj, 1, 1);
    tag_from(g, first, CS_ROLE_INCEPTION_BRANCH, 3);
    first = g->n_nodes;
    int out = cs_concat(g, n, br, 4);
    tag_from(g, first, CS_ROLE_INCEPTION_CONCAT, 0);
    cs_block_end(g);
    return out;
}

static cs_status build_inception(cs_graph *g, const cs_model_build_args *a)
{
    static const mini_inception m3a = {"inception3a", 16, 16, 24, 8, 8, 8};   /* 56 out */
    static const mini_inception m4a = {"inception4a", 32, 32, 48, 8, 16, 16}; /* 112 out */
    int x = cs_input(g, "input", 1, a->in_h, a->in_w);
    x = conv_bn_relu(g, "conv1", x, 32, 3, 1);
    x = cs_maxpool_sq(g, "maxpool1", x, 2, 2, 0, 0);
    x = inception(g, &m3a, x);
    x = cs_maxpool_sq(g, "maxpool2", x, 2, 2, 0, 0);
    x = inception(g, &m4a, x);
    head(g, x, a->num_classes);
    return g->status;
}

/* ------------------------------------------------------------------------ */

static cs_status build_xception(cs_graph *g, const cs_model_build_args *a)
{
    char nm[CS_NAME_MAX];
    int x = cs_input(g, "input", 1, a->in_h, a->in_w);
    x = cs_conv_sq(g, "conv1", x, 16, 3, 1, 1, 0);
    x = cs_batchnorm(g, "bn1", x, BN_EPS);
    x = cs_act(g, "act1", x, CS_ACT_RELU);
    x = cs_conv_sq(g, "conv2", x, 32, 3, 2, 1, 0);
    x = cs_batchnorm(g, "bn2", x, BN_EPS);
    x = cs_act(g, "act2", x, CS_ACT_RELU);

    /* Entry-flow block: Sep, BN, ReLU, Sep, BN, MaxPool + strided 1x1 skip. */
    cs_block_begin(g, CS_BLOCK_RESIDUAL, "block1");
    int y = cs_separable(g, "block1.rep.0", x, 32, 64);
    y = tag(g, cs_batchnorm(g, "block1.rep.1", y, BN_EPS), CS_ROLE_RESIDUAL_BRANCH, 0);
    y = tag(g, cs_act(g, "block1.rep.2", y, CS_ACT_RELU), CS_ROLE_RESIDUAL_BRANCH, 0);
    y = cs_separable(g, "block1.rep.3", y, 64, 64);
    y = tag(g, cs_batchnorm(g, "block1.rep.4", y, BN_EPS), CS_ROLE_RESIDUAL_BRANCH, 0);
    y = tag(g, cs_maxpool_sq(g, "block1.rep.5", y, 3, 2, 1, 0), CS_ROLE_RESIDUAL_BRANCH, 0);
    int s = tag(g, cs_conv_sq(g, "block1.skip", x, 64, 1, 2, 0, 0), CS_ROLE_RESIDUAL_SHORTCUT, 0);
    s = tag(g, cs_batchnorm(g, "block1.skipbn", s, BN_EPS), CS_ROLE_RESIDUAL_SHORTCUT, 0);
    x = tag(g, cs_add(g, "block1", y, s, 0), CS_ROLE_RESIDUAL_SUM, 0);
    cs_block_end(g);

    /* Middle-flow block: 3 x (ReLU, Sep, BN) + identity. */
    cs_block_begin(g, CS_BLOCK_RESIDUAL, "block2");
    y = x;
    for (int i = 0; i < 3; i++) {
        y = tag(g, cs_act(g, cs_name(nm, "block2.rep.%d", 3 * i), y, CS_ACT_RELU), CS_ROLE_RESIDUAL_BRANCH, 0);
        y = cs_separable(g, cs_name(nm, "block2.rep.%d", 3 * i + 1), y, 64, 64);
        y = tag(g, cs_batchnorm(g, cs_name(nm, "block2.rep.%d", 3 * i + 2), y, BN_EPS),
                CS_ROLE_RESIDUAL_BRANCH, 0);
    }
    x = tag(g, cs_add(g, "block2", y, x, 0), CS_ROLE_RESIDUAL_SUM, 0);
    cs_block_end(g);

    /* Exit flow. */
    x = cs_separable(g, "conv3", x, 64, 128);
    x = cs_batchnorm(g, "bn3", x, BN_EPS);
    x = cs_act(g, "act3", x, CS_ACT_RELU);
    head(g, x, a->num_classes);
    return g->status;
}

/* ------------------------------------------------------------------------ */

typedef struct fashion_variant {
    const char *name;
    cs_model_build_fn build;
} fashion_variant;

static const fashion_variant variants[] = {
    {"fashion_vgg", build_vgg},           {"fashion_resnet8", build_resnet8},
    {"fashion_seresnet8", build_seresnet8}, {"fashion_densenet", build_densenet},
    {"fashion_inception", build_inception}, {"fashion_xception", build_xception},
};

cs_status cs_build_fashion(cs_graph *g, const cs_model_build_args *a)
{
    for (size_t i = 0; i < sizeof variants / sizeof variants[0]; i++)
        if (strcmp(variants[i].name, a->info->name) == 0)
            return variants[i].build(g, a);
    return cs_error(CS_ERR_INVALID_ARG, "no Fashion-MNIST model named '%s'", a->info->name);
}
