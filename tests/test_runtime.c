/* Runtime tests on whatever OpenCL device 0 is (PoCL in CI): device listing and
 * choice parsing, the error for a device index that does not exist, CL error
 * names, kernel launches and profiling events, the OpenCL backend's buffers,
 * and the program binary cache (cold build, warm load, and three kinds of
 * corrupt entry that must each be rebuilt and rewritten).
 */
#include <dirent.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "convscope.h"
#include "core/backend.h"
#include "cs_config.h"
#include "opencl/cl_runtime.h"

static int g_pass = 0;
static int g_fail = 0;

static void check(int ok, const char *fmt, ...) CS_PRINTF(2, 3);
static void check(int ok, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    printf("%s ", ok ? "ok  " : "FAIL");
    vprintf(fmt, ap);
    printf("\n");
    va_end(ap);
    if (ok)
        g_pass++;
    else
        g_fail++;
    fflush(stdout);
}

/* ------------------------------------------------------------------------ */
/* Files                                                                    */
/* ------------------------------------------------------------------------ */

static void remove_tree(const char *path)
{
    struct stat sb;
    if (lstat(path, &sb) != 0)
        return;
    if (S_ISDIR(sb.st_mode)) {
        DIR *d = opendir(path);
        struct dirent *e = NULL;
        while (d && (e = readdir(d)) != NULL) {
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                continue;
            char child[2048];
            snprintf(child, sizeof child, "%s/%s", path, e->d_name);
            remove_tree(child);
        }
        if (d)
            closedir(d);
        rmdir(path);
    } else {
        unlink(path);
    }
}

static int write_file(const char *path, const void *data, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return -1;
    size_t put = fwrite(data, 1, n, f);
    return (fclose(f) == 0 && put == n) ? 0 : -1;
}

/* Whole file; caller frees. NULL if unreadable. */
static unsigned char *read_file(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    unsigned char *buf = NULL;
    long size = 0;
    *n = 0;
    if (!f)
        return NULL;
    if (fseek(f, 0, SEEK_END) == 0 && (size = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0 &&
        (buf = malloc((size_t)size + 1)) != NULL &&
        fread(buf, 1, (size_t)size, f) != (size_t)size) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    if (buf)
        *n = (size_t)size;
    return buf;
}

/* The cache file format, as cl_program.c writes it: "CSPROG1\0", 16-byte
 * key, payload length (u64 LE), FNV-1a 64 of the payload (u64 LE), payload. */
#define HDR 40

static uint64_t fnv1a64(const unsigned char *p, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 0x100000001b3ull;
    return h;
}

static uint64_t get_u64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

static void put_u64(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

/* 1 if the file is a well-formed cache entry (header consistent, checksum ok). */
static int cache_file_valid(const char *path, size_t *payload)
{
    size_t n = 0;
    unsigned char *b = read_file(path, &n);
    int ok = b && n > HDR && memcmp(b, "CSPROG1", 8) == 0 && get_u64(b + 24) == n - HDR &&
             get_u64(b + 32) == fnv1a64(b + HDR, n - HDR);
    if (payload)
        *payload = ok ? n - HDR : 0;
    free(b);
    return ok;
}

/* ------------------------------------------------------------------------ */
/* Devices                                                                  */
/* ------------------------------------------------------------------------ */

static int test_devices(cs_device_info *first)
{
    int count = -1;
    cs_status st = cs_devices_list(NULL, 0, &count);
    check(st == CS_OK && count >= 1, "cs_devices_list finds at least one device (%d): %s",
          count, st == CS_OK ? "" : cs_last_error());
    if (st != CS_OK || count < 1)
        return 0;
    cs_device_info *all = calloc((size_t)count, sizeof *all);
    int again = -1;
    st = all ? cs_devices_list(all, count, &again) : CS_ERR_NO_MEMORY;
    check(st == CS_OK && again == count, "cs_devices_list fills %d entries", count);
    for (int i = 0; st == CS_OK && i < count; i++) {
        printf("     device %d: %s (%s), %s, driver %s, %s, %d CUs, %.0f MiB\n", all[i].index,
               all[i].name, all[i].platform, all[i].version, all[i].driver,
               all[i].is_gpu ? "GPU" : "not a GPU", all[i].compute_units,
               (double)all[i].global_mem_bytes / 1048576.0);
        check(all[i].index == i && all[i].name[0] && all[i].platform[0] &&
                  all[i].max_alloc_bytes > 0,
              "device %d has index, name, platform and max alloc", i);
    }
    if (st == CS_OK)
        *first = all[0];
    free(all);
    return count;
}

static void test_parse(void)
{
    cs_device_choice ch = {-1, -1};
    unsetenv("CONVSCOPE_DEVICE");

    check(cs_device_parse("cpu", &ch) == CS_OK && ch.reference == 1, "parse \"cpu\" -> reference");
    check(cs_device_parse("0", &ch) == CS_OK && !ch.reference && ch.index == 0, "parse \"0\"");
    check(cs_device_parse("12", &ch) == CS_OK && !ch.reference && ch.index == 12, "parse \"12\"");
    check(cs_device_parse(NULL, &ch) == CS_OK && !ch.reference && ch.index == 0,
          "parse NULL -> device 0");
    check(cs_device_parse("", &ch) == CS_OK && !ch.reference && ch.index == 0,
          "parse \"\" -> device 0");

    static const char *bad[] = {"-1", "gpu", "1x", " 1", "+1", "CPU0", "99999999999", "0.5"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cs_status st = cs_device_parse(bad[i], &ch);
        check(st == CS_ERR_INVALID_ARG && strstr(cs_last_error(), "cpu") &&
                  strstr(cs_last_error(), "index"),
              "parse \"%s\" -> CS_ERR_INVALID_ARG saying what is accepted", bad[i]);
    }
    printf("     message: %s\n", cs_last_error());
    check(cs_device_parse("0", NULL) == CS_ERR_INVALID_ARG, "parse with null output");

    setenv("CONVSCOPE_DEVICE", "3", 1);
    check(cs_device_parse(NULL, &ch) == CS_OK && !ch.reference && ch.index == 3,
          "CONVSCOPE_DEVICE=3, NULL -> device 3");
    check(cs_device_parse("", &ch) == CS_OK && !ch.reference && ch.index == 3,
          "CONVSCOPE_DEVICE=3, \"\" -> device 3");
    check(cs_device_parse("1", &ch) == CS_OK && !ch.reference && ch.index == 1,
          "CONVSCOPE_DEVICE=3, explicit \"1\" wins");
    setenv("CONVSCOPE_DEVICE", "cpu", 1);
    check(cs_device_parse(NULL, &ch) == CS_OK && ch.reference == 1,
          "CONVSCOPE_DEVICE=cpu -> reference");
    setenv("CONVSCOPE_DEVICE", "fast", 1);
    cs_status st = cs_device_parse(NULL, &ch);
    check(st == CS_ERR_INVALID_ARG && strstr(cs_last_error(), "CONVSCOPE_DEVICE"),
          "CONVSCOPE_DEVICE=fast -> CS_ERR_INVALID_ARG naming the variable: %s", cs_last_error());
    unsetenv("CONVSCOPE_DEVICE");
}

static void test_missing_device(int count, const cs_device_info *first)
{
    cs_cl_context *c = NULL;
    char want[300];
    snprintf(want, sizeof want, "0: %s (%s)", first->name, first->platform);
    int idx[2] = {count + 5, -1};
    for (int i = 0; i < 2; i++) {
        cs_status st = cs_cl_open(&c, idx[i], 0);
        check(st == CS_ERR_NO_DEVICE && c == NULL && strstr(cs_last_error(), "does not exist") &&
                  strstr(cs_last_error(), want),
              "open device %d -> CS_ERR_NO_DEVICE listing \"%s\"", idx[i], want);
    }
    printf("     message: %s\n", cs_last_error());
}

static void test_error_names(void)
{
    check(strcmp(cs_cl_error_name(CL_SUCCESS), "CL_SUCCESS") == 0, "error name CL_SUCCESS");
    check(strcmp(cs_cl_error_name(-5), "CL_OUT_OF_RESOURCES") == 0, "error name -5");
    check(strcmp(cs_cl_error_name(-30), "CL_INVALID_VALUE") == 0, "error name -30");
    check(strcmp(cs_cl_error_name(-54), "CL_INVALID_WORK_GROUP_SIZE") == 0, "error name -54");
    check(strcmp(cs_cl_error_name(-68), "CL_INVALID_DEVICE_PARTITION_COUNT") == 0,
          "error name -68");
    check(strcmp(cs_cl_error_name(-1001), "CL_PLATFORM_NOT_FOUND_KHR") == 0,
          "error name -1001");
    check(strcmp(cs_cl_error_name(-12345), "unknown OpenCL error") == 0, "unknown error code");
    int named = 0;
    for (int e = -68; e <= 0; e++)
        named += strcmp(cs_cl_error_name(e), "unknown OpenCL error") != 0;
    check(named == 20 + 39, "all OpenCL 1.2 codes 0..-19 and -30..-68 have names (%d)", named);
}

/* ------------------------------------------------------------------------ */
/* Program cache                                                            */
/* ------------------------------------------------------------------------ */

/* Opens device 0; returns from_cache (or -1 on failure) and the build time. */
static int open_once(const char *what, double *ms)
{
    cs_cl_context *c = NULL;
    cs_status st = cs_cl_open(&c, 0, 0);
    if (st != CS_OK) {
        check(0, "%s: cs_cl_open: %s", what, cs_last_error());
        return -1;
    }
    int from_cache = c->from_cache;
    if (ms)
        *ms = c->build_ms;
    printf("     %s: %.1f ms, from_cache %d; cache: %s\n", what, c->build_ms, from_cache,
           cs_cl_cache_note());
    cs_cl_close(c);
    return from_cache;
}

static int cache_path(char *path, size_t size)
{
    cs_cl_context *c = NULL;
    path[0] = '\0';
    if (cs_cl_open(&c, 0, 0) != CS_OK)
        return -1;
    cs_status st = cs_cl_cache_path(c, "-cl-std=CL1.2", path, size);
    cs_cl_close(c);
    return st == CS_OK && path[0] ? 0 : -1;
}

/* After damaging the entry: the next open rebuilds, the one after loads. */
static void expect_rebuild(const char *what, const char *path)
{
    int fc = open_once(what, NULL);
    check(fc == 0, "%s: open still works, from_cache == 0", what);
    check(cache_file_valid(path, NULL), "%s: entry rewritten valid", what);
    fc = open_once("reopen", NULL);
    check(fc == 1, "%s: next open loads it, from_cache == 1", what);
}

static void test_cache(const char *tmp)
{
    cs_status st0 = CS_OK;
    char dir[1024];
    char path[1400];
    double cold = 0.0, warm = 0.0;
    snprintf(dir, sizeof dir, "%s/cache/sub", tmp); /* does not exist yet: mkdir -p */
    setenv("CONVSCOPE_CACHE_DIR", dir, 1);
    setenv("CONVSCOPE_CACHE", "on", 1); /* auto is off on PoCL: see below */

    int fc = open_once("cold", &cold);
    check(fc == 0, "cold open builds from source (from_cache == 0)");
    check(cache_path(path, sizeof path) == 0 && strncmp(path, dir, strlen(dir)) == 0,
          "cache path is under CONVSCOPE_CACHE_DIR: %s", path);
    size_t payload = 0;
    int valid = cache_file_valid(path, &payload);
    check(valid, "cache entry written and valid (%zu byte binary)", payload);
    fc = open_once("warm", &warm);
    check(fc == 1, "warm open loads from cache (from_cache == 1)");
    printf("     program build: cold %.1f ms, warm %.1f ms\n", cold, warm);

    /* 1. truncated */
    if (truncate(path, 20) != 0)
        check(0, "truncate %s", path);
    expect_rebuild("truncated entry", path);

    /* 2. payload bytes flipped (checksum must catch it) */
    size_t n = 0;
    unsigned char *b = read_file(path, &n);
    if (b && n > HDR + 64) {
        for (size_t i = 0; i < 16; i++)
            b[HDR + (n - HDR) / 2 + i] ^= 0x5a;
        check(write_file(path, b, n) == 0, "flip 16 payload bytes");
    } else {
        check(0, "read entry to flip bytes");
    }
    free(b);
    expect_rebuild("flipped payload", path);

    /* 3. garbage behind a header that passes every check: the driver must
     * reject it, and that too is only a miss. */
    b = read_file(path, &n);
    if (b && n > HDR) {
        unsigned char fake[HDR + 4096];
        memcpy(fake, b, 24); /* magic and the real key */
        for (size_t i = 0; i < 4096; i++)
            fake[HDR + i] = (unsigned char)(i * 131u + 7u);
        put_u64(fake + 24, 4096);
        put_u64(fake + 32, fnv1a64(fake + HDR, 4096));
        check(write_file(path, fake, sizeof fake) == 0 && cache_file_valid(path, NULL),
              "write garbage payload with a valid header");
    } else {
        check(0, "read entry to fake it");
    }
    free(b);
    expect_rebuild("garbage with valid header", path);

    /* Caching off: no path, the note says why. */
    setenv("CONVSCOPE_NO_CACHE", "1", 1);
    cs_cl_context *c = NULL;
    char p2[512] = "x";
    if (cs_cl_open(&c, 0, 0) == CS_OK) {
        check(c->from_cache == 0, "CONVSCOPE_NO_CACHE=1: built from source");
        check(cs_cl_cache_path(c, "-cl-std=CL1.2", p2, sizeof p2) == CS_OK && p2[0] == '\0' &&
                  strstr(cs_cl_cache_note(), "disabled"),
              "CONVSCOPE_NO_CACHE=1: no cache path; note \"%s\"", cs_cl_cache_note());
        cs_cl_close(c);
    } else {
        check(0, "CONVSCOPE_NO_CACHE=1 open: %s", cs_last_error());
    }
    unsetenv("CONVSCOPE_NO_CACHE");

    /* CONVSCOPE_CACHE: off, auto (off on PoCL only), not understood. */
    setenv("CONVSCOPE_CACHE", "off", 1);
    c = NULL;
    if (cs_cl_open(&c, 0, 0) == CS_OK) {
        check(c->from_cache == 0 && strstr(cs_cl_cache_note(), "CONVSCOPE_CACHE=off"),
              "CONVSCOPE_CACHE=off: built from source; note \"%s\"", cs_cl_cache_note());
        cs_cl_close(c);
    } else {
        check(0, "CONVSCOPE_CACHE=off open: %s", cs_last_error());
    }
    setenv("CONVSCOPE_CACHE", "auto", 1);
    c = NULL;
    if (cs_cl_open(&c, 0, 0) == CS_OK) {
        const int pocl = strstr(c->platform_name, "Portable Computing Language") != NULL;
        check(c->from_cache == !pocl && (pocl ? strstr(cs_cl_cache_note(), "off on PoCL") != NULL
                                              : strstr(cs_cl_cache_note(), "loaded") != NULL),
              "CONVSCOPE_CACHE=auto on %s: from_cache %d; note \"%s\"", c->platform_name,
              c->from_cache, cs_cl_cache_note());
        cs_cl_close(c);
    } else {
        check(0, "CONVSCOPE_CACHE=auto open: %s", cs_last_error());
    }
    setenv("CONVSCOPE_CACHE", "sometimes", 1);
    c = NULL;
    st0 = cs_cl_open(&c, 0, 0);
    check(st0 == CS_ERR_INVALID_ARG && c == NULL && strstr(cs_last_error(), "CONVSCOPE_CACHE=\"sometimes\""),
          "CONVSCOPE_CACHE=sometimes -> CS_ERR_INVALID_ARG naming it: %s", cs_last_error());
    setenv("CONVSCOPE_CACHE", "on", 1);

    /* The training program is built at the first train_* kernel, and cached too. */
    c = NULL;
    if (cs_cl_open(&c, 0, 0) == CS_OK) {
        cl_kernel k = NULL;
        check(c->programs[CS_CL_PROGRAM_TRAIN] == NULL, "training program not built at open");
        check(cs_cl_kernel(c, "train_conv_pack_x", &k) == CS_OK && k && c->programs[CS_CL_PROGRAM_TRAIN],
              "train_conv_pack_x builds the training program: %s", k ? "ok" : cs_last_error());
        check(cs_cl_kernel(c, "train_no_such_kernel", &k) == CS_ERR_DEVICE &&
                  strstr(cs_last_error(), "train_no_such_kernel"),
              "unknown train_ kernel -> error naming it");
        cs_cl_close(c);
    } else {
        check(0, "open for the training program: %s", cs_last_error());
    }

    /* An unusable cache directory: the build still succeeds, the note says so. */
    char file_dir[1100];
    snprintf(file_dir, sizeof file_dir, "%s/not-a-dir", tmp);
    write_file(file_dir, "x", 1);
    setenv("CONVSCOPE_CACHE_DIR", file_dir, 1);
    c = NULL;
    cs_status st = cs_cl_open(&c, 0, 0);
    check(st == CS_OK && c->from_cache == 0 && strstr(cs_cl_cache_note(), "not cached"),
          "unwritable cache dir: open works, note \"%s\"", cs_cl_cache_note());
    cs_cl_close(c);
    setenv("CONVSCOPE_CACHE_DIR", dir, 1);
}

/* ------------------------------------------------------------------------ */
/* Sources from CONVSCOPE_CL_DIR, kernel launches, profiling                 */
/* ------------------------------------------------------------------------ */

static const char *fill_src =
    "__kernel void cs_test_fill(__global float *y, int n, float v)\n"
    "{\n"
    "    int i = get_global_id(0);\n"
    "    if (i < n)\n"
    "        y[i] = v + (float)i;\n"
    "}\n";

/* Writes every source file name into dir; conv.cl gets `conv`, the rest are
 * empty. skip: a name left out, or NULL. */
static void write_cl_dir(const char *dir, const char *conv, const char *skip)
{
    mkdir(dir, 0755);
    for (int i = 0; i < cs_cl_source_count; i++) {
        char p[1200];
        snprintf(p, sizeof p, "%s/%s", dir, cs_cl_source_names[i]);
        unlink(p);
        if (skip && strcmp(cs_cl_source_names[i], skip) == 0)
            continue;
        const char *text = strcmp(cs_cl_source_names[i], "conv.cl") == 0 ? conv : "";
        write_file(p, text, strlen(text));
    }
}

/* Launches cs_test_fill on an open context and checks what it did. */
static void run_fill(cs_cl_context *c)
{
    cl_int err = CL_SUCCESS;
    cs_status st = CS_OK;
    float host[16];
    for (int i = 0; i < 16; i++)
        host[i] = -999.0f; /* canaries */
    cl_mem y = clCreateBuffer(c->ctx, CL_MEM_READ_WRITE, sizeof host, NULL, &err);
    if (err == CL_SUCCESS)
        err = clEnqueueWriteBuffer(c->queue, y, CL_TRUE, 0, sizeof host, host, 0, NULL, NULL);
    int n = 10;
    float v = 0.5f;
    cs_cl_arg args[3] = {CS_ARG(y), CS_ARG(n), CS_ARG(v)};
    size_t global = 10, local = 4; /* rounded up to 12; the kernel guards */
    c->cur_node = 7;
    st = cs_cl_run(c, "cs_test_fill", args, 3, 1, &global, &local);
    check(st == CS_OK, "cs_cl_run with global 10, local 4: %s",
          st == CS_OK ? "ok" : cs_last_error());
    if (err == CL_SUCCESS)
        err = clEnqueueReadBuffer(c->queue, y, CL_TRUE, 0, sizeof host, host, 0, NULL, NULL);
    int good = err == CL_SUCCESS;
    for (int i = 0; i < 16; i++)
        good &= host[i] == (i < 10 ? 0.5f + (float)i : -999.0f);
    check(good, "kernel wrote y[0..10) and left the canaries behind it");
    check(c->n_events == 1 && c->events[0].node == 7,
          "profiling event recorded under node 7 (%d events)", c->n_events);
    cl_kernel k1 = NULL, k2 = NULL;
    check(cs_cl_kernel(c, "cs_test_fill", &k1) == CS_OK &&
              cs_cl_kernel(c, "cs_test_fill", &k2) == CS_OK && k1 == k2 && c->n_kernels == 1,
          "kernel created once and cached");
    st = cs_cl_kernel(c, "no_such_kernel", &k1);
    check(st != CS_OK && strstr(cs_last_error(), "no_such_kernel"),
          "unknown kernel -> error naming it");
    short wrong = 1;
    cs_cl_arg bad_args[3] = {CS_ARG(y), CS_ARG(wrong), CS_ARG(v)};
    st = cs_cl_run(c, "cs_test_fill", bad_args, 3, 1, &global, NULL);
    check(st == CS_ERR_DEVICE && strstr(cs_last_error(), "cs_test_fill") &&
              strstr(cs_last_error(), "argument 1"),
          "wrong argument size -> CS_ERR_DEVICE naming kernel and argument");
    printf("     message: %.300s\n", cs_last_error());
    cs_cl_events_reset(c);
    check(c->n_events == 0, "cs_cl_events_reset clears the events");
    if (y)
        clReleaseMemObject(y);
}

static void test_cl_dir_and_run(const char *tmp)
{
    char dir[1100];
    cs_cl_context *c = NULL;
    cs_status st = CS_OK;
    snprintf(dir, sizeof dir, "%s/cl", tmp);
    setenv("CONVSCOPE_NO_CACHE", "1", 1);
    setenv("CONVSCOPE_CL_DIR", dir, 1);

    write_cl_dir(dir, fill_src, "pool.cl");
    st = cs_cl_open(&c, 0, 0);
    check(st == CS_ERR_IO && c == NULL && strstr(cs_last_error(), "pool.cl"),
          "CONVSCOPE_CL_DIR missing pool.cl -> CS_ERR_IO naming it");
    printf("     message: %.200s\n", cs_last_error());

    /* Logs that do not name the file (NVIDIA: "<kernel>:LINE:COL") are located
     * from the line and the source text the log echoes. */
    {
        const char *src = "#line 1 \"a.cl\"\nint x;\n  y = 1;\n#line 1 \"b.cl\"\n\n  y = 2; /* two */\n";
        char where[64];
        cs_cl_build_log_locate(src, "<kernel>:2:3: error: use of undeclared identifier 'y'\n  y = 2; /* t\n",
                               where, sizeof where);
        check(strcmp(where, "b.cl:2") == 0, "NVIDIA-style log located: \"%s\" (b.cl:2)", where);
        cs_cl_build_log_locate(src, "<kernel>:2:3: error: x\n  y = 1;\n", where, sizeof where);
        check(strcmp(where, "a.cl:2") == 0, "NVIDIA-style log located: \"%s\" (a.cl:2)", where);
        /* as NVIDIA's driver 580 writes it: a line of the joined source */
        const char *src2 = "#line 1 \"conv.cl\"\n__kernel void broken(__global float *y) { y[0] = undeclared_thing; }\n"
                           "\n#line 1 \"dense.cl\"\nint a;\nint b = c;\n";
        cs_cl_build_log_locate(src2,
                               "<kernel>:2:50: error: use of undeclared identifier 'undeclared_thing'\n"
                               "__kernel void broken(__global float *y) { y[0] = undeclared_thing; }\n    \n",
                               where, sizeof where);
        check(strcmp(where, "conv.cl:1") == 0, "NVIDIA log, joined-source line: \"%s\" (conv.cl:1)", where);
        cs_cl_build_log_locate(src2, "<kernel>:6:9: error: use of undeclared identifier 'c'\nint b = c;\n", where,
                               sizeof where);
        check(strcmp(where, "dense.cl:2") == 0, "NVIDIA log, joined-source line: \"%s\" (dense.cl:2)", where);
        cs_cl_build_log_locate(src, "<kernel>:9:3: error: x\n  zzzz\n", where, sizeof where);
        check(where[0] == '\0', "line past every file: not located (\"%s\")", where);
        cs_cl_build_log_locate(src, "b.cl:2:3: error: x\n  y = 2;\n", where, sizeof where);
        check(where[0] == '\0', "log that names the file: left as it is (\"%s\")", where);
    }

    write_cl_dir(dir, "__kernel void broken(__global float *y) { y[0] = undeclared_thing; }\n",
                 NULL);
    st = cs_cl_open(&c, 0, 0);
    check(st == CS_ERR_BUILD && c == NULL && strstr(cs_last_error(), "undeclared_thing") &&
              strstr(cs_last_error(), "conv.cl"),
          "kernel that does not compile -> CS_ERR_BUILD with the log naming conv.cl");
    printf("     message: %.300s\n", cs_last_error());

    /* The fill kernel: once built from source, once loaded from the cache,
     * which must give a program that runs just the same. */
    write_cl_dir(dir, fill_src, NULL);
    unsetenv("CONVSCOPE_NO_CACHE");
    for (int pass = 0; pass < 2; pass++) {
        c = NULL;
        st = cs_cl_open(&c, 0, 1);
        check(st == CS_OK && c->from_cache == pass,
              "open with CONVSCOPE_CL_DIR and profiling, from_cache %d: %s", pass,
              st == CS_OK ? "ok" : cs_last_error());
        if (st == CS_OK) {
            run_fill(c);
            cs_cl_close(c);
        }
    }
    unsetenv("CONVSCOPE_CL_DIR");
}

static void test_clblast_env(void)
{
    cs_cl_context *c = NULL;
    setenv("CONVSCOPE_CLBLAST", "maybe", 1);
    cs_status st = cs_cl_open(&c, 0, 0);
    check(st == CS_ERR_INVALID_ARG && c == NULL && strstr(cs_last_error(), "CONVSCOPE_CLBLAST"),
          "CONVSCOPE_CLBLAST=maybe -> CS_ERR_INVALID_ARG");
    setenv("CONVSCOPE_CLBLAST", "0", 1);
    st = cs_cl_open(&c, 0, 0);
    check(st == CS_OK && c->use_clblast == 0, "CONVSCOPE_CLBLAST=0 -> use_clblast 0");
    cs_cl_close(c);
    c = NULL;
    setenv("CONVSCOPE_CLBLAST", "1", 1);
    st = cs_cl_open(&c, 0, 0);
    if (CS_HAVE_CLBLAST)
        check(st == CS_OK && c->use_clblast == 1, "CONVSCOPE_CLBLAST=1 -> use_clblast 1");
    else
        check(st == CS_ERR_UNSUPPORTED, "CONVSCOPE_CLBLAST=1 without CLBlast -> unsupported");
    cs_cl_close(c);
    unsetenv("CONVSCOPE_CLBLAST");
}

/* ------------------------------------------------------------------------ */
/* Backend buffers                                                          */
/* ------------------------------------------------------------------------ */

static void test_backend(const cs_device_info *first)
{
    cs_backend *be = NULL;
    cs_status st = cs_cl_backend_create(&be, 0, 1);
    check(st == CS_OK, "cs_cl_backend_create(0, profile): %s",
          st == CS_OK ? "ok" : cs_last_error());
    if (st != CS_OK)
        return;
    check(strcmp(be->vt->device_name(be), first->name) == 0, "backend device name \"%s\"",
          be->vt->device_name(be));
    cs_buf *buf = NULL;
    float src[10], dst[11];
    for (int i = 0; i < 10; i++)
        src[i] = (float)i * 0.25f - 1.0f;
    for (int i = 0; i < 11; i++)
        dst[i] = -7.0f;
    st = be->vt->alloc(be, 10, &buf);
    check(st == CS_OK && buf, "alloc 10 floats");
    if (st == CS_OK) {
        check(be->vt->write(be, buf, src, 10) == CS_OK, "write 10 floats");
        check(be->vt->read(be, buf, dst, 10) == CS_OK && memcmp(src, dst, sizeof src) == 0 &&
                  dst[10] == -7.0f,
              "read back 10 floats equal, nothing past them touched");
        check(be->vt->write(be, buf, src, 11) == CS_ERR_INVALID_ARG,
              "write of 11 floats into 10 -> CS_ERR_INVALID_ARG");
        check(be->vt->read(be, buf, dst, 11) == CS_ERR_INVALID_ARG,
              "read of 11 floats from 10 -> CS_ERR_INVALID_ARG");
        be->vt->release(be, buf);
    }
    buf = NULL;
    st = be->vt->alloc(be, (size_t)1 << 62, &buf);
    check(st == CS_ERR_NO_MEMORY && buf == NULL && strstr(cs_last_error(), "MiB"),
          "huge alloc -> CS_ERR_NO_MEMORY naming the size");
    printf("     message: %.200s\n", cs_last_error());
    check(be->vt->finish(be) == CS_OK, "finish with nothing queued");
    check(be->vt->node_ms(be, 0) == -1.0, "node_ms before prepare is -1");
    be->vt->destroy(be);
}

int main(void)
{
    char tmp[] = "/tmp/convscope-test-runtime-XXXXXX";
    if (!mkdtemp(tmp)) {
        printf("FAIL cannot create a temp dir\n");
        return 1;
    }
    /* Fresh PoCL kernel cache too, so the cold build is honestly cold. Must be
     * set before the first OpenCL call. */
    char pocl[1100];
    snprintf(pocl, sizeof pocl, "%s/pocl", tmp);
    setenv("POCL_CACHE_DIR", pocl, 1);
    unsetenv("CONVSCOPE_CL_DIR");
    unsetenv("CONVSCOPE_NO_CACHE");
    unsetenv("CONVSCOPE_CLBLAST");
    unsetenv("CONVSCOPE_DEVICE");

    cs_device_info first = {0};
    int count = test_devices(&first);
    test_parse();
    test_error_names();
    if (count > 0) {
        test_missing_device(count, &first);
        test_cache(tmp);
        test_clblast_env();
        test_backend(&first);
        test_cl_dir_and_run(tmp);
    }

    printf("%d passed, %d failed\n", g_pass, g_fail);
    if (g_fail == 0)
        remove_tree(tmp);
    else
        printf("kept %s for inspection\n", tmp);
    return g_fail ? 1 : 0;
}
