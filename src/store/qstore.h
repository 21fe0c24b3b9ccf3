/*
 * qstore.h — the quarantine store: originals (content-addressed blobs), their
 * index (id, envelope, headers, verdict, report, status) and the audit chain.
 * The one writer of mugai's state.
 *
 * Callers see only this interface. A backend is a qstore_ops_t table chosen by
 * the config key store_backend (today "sqlite"; a PostgreSQL backend for sites
 * with several gateway nodes plugs in as another table, callers unchanged).
 *
 * Durability contract: qstore_put() returns 0 only when the original's bytes
 * (in a blob segment), its index row and the audit record of the write are
 * all on stable storage (inside a batch: when qstore_batch_end returned 0).
 * Every read or decision (list, show, get, request, approve, purge) appends
 * an audit record before its result is returned.
 *
 * A handle belongs to one process and one thread: open it after fork(),
 * never share it between threads (SQLite connections are not fork-safe).
 *
 * Errors: functions return 0 / -1; after -1, qstore_errcode() tells which kind
 * (not found, wrong state, refused, ...) and qstore_errmsg() says why.
 *
 * SECURITY: runs in the store-owning process (CLI or daemon master), never in
 * a sandboxed worker. Inputs are checked (id syntax, UTF-8, sizes against
 * report_size_max / audit_details_max) before they reach the database; every
 * SQL statement is prepared with bound parameters.
 */
#ifndef MUGAI_QSTORE_H
#define MUGAI_QSTORE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "common/buf.h"
#include "common/config.h"
#include "common/defs.h"
#include "common/id.h"

typedef struct qstore qstore_t;

typedef enum {
	QS_OK = 0,
	QS_ERR_INVAL,    /* bad argument (syntax, size, encoding) */
	QS_ERR_NOTFOUND, /* no such id */
	QS_ERR_EXISTS,   /* duplicate id */
	QS_ERR_STATE,    /* wrong status for this step (e.g. approve before request) */
	QS_ERR_DENIED,   /* refused by policy (self-approval, purge inside retention) */
	QS_ERR_CORRUPT,  /* blob does not match its hash, or blob missing */
	QS_ERR_IO,       /* file system */
	QS_ERR_DB,       /* database (including lock timeout) */
	QS_ERR_FULL,     /* disk full (ENOSPC, SQLITE_FULL): the message says so */
} qstore_err_t;

/* How a full disk is reported (log, CLI error, the 451 text). */
#define QSTORE_DISK_FULL "disk full (ディスクがいっぱいです)"

typedef enum {
	QSTATUS_HELD = 0,
	QSTATUS_REQUESTED, /* "release-requested" */
	QSTATUS_RELEASED,
	QSTATUS_EXPIRED,
	QSTATUS__COUNT
} qstatus_t;

/* What the caller knows about a message when it stores the original.
 * id comes from mugai_id_new() so that the notice can quote it. */
typedef struct qstore_meta {
	char id[MUGAI_ID_LEN + 1];
	int64_t received;        /* unix seconds, UTC */
	const char *flow;        /* "inbound" | "outbound" | "file" */
	const char *env_from;    /* envelope sender (may be "") */
	const char *const *rcpt; /* envelope recipients */
	size_t n_rcpt;
	const char *hdr_from;    /* decoded From (UTF-8), may be NULL */
	const char *subject;     /* decoded Subject (UTF-8), may be NULL */
	const char *verdict;     /* engine verdict, e.g. "sanitized", "withheld" */
	const char *actor;       /* who stores it, for the audit record; NULL: "mugai" */
	/* Optional JSON object: also append a "mail.verdict" audit record with
	 * these details in the same transaction (one commit, one fsync). */
	const char *verdict_details;
	/* mugaid: the Postfix queue id (XFORWARD IDENT, may be ""), and the
	 * delivery is still to come (qstore_delivered marks it done). */
	const char *queue_id;
	bool pending;
} qstore_meta_t;

/* One index row, as returned by show/list/get. Strings are owned. */
typedef struct qstore_item {
	char id[MUGAI_ID_LEN + 1];
	int64_t received;
	char *flow, *env_from, *rcpt; /* rcpt: comma-separated */
	char *hdr_from, *subject, *verdict, *report;
	char sha256[65];
	int64_t size;
	qstatus_t status;
	char *requested_by, *request_reason, *approved_by;
	char *release_kind;           /* "sanitized" | "original"; "" before a request */
	char *refused_by, *refuse_comment; /* the last refusal, "" when none */
	char *requested_at, *approved_at;  /* audit time format (UTC), "" when none */
	char *release_to;             /* "", "file", "queue", "queue-delivered", "queue-sanitized",
				       * "queue-sanitized-delivered" */
	char *admin_confirmed_by;     /* the first admin of an admin release, "" when none */
	int64_t audit_seq;            /* seq of the audit record of the put */
	bool undelivered;             /* mugaid stored it, its delivery never completed */
} qstore_item_t;

typedef struct qstore_filter {
	int64_t since, until;  /* unix seconds; 0: open */
	const char *verdict;   /* exact; NULL: any */
	const char *sender;    /* envelope sender, exact (case-insensitive) */
	const char *rcpt;      /* one envelope recipient, exact (case-insensitive) */
	int status;            /* qstatus_t, or -1: any */
	long limit;            /* 0: no limit */
	bool undelivered;      /* only entries whose delivery never completed */
	/* The admin's search: parts of text (case-insensitive for ASCII), NULL:
	 * any; each at most SEARCH_TEXT_MAX bytes of UTF-8 without controls. */
	const char *from_part;    /* of the envelope sender or the decoded From */
	const char *rcpt_part;    /* of one envelope recipient */
	const char *subject_part; /* of the decoded Subject */
	const char *file_part;    /* of a file name in the report (removed or sanitized) */
	long offset;              /* rows skipped first (pages), >= 0 */
} qstore_filter_t;

typedef int (*qstore_item_cb)(const qstore_item_t *it, void *arg);

/* One audit record as stored. */
typedef struct audit_rec {
	int64_t seq;
	char *time, *actor, *action, *object, *details;
	char prev_hash[65], hash[65];
} audit_rec_t;

typedef int (*audit_rec_cb)(const audit_rec_t *r, void *arg);

/* ---- lifecycle ---- */
int qstore_open(qstore_t **s, const cfg_t *cfg) MUGAI_WUR;
void qstore_close(qstore_t *s);
/* The store's identity: 32 hex digits, random, made when the store was
 * created and kept in its database; witness lines carry it. */
#define QSTORE_ID_HEX 32
const char *qstore_id(const qstore_t *s);
qstore_err_t qstore_errcode(const qstore_t *s);
const char *qstore_errmsg(const qstore_t *s);
const char *qstatus_name(qstatus_t st);
int qstatus_parse(const char *name); /* -1 when unknown */
void qstore_item_free(qstore_item_t *it);

/* ---- originals ---- */
/* Store one original with its report; durable on return. */
int qstore_put(qstore_t *s, const qstore_meta_t *meta, const void *orig, size_t len,
	       const char *report_json) MUGAI_WUR;
/* Group commit: n originals, one database transaction (one WAL fsync).
 * All or none are indexed; durable on return. */
int qstore_put_batch(qstore_t *s, size_t n, const qstore_meta_t *meta,
		     const void *const *orig, const size_t *len,
		     const char *const *report_json) MUGAI_WUR;
/* Group commit (mugaid's store process): every operation between
 * qstore_batch_begin and qstore_batch_end runs inside one transaction, each
 * in a savepoint of its own (a failing one is undone alone; its put's bytes
 * are deallocated). Nothing of the batch is durable, and no answer may be
 * given, before qstore_batch_end(s, true) returned 0: it flushes the blob
 * segment once and commits once. -1: nothing of the batch was stored.
 * qstore_batch_end(s, false) undoes the whole batch. */
int qstore_batch_begin(qstore_t *s) MUGAI_WUR;
int qstore_batch_end(qstore_t *s, bool commit) MUGAI_WUR;
/* Index row only (audited as quarantine.show). */
int qstore_show(qstore_t *s, const char *actor, const char *id, qstore_item_t *it) MUGAI_WUR;
/* Row and original bytes, checked against their SHA-256 (audited as quarantine.get). */
int qstore_get(qstore_t *s, const char *actor, const char *id, qstore_item_t *it,
	       buf_t *orig) MUGAI_WUR;
/* Rows matching f, newest first (audited once as quarantine.list). */
int qstore_list(qstore_t *s, const char *actor, const qstore_filter_t *f,
		qstore_item_cb cb, void *arg) MUGAI_WUR;

/* ---- release: request by the recipient, approve by an administrator ---- */
int qstore_request(qstore_t *s, const char *id, const char *by, const char *reason) MUGAI_WUR;
/* Approve and release. to_queue: mark for delivery by the daemon, else the
 * caller writes *orig to a file. A refused self-approval is audited and
 * fails with QS_ERR_DENIED. */
int qstore_approve(qstore_t *s, const char *id, const char *by, bool to_queue,
		   buf_t *orig) MUGAI_WUR;
/* The next approvals act as an administrator (`approve --admin`): only
 * then may an original the antivirus flagged (report "virus") be
 * released; without it that approval is refused and audited
 * (quarantine.approve.refused). Off by default. */
void qstore_set_admin(qstore_t *s, bool admin);
/* The CLI's --by: a display name (UTF-8, no control character, at most
 * AUDIT_NAME_MAX bytes) added as "by" to the details of every audit record
 * this handle appends from now on; the actor stays the OS user. NULL: none.
 * -1 (QS_ERR_INVAL) for a bad name. */
int qstore_set_display(qstore_t *s, const char *name) MUGAI_WUR;

/* ---- the console (qstore_account.c) ---- */
/* Request a release of kind "sanitized" or "original" for deliver_to (the
 * requester's own recipients of this message, comma-separated; "": every
 * recipient, as the CLI's requests). Audited as quarantine.request with
 * {reason, kind, deliver_to}; the releaser delivers to deliver_to only. */
int qstore_request_kind(qstore_t *s, const char *id, const char *by, const char *reason,
			const char *kind, const char *deliver_to) MUGAI_WUR;
/* An admin release (a virus-detected or limit-quarantined original): two
 * different admin accounts, neither the requester. The first call records
 * by as the first admin (quarantine.admin.confirm with details); the
 * second, by another admin, approves as administrator (qstore_set_admin)
 * for delivery (quarantine.approve with "confirmed_by", quarantine.release)
 * and sets *released. The same admin twice, or the requester: QS_ERR_DENIED,
 * audited (quarantine.approve.refused). The caller checks the roles. */
int qstore_admin_confirm(qstore_t *s, const char *id, const char *by, const char *details,
			 bool *released) MUGAI_WUR;
/* Refuse a requested release: back to held, refused_by/refuse_comment set,
 * audited as quarantine.refuse with details (a JSON object). */
int qstore_refuse(qstore_t *s, const char *id, const char *by, const char *comment,
		  const char *details) MUGAI_WUR;

/* Console accounts. Strings owned (qstore_account_free). totp is the base32
 * secret; pwhash a libsodium crypto_pwhash_str string. */
typedef struct qaccount {
	char *name, *role, *dept, *addrs, *pwhash, *totp, *created;
	bool disabled;
	long failures;
	int64_t locked_until, totp_last;
} qaccount_t;
typedef int (*qaccount_cb)(const qaccount_t *a, void *arg);

/* The outcome of one login attempt of an existing account. */
typedef struct qstore_login {
	const char *name, *actor; /* actor: "console:NAME" */
	bool ok;
	int64_t totp_step;  /* ok: the TOTP step used (a replay of it is refused) */
	int64_t now;
	long max_fail, lock_secs;
	const char *details; /* JSON object: client address, why */
} qstore_login_t;

void qstore_account_free(qaccount_t *a);
/* name: [a-z0-9._-], 1..QACCT_NAME_MAX; role clerk|approver|admin|auditor;
 * addrs: comma-separated addresses (lower case); audited as account.add
 * {role, dept, addrs}. client: the console's peer address, added to the
 * details of add, disable, enable and reset as "client" (NULL: none, the
 * CLI). */
int qstore_account_add(qstore_t *s, const char *actor, const qaccount_t *a,
		       const char *client) MUGAI_WUR;
/* Not audited (the caller audits what it does with it); QS_ERR_NOTFOUND. */
int qstore_account_get(qstore_t *s, const char *name, qaccount_t *a) MUGAI_WUR;
/* Every account by name (audited as account.list). */
int qstore_account_list(qstore_t *s, const char *actor, qaccount_cb cb, void *arg) MUGAI_WUR;
int qstore_account_disable(qstore_t *s, const char *actor, const char *name,
			   bool disabled, const char *client) MUGAI_WUR;
/* New password hash and TOTP secret; clears lockout and failures. */
int qstore_account_reset(qstore_t *s, const char *actor, const char *name,
			 const char *pwhash, const char *totp, const char *client) MUGAI_WUR;
/* Record a login (console.login) or a failure (console.login.failed; the
 * max_fail-th in a row locks the account for lock_secs: console.lockout). */
int qstore_account_login(qstore_t *s, const qstore_login_t *l, bool *locked) MUGAI_WUR;
bool qstore_account_name_ok(const char *name);
/* Append the address a[0..n) in lower case (ASCII), after a comma when
 * addrs is not empty (`mugai user add --addr`); add checks the result. */
int qstore_account_addr_append(buf_t *addrs, const char *a, size_t n) MUGAI_WUR;
/* Addresses typed in the console, separated by commas, spaces, tabs or
 * line ends, each appended as above (addrs stays NUL-terminated). */
int qstore_account_addrs_parse(buf_t *addrs, const char *text) MUGAI_WUR;

/* ---- queued releases: `approve --queue`, delivered by mugaid ---- */
/* The oldest release approved to the queue and not yet delivered (an
 * original, release_to 'queue', or sanitized files, 'queue-sanitized')
 * after the one approved at after_at with id after_id (in the order
 * approved_at, id; both "" or NULL: the oldest), with its bytes checked
 * against their SHA-256: 1 found, 0 none, -1 error. it->release_kind says
 * which ("sanitized"; anything else: the original). */
int qstore_release_next(qstore_t *s, const char *after_at, const char *after_id,
			qstore_item_t *it, buf_t *orig) MUGAI_WUR;
/* Mark a queued release delivered ('queue' → 'queue-delivered',
 * 'queue-sanitized' → 'queue-sanitized-delivered'), audited as
 * quarantine.release.delivered with details (a JSON object: what was
 * delivered, e.g. {"kind":"sanitized","verdict":"sanitized"}). */
int qstore_release_done(qstore_t *s, const char *actor, const char *id,
			const char *details) MUGAI_WUR;

/* ---- the outbox (schema v7): the gateway's own mail to people, queued
 * by the console (which sends nothing itself) and delivered to next_hop by
 * mugaid's releaser ---- */
#define QSTORE_OUT_NOTICE "approver-notice" /* a request, told to its approvers */
#define QSTORE_OUT_PPAP "ppap-followup"     /* a PPAP zip opened in the console */
/* One finished message to queue (already through the writer and the
 * output check): rcpt comma-separated addresses, "" = nobody (nothing is
 * queued); msg at most result_size_max bytes. */
typedef struct qstore_mailout {
	const char *kind;
	const char *rcpt;
	const char *msg;
	size_t len;
} qstore_mailout_t;
/* One queued row, as the releaser gets it. Strings owned. */
typedef struct qstore_outbox {
	int64_t seq;
	char id[MUGAI_ID_LEN + 1]; /* the message it is about */
	char *kind, *rcpt;
} qstore_outbox_t;
void qstore_outbox_free(qstore_outbox_t *ob);
/* qstore_request_kind, and in the same transaction the approvers' notice
 * queued; the request's audit details add "notified": [addresses] ([] when
 * out->rcpt is ""). */
int qstore_request_notify(qstore_t *s, const char *id, const char *by, const char *reason,
			  const char *kind, const char *deliver_to,
			  const qstore_mailout_t *out) MUGAI_WUR;
/* qstore_ppap_mark(..., "ppap.paired", ...) and, in the same transaction,
 * the follow-up queued (out->rcpt must name someone); details as the
 * caller made them (the console adds "deliver_to"). */
int qstore_ppap_paired_out(qstore_t *s, const char *actor, const char *id,
			   const char *details, const qstore_mailout_t *out) MUGAI_WUR;
/* Whom a request by the account `requester` is told of, comma-separated
 * into out ("" when nobody): the active approvers of its department that
 * have an address; when there is none, the active admins that have one;
 * never the requester. Not audited (the request records the list). */
int qstore_notify_addrs(qstore_t *s, const char *requester, buf_t *out) MUGAI_WUR;
/* The oldest row not yet sent with seq > after, its message into msg:
 * 1 found, 0 none, -1 error. Not audited (the delivery is). */
int qstore_outbox_next(qstore_t *s, int64_t after, qstore_outbox_t *ob, buf_t *msg) MUGAI_WUR;
/* The row was delivered: marked sent (its message dropped), audited as
 * outbox.delivered, object the message's id, with details (a JSON object:
 * {kind, to}). QS_ERR_STATE when it is no pending row. */
int qstore_outbox_done(qstore_t *s, const char *actor, int64_t seq,
		       const char *details) MUGAI_WUR;

/* ---- deferred messages: stored once ---- */
/* The entry of an earlier attempt at the same message (same queue id, same
 * original SHA-256) whose delivery never completed, into id; "" if none. */
int qstore_find_undelivered(qstore_t *s, const char *queue_id, const char *sha256,
			    char id[MUGAI_ID_LEN + 1]) MUGAI_WUR;
/* First contact (issue #11): into id a message from env_from (case-
 * insensitive) received at or after `since`, other than `exclude` (may be
 * ""); "" when there is none. Not audited (a lookup of the index only). */
int qstore_seen_since(qstore_t *s, const char *env_from, int64_t since, const char *exclude,
		      char id[MUGAI_ID_LEN + 1]) MUGAI_WUR;
/* The next hop accepted the message stored under id. */
int qstore_delivered(qstore_t *s, const char *id) MUGAI_WUR;

/* ---- PPAP: an encrypted zip held for its password mail ---- */
/* Verdicts of a held PPAP original: waiting, opened by a password mail, or
 * its window passed (the recipients were told). */
#define QSTORE_PPAP_PENDING "ppap-pending"
#define QSTORE_PPAP_PAIRED "ppap-paired"
#define QSTORE_PPAP_EXPIRED "ppap-expired"
/* The skip-th newest (0 = newest) ppap-pending original received at or
 * after since, held and delivered, from this sender (envelope sender, or
 * the same decoded From when hdr_from is not empty) to at least one of
 * these recipients, with its bytes checked: 1 found, 0 none, -1 error.
 * Not audited (the pairing that follows is). */
int qstore_ppap_next(qstore_t *s, int64_t since, int64_t skip, const char *env_from,
		     const char *hdr_from, const char *const *rcpt, size_t n_rcpt,
		     qstore_item_t *it, buf_t *orig) MUGAI_WUR;
/* The oldest ppap-pending original received before `before` (its window
 * passed): 1 found (index row only), 0 none, -1 error. */
int qstore_ppap_stale(qstore_t *s, int64_t before, qstore_item_t *it) MUGAI_WUR;
/* Record a pairing step of a held PPAP original, audited as action with
 * details: "ppap.paired" (pending or expired → ppap-paired), "ppap.failed"
 * (the verdict stays) or "ppap.expired" (pending → ppap-expired).
 * QS_ERR_STATE when it is in no such state. */
int qstore_ppap_mark(qstore_t *s, const char *actor, const char *id, const char *action,
		     const char *details) MUGAI_WUR;

/* ---- the self-inspection report (自己点検) ---- */
/* One count of a period: group is one of
 *   "verdict"  key: verdict       messages received in the period
 *   "reason"   key: reason code   removed items of those messages (report "removed")
 *   "limit"    key: limit name    limits hit by those messages (report "limits_hit")
 *   "virus"    key: ""            those messages whose report names a virus
 *   "action"   key: audit action  audit records written in the period
 *   "refused"  key: why           console.refused records of the period, by their why
 *   "release"  key: to            quarantine.release records, by where the release went
 *                                 (file, queue, queue-sanitized)
 *   "config"   key: ""            config.load records whose config file sha256 differs
 *                                 from the config.load before it (the first one counts)
 * Rows come sorted by group, then key. */
typedef int (*qstore_count_cb)(const char *group, const char *key, int64_t n, void *arg);
/* Counts of [since, until) (unix seconds: the index's received time, and
 * the audit records' time). Not audited: the caller audits the report it
 * makes of them (report.export). */
int qstore_counts(qstore_t *s, int64_t since, int64_t until, qstore_count_cb cb,
		  void *arg) MUGAI_WUR;

/* ---- retention ---- */
/* Expire every original received more than days ago (days >= retention_days,
 * else QS_ERR_DENIED), and every undelivered one (its delivery never
 * completed) older than undelivered_days, audited with "undelivered": true;
 * wipe its personal data from the index, remove blobs whose last reference
 * is gone, sweep orphan blobs and stale temp files. */
int qstore_purge(qstore_t *s, const char *actor, long days, long *n_expired,
		 long *n_blobs) MUGAI_WUR;

/* ---- audit chain (see audit.h for the record hash) ---- */
/* Append one record; durable on return. details_json must be valid JSON
 * (an object, written with json.h); NULL means {}. */
int audit_append(qstore_t *s, const char *actor, const char *action, const char *object,
		 const char *details_json) MUGAI_WUR;
/* Records with seq >= from_seq and time >= since (NULL: all), in seq order. */
int audit_scan(qstore_t *s, int64_t from_seq, const char *since, audit_rec_cb cb,
	       void *arg) MUGAI_WUR;
/* Seq of the record whose stored hash is hash, or 0. */
int audit_find_hash(qstore_t *s, const char *hash, int64_t *seq) MUGAI_WUR;
/* Head of the chain (seq 0 and 64 zeros when empty). */
int audit_head(qstore_t *s, int64_t *seq, char hash[65]) MUGAI_WUR;
/* Largest audit seq referenced by an index row (0 when none). */
int audit_max_ref(qstore_t *s, int64_t *seq) MUGAI_WUR;
/* Send the head to syslog (and audit_witness_file) now. */
int audit_witness_now(qstore_t *s) MUGAI_WUR;
/* Record "config.load" when the config file's content differs from the last
 * one recorded (so the trail shows every policy change, not every command). */
int audit_note_config(qstore_t *s, const cfg_t *cfg, const char *actor) MUGAI_WUR;
/* mugaid at start and on every SIGHUP: always append "config.load" with
 * {path, digest (sha256 of the effective config), sha256 (of the file),
 * config (the effective config as key = value lines)}. */
int audit_config_load(qstore_t *s, const cfg_t *cfg, const char *actor,
		      const char *digest) MUGAI_WUR;

#endif
