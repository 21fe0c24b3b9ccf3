/*
 * fuzz_cdr_pdf.c — libFuzzer target for PDF CDR. The first byte picks the
 * mode (bit 0: flatten or rebuild) and, for a flatten, whether to run it a
 * second time handing each finished page over (bit 1, cdr_spill_set as
 * `mugai file sanitize` does): the pages handed over and the rest must be
 * the same verdict and the same bytes as the flatten that kept them all.
 * The rest is the PDF.
 *
 * SECURITY: test harness only.
 */
#include "fuzz_cdr_common.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

static int keep(void *arg, const char *p, size_t n)
{
	return buf_append(arg, p, n);
}

/* The flatten again with every page handed over: same verdict, same file. */
static void spilled_same(const unsigned char *data, size_t size)
{
	cdr_result_t a, b;
	buf_t got;
	cdr_spill_t s = { keep, &got, 1 };

	buf_init(&got, 1 << 28);
	if (cdr_sanitize(fuzz_cfg(), "f.pdf", data, size, CDR_MODE_FLATTEN, &a) < 0)
		abort();
	cdr_spill_set(&s);
	if (cdr_sanitize(fuzz_cfg(), "f.pdf", data, size, CDR_MODE_FLATTEN, &b) < 0)
		abort();
	cdr_spill_set(NULL);
	if (a.verdict != b.verdict || strcmp(a.reason, b.reason) != 0)
		abort();
	if (b.spilled != got.len)
		abort();
	if (a.verdict == CDR_SANITIZED &&
	    (buf_append(&got, b.out.data, b.out.len) < 0 || got.len != a.out.len ||
	     memcmp(got.data, a.out.data, a.out.len) != 0))
		abort();
	buf_free(&got);
	cdr_result_free(&a);
	cdr_result_free(&b);
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	if (size < 1)
		return 0;
	if ((data[0] & 3) == 2)
		spilled_same(data + 1, size - 1);
	else
		fuzz_one("f.pdf", data + 1, size - 1, data[0] & 1 ? CDR_MODE_REBUILD : CDR_MODE_FLATTEN);
	return 0;
}
