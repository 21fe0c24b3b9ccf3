/*
 * search.c — the admin's search over every stored message: parts of the
 * sender (envelope or From), a recipient, the subject or a file name of the
 * report (removed or rebuilt attachments), a period of JST dates and a
 * verdict; newest first, console_search_page rows a page.
 *
 *   GET /search?sender=&rcpt=&subject=&file=&from=&to=&verdict=&page=N
 *   GET /api/search?...  (the same, as JSON)
 *
 * Spec: WHATWG URL Standard 5.2 (the page links' query strings, percent-
 * encoded).
 *
 * SECURITY: admin only: any other role is refused and audited
 * (console.refused), and a clerk's own list ignores query arguments, so no
 * parameter widens what a clerk sees. Every value is checked (UTF-8, no
 * control character, at most SEARCH_TEXT_MAX bytes; dates and page strict;
 * the verdict one of a fixed list) before it reaches the store, which binds
 * it as a parameter and audits the search as quarantine.list with the
 * filter. Subjects, names and file names are the sender's text: they reach
 * the page only through page_text(), the JSON only through json_str.
 */
#include "console/console.h"

#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/json.h"
#include "console/form.h"

#define MSG_BAD_SEARCH "検索条件が正しくありません。"

/* The search fields: query key and label. */
static const char *const fields[][2] = {
	{ "sender", "差出人" }, { "rcpt", "宛先" }, { "subject", "件名" }, { "file", "ファイル名" },
};

static const char *const verdicts[] = {
	"clean", "sanitized", "quarantined", QSTORE_PPAP_PENDING, QSTORE_PPAP_PAIRED,
	QSTORE_PPAP_EXPIRED,
};

typedef struct hit {
	char id[MUGAI_ID_LEN + 1];
	int64_t received;
	char *from, *rcpt, *subject, *verdict;
	qstatus_t status;
} hit_t;

typedef struct search {
	const char *text[MUGAI_ARRAY_LEN(fields)]; /* NULL: not searched */
	const char *from, *to, *verdict;           /* NULL: not given */
	long page;                                  /* 1, 2, ... */
	qstore_filter_t f;
	hit_t *v;
	size_t n, cap;
} search_t;

/* ---- the query ---- */

/* A query value: NULL when absent or empty. */
static const char *arg(creq_t *r, const char *key)
{
	const char *v = console_query(r, key);

	return v && v[0] ? v : NULL;
}

static bool verdict_ok(const char *v)
{
	for (size_t i = 0; i < MUGAI_ARRAY_LEN(verdicts); i++)
		if (strcmp(v, verdicts[i]) == 0)
			return true;
	return false;
}

/* The query into q and its store filter: 0, or -1 when malformed. */
static int parse(creq_t *r, search_t *q, long rows)
{
	int64_t t = 0;

	for (size_t i = 0; i < MUGAI_ARRAY_LEN(fields); i++)
		if ((q->text[i] = arg(r, fields[i][0])) && !form_text_ok(q->text[i], SEARCH_TEXT_MAX))
			return -1;
	q->from = arg(r, "from"), q->to = arg(r, "to"), q->verdict = arg(r, "verdict");
	q->page = 1;
	if ((q->verdict && !verdict_ok(q->verdict)) ||
	    (arg(r, "page") && form_page(arg(r, "page"), &q->page) < 0))
		return -1;
	q->f.status = -1;
	q->f.from_part = q->text[0], q->f.rcpt_part = q->text[1];
	q->f.subject_part = q->text[2], q->f.file_part = q->text[3];
	q->f.verdict = q->verdict;
	if (q->from && form_date_jst(q->from, &q->f.since) < 0)
		return -1;
	if (q->to && form_date_jst(q->to, &t) < 0)
		return -1;
	q->f.until = q->to ? t + FORM_DAY : 0;
	if (q->f.until && q->f.since > q->f.until)
		return -1;
	q->f.limit = rows + 1;  /* one more tells whether a next page exists */
	q->f.offset = (q->page - 1) * rows;
	return 0;
}

/* ---- the rows ---- */

static int keep_hit(const qstore_item_t *it, void *arg)
{
	search_t *q = arg;
	hit_t *h;

	if (q->n == q->cap)
		return 0;
	h = &q->v[q->n++];
	snprintf(h->id, sizeof(h->id), "%s", it->id);
	h->received = it->received;
	h->status = it->status;
	h->from = strdup(it->hdr_from[0] ? it->hdr_from : it->env_from);
	h->rcpt = strdup(it->rcpt);
	h->subject = strdup(it->subject);
	h->verdict = strdup(it->verdict);
	return h->from && h->rcpt && h->subject && h->verdict ? 0 : -1;
}

static void search_free(search_t *q)
{
	for (size_t i = 0; i < q->n; i++) {
		free(q->v[i].from);
		free(q->v[i].rcpt);
		free(q->v[i].subject);
		free(q->v[i].verdict);
	}
	free(q->v);
}

/* Who may search, the query, and the rows (the store audits the search);
 * on -1 the error response is set. rows is the page size. */
static int run(creq_t *r, search_t *q, const char *what, long *rows)
{
	memset(q, 0, sizeof(*q));
	*rows = (long)lim(&r->c->cfg->lim, LIM_CONSOLE_SEARCH_PAGE);
	if (!view_is_role(r, "admin")) {
		console_audit(r, r->actor, "console.refused", what, "not permitted");
		console_error(r, MHD_HTTP_FORBIDDEN, "検索できません", "メールを検索する権限がありません。");
		return -1;
	}
	if (parse(r, q, *rows) < 0) {
		console_error(r, MHD_HTTP_BAD_REQUEST, "検索できません", MSG_BAD_SEARCH);
		return -1;
	}
	q->cap = (size_t)*rows + 1;
	q->v = calloc(q->cap, sizeof(*q->v));
	if (!q->v || qstore_list(r->c->s, r->actor, &q->f, keep_hit, q) < 0) {
		console_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "エラー", "検索できませんでした。");
		return -1;
	}
	return 0;
}

/* ---- the page ---- */

/* key=value (percent-encoded) with its separator, into b. */
static int query_pair(buf_t *b, const char *key, const char *v)
{
	static const char hex[] = "0123456789ABCDEF";
	int rc = buf_printf(b, "%s%s=", b->len ? "&" : "", key);

	for (const unsigned char *p = (const unsigned char *)v; rc == 0 && *p; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
		    strchr("-._~", *p))
			rc = buf_putc(b, (char)*p);
		else
			rc = buf_printf(b, "%%%c%c", hex[*p >> 4], hex[*p & 15]);
	}
	return rc;
}

/* A link to page n of the same search. */
static void page_link(page_t *p, const search_t *q, long n, const char *label)
{
	const char *dates[][2] = { { "from", q->from }, { "to", q->to }, { "verdict", q->verdict } };
	char num[32];
	buf_t b;
	int rc = 0;

	buf_init(&b, CONSOLE_QUERY_MAX);
	for (size_t i = 0; rc == 0 && i < MUGAI_ARRAY_LEN(fields); i++)
		if (q->text[i])
			rc = query_pair(&b, fields[i][0], q->text[i]);
	for (size_t i = 0; rc == 0 && i < MUGAI_ARRAY_LEN(dates); i++)
		if (dates[i][1])
			rc = query_pair(&b, dates[i][0], dates[i][1]);
	snprintf(num, sizeof(num), "%ld", n);
	if (rc == 0 && query_pair(&b, "page", num) == 0 && buf_putc(&b, '\0') == 0) {
		PAGE_LIT(p, "<a href=\"/search?");
		page_text(p, b.data);
		PAGE_LIT(p, "\">");
		page_text(p, label);
		PAGE_LIT(p, "</a> ");
	}
	buf_free(&b);
}

static void input(page_t *p, const char *key, const char *label, const char *type,
		  const char *value)
{
	PAGE_LIT(p, "<label>");
	page_text(p, label);
	PAGE_LIT(p, " <input type=\"");
	page_text(p, type);
	PAGE_LIT(p, "\" name=\"");
	page_text(p, key);
	PAGE_LIT(p, "\" value=\"");
	page_text(p, value ? value : "");
	PAGE_LIT(p, "\"></label>");
}

static void verdict_select(page_t *p, const char *current)
{
	PAGE_LIT(p, "<label>判定 <select name=\"verdict\"><option value=\"\">すべて</option>");
	for (size_t i = 0; i < MUGAI_ARRAY_LEN(verdicts); i++) {
		PAGE_LIT(p, "<option value=\"");
		page_text(p, verdicts[i]);
		if (current && strcmp(current, verdicts[i]) == 0)
			PAGE_LIT(p, "\" selected>");
		else
			PAGE_LIT(p, "\">");
		page_text(p, selfrep_verdict_ja(verdicts[i]));
		PAGE_LIT(p, "</option>");
	}
	PAGE_LIT(p, "</select></label>");
}

static void search_form(page_t *p, const search_t *q)
{
	PAGE_LIT(p, "<form method=\"get\" action=\"/search\" id=\"search\">");
	for (size_t i = 0; i < MUGAI_ARRAY_LEN(fields); i++)
		input(p, fields[i][0], fields[i][1], "text", q->text[i]);
	input(p, "from", "受信日（から）", "date", q->from);
	input(p, "to", "受信日（まで）", "date", q->to);
	verdict_select(p, q->verdict);
	PAGE_LIT(p, "<button type=\"submit\">検索</button></form>\n");
}

static void td(page_t *p, const char *s)
{
	PAGE_LIT(p, "<td>");
	page_text(p, s[0] ? s : "-");
	PAGE_LIT(p, "</td>");
}

static void hits_table(page_t *p, const search_t *q, size_t shown)
{
	if (shown == 0) {
		PAGE_LIT(p, "<p id=\"none\">該当するメールはありません。</p>\n");
		return;
	}
	PAGE_LIT(p, "<table id=\"hits\"><tr><th>受信日時</th><th>差出人</th><th>宛先</th><th>件名</th>"
		 "<th>判定</th><th>状態</th></tr>\n");
	for (size_t i = 0; i < shown; i++) {
		const hit_t *h = &q->v[i];

		PAGE_LIT(p, "<tr><td>");
		page_time_jst(p, h->received);
		PAGE_LIT(p, "</td>");
		td(p, h->from);
		td(p, h->rcpt);
		PAGE_LIT(p, "<td><a href=\"/mail/");
		page_text(p, h->id);
		PAGE_LIT(p, "\">");
		page_text(p, h->subject[0] ? h->subject : "（件名なし）");
		PAGE_LIT(p, "</a></td>");
		td(p, selfrep_verdict_ja(h->verdict));
		td(p, view_status_ja(h->status));
		PAGE_LIT(p, "</tr>\n");
	}
	PAGE_LIT(p, "</table>\n");
}

void search_page(creq_t *r)
{
	page_t *p = &r->page;
	search_t q;
	long rows;

	if (run(r, &q, "/search", &rows) == 0) {
		size_t shown = q.n > (size_t)rows ? (size_t)rows : q.n;

		page_begin(p, "メールの検索", r->sess->name);
		PAGE_LIT(p, "<p><a href=\"/\">一覧に戻る</a></p>\n");
		search_form(p, &q);
		PAGE_LIT(p, "<p id=\"page\">");
		page_int(p, q.page);
		PAGE_LIT(p, " ページ目（1 ページ ");
		page_int(p, rows);
		PAGE_LIT(p, " 件、新しい順、日本時間）</p>\n");
		hits_table(p, &q, shown);
		PAGE_LIT(p, "<p id=\"pages\">");
		if (q.page > 1)
			page_link(p, &q, q.page - 1, "前のページ");
		if (q.n > (size_t)rows)
			page_link(p, &q, q.page + 1, "次のページ");
		PAGE_LIT(p, "</p>\n");
		page_end(p);
	}
	search_free(&q);
}

/* ---- JSON ---- */

static void hit_json(json_t *j, const hit_t *h)
{
	json_obj_begin(j);
	json_kv(j, "id", h->id);
	json_key(j, "received");
	json_int(j, h->received);
	json_kv(j, "from", h->from);
	json_kv(j, "rcpt", h->rcpt);
	json_kv(j, "subject", h->subject);
	json_kv(j, "verdict", h->verdict);
	json_kv(j, "verdict_ja", selfrep_verdict_ja(h->verdict));
	json_kv(j, "status", qstatus_name(h->status));
	json_kv(j, "status_ja", view_status_ja(h->status));
	json_obj_end(j);
}

void search_api(creq_t *r)
{
	search_t q;
	json_t j;
	long rows;

	if (run(r, &q, "/api/search", &rows) == 0) {
		r->content_type = "application/json; charset=utf-8";
		json_init(&j, &r->page.b);
		json_obj_begin(&j);
		json_key(&j, "page");
		json_int(&j, q.page);
		json_key(&j, "next");
		json_bool(&j, q.n > (size_t)rows);
		json_key(&j, "rows");
		json_arr_begin(&j);
		for (size_t i = 0; i < q.n && i < (size_t)rows; i++)
			hit_json(&j, &q.v[i]);
		json_arr_end(&j);
		json_obj_end(&j);
		if (json_finish(&j) < 0)
			r->page.err = -1;
	}
	search_free(&q);
}
