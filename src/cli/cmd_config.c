/*
 * cmd_config.c — `mugai config defaults [--markdown]` prints the config
 * table; `mugai config caps [--markdown]` the compile-time caps;
 * `mugai config check -c FILE` validates a file and exits 0 or 78.
 *
 * SECURITY: reads only the administrator's config file.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "common/defs.h"

static const char *default_config(void)
{
	const char *env = getenv("MUGAI_CONFIG");

	if (env)
		return *env ? env : NULL;
	return access(CLI_SYSTEM_CONFIG, F_OK) == 0 ? CLI_SYSTEM_CONFIG : NULL;
}

int cli_load_config(cfg_t *cfg, const char *path)
{
	char err[ERR_TEXT_MAX];

	if (!path)
		path = default_config();

	if (cfg_init(cfg) < 0) {
		fprintf(stderr, "mugai: out of memory\n");
		return MUGAI_EXIT_SOFTWARE;
	}
	if (path && cfg_load(cfg, path, err, sizeof(err)) < 0) {
		fprintf(stderr, "mugai: config: %s\n", err);
		cfg_free(cfg);
		return MUGAI_EXIT_CONFIG;
	}
	return 0;
}

int cmd_config(int argc, char **argv)
{
	const char *path = NULL;
	cfg_t cfg;
	int rc;

	if (argc < 2)
		goto usage;
	if (strcmp(argv[1], "defaults") == 0) {
		if (cfg_init(&cfg) < 0)   /* the embedded defaults, never a file */
			return MUGAI_EXIT_SOFTWARE;
		cfg_dump(&cfg, stdout, argc > 2 && strcmp(argv[2], "--markdown") == 0);
		cfg_free(&cfg);
		return 0;
	}
	if (strcmp(argv[1], "caps") == 0) {
		cfg_dump_caps(stdout, argc > 2 && strcmp(argv[2], "--markdown") == 0);
		return 0;
	}
	if (strcmp(argv[1], "check") == 0) {
		if (argc == 4 && strcmp(argv[2], "-c") == 0)
			path = argv[3];
		if (!path)
			goto usage;
		rc = cli_load_config(&cfg, path);
		if (rc != 0)
			return rc;
		printf("%s: ok\n", path);
		cfg_free(&cfg);
		return 0;
	}
usage:
	fputs("usage: mugai config defaults [--markdown] | mugai config caps [--markdown] |"
	      " mugai config check -c FILE\n", stderr);
	return MUGAI_EXIT_USAGE;
}
