/*
 * users.c — user management in the console (admin only): the account list
 * (名前, 役割, 所属, アドレス, 状態), adding an account, disabling, enabling,
 * and a reset (new password and TOTP secret, lockout lifted). The new
 * password and the otpauth:// URI are shown once, on the answer to the
 * POST, with the QR code as inline SVG markup (no image fetch: the CSP
 * stays default-src 'none').
 *
 *   GET  /users                          the list and the form to add
 *   POST /users                          name, role, dept, addrs
 *   POST /users/NAME/disable|enable|reset
 *   GET  /api/users, POST /api/users {name, role, dept, addrs},
 *   POST /api/users/NAME/disable|enable|reset
 *
 * The rules are `mugai user`'s (cli/useracct.c, the store's checks); the
 * store audits account.add, account.disable, account.enable, account.reset
 * and account.list with the console account as actor and {client}.
 * Specs: RFC 6238 and the otpauth Key Uri Format; ISO/IEC 18004 (QR,
 * through libqrencode).
 *
 * SECURITY: any other role is refused (403, console.refused "not
 * permitted"); an admin cannot disable their own account. Every POST
 * carries the session's CSRF token (server.c). Department and addresses
 * are typed by an admin but shown through page_text() like any value.
 */
#include "console/console.h"

#include <microhttpd.h>
#include <qrencode.h>
#include <stdio.h>
#include <string.h>

#include "cli/useracct.h"
#include "common/json.h"

#define MSG_NOT_ADMIN "アカウントを管理する権限がありません。"
#define MSG_BAD_INPUT "名前（半角の英小文字・数字・「. _ -」）、役割、所属、アドレスのいずれかが" \
	"正しくありません。"
#define QR_QUIET 4   /* modules of white border (ISO/IEC 18004) */
#define QR_SCALE 4   /* CSS pixels per module */

static const struct {
	const char *role, *ja;
} roles[] = {
	{ "clerk", "担当者" }, { "approver", "承認者" }, { "admin", "管理者" },
	{ "auditor", "監査担当" },
};

static const char *role_ja(const char *role)
{
	for (size_t i = 0; i < MUGAI_ARRAY_LEN(roles); i++)
		if (strcmp(role, roles[i].role) == 0)
			return roles[i].ja;
	return role;
}

static const char *state_of(const creq_t *r, const qaccount_t *a)
{
	if (a->disabled)
		return "disabled";
	return a->locked_until > r->now ? "locked" : "active";
}

static const char *state_ja(const char *st)
{
	if (strcmp(st, "disabled") == 0)
		return "無効";
	return strcmp(st, "locked") == 0 ? "ロック中" : "有効";
}

/* Admins only; else the refusal is set and audited. */
static bool users_allowed(creq_t *r)
{
	if (view_is_role(r, "admin"))
		return true;
	console_audit(r, r->actor, "console.refused", r->url, "not permitted");
	console_error(r, MHD_HTTP_FORBIDDEN, "表示できません", MSG_NOT_ADMIN);
	return false;
}

static void csrf_input(creq_t *r)
{
	PAGE_LIT(&r->page, "<input type=\"hidden\" name=\"csrf\" value=\"");
	page_text(&r->page, r->sess->csrf);
	PAGE_LIT(&r->page, "\">");
}

/* ---- the list ---- */

static void addrs_text(page_t *p, const char *addrs)
{
	for (const char *c = addrs; *c; c++) {
		const char *e = strchr(c, ',');
		size_t n = e ? (size_t)(e - c) : strlen(c);

		page_textn(p, c, n);
		if (!e)
			break;
		PAGE_LIT(p, ", ");
		c = e;
	}
}

static void user_button(creq_t *r, const qaccount_t *a, const char *act, const char *label)
{
	page_t *p = &r->page;

	PAGE_LIT(p, "<form method=\"post\" class=\"inline\" action=\"/users/");
	page_text(p, a->name);
	PAGE_LIT(p, "/");
	page_text(p, act);
	PAGE_LIT(p, "\">");
	csrf_input(r);
	PAGE_LIT(p, "<button type=\"submit\">");
	page_text(p, label);
	PAGE_LIT(p, "</button></form> ");
}

static int user_row(const qaccount_t *a, void *arg)
{
	creq_t *r = arg;
	page_t *p = &r->page;

	PAGE_LIT(p, "<tr><td>");
	page_text(p, a->name);
	PAGE_LIT(p, "</td><td>");
	page_text(p, role_ja(a->role));
	PAGE_LIT(p, "</td><td>");
	page_text(p, a->dept);
	PAGE_LIT(p, "</td><td>");
	addrs_text(p, a->addrs);
	PAGE_LIT(p, "</td><td>");
	page_text(p, state_ja(state_of(r, a)));
	PAGE_LIT(p, "</td><td>");
	if (a->disabled)
		user_button(r, a, "enable", "有効にする");
	else if (strcmp(a->name, r->sess->name) != 0)
		user_button(r, a, "disable", "無効にする");
	user_button(r, a, "reset", "パスワードと確認コードを再発行");
	PAGE_LIT(p, "</td></tr>\n");
	return 0;
}

static void add_form(creq_t *r)
{
	page_t *p = &r->page;

	PAGE_LIT(p, "<h2>アカウントの追加</h2>\n<form method=\"post\" action=\"/users\" id=\"add-user\">");
	csrf_input(r);
	PAGE_LIT(p, "<label>名前（半角の英小文字・数字・「. _ -」） <input name=\"name\" required></label>"
		 "<label>役割 <select name=\"role\">");
	for (size_t i = 0; i < MUGAI_ARRAY_LEN(roles); i++) {
		PAGE_LIT(p, "<option value=\"");
		page_text(p, roles[i].role);
		PAGE_LIT(p, "\">");
		page_text(p, roles[i].ja);
		PAGE_LIT(p, "</option>");
	}
	PAGE_LIT(p, "</select></label><label>所属 <input name=\"dept\"></label>"
		 "<label>メールアドレス（複数はカンマか改行で区切る） <textarea name=\"addrs\">"
		 "</textarea></label><button type=\"submit\">追加する</button></form>\n");
}

static void users_page(creq_t *r)
{
	page_t *p = &r->page;

	page_begin(p, "アカウントの管理", r->sess->name);
	PAGE_LIT(p, "<p><a href=\"/\">一覧に戻る</a></p>\n<table id=\"users\"><tr><th>名前</th>"
		 "<th>役割</th><th>所属</th><th>アドレス</th><th>状態</th><th>操作</th></tr>\n");
	if (qstore_account_list(r->c->s, r->actor, user_row, r) < 0) {
		console_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "エラー",
			      "アカウントの一覧を読み込めませんでした。");
		return;
	}
	PAGE_LIT(p, "</table>\n");
	add_form(r);
	page_end(p);
}

/* ---- JSON ---- */

static void json_begin(creq_t *r, json_t *j)
{
	r->content_type = "application/json; charset=utf-8";
	r->location = NULL;
	r->status = MHD_HTTP_OK;
	page_free(&r->page);
	page_init(&r->page, CONSOLE_PAGE_MAX);
	json_init(j, &r->page.b);
	json_obj_begin(j);
}

static void json_done(creq_t *r, json_t *j)
{
	json_obj_end(j);
	if (json_finish(j) < 0)
		r->page.err = -1;
}

typedef struct ujson {
	json_t *j;
	const creq_t *r;
} ujson_t;

static int user_json(const qaccount_t *a, void *arg)
{
	json_t *j = ((ujson_t *)arg)->j;
	const char *st = state_of(((ujson_t *)arg)->r, a);

	json_obj_begin(j);
	json_kv(j, "name", a->name);
	json_kv(j, "role", a->role);
	json_kv(j, "role_ja", role_ja(a->role));
	json_kv(j, "dept", a->dept);
	json_key(j, "addrs");
	json_arr_begin(j);
	for (const char *c = a->addrs; *c;) {
		const char *e = strchr(c, ',');
		size_t n = e ? (size_t)(e - c) : strlen(c);

		json_strn(j, c, n);
		c += n + (e != NULL);
	}
	json_arr_end(j);
	json_kv(j, "status", st);
	json_kv(j, "status_ja", state_ja(st));
	json_obj_end(j);
	return 0;
}

static void users_api_list(creq_t *r)
{
	json_t j;
	ujson_t arg = { &j, r };
	int rc;

	json_begin(r, &j);
	json_key(&j, "users");
	json_arr_begin(&j);
	rc = qstore_account_list(r->c->s, r->actor, user_json, &arg);
	json_arr_end(&j);
	if (rc < 0) {
		console_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "エラー",
			      "アカウントの一覧を読み込めませんでした。");
		return;
	}
	json_done(r, &j);
}

/* ---- the new secrets, shown once ---- */

static void qr_svg(page_t *p, const char *uri)
{
	QRcode *q = QRcode_encodeString(uri, 0, QR_ECLEVEL_M, QR_MODE_8, 1);
	int w;

	if (!q)
		return;  /* the URI and the secret are shown as text anyway */
	w = q->width + 2 * QR_QUIET;
	PAGE_LIT(p, "<p><svg id=\"qr\" xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" "
		 "aria-label=\"確認コードの設定の QR コード\" viewBox=\"0 0 ");
	page_int(p, w);
	PAGE_LIT(p, " ");
	page_int(p, w);
	PAGE_LIT(p, "\" width=\"");
	page_int(p, (long long)w * QR_SCALE);
	PAGE_LIT(p, "\" height=\"");
	page_int(p, (long long)w * QR_SCALE);
	PAGE_LIT(p, "\"><rect width=\"100%\" height=\"100%\" fill=\"#fff\"/><path fill=\"#000\" d=\"");
	for (int y = 0; y < q->width; y++)
		for (int x = 0; x < q->width; x++) {
			if (!(q->data[y * q->width + x] & 1))
				continue;
			PAGE_LIT(p, "M");
			page_int(p, x + QR_QUIET);
			PAGE_LIT(p, " ");
			page_int(p, y + QR_QUIET);
			PAGE_LIT(p, "h1v1h-1z");
		}
	PAGE_LIT(p, "\"/></svg></p>\n");
	QRcode_free(q);
}

static void secrets_page(creq_t *r, const char *name, const useracct_new_t *n, bool reset)
{
	page_t *p = &r->page;

	page_begin(p, reset ? "パスワードと確認コードを再発行しました" : "アカウントを追加しました",
		   r->sess->name);
	PAGE_LIT(p, "<p class=\"ok\" id=\"done\">アカウント ");
	page_text(p, name);
	if (reset)
		PAGE_LIT(p, " のパスワードと確認コードを再発行しました（ロックも解除しました）。");
	else
		PAGE_LIT(p, " を追加しました。");
	PAGE_LIT(p, "次のパスワードと確認コードの設定は、この画面に一度だけ表示されます。"
		 "本人に安全な方法で伝えてください。</p>\n<dl><dt>名前</dt><dd id=\"new-name\">");
	page_text(p, name);
	PAGE_LIT(p, "</dd><dt>パスワード</dt><dd id=\"new-password\">");
	page_text(p, n->password);
	PAGE_LIT(p, "</dd><dt>確認コードの設定（認証アプリに登録する URI）</dt><dd id=\"otpauth\">");
	page_text(p, n->uri.data);
	PAGE_LIT(p, "</dd><dt>シークレット（手で入力する場合）</dt><dd id=\"totp-secret\">");
	page_text(p, n->secret.data);
	PAGE_LIT(p, "</dd></dl>\n");
	qr_svg(p, n->uri.data);
	PAGE_LIT(p, "<p><a href=\"/users\">アカウントの管理に戻る</a></p>\n");
	page_end(p);
}

static void secrets_json(creq_t *r, const char *name, const useracct_new_t *n)
{
	json_t j;

	json_begin(r, &j);
	json_kv(&j, "name", name);
	json_kv(&j, "password", n->password);
	json_kv(&j, "otpauth", n->uri.data);
	json_kv(&j, "secret", n->secret.data);
	json_done(r, &j);
}

static void secrets_answer(creq_t *r, const char *name, const useracct_new_t *n, bool reset)
{
	if (r->api)
		secrets_json(r, name, n);
	else
		secrets_page(r, name, n, reset);
}

static void store_refused(creq_t *r, const char *what)
{
	qstore_err_t e = qstore_errcode(r->c->s);

	if (e == QS_ERR_INVAL)
		console_error(r, MHD_HTTP_BAD_REQUEST, what, MSG_BAD_INPUT);
	else if (e == QS_ERR_EXISTS)
		console_error(r, MHD_HTTP_CONFLICT, what, "同じ名前のアカウントがすでにあります。");
	else if (e == QS_ERR_NOTFOUND)
		console_error(r, MHD_HTTP_NOT_FOUND, what, "このアカウントはありません。");
	else
		console_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, what, "記録に失敗しました。");
}

/* ---- actions ---- */

/* The add form's fields into name, role, dept, addrs: 0, or -1 (400 set). */
static int add_fields(creq_t *r, buf_t *name, buf_t *role, buf_t *dept, buf_t *addrs)
{
	buf_t text;
	int rc = -1;

	buf_init(&text, QACCT_ADDRS_MAX);
	if (view_field(r, "name", name) == 1 && view_field(r, "role", role) == 1 &&
	    view_field(r, "dept", dept) >= 0 && view_field(r, "addrs", &text) >= 0 &&
	    qstore_account_addrs_parse(addrs, text.data ? text.data : "") == 0)
		rc = 0;
	else
		console_error(r, MHD_HTTP_BAD_REQUEST, "追加できません", MSG_BAD_INPUT);
	buf_free(&text);
	return rc;
}

static void users_add(creq_t *r)
{
	buf_t name, role, dept, addrs;
	useracct_new_t n;
	qaccount_t a = { 0 };

	buf_init(&name, QACCT_NAME_MAX);
	buf_init(&role, QACCT_NAME_MAX);
	buf_init(&dept, QACCT_DEPT_MAX);
	buf_init(&addrs, QACCT_ADDRS_MAX);
	useracct_new_init(&n);
	if (add_fields(r, &name, &role, &dept, &addrs) < 0)
		goto out;
	a.name = name.data, a.role = role.data;
	a.dept = dept.data ? dept.data : "", a.addrs = addrs.data ? addrs.data : "";
	if (useracct_add(r->c->s, r->actor, &a, r->client, &n) < 0)
		store_refused(r, "追加できません");
	else
		secrets_answer(r, name.data, &n, false);
out:
	useracct_new_free(&n);
	buf_free(&name);
	buf_free(&role);
	buf_free(&dept);
	buf_free(&addrs);
}

static void users_act(creq_t *r, const char *name, const char *act)
{
	bool disable = strcmp(act, "disable") == 0;
	useracct_new_t n;

	if (strcmp(act, "reset") == 0) {
		useracct_new_init(&n);
		if (useracct_reset(r->c->s, r->actor, name, r->client, &n) < 0)
			store_refused(r, "再発行できません");
		else
			secrets_answer(r, name, &n, true);
		useracct_new_free(&n);
		return;
	}
	if (disable && strcmp(name, r->sess->name) == 0) {
		console_audit(r, r->actor, "console.refused", name, "own account");
		console_error(r, MHD_HTTP_FORBIDDEN, "無効にできません",
			      "ご自身のアカウントは無効にできません。");
	} else if (qstore_account_disable(r->c->s, r->actor, name, disable, r->client) < 0) {
		store_refused(r, disable ? "無効にできません" : "有効にできません");
	} else if (r->api) {
		json_t j;

		json_begin(r, &j);
		json_key(&j, "ok");
		json_bool(&j, true);
		json_done(r, &j);
	} else {
		r->location = "/users";
	}
}

/* "/users/NAME/ACT" (ACT disable, enable or reset): name and act. */
static bool user_path(const char *path, char name[QACCT_NAME_MAX + 1], const char **act)
{
	const char *p = path + strlen("/users/"), *slash;

	if (strncmp(path, "/users/", strlen("/users/")) != 0 || !(slash = strchr(p, '/')) ||
	    (size_t)(slash - p) > QACCT_NAME_MAX)
		return false;
	memcpy(name, p, (size_t)(slash - p));
	name[slash - p] = '\0';
	*act = slash + 1;
	return strcmp(*act, "disable") == 0 || strcmp(*act, "enable") == 0 ||
	       strcmp(*act, "reset") == 0;
}

bool users_route(creq_t *r, const char *path, bool get)
{
	char name[QACCT_NAME_MAX + 1];
	const char *act;
	bool list = strcmp(path, "/users") == 0, one = !get && user_path(path, name, &act);

	if (!list && !one)
		return false;
	if (!users_allowed(r))
		return true;
	if (list && get && r->api)
		users_api_list(r);
	else if (list && get)
		users_page(r);
	else if (list)
		users_add(r);
	else
		users_act(r, name, act);
	return true;
}
