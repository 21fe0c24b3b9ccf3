/*
 * audit.h — the tamper-evident audit chain: record hash, verification and
 * the external witness. Storage is the backend's (qstore.h audit_append).
 *
 * Record hash, version 1 (an auditor can recompute it; see README.md, "The audit trail" and
 * tests/cli/audit_recompute.py):
 *
 *   hash = lowercase hex SHA-256 of
 *          "mugai-audit-v1\n"
 *          then for each field, in this order:
 *            seq, time, actor, action, object, details, prev_hash
 *          the field's length in bytes (decimal ASCII), ":", the field's
 *          UTF-8 bytes, "\n".
 *   seq is decimal without leading zeros (the first record is 1); time is
 *   RFC 3339 UTC with milliseconds ("2026-11-25T18:00:00.123Z"); details is
 *   the stored JSON text byte for byte; prev_hash is the previous record's
 *   hash, 64 "0" for seq 1.
 *
 * Witness line (syslog ident "mugai-audit", facility mail, and optionally
 * audit_witness_file): "head seq=N hash=HEX time=T".
 *
 * SECURITY: store process only. Verification reads the database and an
 * optional witness file; it trusts neither and reports the first break.
 */
#ifndef MUGAI_AUDIT_H
#define MUGAI_AUDIT_H

#include <stdint.h>
#include "common/defs.h"
#include "store/qstore.h"

#define AUDIT_GENESIS "0000000000000000000000000000000000000000000000000000000000000000"
#define AUDIT_TIME_LEN 24 /* "YYYY-MM-DDTHH:MM:SS.mmmZ" */

/* The record hash defined above. */
int audit_rec_hash(int64_t seq, const char *time, const char *actor, const char *action,
		   const char *object, const char *details, const char *prev_hash,
		   char out[65]) MUGAI_WUR;
/* Current UTC time in the record format. */
void audit_time_now(char out[AUDIT_TIME_LEN + 1]);
/* Check actor/action/object/details before they enter the chain: non-empty
 * printable UTF-8 names without control characters, details a JSON object
 * of at most max bytes. */
int audit_fields_ok(const char *actor, const char *action, const char *object,
		    const char *details, size_t max) MUGAI_WUR;
/* Send "head seq=N hash=H store=ID time=T" to syslog and append it to file
 * (if not NULL or ""), fsynced. ID is the store's identity (qstore_id). */
int audit_witness_emit(const char *file, const char *store, int64_t seq,
		       const char *hash) MUGAI_WUR;

/* One witness line (syslog or file, untrusted): "... head seq=N hash=H
 * [store=ID] ..." of this store (a line of another store, by its store=ID,
 * is -1; a line without store= counts). 0 with seq and hash, or -1. */
int audit_witness_parse(const char *line, const char *store, int64_t *seq,
			char hash[65]) MUGAI_WUR;

typedef enum {
	AUDIT_INTACT = 0,
	AUDIT_CHANGED,   /* a record's content no longer matches its hash */
	AUDIT_MISSING,   /* a seq is absent (deleted record) */
	AUDIT_REORDERED, /* a record sits where another belongs */
	AUDIT_RELINKED,  /* self-consistent record whose prev_hash is wrong */
	AUDIT_TRUNCATED, /* the tail is gone (seen by the witness or the index) */
	AUDIT_WITNESS,   /* a witnessed (seq, hash) differs from the chain */
} audit_break_t;

typedef struct audit_verdict {
	audit_break_t kind;
	int64_t seq;       /* first broken seq */
	int64_t records;   /* records checked */
	int64_t head_seq;
	char head_hash[65];
	char what[ERR_TEXT_MAX];    /* human explanation */
} audit_verdict_t;

const char *audit_break_name(audit_break_t k);
/* Recompute the whole chain; compare with the witness file (syslog or
 * audit_witness_file lines; NULL: none; lines of another store, by their
 * store=ID, are ignored) and with the index's references.
 * Returns -1 only when the check itself could not run. */
int audit_verify(qstore_t *s, const char *witness_file, audit_verdict_t *v) MUGAI_WUR;

#endif
