/*
 * ppapscan.c — password candidates in a PPAP password mail (rules in
 * ppapscan.h). Each line is first normalized (full-width ASCII to ASCII,
 * U+3000 to a space, cut at PPAP_LINE_MAX bytes), then searched for a
 * keyword, a separator after it and the ASCII tokens after that.
 *
 * Specs: none (the habits of Japanese business mail: "パスワード：xxxx",
 * "【解凍パスワード】xxxx", "PW: xxxx", "パスワードは下記の通りです。").
 *
 * SECURITY: sanitizer worker; bounded by PPAP_LINE_MAX per line,
 * PPAP_KEYLINES_MAX keyword lines, the candidate caps, and one pass over
 * the text (a keyword line looks ahead
 * one non-blank line, which is then scanned once more as itself: linear).
 * Candidates are wiped before they are freed.
 */
#include "mail/ppapscan.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void ppap_cands_init(ppap_cands_t *c, long long max_count, long long max_len)
{
	memset(c, 0, sizeof(*c));
	c->max_count = max_count < 1 ? 1 : max_count > PPAP_CANDS_CAP ? PPAP_CANDS_CAP
				      : (size_t)max_count;
	c->max_len = max_len < 1 ? 1 : max_len > PPAP_CAND_LEN_CAP ? PPAP_CAND_LEN_CAP
				  : (size_t)max_len;
}

void ppap_cands_free(ppap_cands_t *c)
{
	for (size_t i = 0; i < c->n; i++) {
		explicit_bzero(c->v[i], strlen(c->v[i]));
		free(c->v[i]);
		c->v[i] = NULL;
	}
	c->n = 0;
}

static bool full(const ppap_cands_t *c)
{
	return c->n >= c->max_count;
}

static int add(ppap_cands_t *c, const char *s, size_t n)
{
	char *v;

	if (n == 0 || n > c->max_len || full(c))
		return 0;
	for (size_t i = 0; i < c->n; i++)
		if (strlen(c->v[i]) == n && memcmp(c->v[i], s, n) == 0)
			return 0;
	v = malloc(n + 1);
	if (!v)
		return -1;
	memcpy(v, s, n);
	v[n] = '\0';
	c->v[c->n++] = v;
	return 0;
}

int ppap_add_typed(const char *p, size_t n, ppap_cands_t *c)
{
	size_t k = 0;

	while (k < n && p[k] != '\r' && p[k] != '\n' && p[k] != '\0')
		k++;
	return add(c, p, k);
}

/* ---- one line, normalized ---- */

typedef struct line {
	char b[PPAP_LINE_MAX + 1];
	size_t n;
} line_t;

/* Full-width ASCII U+FF01..U+FF5E (EF BC 81 .. EF BD 9E) and U+3000
 * (E3 80 80) as ASCII; everything else copied. Returns bytes consumed. */
static size_t norm_char(const unsigned char *p, size_t left, char *out, size_t *on)
{
	if (left >= 3 && p[0] == 0xef && (p[1] == 0xbc || p[1] == 0xbd) && p[2] >= 0x80 &&
	    p[2] <= 0xbf) {
		unsigned cp = 0xff00u + (p[1] == 0xbd ? 0x40u : 0u) + (p[2] - 0x80u);

		if (cp >= 0xff01 && cp <= 0xff5e) {
			out[(*on)++] = (char)(cp - 0xfee0);
			return 3;
		}
	}
	if (left >= 3 && p[0] == 0xe3 && p[1] == 0x80 && p[2] == 0x80) {
		out[(*on)++] = ' ';
		return 3;
	}
	out[(*on)++] = (char)p[0];
	return 1;
}

static void line_load(line_t *l, const char *s, size_t n)
{
	size_t i = 0;

	l->n = 0;
	while (i < n && l->n + 1 <= PPAP_LINE_MAX) {
		unsigned char c = (unsigned char)s[i];

		if (c != 0xef && c != 0xe3) /* the only lead bytes norm_char changes */
			l->b[l->n++] = s[i++];
		else
			i += norm_char((const unsigned char *)s + i, n - i, l->b, &l->n);
	}
	l->b[l->n] = '\0';
}

/* ---- keywords, separators, tokens ---- */

static bool is_alnum(char c)
{
	return (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z');
}

static bool is_tok(char c)
{
	return (unsigned char)c > 0x20 && (unsigned char)c < 0x7f;
}

static const char *const kw_ja[] = { "パスワード", "ﾊﾟｽﾜｰﾄﾞ", "暗証", "解凍", "パス" };
static const char *const kw_en[] = { "password", "passwd", "passcode", "pass", "pwd", "pw" };

/* An ASCII keyword as a whole word at p (no letter or digit around it). */
static size_t en_word_at(const line_t *l, size_t i)
{
	if ((l->b[i] | 0x20) != 'p' || (i > 0 && is_alnum(l->b[i - 1])))
		return 0; /* every ASCII keyword starts with p */
	for (size_t k = 0; k < MUGAI_ARRAY_LEN(kw_en); k++) {
		size_t n = strlen(kw_en[k]);

		if (i + n <= l->n && strncasecmp(l->b + i, kw_en[k], n) == 0 &&
		    (i + n == l->n || !is_alnum(l->b[i + n])))
			return n;
	}
	return 0;
}

/* The length of a Japanese keyword at i, or 0 (a first-byte check first:
 * this runs at every byte of every line). */
static size_t ja_word_at(const line_t *l, size_t i)
{
	unsigned char c = (unsigned char)l->b[i];

	if (c != 0xe3 && c != 0xef && c != 0xe6 && c != 0xe8) /* パ ﾊ 暗 解 */
		return 0;
	for (size_t k = 0; k < MUGAI_ARRAY_LEN(kw_ja); k++)
		if (strncmp(l->b + i, kw_ja[k], strlen(kw_ja[k])) == 0)
			return strlen(kw_ja[k]);
	return 0;
}

/* Can the line hold a keyword at all? (memchr and memmem are fast; the
 * byte-by-byte search below runs only on lines that pass.) */
static bool maybe_keyword(const line_t *l)
{
	static const char *const first[] = { "パ", "ﾊ", "暗", "解" };

	if (memchr(l->b, 'p', l->n) || memchr(l->b, 'P', l->n))
		return true;
	for (size_t k = 0; k < MUGAI_ARRAY_LEN(first); k++)
		if (memmem(l->b, l->n, first[k], strlen(first[k])))
			return true;
	return false;
}

/* End of the first keyword of the line (after repeated keywords, as in
 * "解凍パスワード"), or 0 when there is none. */
static size_t keyword_end(const line_t *l)
{
	if (!maybe_keyword(l))
		return 0;
	for (size_t i = 0; i < l->n; i++) {
		size_t n = en_word_at(l, i);

		if (!n)
			n = ja_word_at(l, i);
		if (!n)
			continue;
		for (size_t e = i + n, m = 1; m; e += m) {
			m = e < l->n ? en_word_at(l, e) : 0;
			if (!m && e < l->n)
				m = ja_word_at(l, e);
			if (!m)
				return e;
		}
	}
	return 0;
}

static const char *const seps[] = { ":", "=", "は", "】", "」", "』", "］", "＞" };

/* Where the value starts: after the first separator past the keyword end
 * (an ASCII " is " counts), else the keyword end itself. */
static size_t value_start(const line_t *l, size_t from)
{
	for (size_t i = from; i < l->n; i++) {
		for (size_t k = 0; k < MUGAI_ARRAY_LEN(seps); k++)
			if (strncmp(l->b + i, seps[k], strlen(seps[k])) == 0)
				return i + strlen(seps[k]);
		if ((i == 0 || !is_alnum(l->b[i - 1])) && strncasecmp(l->b + i, "is", 2) == 0 &&
		    (i + 2 == l->n || !is_alnum(l->b[i + 2])))
			return i + 2;
	}
	return from;
}

static bool stop_word(const char *s, size_t n)
{
	static const char *const w[] = { "is", "the", "for", "of", "to", "a", "zip", "file",
					 "files", "this", "that", "your", "our", "below",
					 "following", "attached", "as", "follows", "and" };

	for (size_t k = 0; k < MUGAI_ARRAY_LEN(w); k++)
		if (strlen(w[k]) == n && strncasecmp(s, w[k], n) == 0)
			return true;
	return false;
}

static bool open_mark(char c)
{
	return c == '(' || c == '[' || c == '<' || c == '"' || c == '\'' || c == '{' || c == '`';
}

static bool close_mark(char c)
{
	return c == ')' || c == ']' || c == '>' || c == '"' || c == '\'' || c == '}' || c == '`';
}

static bool has_alnum(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (is_alnum(s[i]))
			return true;
	return false;
}

/* One token (with a letter or digit): itself (unless a stop word or a keyword), its inside when
 * bracketed or quoted, itself without a trailing . or , */
static int token(ppap_cands_t *c, const char *s, size_t n)
{
	const char *in = s;
	size_t m = n;
	int rc = 0;

	while (m && open_mark(*in))
		in++, m--;
	while (m && (close_mark(in[m - 1]) || open_mark(in[m - 1])))
		m--; /* "ab12(" before "(半角英数字)": the ( was full-width */
	if (stop_word(s, n) || !has_alnum(s, n))
		return 0;
	if (m && m != n && !stop_word(in, m))
		rc = add(c, in, m);
	if (rc == 0)
		rc = add(c, s, n);
	while (rc == 0 && m > 1 && (in[m - 1] == '.' || in[m - 1] == ','))
		m--;
	if (rc == 0 && m && m < n && !stop_word(in, m))
		rc = add(c, in, m);
	return rc;
}

/* Is [s, s+n) one of the ASCII keywords (a token such as "PW:" is not a value)? */
static bool is_keyword_tok(const char *s, size_t n)
{
	while (n && (s[n - 1] == ':' || s[n - 1] == '='))
		n--;
	for (size_t k = 0; k < MUGAI_ARRAY_LEN(kw_en); k++)
		if (strlen(kw_en[k]) == n && strncasecmp(s, kw_en[k], n) == 0)
			return true;
	return false;
}

/* The tokens of l from byte `from`; *found tells whether any was taken. */
static int tokens(ppap_cands_t *c, const line_t *l, size_t from, bool *found)
{
	size_t before = c->n, i = from;
	int rc = 0;

	while (rc == 0 && i < l->n && !full(c)) {
		size_t s;

		while (i < l->n && !is_tok(l->b[i]))
			i++;
		s = i;
		while (i < l->n && is_tok(l->b[i]))
			i++;
		if (i > s && !is_keyword_tok(l->b + s, i - s))
			rc = token(c, l->b + s, i - s);
	}
	*found = c->n > before;
	return rc;
}

static bool blank(const line_t *l)
{
	for (size_t i = 0; i < l->n; i++)
		if (l->b[i] != ' ' && l->b[i] != '\t' && l->b[i] != '\r')
			return false;
	return true;
}

/* ---- the text ---- */

static size_t next_line(const char *text, size_t len, size_t at, size_t *n)
{
	const char *nl = memchr(text + at, '\n', len - at);

	*n = nl ? (size_t)(nl - (text + at)) : len - at;
	return at + *n + (nl ? 1 : 0);
}

int ppap_scan(const char *text, size_t len, ppap_cands_t *c)
{
	line_t *l = malloc(sizeof(*l));
	bool want_next = false, found;
	size_t at = 0, n, keylines = 0;
	int rc = l ? 0 : -1;

	while (rc == 0 && at < len && !full(c) && keylines < PPAP_KEYLINES_MAX) {
		size_t start = at, kw;

		at = next_line(text, len, at, &n);
		line_load(l, text + start, n);
		if (want_next && !blank(l)) {
			want_next = false;
			rc = tokens(c, l, 0, &found);
			if (rc < 0)
				break;
		}
		kw = keyword_end(l);
		if (!kw)
			continue;
		keylines++;
		rc = tokens(c, l, value_start(l, kw), &found);
		want_next = !found;
	}
	if (l)
		explicit_bzero(l, sizeof(*l));
	free(l);
	return rc;
}
