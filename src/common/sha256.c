/*
 * sha256.c — SHA-256 in lowercase hex over Nettle (see sha256.h).
 *
 * Follows FIPS 180-4 (through Nettle's sha256_*).
 *
 * SECURITY: pure function over bytes; Nettle's update takes a size_t, so no
 * length is narrowed.
 */
#include "common/sha256.h"

void sha256_begin(sha256_t *h)
{
	sha256_init(&h->ctx);
}

void sha256_add(sha256_t *h, const void *p, size_t n)
{
	if (n)
		sha256_update(&h->ctx, n, p);
}

void sha256_hex_end(sha256_t *h, char out[SHA256_HEX_LEN + 1])
{
	static const char hex[] = "0123456789abcdef";
	uint8_t d[SHA256_DIGEST_SIZE];

	sha256_digest(&h->ctx, sizeof(d), d);
	for (size_t i = 0; i < sizeof(d); i++) {
		out[2 * i] = hex[d[i] >> 4];
		out[2 * i + 1] = hex[d[i] & 15];
	}
	out[SHA256_HEX_LEN] = '\0';
}

void sha256_hex(const void *p, size_t n, char out[SHA256_HEX_LEN + 1])
{
	sha256_t h;

	sha256_begin(&h);
	sha256_add(&h, p, n);
	sha256_hex_end(&h, out);
}
