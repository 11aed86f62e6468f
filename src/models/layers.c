/* Small conveniences the model builders share: square-kernel conv and pool
 * wrappers over the general builder calls, and node-name formatting.
 */
#include <stdarg.h>
#include <stdio.h>

#include "models/models.h"

int cs_conv_sq_g(cs_graph *g, const char *name, int x, int out_c, int k, int stride, int pad, int groups,
                 int bias)
{
    cs_conv2d_params p = {
        .out_channels = out_c, .kernel_h = k, .kernel_w = k, .stride_h = stride, .stride_w = stride,
        .pad_top = pad, .pad_bottom = pad, .pad_left = pad, .pad_right = pad,
        .dilation_h = 1, .dilation_w = 1, .groups = groups, .bias = bias, .mask = NULL,
    };
    return cs_conv2d(g, name, x, &p);
}

int cs_conv_sq(cs_graph *g, const char *name, int x, int out_c, int k, int stride, int pad, int bias)
{
    return cs_conv_sq_g(g, name, x, out_c, k, stride, pad, 1, bias);
}

static cs_pool_params pool_sq(int k, int stride, int pad, int ceil_mode, int count_include_pad)
{
    cs_pool_params p = {
        .kernel_h = k, .kernel_w = k, .stride_h = stride, .stride_w = stride,
        .pad_top = pad, .pad_bottom = pad, .pad_left = pad, .pad_right = pad,
        .ceil_mode = ceil_mode, .count_include_pad = count_include_pad,
    };
    return p;
}

int cs_maxpool_sq(cs_graph *g, const char *name, int x, int k, int stride, int pad, int ceil_mode)
{
    cs_pool_params p = pool_sq(k, stride, pad, ceil_mode, 1);
    return cs_maxpool(g, name, x, &p);
}

int cs_avgpool_sq(cs_graph *g, const char *name, int x, int k, int stride, int pad, int ceil_mode,
                  int count_include_pad)
{
    cs_pool_params p = pool_sq(k, stride, pad, ceil_mode, count_include_pad);
    return cs_avgpool(g, name, x, &p);
}

const char *cs_name(char *buf, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, CS_NAME_MAX, fmt, ap);
    va_end(ap);
    return buf;
}

/* SeparableConv2d "<name>": depthwise 3x3 pad 1 ("conv1", groups = in) then
 * pointwise 1x1 ("pointwise"), no biases. Returns the pointwise conv. */
int cs_separable(cs_graph *g, const char *name, int x, int in_c, int out_c)
{
    char nm[CS_NAME_MAX];
    cs_block_begin(g, CS_BLOCK_SEPARABLE, name);
    int y = cs_conv_sq_g(g, cs_name(nm, "%s.conv1", name), x, in_c, 3, 1, 1, in_c, 0);
    cs_node_set_role(g, y, CS_ROLE_DEPTHWISE, 0);
    y = cs_conv_sq(g, cs_name(nm, "%s.pointwise", name), y, out_c, 1, 1, 0, 0);
    cs_node_set_role(g, y, CS_ROLE_POINTWISE, 0);
    cs_block_end(g);
    return y;
}
