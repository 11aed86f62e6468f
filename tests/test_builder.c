/* Builder tests (test_builder [-v]): bad parameters give -1, the right sticky cs_status and a
 * message that names the node and the offending numbers, never a crash; and
 * good ones give the output shapes, parameter shapes and names PyTorch does
 * (expected sizes were checked against torch.nn in PyTorch 1.13).
 */
#include "convscope.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int n_passed = 0, n_failed = 0;
static int verbose = 0;   /* -v: print every error message */

/* ------------------------------------------------------------------------ */
/* Helpers                                                                  */
/* ------------------------------------------------------------------------ */

static void result(int ok, const char *label)
{
    printf("%s  %s\n", ok ? "PASS" : "FAIL", label);
    if (ok)
        n_passed++;
    else
        n_failed++;
}

static int contains_nocase(const char *hay, const char *needle)
{
    const size_t n = strlen(needle);
    for (const char *p = hay; *p; p++) {
        size_t i = 0;
        while (i < n && p[i] && tolower((unsigned char)p[i]) == tolower((unsigned char)needle[i]))
            i++;
        if (i == n)
            return 1;
    }
    return n == 0;
}

/* A graph holding one input node "input" (C, H, W); NULL if creation fails. */
static cs_graph *fresh(int c, int h, int w)
{
    cs_graph *g = NULL;
    if (cs_graph_create(&g, "test_builder") != CS_OK)
        return NULL;
    if (cs_input(g, "input", c, h, w) != 0) {
        cs_graph_free(g);
        return NULL;
    }
    return g;
}

/* The builder call that produced `id` must have failed: id == -1, the graph's
 * status is `want` (or `alt`, where the API leaves either reasonable; pass
 * CS_OK for none), and cs_last_error() contains every NULL-terminated needle
 * (case-insensitive). Frees g. */
static void expect_error(const char *label, cs_graph *g, int id, cs_status want, cs_status alt, ...)
{
    const cs_status st = g ? cs_graph_status(g) : CS_ERR_STATE;
    const char *msg = cs_last_error();
    int ok = g != NULL && id == -1 && (st == want || (alt != CS_OK && st == alt));
    va_list ap;

    if (!msg)
        msg = "";
    va_start(ap, alt);
    for (const char *needle = va_arg(ap, const char *); needle; needle = va_arg(ap, const char *)) {
        if (!contains_nocase(msg, needle)) {
            printf("    message lacks \"%s\"\n", needle);
            ok = 0;
        }
    }
    va_end(ap);
    if (verbose)
        printf("    message: \"%s\"\n", msg);
    if (!ok)
        printf("    returned %d, status %s (expected -1, %s%s%s), message: \"%s\"\n", id, cs_status_name(st),
               cs_status_name(want), alt != CS_OK ? " or " : "", alt != CS_OK ? cs_status_name(alt) : "", msg);
    result(ok, label);
    cs_graph_free(g);
}

static cs_conv2d_params conv_p(int k, int r, int stride, int pad)
{
    const cs_conv2d_params p = { k, r, r, stride, stride, pad, pad, pad, pad, 1, 1, 1, 1, NULL };
    return p;
}

static cs_pool_params pool_p(int r, int stride, int pad, int ceil_mode)
{
    const cs_pool_params p = { r, r, stride, stride, pad, pad, pad, pad, ceil_mode, 1 };
    return p;
}

/* ------------------------------------------------------------------------ */
/* Bad parameters                                                           */
/* ------------------------------------------------------------------------ */

static void test_conv_errors(void)
{
    cs_graph *g = NULL;
    cs_conv2d_params p = conv_p(8, 3, 1, 1);

    g = fresh(3, 9, 9);
    p = conv_p(8, 3, 1, 1);
    p.pad_top = -3;
    expect_error("conv negative padding", g, cs_conv2d(g, "conv_negpad", 0, &p), CS_ERR_INVALID_ARG, CS_OK,
                 "conv_negpad", "-3", "pad", NULL);

    g = fresh(3, 9, 9);
    p = conv_p(8, 3, 1, 1);
    p.pad_right = -7;
    expect_error("conv negative right padding", g, cs_conv2d(g, "conv_negpad_r", 0, &p), CS_ERR_INVALID_ARG,
                 CS_OK, "conv_negpad_r", "-7", NULL);

    g = fresh(3, 9, 9);
    p = conv_p(8, 3, 0, 1);
    expect_error("conv stride 0", g, cs_conv2d(g, "conv_stride0", 0, &p), CS_ERR_INVALID_ARG, CS_OK,
                 "conv_stride0", "stride", "0", NULL);

    g = fresh(3, 9, 9);
    p = conv_p(8, 3, 1, 1);
    p.stride_w = -2;
    expect_error("conv negative stride", g, cs_conv2d(g, "conv_negstride", 0, &p), CS_ERR_INVALID_ARG, CS_OK,
                 "conv_negstride", "stride", "-2", NULL);

    g = fresh(3, 9, 9);
    p = conv_p(8, 3, 1, 1);
    p.kernel_h = 0;
    expect_error("conv zero kernel", g, cs_conv2d(g, "conv_k0", 0, &p), CS_ERR_INVALID_ARG, CS_OK, "conv_k0",
                 "kernel", "0", NULL);

    g = fresh(3, 9, 9);
    p = conv_p(8, 3, 1, 1);
    p.kernel_w = -5;
    expect_error("conv negative kernel", g, cs_conv2d(g, "conv_kneg", 0, &p), CS_ERR_INVALID_ARG, CS_OK,
                 "conv_kneg", "-5", NULL);

    g = fresh(3, 6, 6);   /* padded input 8x8; torch: "Kernel size can't be greater than actual input size" */
    p = conv_p(8, 9, 1, 1);
    expect_error("conv kernel larger than padded input", g, cs_conv2d(g, "conv_bigk", 0, &p), CS_ERR_SHAPE,
                 CS_OK, "conv_bigk", "9", NULL);

    g = fresh(3, 7, 7);   /* dilated extent 9 > 7 */
    p = conv_p(8, 3, 1, 0);
    p.dilation_h = p.dilation_w = 4;
    expect_error("conv dilated kernel larger than input", g, cs_conv2d(g, "conv_bigdil", 0, &p), CS_ERR_SHAPE,
                 CS_OK, "conv_bigdil", NULL);

    g = fresh(3, 9, 9);
    p = conv_p(8, 3, 1, 1);
    p.dilation_w = 0;
    expect_error("conv dilation 0", g, cs_conv2d(g, "conv_dil0", 0, &p), CS_ERR_INVALID_ARG, CS_OK, "conv_dil0",
                 "dilation", "0", NULL);

    g = fresh(6, 9, 9);
    p = conv_p(8, 3, 1, 1);
    p.groups = 0;
    expect_error("conv groups 0", g, cs_conv2d(g, "conv_g0", 0, &p), CS_ERR_INVALID_ARG, CS_OK, "conv_g0",
                 "groups", "0", NULL);

    g = fresh(6, 9, 9);
    p = conv_p(5, 3, 1, 1);
    p.groups = 2;
    expect_error("conv groups not dividing out channels", g, cs_conv2d(g, "conv_g2_out5", 0, &p),
                 CS_ERR_INVALID_ARG, CS_OK, "conv_g2_out5", "5", "2", NULL);

    /* in channels come from the input's shape: either status is fair */
    g = fresh(5, 9, 9);
    p = conv_p(6, 3, 1, 1);
    p.groups = 3;
    expect_error("conv groups not dividing in channels", g, cs_conv2d(g, "conv_g3_in5", 0, &p),
                 CS_ERR_INVALID_ARG, CS_ERR_SHAPE, "conv_g3_in5", "5", "3", NULL);

    g = fresh(3, 9, 9);
    p = conv_p(0, 3, 1, 1);
    expect_error("conv 0 out channels", g, cs_conv2d(g, "conv_k_out0", 0, &p), CS_ERR_INVALID_ARG, CS_OK,
                 "conv_k_out0", "0", NULL);

    g = fresh(3, 9, 9);
    expect_error("conv NULL params", g, cs_conv2d(g, "conv_null", 0, NULL), CS_ERR_INVALID_ARG, CS_OK,
                 "conv_null", NULL);
}

static void test_pool_errors(void)
{
    cs_graph *g = NULL;
    cs_pool_params p = pool_p(2, 2, 0, 0);

    g = fresh(3, 9, 9);
    p = pool_p(3, 2, 1, 0);
    p.pad_left = -2;
    expect_error("maxpool negative padding", g, cs_maxpool(g, "pool_negpad", 0, &p), CS_ERR_INVALID_ARG, CS_OK,
                 "pool_negpad", "-2", NULL);

    g = fresh(3, 9, 9);
    p = pool_p(2, 0, 0, 0);
    expect_error("maxpool stride 0", g, cs_maxpool(g, "pool_stride0", 0, &p), CS_ERR_INVALID_ARG, CS_OK,
                 "pool_stride0", "stride", "0", NULL);

    g = fresh(3, 9, 9);
    p = pool_p(2, 2, 0, 0);
    p.stride_h = -3;
    expect_error("avgpool negative stride", g, cs_avgpool(g, "avg_negstride", 0, &p), CS_ERR_INVALID_ARG, CS_OK,
                 "avg_negstride", "-3", NULL);

    g = fresh(3, 9, 9);
    p = pool_p(0, 1, 0, 0);
    expect_error("maxpool zero kernel", g, cs_maxpool(g, "pool_k0", 0, &p), CS_ERR_INVALID_ARG, CS_OK, "pool_k0",
                 "kernel", "0", NULL);

    /* torch: "pad should be at most half of kernel size, but got pad=2 and kernel_size=3" */
    g = fresh(3, 9, 9);
    p = pool_p(3, 2, 2, 0);
    expect_error("maxpool pad 2 > kernel 3 / 2", g, cs_maxpool(g, "pool_bigpad", 0, &p), CS_ERR_INVALID_ARG,
                 CS_OK, "pool_bigpad", "2", "3", NULL);

    g = fresh(3, 9, 9);
    p = pool_p(3, 2, 0, 0);
    p.pad_right = 2;
    expect_error("avgpool right pad 2 > kernel 3 / 2", g, cs_avgpool(g, "avg_bigpad", 0, &p), CS_ERR_INVALID_ARG,
                 CS_OK, "avg_bigpad", "2", "3", NULL);

    g = fresh(3, 9, 9);
    p = pool_p(4, 2, 3, 0);
    expect_error("avgpool pad 3 > kernel 4 / 2", g, cs_avgpool(g, "avg_pad3", 0, &p), CS_ERR_INVALID_ARG, CS_OK,
                 "avg_pad3", "3", "4", NULL);

    g = fresh(3, 6, 6);
    p = pool_p(9, 1, 0, 0);
    expect_error("maxpool kernel larger than input", g, cs_maxpool(g, "pool_bigk", 0, &p), CS_ERR_SHAPE, CS_OK,
                 "pool_bigk", "9", NULL);

    g = fresh(3, 9, 9);
    expect_error("avgpool NULL params", g, cs_avgpool(g, "avg_null", 0, NULL), CS_ERR_INVALID_ARG, CS_OK,
                 "avg_null", NULL);

    g = fresh(3, 9, 9);
    expect_error("adaptive pool output 0", g, cs_adaptive_avgpool(g, "gap0", 0, 0, 1), CS_ERR_INVALID_ARG, CS_OK,
                 "gap0", "0", NULL);

    g = fresh(3, 9, 9);
    expect_error("adaptive pool negative output", g, cs_adaptive_avgpool(g, "gap_neg", 0, 3, -2),
                 CS_ERR_INVALID_ARG, CS_OK, "gap_neg", "-2", NULL);
}

static void test_other_op_errors(void)
{
    cs_graph *g = NULL;
    const cs_lrn_params lrn0 = { 0, 1e-4f, 0.75f, 2.0f };
    const cs_conv2d_params to6 = conv_p(6, 1, 1, 0);
    const cs_pool_params half = pool_p(2, 2, 0, 0);
    int a = -1, b = -1;

    g = fresh(16, 5, 5);
    expect_error("dense 0 outputs", g, cs_dense(g, "fc0", 0, 0, 1), CS_ERR_INVALID_ARG, CS_OK, "fc0", "0", NULL);

    g = fresh(16, 5, 5);
    expect_error("dense negative outputs", g, cs_dense(g, "fc_neg", 0, -3, 1), CS_ERR_INVALID_ARG, CS_OK, "fc_neg",
                 "-3", NULL);

    g = fresh(16, 5, 5);
    expect_error("lrn size 0", g, cs_lrn(g, "lrn0", 0, &lrn0), CS_ERR_INVALID_ARG, CS_OK, "lrn0", "size", "0",
                 NULL);

    g = fresh(16, 5, 5);
    expect_error("lrn NULL params", g, cs_lrn(g, "lrn_null", 0, NULL), CS_ERR_INVALID_ARG, CS_OK, "lrn_null",
                 NULL);

    g = fresh(84, 1, 1);
    expect_error("rbf 0 classes", g, cs_rbf(g, "rbf0", 0, 0), CS_ERR_INVALID_ARG, CS_OK, "rbf0", "0", NULL);

    g = fresh(4, 5, 5);
    expect_error("act kind out of range", g, cs_act(g, "act99", 0, (cs_act_kind)99), CS_ERR_INVALID_ARG, CS_OK,
                 "act99", "99", NULL);

    /* torch.nn.Dropout: "dropout probability has to be between 0 and 1" */
    g = fresh(4, 5, 5);
    expect_error("dropout p 1.5", g, cs_dropout(g, "drop15", 0, 1.5f), CS_ERR_INVALID_ARG, CS_OK, "drop15", "1.5",
                 NULL);

    g = fresh(4, 8, 8);
    a = cs_conv2d(g, "proj", 0, &to6);
    expect_error("add channel mismatch 4 vs 6", g, cs_add(g, "sum_c", 0, a, 0), CS_ERR_SHAPE, CS_OK, "sum_c", "4",
                 "6", NULL);

    g = fresh(4, 8, 8);
    a = cs_maxpool(g, "half", 0, &half);
    expect_error("add spatial mismatch 8 vs 4", g, cs_add(g, "sum_hw", 0, a, 1), CS_ERR_SHAPE, CS_OK, "sum_hw", "8",
                 "4", NULL);

    g = fresh(4, 8, 8);
    expect_error("scale by a non-(C,1,1) tensor", g, cs_scale(g, "se_scale_hw", 0, 0), CS_ERR_SHAPE, CS_OK,
                 "se_scale_hw", "8", NULL);

    g = fresh(4, 8, 8);
    a = cs_conv2d(g, "proj", 0, &to6);
    b = cs_adaptive_avgpool(g, "squeeze", a, 1, 1);
    expect_error("scale by a (6,1,1) tensor on 4 channels", g, cs_scale(g, "se_scale_c", 0, b), CS_ERR_SHAPE, CS_OK,
                 "se_scale_c", "6", "4", NULL);

    g = fresh(4, 8, 8);
    a = cs_maxpool(g, "half", 0, &half);
    {
        const int xs[2] = { 0, a };
        expect_error("concat of 8x8 and 4x4", g, cs_concat(g, "cat_hw", xs, 2), CS_ERR_SHAPE, CS_OK, "cat_hw", "8",
                     "4", NULL);
    }

    g = fresh(4, 8, 8);
    {
        const int xs[1] = { 0 };
        expect_error("concat of zero inputs", g, cs_concat(g, "cat0", xs, 0), CS_ERR_INVALID_ARG, CS_OK, "cat0", "0",
                     NULL);
    }

    g = fresh(4, 8, 8);
    expect_error("concat NULL list", g, cs_concat(g, "cat_null", NULL, 2), CS_ERR_INVALID_ARG, CS_OK, "cat_null",
                 NULL);

    g = fresh(4, 8, 8);
    {
        const int xs[3] = { 0, 0, 77 };
        expect_error("concat with an undefined input id", g, cs_concat(g, "cat_bad", xs, 3), CS_ERR_INVALID_ARG,
                     CS_OK, "cat_bad", "77", NULL);
    }
}

static void test_graph_errors(void)
{
    cs_graph *g = NULL;
    const cs_conv2d_params p = conv_p(8, 3, 1, 1);
    char long_name[200] = "";
    int id = -1;

    g = fresh(3, 9, 9);
    expect_error("input id out of range", g, cs_conv2d(g, "conv_x42", 42, &p), CS_ERR_INVALID_ARG, CS_OK, "conv_x42",
                 "42", NULL);

    g = fresh(3, 9, 9);
    expect_error("negative input id", g, cs_act(g, "relu_neg", -5, CS_ACT_RELU), CS_ERR_INVALID_ARG, CS_OK,
                 "relu_neg", "-5", NULL);

    g = fresh(3, 9, 9);   /* nodes 0..2 exist; 3 is the node being created */
    cs_act(g, "relu1", 0, CS_ACT_RELU);
    cs_act(g, "relu2", 1, CS_ACT_RELU);
    expect_error("forward reference to itself", g, cs_add(g, "sum_fwd", 2, 3, 0), CS_ERR_INVALID_ARG, CS_OK,
                 "sum_fwd", "3", NULL);

    g = fresh(3, 9, 9);
    cs_act(g, "relu1", 0, CS_ACT_RELU);
    expect_error("duplicate node name", g, cs_act(g, "relu1", 1, CS_ACT_RELU), CS_ERR_INVALID_ARG, CS_OK, "relu1",
                 NULL);

    g = fresh(3, 9, 9);
    expect_error("name of the input reused", g, cs_conv2d(g, "input", 0, &p), CS_ERR_INVALID_ARG, CS_OK, "input",
                 NULL);

    g = fresh(3, 9, 9);
    expect_error("NULL name", g, cs_act(g, NULL, 0, CS_ACT_RELU), CS_ERR_INVALID_ARG, CS_OK, "name", NULL);

    g = fresh(3, 9, 9);   /* a second cs_input: a bad argument or a call out of order */
    expect_error("second cs_input", g, cs_input(g, "input2", 3, 9, 9), CS_ERR_INVALID_ARG, CS_ERR_STATE, "input2",
                 NULL);

    g = NULL;
    cs_graph_create(&g, "empty");
    expect_error("op before cs_input", g, cs_act(g, "early", 0, CS_ACT_RELU), CS_ERR_INVALID_ARG, CS_ERR_STATE,
                 "early", NULL);

    g = NULL;
    cs_graph_create(&g, "zero channels");
    expect_error("input with 0 channels", g, cs_input(g, "in0", 0, 9, 9), CS_ERR_INVALID_ARG, CS_OK, "in0", "0",
                 NULL);

    g = NULL;
    cs_graph_create(&g, "negative height");
    expect_error("input with height -7", g, cs_input(g, "in_neg", 3, -7, 9), CS_ERR_INVALID_ARG, CS_OK, "in_neg",
                 "-7", NULL);

    /* A name longer than the node can hold: an error, or kept whole. */
    memset(long_name, 'a', sizeof long_name - 1);
    long_name[sizeof long_name - 1] = '\0';
    g = fresh(3, 9, 9);
    id = g ? cs_act(g, long_name, 0, CS_ACT_RELU) : -1;
    {
        const char *back = id >= 0 ? cs_graph_node_name(g, id) : NULL;
        const int ok = g != NULL && ((id == -1 && cs_graph_status(g) == CS_ERR_INVALID_ARG) ||
                                     (id >= 0 && back && strcmp(back, long_name) == 0));
        if (!ok)
            printf("    id %d, status %s, name back \"%s\"\n", id, cs_status_name(cs_graph_status(g)),
                   back ? back : "(null)");
        result(ok, "199-char name: rejected or kept whole, never truncated");
    }
    cs_graph_free(g);

    /* NULL graph handles: -1 or an error, no crash. */
    {
        const int ok = cs_input(NULL, "input", 3, 9, 9) == -1 && cs_conv2d(NULL, "c", 0, &p) == -1 &&
                       cs_graph_create(NULL, "x") != CS_OK;
        cs_graph_free(NULL);
        result(ok, "NULL graph handles are refused");
    }
}

/* After a failure every call returns -1, adds no node, and the status stays the first error. */
static void test_sticky(void)
{
    cs_graph *g = fresh(4, 8, 8);
    const cs_pool_params half = pool_p(2, 2, 0, 0);
    const cs_conv2d_params bad = conv_p(8, 3, 0, 1);
    int ok = g != NULL;
    int a = -1, bad_id = 0, later = 0, later2 = 0, n_before = 0;

    if (ok) {
        a = cs_maxpool(g, "half", 0, &half);
        n_before = cs_graph_node_count(g);
        bad_id = cs_add(g, "sum", 0, a, 0);   /* CS_ERR_SHAPE */
        later = cs_act(g, "relu", 0, CS_ACT_RELU);   /* valid on its own */
        later2 = cs_conv2d(g, "conv", 0, &bad);   /* would be CS_ERR_INVALID_ARG */
        ok = a == 1 && bad_id == -1 && later == -1 && later2 == -1 && cs_graph_status(g) == CS_ERR_SHAPE &&
             cs_graph_node_count(g) == n_before;
        if (!ok)
            printf("    ids %d %d %d %d, status %s, nodes %d (was %d)\n", a, bad_id, later, later2,
                   cs_status_name(cs_graph_status(g)), cs_graph_node_count(g), n_before);
    }
    result(ok, "errors are sticky: later calls return -1, status stays the first error");

    /* A session cannot be made from a graph in error. */
    if (g) {
        cs_session *s = NULL;
        const cs_device_choice ref = { 1, 0 };
        const cs_status st = cs_session_create(&s, g, ref, 1, 0);
        ok = st == CS_ERR_STATE || st == CS_ERR_SHAPE;
        if (!ok)
            printf("    cs_session_create returned %s: %s\n", cs_status_name(st), cs_last_error());
        if (st == CS_OK)
            cs_session_free(s);
        result(ok, "cs_session_create on a graph in error fails");
    }
    cs_graph_free(g);

    /* Nor from a graph without an input. */
    {
        cs_graph *e = NULL;
        cs_session *s = NULL;
        const cs_device_choice ref = { 1, 0 };
        cs_status st = cs_graph_create(&e, "empty");
        if (st == CS_OK)
            st = cs_session_create(&s, e, ref, 1, 0);
        if (st == CS_OK) {
            printf("    a session was made from an empty graph\n");
            cs_session_free(s);
        }
        result(st != CS_OK, "cs_session_create on an empty graph fails");
        cs_graph_free(e);
    }
}

/* ------------------------------------------------------------------------ */
/* Good graphs: shapes, names, params                                       */
/* ------------------------------------------------------------------------ */

static int check_shape(const cs_graph *g, int id, int c, int h, int w, const char *label)
{
    int gc = -1, gh = -1, gw = -1;
    const cs_status st = id >= 0 ? cs_graph_node_shape(g, id, &gc, &gh, &gw) : CS_ERR_INVALID_ARG;
    const int ok = st == CS_OK && gc == c && gh == h && gw == w;
    if (!ok)
        printf("    node %d: %s, shape (%d, %d, %d), expected (%d, %d, %d); %s\n", id, cs_status_name(st), gc, gh,
               gw, c, h, w, cs_last_error());
    result(ok, label);
    return ok;
}

/* The node's params are exactly `names`, each with its dims (ndim from the
 * count of non-zero entries, up to 4); names and dims NULL-terminated. */
static void check_params(const cs_graph *g, int id, const char *label, int n, ...)
{
    va_list ap;
    int ok = id >= 0 && cs_graph_param_count(g, id) == n;
    if (!ok)
        printf("    node %d has %d params, expected %d\n", id, id >= 0 ? cs_graph_param_count(g, id) : -1, n);
    va_start(ap, n);
    for (int i = 0; i < n; i++) {
        const char *name = va_arg(ap, const char *);
        const int *dims = va_arg(ap, const int *);
        cs_param_info info = { 0 };
        int ndim = 0;
        size_t count = 1;
        while (ndim < 4 && dims[ndim] > 0)
            count *= (size_t)dims[ndim++];
        if (!ok)
            continue;
        if (cs_graph_param(g, id, i, &info) != CS_OK || !info.name || strcmp(info.name, name) != 0 ||
            info.ndim != ndim || info.count != count || !info.data) {
            printf("    param %d: %s, expected %s with %zu values\n", i, info.name ? info.name : "(none)", name,
                   count);
            ok = 0;
            continue;
        }
        for (int d = 0; d < ndim; d++) {
            if (info.dims[d] != dims[d]) {
                printf("    param %s dim %d is %d, expected %d\n", name, d, info.dims[d], dims[d]);
                ok = 0;
            }
        }
    }
    va_end(ap);
    if (ok) {
        cs_param_info info = { 0 };
        if (cs_graph_param(g, id, n, &info) == CS_OK) {
            printf("    cs_graph_param index %d (one past the end) succeeded\n", n);
            ok = 0;
        }
    }
    result(ok, label);
}

static void test_known_layers(void)
{
    cs_graph *g = NULL;

    /* AlexNet (torchvision): conv 11x11/4 pad 2 on 224 -> 55, maxpool 3/2 -> 27. */
    g = fresh(3, 224, 224);
    {
        const cs_conv2d_params c1 = conv_p(64, 11, 4, 2);
        const cs_pool_params mp = pool_p(3, 2, 0, 0);
        const int conv = cs_conv2d(g, "features.0", 0, &c1);
        const int pool = cs_maxpool(g, "features.2", conv, &mp);
        static const int w[4] = { 64, 3, 11, 11 }, b[4] = { 64 };
        check_shape(g, conv, 64, 55, 55, "AlexNet conv1 11x11/4 pad 2: 224 -> 55");
        check_shape(g, pool, 64, 27, 27, "AlexNet maxpool 3/2: 55 -> 27");
        check_params(g, conv, "AlexNet conv1 params weight (64,3,11,11), bias (64)", 2, "weight", w, "bias", b);
        check_params(g, pool, "maxpool has no params", 0);
    }
    cs_graph_free(g);

    /* GoogLeNet (torchvision): conv1 7x7/2 pad 3, then MaxPool2d(3, 2, ceil_mode=True) 112 -> 56,
     * 56 -> 28, 28 -> 14, and MaxPool2d(2, 2, ceil_mode=True) 14 -> 7. */
    g = fresh(3, 224, 224);
    {
        cs_conv2d_params c1 = conv_p(64, 7, 2, 3);
        const cs_pool_params mp = pool_p(3, 2, 0, 1), mp2 = pool_p(2, 2, 0, 1);
        c1.bias = 0;
        const int conv = cs_conv2d(g, "conv1.conv", 0, &c1);
        const int p1 = cs_maxpool(g, "maxpool1", conv, &mp);
        const int p2 = cs_maxpool(g, "maxpool2", p1, &mp);
        const int p3 = cs_maxpool(g, "maxpool3", p2, &mp);
        const int p4 = cs_maxpool(g, "maxpool4", p3, &mp2);
        static const int w[4] = { 64, 3, 7, 7 };
        check_shape(g, conv, 64, 112, 112, "GoogLeNet conv1 7x7/2 pad 3: 224 -> 112");
        check_shape(g, p1, 64, 56, 56, "GoogLeNet maxpool 3/2 ceil: 112 -> 56");
        check_shape(g, p2, 64, 28, 28, "GoogLeNet maxpool 3/2 ceil: 56 -> 28");
        check_shape(g, p3, 64, 14, 14, "GoogLeNet maxpool 3/2 ceil: 28 -> 14");
        check_shape(g, p4, 64, 7, 7, "GoogLeNet maxpool 2/2 ceil: 14 -> 7");
        check_params(g, conv, "conv without bias has only a weight", 1, "weight", w);
    }
    cs_graph_free(g);

    /* ResNet: conv1 7x7/2 pad 3 -> 112, maxpool 3/2 pad 1 -> 56, bn1. */
    g = fresh(3, 224, 224);
    {
        cs_conv2d_params c1 = conv_p(64, 7, 2, 3);
        const cs_pool_params mp = pool_p(3, 2, 1, 0);
        c1.bias = 0;
        const int conv = cs_conv2d(g, "conv1", 0, &c1);
        const int bn = cs_batchnorm(g, "bn1", conv, 1e-5f);
        const int pool = cs_maxpool(g, "maxpool", bn, &mp);
        static const int c64[4] = { 64 };
        check_shape(g, conv, 64, 112, 112, "ResNet conv1 7x7/2 pad 3: 224 -> 112");
        check_shape(g, pool, 64, 56, 56, "ResNet maxpool 3/2 pad 1: 112 -> 56");
        check_params(g, bn, "batchnorm params weight, bias, running_mean, running_var (64)", 4, "weight", c64,
                     "bias", c64, "running_mean", c64, "running_var", c64);
    }
    cs_graph_free(g);

    /* AvgPool2d shapes, from torch.nn.AvgPool2d. */
    {
        static const struct {
            int in, k, s, pad, ceil_mode, out;
            const char *label;
        } av[] = {
            { 5, 2, 2, 1, 1, 3, "avgpool 2/2 pad 1 ceil: 5 -> 3 (last window starts in padding)" },
            { 7, 2, 2, 0, 1, 4, "avgpool 2/2 ceil: 7 -> 4" },
            { 7, 2, 2, 0, 0, 3, "avgpool 2/2 floor: 7 -> 3" },
            { 6, 3, 2, 1, 1, 4, "avgpool 3/2 pad 1 ceil: 6 -> 4" },
            { 6, 3, 2, 1, 0, 3, "avgpool 3/2 pad 1 floor: 6 -> 3" },
            { 8, 3, 3, 1, 1, 3, "avgpool 3/3 pad 1 ceil: 8 -> 3 (window dropped)" },
            { 14, 5, 3, 0, 0, 4, "avgpool 5/3 (Inception aux): 14 -> 4" },
            { 13, 2, 3, 0, 1, 5, "avgpool 2/3 ceil: 13 -> 5" },
            { 12, 2, 3, 0, 1, 4, "avgpool 2/3 ceil: 12 -> 4 (window dropped)" },
        };
        for (size_t i = 0; i < sizeof av / sizeof av[0]; i++) {
            const cs_pool_params p = pool_p(av[i].k, av[i].s, av[i].pad, av[i].ceil_mode);
            g = fresh(2, av[i].in, av[i].in);
            check_shape(g, g ? cs_avgpool(g, "pool", 0, &p) : -1, 2, av[i].out, av[i].out, av[i].label);
            cs_graph_free(g);
        }
    }
}

static void test_shapes_and_params(void)
{
    cs_graph *g = fresh(6, 14, 14);
    cs_conv2d_params dw = conv_p(6, 3, 1, 1), grp = conv_p(4, 3, 2, 1), pw = conv_p(16, 1, 1, 0);
    const cs_lrn_params lrn = { 5, 1e-4f, 0.75f, 2.0f };
    dw.groups = 6;
    grp.groups = 2;
    pw.bias = 0;

    const int n_dw = cs_conv2d(g, "block.depthwise", 0, &dw);
    const int n_grp = cs_conv2d(g, "block.grouped", n_dw, &grp);            /* (4, 7, 7) */
    const int n_pw = cs_conv2d(g, "block.pointwise", n_dw, &pw);            /* (16, 14, 14) */
    const int n_lrn = cs_lrn(g, "lrn", n_pw, &lrn);
    const int n_aff = cs_affine(g, "s2", n_lrn);
    const int n_gap = cs_adaptive_avgpool(g, "avgpool", n_aff, 6, 5);
    const int n_flat = cs_flatten(g, "flatten", n_gap);                       /* (480, 1, 1) */
    const int n_drop = cs_dropout(g, "classifier.0", n_gap, 0.5f);
    const int n_fc = cs_dense(g, "classifier.1", n_drop, 10, 1);              /* I = 16*6*5 */
    const int n_fc2 = cs_dense(g, "classifier.2", n_flat, 84, 0);
    const int n_rbf = cs_rbf(g, "output", n_fc2, 10);
    const int n_sm = cs_softmax(g, "softmax", n_fc);
    const int n_sm_hw = cs_softmax(g, "softmax_hw", n_pw);
    const int cat_in[3] = { n_dw, n_pw, n_dw };
    const int n_cat = cs_concat(g, "cat", cat_in, 3);                         /* (28, 14, 14) */
    const int n_add = cs_add(g, "sum", n_pw, n_lrn, 1);
    const int n_se = cs_scale(g, "scale", n_pw, cs_adaptive_avgpool(g, "squeeze", n_pw, 1, 1));

    if (!g || cs_graph_status(g) != CS_OK) {
        printf("    building failed: %s\n", cs_last_error());
        result(0, "a graph of every op builds");
        cs_graph_free(g);
        return;
    }
    result(1, "a graph of every op builds");

    check_shape(g, n_dw, 6, 14, 14, "depthwise conv keeps the shape");
    check_shape(g, n_grp, 4, 7, 7, "grouped conv 3x3/2 pad 1: 14 -> 7");
    check_shape(g, n_pw, 16, 14, 14, "pointwise conv");
    check_shape(g, n_lrn, 16, 14, 14, "lrn keeps the shape");
    check_shape(g, n_aff, 16, 14, 14, "affine keeps the shape");
    check_shape(g, n_gap, 16, 6, 5, "adaptive avgpool to 6x5");
    check_shape(g, n_flat, 480, 1, 1, "flatten (16,6,5) -> (480,1,1)");
    check_shape(g, n_drop, 16, 6, 5, "dropout keeps the shape");
    check_shape(g, n_fc, 10, 1, 1, "dense on (C,H,W) -> (10,1,1)");
    check_shape(g, n_rbf, 10, 1, 1, "rbf 84 -> 10");
    check_shape(g, n_sm, 10, 1, 1, "softmax (10,1,1)");
    check_shape(g, n_sm_hw, 16, 14, 14, "softmax per position keeps (C,H,W)");
    check_shape(g, n_cat, 28, 14, 14, "concat 6 + 16 + 6 channels");
    check_shape(g, n_add, 16, 14, 14, "add keeps the shape");
    check_shape(g, n_se, 16, 14, 14, "scale keeps x's shape");
    check_shape(g, 0, 6, 14, 14, "input shape");

    {
        static const int w_dw[4] = { 6, 1, 3, 3 }, w_grp[4] = { 4, 3, 3, 3 }, w_pw[4] = { 16, 6, 1, 1 };
        static const int c6[4] = { 6 }, c4[4] = { 4 }, c16[4] = { 16 };
        static const int w_fc[4] = { 10, 480 }, b_fc[4] = { 10 }, w_fc2[4] = { 84, 480 }, w_rbf[4] = { 10, 84 };
        check_params(g, n_dw, "depthwise weight (6,1,3,3) + bias", 2, "weight", w_dw, "bias", c6);
        check_params(g, n_grp, "groups 2 weight (4,3,3,3) + bias", 2, "weight", w_grp, "bias", c4);
        check_params(g, n_pw, "pointwise weight (16,6,1,1), no bias", 1, "weight", w_pw);
        check_params(g, n_aff, "affine weight, bias (16)", 2, "weight", c16, "bias", c16);
        check_params(g, n_fc, "dense weight (10,480) + bias (10)", 2, "weight", w_fc, "bias", b_fc);
        check_params(g, n_fc2, "dense without bias: weight (84,480) only", 1, "weight", w_fc2);
        check_params(g, n_rbf, "rbf weight (10,84)", 1, "weight", w_rbf);
        check_params(g, n_lrn, "lrn has no params", 0);
        check_params(g, n_cat, "concat has no params", 0);
        check_params(g, n_add, "add has no params", 0);
        check_params(g, 0, "input has no params", 0);
    }

    /* Names round trip; find; ops. */
    {
        static const struct {
            const char *name;
            cs_op op;
        } want[] = {
            { "input", CS_OP_INPUT }, { "block.depthwise", CS_OP_CONV2D }, { "lrn", CS_OP_LRN },
            { "s2", CS_OP_AFFINE }, { "avgpool", CS_OP_ADAPTIVE_AVGPOOL }, { "flatten", CS_OP_FLATTEN },
            { "classifier.0", CS_OP_DROPOUT }, { "classifier.1", CS_OP_DENSE }, { "output", CS_OP_RBF },
            { "softmax", CS_OP_SOFTMAX }, { "cat", CS_OP_CONCAT }, { "sum", CS_OP_ADD }, { "scale", CS_OP_SCALE },
        };
        int ok = 1;
        for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
            const int id = cs_graph_find(g, want[i].name);
            const char *back = id >= 0 ? cs_graph_node_name(g, id) : NULL;
            if (id < 0 || !back || strcmp(back, want[i].name) != 0 || cs_graph_node_op(g, id) != want[i].op) {
                printf("    \"%s\": find %d, name back \"%s\", op %d\n", want[i].name, id, back ? back : "(null)",
                       id >= 0 ? (int)cs_graph_node_op(g, id) : -1);
                ok = 0;
            }
        }
        ok = ok && cs_graph_find(g, "classifier.1") == n_fc && cs_graph_find(g, "block.pointwise") == n_pw;
        result(ok, "names round trip through cs_graph_find / cs_graph_node_name, ops match");
        ok = cs_graph_find(g, "no.such.node") == -1 && cs_graph_find(g, "classifier") == -1 &&
             cs_graph_find(g, "classifier.10") == -1;
        result(ok, "cs_graph_find of an unknown or prefix name is -1");
        ok = cs_graph_node_count(g) == n_se + 1;
        result(ok, "cs_graph_node_count counts every node");
    }

    /* Out-of-range queries: an error, not a crash. */
    {
        int c = 0, h = 0, w = 0;
        cs_param_info info = { 0 };
        const int n = cs_graph_node_count(g);
        const int ok = cs_graph_node_shape(g, n, &c, &h, &w) != CS_OK &&
                       cs_graph_node_shape(g, -1, &c, &h, &w) != CS_OK &&
                       cs_graph_param(g, n, 0, &info) != CS_OK && cs_graph_param(g, n_fc, -1, &info) != CS_OK &&
                       cs_graph_param_count(g, n) <= 0;
        result(ok, "queries on node ids out of range fail cleanly");
    }
    cs_graph_free(g);
}

static void test_names_and_statuses(void)
{
    int ok = 1;
    for (int op = 0; op < CS_OP_COUNT; op++) {
        const char *name = cs_op_name((cs_op)op);
        if (!name || !*name) {
            printf("    cs_op_name(%d) is empty\n", op);
            ok = 0;
            continue;
        }
        for (int other = 0; other < op; other++)
            if (strcmp(name, cs_op_name((cs_op)other)) == 0) {
                printf("    ops %d and %d are both \"%s\"\n", other, op, name);
                ok = 0;
            }
    }
    result(ok, "every op has a distinct name");

    ok = strcmp(cs_status_name(CS_OK), "CS_OK") == 0 && strcmp(cs_status_name(CS_ERR_SHAPE), "CS_ERR_SHAPE") == 0 &&
         strcmp(cs_status_name(CS_ERR_INVALID_ARG), "CS_ERR_INVALID_ARG") == 0 &&
         strcmp(cs_status_name(CS_ERR_STATE), "CS_ERR_STATE") == 0;
    result(ok, "cs_status_name spells the enum");
}

int main(int argc, char **argv)
{
    verbose = argc > 1 && strcmp(argv[1], "-v") == 0;
    test_conv_errors();
    test_pool_errors();
    test_other_op_errors();
    test_graph_errors();
    test_sticky();
    test_known_layers();
    test_shapes_and_params();
    test_names_and_statuses();
    printf("%d passed, %d failed\n", n_passed, n_failed);
    return n_failed == 0 ? 0 : 1;
}
