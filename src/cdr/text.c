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
 * quoting): every cell that starts with = + - @ TAB or CR and is not a plain
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

static bool plain_number(const char *p, const char *end, char sep)
{
	bool digit = false;

	if (p < end && (*p == '-' || *p == '+'))
		p++;
	for (; p < end && *p != sep && *p != '\n' && *p != '\r' && *p != '"'; p++) {
		if (*p >= '0' && *p <= '9')
			digit = true;
		else if (*p != '.' && *p != ',')
			return false;
	}
	return digit;
}

static bool cell_bad(const char *p, const char *end, char sep)
{
	if (p >= end)
		return false;
	if (*p == '\r')
		return !(p + 1 < end && p[1] == '\n');
	if (*p == '=' || *p == '@' || *p == '\t')
		return *p != sep;
	if (*p == '+' || *p == '-')
		return !plain_number(p, end, sep);
	return false;
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
	if (cell_bad(c->p, c->end, c->sep)) {
		c->fixed++;
		return buf_putc(c->out, '\'');
	}
	return 0;
}

static int csv_neutralize(const char *in, size_t len, char sep, buf_t *out, size_t *fixed)
{
	csv_t c = { .p = in, .end = in + len, .sep = sep, .at_start = true, .out = out };

	while (c.p < c.end) {
		if (c.at_start && *c.p != sep && *c.p != '\n' &&
		    !(*c.p == '\r' && c.p + 1 < c.end && c.p[1] == '\n') && csv_start(&c) < 0)
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
		} else if (!c.quoted && (*c.p == sep || *c.p == '\n')) {
			c.at_start = true;
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
	char *ip = in->data, tmp[4096];
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

static int report(cdr_result_t *res, const charset_stats_t *st, size_t dropped, size_t fixed)
{
	if (cdr_action(res, "text-decoded: %s to %s", st->used ? st->used : "UTF-8", "UTF-8") < 0)
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
				  strcasecmp(ext, "tsv") ? ',' : '\t', &neu, &fixed) < 0)
		goto out;
	if (finish(job, csv ? &neu : &cl, res) < 0 || report(res, &st, dropped, fixed) < 0)
		goto out;
	res->type = csv ? "csv" : "text";
	res->out_type = res->type;
	res->verdict = CDR_SANITIZED;
	rc = res->out.len ? 0 : cdr_block(res, "empty-after-sanitizing");
out:
	if (rc < 0 && (dec.capped || cl.capped || neu.capped || res->out.capped))
		rc = cdr_block(res, "limit:cdr_output_max");
	buf_free(&dec);
	buf_free(&cl);
	buf_free(&neu);
	return rc;
}
