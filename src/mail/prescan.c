/*
 * prescan.c — limits and canonical line ends before parsing (see prescan.h).
 * RFC 5322 §2.1.1 (line length), §2.2 (header/body separation).
 *
 * SECURITY: sanitizer worker; linear time; the copy is bounded by the
 * message_size_max limit checked first.
 */
#include "mail/prescan.h"

#include <stdlib.h>
#include <string.h>

void prescan_free(prescan_t *ps)
{
	free(ps->data);
	memset(ps, 0, sizeof(*ps));
}

/* Length of the top-level header block: up to the first empty line. */
static size_t header_block_len(const char *p, size_t n)
{
	for (size_t i = 0; i + 1 < n; i++)
		if (p[i] == '\n' && p[i + 1] == '\n')
			return i + 1;
	return n;
}

/* Length of the run from in[i] that needs no rewriting: no CR, NUL or LF. */
static size_t plain_run(const char *in, size_t i, size_t len)
{
	size_t j = i;

	while (j < len && in[j] != '\n' && in[j] != '\r' && in[j] != '\0')
		j++;
	return j - i;
}

static void canonicalize(const char *in, size_t len, prescan_t *ps)
{
	size_t line = 0, o = 0, crlf = 0;
	char *out = ps->data;

	for (size_t i = 0; i < len; i++) {
		size_t run = plain_run(in, i, len);
		char c;

		if (run) {
			memcpy(out + o, in + i, run);
			o += run;
			line += run;
			i += run;
			if (i >= len)
				break;
		}
		c = in[i];
		if (c == '\0') {
			ps->nul_bytes++;
			continue;
		}
		if (c == '\r') {
			if (i + 1 < len && in[i + 1] == '\n') {
				crlf++;
				continue;
			}
			ps->bare_cr++;
			c = '\n';
		} else if (c == '\n' && (i == 0 || in[i - 1] != '\r')) {
			ps->bare_lf++;
		}
		if (c == '\n') {
			if (line > ps->longest_line)
				ps->longest_line = line;
			line = 0;
		} else {
			line++;
		}
		out[o++] = c;
	}
	if (line > ps->longest_line)
		ps->longest_line = line;
	ps->len = o;
	ps->crlf = crlf;
}

int mail_prescan(const char *in, size_t len, const limits_t *l, prescan_t *ps,
		 mail_report_t *r)
{
	memset(ps, 0, sizeof(*ps));
	if (len > (size_t)lim(l, LIM_MESSAGE_SIZE)) {
		report_limit(r, limit_table[LIM_MESSAGE_SIZE].name);
		return 1;
	}
	ps->data = malloc(len + 1);
	if (!ps->data)
		return -1;
	canonicalize(in, len, ps);
	ps->data[ps->len] = '\0';
	ps->header_bytes = header_block_len(ps->data, ps->len);
	if (ps->longest_line > (size_t)lim(l, LIM_LINE_LENGTH))
		report_limit(r, limit_table[LIM_LINE_LENGTH].name);
	if (ps->header_bytes > (size_t)lim(l, LIM_HEADER_BYTES))
		report_limit(r, limit_table[LIM_HEADER_BYTES].name);
	if (r->n_limits) {
		prescan_free(ps);
		return 1;
	}
	if (ps->nul_bytes)
		report_warn(r, "%zu NUL bytes removed", ps->nul_bytes);
	if (ps->bare_cr)
		report_warn(r, "bare CR line ends");
	if (ps->bare_lf && ps->crlf)
		report_warn(r, "mixed CRLF and bare LF line ends");
	return 0;
}
