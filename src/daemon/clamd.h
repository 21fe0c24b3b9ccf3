/*
 * clamd.h — the clamd protocol as pure functions over bytes: the
 * `antivirus` config value, the zINSTREAM chunk framing and the reply.
 * I/O (connect, send, wait) lives in av.c.
 *
 * Spec: clamd(8) "zINSTREAM": the command "zINSTREAM\0", then chunks of
 * <4-byte big-endian length><data>, ended by a zero length; one reply
 * ended by NUL: "stream: OK", "stream: <signature> FOUND", or
 * "<words> ERROR" (e.g. "INSTREAM size limit exceeded. ERROR").
 *
 * SECURITY: the reply comes from another process (clamd) that read the
 * hostile original; the signature name is kept as printable ASCII only,
 * cut at CLAMD_SIG_MAX, and is then handled like any sender text (the
 * writer for the notice, the JSON escaper for the report).
 */
#ifndef MUGAI_DAEMON_CLAMD_H
#define MUGAI_DAEMON_CLAMD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/un.h>
#include "common/defs.h"
#include "common/limits.h"

typedef enum { AV_NONE, AV_UNIX, AV_INET } av_kind_t;

typedef struct av_target {
	av_kind_t kind;
	struct sockaddr_storage sa;  /* sockaddr_un or sockaddr_in/in6 */
	socklen_t sa_len;
} av_target_t;

/* "none" | "clamd:/abs/path" | "clamd:IP:PORT" | "clamd:[IPv6]:PORT"
 * (a numeric address: the session's policy forbids the resolver's files).
 * 0, or -1 with err saying what is wrong. */
int clamd_parse_target(const char *spec, av_target_t *t, char *err, size_t errlen) MUGAI_WUR;

typedef enum { CLAMD_CLEAN, CLAMD_FOUND, CLAMD_ERROR } clamd_verdict_t;

/* One reply (without its NUL). FOUND: sig gets the signature name
 * (printable ASCII, others as '?', cut to sigcap - 1). Anything not
 * exactly OK or FOUND is CLAMD_ERROR. */
clamd_verdict_t clamd_reply_parse(const char *reply, size_t len, char *sig, size_t sigcap);

/* The 4-byte length prefix of a chunk. */
void clamd_chunk_header(uint32_t len, unsigned char out[4]);

#endif
