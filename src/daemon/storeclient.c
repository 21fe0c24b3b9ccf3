/*
 * storeclient.c — start a store process, open channels to it and call it
 * (see storeclient.h).
 *
 * SECURITY: the child gets nothing but its socket (descriptor 3) and
 * stderr across exec (every other descriptor of mugaid is close-on-exec);
 * PR_SET_PDEATHSIG ends it with the master. Answers are length-capped.
 */
#include "daemon/storeclient.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/io.h"
#include "common/log.h"
#include "daemon/daemon.h"

#define STORE_FD 3
#define CONFIG_FD 4 /* the config file's bytes (a memfd), when there is one */

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static size_t answer_max(const cfg_t *cfg)
{
	sw_caps_t caps = { (size_t)lim(&cfg->lim, LIM_SMTP_RECIPIENTS), 0, 0 };

	return storewire_frame_max(&caps);
}

void storecl_init(storecl_t *c, int fd, const cfg_t *cfg)
{
	memset(c, 0, sizeof(*c));
	c->fd = fd;
	c->timeout_ms = (int)lim(&cfg->lim, LIM_STORE_BUSY) * 2000;
	buf_init(&c->in, answer_max(cfg));
}

static void __attribute__((noreturn)) exec_store(const daemon_ctx_t *d, const char *role, int fd,
						pid_t parent)
{
	char *argv[] = { "mugaid-store", (char *)role, (char *)(d->cfg_path ? d->cfg_path : "-"),
			 NULL };

	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
		_exit(1);
	/* move both above 4 first: either may sit on 3 or 4 now */
	int sock = fcntl(fd, F_DUPFD_CLOEXEC, CONFIG_FD + 1);
	int conf = d->cfg_fd >= 0 ? fcntl(d->cfg_fd, F_DUPFD_CLOEXEC, CONFIG_FD + 1) : -1;
	int exe = d->store_exe >= 0 ? fcntl(d->store_exe, F_DUPFD_CLOEXEC, CONFIG_FD + 1) : -1;

	if (sock < 0 || dup2(sock, STORE_FD) < 0 || (d->cfg_fd >= 0 && (conf < 0 ||
						     dup2(conf, CONFIG_FD) < 0)))
		_exit(1);
	signal(SIGPIPE, SIG_DFL);
	if (exe >= 0)
		fexecve(exe, argv, environ);
	else
		execv(d->store_bin, argv);
	fprintf(stderr, "mugaid: cannot start the store process %s: %s\n", d->store_bin,
		strerror(errno));
	_exit(127);
}

int storecl_spawn(const daemon_ctx_t *d, const char *role, storecl_t *c)
{
	pid_t parent = getpid();
	int sv[2];

	storecl_init(c, -1, &d->cfg);
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return -1;
	c->pid = fork();
	if (c->pid == 0) {
		close(sv[0]);
		exec_store(d, role, sv[1], parent);
	}
	close(sv[1]);
	if (c->pid < 0) {
		close(sv[0]);
		c->pid = 0;
		return -1;
	}
	c->fd = sv[0];
	return 0;
}

int storecl_attach(int ctl, char role, int *fd)
{
	int sv[2];

	*fd = -1;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return -1;
	if (io_send_fds(ctl, &role, 1, &sv[1], 1) < 0) {
		close(sv[0]);
		close(sv[1]);
		return -1;
	}
	close(sv[1]);
	*fd = sv[0];
	return 0;
}

void storecl_close(storecl_t *c)
{
	(void)!storecl_settle(c); /* (its failure is logged there) */
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	buf_free(&c->in);
}

static int broken(storecl_t *c, const char *what)
{
	snprintf(c->err, sizeof(c->err), "store process: %s", what);
	c->cls = SW_E_IO;
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	return -1;
}

static int send_req(storecl_t *c, const buf_t *b, int fd)
{
	return io_send_fds(c->fd, b->data, b->len, &fd, fd >= 0);
}

/* n more bytes into c->in before deadline; a descriptor into *rfd. wait:
 * poll first (an answer to a request just sent); else what is already
 * there is read without a poll (an answer's body follows its header, a
 * deferred answer is usually in by the next call). */
static int recv_n(storecl_t *c, size_t n, long long deadline, int *rfd, bool wait)
{
	char chunk[IO_CHUNK];

	while (n) {
		union { struct cmsghdr h; char b[CMSG_SPACE(sizeof(int))]; } u;
		struct iovec iov = { chunk, n < sizeof(chunk) ? n : sizeof(chunk) };
		struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.b,
				    .msg_controllen = sizeof(u.b) };
		struct pollfd pf = { c->fd, POLLIN, 0 };
		long long left = deadline - now_ms();
		struct cmsghdr *h;
		ssize_t r;

		if (left <= 0)
			return -1;
		if (wait && poll(&pf, 1, (int)(left > 1000 ? 1000 : left)) <= 0)
			continue;
		r = recvmsg(c->fd, &m, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
		wait = r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
		if (r < 0 && (errno == EINTR || wait))
			continue;
		if (r <= 0)
			return -1;
		h = CMSG_FIRSTHDR(&m);
		if (h && h->cmsg_level == SOL_SOCKET && h->cmsg_type == SCM_RIGHTS &&
		    h->cmsg_len == CMSG_LEN(sizeof(int))) {
			if (*rfd >= 0)
				close(*rfd);
			memcpy(rfd, CMSG_DATA(h), sizeof(int));
		}
		if (buf_append(&c->in, chunk, (size_t)r) < 0)
			return -1;
		n -= (size_t)r;
	}
	return 0;
}

static int recv_ans(storecl_t *c, sw_ans_t *a, int *rfd, bool wait)
{
	long long deadline = now_ms() + c->timeout_ms;
	size_t len;

	buf_reset(&c->in);
	if (recv_n(c, SW_HDR_LEN, deadline, rfd, wait) < 0)
		return broken(c, "no answer (it died or timed out)");
	len = storewire_frame_len(c->in.data, c->in.max);
	if (len == 0 || recv_n(c, len - SW_HDR_LEN, deadline, rfd, false) < 0)
		return broken(c, "truncated answer");
	if (storewire_decode_ans(c->in.data, c->in.len, a) < 0 || (a->type != SW_OK &&
								   a->type != SW_ERR))
		return broken(c, "malformed answer");
	if ((*rfd >= 0) != (a->type == SW_OK && a->item))
		return broken(c, "answer and descriptor disagree");
	if (a->type == SW_ERR) {
		snprintf(c->err, sizeof(c->err), "%s", a->msg);
		c->cls = a->cls;
		return -1;
	}
	return 0;
}

/* Encode and send one request (with send_fd when >= 0). */
static int send_one(storecl_t *c, const sw_req_t *q, int send_fd)
{
	buf_t req;
	int rc;

	if (c->fd < 0)
		return broken(c, "not running");
	buf_init(&req, UNCAPPED_BY(LIM_REPORT_SIZE)); /* the report, and the store process enforces its frame cap */
	rc = storewire_encode_req(&req, q);
	if (rc < 0) {
		buf_free(&req);
		snprintf(c->err, sizeof(c->err), "request too large or out of memory");
		c->cls = SW_E_PROTO;
		return -1;
	}
	rc = send_req(c, &req, send_fd);
	buf_free(&req);
	return rc < 0 ? broken(c, "cannot send (it died)") : 0;
}

int storecl_settle(storecl_t *c)
{
	sw_ans_t a;
	int fd = -1;

	if (!c->owed || c->pending)
		return 0;
	c->owed = false;
	if (c->fd < 0)
		return -1;
	if (recv_ans(c, &a, &fd, false) < 0) {
		log_warn("%s: %s", c->owed_what, c->err);
		if (fd >= 0)
			close(fd);
		return c->fd < 0 ? -1 : 0;
	}
	return 0;
}

int storecl_send(storecl_t *c, const sw_req_t *q, const char *what)
{
	if (c->pending) {
		snprintf(c->err, sizeof(c->err), "answers still in flight");
		c->cls = SW_E_PROTO;
		return -1;
	}
	if (storecl_settle(c) < 0 || send_one(c, q, -1) < 0)
		return -1;
	snprintf(c->owed_what, sizeof(c->owed_what), "%s", what);
	c->owed = true;
	return 0;
}

int storecl_begin(storecl_t *c, const sw_req_t *q, int send_fd)
{
	if (c->pending >= STORECL_PENDING_MAX) {
		snprintf(c->err, sizeof(c->err), "too many requests in flight");
		c->cls = SW_E_PROTO;
		return -1;
	}
	if ((!c->pending && storecl_settle(c) < 0) || send_one(c, q, send_fd) < 0)
		return -1;
	c->pending++;
	return 0;
}

int storecl_end(storecl_t *c, sw_ans_t *a, int *recv_fd)
{
	int fd = -1, rc;

	if (recv_fd)
		*recv_fd = -1;
	if (!c->pending) {
		snprintf(c->err, sizeof(c->err), "no request in flight");
		c->cls = SW_E_PROTO;
		return -1;
	}
	c->pending--;
	if (c->fd < 0)
		return broken(c, "not running");
	rc = recv_ans(c, a, &fd, true);
	if (fd >= 0 && (rc < 0 || !recv_fd))
		close(fd); /* a caller that asks for no descriptor gets none */
	else if (recv_fd)
		*recv_fd = fd;
	return rc;
}

int storecl_call(storecl_t *c, const sw_req_t *q, int send_fd, sw_ans_t *a, int *recv_fd)
{
	if (recv_fd)
		*recv_fd = -1;
	if (storecl_begin(c, q, send_fd) < 0)
		return -1;
	return storecl_end(c, a, recv_fd);
}

int storecl_rcpt_split(const char *list, char **copy, const char ***rcpt, size_t *n)
{
	size_t cap = 1;

	*n = 0;
	*rcpt = NULL;
	if (!(*copy = strdup(list ? list : "")))
		return -1;
	for (const char *p = *copy; *p; p++)
		cap += *p == ',';
	if (!(*rcpt = calloc(cap, sizeof(**rcpt))))
		return -1;
	for (char *save = NULL, *t = strtok_r(*copy, ",", &save); t && *n < cap;
	     t = strtok_r(NULL, ",", &save))
		(*rcpt)[(*n)++] = t;
	return 0;
}

int storecl_read_memfd(int fd, uint64_t len, size_t max, buf_t *out)
{
	struct stat sb;
	const char *map;
	int rc;

	if (len > max || fstat(fd, &sb) < 0 || (uint64_t)sb.st_size != len)
		return -1;
	if (len == 0)
		return 0;
	map = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, 0);
	if (map == MAP_FAILED)
		return -1;
	rc = buf_append(out, map, len);
	munmap((void *)map, len);
	return rc;
}
