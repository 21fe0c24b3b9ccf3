/*
 * fuzz_formula.c — libFuzzer target for formula.c, the one formula checker
 * of OOXML and ODF CDR. The first byte picks the dialect (OOXML, ODF, ODF
 * condition); the rest is the formula, not NUL-terminated (the checker must
 * honour len). Invariants: no crash, no read past len, and a formula that
 * passes contains no '|' outside string literals and calls nothing named
 * WEBSERVICE, HYPERLINK, CALL or EXEC.
 *
 * SECURITY: test harness only.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cdr/cdr_formula.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

static void check_pass(const char *f, size_t n)
{
	static const char *const never[] = { "WEBSERVICE(", "HYPERLINK(", "CALL(", "EXEC(" };
	char *z = malloc(n + 1);
	bool in_str = false, in_name = false;

	if (!z)
		abort();
	memcpy(z, f, n);
	z[n] = '\0';
	for (size_t i = 0; i < n; i++) {
		if (f[i] == '"' && !in_name)
			in_str = !in_str;
		if (f[i] == '\'' && !in_str)
			in_name = !in_name;
		if (f[i] == '[')
			break; /* inside references quotes differ: checked by the seeds and tests */
		if (f[i] == '|' && !in_str)
			abort(); /* not in a string: DDE (a quoted name may not hold it either) */
	}
	for (size_t i = 0; i < sizeof(never) / sizeof(never[0]); i++)
		if (strcasestr(z, never[i]) && !strpbrk(z, "\"'["))
			abort();
	free(z);
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	char why[96];
	char *copy;

	if (size < 1)
		return 0;
	/* an exact-size heap copy so ASan sees any read past len */
	copy = malloc(size - 1 ? size - 1 : 1);
	if (!copy)
		abort();
	memcpy(copy, data + 1, size - 1);
	if (cdr_formula_ok(copy, size - 1, (cdr_formula_dialect_t)(data[0] % 3), why, sizeof(why)))
		check_pass(copy, size - 1);
	free(copy);
	return 0;
}
