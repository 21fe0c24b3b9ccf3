/*
 * report.c — the mail sanitizer's report and its JSON form (see report.h).
 *
 * SECURITY: runs in the sanitizer worker; all strings are copied and bounded
 * in number (REPORT_ITEMS_MAX, REPORT_WARNINGS_MAX).
 */
#include "mail/report.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "common/json.h"

static const char *const removal_codes[RM__COUNT] = {
	[RM_ATTACHMENT] = "attachment",
	[RM_IMAGE] = "image",
	[RM_CALENDAR] = "calendar",
	[RM_SIGNATURE] = "signature",
	[RM_ENCRYPTED] = "encrypted",
	[RM_TNEF] = "tnef",
	[RM_EXECUTABLE] = "executable",
	[RM_ALTERNATIVE] = "alternative",
	[RM_UNSUPPORTED] = "unsupported",
	[RM_BLOCKED] = "blocked",
	[RM_ENCODED] = "encoded-file",
	[RM_NOT_TEXT] = "not-text",
	[RM_MALFORMED] = "malformed",
};

void report_init(mail_report_t *r, const char *id)
{
	memset(r, 0, sizeof(*r));
	snprintf(r->id, sizeof(r->id), "%s", id ? id : "");
	r->verdict = VERDICT_CLEAN;
}

static void item_free(removed_item_t *it)
{
	free(it->filename);
	free(it->content_type);
	free(it->detail);
}

static void attached_free(attached_item_t *it)
{
	free(it->filename);
	free(it->content_type);
	free(it->out_filename);
	free(it->out_type);
	free(it->actions);
}

int report_attach(mail_report_t *r, attached_item_t *it)
{
	attached_item_t *n;

	if (r->n_attached >= REPORT_ITEMS_MAX) {
		attached_free(it); /* attached, but only counted beyond the cap */
		r->removed_dropped++;
		return 0;
	}
	n = realloc(r->attached, (r->n_attached + 1) * sizeof(*n));
	if (!n) {
		attached_free(it);
		return -1;
	}
	r->attached = n;
	r->attached[r->n_attached++] = *it;
	memset(it, 0, sizeof(*it));
	return 0;
}

void report_free(mail_report_t *r)
{
	for (size_t i = 0; i < r->n_attached; i++)
		attached_free(&r->attached[i]);
	free(r->attached);
	for (size_t i = 0; i < r->n_removed; i++)
		item_free(&r->removed[i]);
	free(r->removed);
	for (size_t i = 0; i < r->n_warnings; i++)
		free(r->warnings[i]);
	for (size_t i = 0; i < r->n_limits; i++)
		free(r->limits_hit[i]);
	for (size_t i = 0; i < r->n_ppap_names; i++)
		free(r->ppap_names[i]);
	free(r->from);
	free(r->subject);
	free(r->to);
	free(r->cc);
	free(r->date);
	free(r->envelope_sender);
	free(r->virus);
	free(r->antivirus_error);
	memset(r, 0, sizeof(*r));
}

static char *dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

int report_ppap_wait(mail_report_t *r, const char *name, long long window)
{
	r->ppap_waiting++;
	r->ppap_window = window;
	if (r->n_ppap_names >= PPAP_NAMES_MAX)
		return 0;
	r->ppap_names[r->n_ppap_names] = strdup(name && *name ? name : "");
	if (!r->ppap_names[r->n_ppap_names])
		return -1;
	r->n_ppap_names++;
	return 0;
}

int report_remove(mail_report_t *r, const char *filename, const char *ctype,
		  size_t size, removal_t why, const char *detail)
{
	removed_item_t *it;

	if (r->n_removed >= REPORT_ITEMS_MAX) {
		r->removed_dropped++;
		return 0;
	}
	if (r->n_removed % 16 == 0) {
		removed_item_t *n = realloc(r->removed, (r->n_removed + 16) * sizeof(*n));

		if (!n)
			return -1;
		r->removed = n;
	}
	it = &r->removed[r->n_removed];
	it->filename = dup_or_null(filename && *filename ? filename : NULL);
	it->content_type = dup_or_null(ctype);
	it->detail = dup_or_null(detail);
	it->size = size;
	it->reason = why;
	if ((filename && *filename && !it->filename) || (ctype && !it->content_type)) {
		item_free(it);
		return -1;
	}
	r->n_removed++;
	return 0;
}

static bool has_string(char *const *list, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(list[i], s) == 0)
			return true;
	return false;
}

void report_warn(mail_report_t *r, const char *fmt, ...)
{
	char msg[REPORT_WARN_MAX];
	va_list ap;
	char *copy;

	va_start(ap, fmt);
	if (vsnprintf(msg, sizeof(msg), fmt, ap) >= (int)sizeof(msg)) {
		/* cut on a UTF-8 character boundary: drop a split last character */
		size_t k = strlen(msg), j = k;

		while (j > 0 && ((unsigned char)msg[j - 1] & 0xC0) == 0x80)
			j--;
		if (j > 0 && (unsigned char)msg[j - 1] >= 0xC0) {
			unsigned char l = (unsigned char)msg[j - 1];
			size_t need = l >= 0xF0 ? 4 : l >= 0xE0 ? 3 : 2;

			if (k - (j - 1) < need)
				msg[j - 1] = '\0';
		}
	}
	va_end(ap);
	if (r->n_warnings >= REPORT_WARNINGS_MAX || has_string(r->warnings, r->n_warnings, msg))
		return;
	copy = strdup(msg);
	if (copy)
		r->warnings[r->n_warnings++] = copy;
}

void report_name_address(mail_report_t *r, const char *hname)
{
	static const char *const names[] = { "From", "To", "Cc", "Reply-To" };
	const char *name = "?";
	size_t used = strlen(r->name_address);

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcasecmp(hname, names[i]) == 0)
			name = names[i];
	report_warn(r, "display name contains an e-mail address (%s)", name);
	if (strstr(r->name_address, name))
		return;
	snprintf(r->name_address + used, sizeof(r->name_address) - used, "%s%s",
		 used ? ", " : "", name);
}

void report_limit(mail_report_t *r, const char *limit_name)
{
	char *copy;

	if (r->n_limits >= MUGAI_ARRAY_LEN(r->limits_hit) ||
	    has_string(r->limits_hit, r->n_limits, limit_name))
		return;
	copy = strdup(limit_name);
	if (copy)
		r->limits_hit[r->n_limits++] = copy;
}

bool report_has_limit(const mail_report_t *r, const char *limit_name)
{
	return has_string(r->limits_hit, r->n_limits, limit_name);
}

const char *report_verdict_name(verdict_t v)
{
	static const char *const names[] = { "clean", "sanitized", "quarantined" };

	return names[v];
}

const char *report_removal_code(removal_t why)
{
	return removal_codes[why];
}

static void json_strings(json_t *j, const char *key, char *const *list, size_t n)
{
	json_key(j, key);
	json_arr_begin(j);
	for (size_t i = 0; i < n; i++)
		json_str(j, list[i]);
	json_arr_end(j);
}

static void json_removed(json_t *j, const mail_report_t *r)
{
	json_key(j, "removed");
	json_arr_begin(j);
	for (size_t i = 0; i < r->n_removed; i++) {
		const removed_item_t *it = &r->removed[i];

		json_obj_begin(j);
		json_key(j, "filename");
		json_str(j, it->filename);
		json_key(j, "content_type");
		json_str(j, it->content_type);
		json_key(j, "size");
		json_int(j, (long long)it->size);
		json_key(j, "reason");
		json_str(j, removal_codes[it->reason]);
		if (it->detail) {
			json_key(j, "detail");
			json_str(j, it->detail);
		}
		json_obj_end(j);
	}
	json_arr_end(j);
}

static void json_attached(json_t *j, const mail_report_t *r)
{
	json_key(j, "sanitized");
	json_arr_begin(j);
	for (size_t i = 0; i < r->n_attached; i++) {
		const attached_item_t *it = &r->attached[i];

		json_obj_begin(j);
		json_key(j, "filename");
		json_str(j, it->filename);
		json_key(j, "content_type");
		json_str(j, it->content_type);
		json_key(j, "size");
		json_int(j, (long long)it->size);
		json_key(j, "out_filename");
		json_str(j, it->out_filename);
		json_key(j, "out_type");
		json_str(j, it->out_type);
		json_key(j, "out_size");
		json_int(j, (long long)it->out_size);
		json_key(j, "actions");
		json_str(j, it->actions);
		json_obj_end(j);
	}
	json_arr_end(j);
}

static const char *skip_ws(const char *p)
{
	while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
		p++;
	return p;
}

/* The value of the key "virus" when it is a string, just past its opening
 * quote, whatever the whitespace (a report imported with `quarantine put
 * --report` need not be compact); NULL when there is none. In valid JSON
 * (the store checks every report) `"virus"` unescaped is a whole string: a
 * key when a ':' follows, a value ("antivirus": "virus") when not; a string
 * inside another cannot hold it (its quotes are \"). */
static const char *virus_value(const char *json)
{
	for (const char *p = json; p && (p = strstr(p, "\"virus\"")); p++) {
		const char *q = skip_ws(p + 7);

		if (*q == ':' && *(q = skip_ws(q + 1)) == '"')
			return q + 1;
	}
	return NULL;
}

bool report_json_has_virus(const char *json)
{
	return virus_value(json) != NULL;
}

bool report_json_virus(const char *json, char *out, size_t cap)
{
	const char *v = virus_value(json);
	size_t n;

	if (!v || cap == 0)
		return false;
	n = strcspn(v, "\"\\");
	if (v[n] != '"')
		snprintf(out, cap, "?");
	else
		snprintf(out, cap, "%.*s", (int)(n < cap ? n : cap - 1), v);
	return true;
}

static const char *const sender_codes[SENDER_W__COUNT] = {
	"lookalike-domain", "own-domain-in-name", "dmarc-fail", "dkim-fail", "spf-fail",
	"first-contact",
};

const char *report_sender_warning_code(unsigned i)
{
	return i < SENDER_W__COUNT ? sender_codes[i] : "";
}

/* One token per kind of action, in a fixed order (README "X-Mugai-Sanitized"). */
void report_action_tokens(const mail_report_t *r, char *out, size_t cap)
{
	const struct { bool on; const char *tok; } t[] = {
		{ r->verdict == VERDICT_QUARANTINED, "HOLD" },
		{ r->antivirus[0] && strcmp(r->antivirus, "virus") == 0, "AV" },
		{ r->n_removed || r->removed_dropped, "DEL_ATTACH" },
		{ r->n_attached > 0, "CDR" },
		{ r->ppap_waiting > 0 || r->ppap_of[0], "PPAP" },
		{ r->html_converted || report_has_limit(r, limit_table[LIM_TEXT_SIZE].name),
		  "CHG_TEXT" },
		{ r->links_defanged || r->links_removed, "REP_LINK" },
		{ r->sender_warn != 0, "WARN" },
	};
	size_t used = 0;

	if (cap)
		out[0] = '\0';
	for (size_t i = 0; i < MUGAI_ARRAY_LEN(t); i++) {
		int n;

		if (!t[i].on || used >= cap)
			continue;
		n = snprintf(out + used, cap - used, "%s%s", used ? " " : "", t[i].tok);
		used += n > 0 ? (size_t)n : 0;
	}
}

static void json_av(json_t *j, const mail_report_t *r)
{
	json_key(j, "antivirus");
	json_str(j, r->antivirus[0] ? r->antivirus : NULL);
	json_key(j, "virus");
	json_str(j, r->virus);
	json_key(j, "antivirus_error");
	json_str(j, r->antivirus_error);
}

static void json_sender_warnings(json_t *j, const mail_report_t *r)
{
	json_key(j, "sender_warnings");
	json_arr_begin(j);
	for (unsigned i = 0; i < SENDER_W__COUNT; i++)
		if (r->sender_warn & (1u << i))
			json_str(j, sender_codes[i]);
	json_arr_end(j);
}

static void json_actions(json_t *j, const mail_report_t *r)
{
	char toks[REPORT_TOKENS_MAX];
	const char *p = toks;

	report_action_tokens(r, toks, sizeof(toks));
	json_key(j, "actions");
	json_arr_begin(j);
	while (*p) {
		size_t n = strcspn(p, " ");
		char one[REPORT_TOKENS_MAX];

		snprintf(one, sizeof(one), "%.*s", (int)n, p);
		json_str(j, one);
		p += n;
		p += strspn(p, " ");
	}
	json_arr_end(j);
}

int report_json(const mail_report_t *r, buf_t *out)
{
	json_t j;

	json_init(&j, out);
	json_obj_begin(&j);
	json_key(&j, "verdict");
	json_str(&j, report_verdict_name(r->verdict));
	json_key(&j, "id");
	json_str(&j, r->id);
	json_key(&j, "from");
	json_str(&j, r->from);
	json_key(&j, "subject");
	json_str(&j, r->subject);
	json_key(&j, "envelope_sender");
	json_str(&j, r->envelope_sender);
	json_key(&j, "header_unreadable");
	json_bool(&j, r->header_unreadable);
	json_key(&j, "parts");
	json_int(&j, (long long)r->parts);
	json_key(&j, "parts_total");
	json_int(&j, (long long)r->parts_total);
	json_key(&j, "parts_rendered");
	json_int(&j, (long long)r->parts_rendered);
	json_key(&j, "parts_listed");
	json_int(&j, (long long)r->parts_listed);
	json_removed(&j, r);
	json_attached(&j, r);
	json_key(&j, "removed_not_listed");
	json_int(&j, (long long)r->removed_dropped);
	json_key(&j, "links_defanged");
	json_int(&j, (long long)r->links_defanged);
	json_key(&j, "links_removed");
	json_int(&j, (long long)r->links_removed);
	json_key(&j, "decoding_losses");
	json_int(&j, (long long)r->decoding_losses);
	json_strings(&j, "warnings", r->warnings, r->n_warnings);
	json_strings(&j, "limits_hit", r->limits_hit, r->n_limits);
	json_key(&j, "output_check");
	json_str(&j, r->output_check[0] ? r->output_check : NULL);
	json_av(&j, r);
	json_sender_warnings(&j, r);
	json_actions(&j, r);
	json_key(&j, "ppap_waiting");
	json_int(&j, (long long)r->ppap_waiting);
	json_key(&j, "ppap_of");
	json_str(&j, r->ppap_of[0] ? r->ppap_of : NULL);
	json_key(&j, "ppap_opened");
	json_int(&j, (long long)r->ppap_opened);
	json_obj_end(&j);
	if (json_finish(&j) < 0)
		return -1;
	return buf_putc(out, '\n');
}
