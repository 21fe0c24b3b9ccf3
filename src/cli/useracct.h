/*
 * useracct.h — creating and resetting console accounts, one set of rules
 * for `mugai user` (cmd_user.c) and the console's user management
 * (console/users.c): a new password (AUTH_PASSWORD_LEN characters without
 * look-alikes) and TOTP secret, only the Argon2id hash stored, addresses in
 * lower case, the store validating name, role, department and addresses.
 *
 * SECURITY: the new password is handed back once in a useracct_new_t and
 * wiped by useracct_new_free(); it is never stored or logged.
 */
#ifndef MUGAI_USERACCT_H
#define MUGAI_USERACCT_H

#include "common/buf.h"
#include "console/auth.h"
#include "store/qstore.h"

typedef struct useracct_new {
	char password[AUTH_PASSWORD_LEN + 1];
	buf_t secret;   /* the TOTP secret, base32 */
	buf_t uri;      /* otpauth://totp/mugai:NAME?secret=... */
} useracct_new_t;

void useracct_new_init(useracct_new_t *n);
void useracct_new_free(useracct_new_t *n);
/* Append the address a[0..n) in lower case (ASCII), after a comma when
 * addrs is not empty. The store checks the result. */
int useracct_addr_append(buf_t *addrs, const char *a, size_t n) MUGAI_WUR;
/* The console's field: addresses separated by commas, spaces or line ends. */
int useracct_addrs_parse(buf_t *addrs, const char *text) MUGAI_WUR;
/* Add account a (name, role, dept, addrs) with a new password and TOTP
 * secret, handed back in out; audited by the store as account.add (with
 * client when not NULL). -1: the store's error (qstore_errcode), or out
 * of memory while hashing. */
int useracct_add(qstore_t *s, const char *actor, const qaccount_t *a, const char *client,
		 useracct_new_t *out) MUGAI_WUR;
/* A new password and TOTP secret for name; lifts a lockout (account.reset). */
int useracct_reset(qstore_t *s, const char *actor, const char *name, const char *client,
		   useracct_new_t *out) MUGAI_WUR;

#endif
