/* The trainer: a graph on a backend that can train. Each step writes a batch,
 * runs the graph forward in training mode keeping every activation, takes the
 * softmax cross-entropy of the output on the host, runs every node's backward
 * in reverse order (a node feeding several consumers sums their gradients)
 * and applies the optimizer to every trainable parameter on the device.
 */
#include <math.h>
#include <stdio.h>
#include <time.h>
#include <stdlib.h>
#include <string.h>

#include "core/backend.h"
#include "core/graph.h"
#include "core/status.h"
#include "cpu/cpu_backward.h"

typedef struct tparam {
    int node, index;
    size_t count;
    cs_buf *grad, *m, *v;
} tparam;

struct cs_trainer {
    cs_graph *g;
    cs_backend *be;
    cs_train_options o;
    int batch, classes, out_node, rbf_out;
    size_t in_floats;
    cs_buf **act;         /* per node: its output (batch x shape) */
    cs_buf **grad;        /* per node: gradient wrt its output, when it needs one */
    uint8_t *grad_set;    /* per node: grad holds this step's gradient */
    uint8_t *needs_grad;  /* per node: a trainable parameter is at or before it */
    cs_buf *(*aux)[2];    /* per node: batchnorm mean/invstd, dropout mask */
    cs_buf **scratch;     /* per input slot: a gradient to be added to one already set */
    int n_scratch;
    size_t max_floats;
    tparam *tp;
    int n_tp;
    cs_buf *(*pgrad)[CS_MAX_PARAMS];
    float *logits, *dlogits;
    int t;
    uint64_t rng;
    double *node_ms;      /* per node: device ms summed over profiled steps */
    double phase_ms[4];   /* wall ms summed: forward, loss, backward, optimizer */
    int profiled;         /* steps summed */
};

void cs_train_options_default(cs_train_options *o)
{
    if (!o)
        return;
    memset(o, 0, sizeof *o);
    o->batch = 64;
    o->optimizer = CS_OPT_SGD;
    o->sgd = (cs_sgd_params){.lr = 0.01, .momentum = 0.9, .weight_decay = 0.0, .nesterov = 0};
    o->adam = (cs_adam_params){.lr = 1e-3, .beta1 = 0.9, .beta2 = 0.999, .eps = 1e-8,
                               .weight_decay = 0.0};
    o->bn_momentum = 0.1f;
    o->seed = 1;
}

static double now_ms(void)
{
    struct timespec ts = {0, 0};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec * 1e-6;
}

static size_t node_floats(const cs_trainer *t, int id)
{
    return (size_t)t->batch * cs_shape_count(t->g->nodes[id].out);
}

static int trainable(const cs_tensor *p)
{
    return p->count > 0 && !p->buffer && !p->constant;
}

void cs_trainer_free(cs_trainer *t)
{
    if (!t)
        return;
    cs_backend *be = t->be;
    if (be) {
        int n = t->g ? t->g->n_nodes : 0;
        for (int i = 0; i < n; i++) {
            if (t->act)
                be->vt->release(be, t->act[i]);
            if (t->grad)
                be->vt->release(be, t->grad[i]);
            if (t->aux) {
                be->vt->release(be, t->aux[i][0]);
                be->vt->release(be, t->aux[i][1]);
            }
        }
        for (int i = 0; i < t->n_scratch; i++)
            be->vt->release(be, t->scratch[i]);
        for (int i = 0; i < t->n_tp; i++) {
            be->vt->release(be, t->tp[i].grad);
            be->vt->release(be, t->tp[i].m);
            be->vt->release(be, t->tp[i].v);
        }
        be->vt->destroy(be);
    }
    free(t->act);
    free(t->grad);
    free(t->grad_set);
    free(t->needs_grad);
    free(t->aux);
    free(t->scratch);
    free(t->tp);
    free(t->pgrad);
    free(t->logits);
    free(t->dlogits);
    free(t->node_ms);
    free(t);
}

static cs_status alloc_zeroed(cs_trainer *t, size_t floats, const float *zeros, cs_buf **out)
{
    cs_status st = t->be->vt->alloc(t->be, floats, out);
    if (st == CS_OK)
        st = t->be->vt->write(t->be, *out, zeros, floats);
    return st == CS_OK ? st : cs_error_context(st, "zeroing an optimizer state buffer (%zu floats)", floats);
}

static cs_status check_options(const cs_train_options *o, const cs_graph *g)
{
    if (o->batch < 1 || o->batch > 65536)
        return cs_error(CS_ERR_INVALID_ARG, "batch %d must be in 1..65536", o->batch);
    double lr = o->optimizer == CS_OPT_ADAM ? o->adam.lr : o->sgd.lr;
    if (!(lr > 0.0) || !isfinite(lr))
        return cs_error(CS_ERR_INVALID_ARG, "learning rate %g must be positive", lr);
    if (o->optimizer != CS_OPT_SGD && o->optimizer != CS_OPT_ADAM)
        return cs_error(CS_ERR_INVALID_ARG, "unknown optimizer %d", (int)o->optimizer);
    if (o->optimizer == CS_OPT_SGD && (o->sgd.momentum < 0.0 || o->sgd.weight_decay < 0.0))
        return cs_error(CS_ERR_INVALID_ARG, "SGD momentum and weight decay must be >= 0");
    if (o->optimizer == CS_OPT_ADAM &&
        (!(o->adam.beta1 >= 0.0 && o->adam.beta1 < 1.0) ||
         !(o->adam.beta2 >= 0.0 && o->adam.beta2 < 1.0) || !(o->adam.eps > 0.0)))
        return cs_error(CS_ERR_INVALID_ARG, "Adam needs betas in [0, 1) and eps > 0");
    if (!(o->bn_momentum >= 0.0f && o->bn_momentum <= 1.0f))
        return cs_error(CS_ERR_INVALID_ARG, "batchnorm momentum %g must be in [0, 1]",
                        (double)o->bn_momentum);
    for (int i = 0; i < g->n_nodes; i++) {
        const cs_node *n = &g->nodes[i];
        if (n->op == CS_OP_BATCHNORM && (size_t)o->batch * (size_t)n->out.h * (size_t)n->out.w < 2)
            return cs_error(CS_ERR_INVALID_ARG,
                            "batchnorm '%s' sees %dx%d maps: training needs batch >= 2", n->name,
                            n->out.h, n->out.w);
        if (n->op == CS_OP_CONV2D && n->u.conv.relu)
            return cs_error(CS_ERR_UNSUPPORTED, "conv '%s' has a fused ReLU: train the unfused "
                            "graph", n->name);
    }
    return CS_OK;
}

cs_status cs_trainer_create(cs_trainer **out, cs_graph *g, cs_device_choice device,
                            const cs_train_options *opts)
{
    cs_status st = CS_OK;
    cs_trainer *t = NULL;
    float *zeros = NULL;
    cs_train_options o;
    if (!out || !g)
        return cs_error(CS_ERR_INVALID_ARG, "cs_trainer_create: output or graph is missing");
    *out = NULL;
    if (g->status != CS_OK)
        return cs_error(CS_ERR_STATE, "cs_trainer_create: graph '%s' has a build error", g->model);
    if (g->input < 0 || g->n_nodes < 2)
        return cs_error(CS_ERR_STATE, "cs_trainer_create: graph '%s' has no layers", g->model);
    if (opts)
        o = *opts;
    else
        cs_train_options_default(&o);
    if ((st = check_options(&o, g)) != CS_OK)
        return st;

    const int n = g->n_nodes;
    int out_node = n - 1;
    /* A final softmax is left out: the loss applies its own to the logits. */
    if (g->nodes[out_node].op == CS_OP_SOFTMAX && g->nodes[out_node].n_inputs == 1)
        out_node = g->nodes[out_node].inputs[0];
    const cs_node *last = &g->nodes[out_node];
    if (last->op == CS_OP_SOFTMAX)
        return cs_error(CS_ERR_UNSUPPORTED, "model '%s': the softmax at %s has no logits "
                        "before it to train on", g->model, last->name);
    for (int i = out_node + 1; i < n; i++)
        if (g->nodes[i].op != CS_OP_SOFTMAX)
            return cs_error(CS_ERR_UNSUPPORTED, "model '%s': node %s comes after the output %s",
                            g->model, g->nodes[i].name, last->name);
    if (last->out.h != 1 || last->out.w != 1 || last->out.c < 2)
        return cs_error(CS_ERR_SHAPE, "model '%s' output %dx%dx%d is not a vector of class "
                        "scores", g->model, last->out.c, last->out.h, last->out.w);

    t = calloc(1, sizeof *t);
    if (!t)
        return cs_error(CS_ERR_NO_MEMORY, "out of host memory creating a trainer");
    t->g = g;
    t->o = o;
    t->batch = o.batch;
    t->out_node = out_node;
    t->classes = last->out.c;
    t->rbf_out = last->op == CS_OP_RBF;
    t->rng = o.seed;
    t->in_floats = node_floats(t, g->input);

    if (device.reference)
        st = cs_cpu_backend_create(&t->be);
    else
        st = cs_cl_backend_create(&t->be, device.index, o.profile ? 1 : 0);
    if (st != CS_OK)
        goto cleanup;
    if (!t->be->vt->prepare_train) {
        st = cs_error(CS_ERR_UNSUPPORTED, "the %s backend cannot train", t->be->vt->name);
        goto cleanup;
    }
    if ((st = t->be->vt->prepare_train(t->be, g, t->batch)) != CS_OK)
        goto cleanup;

    t->act = calloc((size_t)n, sizeof *t->act);
    t->grad = calloc((size_t)n, sizeof *t->grad);
    t->grad_set = calloc((size_t)n, 1);
    t->needs_grad = calloc((size_t)n, 1);
    t->aux = calloc((size_t)n, sizeof *t->aux);
    t->pgrad = calloc((size_t)n, sizeof *t->pgrad);
    t->node_ms = calloc((size_t)n, sizeof *t->node_ms);
    t->logits = malloc((size_t)t->batch * (size_t)t->classes * sizeof *t->logits);
    t->dlogits = malloc((size_t)t->batch * (size_t)t->classes * sizeof *t->dlogits);
    int max_inputs = 1, n_tp = 0;
    size_t max_param = 1;
    for (int i = 0; i < n; i++) {
        const cs_node *nd = &g->nodes[i];
        if (nd->n_inputs > max_inputs)
            max_inputs = nd->n_inputs;
        if (node_floats(t, i) > t->max_floats)
            t->max_floats = node_floats(t, i);
        for (int j = 0; j < nd->n_params; j++) {
            if (trainable(&nd->params[j]))
                n_tp++;
            if (nd->params[j].count > max_param)
                max_param = nd->params[j].count;
        }
    }
    t->scratch = calloc((size_t)max_inputs, sizeof *t->scratch);
    t->n_scratch = max_inputs;
    t->tp = calloc(n_tp ? (size_t)n_tp : 1, sizeof *t->tp);
    size_t zcount = max_param > t->max_floats ? max_param : t->max_floats;
    zeros = calloc(zcount, sizeof *zeros);
    if (!t->act || !t->grad || !t->grad_set || !t->needs_grad || !t->aux || !t->pgrad || !t->node_ms ||
        !t->logits || !t->dlogits || !t->scratch || !t->tp || !zeros) {
        st = cs_error(CS_ERR_NO_MEMORY, "out of host memory creating a trainer for '%s'", g->model);
        goto cleanup;
    }

    /* Kernels a connection mask leaves out are not part of the model: zero
     * them, so every backend trains and saves the same tensors. */
    for (int i = 0; i < n; i++) {
        cs_node *nd = &g->nodes[i];
        if (nd->op != CS_OP_CONV2D || !nd->u.conv.mask || nd->n_params < 1 || nd->params[0].ndim != 4)
            continue;
        const cs_tensor *w = &nd->params[0];
        const size_t cg = (size_t)w->dims[1], rs = (size_t)w->dims[2] * (size_t)w->dims[3];
        for (size_t k = 0; k < (size_t)w->dims[0]; k++)
            for (size_t c = 0; c < cg; c++)
                if (!nd->u.conv.mask[k * cg + c])
                    memset(w->data + (k * cg + c) * rs, 0, rs * sizeof(float));
    }

    /* Which nodes need a gradient: those with a trainable parameter at or
     * before them. */
    for (int i = 0; i < n; i++) {
        const cs_node *nd = &g->nodes[i];
        for (int j = 0; j < nd->n_params; j++)
            if (trainable(&nd->params[j]))
                t->needs_grad[i] = 1;
        for (int k = 0; k < nd->n_inputs; k++)
            if (t->needs_grad[nd->inputs[k]])
                t->needs_grad[i] = 1;
    }

    /* Activations, gradients, per-node training state. */
    for (int i = 0; i < n && st == CS_OK; i++) {
        const cs_node *nd = &g->nodes[i];
        const size_t f = node_floats(t, i);
        if ((st = t->be->vt->alloc(t->be, f, &t->act[i])) != CS_OK)
            break;
        if (t->needs_grad[i] && (st = t->be->vt->alloc(t->be, f, &t->grad[i])) != CS_OK)
            break;
        if (nd->op == CS_OP_BATCHNORM) {
            if ((st = t->be->vt->alloc(t->be, (size_t)nd->out.c, &t->aux[i][0])) != CS_OK ||
                (st = t->be->vt->alloc(t->be, (size_t)nd->out.c, &t->aux[i][1])) != CS_OK)
                break;
        } else if (nd->op == CS_OP_DROPOUT) {
            if ((st = t->be->vt->alloc(t->be, (f + 3) / 4, &t->aux[i][0])) != CS_OK)
                break;
        }
        for (int j = 0; j < nd->n_params && j < CS_MAX_PARAMS; j++) {
            const cs_tensor *p = &nd->params[j];
            if (!trainable(p))
                continue;
            tparam *tp = &t->tp[t->n_tp++];
            tp->node = i;
            tp->index = j;
            tp->count = p->count;
            if (!t->be->vt->param(t->be, i, j)) {
                st = cs_error(CS_ERR_STATE, "%s.%s has no device buffer", nd->name, p->name);
                break;
            }
            if ((st = t->be->vt->alloc(t->be, p->count, &tp->grad)) != CS_OK)
                break;
            int moments = o.optimizer == CS_OPT_ADAM ? 2 : (o.sgd.momentum > 0.0 ? 1 : 0);
            if (moments >= 1 && (st = alloc_zeroed(t, p->count, zeros, &tp->m)) != CS_OK)
                break;
            if (moments >= 2 && (st = alloc_zeroed(t, p->count, zeros, &tp->v)) != CS_OK)
                break;
            t->pgrad[i][j] = tp->grad;
        }
    }
    for (int i = 0; i < max_inputs && st == CS_OK; i++)
        st = t->be->vt->alloc(t->be, t->max_floats, &t->scratch[i]);
    if (st != CS_OK)
        goto cleanup;
    free(zeros);
    *out = t;
    return CS_OK;
cleanup:
    free(zeros);
    cs_error_context(st, "setting up training of '%s'", g->model);
    cs_trainer_free(t);
    return st;
}

/* Input rows: `count` floats of at most `batch` samples; the rest zero. */
static cs_status write_input(cs_trainer *t, const float *x, size_t count)
{
    const size_t per = t->in_floats / (size_t)t->batch;
    if (!x || count == 0 || count % per != 0 || count > t->in_floats)
        return cs_error(CS_ERR_INVALID_ARG, "input of %zu floats: need a multiple of %zu "
                        "(one %dx%dx%d sample) up to the batch of %d", count, per,
                        t->g->nodes[t->g->input].out.c, t->g->nodes[t->g->input].out.h,
                        t->g->nodes[t->g->input].out.w, t->batch);
    cs_buf *in = t->act[t->g->input];
    if (count == t->in_floats) {
        cs_status st = t->be->vt->write(t->be, in, x, count);
        return st == CS_OK ? st : cs_error_context(st, "writing the input batch (%zu floats)", count);
    }
    float *full = calloc(t->in_floats, sizeof *full);
    if (!full)
        return cs_error(CS_ERR_NO_MEMORY, "out of host memory for an input batch");
    memcpy(full, x, count * sizeof *full);
    cs_status st = t->be->vt->write(t->be, in, full, t->in_floats);
    free(full);
    return st == CS_OK ? st : cs_error_context(st, "writing the input batch (%zu floats)", t->in_floats);
}

static cs_status forward(cs_trainer *t, int training)
{
    cs_status st = CS_OK;
    cs_buf *in[64];
    for (int i = 0; i <= t->out_node; i++) {
        const cs_node *nd = &t->g->nodes[i];
        if (nd->op == CS_OP_INPUT)
            continue;
        cs_buf **ins = in;
        cs_buf **heap = NULL;
        if (nd->n_inputs > 64) {
            heap = malloc((size_t)nd->n_inputs * sizeof *heap);
            if (!heap)
                return cs_error(CS_ERR_NO_MEMORY, "out of host memory");
            ins = heap;
        }
        for (int k = 0; k < nd->n_inputs; k++)
            ins[k] = t->act[nd->inputs[k]];
        if (training)
            st = t->be->vt->run_node_train(t->be, t->g, i, t->batch, ins, t->act[i], t->aux[i],
                                           t->o.bn_momentum, &t->rng);
        else
            st = t->be->vt->run_node(t->be, t->g, i, t->batch, ins, t->act[i]);
        free(heap);
        if (st != CS_OK)
            return cs_error_context(st, "%s forward of node %d '%s' (%s) on %s",
                                    training ? "training" : "inference", i, nd->name,
                                    cs_op_name(nd->op), t->be->vt->device_name(t->be));
    }
    return CS_OK;
}

static cs_status read_logits(cs_trainer *t)
{
    const size_t count = (size_t)t->batch * (size_t)t->classes;
    cs_status st = t->be->vt->read(t->be, t->act[t->out_node], t->logits, count);
    if (st != CS_OK)
        return cs_error_context(st, "reading the logits (%zu floats)", count);
    if (t->rbf_out)
        for (size_t i = 0; i < count; i++)
            t->logits[i] = -t->logits[i]; /* RBF outputs are distances */
    return st;
}

static cs_status backward(cs_trainer *t)
{
    cs_status st = CS_OK;
    const cs_graph *g = t->g;
    cs_buf *dx[64], *dparam[CS_MAX_PARAMS];
    int wrote[64];
    memset(t->grad_set, 0, (size_t)g->n_nodes);
    t->grad_set[t->out_node] = 1;
    for (int i = t->out_node; i > 0; i--) {
        const cs_node *nd = &g->nodes[i];
        if (!t->grad_set[i] || !t->needs_grad[i] || nd->op == CS_OP_INPUT)
            continue;
        if (nd->n_inputs > 64 || nd->n_inputs > t->n_scratch)
            return cs_error(CS_ERR_UNSUPPORTED, "node %s has %d inputs: the trainer takes 64",
                            nd->name, nd->n_inputs);
        for (int k = 0; k < nd->n_inputs; k++) {
            int src = nd->inputs[k];
            dx[k] = NULL;
            wrote[k] = 0;
            if (!t->needs_grad[src] || g->nodes[src].op == CS_OP_INPUT)
                continue;
            int repeated = 0;
            for (int q = 0; q < k; q++)
                repeated |= nd->inputs[q] == src;
            if (!t->grad_set[src] && !repeated) {
                dx[k] = t->grad[src];
                wrote[k] = 1;
            } else {
                dx[k] = t->scratch[k];
                wrote[k] = 2;
            }
        }
        for (int j = 0; j < CS_MAX_PARAMS; j++)
            dparam[j] = t->pgrad[i][j];
        cs_buf *ins[64];
        for (int k = 0; k < nd->n_inputs; k++)
            ins[k] = t->act[nd->inputs[k]];
        st = t->be->vt->backward_node(t->be, g, i, t->batch, ins, t->act[i], t->grad[i],
                                      t->aux[i], dx, dparam);
        if (st != CS_OK)
            return cs_error_context(st, "backward of node %d '%s' (%s) on %s", i, nd->name,
                                    cs_op_name(nd->op), t->be->vt->device_name(t->be));
        for (int k = 0; k < nd->n_inputs; k++) {
            int src = nd->inputs[k];
            if (wrote[k] == 1) {
                t->grad_set[src] = 1;
            } else if (wrote[k] == 2) {
                st = t->be->vt->accumulate(t->be, node_floats(t, src), t->scratch[k], t->grad[src]);
                if (st != CS_OK)
                    return st;
            }
        }
    }
    return CS_OK;
}

static int argmax(const float *v, int n)
{
    int best = 0;
    for (int i = 1; i < n; i++)
        if (v[i] > v[best])
            best = i;
    return best;
}

cs_status cs_trainer_step(cs_trainer *t, const float *x, size_t count, const int32_t *labels,
                          double *loss, int *correct)
{
    cs_status st = CS_OK;
    if (!t || !labels)
        return cs_error(CS_ERR_INVALID_ARG, "cs_trainer_step: trainer or labels missing");
    if (count != t->in_floats)
        return cs_error(CS_ERR_INVALID_ARG, "cs_trainer_step: %zu input floats, the batch of %d "
                        "needs %zu", count, t->batch, t->in_floats);
    const int prof = t->o.profile;
    double t0 = now_ms();
    if ((st = write_input(t, x, count)) != CS_OK || (st = forward(t, 1)) != CS_OK ||
        (st = read_logits(t)) != CS_OK)
        return st;
    double t1 = now_ms();
    double l = 0.0;
    if ((st = cs_cpu_softmax_xent(t->batch, t->classes, t->logits, labels, &l, t->dlogits)) != CS_OK)
        return st;
    if (!isfinite(l))
        return cs_error(CS_ERR_INVALID_ARG, "the loss became %g at step %d: lower the learning rate",
                        l, t->t + 1);
    if (t->rbf_out)
        for (size_t i = 0; i < (size_t)t->batch * (size_t)t->classes; i++)
            t->dlogits[i] = -t->dlogits[i];
    if ((st = t->be->vt->write(t->be, t->grad[t->out_node], t->dlogits,
                               (size_t)t->batch * (size_t)t->classes)) != CS_OK)
        return cs_error_context(st, "writing the loss gradient");
    double t2 = now_ms();
    if ((st = backward(t)) != CS_OK)
        return st;
    if (prof && (st = t->be->vt->finish(t->be)) != CS_OK)
        return st;
    if (prof)
        for (int i = 0; i < t->g->n_nodes; i++)
            if (t->be->vt->node_ms(t->be, i) > 0.0)
                t->node_ms[i] += t->be->vt->node_ms(t->be, i);
    double t3 = now_ms();
    t->t++;
    for (int i = 0; i < t->n_tp; i++) {
        tparam *p = &t->tp[i];
        st = t->be->vt->optim_step(t->be, &t->o, t->t, p->count, t->be->vt->param(t->be, p->node, p->index),
                                   p->grad, p->m, p->v);
        if (st != CS_OK)
            return cs_error_context(st, "optimizer step of %s", t->g->nodes[p->node].name);
    }
    if ((st = t->be->vt->finish(t->be)) != CS_OK)
        return st;
    if (prof) {
        double t4 = now_ms();
        t->phase_ms[0] += t1 - t0;
        t->phase_ms[1] += t2 - t1;
        t->phase_ms[2] += t3 - t2;
        t->phase_ms[3] += t4 - t3;
        t->profiled++;
    }
    if (loss)
        *loss = l;
    if (correct) {
        int c = 0;
        for (int b = 0; b < t->batch; b++)
            c += argmax(t->logits + (size_t)b * (size_t)t->classes, t->classes) == labels[b];
        *correct = c;
    }
    return CS_OK;
}

cs_status cs_trainer_predict(cs_trainer *t, const float *x, size_t count, float *logits,
                             size_t logits_count)
{
    cs_status st = CS_OK;
    if (!t || !logits)
        return cs_error(CS_ERR_INVALID_ARG, "cs_trainer_predict: trainer or output missing");
    const size_t per = t->in_floats / (size_t)t->batch;
    const size_t samples = per ? count / per : 0;
    if (logits_count < samples * (size_t)t->classes)
        return cs_error(CS_ERR_INVALID_ARG, "cs_trainer_predict: room for %zu logits, need %zu",
                        logits_count, samples * (size_t)t->classes);
    if ((st = write_input(t, x, count)) != CS_OK || (st = forward(t, 0)) != CS_OK ||
        (st = read_logits(t)) != CS_OK)
        return st;
    memcpy(logits, t->logits, samples * (size_t)t->classes * sizeof *logits);
    return CS_OK;
}

cs_status cs_trainer_read_node(cs_trainer *t, int node, float *dst, size_t count)
{
    if (!t || !dst || node < 0 || node >= t->g->n_nodes)
        return cs_error(CS_ERR_INVALID_ARG, "cs_trainer_read_node: node %d does not exist", node);
    const size_t need = node_floats(t, node);
    if (count < need)
        return cs_error(CS_ERR_INVALID_ARG, "cs_trainer_read_node: room for %zu floats, node %s has %zu",
                        count, t->g->nodes[node].name, need);
    return t->be->vt->read(t->be, t->act[node], dst, need);
}

double cs_trainer_node_ms(const cs_trainer *t, int node)
{
    if (!t || !t->o.profile || t->profiled == 0 || node < 0 || node >= t->g->n_nodes)
        return -1.0;
    return t->node_ms[node] / t->profiled;
}

void cs_trainer_phase_ms(const cs_trainer *t, double phases[4])
{
    for (int i = 0; i < 4; i++)
        phases[i] = t && t->profiled ? t->phase_ms[i] / t->profiled : -1.0;
}

int cs_trainer_batch(const cs_trainer *t)
{
    return t ? t->batch : 0;
}

const char *cs_trainer_device_name(cs_trainer *t)
{
    return t && t->be ? t->be->vt->device_name(t->be) : "";
}

cs_status cs_trainer_sync_weights(cs_trainer *t)
{
    if (!t)
        return cs_error(CS_ERR_INVALID_ARG, "cs_trainer_sync_weights: no trainer");
    for (int i = 0; i < t->g->n_nodes; i++) {
        cs_node *nd = &t->g->nodes[i];
        for (int j = 0; j < nd->n_params && j < CS_MAX_PARAMS; j++) {
            cs_buf *b = t->be->vt->param(t->be, i, j);
            if (!b || nd->params[j].count == 0)
                continue;
            cs_status st = t->be->vt->read(t->be, b, nd->params[j].data, nd->params[j].count);
            if (st != CS_OK)
                return cs_error_context(st, "reading back %s.%s", nd->name, nd->params[j].name);
        }
    }
    return CS_OK;
}

void cs_trainer_set_lr(cs_trainer *t, double lr)
{
    if (!t || !(lr > 0.0))
        return;
    t->o.sgd.lr = lr;
    t->o.adam.lr = lr;
}

int cs_trainer_steps(const cs_trainer *t)
{
    return t ? t->t : 0;
}

int cs_trainer_state_count(const cs_trainer *t)
{
    if (!t)
        return 0;
    int n = 1; /* "step" */
    for (int i = 0; i < t->n_tp; i++)
        n += (t->tp[i].m != NULL) + (t->tp[i].v != NULL);
    return n;
}

/* State tensor `index`: 0 is the step count and the dropout stream, then each
 * parameter's moments. */
static cs_status state_at(cs_trainer *t, int index, char *name, size_t size, cs_buf **buf,
                          size_t *count)
{
    *buf = NULL;
    if (index == 0) {
        snprintf(name, size, "trainer.step");
        *count = 5;
        return CS_OK;
    }
    int k = 1;
    for (int i = 0; i < t->n_tp; i++) {
        const tparam *p = &t->tp[i];
        const cs_node *nd = &t->g->nodes[p->node];
        cs_buf *bufs[2] = {p->m, p->v};
        const char *suffix[2] = {"m", "v"};
        for (int q = 0; q < 2; q++) {
            if (!bufs[q])
                continue;
            if (k++ == index) {
                snprintf(name, size, "optim.%s.%s.%s", nd->name, nd->params[p->index].name,
                         suffix[q]);
                *buf = bufs[q];
                *count = p->count;
                return CS_OK;
            }
        }
    }
    return cs_error(CS_ERR_INVALID_ARG, "trainer state %d does not exist", index);
}

cs_status cs_trainer_state_get(cs_trainer *t, int index, char *name, size_t name_size,
                               float **data, size_t *count)
{
    cs_buf *buf = NULL;
    char tmp[160];
    if (!t || !data || !count)
        return cs_error(CS_ERR_INVALID_ARG, "cs_trainer_state_get: missing output");
    *data = NULL;
    cs_status st = state_at(t, index, tmp, sizeof tmp, &buf, count);
    if (st != CS_OK)
        return st;
    if (name)
        snprintf(name, name_size, "%s", tmp);
    float *d = malloc(*count * sizeof *d);
    if (!d)
        return cs_error(CS_ERR_NO_MEMORY, "out of host memory reading trainer state");
    if (!buf) {
        /* Step count and the dropout stream (four 16-bit parts), exact in floats. */
        d[0] = (float)t->t;
        for (int q = 0; q < 4; q++)
            d[1 + q] = (float)(uint32_t)((t->rng >> (16 * q)) & 0xFFFFu);
    } else if ((st = t->be->vt->read(t->be, buf, d, *count)) != CS_OK) {
        free(d);
        return st;
    }
    *data = d;
    return CS_OK;
}

cs_status cs_trainer_state_set(cs_trainer *t, const char *name, const float *data, size_t count)
{
    char tmp[160];
    if (!t || !name || !data)
        return cs_error(CS_ERR_INVALID_ARG, "cs_trainer_state_set: missing argument");
    int n = cs_trainer_state_count(t);
    for (int i = 0; i < n; i++) {
        cs_buf *buf = NULL;
        size_t want = 0;
        cs_status st = state_at(t, i, tmp, sizeof tmp, &buf, &want);
        if (st != CS_OK)
            return st;
        if (strcmp(tmp, name) != 0)
            continue;
        if (count != want)
            return cs_error(CS_ERR_SHAPE, "trainer state %s has %zu floats, expected %zu", name,
                            count, want);
        if (!buf) {
            if (!(data[0] >= 0.0f) || data[0] > 16777216.0f)
                return cs_error(CS_ERR_FORMAT, "trainer step %g is not a step count",
                                (double)data[0]);
            t->t = (int)data[0];
            uint64_t rng = 0;
            for (int q = 0; q < 4; q++) {
                if (!(data[1 + q] >= 0.0f && data[1 + q] < 65536.0f))
                    return cs_error(CS_ERR_FORMAT, "trainer state %s is corrupt", name);
                rng |= (uint64_t)(uint32_t)data[1 + q] << (16 * q);
            }
            t->rng = rng;
            return CS_OK;
        }
        return t->be->vt->write(t->be, buf, data, count);
    }
    return cs_error(CS_ERR_INVALID_ARG, "trainer state %s does not exist for this model and "
                    "optimizer", name);
}
