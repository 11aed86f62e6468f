/* A small strict JSON parser (RFC 8259) for headers read from untrusted files
 * (safetensors). No recursion: an explicit stack with a depth limit; counts of
 * values and string lengths are capped; strings are fully unescaped and
 * checked (UTF-8, \uXXXX surrogate pairs); duplicate object keys are rejected.
 */
#ifndef CS_IO_JSON_H
#define CS_IO_JSON_H

#include <stddef.h>
#include <stdint.h>

#include "convscope.h"

typedef enum cs_json_type {
    CS_JSON_NULL = 0,
    CS_JSON_FALSE,
    CS_JSON_TRUE,
    CS_JSON_NUMBER,
    CS_JSON_STRING,
    CS_JSON_ARRAY,
    CS_JSON_OBJECT
} cs_json_type;

/* One value. Containers link their children by index: `first` is the first
 * child and each child's `next` the following one (-1 ends the list). */
typedef struct cs_json_value {
    cs_json_type type;
    int count;            /* ARRAY/OBJECT: number of children */
    int first;            /* ARRAY/OBJECT: first child, -1 when empty */
    int next;             /* next sibling, -1 for the last */
    const char *key;      /* member name (unescaped, NUL-terminated) inside an object, else NULL */
    size_t key_len;       /* bytes in key; may be less than strlen if it holds \u0000 */
    const char *str;      /* STRING: unescaped text, NUL-terminated; NUMBER: raw text, not terminated */
    size_t len;           /* bytes in str */
    int64_t i;            /* NUMBER: value when is_int */
    int is_int;           /* NUMBER: 1 when written without fraction/exponent and it fits int64 */
} cs_json_value;

typedef struct cs_json_limits {
    int max_depth;        /* nesting of arrays/objects, >= 1 */
    int max_values;       /* total values in the document */
    size_t max_string;    /* bytes of one string or key, unescaped */
} cs_json_limits;

typedef struct cs_json {
    cs_json_value *values;  /* values[0] is the root */
    int count;
    char *strings;          /* arena holding every unescaped string */
} cs_json;

/* Parses exactly `len` bytes: one value surrounded by optional whitespace.
 * On failure returns CS_ERR_FORMAT (or CS_ERR_NO_MEMORY) with a message that
 * gives the byte offset, and *out is NULL. Free with cs_json_free. */
cs_status cs_json_parse(const char *text, size_t len, const cs_json_limits *limits, cs_json **out);
void cs_json_free(cs_json *j);

/* Copies text from an untrusted document into buf for an error message:
 * control characters (and DEL) become '?', the copy is cut to fit. */
const char *cs_json_printable(char *buf, size_t size, const char *s);

/* Member of object `obj` named `key` (NUL-terminated), or -1. */
int cs_json_member(const cs_json *j, int obj, const char *key);

#endif
