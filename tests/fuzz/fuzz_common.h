/* Shared by the libFuzzer harnesses: the fuzz input as a file path (a memfd,
 * so the path-based loaders read it without touching the disk) and checks
 * that abort, so libFuzzer reports a broken invariant as a crash.
 */
#ifndef CS_FUZZ_COMMON_H
#define CS_FUZZ_COMMON_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "convscope.h"
#include "core/status.h"

/* Aborts with the condition's text: libFuzzer saves the input as a crash. */
#define FUZZ_CHECK(cond)                                                                                      \
    do {                                                                                                      \
        if (!(cond)) {                                                                                        \
            fprintf(stderr, "%s:%d: invariant failed: %s (last error: \"%.300s\")\n", __FILE__, __LINE__,   \
                    #cond, cs_last_error());                                                                 \
            abort();                                                                                          \
        }                                                                                                     \
    } while (0)

/* Every failing library call must leave a message (STYLE.md: "every fallible
 * call returns a status and leaves a readable message"). Call cs_error_clear()
 * before the call. */
#define FUZZ_CHECK_MESSAGE(st) FUZZ_CHECK((st) == CS_OK || cs_last_error()[0] != '\0')

/* With FUZZ_VERBOSE=1 in the environment, prints each call's status and
 * message (to see what the seeds reach: ./fuzz_x corpus/x/FILE...). */
static inline void fuzz_log(const char *what, cs_status st)
{
    static int verbose = -1;
    if (verbose < 0)
        verbose = getenv("FUZZ_VERBOSE") != NULL;
    if (verbose)
        fprintf(stderr, "  %s: %s %.200s\n", what, cs_status_name(st), st == CS_OK ? "" : cs_last_error());
}

/* Writes data to memfd number `slot` (0..3, each created once) and returns
 * "/proc/self/fd/N", which open()/fopen() reopen as a regular file of exactly
 * `size` bytes. Harnesses whose API takes two paths use two slots. */
static inline const char *fuzz_file_slot(int slot, const uint8_t *data, size_t size)
{
    static int fds[4] = {-1, -1, -1, -1};
    static char paths[4][64];
    FUZZ_CHECK(slot >= 0 && slot < 4);
    if (fds[slot] < 0) {
        fds[slot] = memfd_create("convscope-fuzz", MFD_CLOEXEC);
        FUZZ_CHECK(fds[slot] >= 0);
        snprintf(paths[slot], sizeof paths[slot], "/proc/self/fd/%d", fds[slot]);
    }
    const int fd = fds[slot];
    FUZZ_CHECK(ftruncate(fd, 0) == 0);
    size_t done = 0;
    while (done < size) {
        ssize_t n = pwrite(fd, data + done, size - done, (off_t)done);
        FUZZ_CHECK(n > 0);
        done += (size_t)n;
    }
    return paths[slot];
}

/* The input as the one file a path-based loader reads (slot 0). */
static inline const char *fuzz_file(const uint8_t *data, size_t size)
{
    return fuzz_file_slot(0, data, size);
}

#endif
