/* test_store.c — the quarantine store API on real SQLite files in temp dirs:
 * put/get round trip, group commit, duplicate and invalid input, release
 * rules, retention, blob helpers. */
#include "testutil.h"

#include <sys/stat.h>
#include <time.h>

#include "common/config.h"
#include "store/audit.h"
#include "store/blob.h"
#include "store/qstore.h"

typedef struct tdir {
	char path[64];
	cfg_t cfg;
	qstore_t *s;
} tdir_t;

static const char *rcpt1[] = { "user@city.example.lg.jp" };

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

static void meta_new(qstore_meta_t *m)
{
	memset(m, 0, sizeof(*m));
	assert_int_equal(mugai_id_new(m->id), 0);
	m->received = (int64_t)time(NULL);
	m->flow = "inbound";
	m->env_from = "sender@example.com";
	m->rcpt = rcpt1;
	m->n_rcpt = 1;
	m->hdr_from = "差出人 <sender@example.com>";
	m->subject = "件名①";
	m->verdict = "withheld";
}

static void put_get_round_trip(void **state)
{
	tdir_t t;
	qstore_meta_t m;
	qstore_item_t it;
	char data[3000];
	buf_t out;

	(void)state;
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (char)(i * 7);
	open_store(&t);
	meta_new(&m);
	assert_int_equal(qstore_put(t.s, &m, data, sizeof(data), "{\"a\":1}"), 0);
	buf_init(&out, 1 << 20);
	assert_int_equal(qstore_get(t.s, "tester", m.id, &it, &out), 0);
	assert_int_equal(out.len, sizeof(data));
	assert_memory_equal(out.data, data, sizeof(data));
	assert_str_eq_msg(it.subject, "件名①");
	assert_str_eq_msg(it.report, "{\"a\":1}");
	assert_int_equal(it.status, QSTATUS_HELD);
	assert_true(it.audit_seq > 0);
	qstore_item_free(&it);
	/* the same id twice is refused */
	assert_int_equal(qstore_put(t.s, &m, "x", 1, NULL), -1);
	assert_int_equal(qstore_errcode(t.s), QS_ERR_EXISTS);
	buf_free(&out);
	close_store(&t);
}

static void group_commit_is_all_or_nothing(void **state)
{
	tdir_t t;
	qstore_meta_t m[4];
	const void *orig[2] = { "a", "b" };
	size_t len[2] = { 1, 1 };
	qstore_item_t it;

	(void)state;
	open_store(&t);
	for (int i = 0; i < 4; i++)
		meta_new(&m[i]);
	assert_int_equal(qstore_put_batch(t.s, 2, m, orig, len, NULL), 0);
	memcpy(m[3].id, m[0].id, sizeof(m[3].id)); /* m[2] new, m[3] a duplicate */
	assert_int_equal(qstore_put_batch(t.s, 2, m + 2, orig, len, NULL), -1);
	assert_int_equal(qstore_errcode(t.s), QS_ERR_EXISTS);
	assert_int_equal(qstore_show(t.s, "t", m[2].id, &it), -1);
	assert_int_equal(qstore_errcode(t.s), QS_ERR_NOTFOUND);
	assert_int_equal(qstore_show(t.s, "t", m[1].id, &it), 0);
	qstore_item_free(&it);
	close_store(&t);
}

static void invalid_input_is_refused(void **state)
{
	tdir_t t;
	qstore_meta_t m;

	(void)state;
	open_store(&t);
	meta_new(&m);
	m.subject = "bad \xff utf-8";
	assert_int_equal(qstore_put(t.s, &m, "x", 1, NULL), -1);
	assert_int_equal(qstore_errcode(t.s), QS_ERR_INVAL);
	meta_new(&m);
	assert_int_equal(qstore_put(t.s, &m, "x", 1, "not json"), -1);
	meta_new(&m);
	strcpy(m.id, "../../x");
	assert_int_equal(qstore_put(t.s, &m, "x", 1, NULL), -1);
	meta_new(&m);
	m.flow = "sideways";
	assert_int_equal(qstore_put(t.s, &m, "x", 1, NULL), -1);
	assert_int_equal(audit_append(t.s, "a", "b", "c", "{\"x\":\"\x01\"}"), -1);
	close_store(&t);
}

static void release_needs_a_second_person(void **state)
{
	tdir_t t;
	qstore_meta_t m;
	buf_t out;

	(void)state;
	open_store(&t);
	meta_new(&m);
	buf_init(&out, 1 << 20);
	assert_int_equal(qstore_put(t.s, &m, "orig", 4, NULL), 0);
	assert_int_equal(qstore_approve(t.s, m.id, "admin", false, &out), -1);
	assert_int_equal(qstore_errcode(t.s), QS_ERR_STATE);
	assert_int_equal(qstore_request(t.s, m.id, "alice", "please"), 0);
	assert_int_equal(qstore_approve(t.s, m.id, "alice", false, &out), -1);
	assert_int_equal(qstore_errcode(t.s), QS_ERR_DENIED);
	assert_int_equal(qstore_approve(t.s, m.id, "bob", false, &out), 0);
	assert_int_equal(out.len, 4);
	assert_memory_equal(out.data, "orig", 4);
	buf_free(&out);
	close_store(&t);
}

static void purge_inside_retention_is_denied(void **state)
{
	tdir_t t;
	long n, nb;
	audit_verdict_t v;

	(void)state;
	open_store(&t);
	assert_int_equal(qstore_purge(t.s, "admin", 89, &n, &nb), -1);
	assert_int_equal(qstore_errcode(t.s), QS_ERR_DENIED);
	assert_int_equal(qstore_purge(t.s, "admin", 90, &n, &nb), 0);
	assert_int_equal(n, 0);
	assert_int_equal(audit_verify(t.s, NULL, &v), 0);
	assert_int_equal(v.kind, AUDIT_INTACT);
	assert_int_equal(v.head_seq, 2); /* refusal + purge, both recorded */
	close_store(&t);
}

static void blob_helpers(void **state)
{
	char root[64], hex[65], path[200];
	bool bad, have;
	buf_t b;
	struct stat st;

	(void)state;
	snprintf(root, sizeof(root), "/tmp/mugai-ut-XXXXXX");
	assert_non_null(mkdtemp(root));
	assert_int_equal(blob_sha256("abc", 3, hex), 0);
	assert_str_eq_msg(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	assert_false(blob_hex_valid("BA7816"));
	assert_int_equal(blob_write(root, hex, "abc", 3), 0);
	snprintf(path, sizeof(path), "%s/ba/%s", root, hex);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	buf_init(&b, 100);
	assert_int_equal(blob_read(root, hex, 100, &b, &bad), 0);
	assert_false(bad);
	assert_int_equal(blob_remove(root, hex), 0);
	assert_int_equal(blob_exists(root, hex, &have), 0);
	assert_false(have);
	assert_int_equal(blob_read(root, hex, 100, &b, &bad), 0);
	assert_true(bad);
	buf_free(&b);
	snprintf(path, sizeof(path), "rm -rf '%s'", root);
	assert_int_equal(system(path), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(put_get_round_trip),
		cmocka_unit_test(group_commit_is_all_or_nothing),
		cmocka_unit_test(invalid_input_is_refused),
		cmocka_unit_test(release_needs_a_second_person),
		cmocka_unit_test(purge_inside_retention_is_denied),
		cmocka_unit_test(blob_helpers),
	};

	return cmocka_run_group_tests_name("store", tests, NULL, NULL);
}
