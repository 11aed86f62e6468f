/* VGG family: vgg11/13/16/19 and their _bn forms, exactly
 * torchvision.models.vgg*: 3x3 pad-1 convs (with bias, then BN when _bn, then
 * ReLU) and 2x2/2 max pools numbered in one "features" sequence, an adaptive
 * 7x7 average pool and the three-layer classifier.
 */
#include <string.h>

#include "core/status.h"
#include "models/models.h"

#define M 0    /* a 2x2/2 max pool in a configuration */
#define END -1 /* end of a configuration */

/* torchvision's cfgs "A", "B", "D", "E": conv widths and pools. */
static const int cfg_a[] = {64, M, 128, M, 256, 256, M, 512, 512, M, 512, 512, M, END};
static const int cfg_b[] = {64, 64, M, 128, 128, M, 256, 256, M, 512, 512, M, 512, 512, M, END};
static const int cfg_d[] = {64,  64,  M,   128, 128, M,   256, 256, 256, M,
                            512, 512, 512, M,   512, 512, 512, M,   END};
static const int cfg_e[] = {64,  64,  M,   128, 128, M,   256, 256, 256, 256, M,
                            512, 512, 512, 512, M,   512, 512, 512, 512, M,   END};

typedef struct vgg_variant {
    const char *name;
    const int *cfg;
    int bn;
} vgg_variant;

static const vgg_variant variants[] = {
    {"vgg11", cfg_a, 0}, {"vgg11_bn", cfg_a, 1}, {"vgg13", cfg_b, 0}, {"vgg13_bn", cfg_b, 1},
    {"vgg16", cfg_d, 0}, {"vgg16_bn", cfg_d, 1}, {"vgg19", cfg_e, 0}, {"vgg19_bn", cfg_e, 1},
};

static cs_status build_vgg(cs_graph *g, const cs_model_build_args *a, const vgg_variant *v)
{
    char nm[CS_NAME_MAX];
    int idx = 0; /* index in torchvision's features Sequential */

    int x = cs_input(g, "input", 3, a->in_h, a->in_w);
    for (const int *c = v->cfg; *c != END; c++) {
        if (*c == M) {
            x = cs_maxpool_sq(g, cs_name(nm, "features.%d", idx++), x, 2, 2, 0, 0);
            continue;
        }
        x = cs_conv_sq(g, cs_name(nm, "features.%d", idx++), x, *c, 3, 1, 1, 1);
        if (v->bn)
            x = cs_batchnorm(g, cs_name(nm, "features.%d", idx++), x, 1e-5f);
        x = cs_act(g, cs_name(nm, "features.%d", idx++), x, CS_ACT_RELU);
    }
    x = cs_adaptive_avgpool(g, "avgpool", x, 7, 7);
    x = cs_flatten(g, "flatten", x);
    x = cs_dense(g, "classifier.0", x, 4096, 1);
    x = cs_act(g, "classifier.1", x, CS_ACT_RELU);
    x = cs_dropout(g, "classifier.2", x, 0.5f);
    x = cs_dense(g, "classifier.3", x, 4096, 1);
    x = cs_act(g, "classifier.4", x, CS_ACT_RELU);
    x = cs_dropout(g, "classifier.5", x, 0.5f);
    cs_dense(g, "classifier.6", x, a->num_classes, 1);
    return g->status;
}

cs_status cs_build_vgg(cs_graph *g, const cs_model_build_args *a)
{
    for (size_t i = 0; i < sizeof variants / sizeof variants[0]; i++)
        if (strcmp(variants[i].name, a->info->name) == 0)
            return build_vgg(g, a, &variants[i]);
    return cs_error(CS_ERR_UNSUPPORTED,
                    "%s: not a vgg variant (vgg11, vgg13, vgg16, vgg19, each also with _bn)", a->info->name);
}
