/* The backend interface: what the executor needs from the CPU reference
 * backend and from the OpenCL backend. Backends run one node at a time on
 * buffers the executor assigns; the executor owns planning and stepping.
 */
#ifndef CS_CORE_BACKEND_H
#define CS_CORE_BACKEND_H

#include "core/graph.h"

typedef struct cs_backend cs_backend;
typedef struct cs_buf cs_buf;   /* backend-defined device or host buffer */

typedef struct cs_backend_vt {
    const char *name;
    /* Upload the learnable tensors and build whatever per-node state the
     * backend needs for `g` at this batch size. Called once per session. */
    cs_status (*prepare)(cs_backend *be, const cs_graph *g, int batch);
    cs_status (*alloc)(cs_backend *be, size_t floats, cs_buf **out);
    void (*release)(cs_backend *be, cs_buf *buf);
    cs_status (*write)(cs_backend *be, cs_buf *dst, const float *src, size_t floats);
    cs_status (*read)(cs_backend *be, cs_buf *src, float *dst, size_t floats);
    /* Run node `id` for `batch` samples; in[i] holds input i's output. */
    cs_status (*run_node)(cs_backend *be, const cs_graph *g, int id, int batch,
                          cs_buf *const *in, cs_buf *out);
    /* Wait for queued work; afterwards node_ms is valid for nodes run. */
    cs_status (*finish)(cs_backend *be);
    double (*node_ms)(cs_backend *be, int id);  /* -1 when not profiled */
    const char *(*device_name)(cs_backend *be);
    void (*destroy)(cs_backend *be);
} cs_backend_vt;

struct cs_backend {
    const cs_backend_vt *vt;
};

/* Constructors. `profile` asks for per-node device times. */
cs_status cs_cpu_backend_create(cs_backend **out);
cs_status cs_cl_backend_create(cs_backend **out, int device_index, int profile);

#endif
