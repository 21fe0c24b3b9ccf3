/*
 * milterfront.c — the milter front of a session process: one connection
 * from the MTA's milter client (Postfix smtpd_milters, Sendmail
 * INPUT_MAIL_FILTER), spoken with the pure protocol functions of milter.c.
 * Per message: the envelope from the macros ({mail_addr}, {rcpt_addr}, i;
 * the MAIL/RCPT arguments when a macro is missing), the headers and body
 * spooled into a sealed memfd as one RFC 5322 message, then the shared core
 * (msgcore.c: worker, original durable in the store), and only then the
 * rebuilt message (or the notice, when the original is withheld) replaces
 * the MTA's copy: every original header deleted, the rebuilt ones added,
 * the body replaced, then SMFIR_ACCEPT.
 *
 * Replies at end of message (SMFIR_REPLYCODE):
 *   451 4.3.0  no sanitizer worker, spool or store failure (the MTA answers
 *              its client 451: the message stays with the sender, who retries)
 *   552 5.3.4  message larger than message_size_max, or more headers than
 *              milter_headers_max
 *   452 4.5.3  (at RCPT) more recipients than smtp_recipients_max
 * A broken connection, a malformed or oversized packet, or an MTA that does
 * not allow the header and body actions: the connection is closed and the
 * MTA applies milter_default_action (tempfail, as the README asks).
 *
 * SECURITY: runs in the session process under its seccomp policy; the
 * packets' contents are parsed only by milter.c (bounded, NUL-checked);
 * the message itself is parsed only by the sandboxed worker.
 */
#include "daemon/milterfront.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>

#include "common/log.h"
#include "daemon/milter.h"

typedef struct mconn {
	msgproc_t *p;
	const cfg_t *cfg;
	int fd;
	msgcore_in_t in;
	buf_t out;
	bool quit;
	milter_neg_t neg;
	milter_macros_t mac;
	char client[MILTER_CLIENT_MAX];
	/* the current message */
	char from[SMTP_PATH_MAX + 1];
	bool mail, spooling, eoh, too_many;
	char **rcpt;
	size_t n_rcpt, n_names;
	msgcore_spool_t sp;
	buf_t line;   /* one header line on its way to the spool */
	buf_t names;  /* "name\0" of each original header, in order */
} mconn_t;

/* ---- output ---- */

static int send_all(mconn_t *c, const char *p, size_t n)
{
	while (n) {
		ssize_t w = send(c->fd, p, n, MSG_NOSIGNAL);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			c->quit = true;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static int flush(mconn_t *c)
{
	int rc = send_all(c, c->out.data, c->out.len);

	buf_reset(&c->out);
	return rc;
}

static void put(mconn_t *c, char cmd)
{
	if (milter_put(&c->out, cmd, NULL, 0) < 0)
		c->quit = true;
}

static void put_reply(mconn_t *c, const char *code, const char *text)
{
	if (milter_put_reply(&c->out, code, text) < 0)
		c->quit = true;
}

/* ---- input ---- */

/* Flush pending answers, then wait and read more: 0, or -1 on EOF,
 * timeout or error, or at shutdown between messages (the MTA's milter
 * client reconnects to another session). */
static int fill(mconn_t *c)
{
	if (flush(c) < 0)
		return -1;
	return msgcore_in_fill(&c->in, c->fd, lim(&c->cfg->lim, LIM_SMTP_TIMEOUT) * 1000, !c->mail) ==
			       MC_IN_MORE ? 0 : -1;
}

/* ---- the message ---- */

/* Forget the current message; keep_id: the queue id of the macros that
 * came with MAIL (the next message's) is kept. */
static void reset_msg(mconn_t *c, bool keep_id)
{
	for (size_t i = 0; i < c->n_rcpt; i++)
		free(c->rcpt[i]);
	free(c->rcpt);
	c->rcpt = NULL;
	c->n_rcpt = c->n_names = 0;
	c->mail = c->eoh = c->too_many = false;
	c->from[0] = '\0';
	if (c->spooling)
		msgcore_spool_close(&c->sp);
	c->spooling = false;
	buf_reset(&c->line);
	buf_reset(&c->names);
	if (!keep_id)
		c->mac.queue_id[0] = '\0';
}

/* The spool, opened at the first header or body byte. */
static msgcore_spool_t *spool(mconn_t *c)
{
	if (!c->spooling) {
		if (msgcore_spool_open(&c->sp, (size_t)lim(&c->cfg->lim, LIM_MESSAGE_SIZE)) < 0)
			c->sp.failed = true;
		c->spooling = true;
	}
	return &c->sp;
}

static void end_headers(mconn_t *c)
{
	if (!c->eoh)
		msgcore_spool_write(spool(c), "\r\n", 2);
	c->eoh = true;
}

static void on_header(mconn_t *c, const char *d, size_t n)
{
	if (c->eoh)
		return; /* a header after the end of headers: not from a conforming MTA */
	if (++c->n_names > (size_t)lim(&c->cfg->lim, LIM_MILTER_HEADERS)) {
		c->too_many = true;
		return;
	}
	buf_reset(&c->line);
	if (milter_header(d, n, c->neg.proto & MILTER_P_HDR_LEADSPC, &c->line, &c->names) < 0) {
		log_warn("milter: malformed or oversized header packet from the MTA; closing");
		c->quit = true;
		return;
	}
	msgcore_spool_write(spool(c), c->line.data, c->line.len);
}

static void on_body(mconn_t *c, const char *d, size_t n)
{
	end_headers(c);
	msgcore_spool_write(spool(c), d, n);
}

static void on_mail(mconn_t *c, const char *d, size_t n)
{
	reset_msg(c, true);
	if (c->mac.have_mail)
		snprintf(c->from, sizeof(c->from), "%s", c->mac.mail_addr);
	else if (milter_addr(d, n, c->from, sizeof(c->from)) < 0) {
		put_reply(c, "553", "5.1.7 Error: bad sender address");
		return;
	}
	c->mail = true;
	put(c, MILTER_R_CONTINUE);
}

static void on_rcpt(mconn_t *c, const char *d, size_t n)
{
	char addr[SMTP_PATH_MAX + 1];
	char **r;

	if (c->mac.have_rcpt)
		snprintf(addr, sizeof(addr), "%s", c->mac.rcpt_addr);
	else if (milter_addr(d, n, addr, sizeof(addr)) < 0) {
		put_reply(c, "553", "5.1.3 Error: bad recipient address");
		return;
	}
	c->mac.have_rcpt = false;
	if ((long long)c->n_rcpt >= lim(&c->cfg->lim, LIM_SMTP_RECIPIENTS)) {
		put_reply(c, "452", "4.5.3 Error: too many recipients");
		return;
	}
	r = realloc(c->rcpt, (c->n_rcpt + 1) * sizeof(*r));
	if (r)
		c->rcpt = r;
	if (!r || !(r[c->n_rcpt] = strdup(addr))) {
		put_reply(c, "451", "4.3.0 Error: out of memory");
		return;
	}
	c->n_rcpt++;
	put(c, MILTER_R_CONTINUE);
}

static void tempfail_job(mconn_t *c, const msgenv_t *e, const msgjob_t *j)
{
	char text[TEMPFAIL_LINE_MAX], code[SMTP_REPLY_LINE_MAX];

	msgcore_tempfail_text(j, text, sizeof(text));
	snprintf(code, sizeof(code), "451 %s", j->code);
	put_reply(c, code, text);
	msgcore_deferred(c->p, e, j, c->sp.len);
}

/* The rebuilt message (or the notice) replaces the MTA's copy: the edits
 * go out while the store commits the original, and the accept only after
 * the store's answer (a failed commit answers 451 after the edits, and
 * the MTA drops its edited copy). */
static void pass_on(mconn_t *c, const msgenv_t *e, msgjob_t *j)
{
	buf_t ed;
	int sent;

	buf_init(&ed, UNCAPPED_BY(LIM_RESULT_SIZE)); /* the worker's result is capped there */
	if (milter_put_edits(&ed, c->names.data ? c->names.data : "", c->names.len,
			     j->res.msg.data ? j->res.msg.data : "", j->res.msg.len,
			     c->neg.proto & MILTER_P_HDR_LEADSPC) < 0) {
		buf_free(&ed);
		if (msgcore_stored(c->p, j) == 0) {
			j->fail = M_TF_WORKER;
			j->code = "4.3.0";
			j->what = "cannot pass on the rebuilt message";
		}
		tempfail_job(c, e, j);
		return;
	}
	sent = flush(c) == 0 && send_all(c, ed.data, ed.len) == 0 ? 0 : -1;
	buf_free(&ed);
	if (msgcore_stored(c->p, j) < 0) {
		tempfail_job(c, e, j);
		return;
	}
	put(c, MILTER_R_ACCEPT);
	if (sent < 0 || flush(c) < 0) {
		snprintf(j->why, sizeof(j->why), "connection to the MTA lost");
		j->fail = M_TF_NEXT_HOP;
		msgcore_deferred(c->p, e, j, c->sp.len);
		msgcore_hop_deferred(c->p, j);
	} else {
		snprintf(j->why, sizeof(j->why), "milter accept");
		msgcore_sent(c->p, e, j, c->sp.len);
		msgcore_ppap(c->p, e, &c->sp, j); /* a follow-up goes to next_hop */
	}
}

static void end_of_message(mconn_t *c)
{
	msgenv_t e = { .from = c->from, .rcpt = c->rcpt, .n_rcpt = c->n_rcpt,
		       .ident = c->mac.queue_id, .client = c->client };
	msgcore_spool_t *sp = spool(c);
	msgjob_t j;

	end_headers(c);
	if (!c->mail || !c->n_rcpt) {
		put_reply(c, "554", "5.5.1 Error: no valid recipients");
	} else if (sp->too_big || c->too_many) {
		metrics_add(M_REJ_SIZE, 1);
		put_reply(c, "552", sp->too_big ? "5.3.4 Error: message file too big"
						: "5.3.4 Error: too many header lines");
	} else if (sp->failed || msgcore_spool_seal(sp) < 0) {
		metrics_add(M_TF_SPOOL, 1);
		put_reply(c, "451", "4.3.0 Error: cannot spool the message, try again later");
	} else {
		msgcore_job_init(&j);
		if (msgcore_run(c->p, &e, sp, &j) < 0)
			tempfail_job(c, &e, &j);
		else
			pass_on(c, &e, &j);
		msgcore_job_free(&j);
	}
	reset_msg(c, false);
}

/* ---- commands ---- */

static void negotiate(mconn_t *c, const char *d, size_t n)
{
	if (milter_negotiate(d, n, &c->neg) < 0) {
		log_warn("milter: the MTA offers protocol version < 2 or does not allow adding and "
			 "changing headers and replacing the body; closing (fix: a milter-capable MTA)");
		c->quit = true;
		return;
	}
	if (milter_put_neg(&c->out, &c->neg) < 0)
		c->quit = true;
}

static void dispatch(mconn_t *c, char cmd, const char *d, size_t n)
{
	bool reply = milter_wants_reply(c->neg.proto, cmd);

	switch (cmd) {
	case MILTER_C_OPTNEG: negotiate(c, d, n); return;
	case MILTER_C_MACRO:
		if (milter_macros(d, n, &c->mac) < 0) {
			log_warn("milter: malformed macro packet from the MTA; closing");
			c->quit = true;
		}
		return;
	case MILTER_C_CONNECT:
		reset_msg(c, false);
		if (milter_connect_host(d, n, c->client, sizeof(c->client)) < 0)
			snprintf(c->client, sizeof(c->client), "?");
		break;
	case MILTER_C_MAIL: on_mail(c, d, n); return;
	case MILTER_C_RCPT: on_rcpt(c, d, n); return;
	case MILTER_C_HEADER: on_header(c, d, n); break;
	case MILTER_C_EOH: end_headers(c); break;
	case MILTER_C_BODY: on_body(c, d, n); break;
	case MILTER_C_EOB:
		if (n)
			on_body(c, d, n);
		end_of_message(c);
		return;
	case MILTER_C_ABORT: reset_msg(c, false); return;
	case MILTER_C_QUIT_NC: reset_msg(c, false); c->client[0] = '\0'; return;
	case MILTER_C_QUIT: c->quit = true; return;
	case MILTER_C_HELO: case MILTER_C_DATA: case MILTER_C_UNKNOWN: break;
	default:
		log_warn("milter: unknown command 0x%02x from the MTA; closing", (unsigned char)cmd);
		c->quit = true;
		return;
	}
	if (reply && !c->quit)
		put(c, MILTER_R_CONTINUE);
}

void milterfront_serve(msgproc_t *p, int fd, const char *peer)
{
	size_t cap = (size_t)lim(&p->d->cfg.lim, LIM_MILTER_PACKET) + MILTER_HDR_BYTES;
	mconn_t c = { .p = p, .cfg = &p->d->cfg, .fd = fd, .in = { malloc(cap), 0, 0, cap } };
	struct timeval tv = { lim(&p->d->cfg.lim, LIM_SMTP_TIMEOUT), 0 };

	buf_init(&c.out, SESSION_OUT_MAX);
	buf_init(&c.line, (size_t)lim(&p->d->cfg.lim, LIM_MILTER_PACKET) * 2);
	buf_init(&c.names, (size_t)lim(&p->d->cfg.lim, LIM_MESSAGE_SIZE));
	snprintf(c.client, sizeof(c.client), "%s", peer);
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	/* the accept follows the edits once the store answers: not held back
	 * for the edits' ACK (Nagle); fails harmlessly on a unix socket */
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &(int){ 1 }, sizeof(int));
	while (c.in.buf && !c.quit) {
		char cmd;
		const char *d;
		size_t n, used;
		milter_frame_t r = milter_frame_find(c.in.buf + c.in.off, c.in.len - c.in.off,
						     (size_t)lim(&c.cfg->lim, LIM_MILTER_PACKET),
						     &cmd, &d, &n, &used);

		if (r == MILTER_FRAME_BAD) {
			log_warn("milter: packet of length 0 or above milter_packet_max from the MTA; "
				 "closing");
			break;
		}
		if (r == MILTER_FRAME_MORE) {
			if (fill(&c) < 0)
				break;
			continue;
		}
		c.in.off += used;
		dispatch(&c, cmd, d, n);
	}
	(void)flush(&c);
	reset_msg(&c, false);
	buf_free(&c.out);
	buf_free(&c.line);
	buf_free(&c.names);
	free(c.in.buf);
}
