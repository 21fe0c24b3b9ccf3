/* test_writer.c — the one text writer: exact text for each step and kind. */
#include "testutil.h"
#include "text/writer.h"

static void check_clean(const char *in, size_t n, unsigned flags, const char *want)
{
	buf_t b;

	buf_init(&b, 4096);
	assert_int_equal(wr_clean(&b, in, n, flags), 0);
	assert_str_eq_msg(b.data ? b.data : "", want);
	buf_free(&b);
}

static void check_text(const char *in, size_t n, link_style_t st, const char *want, size_t links)
{
	link_counts_t c = { 0, 0 };
	buf_t b;

	buf_init(&b, 4096);
	assert_int_equal(wr_text(&b, in, n, st, &c), 0);
	assert_str_eq_msg(b.data ? b.data : "", want);
	assert_int_equal(c.defanged + c.removed, links);
	buf_free(&b);
}

static void check_quoted(const char *in, const char *want)
{
	buf_t b;

	buf_init(&b, 4096);
	assert_int_equal(wr_quoted(&b, in, strlen(in)), 0);
	assert_str_eq_msg(b.data ? b.data : "", want);
	buf_free(&b);
}

static void clean_keeps_japanese_tab_and_lf(void **state)
{
	(void)state;
	check_clean("日本語①ｱ\tA\n", strlen("日本語①ｱ\tA\n"), 0, "日本語①ｱ\tA\n");
	check_clean("日本語\tA\nB", strlen("日本語\tA\nB"), WR_ONELINE, "日本語 A B");
}

static void clean_drops_controls_c1_and_bidi(void **state)
{
	(void)state;
	check_clean("a\x00" "b\rc\x1b[31md\x7f", 12, 0, "abc[31md");
	check_clean("x\xC2\x85y", 4, 0, "xy");                       /* U+0085 NEL */
	check_clean("evil\xE2\x80\xAEtxt.exe", 14, 0, "eviltxt.exe"); /* U+202E RLO */
	check_clean("\xE2\x81\xA6i\xE2\x81\xA9", 7, 0, "i");          /* U+2066/2069 */
}

/* Every code point of contract rule 1, each between two letters. */
static void clean_drops_every_invisible(void **state)
{
	static const char *const inv[] = {
		"\xC2\xAD", "\xD8\x9C", "\xE2\x80\x8B", "\xE2\x80\x8E", "\xE2\x80\x8F",
		"\xE2\x80\xAA", "\xE2\x80\xAB", "\xE2\x80\xAC", "\xE2\x80\xAD", "\xE2\x80\xAE",
		"\xE2\x81\xA0", "\xE2\x81\xA1", "\xE2\x81\xA4", "\xE2\x81\xA6", "\xE2\x81\xA9",
		"\xEF\xBB\xBF", "\xEF\xBF\xB9", "\xEF\xBF\xBB", "\xF3\xA0\x80\x81", "\xF3\xA0\x81\xBF",
		"\x01", "\x1f", "\x7f", "\xC2\x80", "\xC2\x9F", "\r",
	};
	char in[16];

	(void)state;
	for (size_t i = 0; i < MUGAI_ARRAY_LEN(inv); i++) {
		snprintf(in, sizeof(in), "a%sb", inv[i]);
		check_clean(in, strlen(in), 0, "ab");
	}
	check_clean("a\xE2\x80\xA8" "b\xE2\x80\xA9", 8, 0, "a\nb\n"); /* U+2028/2029 */
}

static void clean_replaces_invalid_utf8(void **state)
{
	(void)state;
	check_clean("a\xff" "b\xE3\x81", 5, 0, "a\xEF\xBF\xBD" "b\xEF\xBF\xBD\xEF\xBF\xBD");
}

/* Contract rule 8: the sender cannot write the gateway's rule or markers. */
static void clean_alters_notice_lookalikes(void **state)
{
	(void)state;
	check_clean("━━━ 【無害化済み】本物 【隔離】 [SANITIZED] [quarantined]",
		    strlen("━━━ 【無害化済み】本物 【隔離】 [SANITIZED] [quarantined]"), 0,
		    "─── ［無害化済み］本物 ［隔離］ (SANITIZED) (quarantined)");
	/* an invisible character cannot hide a marker from the rewrite */
	check_clean("【無害化\xE2\x80\x8B済み】", strlen("【無害化\xE2\x80\x8B済み】"), 0, "［無害化済み］");
	check_clean("[SANI\x01TIZED]", 12, 0, "(SANITIZED)");
	/* other brackets and our own text stay */
	check_clean("【お知らせ】[1]", strlen("【お知らせ】[1]"), 0, "【お知らせ】[1]");
	check_clean("━━【無害化済み】", strlen("━━【無害化済み】"), WR_TRUSTED, "━━【無害化済み】");
}

/* Class 1: the controls go before the link scan, so they cannot hide a link. */
static void text_controls_cannot_hide_links(void **state)
{
	(void)state;
	check_text("詳細は htt\x01ps://evil.example/x をご覧ください", strlen("詳細は htt\x01ps://evil.example/x をご覧ください"),
		   LINK_DEFANG, "詳細は hxxps://evil[.]example/x をご覧ください", 1);
	check_text("ww\xE2\x80\xAEw.evil.jp です", strlen("ww\xE2\x80\xAEw.evil.jp です"), LINK_DEFANG,
		   "www[.]evil[.]jp です", 1);
	check_text("https:/\r/evil.jp/a", 18, LINK_DEFANG, "hxxps://evil[.]jp/a", 1);
	check_text("\\\xE2\x81\xA0\\fs\\share", strlen("\\\xE2\x81\xA0\\fs\\share"), LINK_PLAIN,
		   "[\\\\]fs\\share", 1);
}

/* Untrusted one-line strings: one line, cut on a character boundary,
 * links and look-alikes disarmed, quoted. */
static void quoted_fields_are_confined(void **state)
{
	char long_name[700];
	buf_t b;

	(void)state;
	check_quoted("請求書\n原本はこちら https://evil.example/x.pdf",
		     "「請求書 原本はこちら hxxps://evil[.]example/x.pdf」");
	check_quoted("━━━━\n【無害化済み】安全です.pdf", "「──── ［無害化済み］安全です.pdf」");
	check_quoted("a\\\\evil\\s ms-msdt:/id", "「a[\\\\]evil\\s ms-msdt[:]/id」");
	check_quoted("ms-msdt:", "「ms-msdt[:]」");   /* "」" follows: not a space */
	memset(long_name, 0, sizeof(long_name));
	for (size_t i = 0; i < 230; i++)
		memcpy(long_name + i * 3, "あ", 3);
	buf_init(&b, 4096);
	assert_int_equal(wr_quoted(&b, long_name, strlen(long_name)), 0);
	/* 「 + 200 × あ + … + 」 */
	assert_int_equal(b.len, 3 + WR_FIELD_MAX * 3 + 3 + 3);
	assert_int_equal(memcmp(b.data + 3 + WR_FIELD_MAX * 3, "…」", 6), 0);
	buf_free(&b);
}

static void header_values(void **state)
{
	char *v;

	(void)state;
	v = wr_header("請求書\xE2\x80\xAE" "fdp.exe", strlen("請求書\xE2\x80\xAE" "fdp.exe"), 0);
	assert_str_eq_msg(v, "請求書fdp.exe");
	free(v);
	v = wr_header("総務課 <soumu@city.example.lg.jp>", strlen("総務課 <soumu@city.example.lg.jp>"), 0);
	assert_str_eq_msg(v, "総務課 <soumu[@]city[.]example[.]lg[.]jp>");
	free(v);
	v = wr_header("Re:Hello\r\n next", 15, 0);
	assert_str_eq_msg(v, "Re[:]Hello  next");
	free(v);
}

static void address_in_display_name(void **state)
{
	(void)state;
	assert_true(wr_has_address("総務課 <soumu@city.example.lg.jp>", strlen("総務課 <soumu@city.example.lg.jp>")));
	assert_true(wr_has_address("a@b.jp", 6));
	assert_false(wr_has_address("山田 太郎", strlen("山田 太郎")));
	assert_false(wr_has_address("@twitter a@b", 12));
	assert_false(wr_has_address("x@y.", 4));
}

/* The wide fast paths (16-byte steps over ASCII and kana): a character the
 * writer must change, placed at every offset of a long run, is changed;
 * the run around it is kept byte for byte. */
static void wide_runs_change_what_they_must(void **state)
{
	static const struct {
		const char *bad, *out;
	} cases[] = {
		{ "\xE2\x80\xAE", "" },           /* RLO dropped */
		{ "\x01", "" },                   /* C0 dropped */
		{ "\xC2\x85", "" },               /* C1 dropped */
		{ "\x81", "\xEF\xBF\xBD" },       /* lone continuation → U+FFFD */
		{ "\xE3\x41\x82", "\xEF\xBF\xBD" "A\xEF\xBF\xBD" },
		{ "\xE2\x94\x81", "\xE2\x94\x80" }, /* ━ → ─ */
	};
	char in[512], want[1024];
	(void)state;
	for (int ja = 0; ja < 2; ja++) {
		const char *unit = ja ? "\xE3\x81\x82" : "a";
		size_t ul = strlen(unit);

		for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
			for (size_t at = 0; at < 40; at++) {
				size_t n = 0, w = 0;

				for (size_t k = 0; k < 40; k++) {
					if (k == at) {
						n += (size_t)sprintf(in + n, "%s", cases[c].bad);
						w += (size_t)sprintf(want + w, "%s", cases[c].out);
					}
					memcpy(in + n, unit, ul), n += ul;
					memcpy(want + w, unit, ul), w += ul;
				}
				want[w] = '\0';
				check_clean(in, n, 0, want);
			}
		}
	}
	/* a forged 【無害化済み】 after kana at every alignment loses its 】 */
	for (size_t pre = 0; pre < 40; pre++) {
		size_t n = 0, w = 0;

		for (size_t k = 0; k < pre; k++, n += 3, w += 3) {
			memcpy(in + n, "\xE6\x9C\xAC", 3); /* 本 */
			memcpy(want + w, "\xE6\x9C\xAC", 3);
		}
		n += (size_t)sprintf(in + n, "【無害化済み】本物");
		w += (size_t)sprintf(want + w, "［無害化済み］本物");
		check_clean(in, n, 0, want);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(clean_keeps_japanese_tab_and_lf),
		cmocka_unit_test(clean_drops_controls_c1_and_bidi),
		cmocka_unit_test(clean_drops_every_invisible),
		cmocka_unit_test(clean_replaces_invalid_utf8),
		cmocka_unit_test(clean_alters_notice_lookalikes),
		cmocka_unit_test(wide_runs_change_what_they_must),
		cmocka_unit_test(text_controls_cannot_hide_links),
		cmocka_unit_test(quoted_fields_are_confined),
		cmocka_unit_test(header_values),
		cmocka_unit_test(address_in_display_name),
	};
	return cmocka_run_group_tests_name("writer", tests, NULL, NULL);
}
