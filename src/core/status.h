/* Error reporting shared by every part of the library: a thread-local message
 * that cs_last_error() returns, set by cs_error() which also returns the status
 * so callers can write `return cs_error(CS_ERR_SHAPE, "...", ...)`.
 */
#ifndef CS_CORE_STATUS_H
#define CS_CORE_STATUS_H

#include "convscope.h"

#if defined(__GNUC__)
#define CS_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define CS_PRINTF(a, b)
#endif

/* Records the message and returns `status`. */
cs_status cs_error(cs_status status, const char *fmt, ...) CS_PRINTF(2, 3);
/* Prepends context to the current message: "ctx: <old message>". */
cs_status cs_error_context(cs_status status, const char *fmt, ...) CS_PRINTF(2, 3);
void cs_error_clear(void);

#endif
