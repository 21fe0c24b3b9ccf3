/* test_hdr.c — header decoding: encoded-words (split characters, wrong
 * labels, folding), raw 8-bit, structured normalisation (address
 * injection checked with GMime's parser), RFC 2231 parameters. Byte strings
 * were derived with Python's codecs and base64 modules. */
#include "testutil.h"
#include <gmime/gmime.h>
#include "common/utf8.h"
#include "text/hdr.h"

static char got[4096];
static charset_stats_t st;

typedef int (*hfn)(const char *, size_t, buf_t *, charset_stats_t *);

static const char *run(hfn f, const char *in)
{
	buf_t b;

	memset(&st, 0, sizeof(st));
	buf_init(&b, 1 << 16);
	assert_int_equal(f(in, strlen(in), &b, &st), 0);
	assert_true(utf8_valid(b.data ? b.data : "", b.len));
	assert_true(b.len < sizeof(got));
	memcpy(got, b.data ? b.data : "", b.len);
	got[b.len] = '\0';
	buf_free(&b);
	return got;
}

#define TEXT(in) run(hdr_decode_text, in)
#define STRUCT(in) run(hdr_normalize_structured, in)

static const char *param(const char *in, const char *name, int want_rc)
{
	buf_t b;

	memset(&st, 0, sizeof(st));
	buf_init(&b, 1 << 16);
	assert_int_equal(hdr_param(in, strlen(in), name, &b, &st), want_rc);
	memcpy(got, b.data ? b.data : "", b.len);
	got[b.len] = '\0';
	buf_free(&b);
	return got;
}

static void subject_iso2022jp_nec(void **state)
{
	(void)state;
	assert_str_eq_msg(TEXT(" =?ISO-2022-JP?B?GyRCLSEtIi1qLWJ8cS1AfGJ5dRsoQg==?="),
			  "①②㈱№ⅰ㍉髙﨑");
	assert_int_equal(st.losses, 0);
}

static void subject_escape_split_across_words(void **state)
{
	(void)state;
	assert_str_eq_msg(TEXT("=?iso-2022-jp?B?GyRC?= =?iso-2022-jp?B?MCEbKEI=?= x"),
			  "亜 x");
}

static void subject_utf8_split_mid_character(void **state)
{
	(void)state;
	assert_str_eq_msg(TEXT("=?UTF-8?B?5pc=?==?utf-8?b?peacrA==?="), "日本");
	assert_int_equal(st.losses, 0);
}

static void subject_split_across_folded_lines(void **state)
{
	(void)state;
	assert_str_eq_msg(TEXT("Re: =?UTF-8?B?5pc?=\r\n\t=?UTF-8?B?peacrA?=\r\n end"),
			  "Re: 日本 end");
}

static void subject_wrong_label(void **state)
{
	(void)state;
	assert_str_eq_msg(TEXT("=?iso-8859-1?B?5pel5pys6Kqe?="), "日本語");
	assert_true(st.relabelled);
	assert_str_eq_msg(TEXT("=?us-ascii?Q?=82=A0?="), "あ");
}

static void subject_q_underscore_and_language(void **state)
{
	(void)state;
	assert_str_eq_msg(TEXT("=?utf-8*ja?Q?a_b=E3=81=82?= (c)"), "a bあ (c)");
}

static void subject_raw_cp932(void **state)
{
	(void)state;
	assert_str_eq_msg(TEXT("Re: \x83\x65\x83\x58\x83\x67"), "Re: テスト");
	assert_str_eq_msg(st.used, "CP932");
}

static void subject_raw_utf8_and_raw_jis(void **state)
{
	(void)state;
	assert_str_eq_msg(TEXT("Re: テスト"), "Re: テスト");
	assert_str_eq_msg(TEXT("\x1B$B\x30\x21\x1B(B x"), "亜 x");
}

static void subject_controls_become_spaces(void **state)
{
	(void)state;
	assert_str_eq_msg(TEXT("a\tb\r\n   c =?utf-8?q?d=0D=0Ae=00f?="),
			  "a b c d  e f");
}

static void subject_not_a_word_stays(void **state)
{
	(void)state;
	assert_str_eq_msg(TEXT("=?utf-8?x?abc?= =?utf-8?q?a b?="),
			  "=?utf-8?x?abc?= =?utf-8?q?a b?=");
}

static int count_mailboxes(const char *s)
{
	InternetAddressList *l = internet_address_list_parse(NULL, s);
	int n = -1, i;

	if (!l)
		return -1;
	n = internet_address_list_length(l);
	for (i = 0; i < n; i++)
		if (!INTERNET_ADDRESS_IS_MAILBOX(internet_address_list_get_address(l, i)))
			n = -1;
	g_object_unref(l);
	return n;
}

static void structured_injection_stays_one_address(void **state)
{
	InternetAddressList *l;
	const char *norm;

	(void)state;
	norm = STRUCT("=?utf-8?q?evil=40x.com=20<a@b>?= <real@z>");
	assert_null(strstr(norm, "a@b"));
	assert_int_equal(count_mailboxes(norm), 1);
	l = internet_address_list_parse(NULL, norm);
	assert_str_eq_msg(internet_address_mailbox_get_addr(
		INTERNET_ADDRESS_MAILBOX(internet_address_list_get_address(l, 0))),
		"real@z");
	assert_str_eq_msg(internet_address_get_name(internet_address_list_get_address(l, 0)),
			  "evil@x.com <a@b>");
	g_object_unref(l);
}

static void structured_quoted_word_escaped(void **state)
{
	(void)state;
	assert_str_eq_msg(STRUCT("\"=?utf-8?q?a=22b=5Cc?=\" <x@y>"),
			  "\"a\\\"b\\\\c\" <x@y>");
	assert_int_equal(count_mailboxes(got), 1);
}

static void structured_raw_cp932_with_backslash_trail(void **state)
{
	(void)state;
	/* 表 = 95 5C: the trail byte is '\\' and must not escape the quote */
	assert_str_eq_msg(STRUCT("\"\x95\x5C\" <x@y>, \x83\x65\x83\x58\x83\x67 <z@w>"),
			  "\"表\" <x@y>, テスト <z@w>");
	assert_int_equal(count_mailboxes(got), 2);
}

static void structured_raw_jis_quote_byte_inside_quotes(void **state)
{
	(void)state;
	/* あ in JIS X 0208 is 0x24 0x22: the second byte is '"' */
	assert_str_eq_msg(STRUCT("\"\x1B$B\x24\x22\x1B(B\" <x@y>"), "\"あ\" <x@y>");
	assert_int_equal(count_mailboxes(got), 1);
}

static void structured_word_run_becomes_one_utf8_word(void **state)
{
	(void)state;
	assert_str_eq_msg(STRUCT("=?iso-2022-jp?B?GyRC?=\r\n =?iso-2022-jp?B?MCEbKEI=?= <a@b>"),
			  "=?UTF-8?B?5Lqc?= <a@b>");
	assert_str_eq_msg(STRUCT("<=?utf-8?q?x?=@example.com>"),
			  "<=?utf-8?q?x?=@example.com>");
}

static void param_rfc2231_continuation_iso2022jp(void **state)
{
	(void)state;
	assert_str_eq_msg(param("attachment; filename*1*=%46%25%2D%25%39%25%48%1B%28%42%2E%74%78%74;\r\n"
				" filename*0*=ISO-2022-JP'ja'%1B%24%42%46%7C%4B%5C%38%6C%25",
				"filename", 1),
			  "日本語テキスト.txt");
	assert_int_equal(st.losses, 0);
}

static void param_rfc2231_single_and_plain_sections(void **state)
{
	(void)state;
	assert_str_eq_msg(param("attachment; filename=\"fallback.txt\"; "
				"filename*=UTF-8''%E6%97%A5%E6%9C%AC.txt", "filename", 1),
			  "日本.txt");
	assert_str_eq_msg(param("text/plain; NAME*0=\"a b\"; name*1=c.txt", "name", 1),
			  "a bc.txt");
	/* an empty value is present and empty (found by fuzz_mail under
	 * UBSan: nothing had been kept, so there was no buffer to point into) */
	assert_str_eq_msg(param("image/gif; name=\"\"", "name", 1), "");
	assert_str_eq_msg(param("image/gif; name=", "name", 1), "");
}

static void param_rfc2231_wrong_charset(void **state)
{
	(void)state;
	assert_str_eq_msg(param("attachment; filename*=iso-8859-1'en'%E6%97%A5.txt",
				"filename", 1), "日.txt");
	assert_true(st.relabelled);
}

static void param_rfc2047_in_quoted_value(void **state)
{
	(void)state;
	assert_str_eq_msg(param("application/pdf; name=\"=?ISO-2022-JP?B?GyRCRnxLXDhsJUYlLSU5JUgbKEIudHh0?=\"",
				"name", 1),
			  "日本語テキスト.txt");
}

static void param_raw_cp932_and_utf8_filename(void **state)
{
	(void)state;
	assert_str_eq_msg(param("attachment; filename=\"\x95\x5C.txt\"", "filename", 1),
			  "表.txt");
	assert_str_eq_msg(param("attachment; filename=\"表.txt\"", "filename", 1),
			  "表.txt");
}

/* Class 8 in headers: honest labels in every language, the unlabelled
 * choice for raw 8-bit, RFC 2231 charsets. */
static void words_every_language(void **state)
{
	(void)state;
	assert_str_eq_msg(TEXT("=?iso-8859-1?Q?Fr=F6sche?="), "Frösche");
	assert_false(st.relabelled);
	assert_str_eq_msg(TEXT("=?windows-1252?Q?Intel=AE_=93neu=94?="), "Intel® “neu”");
	assert_str_eq_msg(TEXT("=?koi8-r?B?0NLJ18XU?="), "привет");
	assert_str_eq_msg(TEXT("=?gb2312?B?1tDOxA==?="), "中文");
	assert_str_eq_msg(TEXT("=?big5?Q?=A4=A4=A4=E5?="), "中文");
	assert_str_eq_msg(TEXT("=?ks_c_5601-1987?B?x9Gxub7u?="), "한국어");
	assert_str_eq_msg(TEXT("=?iso-8859-8-i?B?+ezl7Q==?="), "שלום");
	assert_int_equal(st.losses, 0);
}

static void raw_8bit_latin_stays_latin(void **state)
{
	(void)state;
	assert_str_eq_msg(TEXT("Intel\xAE Fr\xE9" "d\xE9ric"), "Intel® Frédéric");
	assert_int_equal(st.losses, 0);
}

static void param_rfc2231_every_language(void **state)
{
	(void)state;
	assert_str_eq_msg(param("attachment; filename*=iso-8859-1''Fr%F6sche.pdf", "filename", 1),
			  "Frösche.pdf");
	assert_false(st.relabelled);
	assert_str_eq_msg(param("attachment; filename*=big5''%A4%A4%A4%E5.txt", "filename", 1),
			  "中文.txt");
	assert_str_eq_msg(param("attachment; filename*=koi8-r''%D0%D2%C9%D7%C5%D4.doc",
				"filename", 1), "привет.doc");
}

static void param_absent(void **state)
{
	(void)state;
	assert_str_eq_msg(param("attachment; size=3; xfilename=a", "filename", 0), "");
}

/* hdr_encode_text (the releaser's Subject): words of at most 75
 * characters, no character split, and our own decoder reads it back. */
static void encode_round_trip(void **state)
{
	const char *subj = "【承認済・原本】見積書（令和8年度 第3四半期 分）𠮷野家 ① ABC abc 123";
	buf_t b;

	(void)state;
	buf_init(&b, 1 << 16);
	assert_int_equal(hdr_encode_text(&b, subj, strlen(subj)), 0);
	assert_int_equal(buf_putc(&b, '\0'), 0);
	for (const char *w = b.data; w;) {
		const char *e = strstr(w, "\r\n ");
		size_t n = e ? (size_t)(e - w) : strlen(w);

		assert_true(n <= 75);
		assert_true(strncmp(w, "=?UTF-8?B?", 10) == 0 && strncmp(w + n - 2, "?=", 2) == 0);
		w = e ? e + 3 : NULL;
	}
	assert_str_eq_msg(TEXT(b.data), subj);
	buf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(subject_iso2022jp_nec),
		cmocka_unit_test(subject_escape_split_across_words),
		cmocka_unit_test(subject_utf8_split_mid_character),
		cmocka_unit_test(subject_split_across_folded_lines),
		cmocka_unit_test(subject_wrong_label),
		cmocka_unit_test(subject_q_underscore_and_language),
		cmocka_unit_test(subject_raw_cp932),
		cmocka_unit_test(subject_raw_utf8_and_raw_jis),
		cmocka_unit_test(subject_controls_become_spaces),
		cmocka_unit_test(subject_not_a_word_stays),
		cmocka_unit_test(structured_injection_stays_one_address),
		cmocka_unit_test(structured_quoted_word_escaped),
		cmocka_unit_test(structured_raw_cp932_with_backslash_trail),
		cmocka_unit_test(structured_raw_jis_quote_byte_inside_quotes),
		cmocka_unit_test(structured_word_run_becomes_one_utf8_word),
		cmocka_unit_test(param_rfc2231_continuation_iso2022jp),
		cmocka_unit_test(param_rfc2231_single_and_plain_sections),
		cmocka_unit_test(param_rfc2231_wrong_charset),
		cmocka_unit_test(param_rfc2047_in_quoted_value),
		cmocka_unit_test(param_raw_cp932_and_utf8_filename),
		cmocka_unit_test(param_absent),
		cmocka_unit_test(words_every_language),
		cmocka_unit_test(raw_8bit_latin_stays_latin),
		cmocka_unit_test(param_rfc2231_every_language),
		cmocka_unit_test(encode_round_trip),
	};

	g_mime_init();
	if (charset_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
