/* test_sender.c — the sender-warning checks (src/mail/sender.c): the
 * Authentication-Results reader (only the configured authserv-id, only
 * "fail"), look-alike domains and own domains in display names. */
#include "testutil.h"
#include "mail/report.h"
#include "mail/sender.h"

static void authres(void **state)
{
	static const struct { const char *v, *id; unsigned want; } t[] = {
		{ "mx.city.example.lg.jp; dmarc=fail header.from=x.jp", "mx.city.example.lg.jp",
		  SENDER_W_DMARC },
		{ "MX.City.Example.LG.JP; DMARC=FAIL (p=reject) header.from=x.jp", "mx.city.example.lg.jp",
		  SENDER_W_DMARC },
		{ "mx.city.example.lg.jp 1; spf=fail smtp.mailfrom=a@x.jp; dkim=fail header.d=x.jp",
		  "mx.city.example.lg.jp", SENDER_W_SPF | SENDER_W_DKIM },
		{ "mx.city.example.lg.jp;\r\n\tdkim=pass header.d=x.jp;\r\n\tdmarc=pass", "mx.city.example.lg.jp", 0 },
		{ "mx.city.example.lg.jp; spf=softfail; dkim=none; dmarc=failed", "mx.city.example.lg.jp", 0 },
		/* untrusted authserv-id: ignored, whatever it claims */
		{ "evil.example; dmarc=fail; dkim=fail; spf=fail", "mx.city.example.lg.jp", 0 },
		{ "mx.city.example.lg.jp.evil.example; dmarc=fail", "mx.city.example.lg.jp", 0 },
		{ "mx.city.example.lg.jp; dmarc=fail", "", 0 },
		/* comments and quoted strings do not split or fake results */
		{ "mx.city.example.lg.jp; dkim=pass (dmarc=fail; spf=fail) header.d=x", "mx.city.example.lg.jp", 0 },
		{ "mx.city.example.lg.jp; dkim=pass header.b=\"a; dmarc=fail\"", "mx.city.example.lg.jp", 0 },
		{ "(mx.city.example.lg.jp) evil.example; dmarc=fail", "mx.city.example.lg.jp", 0 },
		{ "mx.city.example.lg.jp (our mx); dmarc=fail (nested (x)) header.from=x", "mx.city.example.lg.jp",
		  SENDER_W_DMARC },
		{ "mx.city.example.lg.jp; dkim/1=fail", "mx.city.example.lg.jp", SENDER_W_DKIM },
		{ "mx.city.example.lg.jp; none", "mx.city.example.lg.jp", 0 },
		{ "", "mx.city.example.lg.jp", 0 },
		{ ";;;", "mx.city.example.lg.jp", 0 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		unsigned got = sender_authres(t[i].v, strlen(t[i].v), t[i].id);

		if (got != t[i].want)
			print_error("case %zu [%s]: got %u want %u\n", i, t[i].v, got, t[i].want);
		assert_int_equal(got, t[i].want);
	}
}

static void lookalike(void **state)
{
	static const struct { const char *d; bool want; } t[] = {
		{ "city.example.lg.jp", false },         /* our own */
		{ "CITY.Example.LG.JP", false },
		{ "mail.city.example.lg.jp", false },    /* our subdomain */
		{ "clty.example.lg.jp", true },          /* i → l */
		{ "c1ty.example.lg.jp", true },          /* 1 → l */
		{ "city.exarnple.lg.jp", true },         /* rn → m */
		{ "clty.exarnple.lg.jp", true },
		{ "ctiy.example.lg.jp", true },          /* swapped */
		{ "city-example.lg.jp", true },          /* one edit */
		{ "cty.example.lg.jp", true },
		{ "city.example.lg.jp.evil.example", true }, /* ours as a prefix */
		{ "city.example.lg.jq", true },
		{ "c\xd1\x96ty.example.lg.jp", true },   /* Cyrillic і */
		{ "\xef\xbd\x83ity.example.lg.jp", true }, /* fullwidth ｃ */
		{ "city\xe3\x80\x82" "example.lg.jp", true }, /* ideographic full stop */
		{ "xn--cty-xyz.example.lg.jp", true },   /* a punycode label in place of ours */
		{ "c\xc3\xadty.example.lg.jp", true },   /* í */
		{ "\xc3\xa7ity.example.lg.jp", true },   /* ç */
		{ "town.example.lg.jp", false },         /* a real neighbour */
		{ "example.lg.jp", false },
		{ "example.jp", false },
		{ "gmail.com", false },
		{ "ity.example.lg.jpx", false },         /* two edits on a short-enough name: no */
		{ "", false },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		bool got = sender_lookalike(t[i].d, "city.example.lg.jp");

		if (got != t[i].want)
			print_error("case %zu [%s]: got %d want %d\n", i, t[i].d, got, t[i].want);
		assert_int_equal(got, t[i].want);
	}
	/* a short own domain allows one edit only */
	assert_true(sender_lookalike("examp1e.jp", "example.jp"));
	assert_false(sender_lookalike("exampel.jq", "example.jp"));
}

static void display_name(void **state)
{
	(void)state;
	assert_true(sender_name_has("city.example.lg.jp 総務課", "city.example.lg.jp"));
	assert_true(sender_name_has("総務課 (CITY.EXAMPLE.LG.JP)", "city.example.lg.jp"));
	assert_true(sender_name_has("\xef\xbd\x83\xef\xbd\x89\xef\xbd\x94\xef\xbd\x99.example.lg.jp",
				    "city.example.lg.jp"));
	assert_false(sender_name_has("総務課", "city.example.lg.jp"));
	assert_false(sender_name_has("example.lg.jp", "city.example.lg.jp"));
	assert_false(sender_name_has("anything", ""));
}

static void fold(void **state)
{
	char out[SENDER_FOLD_MAX + 1];

	(void)state;
	sender_fold("ＣＩＴＹ．ｅｘａｍｐｌｅ", out, sizeof(out));
	assert_str_eq_msg(out, "clty.example");
	sender_fold("rnvv01\xd0\xb0\xce\xbf\xff", out, sizeof(out));
	assert_str_eq_msg(out, "mwolao*");
	sender_fold("abcdef", out, 4);
	assert_str_eq_msg(out, "abc");
}

static void codes_and_tokens(void **state)
{
	mail_report_t r;
	char toks[REPORT_TOKENS_MAX];

	(void)state;
	assert_str_eq_msg(report_sender_warning_code(0), "lookalike-domain");
	assert_str_eq_msg(report_sender_warning_code(5), "first-contact");
	assert_str_eq_msg(report_sender_warning_code(6), "");
	report_init(&r, "20260101-000000-00000000");
	report_action_tokens(&r, toks, sizeof(toks));
	assert_str_eq_msg(toks, "");
	r.verdict = VERDICT_QUARANTINED;
	snprintf(r.antivirus, sizeof(r.antivirus), "virus");
	r.n_attached = 1;
	r.removed_dropped = 1;
	r.html_converted = true;
	r.links_removed = 2;
	r.sender_warn = SENDER_W_FIRST;
	report_action_tokens(&r, toks, sizeof(toks));
	assert_str_eq_msg(toks, "HOLD AV DEL_ATTACH CDR CHG_TEXT REP_LINK WARN");
	r.n_attached = 0;
	r.removed_dropped = 0;
	report_action_tokens(&r, toks, sizeof(toks));
	assert_str_eq_msg(toks, "HOLD AV CHG_TEXT REP_LINK WARN");
	assert_true(report_json_has_virus("{\"virus\":\"X\"}"));
	assert_false(report_json_has_virus("{\"virus\":null}"));
	assert_false(report_json_has_virus("{\"from\":\"a\\\"virus\\\":\\\"b\"}"));
	/* whitespace anywhere JSON allows it (an imported report) */
	assert_true(report_json_has_virus("{ \"virus\" :\n \"X\" }"));
	assert_true(report_json_has_virus("{\"antivirus\": \"virus\", \"virus\": \"X\"}"));
	assert_false(report_json_has_virus("{\"antivirus\": \"virus\", \"virus\": null}"));
	assert_false(report_json_has_virus("[\"virus\", \"x\"]"));
	/* the name, for the releaser (a sanitized release keeps the verdict) */
	{
		char v[8];

		assert_true(report_json_virus("{\"antivirus\": \"virus\", \"virus\" : \"Eicar\"}", v,
					      sizeof(v)));
		assert_str_eq_msg(v, "Eicar");
		assert_true(report_json_virus("{\"virus\":\"Win.Test.EICAR\"}", v, sizeof(v)));
		assert_str_eq_msg(v, "Win.Tes");
		assert_true(report_json_virus("{\"virus\":\"a\\\"b\"}", v, sizeof(v)));
		assert_str_eq_msg(v, "?");
		assert_false(report_json_virus("{\"virus\":null}", v, sizeof(v)));
	}
	r.n_attached = 0;
	report_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(authres),
		cmocka_unit_test(lookalike),
		cmocka_unit_test(display_name),
		cmocka_unit_test(fold),
		cmocka_unit_test(codes_and_tokens),
	};

	return cmocka_run_group_tests_name("sender", tests, NULL, NULL);
}
