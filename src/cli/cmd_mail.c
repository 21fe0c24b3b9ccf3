/*
 * cmd_mail.c — `mugai mail sanitize [-c CONFIG] [-r REPORT] [IN [OUT]]`:
 * read one RFC 5322 message (file or stdin), sanitize it in a sandboxed
 * worker, write the rebuilt message (file or stdout) and the JSON report.
 * With --quarantine the original and its report go into the store under
 * the id the notice quotes, before the output is written.
 * Exit 0 whatever the verdict; 64 usage, 70 internal, 74 I/O, 78 config.
 *
 * Legacy attachments (attachments = sanitize, legacy_policy = convert) take
 * two worker passes (mail/conv.h): the first returns their decoded bytes,
 * this process converts them in LibreOffice's jail (common/jail.h: the
 * worker's seccomp filter cannot start bwrap), and the second worker
 * flattens the PDFs as hostile input and rebuilds the message.
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
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "common/id.h"
#include "common/io.h"
#include "common/sandbox.h"
#include "common/worker.h"
#include "common/json.h"
#include "mail/mail.h"
#include "mail/wire.h"
#include "store/qstore.h"

typedef struct job {
	const cfg_t *cfg;
	const char *id;
	const char *in;
	size_t len;
	mail_env_t env;
} job_t;

/* Worker side: sanitize and encode the result record (mail/wire.h). */
static int job_run(void *arg, buf_t *out)
{
	job_t *j = arg;

	return mail_wire_run_env(j->cfg, j->id, &j->env, j->in, j->len, out);
}

static int read_input(FILE *f, size_t max, buf_t *in, bool *too_big)
{
	char chunk[IO_CHUNK];
	size_t n;

	*too_big = false;
	buf_init(in, max);
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
		if (buf_append(in, chunk, n) < 0) {
			*too_big = in->capped;
			if (!in->capped)
				return -1;
			/* keep the first bytes: the worker reads whose mail it is */
			in->capped = false;
			return buf_append(in, chunk, in->max - in->len) < 0 ? -1 : 0;
		}
	}
	return ferror(f) ? -1 : 0;
}

/* Write to path (io_write_output: atomic for regular files, in place for a
 * FIFO or character device), or to stdout when NULL. */
static int write_output(const char *path, const char *data, size_t len)
{
	const char *why = NULL;

	if (!path) {
		if (fwrite(data, 1, len, stdout) == len && fflush(stdout) == 0)
			return 0;
		fprintf(stderr, "mugai: write error: %s\n", strerror(errno));
		return -1;
	}
	if (io_write_output(path, data, len, 0644, &why) == 0)
		return 0;
	fprintf(stderr, "mugai: %s: %s\n", path, why);
	return -1;
}

typedef struct opts {
	const char *config, *report, *in, *out, *sender;
	const char *rcpt[RCPT_MAX];
	size_t n_rcpt;
	bool quarantine;
} opts_t;

static int parse_args(int argc, char **argv, opts_t *o)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "report", required_argument, NULL, 'r' },
		{ "quarantine", no_argument, NULL, 'q' },
		{ "sender", required_argument, NULL, 's' },
		{ "rcpt", required_argument, NULL, 't' },
		{ NULL, 0, NULL, 0 },
	};
	int ch;

	memset(o, 0, sizeof(*o));
	optind = 1;
	while ((ch = getopt_long(argc, argv, "c:r:q", longopts, NULL)) != -1) {
		if (ch == 'c')
			o->config = optarg;
		else if (ch == 'r')
			o->report = optarg;
		else if (ch == 'q')
			o->quarantine = true;
		else if (ch == 's')
			o->sender = optarg;
		else if (ch == 't' && o->n_rcpt < RCPT_MAX)
			o->rcpt[o->n_rcpt++] = optarg;
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

/* One pass of the worker (conv: NULL, the requests to fill, or the
 * answers). 0 with *res decoded; -1 infrastructure; 1 the worker failed
 * (*why says how). */
static int worker_pass(const cfg_t *cfg, job_t *job, mail_result_t *res, const char **why)
{
	worker_status_t st;
	buf_t blob;
	int rc = 1;

	buf_init(&blob, UNCAPPED_BY(LIM_RESULT_SIZE)); /* worker_run cuts there */
	/* Sanitized attachments can outgrow their originals (a flattened PDF):
	 * one result cap for the CLI and mugaid, result_size_max. */
	st = worker_run(&cfg->lim, job_run, job, (size_t)lim(&cfg->lim, LIM_RESULT_SIZE), &blob);
	if (st == WORKER_SYSERR || st == WORKER_NO_SANDBOX) {
		buf_free(&blob);
		fprintf(stderr, "mugai: worker: %s\n", worker_status_name(st));
		return -1;
	}
	*why = st == WORKER_OK ? "worker-crash" : worker_status_name(st);
	if (st == WORKER_OK && mail_wire_decode(blob.data, blob.len, res) == 0)
		rc = 0;
	buf_free(&blob);
	return rc;
}

/* Legacy attachments (mail/conv.h): convert the first pass's requests in
 * the jail here, then run the engine again with the answers. A second
 * pass that asks again is a worker that lies: it fails. */
static int second_pass(const cfg_t *cfg, job_t *job, mail_result_t *res, const char **why)
{
	conv_set_t ans;
	int rc;

	if (conv_run(cfg, &res->conv, &ans) < 0) {
		conv_set_free(&ans);
		*why = "worker-crash";
		return 1;
	}
	mail_result_free(res);
	mail_result_init(res);
	job->env.conv = &ans;
	rc = worker_pass(cfg, job, res, why);
	job->env.conv = NULL;
	conv_set_free(&ans);
	if (rc == 0 && res->conv.n) {
		*why = "worker-crash";
		rc = 1;
	}
	return rc;
}

/* Run the worker; on its failure, a notice built without the original. */
static int sanitize_input(const cfg_t *cfg, const char *id, const char *sender,
			  const buf_t *in, bool too_big, mail_result_t *res)
{
	/* A message over message_size_max still goes to the worker, which
	 * withholds it but reads whose it is from the first bytes' header. */
	job_t job = { cfg, id, in->data ? in->data : "", in->len, { sender, too_big, NULL } };
	conv_set_t req;
	const char *why = "worker-crash";
	int rc;

	conv_set_init(&req);
	job.env.conv = &req;
	rc = worker_pass(cfg, &job, res, &why);
	job.env.conv = NULL;
	conv_set_free(&req);
	if (rc == 0 && res->conv.n)
		rc = second_pass(cfg, &job, res, &why);
	if (rc > 0) {
		mail_result_free(res);
		mail_result_init(res);
		rc = mail_result_failure_env(cfg, id, sender, why, in->len, res);
	}
	return rc;
}

/* Keep the original and its report in the quarantine store, and record
 * the verdict in the audit trail, in one transaction. Durable when it
 * returns 0. */
static int store_original(const cfg_t *cfg, const opts_t *o, const char *id,
			  const buf_t *in, const mail_result_t *res)
{
	qstore_meta_t meta = { .received = (int64_t)time(NULL), .flow = "inbound",
			       .env_from = o->sender ? o->sender : "", .rcpt = o->rcpt,
			       .n_rcpt = o->n_rcpt, .hdr_from = res->from,
			       .subject = res->subject,
			       .verdict = report_verdict_name(res->verdict), .actor = "mugai-cli" };
	qstore_t *s = NULL;
	buf_t details;
	json_t j;
	int rc;

	snprintf(meta.id, sizeof(meta.id), "%s", id);
	buf_init(&details, STORE_DET_MAX);
	json_init(&j, &details);
	json_obj_begin(&j);
	json_key(&j, "verdict");
	json_str(&j, meta.verdict);
	json_key(&j, "bytes");
	json_int(&j, (long long)in->len);
	if (res->output_check[0]) {
		json_key(&j, "output_check");
		json_str(&j, res->output_check);
	}
	json_obj_end(&j);
	rc = json_finish(&j);
	meta.verdict_details = details.data;
	if (rc == 0)
		rc = qstore_open(&s, cfg);
	if (rc == 0) {
		size_t n = res->report.len;
		char *rep;

		while (n && (res->report.data[n - 1] == '\n'))
			n--;
		rep = strndup(res->report.data ? res->report.data : "", n);
		rc = rep ? qstore_put(s, &meta, in->data ? in->data : "", in->len, rep) : -1;
		free(rep);
	}
	if (rc < 0)
		fprintf(stderr, "mugai: quarantine store: %s\n", s ? qstore_errmsg(s) : "cannot open");
	qstore_close(s);
	buf_free(&details);
	return rc;
}

static int finish(const opts_t *o, const cfg_t *cfg, const char *id, const buf_t *in,
		  const mail_result_t *res)
{
	if (o->quarantine && store_original(cfg, o, id, in, res) < 0)
		return MUGAI_EXIT_IOERR;
	if (write_output(o->out, res->msg.data, res->msg.len) < 0 ||
	    (o->report && write_output(o->report, res->report.data, res->report.len) < 0))
		return MUGAI_EXIT_IOERR;
	return MUGAI_EXIT_OK;
}

static int run_sanitize(const opts_t *o)
{
	cfg_t cfg;
	buf_t in;
	mail_result_t res;
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
	mail_result_init(&res);
	if (rc < 0) {
		fprintf(stderr, "mugai: read error\n");
		status = MUGAI_EXIT_IOERR;
	} else if (mail_init() < 0 || mugai_id_new(id) < 0 ||
		   sanitize_input(&cfg, id, o->sender, &in, too_big, &res) < 0) {
		fprintf(stderr, "mugai: internal error\n");
		status = MUGAI_EXIT_SOFTWARE;
	} else {
		status = finish(o, &cfg, id, &in, &res);
	}
	buf_free(&in);
	mail_result_free(&res);
	cfg_free(&cfg);
	return status;
}

int cmd_mail(int argc, char **argv)
{
	opts_t o;

	if (argc < 2 || strcmp(argv[1], "sanitize") != 0 || parse_args(argc - 1, argv + 1, &o) < 0) {
		fputs("usage: mugai mail sanitize [-c CONFIG] [-r REPORT] [--quarantine [--sender S]"
		      " [--rcpt R]...] [IN [OUT]]\n", stderr);
		return MUGAI_EXIT_USAGE;
	}
	return run_sanitize(&o);
}
