/*
 * av.c — the session's clamd client (see av.h): a non-blocking socket,
 * one deadline for connect, the zINSTREAM chunks and the reply; the
 * protocol itself is in clamd.c.
 *
 * Spec: clamd(8) zINSTREAM.
 *
 * SECURITY: session process under sandbox_enter_session (socket to
 * AF_UNIX is allowed there only when antivirus names a unix socket). No
 * byte of clamd's reply is used but through clamd_reply_parse.
 */
#include "daemon/av.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

typedef struct avconn {
	int fd;
	long long deadline;  /* CLOCK_MONOTONIC ms */
	av_result_t *r;
} avconn_t;

static long long mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int fail(avconn_t *c, const char *what, int err)
{
	c->r->verdict = CLAMD_ERROR;
	if (!c->r->why[0])
		snprintf(c->r->why, sizeof(c->r->why), "clamd %s: %s", what,
			 err ? strerror(err) : "timeout");
	return -1;
}

/* Wait for ev until the deadline: 0, or -1 (timeout, error). */
static int wait_for(avconn_t *c, short ev, const char *what)
{
	for (;;) {
		long long left = c->deadline - mono_ms();
		struct pollfd pf = { c->fd, ev, 0 };
		int n;

		if (left <= 0)
			return fail(c, what, 0);
		n = poll(&pf, 1, (int)(left > 1000 ? 1000 : left));
		if (n > 0)
			return 0;
		if (n < 0 && errno != EINTR)
			return fail(c, what, errno);
	}
}

static int av_connect(avconn_t *c, const av_target_t *t)
{
	int err = 0;
	socklen_t el = sizeof(err);

	c->fd = socket(t->sa.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (c->fd < 0)
		return fail(c, "socket", errno);
	if (connect(c->fd, (const struct sockaddr *)&t->sa, t->sa_len) == 0)
		return 0;
	if (errno != EINPROGRESS && errno != EAGAIN)
		return fail(c, "connect", errno);
	if (wait_for(c, POLLOUT, "connect") < 0)
		return -1;
	if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &el) < 0 || err)
		return fail(c, "connect", err ? err : errno);
	return 0;
}

static int send_all(avconn_t *c, const void *p, size_t n)
{
	const char *b = p;

	while (n) {
		ssize_t w = send(c->fd, b, n, MSG_NOSIGNAL);

		if (w < 0 && (errno == EAGAIN || errno == EINTR)) {
			if (wait_for(c, POLLOUT, "send") < 0)
				return -1;
			continue;
		}
		if (w <= 0)
			return fail(c, "send", w < 0 ? errno : EPIPE);
		b += w;
		n -= (size_t)w;
	}
	return 0;
}

static int send_stream(avconn_t *c, const char *data, size_t len)
{
	unsigned char hdr[4];

	if (send_all(c, "zINSTREAM", sizeof("zINSTREAM")) < 0)
		return -1;
	for (size_t off = 0; off < len;) {
		size_t n = len - off < CLAMD_CHUNK ? len - off : CLAMD_CHUNK;

		clamd_chunk_header((uint32_t)n, hdr);
		if (send_all(c, hdr, 4) < 0 || send_all(c, data + off, n) < 0)
			return -1;
		off += n;
	}
	clamd_chunk_header(0, hdr);
	return send_all(c, hdr, 4);
}

/* The reply up to its NUL (or EOF); -1 on timeout, error or overlong. */
static int read_reply(avconn_t *c, char *buf, size_t cap, size_t *len)
{
	*len = 0;
	while (*len < cap) {
		ssize_t n = recv(c->fd, buf + *len, cap - *len, 0);

		if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
			if (wait_for(c, POLLIN, "reply") < 0)
				return -1;
			continue;
		}
		if (n < 0)
			return fail(c, "reply", errno);
		if (n == 0 || memchr(buf + *len, '\0', (size_t)n)) {
			*len += (size_t)n;
			return *len ? 0 : fail(c, "reply", ECONNRESET);
		}
		*len += (size_t)n;
	}
	return fail(c, "reply", EMSGSIZE);
}

static void printable(const char *in, size_t n, char *out, size_t cap)
{
	size_t k = 0;

	for (size_t i = 0; i < n && in[i] && k + 1 < cap; i++)
		out[k++] = in[i] >= 0x20 && in[i] < 0x7f ? in[i] : '?';
	out[k] = '\0';
}

void av_scan(const av_target_t *t, const char *data, size_t len, int timeout_s, av_result_t *r)
{
	avconn_t c = { .fd = -1, .deadline = mono_ms() + (long long)timeout_s * 1000, .r = r };
	char reply[CLAMD_REPLY_MAX];
	size_t n = 0;
	int sent;

	memset(r, 0, sizeof(*r));
	r->verdict = CLAMD_ERROR;
	if (av_connect(&c, t) < 0)
		goto out;
	sent = send_stream(&c, data, len);
	/* clamd may stop reading and answer (its size limit): read the reply
	 * even when the send failed, for the better reason */
	if (read_reply(&c, reply, sizeof(reply), &n) < 0 && sent < 0)
		goto out;
	if (n == 0)
		goto out;
	r->verdict = clamd_reply_parse(reply, n, r->sig, sizeof(r->sig));
	if (r->verdict == CLAMD_ERROR) {
		static const char pre[] = "clamd: ";

		memcpy(r->why, pre, sizeof(pre));
		printable(reply, n, r->why + sizeof(pre) - 1, sizeof(r->why) - sizeof(pre) + 1);
	} else if (sent < 0) {
		r->verdict = CLAMD_ERROR; /* a verdict on part of the original is none */
	}
out:
	if (c.fd >= 0)
		close(c.fd);
}
