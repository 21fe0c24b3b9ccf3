/*
 * qstore_sqlite.c — the embedded quarantine-store backend: one SQLite
 * database (state_dir/mugai.db) for the index and the audit chain, blobs in
 * state_dir/blobs: segment files (seg.c) since schema v6, one file per
 * original before (blob.c, still read and purged).
 *
 * Follows SQLite's WAL documentation: journal_mode=WAL with synchronous=FULL
 * so that every COMMIT fsyncs the WAL before it returns (NORMAL would only
 * sync at checkpoints and could lose the last commits on power loss).
 * Every write is one BEGIN IMMEDIATE transaction: the write lock is taken
 * before the chain head is read, so concurrent processes append one after
 * another and the chain cannot fork. busy_timeout (store_busy_timeout)
 * waits for the lock. Schema version lives in PRAGMA user_version; migrations[]
 * brings an older database forward inside one transaction.
 *
 * Put ordering: under the lock, the original is appended to this
 * writer's segment, then the index row (segment, offset, size, sha256) and
 * the audit record; the commit first flushes the segment (fdatasync), then
 * COMMITs: one flush and one WAL sync per transaction, however many puts.
 * Purge deallocates an expired original's bytes under the lock (seg.c), and
 * removes a segment none of whose originals is live; an original of the
 * per-file layout (before v6) is removed when no live row references it.
 *
 * Group commit (mugaid's store process): qstore_batch_begin opens one
 * BEGIN IMMEDIATE transaction; every operation until qstore_batch_end runs
 * in a SAVEPOINT of it, so a failing request is undone alone while the
 * others commit together; the witness of the chain is sent after the
 * outer COMMIT.
 *
 * Every statement goes through one query loop, sq_query(): prepare (cached),
 * bind from a type string ("t" text, "i" int64, "b" bytes), step, hand each row to a
 * small reader, release. sq_run() is the same without rows.
 *
 * SECURITY: store process only. SQL is constant text with bound parameters;
 * SQLITE_DBCONFIG_DEFENSIVE forbids schema tampering through SQL; the
 * database file is created 0600 (SQLite gives -wal/-shm the same mode).
 */
#include "store/qstore_impl.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "common/json.h"
#include "common/log.h"
#include "mail/report.h"
#include "store/audit.h"
#include "store/blob.h"
#include "store/seg.h"

/* Prepared statements, reused by SQL text pointer (each call site passes a
 * string literal): preparing costs as much as running a small statement. */
typedef struct sq_cached {
	const char *sql;
	sqlite3_stmt *st;
	bool busy;
} sq_cached_t;

typedef struct sq {
	sqlite3 *db;
	sq_cached_t cache[SQ_CACHE];
	bool witness_pending;
	int64_t witness_seq;
	char witness_hash[65];
	seg_writer_t seg;     /* the segment this handle appends to */
	bool batch;           /* inside qstore_batch_begin/end */
	int sp_depth;         /* open savepoints of the batch */
	bool sp_witness;      /* witness_pending when the savepoint opened */
} sq_t;

#define SQ(s) ((sq_t *)(s)->be)
#define DB(s) (SQ(s)->db)

static const char schema_v1[] =
	"CREATE TABLE quarantine("
	" id TEXT PRIMARY KEY NOT NULL,"
	" received INTEGER NOT NULL,"
	" flow TEXT NOT NULL,"
	" env_from TEXT NOT NULL,"
	" rcpt TEXT NOT NULL,"
	" hdr_from TEXT NOT NULL,"
	" subject TEXT NOT NULL,"
	" verdict TEXT NOT NULL,"
	" report TEXT NOT NULL,"
	" sha256 TEXT NOT NULL,"
	" size INTEGER NOT NULL,"
	" blob_present INTEGER NOT NULL DEFAULT 1,"
	" status TEXT NOT NULL DEFAULT 'held' CHECK (status IN"
	"  ('held','release-requested','released','expired')),"
	" requested_by TEXT, request_reason TEXT, requested_at TEXT,"
	" approved_by TEXT, approved_at TEXT, release_to TEXT,"
	" audit_seq INTEGER NOT NULL);"
	"CREATE INDEX quarantine_received ON quarantine(received);"
	"CREATE INDEX quarantine_sha256 ON quarantine(sha256);"
	"CREATE TABLE quarantine_rcpt("
	" id TEXT NOT NULL, rcpt TEXT NOT NULL COLLATE NOCASE, PRIMARY KEY(id, rcpt));"
	"CREATE INDEX quarantine_rcpt_addr ON quarantine_rcpt(rcpt);"
	"CREATE TABLE audit("
	" seq INTEGER PRIMARY KEY, time TEXT NOT NULL, actor TEXT NOT NULL,"
	" action TEXT NOT NULL, object TEXT NOT NULL, details TEXT NOT NULL,"
	" prev_hash TEXT NOT NULL, hash TEXT NOT NULL);"
	"CREATE TABLE meta(key TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL);";

/* v2: the Postfix queue id, and whether mugaid's delivery completed
 * ('pending' until the next hop accepted; rows before v2 count as done). */
static const char schema_v2[] =
	"ALTER TABLE quarantine ADD COLUMN queue_id TEXT NOT NULL DEFAULT '';"
	"ALTER TABLE quarantine ADD COLUMN delivery TEXT NOT NULL DEFAULT 'done'"
	" CHECK (delivery IN ('pending','done'));"
	"CREATE INDEX quarantine_queue ON quarantine(queue_id, sha256);";

/* v3: the first-contact lookup (qstore_seen_since) by sender. */
static const char schema_v3[] =
	"CREATE INDEX quarantine_env_from ON quarantine(env_from COLLATE NOCASE, received);";

/* v4: console accounts (qstore_account.c), and what a release request asks
 * for (sanitized files or the original), to whom the release goes (the
 * requester's own addresses; '' = every recipient) and who refused it with
 * what comment. */
static const char schema_v4[] =
	"CREATE TABLE account("
	" name TEXT PRIMARY KEY NOT NULL,"
	" role TEXT NOT NULL CHECK (role IN ('clerk','approver','admin','auditor')),"
	" dept TEXT NOT NULL DEFAULT '',"
	" addrs TEXT NOT NULL DEFAULT '',"
	" pwhash TEXT NOT NULL,"
	" totp TEXT NOT NULL,"
	" disabled INTEGER NOT NULL DEFAULT 0,"
	" failures INTEGER NOT NULL DEFAULT 0,"
	" locked_until INTEGER NOT NULL DEFAULT 0,"
	" totp_last INTEGER NOT NULL DEFAULT 0,"
	" created TEXT NOT NULL);"
	"ALTER TABLE quarantine ADD COLUMN release_kind TEXT NOT NULL DEFAULT '';"
	"ALTER TABLE quarantine ADD COLUMN refused_by TEXT NOT NULL DEFAULT '';"
	"ALTER TABLE quarantine ADD COLUMN refuse_comment TEXT NOT NULL DEFAULT '';"
	"ALTER TABLE quarantine ADD COLUMN release_rcpt TEXT NOT NULL DEFAULT '';";

/* v5: the first admin of an admin release (qstore_admin_confirm; '' when
 * none, cleared by a new request or a refusal). */
static const char schema_v5[] =
	"ALTER TABLE quarantine ADD COLUMN admin_confirmed_by TEXT NOT NULL DEFAULT '';";

/* v6: originals in blob segments (seg.c): segment number and offset (NULL:
 * the per-file layout of v1-v5, state_dir/blobs/ab/abcd...). */
static const char schema_v6[] =
	"ALTER TABLE quarantine ADD COLUMN seg INTEGER;"
	"ALTER TABLE quarantine ADD COLUMN seg_off INTEGER;"
	"CREATE INDEX quarantine_seg ON quarantine(seg);";

/* v7: the outbox, the gateway's own mail to people (qstore.h): queued by
 * the console in the transaction of the request or the PPAP pairing,
 * delivered by mugaid's releaser; sent_at '' while pending (the message is
 * dropped once sent). */
static const char schema_v7[] =
	"CREATE TABLE outbox("
	" seq INTEGER PRIMARY KEY AUTOINCREMENT,"
	" id TEXT NOT NULL,"
	" kind TEXT NOT NULL CHECK (kind IN ('approver-notice','ppap-followup')),"
	" rcpt TEXT NOT NULL,"
	" msg BLOB NOT NULL,"
	" queued_by TEXT NOT NULL,"
	" queued_at TEXT NOT NULL,"
	" sent_at TEXT NOT NULL DEFAULT '');"
	"CREATE INDEX outbox_pending ON outbox(sent_at, seq);";

/* migrations[v] takes user_version v to v + 1. */
static const char *const migrations[] = { schema_v1, schema_v2, schema_v3, schema_v4,
					  schema_v5, schema_v6, schema_v7 };
#define SCHEMA_VERSION ((int)MUGAI_ARRAY_LEN(migrations))

/* ---- small SQLite helpers ---- */

static int sq_fail(qstore_t *s)
{
	int code = sqlite3_extended_errcode(DB(s));

	if ((code & 0xff) == SQLITE_CONSTRAINT)
		return qstore_fail(s, QS_ERR_EXISTS, "duplicate: %s", sqlite3_errmsg(DB(s)));
	if ((code & 0xff) == SQLITE_FULL || sqlite3_system_errno(DB(s)) == ENOSPC)
		return qstore_fail(s, QS_ERR_FULL, "sqlite: %s", sqlite3_errmsg(DB(s)));
	return qstore_fail(s, QS_ERR_DB, "sqlite: %s", sqlite3_errmsg(DB(s)));
}

/* Several statements (schema migrations). */
static int sq_exec_multi(qstore_t *s, const char *sql)
{
	if (sqlite3_exec(DB(s), sql, NULL, NULL, NULL) != SQLITE_OK)
		return sq_fail(s);
	return 0;
}

static void bind_text(sqlite3_stmt *st, int i, const char *v)
{
	if (v)
		sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, i);
}

static const char *col_text(sqlite3_stmt *st, int i)
{
	const unsigned char *t = sqlite3_column_text(st, i);

	return t ? (const char *)t : "";
}

static sq_cached_t *cache_find(sq_t *q, const char *sql)
{
	sq_cached_t *free_slot = NULL;

	for (int i = 0; i < SQ_CACHE; i++) {
		if (q->cache[i].sql == sql && !q->cache[i].busy)
			return &q->cache[i];
		if (!q->cache[i].sql && !free_slot)
			free_slot = &q->cache[i];
	}
	return free_slot;
}

static int sq_prep(qstore_t *s, sqlite3_stmt **st, const char *sql)
{
	sq_cached_t *c = cache_find(SQ(s), sql);

	*st = NULL;
	if (c && c->sql == sql) {
		c->busy = true;
		*st = c->st;
		return 0;
	}
	if (sqlite3_prepare_v2(DB(s), sql, -1, st, NULL) != SQLITE_OK)
		return sq_fail(s);
	if (c) {
		c->sql = sql;
		c->st = *st;
		c->busy = true;
	}
	return 0;
}

/* Give a statement back: cached ones are reset, others finalized. */
static void sq_release(qstore_t *s, sqlite3_stmt *st)
{
	sq_t *q = SQ(s);

	if (!st)
		return;
	for (int i = 0; i < SQ_CACHE; i++)
		if (q->cache[i].st == st) {
			sqlite3_reset(st);
			sqlite3_clear_bindings(st);
			q->cache[i].busy = false;
			return;
		}
	sqlite3_finalize(st); /* not cached (the cache was full) */
}

/* One statement, through the cache. */
/* The one query loop. sql is a string literal (the statement cache keys on
 * its address); binds has one letter per parameter, in order: 't' text
 * (const char *, NULL binds NULL), 'i' int64_t. row, when not NULL, is
 * called for each result row: 0 next row, 1 stop, -1 fail (it set the
 * error). Without row the first row, if any, ends the statement. */
typedef int (*sq_row_fn)(qstore_t *s, sqlite3_stmt *st, void *arg);

static int sq_vquery(qstore_t *s, const char *sql, sq_row_fn row, void *arg, const char *binds,
		     va_list ap)
{
	sqlite3_stmt *st = NULL;
	int r = SQLITE_DONE, rc = -1;

	if (sq_prep(s, &st, sql) < 0)
		goto out;
	for (int i = 0; binds[i]; i++) {
		if (binds[i] == 'i') {
			sqlite3_bind_int64(st, i + 1, va_arg(ap, int64_t));
		} else if (binds[i] == 'b') { /* bytes: pointer, then size_t length */
			const void *p = va_arg(ap, const void *);
			size_t n = va_arg(ap, size_t);

			sqlite3_bind_blob64(st, i + 1, n ? p : "", (sqlite3_uint64)n, SQLITE_STATIC);
		} else {
			bind_text(st, i + 1, va_arg(ap, const char *));
		}
	}
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		int x = row ? row(s, st, arg) : 1;

		if (x < 0)
			goto out;
		if (x > 0) {
			r = SQLITE_DONE;
			break;
		}
	}
	if (r != SQLITE_DONE) {
		sq_fail(s);
		goto out;
	}
	rc = 0;
out:
	sq_release(s, st);
	return rc;
}

static int sq_query(qstore_t *s, const char *sql, sq_row_fn row, void *arg, const char *binds,
		    ...)
{
	va_list ap;
	int rc;

	va_start(ap, binds);
	rc = sq_vquery(s, sql, row, arg, binds, ap);
	va_end(ap);
	return rc;
}

/* A statement whose rows (if any) do not matter. */
static int sq_run(qstore_t *s, const char *sql, const char *binds, ...)
{
	va_list ap;
	int rc;

	va_start(ap, binds);
	rc = sq_vquery(s, sql, NULL, NULL, binds, ap);
	va_end(ap);
	return rc;
}

static int sq_exec(qstore_t *s, const char *sql)
{
	return sq_run(s, sql, "");
}

/* Row readers: the first column as int64 / as text (then stop). */
static int row_int64(qstore_t *s, sqlite3_stmt *st, void *arg)
{
	(void)s;
	*(int64_t *)arg = sqlite3_column_int64(st, 0);
	return 1;
}

typedef struct text_out {
	char *val;
	size_t cap;
} text_out_t;

static int row_text(qstore_t *s, sqlite3_stmt *st, void *arg)
{
	const text_out_t *t = arg;
	const unsigned char *v = sqlite3_column_text(st, 0);

	(void)s;
	snprintf(t->val, t->cap, "%s", v ? (const char *)v : "");
	return 1;
}




/* Inside a batch: a savepoint of its transaction (which must still be open:
 * an I/O error or a full disk makes SQLite roll the whole of it back). */
static int sp_begin(qstore_t *s)
{
	sq_t *q = SQ(s);

	if (sqlite3_get_autocommit(q->db))
		return qstore_fail(s, QS_ERR_DB, "sqlite: the batch was rolled back");
	if (q->sp_depth == 0)
		q->sp_witness = q->witness_pending;
	if (sq_exec(s, "SAVEPOINT req") < 0)
		return -1;
	q->sp_depth++;
	return 0;
}

static int sq_begin(qstore_t *s)
{
	if (SQ(s)->batch)
		return sp_begin(s);
	SQ(s)->witness_pending = false;
	return sq_exec(s, "BEGIN IMMEDIATE");
}

static void sq_rollback(qstore_t *s)
{
	sq_t *q = SQ(s);

	if (q->batch) {
		if (q->sp_depth == 0)
			return;
		if (--q->sp_depth == 0)
			q->witness_pending = q->sp_witness;
		if (!sqlite3_get_autocommit(q->db))
			(void)sqlite3_exec(q->db, "ROLLBACK TO req; RELEASE req", NULL, NULL, NULL);
		return;
	}
	if (!sqlite3_get_autocommit(DB(s)))
		(void)sqlite3_exec(DB(s), "ROLLBACK", NULL, NULL, NULL);
}

/* Flush the segment, COMMIT, then send a witness if one of the appends
 * asked for it. On failure nothing is committed and the segment is given
 * up (the next writer cuts its uncommitted tail). */
static int outer_commit(qstore_t *s)
{
	sq_t *q = SQ(s);

	if (seg_flush(&q->seg) < 0) {
		qstore_fail(s, QS_ERR_IO, "blob segment %06lld: %s", (long long)q->seg.no,
			    strerror(errno));
		goto fail;
	}
	if (sq_exec(s, "COMMIT") < 0)
		goto fail;
	if (q->witness_pending &&
	    audit_witness_emit(s->witness_file, s->id, q->witness_seq, q->witness_hash) < 0)
		log_warn("audit witness: %s: %s", s->witness_file, strerror(errno));
	q->witness_pending = false;
	return 0;
fail:
	if (!sqlite3_get_autocommit(q->db))
		(void)sqlite3_exec(q->db, "ROLLBACK", NULL, NULL, NULL);
	seg_writer_close(&q->seg);
	q->witness_pending = false;
	return -1;
}

static int sq_commit(qstore_t *s)
{
	sq_t *q = SQ(s);

	if (!q->batch)
		return outer_commit(s);
	if (q->sp_depth == 0)
		return 0;
	if (sq_exec(s, "RELEASE req") < 0) {
		sq_rollback(s);
		return -1;
	}
	q->sp_depth--;
	return 0;
}

static int sq_batch_begin(qstore_t *s)
{
	sq_t *q = SQ(s);

	if (q->batch)
		return qstore_fail(s, QS_ERR_STATE, "a batch is already open");
	q->witness_pending = false;
	if (sq_exec(s, "BEGIN IMMEDIATE") < 0)
		return -1;
	q->batch = true;
	q->sp_depth = 0;
	return 0;
}

static int sq_batch_end(qstore_t *s, bool commit)
{
	sq_t *q = SQ(s);

	if (!q->batch)
		return qstore_fail(s, QS_ERR_STATE, "no batch is open");
	q->batch = false;
	q->sp_depth = 0;
	if (commit && sqlite3_get_autocommit(q->db)) {
		seg_writer_close(&q->seg);
		return qstore_fail(s, QS_ERR_DB, "sqlite: the batch was rolled back");
	}
	if (commit)
		return outer_commit(s);
	if (!sqlite3_get_autocommit(q->db))
		(void)sqlite3_exec(q->db, "ROLLBACK", NULL, NULL, NULL);
	seg_writer_close(&q->seg);
	q->witness_pending = false;
	return 0;
}

/* ---- open / schema ---- */

static int user_version(qstore_t *s, int *v)
{
	int64_t x = -1;

	if (sq_query(s, "PRAGMA user_version", row_int64, &x, "") < 0)
		return -1;
	if (x < 0)
		return qstore_fail(s, QS_ERR_DB, "PRAGMA user_version returned nothing");
	*v = (int)x;
	return 0;
}

static int migrate(qstore_t *s)
{
	char sql[64];
	int v;

	if (user_version(s, &v) < 0)
		return -1;
	if (v == SCHEMA_VERSION)
		return 0;
	if (sq_begin(s) < 0 || user_version(s, &v) < 0)
		goto fail;
	if (v > SCHEMA_VERSION) {
		qstore_fail(s, QS_ERR_DB, "database schema %d is newer than this mugai (%d)",
			    v, SCHEMA_VERSION);
		goto fail;
	}
	for (; v < SCHEMA_VERSION; v++)
		if (sq_exec_multi(s, migrations[v]) < 0)
			goto fail;
	snprintf(sql, sizeof(sql), "PRAGMA user_version=%d", SCHEMA_VERSION);
	if (sq_exec_multi(s, sql) < 0 || sq_commit(s) < 0) /* not cached: sql is on the stack */
		goto fail;
	return 0;
fail:
	sq_rollback(s);
	return -1;
}

/* Create the file 0600 before SQLite does (it would use the umask). */
static int precreate(const char *path)
{
	int fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);

	if (fd < 0)
		return -1;
	close(fd);
	return 0;
}

static int meta_get(qstore_t *s, const char *key, char *val, size_t cap);
static int meta_set(qstore_t *s, const char *key, const char *val);

/* The store's identity: read it, or make it once (a store created before
 * identities existed gets one at its next open). */
static int store_identity(qstore_t *s)
{
	unsigned char r[QSTORE_ID_HEX / 2];

	if (meta_get(s, "store_id", s->id, sizeof(s->id)) < 0)
		return -1;
	if (strlen(s->id) == QSTORE_ID_HEX)
		return 0;
	if (sq_begin(s) < 0 || meta_get(s, "store_id", s->id, sizeof(s->id)) < 0)
		goto fail;
	if (strlen(s->id) != QSTORE_ID_HEX) {
		if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r)) {
			qstore_fail(s, QS_ERR_IO, "getrandom: %s", strerror(errno));
			goto fail;
		}
		for (size_t i = 0; i < sizeof(r); i++)
			snprintf(s->id + 2 * i, 3, "%02x", r[i]);
		if (meta_set(s, "store_id", s->id) < 0)
			goto fail;
	}
	return sq_commit(s);
fail:
	sq_rollback(s);
	return -1;
}

static int sq_open(qstore_t *s)
{
	char path[PATH_BUF_MAX];
	int n = snprintf(path, sizeof(path), "%s/mugai.db", s->state_dir);
	sq_t *q = calloc(1, sizeof(*q));

	s->be = q;
	if (!q || n < 0 || (size_t)n >= sizeof(path))
		return qstore_fail(s, QS_ERR_IO, "out of memory or path too long");
	seg_writer_init(&q->seg, s->blob_root, s->seg_max);
	if (precreate(path) < 0)
		return qstore_fail(s, QS_ERR_IO, "%s: %s", path, strerror(errno));
	if (sqlite3_open_v2(path, &q->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOFOLLOW,
			    NULL) != SQLITE_OK)
		return qstore_fail(s, QS_ERR_DB, "%s: %s", path,
				   q->db ? sqlite3_errmsg(q->db) : "cannot open");
	sqlite3_busy_timeout(q->db, s->busy_ms);
	sqlite3_db_config(q->db, SQLITE_DBCONFIG_DEFENSIVE, 1, NULL);
	sqlite3_db_config(q->db, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, NULL);
	/* temp_store=MEMORY: the journal of each batch's savepoints stays in
	 * memory (a few pages per request) instead of a temporary file that
	 * SQLite creates, unlinks, writes and closes in /var/tmp per batch */
	if (sq_exec(s, "PRAGMA journal_mode=WAL") < 0 ||
	    sq_exec(s, "PRAGMA synchronous=FULL") < 0 ||
	    sq_exec(s, "PRAGMA temp_store=MEMORY") < 0)
		return -1;
	if (migrate(s) < 0)
		return -1;
	return store_identity(s);
}

static void sq_close(qstore_t *s)
{
	sq_t *q = SQ(s);

	seg_writer_close(&q->seg);
	for (int i = 0; i < SQ_CACHE; i++)
		if (q->cache[i].st)
			sqlite3_finalize(q->cache[i].st);
	if (q->db)
		sqlite3_close_v2(q->db);
	free(q);
	s->be = NULL;
}

/* ---- audit chain ---- */

typedef struct head {
	int64_t *seq;
	char *hash;
} head_t;

static int row_head(qstore_t *s, sqlite3_stmt *st, void *arg)
{
	const head_t *h = arg;

	(void)s;
	*h->seq = sqlite3_column_int64(st, 0);
	snprintf(h->hash, 65, "%s", col_text(st, 1));
	return 1;
}

static int sq_head(qstore_t *s, int64_t *seq, char hash[65])
{
	head_t h = { seq, hash };

	*seq = 0;
	memcpy(hash, AUDIT_GENESIS, 65);
	return sq_query(s, "SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1", row_head, &h,
			"");
}

static int meta_get(qstore_t *s, const char *key, char *val, size_t cap)
{
	text_out_t t = { val, cap };

	val[0] = '\0';
	return sq_query(s, "SELECT value FROM meta WHERE key=?1", row_text, &t, "t", key);
}

static int meta_set(qstore_t *s, const char *key, const char *val)
{
	return sq_run(s, "INSERT INTO meta(key, value) VALUES(?1, ?2) "
		      "ON CONFLICT(key) DO UPDATE SET value=excluded.value", "tt", key, val);
}

/* Inside the transaction: is this record due for the external witness? */
static int witness_due(qstore_t *s, int64_t seq, const char *hash)
{
	sq_t *q = SQ(s);
	char last[32], now_s[32];
	long long now = (long long)time(NULL), then;
	bool due = s->witness_every > 0 && seq % s->witness_every == 0;

	if (!due && s->witness_minutes > 0) {
		if (meta_get(s, "witness_time", last, sizeof(last)) < 0)
			return -1;
		then = last[0] ? atoll(last) : 0;
		due = now - then >= (long long)s->witness_minutes * 60;
	}
	if (!due)
		return 0;
	snprintf(now_s, sizeof(now_s), "%lld", now);
	if (meta_set(s, "witness_time", now_s) < 0)
		return -1;
	q->witness_pending = true;
	q->witness_seq = seq;
	memcpy(q->witness_hash, hash, 65);
	return 0;
}

/* details (a JSON object; NULL: {}) with "by": the display name first,
 * NUL-terminated into b. */
static int with_display(const char *display, const char *details, buf_t *b)
{
	const char *open = details ? strchr(details, '{') : NULL;
	const char *p = open ? open + 1 : "}";

	while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
		p++;
	if (buf_puts(b, "{\"by\":") < 0 || json_escape(b, display, strlen(display)) < 0 ||
	    (*p != '}' && buf_putc(b, ',') < 0) || buf_puts(b, p) < 0)
		return -1;
	return buf_putc(b, '\0');
}

static int append_plain(qstore_t *s, const char *actor, const char *action,
			const char *object, const char *details, int64_t *seq_out);

/* Inside a BEGIN IMMEDIATE transaction: append one record (with the
 * handle's display name, when set, in its details). */
static int append_locked(qstore_t *s, const char *actor, const char *action,
			 const char *object, const char *details, int64_t *seq_out)
{
	buf_t shown;
	int rc;

	if (!s->display)
		return append_plain(s, actor, action, object, details, seq_out);
	buf_init(&shown, s->details_max + AUDIT_NAME_MAX * 6 + AUDIT_TIME_LEN);
	if (with_display(s->display, details, &shown) < 0)
		rc = qstore_fail(s, QS_ERR_INVAL, "%s: details too large", action);
	else
		rc = append_plain(s, actor, action, object, shown.data, seq_out);
	buf_free(&shown);
	return rc;
}

/* append_locked without the display name. */
static int append_plain(qstore_t *s, const char *actor, const char *action,
			const char *object, const char *details, int64_t *seq_out)
{
	char prev[65], hash[65], now[AUDIT_TIME_LEN + 1];
	int64_t seq;

	if (sq_head(s, &seq, prev) < 0)
		return -1;
	seq++;
	audit_time_now(now);
	if (audit_rec_hash(seq, now, actor, action, object, details, prev, hash) < 0)
		return qstore_fail(s, QS_ERR_IO, "audit record hash: out of memory");
	if (sq_run(s, "INSERT INTO audit(seq, time, actor, action, object, details, "
		   "prev_hash, hash) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)", "ittttttt", seq, now,
		   actor, action, object, details, prev, hash) < 0 ||
	    witness_due(s, seq, hash) < 0)
		return -1;
	if (seq_out)
		*seq_out = seq;
	return 0;
}

static int sq_audit_append(qstore_t *s, const char *actor, const char *action,
			   const char *object, const char *details)
{
	if (sq_begin(s) < 0)
		return -1;
	if (append_locked(s, actor, action, object, details, NULL) < 0) {
		sq_rollback(s);
		return -1;
	}
	return sq_commit(s);
}

static void rec_fill(sqlite3_stmt *st, audit_rec_t *r)
{
	r->seq = sqlite3_column_int64(st, 0);
	r->time = (char *)col_text(st, 1);
	r->actor = (char *)col_text(st, 2);
	r->action = (char *)col_text(st, 3);
	r->object = (char *)col_text(st, 4);
	r->details = (char *)col_text(st, 5);
	snprintf(r->prev_hash, sizeof(r->prev_hash), "%s", col_text(st, 6));
	snprintf(r->hash, sizeof(r->hash), "%s", col_text(st, 7));
}

typedef struct scan {
	audit_rec_cb cb;
	void *arg;
} scan_t;

static int row_rec(qstore_t *s, sqlite3_stmt *st, void *arg)
{
	const scan_t *sc = arg;
	audit_rec_t r;
	int x;

	(void)s;
	rec_fill(st, &r);
	x = sc->cb(&r, sc->arg);
	return x < 0 ? -1 : x > 0 ? 1 : 0;
}

static int sq_audit_scan(qstore_t *s, int64_t from_seq, const char *since,
			 audit_rec_cb cb, void *arg)
{
	scan_t sc = { cb, arg };

	return sq_query(s, "SELECT seq, time, actor, action, object, details, prev_hash, "
			"hash FROM audit WHERE seq >= ?1 AND (?2 IS NULL OR time >= ?2) "
			"ORDER BY seq", row_rec, &sc, "it", from_seq, since);
}

static int sq_int_query(qstore_t *s, const char *sql, const char *arg, int64_t *v)
{
	*v = 0;
	return arg ? sq_query(s, sql, row_int64, v, "t", arg) : sq_query(s, sql, row_int64, v, "");
}

static int sq_find_hash(qstore_t *s, const char *hash, int64_t *seq)
{
	return sq_int_query(s, "SELECT seq FROM audit WHERE hash=?1 ORDER BY seq LIMIT 1",
			    hash, seq);
}

static int sq_max_ref(qstore_t *s, int64_t *seq)
{
	return sq_int_query(s, "SELECT coalesce(max(audit_seq), 0) FROM quarantine", NULL, seq);
}

static int sq_note_config(qstore_t *s, const char *actor, const char *sha256,
			  const char *details)
{
	char last[65];

	if (sq_begin(s) < 0)
		return -1;
	if (meta_get(s, "config_sha256", last, sizeof(last)) < 0)
		goto fail;
	if (strcmp(last, sha256) == 0) {
		sq_rollback(s);
		return 0;
	}
	if (meta_set(s, "config_sha256", sha256) < 0 ||
	    append_locked(s, actor, "config.load", "config", details, NULL) < 0)
		goto fail;
	return sq_commit(s);
fail:
	sq_rollback(s);
	return -1;
}

/* ---- put ---- */

static int put_details(const qstore_meta_t *m, const char *hex, size_t len, buf_t *b)
{
	json_t j;

	json_init(&j, b);
	json_obj_begin(&j);
	json_key(&j, "flow");
	json_str(&j, m->flow);
	json_key(&j, "verdict");
	json_str(&j, m->verdict);
	json_key(&j, "sha256");
	json_str(&j, hex);
	json_key(&j, "size");
	json_int(&j, (long long)len);
	json_key(&j, "rcpt_count");
	json_int(&j, (long long)m->n_rcpt);
	json_obj_end(&j);
	return json_finish(&j);
}

static int join_rcpt(const qstore_meta_t *m, buf_t *b)
{
	for (size_t i = 0; i < m->n_rcpt; i++)
		if ((i && buf_putc(b, ',') < 0) || buf_puts(b, m->rcpt[i]) < 0)
			return -1;
	return buf_puts(b, "");
}

static int insert_rcpts(qstore_t *s, const qstore_meta_t *m)
{
	for (size_t i = 0; i < m->n_rcpt; i++)
		if (sq_run(s, "INSERT OR IGNORE INTO quarantine_rcpt(id, rcpt) VALUES(?1, ?2)", "tt",
			   m->id, m->rcpt[i]) < 0)
			return -1;
	return 0;
}

/* Where an original went in its segment. */
typedef struct seg_loc {
	int64_t no;
	uint64_t off;
	bool done;  /* appended (its bytes are punched again if the put fails) */
} seg_loc_t;

static int insert_row(qstore_t *s, const qstore_meta_t *m, const char *rcpt,
		      const char *report, const char *hex, size_t len, int64_t seq,
		      const seg_loc_t *loc)
{
	return sq_run(s, "INSERT INTO quarantine(id, received, flow, env_from, rcpt, "
		      "hdr_from, subject, verdict, report, sha256, size, audit_seq, queue_id, "
		      "delivery, seg, seg_off) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, "
		      "?11, ?12, ?13, ?14, ?15, ?16)",
		      "tittttttttiittii", m->id, (int64_t)m->received, m->flow,
		      m->env_from ? m->env_from : "", rcpt, m->hdr_from ? m->hdr_from : "",
		      m->subject ? m->subject : "", m->verdict, report ? report : "{}", hex,
		      (int64_t)len, seq, m->queue_id ? m->queue_id : "",
		      m->pending ? "pending" : "done", loc->no, (int64_t)loc->off);
}

/* seg_end_fn: the end of segment no's committed originals, as the index
 * (inside the write transaction) knows them. */
static int seg_end(void *arg, int64_t no, uint64_t *end)
{
	qstore_t *s = arg;
	int64_t v = 0;

	if (sq_query(s, "SELECT coalesce(max(seg_off + size), 0) FROM quarantine WHERE seg=?1",
		     row_int64, &v, "i", no) < 0)
		return -1;
	*end = (uint64_t)v;
	return 0;
}

/* Under the lock: the original appended to the segment, row, record. */
static int put_one_locked(qstore_t *s, const qstore_meta_t *m, const void *orig,
			  size_t len, const char *report, const char *hex, seg_loc_t *loc)
{
	buf_t det, rcpt;
	int64_t seq;
	int rc = -1;

	buf_init(&det, STORE_DET_MAX);
	buf_init(&rcpt, STORE_RCPT_LIST_MAX);
	if (seg_append(&SQ(s)->seg, len ? orig : "", len, seg_end, s, &loc->no, &loc->off) < 0) {
		if (!s->err) /* seg_end's query failed: its error stands */
			qstore_fail(s, QS_ERR_IO, "blob segment: %s", strerror(errno));
		goto out;
	}
	loc->done = true;
	if (put_details(m, hex, len, &det) < 0 || join_rcpt(m, &rcpt) < 0) {
		qstore_fail(s, QS_ERR_INVAL, "%s: record too large", m->id);
		goto out;
	}
	if (append_locked(s, m->actor ? m->actor : "mugai", "quarantine.put", m->id,
			  det.data, &seq) < 0 ||
	    insert_row(s, m, rcpt.data, report, hex, len, seq, loc) < 0 ||
	    insert_rcpts(s, m) < 0)
		goto out;
	if (m->verdict_details &&
	    append_locked(s, m->actor ? m->actor : "mugai", "mail.verdict", m->id,
			  m->verdict_details, &seq) < 0)
		goto out;
	rc = 0;
out:
	buf_free(&det);
	buf_free(&rcpt);
	return rc;
}

/* The bytes of puts that were appended but not committed are deallocated
 * (inside a batch the segment goes on past them). */
static void unappend(qstore_t *s, size_t n, const size_t *len, const seg_loc_t *loc)
{
	for (size_t i = 0; i < n; i++)
		if (loc[i].done && seg_punch(s->blob_root, loc[i].no, loc[i].off, len[i]) < 0)
			log_warn("blob segment %06lld: cannot deallocate a failed put: %s",
				 (long long)loc[i].no, strerror(errno));
}

static int sq_put_batch(qstore_t *s, size_t n, const qstore_meta_t *meta,
			const void *const *orig, const size_t *len,
			const char *const *report, const char (*hex)[65])
{
	seg_loc_t *loc = calloc(n, sizeof(*loc));
	int rc = -1;

	if (!loc)
		return qstore_fail(s, QS_ERR_IO, "out of memory");
	if (sq_begin(s) < 0)
		goto out;
	for (size_t i = 0; i < n; i++)
		if (put_one_locked(s, &meta[i], orig[i], len[i],
				   report ? report[i] : NULL, hex[i], &loc[i]) < 0) {
			sq_rollback(s);
			goto out;
		}
	rc = sq_commit(s);
out:
	if (rc < 0)
		unappend(s, n, len, loc);
	free(loc);
	return rc;
}

/* ---- show / get / list ---- */

#define ITEM_COLS "id, received, flow, env_from, rcpt, hdr_from, subject, verdict, " \
	"report, sha256, size, status, requested_by, request_reason, approved_by, " \
	"audit_seq, blob_present, delivery, release_kind, refused_by, refuse_comment, " \
	"coalesce(requested_at, ''), coalesce(approved_at, ''), coalesce(release_to, ''), " \
	"admin_confirmed_by"

static int item_fill(sqlite3_stmt *st, qstore_item_t *it)
{
	snprintf(it->id, sizeof(it->id), "%s", col_text(st, 0));
	it->received = sqlite3_column_int64(st, 1);
	it->flow = qstore_strdup(col_text(st, 2));
	it->env_from = qstore_strdup(col_text(st, 3));
	it->rcpt = qstore_strdup(col_text(st, 4));
	it->hdr_from = qstore_strdup(col_text(st, 5));
	it->subject = qstore_strdup(col_text(st, 6));
	it->verdict = qstore_strdup(col_text(st, 7));
	it->report = qstore_strdup(col_text(st, 8));
	snprintf(it->sha256, sizeof(it->sha256), "%s", col_text(st, 9));
	it->size = sqlite3_column_int64(st, 10);
	it->status = qstatus_parse(col_text(st, 11)) < 0 ? QSTATUS_HELD
		: (qstatus_t)qstatus_parse(col_text(st, 11));
	it->requested_by = qstore_strdup(col_text(st, 12));
	it->request_reason = qstore_strdup(col_text(st, 13));
	it->approved_by = qstore_strdup(col_text(st, 14));
	it->audit_seq = sqlite3_column_int64(st, 15);
	it->undelivered = strcmp(col_text(st, 17), "pending") == 0;
	it->release_kind = qstore_strdup(col_text(st, 18));
	it->refused_by = qstore_strdup(col_text(st, 19));
	it->refuse_comment = qstore_strdup(col_text(st, 20));
	it->requested_at = qstore_strdup(col_text(st, 21));
	it->approved_at = qstore_strdup(col_text(st, 22));
	it->release_to = qstore_strdup(col_text(st, 23));
	it->admin_confirmed_by = qstore_strdup(col_text(st, 24));
	if (!it->flow || !it->env_from || !it->rcpt || !it->hdr_from || !it->subject ||
	    !it->verdict || !it->report || !it->requested_by || !it->request_reason ||
	    !it->approved_by || !it->release_kind || !it->refused_by || !it->refuse_comment ||
	    !it->requested_at || !it->approved_at || !it->release_to || !it->admin_confirmed_by)
		return -1;
	return 0;
}

typedef struct item_row {
	qstore_item_t *it;
	bool *found;
} item_row_t;

static int row_item(qstore_t *s, sqlite3_stmt *st, void *arg)
{
	const item_row_t *r = arg;

	*r->found = true;
	if (item_fill(st, r->it) < 0)
		return qstore_fail(s, QS_ERR_IO, "out of memory");
	return 1;
}

/* Row by id; *found false when absent. */
static int item_load(qstore_t *s, const char *id, qstore_item_t *it, bool *found)
{
	item_row_t r = { it, found };

	*found = false;
	return sq_query(s, "SELECT " ITEM_COLS " FROM quarantine WHERE id=?1", row_item, &r, "t",
			id);
}

/* The item, which must be in status `want`: 0, or -1 with QS_ERR_NOTFOUND
 * (no such message) or QS_ERR_STATE (naming the status it is in). */
static int item_load_in(qstore_t *s, const char *id, qstatus_t want, qstore_item_t *it)
{
	bool found;

	if (item_load(s, id, it, &found) < 0)
		return -1;
	if (found && it->status == want)
		return 0;
	return qstore_fail(s, found ? QS_ERR_STATE : QS_ERR_NOTFOUND, "%s: %s", id,
			   found ? qstatus_name(it->status) : "no such message");
}

/* An original's segment and offset (has: false in the per-file layout). */
typedef struct row_loc {
	int64_t no, off;
	bool has;
} row_loc_t;

static int row_loc(qstore_t *s, sqlite3_stmt *st, void *arg)
{
	row_loc_t *l = arg;

	(void)s;
	l->has = sqlite3_column_type(st, 0) != SQLITE_NULL;
	l->no = sqlite3_column_int64(st, 0);
	l->off = sqlite3_column_int64(st, 1);
	return 1;
}

static int loc_load(qstore_t *s, const char *id, row_loc_t *l)
{
	memset(l, 0, sizeof(*l));
	return sq_query(s, "SELECT seg, seg_off FROM quarantine WHERE id=?1", row_loc, l, "t", id);
}

/* The original's bytes from its segment (digest checked) or its own file. */
static int read_bytes(qstore_t *s, const qstore_item_t *it, buf_t *orig, bool *bad)
{
	char got[BLOB_HEX_LEN + 1];
	row_loc_t l;

	if (loc_load(s, it->id, &l) < 0)
		return -1;
	if (!l.has)
		return blob_read(s->blob_root, it->sha256, s->orig_max, orig, bad) < 0
		       ? qstore_fail(s, QS_ERR_IO, "blob %s: %s", it->sha256, strerror(errno)) : 0;
	if (l.off < 0 || it->size < 0 ||
	    seg_read(s->blob_root, l.no, (uint64_t)l.off, (size_t)it->size, s->orig_max, orig,
		     bad) < 0)
		return qstore_fail(s, QS_ERR_IO, "blob segment %06lld: %s", (long long)l.no,
				   strerror(errno));
	if (!*bad)
		*bad = blob_sha256(orig->data ? orig->data : "", orig->len, got) < 0 ||
		       strcmp(got, it->sha256) != 0;
	return 0;
}

static int read_original(qstore_t *s, const qstore_item_t *it, buf_t *orig)
{
	bool bad = false;

	if (it->status == QSTATUS_EXPIRED)
		return qstore_fail(s, QS_ERR_STATE, "%s: expired (purged)", it->id);
	if (read_bytes(s, it, orig, &bad) < 0)
		return -1;
	if (bad)
		return qstore_fail(s, QS_ERR_CORRUPT, "%s: original missing or does not match "
				   "its SHA-256 %s", it->id, it->sha256);
	return 0;
}

static int sq_show(qstore_t *s, const char *actor, const char *id, qstore_item_t *it,
		   buf_t *orig)
{
	const char *action = orig ? "quarantine.get" : "quarantine.show";
	bool found = false;
	int rc = -1;

	if (item_load(s, id, it, &found) < 0)
		goto out;
	if (!found) {
		if (sq_audit_append(s, actor, action, id, "{\"result\":\"not found\"}") == 0)
			qstore_fail(s, QS_ERR_NOTFOUND, "%s: no such message", id);
		goto out;
	}
	if (orig && read_original(s, it, orig) < 0) {
		int e = s->err;

		(void)sq_audit_append(s, actor, action, id, "{\"result\":\"failed\"}");
		s->err = e;
		goto out;
	}
	if (sq_audit_append(s, actor, action, id, "{\"result\":\"ok\"}") < 0)
		goto out;
	rc = 0;
out:
	if (rc < 0)
		qstore_item_free(it);
	return rc;
}


typedef struct list_row {
	qstore_item_cb cb;
	void *arg;
} list_row_t;

static int row_list(qstore_t *s, sqlite3_stmt *st, void *arg)
{
	const list_row_t *l = arg;
	qstore_item_t it;
	int r;

	memset(&it, 0, sizeof(it));
	r = item_fill(st, &it) < 0 ? -1 : l->cb(&it, l->arg);
	qstore_item_free(&it);
	return r < 0 ? qstore_fail(s, QS_ERR_IO, "list output failed") : 0;
}

/* A report as JSON the json functions may read ('{}' when it is not:
 * json_each and json_extract fail on malformed text). */
#define JSON_OR_EMPTY(col) "CASE WHEN json_valid(" col ") THEN " col " ELSE '{}' END"
/* Does a file name of the report's array arr hold ?12? */
#define FILE_IN(arr) "EXISTS (SELECT 1 FROM json_each(" JSON_OR_EMPTY("report") ", '$." arr \
	"') AS j WHERE j.type = 'object' AND instr(lower(coalesce(json_extract(j.value," \
	" '$.filename'), '')), lower(?12)) > 0)"

/* The admin's search: the list's filter, parts of texts, and an offset. */
static int sq_search(qstore_t *s, const qstore_filter_t *f, list_row_t *l)
{
	return sq_query(s, "SELECT " ITEM_COLS " FROM quarantine WHERE"
			" (?1 = 0 OR received >= ?1) AND (?2 = 0 OR received < ?2)"
			" AND (?3 IS NULL OR verdict = ?3)"
			" AND (?4 IS NULL OR env_from = ?4 COLLATE NOCASE)"
			" AND (?5 IS NULL OR id IN (SELECT id FROM quarantine_rcpt WHERE rcpt = ?5))"
			" AND (?6 IS NULL OR status = ?6)"
			" AND (?8 = 0 OR delivery = 'pending')"
			" AND (?9 IS NULL OR instr(lower(env_from), lower(?9)) > 0"
			"  OR instr(lower(hdr_from), lower(?9)) > 0)"
			" AND (?10 IS NULL OR id IN (SELECT id FROM quarantine_rcpt"
			"  WHERE instr(lower(rcpt), lower(?10)) > 0))"
			" AND (?11 IS NULL OR instr(lower(subject), lower(?11)) > 0)"
			" AND (?12 IS NULL OR " FILE_IN("removed") " OR " FILE_IN("sanitized") ")"
			" ORDER BY received DESC, id DESC LIMIT ?7 OFFSET ?13", row_list, l,
			"iittttiitttti", (int64_t)f->since, (int64_t)f->until, f->verdict, f->sender,
			f->rcpt, f->status >= 0 ? qstatus_name(f->status) : NULL,
			(int64_t)(f->limit > 0 ? f->limit : -1), (int64_t)(f->undelivered ? 1 : 0),
			f->from_part, f->rcpt_part, f->subject_part, f->file_part,
			(int64_t)f->offset);
}

static int sq_list(qstore_t *s, const char *actor, const qstore_filter_t *f,
		   const char *filter_json, qstore_item_cb cb, void *arg)
{
	list_row_t l = { cb, arg };

	if (sq_audit_append(s, actor, "quarantine.list", "*", filter_json) < 0)
		return -1;
	if (f->from_part || f->rcpt_part || f->subject_part || f->file_part || f->offset)
		return sq_search(s, f, &l);
	return sq_query(s, "SELECT " ITEM_COLS " FROM quarantine WHERE"
			" (?1 = 0 OR received >= ?1) AND (?2 = 0 OR received < ?2)"
			" AND (?3 IS NULL OR verdict = ?3)"
			" AND (?4 IS NULL OR env_from = ?4 COLLATE NOCASE)"
			" AND (?5 IS NULL OR id IN (SELECT id FROM quarantine_rcpt WHERE rcpt = ?5))"
			" AND (?6 IS NULL OR status = ?6)"
			" AND (?8 = 0 OR delivery = 'pending')"
			" ORDER BY received DESC, id DESC LIMIT ?7", row_list, &l, "iittttii",
			(int64_t)f->since, (int64_t)f->until, f->verdict, f->sender, f->rcpt,
			f->status >= 0 ? qstatus_name(f->status) : NULL,
			(int64_t)(f->limit > 0 ? f->limit : -1), (int64_t)(f->undelivered ? 1 : 0));
}

/* ---- release ---- */

static int set_status(qstore_t *s, const char *sql, const char *id, const char *a,
		      const char *b)
{
	char now[AUDIT_TIME_LEN + 1];

	audit_time_now(now);
	return sq_run(s, sql, "tttt", id, a, b, now);
}

static int reason_details(const char *key, const char *val, buf_t *b)
{
	json_t j;

	json_init(&j, b);
	json_obj_begin(&j);
	json_key(&j, key);
	json_str(&j, val);
	json_obj_end(&j);
	return json_finish(&j);
}

/* "a,b" as a JSON array of strings. */
static void addr_array(json_t *j, const char *list)
{
	json_arr_begin(j);
	for (const char *p = list; *p;) {
		const char *e = strchr(p, ',');
		size_t n = e ? (size_t)(e - p) : strlen(p);

		json_strn(j, p, n);
		p += n + (e ? 1 : 0);
	}
	json_arr_end(j);
}

static int request_details(const char *reason, const char *kind, const char *rcpt,
			   const qstore_mailout_t *out, buf_t *b)
{
	json_t j;

	json_init(&j, b);
	json_obj_begin(&j);
	json_key(&j, "reason");
	json_str(&j, reason);
	json_key(&j, "kind");
	json_str(&j, kind);
	json_key(&j, "deliver_to");
	json_str(&j, rcpt);
	if (out) {
		json_key(&j, "notified");
		addr_array(&j, out->rcpt);
	}
	json_obj_end(&j);
	return json_finish(&j);
}

/* Inside the transaction: queue out (nothing when it names nobody). */
static int outbox_add(qstore_t *s, const char *id, const char *by, const qstore_mailout_t *out)
{
	char now[AUDIT_TIME_LEN + 1];

	if (!out || !out->rcpt[0])
		return 0;
	audit_time_now(now);
	return sq_run(s, "INSERT INTO outbox(id, kind, rcpt, msg, queued_by, queued_at)"
		      " VALUES(?1, ?2, ?3, ?4, ?5, ?6)", "tttbtt", id, out->kind, out->rcpt,
		      (const void *)out->msg, out->len, by, now);
}

static int sq_request(qstore_t *s, const char *id, const char *by, const char *reason,
		      const char *kind, const char *rcpt, const qstore_mailout_t *out)
{
	qstore_item_t it = { 0 };
	buf_t det;
	int rc = -1;

	buf_init(&det, STORE_DET_MAX);
	if (sq_begin(s) < 0 || item_load_in(s, id, QSTATUS_HELD, &it) < 0)
		goto out;
	if (request_details(reason, kind, rcpt, out, &det) < 0 ||
	    set_status(s, "UPDATE quarantine SET status='release-requested', requested_by=?2,"
		       " request_reason=?3, requested_at=?4, refused_by='', refuse_comment='',"
		       " admin_confirmed_by=''"
		       " WHERE id=?1", id, by, reason) < 0 ||
	    sq_run(s, "UPDATE quarantine SET release_kind=?2, release_rcpt=?3 WHERE id=?1", "ttt",
		   id, kind, rcpt) < 0 ||
	    append_locked(s, by, "quarantine.request", id, det.data, NULL) < 0 ||
	    outbox_add(s, id, by, out) < 0)
		goto out;
	rc = sq_commit(s);
out:
	if (rc < 0)
		sq_rollback(s);
	qstore_item_free(&it);
	buf_free(&det);
	return rc;
}

/* Self-approval: record the refusal durably, then deny. */
static int approve_refuse(qstore_t *s, const char *id, const char *by)
{
	buf_t det;
	int rc = -1;

	buf_init(&det, STORE_DET_MAX);
	if (reason_details("refused", "requester may not approve (release_distinct_approver)",
			   &det) < 0 ||
	    append_locked(s, by, "quarantine.approve.refused", id, det.data, NULL) < 0 ||
	    sq_commit(s) < 0)
		goto out;
	qstore_fail(s, QS_ERR_DENIED, "%s: %s requested this release and may not approve it "
		    "(release_distinct_approver = yes)", id, by);
out:
	buf_free(&det);
	return rc;
}

/* {"requested_by": ..., "admin": true} (admin only with approve --admin;
 * "confirmed_by": the first admin of an admin release). */
static int approve_details(const char *requested_by, bool admin, const char *confirmed_by,
			   buf_t *b)
{
	json_t j;

	json_init(&j, b);
	json_obj_begin(&j);
	json_key(&j, "requested_by");
	json_str(&j, requested_by);
	if (admin) {
		json_key(&j, "admin");
		json_bool(&j, true);
	}
	if (confirmed_by && confirmed_by[0]) {
		json_key(&j, "confirmed_by");
		json_str(&j, confirmed_by);
	}
	json_obj_end(&j);
	return json_finish(&j);
}

/* A virus found by the antivirus: only an administrator releases it. */
static int virus_refuse(qstore_t *s, const char *id, const char *by)
{
	buf_t det;
	int rc = -1;

	buf_init(&det, STORE_DET_MAX);
	if (reason_details("refused", "virus: an administrator must approve (--admin)", &det) < 0 ||
	    append_locked(s, by, "quarantine.approve.refused", id, det.data, NULL) < 0 ||
	    sq_commit(s) < 0)
		goto out;
	qstore_fail(s, QS_ERR_DENIED, "%s: the antivirus found a virus in this message; only an "
		    "administrator may release it (approve --admin)", id);
out:
	buf_free(&det);
	return rc;
}

static int approve_locked(qstore_t *s, const qstore_item_t *it, const char *by,
			  bool to_queue, buf_t *orig)
{
	/* A console request for the sanitized files is not the original: the
	 * releaser rebuilds it in its worker (release_to='queue-sanitized'). */
	const char *to = !to_queue ? "file"
		: strcmp(it->release_kind, "sanitized") == 0 ? "queue-sanitized" : "queue";
	buf_t det;
	int rc = -1;

	buf_init(&det, STORE_DET_MAX);
	if (!to_queue && read_original(s, it, orig) < 0)
		goto out;
	if (approve_details(it->requested_by, s->admin, it->admin_confirmed_by, &det) < 0 ||
	    set_status(s, "UPDATE quarantine SET status='released', approved_by=?2,"
		       " release_to=?3, approved_at=?4 WHERE id=?1", it->id, by, to) < 0 ||
	    append_locked(s, by, "quarantine.approve", it->id, det.data, NULL) < 0)
		goto out;
	buf_reset(&det);
	if (reason_details("to", to, &det) < 0 ||
	    append_locked(s, by, "quarantine.release", it->id, det.data, NULL) < 0)
		goto out;
	rc = sq_commit(s);
out:
	buf_free(&det);
	return rc;
}

static int sq_approve(qstore_t *s, const char *id, const char *by, bool to_queue, buf_t *orig)
{
	qstore_item_t it = { 0 };
	int rc = -1;

	if (sq_begin(s) < 0 || item_load_in(s, id, QSTATUS_REQUESTED, &it) < 0)
		goto out;
	if (!s->admin && report_json_has_virus(it.report)) {
		(void)virus_refuse(s, id, by);
		goto out;
	}
	if (s->distinct_approver && strcmp(it.requested_by, by) == 0) {
		(void)approve_refuse(s, id, by);
		goto out;
	}
	rc = approve_locked(s, &it, by, to_queue, orig);
out:
	if (rc < 0)
		sq_rollback(s);
	qstore_item_free(&it);
	return rc;
}

/* ---- queued releases, delivered by the daemon ---- */

/* A console request names the requester's own addresses: the release goes
 * to them only (it->rcpt replaced); '' keeps every envelope recipient. */
static int release_rcpt(qstore_t *s, qstore_item_t *it)
{
	char rcpt[QACCT_ADDRS_MAX + 1] = "";
	text_out_t t = { rcpt, sizeof(rcpt) };
	char *dup;

	if (sq_query(s, "SELECT release_rcpt FROM quarantine WHERE id=?1", row_text, &t, "t",
		     it->id) < 0)
		return -1;
	if (!rcpt[0])
		return 0;
	dup = qstore_strdup(rcpt);
	if (!dup)
		return qstore_fail(s, QS_ERR_IO, "out of memory");
	free(it->rcpt);
	it->rcpt = dup;
	return 0;
}

/* The oldest original released to the queue and not yet delivered, after
 * (after_at, after_id) in the order approved_at, id. */
static int sq_release_next(qstore_t *s, const char *after_at, const char *after_id,
			   qstore_item_t *it, buf_t *orig)
{
	char id[MUGAI_ID_LEN + 1] = "";
	text_out_t t = { id, sizeof(id) };
	bool found = false;

	if (sq_query(s, "SELECT id FROM quarantine WHERE status='released' AND"
		     " release_to IN ('queue', 'queue-sanitized') AND"
		     " (coalesce(approved_at, ''), id) > (?1, ?2)"
		     " ORDER BY coalesce(approved_at, ''), id LIMIT 1",
		     row_text, &t, "tt", after_at, after_id) < 0)
		return -1;
	if (*id && (item_load(s, id, it, &found) < 0 || (found && read_original(s, it, orig) < 0)))
		return -1;
	if (found && release_rcpt(s, it) < 0)
		return -1;
	return found ? 1 : 0;
}

/* details: what the releaser delivered (NULL: {"to":"next_hop"}). */
static int sq_release_done(qstore_t *s, const char *actor, const char *id,
			   const char *details)
{
	buf_t det;
	int rc = -1;

	buf_init(&det, STORE_DET_MAX);
	if (sq_begin(s) < 0)
		goto out;
	if (sq_run(s, "UPDATE quarantine SET release_to=release_to || '-delivered'"
		   " WHERE id=?1 AND status='released' AND release_to IN ('queue', 'queue-sanitized')",
		   "t", id) < 0)
		goto out;
	if (sqlite3_changes(DB(s)) != 1) {
		qstore_fail(s, QS_ERR_STATE, "%s: not a queued release", id);
		goto out;
	}
	if ((!details && reason_details("to", "next_hop", &det) < 0) ||
	    append_locked(s, actor, "quarantine.release.delivered", id, details ? details : det.data,
			  NULL) < 0)
		goto out;
	rc = sq_commit(s);
out:
	if (rc < 0)
		sq_rollback(s);
	buf_free(&det);
	return rc;
}

/* ---- purge ---- */

typedef struct strvec {
	char **v;
	size_t n, cap;
} strvec_t;

static int strvec_push(strvec_t *sv, const char *s)
{
	if (sv->n == sv->cap) {
		size_t cap = sv->cap ? sv->cap * 2 : 64;
		char **v = realloc(sv->v, cap * sizeof(*v));

		if (!v)
			return -1;
		sv->v = v;
		sv->cap = cap;
	}
	if (!(sv->v[sv->n] = strdup(s)))
		return -1;
	sv->n++;
	return 0;
}

static void strvec_free(strvec_t *sv)
{
	for (size_t i = 0; i < sv->n; i++)
		free(sv->v[i]);
	free(sv->v);
}

/* Past retention, or undelivered and older than undelivered_days. */
typedef struct expired {
	strvec_t *ids, *hashes, *delivery;
} expired_t;

static int row_expired(qstore_t *s, sqlite3_stmt *st, void *arg)
{
	const expired_t *e = arg;

	if (strvec_push(e->ids, col_text(st, 0)) < 0 || strvec_push(e->hashes, col_text(st, 1)) < 0 ||
	    strvec_push(e->delivery, col_text(st, 2)) < 0)
		return qstore_fail(s, QS_ERR_IO, "out of memory");
	return 0;
}

static int expired_ids(qstore_t *s, int64_t cutoff, strvec_t *ids, strvec_t *hashes,
		       strvec_t *delivery)
{
	expired_t e = { ids, hashes, delivery };

	return sq_query(s, "SELECT id, sha256, delivery FROM quarantine WHERE (received < ?1 "
			"OR (delivery = 'pending' AND received < ?2)) "
			"AND status != 'expired' ORDER BY received", row_expired, &e, "ii", cutoff,
			(int64_t)time(NULL) - (int64_t)s->undelivered_days * 86400);
}

/* Expire one row: keep id, times, verdict, hash and size; wipe personal data
 * (its outbox rows go too: a notice or follow-up of an expired message,
 * sent or not, with their addresses). */
static int expire_one(qstore_t *s, const char *actor, const char *id, const char *hex,
		      bool undelivered)
{
	buf_t det;
	int rc = -1;

	buf_init(&det, STORE_DET_MAX);
	if (sq_run(s, "UPDATE quarantine SET status='expired', blob_present=0,"
		   " env_from='', rcpt='', hdr_from='', subject='', report='{}',"
		   " request_reason=NULL WHERE id=?1", "t", id) < 0 ||
	    sq_run(s, "DELETE FROM quarantine_rcpt WHERE id=?1", "t", id) < 0 ||
	    sq_run(s, "DELETE FROM outbox WHERE id=?1", "t", id) < 0 ||
	    reason_details("sha256", hex, &det) < 0)
		goto out;
	if (undelivered && det.len > 0 && det.data[det.len - 1] == '}') {
		det.len--;
		if (buf_puts(&det, ",\"undelivered\":true}") < 0)
			goto out;
	}
	if (append_locked(s, actor, "quarantine.expire", id, det.data, NULL) < 0)
		goto out;
	rc = 0;
out:
	buf_free(&det);
	return rc;
}

/* Under the lock: remove the blob file (per-file layout) when no live row
 * of that layout references it. 1 removed. */
static int unref_remove_locked(qstore_t *s, const char *hex)
{
	int64_t refs;

	if (sq_int_query(s, "SELECT count(*) FROM quarantine WHERE sha256=?1 AND "
			 "blob_present=1 AND seg IS NULL", hex, &refs) < 0)
		return -1;
	if (refs > 0)
		return 0;
	if (blob_remove(s->blob_root, hex) < 0)
		return qstore_fail(s, QS_ERR_IO, "blob %s: %s", hex, strerror(errno));
	return 1;
}

static int sweep_cb(const char *hex, void *arg)
{
	qstore_t *s = arg;
	int r;

	if (sq_begin(s) < 0)
		return -1;
	r = unref_remove_locked(s, hex);
	if (r < 0 || sq_commit(s) < 0) {
		sq_rollback(s);
		return -1;
	}
	return r;
}

/* Under the lock: a segment none of whose originals is live goes, unless
 * a writer holds it. */
static int seg_drop_dead(qstore_t *s, int64_t no)
{
	int64_t live = 0;

	if (sq_query(s, "SELECT count(*) FROM quarantine WHERE seg=?1 AND blob_present=1",
		     row_int64, &live, "i", no) < 0)
		return -1;
	if (live == 0 && seg_remove(s->blob_root, no) < 0)
		return qstore_fail(s, QS_ERR_IO, "blob segment %06lld: %s", (long long)no,
				   strerror(errno));
	return 0;
}

/* Under the lock: an expired original's bytes are deallocated in its
 * segment (1), or its per-file blob removed when unreferenced. */
static int remove_original_locked(qstore_t *s, const char *id, const char *hex)
{
	row_loc_t l;
	int64_t size = 0;

	if (loc_load(s, id, &l) < 0)
		return -1;
	if (!l.has)
		return unref_remove_locked(s, hex);
	if (sq_int_query(s, "SELECT size FROM quarantine WHERE id=?1", id, &size) < 0)
		return -1;
	if (seg_punch(s->blob_root, l.no, (uint64_t)l.off, (uint64_t)size) < 0)
		return qstore_fail(s, QS_ERR_IO, "blob segment %06lld: %s", (long long)l.no,
				   strerror(errno));
	return seg_drop_dead(s, l.no) < 0 ? -1 : 1;
}

/* Under the lock: the uncommitted tails of segments no writer holds. */
static int trim_segments(qstore_t *s)
{
	int64_t hi = seg_highest(s->blob_root);

	for (int64_t no = 1; no <= hi; no++)
		if (seg_trim(s->blob_root, no, seg_end, s) < 0)
			return s->err ? -1 : qstore_fail(s, QS_ERR_IO, "blob segment %06lld: %s",
							 (long long)no, strerror(errno));
	return 0;
}

static int purge_blobs(qstore_t *s, const strvec_t *ids, const strvec_t *hashes,
		       long *n_blobs)
{
	long swept = 0;
	int r;

	if (sq_begin(s) < 0)
		return -1;
	for (size_t i = 0; i < hashes->n; i++) {
		r = remove_original_locked(s, ids->v[i], hashes->v[i]);
		if (r < 0)
			goto fail;
		*n_blobs += r;
	}
	if (trim_segments(s) < 0 || sq_commit(s) < 0)
		goto fail;
	/* Orphans: blobs of puts killed before COMMIT, older than an hour. */
	if (blob_sweep(s->blob_root, 3600, sweep_cb, s, &swept) < 0)
		return s->err ? -1 : qstore_fail(s, QS_ERR_IO, "sweep: %s", strerror(errno));
	*n_blobs += swept;
	return 0;
fail:
	sq_rollback(s);
	return -1;
}

static int purge_summary(qstore_t *s, const char *actor, long days, long n, long nb)
{
	char det[160];

	snprintf(det, sizeof(det), "{\"older_than_days\":%ld,\"expired\":%ld,"
		 "\"blobs_removed\":%ld}", days, n, nb);
	return sq_audit_append(s, actor, "quarantine.purge", "*", det);
}

static int sq_purge(qstore_t *s, const char *actor, int64_t cutoff, long days,
		    long *n_expired, long *n_blobs)
{
	strvec_t ids = { 0 }, hashes = { 0 }, delivery = { 0 };
	int rc = -1;

	if (sq_begin(s) < 0)
		goto out;
	if (expired_ids(s, cutoff, &ids, &hashes, &delivery) < 0)
		goto out;
	for (size_t i = 0; i < ids.n; i++)
		if (expire_one(s, actor, ids.v[i], hashes.v[i],
			       strcmp(delivery.v[i], "pending") == 0) < 0)
			goto out;
	if (sq_commit(s) < 0)
		goto out;
	*n_expired = (long)ids.n;
	if (purge_blobs(s, &ids, &hashes, n_blobs) < 0 ||
	    purge_summary(s, actor, days, *n_expired, *n_blobs) < 0)
		goto out;
	rc = 0;
out:
	sq_rollback(s);
	strvec_free(&ids);
	strvec_free(&hashes);
	strvec_free(&delivery);
	return rc;
}

/* ---- deferred messages ---- */

static int sq_find_undelivered(qstore_t *s, const char *queue_id, const char *sha256,
			       char id[MUGAI_ID_LEN + 1])
{
	text_out_t t = { id, MUGAI_ID_LEN + 1 };

	id[0] = '\0';
	return sq_query(s, "SELECT id FROM quarantine WHERE queue_id=?1 AND sha256=?2 AND "
			"delivery='pending' AND status != 'expired' ORDER BY received LIMIT 1",
			row_text, &t, "tt", queue_id, sha256);
}

static int sq_seen_since(qstore_t *s, const char *env_from, int64_t since, const char *exclude,
			 char id[MUGAI_ID_LEN + 1])
{
	text_out_t t = { id, MUGAI_ID_LEN + 1 };

	id[0] = '\0';
	return sq_query(s, "SELECT id FROM quarantine WHERE env_from=?1 COLLATE NOCASE AND "
			"received >= ?2 AND id != ?3 ORDER BY received DESC LIMIT 1",
			row_text, &t, "tit", env_from, since, exclude);
}

static int sq_delivered(qstore_t *s, const char *id)
{
	return sq_run(s, "UPDATE quarantine SET delivery='done' WHERE id=?1", "t", id);
}

/* ---- PPAP ---- */

static int sq_ppap_next(qstore_t *s, int64_t since, int64_t skip, const char *env_from,
			const char *hdr_from, const char *rcpt_json, qstore_item_t *it,
			buf_t *orig)
{
	char id[MUGAI_ID_LEN + 1] = "";
	text_out_t t = { id, sizeof(id) };
	bool found = false;

	if (sq_query(s, "SELECT q.id FROM quarantine q WHERE q.verdict='" QSTORE_PPAP_PENDING "'"
		     " AND q.status='held' AND q.delivery='done' AND q.received >= ?1"
		     " AND ((?2 <> '' AND q.env_from = ?2 COLLATE NOCASE)"
		     "  OR (?3 <> '' AND q.hdr_from = ?3))"
		     " AND EXISTS (SELECT 1 FROM quarantine_rcpt r WHERE r.id = q.id"
		     "  AND r.rcpt IN (SELECT value FROM json_each(?4)))"
		     " ORDER BY q.received DESC, q.id DESC LIMIT 1 OFFSET ?5",
		     row_text, &t, "ittti", since, env_from, hdr_from,
		     rcpt_json, skip) < 0)
		return -1;
	if (*id && (item_load(s, id, it, &found) < 0 || (found && read_original(s, it, orig) < 0)))
		return -1;
	return found ? 1 : 0;
}

static int sq_ppap_stale(qstore_t *s, int64_t before, qstore_item_t *it)
{
	char id[MUGAI_ID_LEN + 1] = "";
	text_out_t t = { id, sizeof(id) };
	bool found = false;

	if (sq_query(s, "SELECT id FROM quarantine WHERE verdict='" QSTORE_PPAP_PENDING "'"
		     " AND delivery='done' AND received < ?1 ORDER BY received, id LIMIT 1",
		     row_text, &t, "i", before) < 0)
		return -1;
	if (*id && item_load(s, id, it, &found) < 0)
		return -1;
	return found ? 1 : 0;
}

static int sq_ppap_mark(qstore_t *s, const char *actor, const char *id, const char *action,
			const char *details, const qstore_mailout_t *out)
{
	int rc = -1, r;

	if (sq_begin(s) < 0)
		goto out;
	/* paired: from pending, or from expired (an administrator typed it);
	 * failed: the verdict stays; expired: from pending only */
	if (strcmp(action, "ppap.paired") == 0)
		r = sq_run(s, "UPDATE quarantine SET verdict='" QSTORE_PPAP_PAIRED "' WHERE id=?1 AND"
			   " verdict IN ('" QSTORE_PPAP_PENDING "','" QSTORE_PPAP_EXPIRED "')", "t", id);
	else if (strcmp(action, "ppap.failed") == 0)
		r = sq_run(s, "UPDATE quarantine SET verdict=verdict WHERE id=?1 AND"
			   " verdict IN ('" QSTORE_PPAP_PENDING "','" QSTORE_PPAP_EXPIRED "')", "t", id);
	else
		r = sq_run(s, "UPDATE quarantine SET verdict='" QSTORE_PPAP_EXPIRED "' WHERE id=?1 AND"
			   " verdict='" QSTORE_PPAP_PENDING "'", "t", id);
	if (r < 0)
		goto out;
	if (sqlite3_changes(DB(s)) != 1) {
		qstore_fail(s, QS_ERR_STATE, "%s: not waiting for a PPAP password", id);
		goto out;
	}
	if (append_locked(s, actor, action, id, details, NULL) < 0 ||
	    outbox_add(s, id, actor, out) < 0)
		goto out;
	rc = sq_commit(s);
out:
	if (rc < 0)
		sq_rollback(s);
	return rc;
}

/* ---- the outbox: delivered by mugaid's releaser ---- */

typedef struct outbox_row {
	qstore_outbox_t *ob;
	buf_t *msg;
	bool found;
} outbox_row_t;

static int row_outbox(qstore_t *s, sqlite3_stmt *st, void *arg)
{
	outbox_row_t *r = arg;
	const void *m = sqlite3_column_blob(st, 4);
	size_t n = (size_t)sqlite3_column_bytes(st, 4);

	r->ob->seq = sqlite3_column_int64(st, 0);
	snprintf(r->ob->id, sizeof(r->ob->id), "%s", col_text(st, 1));
	r->ob->kind = qstore_strdup(col_text(st, 2));
	r->ob->rcpt = qstore_strdup(col_text(st, 3));
	if (!r->ob->kind || !r->ob->rcpt || (n && buf_append(r->msg, m, n) < 0))
		return qstore_fail(s, QS_ERR_IO, "outbox row %lld: out of memory or too large",
				   (long long)r->ob->seq);
	r->found = true;
	return 1;
}

static int sq_outbox_next(qstore_t *s, int64_t after, qstore_outbox_t *ob, buf_t *msg)
{
	outbox_row_t r = { ob, msg, false };

	buf_reset(msg);
	if (sq_query(s, "SELECT seq, id, kind, rcpt, msg FROM outbox WHERE sent_at='' AND seq>?1"
		     " ORDER BY seq LIMIT 1", row_outbox, &r, "i", after) < 0) {
		qstore_outbox_free(ob);
		return -1;
	}
	return r.found ? 1 : 0;
}

static int sq_outbox_done(qstore_t *s, const char *actor, int64_t seq, const char *details)
{
	char id[MUGAI_ID_LEN + 1] = "", now[AUDIT_TIME_LEN + 1];
	text_out_t t = { id, sizeof(id) };
	int rc = -1;

	audit_time_now(now);
	if (sq_begin(s) < 0 ||
	    sq_query(s, "SELECT id FROM outbox WHERE seq=?1 AND sent_at=''", row_text, &t, "i",
		     seq) < 0)
		goto out;
	if (!id[0]) {
		qstore_fail(s, QS_ERR_STATE, "outbox row %lld: not pending", (long long)seq);
		goto out;
	}
	if (sq_run(s, "UPDATE outbox SET sent_at=?2, msg=X'' WHERE seq=?1", "it", seq, now) < 0 ||
	    append_locked(s, actor, "outbox.delivered", id, details, NULL) < 0)
		goto out;
	rc = sq_commit(s);
out:
	if (rc < 0)
		sq_rollback(s);
	return rc;
}

/* ---- refusal of a release request (console approver) ---- */

static int sq_refuse(qstore_t *s, const char *id, const char *by, const char *comment,
		     const char *details)
{
	qstore_item_t it = { 0 };
	int rc = -1;

	if (sq_begin(s) < 0 || item_load_in(s, id, QSTATUS_REQUESTED, &it) < 0)
		goto out;
	if (sq_run(s, "UPDATE quarantine SET status='held', refused_by=?2, refuse_comment=?3,"
		   " admin_confirmed_by='' WHERE id=?1", "ttt", id, by, comment) < 0 ||
	    append_locked(s, by, "quarantine.refuse", id, details, NULL) < 0)
		goto out;
	rc = sq_commit(s);
out:
	if (rc < 0)
		sq_rollback(s);
	qstore_item_free(&it);
	return rc;
}

/* ---- console accounts (validated by qstore_account.c) ---- */

#define ACCT_COLS "name, role, dept, addrs, pwhash, totp, disabled, failures, locked_until," \
	" totp_last, created"

static int acct_fill(sqlite3_stmt *st, qaccount_t *a)
{
	a->name = qstore_strdup(col_text(st, 0));
	a->role = qstore_strdup(col_text(st, 1));
	a->dept = qstore_strdup(col_text(st, 2));
	a->addrs = qstore_strdup(col_text(st, 3));
	a->pwhash = qstore_strdup(col_text(st, 4));
	a->totp = qstore_strdup(col_text(st, 5));
	a->disabled = sqlite3_column_int64(st, 6) != 0;
	a->failures = (long)sqlite3_column_int64(st, 7);
	a->locked_until = sqlite3_column_int64(st, 8);
	a->totp_last = sqlite3_column_int64(st, 9);
	a->created = qstore_strdup(col_text(st, 10));
	if (!a->name || !a->role || !a->dept || !a->addrs || !a->pwhash || !a->totp ||
	    !a->created)
		return -1;
	return 0;
}

typedef struct acct_row {
	qaccount_t *a;
	bool *found;
	qaccount_cb cb;
	void *arg;
} acct_row_t;

static int row_acct(qstore_t *s, sqlite3_stmt *st, void *arg)
{
	const acct_row_t *r = arg;

	*r->found = true;
	if (acct_fill(st, r->a) < 0)
		return qstore_fail(s, QS_ERR_IO, "out of memory");
	return 1;
}

static int sq_acct_get(qstore_t *s, const char *name, qaccount_t *a, bool *found)
{
	acct_row_t r = { a, found, NULL, NULL };

	*found = false;
	return sq_query(s, "SELECT " ACCT_COLS " FROM account WHERE name=?1", row_acct, &r, "t",
			name);
}

static int row_acct_list(qstore_t *s, sqlite3_stmt *st, void *arg)
{
	const acct_row_t *r = arg;
	qaccount_t a = { 0 };
	int rc;

	if (acct_fill(st, &a) < 0) {
		qstore_account_free(&a);
		return qstore_fail(s, QS_ERR_IO, "out of memory");
	}
	rc = r->cb(&a, r->arg);
	qstore_account_free(&a);
	return rc < 0 ? qstore_fail(s, QS_ERR_IO, "listing stopped") : 0;
}

static int sq_acct_list(qstore_t *s, qaccount_cb cb, void *arg)
{
	bool found;
	acct_row_t r = { NULL, &found, cb, arg };

	return sq_query(s, "SELECT " ACCT_COLS " FROM account ORDER BY name", row_acct_list, &r,
			"");
}

static int sq_acct_add(qstore_t *s, const char *actor, const qaccount_t *a,
		       const char *details)
{
	char now[AUDIT_TIME_LEN + 1];
	bool found;
	qaccount_t old = { 0 };
	int rc = -1;

	audit_time_now(now);
	if (sq_begin(s) < 0 || sq_acct_get(s, a->name, &old, &found) < 0)
		goto out;
	if (found) {
		qstore_fail(s, QS_ERR_EXISTS, "account %s exists", a->name);
		goto out;
	}
	if (sq_run(s, "INSERT INTO account(name, role, dept, addrs, pwhash, totp, created)"
		   " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)", "ttttttt", a->name, a->role, a->dept,
		   a->addrs, a->pwhash, a->totp, now) < 0 ||
	    append_locked(s, actor, "account.add", a->name, details, NULL) < 0)
		goto out;
	rc = sq_commit(s);
out:
	if (rc < 0)
		sq_rollback(s);
	qstore_account_free(&old);
	return rc;
}

/* disable, enable or reset (new pwhash and totp, lock and failures cleared). */
static int sq_acct_set(qstore_t *s, const char *actor, const char *action,
		       const qaccount_t *a, const char *details)
{
	int rc = -1;

	if (sq_begin(s) < 0)
		goto out;
	if (strcmp(action, "account.reset") == 0)
		rc = sq_run(s, "UPDATE account SET pwhash=?2, totp=?3, failures=0, locked_until=0,"
			    " totp_last=0 WHERE name=?1", "ttt", a->name, a->pwhash, a->totp);
	else
		rc = sq_run(s, "UPDATE account SET disabled=?2 WHERE name=?1", "ti", a->name,
			    (int64_t)(a->disabled ? 1 : 0));
	if (rc < 0)
		goto out;
	rc = -1;
	if (sqlite3_changes(DB(s)) != 1) {
		qstore_fail(s, QS_ERR_NOTFOUND, "no account %s", a->name);
		goto out;
	}
	if (append_locked(s, actor, action, a->name, details, NULL) < 0)
		goto out;
	rc = sq_commit(s);
out:
	if (rc < 0)
		sq_rollback(s);
	return rc;
}

static int login_failed_locked(qstore_t *s, const qstore_login_t *l, bool *locked)
{
	if (sq_run(s, "UPDATE account SET failures=failures+1 WHERE name=?1", "t", l->name) < 0 ||
	    append_locked(s, l->actor, "console.login.failed", l->name, l->details, NULL) < 0 ||
	    sq_run(s, "UPDATE account SET locked_until=?2, failures=0 WHERE name=?1 AND"
		   " failures>=?3", "tii", l->name, (int64_t)(l->now + l->lock_secs),
		   (int64_t)l->max_fail) < 0)
		return -1;
	*locked = sqlite3_changes(DB(s)) == 1;
	if (*locked && append_locked(s, l->actor, "console.lockout", l->name, l->details, NULL) < 0)
		return -1;
	return 0;
}

static int sq_acct_login(qstore_t *s, const qstore_login_t *l, bool *locked)
{
	int rc = -1;

	*locked = false;
	if (sq_begin(s) < 0)
		goto out;
	if (l->ok) {
		if (sq_run(s, "UPDATE account SET failures=0, locked_until=0, totp_last=?2"
			   " WHERE name=?1", "ti", l->name, (int64_t)l->totp_step) < 0 ||
		    append_locked(s, l->actor, "console.login", l->name, l->details, NULL) < 0)
			goto out;
	} else if (login_failed_locked(s, l, locked) < 0) {
		goto out;
	}
	rc = sq_commit(s);
out:
	if (rc < 0)
		sq_rollback(s);
	return rc;
}

/* ---- an admin release: two admins ---- */

static int admin_refuse(qstore_t *s, const char *id, const char *by, const char *why)
{
	buf_t det;
	int rc = -1;

	buf_init(&det, STORE_DET_MAX);
	if (reason_details("refused", why, &det) < 0 ||
	    append_locked(s, by, "quarantine.approve.refused", id, det.data, NULL) < 0 ||
	    sq_commit(s) < 0)
		goto out;
	qstore_fail(s, QS_ERR_DENIED, "%s: %s", id, why);
out:
	buf_free(&det);
	return rc;
}

static int sq_admin_confirm(qstore_t *s, const char *id, const char *by, const char *details,
			    bool *released)
{
	qstore_item_t it = { 0 };
	int rc = -1;

	*released = false;
	if (sq_begin(s) < 0 || item_load_in(s, id, QSTATUS_REQUESTED, &it) < 0)
		goto out;
	if (strcmp(it.requested_by, by) == 0) {
		(void)admin_refuse(s, id, by, "admin release: the requester may not confirm");
	} else if (strcmp(it.admin_confirmed_by, by) == 0) {
		(void)admin_refuse(s, id, by, "admin release: a second, different admin must confirm");
	} else if (!it.admin_confirmed_by[0]) {
		if (sq_run(s, "UPDATE quarantine SET admin_confirmed_by=?2 WHERE id=?1", "tt", id,
			   by) == 0 &&
		    append_locked(s, by, "quarantine.admin.confirm", id, details, NULL) == 0)
			rc = sq_commit(s);
	} else {
		bool was = s->admin;

		s->admin = true;
		rc = approve_locked(s, &it, by, true, NULL);
		s->admin = was;
		*released = rc == 0;
	}
out:
	if (rc < 0 && qstore_errcode(s) != QS_ERR_DENIED)
		sq_rollback(s);
	qstore_item_free(&it);
	return rc;
}

/* ---- the self-inspection counts ---- */

#define IN_PERIOD " received >= ?1 AND received < ?2"
#define AUDIT_IN_PERIOD " time >= ?3 AND time < ?4"

static const char counts_sql[] =
	"SELECT g, k, n FROM ("
	"SELECT 'verdict' AS g, verdict AS k, count(*) AS n FROM quarantine WHERE" IN_PERIOD
	" GROUP BY verdict"
	" UNION ALL SELECT 'reason', coalesce(json_extract(j.value, '$.reason'), ''), count(*)"
	" FROM quarantine, json_each(" JSON_OR_EMPTY("report") ", '$.removed') AS j"
	" WHERE" IN_PERIOD " AND j.type = 'object' GROUP BY 2"
	" UNION ALL SELECT 'limit', j.value, count(*)"
	" FROM quarantine, json_each(" JSON_OR_EMPTY("report") ", '$.limits_hit') AS j"
	" WHERE" IN_PERIOD " AND j.type = 'text' GROUP BY 2"
	" UNION ALL SELECT 'virus', '', count(*) FROM quarantine WHERE" IN_PERIOD
	" AND json_type(" JSON_OR_EMPTY("report") ", '$.virus') = 'text'"
	" UNION ALL SELECT 'action', action, count(*) FROM audit WHERE" AUDIT_IN_PERIOD
	" GROUP BY action"
	" UNION ALL SELECT 'refused', coalesce(json_extract(" JSON_OR_EMPTY("details")
	", '$.why'), ''), count(*) FROM audit WHERE action = 'console.refused' AND"
	AUDIT_IN_PERIOD " GROUP BY 2"
	" UNION ALL SELECT 'release', coalesce(json_extract(" JSON_OR_EMPTY("details")
	", '$.to'), ''), count(*) FROM audit WHERE action = 'quarantine.release' AND"
	AUDIT_IN_PERIOD " GROUP BY 2"
	" UNION ALL SELECT 'config', '', count(*) FROM ("
	"  SELECT time, h, lag(h) OVER (ORDER BY seq) AS p FROM ("
	"   SELECT seq, time, json_extract(" JSON_OR_EMPTY("details") ", '$.sha256') AS h"
	"   FROM audit WHERE action = 'config.load'))"
	" WHERE" AUDIT_IN_PERIOD " AND (p IS NULL OR h IS NOT p)"
	") WHERE n > 0 ORDER BY g, k";

typedef struct count_row {
	qstore_count_cb cb;
	void *arg;
} count_row_t;

static int row_count(qstore_t *s, sqlite3_stmt *st, void *arg)
{
	const count_row_t *c = arg;

	if (c->cb(col_text(st, 0), col_text(st, 1), sqlite3_column_int64(st, 2), c->arg) < 0)
		return qstore_fail(s, QS_ERR_IO, "count output failed");
	return 0;
}

static int sq_counts(qstore_t *s, int64_t since, int64_t until, const char *t_since,
		     const char *t_until, qstore_count_cb cb, void *arg)
{
	count_row_t c = { cb, arg };

	return sq_query(s, counts_sql, row_count, &c, "iitt", since, until, t_since, t_until);
}

const qstore_ops_t qstore_sqlite_ops = {
	.name = "sqlite",
	.open = sq_open,
	.close = sq_close,
	.put_batch = sq_put_batch,
	.batch_begin = sq_batch_begin,
	.batch_end = sq_batch_end,
	.show = sq_show,
	.list = sq_list,
	.request = sq_request,
	.approve = sq_approve,
	.release_next = sq_release_next,
	.release_done = sq_release_done,
	.purge = sq_purge,
	.audit_append = sq_audit_append,
	.audit_scan = sq_audit_scan,
	.audit_find_hash = sq_find_hash,
	.audit_head = sq_head,
	.audit_max_ref = sq_max_ref,
	.note_config = sq_note_config,
	.find_undelivered = sq_find_undelivered,
	.seen_since = sq_seen_since,
	.delivered = sq_delivered,
	.ppap_next = sq_ppap_next,
	.ppap_stale = sq_ppap_stale,
	.ppap_mark = sq_ppap_mark,
	.outbox_next = sq_outbox_next,
	.outbox_done = sq_outbox_done,
	.refuse = sq_refuse,
	.acct_add = sq_acct_add,
	.acct_get = sq_acct_get,
	.acct_list = sq_acct_list,
	.acct_set = sq_acct_set,
	.acct_login = sq_acct_login,
	.counts = sq_counts,
	.admin_confirm = sq_admin_confirm,
};
