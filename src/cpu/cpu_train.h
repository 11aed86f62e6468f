/* The CPU backend's state and its training entry points (cpu_train.c), shared
 * by cpu_backend.c, which puts them in the backend's function table.
 */
#ifndef CS_CPU_TRAIN_H
#define CS_CPU_TRAIN_H

#include "core/backend.h"

struct cs_buf {
    float *data;
    size_t floats;
    int borrowed;     /* data belongs to the graph (a parameter): not freed */
};

typedef struct cs_cpu_backend {
    cs_backend base;
    double *node_ms;  /* (n_nodes), -1 until the node has run */
    int n_nodes;
    cs_buf (*params)[CS_MAX_PARAMS]; /* (n_nodes) views of the graph's tensors, training only */
    int n_param_nodes;
} cs_cpu_backend;

/* run_node of the CPU backend (cpu_backend.c). */
cs_status cs_cpu_run_node(cs_backend *be, const cs_graph *g, int id, int batch,
                          cs_buf *const *in, cs_buf *out);
cs_status cs_cpu_prepare_train(cs_backend *be, const cs_graph *g, int batch);
cs_buf *cs_cpu_param(cs_backend *be, int id, int i);
cs_status cs_cpu_run_node_train(cs_backend *be, const cs_graph *g, int id, int batch,
                                cs_buf *const *in, cs_buf *out, cs_buf *const *aux,
                                float bn_momentum, uint64_t *rng);
cs_status cs_cpu_backward_node(cs_backend *be, const cs_graph *g, int id, int batch,
                               cs_buf *const *in, cs_buf *y, cs_buf *dy, cs_buf *const *aux,
                               cs_buf *const *dx, cs_buf *const *dparam);
cs_status cs_cpu_accumulate(cs_backend *be, size_t count, cs_buf *src, cs_buf *dst);
cs_status cs_cpu_optim_step(cs_backend *be, const cs_train_options *o, int t, size_t count,
                            cs_buf *param, cs_buf *grad, cs_buf *m, cs_buf *v);

#endif
