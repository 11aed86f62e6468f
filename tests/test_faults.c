/* Device faults (issue "Reliability"): each OpenCL call that can fail for the
 * device's reasons (src/opencl/cl_fault.h: alloc, enqueue, build, read, write)
 * is made to fail, one call index at a time, while sessions and trainers run
 * through the public API. Every failure must give a non-OK status and a
 * message naming the call and its CL error, release every OpenCL object it
 * made (counted by the interposers below; run under LSan for host memory),
 * and leave the library usable: the same session or trainer, or a fresh one,
 * then gives the fault-free numbers.
 *
 * usage: test_faults [--full] [-v] [scenario-substring]
 *   --full  every call index (default: at most 40 per scenario and category,
 *           the first and last five and an even spread between)
 *   -v      print the message of every injected failure
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "convscope.h"
#include "opencl/cl_fault.h"

#define BATCH 2
#define MAX_POINTS 40
#define TOL 1e-5

static int n_checks = 0, n_failed = 0, full = 0, verbose = 0;
static const cs_device_choice dev = {0, 0};

static void check(int ok, const char *fmt, ...) CS_PRINTF(2, 3);
static void check(int ok, const char *fmt, ...)
{
    n_checks++;
    if (ok)
        return;
    n_failed++;
    va_list ap;
    va_start(ap, fmt);
    printf("FAIL  ");
    vprintf(fmt, ap);
    printf("\n");
    va_end(ap);
}

static double now_s(void)
{
    struct timespec ts = {0, 0};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* ------------------------------------------------------------------------ */
/* OpenCL objects alive: the library's calls bind to these interposers,    */
/* which count and forward to the ICD loader. LSan cannot see device        */
/* objects (the driver's allocations are suppressed in tests/lsan.supp).    */
/* ------------------------------------------------------------------------ */

enum { OBJ_MEM, OBJ_PROGRAM, OBJ_KERNEL, OBJ_QUEUE, OBJ_CONTEXT, OBJ_EVENT, OBJ_KINDS };
static const char *const obj_names[OBJ_KINDS] = {"buffers", "programs", "kernels",
                                                 "queues",  "contexts", "events"};
static long live[OBJ_KINDS];

typedef void (*any_fn)(void);

/* The next definition of `name` (the ICD loader's). */
static any_fn real(const char *name)
{
    void *p = dlsym(RTLD_NEXT, name);
    any_fn f = NULL;
    if (!p) {
        fprintf(stderr, "test_faults: cannot find %s in the OpenCL library\n", name);
        exit(1);
    }
    memcpy(&f, &p, sizeof f);
    return f;
}

/* real_: the interposed function's real definition, looked up once. */
#define FORWARD(name)                                                                                        \
    static __typeof__(&name) real_ = NULL;                                                                   \
    real_ = real_ ? real_ : (__typeof__(&name))real(#name)

cl_mem clCreateBuffer(cl_context ctx, cl_mem_flags flags, size_t size, void *host, cl_int *err)
{
    FORWARD(clCreateBuffer);
    cl_mem m = real_(ctx, flags, size, host, err);
    live[OBJ_MEM] += m != NULL;
    return m;
}

cl_int clRetainMemObject(cl_mem m)
{
    FORWARD(clRetainMemObject);
    cl_int e = real_(m);
    live[OBJ_MEM] += e == CL_SUCCESS;
    return e;
}

cl_int clReleaseMemObject(cl_mem m)
{
    FORWARD(clReleaseMemObject);
    cl_int e = real_(m);
    live[OBJ_MEM] -= e == CL_SUCCESS;
    return e;
}

cl_program clCreateProgramWithSource(cl_context ctx, cl_uint n, const char **src, const size_t *len,
                                     cl_int *err)
{
    FORWARD(clCreateProgramWithSource);
    cl_program p = real_(ctx, n, src, len, err);
    live[OBJ_PROGRAM] += p != NULL;
    return p;
}

cl_program clCreateProgramWithBinary(cl_context ctx, cl_uint n, const cl_device_id *devs, const size_t *len,
                                     const unsigned char **bin, cl_int *bin_status, cl_int *err)
{
    FORWARD(clCreateProgramWithBinary);
    cl_program p = real_(ctx, n, devs, len, bin, bin_status, err);
    live[OBJ_PROGRAM] += p != NULL;
    return p;
}

cl_int clReleaseProgram(cl_program p)
{
    FORWARD(clReleaseProgram);
    cl_int e = real_(p);
    live[OBJ_PROGRAM] -= e == CL_SUCCESS;
    return e;
}

cl_kernel clCreateKernel(cl_program p, const char *name, cl_int *err)
{
    FORWARD(clCreateKernel);
    cl_kernel k = real_(p, name, err);
    live[OBJ_KERNEL] += k != NULL;
    return k;
}

cl_int clReleaseKernel(cl_kernel k)
{
    FORWARD(clReleaseKernel);
    cl_int e = real_(k);
    live[OBJ_KERNEL] -= e == CL_SUCCESS;
    return e;
}

cl_command_queue clCreateCommandQueue(cl_context ctx, cl_device_id d, cl_command_queue_properties props,
                                      cl_int *err)
{
    FORWARD(clCreateCommandQueue);
    cl_command_queue q = real_(ctx, d, props, err);
    live[OBJ_QUEUE] += q != NULL;
    return q;
}

cl_int clReleaseCommandQueue(cl_command_queue q)
{
    FORWARD(clReleaseCommandQueue);
    cl_int e = real_(q);
    live[OBJ_QUEUE] -= e == CL_SUCCESS;
    return e;
}

cl_context clCreateContext(const cl_context_properties *props, cl_uint n, const cl_device_id *devs,
                           void(CL_CALLBACK *notify)(const char *, const void *, size_t, void *), void *user,
                           cl_int *err)
{
    FORWARD(clCreateContext);
    cl_context c = real_(props, n, devs, notify, user, err);
    live[OBJ_CONTEXT] += c != NULL;
    return c;
}

cl_int clReleaseContext(cl_context c)
{
    FORWARD(clReleaseContext);
    cl_int e = real_(c);
    live[OBJ_CONTEXT] -= e == CL_SUCCESS;
    return e;
}

cl_int clEnqueueNDRangeKernel(cl_command_queue q, cl_kernel k, cl_uint dims, const size_t *offset,
                              const size_t *global, const size_t *local, cl_uint n_wait, const cl_event *wait,
                              cl_event *ev)
{
    FORWARD(clEnqueueNDRangeKernel);
    cl_int e = real_(q, k, dims, offset, global, local, n_wait, wait, ev);
    live[OBJ_EVENT] += e == CL_SUCCESS && ev != NULL;
    return e;
}

cl_int clReleaseEvent(cl_event ev)
{
    FORWARD(clReleaseEvent);
    cl_int e = real_(ev);
    live[OBJ_EVENT] -= e == CL_SUCCESS;
    return e;
}

/* Every object released since the last call? */
static void check_no_live_objects(const char *label)
{
    for (int i = 0; i < OBJ_KINDS; i++) {
        check(live[i] == 0, "%s: %ld OpenCL %s still alive after everything was freed", label, live[i],
              obj_names[i]);
        live[i] = 0;
    }
}

/* ------------------------------------------------------------------------ */
/* Models and fault-free references                                         */
/* ------------------------------------------------------------------------ */

static cs_conv2d_params conv_p(int k, int r, int pad, int groups, int bias)
{
    cs_conv2d_params p = {0};
    p.out_channels = k;
    p.kernel_h = p.kernel_w = r;
    p.stride_h = p.stride_w = 1;
    p.pad_top = p.pad_bottom = p.pad_left = p.pad_right = pad;
    p.dilation_h = p.dilation_w = 1;
    p.groups = groups;
    p.bias = bias;
    return p;
}

static cs_pool_params pool_p(int k, int stride, int pad)
{
    cs_pool_params p = {0};
    p.kernel_h = p.kernel_w = k;
    p.stride_h = p.stride_w = stride;
    p.pad_top = p.pad_bottom = p.pad_left = p.pad_right = pad;
    p.count_include_pad = 1;
    return p;
}

/* conv-BN-ReLU, an inception-style concat with a max-pool branch, an SE gate,
 * a depthwise + grouped pair, a residual add with ReLU, avg pool, dropout and
 * dense layers: every family of launcher, forward and backward. */
static cs_graph *graph_mix(void)
{
    cs_graph *g = NULL;
    if (cs_graph_create(&g, "mix") != CS_OK)
        return NULL;
    int x = cs_input(g, "input", 3, 8, 8);
    cs_conv2d_params p = conv_p(8, 3, 1, 1, 0);
    int a = cs_conv2d(g, "conv1", x, &p);
    a = cs_batchnorm(g, "bn1", a, 1e-5f);
    a = cs_act(g, "relu1", a, CS_ACT_RELU);
    p = conv_p(4, 1, 0, 1, 1);
    int b1 = cs_conv2d(g, "branch1", a, &p);
    cs_pool_params pp = pool_p(3, 1, 1);
    int b2 = cs_maxpool(g, "branch2", a, &pp);
    p = conv_p(4, 1, 0, 1, 1);
    b2 = cs_conv2d(g, "branch2_proj", b2, &p);
    int cat[2] = {b1, b2};
    int c = cs_concat(g, "cat", cat, 2);
    int s = cs_adaptive_avgpool(g, "squeeze", c, 1, 1);
    p = conv_p(8, 1, 0, 1, 1);
    s = cs_conv2d(g, "excite", s, &p);
    s = cs_act(g, "gate", s, CS_ACT_SIGMOID);
    int y = cs_scale(g, "scale", c, s);
    p = conv_p(8, 3, 1, 8, 0);
    int d = cs_conv2d(g, "dw", y, &p);
    p = conv_p(8, 1, 0, 2, 1);
    d = cs_conv2d(g, "pw", d, &p);
    d = cs_batchnorm(g, "bn2", d, 1e-5f);
    int r = cs_add(g, "res", d, a, 1);
    pp = pool_p(2, 2, 0);
    r = cs_avgpool(g, "pool", r, &pp);
    r = cs_flatten(g, "flatten", r);
    r = cs_dropout(g, "drop", r, 0.25f);
    r = cs_dense(g, "hidden", r, 16, 1);
    r = cs_act(g, "tanh", r, CS_ACT_TANH);
    cs_dense(g, "fc", r, 10, 1);
    if (cs_graph_status(g) != CS_OK || cs_graph_init_seeded(g, 11) != CS_OK) {
        cs_graph_free(g);
        return NULL;
    }
    return g;
}

static cs_graph *graph_zoo(const char *name)
{
    cs_graph *g = NULL;
    if (cs_model_build(&g, name, NULL) != CS_OK || cs_graph_init_seeded(g, 5) != CS_OK) {
        cs_graph_free(g);
        return NULL;
    }
    return g;
}

static size_t node_floats(const cs_graph *g, int node)
{
    int c = 0, h = 0, w = 0;
    cs_graph_node_shape(g, node, &c, &h, &w);
    return (size_t)BATCH * (size_t)c * (size_t)h * (size_t)w;
}

typedef struct model {
    const char *name;
    cs_graph *g;
    int sgd_profiled; /* trainer: SGD with momentum and profiling (else Adam) */
    int n_nodes, last, classes;
    size_t nx;
    float *x; /* (BATCH, C, H, W) input */
    int32_t labels[BATCH];
    float *y;      /* headless run: last node */
    float **nodes; /* stepping run: every node */
    /* trainer: losses of two steps, predicted logits, parameters after sync */
    double loss[2];
    float *logits;
    int n_params;
    float **params;
    size_t *param_count;
} model;

static void model_free(model *m)
{
    for (int i = 0; m->nodes && i < m->n_nodes; i++)
        free(m->nodes[i]);
    for (int i = 0; m->params && i < m->n_params; i++)
        free(m->params[i]);
    free(m->nodes);
    free(m->params);
    free(m->param_count);
    free(m->x);
    free(m->y);
    free(m->logits);
    cs_graph_free(m->g);
    memset(m, 0, sizeof *m);
}

/* max |a - b| / (1 + |b|) <= TOL */
static int same(const float *a, const float *b, size_t n, double *worst)
{
    double w = 0.0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)a[i] - (double)b[i]) / (1.0 + fabs((double)b[i]));
        if (!(d <= w))
            w = isnan(d) ? INFINITY : d;
    }
    if (worst)
        *worst = w;
    return w <= TOL;
}

/* Canary: a value no run computes, so an output never written is caught. */
static void fill_nan(float *a, size_t n)
{
    for (size_t i = 0; i < n; i++)
        a[i] = NAN;
}

static int all_finite(const float *a, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isfinite(a[i]))
            return 0;
    return 1;
}

/* ------------------------------------------------------------------------ */
/* One injected failure                                                     */
/* ------------------------------------------------------------------------ */

typedef struct point {
    const char *label; /* scenario/model */
    cs_cl_fault_kind kind;
    long nth;     /* 0: no fault (counting, references) */
    int surfaced; /* failures returned to the caller */
    int tainted;  /* a failure that may change later numbers (trainer steps) */
} point;

/* Does the message name the failed call and the error the injector returned? */
static int message_names_fault(cs_cl_fault_kind kind, const char *msg)
{
    switch (kind) {
    case CS_CL_FAULT_ALLOC:
        return strstr(msg, "CL_MEM_OBJECT_ALLOCATION_FAILURE") &&
               (strstr(msg, "clCreateBuffer") || strstr(msg, "allocate") || strstr(msg, "upload"));
    case CS_CL_FAULT_ENQUEUE: return strstr(msg, "CL_OUT_OF_RESOURCES") && strstr(msg, "clEnqueue");
    case CS_CL_FAULT_BUILD:
        return (strstr(msg, "CL_OUT_OF_HOST_MEMORY") && strstr(msg, "clCreateProgramWith")) ||
               (strstr(msg, "CL_OUT_OF_RESOURCES") && strstr(msg, "clBuildProgram"));
    case CS_CL_FAULT_READ: return strstr(msg, "CL_OUT_OF_RESOURCES") && strstr(msg, "clEnqueueReadBuffer");
    case CS_CL_FAULT_WRITE: return strstr(msg, "CL_OUT_OF_RESOURCES") && strstr(msg, "clEnqueueWriteBuffer");
    default: return 0;
    }
}

/* A call returned st != CS_OK: it must be the injected fault, reported
 * clearly. Disarms the injector so the caller's retry runs fault-free. */
static void on_failure(point *p, const char *stage, cs_status st)
{
    const char *msg = cs_last_error();
    long fired = p->nth > 0 ? cs_cl_fault_fired(p->kind) : 0;
    char shown[600];
    snprintf(shown, sizeof shown, "%.590s", msg);
    check(fired == 1, "%s %s:%ld: %s failed without an injected fault: %s: %s", p->label,
          cs_cl_fault_name(p->kind), p->nth, stage, cs_status_name(st), shown);
    check(msg[0] != '\0', "%s %s:%ld: %s failed (%s) with an empty cs_last_error()", p->label,
          cs_cl_fault_name(p->kind), p->nth, stage, cs_status_name(st));
    check(message_names_fault(p->kind, msg),
          "%s %s:%ld: %s: the message does not name the failed call "
          "and its error: %s",
          p->label, cs_cl_fault_name(p->kind), p->nth, stage, shown);
    if (verbose)
        printf("  %s %s:%ld %s: %s\n", p->label, cs_cl_fault_name(p->kind), p->nth, stage, msg);
    p->surfaced++;
    cs_cl_fault_reset();
}

/* Runs `call`; on failure checks it and runs it once more without the fault. */
#define STEP(p, stage, call)                                                                                 \
    do {                                                                                                     \
        cs_status st_ = (call);                                                                              \
        if (st_ != CS_OK) {                                                                                  \
            on_failure((p), (stage), st_);                                                                   \
            if ((st_ = (call)) != CS_OK) {                                                                   \
                check(0, "%s %s:%ld: %s still fails after the fault was cleared: %s", (p)->label,            \
                      cs_cl_fault_name((p)->kind), (p)->nth, (stage), cs_last_error());                      \
                goto done;                                                                                   \
            }                                                                                                \
        }                                                                                                    \
    } while (0)

/* ------------------------------------------------------------------------ */
/* Scenarios                                                                */
/* ------------------------------------------------------------------------ */

/* (1) headless session: create, set input, run, read the logits. */
static void sc_run(model *m, point *p, int reference)
{
    cs_session *s = NULL;
    float *y = malloc(node_floats(m->g, m->last) * sizeof *y);
    size_t ny = node_floats(m->g, m->last);
    if (!y)
        return;
    fill_nan(y, ny);
    cs_status st = cs_session_create(&s, m->g, dev, BATCH, 0);
    if (st != CS_OK) {
        check(s == NULL, "%s: a failed cs_session_create left a session", p->label);
        on_failure(p, "cs_session_create", st);
        STEP(p, "cs_session_create (fresh)", cs_session_create(&s, m->g, dev, BATCH, 0));
    }
    STEP(p, "cs_session_set_input", cs_session_set_input(s, m->x, m->nx));
    STEP(p, "cs_session_run", cs_session_run(s));
    STEP(p, "cs_session_read", cs_session_read(s, m->last, y, ny));
    if (reference) {
        m->y = y;
        y = NULL;
    } else {
        double worst = 0.0;
        int ok = same(y, m->y, ny, &worst);
        check(ok, "%s %s:%ld: logits differ from the fault-free run by %.3g", p->label,
              cs_cl_fault_name(p->kind), p->nth, worst);
    }
done:
    cs_session_free(s);
    free(y);
}

/* (2) stepping session (every activation kept, profiled): step to each node
 * in turn and read it. */
static void sc_step(model *m, point *p, int reference)
{
    cs_session *s = NULL;
    float *y = NULL;
    cs_status st = cs_session_create(&s, m->g, dev, BATCH, CS_SESSION_KEEP_ALL | CS_SESSION_PROFILE);
    if (st != CS_OK) {
        check(s == NULL, "%s: a failed cs_session_create left a session", p->label);
        on_failure(p, "cs_session_create", st);
        STEP(p, "cs_session_create (fresh)",
             cs_session_create(&s, m->g, dev, BATCH, CS_SESSION_KEEP_ALL | CS_SESSION_PROFILE));
    }
    STEP(p, "cs_session_set_input", cs_session_set_input(s, m->x, m->nx));
    for (int i = 0; i < m->n_nodes; i++) {
        size_t n = node_floats(m->g, i);
        y = malloc(n * sizeof *y);
        if (!y)
            goto done;
        fill_nan(y, n);
        STEP(p, "cs_session_step_to", cs_session_step_to(s, i));
        check(cs_session_progress(s) == i, "%s %s:%ld: progress %d after stepping to %d", p->label,
              cs_cl_fault_name(p->kind), p->nth, cs_session_progress(s), i);
        STEP(p, "cs_session_read", cs_session_read(s, i, y, n));
        if (reference) {
            m->nodes[i] = y;
            y = NULL;
            continue;
        }
        double worst = 0.0;
        int ok = same(y, m->nodes[i], n, &worst);
        check(ok,
              "%s %s:%ld: node %d (%s) differs from the fault-free run "
              "by %.3g",
              p->label, cs_cl_fault_name(p->kind), p->nth, i, cs_graph_node_name(m->g, i), worst);
        free(y);
        y = NULL;
    }
done:
    cs_session_free(s);
    free(y);
}

/* (3) trainer on a copy of the graph: create, two steps, predict, sync (Adam,
 * or SGD with momentum and profiling). A
 * failed step may have applied part of itself (batchnorm running statistics,
 * some parameters): the trainer must go on working, and a fresh trainer must
 * give the fault-free numbers. */
static void sc_train(model *m, point *p, int reference)
{
    cs_graph *g = NULL;
    cs_trainer *t = NULL;
    cs_train_options o;
    size_t nl = (size_t)BATCH * (size_t)m->classes;
    float *logits = malloc(nl * sizeof *logits);
    double loss[2] = {0.0, 0.0};
    if (!logits || cs_graph_clone(m->g, &g) != CS_OK) {
        check(0, "%s: cannot copy the graph: %s", p->label, cs_last_error());
        free(logits);
        return;
    }
    fill_nan(logits, nl);
    cs_train_options_default(&o);
    o.batch = BATCH;
    if (m->sgd_profiled) {
        o.profile = 1; /* profiling events and their release after failures */
    } else {
        o.optimizer = CS_OPT_ADAM;
        o.adam.lr = 1e-2;
    }
    cs_status st = cs_trainer_create(&t, g, dev, &o);
    if (st != CS_OK) {
        check(t == NULL, "%s: a failed cs_trainer_create left a trainer", p->label);
        on_failure(p, "cs_trainer_create", st);
        STEP(p, "cs_trainer_create (fresh)", cs_trainer_create(&t, g, dev, &o));
    }
    for (int k = 0; k < 2; k++) {
        st = cs_trainer_step(t, m->x, m->nx, m->labels, &loss[k], NULL);
        if (st != CS_OK) {
            on_failure(p, "cs_trainer_step", st);
            p->tainted = 1;
            STEP(p, "cs_trainer_step (again)", cs_trainer_step(t, m->x, m->nx, m->labels, &loss[k], NULL));
        }
        check(isfinite(loss[k]), "%s %s:%ld: step %d loss %g", p->label, cs_cl_fault_name(p->kind), p->nth,
              k + 1, loss[k]);
    }
    STEP(p, "cs_trainer_predict", cs_trainer_predict(t, m->x, m->nx, logits, nl));
    STEP(p, "cs_trainer_sync_weights", cs_trainer_sync_weights(t));
    if (reference) {
        int k = 0;
        m->loss[0] = loss[0];
        m->loss[1] = loss[1];
        m->logits = logits;
        logits = NULL;
        for (int i = 0; i < m->n_nodes; i++)
            for (int j = 0; j < cs_graph_param_count(g, i); j++, k++) {
                cs_param_info pi;
                cs_graph_param(g, i, j, &pi);
                m->params[k] = malloc((pi.count ? pi.count : 1) * sizeof(float));
                if (m->params[k])
                    memcpy(m->params[k], pi.data, pi.count * sizeof(float));
                m->param_count[k] = pi.count;
            }
        goto done;
    }
    if (p->tainted) {
        check(all_finite(logits, nl), "%s %s:%ld: predictions after a failed step are not finite", p->label,
              cs_cl_fault_name(p->kind), p->nth);
        goto done;
    }
    double worst = 0.0;
    for (int k = 0; k < 2; k++)
        check(fabs(loss[k] - m->loss[k]) <= TOL * (1.0 + fabs(m->loss[k])),
              "%s %s:%ld: step %d loss %.8g, fault-free %.8g", p->label, cs_cl_fault_name(p->kind), p->nth,
              k + 1, loss[k], m->loss[k]);
    int ok = same(logits, m->logits, nl, &worst);
    check(ok, "%s %s:%ld: predictions differ from the fault-free run by %.3g", p->label,
          cs_cl_fault_name(p->kind), p->nth, worst);
    for (int i = 0, k = 0; i < m->n_nodes; i++)
        for (int j = 0; j < cs_graph_param_count(g, i); j++, k++) {
            cs_param_info pi;
            cs_graph_param(g, i, j, &pi);
            ok = pi.count == m->param_count[k] && same(pi.data, m->params[k], pi.count, &worst);
            check(ok, "%s %s:%ld: synced %s.%s differs from the fault-free run by %.3g", p->label,
                  cs_cl_fault_name(p->kind), p->nth, cs_graph_node_name(g, i), pi.name, worst);
        }
done:
    cs_trainer_free(t);
    cs_graph_free(g);
    free(logits);
}

typedef void (*scenario_fn)(model *m, point *p, int reference);

/* ------------------------------------------------------------------------ */
/* Sweeps                                                                   */
/* ------------------------------------------------------------------------ */

/* Call indices to inject at: all of 1..n, or the first and last five and an
 * even spread, MAX_POINTS in all. Returns how many. */
static int pick_points(long n, long *out)
{
    int k = 0;
    if (full || n <= MAX_POINTS) {
        for (long i = 1; i <= n; i++)
            out[k++] = i;
        return k;
    }
    for (long i = 1; i <= 5; i++)
        out[k++] = i;
    const int spread = MAX_POINTS - 10;
    for (int i = 1; i <= spread; i++) {
        long v = 5 + (long)((double)i * (double)(n - 10) / (double)(spread + 1) + 0.5);
        if (v > out[k - 1] && v <= n - 5)
            out[k++] = v;
    }
    for (long i = n - 4; i <= n; i++)
        out[k++] = i;
    return k;
}

/* Counts the calls of `kind` a fault-free run makes, then fails each picked
 * one in a run of its own. */
static void sweep(const char *scenario, model *m, scenario_fn fn, cs_cl_fault_kind kind)
{
    char label[96];
    snprintf(label, sizeof label, "%s/%s", scenario, m->name);
    double t0 = now_s();
    point counting = {label, kind, 0, 0, 0};
    cs_cl_fault_set(kind, 0);
    fn(m, &counting, 0);
    long n = cs_cl_fault_count(kind);
    cs_cl_fault_reset();
    check_no_live_objects(label);
    if (n == 0) {
        printf("%-22s %-8s no calls\n", label, cs_cl_fault_name(kind));
        return;
    }
    long *pts = malloc((size_t)(full ? n : (n < MAX_POINTS ? n : MAX_POINTS)) * sizeof *pts);
    if (!pts)
        return;
    int np = pick_points(n, pts);
    int surfaced = 0, tainted = 0;
    for (int i = 0; i < np; i++) {
        point p = {label, kind, pts[i], 0, 0};
        cs_cl_fault_set(kind, pts[i]);
        fn(m, &p, 0);
        check(cs_cl_fault_fired(kind) == 1 || p.surfaced == 1,
              "%s %s:%ld: the fault was not injected (the run made %ld calls, %ld counted)", label,
              cs_cl_fault_name(kind), pts[i], n, cs_cl_fault_count(kind));
        check(p.surfaced == 1, "%s %s:%ld: the injected failure surfaced %d times (expected once)", label,
              cs_cl_fault_name(kind), pts[i], p.surfaced);
        cs_cl_fault_reset();
        if (p.tainted) {
            /* A fresh trainer after a failed step must match the fault-free run. */
            point fresh = {label, kind, 0, 0, 0};
            fn(m, &fresh, 0);
            tainted++;
        }
        check_no_live_objects(label);
        surfaced += p.surfaced;
    }
    char note[64] = "";
    if (tainted)
        snprintf(note, sizeof note, " (%d in a step: fresh trainer checked)", tainted);
    printf("%-22s %-8s %3d of %4ld call(s) failed: %d reported%s  %.1f s\n", label, cs_cl_fault_name(kind),
           np, n, surfaced, note, now_s() - t0);
    free(pts);
}

static int model_init(model *m, const char *name, cs_graph *g)
{
    memset(m, 0, sizeof *m);
    m->name = name;
    m->g = g;
    if (!g)
        return -1;
    m->n_nodes = cs_graph_node_count(g);
    m->last = m->n_nodes - 1;
    int c = 0, h = 0, w = 0;
    cs_graph_node_shape(g, m->last, &c, &h, &w);
    m->classes = c;
    m->nx = node_floats(g, cs_graph_input(g));
    m->x = malloc(m->nx * sizeof *m->x);
    m->nodes = calloc((size_t)m->n_nodes, sizeof *m->nodes);
    for (int i = 0; i < m->n_nodes; i++)
        m->n_params += cs_graph_param_count(g, i);
    m->params = calloc((size_t)m->n_params + 1, sizeof *m->params);
    m->param_count = calloc((size_t)m->n_params + 1, sizeof *m->param_count);
    if (!m->x || !m->nodes || !m->params || !m->param_count)
        return -1;
    cs_seeded_uniform(42, "test_faults.input", m->x, m->nx);
    for (int b = 0; b < BATCH; b++)
        m->labels[b] = (int32_t)((3 * b + 1) % (c > 0 ? c : 1));
    return 0;
}

/* Fault-free reference of one scenario (the injector off). */
static int reference(model *m, scenario_fn fn, const char *scenario)
{
    char label[96];
    snprintf(label, sizeof label, "%s/%s reference", scenario, m->name);
    point p = {label, CS_CL_FAULT_ALLOC, 0, 0, 0};
    int before = n_failed;
    fn(m, &p, 1);
    check(p.surfaced == 0, "%s: failed without a fault", label);
    check_no_live_objects(label);
    return n_failed == before ? 0 : -1;
}

/* ------------------------------------------------------------------------ */
/* (4) Program build                                                        */
/* ------------------------------------------------------------------------ */

/* Fails the program creation and build calls of cs_session_create: from
 * source (the cache off) the session must fail cleanly and a later one work;
 * loading a cached binary, a failure is a cache miss and the program is
 * rebuilt from source, so the session must come up with the right numbers. */
static void sweep_build(model *m)
{
    const char *label = "build/lenet5";
    char tmpl[] = "/tmp/convscope-faults-XXXXXX";
    char *old_dir = getenv("CONVSCOPE_CACHE_DIR") ? strdup(getenv("CONVSCOPE_CACHE_DIR")) : NULL;
    double t0 = now_s();

    /* From source. */
    setenv("CONVSCOPE_NO_CACHE", "1", 1);
    cs_session *s = NULL;
    cs_cl_fault_set(CS_CL_FAULT_BUILD, 0);
    cs_status st = cs_session_create(&s, m->g, dev, BATCH, 0);
    long n = cs_cl_fault_count(CS_CL_FAULT_BUILD);
    cs_cl_fault_reset();
    check(st == CS_OK, "%s: fault-free build failed: %s", label, cs_last_error());
    cs_session_free(s);
    s = NULL;
    check(n >= 2, "%s: %ld build calls from source (expected create + build)", label, n);
    for (long i = 1; i <= n; i++) {
        point p = {label, CS_CL_FAULT_BUILD, i, 0, 0};
        cs_cl_fault_set(CS_CL_FAULT_BUILD, i);
        st = cs_session_create(&s, m->g, dev, BATCH, 0);
        if (st == CS_OK)
            check(0, "%s build:%ld: cs_session_create succeeded with its program build failing", label, i);
        else
            on_failure(&p, "cs_session_create", st);
        check(s == NULL, "%s build:%ld: a failed cs_session_create left a session", label, i);
        cs_session_free(s);
        s = NULL;
        cs_cl_fault_reset();
        check_no_live_objects(label);
    }
    unsetenv("CONVSCOPE_NO_CACHE");
    /* The library works afterwards (program from the test's cache). */
    point after = {label, CS_CL_FAULT_BUILD, 0, 0, 0};
    sc_run(m, &after, 0);
    printf("%-22s %-8s %3ld of %4ld call(s) failed: %d reported (program from source)  %.1f s\n", label,
           "build", n, n, (int)n, now_s() - t0);

    /* From a cached binary: a failure is a miss, rebuilt from source. */
    t0 = now_s();
    if (!mkdtemp(tmpl)) {
        check(0, "%s: cannot make a temporary cache directory", label);
        free(old_dir);
        return;
    }
    setenv("CONVSCOPE_CACHE_DIR", tmpl, 1);
    point fill = {label, CS_CL_FAULT_BUILD, 0, 0, 0};
    sc_run(m, &fill, 0); /* builds and writes the entry */
    cs_cl_fault_set(CS_CL_FAULT_BUILD, 0);
    st = cs_session_create(&s, m->g, dev, BATCH, 0);
    long nc = cs_cl_fault_count(CS_CL_FAULT_BUILD);
    cs_cl_fault_reset();
    cs_session_free(s);
    s = NULL;
    check(st == CS_OK && nc >= 2, "%s: loading the cached program made %ld build calls: %s", label, nc,
          st == CS_OK ? "" : cs_last_error());
    for (long i = 1; i <= nc; i++) {
        point p = {label, CS_CL_FAULT_BUILD, i, 0, 0};
        cs_cl_fault_set(CS_CL_FAULT_BUILD, i);
        sc_run(m, &p, 0); /* must not fail: the cache miss is rebuilt */
        check(cs_cl_fault_fired(CS_CL_FAULT_BUILD) == 1, "%s build:%ld (cached): the fault was not injected",
              label, i);
        check(p.surfaced == 0,
              "%s build:%ld (cached): a failure loading the cached program was not recovered "
              "by building from source",
              label, i);
        cs_cl_fault_reset();
        check_no_live_objects(label);
    }
    /* Remove the entries the runs wrote, then the directory. */
    char cmd[160];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpl);
    check(system(cmd) == 0, "%s: cannot remove %s", label, tmpl);
    if (old_dir)
        setenv("CONVSCOPE_CACHE_DIR", old_dir, 1);
    else
        unsetenv("CONVSCOPE_CACHE_DIR");
    free(old_dir);
    printf("%-22s %-8s %3ld of %4ld call(s) failed: 0 reported, all rebuilt from source (cached binary)  "
           "%.1f s\n",
           label, "build", nc, nc, now_s() - t0);
}

/* ------------------------------------------------------------------------ */

int main(int argc, char **argv)
{
    const char *filter = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--full") == 0)
            full = 1;
        else if (strcmp(argv[i], "-v") == 0)
            verbose = 1;
        else
            filter = argv[i];
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    /* CLBlast (GPU builds) makes and caches OpenCL objects of its own, which the
     * counters above would see; its calls are not behind the injector anyway. */
    setenv("CONVSCOPE_CLBLAST", "0", 1);
    int n_dev = 0;
    if (cs_devices_list(NULL, 0, &n_dev) != CS_OK || n_dev < 1) {
        printf("SKIP: no OpenCL device: %s\n", cs_last_error());
        return 77;
    }
    if (getenv("CONVSCOPE_FAULT")) {
        printf("test_faults: unset CONVSCOPE_FAULT: the test arms the injector itself\n");
        return 1;
    }
    double t0 = now_s();
    static const cs_cl_fault_kind run_kinds[] = {CS_CL_FAULT_ALLOC, CS_CL_FAULT_ENQUEUE, CS_CL_FAULT_READ,
                                                 CS_CL_FAULT_WRITE};
    struct {
        const char *scenario;
        scenario_fn fn;
        const char *model;
        int sgd_profiled;
    } plan[] = {
        {"run", sc_run, "lenet5", 0},     {"run", sc_run, "mix", 0},   {"run", sc_run, "fashion_resnet8", 0},
        {"step", sc_step, "lenet5", 0},   {"step", sc_step, "mix", 0}, {"train", sc_train, "mix", 0},
        {"train", sc_train, "lenet5", 1},
    };
    for (size_t i = 0; i < sizeof plan / sizeof plan[0]; i++) {
        char label[96];
        snprintf(label, sizeof label, "%s/%s", plan[i].scenario, plan[i].model);
        if (filter && !strstr(label, filter))
            continue;
        model m;
        cs_graph *g = strcmp(plan[i].model, "mix") == 0 ? graph_mix() : graph_zoo(plan[i].model);
        int ok = model_init(&m, plan[i].model, g) == 0;
        m.sgd_profiled = plan[i].sgd_profiled;
        if (!ok || reference(&m, plan[i].fn, plan[i].scenario) != 0) {
            check(0, "%s: cannot set up the fault-free run: %s", label, cs_last_error());
            model_free(&m);
            continue;
        }
        for (size_t k = 0; k < sizeof run_kinds / sizeof run_kinds[0]; k++)
            sweep(plan[i].scenario, &m, plan[i].fn, run_kinds[k]);
        model_free(&m);
    }
    if (!filter || strstr("build/lenet5", filter)) {
        model m;
        if (model_init(&m, "lenet5", graph_zoo("lenet5")) != 0 || reference(&m, sc_run, "build") != 0)
            check(0, "build/lenet5: cannot set up the fault-free run: %s", cs_last_error());
        else
            sweep_build(&m);
        model_free(&m);
    }
    printf("%.1f s\n%d checks, %d failed\n", now_s() - t0, n_checks, n_failed);
    return n_failed == 0 ? 0 : 1;
}
