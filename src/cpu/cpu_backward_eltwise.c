/* Reference elementwise and data-movement backward: activations (from the
 * forward output), gradient accumulation, training-mode dropout (seeded
 * mask) and its backward, the channel split of concat, residual add (ReLU
 * gate) and the per-channel scale of squeeze-and-excitation.
 */
#include <math.h>
#include <string.h>

#include "cpu/cpu_backward.h"
#include "cpu/cpu_ops.h"

#define CS_GOLDEN 0x9E3779B97F4A7C15ull

void cs_cpu_act_backward(cs_act_kind kind, size_t count, const float *y, const float *dy, float *dx)
{
    for (size_t i = 0; i < count; i++) {
        const double v = (double)y[i];
        const double g = (double)dy[i];
        double r = g;
        switch (kind) {
        case CS_ACT_RELU:
            r = v <= 0.0 ? 0.0 : g; /* PyTorch's threshold_backward: NaN passes */
            break;
        case CS_ACT_TANH: r = g * (1.0 - v * v); break;
        case CS_ACT_SCALED_TANH:
            /* y = A tanh(S x): dy/dx = A S (1 - tanh^2) = S (A - y^2 / A) */
            r = g * CS_SCALED_TANH_S * (CS_SCALED_TANH_A - v * v / CS_SCALED_TANH_A);
            break;
        case CS_ACT_SIGMOID: r = g * v * (1.0 - v); break;
        case CS_ACT_COUNT: break;
        }
        dx[i] = (float)r;
    }
}

void cs_cpu_grad_accumulate(size_t count, const float *src, float *dst)
{
    for (size_t i = 0; i < count; i++) {
        dst[i] += src[i];
    }
}

/* ------------------------------------------------------------------------ */
/* Dropout                                                                  */
/* ------------------------------------------------------------------------ */

/* splitmix64: the next value of the stream whose state is *s. */
static uint64_t splitmix64(uint64_t *s)
{
    uint64_t z = (*s += CS_GOLDEN);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* PyTorch's dropout multiplies by a float mask of 1/(1-p). */
static float keep_scale(float p)
{
    return 1.0f / (float)(1.0 - (double)p);
}

void cs_cpu_dropout_train(float p, uint64_t *rng, size_t count, const float *x, float *y, uint8_t *mask)
{
    const float scale = p < 1.0f ? keep_scale(p) : 0.0f;
    for (size_t i = 0; i < count; i++) {
        const double u = (double)(splitmix64(rng) >> 40) / 16777216.0; /* [0, 1), 24 bits */
        const int keep = p < 1.0f && u >= (double)p;
        mask[i] = (uint8_t)keep;
        y[i] = keep ? x[i] * scale : 0.0f;
    }
}

void cs_cpu_dropout_backward(float p, size_t count, const uint8_t *mask, const float *dy, float *dx)
{
    const float scale = p < 1.0f ? keep_scale(p) : 0.0f;
    for (size_t i = 0; i < count; i++) {
        dx[i] = mask[i] ? dy[i] * scale : 0.0f;
    }
}

/* ------------------------------------------------------------------------ */
/* Concat, add, scale                                                       */
/* ------------------------------------------------------------------------ */

void cs_cpu_concat_backward(int n, int count, const int *channels, int h, int w, const float *dy,
                            float *const *dxs)
{
    const size_t plane = (size_t)h * (size_t)w;
    size_t c_total = 0;
    for (int i = 0; i < count; i++) {
        c_total += (size_t)channels[i];
    }

    for (int ni = 0; ni < n; ni++) {
        const float *dyn = dy + (size_t)ni * c_total * plane;
        for (int i = 0; i < count; i++) {
            const size_t block = (size_t)channels[i] * plane; /* one sample of input i */
            if (dxs[i] != NULL) {
                memcpy(dxs[i] + (size_t)ni * block, dyn, block * sizeof(float));
            }
            dyn += block;
        }
    }
}

void cs_cpu_add_backward(int relu, size_t count, const float *y, const float *dy, float *da, float *db)
{
    for (size_t i = 0; i < count; i++) {
        const float g = relu && y[i] <= 0.0f ? 0.0f : dy[i];
        if (da != NULL) {
            da[i] = g;
        }
        if (db != NULL) {
            db[i] = g;
        }
    }
}

void cs_cpu_scale_backward(int n, int c, int h, int w, const float *x, const float *s, const float *dy,
                           float *dx, float *ds)
{
    const size_t plane = (size_t)h * (size_t)w;
    const size_t planes = (size_t)n * (size_t)c;

    for (size_t pl = 0; pl < planes; pl++) {
        const float *xp = x + pl * plane;
        const float *dyp = dy + pl * plane;
        if (ds != NULL) {
            double acc = 0.0;
            for (size_t i = 0; i < plane; i++) {
                acc += (double)dyp[i] * (double)xp[i];
            }
            ds[pl] = (float)acc;
        }
        if (dx != NULL) {
            for (size_t i = 0; i < plane; i++) {
                dx[pl * plane + i] = dyp[i] * s[pl];
            }
        }
    }
}
