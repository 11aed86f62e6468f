/* The backend interface: what the executor needs from the CPU reference
 * backend and from the OpenCL backend. Backends run one node at a time on
 * buffers the executor assigns; the executor owns planning and stepping.
 */
#ifndef CS_CORE_BACKEND_H
#define CS_CORE_BACKEND_H

#include <stdint.h>

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

    /* ---- Training (core/train.c) -------------------------------------- */
    /* Like prepare, but parameters live in buffers the optimizer updates in
     * place (no inference re-layouts); run_node then reads them. */
    cs_status (*prepare_train)(cs_backend *be, const cs_graph *g, int batch);
    /* The backend's buffer of parameter i of node id (owned by the backend;
     * NULL when there is none). */
    cs_buf *(*param)(cs_backend *be, int id, int i);
    /* Training-mode forward: batchnorm with batch statistics into aux[0]
     * (mean) and aux[1] (invstd), running statistics updated with
     * bn_momentum; dropout with its keep mask (bytes) in aux[0], drawn from
     * *rng; every other op as run_node. */
    cs_status (*run_node_train)(cs_backend *be, const cs_graph *g, int id, int batch,
                                cs_buf *const *in, cs_buf *out, cs_buf *const *aux,
                                float bn_momentum, uint64_t *rng);
    /* Backward of node id from dy (the gradient wrt its output y): dx[i]
     * WRITTEN for input i, dparam[j] for parameter j; NULL entries are not
     * wanted. aux as run_node_train left it. */
    cs_status (*backward_node)(cs_backend *be, const cs_graph *g, int id, int batch,
                               cs_buf *const *in, cs_buf *y, cs_buf *dy, cs_buf *const *aux,
                               cs_buf *const *dx, cs_buf *const *dparam);
    /* dst += src over count floats. */
    cs_status (*accumulate)(cs_backend *be, size_t count, cs_buf *src, cs_buf *dst);
    /* One optimizer step of a parameter (t is the 1-based step number). */
    cs_status (*optim_step)(cs_backend *be, const cs_train_options *o, int t, size_t count,
                            cs_buf *param, cs_buf *grad, cs_buf *m, cs_buf *v);
} cs_backend_vt;

struct cs_backend {
    const cs_backend_vt *vt;
};

/* Constructors. `profile` asks for per-node device times. */
cs_status cs_cpu_backend_create(cs_backend **out);
cs_status cs_cl_backend_create(cs_backend **out, int device_index, int profile);

#endif
