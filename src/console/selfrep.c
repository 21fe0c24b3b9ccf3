/*
 * selfrep.c — the self-inspection report (自己点検報告書) for a period of
 * JST dates, for auditors and admins: messages per verdict, removed items
 * per reason, limits hit, virus hits, release requests and releases by
 * kind, refusals, PPAP pairings and expiries, logins, login failures,
 * lockouts, permission refusals, config changes, account changes, and the
 * audit chain's verification (with the first broken seq).
 *
 *   GET /report/self?from=YYYY-MM-DD&to=YYYY-MM-DD       printable HTML
 *   GET /report/self.csv?from=...&to=...                 CSV (UTF-8 + BOM)
 *   GET /api/report?from=...&to=...                      JSON
 *
 * Every count comes from the store (qstore_counts: SQL over the quarantine
 * index and the audit table); from and to are inclusive JST dates (default:
 * to today, from the first of to's month). Each report is audited as
 * report.export with the period, the format and the verification result.
 *
 * Specs: RFC 4180 (CSV), RFC 3339 full-date (the period).
 *
 * SECURITY: the period is parsed strictly (digits, '-', a real date) and
 * echoed only after that; keys (verdicts, reason codes, actions) come from
 * stored reports and records, which a sender or `quarantine put` may have
 * shaped: HTML through page_text(), CSV cells quoted with the formula guard
 * (view_csv_cell), JSON through json_str. Auditor and admin only; any other
 * role is refused and audited (console.refused).
 */
#include "console/console.h"

#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/json.h"
#include "console/form.h"
#include "mail/mail.h"
#include "store/audit.h"

#define JST_SECONDS (9 * 3600)
#define DATE_LEN 10 /* YYYY-MM-DD */
#define GROUP_LEN 15

typedef struct srow {
	char group[GROUP_LEN + 1];
	char key[CONSOLE_REPORT_KEY_MAX + 1];
	int64_t n;
} srow_t;

typedef struct selfrep {
	char from[DATE_LEN + 1], to[DATE_LEN + 1];
	int64_t since, until;  /* [since, until): unix seconds */
	srow_t *v;
	size_t n;
	bool cut;              /* more than CONSOLE_REPORT_ROWS rows */
	bool verified;         /* av holds the chain's verification */
	audit_verdict_t av;
} selfrep_t;

/* ---- the period ---- */

/* Today's JST date. */
static void jst_today(int64_t now, char out[DATE_LEN + 1])
{
	time_t j = (time_t)(now + JST_SECONDS);
	struct tm tm;

	if (!gmtime_r(&j, &tm) || strftime(out, DATE_LEN + 1, "%Y-%m-%d", &tm) != DATE_LEN)
		snprintf(out, DATE_LEN + 1, "1970-01-01");
}

/* from and to of the query (defaults: to today, from the first of to's
 * month). */
static int period(creq_t *r, selfrep_t *rep)
{
	const char *f = console_query(r, "from"), *t = console_query(r, "to");
	int64_t to_t;

	if ((f && strlen(f) != DATE_LEN) || (t && strlen(t) != DATE_LEN))
		return -1;
	if (t)
		memcpy(rep->to, t, DATE_LEN + 1);
	else
		jst_today(r->now, rep->to);
	if (f) {
		memcpy(rep->from, f, DATE_LEN + 1);
	} else {
		memcpy(rep->from, rep->to, DATE_LEN + 1);
		memcpy(rep->from + DATE_LEN - 2, "01", 2);
	}
	if (form_date_jst(rep->from, &rep->since) < 0 || form_date_jst(rep->to, &to_t) < 0 ||
	    rep->since < 0 || to_t < rep->since)
		return -1;
	rep->until = to_t + FORM_DAY;
	return 0;
}

/* ---- the counts ---- */

static int keep_row(const char *group, const char *key, int64_t n, void *arg)
{
	selfrep_t *rep = arg;
	srow_t *w;
	size_t k = strlen(key);

	if (rep->n == CONSOLE_REPORT_ROWS) {
		rep->cut = true;
		return 0;
	}
	w = &rep->v[rep->n++];
	snprintf(w->group, sizeof(w->group), "%s", group);
	if (k > CONSOLE_REPORT_KEY_MAX) {
		k = CONSOLE_REPORT_KEY_MAX;
		while (k > 0 && ((unsigned char)key[k] & 0xC0) == 0x80)
			k--;  /* cut on a character boundary */
	}
	memcpy(w->key, key, k);
	w->key[k] = '\0';
	w->n = n;
	return 0;
}

/* Is key one of the comma-separated keys ("*": any; "" the empty key)? */
static bool in_keys(const char *keys, const char *key)
{
	size_t k = strlen(key);

	if (strcmp(keys, "*") == 0)
		return true;
	for (const char *p = keys; p;) {
		const char *end = strchr(p, ',');
		size_t m = end ? (size_t)(end - p) : strlen(p);

		if (m == k && strncmp(p, key, k) == 0)
			return true;
		p = end ? end + 1 : NULL;
	}
	return false;
}

/* The sum of group's rows whose key is in keys, less those in except (may
 * be NULL). */
static int64_t sum(const selfrep_t *rep, const char *group, const char *keys,
		   const char *except)
{
	int64_t total = 0;

	for (size_t i = 0; i < rep->n; i++) {
		const srow_t *w = &rep->v[i];

		if (strcmp(w->group, group) == 0 && in_keys(keys, w->key) &&
		    !(except && in_keys(except, w->key)))
			total += w->n;
	}
	return total;
}

/* The whys of console.refused that are permission refusals. */
#define REFUSED_PERMISSION "not permitted,admin release"

/* The summary lines: JSON name, Japanese label, and what they add up. */
typedef struct item {
	const char *json, *ja, *group, *keys, *except;
} item_t;

static const item_t items[] = {
	{ "messages", "受信したメール（件）", "verdict", "*", NULL },
	{ "virus", "ウイルスを検出したメール（件）", "virus", "", NULL },
	{ "release_requests", "受け取りの依頼（件）", "action", "quarantine.request", NULL },
	{ "releases", "受け取りの承認（件）", "release", "*", NULL },
	{ "refusals", "依頼の却下（件）", "action", "quarantine.refuse", NULL },
	{ "ppap_paired", "パスワード付き zip の解凍（件）", "action", "ppap.paired", NULL },
	{ "ppap_expired", "パスワード付き zip の期限切れ（件）", "action", "ppap.expired", NULL },
	{ "logins", "ログイン（回）", "action", "console.login", NULL },
	{ "login_failures", "ログインの失敗（回）", "action",
	  "console.login.failed,console.login.refused", NULL },
	{ "lockouts", "アカウントのロック（回）", "action", "console.lockout", NULL },
	{ "permission_refusals", "権限のない操作の拒否（回）", "action",
	  "quarantine.approve.refused,quarantine.purge.refused", NULL },
	{ "other_refusals", "その他の拒否した要求（回）", "refused", "*", REFUSED_PERMISSION },
	{ "config_changes", "設定の変更（回）", "config", "", NULL },
	{ "account_changes", "アカウントの変更（回）", "action",
	  "account.add,account.disable,account.enable,account.reset", NULL },
	{ "audit_records", "監査記録（件）", "action", "*", NULL },
};

static int64_t item_value(const selfrep_t *rep, const item_t *it)
{
	int64_t n = sum(rep, it->group, it->keys, it->except);

	/* a console.refused for "not permitted" is a permission refusal; a
	 * CLI request or approval refused for its state is another refusal */
	if (strcmp(it->json, "permission_refusals") == 0)
		n += sum(rep, "refused", REFUSED_PERMISSION, NULL);
	if (strcmp(it->json, "other_refusals") == 0)
		n += sum(rep, "action", "cli.refused", NULL);
	return n;
}

const char *selfrep_verdict_ja(const char *v)
{
	static const char *const t[][2] = {
		{ QSTORE_PPAP_PENDING, "パスワード待ち（PPAP）" },
		{ QSTORE_PPAP_PAIRED, "パスワード付き zip を解凍済み" },
		{ QSTORE_PPAP_EXPIRED, "パスワード待ちの期限切れ" },
	};

	for (size_t i = 0; i < MUGAI_ARRAY_LEN(t); i++)
		if (strcmp(v, t[i][0]) == 0)
			return t[i][1];
	return view_verdict_ja(v);
}

static const char *release_ja(const char *to)
{
	if (strcmp(to, "file") == 0)
		return "原本（管理者がファイルとして取り出し）";
	if (strcmp(to, "queue") == 0)
		return "原本（依頼者へ配送）";
	if (strcmp(to, "queue-sanitized") == 0)
		return "無害化したファイル";
	return "その他";
}

/* The detail tables: group, JSON name, heading, and the key's words. */
typedef struct table {
	const char *group, *json, *ja;
	const char *(*words)(const char *key);
} table_t;

static const table_t tables[] = {
	{ "verdict", "verdicts", "判定別のメール（件）", selfrep_verdict_ja },
	{ "reason", "reasons", "削除した項目（理由別、項目数）", notice_removal_ja },
	{ "limit", "limits", "隔離の理由（上限別、件）", notice_limit_ja },
	{ "release", "releases", "受け取りの承認（種類別、件）", release_ja },
};

/* ---- making one report ---- */

static bool may_see(creq_t *r, const char *what)
{
	if (view_is_role(r, "auditor") || view_is_role(r, "admin"))
		return true;
	console_audit(r, r->actor, "console.refused", what, "not permitted");
	console_error(r, MHD_HTTP_FORBIDDEN, "表示できません", "自己点検報告書を見る権限がありません。");
	return false;
}

static int export_details(const creq_t *r, const selfrep_t *rep, const char *format,
			  buf_t *b)
{
	json_t j;

	json_init(&j, b);
	json_obj_begin(&j);
	json_key(&j, "client");
	json_str(&j, r->client);
	json_key(&j, "from");
	json_str(&j, rep->from);
	json_key(&j, "to");
	json_str(&j, rep->to);
	json_key(&j, "format");
	json_str(&j, format);
	json_key(&j, "verify");
	json_str(&j, rep->verified ? audit_break_name(rep->av.kind) : "could not run");
	json_obj_end(&j);
	return json_finish(&j);
}

/* Period, counts, verification and the report.export record; on -1 the
 * error response is set. */
static int selfrep_load(creq_t *r, selfrep_t *rep, const char *what, const char *format)
{
	const char *wf = cfg_str(r->c->cfg, CFG_AUDIT_WITNESS_FILE);
	buf_t det;
	int rc = -1;

	memset(rep, 0, sizeof(*rep));
	if (!may_see(r, what))
		return -1;
	if (period(r, rep) < 0) {
		console_error(r, MHD_HTTP_BAD_REQUEST, "期間の指定が正しくありません",
			      "期間は開始日と終了日を YYYY-MM-DD の形で、開始日が終了日より"
			      "前になるように指定してください。");
		return -1;
	}
	rep->v = calloc(CONSOLE_REPORT_ROWS, sizeof(*rep->v));
	if (!rep->v || qstore_counts(r->c->s, rep->since, rep->until, keep_row, rep) < 0) {
		console_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "エラー",
			      "自己点検報告書を作れませんでした。");
		return -1;
	}
	rep->verified = audit_verify(r->c->s, wf[0] ? wf : NULL, &rep->av) == 0;
	buf_init(&det, STORE_DET_MAX);
	if (export_details(r, rep, format, &det) < 0 ||
	    audit_append(r->c->s, r->actor, "report.export", "self-inspection", det.data) < 0)
		console_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "エラー", "記録に失敗しました。");
	else
		rc = 0;
	buf_free(&det);
	return rc;
}

static void selfrep_free(selfrep_t *rep)
{
	free(rep->v);
}

/* ---- HTML ---- */

static void count_row(page_t *p, const char *label, int64_t n)
{
	PAGE_LIT(p, "<tr><th>");
	page_text(p, label);
	PAGE_LIT(p, "</th><td class=\"n\">");
	page_int(p, (long long)n);
	PAGE_LIT(p, "</td></tr>\n");
}

static void html_table(page_t *p, const selfrep_t *rep, const table_t *t)
{
	size_t shown = 0;

	PAGE_LIT(p, "<h2>");
	page_text(p, t->ja);
	PAGE_LIT(p, "</h2>\n<table id=\"");
	page_text(p, t->json);
	PAGE_LIT(p, "\">\n");
	for (size_t i = 0; i < rep->n; i++)
		if (strcmp(rep->v[i].group, t->group) == 0) {
			count_row(p, t->words(rep->v[i].key), rep->v[i].n);
			shown++;
		}
	if (!shown)
		PAGE_LIT(p, "<tr><td>該当なし</td></tr>\n");
	PAGE_LIT(p, "</table>\n");
}

static void html_verify(page_t *p, const selfrep_t *rep)
{
	PAGE_LIT(p, "<h2>監査記録の検証（作成時点）</h2>\n");
	if (!rep->verified) {
		PAGE_LIT(p, "<p class=\"msg\" id=\"verify\">検証を実行できませんでした。</p>\n");
		return;
	}
	if (rep->av.kind == AUDIT_INTACT)
		PAGE_LIT(p, "<p class=\"ok\" id=\"verify\">");
	else
		PAGE_LIT(p, "<p class=\"msg\" id=\"verify\">");
	page_text(p, view_break_ja(rep->av.kind));
	PAGE_LIT(p, "（検証した記録 ");
	page_int(p, (long long)rep->av.records);
	PAGE_LIT(p, " 件");
	if (rep->av.kind != AUDIT_INTACT) {
		PAGE_LIT(p, "、最初の異常 seq ");
		page_int(p, (long long)rep->av.seq);
	}
	PAGE_LIT(p, "）</p>\n");
}

/* The period form and the CSV link (not printed). */
static void html_period(page_t *p, const selfrep_t *rep)
{
	PAGE_LIT(p, "<form method=\"get\" action=\"/report/self\" class=\"noprint\">"
		 "<label>開始日 <input type=\"date\" name=\"from\" value=\"");
	page_text(p, rep->from);
	PAGE_LIT(p, "\"></label> <label>終了日 <input type=\"date\" name=\"to\" value=\"");
	page_text(p, rep->to);
	PAGE_LIT(p, "\"></label> <button type=\"submit\">表示</button> "
		 "<a href=\"/report/self.csv?from=");
	page_text(p, rep->from);
	PAGE_LIT(p, "&amp;to=");
	page_text(p, rep->to);
	PAGE_LIT(p, "\">CSV でダウンロード（Excel 用）</a> <a href=\"/\">戻る</a></form>\n"
		 "<p id=\"period\">対象期間: ");
	page_text(p, rep->from);
	PAGE_LIT(p, " 〜 ");
	page_text(p, rep->to);
	PAGE_LIT(p, "（日本時間、両日を含む）</p>\n");
}

void selfrep_page(creq_t *r)
{
	page_t *p = &r->page;
	selfrep_t rep;

	if (selfrep_load(r, &rep, "/report/self", "html") == 0) {
		page_begin(p, "自己点検報告書", r->sess->name);
		html_period(p, &rep);
		PAGE_LIT(p, "<p>作成日時: ");
		page_time_jst(p, r->now);
		PAGE_LIT(p, "（日本時間）</p>\n");
		if (rep.cut)
			PAGE_LIT(p, "<p class=\"msg\" id=\"cut\">項目が多すぎるため、一部の件数を省略しました。</p>\n");
		PAGE_LIT(p, "<h2>概要</h2>\n<table id=\"summary\">\n");
		for (size_t i = 0; i < MUGAI_ARRAY_LEN(items); i++)
			count_row(p, items[i].ja, item_value(&rep, &items[i]));
		PAGE_LIT(p, "</table>\n");
		for (size_t i = 0; i < MUGAI_ARRAY_LEN(tables); i++)
			html_table(p, &rep, &tables[i]);
		html_verify(p, &rep);
		page_end(p);
	}
	selfrep_free(&rep);
}

/* ---- CSV ---- */

static int csv_line(buf_t *b, const char *kind, const char *item, const char *value)
{
	if (view_csv_cell(b, kind, false) < 0 || view_csv_cell(b, item, false) < 0)
		return -1;
	return view_csv_cell(b, value, true);
}

static int csv_count(buf_t *b, const char *kind, const char *item, int64_t n)
{
	char v[32];

	snprintf(v, sizeof(v), "%lld", (long long)n);
	return csv_line(b, kind, item, v);
}

static int csv_verify(buf_t *b, const selfrep_t *rep)
{
	const char *k = "監査記録の検証";

	if (!rep->verified)
		return csv_line(b, k, "結果", "検証を実行できませんでした。");
	if (csv_line(b, k, "結果", view_break_ja(rep->av.kind)) < 0 ||
	    csv_count(b, k, "検証した記録", rep->av.records) < 0)
		return -1;
	return rep->av.kind == AUDIT_INTACT ? 0 : csv_count(b, k, "最初の異常 seq", rep->av.seq);
}

static int csv_body(buf_t *b, const selfrep_t *rep)
{
	int rc = buf_puts(b, "\xEF\xBB\xBF");  /* BOM: Excel on Japanese Windows reads CP932 */

	if (rc == 0)
		rc = csv_line(b, "区分", "項目", "値");
	if (rc == 0)
		rc = csv_line(b, "対象期間", "開始日（日本時間）", rep->from);
	if (rc == 0)
		rc = csv_line(b, "対象期間", "終了日（日本時間）", rep->to);
	for (size_t i = 0; rc == 0 && i < MUGAI_ARRAY_LEN(items); i++)
		rc = csv_count(b, "概要", items[i].ja, item_value(rep, &items[i]));
	for (size_t t = 0; rc == 0 && t < MUGAI_ARRAY_LEN(tables); t++)
		for (size_t i = 0; rc == 0 && i < rep->n; i++)
			if (strcmp(rep->v[i].group, tables[t].group) == 0)
				rc = csv_count(b, tables[t].ja, tables[t].words(rep->v[i].key),
					       rep->v[i].n);
	if (rc == 0)
		rc = csv_verify(b, rep);
	if (rc == 0 && rep->cut)
		rc = csv_line(b, "注意", "項目が多すぎるため、一部の件数を省略しました。", "");
	return rc;
}

void selfrep_csv(creq_t *r)
{
	selfrep_t rep;

	if (selfrep_load(r, &rep, "/report/self.csv", "csv") == 0) {
		r->content_type = "text/csv; charset=utf-8";
		r->disposition = "attachment; filename=\"mugai-self-inspection.csv\"";
		if (csv_body(&r->page.b, &rep) < 0) {
			r->content_type = NULL, r->disposition = NULL;
			console_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "エラー",
				      "自己点検報告書を作れませんでした。");
		}
	}
	selfrep_free(&rep);
}

/* ---- JSON ---- */

static void json_group(json_t *j, const selfrep_t *rep, const char *group, const char *name)
{
	json_key(j, name);
	json_obj_begin(j);
	for (size_t i = 0; i < rep->n; i++)
		if (strcmp(rep->v[i].group, group) == 0) {
			json_key(j, rep->v[i].key);
			json_int(j, (long long)rep->v[i].n);
		}
	json_obj_end(j);
}

static void json_verify(json_t *j, const selfrep_t *rep)
{
	json_key(j, "audit_verify");
	json_obj_begin(j);
	json_key(j, "result");
	json_str(j, rep->verified ? audit_break_name(rep->av.kind) : "could not run");
	json_key(j, "records");
	json_int(j, rep->verified ? rep->av.records : 0);
	json_key(j, "first_broken_seq");
	json_int(j, rep->verified && rep->av.kind != AUDIT_INTACT ? rep->av.seq : 0);
	json_obj_end(j);
}

static void json_body(json_t *j, const selfrep_t *rep)
{
	json_obj_begin(j);
	json_key(j, "report");
	json_str(j, "self-inspection");
	json_key(j, "from");
	json_str(j, rep->from);
	json_key(j, "to");
	json_str(j, rep->to);
	json_key(j, "since");
	json_int(j, rep->since);
	json_key(j, "until");
	json_int(j, rep->until);
	json_key(j, "summary");
	json_obj_begin(j);
	for (size_t i = 0; i < MUGAI_ARRAY_LEN(items); i++) {
		json_key(j, items[i].json);
		json_int(j, (long long)item_value(rep, &items[i]));
	}
	json_obj_end(j);
	for (size_t i = 0; i < MUGAI_ARRAY_LEN(tables); i++)
		json_group(j, rep, tables[i].group, tables[i].json);
	json_group(j, rep, "action", "actions");
	json_verify(j, rep);
	json_key(j, "truncated");
	json_bool(j, rep->cut);
	json_obj_end(j);
}

void selfrep_api(creq_t *r)
{
	selfrep_t rep;
	json_t j;

	if (selfrep_load(r, &rep, "/api/report", "json") == 0) {
		r->content_type = "application/json; charset=utf-8";
		json_init(&j, &r->page.b);
		json_body(&j, &rep);
		if (json_finish(&j) < 0)
			r->page.err = -1;
	}
	selfrep_free(&rep);
}
