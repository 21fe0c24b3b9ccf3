/*
 * text.c — text and CSV CDR, and zip entry name decoding.
 *
 * Text is decoded by the project's charset layer (charset_decode with no
 * label sniffs UTF-8, CP932, EUC-JP and ISO-2022-JP), so no Japanese
 * character is lost; what cannot be decoded becomes U+FFFD and is counted
 * in the report. Then: a leading BOM, C0 controls other than TAB/LF/CR,
 * DEL, C1 controls and bidi overrides (U+202A–202E, U+2066–2069, "Trojan
 * Source") are removed. Output is UTF-8, or CP932 when
 * text_output_charset = cp932 (unencodable characters become '?', counted).
 *
 * A file whose name ends in .csv or .tsv is treated as CSV (RFC 4180
 * quoting, rows ended by CR, LF or CRLF as Excel does, a first line "sep=X"
 * honoured and kept): every cell that starts, possibly after blanks, with
 * = + - @ (ASCII, full-width or small form) or TAB and is not a plain
 * number gets a leading apostrophe, so spreadsheet software shows it as
 * text instead of evaluating it (CSV/formula injection, DDE).
 *
 * Specs: RFC 4180 (CSV), Unicode TR #9 / CVE-2021-42574 (bidi controls).
 *
 * SECURITY: runs in the sanitizer worker; output capped by cdr_output_max.
 * The CP932 encoder uses iconv: in a sandboxed worker, iconv's modules must
 * be loaded before the sandbox closes the file system.
 */
#include "cdr/cdr_int.h"

#include <errno.h>
#include <iconv.h>
#include <string.h>
#include <strings.h>

#include "common/utf8.h"
#include "text/charset.h"

int cdr_name_to_utf8(const unsigned char *raw, size_t len, buf_t *out)
{
	charset_stats_t st = { 0 };

	if (utf8_valid((const char *)raw, len))
		return buf_append(out, raw, len);
	return charset_decode("CP932", (const char *)raw, len, out, &st);
}

static bool drop_cp(uint32_t cp)
{
	if (cp < 0x20)
		return cp != '\t' && cp != '\n' && cp != '\r';
	return cp == 0x7f || (cp >= 0x80 && cp <= 0x9f) || (cp >= 0x202a && cp <= 0x202e) ||
	       (cp >= 0x2066 && cp <= 0x2069) || cp == 0xfeff;
}

/* Copy valid UTF-8 in → out without dropped code points; count them. */
static int clean(const char *in, size_t len, buf_t *out, size_t *dropped)
{
	size_t i = 0;

	while (i < len) {
		uint32_t cp;
		size_t n = utf8_decode_one((const unsigned char *)in + i, len - i, &cp);

		if (n == 0)
			n = 1, cp = 0xfffd;
		if (drop_cp(cp))
			(*dropped)++;
		else if (buf_append(out, in + i, n) < 0)
			return -1;
		i += n;
	}
	return 0;
}

/* ---- CSV --------------------------------------------------------------- */

/* Full-width and small-form signs that Excel (with a Japanese IME) takes as
 * the start of a formula, like their ASCII forms: ＝ ＋ － ＠ − ﹦ ﹢ ﹣ ﹫. */
static const char *const wide_signs[] = {
	"\xef\xbc\x9d", "\xef\xbc\x8b", "\xef\xbc\x8d", "\xef\xbc\xa0", "\xe2\x88\x92",
	"\xef\xb9\xa6", "\xef\xb9\xa2", "\xef\xb9\xa3", "\xef\xb9\xab",
};

static bool row_end(char ch)
{
	return ch == '\n' || ch == '\r';
}

static bool plain_number(const char *p, const char *end, char sep)
{
	bool digit = false;

	if (p < end && (*p == '-' || *p == '+'))
		p++;
	for (; p < end && *p != sep && !row_end(*p) && *p != '"'; p++) {
		if (*p >= '0' && *p <= '9')
			digit = true;
		else if (*p != '.' && *p != ',')
			return false;
	}
	return digit;
}

/* Skip what Excel ignores before a formula sign: spaces, TAB (unless it is
 * the separator), no-break space, ideographic space, and, inside quotes,
 * line breaks. (The text is UTF-8 here: the decoder ran first.) */
static const char *skip_blank(const char *p, const char *end, char sep, bool quoted)
{
	while (p < end) {
		if ((*p == ' ' || *p == '\t') && *p != sep)
			p++;
		else if (quoted && row_end(*p))
			p++;
		else if (end - p >= 3 && memcmp(p, "\xe3\x80\x80", 3) == 0)
			p += 3;
		else if (end - p >= 2 && memcmp(p, "\xc2\xa0", 2) == 0)
			p += 2;
		else
			break;
	}
	return p;
}

static bool wide_sign(const char *q, const char *end)
{
	for (size_t i = 0; i < MUGAI_ARRAY_LEN(wide_signs); i++) {
		size_t n = strlen(wide_signs[i]);

		if ((size_t)(end - q) >= n && memcmp(q, wide_signs[i], n) == 0)
			return true;
	}
	return false;
}

/* Does the cell at p start (after blanks) with a formula sign? A sign after
 * blanks is always neutralized; a bare +/- only when not a plain number. */
static bool cell_bad(const char *p, const char *end, char sep, bool quoted)
{
	const char *q = skip_blank(p, end, sep, quoted);

	if (q >= end || *q == sep)
		return q != p && *p == '\t'; /* a TAB-led cell, as before */
	if (*q == '=' || *q == '@' || wide_sign(q, end))
		return true;
	if (*q == '+' || *q == '-')
		return q != p || !plain_number(q, end, sep);
	return *p == '\t';
}

typedef struct csv {
	const char *p, *end;
	char sep;
	bool at_start, quoted;
	size_t fixed;
	buf_t *out;
} csv_t;

static int csv_start(csv_t *c)
{
	c->at_start = false;
	if (*c->p == '"') {
		c->quoted = true;
		if (buf_putc(c->out, '"') < 0)
			return -1;
		c->p++;
	}
	if (cell_bad(c->p, c->end, c->sep, c->quoted)) {
		c->fixed++;
		return buf_putc(c->out, '\'');
	}
	return 0;
}

/* A first line "sep=X" (any letter case) makes Excel split on X. Returns X,
 * or 0 when there is no such line; *skip gets the line's length with its
 * line break (the line is kept in the output, so that Excel splits the
 * output exactly as it was neutralized). */
static char sep_line(const char *in, size_t len, size_t *skip)
{
	size_t n = 5;

	if (len < 5 || strncasecmp(in, "sep=", 4) != 0)
		return 0;
	if ((unsigned char)in[4] < 0x20 || (unsigned char)in[4] >= 0x7f || in[4] == '"')
		return 0;
	if (n < len && !row_end(in[n]))
		return 0;
	if (n < len && in[n] == '\r')
		n++;
	if (n < len && in[n] == '\n')
		n++;
	*skip = n;
	return in[4];
}

static int csv_neutralize(const char *in, size_t len, char sep, buf_t *out, size_t *fixed,
			  bool *sep_seen)
{
	csv_t c = { .p = in, .end = in + len, .sep = sep, .at_start = true, .out = out };
	size_t skip = 0;
	char x = sep_line(in, len, &skip);

	*sep_seen = x != 0;
	if (x) {
		c.sep = x;
		if (buf_append(out, in, skip) < 0)
			return -1;
		c.p += skip;
	}
	while (c.p < c.end) {
		if (c.at_start && *c.p != c.sep && !row_end(*c.p) && csv_start(&c) < 0)
			return -1;
		if (c.p >= c.end)
			break;
		if (c.quoted && *c.p == '"') {
			if (c.p + 1 < c.end && c.p[1] == '"') {
				if (buf_putc(out, '"') < 0)
					return -1;
				c.p++;
			} else {
				c.quoted = false;
			}
		} else if (!c.quoted && (*c.p == c.sep || row_end(*c.p))) {
			c.at_start = true; /* CR, LF and CRLF all end a row */
		}
		if (buf_putc(out, *c.p++) < 0)
			return -1;
	}
	*fixed = c.fixed;
	return 0;
}

/* ---- CP932 output ------------------------------------------------------ */

static int to_cp932(const buf_t *in, buf_t *out, size_t *lost)
{
	iconv_t cd = iconv_open("CP932", "UTF-8");
	char *ip = in->data, tmp[CDR_TEXT_CHUNK];
	size_t il = in->len;
	int rc = 0;

	if (cd == (iconv_t)-1)
		return -1;
	while (il > 0 && rc == 0) {
		char *op = tmp;
		size_t ol = sizeof(tmp);
		size_t r = iconv(cd, &ip, &il, &op, &ol);

		rc = buf_append(out, tmp, sizeof(tmp) - ol);
		if (r == (size_t)-1 && errno != E2BIG && rc == 0) {
			uint32_t cp;
			size_t n = utf8_decode_one((unsigned char *)ip, il, &cp);

			n = n ? n : 1;
			ip += n, il -= n;
			(*lost)++;
			rc = buf_putc(out, '?');
		}
	}
	iconv_close(cd);
	return rc;
}

/* ---- driver ------------------------------------------------------------- */

static int finish(cdr_job_t *job, buf_t *utf8, cdr_result_t *res)
{
	size_t lost = 0;

	if (!cfg_is(job->cfg, CFG_TEXT_OUTPUT_CHARSET, "cp932"))
		return buf_append(&res->out, utf8->data, utf8->len);
	if (to_cp932(utf8, &res->out, &lost) < 0)
		return -1;
	return lost ? cdr_action(res, "text-cp932-lossy: %zu characters not in CP932 became '?'", lost) : 0;
}

/* "text-decoded" only when the encoding changed: UTF-8 to UTF-8 (or plain
 * ASCII, the same bytes in UTF-8 and CP932) is no conversion at all. */
static int report_decoded(cdr_job_t *job, cdr_result_t *res, const charset_stats_t *st)
{
	const char *from = st->used ? st->used : "UTF-8";
	const char *to = cfg_is(job->cfg, CFG_TEXT_OUTPUT_CHARSET, "cp932") ? "CP932" : "UTF-8";

	if (strcmp(from, to) == 0 || strcmp(from, "US-ASCII") == 0)
		return 0;
	return cdr_action(res, "text-decoded: %s to %s", from, to);
}

static int report(cdr_job_t *job, cdr_result_t *res, const charset_stats_t *st, size_t dropped,
		  size_t fixed)
{
	if (report_decoded(job, res, st) < 0)
		return -1;
	if (st->losses && cdr_action(res, "text-undecodable: %zu undecodable characters became U+FFFD", st->losses) < 0)
		return -1;
	if (dropped && cdr_action(res, "text-controls-removed: %zu control characters", dropped) < 0)
		return -1;
	if (fixed && cdr_action(res, "csv-formula-neutralized: %zu CSV formula cells", fixed) < 0)
		return -1;
	return 0;
}

int cdr_text(cdr_job_t *job, const unsigned char *in, size_t len, cdr_result_t *res)
{
	const char *ext = cdr_name_ext(job->name);
	bool csv = !strcasecmp(ext, "csv") || !strcasecmp(ext, "tsv");
	size_t max = res->out.max, dropped = 0, fixed = 0;
	bool sep_seen = false;
	charset_stats_t st = { 0 };
	buf_t dec, cl, neu;
	int rc = -1;

	buf_init(&dec, max);
	buf_init(&cl, max);
	buf_init(&neu, max);
	if (charset_decode(NULL, (const char *)in, len, &dec, &st) < 0 ||
	    clean(dec.data ? dec.data : "", dec.len, &cl, &dropped) < 0)
		goto out;
	if (csv && csv_neutralize(cl.data ? cl.data : "", cl.len,
				  strcasecmp(ext, "tsv") ? ',' : '\t', &neu, &fixed, &sep_seen) < 0)
		goto out;
	if (sep_seen && cdr_action(res, "csv-sep-line: separator from the first line sep=") < 0)
		goto out;
	if (finish(job, csv ? &neu : &cl, res) < 0 || report(job, res, &st, dropped, fixed) < 0)
		goto out;
	res->type = csv ? "csv" : "text";
	rc = res->out.len ? cdr_done(res, res->type) : cdr_block(res, "empty-after-sanitizing");
out:
	if (rc < 0 && (dec.capped || cl.capped || neu.capped || res->out.capped))
		rc = cdr_block(res, "limit:cdr_output_max");
	buf_free(&dec);
	buf_free(&cl);
	buf_free(&neu);
	return rc;
}
