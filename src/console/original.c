/*
 * original.c — an admin downloads a stored original from the console, after
 * a warning page:
 *
 *   GET  /mail/ID/original     the warning, and a form that confirms it
 *   POST /mail/ID/original     understood=yes: the original bytes, as a file
 *
 * SECURITY: the original is hostile (a virus, a limit-breaking structure):
 * the console never parses it, it only hands its bytes over as
 * application/octet-stream with Content-Disposition: attachment (and
 * nosniff, CSP default-src 'none' from server.c), so no browser renders it.
 * Admin only: any other account gets the same 404 as a missing message,
 * audited (console.refused). The bytes come from qstore_get, checked against
 * their SHA-256 and audited (quarantine.get); the download is audited again
 * with the client address (console.original.download). The confirmation is
 * a POST with the session's CSRF token, so a link cannot start a download.
 */
#include "console/console.h"

#include <microhttpd.h>
#include <stdio.h>
#include <string.h>

#include "console/form.h"

#define MSG_NO_MAIL "このメールは表示できません（存在しないか、表示する権限がありません）。"

static bool admin_only(creq_t *r, const char *id)
{
	if (view_is_role(r, "admin"))
		return true;
	console_audit(r, r->actor, "console.refused", id, "not permitted");
	console_error(r, MHD_HTTP_NOT_FOUND, "表示できません", MSG_NO_MAIL);
	return false;
}

void original_warning(creq_t *r, const char *id)
{
	page_t *p = &r->page;
	qstore_item_t it;

	if (!admin_only(r, id) || !view_load_item(r, id, &it))
		return;
	page_begin(p, "原本のダウンロード", r->sess->name);
	PAGE_LIT(p, "<p class=\"msg\" id=\"warning\">注意: 原本は、届いたときのままのメールです。"
		 "ウイルスや、開くと動作する内容がそのまま含まれている可能性があります。"
		 "LGWAN 接続系の端末や普段使う端末では開かず、ネットワークから切り離した"
		 "解析用の環境でだけ扱ってください。ダウンロードは監査記録に残ります。</p>\n"
		 "<dl id=\"facts\"><dt>受付番号</dt><dd>");
	page_text(p, it.id);
	PAGE_LIT(p, "</dd><dt>件名</dt><dd>");
	page_text(p, it.subject[0] ? it.subject : "（件名なし）");
	PAGE_LIT(p, "</dd><dt>判定</dt><dd>");
	page_text(p, selfrep_verdict_ja(it.verdict));
	PAGE_LIT(p, "</dd><dt>大きさ</dt><dd>");
	page_int(p, (long long)it.size);
	PAGE_LIT(p, " バイト</dd></dl>\n<form method=\"post\" action=\"/mail/");
	page_text(p, it.id);
	PAGE_LIT(p, "/original\"><input type=\"hidden\" name=\"csrf\" value=\"");
	page_text(p, r->sess->csrf);
	PAGE_LIT(p, "\"><label><input type=\"checkbox\" name=\"understood\" value=\"yes\" required> "
		 "上記の注意を理解しました</label><button type=\"submit\">原本をダウンロード</button>"
		 "</form>\n<p><a href=\"/mail/");
	page_text(p, it.id);
	PAGE_LIT(p, "\">詳細に戻る</a></p>\n");
	page_end(p);
	qstore_item_free(&it);
}

void original_download(creq_t *r, const char *id)
{
	qstore_item_t it;
	buf_t ok;
	int understood;

	if (!admin_only(r, id))
		return;
	buf_init(&ok, STORE_REASON_MAX);
	understood = view_field(r, "understood", &ok);
	if (understood != 1 || strcmp(ok.data, "yes") != 0) {
		buf_free(&ok);
		console_error(r, MHD_HTTP_BAD_REQUEST, "ダウンロードできません",
			      "注意を理解したことを確認してから、もう一度操作してください。");
		return;
	}
	buf_free(&ok);
	page_free(&r->page);
	page_init(&r->page, UNCAPPED_BY(LIM_FILE_SIZE));  /* qstore_get caps it (orig_max) */
	if (qstore_get(r->c->s, r->actor, id, &it, &r->page.b) < 0) {
		bool missing = qstore_errcode(r->c->s) == QS_ERR_NOTFOUND;

		console_error(r, missing ? MHD_HTTP_NOT_FOUND : MHD_HTTP_CONFLICT, "ダウンロードできません",
			      missing ? MSG_NO_MAIL : "原本を取り出せませんでした（保存期間が過ぎたか、"
			      "保存された原本が壊れています）。");
		return;
	}
	console_audit(r, r->actor, "console.original.download", id, NULL);
	snprintf(r->disposition_buf, sizeof(r->disposition_buf), "attachment; filename=\"%s.eml\"",
		 it.id);
	r->content_type = "application/octet-stream";
	r->disposition = r->disposition_buf;
	qstore_item_free(&it);
}
