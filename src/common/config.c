/*
 * config.c — typed config table, file loader and dumper (see config.h).
 *
 * SECURITY: setup-time only, in the master or the CLI; the config file is
 * trusted by the administrator but still validated strictly (straight-line
 * checks, accept only at the end).
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

const cfg_key_t cfg_table[CFG__COUNT] = {
#define MUGAI_CFG_ROW(id, name, type, def, min, max, choices, help) \
	[CFG_##id] = { name, type, def, min, max, choices, help },
	MUGAI_CONFIG_KEYS(MUGAI_CFG_ROW)
#undef MUGAI_CFG_ROW
};

int cfg_parse_number(const char *s, long long *v)
{
	char *end;
	long long n, mul = 1;

	errno = 0;
	n = strtoll(s, &end, 10);
	if (end == s || errno || n < 0)
		return -1;
	switch (*end) {
	case 'k': case 'K': mul = KiB; end++; break;
	case 'm': case 'M': mul = MiB; end++; break;
	case 'g': case 'G': mul = GiB; end++; break;
	default: break;
	}
	if (*end != '\0' || __builtin_mul_overflow(n, mul, &n))
		return -1;
	*v = n;
	return 0;
}

static int choice_index(const char *choices, const char *val)
{
	size_t vlen = strlen(val);
	int idx = 0;

	for (const char *p = choices; *p; idx++) {
		const char *bar = strchr(p, '|');
		size_t n = bar ? (size_t)(bar - p) : strlen(p);

		if (n == vlen && strncasecmp(p, val, n) == 0)
			return idx;
		if (!bar)
			break;
		p = bar + 1;
	}
	return -1;
}

int cfg_copy_enum(const cfg_t *c, cfg_id_t id, const char *choice, cfg_t *out)
{
	int i = cfg_table[id].type == CFG_ENUM ? choice_index(cfg_table[id].choices, choice) : -1;

	if (i < 0)
		return -1;
	*out = *c;
	out->s[id] = (char *)choice;
	out->i[id] = i;
	return 0;
}

static int find_key(const char *name)
{
	for (int i = 0; i < CFG__COUNT; i++)
		if (strcmp(cfg_table[i].name, name) == 0)
			return i;
	return -1;
}

static int set_limit(cfg_t *c, int li, const char *val, char *err, size_t errlen)
{
	const limit_info_t *l = &limit_table[li];
	long long v;

	if (cfg_parse_number(val, &v) < 0) {
		snprintf(err, errlen, "%s: not a number: '%s'", l->name, val);
		return -1;
	}
	if (v < l->min || v > l->max) {
		snprintf(err, errlen, "%s: %lld out of range [%lld, %lld]", l->name, v,
			 l->min, l->max);
		return -1;
	}
	c->lim.v[li] = v;
	return 0;
}

static int parse_typed(const cfg_key_t *k, const char *val, long long *out,
		       char *err, size_t errlen)
{
	switch (k->type) {
	case CFG_INT:
		if (cfg_parse_number(val, out) < 0 || *out < k->min || *out > k->max) {
			snprintf(err, errlen, "%s: '%s' is not a number in [%lld, %lld]",
				 k->name, val, k->min, k->max);
			return -1;
		}
		return 0;
	case CFG_BOOL:
		if (!strcasecmp(val, "yes") || !strcasecmp(val, "true") || !strcmp(val, "1"))
			*out = 1;
		else if (!strcasecmp(val, "no") || !strcasecmp(val, "false") || !strcmp(val, "0"))
			*out = 0;
		else {
			snprintf(err, errlen, "%s: '%s' is not yes or no", k->name, val);
			return -1;
		}
		return 0;
	case CFG_ENUM:
		*out = choice_index(k->choices, val);
		if (*out < 0) {
			snprintf(err, errlen, "%s: '%s' is not one of %s", k->name, val,
				 k->choices);
			return -1;
		}
		return 0;
	case CFG_STR:
	case CFG_LIST:
		*out = 0;
		return 0;
	}
	return -1;
}

static bool url_host_char(unsigned char c)
{
	return isalnum(c) || c == '.' || c == '-';
}

static bool url_path_char(unsigned char c)
{
	return isalnum(c) || c == '.' || c == '_' || c == '~' || c == '-';
}

bool cfg_console_url_ok(const char *url)
{
	size_t n = strlen(url), i;

	if (n == 0)
		return true;
	if (n > CONSOLE_URL_MAX)
		return false;
	i = strncmp(url, "https://", 8) == 0 ? 8 : strncmp(url, "http://", 7) == 0 ? 7 : 0;
	if (i == 0 || !url_host_char((unsigned char)url[i]) || url[i] == '.' || url[i] == '-')
		return false;
	while (i < n && url_host_char((unsigned char)url[i]))
		i++;
	if (i < n && url[i] == ':') {
		size_t d = ++i;

		while (i < n && isdigit((unsigned char)url[i]))
			i++;
		if (i == d || i - d > 5)
			return false;
	}
	while (i < n) { /* "/segment", never empty, never "." or ".." */
		size_t a = ++i;

		if (url[a - 1] != '/')
			return false;
		while (i < n && url_path_char((unsigned char)url[i]))
			i++;
		if (i == a || (i - a <= 2 && strspn(url + a, ".") >= i - a))
			return false;
	}
	return true;
}

/* console_url without one trailing '/', checked. */
static int console_url_value(const char *val, char **copy, char *err, size_t errlen)
{
	size_t n = strlen(val);

	if (n > 1 && val[n - 1] == '/' && val[n - 2] != '/')
		n--;
	*copy = strndup(val, n);
	if (*copy && !cfg_console_url_ok(*copy)) {
		snprintf(err, errlen, "console_url: '%s' is not http(s)://host[:port][/path] "
			 "(path of letters, digits . _ ~ -; no query, fragment or user; at most %d "
			 "bytes)", val, CONSOLE_URL_MAX);
		free(*copy);
		*copy = NULL;
		return -1;
	}
	return 0;
}

int cfg_set(cfg_t *c, const char *key, const char *val, char *err, size_t errlen)
{
	int id = find_key(key), li;
	long long iv;
	char *copy;

	if (id < 0) {
		li = limit_find(key);
		if (li >= 0)
			return set_limit(c, li, val, err, errlen);
		snprintf(err, errlen, "unknown key '%s'", key);
		return -1;
	}
	if (parse_typed(&cfg_table[id], val, &iv, err, errlen) < 0)
		return -1;
	if (id == CFG_CONSOLE_URL) {
		if (console_url_value(val, &copy, err, errlen) < 0)
			return -1;
	} else {
		copy = strdup(val);
	}
	if (!copy) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	free(c->s[id]);
	c->s[id] = copy;
	c->i[id] = iv;
	return 0;
}

int cfg_init(cfg_t *c)
{
	char err[ERR_TEXT_MAX];

	memset(c, 0, sizeof(*c));
	limits_default(&c->lim);
	for (int i = 0; i < CFG__COUNT; i++)
		if (cfg_set(c, cfg_table[i].name, cfg_table[i].def, err, sizeof(err)) < 0)
			return -1;
	return 0;
}

void cfg_free(cfg_t *c)
{
	for (int i = 0; i < CFG__COUNT; i++)
		free(c->s[i]);
	free(c->path);
	free(c->notice_text);
	memset(c, 0, sizeof(*c));
}

static char *trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

static int load_line(cfg_t *c, char *line, char *err, size_t errlen)
{
	char *eq, *key, *val;

	line = trim(line);
	if (*line == '\0' || *line == '#')
		return 0;
	eq = strchr(line, '=');
	if (!eq) {
		snprintf(err, errlen, "expected 'key = value'");
		return -1;
	}
	*eq = '\0';
	key = trim(line);
	val = trim(eq + 1);
	return cfg_set(c, key, val, err, errlen);
}

/* Keys whose value names a file: read it now, while files may be opened. */
static int load_files(cfg_t *c, char *err, size_t errlen)
{
	const char *path = c->s[CFG_NOTICE_TEMPLATE];
	FILE *f;
	size_t n;

	free(c->notice_text);
	c->notice_text = NULL;
	if (!path || !*path)
		return 0;
	f = fopen(path, "r");
	if (!f) {
		snprintf(err, errlen, "notice_template: %s: %s", path, strerror(errno));
		return -1;
	}
	c->notice_text = calloc(1, CFG_FILE_MAX + 1);
	n = c->notice_text ? fread(c->notice_text, 1, CFG_FILE_MAX + 1, f) : 0;
	fclose(f);
	if (!c->notice_text || n > CFG_FILE_MAX) {
		snprintf(err, errlen, "notice_template: %s: larger than %d bytes", path,
			 CFG_FILE_MAX);
		return -1;
	}
	c->notice_text[n] = '\0';
	return 0;
}

/* a must be >= b; else err names both. */
static int need_ge(const cfg_t *c, limit_id_t a, long long b, const char *what, char *err,
		   size_t errlen)
{
	if (lim(&c->lim, a) >= b)
		return 0;
	snprintf(err, errlen, "%s = %lld must be at least %s (%lld)", limit_table[a].name,
		 lim(&c->lim, a), what, b);
	return -1;
}

/* The relations between limits (README "Related limits"); the first one
 * broken is reported. All sums stay far below LLONG_MAX (table maxima). */
int cfg_check_relations(const cfg_t *c, char *err, size_t errlen)
{
	const limits_t *l = &c->lim;
	long long need = lim(l, LIM_CDR_OUTPUT) / 3 * 4 + 4 + lim(l, LIM_TEXT_SIZE) +
			  lim(l, LIM_REPORT_SIZE);
	long long flatten = 3 * lim(l, LIM_PDF_PAGE_PIXELS) + lim(l, LIM_PDF_FLATTEN_BYTES) +
			    PDF_STORE_MAX;

	if (need_ge(c, LIM_WALL_TIME, lim(l, LIM_CPU_TIME), "cpu_time_max", err, errlen) < 0 ||
	    need_ge(c, LIM_WALL_TIME, lim(l, LIM_CDR_TIME), "cdr_time_max", err, errlen) < 0 ||
	    need_ge(c, LIM_RESULT_SIZE, need,
		    "cdr_output_max base64-encoded + text_size_max + report_size_max", err,
		    errlen) < 0 ||
	    need_ge(c, LIM_RESULT_SIZE, lim(l, LIM_MESSAGE_SIZE), "message_size_max", err,
		    errlen) < 0 ||
	    need_ge(c, LIM_DECODED_SIZE, lim(l, LIM_TEXT_SIZE), "text_size_max", err, errlen) < 0 ||
	    need_ge(c, LIM_WORKER_MEMORY, flatten,
		    "3 x pdf_page_pixels_max + pdf_flatten_bytes_max + MuPDF's store", err,
		    errlen) < 0)
		return -1;
	return 0;
}

int cfg_load(cfg_t *c, const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	char *line = NULL, why[ERR_TEXT_MAX];
	size_t cap = 0;
	int lineno = 0, rc = 0;

	if (!f) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	while (rc == 0 && getline(&line, &cap, f) >= 0) {
		lineno++;
		if (load_line(c, line, why, sizeof(why)) < 0) {
			snprintf(err, errlen, "%s:%d: %s", path, lineno, why);
			rc = -1;
		}
	}
	if (rc == 0 && ferror(f)) {
		snprintf(err, errlen, "%s: read error", path);
		rc = -1;
	}
	free(line);
	fclose(f);
	if (rc == 0 && cfg_check_relations(c, why, sizeof(why)) < 0) {
		snprintf(err, errlen, "%s: %s", path, why);
		rc = -1;
	}
	if (rc == 0)
		rc = load_files(c, err, errlen);
	if (rc == 0) {
		free(c->path);
		c->path = strdup(path);
	}
	return rc;
}

bool cfg_is(const cfg_t *c, cfg_id_t id, const char *choice)
{
	return strcasecmp(c->s[id], choice) == 0;
}

bool cfg_list_has(const cfg_t *c, cfg_id_t id, const char *name)
{
	size_t n = strlen(name);

	for (const char *p = c->s[id]; *p;) {
		const char *comma = strchr(p, ',');
		const char *end = comma ? comma : p + strlen(p);

		while (p < end && isspace((unsigned char)*p))
			p++;
		const char *e = end;
		while (e > p && isspace((unsigned char)e[-1]))
			e--;
		if ((size_t)(e - p) == n && strncasecmp(p, name, n) == 0)
			return true;
		if (!comma)
			break;
		p = comma + 1;
	}
	return false;
}

static const char *type_name(const cfg_key_t *k)
{
	static const char *names[] = { "number", "yes|no", "choice", "text", "list" };

	return k->type == CFG_ENUM ? k->choices : names[k->type];
}

/* Markdown cell text: '|' must be escaped inside a table. */
static void md_cell(FILE *out, const char *s)
{
	for (; *s; s++) {
		if (*s == '|')
			fputc('\\', out);
		fputc(*s, out);
	}
}

static void md_key_row(FILE *out, const cfg_key_t *k)
{
	fprintf(out, "| `%s` | ", k->name);
	md_cell(out, type_name(k));
	fprintf(out, " | `%s` | ", k->def);
	md_cell(out, k->help);
	fputs(" |\n", out);
}

void cfg_dump_caps(FILE *out, bool markdown)
{
	if (markdown)
		fprintf(out, "| cap | value | derives from | reason |\n|---|---|---|---|\n");
	for (int i = 0; i < cap_count; i++) {
		const cap_info_t *k = &cap_table[i];
		bool formula = strspn(k->expr, "0123456789") != strlen(k->expr);

		if (!markdown) {
			fprintf(out, "%s = %lld (%s)\n", k->name, k->value, k->from);
			continue;
		}
		fprintf(out, "| `%s` | %lld%s%s%s | %s | ", k->name, k->value,
			formula ? " (`" : "", formula ? k->expr : "", formula ? "`)" : "",
			strcmp(k->from, "none") ? k->from : "–");
		md_cell(out, k->why);
		fputs(" |\n", out);
	}
}

void cfg_dump(const cfg_t *c, FILE *out, bool markdown)
{
	if (markdown) {
		fprintf(out, "| key | type | default | meaning |\n|---|---|---|---|\n");
		for (int i = 0; i < CFG__COUNT; i++)
			md_key_row(out, &cfg_table[i]);
		fprintf(out, "\n| limit | default | unit | range | reason |\n|---|---|---|---|---|\n");
		for (int i = 0; i < LIM__COUNT; i++)
			fprintf(out, "| `%s` | %lld | %s | %lld–%lld | %s |\n", limit_table[i].name,
				limit_table[i].def, limit_table[i].unit, limit_table[i].min,
				limit_table[i].max, limit_table[i].why);
		return;
	}
	for (int i = 0; i < CFG__COUNT; i++)
		fprintf(out, "%s = %s\n", cfg_table[i].name, c->s[i]);
	for (int i = 0; i < LIM__COUNT; i++)
		fprintf(out, "%s = %lld\n", limit_table[i].name, c->lim.v[i]);
}
