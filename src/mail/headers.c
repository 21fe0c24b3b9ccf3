/*
 * headers.c — rebuild the kept headers (config header_keep) from decoded
 * values: addresses through hdr_normalize_structured + GMime's RFC 5322
 * address parser, Subject and other text through hdr_decode_text, Date
 * through GMime's date parser, message ids validated as plain ASCII.
 * Every text value (Subject, display names, other kept text headers) and
 * the forwarded-message header block go through the one writer
 * (text/writer.h): one line, no control or bidi character, links and
 * notice look-alikes disarmed. A display name that holds an e-mail address
 * is flagged (warning, and a line in the notice).
 * RFC 5322 §3.3–3.6, RFC 2047, RFC 6532.
 *
 * SECURITY: sanitizer worker; every value is bounded by header_value_max and
 * regenerated, never copied through.
 */
#include "mail/mail_int.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "common/utf8.h"
#include "text/hdr.h"

void hdrset_free(hdrset_t *h)
{
	if (h->from) g_object_unref(h->from);
	if (h->to) g_object_unref(h->to);
	if (h->cc) g_object_unref(h->cc);
	if (h->reply_to) g_object_unref(h->reply_to);
	if (h->date) g_date_time_unref(h->date);
	free(h->subject);
	free(h->message_id);
	free(h->in_reply_to);
	free(h->references);
	for (size_t i = 0; i < h->n_extra; i++) {
		free(h->extra_names[i]);
		free(h->extra_values[i]);
	}
	free(h->extra_names);
	free(h->extra_values);
	memset(h, 0, sizeof(*h));
}

/* The raw (undecoded, folded) value of the first header `name`, or NULL. */
char *hdr_raw(GMimeObject *obj, const char *name)
{
	GMimeHeaderList *hl = g_mime_object_get_header_list(obj);
	GMimeHeader *h = hl ? g_mime_header_list_get_header(hl, name) : NULL;
	const char *v = h ? g_mime_header_get_raw_value(h) : NULL;

	return v ? (char *)v : NULL;
}

static char *decode_text(mail_ctx_t *c, const char *raw)
{
	char *v;
	buf_t b;

	buf_init(&b, (size_t)lim(c->lim, LIM_HEADER_VALUE));
	if (hdr_decode_text(raw, strlen(raw), &b, &c->cs) < 0) {
		if (b.capped)
			report_warn(c->rep, "header value truncated at header_value_max");
	}
	v = wr_header(b.data ? b.data : "", b.len, 0);
	buf_free(&b);
	return v;
}

/* An addr-spec that can stand in a 7-bit header: printable ASCII, no
 * specials that would change the structure, one '@'. */
static bool addr_ok(const char *a)
{
	size_t at = 0, n = a ? strlen(a) : 0;

	if (n == 0 || n > ADDR_SPEC_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)a[i];

		if (ch <= 0x20 || ch >= 0x7f || strchr("<>(),;:\\\"[]", ch))
			return false;
		at += ch == '@';
	}
	return at == 1 && a[0] != '@' && a[n - 1] != '@';
}

/* GMime's phrase encoder leaves '=' unescaped in a Q encoded-word, so a
 * display name holding "=10" would decode as a control character in the
 * reader (fuzz_mail finding): '=' in a display name is written as the
 * full-width "＝" (U+FF1D), which reads the same. */
static char *no_equals(char *name)
{
	size_t n = 0;
	char *o, *w;

	if (!name || !strchr(name, '='))
		return name;
	for (const char *p = name; *p; p++)
		n += *p == '=' ? 3 : 1;
	if (!(o = malloc(n + 1))) {
		free(name);
		return NULL;
	}
	w = o;
	for (const char *p = name; *p; p++) {
		if (*p == '=') {
			memcpy(w, "\xEF\xBC\x9D", 3);
			w += 3;
		} else {
			*w++ = *p;
		}
	}
	*w = '\0';
	free(name);
	return o;
}

/* A display name through the writer; one that carries an address
 * ("総務課 <soumu@city.example.lg.jp>" <evil@attacker.example>) is
 * reported for the notice, its address disarmed by the writer. */
static char *clean_name(mail_ctx_t *c, const char *hname, const char *name)
{
	char *eq, *w;
	buf_t b;

	if (!name || !*name)
		return NULL;
	buf_init(&b, NAME_CHECK_MAX);
	if (wr_clean(&b, name, strlen(name), WR_ONELINE) == 0 &&
	    wr_has_address(b.data ? b.data : "", b.len))
		report_name_address(c->rep, hname);
	buf_free(&b);
	/* '=' becomes '＝' before the writer reads the name: a label character
	 * for the link rules ("//evil=40x.com" is the host "evil＝40x.com") */
	if (!(eq = no_equals(strdup(name))))
		return NULL;
	w = wr_header(eq, strlen(eq), DISPLAY_NAME_MAX);
	free(eq);
	return w;
}

/* Rebuild each mailbox from checked parts: a cleaned display name and an
 * ASCII addr-spec (IDN domains in their ACE form). A mailbox whose local
 * part is not ASCII cannot be written into a 7-bit header and is dropped. */
static int rebuild_into(mail_ctx_t *c, const char *hname, InternetAddressList *in,
			InternetAddressList *out, int depth)
{
	int n = internet_address_list_length(in);

	for (int i = 0; i < n; i++) {
		InternetAddress *ia = internet_address_list_get_address(in, i);
		char *name = clean_name(c, hname, internet_address_get_name(ia));
		InternetAddress *copy = NULL;

		if (INTERNET_ADDRESS_IS_MAILBOX(ia)) {
			const char *a = internet_address_mailbox_get_idn_addr(INTERNET_ADDRESS_MAILBOX(ia));

			if (addr_ok(a))
				copy = internet_address_mailbox_new(name, a);
			else
				report_warn(c->rep, "address that cannot be written in ASCII dropped");
		} else if (INTERNET_ADDRESS_IS_GROUP(ia) && depth == 0) {
			copy = internet_address_group_new(name);
			if (rebuild_into(c, hname,
					 internet_address_group_get_members(INTERNET_ADDRESS_GROUP(ia)),
					 internet_address_group_get_members(INTERNET_ADDRESS_GROUP(copy)),
					 depth + 1) < 0) {
				g_object_unref(copy);
				copy = NULL;
			}
		}
		free(name);
		if (copy) {
			/* UTF-8 encoded-words only: GMime would otherwise pick the
			 * smallest charset that fits (iso-8859-13, koi8-r…), which
			 * the output check does not read */
			internet_address_set_charset(copy, "utf-8");
			internet_address_list_add(out, copy);
			g_object_unref(copy);
		}
	}
	return 0;
}

static InternetAddressList *parse_addresses(mail_ctx_t *c, const char *hname, const char *raw)
{
	InternetAddressList *l = NULL;
	buf_t b;

	buf_init(&b, (size_t)lim(c->lim, LIM_HEADER_VALUE));
	if (hdr_normalize_structured(raw, strlen(raw), &b, &c->cs) == 0)
		l = internet_address_list_parse(NULL, b.data ? b.data : "");
	else
		report_warn(c->rep, "address header over header_value_max dropped");
	buf_free(&b);
	if (l) {
		InternetAddressList *clean = internet_address_list_new();

		if (rebuild_into(c, hname, l, clean, 0) < 0) {
			g_object_unref(clean);
			clean = NULL;
		}
		g_object_unref(l);
		l = clean;
	}
	if (l && internet_address_list_length(l) == 0) {
		g_object_unref(l);
		l = NULL;
	}
	return l;
}

/* A message id is kept only when it is printable ASCII without specials
 * that could break the header: RFC 5322 msg-id, leniently. */
static bool msgid_ok(const char *id)
{
	size_t n = strlen(id);

	if (n == 0 || n > MSGID_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)id[i];

		if (ch <= 0x20 || ch >= 0x7f || ch == '<' || ch == '>' || ch == '"' ||
		    ch == '\\' || ch == ',' || ch == ';')
			return false;
	}
	return true;
}

static char *parse_msgid(const char *raw)
{
	char *id = g_mime_utils_decode_message_id(raw);
	char *r = NULL;

	if (id && msgid_ok(id))
		r = strdup(id);
	g_free(id);
	return r;
}

static char *parse_refs(mail_ctx_t *c, const char *raw)
{
	GMimeReferences *refs = g_mime_references_parse(NULL, raw);
	buf_t b;
	int n = refs ? g_mime_references_length(refs) : 0;

	buf_init(&b, REFERENCES_MAX);
	for (int i = 0; i < n; i++) {
		const char *id = g_mime_references_get_message_id(refs, i);

		if (!msgid_ok(id)) {
			report_warn(c->rep, "malformed message id dropped");
			continue;
		}
		if (buf_printf(&b, "%s<%s>", b.len ? " " : "", id) < 0)
			break;
	}
	if (refs)
		g_mime_references_free(refs);
	if (b.len == 0) {
		buf_free(&b);
		return NULL;
	}
	return buf_steal(&b, NULL);
}

static int add_extra(hdrset_t *h, const char *name, char *value)
{
	size_t n = h->n_extra + 1;
	char **names = realloc(h->extra_names, n * sizeof(char *));
	char **values;

	if (!names)
		return -1;
	h->extra_names = names;
	values = realloc(h->extra_values, n * sizeof(char *));
	if (!values)
		return -1;
	h->extra_values = values;
	names[h->n_extra] = strdup(name);
	values[h->n_extra] = value;
	if (!names[h->n_extra])
		return -1;
	h->n_extra = n;
	return 0;
}

static InternetAddressList **addr_slot(hdrset_t *h, const char *name)
{
	if (!strcasecmp(name, "From")) return &h->from;
	if (!strcasecmp(name, "To")) return &h->to;
	if (!strcasecmp(name, "Cc")) return &h->cc;
	if (!strcasecmp(name, "Reply-To")) return &h->reply_to;
	return NULL;
}

/* Known headers that are never kept whatever the keep-list says: they
 * would describe a structure the rebuilt message does not have. */
static bool never_kept(const char *name)
{
	return !strcasecmp(name, "Content-Type") ||
	       !strcasecmp(name, "Content-Transfer-Encoding") ||
	       !strcasecmp(name, "MIME-Version") ||
	       !strcasecmp(name, "Content-Disposition") ||
	       !strcasecmp(name, "X-Mugai-Sanitized") ||
	       !strcasecmp(name, "X-Mugai-Warning");
}

static int collect_one(mail_ctx_t *c, hdrset_t *h, const char *name, const char *raw)
{
	InternetAddressList **slot = addr_slot(h, name);

	if (slot) {
		if (!*slot)
			*slot = parse_addresses(c, name, raw);
	} else if (!strcasecmp(name, "Subject")) {
		if (!h->subject)
			h->subject = decode_text(c, raw);
	} else if (!strcasecmp(name, "Date")) {
		if (!h->date && !(h->date = g_mime_utils_header_decode_date(raw)))
			report_warn(c->rep, "unparseable Date header dropped");
	} else if (!strcasecmp(name, "Message-ID")) {
		if (!h->message_id && !(h->message_id = parse_msgid(raw)))
			report_warn(c->rep, "malformed Message-ID dropped");
	} else if (!strcasecmp(name, "In-Reply-To")) {
		if (!h->in_reply_to)
			h->in_reply_to = parse_refs(c, raw);
	} else if (!strcasecmp(name, "References")) {
		if (!h->references)
			h->references = parse_refs(c, raw);
	} else if (!never_kept(name)) {
		char *v = decode_text(c, raw);

		if (!v || add_extra(h, name, v) < 0) {
			free(v);
			return -1;
		}
	}
	return 0;
}

int hdrset_collect_field(mail_ctx_t *c, hdrset_t *h, const char *name, const char *raw)
{
	return collect_one(c, h, name, raw);
}

int hdrset_collect(mail_ctx_t *c, GMimeObject *msg, hdrset_t *h)
{
	GMimeHeaderList *hl = g_mime_object_get_header_list(msg);
	int n = hl ? g_mime_header_list_get_count(hl) : 0;

	memset(h, 0, sizeof(*h));
	for (int i = 0; i < n; i++) {
		GMimeHeader *hd = g_mime_header_list_get_header_at(hl, i);
		const char *name = g_mime_header_get_name(hd);
		const char *raw = g_mime_header_get_raw_value(hd);

		if (!name || !raw || !cfg_list_has(c->cfg, CFG_HEADER_KEEP, name))
			continue;
		if (collect_one(c, h, name, raw) < 0)
			return -1;
	}
	return 0;
}

static void append_list(GMimeMessage *m, GMimeAddressType t, InternetAddressList *l)
{
	if (l)
		internet_address_list_append(g_mime_message_get_addresses(m, t), l);
}

void hdrset_apply(const hdrset_t *h, GMimeMessage *m)
{
	GMimeObject *o = GMIME_OBJECT(m);

	append_list(m, GMIME_ADDRESS_TYPE_FROM, h->from);
	append_list(m, GMIME_ADDRESS_TYPE_TO, h->to);
	append_list(m, GMIME_ADDRESS_TYPE_CC, h->cc);
	append_list(m, GMIME_ADDRESS_TYPE_REPLY_TO, h->reply_to);
	if (h->date)
		g_mime_message_set_date(m, h->date);
	if (h->subject)
		g_mime_message_set_subject(m, h->subject, "utf-8");
	if (h->message_id)
		g_mime_message_set_message_id(m, h->message_id);
	if (h->in_reply_to)
		g_mime_object_set_header(o, "In-Reply-To", h->in_reply_to, NULL);
	if (h->references)
		g_mime_object_set_header(o, "References", h->references, NULL);
	for (size_t i = 0; i < h->n_extra; i++)
		g_mime_object_set_header(o, h->extra_names[i], h->extra_values[i], "utf-8");
}

static int display_list(buf_t *out, const char *label, InternetAddressList *l)
{
	char *s;
	int rc;

	if (!l)
		return 0;
	s = internet_address_list_to_string(l, NULL, FALSE);
	rc = buf_printf(out, "%s: ", label);
	if (rc == 0)
		rc = wr_line(out, s ? s : "", s ? strlen(s) : 0, 0);
	if (rc == 0)
		rc = buf_putc(out, '\n');
	g_free(s);
	return rc;
}

/* Locale-free: GLib's g_date_time_format reads locale files, which the
 * sandbox forbids. */
static int display_date(buf_t *out, const char *label, GDateTime *d)
{
	long off = (long)(g_date_time_get_utc_offset(d) / G_TIME_SPAN_MINUTE);
	long aoff = off < 0 ? -off : off;

	return buf_printf(out, "%s: %04d-%02d-%02d %02d:%02d:%02d %c%02ld%02ld\n", label,
			  g_date_time_get_year(d), g_date_time_get_month(d),
			  g_date_time_get_day_of_month(d), g_date_time_get_hour(d),
			  g_date_time_get_minute(d), g_date_time_get_second(d),
			  off < 0 ? '-' : '+', aoff / 60, aoff % 60);
}

int hdrset_display(const hdrset_t *h, bool ja, buf_t *out)
{
	int rc = display_list(out, ja ? "差出人" : "From", h->from);

	if (rc == 0 && h->date)
		rc = display_date(out, ja ? "日時" : "Date", h->date);
	if (rc == 0 && h->subject) {
		rc = buf_printf(out, "%s: ", ja ? "件名" : "Subject");
		if (rc == 0)
			rc = wr_line(out, h->subject, strlen(h->subject), 0);
		if (rc == 0)
			rc = buf_putc(out, '\n');
	}
	if (rc == 0)
		rc = display_list(out, ja ? "宛先" : "To", h->to);
	if (rc == 0)
		rc = display_list(out, "Cc", h->cc);
	return rc;
}
