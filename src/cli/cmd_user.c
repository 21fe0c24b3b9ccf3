/*
 * cmd_user.c — `mugai user`: the console's accounts.
 *
 *   mugai user add NAME --role clerk|approver|admin|auditor [--addr MAIL]... [--dept DEPT] [-c CONFIG]
 *   mugai user list [-c CONFIG]
 *   mugai user disable|enable NAME [-c CONFIG]
 *   mugai user reset NAME [-c CONFIG]
 *
 * add and reset print the new password on a line `password: ...` and the
 * second factor on a line `totp: otpauth://...` (for scripted setup), and
 * the QR code of that URI when stdout is a terminal. Every change is an
 * audit record with the OS user as actor (os:LOGIN).
 *
 * The rules (new secrets, addresses in lower case) are useracct.c's, shared
 * with the console's user management.
 *
 * SECURITY: runs with the invoking user's rights on state_dir; the password
 * is printed once and only its Argon2id hash is stored.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/cli_store.h"
#include "cli/useracct.h"
#include "console/auth.h"
#include "store/qstore.h"

typedef struct user_opts {
	const char *config, *role, *dept;
	buf_t addrs;
	const char *sub, *name;
} user_opts_t;

static int usage(void)
{
	fputs("usage: mugai user add NAME --role clerk|approver|admin|auditor [--addr MAIL]... "
	      "[--dept DEPT] [-c CONFIG]\n"
	      "       mugai user list [-c CONFIG]\n"
	      "       mugai user disable|enable|reset NAME [-c CONFIG]\n", stderr);
	return MUGAI_EXIT_USAGE;
}

static int add_addr(user_opts_t *u, const char *a)
{
	return qstore_account_addr_append(&u->addrs, a, strlen(a));
}

static int parse(int argc, char **argv, user_opts_t *u)
{
	static const struct option longs[] = {
		{ "role", required_argument, NULL, 'r' }, { "addr", required_argument, NULL, 'a' },
		{ "dept", required_argument, NULL, 'd' }, { "config", required_argument, NULL, 'c' },
		{ NULL, 0, NULL, 0 } };
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "c:", longs, NULL)) != -1) {
		if (c == 'r')
			u->role = optarg;
		else if (c == 'd')
			u->dept = optarg;
		else if (c == 'c')
			u->config = optarg;
		else if (c != 'a' || add_addr(u, optarg) < 0)
			return -1;
	}
	if (buf_putc(&u->addrs, '\0') < 0)
		return -1;
	u->addrs.len--;
	u->sub = optind < argc ? argv[optind++] : "";
	u->name = optind < argc ? argv[optind++] : NULL;
	return optind == argc ? 0 : -1;
}

/* Print password, totp URI (and the QR code on a terminal). */
static int print_secrets(const useracct_new_t *n)
{
	printf("password: %s\ntotp: %s\n", n->password, n->uri.data);
	return isatty(STDOUT_FILENO) ? auth_print_qr(stdout, n->uri.data) : 0;
}

static int u_add(qstore_t *s, const store_opts_t *so, user_opts_t *u)
{
	useracct_new_t n;
	qaccount_t a = { 0 };
	int rc;

	if (!u->role)
		return usage();
	useracct_new_init(&n);
	a.name = (char *)u->name, a.role = (char *)u->role;
	a.dept = (char *)(u->dept ? u->dept : ""), a.addrs = u->addrs.data;
	if (useracct_add(s, so->actor, &a, NULL, &n) < 0)
		rc = store_exit(s, "user add");
	else
		rc = print_secrets(&n) == 0 ? MUGAI_EXIT_OK : MUGAI_EXIT_SOFTWARE;
	useracct_new_free(&n);
	return rc;
}

static int u_reset(qstore_t *s, const store_opts_t *so, user_opts_t *u)
{
	useracct_new_t n;
	int rc;

	useracct_new_init(&n);
	if (useracct_reset(s, so->actor, u->name, NULL, &n) < 0)
		rc = store_exit(s, "user reset");
	else
		rc = print_secrets(&n) == 0 ? MUGAI_EXIT_OK : MUGAI_EXIT_SOFTWARE;
	useracct_new_free(&n);
	return rc;
}

static int list_one(const qaccount_t *a, void *arg)
{
	(void)arg;
	printf("%s\t%s\t", a->name, a->role);
	cli_put_safe(stdout, a->dept[0] ? a->dept : "-");
	printf("\t%s\t%s\n", a->addrs[0] ? a->addrs : "-", a->disabled ? "disabled" : "active");
	return 0;
}

static int run(qstore_t *s, const store_opts_t *so, user_opts_t *u, const char *sub)
{
	if (strcmp(sub, "list") == 0)
		return qstore_account_list(s, so->actor, list_one, NULL) < 0
			? store_exit(s, "user list") : MUGAI_EXIT_OK;
	if (strcmp(sub, "add") == 0)
		return u_add(s, so, u);
	if (strcmp(sub, "reset") == 0)
		return u_reset(s, so, u);
	if (qstore_account_disable(s, so->actor, u->name, strcmp(sub, "disable") == 0, NULL) < 0)
		return store_exit(s, sub[0] == 'd' ? "user disable" : "user enable");
	printf("%s: %s\n", u->name, sub[0] == 'd' ? "disabled" : "enabled");
	return MUGAI_EXIT_OK;
}

int cmd_user(int argc, char **argv)
{
	static const char *const subs[] = { "add", "list", "disable", "enable", "reset" };
	user_opts_t u = { 0 };
	store_opts_t so = { 0 };
	cfg_t cfg;
	qstore_t *s;
	size_t k = MUGAI_ARRAY_LEN(subs);
	int rc;

	buf_init(&u.addrs, QACCT_ADDRS_MAX + 1);
	if (parse(argc, argv, &u) == 0)
		for (k = 0; k < MUGAI_ARRAY_LEN(subs) && strcmp(u.sub, subs[k]) != 0; k++)
			;
	if (k == MUGAI_ARRAY_LEN(subs) || (k == 1) != (u.name == NULL) || auth_init() < 0) {
		buf_free(&u.addrs);
		return usage();
	}
	so.config = u.config;
	store_default_actor(&so);
	rc = store_open_cli(&so, &cfg, &s);
	if (rc == 0) {
		rc = run(s, &so, &u, u.sub);
		qstore_close(s);
		cfg_free(&cfg);
	}
	buf_free(&u.addrs);
	return rc;
}
