/*
 * whose.c — whose mail is it: a bounded pass over the raw top-level header
 * block that decodes From, To, Cc, Subject and Date when the parser never
 * ran or gave up (a limit tripped in the prescan, an unparseable message),
 * so that even a quarantine notice says whose mail was withheld; and the
 * one-line forms of those values for the report and the notice.
 * RFC 5322 §2.2 (header fields, folding), RFC 2047 (via hdr.c).
 *
 * SECURITY: sanitizer worker, hostile bytes. Reads at most header_bytes_max
 * bytes; a field longer than header_value_max is skipped; values go
 * through the same decoders as parsed headers (headers.c).
 */
#include "mail/mail_int.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

static bool wanted(const char *name, size_t n)
{
	static const char *const names[] = { "From", "To", "Cc", "Subject", "Date" };

	for (size_t i = 0; i < MUGAI_ARRAY_LEN(names); i++)
		if (strlen(names[i]) == n && strncasecmp(name, names[i], n) == 0)
			return true;
	return false;
}

/* One field "name: value" (folded lines included) at p[0..n). */
static int field(mail_ctx_t *c, hdrset_t *h, const char *p, size_t n)
{
	const char *colon = memchr(p, ':', n);
	char name[16], *raw;
	size_t nl, o = 0;
	int rc;

	if (!colon || !wanted(p, (size_t)(colon - p)))
		return 0;
	nl = (size_t)(colon - p);
	memcpy(name, p, nl);
	name[nl] = '\0';
	if (!cfg_list_has(c->cfg, CFG_HEADER_KEEP, name))
		return 0;
	raw = malloc(n - nl);
	if (!raw)
		return -1;
	for (const char *q = colon + 1; q < p + n; q++)
		if (*q != '\r')
			raw[o++] = *q ? *q : ' ';
	raw[o] = '\0';
	rc = hdrset_collect_field(c, h, name, raw);
	free(raw);
	return rc;
}

int whose_collect(mail_ctx_t *c, const char *in, size_t len, hdrset_t *h)
{
	size_t bound = len < (size_t)lim(c->lim, LIM_HEADER_BYTES) ? len
			: (size_t)lim(c->lim, LIM_HEADER_BYTES);
	size_t vmax = (size_t)lim(c->lim, LIM_HEADER_VALUE);
	size_t off = 0;

	memset(h, 0, sizeof(*h));
	while (off < bound) {
		size_t start = off, end;

		/* the field runs over its continuation lines (leading SP/HT) */
		do {
			const char *nl = memchr(in + off, '\n', bound - off);

			off = nl ? (size_t)(nl - in) + 1 : bound;
		} while (off < bound && (in[off] == ' ' || in[off] == '\t'));
		end = off;
		while (end > start && (in[end - 1] == '\n' || in[end - 1] == '\r'))
			end--;
		if (end == start)
			break; /* the blank line: end of the header */
		if (off == bound && bound < len)
			break; /* cut by the bound: not a whole field */
		if (end - start <= vmax && field(c, h, in + start, end - start) < 0)
			return -1;
	}
	return 0;
}

/* The value on one line: controls and line ends become spaces. */
static char *one_line(const char *s)
{
	buf_t b;
	char *out;

	buf_init(&b, 4 * strlen(s) + 64);
	if (wr_clean(&b, s, strlen(s), WR_ONELINE) < 0) {
		buf_free(&b);
		return NULL;
	}
	for (size_t i = 0; i < b.len; i++)
		if (b.data[i] == '\n' || b.data[i] == '\t')
			b.data[i] = ' ';
	out = buf_steal(&b, NULL);
	return out;
}

static char *list_line(InternetAddressList *l)
{
	char *s = l ? internet_address_list_to_string(l, NULL, FALSE) : NULL;
	char *line = s && *s ? one_line(s) : NULL;

	g_free(s);
	return line;
}

/* Locale-free (the sandbox forbids GLib's locale files). */
static char *date_line(GDateTime *d)
{
	long off = (long)(g_date_time_get_utc_offset(d) / G_TIME_SPAN_MINUTE);
	long aoff = off < 0 ? -off : off;
	char *s = NULL;

	if (asprintf(&s, "%04d-%02d-%02d %02d:%02d:%02d %c%02ld%02ld", g_date_time_get_year(d),
		     g_date_time_get_month(d), g_date_time_get_day_of_month(d),
		     g_date_time_get_hour(d), g_date_time_get_minute(d),
		     g_date_time_get_second(d), off < 0 ? '-' : '+', aoff / 60, aoff % 60) < 0)
		return NULL;
	return s;
}

void whose_display(mail_report_t *r, const hdrset_t *h)
{
	free(r->from);
	free(r->to);
	free(r->cc);
	free(r->subject);
	free(r->date);
	r->from = list_line(h->from);
	r->to = list_line(h->to);
	r->cc = list_line(h->cc);
	r->subject = h->subject ? one_line(h->subject) : NULL;
	r->date = h->date ? date_line(h->date) : NULL;
}
