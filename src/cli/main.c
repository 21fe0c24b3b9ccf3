/*
 * main.c — the `mugai` command: dispatch to subcommands.
 *
 *   mugai mail sanitize [-c CONFIG] [-r REPORT] [IN [OUT]]
 *   mugai config defaults|caps|check [-c CONFIG]
 *
 * SECURITY: runs with the invoking user's rights; hostile input is parsed
 * only in the sandboxed worker (see common/sandbox.c).
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "common/defs.h"

static int usage(void)
{
	fputs("usage: mugai mail sanitize [-c CONFIG] [-r REPORT] [--quarantine [--sender S] [--rcpt R]...] [IN [OUT]]\n"
	      "       mugai file sanitize [-c CONFIG] [-r REPORT] [--mode flatten|rebuild] IN OUT\n"
	      "       mugai quarantine list|show|get|request|approve|purge ...\n"
	      "       mugai audit verify|export ...\n"
	      "       mugai user add|list|disable|enable|reset ...\n"
	      "       mugai console [-c CONFIG]\n"
	      "       mugai config defaults [--markdown]\n"
	      "       mugai config caps [--markdown]\n"
	      "       mugai config check -c CONFIG\n", stderr);
	return MUGAI_EXIT_USAGE;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return usage();
	if (strcmp(argv[1], "config") == 0)
		return cmd_config(argc - 1, argv + 1);
	if (strcmp(argv[1], "mail") == 0)
		return cmd_mail(argc - 1, argv + 1);
	if (strcmp(argv[1], "file") == 0)
		return cmd_file(argc - 1, argv + 1);
	if (strcmp(argv[1], "quarantine") == 0)
		return cmd_quarantine(argc - 1, argv + 1);
	if (strcmp(argv[1], "audit") == 0)
		return cmd_audit(argc - 1, argv + 1);
	if (strcmp(argv[1], "user") == 0)
		return cmd_user(argc - 1, argv + 1);
	if (strcmp(argv[1], "console") == 0)
		return cmd_console(argc - 1, argv + 1);
	return usage();
}
