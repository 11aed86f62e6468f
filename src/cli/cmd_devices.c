/* `convscope devices`: every OpenCL device across platforms, with the index
 * that --device and CONVSCOPE_DEVICE take, plus the CPU reference backend.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

static void help(FILE *to)
{
    fprintf(to, "usage: convscope devices [--json]\n\n"
                "Lists OpenCL devices with the index to pass to --device N.\n"
                "--device cpu selects the built-in CPU reference backend (slow, exact).\n");
}

int cs_cmd_devices(int argc, char **argv)
{
    int json = 0;
    for (int i = 1; i < argc; i++) {
        if (cli_is_help(argv[i])) {
            help(stdout);
            return 0;
        } else if (strcmp(argv[i], "--json") == 0) {
            json = 1;
        } else {
            fprintf(stderr, "convscope devices: unknown option '%s'\n", argv[i]);
            help(stderr);
            return 2;
        }
    }
    int count = 0;
    cs_status st = cs_devices_list(NULL, 0, &count);
    if (st != CS_OK) {
        cli_fail("devices", "install an OpenCL driver: 'apt-get install pocl-opencl-icd' for the CPU, or "
                            "your GPU vendor's OpenCL package");
        return 1;
    }
    cs_device_info *list = calloc((size_t)(count > 0 ? count : 1), sizeof *list);
    if (!list) {
        fprintf(stderr, "convscope devices: out of memory\n");
        return 1;
    }
    st = cs_devices_list(list, count, &count);
    if (st != CS_OK) {
        cli_fail("devices", NULL);
        free(list);
        return 1;
    }
    for (int i = 0; i < count; i++) {
        const cs_device_info *d = &list[i];
        if (json)
            printf("{\"index\": %d, \"platform\": \"%s\", \"name\": \"%s\", \"type\": \"%s\", "
                   "\"compute_units\": %d, \"global_mem_mib\": %llu, \"version\": \"%s\", \"driver\": \"%s\"}\n",
                   d->index, d->platform, d->name, d->is_gpu ? "gpu" : "cpu", d->compute_units,
                   (unsigned long long)(d->global_mem_bytes >> 20), d->version, d->driver);
        else
            printf("%3d  %-44s %s, %d compute units, %llu MiB, %s (%s, driver %s)\n", d->index, d->name,
                   d->is_gpu ? "GPU" : "CPU", d->compute_units,
                   (unsigned long long)(d->global_mem_bytes >> 20), d->version, d->platform, d->driver);
    }
    if (!json)
        printf("cpu  CPU reference backend (naive C, the oracle for tests)\n");
    free(list);
    return 0;
}
