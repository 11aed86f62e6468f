/* Per-kernel benchmark of the OpenCL convolution: representative layers of
 * ResNet-50, VGG16, Xception and AlexNet, each run with the kernel cs_cl_conv
 * picks and with the old direct kernel in the same process, alternating.
 * Prints median device ms (CL profiling events, every kernel of the path: input
 * packing included), GFLOP/s (2 x MACs / median time), GB/s (input + weights +
 * output bytes / median time), the speed-up over the old kernel (the median of
 * old/new over back-to-back pairs, which share the background load of a shared
 * machine), the minimums and their ratio, and the largest difference between
 * the two outputs (fails above 1e-4 abs + 1e-4 rel).
 * Usage: bench_kernels [--runs N] [--batch N] [--device I] [--kind K] [--old K] [--detail] [substring]
 * (--kind K: run path K instead of the chosen one where it can run the layer;
 * --old K: compare with path K instead of the original kernels. K: direct,
 * depthwise, gemm, pack+gemm, pack+dw, winograd, panels; --detail: per-kernel ms of
 * the new path's last run)
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/graph.h"
#include "opencl/cl_conv.h"

typedef struct layer {
    const char *label;
    int c, h, w; /* input per sample */
    cs_conv2d_params p;
} layer;

/* out, kernel RxS, stride, pad (symmetric), groups */
#define CV(k, r, s, st, pad, g)                                                                              \
    {                                                                                                        \
        (k), (r), (s), (st), (st), (pad), (pad), (pad), (pad), 1, 1, (g), 1, NULL                            \
    }

static const layer layers[] = {
    {"resnet50 conv1 7x7/2 3->64", 3, 224, 224, CV(64, 7, 7, 2, 3, 1)},
    {"resnet50 1x1 64->256 @56", 64, 56, 56, CV(256, 1, 1, 1, 0, 1)},
    {"resnet50 1x1 256->64 @56", 256, 56, 56, CV(64, 1, 1, 1, 0, 1)},
    {"resnet50 1x1 512->128 @28", 512, 28, 28, CV(128, 1, 1, 1, 0, 1)},
    {"resnet50 1x1 1024->256 @14", 1024, 14, 14, CV(256, 1, 1, 1, 0, 1)},
    {"resnet50 3x3 64->64 @56", 64, 56, 56, CV(64, 3, 3, 1, 1, 1)},
    {"resnet50 3x3 128->128 @28", 128, 28, 28, CV(128, 3, 3, 1, 1, 1)},
    {"resnet50 3x3 256->256 @14", 256, 14, 14, CV(256, 3, 3, 1, 1, 1)},
    {"resnet50 3x3/2 256->256 28->14", 256, 28, 28, CV(256, 3, 3, 2, 1, 1)},
    {"resnet50 3x3 512->512 @7", 512, 7, 7, CV(512, 3, 3, 1, 1, 1)},
    {"resnet50 1x1/2 1024->2048 14->7", 1024, 14, 14, CV(2048, 1, 1, 2, 0, 1)},
    {"resnet50 1x1 512->2048 @7", 512, 7, 7, CV(2048, 1, 1, 1, 0, 1)},
    {"vgg16 3x3 64->64 @224", 64, 224, 224, CV(64, 3, 3, 1, 1, 1)},
    {"vgg16 3x3 3->64 @224", 3, 224, 224, CV(64, 3, 3, 1, 1, 1)},
    {"vgg16 3x3 128->128 @112", 128, 112, 112, CV(128, 3, 3, 1, 1, 1)},
    {"vgg16 3x3 256->256 @56", 256, 56, 56, CV(256, 3, 3, 1, 1, 1)},
    {"vgg16 3x3 512->512 @28", 512, 28, 28, CV(512, 3, 3, 1, 1, 1)},
    {"vgg16 3x3 512->512 @14", 512, 14, 14, CV(512, 3, 3, 1, 1, 1)},
    {"xception dw 3x3 128 @147", 128, 147, 147, CV(128, 3, 3, 1, 1, 128)},
    {"xception dw 3x3 728 @19", 728, 19, 19, CV(728, 3, 3, 1, 1, 728)},
    {"xception 1x1 728->728 @19", 728, 19, 19, CV(728, 1, 1, 1, 0, 1)},
    {"alexnet 11x11/4 3->64 @224", 3, 224, 224, CV(64, 11, 11, 4, 2, 1)},
    {"alexnet-g2 5x5 96->256 g2 @27", 96, 27, 27, CV(256, 5, 5, 1, 2, 2)},
};

static const char *kind_name(cs_cl_conv_kind k)
{
    switch (k) {
    case CS_CL_CONV_DIRECT: return "direct";
    case CS_CL_CONV_DEPTHWISE: return "depthwise";
    case CS_CL_CONV_GEMM: return "gemm";
    case CS_CL_CONV_GEMM_PACKED: return "pack+gemm";
    case CS_CL_CONV_DEPTHWISE_PACKED: return "pack+dw";
    case CS_CL_CONV_WINOGRAD: return "winograd";
    case CS_CL_CONV_GEMM_PANELS: return "panels";
    default: return "?";
    }
}

static uint32_t rng_state = 12345u;
static float rng_uniform(float lo, float hi)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 17;
    rng_state ^= rng_state << 5;
    return lo + (hi - lo) * (float)(rng_state >> 8) * (1.0f / 16777216.0f);
}

static int cmp_double(const void *a, const void *b)
{
    const double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Per-kernel device ms of the new path's last run (--detail), in launch order. */
static int detail = 0;
static double detail_ms[8];
static int detail_n = 0;

/* Device ms of everything enqueued since the last reset, after waiting. */
static cs_status queue_ms(cs_cl_context *cl, double *ms)
{
    cs_status st = CS_OK;
    *ms = 0.0;
    CS_CL_CHECK(clFinish(cl->queue));
    for (int i = 0; i < cl->n_events; i++) {
        cl_ulong t0 = 0, t1 = 0;
        CS_CL_CHECK(
            clGetEventProfilingInfo(cl->events[i].event, CL_PROFILING_COMMAND_START, sizeof t0, &t0, NULL));
        CS_CL_CHECK(
            clGetEventProfilingInfo(cl->events[i].event, CL_PROFILING_COMMAND_END, sizeof t1, &t1, NULL));
        *ms += (double)(t1 - t0) * 1e-6;
        if (i < 8)
            detail_ms[i] = (double)(t1 - t0) * 1e-6;
    }
    detail_n = cl->n_events < 8 ? cl->n_events : 8;
cleanup:
    cs_cl_events_reset(cl);
    return st;
}

typedef struct result {
    double old_ms, new_ms, old_min, new_min, pair_ratio, max_diff;
    int bad;
} result;

/* The new path: -1 the kind cs_cl_conv picks, else the kind --kind names (where it can run the
 * layer). The baseline: -1 the original kernels (conv2d_direct, conv2d_depthwise), else --old's. */
static int new_kind = -1, old_kind = -1;

/* Packed weights and scratch of `pl` into the slots of params (weight and bias already there). */
static cs_status plan_buffers(cs_cl_context *cl, const layer *ly, const cs_node *node,
                              const cs_cl_conv_plan *pl, cl_mem *params)
{
    cs_status st = CS_OK;
    cl_int err = CL_SUCCESS;
    float *packed = NULL;
    if (pl->weight_floats > 0) {
        if (!(packed = malloc(pl->weight_floats * sizeof *packed)))
            return cs_error(CS_ERR_NO_MEMORY, "out of host memory");
        if ((st = cs_cl_conv_pack_weight(&ly->p, ly->c, pl, node->params[0].data, NULL, packed)) != CS_OK)
            goto cleanup;
        params[CS_CL_CONV_SLOT_PACKED] = clCreateBuffer(cl->ctx, CL_MEM_READ_ONLY | CL_MEM_COPY_HOST_PTR,
                                                        pl->weight_floats * sizeof *packed, packed, &err);
        CS_CL_CHECK_ERR(err, "clCreateBuffer(packed weight)");
    }
    if (pl->scratch_floats > 0) {
        const float zero = 0.0f;
        params[CS_CL_CONV_SLOT_SCRATCH] =
            clCreateBuffer(cl->ctx, CL_MEM_READ_WRITE, pl->scratch_floats * sizeof(float), NULL, &err);
        CS_CL_CHECK_ERR(err, "clCreateBuffer(scratch)");
        CS_CL_CHECK(clEnqueueFillBuffer(cl->queue, params[CS_CL_CONV_SLOT_SCRATCH], &zero, sizeof zero, 0,
                                        pl->scratch_floats * sizeof(float), 0, NULL, NULL));
    }
cleanup:
    free(packed);
    return st;
}

static cs_status bench_layer(cs_cl_context *cl, const layer *ly, int batch, int runs, result *res)
{
    cs_status st = CS_OK;
    cl_int err = CL_SUCCESS;
    cs_graph *g = NULL;
    cl_mem x = NULL, y_old = NULL, y_new = NULL;
    cl_mem params[2][CS_MAX_PARAMS] = {{NULL}};
    float *hx = NULL, *h_old = NULL, *h_new = NULL;
    double *t_old = calloc((size_t)runs, sizeof *t_old), *t_new = calloc((size_t)runs, sizeof *t_new);
    double *t_pair = calloc((size_t)runs, sizeof *t_pair);
    memset(res, 0, sizeof *res);
    if (!t_old || !t_new || !t_pair) {
        st = cs_error(CS_ERR_NO_MEMORY, "out of host memory");
        goto cleanup;
    }
    if ((st = cs_graph_create(&g, "bench")) != CS_OK)
        goto cleanup;
    const int in_id = cs_input(g, "x", ly->c, ly->h, ly->w);
    const int id = cs_conv2d(g, "conv", in_id, &ly->p);
    if ((st = cs_graph_status(g)) != CS_OK)
        goto cleanup;
    cs_node *node = &g->nodes[id];
    const cs_shape in = g->nodes[in_id].out, out = node->out;
    const size_t nx = (size_t)batch * cs_shape_count(in), ny = (size_t)batch * cs_shape_count(out);
    const float scale = sqrtf(6.0f / (float)(ly->c / ly->p.groups * ly->p.kernel_h * ly->p.kernel_w));
    for (int i = 0; i < node->n_params; i++) {
        cs_tensor *t = &node->params[i];
        for (size_t j = 0; j < t->count; j++)
            t->data[j] = i == 0 ? rng_uniform(-scale, scale) : rng_uniform(-0.05f, 0.05f);
        params[1][i] = clCreateBuffer(cl->ctx, CL_MEM_READ_ONLY | CL_MEM_COPY_HOST_PTR,
                                      t->count * sizeof(float), t->data, &err);
        CS_CL_CHECK_ERR(err, "clCreateBuffer(param)");
    }
    hx = malloc(nx * sizeof *hx);
    h_old = malloc(ny * sizeof *h_old);
    h_new = malloc(ny * sizeof *h_new);
    if (!hx || !h_old || !h_new) {
        st = cs_error(CS_ERR_NO_MEMORY, "out of host memory");
        goto cleanup;
    }
    for (size_t j = 0; j < nx; j++)
        hx[j] = rng_uniform(-1.0f, 1.0f);
    x = clCreateBuffer(cl->ctx, CL_MEM_READ_ONLY | CL_MEM_COPY_HOST_PTR, nx * sizeof(float), hx, &err);
    CS_CL_CHECK_ERR(err, "clCreateBuffer(x)");
    y_old = clCreateBuffer(cl->ctx, CL_MEM_READ_WRITE, ny * sizeof(float), NULL, &err);
    CS_CL_CHECK_ERR(err, "clCreateBuffer(y)");
    y_new = clCreateBuffer(cl->ctx, CL_MEM_READ_WRITE, ny * sizeof(float), NULL, &err);
    CS_CL_CHECK_ERR(err, "clCreateBuffer(y)");
    /* Canaries: an output either path leaves unwritten stays NaN and fails the comparison. */
    const float canary = NAN;
    CS_CL_CHECK(
        clEnqueueFillBuffer(cl->queue, y_old, &canary, sizeof canary, 0, ny * sizeof(float), 0, NULL, NULL));
    CS_CL_CHECK(
        clEnqueueFillBuffer(cl->queue, y_new, &canary, sizeof canary, 0, ny * sizeof(float), 0, NULL, NULL));
    /* params[0]: the baseline's slots, params[1]: the new path's; weight and bias shared. */
    for (int i = 0; i < node->n_params; i++)
        if ((params[0][i] = params[1][i]) != NULL)
            clRetainMemObject(params[0][i]);
    const cs_cl_conv_plan plan_new = new_kind < 0 ? cs_cl_conv_plan_on(cl, &ly->p, in, out, batch)
                                                  : cs_cl_conv_plan_as(&ly->p, in, out, batch, new_kind);
    const cs_cl_conv_plan plan_old =
        old_kind >= 0 ? cs_cl_conv_plan_as(&ly->p, in, out, batch, old_kind)
                      : cs_cl_conv_plan_as(&ly->p, in, out, batch,
                                           in.c == ly->p.groups ? CS_CL_CONV_DEPTHWISE : CS_CL_CONV_DIRECT);
    if ((st = plan_buffers(cl, ly, node, &plan_new, params[1])) != CS_OK ||
        (st = plan_buffers(cl, ly, node, &plan_old, params[0])) != CS_OK)
        goto cleanup;
    cs_cl_launch L = {.cl = cl, .g = g, .node = node, .batch = batch, .in = &x, .in_shape = &in};
    /* Warm-up (first launches compile work-group functions), then alternate. */
    for (int i = -1; i < runs; i++) {
        L.out = y_old;
        L.params = params[0];
        if ((st = cs_cl_conv_run(&L, &plan_old)) != CS_OK ||
            (st = queue_ms(cl, i >= 0 ? &t_old[i] : &res->old_ms)) != CS_OK)
            goto cleanup;
        L.out = y_new;
        L.params = params[1];
        if ((st = cs_cl_conv_run(&L, &plan_new)) != CS_OK ||
            (st = queue_ms(cl, i >= 0 ? &t_new[i] : &res->new_ms)) != CS_OK)
            goto cleanup;
    }
    /* Speed-up per back-to-back pair (both under the same background load), then medians. */
    for (int i = 0; i < runs; i++)
        t_pair[i] = t_old[i] / t_new[i];
    qsort(t_pair, (size_t)runs, sizeof *t_pair, cmp_double);
    res->pair_ratio = t_pair[runs / 2];
    qsort(t_old, (size_t)runs, sizeof *t_old, cmp_double);
    qsort(t_new, (size_t)runs, sizeof *t_new, cmp_double);
    res->old_ms = t_old[runs / 2];
    res->new_ms = t_new[runs / 2];
    res->old_min = t_old[0];
    res->new_min = t_new[0];

    CS_CL_CHECK(clEnqueueReadBuffer(cl->queue, y_old, CL_TRUE, 0, ny * sizeof(float), h_old, 0, NULL, NULL));
    CS_CL_CHECK(clEnqueueReadBuffer(cl->queue, y_new, CL_TRUE, 0, ny * sizeof(float), h_new, 0, NULL, NULL));
    for (size_t j = 0; j < ny; j++) {
        const double d = fabs((double)h_new[j] - (double)h_old[j]);
        if (!(d <= 1e-4 + 1e-4 * fabs((double)h_old[j])))
            res->bad++;
        if (!(d <= res->max_diff))
            res->max_diff = d;
    }
    const double gflop = 2.0 * (double)batch * (double)cs_node_macs(g, id) * 1e-9;
    const double mbytes = (double)(nx + ny + cs_node_param_count(g, id)) * 4.0 * 1e-6;
    printf("%-32s %-9s %8.3f %8.3f %7.1f %7.1f %6.1f %7.2fx %8.3f %8.3f %6.2fx %8.1e%s\n", ly->label,
           kind_name(plan_new.kind), res->old_ms, res->new_ms, gflop / res->old_ms * 1e3,
           gflop / res->new_ms * 1e3, mbytes / res->new_ms, res->pair_ratio, res->old_min, res->new_min,
           res->old_min / res->new_min, res->max_diff, res->bad ? "  MISMATCH" : "");
    if (detail && detail_n > 1) {
        printf("%32s", "last run, per kernel (ms):");
        for (int i = 0; i < detail_n; i++)
            printf(" %.3f", detail_ms[i]);
        printf("\n");
    }
    fflush(stdout);
cleanup:
    for (int i = 0; i < CS_MAX_PARAMS; i++) {
        if (params[0][i])
            clReleaseMemObject(params[0][i]);
        if (params[1][i])
            clReleaseMemObject(params[1][i]);
    }
    if (x)
        clReleaseMemObject(x);
    if (y_old)
        clReleaseMemObject(y_old);
    if (y_new)
        clReleaseMemObject(y_new);
    free(hx);
    free(h_old);
    free(h_new);
    free(t_old);
    free(t_new);
    free(t_pair);
    cs_graph_free(g);
    return st;
}

int main(int argc, char **argv)
{
    int runs = 9, batch = 1, device = 0, failed = 0;
    const char *filter = NULL;
    const char *env = getenv("CONVSCOPE_DEVICE");
    if (env && *env)
        device = atoi(env);
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--runs") == 0 && i + 1 < argc)
            runs = atoi(argv[++i]);
        else if (strcmp(argv[i], "--batch") == 0 && i + 1 < argc)
            batch = atoi(argv[++i]);
        else if (strcmp(argv[i], "--detail") == 0)
            detail = 1;
        else if (strcmp(argv[i], "--device") == 0 && i + 1 < argc)
            device = atoi(argv[++i]);
        else if ((strcmp(argv[i], "--kind") == 0 || strcmp(argv[i], "--old") == 0) && i + 1 < argc) {
            int *kind = strcmp(argv[i], "--kind") == 0 ? &new_kind : &old_kind;
            const char *k = argv[++i];
            for (int j = 0; j < CS_CL_CONV_KIND_COUNT; j++)
                if (strcmp(k, kind_name((cs_cl_conv_kind)j)) == 0)
                    *kind = j;
            if (*kind < 0) {
                fprintf(stderr,
                        "bench_kernels: unknown kind %s; hint: direct, depthwise, gemm, pack+gemm, "
                        "pack+dw, winograd\n",
                        k);
                return 2;
            }
        } else if (argv[i][0] == '-') {
            fprintf(stderr,
                    "usage: %s [--runs N] [--batch N] [--device I] [--kind K] [--old K] [--detail] "
                    "[label-substring]\n",
                    argv[0]);
            return 2;
        } else
            filter = argv[i];
    }
    if (runs < 1 || batch < 1) {
        fprintf(stderr, "bench_kernels: --runs and --batch must be >= 1\n");
        return 2;
    }
    cs_cl_context *cl = NULL;
    if (cs_cl_open(&cl, device, 1) != CS_OK) {
        fprintf(stderr, "bench_kernels: %s\nhint: check `convscope devices` and CONVSCOPE_DEVICE\n",
                cs_last_error());
        return 1;
    }
    printf("device: %s (%s), batch %d, median of %d runs; old = %s\n", cl->device_name, cl->platform_name,
           batch, runs,
           old_kind < 0 ? "conv2d_direct (depthwise: conv2d_depthwise)"
                        : kind_name((cs_cl_conv_kind)old_kind));
    printf("%-32s %-9s %8s %8s %7s %7s %6s %8s %8s %8s %7s %8s\n", "layer", "new path", "old ms", "new ms",
           "old GF/s", "new GF/s", "GB/s", "speed-up", "old min", "new min", "min/min", "max diff");
    for (size_t i = 0; i < sizeof layers / sizeof layers[0]; i++) {
        if (filter && !strstr(layers[i].label, filter))
            continue;
        result r;
        if (bench_layer(cl, &layers[i], batch, runs, &r) != CS_OK) {
            fprintf(stderr, "bench_kernels: %s: %s\n", layers[i].label, cs_last_error());
            failed++;
        } else if (r.bad)
            failed++;
    }
    cs_cl_close(cl);
    return failed ? 1 : 0;
}
