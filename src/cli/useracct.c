/*
 * useracct.c — creating and resetting console accounts (see useracct.h),
 * shared by `mugai user` and the console's user management so both follow
 * the same rules. Specs: RFC 6238 (TOTP), the Key Uri Format of otpauth://.
 *
 * SECURITY: randomness and hashing from libsodium (auth.c); the password
 * lives only in the caller's useracct_new_t, wiped on free.
 */
#include "cli/useracct.h"

#include <sodium.h>
#include <string.h>

void useracct_new_init(useracct_new_t *n)
{
	memset(n->password, 0, sizeof(n->password));
	buf_init(&n->secret, AUTH_HASH_LEN);
	buf_init(&n->uri, AUTH_HASH_LEN * 4);
}

void useracct_new_free(useracct_new_t *n)
{
	sodium_memzero(n->password, sizeof(n->password));
	if (n->secret.data)
		sodium_memzero(n->secret.data, n->secret.len);
	if (n->uri.data)
		sodium_memzero(n->uri.data, n->uri.len);
	buf_free(&n->secret);
	buf_free(&n->uri);
}

/* A new password (its hash into h) and TOTP secret with its URI into out. */
static int new_secrets(const char *name, char h[AUTH_HASH_LEN], useracct_new_t *out)
{
	auth_new_password(out->password);
	if (auth_hash(out->password, h) < 0 || auth_new_totp(&out->secret) < 0 ||
	    auth_otpauth_uri(name, out->secret.data, &out->uri) < 0 ||
	    buf_putc(&out->uri, '\0') < 0)
		return -1;
	out->uri.len--;
	return 0;
}

int useracct_add(qstore_t *s, const char *actor, const qaccount_t *a, const char *client,
		 useracct_new_t *out)
{
	char h[AUTH_HASH_LEN];
	qaccount_t b = *a;
	int rc = -1;

	/* the store refuses a bad name before the URI is ever shown */
	if (!qstore_account_name_ok(a->name))
		return qstore_account_add(s, actor, a, client);
	if (new_secrets(a->name, h, out) < 0)
		goto out;
	b.pwhash = h, b.totp = out->secret.data;
	rc = qstore_account_add(s, actor, &b, client);
out:
	sodium_memzero(h, sizeof(h));
	return rc;
}

int useracct_reset(qstore_t *s, const char *actor, const char *name, const char *client,
		   useracct_new_t *out)
{
	char h[AUTH_HASH_LEN];
	int rc = -1;

	if (!qstore_account_name_ok(name))
		return qstore_account_reset(s, actor, name, "-", "-", client);
	if (new_secrets(name, h, out) == 0)
		rc = qstore_account_reset(s, actor, name, h, out->secret.data, client);
	sodium_memzero(h, sizeof(h));
	return rc;
}
