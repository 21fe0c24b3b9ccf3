/*
 * notice.c — the notice block at the top of every rebuilt message: that the
 * mail was sanitized (or withheld), each removed item with its decoded name,
 * type, size and reason, and the id to quote when asking for the original.
 * Japanese by default (notice_lang), or a custom template
 * (notice_template; placeholders {id} {verdict} {count} {items} {links}
 * {reasons} {attached} {name_warning} {whose}). The warnings a clerk must
 * not miss are never left out by a template: without {name_warning} the
 * display-name warning, and without {whose} the lines naming a withheld
 * mail, are added at the end of the notice.
 *
 * Every character goes through the one writer (text/writer.h): the fixed
 * sentences as trusted text; the sender's strings (file names, types, CDR
 * actions, warnings) as one line, cut, links and notice look-alikes
 * disarmed, names and actions quoted 「…」, so the sender cannot write in
 * the gateway's voice.
 *
 * SECURITY: sanitizer worker (and the master for failure notices); no
 * control, bidi character, live link or look-alike rule/marker from the
 * sender reaches the notice.
 */
#include "mail/mail_int.h"

#include <string.h>

typedef struct notice_words {
	const char *rule, *head_ok, *head_q, *links, *removed, *none, *reasons, *ask, *attached;
	const char *name_address;
	const char *outcheck;
	const char *bytes;
	const char *why[RM__COUNT];
	const char *truncated;
	const char *whose[5];     /* From, To, Cc, Subject, Date labels */
	const char *unreadable, *envelope;
} notice_words_t;

static const notice_words_t words_ja = {
	"━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━",
	"【無害化済み】このメールは無害化装置 (mugai) がテキスト形式に変換しました。",
	"【隔離】このメールは安全に変換できない内容を含むため、本文を配信せず隔離しました。",
	"リンク {} 件をクリックできない形に変換しました。",
	"削除した項目 ({} 件):",
	"削除した項目はありません。",
	"隔離の理由:",
	"原本が必要な場合は、次の ID を添えて管理者にお問い合わせください: {}",
	"無害化して添付したファイル ({} 件):",
	"注意: 表示名にメールアドレスが含まれています ({})。本当の差出人を確認してください。",
	"出力検査で安全でない内容が見つかったため",
	"バイト",
	{ "添付ファイル", "画像", "予定表", "電子署名", "暗号化データ",
	  "Outlook 形式データ (winmail.dat)", "実行可能ファイル", "代替表示",
	  "未対応の形式", "無害化できないファイル", "テキストに埋め込まれたファイル",
	  "テキストと表示されているがテキストではない内容", "構造を確定できない転送メール" },
	"注意: このメールは終わりの区切りが欠けていました。最後の部分はメールの末尾まで続くものとして変換しました。",
	{ "差出人", "宛先", "Cc", "件名", "日時" },
	"ヘッダーを読み取れませんでした。",
	"送信元 (エンベロープ)",
};

static const notice_words_t words_en = {
	"----------------------------------------------------------------",
	"[SANITIZED] This message was converted to plain text by the mugai gateway.",
	"[QUARANTINED] This message could not be made safe; its content was withheld.",
	"{} link(s) were turned into text that cannot be clicked.",
	"Removed items ({}):",
	"Nothing was removed.",
	"Reason:",
	"To obtain the original, ask your administrator and quote this id: {}",
	"Sanitized attachments ({}):",
	"Caution: a display name contains an e-mail address ({}); check who really sent this.",
	"the final check found unsafe content in the converted message",
	"bytes",
	{ "attachment", "image", "calendar", "signature", "encrypted data",
	  "Outlook TNEF data (winmail.dat)", "executable", "alternative view",
	  "unsupported type", "could not be made safe", "file encoded inside the text",
	  "labelled as text but not text", "forwarded message with an ambiguous structure" },
	"Note: this message lacked its closing boundary; its last part was read to the end of the message.",
	{ "From", "To", "Cc", "Subject", "Date" },
	"The header could not be read.",
	"Envelope sender",
};

static int put_size(buf_t *out, size_t n)
{
	char digits[32], grouped[48];
	int len = snprintf(digits, sizeof(digits), "%zu", n), o = 0;

	for (int i = 0; i < len; i++) {
		if (i > 0 && (len - i) % 3 == 0)
			grouped[o++] = ',';
		grouped[o++] = digits[i];
	}
	grouped[o] = '\0';
	return buf_puts(out, grouped);
}

static int put_item(buf_t *out, const notice_words_t *w, size_t i, const removed_item_t *it)
{
	const char *name = it->filename ? it->filename : "(名前なし)";
	int rc;

	if (w == &words_en && !it->filename)
		name = "(no name)";
	rc = buf_printf(out, "  %zu. ", i + 1);
	if (rc == 0)
		rc = it->filename ? wr_quoted(out, name, strlen(name)) : buf_puts(out, name);
	if (rc == 0)
		rc = buf_puts(out, " (");
	if (rc == 0)
		rc = wr_line(out, it->content_type ? it->content_type : "?",
			     it->content_type ? strlen(it->content_type) : 1, WR_FIELD_MAX);
	if (rc == 0)
		rc = buf_puts(out, ", ");
	if (rc == 0)
		rc = put_size(out, it->size);
	if (rc == 0)
		rc = buf_printf(out, " %s) — %s", w->bytes, w->why[it->reason]);
	if (rc == 0 && it->detail) {
		rc = buf_puts(out, ": ");
		if (rc == 0)
			rc = wr_quoted(out, it->detail, strlen(it->detail));
	}
	if (rc == 0)
		rc = buf_putc(out, '\n');
	return rc;
}

static int put_count(buf_t *out, const char *tmpl, size_t n);

/* "  1. 報告.docx ← 報告.docm (12,345 バイト): removed word/vbaProject.bin" */
static int put_attached(buf_t *out, const notice_words_t *w, size_t i, const attached_item_t *it)
{
	int rc = buf_printf(out, "  %zu. ", i + 1);

	if (rc == 0)
		rc = wr_quoted(out, it->out_filename, strlen(it->out_filename));
	if (rc == 0 && it->filename && strcmp(it->filename, it->out_filename) != 0) {
		rc = buf_puts(out, " ← ");
		if (rc == 0)
			rc = wr_quoted(out, it->filename, strlen(it->filename));
	}
	if (rc == 0)
		rc = buf_puts(out, " (");
	if (rc == 0)
		rc = put_size(out, it->out_size);
	if (rc == 0)
		rc = buf_printf(out, " %s)", w->bytes);
	if (rc == 0 && it->actions && *it->actions) {
		rc = buf_puts(out, ": ");
		if (rc == 0)
			rc = wr_quoted(out, it->actions, strlen(it->actions));
	}
	return rc == 0 ? buf_putc(out, '\n') : rc;
}

static int put_attached_list(buf_t *out, const notice_words_t *w, const mail_report_t *r)
{
	int rc = r->n_attached ? put_count(out, w->attached, r->n_attached) : 0;

	for (size_t i = 0; rc == 0 && i < r->n_attached; i++)
		rc = put_attached(out, w, i, &r->attached[i]);
	return rc;
}

static int put_items(buf_t *out, const notice_words_t *w, const mail_report_t *r)
{
	int rc = 0;

	for (size_t i = 0; rc == 0 && i < r->n_removed; i++)
		rc = put_item(out, w, i, &r->removed[i]);
	if (rc == 0 && r->removed_dropped)
		rc = buf_printf(out, "  … +%zu\n", r->removed_dropped);
	return rc;
}

static int put_reasons(buf_t *out, const notice_words_t *w, const mail_report_t *r)
{
	int rc = r->output_check[0] ? buf_printf(out, "  - %s\n", w->outcheck) : 0;

	for (size_t i = 0; rc == 0 && i < r->n_limits; i++)
		rc = buf_printf(out, "  - limit %s\n", r->limits_hit[i]);
	for (size_t i = 0; rc == 0 && i < r->n_warnings; i++) {
		rc = buf_puts(out, "  - ");
		if (rc == 0)
			rc = wr_line(out, r->warnings[i], strlen(r->warnings[i]), 0);
		if (rc == 0)
			rc = buf_putc(out, '\n');
	}
	return rc;
}

/* Append tmpl with its "{}" replaced by val, then a line end. */
static int put_with(buf_t *out, const char *tmpl, const char *val)
{
	const char *at = strstr(tmpl, "{}");

	if (!at)
		return buf_printf(out, "%s\n", tmpl);
	return buf_printf(out, "%.*s%s%s\n", (int)(at - tmpl), tmpl, val, at + 2);
}

static int put_count(buf_t *out, const char *tmpl, size_t n)
{
	char num[32];

	snprintf(num, sizeof(num), "%zu", n);
	return put_with(out, tmpl, num);
}

/* "label: value" on one line: sender text quoted 「…」, our own date
 * format (whose.c date_line) through the writer unquoted. */
static int put_field(buf_t *out, const char *label, const char *value, bool quoted)
{
	int rc;

	if (!value)
		return 0;
	rc = buf_printf(out, "%s: ", label);
	if (rc == 0)
		rc = quoted ? wr_quoted(out, value, strlen(value))
			    : wr_line(out, value, strlen(value), WR_FIELD_MAX);
	return rc == 0 ? buf_putc(out, '\n') : rc;
}

/* Whose mail was withheld: From, To, Cc, Subject, Date; when no From could
 * be read, say so and show the envelope sender. */
static int put_whose(buf_t *out, const notice_words_t *w, const mail_report_t *r)
{
	const char *v[5] = { r->from, r->to, r->cc, r->subject, r->date };
	int rc = 0;

	if (r->header_unreadable)
		rc = buf_printf(out, "%s\n", w->unreadable);
	if (rc == 0 && r->header_unreadable)
		rc = put_field(out, w->envelope, r->envelope_sender, true);
	for (size_t i = 0; rc == 0 && i < MUGAI_ARRAY_LEN(v); i++)
		rc = put_field(out, w->whose[i], v[i], v[i] != r->date);
	return rc;
}

static int builtin(const notice_words_t *w, const mail_report_t *r, buf_t *out)
{
	bool q = r->verdict == VERDICT_QUARANTINED;
	size_t links = r->links_defanged + r->links_removed;
	int rc = buf_printf(out, "%s\n%s\n", w->rule, q ? w->head_q : w->head_ok);

	if (rc == 0 && r->name_address[0])
		rc = put_with(out, w->name_address, r->name_address);
	if (rc == 0 && q)
		rc = put_whose(out, w, r);
	if (rc == 0 && q)
		rc = buf_printf(out, "%s\n", w->reasons);
	if (rc == 0 && q)
		rc = put_reasons(out, w, r);
	if (rc == 0 && !q && r->truncated_multipart)
		rc = buf_printf(out, "%s\n", w->truncated);
	if (rc == 0 && links)
		rc = put_count(out, w->links, links);
	if (rc == 0 && r->n_removed)
		rc = put_count(out, w->removed, r->n_removed + r->removed_dropped);
	if (rc == 0 && !q && !r->n_removed)
		rc = buf_printf(out, "%s\n", w->none);
	if (rc == 0)
		rc = put_items(out, w, r);
	if (rc == 0 && !q)
		rc = put_attached_list(out, w, r);
	if (rc == 0)
		rc = put_with(out, w->ask, r->id);
	if (rc == 0)
		rc = buf_printf(out, "%s\n\n", w->rule);
	return rc;
}

static int expand(const char *key, size_t klen, const notice_words_t *w,
		  const mail_report_t *r, buf_t *out)
{
#define KEY(s) (klen == sizeof(s) - 1 && memcmp(key, s, klen) == 0)
	if (KEY("id"))
		return buf_puts(out, r->id);
	if (KEY("verdict"))
		return buf_puts(out, report_verdict_name(r->verdict));
	if (KEY("count"))
		return buf_printf(out, "%zu", r->n_removed + r->removed_dropped);
	if (KEY("links"))
		return buf_printf(out, "%zu", r->links_defanged + r->links_removed);
	if (KEY("items"))
		return r->n_removed ? put_items(out, w, r) : buf_printf(out, "%s\n", w->none);
	if (KEY("reasons"))
		return put_reasons(out, w, r);
	if (KEY("attached"))
		return put_attached_list(out, w, r);
	if (KEY("name_warning"))
		return r->name_address[0] ? put_with(out, w->name_address, r->name_address) : 0;
	if (KEY("whose"))
		return r->verdict == VERDICT_QUARANTINED ? put_whose(out, w, r) : 0;
#undef KEY
	return buf_printf(out, "{%.*s}", (int)klen, key);
}

static int templated(const char *tpl, const notice_words_t *w, const mail_report_t *r,
		     buf_t *out)
{
	const char *p = tpl;
	int rc = 0;

	while (rc == 0 && *p) {
		const char *open = strchr(p, '{');
		const char *close = open ? strchr(open, '}') : NULL;

		if (!open || !close) {
			rc = buf_puts(out, p);
			break;
		}
		rc = buf_append(out, p, (size_t)(open - p));
		if (rc == 0)
			rc = expand(open + 1, (size_t)(close - open - 1), w, r, out);
		p = close + 1;
	}
	if (rc == 0 && buf_last(out) != '\n')
		rc = buf_putc(out, '\n');
	if (rc == 0 && !strstr(tpl, "{name_warning}"))
		rc = expand("name_warning", strlen("name_warning"), w, r, out);
	if (rc == 0 && !strstr(tpl, "{whose}"))
		rc = expand("whose", strlen("whose"), w, r, out);
	return rc == 0 ? buf_putc(out, '\n') : rc;
}

/* The whole notice passes the writer once more as trusted text: our own
 * sentences (and the administrator's template) are clean by construction,
 * the sender's parts were written by the writer above. */
int notice_build(const cfg_t *cfg, const mail_report_t *r, buf_t *out)
{
	const notice_words_t *w = cfg_is(cfg, CFG_NOTICE_LANG, "en") ? &words_en : &words_ja;
	buf_t t;
	int rc;

	buf_init(&t, out->max);
	if (cfg->notice_text && *cfg->notice_text)
		rc = templated(cfg->notice_text, w, r, &t);
	else
		rc = builtin(w, r, &t);
	if (rc == 0)
		rc = wr_clean(out, t.data ? t.data : "", t.len, WR_TRUSTED);
	buf_free(&t);
	return rc;
}
