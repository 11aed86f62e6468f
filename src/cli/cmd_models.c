/* `convscope models`: every architecture in the zoo with its input size,
 * trainable parameters and multiply-accumulates per image.
 */
#include <string.h>

#include "cli/cli.h"

static void help(FILE *to)
{
    fprintf(to, "usage: convscope models [--json]\n\n"
                "Lists the architectures convscope builds: name, family, input (C x H x W),\n"
                "trainable parameters and MACs (multiply-accumulates per image), and the\n"
                "reference each one matches.\n");
}

int cs_cmd_models(int argc, char **argv)
{
    int json = 0;
    for (int i = 1; i < argc; i++) {
        if (cli_is_help(argv[i])) {
            help(stdout);
            return 0;
        } else if (strcmp(argv[i], "--json") == 0) {
            json = 1;
        } else {
            fprintf(stderr, "convscope models: unknown option '%s'\n", argv[i]);
            help(stderr);
            return 2;
        }
    }
    if (!json)
        printf("%-15s %-10s %-13s %12s %9s  %s\n", "model", "family", "input", "params", "MACs", "reference");
    int failed = 0;
    for (int m = 0; m < cs_model_count(); m++) {
        const cs_model_info *info = cs_model_at(m);
        cs_graph *g = NULL;
        if (cs_model_build(&g, info->name, NULL) != CS_OK) {
            fprintf(stderr, "convscope models: %s: %s\n", info->name, cs_last_error());
            failed = 1;
            continue;
        }
        unsigned long long params = 0, macs = 0;
        for (int n = 0; n < cs_graph_node_count(g); n++) {
            params += cs_graph_node_params(g, n);
            macs += cs_graph_node_macs(g, n);
        }
        cs_graph_free(g);
        char input[32];
        snprintf(input, sizeof input, "%dx%dx%d", info->in_c, info->in_h, info->in_w);
        if (json) {
            printf("{\"model\": ");
            cli_json_str(stdout, info->name);
            printf(", \"family\": ");
            cli_json_str(stdout, info->family);
            printf(", \"input\": [%d, %d, %d], \"params\": %llu, \"macs\": %llu, \"classes\": %d, \"reference\": ",
                   info->in_c, info->in_h, info->in_w, params, macs, info->num_classes);
            cli_json_str(stdout, info->reference);
            printf("}\n");
        } else {
            char pbuf[24], mbuf[24];
            printf("%-15s %-10s %-13s %12s %9s  %s\n", info->name, info->family, input,
                   cli_count(params, pbuf, sizeof pbuf), cli_count(macs, mbuf, sizeof mbuf), info->reference);
        }
    }
    return failed;
}
