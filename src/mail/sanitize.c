/*
 * sanitize.c — the mail sanitizer's entry points (see mail.h): prescan,
 * parse with GMime (whose GMIME_CRIT_* warnings mean "other software reads
 * this differently" → quarantine), count and bound the tree, collect the
 * kept headers, walk the body into text, decide the verdict, then write the
 * notice and the rebuilt message. RFC 5322, RFC 2045–2049.
 *
 * SECURITY: sanitizer worker only. A limit hit or an ambiguous structure
 * gives the verdict `quarantined` and a message that holds only the notice.
 */
#include "mail/mail.h"

#include <iconv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "mail/mail_int.h"
#include "cdr/cdr.h"
#include "mail/outcheck.h"
#include "mail/prescan.h"
#include "mail/sender.h"

/* GMime converts RFC 2231 and encoded-word parameters through iconv while
 * parsing, and glibc loads each gconv module from disk on first use. The
 * sandbox forbids open(), so load the modules now and keep one descriptor
 * of each open for the life of the process (glibc keeps a module loaded
 * while it is in use). A charset not listed here makes GMime's lookup die
 * in the sandbox: the worker crashes and the message is quarantined. */
static void preload_gconv(void)
{
	static const char *const names[] = {
		"ISO-2022-JP", "ISO-2022-JP-2", "ISO-2022-JP-3", "SHIFT_JIS", "CP932",
		"EUC-JP", "EUC-JP-MS", "EUC-JISX0213", "SHIFT_JISX0213", "UTF-7",
		"UTF-16", "UTF-32", "ISO-8859-1", "ISO-8859-2", "ISO-8859-3", "ISO-8859-4",
		"ISO-8859-5", "ISO-8859-6", "ISO-8859-7", "ISO-8859-8", "ISO-8859-9",
		"ISO-8859-10", "ISO-8859-11", "ISO-8859-13", "ISO-8859-14", "ISO-8859-15",
		"ISO-8859-16", "CP1250", "CP1251", "CP1252", "CP1253", "CP1254", "CP1255",
		"CP1256", "CP1257", "CP1258", "KOI8-R", "KOI8-U", "GB2312", "GBK", "GB18030",
		"BIG5", "BIG5-HKSCS", "EUC-KR", "CP949", "ISO-2022-KR", "EUC-TW", "TIS-620",
		"CP874", "ISO-2022-CN", "UCS-2", "UCS-4", "CP437", "CP850", "CP866", "MACINTOSH",
		"ISO-2022-CN-EXT", "JOHAB", "UHC", "CP852", "CP855", "CP857", "CP862",
		"KOI8-RU", "ARMSCII-8", "GEORGIAN-PS", "VISCII", "PT154", "CP1125",
		"MACCYRILLIC", "WINDOWS-874", "IBM866",
	};
	static iconv_t held[MUGAI_ARRAY_LEN(names)];

	for (size_t i = 0; i < MUGAI_ARRAY_LEN(names); i++)
		if (!held[i] || held[i] == (iconv_t)-1)
			held[i] = iconv_open("UTF-8", names[i]);
}

/* Test hook, read once by mail_init (before any sandbox): with
 * MUGAI_TEST_OUTCHECK=N the first N output checks of each message report a
 * live UNC form, as a writer miss would (1: the composed message; 2: the
 * notice-only rebuild too, so the fixed notice goes out). It can only make
 * the gate withhold, never let anything pass; the check itself is tested on
 * real text in tests/unit/test_outcheck.c. */
static int gate_test_misses;

int mail_init(void)
{
	static bool done;

	if (!done) {
		const char *hook = getenv("MUGAI_TEST_OUTCHECK");

		if (hook && (hook[0] == '1' || hook[0] == '2') && !hook[1])
			gate_test_misses = hook[0] - '0';
		g_mime_init();
		/* Warm GLib caches that read files on first use (charset.alias,
		 * the local time zone) while files can still be opened. */
		(void)g_get_charset(NULL);
		g_time_zone_unref(g_time_zone_new_local());
		preload_gconv();
		if (cdr_init() < 0) /* AES zips then stay closed: a verdict, not a failure */
			g_warning("mugai: WinZip AES could not be prepared before the sandbox");
		done = true;
	}
	return charset_init();
}

static const char *const warning_names[] = {
	[GMIME_WARN_DUPLICATED_HEADER] = "duplicated header",
	[GMIME_WARN_DUPLICATED_PARAMETER] = "duplicated parameter",
	[GMIME_WARN_UNENCODED_8BIT_HEADER] = "unencoded 8-bit header",
	[GMIME_WARN_INVALID_CONTENT_TYPE] = "invalid Content-Type",
	[GMIME_WARN_INVALID_RFC2047_HEADER_VALUE] = "invalid RFC 2047 header value",
	[GMIME_WARN_MALFORMED_MULTIPART] = "multipart without parts",
	[GMIME_WARN_TRUNCATED_MESSAGE] = "truncated multipart (missing end boundary)",
	[GMIME_WARN_MALFORMED_MESSAGE] = "malformed message",
	[GMIME_CRIT_INVALID_HEADER_NAME] = "invalid header name",
	[GMIME_CRIT_CONFLICTING_HEADER] = "conflicting header",
	[GMIME_CRIT_CONFLICTING_PARAMETER] = "conflicting parameter",
	[GMIME_CRIT_MULTIPART_WITHOUT_BOUNDARY] = "multipart without boundary",
	[GMIME_WARN_INVALID_PARAMETER] = "invalid parameter",
	[GMIME_WARN_INVALID_ADDRESS_LIST] = "invalid address list",
	[GMIME_CRIT_NESTING_OVERFLOW] = "MIME nesting overflow",
	[GMIME_WARN_PART_WITHOUT_CONTENT] = "part without content",
	[GMIME_CRIT_PART_WITHOUT_HEADERS_OR_CONTENT] = "part without headers or content",
};

/* A repeated header with different values matters when it decides the
 * structure (what is rendered) or the sender; for others (Subject, To,
 * Received, ...) the first one is used and a warning recorded. */
static bool conflict_matters(const char *item)
{
	static const char *const names[] = { "Content-Type", "Content-Transfer-Encoding",
		"Content-Disposition", "MIME-Version", "From", "Sender" };

	for (size_t i = 0; item && i < MUGAI_ARRAY_LEN(names); i++)
		if (g_ascii_strncasecmp(item, names[i], strlen(names[i])) == 0 &&
		    (item[strlen(names[i])] == '\0' || item[strlen(names[i])] == ':'))
			return true;
	return !item;
}

/* Parser findings that make the structure ambiguous: we do not guess. */
static bool is_ambiguous(const mail_ctx_t *c, GMimeParserWarning w, const char *item)
{
	switch (w) {
	case GMIME_CRIT_CONFLICTING_HEADER:
		return conflict_matters(item);
	case GMIME_WARN_TRUNCATED_MESSAGE:
		return cfg_is(c->cfg, CFG_ON_TRUNCATED_MULTIPART, "quarantine");
	case GMIME_CRIT_INVALID_HEADER_NAME:
	case GMIME_CRIT_CONFLICTING_PARAMETER:
	case GMIME_CRIT_MULTIPART_WITHOUT_BOUNDARY:
	case GMIME_CRIT_NESTING_OVERFLOW:
	case GMIME_CRIT_PART_WITHOUT_HEADERS_OR_CONTENT:
		return true;
	default:
		return false;
	}
}

/* GMime quotes raw header bytes (folded continuation lines included): the
 * sender's text, so it goes through the writer: one line, cut on a
 * character boundary, links disarmed, quoted. */
static void warn_item(mail_ctx_t *c, const char *name, const char *item)
{
	buf_t b;

	buf_init(&b, WARN_TEXT_MAX);
	if (wr_line(&b, item, strlen(item), WARN_ITEM_CHARS) == 0)
		report_warn(c->rep, "%s: 「%s」", name, b.data ? b.data : "");
	else
		report_warn(c->rep, "%s", name);
	buf_free(&b);
}

static void on_warning(gint64 offset, GMimeParserWarning w, const gchar *item, gpointer data)
{
	mail_ctx_t *c = data;
	const char *name = (size_t)w < MUGAI_ARRAY_LEN(warning_names) && warning_names[w]
				   ? warning_names[w] : "parser warning";

	if (w == GMIME_WARN_UNENCODED_8BIT_HEADER || w == GMIME_WARN_INVALID_RFC2047_HEADER_VALUE)
		return; /* our own header decoder handles these losslessly */
	if (item && *item)
		warn_item(c, name, item);
	else
		report_warn(c->rep, "%s", name);
	if (w == GMIME_WARN_TRUNCATED_MESSAGE)
		c->rep->truncated_multipart = true;
	if (is_ambiguous(c, w, item)) {
		/* inside an attached message it withholds only that message
		 * (decided after the parse); a truncation is never attributed */
		if (w != GMIME_WARN_TRUNCATED_MESSAGE && w != GMIME_CRIT_NESTING_OVERFLOW &&
		    offset >= 0 && c->n_defects < MAIL_DEFECTS_MAX)
			c->defects[c->n_defects++] = offset;
		else
			c->quarantine = true;
	}
	if (w == GMIME_CRIT_NESTING_OVERFLOW)
		report_limit(c->rep, limit_table[LIM_MIME_DEPTH].name);
}

static GMimeMessage *parse(mail_ctx_t *c, const prescan_t *ps)
{
	GMimeParserOptions *po = g_mime_parser_options_new();
	GMimeStream *s = g_mime_stream_mem_new_with_buffer(ps->data, ps->len);
	GMimeParser *p = g_mime_parser_new_with_stream(s);
	GMimeMessage *m;

	g_mime_parser_options_set_warning_callback(po, on_warning, c);
	g_mime_parser_set_format(p, GMIME_FORMAT_MESSAGE);
	m = g_mime_parser_construct_message(p, po);
	g_object_unref(p);
	g_object_unref(s);
	g_mime_parser_options_free(po);
	return m;
}

static size_t header_bytes(GMimeObject *o)
{
	GMimeHeaderList *hl = g_mime_object_get_header_list(o);
	int n = hl ? g_mime_header_list_get_count(hl) : 0;
	size_t sum = 0;

	for (int i = 0; i < n; i++) {
		GMimeHeader *h = g_mime_header_list_get_header_at(hl, i);
		const char *name = g_mime_header_get_name(h);
		const char *v = g_mime_header_get_raw_value(h);

		sum += (name ? strlen(name) : 0) + (v ? strlen(v) : 0) + 2;
	}
	return sum;
}

static void limit_hit(mail_ctx_t *c, limit_id_t id)
{
	report_limit(c->rep, limit_table[id].name);
	c->quarantine = true;
}

/* Does a line of s start with a delimiter "--boundary" or a MIME header? */
static bool holds_parts(const char *s, const char *boundary)
{
	static const char *const heads[] = { "content-type:", "content-transfer-encoding:",
					     "content-disposition:" };
	size_t bl = boundary ? strlen(boundary) : 0;

	for (const char *l = s; l && *l; l = strchr(l, '\n'), l = l ? l + 1 : NULL) {
		if (bl && l[0] == '-' && l[1] == '-' && strncmp(l + 2, boundary, bl) == 0)
			return true;
		for (size_t i = 0; i < MUGAI_ARRAY_LEN(heads); i++)
			if (g_ascii_strncasecmp(l, heads[i], strlen(heads[i])) == 0)
				return true;
	}
	return false;
}

/* Parts placed after the close delimiter: GMime keeps them as epilogue,
 * other readers show them. The structure is ambiguous: quarantine. */
static void check_epilogue(mail_ctx_t *c, GMimeMultipart *mp)
{
	const char *epi = g_mime_multipart_get_epilogue(mp);

	if (epi && holds_parts(epi, g_mime_multipart_get_boundary(mp))) {
		report_warn(c->rep, "parts after the closing boundary");
		c->quarantine = true;
	}
}

/* Count parts and depth over the whole tree (unchosen alternatives too). */
static void count_tree(mail_ctx_t *c, GMimeObject *o, int depth)
{
	if (c->quarantine)
		return;
	if (depth > lim(c->lim, LIM_MIME_DEPTH))
		return limit_hit(c, LIM_MIME_DEPTH);
	if (++c->rep->parts > (size_t)lim(c->lim, LIM_MIME_PARTS))
		return limit_hit(c, LIM_MIME_PARTS);
	if (header_bytes(o) > (size_t)lim(c->lim, LIM_HEADER_BYTES))
		return limit_hit(c, LIM_HEADER_BYTES);
	if (GMIME_IS_MULTIPART(o)) {
		int n = g_mime_multipart_get_count(GMIME_MULTIPART(o));

		check_epilogue(c, GMIME_MULTIPART(o));
		for (int i = 0; i < n && !c->quarantine; i++)
			count_tree(c, g_mime_multipart_get_part(GMIME_MULTIPART(o), i), depth + 1);
	} else if (GMIME_IS_MESSAGE_PART(o)) {
		GMimeMessage *m = g_mime_message_part_get_message(GMIME_MESSAGE_PART(o));
		GMimeObject *b = m ? g_mime_message_get_mime_part(m) : NULL;

		if (b)
			count_tree(c, b, depth + 1);
		else
			c->rep->parts_total++;
	} else {
		c->rep->parts_total++;
	}
}

static void set_display(mail_ctx_t *c, const hdrset_t *h)
{
	whose_display(c->rep, h);
}

/* A withheld message whose header the parser never read (a limit in the
 * prescan, an unparseable message): read From, To, Cc, Subject and Date
 * with the bounded pass, for the notice and the rebuilt headers. */
static int whose_fallback(mail_ctx_t *c, const char *in, size_t len, hdrset_t *h)
{
	if (!c->quarantine || h->from || h->subject)
		return 0;
	hdrset_free(h);
	if (whose_collect(c, in, len, h) < 0)
		return -1;
	set_display(c, h);
	return 0;
}

static void decide(mail_ctx_t *c)
{
	mail_report_t *r = c->rep;

	r->decoding_losses = c->cs.losses;
	r->parts_rendered = c->leaves_rendered;
	r->parts_listed = c->leaves_listed;
	if (c->quarantine)
		r->verdict = VERDICT_QUARANTINED;
	else if (r->n_removed || r->n_attached || r->links_defanged || r->links_removed || r->html_converted ||
		 r->decoding_losses || r->n_warnings || r->n_limits)
		r->verdict = VERDICT_SANITIZED;
	else
		r->verdict = VERDICT_CLEAN;
}

/* Notice + body text → the rebuilt message. */
/* The Subject tag of a release of sanitized files (mail_facts_t). */
#define RELEASE_TAG_JA "【承認済・無害化ファイル】"
#define RELEASE_TAG_EN "[RELEASED: SANITIZED FILES] "

/* h->subject = tag + subject (tag alone when there is none). */
static int subject_prefix(hdrset_t *h, const char *tag)
{
	char *s = g_strdup_printf("%s%s", tag, h->subject ? h->subject : "");

	free(h->subject);
	h->subject = s ? strdup(s) : NULL;
	g_free(s);
	return h->subject ? 0 : -1;
}

static int compose(mail_ctx_t *c, hdrset_t *h, const buf_t *body, buf_t *out)
{
	bool q = c->rep->verdict == VERDICT_QUARANTINED;
	buf_t text;
	int rc;

	buf_init(&text, (size_t)lim(c->lim, LIM_TEXT_SIZE) + NOTICE_TEXT_MAX);
	rc = notice_build(c->cfg, c->rep, &text);
	if (rc == 0 && !q && body->len)
		rc = buf_append(&text, body->data, body->len);
	if (rc == 0 && !q && c->truncated)
		rc = buf_printf(&text, "\n[%s]\n", c->ja ? "本文が上限 (text_size_max) を超えたため、以降を省略しました。"
						  : "The text exceeded text_size_max; the rest was left out.");
	if (rc == 0 && q && h->subject)
		rc = subject_prefix(h, c->ja ? "[無害化:隔離] " : "[quarantined] ");
	if (rc == 0 && c->rep->release_by[0])
		rc = subject_prefix(h, c->ja ? RELEASE_TAG_JA : RELEASE_TAG_EN);
	if (rc == 0)
		rc = build_message(h, &(build_tags_t){ report_verdict_name(c->rep->verdict),
						       c->rep->id, c->rep },
				   text.data ? text.data : "", text.len,
				   q ? NULL : c->out_parts, q ? 0 : c->n_out_parts, out);
	buf_free(&text);
	return rc;
}

static void ctx_init(mail_ctx_t *c, const cfg_t *cfg, mail_report_t *rep)
{
	memset(c, 0, sizeof(*c));
	c->cfg = cfg;
	c->lim = &cfg->lim;
	c->rep = rep;
	c->link_style = (link_style_t)cfg_int(cfg, CFG_LINK_STYLE);
	c->ja = !cfg_is(cfg, CFG_NOTICE_LANG, "en");
}

static int process(mail_ctx_t *c, GMimeMessage *m, size_t len, hdrset_t *h, buf_t *body)
{
	GMimeObject *top = g_mime_message_get_mime_part(m);

	if (c->n_defects)
		walk_attribute_defects(c, GMIME_OBJECT(m), len);
	if (hdrset_collect(c, GMIME_OBJECT(m), h) < 0)
		return -1;
	set_display(c, h);
	if (!c->quarantine && top)
		count_tree(c, top, 1);
	if (!c->quarantine && top && walk_object(c, top, 1, body) < 0)
		return -1;
	return 0;
}

/* ---- the output gate (issue #8): the independent check of the final
 * message, and the fail-closed rebuild on a hit ---- */

static outcheck_opts_t gate_opts_id(const cfg_t *cfg, const char *id)
{
	return (outcheck_opts_t){
		.plain_links = cfg_int(cfg, CFG_LINK_STYLE) == LINK_PLAIN,
		.en = cfg_is(cfg, CFG_NOTICE_LANG, "en"),
		.custom_notice = cfg->notice_text && *cfg->notice_text,
		.console_url = cfg_str(cfg, CFG_CONSOLE_URL),
		.id = id,
	};
}

static outcheck_opts_t gate_opts(const cfg_t *cfg, const mail_report_t *rep)
{
	return gate_opts_id(cfg, rep->id);
}

/* 1 when out passes; 0 on a hit (or no memory: fail closed). */
static bool gate_passes(const outcheck_opts_t *o, const buf_t *out, outcheck_result_t *res,
			int pass)
{
	int rc = outcheck_message(out->data, out->len, o, res);

	if (rc == 0 && pass < gate_test_misses) {
		res->rule = OUTCHECK_UNC;
		return false;
	}
	if (rc < 0)
		res->rule = OUTCHECK_FORMAT;
	return rc == 0;
}

bool mail_output_passes(const cfg_t *cfg, const char *id, const buf_t *out, int pass)
{
	outcheck_opts_t o = gate_opts_id(cfg, id);
	outcheck_result_t res;

	return gate_passes(&o, out, &res, pass);
}

/* The notice alone, from a report that holds no sender text (no item
 * names, no warnings), under the original headers (Subject marked). */
static int gate_notice_only(const cfg_t *cfg, const hdrset_t *h, bool prefixed,
			    const mail_report_t *rep, buf_t *out)
{
	bool ja = !cfg_is(cfg, CFG_NOTICE_LANG, "en");
	hdrset_t hq = h ? *h : (hdrset_t){ 0 };
	mail_report_t tmp;
	char *subj = NULL;
	buf_t text;
	int rc;

	report_init(&tmp, rep->id);
	tmp.verdict = VERDICT_QUARANTINED;
	memcpy(tmp.output_check, rep->output_check, sizeof(tmp.output_check));
	snprintf(tmp.release_by, sizeof(tmp.release_by), "%s", rep->release_by);
	snprintf(tmp.release_at, sizeof(tmp.release_at), "%s", rep->release_at);
	if (hq.subject && !prefixed) {
		/* compose() tagged a release already: the quarantine mark after it */
		const char *tag = !rep->release_by[0] ? "" : ja ? RELEASE_TAG_JA : RELEASE_TAG_EN;
		const char *rest = strncmp(hq.subject, tag, strlen(tag)) == 0
				   ? hq.subject + strlen(tag) : hq.subject;

		subj = g_strdup_printf("%s%s%s", tag, ja ? "[無害化:隔離] " : "[quarantined] ", rest);
		hq.subject = subj;
	}
	buf_init(&text, NOTICE_TEXT_MAX);
	buf_reset(out);
	rc = notice_build(cfg, &tmp, &text);
	if (rc == 0)
		rc = build_message(&hq, &(build_tags_t){ "quarantined", rep->id, NULL },
				   text.data ? text.data : "", text.len, NULL, 0, out);
	buf_free(&text);
	g_free(subj);
	report_free(&tmp);
	return rc;
}


/* Last resort: fixed headers and fixed words, nothing configurable but the
 * id (validated by report_init's caller; only [0-9a-z-] in practice). */
static int gate_fixed(const cfg_t *cfg, const mail_report_t *rep, buf_t *out)
{
	bool ja = !cfg_is(cfg, CFG_NOTICE_LANG, "en");
	hdrset_t h = { 0 };
	buf_t text;
	int rc;

	buf_init(&text, WITHHELD_TEXT_MAX);
	buf_reset(out);
	h.subject = ja ? "配信を保留したメール" : "message withheld";
	rc = ja ? buf_printf(&text, "%s\n【隔離】このメールは安全に変換できない内容を含むため、本文を配信せず隔離しました。\n"
				    "原本が必要な場合は、管理者にお問い合わせください。\n%s\n", FIXED_RULE_JA, FIXED_RULE_JA)
		: buf_printf(&text, "%s\n[QUARANTINED] This message could not be made safe; its content was withheld.\n"
				    "To obtain the original, ask your administrator.\n%s\n", FIXED_RULE_EN, FIXED_RULE_EN);
	if (rc == 0)
		rc = build_message(&h, &(build_tags_t){ "quarantined", rep->id, NULL }, text.data,
				   text.len, NULL, 0, out);
	buf_free(&text);
	return rc;
}

int mail_output_gate(const cfg_t *cfg, const hdrset_t *h, mail_report_t *rep, buf_t *out)
{
	outcheck_opts_t o = gate_opts(cfg, rep);
	outcheck_result_t res;
	bool prefixed = rep->verdict == VERDICT_QUARANTINED;

	if (gate_passes(&o, out, &res, 0))
		return 0;
	snprintf(rep->output_check, sizeof(rep->output_check), "output-check:%s",
		 outcheck_rule_name(res.rule));
	rep->verdict = VERDICT_QUARANTINED;
	if (gate_notice_only(cfg, h, prefixed, rep, out) == 0 && gate_passes(&o, out, &res, 1))
		return 0;
	if (gate_fixed(cfg, rep, out) == 0 && gate_passes(&o, out, &res, 2))
		return 0;
	return -1; /* the caller withholds the message */
}

/* What mugaid's session learned (mail_facts_t) into the report. -1: no
 * memory. A virus withholds the message unparsed (its header is read by
 * the bounded pass for the notice). */
static int apply_facts(mail_ctx_t *c, const mail_facts_t *f)
{
	mail_report_t *r = c->rep;

	if (!f)
		return 0;
	snprintf(r->antivirus, sizeof(r->antivirus), "%s", f->av);
	if (f->virus[0] && !(r->virus = strdup(f->virus)))
		return -1;
	if (f->av_error[0] && !(r->antivirus_error = strdup(f->av_error)))
		return -1;
	if (f->first_contact == 1)
		r->sender_warn |= SENDER_W_FIRST;
	if (f->release_by[0] && f->release_at[0]) {
		snprintf(r->release_by, sizeof(r->release_by), "%s", f->release_by);
		snprintf(r->release_at, sizeof(r->release_at), "%s", f->release_at);
	}
	if (r->virus)
		c->quarantine = true;
	return 0;
}

int mail_sanitize(const cfg_t *cfg, const char *id, const char *in, size_t len,
		  buf_t *out, mail_report_t *rep)
{
	return mail_sanitize_env(cfg, id, NULL, in, len, out, rep);
}

int mail_sanitize_env(const cfg_t *cfg, const char *id, const mail_env_t *env,
		      const char *in, size_t len, buf_t *out, mail_report_t *rep)
{
	mail_ctx_t c;
	prescan_t ps;
	hdrset_t h;
	buf_t body;
	GMimeMessage *m = NULL;
	int rc = -1, pre;

	report_init(rep, id);
	ctx_init(&c, cfg, rep);
	memset(&h, 0, sizeof(h));
	memset(&ps, 0, sizeof(ps));
	buf_init(&body, (size_t)lim(c.lim, LIM_TEXT_SIZE));
	if (env && env->sender && *env->sender && !(rep->envelope_sender = strdup(env->sender)))
		goto out;
	c.conv = env ? env->conv : NULL;
	if (env) {
		c.ppap_collect = env->ppap_collect;
		c.ppap_pw = env->ppap_pw;
		c.n_ppap_pw = env->ppap_pw ? env->n_ppap_pw : 0;
		if (env->ppap_of)
			snprintf(rep->ppap_of, sizeof(rep->ppap_of), "%s", env->ppap_of);
	}
	if (apply_facts(&c, env ? env->facts : NULL) < 0)
		goto out;
	if (c.quarantine) {
		pre = 1; /* a virus: not parsed */
	} else if (env && env->too_big) {
		/* only the first message_size_max bytes are here: withhold */
		report_limit(rep, limit_table[LIM_MESSAGE_SIZE].name);
		c.quarantine = true;
		pre = 1;
	} else {
		pre = mail_prescan(in, len, c.lim, &ps, rep);
	}
	if (pre < 0)
		goto out;
	if (pre == 1)
		c.quarantine = true;
	else if (!(m = parse(&c, &ps)))
		c.quarantine = true, report_warn(rep, "not a parseable message");
	if (m && process(&c, m, ps.len, &h, &body) < 0)
		goto out;
	if (whose_fallback(&c, in, len, &h) < 0)
		goto out;
	rep->header_unreadable = !h.from;
	sender_check(&c, m, &h);
	c.truncated = body.capped || report_has_limit(rep, limit_table[LIM_TEXT_SIZE].name);
	if (c.truncated)
		report_limit(rep, limit_table[LIM_TEXT_SIZE].name);
	decide(&c);
	rep->ppap_candidates = c.ppap_collect ? c.ppap_collect->n : 0;
	rc = compose(&c, &h, &body, out);
	if (rc == 0)
		rc = mail_output_gate(cfg, &h, rep, out);
out:
	for (size_t i = 0; i < c.n_out_parts; i++)
		g_object_unref(c.out_parts[i]);
	free(c.out_parts);
	if (m)
		g_object_unref(m);
	hdrset_free(&h);
	buf_free(&body);
	prescan_free(&ps);
	return rc;
}

/* console_url set: the clerk may type the password on the message's
 * console page (the notice's console line, as notice.c writes it). */
static int ppap_expired_console(const cfg_t *cfg, const char *id, buf_t *t)
{
	const char *url = cfg_str(cfg, CFG_CONSOLE_URL);
	char sh[MUGAI_ID_SHORT_LEN + 1];

	if (!url || !*url || !mugai_id_valid(id))
		return 0;
	mugai_id_short(id, sh);
	return buf_printf(t, "コンソールのこのメールのページで、パスワードを入力してご自身で無害化する"
			  "こともできます。\n取り出しの依頼: %s/q/%s（受付番号 %s）\n", url, id, sh);
}

int mail_ppap_expired_message(const cfg_t *cfg, const char *id, buf_t *out)
{
	bool ja = !cfg_is(cfg, CFG_NOTICE_LANG, "en");
	long long win = lim(&cfg->lim, LIM_PPAP_WINDOW);
	mail_report_t rep;
	hdrset_t h;
	buf_t t, text;
	int rc;

	report_init(&rep, id);
	memset(&h, 0, sizeof(h));
	buf_init(&t, NOTICE_TEXT_MAX);
	buf_init(&text, NOTICE_TEXT_MAX * 2);
	rc = ja ? buf_printf(&t, "%s\n【無害化できませんでした】受付番号 %s のパスワード付きZIPは、"
			     "%lld 分以内にパスワードのメールが届かなかったため、無害化できませんでした。\n"
			     "ファイルが必要な場合は、差出人からパスワードを聞き、受付番号 %s を添えて"
			     "管理者にお伝えください。管理者がパスワードを入力して無害化し、お届けします。\n",
			     FIXED_RULE_JA, id, win, id)
		: buf_printf(&t, "The password-protected zip of message %s could not be sanitized: no "
			     "password mail came within %lld minutes.\nIf you need the files, ask the "
			     "sender for the password and give it with the id %s to your administrator.\n",
			     id, win, id);
	if (rc == 0 && ja)
		rc = ppap_expired_console(cfg, id, &t);
	if (rc == 0 && ja)
		rc = buf_printf(&t, "%s\n", FIXED_RULE_JA);
	if (rc == 0)
		rc = wr_clean(&text, t.data, t.len, WR_TRUSTED);
	h.from = internet_address_list_parse(NULL, cfg_str(cfg, CFG_NOTICE_FROM));
	h.subject = strdup(ja ? "パスワード付きZIPを無害化できませんでした" : "password-protected zip not sanitized");
	if (rc == 0 && h.subject)
		rc = build_message(&h, &(build_tags_t){ "ppap-expired", id, &rep }, text.data,
				   text.len, NULL, 0, out);
	else
		rc = -1;
	if (rc == 0)
		rc = mail_output_gate(cfg, &h, &rep, out);
	hdrset_free(&h);
	buf_free(&t);
	buf_free(&text);
	report_free(&rep);
	return rc;
}

int mail_failure_message(const cfg_t *cfg, const char *id, const char *reason,
			 size_t orig_size, buf_t *out, mail_report_t *rep)
{
	return mail_failure_message_env(cfg, id, NULL, reason, orig_size, out, rep);
}

int mail_failure_message_env(const cfg_t *cfg, const char *id, const char *sender,
			     const char *reason, size_t orig_size, buf_t *out,
			     mail_report_t *rep)
{
	return mail_failure_message_facts(cfg, id, sender, NULL, reason, orig_size, out, rep);
}

int mail_failure_message_facts(const cfg_t *cfg, const char *id, const char *sender,
			       const mail_facts_t *facts, const char *reason, size_t orig_size,
			       buf_t *out, mail_report_t *rep)
{
	mail_ctx_t c;
	hdrset_t h;
	int rc;

	report_init(rep, id);
	/* the original is not looked at here: whose it is, only by the envelope */
	rep->header_unreadable = true;
	if (sender && *sender && !(rep->envelope_sender = strdup(sender)))
		return -1;
	ctx_init(&c, cfg, rep);
	if (apply_facts(&c, facts) < 0)
		return -1;
	memset(&h, 0, sizeof(h));
	report_limit(rep, reason);
	report_warn(rep, "original of %zu bytes withheld without parsing", orig_size);
	c.quarantine = true;
	decide(&c);
	h.from = internet_address_list_parse(NULL, cfg_str(cfg, CFG_NOTICE_FROM));
	h.subject = strdup(c.ja ? "配信を保留したメール" : "message withheld");
	rc = h.subject ? compose(&c, &h, &(buf_t){ 0 }, out) : -1;
	if (rc == 0)
		rc = mail_output_gate(cfg, &h, rep, out);
	hdrset_free(&h);
	return rc;
}
