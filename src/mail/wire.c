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

static int put_u32(buf_t *b, uint32_t v) { return buf_append(b, &v, sizeof(v)); }
static int put_u64(buf_t *b, uint64_t v) { return buf_append(b, &v, sizeof(v)); }

/* Display text: at most WIRE_STR_MAX bytes, cut at a character boundary,
 * every control character written as a space (the receiver refuses them). */
static int put_str(buf_t *b, const char *s)
{
	size_t n = s ? strlen(s) : 0, start;

	if (n > WIRE_STR_MAX)
		n = WIRE_STR_MAX;
	while (n && !utf8_valid(s, n)) /* never cut inside a character */
		n--;
	if (put_u32(b, (uint32_t)n) < 0)
		return -1;
	start = b->len;
	if (buf_append(b, s ? s : "", n) < 0)
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
	int rc = put_u32(b, (uint32_t)n);

	for (size_t i = 0; rc == 0 && i < n; i++) {
		rc = put_str(b, cv->items[i].type);
		if (rc == 0)
			rc = put_u64(b, cv->items[i].data.len);
		if (rc == 0)
			rc = buf_append(b, cv->items[i].data.data ? cv->items[i].data.data : "",
					cv->items[i].data.len);
	}
	return rc;
}

static int encode(const buf_t *msg, const mail_report_t *rep, const conv_set_t *cv,
		  const buf_t *json, buf_t *out)
{
	int rc = put_u32(out, WIRE_MAGIC);

	if (rc == 0) rc = put_u32(out, (uint32_t)rep->verdict);
	if (rc == 0) rc = put_u64(out, msg->len);
	if (rc == 0) rc = buf_append(out, msg->data, msg->len);
	if (rc == 0) rc = put_str(out, rep->from);
	if (rc == 0) rc = put_str(out, rep->subject);
	if (rc == 0) rc = put_str(out, rep->output_check);
	if (rc == 0) rc = put_u32(out, rep->verdict == VERDICT_QUARANTINED ? 0 : (uint32_t)rep->ppap_waiting);
	if (rc == 0) rc = put_u32(out, rep->verdict == VERDICT_QUARANTINED ? 0 : (uint32_t)rep->ppap_opened);
	if (rc == 0) rc = put_u32(out, (uint32_t)rep->ppap_candidates);
	if (rc == 0) rc = put_conv(out, rep, cv);
	if (rc == 0) rc = put_u64(out, json->len);
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

typedef struct reader {
	const char *p;
	size_t left;
} reader_t;

static int get(reader_t *r, void *v, size_t n)
{
	if (r->left < n)
		return -1;
	memcpy(v, r->p, n);
	r->p += n;
	r->left -= n;
	return 0;
}

static int get_bytes(reader_t *r, uint64_t n, buf_t *b)
{
	if (n > r->left || buf_append(b, r->p, (size_t)n) < 0)
		return -1;
	r->p += n;
	r->left -= (size_t)n;
	return 0;
}

/* The worker writes display text cleaned of every control character: NUL
 * (which would silently cut the string), CR, LF and the rest are refused. */
static bool display_text_ok(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return false;
	return utf8_valid(s, n);
}

static int get_str(reader_t *r, char **out)
{
	uint32_t n;
	buf_t b;

	buf_init(&b, WIRE_STR_MAX);
	if (get(r, &n, sizeof(n)) < 0 || get_bytes(r, n, &b) < 0 ||
	    !display_text_ok(b.data ? b.data : "", b.len)) {
		buf_free(&b);
		return -1;
	}
	*out = n ? buf_steal(&b, NULL) : NULL;
	buf_free(&b);
	return 0;
}

/* "" or "output-check:<known rule>" (not "pass"), and then quarantined. */
static int get_output_check(reader_t *r, verdict_t v, char out[32])
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
static int get_conv(reader_t *r, verdict_t v, conv_set_t *cv)
{
	uint32_t count, n;
	uint64_t len;
	char type[8];

	if (get(r, &count, sizeof(count)) < 0 || (count && v == VERDICT_QUARANTINED) ||
	    count > r->left / 12)
		return -1;
	for (uint32_t i = 0; i < count; i++) {
		if (get(r, &n, sizeof(n)) < 0 || n >= sizeof(type) || get(r, type, n) < 0)
			return -1;
		type[n] = '\0';
		if (!cdr_legacy_type(type) || get(r, &len, sizeof(len)) < 0 || len > r->left ||
		    conv_add(cv, type, r->p, (size_t)len, (size_t)len, NULL) < 0)
			return -1;
		r->p += len;
		r->left -= (size_t)len;
	}
	return 0;
}

/* The PPAP counts: none for a quarantined message, at most one per MIME
 * part (mime_parts' cap). */
static int get_ppap(reader_t *r, verdict_t v, mail_result_t *res)
{
	if (get(r, &res->ppap_waiting, 4) < 0 || get(r, &res->ppap_opened, 4) < 0 ||
	    get(r, &res->ppap_candidates, 4) < 0)
		return -1;
	if (res->ppap_waiting > WIRE_PPAP_MAX || res->ppap_opened > WIRE_PPAP_MAX ||
	    res->ppap_candidates > PPAP_CANDS_CAP)
		return -1;
	return v == VERDICT_QUARANTINED && (res->ppap_waiting || res->ppap_opened) ? -1 : 0;
}

int mail_wire_decode(const char *blob, size_t len, mail_result_t *res)
{
	reader_t r = { blob, len };
	uint32_t magic, verdict;
	uint64_t n;

	if (get(&r, &magic, 4) < 0 || magic != WIRE_MAGIC || get(&r, &verdict, 4) < 0 ||
	    verdict > VERDICT_QUARANTINED)
		return -1;
	if (get(&r, &n, 8) < 0 || get_bytes(&r, n, &res->msg) < 0)
		return -1;
	if (get_str(&r, &res->from) < 0 || get_str(&r, &res->subject) < 0 ||
	    verdict > VERDICT_QUARANTINED ||
	    get_output_check(&r, (verdict_t)verdict, res->output_check) < 0 ||
	    get_ppap(&r, (verdict_t)verdict, res) < 0 ||
	    get_conv(&r, (verdict_t)verdict, &res->conv) < 0)
		return -1;
	if (get(&r, &n, 8) < 0 || n != r.left || get_bytes(&r, n, &res->report) < 0)
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
