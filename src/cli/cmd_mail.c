/*
 * cmd_mail.c — `mugai mail sanitize [-c CONFIG] [-r REPORT] [IN [OUT]]`:
 * read one RFC 5322 message (file or stdin), sanitize it in a sandboxed
 * worker, write the rebuilt message (file or stdout) and the JSON report.
 * Exit 0 whatever the verdict; 64 usage, 70 internal, 74 I/O, 78 config.
 *
 * SECURITY: this process reads and writes files but never parses the
 * message: the worker does (sandbox.h). If the worker crashes, times out or
 * cannot be sandboxed, the output is a notice-only message built without
 * looking at the original (mail_failure_message).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "common/id.h"
#include "common/sandbox.h"
#include "mail/mail.h"

typedef struct job {
	const cfg_t *cfg;
	const char *id;
	const char *in;
	size_t len;
} job_t;

/* Worker side: [u64 message length][message][report JSON]. */
static int job_run(void *arg, buf_t *out)
{
	job_t *j = arg;
	buf_t msg, rep_json;
	mail_report_t rep;
	uint64_t n;
	int rc;

	buf_init(&msg, SIZE_MAX / 4);
	buf_init(&rep_json, 16 * 1024 * 1024);
	rc = mail_sanitize(j->cfg, j->id, j->in, j->len, &msg, &rep);
	if (rc == 0)
		rc = report_json(&rep, &rep_json);
	n = msg.len;
	if (rc == 0)
		rc = buf_append(out, &n, sizeof(n));
	if (rc == 0)
		rc = buf_append(out, msg.data, msg.len);
	if (rc == 0)
		rc = buf_append(out, rep_json.data, rep_json.len);
	report_free(&rep);
	buf_free(&msg);
	buf_free(&rep_json);
	return rc;
}

/* Parent side: split the worker's blob, checking lengths only. */
static int job_split(const buf_t *blob, buf_t *msg, buf_t *rep)
{
	uint64_t n;

	if (blob->len < sizeof(n))
		return -1;
	memcpy(&n, blob->data, sizeof(n));
	if (n > blob->len - sizeof(n))
		return -1;
	if (buf_append(msg, blob->data + sizeof(n), (size_t)n) < 0)
		return -1;
	return buf_append(rep, blob->data + sizeof(n) + n, blob->len - sizeof(n) - (size_t)n);
}

static int read_input(FILE *f, size_t max, buf_t *in, bool *too_big)
{
	char chunk[65536];
	size_t n;

	*too_big = false;
	buf_init(in, max);
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
		if (buf_append(in, chunk, n) < 0) {
			*too_big = in->capped;
			return in->capped ? 0 : -1;
		}
	}
	return ferror(f) ? -1 : 0;
}

/* Write to path through a temp file + rename, or to stdout when NULL. */
static int write_output(const char *path, const char *data, size_t len)
{
	char tmp[4096];
	FILE *f;
	int rc;

	if (!path)
		return (fwrite(data, 1, len, stdout) == len && fflush(stdout) == 0) ? 0 : -1;
	if (snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int)getpid()) >= (int)sizeof(tmp))
		return -1;
	f = fopen(tmp, "wb");
	if (!f)
		return -1;
	rc = (fwrite(data, 1, len, f) == len && fflush(f) == 0 && fsync(fileno(f)) == 0) ? 0 : -1;
	if (fclose(f) != 0)
		rc = -1;
	if (rc == 0 && rename(tmp, path) < 0)
		rc = -1;
	if (rc < 0)
		unlink(tmp);
	return rc;
}

/* When the worker failed: a notice built without reading the original. */
static int failure(const cfg_t *cfg, const char *id, const char *why, size_t size,
		   buf_t *msg, buf_t *rep_json)
{
	mail_report_t rep;
	int rc = mail_failure_message(cfg, id, why, size, msg, &rep);

	if (rc == 0)
		rc = report_json(&rep, rep_json);
	report_free(&rep);
	return rc;
}

typedef struct opts {
	const char *config, *report, *in, *out;
} opts_t;

static int parse_args(int argc, char **argv, opts_t *o)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "report", required_argument, NULL, 'r' },
		{ NULL, 0, NULL, 0 },
	};
	int ch;

	memset(o, 0, sizeof(*o));
	optind = 1;
	while ((ch = getopt_long(argc, argv, "c:r:", longopts, NULL)) != -1) {
		if (ch == 'c')
			o->config = optarg;
		else if (ch == 'r')
			o->report = optarg;
		else
			return -1;
	}
	if (argc - optind > 2)
		return -1;
	if (optind < argc && strcmp(argv[optind], "-") != 0)
		o->in = argv[optind];
	if (optind + 1 < argc && strcmp(argv[optind + 1], "-") != 0)
		o->out = argv[optind + 1];
	return 0;
}

static int sanitize_input(const cfg_t *cfg, const char *id, const buf_t *in, bool too_big,
			  buf_t *msg, buf_t *rep_json)
{
	job_t job = { cfg, id, in->data ? in->data : "", in->len };
	worker_status_t st;
	buf_t blob;
	int rc;

	if (too_big)
		return failure(cfg, id, limit_table[LIM_MESSAGE_SIZE].name, in->len, msg, rep_json);
	buf_init(&blob, SIZE_MAX / 4);
	st = worker_run(&cfg->lim, job_run, &job, in->len * 3 + 16 * 1024 * 1024, &blob);
	if (st == WORKER_SYSERR || st == WORKER_NO_SANDBOX) {
		buf_free(&blob);
		fprintf(stderr, "mugai: worker: %s\n", worker_status_name(st));
		return -1;
	}
	rc = st == WORKER_OK ? job_split(&blob, msg, rep_json) : -1;
	buf_free(&blob);
	if (rc < 0) {
		buf_reset(msg);
		buf_reset(rep_json);
		rc = failure(cfg, id, st == WORKER_OK ? "worker-crash" : worker_status_name(st),
			     in->len, msg, rep_json);
	}
	return rc;
}

static int run_sanitize(const opts_t *o)
{
	cfg_t cfg;
	buf_t in, msg, rep_json;
	char id[MUGAI_ID_LEN + 1];
	bool too_big;
	FILE *f = stdin;
	int rc = cli_load_config(&cfg, o->config), status = MUGAI_EXIT_OK;

	if (rc != 0)
		return rc;
	if (o->in && !(f = fopen(o->in, "rb"))) {
		fprintf(stderr, "mugai: %s: %s\n", o->in, strerror(errno));
		cfg_free(&cfg);
		return MUGAI_EXIT_IOERR;
	}
	rc = read_input(f, (size_t)lim(&cfg.lim, LIM_MESSAGE_SIZE), &in, &too_big);
	if (f != stdin)
		fclose(f);
	buf_init(&msg, SIZE_MAX / 4);
	buf_init(&rep_json, SIZE_MAX / 4);
	if (rc < 0) {
		fprintf(stderr, "mugai: read error\n");
		status = MUGAI_EXIT_IOERR;
	} else if (mail_init() < 0 || mugai_id_new(id) < 0 ||
		   sanitize_input(&cfg, id, &in, too_big, &msg, &rep_json) < 0) {
		fprintf(stderr, "mugai: internal error\n");
		status = MUGAI_EXIT_SOFTWARE;
	} else if (write_output(o->out, msg.data, msg.len) < 0 ||
		   (o->report && write_output(o->report, rep_json.data, rep_json.len) < 0)) {
		fprintf(stderr, "mugai: write error: %s\n", strerror(errno));
		status = MUGAI_EXIT_IOERR;
	}
	buf_free(&in);
	buf_free(&msg);
	buf_free(&rep_json);
	cfg_free(&cfg);
	return status;
}

int cmd_mail(int argc, char **argv)
{
	opts_t o;

	if (argc < 2 || strcmp(argv[1], "sanitize") != 0 || parse_args(argc - 1, argv + 1, &o) < 0) {
		fputs("usage: mugai mail sanitize [-c CONFIG] [-r REPORT] [IN [OUT]]\n", stderr);
		return MUGAI_EXIT_USAGE;
	}
	return run_sanitize(&o);
}
