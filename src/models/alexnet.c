/* AlexNet family: `alexnet`, exactly torchvision.models.alexnet (the one-tower
 * "One weird trick" form: 64/192/384/256/256 maps, adaptive 6x6 pool), and
 * `alexnet_2012`, Krizhevsky et al. 2012 as tabulated in the seed notebook
 * (96/256/384/384/256 maps, LRN after the ReLU of conv1 and conv2, no pool
 * before the classifier). Node names are torchvision-style module paths.
 */
#include <string.h>

#include "core/status.h"
#include "models/models.h"

/* ------------------------------------------------------------------------ */
/* alexnet: torchvision                                                     */
/* ------------------------------------------------------------------------ */

static cs_status build_torchvision(cs_graph *g, const cs_model_build_args *a)
{
    int x = cs_input(g, "input", 3, a->in_h, a->in_w);
    x = cs_conv_sq(g, "features.0", x, 64, 11, 4, 2, 1);
    x = cs_act(g, "features.1", x, CS_ACT_RELU);
    x = cs_maxpool_sq(g, "features.2", x, 3, 2, 0, 0);
    x = cs_conv_sq(g, "features.3", x, 192, 5, 1, 2, 1);
    x = cs_act(g, "features.4", x, CS_ACT_RELU);
    x = cs_maxpool_sq(g, "features.5", x, 3, 2, 0, 0);
    x = cs_conv_sq(g, "features.6", x, 384, 3, 1, 1, 1);
    x = cs_act(g, "features.7", x, CS_ACT_RELU);
    x = cs_conv_sq(g, "features.8", x, 256, 3, 1, 1, 1);
    x = cs_act(g, "features.9", x, CS_ACT_RELU);
    x = cs_conv_sq(g, "features.10", x, 256, 3, 1, 1, 1);
    x = cs_act(g, "features.11", x, CS_ACT_RELU);
    x = cs_maxpool_sq(g, "features.12", x, 3, 2, 0, 0);
    x = cs_adaptive_avgpool(g, "avgpool", x, 6, 6);
    x = cs_flatten(g, "flatten", x);
    x = cs_dropout(g, "classifier.0", x, 0.5f);
    x = cs_dense(g, "classifier.1", x, 4096, 1);
    x = cs_act(g, "classifier.2", x, CS_ACT_RELU);
    x = cs_dropout(g, "classifier.3", x, 0.5f);
    x = cs_dense(g, "classifier.4", x, 4096, 1);
    x = cs_act(g, "classifier.5", x, CS_ACT_RELU);
    cs_dense(g, "classifier.6", x, a->num_classes, 1);
    return g->status;
}

/* ------------------------------------------------------------------------ */
/* alexnet_2012: Krizhevsky et al. 2012                                      */
/* ------------------------------------------------------------------------ */

/* Section 3.3 of the paper: k = 2, n = 5, alpha = 1e-4, beta = 0.75. The paper
 * writes alpha * sum and PyTorch (like Caffe's reference AlexNet) divides
 * alpha by n; convscope follows PyTorch's LocalResponseNorm with alpha 1e-4. */
static const cs_lrn_params alexnet_lrn = {.size = 5, .alpha = 1e-4f, .beta = 0.75f, .k = 2.0f};

static cs_status build_2012(cs_graph *g, const cs_model_build_args *a)
{
    /* Single tower with full connections: the paper's two-GPU split (conv2,
     * conv4 and conv5 seeing only their own GPU's maps) is not modelled. */
    int x = cs_input(g, "input", 3, a->in_h, a->in_w);
    x = cs_conv_sq(g, "features.0", x, 96, 11, 4, 0, 1); /* C1: 55x55 at 227 */
    x = cs_act(g, "features.1", x, CS_ACT_RELU);
    x = cs_lrn(g, "features.2", x, &alexnet_lrn);
    x = cs_maxpool_sq(g, "features.3", x, 3, 2, 0, 0);   /* S2: 27x27 */
    x = cs_conv_sq(g, "features.4", x, 256, 5, 1, 2, 1); /* C3 */
    x = cs_act(g, "features.5", x, CS_ACT_RELU);
    x = cs_lrn(g, "features.6", x, &alexnet_lrn);
    x = cs_maxpool_sq(g, "features.7", x, 3, 2, 0, 0);   /* S4: 13x13 */
    x = cs_conv_sq(g, "features.8", x, 384, 3, 1, 1, 1); /* C5 */
    x = cs_act(g, "features.9", x, CS_ACT_RELU);
    x = cs_conv_sq(g, "features.10", x, 384, 3, 1, 1, 1); /* C6 */
    x = cs_act(g, "features.11", x, CS_ACT_RELU);
    x = cs_conv_sq(g, "features.12", x, 256, 3, 1, 1, 1); /* C7 */
    x = cs_act(g, "features.13", x, CS_ACT_RELU);
    x = cs_maxpool_sq(g, "features.14", x, 3, 2, 0, 0); /* 6x6 */
    x = cs_flatten(g, "flatten", x);
    /* Dropout 0.5 on the outputs of F8 and F9, as the seed and Caffe's
     * reference AlexNet place it. */
    x = cs_dense(g, "classifier.0", x, 4096, 1); /* F8 */
    x = cs_act(g, "classifier.1", x, CS_ACT_RELU);
    x = cs_dropout(g, "classifier.2", x, 0.5f);
    x = cs_dense(g, "classifier.3", x, 4096, 1); /* F9 */
    x = cs_act(g, "classifier.4", x, CS_ACT_RELU);
    x = cs_dropout(g, "classifier.5", x, 0.5f);
    cs_dense(g, "classifier.6", x, a->num_classes, 1); /* logits; the paper's softmax is the caller's */
    return g->status;
}

/* ------------------------------------------------------------------------ */
/* Family entry point                                                       */
/* ------------------------------------------------------------------------ */

cs_status cs_build_alexnet(cs_graph *g, const cs_model_build_args *a)
{
    if (strcmp(a->info->name, "alexnet") == 0)
        return build_torchvision(g, a);
    if (strcmp(a->info->name, "alexnet_2012") == 0)
        return build_2012(g, a);
    return cs_error(CS_ERR_UNSUPPORTED, "%s: not an alexnet variant (alexnet, alexnet_2012)", a->info->name);
}
