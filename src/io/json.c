/* Strict, non-recursive JSON parser for untrusted headers: one pass over the
 * text with an explicit container stack, every limit checked before memory is
 * used, strings unescaped into one arena sized by the input, objects checked
 * for duplicate keys when they close.
 */
#include <stdlib.h>
#include <string.h>

#include "core/status.h"
#include "io/json.h"

typedef struct parser {
    const char *s;
    size_t len;
    size_t pos;
    cs_json_limits lim;
    cs_json *j;
    int cap;              /* allocated entries of j->values */
    int *stack;           /* open containers, innermost last */
    int *last;            /* last child of each open container, -1 while empty */
    int depth;
    size_t arena_used;
    int *scratch;         /* member indices, for the duplicate-key check */
    int scratch_cap;
} parser;

/* Set by the qsort comparator's caller; qsort has no context argument. */
static _Thread_local const cs_json_value *g_sort_values = NULL;

static cs_status fail(const parser *p, const char *what)
{
    return cs_error(CS_ERR_FORMAT, "JSON error at byte %zu: %s", p->pos, what);
}

static int is_ws(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static void skip_ws(parser *p)
{
    while (p->pos < p->len && is_ws(p->s[p->pos]))
        p->pos++;
}

static int peek(const parser *p)
{
    return p->pos < p->len ? (unsigned char)p->s[p->pos] : -1;
}

/* ------------------------------------------------------------------------ */
/* Values                                                                   */
/* ------------------------------------------------------------------------ */

/* Appends a value, links it under the innermost open container and stores
 * its index in *out. */
static cs_status new_value(parser *p, cs_json_type type, const char *key, size_t key_len, int *out)
{
    cs_json *j = p->j;
    if (j->count >= p->lim.max_values)
        return cs_error(CS_ERR_FORMAT, "JSON error at byte %zu: more than %d values", p->pos, p->lim.max_values);
    if (j->count == p->cap) {
        int cap = p->cap ? p->cap : 256;
        cap = cap > p->lim.max_values / 2 ? p->lim.max_values : cap * 2;
        cs_json_value *v = realloc(j->values, (size_t)cap * sizeof *v);
        if (!v)
            return cs_error(CS_ERR_NO_MEMORY, "JSON: out of memory for %d values", cap);
        j->values = v;
        p->cap = cap;
    }
    int id = j->count++;
    cs_json_value *v = &j->values[id];
    memset(v, 0, sizeof *v);
    v->type = type;
    v->first = -1;
    v->next = -1;
    v->key = key;
    v->key_len = key_len;
    if (p->depth > 0) {
        int parent = p->stack[p->depth - 1];
        int prev = p->last[p->depth - 1];
        if (prev < 0)
            j->values[parent].first = id;
        else
            j->values[prev].next = id;
        p->last[p->depth - 1] = id;
        j->values[parent].count++;
    }
    *out = id;
    return CS_OK;
}

/* ------------------------------------------------------------------------ */
/* Strings                                                                  */
/* ------------------------------------------------------------------------ */

static int hex4(const parser *p, size_t at, unsigned *out)
{
    unsigned v = 0;
    if (at + 4 > p->len)
        return -1;
    for (int k = 0; k < 4; k++) {
        char c = p->s[at + (size_t)k];
        unsigned d = 0;
        if (c >= '0' && c <= '9')
            d = (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f')
            d = (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            d = (unsigned)(c - 'A' + 10);
        else
            return -1;
        v = v * 16u + d;
    }
    *out = v;
    return 0;
}

/* Length of the valid UTF-8 sequence starting at s[0] (at most n bytes), or 0
 * when it is malformed (overlong, surrogate, beyond U+10FFFF, truncated). */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
    unsigned char c = s[0];
    size_t need = 0;
    unsigned char lo = 0x80, hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF) {
        need = 1;
    } else if (c >= 0xE0 && c <= 0xEF) {
        need = 2;
        if (c == 0xE0)
            lo = 0xA0;
        if (c == 0xED)
            hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        need = 3;
        if (c == 0xF0)
            lo = 0x90;
        if (c == 0xF4)
            hi = 0x8F;
    } else {
        return 0;
    }
    if (need + 1 > n)
        return 0;
    if (s[1] < lo || s[1] > hi)
        return 0;
    for (size_t k = 2; k <= need; k++)
        if (s[k] < 0x80 || s[k] > 0xBF)
            return 0;
    return need + 1;
}

static size_t put_utf8(char *out, unsigned cp)
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* Parses the string at p->pos (which is '"') into the arena. */
static cs_status parse_string(parser *p, const char **out, size_t *out_len)
{
    char *dst = p->j->strings + p->arena_used;
    size_t n = 0;
    p->pos++;
    for (;;) {
        if (p->pos >= p->len)
            return fail(p, "unterminated string");
        if (n > p->lim.max_string)
            return cs_error(CS_ERR_FORMAT, "JSON error at byte %zu: string longer than %zu bytes", p->pos,
                            p->lim.max_string);
        unsigned char c = (unsigned char)p->s[p->pos];
        if (c == '"') {
            p->pos++;
            break;
        }
        if (c < 0x20)
            return fail(p, "control character inside a string (must be escaped)");
        if (c == '\\') {
            if (p->pos + 1 >= p->len)
                return fail(p, "unterminated escape");
            char e = p->s[p->pos + 1];
            const char *simple = strchr("\"\\/bfnrt", e);
            if (e != '\0' && simple) {
                static const char map[] = "\"\\/\b\f\n\r\t";
                dst[n++] = map[simple - "\"\\/bfnrt"];
                p->pos += 2;
                continue;
            }
            if (e != 'u')
                return fail(p, "invalid escape sequence");
            unsigned cp = 0;
            if (hex4(p, p->pos + 2, &cp))
                return fail(p, "\\u must be followed by 4 hex digits");
            p->pos += 6;
            if (cp >= 0xDC00 && cp <= 0xDFFF)
                return fail(p, "\\u escape is a lone low surrogate");
            if (cp >= 0xD800 && cp <= 0xDBFF) {
                unsigned lo = 0;
                if (p->pos + 1 >= p->len || p->s[p->pos] != '\\' || p->s[p->pos + 1] != 'u' ||
                    hex4(p, p->pos + 2, &lo) || lo < 0xDC00 || lo > 0xDFFF)
                    return fail(p, "\\u escape is a high surrogate without a low surrogate after it");
                p->pos += 6;
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            }
            n += put_utf8(dst + n, cp);
            continue;
        }
        if (c < 0x80) {
            dst[n++] = (char)c;
            p->pos++;
            continue;
        }
        size_t k = utf8_seq((const unsigned char *)p->s + p->pos, p->len - p->pos);
        if (k == 0)
            return fail(p, "invalid UTF-8 in a string");
        memcpy(dst + n, p->s + p->pos, k);
        n += k;
        p->pos += k;
    }
    if (n > p->lim.max_string)
        return cs_error(CS_ERR_FORMAT, "JSON error at byte %zu: string longer than %zu bytes", p->pos,
                        p->lim.max_string);
    dst[n] = '\0';
    p->arena_used += n + 1;
    *out = dst;
    *out_len = n;
    return CS_OK;
}

/* ------------------------------------------------------------------------ */
/* Numbers and literals                                                     */
/* ------------------------------------------------------------------------ */

static int is_digit(int c)
{
    return c >= '0' && c <= '9';
}

static cs_status parse_number(parser *p, cs_json_value *v)
{
    size_t start = p->pos;
    int neg = 0, frac = 0, overflow = 0;
    uint64_t mag = 0;
    if (peek(p) == '-') {
        neg = 1;
        p->pos++;
    }
    if (!is_digit(peek(p)))
        return fail(p, "invalid number");
    if (peek(p) == '0') {
        p->pos++;
        if (is_digit(peek(p)))
            return fail(p, "number with a leading zero");
    } else {
        while (is_digit(peek(p))) {
            uint64_t d = (uint64_t)(peek(p) - '0');
            if (mag > (UINT64_MAX - d) / 10u)
                overflow = 1;
            else
                mag = mag * 10u + d;
            p->pos++;
        }
    }
    if (peek(p) == '.') {
        frac = 1;
        p->pos++;
        if (!is_digit(peek(p)))
            return fail(p, "number needs digits after '.'");
        while (is_digit(peek(p)))
            p->pos++;
    }
    if (peek(p) == 'e' || peek(p) == 'E') {
        frac = 1;
        p->pos++;
        if (peek(p) == '+' || peek(p) == '-')
            p->pos++;
        if (!is_digit(peek(p)))
            return fail(p, "number needs digits in its exponent");
        while (is_digit(peek(p)))
            p->pos++;
    }
    v->str = p->s + start;
    v->len = p->pos - start;
    if (!frac && !overflow) {
        if (!neg && mag <= (uint64_t)INT64_MAX) {
            v->is_int = 1;
            v->i = (int64_t)mag;
        } else if (neg && mag <= (uint64_t)INT64_MAX + 1u) {
            v->is_int = 1;
            v->i = mag == (uint64_t)INT64_MAX + 1u ? INT64_MIN : -(int64_t)mag;
        }
    }
    return CS_OK;
}

static int literal(parser *p, const char *word)
{
    size_t n = strlen(word);
    if (p->len - p->pos < n || memcmp(p->s + p->pos, word, n) != 0)
        return 0;
    p->pos += n;
    return 1;
}

/* ------------------------------------------------------------------------ */
/* Containers                                                               */
/* ------------------------------------------------------------------------ */

static int cmp_member(const void *a, const void *b)
{
    const cs_json_value *x = &g_sort_values[*(const int *)a];
    const cs_json_value *y = &g_sort_values[*(const int *)b];
    size_t n = x->key_len < y->key_len ? x->key_len : y->key_len;
    int c = memcmp(x->key, y->key, n);
    if (c != 0)
        return c;
    return (x->key_len > y->key_len) - (x->key_len < y->key_len);
}

/* Rejects an object that has the same key twice. */
static cs_status check_duplicates(parser *p, int obj)
{
    const cs_json_value *o = &p->j->values[obj];
    if (o->count < 2)
        return CS_OK;
    if (o->count > p->scratch_cap) {
        int *s = realloc(p->scratch, (size_t)o->count * sizeof *s);
        if (!s)
            return cs_error(CS_ERR_NO_MEMORY, "JSON: out of memory checking %d keys", o->count);
        p->scratch = s;
        p->scratch_cap = o->count;
    }
    int n = 0;
    for (int c = o->first; c >= 0; c = p->j->values[c].next)
        p->scratch[n++] = c;
    g_sort_values = p->j->values;
    qsort(p->scratch, (size_t)n, sizeof *p->scratch, cmp_member);
    for (int k = 1; k < n; k++) {
        if (cmp_member(&p->scratch[k - 1], &p->scratch[k]) == 0) {
            char key[128] = {0};
            g_sort_values = NULL;
            return cs_error(CS_ERR_FORMAT, "JSON error at byte %zu: duplicate key \"%s\" in an object", p->pos,
                            cs_json_printable(key, sizeof key, p->j->values[p->scratch[k]].key));
        }
    }
    g_sort_values = NULL;
    return CS_OK;
}

/* Parses `"key" :` at p->pos (after whitespace). */
static cs_status parse_key(parser *p, const char **key, size_t *key_len)
{
    skip_ws(p);
    if (peek(p) != '"')
        return fail(p, "expected a string key");
    cs_status st = parse_string(p, key, key_len);
    if (st != CS_OK)
        return st;
    skip_ws(p);
    if (peek(p) != ':')
        return fail(p, "expected ':' after a key");
    p->pos++;
    return CS_OK;
}

static cs_status parse_all(parser *p)
{
    const char *key = NULL;
    size_t key_len = 0;
    cs_status st = CS_OK;
    for (;;) {
        /* A value starts here. */
        skip_ws(p);
        int c = peek(p);
        if (c == '{' || c == '[') {
            if (p->depth >= p->lim.max_depth)
                return cs_error(CS_ERR_FORMAT, "JSON error at byte %zu: nested deeper than %d levels", p->pos,
                                p->lim.max_depth);
            int id = -1;
            if ((st = new_value(p, c == '{' ? CS_JSON_OBJECT : CS_JSON_ARRAY, key, key_len, &id)) != CS_OK)
                return st;
            key = NULL;
            key_len = 0;
            p->pos++;
            p->stack[p->depth] = id;
            p->last[p->depth] = -1;
            p->depth++;
            skip_ws(p);
            if (peek(p) != (c == '{' ? '}' : ']')) {
                if (c == '{' && (st = parse_key(p, &key, &key_len)) != CS_OK)
                    return st;
                continue; /* the first element */
            }
            p->pos++;
            p->depth--;
        } else {
            int id = -1;
            if ((st = new_value(p, CS_JSON_NULL, key, key_len, &id)) != CS_OK)
                return st;
            key = NULL;
            key_len = 0;
            cs_json_value *v = &p->j->values[id];
            if (c == '"') {
                v->type = CS_JSON_STRING;
                if ((st = parse_string(p, &v->str, &v->len)) != CS_OK)
                    return st;
            } else if (c == '-' || is_digit(c)) {
                v->type = CS_JSON_NUMBER;
                if ((st = parse_number(p, v)) != CS_OK)
                    return st;
            } else if (literal(p, "true")) {
                v->type = CS_JSON_TRUE;
            } else if (literal(p, "false")) {
                v->type = CS_JSON_FALSE;
            } else if (literal(p, "null")) {
                v->type = CS_JSON_NULL;
            } else {
                return fail(p, c < 0 ? "unexpected end of input" : "expected a value");
            }
        }
        /* A value ended: close containers until one continues with ','. */
        for (;;) {
            if (p->depth == 0)
                return CS_OK;
            int top = p->stack[p->depth - 1];
            int is_obj = p->j->values[top].type == CS_JSON_OBJECT;
            skip_ws(p);
            c = peek(p);
            if (c == ',') {
                p->pos++;
                if (is_obj && (st = parse_key(p, &key, &key_len)) != CS_OK)
                    return st;
                break;
            }
            if (c == (is_obj ? '}' : ']')) {
                p->pos++;
                p->depth--;
                if (is_obj && (st = check_duplicates(p, top)) != CS_OK)
                    return st;
                continue;
            }
            return fail(p, is_obj ? "expected ',' or '}'" : "expected ',' or ']'");
        }
    }
}

cs_status cs_json_parse(const char *text, size_t len, const cs_json_limits *limits, cs_json **out)
{
    if (!out)
        return cs_error(CS_ERR_INVALID_ARG, "cs_json_parse: out is NULL");
    *out = NULL;
    if (!text || !limits || limits->max_depth < 1 || limits->max_values < 1)
        return cs_error(CS_ERR_INVALID_ARG, "cs_json_parse: bad arguments");
    if (len == SIZE_MAX)
        return cs_error(CS_ERR_INVALID_ARG, "cs_json_parse: text too long");
    parser p = {0};
    p.s = text;
    p.len = len;
    p.lim = *limits;
    cs_status st = CS_OK;
    p.j = calloc(1, sizeof *p.j);
    p.stack = malloc((size_t)limits->max_depth * sizeof *p.stack);
    p.last = malloc((size_t)limits->max_depth * sizeof *p.last);
    if (p.j)
        p.j->strings = malloc(len + 1); /* unescaped text never outgrows its source */
    if (!p.j || !p.stack || !p.last || !p.j->strings) {
        st = cs_error(CS_ERR_NO_MEMORY, "JSON: out of memory for a %zu-byte document", len);
        goto done;
    }
    st = parse_all(&p);
    if (st == CS_OK) {
        skip_ws(&p);
        if (p.pos != p.len)
            st = fail(&p, "trailing characters after the JSON value");
    }
done:
    free(p.stack);
    free(p.last);
    free(p.scratch);
    if (st != CS_OK) {
        cs_json_free(p.j);
        return st;
    }
    *out = p.j;
    return CS_OK;
}

void cs_json_free(cs_json *j)
{
    if (!j)
        return;
    free(j->values);
    free(j->strings);
    free(j);
}

const char *cs_json_printable(char *buf, size_t size, const char *s)
{
    size_t n = 0;
    if (size == 0)
        return buf;
    for (; s && s[n] && n + 1 < size; n++) {
        unsigned char c = (unsigned char)s[n];
        buf[n] = c < 0x20 || c == 0x7F ? '?' : (char)c;
    }
    buf[n] = '\0';
    return buf;
}

int cs_json_member(const cs_json *j, int obj, const char *key)
{
    if (!j || obj < 0 || obj >= j->count || j->values[obj].type != CS_JSON_OBJECT || !key)
        return -1;
    size_t n = strlen(key);
    for (int c = j->values[obj].first; c >= 0; c = j->values[c].next)
        if (j->values[c].key_len == n && memcmp(j->values[c].key, key, n) == 0)
            return c;
    return -1;
}
