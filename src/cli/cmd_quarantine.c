/*
 * cmd_quarantine.c — `mugai quarantine`: placeholder until its module lands; fails closed.
 *
 * SECURITY: touches no input.
 */
#include <stdio.h>
#include "cli/cli.h"
#include "common/defs.h"

int cmd_quarantine(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fputs("mugai: quarantine: not available in this build\n", stderr);
	return MUGAI_EXIT_SOFTWARE;
}
