/*
 * fuzz_mail.c — libFuzzer target for the whole mail sanitizer: any input
 * must give a rebuilt message that is 7-bit, CRLF-only, with lines of at
 * most 998 octets, and a report that serializes.
 *
 * SECURITY: test code; runs the engine without the sandbox.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mail/mail.h"

static cfg_t cfg;

static void check_output(const buf_t *out)
{
	size_t line = 0;

	if (out->len == 0)
		abort();
	for (size_t i = 0; i < out->len; i++) {
		unsigned char c = (unsigned char)out->data[i];

		if (c >= 0x80)
			abort();
		if (c == '\r') {
			if (i + 1 >= out->len || out->data[i + 1] != '\n')
				abort();
			line = 0;
			i++;
			continue;
		}
		if (c == '\n' || ++line > 998)
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	mail_report_t rep;
	buf_t out, json;

	if (!ready) {
		if (cfg_init(&cfg) < 0 || mail_init() < 0)
			abort();
		cfg.lim.v[LIM_MIME_PARTS] = 200;
		ready = 1;
	}
	buf_init(&out, 64 * 1024 * 1024);
	buf_init(&json, 16 * 1024 * 1024);
	if (mail_sanitize(&cfg, "20261125-000000-00000000", (const char *)data, size, &out, &rep) < 0)
		abort();
	check_output(&out);
	if (report_json(&rep, &json) < 0)
		abort();
	report_free(&rep);
	buf_free(&out);
	buf_free(&json);
	return 0;
}
