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
int cmd_file(int argc, char **argv);       /* cmd_file.c (file CDR) */
int cmd_quarantine(int argc, char **argv); /* cmd_quarantine.c (store) */
int cmd_audit(int argc, char **argv);      /* cmd_audit.c (store) */
int cmd_user(int argc, char **argv);       /* cmd_user.c (console accounts) */
int cmd_console(int argc, char **argv);    /* console/server.c (the console) */
/* The installed configuration (make install), read when no -c is given. */
#define CLI_SYSTEM_CONFIG "/etc/mugai/mugaid.cf"
/* Load -c CONFIG over the defaults; without -c, $MUGAI_CONFIG when set
 * (empty: embedded defaults), else CLI_SYSTEM_CONFIG when it exists, else
 * the embedded defaults. Prints the error. 0 or an exit status. */
int cli_load_config(cfg_t *cfg, const char *path);

#endif
