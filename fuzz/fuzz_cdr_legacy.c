/*
 * fuzz_cdr_legacy.c — libFuzzer target for the engine side of legacy
 * conversion (cdr/legacy.c): the OLE2 directory-name scan and RTF
 * recognition ("needs conversion" must be a blocked verdict with a reason
 * and no output), and cdr_sanitize_converted() on the same bytes as the
 * jail's hostile PDF. The jail itself is not run here.
 *
 * SECURITY: test harness only.
 */
#include "fuzz_cdr_common.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	cdr_result_t r;

	fuzz_one("f.doc", data, size, CDR_MODE_DEFAULT);
	if (cdr_sanitize_converted(fuzz_cfg(), "f.xls", "xls", size, data, size, &r) < 0)
		abort();
	if (r.verdict == CDR_BLOCKED && (!r.reason[0] || r.out.len || r.convert))
		abort();
	if (r.verdict == CDR_SANITIZED && strcmp(r.type, "xls") != 0)
		abort();
	cdr_result_free(&r);
	return 0;
}
