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
    {"models", cs_cmd_models, "list the architectures: input size, parameters, MACs"},
    {"info", cs_cmd_info, "per-layer table of a model: name, op, output shape, params, MACs"},
    {"run", cs_cmd_run, "classify images (or an .npy tensor); profile, dump every layer"},
    {"bench", cs_cmd_bench, "median latency, GFLOP/s, cold and warm start, peak memory"},
    {"train", cs_cmd_train, "train a model on Fashion-MNIST (or MNIST) with checkpoints"},
    {"eval", cs_cmd_eval, "test-set accuracy of a model's weights, with a confusion matrix"},
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
