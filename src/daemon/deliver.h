/*
 * deliver.h — hand a rebuilt message to the next hop: SMTP (Postfix's
 * re-injection smtpd), LMTP, or a Maildir per envelope recipient. Returns
 * success only when the next hop accepted the message for EVERY envelope
 * recipient; otherwise the caller answers 451 and the upstream MTA retries.
 *
 * RFCs: RFC 5321 (SMTP client, 4.5.2 dot-stuffing), RFC 2033 (LMTP: one
 * reply per recipient after DATA), RFC 6531 (SMTPUTF8), RFC 3463 (the
 * enhanced codes in the failure text); Maildir as in D. J. Bernstein's
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
} deliver_env_t;

/* "smtp:HOST:PORT" | "lmtp:HOST:PORT" | "maildir:DIR". */
int deliver_parse_hop(const char *spec, hop_t *h, char *err, size_t errlen) MUGAI_WUR;
/* Deliver. On success `why` holds the next hop's reply (for the log); on
 * failure an enhanced status code and reason, e.g. "4.4.1 ... refused". */
int deliver(const hop_t *h, const deliver_env_t *e, const char *msg, size_t len, char *why,
	    size_t whylen) MUGAI_WUR;

#endif
