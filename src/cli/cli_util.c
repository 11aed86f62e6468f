/* Helpers every subcommand uses: option matching, JSON string output, error
 * printing, and opening a zoo model with its weights (or seeded, untrained).
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"

void cli_fail(const char *what, const char *hint)
{
    fprintf(stderr, "convscope: %s: %s\n", what, cs_last_error());
    if (hint && !strstr(cs_last_error(), "hint:")) /* the library's own hint is more specific */
        fprintf(stderr, "hint: %s\n", hint);
}

int cli_is_help(const char *arg)
{
    return strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0;
}

int cli_opt(int argc, char **argv, int *i, const char *name, const char **value)
{
    const char *arg = argv[*i];
    size_t len = strlen(name);
    if (strncmp(arg, name, len) != 0)
        return 0;
    if (arg[len] == '=') {
        *value = arg + len + 1;
        return 1;
    }
    if (arg[len] != '\0')
        return 0;
    if (*i + 1 >= argc) {
        fprintf(stderr, "convscope: option %s needs a value\n", name);
        return -1;
    }
    *i += 1;
    *value = argv[*i];
    return 1;
}

int cli_int(const char *opt, const char *value, int min, int max)
{
    char *end = NULL;
    long v = strtol(value, &end, 10);
    if (!value[0] || *end || v < min || v > max) {
        fprintf(stderr, "convscope: %s takes a whole number from %d to %d, not '%s'\n", opt, min, max, value);
        return -1;
    }
    return (int)v;
}

int cli_parse_hw(const char *v, int *h, int *w)
{
    char *end = NULL;
    long a = strtol(v, &end, 10);
    long b = a;
    if (*end == 'x')
        b = strtol(end + 1, &end, 10);
    if (!v[0] || *end || a < 1 || b < 1 || a > 16384 || b > 16384)
        return -1;
    *h = (int)a;
    *w = (int)b;
    return 0;
}

void cli_json_str(FILE *to, const char *s)
{
    fputc('"', to);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\')
            fprintf(to, "\\%c", *p);
        else if (*p < 0x20)
            fprintf(to, "\\u%04x", *p);
        else
            fputc(*p, to);
    }
    fputc('"', to);
}

const char *cli_count(unsigned long long v, char *buf, size_t size)
{
    if (v >= 1000000000ull)
        snprintf(buf, size, "%.2fG", (double)v / 1e9);
    else if (v >= 1000000ull)
        snprintf(buf, size, "%.2fM", (double)v / 1e6);
    else if (v >= 10000ull)
        snprintf(buf, size, "%.1fK", (double)v / 1e3);
    else
        snprintf(buf, size, "%llu", v);
    return buf;
}

const char *cli_model_weights_desc(const cli_model *m, char *buf, size_t size)
{
    if (m->trained)
        snprintf(buf, size, "trained (%s)", m->weights);
    else
        snprintf(buf, size, "untrained (seeded He init)");
    return buf;
}

/* Classifier size from the weights file, so fine-tuned models with their own
 * class count work. 0 when the file does not say. */
static int classes_from_weights(const cs_model_info *info, const cs_weights *w)
{
    int ndim = 0;
    int64_t dims[8] = {0};
    if (!info->classifier || cs_weights_shape(w, info->classifier, &ndim, dims) != CS_OK || ndim < 1)
        return 0;
    if (dims[0] <= 0 || dims[0] > 1000000)
        return 0;
    return (int)dims[0];
}

int cli_model_open(cli_model *m, const char *name, const char *weights, int in_h, int in_w)
{
    memset(m, 0, sizeof *m);
    m->info = cs_model_find(name);
    if (!m->info) {
        cs_graph *probe = NULL;
        cs_model_build(&probe, name, NULL); /* sets the message listing the models */
        cli_fail("model", "'convscope models' lists the architectures");
        return 1;
    }
    char shipped[1024] = {0};
    int seeded_only = weights && !*weights; /* "": seeded init, not the shipped weights */
    if (seeded_only)
        weights = NULL;
    if (!weights && !seeded_only) {
        char rel[256];
        snprintf(rel, sizeof rel, "weights/%s.safetensors", name);
        if (cs_asset_path(rel, shipped, sizeof shipped) == CS_OK)
            weights = shipped;
    }
    cs_weights *w = NULL;
    cs_model_options opts = {0, in_h, in_w};
    if (weights) {
        if (cs_weights_open(&w, weights) != CS_OK) {
            cli_fail("weights", "the file must be safetensors with the reference's state_dict keys; "
                                "tools/export_weights.py makes one");
            return 1;
        }
        opts.num_classes = classes_from_weights(m->info, w);
    }
    if (cs_model_build(&m->g, name, &opts) != CS_OK) {
        cli_fail("model", NULL);
        cs_weights_close(w);
        return 1;
    }
    cs_status st = CS_OK;
    if (w) {
        st = cs_graph_load_weights(m->g, w, m->info->ignore, &m->report);
        if (st == CS_OK) {
            m->trained = 1;
            snprintf(m->weights, sizeof m->weights, "%s", weights);
        } else {
            cli_fail("weights", "is the file for this model? 'convscope info MODEL' lists the tensors it needs");
        }
        cs_weights_close(w);
    } else {
        st = cs_graph_init_seeded(m->g, 0);
        if (st != CS_OK)
            cli_fail("init", NULL);
    }
    if (st != CS_OK) {
        cs_graph_free(m->g);
        m->g = NULL;
        return 1;
    }
    int c = 0;
    cs_graph_node_shape(m->g, cs_graph_input(m->g), &c, &m->in_h, &m->in_w);
    return 0;
}

void cli_model_close(cli_model *m)
{
    cs_graph_free(m->g);
    m->g = NULL;
}
