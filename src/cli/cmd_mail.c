/*
 * cmd_mail.c — `mugai mail sanitize` (placeholder until the engine lands).
 */
#include <stdio.h>
#include "cli/cli.h"
#include "common/defs.h"

int cmd_mail(int argc, char **argv)
{
	(void)argc; (void)argv;
	fputs("mugai: mail sanitize: not built yet\n", stderr);
	return MUGAI_EXIT_SOFTWARE;
}
