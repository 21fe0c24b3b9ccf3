/*
 * daemon.h — what mugaid's processes share: the loaded configuration, the
 * parsed next hop, the listening socket, and the entry points of the
 * master (master.c) and of a session process (session.c).
 *
 * Processes (DESIGN.md "Processes by trust"):
 *   master   root-capable: config, bind, drop privileges, supervise, metrics
 *   session  N prefork processes: accept, speak SMTP, spool, store, deliver
 *   worker   one per session, sandboxed: parse hostile bytes (sanitizer.c)
 *
 * SECURITY: the context is built by the master during setup and inherited
 * read-only by fork(); sessions never write to it.
 */
#ifndef MUGAI_DAEMON_H
#define MUGAI_DAEMON_H

#include <signal.h>
#include "common/config.h"
#include "daemon/deliver.h"

typedef struct daemon_ctx {
	cfg_t cfg;
	hop_t hop;
	char hostname[HOST_BUF_MAX];
	int listen_fd;
	const char *cfg_path;  /* NULL: embedded defaults */
	char cfg_digest[65];   /* sha256 of the effective config (startup_digest) */
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

/* Supervise session processes until SIGTERM/SIGINT; returns exit status. */
int master_run(daemon_ctx_t *d);
/* A releaser process: deliver the originals queued by `quarantine approve
 * --queue` (release.c); exit status 0 when all went out. */
int release_run(const daemon_ctx_t *d);
/* A session process: serve connections until session_max_use or SIGTERM. */
int session_main(const daemon_ctx_t *d, pid_t master);

#endif
