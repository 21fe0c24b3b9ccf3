/* test_console.c — the console's pure parts, table-driven: the form decoder
 * (form_get), the Cookie header (form_cookie), the HTML writer (page.c:
 * escaping, invalid UTF-8, controls, JST time) and the report reader
 * (rjson_each), the JSON API's input (rjson_get_str) and the query values of
 * the reports and the search (form_date_jst, form_page, form_text_ok), and
 * the address list of the user form (qstore_account_addrs_parse). */
#include "testutil.h"

#include "common/limits.h"
#include "console/form.h"
#include "console/page.h"
#include "console/rjson.h"
#include "store/qstore.h"

static void form_fields(void **state)
{
	static const struct { const char *body, *key; int rc; const char *want; } t[] = {
		{ "a=1&b=2", "b", 1, "2" },
		{ "a=1&b=2", "c", 0, "" },
		{ "reason=%E5%BF%85%E8%A6%81+%3Cb%3E", "reason", 1, "必要 <b>" },
		{ "a%3Db=x", "a=b", 1, "x" },            /* names are decoded too */
		{ "flag&x=1", "flag", 1, "" },           /* no '=': empty value */
		{ "a=1&a=2", "a", -1, "" },               /* a repeated field is ambiguous */
		{ "a=%4", "a", -1, "" }, { "a=%zz", "a", -1, "" }, { "a=%", "a", -1, "" },
		{ "a=%ff", "a", -1, "" },                 /* not UTF-8 */
		{ "a=%00", "a", -1, "" }, { "a=%1b", "a", -1, "" }, { "a=%7f", "a", -1, "" },
		{ "a=x%0D%0Ay%09", "a", 1, "x\r\ny\t" },  /* a textarea keeps its lines */
		{ "%zz=1&a=2", "a", -1, "" },             /* a bad name anywhere: malformed */
		{ "", "a", 0, "" }, { "&&&", "a", 0, "" },
	};
	buf_t v;

	(void)state;
	for (size_t i = 0; i < MUGAI_ARRAY_LEN(t); i++) {
		int rc;

		buf_init(&v, 64);
		rc = form_get(t[i].body, strlen(t[i].body), t[i].key, &v);
		if (rc != t[i].rc)
			print_error("case %zu: %s\n", i, t[i].body);
		assert_int_equal(rc, t[i].rc);
		if (rc == 1)
			assert_str_eq_msg(v.data, t[i].want);
		buf_free(&v);
	}
	buf_init(&v, 4);  /* over the cap */
	assert_int_equal(form_get("a=12345", 7, "a", &v), -1);
	buf_free(&v);
}

static void cookies(void **state)
{
	static const struct { const char *h; int rc; const char *want; } t[] = {
		{ "mugai_session=abc", 1, "abc" },
		{ "x=1; mugai_session=abc; y=2", 1, "abc" },
		{ "x=1;mugai_session=abc", 1, "abc" },
		{ "xmugai_session=abc", 0, "" },
		{ "mugai_session=", -1, "" },
		{ "mugai_session=a b", -1, "" }, { "mugai_session=\"abc\"", -1, "" },
		{ "mugai_session=a\\b", -1, "" },
		{ "mugai_session=abc; mugai_session=def", -1, "" }, /* which one? neither */
		{ "mugai_session=0123456789", -1, "" },               /* over the cap */
		{ "", 0, "" },
	};
	char out[8];

	(void)state;
	for (size_t i = 0; i < MUGAI_ARRAY_LEN(t); i++) {
		int rc = form_cookie(t[i].h, "mugai_session", out, sizeof(out));

		if (rc != t[i].rc)
			print_error("case %zu: %s\n", i, t[i].h);
		assert_int_equal(rc, t[i].rc);
		if (rc == 1)
			assert_str_eq_msg(out, t[i].want);
	}
}

static void html_escaping(void **state)
{
	static const struct { const char *in, *want; } t[] = {
		{ "<script>alert(1)</script>", "&lt;script&gt;alert(1)&lt;/script&gt;" },
		{ "\"onmouseover='x'", "&quot;onmouseover=&#39;x&#39;" },
		{ "a&amp;b", "a&amp;amp;b" },
		{ "件名①\ttab\nline", "件名①\ttab\nline" },
		{ "bell\a esc\x1b del\x7f", "bell esc del" },
		{ "bad\xff utf8 \xe3\x81", "bad\xef\xbf\xbd utf8 \xef\xbf\xbd\xef\xbf\xbd" },
		{ "c1 \xc2\x85 nel", "c1 \xef\xbf\xbd nel" },
	};
	page_t p;

	(void)state;
	for (size_t i = 0; i < MUGAI_ARRAY_LEN(t); i++) {
		page_init(&p, 1024);
		page_text(&p, t[i].in);
		assert_int_equal(page_finish(&p), 0);
		assert_str_eq_msg(p.b.data, t[i].want);
		page_free(&p);
	}
	page_init(&p, 1024);
	page_time_jst(&p, 1767225600);  /* 2026-01-01T00:00:00Z */
	PAGE_LIT(&p, "|");
	page_time_jst(&p, 1767193199);  /* 2025-12-31T14:59:59Z */
	assert_int_equal(page_finish(&p), 0);
	assert_str_eq_msg(p.b.data, "2026-01-01 09:00|2025-12-31 23:59");
	page_free(&p);
	page_init(&p, 1024);
	page_time_rfc3339_jst(&p, "2026-11-25T18:00:00.123Z");
	PAGE_LIT(&p, "|");
	page_time_rfc3339_jst(&p, "<not a time>");
	assert_int_equal(page_finish(&p), 0);
	assert_str_eq_msg(p.b.data, "2026-11-26 03:00:00|&lt;not a time&gt;");
	page_free(&p);
	page_init(&p, 8);  /* errors are sticky */
	page_text(&p, "0123456789");
	PAGE_LIT(&p, "x");
	assert_int_equal(page_finish(&p), -1);
	page_free(&p);
}

static int collect(const char *name, const char *code, void *arg)
{
	buf_t *b = arg;

	return buf_printf(b, "[%s|%s]", name ? name : "(null)", code ? code : "(null)");
}

static void report_reader(void **state)
{
	static const struct { const char *json, *key; int rc; const char *want; } t[] = {
		{ "{\"removed\":[{\"filename\":\"a.exe\",\"size\":3,\"reason\":\"executable\"},"
		  "{\"filename\":null,\"reason\":\"image\"}],\"x\":[1]}", "removed", 0,
		  "[a.exe|executable][(null)|image]" },
		{ "{\"limits_hit\":[\"mime_depth_max\",\"timeout\"]}", "limits_hit", 0,
		  "[mime_depth_max|(null)][timeout|(null)]" },
		{ "{\"removed\":[{\"filename\":\"\\u003c\\ud83d\\ude00\\n\"}]}", "removed", 0,
		  "[<\xf0\x9f\x98\x80\n|(null)]" },
		{ "{\"a\":{\"removed\":[{\"filename\":\"x\"}]}}", "removed", 0, "" }, /* top only */
		{ "{\"removed\":[]}", "removed", 0, "" },
		{ "{}", "removed", 0, "" },
		{ "{\"removed\":[{\"filename\":\"\\u0000\"}]}", "removed", -1, "" },
		{ "{\"removed\":[{\"filename\":\"\\ud800\"}]}", "removed", -1, "" },
		{ "{\"removed\":[{\"filename\":\"\xff\"}]}", "removed", -1, "" },
		{ "{\"removed\":[{\"filename\":\"a\",\"filename\":\"b\"}]}", "removed", -1, "" },
		{ "{\"removed\":[}", "removed", -1, "" },
		{ "{\"removed\":[]} x", "removed", -1, "" },
		{ "[]", "removed", -1, "" },
		{ "{\"x\":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]"
		  "]]]]]]]]]]]]]]}", "removed", -1, "" },  /* deeper than JSON_DEPTH_MAX */
	};
	buf_t b;

	(void)state;
	for (size_t i = 0; i < MUGAI_ARRAY_LEN(t); i++) {
		int rc;

		buf_init(&b, 1024);
		assert_int_equal(buf_putc(&b, 0), 0);
		b.len = 0;
		rc = rjson_each(t[i].json, strlen(t[i].json), t[i].key, collect, &b);
		if (rc != t[i].rc)
			print_error("case %zu: %s\n", i, t[i].json);
		assert_int_equal(rc, t[i].rc);
		if (rc == 0) {
			assert_int_equal(buf_putc(&b, 0), 0);
			assert_str_eq_msg(b.data, t[i].want);
		}
		buf_free(&b);
	}
}

static void api_json_input(void **state)
{
	static const struct { const char *json; int rc; const char *want; } t[] = {
		{ "{\"reason\":\"必要\",\"kind\":\"original\"}", 1, "必要" },
		{ " { \"x\" : [1, {\"reason\": 2}], \"reason\" : \"a\\\"b\" } ", 1, "a\"b" },
		{ "{\"kind\":\"original\"}", 0, "" },
		{ "{}", 0, "" },
		{ "{\"reason\":\"a\",\"reason\":\"b\"}", -1, "" },  /* twice */
		{ "{\"reason\":1}", -1, "" },                        /* not a string */
		{ "{\"reason\":\"a\"", -1, "" },                      /* unterminated */
		{ "{\"reason\":\"a\"} {}", -1, "" },                  /* trailing data */
		{ "[\"reason\"]", -1, "" },
		{ "{\"reason\":\"\\u0000\"}", -1, "" },
	};
	buf_t v;

	(void)state;
	for (size_t i = 0; i < MUGAI_ARRAY_LEN(t); i++) {
		int rc;

		buf_init(&v, 64);
		rc = rjson_get_str(t[i].json, strlen(t[i].json), "reason", &v);
		if (rc != t[i].rc)
			print_error("case %zu: %s\n", i, t[i].json);
		assert_int_equal(rc, t[i].rc);
		if (rc == 1)
			assert_str_eq_msg(v.data, t[i].want);
		buf_free(&v);
	}
}

static void query_values(void **state)
{
	static const struct { const char *s; int rc; int64_t t; } dates[] = {
		{ "2026-04-01", 0, 1774969200 },    /* 2026-03-31T15:00:00Z */
		{ "1970-01-01", 0, -32400 },
		{ "2024-02-29", 0, 1709132400 },    /* a leap day */
		{ "2026-02-29", -1, 0 }, { "2026-04-31", -1, 0 }, { "2026-13-01", -1, 0 },
		{ "2026-00-10", -1, 0 }, { "0000-01-01", -1, 0 }, { "2026-4-01", -1, 0 },
		{ "2026-04-01 ", -1, 0 }, { "2026/04/01", -1, 0 }, { "+026-04-01", -1, 0 },
		{ "2026-04-0a", -1, 0 }, { "", -1, 0 },
	};
	static const struct { const char *s; int rc; long page; } pages[] = {
		{ "1", 0, 1 }, { "999999", 0, 999999 }, { "007", 0, 7 }, { "0", -1, 0 },
		{ "1000000", -1, 0 }, { "-1", -1, 0 }, { "1x", -1, 0 }, { "", -1, 0 },
	};
	static const struct { const char *s; bool ok; } texts[] = {
		{ "見積書", true }, { "a b\"<", true }, { "a\tb", false }, { "a\x7f", false },
		{ "\xff", false }, { "\xe8\xa6", false },
	};
	int64_t t;
	long page;

	(void)state;
	for (size_t i = 0; i < MUGAI_ARRAY_LEN(dates); i++) {
		int rc = form_date_jst(dates[i].s, &t);

		if (rc != dates[i].rc || (rc == 0 && t != dates[i].t))
			print_error("date case %zu: %s\n", i, dates[i].s);
		assert_int_equal(rc, dates[i].rc);
		if (rc == 0)
			assert_int_equal(t, dates[i].t);
	}
	for (size_t i = 0; i < MUGAI_ARRAY_LEN(pages); i++) {
		int rc = form_page(pages[i].s, &page);

		if (rc != pages[i].rc)
			print_error("page case %zu: %s\n", i, pages[i].s);
		assert_int_equal(rc, pages[i].rc);
		if (rc == 0)
			assert_int_equal(page, pages[i].page);
	}
	for (size_t i = 0; i < MUGAI_ARRAY_LEN(texts); i++)
		assert_int_equal(form_text_ok(texts[i].s, SEARCH_TEXT_MAX), texts[i].ok);
	assert_false(form_text_ok("abcd", 3));
}

static void address_lists(void **state)
{
	static const struct { const char *in; int rc; const char *want; } t[] = {
		{ "", 0, "" }, { " ,\r\n\t, ", 0, "" },
		{ "Tanaka@City.Example.LG.JP", 0, "tanaka@city.example.lg.jp" },
		{ "a@x.jp,b@y.jp", 0, "a@x.jp,b@y.jp" },
		{ "  A@X.JP ,\r\n B@Y.JP,,\n", 0, "a@x.jp,b@y.jp" },
		{ "a@x.jp b@y.jp\tc@z.jp", 0, "a@x.jp,b@y.jp,c@z.jp" },
		{ "nobody", 0, "nobody" },            /* the store refuses it, not the parser */
		{ "\xe7\xb7\x8f@x.jp", 0, "\xe7\xb7\x8f@x.jp" }, /* only ASCII is lowered */
		{ "abcdefghijklmnopqrstuvwxyz@example.jp", -1, "" }, /* over the cap */
	};

	(void)state;
	for (size_t i = 0; i < MUGAI_ARRAY_LEN(t); i++) {
		buf_t b;
		int rc;

		buf_init(&b, 32);
		rc = qstore_account_addrs_parse(&b, t[i].in);
		if (rc != t[i].rc)
			print_error("case %zu: %s\n", i, t[i].in);
		assert_int_equal(rc, t[i].rc);
		if (rc == 0)
			assert_str_eq_msg(b.data, t[i].want);
		buf_free(&b);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(form_fields),
		cmocka_unit_test(cookies),
		cmocka_unit_test(html_escaping),
		cmocka_unit_test(report_reader),
		cmocka_unit_test(api_json_input),
		cmocka_unit_test(query_values),
		cmocka_unit_test(address_lists),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
