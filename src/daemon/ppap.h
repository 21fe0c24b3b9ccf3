/*
 * ppap.h — PPAP pairing in mugaid: an encrypted zip held as ppap-pending,
 * then the password mail from the same sender to a shared recipient within
 * ppap_window; the follow-up message with the opened, sanitized files; the
 * notice when the window passes. See ppap.c (and its specs).
 *
 * SECURITY: session and releaser side; never parses mail and never sees a
 * password (the worker scans and tries the candidates, mail/ppapscan.h).
 */
#ifndef MUGAI_DAEMON_PPAP_H
#define MUGAI_DAEMON_PPAP_H

#include "daemon/daemon.h"
#include "daemon/sanitizer.h"
#include "daemon/storeclient.h"
#include "mail/wire.h"

/* A message the session has stored and delivered. */
typedef struct ppap_msg {
	const char *id;                 /* its store id */
	const char *env_from;           /* MAIL FROM */
	const char *hdr_from;           /* decoded From (the worker's), or NULL */
	const char *const *rcpt;        /* RCPT TO */
	size_t n_rcpt;
	int fd;                         /* its sealed original */
	size_t len;
	const mail_result_t *res;       /* the worker's result for it */
} ppap_msg_t;

/* The verdict to store for a result: "ppap-pending" when it holds an
 * encrypted zip that waits for its password mail, else the engine's. */
const char *ppap_verdict(const cfg_t *cfg, const mail_result_t *res);

/* The session, after m was stored and delivered: when it carries password
 * candidates, try them (in the worker) on each matching held original,
 * newest first, at most ppap_held_max; deliver each follow-up to that
 * original's recipients and record ppap.paired or ppap.failed. Failures
 * are logged; m itself is already done. */
void ppap_pair(const daemon_ctx_t *d, sanitizer_t *w, storecl_t *st, const ppap_msg_t *m);

/* The releaser: for each held original whose window passed, deliver the
 * notice (mail_ppap_expired_message) to its recipients and record
 * ppap.expired. 0, or -1 when something failed (retried next run). */
int ppap_expire_run(const daemon_ctx_t *d, storecl_t *st);

#endif
