/* Model builders: one file per family, each a plain function that calls the
 * graph builder. Node names mirror the reference implementation's module paths
 * so a state_dict key is "<node name>.<param name>".
 */
#ifndef CS_MODELS_H
#define CS_MODELS_H

#include "core/graph.h"

/* Input size and classes resolved from the model's defaults and the options. */
typedef struct cs_model_build_args {
    const cs_model_info *info;
    int num_classes;
    int in_h, in_w;
} cs_model_build_args;

typedef cs_status (*cs_model_build_fn)(cs_graph *g, const cs_model_build_args *a);

cs_status cs_build_lenet(cs_graph *g, const cs_model_build_args *a);     /* lenet5, lenet5_1998 */
cs_status cs_build_alexnet(cs_graph *g, const cs_model_build_args *a);   /* alexnet, alexnet_2012 */
cs_status cs_build_googlenet(cs_graph *g, const cs_model_build_args *a); /* googlenet, googlenet_2014 */
cs_status cs_build_vgg(cs_graph *g, const cs_model_build_args *a);       /* vgg11..vgg19, _bn */
cs_status cs_build_resnet(cs_graph *g, const cs_model_build_args *a);    /* resnet18..resnet152 */
cs_status cs_build_xception(cs_graph *g, const cs_model_build_args *a);  /* xception */
cs_status cs_build_senet(cs_graph *g, const cs_model_build_args *a);     /* seresnet50..152, se_googlenet */
cs_status cs_build_densenet(cs_graph *g, const cs_model_build_args *a);  /* densenet121..201 */
/* fashion_vgg, fashion_resnet8, ...: small models for 28x28 Fashion-MNIST (fashion.c) */
cs_status cs_build_fashion(cs_graph *g, const cs_model_build_args *a);
/* se_googlenet (SE-Inception): googlenet_2014 with SE blocks, from googlenet.c */
cs_status cs_build_inception_se(cs_graph *g, const cs_model_build_args *a);

/* Shared layer helpers (models/layers.c) -------------------------------- */

/* conv with square kernel, stride, symmetric padding; groups 1; bias flag. */
int cs_conv_sq(cs_graph *g, const char *name, int x, int out_c, int k, int stride, int pad, int bias);
/* Same with groups (depthwise: groups == in channels == out_c). */
int cs_conv_sq_g(cs_graph *g, const char *name, int x, int out_c, int k, int stride, int pad, int groups,
                 int bias);
/* max/avg pool with square kernel, stride, symmetric padding, ceil mode. */
int cs_maxpool_sq(cs_graph *g, const char *name, int x, int k, int stride, int pad, int ceil_mode);
int cs_avgpool_sq(cs_graph *g, const char *name, int x, int k, int stride, int pad, int ceil_mode,
                  int count_include_pad);
/* SeparableConv2d "<name>" as a CS_BLOCK_SEPARABLE block: depthwise 3x3 pad 1
 * ("<name>.conv1") then pointwise 1x1 ("<name>.pointwise"), no biases, with
 * their roles. Returns the pointwise conv. */
int cs_separable(cs_graph *g, const char *name, int x, int in_c, int out_c);
/* printf-style node name into a caller buffer of CS_NAME_MAX bytes. */
const char *cs_name(char *buf, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

#endif
