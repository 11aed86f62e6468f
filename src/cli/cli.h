/* Shared pieces of the `convscope` command: one function per subcommand,
 * option parsing, model opening (weights or seeded init) and output helpers.
 */
#ifndef CS_CLI_H
#define CS_CLI_H

#include <stdio.h>

#include "convscope.h"

int cs_cmd_devices(int argc, char **argv);
int cs_cmd_models(int argc, char **argv);
int cs_cmd_info(int argc, char **argv);
int cs_cmd_run(int argc, char **argv);
int cs_cmd_bench(int argc, char **argv);
int cs_cmd_train(int argc, char **argv);
int cs_cmd_eval(int argc, char **argv);

/* Prints "convscope: <what>: <cs_last_error()>" and, when given, "hint: ...". */
void cli_fail(const char *what, const char *hint);
/* 1 when arg is -h or --help. */
int cli_is_help(const char *arg);

/* Matches argv[*i] against "--name VALUE" or "--name=VALUE". Returns 1 and
 * sets *value (advancing *i past a separate value) on a match, 0 when argv[*i]
 * is another option, -1 (after printing an error) when the value is missing. */
int cli_opt(int argc, char **argv, int *i, const char *name, const char **value);
/* Parses a positive int option value; prints an error and returns -1 if bad. */
int cli_int(const char *opt, const char *value, int min, int max);
/* Parses "HxW" or "N" (square) into h, w; -1 when malformed. */
int cli_parse_hw(const char *v, int *h, int *w);
/* Writes s as a JSON string literal (with quotes). */
void cli_json_str(FILE *to, const char *s);

/* A zoo model ready to run: its graph with weights loaded, or seeded
 * (untrained) when no weights were given or shipped. */
typedef struct cli_model {
    const cs_model_info *info;
    cs_graph *g;
    int trained;
    char weights[512];      /* the file loaded, or "" */
    cs_load_report report;
    int in_h, in_w;
} cli_model;

/* Opens model `name` at input in_h x in_w (0: default). weights: a path, or
 * NULL for the shipped weights (assets/weights/<name>.safetensors) when they
 * exist, else seeded He init; "" for seeded He init (seed 0) even when weights
 * are shipped. Prints errors; returns 0 on success. */
int cli_model_open(cli_model *m, const char *name, const char *weights, int in_h, int in_w);
void cli_model_close(cli_model *m);
/* "trained (FILE)" or "untrained (seeded He init)". */
const char *cli_model_weights_desc(const cli_model *m, char *buf, size_t size);

/* Human-readable count: 61.1M, 7.98M, 61,706 style. */
const char *cli_count(unsigned long long v, char *buf, size_t size);

#endif
