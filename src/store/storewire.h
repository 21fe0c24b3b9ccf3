/*
 * storewire.h — the records a mugaid session (or the releaser, or the
 * master) sends to its store process, and the answers: small, versioned,
 * length-checked, in the style of mail/wire.h. Pure functions over bytes;
 * the I/O lives in daemon/storeclient.c and daemon/storeproc.c.
 *
 * Frame (both directions, on an AF_UNIX SOCK_STREAM socketpair; integers
 * in host byte order, both ends are the same binary build on one host):
 *
 *   u32 magic "MGS1" (version 1) | u32 type | u32 body length | body
 *
 * A field "str" is u32 n + n bytes whose last byte is NUL and no other is
 * (so the receiver uses it in place as a C string); n >= 1.
 *
 *   PUT            str id | u64 received | str env_from | u32 n + n x str rcpt |
 *                  str hdr_from | str subject | str verdict | str queue_id |
 *                  str details (JSON) | str report (JSON) | u64 original length
 *                  + SCM_RIGHTS: the sealed memfd of the original
 *   AUDIT          str action | str object | str details (JSON)
 *   FIND           str queue_id | str sha256 (64 lowercase hex)
 *   DELIVERED      str id
 *   RELEASE_NEXT   str after_at | str id: the next queued release after the one
 *                  with this approved_at and id ("" "": the oldest), so that one
 *                  that fails does not hold back the rest of a run
 *   RELEASE_DONE   str id | str details (JSON: what was delivered)
 *   CONFIG         str digest (64 lowercase hex): config.load
 *   SEEN           str env_from | u64 since (Unix seconds) | str id ("" or the
 *                  message asking, left out): first contact (issue #11)
 *   PPAP_NEXT      u64 since | u64 skip | str env_from | str hdr_from |
 *                  u32 n + n x str rcpt: a held PPAP original for pairing
 *   PPAP_STALE     u64 before: a PPAP original whose window passed
 *   PPAP_MARK      str action (ppap.paired | ppap.expired | ppap.failed) |
 *                  str id | str details (JSON)
 *   OUTBOX_NEXT    u64 after: the oldest pending outbox row with a greater
 *                  number (the releaser passes the last one it tried, so
 *                  one failing row does not block the others)
 *   OUTBOX_DONE    u64 row | str details (JSON: {kind, to}): outbox.delivered
 *
 *   OK             str id ("" when none; SEEN: a message from env_from received
 *                  since then, "" for a first contact) | i64 seq (audit head after the write)
 *                  RELEASE_NEXT with an item also: str env_from | str rcpt
 *                  ("a,b") | str approved_by | str kind ("original" |
 *                  "sanitized") | str approved_at (audit time, UTC) |
 *                  str subject (decoded, from the index) | str virus (the
 *                  antivirus's name from the stored report, "" when none) |
 *                  u64 original length
 *                  + SCM_RIGHTS: a sealed memfd with the original
 *                  (PPAP_NEXT likewise, approved_by, kind, approved_at
 *                  ""; PPAP_STALE the same fields, length 0 and an empty memfd;
 *                  OUTBOX_NEXT: id the message it is about, seq the row's
 *                  number, env_from "", rcpt its recipients, kind
 *                  "approver-notice" | "ppap-followup", the other strings "",
 *                  the length and memfd of the finished message to send)
 *   ERR            u32 class (full | io | busy | proto) | str message (ASCII)
 *
 * Checks on decode: magic, a known type, every length against what remains
 * and against its cap, nothing left over; ids by mugai_id_valid, hashes as
 * 64 lowercase hex, text fields valid UTF-8 without control characters,
 * details and report by the strict JSON checker (jsoncheck.h).
 *
 * SECURITY: decode runs in the store process (higher trust) on records a
 * session (lower trust: it speaks SMTP to the Internet side) wrote, and in
 * the session on answers; it never interprets beyond these checks.
 */
#ifndef MUGAI_STORE_STOREWIRE_H
#define MUGAI_STORE_STOREWIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/defs.h"
#include "common/limits.h"

#define SW_MAGIC 0x3153474dU /* "MGS1" little-endian */
#define SW_HDR_LEN 12

typedef enum {
	SW_PUT = 1,
	SW_AUDIT,
	SW_FIND,
	SW_DELIVERED,
	SW_RELEASE_NEXT,
	SW_RELEASE_DONE,
	SW_CONFIG,
	SW_SEEN,
	SW_PPAP_NEXT,
	SW_PPAP_STALE,
	SW_PPAP_MARK,
	SW_OUTBOX_NEXT,
	SW_OUTBOX_DONE,
	SW__REQ_END,
	SW_OK = 0x100,
	SW_ERR,
} sw_type_t;

typedef enum {
	SW_E_FULL = 1, /* disk full */
	SW_E_IO,       /* file system, database, corrupt blob */
	SW_E_BUSY,     /* database locked past store_busy_timeout */
	SW_E_PROTO,    /* malformed or refused record */
} sw_class_t;

/* What the receiver accepts (from the configuration). */
typedef struct sw_caps {
	size_t rcpt_max;    /* smtp_recipients_max */
	size_t report_max;  /* report_size_max */
	size_t details_max; /* audit_details_max */
} sw_caps_t;

/* A request. Decoded strings point into the frame (valid while it is). */
typedef struct sw_req {
	uint32_t type;
	const char *id;
	int64_t received;
	const char *env_from, *hdr_from, *subject, *verdict, *queue_id;
	const char **rcpt; /* decode: allocated (storewire_req_free) */
	size_t n_rcpt;
	const char *details, *report;
	uint64_t orig_len;
	const char *action, *object;
	const char *hash; /* FIND: sha256 of the original; CONFIG: digest */
	/* SEEN: env_from, received (since) and id (left out, may be "") */
	int64_t skip;     /* PPAP_NEXT: how many newer matches to pass over */
	const char *after_at; /* RELEASE_NEXT: with id, the last release tried */
	int64_t row;      /* OUTBOX_NEXT: after this row; OUTBOX_DONE: this row */
} sw_req_t;

typedef struct sw_ans {
	uint32_t type;  /* SW_OK or SW_ERR */
	const char *id;
	int64_t seq;
	bool item;      /* RELEASE_NEXT found one: the fields below and a memfd */
	const char *env_from, *rcpt, *approved_by;
	const char *kind, *approved_at, *subject, *virus; /* RELEASE_NEXT */
	uint64_t orig_len;
	uint32_t cls;   /* SW_ERR */
	const char *msg;
} sw_ans_t;

/* The largest frame a receiver with these caps accepts (header included). */
size_t storewire_frame_max(const sw_caps_t *c);
/* From the first SW_HDR_LEN bytes: the whole frame's length, or 0 when the
 * header is bad (magic, type) or the frame exceeds max. */
size_t storewire_frame_len(const char *hdr, size_t max);

int storewire_encode_req(buf_t *out, const sw_req_t *r) MUGAI_WUR;
int storewire_decode_req(const char *p, size_t n, const sw_caps_t *c, sw_req_t *r) MUGAI_WUR;
void storewire_req_free(sw_req_t *r);
int storewire_encode_ans(buf_t *out, const sw_ans_t *a) MUGAI_WUR;
int storewire_decode_ans(const char *p, size_t n, sw_ans_t *a) MUGAI_WUR;
const char *storewire_class_name(uint32_t cls);
/* 64 lowercase hex digits. */
bool storewire_hex64(const char *s);

#endif
