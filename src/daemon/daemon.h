/*
 * daemon.h — what mugaid's processes share: the loaded configuration, the
 * parsed next hop, the listening socket, and the entry points of the
 * master (master.c) and of a session process (session.c).
 *
 * Processes (DESIGN.md "Processes by trust"):
 *   master   root-capable: config, bind, drop privileges, supervise, metrics
 *   session  N prefork processes: accept, speak SMTP (or milter: milterfront.c),
 *            spool, deliver; own
 *            seccomp policy (sandbox_enter_session); asks its store process
 *   worker   one per session, sandboxed: parse hostile bytes (sanitizer.c)
 *   store    one for all sessions and the releaser, plus one per startup or
 *            reload check (mugaid-store, storeproc.c): the only processes
 *            that open state_dir; group commit of the sessions' requests
 *   releaser a short-lived master child: queued releases (release.c)
 *
 * SECURITY: the context is built by the master during setup and inherited
 * read-only by fork(); sessions never write to it.
 */
#ifndef MUGAI_DAEMON_H
#define MUGAI_DAEMON_H

#include <signal.h>
#include "common/config.h"
#include "daemon/clamd.h"
#include "daemon/deliver.h"

typedef struct daemon_ctx {
	cfg_t cfg;
	hop_t hop;
	av_target_t av;        /* antivirus (clamd.h): AV_NONE when off */
	char hostname[HOST_BUF_MAX];
	int listen_fd;
	int milter_fd;         /* milter_listen's socket, or -1 (off) */
	const char *cfg_path;  /* NULL: embedded defaults */
	char cfg_digest[65];   /* sha256 of the effective config (startup_digest) */
	char store_bin[PATH_BUF_MAX];  /* mugaid-store, next to this executable */
	int store_exe;  /* it, opened before root is given up (-1: could not): started
			 * with fexecve, so a checkout under /root works as user mugai */
	int cfg_fd;            /* memfd: the config file's bytes as loaded (-1: defaults);
				* a store process reads it as its descriptor 4 */
} daemon_ctx_t;

/* Check the daemon keys of a loaded config (listen, next_hop). */
int daemon_check(daemon_ctx_t *d, char *err, size_t errlen) MUGAI_WUR;
/* Parse "HOST:PORT" (or "[HOST]:PORT"). */
int daemon_split_addr(const char *spec, char *host, size_t hn, char *port, size_t pn) MUGAI_WUR;

/* Before "ready", as the run user (startup.c): the store opens and takes
 * the config.load record, the maildir is writable or the next hop's address
 * resolves, the metrics file is writable. -1 with err naming path and fix. */
int startup_check(const daemon_ctx_t *d, char *err, size_t errlen) MUGAI_WUR;
/* d->cfg_digest := sha256 of the effective config (cfg_dump + notice text). */
int startup_digest(daemon_ctx_t *d) MUGAI_WUR;
/* After a SIGHUP reload: append config.load with the new digest. */
int startup_note_reload(const daemon_ctx_t *d);

/* d->cfg_fd := a sealed memfd with the bytes of d->cfg_path (read now, while
 * the file is readable; the store process may not be allowed to open it). */
int daemon_cfg_memfd(daemon_ctx_t *d) MUGAI_WUR;
/* Supervise session processes until SIGTERM/SIGINT; returns exit status. */
int master_run(daemon_ctx_t *d);
/* A releaser process: deliver the originals queued by `quarantine approve
 * --queue` (release.c); exit status 0 when all went out. */
int release_run(const daemon_ctx_t *d, int store_fd);
/* A session process: serve connections until session_max_use or SIGTERM. */
int session_main(const daemon_ctx_t *d, pid_t master, int store_fd);

#endif
