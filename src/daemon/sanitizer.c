/*
 * sanitizer.c — the persistent sandboxed sanitizer worker and its parent
 * side (see sanitizer.h).
 *
 * Test hooks (read by the worker before it enters the sandbox; they can
 * only make the worker fail, never weaken it): MUGAID_TEST_WORKER=
 *   nosandbox  report that the sandbox could not be installed
 *   open       call open() during each job (seccomp must kill the worker)
 *   socket     call socket() during each job (likewise)
 *   spin:MS    busy-wait MS milliseconds before each job (fault tests)
 *
 * SECURITY: the worker holds no descriptor but its socket and stderr, and
 * enters sandbox_enter_recv() before it reads any job. The parent reads at
 * most result_size_max of reply (the CLI's cap too), under the wall clock;
 * each job gets cpu_time_max CPU seconds measured on the worker's CPU clock
 * (RLIMIT_CPU raised per job by prlimit is the backstop).
 */
#include "daemon/sanitizer.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/id.h"
#include "common/log.h"
#include "common/sandbox.h"
#include "common/io.h"
#include "daemon/smtp.h"
#include "mail/wire.h"

#define JOB_MAGIC 0x424f4a4dU /* "MJOB" */
#define READY_TIMEOUT_MS 15000
#define EXIT_NO_SANDBOX 3

typedef struct job_hdr {
	uint32_t magic;
	uint32_t pad;
	uint64_t len;
	char id[MUGAI_ID_LEN + 8];
	char sender[SMTP_PATH_MAX + 1]; /* MAIL FROM, for a notice whose header is unreadable */
} job_hdr_t;

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}


/* ---- worker side ---- */

static int recv_job(int sock, job_hdr_t *h, int *fd)
{
	union { struct cmsghdr c; char b[CMSG_SPACE(sizeof(int))]; } u;
	struct iovec iov = { h, sizeof(*h) };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.b,
			    .msg_controllen = sizeof(u.b) };
	struct cmsghdr *c;
	ssize_t n;

	do
		n = recvmsg(sock, &m, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	c = n == (ssize_t)sizeof(*h) ? CMSG_FIRSTHDR(&m) : NULL;
	if (!c || c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS ||
	    c->cmsg_len != CMSG_LEN(sizeof(int)) || h->magic != JOB_MAGIC)
		return -1;
	memcpy(fd, CMSG_DATA(c), sizeof(int));
	h->id[sizeof(h->id) - 1] = '\0';
	h->sender[sizeof(h->sender) - 1] = '\0';
	return 0;
}

static void test_hook(const char *hook)
{
	if (!hook)
		return;
	if (strcmp(hook, "open") == 0)
		(void)!open("/etc/passwd", O_RDONLY);
	else if (strcmp(hook, "socket") == 0)
		(void)!socket(AF_INET, SOCK_STREAM, 0);
	else if (strncmp(hook, "spin:", 5) == 0) {
		long long until = now_ms() + atol(hook + 5);

		while (now_ms() < until)
			;
	}
}

/* One job: map the sealed memfd, sanitize, send [u64 len][record]. */
static int run_job(const cfg_t *cfg, int sock, const job_hdr_t *h, int fd)
{
	struct stat st;
	const char *in = "";
	buf_t out;
	uint64_t n;
	int rc = -1;

	buf_init(&out, UNCAPPED_BY(LIM_RESULT_SIZE));
	if (fstat(fd, &st) < 0 || (uint64_t)st.st_size < h->len)
		goto out;
	if (h->len && (in = mmap(NULL, h->len, PROT_READ, MAP_PRIVATE, fd, 0)) == MAP_FAILED)
		goto out;
	rc = mail_wire_run_env(cfg, h->id, &(mail_env_t){ h->sender, false }, in, (size_t)h->len,
			       &out);
	if (h->len)
		munmap((void *)in, h->len);
	n = out.len;
	if (rc == 0)
		rc = io_write_all(sock, &n, sizeof(n)) == 0 ? io_write_all(sock, out.data, out.len) : -1;
out:
	close(fd);
	buf_free(&out);
	return rc;
}

static void __attribute__((noreturn)) worker_main(const cfg_t *cfg, int sock, pid_t parent)
{
	const char *hook = getenv("MUGAID_TEST_WORKER");
	int null = open("/dev/null", O_RDWR);
	job_hdr_t h;
	int fd;

	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent || null < 0)
		_exit(1);
	prctl(PR_SET_NAME, "mugaid-worker");
	dup2(null, 0);
	dup2(null, 1);
	sandbox_close_fds((int[]){ 0, 1, 2, sock }, 4);
	if ((hook && strcmp(hook, "nosandbox") == 0) || sandbox_enter_recv(&cfg->lim, sock) < 0) {
		(void)!write(sock, "N", 1);
		_exit(EXIT_NO_SANDBOX);
	}
	if (io_write_all(sock, "R", 1) < 0)
		_exit(1);
	while (recv_job(sock, &h, &fd) == 0) {
		test_hook(hook);
		if (run_job(cfg, sock, &h, fd) < 0)
			_exit(1);
	}
	_exit(0);
}

/* ---- parent side ---- */

void sanitizer_init(sanitizer_t *w)
{
	memset(w, 0, sizeof(*w));
	w->sock = -1;
}

static int reap(pid_t pid, int *sig)
{
	int ws = 0;

	while (waitpid(pid, &ws, 0) < 0)
		if (errno != EINTR)
			return -1;
	*sig = WIFSIGNALED(ws) ? WTERMSIG(ws) : 0;
	return WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + *sig;
}

void sanitizer_stop(sanitizer_t *w)
{
	int sig;

	if (w->sock >= 0)
		close(w->sock);
	if (w->pid > 0) {
		kill(w->pid, SIGKILL);
		(void)reap(w->pid, &sig);
	}
	w->sock = -1;
	w->pid = 0;
	w->jobs = 0;
}

/* Wait for n bytes with a deadline; 0, -1 EOF/error, -2 timeout. */
static int read_full(int fd, void *p, size_t n, long long deadline)
{
	char *c = p;

	while (n) {
		struct pollfd pf = { fd, POLLIN, 0 };
		long long left = deadline - now_ms();
		ssize_t r;

		if (left <= 0)
			return -2;
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

static void __attribute__((noreturn)) start_child(const cfg_t *cfg, int sv[2], pid_t parent)
{
	close(sv[0]);
	worker_main(cfg, sv[1], parent);
}

int sanitizer_start(sanitizer_t *w, const cfg_t *cfg, bool *no_sandbox)
{
	pid_t parent = getpid();
	int sv[2], sig;
	char c = 0;

	*no_sandbox = false;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return -1;
	w->pid = fork();
	if (w->pid == 0)
		start_child(cfg, sv, parent);
	close(sv[1]);
	w->sock = sv[0];
	if (w->pid < 0) {
		w->pid = 0;
		sanitizer_stop(w);
		return -1;
	}
	if (read_full(w->sock, &c, 1, now_ms() + READY_TIMEOUT_MS) == 0 && c == 'R') {
		w->jobs = 0;
		w->started++;
		return 0;
	}
	close(w->sock);
	w->sock = -1;
	kill(w->pid, SIGKILL);
	*no_sandbox = c == 'N' || reap(w->pid, &sig) == EXIT_NO_SANDBOX;
	if (c == 'N')
		(void)reap(w->pid, &sig);
	w->pid = 0;
	return -1;
}

static int send_job(sanitizer_t *w, const char *id, const char *sender, int memfd, size_t len)
{
	union { struct cmsghdr c; char b[CMSG_SPACE(sizeof(int))]; } u;
	job_hdr_t h = { .magic = JOB_MAGIC, .len = len };
	struct iovec iov = { &h, sizeof(h) };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.b,
			    .msg_controllen = sizeof(u.b) };
	struct cmsghdr *c = CMSG_FIRSTHDR(&m);
	ssize_t n;

	snprintf(h.id, sizeof(h.id), "%s", id);
	snprintf(h.sender, sizeof(h.sender), "%s", sender ? sender : "");
	memset(u.b, 0, sizeof(u.b));
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &memfd, sizeof(int));
	do
		n = sendmsg(w->sock, &m, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	return n == (ssize_t)sizeof(h) ? 0 : -1;
}

/* A running worker that has accepted the job, or -1 (infrastructure).
 * *cpu0: the worker's CPU ms before the job; its CPU limit is raised to
 * cpu_time_max from there (per job, not summed over the worker's life). */
static int dispatch(sanitizer_t *w, const cfg_t *cfg, const char *id, const char *sender,
		    int memfd, size_t len, long long *cpu0)
{
	bool nosb;

	for (int attempt = 0; attempt < 2; attempt++) {
		if (w->pid == 0 && sanitizer_start(w, cfg, &nosb) < 0) {
			log_err("cannot start a sanitizer worker%s",
				nosb ? ": the sandbox could not be installed" : "");
			return -1;
		}
		*cpu0 = sandbox_cpu_job(w->pid, &cfg->lim);
		if (*cpu0 < 0) {
			log_err("sanitizer worker %d: cannot set its CPU limit: %s", (int)w->pid,
				strerror(errno));
			sanitizer_stop(w);
			return -1;
		}
		if (send_job(w, id, sender, memfd, len) == 0)
			return 0;
		sanitizer_stop(w); /* died while idle (e.g. killed): start a fresh one */
	}
	return -1;
}

static sanitizer_status_t collect(sanitizer_t *w, const cfg_t *cfg, buf_t *result)
{
	long long deadline = now_ms() + lim(&cfg->lim, LIM_WALL_TIME) * 1000;
	uint64_t n, cap = (uint64_t)lim(&cfg->lim, LIM_RESULT_SIZE); /* as the CLI's */
	int r = read_full(w->sock, &n, sizeof(n), deadline);

	if (r == 0 && n > cap)
		return SAN_TOO_BIG;
	if (r == 0 && buf_reserve(result, (size_t)n) < 0)
		return SAN_TOO_BIG;
	if (r == 0)
		r = read_full(w->sock, result->data, (size_t)n, deadline);
	if (r == 0) {
		result->len = (size_t)n;
		result->data[n] = '\0';
	}
	return r == 0 ? SAN_OK : r == -2 ? SAN_TIMEOUT : SAN_CRASHED;
}

sanitizer_status_t sanitizer_job(sanitizer_t *w, const cfg_t *cfg, const char *id,
				 const char *sender, int memfd, size_t len, buf_t *result, int *sig)
{
	sanitizer_status_t st;
	long long cpu0 = 0, cpu1;

	*sig = 0;
	if (dispatch(w, cfg, id, sender, memfd, len, &cpu0) < 0)
		return SAN_UNAVAILABLE;
	st = collect(w, cfg, result);
	cpu1 = sandbox_cpu_ms(w->pid);
	w->cpu_ms = cpu1 >= cpu0 ? cpu1 - cpu0 : 0;
	if (st != SAN_OK) {
		close(w->sock);
		w->sock = -1;
		kill(w->pid, SIGKILL);
		(void)reap(w->pid, sig);
		if (st == SAN_CRASHED && (*sig == SIGXCPU ||
		    w->cpu_ms >= lim(&cfg->lim, LIM_CPU_TIME) * 1000))
			st = SAN_TIMEOUT;
		if (st != SAN_CRASHED)
			*sig = 0;
		w->pid = 0;
		return st;
	}
	if (++w->jobs >= cfg_int(cfg, CFG_WORKER_MAX_USE))
		sanitizer_stop(w);
	return SAN_OK;
}

const char *sanitizer_status_name(sanitizer_status_t s)
{
	static const char *const names[] = { "ok", "worker-crash", "timeout", "result-too-big",
					     "no-worker" };

	return names[s];
}
