/*
 * storewire.c — encode/decode of the store protocol (see storewire.h).
 *
 * SECURITY: decode is a straight line of bounds checks over hostile bytes
 * that accepts only at the end; every length is checked against what
 * remains and against its cap before it is used.
 */
#include "store/storewire.h"

#include <stdlib.h>
#include <string.h>

#include "common/rec.h"
#include "common/id.h"
#include "store/jsoncheck.h"


size_t storewire_frame_max(const sw_caps_t *c)
{
	return SW_HDR_LEN + SW_FIXED_MAX + 4 * SW_TEXT_MAX + c->rcpt_max * (SW_ADDR_MAX + 4) +
	       c->report_max + c->details_max;
}

static bool type_ok(uint32_t t)
{
	return (t >= SW_PUT && t < SW__REQ_END) || t == SW_OK || t == SW_ERR;
}

size_t storewire_frame_len(const char *hdr, size_t max)
{
	uint32_t v[3];

	memcpy(v, hdr, sizeof(v));
	if (v[0] != SW_MAGIC || !type_ok(v[1]) || v[2] > max - SW_HDR_LEN)
		return 0;
	return SW_HDR_LEN + (size_t)v[2];
}

bool storewire_hex64(const char *s)
{
	size_t n = s ? strlen(s) : 0;

	return n == 64 && strspn(s, "0123456789abcdef") == 64;
}

const char *storewire_class_name(uint32_t cls)
{
	static const char *const names[] = { "?", "full", "io", "busy", "proto" };

	return cls <= SW_E_PROTO ? names[cls] : "?";
}

/* ---- encode ---- */

/* A str field: the bytes and their NUL. */
static int put_str(buf_t *b, const char *s)
{
	return rec_put_bytes(b, s ? s : "", (s ? strlen(s) : 0) + 1);
}

/* Header with a length patched in at the end. */
static int begin(buf_t *b, uint32_t type, size_t *at)
{
	*at = b->len;
	return rec_put_u32(b, SW_MAGIC) == 0 && rec_put_u32(b, type) == 0 && rec_put_u32(b, 0) == 0 ? 0 : -1;
}

static int end(buf_t *b, size_t at, int rc)
{
	uint32_t len;

	if (rc < 0 || b->len - at - SW_HDR_LEN >= UINT32_MAX)
		return -1;
	len = (uint32_t)(b->len - at - SW_HDR_LEN);
	memcpy(b->data + at + 8, &len, sizeof(len));
	return 0;
}

static int encode_put(buf_t *b, const sw_req_t *r)
{
	int rc = put_str(b, r->id);

	if (rc == 0) rc = rec_put_u64(b, (uint64_t)r->received);
	if (rc == 0) rc = put_str(b, r->env_from);
	if (rc == 0) rc = r->n_rcpt < UINT32_MAX ? rec_put_u32(b, (uint32_t)r->n_rcpt) : -1;
	for (size_t i = 0; rc == 0 && i < r->n_rcpt; i++)
		rc = put_str(b, r->rcpt[i]);
	if (rc == 0) rc = put_str(b, r->hdr_from);
	if (rc == 0) rc = put_str(b, r->subject);
	if (rc == 0) rc = put_str(b, r->verdict);
	if (rc == 0) rc = put_str(b, r->queue_id);
	if (rc == 0) rc = put_str(b, r->details);
	if (rc == 0) rc = put_str(b, r->report);
	if (rc == 0) rc = rec_put_u64(b, r->orig_len);
	return rc;
}

static int encode_ppap_next(buf_t *b, const sw_req_t *r)
{
	int rc = rec_put_u64(b, (uint64_t)r->received);

	if (rc == 0) rc = rec_put_u64(b, (uint64_t)r->skip);
	if (rc == 0) rc = put_str(b, r->env_from);
	if (rc == 0) rc = put_str(b, r->hdr_from);
	if (rc == 0) rc = r->n_rcpt < UINT32_MAX ? rec_put_u32(b, (uint32_t)r->n_rcpt) : -1;
	for (size_t i = 0; rc == 0 && i < r->n_rcpt; i++)
		rc = put_str(b, r->rcpt[i]);
	return rc;
}

int storewire_encode_req(buf_t *out, const sw_req_t *r)
{
	size_t at;
	int rc = begin(out, r->type, &at);

	if (rc < 0)
		return -1;
	switch (r->type) {
	case SW_PUT: rc = encode_put(out, r); break;
	case SW_AUDIT:
		rc = put_str(out, r->action);
		if (rc == 0) rc = put_str(out, r->object);
		if (rc == 0) rc = put_str(out, r->details);
		break;
	case SW_FIND:
		rc = put_str(out, r->queue_id);
		if (rc == 0) rc = put_str(out, r->hash);
		break;
	case SW_DELIVERED: rc = put_str(out, r->id); break;
	case SW_RELEASE_DONE:
		rc = put_str(out, r->id);
		if (rc == 0) rc = put_str(out, r->details ? r->details : "{}");
		break;
	case SW_RELEASE_NEXT:
		rc = put_str(out, r->after_at ? r->after_at : "");
		if (rc == 0) rc = put_str(out, r->id ? r->id : "");
		break;
	case SW_CONFIG: rc = put_str(out, r->hash); break;
	case SW_SEEN:
		rc = put_str(out, r->env_from);
		if (rc == 0) rc = rec_put_u64(out, (uint64_t)r->received);
		if (rc == 0) rc = put_str(out, r->id);
		break;
	case SW_PPAP_NEXT: rc = encode_ppap_next(out, r); break;
	case SW_PPAP_STALE: rc = rec_put_u64(out, (uint64_t)r->received); break;
	case SW_PPAP_MARK:
		rc = put_str(out, r->action);
		if (rc == 0) rc = put_str(out, r->id);
		if (rc == 0) rc = put_str(out, r->details);
		break;
	case SW_OUTBOX_NEXT: rc = rec_put_u64(out, (uint64_t)r->row); break;
	case SW_OUTBOX_DONE:
		rc = rec_put_u64(out, (uint64_t)r->row);
		if (rc == 0) rc = put_str(out, r->details ? r->details : "{}");
		break;
	default: rc = -1;
	}
	return end(out, at, rc);
}

int storewire_encode_ans(buf_t *out, const sw_ans_t *a)
{
	size_t at;
	int rc = begin(out, a->type, &at);

	if (rc == 0 && a->type == SW_ERR) {
		rc = rec_put_u32(out, a->cls);
		if (rc == 0) rc = put_str(out, a->msg);
	} else if (rc == 0) {
		rc = a->type == SW_OK ? put_str(out, a->id) : -1;
		if (rc == 0) rc = rec_put_u64(out, (uint64_t)a->seq);
		if (rc == 0 && a->item) {
			rc = put_str(out, a->env_from);
			if (rc == 0) rc = put_str(out, a->rcpt);
			if (rc == 0) rc = put_str(out, a->approved_by);
			if (rc == 0) rc = put_str(out, a->kind);
			if (rc == 0) rc = put_str(out, a->approved_at);
			if (rc == 0) rc = put_str(out, a->subject);
			if (rc == 0) rc = put_str(out, a->virus);
			if (rc == 0) rc = rec_put_u64(out, a->orig_len);
		}
	}
	return end(out, at, rc);
}

/* ---- decode ---- */

/* A str field of at most max bytes (without its NUL). */
static int get_raw(rec_reader_t *r, size_t max, const char **out, size_t *len)
{
	size_t n;

	if (rec_get_bytes(r, max < SIZE_MAX ? max + 1 : max, out, &n) < 0 || n == 0)
		return -1;
	if ((*out)[n - 1] != '\0' || memchr(*out, '\0', n - 1))
		return -1;
	*len = n - 1;
	return 0;
}

/* Text: valid UTF-8, no control character (tab neither). */
static int get_text(rec_reader_t *r, size_t max, const char **out)
{
	size_t n;

	return get_raw(r, max, out, &n) == 0 && rec_text_ok(*out, n) ? 0 : -1;
}

static int get_id(rec_reader_t *r, bool empty_ok, const char **out)
{
	if (get_text(r, MUGAI_ID_LEN, out) < 0)
		return -1;
	return (empty_ok && !**out) || mugai_id_valid(*out) ? 0 : -1;
}

static int get_hex(rec_reader_t *r, const char **out)
{
	return get_text(r, 64, out) == 0 && storewire_hex64(*out) ? 0 : -1;
}

static int get_json(rec_reader_t *r, size_t max, const char **out)
{
	size_t n;

	return get_raw(r, max, out, &n) == 0 && jsoncheck_object(*out, n, max) ? 0 : -1;
}

static int get_rcpts(rec_reader_t *r, const sw_caps_t *c, sw_req_t *q)
{
	uint32_t n;

	if (rec_get(r, &n, sizeof(n)) < 0 || n == 0 || n > c->rcpt_max || n > r->left / 5)
		return -1;
	q->rcpt = calloc(n, sizeof(*q->rcpt));
	if (!q->rcpt)
		return -1;
	for (q->n_rcpt = 0; q->n_rcpt < n; q->n_rcpt++)
		if (get_text(r, SW_ADDR_MAX, &q->rcpt[q->n_rcpt]) < 0 || !*q->rcpt[q->n_rcpt] ||
		    strchr(q->rcpt[q->n_rcpt], ','))
			return -1;
	return 0;
}

static int decode_put(rec_reader_t *r, const sw_caps_t *c, sw_req_t *q)
{
	uint64_t t;

	if (get_id(r, false, &q->id) < 0 || rec_get(r, &t, 8) < 0 || t == 0 || t > INT64_MAX)
		return -1;
	q->received = (int64_t)t;
	if (get_text(r, SW_ADDR_MAX, &q->env_from) < 0 || get_rcpts(r, c, q) < 0)
		return -1;
	if (get_text(r, SW_TEXT_MAX, &q->hdr_from) < 0 || get_text(r, SW_TEXT_MAX, &q->subject) < 0 ||
	    get_text(r, 64, &q->verdict) < 0 || !*q->verdict ||
	    get_text(r, SW_ADDR_MAX, &q->queue_id) < 0)
		return -1;
	if (get_json(r, c->details_max, &q->details) < 0 || get_json(r, c->report_max, &q->report) < 0)
		return -1;
	return rec_get(r, &q->orig_len, 8);
}

/* A time or count as u64 that fits int64_t. */
static int get_time(rec_reader_t *r, int64_t *v)
{
	uint64_t t;

	if (rec_get(r, &t, 8) < 0 || t > INT64_MAX)
		return -1;
	*v = (int64_t)t;
	return 0;
}

static int decode_seen(rec_reader_t *r, sw_req_t *q)
{
	if (get_text(r, SW_ADDR_MAX, &q->env_from) < 0 || !*q->env_from ||
	    get_time(r, &q->received) < 0)
		return -1;
	return get_id(r, true, &q->id);
}

static int decode_ppap_next(rec_reader_t *r, const sw_caps_t *c, sw_req_t *q)
{
	if (get_time(r, &q->received) < 0 || get_time(r, &q->skip) < 0)
		return -1;
	if (get_text(r, SW_ADDR_MAX, &q->env_from) < 0 || get_text(r, SW_TEXT_MAX, &q->hdr_from) < 0)
		return -1;
	return get_rcpts(r, c, q);
}

static int decode_body(rec_reader_t *r, const sw_caps_t *c, sw_req_t *q)
{
	switch (q->type) {
	case SW_PUT: return decode_put(r, c, q);
	case SW_AUDIT:
		if (get_text(r, 64, &q->action) < 0 || !*q->action ||
		    get_text(r, SW_ADDR_MAX, &q->object) < 0)
			return -1;
		return get_json(r, c->details_max, &q->details);
	case SW_FIND:
		if (get_text(r, SW_ADDR_MAX, &q->queue_id) < 0 || !*q->queue_id)
			return -1;
		return get_hex(r, &q->hash);
	case SW_DELIVERED: return get_id(r, false, &q->id);
	case SW_RELEASE_DONE:
		if (get_id(r, false, &q->id) < 0)
			return -1;
		return get_json(r, c->details_max, &q->details);
	case SW_RELEASE_NEXT:
		if (get_text(r, SW_ADDR_MAX, &q->after_at) < 0)
			return -1;
		return get_id(r, true, &q->id);
	case SW_CONFIG: return get_hex(r, &q->hash);
	case SW_SEEN: return decode_seen(r, q);
	case SW_PPAP_NEXT: return decode_ppap_next(r, c, q);
	case SW_PPAP_STALE: return get_time(r, &q->received);
	case SW_PPAP_MARK:
		if (get_text(r, 64, &q->action) < 0 || !*q->action || get_id(r, false, &q->id) < 0)
			return -1;
		return get_json(r, c->details_max, &q->details);
	case SW_OUTBOX_NEXT: return get_time(r, &q->row);
	case SW_OUTBOX_DONE:
		if (get_time(r, &q->row) < 0 || q->row <= 0)
			return -1;
		return get_json(r, c->details_max, &q->details);
	default: return -1;
	}
}

static int header(rec_reader_t *r, uint32_t *type)
{
	uint32_t magic, len;

	if (rec_get(r, &magic, 4) < 0 || magic != SW_MAGIC || rec_get(r, type, 4) < 0 ||
	    rec_get(r, &len, 4) < 0 || len != r->left)
		return -1;
	return 0;
}

int storewire_decode_req(const char *p, size_t n, const sw_caps_t *c, sw_req_t *q)
{
	rec_reader_t r = rec_reader(p, n);

	memset(q, 0, sizeof(*q));
	if (header(&r, &q->type) < 0 || q->type < SW_PUT || q->type >= SW__REQ_END ||
	    decode_body(&r, c, q) < 0 || r.left != 0) {
		storewire_req_free(q);
		return -1;
	}
	return 0;
}

void storewire_req_free(sw_req_t *q)
{
	free(q->rcpt);
	q->rcpt = NULL;
	q->n_rcpt = 0;
}

static int decode_ok(rec_reader_t *r, sw_ans_t *a)
{
	uint64_t seq;

	if (get_id(r, true, &a->id) < 0 || rec_get(r, &seq, 8) < 0 || seq > INT64_MAX)
		return -1;
	a->seq = (int64_t)seq;
	if (r->left == 0)
		return 0;
	a->item = true;
	if (!*a->id || get_text(r, SW_ADDR_MAX, &a->env_from) < 0)
		return -1;
	if (get_text(r, SIZE_MAX / 2, &a->rcpt) < 0 || get_text(r, SW_ADDR_MAX, &a->approved_by) < 0)
		return -1;
	if (get_text(r, SW_ADDR_MAX, &a->kind) < 0 || get_text(r, SW_ADDR_MAX, &a->approved_at) < 0 ||
	    get_text(r, SW_TEXT_MAX, &a->subject) < 0 || get_text(r, SW_ADDR_MAX, &a->virus) < 0)
		return -1;
	return rec_get(r, &a->orig_len, 8);
}

int storewire_decode_ans(const char *p, size_t n, sw_ans_t *a)
{
	rec_reader_t r = rec_reader(p, n);
	int rc;

	memset(a, 0, sizeof(*a));
	if (header(&r, &a->type) < 0)
		return -1;
	if (a->type == SW_OK)
		rc = decode_ok(&r, a);
	else if (a->type == SW_ERR)
		rc = rec_get(&r, &a->cls, 4) == 0 && a->cls >= SW_E_FULL && a->cls <= SW_E_PROTO
		     ? get_text(&r, SW_ERRMSG_MAX, &a->msg) : -1;
	else
		rc = -1;
	return rc == 0 && r.left == 0 ? 0 : -1;
}
