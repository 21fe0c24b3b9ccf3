/*
 * av.h — the antivirus second opinion of a mugaid session: stream the
 * original to clamd (zINSTREAM) under one deadline and read its verdict.
 *
 * SECURITY: session process, after its seccomp policy (socket, connect,
 * poll, send, recv on a descriptor it opens). The bytes go to clamd
 * unparsed; the reply is parsed by clamd_reply_parse (clamd.h).
 */
#ifndef MUGAI_DAEMON_AV_H
#define MUGAI_DAEMON_AV_H

#include "daemon/clamd.h"

typedef struct av_result {
	clamd_verdict_t verdict;
	char sig[CLAMD_SIG_MAX];   /* FOUND: the signature name */
	char why[AV_WHY_MAX];      /* ERROR: what failed (ASCII, for log, report and audit) */
} av_result_t;

/* Scan len bytes. Always fills r; CLAMD_ERROR covers unreachable, timeout
 * (timeout_s for the whole exchange), a protocol error and clamd's own
 * ERROR replies (e.g. its StreamMaxLength). */
void av_scan(const av_target_t *t, const char *data, size_t len, int timeout_s, av_result_t *r);

#endif
