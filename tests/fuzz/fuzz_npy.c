/* libFuzzer harness for the .npy reader: the input is the file. On success
 * every element the returned shape promises is read back (ASan checks the
 * allocation really holds them) and the shape is checked against the file.
 */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_file(data, size);
    float *out = (float *)(uintptr_t)1;
    int ndim = -1;
    int64_t dims[8];
    memset(dims, 0xA5, sizeof dims);
    cs_error_clear();
    cs_status st = cs_npy_read(path, &out, &ndim, dims);
    fuzz_log("cs_npy_read", st);
    FUZZ_CHECK_MESSAGE(st);
    if (st != CS_OK) {
        FUZZ_CHECK(out == NULL);
        FUZZ_CHECK(st == CS_ERR_FORMAT || st == CS_ERR_NO_MEMORY);
        return 0;
    }
    FUZZ_CHECK(out != NULL && ndim >= 0 && ndim <= 8);
    size_t count = 1;
    int zero = 0;
    for (int k = 0; k < 8; k++) {
        FUZZ_CHECK(dims[k] >= 0 && (k < ndim || dims[k] == 0));
        zero |= k < ndim && dims[k] == 0;
    }
    /* the data is in the file, so a non-empty array has fewer elements than
     * the file has bytes (an empty one may have any other dimension) */
    for (int k = 0; k < ndim && !zero; k++) {
        FUZZ_CHECK((uint64_t)dims[k] <= size);
        count *= (size_t)dims[k];
        FUZZ_CHECK(count <= size);
    }
    if (zero)
        count = 0;
    /* 2, 4 or 8 bytes an element after a >= 10-byte prefix */
    FUZZ_CHECK(count * 2 + 10 <= size);
    volatile float sink = 0.0f;
    for (size_t i = 0; i < count; i++)
        sink += out[i];
    (void)sink;
    cs_free(out);
    return 0;
}
