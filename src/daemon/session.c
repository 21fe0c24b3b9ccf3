/*
 * session.c — a session process of mugaid: accept connections on the
 * shared listening socket and speak ESMTP to the upstream MTA. Per message:
 * spool DATA into a sealed memfd, optionally stream it to clamd (antivirus,
 * av.c) and ask the store for first contact, sanitize it in this process's
 * sandboxed worker, put the original and report into the quarantine store,
 * deliver the rebuilt message to the next hop, and only then answer 250.
 * The steps up to the store are the per-message core (msgcore.c), shared
 * with the milter front (milterfront.c), which this process also serves
 * when milter_listen is set: a session polls both listening sockets.
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
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "daemon/av.h"
#include "daemon/metrics.h"
#include "daemon/ppap.h"
#include "daemon/sanitizer.h"
#include "daemon/smtp.h"
#include "mail/wire.h"
#include "common/sandbox.h"
#include "daemon/milterfront.h"
#include "daemon/msgcore.h"

typedef struct sess {
	msgproc_t *p;
	const cfg_t *cfg;
	int fd;
	msgcore_in_t in;
	buf_t out;
	bool quit, helo, esmtp, mail, smtputf8;
	int errors;
	char from[SMTP_PATH_MAX + 1];
	char ident[SMTP_IDENT_MAX + 1];
	char client[64];
	char **rcpt;
	size_t n_rcpt;
} sess_t;

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

/* Flush pending replies (PIPELINING), then wait and read more. 0, or -1
 * on EOF, timeout, error or (when idle) shutdown. */
static int fill(sess_t *s, bool idle)
{
	msgcore_in_rc_t rc;

	if (flush(s) < 0)
		return -1;
	rc = msgcore_in_fill(&s->in, s->fd, lim(&s->cfg->lim, LIM_SMTP_TIMEOUT) * 1000, idle);
	if (rc == MC_IN_STOP)
		reply(s, "421 4.3.2 mugaid shutting down, try again later");
	else if (rc == MC_IN_TIMEOUT)
		reply(s, "421 4.4.2 Error: timeout exceeded");
	return rc == MC_IN_MORE ? 0 : -1;
}

/* Next command line: 1 with the line and its length, 0 to end the session. */
static int next_line(sess_t *s, const char **line, size_t *len)
{
	size_t max = (size_t)lim(&s->cfg->lim, LIM_SMTP_LINE_LENGTH), used;

	for (;;) {
		smtp_line_t r = smtp_line_find(s->in.buf + s->in.off, s->in.len - s->in.off, max, len,
					       &used);

		if (r == SMTP_LINE_OK) {
			*line = s->in.buf + s->in.off;
			s->in.off += used;
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

/* Read DATA up to the final "."; 0 when complete, -1 to end the session. */
static int read_data(sess_t *s, msgcore_spool_t *sp)
{
	char *out = malloc(SPOOL_CHUNK + 1);
	smtp_data_t d;
	int rc = -1;

	smtp_data_init(&d);
	while (out) {
		size_t avail = s->in.len - s->in.off, n = avail < SPOOL_CHUNK ? avail : SPOOL_CHUNK;
		size_t olen, used;
		smtp_data_status_t st = smtp_data_feed(&d, s->in.buf + s->in.off, n, out, &olen, &used);

		s->in.off += used;
		msgcore_spool_write(sp, out, olen);
		if (st == SMTP_DATA_DONE) {
			rc = 0;
			break;
		}
		if (st != SMTP_DATA_MORE) {
			metrics_add(M_REJ_BARE, 1);
			replyf(s, "521 5.5.2 Error: bare <%s> received", st == SMTP_DATA_BARE_CR ? "CR" : "LF");
			break;
		}
		if (s->in.off == s->in.len && fill(s, false) < 0)
			break;
	}
	free(out);
	return rc;
}

/* ---- one message: the shared core (msgcore.c), then deliver ---- */

/* The gate before the next hop's final dot: the store's answer. */
typedef struct gate {
	msgproc_t *p;
	msgjob_t *j;
	int rc;       /* msgcore_stored's answer, once asked */
	bool asked;
} gate_t;

static int gate_stored(void *arg)
{
	gate_t *g = arg;

	g->asked = true;
	g->rc = msgcore_stored(g->p, g->j);
	return g->rc;
}

/* The rebuilt message to the next hop while the store commits the
 * original: the final dot waits for the store's answer. 0 delivered and
 * durable; -1 j->fail, code, what, why set (the store's failure, or the
 * next hop's after a durable store: then *hop). */
static int deliver_msg(sess_t *s, msgjob_t *j, bool *hop)
{
	const daemon_ctx_t *d = s->p->d;
	gate_t g = { .p = s->p, .j = j };
	deliver_env_t e = { .from = s->from, .rcpt = (const char *const *)s->rcpt,
			    .n_rcpt = s->n_rcpt, .smtputf8 = s->smtputf8, .helo = d->hostname,
			    .id = j->id, .timeout = (int)lim(&s->cfg->lim, LIM_NEXT_HOP_TIMEOUT),
			    .gate = gate_stored, .gate_arg = &g };
	deliver_result_t r;
	int rc = deliver(&d->hop, &e, j->res.msg.data ? j->res.msg.data : "", j->res.msg.len, &r);

	*hop = false;
	if (!g.asked)
		(void)gate_stored(&g);
	if (g.rc < 0)
		return -1;
	snprintf(j->why, sizeof(j->why), "%s", r.text); /* the hop's reply, for the log line */
	if (rc == 0)
		return 0;
	/* every failure is 451 (the upstream retries; mugaid never bounces) */
	j->fail = M_TF_NEXT_HOP;
	j->code = r.code;
	j->what = "next hop";
	*hop = true;
	return -1;
}

static void tempfail(sess_t *s, const msgenv_t *e, const msgjob_t *j, size_t len)
{
	char text[TEMPFAIL_LINE_MAX];

	msgcore_tempfail_text(j, text, sizeof(text));
	replyf(s, "451 %s %s", j->code, text);
	msgcore_deferred(s->p, e, j, len);
}

static void process(sess_t *s, const msgcore_spool_t *sp)
{
	msgenv_t e = { .from = s->from, .rcpt = s->rcpt, .n_rcpt = s->n_rcpt, .ident = s->ident,
		       .client = s->client };
	msgjob_t j;
	bool hop;

	msgcore_job_init(&j);
	if (msgcore_run(s->p, &e, sp, &j) < 0) {
		tempfail(s, &e, &j, sp->len);
	} else if (deliver_msg(s, &j, &hop) < 0) {
		tempfail(s, &e, &j, sp->len);
		if (hop)
			msgcore_hop_deferred(s->p, &j);
	} else {
		/* the 250 goes out before the delivered mark (a store commit the
		 * upstream need not wait for: the original is durable and the
		 * next hop has the message; a mark that fails only warns) */
		replyf(s, "250 2.0.0 Ok: queued as %s", j.id);
		(void)flush(s);
		msgcore_sent(s->p, &e, &j, sp->len);
		if (j.res.ppap_candidates && !s->quit)
			msgcore_ppap(s->p, &e, sp, &j);
	}
	msgcore_job_free(&j);
}

static void do_data(sess_t *s)
{
	msgcore_spool_t sp;

	if (!s->mail || !s->n_rcpt) {
		reply(s, s->mail ? "554 5.5.1 Error: no valid recipients"
				 : "503 5.5.1 Error: need MAIL command");
		return;
	}
	if (msgcore_spool_open(&sp, (size_t)lim(&s->cfg->lim, LIM_MESSAGE_SIZE)) < 0) {
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
	} else if (sp.failed || msgcore_spool_seal(&sp) < 0) {
		metrics_add(M_TF_SPOOL, 1);
		reply(s, "451 4.3.0 Error: cannot spool the message, try again later");
	} else {
		process(s, &sp);
	}
	msgcore_spool_close(&sp);
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

static void serve(msgproc_t *p, int fd)
{
	size_t cap = (size_t)lim(&p->d->cfg.lim, LIM_SMTP_LINE_LENGTH) * 2 + IN_MIN;
	sess_t s = { .p = p, .cfg = &p->d->cfg, .fd = fd, .in = { malloc(cap), 0, 0, cap } };
	struct timeval tv = { lim(&p->d->cfg.lim, LIM_SMTP_TIMEOUT), 0 };
	const char *line;
	size_t len;

	buf_init(&s.out, SESSION_OUT_MAX);
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	peer_name(fd, s.client, sizeof(s.client));
	if (s.in.buf) {
		replyf(&s, "220 %s ESMTP mugaid", p->d->hostname);
		while (!s.quit && next_line(&s, &line, &len))
			command(&s, line, len);
		(void)flush(&s);
	}
	reset_tx(&s);
	buf_free(&s.out);
	free(s.in.buf);
}

/* ---- the session process ---- */

static void on_term(int sig)
{
	(void)sig;
	msgcore_stopping = 1;
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

/* The next connection on listen (SMTP) or milter_listen: its descriptor,
 * *milter telling which, or -1 at shutdown. */
static int accept_one(const daemon_ctx_t *d, bool *milter)
{
	struct pollfd pf[2] = { { d->listen_fd, POLLIN, 0 }, { d->milter_fd, POLLIN, 0 } };
	nfds_t n = d->milter_fd >= 0 ? 2 : 1;

	while (!msgcore_stopping) {
		if (poll(pf, n, 1000) <= 0)
			continue;
		for (nfds_t i = 0; i < n; i++) {
			int fd = pf[i].revents & POLLIN ? accept4(pf[i].fd, NULL, NULL, SOCK_CLOEXEC) : -1;

			if (fd >= 0) {
				*milter = i == 1;
				return fd;
			}
		}
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
	msgproc_t p = { .d = d };
	long served = 0;
	bool milter = false;
	int fd;

	setup_signals(master);
	sanitizer_init(&p.worker);
	storecl_init(&p.store, store_fd, &d->cfg);
	if (confine(d, &p.worker) < 0)
		return 70;
	while (served < cfg_int(&d->cfg, CFG_SESSION_MAX_USE) && !p.worker.conv_dead &&
	       (fd = accept_one(d, &milter)) >= 0) {
		served++;
		metrics_add(milter ? M_MILTER_CONNECTIONS : M_CONNECTIONS, 1);
		if (milter) {
			char peer[MILTER_CLIENT_MAX];

			peer_name(fd, peer, sizeof(peer));
			milterfront_serve(&p, fd, peer);
		} else {
			serve(&p, fd);
		}
		close(fd);
	}
	sanitizer_stop(&p.worker);
	storecl_close(&p.store);
	return 0;
}
