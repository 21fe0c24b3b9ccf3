/*
 * test_conv.c — the legacy conversion answer record (mail/conv.h): what the
 * parent encodes the worker decodes unchanged; what is malformed is refused;
 * and conv_run refuses requests past legacy_message_max.
 */
#include "testutil.h"

#include "common/config.h"
#include "mail/conv.h"

static void answers(conv_set_t *s)
{
	conv_set_init(s);
	s->answered = true;
	assert_int_equal(conv_add(s, "doc", "%PDF-1.4 x", 10, 1024, NULL), 0);
	assert_int_equal(conv_add(s, "xls", NULL, 0, 1024, "limit:legacy_time_max: legacy Excel (.xls)"), 0);
	assert_int_equal(conv_add(s, "odf", "%PDF-1.7 y", 10, 1024, ""), 0);
	for (size_t i = 0; i < s->n; i++)
		assert_int_equal(conv_sum(&i, sizeof(i), s->items[i].sum), 0);
}

static void test_round_trip(void **st)
{
	conv_set_t a, b;
	buf_t rec;

	(void)st;
	answers(&a);
	buf_init(&rec, 1 << 20);
	assert_int_equal(conv_encode(&a, &rec), 0);
	assert_int_equal(conv_decode(rec.data, rec.len, 1024, &b), 0);
	assert_true(b.answered);
	assert_int_equal(b.n, 3);
	for (size_t i = 0; i < 3; i++) {
		assert_str_eq_msg(b.items[i].type, a.items[i].type);
		assert_str_eq_msg(b.items[i].reason, a.items[i].reason);
		assert_str_eq_msg(b.items[i].sum, a.items[i].sum);
		assert_int_equal(b.items[i].data.len, a.items[i].data.len);
		assert_memory_equal(b.items[i].data.data ? b.items[i].data.data : "",
				    a.items[i].data.data ? a.items[i].data.data : "", a.items[i].data.len);
	}
	conv_set_free(&b);
	/* every truncation is refused */
	for (size_t n = 0; n < rec.len; n++)
		assert_int_equal(conv_decode(rec.data, n, 1024, &b), -1);
	/* a PDF larger than the cap the worker gives is refused */
	assert_int_equal(conv_decode(rec.data, rec.len, 9, &b), -1);
	buf_free(&rec);
	conv_set_free(&a);
}

/* One item, hand-made: type, reason, sum, data. */
static int one_sum(const char *type, const char *reason, const char *sum, const char *data,
		   size_t dlen)
{
	conv_set_t s;
	buf_t rec;
	uint32_t v;
	uint64_t n = dlen;
	int rc;

	buf_init(&rec, 4096);
	v = 0x3243474dU;
	assert_int_equal(buf_append(&rec, &v, 4), 0);
	v = 1;
	assert_int_equal(buf_append(&rec, &v, 4), 0);
	v = (uint32_t)strlen(type);
	assert_int_equal(buf_append(&rec, &v, 4), 0);
	assert_int_equal(buf_append(&rec, type, v), 0);
	v = (uint32_t)strlen(reason);
	assert_int_equal(buf_append(&rec, &v, 4), 0);
	assert_int_equal(buf_append(&rec, reason, v), 0);
	v = (uint32_t)strlen(sum);
	assert_int_equal(buf_append(&rec, &v, 4), 0);
	assert_int_equal(buf_append(&rec, sum, v), 0);
	assert_int_equal(buf_append(&rec, &n, 8), 0);
	assert_int_equal(buf_append(&rec, data, dlen), 0);
	rc = conv_decode(rec.data, rec.len, 1024, &s);
	conv_set_free(&s);
	buf_free(&rec);
	return rc;
}

#define SUM "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

static int one(const char *type, const char *reason, const char *data, size_t dlen)
{
	return one_sum(type, reason, SUM, data, dlen);
}

static void test_malformed_refused(void **st)
{
	char sum[65];

	(void)st;
	assert_int_equal(conv_sum("", 0, sum), 0);
	assert_str_eq_msg(sum, SUM); /* SHA-256 of nothing */
	assert_int_equal(one_sum("doc", "", "", "%PDF-", 5), -1);             /* no sum */
	assert_int_equal(one_sum("doc", "", SUM + 1, "%PDF-", 5), -1);        /* short */
	assert_int_equal(one_sum("doc", "", "E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855",
				 "%PDF-", 5), -1);                            /* not lower hex */
	assert_int_equal(one("doc", "", "%PDF-", 5), 0);
	assert_int_equal(one("doc", "legacy-conversion-failed: x", "", 0), 0);
	assert_int_equal(one("exe", "", "%PDF-", 5), -1);            /* not a legacy type */
	assert_int_equal(one("doc", "", "", 0), -1);                 /* neither PDF nor reason */
	assert_int_equal(one("doc", "why", "%PDF-", 5), -1);         /* both */
	assert_int_equal(one("doc", "a\nb", "", 0), -1);             /* a control in the reason */
	assert_int_equal(one("d\x01c", "r", "", 0), -1);             /* a control in the type */
}

static void test_run_refuses_past_the_limit(void **st)
{
	conv_set_t req, ans;
	cfg_t c;
	char err[256];

	(void)st;
	assert_int_equal(cfg_init(&c), 0);
	assert_int_equal(cfg_set(&c, "legacy_message_max", "1", err, sizeof(err)), 0);
	assert_int_equal(cfg_set(&c, "legacy_bwrap", "/nonexistent/bwrap", err, sizeof(err)), 0);
	conv_set_init(&req);
	assert_int_equal(conv_add(&req, "doc", "x", 1, 16, NULL), 0);
	assert_int_equal(conv_run(&c, &req, &ans), 0);
	assert_int_equal(ans.n, 1);
	assert_str_eq_msg(ans.items[0].reason, "legacy-jail-unavailable: legacy Word (.doc): "
			  "bubblewrap (/nonexistent/bwrap) is not installed");
	/* the answer names the bytes it was made from: SHA-256 of "x" */
	assert_str_eq_msg(ans.items[0].sum,
			  "2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881");
	conv_set_free(&ans);
	assert_int_equal(conv_add(&req, "xls", "y", 1, 16, NULL), 0);
	assert_int_equal(conv_run(&c, &req, &ans), -1); /* the worker asked for more: a lie */
	conv_set_free(&ans);
	conv_set_free(&req);
	cfg_free(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_malformed_refused),
		cmocka_unit_test(test_run_refuses_past_the_limit),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
