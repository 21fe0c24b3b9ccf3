/*
 * cmd_file.c — `mugai file`: placeholder until its module lands; fails closed.
 *
 * SECURITY: touches no input.
 */
#include <stdio.h>
#include "cli/cli.h"
#include "common/defs.h"

int cmd_file(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fputs("mugai: file: not available in this build\n", stderr);
	return MUGAI_EXIT_SOFTWARE;
}
