/* .npy tensors: read little-endian float arrays ('<f4'; '<f2' and '<f8' are
 * converted to float32) in C order with up to 8 dims from version 1.0, 2.0 or
 * 3.0 files, every size checked against the file; write '<f4' version 1.0
 * files atomically (temp file + rename).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/status.h"

#define NPY_MAX_RANK 8
#define NPY_MAX_HEADER 65536u  /* bytes of header dict; numpy writes < 200 */
#define NPY_ALIGN 64

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define NPY_HOST_LE 1
#else
#define NPY_HOST_LE 0
#endif

static const char magic[6] = {'\x93', 'N', 'U', 'M', 'P', 'Y'};

/* ------------------------------------------------------------------------ */
/* Header dict parsing                                                      */
/* ------------------------------------------------------------------------ */

typedef struct hdr {
    const char *s;
    size_t len, pos;
    const char *path;
} hdr;

typedef struct npy_info {
    char descr[16];
    int fortran;
    int ndim;
    int64_t dims[NPY_MAX_RANK];
} npy_info;

static cs_status hfail(const hdr *h, const char *what)
{
    return cs_error(CS_ERR_FORMAT, "npy file '%s': header dict: %s (at byte %zu of \"%.120s\")", h->path, what,
                    h->pos, h->s);
}

static void hws(hdr *h)
{
    while (h->pos < h->len && (h->s[h->pos] == ' ' || h->s[h->pos] == '\t' || h->s[h->pos] == '\n' ||
                               h->s[h->pos] == '\r'))
        h->pos++;
}

static int hpeek(const hdr *h)
{
    return h->pos < h->len ? (unsigned char)h->s[h->pos] : -1;
}

/* A Python string literal without escapes, quoted with ' or ". */
static cs_status hstring(hdr *h, char *out, size_t size)
{
    int q = hpeek(h);
    if (q != '\'' && q != '"')
        return hfail(h, "expected a quoted string");
    size_t start = ++h->pos;
    while (h->pos < h->len && h->s[h->pos] != q && h->s[h->pos] != '\\')
        h->pos++;
    if (hpeek(h) != q)
        return hfail(h, "unterminated or escaped string");
    size_t n = h->pos - start;
    h->pos++;
    if (n + 1 > size)
        return hfail(h, "string too long");
    memcpy(out, h->s + start, n);
    out[n] = '\0';
    return CS_OK;
}

static int hword(hdr *h, const char *w)
{
    size_t n = strlen(w);
    if (h->len - h->pos < n || memcmp(h->s + h->pos, w, n) != 0)
        return 0;
    h->pos += n;
    return 1;
}

/* `()`, `(5,)`, `(3, 4)`, `(3, 4,)`; Python 2's `3L` is accepted. */
static cs_status htuple(hdr *h, npy_info *info)
{
    if (hpeek(h) != '(')
        return hfail(h, "'shape' is not a tuple");
    h->pos++;
    info->ndim = 0;
    for (;;) {
        hws(h);
        if (hpeek(h) == ')') {
            h->pos++;
            break;
        }
        if (hpeek(h) == '-')
            return hfail(h, "'shape' has a negative dimension");
        if (hpeek(h) < '0' || hpeek(h) > '9')
            return hfail(h, "'shape' holds something other than integers");
        if (info->ndim == NPY_MAX_RANK)
            return cs_error(CS_ERR_FORMAT, "npy file '%s': more than %d dimensions", h->path, NPY_MAX_RANK);
        int64_t v = 0;
        while (hpeek(h) >= '0' && hpeek(h) <= '9') {
            int d = hpeek(h) - '0';
            if (v > (INT64_MAX - d) / 10)
                return hfail(h, "'shape' dimension is too large");
            v = v * 10 + d;
            h->pos++;
        }
        if (hpeek(h) == 'L')
            h->pos++;
        info->dims[info->ndim++] = v;
        hws(h);
        if (hpeek(h) == ',') {
            h->pos++;
            continue;
        }
        if (hpeek(h) != ')')
            return hfail(h, "expected ',' or ')' in 'shape'");
        if (info->ndim == 1)
            return hfail(h, "'shape' (n) is not a tuple; numpy writes (n,)");
        h->pos++;
        break;
    }
    return CS_OK;
}

static cs_status parse_dict(hdr *h, npy_info *info)
{
    int seen_descr = 0, seen_fortran = 0, seen_shape = 0;
    cs_status st = CS_OK;
    hws(h);
    if (hpeek(h) != '{')
        return hfail(h, "does not start with '{'");
    h->pos++;
    for (;;) {
        char key[32] = {0};
        hws(h);
        if (hpeek(h) == '}')
            break;
        if ((st = hstring(h, key, sizeof key)) != CS_OK)
            return st;
        hws(h);
        if (hpeek(h) != ':')
            return hfail(h, "expected ':'");
        h->pos++;
        hws(h);
        if (strcmp(key, "descr") == 0 && !seen_descr) {
            seen_descr = 1;
            if (hpeek(h) != '\'' && hpeek(h) != '"')
                return cs_error(CS_ERR_FORMAT,
                                "npy file '%s': structured dtypes are not supported; convscope reads float arrays",
                                h->path);
            if ((st = hstring(h, info->descr, sizeof info->descr)) != CS_OK)
                return st;
        } else if (strcmp(key, "fortran_order") == 0 && !seen_fortran) {
            seen_fortran = 1;
            if (hword(h, "True"))
                info->fortran = 1;
            else if (hword(h, "False"))
                info->fortran = 0;
            else
                return hfail(h, "'fortran_order' is not True or False");
        } else if (strcmp(key, "shape") == 0 && !seen_shape) {
            seen_shape = 1;
            if ((st = htuple(h, info)) != CS_OK)
                return st;
        } else {
            return hfail(h, "unknown or repeated key");
        }
        hws(h);
        if (hpeek(h) == ',') {
            h->pos++;
            continue;
        }
        if (hpeek(h) != '}')
            return hfail(h, "expected ',' or '}'");
        break;
    }
    h->pos++;
    hws(h);
    if (h->pos != h->len)
        return hfail(h, "trailing characters after the dict");
    if (!seen_descr || !seen_fortran || !seen_shape)
        return hfail(h, "needs 'descr', 'fortran_order' and 'shape'");
    return CS_OK;
}

/* ------------------------------------------------------------------------ */
/* Read                                                                     */
/* ------------------------------------------------------------------------ */

static float half_to_float(uint16_t h)
{
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16, exp = (h >> 10) & 0x1Fu, man = h & 0x3FFu;
    uint32_t bits = 0;
    float f = 0.0f;
    if (exp == 0) {
        f = (float)man * 0x1p-24f;
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

/* Converts n little-endian elements of `size` bytes (2, 4 or 8) in raw to float. */
static void to_float(const unsigned char *raw, size_t size, size_t n, float *out)
{
    for (size_t i = 0; i < n; i++) {
        const unsigned char *b = raw + i * size;
        uint64_t v = 0;
        for (size_t k = size; k-- > 0;)
            v = (v << 8) | b[k];
        if (size == 2) {
            out[i] = half_to_float((uint16_t)v);
        } else if (size == 4) {
            uint32_t u = (uint32_t)v;
            memcpy(&out[i], &u, sizeof u);
        } else {
            double d = 0.0;
            memcpy(&d, &v, sizeof d);
            out[i] = (float)d;
        }
    }
}

static cs_status read_exact(FILE *f, void *dst, size_t n, const char *path, const char *what)
{
    if (n && fread(dst, 1, n, f) != n)
        return cs_error(ferror(f) ? CS_ERR_IO : CS_ERR_FORMAT, "npy file '%s': %s: %s", path, what,
                        ferror(f) ? strerror(errno) : "file is truncated");
    return CS_OK;
}

cs_status cs_npy_read(const char *path, float **data, int *ndim, int64_t dims[8])
{
    if (!data)
        return cs_error(CS_ERR_INVALID_ARG, "cs_npy_read: data is NULL");
    *data = NULL;
    if (!path || !*path || !ndim || !dims)
        return cs_error(CS_ERR_INVALID_ARG, "cs_npy_read: path, ndim and dims are required");
    FILE *f = fopen(path, "rb");
    if (!f)
        return cs_error(CS_ERR_IO, "npy file '%s': cannot open: %s", path, strerror(errno));
    cs_status st = CS_OK;
    char *header = NULL;
    unsigned char *raw = NULL;
    float *out = NULL;
    struct stat sb = {0};
    if (fstat(fileno(f), &sb) != 0 || !S_ISREG(sb.st_mode)) {
        st = cs_error(CS_ERR_IO, "npy file '%s': not a regular file", path);
        goto done;
    }
    unsigned char pre[12] = {0};
    if ((uint64_t)sb.st_size < 10 || fread(pre, 1, 10, f) != 10 || memcmp(pre, magic, 6) != 0) {
        st = cs_error(CS_ERR_FORMAT, "npy file '%s': not a .npy file (no \\x93NUMPY magic)", path);
        goto done;
    }
    int major = pre[6];
    size_t prefix = 10, hlen = (size_t)pre[8] | (size_t)pre[9] << 8;
    if (major == 2 || major == 3) {
        if ((st = read_exact(f, pre + 10, 2, path, "header length")) != CS_OK)
            goto done;
        prefix = 12;
        hlen |= (size_t)pre[10] << 16 | (size_t)pre[11] << 24;
    } else if (major != 1) {
        st = cs_error(CS_ERR_FORMAT, "npy file '%s': format version %d.%d is not supported (1.0, 2.0, 3.0 are)",
                      path, major, pre[7]);
        goto done;
    }
    if (hlen > NPY_MAX_HEADER || hlen > (uint64_t)sb.st_size - prefix) {
        st = cs_error(CS_ERR_FORMAT, "npy file '%s': header length %zu is %s", path, hlen,
                      hlen > NPY_MAX_HEADER ? "over the 64 KiB limit" : "more than the file holds");
        goto done;
    }
    header = malloc(hlen + 1);
    if (!header) {
        st = cs_error(CS_ERR_NO_MEMORY, "npy file '%s': out of memory", path);
        goto done;
    }
    if ((st = read_exact(f, header, hlen, path, "header")) != CS_OK)
        goto done;
    header[hlen] = '\0';
    if (memchr(header, '\0', hlen)) {
        st = cs_error(CS_ERR_FORMAT, "npy file '%s': header holds a NUL byte", path);
        goto done;
    }
    npy_info info = {0};
    hdr h = {header, hlen, 0, path};
    if ((st = parse_dict(&h, &info)) != CS_OK)
        goto done;

    size_t esize = 0;
    if (strcmp(info.descr, "<f4") == 0)
        esize = 4;
    else if (strcmp(info.descr, "<f2") == 0)
        esize = 2;
    else if (strcmp(info.descr, "<f8") == 0)
        esize = 8;
    if (!esize) {
        st = cs_error(CS_ERR_FORMAT,
                      "npy file '%s': dtype '%s' is not supported; convscope reads little-endian floats '<f4' "
                      "('<f2' and '<f8' are converted) (hint: np.save(path, a.astype('<f4')))",
                      path, info.descr);
        goto done;
    }
    if (info.fortran) {
        st = cs_error(CS_ERR_FORMAT,
                      "npy file '%s': fortran_order is True; convscope reads C order (hint: np.save(path, "
                      "np.ascontiguousarray(a)))",
                      path);
        goto done;
    }
    size_t count = 1;
    int zero = 0;
    for (int k = 0; k < info.ndim; k++)
        zero |= info.dims[k] == 0;
    for (int k = 0; k < info.ndim && !zero; k++) {
        if ((uint64_t)info.dims[k] > SIZE_MAX / count / esize) {
            st = cs_error(CS_ERR_FORMAT, "npy file '%s': shape has more elements than memory can address", path);
            goto done;
        }
        count *= (size_t)info.dims[k];
    }
    if (zero)
        count = 0;
    uint64_t have = (uint64_t)sb.st_size - prefix - hlen;
    if (have != (uint64_t)count * esize) {
        st = cs_error(CS_ERR_FORMAT, "npy file '%s': shape needs %zu bytes of %s data but the file has %" PRIu64 "%s",
                      path, count * esize, info.descr, have, have < (uint64_t)count * esize ? " (truncated)" : "");
        goto done;
    }
    out = malloc(count ? count * sizeof(float) : sizeof(float));
    if (!out) {
        st = cs_error(CS_ERR_NO_MEMORY, "npy file '%s': out of memory for %zu floats", path, count);
        goto done;
    }
    if (esize == 4 && NPY_HOST_LE) {
        st = read_exact(f, out, count * 4, path, "data");
    } else if (count) {
        raw = malloc(count * esize);
        if (!raw)
            st = cs_error(CS_ERR_NO_MEMORY, "npy file '%s': out of memory for %zu elements", path, count);
        else if ((st = read_exact(f, raw, count * esize, path, "data")) == CS_OK)
            to_float(raw, esize, count, out);
    }
    if (st != CS_OK)
        goto done;
    *ndim = info.ndim;
    for (int k = 0; k < NPY_MAX_RANK; k++)
        dims[k] = k < info.ndim ? info.dims[k] : 0;
    *data = out;
    out = NULL;
done:
    free(out);
    free(raw);
    free(header);
    fclose(f);
    return st;
}

void cs_free(void *p)
{
    free(p);
}

/* ------------------------------------------------------------------------ */
/* Write                                                                    */
/* ------------------------------------------------------------------------ */

cs_status cs_npy_write(const char *path, const float *data, int ndim, const int64_t *dims)
{
    if (!path || !*path)
        return cs_error(CS_ERR_INVALID_ARG, "cs_npy_write: no path given");
    if (ndim < 0 || ndim > NPY_MAX_RANK || (ndim > 0 && !dims))
        return cs_error(CS_ERR_INVALID_ARG, "npy file '%s': %d dimensions (0 to %d allowed)", path, ndim,
                        NPY_MAX_RANK);
    size_t count = 1;
    int zero = 0;
    for (int k = 0; k < ndim; k++) {
        if (dims[k] < 0)
            return cs_error(CS_ERR_INVALID_ARG, "npy file '%s': dimension %d is negative (%" PRId64 ")", path, k,
                            dims[k]);
        zero |= dims[k] == 0;
    }
    for (int k = 0; k < ndim && !zero; k++) {
        if ((uint64_t)dims[k] > SIZE_MAX / 4 / count)
            return cs_error(CS_ERR_INVALID_ARG, "npy file '%s': shape is too large", path);
        count *= (size_t)dims[k];
    }
    if (zero)
        count = 0;
    if (count && !data)
        return cs_error(CS_ERR_INVALID_ARG, "cs_npy_write: data is NULL");

    /* {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), } + spaces + '\n' */
    char header[512] = {0};
    size_t n = (size_t)snprintf(header, sizeof header, "{'descr': '<f4', 'fortran_order': False, 'shape': (");
    for (int k = 0; k < ndim; k++)
        n += (size_t)snprintf(header + n, sizeof header - n, "%s%" PRId64, k ? ", " : "", dims[k]);
    n += (size_t)snprintf(header + n, sizeof header - n, "%s), }", ndim == 1 ? "," : "");
    while ((10 + n + 1) % NPY_ALIGN != 0)
        header[n++] = ' ';
    header[n++] = '\n';

    /* the temporary name is unique per call (process id and a counter), so
     * threads writing the same file do not share one */
    static atomic_uint tmp_seq;
    size_t tmp_size = strlen(path) + 48;
    char *tmp = malloc(tmp_size);
    if (!tmp)
        return cs_error(CS_ERR_NO_MEMORY, "npy file '%s': out of memory", path);
    snprintf(tmp, tmp_size, "%s.tmp.%ld.%u", path, (long)getpid(), atomic_fetch_add(&tmp_seq, 1u));
    FILE *f = fopen(tmp, "wb");
    if (!f) {
        cs_status st = cs_error(CS_ERR_IO, "npy file '%s': cannot create '%s': %s", path, tmp, strerror(errno));
        free(tmp);
        return st;
    }
    unsigned char pre[10] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, (unsigned char)(n & 0xFF),
                             (unsigned char)(n >> 8)};
    int ok = fwrite(pre, 1, sizeof pre, f) == sizeof pre && fwrite(header, 1, n, f) == n;
    if (ok && NPY_HOST_LE) {
        ok = count == 0 || fwrite(data, sizeof(float), count, f) == count;
    } else {
        for (size_t i = 0; i < count && ok; i++) {
            uint32_t bits = 0;
            unsigned char b[4] = {0};
            memcpy(&bits, &data[i], sizeof bits);
            for (int k = 0; k < 4; k++)
                b[k] = (unsigned char)(bits >> (8 * k));
            ok = fwrite(b, 1, 4, f) == 4;
        }
    }
    ok = ok && fflush(f) == 0 && fsync(fileno(f)) == 0;
    int err = errno;
    if (fclose(f) != 0 && ok) {
        ok = 0;
        err = errno;
    }
    cs_status st = CS_OK;
    if (!ok)
        st = cs_error(CS_ERR_IO, "npy file '%s': write failed: %s (disk full?)", path, strerror(err));
    else if (rename(tmp, path) != 0)
        st = cs_error(CS_ERR_IO, "npy file '%s': cannot rename '%s' into place: %s", path, tmp, strerror(errno));
    if (st != CS_OK)
        remove(tmp);
    free(tmp);
    return st;
}
