/*
 * main.c — `mugaid [-f] [-n] [-c CONFIG]`: the after-queue SMTP content
 * filter. Setup in this order: load and check the config (-n stops here),
 * bind the listening socket, drop root to `user` (a missing user is fatal),
 * prove as that user that the store, the next hop and the metrics file work
 * (startup.c), initialize the mail engine, prove that a sanitizer worker can
 * enter its sandbox (else refuse to start), detach unless -f, then run the
 * master (master.c).
 *
 * Exit: 0 stopped cleanly, 64 usage, 70 no sandbox / internal, 71 cannot
 * bind or drop privileges, 78 config error or a startup check failed.
 *
 * SECURITY: starts as root or as the service user; root is given up right
 * after bind(), before any worker is started or any client is accepted.
 */
#include "daemon/daemon.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <netdb.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/io.h"
#include "common/log.h"
#include "daemon/metrics.h"
#include "daemon/sanitizer.h"
#include "common/jail.h"
#include "mail/mail.h"

#define EXIT_OSERR 71

int daemon_split_addr(const char *spec, char *host, size_t hn, char *port, size_t pn)
{
	const char *colon = strrchr(spec, ':');
	size_t h;

	if (!colon || colon == spec || !colon[1] || strlen(colon + 1) > 5 ||
	    strspn(colon + 1, "0123456789") != strlen(colon + 1))
		return -1;
	h = (size_t)(colon - spec);
	if (spec[0] == '[' && h >= 2 && spec[h - 1] == ']')
		spec++, h -= 2;
	if (h >= hn)
		return -1;
	snprintf(host, hn, "%.*s", (int)h, spec);
	snprintf(port, pn, "%s", colon + 1);
	return 0;
}

/* A TCP port: 1..65535. */
static bool port_ok(const char *port)
{
	long v = atol(port);

	return *port && v >= 1 && v <= 65535;
}

/* The directory that must already exist for path to be created (state_dir
 * itself counts: mugaid creates it). */
static int parent_exists(const char *key, const char *path, const char *state, char *err,
			 size_t errlen)
{
	char dir[PATH_BUF_MAX];
	char *slash;
	struct stat st;

	if (snprintf(dir, sizeof(dir), "%s", path) >= (int)sizeof(dir)) {
		snprintf(err, errlen, "%s: path too long", key);
		return -1;
	}
	slash = strrchr(dir, '/');
	if (!slash)
		return 0; /* relative to the working directory */
	if (slash == dir)
		slash[1] = '\0';
	else
		*slash = '\0';
	if (state && strcmp(dir, state) == 0)
		return 0;
	if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "%s = %s: directory %s does not exist; fix: create it or "
			 "choose another path", key, path, dir);
		return -1;
	}
	return 0;
}

/* metrics_file "{state_dir}/NAME" (the default): under the absolute state_dir. */
static int expand_metrics(daemon_ctx_t *d, char *err, size_t errlen)
{
	const char *m = cfg_str(&d->cfg, CFG_METRICS_FILE), *sd = cfg_str(&d->cfg, CFG_STATE_DIR);
	static const char tag[] = "{state_dir}";
	char cwd[CWD_BUF_MAX], path[PATH_BUF_MAX];

	if (strncmp(m, tag, sizeof(tag) - 1) != 0)
		return 0;
	cwd[0] = '\0';
	if (sd[0] != '/' && !getcwd(cwd, sizeof(cwd))) {
		snprintf(err, errlen, "metrics_file: cannot get the working directory: %s",
			 strerror(errno));
		return -1;
	}
	if (sd[0] != '/' && strncmp(sd, "./", 2) == 0)
		sd += 2;
	if (snprintf(path, sizeof(path), "%s%s%s%s", cwd, *cwd ? "/" : "", sd,
		     m + sizeof(tag) - 1) >= (int)sizeof(path)) {
		snprintf(err, errlen, "metrics_file: path too long");
		return -1;
	}
	return cfg_set(&d->cfg, "metrics_file", path, err, errlen);
}

static int check_paths(daemon_ctx_t *d, char *err, size_t errlen)
{
	const char *sd = cfg_str(&d->cfg, CFG_STATE_DIR);

	if (!*sd) {
		snprintf(err, errlen, "state_dir: empty");
		return -1;
	}
	if (parent_exists("state_dir", sd, NULL, err, errlen) < 0)
		return -1;
	if (!metrics_path_ok(cfg_str(&d->cfg, CFG_METRICS_FILE))) {
		snprintf(err, errlen, "metrics_file %s: must be named NAME.prom (node_exporter's "
			 "textfile collector reads only *.prom)", cfg_str(&d->cfg, CFG_METRICS_FILE));
		return -1;
	}
	if (*cfg_str(&d->cfg, CFG_METRICS_FILE) && *cfg_str(&d->cfg, CFG_METRICS_FILE) != '{' &&
	    parent_exists("metrics_file", cfg_str(&d->cfg, CFG_METRICS_FILE), sd, err, errlen) < 0)
		return -1;
	if (*cfg_str(&d->cfg, CFG_PID_FILE) &&
	    parent_exists("pid_file", cfg_str(&d->cfg, CFG_PID_FILE), sd, err, errlen) < 0)
		return -1;
	return 0;
}

int daemon_check(daemon_ctx_t *d, char *err, size_t errlen)
{
	char host[HOST_BUF_MAX], port[16];

	if (daemon_split_addr(cfg_str(&d->cfg, CFG_LISTEN), host, sizeof(host), port,
			      sizeof(port)) < 0) {
		snprintf(err, errlen, "listen: want HOST:PORT, got '%s'", cfg_str(&d->cfg, CFG_LISTEN));
		return -1;
	}
	if (!port_ok(port)) {
		snprintf(err, errlen, "listen: port %s is not in 1-65535", port);
		return -1;
	}
	if (*cfg_str(&d->cfg, CFG_MILTER_LISTEN) &&
	    (daemon_split_addr(cfg_str(&d->cfg, CFG_MILTER_LISTEN), host, sizeof(host), port,
			       sizeof(port)) < 0 || !port_ok(port))) {
		snprintf(err, errlen, "milter_listen: want HOST:PORT with a port in 1-65535, got '%s'",
			 cfg_str(&d->cfg, CFG_MILTER_LISTEN));
		return -1;
	}
	if (deliver_parse_hop(cfg_str(&d->cfg, CFG_NEXT_HOP), &d->hop, err, errlen) < 0)
		return -1;
	if (d->hop.kind != HOP_MAILDIR && !port_ok(d->hop.port)) {
		snprintf(err, errlen, "next_hop: port %s is not in 1-65535", d->hop.port);
		return -1;
	}
	if (clamd_parse_target(cfg_str(&d->cfg, CFG_ANTIVIRUS), &d->av, err, errlen) < 0)
		return -1;
	if (check_paths(d, err, errlen) < 0 || expand_metrics(d, err, errlen) < 0)
		return -1;
	if (startup_digest(d) < 0) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	d->hostname[0] = '\0';
	if (*cfg_str(&d->cfg, CFG_MYHOSTNAME))
		snprintf(d->hostname, sizeof(d->hostname), "%s", cfg_str(&d->cfg, CFG_MYHOSTNAME));
	else if (gethostname(d->hostname, sizeof(d->hostname) - 1) < 0 || !d->hostname[0])
		snprintf(d->hostname, sizeof(d->hostname), "localhost");
	for (char *p = d->hostname; *p; p++)
		if (*p <= ' ' || *p > '~')
			*p = '-';
	return 0;
}

static int bind_listen(const char *spec)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE }, *res, *ai;
	char host[HOST_BUF_MAX], port[16];
	int fd = -1, one = 1;

	if (daemon_split_addr(spec, host, sizeof(host), port, sizeof(port)) < 0 ||
	    getaddrinfo(host, port, &hints, &res) != 0)
		return -1;
	for (ai = res; ai && fd < 0; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
		if (fd < 0)
			continue;
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, LISTEN_BACKLOG) < 0) {
			close(fd);
			fd = -1;
		}
	}
	freeaddrinfo(res);
	return fd;
}

/* Root: give the state directory to `user` when we create it, then drop.
 * A missing user is fatal (as in Postfix and OpenSMTPD); an empty `user`
 * keeps the invoking user (make run, tests), with a warning when root. */
static int drop_privileges(const cfg_t *cfg)
{
	const char *user = cfg_str(cfg, CFG_DAEMON_USER), *state = cfg_str(cfg, CFG_STATE_DIR);
	struct passwd *pw;

	if (geteuid() != 0)
		return mkdir(state, 0700) < 0 && errno != EEXIST ? -1 : 0;
	if (!*user) {
		log_warn("user is empty: running as root (the workers are sandboxed either way)");
		return mkdir(state, 0700) < 0 && errno != EEXIST ? -1 : 0;
	}
	pw = getpwnam(user);
	if (!pw)
		fatal(MUGAI_EXIT_CONFIG, "user '%s' does not exist; fix: create it (useradd --system "
		      "--home-dir /nonexistent --shell /usr/sbin/nologin %s), or set user = to "
		      "another account", user, user);
	if (mkdir(state, 0700) == 0 && chown(state, pw->pw_uid, pw->pw_gid) < 0)
		return -1;
	if (initgroups(pw->pw_name, pw->pw_gid) < 0 || setgid(pw->pw_gid) < 0 ||
	    setuid(pw->pw_uid) < 0 || setuid(0) == 0)
		return -1;
	log_info("running as user %s (uid %d)", pw->pw_name, (int)pw->pw_uid);
	return 0;
}

/* Start one worker and stop it: the sandbox must be installable. */
static int probe_sandbox(const cfg_t *cfg)
{
	sanitizer_t w;
	bool no_sandbox;

	sanitizer_init(&w);
	if (sanitizer_start(&w, cfg, &no_sandbox) < 0)
		return -1;
	sanitizer_stop(&w);
	return 0;
}

static int detach(void)
{
	pid_t pid = fork();
	int null;

	if (pid < 0)
		return -1;
	if (pid > 0)
		_exit(0);
	if (setsid() < 0)
		return -1;
	null = open("/dev/null", O_RDWR);
	if (null < 0)
		return -1;
	dup2(null, 0);
	dup2(null, 1);
	dup2(null, 2);
	if (null > 2)
		close(null);
	return 0;
}

static void write_pid(const char *path)
{
	FILE *f;

	if (!*path)
		return;
	f = fopen(path, "w");
	if (!f || fprintf(f, "%d\n", (int)getpid()) < 0 || fclose(f) != 0)
		log_warn("pid_file %s: %s", path, strerror(errno));
}

/* mugaid-store, the store process's executable: next to this one. */
static void store_path(daemon_ctx_t *d)
{
	char self[PATH_BUF_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	char *slash;

	if (n <= 0 || (size_t)n >= sizeof(self) - 1)
		fatal(MUGAI_EXIT_SOFTWARE, "cannot find my own executable (/proc/self/exe)");
	self[n] = '\0';
	slash = strrchr(self, '/');
	if (slash)
		slash[1] = '\0';
	if (snprintf(d->store_bin, sizeof(d->store_bin), "%smugaid-store", slash ? self : "./") >=
	    (int)sizeof(d->store_bin))
		fatal(MUGAI_EXIT_SOFTWARE, "path of mugaid-store too long");
	/* opened now, while a directory only root can search (a checkout under
	 * /root) is still reachable; the run user executes the file itself */
	d->store_exe = open(d->store_bin, O_RDONLY | O_CLOEXEC);
}

static void usage(void)
{
	fputs("usage: mugaid [-f] [-n] [-c CONFIG]\n"
	      "  -f  stay in the foreground (log to stderr unless log = syslog)\n"
	      "  -n  check the configuration and exit\n"
	      "  -c  configuration file (default: embedded defaults)\n", stderr);
	exit(MUGAI_EXIT_USAGE);
}

int daemon_cfg_memfd(daemon_ctx_t *d)
{
	char chunk[IO_CHUNK];
	int in, fd;
	ssize_t n = 0;

	d->cfg_fd = -1;
	if (!d->cfg_path)
		return 0;
	in = open(d->cfg_path, O_RDONLY | O_CLOEXEC);
	fd = in < 0 ? -1 : memfd_create("mugaid-config", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	while (fd >= 0 && (n = read(in, chunk, sizeof(chunk))) > 0)
		if (io_write_all(fd, chunk, (size_t)n) < 0)
			n = -1;
	if (in >= 0)
		close(in);
	if (fd >= 0 && (n < 0 || fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE | F_SEAL_GROW |
				       F_SEAL_SHRINK) < 0)) {
		close(fd);
		fd = -1;
	}
	d->cfg_fd = fd;
	return fd < 0 ? -1 : 0;
}

static void load(daemon_ctx_t *d, const char *path)
{
	char err[ERR_TEXT_MAX] = "";

	d->cfg_path = path;
	d->listen_fd = -1;
	d->milter_fd = -1;
	if (cfg_init(&d->cfg) < 0)
		fatal(MUGAI_EXIT_SOFTWARE, "out of memory");
	if ((path && cfg_load(&d->cfg, path, err, sizeof(err)) < 0) ||
	    daemon_check(d, err, sizeof(err)) < 0)
		fatal(MUGAI_EXIT_CONFIG, "config: %s", err);
	if (daemon_cfg_memfd(d) < 0)
		fatal(MUGAI_EXIT_CONFIG, "config: %s: cannot read: %s", path, strerror(errno));
}

int main(int argc, char **argv)
{
	static daemon_ctx_t d;
	const char *path = NULL;
	bool fg = false, check = false;
	char err[ERR_PATH_TEXT_MAX];
	int ch;

	while ((ch = getopt(argc, argv, "fnc:")) != -1) {
		if (ch == 'f')
			fg = true;
		else if (ch == 'n')
			check = true;
		else if (ch == 'c')
			path = optarg;
		else
			usage();
	}
	if (optind != argc)
		usage();
	log_init("mugaid", false, LOG_LV_INFO);
	load(&d, path);
	store_path(&d);
	if (check) {
		printf("mugaid: config %s ok\n", path ? path : "(embedded defaults)");
		return 0;
	}
	log_init("mugaid", cfg_is(&d.cfg, CFG_LOG_TARGET, "syslog"), LOG_LV_INFO);
	d.listen_fd = bind_listen(cfg_str(&d.cfg, CFG_LISTEN));
	if (d.listen_fd < 0)
		fatal(EXIT_OSERR, "cannot listen on %s: %s", cfg_str(&d.cfg, CFG_LISTEN), strerror(errno));
	if (*cfg_str(&d.cfg, CFG_MILTER_LISTEN) &&
	    (d.milter_fd = bind_listen(cfg_str(&d.cfg, CFG_MILTER_LISTEN))) < 0)
		fatal(EXIT_OSERR, "cannot listen on milter_listen %s: %s",
		      cfg_str(&d.cfg, CFG_MILTER_LISTEN), strerror(errno));
	if (drop_privileges(&d.cfg) < 0)
		fatal(EXIT_OSERR, "cannot drop privileges to '%s': %s", cfg_str(&d.cfg, CFG_DAEMON_USER),
		      strerror(errno));
	if (metrics_init() < 0)
		fatal(EXIT_OSERR, "cannot map the counters");
	if (jail_slots_init(&d.cfg) < 0)
		fatal(EXIT_OSERR, "cannot make the legacy conversion slots: %s", strerror(errno));
	if (startup_check(&d, err, sizeof(err)) < 0)
		fatal(MUGAI_EXIT_CONFIG, "not ready: %s", err);
	if (mail_init() < 0)
		fatal(MUGAI_EXIT_SOFTWARE, "cannot initialize the mail engine");
	if (probe_sandbox(&d.cfg) < 0)
		fatal(MUGAI_EXIT_SOFTWARE, "cannot start a sandboxed sanitizer worker (seccomp filter, "
		      "no_new_privs or rlimits could not be installed): refusing to start");
	if (!fg && detach() < 0)
		fatal(EXIT_OSERR, "cannot detach: %s", strerror(errno));
	write_pid(cfg_str(&d.cfg, CFG_PID_FILE));
	return master_run(&d);
}
