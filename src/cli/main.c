/* The `convscope` command: dispatches to one subcommand per file in src/cli/.
 * Exit status: 0 success, 1 failure, 2 bad usage.
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

typedef struct command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} command;

static const command commands[] = {
    {"devices", cs_cmd_devices, "list OpenCL platforms and devices with the index --device takes"},
};

static void usage(FILE *to)
{
    fprintf(to, "usage: convscope COMMAND [options]\n\ncommands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(to, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fprintf(to, "\n'convscope COMMAND --help' describes a command's options.\n"
                "Device choice: --device N (OpenCL device index) or --device cpu (reference backend);\n"
                "CONVSCOPE_DEVICE sets the default.\n");
}

void cli_fail(const char *what, const char *hint)
{
    fprintf(stderr, "convscope: %s: %s\n", what, cs_last_error());
    if (hint)
        fprintf(stderr, "hint: %s\n", hint);
}

int cli_is_help(const char *arg)
{
    return strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (cli_is_help(argv[1]) || strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return 0;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("convscope 0.1.0\n");
        return 0;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(argv[1], commands[i].name) == 0)
            return commands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "convscope: unknown command '%s'\n\n", argv[1]);
    usage(stderr);
    return 2;
}
