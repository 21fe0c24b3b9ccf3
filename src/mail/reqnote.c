/*
 * reqnote.c — the approvers' notice of a release request (issue #10): the
 * gateway's own message 「【取り出しの依頼】件名」 that the console queues in
 * the store's outbox for mugaid's releaser to deliver. The body is a notice
 * block between the rule lines: what was asked, 受付番号 (the id and its
 * short form), 依頼者, 依頼の種類, 依頼の理由, 差出人, 件名, 受信日時 (JST)
 * and, with console_url, the notice's own console line 「取り出しの依頼:
 * URL/q/ID（受付番号 xxxx-xxxx）」 (the one link the output check lets
 * through, as notice.c writes it).
 *
 * Every character goes through the one writer: our sentences as trusted
 * text, the sender's From and Subject and the clerk's reason quoted on one
 * line with links and notice look-alikes disarmed (wr_quoted), the Subject
 * header through wr_header; the finished message passes the output check
 * (mail_output_passes: mail_output_gate's check, with this id). On a hit it is built again
 * with those strings left out, and if that still fails nothing is sent.
 *
 * Specs: RFC 5322 (our header), the output contract (README "The output
 * check").
 *
 * SECURITY: console process (no sandbox): it never looks at the original,
 * only at the index row's decoded strings, which it treats as hostile.
 */
#include "mail/mail.h"
#include "mail/mail_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/id.h"

#define JST_OFFSET (9 * 3600)

typedef struct rn_words {
	const char *rule, *tag, *head, *id, *requester, *kind, *sanitized, *original, *reason;
	const char *from, *subject, *received, *jst, *hidden, *console_how, *console_pre,
		*console_mid, *console_post;
} rn_words_t;

static const rn_words_t rn_ja = {
	FIXED_RULE_JA, "【取り出しの依頼】",
	"【取り出しの依頼】次のメールの取り出しが依頼されました。承認または却下をお願いします。",
	"受付番号", "依頼者", "依頼の種類", "無害化したファイル", "原本", "依頼の理由",
	"差出人", "件名", "受信日時", "（日本時間）", "（安全に表示できないため省略しました）",
	"承認・却下は、コンソールの次のページで行ってください。",
	"取り出しの依頼: ", "（受付番号 ", "）",
};

static const rn_words_t rn_en = {
	FIXED_RULE_EN, "[Release request] ",
	"A release of the following message was requested. Please approve or refuse it.",
	"Reference", "Requested by", "Kind", "sanitized files", "the original", "Reason",
	"From", "Subject", "Received", " (JST)", "(left out: it cannot be shown safely)",
	"Approve or refuse it on this page of the console:",
	"Release request: ", " (reference ", ")",
};

/* "YYYY-MM-DD HH:MM" of t in JST. */
static void jst(int64_t t, char out[32])
{
	time_t x = (time_t)t + JST_OFFSET;
	struct tm tm;

	if (!gmtime_r(&x, &tm))
		memset(&tm, 0, sizeof(tm));
	snprintf(out, 32, "%04u-%02u-%02u %02u:%02u", (unsigned)(tm.tm_year + 1900) % 10000u,
		 (unsigned)(tm.tm_mon + 1) % 100u, (unsigned)tm.tm_mday % 100u,
		 (unsigned)tm.tm_hour % 100u, (unsigned)tm.tm_min % 100u);
}

/* "label: 「value」" (hostile value, one line), or the hidden note. */
static int field(buf_t *t, const rn_words_t *w, const char *label, const char *v, bool show)
{
	int rc = buf_printf(t, "%s: ", label);

	if (rc == 0)
		rc = show ? wr_quoted(t, v ? v : "", v ? strlen(v) : 0) : buf_puts(t, w->hidden);
	return rc == 0 ? buf_putc(t, '\n') : rc;
}

/* Our sentences (trusted) into t; the hostile strings only when show. */
static int body(const cfg_t *cfg, const rn_words_t *w, const mail_reqnote_t *n, bool show,
		buf_t *t)
{
	const char *url = cfg_str(cfg, CFG_CONSOLE_URL);
	char sh[MUGAI_ID_SHORT_LEN + 1], at[32];
	buf_t fixed;
	int rc;

	mugai_id_short(n->id, sh);
	jst(n->received, at);
	buf_init(&fixed, NOTICE_TEXT_MAX);
	rc = buf_printf(&fixed, "%s\n%s\n%s: %s（%s）\n%s: ", w->rule, w->head, w->id, n->id, sh,
			w->requester);
	if (rc == 0)
		rc = wr_clean(t, fixed.data, fixed.len, WR_TRUSTED);
	if (rc == 0)
		rc = wr_line(t, n->requester, strlen(n->requester), WR_FIELD_MAX);
	buf_reset(&fixed);
	if (rc == 0)
		rc = buf_printf(&fixed, "\n%s: %s\n", w->kind,
				strcmp(n->kind, "original") == 0 ? w->original : w->sanitized);
	if (rc == 0)
		rc = wr_clean(t, fixed.data, fixed.len, WR_TRUSTED);
	if (rc == 0)
		rc = field(t, w, w->reason, n->reason, show);
	if (rc == 0)
		rc = field(t, w, w->from, n->from, show);
	if (rc == 0)
		rc = field(t, w, w->subject, n->subject, show);
	buf_reset(&fixed);
	if (rc == 0)
		rc = buf_printf(&fixed, "%s: %s%s\n", w->received, at, w->jst);
	if (rc == 0 && url && *url)
		rc = buf_printf(&fixed, "%s\n%s%s/q/%s%s%s%s\n", w->console_how, w->console_pre, url,
				n->id, w->console_mid, sh, w->console_post);
	if (rc == 0)
		rc = buf_printf(&fixed, "%s\n", w->rule);
	if (rc == 0)
		rc = wr_clean(t, fixed.data, fixed.len, WR_TRUSTED);
	buf_free(&fixed);
	return rc;
}

/* Subject: the tag, then the sender's subject through the writer. */
static char *subject(const rn_words_t *w, const mail_reqnote_t *n, bool show)
{
	char *s = show && n->subject ? wr_header(n->subject, strlen(n->subject), WR_FIELD_MAX)
				     : strdup("");
	char *full = NULL;

	if (s && asprintf(&full, "%s%s", w->tag, s) < 0)
		full = NULL;
	free(s);
	return full;
}

static int build(const cfg_t *cfg, const rn_words_t *w, const mail_reqnote_t *n, bool show,
		 buf_t *out)
{
	hdrset_t h;
	buf_t text;
	int rc;

	memset(&h, 0, sizeof(h));
	buf_init(&text, NOTICE_TEXT_MAX * 2);
	buf_reset(out);
	rc = body(cfg, w, n, show, &text);
	h.from = internet_address_list_parse(NULL, cfg_str(cfg, CFG_NOTICE_FROM));
	h.to = internet_address_list_parse(NULL, n->to);
	h.subject = subject(w, n, show);
	if (rc == 0 && h.subject && h.to)
		rc = build_message(&h, &(build_tags_t){ "request-notice", n->id, NULL },
				   text.data ? text.data : "", text.len, NULL, 0, out);
	else
		rc = -1;
	hdrset_free(&h);
	buf_free(&text);
	return rc;
}

int mail_request_notice_message(const cfg_t *cfg, const mail_reqnote_t *n, buf_t *out)
{
	const rn_words_t *w = cfg_is(cfg, CFG_NOTICE_LANG, "en") ? &rn_en : &rn_ja;

	if (!n->id || !mugai_id_valid(n->id) || !n->requester || !n->kind || !n->to || !*n->to)
		return -1;
	if (build(cfg, w, n, true, out) == 0 && mail_output_passes(cfg, n->id, out, 0))
		return 0;
	if (build(cfg, w, n, false, out) == 0 && mail_output_passes(cfg, n->id, out, 1))
		return 0;
	buf_reset(out);
	return -1;
}
