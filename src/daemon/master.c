/*
 * master.c — mugaid's master process: start max_sessions session
 * processes, restart one that died with exponential backoff, rewrite the
 * metrics file every second, reload the config on SIGHUP (new sessions get
 * it; old ones finish their current message and exit), and on SIGTERM or
 * SIGINT let in-flight messages finish (at most drain_time_max) and exit.
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
	pid_t store;  /* this session's store process, or 0 */
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
	pid_t rel_store;       /* its store process, or 0 */
	long long next_release;
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

/* A session and its store process, joined by a socketpair. */
static void spawn(master_t *m, slot_t *sl)
{
	pid_t master = getpid();
	storecl_t st;
	pid_t pid;

	if (storecl_spawn(m->d, "session", &st) < 0) {
		log_err("store process: %s", strerror(errno));
		m->next_spawn = now_ms() + BACKOFF_MAX_MS;
		return;
	}
	pid = fork();
	if (pid == 0)
		_exit(session_main(m->d, master, st.fd));
	storecl_close(&st);
	if (pid < 0) {
		log_err("fork: %s", strerror(errno));
		m->next_spawn = now_ms() + BACKOFF_MAX_MS;
		sl->store = st.pid; /* it exits on EOF; reaped like any child */
		return;
	}
	sl->pid = pid;
	sl->store = st.pid;
	sl->started = now_ms();
	sl->old = false;
}

/* A child exited: a normal exit (max_use, drain) is replaced at once, a
 * crash after a backoff that doubles until sessions run stably. */
/* A store process ended: a session's store exits when its session has
 * gone; one that dies under a live session is logged, and the session
 * (whose in-flight message gets 451) is told to finish and is replaced. */
static bool store_exited(master_t *m, pid_t pid, int ws)
{
	for (size_t i = 0; i < m->n; i++) {
		slot_t *sl = &m->slots[i];

		if (sl->store != pid)
			continue;
		sl->store = 0;
		if (sl->pid > 0 && !(WIFEXITED(ws) && WEXITSTATUS(ws) == 0)) {
			log_warn("store process pid %d of session pid %d %s %d; the session is restarted",
				 (int)pid, (int)sl->pid, WIFSIGNALED(ws) ? "killed by signal"
				 : "exited with status", WIFSIGNALED(ws) ? WTERMSIG(ws) : WEXITSTATUS(ws));
			metrics_add(M_S_RESTART, 1);
			kill(sl->pid, SIGTERM);
		}
		return true;
	}
	if (pid == m->rel_store) {
		m->rel_store = 0;
		return true;
	}
	return false;
}

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

/* Sessions and store processes still running (a store finishes the
 * request its session is waiting for, then sees the session hang up). */
static size_t running(const master_t *m)
{
	size_t n = 0;

	for (size_t i = 0; i < m->n; i++)
		n += (m->slots[i].pid > 0) + (m->slots[i].store > 0);
	return n;
}

static void signal_all(master_t *m, int sig)
{
	for (size_t i = 0; i < m->n; i++) {
		if (m->slots[i].pid > 0)
			kill(m->slots[i].pid, sig);
		if (sig == SIGKILL && m->slots[i].store > 0)
			kill(m->slots[i].store, sig);
	}
}

/* Keep max_sessions current sessions running. */
static void fill_slots(master_t *m)
{
	size_t want = (size_t)cfg_int(&m->d->cfg, CFG_MAX_SESSIONS), live = 0;

	for (size_t i = 0; i < m->n; i++)
		live += m->slots[i].pid > 0 && !m->slots[i].old;
	for (size_t i = 0; i < m->n && live < want && now_ms() >= m->next_spawn; i++) {
		if (m->slots[i].pid == 0 && m->slots[i].store == 0) {
			spawn(m, &m->slots[i]);
			live += m->slots[i].pid > 0;
		}
	}
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
	(void)startup_note_reload(m->d);
	log_info("SIGHUP: config %s reloaded (digest %.16s); sessions restart after their current message",
		 m->d->cfg_path, m->d->cfg_digest);
}

/* SIGTERM: stop accepting, let in-flight messages finish, then exit. */
static void drain(master_t *m)
{
	long long until = now_ms() + lim(&m->d->cfg.lim, LIM_DRAIN_TIME) * 1000;

	log_info("stopping: draining %zu session(s)", running(m));
	signal_all(m, SIGTERM);
	while (running(m) && now_ms() < until) {
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
	storecl_t st;
	pid_t pid;

	if (iv <= 0 || now_ms() < m->next_release)
		return;
	if (m->releaser > 0 || m->rel_store > 0)
		return;
	m->next_release = now_ms() + iv * 1000;
	if (storecl_spawn(m->d, "release", &st) < 0) {
		log_warn("release: store process: %s", strerror(errno));
		return;
	}
	pid = fork();
	if (pid == 0) {
		close(m->d->listen_fd);
		if (m->d->milter_fd >= 0)
			close(m->d->milter_fd);
		_exit(release_run(m->d, st.fd));
	}
	storecl_close(&st);
	m->rel_store = st.pid;
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
