/* The OpenCL runtime the backend and the op launchers share: CL error names,
 * opening a device (context, in-order queue, the program), kernels looked up
 * by name and created on first use, and cs_cl_run, the one place kernels are
 * launched and their profiling events recorded.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cs_config.h"
#include "opencl/cl_runtime.h"

/* ------------------------------------------------------------------------ */
/* Error names                                                              */
/* ------------------------------------------------------------------------ */

const char *cs_cl_error_name(cl_int err)
{
#define CS_CL_ERR(e) \
    case e:          \
        return #e
    switch (err) {
        CS_CL_ERR(CL_SUCCESS);
        CS_CL_ERR(CL_DEVICE_NOT_FOUND);
        CS_CL_ERR(CL_DEVICE_NOT_AVAILABLE);
        CS_CL_ERR(CL_COMPILER_NOT_AVAILABLE);
        CS_CL_ERR(CL_MEM_OBJECT_ALLOCATION_FAILURE);
        CS_CL_ERR(CL_OUT_OF_RESOURCES);
        CS_CL_ERR(CL_OUT_OF_HOST_MEMORY);
        CS_CL_ERR(CL_PROFILING_INFO_NOT_AVAILABLE);
        CS_CL_ERR(CL_MEM_COPY_OVERLAP);
        CS_CL_ERR(CL_IMAGE_FORMAT_MISMATCH);
        CS_CL_ERR(CL_IMAGE_FORMAT_NOT_SUPPORTED);
        CS_CL_ERR(CL_BUILD_PROGRAM_FAILURE);
        CS_CL_ERR(CL_MAP_FAILURE);
        CS_CL_ERR(CL_MISALIGNED_SUB_BUFFER_OFFSET);
        CS_CL_ERR(CL_EXEC_STATUS_ERROR_FOR_EVENTS_IN_WAIT_LIST);
        CS_CL_ERR(CL_COMPILE_PROGRAM_FAILURE);
        CS_CL_ERR(CL_LINKER_NOT_AVAILABLE);
        CS_CL_ERR(CL_LINK_PROGRAM_FAILURE);
        CS_CL_ERR(CL_DEVICE_PARTITION_FAILED);
        CS_CL_ERR(CL_KERNEL_ARG_INFO_NOT_AVAILABLE);
        CS_CL_ERR(CL_INVALID_VALUE);
        CS_CL_ERR(CL_INVALID_DEVICE_TYPE);
        CS_CL_ERR(CL_INVALID_PLATFORM);
        CS_CL_ERR(CL_INVALID_DEVICE);
        CS_CL_ERR(CL_INVALID_CONTEXT);
        CS_CL_ERR(CL_INVALID_QUEUE_PROPERTIES);
        CS_CL_ERR(CL_INVALID_COMMAND_QUEUE);
        CS_CL_ERR(CL_INVALID_HOST_PTR);
        CS_CL_ERR(CL_INVALID_MEM_OBJECT);
        CS_CL_ERR(CL_INVALID_IMAGE_FORMAT_DESCRIPTOR);
        CS_CL_ERR(CL_INVALID_IMAGE_SIZE);
        CS_CL_ERR(CL_INVALID_SAMPLER);
        CS_CL_ERR(CL_INVALID_BINARY);
        CS_CL_ERR(CL_INVALID_BUILD_OPTIONS);
        CS_CL_ERR(CL_INVALID_PROGRAM);
        CS_CL_ERR(CL_INVALID_PROGRAM_EXECUTABLE);
        CS_CL_ERR(CL_INVALID_KERNEL_NAME);
        CS_CL_ERR(CL_INVALID_KERNEL_DEFINITION);
        CS_CL_ERR(CL_INVALID_KERNEL);
        CS_CL_ERR(CL_INVALID_ARG_INDEX);
        CS_CL_ERR(CL_INVALID_ARG_VALUE);
        CS_CL_ERR(CL_INVALID_ARG_SIZE);
        CS_CL_ERR(CL_INVALID_KERNEL_ARGS);
        CS_CL_ERR(CL_INVALID_WORK_DIMENSION);
        CS_CL_ERR(CL_INVALID_WORK_GROUP_SIZE);
        CS_CL_ERR(CL_INVALID_WORK_ITEM_SIZE);
        CS_CL_ERR(CL_INVALID_GLOBAL_OFFSET);
        CS_CL_ERR(CL_INVALID_EVENT_WAIT_LIST);
        CS_CL_ERR(CL_INVALID_EVENT);
        CS_CL_ERR(CL_INVALID_OPERATION);
        CS_CL_ERR(CL_INVALID_GL_OBJECT);
        CS_CL_ERR(CL_INVALID_BUFFER_SIZE);
        CS_CL_ERR(CL_INVALID_MIP_LEVEL);
        CS_CL_ERR(CL_INVALID_GLOBAL_WORK_SIZE);
        CS_CL_ERR(CL_INVALID_PROPERTY);
        CS_CL_ERR(CL_INVALID_IMAGE_DESCRIPTOR);
        CS_CL_ERR(CL_INVALID_COMPILER_OPTIONS);
        CS_CL_ERR(CL_INVALID_LINKER_OPTIONS);
        CS_CL_ERR(CL_INVALID_DEVICE_PARTITION_COUNT);
    case -1001:
        return "CL_PLATFORM_NOT_FOUND_KHR";
    default:
        return "unknown OpenCL error";
    }
#undef CS_CL_ERR
}

const char *cs_cl_call_text(const char *text)
{
    /* "cs_clEnqueueReadBuffer(...)" -> "clEnqueueReadBuffer(...)" */
    if (strncmp(text, "cs_cl", 5) == 0 && text[5] >= 'A' && text[5] <= 'Z')
        return text + 3;
    return text;
}

/* ------------------------------------------------------------------------ */
/* Open and close                                                           */
/* ------------------------------------------------------------------------ */

static double now_ms(void)
{
    struct timespec ts = {0, 0};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec * 1e-6;
}

/* CONVSCOPE_CLBLAST=0/1 overrides the default (CLBlast on GPUs). */
static cs_status choose_clblast(cs_cl_context *c)
{
    const char *env = getenv("CONVSCOPE_CLBLAST");
    int want = c->is_gpu;
    if (env && *env) {
        if (strcmp(env, "0") == 0)
            want = 0;
        else if (strcmp(env, "1") == 0)
            want = 1;
        else
            return cs_error(CS_ERR_INVALID_ARG,
                            "invalid CONVSCOPE_CLBLAST=\"%.32s\": expected 0 (own kernels) or 1 "
                            "(CLBlast for GEMM-shaped work); hint: unset it for the default "
                            "(CLBlast on GPUs only)",
                            env);
        if (want && !CS_HAVE_CLBLAST)
            return cs_error(CS_ERR_UNSUPPORTED,
                            "CONVSCOPE_CLBLAST=1 but this build has no CLBlast; hint: install "
                            "CLBlast and reconfigure with -Dclblast=enabled, or unset "
                            "CONVSCOPE_CLBLAST");
    }
    c->use_clblast = want && CS_HAVE_CLBLAST;
    return CS_OK;
}

cs_status cs_cl_open(cs_cl_context **out, int index, int profile)
{
    cs_status st = CS_OK;
    cl_int err = CL_SUCCESS;
    cs_cl_context *c = NULL;
    cl_device_type type = 0;
    if (!out)
        return cs_error(CS_ERR_INVALID_ARG, "cs_cl_open: null output");
    *out = NULL;
    if ((st = cs_cl_fault_init()) != CS_OK)
        return st;

    c = calloc(1, sizeof *c);
    if (!c)
        return cs_error(CS_ERR_NO_MEMORY, "out of host memory opening an OpenCL device");
    c->profile = profile != 0;
    c->cur_node = -1;
    if ((st = cs_cl_device_at(index, &c->platform, &c->device)) != CS_OK)
        goto cleanup;
    if ((st = cs_cl_device_str(c->device, CL_DEVICE_NAME, c->device_name,
                               sizeof c->device_name)) != CS_OK ||
        (st = cs_cl_platform_str(c->platform, CL_PLATFORM_NAME, c->platform_name,
                                 sizeof c->platform_name)) != CS_OK)
        goto cleanup;
    CS_CL_CHECK(clGetDeviceInfo(c->device, CL_DEVICE_TYPE, sizeof type, &type, NULL));
    c->is_gpu = (type & CL_DEVICE_TYPE_GPU) != 0;
    if ((st = choose_clblast(c)) != CS_OK)
        goto cleanup;

    cl_context_properties props[3] = {CL_CONTEXT_PLATFORM, (cl_context_properties)c->platform,
                                      0};
    c->ctx = clCreateContext(props, 1, &c->device, NULL, NULL, &err);
    CS_CL_CHECK_ERR(err, "clCreateContext");
    c->queue = clCreateCommandQueue(c->ctx, c->device,
                                    c->profile ? CL_QUEUE_PROFILING_ENABLE : 0, &err);
    CS_CL_CHECK_ERR(err, "clCreateCommandQueue");

    double t0 = now_ms();
    if ((st = cs_cl_build_program(c, "-cl-std=CL1.2")) != CS_OK)
        goto cleanup;
    c->build_ms = now_ms() - t0;

cleanup:
    if (st != CS_OK) {
        if (c->device_name[0])
            cs_error_context(st, "OpenCL device %d (%s)", index, c->device_name);
        cs_cl_close(c);
        return st;
    }
    *out = c;
    return CS_OK;
}

void cs_cl_close(cs_cl_context *c)
{
    if (!c)
        return;
    cs_cl_events_reset(c);
    free(c->events);
    for (int i = 0; i < 4; i++)
        if (c->scratch[i])
            clReleaseMemObject(c->scratch[i]);
    for (int i = 0; i < c->n_kernels; i++)
        if (c->kernels[i].kernel)
            clReleaseKernel(c->kernels[i].kernel);
    free(c->kernels);
    for (int i = 0; i < CS_CL_PROGRAM_COUNT; i++)
        if (c->programs[i])
            clReleaseProgram(c->programs[i]);
    if (c->queue)
        clReleaseCommandQueue(c->queue);
    if (c->ctx)
        clReleaseContext(c->ctx);
    free(c);
}

/* ------------------------------------------------------------------------ */
/* Kernels and launches                                                     */
/* ------------------------------------------------------------------------ */

cs_status cs_cl_kernel(cs_cl_context *c, const char *name, cl_kernel *out)
{
    cs_status st = CS_OK;
    cl_int err = CL_SUCCESS;
    cl_kernel k = NULL;
    if (!c || !name || !out)
        return cs_error(CS_ERR_INVALID_ARG, "cs_cl_kernel: null argument");
    *out = NULL;
    for (int i = 0; i < c->n_kernels; i++)
        if (strcmp(c->kernels[i].name, name) == 0) {
            *out = c->kernels[i].kernel;
            return CS_OK;
        }
    if (strlen(name) >= sizeof c->kernels[0].name)
        return cs_error(CS_ERR_INVALID_ARG, "kernel name \"%.64s...\" is too long", name);
    cl_program prog = NULL;
    const int set = strncmp(name, "train_", 6) == 0 ? CS_CL_PROGRAM_TRAIN : CS_CL_PROGRAM_INFER;
    if ((st = cs_cl_program_for(c, set, &prog)) != CS_OK)
        return cs_error_context(st, "kernel %s", name);
    if (c->n_kernels == c->cap_kernels) {
        int cap = c->cap_kernels ? 2 * c->cap_kernels : 32;
        cs_cl_kernel_entry *nk = realloc(c->kernels, (size_t)cap * sizeof *nk);
        if (!nk)
            return cs_error(CS_ERR_NO_MEMORY, "out of host memory caching kernel %s", name);
        c->kernels = nk;
        c->cap_kernels = cap;
    }
    k = clCreateKernel(prog, name, &err);
    if (err == CL_INVALID_KERNEL_NAME)
        return cs_error(CS_ERR_DEVICE,
                        "kernel %s is not in the program; hint: check the __kernel name in "
                        "cl/*.cl (and CONVSCOPE_CL_DIR if set)",
                        name);
    CS_CL_CHECK_ERR(err, "clCreateKernel");
    cs_cl_kernel_entry *e = &c->kernels[c->n_kernels++];
    memset(e, 0, sizeof *e);
    memcpy(e->name, name, strlen(name) + 1);
    e->kernel = k;
    *out = k;
    k = NULL;
cleanup:
    if (k)
        clReleaseKernel(k);
    if (st != CS_OK)
        cs_error_context(st, "kernel %s", name);
    return st;
}

cs_status cs_cl_event_reserve(cs_cl_context *c)
{
    if (c->n_events < c->cap_events)
        return CS_OK;
    const int cap = c->cap_events > 0 ? 2 * c->cap_events : 256;
    cs_cl_event_rec *grown = realloc(c->events, (size_t)cap * sizeof *grown);
    if (grown == NULL)
        return cs_error(CS_ERR_NO_MEMORY, "out of host memory recording profiling events");
    c->events = grown;
    c->cap_events = cap;
    return CS_OK;
}

cs_status cs_cl_run(cs_cl_context *c, const char *name, const cs_cl_arg *args, int nargs,
                    int dims, const size_t *global, const size_t *local)
{
    cs_status st = CS_OK;
    cl_kernel k = NULL;
    cl_event ev = NULL;
    size_t gsz[3] = {0, 0, 0};
    int arg = -1; /* argument being set, for the message */
    if (!c || !name || !global || (nargs > 0 && !args) || nargs < 0)
        return cs_error(CS_ERR_INVALID_ARG, "cs_cl_run: null argument");
    if (dims < 1 || dims > 3)
        return cs_error(CS_ERR_INVALID_ARG, "cs_cl_run(%s): dims %d, expected 1 to 3", name,
                        dims);
    /* No local size on a CPU device: a fixed one, not the driver's pick. PoCL
     * picks a divisor of the global size and compiles a work-group function
     * for every local size it meets (add_eltwise twice in resnet50, ~0.3 s
     * each on a cold cache); every such kernel bounds-checks dimension 0. */
    size_t cpu_local[3] = {CS_CL_CPU_LOCAL0, 1, 1};
    if (!local && !c->is_gpu)
        local = cpu_local;
    for (int d = 0; d < dims; d++) {
        if (global[d] == 0)
            return CS_OK; /* empty range: nothing to compute */
        if (local && local[d] == 0)
            return cs_error(CS_ERR_INVALID_ARG, "cs_cl_run(%s): local size 0 in dim %d", name,
                            d);
        gsz[d] = local ? (global[d] + local[d] - 1) / local[d] * local[d] : global[d];
    }
    if ((st = cs_cl_kernel(c, name, &k)) != CS_OK)
        return st;
    for (arg = 0; arg < nargs; arg++) {
        CS_CL_CHECK(clSetKernelArg(k, (cl_uint)arg, args[arg].size, args[arg].ptr));
    }
    arg = -1;
    if (c->profile && (st = cs_cl_event_reserve(c)) != CS_OK)
        goto cleanup;
    CS_CL_CHECK(cs_clEnqueueNDRangeKernel(c->queue, k, (cl_uint)dims, NULL, gsz, local, 0, NULL,
                                          c->profile ? &ev : NULL));
    if (c->profile) {
        c->events[c->n_events].node = c->cur_node;
        c->events[c->n_events].event = ev;
        c->n_events++;
        ev = NULL;
    }
cleanup:
    if (ev)
        clReleaseEvent(ev);
    if (st != CS_OK && arg >= 0)
        cs_error_context(st, "kernel %s (node %d), argument %d of %zu bytes", name, c->cur_node,
                         arg, args[arg].size);
    else if (st != CS_OK)
        cs_error_context(st, "kernel %s (node %d), global %zu x %zu x %zu", name, c->cur_node,
                         gsz[0], dims > 1 ? gsz[1] : 1, dims > 2 ? gsz[2] : 1);
    return st;
}

void cs_cl_events_reset(cs_cl_context *c)
{
    if (!c)
        return;
    for (int i = 0; i < c->n_events; i++)
        if (c->events[i].event)
            clReleaseEvent(c->events[i].event);
    c->n_events = 0;
}
