/*
 * fuzz_outcheck.c — libFuzzer target for the independent output check
 * (mail/outcheck.c) on arbitrary bytes. First byte: options (bit 0 plain
 * links, bit 1 English notice, bit 2 custom template, bit 3 a console_url
 * with the id 20261201-031500-0123abcd); the rest is read as
 * a whole message and as one body and one header text. Invariants: returns
 * 0 (pass) or 1 (hit), never -1 with memory available; the rule is in
 * range and agrees with the return value; a text hit's offset lies inside
 * the text; the verdict is the same on a second run (no hidden state).
 *
 * SECURITY: test code.
 */
#include <stdint.h>
#include <stdlib.h>

#include "mail/outcheck.h"

static void check(int rc, const outcheck_result_t *r)
{
	if (rc != 0 && rc != 1)
		abort();
	if ((unsigned)r->rule >= OUTCHECK__COUNT || (rc == 0) != (r->rule == OUTCHECK_PASS))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	outcheck_opts_t o;
	outcheck_result_t r1, r2;
	const char *s;
	size_t n;
	int rc;

	if (size < 1)
		return 0;
	o = (outcheck_opts_t){ .plain_links = data[0] & 1, .en = data[0] & 2,
			       .custom_notice = data[0] & 4 };
	if (data[0] & 8) {
		o.console_url = "https://mugai.example.lg.jp/console";
		o.id = "20261201-031500-0123abcd";
	}
	s = (const char *)data + 1;
	n = size - 1;
	rc = outcheck_message(s, n, &o, &r1);
	check(rc, &r1);
	if (outcheck_message(s, n, &o, &r2) != rc || r2.rule != r1.rule || r2.offset != r1.offset)
		abort();
	for (int body = 0; body < 2; body++) {
		rc = outcheck_text(s, n, body, &o, &r1);
		check(rc, &r1);
		if (rc && r1.offset >= n)
			abort();
	}
	return 0;
}
