/* safetensors weights: open a file (memory-mapped, header validated in full
 * before anything is trusted), read tensors converted to float32, load a
 * graph's tensors all-or-nothing with exact key and shape checks, and save a
 * graph's tensors as F32 atomically.
 *
 * Dtypes: F32, F16 and BF16 are read (converted exactly to float32). Other
 * dtypes of the safetensors spec (F64, I64, U8, BOOL, F8_*, ...) are
 * recognised: the file opens and such tensors can be listed, sized and
 * skipped, but reading one (cs_weights_read, or a load that needs it) is
 * CS_ERR_FORMAT "unsupported dtype". An unknown dtype string fails the open.
 * Tensors may leave gaps in the data section but must not overlap.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/graph.h"
#include "core/status.h"
#include "io/json.h"

#define ST_MAX_HEADER 100000000u  /* bytes of JSON; the Rust reference uses the same limit */
#define ST_MAX_TENSORS 100000
#define ST_MAX_RANK 8
#define ST_MAX_DEPTH 16           /* a valid header nests 3 deep */
#define ST_MAX_VALUES 2000000     /* 100000 rank-8 tensors need 1.4M */
#define ST_MAX_STRING (1u << 20)  /* one key or metadata string */
#define ST_LIST_MAX 4             /* keys quoted in a missing/unexpected message */

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define ST_HOST_LE 1
#else
#define ST_HOST_LE 0
#endif

typedef struct st_dtype {
    const char *name;
    size_t size;      /* bytes per element */
    int readable;     /* converted to float32 by cs_weights_read */
} st_dtype;

enum { DT_F32 = 0, DT_F16, DT_BF16 };

static const st_dtype dtypes[] = {
    {"F32", 4, 1},     {"F16", 2, 1},     {"BF16", 2, 1},    {"F64", 8, 0},      {"I64", 8, 0},
    {"U64", 8, 0},     {"I32", 4, 0},     {"U32", 4, 0},     {"I16", 2, 0},      {"U16", 2, 0},
    {"I8", 1, 0},      {"U8", 1, 0},      {"BOOL", 1, 0},    {"F8_E4M3", 1, 0},  {"F8_E5M2", 1, 0},
    {"F8_E8M0", 1, 0}, {"C64", 8, 0},
};
#define N_DTYPES ((int)(sizeof dtypes / sizeof dtypes[0]))

typedef struct st_tensor {
    const char *key;       /* in cs_weights.keys */
    int dtype;             /* index into dtypes[] */
    int ndim;
    int64_t dims[ST_MAX_RANK];
    size_t count;          /* elements */
    size_t begin, end;     /* byte range inside the data section */
} st_tensor;

struct cs_weights {
    char *path;
    void *map;
    size_t map_size;
    const unsigned char *data;  /* data section: map + 8 + header length */
    size_t data_size;
    st_tensor *t;               /* sorted by key */
    int count;
    char *keys;                 /* arena of the keys */
};

/* ------------------------------------------------------------------------ */
/* Helpers                                                                  */
/* ------------------------------------------------------------------------ */

static uint64_t le64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int k = 7; k >= 0; k--)
        v = (v << 8) | p[k];
    return v;
}

/* "[64, 64, 3, 3]" into buf. */
static const char *shape_str(char *buf, size_t size, int ndim, const int64_t *dims)
{
    size_t used = 0;
    buf[0] = '\0';
    used += (size_t)snprintf(buf, size, "[");
    for (int k = 0; k < ndim && used < size; k++)
        used += (size_t)snprintf(buf + used, size - used, "%s%" PRId64, k ? ", " : "", dims[k]);
    if (used < size)
        snprintf(buf + used, size - used, "]");
    return buf;
}

static int cmp_tensor_key(const void *a, const void *b)
{
    return strcmp(((const st_tensor *)a)->key, ((const st_tensor *)b)->key);
}

static int cmp_tensor_begin(const void *a, const void *b)
{
    const st_tensor *x = *(const st_tensor *const *)a, *y = *(const st_tensor *const *)b;
    if (x->begin != y->begin)
        return x->begin < y->begin ? -1 : 1;
    return (x->end > y->end) - (x->end < y->end);
}

static const st_tensor *find(const cs_weights *w, const char *key)
{
    st_tensor probe = {0};
    probe.key = key;
    return bsearch(&probe, w->t, (size_t)w->count, sizeof *w->t, cmp_tensor_key);
}

/* Exact IEEE half -> single, including subnormals, infinities and NaN payloads. */
static float f16_to_f32(uint16_t h)
{
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
    uint32_t exp = (h >> 10) & 0x1Fu;
    uint32_t man = h & 0x3FFu;
    uint32_t bits = 0;
    float f = 0.0f;
    if (exp == 0) {
        f = (float)man * 0x1p-24f; /* zero or subnormal: man * 2^-24, exact */
        memcpy(&bits, &f, sizeof bits);
        bits |= sign;
    } else if (exp == 31) {
        bits = sign | 0x7F800000u | (man << 13);
    } else {
        bits = sign | ((exp + 112u) << 23) | (man << 13);
    }
    memcpy(&f, &bits, sizeof f);
    return f;
}

static float bf16_to_f32(uint16_t h)
{
    uint32_t bits = (uint32_t)h << 16;
    float f = 0.0f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

/* Converts a validated, readable tensor into dst (t->count floats). */
static void convert(const cs_weights *w, const st_tensor *t, float *dst)
{
    const unsigned char *src = w->data + t->begin;
    if (t->count == 0)
        return;
    if (t->dtype == DT_F32) {
        if (ST_HOST_LE) {
            memcpy(dst, src, t->count * sizeof(float));
            return;
        }
        for (size_t i = 0; i < t->count; i++) {
            const unsigned char *b = src + 4 * i;
            uint32_t bits = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
            memcpy(&dst[i], &bits, sizeof bits);
        }
        return;
    }
    for (size_t i = 0; i < t->count; i++) {
        uint16_t h = (uint16_t)(src[2 * i] | (src[2 * i + 1] << 8));
        dst[i] = t->dtype == DT_F16 ? f16_to_f32(h) : bf16_to_f32(h);
    }
}

/* ------------------------------------------------------------------------ */
/* Open: header validation                                                  */
/* ------------------------------------------------------------------------ */

/* Integer value of a JSON number that is a non-negative int64, else -1. */
static int64_t json_uint(const cs_json_value *v)
{
    if (v->type != CS_JSON_NUMBER || !v->is_int || v->i < 0)
        return -1;
    return v->i;
}

static cs_status bad(const char *path, const char *key, const char *what)
{
    return cs_error(CS_ERR_FORMAT, "weights file '%s': tensor '%.300s': %s", path, key, what);
}

/* Validates one tensor entry `{"dtype", "shape", "data_offsets"}` into *t
 * (t->key already set). Unknown extra fields are ignored, as the reference
 * implementation does. */
static cs_status parse_entry(const char *path, const cs_json *j, int id, size_t data_size, st_tensor *t)
{
    char msg[512] = {0};
    const cs_json_value *e = &j->values[id];
    if (e->type != CS_JSON_OBJECT)
        return bad(path, t->key, "entry is not an object with dtype, shape and data_offsets");
    int d = cs_json_member(j, id, "dtype"), s = cs_json_member(j, id, "shape");
    int o = cs_json_member(j, id, "data_offsets");
    if (d < 0 || s < 0 || o < 0)
        return bad(path, t->key, d < 0 ? "no 'dtype'" : s < 0 ? "no 'shape'" : "no 'data_offsets'");

    const cs_json_value *dv = &j->values[d];
    if (dv->type != CS_JSON_STRING)
        return bad(path, t->key, "'dtype' is not a string");
    t->dtype = -1;
    for (int k = 0; k < N_DTYPES; k++)
        if (strlen(dtypes[k].name) == dv->len && memcmp(dtypes[k].name, dv->str, dv->len) == 0)
            t->dtype = k;
    if (t->dtype < 0) {
        char name[41] = {0};
        snprintf(msg, sizeof msg, "unknown dtype '%s'", cs_json_printable(name, sizeof name, dv->str));
        return bad(path, t->key, msg);
    }

    const cs_json_value *sv = &j->values[s];
    if (sv->type != CS_JSON_ARRAY)
        return bad(path, t->key, "'shape' is not an array");
    if (sv->count > ST_MAX_RANK) {
        snprintf(msg, sizeof msg, "shape has rank %d, over the limit of %d", sv->count, ST_MAX_RANK);
        return bad(path, t->key, msg);
    }
    t->ndim = sv->count;
    int k = 0, zero = 0;
    for (int c = sv->first; c >= 0; c = j->values[c].next, k++) {
        const cs_json_value *dim = &j->values[c];
        if (dim->type == CS_JSON_NUMBER && dim->is_int && dim->i < 0) {
            snprintf(msg, sizeof msg, "shape dimension %d is negative (%" PRId64 ")", k, dim->i);
            return bad(path, t->key, msg);
        }
        t->dims[k] = json_uint(dim);
        if (t->dims[k] < 0) {
            snprintf(msg, sizeof msg, "shape dimension %d is not an integer in range", k);
            return bad(path, t->key, msg);
        }
        zero |= t->dims[k] == 0;
    }
    char sh[160] = {0};
    shape_str(sh, sizeof sh, t->ndim, t->dims);
    size_t count = 1;
    int overflow = 0;
    for (k = 0; k < t->ndim && !zero && !overflow; k++) {
        if ((uint64_t)t->dims[k] > SIZE_MAX / count)
            overflow = 1;
        else
            count *= (size_t)t->dims[k];
    }
    if (zero)
        count = 0; /* an empty tensor has no elements whatever its other dimensions */
    if (overflow || count > SIZE_MAX / dtypes[t->dtype].size) {
        snprintf(msg, sizeof msg, "shape %s has more elements than memory can address", sh);
        return bad(path, t->key, msg);
    }
    t->count = count;
    size_t nbytes = count * dtypes[t->dtype].size;

    const cs_json_value *ov = &j->values[o];
    if (ov->type != CS_JSON_ARRAY || ov->count != 2)
        return bad(path, t->key, "'data_offsets' is not an array [begin, end]");
    int64_t begin = json_uint(&j->values[ov->first]);
    int64_t end = json_uint(&j->values[j->values[ov->first].next]);
    if (begin < 0 || end < 0)
        return bad(path, t->key, "'data_offsets' are not non-negative integers in range");
    if (begin > end || (uint64_t)end > (uint64_t)data_size) {
        snprintf(msg, sizeof msg,
                 "data_offsets [%" PRId64 ", %" PRId64 "] are outside the %zu-byte data section (truncated file?)",
                 begin, end, data_size);
        return bad(path, t->key, msg);
    }
    t->begin = (size_t)begin;
    t->end = (size_t)end;
    if (t->end - t->begin != nbytes) {
        snprintf(msg, sizeof msg, "%s %s needs %zu bytes but data_offsets [%zu, %zu] hold %zu", dtypes[t->dtype].name,
                 sh, nbytes, t->begin, t->end, t->end - t->begin);
        return bad(path, t->key, msg);
    }
    return CS_OK;
}

/* __metadata__ must map strings to strings. */
static cs_status check_metadata(const char *path, const cs_json *j, int id)
{
    const cs_json_value *m = &j->values[id];
    if (m->type != CS_JSON_OBJECT)
        return cs_error(CS_ERR_FORMAT, "weights file '%s': __metadata__ is not an object", path);
    char key[201] = {0};
    for (int c = m->first; c >= 0; c = j->values[c].next)
        if (j->values[c].type != CS_JSON_STRING)
            return cs_error(CS_ERR_FORMAT, "weights file '%s': __metadata__ value '%s' is not a string", path,
                            cs_json_printable(key, sizeof key, j->values[c].key));
    return CS_OK;
}

/* Sorted by offset, no two tensors may share a byte. */
static cs_status check_overlap(cs_weights *w)
{
    if (w->count < 2)
        return CS_OK;
    const st_tensor **order = malloc((size_t)w->count * sizeof *order);
    if (!order)
        return cs_error(CS_ERR_NO_MEMORY, "weights file '%s': out of memory", w->path);
    for (int i = 0; i < w->count; i++)
        order[i] = &w->t[i];
    qsort(order, (size_t)w->count, sizeof *order, cmp_tensor_begin);
    const st_tensor *prev = NULL;
    cs_status st = CS_OK;
    for (int i = 0; i < w->count && st == CS_OK; i++) {
        const st_tensor *t = order[i];
        if (t->begin == t->end)
            continue; /* empty tensors occupy no bytes */
        if (prev && t->begin < prev->end)
            st = cs_error(CS_ERR_FORMAT,
                          "weights file '%s': tensor '%.300s' (bytes %zu..%zu) overlaps tensor '%.300s' "
                          "(bytes %zu..%zu)",
                          w->path, t->key, t->begin, t->end, prev->key, prev->begin, prev->end);
        if (!prev || t->end > prev->end)
            prev = t;
    }
    free(order);
    return st;
}

static cs_status parse_header(cs_weights *w, const char *text, size_t len)
{
    const cs_json_limits lim = {ST_MAX_DEPTH, ST_MAX_VALUES, ST_MAX_STRING};
    cs_json *j = NULL;
    cs_status st = cs_json_parse(text, len, &lim, &j);
    if (st != CS_OK)
        return cs_error_context(st, "weights file '%s': header", w->path);
    const cs_json_value *root = &j->values[0];
    if (root->type != CS_JSON_OBJECT) {
        st = cs_error(CS_ERR_FORMAT, "weights file '%s': header is not a JSON object", w->path);
        goto done;
    }
    int n = 0;
    size_t key_bytes = 0;
    for (int c = root->first; c >= 0; c = j->values[c].next) {
        const cs_json_value *m = &j->values[c];
        if (strcmp(m->key, "__metadata__") == 0 && m->key_len == strlen("__metadata__")) {
            if ((st = check_metadata(w->path, j, c)) != CS_OK)
                goto done;
            continue;
        }
        int control = strlen(m->key) != m->key_len;
        for (size_t k = 0; k < m->key_len && !control; k++)
            control = (unsigned char)m->key[k] < 0x20 || m->key[k] == 0x7F;
        if (control) {
            char key[301] = {0};
            st = cs_error(CS_ERR_FORMAT, "weights file '%s': tensor key '%s' contains a NUL or control character",
                          w->path, cs_json_printable(key, sizeof key, m->key));
            goto done;
        }
        n++;
        key_bytes += m->key_len + 1;
    }
    if (n > ST_MAX_TENSORS) {
        st = cs_error(CS_ERR_FORMAT, "weights file '%s': %d tensors, over the limit of %d", w->path, n,
                      ST_MAX_TENSORS);
        goto done;
    }
    w->t = calloc(n ? (size_t)n : 1u, sizeof *w->t);
    w->keys = malloc(key_bytes ? key_bytes : 1u);
    if (!w->t || !w->keys) {
        st = cs_error(CS_ERR_NO_MEMORY, "weights file '%s': out of memory for %d tensors", w->path, n);
        goto done;
    }
    char *kp = w->keys;
    for (int c = root->first; c >= 0; c = j->values[c].next) {
        const cs_json_value *m = &j->values[c];
        if (strcmp(m->key, "__metadata__") == 0)
            continue;
        st_tensor *t = &w->t[w->count];
        memcpy(kp, m->key, m->key_len + 1);
        t->key = kp;
        kp += m->key_len + 1;
        if ((st = parse_entry(w->path, j, c, w->data_size, t)) != CS_OK)
            goto done;
        w->count++;
    }
    qsort(w->t, (size_t)w->count, sizeof *w->t, cmp_tensor_key);
    st = check_overlap(w);
done:
    cs_json_free(j);
    return st;
}

cs_status cs_weights_open(cs_weights **out, const char *path)
{
    if (!out)
        return cs_error(CS_ERR_INVALID_ARG, "cs_weights_open: out is NULL");
    *out = NULL;
    if (!path || !*path)
        return cs_error(CS_ERR_INVALID_ARG, "cs_weights_open: no path given");
    cs_weights *w = calloc(1, sizeof *w);
    if (w)
        w->path = strdup(path);
    if (!w || !w->path) {
        free(w);
        return cs_error(CS_ERR_NO_MEMORY, "weights file '%s': out of memory", path);
    }
    cs_status st = CS_OK;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK); /* a FIFO must not block */
    if (fd < 0) {
        st = cs_error(CS_ERR_IO, "weights file '%s': cannot open: %s", path, strerror(errno));
        goto fail;
    }
    struct stat sb = {0};
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        st = cs_error(CS_ERR_IO, "weights file '%s': not a regular file", path);
        goto fail;
    }
    if (sb.st_size < 8) {
        st = cs_error(CS_ERR_FORMAT,
                      "weights file '%s': %lld bytes is too short for a safetensors file (8-byte header length "
                      "first)",
                      path, (long long)sb.st_size);
        goto fail;
    }
    if ((uint64_t)sb.st_size > SIZE_MAX) {
        st = cs_error(CS_ERR_IO, "weights file '%s': too large to map", path);
        goto fail;
    }
    w->map_size = (size_t)sb.st_size;
    w->map = mmap(NULL, w->map_size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (w->map == MAP_FAILED) {
        w->map = NULL;
        st = cs_error(CS_ERR_IO, "weights file '%s': cannot map %zu bytes: %s", path, w->map_size, strerror(errno));
        goto fail;
    }
    close(fd);
    fd = -1;
    const unsigned char *base = w->map;
    uint64_t hlen = le64(base);
    if (hlen > ST_MAX_HEADER) {
        st = cs_error(CS_ERR_FORMAT,
                      "weights file '%s': header length %" PRIu64 " is over the %u-byte limit (not a "
                      "safetensors file?)",
                      path, hlen, ST_MAX_HEADER);
        goto fail;
    }
    if (hlen > w->map_size - 8) {
        st = cs_error(CS_ERR_FORMAT,
                      "weights file '%s': header length %" PRIu64 " is more than the %zu bytes that follow it "
                      "(truncated file?)",
                      path, hlen, w->map_size - 8);
        goto fail;
    }
    w->data = base + 8 + hlen;
    w->data_size = w->map_size - 8 - (size_t)hlen;
    if ((st = parse_header(w, (const char *)base + 8, (size_t)hlen)) != CS_OK)
        goto fail;
    *out = w;
    return CS_OK;
fail:
    if (fd >= 0)
        close(fd);
    cs_weights_close(w);
    return st;
}

void cs_weights_close(cs_weights *w)
{
    if (!w)
        return;
    if (w->map)
        munmap(w->map, w->map_size);
    free(w->t);
    free(w->keys);
    free(w->path);
    free(w);
}

int cs_weights_count(const cs_weights *w)
{
    return w ? w->count : 0;
}

const char *cs_weights_key(const cs_weights *w, int index)
{
    if (!w || index < 0 || index >= w->count)
        return NULL;
    return w->t[index].key;
}

cs_status cs_weights_shape(const cs_weights *w, const char *key, int *ndim, int64_t dims[8])
{
    if (!w || !key)
        return cs_error(CS_ERR_INVALID_ARG, "cs_weights_shape: weights or key is NULL");
    const st_tensor *t = find(w, key);
    if (!t)
        return cs_error(CS_ERR_INVALID_ARG, "weights file '%s' has no tensor '%.300s'", w->path, key);
    if (ndim)
        *ndim = t->ndim;
    if (dims) {
        for (int k = 0; k < ST_MAX_RANK; k++)
            dims[k] = k < t->ndim ? t->dims[k] : 0;
    }
    return CS_OK;
}

static cs_status unsupported(const cs_weights *w, const st_tensor *t)
{
    return cs_error(CS_ERR_FORMAT,
                    "weights file '%s': tensor '%.300s' has unsupported dtype %s; convscope reads F32, F16 and "
                    "BF16 (hint: convert with tensor.float() before saving)",
                    w->path, t->key, dtypes[t->dtype].name);
}

cs_status cs_weights_read(const cs_weights *w, const char *key, float *dst, size_t count)
{
    if (!w || !key)
        return cs_error(CS_ERR_INVALID_ARG, "cs_weights_read: weights or key is NULL");
    const st_tensor *t = find(w, key);
    if (!t)
        return cs_error(CS_ERR_INVALID_ARG, "weights file '%s' has no tensor '%.300s'", w->path, key);
    if (!dtypes[t->dtype].readable)
        return unsupported(w, t);
    if (count != t->count)
        return cs_error(CS_ERR_INVALID_ARG, "weights file '%s': tensor '%.300s' has %zu elements, not %zu", w->path,
                        key, t->count, count);
    if (count && !dst)
        return cs_error(CS_ERR_INVALID_ARG, "cs_weights_read: dst is NULL");
    convert(w, t, dst);
    return CS_OK;
}

/* ------------------------------------------------------------------------ */
/* Load into a graph                                                        */
/* ------------------------------------------------------------------------ */

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* 1 when key starts with one of the comma-separated prefixes in skip. */
static int skipped(const char *key, const char *skip)
{
    const char *p = skip;
    while (p && *p) {
        while (*p == ',' || *p == ' ')
            p++;
        size_t n = strcspn(p, ",");
        size_t m = n;
        while (m > 0 && p[m - 1] == ' ')
            m--;
        if (m > 0 && strncmp(key, p, m) == 0)
            return 1;
        p += n;
    }
    return 0;
}

/* Appends "'key'" to a running list, at most ST_LIST_MAX names then "...". */
static void list_add(char *buf, size_t size, int *n, const char *key)
{
    size_t used = strlen(buf);
    if (*n < ST_LIST_MAX)
        snprintf(buf + used, size - used, "%s'%.120s'", *n ? ", " : "", key);
    else if (*n == ST_LIST_MAX)
        snprintf(buf + used, size - used, ", ...");
    (*n)++;
}

static int same_shape(const st_tensor *t, const cs_tensor *gt)
{
    if (t->ndim != gt->ndim)
        return 0;
    for (int k = 0; k < t->ndim; k++)
        if (t->dims[k] != (int64_t)gt->dims[k])
            return 0;
    return 1;
}

cs_status cs_graph_load_weights(cs_graph *g, const cs_weights *w, const char *skip, cs_load_report *report)
{
    if (!g || !w)
        return cs_error(CS_ERR_INVALID_ARG, "cs_graph_load_weights: graph or weights is NULL");
    if (report)
        memset(report, 0, sizeof *report);
    if (g->status != CS_OK)
        return cs_error(CS_ERR_STATE, "cs_graph_load_weights: graph '%s' has a build error", g->model);
    unsigned char *used = calloc(w->count ? (size_t)w->count : 1u, 1);
    if (!used)
        return cs_error(CS_ERR_NO_MEMORY, "weights file '%s': out of memory", w->path);

    char key[CS_NAME_MAX + 32] = {0};
    char missing[640] = {0}, unexpected[640] = {0}, first_err[1024] = {0};
    int n_missing = 0, n_unexpected = 0, n_loaded = 0, n_counters = 0, n_skipped = 0;
    cs_status first_st = CS_OK;

    /* 1. Every graph tensor must be in the file, same shape, readable dtype. */
    for (int i = 0; i < g->n_nodes; i++) {
        const cs_node *n = &g->nodes[i];
        for (int p = 0; p < n->n_params; p++) {
            const cs_tensor *gt = &n->params[p];
            if (gt->constant)
                continue;
            snprintf(key, sizeof key, "%s.%s", n->name, gt->name);
            const st_tensor *t = find(w, key);
            if (!t) {
                list_add(missing, sizeof missing, &n_missing, key);
                continue;
            }
            used[t - w->t] = 1;
            if (first_err[0])
                continue;
            if (!same_shape(t, gt)) {
                char a[160] = {0}, b[160] = {0};
                int64_t gd[4] = {0};
                for (int k = 0; k < gt->ndim && k < 4; k++)
                    gd[k] = gt->dims[k];
                snprintf(first_err, sizeof first_err, "tensor '%s' has shape %s but the model needs %s", key,
                         shape_str(a, sizeof a, t->ndim, t->dims), shape_str(b, sizeof b, gt->ndim, gd));
                first_st = CS_ERR_SHAPE;
            } else if (!dtypes[t->dtype].readable) {
                snprintf(first_err, sizeof first_err,
                         "tensor '%s' has unsupported dtype %s (convscope reads F32, F16 and BF16)", key,
                         dtypes[t->dtype].name);
                first_st = CS_ERR_FORMAT;
            }
        }
    }
    /* 2. Every file tensor must be used, counted as ignored, or skipped. */
    for (int i = 0; i < w->count; i++) {
        if (used[i])
            continue;
        if (ends_with(w->t[i].key, "num_batches_tracked"))
            n_counters++;
        else if (skipped(w->t[i].key, skip))
            n_skipped++;
        else
            list_add(unexpected, sizeof unexpected, &n_unexpected, w->t[i].key);
    }
    free(used);
    if (first_err[0] || n_missing || n_unexpected) {
        char rest[1400] = {0};
        size_t r = 0;
        if (n_missing)
            r += (size_t)snprintf(rest + r, sizeof rest - r, "%s%d tensor%s the model needs %s missing (%s)",
                                  first_err[0] ? "; also " : "", n_missing, n_missing == 1 ? "" : "s",
                                  n_missing == 1 ? "is" : "are", missing);
        if (n_unexpected && r < sizeof rest)
            r += (size_t)snprintf(rest + r, sizeof rest - r, "%s%d tensor%s in the file %s not in the model (%s)",
                                  first_err[0] || n_missing ? "; " : "", n_unexpected,
                                  n_unexpected == 1 ? "" : "s", n_unexpected == 1 ? "is" : "are", unexpected);
        return cs_error(first_st != CS_OK ? first_st : CS_ERR_FORMAT,
                        "weights file '%s': %s%s; nothing was loaded (hint: is the file made for model '%s'? "
                        "keys are PyTorch state_dict names)",
                        w->path, first_err, rest, g->model);
    }

    /* 3. Everything checked: the copies below cannot fail. */
    for (int i = 0; i < g->n_nodes; i++) {
        cs_node *n = &g->nodes[i];
        for (int p = 0; p < n->n_params; p++) {
            cs_tensor *gt = &n->params[p];
            if (gt->constant)
                continue;
            snprintf(key, sizeof key, "%s.%s", n->name, gt->name);
            convert(w, find(w, key), gt->data);
            n_loaded++;
        }
    }
    if (report) {
        report->loaded = n_loaded;
        report->ignored = n_counters + n_skipped;
        if (n_counters + n_skipped > 0) {
            int k = snprintf(report->note, sizeof report->note, "ignored %d tensors: %d num_batches_tracked counters",
                             n_counters + n_skipped, n_counters);
            if (n_skipped > 0 && k > 0 && (size_t)k < sizeof report->note)
                snprintf(report->note + k, sizeof report->note - (size_t)k, ", %d under the skipped prefixes %.300s",
                         n_skipped, skip);
        }
    }
    return CS_OK;
}

/* ------------------------------------------------------------------------ */
/* Save                                                                     */
/* ------------------------------------------------------------------------ */

typedef struct sbuf {
    char *p;
    size_t len, cap;
    int oom;
} sbuf;

static void sb_add(sbuf *b, const char *s, size_t n)
{
    if (b->oom)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p) {
            b->oom = 1;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void sb_str(sbuf *b, const char *s)
{
    sb_add(b, s, strlen(s));
}

/* A JSON string literal: quotes, backslashes and control characters escaped. */
static void sb_json_string(sbuf *b, const char *s)
{
    sb_add(b, "\"", 1);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        char esc[8] = {0};
        if (c == '"' || c == '\\') {
            esc[0] = '\\';
            esc[1] = (char)c;
            sb_add(b, esc, 2);
        } else if (c < 0x20) {
            snprintf(esc, sizeof esc, "\\u%04x", c);
            sb_add(b, esc, 6);
        } else {
            sb_add(b, (const char *)&c, 1);
        }
    }
    sb_add(b, "\"", 1);
}

typedef struct save_entry {
    char key[CS_NAME_MAX + 32];
    const cs_tensor *t;
} save_entry;

static int cmp_save_entry(const void *a, const void *b)
{
    return strcmp(((const save_entry *)a)->key, ((const save_entry *)b)->key);
}

/* Writes count floats little-endian. */
static int write_f32(FILE *f, const float *data, size_t count)
{
    if (ST_HOST_LE)
        return fwrite(data, sizeof(float), count, f) == count;
    unsigned char buf[4096] = {0};
    for (size_t i = 0; i < count;) {
        size_t n = 0;
        for (; n < sizeof buf / 4 && i < count; n++, i++) {
            uint32_t bits = 0;
            memcpy(&bits, &data[i], sizeof bits);
            for (int k = 0; k < 4; k++)
                buf[4 * n + (size_t)k] = (unsigned char)(bits >> (8 * k));
        }
        if (fwrite(buf, 4, n, f) != n)
            return 0;
    }
    return 1;
}

static cs_status save_entries(const char *path, const char *model, save_entry *e, int n);

cs_status cs_graph_save_weights(const cs_graph *g, const char *path)
{
    if (!g || !path || !*path)
        return cs_error(CS_ERR_INVALID_ARG, "cs_graph_save_weights: graph or path is missing");
    if (g->status != CS_OK)
        return cs_error(CS_ERR_STATE, "cs_graph_save_weights: graph '%s' has a build error", g->model);
    int n = 0;
    for (int i = 0; i < g->n_nodes; i++)
        for (int p = 0; p < g->nodes[i].n_params; p++)
            n += g->nodes[i].params[p].constant ? 0 : 1;
    save_entry *e = calloc(n ? (size_t)n : 1u, sizeof *e);
    if (!e)
        return cs_error(CS_ERR_NO_MEMORY, "saving weights to '%s': out of memory", path);
    int k = 0;
    for (int i = 0; i < g->n_nodes; i++) {
        for (int p = 0; p < g->nodes[i].n_params; p++) {
            const cs_tensor *t = &g->nodes[i].params[p];
            if (t->constant)
                continue;
            snprintf(e[k].key, sizeof e[k].key, "%s.%s", g->nodes[i].name, t->name);
            e[k++].t = t;
        }
    }
    cs_status st = save_entries(path, g->model, e, n);
    free(e);
    return st;
}

cs_status cs_safetensors_save(const char *path, const char *model, int n, const char *const *keys,
                              const float *const *data, const size_t *counts)
{
    if (!path || !*path || n < 0 || (n > 0 && (!keys || !data || !counts)))
        return cs_error(CS_ERR_INVALID_ARG, "cs_safetensors_save: missing argument");
    save_entry *e = calloc(n ? (size_t)n : 1u, sizeof *e);
    cs_tensor *t = calloc(n ? (size_t)n : 1u, sizeof *t);
    cs_status st = CS_OK;
    if (!e || !t) {
        st = cs_error(CS_ERR_NO_MEMORY, "saving '%s': out of memory", path);
    } else {
        for (int k = 0; k < n && st == CS_OK; k++) {
            if (counts[k] > (size_t)INT32_MAX || strlen(keys[k]) >= sizeof e[k].key) {
                st = cs_error(CS_ERR_INVALID_ARG, "saving '%s': tensor '%s' too large or key too long",
                              path, keys[k]);
                break;
            }
            t[k].ndim = 1;
            t[k].dims[0] = (int)counts[k];
            t[k].count = counts[k];
            t[k].data = (float *)data[k];
            snprintf(e[k].key, sizeof e[k].key, "%s", keys[k]);
            e[k].t = &t[k];
        }
        if (st == CS_OK)
            st = save_entries(path, model ? model : "", e, n);
    }
    free(e);
    free(t);
    return st;
}

static cs_status save_entries(const char *path, const char *model, save_entry *e, int n)
{
    static atomic_uint tmp_seq; /* temporary names unique per call, also across threads */
    char *tmp = malloc(strlen(path) + 48);
    sbuf h = {0};
    FILE *f = NULL;
    cs_status st = CS_OK;
    int k = 0;
    if (!tmp) {
        st = cs_error(CS_ERR_NO_MEMORY, "saving weights to '%s': out of memory", path);
        goto done;
    }
    qsort(e, (size_t)n, sizeof *e, cmp_save_entry);
    for (k = 1; k < n; k++) {
        if (strcmp(e[k - 1].key, e[k].key) == 0) {
            st = cs_error(CS_ERR_INVALID_ARG, "saving weights to '%s': two tensors share the key '%s'", path,
                          e[k].key);
            goto done;
        }
    }

    /* Header: metadata first, then the tensors in key order. */
    sb_str(&h, "{\"__metadata__\":{\"format\":\"pt\",\"producer\":\"convscope\",\"model\":");
    sb_json_string(&h, model);
    sb_str(&h, "}");
    size_t offset = 0;
    for (k = 0; k < n; k++) {
        char num[64] = {0};
        sb_str(&h, ",");
        sb_json_string(&h, e[k].key);
        sb_str(&h, ":{\"dtype\":\"F32\",\"shape\":[");
        for (int d = 0; d < e[k].t->ndim; d++) {
            snprintf(num, sizeof num, "%s%d", d ? "," : "", e[k].t->dims[d]);
            sb_str(&h, num);
        }
        size_t bytes = e[k].t->count * sizeof(float);
        snprintf(num, sizeof num, "],\"data_offsets\":[%zu,%zu]}", offset, offset + bytes);
        sb_str(&h, num);
        offset += bytes;
    }
    sb_str(&h, "}");
    while (!h.oom && h.len % 8 != 0)
        sb_add(&h, " ", 1);
    if (h.oom) {
        st = cs_error(CS_ERR_NO_MEMORY, "saving weights to '%s': out of memory for the header", path);
        goto done;
    }

    /* Data into a temporary file next to the target, then rename. */
    snprintf(tmp, strlen(path) + 48, "%s.tmp.%ld.%u", path, (long)getpid(), atomic_fetch_add(&tmp_seq, 1u));
    f = fopen(tmp, "wb");
    if (!f) {
        st = cs_error(CS_ERR_IO, "saving weights: cannot create '%s': %s", tmp, strerror(errno));
        goto done;
    }
    unsigned char len8[8] = {0};
    for (int b = 0; b < 8; b++)
        len8[b] = (unsigned char)((uint64_t)h.len >> (8 * b));
    int ok = fwrite(len8, 1, 8, f) == 8 && fwrite(h.p, 1, h.len, f) == h.len;
    for (k = 0; k < n && ok; k++)
        ok = write_f32(f, e[k].t->data, e[k].t->count);
    ok = ok && fflush(f) == 0 && fsync(fileno(f)) == 0;
    int err = errno;
    if (fclose(f) != 0 && ok) {
        ok = 0;
        err = errno;
    }
    f = NULL;
    if (!ok) {
        st = cs_error(CS_ERR_IO, "saving weights to '%s': write failed: %s (disk full?)", path, strerror(err));
        remove(tmp);
        goto done;
    }
    if (rename(tmp, path) != 0) {
        st = cs_error(CS_ERR_IO, "saving weights: cannot rename '%s' to '%s': %s", tmp, path, strerror(errno));
        remove(tmp);
        goto done;
    }
done:
    free(h.p);
    free(tmp);
    return st;
}
