/*
 * fuzz_cdr_zip.c — libFuzzer target for zip, OOXML and ODF CDR (the type
 * is sniffed from the content: a package with [Content_Types].xml is OOXML,
 * one with an ODF mimetype is ODF, anything else a zip whose entries are
 * sanitized recursively, text/CSV included).
 *
 * SECURITY: test harness only.
 */
#include "fuzz_cdr_common.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	fuzz_one("f.zip", data, size, CDR_MODE_REBUILD);
	return 0;
}
