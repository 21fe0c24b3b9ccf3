/*
 * deliver.h — hand a rebuilt message to the next hop: SMTP (Postfix's
 * re-injection smtpd), LMTP, or a Maildir per envelope recipient. Returns
 * success only when the next hop accepted the message for EVERY envelope
 * recipient; otherwise the caller answers 451 and the upstream MTA retries.
 *
 * RFCs: RFC 5321 (SMTP client, 4.5.2 dot-stuffing), RFC 2920 (PIPELINING:
 * the envelope and DATA in one write when the hop announces it; a refused
 * command fails the whole message as without it), RFC 2033 (LMTP: one
 * reply per recipient after DATA), RFC 6531 (SMTPUTF8), RFC 3463 (the
 * enhanced codes of the result); Maildir as in D. J. Bernstein's
 * maildir(5) (tmp → new, fsync before rename).
 *
 * SECURITY: session process. The message comes from a sanitizer worker
 * (already decoded and checked by mail_wire_decode); envelope addresses
 * were checked by smtp_cmd_parse (no CR, LF, NUL or controls). Replies
 * from the next hop are reduced to printable ASCII before they are logged
 * or quoted back to the client.
 */
#ifndef MUGAI_DAEMON_DELIVER_H
#define MUGAI_DAEMON_DELIVER_H

#include <stdbool.h>
#include <stddef.h>
#include "common/defs.h"
#include "common/limits.h"

typedef enum { HOP_SMTP, HOP_LMTP, HOP_MAILDIR } hop_kind_t;

typedef struct hop {
	hop_kind_t kind;
	char host[HOST_BUF_MAX];
	char port[16];
	char dir[HOP_DIR_MAX];
} hop_t;

typedef struct deliver_env {
	const char *from;          /* envelope sender ("" = null path) */
	const char *const *rcpt;
	size_t n_rcpt;
	bool smtputf8;
	const char *helo;          /* our name in EHLO/LHLO */
	const char *id;            /* store id, for Maildir file names */
	int timeout;               /* seconds per connect/read/write */
	/* NULL, or asked once the body is with the next hop and before the
	 * final dot (a Maildir: before anything is written): -1 holds the
	 * message back (the connection is dropped before the dot, which
	 * aborts the transaction) and deliver fails, nothing delivered. The
	 * session waits here for its store commit, which so overlaps with the
	 * transfer. Not asked when the delivery failed before. */
	int (*gate)(void *arg);
	void *gate_arg;
} deliver_env_t;

/* "smtp:HOST:PORT" | "lmtp:HOST:PORT" | "maildir:DIR". */
int deliver_parse_hop(const char *spec, hop_t *h, char *err, size_t errlen) MUGAI_WUR;
/* What the next hop did with a message: a structure, never text parsed back. */
typedef struct deliver_result {
	int status;        /* the next hop's reply code (250, 451, 550, ...); 0: no reply */
	char code[8];      /* RFC 3463 enhanced code: "2.0.0" delivered, "4.4.1" no
			    * connection, "4.4.0" refused, "4.4.2" lost, "4.3.0" local */
	char text[ERR_TEXT_MAX];    /* printable ASCII: the hop's reply, or what failed */
	bool temporary;    /* a failure worth retrying (all but a 5xx refusal) */
} deliver_result_t;

/* Resolve the next hop's address now and use it for every later delivery
 * of this process (a session does this before it enters its seccomp policy,
 * which forbids the files the resolver reads). 0, or -1: resolved per call. */
int deliver_prepare(const hop_t *h) MUGAI_WUR;
/* Deliver: 0 when every recipient was accepted; r says what happened
 * either way (mugaid answers 451 to every failure: the upstream retries). */
int deliver(const hop_t *h, const deliver_env_t *e, const char *msg, size_t len,
	    deliver_result_t *r) MUGAI_WUR;

#endif
