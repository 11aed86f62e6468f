/* The model zoo: every architecture's name, reference, default input,
 * preprocessing and builder, and the entry points that build a graph by name.
 */
#include <stdio.h>
#include <string.h>

#include "core/status.h"
#include "models/models.h"

#define IMAGENET_MEAN {0.485f, 0.456f, 0.406f}
#define IMAGENET_STD {0.229f, 0.224f, 0.225f}
/* LeNet: [0, 1] grey maps to [-0.1, 1.175] as in LeCun et al. 1998. */
#define LENET_MEAN {0.0784314f, 0.0784314f, 0.0784314f}
#define LENET_STD {0.7843137f, 0.7843137f, 0.7843137f}
#define HALF {0.5f, 0.5f, 0.5f}

#define IMAGENET(name, family, ref, size, minhw, classifier, resize, mean, std)                               \
    {name, family, ref, 3, size, size, minhw, 1000, classifier, "imagenet", 0, resize, 0, mean, std, NULL}

typedef struct zoo_builder {
    const char *family;
    cs_model_build_fn build;
} zoo_builder;

static const cs_model_info zoo[] = {
    {"lenet5", "lenet", "LeNet-5, modern form (convscope's own keys)", 1, 32, 32, 32, 10, "output.weight",
      "fashion-mnist", 1, 0, 2, LENET_MEAN, LENET_STD, NULL},
    {"lenet5_1998", "lenet", "LeNet-5 as in LeCun et al. 1998 (convscope's own keys)", 1, 32, 32, 32, 10,
      "output.weight", "fashion-mnist", 1, 0, 2, LENET_MEAN, LENET_STD, NULL},
#define FASHION(name, family, ref, classifier)                                                                \
    {name, family, ref, 1, 28, 28, 28, 10, classifier, "fashion-mnist", 1, 0, 0, HALF, HALF, NULL}
    FASHION("fashion_vgg", "vgg", "VGG-style, 4 convs, for 28x28 Fashion-MNIST (src/models/fashion.c)",
            "classifier.3.weight"),
    FASHION("fashion_resnet8", "resnet", "ResNet-8 (the ResNet paper's CIFAR net, n = 1) for 28x28 Fashion-MNIST",
            "fc.weight"),
    FASHION("fashion_seresnet8", "senet", "ResNet-8 with SE modules for 28x28 Fashion-MNIST", "fc.weight"),
    FASHION("fashion_densenet", "densenet", "DenseNet-BC k=12, 2 blocks of 3, for 28x28 Fashion-MNIST",
            "classifier.weight"),
    FASHION("fashion_inception", "googlenet", "2 inception modules for 28x28 Fashion-MNIST", "fc.weight"),
    FASHION("fashion_xception", "xception", "Xception-style separable blocks for 28x28 Fashion-MNIST", "fc.weight"),
    IMAGENET("alexnet", "alexnet", "torchvision.models.alexnet", 224, 63, "classifier.6.weight", 256,
             IMAGENET_MEAN, IMAGENET_STD),
    IMAGENET("alexnet_2012", "alexnet", "AlexNet as in Krizhevsky et al. 2012 (tools/cs_reference.py)", 227, 67,
             "classifier.6.weight", 256, IMAGENET_MEAN, IMAGENET_STD),
    {"googlenet", "googlenet", "torchvision.models.googlenet(aux_logits=False, transform_input=True)", 3, 224, 224, 32, 1000,
      "fc.weight", "imagenet", 0, 256, 0, IMAGENET_MEAN, IMAGENET_STD, "aux1.,aux2."},
    IMAGENET("googlenet_2014", "googlenet", "GoogLeNet as in Szegedy et al. 2014 (tools/cs_reference.py)", 224,
             46, "fc.weight", 256, IMAGENET_MEAN, IMAGENET_STD),
    IMAGENET("vgg11", "vgg", "torchvision.models.vgg11", 224, 32, "classifier.6.weight", 256, IMAGENET_MEAN,
             IMAGENET_STD),
    IMAGENET("vgg11_bn", "vgg", "torchvision.models.vgg11_bn", 224, 32, "classifier.6.weight", 256,
             IMAGENET_MEAN, IMAGENET_STD),
    IMAGENET("vgg13", "vgg", "torchvision.models.vgg13", 224, 32, "classifier.6.weight", 256, IMAGENET_MEAN,
             IMAGENET_STD),
    IMAGENET("vgg13_bn", "vgg", "torchvision.models.vgg13_bn", 224, 32, "classifier.6.weight", 256,
             IMAGENET_MEAN, IMAGENET_STD),
    IMAGENET("vgg16", "vgg", "torchvision.models.vgg16", 224, 32, "classifier.6.weight", 256, IMAGENET_MEAN,
             IMAGENET_STD),
    IMAGENET("vgg16_bn", "vgg", "torchvision.models.vgg16_bn", 224, 32, "classifier.6.weight", 256,
             IMAGENET_MEAN, IMAGENET_STD),
    IMAGENET("vgg19", "vgg", "torchvision.models.vgg19", 224, 32, "classifier.6.weight", 256, IMAGENET_MEAN,
             IMAGENET_STD),
    IMAGENET("vgg19_bn", "vgg", "torchvision.models.vgg19_bn", 224, 32, "classifier.6.weight", 256,
             IMAGENET_MEAN, IMAGENET_STD),
    IMAGENET("resnet18", "resnet", "torchvision.models.resnet18", 224, 1, "fc.weight", 256, IMAGENET_MEAN,
             IMAGENET_STD),
    IMAGENET("resnet34", "resnet", "torchvision.models.resnet34", 224, 1, "fc.weight", 256, IMAGENET_MEAN,
             IMAGENET_STD),
    IMAGENET("resnet50", "resnet", "torchvision.models.resnet50", 224, 1, "fc.weight", 256, IMAGENET_MEAN,
             IMAGENET_STD),
    IMAGENET("resnet101", "resnet", "torchvision.models.resnet101", 224, 1, "fc.weight", 256, IMAGENET_MEAN,
             IMAGENET_STD),
    IMAGENET("resnet152", "resnet", "torchvision.models.resnet152", 224, 1, "fc.weight", 256, IMAGENET_MEAN,
             IMAGENET_STD),
    IMAGENET("xception", "xception", "timm legacy_xception", 299, 7, "fc.weight", 333, HALF, HALF),
    IMAGENET("seresnet50", "senet", "timm seresnet50", 224, 1, "fc.weight", 256, IMAGENET_MEAN, IMAGENET_STD),
    IMAGENET("seresnet101", "senet", "timm seresnet101", 224, 1, "fc.weight", 256, IMAGENET_MEAN,
             IMAGENET_STD),
    IMAGENET("seresnet152", "senet", "timm seresnet152", 224, 1, "fc.weight", 256, IMAGENET_MEAN,
             IMAGENET_STD),
    IMAGENET("se_googlenet", "senet", "SE-Inception: googlenet_2014 + SE blocks (tools/cs_reference.py)", 224,
             46, "fc.weight", 256, IMAGENET_MEAN, IMAGENET_STD),
    IMAGENET("densenet121", "densenet", "torchvision.models.densenet121", 224, 29, "classifier.weight", 256,
             IMAGENET_MEAN, IMAGENET_STD),
    IMAGENET("densenet161", "densenet", "torchvision.models.densenet161", 224, 29, "classifier.weight", 256,
             IMAGENET_MEAN, IMAGENET_STD),
    IMAGENET("densenet169", "densenet", "torchvision.models.densenet169", 224, 29, "classifier.weight", 256,
             IMAGENET_MEAN, IMAGENET_STD),
    IMAGENET("densenet201", "densenet", "torchvision.models.densenet201", 224, 29, "classifier.weight", 256,
             IMAGENET_MEAN, IMAGENET_STD),
};

static const zoo_builder builders[] = {
    {"lenet", cs_build_lenet},       {"alexnet", cs_build_alexnet}, {"googlenet", cs_build_googlenet},
    {"vgg", cs_build_vgg},           {"resnet", cs_build_resnet},   {"xception", cs_build_xception},
    {"senet", cs_build_senet},       {"densenet", cs_build_densenet},
};

#define ZOO_COUNT ((int)(sizeof zoo / sizeof zoo[0]))

int cs_model_count(void)
{
    return ZOO_COUNT;
}

const cs_model_info *cs_model_at(int index)
{
    if (index < 0 || index >= ZOO_COUNT)
        return NULL;
    return &zoo[index];
}

const cs_model_info *cs_model_find(const char *name)
{
    if (!name)
        return NULL;
    for (int i = 0; i < ZOO_COUNT; i++)
        if (strcmp(zoo[i].name, name) == 0)
            return &zoo[i];
    return NULL;
}

static void list_names(char *buf, size_t size)
{
    size_t used = 0;
    buf[0] = '\0';
    for (int i = 0; i < ZOO_COUNT && used < size; i++) {
        int n = snprintf(buf + used, size - used, "%s%s", i ? ", " : "", zoo[i].name);
        if (n < 0)
            break;
        used += (size_t)n;
    }
}

cs_status cs_model_build(cs_graph **out, const char *name, const cs_model_options *opts)
{
    if (!out)
        return cs_error(CS_ERR_INVALID_ARG, "cs_model_build: out is NULL");
    *out = NULL;
    const cs_model_info *info = cs_model_find(name);
    if (!info) {
        char names[1024];
        list_names(names, sizeof names);
        return cs_error(CS_ERR_INVALID_ARG, "unknown model '%s'; models are: %s", name ? name : "(null)", names);
    }
    cs_model_build_args a = {info, info->num_classes, info->in_h, info->in_w};
    if (opts) {
        if (opts->num_classes < 0 || opts->in_h < 0 || opts->in_w < 0)
            return cs_error(CS_ERR_INVALID_ARG, "%s: classes %d and input %dx%d must not be negative", name,
                            opts->num_classes, opts->in_h, opts->in_w);
        if (opts->num_classes)
            a.num_classes = opts->num_classes;
        if (opts->in_h)
            a.in_h = opts->in_h;
        if (opts->in_w)
            a.in_w = opts->in_w;
    }
    if (a.in_h < info->min_hw || a.in_w < info->min_hw)
        return cs_error(CS_ERR_SHAPE, "%s: input %dx%d is smaller than the %dx%d the architecture needs", name,
                        a.in_h, a.in_w, info->min_hw, info->min_hw);
    cs_model_build_fn build = NULL;
    for (size_t i = 0; i < sizeof builders / sizeof builders[0]; i++)
        if (strcmp(builders[i].family, info->family) == 0)
            build = builders[i].build;
    if (strncmp(info->name, "fashion_", 8) == 0)
        build = cs_build_fashion; /* the small Fashion-MNIST models, one per family */
    if (!build)
        return cs_error(CS_ERR_UNSUPPORTED, "%s: no builder for family '%s'", name, info->family);

    cs_graph *g = NULL;
    cs_status st = cs_graph_create(&g, name);
    if (st != CS_OK)
        return st;
    st = build(g, &a);
    if (st == CS_OK)
        st = g->status;
    if (st != CS_OK) {
        cs_error_context(st, "building %s", name);
        cs_graph_free(g);
        return st;
    }
    *out = g;
    return CS_OK;
}
