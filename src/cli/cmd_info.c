/* `convscope info MODEL`: the per-layer table (name, op, parameters in words,
 * output shape, params, MACs) with block structure indented, and totals.
 */
#include <string.h>

#include "cli/cli.h"

static void help(FILE *to)
{
    fprintf(to, "usage: convscope info MODEL [--input HxW] [--keys]\n\n"
                "Prints every layer: index, name (the reference's module path), op and its\n"
                "parameters, output shape (C x H x W), trainable parameters and MACs, with\n"
                "residual units, inception modules, dense blocks and SE blocks indented.\n"
                "  --input HxW   build for another input size (e.g. 64x64)\n"
                "  --keys        list the weight tensors the model needs (safetensors keys)\n");
}

static int depth_of(const cs_graph *g, int block)
{
    int d = 0;
    cs_block_info b;
    while (block >= 0 && cs_graph_block(g, block, &b) == CS_OK) {
        d++;
        block = b.parent;
    }
    return d;
}

int cs_cmd_info(int argc, char **argv)
{
    const char *name = NULL, *input = NULL;
    int keys = 0;
    for (int i = 1; i < argc; i++) {
        int r = 0;
        if (cli_is_help(argv[i])) {
            help(stdout);
            return 0;
        } else if ((r = cli_opt(argc, argv, &i, "--input", &input)) != 0) {
            if (r < 0)
                return 2;
        } else if (strcmp(argv[i], "--keys") == 0) {
            keys = 1;
        } else if (argv[i][0] == '-') {
            fprintf(stderr, "convscope info: unknown option '%s'\n", argv[i]);
            help(stderr);
            return 2;
        } else if (!name) {
            name = argv[i];
        } else {
            fprintf(stderr, "convscope info: one model at a time ('%s' is extra)\n", argv[i]);
            return 2;
        }
    }
    if (!name) {
        help(stderr);
        return 2;
    }
    cs_model_options opts = {0, 0, 0};
    if (input && cli_parse_hw(input, &opts.in_h, &opts.in_w) != 0) {
        fprintf(stderr, "convscope info: --input takes HxW, e.g. 224x224, not '%s'\n", input);
        return 2;
    }
    cs_graph *g = NULL;
    if (cs_model_build(&g, name, &opts) != CS_OK) {
        cli_fail("info", "'convscope models' lists the architectures");
        return 1;
    }
    const cs_model_info *info = cs_model_find(name);
    if (keys) {
        for (int n = 0; n < cs_graph_node_count(g); n++)
            for (int p = 0; p < cs_graph_param_count(g, n); p++) {
                cs_param_info t;
                cs_graph_param(g, n, p, &t);
                printf("%s.%s [", cs_graph_node_name(g, n), t.name);
                for (int d = 0; d < t.ndim; d++)
                    printf("%s%d", d ? ", " : "", t.dims[d]);
                printf("]\n");
            }
        cs_graph_free(g);
        return 0;
    }
    printf("%s: %s\n", info->name, info->reference);
    printf("%5s  %-52s %-17s %-14s %10s %10s  %s\n", "#", "name", "op", "output", "params", "MACs", "details");
    unsigned long long params = 0, macs = 0;
    int last_block = -1;
    for (int n = 0; n < cs_graph_node_count(g); n++) {
        int block = cs_graph_node_block(g, n);
        if (block != last_block && block >= 0) {
            /* headers of every block that opens here, outermost first */
            int chain[16], depth = 0;
            for (int b = block; b >= 0 && depth < 16;) {
                cs_block_info info;
                cs_graph_block(g, b, &info);
                if (info.first != n)
                    break;
                chain[depth++] = b;
                b = info.parent;
            }
            for (int k = depth - 1; k >= 0; k--) {
                cs_block_info info;
                cs_graph_block(g, chain[k], &info);
                printf("%5s  %*s[%s %s]\n", "", 2 * (depth_of(g, chain[k]) - 1), "",
                       cs_block_kind_name(info.kind), info.name);
            }
        }
        last_block = block;
        int c = 0, h = 0, w = 0;
        cs_graph_node_shape(g, n, &c, &h, &w);
        char shape[32], pbuf[24], mbuf[24], desc[160], label[128];
        snprintf(shape, sizeof shape, "%dx%dx%d", c, h, w);
        unsigned long long np = cs_graph_node_params(g, n), nm = cs_graph_node_macs(g, n);
        params += np;
        macs += nm;
        snprintf(label, sizeof label, "%*s%s", 2 * depth_of(g, block), "", cs_graph_node_name(g, n));
        printf("%5d  %-52s %-17s %-14s %10s %10s  %s\n", n, label, cs_op_name(cs_graph_node_op(g, n)), shape,
               np ? cli_count(np, pbuf, sizeof pbuf) : "-", nm ? cli_count(nm, mbuf, sizeof mbuf) : "-",
               cs_graph_node_describe(g, n, desc, sizeof desc));
    }
    printf("total: %d layers, %llu trainable parameters, %.3f GMACs per image (%.3f GFLOP)\n",
           cs_graph_node_count(g), params, (double)macs / 1e9, 2.0 * (double)macs / 1e9);
    cs_graph_free(g);
    return 0;
}
