/* Inference fusion (core/fuse.c): a headless OpenCL session runs a copy with
 * batchnorm folded into convolutions and ReLU fused into their epilogue. Its
 * logits must equal the unfused stepping session's, layers fused away must be
 * refused with an explanation, and the user's graph must be left untouched.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "convscope.h"

static int passed = 0, failed = 0;

static void check(int ok, const char *what, const char *detail)
{
    printf("%s  %s%s%s\n", ok ? "PASS" : "FAIL", what, detail[0] ? ": " : "", detail);
    if (ok)
        passed++;
    else
        failed++;
}

/* Runs g on OpenCL with `flags`, returning the last node's output (malloc'd). */
static float *run(const cs_graph *g, cs_device_choice dev, int batch, unsigned flags, const float *x, size_t nx,
                  size_t *ny, cs_session **keep)
{
    cs_session *s = NULL;
    int last = cs_graph_node_count(g) - 1, c = 0, h = 0, w = 0;
    cs_graph_node_shape(g, last, &c, &h, &w);
    *ny = (size_t)batch * (size_t)c * (size_t)h * (size_t)w;
    float *y = malloc(*ny * sizeof *y);
    if (!y || cs_session_create(&s, g, dev, batch, flags) != CS_OK || cs_session_set_input(s, x, nx) != CS_OK ||
        cs_session_run(s) != CS_OK || cs_session_read(s, last, y, *ny) != CS_OK) {
        printf("  error: %s\n", cs_last_error());
        free(y);
        cs_session_free(s);
        return NULL;
    }
    if (keep)
        *keep = s;
    else
        cs_session_free(s);
    return y;
}

static void test_model(const char *name, int hw, cs_device_choice dev)
{
    const int batch = 2;
    cs_graph *g = NULL;
    cs_model_options opts = {0, hw, hw};
    char detail[256];
    if (cs_model_build(&g, name, &opts) != CS_OK || cs_graph_init_seeded(g, 3) != CS_OK) {
        check(0, name, cs_last_error());
        cs_graph_free(g);
        return;
    }
    int in = cs_graph_input(g), c = 0, h = 0, w = 0;
    cs_graph_node_shape(g, in, &c, &h, &w);
    size_t nx = (size_t)batch * (size_t)c * (size_t)h * (size_t)w, ny = 0, ny2 = 0;
    float *x = malloc(nx * sizeof *x);
    cs_seeded_uniform(3, "input", x, nx);
    /* a parameter of the user's graph must not change through fusion */
    cs_param_info p0;
    int conv = -1;
    for (int i = 0; i < cs_graph_node_count(g) && conv < 0; i++)
        if (cs_graph_node_op(g, i) == CS_OP_CONV2D)
            conv = i;
    cs_graph_param(g, conv, 0, &p0);
    float before = p0.data[0];
    int params_before = cs_graph_param_count(g, conv);

    cs_session *fused = NULL;
    float *ref = run(g, dev, batch, CS_SESSION_KEEP_ALL, x, nx, &ny, NULL);
    float *y = run(g, dev, batch, 0, x, nx, &ny2, &fused);
    if (ref && y && ny == ny2) {
        double maxref = 0.0, maxdiff = 0.0;
        for (size_t i = 0; i < ny; i++) {
            maxref = fmax(maxref, fabs((double)ref[i]));
            maxdiff = fmax(maxdiff, fabs((double)y[i] - (double)ref[i]));
        }
        double rel = maxref > 0 ? maxdiff / maxref : maxdiff;
        snprintf(detail, sizeof detail, "%s at %dx%d, batch %d: fused vs unfused rel %.3e", name, hw, hw, batch, rel);
        check(rel <= 1e-4 && isfinite(rel), "fused logits equal unfused", detail);
    } else {
        check(0, "fused logits equal unfused", name);
    }
    /* the first conv: fused away when BN or ReLU follows it (LeNet's tanh
     * does not fuse: then it is simply released after use, as headless does) */
    if (fused) {
        float probe[1];
        cs_status st = cs_session_read(fused, conv, probe, 1);
        int next = conv + 1;
        cs_op op = cs_graph_node_op(g, next);
        char desc[128];
        cs_graph_node_describe(g, next, desc, sizeof desc);
        int fusable = op == CS_OP_BATCHNORM || (op == CS_OP_ACT && strcmp(desc, "relu") == 0);
        const char *want = fusable ? "fused" : "released";
        snprintf(detail, sizeof detail, "%s '%s': %s", name, cs_graph_node_name(g, conv), cs_last_error());
        check(st == CS_ERR_STATE && strstr(cs_last_error(), want) && strstr(cs_last_error(), "KEEP_ALL"),
              "reading a layer the headless session did not keep is refused with an explanation", detail);
    }
    cs_graph_param(g, conv, 0, &p0);
    snprintf(detail, sizeof detail, "%s", name);
    check(p0.data[0] == before && cs_graph_param_count(g, conv) == params_before,
          "the user's graph is unchanged", detail);
    cs_session_free(fused);
    free(ref);
    free(y);
    free(x);
    cs_graph_free(g);
}

int main(void)
{
    cs_device_choice dev;
    if (cs_device_parse(NULL, &dev) != CS_OK || dev.reference) {
        dev.reference = 0;
        dev.index = 0;
    }
    /* BN after conv (resnet, densenet, xception, googlenet), conv + ReLU
     * without BN (vgg11, alexnet), BN + ReLU chains and SE blocks */
    test_model("resnet18", 64, dev);
    test_model("resnet50", 64, dev);
    test_model("densenet121", 64, dev);
    test_model("vgg11", 32, dev);
    test_model("vgg11_bn", 32, dev);
    test_model("googlenet", 64, dev);
    test_model("xception", 71, dev);
    test_model("seresnet50", 64, dev);
    test_model("lenet5_1998", 32, dev);
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
