/*
 * null_milter.c — the milter ceiling of `make bench-e2e`: a milter that does
 * no filtering but sends Postfix the same edits mugaid's milter front sends
 * (every original header deleted, the headers added again, the body
 * replaced, one header more), built from the same protocol functions (src/daemon/milter.c),
 * on the message as it came. What Postfix spends on the milter protocol and
 * on applying a whole-message replacement is then measured apart from what
 * mugaid spends on sanitizing, storing and its processes.
 *
 *   null_milter PORT       listen on 127.0.0.1:PORT, one child per connection
 *   null_milter -a PORT    accept every message unchanged (no edits: what
 *                          the milter protocol alone costs Postfix)
 *
 * Specs: as src/daemon/milter.h (Sendmail libmilter, Postfix milter8).
 *
 * SECURITY: a benchmark tool, never installed; loopback only; every packet
 * bounded by milter_packet_max's default before it is read, the message by
 * message_size_max's default.
 */
#include "daemon/milter.c"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>
#include "common/io.h"

/* One header more, as mugaid adds X-Mugai-Sanitized: bench-e2e checks that
 * the delivered mail passed here. */
#define MARK "X-Null-Milter\0yes"

typedef struct nm {
	int fd;
	milter_neg_t neg;
	buf_t in, out, msg, names;
	bool eoh, quit;
} nm_t;

static bool accept_only;

static void reset(nm_t *c)
{
	buf_reset(&c->msg);
	buf_reset(&c->names);
	c->eoh = false;
}

static int reply(nm_t *c, char r)
{
	return milter_put(&c->out, r, NULL, 0);
}

/* One packet; -1 ends the connection. */
static int packet(nm_t *c, char cmd, const char *d, size_t n)
{
	bool want = milter_wants_reply(c->neg.proto, cmd);

	switch (cmd) {
	case MILTER_C_OPTNEG:
		return milter_negotiate(d, n, &c->neg) < 0 ? -1 : milter_put_neg(&c->out, &c->neg);
	case MILTER_C_HEADER:
		if (milter_header(d, n, c->neg.proto & MILTER_P_HDR_LEADSPC, &c->msg, &c->names) < 0)
			return -1;
		break;
	case MILTER_C_EOH:
		c->eoh = true;
		if (buf_append(&c->msg, "\r\n", 2) < 0)
			return -1;
		break;
	case MILTER_C_BODY:
		if (buf_append(&c->msg, d, n) < 0)
			return -1;
		break;
	case MILTER_C_EOB:
		if (accept_only) {
			reset(c);
			return reply(c, MILTER_R_ACCEPT);
		}
		if ((!c->eoh && buf_append(&c->msg, "\r\n", 2) < 0) ||
		    buf_append(&c->msg, d, n) < 0 ||
		    milter_put_edits(&c->out, c->names.data ? c->names.data : "", c->names.len,
				     c->msg.data, c->msg.len, c->neg.proto & MILTER_P_HDR_LEADSPC) < 0 ||
		    milter_put(&c->out, MILTER_R_ADDHEADER, MARK, sizeof(MARK)) < 0 ||
		    reply(c, MILTER_R_ACCEPT) < 0)
			return -1;
		reset(c);
		return 0;
	case MILTER_C_ABORT: case MILTER_C_QUIT_NC: reset(c); return 0;
	case MILTER_C_QUIT: c->quit = true; return 0;
	case MILTER_C_MACRO: return 0;
	default: break; /* CONNECT, HELO, MAIL, RCPT, DATA, UNKNOWN: continue */
	}
	return want ? reply(c, MILTER_R_CONTINUE) : 0;
}

static void serve(int fd)
{
	size_t max = (size_t)limit_table[LIM_MILTER_PACKET].def + MILTER_HDR_BYTES;
	size_t msg_max = (size_t)limit_table[LIM_MESSAGE_SIZE].def;
	nm_t c = { .fd = fd };

	buf_init(&c.in, max * 2);
	buf_init(&c.out, msg_max * 2);
	buf_init(&c.msg, msg_max);
	buf_init(&c.names, msg_max);
	while (!c.quit) {
		char tmp[65536], cmd;
		const char *d;
		size_t dlen, used;
		ssize_t r = read(fd, tmp, sizeof(tmp));

		if (r <= 0 || buf_append(&c.in, tmp, (size_t)r) < 0)
			break;
		for (;;) {
			milter_frame_t f = milter_frame_find(c.in.data, c.in.len, max, &cmd, &d, &dlen,
							     &used);

			if (f == MILTER_FRAME_MORE)
				break;
			if (f == MILTER_FRAME_BAD || packet(&c, cmd, d, dlen) < 0)
				_exit(1);
			memmove(c.in.data, c.in.data + used, c.in.len - used);
			c.in.len -= used;
		}
		if (c.out.len && io_write_all(fd, c.out.data, c.out.len) < 0)
			break;
		buf_reset(&c.out);
	}
	_exit(0);
}

int main(int argc, char **argv)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int one = 1, s;

	if (argc == 3 && strcmp(argv[1], "-a") == 0) {
		accept_only = true;
		argv++, argc--;
	}
	if (argc != 2) {
		fprintf(stderr, "usage: null_milter [-a] PORT\n");
		return 2;
	}
	sa.sin_port = htons((uint16_t)atoi(argv[1]));
	signal(SIGCHLD, SIG_IGN); /* children are reaped by the kernel */
	s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0 || setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(s, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(s, 64) < 0) {
		perror("null_milter");
		return 1;
	}
	for (;;) {
		int fd = accept(s, NULL, NULL);

		if (fd < 0)
			continue;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		if (fork() == 0) {
			close(s);
			serve(fd);
		}
		close(fd);
	}
}
