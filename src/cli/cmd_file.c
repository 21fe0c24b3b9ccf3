/*
 * cmd_file.c — `mugai file sanitize [-c CONFIG] [-r REPORT]
 * [--mode flatten|rebuild] IN OUT`: run file CDR (cdr/cdr.h) on one file.
 *
 * OUT exists only when the verdict is `sanitized`: it is written to a
 * temporary file in OUT's directory, fsync'd and renamed into place. The
 * report JSON (verdict, type, out_type, mode, actions, reason, pages,
 * in_bytes, out_bytes) goes to REPORT, or to stdout when -r is not given.
 * Exit: 0 whatever the verdict; 64 usage, 70 internal, 74 I/O, 78 config.
 *
 * SECURITY: runs with the invoking user's rights; the engine it calls is a
 * pure function (no files, no sockets) so the daemon can run it sandboxed.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cdr/cdr.h"
#include "cli/cli.h"
#include "common/defs.h"

typedef struct file_args {
	const char *config, *report, *in, *out;
	cdr_mode_t mode;
} file_args_t;

static int usage(void)
{
	fputs("usage: mugai file sanitize [-c CONFIG] [-r REPORT] [--mode flatten|rebuild] IN OUT\n",
	      stderr);
	return MUGAI_EXIT_USAGE;
}

static int parse_args(int argc, char **argv, file_args_t *a)
{
	int pos = 0;

	memset(a, 0, sizeof(*a));
	if (argc < 2 || strcmp(argv[1], "sanitize") != 0)
		return -1;
	for (int i = 2; i < argc; i++) {
		const char *s = argv[i];

		if ((!strcmp(s, "-c") || !strcmp(s, "-r") || !strcmp(s, "--mode")) && i + 1 >= argc)
			return -1;
		if (!strcmp(s, "-c"))
			a->config = argv[++i];
		else if (!strcmp(s, "-r"))
			a->report = argv[++i];
		else if (!strcmp(s, "--mode")) {
			if (cdr_mode_parse(argv[++i], &a->mode) < 0)
				return -1;
		} else if (s[0] == '-' && s[1])
			return -1;
		else if (pos == 0)
			a->in = s, pos++;
		else if (pos == 1)
			a->out = s, pos++;
		else
			return -1;
	}
	return pos == 2 ? 0 : -1;
}

static int read_file(const char *path, size_t max, buf_t *b)
{
	FILE *f;
	char tmp[65536];
	size_t n;
	int rc = 0;

	buf_init(b, max);
	f = fopen(path, "rb");
	if (!f)
		return -1;
	while (rc == 0 && (n = fread(tmp, 1, sizeof(tmp), f)) > 0)
		rc = buf_append(b, tmp, n);
	if (ferror(f))
		rc = -1;
	fclose(f);
	return rc;
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w, n -= (size_t)w;
	}
	return 0;
}

/* Write data to path atomically (temp file + fsync + rename). */
static int write_atomic(const char *path, const char *data, size_t len)
{
	size_t n = strlen(path) + 16;
	char *tmp = malloc(n);
	int fd = -1, rc = -1;

	if (!tmp)
		return -1;
	snprintf(tmp, n, "%s.tmpXXXXXX", path);
	fd = mkstemp(tmp);
	if (fd < 0)
		goto out;
	if (write_all(fd, data, len) < 0 || fsync(fd) < 0 || fchmod(fd, 0644) < 0)
		goto out;
	if (close(fd) < 0) {
		fd = -1;
		goto out;
	}
	fd = -1;
	rc = rename(tmp, path);
out:
	if (fd >= 0)
		close(fd);
	if (rc < 0)
		unlink(tmp);
	free(tmp);
	return rc;
}

static int emit_report(const file_args_t *a, const cdr_result_t *r)
{
	buf_t j;
	int rc = MUGAI_EXIT_OK;

	buf_init(&j, 16 << 20);
	if (cdr_result_json(r, &j) < 0 || buf_putc(&j, '\n') < 0)
		rc = MUGAI_EXIT_SOFTWARE;
	else if (a->report ? write_atomic(a->report, j.data, j.len) < 0
			   : write_all(STDOUT_FILENO, j.data, j.len) < 0)
		rc = MUGAI_EXIT_IOERR;
	buf_free(&j);
	return rc;
}

static int run(const file_args_t *a, const cfg_t *cfg)
{
	buf_t in;
	cdr_result_t r;
	int rc;

	if (read_file(a->in, (size_t)lim(&cfg->lim, LIM_FILE_SIZE) + 1, &in) < 0 && !in.capped) {
		fprintf(stderr, "mugai: %s: %s\n", a->in, strerror(errno));
		buf_free(&in);
		return MUGAI_EXIT_IOERR;
	}
	if (in.capped) {
		/* Larger than file_size_max: blocked without reading it all. */
		memset(&r, 0, sizeof(r));
		r.type = "unknown";
		r.in_bytes = in.len;
		snprintf(r.reason, sizeof(r.reason), "limit file_size_max");
		rc = MUGAI_EXIT_OK;
	} else {
		rc = cdr_sanitize(cfg, a->in, in.data ? in.data : "", in.len, a->mode, &r) < 0
			? MUGAI_EXIT_SOFTWARE : MUGAI_EXIT_OK;
	}
	buf_free(&in);
	if (rc == MUGAI_EXIT_OK && r.verdict == CDR_SANITIZED &&
	    write_atomic(a->out, r.out.data, r.out.len) < 0) {
		fprintf(stderr, "mugai: %s: %s\n", a->out, strerror(errno));
		rc = MUGAI_EXIT_IOERR;
	}
	if (rc == MUGAI_EXIT_OK && r.verdict != CDR_SANITIZED)
		unlink(a->out); /* a stale OUT must not look like a verdict */
	if (rc == MUGAI_EXIT_OK)
		rc = emit_report(a, &r);
	cdr_result_free(&r);
	return rc;
}

int cmd_file(int argc, char **argv)
{
	file_args_t a;
	cfg_t cfg;
	int rc;

	if (parse_args(argc, argv, &a) < 0)
		return usage();
	rc = cli_load_config(&cfg, a.config);
	if (rc != 0)
		return rc;
	rc = run(&a, &cfg);
	cfg_free(&cfg);
	return rc;
}
