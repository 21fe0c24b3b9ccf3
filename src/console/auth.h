/*
 * auth.h — console credentials: initial passwords, Argon2id hashes
 * (libsodium crypto_pwhash_str), TOTP secrets and their otpauth:// URI, the
 * terminal QR code (libqrencode), session and CSRF tokens.
 *
 * SECURITY: randomness from libsodium (getrandom); the password is never
 * stored or logged, only its hash; comparisons are constant-time.
 */
#ifndef MUGAI_CONSOLE_AUTH_H
#define MUGAI_CONSOLE_AUTH_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "common/buf.h"
#include "common/defs.h"

#define AUTH_PASSWORD_LEN 16  /* characters of a generated password */
#define AUTH_TOTP_BYTES 20    /* RFC 4226: 160-bit secret */
#define AUTH_TOKEN_BYTES 32   /* session id and CSRF token: 256 bits */
#define AUTH_TOKEN_LEN 43     /* base64url without padding of AUTH_TOKEN_BYTES */
#define AUTH_HASH_LEN 128     /* crypto_pwhash_STRBYTES */
#define AUTH_ISSUER "mugai"

int auth_init(void) MUGAI_WUR;
/* A password of AUTH_PASSWORD_LEN characters without look-alikes (0 O 1 l I). */
void auth_new_password(char out[AUTH_PASSWORD_LEN + 1]);
int auth_hash(const char *password, char out[AUTH_HASH_LEN]) MUGAI_WUR;
/* True when password matches hash. Also spends the time of one hash when
 * hash is NULL (unknown account), so a probe cannot tell them apart. */
bool auth_verify(const char *hash, const char *password);
/* A new TOTP secret in base32. */
int auth_new_totp(buf_t *b32) MUGAI_WUR;
/* otpauth://totp/mugai:NAME?secret=...&issuer=mugai&algorithm=SHA1&digits=6&period=30 */
int auth_otpauth_uri(const char *name, const char *secret, buf_t *out) MUGAI_WUR;
/* The TOTP step of code (checked against steps around now; one already
 * used, <= last, never matches), or -1. */
int64_t auth_totp_step(const char *secret, const char *code, int64_t now, int64_t last);
/* Print text as a QR code with Unicode half blocks (two modules per char). */
int auth_print_qr(FILE *f, const char *text) MUGAI_WUR;
/* A random token, base64url (AUTH_TOKEN_LEN characters). */
void auth_new_token(char out[AUTH_TOKEN_LEN + 1]);
bool auth_token_eq(const char *a, const char *b);

#endif
