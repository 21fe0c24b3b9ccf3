/*
 * notice.c — the notice block at the top of every rebuilt message: that the
 * mail was sanitized (or withheld), each removed item with its decoded name,
 * type, size and reason, and the id to quote when asking for the original.
 * Japanese by default (notice_lang), or a custom template
 * (notice_template; placeholders {id} {verdict} {count} {items} {links}
 * {reasons} {attached} {name_warning} {sender_warning} {virus} {whose}
 * {ppap} {release} {console}). The warnings a clerk must not miss are
 * never left out by a template: without {release} the approval line of a
 * released mail, without {name_warning} the display-name warning, without
 * {sender_warning} the sender warnings (look-alike domain, failed
 * authentication, first contact), without {virus} the antivirus line,
 * without {whose} the lines naming a withheld mail, and without {ppap} the
 * PPAP lines (a zip waiting for its password mail; the follow-up's first
 * line), and without {console} the line 「取り出しの依頼: URL/q/ID（受付番号
 * xxxx-xxxx）」 (console_url) are added at the end of the notice. The
 * built-in notice opens with the approval line of a release of sanitized
 * files (「このメールは 承認者 X が YYYY-MM-DD HH:MM に無害化ファイルの取り出しを
 * 承認しました。」, mail_facts_t) and ends with the console line.
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
#include "mail/mail.h"
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
	const char *ppap_done, *ppap_fail, *ppap_wait_pre, *ppap_wait;  /* PPAP ({} the id; the window) */
	const char *release_pre, *release_mid, *release_post; /* approver, time */
	const char *console_pre, *console_mid, *console_post; /* URL, 受付番号 */
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
	"注意: 表示名にメールアドレスが含まれています（{}）。本当の差出人を確認してください。",
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
	"受付番号 {} のパスワード付きZIPを無害化しました。",
	"受付番号 {} のパスワード付きZIPは、届いたメールのパスワードでは開けませんでした。",
	"パスワード付きZIP（",
	"）: パスワードのメールを待っています（最長 {} 分）",
	"このメールは 承認者 ", " が ", " に無害化ファイルの取り出しを承認しました。",
	"取り出しの依頼: ", "（受付番号 ", "）",
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
	"The password-protected zip of message {} was opened and sanitized.",
	"The password-protected zip of message {} could not be opened with the password mail that came.",
	"Password-protected zip (",
	"): waiting for the password mail (up to {} minutes)",
	"Approver ", " approved the release of the sanitized files of this message at ", " (JST).",
	"Release request: ", " (reference ", ")",
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
	if (rc == 0) /* the type is in the report; the clerk reads the reason */
		rc = buf_puts(out, " (");
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

/* What a clerk reads for each reason, by the start of our own warning
 * text (the sender's detail, if any, follows ": 「") or the limit's name. */
typedef struct reason_word {
	const char *prefix, *ja;
} reason_word_t;

static const reason_word_t warn_words[] = {
	{ "duplicated header", "同じヘッダーが重複しています" },
	{ "duplicated parameter", "同じパラメーターが重複しています" },
	{ "unencoded 8-bit header", "符号化されていない文字を含むヘッダーがあります" },
	{ "invalid Content-Type", "内容の種類の指定が不正です" },
	{ "invalid RFC 2047 header value", "ヘッダーの文字の符号化が不正です" },
	{ "multipart without parts", "複数の部分からなるはずのメールに部分がありません" },
	{ "truncated multipart", "メールが途中で切れています（終わりの区切りがありません）" },
	{ "malformed message", "メールの形式が壊れています" },
	{ "invalid header name", "ヘッダーの名前が不正です" },
	{ "conflicting header", "同じヘッダーに異なる値があり、構造を確定できません" },
	{ "conflicting parameter", "同じパラメーターに異なる値があり、構造を確定できません" },
	{ "multipart without boundary", "複数の部分の区切りが指定されていません" },
	{ "invalid parameter", "パラメーターが不正です" },
	{ "invalid address list", "差出人や宛先の書き方が不正です" },
	{ "MIME nesting overflow", "メールの入れ子が深すぎます" },
	{ "part without headers or content", "ヘッダーも内容もない部分があります" },
	{ "part without content", "内容のない部分があります" },
	{ "parts after the closing boundary", "終わりの区切りの後にも部分があります" },
	{ "not a parseable message", "メールとして読み取れません" },
	{ "original of ", "大きすぎるため、解析せずに保留しました" },
	{ "invalid base64 characters", "本文の符号化に不正な文字があります" },
	{ "header value truncated", "長すぎるヘッダーを切り詰めました" },
	{ "address that cannot be written in ASCII", "英数字で書けないアドレスを除きました" },
	{ "address header over", "長すぎるアドレスのヘッダーを除きました" },
	{ "malformed message id", "形式が不正なメッセージ ID を除きました" },
	{ "malformed Message-ID", "形式が不正なメッセージ ID を除きました" },
	{ "unparseable Date", "読み取れない日付を除きました" },
	{ "bare CR line ends", "改行の形式が不正です" },
	{ "mixed CRLF and bare LF", "改行の形式が混在しています" },
	{ "display name contains an e-mail address", "表示名にメールアドレスが含まれています" },
};

static const reason_word_t limit_words[] = {
	{ "message_size_max", "メールが大きすぎます" },
	{ "mime_depth_max", "メールの入れ子が深すぎます" },
	{ "mime_parts_max", "メールの部分が多すぎます" },
	{ "header_bytes_max", "ヘッダーが大きすぎます" },
	{ "line_length_max", "長すぎる行があります" },
	{ "decoded_size_max", "展開した大きさが上限を超えます" },
	{ "text_size_max", "本文が長すぎます" },
	{ "header_value_max", "長すぎるヘッダーがあります" },
	{ "html_depth_max", "HTML の入れ子が深すぎます" },
	{ "html_expansion_max", "HTML を変換すると大きくなりすぎます" },
	{ "cpu_time_max", "変換に時間がかかりすぎました" },
	{ "wall_time_max", "変換に時間がかかりすぎました" },
	{ "timeout", "変換に時間がかかりすぎました" },
	{ "result_size_max", "変換の結果が大きすぎます" },
	{ "result-too-big", "変換の結果が大きすぎます" },
	{ "worker_memory_max", "変換に必要なメモリが上限を超えました" },
	{ "worker-crash", "変換の処理が異常終了しました" },
};

static const char *reason_ja(const reason_word_t *t, size_t n, const char *s, bool exact)
{
	for (size_t i = 0; i < n; i++)
		if (exact ? strcmp(s, t[i].prefix) == 0
			  : strncmp(s, t[i].prefix, strlen(t[i].prefix)) == 0)
			return t[i].ja;
	return NULL;
}

/* Japanese: one line per distinct sentence, with a count when it recurs
 * ("ヘッダーの名前が不正です（16 件）"); the sender's details stay in the
 * report. */
static int put_reasons_ja(buf_t *out, const mail_report_t *r)
{
	const char *seen[REPORT_WARNINGS_MAX + LIM__COUNT];
	size_t count[REPORT_WARNINGS_MAX + LIM__COUNT], n = 0;
	int rc = 0;

	for (size_t i = 0; i < r->n_limits + r->n_warnings; i++) {
		const char *ja = i < r->n_limits
			? reason_ja(limit_words, MUGAI_ARRAY_LEN(limit_words), r->limits_hit[i], true)
			: reason_ja(warn_words, MUGAI_ARRAY_LEN(warn_words),
				    r->warnings[i - r->n_limits], false);
		size_t k;

		if (!ja)
			ja = i < r->n_limits ? "大きさや数が上限を超えました" : "メールの形式に問題があります";
		for (k = 0; k < n && seen[k] != ja; k++)
			;
		if (k == n && n < MUGAI_ARRAY_LEN(seen))
			seen[n] = ja, count[n++] = 0;
		if (k < n)
			count[k]++;
	}
	for (size_t k = 0; rc == 0 && k < n; k++)
		rc = count[k] > 1 ? buf_printf(out, "  - %s（%zu 件）\n", seen[k], count[k])
				  : buf_printf(out, "  - %s\n", seen[k]);
	return rc;
}

static const char *virus_reason(const notice_words_t *w);

static int put_reasons(buf_t *out, const notice_words_t *w, const mail_report_t *r)
{
	int rc = r->output_check[0] ? buf_printf(out, "  - %s\n", w->outcheck) : 0;

	if (rc == 0 && r->virus)
		rc = buf_printf(out, "  - %s\n", virus_reason(w));

	if (w == &words_ja)
		return rc == 0 ? put_reasons_ja(out, r) : rc;
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

static int put_with(buf_t *out, const char *tmpl, const char *val);

/* The display-name warning; in Japanese the headers are named in words
 * (r->name_address is "From, To", ours, never the sender's). */
static int put_name_warning(buf_t *out, const notice_words_t *w, const mail_report_t *r)
{
	static const char *const ja[][2] = { { "From", "差出人" }, { "To", "宛先" },
		{ "Cc", "Cc" }, { "Reply-To", "返信先" } };
	char names[128] = "";
	size_t used = 0;

	if (w != &words_ja)
		return put_with(out, w->name_address, r->name_address);
	for (const char *p = r->name_address; *p;) {
		size_t len = strcspn(p, ",");

		for (size_t i = 0; i < MUGAI_ARRAY_LEN(ja); i++)
			if (strlen(ja[i][0]) == len && strncmp(p, ja[i][0], len) == 0 &&
			    used < sizeof(names))
				used += (size_t)snprintf(names + used, sizeof(names) - used, "%s%s",
							 used ? "、" : "", ja[i][1]);
		p += len;
		p += strspn(p, ", ");
	}
	return put_with(out, w->name_address, names);
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

/* ---- antivirus and sender warnings (issue #11) ---- */

typedef struct warn_words {
	const char *lookalike, *name_own, *auth, *first, *virus, *virus_reason;
} warn_words_t;

static const warn_words_t warn_ja = {
	"注意: 差出人のドメインは当組織のドメインに似ていますが、別のドメインです。なりすましに注意してください。",
	"注意: 外部からのメールですが、差出人の表示名に当組織のドメインが含まれています。なりすましに注意してください。",
	"注意: 送信元の認証に失敗しました（{}）",
	"注意: 初めてのお相手からのメールです",
	"注意: ウイルス対策ソフトがウイルス{}を検出したため、このメールを隔離しました。原本の取り出しには管理者の承認が必要です。",
	"ウイルスを検出しました",
};

static const warn_words_t warn_en = {
	"Caution: the sender's domain looks like one of ours but is a different domain; beware of impersonation.",
	"Caution: mail from outside whose display name contains one of our domains; beware of impersonation.",
	"Caution: the sender's authentication failed ({})",
	"Caution: this is the first mail from this sender",
	"Caution: the antivirus found a virus {}; this message was quarantined. Releasing the original needs an administrator.",
	"virus detected",
};

static const warn_words_t *warn_words_of(const notice_words_t *w)
{
	return w == &words_ja ? &warn_ja : &warn_en;
}

/* "DMARC fail、SPF fail" (ours: fixed words). */
static int put_auth(buf_t *out, const warn_words_t *ww, unsigned bits)
{
	static const struct { unsigned bit; const char *name; } m[] = {
		{ SENDER_W_DMARC, "DMARC fail" }, { SENDER_W_DKIM, "DKIM fail" },
		{ SENDER_W_SPF, "SPF fail" },
	};
	char list[64] = "";
	size_t used = 0;

	for (size_t i = 0; i < MUGAI_ARRAY_LEN(m); i++)
		if (bits & m[i].bit)
			used += (size_t)snprintf(list + used, sizeof(list) - used, "%s%s",
						 used ? (ww == &warn_ja ? "、" : ", ") : "", m[i].name);
	return put_with(out, ww->auth, list);
}

/* One line per sender warning, at the top of the notice. */
static int put_sender_warnings(buf_t *out, const notice_words_t *w, const mail_report_t *r)
{
	const warn_words_t *ww = warn_words_of(w);
	unsigned b = r->sender_warn;
	int rc = 0;

	if (b & SENDER_W_LOOKALIKE)
		rc = buf_printf(out, "%s\n", ww->lookalike);
	if (rc == 0 && (b & SENDER_W_NAME_OWN))
		rc = buf_printf(out, "%s\n", ww->name_own);
	if (rc == 0 && (b & (SENDER_W_DMARC | SENDER_W_DKIM | SENDER_W_SPF)))
		rc = put_auth(out, ww, b);
	if (rc == 0 && (b & SENDER_W_FIRST))
		rc = buf_printf(out, "%s\n", ww->first);
	return rc;
}

/* The virus line: the signature name (clamd's, untrusted) quoted. */
static int put_virus(buf_t *out, const notice_words_t *w, const mail_report_t *r)
{
	const char *tmpl = warn_words_of(w)->virus, *at = strstr(tmpl, "{}");
	int rc;

	if (!r->virus)
		return 0;
	rc = buf_append(out, tmpl, (size_t)(at - tmpl));
	if (rc == 0)
		rc = wr_quoted(out, r->virus, strlen(r->virus));
	if (rc == 0)
		rc = buf_printf(out, "%s\n", at + 2);
	return rc;
}

/* PPAP: the follow-up's first line, or one line per zip that waits for
 * its password mail (names quoted by the writer). */
static int put_ppap(buf_t *out, const notice_words_t *w, const mail_report_t *r)
{
	int rc = !r->ppap_of[0] ? 0 : put_with(out, r->ppap_opened ? w->ppap_done : w->ppap_fail,
					       r->ppap_of);

	for (size_t i = 0; rc == 0 && i < r->n_ppap_names; i++) {
		const char *n = r->ppap_names[i];

		rc = buf_puts(out, w->ppap_wait_pre);
		if (rc == 0)
			rc = *n ? wr_quoted(out, n, strlen(n)) : buf_puts(out, "?");
		if (rc == 0)
			rc = put_count(out, w->ppap_wait, (size_t)r->ppap_window);
	}
	if (rc == 0 && r->ppap_waiting > r->n_ppap_names)
		rc = buf_printf(out, "  … +%zu\n", r->ppap_waiting - r->n_ppap_names);
	return rc;
}

/* A release of sanitized files: the approver (a name an administrator or
 * the store gave, through the writer as one line) and the time (ours). */
static int put_release(buf_t *out, const notice_words_t *w, const mail_report_t *r)
{
	int rc;

	if (!r->release_by[0])
		return 0;
	rc = buf_puts(out, w->release_pre);
	if (rc == 0)
		rc = wr_line(out, r->release_by, strlen(r->release_by), WR_FIELD_MAX);
	if (rc == 0)
		rc = buf_printf(out, "%s%s%s\n", w->release_mid, r->release_at, w->release_post);
	return rc;
}

/* console_url set: 「取り出しの依頼: URL/q/ID（受付番号 xxxx-xxxx）」, the one
 * link the output check lets through (the administrator's URL, checked
 * by cfg_set, and our own id: nothing of the sender's). */
static int put_console(buf_t *out, const notice_words_t *w, const char *url,
		       const mail_report_t *r)
{
	char sh[MUGAI_ID_SHORT_LEN + 1];

	if (!url || !*url || !mugai_id_valid(r->id))
		return 0;
	mugai_id_short(r->id, sh);
	return buf_printf(out, "%s%s/q/%s%s%s%s\n", w->console_pre, url, r->id, w->console_mid,
			  sh, w->console_post);
}

static int builtin(const notice_words_t *w, const char *url, const mail_report_t *r,
		   buf_t *out)
{
	bool q = r->verdict == VERDICT_QUARANTINED;
	size_t links = r->links_defanged + r->links_removed;
	/* the marker line right after the rule (the output check's notice
	 * rule), then the warnings: display name, sender, virus */
	int rc = buf_printf(out, "%s\n%s\n", w->rule, q ? w->head_q : w->head_ok);

	if (rc == 0)
		rc = put_release(out, w, r);
	if (rc == 0 && r->name_address[0])
		rc = put_name_warning(out, w, r);
	if (rc == 0)
		rc = put_sender_warnings(out, w, r);
	if (rc == 0)
		rc = put_virus(out, w, r);
	if (rc == 0 && !q)
		rc = put_ppap(out, w, r);
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
		rc = put_console(out, w, url, r);
	if (rc == 0)
		rc = buf_printf(out, "%s\n\n", w->rule);
	return rc;
}

static const char *virus_reason(const notice_words_t *w)
{
	return warn_words_of(w)->virus_reason;
}

static int expand(const char *key, size_t klen, const notice_words_t *w, const char *url,
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
		return r->name_address[0] ? put_name_warning(out, w, r) : 0;
	if (KEY("sender_warning"))
		return put_sender_warnings(out, w, r);
	if (KEY("virus"))
		return put_virus(out, w, r);
	if (KEY("whose"))
		return r->verdict == VERDICT_QUARANTINED ? put_whose(out, w, r) : 0;
	if (KEY("ppap"))
		return r->verdict != VERDICT_QUARANTINED ? put_ppap(out, w, r) : 0;
	if (KEY("release"))
		return put_release(out, w, r);
	if (KEY("console"))
		return put_console(out, w, url, r);
#undef KEY
	return buf_printf(out, "{%.*s}", (int)klen, key);
}

/* A placeholder the template left out, at its end (the lines a clerk
 * must not miss). */
static int forced(const char *tpl, const char *key, const notice_words_t *w, const char *url,
		  const mail_report_t *r, buf_t *out)
{
	char ph[32];

	snprintf(ph, sizeof(ph), "{%s}", key);
	return strstr(tpl, ph) ? 0 : expand(key, strlen(key), w, url, r, out);
}

static int templated(const char *tpl, const notice_words_t *w, const char *url,
		     const mail_report_t *r, buf_t *out)
{
	static const char *const keys[] = { "release", "name_warning", "sender_warning", "virus",
					    "whose", "ppap", "console" };
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
			rc = expand(open + 1, (size_t)(close - open - 1), w, url, r, out);
		p = close + 1;
	}
	if (rc == 0 && buf_last(out) != '\n')
		rc = buf_putc(out, '\n');
	for (size_t i = 0; rc == 0 && i < MUGAI_ARRAY_LEN(keys); i++)
		rc = forced(tpl, keys[i], w, url, r, out);
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
	const char *url = cfg_str(cfg, CFG_CONSOLE_URL);

	if (cfg->notice_text && *cfg->notice_text)
		rc = templated(cfg->notice_text, w, url, r, &t);
	else
		rc = builtin(w, url, r, &t);
	if (rc == 0)
		rc = wr_clean(out, t.data ? t.data : "", t.len, WR_TRUSTED);
	buf_free(&t);
	return rc;
}

/* ---- the same words for the console (console/views.c) ---- */

const char *notice_limit_ja(const char *limit)
{
	const char *ja = reason_ja(limit_words, MUGAI_ARRAY_LEN(limit_words), limit, true);

	return ja ? ja : "大きさや数が上限を超えました";
}

const char *notice_removal_ja(const char *code)
{
	for (int i = 0; i < RM__COUNT; i++)
		if (strcmp(report_removal_code((removal_t)i), code) == 0)
			return words_ja.why[i];
	return "安全に変換できない部分";
}
