/*
 * auth.c — console credentials (see auth.h). Specs: Argon2id through
 * libsodium's crypto_pwhash_str (RFC 9106, interactive limits), TOTP RFC 6238
 * (common/totp.c), Google Authenticator's Key Uri Format, base64url RFC 4648.
 *
 * SECURITY: every secret comes from randombytes_buf / randombytes_uniform;
 * an unknown account costs the same hash as a known one; token comparison
 * is sodium_memcmp (constant time).
 */
#include "console/auth.h"

#include <qrencode.h>
#include <sodium.h>
#include <string.h>

#include "common/totp.h"

/* One window step on each side: a phone clock 30 s off still works. */
#define TOTP_WINDOW 1

static char dummy_hash[AUTH_HASH_LEN];

int auth_init(void)
{
	if (sodium_init() < 0)
		return -1;
	return auth_hash("mugai-dummy-password", dummy_hash);
}

void auth_new_password(char out[AUTH_PASSWORD_LEN + 1])
{
	static const char alpha[] = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";

	for (int i = 0; i < AUTH_PASSWORD_LEN; i++)
		out[i] = alpha[randombytes_uniform(sizeof(alpha) - 1)];
	out[AUTH_PASSWORD_LEN] = '\0';
}

int auth_hash(const char *password, char out[AUTH_HASH_LEN])
{
	_Static_assert(AUTH_HASH_LEN == crypto_pwhash_STRBYTES, "hash string size");
	return crypto_pwhash_str_alg(out, password, strlen(password),
				     crypto_pwhash_OPSLIMIT_INTERACTIVE,
				     crypto_pwhash_MEMLIMIT_INTERACTIVE, crypto_pwhash_ALG_ARGON2ID13);
}

bool auth_verify(const char *hash, const char *password)
{
	bool ok = crypto_pwhash_str_verify(hash ? hash : dummy_hash, password,
					   strlen(password)) == 0;

	return hash && ok;
}

int auth_new_totp(buf_t *b32)
{
	uint8_t key[AUTH_TOTP_BYTES];
	int rc;

	randombytes_buf(key, sizeof(key));
	rc = totp_base32_encode(key, sizeof(key), b32);
	if (rc == 0)
		rc = buf_putc(b32, '\0');
	sodium_memzero(key, sizeof(key));
	return rc;
}

int auth_otpauth_uri(const char *name, const char *secret, buf_t *out)
{
	/* name is [a-z0-9._-] (qstore_account_name_ok): nothing to percent-encode */
	return buf_printf(out, "otpauth://totp/%s:%s?secret=%s&issuer=%s&algorithm=SHA1"
			  "&digits=%d&period=%d", AUTH_ISSUER, name, secret, AUTH_ISSUER,
			  TOTP_DIGITS, TOTP_STEP_SECONDS);
}

int64_t auth_totp_step(const char *secret, const char *code, int64_t now, int64_t last)
{
	uint8_t key[AUTH_TOTP_BYTES * 2];
	size_t n;
	int64_t step = -1;

	if (totp_base32_decode(secret, key, sizeof(key), &n) == 0 && n > 0)
		step = totp_check(key, n, code, now / TOTP_STEP_SECONDS, TOTP_WINDOW, last);
	sodium_memzero(key, sizeof(key));
	return step;
}

static const char *qr_cell(const QRcode *q, int x, int y)
{
	static const char *const blocks[4] = { " ", "\u2584", "\u2580", "\u2588" };
	int top = y >= 0 && y < q->width && x >= 0 && x < q->width &&
		  (q->data[y * q->width + x] & 1);
	int bot = y + 1 >= 0 && y + 1 < q->width && x >= 0 && x < q->width &&
		  (q->data[(y + 1) * q->width + x] & 1);

	/* dark modules are printed as spaces on a light block (terminals are dark) */
	return blocks[3 - (top * 2 + bot)];
}

int auth_print_qr(FILE *f, const char *text)
{
	QRcode *q = QRcode_encodeString(text, 0, QR_ECLEVEL_M, QR_MODE_8, 1);

	if (!q)
		return -1;
	for (int y = -2; y < q->width + 2; y += 2) {
		for (int x = -2; x < q->width + 2; x++)
			fputs(qr_cell(q, x, y), f);
		fputc('\n', f);
	}
	QRcode_free(q);
	return 0;
}

void auth_new_token(char out[AUTH_TOKEN_LEN + 1])
{
	unsigned char raw[AUTH_TOKEN_BYTES];

	randombytes_buf(raw, sizeof(raw));
	sodium_bin2base64(out, AUTH_TOKEN_LEN + 1, raw, sizeof(raw),
			  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

bool auth_token_eq(const char *a, const char *b)
{
	return a && b && strlen(a) == AUTH_TOKEN_LEN && strlen(b) == AUTH_TOKEN_LEN &&
	       sodium_memcmp(a, b, AUTH_TOKEN_LEN) == 0;
}
