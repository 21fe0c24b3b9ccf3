/* fuzz_smtp.c — libFuzzer target for mugaid's SMTP protocol parser: the
 * input is split into command lines (smtp_line_find + smtp_cmd_parse) until
 * a DATA command, after which the rest goes through the DATA decoder in
 * chunks whose size the first byte chooses. Checks: output never longer
 * than input + 1 per chunk, consumed never past the chunk. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "daemon/smtp.c"

static void data_phase(const char *p, size_t n, size_t step)
{
	smtp_data_t d;
	char *out = malloc(step + 1);
	size_t off = 0;

	smtp_data_init(&d);
	while (out && off < n) {
		size_t k = n - off < step ? n - off : step, o, used;
		smtp_data_status_t st = smtp_data_feed(&d, p + off, k, out, &o, &used);

		if (o > k + 1 || used > k)
			abort();
		off += used;
		if (st != SMTP_DATA_MORE)
			break;
	}
	free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data;
	size_t step, off = 1;

	if (size < 1)
		return 0;
	step = (size_t)data[0] % 64 + 1;
	while (off < size) {
		size_t len, used;
		smtp_cmd_t c;
		const char *reply;

		if (smtp_line_find(p + off, size - off, 512, &len, &used) != SMTP_LINE_OK)
			return 0;
		if (smtp_cmd_parse(p + off, len, &c, &reply) < 0 && !reply)
			abort();
		off += used;
		if (c.verb == SMTP_DATA)
			break;
	}
	data_phase(p + off, size - off, step);
	return 0;
}
