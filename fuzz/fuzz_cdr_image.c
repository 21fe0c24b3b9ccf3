/*
 * fuzz_cdr_image.c — libFuzzer target for image CDR (PNG, JPEG, GIF, BMP,
 * TIFF: our header parser for the declared size, then MuPDF decode and
 * re-encode). Inputs that are not images are blocked quickly.
 *
 * SECURITY: test harness only.
 */
#include "fuzz_cdr_common.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	fuzz_one("f.img", data, size, CDR_MODE_DEFAULT);
	return 0;
}
