/*
 * cli_store.h — helpers shared by `mugai quarantine` and `mugai audit`:
 * option parsing, actor names, exit-status mapping, safe printing.
 *
 * SECURITY: program layer; prints decoded header text only through
 * cli_put_safe(), which escapes control characters.
 */
#ifndef MUGAI_CLI_STORE_H
#define MUGAI_CLI_STORE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include "common/config.h"
#include "store/qstore.h"

typedef struct store_opts {
	const char *config, *by, *reason, *output, *since, *until, *verdict, *sender;
	const char *rcpt, *status, *format, *witness, *from, *subject, *report, *flow;
	const char *action, *object, *text;
	const char *rcpts[CLI_RCPT_MAX];
	size_t n_rcpt;
	long limit, older_than;
	bool json, queue, undelivered, admin;
	bool must_exist;      /* refuse to create a store (audit verify/export) */
	int nargs;
	char **args;          /* operands: args[0] is the subcommand */
	char actor[CLI_ACTOR_MAX];      /* "os:LOGIN" or "os:root(sudo:NAME)"; --by is
					 * only a display name ("by" in the details) */
} store_opts_t;

/* Parse argv (argv[0] = command name); 0 or an exit status after a message. */
int store_opts_parse(int argc, char **argv, store_opts_t *o);
/* o->actor: the OS user (store_opts_parse does this). */
void store_default_actor(store_opts_t *o);
/* Load config and open the store; records config.load when it changed. */
int store_open_cli(const store_opts_t *o, cfg_t *cfg, qstore_t **s);
/* Exit status for the store's last error, after printing it. */
int store_exit(qstore_t *s, const char *what);
/* "YYYY-MM-DD", "YYYY-MM-DDTHH:MM[:SS]Z" or "@UNIX" → unix seconds. */
int cli_parse_time(const char *t, int64_t *out);
void cli_fmt_time(int64_t t, char out[32]);
/* Print s with control characters as \xNN. */
void cli_put_safe(FILE *f, const char *s);
/* cmd_ppap.c: `quarantine ppap ID --by ADMIN -o FILE` (password on stdin). */
int q_ppap(qstore_t *s, const cfg_t *cfg, store_opts_t *o);

#endif
