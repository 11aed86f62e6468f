/* libFuzzer harness for the `convscope` command line: the input is a command
 * selector byte, then NUL-separated arguments. `run` goes through the real
 * (static) parse() of src/cli/cmd_run.c, included here; `info` and `bench`
 * parse inline in their cs_cmd_* functions, so their loops are mirrored below
 * over the real cli_opt/cli_int/cli_parse_hw until the CLI grows parse-only
 * entry points. Nothing here runs a model or touches a device.
 */
#include <limits.h>

#include "fuzz_common.h"

/* parse() and run_opts are static in cmd_run.c: compile it into this unit. */
#include "cli/cmd_run.c"

/* ------------------------------------------------------------------------ */
/* Stubs: cs_cmd_run links against the session and device API; parse() never */
/* reaches them, and the harness must not pull in OpenCL.                     */
/* ------------------------------------------------------------------------ */

#define UNREACHABLE(what)                                                                                     \
    do {                                                                                                      \
        fprintf(stderr, "fuzz_cli: %s reached from parse()\n", what);                                       \
        abort();                                                                                              \
    } while (0)

cs_status cs_device_parse(const char *spec, cs_device_choice *out)
{
    (void)spec;
    (void)out;
    UNREACHABLE("cs_device_parse");
}
cs_status cs_session_create(cs_session **out, const cs_graph *g, cs_device_choice device, int batch, unsigned flags)
{
    (void)out, (void)g, (void)device, (void)batch, (void)flags;
    UNREACHABLE("cs_session_create");
}
void cs_session_free(cs_session *s)
{
    (void)s;
}
cs_status cs_session_set_input(cs_session *s, const float *data, size_t count)
{
    (void)s, (void)data, (void)count;
    UNREACHABLE("cs_session_set_input");
}
cs_status cs_session_run(cs_session *s)
{
    (void)s;
    UNREACHABLE("cs_session_run");
}
cs_status cs_session_read(cs_session *s, int node, float *dst, size_t count)
{
    (void)s, (void)node, (void)dst, (void)count;
    UNREACHABLE("cs_session_read");
}
double cs_session_node_ms(const cs_session *s, int node)
{
    (void)s, (void)node;
    UNREACHABLE("cs_session_node_ms");
}
const char *cs_session_device_name(const cs_session *s)
{
    (void)s;
    UNREACHABLE("cs_session_device_name");
}

/* ------------------------------------------------------------------------ */
/* Per-command parsing                                                       */
/* ------------------------------------------------------------------------ */

static int is_arg(char **argv, int argc, const char *p)
{
    for (int i = 0; i < argc; i++)
        if (argv[i] == p)
            return 1;
    return 0;
}

/* An option value is a whole argument or the text after '=' inside one. */
static int points_into(char **argv, int argc, const char *p)
{
    for (int i = 0; i < argc; i++)
        if (p >= argv[i] && p <= argv[i] + strlen(argv[i]))
            return 1;
    return 0;
}

static void fuzz_run(int argc, char **argv)
{
    run_opts o;
    memset(&o, 0, sizeof o);
    int code = -1;
    int r = parse(argc, argv, &o, &code);
    if (r == 0) {
        FUZZ_CHECK(o.model && is_arg(argv, argc, o.model));
        FUZZ_CHECK((o.n_images > 0) != (o.input_npy != NULL));
        FUZZ_CHECK(o.n_images >= 0 && o.n_images < argc);
        FUZZ_CHECK(o.top >= 1 && o.top <= 1000000);
        const char *values[] = {o.weights, o.device, o.labels, o.input_npy, o.output_npy, o.dump, o.dump_png};
        for (size_t k = 0; k < sizeof values / sizeof values[0]; k++)
            FUZZ_CHECK(!values[k] || points_into(argv, argc, values[k]));
        for (int k = 0; k < o.n_images; k++)
            FUZZ_CHECK(is_arg(argv, argc, o.images[k]));
    } else {
        FUZZ_CHECK(r == -1 && (code == 0 || code == 1 || code == 2));
    }
    free(o.images);
}

/* Mirrors cs_cmd_info's loop up to cs_model_build. */
static void fuzz_info(int argc, char **argv)
{
    const char *name = NULL, *input = NULL;
    for (int i = 1; i < argc; i++) {
        int r = 0;
        if (cli_is_help(argv[i]))
            return;
        else if ((r = cli_opt(argc, argv, &i, "--input", &input)) != 0) {
            if (r < 0)
                return;
            FUZZ_CHECK(i < argc && input && points_into(argv, argc, input));
        } else if (strcmp(argv[i], "--keys") == 0) {
        } else if (argv[i][0] == '-') {
            return;
        } else if (!name) {
            name = argv[i];
        } else {
            return;
        }
    }
    if (!name || !input)
        return;
    int h = -1, w = -1;
    if (cli_parse_hw(input, &h, &w) == 0)
        FUZZ_CHECK(h >= 1 && h <= 16384 && w >= 1 && w <= 16384);
    else
        FUZZ_CHECK(h == -1 && w == -1); /* untouched on failure */
}

/* Mirrors cs_cmd_bench's loop up to cs_device_parse. */
static void fuzz_bench(int argc, char **argv)
{
    int batch = 1, runs = 10, n_models = 0;
    for (int i = 1; i < argc; i++) {
        const char *v = NULL;
        int r = 0;
        if (cli_is_help(argv[i])) {
            return;
        } else if ((r = cli_opt(argc, argv, &i, "--device", &v)) != 0) {
        } else if ((r = cli_opt(argc, argv, &i, "--weights", &v)) != 0) {
        } else if ((r = cli_opt(argc, argv, &i, "--batch", &v)) != 0) {
            if (r > 0 && (batch = cli_int("--batch", v, 1, 4096)) < 0)
                r = -1;
        } else if ((r = cli_opt(argc, argv, &i, "--runs", &v)) != 0) {
            if (r > 0 && (runs = cli_int("--runs", v, 1, 100000)) < 0)
                r = -1;
        } else if (strcmp(argv[i], "--json") == 0 || strcmp(argv[i], "--cold") == 0) {
        } else if (argv[i][0] == '-') {
            r = -1;
        } else {
            n_models++;
        }
        if (r > 0)
            FUZZ_CHECK(i < argc && v && points_into(argv, argc, v));
        if (r < 0)
            return;
    }
    FUZZ_CHECK(batch >= 1 && batch <= 4096 && runs >= 1 && runs <= 100000 && n_models < argc);
}

/* The helpers alone on every argument, with bounds from the argument. */
static void fuzz_helpers(int argc, char **argv)
{
    for (int i = 0; i < argc; i++) {
        int h = -1, w = -1;
        if (cli_parse_hw(argv[i], &h, &w) == 0)
            FUZZ_CHECK(h >= 1 && h <= 16384 && w >= 1 && w <= 16384);
        int lo = (int)strlen(argv[i]) - 8, hi = lo + 1000;
        int v = cli_int("--x", argv[i], lo, hi);
        FUZZ_CHECK(v == -1 || (v >= lo && v <= hi));
        int j = i;
        const char *val = NULL;
        int r = cli_opt(argc, argv, &j, argv[i][0] ? argv[i] : "--x", &val);
        FUZZ_CHECK(r == 1 || r == 0 || r == -1);
        FUZZ_CHECK(j == i || (r == 1 && j == i + 1 && val == argv[j]));
    }
}

#define MAX_ARGS 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    static const char *const commands[] = {"run", "info", "bench", "helpers"};
    const int cmd = data[0] % 4;
    data++;
    size--;
    /* argv[0] is the subcommand, as main() passes it; each argument its own
     * allocation, so a read past a terminator is an ASan report */
    char *argv[MAX_ARGS + 1] = {0};
    int argc = 0;
    argv[argc] = strdup(commands[cmd]);
    FUZZ_CHECK(argv[argc]);
    argc++;
    size_t start = 0;
    for (size_t i = 0; i <= size && argc < MAX_ARGS; i++) {
        if (i == size || data[i] == '\0') {
            if (i == size && i == start && size > 0)
                break; /* a trailing NUL does not add an empty argument */
            char *a = malloc(i - start + 1);
            FUZZ_CHECK(a);
            memcpy(a, data + start, i - start);
            a[i - start] = '\0';
            argv[argc++] = a;
            start = i + 1;
        }
    }
    if (cmd == 0)
        fuzz_run(argc, argv);
    else if (cmd == 1)
        fuzz_info(argc, argv);
    else if (cmd == 2)
        fuzz_bench(argc, argv);
    else
        fuzz_helpers(argc, argv);
    for (int i = 0; i < argc; i++)
        free(argv[i]);
    return 0;
}
