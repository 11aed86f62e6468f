/* OpenCL runtime shared by the OpenCL backend and its per-op launchers:
 * device selection, context + in-order profiling queue, the one program built
 * from the embedded cl/ sources (with an on-disk binary cache), kernels looked
 * up by name, and the CS_CL_CHECK macro every CL call goes through. Calls that
 * can fail for the device's reasons go through the cs_cl* wrappers of
 * cl_fault.h, so tests can make them fail.
 */
#ifndef CS_OPENCL_RUNTIME_H
#define CS_OPENCL_RUNTIME_H

#ifndef CL_TARGET_OPENCL_VERSION
#define CL_TARGET_OPENCL_VERSION 120
#endif
#include <CL/cl.h>

#include "core/status.h"
#include "opencl/cl_fault.h"

/* Name of a CL error code, e.g. "CL_OUT_OF_RESOURCES". */
const char *cs_cl_error_name(cl_int err);

/* The call text for messages, a cs_cl* fault wrapper shown as the CL call it wraps. */
const char *cs_cl_call_text(const char *text);

/* Check a CL call returning cl_int. Needs `cs_status st` and a `cleanup:`
 * label in the enclosing function: records the call text, the CL error name,
 * file and line, then jumps to cleanup. */
#define CS_CL_CHECK(call)                                                               \
    do {                                                                                \
        cl_int cs_cl_err_ = (call);                                                     \
        if (cs_cl_err_ != CL_SUCCESS) {                                                 \
            st = cs_error(CS_ERR_DEVICE, "%s failed: %s (%d) at %s:%d",                 \
                          cs_cl_call_text(#call),                                       \
                          cs_cl_error_name(cs_cl_err_), (int)cs_cl_err_, __FILE__,      \
                          __LINE__);                                                    \
            goto cleanup;                                                               \
        }                                                                               \
    } while (0)

/* Same, for calls that report through an errcode_ret variable `err`. */
#define CS_CL_CHECK_ERR(err, what)                                                      \
    do {                                                                                \
        if ((err) != CL_SUCCESS) {                                                      \
            st = cs_error(CS_ERR_DEVICE, "%s failed: %s (%d) at %s:%d", what,           \
                          cs_cl_error_name(err), (int)(err), __FILE__, __LINE__);       \
            goto cleanup;                                                               \
        }                                                                               \
    } while (0)

typedef struct cs_cl_kernel_entry {
    char name[64];
    cl_kernel kernel;
} cs_cl_kernel_entry;

typedef struct cs_cl_event_rec {
    int node;
    cl_event event;
} cs_cl_event_rec;

/* The programs of a context: inference (built when it opens) and training
 * (cl/train.cl, built at the first train_* kernel). */
enum { CS_CL_PROGRAM_INFER = 0, CS_CL_PROGRAM_TRAIN, CS_CL_PROGRAM_COUNT };

typedef struct cs_cl_context {
    cl_platform_id platform;
    cl_device_id device;
    cl_context ctx;
    cl_command_queue queue;       /* in-order, profiling enabled when profile */
    cl_program programs[CS_CL_PROGRAM_COUNT]; /* NULL until built */
    char options[128];            /* build options of the programs */
    char device_name[256];
    char platform_name[256];
    int is_gpu;
    int profile;
    int use_clblast;              /* GEMM-shaped work through CLBlast */
    cs_cl_kernel_entry *kernels;  /* looked up by name, created on first use */
    int n_kernels, cap_kernels;
    int cur_node;                 /* node the next launches belong to */
    cs_cl_event_rec *events;      /* profiling events since the last reset */
    int n_events, cap_events;
    cl_mem scratch[4];            /* training kernels' reusable scratch (cl_train.c), or NULL */
    size_t scratch_bytes[4];
    double build_ms;              /* time to get the program (build or cache) */
    int from_cache;               /* 1 if the program came from the disk cache */
} cs_cl_context;

/* Open OpenCL device `index` (across platforms, cs_devices_list order), create
 * the context and queue, and build or load the program. */
cs_status cs_cl_open(cs_cl_context **out, int index, int profile);
void cs_cl_close(cs_cl_context *c);

/* Kernel by name from the program, created on first use and cached. */
cs_status cs_cl_kernel(cs_cl_context *c, const char *name, cl_kernel *out);

/* One kernel argument: its size and a pointer to its value. */
typedef struct cs_cl_arg {
    size_t size;
    const void *ptr;
} cs_cl_arg;
#define CS_ARG(v) ((cs_cl_arg){sizeof(v), &(v)})

/* Local size in dimension 0 of launches that give none, on CPU devices (GPU
 * drivers pick their own); kernels launched without one bounds-check dimension 0. */
#ifndef CS_CL_CPU_LOCAL0
#define CS_CL_CPU_LOCAL0 64
#endif

/* Set the arguments and enqueue kernel `name` over `global` (dims 1-3; each
 * global size is rounded up to a multiple of local when local is given; a NULL
 * local is CS_CL_CPU_LOCAL0 x 1 x 1 on CPU devices).
 * Records the event under c->cur_node when profiling. */
cs_status cs_cl_run(cs_cl_context *c, const char *name, const cs_cl_arg *args, int nargs,
                    int dims, const size_t *global, const size_t *local);

/* Room for one more profiling event, made before enqueueing so a recorded
 * event can never be lost (cs_cl_run does it; so must callers that enqueue
 * through other libraries, such as CLBlast). */
cs_status cs_cl_event_reserve(cs_cl_context *c);

/* Free all recorded profiling events. */
void cs_cl_events_reset(cs_cl_context *c);

/* Program binary cache (cl_program.c). The cache directory is
 * $CONVSCOPE_CACHE_DIR, else $XDG_CACHE_HOME/convscope, else ~/.cache/convscope;
 * CONVSCOPE_CACHE=auto|on|off (auto: on, except on PoCL, which caches its own
 * builds); CONVSCOPE_NO_CACHE=1 is off. cs_cl_build_program (re)builds the
 * inference program and drops the others. */
cs_status cs_cl_build_program(cs_cl_context *c, const char *options);
/* Program `set` (CS_CL_PROGRAM_*), built (or loaded from the cache) on first use. */
cs_status cs_cl_program_for(cs_cl_context *c, int set, cl_program *out);
/* Where the first error of a build log is, as "file.cl:LINE" in out (else ""),
 * for logs that do not name the file (NVIDIA's "<kernel>:LINE:COL"): found from
 * the line and the source text the log echoes, in src (the joined sources with
 * their #line markers). */
void cs_cl_build_log_locate(const char *src, const char *log, char *out, size_t size);
/* Path of the inference program's cache file for the current device + options
 * ("" if disabled). */
cs_status cs_cl_cache_path(const cs_cl_context *c, const char *options, char *out, size_t size);

/* Device lookup (cl_device.c). Platform and device of global index `index`
 * (cs_devices_list order); an index that does not exist gives CS_ERR_NO_DEVICE
 * with a message listing the devices there are. */
cs_status cs_cl_device_at(int index, cl_platform_id *platform, cl_device_id *device);
/* Info strings, truncated to fit `size` (always NUL-terminated). */
cs_status cs_cl_device_str(cl_device_id device, cl_device_info what, char *out, size_t size);
cs_status cs_cl_platform_str(cl_platform_id platform, cl_platform_info what, char *out,
                             size_t size);

/* What the program cache did in this thread's last cs_cl_build_program, for
 * verbose output: "loaded <path>", "wrote <path>", "disabled (...)", or why an
 * entry was ignored or could not be written. The library never prints it. */
const char *cs_cl_cache_note(void);

/* Embedded kernel sources (generated at build time from cl/ *.cl). During
 * development CONVSCOPE_CL_DIR=<dir> loads them from disk instead. */
extern const char *const cs_cl_source_names[];
extern const char *const cs_cl_sources[];
extern const int cs_cl_source_count;

#endif
