/* libFuzzer harness for safetensors weights: the input is the file. Opens it
 * (header length, JSON header, dtypes, shapes, offsets), reads every tensor,
 * then loads it into a tiny fixed graph (conv+bn+relu+pool+dense, built once)
 * and checks the all-or-nothing promise: a failed load changes no tensor.
 */
#include <inttypes.h>

#include "fuzz_common.h"

#define MAX_GRAPH_FLOATS 4096

static cs_graph *g_graph = NULL;
static float g_before[MAX_GRAPH_FLOATS];
static float g_after[MAX_GRAPH_FLOATS];
static int g_n_params = 0; /* learnable tensors in the graph */

/* input 2x5x5 -> conv (4,2,3,3)+bias -> bn(4) -> relu -> pool 1x1 -> flatten -> fc (3,4)+bias.
 * Keys: conv.weight conv.bias bn.weight bn.bias bn.running_mean bn.running_var fc.weight fc.bias */
static void build_graph(void)
{
    FUZZ_CHECK(cs_graph_create(&g_graph, "fuzz_tiny") == CS_OK);
    cs_conv2d_params cp = {0};
    cp.out_channels = 4;
    cp.kernel_h = cp.kernel_w = 3;
    cp.stride_h = cp.stride_w = 1;
    cp.pad_top = cp.pad_bottom = cp.pad_left = cp.pad_right = 1;
    cp.dilation_h = cp.dilation_w = 1;
    cp.groups = 1;
    cp.bias = 1;
    int x = cs_input(g_graph, "input", 2, 5, 5);
    x = cs_conv2d(g_graph, "conv", x, &cp);
    x = cs_batchnorm(g_graph, "bn", x, 1e-5f);
    x = cs_act(g_graph, "relu", x, CS_ACT_RELU);
    x = cs_adaptive_avgpool(g_graph, "pool", x, 1, 1);
    x = cs_flatten(g_graph, "flatten", x);
    x = cs_dense(g_graph, "fc", x, 3, 1);
    FUZZ_CHECK(x >= 0 && cs_graph_status(g_graph) == CS_OK);
    size_t total = 0;
    for (int n = 0; n < cs_graph_node_count(g_graph); n++)
        for (int p = 0; p < cs_graph_param_count(g_graph, n); p++) {
            cs_param_info info;
            FUZZ_CHECK(cs_graph_param(g_graph, n, p, &info) == CS_OK);
            total += info.count;
            g_n_params++;
        }
    FUZZ_CHECK(total <= MAX_GRAPH_FLOATS && g_n_params == 8);
}

/* Copies every graph tensor into buf, in node/param order. */
static void snapshot(float *buf)
{
    size_t at = 0;
    for (int n = 0; n < cs_graph_node_count(g_graph); n++)
        for (int p = 0; p < cs_graph_param_count(g_graph, n); p++) {
            cs_param_info info;
            cs_graph_param(g_graph, n, p, &info);
            memcpy(buf + at, info.data, info.count * sizeof(float));
            at += info.count;
        }
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    build_graph();
    return 0;
}

static void read_all(const cs_weights *w, size_t file_size)
{
    const int count = cs_weights_count(w);
    FUZZ_CHECK(count >= 0 && count <= 100000);
    FUZZ_CHECK(cs_weights_key(w, -1) == NULL && cs_weights_key(w, count) == NULL);
    const char *prev = NULL;
    for (int i = 0; i < count; i++) {
        const char *key = cs_weights_key(w, i);
        FUZZ_CHECK(key != NULL);
        FUZZ_CHECK(!prev || strcmp(prev, key) < 0); /* sorted, unique */
        prev = key;
        int ndim = -1;
        int64_t dims[8];
        memset(dims, 0xA5, sizeof dims); /* canaries: every entry must be written */
        cs_error_clear();
        FUZZ_CHECK(cs_weights_shape(w, key, &ndim, dims) == CS_OK);
        FUZZ_CHECK(ndim >= 0 && ndim <= 8);
        size_t elems = 1;
        int zero = 0, overflow = 0;
        for (int k = 0; k < 8; k++) {
            FUZZ_CHECK(dims[k] >= 0 && (k < ndim || dims[k] == 0));
            zero |= k < ndim && dims[k] == 0;
        }
        for (int k = 0; k < ndim && !zero && !overflow; k++) {
            if ((uint64_t)dims[k] > SIZE_MAX / elems)
                overflow = 1;
            else
                elems *= (size_t)dims[k];
        }
        if (zero)
            elems = 0;
        cs_status st = CS_OK;
        if (overflow || elems > file_size) {
            /* every readable dtype takes >= 2 bytes an element, inside the file */
            cs_error_clear();
            st = cs_weights_read(w, key, NULL, overflow ? SIZE_MAX : elems);
            FUZZ_CHECK(st != CS_OK);
            FUZZ_CHECK_MESSAGE(st);
            continue;
        }
        float *dst = malloc(elems ? elems * sizeof(float) : 1);
        FUZZ_CHECK(dst);
        cs_error_clear();
        st = cs_weights_read(w, key, dst, elems);
        fuzz_log(key, st);
        FUZZ_CHECK_MESSAGE(st);
        FUZZ_CHECK(st == CS_OK || st == CS_ERR_FORMAT); /* FORMAT: unsupported dtype */
        if (st == CS_OK) {
            volatile float sink = 0.0f;
            for (size_t e = 0; e < elems; e++)
                sink += dst[e];
            (void)sink;
            /* a wrong element count is refused */
            FUZZ_CHECK(cs_weights_read(w, key, dst, elems + 1) == CS_ERR_INVALID_ARG);
        }
        free(dst);
    }
    cs_error_clear();
    /* keys with control characters are refused at open, so this one is never there */
    FUZZ_CHECK(cs_weights_shape(w, "\x01missing", NULL, NULL) == CS_ERR_INVALID_ARG);
    FUZZ_CHECK_MESSAGE(CS_ERR_INVALID_ARG);
}

static void load_into_graph(const cs_weights *w)
{
    snapshot(g_before);
    cs_load_report report;
    memset(&report, 0x5A, sizeof report);
    cs_error_clear();
    cs_status st = cs_graph_load_weights(g_graph, w, "aux1., aux2.", &report);
    fuzz_log("cs_graph_load_weights", st);
    FUZZ_CHECK_MESSAGE(st);
    if (st == CS_OK) {
        FUZZ_CHECK(report.loaded == g_n_params && report.ignored >= 0);
        FUZZ_CHECK(memchr(report.note, '\0', sizeof report.note) != NULL);
        return;
    }
    FUZZ_CHECK(st == CS_ERR_FORMAT || st == CS_ERR_SHAPE);
    snapshot(g_after);
    size_t total = 0;
    for (int n = 0; n < cs_graph_node_count(g_graph); n++)
        for (int p = 0; p < cs_graph_param_count(g_graph, n); p++) {
            cs_param_info info;
            cs_graph_param(g_graph, n, p, &info);
            total += info.count;
        }
    /* "fails the whole load and leaves the graph's tensors unchanged" (bitwise: NaNs allowed) */
    FUZZ_CHECK(memcmp(g_before, g_after, total * sizeof(float)) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_file(data, size);
    cs_weights *w = (cs_weights *)(uintptr_t)1;
    cs_error_clear();
    cs_status st = cs_weights_open(&w, path);
    fuzz_log("cs_weights_open", st);
    FUZZ_CHECK_MESSAGE(st);
    if (st != CS_OK) {
        FUZZ_CHECK(w == NULL);
        FUZZ_CHECK(st == CS_ERR_FORMAT || st == CS_ERR_NO_MEMORY);
        return 0;
    }
    read_all(w, size);
    load_into_graph(w);
    cs_weights_close(w);
    return 0;
}
