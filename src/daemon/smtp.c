/*
 * smtp.c — SMTP server protocol pieces without I/O (see smtp.h): line
 * framing, command parsing, DATA decoding.
 *
 * RFCs: RFC 5321, RFC 1870 (SIZE), RFC 6152 (8BITMIME), RFC 6531
 * (SMTPUTF8), RFC 2034/3463 (enhanced status codes in the replies).
 *
 * SECURITY: session process, hostile client bytes. No allocation; every
 * copy is bounded by the destination size; a path with a control byte, a
 * NUL, invalid UTF-8 or an unbalanced quote is refused.
 */
#include "daemon/smtp.h"

#include <string.h>
#include <strings.h>
#include "common/utf8.h"

smtp_line_t smtp_line_find(const char *buf, size_t n, size_t max, size_t *len, size_t *used)
{
	for (size_t i = 0; i < n; i++) {
		if (buf[i] == '\n')
			return SMTP_LINE_BARE_LF;
		if (buf[i] != '\r')
			continue;
		if (i + 1 == n)
			break;
		if (buf[i + 1] != '\n')
			return SMTP_LINE_BARE_CR;
		if (i > max)
			return SMTP_LINE_TOO_LONG;
		*len = i;
		*used = i + 2;
		return SMTP_LINE_OK;
	}
	return n > max ? SMTP_LINE_TOO_LONG : SMTP_LINE_MORE;
}

/* ---- commands ---- */

static const struct {
	const char *name;
	smtp_verb_t verb;
} verbs[] = {
	{ "HELO", SMTP_HELO }, { "EHLO", SMTP_EHLO }, { "MAIL", SMTP_MAIL },
	{ "RCPT", SMTP_RCPT }, { "DATA", SMTP_DATA }, { "RSET", SMTP_RSET },
	{ "NOOP", SMTP_NOOP }, { "QUIT", SMTP_QUIT }, { "VRFY", SMTP_VRFY },
	{ "HELP", SMTP_HELP }, { "XFORWARD", SMTP_XFORWARD }, { "BDAT", SMTP_BDAT },
	{ "STARTTLS", SMTP_STARTTLS },
};

#define R_SYNTAX "500 5.5.2 Error: command not recognized"
#define R_BADCHAR "500 5.5.2 Error: bad character in command"
#define R_MAIL_SYNTAX "501 5.5.4 Syntax: MAIL FROM:<address>"
#define R_RCPT_SYNTAX "501 5.5.4 Syntax: RCPT TO:<address>"
#define R_PATH "501 5.1.7 Bad address syntax"
#define R_PARAM "555 5.5.4 Unsupported option"
#define R_ARG "501 5.5.4 Syntax: command takes no argument"
#define R_HELO "501 5.5.4 Syntax: EHLO hostname"

/* Command lines are printable ASCII, or UTF-8 (SMTPUTF8 paths). */
static bool line_chars_ok(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 && s[i] != '\t')
			return false;
		else if (s[i] == 0x7f)
			return false;
	return utf8_valid(s, n);
}

static smtp_verb_t find_verb(const char *s, size_t n)
{
	for (size_t i = 0; i < MUGAI_ARRAY_LEN(verbs); i++)
		if (strlen(verbs[i].name) == n && strncasecmp(verbs[i].name, s, n) == 0)
			return verbs[i].verb;
	return SMTP_UNKNOWN;
}

/* The part of a path between < and >, honouring quoted local parts. *end is
 * the index after '>'. Spaces are allowed only inside quotes. */
static int path_span(const char *s, size_t n, size_t *start, size_t *plen, size_t *end)
{
	bool q = false;

	if (n == 0 || s[0] != '<')
		return -1;
	for (size_t i = 1; i < n; i++) {
		if (q && s[i] == '\\' && i + 1 < n) {
			i++;
			continue;
		}
		if (s[i] == '"')
			q = !q;
		else if (!q && (s[i] == ' ' || s[i] == '\t' || s[i] == '<'))
			return -1;
		else if (!q && s[i] == '>') {
			*start = 1;
			*plen = i - 1;
			*end = i + 1;
			return 0;
		}
	}
	return -1;
}

static int path_copy(smtp_cmd_t *c, const char *p, size_t n)
{
	if (n > SMTP_PATH_MAX - 2)
		return -1;
	c->path_utf8 = false;
	for (size_t i = 0; i < n; i++)
		c->path_utf8 = c->path_utf8 || (unsigned char)p[i] >= 0x80;
	memcpy(c->path, p, n);
	c->path[n] = '\0';
	return 0;
}

static int parse_number(const char *v, size_t n, long long *out)
{
	long long x = 0;

	if (n == 0 || n > 18)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (v[i] < '0' || v[i] > '9')
			return -1;
		x = x * 10 + (v[i] - '0');
	}
	*out = x;
	return 0;
}

static bool key_is(const char *k, size_t kn, const char *want)
{
	return strlen(want) == kn && strncasecmp(k, want, kn) == 0;
}

/* One MAIL parameter "KEY[=VALUE]". */
static int mail_param(smtp_cmd_t *c, const char *p, size_t n)
{
	const char *eq = memchr(p, '=', n);
	size_t kn = eq ? (size_t)(eq - p) : n;
	const char *v = eq ? eq + 1 : NULL;
	size_t vn = eq ? n - kn - 1 : 0;

	if (key_is(p, kn, "SIZE") && v)
		return parse_number(v, vn, &c->size);
	if (key_is(p, kn, "BODY") && v && key_is(v, vn, "7BIT"))
		return c->body = SMTP_BODY_7BIT, 0;
	if (key_is(p, kn, "BODY") && v && key_is(v, vn, "8BITMIME"))
		return c->body = SMTP_BODY_8BITMIME, 0;
	if (key_is(p, kn, "SMTPUTF8") && !v)
		return c->smtputf8 = true, 0;
	return -1;
}

/* Space-separated ESMTP parameters after the path. */
static int params(smtp_cmd_t *c, const char *s, size_t n, bool mail)
{
	size_t i = 0;

	while (i < n) {
		size_t j;

		if (s[i] == ' ') {
			i++;
			continue;
		}
		for (j = i; j < n && s[j] != ' '; j++)
			;
		if (!mail || mail_param(c, s + i, j - i) < 0)
			return -1;
		i = j;
	}
	return 0;
}

/* "FROM:<path> params" or "TO:<path> params" (a space after ':' tolerated). */
static int parse_path_cmd(smtp_cmd_t *c, const char *a, size_t n, bool mail, const char **reply)
{
	const char *kw = mail ? "FROM:" : "TO:";
	size_t kl = strlen(kw), start, plen, end;

	*reply = mail ? R_MAIL_SYNTAX : R_RCPT_SYNTAX;
	if (n < kl || strncasecmp(a, kw, kl) != 0)
		return -1;
	a += kl;
	n -= kl;
	while (n && *a == ' ')
		a++, n--;
	if (path_span(a, n, &start, &plen, &end) < 0 || (end < n && a[end] != ' '))
		return -1;
	*reply = R_PATH;
	if (path_copy(c, a + start, plen) < 0 || (!mail && plen == 0))
		return -1;
	*reply = R_PARAM;
	return params(c, a + end, n - end, mail);
}

static int parse_helo(smtp_cmd_t *c, const char *a, size_t n, const char **reply)
{
	*reply = R_HELO;
	while (n && a[n - 1] == ' ')
		n--;
	if (n == 0 || n > SMTP_PATH_MAX)
		return -1;
	memcpy(c->helo, a, n);
	c->helo[n] = '\0';
	return 0;
}

/* XFORWARD attr=value ...: keep IDENT (the Postfix queue id) for the log. */
static int parse_xforward(smtp_cmd_t *c, const char *a, size_t n)
{
	const char *p = a, *e = a + n;

	while (p < e) {
		const char *sp = memchr(p, ' ', (size_t)(e - p));
		size_t wn = sp ? (size_t)(sp - p) : (size_t)(e - p);

		if (wn > 6 && strncasecmp(p, "IDENT=", 6) == 0) {
			size_t k = 0;

			for (size_t i = 6; i < wn && k < SMTP_IDENT_MAX; i++)
				if ((p[i] >= '0' && p[i] <= '9') || (p[i] >= 'A' && p[i] <= 'Z') ||
				    (p[i] >= 'a' && p[i] <= 'z') || p[i] == '.' || p[i] == '-')
					c->ident[k++] = p[i];
			c->ident[k] = '\0';
		}
		p += wn + 1;
	}
	return 0;
}

static int parse_args(smtp_cmd_t *c, const char *a, size_t n, const char **reply)
{
	switch (c->verb) {
	case SMTP_HELO:
	case SMTP_EHLO:
		return parse_helo(c, a, n, reply);
	case SMTP_MAIL:
		return parse_path_cmd(c, a, n, true, reply);
	case SMTP_RCPT:
		return parse_path_cmd(c, a, n, false, reply);
	case SMTP_XFORWARD:
		return parse_xforward(c, a, n);
	case SMTP_DATA:
	case SMTP_RSET:
	case SMTP_QUIT:
		*reply = R_ARG;
		return n ? -1 : 0;
	default:
		return 0;
	}
}

int smtp_cmd_parse(const char *line, size_t len, smtp_cmd_t *c, const char **reply)
{
	size_t vn = 0, a;

	memset(c, 0, sizeof(*c));
	c->size = -1;
	*reply = R_BADCHAR;
	if (!line_chars_ok(line, len))
		return -1;
	while (vn < len && line[vn] != ' ')
		vn++;
	c->verb = find_verb(line, vn);
	*reply = R_SYNTAX;
	if (c->verb == SMTP_UNKNOWN)
		return -1;
	a = vn < len ? vn + 1 : len;
	return parse_args(c, line + a, len - a, reply);
}

/* ---- DATA ---- */

enum { D_BOL, D_MID, D_CR, D_DOT, D_DOTCR };

void smtp_data_init(smtp_data_t *d)
{
	d->state = D_BOL;
}

/* One byte; returns -1 bare CR, -2 bare LF, 1 done, 0 continue. */
static int data_byte(smtp_data_t *d, char ch, char *out, size_t *o)
{
	switch (d->state) {
	case D_BOL:
		if (ch == '.')
			return d->state = D_DOT, 0;
		/* fallthrough */
	case D_MID:
		if (ch == '\n')
			return -2;
		if (ch == '\r')
			return d->state = D_CR, 0;
		out[(*o)++] = ch;
		return d->state = D_MID, 0;
	case D_CR:
		if (ch != '\n')
			return -1;
		out[(*o)++] = '\r';
		out[(*o)++] = '\n';
		return d->state = D_BOL, 0;
	case D_DOT: /* RFC 5321 4.5.2: drop the leading dot of a longer line */
		if (ch == '\r')
			return d->state = D_DOTCR, 0;
		d->state = D_MID;
		return data_byte(d, ch, out, o);
	default: /* D_DOTCR */
		return ch == '\n' ? 1 : -1;
	}
}

smtp_data_status_t smtp_data_feed(smtp_data_t *d, const char *in, size_t n, char *out,
				  size_t *outlen, size_t *used)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		int r = data_byte(d, in[i], out, &o);

		if (r == 0)
			continue;
		*outlen = o;
		*used = i + 1;
		return r == 1 ? SMTP_DATA_DONE : r == -1 ? SMTP_DATA_BARE_CR : SMTP_DATA_BARE_LF;
	}
	*outlen = o;
	*used = n;
	return SMTP_DATA_MORE;
}
