/*
 * test_ppapscan.c — password candidates of a PPAP password mail: exact
 * candidate lists for the usual Japanese and English forms, full-width
 * input, the line after a keyword line, and the bounds (count, length).
 */
#include "testutil.h"

#include "common/defs.h"
#include "common/buf.h"
#include "mail/ppapscan.h"

/* The candidates of text joined with '|'. */
static char *scan(const char *text, long long count, long long len)
{
	ppap_cands_t c;
	buf_t b;

	ppap_cands_init(&c, count, len);
	assert_int_equal(ppap_scan(text, strlen(text), &c), 0);
	buf_init(&b, 1 << 16);
	for (size_t i = 0; i < c.n; i++)
		assert_int_equal(buf_printf(&b, "%s%s", i ? "|" : "", c.v[i]), 0);
	ppap_cands_free(&c);
	assert_int_equal(c.n, 0);
	return b.data ? buf_steal(&b, NULL) : strdup("");
}

typedef struct row {
	const char *text, *want;
} row_t;

static void table(void **st)
{
	static const row_t rows[] = {
		{ "お世話になっております。\nパスワード：Abc123\nよろしくお願いします。", "Abc123" },
		{ "パスワードは「Xy7#kq」です。", "Xy7#kq" },
		{ "【解凍パスワード】 p@ss-W0rd", "p@ss-W0rd" },
		{ "PW: 9f8e7d", "9f8e7d" },
		{ "P/W 以外の行\nPW = q1w2e3", "q1w2e3" },
		{ "The password is Secret42.", "Secret42.|Secret42" },
		{ "Password for the zip file: (HelloZip9)", "HelloZip9|(HelloZip9)" },
		{ "先ほどお送りしたZIPファイルのパスワードをお知らせします。\n\n  Tk83_mq  \n以上です。",
		  "Tk83_mq" },
		{ "パスワード：ＡＢＣ１２３", "ABC123" },  /* full-width */
		{ "パスワード　ｘｙｚ９８７", "xyz987" },      /* U+3000 */
		{ "ﾊﾟｽﾜｰﾄﾞ:hank4ku", "hank4ku" },
		{ "暗証番号：4821", "4821" },
		{ "パスワード：ab12（半角英数字）", "ab12|ab12(" },
		{ "本日はありがとうございました。\nまたよろしくお願いします。", "" },
		{ "compass: north", "" },          /* "pass" only as a word */
		{ "passport 12345", "" },
		{ "password:\r\nZq9-Zq9\r\n", "Zq9-Zq9" },
		{ "パスワード：：：", "" },           /* no letter or digit */
	};

	(void)st;
	for (size_t i = 0; i < MUGAI_ARRAY_LEN(rows); i++) {
		char *got = scan(rows[i].text, 8, 64);

		if (strcmp(got, rows[i].want) != 0)
			fail_msg("row %zu: got [%s] want [%s]", i, got, rows[i].want);
		free(got);
	}
}

static void bounds(void **st)
{
	char *got;

	(void)st;
	got = scan("PW: a1 b2 c3 d4 e5", 3, 64);
	assert_str_eq_msg(got, "a1|b2|c3");
	free(got);
	got = scan("PW: short1 waytoolongpassword123", 8, 10);
	assert_str_eq_msg(got, "short1");
	free(got);
	got = scan("PW: same1\nパスワード: same1", 8, 64); /* distinct */
	assert_str_eq_msg(got, "same1");
	free(got);
}

static void long_line_and_binary(void **st)
{
	size_t n = 3 * PPAP_LINE_MAX;
	char *in = malloc(n + 16);
	char *got;

	(void)st;
	memset(in, 'x', n);
	memcpy(in, "PW: ", 4);
	in[n] = '\0';
	got = scan(in, 8, 64); /* one token longer than max_len: none */
	assert_str_eq_msg(got, "");
	free(got);
	memcpy(in, "\xef\xbc", 2); /* a cut full-width sequence */
	in[2] = '\0';
	got = scan(in, 8, 64);
	assert_str_eq_msg(got, "");
	free(got);
	free(in);
}

static void keyword_lines_capped(void **st)
{
	buf_t in;
	char *got;

	(void)st;
	buf_init(&in, 1 << 20);
	for (int i = 0; i < PPAP_KEYLINES_MAX; i++)
		assert_int_equal(buf_puts(&in, "PW: same1\n"), 0);
	assert_int_equal(buf_puts(&in, "PW: late2\n"), 0); /* past the cap: not read */
	got = scan(in.data, 8, 64);
	assert_str_eq_msg(got, "same1");
	free(got);
	buf_free(&in);
}

int main(void)
{
	const struct CMUnitTest t[] = {
		cmocka_unit_test(table), cmocka_unit_test(bounds),
		cmocka_unit_test(long_line_and_binary), cmocka_unit_test(keyword_lines_capped),
	};

	return cmocka_run_group_tests_name("ppapscan", t, NULL, NULL);
}
