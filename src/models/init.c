/* Seeded initialisation, bit-identical to tools/cs_init.py so that golden
 * tensors made by PyTorch use exactly the weights the C side generates. Each
 * value depends only on (seed, tensor key, index): splitmix64 over an FNV-1a
 * hash of the key, 24 random bits mapped to [-1, 1), scaled in double.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/status.h"
#include "models/models.h"

#define GOLDEN 0x9E3779B97F4A7C15ull

static uint64_t fnv1a64(const char *s)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (; *s; s++) {
        h ^= (uint8_t)*s;
        h *= 0x100000001b3ull;
    }
    return h;
}

static uint64_t mix(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* Element i of the stream for (seed, key): in [-1, 1), a multiple of 2^-23. */
static double uniform_at(uint64_t state0, size_t i)
{
    uint64_t z = mix(state0 + (uint64_t)(i + 1) * GOLDEN);
    return (double)(z >> 40) / 8388608.0 - 1.0;
}

static uint64_t stream(uint64_t seed, const char *key)
{
    return fnv1a64(key) ^ (seed * GOLDEN);
}

void cs_seeded_uniform(uint64_t seed, const char *key, float *out, size_t count)
{
    uint64_t s0 = stream(seed, key ? key : "");
    for (size_t i = 0; i < count; i++)
        out[i] = (float)uniform_at(s0, i);
}

/* The rule for one tensor, chosen by its name and rank like cs_init.py. */
static void init_tensor(uint64_t seed, const char *key, cs_tensor *t)
{
    uint64_t s0 = stream(seed, key);
    double scale = 0.05, offset = 0.0;
    if (strcmp(t->name, "weight") == 0 && t->ndim >= 2) {
        size_t fan_in = t->count / (size_t)t->dims[0];
        scale = sqrt(6.0 / (double)fan_in);
    } else if (strcmp(t->name, "weight") == 0) {
        scale = 0.25;
        offset = 1.0;
    } else if (strcmp(t->name, "running_var") == 0) {
        /* 4 +- 1: BN then halves activations, which keeps deep residual
         * stacks (ResNet-152, SE gates) in range with He-scaled convs */
        scale = 1.0;
        offset = 4.0;
    } else if (strcmp(t->name, "running_mean") == 0) {
        scale = 0.1;
    }
    for (size_t i = 0; i < t->count; i++)
        t->data[i] = (float)(offset + scale * uniform_at(s0, i));
}

cs_status cs_graph_init_seeded(cs_graph *g, uint64_t seed)
{
    if (!g)
        return cs_error(CS_ERR_INVALID_ARG, "cs_graph_init_seeded: graph is NULL");
    if (g->status != CS_OK)
        return cs_error(CS_ERR_STATE, "cs_graph_init_seeded: graph '%s' has a build error", g->model);
    char key[CS_NAME_MAX + 32];
    for (int i = 0; i < g->n_nodes; i++) {
        cs_node *n = &g->nodes[i];
        for (int p = 0; p < n->n_params; p++) {
            if (n->params[p].constant)
                continue;
            snprintf(key, sizeof key, "%s.%s", n->name, n->params[p].name);
            init_tensor(seed, key, &n->params[p]);
        }
    }
    return CS_OK;
}
