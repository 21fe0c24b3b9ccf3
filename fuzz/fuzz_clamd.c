/*
 * fuzz_clamd.c — libFuzzer target for the clamd reply parser and the
 * `antivirus` value parser (src/daemon/clamd.c). Checks: a FOUND verdict
 * has a non-empty signature of printable ASCII only, NUL-terminated within
 * the buffer; CLEAN and ERROR leave it empty; the target parser never
 * accepts a kind other than its three.
 *
 * SECURITY: test code.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "daemon/clamd.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char sig[CLAMD_SIG_MAX], err[ERR_TEXT_MAX], *spec;
	clamd_verdict_t v = clamd_reply_parse((const char *)data, size, sig, sizeof(sig));
	size_t n = strnlen(sig, sizeof(sig));
	av_target_t t;

	if (n == sizeof(sig) || (v == CLAMD_FOUND) != (n > 0))
		abort();
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)sig[i] <= 0x20 || (unsigned char)sig[i] >= 0x7f)
			abort();
	spec = malloc(size + 1);
	if (!spec)
		return 0;
	memcpy(spec, data, size);
	spec[size] = '\0';
	if (clamd_parse_target(spec, &t, err, sizeof(err)) == 0 && t.kind != AV_NONE &&
	    t.kind != AV_UNIX && t.kind != AV_INET)
		abort();
	free(spec);
	return 0;
}
