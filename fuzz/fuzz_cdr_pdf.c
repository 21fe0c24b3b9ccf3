/*
 * fuzz_cdr_pdf.c — libFuzzer target for PDF CDR. The first byte picks the
 * mode (flatten or rebuild); the rest is the PDF.
 *
 * SECURITY: test harness only.
 */
#include "fuzz_cdr_common.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	if (size < 1)
		return 0;
	fuzz_one("f.pdf", data + 1, size - 1, data[0] & 1 ? CDR_MODE_REBUILD : CDR_MODE_FLATTEN);
	return 0;
}
