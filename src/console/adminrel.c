/*
 * adminrel.c — the admin release of a dangerous original: a message whose
 * report names a virus, or that was withheld for a limit. A release request
 * for it is never approved by an approver; two different admin accounts,
 * neither the requester, confirm it on the detail page after a warning
 * (POST /mail/ID/admin-release with the box 「上記の注意を理解しました」, or
 * POST /api/quarantine/ID/admin-release {"understood": "yes"}). The
 * first is recorded (quarantine.admin.confirm), the second releases it as
 * administrator (quarantine.approve with "admin" and "confirmed_by").
 *
 * SECURITY: the store enforces the two admins (qstore_admin_confirm: the
 * same admin twice or the requester is refused and audited); this file
 * checks the role first (console.refused otherwise). Every value reaches
 * the page through page_text().
 */
#include "console/console.h"

#include <microhttpd.h>
#include <string.h>

#include "common/json.h"
#include "console/rjson.h"
#include "mail/report.h"

#define MSG_TWO_ADMINS "ウイルスが検出されたか上限を超えたメールの原本は、依頼者以外の管理者 2 名の" \
	"確認が必要です。"

static int count_limit(const char *name, const char *code, void *arg)
{
	(void)name, (void)code;
	(*(size_t *)arg)++;
	return 0;
}

bool adminrel_needed(const qstore_item_t *it)
{
	size_t n = 0;

	if (report_json_has_virus(it->report))
		return true;
	/* unreadable report: fail closed, as a dangerous one */
	if (rjson_each(it->report, strlen(it->report), "limits_hit", count_limit, &n) < 0)
		return true;
	return n > 0;
}

static void confirm_form(creq_t *r, const qstore_item_t *it, bool second)
{
	page_t *p = &r->page;

	PAGE_LIT(p, "<form method=\"post\" action=\"/mail/");
	page_text(p, it->id);
	PAGE_LIT(p, "/admin-release\" id=\"admin-release\"><input type=\"hidden\" name=\"csrf\" value=\"");
	page_text(p, r->sess->csrf);
	PAGE_LIT(p, "\"><label><input type=\"checkbox\" name=\"understood\" value=\"yes\" required> "
		 "上記の注意を理解しました</label>");
	if (second)
		PAGE_LIT(p, "<button type=\"submit\">2 人目として確認し、原本を受け渡す</button></form>\n");
	else
		PAGE_LIT(p, "<button type=\"submit\">1 人目として確認する</button></form>\n");
}

void adminrel_section(creq_t *r, const qstore_item_t *it)
{
	page_t *p = &r->page;
	const char *first = it->admin_confirmed_by;

	PAGE_LIT(p, "<h2>管理者による原本の受け渡し</h2>\n<p class=\"msg\" id=\"adminrel-warning\">"
		 "注意: このメールは、ウイルスが検出されたか、安全に確認できる上限を超えたため"
		 "隔離されています。原本には危険な内容がそのまま含まれている可能性があります。"
		 "受け渡しには、依頼者以外の管理者 2 名の確認が必要です。</p>\n");
	if (first[0]) {
		PAGE_LIT(p, "<p id=\"adminrel-first\">1 人目の確認: ");
		page_text(p, view_who(first));
		PAGE_LIT(p, "</p>\n");
	}
	if (!view_is_role(r, "admin"))
		PAGE_LIT(p, "<p id=\"adminrel-wait\">管理者の確認を待っています。</p>\n");
	else if (strcmp(it->requested_by, r->actor) == 0)
		PAGE_LIT(p, "<p id=\"adminrel-wait\">ご自身の依頼は確認できません。</p>\n");
	else if (strcmp(first, r->actor) == 0)
		PAGE_LIT(p, "<p id=\"adminrel-wait\">ほかの管理者の確認を待っています。</p>\n");
	else
		confirm_form(r, it, first[0] != '\0');
}

static void confirm_failed(creq_t *r)
{
	qstore_err_t e = qstore_errcode(r->c->s);
	const char *what = "確認できません";

	if (e == QS_ERR_DENIED)
		console_error(r, MHD_HTTP_FORBIDDEN, what,
			      "依頼者本人や、1 人目と同じ管理者は確認できません。");
	else if (e == QS_ERR_STATE)
		console_error(r, MHD_HTTP_CONFLICT, what, "承認待ちの依頼ではありません。");
	else
		console_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, what, "記録に失敗しました。");
}

/* The page goes back to the list; the API answers {"ok", "released"}. */
static void confirmed(creq_t *r, bool released)
{
	json_t j;

	r->location = "/";
	if (!r->api)
		return;
	r->location = NULL;
	r->content_type = "application/json; charset=utf-8";
	page_free(&r->page);
	page_init(&r->page, CONSOLE_PAGE_MAX);
	json_init(&j, &r->page.b);
	json_obj_begin(&j);
	json_key(&j, "ok");
	json_bool(&j, true);
	json_key(&j, "released");
	json_bool(&j, released);
	json_obj_end(&j);
	if (json_finish(&j) < 0)
		r->page.err = -1;
}

static void confirm(creq_t *r, const qstore_item_t *it)
{
	bool released;
	buf_t det;

	buf_init(&det, STORE_DET_MAX);
	if (console_details(r, NULL, &det) < 0 ||
	    qstore_admin_confirm(r->c->s, it->id, r->actor, det.data, &released) < 0)
		confirm_failed(r);
	else
		confirmed(r, released);
	buf_free(&det);
}

/* POST /mail/ID/admin-release (form field understood=yes) and POST
 * /api/quarantine/ID/admin-release {"understood": "yes"}. */
void adminrel_act(creq_t *r, const char *id)
{
	const char *what = "確認できません";
	qstore_item_t it;
	buf_t ok;

	if (!view_load_item(r, id, &it))
		return;
	buf_init(&ok, STORE_REASON_MAX);
	if (!view_is_role(r, "admin")) {
		console_audit(r, r->actor, "console.refused", id, "not permitted");
		console_error(r, MHD_HTTP_FORBIDDEN, what, MSG_TWO_ADMINS);
	} else if (it.status != QSTATUS_REQUESTED || !adminrel_needed(&it)) {
		console_error(r, MHD_HTTP_CONFLICT, what, "管理者による受け渡しの対象ではありません。");
	} else if (view_field(r, "understood", &ok) != 1 || strcmp(ok.data, "yes") != 0) {
		console_error(r, MHD_HTTP_BAD_REQUEST, what,
			      "注意を理解したことを確認してから、もう一度操作してください。");
	} else {
		confirm(r, &it);
	}
	buf_free(&ok);
	qstore_item_free(&it);
}

/* An approver's (or a single admin's) approval of such a request: refused. */
bool adminrel_refuse_approval(creq_t *r, const qstore_item_t *it)
{
	if (!adminrel_needed(it))
		return false;
	console_audit(r, r->actor, "console.refused", it->id, "admin release");
	console_error(r, MHD_HTTP_FORBIDDEN, "承認できません", MSG_TWO_ADMINS);
	return true;
}
