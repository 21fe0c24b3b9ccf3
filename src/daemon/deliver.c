/*
 * deliver.c — the next hop: SMTP/LMTP client and Maildir writer (see
 * deliver.h).
 *
 * When the next hop announces PIPELINING (RFC 2920), RSET (on a kept
 * connection), MAIL, every RCPT and DATA go in one write and their replies
 * are read after it: one round trip before the body instead of 3 + n. The
 * body goes from the rebuilt message itself (dot-stuffed by sendmsg pieces,
 * no copy), with the final dot in the same write.
 *
 * RFCs: RFC 5321, RFC 2920, RFC 2033 (LMTP), RFC 6531, RFC 3463; maildir(5).
 *
 * SECURITY: session process. Every reply line read from the next hop is
 * bounded (DELIVER_REPLY_MAX) and cleaned before use; connect, reads and
 * writes time out after next_hop_timeout.
 */
#include "daemon/deliver.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/uio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "common/buf.h"

int deliver_parse_hop(const char *spec, hop_t *h, char *err, size_t errlen)
{
	const char *rest, *colon;

	memset(h, 0, sizeof(*h));
	if (strncmp(spec, "maildir:", 8) == 0) {
		h->kind = HOP_MAILDIR;
		if (!spec[8] || snprintf(h->dir, sizeof(h->dir), "%s", spec + 8) >= (int)sizeof(h->dir))
			goto bad;
		return 0;
	}
	if (strncmp(spec, "smtp:", 5) == 0 || strncmp(spec, "lmtp:", 5) == 0) {
		h->kind = spec[0] == 's' ? HOP_SMTP : HOP_LMTP;
		rest = spec + 5;
		colon = strrchr(rest, ':');
		if (!colon || colon == rest || !colon[1] || colon - rest >= (long)sizeof(h->host) ||
		    strspn(colon + 1, "0123456789") != strlen(colon + 1) || strlen(colon + 1) > 5)
			goto bad;
		snprintf(h->host, sizeof(h->host), "%.*s", (int)(colon - rest), rest);
		if (h->host[0] == '[' && h->host[strlen(h->host) - 1] == ']') {
			memmove(h->host, h->host + 1, strlen(h->host));
			h->host[strlen(h->host) - 1] = '\0';
		}
		snprintf(h->port, sizeof(h->port), "%s", colon + 1);
		return 0;
	}
bad:
	snprintf(err, errlen, "next_hop: want smtp:HOST:PORT, lmtp:HOST:PORT or maildir:DIR, got '%s'",
		 spec);
	return -1;
}

/* Printable ASCII only, bounded: safe to log and to quote in a reply. */
static void clean_text(char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
			*s = '?';
}

/* ---- SMTP / LMTP client ---- */

typedef struct conn {
	int fd;
	char buf[DELIVER_BUF];
	size_t len, off;
	const hop_t *hop;
	deliver_result_t *res;
	bool utf8;       /* the hop announced SMTPUTF8 */
	bool pipelining; /* the hop announced PIPELINING (RFC 2920) */
	bool reusable;   /* a refused transaction was reset (RSET): the connection stays */
} conn_t;

/* A result; text cleaned to printable ASCII. */
static void result(deliver_result_t *r, int status, const char *code, bool temporary,
		   const char *fmt, ...) MUGAI_PRINTF(5, 6);
static void result(deliver_result_t *r, int status, const char *code, bool temporary,
		   const char *fmt, ...)
{
	va_list ap;

	r->status = status;
	r->temporary = temporary;
	snprintf(r->code, sizeof(r->code), "%s", code);
	va_start(ap, fmt);
	vsnprintf(r->text, sizeof(r->text), fmt, ap);
	va_end(ap);
	clean_text(r->text);
}

/* A failure; status is the hop's reply code when it sent one (else 0). */
static int fail_st(conn_t *c, int status, const char *code, const char *fmt, ...)
	MUGAI_PRINTF(4, 5);
static int fail_st(conn_t *c, int status, const char *code, const char *fmt, ...)
{
	char tmp[DELIVER_ERR_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	result(c->res, status, code, status / 100 != 5, "next hop %s:%s %s", c->hop->host,
	       c->hop->port, tmp);
	return -1;
}

#define fail(c, code, ...) fail_st(c, 0, code, __VA_ARGS__)

/* The next hop's addresses, resolved once before a session enters its
 * seccomp policy (the resolver opens /etc files; the policy forbids open). */
static struct addrinfo *prepared;
static const hop_t *prepared_for;

int deliver_prepare(const hop_t *h)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM };

	if (h->kind == HOP_MAILDIR || prepared)
		return 0;
	if (getaddrinfo(h->host, h->port, &hints, &prepared) != 0) {
		prepared = NULL;
		return -1;
	}
	prepared_for = h;
	return 0;
}

static int conn_open(conn_t *c, int timeout)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *res = NULL, *ai;
	struct timeval tv = { timeout, 0 };
	bool own = !(prepared && prepared_for == c->hop);
	int rc = own ? getaddrinfo(c->hop->host, c->hop->port, &hints, &res) : 0, err = 0;

	if (rc != 0)
		return fail(c, "4.4.3", "lookup: %s", gai_strerror(rc));
	if (!own)
		res = prepared;
	c->fd = -1;
	for (ai = res; ai && c->fd < 0; ai = ai->ai_next) {
		c->fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
		if (c->fd < 0)
			continue;
		setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)); /* also bounds connect */
		/* the final dot may follow the body after the gate: not held back
		 * for the body's ACK (Nagle) */
		setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &(int){ 1 }, sizeof(int));
		if (connect(c->fd, ai->ai_addr, ai->ai_addrlen) < 0) {
			err = errno;
			close(c->fd);
			c->fd = -1;
		}
	}
	if (own)
		freeaddrinfo(res);
	return c->fd < 0 ? fail(c, "4.4.1", "connect: %s", strerror(err)) : 0;
}

static int conn_getc(conn_t *c)
{
	if (c->off == c->len) {
		ssize_t n;

		do
			n = recv(c->fd, c->buf, sizeof(c->buf), 0);
		while (n < 0 && errno == EINTR);
		if (n <= 0)
			return -1;
		c->len = (size_t)n;
		c->off = 0;
	}
	return (unsigned char)c->buf[c->off++];
}

/* One line without CRLF into line (truncated at n-1). */
static int read_line(conn_t *c, char *line, size_t n)
{
	size_t k = 0, total = 0;
	int ch;

	while ((ch = conn_getc(c)) >= 0 && ch != '\n') {
		if (++total > DELIVER_REPLY_MAX)
			return -1;
		if (ch != '\r' && k + 1 < n)
			line[k++] = (char)ch;
	}
	line[k] = '\0';
	return ch < 0 ? -1 : 0;
}

/* Does an EHLO reply line ("250-KEYWORD params") announce keyword? */
static bool has_ext(const char *line, const char *kw)
{
	size_t k = strlen(kw);

	return strlen(line) >= 4 + k && strncasecmp(line + 4, kw, k) == 0 &&
	       (line[4 + k] == '\0' || line[4 + k] == ' ');
}

/* A complete (possibly multi-line) reply: its code, last line in text;
 * ehlo: note the extensions we use (SMTPUTF8, PIPELINING). */
static int read_reply(conn_t *c, char *text, size_t n, bool ehlo)
{
	for (int lines = 0; lines < DELIVER_REPLY_LINES_MAX; lines++) {
		if (read_line(c, text, n) < 0)
			return fail(c, "4.4.2", "lost connection: %s",
				    errno ? strerror(errno) : "closed");
		if (strlen(text) < 3 || text[0] < '1' || text[0] > '5')
			return fail(c, "4.4.2", "garbled reply");
		if (ehlo) {
			c->utf8 |= has_ext(text, "SMTPUTF8");
			c->pipelining |= has_ext(text, "PIPELINING");
		}
		if (text[3] != '-')
			return (text[0] - '0') * 100 + (text[1] - '0') * 10 + (text[2] - '0');
	}
	return fail(c, "4.4.2", "reply too long");
}

/* Send iov[0..n) whole (one sendmsg, partial writes resumed). */
static int send_iov(conn_t *c, struct iovec *iov, size_t n)
{
	while (n) {
		struct msghdr m = { .msg_iov = iov, .msg_iovlen = n };
		ssize_t w = sendmsg(c->fd, &m, MSG_NOSIGNAL);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return fail(c, "4.4.2", "write: %s", strerror(errno));
		for (; n && (size_t)w >= iov->iov_len; iov++, n--)
			w -= (ssize_t)iov->iov_len;
		if (n) {
			iov->iov_base = (char *)iov->iov_base + w;
			iov->iov_len -= (size_t)w;
		}
	}
	return 0;
}

static int send_all(conn_t *c, const char *p, size_t n)
{
	struct iovec iov = { (void *)p, n };

	return send_iov(c, &iov, 1);
}

/* The piece that ends the data: ".\r\n", or "\r\n.\r\n" after a last
 * line without its line end. */
static struct iovec end_of_data(const char *msg, size_t len)
{
	static const char end_nl[] = ".\r\n", end_no_nl[] = "\r\n.\r\n";

	return len == 0 || msg[len - 1] == '\n' ? (struct iovec){ (void *)end_nl, 3 }
						 : (struct iovec){ (void *)end_no_nl, 5 };
}

/* One command and its CRLF into line (DELIVER_CMD_MAX bytes): its length,
 * or -1 when too long. */
static int cmd_vformat(conn_t *c, char *line, const char *fmt, va_list ap) MUGAI_PRINTF(3, 0);
static int cmd_vformat(conn_t *c, char *line, const char *fmt, va_list ap)
{
	int n = vsnprintf(line, DELIVER_CMD_MAX - 2, fmt, ap);

	if (n < 0 || n >= DELIVER_CMD_MAX - 2)
		return fail(c, "4.3.0", "command too long");
	memcpy(line + n, "\r\n", 3);
	return n + 2;
}

/* Append one command to a pipelined group. */
static int cmd_line(conn_t *c, buf_t *out, const char *fmt, ...) MUGAI_PRINTF(3, 4);
static int cmd_line(conn_t *c, buf_t *out, const char *fmt, ...)
{
	char line[DELIVER_CMD_MAX];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = cmd_vformat(c, line, fmt, ap);
	va_end(ap);
	if (n < 0)
		return -1;
	return buf_append(out, line, (size_t)n) < 0 ? fail(c, "4.3.0", "out of memory") : 0;
}

/* Send a command, expect a reply class (2 or 3); ehlo: note extensions. */
static int command(conn_t *c, int want, bool ehlo, const char *fmt, ...) MUGAI_PRINTF(4, 5);
static int command(conn_t *c, int want, bool ehlo, const char *fmt, ...)
{
	char line[DELIVER_CMD_MAX], reply[DELIVER_REPLY_TEXT_MAX];
	va_list ap;
	int n, code;

	va_start(ap, fmt);
	n = cmd_vformat(c, line, fmt, ap);
	va_end(ap);
	if (n < 0 || send_all(c, line, (size_t)n) < 0)
		return -1;
	code = read_reply(c, reply, sizeof(reply), ehlo);
	if (code < 0)
		return -1;
	if (code / 100 != want)
		return fail_st(c, code, "4.4.0", "refused %.*s: %s", (int)strcspn(line, " \r"), line,
			       reply);
	return 0;
}

/* Dot-stuffed body (RFC 5321 4.5.2), sent from the message itself: no
 * copy, a "." piece before every line that starts with one,
 * DELIVER_IOV_MAX pieces to a sendmsg. With end, the final "." goes in
 * the same write; else it is left to send_end. */
static int send_body(conn_t *c, const char *msg, size_t len, bool end)
{
	static const char dot[] = ".";
	struct iovec iov[DELIVER_IOV_MAX];
	size_t n = 0, pos = 0, i = 0; /* pos: first byte not queued; i: a line start */

	while (i < len) {
		const char *nl;

		if (n + 4 > DELIVER_IOV_MAX) {
			if (send_iov(c, iov, n) < 0)
				return -1;
			n = 0;
		}
		if (msg[i] == '.') {
			if (i > pos)
				iov[n++] = (struct iovec){ (void *)(msg + pos), i - pos };
			iov[n++] = (struct iovec){ (void *)dot, 1 };
			pos = i;
		}
		nl = memchr(msg + i, '\n', len - i);
		i = nl ? (size_t)(nl - msg) + 1 : len;
	}
	if (len > pos)
		iov[n++] = (struct iovec){ (void *)(msg + pos), len - pos };
	if (end)
		iov[n++] = end_of_data(msg, len);
	return n ? send_iov(c, iov, n) : 0;
}

/* The final "." (after a CRLF when the message does not end with one). */
static int send_end(conn_t *c, const char *msg, size_t len)
{
	struct iovec iov = end_of_data(msg, len);

	return send_iov(c, &iov, 1);
}

/* Without PIPELINING: one command, one reply, in turn. */
static int envelope(conn_t *c, const deliver_env_t *e)
{
	bool utf8 = e->smtputf8 && c->utf8;

	if (command(c, 2, false, "MAIL FROM:<%s>%s", e->from, utf8 ? " SMTPUTF8" : "") < 0)
		return -1;
	for (size_t i = 0; i < e->n_rcpt; i++)
		if (command(c, 2, false, "RCPT TO:<%s>", e->rcpt[i]) < 0)
			return -1;
	return command(c, 3, false, "DATA");
}

/* The first command of a pipelined group the hop refused. */
typedef struct refusal {
	int code;           /* 0: none yet */
	const char *verb;
	char text[DELIVER_REPLY_TEXT_MAX];
} refusal_t;

/* The reply to one command of the group (class want); the first refusal is
 * kept. Its code, or -1 when the connection is lost. */
static int group_reply(conn_t *c, const char *verb, int want, refusal_t *f)
{
	char reply[DELIVER_REPLY_TEXT_MAX];
	int code = read_reply(c, reply, sizeof(reply), false);

	if (code >= 0 && code / 100 != want && !f->code) {
		f->code = code;
		f->verb = verb;
		snprintf(f->text, sizeof(f->text), "%s", reply);
	}
	return code;
}

/* RSET (on a kept connection), MAIL, every RCPT and DATA in one write
 * (RFC 2920), then their replies in order. A refusal of any of them: no
 * data is sent and the whole message fails, as without PIPELINING; the
 * transaction is reset (RSET), or, when DATA was accepted anyway (some
 * recipients refused, others not), the connection is closed, which aborts
 * it (RFC 5321 §3.8). 0: send the body; -1: failed; 1: the kept
 * connection had gone (its RSET got no 2xx): try a new one. */
static int envelope_pipelined(conn_t *c, const deliver_env_t *e, bool rset)
{
	bool utf8 = e->smtputf8 && c->utf8;
	refusal_t f = { 0 };
	buf_t g;
	int rc = 0;

	buf_init(&g, (e->n_rcpt + 3) * DELIVER_CMD_MAX);
	if (rset)
		rc = cmd_line(c, &g, "RSET");
	if (rc == 0)
		rc = cmd_line(c, &g, "MAIL FROM:<%s>%s", e->from, utf8 ? " SMTPUTF8" : "");
	for (size_t i = 0; rc == 0 && i < e->n_rcpt; i++)
		rc = cmd_line(c, &g, "RCPT TO:<%s>", e->rcpt[i]);
	if (rc == 0)
		rc = cmd_line(c, &g, "DATA");
	if (rc == 0 && send_all(c, g.data, g.len) < 0)
		rc = rset ? 1 : -1;
	buf_free(&g);
	if (rc != 0)
		return rc;
	if (rset && (group_reply(c, "RSET", 2, &f) < 0 || f.code))
		return 1;
	if (group_reply(c, "MAIL", 2, &f) < 0)
		return -1;
	for (size_t i = 0; i < e->n_rcpt; i++)
		if (group_reply(c, "RCPT", 2, &f) < 0)
			return -1;
	if ((rc = group_reply(c, "DATA", 3, &f)) < 0)
		return -1;
	if (!f.code)
		return 0;
	if (rc / 100 != 3 && command(c, 2, false, "RSET") == 0)
		c->reusable = true;
	return fail_st(c, f.code, "4.4.0", "refused %s: %s", f.verb, f.text);
}

/* After the final dot: one reply (SMTP) or one per recipient (LMTP). */
static int final_replies(conn_t *c, const deliver_env_t *e)
{
	size_t want = c->hop->kind == HOP_LMTP ? e->n_rcpt : 1;
	char reply[DELIVER_REPLY_TEXT_MAX];

	for (size_t i = 0; i < want; i++) {
		int code = read_reply(c, reply, sizeof(reply), false);

		if (code < 0)
			return -1;
		if (code / 100 != 2)
			return fail_st(c, code, "4.4.0", "refused the message: %s", reply);
	}
	result(c->res, 250, "2.0.0", false, "%s", reply);
	return 0;
}

/* One cached next-hop connection per session process (sessions are single
 * threaded): reused after RSET instead of a new TCP + greeting + EHLO per
 * message; dropped after CONN_IDLE_MAX seconds unused or on any error. */

static conn_t cached = { .fd = -1 };
static time_t cached_at;

static void conn_drop(conn_t *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	c->len = c->off = 0;
}

static int conn_fresh(conn_t *c, const deliver_env_t *e)
{
	char reply[DELIVER_REPLY_TEXT_MAX];
	int rc;

	conn_drop(c);
	c->utf8 = c->pipelining = false;
	rc = conn_open(c, e->timeout);
	if (rc == 0 && (rc = read_reply(c, reply, sizeof(reply), false)) >= 0 && rc != 220)
		rc = fail(c, "4.4.0", "greeting: %s", reply);
	if (rc >= 0)
		rc = command(c, 2, true, "%s %s", c->hop->kind == HOP_LMTP ? "LHLO" : "EHLO", e->helo);
	return rc < 0 ? -1 : 0;
}

/* The cached connection when it is fresh, else a new one. *reset: the
 * kept connection still needs its RSET (sent with the pipelined group;
 * without PIPELINING it is sent and answered here). */
static int conn_get(const hop_t *h, const deliver_env_t *e, deliver_result_t *r, bool *reset)
{
	bool same = cached.hop == h && cached.fd >= 0 && time(NULL) - cached_at < CONN_IDLE_MAX;

	cached.res = r;
	cached.reusable = false;
	*reset = same && cached.pipelining;
	if (*reset || (same && command(&cached, 2, false, "RSET") == 0))
		return 0;
	cached.hop = h;
	return conn_fresh(&cached, e);
}

/* The body, then (with a gate) the gate's word, then the final dot: a
 * gate that refuses drops the connection before the dot, which aborts the
 * transaction (RFC 5321 3.8) so the next hop keeps nothing. */
static int body_and_dot(conn_t *c, const deliver_env_t *e, const char *msg, size_t len)
{
	if (!e->gate)
		return send_body(c, msg, len, true);
	if (send_body(c, msg, len, false) < 0)
		return -1;
	if (e->gate(e->gate_arg) < 0)
		return fail(c, "4.3.0", "held back before the final dot");
	return send_end(c, msg, len);
}

static int deliver_smtp(const hop_t *h, const deliver_env_t *e, const char *msg, size_t len,
			deliver_result_t *r)
{
	bool reset = false;
	int rc = conn_get(h, e, r, &reset);

	if (rc == 0 && cached.pipelining) {
		rc = envelope_pipelined(&cached, e, reset);
		if (rc > 0 && (rc = conn_fresh(&cached, e)) == 0)
			rc = cached.pipelining ? envelope_pipelined(&cached, e, false) : envelope(&cached, e);
	} else if (rc == 0) {
		rc = envelope(&cached, e);
	}
	if (rc == 0)
		rc = body_and_dot(&cached, e, msg, len);
	if (rc == 0)
		rc = final_replies(&cached, e);
	if (rc < 0 && !cached.reusable)
		conn_drop(&cached);
	cached_at = time(NULL);
	return rc < 0 ? -1 : 0;
}

/* ---- Maildir: DIR/<recipient>/{tmp,new,cur} ---- */

/* Recipient → one safe path component: [a-z0-9@._+-], others '_'. */
static void mailbox_name(const char *rcpt, char *out, size_t n)
{
	size_t k = 0;

	for (const char *p = rcpt; *p && k + 1 < n && k < DELIVER_RCPT_BOXES; p++) {
		char ch = (*p >= 'A' && *p <= 'Z') ? (char)(*p - 'A' + 'a') : *p;

		out[k++] = ((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
			    strchr("@._+-", ch)) && ch ? ch : '_';
	}
	out[k] = '\0';
	if (k == 0 || out[0] == '.')
		out[0] = '_';
	if (k == 0)
		out[1] = '\0';
}

static int mkdir_p(const char *path)
{
	char tmp[MAILDIR_PATH_MAX];

	if (snprintf(tmp, sizeof(tmp), "%s", path) >= (int)sizeof(tmp))
		return -1;
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, 0700) < 0 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	return mkdir(tmp, 0700) < 0 && errno != EEXIST ? -1 : 0;
}

static int fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), rc;

	if (fd < 0)
		return -1;
	rc = fsync(fd);
	close(fd);
	return rc;
}

static int write_file(const char *path, const char *hdr, size_t hlen, const char *msg,
		      size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600), rc = -1;
	struct iovec iov[2] = { { (void *)hdr, hlen }, { (void *)msg, len } };
	size_t total = hlen + len;

	if (fd < 0)
		return -1;
	if (writev(fd, iov, 2) == (ssize_t)total && fsync(fd) == 0)
		rc = 0;
	if (close(fd) != 0)
		rc = -1;
	if (rc < 0)
		unlink(path);
	return rc;
}

static int make_maildir(const char *dir)
{
	static const char *const sub[] = { "tmp", "new", "cur" };
	char p[MAILDIR_SUB_MAX];

	for (size_t i = 0; i < MUGAI_ARRAY_LEN(sub); i++) {
		snprintf(p, sizeof(p), "%s/%s", dir, sub[i]);
		if (mkdir_p(p) < 0)
			return -1;
	}
	return 0;
}

/* One copy for one recipient; *done receives its path in new/. */
static int maildir_one(const hop_t *h, const deliver_env_t *e, size_t i, const char *msg,
		       size_t len, char *done, size_t donelen)
{
	char box[MAILDIR_BOX_MAX], dir[MAILDIR_BOX_DIR_MAX], tmp[MAILDIR_FILE_MAX], hdr[MAILDIR_HDR_MAX], host[64] = "localhost";
	struct timespec ts;
	int hl;

	mailbox_name(e->rcpt[i], box, sizeof(box));
	gethostname(host, sizeof(host) - 1);
	mailbox_name(host, host, sizeof(host));
	clock_gettime(CLOCK_REALTIME, &ts);
	snprintf(dir, sizeof(dir), "%s/%s", h->dir, box);
	snprintf(tmp, sizeof(tmp), "%s/tmp/%lld.%s_%zu.%s", dir, (long long)ts.tv_sec, e->id, i, host);
	snprintf(done, donelen, "%s/new/%lld.%s_%zu.%s", dir, (long long)ts.tv_sec, e->id, i, host);
	hl = snprintf(hdr, sizeof(hdr), "Return-Path: <%s>\r\nDelivered-To: %s\r\n", e->from,
		      e->rcpt[i]);
	if (make_maildir(dir) < 0)
		return -1;
	if (write_file(tmp, hdr, (size_t)hl, msg, len) < 0)
		return -1;
	if (rename(tmp, done) < 0) {
		unlink(tmp);
		return -1;
	}
	snprintf(tmp, sizeof(tmp), "%s/new", dir);
	return fsync_dir(tmp);
}

/* Every recipient or none: on a failure the copies already written are
 * removed, so the retry that follows the 451 delivers each exactly once. */
static int deliver_maildir(const hop_t *h, const deliver_env_t *e, const char *msg, size_t len,
			   deliver_result_t *r)
{
	char (*done)[MAILDIR_DONE_MAX] = calloc(e->n_rcpt ? e->n_rcpt : 1, sizeof(*done));
	size_t i = 0;
	int rc = done ? 0 : -1;

	for (; rc == 0 && i < e->n_rcpt; i++)
		rc = maildir_one(h, e, i, msg, len, done[i], sizeof(done[i]));
	if (rc < 0) {
		result(r, 0, "4.3.0", true, "maildir %s: %s", h->dir, strerror(errno));
		while (done && i-- > 0)
			if (done[i][0])
				unlink(done[i]);
	} else {
		result(r, 250, "2.0.0", false, "250 2.0.0 delivered to %zu maildir(s)", e->n_rcpt);
	}
	free(done);
	return rc;
}

int deliver(const hop_t *h, const deliver_env_t *e, const char *msg, size_t len,
	    deliver_result_t *r)
{
	memset(r, 0, sizeof(*r));
	if (h->kind == HOP_MAILDIR && e->gate && e->gate(e->gate_arg) < 0) {
		result(r, 0, "4.3.0", true, "held back before the first copy");
		return -1;
	}
	if (h->kind == HOP_MAILDIR)
		return deliver_maildir(h, e, msg, len, r);
	return deliver_smtp(h, e, msg, len, r);
}
