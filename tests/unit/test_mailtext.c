/* test_mailtext.c — quoting used for forwarded messages (cleaning: test_writer.c). */
#include "testutil.h"
#include "mail/mail_int.h"

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
		cmocka_unit_test(quote_prefixes_every_line),
	};
	return cmocka_run_group_tests_name("mailtext", tests, NULL, NULL);
}
