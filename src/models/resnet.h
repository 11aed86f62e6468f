/* The ResNet network shared by the resnet family (torchvision names) and the
 * SE-ResNets of the senet family (timm names, SE module after bn3): stem,
 * four stages of residual units, global pool and classifier.
 */
#ifndef CS_MODELS_RESNET_H
#define CS_MODELS_RESNET_H

#include "models/models.h"

typedef struct cs_resnet_spec {
    int bottleneck;  /* 1: Bottleneck 1x1, 3x3 (stride here, v1.5), 1x1 x4; 0: BasicBlock 3x3, 3x3 */
    int layers[4];   /* residual units in layer1..layer4 */
    int timm_names;  /* 1: timm's act1/act2/global_pool names; 0: torchvision's relu/avgpool/flatten */
    int se;          /* 1: timm SEModule after the last BN of each unit (needs timm_names) */
} cs_resnet_spec;

/* timm SEModule on x (C channels) named "<prefix>.se": mean over H, W ->
 * fc1 (1x1 conv, bias, make_divisible(C/16, 8) channels) -> ReLU -> fc2 ->
 * sigmoid -> x * gate. Lives in senet.c. Returns the scale node. */
int cs_se_module(cs_graph *g, const char *prefix, int x);

/* Builds the whole network into g for a->in_h x a->in_w inputs and
 * a->num_classes outputs. Returns g->status. */
cs_status cs_resnet_build_spec(cs_graph *g, const cs_model_build_args *a, const cs_resnet_spec *s);

#endif
