/*
 * qstore_account.c — the console's part of the store API: accounts (name,
 * role, department, addresses, password hash, TOTP secret, lockout) and the
 * release request with its kind and the refusal of a request. Validates
 * every argument, then calls the backend (qstore_sqlite.c, schema v3).
 *
 * Every change is one transaction with its audit record: account.add,
 * account.disable, account.enable, account.reset, console.login,
 * console.login.failed, console.lockout, quarantine.request (with kind),
 * quarantine.refuse. Reads of single accounts are not audited here: the
 * console audits the login or the refusal it decides with them.
 *
 * SECURITY: store process only (the CLI or the console, which hold
 * state_dir). Names are [a-z0-9._-]; addresses printable ASCII without
 * comma; department and comments UTF-8 without control characters; the
 * password is never stored (only its Argon2id hash, made by the caller).
 */
#include "store/qstore_impl.h"

#include <stdlib.h>
#include <string.h>

#include "common/json.h"
#include "common/utf8.h"

static const char *const roles[] = { "clerk", "approver", "admin", "auditor" };

void qstore_account_free(qaccount_t *a)
{
	if (!a)
		return;
	free(a->name);
	free(a->role);
	free(a->dept);
	free(a->addrs);
	free(a->pwhash);
	free(a->totp);
	free(a->created);
	memset(a, 0, sizeof(*a));
}

bool qstore_account_name_ok(const char *name)
{
	size_t n = name ? strlen(name) : 0;

	if (n == 0 || n > QACCT_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
		      c == '-'))
			return false;
	}
	return true;
}

static bool role_ok(const char *role)
{
	for (size_t i = 0; role && i < MUGAI_ARRAY_LEN(roles); i++)
		if (strcmp(role, roles[i]) == 0)
			return true;
	return false;
}

static bool utf8_text_ok(const char *p, size_t max)
{
	size_t n = p ? strlen(p) : 0;

	if (!p || n > max || !utf8_valid(p, n))
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)p[i] < 0x20 || p[i] == 0x7f)
			return false;
	return true;
}

/* Comma-separated addresses: printable ASCII, each with one '@', lower case. */
bool qstore_addrs_ok(const char *p, size_t max)
{
	size_t n = p ? strlen(p) : 0, at = 0;

	if (!p || n > max)
		return false;
	for (size_t i = 0; i <= n; i++) {
		char c = p[i];

		if (c == ',' || c == '\0') {
			if (at != 1 && !(n == 0 && c == '\0'))
				return false;
			at = 0;
		} else if (c == '@') {
			at++;
		} else if (c <= 0x20 || c >= 0x7f || (c >= 'A' && c <= 'Z') || c == '"' ||
			   c == '<' || c == '>') {
			return false;
		}
	}
	return true;
}

static bool addrs_ok(const char *p)
{
	return qstore_addrs_ok(p, QACCT_ADDRS_MAX);
}

int qstore_account_addr_append(buf_t *addrs, const char *a, size_t n)
{
	if (addrs->len && buf_putc(addrs, ',') < 0)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (buf_putc(addrs, (a[i] >= 'A' && a[i] <= 'Z') ? a[i] - 'A' + 'a' : a[i]) < 0)
			return -1;
	return 0;
}

static bool addr_sep(char c)
{
	return c == ',' || c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

int qstore_account_addrs_parse(buf_t *addrs, const char *text)
{
	const char *p = text;

	while (*p) {
		size_t n = 0;

		while (addr_sep(*p))
			p++;
		while (p[n] && !addr_sep(p[n]))
			n++;
		if (n && qstore_account_addr_append(addrs, p, n) < 0)
			return -1;
		p += n;
	}
	return buf_putc(addrs, '\0') < 0 ? -1 : (addrs->len--, 0);
}

static int check_name(qstore_t *s, const char *name)
{
	if (!qstore_account_name_ok(name))
		return qstore_fail(s, QS_ERR_INVAL, "bad account name '%.40s' (a-z 0-9 . _ -, up "
				   "to %d)", name ? name : "", QACCT_NAME_MAX);
	return 0;
}

static int check_secret(qstore_t *s, const char *pwhash, const char *totp)
{
	if (!utf8_text_ok(pwhash, QACCT_SECRET_MAX) || !pwhash[0] ||
	    !utf8_text_ok(totp, QACCT_SECRET_MAX) || !totp[0])
		return qstore_fail(s, QS_ERR_INVAL, "bad password hash or TOTP secret");
	return 0;
}

static int check_actor(qstore_t *s, const char *actor)
{
	if (!utf8_text_ok(actor, AUDIT_NAME_MAX) || !actor[0])
		return qstore_fail(s, QS_ERR_INVAL, "bad actor name");
	return 0;
}

static bool client_ok(const char *client)
{
	return !client || utf8_text_ok(client, AUDIT_NAME_MAX);
}

static void client_member(json_t *j, const char *client)
{
	if (client) {
		json_key(j, "client");
		json_str(j, client);
	}
}

/* {} or {"client": ...}: the details of disable, enable and reset. */
static int client_details(const char *client, buf_t *b)
{
	json_t j;

	json_init(&j, b);
	json_obj_begin(&j);
	client_member(&j, client);
	json_obj_end(&j);
	return json_finish(&j);
}

static int add_details(const qaccount_t *a, const char *client, buf_t *b)
{
	json_t j;

	json_init(&j, b);
	json_obj_begin(&j);
	json_key(&j, "role");
	json_str(&j, a->role);
	json_key(&j, "dept");
	json_str(&j, a->dept);
	json_key(&j, "addrs");
	json_str(&j, a->addrs);
	client_member(&j, client);
	json_obj_end(&j);
	return json_finish(&j);
}

int qstore_account_add(qstore_t *s, const char *actor, const qaccount_t *a, const char *client)
{
	buf_t det;
	int rc = -1;

	s->err = QS_OK;
	buf_init(&det, STORE_DET_MAX);
	if (check_actor(s, actor) < 0 || check_name(s, a->name) < 0 ||
	    check_secret(s, a->pwhash, a->totp) < 0)
		goto out;
	if (!client_ok(client)) {
		qstore_fail(s, QS_ERR_INVAL, "bad client address");
		goto out;
	}
	if (!role_ok(a->role) || !utf8_text_ok(a->dept, QACCT_DEPT_MAX) || !addrs_ok(a->addrs)) {
		qstore_fail(s, QS_ERR_INVAL, "bad role, department or address list");
		goto out;
	}
	if (add_details(a, client, &det) < 0) {
		qstore_fail(s, QS_ERR_INVAL, "account details too long");
		goto out;
	}
	rc = s->ops->acct_add(s, actor, a, det.data);
out:
	buf_free(&det);
	return rc;
}

int qstore_account_get(qstore_t *s, const char *name, qaccount_t *a)
{
	bool found = false;

	s->err = QS_OK;
	memset(a, 0, sizeof(*a));
	if (check_name(s, name) < 0 || s->ops->acct_get(s, name, a, &found) < 0)
		return -1;
	if (!found)
		return qstore_fail(s, QS_ERR_NOTFOUND, "no account %s", name);
	return 0;
}

int qstore_account_list(qstore_t *s, const char *actor, qaccount_cb cb, void *arg)
{
	s->err = QS_OK;
	if (check_actor(s, actor) < 0 || s->ops->audit_append(s, actor, "account.list", "accounts",
							       "{}") < 0)
		return -1;
	return s->ops->acct_list(s, cb, arg);
}

/* disable, enable or reset, with {client} as the record's details. */
static int account_set(qstore_t *s, const char *actor, const char *action, const qaccount_t *a,
		       const char *client)
{
	buf_t det;
	int rc = -1;

	buf_init(&det, STORE_DET_MAX);
	if (!client_ok(client) || client_details(client, &det) < 0)
		qstore_fail(s, QS_ERR_INVAL, "bad client address");
	else
		rc = s->ops->acct_set(s, actor, action, a, det.data);
	buf_free(&det);
	return rc;
}

int qstore_account_disable(qstore_t *s, const char *actor, const char *name, bool disabled,
			   const char *client)
{
	qaccount_t a = { .name = (char *)name, .disabled = disabled };

	s->err = QS_OK;
	if (check_actor(s, actor) < 0 || check_name(s, name) < 0)
		return -1;
	return account_set(s, actor, disabled ? "account.disable" : "account.enable", &a, client);
}

int qstore_account_reset(qstore_t *s, const char *actor, const char *name,
			 const char *pwhash, const char *totp, const char *client)
{
	qaccount_t a = { .name = (char *)name, .pwhash = (char *)pwhash, .totp = (char *)totp };

	s->err = QS_OK;
	if (check_actor(s, actor) < 0 || check_name(s, name) < 0 ||
	    check_secret(s, pwhash, totp) < 0)
		return -1;
	return account_set(s, actor, "account.reset", &a, client);
}

int qstore_account_login(qstore_t *s, const qstore_login_t *l, bool *locked)
{
	s->err = QS_OK;
	*locked = false;
	if (check_name(s, l->name) < 0 || check_actor(s, l->actor) < 0)
		return -1;
	if (!l->details || !utf8_valid(l->details, strlen(l->details)) ||
	    strlen(l->details) > STORE_DET_MAX)
		return qstore_fail(s, QS_ERR_INVAL, "bad login details");
	return s->ops->acct_login(s, l, locked);
}

static int check_item_args(qstore_t *s, const char *id, const char *by, const char *text)
{
	if (check_actor(s, by) < 0)
		return -1;
	if (!id || !mugai_id_valid(id))
		return qstore_fail(s, QS_ERR_INVAL, "bad id '%.40s'", id ? id : "");
	if (!utf8_text_ok(text, STORE_REASON_MAX))
		return qstore_fail(s, QS_ERR_INVAL, "a reason or comment (UTF-8, up to %d bytes) "
				   "is required", STORE_REASON_MAX);
	return 0;
}

int qstore_request_kind(qstore_t *s, const char *id, const char *by, const char *reason,
			const char *kind, const char *deliver_to)
{
	s->err = QS_OK;
	if (check_item_args(s, id, by, reason) < 0)
		return -1;
	if (!reason[0])
		return qstore_fail(s, QS_ERR_INVAL, "a reason is required");
	if (!kind || (strcmp(kind, "sanitized") != 0 && strcmp(kind, "original") != 0))
		return qstore_fail(s, QS_ERR_INVAL, "kind is sanitized or original");
	if (!addrs_ok(deliver_to))
		return qstore_fail(s, QS_ERR_INVAL, "bad delivery address list");
	return s->ops->request(s, id, by, reason, kind, deliver_to, NULL);
}

int qstore_request_notify(qstore_t *s, const char *id, const char *by, const char *reason,
			  const char *kind, const char *deliver_to, const qstore_mailout_t *out)
{
	s->err = QS_OK;
	if (!out || !out->kind || strcmp(out->kind, QSTORE_OUT_NOTICE) != 0)
		return qstore_fail(s, QS_ERR_INVAL, "bad outbox kind");
	if (qstore_mailout_check(s, out) < 0)
		return -1;
	if (check_item_args(s, id, by, reason) < 0)
		return -1;
	if (!reason[0])
		return qstore_fail(s, QS_ERR_INVAL, "a reason is required");
	if (!kind || (strcmp(kind, "sanitized") != 0 && strcmp(kind, "original") != 0))
		return qstore_fail(s, QS_ERR_INVAL, "kind is sanitized or original");
	if (!addrs_ok(deliver_to))
		return qstore_fail(s, QS_ERR_INVAL, "bad delivery address list");
	return s->ops->request(s, id, by, reason, kind, deliver_to, out);
}

/* Is addr (n bytes) already one of the comma-separated list? */
static bool listed(const buf_t *list, const char *addr, size_t n)
{
	const char *p = list->data ? list->data : "";
	size_t len = list->len;

	for (size_t i = 0; i < len;) {
		const char *e = memchr(p + i, ',', len - i);
		size_t m = e ? (size_t)(e - (p + i)) : len - i;

		if (m == n && memcmp(p + i, addr, n) == 0)
			return true;
		i += m + 1;
	}
	return false;
}

/* The addresses of one account appended to the list (each once). */
static int add_addrs(buf_t *out, const char *addrs)
{
	for (const char *p = addrs; *p;) {
		const char *e = strchr(p, ',');
		size_t n = e ? (size_t)(e - p) : strlen(p);

		if (n && !listed(out, p, n) &&
		    ((out->len && buf_putc(out, ',') < 0) || buf_append(out, p, n) < 0))
			return -1;
		p += n + (e ? 1 : 0);
	}
	return 0;
}

typedef struct notify_scan {
	const char *requester, *dept, *role;
	buf_t *out;
	int rc;
} notify_scan_t;

static int notify_row(const qaccount_t *a, void *arg)
{
	notify_scan_t *n = arg;

	if (a->disabled || !a->addrs[0] || strcmp(a->role, n->role) != 0 ||
	    strcmp(a->name, n->requester) == 0 || (n->dept && strcmp(a->dept, n->dept) != 0))
		return 0;
	if (add_addrs(n->out, a->addrs) < 0) {
		n->rc = -1;
		return 1;
	}
	return 0;
}

int qstore_notify_addrs(qstore_t *s, const char *requester, buf_t *out)
{
	notify_scan_t n = { .requester = requester, .out = out, .role = "approver" };
	qaccount_t me = { 0 };
	bool found = false;
	int rc = -1;

	s->err = QS_OK;
	buf_reset(out);
	if (check_name(s, requester) < 0 || s->ops->acct_get(s, requester, &me, &found) < 0)
		goto out;
	if (found && me.dept && me.dept[0]) {
		n.dept = me.dept;
		if (s->ops->acct_list(s, notify_row, &n) < 0)
			goto out;
	}
	if (n.rc == 0 && out->len == 0) {
		n.role = "admin", n.dept = NULL;
		if (s->ops->acct_list(s, notify_row, &n) < 0)
			goto out;
	}
	if (n.rc < 0 || buf_putc(out, '\0') < 0) {
		qstore_fail(s, QS_ERR_INVAL, "too many addresses to notify");
		goto out;
	}
	out->len--;
	rc = 0;
out:
	qstore_account_free(&me);
	return rc;
}

int qstore_refuse(qstore_t *s, const char *id, const char *by, const char *comment,
		  const char *details)
{
	s->err = QS_OK;
	if (check_item_args(s, id, by, comment) < 0)
		return -1;
	if (!details || !utf8_valid(details, strlen(details)) || strlen(details) > STORE_DET_MAX)
		return qstore_fail(s, QS_ERR_INVAL, "bad refusal details");
	return s->ops->refuse(s, id, by, comment, details);
}

int qstore_admin_confirm(qstore_t *s, const char *id, const char *by, const char *details,
			 bool *released)
{
	s->err = QS_OK;
	*released = false;
	if (check_item_args(s, id, by, "admin release") < 0)
		return -1;
	if (!details || !utf8_valid(details, strlen(details)) || strlen(details) > STORE_DET_MAX)
		return qstore_fail(s, QS_ERR_INVAL, "bad confirmation details");
	return s->ops->admin_confirm(s, id, by, details, released);
}
