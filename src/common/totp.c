/*
 * totp.c — SHA-1, HMAC-SHA1, HOTP/TOTP and base32 for the console's second
 * factor. Specs: FIPS 180-4 (SHA-1), RFC 2104 (HMAC), RFC 4226 (HOTP),
 * RFC 6238 (TOTP), RFC 4648 (base32). Test vectors: tests/unit/test_totp.c.
 *
 * SECURITY: no I/O, no clock; the code typed by a person is compared in
 * constant time over all its digits, and a used step is never accepted again.
 */
#include "common/totp.h"

#include <string.h>

static uint32_t rol(uint32_t x, int n) { return (x << n) | (x >> (32 - n)); }

static void sha1_block(uint32_t h[5], const uint8_t *p)
{
	uint32_t w[80], a = h[0], b = h[1], c = h[2], d = h[3], e = h[4];

	for (int i = 0; i < 16; i++)
		w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 |
		       (uint32_t)p[4 * i + 2] << 8 | p[4 * i + 3];
	for (int i = 16; i < 80; i++)
		w[i] = rol(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
	for (int i = 0; i < 80; i++) {
		uint32_t f, k, t;

		if (i < 20)
			f = (b & c) | (~b & d), k = 0x5A827999;
		else if (i < 40)
			f = b ^ c ^ d, k = 0x6ED9EBA1;
		else if (i < 60)
			f = (b & c) | (b & d) | (c & d), k = 0x8F1BBCDC;
		else
			f = b ^ c ^ d, k = 0xCA62C1D6;
		t = rol(a, 5) + f + e + k + w[i];
		e = d, d = c, c = rol(b, 30), b = a, a = t;
	}
	h[0] += a, h[1] += b, h[2] += c, h[3] += d, h[4] += e;
}

void totp_sha1(const void *data, size_t len, uint8_t out[SHA1_LEN])
{
	uint32_t h[5] = { 0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476, 0xC3D2E1F0 };
	const uint8_t *p = data;
	uint8_t tail[128] = { 0 };
	size_t full = len / 64 * 64, rest = len - full, tn;
	uint64_t bits = (uint64_t)len * 8;

	for (size_t i = 0; i < full; i += 64)
		sha1_block(h, p + i);
	memcpy(tail, p + full, rest);
	tail[rest] = 0x80;
	tn = rest + 1 + 8 <= 64 ? 64 : 128;
	for (int i = 0; i < 8; i++)
		tail[tn - 1 - i] = (uint8_t)(bits >> (8 * i));
	for (size_t i = 0; i < tn; i += 64)
		sha1_block(h, tail + i);
	for (int i = 0; i < 5; i++)
		for (int j = 0; j < 4; j++)
			out[4 * i + j] = (uint8_t)(h[i] >> (24 - 8 * j));
}

/* HMAC over a message of at most 64 bytes (TOTP's is 8; the tests' are short). */
void totp_hmac_sha1(const void *key, size_t klen, const void *msg, size_t mlen,
		    uint8_t out[SHA1_LEN])
{
	uint8_t k[64] = { 0 }, buf[64 + 64], inner[SHA1_LEN];

	if (klen > 64)
		totp_sha1(key, klen, k);
	else
		memcpy(k, key, klen);
	if (mlen > 64)
		mlen = 64;
	for (int i = 0; i < 64; i++)
		buf[i] = k[i] ^ 0x36;
	memcpy(buf + 64, msg, mlen);
	totp_sha1(buf, 64 + mlen, inner);
	for (int i = 0; i < 64; i++)
		buf[i] = k[i] ^ 0x5c;
	memcpy(buf + 64, inner, SHA1_LEN);
	totp_sha1(buf, 64 + SHA1_LEN, out);
}

uint32_t totp_hotp(const uint8_t *key, size_t klen, uint64_t counter)
{
	uint8_t msg[8], mac[SHA1_LEN];
	uint32_t v;
	int off;

	for (int i = 0; i < 8; i++)
		msg[i] = (uint8_t)(counter >> (56 - 8 * i));
	totp_hmac_sha1(key, klen, msg, sizeof(msg), mac);
	off = mac[SHA1_LEN - 1] & 0x0f;
	v = ((uint32_t)(mac[off] & 0x7f) << 24) | (uint32_t)mac[off + 1] << 16 |
	    (uint32_t)mac[off + 2] << 8 | mac[off + 3];
	return v % 1000000u;
}

static const char b32[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

int totp_base32_encode(const uint8_t *in, size_t n, buf_t *out)
{
	uint32_t acc = 0;
	int bits = 0;

	for (size_t i = 0; i < n; i++) {
		acc = (acc << 8) | in[i];
		bits += 8;
		while (bits >= 5) {
			if (buf_putc(out, b32[(acc >> (bits - 5)) & 31]) < 0)
				return -1;
			bits -= 5;
		}
	}
	if (bits > 0 && buf_putc(out, b32[(acc << (5 - bits)) & 31]) < 0)
		return -1;
	return 0;
}

static int b32_value(char c)
{
	if (c >= 'a' && c <= 'z')
		c = (char)(c - 'a' + 'A');
	for (int i = 0; i < 32; i++)
		if (b32[i] == c)
			return i;
	return -1;
}

int totp_base32_decode(const char *in, uint8_t *out, size_t cap, size_t *n)
{
	uint32_t acc = 0;
	int bits = 0;

	*n = 0;
	for (; *in && *in != '='; in++) {
		int v = b32_value(*in);

		if (v < 0)
			return -1;
		acc = (acc << 5) | (uint32_t)v;
		bits += 5;
		if (bits >= 8) {
			if (*n >= cap)
				return -1;
			out[(*n)++] = (uint8_t)(acc >> (bits - 8));
			bits -= 8;
		}
	}
	return 0;
}

/* 0 when code is exactly TOTP_DIGITS digits equal to want (constant time). */
static int code_differs(const char *code, uint32_t want)
{
	int diff = strlen(code) != TOTP_DIGITS;

	for (int i = TOTP_DIGITS - 1; i >= 0; i--) {
		char c = diff ? '0' : code[i];

		diff |= (c < '0' || c > '9') | ((uint32_t)(c - '0') != want % 10);
		want /= 10;
	}
	return diff;
}

int64_t totp_check(const uint8_t *key, size_t klen, const char *code, int64_t step,
		   int window, int64_t last)
{
	int64_t found = -1;

	for (int64_t s = step - window; s <= step + window; s++) {
		if (s <= last || s < 0)
			continue;
		if (!code_differs(code, totp_hotp(key, klen, (uint64_t)s)) && found < 0)
			found = s;
	}
	return found;
}
