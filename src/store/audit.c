/*
 * audit.c — audit record hash, field checks, the external witness and chain
 * verification (see audit.h for the exact encoding).
 *
 * Follows RFC 3339 (record time), FIPS 180-4 SHA-256 (common/sha256.h),
 * RFC 3164 framing for the witness datagram to /dev/log.
 *
 * SECURITY: store process only. Verification treats the database and the
 * witness file as untrusted: bounded line lengths, bounded witness count,
 * no field is interpreted beyond comparison.
 */
#include "audit.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "common/sha256.h"
#include "common/utf8.h"

static void hash_field(sha256_t *c, const char *f)
{
	char len[32];
	size_t n = strlen(f);

	snprintf(len, sizeof(len), "%zu:", n);
	sha256_add(c, len, strlen(len));
	sha256_add(c, f, n);
	sha256_add(c, "\n", 1);
}

int audit_rec_hash(int64_t seq, const char *time, const char *actor, const char *action,
		   const char *object, const char *details, const char *prev_hash,
		   char out[65])
{
	const char *fields[] = { NULL, time, actor, action, object, details, prev_hash };
	char seqs[32];
	sha256_t c;

	snprintf(seqs, sizeof(seqs), "%" PRId64, seq);
	fields[0] = seqs;
	sha256_begin(&c);
	sha256_add(&c, "mugai-audit-v1\n", 15);
	for (size_t i = 0; i < MUGAI_ARRAY_LEN(fields); i++)
		hash_field(&c, fields[i] ? fields[i] : "");
	sha256_hex_end(&c, out);
	return 0;
}

void audit_time_now(char out[AUDIT_TIME_LEN + 1])
{
	struct timespec ts;
	struct tm tm;
	char tmp[96];

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	snprintf(tmp, sizeof(tmp), "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ",
		 (tm.tm_year + 1900) % 10000, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		 tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000);
	memcpy(out, tmp, AUDIT_TIME_LEN);
	out[AUDIT_TIME_LEN] = '\0';
}

static bool no_controls(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return false;
	return true;
}

static bool name_ok(const char *s)
{
	size_t n = s ? strlen(s) : 0;

	return n > 0 && n <= AUDIT_NAME_MAX && utf8_valid(s, n) && no_controls(s, n);
}

int audit_fields_ok(const char *actor, const char *action, const char *object,
		    const char *details, size_t max)
{
	size_t n = details ? strlen(details) : 0;

	if (!name_ok(actor) || !name_ok(action) || !name_ok(object))
		return -1;
	if (n < 2 || n > max || details[0] != '{' || details[n - 1] != '}')
		return -1;
	if (!utf8_valid(details, n) || !no_controls(details, n))
		return -1;
	return 0;
}

/* RFC 3164 datagram to the local syslog socket; absent socket is not an error. */
static void witness_syslog(const char *line)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX, .sun_path = "/dev/log" };
	char msg[ERR_TEXT_MAX], stamp[32];
	time_t now = time(NULL);
	struct tm tm;
	int fd, n;

	gmtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%b %e %H:%M:%S", &tm);
	n = snprintf(msg, sizeof(msg), "<%d>%s mugai-audit[%ld]: %s", 2 * 8 + 5, stamp,
		     (long)getpid(), line);
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || n < 0)
		goto out;
	if (sendto(fd, msg, (size_t)n < sizeof(msg) ? (size_t)n : sizeof(msg) - 1, 0,
		   (struct sockaddr *)&sa, sizeof(sa)) < 0)
		goto out;
out:
	if (fd >= 0)
		close(fd);
}

static int witness_file_append(const char *file, const char *line)
{
	int fd = open(file, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600);
	size_t n = strlen(line);
	int rc = -1;

	if (fd < 0)
		goto out;
	if (write(fd, line, n) != (ssize_t)n || write(fd, "\n", 1) != 1 || fsync(fd) < 0)
		goto out;
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	return rc;
}

int audit_witness_emit(const char *file, const char *store, int64_t seq, const char *hash)
{
	char line[AUDIT_LINE_MAX], now[AUDIT_TIME_LEN + 1];

	audit_time_now(now);
	snprintf(line, sizeof(line), "head seq=%" PRId64 " hash=%s store=%s time=%s", seq, hash,
		 store, now);
	witness_syslog(line);
	if (file && *file)
		return witness_file_append(file, line);
	return 0;
}

const char *audit_break_name(audit_break_t k)
{
	static const char *names[] = { "intact", "changed", "missing", "reordered",
				       "relinked", "truncated", "witness mismatch" };

	return (size_t)k < MUGAI_ARRAY_LEN(names) ? names[k] : "?";
}

/* ---- verification ---- */

typedef struct witness {
	int64_t seq;
	char hash[65];
} witness_t;

typedef struct vstate {
	qstore_t *s;
	audit_verdict_t *v;
	int64_t expected;
	int64_t max_ref;  /* read before the scan: the chain only grows */
	char last[65];
	witness_t *w;
	size_t nw, wi;
	int failed; /* a lookup failed */
} vstate_t;

static int witness_cmp(const void *a, const void *b)
{
	const witness_t *x = a, *y = b;

	return (x->seq > y->seq) - (x->seq < y->seq);
}

int audit_witness_parse(const char *line, const char *store, int64_t *seq_out,
			char hash_out[65])
{
	const char *p = strstr(line, "head seq=");
	long long seq;
	char hash[65], id[QSTORE_ID_HEX + 1];
	int end = 0;

	if (!p || sscanf(p, "head seq=%lld hash=%64[0-9a-f]%n", &seq, hash, &end) != 2)
		return -1;
	if (sscanf(p + end, " store=%32[0-9a-f]", id) == 1 && strcmp(id, store) != 0)
		return -1;
	if (seq < 1 || strlen(hash) != 64)
		return -1;
	*seq_out = seq;
	memcpy(hash_out, hash, 65);
	return 0;
}

static int witness_parse_line(const char *line, const char *store, witness_t *w)
{
	return audit_witness_parse(line, store, &w->seq, w->hash);
}

static int witness_load(const char *path, const char *store, witness_t **out, size_t *n)
{
	FILE *f = fopen(path, "re");
	char *line = NULL;
	size_t cap = 0, alloc = 0;
	witness_t *w = NULL, one;
	int rc = -1;

	*out = NULL;
	*n = 0;
	if (!f)
		goto out;
	while (getline(&line, &cap, f) >= 0 && *n < WITNESS_MAX) {
		if (witness_parse_line(line, store, &one) < 0)
			continue;
		if (*n == alloc) {
			witness_t *nw = realloc(w, (alloc ? alloc * 2 : 64) * sizeof(*w));

			if (!nw)
				goto out;
			w = nw;
			alloc = alloc ? alloc * 2 : 64;
		}
		w[(*n)++] = one;
	}
	qsort(w, *n, sizeof(*w), witness_cmp);
	*out = w;
	w = NULL;
	rc = 0;
out:
	free(w);
	free(line);
	if (f)
		fclose(f);
	return rc;
}

static int vbreak(vstate_t *st, audit_break_t kind, int64_t seq, const char *fmt, ...)
	MUGAI_PRINTF(4, 5);

static int vbreak(vstate_t *st, audit_break_t kind, int64_t seq, const char *fmt, ...)
{
	va_list ap;

	st->v->kind = kind;
	st->v->seq = seq;
	va_start(ap, fmt);
	vsnprintf(st->v->what, sizeof(st->v->what), fmt, ap);
	va_end(ap);
	return 1; /* stop the scan */
}

/* The record's prev_hash does not name the previous record: classify. */
static int vlink_broken(vstate_t *st, const audit_rec_t *r, bool self_ok)
{
	int64_t at = 0;

	if (audit_find_hash(st->s, r->prev_hash, &at) < 0) {
		st->failed = 1;
		return -1;
	}
	if (at > 0 && at != r->seq - 1 && at != r->seq)
		return vbreak(st, AUDIT_REORDERED, r->seq,
			      "record at seq %" PRId64 " links to the record at seq %" PRId64
			      " instead of seq %" PRId64 " (records swapped or moved)",
			      r->seq, at, r->seq - 1);
	if (self_ok && r->seq > 1)
		return vbreak(st, AUDIT_CHANGED, r->seq - 1,
			      "record %" PRId64 " was rewritten with a recomputed hash: "
			      "record %" PRId64 " still links to prev_hash %.16s...",
			      r->seq - 1, r->seq, r->prev_hash);
	return vbreak(st, AUDIT_CHANGED, r->seq,
		      "record %" PRId64 ": prev_hash was changed", r->seq);
}

static int vwitness(vstate_t *st, const audit_rec_t *r)
{
	while (st->wi < st->nw && st->w[st->wi].seq < r->seq)
		st->wi++;
	for (; st->wi < st->nw && st->w[st->wi].seq == r->seq; st->wi++)
		if (strcmp(st->w[st->wi].hash, r->hash) != 0)
			return vbreak(st, AUDIT_WITNESS, r->seq,
				      "witness saw seq %" PRId64 " with hash %.16s..., the chain "
				      "has %.16s... (chain rewritten from here or earlier)",
				      r->seq, st->w[st->wi].hash, r->hash);
	return 0;
}

static int vrecord(const audit_rec_t *r, void *arg)
{
	vstate_t *st = arg;
	char h[65];
	bool self_ok;

	if (r->seq != st->expected)
		return vbreak(st, AUDIT_MISSING, st->expected,
			      "records %" PRId64 "..%" PRId64 " are missing (deleted)",
			      st->expected, r->seq - 1);
	if (audit_rec_hash(r->seq, r->time, r->actor, r->action, r->object, r->details,
			   r->prev_hash, h) < 0) {
		st->failed = 1;
		return -1;
	}
	self_ok = strcmp(h, r->hash) == 0;
	if (strcmp(r->prev_hash, st->last) != 0)
		return vlink_broken(st, r, self_ok);
	if (!self_ok)
		return vbreak(st, AUDIT_CHANGED, r->seq,
			      "record %" PRId64 " (%s %s) no longer matches its hash",
			      r->seq, r->action, r->object);
	if (vwitness(st, r) != 0)
		return 1;
	memcpy(st->last, r->hash, 65);
	st->v->records++;
	st->v->head_seq = r->seq;
	memcpy(st->v->head_hash, r->hash, 65);
	st->expected++;
	return 0;
}

/* After a clean scan: is anything known to exist beyond the head? */
static int vtail(vstate_t *st)
{
	int64_t head = st->v->head_seq, ref = st->max_ref;

	if (st->nw > 0 && st->w[st->nw - 1].seq > head)
		return vbreak(st, AUDIT_TRUNCATED, head + 1,
			      "the chain ends at seq %" PRId64 " but the witness saw seq %"
			      PRId64 " (tail deleted)", head, st->w[st->nw - 1].seq);
	if (ref > head)
		return vbreak(st, AUDIT_TRUNCATED, head + 1,
			      "the chain ends at seq %" PRId64 " but the quarantine index "
			      "references seq %" PRId64 " (tail deleted)", head, ref);
	return 0;
}

int audit_verify(qstore_t *s, const char *witness_file, audit_verdict_t *v)
{
	vstate_t st = { .s = s, .v = v, .expected = 1 };
	int rc = -1;

	memset(v, 0, sizeof(*v));
	memcpy(st.last, AUDIT_GENESIS, 65);
	memcpy(v->head_hash, AUDIT_GENESIS, 65);
	if (witness_file && witness_load(witness_file, qstore_id(s), &st.w, &st.nw) < 0) {
		snprintf(v->what, sizeof(v->what), "%s: %s", witness_file, strerror(errno));
		goto out;
	}
	/* Witness and index references are read before the chain: whatever they
	 * name was committed before the scan starts, so a concurrent writer can
	 * only make the scan longer, never cause a false "truncated". */
	if (audit_max_ref(s, &st.max_ref) < 0)
		goto out;
	if (audit_scan(s, 1, NULL, vrecord, &st) < 0 || st.failed)
		goto out;
	if (v->kind == AUDIT_INTACT && vtail(&st) < 0)
		goto out;
	rc = 0;
out:
	free(st.w);
	return rc;
}
