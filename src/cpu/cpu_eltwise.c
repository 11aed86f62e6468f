/* Reference elementwise and data-movement ops: activations, the copy that
 * flatten and dropout are at inference, channel concatenation, residual add
 * (optional ReLU) and the per-channel scale of squeeze-and-excitation.
 */
#include <math.h>
#include <string.h>

#include "cpu/cpu_ops.h"


/* max(v, 0) that lets NaN through, as PyTorch's relu does. */
static float max0(float v) { return v < 0.0f ? 0.0f : v; }

void cs_cpu_act(cs_act_kind kind, size_t count, const float *x, float *y)
{
    for (size_t i = 0; i < count; i++) {
        const double v = (double)x[i];
        double r = v;
        switch (kind) {
        case CS_ACT_RELU:
            r = (double)max0(x[i]);
            break;
        case CS_ACT_TANH:
            r = tanh(v);
            break;
        case CS_ACT_SCALED_TANH:
            r = CS_SCALED_TANH_A * tanh(CS_SCALED_TANH_S * v);
            break;
        case CS_ACT_SIGMOID:
            r = 1.0 / (1.0 + exp(-v));
            break;
        case CS_ACT_COUNT:
            break;
        }
        y[i] = (float)r;
    }
}

void cs_cpu_copy(size_t count, const float *x, float *y)
{
    if (x != y && count > 0) {
        memmove(y, x, count * sizeof(float));
    }
}

void cs_cpu_concat(int n, int count, const int *channels, int h, int w,
                   const float *const *xs, float *y)
{
    const size_t plane = (size_t)h * (size_t)w;
    size_t c_total = 0;
    for (int i = 0; i < count; i++) {
        c_total += (size_t)channels[i];
    }

    for (int ni = 0; ni < n; ni++) {
        float *yn = y + (size_t)ni * c_total * plane;
        for (int i = 0; i < count; i++) {
            const size_t block = (size_t)channels[i] * plane;  /* one sample of input i */
            memcpy(yn, xs[i] + (size_t)ni * block, block * sizeof(float));
            yn += block;
        }
    }
}

void cs_cpu_add(int relu, size_t count, const float *a, const float *b, float *y)
{
    for (size_t i = 0; i < count; i++) {
        const float v = a[i] + b[i];
        y[i] = relu ? max0(v) : v;
    }
}

void cs_cpu_scale(int n, int c, int h, int w, const float *x, const float *s, float *y)
{
    const size_t plane = (size_t)h * (size_t)w;
    const size_t planes = (size_t)n * (size_t)c;

    for (size_t pl = 0; pl < planes; pl++) {
        const float sc = s[pl];
        for (size_t i = 0; i < plane; i++) {
            y[pl * plane + i] = x[pl * plane + i] * sc;
        }
    }
}
