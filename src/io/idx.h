/* IDX data sets (the MNIST / Fashion-MNIST file format): unsigned-byte IDX
 * files, gzip-compressed or plain, read whole and validated; an image file
 * and its label file loaded as one data set; Fashion-MNIST found by its file
 * names in a directory. The
 * data-set API itself is public (convscope.h); this header adds the limits.
 */
#ifndef CS_IO_IDX_H
#define CS_IO_IDX_H

#include <stdint.h>

#include "convscope.h"

#define CS_IDX_MAX_ITEMS 10000000               /* first dimension */
#define CS_IDX_MAX_DIM 4096                     /* every other dimension */
#define CS_IDX_MAX_BYTES ((uint64_t)1 << 32)    /* whole data block: 4 GiB */

#endif
