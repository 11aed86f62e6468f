/* IDX data sets (the MNIST / Fashion-MNIST file format): unsigned-byte IDX
 * files, gzip-compressed or plain, read whole and validated; an image file
 * and its label file loaded as one data set; Fashion-MNIST found by its file
 * names in a directory. To move into convscope.h once the training API lands.
 */
#ifndef CS_IO_IDX_H
#define CS_IO_IDX_H

#include <stdint.h>

#include "convscope.h"

#define CS_IDX_MAX_ITEMS 10000000               /* first dimension */
#define CS_IDX_MAX_DIM 4096                     /* every other dimension */
#define CS_IDX_MAX_BYTES ((uint64_t)1 << 32)    /* whole data block: 4 GiB */

/* Default location of Fashion-MNIST (Debian's dataset-fashion-mnist). */
#define CS_FASHION_MNIST_DIR "/usr/share/datasets/fashion-mnist"

typedef struct cs_dataset {
    int count, height, width;
    uint8_t *pixels;  /* (count, height, width), row-major as stored */
    uint8_t *labels;  /* (count) */
} cs_dataset;

/* Reads an unsigned-byte IDX file (type 0x08, 1 to 3 dims, big-endian sizes;
 * gzip or plain, detected from the contents). *data (free with cs_free) gets
 * dims[0] * ... * dims[ndim-1] bytes. Errors name the file: CS_ERR_IO (cannot
 * open or read), CS_ERR_FORMAT (bad magic, truncated data or gzip stream,
 * trailing bytes, corrupt gzip, a size over the limits above),
 * CS_ERR_UNSUPPORTED (an IDX element type other than unsigned byte). */
cs_status cs_idx_read(const char *path, int *ndim, int dims[3], uint8_t **data);

/* An image file (magic 0x00000803: count x height x width) and its label file
 * (magic 0x00000801: count) as one data set. CS_ERR_FORMAT for a wrong magic
 * (e.g. the files swapped), CS_ERR_SHAPE naming both files when the counts
 * differ. *out is set only on success; free with cs_dataset_free. */
cs_status cs_idx_load_pair(const char *images_path, const char *labels_path, cs_dataset **out);

/* Fashion-MNIST's training set (test 0: train-images-idx3-ubyte.gz and
 * train-labels-idx1-ubyte.gz, 60000 items) or test set (test 1: t10k-*,
 * 10000) from `dir` (NULL or "": CS_FASHION_MNIST_DIR); an uncompressed copy
 * (the name without .gz) is used when the .gz is absent. Also checks the
 * images are 28x28 and every label is below 10. */
cs_status cs_fashion_mnist_load(const char *dir, int test, cs_dataset **out);

void cs_dataset_free(cs_dataset *d);

#endif
