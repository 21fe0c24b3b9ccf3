/* test_store.c — the quarantine store API on real SQLite files in temp dirs:
 * put/get round trip, group commit, duplicate and invalid input, release
 * rules, retention, blob helpers; the store process's records (storewire)
 * and the strict JSON checker, table-driven. */
#include "testutil.h"

#include <sys/stat.h>
#include <time.h>

#include "common/config.h"
#include "store/audit.h"
#include "store/blob.h"
#include "common/json.h"
#include "store/jsoncheck.h"
#include "store/qstore.h"
#include "store/storewire.h"

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

/* The store process's batch: a failing request is undone alone, the others
 * commit together; a batch ended without commit leaves nothing. */
static void batch_undoes_only_the_failing_request(void **state)
{
	tdir_t t;
	qstore_meta_t m[4];
	qstore_item_t it;
	int64_t seq = 0;
	char hash[65];
	buf_t out;

	(void)state;
	open_store(&t);
	for (int i = 0; i < 4; i++)
		meta_new(&m[i]);
	memcpy(m[1].id, m[0].id, sizeof(m[1].id)); /* a duplicate id */
	buf_init(&out, 1 << 20);
	assert_int_equal(qstore_batch_begin(t.s), 0);
	assert_int_equal(qstore_batch_begin(t.s), -1); /* not nested */
	assert_int_equal(qstore_put(t.s, &m[0], "first", 5, NULL), 0);
	assert_int_equal(qstore_put(t.s, &m[1], "DUPLICATE", 9, NULL), -1);
	assert_int_equal(qstore_errcode(t.s), QS_ERR_EXISTS);
	assert_int_equal(audit_append(t.s, "t", "test.note", "x", NULL), 0);
	assert_int_equal(qstore_put(t.s, &m[2], "third", 5, NULL), 0);
	assert_int_equal(qstore_batch_end(t.s, true), 0);
	assert_int_equal(audit_head(t.s, &seq, hash), 0);
	assert_int_equal(seq, 3); /* put, note, put: the failed put left no record */
	assert_int_equal(qstore_get(t.s, "t", m[0].id, &it, &out), 0);
	assert_int_equal(out.len, 5);
	assert_memory_equal(out.data, "first", 5);
	qstore_item_free(&it);
	assert_int_equal(qstore_get(t.s, "t", m[2].id, &it, &out), 0);
	assert_memory_equal(out.data, "third", 5);
	qstore_item_free(&it);
	assert_int_equal(qstore_batch_begin(t.s), 0);
	assert_int_equal(qstore_put(t.s, &m[3], "undone", 6, NULL), 0);
	assert_int_equal(qstore_batch_end(t.s, false), 0);
	assert_int_equal(qstore_show(t.s, "t", m[3].id, &it), -1);
	assert_int_equal(qstore_errcode(t.s), QS_ERR_NOTFOUND);
	assert_int_equal(qstore_batch_end(t.s, true), -1); /* none open */
	buf_free(&out);
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

static qaccount_t mkacct(const char *name, const char *role, const char *dept, const char *addrs)
{
	return (qaccount_t){ .name = (char *)name, .role = (char *)role, .dept = (char *)dept,
			     .addrs = (char *)addrs, .pwhash = "$argon2id$x", .totp = "ABCDEF" };
}

/* Whom a request is told of: the department's active approvers with an
 * address, else the active admins with one; never the requester. */
static void notify_addrs_by_department(void **state)
{
	const struct { const char *name, *role, *dept, *addrs; bool off; } a[] = {
		{ "taro", "clerk", "soumu", "taro@x.jp", false },
		{ "kacho", "approver", "soumu", "k1@x.jp,k2@x.jp", false },
		{ "kacho2", "approver", "soumu", "k2@x.jp", false },
		{ "old", "approver", "soumu", "old@x.jp", true },
		{ "jinji", "approver", "jinji", "j@x.jp", false },
		{ "kanri", "admin", "", "admin@x.jp", false },
		{ "hanako", "clerk", "kaikei", "h@x.jp", false },
		{ "boss", "approver", "kaikei", "", false },
	};
	tdir_t t;
	buf_t out;

	(void)state;
	open_store(&t);
	for (size_t i = 0; i < sizeof(a) / sizeof(a[0]); i++) {
		qaccount_t x = mkacct(a[i].name, a[i].role, a[i].dept, a[i].addrs);

		assert_int_equal(qstore_account_add(t.s, "os:test", &x, NULL), 0);
		if (a[i].off)
			assert_int_equal(qstore_account_disable(t.s, "os:test", a[i].name, true, NULL), 0);
	}
	buf_init(&out, OUTBOX_RCPT_MAX + 1);
	assert_int_equal(qstore_notify_addrs(t.s, "taro", &out), 0);
	assert_string_equal(out.data, "k1@x.jp,k2@x.jp");
	assert_int_equal(qstore_notify_addrs(t.s, "hanako", &out), 0); /* approver without address */
	assert_string_equal(out.data, "admin@x.jp");
	assert_int_equal(qstore_notify_addrs(t.s, "kanri", &out), 0);  /* no dept, and never oneself */
	assert_string_equal(out.data, "");
	buf_free(&out);
	close_store(&t);
}

/* The outbox: queued with the request in one transaction, handed out in
 * order after a given row, marked sent once (audited), checked on entry. */
static void outbox_queue_next_done(void **state)
{
	const char msg[] = "From: a\r\n\r\nnotice\r\n";
	qstore_mailout_t out = { QSTORE_OUT_NOTICE, "k1@x.jp,K2@X.jp", msg, sizeof(msg) - 1 };
	qstore_meta_t m, m2;
	qstore_outbox_t ob;
	tdir_t t;
	buf_t body;

	(void)state;
	open_store(&t);
	meta_new(&m);
	meta_new(&m2);
	buf_init(&body, 1 << 20);
	assert_int_equal(qstore_put(t.s, &m, "orig", 4, NULL), 0);
	assert_int_equal(qstore_put(t.s, &m2, "orig", 4, NULL), 0);
	/* refused before anything is recorded: bad list, unknown kind, no message */
	out.rcpt = "k1@x.jp,";
	assert_int_equal(qstore_request_notify(t.s, m.id, "console:taro", "r", "sanitized", "", &out), -1);
	assert_int_equal(qstore_errcode(t.s), QS_ERR_INVAL);
	out.rcpt = "k1@x.jp,K2@X.jp";
	out.kind = "spam";
	assert_int_equal(qstore_request_notify(t.s, m.id, "console:taro", "r", "sanitized", "", &out), -1);
	out.kind = QSTORE_OUT_NOTICE;
	out.len = 0;
	assert_int_equal(qstore_request_notify(t.s, m.id, "console:taro", "r", "sanitized", "", &out), -1);
	out.len = sizeof(msg) - 1;
	assert_int_equal(qstore_outbox_next(t.s, 0, &ob, &body), 0);
	/* queued with the request; nobody to tell: no row */
	assert_int_equal(qstore_request_notify(t.s, m.id, "console:taro", "r", "sanitized", "", &out), 0);
	assert_int_equal(qstore_request_notify(t.s, m2.id, "console:taro", "r", "original", "",
					       &(qstore_mailout_t){ QSTORE_OUT_NOTICE, "", NULL, 0 }), 0);
	assert_int_equal(qstore_outbox_next(t.s, 0, &ob, &body), 1);
	assert_string_equal(ob.id, m.id);
	assert_string_equal(ob.kind, "approver-notice");
	assert_string_equal(ob.rcpt, "k1@x.jp,K2@X.jp");
	assert_int_equal(body.len, sizeof(msg) - 1);
	assert_memory_equal(body.data, msg, body.len);
	assert_int_equal(qstore_outbox_next(t.s, ob.seq, &ob, &body), 0); /* none after it */
	assert_int_equal(qstore_outbox_next(t.s, 0, &ob, &body), 1);
	assert_int_equal(qstore_outbox_done(t.s, "mugaid", ob.seq, "{\"kind\":\"approver-notice\"}"), 0);
	assert_int_equal(qstore_outbox_done(t.s, "mugaid", ob.seq, "{}"), -1);
	assert_int_equal(qstore_errcode(t.s), QS_ERR_STATE);
	assert_int_equal(qstore_outbox_done(t.s, "mugaid", ob.seq, "[]"), -1);
	assert_int_equal(qstore_errcode(t.s), QS_ERR_INVAL);
	qstore_outbox_free(&ob);
	assert_int_equal(qstore_outbox_next(t.s, 0, &ob, &body), 0);
	buf_free(&body);
	close_store(&t);
}

/* Retention: the outbox rows of an expired message go with its data. */
static void outbox_rows_expire_with_their_message(void **state)
{
	const char msg[] = "From: a\r\n\r\nnotice\r\n";
	qstore_meta_t m;
	qstore_outbox_t ob;
	tdir_t t;
	buf_t body;
	long n = 0, nb = 0;

	(void)state;
	open_store(&t);
	meta_new(&m);
	m.received = (int64_t)time(NULL) - 100 * 86400;
	buf_init(&body, 1 << 20);
	assert_int_equal(qstore_put(t.s, &m, "orig", 4, NULL), 0);
	assert_int_equal(qstore_request_notify(t.s, m.id, "console:taro", "r", "sanitized", "",
					       &(qstore_mailout_t){ QSTORE_OUT_NOTICE, "k@x.jp", msg,
								    sizeof(msg) - 1 }), 0);
	assert_int_equal(qstore_outbox_next(t.s, 0, &ob, &body), 1);
	qstore_outbox_free(&ob);
	assert_int_equal(qstore_purge(t.s, "os:test", 90, &n, &nb), 0);
	assert_int_equal(n, 1);
	assert_int_equal(qstore_outbox_next(t.s, 0, &ob, &body), 0);
	buf_free(&body);
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


/* ---- the strict JSON checker ---- */

static void json_checker_table(void **state)
{
	static const struct { const char *in; bool want; } t[] = {
		{ "{}", true },
		{ " { \"a\" : [1, -2.5e+3, true, false, null, \"x\", {}] } ", true },
		{ "{\"s\":\"\\u00e9\\ud83d\\ude00\\n\\\"\"}", true },
		{ "{\"日本\":\"語①\"}", true },
		{ "{\"a\":{\"a\":1,\"a\":2}}", true },   /* duplicates below the top: allowed */
		{ "", false }, { "[]", false }, { "\"x\"", false }, { "{", false },
		{ "{}{}", false }, { "{} x", false }, { "{\"a\":1,}", false }, { "{\"a\"}", false },
		{ "{\"a\":01}", false }, { "{\"a\":1.}", false }, { "{\"a\":.5}", false },
		{ "{\"a\":-}", false }, { "{\"a\":tru}", false }, { "{\"a\":[1,]}", false },
		{ "{\"a\":\"\\x\"}", false }, { "{\"a\":\"\\ud800\"}", false },
		{ "{\"a\":\"\\udc00\"}", false }, { "{\"a\":\"\x01\"}", false },
		{ "{\"a\":\"\xff\"}", false }, { "{a:1}", false }, { "{'a':1}", false },
		/* the crafted report: a second "verdict" a reader might take */
		{ "{\"verdict\":\"quarantined\",\"items\":[],\"verdict\":\"clean\"}", false },
	};
	(void)state;
	for (size_t i = 0; i < MUGAI_ARRAY_LEN(t); i++) {
		bool got = jsoncheck_object(t[i].in, strlen(t[i].in), 1024);

		if (got != t[i].want)
			fail_msg("jsoncheck(%s): got %d want %d", t[i].in, got, t[i].want);
	}
	assert_false(jsoncheck_object("{\"a\":1}", 7, 6));  /* over max */
	assert_true(jsoncheck_object("{\"a\":1}", 7, 7));
	/* nesting: the object and JSON_DEPTH_MAX - 1 arrays pass, one more does not */
	for (int extra = 0; extra < 2; extra++) {
		char deep[2 * JSON_DEPTH_MAX + 16];
		int k = 0, n = JSON_DEPTH_MAX - 1 + extra;

		k += snprintf(deep, sizeof(deep), "{\"a\":");
		for (int i = 0; i < n; i++)
			deep[k++] = '[';
		for (int i = 0; i < n; i++)
			deep[k++] = ']';
		deep[k++] = '}';
		assert_int_equal(jsoncheck_object(deep, (size_t)k, sizeof(deep)), !extra);
	}
}

/* ---- storewire ---- */

static const sw_caps_t caps = { 4, 4096, 1024 };

static void put_req(sw_req_t *q, const char **rcpt)
{
	memset(q, 0, sizeof(*q));
	q->type = SW_PUT;
	q->id = "20261130-201500-0a1b2c3d";
	q->received = 1764533700;
	q->env_from = "sender@example.com";
	q->rcpt = rcpt;
	q->n_rcpt = 2;
	q->hdr_from = "差出人 <sender@example.com>";
	q->subject = "件名①";
	q->verdict = "sanitized";
	q->queue_id = "4ABCDEF";
	q->details = "{\"verdict\":\"sanitized\"}";
	q->report = "{\"verdict\":\"sanitized\",\"items\":[]}";
	q->orig_len = 1234;
}

static void storewire_round_trip(void **state)
{
	const char *rcpt[] = { "a@lg.example.jp", "b@lg.example.jp" };
	sw_req_t q, r;
	sw_ans_t a, b;
	buf_t w;

	(void)state;
	buf_init(&w, 1 << 20);
	put_req(&q, rcpt);
	assert_int_equal(storewire_encode_req(&w, &q), 0);
	assert_int_equal(storewire_frame_len(w.data, storewire_frame_max(&caps)), w.len);
	assert_int_equal(storewire_decode_req(w.data, w.len, &caps, &r), 0);
	assert_int_equal(r.type, SW_PUT);
	assert_string_equal(r.id, q.id);
	assert_int_equal(r.received, q.received);
	assert_int_equal(r.n_rcpt, 2);
	assert_string_equal(r.rcpt[1], "b@lg.example.jp");
	assert_string_equal(r.subject, "件名①");
	assert_string_equal(r.report, q.report);
	assert_int_equal(r.orig_len, 1234);
	storewire_req_free(&r);

	buf_reset(&w);
	a = (sw_ans_t){ .type = SW_OK, .id = q.id, .seq = 42, .item = true, .env_from = "",
			.rcpt = "a@x,b@y", .approved_by = "admin", .kind = "sanitized",
			.approved_at = "2026-12-01T03:15:00.000Z", .subject = "見積書", .orig_len = 7 };
	assert_int_equal(storewire_encode_ans(&w, &a), 0);
	assert_int_equal(storewire_decode_ans(w.data, w.len, &b), 0);
	assert_true(b.item);
	assert_int_equal(b.seq, 42);
	assert_string_equal(b.rcpt, "a@x,b@y");
	assert_string_equal(b.approved_by, "admin");
	assert_string_equal(b.kind, "sanitized");
	assert_string_equal(b.approved_at, "2026-12-01T03:15:00.000Z");
	assert_string_equal(b.subject, "見積書");
	assert_int_equal(b.orig_len, 7);
	/* RELEASE_DONE carries what was delivered */
	buf_reset(&w);
	q = (sw_req_t){ .type = SW_RELEASE_DONE, .id = a.id,
			.details = "{\"kind\":\"sanitized\",\"verdict\":\"quarantined\"}" };
	assert_int_equal(storewire_encode_req(&w, &q), 0);
	assert_int_equal(storewire_decode_req(w.data, w.len, &caps, &r), 0);
	assert_string_equal(r.id, a.id);
	assert_string_equal(r.details, q.details);
	storewire_req_free(&r);
	/* OUTBOX_NEXT after a row; OUTBOX_DONE of a row (never row 0) */
	buf_reset(&w);
	q = (sw_req_t){ .type = SW_OUTBOX_NEXT, .row = 7 };
	assert_int_equal(storewire_encode_req(&w, &q), 0);
	assert_int_equal(storewire_decode_req(w.data, w.len, &caps, &r), 0);
	assert_int_equal(r.type, SW_OUTBOX_NEXT);
	assert_int_equal(r.row, 7);
	storewire_req_free(&r);
	buf_reset(&w);
	q = (sw_req_t){ .type = SW_OUTBOX_DONE, .row = 8,
			.details = "{\"kind\":\"ppap-followup\",\"to\":[\"a@x\"]}" };
	assert_int_equal(storewire_encode_req(&w, &q), 0);
	assert_int_equal(storewire_decode_req(w.data, w.len, &caps, &r), 0);
	assert_int_equal(r.row, 8);
	assert_string_equal(r.details, q.details);
	storewire_req_free(&r);
	buf_reset(&w);
	q.row = 0;
	assert_int_equal(storewire_encode_req(&w, &q), 0);
	assert_int_equal(storewire_decode_req(w.data, w.len, &caps, &r), -1);
	buf_reset(&w);
	q = (sw_req_t){ .type = SW_OUTBOX_DONE, .row = 8, .details = "[]" };
	assert_int_equal(storewire_encode_req(&w, &q), 0);
	assert_int_equal(storewire_decode_req(w.data, w.len, &caps, &r), -1);
	buf_reset(&w);
	a = (sw_ans_t){ .type = SW_ERR, .cls = SW_E_FULL, .msg = "disk full" };
	assert_int_equal(storewire_encode_ans(&w, &a), 0);
	assert_int_equal(storewire_decode_ans(w.data, w.len, &b), 0);
	assert_int_equal(b.cls, SW_E_FULL);
	assert_string_equal(b.msg, "disk full");
	assert_string_equal(storewire_class_name(b.cls), "full");
	buf_free(&w);
}

/* Encode a PUT changed by f, and want decode to refuse it. */
static void refused(void (*f)(sw_req_t *q), const char *what)
{
	const char *rcpt[] = { "a@lg.example.jp", "b@lg.example.jp" };
	sw_req_t q, r;
	buf_t w;

	buf_init(&w, 1 << 20);
	put_req(&q, rcpt);
	f(&q);
	if (storewire_encode_req(&w, &q) == 0 &&
	    storewire_decode_req(w.data, w.len, &caps, &r) == 0)
		fail_msg("storewire accepted %s", what);
	buf_free(&w);
}

static void bad_id(sw_req_t *q) { q->id = "../../etc/passwd"; }
static void bad_subject(sw_req_t *q) { q->subject = "a\r\nBcc: x"; }
static void bad_utf8(sw_req_t *q) { q->hdr_from = "\xc3\x28"; }
static void bad_report(sw_req_t *q) { q->report = "{\"verdict\":\"x\",\"verdict\":\"clean\"}"; }
static void big_report(sw_req_t *q) { static char b[5000]; memset(b, ' ', sizeof(b) - 3);
	b[0] = '{'; b[sizeof(b) - 2] = '}'; q->report = b; }
static void bad_details(sw_req_t *q) { q->details = "[]"; }
static void comma_rcpt(sw_req_t *q) { static const char *r[] = { "a@x,b@y" }; q->rcpt = r; q->n_rcpt = 1; }
static void no_rcpt(sw_req_t *q) { q->n_rcpt = 0; }
static void many_rcpt(sw_req_t *q) { static const char *r[5] = { "a@x", "b@x", "c@x", "d@x", "e@x" };
	q->rcpt = r; q->n_rcpt = 5; }
static void no_time(sw_req_t *q) { q->received = 0; }
static void no_verdict(sw_req_t *q) { q->verdict = ""; }

static void storewire_refuses(void **state)
{
	const char *rcpt[] = { "a@lg.example.jp", "b@lg.example.jp" };
	sw_req_t q, r;
	buf_t w;
	uint32_t v;

	(void)state;
	refused(bad_id, "a bad id");
	refused(bad_subject, "a CR LF in the subject");
	refused(bad_utf8, "invalid UTF-8");
	refused(bad_report, "a report with a second verdict");
	refused(big_report, "a report over report_size_max");
	refused(bad_details, "details that are not an object");
	refused(comma_rcpt, "a comma in a recipient");
	refused(no_rcpt, "no recipient");
	refused(many_rcpt, "more recipients than smtp_recipients_max");
	refused(no_time, "a zero time");
	refused(no_verdict, "an empty verdict");

	buf_init(&w, 1 << 20);
	put_req(&q, rcpt);
	assert_int_equal(storewire_encode_req(&w, &q), 0);
	/* every truncation, and one byte more, is refused */
	for (size_t n = 0; n < w.len; n++)
		assert_int_equal(storewire_decode_req(w.data, n, &caps, &r), -1);
	assert_int_equal(buf_append(&w, "", 1), 0);
	assert_int_equal(storewire_decode_req(w.data, w.len, &caps, &r), -1);
	w.len--;
	/* a NUL inside a string (the id's 5th byte) */
	w.data[SW_HDR_LEN + 4 + 4] = '\0';
	assert_int_equal(storewire_decode_req(w.data, w.len, &caps, &r), -1);
	/* wrong magic, unknown type, an answer type as a request */
	buf_reset(&w);
	assert_int_equal(storewire_encode_req(&w, &q), 0);
	w.data[0] ^= 1;
	assert_int_equal(storewire_decode_req(w.data, w.len, &caps, &r), -1);
	assert_int_equal(storewire_frame_len(w.data, 1 << 20), 0);
	w.data[0] ^= 1;
	v = 99;
	memcpy(w.data + 4, &v, 4);
	assert_int_equal(storewire_frame_len(w.data, 1 << 20), 0);
	v = SW_OK;
	memcpy(w.data + 4, &v, 4);
	assert_int_equal(storewire_decode_req(w.data, w.len, &caps, &r), -1);
	/* a frame larger than the receiver's cap */
	assert_int_equal(storewire_frame_len(w.data, w.len - 1), 0);
	buf_free(&w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(put_get_round_trip),
		cmocka_unit_test(group_commit_is_all_or_nothing),
		cmocka_unit_test(batch_undoes_only_the_failing_request),
		cmocka_unit_test(invalid_input_is_refused),
		cmocka_unit_test(release_needs_a_second_person),
		cmocka_unit_test(notify_addrs_by_department),
		cmocka_unit_test(outbox_queue_next_done),
		cmocka_unit_test(outbox_rows_expire_with_their_message),
		cmocka_unit_test(purge_inside_retention_is_denied),
		cmocka_unit_test(blob_helpers),
		cmocka_unit_test(json_checker_table),
		cmocka_unit_test(storewire_round_trip),
		cmocka_unit_test(storewire_refuses),
	};

	return cmocka_run_group_tests_name("store", tests, NULL, NULL);
}
