/*
 * worker.c — the one worker layer (see worker.h): the result frame, reading
 * it under a deadline and a cap, reaping, and the one-shot fork-per-job
 * worker of the CLI. mugaid's persistent worker (daemon/sanitizer.c) uses
 * the same frame, reader, statuses and reaping.
 *
 * SECURITY: a frame's length is checked against the cap before any byte of
 * it is stored; nothing else of it is read here.
 */
#include "common/worker.h"
#include "common/io.h"
#include "common/sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

long long worker_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The length and the record in one writev (one wake-up of the reader);
 * what a short write left goes after it. */
int worker_send_result(int fd, const buf_t *out)
{
	uint64_t n = out->len;
	struct iovec iov[2] = { { &n, sizeof(n) }, { out->data, out->len } };
	ssize_t w;

	do
		w = writev(fd, iov, out->len ? 2 : 1);
	while (w < 0 && errno == EINTR);
	if (w < 0)
		return -1;
	if ((size_t)w < sizeof(n) && io_write_all(fd, (char *)&n + w, sizeof(n) - (size_t)w) < 0)
		return -1;
	w = (size_t)w < sizeof(n) ? 0 : w - (ssize_t)sizeof(n);
	return (size_t)w < out->len ? io_write_all(fd, out->data + w, out->len - (size_t)w) : 0;
}

int worker_read_full(int fd, void *p, size_t n, long long deadline_ms)
{
	char *c = p;

	while (n) {
		struct pollfd pf = { fd, POLLIN, 0 };
		long long left = deadline_ms - worker_now_ms();
		ssize_t r;

		if (left <= 0)
			return WORKER_READ_LATE;
		if (poll(&pf, 1, (int)(left > 1000 ? 1000 : left)) <= 0)
			continue;
		r = read(fd, c, n);
		if (r < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (r <= 0)
			return -1;
		c += r;
		n -= (size_t)r;
	}
	return 0;
}

/* What is already in, without a poll: the record follows its length in
 * one writev. One recv on a socket; 0 from a pipe (ENOTSOCK) or when
 * nothing is there (worker_read_full polls for the rest). */
static size_t read_ready(int fd, char *p, size_t n)
{
	ssize_t r = recv(fd, p, n, MSG_DONTWAIT);

	return r > 0 ? (size_t)r : 0;
}

/* What a failed worker_read_full means for the job. */
static worker_status_t read_failed(int r)
{
	return r == WORKER_READ_LATE ? WORKER_TIMEOUT : WORKER_CRASHED;
}

/* The body of a result frame whose length n was read: into result
 * (replacing its contents), at most max bytes. */
static worker_status_t recv_body(int fd, uint64_t n, long long deadline_ms, size_t max,
				 buf_t *result)
{
	int r = 0;

	buf_reset(result);
	if (n > max || buf_reserve(result, (size_t)n) < 0)
		return WORKER_TOO_BIG;
	if (n) {
		size_t got = read_ready(fd, result->data, (size_t)n);

		r = got < n ? worker_read_full(fd, result->data + got, (size_t)n - got, deadline_ms) : 0;
	}
	if (r != 0)
		return read_failed(r);
	result->len = (size_t)n;
	if (result->data)
		result->data[n] = '\0';
	return WORKER_OK;
}

worker_status_t worker_recv_result(int fd, long long deadline_ms, size_t max, buf_t *result)
{
	uint64_t n;
	int r = worker_read_full(fd, &n, sizeof(n), deadline_ms);

	if (r != 0) {
		buf_reset(result);
		return read_failed(r);
	}
	return recv_body(fd, n, deadline_ms, max, result);
}

int worker_reap(pid_t pid, bool kill_first, int *sig)
{
	int ws = 0;

	*sig = 0;
	if (kill_first)
		kill(pid, SIGKILL);
	while (waitpid(pid, &ws, 0) < 0)
		if (errno != EINTR)
			return -1;
	*sig = WIFSIGNALED(ws) ? WTERMSIG(ws) : 0;
	return WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + *sig;
}

/* ---- one-shot ---- */

static int spill_fd = -1; /* the child's end, when its parent takes spills */

int worker_spill(const void *p, size_t n)
{
	const char *c = p;

	if (spill_fd < 0)
		return -1;
	while (n) { /* parts of at most WORKER_SPILL_MAX */
		size_t k = n < WORKER_SPILL_MAX ? n : WORKER_SPILL_MAX;
		uint64_t h = (uint64_t)k | WORKER_SPILL_FLAG;

		if (io_write_all(spill_fd, &h, sizeof(h)) < 0 || io_write_all(spill_fd, c, k) < 0)
			return -1;
		c += k;
		n -= k;
	}
	return 0;
}

static void __attribute__((noreturn)) child(const limits_t *l, worker_fn fn, void *arg, int fd,
					    bool spills)
{
	buf_t out;

	sandbox_close_fds((int[]){ 2, fd }, 2);
	if (sandbox_enter(l) < 0)
		_exit(WORKER_EXIT_NO_SANDBOX);
	if (spills)
		spill_fd = fd;
	buf_init(&out, UNCAPPED_BY(LIM_RESULT_SIZE)); /* the parent reads at most that */
	if (fn(arg, &out) < 0 || worker_send_result(fd, &out) < 0)
		_exit(1);
	_exit(0);
}

/* After its frame (or EOF) the child must exit by the deadline; one that
 * closed its end and lingers is killed there. True when it was late. */
static bool wait_exit(pid_t pid, long long deadline_ms)
{
	int pfd = (int)syscall(SYS_pidfd_open, pid, 0);
	bool late = false;

	if (pfd >= 0) {
		struct pollfd p = { pfd, POLLIN, 0 };
		long long left = deadline_ms - worker_now_ms();
		int r;

		do
			r = poll(&p, 1, left > 0 ? (int)left : 0);
		while (r < 0 && errno == EINTR);
		late = r == 0;
		close(pfd);
	}
	return late;
}

/* Classify the child's end: its frame (st), then how it exited. */
static worker_status_t finish(pid_t pid, worker_status_t st, long long deadline_ms)
{
	bool kill_first = st == WORKER_TIMEOUT || st == WORKER_TOO_BIG;
	int sig, code;

	if (!kill_first && wait_exit(pid, deadline_ms))
		kill_first = true, st = WORKER_TIMEOUT;
	code = worker_reap(pid, kill_first, &sig);
	if (code < 0)
		return WORKER_SYSERR;
	if (kill_first)
		return st;
	if (sig)
		return sig == SIGXCPU ? WORKER_TIMEOUT : WORKER_CRASHED;
	if (code == WORKER_EXIT_NO_SANDBOX)
		return WORKER_NO_SANDBOX;
	return code == 0 ? st : WORKER_CRASHED;
}

/* The spills, then the result: at most out_max bytes in all. */
static worker_status_t recv_spills(int fd, long long deadline, size_t out_max, buf_t *result,
				   worker_spill_fn spill, void *spill_arg)
{
	buf_t part;
	size_t total = 0;
	worker_status_t st = WORKER_OK;

	buf_init(&part, WORKER_SPILL_MAX);
	for (;;) {
		uint64_t n;
		int r = worker_read_full(fd, &n, sizeof(n), deadline);

		if (r != 0) {
			st = read_failed(r);
			break;
		}
		if (!(n & WORKER_SPILL_FLAG)) { /* the result: what is left of out_max */
			st = recv_body(fd, n, deadline, out_max - total, result);
			break;
		}
		n &= ~WORKER_SPILL_FLAG;
		if (n == 0 || n > WORKER_SPILL_MAX) {
			st = WORKER_CRASHED; /* not a frame a child of ours writes */
			break;
		}
		if (n > out_max - total) {
			st = WORKER_TOO_BIG;
			break;
		}
		buf_reset(&part);
		if (buf_reserve(&part, (size_t)n) < 0) {
			st = WORKER_SYSERR;
			break;
		}
		r = worker_read_full(fd, part.data, (size_t)n, deadline);
		if (r != 0) {
			st = read_failed(r);
			break;
		}
		total += (size_t)n;
		if (spill(spill_arg, part.data, (size_t)n) < 0) {
			st = WORKER_SYSERR;
			break;
		}
	}
	buf_free(&part);
	return st;
}

static worker_status_t run_child(const limits_t *l, worker_fn fn, void *arg, size_t out_max,
				 buf_t *result, worker_spill_fn spill, void *spill_arg)
{
	int fds[2];
	pid_t pid;
	worker_status_t st;
	long long deadline = worker_now_ms() + lim(l, LIM_WALL_TIME) * 1000;

	if (pipe2(fds, O_CLOEXEC) < 0)
		return WORKER_SYSERR;
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		close(fds[0]);
		close(fds[1]);
		return WORKER_SYSERR;
	}
	if (pid == 0)
		child(l, fn, arg, fds[1], spill != NULL);
	close(fds[1]);
	buf_reset(result);
	st = spill ? recv_spills(fds[0], deadline, out_max, result, spill, spill_arg)
		   : worker_recv_result(fds[0], deadline, out_max, result);
	close(fds[0]);
	if (st == WORKER_SYSERR) { /* ours, not the child's: it is killed */
		int sig;

		(void)worker_reap(pid, true, &sig);
		return st;
	}
	return finish(pid, st, deadline);
}

worker_status_t worker_run(const limits_t *l, worker_fn fn, void *arg, size_t out_max,
			   buf_t *result)
{
	return run_child(l, fn, arg, out_max, result, NULL, NULL);
}

worker_status_t worker_run_spill(const limits_t *l, worker_fn fn, void *arg, size_t out_max,
				 buf_t *result, worker_spill_fn spill, void *spill_arg)
{
	return run_child(l, fn, arg, out_max, result, spill, spill_arg);
}

const char *worker_status_name(worker_status_t s)
{
	static const char *const names[] = { "ok", "worker-crash", "timeout", "result-too-big",
					     "no-sandbox", "system-error" };

	return names[s];
}
