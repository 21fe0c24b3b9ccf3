/*
 * master.c — mugaid's master process: start the store process and
 * max_sessions session processes, each session with its own channel to
 * that one store process (storecl_attach), restart one that died with
 * exponential backoff, rewrite the metrics file every second, reload the
 * config on SIGHUP (a new store process and new sessions get it; old
 * sessions finish their current message and exit, and the old store
 * process exits when they have gone), and on SIGTERM or SIGINT let
 * in-flight messages finish (at most drain_time_max) and exit.
 *
 * A store process that dies is restarted (with the same backoff); every
 * session attached to it is told to finish (its in-flight message got 451
 * from the broken channel) and is replaced with one attached to the new
 * store process.
 *
 * SECURITY: runs as the unprivileged user after main.c dropped root; holds
 * the listening socket; reads no client data and no worker data.
 */
#include "daemon/daemon.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "daemon/metrics.h"
#include "daemon/storeclient.h"

#define STABLE_MS 30000  /* a session that ran this long resets its backoff */
#define TICK_MS 200

static volatile sig_atomic_t got_term, got_hup;

typedef struct slot {
	pid_t pid;
	pid_t store;  /* the store process this session is attached to, or 0 */
	long long started;
	bool old;  /* started before the last reload: drains, is not replaced */
} slot_t;

typedef struct master {
	daemon_ctx_t *d;
	slot_t slots[SLOTS_MAX];
	size_t n;
	long backoff;          /* ms, after an abnormal exit */
	long long next_spawn;  /* no spawn before this time */
	pid_t releaser;        /* the running releaser, or 0 */
	long long next_release;
	storecl_t store;       /* the store process: pid, control channel (fd) */
	pid_t old_store;       /* the one before the last reload, until it exits */
	long store_backoff;    /* ms, after the store process died */
	long long next_store;  /* no store start before this time */
} master_t;

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void on_signal(int sig)
{
	if (sig == SIGHUP)
		got_hup = 1;
	else
		got_term = 1;
}

static void setup_signals(void)
{
	struct sigaction sa = { .sa_handler = on_signal };

	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

/* The one store process (role daemon), unless it runs or must wait. */
static void ensure_store(master_t *m)
{
	if (m->store.pid > 0 || now_ms() < m->next_store)
		return;
	if (storecl_spawn(m->d, "daemon", &m->store) < 0) {
		log_err("store process: %s", strerror(errno));
		m->store.pid = 0;
		m->next_store = now_ms() + BACKOFF_MAX_MS;
		return;
	}
	m->next_store = now_ms(); /* when it started (for the backoff) */
}

/* A child of the master that must not keep the store's control channel. */
static void child_close(master_t *m)
{
	storecl_close(&m->store);
}

/* A session with its own channel to the store process. */
static void spawn(master_t *m, slot_t *sl)
{
	pid_t master = getpid();
	pid_t pid;
	int fd;

	if (storecl_attach(m->store.fd, 's', &fd) < 0) {
		log_err("store process: cannot open a channel: %s", strerror(errno));
		m->next_spawn = now_ms() + BACKOFF_MIN_MS;
		return;
	}
	pid = fork();
	if (pid == 0) {
		child_close(m);
		_exit(session_main(m->d, master, fd));
	}
	close(fd);
	if (pid < 0) {
		log_err("fork: %s", strerror(errno));
		m->next_spawn = now_ms() + BACKOFF_MAX_MS;
		return;
	}
	sl->pid = pid;
	sl->store = m->store.pid;
	sl->started = now_ms();
	sl->old = false;
}

/* A store process ended. The current one that dies is restarted after a
 * backoff that doubles while it keeps dying; every session attached to it
 * (whose in-flight message gets 451) is told to finish and is replaced. */
static bool store_exited(master_t *m, pid_t pid, int ws)
{
	bool bad = !(WIFEXITED(ws) && WEXITSTATUS(ws) == 0);
	size_t n = 0;
	long long t = now_ms();

	if (pid != m->store.pid && pid != m->old_store)
		return false;
	for (size_t i = 0; i < m->n; i++) {
		slot_t *sl = &m->slots[i];

		if (sl->store != pid)
			continue;
		sl->store = 0;
		if (sl->pid > 0 && bad) {
			kill(sl->pid, SIGTERM);
			n++;
		}
	}
	if (bad) {
		log_warn("store process pid %d %s %d; it is restarted, and %zu session(s) with it",
			 (int)pid, WIFSIGNALED(ws) ? "killed by signal" : "exited with status",
			 WIFSIGNALED(ws) ? WTERMSIG(ws) : WEXITSTATUS(ws), n);
		metrics_add(M_S_RESTART, 1);
	}
	if (pid == m->old_store) {
		m->old_store = 0;
		return true;
	}
	storecl_close(&m->store);
	m->store.pid = 0;
	m->store_backoff = t - m->next_store > STABLE_MS || !m->store_backoff ? BACKOFF_MIN_MS
			   : m->store_backoff * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS
			   : m->store_backoff * 2;
	m->next_store = t + (bad ? m->store_backoff : 0);
	return true;
}

/* A child exited: a normal exit (max_use, drain) is replaced at once, a
 * crash after a backoff that doubles until sessions run stably. */
static void child_exited(master_t *m, pid_t pid, int ws)
{
	if (pid == m->releaser) {
		m->releaser = 0;
		return;
	}
	if (store_exited(m, pid, ws))
		return;
	for (size_t i = 0; i < m->n; i++) {
		slot_t *sl = &m->slots[i];
		long long t = now_ms();

		if (sl->pid != pid)
			continue;
		sl->pid = 0;
		sl->store = 0;
		if (WIFEXITED(ws) && WEXITSTATUS(ws) == 0)
			return;
		metrics_add(M_S_RESTART, 1);
		m->backoff = t - sl->started > STABLE_MS || !m->backoff ? BACKOFF_MIN_MS
			     : m->backoff * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : m->backoff * 2;
		m->next_spawn = t + m->backoff;
		log_warn("session pid %d %s %d; restarting in %ld ms", (int)pid,
			 WIFSIGNALED(ws) ? "killed by signal" : "exited with status",
			 WIFSIGNALED(ws) ? WTERMSIG(ws) : WEXITSTATUS(ws), m->backoff);
		return;
	}
}

static void reap(master_t *m)
{
	pid_t pid;
	int ws;

	while ((pid = waitpid(-1, &ws, WNOHANG)) > 0)
		child_exited(m, pid, ws);
}

/* Sessions and the releaser still running. */
static size_t sessions_running(const master_t *m)
{
	size_t n = m->releaser > 0;

	for (size_t i = 0; i < m->n; i++)
		n += m->slots[i].pid > 0;
	return n;
}

/* Sessions, the releaser and store processes still running (a store
 * process finishes the requests its peers wait for, then sees them hang
 * up). */
static size_t running(const master_t *m)
{
	return sessions_running(m) + (m->store.pid > 0) + (m->old_store > 0);
}

static void signal_all(master_t *m, int sig)
{
	for (size_t i = 0; i < m->n; i++)
		if (m->slots[i].pid > 0)
			kill(m->slots[i].pid, sig);
	if (sig == SIGKILL) {
		if (m->releaser > 0)
			kill(m->releaser, sig);
		if (m->store.pid > 0)
			kill(m->store.pid, sig);
		if (m->old_store > 0)
			kill(m->old_store, sig);
	}
}

/* Keep max_sessions current sessions running. */
static void fill_slots(master_t *m)
{
	size_t want = (size_t)cfg_int(&m->d->cfg, CFG_MAX_SESSIONS), live = 0;

	ensure_store(m);
	if (m->store.pid <= 0)
		return;
	for (size_t i = 0; i < m->n; i++)
		live += m->slots[i].pid > 0 && !m->slots[i].old;
	for (size_t i = 0; i < m->n && live < want && now_ms() >= m->next_spawn; i++) {
		if (m->slots[i].pid == 0) {
			spawn(m, &m->slots[i]);
			live += m->slots[i].pid > 0;
		}
	}
}

/* The current store process takes no new peers: it exits when the ones it
 * has hang up (its control channel closed). A new one starts for the next
 * session. One older than it that still runs is no longer waited for. */
static void retire_store(master_t *m)
{
	if (m->store.pid <= 0)
		return;
	m->old_store = m->store.pid;
	storecl_close(&m->store);
	m->store.pid = 0;
	m->next_store = 0;
}

/* SIGHUP: load the file again; on success current sessions drain and new
 * ones start with the new values. listen changes need a restart. */
static void reload(master_t *m)
{
	daemon_ctx_t nd = *m->d;
	char err[ERR_TEXT_MAX];

	if (!m->d->cfg_path) {
		log_info("SIGHUP: no config file (embedded defaults); nothing to reload");
		return;
	}
	if (cfg_init(&nd.cfg) < 0 || cfg_load(&nd.cfg, m->d->cfg_path, err, sizeof(err)) < 0 ||
	    daemon_check(&nd, err, sizeof(err)) < 0) {
		log_err("SIGHUP: config not reloaded, keeping the running one: %s", err);
		cfg_free(&nd.cfg);
		return;
	}
	if (strcmp(cfg_str(&nd.cfg, CFG_LISTEN), cfg_str(&m->d->cfg, CFG_LISTEN)) != 0)
		log_warn("SIGHUP: 'listen' changed; it takes effect at the next restart");
	if (strcmp(cfg_str(&nd.cfg, CFG_MILTER_LISTEN), cfg_str(&m->d->cfg, CFG_MILTER_LISTEN)) != 0)
		log_warn("SIGHUP: 'milter_listen' changed; it takes effect at the next restart");
	if (daemon_cfg_memfd(&nd) < 0) {
		log_err("SIGHUP: config not reloaded, keeping the running one: %s: %s",
			m->d->cfg_path, strerror(errno));
		cfg_free(&nd.cfg);
		return;
	}
	if (m->d->cfg_fd >= 0)
		close(m->d->cfg_fd);
	cfg_free(&m->d->cfg);
	*m->d = nd;
	for (size_t i = 0; i < m->n; i++)
		m->slots[i].old = m->slots[i].pid > 0;
	signal_all(m, SIGTERM);
	retire_store(m);
	(void)startup_note_reload(m->d);
	log_info("SIGHUP: config %s reloaded (digest %.16s); sessions restart after their current message",
		 m->d->cfg_path, m->d->cfg_digest);
}

/* SIGTERM: stop accepting, let in-flight messages finish, then exit. */
static void drain(master_t *m)
{
	long long until = now_ms() + lim(&m->d->cfg.lim, LIM_DRAIN_TIME) * 1000;

	log_info("stopping: draining %zu session(s)", sessions_running(m));
	signal_all(m, SIGTERM);
	while (running(m) && now_ms() < until) {
		if (!sessions_running(m))
			retire_store(m);
		poll(NULL, 0, TICK_MS);
		reap(m);
	}
	if (running(m)) {
		log_warn("drain_time_max reached: killing %zu session(s) (their messages were not acknowledged)",
			 running(m));
		signal_all(m, SIGKILL);
		while (running(m) && (poll(NULL, 0, TICK_MS), 1))
			reap(m);
	}
}

/* Every release_interval seconds, one short-lived child delivers the
 * originals approved for release to the queue (release.c). */
static void maybe_release(master_t *m)
{
	long long iv = cfg_int(&m->d->cfg, CFG_RELEASE_INTERVAL);
	pid_t pid;
	int fd;

	if (iv <= 0 || now_ms() < m->next_release)
		return;
	if (m->releaser > 0 || m->store.pid <= 0)
		return;
	m->next_release = now_ms() + iv * 1000;
	if (storecl_attach(m->store.fd, 'r', &fd) < 0) {
		log_warn("release: store process: %s", strerror(errno));
		return;
	}
	pid = fork();
	if (pid == 0) {
		child_close(m);
		close(m->d->listen_fd);
		if (m->d->milter_fd >= 0)
			close(m->d->milter_fd);
		_exit(release_run(m->d, fd));
	}
	close(fd);
	m->releaser = pid > 0 ? pid : 0;
	if (pid < 0)
		log_warn("release: fork: %s", strerror(errno));
}

int master_run(daemon_ctx_t *d)
{
	static master_t m;
	long long next_metrics = 0;
	bool metrics_warned = false;

	m.d = d;
	m.n = SLOTS_MAX;
	m.store.fd = -1;
	setup_signals();
	log_info("mugaid ready: listen %s, milter_listen %s, next_hop %s, %lld sessions, config digest %.16s",
		 cfg_str(&d->cfg, CFG_LISTEN), *cfg_str(&d->cfg, CFG_MILTER_LISTEN) ?
		 cfg_str(&d->cfg, CFG_MILTER_LISTEN) : "(off)", cfg_str(&d->cfg, CFG_NEXT_HOP),
		 cfg_int(&d->cfg, CFG_MAX_SESSIONS), d->cfg_digest);
	while (!got_term) {
		reap(&m);
		if (got_hup) {
			got_hup = 0;
			reload(&m);
		}
		fill_slots(&m);
		maybe_release(&m);
		if (now_ms() >= next_metrics) {
			int rc = metrics_write(cfg_str(&d->cfg, CFG_METRICS_FILE));

			if (rc < 0 && !metrics_warned)
				log_warn("metrics_file %s: %s", cfg_str(&d->cfg, CFG_METRICS_FILE),
					 strerror(errno));
			metrics_warned = rc < 0;
			next_metrics = now_ms() + 1000;
		}
		poll(NULL, 0, TICK_MS);
	}
	drain(&m);
	(void)!metrics_write(cfg_str(&d->cfg, CFG_METRICS_FILE));
	log_info("mugaid stopped");
	return 0;
}
