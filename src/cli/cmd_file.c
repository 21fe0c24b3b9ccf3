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
 * SECURITY: this process reads and writes files but never parses the input:
 * the engine runs in a sandboxed worker (common/sandbox.h) and returns a
 * length-checked record [u32 verdict][u64 report length][report][file].
 * A worker that crashes, times out or cannot be sandboxed gives `blocked`.
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
#include "common/io.h"
#include "common/json.h"
#include "common/sandbox.h"
#include "mail/mail.h"

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


typedef struct file_job {
	const cfg_t *cfg;
	const char *name;
	const buf_t *in;
	cdr_mode_t mode;
} file_job_t;

/* Worker side: sanitize, then [u32 verdict][u64 report length][report][file]. */
static int job_run(void *arg, buf_t *out)
{
	file_job_t *j = arg;
	cdr_result_t r;
	buf_t json;
	uint32_t v;
	uint64_t n;
	int rc = cdr_sanitize(j->cfg, j->name, j->in->data ? j->in->data : "", j->in->len,
			      j->mode, &r);

	buf_init(&json, 16 * 1024 * 1024);
	if (rc == 0)
		rc = cdr_result_json(&r, &json);
	if (rc == 0)
		rc = buf_putc(&json, '\n');
	v = (uint32_t)r.verdict;
	n = json.len;
	if (rc == 0)
		rc = buf_append(out, &v, sizeof(v));
	if (rc == 0)
		rc = buf_append(out, &n, sizeof(n));
	if (rc == 0)
		rc = buf_append(out, json.data, json.len);
	if (rc == 0 && r.verdict == CDR_SANITIZED)
		rc = buf_append(out, r.out.data, r.out.len);
	buf_free(&json);
	cdr_result_free(&r);
	return rc;
}

typedef struct file_result {
	bool sanitized;
	const char *report, *file;
	size_t report_len, file_len;
} file_result_t;

/* Parent side: check the record's lengths; accept only at the end. */
static int job_split(const buf_t *b, file_result_t *fr)
{
	uint32_t v;
	uint64_t n;

	if (b->len < sizeof(v) + sizeof(n))
		return -1;
	memcpy(&v, b->data, sizeof(v));
	memcpy(&n, b->data + sizeof(v), sizeof(n));
	if (v > CDR_SANITIZED || n > b->len - sizeof(v) - sizeof(n))
		return -1;
	fr->sanitized = v == CDR_SANITIZED;
	fr->report = b->data + sizeof(v) + sizeof(n);
	fr->report_len = (size_t)n;
	fr->file = fr->report + n;
	fr->file_len = b->len - sizeof(v) - sizeof(n) - (size_t)n;
	if (!fr->sanitized && fr->file_len != 0)
		return -1;
	return 0;
}

/* The report of a file that was blocked without being parsed here. */
static int blocked_report(const char *reason, size_t in_bytes, buf_t *out)
{
	json_t j;

	json_init(&j, out);
	json_obj_begin(&j);
	json_key(&j, "verdict"); json_str(&j, "blocked");
	json_key(&j, "type"); json_str(&j, "unknown");
	json_key(&j, "out_type"); json_null(&j);
	json_key(&j, "mode"); json_null(&j);
	json_key(&j, "actions"); json_arr_begin(&j); json_arr_end(&j);
	json_key(&j, "reason"); json_str(&j, reason);
	json_key(&j, "pages"); json_int(&j, 0);
	json_key(&j, "in_bytes"); json_int(&j, (long long)in_bytes);
	json_key(&j, "out_bytes"); json_int(&j, 0);
	json_obj_end(&j);
	return json_finish(&j) == 0 ? buf_putc(out, '\n') : -1;
}

static int emit(const file_args_t *a, const file_result_t *fr)
{
	const char *why = NULL;

	if (fr->sanitized && io_write_output(a->out, fr->file, fr->file_len, 0644, &why) < 0) {
		fprintf(stderr, "mugai: %s: %s\n", a->out, why);
		return MUGAI_EXIT_IOERR;
	}
	if (!fr->sanitized)
		io_remove_output(a->out); /* a stale OUT must not look like a verdict */
	if (a->report ? io_write_output(a->report, fr->report, fr->report_len, 0644, &why) < 0
		      : io_write_all(STDOUT_FILENO, fr->report, fr->report_len) < 0) {
		fprintf(stderr, "mugai: %s: %s\n", a->report ? a->report : "stdout",
			why ? why : strerror(errno));
		return MUGAI_EXIT_IOERR;
	}
	return MUGAI_EXIT_OK;
}

static int run(const file_args_t *a, const cfg_t *cfg)
{
	buf_t in, blob, rep;
	file_job_t job = { cfg, a->in, &in, a->mode };
	file_result_t fr = { 0 };
	worker_status_t st = WORKER_OK;
	int rc = MUGAI_EXIT_OK;

	if (read_file(a->in, (size_t)lim(&cfg->lim, LIM_FILE_SIZE) + 1, &in) < 0 && !in.capped) {
		fprintf(stderr, "mugai: %s: %s\n", a->in, strerror(errno));
		buf_free(&in);
		return MUGAI_EXIT_IOERR;
	}
	buf_init(&blob, SIZE_MAX / 4);
	buf_init(&rep, 4096);
	if (!in.capped) {
		st = mail_init() < 0 ? WORKER_SYSERR
		     : worker_run(&cfg->lim, job_run, &job,
				  (size_t)lim(&cfg->lim, LIM_RESULT_SIZE), &blob);
	}
	if (st == WORKER_SYSERR || st == WORKER_NO_SANDBOX) {
		fprintf(stderr, "mugai: worker: %s\n", worker_status_name(st));
		rc = MUGAI_EXIT_SOFTWARE;
	} else if (in.capped || st != WORKER_OK || job_split(&blob, &fr) < 0) {
		/* Larger than file_size_max, or the worker failed: blocked, unparsed. */
		if (blocked_report(in.capped ? "limit file_size_max"
				   : st == WORKER_OK ? "worker-crash" : worker_status_name(st),
				   in.len, &rep) < 0)
			rc = MUGAI_EXIT_SOFTWARE;
		fr = (file_result_t){ false, rep.data, NULL, rep.len, 0 };
	}
	if (rc == MUGAI_EXIT_OK)
		rc = emit(a, &fr);
	buf_free(&in);
	buf_free(&blob);
	buf_free(&rep);
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
