/*
 * report_view.c — the auditor's release report: every release request still
 * pending or approved (id, received, sender, subject, requester, reason,
 * kind, request time, approver, approval time, delivery), newest first, as
 * a table on the auditor's page and as CSV for Japanese Excel
 * (GET /report.csv: UTF-8 with a BOM, RFC 4180 quoting).
 *
 * SECURITY: every field but the id and times is text a sender or a clerk
 * chose: HTML through page_text(); CSV cells quoted, and a cell starting
 * with = + - @ (or TAB, CR) gets a leading ' against formula injection, as
 * `mugai audit export --format csv` does. Auditor only; the download is
 * audited (report.export).
 */
#include "console/console.h"

#include <microhttpd.h>
#include <stdio.h>
#include <string.h>

#include "common/json.h"

static const char *const columns[] = {
	"受付番号", "受信日時", "差出人", "件名", "依頼者", "依頼の理由", "依頼の種類",
	"依頼日時", "承認者", "承認日時", "配送",
};

static const char *delivery_ja(const qstore_item_t *it)
{
	if (it->status == QSTATUS_REQUESTED)
		return "承認待ち";
	if (strcmp(it->release_to, "queue") == 0)
		return "配送待ち";
	if (strcmp(it->release_to, "queue-delivered") == 0)
		return "配送済み";
	if (strcmp(it->release_to, "queue-sanitized") == 0)
		return "無害化ファイルの配送待ち";
	if (strcmp(it->release_to, "queue-sanitized-delivered") == 0)
		return "無害化ファイルを配送済み";
	if (strcmp(it->release_to, "file") == 0)
		return "管理者がファイルとして取り出し";
	return "-";
}

/* The row's fields as text (times in JST), for both outputs. */
typedef struct rrow {
	char received[32], requested[32], approved[32];
	const char *v[MUGAI_ARRAY_LEN(columns)];
} rrow_t;

/* A JST time into out: from unix seconds (utc NULL) or an audit-format
 * UTC time ("" stays ""). */
static void jst(char *out, size_t cap, const char *utc, int64_t unix_t)
{
	page_t s;

	page_init(&s, cap);
	if (!utc)
		page_time_jst(&s, unix_t);
	else if (utc[0])
		page_time_rfc3339_jst(&s, utc);
	snprintf(out, cap, "%s", page_finish(&s) == 0 && s.b.data ? s.b.data : "");
	page_free(&s);
}

static void rrow_fill(rrow_t *w, const qstore_item_t *it)
{
	jst(w->received, sizeof(w->received), NULL, it->received);
	jst(w->requested, sizeof(w->requested), it->requested_at, 0);
	jst(w->approved, sizeof(w->approved), it->approved_at, 0);
	w->v[0] = it->id, w->v[1] = w->received, w->v[2] = it->hdr_from[0] ? it->hdr_from
									  : it->env_from;
	w->v[3] = it->subject, w->v[4] = view_who(it->requested_by);
	w->v[5] = it->request_reason, w->v[6] = view_kind_ja(it->release_kind);
	w->v[7] = w->requested, w->v[8] = view_who(it->approved_by), w->v[9] = w->approved;
	w->v[10] = delivery_ja(it);
}

typedef struct rout {
	creq_t *r;
	bool csv;
	size_t n;
} rout_t;

int view_csv_cell(buf_t *b, const char *s, bool last)
{
	int rc = buf_putc(b, '"');

	if (rc == 0 && strchr("=+-@\t\r", s[0]) && s[0])
		rc = buf_putc(b, '\'');
	for (; rc == 0 && *s; s++)
		rc = *s == '"' ? buf_puts(b, "\"\"") : buf_putc(b, *s);
	if (rc == 0)
		rc = buf_puts(b, last ? "\"\r\n" : "\",");
	return rc;
}

static int report_row(const qstore_item_t *it, void *arg)
{
	rout_t *o = arg;
	page_t *p = &o->r->page;
	rrow_t w;

	if (!it->requested_by[0])
		return 0;
	rrow_fill(&w, it);
	o->n++;
	if (o->csv) {
		for (size_t i = 0; i < MUGAI_ARRAY_LEN(columns); i++)
			if (view_csv_cell(&p->b, w.v[i], i + 1 == MUGAI_ARRAY_LEN(columns)) < 0)
				return -1;
		return 0;
	}
	PAGE_LIT(p, "<tr>");
	for (size_t i = 0; i < MUGAI_ARRAY_LEN(columns); i++) {
		PAGE_LIT(p, "<td>");
		page_text(p, w.v[i][0] ? w.v[i] : "-");
		PAGE_LIT(p, "</td>");
	}
	PAGE_LIT(p, "</tr>\n");
	return 0;
}

/* Pending requests, then approved releases, newest first within each. */
static int report_rows(rout_t *o)
{
	qstore_filter_t f = { .status = QSTATUS_REQUESTED,
			      .limit = (long)lim(&o->r->c->cfg->lim, LIM_CONSOLE_LIST) };

	if (qstore_list(o->r->c->s, o->r->actor, &f, report_row, o) < 0)
		return -1;
	f.status = QSTATUS_RELEASED;
	return qstore_list(o->r->c->s, o->r->actor, &f, report_row, o);
}

void view_release_report(creq_t *r)
{
	page_t *p = &r->page;
	rout_t o = { r, false, 0 };

	PAGE_LIT(p, "<h2>受け取りの依頼と承認（リリース報告）</h2>\n<p><a href=\"/report.csv\">"
		 "CSV でダウンロード（Excel 用）</a> <a href=\"/report/self\">自己点検報告書</a></p>\n<table id=\"releases\"><tr>");
	for (size_t i = 0; i < MUGAI_ARRAY_LEN(columns); i++) {
		PAGE_LIT(p, "<th>");
		page_text(p, columns[i]);
		PAGE_LIT(p, "</th>");
	}
	PAGE_LIT(p, "</tr>\n");
	if (report_rows(&o) < 0)
		PAGE_LIT(p, "<tr><td>リリース報告を読み込めませんでした。</td></tr>\n");
	PAGE_LIT(p, "</table>\n");
}

static int export_details(const creq_t *r, size_t n, buf_t *b)
{
	json_t j;

	json_init(&j, b);
	json_obj_begin(&j);
	json_key(&j, "client");
	json_str(&j, r->client);
	json_key(&j, "rows");
	json_int(&j, (long long)n);
	json_obj_end(&j);
	return json_finish(&j);
}

void view_report_csv(creq_t *r)
{
	rout_t o = { r, true, 0 };
	buf_t det;
	int rc;

	if (!view_is_role(r, "auditor")) {
		console_audit(r, r->actor, "console.refused", "/report.csv", "not permitted");
		console_error(r, MHD_HTTP_FORBIDDEN, "表示できません", "リリース報告を見る権限がありません。");
		return;
	}
	r->content_type = "text/csv; charset=utf-8";
	r->disposition = "attachment; filename=\"mugai-release-report.csv\"";
	rc = buf_puts(&r->page.b, "\xEF\xBB\xBF");  /* BOM: Excel on Japanese Windows reads CP932 */
	for (size_t i = 0; rc == 0 && i < MUGAI_ARRAY_LEN(columns); i++)
		rc = view_csv_cell(&r->page.b, columns[i], i + 1 == MUGAI_ARRAY_LEN(columns));
	if (rc < 0 || report_rows(&o) < 0) {
		console_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "エラー", "リリース報告を作れませんでした。");
		return;
	}
	buf_init(&det, STORE_DET_MAX);
	if (export_details(r, o.n, &det) < 0 ||
	    audit_append(r->c->s, r->actor, "report.export", "releases", det.data) < 0)
		console_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "エラー", "記録に失敗しました。");
	buf_free(&det);
}
