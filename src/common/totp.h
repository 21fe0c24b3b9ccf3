/*
 * totp.h — the console's second factor: SHA-1 (FIPS 180-4), HMAC-SHA1
 * (RFC 2104), TOTP (RFC 6238 over HOTP, RFC 4226: 30-second steps, 6
 * digits), base32 (RFC 4648) for the secret in the otpauth:// URI
 * (Google Authenticator's Key Uri Format).
 *
 * SECURITY: pure functions of their arguments (no clock, no randomness: the
 * caller passes the time step and the secret). SHA-1 is used only inside
 * HMAC, where RFC 6238 requires it and its collision weakness does not apply.
 * Code comparison is constant-time.
 */
#ifndef MUGAI_TOTP_H
#define MUGAI_TOTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/defs.h"

#define TOTP_STEP_SECONDS 30
#define TOTP_DIGITS 6
#define SHA1_LEN 20

void totp_sha1(const void *data, size_t len, uint8_t out[SHA1_LEN]);
void totp_hmac_sha1(const void *key, size_t klen, const void *msg, size_t mlen,
		    uint8_t out[SHA1_LEN]);
/* HOTP value (RFC 4226) of counter, as a number below 10^TOTP_DIGITS. */
uint32_t totp_hotp(const uint8_t *key, size_t klen, uint64_t counter);
/* Base32 without padding (upper case). */
int totp_base32_encode(const uint8_t *in, size_t n, buf_t *out) MUGAI_WUR;
/* Decode base32 (case-insensitive, '=' padding ignored); -1 on a bad digit
 * or when the result exceeds cap bytes. */
int totp_base32_decode(const char *in, uint8_t *out, size_t cap, size_t *n) MUGAI_WUR;
/* Check a 6-digit code typed by a person against the steps step-window ..
 * step+window; a step <= last (already used) never matches. Returns the
 * matching step, or -1. */
int64_t totp_check(const uint8_t *key, size_t klen, const char *code, int64_t step,
		   int window, int64_t last);

#endif
