/*
 * sandbox.c — rlimits, no_new_privs, seccomp (libseccomp) and the CPU
 * clock of a worker (see sandbox.h; the worker itself is common/worker.c).
 *
 * SECURITY: the filter is default-deny with SCMP_ACT_KILL_PROCESS. mmap and
 * mprotect are allowed only without PROT_EXEC, so a worker cannot map new
 * code.
 */
#include "common/sandbox.h"
#include "common/io.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <seccomp.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <stdio.h>
#include <stdbool.h>

/* Close [lo, hi]: one close_range(2); where the kernel lacks it, close()
 * each descriptor up to SANDBOX_FD_MAX (or the process's limit). */
static void close_gap(unsigned int lo, unsigned int hi)
{
	long max = sysconf(_SC_OPEN_MAX);

	if (close_range(lo, hi, 0) == 0)
		return;
	if (max < 0 || max > SANDBOX_FD_MAX)
		max = SANDBOX_FD_MAX;
	for (long fd = lo; fd <= (long)hi && fd < max; fd++)
		close((int)fd);
}

/* Every descriptor but keep[] (any order, -1 ignored): one close_range per
 * gap between the kept ones, instead of a close() for each possible number
 * (20,000 system calls per worker start with this machine's limit). */
void sandbox_close_fds(const int *keep, int n)
{
	unsigned int lo = 0;

	for (;;) {
		int next = -1; /* the lowest kept descriptor >= lo */

		for (int i = 0; i < n; i++)
			if (keep[i] >= 0 && (unsigned int)keep[i] >= lo && (next < 0 || keep[i] < next))
				next = keep[i];
		if (next < 0)
			break;
		if ((unsigned int)next > lo)
			close_gap(lo, (unsigned int)next - 1);
		lo = (unsigned int)next + 1;
	}
	close_gap(lo, ~0U);
}

static int set_limit(int res, rlim_t v)
{
	struct rlimit rl = { v, v };

	return setrlimit(res, &rl);
}

/* One-shot worker: CPU soft = hard = cpu_time_max. Persistent worker: soft
 * = cpu_time_max for its first job, hard unlimited so that the parent can
 * raise the soft limit per job (sandbox_cpu_job); the worker itself cannot
 * (no setrlimit/prlimit64, no rt_sigaction in its filter: SIGXCPU kills). */
static int apply_cpu(const limits_t *l, bool persistent)
{
	struct rlimit rl = { (rlim_t)lim(l, LIM_CPU_TIME),
			     persistent ? RLIM_INFINITY : (rlim_t)lim(l, LIM_CPU_TIME) };

	return setrlimit(RLIMIT_CPU, &rl);
}

static int apply_rlimits(const limits_t *l, bool persistent)
{
	if (set_limit(RLIMIT_CORE, 0) < 0 || set_limit(RLIMIT_NOFILE, 16) < 0 ||
	    set_limit(RLIMIT_NPROC, 0) < 0 || set_limit(RLIMIT_FSIZE, 0) < 0)
		return -1;
	if (apply_cpu(l, persistent) < 0)
		return -1;
#if !defined(__SANITIZE_ADDRESS__)
	if (set_limit(RLIMIT_AS, (rlim_t)lim(l, LIM_WORKER_MEMORY)) < 0)
		return -1;
#endif
	return 0;
}

static const int allowed_syscalls[] = {
	SCMP_SYS(read), SCMP_SYS(write), SCMP_SYS(readv), SCMP_SYS(writev),
	SCMP_SYS(close), SCMP_SYS(lseek), SCMP_SYS(fstat),
	SCMP_SYS(brk), SCMP_SYS(munmap), SCMP_SYS(mremap), SCMP_SYS(madvise),
	SCMP_SYS(futex), SCMP_SYS(rt_sigreturn), SCMP_SYS(rt_sigprocmask),
	SCMP_SYS(getrandom), SCMP_SYS(clock_gettime), SCMP_SYS(gettimeofday),
	SCMP_SYS(time), SCMP_SYS(getpid), SCMP_SYS(gettid), SCMP_SYS(exit),
	SCMP_SYS(exit_group), SCMP_SYS(sched_yield), SCMP_SYS(restart_syscall),
};

/* recv_fd >= 0: also allow recvmsg() on that one descriptor (persistent
 * workers receive each job's memfd by SCM_RIGHTS). */
static int install_filter(int recv_fd)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_KILL_PROCESS);
	int rc = ctx ? 0 : -1;

	for (size_t i = 0; rc == 0 && i < MUGAI_ARRAY_LEN(allowed_syscalls); i++)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, allowed_syscalls[i], 0);
	/* Memory without PROT_EXEC only. */
	if (rc == 0)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mmap), 1,
				      SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
	if (rc == 0)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mprotect), 1,
				      SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
	/* fstat through newfstatat(fd, "", AT_EMPTY_PATH) only. */
	if (rc == 0)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(newfstatat), 1,
				      SCMP_A3(SCMP_CMP_EQ, AT_EMPTY_PATH));
	if (rc == 0 && recv_fd >= 0)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(recvmsg), 1,
				      SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)recv_fd));
	if (rc == 0)
		rc = seccomp_load(ctx);
	if (ctx)
		seccomp_release(ctx);
	return rc == 0 ? 0 : -1;
}

static int enter(const limits_t *l, int recv_fd)
{
	/* localtime() (libzip's DOS times) stats /etc/localtime on every call;
	 * a fixed rule needs no file. Workers keep their clocks in UTC. */
	if (setenv("TZ", "UTC0", 1) < 0)
		return -1;
	tzset();
	if (apply_rlimits(l, recv_fd >= 0) < 0)
		return -1;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return -1;
	return install_filter(recv_fd);
}

int sandbox_enter(const limits_t *l)
{
	return enter(l, -1);
}

int sandbox_enter_recv(const limits_t *l, int sock)
{
	return sock < 0 ? -1 : enter(l, sock);
}

/* --- the mugaid session's own policy (second filter) --- */

/* What a session does after setup: SMTP on accepted sockets, the memfd
 * spool, its store socket, its worker (socketpair, fork, kill, wait, the
 * worker's CPU clock and RLIMIT_CPU), the next hop by TCP. The worker's
 * own setup (prctl, dup2, setrlimit, seccomp) runs under this filter too,
 * before the worker's stricter filter stacks on top. */
static const int session_syscalls[] = {
	SCMP_SYS(read), SCMP_SYS(write), SCMP_SYS(readv), SCMP_SYS(writev),
	SCMP_SYS(close), SCMP_SYS(close_range), SCMP_SYS(lseek), SCMP_SYS(fstat),
	SCMP_SYS(ftruncate), SCMP_SYS(brk), SCMP_SYS(munmap), SCMP_SYS(mremap), SCMP_SYS(madvise),
	SCMP_SYS(futex), SCMP_SYS(rt_sigreturn), SCMP_SYS(rt_sigprocmask),
	SCMP_SYS(rt_sigaction), SCMP_SYS(getrandom), SCMP_SYS(clock_gettime),
	SCMP_SYS(gettimeofday), SCMP_SYS(time), SCMP_SYS(nanosleep),
	SCMP_SYS(clock_nanosleep), SCMP_SYS(getpid), SCMP_SYS(gettid), SCMP_SYS(getppid),
	SCMP_SYS(getuid), SCMP_SYS(geteuid), SCMP_SYS(exit), SCMP_SYS(exit_group),
	SCMP_SYS(sched_yield), SCMP_SYS(restart_syscall), SCMP_SYS(set_robust_list),
	SCMP_SYS(rseq), SCMP_SYS(tgkill), SCMP_SYS(sigaltstack), SCMP_SYS(clock_getres), SCMP_SYS(uname),
	/* network on descriptors it holds */
	SCMP_SYS(poll), SCMP_SYS(ppoll), SCMP_SYS(accept), SCMP_SYS(accept4),
	SCMP_SYS(recvfrom), SCMP_SYS(recvmsg), SCMP_SYS(sendto), SCMP_SYS(sendmsg),
	SCMP_SYS(setsockopt), SCMP_SYS(getsockopt), SCMP_SYS(getpeername),
	SCMP_SYS(getsockname), SCMP_SYS(shutdown), SCMP_SYS(connect),
	/* spool, worker channel and worker */
	SCMP_SYS(memfd_create), SCMP_SYS(fcntl), SCMP_SYS(socketpair), SCMP_SYS(clone),
	SCMP_SYS(wait4), SCMP_SYS(kill), SCMP_SYS(prlimit64), SCMP_SYS(getrlimit),
	SCMP_SYS(setrlimit), SCMP_SYS(prctl), SCMP_SYS(seccomp), SCMP_SYS(dup2),
	SCMP_SYS(dup3), SCMP_SYS(dup),
};

/* Writing a Maildir next hop (a test and demonstration mode): files under
 * the maildir root. With smtp: and lmtp: next hops none of these is allowed. */
static const int maildir_syscalls[] = {
	SCMP_SYS(openat), SCMP_SYS(open), SCMP_SYS(mkdir), SCMP_SYS(mkdirat),
	SCMP_SYS(rename), SCMP_SYS(renameat), SCMP_SYS(renameat2), SCMP_SYS(unlink),
	SCMP_SYS(unlinkat), SCMP_SYS(fsync), SCMP_SYS(fdatasync), SCMP_SYS(stat),
	SCMP_SYS(lstat),
};

static int allow_all(scmp_filter_ctx ctx, const int *sys, size_t n)
{
	int rc = 0;

	for (size_t i = 0; rc == 0 && i < n; i++)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, sys[i], 0);
	return rc;
}

static int session_rules(scmp_filter_ctx ctx, bool maildir, bool unix_log)
{
	int rc = allow_all(ctx, session_syscalls, MUGAI_ARRAY_LEN(session_syscalls));

	if (rc == 0 && maildir)
		rc = allow_all(ctx, maildir_syscalls, MUGAI_ARRAY_LEN(maildir_syscalls));
	if (rc == 0)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mmap), 1,
				      SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
	if (rc == 0)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mprotect), 1,
				      SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
	if (rc == 0)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(newfstatat), 1,
				      SCMP_A3(SCMP_CMP_EQ, AT_EMPTY_PATH));
	/* a path lookup by stat (glibc's tzset, for one) fails instead of
	 * killing: it reads nothing; open stays a kill */
	if (rc == 0)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOENT), SCMP_SYS(newfstatat), 1,
				      SCMP_A3(SCMP_CMP_NE, AT_EMPTY_PATH));
	/* TCP to the next hop (and clamd:IP:PORT); a unix socket to syslog when
	 * it logs there, or to clamd's socket */
	if (rc == 0)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket), 1,
				      SCMP_A0(SCMP_CMP_EQ, AF_INET));
	if (rc == 0)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket), 1,
				      SCMP_A0(SCMP_CMP_EQ, AF_INET6));
	if (rc == 0 && unix_log)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket), 1,
				      SCMP_A0(SCMP_CMP_EQ, AF_UNIX));
	/* glibc falls back to clone when clone3 is refused with ENOSYS */
	if (rc == 0)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0);
	return rc;
}

int sandbox_enter_session(bool maildir, bool unix_log)
{
	scmp_filter_ctx ctx;
	int rc;

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return -1;
	ctx = seccomp_init(SCMP_ACT_KILL_PROCESS);
	if (!ctx)
		return -1;
	rc = session_rules(ctx, maildir, unix_log);
	if (rc == 0)
		rc = seccomp_load(ctx);
	seccomp_release(ctx);
	return rc == 0 ? 0 : -1;
}

long long sandbox_cpu_ms(pid_t pid)
{
	clockid_t id;
	struct timespec ts;

	if (clock_getcpuclockid(pid, &id) != 0 || clock_gettime(id, &ts) < 0)
		return -1;
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

long long sandbox_cpu_job(pid_t pid, const limits_t *l)
{
	long long used = sandbox_cpu_ms(pid);
	struct rlimit rl = { 0, RLIM_INFINITY };

	if (used < 0)
		return -1;
	rl.rlim_cur = (rlim_t)((used + 999) / 1000 + lim(l, LIM_CPU_TIME));
	return prlimit(pid, RLIMIT_CPU, &rl, NULL) == 0 ? used : -1;
}
