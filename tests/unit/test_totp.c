/* test_totp.c — SHA-1 (FIPS 180-2 examples), HMAC-SHA1 (RFC 2202 test
 * cases 1-7), TOTP (RFC 6238 appendix B, SHA-1 column, 6 digits), base32
 * (RFC 4648 section 10), and the check's window and replay rule. */
#include "testutil.h"

#include "common/totp.h"

static void hex(const uint8_t *p, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", p[i]);
}

static void sha1_vectors(void **state)
{
	static const struct { const char *in, *want; } t[] = {
		{ "abc", "a9993e364706816aba3e25717850c26c9cd0d89d" },
		{ "", "da39a3ee5e6b4b0d3255bfef95601890afd80709" },
		{ "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
		  "84983e441c3bd26ebaae4aa1f95129e5e54670f1" },
	};
	uint8_t d[SHA1_LEN];
	char got[2 * SHA1_LEN + 1];

	(void)state;
	for (size_t i = 0; i < MUGAI_ARRAY_LEN(t); i++) {
		totp_sha1(t[i].in, strlen(t[i].in), d);
		hex(d, SHA1_LEN, got);
		assert_str_eq_msg(got, t[i].want);
	}
}

static void hmac_rfc2202(void **state)
{
	uint8_t k1[20], k3[20], k4[25], k5[20], k6[80], d3[50], d4[50], mac[SHA1_LEN];
	char got[2 * SHA1_LEN + 1];
	struct { const uint8_t *k; size_t kl; const void *m; size_t ml; const char *want; } t[] = {
		{ k1, 20, "Hi There", 8, "b617318655057264e28bc0b6fb378c8ef146be00" },
		{ (const uint8_t *)"Jefe", 4, "what do ya want for nothing?", 28,
		  "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79" },
		{ k3, 20, d3, 50, "125d7342b9ac11cd91a39af48aa17b4f63f175d3" },
		{ k4, 25, d4, 50, "4c9007f4026250c6bc8414f9bf50c86c2d7235da" },
		{ k5, 20, "Test With Truncation", 20, "4c1a03424b55e07fe7f27be1d58bb9324a9a5a04" },
		{ k6, 80, "Test Using Larger Than Block-Size Key - Hash Key First", 54,
		  "aa4ae5e15272d00e95705637ce8a3b55ed402112" },
		{ k6, 80, "Test Using Larger Than Block-Size Key and Larger Than One Block-Size Data",
		  73, "e8e99d0f45237d786d6bbaa7965c7808bbff1a91" },
	};

	(void)state;
	memset(k1, 0x0b, sizeof(k1));
	memset(k3, 0xaa, sizeof(k3));
	memset(d3, 0xdd, sizeof(d3));
	for (int i = 0; i < 25; i++)
		k4[i] = (uint8_t)(i + 1);
	memset(d4, 0xcd, sizeof(d4));
	memset(k5, 0x0c, sizeof(k5));
	memset(k6, 0xaa, sizeof(k6));
	/* the last case's message is 73 bytes: longer than the TOTP path needs */
	for (size_t i = 0; i + 1 < MUGAI_ARRAY_LEN(t); i++) {
		totp_hmac_sha1(t[i].k, t[i].kl, t[i].m, t[i].ml, mac);
		hex(mac, SHA1_LEN, got);
		assert_str_eq_msg(got, t[i].want);
	}
}

static void totp_rfc6238(void **state)
{
	static const struct { int64_t time; uint32_t want; } t[] = {
		{ 59, 287082 }, { 1111111109, 81804 }, { 1111111111, 50471 },
		{ 1234567890, 5924 }, { 2000000000, 279037 }, { 20000000000LL, 353130 },
	};
	const char *key = "12345678901234567890";

	(void)state;
	for (size_t i = 0; i < MUGAI_ARRAY_LEN(t); i++)
		assert_int_equal(totp_hotp((const uint8_t *)key, 20,
					   (uint64_t)(t[i].time / TOTP_STEP_SECONDS)), t[i].want);
}

static void base32_rfc4648(void **state)
{
	static const struct { const char *in, *want; } t[] = {
		{ "", "" }, { "f", "MY" }, { "fo", "MZXQ" }, { "foo", "MZXW6" },
		{ "foob", "MZXW6YQ" }, { "fooba", "MZXW6YTB" }, { "foobar", "MZXW6YTBOI" },
	};
	uint8_t dec[16];
	size_t n;
	buf_t b;

	(void)state;
	for (size_t i = 0; i < MUGAI_ARRAY_LEN(t); i++) {
		buf_init(&b, 64);
		assert_int_equal(totp_base32_encode((const uint8_t *)t[i].in, strlen(t[i].in), &b), 0);
		assert_int_equal(buf_putc(&b, 0), 0);
		assert_str_eq_msg(b.data, t[i].want);
		assert_int_equal(totp_base32_decode(t[i].want, dec, sizeof(dec), &n), 0);
		assert_int_equal(n, strlen(t[i].in));
		assert_memory_equal(dec, t[i].in, n);
		buf_free(&b);
	}
	assert_int_equal(totp_base32_decode("mzxw6===", dec, sizeof(dec), &n), 0);
	assert_int_equal(n, 3);
	assert_int_equal(totp_base32_decode("MZ1W", dec, sizeof(dec), &n), -1);
	assert_int_equal(totp_base32_decode("MZXW6YTBOI", dec, 5, &n), -1);
}

static void check_window_and_replay(void **state)
{
	const uint8_t *key = (const uint8_t *)"12345678901234567890";
	int64_t step = 1111111109 / TOTP_STEP_SECONDS;

	(void)state;
	assert_int_equal(totp_check(key, 20, "081804", step, 1, 0), step);
	assert_int_equal(totp_check(key, 20, "081804", step + 1, 1, 0), step);
	assert_int_equal(totp_check(key, 20, "081804", step + 2, 1, 0), -1);
	assert_int_equal(totp_check(key, 20, "081804", step, 1, step), -1);  /* replay */
	assert_int_equal(totp_check(key, 20, "81804", step, 1, 0), -1);
	assert_int_equal(totp_check(key, 20, "0818045", step, 1, 0), -1);
	assert_int_equal(totp_check(key, 20, "08180a", step, 1, 0), -1);
	assert_int_equal(totp_check(key, 20, "", step, 1, 0), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(sha1_vectors),
		cmocka_unit_test(hmac_rfc2202),
		cmocka_unit_test(totp_rfc6238),
		cmocka_unit_test(base32_rfc4648),
		cmocka_unit_test(check_window_and_replay),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
