/*
 * milter.c — the milter protocol (version 6) as pure functions: see
 * milter.h. Packet: uint32 length (network order, command byte included),
 * command byte, data; strings are NUL-terminated inside the data.
 *
 * Specs: Sendmail libmilter (mfdef.h, engine.c), Postfix milter8.c and
 * MILTER_README.
 *
 * SECURITY: parses bytes from the MTA in the session process. A packet's
 * length is checked against max before anything is read; each string is
 * found with memchr inside its packet (a missing NUL is malformed, never
 * read past); addresses and ids are bounded and checked for control
 * characters before they reach the log, the store or the audit chain.
 */
#include "daemon/milter.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

static uint32_t get32(const char *p)
{
	const unsigned char *u = (const unsigned char *)p;

	return (uint32_t)u[0] << 24 | (uint32_t)u[1] << 16 | (uint32_t)u[2] << 8 | u[3];
}

static void set32(char *p, uint32_t v)
{
	p[0] = (char)(v >> 24);
	p[1] = (char)(v >> 16);
	p[2] = (char)(v >> 8);
	p[3] = (char)v;
}

milter_frame_t milter_frame_find(const char *buf, size_t n, size_t max, char *cmd,
				 const char **data, size_t *dlen, size_t *used)
{
	uint32_t len;

	if (n < 4)
		return MILTER_FRAME_MORE;
	len = get32(buf);
	if (len == 0 || len > max)
		return MILTER_FRAME_BAD;
	if (n - 4 < len)
		return MILTER_FRAME_MORE;
	*cmd = buf[4];
	*data = buf + 5;
	*dlen = len - 1;
	*used = 4 + (size_t)len;
	return MILTER_FRAME_OK;
}

int milter_put(buf_t *out, char cmd, const void *data, size_t len)
{
	char hdr[5];

	if (len >= UINT32_MAX)
		return -1;
	set32(hdr, (uint32_t)len + 1);
	hdr[4] = cmd;
	if (buf_append(out, hdr, sizeof(hdr)) < 0 || (len && buf_append(out, data, len) < 0))
		return -1;
	return 0;
}

/* ---- negotiation ---- */

int milter_negotiate(const char *data, size_t len, milter_neg_t *ours)
{
	uint32_t version, actions, proto;

	if (len < 12)
		return -1;
	version = get32(data);
	actions = get32(data + 4);
	proto = get32(data + 8);
	if (version < 2 || (actions & MILTER_ACTIONS) != MILTER_ACTIONS)
		return -1;
	ours->version = version < MILTER_VERSION ? version : MILTER_VERSION;
	ours->actions = MILTER_ACTIONS;
	ours->proto = proto & MILTER_PROTO_WANT;
	return 0;
}

int milter_put_neg(buf_t *out, const milter_neg_t *ours)
{
	char d[12];

	set32(d, ours->version);
	set32(d + 4, ours->actions);
	set32(d + 8, ours->proto);
	return milter_put(out, MILTER_C_OPTNEG, d, sizeof(d));
}

bool milter_wants_reply(uint32_t proto, char cmd)
{
	switch (cmd) {
	case MILTER_C_CONNECT: return !(proto & MILTER_P_NR_CONN);
	case MILTER_C_HELO: return !(proto & MILTER_P_NR_HELO);
	case MILTER_C_MAIL: return !(proto & MILTER_P_NR_MAIL);
	case MILTER_C_RCPT: return !(proto & MILTER_P_NR_RCPT);
	case MILTER_C_DATA: return !(proto & MILTER_P_NR_DATA);
	case MILTER_C_UNKNOWN: return !(proto & MILTER_P_NR_UNKN);
	case MILTER_C_HEADER: return !(proto & MILTER_P_NR_HDR);
	case MILTER_C_EOH: return !(proto & MILTER_P_NR_EOH);
	case MILTER_C_BODY: return !(proto & MILTER_P_NR_BODY);
	case MILTER_C_EOB: return true;
	default: return false; /* ABORT, MACRO, QUIT, QUIT_NC; OPTNEG has its own */
	}
}

/* ---- strings inside a packet ---- */

/* The NUL-terminated string at data[*off..len): its start, *off past it;
 * NULL when no NUL follows inside the packet. */
static const char *take_str(const char *data, size_t len, size_t *off, size_t *slen)
{
	const char *s = data + *off, *nul;

	if (*off >= len)
		return NULL;
	nul = memchr(s, '\0', len - *off);
	if (!nul)
		return NULL;
	*slen = (size_t)(nul - s);
	*off += *slen + 1;
	return s;
}

static bool has_ctl(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return true;
	return false;
}

/* An address without <>, bounded and without control characters. */
static int copy_addr(const char *s, size_t n, char *out, size_t outsz)
{
	while (n && (*s == ' ' || *s == '\t'))
		s++, n--;
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	if (n >= 2 && s[0] == '<' && s[n - 1] == '>')
		s++, n -= 2;
	if (n >= outsz || n > SMTP_PATH_MAX || has_ctl(s, n) || memchr(s, '<', n) ||
	    memchr(s, '>', n))
		return -1;
	memcpy(out, s, n);
	out[n] = '\0';
	return 0;
}

static bool macro_is(const char *name, size_t n, const char *want)
{
	size_t w = strlen(want);

	if (n == w && memcmp(name, want, n) == 0)
		return true;
	return n == w + 2 && name[0] == '{' && name[n - 1] == '}' && memcmp(name + 1, want, w) == 0;
}

static void set_queue_id(milter_macros_t *m, const char *v, size_t n)
{
	size_t k = 0;

	for (size_t i = 0; i < n && k < sizeof(m->queue_id) - 1; i++)
		if ((unsigned char)v[i] > 0x20 && (unsigned char)v[i] < 0x7f)
			m->queue_id[k++] = v[i];
	m->queue_id[k] = '\0';
}

int milter_macros(const char *data, size_t len, milter_macros_t *m)
{
	size_t off = 1, nl, vl;
	const char *name, *val;

	if (len < 1)
		return -1;
	if (data[0] == MILTER_C_MAIL)
		m->have_mail = false;
	if (data[0] == MILTER_C_RCPT)
		m->have_rcpt = false;
	while (off < len) {
		if (!(name = take_str(data, len, &off, &nl)) || !(val = take_str(data, len, &off, &vl)))
			return -1;
		if (macro_is(name, nl, "i")) {
			set_queue_id(m, val, vl);
		} else if (macro_is(name, nl, "mail_addr") && data[0] == MILTER_C_MAIL) {
			if (copy_addr(val, vl, m->mail_addr, sizeof(m->mail_addr)) < 0)
				return -1;
			m->have_mail = true;
		} else if (macro_is(name, nl, "rcpt_addr") && data[0] == MILTER_C_RCPT) {
			if (copy_addr(val, vl, m->rcpt_addr, sizeof(m->rcpt_addr)) < 0)
				return -1;
			m->have_rcpt = true;
		}
	}
	return 0;
}

int milter_addr(const char *data, size_t len, char *out, size_t outsz)
{
	size_t off = 0, n;
	const char *s = take_str(data, len, &off, &n);

	return s ? copy_addr(s, n, out, outsz) : -1;
}

/* "hostname\0" family port(2) "address\0": the address when there is one
 * (family '4' or '6'), else the host name; printable, cut to outsz. */
int milter_connect_host(const char *data, size_t len, char *out, size_t outsz)
{
	size_t off = 0, n, k = 0;
	const char *s = take_str(data, len, &off, &n), *a;
	size_t an;

	if (!s || outsz == 0)
		return -1;
	if (off + 3 < len && (data[off] == '4' || data[off] == '6')) {
		off += 3;
		a = take_str(data, len, &off, &an);
		if (a && an) {
			s = a;
			n = an;
		}
	}
	for (size_t i = 0; i < n && k < outsz - 1; i++)
		out[k++] = (unsigned char)s[i] > 0x20 && (unsigned char)s[i] < 0x7f ? s[i] : '?';
	out[k] = '\0';
	return 0;
}

/* ---- the message ---- */

static bool name_ok(const char *s, size_t n)
{
	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f || s[i] == ':')
			return false;
	return true;
}

int milter_header(const char *data, size_t len, bool leadspc, buf_t *msg, buf_t *names)
{
	size_t off = 0, nl, vl;
	const char *name = take_str(data, len, &off, &nl), *val;

	if (!name || !(val = take_str(data, len, &off, &vl)) || !name_ok(name, nl))
		return -1;
	if (buf_append(msg, name, nl) < 0 || buf_putc(msg, ':') < 0 ||
	    (!leadspc && buf_putc(msg, ' ') < 0))
		return -1;
	for (size_t i = 0; i < vl; i++) {
		if (val[i] == '\n' && (i == 0 || val[i - 1] != '\r') && buf_putc(msg, '\r') < 0)
			return -1;
		if (buf_putc(msg, val[i]) < 0)
			return -1;
	}
	if (buf_puts(msg, "\r\n") < 0 || buf_append(names, name, nl + 1) < 0)
		return -1;
	return 0;
}

/* ---- replies and modifications ---- */

int milter_put_reply(buf_t *out, const char *code, const char *text)
{
	buf_t t;
	int rc;

	buf_init(&t, SMTP_REPLY_LINE_MAX);
	rc = buf_printf(&t, "%s ", code);
	for (const char *p = text; rc == 0 && *p; p++)
		rc = buf_putc(&t, (unsigned char)*p < 0x20 || *p == 0x7f || *p == '%' ? ' ' : *p);
	if (rc == 0)
		rc = buf_putc(&t, '\0');
	if (rc == 0)
		rc = milter_put(out, MILTER_R_REPLYCODE, t.data, t.len);
	buf_free(&t);
	return rc;
}

typedef struct hname {
	const char *name;
	size_t pos;
	uint32_t idx;  /* 1-based occurrence among the headers of this name */
} hname_t;

static int by_name(const void *a, const void *b)
{
	const hname_t *x = a, *y = b;
	int c = strcasecmp(x->name, y->name);

	return c ? c : x->pos < y->pos ? -1 : x->pos > y->pos;
}

static int by_pos(const void *a, const void *b)
{
	const hname_t *x = a, *y = b;

	return x->pos < y->pos ? -1 : x->pos > y->pos;
}

static int put_chg(buf_t *out, const char *name, uint32_t idx, const char *val, size_t vlen)
{
	size_t nl = strlen(name);
	char i4[4];

	set32(i4, idx);
	if (milter_put(out, MILTER_R_CHGHEADER, NULL, 0) < 0)
		return -1;
	/* the packet's length: index, name and value with their NULs */
	set32(out->data + out->len - 5, (uint32_t)(1 + 4 + nl + 1 + vlen + 1));
	if (buf_append(out, i4, 4) < 0 || buf_append(out, name, nl + 1) < 0 ||
	    (vlen && buf_append(out, val, vlen) < 0) || buf_putc(out, '\0') < 0)
		return -1;
	return 0;
}

/* Delete every original header: the last of each name first, so that the
 * index of the next one is right whether or not the MTA renumbers. */
static int put_deletions(buf_t *out, const char *names, size_t names_len)
{
	size_t n = 0, k = 0;
	hname_t *h;
	int rc = 0;

	for (size_t i = 0; i < names_len; i++)
		n += names[i] == '\0';
	if (n == 0)
		return 0;
	h = calloc(n, sizeof(*h));
	if (!h)
		return -1;
	for (size_t off = 0; off < names_len && k < n; k++) {
		h[k].name = names + off;
		h[k].pos = k;
		off += strlen(names + off) + 1;
	}
	qsort(h, n, sizeof(*h), by_name);
	for (size_t i = 0; i < n; i++)
		h[i].idx = i && strcasecmp(h[i].name, h[i - 1].name) == 0 ? h[i - 1].idx + 1 : 1;
	qsort(h, n, sizeof(*h), by_pos);
	for (size_t i = n; i-- > 0 && rc == 0;)
		rc = put_chg(out, h[i].name, h[i].idx, "", 0);
	free(h);
	return rc;
}

/* One header of the rebuilt message, h[0..n) without its final line
 * break: SMFIR_ADDHEADER name, value (continuation lines joined by "\n",
 * the MTA's own line ends). */
static int put_header(buf_t *out, const char *h, size_t n, bool leadspc)
{
	const char *colon = memchr(h, ':', n), *v;
	size_t start, vn;

	if (!colon || !name_ok(h, (size_t)(colon - h)))
		return -1;
	v = colon + 1;
	vn = n - (size_t)(v - h);
	if (!leadspc && vn && (*v == ' ' || *v == '\t'))
		v++, vn--;
	start = out->len;
	if (milter_put(out, MILTER_R_ADDHEADER, NULL, 0) < 0 ||
	    buf_append(out, h, (size_t)(colon - h)) < 0 || buf_putc(out, '\0') < 0)
		return -1;
	for (size_t i = 0; i < vn; i++) {
		if (v[i] == '\r' && i + 1 < vn && v[i + 1] == '\n')
			continue;
		if (v[i] == '\0' || buf_putc(out, v[i]) < 0)
			return -1;
	}
	if (buf_putc(out, '\0') < 0 || out->len - start - 4 > UINT32_MAX)
		return -1;
	set32(out->data + start, (uint32_t)(out->len - start - 4));
	return 0;
}

/* The end of the header that starts at msg[off]: the index of its final
 * line break (continuation lines start with SP or HT). */
static size_t header_end(const char *msg, size_t len, size_t off, size_t *next)
{
	for (size_t i = off; i < len; i++) {
		if (msg[i] != '\n')
			continue;
		if (i + 1 < len && (msg[i + 1] == ' ' || msg[i + 1] == '\t'))
			continue;
		*next = i + 1;
		return i > off && msg[i - 1] == '\r' ? i - 1 : i;
	}
	*next = len;
	return len;
}

static int put_body(buf_t *out, const char *b, size_t n)
{
	if (n == 0)
		return milter_put(out, MILTER_R_REPLBODY, "", 0);
	for (size_t off = 0; off < n; off += MILTER_CHUNK) {
		size_t k = n - off < MILTER_CHUNK ? n - off : MILTER_CHUNK;

		if (milter_put(out, MILTER_R_REPLBODY, b + off, k) < 0)
			return -1;
	}
	return 0;
}

int milter_put_edits(buf_t *out, const char *names, size_t names_len, const char *msg,
		     size_t len, bool leadspc)
{
	size_t off = 0, next, end;

	if (put_deletions(out, names, names_len) < 0)
		return -1;
	while (off < len) {
		if (msg[off] == '\n' || (msg[off] == '\r' && off + 1 < len && msg[off + 1] == '\n')) {
			off += msg[off] == '\r' ? 2 : 1;
			return put_body(out, msg + off, len - off);
		}
		end = header_end(msg, len, off, &next);
		if (put_header(out, msg + off, end - off, leadspc) < 0)
			return -1;
		off = next;
	}
	return -1; /* no empty line: not a message we built */
}
