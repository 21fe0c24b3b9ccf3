/*
 * msgcore.h — the per-message core that both fronts of a session process
 * share (session.c: after-queue SMTP; milterfront.c: milter): the sealed
 * memfd spool, the message id (an earlier attempt's entry when the same
 * queue id brings the same original again), the antivirus second opinion
 * (clamd, av.c) and the first-contact lookup, the sandboxed worker's result
 * (or the notice-only result when it failed), the original and report made
 * durable in the store process with the verdict audited, and the log line,
 * counters and store marks once the front has passed the message on or
 * deferred it.
 *
 * SECURITY: runs in the session process under its seccomp policy; holds no
 * parser: the spool's bytes go to the worker and the store only.
 */
#ifndef MUGAI_DAEMON_MSGCORE_H
#define MUGAI_DAEMON_MSGCORE_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include "common/id.h"
#include "daemon/daemon.h"
#include "daemon/metrics.h"
#include "daemon/sanitizer.h"
#include "daemon/storeclient.h"
#include "mail/wire.h"

/* Set by SIGTERM, and when the store channel broke: finish, then exit. */
extern volatile sig_atomic_t msgcore_stopping;

/* One session process's helpers. */
typedef struct msgproc {
	const daemon_ctx_t *d;
	sanitizer_t worker;
	storecl_t store;  /* this session's store process */
} msgproc_t;

/* The envelope of one message, as the front received it. */
typedef struct msgenv {
	const char *from;
	char *const *rcpt;
	size_t n_rcpt;
	const char *ident;   /* the MTA's queue id, or "" */
	const char *client;  /* the MTA's address, for the log */
} msgenv_t;

/* The message's bytes in a memfd, sealed before anyone reads them. */
typedef struct msgcore_spool {
	int fd;
	size_t len, max;     /* bytes taken (written or staged), the cap */
	bool too_big, failed;
	const char *map;
	char *stage;         /* SPOOL_CHUNK bytes gathered before one write(), or NULL */
	size_t staged;
} msgcore_spool_t;

int msgcore_spool_open(msgcore_spool_t *sp, size_t max) MUGAI_WUR;
/* Append (past max: too_big, the rest is dropped; a write error: failed).
 * Small pieces (the milter front's header lines, the SMTP front's reads)
 * are gathered into SPOOL_CHUNK bytes per write(). */
void msgcore_spool_write(msgcore_spool_t *sp, const char *p, size_t n);
/* Write what is staged, seal against any change and map for the store. */
int msgcore_spool_seal(msgcore_spool_t *sp) MUGAI_WUR;
void msgcore_spool_close(msgcore_spool_t *sp);

typedef struct msgjob {
	char id[MUGAI_ID_LEN + 1];
	mail_result_t res;    /* res.msg: the message to pass on (rebuilt or notice) */
	const char *worker;   /* "ok" or the failure name */
	int sig;
	char why[SESSION_WHY_MAX];  /* next hop reply or failure */
	long long t0;
	bool retry;           /* an earlier attempt's entry is reused (same queue id + digest) */
	mail_facts_t facts;   /* antivirus answer, first contact: for the worker */
	/* when msgcore_run fails: what to tell the MTA (451 CODE Error: WHAT: WHY) */
	metric_id_t fail;
	const char *code, *what;
} msgjob_t;

void msgcore_job_init(msgjob_t *j);
void msgcore_job_free(msgjob_t *j);
/* id and first contact → antivirus → worker → store: 0 when the store
 * request for the original and report is sent and j->res.msg is the
 * message to pass on; -1 (j->fail, code, what, why set): answer 4xx, then
 * msgcore_deferred. After 0 the front passes the message on up to its
 * last step (the final dot, the milter accept), then calls
 * msgcore_stored exactly once, and takes that step only when it returns
 * 0: the store's commit overlaps with the transfer, and nothing is
 * accepted before the original is durable. */
int msgcore_run(msgproc_t *p, const msgenv_t *e, const msgcore_spool_t *sp,
		msgjob_t *j) MUGAI_WUR;
/* The store's answer: 0 the original and report are durable (or, on a
 * retry, the verdict audited); -1 as msgcore_run (451). */
int msgcore_stored(msgproc_t *p, msgjob_t *j) MUGAI_WUR;
/* PPAP (ppap.c): after the message was passed on, a message with password
 * candidates is paired with the held originals it may open. */
void msgcore_ppap(msgproc_t *p, const msgenv_t *e, const msgcore_spool_t *sp, const msgjob_t *j);
/* "Error: WHAT[: WHY], try again later" for the 451 of a failed job. */
void msgcore_tempfail_text(const msgjob_t *j, char *out, size_t n);
/* A 4xx was given: count it, log the deferral. */
void msgcore_deferred(const msgproc_t *p, const msgenv_t *e, const msgjob_t *j, size_t len);
/* The next hop refused the stored message: audit mail.deferred. */
void msgcore_hop_deferred(msgproc_t *p, const msgjob_t *j);
/* The message was passed on (250 or milter accept): mark it delivered in
 * the store, count it, log it. */
void msgcore_sent(msgproc_t *p, const msgenv_t *e, const msgjob_t *j, size_t len);
long long msgcore_now_ms(void);

/* A front's input: buf[off, len) is read and not used yet (cap bytes). */
typedef struct msgcore_in {
	char *buf;
	size_t len, off, cap;
} msgcore_in_t;

typedef enum {
	MC_IN_MORE = 0,     /* more bytes are in */
	MC_IN_END = -1,     /* EOF, a read error, or the buffer is full */
	MC_IN_TIMEOUT = -2, /* nothing for smtp_timeout */
	MC_IN_STOP = -3,    /* shutting down, and the caller may stop here */
} msgcore_in_rc_t;

/* Move the unused bytes to the front, then wait (a second at a time, up to
 * timeout_ms; at shutdown only when `stoppable`) for more from fd and read
 * what is there. The caller has flushed its answers first. */
msgcore_in_rc_t msgcore_in_fill(msgcore_in_t *in, int fd, long long timeout_ms, bool stoppable);

#endif
