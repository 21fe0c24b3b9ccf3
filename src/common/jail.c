/*
 * jail.c — one LibreOffice conversion in a bubblewrap jail (see jail.h).
 *
 * The child sets its rlimits, keeps only three descriptors (the input memfd
 * as 3, the profile memfd as 4, the result pipe as stdout, bwrap's errors
 * on stderr) and execs bwrap with an empty environment. Inside the jail a
 * /bin/sh from the read-only /usr runs soffice --convert-to pdf and then
 * cats the PDF to stdout. The parent reads stdout (capped) and stderr
 * (a few hundred bytes: bwrap's own error when the jail cannot be built)
 * until EOF or the wall clock, then kills bwrap with SIGKILL; bwrap's
 * --die-with-parent kills the jail's PID 1, and with it every process of
 * the jail's PID namespace.
 *
 * Specs: bwrap(1); LibreOffice officecfg (Security/Scripting,
 * Recovery/AutoSave, Writer and Calc Content/Update/Link).
 *
 * SECURITY: never runs LibreOffice without bwrap: --unshare-user (not
 * -try) so a host without user namespaces fails instead of running
 * unconfined. Limits: legacy_time_max, legacy_memory_max, legacy_procs_max,
 * legacy_output_max.
 */
#include "common/jail.h"
#include "common/io.h"
#include "common/sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Fresh profile: macros never run, no recovery, links never updated. */
static const char profile_xcu[] =
	"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	"<oor:items xmlns:oor=\"http://openoffice.org/2001/registry\""
	" xmlns:xs=\"http://www.w3.org/2001/XMLSchema\""
	" xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\">\n"
	"<item oor:path=\"/org.openoffice.Office.Common/Security/Scripting\">"
	"<prop oor:name=\"MacroSecurityLevel\" oor:op=\"fuse\"><value>3</value></prop></item>\n"
	"<item oor:path=\"/org.openoffice.Office.Common/Security/Scripting\">"
	"<prop oor:name=\"DisableMacrosExecution\" oor:op=\"fuse\"><value>true</value></prop></item>\n"
	"<item oor:path=\"/org.openoffice.Office.Common/Security/Scripting\">"
	"<prop oor:name=\"BlockUntrustedRefererLinks\" oor:op=\"fuse\"><value>true</value></prop></item>\n"
	"<item oor:path=\"/org.openoffice.Office.Recovery/AutoSave\">"
	"<prop oor:name=\"Enabled\" oor:op=\"fuse\"><value>false</value></prop></item>\n"
	"<item oor:path=\"/org.openoffice.Office.Recovery/RecoveryInfo\">"
	"<prop oor:name=\"Enabled\" oor:op=\"fuse\"><value>false</value></prop></item>\n"
	"<item oor:path=\"/org.openoffice.Office.Writer/Content/Update\">"
	"<prop oor:name=\"Link\" oor:op=\"fuse\"><value>2</value></prop></item>\n"
	"<item oor:path=\"/org.openoffice.Office.Calc/Content/Update\">"
	"<prop oor:name=\"Link\" oor:op=\"fuse\"><value>1</value></prop></item>\n"
	"</oor:items>\n";

const char *jail_profile(void)
{
	return profile_xcu;
}

static int memfd_with(const char *name, const void *p, size_t n)
{
	int fd = memfd_create(name, MFD_CLOEXEC);

	if (fd < 0)
		return -1;
	if (io_write_all(fd, p, n) < 0 || lseek(fd, 0, SEEK_SET) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static int set_limit(int res, rlim_t v)
{
	struct rlimit rl = { v, v };

	return setrlimit(res, &rl);
}

/* Only these extensions reach LibreOffice's file name (a hint from a fixed
 * list; LibreOffice checks the content); "" lets it sniff. */
static const char *safe_ext(const char *ext)
{
	static const char *ok[] = { "doc", "xls", "ppt", "rtf", "odt", "ods", "odp",
				     "docx", "xlsx", "pptx" };

	for (size_t i = 0; ext && i < MUGAI_ARRAY_LEN(ok); i++)
		if (strcmp(ext, ok[i]) == 0)
			return ok[i];
	return "";
}

static void __attribute__((noreturn)) child(const cfg_t *cfg, const char *input,
					    const char *script, int in_fd, int prof_fd,
					    int out_fd, int err_fd)
{
	const limits_t *l = &cfg->lim;
	int keep[] = { 0, 1, 2, 3, 4 }, nul = open("/dev/null", O_RDONLY | O_CLOEXEC);
	/* Move everything above the targets first, so no dup2 clobbers a
	 * source or is a no-op that keeps FD_CLOEXEC. */
	int src[] = { nul, out_fd, err_fd, in_fd, prof_fd };
	for (int i = 0; i < 5; i++)
		if (src[i] < 0 || (src[i] = fcntl(src[i], F_DUPFD_CLOEXEC, 16)) < 0)
			_exit(127);
	for (int i = 0; i < 5; i++)
		if (dup2(src[i], i) < 0)
			_exit(127);
	sandbox_close_fds(keep, (int)MUGAI_ARRAY_LEN(keep));
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	setpgid(0, 0);
	if (set_limit(RLIMIT_CORE, 0) < 0 ||
	    set_limit(RLIMIT_DATA, (rlim_t)lim(l, LIM_LEGACY_MEMORY)) < 0 ||
	    set_limit(RLIMIT_NPROC, (rlim_t)lim(l, LIM_LEGACY_PROCS)) < 0 ||
	    set_limit(RLIMIT_FSIZE, (rlim_t)lim(l, LIM_LEGACY_OUTPUT)) < 0 ||
	    set_limit(RLIMIT_CPU, (rlim_t)lim(l, LIM_LEGACY_TIME)) < 0)
		_exit(127);
	char *const argv[] = {
		(char *)cfg->s[CFG_LEGACY_BWRAP],
		"--unshare-user", "--unshare-ipc", "--unshare-pid", "--unshare-net",
		"--unshare-uts", "--unshare-cgroup-try", "--die-with-parent", "--new-session",
		"--cap-drop", "ALL",
		"--ro-bind", "/usr", "/usr",
		"--symlink", "usr/bin", "/bin", "--symlink", "usr/lib", "/lib",
		"--symlink", "usr/lib64", "/lib64", "--symlink", "usr/sbin", "/sbin",
		"--ro-bind", "/etc/fonts", "/etc/fonts",
		"--ro-bind", "/etc/libreoffice", "/etc/libreoffice",
		"--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp",
		"--dir", "/tmp/in", "--dir", "/tmp/out", "--dir", "/tmp/profile/user",
		"--file", "3", (char *)input,
		"--file", "4", "/tmp/profile/user/registrymodifications.xcu",
		"--hostname", "jail", "--chdir", "/tmp",
		"--setenv", "HOME", "/tmp", "--setenv", "PATH", "/usr/bin",
		"--setenv", "LANG", "C.UTF-8", "--setenv", "SAL_USE_VCLPLUGIN", "svp",
		"/bin/sh", "-c", (char *)script, NULL,
	};
	char *const envp[] = { NULL };
	execve(argv[0], argv, envp);
	dprintf(2, "bwrap: cannot run %s: %s", argv[0], strerror(errno));
	_exit(126);
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Read stdout (into pdf) and stderr (into why) until both close, the
 * deadline passes or the PDF is too big. */
static jail_status_t collect(int out_fd, int err_fd, long long deadline, buf_t *pdf,
			     char *why, size_t whylen)
{
	struct pollfd p[2] = { { out_fd, POLLIN, 0 }, { err_fd, POLLIN, 0 } };
	size_t wl = 0;
	char tmp[IO_CHUNK];

	while (p[0].fd >= 0 || p[1].fd >= 0) {
		long long left = deadline - now_ms();
		if (left <= 0)
			return JAIL_TIMEOUT;
		int r = poll(p, 2, (int)(left > 1000 ? 1000 : left));
		if (r < 0 && errno != EINTR)
			return JAIL_SYSERR;
		for (int i = 0; r > 0 && i < 2; i++) {
			if (p[i].fd < 0 || !p[i].revents)
				continue;
			ssize_t n = read(p[i].fd, tmp, sizeof(tmp));
			if (n <= 0) {
				p[i].fd = -1;
				continue;
			}
			if (i == 0 && buf_append(pdf, tmp, (size_t)n) < 0)
				return pdf->capped ? JAIL_TOO_BIG : JAIL_SYSERR;
			for (ssize_t k = 0; i == 1 && k < n && wl + 1 < whylen; k++)
				why[wl++] = tmp[k] == '\n' ? ' ' : tmp[k];
			if (i == 1 && whylen)
				why[wl] = '\0';
		}
	}
	return JAIL_OK;
}

/* After EOF: wait (until the deadline) for bwrap to exit by itself, so its
 * exit status says whether the script finished. */
static jail_status_t settle(pid_t pid, long long deadline, int *wst)
{
	for (;;) {
		pid_t r = waitpid(pid, wst, WNOHANG);

		if (r == pid)
			return JAIL_OK;
		if (r < 0 && errno != EINTR)
			return JAIL_SYSERR;
		if (now_ms() >= deadline)
			return JAIL_TIMEOUT;
		usleep(10000);
	}
}

jail_status_t jail_convert(const cfg_t *cfg, const void *in, size_t len, const char *ext,
			   buf_t *pdf, char *why, size_t whylen)
{
	char input[64], script[JAIL_SCRIPT_MAX];
	jail_status_t st;

	ext = safe_ext(ext);
	snprintf(input, sizeof(input), "/tmp/in/document%s%s", *ext ? "." : "", ext);
	if (strchr(cfg->s[CFG_LEGACY_SOFFICE], '\'')) {
		buf_init(pdf, 1);
		snprintf(why, whylen, "legacy_soffice contains a quote");
		return JAIL_UNAVAILABLE;
	}
	snprintf(script, sizeof(script),
		 "'%s' --headless --invisible --norestore --nologo --nodefault --nolockcheck"
		 " -env:UserInstallation=file:///tmp/profile --convert-to pdf --outdir /tmp/out"
		 " %s >/dev/null 2>&1 </dev/null; "
		 "for f in /tmp/out/*.pdf; do [ -s \"$f\" ] && exec cat \"$f\"; done; exit 3",
		 cfg->s[CFG_LEGACY_SOFFICE], input);
	st = jail_run(cfg, in, len, input, script, pdf, why, whylen);
	if (st == JAIL_OK && (pdf->len < 5 || memcmp(pdf->data, "%PDF-", 5) != 0)) {
		snprintf(why, whylen, "LibreOffice produced no PDF");
		buf_reset(pdf);
		st = JAIL_FAILED;
	}
	return st;
}

jail_status_t jail_run(const cfg_t *cfg, const void *in, size_t len, const char *input,
		       const char *script, buf_t *out, char *why, size_t whylen)
{
	int in_fd = -1, prof_fd = -1, o[2] = { -1, -1 }, e[2] = { -1, -1 }, wst = 0;
	long long deadline;
	jail_status_t st = JAIL_SYSERR;
	char err[WHY_MAX] = "";
	pid_t pid = -1;

	buf_t *pdf = out;

	buf_init(pdf, (size_t)lim(&cfg->lim, LIM_LEGACY_OUTPUT));
	if (whylen)
		why[0] = '\0';
	if (access(cfg->s[CFG_LEGACY_BWRAP], X_OK) < 0) {
		snprintf(why, whylen, "bubblewrap (%s) is not installed", cfg->s[CFG_LEGACY_BWRAP]);
		return JAIL_UNAVAILABLE;
	}
	in_fd = memfd_with("mugai-legacy-in", in, len);
	prof_fd = memfd_with("mugai-legacy-profile", profile_xcu, sizeof(profile_xcu) - 1);
	if (in_fd < 0 || prof_fd < 0 || pipe2(o, O_CLOEXEC) < 0 || pipe2(e, O_CLOEXEC) < 0)
		goto out;
	deadline = now_ms() + lim(&cfg->lim, LIM_LEGACY_TIME) * 1000;
	pid = fork();
	if (pid < 0)
		goto out;
	if (pid == 0)
		child(cfg, input, script, in_fd, prof_fd, o[1], e[1]);
	close(o[1]);
	close(e[1]);
	o[1] = e[1] = -1;
	st = collect(o[0], e[0], deadline, pdf, err, sizeof(err));
	if (st == JAIL_OK)
		st = settle(pid, deadline, &wst);
	if (st != JAIL_OK) { /* not reaped: bwrap and its group; --die-with-parent takes the jail */
		kill(-pid, SIGKILL);
		kill(pid, SIGKILL);
		while (waitpid(pid, &wst, 0) < 0 && errno == EINTR)
			;
	}
	if (st == JAIL_OK && pdf->len == 0 && strncmp(err, "bwrap:", 6) == 0) {
		snprintf(why, whylen, "%s", err);
		st = JAIL_UNAVAILABLE;
	} else if (st == JAIL_OK && (!WIFEXITED(wst) || WEXITSTATUS(wst) != 0)) {
		if (WIFEXITED(wst))
			snprintf(why, whylen, "the jail exited with status %d", WEXITSTATUS(wst));
		else
			snprintf(why, whylen, "the jail was killed by signal %d", WTERMSIG(wst));
		st = JAIL_FAILED; /* a PDF cut short by a limit is not a result */
	}
out:
	if (st != JAIL_OK)
		buf_reset(pdf);
	for (int fd, i = 0; i < 6; i++) {
		fd = (int[]){ in_fd, prof_fd, o[0], o[1], e[0], e[1] }[i];
		if (fd >= 0)
			close(fd);
	}
	return st;
}
