/*
 * conv.h — legacy attachments of a mail (.doc .xls .ppt .rtf, and OOXML/ODF
 * that CDR cannot rebuild) converted in LibreOffice's jail, in two passes
 * through the sandboxed worker:
 *
 *   1. The worker sanitizes the message. Each attachment CDR answers with
 *      res->convert (legacy_policy = convert) is listed blocked with
 *      `legacy-not-converted`, and its decoded bytes go back to the parent
 *      as a request (conv_set_t in mail_result_t, wire.h).
 *   2. The parent (the CLI, or the mugaid session in daemon/sanitizer.c),
 *      which may fork and exec, runs each request in the jail (conv_run:
 *      common/jail.h) and sends the original again with the answers (the
 *      jail's PDF, or the reason it failed) to a sandboxed worker. The
 *      engine, a pure function, meets the same attachments in the same
 *      order; the n-th one asking for conversion takes the n-th answer,
 *      whose PDF is flattened there as hostile input
 *      (cdr_sanitize_converted), or is blocked with the answer's reason.
 *      Each answer carries the SHA-256 of the bytes it was made from; an
 *      attachment whose bytes differ (the passes diverged, e.g. on a time
 *      limit) is blocked `internal-error` instead of taking another's PDF.
 *
 * A front that does not run the second pass keeps the first pass's
 * verdict: the attachment blocked with `legacy-not-converted`.
 *
 * Answer record (parent → worker, daemon only; the CLI passes the set):
 *   u32 magic "MGC2" | u32 count | count × (u32 len + type | u32 len +
 *   reason | u32 len + SHA-256 hex of the original | u64 len + PDF)
 *
 * SECURITY: requests are hostile bytes: the parent only copies them into
 * the jail's tmpfs. Answers are hostile PDFs: flattened only in a worker.
 * conv_run never runs LibreOffice outside the jail. Limits:
 * legacy_message_max (conversions per message), and those of jail.h.
 */
#ifndef MUGAI_MAIL_CONV_H
#define MUGAI_MAIL_CONV_H

#include <stdbool.h>
#include <stddef.h>
#include "common/buf.h"
#include "common/config.h"

typedef struct conv_item {
	const char *type;  /* static legacy type (cdr_legacy_type) */
	buf_t data;        /* request: the decoded attachment; answer: the PDF */
	char reason[CDR_REASON_MAX]; /* answer: "" when data is the PDF, else why blocked */
	char sum[65];      /* answer: SHA-256 (hex) of the request's bytes */
} conv_item_t;

typedef struct conv_set {
	conv_item_t *items;
	size_t n;
	bool answered;     /* the items are answers (second pass) */
} conv_set_t;

void conv_set_init(conv_set_t *s);
void conv_set_free(conv_set_t *s);
/* Append an item (data copied, capped at max bytes). -1 on memory. */
int conv_add(conv_set_t *s, const char *type, const void *data, size_t len, size_t max,
	     const char *reason) MUGAI_WUR;

/* Parent side: convert every request in the jail into ans (answered). 0,
 * or -1 on an internal failure (then withhold the message). */
int conv_run(const cfg_t *cfg, const conv_set_t *req, conv_set_t *ans) MUGAI_WUR;

/* The answer record, encoded by the parent and decoded (checked) in the
 * worker. decode: -1 when malformed. */
int conv_encode(const conv_set_t *ans, buf_t *out) MUGAI_WUR;
int conv_decode(const char *p, size_t len, size_t max_item, conv_set_t *ans) MUGAI_WUR;

/* SHA-256 of len bytes as 64 hex digits into sum; -1 on memory. */
int conv_sum(const void *p, size_t len, char sum[65]) MUGAI_WUR;

#endif
