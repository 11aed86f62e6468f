/* Host launchers for the OpenCL kernels, one op family per file
 * (cl/<family>.cl <-> src/opencl/cl_<family>.c). The backend calls the one
 * matching a node's op with everything it needs in a cs_cl_launch.
 */
#ifndef CS_OPENCL_OPS_H
#define CS_OPENCL_OPS_H

#include "core/graph.h"
#include "opencl/cl_runtime.h"

typedef struct cs_cl_launch {
    cs_cl_context *cl;
    const cs_graph *g;
    const cs_node *node;
    int batch;
    const cl_mem *in;       /* node->n_inputs buffers, each batch x shape of that input */
    cs_shape const *in_shape; /* per-sample shapes of the inputs */
    cl_mem out;             /* batch x node->out */
    const cl_mem *params;   /* device copies of node->params[0..n_params) */
} cs_cl_launch;

cs_status cs_cl_conv(const cs_cl_launch *L);      /* CS_OP_CONV2D */
cs_status cs_cl_pool(const cs_cl_launch *L);      /* MAXPOOL, AVGPOOL, ADAPTIVE_AVGPOOL */
cs_status cs_cl_norm(const cs_cl_launch *L);      /* LRN, BATCHNORM, AFFINE */
cs_status cs_cl_eltwise(const cs_cl_launch *L);   /* ACT, FLATTEN, DROPOUT, CONCAT, ADD, SCALE */
cs_status cs_cl_dense(const cs_cl_launch *L);     /* DENSE, SOFTMAX, RBF */

#endif
