/* libFuzzer harness for the strict JSON parser (src/io/json.h): parses the
 * input under the limits safetensors uses and again under tiny limits derived
 * from the input length, then walks the tree checking its invariants (child
 * links, counts, terminated strings, integer values, member lookup).
 */
#include <inttypes.h>

#include "fuzz_common.h"
#include "io/json.h"

/* The document as safetensors parses it (see ST_MAX_* in safetensors.c). */
static const cs_json_limits g_header_limits = {16, 2000000, 1u << 20};

/* Valid UTF-8 (the parser promises unescaped strings are, \u0000 aside). */
static int utf8_ok(const unsigned char *s, size_t n)
{
    for (size_t i = 0; i < n;) {
        unsigned char c = s[i];
        size_t k = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
        if (k == 0 || i + k > n)
            return 0;
        for (size_t j = 1; j < k; j++)
            if ((s[i + j] & 0xC0) != 0x80)
                return 0;
        i += k;
    }
    return 1;
}

static void check_tree(const cs_json *j, const char *text, size_t len, const cs_json_limits *lim)
{
    FUZZ_CHECK(j && j->count >= 1 && j->count <= lim->max_values);
    int reached = 1; /* the root */
    for (int id = 0; id < j->count; id++) {
        const cs_json_value *v = &j->values[id];
        FUZZ_CHECK(v->type >= CS_JSON_NULL && v->type <= CS_JSON_OBJECT);
        FUZZ_CHECK(v->next >= -1 && v->next < j->count && v->next != id);
        if (v->type == CS_JSON_STRING) {
            FUZZ_CHECK(v->str && v->str[v->len] == '\0' && v->len <= lim->max_string);
            FUZZ_CHECK(utf8_ok((const unsigned char *)v->str, v->len));
        }
        if (v->type == CS_JSON_NUMBER) {
            /* raw text inside the input */
            FUZZ_CHECK(v->str >= text && v->str + v->len <= text + len && v->len >= 1);
            if (v->is_int) {
                char buf[32] = {0};
                FUZZ_CHECK(v->len < sizeof buf);
                memcpy(buf, v->str, v->len);
                FUZZ_CHECK(strtoll(buf, NULL, 10) == v->i);
            }
        }
        if (v->type != CS_JSON_ARRAY && v->type != CS_JSON_OBJECT) {
            FUZZ_CHECK(v->count == 0 && v->first == -1);
            continue;
        }
        /* children: exactly `count`, each after its parent, keyed iff in an object */
        int n = 0;
        for (int c = v->first; c >= 0; c = j->values[c].next) {
            FUZZ_CHECK(c > id && c < j->count && n < v->count);
            const cs_json_value *ch = &j->values[c];
            if (v->type == CS_JSON_OBJECT) {
                FUZZ_CHECK(ch->key && ch->key[ch->key_len] == '\0' && ch->key_len <= lim->max_string);
                FUZZ_CHECK(utf8_ok((const unsigned char *)ch->key, ch->key_len));
                /* keys are unique, so a key without \u0000 finds its own member */
                if (strlen(ch->key) == ch->key_len)
                    FUZZ_CHECK(cs_json_member(j, id, ch->key) == c);
            } else {
                FUZZ_CHECK(ch->key == NULL);
            }
            n++;
        }
        FUZZ_CHECK(n == v->count);
        reached += n;
        char buf[24];
        if (v->first >= 0 && v->type == CS_JSON_OBJECT)
            cs_json_printable(buf, sizeof buf, j->values[v->first].key);
    }
    FUZZ_CHECK(reached == j->count); /* every value hangs off the root exactly once */
    FUZZ_CHECK(j->values[0].key == NULL && j->values[0].next == -1);
    FUZZ_CHECK(cs_json_member(j, 0, "dtype") >= -1);
    FUZZ_CHECK(cs_json_member(j, -1, "x") == -1 && cs_json_member(j, j->count, "x") == -1);
}

static void parse_once(const char *text, size_t len, const cs_json_limits *lim)
{
    cs_json *j = (cs_json *)(uintptr_t)1; /* must be reset to NULL on failure */
    cs_error_clear();
    cs_status st = cs_json_parse(text, len, lim, &j);
    fuzz_log("cs_json_parse", st);
    FUZZ_CHECK_MESSAGE(st);
    if (st != CS_OK) {
        FUZZ_CHECK(j == NULL);
        FUZZ_CHECK(st == CS_ERR_FORMAT || st == CS_ERR_NO_MEMORY);
        return;
    }
    check_tree(j, text, len, lim);
    cs_json_free(j);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* An exact-size copy: a read one past the end is an ASan report. */
    char *text = malloc(size ? size : 1);
    FUZZ_CHECK(text);
    if (size)
        memcpy(text, data, size);
    parse_once(text, size, &g_header_limits);
    const cs_json_limits tiny = {1 + (int)(size % 5), 1 + (int)(size % 61), size % 23};
    parse_once(text, size, &tiny);
    free(text);
    return 0;
}
