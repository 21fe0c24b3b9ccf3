/*
 * fuzz_mail.c — libFuzzer target for the whole mail sanitizer: any input
 * must give a rebuilt message that is 7-bit, CRLF-only, with lines of at
 * most 998 octets, and a report that serializes — under four config
 * variants, file CDR of attachments included; and, unless quarantined,
 * exact accounting: parts_total = parts_rendered + parts_listed. Property
 * of issue #8: the final message passes the independent output check
 * (mail/outcheck.c), and an output-check reason comes only with the verdict
 * quarantined. With MUGAI_FUZZ_STRICT=1 in the environment (or
 * -DMUGAI_FUZZ_STRICT) it also aborts when the check fired at all: a miss
 * of the text writer, which the gate caught (for long runs).
 *
 * SECURITY: test code; runs the engine without the sandbox.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mail/mail.h"
#include "mail/outcheck.h"

#define VARIANTS 4
static cfg_t cfgs[VARIANTS];

/* Config variants, picked by input size so no input byte is consumed (the
 * seed corpus stays real mail): defaults; attachments through file CDR with
 * plain links in English; removed links with truncated multiparts
 * sanitized; HTML preferred with CDR rebuild mode. The last two carry a
 * console_url: the notice's console line, the one link the check allows. */
static void setup(void)
{
	static const char *const sets[VARIANTS][4][2] = {
		{ { NULL, NULL } },
		{ { "attachments", "sanitize" }, { "link_style", "plain" }, { "notice_lang", "en" } },
		{ { "link_style", "remove" }, { "on_truncated_multipart", "sanitize" },
		  { "console_url", "https://mugai.example.lg.jp/console" } },
		{ { "attachments", "sanitize" }, { "body_prefer", "html" }, { "pdf_mode", "rebuild" },
		  { "console_url", "http://10.0.0.1:8025" } },
	};
	char err[256];

	for (int v = 0; v < VARIANTS; v++) {
		if (cfg_init(&cfgs[v]) < 0)
			abort();
		cfgs[v].lim.v[LIM_MIME_PARTS] = 200;
		for (int k = 0; k < 4 && sets[v][k][0]; k++)
			if (cfg_set(&cfgs[v], sets[v][k][0], sets[v][k][1], err, sizeof(err)) < 0)
				abort();
	}
	if (mail_init() < 0)
		abort();
}

#ifndef MUGAI_FUZZ_STRICT
#define MUGAI_FUZZ_STRICT 0
#endif

static bool strict(void)
{
	static int s = -1;

	if (s < 0) {
		const char *e = getenv("MUGAI_FUZZ_STRICT");

		s = MUGAI_FUZZ_STRICT || (e && strcmp(e, "1") == 0);
	}
	return s;
}

/* Issue #8: nothing live in the final message. */
static void check_outcheck(const cfg_t *cfg, const buf_t *out, const mail_report_t *rep)
{
	outcheck_opts_t o = {
		.plain_links = cfg_is(cfg, CFG_LINK_STYLE, "plain"),
		.en = cfg_is(cfg, CFG_NOTICE_LANG, "en"),
		.custom_notice = cfg->notice_text && *cfg->notice_text,
		.console_url = cfg_str(cfg, CFG_CONSOLE_URL),
		.id = rep->id,
	};
	outcheck_result_t r;

	if (outcheck_message(out->data, out->len, &o, &r) != 0)
		abort();
	if (rep->output_check[0] && rep->verdict != VERDICT_QUARANTINED)
		abort();
	if (strict() && rep->output_check[0])
		abort();
}

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
		setup();
		ready = 1;
	}
	buf_init(&out, 64 * 1024 * 1024);
	buf_init(&json, 16 * 1024 * 1024);
	if (mail_sanitize(&cfgs[size % VARIANTS], "20261125-000000-00000000", (const char *)data, size, &out, &rep) < 0)
		abort();
	check_output(&out);
	/* exact accounting: every MIME leaf rendered or listed (issue #8) */
	if (rep.verdict != VERDICT_QUARANTINED &&
	    rep.parts_total != rep.parts_rendered + rep.parts_listed)
		abort();
	check_outcheck(&cfgs[size % VARIANTS], &out, &rep);
	if (report_json(&rep, &json) < 0)
		abort();
	report_free(&rep);
	buf_free(&out);
	buf_free(&json);
	return 0;
}
