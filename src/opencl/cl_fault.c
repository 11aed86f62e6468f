/* The fault injector behind the cs_cl* wrappers of cl_fault.h: per category a
 * call counter and the call number to fail, set from CONVSCOPE_FAULT once per
 * process or by tests. Counters are atomics, so launches from several threads
 * count each call once and exactly one of them gets the failure.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "opencl/cl_fault.h"

atomic_int cs_cl_fault_on_;

static atomic_long g_count[CS_CL_FAULT_KINDS]; /* calls since the category was set */
static atomic_long g_nth[CS_CL_FAULT_KINDS];   /* call to fail, 0: none */
static atomic_long g_fired[CS_CL_FAULT_KINDS]; /* failures injected since then */

static pthread_once_t g_once = PTHREAD_ONCE_INIT;
static char g_env_error[320]; /* why CONVSCOPE_FAULT was refused, "" if it was not */

static const char *const g_names[CS_CL_FAULT_KINDS] = {"alloc", "enqueue", "build", "read", "write"};

static int valid(cs_cl_fault_kind kind)
{
    return (int)kind >= 0 && (int)kind < CS_CL_FAULT_KINDS;
}

const char *cs_cl_fault_name(cs_cl_fault_kind kind)
{
    return valid(kind) ? g_names[kind] : "?";
}

static void arm(cs_cl_fault_kind kind, long nth)
{
    atomic_store(&g_nth[kind], 0);
    atomic_store(&g_count[kind], 0);
    atomic_store(&g_fired[kind], 0);
    atomic_store(&g_nth[kind], nth > 0 ? nth : 0);
    atomic_store(&cs_cl_fault_on_, 1);
}

/* "kind:n[,kind:n...]"; all or nothing. */
static void parse_env(void)
{
    const char *env = getenv("CONVSCOPE_FAULT");
    long nth[CS_CL_FAULT_KINDS] = {0};
    const char *p = env;
    if (!env || !*env)
        return;
    while (*p) {
        int kind = -1;
        for (int k = 0; k < CS_CL_FAULT_KINDS; k++) {
            size_t len = strlen(g_names[k]);
            if (strncmp(p, g_names[k], len) == 0 && p[len] == ':') {
                kind = k;
                p += len + 1;
                break;
            }
        }
        char *end = NULL;
        errno = 0;
        long n = kind >= 0 && *p >= '0' && *p <= '9' ? strtol(p, &end, 10) : 0;
        if (kind < 0 || n < 1 || errno != 0 || (*end != ',' && *end != '\0')) {
            snprintf(g_env_error, sizeof g_env_error,
                     "invalid CONVSCOPE_FAULT=\"%.64s\": expected kind:n[,kind:n...] with kind "
                     "alloc, enqueue, build, read or write and n >= 1 (the n-th such OpenCL call "
                     "fails); hint: unset it to run without injected faults",
                     env);
            return;
        }
        nth[kind] = n;
        p = *end == ',' ? end + 1 : end;
    }
    for (int k = 0; k < CS_CL_FAULT_KINDS; k++)
        if (nth[k] > 0)
            arm((cs_cl_fault_kind)k, nth[k]);
}

cs_status cs_cl_fault_init(void)
{
    pthread_once(&g_once, parse_env);
    if (g_env_error[0])
        return cs_error(CS_ERR_INVALID_ARG, "%s", g_env_error);
    return CS_OK;
}

void cs_cl_fault_set(cs_cl_fault_kind kind, long nth)
{
    pthread_once(&g_once, parse_env); /* the environment never overrides a later set */
    if (!valid(kind))
        return;
    arm(kind, nth);
}

void cs_cl_fault_reset(void)
{
    pthread_once(&g_once, parse_env);
    atomic_store(&cs_cl_fault_on_, 0);
    for (int k = 0; k < CS_CL_FAULT_KINDS; k++) {
        atomic_store(&g_nth[k], 0);
        atomic_store(&g_count[k], 0);
        atomic_store(&g_fired[k], 0);
    }
}

long cs_cl_fault_count(cs_cl_fault_kind kind)
{
    return valid(kind) ? atomic_load(&g_count[kind]) : 0;
}

long cs_cl_fault_fired(cs_cl_fault_kind kind)
{
    return valid(kind) ? atomic_load(&g_fired[kind]) : 0;
}

cl_int cs_cl_fault_hit(cs_cl_fault_kind kind)
{
    long nth = atomic_load(&g_nth[kind]);
    long n = atomic_fetch_add(&g_count[kind], 1) + 1;
    if (nth == 0 || n != nth)
        return CL_SUCCESS;
    atomic_fetch_add(&g_fired[kind], 1);
    return kind == CS_CL_FAULT_ALLOC ? CL_MEM_OBJECT_ALLOCATION_FAILURE : CL_OUT_OF_RESOURCES;
}
