/* IDX loader tests (test_idx [-v] [fashion-mnist-dir]): the real
 * Fashion-MNIST files load with the known counts, class balance, first
 * labels and pixel sums (computed independently with Python's gzip), also
 * from an uncompressed copy; hostile files written into a temp dir
 * (missing, empty, bad magic, wrong type or rank, truncated header, data or
 * gzip stream, corrupt gzip, trailing bytes, sizes over the limits,
 * mismatched or swapped pairs) each fail with the right status and a message
 * naming the file and the problem; plain and gzip files both load.
 * The real-data checks fail when the directory is absent: tools/deps.sh
 * installs dataset-fashion-mnist, so a missing copy is a broken setup.
 */
#include <ctype.h>
#include <dirent.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <zlib.h>

#include "io/idx.h"

static int n_passed = 0, n_failed = 0;
static int verbose = 0; /* -v: print every error message */
static char tmpdir[256] = {0};

/* ------------------------------------------------------------------------ */
/* Helpers                                                                  */
/* ------------------------------------------------------------------------ */

static void result(int ok, const char *label, const char *detail)
{
    printf("%s  %s%s%s\n", ok ? "PASS" : "FAIL", label, detail && detail[0] ? ": " : "",
           detail ? detail : "");
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
        printf("    got %s, expected %s; message: \"%.600s\"\n", cs_status_name(got), cs_status_name(want),
               msg);
    result(ok, label, "");
}

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

static int write_gz(const char *path, const void *data, size_t len)
{
    gzFile f = gzopen(path, "wb");
    if (!f)
        return 0;
    int ok = len == 0 || gzwrite(f, data, (unsigned)len) == (int)len;
    return gzclose(f) == Z_OK && ok;
}

static unsigned char *read_whole(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *b = malloc(n > 0 ? (size_t)n : 1);
    if (b && fread(b, 1, (size_t)n, f) != (size_t)n) {
        free(b);
        b = NULL;
    }
    fclose(f);
    *len = (size_t)n;
    return b;
}

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
        struct stat sb;
        if (lstat(p, &sb) == 0 && S_ISDIR(sb.st_mode))
            remove_tree(p);
        else
            unlink(p);
    }
    closedir(d);
    rmdir(dir);
}

static void put_be32(unsigned char *b, uint32_t v)
{
    b[0] = (unsigned char)(v >> 24);
    b[1] = (unsigned char)(v >> 16);
    b[2] = (unsigned char)(v >> 8);
    b[3] = (unsigned char)v;
}

/* An IDX file image: magic 00 00 type ndim, the sizes, then `data_len`
 * bytes of a counting pattern (or fewer/more than the sizes say). */
static unsigned char *idx_bytes(int type, int ndim, const uint32_t *dims, size_t data_len, size_t *len)
{
    const size_t head = 4 + 4 * (size_t)ndim;
    unsigned char *b = calloc(head + data_len + 1, 1);
    if (!b)
        exit(2);
    b[2] = (unsigned char)type;
    b[3] = (unsigned char)ndim;
    for (int d = 0; d < ndim; d++)
        put_be32(b + 4 + 4 * d, dims[d]);
    for (size_t i = 0; i < data_len; i++)
        b[head + i] = (unsigned char)(i * 7 % 251);
    *len = head + data_len;
    return b;
}

/* Writes an IDX fixture (gzip or plain); returns its path. */
static const char *idx_file(const char *name, int gz, int type, int ndim, const uint32_t *dims,
                            size_t data_len)
{
    size_t len = 0;
    unsigned char *b = idx_bytes(type, ndim, dims, data_len, &len);
    const char *path = fixture(name);
    int ok = gz ? write_gz(path, b, len) : write_bytes(path, b, len);
    free(b);
    if (!ok) {
        fprintf(stderr, "test_idx: cannot write fixture %s\n", path);
        exit(2);
    }
    return path;
}

/* ------------------------------------------------------------------------ */
/* Real Fashion-MNIST                                                       */
/* ------------------------------------------------------------------------ */

static void missing(const char *label, const char *why)
{
    printf("FAIL  %s: %s\n", label, why);
    n_failed++;
}

/* Counts, 28x28, labels < 10 and class balance, the first ten labels, and
 * pixel sums (first image and all) from Python's gzip + bytes. */
static void check_fmnist(const char *label, const cs_dataset *d, int count, const int first[10], long sum0,
                         long long sum_all)
{
    char detail[256] = {0};
    int per_class[10] = {0}, labels_ok = 1, first_ok = 1;
    for (int i = 0; i < d->count; i++) {
        if (d->labels[i] >= 10)
            labels_ok = 0;
        else
            per_class[d->labels[i]]++;
    }
    for (int c = 0; c < 10; c++)
        labels_ok = labels_ok && per_class[c] == count / 10;
    for (int i = 0; i < 10 && i < d->count; i++)
        first_ok = first_ok && d->labels[i] == first[i];
    long s0 = 0;
    long long sall = 0;
    for (int i = 0; i < 28 * 28 && d->count > 0; i++)
        s0 += d->pixels[i];
    for (size_t i = 0; i < (size_t)d->count * 28 * 28; i++)
        sall += d->pixels[i];
    snprintf(detail, sizeof detail, "%d items %dx%d, first label %d, class 0 has %d, pixel sums %ld / %lld",
             d->count, d->height, d->width, d->count ? d->labels[0] : -1, per_class[0], s0, sall);
    result(d->count == count && d->height == 28 && d->width == 28 && labels_ok && first_ok && s0 == sum0 &&
               sall == sum_all,
           label, detail);
}

static void test_real(const char *dir)
{
    static const int train_first[10] = {9, 0, 0, 3, 0, 2, 7, 2, 5, 5};
    static const int test_first[10] = {9, 2, 1, 1, 6, 1, 4, 6, 5, 7};
    char probe[1024];
    snprintf(probe, sizeof probe, "%s/t10k-labels-idx1-ubyte.gz", dir);
    if (access(probe, R_OK) != 0) {
        missing("fashion-mnist real files",
             "not installed (apt-get install dataset-fashion-mnist, or pass a dir)");
        return;
    }

    cs_dataset *d = NULL;
    const clock_t t0 = clock();
    cs_status st = cs_fashion_mnist_load(dir, 0, &d);
    const double ms = 1e3 * (double)(clock() - t0) / CLOCKS_PER_SEC;
    expect("fashion-mnist train loads", st, CS_OK);
    if (st == CS_OK) {
        char label[96];
        snprintf(label, sizeof label, "fashion-mnist train: 60000 28x28, 6000 per class, sums (%.0f ms)", ms);
        check_fmnist(label, d, 60000, train_first, 76247, 3431114169LL);
        result(d->pixels[14 * 28 + 14] == 217, "fashion-mnist train image 0 centre pixel is 217", "");
    }
    cs_dataset_free(d);
    d = NULL;

    st = cs_fashion_mnist_load(dir, 1, &d);
    expect("fashion-mnist test loads", st, CS_OK);
    if (st == CS_OK) {
        check_fmnist("fashion-mnist test: 10000 28x28, first label 9 (ankle boot), sums", d, 10000,
                     test_first, 33456, 573469082LL);
    }

    /* An uncompressed copy of the test set (what `gunzip` leaves) loads the same. */
    char src[1024];
    int same = 0;
    const char *names[2] = {"t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"};
    char sub[512];
    snprintf(sub, sizeof sub, "%s/plain", tmpdir);
    mkdir(sub, 0700);
    for (int i = 0; i < 2; i++) {
        snprintf(src, sizeof src, "%s/%s.gz", dir, names[i]);
        gzFile f = gzopen(src, "rb");
        size_t cap = 8u << 20, n = 0;
        unsigned char *b = malloc(cap);
        int got = 0;
        while (f && b && (got = gzread(f, b + n, (unsigned)(cap - n))) > 0)
            n += (size_t)got;
        if (f)
            gzclose(f);
        char dst[1024];
        snprintf(dst, sizeof dst, "%s/%s", sub, names[i]);
        if (b)
            write_bytes(dst, b, n);
        free(b);
    }
    cs_dataset *p = NULL;
    st = cs_fashion_mnist_load(sub, 1, &p);
    if (st == CS_OK && d != NULL)
        same = p->count == d->count && memcmp(p->pixels, d->pixels, (size_t)d->count * 784) == 0 &&
               memcmp(p->labels, d->labels, (size_t)d->count) == 0;
    expect("fashion-mnist uncompressed copy (no .gz) loads", st, CS_OK);
    result(same, "fashion-mnist uncompressed copy equals the gzip files", "");
    cs_dataset_free(p);
    cs_dataset_free(d);

    /* the raw reader on the labels file */
    int ndim = 0, dims[3] = {0, 0, 0};
    uint8_t *data = NULL;
    snprintf(src, sizeof src, "%s/t10k-labels-idx1-ubyte.gz", dir);
    st = cs_idx_read(src, &ndim, dims, &data);
    expect("cs_idx_read labels file", st, CS_OK);
    result(st == CS_OK && ndim == 1 && dims[0] == 10000 && dims[1] == 1 && data[0] == 9,
           "cs_idx_read labels: 1 dim of 10000, first 9", "");
    cs_free(data);
}

/* ------------------------------------------------------------------------ */
/* Hostile and hand-made files                                              */
/* ------------------------------------------------------------------------ */

static void test_valid(void)
{
    const uint32_t img[3] = {3, 4, 5}, lab[1] = {3};
    for (int gz = 0; gz < 2; gz++) {
        const char *ip = idx_file(gz ? "ok-images.gz" : "ok-images", gz, 0x08, 3, img, 60);
        size_t llen = 0;
        unsigned char *lb = idx_bytes(0x08, 1, lab, 0, &llen);
        unsigned char lbuf[11];
        memcpy(lbuf, lb, 8);
        lbuf[8] = 7, lbuf[9] = 0, lbuf[10] = 255;
        free(lb);
        const char *lp = fixture(gz ? "ok-labels.gz" : "ok-labels");
        if (gz)
            write_gz(lp, lbuf, sizeof lbuf);
        else
            write_bytes(lp, lbuf, sizeof lbuf);
        cs_dataset *d = NULL;
        cs_status st = cs_idx_load_pair(ip, lp, &d);
        expect(gz ? "pair, gzip: loads" : "pair, plain (not gzip): accepted", st, CS_OK);
        int ok = st == CS_OK && d->count == 3 && d->height == 4 && d->width == 5 && d->labels[0] == 7 &&
                 d->labels[2] == 255;
        for (int i = 0; ok && i < 60; i++)
            ok = d->pixels[i] == (uint8_t)(i * 7 % 251);
        result(ok,
               gz ? "pair, gzip: 3 x 4x5, every byte as written"
                  : "pair, plain: 3 x 4x5, every byte as written",
               "");
        cs_dataset_free(d);
    }

    /* zero items is a valid (empty) data set */
    const uint32_t z3[3] = {0, 28, 28}, z1[1] = {0};
    cs_dataset *d = NULL;
    cs_status st = cs_idx_load_pair(idx_file("empty-images", 0, 0x08, 3, z3, 0),
                                    idx_file("empty-labels", 0, 0x08, 1, z1, 0), &d);
    expect("pair of zero items loads", st, CS_OK);
    result(st == CS_OK && d->count == 0 && d->pixels != NULL, "zero items: count 0, valid pointers", "");
    cs_dataset_free(d);
    cs_dataset_free(NULL);
}

static void test_hostile(void)
{
    int ndim = 0, dims[3] = {0, 0, 0};
    uint8_t *data = NULL;
    cs_dataset *d = NULL;
    const uint32_t img[3] = {10, 28, 28}, lab[1] = {10};
    const char *p = NULL;

    p = fixture("does-not-exist.gz");
    expect("missing file: CS_ERR_IO naming it", cs_idx_read(p, &ndim, dims, &data), CS_ERR_IO, p,
           "no such file");
    expect("directory: CS_ERR_IO", cs_idx_read(tmpdir, &ndim, dims, &data), CS_ERR_IO, tmpdir, "directory");

    p = fixture("empty");
    write_bytes(p, "", 0);
    expect("empty file: truncated", cs_idx_read(p, &ndim, dims, &data), CS_ERR_FORMAT, p, "truncated");

    p = fixture("png.gz");
    write_gz(p, "\x89PNG\r\n\x1a\n0000000000000000", 24);
    expect("bad magic (a PNG, gzipped)", cs_idx_read(p, &ndim, dims, &data), CS_ERR_FORMAT, p, "bad magic",
           "0x89504e47");
    p = fixture("text");
    write_bytes(p, "hello, world\n", 13);
    expect("bad magic (plain text)", cs_idx_read(p, &ndim, dims, &data), CS_ERR_FORMAT, p, "bad magic");

    p = idx_file("float.gz", 1, 0x0D, 3, img, 40);
    expect("float IDX: CS_ERR_UNSUPPORTED", cs_idx_read(p, &ndim, dims, &data), CS_ERR_UNSUPPORTED, p,
           "float", "0x0d");
    p = idx_file("rank0", 0, 0x08, 0, img, 0);
    expect("0 dimensions", cs_idx_read(p, &ndim, dims, &data), CS_ERR_FORMAT, p, "0 dimensions");
    const uint32_t four[4] = {1, 2, 3, 4};
    p = idx_file("rank4", 0, 0x08, 4, four, 24);
    expect("4 dimensions", cs_idx_read(p, &ndim, dims, &data), CS_ERR_FORMAT, p, "4 dimensions");

    p = fixture("header-cut");
    write_bytes(p, "\0\0\x08\x03\0\0\0\x0a\0\0", 10);
    expect("truncated inside the header", cs_idx_read(p, &ndim, dims, &data), CS_ERR_FORMAT, p, "truncated",
           "header");

    p = idx_file("short-data", 0, 0x08, 3, img, 10 * 28 * 28 - 1);
    expect("truncated data (plain, one byte short)", cs_idx_read(p, &ndim, dims, &data), CS_ERR_FORMAT, p,
           "truncated", "7840", "7839");
    p = idx_file("short-data.gz", 1, 0x08, 3, img, 5000);
    expect("truncated data (gzip, complete stream)", cs_idx_read(p, &ndim, dims, &data), CS_ERR_FORMAT, p,
           "truncated", "5000");

    /* a valid gzip file cut short: mid-stream, and only the 8-byte trailer */
    size_t len = 0;
    p = idx_file("cut.gz", 1, 0x08, 3, img, 10 * 28 * 28);
    unsigned char *whole = read_whole(p, &len);
    if (whole) {
        const char *mid = fixture("cut-mid.gz");
        write_bytes(mid, whole, len / 2);
        expect("gzip stream cut in the middle", cs_idx_read(mid, &ndim, dims, &data), CS_ERR_FORMAT, mid,
               "truncated");
        const char *tail = fixture("cut-trailer.gz");
        write_bytes(tail, whole, len - 8);
        expect("gzip stream without its trailer", cs_idx_read(tail, &ndim, dims, &data), CS_ERR_FORMAT, tail,
               "truncated gzip");
        /* corrupt the CRC: the data decompresses, the check fails */
        const char *crc = fixture("bad-crc.gz");
        whole[len - 6] ^= 0x5a;
        write_bytes(crc, whole, len);
        expect("gzip CRC mismatch", cs_idx_read(crc, &ndim, dims, &data), CS_ERR_FORMAT, crc, "corrupt gzip");
        free(whole);
    }

    p = idx_file("trailing", 0, 0x08, 3, img, 10 * 28 * 28 + 3);
    expect("trailing bytes after the data", cs_idx_read(p, &ndim, dims, &data), CS_ERR_FORMAT, p, "trailing");

    const uint32_t many[3] = {CS_IDX_MAX_ITEMS + 1, 28, 28};
    p = idx_file("many.gz", 1, 0x08, 3, many, 0);
    expect("10000001 items: over the limit", cs_idx_read(p, &ndim, dims, &data), CS_ERR_FORMAT, p, "10000001",
           "limit");
    const uint32_t wide[3] = {10, 28, 4097};
    p = idx_file("wide.gz", 1, 0x08, 3, wide, 0);
    expect("dimension 4097: over the limit", cs_idx_read(p, &ndim, dims, &data), CS_ERR_FORMAT, p, "4097",
           "limit");
    const uint32_t huge[3] = {CS_IDX_MAX_ITEMS, 4096, 4096};
    p = idx_file("huge.gz", 1, 0x08, 3, huge, 0);
    expect("1e7 x 4096 x 4096: total over 4 GiB", cs_idx_read(p, &ndim, dims, &data), CS_ERR_FORMAT, p,
           "167772160000000", "limit");
    const uint32_t ffff[3] = {0xFFFFFFFFu, 0xFFFFFFFFu, 0xFFFFFFFFu};
    p = idx_file("ffff.gz", 1, 0x08, 3, ffff, 0);
    expect("sizes 0xFFFFFFFF: over the limit", cs_idx_read(p, &ndim, dims, &data), CS_ERR_FORMAT, p,
           "4294967295");
    /* within the limits but promising 3.9 GB that is not there: truncated,
     * without allocating the promised size */
    const uint32_t promise[3] = {5000000, 28, 28};
    p = idx_file("promise.gz", 1, 0x08, 3, promise, 100);
    expect("header promises 3.9 GB, file holds 100 bytes: truncated", cs_idx_read(p, &ndim, dims, &data),
           CS_ERR_FORMAT, p, "truncated", "3920000000");
    result(data == NULL, "failed reads leave *data NULL", "");

    /* pairs */
    const char *ip = idx_file("p-images.gz", 1, 0x08, 3, img, 10 * 28 * 28);
    const char *lp = idx_file("p-labels.gz", 1, 0x08, 1, lab, 10);
    const uint32_t lab9[1] = {9};
    const char *l9 = idx_file("p-labels9.gz", 1, 0x08, 1, lab9, 9);
    expect("pair count mismatch: CS_ERR_SHAPE naming both files", cs_idx_load_pair(ip, l9, &d), CS_ERR_SHAPE,
           ip, l9, "10 images", "9 labels");
    result(d == NULL, "failed pair leaves *out NULL", "");
    expect("pair swapped: magic names the problem", cs_idx_load_pair(lp, ip, &d), CS_ERR_FORMAT, lp,
           "0x00000801", "0x00000803", "swapped");
    expect("pair with a missing label file", cs_idx_load_pair(ip, fixture("nope.gz"), &d), CS_ERR_IO,
           "nope.gz");
    expect("pair NULL argument", cs_idx_load_pair(NULL, lp, &d), CS_ERR_INVALID_ARG, "NULL");
    expect("read NULL argument", cs_idx_read(ip, NULL, dims, &data), CS_ERR_INVALID_ARG, "NULL");

    /* Fashion-MNIST lookup: a missing directory, wrong image size, bad label */
    char fdir[512];
    snprintf(fdir, sizeof fdir, "%s/fm", tmpdir);
    mkdir(fdir, 0700);
    expect("fashion-mnist: empty dir names the file and a hint", cs_fashion_mnist_load(fdir, 1, &d),
           CS_ERR_IO, "t10k-images-idx3-ubyte.gz", fdir, "hint");
    char ipath[1024], lpath[1024];
    snprintf(ipath, sizeof ipath, "%s/t10k-images-idx3-ubyte.gz", fdir);
    snprintf(lpath, sizeof lpath, "%s/t10k-labels-idx1-ubyte", fdir); /* uncompressed */
    const uint32_t small[3] = {2, 27, 28}, full[3] = {2, 28, 28};
    size_t n = 0;
    unsigned char *b = idx_bytes(0x08, 3, small, 2 * 27 * 28, &n);
    write_gz(ipath, b, n);
    free(b);
    unsigned char lbuf[10] = {0, 0, 8, 1, 0, 0, 0, 2, 3, 10}; /* labels 3, 10 */
    write_bytes(lpath, lbuf, sizeof lbuf);
    expect("fashion-mnist: 27x28 images refused", cs_fashion_mnist_load(fdir, 1, &d), CS_ERR_FORMAT, ipath,
           "27x28");
    b = idx_bytes(0x08, 3, full, 2 * 28 * 28, &n);
    write_gz(ipath, b, n);
    free(b);
    expect("fashion-mnist: label 10 refused", cs_fashion_mnist_load(fdir, 1, &d), CS_ERR_FORMAT, lpath,
           "item 1", "label 10");
    lbuf[9] = 4;
    write_bytes(lpath, lbuf, sizeof lbuf);
    cs_status st = cs_fashion_mnist_load(fdir, 1, &d);
    expect("fashion-mnist: a valid 2-item set in a temp dir (labels uncompressed)", st, CS_OK);
    result(st == CS_OK && d->count == 2 && d->labels[1] == 4, "fashion-mnist: temp set has 2 items, label 4",
           "");
    cs_dataset_free(d);
}

int main(int argc, char **argv)
{
    const char *dir = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-v") == 0)
            verbose = 1;
        else
            dir = argv[i];
    }
    if (dir == NULL)
        dir = getenv("CONVSCOPE_FASHION_MNIST");
    if (dir == NULL || dir[0] == '\0')
        dir = CS_FASHION_MNIST_DIR;

    const char *base = getenv("TMPDIR");
    snprintf(tmpdir, sizeof tmpdir, "%s/cs_test_idx_XXXXXX", base && base[0] ? base : "/tmp");
    if (mkdtemp(tmpdir) == NULL) {
        perror("test_idx: mkdtemp");
        return 2;
    }
    test_valid();
    test_hostile();
    test_real(dir);
    remove_tree(tmpdir);
    printf("%d passed, %d failed\n", n_passed, n_failed);
    return n_failed == 0 ? 0 : 1;
}
