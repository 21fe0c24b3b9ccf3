/*
 * cmd_file.c — `mugai file sanitize [-c CONFIG] [-r REPORT]
 * [--mode flatten|rebuild] IN OUT`: run file CDR (cdr/cdr.h) on one file.
 *
 * OUT exists only when the verdict is `sanitized`: it is written to a
 * temporary file in OUT's directory, fsync'd and renamed into place. A
 * flattened PDF's finished pages reach that temporary file while the worker
 * renders the next ones (cdr_spill_set, worker_run_spill), so neither
 * process holds the whole document; a FIFO or device as OUT gets the file
 * in one piece after the verdict, as before. The
 * report JSON (verdict, type, out_type, mode, actions, reason, pages,
 * in_bytes, out_bytes) goes to REPORT, or to stdout when -r is not given.
 * Exit: 0 whatever the verdict; 64 usage, 70 internal, 74 I/O, 78 config.
 *
 * SECURITY: this process reads and writes files but never parses the input:
 * the engine runs in a sandboxed worker (common/sandbox.h) and returns a
 * length-checked record [u32 verdict][u64 report length][report][file].
 * A worker that crashes, times out or cannot be sandboxed gives `blocked`.
 *
 * Legacy documents (.doc .xls .ppt .rtf, legacy_policy = convert): the
 * worker answers "needs conversion" (verdict 2, the file part holding the
 * legacy type); this process then runs LibreOffice in its own jail
 * (common/jail.h) on the bytes it read, and sends the PDF that comes out
 * into a second sandboxed worker that flattens it as hostile input
 * (cdr_sanitize_converted). A jail that cannot be built blocks the file.
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
#include "common/jail.h"
#include "common/json.h"
#include "common/sandbox.h"
#include "common/worker.h"
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
	char tmp[IO_CHUNK];
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
	const char *legacy_type; /* set: in is the jail's PDF of a file of this type */
	size_t legacy_len;       /* ... and of this many bytes */
	bool spill;              /* the parent takes a flatten's pages as they are done */
} file_job_t;

/* Child side: finished pages to the parent now. */
static int child_spill(void *arg, const char *p, size_t n)
{
	(void)arg;
	return worker_spill(p, n);
}

#define FILE_NEEDS_CONVERT 2u /* record verdict: a legacy document to convert */

/* The frame's head in front of the sanitized file, in the file's own
 * buffer (moved up by the head's length; a large buffer grows in place),
 * which then becomes the frame: the file is not held twice. 1: done, 0:
 * not possible here (the caller appends as usual), -1: too big. */
static int frame_in_place(buf_t *out, buf_t *file, const void *head, size_t hlen)
{
	size_t total;

	if (out->len != 0 || !file->data || size_add(file->len, hlen, &total) < 0)
		return 0;
	if (total > out->max) {
		out->capped = true;
		return -1;
	}
	file->max = out->max;
	if (buf_reserve(file, hlen) < 0)
		return 0;
	memmove(file->data + hlen, file->data, file->len);
	memcpy(file->data, head, hlen);
	file->len = total;
	file->data[total] = '\0';
	buf_free(out);
	*out = *file;
	buf_init(file, 0);
	return 1;
}

/* Worker side: sanitize, then [u32 verdict][u64 report length][report][file]. */
static int job_run(void *arg, buf_t *out)
{
	file_job_t *j = arg;
	cdr_result_t r;
	buf_t json, head;
	uint32_t v;
	uint64_t n;
	const char *data = j->in->data ? j->in->data : "";
	static const cdr_spill_t spill = { child_spill, NULL, CDR_SPILL_AT };
	int rc;

	cdr_spill_set(j->spill ? &spill : NULL);
	rc = j->legacy_type
		 ? cdr_sanitize_converted(j->cfg, j->name, j->legacy_type, j->legacy_len, data,
					  j->in->len, &r)
		 : cdr_sanitize(j->cfg, j->name, data, j->in->len, j->mode, &r);

	buf_init(&json, (size_t)lim(&j->cfg->lim, LIM_REPORT_SIZE));
	if (rc == 0)
		rc = cdr_result_json(&r, &json);
	if (rc == 0)
		rc = buf_putc(&json, '\n');
	v = r.convert ? FILE_NEEDS_CONVERT : (uint32_t)r.verdict;
	n = json.len;
	buf_init(&head, sizeof(v) + sizeof(n) + json.len);
	if (rc == 0)
		rc = buf_append(&head, &v, sizeof(v));
	if (rc == 0)
		rc = buf_append(&head, &n, sizeof(n));
	if (rc == 0)
		rc = buf_append(&head, json.data, json.len);
	if (rc == 0 && r.verdict == CDR_SANITIZED) /* 1: the file's buffer became the frame */
		rc = frame_in_place(out, &r.out, head.data, head.len);
	if (rc == 0)
		rc = buf_append(out, head.data, head.len);
	if (rc == 0 && r.verdict == CDR_SANITIZED)
		rc = buf_append(out, r.out.data, r.out.len);
	else if (rc == 0 && r.convert)
		rc = buf_append(out, r.type, strlen(r.type));
	buf_free(&head);
	buf_free(&json);
	cdr_result_free(&r);
	return rc < 0 ? -1 : 0;
}

typedef struct file_result {
	bool sanitized;
	const char *convert; /* legacy type (static) when the worker asks for conversion */
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
	if (v > FILE_NEEDS_CONVERT || n > b->len - sizeof(v) - sizeof(n))
		return -1;
	memset(fr, 0, sizeof(*fr));
	fr->sanitized = v == CDR_SANITIZED;
	fr->report = b->data + sizeof(v) + sizeof(n);
	fr->report_len = (size_t)n;
	fr->file = fr->report + n;
	fr->file_len = b->len - sizeof(v) - sizeof(n) - (size_t)n;
	if (v == FILE_NEEDS_CONVERT) {
		char t[8] = "";

		if (fr->file_len >= sizeof(t))
			return -1;
		memcpy(t, fr->file, fr->file_len);
		fr->convert = cdr_legacy_type(t);
		fr->file_len = 0;
		return fr->convert ? 0 : -1;
	}
	if (!fr->sanitized && fr->file_len != 0)
		return -1;
	return 0;
}

/* The report of a file that was blocked without being parsed here. */
static int blocked_report(const char *type, const char *reason, size_t in_bytes, buf_t *out)
{
	json_t j;

	json_init(&j, out);
	json_obj_begin(&j);
	json_key(&j, "verdict"); json_str(&j, "blocked");
	json_key(&j, "type"); json_str(&j, type);
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

/* OUT being written while the worker runs: an io_stage in OUT's directory
 * that takes the spilled pages, committed only after a sanitized verdict.
 * on false: OUT is a FIFO or a device (or the directory refuses a temporary
 * file), written after the verdict. */
typedef struct stage {
	io_stage_t io;
	bool on;
	int err;      /* errno of a failed write, 0 */
} stage_t;

static void stage_open(stage_t *sg, const char *out)
{
	struct stat st;

	memset(sg, 0, sizeof(*sg));
	sg->io.fd = -1;
	sg->on = !(stat(out, &st) == 0 && !S_ISREG(st.st_mode)) && io_stage_open(&sg->io, out) == 0;
}

/* Forget what was spilled (a second worker starts over). */
static void stage_reset(stage_t *sg)
{
	if (sg->on && io_stage_truncate(&sg->io) < 0)
		sg->err = errno;
}

static int stage_spill(void *arg, const char *p, size_t n)
{
	stage_t *sg = arg;

	if (sg->err || io_stage_write(&sg->io, p, n) < 0) {
		sg->err = sg->err ? sg->err : errno;
		return -1;
	}
	return 0;
}

/* The spilled pages (if any), then the rest from the result: OUT in place. */
static int stage_commit(stage_t *sg, const char *out, const file_result_t *fr)
{
	if (sg->err || io_stage_write(&sg->io, fr->file, fr->file_len) < 0 ||
	    io_stage_commit(&sg->io, out, 0644) < 0) {
		sg->err = sg->err ? sg->err : errno;
		return -1;
	}
	return 0;
}

/* A worker run that failed on our side, said on stderr: 74 when writing
 * the spilled pages to OUT failed, 70 with no worker (or no sandbox); 0
 * otherwise (a crash or a limit of the worker is a verdict). */
static int worker_failed(const stage_t *sg, worker_status_t st, const char *out)
{
	if (st == WORKER_SYSERR && sg->err) {
		fprintf(stderr, "mugai: %s: %s\n", out, strerror(sg->err));
		return MUGAI_EXIT_IOERR;
	}
	if (st == WORKER_SYSERR || st == WORKER_NO_SANDBOX) {
		fprintf(stderr, "mugai: worker: %s\n", worker_status_name(st));
		return MUGAI_EXIT_SOFTWARE;
	}
	return 0;
}

/* One worker job, spilling into sg when it can. */
static worker_status_t run_job(const cfg_t *cfg, file_job_t *job, buf_t *blob, stage_t *sg)
{
	job->spill = sg->on;
	stage_reset(sg);
	return worker_run_spill(&cfg->lim, job_run, job, (size_t)lim(&cfg->lim, LIM_RESULT_SIZE),
				blob, sg->on ? stage_spill : NULL, sg);
}

static int emit(const file_args_t *a, const file_result_t *fr, stage_t *sg)
{
	const char *why = NULL;

	if (fr->sanitized && sg->on && stage_commit(sg, a->out, fr) < 0) {
		fprintf(stderr, "mugai: %s: %s\n", a->out, strerror(sg->err));
		return MUGAI_EXIT_IOERR;
	}
	if (fr->sanitized && !sg->on && /* a FIFO or a device: written in place */
	    io_write_output(a->out, fr->file, fr->file_len, 0644, &why) < 0) {
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

static void convert_reason(jail_status_t js, const char *type, const char *why,
			   char *reason, size_t n)
{
	type = cdr_legacy_label(type);
	switch (js) {
	case JAIL_UNAVAILABLE:
		snprintf(reason, n, "legacy-jail-unavailable: %s: %.300s", type, why);
		break;
	case JAIL_TIMEOUT:
		snprintf(reason, n, "limit:legacy_time_max: %s", type);
		break;
	case JAIL_TOO_BIG:
		snprintf(reason, n, "limit:legacy_output_max: %s", type);
		break;
	case JAIL_FAILED:
		snprintf(reason, n, "legacy-conversion-failed: %s", type);
		break;
	default:
		snprintf(reason, n, "internal-error: %s", type);
	}
}

/* A legacy document: convert in the jail, flatten the PDF in a new worker.
 * On return *fr is the final result (its report in rep or blob). */
static int convert(const file_args_t *a, const cfg_t *cfg, const buf_t *in, const char *type,
		   buf_t *blob, buf_t *rep, file_result_t *fr, stage_t *sg)
{
	char why[CLI_WHY_MAX], reason[CLI_REASON_MAX];
	buf_t pdf;
	jail_status_t js = jail_convert(cfg, in->data ? in->data : "", in->len, type, &pdf, why,
					sizeof(why));

	if (js == JAIL_OK) {
		file_job_t job = { cfg, a->in, &pdf, CDR_MODE_FLATTEN, type, in->len, false };
		worker_status_t st;
		int rc;

		buf_reset(blob);
		st = run_job(cfg, &job, blob, sg);
		buf_free(&pdf);
		if ((rc = worker_failed(sg, st, a->out)) != 0)
			return rc;
		if (st == WORKER_OK && job_split(blob, fr) == 0 && !fr->convert)
			return MUGAI_EXIT_OK;
		snprintf(reason, sizeof(reason), "legacy-conversion-failed: %s: %s", cdr_legacy_label(type),
			 st == WORKER_OK ? "worker-crash" : worker_status_name(st));
	} else {
		buf_free(&pdf);
		convert_reason(js, type, why, reason, sizeof(reason));
	}
	buf_reset(rep);
	if (blocked_report(type, reason, in->len, rep) < 0)
		return MUGAI_EXIT_SOFTWARE;
	*fr = (file_result_t){ .report = rep->data, .report_len = rep->len };
	return MUGAI_EXIT_OK;
}

static int run(const file_args_t *a, const cfg_t *cfg)
{
	buf_t in, blob, rep;
	stage_t sg;
	file_job_t job = { cfg, a->in, &in, a->mode, NULL, 0, false };
	file_result_t fr = { 0 };
	worker_status_t st = WORKER_OK;
	int rc = MUGAI_EXIT_OK;

	if (read_file(a->in, (size_t)lim(&cfg->lim, LIM_FILE_SIZE) + 1, &in) < 0 && !in.capped) {
		fprintf(stderr, "mugai: %s: %s\n", a->in, strerror(errno));
		buf_free(&in);
		return MUGAI_EXIT_IOERR;
	}
	buf_init(&blob, UNCAPPED_BY(LIM_RESULT_SIZE)); /* worker_run cuts there */
	buf_init(&rep, STORE_DET_MAX);
	stage_open(&sg, a->out);
	if (!in.capped)
		st = mail_init() < 0 ? WORKER_SYSERR : run_job(cfg, &job, &blob, &sg);
	rc = worker_failed(&sg, st, a->out); /* (said on stderr; then no report) */
	if (rc == 0 && (in.capped || st != WORKER_OK || job_split(&blob, &fr) < 0)) {
		/* Larger than file_size_max, or the worker failed: blocked, unparsed. */
		if (blocked_report("unknown", in.capped ? "limit file_size_max"
				   : st == WORKER_OK ? "worker-crash" : worker_status_name(st),
				   in.len, &rep) < 0)
			rc = MUGAI_EXIT_SOFTWARE;
		fr = (file_result_t){ .report = rep.data, .report_len = rep.len };
	} else if (rc == 0 && fr.convert)
		rc = convert(a, cfg, &in, fr.convert, &blob, &rep, &fr, &sg);
	if (rc == MUGAI_EXIT_OK)
		rc = emit(a, &fr, &sg);
	io_stage_abort(&sg.io); /* a stage not committed: blocked, or not used */
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
