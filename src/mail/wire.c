/*
 * wire.c — encode/decode of the worker result record (see wire.h).
 *
 * SECURITY: decode is a straight line of bounds checks that accepts only
 * at the end; every length is checked against what remains.
 */
#include "mail/wire.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cdr/cdr.h"
#include "common/rec.h"
#include "common/utf8.h"
#include "mail/mail.h"
#include "mail/outcheck.h"

#define WIRE_MAGIC 0x3457474dU /* "MGW4" little-endian */

void mail_result_init(mail_result_t *r)
{
	memset(r, 0, sizeof(*r));
	buf_init(&r->msg, UNCAPPED_BY(LIM_RESULT_SIZE)); /* decoded from a capped blob */
	buf_init(&r->report, UNCAPPED_BY(LIM_RESULT_SIZE));
	conv_set_init(&r->conv);
}

void mail_result_free(mail_result_t *r)
{
	buf_free(&r->msg);
	buf_free(&r->report);
	free(r->from);
	free(r->subject);
	r->from = r->subject = NULL;
	conv_set_free(&r->conv);
}

/* Display text: at most WIRE_STR_MAX bytes, cut at a character boundary,
 * every control character written as a space (the receiver refuses them). */
static int put_str(buf_t *b, const char *s)
{
	size_t n = s ? strlen(s) : 0, start;

	if (n > WIRE_STR_MAX)
		n = WIRE_STR_MAX;
	while (n && !utf8_valid(s, n)) /* never cut inside a character */
		n--;
	start = b->len + sizeof(uint32_t);
	if (rec_put_bytes(b, s ? s : "", n) < 0)
		return -1;
	for (size_t i = start; i < b->len; i++)
		if ((unsigned char)b->data[i] < 0x20 || b->data[i] == 0x7f)
			b->data[i] = ' ';
	return 0;
}

/* The conversion requests: none for a quarantined message. */
static int put_conv(buf_t *b, const mail_report_t *rep, const conv_set_t *cv)
{
	size_t n = cv && rep->verdict != VERDICT_QUARANTINED ? cv->n : 0;
	int rc = rec_put_u32(b, (uint32_t)n);

	for (size_t i = 0; rc == 0 && i < n; i++) {
		rc = put_str(b, cv->items[i].type);
		if (rc == 0)
			rc = rec_put_u64(b, cv->items[i].data.len);
		if (rc == 0)
			rc = buf_append(b, cv->items[i].data.data ? cv->items[i].data.data : "",
					cv->items[i].data.len);
	}
	return rc;
}

static int encode(const buf_t *msg, const mail_report_t *rep, const conv_set_t *cv,
		  const buf_t *json, buf_t *out)
{
	int rc = rec_put_u32(out, WIRE_MAGIC);

	if (rc == 0) rc = rec_put_u32(out, (uint32_t)rep->verdict);
	if (rc == 0) rc = rec_put_u64(out, msg->len);
	if (rc == 0) rc = buf_append(out, msg->data, msg->len);
	if (rc == 0) rc = put_str(out, rep->from);
	if (rc == 0) rc = put_str(out, rep->subject);
	if (rc == 0) rc = put_str(out, rep->output_check);
	if (rc == 0) rc = rec_put_u32(out, rep->verdict == VERDICT_QUARANTINED ? 0 : (uint32_t)rep->ppap_waiting);
	if (rc == 0) rc = rec_put_u32(out, rep->verdict == VERDICT_QUARANTINED ? 0 : (uint32_t)rep->ppap_opened);
	if (rc == 0) rc = rec_put_u32(out, (uint32_t)rep->ppap_candidates);
	if (rc == 0) rc = put_conv(out, rep, cv);
	if (rc == 0) rc = rec_put_u64(out, json->len);
	if (rc == 0) rc = buf_append(out, json->data, json->len);
	return rc;
}

int mail_wire_run(const cfg_t *cfg, const char *id, const char *in, size_t len, buf_t *out)
{
	return mail_wire_run_env(cfg, id, NULL, in, len, out);
}

int mail_wire_run_env(const cfg_t *cfg, const char *id, const mail_env_t *env, const char *in,
		      size_t len, buf_t *out)
{
	buf_t msg, json;
	mail_report_t rep;
	int rc;

	buf_init(&msg, UNCAPPED_BY(LIM_RESULT_SIZE)); /* the parent reads at most that */
	buf_init(&json, (size_t)lim(&cfg->lim, LIM_REPORT_SIZE));
	rc = mail_sanitize_env(cfg, id, env, in, len, &msg, &rep);
	if (rc == 0)
		rc = report_json(&rep, &json);
	if (rc == 0)
		rc = encode(&msg, &rep, env && env->conv && !env->conv->answered ? env->conv : NULL,
			    &json, out);
	report_free(&rep);
	buf_free(&msg);
	buf_free(&json);
	return rc;
}

/* Display text from the worker: valid UTF-8 cleaned of every control
 * character (NUL would silently cut the string; CR, LF and the rest are
 * refused); NULL for "". */
static int get_str(rec_reader_t *r, char **out)
{
	const char *p;
	size_t n;

	if (rec_get_bytes(r, WIRE_STR_MAX, &p, &n) < 0 || !rec_text_ok(p, n))
		return -1;
	*out = NULL;
	return n && !(*out = strndup(p, n)) ? -1 : 0;
}

/* "" or "output-check:<known rule>" (not "pass"), and then quarantined. */
static int get_output_check(rec_reader_t *r, verdict_t v, char out[32])
{
	static const char pfx[] = "output-check:";
	char *s = NULL;
	outcheck_rule_t rule;
	int rc = -1;

	if (get_str(r, &s) < 0)
		return -1;
	if (!s) {
		out[0] = '\0';
		return 0;
	}
	rule = strncmp(s, pfx, sizeof(pfx) - 1) == 0 ? outcheck_rule_from_name(s + sizeof(pfx) - 1)
						    : OUTCHECK__COUNT;
	if (rule != OUTCHECK__COUNT && rule != OUTCHECK_PASS && v == VERDICT_QUARANTINED &&
	    strlen(s) < 32) {
		memcpy(out, s, strlen(s) + 1);
		rc = 0;
	}
	free(s);
	return rc;
}

/* The conversion requests: legacy types only, never with quarantined. */
static int get_conv(rec_reader_t *r, verdict_t v, conv_set_t *cv)
{
	uint32_t count;
	uint64_t len;
	const char *type, *data;
	size_t tn;
	char t[8];

	if (rec_get_u32(r, &count) < 0 || (count && v == VERDICT_QUARANTINED) ||
	    count > r->left / 12)
		return -1;
	for (uint32_t i = 0; i < count; i++) {
		if (rec_get_bytes(r, sizeof(t) - 1, &type, &tn) < 0 || !rec_text_ok(type, tn))
			return -1; /* (a NUL inside would cut the type short) */
		memcpy(t, type, tn);
		t[tn] = '\0';
		if (!cdr_legacy_type(t) || rec_get_u64(r, &len) < 0 || rec_view(r, len, &data) < 0 ||
		    conv_add(cv, t, data, (size_t)len, (size_t)len, NULL) < 0)
			return -1;
	}
	return 0;
}

/* The PPAP counts: none for a quarantined message, at most one per MIME
 * part (mime_parts' cap). */
static int get_ppap(rec_reader_t *r, verdict_t v, mail_result_t *res)
{
	if (rec_get(r, &res->ppap_waiting, 4) < 0 || rec_get(r, &res->ppap_opened, 4) < 0 ||
	    rec_get(r, &res->ppap_candidates, 4) < 0)
		return -1;
	if (res->ppap_waiting > WIRE_PPAP_MAX || res->ppap_opened > WIRE_PPAP_MAX ||
	    res->ppap_candidates > PPAP_CANDS_CAP)
		return -1;
	return v == VERDICT_QUARANTINED && (res->ppap_waiting || res->ppap_opened) ? -1 : 0;
}

int mail_wire_decode(const char *blob, size_t len, mail_result_t *res)
{
	rec_reader_t r = rec_reader(blob, len);
	uint32_t magic, verdict;
	uint64_t n;
	const char *p;

	if (rec_get_u32(&r, &magic) < 0 || magic != WIRE_MAGIC || rec_get_u32(&r, &verdict) < 0 ||
	    verdict > VERDICT_QUARANTINED)
		return -1;
	if (rec_get_u64(&r, &n) < 0 || rec_view(&r, n, &p) < 0 ||
	    buf_append(&res->msg, p, (size_t)n) < 0)
		return -1;
	if (get_str(&r, &res->from) < 0 || get_str(&r, &res->subject) < 0 ||
	    get_output_check(&r, (verdict_t)verdict, res->output_check) < 0 ||
	    get_ppap(&r, (verdict_t)verdict, res) < 0 ||
	    get_conv(&r, (verdict_t)verdict, &res->conv) < 0)
		return -1;
	if (rec_get_u64(&r, &n) < 0 || n != r.left || rec_view(&r, n, &p) < 0 ||
	    buf_append(&res->report, p, (size_t)n) < 0)
		return -1;
	res->verdict = (verdict_t)verdict;
	return 0;
}

int mail_result_failure(const cfg_t *cfg, const char *id, const char *reason,
			size_t orig_size, mail_result_t *r)
{
	return mail_result_failure_env(cfg, id, NULL, reason, orig_size, r);
}

int mail_result_failure_env(const cfg_t *cfg, const char *id, const char *sender,
			    const char *reason, size_t orig_size, mail_result_t *r)
{
	return mail_result_failure_facts(cfg, id, sender, NULL, reason, orig_size, r);
}

int mail_result_failure_facts(const cfg_t *cfg, const char *id, const char *sender,
			      const mail_facts_t *facts, const char *reason, size_t orig_size,
			      mail_result_t *r)
{
	mail_report_t rep;
	int rc;

	buf_reset(&r->msg);
	buf_reset(&r->report);
	rc = mail_failure_message_facts(cfg, id, sender, facts, reason, orig_size, &r->msg, &rep);
	if (rc == 0)
		rc = report_json(&rep, &r->report);
	r->verdict = VERDICT_QUARANTINED;
	snprintf(r->output_check, sizeof(r->output_check), "%s", rep.output_check);
	report_free(&rep);
	return rc;
}
