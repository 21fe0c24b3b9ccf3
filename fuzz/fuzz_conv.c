/*
 * fuzz_conv.c — libFuzzer target for conv_decode(), the answer record a
 * sanitizer worker reads in the second pass of a legacy conversion
 * (mail/conv.h). Any input is refused or split into items that name a
 * legacy type, carry a SHA-256 in lower-case hex, and hold either a PDF
 * or a reason (never both, never neither), whose lengths add up to the
 * input.
 *
 * SECURITY: test code.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cdr/cdr.h"
#include "mail/conv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	conv_set_t s;
	size_t sum = 8;

	if (conv_decode((const char *)data, size, 1u << 20, &s) == 0) {
		for (size_t i = 0; i < s.n; i++) {
			const conv_item_t *it = &s.items[i];

			if (!cdr_legacy_type(it->type) || (it->data.len == 0) == (it->reason[0] == '\0'))
				abort();
			if (strlen(it->sum) != 64 || strspn(it->sum, "0123456789abcdef") != 64)
				abort();
			sum += 4 + strlen(it->type) + 4 + strlen(it->reason) + 4 + 64 + 8 + it->data.len;
		}
		if (sum != size || !s.answered)
			abort();
	}
	conv_set_free(&s);
	return 0;
}
