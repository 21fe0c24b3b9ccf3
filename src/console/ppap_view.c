/*
 * ppap_view.c — a password-protected zip held for its password mail, opened
 * from the console (issue #10 part 7). On the page of a message whose
 * verdict is ppap-pending or ppap-expired, a recipient (or an admin) may
 * type the password. The held original is rebuilt exactly as
 * `mugai quarantine ppap` does it (cmd_ppap_pair: a one-shot sandboxed
 * worker with that one candidate, the path of a password mail in mugaid);
 * the follow-up 「受付番号 ID のパスワード付きZIPを無害化しました」 with the
 * sanitized files (the worker's finished, output-checked message) is queued
 * in the store's outbox for the typing clerk's own recipients of that
 * message (an admin who is none of them: every envelope recipient), in the
 * transaction that records ppap.paired (verdict ppap-paired); mugaid's
 * releaser delivers it to the mailbox. A password that does not fit
 * records ppap.failed. Actor: the account; details {typed_by, opened,
 * client} and, when paired, deliver_to: never the password. The JSON API
 * (POST /api/quarantine/ID/ppap {password}) takes the same path.
 *
 * SECURITY: the password is a form field of the POST (CSRF checked by the
 * router, the account's right to the message by view_load_item and
 * view_may_request); it is copied into the one candidate, then that copy,
 * the field and the request body are wiped (explicit_bzero); it is never
 * stored, logged, audited or echoed into a page (the outbox holds the
 * follow-up, which the worker built without it). The console does not
 * parse the original, and sends no mail: only the sandboxed worker parses,
 * only the releaser sends.
 */
#include "console/console.h"

#include <microhttpd.h>
#include <stdio.h>
#include <string.h>

#include "cli/cmd_ppap.h"
#include "common/json.h"
#include "mail/mail.h"


static bool held_ppap(const qstore_item_t *it)
{
	return strcmp(it->verdict, QSTORE_PPAP_PENDING) == 0 ||
	       strcmp(it->verdict, QSTORE_PPAP_EXPIRED) == 0;
}

void ppap_form(creq_t *r, const qstore_item_t *it)
{
	page_t *p = &r->page;

	if (!held_ppap(it) || !view_may_request(r, it))
		return;
	PAGE_LIT(p, "<h2>パスワード付きZIPを開く</h2><p>パスワードのメールが届かない場合は、"
		 "差出人に確認したパスワードを入力してください。ZIPを無害化したメールをメールボックスに配送します。"
		 "パスワードは保存されません。</p><form method=\"post\" action=\"/mail/");
	page_text(p, it->id);
	PAGE_LIT(p, "/ppap\"><input type=\"hidden\" name=\"csrf\" value=\"");
	page_text(p, r->sess->csrf);
	PAGE_LIT(p, "\"><label>パスワード <input type=\"password\" name=\"password\" "
		 "autocomplete=\"off\" required></label><button type=\"submit\">ZIPを開く</button>"
		 "</form>\n");
}

static int ppap_details(const creq_t *r, const mail_result_t *res, const char *to, buf_t *b)
{
	json_t j;

	json_init(&j, b);
	json_obj_begin(&j);
	json_key(&j, "typed_by");
	json_str(&j, r->actor);
	json_key(&j, "opened");
	json_int(&j, res->ppap_opened);
	json_key(&j, "client");
	json_str(&j, r->client);
	if (to) {
		json_key(&j, "deliver_to");
		json_arr_begin(&j);
		for (const char *p = to; *p;) {
			size_t n = strcspn(p, ",");

			json_strn(&j, p, n);
			p += n + (p[n] == ',');
		}
		json_arr_end(&j);
	}
	json_obj_end(&j);
	return json_finish(&j);
}

/* The one candidate from the form, then the field and the body wiped.
 * 1 a candidate, 0 none (empty or longer than ppap_candidate_max), -1 bad. */
static int take_password(creq_t *r, ppap_cands_t *c)
{
	buf_t pw;
	int rc;

	buf_init(&pw, PPAP_CAND_LEN_CAP + 1);
	rc = view_field(r, "password", &pw);
	if (rc == 1)
		rc = pw.len && pw.len <= c->max_len && !memchr(pw.data, '\n', pw.len) &&
		     ppap_add_typed(pw.data, pw.len, c) == 0 && c->n == 1;
	if (pw.data)
		explicit_bzero(pw.data, pw.len);
	if (r->body)
		explicit_bzero((void *)r->body, r->body_len);
	buf_free(&pw);
	return rc;
}

/* Whom the follow-up goes to: the account's own recipients of the
 * message, or (an admin who is none of them) every envelope recipient. */
static int followup_to(creq_t *r, const qstore_item_t *it, buf_t *to)
{
	if (view_deliver_to(r, it, to) < 0)
		return -1;
	if (to->len)
		return 0;
	if (buf_puts(to, it->rcpt ? it->rcpt : "") < 0 || buf_putc(to, '\0') < 0)
		return -1;
	to->len--;
	return to->len ? 0 : -1;
}

/* Paired: the follow-up queued for the mailbox with the record; the page
 * (or the API's {"ok": true}) says it will arrive there. */
static void queue_followup(creq_t *r, const qstore_item_t *it, const mail_result_t *res)
{
	const char *what = "ZIPを開けません";
	buf_t to, det;

	buf_init(&to, OUTBOX_RCPT_MAX + 1);
	buf_init(&det, STORE_DET_MAX);
	if (followup_to(r, it, &to) < 0 || ppap_details(r, res, to.data, &det) < 0 ||
	    qstore_ppap_paired_out(r->c->s, r->actor, it->id, det.data,
				   &(qstore_mailout_t){ .kind = QSTORE_OUT_PPAP, .rcpt = to.data,
							.msg = res->msg.data,
							.len = res->msg.len }) < 0) {
		console_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, what, "記録に失敗しました。");
	} else if (r->api) {
		r->location = "/";
	} else {
		page_begin(&r->page, "ZIPを開きました", r->sess->name);
		PAGE_LIT(&r->page, "<p id=\"ppap-done\">パスワード付きZIPを無害化しました。"
			 "メールボックスに配送します。</p><p><a href=\"/mail/");
		page_text(&r->page, it->id);
		PAGE_LIT(&r->page, "\">メールの詳細に戻る</a></p>\n");
		page_end(&r->page);
	}
	buf_free(&to);
	buf_free(&det);
}

/* Pair the held original with the candidate and record the outcome. */
static void pair(creq_t *r, const qstore_item_t *it, ppap_cands_t *c)
{
	const char *what = "ZIPを開けません";
	qstore_item_t got;
	mail_result_t res;
	buf_t orig, det;
	bool opened;

	mail_result_init(&res);
	buf_init(&orig, (size_t)lim(&r->c->cfg->lim, LIM_MESSAGE_SIZE) + 1);
	buf_init(&det, STORE_DET_MAX);
	memset(&got, 0, sizeof(got));
	if (mail_init() < 0 || qstore_get(r->c->s, r->actor, it->id, &got, &orig) < 0 ||
	    cmd_ppap_pair(r->c->cfg, it->id, &orig, c, &res) != NULL) {
		console_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, what, "ZIPを開く処理に失敗しました。");
		goto out;
	}
	opened = res.ppap_opened > 0 && res.verdict != VERDICT_QUARANTINED;
	if (opened)
		queue_followup(r, it, &res);
	else if (ppap_details(r, &res, NULL, &det) < 0 ||
		 qstore_ppap_mark(r->c->s, r->actor, it->id, "ppap.failed", det.data) < 0)
		console_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, what, "記録に失敗しました。");
	else
		console_error(r, MHD_HTTP_BAD_REQUEST, what,
			      "パスワードが合いませんでした。もう一度確認してください。");
out:
	mail_result_free(&res);
	qstore_item_free(&got);
	buf_free(&orig);
	buf_free(&det);
}

void act_ppap(creq_t *r, const char *id)
{
	const char *what = "ZIPを開けません";
	qstore_item_t it;
	ppap_cands_t c;
	int pw;

	if (!view_load_item(r, id, &it))
		return;
	ppap_cands_init(&c, 1, lim(&r->c->cfg->lim, LIM_PPAP_CANDIDATE_LEN));
	pw = take_password(r, &c);
	if (!view_may_request(r, &it)) {
		console_audit(r, r->actor, "console.refused", id, "not permitted");
		console_error(r, MHD_HTTP_FORBIDDEN, what, "このメールのZIPを開く権限がありません。");
	} else if (!held_ppap(&it)) {
		console_error(r, MHD_HTTP_CONFLICT, what, "パスワードを待っているZIPはありません。");
	} else if (pw != 1) {
		console_error(r, MHD_HTTP_BAD_REQUEST, what, "パスワードを入力してください。");
	} else {
		pair(r, &it, &c);
	}
	ppap_cands_free(&c);
	qstore_item_free(&it);
}
