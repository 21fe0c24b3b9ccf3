/*
 * link.c — links turned into text that no mail client makes clickable.
 *
 * Follows: RFC 3986 (scheme, authority), RFC 6068 (mailto), RFC 3966 (tel),
 * WHATWG URL (tab/LF/CR inside a URL are ignored, leading C0/space stripped,
 * '\' after a web scheme acts as '/'), MS-DTYP 2.2.57 (UNC paths), and the
 * output contract of issue #8 (what the independent output check calls live).
 *
 * Text scanning works on runs of scheme characters [A-Za-z0-9+.-]:
 *   run "://"          http/https/ftp: a URL; hxxp/hxxps/fxp: already
 *                      defanged, copied; any other scheme: removed "[URL]"
 *   run ":"            mailto / tel (case-insensitive): a link
 *   run "www.…"        bare www host (every '.' → "[.]")
 *   run ':' + non-space any other scheme or protocol handler (ms-msdt:,
 *                      search-ms:, file:, https:host, http:\\host, …): the
 *                      ':' is written "[:]" (decided on the output written
 *                      so far, so no join can rebuild a scheme)
 *   dotted host        "example.com/…", or after "//", a slash pair or ':':
 *                      every '.' → "[.]"
 *   '@' + dotted host  bare e-mail address: "taro[@]example[.]jp"
 *   slash pair         "\\host", "\/", "/\" followed by a non-space:
 *                      "[\\]host" (UNC: one click leaks the NTLM hash);
 *                      right after our own "hxxp://": "hxxp://[\]host"
 * A URL ends at ASCII space/controls, <>"'`[]{}|\^ and at the first
 * non-ASCII character (so Japanese text right after a URL is never swallowed).
 * A host with an IDN or '_' label right after "//" (the input's or the
 * "hxxp://" just written) is written with "[.]": "hxxp://日本[.]jp".
 * Trailing . , ; : ! ? are stripped, and a trailing ')' when the URL holds
 * no '('. The path of a URL is scanned in "inert" mode: no URL is parsed
 * there, but every rule above except the URL rule applies, so an embedded
 * URL (?u=http://evil.jp) becomes "http[:]//evil[.]jp".
 * Styles: defang writes the forms above; plain keeps http, https and mailto
 * URLs clickable (their path inert: "?u=http://evil" is still disarmed;
 * everything else as in defang); remove writes "[URL]"
 * for URL-rule links (the other forms are disarmed as in defang).
 * End of text counts as "not a space" (the caller may append anything).
 *
 * Linear time: each byte is looked at a bounded number of times; URL extents
 * are cached per region so nested URLs in one long token stay linear; the
 * look-back over the output at a ':' covers one run, and runs are disjoint.
 *
 * SECURITY: runs in the sanitizer worker on hostile text; no allocation
 * except the capped output buffer (and one capped scratch in link_emit).
 */
#include "text/link.h"

#include <stdbool.h>
#if defined(__SSE2__)
#include <immintrin.h>
#endif
#include <string.h>
#include <strings.h>

#include "common/utf8.h"

enum { K_NONE, K_HTTP, K_HTTPS, K_FTP, K_MAILTO, K_TEL, K_DONE, K_BAD };

typedef struct scan {
	const char *s;
	size_t n;
	link_style_t style;
	buf_t *out;
	link_counts_t *c;
	bool inert;   /* inside a link already counted: parse no URL, count nothing */
	bool armed;   /* a separator was written since the last counted finding */
	/* cached URL region: [rs, re) up to the first stop character */
	bool rvalid;
	size_t rs, re, last_open, end_paren, end_noparen;
	/* a host with an IDN or '_' label found after "//" ends here (it may
	 * run past the range being scanned: a URL ends at non-ASCII) */
	size_t host_end;
} scan_t;

static bool is_run(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '+' || c == '.' || c == '-';
}

static bool is_letter(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_ws(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

static bool is_slash(unsigned char c)
{
	return c == '/' || c == '\\';
}

/* (A switch, not strchr: these run once per character of every token.) */
static bool is_stop(unsigned char c)
{
	switch (c) {
	case '<': case '>': case '"': case '\'': case '`': case '[': case ']':
	case '{': case '}': case '|': case '\\': case '^':
		return true;
	default:
		return c <= 0x20 || c >= 0x7F;
	}
}

static bool is_strip(unsigned char c)
{
	switch (c) {
	case '.': case ',': case ';': case ':': case '!': case '?':
		return true;
	default:
		return false;
	}
}

/* Characters the text scanner handles one by one. */
static bool is_special(unsigned char c)
{
	return c == ':' || c == '@' || is_slash(c);
}

static bool ieq(const char *a, size_t an, const char *b, size_t bn)
{
	size_t i;

	if (an != bn)
		return false;
	for (i = 0; i < an; i++) {
		unsigned char x = (unsigned char)a[i];

		if (x >= 'A' && x <= 'Z')
			x = (unsigned char)(x - 'A' + 'a');
		if (x != (unsigned char)b[i])
			return false;
	}
	return true;
}

static int scheme_kind(const char *s, size_t n)
{
#define NAME(s) s, sizeof(s) - 1
	static const struct { const char *name; size_t len; int kind; } t[] = {
		{ NAME("http"), K_HTTP }, { NAME("https"), K_HTTPS }, { NAME("ftp"), K_FTP },
		{ NAME("mailto"), K_MAILTO }, { NAME("tel"), K_TEL },
		{ NAME("hxxp"), K_DONE }, { NAME("hxxps"), K_DONE }, { NAME("fxp"), K_DONE },
	};
#undef NAME
	size_t i;

	if (n < 3 || n > 6) /* no name above is shorter or longer */
		return K_BAD;
	for (i = 0; i < MUGAI_ARRAY_LEN(t); i++)
		if (ieq(s, n, t[i].name, t[i].len))
			return t[i].kind;
	return K_BAD;
}

/* Compute (or reuse) the region holding position p and return the URL end
 * for a URL starting at p, after trailing punctuation is stripped. */
static size_t url_end(scan_t *sc, size_t p)
{
	size_t e, end;

	if (!sc->rvalid || p < sc->rs || p >= sc->re) {
		sc->rs = p;
		sc->last_open = SIZE_MAX;
		for (e = p; e < sc->n && !is_stop((unsigned char)sc->s[e]); e++)
			if (sc->s[e] == '(')
				sc->last_open = e;
		sc->re = e;
		while (e > p && is_strip((unsigned char)sc->s[e - 1]))
			e--;
		sc->end_paren = e;
		while (e > p && (is_strip((unsigned char)sc->s[e - 1]) || sc->s[e - 1] == ')'))
			e--;
		sc->end_noparen = e;
		sc->rvalid = true;
	}
	if (sc->last_open != SIZE_MAX && sc->last_open >= p)
		end = sc->end_paren;
	else
		end = sc->end_noparen;
	return end > p ? end : p;
}

static size_t run_end(const scan_t *sc, size_t i, size_t lim)
{
	while (i < lim && is_run((unsigned char)sc->s[i]))
		i++;
	return i;
}

static bool is_alnum(unsigned char c)
{
	return is_run(c) && c != '+' && c != '.' && c != '-';
}

/* "www." and then a letter or digit (the host must go on). */
static bool starts_www(const char *s, size_t n)
{
	return n > 4 && ieq(s, 4, "www.", 4) && is_alnum((unsigned char)s[4]);
}

/* A '.' between two other characters of the run [i, to) (label.label). */
static size_t inner_dot(const scan_t *sc, size_t i, size_t to)
{
	for (size_t k = i + 1; k + 1 < to; k++)
		if (sc->s[k] == '.' && sc->s[k - 1] != '.' && sc->s[k + 1] != '.')
			return k;
	return SIZE_MAX;
}

/* Host shaped: label '.' label with at least two letters after the first
 * inner dot (broader than the check's "last label has 2+ letters"). */
static bool dotted(const scan_t *sc, size_t i, size_t to)
{
	size_t d = inner_dot(sc, i, to), letters = 0;

	for (size_t k = d == SIZE_MAX ? to : d + 1; k < to && letters < 2; k++)
		letters += is_letter((unsigned char)sc->s[k]);
	return letters >= 2;
}

static int put(scan_t *sc, const char *p, size_t n)
{
	return buf_append(sc->out, p, n);
}

/* A finding outside a counted link: count it once per stretch of URL-ish
 * characters ("http:\\evil.com" is one link, not three). */
static void count(scan_t *sc)
{
	if (!sc->inert && sc->armed)
		sc->c->defanged++;
	sc->armed = false;
}

/* Copy a host [i, to) with every '.' written as "[.]" and every ':' as
 * "[:]": "[.]" starts a new run in the output, so a label followed by ':'
 * ("a.tel:1") must not become a live "tel:1". */
static int put_host(scan_t *sc, size_t i, size_t to)
{
	size_t k;

	for (k = i; k < to; k++) {
		if (sc->s[k] != '.' && sc->s[k] != ':')
			continue;
		if (put(sc, sc->s + i, k - i) < 0 ||
		    put(sc, sc->s[k] == '.' ? "[.]" : "[:]", 3) < 0)
			return -1;
		i = k + 1;
	}
	return put(sc, sc->s + i, to - i);
}

/* What follows position i is "not a space" for the contract: any
 * non-whitespace character, or the end of the text. */
static bool live_after(const scan_t *sc, size_t i)
{
	return i >= sc->n || !is_ws((unsigned char)sc->s[i]);
}

/* The output ends with a run that is a scheme: a letter, then 1+ scheme
 * characters, not preceded by a scheme character. */
static bool tail_scheme(const buf_t *o)
{
	size_t k = o->len;

	if (!o->data)
		return false;
	while (k > 0 && is_run((unsigned char)o->data[k - 1]))
		k--;
	return o->len - k >= 2 && is_letter((unsigned char)o->data[k]);
}

static bool tail_slashes(const buf_t *o)
{
	return o->data && o->len >= 2 && is_slash((unsigned char)o->data[o->len - 1]) &&
	       is_slash((unsigned char)o->data[o->len - 2]);
}

/* Is the scheme just written (the output's tail run) a link for the count?
 * Every scheme is disarmed, but "Re:Hello" or "TEL:03" in a letter is not
 * reported as a link: only a known scheme, any "ms-…" handler, or a scheme
 * followed by a slash. */
static bool counts_as_link(const buf_t *o, unsigned char next)
{
	static const char *const known[] = {
		"file", "javascript", "vbscript", "data", "sip", "sips", "callto", "skype",
		"search-ms", "smb", "ldap", "telnet", "ssh", "sftp", "webcal", "intent", "jar",
		"shell", "hcp", "mk", "its", "onenote", "zoommtg", "slack", "teams", "msteams",
		"http", "https", "ftp", "mailto", "hxxp", "hxxps", "fxp", "news", "nntp", "irc",
	};
	size_t k = o->len;

	if (next == '/' || next == '\\')
		return true;
	while (k > 0 && is_run((unsigned char)o->data[k - 1]))
		k--;
	if (o->len - k > 3 && strncasecmp(o->data + k, "ms-", 3) == 0)
		return true;
	for (size_t i = 0; i < MUGAI_ARRAY_LEN(known); i++)
		if (ieq(o->data + k, o->len - k, known[i], strlen(known[i])))
			return true;
	return false;
}

/* ':' at i: "[:]" when the output so far ends in a scheme and a non-space
 * follows, or ends in any run and "//" follows (mid-word linkifiers; and
 * the top-level scan removes "3x://" as a URL, so rewriting stays
 * idempotent). */
static size_t at_colon(scan_t *sc, size_t i)
{
	const buf_t *o = sc->out;
	bool run_before = o->data && o->len && is_run((unsigned char)o->data[o->len - 1]);
	bool slashes = i + 2 < sc->n && sc->s[i + 1] == '/' && sc->s[i + 2] == '/';

	if ((tail_scheme(o) && live_after(sc, i + 1)) || (run_before && slashes)) {
		if (counts_as_link(o, i + 1 < sc->n ? (unsigned char)sc->s[i + 1] : 0))
			count(sc);
		return put(sc, "[:]", 3) < 0 ? SIZE_MAX : i + 1;
	}
	return put(sc, ":", 1) < 0 ? SIZE_MAX : i + 1;
}

/* '@' at i followed by a host with a dot: a bare e-mail address. */
static size_t at_at(scan_t *sc, size_t i, size_t to)
{
	size_t e = run_end(sc, i + 1, to);

	if (inner_dot(sc, i + 1, e) == SIZE_MAX)
		return put(sc, "@", 1) < 0 ? SIZE_MAX : i + 1;
	count(sc);
	if (put(sc, "[@]", 3) < 0 || put_host(sc, i + 1, e) < 0)
		return SIZE_MAX;
	return e;
}

/* '/' or '\' at i. With the slash written just before it (output tail) and
 * one of the two a backslash, a non-space after the pair makes a UNC or
 * slash-host form: write the pair as "[xy]". */
static size_t at_slash(scan_t *sc, size_t i)
{
	buf_t *o = sc->out;
	unsigned char ch = (unsigned char)sc->s[i], prev;
	char pair[4] = { '[', 0, 0, ']' };

	prev = o->data && o->len ? (unsigned char)o->data[o->len - 1] : 0;
	if (!is_slash(prev) || (prev != '\\' && ch != '\\') || !live_after(sc, i + 1) ||
	    (i + 1 < sc->n && sc->s[i + 1] == ']'))
		return put(sc, sc->s + i, 1) < 0 ? SIZE_MAX : i + 1;
	count(sc);
	if (o->len >= 3 && o->data[o->len - 2] == '/' && o->data[o->len - 3] == ':') {
		/* the slash ends our own "hxxp://": bracket this one alone */
		pair[1] = (char)ch;
		pair[2] = ']';
		return put(sc, pair, 3) < 0 ? SIZE_MAX : i + 1;
	}
	o->len--;
	o->data[o->len] = '\0';
	pair[1] = (char)prev;
	pair[2] = (char)ch;
	return put(sc, pair, 4) < 0 ? SIZE_MAX : i + 1;
}

/* A run that is no link by itself: a www host, or a dotted host followed
 * by '/' or after "//", a slash pair or ':', is written with "[.]". */
static size_t word(scan_t *sc, size_t r0, size_t r1)
{
	const char *s = sc->s;
	bool www = r1 - r0 >= 4 && ieq(s + r0, 4, "www.", 4);
	bool before = (r0 >= 2 && is_slash((unsigned char)s[r0 - 1]) &&
		       is_slash((unsigned char)s[r0 - 2])) ||
		      tail_slashes(sc->out) || (r0 >= 1 && s[r0 - 1] == ':');
	bool host = dotted(sc, r0, r1) && (before || (r1 < sc->n && s[r1] == '/'));

	if (!www && !host)
		return put(sc, s + r0, r1 - r0) < 0 ? SIZE_MAX : r1;
	count(sc);
	return put_host(sc, r0, r1) < 0 ? SIZE_MAX : r1;
}

/* The first of '/', '?', '#' (where a host ends) in [i, to), or to. */
static size_t find_path(const scan_t *sc, size_t i, size_t to)
{
	while (i < to && sc->s[i] != '/' && sc->s[i] != '?' && sc->s[i] != '#')
		i++;
	return i;
}

/* The first '@' in [i, to), or to. */
static size_t find_at(const scan_t *sc, size_t i, size_t to)
{
	const char *p = i < to ? memchr(sc->s + i, '@', to - i) : NULL;

	return p ? (size_t)(p - sc->s) : to;
}

static int scan_range(scan_t *sc, size_t i, size_t to);

/* Inert copy of [i, to): nothing in it can start a clickable link. */
static int put_inert(scan_t *sc, size_t i, size_t to)
{
	bool was = sc->inert;
	int rc;

	sc->inert = true;
	rc = scan_range(sc, i, to);
	sc->inert = was;
	return rc;
}

static int defang_web(scan_t *sc, int kind, size_t r1, size_t e)
{
	static const char *const rep[] = {
		[K_HTTP] = "hxxp://", [K_HTTPS] = "hxxps://", [K_FTP] = "fxp://",
	};
	size_t a = r1 + 3, h = find_path(sc, a, e);

	if (put(sc, rep[kind], strlen(rep[kind])) < 0 || put_host(sc, a, h) < 0)
		return -1;
	return put_inert(sc, h, e);
}

/* The output ends with a character of an address's local part or '@'. */
static bool tail_joins_address(const buf_t *o)
{
	unsigned char c;

	if (!o->data || !o->len)
		return false;
	c = (unsigned char)o->data[o->len - 1];
	return is_run(c) || c == '_' || c == '%' || c == '@';
}

/* "mailto:taro@example.jp" → "taro[@]example[.]jp". Anything else keeps
 * its scheme as "mailto[:]": dropping it could join the text before it with
 * what follows ("http:mailto://x" must not become "http://x"). */
static int defang_mailto(scan_t *sc, size_t r0, size_t r1, size_t e)
{
	size_t at = find_at(sc, r1 + 1, e), d;

	if (at == e || !is_alnum((unsigned char)sc->s[r1 + 1])) {
		if (put(sc, sc->s + r0, r1 - r0) < 0 || put(sc, "[:]", 3) < 0)
			return -1;
		return put_inert(sc, r1 + 1, e);
	}
	for (d = at + 1; d < e && (is_run((unsigned char)sc->s[d]) || sc->s[d] == ':'); d++)
		;
	/* the output ends where an address could go on ("x@" + "a.jp"):
	 * keep the scheme as a separator, "mailto[:]" */
	if (tail_joins_address(sc->out) &&
	    (put(sc, sc->s + r0, r1 - r0) < 0 || put(sc, "[:]", 3) < 0))
		return -1;
	if (put_inert(sc, r1 + 1, at) < 0 || put(sc, "[@]", 3) < 0 ||
	    put_host(sc, at + 1, d) < 0)
		return -1;
	return put_inert(sc, d, e);
}

static int defang_one(scan_t *sc, int kind, size_t r0, size_t r1, size_t e)
{
	size_t h;

	switch (kind) {
	case K_MAILTO:
		return defang_mailto(sc, r0, r1, e);
	case K_TEL:
		if (put(sc, sc->s + r0, r1 - r0) < 0 || put(sc, "[:]", 3) < 0)
			return -1;
		return put_inert(sc, r1 + 1, e);
	case K_NONE:
		h = find_path(sc, r0, e);
		if (put_host(sc, r0, h) < 0)
			return -1;
		return put_inert(sc, h, e);
	default:
		return defang_web(sc, kind, r1, e);
	}
}

static void mark_wide_host(scan_t *sc, size_t a);

/* Plain style keeps only these clickable (the output contract's exception),
 * and a web URL only when a host label follows "//" ("https://%3E…" or an
 * IDN right after "//" is written as in defang). */
static bool plain_keeps(int kind)
{
	return kind == K_HTTP || kind == K_HTTPS || kind == K_MAILTO;
}

/* A link of the given kind spans [r0, e); write it in the style. */
static int link_one(scan_t *sc, int kind, size_t r0, size_t r1, size_t e)
{
	int rc;

	sc->armed = false;
	if (kind == K_BAD || sc->style == LINK_REMOVE) {
		sc->c->removed++;
		return put(sc, "[URL]", 5);
	}
	sc->c->defanged++;
	sc->inert = true;
	if (kind == K_HTTP || kind == K_HTTPS || kind == K_FTP)
		mark_wide_host(sc, r1 + 3);
	if (sc->style == LINK_PLAIN && kind == K_MAILTO) {
		rc = put(sc, sc->s + r0, e - r0);
	} else if (sc->style == LINK_PLAIN && plain_keeps(kind) && r1 + 3 < e &&
		   (is_alnum((unsigned char)sc->s[r1 + 3]) || sc->s[r1 + 3] == '-')) {
		/* the link stays clickable; a URL nested in its path does not */
		size_t h = find_path(sc, r1 + 3, e);

		rc = put(sc, sc->s + r0, h - r0);
		if (rc == 0)
			rc = put_inert(sc, h, e);
	} else {
		rc = defang_one(sc, kind, r0, r1, e);
	}
	sc->inert = false;
	return rc;
}

/* At the start of a run: a link, or the run as a word. Returns the next
 * index or SIZE_MAX on failure. */
static size_t at_run(scan_t *sc, size_t r0, size_t to)
{
	const char *s = sc->s;
	size_t r1 = run_end(sc, r0, to), e, min;
	int kind = scheme_kind(s + r0, r1 - r0);
	bool slashes = r1 + 2 < to && s[r1] == ':' && s[r1 + 1] == '/' && s[r1 + 2] == '/';

	if (slashes && kind == K_DONE) {
		min = r1 + 3;
		return put(sc, s + r0, min - r0) < 0 ? SIZE_MAX : min;
	}
	if (sc->inert)
		return word(sc, r0, r1);
	if (slashes && kind != K_MAILTO && kind != K_TEL)
		min = r1 + 3;
	else if (r1 < sc->n && s[r1] == ':' && (kind == K_MAILTO || kind == K_TEL))
		min = r1 + 2;
	else if (starts_www(s + r0, r1 - r0))
		kind = K_NONE, min = r0 + 5;
	else
		return word(sc, r0, r1);
	e = url_end(sc, r0);
	if (e < min)
		return word(sc, r0, r1);
	return link_one(sc, kind, r0, r1, e) < 0 ? SIZE_MAX : e;
}

/* Copy bytes that are neither run nor special characters, up to the next
 * one that is; whitespace and punctuation arm the link counter. */
static size_t other(scan_t *sc, size_t i, size_t to)
{
	size_t j = i;

	while (j < to) {
		uint64_t x;

		/* sixteen, then eight non-ASCII bytes (Japanese text) at a time:
		 * none of them is a run or a special byte */
#if defined(__SSE2__)
		if (to - j >= 16 && _mm_movemask_epi8(_mm_loadu_si128(
					    (const __m128i *)(const void *)(sc->s + j))) == 0xFFFF) {
			j += 16;
			continue;
		}
#endif
		if (to - j >= 8) {
			memcpy(&x, sc->s + j, 8);
			if ((x & 0x8080808080808080ull) == 0x8080808080808080ull) {
				j += 8;
				continue;
			}
		}
		if (is_run((unsigned char)sc->s[j]) || is_special((unsigned char)sc->s[j]))
			break;
		j++;
	}
	sc->armed = true;
	return put(sc, sc->s + i, j - i) < 0 ? SIZE_MAX : j;
}

/* The output ends with the run "www" (case-insensitive). */
static bool tail_www(const buf_t *o)
{
	return o->data && o->len >= 3 && ieq(o->data + o->len - 3, 3, "www", 3) &&
	       (o->len == 3 || !is_run((unsigned char)o->data[o->len - 4]));
}

/* The rest of a run after a URL ended inside it (trailing '.' stripped
 * by url_end, a host cut at '+'): "tel:www" + "." must not leave a live
 * "www.", nor "a" + "+.jp/" a live host; trailing dots of a sentence stay. */
static size_t mid_run(scan_t *sc, size_t i, size_t to)
{
	size_t j = run_end(sc, i, to);
	bool label_after = false;

	for (size_t k = i; k + 1 < j && !label_after; k++)
		label_after = sc->s[k] == '.' && sc->s[k + 1] != '.';
	for (; i < j; i++) {
		int rc = sc->s[i] == '.' && (label_after || tail_www(sc->out))
				 ? put(sc, "[.]", 3) : put(sc, sc->s + i, 1);
		if (rc < 0)
			return SIZE_MAX;
	}
	return j;
}

/* The output ends with "//" (a slash pair the contract reads as the start
 * of an authority). */
static bool tail_two_slashes(const buf_t *o)
{
	return o->data && o->len >= 2 && o->data[o->len - 1] == '/' && o->data[o->len - 2] == '/';
}

static bool is_wide_label(unsigned char c)
{
	return is_alnum(c) || c == '-' || c == '_' || c >= 0x80;
}

/* A host with labels of letters, digits, '-', '_' or non-ASCII bytes (an
 * IDN such as "例え.jp", which ends a URL above), at least two labels joined
 * by single dots: the output contract's widest reading of a host after "//"
 * wants 2+ ASCII letters in the last label. Any later label with 2+ letters
 * counts here, since "[.]" written for a dot further on (a "www." inside
 * the chain) would make that label the last one. Returns the chain's end
 * and sets *wide when a label holds a byte the run rules do not see ('_' or
 * non-ASCII); 0 when there is no such host. */
static size_t wide_host_end(const scan_t *sc, size_t i, size_t to, bool *wide)
{
	size_t labels = 0, j = i;
	bool lettered = false;

	*wide = false;
	for (;;) {
		size_t start = j, l = 0;

		for (; j < to && is_wide_label((unsigned char)sc->s[j]); j++) {
			l += is_letter((unsigned char)sc->s[j]);
			*wide = *wide || sc->s[j] == '_' || (unsigned char)sc->s[j] >= 0x80;
		}
		if (j == start) /* "a.b." + non-label: the chain is "a.b" */
			return labels >= 2 && lettered ? j - 1 : 0;
		lettered = lettered || (labels && l >= 2);
		labels++;
		if (j + 1 < to && sc->s[j] == '.' && sc->s[j + 1] != '.') {
			j++;
			continue;
		}
		return labels >= 2 && lettered ? j : 0;
	}
}

/* A URL's authority at a: when it is a host with an IDN or '_' label,
 * remember where that host ends (the URL itself ends at the first non-ASCII
 * byte; the rest of the host is bracketed when the scan gets there). */
static void mark_wide_host(scan_t *sc, size_t a)
{
	bool wide;
	size_t e;

	if (a < sc->n && a >= sc->host_end && is_wide_label((unsigned char)sc->s[a]) &&
	    (e = wide_host_end(sc, a, sc->n, &wide)) && wide)
		sc->host_end = e;
}

/* Right after "//" (the input's or our own "hxxp://"): a host with an IDN
 * or '_' label is written with "[.]" (hosts of ASCII runs are the run
 * rules' work). The host may go on past `to` (a URL range ends at the first
 * non-ASCII byte); the rest of it is bracketed when the scan gets there.
 * Returns the next index, i itself when there is no such host, or SIZE_MAX
 * on failure. */
static size_t after_slashes(scan_t *sc, size_t i, size_t to)
{
	bool wide;
	size_t e;

	if (i >= sc->host_end) {
		if (!tail_two_slashes(sc->out) || !is_wide_label((unsigned char)sc->s[i]))
			return i;
		e = wide_host_end(sc, i, sc->n, &wide);
		if (!e || !wide)
			return i;
		count(sc);
		sc->host_end = e;
	}
	e = sc->host_end < to ? sc->host_end : to;
	return put_host(sc, i, e) < 0 ? SIZE_MAX : e;
}

static int scan_range(scan_t *sc, size_t i, size_t to)
{
	while (i < to) {
		unsigned char ch = (unsigned char)sc->s[i];
		size_t h = after_slashes(sc, i, to);

		if (h != i) {
			i = h;
		} else if (is_run(ch) && i > 0 && is_run((unsigned char)sc->s[i - 1])) {
			i = mid_run(sc, i, to);
		} else if (is_run(ch)) {
			i = at_run(sc, i, to);
		} else if (ch == ':') {
			i = at_colon(sc, i);
		} else if (ch == '@') {
			i = at_at(sc, i, to);
		} else if (is_slash(ch)) {
			i = at_slash(sc, i);
		} else {
			i = other(sc, i, to);
		}
		if (i == SIZE_MAX)
			return -1;
	}
	return 0;
}

/* Bytes that can start or take part in a finding: a token (a stretch
 * between ASCII whitespace) without any of them comes out of scan_range
 * unchanged and counts nothing: no scheme without ':', no host or "www."
 * without '.', no address without '@', no slash form without '/' or '\\'.
 * Whitespace ends every URL, host, run and slash pair, and every look-back
 * of the scanner at a token's start sees whitespace either way. */
static const char link_bytes[] = { '.', ':', '@', '/', '\\' };

static bool is_tok_ws(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}


#if defined(__SSE2__)
/* Bit j set: u[j] is token whitespace (one of is_tok_ws), j < 16. */
static unsigned ws16(const unsigned char *u)
{
	__m128i x = _mm_loadu_si128((const __m128i *)(const void *)u);
	__m128i ws = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(x, _mm_set1_epi8(' ')),
					       _mm_cmpeq_epi8(x, _mm_set1_epi8('\t'))),
				  _mm_or_si128(_mm_cmpeq_epi8(x, _mm_set1_epi8('\n')),
					       _mm_cmpeq_epi8(x, _mm_set1_epi8('\r'))));

	return (unsigned)_mm_movemask_epi8(ws);
}
#endif

/* The start of the token holding u[k]: after the last whitespace in
 * [floor, k), or floor (sixteen bytes a step back while none is). */
static size_t token_start(const unsigned char *u, size_t floor, size_t k)
{
#if defined(__SSE2__)
	for (; k - floor >= 16; k -= 16) {
		unsigned m = ws16(u + k - 16);

		if (m)
			return k - 16 + (size_t)(31 - __builtin_clz(m)) + 1;
	}
#endif
	while (k > floor && !is_tok_ws(u[k - 1]))
		k--;
	return k;
}

/* The end of the token going on at u[k]: the first whitespace in [k, len),
 * or len (sixteen bytes a step while none is). */
static size_t token_end(const unsigned char *u, size_t k, size_t len)
{
#if defined(__SSE2__)
	for (; len - k >= 16; k += 16) {
		unsigned m = ws16(u + k);

		if (m)
			return k + (size_t)__builtin_ctz(m);
	}
#endif
	while (k < len && !is_tok_ws(u[k]))
		k++;
	return k;
}

/* The next occurrence of each link byte at or after `from` (len if none),
 * refreshed only for those that fell behind: memchr runs over each byte
 * about once per link byte, at memchr's speed. */
static size_t next_link_byte(const char *in, size_t len, size_t from, size_t next[5])
{
	size_t min = len;

	for (size_t k = 0; k < MUGAI_ARRAY_LEN(link_bytes); k++) {
		if (next[k] < from) {
			const char *p = memchr(in + from, link_bytes[k], len - from);

			next[k] = p ? (size_t)(p - in) : len;
		}
		if (next[k] < min)
			min = next[k];
	}
	return min;
}

int link_rewrite_text(const char *in, size_t len, link_style_t style, buf_t *out,
		      link_counts_t *c)
{
	const unsigned char *u = (const unsigned char *)in;
	size_t next[MUGAI_ARRAY_LEN(link_bytes)] = { 0 }, copied = 0, k;
	scan_t sc;

	if (len == 0)
		return 0;
	memset(&sc, 0, sizeof(sc));
	sc.s = in;
	sc.n = len;
	sc.style = style;
	sc.out = out;
	sc.c = c;
	sc.armed = true;
	/* tokens without a link byte are copied in bulk; each token holding
	 * one goes through the scanner, which sees exactly what a whole-text
	 * scan sees (the copied stretch ends in whitespace, which arms the
	 * counter) */
	while ((k = next_link_byte(in, len, copied, next)) < len) {
		size_t tok = token_start(u, copied, k), end = token_end(u, k + 1, len);

		if (tok > copied) {
			if (put(&sc, in + copied, tok - copied) < 0)
				return -1;
			sc.armed = true;
		}
		if (scan_range(&sc, tok, end) < 0)
			return -1;
		copied = end;
	}
	return len > copied ? put(&sc, in + copied, len - copied) : 0;
}

/* ---- link_emit: one href ------------------------------------------------ */

static size_t trim_l(const char *s, size_t n)
{
	size_t i = 0;

	while (i < n && (unsigned char)s[i] <= 0x20)
		i++;
	return i;
}

static size_t trim_r(const char *s, size_t i, size_t n)
{
	while (n > i && (unsigned char)s[n - 1] <= 0x20)
		n--;
	return n;
}

/* Append one URL byte/char in normalized form: controls dropped, the few
 * characters that would end the URL in text percent-encoded, invalid UTF-8
 * replaced by U+FFFD. Returns bytes consumed or 0 on failure. */
static size_t norm_char(buf_t *u, const char *s, size_t n)
{
	unsigned char c = (unsigned char)s[0];
	uint32_t cp;
	size_t k;

	if (c < 0x20 || c == 0x7F)
		return 1;
	if (c < 0x80) {
		if (c == ' ' || strchr("<>\"'`", c))
			return buf_printf(u, "%%%02X", c) < 0 ? 0 : 1;
		return buf_putc(u, c) < 0 ? 0 : 1;
	}
	k = utf8_decode_one((const unsigned char *)s, n, &cp);
	if (cp == UTF8_INVALID || (cp >= 0x80 && cp <= 0x9F))
		cp = cp == UTF8_INVALID ? 0xFFFD : 0;
	if (cp && buf_put_utf8(u, cp) < 0)
		return 0;
	return k;
}

/* Find the scheme of href[i..n) (tabs/newlines ignored); return its kind
 * and the index just past ':'. */
static int href_scheme(const char *s, size_t i, size_t n, size_t *after)
{
	char name[8];
	size_t k = 0;
	unsigned char c;

	for (; i < n; i++) {
		c = (unsigned char)s[i];
		if (c == '\t' || c == '\n' || c == '\r')
			continue;
		if (c == ':')
			break;
		if (!is_run(c) || (k == 0 && !((c | 0x20) >= 'a' && (c | 0x20) <= 'z')) ||
		    k == sizeof(name))
			return K_BAD;
		name[k++] = (char)c;
	}
	if (i >= n || k == 0)
		return K_BAD;
	*after = i + 1;
	return scheme_kind(name, k);
}

/* Rebuild href as a normalized URL in u; return its kind (K_BAD if it
 * must be removed). */
static int href_normalize(const char *s, size_t n, buf_t *u)
{
	static const char *const pre[] = {
		[K_HTTP] = "http://", [K_HTTPS] = "https://", [K_FTP] = "ftp://",
		[K_MAILTO] = "mailto:", [K_TEL] = "tel:",
	};
	size_t i = trim_l(s, n), e = trim_r(s, i, n), k;
	int kind = href_scheme(s, i, e, &i);

	if (kind == K_BAD || kind == K_DONE)
		return K_BAD;
	if (buf_puts(u, pre[kind]) < 0)
		return K_BAD;
	if (kind == K_HTTP || kind == K_HTTPS || kind == K_FTP)
		while (i < e && strchr("/\\\t\r\n", s[i]))
			i++;
	while (i < e) {
		if (s[i] == '\\' && buf_putc(u, '/') == 0) {
			i++;
			continue;
		}
		k = norm_char(u, s + i, e - i);
		if (k == 0)
			return K_BAD;
		i += k;
	}
	return kind;
}

/* The label says the same as the URL (so only the URL is shown). */
static bool label_same(const char *l, size_t ln, const char *u, size_t un, int kind)
{
	size_t skip = 0;
	const char *p;

	if (ln == 0)
		return true;
	if (kind == K_MAILTO || kind == K_TEL)
		skip = kind == K_MAILTO ? 7 : 4;
	else if ((p = strstr(u, "://")) != NULL)
		skip = (size_t)(p - u) + 3;
	for (int pass = 0; pass < 2; pass++) {
		size_t off = pass ? skip : 0, m = un - off;

		if (m && u[un - 1] == '/' && ln == m - 1 && strncasecmp(l, u + off, ln) == 0)
			return true;
		if (ln == m && strncasecmp(l, u + off, ln) == 0)
			return true;
	}
	return false;
}

static int emit_url(buf_t *out, const buf_t *u, link_style_t style, int kind)
{
	link_counts_t scratch = { 0, 0 };

	return link_rewrite_text(u->data, u->len,
				 style == LINK_PLAIN && plain_keeps(kind) ? LINK_PLAIN : LINK_DEFANG,
				 out, &scratch);
}

int link_emit(buf_t *out, const char *label, size_t llen, const char *url,
	      size_t ulen, link_style_t style, link_counts_t *c)
{
	buf_t u;
	size_t l0 = trim_l(label, llen), l1 = trim_r(label, l0, llen);
	int kind, rc = -1;
	bool same;

	buf_init(&u, ulen > (SIZE_MAX - 64) / 3 ? SIZE_MAX : ulen * 3 + 64);
	kind = href_normalize(url, ulen, &u);
	if (u.oom)
		goto out;
	if (kind == K_BAD || style == LINK_REMOVE) {
		c->removed++;
		rc = link_rewrite_text(label + l0, l1 - l0, style, out, c);
		goto out;
	}
	c->defanged++;
	same = label_same(label + l0, l1 - l0, u.data, u.len, kind);
	if (!same && (link_rewrite_text(label + l0, l1 - l0, style, out, c) < 0 ||
		      buf_puts(out, " <") < 0))
		goto out;
	if (emit_url(out, &u, style, kind) < 0 || (!same && buf_putc(out, '>') < 0))
		goto out;
	rc = 0;
out:
	buf_free(&u);
	return rc;
}
