/* The OpenCL programs: the cl/ sources (embedded, or read from
 * $CONVSCOPE_CL_DIR) built for the device as two programs, inference (every
 * file but train.cl, built when the context opens) and training (train.cl,
 * built at the first train_* kernel), with an on-disk binary cache keyed by a
 * 128-bit hash of sources, options, platform, device and driver. Cache
 * entries are checked end to end and never trusted: any doubt is a miss, the
 * program is rebuilt from source and the entry rewritten atomically.
 *
 * The cache is off by default on PoCL: PoCL caches what it compiles itself
 * (POCL_CACHE_DIR), and exporting a PoCL program binary compiles every kernel
 * in it (7 s for the inference program on 2 cores, against 1.5 s for the build
 * and a few kernels compiled when first used).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include "opencl/cl_runtime.h"

#define CS_CACHE_MAGIC "CSPROG1"          /* 8 bytes with its NUL */
#define CS_CACHE_HEADER (8 + 16 + 8 + 8)  /* magic, key, payload length, checksum */
#define CS_CACHE_MAX_PAYLOAD (1ull << 30) /* a larger "binary" is a corrupt entry */
#define CS_BUILD_LOG_MAX 4000             /* build log bytes kept in the message */
#define CS_PATH_MAX 1024

/* ------------------------------------------------------------------------ */
/* Cache note (for verbose output; the library never prints)                */
/* ------------------------------------------------------------------------ */

static _Thread_local char g_note[1536];

const char *cs_cl_cache_note(void)
{
    return g_note;
}

static void note_set(const char *fmt, ...) CS_PRINTF(1, 2);
static void note_set(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(g_note, sizeof g_note, fmt, ap);
    va_end(ap);
}

/* ------------------------------------------------------------------------ */
/* Sources                                                                  */
/* ------------------------------------------------------------------------ */

/* Appends n bytes to a growing buffer. Returns 0, or -1 when out of memory. */
static int buf_append(char **buf, size_t *len, size_t *cap, const char *s, size_t n)
{
    if (*len + n + 1 > *cap) {
        size_t ncap = *cap ? *cap : 4096;
        while (*len + n + 1 > ncap)
            ncap *= 2;
        char *nb = realloc(*buf, ncap);
        if (!nb)
            return -1;
        *buf = nb;
        *cap = ncap;
    }
    memcpy(*buf + *len, s, n);
    *len += n;
    (*buf)[*len] = '\0';
    return 0;
}

/* Whole file into a NUL-terminated malloc'd buffer. */
static cs_status read_text_file(const char *path, char **out, size_t *len)
{
    cs_status st = CS_OK;
    char *buf = NULL;
    size_t n = 0, cap = 0;
    char chunk[8192];
    *out = NULL;
    *len = 0;
    FILE *f = fopen(path, "rb");
    if (!f)
        return cs_error(CS_ERR_IO,
                        "cannot read kernel source %s: %s; hint: CONVSCOPE_CL_DIR must name "
                        "the cl/ directory of a convscope checkout (unset it to use the "
                        "embedded kernels)",
                        path, strerror(errno));
    size_t got = 0;
    while ((got = fread(chunk, 1, sizeof chunk, f)) > 0)
        if (buf_append(&buf, &n, &cap, chunk, got) != 0) {
            st = cs_error(CS_ERR_NO_MEMORY, "out of host memory reading %s", path);
            goto cleanup;
        }
    if (ferror(f)) {
        st = cs_error(CS_ERR_IO, "read error on kernel source %s", path);
        goto cleanup;
    }
    if (!buf && buf_append(&buf, &n, &cap, "", 0) != 0) {
        st = cs_error(CS_ERR_NO_MEMORY, "out of host memory reading %s", path);
        goto cleanup;
    }
cleanup:
    fclose(f);
    if (st != CS_OK) {
        free(buf);
        return st;
    }
    *out = buf;
    *len = n;
    return CS_OK;
}

/* Whether source file `name` belongs to program `set` (CS_CL_PROGRAM_*). */
static int in_set(const char *name, int set)
{
    const int train = strcmp(name, "train.cl") == 0;
    return set == CS_CL_PROGRAM_TRAIN ? train : !train;
}

/* The kernel sources of program `set` in cs_cl_sources order, each preceded by
 * a #line marker so build logs name the .cl file and line. */
static cs_status load_sources(int set, char **out, size_t *out_len)
{
    cs_status st = CS_OK;
    const char *dir = getenv("CONVSCOPE_CL_DIR");
    char *all = NULL;
    size_t len = 0, cap = 0;
    char *file = NULL;
    *out = NULL;
    *out_len = 0;
    if (dir && !*dir)
        dir = NULL;
    for (int i = 0; i < cs_cl_source_count; i++) {
        if (!in_set(cs_cl_source_names[i], set))
            continue;
        const char *text = cs_cl_sources[i];
        size_t text_len = strlen(text);
        if (dir) {
            char path[CS_PATH_MAX];
            int n = snprintf(path, sizeof path, "%s/%s", dir, cs_cl_source_names[i]);
            if (n < 0 || (size_t)n >= sizeof path) {
                st = cs_error(CS_ERR_IO, "CONVSCOPE_CL_DIR path is too long: %.200s...", dir);
                goto cleanup;
            }
            free(file);
            file = NULL;
            if ((st = read_text_file(path, &file, &text_len)) != CS_OK)
                goto cleanup;
            text = file;
        }
        char line[160];
        int n = snprintf(line, sizeof line, "#line 1 \"%s\"\n", cs_cl_source_names[i]);
        if (n < 0 || (size_t)n >= sizeof line || buf_append(&all, &len, &cap, line, (size_t)n) ||
            buf_append(&all, &len, &cap, text, text_len) ||
            buf_append(&all, &len, &cap, "\n", 1)) {
            st = cs_error(CS_ERR_NO_MEMORY, "out of host memory joining kernel sources");
            goto cleanup;
        }
    }
    if (!all && buf_append(&all, &len, &cap, "", 0) != 0) {
        st = cs_error(CS_ERR_NO_MEMORY, "out of host memory joining kernel sources");
        goto cleanup;
    }
cleanup:
    free(file);
    if (st != CS_OK) {
        free(all);
        return st;
    }
    *out = all;
    *out_len = len;
    return CS_OK;
}

/* ------------------------------------------------------------------------ */
/* Key and checksum                                                         */
/* ------------------------------------------------------------------------ */

/* Two independent 64-bit hashes run side by side: FNV-1a, and a rotate-xor-
 * multiply hash with a splitmix64 finish. 128 bits in all. */
typedef struct cs_hasher {
    uint64_t a, b;
} cs_hasher;

static void hash_bytes(cs_hasher *h, const void *data, size_t n)
{
    const unsigned char *p = data;
    for (size_t i = 0; i < n; i++) {
        h->a = (h->a ^ p[i]) * 0x100000001b3ull;
        h->b = (((h->b << 7) | (h->b >> 57)) ^ p[i]) * 0xff51afd7ed558ccdull;
    }
}

/* A field: its length first, so field boundaries cannot shift. */
static void hash_field(cs_hasher *h, const void *data, size_t n)
{
    unsigned char len[8];
    for (int i = 0; i < 8; i++)
        len[i] = (unsigned char)((uint64_t)n >> (8 * i));
    hash_bytes(h, len, sizeof len);
    hash_bytes(h, data, n);
}

static uint64_t mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static uint64_t checksum64(const unsigned char *p, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 0x100000001b3ull;
    return h;
}

static void put_u64(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static uint64_t get_u64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

/* key: 16 bytes, over everything that can change the binary. */
static cs_status cache_key(const cs_cl_context *c, const char *options, const char *src,
                           size_t src_len, unsigned char key[16])
{
    cs_status st = CS_OK;
    cs_hasher h = {0xcbf29ce484222325ull, 0x243f6a8885a308d3ull};
    char s[512];
    static const char tag[] = "convscope program cache v1";
    static const cl_platform_info plat_fields[] = {CL_PLATFORM_NAME, CL_PLATFORM_VERSION};
    static const cl_device_info dev_fields[] = {CL_DEVICE_NAME, CL_DEVICE_VENDOR,
                                                CL_DEVICE_VERSION, CL_DRIVER_VERSION};
    hash_field(&h, tag, sizeof tag - 1);
    hash_field(&h, src, src_len);
    hash_field(&h, options, strlen(options));
    for (size_t i = 0; i < sizeof plat_fields / sizeof plat_fields[0]; i++) {
        if ((st = cs_cl_platform_str(c->platform, plat_fields[i], s, sizeof s)) != CS_OK)
            return st;
        hash_field(&h, s, strlen(s));
    }
    for (size_t i = 0; i < sizeof dev_fields / sizeof dev_fields[0]; i++) {
        if ((st = cs_cl_device_str(c->device, dev_fields[i], s, sizeof s)) != CS_OK)
            return st;
        hash_field(&h, s, strlen(s));
    }
    put_u64(key, mix64(h.a));
    put_u64(key + 8, mix64(h.b));
    return CS_OK;
}

/* ------------------------------------------------------------------------ */
/* Cache location                                                           */
/* ------------------------------------------------------------------------ */

/* CONVSCOPE_CACHE: 1 on, 0 off, -1 auto (unset, empty or "auto"), -2 not understood. */
static int cache_mode(void)
{
    const char *v = getenv("CONVSCOPE_CACHE");
    if (!v || !*v || strcmp(v, "auto") == 0)
        return -1;
    if (strcmp(v, "on") == 0 || strcmp(v, "1") == 0)
        return 1;
    if (strcmp(v, "off") == 0 || strcmp(v, "0") == 0)
        return 0;
    return -2;
}

/* The cache directory, or 0 with the reason in `why` when caching is off. */
static int cache_dir(const cs_cl_context *c, char *dir, size_t size, char *why, size_t why_size)
{
    const char *off = getenv("CONVSCOPE_NO_CACHE");
    const char *env = getenv("CONVSCOPE_CACHE_DIR");
    const char *xdg = getenv("XDG_CACHE_HOME");
    const char *home = getenv("HOME");
    const int mode = cache_mode();
    int n = -1;
    dir[0] = '\0';
    if (off && strcmp(off, "1") == 0) {
        snprintf(why, why_size, "disabled (CONVSCOPE_NO_CACHE=1)");
        return 0;
    }
    if (mode == 0) {
        snprintf(why, why_size, "disabled (CONVSCOPE_CACHE=off)");
        return 0;
    }
    if (mode == -1 && strstr(c->platform_name, "Portable Computing Language")) {
        snprintf(why, why_size,
                 "off on PoCL, which caches its own builds (POCL_CACHE_DIR); CONVSCOPE_CACHE=on "
                 "turns it on");
        return 0;
    }
    if (env && *env)
        n = snprintf(dir, size, "%s", env);
    else if (xdg && xdg[0] == '/')
        n = snprintf(dir, size, "%s/convscope", xdg);
    else if (home && *home)
        n = snprintf(dir, size, "%s/.cache/convscope", home);
    else {
        snprintf(why, why_size,
                 "disabled (no CONVSCOPE_CACHE_DIR, XDG_CACHE_HOME or HOME to put it in)");
        return 0;
    }
    if (n < 0 || (size_t)n + 40 >= size) {
        dir[0] = '\0';
        snprintf(why, why_size, "disabled (cache directory path is too long)");
        return 0;
    }
    return 1;
}

static cs_status cache_file(const cs_cl_context *c, const char *options, const char *src,
                            size_t src_len, char *path, size_t size, unsigned char key[16],
                            int *enabled)
{
    cs_status st = CS_OK;
    char dir[CS_PATH_MAX];
    char why[256] = "";
    path[0] = '\0';
    if (cache_mode() == -2)
        return cs_error(CS_ERR_INVALID_ARG,
                        "invalid CONVSCOPE_CACHE=\"%.32s\": expected auto, on or off; hint: unset "
                        "it for the default (on, except on PoCL which caches its own builds)",
                        getenv("CONVSCOPE_CACHE"));
    *enabled = cache_dir(c, dir, sizeof dir, why, sizeof why);
    if (!*enabled) {
        note_set("%s", why);
        return CS_OK;
    }
    if ((st = cache_key(c, options, src, src_len, key)) != CS_OK)
        return st;
    int n = snprintf(path, size, "%s/%016llx%016llx.bin", dir,
                     (unsigned long long)get_u64(key), (unsigned long long)get_u64(key + 8));
    if (n < 0 || (size_t)n >= size)
        return cs_error(CS_ERR_INVALID_ARG, "cache path buffer of %zu bytes is too small", size);
    return CS_OK;
}

cs_status cs_cl_cache_path(const cs_cl_context *c, const char *options, char *out, size_t size)
{
    cs_status st = CS_OK;
    char *src = NULL;
    size_t src_len = 0;
    unsigned char key[16] = {0};
    int enabled = 0;
    if (!c || !out || size == 0)
        return cs_error(CS_ERR_INVALID_ARG, "cs_cl_cache_path: null argument");
    out[0] = '\0';
    if ((st = load_sources(CS_CL_PROGRAM_INFER, &src, &src_len)) != CS_OK)
        return st;
    st = cache_file(c, options ? options : "", src, src_len, out, size, key, &enabled);
    free(src);
    return st;
}

/* mkdir -p */
static cs_status make_dirs(const char *dir)
{
    char p[CS_PATH_MAX];
    size_t n = strlen(dir);
    struct stat sb;
    if (n == 0 || n >= sizeof p)
        return cs_error(CS_ERR_IO, "bad cache directory \"%.200s\"", dir);
    memcpy(p, dir, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (p[i] != '/' && p[i] != '\0')
            continue;
        char saved = p[i];
        p[i] = '\0';
        if (mkdir(p, 0755) != 0 && errno != EEXIST)
            return cs_error(CS_ERR_IO, "cannot create cache directory %s: %s", p,
                            strerror(errno));
        p[i] = saved;
    }
    if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode))
        return cs_error(CS_ERR_IO, "cache directory %s is not a directory", dir);
    return CS_OK;
}

/* ------------------------------------------------------------------------ */
/* Cache read                                                               */
/* ------------------------------------------------------------------------ */

/* Loads and builds the cached binary. Anything but CS_OK is a miss, with the
 * reason in cs_last_error(). */
static cs_status cache_load(cs_cl_context *c, const char *options, const char *path,
                            const unsigned char key[16], cl_program *out)
{
    cs_status st = CS_OK;
    cl_int err = CL_SUCCESS;
    cl_int bin_status = CL_SUCCESS;
    cl_program prog = NULL;
    unsigned char hdr[CS_CACHE_HEADER];
    unsigned char *payload = NULL;
    long file_size = 0;
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (!f)
        return errno == ENOENT ? cs_error(CS_ERR_IO, "no entry")
                               : cs_error(CS_ERR_IO, "cannot open it: %s", strerror(errno));
    if (fseek(f, 0, SEEK_END) != 0 || (file_size = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) {
        st = cs_error(CS_ERR_IO, "cannot seek: %s", strerror(errno));
        goto cleanup;
    }
    if (fread(hdr, 1, sizeof hdr, f) != sizeof hdr) {
        st = cs_error(CS_ERR_FORMAT, "short file (%ld bytes)", file_size);
        goto cleanup;
    }
    if (memcmp(hdr, CS_CACHE_MAGIC, 8) != 0) {
        st = cs_error(CS_ERR_FORMAT, "bad magic");
        goto cleanup;
    }
    if (memcmp(hdr + 8, key, 16) != 0) {
        st = cs_error(CS_ERR_FORMAT, "key mismatch");
        goto cleanup;
    }
    uint64_t len = get_u64(hdr + 24);
    uint64_t sum = get_u64(hdr + 32);
    if (len == 0 || len > CS_CACHE_MAX_PAYLOAD ||
        len != (uint64_t)file_size - CS_CACHE_HEADER) {
        st = cs_error(CS_ERR_FORMAT, "length mismatch (header %llu, file has %ld)",
                      (unsigned long long)len, file_size - (long)CS_CACHE_HEADER);
        goto cleanup;
    }
    payload = malloc((size_t)len);
    if (!payload) {
        st = cs_error(CS_ERR_NO_MEMORY, "out of host memory (%llu bytes)",
                      (unsigned long long)len);
        goto cleanup;
    }
    if (fread(payload, 1, (size_t)len, f) != (size_t)len) {
        st = cs_error(CS_ERR_FORMAT, "short payload");
        goto cleanup;
    }
    if (checksum64(payload, (size_t)len) != sum) {
        st = cs_error(CS_ERR_FORMAT, "checksum mismatch");
        goto cleanup;
    }
    size_t bin_len = (size_t)len;
    const unsigned char *bin = payload;
    prog = cs_clCreateProgramWithBinary(c->ctx, 1, &c->device, &bin_len, &bin, &bin_status, &err);
    CS_CL_CHECK_ERR(err, "clCreateProgramWithBinary");
    CS_CL_CHECK_ERR(bin_status, "clCreateProgramWithBinary (binary status)");
    CS_CL_CHECK(cs_clBuildProgram(prog, 1, &c->device, options, NULL, NULL));
    *out = prog;
    prog = NULL;
cleanup:
    if (prog)
        clReleaseProgram(prog);
    free(payload);
    fclose(f);
    return st;
}

/* ------------------------------------------------------------------------ */
/* Cache write                                                              */
/* ------------------------------------------------------------------------ */

static atomic_uint g_tmp_seq;

/* Writes the program's binary as a cache entry: temp file, fsync, rename. */
static cs_status cache_store(const cs_cl_context *c, cl_program prog, const char *path,
                             const unsigned char key[16])
{
    cs_status st = CS_OK;
    size_t bin_len = 0;
    unsigned char *bin = NULL;
    unsigned char hdr[CS_CACHE_HEADER];
    char dir[CS_PATH_MAX];
    char tmp[CS_PATH_MAX + 64];
    FILE *f = NULL;
    int tmp_made = 0;
    (void)c;

    CS_CL_CHECK(clGetProgramInfo(prog, CL_PROGRAM_BINARY_SIZES, sizeof bin_len, &bin_len, NULL));
    if (bin_len == 0 || bin_len > CS_CACHE_MAX_PAYLOAD) {
        st = cs_error(CS_ERR_UNSUPPORTED, "the driver gave a program binary of %zu bytes",
                      bin_len);
        goto cleanup;
    }
    bin = malloc(bin_len);
    if (!bin) {
        st = cs_error(CS_ERR_NO_MEMORY, "out of host memory (%zu bytes)", bin_len);
        goto cleanup;
    }
    CS_CL_CHECK(clGetProgramInfo(prog, CL_PROGRAM_BINARIES, sizeof bin, &bin, NULL));

    size_t plen = strlen(path);
    const char *slash = strrchr(path, '/');
    if (slash && slash != path && (size_t)(slash - path) < sizeof dir) {
        memcpy(dir, path, (size_t)(slash - path));
        dir[slash - path] = '\0';
        if ((st = make_dirs(dir)) != CS_OK)
            goto cleanup;
    }
    int n = snprintf(tmp, sizeof tmp, "%s.tmp.%ld.%u", path, (long)getpid(),
                     atomic_fetch_add(&g_tmp_seq, 1u));
    if (n < 0 || (size_t)n >= sizeof tmp || plen >= CS_PATH_MAX) {
        st = cs_error(CS_ERR_IO, "cache path too long");
        goto cleanup;
    }

    memcpy(hdr, CS_CACHE_MAGIC, 8);
    memcpy(hdr + 8, key, 16);
    put_u64(hdr + 24, (uint64_t)bin_len);
    put_u64(hdr + 32, checksum64(bin, bin_len));
    f = fopen(tmp, "wb");
    if (!f) {
        st = cs_error(CS_ERR_IO, "cannot create %s: %s", tmp, strerror(errno));
        goto cleanup;
    }
    tmp_made = 1;
    if (fwrite(hdr, 1, sizeof hdr, f) != sizeof hdr || fwrite(bin, 1, bin_len, f) != bin_len ||
        fflush(f) != 0 || fsync(fileno(f)) != 0) {
        st = cs_error(CS_ERR_IO, "cannot write %s: %s", tmp, strerror(errno));
        goto cleanup;
    }
    int closed = fclose(f);
    f = NULL;
    if (closed != 0) {
        st = cs_error(CS_ERR_IO, "cannot write %s: %s", tmp, strerror(errno));
        goto cleanup;
    }
    if (rename(tmp, path) != 0) {
        st = cs_error(CS_ERR_IO, "cannot rename %s to %s: %s", tmp, path, strerror(errno));
        goto cleanup;
    }
    tmp_made = 0;
cleanup:
    if (f)
        fclose(f);
    if (tmp_made)
        remove(tmp);
    free(bin);
    return st;
}

/* ------------------------------------------------------------------------ */
/* Build                                                                    */
/* ------------------------------------------------------------------------ */

/* NVIDIA's compiler calls the source "<kernel>" in its build log and ignores the
 * #line markers (it counts lines of the joined source). The file of the first
 * error, as "file.cl:LINE" in `out` (else ""), from the line the log reports and
 * the source text it echoes on the next line: the line is taken as a line of the
 * joined source first, then as a line of each file (drivers that honour the line
 * numbers but not the names). */
void cs_cl_build_log_locate(const char *src, const char *log, char *out, size_t size)
{
    static const char marker[] = "#line 1 \"";
    out[0] = '\0';
    const char *p = strstr(log, "<kernel>:");
    const char *nl = p ? strchr(p, '\n') : NULL;
    const int line = p ? atoi(p + 9) : 0;
    if (!nl || line < 1)
        return;
    const char *echo = nl + 1;
    echo += strspn(echo, " \t");
    size_t echo_len = strcspn(echo, "\n");
    if (echo_len > 32)
        echo_len = 32;
    if (echo_len < 4)
        return;
    /* Line `line` of the joined source, and the last marker above it. */
    const char *l = src, *name = NULL;
    int marker_line = 0;
    for (int i = 1; i < line && l; i++) {
        if (strncmp(l, marker, sizeof marker - 1) == 0) {
            name = l + sizeof marker - 1;
            marker_line = i;
        }
        if ((l = strchr(l, '\n')) != NULL)
            l++;
    }
    if (l && name && strncmp(l, marker, sizeof marker - 1) != 0) {
        const char *t = l + strspn(l, " \t");
        const char *name_end = strchr(name, '"');
        if (name_end && strncmp(t, echo, echo_len) == 0) {
            snprintf(out, size, "%.*s:%d", (int)(name_end - name), name, line - marker_line);
            return;
        }
    }
    for (const char *m = strstr(src, marker); m; ) {
        const char *fname = m + sizeof marker - 1;
        const char *name_end = strchr(fname, '"');
        const char *body = name_end ? strchr(name_end, '\n') : NULL;
        if (!body)
            return;
        body++;
        const char *next = strstr(body, marker);
        const char *f = body;
        for (int i = 1; i < line && f; i++)
            if ((f = strchr(f, '\n')) != NULL)
                f++;
        if (f && (!next || f < next)) {
            f += strspn(f, " \t");
            if (strncmp(f, echo, echo_len) == 0) {
                snprintf(out, size, "%.*s:%d", (int)(name_end - fname), fname, line);
                return;
            }
        }
        m = next;
    }
}

static cs_status build_from_source(cs_cl_context *c, const char *options, const char *src,
                                   size_t src_len, cl_program *out)
{
    cs_status st = CS_OK;
    cl_int err = CL_SUCCESS;
    cl_program prog = NULL;
    char *log = NULL;
    size_t log_len = 0;
    *out = NULL;
    prog = cs_clCreateProgramWithSource(c->ctx, 1, &src, &src_len, &err);
    CS_CL_CHECK_ERR(err, "clCreateProgramWithSource");
    err = cs_clBuildProgram(prog, 1, &c->device, options, NULL, NULL);
    if (err == CL_BUILD_PROGRAM_FAILURE || err == CL_INVALID_BUILD_OPTIONS) {
        CS_CL_CHECK(clGetProgramBuildInfo(prog, c->device, CL_PROGRAM_BUILD_LOG, 0, NULL,
                                          &log_len));
        log = malloc(log_len + 1);
        if (!log) {
            st = cs_error(CS_ERR_NO_MEMORY, "out of host memory reading the build log");
            goto cleanup;
        }
        CS_CL_CHECK(clGetProgramBuildInfo(prog, c->device, CL_PROGRAM_BUILD_LOG, log_len, log,
                                          NULL));
        log[log_len] = '\0';
        size_t shown = strlen(log);
        int cut = shown > CS_BUILD_LOG_MAX;
        if (cut)
            shown = CS_BUILD_LOG_MAX;
        char where[160];
        cs_cl_build_log_locate(src, log, where, sizeof where);
        st = cs_error(CS_ERR_BUILD,
                      "OpenCL program build failed on %s (%s, options \"%s\"): %s%s%s\n"
                      "--- build log%s ---\n%.*s%s\n"
                      "hint: the kernels in cl/*.cl do not compile for this device; fix them "
                      "(CONVSCOPE_CL_DIR=cl loads them from disk without rebuilding)",
                      c->device_name, c->platform_name, options, cs_cl_error_name(err),
                      where[0] ? ", first error in " : "", where, cut ? " (truncated)" : "", (int)shown, log,
                      cut ? "\n[... log truncated]" : "");
        goto cleanup;
    }
    CS_CL_CHECK_ERR(err, "clBuildProgram");
    *out = prog;
    prog = NULL;
cleanup:
    free(log);
    if (prog)
        clReleaseProgram(prog);
    return st;
}

/* Program `set` for the device: from the cache when it holds it, else built
 * from source (and cached). */
static cs_status get_program(cs_cl_context *c, int set, const char *options, cl_program *out,
                             int *from_cache)
{
    cs_status st = CS_OK;
    char *src = NULL;
    size_t src_len = 0;
    char path[CS_PATH_MAX + 64];
    char miss[512] = "";
    unsigned char key[16] = {0};
    int enabled = 0;
    cl_program prog = NULL;
    *out = NULL;
    *from_cache = 0;
    g_note[0] = '\0';
    if ((st = load_sources(set, &src, &src_len)) != CS_OK)
        return st;
    if ((st = cache_file(c, options, src, src_len, path, sizeof path, key, &enabled)) != CS_OK)
        goto cleanup;

    if (enabled) {
        if (cache_load(c, options, path, key, &prog) == CS_OK) {
            *out = prog;
            *from_cache = 1;
            note_set("loaded %s", path);
            cs_error_clear();
            goto cleanup;
        }
        snprintf(miss, sizeof miss, "%s", cs_last_error());
        cs_error_clear();
    }

    if ((st = build_from_source(c, options, src, src_len, &prog)) != CS_OK)
        goto cleanup;
    *out = prog;
    if (enabled) {
        int plain_miss = strcmp(miss, "no entry") == 0;
        if (cache_store(c, prog, path, key) == CS_OK)
            note_set("%s%s%s; built from source, wrote %s", plain_miss ? "miss" : "ignored entry (",
                     plain_miss ? "" : miss, plain_miss ? "" : ")", path);
        else
            note_set("%s%s%s; built from source, not cached: %s",
                     plain_miss ? "miss" : "ignored entry (", plain_miss ? "" : miss,
                     plain_miss ? "" : ")", cs_last_error());
        cs_error_clear();
    }
cleanup:
    free(src);
    return st;
}

cs_status cs_cl_build_program(cs_cl_context *c, const char *options)
{
    cs_status st = CS_OK;
    if (!c || !c->ctx)
        return cs_error(CS_ERR_STATE, "cs_cl_build_program: no OpenCL context");
    if (!options)
        options = "";
    if (strlen(options) >= sizeof c->options)
        return cs_error(CS_ERR_INVALID_ARG, "cs_cl_build_program: options longer than %zu bytes",
                        sizeof c->options - 1);
    c->from_cache = 0;
    /* Rebuilding: the kernels of the old programs go with them. */
    for (int i = 0; i < c->n_kernels; i++)
        if (c->kernels[i].kernel)
            clReleaseKernel(c->kernels[i].kernel);
    c->n_kernels = 0;
    for (int i = 0; i < CS_CL_PROGRAM_COUNT; i++)
        if (c->programs[i]) {
            clReleaseProgram(c->programs[i]);
            c->programs[i] = NULL;
        }
    memcpy(c->options, options, strlen(options) + 1);
    st = get_program(c, CS_CL_PROGRAM_INFER, options, &c->programs[CS_CL_PROGRAM_INFER], &c->from_cache);
    return st;
}

cs_status cs_cl_program_for(cs_cl_context *c, int set, cl_program *out)
{
    cs_status st = CS_OK;
    int from_cache = 0;
    if (!c || !out || set < 0 || set >= CS_CL_PROGRAM_COUNT)
        return cs_error(CS_ERR_INVALID_ARG, "cs_cl_program_for: bad argument");
    *out = NULL;
    if (!c->programs[CS_CL_PROGRAM_INFER])
        return cs_error(CS_ERR_STATE, "kernels requested before the program was built");
    if (!c->programs[set]) {
        if ((st = get_program(c, set, c->options, &c->programs[set], &from_cache)) != CS_OK)
            return cs_error_context(st, "the training kernels (cl/train.cl)");
    }
    *out = c->programs[set];
    return CS_OK;
}
