/* OpenCL device enumeration and choice: every device of every platform,
 * flattened in platform order then device order (that order is what
 * --device N and CONVSCOPE_DEVICE index), the parser for a user's device
 * string, and the lookup that names the existing devices when an index is wrong.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "opencl/cl_runtime.h"

/* Returned by the ICD loader when no platform is installed (cl_khr_icd). */
#define CS_CL_PLATFORM_NOT_FOUND_KHR (-1001)

#define CS_NO_PLATFORM_HINT                                                             \
    "no OpenCL platform found; hint: install `pocl-opencl-icd` to run on the CPU, "    \
    "or your GPU vendor's OpenCL driver, then check with `clinfo -l`; "                \
    "`--device cpu` runs the reference backend without OpenCL"

/* ------------------------------------------------------------------------ */
/* Info strings                                                             */
/* ------------------------------------------------------------------------ */

/* Copy a CL info string of `len` bytes (NUL included) into out, truncated. */
static void copy_truncated(const char *src, size_t len, char *out, size_t size)
{
    size_t n = len > 0 && src[len - 1] == '\0' ? len - 1 : len;
    if (n >= size)
        n = size - 1;
    memcpy(out, src, n);
    out[n] = '\0';
}

cs_status cs_cl_device_str(cl_device_id device, cl_device_info what, char *out, size_t size)
{
    cs_status st = CS_OK;
    size_t len = 0;
    char *tmp = NULL;
    if (!out || size == 0)
        return cs_error(CS_ERR_INVALID_ARG, "cs_cl_device_str: no output buffer");
    out[0] = '\0';
    CS_CL_CHECK(clGetDeviceInfo(device, what, 0, NULL, &len));
    tmp = malloc(len + 1);
    if (!tmp) {
        st = cs_error(CS_ERR_NO_MEMORY, "out of host memory reading a device info string");
        goto cleanup;
    }
    CS_CL_CHECK(clGetDeviceInfo(device, what, len, tmp, NULL));
    copy_truncated(tmp, len, out, size);
cleanup:
    free(tmp);
    return st;
}

cs_status cs_cl_platform_str(cl_platform_id platform, cl_platform_info what, char *out,
                             size_t size)
{
    cs_status st = CS_OK;
    size_t len = 0;
    char *tmp = NULL;
    if (!out || size == 0)
        return cs_error(CS_ERR_INVALID_ARG, "cs_cl_platform_str: no output buffer");
    out[0] = '\0';
    CS_CL_CHECK(clGetPlatformInfo(platform, what, 0, NULL, &len));
    tmp = malloc(len + 1);
    if (!tmp) {
        st = cs_error(CS_ERR_NO_MEMORY, "out of host memory reading a platform info string");
        goto cleanup;
    }
    CS_CL_CHECK(clGetPlatformInfo(platform, what, len, tmp, NULL));
    copy_truncated(tmp, len, out, size);
cleanup:
    free(tmp);
    return st;
}

/* ------------------------------------------------------------------------ */
/* Enumeration                                                              */
/* ------------------------------------------------------------------------ */

/* Every (platform, device) pair in index order. Caller frees both arrays. */
typedef struct cs_cl_device_table {
    cl_platform_id *platforms; /* per device: its platform */
    cl_device_id *devices;
    int count;
} cs_cl_device_table;

static void table_free(cs_cl_device_table *t)
{
    free(t->platforms);
    free(t->devices);
    t->platforms = NULL;
    t->devices = NULL;
    t->count = 0;
}

static cs_status table_load(cs_cl_device_table *t)
{
    cs_status st = CS_OK;
    cl_uint n_plat = 0;
    cl_platform_id *plats = NULL;
    cl_device_id *devs = NULL;
    t->platforms = NULL;
    t->devices = NULL;
    t->count = 0;

    cl_int err = clGetPlatformIDs(0, NULL, &n_plat);
    if (err == CS_CL_PLATFORM_NOT_FOUND_KHR || (err == CL_SUCCESS && n_plat == 0))
        return cs_error(CS_ERR_NO_DEVICE, CS_NO_PLATFORM_HINT);
    CS_CL_CHECK_ERR(err, "clGetPlatformIDs");
    plats = calloc(n_plat, sizeof *plats);
    if (!plats) {
        st = cs_error(CS_ERR_NO_MEMORY, "out of host memory listing OpenCL platforms");
        goto cleanup;
    }
    CS_CL_CHECK(clGetPlatformIDs(n_plat, plats, NULL));

    for (cl_uint p = 0; p < n_plat; p++) {
        cl_uint n_dev = 0;
        err = clGetDeviceIDs(plats[p], CL_DEVICE_TYPE_ALL, 0, NULL, &n_dev);
        if (err == CL_DEVICE_NOT_FOUND)
            continue; /* a platform without devices adds no index */
        CS_CL_CHECK_ERR(err, "clGetDeviceIDs");
        if (n_dev == 0)
            continue;
        free(devs);
        devs = calloc(n_dev, sizeof *devs);
        if (!devs) {
            st = cs_error(CS_ERR_NO_MEMORY, "out of host memory listing OpenCL devices");
            goto cleanup;
        }
        CS_CL_CHECK(clGetDeviceIDs(plats[p], CL_DEVICE_TYPE_ALL, n_dev, devs, NULL));
        size_t total = (size_t)t->count + n_dev;
        cl_platform_id *np = realloc(t->platforms, total * sizeof *np);
        if (np)
            t->platforms = np;
        cl_device_id *nd = realloc(t->devices, total * sizeof *nd);
        if (nd)
            t->devices = nd;
        if (!np || !nd) {
            st = cs_error(CS_ERR_NO_MEMORY, "out of host memory listing OpenCL devices");
            goto cleanup;
        }
        for (cl_uint d = 0; d < n_dev; d++) {
            t->platforms[t->count] = plats[p];
            t->devices[t->count] = devs[d];
            t->count++;
        }
    }
cleanup:
    free(plats);
    free(devs);
    if (st != CS_OK)
        table_free(t);
    return st;
}

static cs_status fill_info(cl_platform_id plat, cl_device_id dev, int index, cs_device_info *o)
{
    cs_status st = CS_OK;
    cl_device_type type = 0;
    cl_uint units = 0;
    cl_ulong global_mem = 0;
    cl_ulong max_alloc = 0;
    memset(o, 0, sizeof *o);
    o->index = index;
    if ((st = cs_cl_platform_str(plat, CL_PLATFORM_NAME, o->platform, sizeof o->platform)) ||
        (st = cs_cl_device_str(dev, CL_DEVICE_NAME, o->name, sizeof o->name)) ||
        (st = cs_cl_device_str(dev, CL_DEVICE_VENDOR, o->vendor, sizeof o->vendor)) ||
        (st = cs_cl_device_str(dev, CL_DEVICE_VERSION, o->version, sizeof o->version)) ||
        (st = cs_cl_device_str(dev, CL_DRIVER_VERSION, o->driver, sizeof o->driver)))
        goto cleanup;
    CS_CL_CHECK(clGetDeviceInfo(dev, CL_DEVICE_TYPE, sizeof type, &type, NULL));
    CS_CL_CHECK(clGetDeviceInfo(dev, CL_DEVICE_MAX_COMPUTE_UNITS, sizeof units, &units, NULL));
    CS_CL_CHECK(clGetDeviceInfo(dev, CL_DEVICE_GLOBAL_MEM_SIZE, sizeof global_mem, &global_mem,
                                NULL));
    CS_CL_CHECK(clGetDeviceInfo(dev, CL_DEVICE_MAX_MEM_ALLOC_SIZE, sizeof max_alloc, &max_alloc,
                                NULL));
    o->is_gpu = (type & CL_DEVICE_TYPE_GPU) != 0;
    o->compute_units = (int)units;
    o->global_mem_bytes = global_mem;
    o->max_alloc_bytes = max_alloc;
cleanup:
    return st;
}

cs_status cs_devices_list(cs_device_info *out, int max, int *count)
{
    cs_status st = CS_OK;
    cs_cl_device_table t = {0};
    if (!count || max < 0 || (max > 0 && !out))
        return cs_error(CS_ERR_INVALID_ARG, "cs_devices_list: need count, and out when max > 0");
    *count = 0;
    if ((st = table_load(&t)) != CS_OK)
        return st;
    for (int i = 0; i < t.count && i < max; i++)
        if ((st = fill_info(t.platforms[i], t.devices[i], i, &out[i])) != CS_OK) {
            cs_error_context(st, "OpenCL device %d", i);
            goto cleanup;
        }
    *count = t.count;
cleanup:
    table_free(&t);
    return st;
}

cs_status cs_cl_device_at(int index, cl_platform_id *platform, cl_device_id *device)
{
    cs_status st = CS_OK;
    cs_cl_device_table t = {0};
    char list[1024] = "";
    if (!platform || !device)
        return cs_error(CS_ERR_INVALID_ARG, "cs_cl_device_at: null output");
    if ((st = table_load(&t)) != CS_OK)
        return st;
    if (index >= 0 && index < t.count) {
        *platform = t.platforms[index];
        *device = t.devices[index];
        goto cleanup;
    }
    /* Name the devices there are, so the user can pick one. */
    size_t used = 0;
    for (int i = 0; i < t.count && used < sizeof list; i++) {
        char name[128] = "?";
        char plat[128] = "?";
        if (cs_cl_device_str(t.devices[i], CL_DEVICE_NAME, name, sizeof name) != CS_OK ||
            cs_cl_platform_str(t.platforms[i], CL_PLATFORM_NAME, plat, sizeof plat) != CS_OK) {
            snprintf(name, sizeof name, "?");
            snprintf(plat, sizeof plat, "?");
        }
        int n = snprintf(list + used, sizeof list - used, "%s%d: %s (%s)", i ? ", " : "", i,
                         name, plat);
        if (n < 0)
            break;
        used += (size_t)n;
    }
    st = cs_error(CS_ERR_NO_DEVICE,
                  "OpenCL device index %d does not exist; devices are: %s; "
                  "hint: pass one of these to --device (or CONVSCOPE_DEVICE), "
                  "or `cpu` for the reference backend; `convscope devices` lists them",
                  index, t.count ? list : "(none)");
cleanup:
    table_free(&t);
    return st;
}

/* ------------------------------------------------------------------------ */
/* Parsing a device choice                                                  */
/* ------------------------------------------------------------------------ */

#define CS_DEVICE_ACCEPTED                                                              \
    "expected \"cpu\" (reference backend) or a non-negative OpenCL device index "      \
    "such as 0 or 1 (see `convscope devices`)"

/* "cpu" or a plain decimal index; 0 on success, -1 if malformed. */
static int parse_one(const char *s, cs_device_choice *out)
{
    if (strcmp(s, "cpu") == 0) {
        out->reference = 1;
        out->index = 0;
        return 0;
    }
    if (*s < '0' || *s > '9')
        return -1;
    long v = 0;
    for (const char *p = s; *p; p++) {
        if (*p < '0' || *p > '9')
            return -1;
        v = v * 10 + (*p - '0');
        if (v > INT_MAX)
            return -1;
    }
    out->reference = 0;
    out->index = (int)v;
    return 0;
}

cs_status cs_device_parse(const char *spec, cs_device_choice *out)
{
    if (!out)
        return cs_error(CS_ERR_INVALID_ARG, "cs_device_parse: null output");
    out->reference = 0;
    out->index = 0;
    if (spec && *spec) {
        if (parse_one(spec, out) != 0)
            return cs_error(CS_ERR_INVALID_ARG, "invalid device \"%.64s\": " CS_DEVICE_ACCEPTED,
                            spec);
        return CS_OK;
    }
    const char *env = getenv("CONVSCOPE_DEVICE");
    if (!env || !*env)
        return CS_OK; /* default: OpenCL device 0 */
    if (parse_one(env, out) != 0) {
        out->reference = 0;
        out->index = 0;
        return cs_error(CS_ERR_INVALID_ARG,
                        "invalid CONVSCOPE_DEVICE=\"%.64s\": " CS_DEVICE_ACCEPTED
                        "; hint: fix or unset CONVSCOPE_DEVICE",
                        env);
    }
    return CS_OK;
}
