/* IDX reader: unsigned-byte IDX files (MNIST, Fashion-MNIST) through zlib,
 * which reads gzip and plain files alike. Every size is checked against the
 * limits before use, the buffer grows only as data actually arrives (a
 * hostile header cannot make it allocate), and the file is read to its end
 * so truncation, trailing bytes and gzip CRC errors are all reported.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <zlib.h>

#include "core/status.h"
#include "io/idx.h"

#define IDX_TYPE_U8 0x08
#define IDX_MAGIC_LABELS 0x00000801u
#define IDX_MAGIC_IMAGES 0x00000803u
#define IDX_CHUNK (16u << 20)              /* bytes per gzread call */
#define IDX_FIRST_ALLOC ((size_t)64 << 20) /* initial buffer; doubles as data arrives */

static const char *type_name(int type)
{
    switch (type) {
    case 0x08: return "unsigned byte";
    case 0x09: return "signed byte";
    case 0x0B: return "short";
    case 0x0C: return "int";
    case 0x0D: return "float";
    case 0x0E: return "double";
    }
    return "unknown";
}

/* ------------------------------------------------------------------------ */
/* Reading through zlib                                                     */
/* ------------------------------------------------------------------------ */

/* Reads up to `len` bytes; *got receives how many. A read error (not the
 * end of the data) becomes a status naming the file. */
static cs_status gz_read_all(gzFile f, const char *path, void *dst, size_t len, size_t *got)
{
    unsigned char *p = dst;
    *got = 0;
    while (*got < len) {
        const size_t want = len - *got < IDX_CHUNK ? len - *got : IDX_CHUNK;
        const int n = gzread(f, p + *got, (unsigned)want);
        if (n > 0) {
            *got += (size_t)n;
            continue;
        }
        if (n == 0)
            return CS_OK; /* end of data */
        int err = Z_OK;
        const char *msg = gzerror(f, &err);
        if (err == Z_BUF_ERROR)
            return CS_OK; /* "unexpected end of file": a truncated gzip stream, the caller reports */
        if (err == Z_ERRNO)
            return cs_error(CS_ERR_IO, "idx file '%s': read failed: %s", path, strerror(errno));
        /* gzerror's message starts "<path>: "; the path is already named */
        const size_t plen = strlen(path);
        if (msg != NULL && strncmp(msg, path, plen) == 0 && strncmp(msg + plen, ": ", 2) == 0)
            msg += plen + 2;
        return cs_error(CS_ERR_FORMAT, "idx file '%s': corrupt gzip data: %s", path, msg ? msg : "?");
    }
    return CS_OK;
}

static uint32_t be32(const unsigned char *b)
{
    return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | (uint32_t)b[3];
}

/* The header: magic (0, 0, type, ndim), then ndim big-endian sizes. */
static cs_status read_header(gzFile f, const char *path, int *ndim, int dims[3], uint64_t *bytes)
{
    unsigned char b[4 * 4] = {0};
    size_t got = 0;
    cs_status st = gz_read_all(f, path, b, 4, &got);
    if (st != CS_OK)
        return st;
    if (got < 4)
        return cs_error(CS_ERR_FORMAT, "idx file '%s': truncated: %zu bytes, shorter than the 4-byte magic",
                        path, got);
    const uint32_t magic = be32(b);
    if (b[0] != 0 || b[1] != 0)
        return cs_error(CS_ERR_FORMAT,
                        "idx file '%s': bad magic 0x%08" PRIx32 " (an IDX file starts 00 00 <type> <ndim>); "
                        "not an IDX file, or compressed with something other than gzip",
                        path, magic);
    if (b[2] != IDX_TYPE_U8)
        return cs_error(CS_ERR_UNSUPPORTED,
                        "idx file '%s': element type 0x%02x (%s); convscope reads unsigned-byte IDX (0x08)",
                        path, b[2], type_name(b[2]));
    if (b[3] < 1 || b[3] > 3)
        return cs_error(CS_ERR_FORMAT,
                        "idx file '%s': %d dimensions (magic 0x%08" PRIx32 "); expected 1 to 3", path, b[3],
                        magic);
    *ndim = b[3];
    st = gz_read_all(f, path, b, 4 * (size_t)*ndim, &got);
    if (st != CS_OK)
        return st;
    if (got < 4 * (size_t)*ndim)
        return cs_error(CS_ERR_FORMAT, "idx file '%s': truncated inside the header (%d sizes declared)", path,
                        *ndim);
    uint64_t total = 1;
    for (int d = 0; d < *ndim; d++) {
        const uint32_t v = be32(b + 4 * d);
        const uint32_t limit = d == 0 ? CS_IDX_MAX_ITEMS : CS_IDX_MAX_DIM;
        if (v > limit)
            return cs_error(CS_ERR_FORMAT,
                            "idx file '%s': dimension %d is %" PRIu32 ", over the limit of %" PRIu32 " (%s)",
                            path, d, v, limit, d == 0 ? "items" : "per dimension");
        dims[d] = (int)v;
        total *= v; /* <= 1e7 * 4096 * 4096: no overflow in 64 bits */
    }
    if (total > CS_IDX_MAX_BYTES)
        return cs_error(CS_ERR_FORMAT, "idx file '%s': %" PRIu64 " bytes of data, over the limit of %" PRIu64,
                        path, total, (uint64_t)CS_IDX_MAX_BYTES);
    *bytes = total;
    return CS_OK;
}

cs_status cs_idx_read(const char *path, int *ndim, int dims[3], uint8_t **data)
{
    if (path == NULL || ndim == NULL || dims == NULL || data == NULL)
        return cs_error(CS_ERR_INVALID_ARG, "cs_idx_read: NULL argument");
    *data = NULL;
    struct stat sb;
    if (stat(path, &sb) != 0)
        return cs_error(CS_ERR_IO, "idx file '%s': cannot open: %s", path, strerror(errno));
    if (S_ISDIR(sb.st_mode))
        return cs_error(CS_ERR_IO, "idx file '%s': is a directory", path);
    errno = 0;
    gzFile f = gzopen(path, "rb");
    if (f == NULL)
        return cs_error(CS_ERR_IO, "idx file '%s': cannot open: %s", path,
                        errno ? strerror(errno) : "out of memory");
    gzbuffer(f, 256u << 10);

    uint8_t *buf = NULL;
    int nd = 0, dm[3] = {0, 0, 0};
    uint64_t bytes = 0;
    cs_status st = read_header(f, path, &nd, dm, &bytes);
    if (st != CS_OK)
        goto done;

    /* Grow the buffer as the data arrives: a header that promises more than
     * the file holds fails as truncated after reading what is there. */
    size_t cap = 0, have = 0;
    while (have < (size_t)bytes) {
        if (have == cap) {
            size_t next = cap == 0 ? IDX_FIRST_ALLOC : cap * 2;
            if (next > (size_t)bytes)
                next = (size_t)bytes;
            uint8_t *grown = realloc(buf, next);
            if (grown == NULL) {
                st = cs_error(CS_ERR_NO_MEMORY, "idx file '%s': cannot allocate %zu bytes", path, next);
                goto done;
            }
            buf = grown;
            cap = next;
        }
        const size_t want = cap - have;
        size_t got = 0;
        if ((st = gz_read_all(f, path, buf + have, want, &got)) != CS_OK)
            goto done;
        have += got;
        if (got < want)
            break; /* the data ended before the buffer filled */
    }
    if (bytes == 0 && (buf = malloc(1)) == NULL) { /* no items: still a valid pointer */
        st = cs_error(CS_ERR_NO_MEMORY, "idx file '%s': out of memory", path);
        goto done;
    }
    if (have < (size_t)bytes) {
        st = cs_error(CS_ERR_FORMAT,
                      "idx file '%s': truncated: the header declares %" PRIu64 " bytes of data "
                      "(%d x %d x %d), the file holds %zu",
                      path, bytes, dm[0], nd > 1 ? dm[1] : 1, nd > 2 ? dm[2] : 1, have);
        goto done;
    }
    /* Read to the end: trailing bytes mean the header is wrong, and only the
     * end of a gzip stream checks its CRC. */
    unsigned char extra[64];
    size_t more = 0;
    if ((st = gz_read_all(f, path, extra, sizeof extra, &more)) != CS_OK)
        goto done;
    if (more > 0) {
        st = cs_error(CS_ERR_FORMAT,
                      "idx file '%s': trailing bytes after the %" PRIu64 " bytes of data the header declares",
                      path, bytes);
        goto done;
    }
    int err = Z_OK;
    gzerror(f, &err);
    if (err == Z_BUF_ERROR) {
        st = cs_error(CS_ERR_FORMAT,
                      "idx file '%s': truncated gzip stream (the data is complete, the gzip "
                      "trailer is missing)",
                      path);
        goto done;
    }

    *ndim = nd;
    for (int d = 0; d < 3; d++)
        dims[d] = d < nd ? dm[d] : 1;
    *data = buf;
    buf = NULL;
done:
    free(buf);
    gzclose(f);
    return st;
}

/* ------------------------------------------------------------------------ */
/* Data sets                                                                */
/* ------------------------------------------------------------------------ */

void cs_dataset_free(cs_dataset *d)
{
    if (d == NULL)
        return;
    free(d->pixels);
    free(d->labels);
    free(d);
}

/* cs_idx_read, then the exact magic an image or label file must have. */
static cs_status read_kind(const char *path, int want_ndim, int dims[3], uint8_t **data)
{
    int nd = 0;
    cs_status st = cs_idx_read(path, &nd, dims, data);
    if (st != CS_OK)
        return st;
    if (nd != want_ndim) {
        free(*data);
        *data = NULL;
        const uint32_t got = 0x800u | (uint32_t)nd;
        const uint32_t want = want_ndim == 3 ? IDX_MAGIC_IMAGES : IDX_MAGIC_LABELS;
        return cs_error(CS_ERR_FORMAT,
                        "idx file '%s': magic 0x%08" PRIx32 " (rank %d), expected 0x%08" PRIx32 " (IDX %s)%s",
                        path, got, nd, want, want_ndim == 3 ? "images" : "labels",
                        (got == IDX_MAGIC_IMAGES || got == IDX_MAGIC_LABELS)
                            ? "; are the image and label files swapped?"
                            : "");
    }
    return CS_OK;
}

cs_status cs_idx_load_pair(const char *images_path, const char *labels_path, cs_dataset **out)
{
    if (images_path == NULL || labels_path == NULL || out == NULL)
        return cs_error(CS_ERR_INVALID_ARG, "cs_idx_load_pair: NULL argument");
    *out = NULL;
    int idims[3] = {0, 0, 0}, ldims[3] = {0, 0, 0};
    uint8_t *pixels = NULL, *labels = NULL;
    cs_status st = read_kind(images_path, 3, idims, &pixels);
    if (st != CS_OK)
        return st;
    if ((st = read_kind(labels_path, 1, ldims, &labels)) != CS_OK) {
        free(pixels);
        return st;
    }
    if (idims[0] != ldims[0]) {
        free(pixels);
        free(labels);
        return cs_error(CS_ERR_SHAPE,
                        "idx files '%s' (%d images) and '%s' (%d labels) do not pair: the counts "
                        "differ (hint: train-images goes with train-labels, t10k-images with t10k-labels)",
                        images_path, idims[0], labels_path, ldims[0]);
    }
    cs_dataset *d = calloc(1, sizeof *d);
    if (d == NULL) {
        free(pixels);
        free(labels);
        return cs_error(CS_ERR_NO_MEMORY, "cs_idx_load_pair: out of memory");
    }
    d->count = idims[0];
    d->height = idims[1];
    d->width = idims[2];
    d->pixels = pixels;
    d->labels = labels;
    *out = d;
    return CS_OK;
}

/* dir/name.gz, else dir/name when only the uncompressed file is there. */
static cs_status find_file(const char *dir, const char *name, char *out, size_t size)
{
    struct stat sb;
    const int n = snprintf(out, size, "%s/%s.gz", dir, name);
    if (n < 0 || (size_t)n >= size)
        return cs_error(CS_ERR_INVALID_ARG, "fashion-mnist: directory path too long: '%s'", dir);
    if (stat(out, &sb) == 0)
        return CS_OK;
    snprintf(out, size, "%s/%s", dir, name);
    if (stat(out, &sb) == 0)
        return CS_OK;
    return cs_error(CS_ERR_IO,
                    "fashion-mnist: no '%s.gz' (or uncompressed '%s') in '%s' (hint: apt-get install "
                    "dataset-fashion-mnist puts it in " CS_FASHION_MNIST_DIR
                    ", or download the four files from "
                    "https://github.com/zalandoresearch/fashion-mnist into that directory)",
                    name, name, dir);
}

cs_status cs_fashion_mnist_load(const char *dir, int test, cs_dataset **out)
{
    if (out == NULL)
        return cs_error(CS_ERR_INVALID_ARG, "cs_fashion_mnist_load: out is NULL");
    *out = NULL;
    if (dir == NULL || dir[0] == '\0')
        dir = CS_FASHION_MNIST_DIR;
    char images[4096], labels[4096];
    cs_status st =
        find_file(dir, test ? "t10k-images-idx3-ubyte" : "train-images-idx3-ubyte", images, sizeof images);
    if (st == CS_OK)
        st = find_file(dir, test ? "t10k-labels-idx1-ubyte" : "train-labels-idx1-ubyte", labels,
                       sizeof labels);
    if (st != CS_OK)
        return st;
    cs_dataset *d = NULL;
    if ((st = cs_idx_load_pair(images, labels, &d)) != CS_OK)
        return st;
    if (d->height != 28 || d->width != 28) {
        st = cs_error(CS_ERR_FORMAT, "fashion-mnist: '%s' holds %dx%d images; Fashion-MNIST's are 28x28",
                      images, d->height, d->width);
        cs_dataset_free(d);
        return st;
    }
    for (int i = 0; i < d->count; i++) {
        if (d->labels[i] >= 10) {
            st = cs_error(CS_ERR_FORMAT,
                          "fashion-mnist: '%s': item %d has label %d; Fashion-MNIST has 10 classes", labels,
                          i, d->labels[i]);
            cs_dataset_free(d);
            return st;
        }
    }
    *out = d;
    return CS_OK;
}

cs_status cs_dataset_input(const cs_dataset *d, int index, const cs_model_info *m, int in_c, int in_h,
                           int in_w, float *out)
{
    if (!d || !m || !out || index < 0 || index >= d->count)
        return cs_error(CS_ERR_INVALID_ARG, "cs_dataset_input: sample %d of %d, or an argument missing",
                        index, d ? d->count : 0);
    const int pad = m->pad;
    if (in_c < 1 || in_c > 3 || in_h != d->height + 2 * pad || in_w != d->width + 2 * pad)
        return cs_error(CS_ERR_SHAPE,
                        "%s takes %dx%dx%d inputs; the data set's %dx%d grey images%s do not fill "
                        "them: use a model made for it (lenet5, lenet5_1998, fashion_*)",
                        m->name, in_c, in_h, in_w, d->height, d->width,
                        pad ? " plus the model's padding" : "");
    const uint8_t *px = d->pixels + (size_t)index * (size_t)d->height * (size_t)d->width;
    for (int c = 0; c < in_c; c++) {
        const float mean = m->mean[c], std = m->std[c]; /* as image.c computes it */
        float *o = out + (size_t)c * (size_t)in_h * (size_t)in_w;
        const float bg = (0.0f / 255.0f - mean) / std;
        for (int y = 0; y < in_h; y++) {
            for (int x = 0; x < in_w; x++) {
                int sy = y - pad, sx = x - pad;
                float v = bg;
                if (sy >= 0 && sy < d->height && sx >= 0 && sx < d->width)
                    v = ((float)px[(size_t)sy * (size_t)d->width + (size_t)sx] / 255.0f - mean) / std;
                o[(size_t)y * (size_t)in_w + (size_t)x] = v;
            }
        }
    }
    return CS_OK;
}
