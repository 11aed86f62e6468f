/* I/O tests (test_io [-v]): safetensors round trip, F16/BF16 conversion and
 * hostile files (each must fail with the right status and a message naming
 * the problem, never crash, never half-load a graph); .npy round trip and
 * hostile files; image preprocessing against torchvision values; labels and
 * asset lookup. Fixtures are written to a fresh temp dir and removed after.
 */
#include "convscope.h"

#include <ctype.h>
#include <dirent.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <stb_image_write.h>

static int n_passed = 0, n_failed = 0;
static int verbose = 0;       /* -v: print every error message */
static char tmpdir[256] = {0};

/* ------------------------------------------------------------------------ */
/* Helpers                                                                  */
/* ------------------------------------------------------------------------ */

static void result(int ok, const char *label)
{
    printf("%s  %s\n", ok ? "PASS" : "FAIL", label);
    if (ok)
        n_passed++;
    else
        n_failed++;
}

static int contains_nocase(const char *hay, const char *needle)
{
    const size_t n = strlen(needle);
    for (const char *p = hay; *p; p++) {
        size_t i = 0;
        while (i < n && p[i] && tolower((unsigned char)p[i]) == tolower((unsigned char)needle[i]))
            i++;
        if (i == n)
            return 1;
    }
    return n == 0;
}

/* The call returned `got`; it must be `want` and cs_last_error() must hold
 * every needle (case-insensitive); the macro ends the list with NULL. */
#define expect(label, got, ...) expect_impl(label, got, __VA_ARGS__, NULL)
static void expect_impl(const char *label, cs_status got, cs_status want, ...)
{
    const char *msg = cs_last_error();
    int ok = got == want;
    va_list ap;
    va_start(ap, want);
    for (const char *needle = va_arg(ap, const char *); needle; needle = va_arg(ap, const char *)) {
        if (want != CS_OK && !contains_nocase(msg, needle)) {
            printf("    message lacks \"%s\"\n", needle);
            ok = 0;
        }
    }
    va_end(ap);
    if (verbose && want != CS_OK)
        printf("    message: \"%s\"\n", msg);
    if (!ok)
        printf("    got %s, expected %s; message: \"%.600s\"\n", cs_status_name(got), cs_status_name(want), msg);
    result(ok, label);
}

/* Full path of a fixture in the temp dir (rotating static buffers). */
static const char *fixture(const char *name)
{
    static char bufs[4][512];
    static int next = 0;
    char *b = bufs[next++ % 4];
    snprintf(b, sizeof bufs[0], "%s/%s", tmpdir, name);
    return b;
}

static int write_bytes(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return 0;
    int ok = fwrite(data, 1, len, f) == len;
    return fclose(f) == 0 && ok;
}

/* Removes the temp dir and everything in it (fixtures are plain files, plus
 * one assets/labels tree). */
static void remove_tree(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e = NULL;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        char p[1024] = {0};
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        struct stat sb = {0};
        if (lstat(p, &sb) == 0 && S_ISDIR(sb.st_mode))
            remove_tree(p);
        else
            unlink(p);
    }
    closedir(d);
    rmdir(dir);
}

/* ------------------------------------------------------------------------ */
/* safetensors fixtures                                                     */
/* ------------------------------------------------------------------------ */

/* A file: 8-byte little-endian header length `hlen` (normally strlen of
 * header), the header, then `dlen` bytes of data. */
static const char *st_raw(const char *name, uint64_t hlen, const char *header, const void *data, size_t dlen)
{
    const char *path = fixture(name);
    size_t n = strlen(header);
    unsigned char *buf = malloc(8 + n + dlen + 1);
    if (!buf)
        return path;
    for (int k = 0; k < 8; k++)
        buf[k] = (unsigned char)(hlen >> (8 * k));
    memcpy(buf + 8, header, n);
    if (dlen)
        memcpy(buf + 8 + n, data, dlen);
    write_bytes(path, buf, 8 + n + dlen);
    free(buf);
    return path;
}

static const char *st_file(const char *name, const char *header, const void *data, size_t dlen)
{
    return st_raw(name, strlen(header), header, data, dlen);
}

/* Expects cs_weights_open to fail with `want` and the needles. */
static void expect_open_fails(const char *label, const char *path, cs_status want, const char *n1, const char *n2)
{
    cs_weights *w = NULL;
    cs_status st = cs_weights_open(&w, path);
    expect(label, st, want, n1, n2);
    if (w) {
        printf("    open returned a handle on failure\n");
        cs_weights_close(w);
    }
}

/* A header from a printf format. */
static const char *hdr(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static const char *hdr(const char *fmt, ...)
{
    static char buf[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    return buf;
}

/* The small test graph: input (2,5,5) -> conv1 3x3 (3 out, bias) -> bn1 ->
 * fc (4 out, bias). Tensors: conv1.weight [3,2,3,3], conv1.bias [3], bn1.*
 * [3] x4, fc.weight [4,27], fc.bias [4]. */
static cs_graph *small_graph(void)
{
    cs_graph *g = NULL;
    if (cs_graph_create(&g, "test_io") != CS_OK)
        return NULL;
    cs_conv2d_params p = {3, 3, 3, 1, 1, 0, 0, 0, 0, 1, 1, 1, 1, NULL};
    int x = cs_input(g, "input", 2, 5, 5);
    x = cs_conv2d(g, "conv1", x, &p);
    x = cs_batchnorm(g, "bn1", x, 1e-5f);
    x = cs_dense(g, "fc", x, 4, 1);
    if (x < 0 || cs_graph_status(g) != CS_OK) {
        cs_graph_free(g);
        return NULL;
    }
    return g;
}

/* Every parameter of a and b bit-identical. */
static int graphs_equal(const cs_graph *a, const cs_graph *b)
{
    if (cs_graph_node_count(a) != cs_graph_node_count(b))
        return 0;
    for (int i = 0; i < cs_graph_node_count(a); i++) {
        for (int p = 0; p < cs_graph_param_count(a, i); p++) {
            cs_param_info pa = {0}, pb = {0};
            if (cs_graph_param(a, i, p, &pa) != CS_OK || cs_graph_param(b, i, p, &pb) != CS_OK)
                return 0;
            if (pa.count != pb.count || memcmp(pa.data, pb.data, pa.count * sizeof(float)) != 0)
                return 0;
        }
    }
    return 1;
}

/* The small graph's tensors in key order; stored as F32 they take 724 bytes,
 * so extra entries in a test file start at offset 724. */
typedef struct st_spec {
    const char *key;
    int ndim;
    int dims[4];
} st_spec;

static const st_spec small_spec[] = {
    {"bn1.bias", 1, {3}},          {"bn1.running_mean", 1, {3}}, {"bn1.running_var", 1, {3}},
    {"bn1.weight", 1, {3}},        {"conv1.bias", 1, {3}},       {"conv1.weight", 4, {3, 2, 3, 3}},
    {"fc.bias", 1, {4}},           {"fc.weight", 2, {4, 27}},
};
#define N_SMALL ((int)(sizeof small_spec / sizeof small_spec[0]))

static uint16_t f32_to_f16_exact(float f)
{
    /* Only for values that are exact in half precision (test data). */
    uint32_t b = 0;
    memcpy(&b, &f, sizeof b);
    uint32_t sign = (b >> 16) & 0x8000u;
    if ((b & 0x7FFFFFFFu) == 0)
        return (uint16_t)sign;
    int e = (int)((b >> 23) & 0xFF) - 127 + 15;
    return (uint16_t)(sign | ((uint32_t)e << 10) | ((b >> 13) & 0x3FFu));
}

/* A file with every small-graph tensor, values v[i] = base + i * 0.25 (exact
 * in F16), dtype "F32", "F16" or "F64". `drop` leaves one key out;
 * `override_key` gets `override_shape` (same element count); `extra` is raw
 * header entries whose extra_bytes of zero data follow the tensors. */
static const char *small_file(const char *name, const char *dtype, float base, const char *drop,
                              const char *override_key, const char *override_shape, const char *extra,
                              size_t extra_bytes)
{
    static char header[8192];
    unsigned char *data = calloc(1, 8192 + extra_bytes);
    size_t off = 0, esize = strcmp(dtype, "F16") == 0 ? 2 : strcmp(dtype, "F64") == 0 ? 8 : 4;
    size_t h = (size_t)snprintf(header, sizeof header, "{\"__metadata__\":{\"format\":\"pt\"}");
    for (int t = 0; t < N_SMALL; t++) {
        const st_spec *s = &small_spec[t];
        if (drop && strcmp(drop, s->key) == 0)
            continue;
        size_t count = 1;
        char shape[64] = {0};
        size_t sl = 0;
        for (int d = 0; d < s->ndim; d++) {
            count *= (size_t)s->dims[d];
            sl += (size_t)snprintf(shape + sl, sizeof shape - sl, "%s%d", d ? "," : "", s->dims[d]);
        }
        if (override_key && strcmp(override_key, s->key) == 0 && override_shape) {
            /* same element count, different shape */
            snprintf(shape, sizeof shape, "%s", override_shape);
        }
        for (size_t i = 0; i < count && data; i++) {
            float v = base + (float)i * 0.25f;
            unsigned char *d = data + off + i * esize;
            if (esize == 2) {
                uint16_t hv = f32_to_f16_exact(v);
                d[0] = (unsigned char)hv;
                d[1] = (unsigned char)(hv >> 8);
            } else if (esize == 8) {
                double dv = v;
                memcpy(d, &dv, 8);
            } else {
                memcpy(d, &v, 4);
            }
        }
        h += (size_t)snprintf(header + h, sizeof header - h,
                              ",\"%s\":{\"dtype\":\"%s\",\"shape\":[%s],\"data_offsets\":[%zu,%zu]}", s->key, dtype,
                              shape, off, off + count * esize);
        off += count * esize;
    }
    if (extra)
        h += (size_t)snprintf(header + h, sizeof header - h, ",%s", extra);
    snprintf(header + h, sizeof header - h, "}");
    const char *path = st_file(name, header, data, off + extra_bytes);
    free(data);
    return path;
}

/* ------------------------------------------------------------------------ */
/* safetensors tests                                                        */
/* ------------------------------------------------------------------------ */

static void test_round_trip(void)
{
    cs_graph *a = small_graph(), *b = small_graph();
    if (!a || !b) {
        result(0, "safetensors: build the small graph");
        cs_graph_free(a);
        cs_graph_free(b);
        return;
    }
    cs_graph_init_seeded(a, 7);
    const char *path = fixture("round.safetensors");
    expect("safetensors: save a graph", cs_graph_save_weights(a, path), CS_OK);

    /* Header: length a multiple of 8, keys sorted, no temp file left behind. */
    FILE *f = fopen(path, "rb");
    unsigned char len8[8] = {0};
    uint64_t hlen = 0;
    if (f && fread(len8, 1, 8, f) == 8)
        for (int k = 7; k >= 0; k--)
            hlen = (hlen << 8) | len8[k];
    if (f)
        fclose(f);
    result(hlen > 0 && hlen % 8 == 0, "safetensors: saved header padded to a multiple of 8");
    int leftovers = 0;
    DIR *d = opendir(tmpdir);
    struct dirent *e = NULL;
    while (d && (e = readdir(d)) != NULL)
        leftovers += strstr(e->d_name, ".tmp.") != NULL;
    if (d)
        closedir(d);
    result(leftovers == 0, "safetensors: atomic save leaves no temp file");

    cs_weights *w = NULL;
    cs_status st = cs_weights_open(&w, path);
    expect("safetensors: reopen the saved file", st, CS_OK);
    if (st == CS_OK) {
        int sorted = cs_weights_count(w) == N_SMALL;
        for (int i = 0; sorted && i < N_SMALL; i++)
            sorted = cs_weights_key(w, i) && strcmp(cs_weights_key(w, i), small_spec[i].key) == 0;
        result(sorted, "safetensors: 8 tensors listed in key order");
        result(cs_weights_key(w, -1) == NULL && cs_weights_key(w, N_SMALL) == NULL,
               "safetensors: key index out of range gives NULL");
        int ndim = 0;
        int64_t dims[8] = {0};
        st = cs_weights_shape(w, "conv1.weight", &ndim, dims);
        result(st == CS_OK && ndim == 4 && dims[0] == 3 && dims[1] == 2 && dims[2] == 3 && dims[3] == 3,
               "safetensors: shape of conv1.weight is [3, 2, 3, 3]");
        expect("safetensors: shape of a missing key", cs_weights_shape(w, "nope", &ndim, dims),
               CS_ERR_INVALID_ARG, "nope");
        float bias[3] = {0};
        expect("safetensors: read with a wrong count", cs_weights_read(w, "conv1.bias", bias, 2),
               CS_ERR_INVALID_ARG, "conv1.bias", "3");
        cs_load_report rep = {0};
        st = cs_graph_load_weights(b, w, NULL, &rep);
        expect("safetensors: load the saved file into a fresh graph", st, CS_OK);
        result(st == CS_OK && rep.loaded == 8 && rep.ignored == 0, "safetensors: report says 8 loaded, 0 ignored");
        result(graphs_equal(a, b), "safetensors: round trip is bit-exact");
        cs_weights_close(w);
    }
    cs_graph_free(a);
    cs_graph_free(b);
}

static int bits_equal(float a, uint32_t want)
{
    uint32_t b = 0;
    memcpy(&b, &a, sizeof b);
    return b == want;
}

static void test_half_conversion(void)
{
    /* (half bits, expected float bits): zeros, normals, extremes, subnormals, inf, NaN. */
    static const uint16_t f16[] = {0x0000, 0x8000, 0x3C00, 0xC000, 0x7BFF, 0x0001, 0x03FF, 0x0400,
                                   0x7C00, 0xFC00, 0x7E00, 0x3555, 0x8001};
    static const uint32_t f16_want[] = {0x00000000, 0x80000000, 0x3F800000, 0xC0000000, 0x477FE000,
                                        0x33800000, 0x387FC000, 0x38800000, 0x7F800000, 0xFF800000,
                                        0x7FC00000, 0x3EAAA000, 0xB3800000};
    static const uint16_t bf16[] = {0x0000, 0x8000, 0x3F80, 0x4049, 0x0001, 0x7F80, 0xFF80, 0x7FC0, 0x7F7F};
    static const uint32_t bf16_want[] = {0x00000000, 0x80000000, 0x3F800000, 0x40490000, 0x00010000,
                                         0x7F800000, 0xFF800000, 0x7FC00000, 0x7F7F0000};
    const int n16 = (int)(sizeof f16 / sizeof f16[0]), nb = (int)(sizeof bf16 / sizeof bf16[0]);
    unsigned char data[64] = {0};
    for (int i = 0; i < n16; i++) {
        data[2 * i] = (unsigned char)f16[i];
        data[2 * i + 1] = (unsigned char)(f16[i] >> 8);
    }
    for (int i = 0; i < nb; i++) {
        data[2 * n16 + 2 * i] = (unsigned char)bf16[i];
        data[2 * n16 + 2 * i + 1] = (unsigned char)(bf16[i] >> 8);
    }
    const char *path = st_file("half.safetensors",
                               hdr("{\"h\":{\"dtype\":\"F16\",\"shape\":[%d],\"data_offsets\":[0,%d]},"
                                   "\"b\":{\"dtype\":\"BF16\",\"shape\":[%d],\"data_offsets\":[%d,%d]}}",
                                   n16, 2 * n16, nb, 2 * n16, 2 * n16 + 2 * nb),
                               data, (size_t)(2 * n16 + 2 * nb));
    cs_weights *w = NULL;
    cs_status st = cs_weights_open(&w, path);
    expect("f16/bf16: open", st, CS_OK);
    if (st != CS_OK)
        return;
    float out[16] = {0};
    int ok = cs_weights_read(w, "h", out, (size_t)n16) == CS_OK;
    for (int i = 0; ok && i < n16; i++) {
        if (!bits_equal(out[i], f16_want[i])) {
            printf("    f16 0x%04x -> %g, expected bits 0x%08x\n", f16[i], (double)out[i], f16_want[i]);
            ok = 0;
        }
    }
    result(ok, "f16: zero, -0, 1, -2, 65504, subnormals, inf, -inf, NaN, 1/3 convert exactly");
    ok = cs_weights_read(w, "b", out, (size_t)nb) == CS_OK;
    for (int i = 0; ok && i < nb; i++) {
        if (!bits_equal(out[i], bf16_want[i])) {
            printf("    bf16 0x%04x -> %g, expected bits 0x%08x\n", bf16[i], (double)out[i], bf16_want[i]);
            ok = 0;
        }
    }
    result(ok, "bf16: zero, -0, 1, 3.140625, subnormal, inf, -inf, NaN, max convert exactly");
    result(isnan(out[7]) && isinf(out[5]), "bf16: NaN and inf classify as such");
    cs_weights_close(w);

    /* A whole graph stored as F16 loads converted. */
    cs_graph *g = small_graph();
    path = small_file("small_f16.safetensors", "F16", -3.0f, NULL, NULL, NULL, NULL, 0);
    st = cs_weights_open(&w, path);
    if (g && st == CS_OK) {
        expect("f16: load a graph stored as F16", cs_graph_load_weights(g, w, NULL, NULL), CS_OK);
        cs_param_info pi = {0};
        int node = cs_graph_find(g, "fc");
        ok = node >= 0 && cs_graph_param(g, node, 0, &pi) == CS_OK && pi.count == 108;
        for (size_t i = 0; ok && i < pi.count; i++)
            ok = fabsf(pi.data[i] - (-3.0f + (float)i * 0.25f)) == 0.0f;
        result(ok, "f16: loaded fc.weight holds the converted values");
    } else {
        result(0, "f16: open the F16 graph file");
    }
    cs_weights_close(w);
    cs_graph_free(g);
}

static void test_hostile_headers(void)
{
    unsigned char zeros[64] = {0};
    const char *ok_entry = "\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}";

    expect_open_fails("hostile: missing file", fixture("does-not-exist.safetensors"), CS_ERR_IO, "does-not-exist",
                      NULL);
    write_bytes(fixture("empty.safetensors"), "", 0);
    expect_open_fails("hostile: empty file", fixture("empty.safetensors"), CS_ERR_FORMAT, "empty.safetensors",
                      "too short");
    write_bytes(fixture("short.safetensors"), "\x10\x00\x00", 3);
    expect_open_fails("hostile: truncated header length", fixture("short.safetensors"), CS_ERR_FORMAT, "too short",
                      NULL);
    expect_open_fails("hostile: header length past the end",
                      st_raw("hlen_big.safetensors", 1000, "{}", NULL, 0), CS_ERR_FORMAT, "1000", "truncated");
    expect_open_fails("hostile: header length over 100 MB",
                      st_raw("hlen_huge.safetensors", 200000000u, "{}", NULL, 0), CS_ERR_FORMAT, "200000000",
                      "limit");
    expect_open_fails("hostile: header length 2^64-1",
                      st_raw("hlen_max.safetensors", UINT64_MAX, "{}", NULL, 0), CS_ERR_FORMAT, "limit", NULL);
    expect_open_fails("hostile: header is not JSON", st_file("notjson.safetensors", "hello, world", NULL, 0),
                      CS_ERR_FORMAT, "JSON", NULL);
    expect_open_fails("hostile: JSON with trailing garbage",
                      st_file("trailing.safetensors", hdr("{%s} x", ok_entry), zeros, 16), CS_ERR_FORMAT,
                      "trailing", NULL);
    expect_open_fails("hostile: header is a JSON array", st_file("array.safetensors", "[1, 2]", NULL, 0),
                      CS_ERR_FORMAT, "not a JSON object", NULL);
    expect_open_fails("hostile: truncated JSON", st_file("cut.safetensors", "{\"a\":{\"dtype\":\"F3", NULL, 0),
                      CS_ERR_FORMAT, "JSON", NULL);

    /* 200000 nested arrays: rejected by depth, no stack overflow. */
    size_t depth = 200000;
    char *deep = malloc(depth * 2 + 16);
    if (deep) {
        size_t n = (size_t)sprintf(deep, "{\"a\":");
        memset(deep + n, '[', depth);
        memset(deep + n + depth, ']', depth);
        strcpy(deep + n + 2 * depth, "}");
        expect_open_fails("hostile: 200000-deep nesting", st_file("deep.safetensors", deep, NULL, 0),
                          CS_ERR_FORMAT, "nested deeper", NULL);
        free(deep);
    }
    expect_open_fails(
        "hostile: huge dimension",
        st_file("hugedim.safetensors",
                "{\"a\":{\"dtype\":\"F32\",\"shape\":[99999999999999999999999],\"data_offsets\":[0,16]}}", zeros, 16),
        CS_ERR_FORMAT, "'a'", "not an integer in range");
    expect_open_fails(
        "hostile: offset written as 1e30",
        st_file("hugeoff.safetensors", "{\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,1e30]}}",
                zeros, 16),
        CS_ERR_FORMAT, "'a'", "data_offsets");
    expect_open_fails(
        "hostile: element count overflows",
        st_file("overflow.safetensors",
                "{\"a\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296,4294967296],\"data_offsets\":[0,16]}}",
                zeros, 16),
        CS_ERR_FORMAT, "'a'", "more elements");
    expect_open_fails(
        "hostile: offsets outside the data",
        st_file("outside.safetensors", "{\"a\":{\"dtype\":\"F32\",\"shape\":[100],\"data_offsets\":[0,400]}}", zeros,
                16),
        CS_ERR_FORMAT, "'a'", "outside");
    expect_open_fails(
        "hostile: begin after end",
        st_file("reversed.safetensors", "{\"a\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[8,4]}}", zeros,
                16),
        CS_ERR_FORMAT, "'a'", "outside");
    expect_open_fails("hostile: overlapping tensors",
                      st_file("overlap.safetensors",
                              "{\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]},"
                              "\"b\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[8,24]}}",
                              zeros, 24),
                      CS_ERR_FORMAT, "overlaps", "'a'");
    expect_open_fails(
        "hostile: shape and offsets disagree",
        st_file("mismatch.safetensors", "{\"a\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,16]}}", zeros,
                16),
        CS_ERR_FORMAT, "'a'", "needs 12 bytes");
    expect_open_fails(
        "hostile: negative dimension",
        st_file("negdim.safetensors", "{\"a\":{\"dtype\":\"F32\",\"shape\":[-4],\"data_offsets\":[0,16]}}", zeros,
                16),
        CS_ERR_FORMAT, "'a'", "negative");
    expect_open_fails("hostile: rank 9",
                      st_file("rank9.safetensors",
                              "{\"a\":{\"dtype\":\"F32\",\"shape\":[1,1,1,1,1,1,1,1,4],\"data_offsets\":[0,16]}}",
                              zeros, 16),
                      CS_ERR_FORMAT, "'a'", "rank 9");
    expect_open_fails(
        "hostile: unknown dtype",
        st_file("dtype.safetensors", "{\"a\":{\"dtype\":\"F99\",\"shape\":[4],\"data_offsets\":[0,16]}}", zeros, 16),
        CS_ERR_FORMAT, "'a'", "unknown dtype 'F99'");
    expect_open_fails(
        "hostile: dtype is a number",
        st_file("dtype_num.safetensors", "{\"a\":{\"dtype\":4,\"shape\":[4],\"data_offsets\":[0,16]}}", zeros, 16),
        CS_ERR_FORMAT, "'a'", "dtype");
    expect_open_fails("hostile: duplicate keys",
                      st_file("dup.safetensors", hdr("{%s,%s}", ok_entry, ok_entry), zeros, 16), CS_ERR_FORMAT,
                      "duplicate", "\"a\"");
    expect_open_fails("hostile: no data_offsets",
                      st_file("nooff.safetensors", "{\"a\":{\"dtype\":\"F32\",\"shape\":[4]}}", zeros, 16),
                      CS_ERR_FORMAT, "'a'", "data_offsets");
    expect_open_fails("hostile: metadata value not a string",
                      st_file("meta.safetensors", hdr("{\"__metadata__\":{\"x\":1},%s}", ok_entry), zeros, 16),
                      CS_ERR_FORMAT, "__metadata__", NULL);
    expect_open_fails("hostile: invalid escape",
                      st_file("esc.safetensors", "{\"a\\x\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[0,0]}}",
                              NULL, 0),
                      CS_ERR_FORMAT, "escape", NULL);
    expect_open_fails("hostile: lone surrogate escape",
                      st_file("surr.safetensors",
                              "{\"a\\ud800\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[0,0]}}", NULL, 0),
                      CS_ERR_FORMAT, "surrogate", NULL);
    expect_open_fails("hostile: short \\u escape",
                      st_file("short_u.safetensors", "{\"a\\u12\":{}}", NULL, 0), CS_ERR_FORMAT, "hex", NULL);
    expect_open_fails("hostile: invalid UTF-8",
                      st_file("utf8.safetensors",
                              "{\"a\xff\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[0,0]}}", NULL, 0),
                      CS_ERR_FORMAT, "UTF-8", NULL);
    expect_open_fails("hostile: overlong UTF-8",
                      st_file("overlong.safetensors",
                              "{\"a\xc0\xaf\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[0,0]}}", NULL, 0),
                      CS_ERR_FORMAT, "UTF-8", NULL);
    expect_open_fails("hostile: raw control character in a string",
                      st_file("ctrl.safetensors", "{\"a\tb\":{}}", NULL, 0), CS_ERR_FORMAT, "control", NULL);
    expect_open_fails("hostile: NUL inside a key",
                      st_file("nul.safetensors",
                              "{\"a\\u0000b\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[0,0]}}", NULL, 0),
                      CS_ERR_FORMAT, "NUL", NULL);
    expect_open_fails("hostile: escaped control character in a tensor key",
                      st_file("keyctl.safetensors",
                              "{\"a\\u001b[2J\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[0,0]}}", NULL, 0),
                      CS_ERR_FORMAT, "a?[2J", "control character");
    expect_open_fails("hostile: number with a leading zero",
                      st_file("lead0.safetensors",
                              "{\"a\":{\"dtype\":\"F32\",\"shape\":[04],\"data_offsets\":[0,16]}}", zeros, 16),
                      CS_ERR_FORMAT, "leading zero", NULL);

    /* 100001 tensors (all empty) is one over the limit. */
    size_t cap = 100001u * 64u + 16u;
    char *many = malloc(cap);
    if (many) {
        size_t n = 0;
        many[n++] = '{';
        for (int i = 0; i < 100001; i++)
            n += (size_t)snprintf(many + n, cap - n,
                                  "%s\"t%d\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[0,0]}",
                                  i ? "," : "", i);
        snprintf(many + n, cap - n, "}");
        expect_open_fails("hostile: 100001 tensors", st_file("many.safetensors", many, NULL, 0), CS_ERR_FORMAT,
                          "100001", "limit");
        free(many);
    }

    /* Valid escapes decode: \u00e9 and a surrogate pair become UTF-8. */
    cs_weights *w = NULL;
    cs_status st = cs_weights_open(
        &w, st_file("escapes.safetensors",
                    "{\"caf\\u00e9\\ud83d\\ude00\\\\\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[0,0]},"
                    "\"__metadata__\":{\"k\":\"v\\\"\"}}",
                    NULL, 0));
    result(st == CS_OK && cs_weights_count(w) == 1 &&
               strcmp(cs_weights_key(w, 0), "caf\xc3\xa9\xf0\x9f\x98\x80\\") == 0,
           "json: \\u00e9, surrogate pair and \\\\ decode to UTF-8; metadata is not a tensor");
    cs_weights_close(w);

    /* Recognised but unsupported dtype: opens, reading it is CS_ERR_FORMAT. */
    st = cs_weights_open(&w, st_file("f64.safetensors",
                                     "{\"d\":{\"dtype\":\"F64\",\"shape\":[2],\"data_offsets\":[0,16]}}", zeros, 16));
    expect("dtype: F64 file opens (tensor listed)", st, CS_OK);
    if (st == CS_OK) {
        float out[2] = {0};
        expect("dtype: reading an F64 tensor is unsupported", cs_weights_read(w, "d", out, 2), CS_ERR_FORMAT,
               "unsupported dtype F64", "'d'");
        cs_weights_close(w);
    }
    /* Gaps between tensors are allowed; zero-size tensors take no bytes. */
    st = cs_weights_open(&w, st_file("gaps.safetensors",
                                     "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,16]},"
                                     "\"z\":{\"dtype\":\"F32\",\"shape\":[0,5],\"data_offsets\":[12,12]},"
                                     "\"b\":{\"dtype\":\"BF16\",\"shape\":[],\"data_offsets\":[20,22]}}",
                                     zeros, 24));
    expect("safetensors: gaps, an empty tensor inside another and a scalar are valid", st, CS_OK);
    cs_weights_close(w);
}

/* Snapshot of every parameter value of g. */
static float *snapshot(const cs_graph *g, size_t *n)
{
    size_t total = 0;
    for (int i = 0; i < cs_graph_node_count(g); i++)
        for (int p = 0; p < cs_graph_param_count(g, i); p++) {
            cs_param_info pi = {0};
            if (cs_graph_param(g, i, p, &pi) == CS_OK)
                total += pi.count;
        }
    float *s = malloc(total * sizeof *s + 1);
    size_t k = 0;
    for (int i = 0; s && i < cs_graph_node_count(g); i++)
        for (int p = 0; p < cs_graph_param_count(g, i); p++) {
            cs_param_info pi = {0};
            if (cs_graph_param(g, i, p, &pi) == CS_OK) {
                memcpy(s + k, pi.data, pi.count * sizeof *s);
                k += pi.count;
            }
        }
    *n = total;
    return s;
}

/* Loading `path` into a seeded graph must fail with `want` and the needles,
 * and leave every value as it was. */
static void expect_load_fails(const char *label, const char *path, const char *skip, cs_status want, const char *n1,
                              const char *n2, const char *n3)
{
    char what[256] = {0};
    cs_graph *g = small_graph();
    cs_weights *w = NULL;
    if (!g || cs_weights_open(&w, path) != CS_OK) {
        printf("    setup failed: %s\n", cs_last_error());
        result(0, label);
        cs_graph_free(g);
        return;
    }
    cs_graph_init_seeded(g, 11);
    size_t n0 = 0, n1c = 0;
    float *before = snapshot(g, &n0);
    cs_load_report rep = {0};
    cs_status st = cs_graph_load_weights(g, w, skip, &rep);
    expect(label, st, want, n1, n2, n3);
    float *after = snapshot(g, &n1c);
    snprintf(what, sizeof what, "%s: graph unchanged after the failed load", label);
    result(before && after && n0 == n1c && memcmp(before, after, n0 * sizeof(float)) == 0 && rep.loaded == 0, what);
    free(before);
    free(after);
    cs_weights_close(w);
    cs_graph_free(g);
}

static void test_load_errors(void)
{
    /* All tensors right but one extra: the failure comes after every graph
     * tensor matched, and still nothing may be written. */
    const char *extra = "\"fc2.weight\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[724,728]}";
    expect_load_fails("load: unexpected tensor", small_file("extra.safetensors", "F32", 1.0f, NULL, NULL, NULL,
                                                            extra, 4),
                      NULL, CS_ERR_FORMAT, "fc2.weight", "not in the model", "extra.safetensors");
    expect_load_fails("load: missing tensor",
                      small_file("missing.safetensors", "F32", 1.0f, "fc.bias", NULL, NULL, NULL, 0), NULL,
                      CS_ERR_FORMAT, "fc.bias", "missing", NULL);
    expect_load_fails("load: wrong shape names the tensor and both shapes",
                      small_file("shape.safetensors", "F32", 1.0f, NULL, "conv1.weight", "3,2,9,1", NULL, 0), NULL,
                      CS_ERR_SHAPE, "'conv1.weight'", "[3, 2, 9, 1]", "[3, 2, 3, 3]");
    expect_load_fails("load: wrong rank",
                      small_file("rank.safetensors", "F32", 1.0f, NULL, "fc.weight", "108", NULL, 0), NULL,
                      CS_ERR_SHAPE, "'fc.weight'", "[108]", "[4, 27]");
    expect_load_fails("load: F64 tensor the model needs",
                      small_file("f64graph.safetensors", "F64", 1.0f, NULL, NULL, NULL, NULL, 0), NULL, CS_ERR_FORMAT,
                      "unsupported dtype F64", "f64graph", NULL);
    expect_load_fails("load: skip prefix does not hide a needed tensor",
                      small_file("missing2.safetensors", "F32", 1.0f, "conv1.bias", NULL, NULL, NULL, 0), "conv1.",
                      CS_ERR_FORMAT, "conv1.bias", "missing", NULL);

    /* num_batches_tracked (I64) and skip prefixes are ignored and counted. */
    const char *ignorable =
        "\"bn1.num_batches_tracked\":{\"dtype\":\"I64\",\"shape\":[],\"data_offsets\":[724,732]},"
        "\"aux1.fc.weight\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[732,740]},"
        "\"aux2.conv.bias\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[740,744]}";
    const char *path = small_file("ignorable.safetensors", "F32", 0.5f, NULL, NULL, NULL, ignorable, 20);
    cs_graph *g = small_graph();
    cs_weights *w = NULL;
    cs_status st = cs_weights_open(&w, path);
    if (g && st == CS_OK) {
        cs_load_report rep = {0};
        st = cs_graph_load_weights(g, w, "aux1., aux2.", &rep);
        expect("load: num_batches_tracked and skip prefixes ignored", st, CS_OK);
        result(rep.loaded == 8 && rep.ignored == 3 && strstr(rep.note, "aux1.") && strstr(rep.note, "3"),
               "load: report counts 8 loaded, 3 ignored and names the prefixes");
        if (verbose)
            printf("    note: \"%s\"\n", rep.note);
        cs_param_info pi = {0};
        int node = cs_graph_find(g, "bn1");
        result(node >= 0 && cs_graph_param(g, node, 2, &pi) == CS_OK && pi.data[0] == 0.5f && pi.data[2] == 1.0f,
               "load: bn1.running_mean loaded from the file");
    } else {
        result(0, "load: open the ignorable-tensors file");
    }
    cs_weights_close(w);
    cs_graph_free(g);
    expect_load_fails("load: aux tensors without a skip prefix are unexpected", path, "aux1.", CS_ERR_FORMAT,
                      "aux2.conv.bias", "not in the model", NULL);
}

/* ------------------------------------------------------------------------ */
/* npy                                                                      */
/* ------------------------------------------------------------------------ */

/* A .npy v1.0 file with `header` (padded to 64 with spaces + '\n') and data. */
static const char *npy_file(const char *name, int major, const char *header, const void *data, size_t dlen)
{
    unsigned char buf[1024] = {0};
    size_t pre = major == 1 ? 10 : 12, n = strlen(header);
    size_t hl = n + 1;
    while ((pre + hl) % 64)
        hl++;
    memcpy(buf, "\x93NUMPY", 6);
    buf[6] = (unsigned char)major;
    buf[7] = 0;
    buf[8] = (unsigned char)(hl & 0xFF);
    buf[9] = (unsigned char)(hl >> 8);
    memcpy(buf + pre, header, n);
    memset(buf + pre + n, ' ', hl - n - 1);
    buf[pre + hl - 1] = '\n';
    if (dlen)
        memcpy(buf + pre + hl, data, dlen);
    const char *path = fixture(name);
    write_bytes(path, buf, pre + hl + dlen);
    return path;
}

static void expect_npy_fails(const char *label, const char *path, cs_status want, const char *n1, const char *n2)
{
    float *data = NULL;
    int ndim = 0;
    int64_t dims[8] = {0};
    cs_status st = cs_npy_read(path, &data, &ndim, dims);
    expect(label, st, want, n1, n2);
    if (data) {
        printf("    data returned on failure\n");
        cs_free(data);
    }
}

static void test_npy(void)
{
    float v[24] = {0};
    for (int i = 0; i < 24; i++)
        v[i] = (float)i * 0.5f - 3.0f;
    const int64_t d3[3] = {2, 3, 4};
    const char *path = fixture("t.npy");
    expect("npy: write (2, 3, 4)", cs_npy_write(path, v, 3, d3), CS_OK);
    float *r = NULL;
    int ndim = 0;
    int64_t dims[8] = {0};
    cs_status st = cs_npy_read(path, &r, &ndim, dims);
    result(st == CS_OK && ndim == 3 && dims[0] == 2 && dims[1] == 3 && dims[2] == 4 && r &&
               memcmp(r, v, sizeof v) == 0,
           "npy: round trip (2, 3, 4) is bit-exact");
    cs_free(r);
    r = NULL;
    FILE *f = fopen(path, "rb");
    unsigned char pre[10] = {0};
    int ok = f && fread(pre, 1, 10, f) == 10 && pre[6] == 1 && (10 + (pre[8] | pre[9] << 8)) % 64 == 0;
    if (f)
        fclose(f);
    result(ok, "npy: written as version 1.0 with the header padded to 64 bytes");

    const int64_t d1[1] = {5};
    st = cs_npy_write(fixture("v5.npy"), v, 1, d1);
    st = st == CS_OK ? cs_npy_read(fixture("v5.npy"), &r, &ndim, dims) : st;
    result(st == CS_OK && ndim == 1 && dims[0] == 5 && r && r[4] == v[4], "npy: round trip (5,)");
    cs_free(r);
    r = NULL;
    st = cs_npy_write(fixture("scalar.npy"), v + 3, 0, NULL);
    st = st == CS_OK ? cs_npy_read(fixture("scalar.npy"), &r, &ndim, dims) : st;
    result(st == CS_OK && ndim == 0 && r && r[0] == v[3], "npy: round trip of a scalar ()");
    cs_free(r);
    r = NULL;
    const int64_t d0[2] = {0, 3};
    st = cs_npy_write(fixture("empty.npy"), NULL, 2, d0);
    st = st == CS_OK ? cs_npy_read(fixture("empty.npy"), &r, &ndim, dims) : st;
    result(st == CS_OK && ndim == 2 && dims[0] == 0 && dims[1] == 3 && r != NULL, "npy: round trip of (0, 3)");
    cs_free(r);
    r = NULL;

    /* '<f8' and '<f2' convert; version 2.0 headers read. */
    double dv[3] = {1.5, -2.25, 1e-3};
    path = npy_file("f8.npy", 1, "{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }", dv, sizeof dv);
    st = cs_npy_read(path, &r, &ndim, dims);
    result(st == CS_OK && ndim == 1 && r && r[0] == 1.5f && r[1] == -2.25f && r[2] == (float)1e-3,
           "npy: '<f8' converts to float32");
    cs_free(r);
    r = NULL;
    const unsigned char hv[6] = {0x00, 0x3C, 0x00, 0xC0, 0x01, 0x00}; /* 1, -2, 2^-24 */
    path = npy_file("f2.npy", 2, "{\"descr\": \"<f2\", \"fortran_order\": False, \"shape\": (1, 3)}", hv, sizeof hv);
    st = cs_npy_read(path, &r, &ndim, dims);
    result(st == CS_OK && ndim == 2 && r && r[0] == 1.0f && r[1] == -2.0f && r[2] == 0x1p-24f,
           "npy: version 2.0, '<f2' with a subnormal converts exactly");
    cs_free(r);
    r = NULL;

    float z[6] = {0};
    write_bytes(fixture("magic.npy"), "\x93NUMPZ\x01\x00\x10\x00{}", 12);
    expect_npy_fails("npy hostile: bad magic", fixture("magic.npy"), CS_ERR_FORMAT, "magic", NULL);
    write_bytes(fixture("tiny.npy"), "\x93NU", 3);
    expect_npy_fails("npy hostile: 3-byte file", fixture("tiny.npy"), CS_ERR_FORMAT, "not a .npy", NULL);
    expect_npy_fails("npy hostile: missing file", fixture("nope.npy"), CS_ERR_IO, "nope.npy", NULL);
    expect_npy_fails("npy hostile: header dict not closed",
                     npy_file("dict.npy", 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (6,) ", z, sizeof z),
                     CS_ERR_FORMAT, "header dict", NULL);
    expect_npy_fails("npy hostile: header is not a dict", npy_file("nodict.npy", 1, "garbage", z, sizeof z),
                     CS_ERR_FORMAT, "header dict", NULL);
    expect_npy_fails("npy hostile: unknown key",
                     npy_file("key.npy", 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (6,), 'x': 1}", z,
                              sizeof z),
                     CS_ERR_FORMAT, "unknown or repeated", NULL);
    expect_npy_fails("npy hostile: repeated key",
                     npy_file("rep.npy", 1, "{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (6,)}",
                              z, sizeof z),
                     CS_ERR_FORMAT, "unknown or repeated", NULL);
    expect_npy_fails("npy hostile: fortran order",
                     npy_file("fortran.npy", 1, "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }", z,
                              sizeof z),
                     CS_ERR_FORMAT, "fortran_order", "ascontiguousarray");
    expect_npy_fails("npy hostile: int32 dtype",
                     npy_file("i4.npy", 1, "{'descr': '<i4', 'fortran_order': False, 'shape': (6,), }", z, sizeof z),
                     CS_ERR_FORMAT, "'<i4'", "not supported");
    expect_npy_fails("npy hostile: big-endian dtype",
                     npy_file("be.npy", 1, "{'descr': '>f4', 'fortran_order': False, 'shape': (6,), }", z, sizeof z),
                     CS_ERR_FORMAT, "'>f4'", NULL);
    expect_npy_fails("npy hostile: structured dtype",
                     npy_file("struct.npy", 1, "{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (6,), }",
                              z, sizeof z),
                     CS_ERR_FORMAT, "structured", NULL);
    expect_npy_fails("npy hostile: truncated data",
                     npy_file("trunc.npy", 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 4), }", z,
                              sizeof z),
                     CS_ERR_FORMAT, "truncated", "32 bytes");
    expect_npy_fails("npy hostile: trailing data",
                     npy_file("extra.npy", 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (5,), }", z, sizeof z),
                     CS_ERR_FORMAT, "20 bytes", NULL);
    expect_npy_fails("npy hostile: 9 dims",
                     npy_file("rank9.npy", 1,
                              "{'descr': '<f4', 'fortran_order': False, 'shape': (1,1,1,1,1,1,1,1,6), }", z, sizeof z),
                     CS_ERR_FORMAT, "8 dimensions", NULL);
    expect_npy_fails("npy hostile: negative dimension",
                     npy_file("neg.npy", 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (-6,), }", z, sizeof z),
                     CS_ERR_FORMAT, "negative", NULL);
    expect_npy_fails("npy hostile: dimension overflows int64",
                     npy_file("big.npy", 1,
                              "{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999,), }", z,
                              sizeof z),
                     CS_ERR_FORMAT, "too large", NULL);
    expect_npy_fails("npy hostile: element count overflows",
                     npy_file("prod.npy", 1,
                              "{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296, 4294967296, 16), }", z,
                              sizeof z),
                     CS_ERR_FORMAT, "more elements", NULL);
    expect_npy_fails("npy hostile: shape (6) is not a tuple",
                     npy_file("paren.npy", 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (6), }", z, sizeof z),
                     CS_ERR_FORMAT, "not a tuple", NULL);
    write_bytes(fixture("hlen.npy"), "\x93NUMPY\x01\x00\xff\x7f{}", 12);
    expect_npy_fails("npy hostile: header length past the end", fixture("hlen.npy"), CS_ERR_FORMAT,
                     "more than the file", NULL);
    write_bytes(fixture("v9.npy"), "\x93NUMPY\x09\x00\x02\x00{}", 12);
    expect_npy_fails("npy hostile: version 9.0", fixture("v9.npy"), CS_ERR_FORMAT, "version 9.0", NULL);

    const int64_t d9[9] = {1, 1, 1, 1, 1, 1, 1, 1, 1};
    expect("npy: writing 9 dims is refused", cs_npy_write(fixture("w9.npy"), v, 9, d9), CS_ERR_INVALID_ARG,
           "dimensions");
    const int64_t dn[2] = {2, -1};
    expect("npy: writing a negative dim is refused", cs_npy_write(fixture("wn.npy"), v, 2, dn), CS_ERR_INVALID_ARG,
           "negative");
    expect("npy: writing into a missing directory is CS_ERR_IO",
           cs_npy_write(fixture("no/such/dir/x.npy"), v, 1, d1), CS_ERR_IO, "x.npy");
}

/* ------------------------------------------------------------------------ */
/* Images                                                                   */
/* ------------------------------------------------------------------------ */

/* The test image: a sharp pattern so resampling and rounding show. */
static unsigned char pattern(int x, int y, int c)
{
    return (unsigned char)((x * 29 + y * 13 + c * 71 + ((x * y) % 17) * 5) & 255);
}

static int write_pattern_png(const char *path, int w, int h)
{
    unsigned char *px = malloc((size_t)w * (size_t)h * 3);
    if (!px)
        return 0;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            for (int c = 0; c < 3; c++)
                px[((size_t)y * (size_t)w + (size_t)x) * 3 + (size_t)c] = pattern(x, y, c);
    int ok = stbi_write_png(path, w, h, 3, px, w * 3) != 0;
    free(px);
    return ok;
}

typedef struct img_ref {
    int index;
    float value;
} img_ref;

/* Runs cs_image_load and compares with values from torchvision 0.14 / PIL 9.4
 * (transforms Resize, CenterCrop or Grayscale + Resize + Pad, ToTensor,
 * Normalize on the same pixels): six values, the sum and a position-weighted
 * sum (weight i % 7 + 1). */
static void check_image(const char *label, const char *path, const cs_model_info *m, int in_h, int in_w,
                        const img_ref *ref, double sum, double wsum)
{
    size_t n = (size_t)m->in_c * (size_t)in_h * (size_t)in_w;
    float *out = malloc(n * sizeof *out);
    if (!out) {
        result(0, label);
        return;
    }
    for (size_t i = 0; i < n; i++)
        out[i] = NAN; /* canary */
    cs_status st = cs_image_load(path, m, in_h, in_w, out, n);
    int ok = st == CS_OK;
    double s = 0.0, ws = 0.0;
    for (size_t i = 0; ok && i < n; i++) {
        if (!isfinite(out[i])) {
            printf("    out[%zu] not written\n", i);
            ok = 0;
        }
        s += out[i];
        ws += out[i] * (double)(i % 7 + 1);
    }
    for (int k = 0; ok && k < 6; k++) {
        float got = out[ref[k].index], want = ref[k].value;
        if (fabsf(got - want) > 1e-5f + 1e-5f * fabsf(want)) {
            printf("    out[%d] = %.7f, torchvision %.7f\n", ref[k].index, (double)got, (double)want);
            ok = 0;
        }
    }
    if (ok && (fabs(s - sum) > 1e-3 || fabs(ws - wsum) > 1e-3)) {
        printf("    sum %.6f (torchvision %.6f), weighted %.6f (torchvision %.6f)\n", s, sum, ws, wsum);
        ok = 0;
    }
    if (st != CS_OK)
        printf("    %s: %s\n", cs_status_name(st), cs_last_error());
    result(ok, label);
    free(out);
}

static uint32_t crc32_png(const unsigned char *p, size_t n)
{
    uint32_t c = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++)
            c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1u)));
    }
    return ~c;
}

/* A PNG signature + IHDR that claims w x h (colour type `color`), then IEND:
 * nothing to decode, only a size to reject. */
static const char *png_header_only(const char *name, uint32_t w, uint32_t h, int color)
{
    unsigned char b[64] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n', 0, 0, 0, 13, 'I', 'H', 'D', 'R'};
    size_t n = 16;
    for (int k = 3; k >= 0; k--)
        b[n++] = (unsigned char)(w >> (8 * k));
    for (int k = 3; k >= 0; k--)
        b[n++] = (unsigned char)(h >> (8 * k));
    b[n++] = 8;
    b[n++] = (unsigned char)color;
    b[n++] = 0;
    b[n++] = 0;
    b[n++] = 0;
    uint32_t crc = crc32_png(b + 12, 17);
    for (int k = 3; k >= 0; k--)
        b[n++] = (unsigned char)(crc >> (8 * k));
    const unsigned char iend[12] = {0, 0, 0, 0, 'I', 'E', 'N', 'D', 0xAE, 0x42, 0x60, 0x82};
    memcpy(b + n, iend, sizeof iend);
    n += sizeof iend;
    const char *path = fixture(name);
    write_bytes(path, b, n);
    return path;
}

static void test_images(void)
{
    const char *png = fixture("pattern.png");
    const char *tiny = fixture("tiny.png");
    if (!write_pattern_png(png, 37, 23) || !write_pattern_png(tiny, 5, 3)) {
        result(0, "image: write the test PNGs");
        return;
    }
    cs_model_info imnet = {0};
    imnet.name = "test_imagenet";
    imnet.in_c = 3;
    imnet.in_h = 12;
    imnet.in_w = 12;
    imnet.resize = 16;
    const float mean[3] = {0.485f, 0.456f, 0.406f}, std[3] = {0.229f, 0.224f, 0.225f};
    memcpy(imnet.mean, mean, sizeof mean);
    memcpy(imnet.std, std, sizeof std);

    /* 37x23 -> Resize(16) = 25x16 (downscale, antialiased) -> crop left round(6.5) = 6. */
    const img_ref ra[6] = {{0, -0.5938008f},   {1, 0.4165597f},   {149, -0.0749300f},
                           {223, -1.0728291f}, {431, 0.7227889f}, {301, -1.0898474f}};
    check_image("image: ImageNet-style resize 16 + centre crop 12 matches torchvision", png, &imnet, 12, 12, ra,
                85.580083, 308.465985);
    /* A 24x24 input scales the resize with it: Resize(32), CenterCrop(24). */
    const img_ref rb[6] = {{0, -0.0286840f},  {1, 0.5021834f},    {581, -1.5280112f},
                           {871, 1.4306723f}, {1727, 1.1236603f}, {1165, 0.7576472f}};
    check_image("image: 24x24 input of a 12x12 model resizes to 32 (torchvision values)", png, &imnet, 24, 24, rb,
                340.947033, 1454.734325);
    /* 5x3 upscaled to 26x16, crop 12x12. */
    const img_ref rd[6] = {{0, -1.6555357f},  {1, -1.5527872f},  {149, 0.1701681f},
                           {223, 0.8354343f}, {431, -1.2641394f}, {301, 1.2979523f}};
    check_image("image: upscaling a 5x3 image matches torchvision", tiny, &imnet, 12, 12, rd, 152.322264,
                608.584023);

    cs_model_info lenet = {0};
    lenet.name = "test_lenet";
    lenet.in_c = 1;
    lenet.in_h = 16;
    lenet.in_w = 16;
    lenet.grey = 1;
    lenet.pad = 2;
    lenet.mean[0] = 0.0784314f;
    lenet.std[0] = 0.7843137f;
    /* Grayscale, Resize((12, 12)), Pad(2): the border is background -0.1. */
    const img_ref rc[6] = {{0, -0.1f}, {1, -0.1f}, {90, 0.6250001f}, {135, 0.64f}, {255, -0.1f}, {183, 0.45f}};
    check_image("image: LeNet-style grey + resize to 12x12 + pad 2 matches torchvision", png, &lenet, 16, 16, rc,
                65.869999, 261.229995);

    float out[3 * 12 * 12] = {0};
    expect("image: wrong output count", cs_image_load(png, &imnet, 12, 12, out, 100), CS_ERR_INVALID_ARG, "100");
    expect("image: missing file is CS_ERR_IO", cs_image_load(fixture("nope.png"), &imnet, 12, 12, out, 432),
           CS_ERR_IO, "nope.png");
    write_bytes(fixture("text.png"), "this is not an image\n", 21);
    expect("image: a text file is CS_ERR_FORMAT", cs_image_load(fixture("text.png"), &imnet, 12, 12, out, 432),
           CS_ERR_FORMAT, "text.png", "not an image");
    write_bytes(fixture("empty.png"), "", 0);
    expect("image: an empty file is CS_ERR_FORMAT", cs_image_load(fixture("empty.png"), &imnet, 12, 12, out, 432),
           CS_ERR_FORMAT, "empty");
    expect("image: PNG header claiming 100000x100000 is rejected before decoding",
           cs_image_load(png_header_only("bomb.png", 100000, 100000, 2), &imnet, 12, 12, out, 432), CS_ERR_FORMAT,
           "bomb.png", "100000 x 100000", "refusing to decode");
    expect("image: PNG header claiming 20000x20000 grey is over the 16384 limit",
           cs_image_load(png_header_only("bomb2.png", 20000, 20000, 0), &imnet, 12, 12, out, 432), CS_ERR_FORMAT,
           "20000 x 20000", "limit");
    expect("image: PNG header claiming 16384x16385 grey is over the limit",
           cs_image_load(png_header_only("bomb3.png", 16384, 16385, 0), &imnet, 12, 12, out, 432), CS_ERR_FORMAT,
           "16385");
    /* JPEG decodes (lossy: only a loose check). */
    unsigned char flat[16 * 16 * 3];
    memset(flat, 200, sizeof flat);
    const char *jpg = fixture("flat.jpg");
    int wrote = stbi_write_jpg(jpg, 16, 16, 3, flat, 95) != 0;
    cs_status st = wrote ? cs_image_load(jpg, &imnet, 12, 12, out, 432) : CS_ERR_IO;
    float want = (200.0f / 255.0f - mean[0]) / std[0];
    result(st == CS_OK && fabsf(out[0] - want) < 0.05f, "image: a flat JPEG decodes to about its value");
}

/* ------------------------------------------------------------------------ */
/* Labels and assets                                                        */
/* ------------------------------------------------------------------------ */

static void test_labels(void)
{
    cs_labels *l = NULL;
    cs_status st = cs_labels_builtin(&l, "imagenet");
    expect("labels: imagenet loads", st, CS_OK);
    result(st == CS_OK && cs_labels_count(l) == 1000 && strcmp(cs_labels_get(l, 0), "tench") == 0 &&
               strcmp(cs_labels_get(l, 999), "toilet tissue") == 0,
           "labels: imagenet has 1000 classes, 0 'tench', 999 'toilet tissue'");
    result(cs_labels_get(l, -1) == NULL && cs_labels_get(l, 1000) == NULL, "labels: out of range gives NULL");
    cs_labels_free(l);
    l = NULL;
    st = cs_labels_builtin(&l, "fashion-mnist");
    result(st == CS_OK && cs_labels_count(l) == 10 && strcmp(cs_labels_get(l, 0), "T-shirt/top") == 0 &&
               strcmp(cs_labels_get(l, 9), "Ankle boot") == 0,
           "labels: fashion-mnist has 10 classes, 'T-shirt/top' .. 'Ankle boot'");
    cs_labels_free(l);
    l = NULL;

    write_bytes(fixture("l.txt"), "cat\r\n\ndog  \nbird", 16);
    st = cs_labels_load(&l, fixture("l.txt"));
    result(st == CS_OK && cs_labels_count(l) == 4 && strcmp(cs_labels_get(l, 0), "cat") == 0 &&
               strcmp(cs_labels_get(l, 1), "") == 0 && strcmp(cs_labels_get(l, 2), "dog") == 0 &&
               strcmp(cs_labels_get(l, 3), "bird") == 0,
           "labels: CRLF and trailing spaces trimmed, empty line kept, last line without newline");
    cs_labels_free(l);
    l = NULL;
    write_bytes(fixture("l0.txt"), "", 0);
    expect("labels: empty file is CS_ERR_FORMAT", cs_labels_load(&l, fixture("l0.txt")), CS_ERR_FORMAT, "0 labels");
    expect("labels: missing file is CS_ERR_IO", cs_labels_load(&l, fixture("nol.txt")), CS_ERR_IO, "nol.txt");
    expect("labels: set name with a path is refused", cs_labels_builtin(&l, "../secret"), CS_ERR_INVALID_ARG,
           "../secret");
    expect("labels: unknown set is CS_ERR_IO naming where it looked", cs_labels_builtin(&l, "klingon"), CS_ERR_IO,
           "klingon", "looked in");

    /* $CONVSCOPE_ASSETS wins when the file is there. */
    char old[1024] = {0};
    const char *env = getenv("CONVSCOPE_ASSETS");
    snprintf(old, sizeof old, "%s", env ? env : "");
    char dir[600] = {0};
    snprintf(dir, sizeof dir, "%s/assets", tmpdir);
    mkdir(dir, 0755);
    snprintf(dir, sizeof dir, "%s/assets/labels", tmpdir);
    mkdir(dir, 0755);
    write_bytes(fixture("assets/labels/imagenet.txt"), "only\n", 5);
    snprintf(dir, sizeof dir, "%s/assets", tmpdir);
    setenv("CONVSCOPE_ASSETS", dir, 1);
    char path[4096] = {0};
    st = cs_asset_path("labels/imagenet.txt", path, sizeof path);
    result(st == CS_OK && strncmp(path, dir, strlen(dir)) == 0, "assets: CONVSCOPE_ASSETS is looked at first");
    expect("assets: a too-small buffer is refused", cs_asset_path("labels/imagenet.txt", path, 8),
           CS_ERR_INVALID_ARG, "buffer");
    expect("assets: '..' is refused", cs_asset_path("../etc/passwd", path, sizeof path), CS_ERR_INVALID_ARG, "..");
    if (old[0])
        setenv("CONVSCOPE_ASSETS", old, 1);
    else
        unsetenv("CONVSCOPE_ASSETS");
}

/* When CONVSCOPE_ASSETS is not set and the tests run from build/tests, the
 * source tree's assets are two levels up from the executable. */
static void find_assets(void)
{
    const char *env = getenv("CONVSCOPE_ASSETS");
    if (env && *env)
        return;
    char exe[2048] = {0};
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 64);
    if (n <= 0)
        return;
    exe[n] = '\0';
    char *slash = strrchr(exe, '/');
    if (!slash)
        return;
    strcpy(slash, "/../../assets");
    char probe[2200] = {0};
    snprintf(probe, sizeof probe, "%s/labels/imagenet.txt", exe);
    if (access(probe, R_OK) == 0)
        setenv("CONVSCOPE_ASSETS", exe, 1);
}

int main(int argc, char **argv)
{
    verbose = argc > 1 && strcmp(argv[1], "-v") == 0;
    const char *base = getenv("TMPDIR");
    snprintf(tmpdir, sizeof tmpdir, "%s/cs_test_io.XXXXXX", base && *base ? base : "/tmp");
    if (!mkdtemp(tmpdir)) {
        printf("cannot create a temp dir under %s\n", base && *base ? base : "/tmp");
        return 1;
    }
    find_assets();
    test_round_trip();
    test_half_conversion();
    test_hostile_headers();
    test_load_errors();
    test_npy();
    test_images();
    test_labels();
    remove_tree(tmpdir);
    printf("%d passed, %d failed\n", n_passed, n_failed);
    return n_failed == 0 ? 0 : 1;
}
