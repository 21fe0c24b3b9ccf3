/*
 * test_outcheck_b64.c — the output check's base64 decoder: its SSSE3 block
 * path against its scalar path, on the same inputs (random alphabet text in
 * 76-character CRLF lines, every padding form, and one invalid character
 * placed at every offset of a block). The decoder is static: this file
 * includes src/mail/outcheck.c and switches the SIMD path off and on.
 */
#include "testutil.h"
#include <stdio.h>
#include "../../src/mail/outcheck.c"

static const char alphabet[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

typedef struct b64_out {
	int rc;
	size_t len;
	char data[8192];
} b64_out_t;

static void decode_with(int simd, const char *s, size_t n, bool lines, b64_out_t *r)
{
	oc_t oc = { 0 };

	have_simd = simd;
	oc.buf = r->data;
	oc.blen = 0;
	r->rc = b64_decode(&oc, s, n, lines);
	r->len = oc.blen;
}

/* Both paths give the same result and the same bytes. */
static void same(const char *s, size_t n, bool lines)
{
	b64_out_t a, b;

	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	decode_with(0, s, n, lines, &a);
	decode_with(1, s, n, lines, &b);
	assert_int_equal(a.rc, b.rc);
	if (a.rc == 0) {
		assert_int_equal(a.len, b.len);
		assert_memory_equal(a.data, b.data, a.len);
	}
}

static size_t random_lines(char *s, size_t cap, size_t chars, unsigned *seed)
{
	size_t n = 0;

	for (size_t i = 0; i < chars && n + 3 < cap; i++) {
		s[n++] = alphabet[rand_r(seed) % 64];
		if (i % 76 == 75) {
			s[n++] = '\r';
			s[n++] = '\n';
		}
	}
	return n;
}

static void known_values(void **state)
{
	b64_out_t r;
	const char *in = "5pel5pys6Kqe44Gu5pys5paH44Gn44GZ44CC5pel5pys6Kqe44Gu5pys5paH44Gn44GZ44CC";

	(void)state;
	decode_with(1, in, strlen(in), true, &r);
	assert_int_equal(r.rc, 0);
	assert_int_equal(r.len, 54);
	assert_memory_equal(r.data, "日本語の本文です。日本語の本文です。", 54);
	decode_with(0, in, strlen(in), true, &r);
	assert_int_equal(r.rc, 0);
	assert_memory_equal(r.data, "日本語の本文です。日本語の本文です。", 54);
}

static void random_text_and_padding(void **state)
{
	unsigned seed = 12345;
	char s[4096];

	(void)state;
	for (int round = 0; round < 2000; round++) {
		size_t chars = (size_t)(rand_r(&seed) % 600);
		size_t n = random_lines(s, sizeof(s) - 4, chars, &seed);

		same(s, n, true);
		same(s, n, false);
		/* padding forms */
		s[n] = '=';
		same(s, n + 1, true);
		s[n + 1] = '=';
		same(s, n + 2, true);
	}
}

static void one_bad_character_anywhere(void **state)
{
	static const char bad[] = { '=', '\r', '\n', ' ', '-', '_', '.', '@', '[', '`', '{',
				    '\x7f', '\x80', '\xff', '\0', ':' };
	unsigned seed = 99;
	char s[256];

	(void)state;
	for (size_t k = 0; k < sizeof(bad); k++) {
		for (size_t at = 0; at < 48; at++) {
			size_t n = random_lines(s, sizeof(s), 64, &seed);

			s[at] = bad[k];
			same(s, n, true);
			same(s, n, false);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(known_values),
		cmocka_unit_test(random_text_and_padding),
		cmocka_unit_test(one_bad_character_anywhere),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
