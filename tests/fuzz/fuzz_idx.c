/* libFuzzer harness for the IDX reader (src/io/idx.c): cs_idx_read on one
 * file, cs_idx_load_pair on two, cs_dataset_input on a loaded pair. The input
 * is [flags][split, 2 bytes big-endian][payload]: the payload's first `split`
 * bytes are file A (images), the rest file B (labels). Flags bit 0 / bit 1:
 * the harness gzips A / B itself (so mutations of the plain bytes reach the
 * parser through a valid gzip stream); bits 2-4: cut that many bytes off the
 * end of each stream the harness gzips (a truncated trailer); bit 5: store
 * instead of compress. A payload that is itself gzip data is read as such.
 */
#include <math.h>
#include <zlib.h>

#include "fuzz_common.h"
#include "io/idx.h"

/* One file as the reader will see it: the plain bytes the test knows, and
 * what is written (the same, or gzipped by the harness). */
typedef struct part {
    const uint8_t *plain;
    size_t plain_size;
    int gzipped;      /* 1: the harness gzipped it */
    int cut;          /* bytes cut off the end of the harness's gzip stream */
    uint8_t *written; /* gzip output, or NULL when plain is written */
    size_t written_size;
} part;

static void make_part(part *p, const uint8_t *data, size_t size, int gzip, int cut, int stored)
{
    *p = (part){data, size, gzip, gzip ? cut : 0, NULL, size};
    if (!gzip)
        return;
    z_stream z;
    memset(&z, 0, sizeof z);
    FUZZ_CHECK(deflateInit2(&z, stored ? 0 : 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) == Z_OK);
    const size_t cap = deflateBound(&z, (uLong)size) + 32;
    p->written = malloc(cap);
    FUZZ_CHECK(p->written != NULL);
    z.next_in = (Bytef *)(uintptr_t)data;
    z.avail_in = (uInt)size;
    z.next_out = p->written;
    z.avail_out = (uInt)cap;
    FUZZ_CHECK(deflate(&z, Z_FINISH) == Z_STREAM_END);
    p->written_size = z.total_out;
    deflateEnd(&z);
    p->written_size -= (size_t)cut < p->written_size ? (size_t)cut : p->written_size;
}

static const char *write_part(int slot, const part *p)
{
    return fuzz_file_slot(slot, p->written ? p->written : p->plain, p->written_size);
}

/* The statuses cs_idx_read documents for a file (convscope.h), plus
 * CS_ERR_NO_MEMORY; cs_idx_load_pair adds CS_ERR_SHAPE. */
static int idx_status_ok(cs_status st)
{
    return st == CS_ERR_IO || st == CS_ERR_FORMAT || st == CS_ERR_UNSUPPORTED || st == CS_ERR_NO_MEMORY;
}

typedef struct read_result {
    cs_status st;
    int ndim;
    int dims[3];
    uint8_t *data;
    uint64_t bytes;
} read_result;

/* cs_idx_read with its invariants: success => rank 1..3, every dimension
 * within the limits, the data holds their product (every byte read back),
 * for a file the harness knows in plain form, header + data is exactly that
 * file, and a gzip stream the harness cut short is refused. */
static read_result read_checked(const char *what, const part *p, const char *path)
{
    read_result r = {CS_OK, -1, {-7, -7, -7}, (uint8_t *)(uintptr_t)1, 0};
    cs_error_clear();
    r.st = cs_idx_read(path, &r.ndim, r.dims, &r.data);
    fuzz_log(what, r.st);
    FUZZ_CHECK_MESSAGE(r.st);
    if (r.st != CS_OK) {
        FUZZ_CHECK(idx_status_ok(r.st));
        FUZZ_CHECK(r.data == NULL);
        r.data = NULL;
        return r;
    }
    FUZZ_CHECK(r.data != NULL);
    FUZZ_CHECK(p->cut == 0); /* a gzip stream without its whole trailer is refused */
    FUZZ_CHECK(r.ndim >= 1 && r.ndim <= 3);
    uint64_t bytes = 1;
    for (int d = 0; d < r.ndim; d++) {
        FUZZ_CHECK(r.dims[d] >= 0);
        FUZZ_CHECK(r.dims[d] <= (d == 0 ? CS_IDX_MAX_ITEMS : CS_IDX_MAX_DIM));
        bytes *= (uint64_t)r.dims[d];
    }
    FUZZ_CHECK(bytes <= CS_IDX_MAX_BYTES);
    r.bytes = bytes;
    /* A file that is not gzip data (plain IDX starts 00 00), or one the
     * harness gzipped, decompresses to the known plain bytes. */
    const int foreign_gzip = !p->gzipped && p->plain_size >= 2 && p->plain[0] == 0x1f && p->plain[1] == 0x8b;
    if (!foreign_gzip) {
        FUZZ_CHECK(p->plain_size == 4 + 4 * (size_t)r.ndim + bytes);
        FUZZ_CHECK(p->plain[0] == 0 && p->plain[1] == 0 && p->plain[2] == 0x08 && p->plain[3] == r.ndim);
        FUZZ_CHECK(memcmp(r.data, p->plain + 4 + 4 * r.ndim, (size_t)bytes) == 0);
    } else {
        /* deflate expands at most 1032:1 */
        FUZZ_CHECK(bytes <= (uint64_t)p->written_size * 1032);
    }
    volatile unsigned sink = 0;
    for (uint64_t i = 0; i < bytes; i++)
        sink += r.data[i];
    (void)sink;
    return r;
}

/* cs_dataset_input for sample `index` of d under model m at in_c x in_h x
 * in_w: CS_OK exactly when the image plus the model's padding fills the
 * input; then every value finite and within what a byte maps to. */
static void input_checked(const cs_dataset *d, int index, const cs_model_info *m, int in_c, int in_h,
                          int in_w)
{
    const size_t n = (size_t)in_c * (size_t)in_h * (size_t)in_w;
    float *out = malloc(n * sizeof *out + 1);
    FUZZ_CHECK(out != NULL);
    for (size_t i = 0; i < n; i++)
        out[i] = NAN;
    cs_error_clear();
    cs_status st = cs_dataset_input(d, index, m, in_c, in_h, in_w, out);
    fuzz_log("cs_dataset_input", st);
    FUZZ_CHECK_MESSAGE(st);
    const int fits = in_h == d->height + 2 * m->pad && in_w == d->width + 2 * m->pad;
    if (index < 0 || index >= d->count) {
        FUZZ_CHECK(st == CS_ERR_INVALID_ARG);
    } else if (!fits || in_c < 1 || in_c > 3) {
        FUZZ_CHECK(st == CS_ERR_SHAPE);
    } else {
        FUZZ_CHECK(st == CS_OK);
        for (int c = 0; c < in_c; c++) {
            const float lo = (0.0f - m->mean[c]) / m->std[c], hi = (1.0f - m->mean[c]) / m->std[c];
            const float *o = out + (size_t)c * (size_t)in_h * (size_t)in_w;
            for (size_t i = 0; i < (size_t)in_h * (size_t)in_w; i++)
                FUZZ_CHECK(isfinite(o[i]) && o[i] >= fminf(lo, hi) - 1e-5f && o[i] <= fmaxf(lo, hi) + 1e-5f);
        }
    }
    free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 3)
        return 0;
    const int flags = data[0];
    size_t split = (size_t)data[1] << 8 | data[2];
    const uint8_t *payload = data + 3;
    const size_t n = size - 3;
    if (split > n)
        split = n;
    const int cut = (flags >> 2) & 7, stored = (flags >> 5) & 1;
    part a, b;
    make_part(&a, payload, split, flags & 1, cut, stored);
    make_part(&b, payload + split, n - split, (flags >> 1) & 1, cut, stored);
    const char *pa = write_part(0, &a);
    const char *pb = write_part(1, &b);

    read_result ra = read_checked("cs_idx_read(A)", &a, pa);
    read_result rb = read_checked("cs_idx_read(B)", &b, pb);

    /* The pair is the two reads plus the pairing rules: images rank 3, labels
     * rank 1, the same count; the images are read (and fail) first. */
    cs_dataset *ds = (cs_dataset *)(uintptr_t)1;
    cs_error_clear();
    cs_status st = cs_idx_load_pair(pa, pb, &ds);
    fuzz_log("cs_idx_load_pair", st);
    FUZZ_CHECK_MESSAGE(st);
    if (ra.st != CS_OK) {
        FUZZ_CHECK(st == ra.st);
    } else if (ra.ndim != 3) {
        FUZZ_CHECK(st == CS_ERR_FORMAT);
    } else if (rb.st != CS_OK) {
        FUZZ_CHECK(st == rb.st);
    } else if (rb.ndim != 1) {
        FUZZ_CHECK(st == CS_ERR_FORMAT);
    } else if (ra.dims[0] != rb.dims[0]) {
        FUZZ_CHECK(st == CS_ERR_SHAPE);
    } else {
        FUZZ_CHECK(st == CS_OK || st == CS_ERR_NO_MEMORY);
    }
    if (st != CS_OK) {
        FUZZ_CHECK(idx_status_ok(st) || st == CS_ERR_SHAPE);
        FUZZ_CHECK(ds == NULL);
    } else {
        FUZZ_CHECK(ds != NULL && ds->pixels != NULL && ds->labels != NULL);
        FUZZ_CHECK(ds->count == ra.dims[0] && ds->height == ra.dims[1] && ds->width == ra.dims[2]);
        FUZZ_CHECK(memcmp(ds->pixels, ra.data, (size_t)ra.bytes) == 0);
        FUZZ_CHECK(memcmp(ds->labels, rb.data, (size_t)rb.bytes) == 0);

        /* As model input: the two 28x28 Fashion-MNIST model shapes, and the
         * data set's own size with each model's padding (any size reaches
         * the copy loop), first and last sample, and one past the end. */
        const cs_model_info *models[2] = {cs_model_find("lenet5"), cs_model_find("fashion_vgg")};
        for (int k = 0; k < 2; k++) {
            const cs_model_info *m = models[k];
            FUZZ_CHECK(m != NULL);
            const int last = ds->count > 0 ? ds->count - 1 : 0;
            input_checked(ds, 0, m, m->in_c, m->in_h, m->in_w);
            input_checked(ds, last, m, 3, m->in_h, m->in_w);
            const uint64_t h = (uint64_t)ds->height + 2 * (uint64_t)m->pad;
            const uint64_t w = (uint64_t)ds->width + 2 * (uint64_t)m->pad;
            if (h * w <= (1u << 20)) {
                input_checked(ds, last, m, 1 + (flags >> 6), (int)h, (int)w);
                input_checked(ds, ds->count, m, 1, (int)h, (int)w);
            }
        }
        cs_dataset_free(ds);
    }
    cs_free(ra.data);
    cs_free(rb.data);
    free(a.written);
    free(b.written);
    return 0;
}
