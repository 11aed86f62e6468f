/* `convscope eval MODEL [--weights W] [--data DIR]`: accuracy of a model on
 * an IDX test set (Fashion-MNIST's t10k by default) through the inference
 * path `convscope run` uses, with an optional confusion matrix.
 */
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

static void help(FILE *to)
{
    fprintf(to,
            "usage: convscope eval MODEL [options]\n\n"
            "Classifies every test image of an IDX data set (t10k-* files: Fashion-MNIST or\n"
            "MNIST) and prints 'accuracy: NN.NN%%'. Without --weights the shipped weights are\n"
            "used when there are some.\n\n"
            "  --weights FILE      safetensors weights (e.g. from 'convscope train')\n"
            "  --data DIR          data set directory (default " CS_FASHION_MNIST_DIR ")\n"
            "  --train-set         evaluate on the training set (train-*) instead\n"
            "  --batch B           images per inference batch (default 100)\n"
            "  --limit N           only the first N images\n"
            "  --confusion         print the confusion matrix (rows: true class)\n"
            "  --device N|cpu      OpenCL device index, or the CPU reference backend\n"
            "  --json              one JSON object with the accuracy and the counts\n");
}

typedef struct eval_opts {
    const char *model, *weights, *data, *device;
    int batch, limit, confusion, json, train_set;
} eval_opts;

static int parse(int argc, char **argv, eval_opts *o, int *code)
{
    o->batch = 100;
    *code = 2;
    for (int i = 1; i < argc; i++) {
        const char *v = NULL;
        int r = 0;
        if (cli_is_help(argv[i])) {
            help(stdout);
            *code = 0;
            return -1;
        }
        if ((r = cli_opt(argc, argv, &i, "--weights", &v)) != 0) {
            if (r < 0)
                return -1;
            o->weights = v;
        } else if ((r = cli_opt(argc, argv, &i, "--data", &v)) != 0) {
            if (r < 0)
                return -1;
            o->data = v;
        } else if ((r = cli_opt(argc, argv, &i, "--device", &v)) != 0) {
            if (r < 0)
                return -1;
            o->device = v;
        } else if ((r = cli_opt(argc, argv, &i, "--batch", &v)) != 0) {
            if (r < 0 || (o->batch = cli_int("--batch", v, 1, 65536)) < 0)
                return -1;
        } else if ((r = cli_opt(argc, argv, &i, "--limit", &v)) != 0) {
            if (r < 0 || (o->limit = cli_int("--limit", v, 1, 100000000)) < 0)
                return -1;
        } else if (strcmp(argv[i], "--confusion") == 0) {
            o->confusion = 1;
        } else if (strcmp(argv[i], "--json") == 0) {
            o->json = 1;
        } else if (strcmp(argv[i], "--train-set") == 0) {
            o->train_set = 1;
        } else if (argv[i][0] == '-' && argv[i][1] != '\0') {
            fprintf(stderr, "convscope eval: unknown option '%s'\n", argv[i]);
            help(stderr);
            return -1;
        } else if (!o->model) {
            o->model = argv[i];
        } else {
            fprintf(stderr, "convscope eval: one model at a time ('%s' is extra)\n", argv[i]);
            return -1;
        }
    }
    if (!o->model) {
        fprintf(stderr, "convscope eval: which model? ('convscope models' lists them)\n");
        return -1;
    }
    *code = 1;
    return 0;
}

int cs_cmd_eval(int argc, char **argv)
{
    eval_opts o;
    memset(&o, 0, sizeof o);
    int code = 2;
    if (parse(argc, argv, &o, &code) != 0)
        return code;
    cs_device_choice dev;
    if (cs_device_parse(o.device, &dev) != CS_OK) {
        cli_fail("device", "'convscope devices' lists the devices; --device cpu is the reference backend");
        return 2;
    }
    code = 1;
    cs_dataset *d = NULL;
    cs_session *s = NULL;
    cli_model m;
    memset(&m, 0, sizeof m);
    float *x = NULL, *y = NULL;
    long *matrix = NULL;
    if (cs_fashion_mnist_load(o.data, o.train_set ? 0 : 1, &d) != CS_OK) {
        cli_fail("data", "install Debian's dataset-fashion-mnist, or give --data DIR with the t10k-* IDX files");
        goto done;
    }
    if (cli_model_open(&m, o.model, o.weights, 0, 0) != 0)
        goto done;
    if (!m.trained)
        fprintf(stderr, "convscope eval: warning: %s has no trained weights (seeded init): expect chance "
                        "accuracy; give --weights FILE\n", o.model);
    int in_c = 0, in_h = 0, in_w = 0, classes = 0, oh = 0, ow = 0;
    const int last = cs_graph_node_count(m.g) - 1;
    cs_graph_node_shape(m.g, cs_graph_input(m.g), &in_c, &in_h, &in_w);
    cs_graph_node_shape(m.g, last, &classes, &oh, &ow);
    const int rbf = cs_graph_node_op(m.g, last) == CS_OP_RBF;
    const size_t per = (size_t)in_c * (size_t)in_h * (size_t)in_w;
    const size_t out_per = (size_t)classes * (size_t)oh * (size_t)ow;
    int n = o.limit && o.limit < d->count ? o.limit : d->count;
    int batch = o.batch < n ? o.batch : n;
    x = calloc(per * (size_t)batch, sizeof *x);
    y = malloc(out_per * (size_t)batch * sizeof *y);
    matrix = calloc((size_t)classes * (size_t)classes, sizeof *matrix);
    if (!x || !y || !matrix) {
        fprintf(stderr, "convscope eval: out of memory for a batch of %d\n", batch);
        goto done;
    }
    if (cs_dataset_input(d, 0, m.info, in_c, in_h, in_w, x) != CS_OK) {
        cli_fail("data", NULL);
        goto done;
    }
    if (cs_session_create(&s, m.g, dev, batch, 0) != CS_OK) {
        cli_fail("session", "--batch sets the images per inference batch");
        goto done;
    }
    long correct = 0;
    for (int start = 0; start < n; start += batch) {
        int cnt = n - start < batch ? n - start : batch;
        memset(x, 0, per * (size_t)batch * sizeof *x);
        for (int b = 0; b < cnt; b++)
            cs_dataset_input(d, start + b, m.info, in_c, in_h, in_w, x + per * (size_t)b);
        if (cs_session_set_input(s, x, per * (size_t)batch) != CS_OK || cs_session_run(s) != CS_OK ||
            cs_session_read(s, last, y, out_per * (size_t)batch) != CS_OK) {
            cli_fail("inference", NULL);
            goto done;
        }
        for (int b = 0; b < cnt; b++) {
            const float *z = y + out_per * (size_t)b;
            int best = 0;
            for (int k = 1; k < classes; k++)
                if (rbf ? z[k] < z[best] : z[k] > z[best]) /* RBF outputs are distances */
                    best = k;
            int truth = d->labels[start + b];
            correct += best == truth;
            if (truth < classes)
                matrix[(size_t)truth * (size_t)classes + (size_t)best]++;
        }
    }
    double acc = 100.0 * (double)correct / (double)n;
    cs_labels *names = NULL;
    if (o.confusion && m.info->labels)
        cs_labels_builtin(&names, m.info->labels);
    if (o.json) {
        printf("{\"model\":");
        cli_json_str(stdout, o.model);
        printf(",\"weights\":");
        cli_json_str(stdout, m.weights);
        printf(",\"images\":%d,\"correct\":%ld,\"accuracy\":%.4f", n, correct, acc);
        if (o.confusion) {
            printf(",\"confusion\":[");
            for (int r = 0; r < classes; r++) {
                printf("%s[", r ? "," : "");
                for (int c = 0; c < classes; c++)
                    printf("%s%ld", c ? "," : "", matrix[(size_t)r * (size_t)classes + (size_t)c]);
                printf("]");
            }
            printf("]");
        }
        printf("}\n");
    } else {
        char desc[600];
        printf("%s, %s, %d %s images on %s\n", o.model, cli_model_weights_desc(&m, desc, sizeof desc), n,
               o.train_set ? "training" : "test", cs_session_device_name(s));
        if (o.confusion) {
            printf("\nconfusion matrix (rows: true class, columns: predicted)\n%-14s", "");
            for (int c = 0; c < classes; c++)
                printf(" %5d", c);
            printf("   recall\n");
            for (int r = 0; r < classes; r++) {
                const char *nm = names ? cs_labels_get(names, r) : NULL;
                long row = 0;
                printf("%2d %-11.11s", r, nm ? nm : "");
                for (int c = 0; c < classes; c++) {
                    printf(" %5ld", matrix[(size_t)r * (size_t)classes + (size_t)c]);
                    row += matrix[(size_t)r * (size_t)classes + (size_t)c];
                }
                if (row)
                    printf("   %5.1f%%\n", 100.0 * (double)matrix[(size_t)r * (size_t)classes + (size_t)r] / (double)row);
                else
                    printf("       -\n");
            }
            printf("\n");
        }
        printf("accuracy: %.2f%% (%ld of %d)\n", acc, correct, n);
    }
    cs_labels_free(names);
    code = 0;
done:
    cs_session_free(s);
    cli_model_close(&m);
    cs_dataset_free(d);
    free(x);
    free(y);
    free(matrix);
    return code;
}
