/*
 * cli.h — subcommands of the `mugai` program. Each takes (argc, argv) with
 * argv[0] the subcommand name, and returns an exit status (defs.h).
 *
 * SECURITY: program layer; see main.c.
 */
#ifndef MUGAI_CLI_H
#define MUGAI_CLI_H

#include "common/config.h"

int cmd_config(int argc, char **argv);
int cmd_mail(int argc, char **argv);
/* Load -c CONFIG over the defaults; prints the error. 0 or an exit status. */
int cli_load_config(cfg_t *cfg, const char *path);

#endif
