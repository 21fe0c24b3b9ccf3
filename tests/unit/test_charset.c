/* test_charset.c — charset_decode: Japanese tables, ISO-2022-JP state
 * machine, label fitting and sniffing, losses. Byte strings were derived
 * with Python's cp932/euc_jp codecs and checked against glibc iconv. */
#include "testutil.h"
#include "common/utf8.h"
#include "text/charset.h"

/* ①②㈱№ⅰ㍉髙﨑 */
#define NEC_UTF8 "①②㈱№ⅰ㍉髙﨑"
#define NEC_JIS "\x1B\x24\x42\x2D\x21\x2D\x22\x2D\x6A\x2D\x62\x7C\x71\x2D\x40" \
	"\x7C\x62\x79\x75\x1B\x28\x42"
#define NEC_SJIS "\x87\x40\x87\x41\x87\x8A\x87\x82\xEE\xEF\x87\x5F\xEE\xE0\xED\x95"
/* 日本語テキスト */
#define NIHONGO_JIS "\x1B\x24\x42\x46\x7C\x4B\x5C\x38\x6C\x25\x46\x25\x2D\x25\x39" \
	"\x25\x48\x1B\x28\x42"
#define NIHONGO_UTF8 "\xE6\x97\xA5\xE6\x9C\xAC\xE8\xAA\x9E\xE3\x83\x86\xE3\x82" \
	"\xAD\xE3\x82\xB9\xE3\x83\x88"
/* テスト日本語 */
#define TEST_SJIS "\x83\x65\x83\x58\x83\x67\x93\xFA\x96\x7B\x8C\xEA"

typedef struct res {
	char text[4096];
	charset_stats_t st;
} res_t;

static res_t *dec(const char *label, const char *in, size_t len)
{
	static res_t r;
	buf_t b;

	memset(&r, 0, sizeof(r));
	buf_init(&b, 1 << 20);
	assert_int_equal(charset_decode(label, in, len, &b, &r.st), 0);
	assert_true(utf8_valid(b.data ? b.data : "", b.len));
	assert_true(b.len < sizeof(r.text));
	memcpy(r.text, b.data ? b.data : "", b.len);
	buf_free(&b);
	return &r;
}

#define DEC(label, lit) dec(label, lit, sizeof(lit) - 1)

static void jis_nec_and_ibm_extensions(void **state)
{
	res_t *r = DEC("iso-2022-jp", NEC_JIS);

	(void)state;
	assert_str_eq_msg(r->text, NEC_UTF8);
	assert_int_equal(r->st.losses, 0);
	assert_int_equal(r->st.chars, 8);
	assert_false(r->st.relabelled);
	assert_str_eq_msg(r->st.used, "ISO-2022-JP");
}

static void cp932_nec_and_ibm_extensions(void **state)
{
	res_t *r = DEC("shift_jis", NEC_SJIS "\xFA\x40\xF0\x40");

	(void)state;
	/* FA40 = IBM ⅰ, F040 = user-defined → PUA U+E000 */
	assert_str_eq_msg(r->text, NEC_UTF8 "ⅰ\xEE\x80\x80");
	assert_int_equal(r->st.losses, 0);
}

static void jis_esc_i_halfwidth_kana(void **state)
{
	res_t *r = DEC("ISO-2022-JP", "A\x1B\x28\x49\x31\x32\x33\x1B\x28\x42Z");

	(void)state;
	assert_str_eq_msg(r->text, "AｱｲｳZ");
	assert_int_equal(r->st.losses, 0);
}

static void jis_so_si_and_8bit_kana(void **state)
{
	res_t *r = DEC("iso-2022-jp", "\x0E\x31\x32\x33\x0F-\xB1\xB2");

	(void)state;
	assert_str_eq_msg(r->text, "ｱｲｳ-ｱｲ");
	assert_int_equal(r->st.losses, 0);
}

static void jis_unlabelled(void **state)
{
	res_t *r = DEC(NULL, "Subject " NIHONGO_JIS "!");

	(void)state;
	assert_str_eq_msg(r->text, "Subject 日本語テキスト!");
	assert_str_eq_msg(r->st.used, "ISO-2022-JP");
	assert_false(r->st.relabelled);
}

static void jis_jisx0212(void **state)
{
	res_t *r = DEC("iso-2022-jp-2", "\x1B$(D\x30\x21\x1B(B");

	(void)state;
	assert_str_eq_msg(r->text, "丂");
	assert_int_equal(r->st.losses, 0);
}

static void jis_line_end_resets_to_ascii(void **state)
{
	res_t *r = DEC("iso-2022-jp", "\x1B$B\x30\x21\r\nabc def\r\n");

	(void)state;
	assert_str_eq_msg(r->text, "亜\r\nabc def\r\n");
	assert_int_equal(r->st.losses, 0);
}

static void jis_line_end_keeps_plain_twobyte_line(void **state)
{
	res_t *r = DEC("iso-2022-jp", "\x1B$B\x30\x21\n\x30\x21\x30\x21\x1B(B.");

	(void)state;
	assert_str_eq_msg(r->text, "亜\n亜亜.");
	assert_int_equal(r->st.losses, 0);
}

static void jis_2_latin1_single_shift(void **state)
{
	res_t *r = DEC("iso-2022-jp-2", "caf\x1B.A\x1BNi");

	(void)state;
	assert_str_eq_msg(r->text, "café");
}

static void cp932_labelled_iso2022jp(void **state)
{
	res_t *r = DEC("iso-2022-jp", TEST_SJIS);

	(void)state;
	assert_str_eq_msg(r->text, "テスト日本語");
	assert_int_equal(r->st.losses, 0);
	assert_true(r->st.relabelled);
	assert_str_eq_msg(r->st.used, "CP932");
}

static void utf8_labelled_iso2022jp(void **state)
{
	res_t *r = DEC("iso-2022-jp", NIHONGO_UTF8);

	(void)state;
	assert_str_eq_msg(r->text, "日本語テキスト");
	assert_true(r->st.relabelled);
	assert_str_eq_msg(r->st.used, "UTF-8");
}

static void utf8_labelled_shift_jis(void **state)
{
	res_t *r = DEC("Shift_JIS", NIHONGO_UTF8);

	(void)state;
	assert_str_eq_msg(r->text, "日本語テキスト");
	assert_int_equal(r->st.losses, 0);
	assert_true(r->st.relabelled);
}

static void utf8_labelled_latin1(void **state)
{
	res_t *r = DEC("iso-8859-1", "caf\xC3\xA9 " NIHONGO_UTF8);

	(void)state;
	assert_str_eq_msg(r->text, "café 日本語テキスト");
	assert_str_eq_msg(r->st.used, "UTF-8");
}

static void latin1_stays_latin1(void **state)
{
	res_t *r = DEC("iso-8859-1", "caf\xE9 cr\xE8me \x80 5");

	(void)state;
	assert_str_eq_msg(r->text, "café crème € 5");
	assert_false(r->st.relabelled);
	assert_str_eq_msg(r->st.used, "WINDOWS-1252");
}

static void eucjp_with_jisx0212_ss3(void **state)
{
	/* あ 丂(0x8FB0A1) ｱ(SS2) */
	res_t *r = DEC("euc-jp", "\xA4\xA2\x8F\xB0\xA1\x8E\xB1");

	(void)state;
	assert_str_eq_msg(r->text, "あ丂ｱ");
	assert_int_equal(r->st.losses, 0);
}

static void eucjp_labelled_iso2022jp(void **state)
{
	res_t *r = DEC("iso-2022-jp", "\xA5\xC6\xA5\xB9\xA5\xC8 \xA4\xA2\xA4\xA4");

	(void)state;
	assert_str_eq_msg(r->text, "テスト あい");
	assert_str_eq_msg(r->st.used, "EUC-JP");
	assert_int_equal(r->st.losses, 0);
}

static void eucjp_unlabelled_beats_cp932_kana(void **state)
{
	res_t *r = DEC("", "\xA4\xA2\xA4\xA4");

	(void)state;
	assert_str_eq_msg(r->text, "あい");
	assert_str_eq_msg(r->st.used, "EUC-JP");
}

static void us_ascii_label_over_cp932(void **state)
{
	res_t *r = DEC("us-ascii", "Re: " TEST_SJIS);

	(void)state;
	assert_str_eq_msg(r->text, "Re: テスト日本語");
	assert_true(r->st.relabelled);
	assert_int_equal(r->st.losses, 0);
}

static void undecodable_byte_counted(void **state)
{
	res_t *r = DEC("shift_jis", "\x82\xA0\x80\x82\xA0");

	(void)state;
	assert_str_eq_msg(r->text, "あ\xEF\xBF\xBDあ");
	assert_int_equal(r->st.losses, 1);
	assert_int_equal(r->st.chars, 3);
}

static void jis_truncated_pair_counted(void **state)
{
	res_t *r = DEC("iso-2022-jp", "\x1B$B\x30\x21\x30");

	(void)state;
	assert_str_eq_msg(r->text, "亜\xEF\xBF\xBD");
	assert_int_equal(r->st.losses, 1);
}

static void every_japanese_label(void **state)
{
	static const struct { const char *label, *in, *canon; } t[] = {
		{ "x-sjis", TEST_SJIS, "CP932" },
		{ "shift-jis", TEST_SJIS, "CP932" },
		{ "ms932", TEST_SJIS, "CP932" },
		{ "windows-31j", TEST_SJIS, "CP932" },
		{ "cp932", TEST_SJIS, "CP932" },
		{ "sjis", TEST_SJIS, "CP932" },
		{ "MS_Kanji", TEST_SJIS, "CP932" },
		{ "iso-2022-jp-ms", "\x1B$B\x25\x46\x25\x39\x25\x48\x46\x7C\x4B\x5C"
		  "\x38\x6C\x1B(B", "ISO-2022-JP" },
		{ "csISO2022JP", "\x1B$B\x25\x46\x25\x39\x25\x48\x46\x7C\x4B\x5C"
		  "\x38\x6C\x1B(B", "ISO-2022-JP" },
		{ "x-euc-jp", "\xA5\xC6\xA5\xB9\xA5\xC8\xC6\xFC\xCB\xDC\xB8\xEC", "EUC-JP" },
		{ "eucjp-ms", "\xA5\xC6\xA5\xB9\xA5\xC8\xC6\xFC\xCB\xDC\xB8\xEC", "EUC-JP" },
		{ "utf8", "テスト日本語", "UTF-8" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < MUGAI_ARRAY_LEN(t); i++) {
		res_t *r = dec(t[i].label, t[i].in, strlen(t[i].in));

		assert_str_eq_msg(r->text, "テスト日本語");
		assert_str_eq_msg(charset_canonical(t[i].label), t[i].canon);
		assert_str_eq_msg(r->st.used, t[i].canon);
		assert_false(r->st.relabelled);
		assert_int_equal(r->st.losses, 0);
	}
}

static void iconv_charsets(void **state)
{
	res_t *r;

	(void)state;
	r = DEC("koi8-r", "\xD0\xD2\xC9\xD7\xC5\xD4");
	assert_str_eq_msg(r->text, "привет");
	r = DEC("UTF-16LE", "\xE5\x65\x2C\x67");
	assert_str_eq_msg(r->text, "日本");
	assert_int_equal(r->st.losses, 0);
	r = DEC("x-unknown-thing", "plain");
	assert_str_eq_msg(r->text, "plain");
	assert_null(charset_canonical("x-unknown-thing"));
}

/* Class 8: every language. An honest label is kept; a lie is proven by
 * the bytes; the unlabelled choice is UTF-8, ISO-2022-JP, plausible
 * Japanese, else windows-1252. */
static void expect(const char *label, const char *in, const char *want, const char *used,
		   bool relabelled, size_t losses)
{
	res_t *r = dec(label, in, strlen(in));

	assert_str_eq_msg(r->text, want);
	assert_str_eq_msg(r->st.used, used);
	assert_int_equal(r->st.relabelled, relabelled);
	assert_int_equal(r->st.losses, losses);
}

static void honest_labels_every_language(void **state)
{
	(void)state;
	expect("iso-8859-1", "Fr\xF6sche", "Frösche", "WINDOWS-1252", false, 0);
	expect("ISO-8859-1", "Gr\xF6\xDF" "e", "Größe", "WINDOWS-1252", false, 0);
	expect("iso-8859-1", "Fr\xE9" "d\xE9ric", "Frédéric", "WINDOWS-1252", false, 0);
	expect("windows-1252", "\x93Zitat\x94 \x96 Gr\xF6\xDF" "e \x80" "5",
	       "“Zitat” – Größe €5", "WINDOWS-1252", false, 0);
	expect("windows-1252", "S\xE3o Paulo n\xE3o", "São Paulo não", "WINDOWS-1252", false, 0);
	expect("iso-8859-8-i", "\xF9\xEC\xE5\xED", "שלום", "ISO-8859-8", false, 0);
	expect("iso-8859-7", "\xC5\xEB\xEB\xDC\xE4\xE1", "Ελλάδα", "ISO-8859-7", false, 0);
	expect("iso-8859-2", "\xA3\xF3" "d\xBC", "Łódź", "ISO-8859-2", false, 0);
	expect("KOI8-R", "\xD0\xD2\xC9\xD7\xC5\xD4", "привет", "KOI8-R", false, 0);
	expect("gb2312", "\xD6\xD0\xCE\xC4", "中文", "GBK", false, 0);
	expect("big5", "\xA4\xA4\xA4\xE5", "中文", "BIG5", false, 0);
	expect("euc-kr", "\xC7\xD1\xB1\xB9\xBE\xEE", "한국어", "EUC-KR", false, 0);
	expect("ks_c_5601-1987", "\xC7\xD1\xB1\xB9\xBE\xEE", "한국어", "EUC-KR", false, 0);
}

static void unlabelled_8bit_choice(void **state)
{
	(void)state;
	/* ® is half-width katakana in CP932, é+d a kanji, ’+s a kanji */
	expect(NULL, "Intel\xAE", "Intel®", "WINDOWS-1252", false, 0);
	expect("us-ascii", "Intel\xAE", "Intel®", "WINDOWS-1252", true, 0);
	expect("us-ascii", "Fr\xE9" "d\xE9ric", "Frédéric", "WINDOWS-1252", true, 0);
	expect("", "It\x92s", "It’s", "WINDOWS-1252", false, 0);
	expect("", "Fr\xF6sche", "Frösche", "WINDOWS-1252", false, 0);
	/* short kanji-only Japanese still reads as Japanese */
	expect("", "\x89\xEF\x8B\x63", "会議", "CP932", false, 0);
	expect(NULL, TEST_SJIS, "テスト日本語", "CP932", false, 0);
	assert_str_eq_msg(charset_sniff("Intel\xAE", 6), "WINDOWS-1252");
	assert_str_eq_msg(charset_sniff("\x95\x5C.txt", 6), "CP932");
	assert_str_eq_msg(charset_sniff("caf\xE9", 4), "WINDOWS-1252");
}

static void label_proven_false(void **state)
{
	(void)state;
	/* Japanese under a Latin label: kana make it plausible */
	expect("iso-8859-1", TEST_SJIS, "テスト日本語", "CP932", true, 0);
	/* a Hebrew label with a byte ISO-8859-8 does not define: the label
	 * stays (no plausible other reading) and the loss is counted */
	expect("iso-8859-8", "\xF9\xEC\xE5\xED\xFF", "שלום\xEF\xBF\xBD", "ISO-8859-8", false, 1);
	/* Shift_JIS bytes under ISO-8859-8: 0xCC (in の) is undefined there */
	expect("iso-8859-8", TEST_SJIS "\x82\xCC", "テスト日本語の", "CP932", true, 0);
	/* Shift_JIS bytes that ISO-8859-8 defines: the honest-looking label
	 * is not proven false and stays (every byte decodes) */
	expect("iso-8859-8", "\x83\x65", "\xC2\x83" "e", "ISO-8859-8", false, 0);
}

static void nul_and_controls_pass(void **state)
{
	res_t *r = dec("utf-8", "a\0b\x01", 4);

	(void)state;
	assert_memory_equal(r->text, "a\0b\x01", 4);
	assert_int_equal(r->st.chars, 4);
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *p;
	long n;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	p = malloc((size_t)n + 1);
	assert_non_null(p);
	assert_int_equal(fread(p, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	p[n] = '\0';
	*len = (size_t)n;
	return p;
}

static void oracle_one(const char *label, const char *file, const char *want)
{
	size_t n;
	char *in = slurp(file, &n);
	charset_stats_t st = { 0 };
	buf_t b;

	assert_non_null(in);
	buf_init(&b, 1 << 20);
	assert_int_equal(charset_decode(label, in, n, &b, &st), 0);
	assert_str_eq_msg(b.data, want);
	assert_int_equal(st.losses, 0);
	buf_free(&b);
	free(in);
}

static void oracle_gmime_japanese(void **state)
{
	const char *dir = "../shared/corpus/text/jp/";
	char path[256];
	size_t n;
	char *want;

	(void)state;
	snprintf(path, sizeof(path), "%sgmime_japanese.utf-8.txt", dir);
	if (!(want = slurp(path, &n)))
		skip();
	snprintf(path, sizeof(path), "%sgmime_japanese.iso-2022-jp.txt", dir);
	oracle_one("iso-2022-jp", path, want);
	oracle_one(NULL, path, want);
	snprintf(path, sizeof(path), "%sgmime_japanese.shift-jis.txt", dir);
	oracle_one("shift_jis", path, want);
	oracle_one(NULL, path, want);
	free(want);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(jis_nec_and_ibm_extensions),
		cmocka_unit_test(cp932_nec_and_ibm_extensions),
		cmocka_unit_test(jis_esc_i_halfwidth_kana),
		cmocka_unit_test(jis_so_si_and_8bit_kana),
		cmocka_unit_test(jis_unlabelled),
		cmocka_unit_test(jis_jisx0212),
		cmocka_unit_test(jis_line_end_resets_to_ascii),
		cmocka_unit_test(jis_line_end_keeps_plain_twobyte_line),
		cmocka_unit_test(jis_2_latin1_single_shift),
		cmocka_unit_test(cp932_labelled_iso2022jp),
		cmocka_unit_test(utf8_labelled_iso2022jp),
		cmocka_unit_test(utf8_labelled_shift_jis),
		cmocka_unit_test(utf8_labelled_latin1),
		cmocka_unit_test(latin1_stays_latin1),
		cmocka_unit_test(eucjp_with_jisx0212_ss3),
		cmocka_unit_test(eucjp_labelled_iso2022jp),
		cmocka_unit_test(eucjp_unlabelled_beats_cp932_kana),
		cmocka_unit_test(us_ascii_label_over_cp932),
		cmocka_unit_test(undecodable_byte_counted),
		cmocka_unit_test(jis_truncated_pair_counted),
		cmocka_unit_test(every_japanese_label),
		cmocka_unit_test(iconv_charsets),
		cmocka_unit_test(nul_and_controls_pass),
		cmocka_unit_test(honest_labels_every_language),
		cmocka_unit_test(unlabelled_8bit_choice),
		cmocka_unit_test(label_proven_false),
		cmocka_unit_test(oracle_gmime_japanese),
	};

	if (charset_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
