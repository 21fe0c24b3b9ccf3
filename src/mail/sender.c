/*
 * sender.c — sender warnings (see sender.h): the pure checks, and
 * sender_check, which applies them to a parsed message for the report.
 *
 * Specs: RFC 8601 §2.2 (authserv-id, resinfo "method=result", CFWS
 * comments), UTS #39 (a fixed subset of confusables).
 *
 * SECURITY: sanitizer worker; all input is sender text; no allocation
 * larger than the header value, folds bounded by SENDER_FOLD_MAX.
 */
#include "mail/sender.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "common/utf8.h"
#include "mail/mail_int.h"

/* ---- folding ---- */

typedef struct conf_map {
	uint32_t cp;
	char to;
} conf_map_t;

/* Cyrillic and Greek letters drawn like Latin ones, and full stops. */
static const conf_map_t confusables[] = {
	{ 0x0430, 'a' }, { 0x0435, 'e' }, { 0x043e, 'o' }, { 0x0440, 'p' }, { 0x0441, 'c' },
	{ 0x0443, 'y' }, { 0x0445, 'x' }, { 0x0455, 's' }, { 0x0456, 'i' }, { 0x0458, 'j' },
	{ 0x04bb, 'h' }, { 0x04cf, 'l' }, { 0x0501, 'd' }, { 0x0410, 'a' }, { 0x0412, 'b' },
	{ 0x0415, 'e' }, { 0x041a, 'k' }, { 0x041c, 'm' }, { 0x041d, 'h' }, { 0x041e, 'o' },
	{ 0x0420, 'p' }, { 0x0421, 'c' }, { 0x0422, 't' }, { 0x0425, 'x' }, { 0x0406, 'i' },
	{ 0x03b1, 'a' }, { 0x03bf, 'o' }, { 0x03bd, 'v' }, { 0x03c1, 'p' }, { 0x03b9, 'i' },
	{ 0x03ba, 'k' }, { 0x03c4, 't' }, { 0x03c5, 'u' }, { 0x0391, 'a' }, { 0x0392, 'b' },
	{ 0x0395, 'e' }, { 0x0396, 'z' }, { 0x0397, 'h' }, { 0x0399, 'i' }, { 0x039a, 'k' },
	{ 0x039c, 'm' }, { 0x039d, 'n' }, { 0x039f, 'o' }, { 0x03a1, 'p' }, { 0x03a4, 't' },
	{ 0x03a5, 'y' }, { 0x03a7, 'x' }, { 0x0261, 'g' }, { 0x0131, 'i' },
	{ 0x3002, '.' }, { 0xff61, '.' }, { 0x2024, '.' }, { 0x2010, '-' }, { 0x2011, '-' },
	{ 0x2212, '-' }, { 0x30fc, '-' },
};

/* Latin-1 letters U+00C0..U+00FF without their marks ('*': no letter). */
static const char latin1[] = "aaaaaaaceeeeiiiidnooooo*ouuuuypsaaaaaaaceeeeiiiidnooooo*ouuuuypy";

/* One code point as a folded ASCII character; '*' for any other. */
static char fold_cp(uint32_t cp)
{
	if (cp >= 0xff01 && cp <= 0xff5e) /* fullwidth ASCII */
		cp -= 0xfee0;
	if (cp >= 0xc0 && cp <= 0xff)
		cp = (unsigned char)latin1[cp - 0xc0];
	if (cp < 0x80) {
		char c = (char)tolower((int)cp);

		return c == '0' ? 'o' : c == '1' || c == 'i' || c == '|' ? 'l' : c;
	}
	for (size_t i = 0; i < MUGAI_ARRAY_LEN(confusables); i++)
		if (confusables[i].cp == cp)
			return confusables[i].to == 'i' ? 'l' : confusables[i].to;
	return '*';
}

void sender_fold(const char *in, char *out, size_t cap)
{
	const unsigned char *p = (const unsigned char *)in;
	size_t n = strlen(in), k = 0;

	if (!cap)
		return;
	while (n && k + 1 < cap) {
		uint32_t cp;
		size_t used = utf8_decode_one(p, n, &cp);
		char c = fold_cp(cp == UTF8_INVALID ? '*' : cp);

		/* two letters read as one: rn → m, vv → w */
		if (k && ((out[k - 1] == 'r' && c == 'n') || (out[k - 1] == 'v' && c == 'v')))
			out[k - 1] = c == 'n' ? 'm' : 'w';
		else
			out[k++] = c;
		p += used;
		n -= used;
	}
	out[k] = '\0';
}

/* ---- comparisons ---- */

/* Optimal string alignment distance (a swap of neighbours costs 1),
 * stopped early above max. */
static size_t osa_distance(const char *a, const char *b, size_t max)
{
	size_t la = strlen(a), lb = strlen(b);
	static size_t row[3][SENDER_FOLD_MAX + 1];
	size_t *pp = row[0], *p = row[1], *c = row[2];

	if ((la > lb ? la - lb : lb - la) > max || la > SENDER_FOLD_MAX || lb > SENDER_FOLD_MAX)
		return max + 1;
	for (size_t j = 0; j <= lb; j++)
		p[j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t best;

		c[0] = best = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t cost = a[i - 1] != b[j - 1], v = p[j - 1] + cost;

			v = p[j] + 1 < v ? p[j] + 1 : v;
			v = c[j - 1] + 1 < v ? c[j - 1] + 1 : v;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
			    pp[j - 2] + 1 < v)
				v = pp[j - 2] + 1;
			c[j] = v;
			best = v < best ? v : best;
		}
		if (best > max)
			return max + 1;
		size_t *t = pp;
		pp = p, p = c, c = t;
	}
	return p[lb];
}

static bool ends_with_label(const char *d, size_t dl, const char *own, size_t ol)
{
	return dl > ol && d[dl - ol - 1] == '.' && strncasecmp(d + dl - ol, own, ol) == 0;
}

bool sender_domain_is_own(const char *domain, const char *own)
{
	size_t dl = strlen(domain), ol = strlen(own);

	return ol && ((dl == ol && strcasecmp(domain, own) == 0) ||
		      ends_with_label(domain, dl, own, ol));
}

/* Same labels but one, and that one is punycode (xn--) in domain. */
static bool puny_swap(const char *d, const char *o)
{
	int diff = 0, puny = 0;

	while (*d && *o) {
		size_t ld = strcspn(d, "."), lo = strcspn(o, ".");

		if (ld != lo || strncasecmp(d, o, ld) != 0) {
			diff++;
			puny += strncasecmp(d, "xn--", 4) == 0;
		}
		d += ld + (d[ld] == '.');
		o += lo + (o[lo] == '.');
	}
	return !*d && !*o && diff == 1 && puny == 1;
}

bool sender_lookalike(const char *domain, const char *own)
{
	char fd[SENDER_FOLD_MAX + 1], fo[SENDER_FOLD_MAX + 1];
	size_t ol, max;

	if (!*domain || !*own || sender_domain_is_own(domain, own))
		return false;
	sender_fold(domain, fd, sizeof(fd));
	sender_fold(own, fo, sizeof(fo));
	ol = strlen(fo);
	max = ol >= SENDER_LONG_DOMAIN ? 2 : 1;
	if (strcmp(fd, fo) == 0 || (strncmp(fd, fo, ol) == 0 && fd[ol] == '.'))
		return true;
	return osa_distance(fd, fo, max) <= max || puny_swap(domain, own);
}

bool sender_name_has(const char *name, const char *own)
{
	char fn[SENDER_FOLD_MAX + 1], fo[SENDER_FOLD_MAX + 1];

	if (!*own)
		return false;
	sender_fold(name, fn, sizeof(fn));
	sender_fold(own, fo, sizeof(fo));
	return strstr(fn, fo) != NULL;
}

/* ---- Authentication-Results (RFC 8601) ---- */

/* The value without comments, CR and LF (quoted strings kept); malloc'd. */
static char *strip_comments(const char *v, size_t len)
{
	char *out = malloc(len + 1);
	size_t k = 0;
	int depth = 0;
	bool quoted = false;

	if (!out)
		return NULL;
	for (size_t i = 0; i < len; i++) {
		char c = v[i];

		if (c == '\\' && i + 1 < len && (quoted || depth)) {
			if (!depth)
				out[k++] = v[++i];
			else
				i++;
			continue;
		}
		if (!quoted && c == '(')
			depth++;
		else if (!quoted && c == ')' && depth)
			depth--;
		else if (!depth && c == '"')
			quoted = !quoted, out[k++] = c;
		else if (!depth)
			out[k++] = c == '\r' || c == '\n' || c == '\t' ? ' ' : c;
	}
	out[k] = '\0';
	return out;
}

/* Next ';'-separated segment (outside quotes): [*s, end). */
static char *next_segment(char **s)
{
	char *start = *s, *p = start;
	bool quoted = false;

	if (!start)
		return NULL;
	for (; *p && (quoted || *p != ';'); p++)
		if (*p == '"')
			quoted = !quoted;
	*s = *p ? p + 1 : NULL;
	*p = '\0';
	return start;
}

static unsigned method_fail(const char *seg)
{
	static const struct { const char *name; unsigned bit; } m[] = {
		{ "dmarc", SENDER_W_DMARC }, { "dkim", SENDER_W_DKIM }, { "spf", SENDER_W_SPF },
	};
	size_t lead = strspn(seg, " "), ml = strcspn(seg + lead, "=/ ");
	const char *eq = strchr(seg + lead, '='), *res;

	if (!eq)
		return 0;
	res = eq + 1 + strspn(eq + 1, " ");
	if (strncasecmp(res, "fail", 4) != 0 || (res[4] && res[4] != ' '))
		return 0;
	for (size_t i = 0; i < MUGAI_ARRAY_LEN(m); i++)
		if (ml == strlen(m[i].name) && strncasecmp(seg + lead, m[i].name, ml) == 0)
			return m[i].bit;
	return 0;
}

unsigned sender_authres(const char *value, size_t len, const char *authserv_id)
{
	char *buf, *rest, *seg, *id;
	unsigned bits = 0;
	size_t il;

	if (!authserv_id || !*authserv_id || !(buf = strip_comments(value, len)))
		return 0;
	rest = buf;
	seg = next_segment(&rest);
	id = seg + strspn(seg, " ");
	il = strcspn(id, " ");
	if (il == strlen(authserv_id) && strncasecmp(id, authserv_id, il) == 0)
		while ((seg = next_segment(&rest)))
			bits |= method_fail(seg);
	free(buf);
	return bits;
}

/* ---- applied to a message ---- */

static const char *domain_of(const char *addr)
{
	const char *at = addr ? strrchr(addr, '@') : NULL;

	return at ? at + 1 : "";
}

/* The first mailbox of From: its domain (after '@') as written and in its
 * IDNA form (xn--), and its display name. */
static bool from_mailbox(const hdrset_t *h, const char **domain, const char **idn,
			 const char **name)
{
	InternetAddress *a;

	if (!h->from || internet_address_list_length(h->from) < 1)
		return false;
	a = internet_address_list_get_address(h->from, 0);
	if (!INTERNET_ADDRESS_IS_MAILBOX(a))
		return false;
	*domain = domain_of(internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(a)));
	*idn = domain_of(internet_address_mailbox_get_idn_addr(INTERNET_ADDRESS_MAILBOX(a)));
	*name = internet_address_get_name(a);
	if (!*name)
		*name = "";
	return true;
}

/* Each own domain (comma-separated, trimmed) against the From domain (as
 * written and as IDNA) and the display name. */
static unsigned check_own(const char *list, const char *domain, const char *idn,
			  const char *name)
{
	unsigned bits = 0;
	bool inside = false;

	for (const char *p = list; p && *p;) {
		size_t lead = strspn(p, " \t,"), n;
		char own[SENDER_FOLD_MAX + 1];

		p += lead;
		n = strcspn(p, ",");
		while (n && (p[n - 1] == ' ' || p[n - 1] == '\t'))
			n--;
		if (n && n <= SENDER_FOLD_MAX) {
			memcpy(own, p, n);
			own[n] = '\0';
			inside |= sender_domain_is_own(domain, own);
			bits |= sender_lookalike(domain, own) || sender_lookalike(idn, own)
				? SENDER_W_LOOKALIKE : 0;
			bits |= sender_name_has(name, own) ? SENDER_W_NAME_OWN : 0;
		}
		p += strcspn(p, ",");
	}
	return inside ? 0 : bits;
}

void sender_check(mail_ctx_t *c, GMimeMessage *m, const hdrset_t *h)
{
	const char *domain, *idn, *name;
	const char *id = cfg_str(c->cfg, CFG_AUTHSERV_ID);

	if (from_mailbox(h, &domain, &idn, &name))
		c->rep->sender_warn |= check_own(cfg_str(c->cfg, CFG_OWN_DOMAINS), domain, idn, name);
	if (m && *id) {
		GMimeHeaderList *hl = g_mime_object_get_header_list(GMIME_OBJECT(m));
		int n = hl ? g_mime_header_list_get_count(hl) : 0;

		for (int i = 0; i < n; i++) {
			GMimeHeader *hd = g_mime_header_list_get_header_at(hl, i);
			const char *v = g_mime_header_get_raw_value(hd);

			if (v && g_ascii_strcasecmp(g_mime_header_get_name(hd),
						    "Authentication-Results") == 0)
				c->rep->sender_warn |= sender_authres(v, strlen(v), id);
		}
	}
}
