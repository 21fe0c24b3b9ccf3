/*
 * attach.c — attachments through file CDR (config attachments = sanitize):
 * decode the part, run cdr_sanitize() on its bytes, and either keep the
 * rebuilt file for the output message (under its decoded name, with the
 * extension of its new type) or list it as blocked with CDR's reason.
 * RFC 2183 (Content-Disposition), RFC 2231 (filenames, via GMime).
 *
 * Legacy documents (legacy_policy = convert) go through the two passes of
 * conv.h when the front runs them: a request in the first, the jail's PDF
 * flattened here as hostile input in the second.
 *
 * SECURITY: sanitizer worker. Only CDR's output (rebuilt from decoded
 * values) is attached; the original part's bytes never reach the output.
 */
#include "mail/mail_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cdr/cdr.h"

bool attach_wanted(const mail_ctx_t *c, GMimeObject *o, removal_t why, bool named)
{
	if (!cfg_is(c->cfg, CFG_ATTACHMENTS, "sanitize") || !GMIME_IS_PART(o))
		return false;
	return why == RM_ATTACHMENT || (why == RM_IMAGE && named);
}

/* One action: the Japanese sentence with its detail quoted (notice_lang
 * ja), or CDR's "code: detail" text (en). */
static int action_put(buf_t *b, bool ja, const cdr_action_t *a)
{
	int rc = ja ? cdr_words_append(a->text, false, b) : buf_puts(b, a->text);

	if (rc == 0 && a->count > 1)
		rc = ja ? buf_printf(b, "（%u件）", a->count) : buf_printf(b, " (×%u)", a->count);
	return rc;
}

static char *actions_text(const mail_ctx_t *c, const cdr_result_t *r)
{
	buf_t b;

	buf_init(&b, ACTIONS_TEXT_MAX);
	for (size_t i = 0; i < r->nactions; i++) {
		int rc = buf_puts(&b, i ? (c->ja ? "。" : "; ") : "");

		if (rc == 0)
			rc = action_put(&b, c->ja, &r->actions[i]);
		if (rc < 0) {
			b.max += 8; /* room for the ellipsis past the cap */
			buf_rtrim(&b, "; ");
			if (buf_puts(&b, " …") < 0)
				break;
			break;
		}
	}
	return buf_steal(&b, NULL);
}

/* RFC 2231 in UTF-8 only (GMime would pick the smallest charset that fits,
 * which the output check does not read). */
static void utf8_param(GMimeParamList *list, const char *name)
{
	GMimeParam *p = list ? g_mime_param_list_get_parameter(list, name) : NULL;

	if (p)
		g_mime_param_set_charset(p, "utf-8");
}

static GMimeObject *make_part(const mail_ctx_t *c, const cdr_result_t *r, const char *name)
{
	GMimeContentType *ct = g_mime_content_type_parse(NULL, cdr_type_mime(r->out_type));
	GMimePart *part = g_mime_part_new_with_type(g_mime_content_type_get_media_type(ct),
						    g_mime_content_type_get_media_subtype(ct));
	GMimeStream *s = g_mime_stream_mem_new_with_buffer(r->out.data ? r->out.data : "", r->out.len);
	GMimeDataWrapper *w = g_mime_data_wrapper_new_with_stream(s, GMIME_CONTENT_ENCODING_DEFAULT);

	if (g_mime_content_type_is_type(ct, "text", "*"))
		g_mime_object_set_content_type_parameter(GMIME_OBJECT(part), "charset",
							 cfg_is(c->cfg, CFG_TEXT_OUTPUT_CHARSET, "cp932")
							 ? "Shift_JIS" : "utf-8");
	g_mime_part_set_content(part, w);
	g_mime_part_set_content_encoding(part, GMIME_CONTENT_ENCODING_BASE64);
	g_mime_object_set_disposition(GMIME_OBJECT(part), "attachment");
	g_mime_part_set_filename(part, name);
	utf8_param(g_mime_content_disposition_get_parameters(
			   g_mime_object_get_content_disposition(GMIME_OBJECT(part))), "filename");
	utf8_param(g_mime_content_type_get_parameters(g_mime_object_get_content_type(GMIME_OBJECT(part))),
		   "name");
	g_object_unref(w);
	g_object_unref(s);
	g_object_unref(ct);
	return GMIME_OBJECT(part);
}

/* The name with its new extension passes the writer again: the extension
 * could complete a host the writer did not see ("…//詑詑" + ".txt"). */
static int final_name(char *name, size_t size)
{
	buf_t b;
	int rc;

	buf_init(&b, size - 1);
	rc = wr_line(&b, name, strlen(name), 0);
	if (rc == 0)
		snprintf(name, size, "%s", b.data ? b.data : "");
	buf_free(&b);
	return rc;
}

static int keep_output(mail_ctx_t *c, const cdr_result_t *r, const char *name,
		       const char *mime, size_t size)
{
	char out_name[ATTACH_NAME_MAX];
	attached_item_t it = { 0 };
	GMimeObject **parts;

	if (cdr_output_name(name ? name : "attachment", r->out_type, out_name, sizeof(out_name)) < 0 ||
	    final_name(out_name, sizeof(out_name)) < 0)
		snprintf(out_name, sizeof(out_name), "attachment.%s",
			 cdr_type_ext(r->out_type) ? cdr_type_ext(r->out_type) : "bin");
	parts = realloc(c->out_parts, (c->n_out_parts + 1) * sizeof(*parts));
	if (!parts)
		return -1;
	c->out_parts = parts;
	c->out_parts[c->n_out_parts++] = make_part(c, r, out_name);
	it.filename = name ? strdup(name) : NULL;
	it.content_type = strdup(mime);
	it.size = size;
	it.out_filename = strdup(out_name);
	it.out_type = strdup(r->out_type);
	it.out_size = r->out.len;
	it.actions = actions_text(c, r);
	return report_attach(c->rep, &it);
}

/* A blocked file: CDR's reason as a Japanese sentence when notice_lang is ja. */
static int report_blocked(mail_ctx_t *c, const cdr_result_t *r, const char *name,
			  const char *mime, size_t size)
{
	const char *reason = r->reason[0] ? r->reason : "internal-error";
	buf_t b;
	int rc;

	buf_init(&b, ACTIONS_TEXT_MAX);
	if (c->ja && cdr_words_append(reason, true, &b) == 0 && b.data)
		reason = b.data;
	rc = report_remove(c->rep, name, mime, size, RM_BLOCKED, reason);
	buf_free(&b);
	return rc;
}

/* Replace r's verdict by a block with this reason; a legacy limit
 * ("limit:legacy_time_max: …") is also named in the report's limits_hit. */
static void block(mail_ctx_t *c, cdr_result_t *r, const char *reason)
{
	char name[64];
	size_t n;

	r->verdict = CDR_BLOCKED;
	r->convert = false;
	snprintf(r->reason, sizeof(r->reason), "%s", reason);
	if (strncmp(reason, "limit:legacy_", 13) != 0)
		return;
	n = strcspn(reason + 6, ":");
	if (n < sizeof(name)) {
		memcpy(name, reason + 6, n);
		name[n] = '\0';
		if (limit_find(name) >= 0)
			report_limit(c->rep, name);
	}
}

/* A legacy document CDR asked to convert (conv.h). First pass: a request
 * (the verdict stays legacy-not-converted); second pass: the n-th answer,
 * flattened here, or its reason. Past legacy_message_max: blocked. */
static int attach_convert(mail_ctx_t *c, const char *name, const GByteArray *ba,
			  cdr_result_t *r)
{
	size_t k = c->n_conv++;
	const conv_item_t *a;
	char why[sizeof(r->reason)], sum[sizeof(a->sum)];

	if (k >= (size_t)lim(c->lim, LIM_LEGACY_MESSAGE)) {
		snprintf(why, sizeof(why), "limit:legacy_message_max: %s", cdr_legacy_label(r->type));
		block(c, r, why);
		return 0;
	}
	if (!c->conv->answered)
		return conv_add(c->conv, r->type, ba->data, ba->len,
				(size_t)lim(c->lim, LIM_FILE_SIZE), NULL);
	a = k < c->conv->n ? &c->conv->items[k] : NULL;
	if (!a || strcmp(a->type, r->type) != 0 || conv_sum(ba->data, ba->len, sum) < 0 ||
	    strcmp(sum, a->sum) != 0) { /* the passes diverged: never another's PDF */
		block(c, r, "internal-error");
		return 0;
	}
	if (a->reason[0]) {
		block(c, r, a->reason);
		return 0;
	}
	cdr_result_free(r);
	return cdr_sanitize_converted(c->cfg, name, a->type, ba->len, a->data.data, a->data.len, r);
}

/* PPAP: a zip opened with a candidate is counted; an encrypted zip that
 * stays closed (no candidates, or none fits) waits for its password mail
 * when ppap_window is on, and is named in the notice. */
static int ppap_note(mail_ctx_t *c, const cdr_result_t *r, const char *name)
{
	long long window = lim(c->lim, LIM_PPAP_WINDOW);

	for (size_t i = 0; r->verdict == CDR_SANITIZED && i < r->nactions; i++)
		if (strcmp(r->actions[i].text, "zip-decrypted") == 0) {
			c->rep->ppap_opened++;
			return 0;
		}
	if (r->verdict == CDR_SANITIZED || !window || !r->type || strcmp(r->type, "zip") != 0 ||
	    (strcmp(r->reason, "encrypted") != 0 && strcmp(r->reason, "ppap-wrong-password") != 0))
		return 0;
	if (c->rep->ppap_of[0]) { /* pairing: still closed, already waiting */
		c->rep->ppap_waiting++;
		return 0;
	}
	return report_ppap_wait(c->rep, name, window);
}

int attach_sanitize(mail_ctx_t *c, GMimePart *p, const char *name, const char *mime)
{
	GByteArray *ba = mail_part_decode(c, p);
	cdr_result_t r;
	int rc;

	if (c->quarantine) {
		g_byte_array_unref(ba);
		return 0;
	}
	rc = cdr_sanitize_pw(c->cfg, name, ba->data, ba->len, CDR_MODE_DEFAULT, c->ppap_pw,
			     c->n_ppap_pw, &r);
	if (rc == 0 && r.convert && c->conv)
		rc = attach_convert(c, name, ba, &r);
	if (rc == 0)
		rc = ppap_note(c, &r, name);
	if (r.verdict == CDR_SANITIZED && rc == 0)
		rc = keep_output(c, &r, name, mime, ba->len);
	else
		rc = report_blocked(c, &r, name, mime, ba->len);
	cdr_result_free(&r);
	g_byte_array_unref(ba);
	return rc;
}
