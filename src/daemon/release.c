/*
 * release.c — deliver the releases a person approved (a console request
 * approved by its 課長, or `mugai quarantine approve ID --by ADMIN --queue`):
 * a short-lived child of the master (like Postfix's pickup) that takes each
 * queued release from the store and delivers it through next_hop to the
 * requester (the store hands over the requester's own recipients, or every
 * envelope recipient for a CLI request), then marks it delivered (audited
 * as quarantine.release.delivered). A failed delivery stays queued for the
 * next run, and this run goes on after it (RELEASE_NEXT names the last one
 * tried). Each run then delivers the outbox the console filled (approver
 * notices, PPAP follow-ups: outbox_run, daemon/outbox.c) and tells the
 * recipients of held PPAP zips whose ppap_window passed what to do next
 * (ppap_expire_run, daemon/ppap.c).
 *
 *   the original (kind "original", and every CLI request): a new message
 *     written here, never an edit of the original — From (notice_from), To
 *     (the recipients), Date, Message-ID, Subject 【承認済・原本】 + the
 *     stored subject (through the writer as one line, then RFC 2047 words
 *     by our own encoder, text/hdr.c), MIME-Version and a multipart/mixed
 *     of two parts: our banner (text/plain; charset=UTF-8, base64) 「この
 *     原本は 承認者 X が YYYY-MM-DD HH:MM に取り出しを承認しました。」, and
 *     the original byte for byte (line ends as CRLF) as message/rfc822.
 *     Why a wrapper and not a banner inside the original's first text part:
 *     that needs a MIME parser on the hostile original in this process,
 *     which has no sandbox; a part boundary that could be ambiguous, a
 *     charset or transfer encoding we would have to re-encode, would be
 *     parsed here. The wrapper needs one fact about the original: a
 *     boundary that does not occur in it (checked with memmem). The reader
 *     sees our banner first and the original, unchanged, as an attached
 *     message (its own Subject, From and parts intact).
 *   sanitized files (kind "sanitized", the default a clerk asks for): the
 *     original goes through a sandboxed sanitizer worker this process starts
 *     (daemon/sanitizer.c, the same worker a session uses) with the current
 *     policy but attachments = sanitize; the approver and time travel as
 *     mail_facts_t, so the notice (mail/notice.c, the one writer) opens with
 *     「このメールは 承認者 X が … に無害化ファイルの取り出しを承認しました。」
 *     and the Subject is tagged 【承認済・無害化ファイル】, and the worker's
 *     output check passes on it as on any message. A worker failure gives
 *     the notice-only message (with the same line); a result still
 *     quarantined is delivered as such; the audit says which
 *     ({"kind":"sanitized","verdict":...}). A message the antivirus flagged
 *     at receipt (an administrator approved it) keeps that verdict: the
 *     worker gets the virus as a fact and withholds it unparsed, so what
 *     arrives is the notice naming the virus (the original needs a request
 *     of kind original).
 *
 * The store is reached through this run's own store process (role
 * "release": RELEASE_NEXT answers with the item and a sealed memfd of the
 * original, RELEASE_DONE marks it delivered); the releaser opens no file of
 * state_dir and makes the network connection the store process never makes.
 *
 * Specs: RFC 5322 (header fields, Date), RFC 2045/2046 (multipart/mixed,
 * message/rfc822, base64), RFC 2047 (encoded-words), RFC 5321 (CRLF on
 * the wire).
 *
 * SECURITY: runs as the daemon user without a sandbox, so it never parses
 * the original: an original is only copied into the wrapper (its bytes
 * searched for our boundary), sanitized files come from the sandboxed
 * worker (result checked by mail_wire_decode). The strings of the store's
 * answer were checked by storewire (UTF-8, no controls); the subject and
 * the approver's name pass the writer before they are written. Two-person
 * approval is enforced by the store.
 */
#include "daemon/daemon.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/id.h"
#include "common/json.h"
#include "common/log.h"
#include "daemon/outbox.h"
#include "daemon/ppap.h"
#include "daemon/sanitizer.h"
#include "daemon/storeclient.h"
#include "mail/wire.h"
#include "text/hdr.h"
#include "text/writer.h"

#define TAG_ORIGINAL "【承認済・原本】"
#define JST_OFFSET (9 * 3600)

/* One queued release, copied out of the store's answer (its strings live
 * in the client's buffer only until the next call). */
typedef struct rel {
	char id[MUGAI_ID_LEN + 1];
	char who[AUDIT_NAME_MAX];        /* the approver as people know them */
	char at[RELEASE_AT_LEN + 1];     /* the approval time, JST */
	bool sanitized;
	char virus[CLAMD_SIG_MAX];      /* the antivirus's name at receipt, or "" */
	char *env_from, *subject, *rcpt_list;
	const char **rcpt;
	size_t n_rcpt;
	bool smtputf8;
} rel_t;

static void rel_free(rel_t *r)
{
	free(r->env_from);
	free(r->subject);
	free(r->rcpt_list);
	free(r->rcpt);
	memset(r, 0, sizeof(*r));
}

/* "YYYY-MM-DDTHH:MM:SS...Z" (UTC, the audit format) as "YYYY-MM-DD HH:MM"
 * JST; the current time when it cannot be read. */
static void jst_of(const char *utc, char out[RELEASE_AT_LEN + 1])
{
	struct tm tm = { 0 };
	time_t t = 0;

	if (sscanf(utc, "%4d-%2d-%2dT%2d:%2d:%2d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
		   &tm.tm_hour, &tm.tm_min, &tm.tm_sec) == 6) {
		tm.tm_year -= 1900;
		tm.tm_mon -= 1;
		t = timegm(&tm);
	}
	if (t <= 0)
		t = time(NULL);
	t += JST_OFFSET;
	if (!gmtime_r(&t, &tm))
		memset(&tm, 0, sizeof(tm));
	snprintf(out, RELEASE_AT_LEN + 1, "%04u-%02u-%02u %02u:%02u",
		 (unsigned)(tm.tm_year + 1900) % 10000u, (unsigned)(tm.tm_mon + 1) % 100u,
		 (unsigned)tm.tm_mday % 100u, (unsigned)tm.tm_hour % 100u, (unsigned)tm.tm_min % 100u);
}

static bool non_ascii(const char *s)
{
	for (; s && *s; s++)
		if ((unsigned char)*s >= 0x80)
			return true;
	return false;
}

/* The approver as people know them: "console:NAME" and "os:LOGIN" give the
 * name, "os:root(sudo:NAME)" the person behind sudo. */
static void approver_name(const char *actor, char *out, size_t cap)
{
	const char *sudo = strstr(actor, "(sudo:");
	size_t n;

	if (strncmp(actor, "os:", 3) == 0 && sudo && (n = strcspn(sudo + 6, ")")) > 0) {
		snprintf(out, cap, "%.*s", (int)n, sudo + 6);
		return;
	}
	if (strncmp(actor, "console:", 8) == 0)
		actor += 8;
	else if (strncmp(actor, "os:", 3) == 0)
		actor += 3;
	snprintf(out, cap, "%s", actor);
}

static int rel_load(rel_t *r, const sw_ans_t *a)
{
	memset(r, 0, sizeof(*r));
	snprintf(r->id, sizeof(r->id), "%s", a->id);
	approver_name(a->approved_by ? a->approved_by : "", r->who, sizeof(r->who));
	jst_of(a->approved_at ? a->approved_at : "", r->at);
	r->sanitized = a->kind && strcmp(a->kind, "sanitized") == 0;
	snprintf(r->virus, sizeof(r->virus), "%s", a->virus ? a->virus : "");
	r->env_from = strdup(a->env_from ? a->env_from : "");
	r->subject = strdup(a->subject ? a->subject : "");
	if (!r->env_from || !r->subject ||
	    storecl_rcpt_split(a->rcpt, &r->rcpt_list, &r->rcpt, &r->n_rcpt) < 0)
		return -1;
	r->smtputf8 = non_ascii(r->env_from);
	for (size_t i = 0; i < r->n_rcpt; i++)
		r->smtputf8 |= non_ascii(r->rcpt[i]);
	return 0;
}

/* ---- the original, wrapped ---- */

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Base64 in lines of 76 characters (RFC 2045 §6.8). */
static int put_base64(buf_t *out, const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	int rc = 0;

	for (size_t i = 0; rc == 0 && i < n; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16 | (i + 1 < n ? (uint32_t)p[i + 1] << 8 : 0) |
			     (i + 2 < n ? p[i + 2] : 0);
		char q[4] = { b64[v >> 18 & 63], b64[v >> 12 & 63],
			      i + 1 < n ? b64[v >> 6 & 63] : '=', i + 2 < n ? b64[v & 63] : '=' };

		rc = buf_append(out, q, 4);
		if (rc == 0 && ((i / 3 + 1) % 19 == 0 || i + 3 >= n))
			rc = buf_puts(out, "\r\n");
	}
	return rc;
}

/* RFC 5322 date-time of now, in JST (+0900). */
static void rfc5322_now(char *out, size_t cap)
{
	static const char *const day[] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
	static const char *const mon[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul",
					   "Aug", "Sep", "Oct", "Nov", "Dec" };
	time_t t = time(NULL) + JST_OFFSET;
	struct tm tm;

	if (!gmtime_r(&t, &tm))
		memset(&tm, 0, sizeof(tm));
	snprintf(out, cap, "%s, %02u %s %04u %02u:%02u:%02u +0900", day[(unsigned)tm.tm_wday % 7u],
		 (unsigned)tm.tm_mday % 100u, mon[(unsigned)tm.tm_mon % 12u],
		 (unsigned)(tm.tm_year + 1900) % 10000u, (unsigned)tm.tm_hour % 100u,
		 (unsigned)tm.tm_min % 100u, (unsigned)tm.tm_sec % 100u);
}

/* The banner: our sentences, the approver's name through the writer. */
static int banner(const rel_t *r, buf_t *out)
{
	int rc = buf_puts(out, "この原本は 承認者 ");

	if (rc == 0)
		rc = wr_line(out, r->who, strlen(r->who), WR_FIELD_MAX);
	if (rc == 0)
		rc = buf_printf(out, " が %s に取り出しを承認しました。\r\n"
				"添付のメールは受信したままの原本で、無害化されていません。"
				"差出人と内容に心当たりがある場合だけ開いてください。\r\n"
				"受付番号: %s\r\n", r->at, r->id);
	return rc;
}

/* From, To, Date, Message-ID, Subject: ours. */
static int wrapper_header(const daemon_ctx_t *d, const rel_t *r, const char *bnd, buf_t *out)
{
	char date[64], mid[MUGAI_ID_LEN + 1];
	buf_t subj;
	int rc;

	rfc5322_now(date, sizeof(date));
	if (mugai_id_new(mid) < 0)
		return -1;
	buf_init(&subj, UNCAPPED_BY(LIM_HEADER_VALUE)); /* the worker cut the subject there */
	rc = buf_puts(&subj, TAG_ORIGINAL);
	if (rc == 0)
		rc = wr_line(&subj, r->subject, strlen(r->subject), 0);
	if (rc == 0)
		rc = buf_printf(out, "From: %s\r\nTo: ", cfg_str(&d->cfg, CFG_NOTICE_FROM));
	for (size_t i = 0; rc == 0 && i < r->n_rcpt; i++)
		rc = buf_printf(out, "%s%s", i ? ",\r\n " : "", r->rcpt[i]);
	if (rc == 0)
		rc = buf_printf(out, "\r\nDate: %s\r\nMessage-ID: <%s.release@%s>\r\nSubject: ", date,
				mid, d->hostname[0] ? d->hostname : "localhost");
	if (rc == 0)
		rc = hdr_encode_text(out, subj.data ? subj.data : "", subj.len);
	if (rc == 0)
		rc = buf_printf(out, "\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; "
				"boundary=\"%s\"\r\nX-Mugai-Released: id=%s; kind=original\r\n\r\n",
				bnd, r->id);
	buf_free(&subj);
	return rc;
}

/* A boundary that does not occur in the original. */
static int boundary(const buf_t *orig, char out[MUGAI_ID_LEN + 16])
{
	for (int k = 0; k < 4; k++) {
		char rnd[MUGAI_ID_LEN + 1];

		if (mugai_id_new(rnd) < 0)
			return -1;
		snprintf(out, MUGAI_ID_LEN + 16, "=_mugai_%s", rnd);
		if (!orig->len || !memmem(orig->data, orig->len, out, strlen(out)))
			return 0;
	}
	return -1;
}

/* The original's bytes with every line end as CRLF; 8-bit or not. */
static int put_original(const buf_t *orig, buf_t *out)
{
	const char *p = orig->data ? orig->data : "";
	int rc = 0;

	for (size_t i = 0; rc == 0 && i < orig->len; i++) {
		if (p[i] == '\r' && i + 1 < orig->len && p[i + 1] == '\n')
			continue;
		rc = (p[i] == '\n' || p[i] == '\r') ? buf_append(out, "\r\n", 2) : buf_putc(out, p[i]);
	}
	if (rc == 0 && out->len >= 2 && memcmp(out->data + out->len - 2, "\r\n", 2) != 0)
		rc = buf_puts(out, "\r\n");
	return rc;
}

static bool eight_bit(const buf_t *b)
{
	for (size_t i = 0; i < b->len; i++)
		if ((unsigned char)b->data[i] >= 0x80)
			return true;
	return false;
}

static int wrap_original(const daemon_ctx_t *d, const rel_t *r, const buf_t *orig, buf_t *out)
{
	char bnd[MUGAI_ID_LEN + 16];
	buf_t text;
	int rc;

	buf_init(&text, NOTICE_TEXT_MAX);
	rc = boundary(orig, bnd);
	if (rc == 0)
		rc = wrapper_header(d, r, bnd, out);
	if (rc == 0)
		rc = banner(r, &text);
	if (rc == 0)
		rc = buf_printf(out, "--%s\r\nContent-Type: text/plain; charset=UTF-8\r\n"
				"Content-Transfer-Encoding: base64\r\n\r\n", bnd);
	if (rc == 0)
		rc = put_base64(out, text.data ? text.data : "", text.len);
	if (rc == 0)
		rc = buf_printf(out, "--%s\r\nContent-Type: message/rfc822\r\n"
				"Content-Disposition: attachment; filename=\"original-%s.eml\"\r\n"
				"Content-Transfer-Encoding: %s\r\n\r\n", bnd, r->id,
				eight_bit(orig) ? "8bit" : "7bit");
	if (rc == 0)
		rc = put_original(orig, out);
	if (rc == 0)
		rc = buf_printf(out, "--%s--\r\n", bnd);
	buf_free(&text);
	return rc;
}

/* ---- sanitized files, by the worker ---- */

/* The rebuilt message (or the notice that replaced it) into res; -1 when
 * no worker could run (the release stays queued). */
static int sanitize_release(const cfg_t *rcfg, sanitizer_t *w, const rel_t *r, int fd,
			    size_t len, mail_result_t *res)
{
	mail_facts_t f = { .first_contact = -1 };
	worker_status_t st;
	const char *why;
	buf_t blob;
	int sig = 0, rc = -1;

	snprintf(f.release_by, sizeof(f.release_by), "%s", r->who);
	snprintf(f.release_at, sizeof(f.release_at), "%s", r->at);
	if (r->virus[0]) { /* the verdict of receipt stands: withheld unparsed */
		snprintf(f.av, sizeof(f.av), "virus");
		snprintf(f.virus, sizeof(f.virus), "%s", r->virus);
	}
	buf_init(&blob, UNCAPPED_BY(LIM_RESULT_SIZE)); /* sanitizer_job cuts there */
	st = sanitizer_job_facts(w, rcfg, r->id, r->env_from, &f, fd, len, &blob, &sig);
	why = worker_status_name(st);
	if (st == WORKER_OK && mail_wire_decode(blob.data, blob.len, res) == 0)
		rc = 0;
	else if (st == WORKER_OK)
		why = "bad-result";
	buf_free(&blob);
	if (rc == 0 || st == WORKER_NO_SANDBOX || st == WORKER_SYSERR)
		return rc;
	log_warn("release id=%s worker failure: %s%s%d; the notice is delivered", r->id, why,
		 sig ? " signal=" : " exit", sig);
	mail_result_free(res);
	mail_result_init(res);
	return mail_result_failure_facts(rcfg, r->id, r->env_from, &f, why, len, res);
}

/* ---- delivery ---- */

static int done_details(const rel_t *r, const mail_result_t *res, buf_t *b)
{
	json_t j;

	json_init(&j, b);
	json_obj_begin(&j);
	json_key(&j, "kind");
	json_str(&j, r->sanitized ? "sanitized" : "original");
	if (r->sanitized) {
		json_key(&j, "verdict");
		json_str(&j, report_verdict_name(res->verdict));
	} else {
		json_key(&j, "to");
		json_str(&j, "next_hop");
	}
	json_obj_end(&j);
	return json_finish(&j);
}

/* Deliver msg to the release's recipients (a delivery id of its own: a
 * Maildir next hop names files by it), then mark it delivered. */
static int deliver_release(const daemon_ctx_t *d, storecl_t *st, const rel_t *r,
			   const buf_t *msg, const mail_result_t *res)
{
	deliver_result_t dr = { .text = "" };
	char did[MUGAI_ID_LEN + 1];
	deliver_env_t e = { .from = r->env_from, .rcpt = r->rcpt, .n_rcpt = r->n_rcpt,
			    .smtputf8 = r->smtputf8, .helo = d->hostname, .id = did,
			    .timeout = (int)lim(&d->cfg.lim, LIM_NEXT_HOP_TIMEOUT) };
	buf_t det;
	sw_ans_t a;
	int rc = -1, rfd = -1;

	if (mugai_id_new(did) < 0)
		snprintf(did, sizeof(did), "%s", r->id);
	buf_init(&det, SESSION_DETAILS_MAX);
	if (done_details(r, res, &det) == 0 &&
	    deliver(&d->hop, &e, msg->data ? msg->data : "", msg->len, &dr) == 0)
		rc = storecl_call(st, &(sw_req_t){ .type = SW_RELEASE_DONE, .id = r->id,
						   .details = det.data }, -1, &a, &rfd);
	if (rfd >= 0)
		close(rfd);
	if (rc == 0)
		log_info("release id=%s kind=%s%s%s approved-by=%s delivered to %zu recipient(s): %s",
			 r->id, r->sanitized ? "sanitized" : "original", r->sanitized ? " verdict=" : "",
			 r->sanitized ? report_verdict_name(res->verdict) : "", r->who, r->n_rcpt, dr.text);
	else
		log_warn("release id=%s not delivered, stays queued: %s%s%s", r->id,
			 dr.code[0] ? dr.code : "", dr.code[0] ? " " : "", dr.text[0] ? dr.text : st->err);
	buf_free(&det);
	return rc;
}

typedef struct run {
	const daemon_ctx_t *d;
	storecl_t st;
	cfg_t rcfg;
	sanitizer_t w;
	bool w_ready;  /* the converter was started (once per run) */
	/* the last release tried in this run: the next one comes after it */
	char after_at[SW_ADDR_MAX + 1], after_id[MUGAI_ID_LEN + 1];
} run_t;

static int release_one(run_t *u, const rel_t *r, int fd, const buf_t *orig)
{
	mail_result_t res;
	buf_t msg;
	int rc = -1;

	mail_result_init(&res);
	buf_init(&msg, orig->len * 2 + NOTICE_TEXT_MAX);
	if (!r->sanitized) {
		if (wrap_original(u->d, r, orig, &msg) == 0)
			rc = deliver_release(u->d, &u->st, r, &msg, &res);
		else
			log_err("release id=%s: cannot build the release message", r->id);
	} else {
		if (!u->w_ready && sanitizer_conv_start(&u->w, &u->rcfg) < 0)
			log_warn("release: cannot start the legacy converter; legacy attachments "
				 "are not converted in this run");
		u->w_ready = true;
		if (sanitize_release(&u->rcfg, &u->w, r, fd, orig->len, &res) == 0)
			rc = deliver_release(u->d, &u->st, r, &res.msg, &res);
		else
			log_warn("release id=%s: no sanitizer worker; stays queued", r->id);
	}
	mail_result_free(&res);
	buf_free(&msg);
	return rc;
}

/* One queued release after the run's last one (u->after_at, u->after_id):
 * 1 done (or failed: it stays queued for the next run, and the run goes
 * on with the next one), 0 none left, -1 store error. */
static int release_next(run_t *u, int *failures)
{
	sw_req_t q = { .type = SW_RELEASE_NEXT, .after_at = u->after_at, .id = u->after_id };
	sw_ans_t a;
	rel_t r = { .n_rcpt = 0 };
	buf_t orig;
	int fd = -1;

	if (storecl_call(&u->st, &q, -1, &a, &fd) < 0) {
		log_err("release: quarantine store: %s", u->st.err);
		return -1;
	}
	if (!a.item) {
		if (fd >= 0)
			close(fd);
		return 0;
	}
	snprintf(u->after_at, sizeof(u->after_at), "%s", a.approved_at ? a.approved_at : "");
	snprintf(u->after_id, sizeof(u->after_id), "%s", a.id);
	buf_init(&orig, (size_t)lim(&u->d->cfg.lim, LIM_MESSAGE_SIZE) + 1);
	if (rel_load(&r, &a) < 0 || r.n_rcpt == 0) {
		log_err("release id=%s: no envelope recipients stored (or out of memory); deliver "
			"it by hand (mugai quarantine get)", a.id);
		(*failures)++;
	} else if (fd < 0 || storecl_read_memfd(fd, a.orig_len, (size_t)lim(&u->d->cfg.lim, LIM_MESSAGE_SIZE), &orig) < 0) {
		log_err("release id=%s: cannot read the original from the store process", r.id);
		(*failures)++;
	} else if (release_one(u, &r, fd, &orig) < 0) {
		(*failures)++;
	}
	if (fd >= 0)
		close(fd);
	buf_free(&orig);
	rel_free(&r);
	return 1;
}

int release_run(const daemon_ctx_t *d, int store_fd)
{
	static run_t u;
	int failures = 0;

	u.d = d;
	storecl_init(&u.st, store_fd, &d->cfg);
	/* this run's policy: attachments = sanitize (a shallow copy) */
	if (cfg_copy_enum(&d->cfg, CFG_ATTACHMENTS, "sanitize", &u.rcfg) < 0)
		u.rcfg = d->cfg;
	sanitizer_init(&u.w);
	/* the worker's fixed zone (sandbox.c), as a session sets it */
	if (setenv("TZ", "UTC0", 1) == 0)
		tzset();
	u.after_at[0] = u.after_id[0] = '\0';
	for (int i = 0; i < RELEASES_PER_RUN; i++)
		if (release_next(&u, &failures) <= 0)
			break;
	sanitizer_stop(&u.w);
	if (outbox_run(d, &u.st) < 0)
		failures++;
	if (ppap_expire_run(d, &u.st) < 0) /* a failed release does not hold it back */
		failures++;
	storecl_close(&u.st);
	return failures ? 1 : 0;
}
