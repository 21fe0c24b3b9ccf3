/* test_audit.c — audit record hash (fixed vector computed independently by
 * tests/cli/audit_recompute.py), field checks, verification of a chain
 * written by concurrent processes, and tamper classification. */
#include "testutil.h"

#include <sqlite3.h>
#include <sys/wait.h>

#include "common/config.h"
#include "store/audit.h"
#include "store/qstore.h"

static void hash_matches_independent_vector(void **state)
{
	char h[65];

	(void)state;
	assert_int_equal(audit_rec_hash(1, "2026-01-01T00:00:00.000Z", "alice", "admin.test",
					"x", "{\"text\":\"日本語\"}", AUDIT_GENESIS, h), 0);
	assert_str_eq_msg(h, "eaf1b1c7c11e0926193b78a65bdfb2a564bfc1678aaffa995379de7e42a6c9eb");
}

static void hash_is_injective_over_field_boundaries(void **state)
{
	char a[65], b[65];

	(void)state;
	/* "ab"+"c" vs "a"+"bc": length prefixes keep these apart. */
	assert_int_equal(audit_rec_hash(2, "t", "ab", "c", "o", "{}", AUDIT_GENESIS, a), 0);
	assert_int_equal(audit_rec_hash(2, "t", "a", "bc", "o", "{}", AUDIT_GENESIS, b), 0);
	assert_string_not_equal(a, b);
}

static void fields_are_checked(void **state)
{
	(void)state;
	assert_int_equal(audit_fields_ok("a", "b", "c", "{}", 100), 0);
	assert_int_equal(audit_fields_ok("", "b", "c", "{}", 100), -1);
	assert_int_equal(audit_fields_ok("a\n", "b", "c", "{}", 100), -1);
	assert_int_equal(audit_fields_ok("a", "b", "c", "[]", 100), -1);
	assert_int_equal(audit_fields_ok("a", "b", "c", "{\"x\":\"\xff\"}", 100), -1);
	assert_int_equal(audit_fields_ok("a", "b", "c", "{\"x\":\"long\"}", 5), -1);
}

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

static void db_exec(tdir_t *t, const char *sql)
{
	char path[128];
	sqlite3 *db;

	snprintf(path, sizeof(path), "%s/mugai.db", t->path);
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
}

static void concurrent_appends_never_fork(void **state)
{
	tdir_t t;
	audit_verdict_t v;
	pid_t pids[4];

	(void)state;
	open_store(&t);
	for (int k = 0; k < 4; k++) {
		pids[k] = fork();
		assert_true(pids[k] >= 0);
		if (pids[k] == 0) {
			qstore_t *s;
			int bad = qstore_open(&s, &t.cfg) < 0;

			for (int i = 0; !bad && i < 25; i++)
				bad = audit_append(s, "child", "test.append", "x", NULL) < 0;
			qstore_close(s);
			_exit(bad);
		}
	}
	for (int k = 0; k < 4; k++) {
		int st;

		assert_int_equal(waitpid(pids[k], &st, 0), pids[k]);
		assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	}
	assert_int_equal(audit_verify(t.s, NULL, &v), 0);
	assert_int_equal(v.kind, AUDIT_INTACT);
	assert_int_equal(v.head_seq, 100);
	close_store(&t);
}

static void tamper_kinds_are_classified(void **state)
{
	static const struct { const char *sql; audit_break_t kind; int64_t seq; } cases[] = {
		{ "UPDATE audit SET object='y' WHERE seq=3", AUDIT_CHANGED, 3 },
		{ "UPDATE audit SET prev_hash=hash WHERE seq=4", AUDIT_CHANGED, 4 },
		{ "DELETE FROM audit WHERE seq=2", AUDIT_MISSING, 2 },
		{ "DELETE FROM audit WHERE seq=1", AUDIT_MISSING, 1 },
		{ "UPDATE audit SET seq=100 WHERE seq=5; UPDATE audit SET seq=5 WHERE seq=6;"
		  "UPDATE audit SET seq=6 WHERE seq=100", AUDIT_REORDERED, 5 },
	};

	(void)state;
	for (size_t c = 0; c < MUGAI_ARRAY_LEN(cases); c++) {
		tdir_t t;
		audit_verdict_t v;

		open_store(&t);
		for (int i = 0; i < 8; i++)
			assert_int_equal(audit_append(t.s, "u", "test.append", "x", "{\"i\":1}"), 0);
		db_exec(&t, cases[c].sql);
		assert_int_equal(audit_verify(t.s, NULL, &v), 0);
		if (v.kind != cases[c].kind || v.seq != cases[c].seq)
			print_error("case %zu: got %s at %lld (%s)\n", c, audit_break_name(v.kind),
				    (long long)v.seq, v.what);
		assert_int_equal(v.kind, cases[c].kind);
		assert_int_equal(v.seq, cases[c].seq);
		close_store(&t);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(hash_matches_independent_vector),
		cmocka_unit_test(hash_is_injective_over_field_boundaries),
		cmocka_unit_test(fields_are_checked),
		cmocka_unit_test(concurrent_appends_never_fork),
		cmocka_unit_test(tamper_kinds_are_classified),
	};

	return cmocka_run_group_tests_name("audit", tests, NULL, NULL);
}
