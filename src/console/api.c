/*
 * api.c — the console's JSON API beside the pages, for tests and for a
 * municipality's own tools. Same sessions, same checks, same audit records
 * as the pages (the actions are views.c's); JSON in (a flat object of
 * strings, rjson_get_str) and out (common/json.c).
 *
 *   POST /api/login {user, password, otp}      → {"csrf": TOKEN} + session cookie
 *   GET  /api/quarantine                       → what the account may see
 *   GET  /api/quarantine/ID                    → one message
 *   POST /api/quarantine/ID/request {reason, kind: sanitized|original}
 *   POST /api/quarantine/ID/approve {comment}
 *   POST /api/quarantine/ID/refuse {comment}
 *   POST /api/quarantine/ID/ppap {password}    → the PPAP zip opened, its
 *                                                follow-up queued (ppap_view.c)
 *   GET  /api/audit/verify                     → auditor: the chain's check
 *   GET  /api/report?from=&to=                 → auditor, admin: the self-
 *                                                inspection report (selfrep.c)
 *   GET  /api/search?...                       → admin: the search (search.c)
 *   POST /api/quarantine/ID/admin-release {understood: "yes"} → admin (adminrel.c)
 *   GET  /api/q/KEY                            → {"ids": [...]} (views.c)
 *   GET, POST /api/users, POST /api/users/NAME/disable|enable|reset (users.c)
 *   POST /api/logout
 *
 * Write requests need the header X-CSRF-Token and Content-Type
 * application/json (which a cross-site form cannot send). Errors are
 * {"error": TEXT} with the pages' Japanese text and status.
 *
 * SECURITY: the sender's strings leave as JSON strings (json_str); the
 * content type is application/json with nosniff and CSP default-src 'none',
 * so no browser renders an answer as a page.
 */
#include "console/console.h"

#include <microhttpd.h>
#include <stdio.h>
#include <string.h>

#include "common/json.h"
#include "console/rjson.h"
#include "mail/mail.h"
#include "store/audit.h"

static void json_reply(creq_t *r)
{
	r->content_type = "application/json; charset=utf-8";
	r->location = NULL;
	r->status = MHD_HTTP_OK;
	page_free(&r->page);
	page_init(&r->page, CONSOLE_PAGE_MAX);
}

static void json_done(creq_t *r, json_t *j)
{
	if (json_finish(j) < 0)
		r->page.err = -1;
}

void api_login_done(creq_t *r)
{
	json_t j;

	if (!r->location || !r->sess)
		return;  /* the error is already set */
	json_reply(r);
	json_init(&j, &r->page.b);
	json_obj_begin(&j);
	json_key(&j, "csrf");
	json_str(&j, r->sess->csrf);
	json_obj_end(&j);
	json_done(r, &j);
}

/* After an action: {"ok": true} unless it set an error. */
static void action_done(creq_t *r)
{
	json_t j;

	if (!r->location)
		return;
	json_reply(r);
	json_init(&j, &r->page.b);
	json_obj_begin(&j);
	json_key(&j, "ok");
	json_bool(&j, true);
	json_obj_end(&j);
	json_done(r, &j);
}

static void row_json(json_t *j, const row_t *w)
{
	json_obj_begin(j);
	json_kv(j, "id", w->id);
	json_key(j, "received");
	json_int(j, w->received);
	json_kv(j, "from", w->from);
	json_kv(j, "subject", w->subject);
	json_kv(j, "verdict", w->verdict);
	json_kv(j, "verdict_ja", view_verdict_ja(w->verdict));
	json_kv(j, "status", qstatus_name(w->status));
	json_kv(j, "status_ja", view_status_ja(w->status));
	json_kv(j, "requested_by", w->requested_by);
	json_kv(j, "kind", w->kind);
	json_kv(j, "reason", w->reason);
	json_obj_end(j);
}

static void rows_json(json_t *j, const char *key, const rows_t *rs)
{
	json_key(j, key);
	json_arr_begin(j);
	for (size_t i = 0; i < rs->n; i++)
		row_json(j, &rs->v[i]);
	json_arr_end(j);
}

static void api_list(creq_t *r)
{
	rows_t mail, req;
	json_t j;
	int rc = -1;

	if (view_rows_init(r, &mail) < 0)
		goto fail;
	if (view_rows_init(r, &req) < 0) {
		view_rows_free(&mail);
		goto fail;
	}
	if (!view_is_role(r, "auditor"))
		rc = view_my_mail(r, &mail) == 0 && (view_is_role(r, "clerk") ||
						     view_pending(r, &req) == 0) ? 0 : -1;
	else
		rc = 0;
	if (rc == 0) {
		json_reply(r);
		json_init(&j, &r->page.b);
		json_obj_begin(&j);
		rows_json(&j, "mail", &mail);
		rows_json(&j, "requests", &req);
		json_obj_end(&j);
		json_done(r, &j);
	}
	view_rows_free(&mail);
	view_rows_free(&req);
	if (rc == 0)
		return;
fail:
	console_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "エラー", "一覧を読み込めませんでした。");
}

typedef struct jlist {
	json_t *j;
	bool limits;
} jlist_t;

static int removed_json(const char *name, const char *code, void *arg)
{
	jlist_t *l = arg;

	json_obj_begin(l->j);
	if (l->limits) {
		json_kv(l->j, "limit", name ? name : "");
		json_kv(l->j, "reason_ja", notice_limit_ja(name ? name : ""));
	} else {
		json_key(l->j, "filename");
		if (name)
			json_str(l->j, name);
		else
			json_null(l->j);
		json_kv(l->j, "reason", code ? code : "");
		json_kv(l->j, "reason_ja", notice_removal_ja(code ? code : ""));
	}
	json_obj_end(l->j);
	return 0;
}

/* What was removed and why it was withheld; report_readable false when the
 * stored report could not be read (the lists are then what was read). */
static void item_report_json(json_t *j, const char *report)
{
	jlist_t l = { j, false };
	size_t n = strlen(report);
	bool ok;

	json_key(j, "removed");
	json_arr_begin(j);
	ok = rjson_each(report, n, "removed", removed_json, &l) == 0;
	json_arr_end(j);
	l.limits = true;
	json_key(j, "limits_hit");
	json_arr_begin(j);
	ok = rjson_each(report, n, "limits_hit", removed_json, &l) == 0 && ok;
	json_arr_end(j);
	json_key(j, "report_readable");
	json_bool(j, ok);
}

static void api_detail(creq_t *r, const char *id)
{
	qstore_item_t it;
	json_t j;

	if (!view_load_item(r, id, &it))
		return;
	json_reply(r);
	json_init(&j, &r->page.b);
	json_obj_begin(&j);
	json_kv(&j, "id", it.id);
	json_key(&j, "received");
	json_int(&j, it.received);
	json_kv(&j, "from", it.hdr_from);
	json_kv(&j, "envelope_from", it.env_from);
	json_kv(&j, "subject", it.subject);
	json_kv(&j, "verdict", it.verdict);
	json_kv(&j, "verdict_ja", view_verdict_ja(it.verdict));
	json_kv(&j, "status", qstatus_name(it.status));
	json_kv(&j, "status_ja", view_status_ja(it.status));
	json_kv(&j, "requested_by", view_who(it.requested_by));
	json_kv(&j, "kind", it.release_kind);
	json_kv(&j, "reason", it.request_reason);
	json_kv(&j, "approved_by", view_who(it.approved_by));
	json_kv(&j, "refused_by", view_who(it.refused_by));
	json_kv(&j, "refuse_comment", it.refuse_comment);
	item_report_json(&j, it.report);
	json_obj_end(&j);
	json_done(r, &j);
	qstore_item_free(&it);
}

static void api_verify(creq_t *r)
{
	const char *wf = cfg_str(r->c->cfg, CFG_AUDIT_WITNESS_FILE);
	audit_verdict_t v;
	json_t j;

	if (!view_is_role(r, "auditor") && !view_is_role(r, "admin")) {
		console_audit(r, r->actor, "console.refused", "/api/audit/verify", "not permitted");
		console_error(r, MHD_HTTP_FORBIDDEN, "表示できません", "監査記録を見る権限がありません。");
		return;
	}
	if (audit_verify(r->c->s, wf[0] ? wf : NULL, &v) < 0) {
		console_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "エラー", "検証を実行できませんでした。");
		return;
	}
	console_audit(r, r->actor, "audit.verify", "audit", audit_break_name(v.kind));
	json_reply(r);
	json_init(&j, &r->page.b);
	json_obj_begin(&j);
	json_kv(&j, "result", audit_break_name(v.kind));
	json_key(&j, "records");
	json_int(&j, v.records);
	json_key(&j, "first_broken_seq");
	json_int(&j, v.kind == AUDIT_INTACT ? 0 : v.seq);
	json_kv(&j, "head_hash", v.head_hash);
	json_obj_end(&j);
	json_done(r, &j);
}

/* "/quarantine/ID[/ACTION]": id and action ("" when none). */
static bool item_path(const char *path, char id[MUGAI_ID_LEN + 1], const char **act)
{
	const char *p = path + strlen("/quarantine/");

	if (strncmp(path, "/quarantine/", strlen("/quarantine/")) != 0 ||
	    strlen(p) < MUGAI_ID_LEN || (p[MUGAI_ID_LEN] && p[MUGAI_ID_LEN] != '/'))
		return false;
	memcpy(id, p, MUGAI_ID_LEN);
	id[MUGAI_ID_LEN] = '\0';
	*act = p[MUGAI_ID_LEN] ? p + MUGAI_ID_LEN + 1 : "";
	return mugai_id_valid(id);
}

void api_dispatch(creq_t *r, const char *path, bool get)
{
	char id[MUGAI_ID_LEN + 1];
	const char *act = "";
	bool item = item_path(path, id, &act);

	if (get && strcmp(path, "/quarantine") == 0)
		api_list(r);
	else if (get && item && !act[0])
		api_detail(r, id);
	else if (get && strcmp(path, "/audit/verify") == 0)
		api_verify(r);
	else if (get && strcmp(path, "/report") == 0)
		selfrep_api(r);
	else if (get && strcmp(path, "/search") == 0)
		search_api(r);
	else if (!get && item && strcmp(act, "request") == 0)
		act_request(r, id), action_done(r);
	else if (!get && item && strcmp(act, "ppap") == 0)
		act_ppap(r, id), action_done(r);
	else if (!get && item && (strcmp(act, "approve") == 0 || strcmp(act, "refuse") == 0))
		act_decide(r, id, act[0] == 'a'), action_done(r);
	else if (!get && strcmp(path, "/logout") == 0)
		act_logout(r), action_done(r);
	else if (!get && item && strcmp(act, "admin-release") == 0)
		adminrel_act(r, id);
	else if (get && strncmp(path, "/q/", strlen("/q/")) == 0)
		view_lookup_api(r, path + strlen("/q/"));
	else if (users_route(r, path, get))
		;  /* user management (users.c) */
	else
		console_error(r, MHD_HTTP_NOT_FOUND, "ページがありません", "指定された API はありません。");
}
