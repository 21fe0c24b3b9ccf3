/* test_ppapstore.c — the store's PPAP rules on a real SQLite file: which
 * held original a password mail may open (same envelope sender in any case,
 * or the same decoded From; a shared recipient in any case; inside the
 * window; held and delivered; newest first, skip), which are stale, and the
 * steps: paired from pending or expired, expired from pending only, failed
 * keeps the verdict; each audited with its details and never a password. */
#include "testutil.h"

#include <time.h>

#include "common/config.h"
#include "store/qstore.h"

typedef struct tdir {
	char path[64];
	cfg_t cfg;
	qstore_t *s;
} tdir_t;

static void open_store(tdir_t *t)
{
	char err[200];

	snprintf(t->path, sizeof(t->path), "/tmp/mugai-ut-XXXXXX");
	assert_non_null(mkdtemp(t->path));
	assert_int_equal(cfg_init(&t->cfg), 0);
	assert_int_equal(cfg_set(&t->cfg, "state_dir", t->path, err, sizeof(err)), 0);
	assert_int_equal(qstore_open(&t->s, &t->cfg), 0);
}

static void close_store(tdir_t *t)
{
	char cmd[128];

	qstore_close(t->s);
	cfg_free(&t->cfg);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", t->path);
	assert_int_equal(system(cmd), 0);
}

/* A held original: verdict, sender, From, recipients, age in seconds. */
static void put(tdir_t *t, char id[MUGAI_ID_LEN + 1], const char *verdict, const char *from,
		const char *hdr_from, const char *rcpt, int64_t age, bool delivered)
{
	const char *r[] = { rcpt };
	qstore_meta_t m = { .received = (int64_t)time(NULL) - age, .flow = "inbound",
			    .env_from = from, .rcpt = r, .n_rcpt = 1, .hdr_from = hdr_from,
			    .subject = "見積書", .verdict = verdict, .queue_id = "", .pending = true };

	assert_int_equal(mugai_id_new(m.id), 0);
	assert_int_equal(qstore_put(t->s, &m, "orig", 4, "{}"), 0);
	if (delivered)
		assert_int_equal(qstore_delivered(t->s, m.id), 0);
	snprintf(id, MUGAI_ID_LEN + 1, "%s", m.id);
}

/* The id PPAP_NEXT finds for this password mail ("" when none). */
static void next(tdir_t *t, int64_t skip, const char *from, const char *hdr_from,
		 const char *rcpt, char out[MUGAI_ID_LEN + 1])
{
	const char *r[] = { "other@city.example.lg.jp", rcpt };
	qstore_item_t it;
	buf_t orig;
	int rc;

	buf_init(&orig, 1 << 20);
	rc = qstore_ppap_next(t->s, (int64_t)time(NULL) - 3600, skip, from, hdr_from, r, 2, &it,
			      &orig);
	assert_true(rc == 0 || rc == 1);
	snprintf(out, MUGAI_ID_LEN + 1, "%s", rc == 1 ? it.id : "");
	if (rc == 1) {
		assert_int_equal(orig.len, 4);
		assert_memory_equal(orig.data, "orig", 4);
	}
	qstore_item_free(&it);
	buf_free(&orig);
}

static void matching(void **state)
{
	tdir_t t;
	char a[MUGAI_ID_LEN + 1], b[MUGAI_ID_LEN + 1], old[MUGAI_ID_LEN + 1];
	char undel[MUGAI_ID_LEN + 1], other[MUGAI_ID_LEN + 1], got[MUGAI_ID_LEN + 1];

	(void)state;
	open_store(&t);
	put(&t, old, QSTORE_PPAP_PENDING, "sato@x.example", "佐藤 <sato@x.example>", "clerk@c.lg.jp",
	    7200, true);                                   /* outside the window */
	put(&t, a, QSTORE_PPAP_PENDING, "sato@x.example", "佐藤 <sato@x.example>", "clerk@c.lg.jp",
	    120, true);
	put(&t, b, QSTORE_PPAP_PENDING, "bounce-123@x.example", "佐藤 <sato@x.example>",
	    "Clerk@C.lg.jp", 60, true);                    /* newer; only the From matches */
	put(&t, undel, QSTORE_PPAP_PENDING, "sato@x.example", "", "clerk@c.lg.jp", 30, false);
	put(&t, other, "sanitized", "sato@x.example", "", "clerk@c.lg.jp", 10, true);

	next(&t, 0, "SATO@X.EXAMPLE", "佐藤 <sato@x.example>", "clerk@c.lg.jp", got);
	assert_string_equal(got, b);                       /* newest first */
	next(&t, 1, "SATO@X.EXAMPLE", "佐藤 <sato@x.example>", "clerk@c.lg.jp", got);
	assert_string_equal(got, a);
	next(&t, 2, "SATO@X.EXAMPLE", "佐藤 <sato@x.example>", "clerk@c.lg.jp", got);
	assert_string_equal(got, "");                      /* old, undelivered, not PPAP */
	next(&t, 0, "sato@x.example", "", "CLERK@c.lg.jp", got);
	assert_string_equal(got, a);                       /* envelope only */
	next(&t, 0, "mallory@evil.example", "", "clerk@c.lg.jp", got);
	assert_string_equal(got, "");                      /* another sender */
	next(&t, 0, "mallory@evil.example", "佐藤 <sato@x.example>", "clerk@c.lg.jp", got);
	assert_string_equal(got, b);                       /* the same From (documented) */
	next(&t, 0, "", "", "clerk@c.lg.jp", got);
	assert_string_equal(got, "");                      /* a null sender matches nothing */
	next(&t, 0, "sato@x.example", "", "someone@c.lg.jp", got);
	assert_string_equal(got, "");                      /* no shared recipient */
	close_store(&t);
}

static bool audited(tdir_t *t, const char *action, const char *id, const char *detail);

typedef struct find {
	const char *action, *id, *detail;
	int hits;
} find_t;

static int find_cb(const audit_rec_t *r, void *arg)
{
	find_t *f = arg;

	if (strcmp(r->action, f->action) == 0 && strcmp(r->object, f->id) == 0 &&
	    strstr(r->details, f->detail))
		f->hits++;
	return 0;
}

static bool audited(tdir_t *t, const char *action, const char *id, const char *detail)
{
	find_t f = { action, id, detail, 0 };

	assert_int_equal(audit_scan(t->s, 1, NULL, find_cb, &f), 0);
	return f.hits == 1;
}

static const char *verdict_of(tdir_t *t, const char *id, char *buf, size_t n)
{
	qstore_item_t it;

	assert_int_equal(qstore_show(t->s, "tester", id, &it), 0);
	snprintf(buf, n, "%s", it.verdict);
	qstore_item_free(&it);
	return buf;
}

static void steps_and_stale(void **state)
{
	tdir_t t;
	char p[MUGAI_ID_LEN + 1], q[MUGAI_ID_LEN + 1], v[64];
	qstore_item_t it;

	(void)state;
	open_store(&t);
	put(&t, p, QSTORE_PPAP_PENDING, "s@x.example", "", "c@c.lg.jp", 4000, true);
	put(&t, q, QSTORE_PPAP_PENDING, "s@x.example", "", "c@c.lg.jp", 10, true);
	/* stale: only the one past the window */
	assert_int_equal(qstore_ppap_stale(t.s, (int64_t)time(NULL) - 3600, &it), 1);
	assert_string_equal(it.id, p);
	qstore_item_free(&it);
	assert_int_equal(qstore_ppap_mark(t.s, "mugaid", p, "ppap.expired", "{}"), 0);
	assert_string_equal(verdict_of(&t, p, v, sizeof(v)), QSTORE_PPAP_EXPIRED);
	assert_int_equal(qstore_ppap_stale(t.s, (int64_t)time(NULL) - 3600, &it), 0);
	qstore_item_free(&it);
	/* expired again: refused; failed keeps expired; paired from expired */
	assert_int_equal(qstore_ppap_mark(t.s, "mugaid", p, "ppap.expired", "{}"), -1);
	assert_int_equal(qstore_errcode(t.s), QS_ERR_STATE);
	assert_int_equal(qstore_ppap_mark(t.s, "admin", p, "ppap.failed", "{\"typed_by\":\"admin\"}"), 0);
	assert_string_equal(verdict_of(&t, p, v, sizeof(v)), QSTORE_PPAP_EXPIRED);
	assert_int_equal(qstore_ppap_mark(t.s, "admin", p, "ppap.paired", "{\"opened\":1}"), 0);
	assert_string_equal(verdict_of(&t, p, v, sizeof(v)), QSTORE_PPAP_PAIRED);
	assert_int_equal(qstore_ppap_mark(t.s, "admin", p, "ppap.paired", "{}"), -1);
	assert_int_equal(qstore_errcode(t.s), QS_ERR_STATE);
	/* pending → paired; unknown steps and bad details refused */
	assert_int_equal(qstore_ppap_mark(t.s, "mugaid", q, "ppap.paired",
					  "{\"password_message\":\"20261130-235811-0e6dd245\"}"), 0);
	assert_int_equal(qstore_ppap_mark(t.s, "mugaid", q, "ppap.open", "{}"), -1);
	assert_int_equal(qstore_errcode(t.s), QS_ERR_INVAL);
	assert_int_equal(qstore_ppap_mark(t.s, "mugaid", q, "ppap.failed", "[1]"), -1);
	assert_int_equal(qstore_errcode(t.s), QS_ERR_INVAL);
	assert_true(audited(&t, "ppap.expired", p, "{}"));
	assert_true(audited(&t, "ppap.failed", p, "typed_by"));
	assert_true(audited(&t, "ppap.paired", p, "\"opened\":1"));
	assert_true(audited(&t, "ppap.paired", q, "20261130-235811-0e6dd245"));
	close_store(&t);
}

int main(void)
{
	const struct CMUnitTest t[] = {
		cmocka_unit_test(matching), cmocka_unit_test(steps_and_stale),
	};

	return cmocka_run_group_tests_name("ppapstore", t, NULL, NULL);
}
