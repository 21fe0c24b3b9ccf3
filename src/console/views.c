/*
 * views.c — the console's pages and actions, in Japanese: login, the list
 * for each role, one message, the release request / approval / refusal, and
 * /q/ID or /q/受付番号 (the link of the notice's line 取り出しの依頼).
 *
 * Who sees what (checked on every object, not only in the lists):
 *   clerk     messages addressed to one of the account's addresses; may
 *             request their release (sanitized files or the original)
 *   approver  the same, plus the requests of members of their department;
 *             approves or refuses them, never their own
 *   admin     every message and every request (never their own)
 *   auditor   no mail: the audit chain's verification and latest records
 *             (audit_view.c); reports and CSV come later
 *
 * SECURITY: every value reaches the page through page_text(); ids are
 * checked by the router; a refused object looks the same as a missing one
 * (no oracle) and is audited with the client address. Release requests,
 * approvals and refusals go through the store API, which audits them with
 * the account ("console:NAME") as actor.
 */
#include "console/console.h"

#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/json.h"
#include "console/form.h"
#include "console/rjson.h"
#include "mail/mail.h"

#define LOGIN_COOKIE "mugai_login"
#define MSG_BAD_LOGIN "ユーザー名、パスワード、または確認コードが正しくありません。"
#define MSG_LOCKED "ログインに続けて失敗したため、このアカウントは一時的にロックされています。" \
	"しばらく待ってからログインするか、管理者に連絡してください。"
#define MSG_NO_MAIL "このメールは表示できません（存在しないか、表示する権限がありません）。"

/* The same check as form_get's: UTF-8 without controls but TAB CR LF. */
static int json_field_ok(const buf_t *v)
{
	for (size_t i = 0; i < v->len; i++) {
		unsigned char c = (unsigned char)v->data[i];

		if ((c < 0x20 && c != '\t' && c != '\r' && c != '\n') || c == 0x7f)
			return -1;
	}
	return 0;
}

int view_field(creq_t *r, const char *key, buf_t *out)
{
	int rc;

	if (!r->api)
		return form_get(r->body, r->body_len, key, out);
	rc = rjson_get_str(r->body, r->body_len, key, out);
	if (rc == 1 && json_field_ok(out) < 0)
		return -1;
	return rc;
}

/* ---- words ---- */

const char *view_verdict_ja(const char *v)
{
	static const char *const t[][2] = {
		{ "sanitized", "無害化済み" }, { "quarantined", "隔離" }, { "clean", "問題なし" },
		{ "withheld", "隔離" }, { "blocked", "遮断" },
		{ "ppap-pending", "パスワード付きZIP（パスワード待ち）" },
		{ "ppap-expired", "パスワード付きZIP（待つ期間が過ぎました）" },
		{ "ppap-paired", "パスワード付きZIP（無害化済み）" },
	};

	for (size_t i = 0; i < MUGAI_ARRAY_LEN(t); i++)
		if (strcmp(v, t[i][0]) == 0)
			return t[i][1];
	return "その他";
}

const char *view_status_ja(qstatus_t st)
{
	static const char *const t[QSTATUS__COUNT] = {
		[QSTATUS_HELD] = "保管中", [QSTATUS_REQUESTED] = "承認待ち",
		[QSTATUS_RELEASED] = "承認済み", [QSTATUS_EXPIRED] = "保存期間終了",
	};

	return st < QSTATUS__COUNT ? t[st] : "不明";
}

const char *view_kind_ja(const char *k)
{
	if (strcmp(k, "sanitized") == 0)
		return "無害化したファイル";
	return strcmp(k, "original") == 0 ? "原本" : "-";
}

/* "console:NAME" → NAME, else the actor as recorded. */
const char *view_who(const char *actor)
{
	return strncmp(actor, "console:", 8) == 0 ? actor + 8 : actor;
}

/* ---- who may see and do what ---- */

/* Is p[0..n) one of the comma-separated addresses of list (any case)? */
static bool in_list(const char *p, size_t n, const char *list)
{
	for (const char *q = list; *q;) {
		const char *qe = strchr(q, ',');
		size_t m = qe ? (size_t)(qe - q) : strlen(q);

		if (m == n && strncasecmp(p, q, n) == 0)
			return true;
		q += m + (qe ? 1 : 0);
	}
	return false;
}

/* The account's addresses among rcpt, comma-separated into out (when not
 * NULL); true when there is one. */
static bool own_rcpts(const qaccount_t *a, const char *rcpt, buf_t *out)
{
	const char *p = a->addrs;
	bool any = false;

	while (*p) {
		const char *end = strchr(p, ',');
		size_t n = end ? (size_t)(end - p) : strlen(p);

		if (in_list(p, n, rcpt)) {
			if (out && ((any && buf_putc(out, ',') < 0) || buf_append(out, p, n) < 0))
				return false;
			any = true;
		}
		p += n + (end ? 1 : 0);
	}
	return any;
}

static bool addressed_to(const qaccount_t *a, const char *rcpt)
{
	return own_rcpts(a, rcpt, NULL);
}

/* The department of the account that requested a release ("" if none). */
static bool same_dept(creq_t *r, const char *requested_by)
{
	qaccount_t a;
	bool same;

	if (!r->acct.dept[0] || strncmp(requested_by, "console:", 8) != 0 ||
	    qstore_account_get(r->c->s, requested_by + 8, &a) < 0)
		return false;
	same = strcmp(a.dept, r->acct.dept) == 0;
	qstore_account_free(&a);
	return same;
}

bool view_is_role(const creq_t *r, const char *role)
{
	return strcmp(r->acct.role, role) == 0;
}

static bool may_decide(creq_t *r, const qstore_item_t *it)
{
	if (!it->requested_by[0] || view_is_role(r, "clerk") || view_is_role(r, "auditor"))
		return false;
	return view_is_role(r, "admin") || same_dept(r, it->requested_by);
}

static bool may_request(creq_t *r, const qstore_item_t *it)
{
	return view_is_role(r, "admin") || (!view_is_role(r, "auditor") && addressed_to(&r->acct, it->rcpt));
}

bool view_may_request(creq_t *r, const qstore_item_t *it)
{
	return may_request(r, it);
}

static bool may_view(creq_t *r, const qstore_item_t *it)
{
	return may_request(r, it) || may_decide(r, it);
}

/* ---- login ---- */

void view_login(creq_t *r, const char *message)
{
	char tok[AUTH_TOKEN_LEN + 1];
	page_t *p = &r->page;

	auth_new_token(tok);
	snprintf(r->set_cookie[0], sizeof(r->set_cookie[0]),
		 LOGIN_COOKIE "=%s; Path=/login; HttpOnly; SameSite=Strict", tok);
	page_begin(p, "ログイン", NULL);
	if (message) {
		PAGE_LIT(p, "<p class=\"msg\" id=\"message\">");
		page_text(p, message);
		PAGE_LIT(p, "</p>\n");
	}
	PAGE_LIT(p, "<form method=\"post\" action=\"/login\"><input type=\"hidden\" name=\"csrf\" value=\"");
	page_text(p, tok);
	PAGE_LIT(p, "\"><label>ユーザー名 <input name=\"user\" autocomplete=\"username\" required></label>"
		 "<label>パスワード <input type=\"password\" name=\"password\" "
		 "autocomplete=\"current-password\" required></label>"
		 "<label>確認コード（認証アプリの6桁の数字） <input name=\"otp\" inputmode=\"numeric\" "
		 "autocomplete=\"one-time-code\" required></label>"
		 "<button type=\"submit\">ログイン</button></form>\n");
	page_end(p);
}

static void login_failed_page(creq_t *r, const char *msg)
{
	if (r->api) {
		console_error(r, MHD_HTTP_UNAUTHORIZED, "ログイン", msg);
		return;
	}
	page_free(&r->page);
	page_init(&r->page, CONSOLE_PAGE_MAX);
	view_login(r, msg);
	r->status = MHD_HTTP_UNAUTHORIZED;
}

static bool login_csrf_ok(creq_t *r)
{
	char cookie[AUTH_TOKEN_LEN + 1];
	buf_t tok;
	bool ok;

	buf_init(&tok, AUTH_TOKEN_LEN + 1);
	ok = r->cookie && form_cookie(r->cookie, LOGIN_COOKIE, cookie, sizeof(cookie)) == 1 &&
	     view_field(r, "csrf", &tok) == 1 && auth_token_eq(tok.data, cookie);
	buf_free(&tok);
	return ok;
}

static void login_record(creq_t *r, const qaccount_t *a, int64_t step, const char *why)
{
	char actor[CONSOLE_ACTOR_LEN + 1];
	qstore_login_t l = { .name = a->name, .actor = actor, .ok = !why, .totp_step = step,
			     .now = r->now };
	bool locked = false;
	buf_t det;

	snprintf(actor, sizeof(actor), "console:%s", a->name);
	l.max_fail = (long)lim(&r->c->cfg->lim, LIM_CONSOLE_FAILURES);
	l.lock_secs = (long)lim(&r->c->cfg->lim, LIM_CONSOLE_LOCKOUT);
	buf_init(&det, STORE_DET_MAX);
	if (console_details(r, why, &det) == 0)
		l.details = det.data;
	if (!l.details || qstore_account_login(r->c->s, &l, &locked) < 0) {
		fprintf(stderr, "mugai console: login of %s: %s\n", a->name, qstore_errmsg(r->c->s));
		console_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "エラー",
			      "記録に失敗したため、ログインできませんでした。");
	} else if (why) {
		login_failed_page(r, locked ? MSG_LOCKED : MSG_BAD_LOGIN);
	} else {
		csess_t *s = console_session_new(r->c, a->name, r->now);

		if (!s) {
			console_error(r, MHD_HTTP_SERVICE_UNAVAILABLE, "エラー", "ログインできませんでした。");
			buf_free(&det);
			return;
		}
		snprintf(r->set_cookie[0], sizeof(r->set_cookie[0]),
			 "mugai_session=%s; Path=/; HttpOnly; SameSite=Strict", s->id);
		r->sess = s;
		snprintf(r->set_cookie[1], sizeof(r->set_cookie[1]),
			 LOGIN_COOKIE "=; Path=/login; Max-Age=0; HttpOnly; SameSite=Strict");
		r->location = "/";
	}
	buf_free(&det);
}

/* Password and TOTP of an existing, enabled, unlocked account. */
static void login_check(creq_t *r, const qaccount_t *a, const char *pw, const char *otp)
{
	bool pw_ok = auth_verify(a->pwhash, pw);
	int64_t step = auth_totp_step(a->totp, otp, r->now, a->totp_last);

	if (!pw_ok)
		login_record(r, a, 0, "password");
	else if (step < 0)
		login_record(r, a, 0, otp[0] ? "totp" : "totp missing");
	else
		login_record(r, a, step, NULL);
}

static void login_account(creq_t *r, const char *user, const char *pw, const char *otp)
{
	qaccount_t a;
	char actor[CONSOLE_ACTOR_LEN + 1];

	if (!qstore_account_name_ok(user) || qstore_account_get(r->c->s, user, &a) < 0) {
		(void)auth_verify(NULL, pw);  /* same time as a known account */
		console_audit(r, "console", "console.login.failed",
			      qstore_account_name_ok(user) ? user : "", "unknown account");
		login_failed_page(r, MSG_BAD_LOGIN);
		return;
	}
	snprintf(actor, sizeof(actor), "console:%s", a.name);
	if (a.locked_until > r->now) {
		console_audit(r, actor, "console.login.refused", a.name, "locked");
		login_failed_page(r, MSG_LOCKED);
	} else if (a.disabled) {
		(void)auth_verify(NULL, pw);
		console_audit(r, actor, "console.login.refused", a.name, "disabled");
		login_failed_page(r, MSG_BAD_LOGIN);
	} else {
		login_check(r, &a, pw, otp);
	}
	qstore_account_free(&a);
}

void act_login(creq_t *r)
{
	buf_t user, pw, otp;

	buf_init(&user, QACCT_NAME_MAX + 1);
	buf_init(&pw, STORE_REASON_MAX);
	buf_init(&otp, STORE_REASON_MAX);
	if (!r->api && !login_csrf_ok(r)) {
		console_audit(r, "console", "console.refused", "/login", "csrf");
		login_failed_page(r, "画面の有効期限が切れました。もう一度ログインしてください。");
		r->status = MHD_HTTP_FORBIDDEN;
	} else if (view_field(r, "user", &user) != 1 || view_field(r, "password", &pw) != 1 ||
		   view_field(r, "otp", &otp) < 0) {
		console_audit(r, "console", "console.login.failed", "", "malformed form");
		login_failed_page(r, MSG_BAD_LOGIN);
	} else {
		login_account(r, user.data, pw.data, otp.data ? otp.data : "");
	}
	buf_free(&user);
	buf_free(&pw);
	buf_free(&otp);
}

void act_logout(creq_t *r)
{
	console_audit(r, r->actor, "console.logout", r->sess->name, NULL);
	console_session_end(r->c, r->sess);
	r->sess = NULL;
	snprintf(r->set_cookie[0], sizeof(r->set_cookie[0]),
		 "mugai_session=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict");
	r->location = "/login";
}

/* ---- lists ---- */

static void row_free(row_t *w)
{
	free(w->from);
	free(w->subject);
	free(w->verdict);
	free(w->requested_by);
	free(w->reason);
	free(w->kind);
}

void view_rows_free(rows_t *rs)
{
	for (size_t i = 0; i < rs->n; i++)
		row_free(&rs->v[i]);
	free(rs->v);
}

static int row_add(const qstore_item_t *it, void *arg)
{
	rows_t *rs = arg;
	row_t *w;

	for (size_t i = 0; i < rs->n; i++)
		if (strcmp(rs->v[i].id, it->id) == 0)
			return 0;
	if (rs->n == rs->cap || (rs->dept_requests && !may_decide(rs->r, it)))
		return 0;
	w = &rs->v[rs->n];
	memset(w, 0, sizeof(*w));
	snprintf(w->id, sizeof(w->id), "%s", it->id);
	w->received = it->received;
	w->status = it->status;
	w->from = strdup(it->hdr_from[0] ? it->hdr_from : it->env_from);
	w->subject = strdup(it->subject);
	w->verdict = strdup(it->verdict);
	w->requested_by = strdup(view_who(it->requested_by));
	w->reason = strdup(it->request_reason);
	w->kind = strdup(it->release_kind);
	rs->n++;
	if (!w->from || !w->subject || !w->verdict || !w->requested_by || !w->reason || !w->kind)
		return -1;
	return 0;
}

static int row_cmp(const void *a, const void *b)
{
	const row_t *x = a, *y = b;

	if (x->received != y->received)
		return x->received < y->received ? 1 : -1;
	return -strcmp(x->id, y->id);
}

static void subject_link(page_t *p, const row_t *w)
{
	PAGE_LIT(p, "<a href=\"/mail/");
	page_text(p, w->id);
	PAGE_LIT(p, "\">");
	page_text(p, w->subject[0] ? w->subject : "（件名なし）");
	PAGE_LIT(p, "</a>");
}

static void mail_table(page_t *p, const rows_t *rs)
{
	if (rs->n == 0) {
		PAGE_LIT(p, "<p>表示するメールはありません。</p>\n");
		return;
	}
	PAGE_LIT(p, "<table id=\"mail\"><tr><th>受信日時</th><th>差出人</th><th>件名</th>"
		 "<th>判定</th><th>状態</th></tr>\n");
	for (size_t i = 0; i < rs->n; i++) {
		const row_t *w = &rs->v[i];

		PAGE_LIT(p, "<tr><td>");
		page_time_jst(p, w->received);
		PAGE_LIT(p, "</td><td>");
		page_text(p, w->from);
		PAGE_LIT(p, "</td><td>");
		subject_link(p, w);
		PAGE_LIT(p, "</td><td>");
		page_text(p, view_verdict_ja(w->verdict));
		PAGE_LIT(p, "</td><td>");
		page_text(p, view_status_ja(w->status));
		PAGE_LIT(p, "</td></tr>\n");
	}
	PAGE_LIT(p, "</table>\n");
}

static void request_table(page_t *p, const rows_t *rs)
{
	if (rs->n == 0) {
		PAGE_LIT(p, "<p>承認待ちの依頼はありません。</p>\n");
		return;
	}
	PAGE_LIT(p, "<table id=\"requests\"><tr><th>受付番号</th><th>受信日時</th><th>依頼者</th>"
		 "<th>件名</th><th>依頼の種類</th><th>理由</th></tr>\n");
	for (size_t i = 0; i < rs->n; i++) {
		const row_t *w = &rs->v[i];

		PAGE_LIT(p, "<tr><td>");
		page_text(p, w->id);
		PAGE_LIT(p, "</td><td>");
		page_time_jst(p, w->received);
		PAGE_LIT(p, "</td><td>");
		page_text(p, w->requested_by);
		PAGE_LIT(p, "</td><td>");
		subject_link(p, w);
		PAGE_LIT(p, "</td><td>");
		page_text(p, view_kind_ja(w->kind));
		PAGE_LIT(p, "</td><td>");
		page_text(p, w->reason);
		PAGE_LIT(p, "</td></tr>\n");
	}
	PAGE_LIT(p, "</table>\n");
}

/* Rows of the messages addressed to the account (or all, for an admin). */
int view_my_mail(creq_t *r, rows_t *rs)
{
	qstore_filter_t f = { .status = -1, .limit = (long)rs->cap };
	const char *p = r->acct.addrs;
	char addr[QACCT_ADDRS_MAX + 1];

	if (view_is_role(r, "admin"))
		return qstore_list(r->c->s, r->actor, &f, row_add, rs);
	while (*p) {
		const char *end = strchr(p, ',');
		size_t n = end ? (size_t)(end - p) : strlen(p);

		snprintf(addr, sizeof(addr), "%.*s", (int)n, p);
		f.rcpt = addr;
		if (qstore_list(r->c->s, r->actor, &f, row_add, rs) < 0)
			return -1;
		p += n + (end ? 1 : 0);
	}
	qsort(rs->v, rs->n, sizeof(*rs->v), row_cmp);
	return 0;
}

int view_pending(creq_t *r, rows_t *rs)
{
	qstore_filter_t f = { .status = QSTATUS_REQUESTED, .limit = (long)rs->cap };

	rs->dept_requests = true;
	return qstore_list(r->c->s, r->actor, &f, row_add, rs);
}

int view_rows_init(creq_t *r, rows_t *rs)
{
	memset(rs, 0, sizeof(*rs));
	rs->r = r;
	rs->cap = (size_t)lim(&r->c->cfg->lim, LIM_CONSOLE_LIST);
	rs->v = calloc(rs->cap, sizeof(*rs->v));
	return rs->v ? 0 : -1;
}

static void logout_form(creq_t *r)
{
	PAGE_LIT(&r->page, "<form method=\"post\" action=\"/logout\" class=\"inline\">"
		 "<input type=\"hidden\" name=\"csrf\" value=\"");
	page_text(&r->page, r->sess->csrf);
	PAGE_LIT(&r->page, "\"><button type=\"submit\">ログアウト</button></form>\n");
}

static int home_sections(creq_t *r, page_t *p)
{
	rows_t rs;
	int rc = 0;

	if (!view_is_role(r, "clerk")) {
		if (view_rows_init(r, &rs) < 0)
			return -1;
		PAGE_LIT(p, "<h2>承認待ちの依頼</h2>\n");
		rc = view_pending(r, &rs);
		request_table(p, &rs);
		view_rows_free(&rs);
	}
	if (rc == 0) {
		if (view_rows_init(r, &rs) < 0)
			return -1;
		PAGE_LIT(p, "<h2>隔離・無害化したメール</h2>\n");
		rc = view_my_mail(r, &rs);
		mail_table(p, &rs);
		view_rows_free(&rs);
	}
	return rc;
}

void view_home(creq_t *r)
{
	page_t *p = &r->page;

	page_begin(p, "メール一覧", r->sess->name);
	logout_form(r);
	if (view_is_role(r, "admin"))
		PAGE_LIT(p, "<p><a href=\"/search\">メールの検索</a> "
			 "<a href=\"/report/self\">自己点検報告書</a> "
			 "<a href=\"/users\">アカウントの管理</a></p>\n");
	if (view_is_role(r, "auditor")) {
		view_audit(r);
	} else if (home_sections(r, p) < 0) {
		console_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "エラー",
			      "一覧を読み込めませんでした。");
		return;
	}
	page_end(p);
}

/* ---- the notice's console line: /q/ID or /q/受付番号 ---- */

/* Keep the rows whose id ends with the 受付番号's digits. */
static void rows_keep_short(rows_t *rs, const char tail[8 + 1])
{
	size_t k = 0;

	for (size_t i = 0; i < rs->n; i++) {
		if (strcmp(rs->v[i].id + MUGAI_ID_LEN - 8, tail) == 0) {
			row_t t = rs->v[k];

			rs->v[k++] = rs->v[i];
			rs->v[i] = t;
		}
	}
	for (size_t i = k; i < rs->n; i++)
		row_free(&rs->v[i]);
	rs->n = k;
}

static void go_detail(creq_t *r, const char *id)
{
	snprintf(r->location_buf, sizeof(r->location_buf), "/mail/%s", id);
	r->location = r->location_buf;
}

/* The messages of the account whose id is key, or whose 受付番号 it is:
 * 1 (rows in rs), 0 (key is neither: nothing looked up), -1 (set). */
static int lookup_rows(creq_t *r, const char *key, rows_t *rs)
{
	char tail[8 + 1];
	bool full = mugai_id_valid(key);

	if (!full && !mugai_id_short_parse(key, tail))
		return 0;
	if (view_rows_init(r, rs) < 0 || view_my_mail(r, rs) < 0) {
		console_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "エラー", "一覧を読み込めませんでした。");
		view_rows_free(rs);
		return -1;
	}
	rows_keep_short(rs, full ? key + MUGAI_ID_LEN - 8 : tail);
	if (full)
		for (size_t i = 0; i < rs->n; i++)
			if (strcmp(rs->v[i].id, key) != 0)
				rs->v[i].id[0] = '\0';  /* same 受付番号, another id */
	return 1;
}

static void lookup_none(creq_t *r, const char *key)
{
	console_audit(r, r->actor, "console.refused", key, "no such message");
	console_error(r, MHD_HTTP_NOT_FOUND, "表示できません", MSG_NO_MAIL);
}

/* GET /q/KEY: KEY an id (the notice's link) or a 受付番号 "xxxx-xxxx" read
 * over the phone (any case, with or without the hyphen). One message the
 * account may see: 303 to its page; several: a list; none (or not
 * permitted): the same 404 as a missing message, audited. Only the
 * console_list_max newest messages of the account are searched; an id goes
 * to its page, which checks it. */
void view_lookup(creq_t *r, const char *key)
{
	rows_t rs;
	int k;

	if (mugai_id_valid(key)) {
		go_detail(r, key);
		return;
	}
	k = lookup_rows(r, key, &rs);
	if (k <= 0) {
		if (k == 0)
			console_error(r, MHD_HTTP_NOT_FOUND, "表示できません", MSG_NO_MAIL);
		return;
	}
	if (rs.n == 1) {
		go_detail(r, rs.v[0].id);
	} else if (rs.n == 0) {
		lookup_none(r, key);
	} else {
		page_begin(&r->page, "受付番号の検索", r->sess->name);
		PAGE_LIT(&r->page, "<p><a href=\"/\">一覧に戻る</a></p>\n<p>この受付番号のメールが"
			 "複数あります。件名と受信日時で選んでください。</p>\n");
		mail_table(&r->page, &rs);
		page_end(&r->page);
	}
	view_rows_free(&rs);
}

/* GET /api/q/KEY: {"ids": [...]}, the ids of the account's messages with
 * that id or 受付番号, newest first; none: the page's 404, audited. */
void view_lookup_api(creq_t *r, const char *key)
{
	size_t found = 0;
	rows_t rs;
	json_t j;
	int k = lookup_rows(r, key, &rs);

	if (k < 0)
		return;
	for (size_t i = 0; k > 0 && i < rs.n; i++)
		found += rs.v[i].id[0] != '\0';
	if (found == 0) {
		if (k > 0)
			view_rows_free(&rs);
		lookup_none(r, key);
		return;
	}
	r->content_type = "application/json; charset=utf-8";
	json_init(&j, &r->page.b);
	json_obj_begin(&j);
	json_key(&j, "ids");
	json_arr_begin(&j);
	for (size_t i = 0; i < rs.n; i++)
		if (rs.v[i].id[0])
			json_str(&j, rs.v[i].id);
	json_arr_end(&j);
	json_obj_end(&j);
	if (json_finish(&j) < 0)
		r->page.err = -1;
	view_rows_free(&rs);
}

/* ---- one message ---- */

typedef struct listing {
	page_t *p;
	size_t n;
} listing_t;

static int removed_item(const char *name, const char *code, void *arg)
{
	listing_t *l = arg;

	l->n++;
	PAGE_LIT(l->p, "<li>");
	page_text(l->p, name ? name : "（名前なし）");
	PAGE_LIT(l->p, " — ");
	page_text(l->p, notice_removal_ja(code ? code : ""));
	PAGE_LIT(l->p, "</li>\n");
	return 0;
}

static int limit_item(const char *name, const char *code, void *arg)
{
	listing_t *l = arg;

	(void)code;
	l->n++;
	PAGE_LIT(l->p, "<li>");
	page_text(l->p, notice_limit_ja(name ? name : ""));
	PAGE_LIT(l->p, "</li>\n");
	return 0;
}

/* What was removed and why it was withheld, from the stored report. */
static void report_lists(page_t *p, const char *report)
{
	size_t n = strlen(report);
	listing_t l = { p, 0 };

	PAGE_LIT(p, "<h2>削除した項目</h2>\n<ul id=\"removed\">\n");
	if (rjson_each(report, n, "removed", removed_item, &l) < 0)
		PAGE_LIT(p, "<li>処理結果を読み取れませんでした。</li>\n");
	else if (l.n == 0)
		PAGE_LIT(p, "<li>削除した項目はありません。</li>\n");
	l.n = 0;
	PAGE_LIT(p, "</ul>\n<h2>隔離の理由</h2>\n<ul id=\"limits\">\n");
	if (rjson_each(report, n, "limits_hit", limit_item, &l) < 0)
		PAGE_LIT(p, "<li>処理結果を読み取れませんでした。</li>\n");
	else if (l.n == 0)
		PAGE_LIT(p, "<li>上限を超えた項目はありません。</li>\n");
	PAGE_LIT(p, "</ul>\n");
}

static void dl_item(page_t *p, const char *term, const char *value)
{
	PAGE_LIT(p, "<dt>");
	page_text(p, term);
	PAGE_LIT(p, "</dt><dd>");
	page_text(p, value[0] ? value : "-");
	PAGE_LIT(p, "</dd>\n");
}

static void facts(page_t *p, const qstore_item_t *it)
{
	char sh[MUGAI_ID_SHORT_LEN + 1], num[MUGAI_ID_LEN + MUGAI_ID_SHORT_LEN + 8];

	mugai_id_short(it->id, sh);
	snprintf(num, sizeof(num), "%s（%s）", it->id, sh);
	PAGE_LIT(p, "<dl id=\"facts\">");
	dl_item(p, "受付番号", num);
	dl_item(p, "差出人", it->hdr_from);
	dl_item(p, "送信元（エンベロープ）", it->env_from);
	dl_item(p, "件名", it->subject);
	PAGE_LIT(p, "<dt>受信日時</dt><dd>");
	page_time_jst(p, it->received);
	PAGE_LIT(p, "（日本時間）</dd>\n");
	dl_item(p, "判定", view_verdict_ja(it->verdict));
	dl_item(p, "状態", view_status_ja(it->status));
	if (it->requested_by[0]) {
		dl_item(p, "依頼者", view_who(it->requested_by));
		dl_item(p, "依頼の種類", view_kind_ja(it->release_kind));
		dl_item(p, "依頼の理由", it->request_reason);
	}
	if (it->approved_by[0])
		dl_item(p, "承認者", view_who(it->approved_by));
	PAGE_LIT(p, "</dl>\n");
}

static void csrf_field(creq_t *r)
{
	PAGE_LIT(&r->page, "<input type=\"hidden\" name=\"csrf\" value=\"");
	page_text(&r->page, r->sess->csrf);
	PAGE_LIT(&r->page, "\">");
}

static void request_form(creq_t *r, const qstore_item_t *it)
{
	page_t *p = &r->page;

	if (it->refused_by[0]) {
		PAGE_LIT(p, "<p class=\"msg\" id=\"refused\">前回の依頼は却下されました（");
		page_text(p, view_who(it->refused_by));
		PAGE_LIT(p, "）: ");
		page_text(p, it->refuse_comment);
		PAGE_LIT(p, "</p>\n");
	}
	PAGE_LIT(p, "<h2>受け取りの依頼</h2><form method=\"post\" action=\"/mail/");
	page_text(p, it->id);
	PAGE_LIT(p, "/request\">");
	csrf_field(r);
	PAGE_LIT(p, "<label><input type=\"radio\" name=\"kind\" value=\"sanitized\" checked> "
		 "無害化したファイル（通常はこちら）</label>"
		 "<label><input type=\"radio\" name=\"kind\" value=\"original\"> 原本（承認者の確認が必要です）"
		 "</label><label>理由 <textarea name=\"reason\" required></textarea></label>"
		 "<button type=\"submit\">依頼する</button></form>\n");
}

static void decide_form(creq_t *r, const qstore_item_t *it, bool approve)
{
	page_t *p = &r->page;

	PAGE_LIT(p, "<form method=\"post\" action=\"/mail/");
	page_text(p, it->id);
	if (approve)
		PAGE_LIT(p, "/approve\">");
	else
		PAGE_LIT(p, "/refuse\">");
	csrf_field(r);
	PAGE_LIT(p, "<label>コメント <textarea name=\"comment\"></textarea></label>");
	if (approve)
		PAGE_LIT(p, "<button type=\"submit\" name=\"do\" value=\"approve\">承認する</button></form>\n");
	else
		PAGE_LIT(p, "<button type=\"submit\" name=\"do\" value=\"refuse\">却下する</button></form>\n");
}

/* What became of an approved release (release_to, set by the releaser). */
static void released_line(page_t *p, const qstore_item_t *it)
{
	bool san = strcmp(it->release_kind, "sanitized") == 0;
	bool done = strcmp(it->release_to, "queue-delivered") == 0 ||
		    strcmp(it->release_to, "queue-sanitized-delivered") == 0;

	if (strcmp(it->release_to, "file") == 0)
		PAGE_LIT(p, "<p class=\"ok\" id=\"released\">承認されました。管理者がファイルとして"
			 "取り出しました。</p>\n");
	else if (san && done)
		PAGE_LIT(p, "<p class=\"ok\" id=\"released\">承認され、無害化したファイルを依頼者の"
			 "メールボックスに配送しました。</p>\n");
	else if (san)
		PAGE_LIT(p, "<p class=\"ok\" id=\"released\">承認されました。無害化したファイルを"
			 "依頼者に配送します。</p>\n");
	else if (done)
		PAGE_LIT(p, "<p class=\"ok\" id=\"released\">承認され、原本を依頼者のメールボックスに"
			 "配送しました。</p>\n");
	else
		PAGE_LIT(p, "<p class=\"ok\" id=\"released\">承認されました。原本を依頼者に"
			 "配送します。</p>\n");
}

static void actions(creq_t *r, const qstore_item_t *it)
{
	page_t *p = &r->page;

	if (it->status == QSTATUS_REQUESTED && adminrel_needed(it)) {
		adminrel_section(r, it);  /* two admins, never an approver */
		if (may_decide(r, it) && strcmp(it->requested_by, r->actor) != 0)
			decide_form(r, it, false);
		return;
	}
	if (it->status == QSTATUS_HELD && may_request(r, it)) {
		request_form(r, it);
	} else if (it->status == QSTATUS_REQUESTED && may_decide(r, it) &&
		   strcmp(it->requested_by, r->actor) != 0) {
		PAGE_LIT(p, "<h2>承認</h2>\n");
		decide_form(r, it, true);
		decide_form(r, it, false);
	} else if (it->status == QSTATUS_REQUESTED) {
		PAGE_LIT(p, "<p class=\"ok\" id=\"pending\">受け取りの依頼は承認待ちです。</p>\n");
	} else if (it->status == QSTATUS_RELEASED) {
		released_line(p, it);
	}
}

/* The item if the account may see it; else the refusal page (audited). */
bool view_load_item(creq_t *r, const char *id, qstore_item_t *it)
{
	memset(it, 0, sizeof(*it));
	if (qstore_show(r->c->s, r->actor, id, it) < 0) {
		bool missing = qstore_errcode(r->c->s) == QS_ERR_NOTFOUND;

		if (missing)
			console_audit(r, r->actor, "console.refused", id, "no such message");
		console_error(r, missing ? MHD_HTTP_NOT_FOUND : MHD_HTTP_INTERNAL_SERVER_ERROR,
			      "表示できません", missing ? MSG_NO_MAIL : "メールを読み込めませんでした。");
		return false;
	}
	if (!may_view(r, it)) {
		console_audit(r, r->actor, "console.refused", id, "not permitted");
		console_error(r, MHD_HTTP_NOT_FOUND, "表示できません", MSG_NO_MAIL);
		qstore_item_free(it);
		return false;
	}
	return true;
}

void view_detail(creq_t *r, const char *id)
{
	qstore_item_t it;
	page_t *p = &r->page;

	if (!view_load_item(r, id, &it))
		return;
	page_begin(p, "メールの詳細", r->sess->name);
	PAGE_LIT(p, "<p><a href=\"/\">一覧に戻る</a></p>\n");
	facts(p, &it);
	report_lists(p, it.report);
	actions(r, &it);
	ppap_form(r, &it);
	if (view_is_role(r, "admin")) {
		PAGE_LIT(p, "<p><a id=\"original\" href=\"/mail/");
		page_text(p, it.id);
		PAGE_LIT(p, "/original\">原本のダウンロード（管理者のみ）</a></p>\n");
	}
	page_end(p);
	qstore_item_free(&it);
}

/* ---- actions ---- */

/* A reason or comment from a textarea as one line: the store keeps them
 * without control characters (line ends and tabs become spaces). */
static void one_line(buf_t *b)
{
	for (size_t i = 0; i < b->len; i++)
		if (b->data[i] == '\r' || b->data[i] == '\n' || b->data[i] == '\t')
			b->data[i] = ' ';
}

static void store_failed(creq_t *r, const char *what)
{
	qstore_err_t e = qstore_errcode(r->c->s);

	if (e == QS_ERR_STATE)
		console_error(r, MHD_HTTP_CONFLICT, what, "この依頼はすでに処理されています。");
	else if (e == QS_ERR_INVAL)
		console_error(r, MHD_HTTP_BAD_REQUEST, what, "入力が正しくありません。");
	else if (e == QS_ERR_DENIED)  /* the store's own two-person rule */
		console_error(r, MHD_HTTP_FORBIDDEN, what, "ご自身の依頼は承認も却下もできません。");
	else
		console_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, what, "記録に失敗しました。");
}

/* Whom the release goes to: the requester's own recipients of the message
 * ("" for an admin who is not one: every recipient). */
int view_deliver_to(creq_t *r, const qstore_item_t *it, buf_t *to)
{
	(void)own_rcpts(&r->acct, it->rcpt, to);
	if (buf_putc(to, '\0') < 0)
		return -1;
	to->len--;
	return 0;
}

void act_request(creq_t *r, const char *id)
{
	qstore_item_t it;
	buf_t reason, kind, to;
	int kr;

	if (!view_load_item(r, id, &it))
		return;
	buf_init(&reason, STORE_REASON_MAX);
	buf_init(&kind, STORE_REASON_MAX);
	buf_init(&to, QACCT_ADDRS_MAX + 1);
	kr = view_field(r, "kind", &kind);
	if (!may_request(r, &it)) {
		console_audit(r, r->actor, "console.refused", id, "not permitted");
		console_error(r, MHD_HTTP_FORBIDDEN, "依頼できません", "このメールの受け取りは依頼できません。");
	} else if (view_field(r, "reason", &reason) != 1 || !reason.data[0] ||
		   (one_line(&reason), false)) {
		console_error(r, MHD_HTTP_BAD_REQUEST, "依頼できません", "理由を入力してください。");
	} else if (kr < 0) {
		console_error(r, MHD_HTTP_BAD_REQUEST, "依頼できません", "入力が正しくありません。");
	} else if (view_deliver_to(r, &it, &to) < 0 ||
		   notify_request(r, &it, reason.data, kr == 1 ? kind.data : "sanitized",
				  to.data) < 0) {
		store_failed(r, "依頼できません");
	} else {
		r->location = "/";
	}
	buf_free(&reason);
	buf_free(&kind);
	buf_free(&to);
	qstore_item_free(&it);
}

static int decision_details(const creq_t *r, const char *comment, buf_t *b)
{
	json_t j;

	json_init(&j, b);
	json_obj_begin(&j);
	json_key(&j, "client");
	json_str(&j, r->client);
	json_key(&j, "comment");
	json_str(&j, comment);
	json_obj_end(&j);
	return json_finish(&j);
}

static void decide(creq_t *r, const qstore_item_t *it, bool approve, const char *comment)
{
	buf_t det;
	int rc;

	buf_init(&det, STORE_DET_MAX);
	rc = decision_details(r, comment, &det);
	if (rc == 0 && approve)
		rc = qstore_approve(r->c->s, it->id, r->actor, true, NULL) == 0 &&
		     audit_append(r->c->s, r->actor, "console.approve", it->id, det.data) == 0 ? 0 : -1;
	else if (rc == 0)
		rc = qstore_refuse(r->c->s, it->id, r->actor, comment, det.data);
	if (rc < 0)
		store_failed(r, approve ? "承認できません" : "却下できません");
	else
		r->location = "/";
	buf_free(&det);
}

void act_decide(creq_t *r, const char *id, bool approve)
{
	const char *what = approve ? "承認できません" : "却下できません";
	qstore_item_t it;
	buf_t comment;

	if (!view_load_item(r, id, &it))
		return;
	buf_init(&comment, STORE_REASON_MAX);
	if (it.status != QSTATUS_REQUESTED) {
		console_error(r, MHD_HTTP_CONFLICT, what, "承認待ちの依頼ではありません。");
	} else if (strcmp(it.requested_by, r->actor) == 0) {
		console_audit(r, r->actor, "quarantine.approve.refused", id, "own request");
		console_error(r, MHD_HTTP_FORBIDDEN, what, "ご自身の依頼は承認も却下もできません。");
	} else if (!may_decide(r, &it)) {
		console_audit(r, r->actor, "console.refused", id, "not permitted");
		console_error(r, MHD_HTTP_FORBIDDEN, what, "この依頼を判断する権限がありません。");
	} else if (approve && adminrel_refuse_approval(r, &it)) {
		/* the refusal is set */
	} else if (view_field(r, "comment", &comment) < 0 ||
		   (!approve && (!comment.data || !comment.data[0]))) {
		console_error(r, MHD_HTTP_BAD_REQUEST, what,
			      approve ? "コメントが正しくありません。" : "却下の理由をコメントに入力してください。");
	} else {
		one_line(&comment);
		decide(r, &it, approve, comment.data ? comment.data : "");
	}
	buf_free(&comment);
	qstore_item_free(&it);
}
