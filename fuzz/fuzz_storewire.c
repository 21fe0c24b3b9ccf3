/*
 * fuzz_storewire.c — libFuzzer target for the store protocol decoders
 * (store/storewire.h) that the store process runs on a session's records
 * and a session runs on the store's answers (PPAP and outbox requests included). Any input is refused, or
 * decoded into fields that satisfy every promise of the decoder, and then
 * encodes again to the very same bytes.
 *
 * SECURITY: test code.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/id.h"
#include "common/utf8.h"
#include "store/jsoncheck.h"
#include "store/storewire.h"

static const sw_caps_t caps = { 64, 64 * 1024, 16 * 1024 };

static void text(const char *s)
{
	if (!s || !utf8_valid(s, strlen(s)))
		abort();
	for (const char *p = s; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			abort();
}

static void same(const buf_t *b, const uint8_t *data, size_t size)
{
	if (b->len != size || memcmp(b->data, data, size) != 0)
		abort();
}

static void request(const uint8_t *data, size_t size)
{
	sw_req_t q;
	buf_t b;

	if (storewire_decode_req((const char *)data, size, &caps, &q) < 0)
		return;
	if (q.type == SW_PUT) {
		if (!mugai_id_valid(q.id) || q.n_rcpt == 0 || q.n_rcpt > caps.rcpt_max ||
		    !jsoncheck_object(q.report, strlen(q.report), caps.report_max) ||
		    !jsoncheck_object(q.details, strlen(q.details), caps.details_max))
			abort();
		for (size_t i = 0; i < q.n_rcpt; i++)
			if (strchr(q.rcpt[i], ','))
				abort();
		text(q.subject);
		text(q.hdr_from);
	}
	if ((q.type == SW_FIND || q.type == SW_CONFIG) && !storewire_hex64(q.hash))
		abort();
	if (q.type == SW_PPAP_NEXT) {
		if (q.n_rcpt == 0 || q.n_rcpt > caps.rcpt_max || q.received < 0 || q.skip < 0)
			abort();
		for (size_t i = 0; i < q.n_rcpt; i++)
			if (strchr(q.rcpt[i], ','))
				abort();
		text(q.hdr_from);
	}
	if (q.type == SW_RELEASE_NEXT) {
		text(q.after_at);
		if (*q.id && !mugai_id_valid(q.id))
			abort();
	}
	if ((q.type == SW_OUTBOX_NEXT && q.row < 0) ||
	    (q.type == SW_OUTBOX_DONE &&
	     (q.row <= 0 || !jsoncheck_object(q.details, strlen(q.details), caps.details_max))))
		abort();
	if (q.type == SW_PPAP_MARK && (!mugai_id_valid(q.id) ||
				       !jsoncheck_object(q.details, strlen(q.details), caps.details_max)))
		abort();
	buf_init(&b, size + 1);
	if (storewire_encode_req(&b, &q) < 0)
		abort();
	same(&b, data, size);
	buf_free(&b);
	storewire_req_free(&q);
}

static void answer(const uint8_t *data, size_t size)
{
	sw_ans_t a;
	buf_t b;

	if (storewire_decode_ans((const char *)data, size, &a) < 0)
		return;
	if (a.type == SW_ERR)
		text(a.msg);
	else if (*a.id && !mugai_id_valid(a.id))
		abort();
	buf_init(&b, size + 1);
	if (storewire_encode_ans(&b, &a) < 0)
		abort();
	same(&b, data, size);
	buf_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	request(data, size);
	answer(data, size);
	return 0;
}
