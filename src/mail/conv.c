/*
 * conv.c — the two passes of legacy attachment conversion (see conv.h):
 * the set of requests/answers, the parent's jail runs, and the answer
 * record.
 *
 * Specs: none (own record format, conv.h).
 *
 * SECURITY: conv_run runs in a higher-trust process (CLI, mugaid session)
 * on requests from the worker: it checks their number and types, never
 * looks into their bytes, and hands them to jail_convert (bwrap, or a
 * refusal). conv_decode runs in the worker: a straight line of bounds
 * checks that accepts only at the end.
 */
#include "mail/conv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cdr/cdr.h"
#include "common/rec.h"
#include "common/jail.h"

#include <glib.h>

#define CONV_MAGIC 0x3243474dU /* "MGC2" little-endian */
#define SUM_HEX 64             /* SHA-256 in hex */

void conv_set_init(conv_set_t *s)
{
	memset(s, 0, sizeof(*s));
}

void conv_set_free(conv_set_t *s)
{
	for (size_t i = 0; i < s->n; i++)
		buf_free(&s->items[i].data);
	free(s->items);
	memset(s, 0, sizeof(*s));
}

int conv_add(conv_set_t *s, const char *type, const void *data, size_t len, size_t max,
	     const char *reason)
{
	conv_item_t *items = realloc(s->items, (s->n + 1) * sizeof(*items)), *it;

	if (!items)
		return -1;
	s->items = items;
	it = &items[s->n];
	memset(it, 0, sizeof(*it));
	it->type = cdr_legacy_type(type);
	buf_init(&it->data, max);
	snprintf(it->reason, sizeof(it->reason), "%s", reason ? reason : "");
	s->n++;
	if (!it->type || buf_append(&it->data, data ? data : "", len) < 0)
		return -1;
	return 0;
}

int conv_sum(const void *p, size_t len, char sum[65])
{
	gchar *hex = g_compute_checksum_for_data(G_CHECKSUM_SHA256, p ? p : "", len);

	if (!hex || strlen(hex) != SUM_HEX) {
		g_free(hex);
		return -1;
	}
	memcpy(sum, hex, SUM_HEX + 1);
	g_free(hex);
	return 0;
}

/* The block reason for a jail that gave no PDF (as `mugai file sanitize`). */
static void jail_reason(jail_status_t js, const char *type, const char *why, char *reason,
			size_t n)
{
	const char *label = cdr_legacy_label(type);

	switch (js) {
	case JAIL_UNAVAILABLE:
		snprintf(reason, n, "legacy-jail-unavailable: %s: %.180s", label, why);
		break;
	case JAIL_TIMEOUT:
		snprintf(reason, n, "limit:legacy_time_max: %s", label);
		break;
	case JAIL_TOO_BIG:
		snprintf(reason, n, "limit:legacy_output_max: %s", label);
		break;
	case JAIL_BUSY:
		snprintf(reason, n, "limit:legacy_concurrent_max: %s", label);
		break;
	case JAIL_FAILED:
		snprintf(reason, n, "legacy-conversion-failed: %s", label);
		break;
	default:
		snprintf(reason, n, "internal-error: %s", label);
	}
}

/* One request: the jail's PDF, or the reason. */
static int convert_one(const cfg_t *cfg, const conv_item_t *rq, conv_set_t *ans)
{
	char why[WHY_MAX], reason[sizeof(rq->reason)] = "";
	buf_t pdf;
	jail_status_t js = jail_convert(cfg, rq->data.data ? rq->data.data : "", rq->data.len,
					rq->type, &pdf, why, sizeof(why));
	int rc;

	if (js != JAIL_OK)
		jail_reason(js, rq->type, why, reason, sizeof(reason));
	rc = conv_add(ans, rq->type, js == JAIL_OK ? pdf.data : NULL, js == JAIL_OK ? pdf.len : 0,
		      (size_t)lim(&cfg->lim, LIM_LEGACY_OUTPUT), reason);
	if (rc == 0)
		rc = conv_sum(rq->data.data, rq->data.len, ans->items[ans->n - 1].sum);
	buf_free(&pdf);
	return rc;
}

int conv_run(const cfg_t *cfg, const conv_set_t *req, conv_set_t *ans)
{
	conv_set_init(ans);
	ans->answered = true;
	if (req->answered || req->n > (size_t)lim(&cfg->lim, LIM_LEGACY_MESSAGE))
		return -1; /* the worker keeps to the limit: more is a lie */
	for (size_t i = 0; i < req->n; i++)
		if (!cdr_legacy_type(req->items[i].type) || convert_one(cfg, &req->items[i], ans) < 0)
			return -1;
	return 0;
}

static int put_str(buf_t *b, const char *s) { return rec_put_bytes(b, s, strlen(s)); }

int conv_encode(const conv_set_t *ans, buf_t *out)
{
	int rc = rec_put_u32(out, CONV_MAGIC);

	if (rc == 0)
		rc = rec_put_u32(out, (uint32_t)ans->n);
	for (size_t i = 0; rc == 0 && i < ans->n; i++) {
		const conv_item_t *it = &ans->items[i];

		rc = put_str(out, it->type);
		if (rc == 0)
			rc = put_str(out, it->reason);
		if (rc == 0)
			rc = put_str(out, it->sum);
		if (rc == 0)
			rc = rec_put_u64(out, it->data.len);
		if (rc == 0)
			rc = buf_append(out, it->data.data ? it->data.data : "", it->data.len);
	}
	return rc;
}

/* A string of fewer than cap bytes: UTF-8 without NUL or controls. */
static int take_str(rec_reader_t *r, char *s, size_t cap)
{
	const char *p;
	size_t n;

	if (rec_get_bytes(r, cap - 1, &p, &n) < 0 || !rec_text_ok(p, n))
		return -1;
	memcpy(s, p, n);
	s[n] = '\0';
	return 0;
}

static bool is_sum(const char *s)
{
	return strlen(s) == SUM_HEX && strspn(s, "0123456789abcdef") == SUM_HEX;
}

static int take_item(rec_reader_t *r, size_t max_item, conv_set_t *ans)
{
	char type[8], reason[sizeof(ans->items[0].reason)], sum[SUM_HEX + 1];
	const char *data;
	uint64_t n;

	if (take_str(r, type, sizeof(type)) < 0 || !cdr_legacy_type(type) ||
	    take_str(r, reason, sizeof(reason)) < 0 || take_str(r, sum, sizeof(sum)) < 0 ||
	    !is_sum(sum) || rec_get_u64(r, &n) < 0 || n > max_item ||
	    (n == 0) != (reason[0] != '\0') || rec_view(r, n, &data) < 0)
		return -1;
	if (conv_add(ans, type, data, (size_t)n, max_item, reason) < 0)
		return -1;
	memcpy(ans->items[ans->n - 1].sum, sum, sizeof(sum));
	return 0;
}

int conv_decode(const char *p, size_t len, size_t max_item, conv_set_t *ans)
{
	rec_reader_t r = rec_reader(p, len);
	uint32_t magic, count;

	conv_set_init(ans);
	ans->answered = true;
	if (rec_get_u32(&r, &magic) < 0 || magic != CONV_MAGIC ||
	    rec_get_u32(&r, &count) < 0 || count > r.left / (20 + SUM_HEX))
		return -1;
	for (uint32_t i = 0; i < count; i++)
		if (take_item(&r, max_item, ans) < 0)
			goto bad;
	if (r.left == 0)
		return 0;
bad:
	conv_set_free(ans);
	ans->answered = true;
	return -1;
}
