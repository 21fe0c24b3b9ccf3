/*
 * ppap.c — PPAP pairing in mugaid (issue #11). A message whose encrypted
 * zip (ZipCrypto or WinZip AES) could not be opened is delivered at once,
 * sanitized, with the notice line 「パスワード付きZIP（名前）: パスワードの
 * メールを待っています（最長 N 分）」, and stored with the verdict
 * ppap-pending. A later message from the same sender (envelope sender, or
 * the same decoded From) to at least one of the same recipients within
 * ppap_window, in whose text the worker found password candidates, is
 * paired with it: the session hands the held original and the password
 * mail to its sandboxed worker, which finds the candidates again, tries
 * them on the zip and rebuilds the held original with the opened files
 * through file CDR. The follow-up (「受付番号 X のパスワード付きZIPを無害化
 * しました」, or that the password did not fit) goes to the original's
 * recipients; the store records ppap.paired (verdict ppap-paired) or
 * ppap.failed with the password mail's id, never a password. When the
 * window passes, the releaser tells the recipients what to do next and
 * records ppap.expired (verdict ppap-expired).
 *
 * Specs: the store protocol (store/storewire.h), the worker protocol
 * (daemon/sanitizer.h, mail/wire.h), delivery by RFC 5321 (deliver.c).
 *
 * SECURITY: session and releaser; no password passes through this file
 * (only descriptors of sealed originals and the worker's result, checked
 * by mail_wire_decode); every failure here leaves the held original
 * pending or expired, never delivered unsanitized.
 */
#include "daemon/ppap.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/id.h"
#include "common/json.h"
#include "common/log.h"
#include "mail/mail.h"
#include "store/qstore.h"

const char *ppap_verdict(const cfg_t *cfg, const mail_result_t *res)
{
	if (res->verdict != VERDICT_QUARANTINED && res->ppap_waiting &&
	    lim(&cfg->lim, LIM_PPAP_WINDOW) > 0)
		return QSTORE_PPAP_PENDING;
	return report_verdict_name(res->verdict);
}

/* A held original as the store answered (copied: the answer's strings
 * live in the client's buffer until the next call). */
typedef struct held {
	char id[MUGAI_ID_LEN + 1];
	char *env_from, *rcpt_list;
	const char **rcpt;
	size_t n_rcpt;
	size_t len;
} held_t;

static void held_free(held_t *h)
{
	free(h->env_from);
	free(h->rcpt_list);
	free(h->rcpt);
	memset(h, 0, sizeof(*h));
}

/* Split "a,b" in place (the store bounded it by smtp_recipients_max). */
static int held_load(held_t *h, const sw_ans_t *a)
{
	memset(h, 0, sizeof(*h));
	snprintf(h->id, sizeof(h->id), "%s", a->id);
	h->len = (size_t)a->orig_len;
	h->env_from = strdup(a->env_from);
	if (!h->env_from || storecl_rcpt_split(a->rcpt, &h->rcpt_list, &h->rcpt, &h->n_rcpt) < 0)
		return -1;
	return h->n_rcpt ? 0 : -1;
}

static bool non_ascii(const char *s)
{
	for (; s && *s; s++)
		if ((unsigned char)*s >= 0x80)
			return true;
	return false;
}

/* The follow-up (or notice) to the held original's recipients (a delivery
 * id of its own: a Maildir next hop names files by it). */
static int deliver_to_held(const daemon_ctx_t *d, const held_t *h, const buf_t *msg,
			   deliver_result_t *r)
{
	char did[MUGAI_ID_LEN + 1];
	deliver_env_t e = { .from = h->env_from, .rcpt = h->rcpt, .n_rcpt = h->n_rcpt,
			    .helo = d->hostname, .id = did,
			    .timeout = (int)lim(&d->cfg.lim, LIM_NEXT_HOP_TIMEOUT) };

	if (mugai_id_new(did) < 0)
		snprintf(did, sizeof(did), "%s", h->id);

	e.smtputf8 = non_ascii(h->env_from);
	for (size_t i = 0; i < h->n_rcpt; i++)
		e.smtputf8 |= non_ascii(h->rcpt[i]);
	return deliver(&d->hop, &e, msg->data ? msg->data : "", msg->len, r);
}

/* ppap.paired / ppap.failed / ppap.expired with its details. */
static int mark(storecl_t *st, const char *action, const char *id, const char *pw_msg,
		const mail_result_t *res, const char *why)
{
	buf_t det;
	json_t j;
	sw_ans_t a;
	int rfd = -1, rc;

	buf_init(&det, SESSION_DETAILS_MAX);
	json_init(&j, &det);
	json_obj_begin(&j);
	if (pw_msg) {
		json_key(&j, "password_message");
		json_str(&j, pw_msg);
	}
	if (res) {
		json_key(&j, "opened");
		json_int(&j, res->ppap_opened);
		json_key(&j, "still_closed");
		json_int(&j, res->ppap_waiting);
	}
	if (why) {
		json_key(&j, "why");
		json_str(&j, why);
	}
	json_obj_end(&j);
	rc = json_finish(&j);
	if (rc == 0)
		rc = storecl_call(st, &(sw_req_t){ .type = SW_PPAP_MARK, .action = action, .id = id,
						   .details = det.data }, -1, &a, &rfd);
	if (rfd >= 0)
		close(rfd);
	buf_free(&det);
	return rc;
}

/* One pairing in the worker: the follow-up result, or -1 (logged). */
static int pair_job(const daemon_ctx_t *d, sanitizer_t *w, const held_t *h, int fd,
		    const ppap_msg_t *m, mail_result_t *res)
{
	sanitizer_pw_t pw = { m->fd, m->len, SAN_PW_MAIL, h->id };
	worker_status_t s;
	buf_t blob;
	int sig = 0, rc = -1;

	buf_init(&blob, UNCAPPED_BY(LIM_RESULT_SIZE)); /* sanitizer_job cuts there */
	s = sanitizer_job_pw(w, &d->cfg, h->id, h->env_from, fd, h->len, &pw, &blob, &sig);
	if (s == WORKER_OK && mail_wire_decode(blob.data, blob.len, res) == 0)
		rc = 0;
	else
		log_warn("id=%s ppap: pairing with id=%s failed in the worker (%s%s%d); the zip "
			 "stays held", h->id, m->id, s == WORKER_OK ? "bad-result" : worker_status_name(s),
			 sig ? " signal=" : " exit", sig);
	buf_free(&blob);
	return rc;
}

/* Pair m with one held original: 1 paired (no longer pending), 0 not. */
static int pair_one(const daemon_ctx_t *d, sanitizer_t *w, storecl_t *st, const held_t *h,
		    int fd, const ppap_msg_t *m)
{
	deliver_result_t dr = { .text = "" };
	mail_result_t res;
	bool opened;
	int rc = 0;

	mail_result_init(&res);
	if (pair_job(d, w, h, fd, m, &res) < 0) {
		(void)mark(st, "ppap.failed", h->id, m->id, NULL, "worker");
		goto out;
	}
	opened = res.ppap_opened > 0 && res.verdict != VERDICT_QUARANTINED;
	if (deliver_to_held(d, h, &res.msg, &dr) < 0) {
		log_warn("id=%s ppap: the follow-up to the password mail id=%s was not delivered "
			 "(%s %s); the zip stays held", h->id, m->id, dr.code, dr.text);
		goto out;
	}
	if (mark(st, opened ? "ppap.paired" : "ppap.failed", h->id, m->id, &res, NULL) < 0)
		log_warn("id=%s ppap: cannot record the pairing: %s", h->id, st->err);
	log_info("id=%s ppap: password mail id=%s %s; follow-up delivered to %zu recipient(s)",
		 h->id, m->id, opened ? "opened the zip" : "did not open the zip", h->n_rcpt);
	rc = opened ? 1 : 0;
out:
	mail_result_free(&res);
	return rc;
}

void ppap_pair(const daemon_ctx_t *d, sanitizer_t *w, storecl_t *st, const ppap_msg_t *m)
{
	long long win = lim(&d->cfg.lim, LIM_PPAP_WINDOW);
	int64_t since = (int64_t)time(NULL) - win * 60, skip = 0;

	if (!win || !m->res->ppap_candidates || m->res->ppap_waiting ||
	    m->res->verdict == VERDICT_QUARANTINED)
		return;
	for (long long k = 0; k < lim(&d->cfg.lim, LIM_PPAP_HELD); k++) {
		sw_req_t q = { .type = SW_PPAP_NEXT, .received = since, .skip = skip,
			       .env_from = m->env_from, .hdr_from = m->hdr_from ? m->hdr_from : "",
			       .rcpt = (const char **)m->rcpt, .n_rcpt = m->n_rcpt };
		sw_ans_t a;
		held_t h = { .len = 0 };
		int fd = -1, r;

		if (storecl_call(st, &q, -1, &a, &fd) < 0) {
			log_warn("id=%s ppap: quarantine store: %s", m->id, st->err);
			return;
		}
		if (!a.item || fd < 0 || held_load(&h, &a) < 0) {
			if (fd >= 0)
				close(fd);
			held_free(&h);
			return;
		}
		r = pair_one(d, w, st, &h, fd, m);
		close(fd);
		held_free(&h);
		skip += r == 1 ? 0 : 1;
	}
}

/* ---- the releaser: windows that passed ---- */

static int expire_one(const daemon_ctx_t *d, storecl_t *st, const held_t *h)
{
	deliver_result_t dr = { .text = "" };
	buf_t msg;
	int rc = -1;

	buf_init(&msg, NOTICE_TEXT_MAX * 4);
	if (mail_ppap_expired_message(&d->cfg, h->id, &msg) < 0)
		log_err("id=%s ppap: cannot build the expiry notice", h->id);
	else if (deliver_to_held(d, h, &msg, &dr) < 0)
		log_warn("id=%s ppap: the expiry notice was not delivered (%s %s); next run", h->id,
			 dr.code, dr.text);
	else if (mark(st, "ppap.expired", h->id, NULL, NULL, NULL) < 0)
		log_warn("id=%s ppap: cannot record the expiry: %s", h->id, st->err);
	else
		rc = 0;
	if (rc == 0)
		log_info("id=%s ppap: no password mail within %lld minutes; notice delivered to %zu "
			 "recipient(s)", h->id, lim(&d->cfg.lim, LIM_PPAP_WINDOW), h->n_rcpt);
	buf_free(&msg);
	return rc;
}

int ppap_expire_run(const daemon_ctx_t *d, storecl_t *st)
{
	long long win = lim(&d->cfg.lim, LIM_PPAP_WINDOW);
	int64_t before = (int64_t)time(NULL) - win * 60;

	for (int i = 0; win && i < RELEASES_PER_RUN; i++) {
		sw_req_t q = { .type = SW_PPAP_STALE, .received = before };
		sw_ans_t a;
		held_t h;
		int fd = -1, rc;

		if (storecl_call(st, &q, -1, &a, &fd) < 0) {
			log_err("ppap: quarantine store: %s", st->err);
			return -1;
		}
		if (fd >= 0)
			close(fd);
		if (!a.item)
			return 0;
		rc = held_load(&h, &a) == 0 ? expire_one(d, st, &h) : -1;
		held_free(&h);
		if (rc < 0)
			return -1;
	}
	return 0;
}
