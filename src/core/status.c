/* Status codes and the thread-local error message behind cs_last_error().
 * Every library failure goes through cs_error() so callers always find a
 * readable explanation next to the status they got.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/status.h"

#define CS_ERROR_MAX 8192

static _Thread_local char g_error[CS_ERROR_MAX];

const char *cs_last_error(void)
{
    return g_error;
}

void cs_error_clear(void)
{
    g_error[0] = '\0';
}

cs_status cs_error(cs_status status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(g_error, sizeof g_error, fmt, ap);
    va_end(ap);
    return status;
}

cs_status cs_error_context(cs_status status, const char *fmt, ...)
{
    char prefix[512] = {0};
    char old[CS_ERROR_MAX] = {0};
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    memcpy(old, g_error, sizeof old);
    size_t used = strlen(prefix);
    memcpy(g_error, prefix, used);
    if (used + 2 < sizeof g_error) {
        memcpy(g_error + used, ": ", 2);
        used += 2;
    }
    size_t rest = strlen(old);
    if (rest > sizeof g_error - 1 - used)
        rest = sizeof g_error - 1 - used;
    memcpy(g_error + used, old, rest);
    g_error[used + rest] = '\0';
    return status;
}

const char *cs_status_name(cs_status status)
{
    switch (status) {
    case CS_OK: return "CS_OK";
    case CS_ERR_INVALID_ARG: return "CS_ERR_INVALID_ARG";
    case CS_ERR_SHAPE: return "CS_ERR_SHAPE";
    case CS_ERR_IO: return "CS_ERR_IO";
    case CS_ERR_FORMAT: return "CS_ERR_FORMAT";
    case CS_ERR_NO_MEMORY: return "CS_ERR_NO_MEMORY";
    case CS_ERR_NO_DEVICE: return "CS_ERR_NO_DEVICE";
    case CS_ERR_DEVICE: return "CS_ERR_DEVICE";
    case CS_ERR_BUILD: return "CS_ERR_BUILD";
    case CS_ERR_UNSUPPORTED: return "CS_ERR_UNSUPPORTED";
    case CS_ERR_STATE: return "CS_ERR_STATE";
    }
    return "CS_ERR_UNKNOWN";
}
