/*
 * msgcore.c — the per-message core shared by mugaid's two fronts (see
 * msgcore.h): their input buffer, then spool, id, worker, store, the log
 * line, counters and store marks. The front owns the protocol and the
 * reply.
 *
 * A worker crash, timeout or limit is a verdict, not a failure: the
 * notice-only result is passed on and the original quarantined. No worker
 * at all, or a store failure, is our own failure: the front answers 4xx.
 *
 * SECURITY: runs in the session process under its seccomp policy (nothing
 * that opens a path); the spool is sealed before the worker or the store
 * sees it, so both see the same bytes.
 */
#include "daemon/msgcore.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "common/json.h"
#include "common/log.h"
#include "daemon/av.h"
#include "daemon/ppap.h"
#include "store/blob.h"

volatile sig_atomic_t msgcore_stopping;

long long msgcore_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- input ---- */

msgcore_in_rc_t msgcore_in_fill(msgcore_in_t *in, int fd, long long timeout_ms, bool stoppable)
{
	long long deadline = msgcore_now_ms() + timeout_ms;

	if (in->off) {
		memmove(in->buf, in->buf + in->off, in->len - in->off);
		in->len -= in->off;
		in->off = 0;
	}
	if (in->len == in->cap)
		return MC_IN_END;
	for (;;) {
		struct pollfd pf = { fd, POLLIN, 0 };
		ssize_t n;

		if (stoppable && msgcore_stopping)
			return MC_IN_STOP;
		if (msgcore_now_ms() > deadline)
			return MC_IN_TIMEOUT;
		if (poll(&pf, 1, 1000) <= 0)
			continue;
		n = recv(fd, in->buf + in->len, in->cap - in->len, 0);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n <= 0)
			return MC_IN_END;
		in->len += (size_t)n;
		return MC_IN_MORE;
	}
}

/* ---- spool ---- */

int msgcore_spool_open(msgcore_spool_t *sp, size_t max)
{
	memset(sp, 0, sizeof(*sp));
	sp->max = max;
	sp->stage = malloc(SPOOL_CHUNK); /* (without it, every piece is a write) */
	sp->fd = memfd_create("mugaid-spool", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (sp->fd >= 0)
		return 0;
	free(sp->stage);
	sp->stage = NULL;
	return -1;
}

static void write_out(msgcore_spool_t *sp, const char *p, size_t n)
{
	while (n && !sp->failed) {
		ssize_t w = write(sp->fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			sp->failed = true;
			return;
		}
		p += w;
		n -= (size_t)w;
	}
}

static void unstage(msgcore_spool_t *sp)
{
	write_out(sp, sp->stage, sp->staged);
	sp->staged = 0;
}

void msgcore_spool_write(msgcore_spool_t *sp, const char *p, size_t n)
{
	if (sp->too_big || sp->failed || n == 0)
		return;
	if (sp->len + n > sp->max) {
		sp->too_big = true;
		return;
	}
	sp->len += n;
	if (sp->stage && n <= SPOOL_CHUNK - sp->staged) {
		memcpy(sp->stage + sp->staged, p, n);
		sp->staged += n;
		return;
	}
	unstage(sp);
	if (sp->stage && n < SPOOL_CHUNK) {
		memcpy(sp->stage, p, n);
		sp->staged = n;
		return;
	}
	write_out(sp, p, n);
}

int msgcore_spool_seal(msgcore_spool_t *sp)
{
	unstage(sp);
	if (sp->failed ||
	    fcntl(sp->fd, F_ADD_SEALS, F_SEAL_WRITE | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) < 0)
		return -1;
	sp->map = sp->len ? mmap(NULL, sp->len, PROT_READ, MAP_SHARED, sp->fd, 0) : "";
	if (sp->map == MAP_FAILED) {
		sp->map = NULL;
		return -1;
	}
	return 0;
}

void msgcore_spool_close(msgcore_spool_t *sp)
{
	free(sp->stage);
	sp->stage = NULL;
	sp->staged = 0;
	if (sp->map && sp->len)
		munmap((void *)sp->map, sp->len);
	if (sp->fd >= 0)
		close(sp->fd);
	sp->fd = -1;
	sp->map = NULL;
}

/* ---- one message ---- */

void msgcore_job_init(msgjob_t *j)
{
	memset(j, 0, sizeof(*j));
	j->t0 = msgcore_now_ms();
	mail_result_init(&j->res);
}

void msgcore_job_free(msgjob_t *j)
{
	mail_result_free(&j->res);
}

/* A virus withholds the message and its report names it (the store lets
 * only an administrator release such an entry): a worker result that
 * does not is a lying worker, replaced by the session's own notice. */
static bool worker_kept_virus(const msgjob_t *j)
{
	return !j->facts.virus[0] ||
	       (j->res.verdict == VERDICT_QUARANTINED && report_json_has_virus(j->res.report.data));
}

/* Worker result, or the notice-only failure result. -1: no worker (4xx). */
static int sanitize(msgproc_t *p, const msgenv_t *e, const msgcore_spool_t *sp, msgjob_t *j)
{
	const cfg_t *cfg = &p->d->cfg;
	buf_t blob;
	worker_status_t st;
	long started = p->worker.started;
	int rc = -1;

	buf_init(&blob, UNCAPPED_BY(LIM_RESULT_SIZE)); /* sanitizer_job cuts there */
	st = sanitizer_job_facts(&p->worker, cfg, j->id, e->from, &j->facts, sp->fd, sp->len,
				 &blob, &j->sig);
	metrics_add(M_W_STARTED, (uint64_t)(p->worker.started - started));
	j->worker = worker_status_name(st);
	if (st == WORKER_OK && mail_wire_decode(blob.data, blob.len, &j->res) == 0 &&
	    worker_kept_virus(j))
		rc = 0;
	else if (st == WORKER_OK)
		j->worker = "bad-result";
	buf_free(&blob);
	if (rc == 0 || st == WORKER_NO_SANDBOX || st == WORKER_SYSERR)
		return rc;
	metrics_add(st == WORKER_TIMEOUT ? M_W_TIMEOUT : st == WORKER_TOO_BIG ? M_W_TOO_BIG : M_W_CRASH, 1);
	log_warn("id=%s worker failure: %s%s%d; the original is quarantined, a notice delivered",
		 j->id, j->worker, j->sig ? " signal=" : " exit", j->sig);
	return mail_result_failure_facts(cfg, j->id, e->from, &j->facts, j->worker, sp->len,
					 &j->res);
}

/* The antivirus answer in the audit details (signature and error: ASCII
 * from clamd_reply_parse and av.c, through the JSON escaper). */
static void av_details(json_t *w, const mail_facts_t *f)
{
	if (!f->av[0])
		return;
	json_key(w, "antivirus");
	json_str(w, f->av);
	if (f->virus[0]) {
		json_key(w, "virus");
		json_str(w, f->virus);
	}
	if (f->av_error[0]) {
		json_key(w, "antivirus_error");
		json_str(w, f->av_error);
	}
}

/* Details of the mail.verdict audit record, written with the put. */
static int verdict_details(const msgproc_t *p, const msgenv_t *e, const msgjob_t *j,
			   size_t len, buf_t *b)
{
	json_t w;

	json_init(&w, b);
	json_obj_begin(&w);
	json_key(&w, "verdict");
	json_str(&w, report_verdict_name(j->res.verdict));
	json_key(&w, "bytes");
	json_int(&w, (long long)len);
	json_key(&w, "worker");
	json_str(&w, j->worker);
	json_key(&w, "queue_id");
	json_str(&w, e->ident);
	json_key(&w, "config_digest");
	json_str(&w, p->d->cfg_digest);
	if (j->retry) {
		json_key(&w, "retry");
		json_bool(&w, true);
	}
	if (j->res.output_check[0]) {
		json_key(&w, "output_check");
		json_str(&w, j->res.output_check);
	}
	av_details(&w, &j->facts);
	json_obj_end(&w);
	return json_finish(&w);
}

/* A failed call: the reason for the 451 ("disk full" stays ASCII, the
 * log says it in full). A broken channel ends this session after its
 * connection: the master restarts the store process and then the session. */
static int store_failed(msgproc_t *p, msgjob_t *j, const char *what)
{
	storecl_t *c = &p->store;

	snprintf(j->why, sizeof(j->why), "%s", c->cls == SW_E_FULL ? "disk full" : c->err);
	log_err("id=%s quarantine store (%s): %s: %s", j->id, what, storewire_class_name(c->cls),
		c->err);
	if (c->fd < 0)
		msgcore_stopping = 1;
	return -1;
}

/* Original + report durable in the store, verdict audited: one PUT (the
 * store process writes them in one transaction), or, when an earlier
 * attempt stored it, this attempt's verdict only. Sent here; its answer
 * is read by msgcore_stored. */
static int store_begin(msgproc_t *p, const msgenv_t *e, const msgcore_spool_t *sp, msgjob_t *j)
{
	size_t n = j->res.report.len;
	char *rep = NULL;
	sw_req_t q = { .type = SW_PUT, .id = j->id, .received = (int64_t)time(NULL),
		       .env_from = e->from, .rcpt = (const char **)e->rcpt, .n_rcpt = e->n_rcpt,
		       .hdr_from = j->res.from, .subject = j->res.subject,
		       .verdict = ppap_verdict(&p->d->cfg, &j->res), .queue_id = e->ident,
		       .orig_len = sp->len };
	buf_t det;
	int rc;

	while (n && j->res.report.data[n - 1] == '\n')
		n--;
	buf_init(&det, SESSION_DETAILS_MAX);
	rc = verdict_details(p, e, j, sp->len, &det);
	q.details = det.data;
	if (rc == 0 && j->retry) {
		q = (sw_req_t){ .type = SW_AUDIT, .action = "mail.verdict", .object = j->id,
				.details = det.data };
		rc = storecl_begin(&p->store, &q, -1);
	} else if (rc == 0) {
		rep = strndup(j->res.report.data ? j->res.report.data : "", n);
		q.report = rep;
		rc = rep ? storecl_begin(&p->store, &q, sp->fd) : -1;
	}
	if (rc < 0)
		rc = store_failed(p, j, j->retry ? "verdict" : "put");
	buf_free(&det);
	free(rep);
	return rc;
}

/* Items removed, counted in the report without parsing it: the key
 * "reason": appears once per removed item (a string value cannot contain
 * it unescaped). */
static int removed_count(const buf_t *report)
{
	int n = 0;

	for (const char *p = report->data; p && (p = strstr(p, "\"reason\":")); p++)
		n++;
	return n;
}

static void log_line(const msgenv_t *e, const msgjob_t *j, size_t len, const char *status)
{
	char to[SESSION_LOG_RCPT_MAX];
	size_t k = 0;

	to[0] = '\0';
	for (size_t i = 0; i < e->n_rcpt && k < sizeof(to) - 4; i++)
		k += (size_t)snprintf(to + k, sizeof(to) - k, "%s<%s>", i ? "," : "", e->rcpt[i]);
	log_info("id=%s queue_id=%s client=%s from=<%s> to=%s size=%zu verdict=%s removed=%d "
		 "worker=%s ms=%lld status=%s (%s)", j->id, e->ident[0] ? e->ident : "-", e->client,
		 e->from, to, len, j->res.msg.len || j->worker ? report_verdict_name(j->res.verdict) : "-",
		 removed_count(&j->res.report), j->worker ? j->worker : "-",
		 msgcore_now_ms() - j->t0, status, j->why);
}

/* FIND's answer: an earlier attempt's entry whose delivery never
 * completed (same queue id, same original) gives this message its id. */
static void found(msgproc_t *p, msgjob_t *j)
{
	sw_ans_t a;

	if (storecl_end(&p->store, &a, NULL) == 0 && a.id[0]) {
		snprintf(j->id, sizeof(j->id), "%s", a.id);
		j->retry = true;
	}
}

/* SEEN's answer into j->facts.first_contact: 0 the store has a message
 * from this sender other than this one, 1 it has none; a store that
 * cannot answer leaves it unknown (-1: no warning, no 451). */
static void seen(msgproc_t *p, msgjob_t *j, int rc)
{
	sw_ans_t a;

	if (rc == 0)
		rc = storecl_end(&p->store, &a, NULL);
	if (rc < 0) {
		log_warn("id=%s quarantine store: first-contact lookup failed: %s", j->id,
			 p->store.err);
		return;
	}
	j->facts.first_contact = a.id && a.id[0] ? 0 : 1;
}

/* The id of this message and its first contact (issue #11), in one round
 * trip to the store: FIND (the entry of an earlier attempt) and SEEN (a
 * message from this envelope sender within first_contact_days) go out
 * together. SEEN names the new id drawn first; when FIND gives an earlier
 * attempt's id instead, SEEN is asked again naming that one, whose own
 * entry must not count. -1: no id could be drawn. */
static int lookups(msgproc_t *p, const msgenv_t *e, const msgcore_spool_t *sp, msgjob_t *j)
{
	long long days = cfg_int(&p->d->cfg, CFG_FIRST_CONTACT_DAYS);
	char hex[65];
	sw_req_t find = { .type = SW_FIND, .queue_id = e->ident, .hash = hex };
	sw_req_t ask = { .type = SW_SEEN, .env_from = e->from,
			 .received = (int64_t)time(NULL) - (int64_t)days * 86400, .id = j->id };
	bool by_find, by_seen = days > 0 && e->from[0];

	j->facts.first_contact = -1;
	if (mugai_id_new(j->id) < 0)
		return -1;
	by_find = e->ident[0] && blob_sha256(sp->map ? sp->map : "", sp->len, hex) == 0 &&
		  storecl_begin(&p->store, &find, -1) == 0;
	if (by_seen) {
		int rc = storecl_begin(&p->store, &ask, -1);

		if (by_find)
			found(p, j);
		seen(p, j, rc);
		if (j->retry) { /* ask.id is j->id, which now holds the earlier attempt's id */
			j->facts.first_contact = -1;
			seen(p, j, storecl_begin(&p->store, &ask, -1));
		}
	} else if (by_find) {
		found(p, j);
	}
	return 0;
}

/* Test hook (it can only make the session fail, never weaken it):
 * MUGAID_TEST_SESSION=open:PATH opens PATH for writing, truncating it, as
 * each message's processing starts (the policy is in force by then): the
 * policy must kill the session (SIGSYS) before anything is truncated. */
static void test_hook(void)
{
	const char *hook = getenv("MUGAID_TEST_SESSION");

	if (hook && strncmp(hook, "open:", 5) == 0)
		(void)!open(hook + 5, O_WRONLY | O_TRUNC | O_CLOEXEC);
}

/* The antivirus second opinion (issue #11), from the spool, before the
 * worker: its answer goes to the worker in j->facts. -1: answer 451
 * (clamd failed and antivirus_on_error = tempfail). */
static int antivirus(msgproc_t *p, const msgcore_spool_t *sp, msgjob_t *j)
{
	const cfg_t *cfg = &p->d->cfg;
	const av_target_t *t = &p->d->av;
	mail_facts_t *f = &j->facts;
	av_result_t r;

	if (t->kind == AV_NONE)
		return 0;
	av_scan(t, sp->map ? sp->map : "", sp->len, (int)lim(&cfg->lim, LIM_ANTIVIRUS_TIMEOUT), &r);
	if (r.verdict == CLAMD_CLEAN) {
		snprintf(f->av, sizeof(f->av), "clean");
		return 0;
	}
	if (r.verdict == CLAMD_FOUND) {
		metrics_add(M_AV_VIRUS, 1);
		snprintf(f->av, sizeof(f->av), "virus");
		snprintf(f->virus, sizeof(f->virus), "%s", r.sig);
		log_warn("id=%s antivirus: virus %s found; the original is quarantined", j->id, r.sig);
		return 0;
	}
	metrics_add(M_AV_ERROR, 1);
	if (cfg_is(cfg, CFG_ANTIVIRUS_ON_ERROR, "continue")) {
		log_warn("id=%s antivirus: %s; continuing without it (antivirus_on_error = continue)",
			 j->id, r.why);
		snprintf(f->av, sizeof(f->av), "error");
		snprintf(f->av_error, sizeof(f->av_error), "%s", r.why);
		return 0;
	}
	snprintf(j->why, sizeof(j->why), "%s", r.why);
	return -1;
}

static int failed(msgjob_t *j, metric_id_t m, const char *code, const char *what)
{
	j->fail = m;
	j->code = code;
	j->what = what;
	return -1;
}

int msgcore_run(msgproc_t *p, const msgenv_t *e, const msgcore_spool_t *sp, msgjob_t *j)
{
	test_hook();
	metrics_add(M_MSG_IN, 1);
	metrics_add(M_BYTES_IN, sp->len);
	if (lookups(p, e, sp, j) < 0)
		return failed(j, M_TF_WORKER, "4.3.0", "no sanitizer worker available");
	if (antivirus(p, sp, j) < 0)
		return failed(j, M_TF_ANTIVIRUS, "4.7.0", "antivirus unavailable");
	if (sanitize(p, e, sp, j) < 0)
		return failed(j, M_TF_WORKER, "4.3.0", "no sanitizer worker available");
	if (store_begin(p, e, sp, j) < 0)
		return failed(j, M_TF_STORE, "4.3.0", "quarantine store unavailable");
	return 0;
}

int msgcore_stored(msgproc_t *p, msgjob_t *j)
{
	sw_ans_t a;

	if (storecl_end(&p->store, &a, NULL) == 0)
		return 0;
	store_failed(p, j, j->retry ? "verdict" : "put");
	return failed(j, M_TF_STORE, "4.3.0", "quarantine store unavailable");
}

void msgcore_ppap(msgproc_t *p, const msgenv_t *e, const msgcore_spool_t *sp, const msgjob_t *j)
{
	ppap_msg_t m = { .id = j->id, .env_from = e->from, .hdr_from = j->res.from,
			 .rcpt = (const char *const *)e->rcpt, .n_rcpt = e->n_rcpt, .fd = sp->fd,
			 .len = sp->len, .res = &j->res };

	if (j->res.ppap_candidates)
		ppap_pair(p->d, &p->worker, &p->store, &m);
}

void msgcore_tempfail_text(const msgjob_t *j, char *out, size_t n)
{
	snprintf(out, n, "Error: %s%s%s, try again later", j->what ? j->what : "internal error",
		 j->why[0] ? ": " : "", j->why);
}

void msgcore_deferred(const msgproc_t *p, const msgenv_t *e, const msgjob_t *j, size_t len)
{
	(void)p;
	metrics_add(j->fail, 1);
	log_line(e, j, len, "deferred");
}

void msgcore_hop_deferred(msgproc_t *p, const msgjob_t *j)
{
	sw_req_t q = { .type = SW_AUDIT, .action = "mail.deferred", .object = j->id,
		       .details = "{}" };
	sw_ans_t a;

	if (storecl_call(&p->store, &q, -1, &a, NULL) < 0)
		log_warn("id=%s quarantine store: cannot record the deferral: %s", j->id,
			 p->store.err);
}

void msgcore_sent(msgproc_t *p, const msgenv_t *e, const msgjob_t *j, size_t len)
{
	sw_req_t q = { .type = SW_DELIVERED, .id = j->id };
	char what[MUGAI_ID_LEN + 64];

	/* not waited for: its answer is read before the next store request,
	 * while the store commits it with the other sessions' puts */
	snprintf(what, sizeof(what), "id=%s quarantine store: cannot mark delivered", j->id);
	if (storecl_send(&p->store, &q, what) < 0)
		log_warn("%s: %s", what, p->store.err);
	metrics_add(M_MSG_DELIVERED, 1);
	metrics_add(j->res.verdict == VERDICT_CLEAN ? M_V_CLEAN
		    : j->res.verdict == VERDICT_SANITIZED ? M_V_SANITIZED : M_V_QUARANTINED, 1);
	metrics_add(M_MS_SUM, (uint64_t)(msgcore_now_ms() - j->t0));
	metrics_add(M_MS_COUNT, 1);
	log_line(e, j, len, "sent");
}
