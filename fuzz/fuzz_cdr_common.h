/*
 * fuzz_cdr_common.h — shared body of the CDR fuzz targets: a config with
 * small limits (so each input is fast), one cdr_sanitize() call, and the
 * invariants every verdict must keep (blocked ⇒ reason and no output;
 * sanitized ⇒ output and an output type; the report is valid JSON-able).
 *
 * SECURITY: test harness only.
 */
#ifndef MUGAI_FUZZ_CDR_COMMON_H
#define MUGAI_FUZZ_CDR_COMMON_H

#include <stdlib.h>
#include <string.h>

#include "cdr/cdr.h"

static cfg_t *fuzz_cfg(void)
{
	static cfg_t cfg;
	static int inited;
	static const char *const set[][2] = {
		{ "pdf_dpi", "36" }, { "pdf_pages_max", "8" }, { "pdf_page_pixels_max", "1000000" },
		{ "image_pixels_max", "4000000" }, { "zip_entries_max", "64" },
		{ "zip_total_max", "16M" }, { "cdr_output_max", "64M" }, { "cdr_time_max", "20" },
	};
	char err[256];

	if (!inited) {
		if (cfg_init(&cfg) < 0)
			abort();
		for (size_t i = 0; i < sizeof(set) / sizeof(set[0]); i++)
			if (cfg_set(&cfg, set[i][0], set[i][1], err, sizeof(err)) < 0)
				abort();
		inited = 1;
	}
	return &cfg;
}

static void fuzz_one(const char *name, const unsigned char *data, size_t size, cdr_mode_t mode)
{
	cdr_result_t r;
	buf_t j;

	if (cdr_sanitize(fuzz_cfg(), name, data, size, mode, &r) < 0)
		abort();
	if (r.verdict == CDR_BLOCKED && (!r.reason[0] || r.out.len))
		abort();
	if (r.verdict == CDR_SANITIZED && (!r.out_type || !r.out.len))
		abort();
	buf_init(&j, 1 << 20);
	if (cdr_result_json(&r, &j) < 0)
		abort();
	buf_free(&j);
	cdr_result_free(&r);
}

#endif
