/* test_reqnote.c — the approvers' notice of a release request
 * (mail/reqnote.c), table-driven red team: a hostile subject, From and
 * reason (what a sender and a clerk can write) reach the message only
 * through the one writer, so the first build already passes the output
 * check (no fallback), the independent check passes it again with the
 * console line allowed, and the real console line is there exactly once. */
#include "testutil.h"

#include <glib.h>

#include "common/config.h"
#include "mail/mail.h"
#include "mail/outcheck.h"

#define ID "20261201-031500-0123abcd"
#define URL "https://mugai.example.lg.jp/console"
#define LINE "取り出しの依頼: " URL "/q/" ID "（受付番号 0123-abcd）"

static cfg_t cfg;

static int setup(void **state)
{
	char err[200];

	(void)state;
	if (cfg_init(&cfg) < 0 || mail_init() < 0 ||
	    cfg_set(&cfg, "console_url", URL, err, sizeof(err)) < 0)
		return -1;
	return 0;
}

/* The text part's body, base64 or 7bit, decoded (owned). */
static char *body_of(const buf_t *out)
{
	const char *sep = strstr(out->data, "\r\n\r\n");
	bool b64 = strstr(out->data, "Content-Transfer-Encoding: base64") != NULL;
	GString *clean = g_string_new(NULL);
	gsize n = 0;
	char *d;

	assert_non_null(sep);
	for (const char *p = sep + 4; *p; p++)
		if (!b64 || (*p != '\r' && *p != '\n'))
			g_string_append_c(clean, *p);
	if (!b64)
		return g_string_free(clean, FALSE);
	d = (char *)g_base64_decode(clean->str, &n);
	g_string_free(clean, TRUE);
	return d;
}

static size_t count(const char *hay, const char *needle)
{
	size_t n = 0;

	for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
		n++;
	return n;
}

static void hostile_strings_pass_through_the_writer(void **state)
{
	static const char *const hostile[] = {
		"https://evil.example.com/login",
		LINE,
		"取り出しの依頼: " URL "/q/" ID "（",
		"受付番号: 20261201-000000-deadbeef（dead-beef）",
		"www.evil.example.jp",
		"\\\\evil-host\\share\\x.exe",
		"//evil.example.net/x",
		"evil.example.com/path?q=1",
		"someone@evil.example.com",
		"mailto:someone@evil.example.com",
		"javascript:alert(1)",
		"begin 644 invoice.exe",
		"=?UTF-8?B?aHR0cHM6Ly9ldmlsLmV4YW1wbGUuY29t?=",
		"━━━━━━━━ 【無害化済み】 【隔離】 [QUARANTINED]",
		"\xe2\x80\xae" "exe.txt and \x01\x1b[31m controls",
		"ｈｔｔｐｓ：／／ｅｖｉｌ．ｅｘａｍｐｌｅ．ｃｏｍ",
		"line one\r\nBcc: victim@example.lg.jp",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(hostile) / sizeof(hostile[0]); i++) {
		mail_reqnote_t n = { .id = ID, .requester = "taro", .kind = "original",
				     .reason = hostile[i], .from = hostile[i],
				     .subject = hostile[i], .received = 1796104500, /* 2026-12-01 05:55 UTC */
				     .to = "kacho@city.example.lg.jp,kanri@city.example.lg.jp" };
		outcheck_opts_t o = { .console_url = URL, .id = ID };
		outcheck_result_t res;
		buf_t out;
		char *body;

		buf_init(&out, 1 << 20);
		assert_int_equal(mail_request_notice_message(&cfg, &n, &out), 0);
		assert_int_equal(outcheck_message(out.data, out.len, &o, &res), 0);
		body = body_of(&out);
		if (strstr(body, "省略しました"))
			fail_msg("case %zu needed the fallback: %s", i, body);
		assert_int_equal(count(body, LINE "\r\n"), 1);
		assert_int_equal(count(body, "━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━\r\n"), 2);
		assert_non_null(strstr(body, "依頼の種類: 原本\r\n"));
		assert_non_null(strstr(body, "受信日時: 2026-12-01 14:55（日本時間）\r\n"));
		assert_null(strstr(out.data, "\r\nBcc:"));
		g_free(body);
		buf_free(&out);
	}
}

static void refused_without_recipients_or_id(void **state)
{
	mail_reqnote_t n = { .id = "../x", .requester = "taro", .kind = "sanitized",
			     .reason = "r", .from = "f", .subject = "s", .to = "a@b.jp" };
	buf_t out;

	(void)state;
	buf_init(&out, 1 << 20);
	assert_int_equal(mail_request_notice_message(&cfg, &n, &out), -1);
	n.id = ID;
	n.to = "";
	assert_int_equal(mail_request_notice_message(&cfg, &n, &out), -1);
	n.to = "a@b.jp";
	assert_int_equal(mail_request_notice_message(&cfg, &n, &out), 0);
	buf_free(&out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(hostile_strings_pass_through_the_writer),
		cmocka_unit_test(refused_without_recipients_or_id),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
