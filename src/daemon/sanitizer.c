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
 * Legacy attachments take a second job (mail/conv.h): the first result's
 * conversion requests are run in LibreOffice's jail by this (session)
 * process, in at most legacy_concurrent_max jails across mugaid
 * (jail_slots_init), and the answers go to the worker as a second memfd.
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
#include "common/worker.h"
#include "common/io.h"
#include "common/jail.h"
#include "daemon/smtp.h"
#include "mail/conv.h"
#include "mail/ppapscan.h"
#include "mail/wire.h"

#define JOB_MAGIC 0x424f4a4dU /* "MJOB" */
#define READY_TIMEOUT_MS 15000

typedef struct job_hdr {
	uint32_t magic;
	uint32_t pad;
	uint64_t len;
	char id[MUGAI_ID_LEN + 8];
	char sender[SMTP_PATH_MAX + 1]; /* MAIL FROM, for a notice whose header is unreadable */
	uint64_t conv_len; /* second pass: the answer record's length (second fd), else 0 */
	mail_facts_t facts; /* antivirus and first contact (session), av "" when none */
	uint32_t has_facts;
	uint64_t pw_len;   /* PPAP pairing: length of the last fd (a password mail or a typed password), else 0 */
	uint32_t pw_kind;  /* SAN_PW_MAIL or SAN_PW_TYPED */
	char ppap_of[MUGAI_ID_LEN + 8]; /* PPAP pairing: the held original's id */
} job_hdr_t;


/* ---- worker side ---- */

static int devnull = -1; /* the worker's stdin and stdout */

static int recv_job(int sock, job_hdr_t *h, int fd[3])
{
	union { struct cmsghdr c; char b[CMSG_SPACE(IO_SEND_FDS_MAX * sizeof(int))]; } u;
	struct iovec iov = { h, sizeof(*h) };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.b,
			    .msg_controllen = sizeof(u.b) };
	struct cmsghdr *c;
	int got[3];
	size_t nfd;
	ssize_t n;

	do
		n = recvmsg(sock, &m, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	c = n == (ssize_t)sizeof(*h) ? CMSG_FIRSTHDR(&m) : NULL;
	nfd = 1 + (h->conv_len ? 1 : 0) + (h->pw_len ? 1 : 0);
	if (!c || c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS ||
	    c->cmsg_len != CMSG_LEN(nfd * sizeof(int)) || h->magic != JOB_MAGIC)
		return -1;
	memcpy(got, CMSG_DATA(c), nfd * sizeof(int));
	fd[0] = got[0];
	fd[1] = h->conv_len ? got[1] : -1;
	fd[2] = h->pw_len ? got[nfd - 1] : -1;
	h->id[sizeof(h->id) - 1] = '\0';
	h->sender[sizeof(h->sender) - 1] = '\0';
	h->facts.av[sizeof(h->facts.av) - 1] = '\0';
	h->facts.virus[sizeof(h->facts.virus) - 1] = '\0';
	h->facts.av_error[sizeof(h->facts.av_error) - 1] = '\0';
	h->facts.release_by[sizeof(h->facts.release_by) - 1] = '\0';
	h->facts.release_at[sizeof(h->facts.release_at) - 1] = '\0';
	h->ppap_of[sizeof(h->ppap_of) - 1] = '\0';
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
		long long until = worker_now_ms() + atol(hook + 5);

		while (worker_now_ms() < until)
			;
	}
}

/* Map len bytes of fd read-only ("" when empty); NULL on failure. */
static const char *map_in(int fd, uint64_t len)
{
	struct stat st;
	void *p;

	if (fstat(fd, &st) < 0 || (uint64_t)st.st_size < len || len > SIZE_MAX)
		return NULL;
	if (!len)
		return "";
	p = mmap(NULL, (size_t)len, PROT_READ, MAP_PRIVATE, fd, 0);
	return p == MAP_FAILED ? NULL : p;
}

/* The conversions of this pass (mail/conv.h): the answers decoded from
 * the second descriptor, or an empty set for the requests. */
static int conv_in(const cfg_t *cfg, const job_hdr_t *h, int fd, conv_set_t *cv)
{
	const char *p;
	int rc;

	conv_set_init(cv);
	if (!h->conv_len)
		return 0;
	p = map_in(fd, h->conv_len);
	if (!p)
		return -1;
	rc = conv_decode(p, (size_t)h->conv_len, (size_t)lim(&cfg->lim, LIM_LEGACY_OUTPUT), cv);
	munmap((void *)p, (size_t)h->conv_len);
	return rc;
}

/* PPAP pairing: the candidates of the password mail (scanned by the mail
 * engine, its rebuilt output dropped), or the one typed password (up to
 * its first line end). They stay in this process. */
static int pw_in(const cfg_t *cfg, const job_hdr_t *h, int fd, ppap_cands_t *pc)
{
	const char *p = map_in(fd, h->pw_len);
	mail_report_t rep;
	buf_t scratch;
	int rc = -1;

	if (!p)
		return -1;
	if (h->pw_kind == SAN_PW_TYPED) {
		rc = ppap_add_typed(p, (size_t)h->pw_len, pc);
	} else {
		buf_init(&scratch, UNCAPPED_BY(LIM_RESULT_SIZE));
		rc = mail_sanitize_env(cfg, h->id, &(mail_env_t){ .sender = h->sender,
								  .ppap_collect = pc },
				       p, (size_t)h->pw_len, &scratch, &rep);
		report_free(&rep);
		if (scratch.data)
			explicit_bzero(scratch.data, scratch.len);
		buf_free(&scratch);
	}
	munmap((void *)p, h->pw_len);
	return rc;
}

/* One job: map the sealed memfd, sanitize, send the record as one frame. A
 * pairing job (pw_len) tries the password candidates on the encrypted
 * zips of the held original; otherwise, with ppap_window on, the
 * candidates of this message are only counted. */
static int run_job(const cfg_t *cfg, int sock, const job_hdr_t *h, const int fd[3])
{
	const char *in = map_in(fd[0], h->len);
	mail_env_t env = { .sender = h->sender };
	ppap_cands_t pc;
	conv_set_t cv;
	buf_t out;
	int rc = -1;

	buf_init(&out, UNCAPPED_BY(LIM_RESULT_SIZE));
	ppap_cands_init(&pc, lim(&cfg->lim, LIM_PPAP_CANDIDATES), lim(&cfg->lim, LIM_PPAP_CANDIDATE_LEN));
	if (conv_in(cfg, h, fd[1], &cv) < 0 || !in)
		goto out;
	env.conv = &cv;
	env.facts = h->has_facts ? &h->facts : NULL;
	if (h->pw_len) {
		if (pw_in(cfg, h, fd[2], &pc) < 0)
			goto out;
		env.ppap_pw = (const char *const *)pc.v;
		env.n_ppap_pw = pc.n;
		env.ppap_of = h->ppap_of;
	} else if (lim(&cfg->lim, LIM_PPAP_WINDOW) > 0 && cfg_is(cfg, CFG_ATTACHMENTS, "sanitize")) {
		env.ppap_collect = &pc; /* (with attachments removed, no zip is ever held) */
	}
	rc = mail_wire_run_env(cfg, h->id, &env, in, (size_t)h->len, &out);
	if (rc == 0)
		rc = worker_send_result(sock, &out);
out:
	ppap_cands_free(&pc);
	if (in && h->len)
		munmap((void *)in, h->len);
	conv_set_free(&cv);
	close(fd[0]);
	if (fd[1] >= 0)
		close(fd[1]);
	if (fd[2] >= 0)
		close(fd[2]);
	buf_free(&out);
	return rc;
}

static void __attribute__((noreturn)) worker_main(const cfg_t *cfg, int sock, pid_t parent)
{
	const char *hook = getenv("MUGAID_TEST_WORKER");
	int null = devnull; /* opened before the session's policy forbade open */
	job_hdr_t h;
	int fd[3];

	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent || null < 0)
		_exit(1);
	prctl(PR_SET_NAME, "mugaid-worker");
	dup2(null, 0);
	dup2(null, 1);
	sandbox_close_fds((int[]){ 0, 1, 2, sock }, 4);
	if ((hook && strcmp(hook, "nosandbox") == 0) || sandbox_enter_recv(&cfg->lim, sock) < 0) {
		(void)!write(sock, "N", 1);
		_exit(WORKER_EXIT_NO_SANDBOX);
	}
	if (io_write_all(sock, "R", 1) < 0)
		_exit(1);
	while (recv_job(sock, &h, fd) == 0) {
		test_hook(hook);
		if (run_job(cfg, sock, &h, fd) < 0)
			_exit(1);
	}
	_exit(0);
}

/* ---- parent side ---- */

void sanitizer_init(sanitizer_t *w)
{
	if (devnull < 0)
		devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
	memset(w, 0, sizeof(*w));
	w->sock = -1;
	w->conv_sock = -1;
}

/* ---- the converter: LibreOffice's jail for this session ----
 *
 * One record each way over a socketpair: a u64 length with a memfd holding
 * a conv record (mail/conv.h: the requests, then the answers). The
 * converter is forked before the session's seccomp policy (it must start
 * bubblewrap); it holds only its socket and stderr, and reads nothing but
 * the session's requests: hostile bytes it copies into the jail's tmpfs. */

static int rec_fd(const buf_t *rec)
{
	int fd = memfd_create("mugaid-conv", MFD_CLOEXEC);

	if (fd >= 0 && (io_write_all(fd, rec->data ? rec->data : "", rec->len) < 0 ||
			lseek(fd, 0, SEEK_SET) < 0)) {
		close(fd);
		fd = -1;
	}
	return fd;
}

static int send_rec(int sock, const buf_t *rec)
{
	uint64_t len = rec->len;
	int fd = rec_fd(rec), rc;

	if (fd < 0)
		return -1;
	rc = io_send_fds(sock, &len, sizeof(len), &fd, 1);
	close(fd);
	return rc;
}

/* Receive one record and decode it (items up to max bytes each). */
static int recv_rec(int sock, size_t max, conv_set_t *set)
{
	union { struct cmsghdr c; char b[CMSG_SPACE(sizeof(int))]; } u;
	uint64_t len = 0;
	struct iovec iov = { &len, sizeof(len) };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.b,
			    .msg_controllen = sizeof(u.b) };
	struct cmsghdr *c;
	const char *p;
	ssize_t n;
	int fd, rc;

	conv_set_init(set);
	do
		n = recvmsg(sock, &m, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	c = n == (ssize_t)sizeof(len) ? CMSG_FIRSTHDR(&m) : NULL;
	if (!c || c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS ||
	    c->cmsg_len != CMSG_LEN(sizeof(int)))
		return -1;
	memcpy(&fd, CMSG_DATA(c), sizeof(int));
	p = map_in(fd, len);
	close(fd);
	if (!p)
		return -1;
	rc = conv_decode(p, (size_t)len, max, set);
	if (len)
		munmap((void *)p, (size_t)len);
	return rc;
}

static void converter_main(const cfg_t *cfg, int sock)
{
	for (;;) {
		conv_set_t req, ans;
		buf_t rec;
		int rc;

		if (recv_rec(sock, (size_t)lim(&cfg->lim, LIM_DECODED_SIZE), &req) < 0)
			_exit(0); /* the session went away, or sent garbage */
		req.answered = false;
		rc = conv_run(cfg, &req, &ans);
		conv_set_free(&req);
		buf_init(&rec, UNCAPPED_BY(LIM_LEGACY_OUTPUT)); /* PDFs capped in the jail */
		if (rc < 0)
			conv_set_free(&ans), conv_set_init(&ans);
		if (conv_encode(&ans, &rec) < 0 || send_rec(sock, &rec) < 0)
			_exit(1);
		conv_set_free(&ans);
		buf_free(&rec);
	}
}

int sanitizer_conv_start(sanitizer_t *w, const cfg_t *cfg)
{
	int sv[2];

	if (!cfg_is(cfg, CFG_LEGACY_POLICY, "convert"))
		return 0;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return -1;
	w->conv_pid = fork();
	if (w->conv_pid < 0) {
		close(sv[0]);
		close(sv[1]);
		w->conv_pid = 0;
		return -1;
	}
	if (w->conv_pid == 0) {
		/* nothing of the session's: only the socket (close-on-exec, so
		 * the jail never sees it) and stderr */
		(void)prctl(PR_SET_PDEATHSIG, SIGKILL);
		sandbox_close_fds((int[]){ 0, 1, 2, sv[1], jail_slots_fd() }, 5);
		converter_main(cfg, sv[1]);
	}
	close(sv[1]);
	w->conv_sock = sv[0];
	return 0;
}

/* The conversions of one message, by the converter (or here, for a
 * session without a policy: tests of this file). A converter that fails is
 * marked dead: the session ends after this message and the master starts a
 * new one with a new converter. */
static int conv_call(sanitizer_t *w, const cfg_t *cfg, conv_set_t *req, conv_set_t *ans)
{
	buf_t rec;
	int rc = -1;

	if (w->conv_sock < 0 || w->conv_dead) {
		conv_set_init(ans);
		w->conv_dead = true;
		return -1;
	}
	for (size_t i = 0; i < req->n; i++)
		if (conv_sum(req->items[i].data.data ? req->items[i].data.data : "",
			     req->items[i].data.len, req->items[i].sum) < 0)
			return -1;
	buf_init(&rec, UNCAPPED_BY(LIM_DECODED_SIZE)); /* legacy_message_max attachments */
	if (conv_encode(req, &rec) == 0 && send_rec(w->conv_sock, &rec) == 0)
		rc = recv_rec(w->conv_sock, (size_t)lim(&cfg->lim, LIM_LEGACY_OUTPUT), ans);
	buf_free(&rec);
	if (rc < 0) {
		log_err("legacy converter failed: the session ends after this message");
		w->conv_dead = true;
	}
	return rc;
}

void sanitizer_stop(sanitizer_t *w)
{
	int sig;

	if (w->sock >= 0)
		close(w->sock);
	if (w->pid > 0) {
		(void)worker_reap(w->pid, true, &sig);
	}
	w->sock = -1;
	w->pid = 0;
	w->jobs = 0;
	if (w->conv_sock >= 0)
		close(w->conv_sock);
	if (w->conv_pid > 0) { /* its jail dies with it (--die-with-parent) */
		(void)worker_reap(w->conv_pid, true, &sig);
	}
	w->conv_sock = -1;
	w->conv_pid = 0;
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
	if (worker_read_full(w->sock, &c, 1, worker_now_ms() + READY_TIMEOUT_MS) == 0 && c == 'R') {
		w->jobs = 0;
		w->started++;
		return 0;
	}
	close(w->sock);
	w->sock = -1;
	*no_sandbox = c == 'N' || worker_reap(w->pid, c != 'N', &sig) == WORKER_EXIT_NO_SANDBOX;
	if (c == 'N')
		(void)worker_reap(w->pid, true, &sig);
	w->pid = 0;
	return -1;
}

/* The descriptors of one job: the message, and (second pass) the answers. */
typedef struct job_fds {
	int memfd;
	size_t len;
	int conv_fd;     /* -1 in the first pass */
	size_t conv_len;
	const mail_facts_t *facts;  /* or NULL */
	const sanitizer_pw_t *pw; /* PPAP pairing, or NULL */
} job_fds_t;

static int send_job(sanitizer_t *w, const char *id, const char *sender, const job_fds_t *f)
{
	job_hdr_t h = { .magic = JOB_MAGIC, .len = f->len, .conv_len = f->conv_len };
	int fds[3] = { f->memfd, f->conv_fd, -1 }, nfd = f->conv_len ? 2 : 1;

	snprintf(h.id, sizeof(h.id), "%s", id);
	snprintf(h.sender, sizeof(h.sender), "%s", sender ? sender : "");
	if (f->facts) {
		h.facts = *f->facts;
		h.has_facts = 1;
	}
	if (f->pw) {
		h.pw_len = f->pw->len;
		h.pw_kind = f->pw->kind;
		snprintf(h.ppap_of, sizeof(h.ppap_of), "%s", f->pw->of);
		fds[nfd++] = f->pw->fd;
	}
	return io_send_fds(w->sock, &h, sizeof(h), fds, nfd);
}

/* A running worker that has accepted the job, or the status of the
 * failure to start one (no sandbox, or an infrastructure error).
 * *cpu0: the worker's CPU ms before the job; its CPU limit is raised to
 * cpu_time_max from there (per job, not summed over the worker's life). */
static worker_status_t dispatch(sanitizer_t *w, const cfg_t *cfg, const char *id,
				const char *sender, const job_fds_t *f, long long *cpu0)
{
	bool nosb = false;

	for (int attempt = 0; attempt < 2; attempt++) {
		if (w->pid == 0 && sanitizer_start(w, cfg, &nosb) < 0) {
			log_err("cannot start a sanitizer worker%s",
				nosb ? ": the sandbox could not be installed" : "");
			return nosb ? WORKER_NO_SANDBOX : WORKER_SYSERR;
		}
		*cpu0 = sandbox_cpu_job(w->pid, &cfg->lim);
		if (*cpu0 < 0) {
			log_err("sanitizer worker %d: cannot set its CPU limit: %s", (int)w->pid,
				strerror(errno));
			sanitizer_stop(w);
			return WORKER_SYSERR;
		}
		if (send_job(w, id, sender, f) == 0)
			return WORKER_OK;
		sanitizer_stop(w); /* died while idle (e.g. killed): start a fresh one */
	}
	return WORKER_SYSERR;
}

static worker_status_t one_job(sanitizer_t *w, const cfg_t *cfg, const char *id,
			       const char *sender, const job_fds_t *f, buf_t *result, int *sig)
{
	worker_status_t st;
	long long cpu0 = 0, cpu1;

	*sig = 0;
	st = dispatch(w, cfg, id, sender, f, &cpu0);
	if (st != WORKER_OK)
		return st;
	st = worker_recv_result(w->sock, worker_now_ms() + lim(&cfg->lim, LIM_WALL_TIME) * 1000,
				(size_t)lim(&cfg->lim, LIM_RESULT_SIZE) /* as the CLI's */, result);
	cpu1 = sandbox_cpu_ms(w->pid);
	w->cpu_ms = cpu1 >= cpu0 ? cpu1 - cpu0 : 0;
	if (st != WORKER_OK) {
		close(w->sock);
		w->sock = -1;
		(void)worker_reap(w->pid, true, sig);
		if (st == WORKER_CRASHED && (*sig == SIGXCPU ||
		    w->cpu_ms >= lim(&cfg->lim, LIM_CPU_TIME) * 1000))
			st = WORKER_TIMEOUT;
		if (st != WORKER_CRASHED)
			*sig = 0;
		w->pid = 0;
		return st;
	}
	if (++w->jobs >= cfg_int(cfg, CFG_WORKER_MAX_USE))
		sanitizer_stop(w);
	return WORKER_OK;
}

/* The answers as a memfd for the worker; -1 on failure. */
static int answers_fd(const conv_set_t *ans, size_t *len)
{
	buf_t rec;
	int fd = -1;

	buf_init(&rec, UNCAPPED_BY(LIM_LEGACY_OUTPUT)); /* PDFs capped in the jail, legacy_message_max of them */
	if (conv_encode(ans, &rec) == 0)
		fd = rec_fd(&rec);
	*len = rec.len;
	buf_free(&rec);
	return fd;
}

/* A decodable result that still asks for conversions. */
static bool asks_again(const buf_t *result)
{
	mail_result_t r;
	bool again;

	mail_result_init(&r);
	again = mail_wire_decode(result->data, result->len, &r) == 0 && r.conv.n > 0;
	mail_result_free(&r);
	return again;
}

/* Legacy attachments (mail/conv.h): when the first pass asks for
 * conversions, run them in LibreOffice's jail from this process (the
 * worker's seccomp filter cannot start bwrap) and send the message again
 * with the answers; that result replaces the first. A result that cannot
 * be decoded is left for the caller to judge. */
static worker_status_t legacy_pass(sanitizer_t *w, const cfg_t *cfg, const char *id,
				   const char *sender, job_fds_t *f, buf_t *result, int *sig)
{
	mail_result_t first;
	conv_set_t ans;
	worker_status_t st = WORKER_CRASHED;
	int rc;

	mail_result_init(&first);
	if (mail_wire_decode(result->data, result->len, &first) < 0 || first.conv.n == 0) {
		mail_result_free(&first);
		return WORKER_OK;
	}
	log_info("id=%s converting %zu legacy attachment(s) in the jail", id, first.conv.n);
	rc = conv_call(w, cfg, &first.conv, &ans);
	mail_result_free(&first);
	if (rc == 0)
		f->conv_fd = answers_fd(&ans, &f->conv_len);
	conv_set_free(&ans);
	if (rc == 0 && f->conv_fd >= 0) {
		buf_reset(result);
		st = one_job(w, cfg, id, sender, f, result, sig);
	}
	if (st == WORKER_OK && asks_again(result))
		st = WORKER_CRASHED; /* the second pass must not ask: a lying worker */
	if (f->conv_fd >= 0)
		close(f->conv_fd);
	return st;
}

worker_status_t sanitizer_job(sanitizer_t *w, const cfg_t *cfg, const char *id,
			      const char *sender, int memfd, size_t len, buf_t *result, int *sig)
{
	return sanitizer_job_facts(w, cfg, id, sender, NULL, memfd, len, result, sig);
}

worker_status_t sanitizer_job_pw(sanitizer_t *w, const cfg_t *cfg, const char *id,
				 const char *sender, int memfd, size_t len,
				 const sanitizer_pw_t *pw, buf_t *result, int *sig)
{
	job_fds_t f = { memfd, len, -1, 0, NULL, pw && pw->len ? pw : NULL };
	worker_status_t st = one_job(w, cfg, id, sender, &f, result, sig);

	return st == WORKER_OK ? legacy_pass(w, cfg, id, sender, &f, result, sig) : st;
}

worker_status_t sanitizer_job_facts(sanitizer_t *w, const cfg_t *cfg, const char *id,
				    const char *sender, const mail_facts_t *facts, int memfd,
				    size_t len, buf_t *result, int *sig)
{
	job_fds_t f = { memfd, len, -1, 0, facts, NULL };
	worker_status_t st = one_job(w, cfg, id, sender, &f, result, sig);

	return st == WORKER_OK ? legacy_pass(w, cfg, id, sender, &f, result, sig) : st;
}
