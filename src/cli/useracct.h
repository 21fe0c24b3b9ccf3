/*
 * useracct.h — creating and resetting console accounts, one set of rules
 * for `mugai user` (cmd_user.c) and the console's user management
 * (console/users.c): a new password (AUTH_PASSWORD_LEN characters without
 * look-alikes) and TOTP secret, only the Argon2id hash stored; the store
 * normalizes addresses (qstore_account_addrs_parse) and validates name,
 * role, department and addresses.
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
