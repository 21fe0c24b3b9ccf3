/*
 * outcheck.c — the independent output check (see outcheck.h). Written from
 * the writer/check contract of issue #8 only: it calls neither the text
 * writer nor the link code, and has its own reader of our output format,
 * base64 decoder, RFC 2047 decoder (UTF-8, and the iso-8859-1 and us-ascii
 * GMime picks for a value that fits them; B and Q only), RFC 2231 parameter
 * decoder and UTF-8 validator. RFC 5322, RFC 2045 §6.8, RFC 2046 §5.1,
 * RFC 2047, RFC 2231, RFC 3629.
 *
 * Order for every examined text: rule 1 (code points), then rule 8 (notice
 * forgery), then one left-to-right pass for rules 2–7; the first hit wins.
 * The pass steps over exactly one span: the console URL of the notice's
 * line 「取り出しの依頼: console_url/q/ID（」, found by this file's own
 * reading of the notice (console_allowed), with ID the message's own id.
 *
 * SECURITY: input is the message the engine built from hostile mail; every
 * index is checked against the length; each byte is visited a bounded number
 * of times (linear); one allocation of at most the message length + 1.
 */
#include "mail/outcheck.h"

#include <endian.h>
#include <stdint.h>
#include <stdio.h>
#if defined(__x86_64__) || defined(__SSE2__)
#include <immintrin.h>
#endif
#include <stdlib.h>
#include <string.h>
#include "common/id.h"
#include "common/limits.h"

typedef struct oc {
	const outcheck_opts_t *o;
	outcheck_result_t *res;
	const char *msg;
	size_t len;
	char *buf;   /* decoded text, reused for each text; capacity 2 × len + 1
		      * (an ISO-8859-1 byte becomes two UTF-8 bytes) */
	size_t blen;
	bool pct_latin1; /* the RFC 2231 value being read is iso-8859-1/us-ascii */
} oc_t;

static const char *const rule_names[OUTCHECK__COUNT] = {
	"pass", "control", "scheme", "unc", "www", "domain", "email", "encoded", "notice", "format",
};

const char *outcheck_rule_name(outcheck_rule_t r)
{
	return (unsigned)r < OUTCHECK__COUNT ? rule_names[r] : "format";
}

outcheck_rule_t outcheck_rule_from_name(const char *name)
{
	for (int i = 0; name && i < OUTCHECK__COUNT; i++)
		if (strcmp(name, rule_names[i]) == 0)
			return (outcheck_rule_t)i;
	return OUTCHECK__COUNT;
}

static int hit(outcheck_result_t *r, outcheck_rule_t rule, const char *where, size_t off)
{
	r->rule = rule;
	r->where = where;
	r->offset = off;
	return 1;
}

/* ---- character classes (ASCII only; no locale) ---- */

static bool is_alpha(unsigned char c) { return (c | 0x20) >= 'a' && (c | 0x20) <= 'z'; }
static bool is_digit(unsigned char c) { return c >= '0' && c <= '9'; }
static bool is_alnum(unsigned char c) { return is_alpha(c) || is_digit(c); }
static bool is_run(unsigned char c) { return is_alnum(c) || c == '+' || c == '.' || c == '-'; }
static bool is_space(unsigned char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }
static bool is_label(unsigned char c) { return is_alnum(c) || c == '-'; }
static bool is_local(unsigned char c)
{
	return is_alnum(c) || c == '.' || c == '_' || c == '%' || c == '+' || c == '-';
}

/* Inlined, so that strlen of a literal folds to a constant (this runs at
 * every line start and every run of the text). */
static inline __attribute__((always_inline)) bool ci_prefix(const char *s, size_t n,
							  const char *p)
{
	size_t k = strlen(p);

	if (n < k)
		return false;
	for (size_t i = 0; i < k; i++)
		if ((unsigned char)(s[i] | ((is_alpha((unsigned char)s[i])) ? 0x20 : 0)) !=
		    (unsigned char)(p[i] | (is_alpha((unsigned char)p[i]) ? 0x20 : 0)))
			return false;
	return true;
}

static inline __attribute__((always_inline)) bool ci_eq(const char *s, size_t n, const char *p)
{
	return n == strlen(p) && ci_prefix(s, n, p);
}

/* ---- rule 1: UTF-8 and code points ---- */

/* One code point at s[i]; *cp = UINT32_MAX when malformed (overlong,
 * surrogate, > U+10FFFF, truncated). Returns bytes used (>= 1). */
static size_t utf8_one(const unsigned char *s, size_t n, size_t i, uint32_t *cp)
{
	unsigned char c = s[i];
	size_t k = c < 0x80 ? 1 : c >= 0xC2 && c <= 0xDF ? 2 : c >= 0xE0 && c <= 0xEF ? 3
		 : c >= 0xF0 && c <= 0xF4 ? 4 : 0;
	uint32_t v = k == 1 ? c : k == 2 ? c & 0x1Fu : k == 3 ? c & 0x0Fu : c & 0x07u;

	*cp = UINT32_MAX;
	if (k == 0 || i + k > n)
		return 1;
	for (size_t j = 1; j < k; j++) {
		if ((s[i + j] & 0xC0) != 0x80)
			return j;
		v = v << 6 | (s[i + j] & 0x3Fu);
	}
	if ((k == 3 && v < 0x800) || (k == 4 && (v < 0x10000 || v > 0x10FFFF)) ||
	    (v >= 0xD800 && v <= 0xDFFF))
		return k;
	*cp = v;
	return k;
}

/* Bytes in a sequence led by c (1 for a continuation or invalid byte). */
static size_t utf8_len(unsigned char c)
{
	return c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
}

static bool cp_forbidden(uint32_t c)
{
	return (c < 0x20 && c != '\t' && c != '\n') || (c >= 0x7F && c <= 0x9F) ||
	       c == 0x00AD || c == 0x061C || c == 0x200B || c == 0x200E || c == 0x200F ||
	       (c >= 0x2028 && c <= 0x202E) || (c >= 0x2060 && c <= 0x2064) ||
	       (c >= 0x2066 && c <= 0x2069) || c == 0xFEFF || (c >= 0xFFF9 && c <= 0xFFFB) ||
	       (c >= 0xE0000 && c <= 0xE007F);
}

#define ONES 0x0101010101010101ull
#define HIGHS 0x8080808080808080ull
/* Some byte of x is zero (the classic bit trick; exact, no false hit). */
static bool has_zero(uint64_t x) { return ((x - ONES) & ~x & HIGHS) != 0; }

/* The end of the run of printable ASCII (0x20-0x7E) starting at i, eight
 * bytes a step while none is a control, DEL, non-ASCII or (when `en`) '['
 * (which rule 8 notes in *end); then byte by byte. */
static size_t printable_run_end(const unsigned char *p, size_t n, size_t i, bool en,
				size_t *end)
{
#if defined(__SSE2__)
	/* sixteen bytes a step: signed > 0x1F is 0x20..0x7F, then not DEL */
	for (; n - i >= 16; i += 16) {
		__m128i x = _mm_loadu_si128((const __m128i *)(const void *)(p + i));
		__m128i bad = _mm_or_si128(_mm_cmpeq_epi8(x, _mm_set1_epi8(0x7F)),
					   _mm_cmplt_epi8(x, _mm_set1_epi8(0x20)));
		unsigned m;

		if (en)
			bad = _mm_or_si128(bad, _mm_cmpeq_epi8(x, _mm_set1_epi8('[')));
		m = (unsigned)_mm_movemask_epi8(bad);
		if (m) {
			i += (size_t)__builtin_ctz(m);
			break;
		}
	}
#endif
	for (uint64_t x; n - i >= 8; i += 8) {
		memcpy(&x, p + i, 8);
		/* a byte < 0x20 or >= 0x80: (x - 0x20..) borrows or x has the high bit */
		if ((((x - 0x20 * ONES) | x) & HIGHS) || has_zero(x ^ (0x7F * ONES)) ||
		    (en && has_zero(x ^ ('[' * ONES))))
			break;
	}
	for (; i < n && p[i] >= 0x20 && p[i] < 0x7f; i++)
		if (en && p[i] == '[')
			*end = i + NOTICE_REACH;
	return i;
}

/* CR is allowed only in the body and only as CR LF. Also notes in *end
 * the end of the last character rule 8 may care about (━, 【, and '[' when
 * `en`), so that rule 8 need not read past it; 0 when there is none. */
static int rule_control(const char *s, size_t n, bool body, bool en, size_t *end,
			outcheck_result_t *r, const char *w)
{
	const unsigned char *p = (const unsigned char *)s;

	*end = 0;
	for (size_t i = 0; i < n;) {
		uint32_t cp;
		size_t k;

		if (p[i] >= 0x20 && p[i] < 0x7f) {
			i = printable_run_end(p, n, i, en, end);
			continue;
		}
		/* U+3000–U+CFFF (kana, CJK, hangul): nothing forbidden there;
		 * four bytes loaded, three judged (little-endian: the lead is
		 * the low byte), then the last ones byte by byte */
		if (p[i] >= 0xE3 && p[i] <= 0xEC) {
#if defined(__SSE2__)
			/* five characters a 16-byte load while all are such and
			 * none ends in 0x90 (a 【 candidate, left to the loops below) */
			for (; n - i >= 16; i += 15) {
				__m128i x = _mm_loadu_si128((const __m128i *)(const void *)(p + i));
				unsigned lead = (unsigned)_mm_movemask_epi8(_mm_and_si128(
					_mm_cmpgt_epi8(x, _mm_set1_epi8((char)0xE2)),
					_mm_cmplt_epi8(x, _mm_set1_epi8((char)0xED))));
				unsigned cont = (unsigned)_mm_movemask_epi8(
					_mm_cmplt_epi8(x, _mm_set1_epi8((char)0xC0)));
				unsigned x90 = (unsigned)_mm_movemask_epi8(
					_mm_cmpeq_epi8(x, _mm_set1_epi8((char)0x90)));

				if ((lead & 0x7FFF) != 0x1249 || (cont & 0x7FFF) != 0x6DB6 ||
				    (x90 & 0x4924))
					break;
			}
#endif
			/* two characters a load while both are such, neither 【 */
			for (uint64_t x; n - i >= 8; i += 6) {
				memcpy(&x, p + i, 8);
				x = le64toh(x);
				if ((x & 0xC0C000C0C000ull) != 0x808000808000ull ||
				    (x & 0xFF) - 0xE3u > 9u || (x >> 24 & 0xFF) - 0xE3u > 9u ||
				    (x & 0xFFFFFF) == 0x9080E3 || (x >> 24 & 0xFFFFFF) == 0x9080E3)
					break;
			}
			for (uint32_t x; n - i >= 4; i += 3) {
				memcpy(&x, p + i, 4);
				x = le32toh(x) & 0xFFFFFF;
				if ((x & 0xC0C000) != 0x808000 || (x & 0xFF) - 0xE3u > 9u)
					break;
				if (x == 0x9080E3) /* 【 */
					*end = i + NOTICE_REACH;
			}
			for (; n - i >= 3 && p[i] >= 0xE3 && p[i] <= 0xEC &&
			       (p[i + 1] & 0xC0) == 0x80 && (p[i + 2] & 0xC0) == 0x80; i += 3)
				if (p[i] == 0xE3 && p[i + 1] == 0x80 && p[i + 2] == 0x90) /* 【 */
					*end = i + NOTICE_REACH;
			if (i >= n || p[i] < 0xE3 || p[i] > 0xEC)
				continue; /* the outer loop reads what follows */
		}
		k = utf8_one(p, n, i, &cp);
		if (cp == 0x2501) /* ━ */
			*end = i + NOTICE_REACH;
		if (cp == '\r' && body && i + 1 < n && p[i + 1] == '\n') {
			i += 2;
			continue;
		}
		if (cp == UINT32_MAX || cp_forbidden(cp))
			return hit(r, OUTCHECK_CONTROL, w, i);
		i += k;
	}
	if (*end > n)
		*end = n;
	return 0;
}

/* ---- rule 8: notice forgery ---- */

#define HEAVY "\xE2\x94\x81" /* U+2501 ━ */
static const char *const ja_markers[] = { "【無害化済み】", "【隔離】" };
static const char *const en_markers[] = { "[SANITIZED]", "[QUARANTINED]" };

/* Length of line at i (without CR LF / LF) and the index after its end. */
static size_t line_end(const char *s, size_t n, size_t i, size_t *next)
{
	const char *nl = memchr(s + i, '\n', n - i);
	size_t e = nl ? (size_t)(nl - s) : n;

	*next = nl ? e + 1 : n;
	if (e > i && s[e - 1] == '\r')
		e--;
	return e;
}

static bool is_rule_line(const char *s, size_t a, size_t b, bool en)
{
	if (en) {
		if (b - a != 64)
			return false;
		for (size_t i = a; i < b; i++)
			if (s[i] != '-')
				return false;
		return true;
	}
	if (b - a != 40 * 3)
		return false;
	for (size_t i = a; i < b; i += 3)
		if (memcmp(s + i, HEAVY, 3) != 0)
			return false;
	return true;
}

static size_t marker_at(const char *s, size_t n, size_t i, bool en)
{
	if (!(s[i] == '[' || (n - i >= 3 && s[i] == '\xE3' && s[i + 1] == '\x80' && s[i + 2] == '\x90')))
		return 0; /* neither '[' nor '【' */
	for (size_t k = 0; k < 2; k++) {
		size_t l = strlen(ja_markers[k]);

		if (n - i >= l && memcmp(s + i, ja_markers[k], l) == 0)
			return l;
		l = strlen(en_markers[k]);
		if (en && n - i >= l && memcmp(s + i, en_markers[k], l) == 0)
			return l;
	}
	return 0;
}

/* The exempt spans of a body: the two rule lines [r1a,r1b) [r2a,r2b) and
 * the marker position m (SIZE_MAX when none). A custom template has no rule
 * line: markers are allowed at the start of any line of the first block
 * (up to the first empty line), nothing else is exempt. */
typedef struct notice_span {
	size_t r1a, r1b, r2a, r2b, m, block_end;
} notice_span_t;

static void find_notice(const char *s, size_t n, const outcheck_opts_t *o, notice_span_t *ns)
{
	size_t next, e = line_end(s, n, 0, &next), i;

	*ns = (notice_span_t){ SIZE_MAX, SIZE_MAX, SIZE_MAX, SIZE_MAX, SIZE_MAX, 0 };
	if (o->custom_notice) {
		for (i = 0; i < n;) {
			size_t nx, le = line_end(s, n, i, &nx);

			if (le == i)
				break;
			i = nx;
		}
		ns->block_end = i;
		return;
	}
	if (n == 0 || !is_rule_line(s, 0, e, o->en))
		return;
	ns->r1a = 0, ns->r1b = e, ns->m = next;
	for (i = next; i < n;) {
		size_t nx, le = line_end(s, n, i, &nx);

		if (is_rule_line(s, i, le, o->en)) {
			ns->r2a = i, ns->r2b = le;
			return;
		}
		i = nx;
	}
}

static bool in_span(size_t i, size_t a, size_t b) { return a != SIZE_MAX && i >= a && i < b; }

static int rule_notice(const char *s, size_t n, bool body, const outcheck_opts_t *o,
		       outcheck_result_t *r, const char *w)
{
	notice_span_t ns = { SIZE_MAX, SIZE_MAX, SIZE_MAX, SIZE_MAX, SIZE_MAX, 0 };

	if (body)
		find_notice(s, n, o, &ns);
	for (size_t i = 0; i < n; i++) {
		size_t ml;

		/* candidates only: E2 94 81 (━), E3 80 90 (【), '[' (the text is
		 * valid UTF-8 here: rule 1 ran first, so leads can be stepped) */
		if ((unsigned char)s[i] < 0x80 && s[i] != '[')
			continue;
		if ((unsigned char)s[i] >= 0xE4 || ((unsigned char)s[i] >= 0xC0 && (unsigned char)s[i] < 0xE2)) {
			i += utf8_len((unsigned char)s[i]) - 1;
			continue;
		}
		if (s[i] == '\xE2') {
			if (n - i < 3 || s[i + 1] != '\x94' || s[i + 2] != '\x81')
				continue;
		} else if (s[i] == '\xE3') {
			if (n - i < 3 || s[i + 1] != '\x80' || s[i + 2] != '\x90')
				continue;
		} else if (s[i] != '[') {
			continue;
		}
		if (!o->custom_notice && n - i >= 3 && memcmp(s + i, HEAVY, 3) == 0 &&
		    !in_span(i, ns.r1a, ns.r1b) && !in_span(i, ns.r2a, ns.r2b))
			return hit(r, OUTCHECK_NOTICE, w, i);
		ml = marker_at(s, n, i, o->en);
		if (!ml)
			continue;
		if (i == ns.m && i != SIZE_MAX)
			continue;
		if (o->custom_notice && i < ns.block_end && (i == 0 || s[i - 1] == '\n'))
			continue;
		return hit(r, OUTCHECK_NOTICE, w, i);
	}
	return 0;
}

/* ---- rules 2–7: links and encoded blocks ---- */

/* A dotted host at s[i]: labels of [A-Za-z0-9-] (and, when `wide`, '_' and
 * non-ASCII bytes) joined by single '.', at least two labels, the last with
 * 2+ ASCII letters. Returns the host's end, or 0 when there is none. */
static size_t host_at(const char *s, size_t n, size_t i, bool wide)
{
	size_t labels = 0, letters = 0, j = i;

	for (;;) {
		size_t start = j, l = 0;

		while (j < n && (is_label((unsigned char)s[j]) ||
				 (wide && ((unsigned char)s[j] >= 0x80 || s[j] == '_')))) {
			l += is_alpha((unsigned char)s[j]);
			j++;
		}
		if (j == start) /* "a.b." + non-label: the host is "a.b" */
			return labels >= 2 && letters >= 2 ? j - 1 : 0;
		labels++;
		letters = l;
		if (j + 1 < n && s[j] == '.' && s[j + 1] != '.') {
			j++;
			continue;
		}
		return labels >= 2 && letters >= 2 ? j : 0;
	}
}

/* local@label.label (domain with a real dot). */
static bool email_at(const char *s, size_t n, size_t at)
{
	size_t j = at + 1, labels = 0;

	if (at == 0 || !is_local((unsigned char)s[at - 1]))
		return false;
	for (;;) {
		size_t start = j;

		while (j < n && is_label((unsigned char)s[j]))
			j++;
		if (j == start)
			return false;
		if (++labels >= 2)
			return true;
		if (j >= n || s[j] != '.')
			return false;
		j++;
	}
}

/* In plain style: "//host..." or the mailto address, then URL characters
 * (RFC 3986 unreserved, reserved and '%'). Returns the end, or 0 when the
 * URL is not well formed. */
static bool url_char(unsigned char c)
{
	return is_alnum(c) || (c && strchr("-._~:/?#[]@!$&'()*+,;=%", c));
}

static size_t plain_url_end(const char *s, size_t n, size_t colon, bool mailto)
{
	size_t j = colon + 1, h;

	if (mailto) {
		/* the administrator chose clickable mailto: whatever address
		 * follows (dotted or not, an intranet host or none), as the
		 * writer keeps it; mailto runs nothing */
		h = j;
		if (h >= n || !url_char((unsigned char)s[h]))
			return 0;
	} else {
		if (n - j < 3 || s[j] != '/' || s[j + 1] != '/' || !is_label((unsigned char)s[j + 2]))
			return 0;
		j += 2;
	}
	while (j < n && url_char((unsigned char)s[j]))
		j++;
	return j;
}

static bool octal(unsigned char c) { return c >= '0' && c <= '7'; }

/* Rule 7 at a line start. */
static bool encoded_header(const char *s, size_t n, size_t i)
{
	size_t k = i + 6, d = 0;

	if (ci_prefix(s + i, n - i, "(This file must be converted with BinHex") ||
	    ci_prefix(s + i, n - i, "=ybegin "))
		return true;
	if (!ci_prefix(s + i, n - i, "begin "))
		return false;
	while (k < n && d < 5 && octal((unsigned char)s[k]))
		k++, d++;
	return (d == 3 || d == 4) && k < n && s[k] == ' ';
}

static bool inert_scheme(const char *s, size_t len)
{
	return ci_eq(s, len, "hxxp") || ci_eq(s, len, "hxxps") || ci_eq(s, len, "fxp");
}

/* At a run start i (run ends at j): rules 4, 2, 5. Sets *skip when a plain
 * URL was accepted and the scan should resume after it. */
static int run_start(const char *s, size_t n, size_t i, size_t j, bool dot,
		     const outcheck_opts_t *o, outcheck_result_t *r, const char *w, size_t *skip)
{
	if ((s[i] | 0x20) == 'w' && ci_prefix(s + i, n - i, "www."))
		return hit(r, OUTCHECK_WWW, w, i);
	if (is_alpha((unsigned char)s[i]) && j - i >= 2 && j + 1 < n && s[j] == ':' &&
	    !is_space((unsigned char)s[j + 1])) {
		size_t end;

		if (inert_scheme(s + i, j - i) && n - j >= 3 && s[j + 1] == '/' && s[j + 2] == '/')
			return 0; /* the "//" after it is checked by rule 3 */
		if (o->plain_links && (ci_eq(s + i, j - i, "http") || ci_eq(s + i, j - i, "https") ||
				       ci_eq(s + i, j - i, "mailto")) &&
		    (end = plain_url_end(s, n, j, ci_eq(s + i, j - i, "mailto"))) > 0) {
			*skip = end;
			return 0;
		}
		return hit(r, OUTCHECK_SCHEME, w, i);
	}
	/* a dotted host's labels are run bytes, so its first '.' is in the run */
	if (dot) {
		size_t h = host_at(s, n, i, false);

		if (h && h < n && s[h] == '/')
			return hit(r, OUTCHECK_DOMAIN, w, i);
	}
	return 0;
}

static bool slash(unsigned char c) { return c == '/' || c == '\\'; }

/* The end of the run of bytes >= 0x80 (non-ASCII text) starting at i,
 * eight bytes a step while they last. */
static size_t high_run_end(const char *s, size_t n, size_t i)
{
	const uint64_t high = 0x8080808080808080ull;

#if defined(__SSE2__)
	for (; n - i >= 16; i += 16) {
		unsigned m = (unsigned)_mm_movemask_epi8(
			_mm_loadu_si128((const __m128i *)(const void *)(s + i)));

		if (m != 0xFFFF)
			return i + (size_t)__builtin_ctz(~m);
	}
#endif
	for (uint64_t x; n - i >= 8; i += 8) {
		memcpy(&x, s + i, 8);
		if ((x & high) != high)
			break;
	}
	while (i < n && (unsigned char)s[i] >= 0x80)
		i++;
	return i;
}

/* ---- the console line: the one link the notice may carry ---- */

#define CONSOLE_LABEL_JA "取り出しの依頼: "
#define CONSOLE_LABEL_EN "Release request: "
#define CONSOLE_AFTER_JA "（"
#define CONSOLE_AFTER_EN " ("

/* Does the line at s[i] (ending at le) read label + url + after? */
static bool console_line(const char *s, size_t i, size_t le, const char *label,
			 const char *url, size_t ul, const char *after)
{
	size_t ll = strlen(label), al = strlen(after);

	return le - i >= ll + ul + al && memcmp(s + i, label, ll) == 0 &&
	       memcmp(s + i + ll, url, ul) == 0 && memcmp(s + i + ll + ul, after, al) == 0;
}

/* The offset of the console URL in the notice of body text s (SIZE_MAX
 * when there is none), into *ul its length (url: console_url/q/id). */
static size_t console_allowed(const char *s, size_t n, const outcheck_opts_t *o,
			      char url[CONSOLE_URL_MAX + 4 + MUGAI_ID_LEN], size_t *ul)
{
	const char *label = o->en ? CONSOLE_LABEL_EN : CONSOLE_LABEL_JA;
	notice_span_t ns;
	size_t from, to;

	if (!o->console_url || !*o->console_url || !o->id || !mugai_id_valid(o->id) ||
	    strlen(o->console_url) > CONSOLE_URL_MAX)
		return SIZE_MAX;
	*ul = (size_t)snprintf(url, CONSOLE_URL_MAX + 4 + MUGAI_ID_LEN, "%s/q/%s", o->console_url,
			       o->id);
	find_notice(s, n, o, &ns);
	from = o->custom_notice ? 0 : ns.m;
	to = o->custom_notice ? ns.block_end : ns.r2a;
	if (from == SIZE_MAX || to == SIZE_MAX)
		return SIZE_MAX;
	for (size_t i = from, next; i < to; i = next) {
		size_t le = line_end(s, n, i, &next);

		if (console_line(s, i, le, label, url, *ul, o->en ? CONSOLE_AFTER_EN : CONSOLE_AFTER_JA))
			return i + strlen(label);
	}
	return SIZE_MAX;
}

static int rule_links(const char *s, size_t n, const outcheck_opts_t *o, outcheck_result_t *r,
		      const char *w, size_t allow, size_t allow_len)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (i == allow) { /* the console line's URL (console_allowed) */
			i += allow_len - 1;
			continue;
		}

		if (c >= 0x80) { /* starts nothing; valid UTF-8 (rule 1 ran first) */
			i = high_run_end(s, n, i + 1) - 1;
			continue;
		}
		if (c == ' ')
			continue; /* starts nothing, and no block header starts with it */
		if ((i == 0 || s[i - 1] == '\n') && encoded_header(s, n, i))
			return hit(r, OUTCHECK_ENCODED, w, i);
		if (is_run(c)) { /* always a run start: runs are skipped whole */
			size_t j = i, skip = 0;
			bool dot = false;

			for (; j < n && is_run((unsigned char)s[j]); j++)
				dot |= s[j] == '.';
			if (run_start(s, n, i, j, dot, o, r, w, &skip))
				return 1;
			i = (skip ? skip : j) - 1;
			continue;
		}
		if (c == '@' && email_at(s, n, i)) {
			size_t k = i;

			while (k > 0 && is_local((unsigned char)s[k - 1]))
				k--;
			return hit(r, OUTCHECK_EMAIL, w, k);
		}
		if (i + 1 < n && slash(c) && slash((unsigned char)s[i + 1])) {
			if ((c == '\\' || s[i + 1] == '\\') && i + 2 < n &&
			    !is_space((unsigned char)s[i + 2]) && s[i + 2] != ']')
				return hit(r, OUTCHECK_UNC, w, i);
			if (c == '/' && s[i + 1] == '/' && host_at(s, n, i + 2, true))
				return hit(r, OUTCHECK_UNC, w, i);
		}
	}
	return 0;
}

int outcheck_text(const char *s, size_t n, bool body, const outcheck_opts_t *o,
		  outcheck_result_t *res)
{
	const char *w = body ? "body" : "header";
	char url[CONSOLE_URL_MAX + 4 + MUGAI_ID_LEN];
	size_t end, allow = SIZE_MAX, ul = 0;
	int rc;

	res->rule = OUTCHECK_PASS;
	rc = rule_control(s, n, body, o->en, &end, res, w);
	if (rc == 0)
		rc = rule_notice(s, end, body, o, res, w);
	if (rc == 0 && body)
		allow = console_allowed(s, n, o, url, &ul);
	if (rc == 0)
		rc = rule_links(s, n, o, res, w, allow, ul);
	return rc;
}

/* ---- decoders into oc->buf ---- */

static const signed char b64tab[BYTE_VALUES] = {
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 62, -1, -1, -1, 63,
	52, 53, 54, 55, 56, 57, 58, 59, 60, 61, -1, -1, -1, -1, -1, -1,
	-1, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14,
	15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, -1, -1, -1, -1, -1,
	-1, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40,
	41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
};

static int b64v(unsigned char c) { return b64tab[c]; }

/* b64tab shifted into place for each position of a quantum, an invalid
 * character as bit 24 and up: one quantum is four loads and three ORs. */
static uint32_t b64q[4][BYTE_VALUES];

static void b64q_init(void)
{
	if (b64q[0][0])
		return;
	for (int c = 0; c < BYTE_VALUES; c++)
		for (int k = 0; k < 4; k++)
			b64q[k][c] = b64tab[c] < 0 ? 0xFF000000u
				     : (uint32_t)b64tab[c] << (18 - 6 * k);
}

#if defined(__x86_64__)
/* Base64 sixteen characters at a time into twelve bytes with SSSE3 (the
 * nibble-table method published by W. Muła and D. Lemire): each
 * character's class is looked up by its low and high nibble, and a block
 * holding any character outside the alphabet ('=', CR, LF, non-ASCII
 * included) ends the run; the scalar loop reads it. Returns the characters
 * consumed (a multiple of 16); *o advances by three quarters of that. */
__attribute__((target("ssse3"))) static size_t b64_blocks(const unsigned char *in, size_t n,
							  char **o)
{
	const __m128i lut_lo = _mm_setr_epi8(0x15, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11,
					     0x11, 0x11, 0x13, 0x1A, 0x1B, 0x1B, 0x1B, 0x1A);
	const __m128i lut_hi = _mm_setr_epi8(0x10, 0x10, 0x01, 0x02, 0x04, 0x08, 0x04, 0x08,
					     0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x10);
	const __m128i lut_roll = _mm_setr_epi8(0, 16, 19, 4, -65, -65, -71, -71,
					       0, 0, 0, 0, 0, 0, 0, 0);
	const __m128i nib = _mm_set1_epi8(0x0F), slash = _mm_set1_epi8('/');
	const __m128i pack = _mm_setr_epi8(2, 1, 0, 6, 5, 4, 10, 9, 8, 14, 13, 12, -1, -1, -1, -1);
	size_t i = 0;
	char tmp[16];

	for (; n - i >= 16; i += 16) {
		__m128i v = _mm_loadu_si128((const __m128i *)(const void *)(in + i));
		__m128i hi = _mm_and_si128(_mm_srli_epi32(v, 4), nib);
		__m128i bad = _mm_and_si128(_mm_shuffle_epi8(lut_lo, _mm_and_si128(v, nib)),
					    _mm_shuffle_epi8(lut_hi, hi));
		__m128i w;

		if (_mm_movemask_epi8(_mm_cmpgt_epi8(bad, _mm_setzero_si128())))
			break;
		/* each byte to its 6-bit value, then a<<18|b<<12|c<<6|d per lane */
		v = _mm_add_epi8(v, _mm_shuffle_epi8(lut_roll, _mm_add_epi8(_mm_cmpeq_epi8(v, slash), hi)));
		w = _mm_madd_epi16(_mm_maddubs_epi16(v, _mm_set1_epi32(0x01400140)),
				   _mm_set1_epi32(0x00011000));
		_mm_storeu_si128((__m128i *)(void *)tmp, _mm_shuffle_epi8(w, pack));
		memcpy(*o, tmp, 12);
		*o += 12;
	}
	return i;
}

static int have_simd = -1; /* unknown yet; tests/unit/test_outcheck_b64.c sets 0 */

static bool have_ssse3(void)
{
	if (have_simd < 0)
		have_simd = __builtin_cpu_supports("ssse3") ? 1 : 0;
	return have_simd == 1;
}
#else
static size_t b64_blocks(const unsigned char *in, size_t n, char **o)
{
	(void)in, (void)n, (void)o;
	return 0;
}
static int have_simd;
static bool have_ssse3(void) { return false; }
#endif

/* Base64 of s[0,n) appended to oc->buf; CR LF (and, for encoded-words,
 * nothing else) is skipped. -1 on any other character or bad padding. */
static int b64_decode(oc_t *oc, const char *s, size_t n, bool lines)
{
	unsigned v = 0, bits = 0, pad = 0;
	const unsigned char *u = (const unsigned char *)s;
	char *o = oc->buf + oc->blen;
	bool simd = have_ssse3();
	int rc = 0;

	b64q_init();
	for (size_t i = 0; i < n; i++) {
		int d;

		/* sixteen characters at a time where the CPU can (the bulk of
		 * each 76-character line); v keeps the last quantum, as below */
		if (simd && bits == 0 && !pad && n - i >= 16)
			i += b64_blocks(u + i, n - i, &o);
		/* whole quanta at a quantum boundary, three bytes each (the body
		 * of every line) */
		while (bits == 0 && !pad && n - i >= 4) {
			uint32_t q = b64q[0][u[i]] | b64q[1][u[i + 1]] | b64q[2][u[i + 2]] |
				     b64q[3][u[i + 3]];

			if (q >> 24)
				break;
			o[0] = (char)(q >> 16);
			o[1] = (char)(q >> 8 & 0xFF);
			o[2] = (char)(q & 0xFF);
			o += 3;
			v = q;
			i += 4;
		}
		if (i >= n)
			break;
		d = b64v(u[i]);
		if (lines && u[i] == '\r' && n - i >= 2 && u[i + 1] == '\n') {
			i++;
			continue;
		}
		if (u[i] == '=') {
			pad++;
			continue;
		}
		if (d < 0 || pad) {
			rc = -1;
			break;
		}
		v = v << 6 | (unsigned)d;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			*o++ = (char)(v >> bits & 0xFF);
		}
	}
	oc->blen = (size_t)(o - oc->buf);
	return rc < 0 || pad > 2 || bits >= 6 || (v & ((1u << bits) - 1)) ? -1 : 0;
}

static int hexv(unsigned char c)
{
	if (is_digit(c)) return c - '0';
	if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f') return (c | 0x20) - 'a' + 10;
	return -1;
}

static int q_decode(oc_t *oc, const char *s, size_t n, bool underscore)
{
	for (size_t i = 0; i < n; i++) {
		int hi, lo;

		if (s[i] != '=') {
			oc->buf[oc->blen++] = underscore && s[i] == '_' ? ' ' : s[i];
			continue;
		}
		hi = i + 1 < n ? hexv((unsigned char)s[i + 1]) : -1;
		lo = i + 2 < n ? hexv((unsigned char)s[i + 2]) : -1;
		if (hi < 0 || lo < 0)
			return -1;
		oc->buf[oc->blen++] = (char)(hi << 4 | lo);
		i += 2;
	}
	return 0;
}

/* GMime encodes a header value in the smallest charset that holds it:
 * us-ascii, iso-8859-1, else UTF-8 (g_mime_charset_best_name). The decoded
 * bytes [from, blen) of an iso-8859-1 word become UTF-8 in place (each byte
 * ≥ 0x80 grows to two; the buffer has room for twice the message). */
static void latin1_to_utf8(oc_t *oc, size_t from)
{
	size_t hi = 0, r, w;

	for (size_t i = from; i < oc->blen; i++)
		hi += (unsigned char)oc->buf[i] >= 0x80;
	r = oc->blen;
	w = oc->blen + hi;
	oc->blen = w;
	while (r > from) {
		unsigned char c = (unsigned char)oc->buf[--r];

		if (c < 0x80) {
			oc->buf[--w] = (char)c;
		} else {
			oc->buf[--w] = (char)(0x80 | (c & 0x3F));
			oc->buf[--w] = (char)(0xC0 | (c >> 6));
		}
	}
}

/* One RFC 2047 encoded-word at s[i]: "=?utf-8?B|Q?text?=". Returns its end
 * (0 when s[i] does not start one) and sets the charset, encoding and text
 * spans. */
static size_t encoded_word(const char *s, size_t n, size_t i, size_t *cs, size_t *csl,
			   char *enc, size_t *t, size_t *tl)
{
	size_t j = i + 2, k;

	if (n - i < 8 || s[i] != '=' || s[i + 1] != '?')
		return 0;
	*cs = j;
	while (j < n && s[j] != '?' && !is_space((unsigned char)s[j]))
		j++;
	if (j + 3 >= n || s[j] != '?' || s[j + 2] != '?')
		return 0;
	*csl = j - *cs;
	*enc = (char)(s[j + 1] | 0x20);
	*t = k = j + 3;
	while (k + 1 < n && !(s[k] == '?' && s[k + 1] == '=') && !is_space((unsigned char)s[k]))
		k++;
	if (k + 1 >= n || s[k] != '?' || s[k + 1] != '=')
		return 0;
	*tl = k - *t;
	return k + 2;
}

/* Decode header text s[0,n) into oc->buf (appended): encoded-words decoded
 * (whitespace between two of them dropped), CR LF of folds removed; in a
 * phrase, quotes dropped and backslash escapes resolved. Any "=?" that is
 * not a UTF-8 (or GMime's iso-8859-1/us-ascii) B/Q encoded-word, or one that does not decode, is a hit: we
 * never write those, and a reader might decode what we did not see. */
static int decode_words(oc_t *oc, const char *s, size_t n, bool phrase)
{
	bool prev_ew = false;
	size_t ws_mark = SIZE_MAX;

	for (size_t i = 0; i < n;) {
		size_t cs, csl, t, tl, e, start;
		bool latin1;
		char enc;

		if (s[i] == '\r' || s[i] == '\n') {
			i++;
			continue;
		}
		if (s[i] == ' ' || s[i] == '\t') {
			if (ws_mark == SIZE_MAX)
				ws_mark = oc->blen;
			oc->buf[oc->blen++] = s[i++];
			continue;
		}
		if (s[i] == '=' && i + 1 < n && s[i + 1] == '?') {
			e = encoded_word(s, n, i, &cs, &csl, &enc, &t, &tl);
			latin1 = e && (ci_eq(s + cs, csl, "iso-8859-1") || ci_eq(s + cs, csl, "us-ascii"));
			if (!e || !(latin1 || ci_eq(s + cs, csl, "utf-8")) || (enc != 'b' && enc != 'q'))
				return 1;
			if (prev_ew && ws_mark != SIZE_MAX)
				oc->blen = ws_mark;
			start = oc->blen;
			if ((enc == 'b' ? b64_decode(oc, s + t, tl, false) : q_decode(oc, s + t, tl, true)) < 0)
				return 1;
			if (latin1)
				latin1_to_utf8(oc, start);
			prev_ew = true;
			ws_mark = SIZE_MAX;
			i = e;
			continue;
		}
		prev_ew = false;
		ws_mark = SIZE_MAX;
		if (phrase && s[i] == '"') {
			i++;
			continue;
		}
		if (phrase && s[i] == '\\' && i + 1 < n)
			i++;
		oc->buf[oc->blen++] = s[i++];
	}
	return 0;
}

/* ---- the message reader ---- */

typedef struct mime_info {
	bool has_ct;
	char type;        /* 't' text/plain, 'm' multipart/mixed, 'o' other */
	bool utf8;        /* charset=utf-8 */
	size_t bnd, bndl; /* boundary value span in oc->msg */
	char cte;         /* '7' 7bit (or absent), 'b' base64, 'o' other */
} mime_info_t;

static int scan_buf(oc_t *oc, bool body, const char *where, size_t at)
{
	int rc = outcheck_text(oc->buf, oc->blen, body, oc->o, oc->res);

	if (rc) {
		oc->res->where = where;
		oc->res->at = at;
	}
	return rc;
}

static int format_hit(oc_t *oc, size_t at)
{
	oc->res->at = at;
	return hit(oc->res, OUTCHECK_FORMAT, "message", 0);
}

/* Address header: the display-name phrases (and group names, comments);
 * the addr-specs inside <> or standing alone are exempt. */
static int flush_phrase(oc_t *oc, size_t a, size_t b)
{
	const char *s = oc->msg;
	size_t at = SIZE_MAX, ta, tb;
	bool q = false;

	for (size_t i = a; i < b; i++) {
		if (q && s[i] == '\\')
			i++;
		else if (s[i] == '"')
			q = !q;
		else if (!q && s[i] == '@')
			at = i;
	}
	if (at == SIZE_MAX)
		return decode_words(oc, s + a, b - a, true);
	for (ta = at; ta > a && !is_space((unsigned char)s[ta - 1]); ta--)
		;
	for (tb = at; tb < b && !is_space((unsigned char)s[tb]); tb++)
		;
	if (decode_words(oc, s + a, ta - a, true) || decode_words(oc, s + tb, b - tb, true))
		return 1;
	return 0;
}

static int address_header(oc_t *oc, size_t a, size_t b)
{
	const char *s = oc->msg;
	bool q = false, angle = false;
	int depth = 0;
	size_t seg = a;

	oc->blen = 0;
	for (size_t i = a; i < b; i++) {
		char c = s[i];

		if (q) {
			if (c == '\\')
				i++;
			else if (c == '"')
				q = false;
			continue;
		}
		if (angle) {
			if (c == '>')
				angle = false, seg = i + 1;
			continue;
		}
		if (c == '"' && !depth)
			q = true;
		else if (c == '(')
			depth++;
		else if (c == ')' && depth)
			depth--;
		else if (!depth && (c == '<' || c == ',' || c == ':' || c == ';')) {
			if (flush_phrase(oc, seg, i))
				return format_hit(oc, a);
			oc->buf[oc->blen++] = '\n';
			angle = c == '<';
			seg = i + 1;
		}
	}
	if (angle || q || flush_phrase(oc, seg, b))
		return format_hit(oc, a);
	return scan_buf(oc, false, "header", a);
}

static bool name_is(const char *s, size_t n, const char *const *list)
{
	for (size_t i = 0; list[i]; i++)
		if (ci_eq(s, n, list[i]))
			return true;
	return false;
}

static int pct_bytes(oc_t *oc, const char *v, size_t n, size_t i);

/* Percent-decode an RFC 2231 value (after charset'lang' when `first`). */
static int pct_value(oc_t *oc, const char *v, size_t n, bool first)
{
	size_t i = 0, start = oc->blen;
	int rc;

	if (first) {
		const char *q1 = memchr(v, '\'', n), *q2;

		if (!q1 || !(q2 = memchr(q1 + 1, '\'', n - (size_t)(q1 + 1 - v))))
			return 1;
		/* GMime writes iso-8859-1 for a value that fits it (see above) */
		oc->pct_latin1 = ci_eq(v, (size_t)(q1 - v), "iso-8859-1") ||
				 ci_eq(v, (size_t)(q1 - v), "us-ascii");
		if (!oc->pct_latin1 && !ci_eq(v, (size_t)(q1 - v), "utf-8"))
			return 1;
		i = (size_t)(q2 + 1 - v);
	}
	rc = pct_bytes(oc, v, n, i);
	if (rc == 0 && oc->pct_latin1)
		latin1_to_utf8(oc, start);
	return rc;
}

static int pct_bytes(oc_t *oc, const char *v, size_t n, size_t i)
{
	for (; i < n; i++) {
		int hi, lo;

		if (v[i] != '%') {
			oc->buf[oc->blen++] = v[i];
			continue;
		}
		hi = i + 1 < n ? hexv((unsigned char)v[i + 1]) : -1;
		lo = i + 2 < n ? hexv((unsigned char)v[i + 2]) : -1;
		if (hi < 0 || lo < 0)
			return 1;
		oc->buf[oc->blen++] = (char)(hi << 4 | lo);
		i += 2;
	}
	return 0;
}

/* "name", "filename", "filename*", "filename*0*", "filename*1", ...:
 * *first is set for the first (or only) section. */
static bool filename_param(const char *s, size_t n, bool *first)
{
	const char *star = memchr(s, '*', n);
	size_t base = star ? (size_t)(star - s) : n, i = base + 1;

	if (!ci_eq(s, base, "name") && !ci_eq(s, base, "filename"))
		return false;
	*first = true;
	if (!star || i >= n)
		return true;
	if (!is_digit((unsigned char)s[i]))
		return false;
	*first = s[i] == '0';
	while (i < n && is_digit((unsigned char)s[i]))
		i++;
	return i == n || (i + 1 == n && s[i] == '*');
}

/* Parameters of Content-Type / Content-Disposition at [a,b) (after the
 * first ';'): the boundary and charset are noted; every name/filename
 * (plain, encoded-word or RFC 2231, continued or not) is decoded into
 * oc->buf, one line each. Returns 1 on malformed syntax. */
static int params(oc_t *oc, size_t a, size_t b, mime_info_t *mi)
{
	const char *s = oc->msg;
	size_t i = a;

	while (i < b) {
		size_t na, ne, va, ve;
		bool quoted = false, ext, sect0;

		while (i < b && (is_space((unsigned char)s[i]) || s[i] == ';'))
			i++;
		if (i >= b)
			break;
		for (na = i; i < b && s[i] != '=' && s[i] != ';' && !is_space((unsigned char)s[i]); i++)
			;
		ne = i;
		while (i < b && is_space((unsigned char)s[i]))
			i++;
		if (i >= b || s[i] != '=' || ne == na)
			return 1;
		i++;
		while (i < b && is_space((unsigned char)s[i]))
			i++;
		if (i < b && s[i] == '"') {
			quoted = true;
			for (va = ++i; i < b && s[i] != '"'; i++)
				if (s[i] == '\\')
					i++;
			if (i >= b)
				return 1;
			ve = i++;
		} else {
			for (va = i; i < b && s[i] != ';' && !is_space((unsigned char)s[i]); i++)
				;
			ve = i;
		}
		ext = s[ne - 1] == '*';
		if (ci_eq(s + na, ne - na, "boundary")) {
			mi->bnd = va, mi->bndl = ve - va;
		} else if (ci_eq(s + na, ne - na, "charset")) {
			mi->utf8 = ci_eq(s + va, ve - va, "utf-8");
		} else if (filename_param(s + na, ne - na, &sect0)) {
			int rc;

			if (sect0) {
				oc->buf[oc->blen++] = '\n';
				oc->pct_latin1 = false;
			}
			if (ext && !quoted)
				rc = pct_value(oc, s + va, ve - va, sect0);
			else
				rc = decode_words(oc, s + va, ve - va, quoted);
			if (rc)
				return 1;
		}
	}
	return 0;
}

static void content_type(oc_t *oc, size_t a, size_t b, mime_info_t *mi)
{
	const char *s = oc->msg;
	size_t i = a, t;

	while (i < b && is_space((unsigned char)s[i]))
		i++;
	for (t = i; i < b && s[i] != ';' && !is_space((unsigned char)s[i]); i++)
		;
	mi->has_ct = true;
	mi->type = ci_eq(s + t, i - t, "text/plain") ? 't' : ci_prefix(s + t, i - t, "multipart/") ?
		   (ci_eq(s + t, i - t, "multipart/mixed") ? 'm' : 'x') :
		   ci_prefix(s + t, i - t, "message/") ? 'x' : 'o';
}

static const char *const exempt_names[] = {
	"Message-ID", "In-Reply-To", "References", "Date", "MIME-Version", "X-Mugai-Sanitized",
	"Content-ID", NULL,
};
static const char *const address_names[] = {
	"From", "To", "Cc", "Bcc", "Reply-To", "Sender", NULL,
};

/* One header field: name [na,ne), value [va,b) (folds included). */
static int field(oc_t *oc, size_t na, size_t ne, size_t va, size_t b, mime_info_t *mi)
{
	const char *s = oc->msg;
	const char *n = s + na;
	size_t nl = ne - na;

	oc->blen = 0;
	if (ci_eq(n, nl, "Content-Type") || ci_eq(n, nl, "Content-Disposition")) {
		const char *semi = memchr(s + va, ';', b - va);
		size_t p = semi ? (size_t)(semi - s) : b;

		if (ci_eq(n, nl, "Content-Type"))
			content_type(oc, va, p, mi);
		if (params(oc, p, b, mi))
			return format_hit(oc, na);
		return oc->blen ? scan_buf(oc, false, "filename", na) : 0;
	}
	if (ci_eq(n, nl, "Content-Transfer-Encoding")) {
		size_t i = va, e = b;

		while (i < e && is_space((unsigned char)s[i]))
			i++;
		while (e > i && is_space((unsigned char)s[e - 1]))
			e--;
		mi->cte = ci_eq(s + i, e - i, "7bit") ? '7' : ci_eq(s + i, e - i, "base64") ? 'b' : 'o';
		return 0;
	}
	if (name_is(n, nl, exempt_names))
		return 0;
	if (name_is(n, nl, address_names))
		return address_header(oc, va, b);
	if (decode_words(oc, s + va, b - va, false))
		return format_hit(oc, na);
	return scan_buf(oc, false, "header", na);
}

/* Header block [a,b) (b just after the last field's CR LF). */
static int headers(oc_t *oc, size_t a, size_t b, mime_info_t *mi)
{
	const char *s = oc->msg;
	size_t i = a;

	memset(mi, 0, sizeof(*mi));
	mi->cte = '7';
	while (i < b) {
		size_t na = i, ne, e = i;
		int rc;

		while (e < b && !(s[e] == '\r' && (e + 2 >= b || (s[e + 2] != ' ' && s[e + 2] != '\t'))))
			e++;
		for (ne = na; ne < e && s[ne] != ':'; ne++)
			if (s[ne] == ' ' || s[ne] == '\t')
				return format_hit(oc, na);
		if (ne >= e || ne == na)
			return format_hit(oc, na);
		rc = field(oc, na, ne, ne + 1, e, mi);
		if (rc)
			return rc;
		i = e + 2;
	}
	return 0;
}

/* The text part's body [a,b) in encoding cte. */
static int text_body(oc_t *oc, size_t a, size_t b, const mime_info_t *mi)
{
	if (mi->type != 't' || !mi->utf8 || (mi->cte != '7' && mi->cte != 'b'))
		return format_hit(oc, a);
	oc->blen = 0;
	if (mi->cte == '7') {
		memcpy(oc->buf, oc->msg + a, b - a);
		oc->blen = b - a;
	} else if (b64_decode(oc, oc->msg + a, b - a, true) < 0) {
		return format_hit(oc, a);
	}
	return scan_buf(oc, true, "body", a);
}

/* End of the header block starting at a (index just after CRLF CRLF's
 * first CRLF), or SIZE_MAX when there is none. */
static size_t header_end(const char *s, size_t a, size_t b, size_t *body)
{
	const char *e;

	if (b - a >= 2 && s[a] == '\r' && s[a + 1] == '\n') {
		*body = a + 2;
		return a;
	}
	e = memmem(s + a, b - a, "\r\n\r\n", 4);
	if (!e)
		return SIZE_MAX;
	*body = (size_t)(e - s) + 4;
	return (size_t)(e - s) + 2;
}

static int part(oc_t *oc, size_t a, size_t b, int idx)
{
	mime_info_t mi;
	size_t body, he = header_end(oc->msg, a, b, &body);
	int rc;

	if (he == SIZE_MAX)
		return format_hit(oc, a);
	rc = headers(oc, a, he, &mi);
	if (rc)
		return rc;
	if (idx == 0)
		return text_body(oc, body, b, &mi);
	/* a sanitized file (text/csv, text/plain too): its name was checked,
	 * its content is not read as text (contract); nested structure is not ours */
	if (mi.type == 'x' || mi.type == 'm' || (mi.cte != 'b' && mi.cte != '7'))
		return format_hit(oc, a);
	return 0;
}

/* "--boundary" ["--"] [LWSP] at line [a,e). 0 no, 1 delimiter, 2 close. */
static int delimiter(const oc_t *oc, size_t a, size_t e, const mime_info_t *mi)
{
	const char *s = oc->msg;
	size_t k = a + 2 + mi->bndl;
	int kind = 1;

	if (e - a < 2 + mi->bndl || s[a] != '-' || s[a + 1] != '-' ||
	    memcmp(s + a + 2, s + mi->bnd, mi->bndl) != 0)
		return 0;
	if (e - k >= 2 && s[k] == '-' && s[k + 1] == '-')
		k += 2, kind = 2;
	while (k < e && (s[k] == ' ' || s[k] == '\t'))
		k++;
	return k == e ? kind : 0;
}

/* Preamble and epilogue: no reader shows them, but scan them as text. */
static int loose_text(oc_t *oc, size_t a, size_t b)
{
	if (b <= a)
		return 0;
	memcpy(oc->buf, oc->msg + a, b - a);
	oc->blen = b - a;
	return scan_buf(oc, true, "body", a);
}

static int multipart(oc_t *oc, size_t a, size_t b, const mime_info_t *mi)
{
	const char *s = oc->msg;
	size_t i = a, ps = SIZE_MAX;
	int idx = -1, rc;

	if (mi->bndl == 0 || mi->cte != '7')
		return format_hit(oc, a);
	while (i < b) {
		const char *cr = memmem(s + i, b - i, "\r\n", 2);
		size_t e = cr ? (size_t)(cr - s) : b, next = cr ? e + 2 : b;
		int kind = delimiter(oc, i, e, mi);
		size_t end = i >= a + 2 ? i - 2 : a;

		if (kind) {
			if (idx < 0)
				rc = loose_text(oc, a, end);
			else
				rc = part(oc, ps, end < ps ? ps : end, idx);
			if (rc)
				return rc;
			if (kind == 2)
				return loose_text(oc, next, b);
			idx++;
			ps = next;
		}
		i = next;
	}
	return format_hit(oc, b);
}

/* [a,b): 7-bit, CR only before LF, LF only after CR, no other control
 * but TAB. (A base64 text body is held to the same by its decoder.) */
static int raw_check(oc_t *oc, size_t a, size_t b)
{
	const unsigned char *p = (const unsigned char *)oc->msg;

	for (size_t i = a; i < b; i++) {
		unsigned char c = p[i];
		if (c >= 0x20 && c < 0x7f)
			continue;
		if (c == '\r' && i + 1 < b && p[i + 1] == '\n') {
			i++;
			continue;
		}
		if (c >= 0x80)
			return format_hit(oc, i);
		if ((c < 0x20 && c != '\t') || c == 0x7f) {
			oc->res->at = 0;
			return hit(oc->res, OUTCHECK_CONTROL, "message", i);
		}
	}
	return 0;
}

int outcheck_message(const char *msg, size_t len, const outcheck_opts_t *o,
		     outcheck_result_t *res)
{
	oc_t oc = { .o = o, .res = res, .msg = msg, .len = len };
	mime_info_t mi;
	size_t body, he;
	int rc;

	memset(res, 0, sizeof(*res));
	res->rule = OUTCHECK_PASS;
	res->where = "message";
	if (len == 0 || !msg)
		return format_hit(&oc, 0);
	if (len > (SIZE_MAX - 1) / 2)
		return -1;
	oc.buf = malloc(2 * len + 1);
	if (!oc.buf)
		return -1;
	he = header_end(msg, 0, len, &body);
	rc = raw_check(&oc, 0, he == SIZE_MAX ? len : body);
	if (rc == 0 && (he == SIZE_MAX || he == 0))
		rc = format_hit(&oc, 0);
	if (rc == 0)
		rc = headers(&oc, 0, he, &mi);
	if (rc == 0 && !(mi.type == 't' && mi.cte == 'b'))
		rc = raw_check(&oc, body, len);
	if (rc == 0 && mi.type == 'm')
		rc = multipart(&oc, body, len, &mi);
	else if (rc == 0)
		rc = text_body(&oc, body, len, &mi);
	free(oc.buf);
	return rc;
}
