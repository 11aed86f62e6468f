/* Fault injection around the OpenCL calls that can fail for reasons outside
 * convscope (device memory, queue resources, the compiler). The library calls
 * them through the cs_cl* wrappers below; a counter per category makes the
 * n-th call from now fail, set from CONVSCOPE_FAULT (e.g. "alloc:5,read:1")
 * or by tests through cs_cl_fault_set. Disabled, a wrapper costs one load and
 * one predictable branch.
 */
#ifndef CS_OPENCL_FAULT_H
#define CS_OPENCL_FAULT_H

#include <stdatomic.h>

#ifndef CL_TARGET_OPENCL_VERSION
#define CL_TARGET_OPENCL_VERSION 120
#endif
#include <CL/cl.h>

#include "core/status.h"

/* Categories, and the error an injected failure returns. */
typedef enum cs_cl_fault_kind {
    CS_CL_FAULT_ALLOC = 0, /* clCreateBuffer: CL_MEM_OBJECT_ALLOCATION_FAILURE */
    CS_CL_FAULT_ENQUEUE,   /* clEnqueueNDRangeKernel, clEnqueueCopyBuffer, clEnqueueFillBuffer:
                              CL_OUT_OF_RESOURCES */
    CS_CL_FAULT_BUILD,     /* clCreateProgramWithSource / WithBinary: CL_OUT_OF_HOST_MEMORY;
                              clBuildProgram: CL_OUT_OF_RESOURCES */
    CS_CL_FAULT_READ,      /* clEnqueueReadBuffer: CL_OUT_OF_RESOURCES */
    CS_CL_FAULT_WRITE,     /* clEnqueueWriteBuffer: CL_OUT_OF_RESOURCES */
    CS_CL_FAULT_KINDS
} cs_cl_fault_kind;

/* Name as CONVSCOPE_FAULT spells it: "alloc", "enqueue", "build", "read", "write". */
const char *cs_cl_fault_name(cs_cl_fault_kind kind);

/* Reads CONVSCOPE_FAULT once per process ("kind:n[,kind:n...]", n >= 1).
 * Called by cs_cl_open; an invalid value gives CS_ERR_INVALID_ARG with a hint,
 * every time it is called. */
cs_status cs_cl_fault_init(void);

/* Test API. cs_cl_fault_set zeroes the count of `kind` and makes call `nth`
 * from now fail (once); nth 0 only counts. cs_cl_fault_reset disarms every
 * category and stops counting. cs_cl_fault_count: calls of `kind` since its
 * cs_cl_fault_set; cs_cl_fault_fired: failures injected since then. */
void cs_cl_fault_set(cs_cl_fault_kind kind, long nth);
void cs_cl_fault_reset(void);
long cs_cl_fault_count(cs_cl_fault_kind kind);
long cs_cl_fault_fired(cs_cl_fault_kind kind);

/* ------------------------------------------------------------------------ */
/* Wrappers                                                                 */
/* ------------------------------------------------------------------------ */

extern atomic_int cs_cl_fault_on_; /* 1 while any category counts */

/* CL_SUCCESS, or the error to return instead of making this call. */
cl_int cs_cl_fault_hit(cs_cl_fault_kind kind);

#if defined(__GNUC__)
#define CS_CL_FAULT_CHECK(kind)                                                                              \
    (__builtin_expect(atomic_load_explicit(&cs_cl_fault_on_, memory_order_relaxed), 0)                       \
         ? cs_cl_fault_hit(kind)                                                                             \
         : CL_SUCCESS)
#else
#define CS_CL_FAULT_CHECK(kind)                                                                              \
    (atomic_load_explicit(&cs_cl_fault_on_, memory_order_relaxed) ? cs_cl_fault_hit(kind) : CL_SUCCESS)
#endif

static inline cl_mem cs_clCreateBuffer(cl_context ctx, cl_mem_flags flags, size_t size, void *host,
                                       cl_int *err)
{
    cl_int e = CS_CL_FAULT_CHECK(CS_CL_FAULT_ALLOC);
    if (e != CL_SUCCESS) {
        if (err)
            *err = e;
        return NULL;
    }
    return clCreateBuffer(ctx, flags, size, host, err);
}

static inline cl_int cs_clEnqueueNDRangeKernel(cl_command_queue q, cl_kernel k, cl_uint dims,
                                               const size_t *offset, const size_t *global,
                                               const size_t *local, cl_uint n_wait, const cl_event *wait,
                                               cl_event *ev)
{
    cl_int e = CS_CL_FAULT_CHECK(CS_CL_FAULT_ENQUEUE);
    if (e != CL_SUCCESS)
        return e;
    return clEnqueueNDRangeKernel(q, k, dims, offset, global, local, n_wait, wait, ev);
}

static inline cl_int cs_clEnqueueCopyBuffer(cl_command_queue q, cl_mem src, cl_mem dst, size_t src_off,
                                            size_t dst_off, size_t bytes, cl_uint n_wait,
                                            const cl_event *wait, cl_event *ev)
{
    cl_int e = CS_CL_FAULT_CHECK(CS_CL_FAULT_ENQUEUE);
    if (e != CL_SUCCESS)
        return e;
    return clEnqueueCopyBuffer(q, src, dst, src_off, dst_off, bytes, n_wait, wait, ev);
}

static inline cl_int cs_clEnqueueFillBuffer(cl_command_queue q, cl_mem buf, const void *pattern,
                                            size_t pattern_size, size_t off, size_t bytes, cl_uint n_wait,
                                            const cl_event *wait, cl_event *ev)
{
    cl_int e = CS_CL_FAULT_CHECK(CS_CL_FAULT_ENQUEUE);
    if (e != CL_SUCCESS)
        return e;
    return clEnqueueFillBuffer(q, buf, pattern, pattern_size, off, bytes, n_wait, wait, ev);
}

static inline cl_int cs_clEnqueueReadBuffer(cl_command_queue q, cl_mem buf, cl_bool blocking, size_t off,
                                            size_t bytes, void *dst, cl_uint n_wait, const cl_event *wait,
                                            cl_event *ev)
{
    cl_int e = CS_CL_FAULT_CHECK(CS_CL_FAULT_READ);
    if (e != CL_SUCCESS)
        return e;
    return clEnqueueReadBuffer(q, buf, blocking, off, bytes, dst, n_wait, wait, ev);
}

static inline cl_int cs_clEnqueueWriteBuffer(cl_command_queue q, cl_mem buf, cl_bool blocking, size_t off,
                                             size_t bytes, const void *src, cl_uint n_wait,
                                             const cl_event *wait, cl_event *ev)
{
    cl_int e = CS_CL_FAULT_CHECK(CS_CL_FAULT_WRITE);
    if (e != CL_SUCCESS)
        return e;
    return clEnqueueWriteBuffer(q, buf, blocking, off, bytes, src, n_wait, wait, ev);
}

static inline cl_program cs_clCreateProgramWithSource(cl_context ctx, cl_uint count, const char **src,
                                                      const size_t *len, cl_int *err)
{
    cl_int e = CS_CL_FAULT_CHECK(CS_CL_FAULT_BUILD);
    if (e != CL_SUCCESS) {
        if (err)
            *err = CL_OUT_OF_HOST_MEMORY;
        return NULL;
    }
    return clCreateProgramWithSource(ctx, count, src, len, err);
}

static inline cl_program cs_clCreateProgramWithBinary(cl_context ctx, cl_uint n_dev, const cl_device_id *dev,
                                                      const size_t *len, const unsigned char **bin,
                                                      cl_int *bin_status, cl_int *err)
{
    cl_int e = CS_CL_FAULT_CHECK(CS_CL_FAULT_BUILD);
    if (e != CL_SUCCESS) {
        if (err)
            *err = CL_OUT_OF_HOST_MEMORY;
        return NULL;
    }
    return clCreateProgramWithBinary(ctx, n_dev, dev, len, bin, bin_status, err);
}

static inline cl_int cs_clBuildProgram(cl_program prog, cl_uint n_dev, const cl_device_id *dev,
                                       const char *options, void(CL_CALLBACK *notify)(cl_program, void *),
                                       void *user)
{
    cl_int e = CS_CL_FAULT_CHECK(CS_CL_FAULT_BUILD);
    if (e != CL_SUCCESS)
        return e;
    return clBuildProgram(prog, n_dev, dev, options, notify, user);
}

#endif
