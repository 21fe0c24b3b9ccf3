/* test_mailtext.c — text cleaning and quoting used for every rebuilt body. */
#include "testutil.h"
#include "mail/mail_int.h"

static void check_clean(const char *in, size_t n, const char *want)
{
	buf_t b;

	buf_init(&b, 4096);
	assert_int_equal(text_clean_append(&b, in, n), 0);
	assert_str_eq_msg(b.data ? b.data : "", want);
	buf_free(&b);
}

static void clean_keeps_japanese_tab_and_lf(void **state)
{
	(void)state;
	check_clean("日本語①ｱ\tA\n", strlen("日本語①ｱ\tA\n"), "日本語①ｱ\tA\n");
}

static void clean_drops_controls_c1_and_bidi(void **state)
{
	(void)state;
	check_clean("a\x00" "b\rc\x1b[31md\x7f", 12, "abc[31md");
	check_clean("x\xC2\x85y", 4, "xy");                       /* U+0085 NEL */
	check_clean("evil\xE2\x80\xAEtxt.exe", 14, "eviltxt.exe"); /* U+202E RLO */
	check_clean("\xE2\x81\xA6i\xE2\x81\xA9", 7, "i");          /* U+2066/2069 */
}

static void clean_replaces_invalid_utf8(void **state)
{
	(void)state;
	check_clean("a\xff" "b\xE3\x81", 5, "a\xEF\xBF\xBD" "b\xEF\xBF\xBD\xEF\xBF\xBD");
}

static void quote_prefixes_every_line(void **state)
{
	buf_t b;

	(void)state;
	buf_init(&b, 4096);
	assert_int_equal(text_quote(&b, "one\n\ntwo", 8), 0);
	assert_str_eq_msg(b.data, "> one\n>\n> two\n");
	buf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(clean_keeps_japanese_tab_and_lf),
		cmocka_unit_test(clean_drops_controls_c1_and_bidi),
		cmocka_unit_test(clean_replaces_invalid_utf8),
		cmocka_unit_test(quote_prefixes_every_line),
	};
	return cmocka_run_group_tests_name("mailtext", tests, NULL, NULL);
}
