/*
 * fuzz_wire.c — libFuzzer target for mail_wire_decode(), the parser a
 * higher-trust process runs on a sanitizer worker's result record. Any
 * input is either refused or split into parts whose lengths add up and
 * whose From/Subject are valid UTF-8 without line ends, whose output
 * check code is empty or comes with the verdict quarantined, and whose
 * conversion requests name legacy types and never come with quarantined.
 *
 * SECURITY: test code.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cdr/cdr.h"
#include "common/utf8.h"
#include "mail/wire.h"

static void check_str(const char *s)
{
	if (s && (!utf8_valid(s, strlen(s)) || strpbrk(s, "\r\n")))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	mail_result_t r;

	mail_result_init(&r);
	if (mail_wire_decode((const char *)data, size, &r) == 0) {
		size_t strs = (r.from ? strlen(r.from) : 0) + (r.subject ? strlen(r.subject) : 0);

		if (r.verdict > VERDICT_QUARANTINED)
			abort();
		strs += strlen(r.output_check);
		for (size_t i = 0; i < r.conv.n; i++) {
			if (!cdr_legacy_type(r.conv.items[i].type) || r.verdict == VERDICT_QUARANTINED)
				abort();
			strs += 4 + strlen(r.conv.items[i].type) + 8 + r.conv.items[i].data.len;
		}
		if (r.msg.len + r.report.len + strs + 4 + 4 + 8 + 4 + 4 + 4 + 4 + 4 + 4 + 4 + 8 != size)
			abort();
		if ((r.ppap_waiting || r.ppap_opened) && r.verdict == VERDICT_QUARANTINED)
			abort();
		if (r.output_check[0] && r.verdict != VERDICT_QUARANTINED)
			abort();
		check_str(r.from);
		check_str(r.subject);
	}
	mail_result_free(&r);
	return 0;
}
