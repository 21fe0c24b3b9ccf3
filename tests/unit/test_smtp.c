/* test_smtp.c — the SMTP server protocol pieces (src/daemon/smtp.c):
 * line framing with bare CR/LF refusal and the length limit, command and
 * path parsing, DATA end detection and dot-unstuffing across chunk
 * boundaries. The daemon is not in libmugai.a, so its pure protocol file
 * is compiled into this test directly. */
#include "testutil.h"
#include "daemon/smtp.c"

static void lines(void **state)
{
	static const struct { const char *in; size_t max; smtp_line_t want; size_t len; } t[] = {
		{ "EHLO x\r\n", 100, SMTP_LINE_OK, 6 },
		{ "EHLO x\r\nQUIT\r\n", 100, SMTP_LINE_OK, 6 },
		{ "EHLO x", 100, SMTP_LINE_MORE, 0 },
		{ "EHLO x\r", 100, SMTP_LINE_MORE, 0 },
		{ "EHLO x\n", 100, SMTP_LINE_BARE_LF, 0 },
		{ "EHLO\rx\r\n", 100, SMTP_LINE_BARE_CR, 0 },
		{ "0123456789", 8, SMTP_LINE_TOO_LONG, 0 },
		{ "012345678\r\n", 8, SMTP_LINE_TOO_LONG, 0 },
		{ "01234567\r\n", 8, SMTP_LINE_OK, 8 },
		{ "\r\n", 8, SMTP_LINE_OK, 0 },
	};

	(void)state;
	for (size_t i = 0; i < MUGAI_ARRAY_LEN(t); i++) {
		size_t len = 0, used = 0;
		smtp_line_t r = smtp_line_find(t[i].in, strlen(t[i].in), t[i].max, &len, &used);

		if (r != t[i].want || (r == SMTP_LINE_OK && (len != t[i].len || used != len + 2)))
			print_error("case %zu [%s]: got %d len %zu, want %d len %zu\n", i, t[i].in, r,
				    len, t[i].want, t[i].len);
		assert_int_equal(r, t[i].want);
	}
}

static void commands(void **state)
{
	static const struct {
		const char *in;
		int rc;
		smtp_verb_t verb;
		const char *path;
		long long size;
		bool utf8;
		const char *reply;  /* prefix of the error reply */
	} t[] = {
		{ "EHLO mx.example.jp", 0, SMTP_EHLO, "", -1, false, NULL },
		{ "ehlo mx", 0, SMTP_EHLO, "", -1, false, NULL },
		{ "EHLO", -1, SMTP_EHLO, "", -1, false, "501" },
		{ "MAIL FROM:<a@b.jp>", 0, SMTP_MAIL, "a@b.jp", -1, false, NULL },
		{ "mail from: <a@b.jp> SIZE=1234 BODY=8BITMIME", 0, SMTP_MAIL, "a@b.jp", 1234, false, NULL },
		{ "MAIL FROM:<>", 0, SMTP_MAIL, "", -1, false, NULL },
		{ "MAIL FROM:<\"john doe\"@b.jp>", 0, SMTP_MAIL, "\"john doe\"@b.jp", -1, false, NULL },
		{ "MAIL FROM:<山田@例え.jp> SMTPUTF8", 0, SMTP_MAIL, "山田@例え.jp", -1, false, NULL },
		{ "MAIL FROM:a@b.jp", -1, SMTP_MAIL, "", -1, false, "501 5.5.4" },
		{ "MAIL FROM:<a@b.jp", -1, SMTP_MAIL, "", -1, false, "501 5.5.4" },
		{ "MAIL FROM:<a b@c>", -1, SMTP_MAIL, "", -1, false, "501 5.5.4" },
		{ "MAIL FROM:<a@b.jp> FOO=1", -1, SMTP_MAIL, "", -1, false, "555 5.5.4" },
		{ "MAIL FROM:<a@b.jp> SIZE=x", -1, SMTP_MAIL, "", -1, false, "555" },
		{ "MAIL FROM:<a@b.jp>x", -1, SMTP_MAIL, "", -1, false, "501" },
		{ "RCPT TO:<c@d.jp>", 0, SMTP_RCPT, "c@d.jp", -1, false, NULL },
		{ "RCPT TO:<>", -1, SMTP_RCPT, "", -1, false, "501 5.1.7" },
		{ "RCPT TO:<c@d.jp> NOTIFY=NEVER", -1, SMTP_RCPT, "", -1, false, "555" },
		{ "DATA", 0, SMTP_DATA, "", -1, false, NULL },
		{ "DATA x", -1, SMTP_DATA, "", -1, false, "501" },
		{ "QUIT", 0, SMTP_QUIT, "", -1, false, NULL },
		{ "FOO", -1, SMTP_UNKNOWN, "", -1, false, "500 5.5.2" },
		{ "MAIL FROM:<a\x01@b>", -1, SMTP_UNKNOWN, "", -1, false, "500 5.5.2" },
		{ "MAIL FROM:<\xff@b>", -1, SMTP_UNKNOWN, "", -1, false, "500 5.5.2" },
	};

	(void)state;
	for (size_t i = 0; i < MUGAI_ARRAY_LEN(t); i++) {
		smtp_cmd_t c;
		const char *reply = NULL;
		int rc = smtp_cmd_parse(t[i].in, strlen(t[i].in), &c, &reply);

		if (rc != t[i].rc)
			print_error("case %zu [%s]: got rc %d (%s)\n", i, t[i].in, rc, reply ? reply : "");
		assert_int_equal(rc, t[i].rc);
		if (rc == 0) {
			assert_int_equal(c.verb, t[i].verb);
			assert_str_eq_msg(c.path, t[i].path);
			assert_int_equal(c.size, t[i].size);
		} else {
			assert_non_null(reply);
			assert_true(strncmp(reply, t[i].reply, strlen(t[i].reply)) == 0);
		}
	}
}

static void path_flags(void **state)
{
	smtp_cmd_t c;
	const char *r;
	char longp[400];

	(void)state;
	assert_int_equal(smtp_cmd_parse("MAIL FROM:<山田@例え.jp> SMTPUTF8", strlen("MAIL FROM:<山田@例え.jp> SMTPUTF8"), &c, &r), 0);
	assert_true(c.path_utf8);
	assert_true(c.smtputf8);
	assert_int_equal(smtp_cmd_parse("XFORWARD IDENT=4F2x9Q1 NAME=[UNAVAILABLE]", 40, &c, &r), 0);
	assert_str_eq_msg(c.ident, "4F2x9Q1");
	memset(longp, 'a', sizeof(longp));
	memcpy(longp, "RCPT TO:<", 9);
	memcpy(longp + 300, "@b>", 4);
	assert_int_equal(smtp_cmd_parse(longp, strlen(longp), &c, &r), -1); /* > 256 octets */
}

/* Feed `in` in chunks of `step` bytes; return the status and output. */
static smtp_data_status_t feed(const char *in, size_t n, size_t step, char *out, size_t *olen,
			       size_t *consumed)
{
	smtp_data_t d;
	char tmp[256];
	smtp_data_status_t st = SMTP_DATA_MORE;

	smtp_data_init(&d);
	*olen = 0;
	*consumed = 0;
	while (*consumed < n && st == SMTP_DATA_MORE) {
		size_t k = n - *consumed < step ? n - *consumed : step, o, used;

		st = smtp_data_feed(&d, in + *consumed, k, tmp, &o, &used);
		memcpy(out + *olen, tmp, o);
		*olen += o;
		*consumed += used;
	}
	out[*olen] = '\0';
	return st;
}

static void data(void **state)
{
	static const struct { const char *in; smtp_data_status_t st; const char *out; size_t used; } t[] = {
		{ "a\r\nb\r\n.\r\nQUIT\r\n", SMTP_DATA_DONE, "a\r\nb\r\n", 9 },
		{ ".\r\n", SMTP_DATA_DONE, "", 3 },
		{ "..x\r\n.\r\n", SMTP_DATA_DONE, ".x\r\n", 8 },
		{ ".x\r\n.\r\n", SMTP_DATA_DONE, "x\r\n", 7 },
		{ "...\r\n.\r\n", SMTP_DATA_DONE, "..\r\n", 8 },
		{ "a.\r\n.\r\n", SMTP_DATA_DONE, "a.\r\n", 7 },
		{ "a\r\n", SMTP_DATA_MORE, "a\r\n", 3 },
		{ "a\n.\n", SMTP_DATA_BARE_LF, "a", 2 },
		{ "a\r\n.\n", SMTP_DATA_BARE_LF, "a\r\n", 5 },
		{ "a\rb\r\n.\r\n", SMTP_DATA_BARE_CR, "a", 3 },
		{ "a\r\n.\rx", SMTP_DATA_BARE_CR, "a\r\n", 6 },
		{ "a\r\n\r\n.\r\n", SMTP_DATA_DONE, "a\r\n\r\n", 8 },
	};

	(void)state;
	for (size_t step = 1; step <= 7; step++)
		for (size_t i = 0; i < MUGAI_ARRAY_LEN(t); i++) {
			char out[256];
			size_t olen, used;
			smtp_data_status_t st = feed(t[i].in, strlen(t[i].in), step, out, &olen, &used);

			if (st != t[i].st || strcmp(out, t[i].out) != 0 || used != t[i].used)
				print_error("case %zu step %zu: got st %d used %zu [%s]\n", i, step, st,
					    used, out);
			assert_int_equal(st, t[i].st);
			assert_str_eq_msg(out, t[i].out);
			assert_int_equal(used, t[i].used);
		}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(lines),
		cmocka_unit_test(commands),
		cmocka_unit_test(path_flags),
		cmocka_unit_test(data),
	};

	return cmocka_run_group_tests_name("smtp", tests, NULL, NULL);
}
