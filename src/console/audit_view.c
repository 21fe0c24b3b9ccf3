/*
 * audit_view.c — the auditor's page: the audit chain's verification result
 * (audit_verify, with audit_witness_file when set) and the most recent
 * records, newest first, in JST. Read only; the view itself is audited
 * (audit.verify with the result).
 *
 * SECURITY: actors, objects and details in the chain hold text that clients
 * and senders chose (names, reasons, comments): everything goes through
 * page_text(). Only accounts with role auditor reach this page.
 */
#include "console/console.h"

#include <microhttpd.h>
#include <stdlib.h>
#include <string.h>

#include "common/json.h"
#include "store/audit.h"

const char *view_break_ja(audit_break_t k)
{
	static const char *const t[] = {
		[AUDIT_INTACT] = "改ざんは検出されませんでした。",
		[AUDIT_CHANGED] = "記録の内容が書き換えられています。",
		[AUDIT_MISSING] = "記録が削除されています。",
		[AUDIT_REORDERED] = "記録の順序が入れ替えられています。",
		[AUDIT_RELINKED] = "記録のつながりが書き換えられています。",
		[AUDIT_TRUNCATED] = "末尾の記録が失われています。",
		[AUDIT_WITNESS] = "外部に送った控え（ウィットネス）と一致しません。",
	};

	return (size_t)k < MUGAI_ARRAY_LEN(t) && t[k] ? t[k] : "検証結果を判定できません。";
}

typedef struct recs {
	audit_rec_t *v;
	size_t n, cap;
} recs_t;

static int rec_keep(const audit_rec_t *r, void *arg)
{
	recs_t *rs = arg;
	audit_rec_t *w;

	if (rs->n == rs->cap)
		return 0;
	w = &rs->v[rs->n++];
	memset(w, 0, sizeof(*w));
	w->seq = r->seq;
	w->time = strdup(r->time);
	w->actor = strdup(r->actor);
	w->action = strdup(r->action);
	w->object = strdup(r->object);
	w->details = strdup(r->details);
	return w->time && w->actor && w->action && w->object && w->details ? 0 : -1;
}

static void recs_free(recs_t *rs)
{
	for (size_t i = 0; i < rs->n; i++) {
		free(rs->v[i].time);
		free(rs->v[i].actor);
		free(rs->v[i].action);
		free(rs->v[i].object);
		free(rs->v[i].details);
	}
	free(rs->v);
}

static void verify_section(creq_t *r, page_t *p)
{
	const char *wf = cfg_str(r->c->cfg, CFG_AUDIT_WITNESS_FILE);
	audit_verdict_t v;
	char why[64];

	PAGE_LIT(p, "<h2>監査記録の検証</h2>\n");
	if (audit_verify(r->c->s, wf[0] ? wf : NULL, &v) < 0) {
		PAGE_LIT(p, "<p class=\"msg\" id=\"verify\">検証を実行できませんでした。</p>\n");
		console_audit(r, r->actor, "audit.verify", "audit", "could not run");
		return;
	}
	if (v.kind == AUDIT_INTACT)
		PAGE_LIT(p, "<p class=\"ok\" id=\"verify\">");
	else
		PAGE_LIT(p, "<p class=\"msg\" id=\"verify\">");
	page_text(p, view_break_ja(v.kind));
	PAGE_LIT(p, "（検証した記録 ");
	page_int(p, (long long)v.records);
	PAGE_LIT(p, " 件");
	if (v.kind != AUDIT_INTACT) {
		PAGE_LIT(p, "、最初の異常 seq ");
		page_int(p, (long long)v.seq);
	}
	PAGE_LIT(p, "）</p>\n");
	snprintf(why, sizeof(why), "%s", audit_break_name(v.kind));
	console_audit(r, r->actor, "audit.verify", "audit", why);
}

static void record_row(page_t *p, const audit_rec_t *w)
{
	PAGE_LIT(p, "<tr><td>");
	page_int(p, (long long)w->seq);
	PAGE_LIT(p, "</td><td>");
	page_time_rfc3339_jst(p, w->time);
	PAGE_LIT(p, "</td><td>");
	page_text(p, w->actor);
	PAGE_LIT(p, "</td><td>");
	page_text(p, w->action);
	PAGE_LIT(p, "</td><td>");
	page_text(p, w->object);
	PAGE_LIT(p, "</td><td>");
	page_text(p, w->details);
	PAGE_LIT(p, "</td></tr>\n");
}

static int records_section(creq_t *r, page_t *p)
{
	recs_t rs = { calloc(CONSOLE_AUDIT_ROWS, sizeof(audit_rec_t)), 0, CONSOLE_AUDIT_ROWS };
	char head_hash[65];
	int64_t head;
	int rc = -1;

	if (!rs.v || audit_head(r->c->s, &head, head_hash) < 0 ||
	    audit_scan(r->c->s, head > CONSOLE_AUDIT_ROWS ? head - CONSOLE_AUDIT_ROWS + 1 : 1, NULL,
		       rec_keep, &rs) < 0)
		goto out;
	PAGE_LIT(p, "<h2>最近の監査記録（新しい順、");
	page_int(p, (long long)rs.n);
	PAGE_LIT(p, " 件、日本時間）</h2>\n<table id=\"audit\"><tr><th>seq</th><th>日時</th>"
		 "<th>操作者</th><th>操作</th><th>対象</th><th>詳細</th></tr>\n");
	for (size_t i = rs.n; i > 0; i--)
		record_row(p, &rs.v[i - 1]);
	PAGE_LIT(p, "</table>\n<p>すべての記録は mugai audit export（CSV は --format csv）で"
		 "取り出せます。</p>\n");
	rc = 0;
out:
	recs_free(&rs);
	return rc;
}

void view_audit(creq_t *r)
{
	page_t *p = &r->page;

	verify_section(r, p);
	view_release_report(r);
	if (records_section(r, p) < 0)
		PAGE_LIT(p, "<p class=\"msg\">監査記録を読み込めませんでした。</p>\n");
}
