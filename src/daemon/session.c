/*
 * session.c — a session process of mugaid: accept connections on the
 * shared listening socket and speak ESMTP to the upstream MTA. Per message:
 * spool DATA into a sealed memfd, optionally stream it to clamd (antivirus,
 * av.c) and ask the store for first contact, sanitize it in this process's
 * sandboxed worker, put the original and report into the quarantine store,
 * deliver the rebuilt message to the next hop, and only then answer 250.
 *
 * Replies (RFC 3463 enhanced codes):
 *   250 2.0.0  stored and delivered ("queued as" the store id)
 *   451 4.3.0  no sanitizer worker, spool or store failure (Postfix retries)
 *   451 4.7.0  antivirus (clamd) unreachable, slow or in error, with
 *              antivirus_on_error = tempfail
 *   451 4.4.x  next hop down, slow or refusing (retry)
 *   452 4.5.3  too many recipients (the client sends the rest later)
 *   552 5.3.4  message larger than message_size_max (also announced by SIZE)
 *   521 5.5.2  bare <CR> or <LF> (then the connection is closed, as Postfix)
 *   421 4.3.2  shutting down; 421 4.4.2 timeout; 421 4.7.0 too many errors
 * A worker crash, timeout or limit is a verdict, not a failure: the
 * notice-only message is delivered and the original quarantined. After
 * the 250, a message with PPAP password candidates is paired with the held
 * originals it may open (daemon/ppap.c); a message holding an encrypted
 * zip is stored as ppap-pending.
 *
 * RFCs: RFC 5321, 1870 (SIZE), 2920 (PIPELINING: replies are buffered
 * until the input runs dry), 6152 (8BITMIME), 6531 (SMTPUTF8), 2034/3463.
 *
 * The quarantine store is another process (mugaid-store, storeproc.c) reached
 * over this session's socketpair (store/storewire.h): the session never
 * opens state_dir and does not link SQLite.
 *
 * SECURITY: runs as the unprivileged user under its own seccomp policy
 * (sandbox_enter_session: nothing that opens a path, except a Maildir next
 * hop's calls), holds the client socket, its store socket and the worker's
 * socket, and for one message a socket to clamd; never parses the message
 * itself (clamd's reply only through clamd_reply_parse).
 */
#include "daemon/daemon.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "common/id.h"
#include "common/json.h"
#include "common/log.h"
#include "daemon/av.h"
#include "daemon/metrics.h"
#include "daemon/ppap.h"
#include "daemon/sanitizer.h"
#include "daemon/smtp.h"
#include "mail/wire.h"
#include "common/sandbox.h"
#include "daemon/storeclient.h"
#include "store/blob.h"

static volatile sig_atomic_t stopping;

typedef struct proc {
	const daemon_ctx_t *d;
	sanitizer_t worker;
	storecl_t store;  /* this session's store process */
} proc_t;

typedef struct sess {
	proc_t *p;
	const cfg_t *cfg;
	int fd;
	char *in;
	size_t in_len, in_off, in_cap;
	buf_t out;
	bool quit, helo, esmtp, mail, smtputf8;
	int errors;
	char from[SMTP_PATH_MAX + 1];
	char ident[SMTP_IDENT_MAX + 1];
	char client[64];
	char **rcpt;
	size_t n_rcpt;
} sess_t;

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- output ---- */

static void reply(sess_t *s, const char *line)
{
	if (buf_puts(&s->out, line) < 0 || buf_puts(&s->out, "\r\n") < 0)
		s->quit = true;
}

static void replyf(sess_t *s, const char *fmt, ...) MUGAI_PRINTF(2, 3);
static void replyf(sess_t *s, const char *fmt, ...)
{
	char line[SMTP_REPLY_LINE_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	reply(s, line);
}

static int flush(sess_t *s)
{
	size_t off = 0;

	while (off < s->out.len) {
		ssize_t w = send(s->fd, s->out.data + off, s->out.len - off, MSG_NOSIGNAL);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			s->quit = true;
			buf_reset(&s->out);
			return -1;
		}
		off += (size_t)w;
	}
	buf_reset(&s->out);
	return 0;
}

/* ---- input ---- */

/* Compact, flush pending replies (PIPELINING), wait and read more.
 * 0, or -1 on EOF, timeout, error or (when idle) shutdown. */
static int fill(sess_t *s, bool idle)
{
	long long deadline = now_ms() + lim(&s->cfg->lim, LIM_SMTP_TIMEOUT) * 1000;
	ssize_t n;

	if (s->in_off) {
		memmove(s->in, s->in + s->in_off, s->in_len - s->in_off);
		s->in_len -= s->in_off;
		s->in_off = 0;
	}
	if (flush(s) < 0 || s->in_len == s->in_cap)
		return -1;
	for (;;) {
		struct pollfd pf = { s->fd, POLLIN, 0 };

		if (idle && stopping) {
			reply(s, "421 4.3.2 mugaid shutting down, try again later");
			return -1;
		}
		if (now_ms() > deadline) {
			reply(s, "421 4.4.2 Error: timeout exceeded");
			return -1;
		}
		if (poll(&pf, 1, 1000) <= 0)
			continue;
		n = recv(s->fd, s->in + s->in_len, s->in_cap - s->in_len, 0);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n <= 0)
			return -1;
		s->in_len += (size_t)n;
		return 0;
	}
}

/* Next command line: 1 with the line and its length, 0 to end the session. */
static int next_line(sess_t *s, const char **line, size_t *len)
{
	size_t max = (size_t)lim(&s->cfg->lim, LIM_SMTP_LINE_LENGTH), used;

	for (;;) {
		smtp_line_t r = smtp_line_find(s->in + s->in_off, s->in_len - s->in_off, max, len,
					       &used);

		if (r == SMTP_LINE_OK) {
			*line = s->in + s->in_off;
			s->in_off += used;
			return 1;
		}
		if (r == SMTP_LINE_TOO_LONG)
			reply(s, "500 5.5.2 Error: line too long");
		else if (r == SMTP_LINE_BARE_LF)
			reply(s, "521 5.5.2 Error: bare <LF> received");
		else if (r == SMTP_LINE_BARE_CR)
			reply(s, "521 5.5.2 Error: bare <CR> received");
		if (r != SMTP_LINE_MORE || fill(s, true) < 0)
			return 0;
	}
}

/* ---- transaction ---- */

static void reset_tx(sess_t *s)
{
	for (size_t i = 0; i < s->n_rcpt; i++)
		free(s->rcpt[i]);
	free(s->rcpt);
	s->rcpt = NULL;
	s->n_rcpt = 0;
	s->mail = s->smtputf8 = false;
	s->from[0] = '\0';
	s->ident[0] = '\0';
}

static void do_ehlo(sess_t *s, bool esmtp)
{
	const char *h = s->p->d->hostname;

	reset_tx(s);
	s->helo = true;
	s->esmtp = esmtp;
	if (!esmtp) {
		replyf(s, "250 %s", h);
		return;
	}
	replyf(s, "250-%s", h);
	reply(s, "250-PIPELINING");
	replyf(s, "250-SIZE %lld", lim(&s->cfg->lim, LIM_MESSAGE_SIZE));
	reply(s, "250-8BITMIME");
	reply(s, "250-SMTPUTF8");
	reply(s, "250-XFORWARD NAME ADDR PROTO HELO IDENT SOURCE");
	reply(s, "250 ENHANCEDSTATUSCODES");
}

static const char *mail_check(const sess_t *s, const smtp_cmd_t *c)
{
	if (!s->helo)
		return "503 5.5.1 Error: send HELO/EHLO first";
	if (s->mail)
		return "503 5.5.1 Error: nested MAIL command";
	if (c->size > lim(&s->cfg->lim, LIM_MESSAGE_SIZE))
		return "552 5.3.4 Message size exceeds fixed limit";
	if (c->path_utf8 && !c->smtputf8)
		return "553 5.6.7 Must declare SMTPUTF8 to send unicode address";
	return NULL;
}

static void do_mail(sess_t *s, const smtp_cmd_t *c)
{
	const char *err = mail_check(s, c);

	if (err) {
		reply(s, err);
		return;
	}
	snprintf(s->from, sizeof(s->from), "%s", c->path);
	s->smtputf8 = c->smtputf8;
	s->mail = true;
	reply(s, "250 2.1.0 Ok");
}

static const char *rcpt_check(const sess_t *s, const smtp_cmd_t *c)
{
	if (!s->mail)
		return "503 5.5.1 Error: need MAIL command";
	if ((long long)s->n_rcpt >= lim(&s->cfg->lim, LIM_SMTP_RECIPIENTS))
		return "452 4.5.3 Error: too many recipients";
	if (c->path_utf8 && !s->smtputf8)
		return "553 5.6.7 Must declare SMTPUTF8 to send unicode address";
	return NULL;
}

static void do_rcpt(sess_t *s, const smtp_cmd_t *c)
{
	const char *err = rcpt_check(s, c);
	char **n = err ? NULL : realloc(s->rcpt, (s->n_rcpt + 1) * sizeof(*n));

	if (n)
		s->rcpt = n;
	if (!err && (!n || !(n[s->n_rcpt] = strdup(c->path))))
		err = "451 4.3.0 Error: out of memory";
	if (err) {
		reply(s, err);
		return;
	}
	s->n_rcpt++;
	reply(s, "250 2.1.5 Ok");
}

static void do_xforward(sess_t *s, const smtp_cmd_t *c)
{
	if (!s->esmtp || s->mail) {
		reply(s, "503 5.5.1 Error: XFORWARD not allowed here");
		return;
	}
	if (c->ident[0])
		snprintf(s->ident, sizeof(s->ident), "%s", c->ident);
	reply(s, "250 2.0.0 Ok");
}

/* ---- DATA: spool into a memfd ---- */

typedef struct spool {
	int fd;
	size_t len;
	bool too_big, failed;
	const char *map;
} spool_t;

static int spool_write(spool_t *sp, const char *p, size_t n, size_t max)
{
	if (sp->too_big || sp->failed || n == 0)
		return 0;
	if (sp->len + n > max) {
		sp->too_big = true;
		return 0;
	}
	while (n) {
		ssize_t w = write(sp->fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			sp->failed = true;
			return 0;
		}
		p += w;
		n -= (size_t)w;
		sp->len += (size_t)w;
	}
	return 0;
}

/* Read DATA up to the final "."; 0 when complete, -1 to end the session. */
static int read_data(sess_t *s, spool_t *sp)
{
	size_t max = (size_t)lim(&s->cfg->lim, LIM_MESSAGE_SIZE);
	char *out = malloc(SPOOL_CHUNK + 1);
	smtp_data_t d;
	int rc = -1;

	smtp_data_init(&d);
	while (out) {
		size_t avail = s->in_len - s->in_off, n = avail < SPOOL_CHUNK ? avail : SPOOL_CHUNK;
		size_t olen, used;
		smtp_data_status_t st = smtp_data_feed(&d, s->in + s->in_off, n, out, &olen, &used);

		s->in_off += used;
		(void)spool_write(sp, out, olen, max);
		if (st == SMTP_DATA_DONE) {
			rc = 0;
			break;
		}
		if (st != SMTP_DATA_MORE) {
			metrics_add(M_REJ_BARE, 1);
			replyf(s, "521 5.5.2 Error: bare <%s> received", st == SMTP_DATA_BARE_CR ? "CR" : "LF");
			break;
		}
		if (s->in_off == s->in_len && fill(s, false) < 0)
			break;
	}
	free(out);
	return rc;
}

static int spool_open(spool_t *sp)
{
	memset(sp, 0, sizeof(*sp));
	sp->fd = memfd_create("mugaid-spool", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	return sp->fd < 0 ? -1 : 0;
}

/* Seal against any change (the worker and the store see the same bytes)
 * and map for the store. */
static int spool_seal(spool_t *sp)
{
	if (fcntl(sp->fd, F_ADD_SEALS, F_SEAL_WRITE | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) < 0)
		return -1;
	sp->map = sp->len ? mmap(NULL, sp->len, PROT_READ, MAP_SHARED, sp->fd, 0) : "";
	if (sp->map == MAP_FAILED) {
		sp->map = NULL;
		return -1;
	}
	return 0;
}

static void spool_close(spool_t *sp)
{
	if (sp->map && sp->len)
		munmap((void *)sp->map, sp->len);
	if (sp->fd >= 0)
		close(sp->fd);
	sp->fd = -1;
	sp->map = NULL;
}

/* ---- one message: sanitize, store, deliver ---- */

typedef struct msgjob {
	char id[MUGAI_ID_LEN + 1];
	mail_result_t res;
	const char *worker;   /* "ok" or the failure name */
	int sig;
	char why[SESSION_WHY_MAX];       /* next hop reply or failure */
	long long t0;
	bool retry;           /* an earlier attempt's entry is reused (same queue id + digest) */
	mail_facts_t facts;   /* antivirus answer, first contact: for the worker */
} msgjob_t;

/* A virus withholds the message and its report names it (the store lets
 * only an administrator release such an entry): a worker result that
 * does not is a lying worker, replaced by the session's own notice. */
static bool worker_kept_virus(const msgjob_t *j)
{
	return !j->facts.virus[0] ||
	       (j->res.verdict == VERDICT_QUARANTINED && report_json_has_virus(j->res.report.data));
}

/* Worker result, or the notice-only failure result. -1: no worker (4xx). */
static int sanitize(sess_t *s, const spool_t *sp, msgjob_t *j)
{
	buf_t blob;
	worker_status_t st;
	long started = s->p->worker.started;
	int rc = -1;

	buf_init(&blob, UNCAPPED_BY(LIM_RESULT_SIZE)); /* sanitizer_job cuts there */
	st = sanitizer_job_facts(&s->p->worker, s->cfg, j->id, s->from, &j->facts, sp->fd, sp->len,
				 &blob, &j->sig);
	metrics_add(M_W_STARTED, (uint64_t)(s->p->worker.started - started));
	j->worker = worker_status_name(st);
	if (st == WORKER_OK && mail_wire_decode(blob.data, blob.len, &j->res) == 0 &&
	    worker_kept_virus(j))
		rc = 0;
	else if (st == WORKER_OK)
		j->worker = "bad-result";
	buf_free(&blob);
	if (rc == 0 || (st == WORKER_NO_SANDBOX || st == WORKER_SYSERR))
		return rc;
	metrics_add(st == WORKER_TIMEOUT ? M_W_TIMEOUT : st == WORKER_TOO_BIG ? M_W_TOO_BIG : M_W_CRASH, 1);
	log_warn("id=%s worker failure: %s%s%d; the original is quarantined, a notice delivered",
		 j->id, j->worker, j->sig ? " signal=" : " exit", j->sig);
	return mail_result_failure_facts(s->cfg, j->id, s->from, &j->facts, j->worker, sp->len,
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
static int verdict_details(const sess_t *s, const msgjob_t *j, size_t len, buf_t *b)
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
	json_str(&w, s->ident);
	json_key(&w, "config_digest");
	json_str(&w, s->p->d->cfg_digest);
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
 * connection: the master then starts a new session and store pair. */
static int store_failed(sess_t *s, msgjob_t *j, const char *what)
{
	storecl_t *c = &s->p->store;

	snprintf(j->why, sizeof(j->why), "%s", c->cls == SW_E_FULL ? "disk full" : c->err);
	log_err("id=%s quarantine store (%s): %s: %s", j->id, what, storewire_class_name(c->cls),
		c->err);
	if (c->fd < 0)
		stopping = 1;
	return -1;
}

static int store_call(sess_t *s, const sw_req_t *q, int fd, sw_ans_t *a)
{
	int rfd;
	int rc = storecl_call(&s->p->store, q, fd, a, &rfd);

	if (rfd >= 0) /* a session asks nothing that returns a descriptor */
		close(rfd);
	return rc;
}

/* Original + report durable in the store, verdict audited: one PUT (the
 * store process writes them in one transaction), or, when an earlier
 * attempt stored it, this attempt's verdict only. */
static int store(sess_t *s, const spool_t *sp, msgjob_t *j)
{
	size_t n = j->res.report.len;
	char *rep = NULL;
	sw_req_t q = { .type = SW_PUT, .id = j->id, .received = (int64_t)time(NULL),
		       .env_from = s->from, .rcpt = (const char **)s->rcpt, .n_rcpt = s->n_rcpt,
		       .hdr_from = j->res.from, .subject = j->res.subject,
		       .verdict = ppap_verdict(s->cfg, &j->res), .queue_id = s->ident,
		       .orig_len = sp->len };
	sw_ans_t a;
	buf_t det;
	int rc;

	while (n && j->res.report.data[n - 1] == '\n')
		n--;
	buf_init(&det, SESSION_DETAILS_MAX);
	rc = verdict_details(s, j, sp->len, &det);
	q.details = det.data;
	if (rc == 0 && j->retry) {
		q = (sw_req_t){ .type = SW_AUDIT, .action = "mail.verdict", .object = j->id,
				.details = det.data };
		rc = store_call(s, &q, -1, &a);
	} else if (rc == 0) {
		rep = strndup(j->res.report.data ? j->res.report.data : "", n);
		q.report = rep;
		rc = rep ? store_call(s, &q, sp->fd, &a) : -1;
	}
	if (rc < 0)
		rc = store_failed(s, j, j->retry ? "verdict" : "put");
	buf_free(&det);
	free(rep);
	return rc;
}

static int deliver_msg(sess_t *s, msgjob_t *j, deliver_result_t *r)
{
	const daemon_ctx_t *d = s->p->d;
	deliver_env_t e = { .from = s->from, .rcpt = (const char *const *)s->rcpt,
			    .n_rcpt = s->n_rcpt, .smtputf8 = s->smtputf8, .helo = d->hostname,
			    .id = j->id, .timeout = (int)lim(&s->cfg->lim, LIM_NEXT_HOP_TIMEOUT) };

	int rc = deliver(&d->hop, &e, j->res.msg.data ? j->res.msg.data : "", j->res.msg.len, r);

	snprintf(j->why, sizeof(j->why), "%s", r->text);
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

static void log_line(const sess_t *s, const msgjob_t *j, size_t len, const char *status)
{
	char to[SESSION_LOG_RCPT_MAX];
	size_t k = 0;

	to[0] = '\0';
	for (size_t i = 0; i < s->n_rcpt && k < sizeof(to) - 4; i++)
		k += (size_t)snprintf(to + k, sizeof(to) - k, "%s<%s>", i ? "," : "", s->rcpt[i]);
	log_info("id=%s queue_id=%s client=%s from=<%s> to=%s size=%zu verdict=%s removed=%d "
		 "worker=%s ms=%lld status=%s (%s)", j->id, s->ident[0] ? s->ident : "-", s->client,
		 s->from, to, len, j->res.msg.len || j->worker ? report_verdict_name(j->res.verdict) : "-",
		 removed_count(&j->res.report), j->worker ? j->worker : "-", now_ms() - j->t0, status,
		 j->why);
}

static void tempfail(sess_t *s, msgjob_t *j, metric_id_t m, const char *code, const char *what,
		     size_t len)
{
	char line[TEMPFAIL_LINE_MAX];

	metrics_add(m, 1);
	snprintf(line, sizeof(line), "451 %s Error: %s%s%s, try again later", code, what,
		 j->why[0] ? ": " : "", j->why);
	reply(s, line);
	log_line(s, j, len, "deferred");
}

/* The id of this message: the entry of an earlier attempt whose delivery
 * never completed (same Postfix queue id, same original), or a new one. */
static int message_id(sess_t *s, const spool_t *sp, msgjob_t *j)
{
	char hex[65];
	sw_req_t q = { .type = SW_FIND, .queue_id = s->ident, .hash = hex };
	sw_ans_t a;

	if (s->ident[0] && blob_sha256(sp->map ? sp->map : "", sp->len, hex) == 0 &&
	    store_call(s, &q, -1, &a) == 0 && a.id[0]) {
		snprintf(j->id, sizeof(j->id), "%s", a.id);
		j->retry = true;
		return 0;
	}
	return mugai_id_new(j->id);
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
static int antivirus(sess_t *s, const spool_t *sp, msgjob_t *j)
{
	const av_target_t *t = &s->p->d->av;
	mail_facts_t *f = &j->facts;
	av_result_t r;

	if (t->kind == AV_NONE)
		return 0;
	av_scan(t, sp->map ? sp->map : "", sp->len, (int)lim(&s->cfg->lim, LIM_ANTIVIRUS_TIMEOUT),
		&r);
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
	if (cfg_is(s->cfg, CFG_ANTIVIRUS_ON_ERROR, "continue")) {
		log_warn("id=%s antivirus: %s; continuing without it (antivirus_on_error = continue)",
			 j->id, r.why);
		snprintf(f->av, sizeof(f->av), "error");
		snprintf(f->av_error, sizeof(f->av_error), "%s", r.why);
		return 0;
	}
	snprintf(j->why, sizeof(j->why), "%s", r.why);
	return -1;
}

/* First contact (issue #11): has the store a message from this envelope
 * sender within first_contact_days? Into j->facts for the worker; a store
 * that cannot answer leaves it unknown (no warning, no 451): always 0. */
static int first_contact(sess_t *s, msgjob_t *j)
{
	long long days = cfg_int(s->cfg, CFG_FIRST_CONTACT_DAYS);
	sw_req_t q = { .type = SW_SEEN, .env_from = s->from,
		       .received = (int64_t)time(NULL) - (int64_t)days * 86400, .id = j->id };
	sw_ans_t a;

	j->facts.first_contact = -1;
	if (days <= 0 || !s->from[0])
		return 0;
	if (store_call(s, &q, -1, &a) < 0) {
		log_warn("id=%s quarantine store: first-contact lookup failed: %s", j->id,
			 s->p->store.err);
		return 0;
	}
	j->facts.first_contact = a.id && a.id[0] ? 0 : 1;
	return 0;
}

/* PPAP (ppap.c): a delivered message with password candidates is paired
 * with the held originals it may open; its 250 is sent first. */
static void pair_ppap(sess_t *s, const spool_t *sp, const msgjob_t *j)
{
	ppap_msg_t m = { .id = j->id, .env_from = s->from, .hdr_from = j->res.from,
			 .rcpt = (const char *const *)s->rcpt, .n_rcpt = s->n_rcpt, .fd = sp->fd,
			 .len = sp->len, .res = &j->res };

	if (j->res.ppap_candidates && flush(s) == 0)
		ppap_pair(s->p->d, &s->p->worker, &s->p->store, &m);
}

static void process(sess_t *s, const spool_t *sp)
{
	msgjob_t j = { .t0 = now_ms() };
	deliver_result_t dr;

	mail_result_init(&j.res);
	test_hook();
	metrics_add(M_MSG_IN, 1);
	metrics_add(M_BYTES_IN, sp->len);
	if (message_id(s, sp, &j) < 0) {
		tempfail(s, &j, M_TF_WORKER, "4.3.0", "no sanitizer worker available", sp->len);
	} else if (antivirus(s, sp, &j) < 0) {
		tempfail(s, &j, M_TF_ANTIVIRUS, "4.7.0", "antivirus unavailable", sp->len);
	} else if (first_contact(s, &j) < 0 || sanitize(s, sp, &j) < 0) {
		tempfail(s, &j, M_TF_WORKER, "4.3.0", "no sanitizer worker available", sp->len);
	} else if (store(s, sp, &j) < 0) {
		tempfail(s, &j, M_TF_STORE, "4.3.0", "quarantine store unavailable", sp->len);
	} else if (deliver_msg(s, &j, &dr) < 0) {
		/* every failure is 451 (the upstream retries; mugaid never bounces) */
		tempfail(s, &j, M_TF_NEXT_HOP, dr.code, "next hop", sp->len);
		sw_req_t q = { .type = SW_AUDIT, .action = "mail.deferred", .object = j.id,
			       .details = "{}" };
		sw_ans_t a;

		if (store_call(s, &q, -1, &a) < 0)
			log_warn("id=%s quarantine store: cannot record the deferral: %s", j.id,
				 s->p->store.err);
	} else {
		sw_req_t q = { .type = SW_DELIVERED, .id = j.id };
		sw_ans_t a;

		if (store_call(s, &q, -1, &a) < 0)
			log_warn("id=%s quarantine store: cannot mark delivered: %s", j.id,
				 s->p->store.err);
		metrics_add(M_MSG_DELIVERED, 1);
		metrics_add(j.res.verdict == VERDICT_CLEAN ? M_V_CLEAN
			    : j.res.verdict == VERDICT_SANITIZED ? M_V_SANITIZED : M_V_QUARANTINED, 1);
		metrics_add(M_MS_SUM, (uint64_t)(now_ms() - j.t0));
		metrics_add(M_MS_COUNT, 1);
		replyf(s, "250 2.0.0 Ok: queued as %s", j.id);
		log_line(s, &j, sp->len, "sent");
		pair_ppap(s, sp, &j);
	}
	mail_result_free(&j.res);
}

static void do_data(sess_t *s)
{
	spool_t sp;

	if (!s->mail || !s->n_rcpt) {
		reply(s, s->mail ? "554 5.5.1 Error: no valid recipients"
				 : "503 5.5.1 Error: need MAIL command");
		return;
	}
	if (spool_open(&sp) < 0) {
		metrics_add(M_TF_SPOOL, 1);
		reply(s, "451 4.3.0 Error: cannot spool the message, try again later");
		return;
	}
	reply(s, "354 End data with <CR><LF>.<CR><LF>");
	if (read_data(s, &sp) < 0) {
		s->quit = true;
	} else if (sp.too_big) {
		metrics_add(M_REJ_SIZE, 1);
		reply(s, "552 5.3.4 Error: message file too big");
	} else if (sp.failed || spool_seal(&sp) < 0) {
		metrics_add(M_TF_SPOOL, 1);
		reply(s, "451 4.3.0 Error: cannot spool the message, try again later");
	} else {
		process(s, &sp);
	}
	spool_close(&sp);
	reset_tx(s);
}

static void dispatch(sess_t *s, const smtp_cmd_t *c)
{
	switch (c->verb) {
	case SMTP_HELO: do_ehlo(s, false); break;
	case SMTP_EHLO: do_ehlo(s, true); break;
	case SMTP_MAIL: do_mail(s, c); break;
	case SMTP_RCPT: do_rcpt(s, c); break;
	case SMTP_DATA: do_data(s); break;
	case SMTP_XFORWARD: do_xforward(s, c); break;
	case SMTP_RSET: reset_tx(s); reply(s, "250 2.0.0 Ok"); break;
	case SMTP_NOOP: reply(s, "250 2.0.0 Ok"); break;
	case SMTP_QUIT: reply(s, "221 2.0.0 Bye"); s->quit = true; break;
	case SMTP_VRFY: reply(s, "502 5.5.1 VRFY command is disabled"); break;
	case SMTP_HELP: reply(s, "214 2.0.0 EHLO HELO MAIL RCPT DATA RSET NOOP QUIT XFORWARD"); break;
	case SMTP_BDAT: /* CHUNKING is not announced: its data would read as commands */
		reply(s, "502 5.5.1 Error: BDAT not supported");
		s->quit = true;
		break;
	default: reply(s, "502 5.5.1 Error: command not implemented"); break;
	}
}

static void command(sess_t *s, const char *line, size_t len)
{
	const char *err = NULL;
	smtp_cmd_t c;

	if (smtp_cmd_parse(line, len, &c, &err) == 0) {
		dispatch(s, &c);
		return;
	}
	reply(s, err);
	if (++s->errors >= lim(&s->cfg->lim, LIM_SMTP_ERRORS)) {
		reply(s, "421 4.7.0 Error: too many errors");
		s->quit = true;
	}
}

static void peer_name(int fd, char *out, size_t n)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	char host[INET6_ADDRSTRLEN] = "?";

	if (getpeername(fd, (struct sockaddr *)&ss, &sl) == 0) {
		if (ss.ss_family == AF_INET)
			inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, host, sizeof(host));
		else if (ss.ss_family == AF_INET6)
			inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr, host, sizeof(host));
	}
	snprintf(out, n, "%s", host);
}

static void serve(proc_t *p, int fd)
{
	size_t cap = (size_t)lim(&p->d->cfg.lim, LIM_SMTP_LINE_LENGTH) * 2 + IN_MIN;
	sess_t s = { .p = p, .cfg = &p->d->cfg, .fd = fd, .in = malloc(cap), .in_cap = cap };
	struct timeval tv = { lim(&p->d->cfg.lim, LIM_SMTP_TIMEOUT), 0 };
	const char *line;
	size_t len;

	buf_init(&s.out, SESSION_OUT_MAX);
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	peer_name(fd, s.client, sizeof(s.client));
	if (s.in) {
		replyf(&s, "220 %s ESMTP mugaid", p->d->hostname);
		while (!s.quit && next_line(&s, &line, &len))
			command(&s, line, len);
		(void)flush(&s);
	}
	reset_tx(&s);
	buf_free(&s.out);
	free(s.in);
}

/* ---- the session process ---- */

static void on_term(int sig)
{
	(void)sig;
	stopping = 1;
}

static void setup_signals(pid_t master)
{
	struct sigaction sa = { .sa_handler = on_term };

	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGINT, SIG_IGN);  /* Ctrl-C reaches the whole group: the master decides */
	signal(SIGHUP, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGCHLD, SIG_DFL);
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != master)
		_exit(0);
	prctl(PR_SET_NAME, "mugaid-smtp");
}

static int accept_one(int lfd)
{
	while (!stopping) {
		struct pollfd pf = { lfd, POLLIN, 0 };
		int fd;

		if (poll(&pf, 1, 1000) <= 0)
			continue;
		fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		if (fd >= 0)
			return fd;
	}
	return -1;
}

/* Everything that needs a file or the resolver, or starts a program (the
 * legacy converter), then the policy. */
static int confine(const daemon_ctx_t *d, sanitizer_t *w)
{
	if (sanitizer_conv_start(w, &d->cfg) < 0) {
		log_err("session: cannot start the legacy converter: %s", strerror(errno));
		return -1;
	}
	/* the worker's fixed zone (sandbox.c), set here so that its tzset()
	 * finds it unchanged and looks up no file */
	if (setenv("TZ", "UTC0", 1) < 0)
		return -1;
	tzset();
	if (deliver_prepare(&d->hop) < 0)
		log_warn("next_hop %s: cannot resolve now; the session will try at delivery "
			 "(and its policy refuses the resolver's files)", cfg_str(&d->cfg, CFG_NEXT_HOP));
	/* a unix socket: to syslog, or to clamd (antivirus = clamd:/path) */
	if (sandbox_enter_session(d->hop.kind == HOP_MAILDIR,
				  cfg_is(&d->cfg, CFG_LOG_TARGET, "syslog") ||
				  d->av.kind == AV_UNIX) < 0) {
		log_err("session: cannot enter its seccomp policy: %s", strerror(errno));
		return -1;
	}
	return 0;
}

int session_main(const daemon_ctx_t *d, pid_t master, int store_fd)
{
	proc_t p = { .d = d };
	long served = 0;
	int fd;

	setup_signals(master);
	sanitizer_init(&p.worker);
	storecl_init(&p.store, store_fd, &d->cfg);
	if (confine(d, &p.worker) < 0)
		return 70;
	while (served < cfg_int(&d->cfg, CFG_SESSION_MAX_USE) && !p.worker.conv_dead &&
	       (fd = accept_one(d->listen_fd)) >= 0) {
		served++;
		metrics_add(M_CONNECTIONS, 1);
		serve(&p, fd);
		close(fd);
	}
	sanitizer_stop(&p.worker);
	storecl_close(&p.store);
	return 0;
}
