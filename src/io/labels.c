/* Class labels (one per line: line i is class i) and the lookup of shipped
 * assets: $CONVSCOPE_ASSETS, then assets/ beside the executable's folder, then
 * the compile-time CS_ASSETS_DIR (installed) and CS_SOURCE_ASSETS_DIR (source
 * tree) when the build defines them; the first existing file wins.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#if defined(__has_include)
#if __has_include("cs_config.h")
#include "cs_config.h"
#endif
#endif

#include "core/status.h"

#define LABELS_MAX_FILE (16u << 20)
#define LABELS_MAX_COUNT 1000000
#define PATH_BUF 4096

struct cs_labels {
    char *text;      /* the file, lines NUL-terminated in place */
    char **line;
    int count;
};

cs_status cs_labels_load(cs_labels **out, const char *path)
{
    if (!out)
        return cs_error(CS_ERR_INVALID_ARG, "cs_labels_load: out is NULL");
    *out = NULL;
    if (!path || !*path)
        return cs_error(CS_ERR_INVALID_ARG, "cs_labels_load: no path given");
    FILE *f = fopen(path, "rb");
    if (!f)
        return cs_error(CS_ERR_IO, "labels file '%s': cannot open: %s", path, strerror(errno));
    cs_status st = CS_OK;
    cs_labels *l = calloc(1, sizeof *l);
    struct stat sb = {0};
    size_t len = 0;
    if (!l) {
        st = cs_error(CS_ERR_NO_MEMORY, "labels file '%s': out of memory", path);
        goto done;
    }
    if (fstat(fileno(f), &sb) != 0 || !S_ISREG(sb.st_mode)) {
        st = cs_error(CS_ERR_IO, "labels file '%s': not a regular file", path);
        goto done;
    }
    if ((uint64_t)sb.st_size > LABELS_MAX_FILE) {
        st = cs_error(CS_ERR_FORMAT, "labels file '%s': %lld bytes is over the 16 MiB limit", path,
                      (long long)sb.st_size);
        goto done;
    }
    len = (size_t)sb.st_size;
    l->text = malloc(len + 1);
    if (!l->text) {
        st = cs_error(CS_ERR_NO_MEMORY, "labels file '%s': out of memory", path);
        goto done;
    }
    if (len && fread(l->text, 1, len, f) != len) {
        st = cs_error(CS_ERR_IO, "labels file '%s': read failed", path);
        goto done;
    }
    l->text[len] = '\0';
    if (memchr(l->text, '\0', len)) {
        st = cs_error(CS_ERR_FORMAT, "labels file '%s': holds a NUL byte (not a text file?)", path);
        goto done;
    }
    /* Lines: a final newline does not start another (empty) label. */
    size_t lines = 0;
    for (size_t i = 0; i < len; i++)
        lines += l->text[i] == '\n';
    if (len && l->text[len - 1] != '\n')
        lines++;
    if (lines == 0 || lines > LABELS_MAX_COUNT) {
        st = cs_error(CS_ERR_FORMAT, "labels file '%s': %zu labels (1 to %d allowed)", path, lines,
                      LABELS_MAX_COUNT);
        goto done;
    }
    l->line = malloc(lines * sizeof *l->line);
    if (!l->line) {
        st = cs_error(CS_ERR_NO_MEMORY, "labels file '%s': out of memory", path);
        goto done;
    }
    char *p = l->text;
    for (size_t i = 0; i < lines; i++) {
        char *nl = strchr(p, '\n');
        char *end = nl ? nl : p + strlen(p);
        while (end > p && (end[-1] == '\r' || end[-1] == ' ' || end[-1] == '\t'))
            end--;
        *end = '\0';
        l->line[i] = p;
        p = nl ? nl + 1 : end;
    }
    l->count = (int)lines;
done:
    fclose(f);
    if (st != CS_OK) {
        cs_labels_free(l);
        return st;
    }
    *out = l;
    return CS_OK;
}

cs_status cs_labels_builtin(cs_labels **out, const char *set)
{
    if (!out)
        return cs_error(CS_ERR_INVALID_ARG, "cs_labels_builtin: out is NULL");
    *out = NULL;
    int ok = set && *set && strlen(set) < 64;
    for (const char *c = set; ok && *c; c++)
        ok = (*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '-' || *c == '_';
    if (!ok)
        return cs_error(CS_ERR_INVALID_ARG, "label set '%s' is not a valid name (built in: imagenet, fashion-mnist)",
                        set ? set : "(null)");
    char rel[96] = {0};
    char path[PATH_BUF] = {0};
    snprintf(rel, sizeof rel, "labels/%s.txt", set);
    cs_status st = cs_asset_path(rel, path, sizeof path);
    if (st != CS_OK)
        return cs_error_context(st, "label set '%s' (built in: imagenet, fashion-mnist)", set);
    return cs_labels_load(out, path);
}

int cs_labels_count(const cs_labels *l)
{
    return l ? l->count : 0;
}

const char *cs_labels_get(const cs_labels *l, int i)
{
    if (!l || i < 0 || i >= l->count)
        return NULL;
    return l->line[i];
}

void cs_labels_free(cs_labels *l)
{
    if (!l)
        return;
    free(l->line);
    free(l->text);
    free(l);
}

/* ------------------------------------------------------------------------ */
/* Assets                                                                   */
/* ------------------------------------------------------------------------ */

static int is_file(const char *path)
{
    struct stat sb = {0};
    return stat(path, &sb) == 0 && S_ISREG(sb.st_mode);
}

/* Tries dir/rel and appends the candidate to `tried`: 1 when it exists (and
 * is copied to out), 0 when not, -1 when it exists but out is too small. */
static int try_dir(const char *dir, const char *rel, char *out, size_t size, char *tried, size_t tsize)
{
    char cand[PATH_BUF] = {0};
    int n = snprintf(cand, sizeof cand, "%s/%s", dir, rel);
    size_t used = strlen(tried);
    snprintf(tried + used, tsize - used, "%s%s", used ? ", " : "", cand);
    if (n < 0 || (size_t)n >= sizeof cand || !is_file(cand))
        return 0;
    /* "build/../assets/x" reads better as "/src/assets/x" in messages */
    char *canon = realpath(cand, NULL);
    if (canon && strlen(canon) < sizeof cand)
        n = snprintf(cand, sizeof cand, "%s", canon);
    free(canon);
    if ((size_t)n >= size)
        return -1;
    memcpy(out, cand, (size_t)n + 1);
    return 1;
}

cs_status cs_asset_path(const char *relative, char *out, size_t size)
{
    if (!relative || !*relative || !out || size == 0)
        return cs_error(CS_ERR_INVALID_ARG, "cs_asset_path: relative path and output buffer are required");
    out[0] = '\0';
    if (relative[0] == '/' || strstr(relative, ".."))
        return cs_error(CS_ERR_INVALID_ARG, "cs_asset_path: '%s' must be relative and stay inside assets/",
                        relative);
    char tried[4 * PATH_BUF] = {0};
    int found = 0;
    const char *env = getenv("CONVSCOPE_ASSETS");
    if (env && *env)
        found = try_dir(env, relative, out, size, tried, sizeof tried);

    char exe[PATH_BUF] = {0};
    ssize_t n = found ? -1 : readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n > 0 && (size_t)n < sizeof exe - 1) {
        exe[n] = '\0';
        char *slash = strrchr(exe, '/');
        if (slash) {
            char dir[PATH_BUF + 16] = {0};
            *slash = '\0';
            snprintf(dir, sizeof dir, "%s/../assets", exe);
            found = try_dir(dir, relative, out, size, tried, sizeof tried);
        }
    }
#ifdef CS_ASSETS_DIR
    if (!found)
        found = try_dir(CS_ASSETS_DIR, relative, out, size, tried, sizeof tried);
#endif
#ifdef CS_SOURCE_ASSETS_DIR
    if (!found)
        found = try_dir(CS_SOURCE_ASSETS_DIR, relative, out, size, tried, sizeof tried);
#endif
    if (found > 0)
        return CS_OK;
    if (found < 0)
        return cs_error(CS_ERR_INVALID_ARG, "cs_asset_path: a %zu-byte buffer cannot hold the path of '%s'", size,
                        relative);
    return cs_error(CS_ERR_IO, "asset '%s' not found; looked in: %s (hint: set CONVSCOPE_ASSETS to the assets folder)",
                    relative, tried[0] ? tried : "(nowhere)");
}
