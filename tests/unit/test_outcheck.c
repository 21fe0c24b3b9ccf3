/* test_outcheck.c — the independent output check (mail/outcheck.c): every
 * rule with live inputs and the contract's inert forms, in the body, the
 * Subject, display names and attachment filename parameters (plain,
 * encoded-word, RFC 2231), base64 bodies and folded encoded-words; and the
 * gate (mail_output_gate) that turns a hit into a notice-only quarantine. */
#include "testutil.h"
#include <glib.h>
#include "mail/mail.h"
#include "mail/mail_int.h"
#include "mail/outcheck.h"

#define RULE_JA "━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━"
#define RULE_EN "----------------------------------------------------------------"
#define NOTICE_JA RULE_JA "\n【無害化済み】このメールは無害化装置 (mugai) がテキスト形式に変換しました。\n" \
	"削除した項目はありません。\n" RULE_JA "\n\n"
#define NOTICE_EN RULE_EN "\n[SANITIZED] This message was converted.\n" RULE_EN "\n\n"

enum { HDR = 0, BODY = 1 };
enum { DEF = 0, PLAIN = 1, EN = 2, CUSTOM = 4 };

typedef struct tcase {
	const char *text;
	int body, opts;
	outcheck_rule_t want;
} tcase_t;

static const tcase_t cases[] = {
	/* rule 1: controls, invisible, bidi, invalid UTF-8 */
	{ "a\tb\nc 日本語 \xEF\xBF\xBD", HDR, DEF, OUTCHECK_PASS },
	{ "a\x01" "b", HDR, DEF, OUTCHECK_CONTROL },
	{ "a\x7f", HDR, DEF, OUTCHECK_CONTROL },
	{ "x\xC2\x85y", HDR, DEF, OUTCHECK_CONTROL },          /* C1 NEL */
	{ "請求書\xE2\x80\xAE" "fdp.exe", HDR, DEF, OUTCHECK_CONTROL }, /* RLO */
	{ "\xE2\x81\xA6x", HDR, DEF, OUTCHECK_CONTROL },       /* U+2066 */
	{ "\xD8\x9Cx", HDR, DEF, OUTCHECK_CONTROL },           /* U+061C */
	{ "a\xE2\x80\x8F", HDR, DEF, OUTCHECK_CONTROL },       /* U+200F */
	{ "a\xEF\xBB\xBF", HDR, DEF, OUTCHECK_CONTROL },       /* U+FEFF */
	{ "a\xC2\xAD" "b", HDR, DEF, OUTCHECK_CONTROL },       /* soft hyphen */
	{ "a\xE2\x80\x8B" "b", HDR, DEF, OUTCHECK_CONTROL },   /* ZWSP */
	{ "a\xE2\x81\xA3" "b", HDR, DEF, OUTCHECK_CONTROL },   /* U+2063 */
	{ "a\xE2\x80\xA8" "b", HDR, DEF, OUTCHECK_CONTROL },   /* U+2028 */
	{ "a\xEF\xBF\xBA" "b", HDR, DEF, OUTCHECK_CONTROL },   /* U+FFFA */
	{ "a\xF3\xA0\x80\x81" "b", HDR, DEF, OUTCHECK_CONTROL }, /* tag U+E0001 */
	{ "a\xff" "b", HDR, DEF, OUTCHECK_CONTROL },           /* invalid UTF-8 */
	{ "a\xC0\xAF", HDR, DEF, OUTCHECK_CONTROL },           /* overlong */
	{ "a\xED\xA0\x80", HDR, DEF, OUTCHECK_CONTROL },       /* surrogate */
	{ "a\r\nb", HDR, DEF, OUTCHECK_CONTROL },              /* CR in a header value */
	{ "a\r\nb\r\n", BODY, DEF, OUTCHECK_PASS },
	{ "a\rb", BODY, DEF, OUTCHECK_CONTROL },               /* bare CR */
	{ "ht\xE2\x80\xAEtps://evil.example/", BODY, DEF, OUTCHECK_CONTROL },
	/* rule 2: schemes */
	{ "see https://evil.example/x", HDR, DEF, OUTCHECK_SCHEME },
	{ "ms-msdt:/id PCWDiagnostic", HDR, DEF, OUTCHECK_SCHEME },
	{ "search-ms:query=x", HDR, DEF, OUTCHECK_SCHEME },
	{ "ms-word:ofe|u|x", HDR, DEF, OUTCHECK_SCHEME },
	{ "tel:03-1234-5678", HDR, DEF, OUTCHECK_SCHEME },
	{ "file:x", HDR, DEF, OUTCHECK_SCHEME },
	{ "Re:Hello", HDR, DEF, OUTCHECK_SCHEME },
	{ "https:host", HDR, DEF, OUTCHECK_SCHEME },
	{ "ms-msdt[:]/id tel[:]03-1234-5678 Re[:]Hello [URL]", HDR, DEF, OUTCHECK_PASS },
	{ "Re: Hello 12:30 C:\\Users a:b", HDR, DEF, OUTCHECK_PASS },
	{ "件名: 会議 note:", HDR, DEF, OUTCHECK_PASS },
	{ "hxxps://example[.]com/a hxxp://a[.]jp fxp://x[.]jp", HDR, DEF, OUTCHECK_PASS },
	{ "HXXPS://example[.]com/a", HDR, DEF, OUTCHECK_PASS },
	{ "hxxp:example.com", HDR, DEF, OUTCHECK_SCHEME },      /* inert only before // */
	{ "https://good.example/a?b=c", HDR, PLAIN, OUTCHECK_PASS },
	{ "mailto:taro@example.jp", HDR, PLAIN, OUTCHECK_PASS },
	{ "mailto:a@intranet", HDR, PLAIN, OUTCHECK_PASS },     /* as the writer keeps it */
	{ "mailto:someone", HDR, PLAIN, OUTCHECK_PASS },
	{ "mailto:a@intranet", HDR, DEF, OUTCHECK_SCHEME },
	{ "javascript:alert(1)", HDR, PLAIN, OUTCHECK_SCHEME },
	{ "https:host", HDR, PLAIN, OUTCHECK_SCHEME },
	{ "https://good.example/\\\\evil\\s", HDR, PLAIN, OUTCHECK_UNC },
	/* rule 3: UNC and //host */
	{ "\\\\host\\share", HDR, DEF, OUTCHECK_UNC },
	{ "\\/host", HDR, DEF, OUTCHECK_UNC },
	{ "/\\host", HDR, DEF, OUTCHECK_UNC },
	{ "http[:]\\\\host", HDR, DEF, OUTCHECK_UNC },
	{ "[\\\\]host\\share", HDR, DEF, OUTCHECK_PASS },
	{ "a \\\\ b // c", HDR, DEF, OUTCHECK_PASS },
	{ "hxxps://evil.com/x", HDR, DEF, OUTCHECK_UNC },
	{ "?u=http[:]//evil.com", HDR, DEF, OUTCHECK_UNC },
	{ "?u=http[:]//evil[.]com", HDR, DEF, OUTCHECK_PASS },
	{ "//例え.jp/x", HDR, DEF, OUTCHECK_UNC },
	{ "see //evil.com.", HDR, DEF, OUTCHECK_UNC },
	{ "//1.2 //a..jp //a.b1", HDR, DEF, OUTCHECK_PASS },
	/* rule 4: www. */
	{ "www.example.jp", HDR, DEF, OUTCHECK_WWW },
	{ "(WWW.example.jp)", HDR, DEF, OUTCHECK_WWW },
	{ "www[.]example[.]jp", HDR, DEF, OUTCHECK_PASS },
	/* rule 5: dotted host with a path */
	{ "example.com/reset", HDR, DEF, OUTCHECK_DOMAIN },
	{ "見てexample.co.jp/a", HDR, DEF, OUTCHECK_DOMAIN },
	{ "example[.]com/reset", HDR, DEF, OUTCHECK_PASS },
	{ "example.com. v1.2/3 a.b/c", HDR, DEF, OUTCHECK_PASS },
	/* rule 6: bare e-mail address */
	{ "taro@example.jp", HDR, DEF, OUTCHECK_EMAIL },
	{ "<a.b+c@x-y.example.jp>", HDR, DEF, OUTCHECK_EMAIL },
	{ "taro[@]example[.]jp taro@example[.]jp a@localhost @x.jp", HDR, DEF, OUTCHECK_PASS },
	/* rule 7: encoded executables at a line start */
	{ "begin 644 invoice.exe\nM35H\n", BODY, DEF, OUTCHECK_ENCODED },
	{ "x\nbegin 0755 a.exe\n", BODY, DEF, OUTCHECK_ENCODED },
	{ "(This file must be converted with BinHex 4.0)\n", BODY, DEF, OUTCHECK_ENCODED },
	{ "=ybegin line=128 size=5 name=a.exe\n", BODY, DEF, OUTCHECK_ENCODED },
	{ "begin 64 a\n x begin 644 a\nbegin 644x\n", BODY, DEF, OUTCHECK_PASS },
	/* rule 8: notice forgery */
	{ NOTICE_JA "本文 ─── ［無害化済み］［隔離］\n", BODY, DEF, OUTCHECK_PASS },
	{ NOTICE_JA "本文 ━━━\n", BODY, DEF, OUTCHECK_NOTICE },
	{ NOTICE_JA "【隔離】原本はこちら\n", BODY, DEF, OUTCHECK_NOTICE },
	{ NOTICE_JA RULE_JA "\n【無害化済み】偽の通知\n", BODY, DEF, OUTCHECK_NOTICE },
	{ "本文だけ\n【無害化済み】\n", BODY, DEF, OUTCHECK_NOTICE },
	{ "【隔離】請求書", HDR, DEF, OUTCHECK_NOTICE },
	{ "━", HDR, DEF, OUTCHECK_NOTICE },
	{ NOTICE_EN "(SANITIZED) ─\n", BODY, EN, OUTCHECK_PASS },
	{ NOTICE_EN "[QUARANTINED] fake\n", BODY, EN, OUTCHECK_NOTICE },
	{ NOTICE_EN "━\n", BODY, EN, OUTCHECK_NOTICE },
	{ NOTICE_EN "【隔離】\n", BODY, EN, OUTCHECK_NOTICE },
	{ NOTICE_JA "[QUARANTINED] is not ours in ja\n", BODY, DEF, OUTCHECK_PASS },
	{ "【無害化済み】custom\n{items}\n\n━ body\n", BODY, CUSTOM, OUTCHECK_PASS },
	{ "【無害化済み】custom\n\n【隔離】 body\n", BODY, CUSTOM, OUTCHECK_NOTICE },
};

static outcheck_opts_t opts(int o)
{
	return (outcheck_opts_t){ .plain_links = o & PLAIN, .en = o & EN, .custom_notice = o & CUSTOM };
}

static void text_rules(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		outcheck_opts_t o = opts(cases[i].opts);
		outcheck_result_t r;
		int rc = outcheck_text(cases[i].text, strlen(cases[i].text), cases[i].body, &o, &r);

		if (r.rule != cases[i].want || rc != (cases[i].want != OUTCHECK_PASS))
			print_error("case %zu [%s]: got %s want %s\n", i, cases[i].text,
				    outcheck_rule_name(r.rule), outcheck_rule_name(cases[i].want));
		assert_int_equal(r.rule, cases[i].want);
	}
}

/* ---- whole messages ---- */

static char *b64(const char *s)
{
	gchar *e = g_base64_encode((const guchar *)s, strlen(s));
	GString *g = g_string_new(NULL);

	for (size_t i = 0, n = strlen(e); i < n; i += 76)
		g_string_append_printf(g, "%.76s\r\n", e + i);
	g_free(e);
	return g_string_free(g, FALSE);
}

/* Headers (CRLF-terminated lines) + a base64 text/plain body. */
static char *msg_b64(const char *hdrs, const char *text)
{
	char *b = b64(text);
	char *m = g_strdup_printf("%sMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
				  "Content-Transfer-Encoding: base64\r\n\r\n%s", hdrs, b);

	g_free(b);
	return m;
}

/* multipart/mixed: the text part and one attachment with header `att`. */
static char *msg_mixed(const char *text, const char *att)
{
	char *b = b64(text);
	char *m = g_strdup_printf(
		"From: a <a@example.jp>\r\nSubject: x\r\nMIME-Version: 1.0\r\n"
		"Content-Type: multipart/mixed; boundary=\"=_b\"\r\n\r\n"
		"--=_b\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n%s"
		"--=_b\r\n%sContent-Transfer-Encoding: base64\r\n\r\nAAAA\r\n--=_b--\r\n", b, att);

	g_free(b);
	return m;
}

typedef struct mcase {
	const char *hdrs, *text, *att; /* att != NULL: multipart */
	outcheck_rule_t want;
} mcase_t;

#define OKH "From: =?utf-8?B?57eP5YuZ6Kqy?= <soumu@city.example.lg.jp>\r\nTo: a@example.jp\r\n"
static const mcase_t mcases[] = {
	{ OKH "Subject: =?utf-8?B?5Lya6K2w?=\r\nMessage-ID: <http://x.example/a@b>\r\n",
	  NOTICE_JA "本文\n", NULL, OUTCHECK_PASS },
	{ OKH "Subject: =?UTF-8?B?aHR0cHM6Ly9ldmlsLmV4YW1wbGUveA==?=\r\n", "x\n", NULL, OUTCHECK_SCHEME },
	/* folded encoded-words: the whitespace between them is dropped */
	{ OKH "Subject: =?utf-8?Q?www=2E?=\r\n =?utf-8?Q?evil=2Ejp?=\r\n", "x\n", NULL, OUTCHECK_WWW },
	{ OKH "Subject: =?utf-8?q?a=E2=80=AEb?=\r\n", "x\n", NULL, OUTCHECK_CONTROL },
	{ OKH "Subject: =?iso-2022-jp?B?GyRCJCIbKEI=?=\r\n", "x\n", NULL, OUTCHECK_FORMAT },
	{ OKH "Subject: =?utf-8?X?abc?=\r\n", "x\n", NULL, OUTCHECK_FORMAT },
	/* GMime writes iso-8859-1 words for a value that fits Latin-1 (a
	 * display name "Frédéric"): read, not a format hit; C1 inside is a control */
	{ "From: =?iso-8859-1?b?RnLpZOlyaWM=?= <f@example.fr>\r\n", "x\n", NULL, OUTCHECK_PASS },
	{ "From: =?ISO-8859-1?Q?Fr=E9d=E9ric?= <f@example.fr>\r\n", "x\n", NULL, OUTCHECK_PASS },
	{ "From: =?iso-8859-1?q?a=85b?= <f@example.fr>\r\n", "x\n", NULL, OUTCHECK_CONTROL },
	{ "From: =?iso-8859-1?q?www=2Eevil=2Ejp?= <f@example.fr>\r\n", "x\n", NULL, OUTCHECK_WWW },
	{ OKH "Subject: Re:Hello\r\n", "x\n", NULL, OUTCHECK_SCHEME },
	{ "From: \"taro@evil.example\" <a@example.jp>\r\n", "x\n", NULL, OUTCHECK_EMAIL },
	{ "From: =?utf-8?B?bXMtbXNkdDovaWQ=?= <a@example.jp>\r\n", "x\n", NULL, OUTCHECK_SCHEME },
	{ "From: \"=?utf-8?B?44CQ6ZqU6Zui44CR?=\" <a@example.jp>\r\n", "x\n", NULL, OUTCHECK_NOTICE },
	{ "From: a@evil.example\r\nTo: <b@evil.example>, c <c@x.jp>\r\n", "x\n", NULL, OUTCHECK_PASS },
	{ "To: undisclosed-recipients:;\r\nCc: Team: a@x.jp, b@x.jp;\r\n", "x\n", NULL, OUTCHECK_PASS },
	{ OKH, "\\\\host\\share\n", NULL, OUTCHECK_UNC },
	{ OKH, "a\rb\n", NULL, OUTCHECK_CONTROL },
	{ OKH, "begin 644 a.exe\n", NULL, OUTCHECK_ENCODED },
	/* attachments: only the filename parameters are read */
	{ NULL, NOTICE_JA "x\n", "Content-Type: application/pdf; name=\"a.pdf\"\r\n"
	  "Content-Disposition: attachment; filename=\"a.pdf\"\r\n", OUTCHECK_PASS },
	{ NULL, "x\n", "Content-Type: application/pdf\r\n"
	  "Content-Disposition: attachment; filename*=utf-8''%E2%80%AEfdp.exe\r\n", OUTCHECK_CONTROL },
	{ NULL, "x\n", "Content-Type: application/pdf\r\n"
	  "Content-Disposition: attachment; filename=\"=?utf-8?B?XFxob3N0XHM=?=\"\r\n", OUTCHECK_UNC },
	{ NULL, "x\n", "Content-Type: application/pdf\r\nContent-Disposition: attachment;\r\n"
	  " filename*0*=utf-8''www%2E; filename*1*=evil.jp\r\n", OUTCHECK_WWW },
	{ NULL, "x\n", "Content-Type: application/pdf; name=\"example.com/a.pdf\"\r\n", OUTCHECK_DOMAIN },
	{ NULL, NOTICE_JA "x\n", "Content-Type: text/csv; charset=utf-8; name*=iso-8859-1''R%E9sum%E9.csv\r\n"
	  "Content-Disposition: attachment; filename*=iso-8859-1''R%E9sum%E9.csv\r\n", OUTCHECK_PASS },
	{ NULL, "x\n", "Content-Type: application/pdf\r\n"
	  "Content-Disposition: attachment; filename*=iso-8859-1''%85fdp.exe\r\n", OUTCHECK_CONTROL },
	{ NULL, "x\n", "Content-Type: message/rfc822\r\n", OUTCHECK_FORMAT },
	{ NULL, "x\n", "Content-Type: text/csv; name=\"a.csv\"\r\n"
	  "Content-Disposition: attachment; filename=\"a.csv\"\r\n", OUTCHECK_PASS },
	{ NULL, "x\n", "Content-Type: multipart/mixed; boundary=x\r\n", OUTCHECK_FORMAT },
	{ NULL, "x\n", "Content-Type: application/pdf\r\nContent-Disposition: attachment;"
	  " filename*=iso-2022-jp''a.pdf\r\n", OUTCHECK_FORMAT },
};

static void message_rules(void **state)
{
	outcheck_opts_t o = opts(DEF);

	(void)state;
	for (size_t i = 0; i < sizeof(mcases) / sizeof(mcases[0]); i++) {
		const mcase_t *c = &mcases[i];
		char *m = c->att ? msg_mixed(c->text, c->att) : msg_b64(c->hdrs, c->text);
		outcheck_result_t r;
		int rc = outcheck_message(m, strlen(m), &o, &r);

		if (r.rule != c->want)
			print_error("mcase %zu: got %s (%s +%zu) want %s\n%s\n", i, outcheck_rule_name(r.rule),
				    r.where, r.offset, outcheck_rule_name(c->want), m);
		assert_int_equal(r.rule, c->want);
		assert_int_equal(rc, c->want != OUTCHECK_PASS);
		g_free(m);
	}
}

static void raw_format(void **state)
{
	static const struct { const char *m; outcheck_rule_t want; } raw[] = {
		{ "Subject: a\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nplain 7bit\r\n", OUTCHECK_PASS },
		{ "Subject: a\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n\\\\host\\s\r\n", OUTCHECK_UNC },
		{ "Subject: a\nContent-Type: text/plain; charset=utf-8\r\n\r\nx\r\n", OUTCHECK_CONTROL },
		{ "Subject: a\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nx\rhttps://e.jp\r\n", OUTCHECK_CONTROL },
		{ "Subject: \xe3\x81\x82\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nx\r\n", OUTCHECK_FORMAT },
		{ "Subject: a\r\nContent-Type: text/plain; charset=utf-8\r\n"
		  "Content-Transfer-Encoding: quoted-printable\r\n\r\nx\r\n", OUTCHECK_FORMAT },
		{ "Subject: a\r\nContent-Type: text/html; charset=utf-8\r\n\r\nx\r\n", OUTCHECK_FORMAT },
		{ "Subject: a\r\nContent-Type: text/plain; charset=utf-8\r\n"
		  "Content-Transfer-Encoding: base64\r\n\r\n!!!!\r\n", OUTCHECK_FORMAT },
		{ "Subject: a\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n"
		  "Content-Type: text/plain; charset=utf-8\r\n\r\nx\r\n", OUTCHECK_FORMAT }, /* no close */
		{ "Subject: a\r\nContent-Type: text/plain; charset=utf-8\r\n"
		  "Content-Transfer-Encoding: base64\r\n\r\neAo=\neAo=\r\n", OUTCHECK_FORMAT }, /* bare LF */
		{ "Subject: a\r\nContent-Type: text/plain; charset=utf-8\r\n"
		  "Content-Transfer-Encoding: base64\r\n\r\neAo=\r\x01\r\n", OUTCHECK_FORMAT },
		{ "Subject: a\r\nContent-Type: text/plain; charset=utf-8\r\n"
		  "Content-Transfer-Encoding: base64\r\n\r\neHh4\r\neAo=\r\n", OUTCHECK_PASS },
		{ "no header block", OUTCHECK_FORMAT },
		{ "", OUTCHECK_FORMAT },
	};
	outcheck_opts_t o = opts(DEF);

	(void)state;
	for (size_t i = 0; i < sizeof(raw) / sizeof(raw[0]); i++) {
		outcheck_result_t r;
		int rc = outcheck_message(raw[i].m, strlen(raw[i].m), &o, &r);

		if (r.rule != raw[i].want)
			print_error("raw %zu: got %s want %s\n", i, outcheck_rule_name(r.rule),
				    outcheck_rule_name(raw[i].want));
		assert_int_equal(r.rule, raw[i].want);
		assert_int_equal(rc, raw[i].want != OUTCHECK_PASS);
	}
}

/* Rule 8 far from the notice (rule 1 tells rule 8 where to stop). */
static void notice_far_away(void **state)
{
	outcheck_opts_t ja = opts(DEF), en = opts(EN);
	outcheck_result_t r;
	GString *g = g_string_new(NOTICE_JA);

	(void)state;
	for (int i = 0; i < 2000; i++)
		g_string_append(g, "本文 text [x] ─ ");
	assert_int_equal(outcheck_text(g->str, g->len, true, &ja, &r), 0);
	g_string_append(g, "【無害化済み】");
	assert_int_equal(outcheck_text(g->str, g->len, true, &ja, &r), 1);
	assert_int_equal(r.rule, OUTCHECK_NOTICE);
	assert_int_equal(r.offset, g->len - strlen("【無害化済み】"));
	g_string_assign(g, NOTICE_EN);
	for (int i = 0; i < 2000; i++)
		g_string_append(g, "text [x] ");
	assert_int_equal(outcheck_text(g->str, g->len, true, &en, &r), 0);
	g_string_append(g, "[QUARANTINED]");
	assert_int_equal(outcheck_text(g->str, g->len, true, &en, &r), 1);
	assert_int_equal(r.offset, g->len - strlen("[QUARANTINED]"));
	g_string_free(g, TRUE);
}

static void rule_names(void **state)
{
	(void)state;
	for (int i = 0; i < OUTCHECK__COUNT; i++)
		assert_int_equal(outcheck_rule_from_name(outcheck_rule_name((outcheck_rule_t)i)), i);
	assert_int_equal(outcheck_rule_from_name("bogus"), OUTCHECK__COUNT);
	assert_string_equal(outcheck_rule_name(OUTCHECK_UNC), "unc");
}

/* ---- the gate ---- */

static cfg_t cfg;

static int setup(void **state)
{
	(void)state;
	if (cfg_init(&cfg) < 0 || mail_init() < 0)
		return -1;
	return 0;
}

static char *decoded_body(const buf_t *out)
{
	const char *sep = strstr(out->data, "\r\n\r\n");
	gsize n = 0;
	guchar *d;
	GString *clean = g_string_new(NULL);

	assert_non_null(sep);
	for (const char *p = sep + 4; *p; p++)
		if (*p != '\r' && *p != '\n')
			g_string_append_c(clean, *p);
	d = g_base64_decode(clean->str, &n);
	g_string_free(clean, TRUE);
	return (char *)d;
}

static void assert_subject(const buf_t *out, const char *want)
{
	const char *p = strstr(out->data, "\r\nSubject: ");
	char *raw, *dec;

	if (!p && strncmp(out->data, "Subject: ", 9) == 0)
		p = out->data - 2;
	assert_non_null(p);
	raw = g_strndup(p + 11, (size_t)(strstr(p + 2, "\r\n") - (p + 11)));
	dec = g_mime_utils_header_decode_text(NULL, raw);
	assert_str_eq_msg(dec, want);
	g_free(dec);
	g_free(raw);
}

static void assert_passes(const buf_t *out)
{
	outcheck_opts_t o = opts(DEF);
	outcheck_result_t r;

	assert_int_equal(outcheck_message(out->data, out->len, &o, &r), 0);
}

/* A live message handed to the gate directly: rebuilt as the notice only. */
static void gate_rebuilds_notice_only(void **state)
{
	const char *live = "Subject: ok\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
			   "\r\nplease open \\\\evil.example\\share now\r\n";
	hdrset_t h = { 0 };
	mail_report_t rep;
	buf_t out;
	char *body;

	(void)state;
	report_init(&rep, "20261130-000000-00000001");
	rep.verdict = VERDICT_CLEAN;
	buf_init(&out, 1 << 20);
	assert_int_equal(buf_puts(&out, live), 0);
	h.subject = "会議の件";
	assert_int_equal(mail_output_gate(&cfg, &h, &rep, &out), 0);
	assert_int_equal(rep.verdict, VERDICT_QUARANTINED);
	assert_string_equal(rep.output_check, "output-check:unc");
	assert_non_null(strstr(out.data, "verdict=quarantined"));
	assert_subject(&out, "[無害化:隔離] 会議の件");
	body = decoded_body(&out);
	assert_non_null(strstr(body, "【隔離】"));
	assert_non_null(strstr(body, "出力検査で安全でない内容が見つかったため"));
	assert_non_null(strstr(body, "20261130-000000-00000001"));
	assert_null(strstr(body, "evil"));
	assert_null(strstr(body, "please"));
	assert_passes(&out);
	g_free(body);
	buf_free(&out);
	report_free(&rep);
}

/* The headers themselves are live: the fixed minimal notice, fixed headers. */
static void gate_falls_back_to_fixed_notice(void **state)
{
	const char *live = "Subject: a\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nx\r\n";
	hdrset_t h = { 0 };
	mail_report_t rep;
	buf_t out;
	char *body;

	(void)state;
	report_init(&rep, "20261130-000000-00000002");
	buf_init(&out, 1 << 20);
	assert_int_equal(buf_puts(&out, "Subject: www.evil.example\r\n"), 0);
	assert_int_equal(buf_puts(&out, live + strlen("Subject: a\r\n")), 0);
	h.subject = "see www.evil.example now";
	assert_int_equal(mail_output_gate(&cfg, &h, &rep, &out), 0);
	assert_int_equal(rep.verdict, VERDICT_QUARANTINED);
	assert_string_equal(rep.output_check, "output-check:www");
	assert_null(strstr(out.data, "evil"));
	assert_subject(&out, "配信を保留したメール");
	body = decoded_body(&out);
	assert_string_equal(body, RULE_JA "\r\n【隔離】このメールは安全に変換できない内容を含むため、本文を配信せず隔離しました。\r\n"
				  "原本が必要な場合は、管理者にお問い合わせください。\r\n" RULE_JA "\r\n");
	assert_passes(&out);
	g_free(body);
	buf_free(&out);
	report_free(&rep);
}

static void gate_leaves_passing_message(void **state)
{
	char *m = msg_b64(OKH "Subject: ok\r\n", NOTICE_JA "本文\n");
	mail_report_t rep;
	buf_t out;

	(void)state;
	report_init(&rep, "20261130-000000-00000003");
	rep.verdict = VERDICT_SANITIZED;
	buf_init(&out, 1 << 20);
	assert_int_equal(buf_puts(&out, m), 0);
	assert_int_equal(mail_output_gate(&cfg, NULL, &rep, &out), 0);
	assert_string_equal(out.data, m);
	assert_int_equal(rep.verdict, VERDICT_SANITIZED);
	assert_string_equal(rep.output_check, "");
	g_free(m);
	buf_free(&out);
	report_free(&rep);
}

/* Through mail_sanitize: the shape the writer once missed (a host with an
 * IDN label after "//", which this check reads as a host) is now written
 * with "[.]" and passes; the gate's rebuilds stay tested through
 * mail_output_gate above and, end to end, in tests/cli/test_mail_outcheck.py
 * (MUGAI_TEST_OUTCHECK). */
static void sanitize_idn_case(const char *in, const char *want_body, const char *want_subject)
{
	mail_report_t rep;
	buf_t out;
	char *body;

	buf_init(&out, 64 << 20);
	assert_int_equal(mail_sanitize(&cfg, "20261130-000000-00000004", in, strlen(in), &out, &rep), 0);
	assert_int_equal(rep.verdict, VERDICT_SANITIZED);
	assert_string_equal(rep.output_check, "");
	body = decoded_body(&out);
	assert_non_null(strstr(body, want_body));
	assert_subject(&out, want_subject);
	assert_passes(&out);
	g_free(body);
	buf_free(&out);
	report_free(&rep);
}

static void sanitize_idn_body_passes(void **state)
{
	char *in = msg_b64("From: a <a@example.jp>\r\nSubject: plain\r\n", "see //例え.jp/x\n");

	(void)state;
	sanitize_idn_case(in, "see //例え[.]jp/x", "plain");
	g_free(in);
}

static void sanitize_idn_subject_passes(void **state)
{
	char *in = msg_b64("From: a <a@example.jp>\r\nSubject: //例え.jp/x\r\n", "本文 http://日本.jp\n");

	(void)state;
	sanitize_idn_case(in, "本文 hxxp://日本[.]jp", "//例え[.]jp/x");
	g_free(in);
}

static void failure_message_passes(void **state)
{
	mail_report_t rep;
	buf_t out;

	(void)state;
	buf_init(&out, 1 << 20);
	assert_int_equal(mail_failure_message(&cfg, "20261130-000000-00000005", "timeout", 10, &out, &rep), 0);
	assert_string_equal(rep.output_check, "");
	assert_passes(&out);
	buf_free(&out);
	report_free(&rep);
}


/* The console line (console_url): exactly console_url/q/ID in the notice,
 * after its label, is the one link let through; an attacker who read the
 * code tries every neighbour of it. */
#define CURL "https://mugai.city.example.lg.jp/console"
#define CID "20261201-031500-0123abcd"
#define CLINE "取り出しの依頼: " CURL "/q/" CID "（受付番号 0123-abcd）\n"
#define CNOTICE_HEAD RULE_JA "\n【無害化済み】このメールは無害化装置 (mugai) がテキスト形式に変換しました。\n"

static void console_line(void **state)
{
	static const struct { const char *text; outcheck_rule_t want; } c[] = {
		{ CNOTICE_HEAD CLINE RULE_JA "\n\nbody\n", OUTCHECK_PASS },
		/* a second copy, in the body */
		{ CNOTICE_HEAD CLINE RULE_JA "\n\n" CLINE, OUTCHECK_SCHEME },
		/* the line below the notice only */
		{ CNOTICE_HEAD RULE_JA "\n\n" CLINE, OUTCHECK_SCHEME },
		/* another id, an id-shaped path under the console, a longer path, a query */
		{ CNOTICE_HEAD "取り出しの依頼: " CURL "/q/20261201-031500-0123abce（受付番号 0123-abce）\n"
		  RULE_JA "\n\n", OUTCHECK_SCHEME },
		{ CNOTICE_HEAD "取り出しの依頼: " CURL "/q/" CID "/../../evil（\n" RULE_JA "\n\n",
		  OUTCHECK_SCHEME },
		{ CNOTICE_HEAD "取り出しの依頼: " CURL "/q/" CID "?next=//evil.example（\n" RULE_JA "\n\n",
		  OUTCHECK_SCHEME },
		{ CNOTICE_HEAD "取り出しの依頼: " CURL ".evil.example/q/" CID "（\n" RULE_JA "\n\n",
		  OUTCHECK_SCHEME },
		/* not at the start of its line, or without the label */
		{ CNOTICE_HEAD "x 取り出しの依頼: " CURL "/q/" CID "（\n" RULE_JA "\n\n", OUTCHECK_SCHEME },
		{ CNOTICE_HEAD CURL "/q/" CID "（\n" RULE_JA "\n\n", OUTCHECK_SCHEME },
		/* no notice at all */
		{ CLINE, OUTCHECK_SCHEME },
	};
	outcheck_opts_t o = opts(DEF), off = opts(DEF);
	outcheck_result_t r;

	(void)state;
	o.console_url = CURL;
	o.id = CID;
	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		int rc = outcheck_text(c[i].text, strlen(c[i].text), true, &o, &r);

		if (r.rule != c[i].want)
			print_error("console %zu: got %s +%zu want %s\n", i, outcheck_rule_name(r.rule),
				    r.offset, outcheck_rule_name(c[i].want));
		assert_int_equal(r.rule, c[i].want);
		assert_int_equal(rc, c[i].want != OUTCHECK_PASS);
	}
	/* without console_url, or in a header, the line is a link like any other */
	assert_int_equal(outcheck_text(c[0].text, strlen(c[0].text), true, &off, &r), 1);
	assert_int_equal(r.rule, OUTCHECK_SCHEME);
	assert_int_equal(outcheck_text(CLINE, strlen(CLINE), false, &o, &r), 1);
	assert_int_equal(r.rule, OUTCHECK_SCHEME);
	/* a custom template: inside its first block only */
	o.custom_notice = true;
	assert_int_equal(outcheck_text("通知\n" CLINE "\nbody\n", strlen("通知\n" CLINE "\nbody\n"),
				       true, &o, &r), 0);
	assert_int_equal(outcheck_text("通知\n\n" CLINE, strlen("通知\n\n" CLINE), true, &o, &r), 1);
}

/* ---- the wide fast paths (SSE2 runs of ASCII and Japanese) ---- */

static outcheck_rule_t check_buf(const char *t, size_t n, int body)
{
	outcheck_opts_t o = opts(DEF);
	outcheck_result_t r;

	(void)outcheck_text(t, n, body, &o, &r);
	return r.rule;
}

/* A forbidden or malformed sequence placed at every offset of a long run
 * of kana (and of printable ASCII) is found: the 16-byte steps never jump
 * over it, whatever its alignment to a step or to a character. */
static void wide_runs_miss_nothing(void **state)
{
	static const char *const bad[] = {
		"\xE2\x80\xAE", /* RLO */  "\xC2\x85", /* C1 */ "\x01", "\x7F",
		"\xE3\x81",     /* truncated */ "\x81", /* lone continuation */
		"\xED\xA0\x80", /* surrogate */ "\xEF\xBB\xBF", /* BOM */ "\r",
		"\xE3\xE3\x81\x82", /* lead without continuations */
		/* a character's place with a bad byte inside: leads stay in step */
		"\xE3\x41\x82", "\xE3\x81\x01", "\xE3\x81\xC2", "\xE3\xF0\x82",
	};
	char t[512];
	(void)state;
	for (int ja = 0; ja < 2; ja++) {
		const char *unit = ja ? "\xE3\x81\x82" : "a"; /* あ */
		size_t ul = strlen(unit);

		for (size_t b = 0; b < sizeof(bad) / sizeof(bad[0]); b++) {
			for (size_t at = 0; at <= 60; at++) {
				size_t n = 0, bl = strlen(bad[b]);

				for (size_t k = 0; k < 60; k++) {
					if (k == at) {
						memcpy(t + n, bad[b], bl);
						n += bl;
					}
					memcpy(t + n, unit, ul);
					n += ul;
				}
				if (at == 60) {
					memcpy(t + n, bad[b], bl);
					n += bl;
				}
				if (check_buf(t, n, BODY) != OUTCHECK_CONTROL)
					print_error("ja=%d bad=%zu at=%zu\n", ja, b, at);
				assert_int_equal(check_buf(t, n, BODY), OUTCHECK_CONTROL);
			}
		}
		/* clean runs of every length pass */
		for (size_t len = 0; len < 60; len++) {
			size_t n = 0;

			for (size_t k = 0; k < len; k++, n += ul)
				memcpy(t + n, unit, ul);
			assert_int_equal(check_buf(t, n, BODY), OUTCHECK_PASS);
		}
	}
}

/* A forged notice marker after a long run of kana, at every alignment,
 * is found by rule 8 (the fast path leaves 【 to the character loop); a
 * bare domain with a path after a long run is found by the link rule. */
static void wide_runs_keep_markers_and_links(void **state)
{
	char t[512];
	(void)state;
	for (size_t pre = 0; pre < 40; pre++) {
		size_t n = 0;

		for (size_t k = 0; k < pre; k++, n += 3)
			memcpy(t + n, "\xE6\x9C\xAC", 3); /* 本 */
		n += (size_t)sprintf(t + n, "\n【隔離】原本\n");
		assert_int_equal(check_buf(t, n, BODY), OUTCHECK_NOTICE);
		n -= strlen("\n【隔離】原本\n");
		n += (size_t)sprintf(t + n, "、example.com/reset です");
		assert_int_equal(check_buf(t, n, BODY), OUTCHECK_DOMAIN);
		n -= strlen("、example.com/reset です");
		n += (size_t)sprintf(t + n, " example.com です。www");
		assert_int_equal(check_buf(t, n, BODY), OUTCHECK_PASS);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(text_rules),
		cmocka_unit_test(wide_runs_miss_nothing),
		cmocka_unit_test(wide_runs_keep_markers_and_links),
		cmocka_unit_test(message_rules),
		cmocka_unit_test(raw_format),
		cmocka_unit_test(notice_far_away),
		cmocka_unit_test(console_line),
		cmocka_unit_test(rule_names),
		cmocka_unit_test(gate_rebuilds_notice_only),
		cmocka_unit_test(gate_falls_back_to_fixed_notice),
		cmocka_unit_test(gate_leaves_passing_message),
		cmocka_unit_test(sanitize_idn_body_passes),
		cmocka_unit_test(sanitize_idn_subject_passes),
		cmocka_unit_test(failure_message_passes),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
