/*
 * sanitizer.h — mugaid's persistent sanitizer worker: a child of a session
 * process that enters the sandbox once, then receives each message as a
 * sealed memfd over a socketpair (SCM_RIGHTS), runs the mail engine and
 * writes back the result record (mail/wire.h). Recycled after
 * worker_max_use jobs; the parent enforces wall_time_max with SIGKILL.
 * The frame, its reader, the statuses and the reaping are the one worker
 * layer's (common/worker.h), shared with the CLI's one-shot workers.
 *
 * Protocol (both directions on one AF_UNIX SOCK_STREAM socketpair):
 *   worker → parent, once:  'R' ready (sandbox in force) | 'N' no sandbox
 *   parent → worker, job:   sanitizer_job_hdr_t + SCM_RIGHTS(memfd[, answers memfd][, password memfd])
 *                           (the last one for a PPAP pairing: sanitizer_job_pw)
 *   worker → parent, job:   one worker frame (u64 length + result record)
 *
 * SECURITY: the worker runs under sandbox_enter_recv() (seccomp default
 * deny, recvmsg allowed only on its socket, no_new_privs, RLIMIT_AS/CPU,
 * no descriptors but its socket and stderr). The memfd is sealed against
 * writes, so a compromised worker cannot alter the original that is
 * quarantined. The parent treats the reply as an opaque, length-capped blob.
 * A PPAP pairing job gives the worker the password mail too: the worker
 * finds the candidates itself and returns only the rebuilt follow-up and
 * counts, so no password ever reaches the session.
 */
#ifndef MUGAI_DAEMON_SANITIZER_H
#define MUGAI_DAEMON_SANITIZER_H

#include <stdbool.h>
#include <sys/types.h>
#include "common/buf.h"
#include "common/config.h"
#include "common/worker.h"
#include "mail/mail.h"

typedef struct sanitizer {
	pid_t pid;   /* 0: not running */
	int sock;
	long jobs;   /* jobs done by this worker */
	long started; /* workers started by this process */
	long long cpu_ms; /* CPU of the last job, from the worker's CPU clock */
	pid_t conv_pid;  /* the converter (legacy attachments), 0: none */
	int conv_sock;   /* its socket, -1: none */
	bool conv_dead;  /* it failed: the session ends after this message */
} sanitizer_t;


void sanitizer_init(sanitizer_t *w);
/* Fork the converter: the process that runs LibreOffice's jail for this
 * session's legacy attachments (mail/conv.h). Called before the session
 * enters its seccomp policy, which forbids starting programs; with
 * legacy_policy = block there is none. -1 when it cannot be started. */
int sanitizer_conv_start(sanitizer_t *w, const cfg_t *cfg) MUGAI_WUR;
/* Start a worker and wait for it to report the sandbox in force. -1 when
 * it could not be started or could not install the sandbox (*no_sandbox). */
int sanitizer_start(sanitizer_t *w, const cfg_t *cfg, bool *no_sandbox) MUGAI_WUR;
/* Run one job: memfd holds len bytes (sealed); sender is the envelope
 * sender (MAIL FROM, may be "" or NULL). Legacy attachments the first
 * pass asks to convert are converted in the jail here and a second pass
 * runs with the answers (mail/conv.h); result is the last pass's. *sig
 * gets the signal that killed a crashed worker (0 when none). */
worker_status_t sanitizer_job(sanitizer_t *w, const cfg_t *cfg, const char *id,
			      const char *sender, int memfd, size_t len, buf_t *result, int *sig);
/* The same with what the session learned before (antivirus, first
 * contact; mail/mail.h mail_facts_t), or NULL. */
worker_status_t sanitizer_job_facts(sanitizer_t *w, const cfg_t *cfg, const char *id,
				    const char *sender, const mail_facts_t *facts, int memfd,
				    size_t len, buf_t *result, int *sig);
/* PPAP pairing (mail/ppapscan.h): the held original is the job's message;
 * fd holds len bytes (sealed) of the password mail (SAN_PW_MAIL), whose
 * candidates the worker finds itself, or of a password an administrator
 * typed (SAN_PW_TYPED, up to its first line end); `of` is the held
 * original's id for the follow-up's notice. The password never comes
 * back: the result is the follow-up message and its counts. */
enum { SAN_PW_MAIL = 1, SAN_PW_TYPED = 2 };
typedef struct sanitizer_pw {
	int fd;
	size_t len;
	unsigned kind;
	const char *of;
} sanitizer_pw_t;
worker_status_t sanitizer_job_pw(sanitizer_t *w, const cfg_t *cfg, const char *id,
				 const char *sender, int memfd, size_t len,
				 const sanitizer_pw_t *pw, buf_t *result, int *sig);
void sanitizer_stop(sanitizer_t *w);

#endif
