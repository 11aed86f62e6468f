/* Shared pieces of the `convscope` command: one function per subcommand and
 * the small helpers they share (error printing with a hint line).
 */
#ifndef CS_CLI_H
#define CS_CLI_H

#include "convscope.h"

int cs_cmd_devices(int argc, char **argv);

/* Prints "convscope: <what>: <cs_last_error()>" and, when given, "hint: ...". */
void cli_fail(const char *what, const char *hint);
/* 1 when argv[i] is -h or --help. */
int cli_is_help(const char *arg);

#endif
