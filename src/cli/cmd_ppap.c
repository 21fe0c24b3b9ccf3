/*
 * cmd_ppap.c — `mugai quarantine ppap ID [--by NAME] -o FILE`: an
 * administrator supplies the password of a held PPAP zip (verdict
 * ppap-pending or ppap-expired), read from stdin up to its first line end.
 * The held original is rebuilt in a sandboxed worker with that one
 * candidate, the same path as a password mail in mugaid (mail/ppapscan.h,
 * cdr_sanitize_pw); FILE receives the follow-up message 「受付番号 ID の
 * パスワード付きZIPを無害化しました」 with the sanitized files, for the
 * administrator to pass on. Recorded as ppap.paired (verdict ppap-paired),
 * or ppap.failed when the password does not open the zip (exit 65, FILE
 * not written). Legacy Office attachments of the original are not
 * converted here (they are listed as not converted).
 *
 * The console's PPAP form (console/ppap_view.c) runs the same job through
 * cmd_ppap_pair (cmd_ppap.h).
 *
 * Specs: none beyond mail/wire.h (the worker's record) and store/qstore.h.
 *
 * SECURITY: the password is read with read(2) (no stdio copy), lives only
 * in this process and its sandboxed worker, is wiped after the job, and is
 * never written, logged or audited (the audit records who paired it).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli_store.h"
#include "cli/cmd_ppap.h"
#include "common/defs.h"
#include "common/json.h"
#include "common/worker.h"
#include "common/io.h"
#include "mail/mail.h"
#include "mail/ppapscan.h"
#include "mail/wire.h"

typedef struct ppap_job {
	const cfg_t *cfg;
	const char *id;
	const buf_t *orig;
	mail_env_t env;
} ppap_job_t;

static int ppap_run(void *arg, buf_t *out)
{
	ppap_job_t *j = arg;

	return mail_wire_run_env(j->cfg, j->id, &j->env, j->orig->data ? j->orig->data : "",
				 j->orig->len, out);
}

/* The password: stdin up to the first CR or LF (at most PPAP_CAND_LEN_CAP
 * bytes are kept; a longer one cannot be a candidate). */
static int read_password(ppap_cands_t *c)
{
	char pw[PPAP_CAND_LEN_CAP + 1];
	size_t n = 0;
	int rc;

	for (char ch; n < sizeof(pw) && read(STDIN_FILENO, &ch, 1) == 1 && ch != '\n' && ch != '\r';)
		pw[n++] = ch;
	rc = n && n <= c->max_len ? ppap_add_typed(pw, n, c) : 0;
	explicit_bzero(pw, sizeof(pw));
	return rc < 0 ? -1 : c->n ? 0 : 1;
}

static int details(const char *by, const mail_result_t *r, buf_t *b)
{
	json_t j;

	json_init(&j, b);
	json_obj_begin(&j);
	json_key(&j, "typed_by");
	json_str(&j, by);
	json_key(&j, "opened");
	json_int(&j, r ? r->ppap_opened : 0);
	json_obj_end(&j);
	return json_finish(&j);
}

const char *cmd_ppap_pair(const cfg_t *cfg, const char *id, const buf_t *orig, ppap_cands_t *c,
			  mail_result_t *res)
{
	ppap_job_t job = { cfg, id, orig, { .ppap_pw = (const char *const *)c->v,
					    .n_ppap_pw = c->n, .ppap_of = id } };
	const char *why = NULL;
	cfg_t san;
	buf_t blob;
	worker_status_t st;

	/* a zip is only ever held with attachments = sanitize: rebuild with it
	 * whatever this process's configuration says (the console's may not) */
	if (cfg_copy_enum(cfg, CFG_ATTACHMENTS, "sanitize", &san) == 0)
		job.cfg = &san;
	buf_init(&blob, UNCAPPED_BY(LIM_RESULT_SIZE)); /* worker_run cuts there */
	st = worker_run(&cfg->lim, ppap_run, &job, (size_t)lim(&cfg->lim, LIM_RESULT_SIZE), &blob);
	if (st != WORKER_OK)
		why = worker_status_name(st);
	else if (mail_wire_decode(blob.data, blob.len, res) < 0)
		why = "bad result";
	buf_free(&blob);
	return why;
}

/* Run the worker with the candidate; 0 with *res, or an exit status. */
static int pair(const cfg_t *cfg, const qstore_item_t *it, const buf_t *orig, ppap_cands_t *c,
		mail_result_t *res)
{
	const char *why = cmd_ppap_pair(cfg, it->id, orig, c, res);

	if (!why)
		return 0;
	fprintf(stderr, "mugai: quarantine ppap: worker: %s\n", why);
	return MUGAI_EXIT_SOFTWARE;
}

static int write_out(const char *path, const buf_t *msg)
{
	const char *why = NULL;

	if (io_write_output(path, msg->data ? msg->data : "", msg->len, 0600, &why) == 0)
		return 0;
	fprintf(stderr, "mugai: %s: %s\n", path, why);
	return -1;
}

static int record(qstore_t *s, const store_opts_t *o, const char *id, const mail_result_t *r)
{
	bool opened = r->ppap_opened > 0 && r->verdict != VERDICT_QUARANTINED;
	buf_t det;
	int rc;

	buf_init(&det, SESSION_DETAILS_MAX);
	rc = details(o->actor, r, &det);
	if (rc == 0 && qstore_ppap_mark(s, o->actor, id, opened ? "ppap.paired" : "ppap.failed",
					det.data) < 0)
		rc = store_exit(s, "quarantine ppap");
	else if (rc == 0 && !opened) {
		fprintf(stderr, "mugai: quarantine ppap: %s: the password did not open the zip "
			"(パスワードが合いませんでした)\n", id);
		rc = MUGAI_EXIT_DATAERR;
	} else if (rc == 0 && write_out(o->output, &r->msg) < 0) {
		rc = MUGAI_EXIT_IOERR;
	} else if (rc == 0) {
		printf("%s: PPAP zip opened (%u), follow-up written to %s\n", id, r->ppap_opened,
		       o->output);
	}
	buf_free(&det);
	return rc;
}

int q_ppap(qstore_t *s, const cfg_t *cfg, store_opts_t *o)
{
	ppap_cands_t c;
	qstore_item_t it;
	mail_result_t res;
	buf_t orig;
	int rc;

	if (o->nargs != 2 || !o->by || !o->output)
		return MUGAI_EXIT_USAGE;
	ppap_cands_init(&c, 1, lim(&cfg->lim, LIM_PPAP_CANDIDATE_LEN));
	mail_result_init(&res);
	memset(&it, 0, sizeof(it));
	buf_init(&orig, UNCAPPED_BY(LIM_MESSAGE_SIZE));
	rc = mail_init() < 0 ? -1 : read_password(&c); /* GMime, OpenSSL: before the sandbox */
	if (rc != 0) {
		fprintf(stderr, "mugai: quarantine ppap: no password on stdin (or longer than "
			"ppap_candidate_max)\n");
		rc = rc < 0 ? MUGAI_EXIT_SOFTWARE : MUGAI_EXIT_USAGE;
	} else if (qstore_get(s, o->actor, o->args[1], &it, &orig) < 0) {
		rc = store_exit(s, "quarantine ppap");
	} else if (strcmp(it.verdict, QSTORE_PPAP_PENDING) != 0 &&
		   strcmp(it.verdict, QSTORE_PPAP_EXPIRED) != 0) {
		fprintf(stderr, "mugai: quarantine ppap: %s: verdict %s, not a held PPAP zip\n",
			it.id, it.verdict);
		rc = MUGAI_EXIT_DATAERR;
	} else if ((rc = pair(cfg, &it, &orig, &c, &res)) == 0) {
		rc = record(s, o, it.id, &res);
	}
	ppap_cands_free(&c);
	mail_result_free(&res);
	qstore_item_free(&it);
	buf_free(&orig);
	return rc;
}
