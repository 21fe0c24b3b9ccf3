/*
 * cdr.c — the CDR engine entry point: sniff the type from the content,
 * apply the per-type policy, dispatch to the type's sanitizer, and keep the
 * report (verdict, actions, reason) and its JSON form.
 *
 * Specs: RFC 8259 (report JSON).
 *
 * SECURITY: runs in the sanitizer worker on hostile bytes; opens nothing.
 * Limits: file_size_max, cdr_output_max, cdr_time_max here; the per-type
 * limits in each module. A limit hit is a blocked verdict.
 */
#include "cdr/cdr_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/json.h"

void cdr_result_init(cdr_result_t *res, const cdr_job_t *job, size_t in_len)
{
	memset(res, 0, sizeof(*res));
	res->verdict = CDR_PENDING;
	res->type = "unknown";
	res->in_bytes = in_len;
	buf_init(&res->out, (size_t)lim(job->lim, LIM_CDR_OUTPUT));
}

void cdr_result_free(cdr_result_t *res)
{
	if (!res)
		return;
	for (size_t i = 0; i < res->nactions; i++)
		free(res->actions[i].text);
	free(res->actions);
	buf_free(&res->out);
	memset(res, 0, sizeof(*res));
}

int cdr_block(cdr_result_t *res, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(res->reason, sizeof(res->reason), fmt, ap);
	va_end(ap);
	res->verdict = CDR_BLOCKED;
	res->out_type = NULL;
	buf_reset(&res->out);
	return 0;
}

int cdr_done(cdr_result_t *res, const char *out_type)
{
	if (res->verdict == CDR_PENDING) {
		res->verdict = CDR_SANITIZED;
		res->out_type = out_type;
	}
	return 0;
}

static int action_add(cdr_result_t *res, const char *text)
{
	cdr_action_t *a;

	for (size_t i = 0; i < res->nactions; i++)
		if (strcmp(res->actions[i].text, text) == 0) {
			res->actions[i].count++;
			return 0;
		}
	if (res->nactions >= CDR_ACTIONS_MAX) {
		res->actions_more++;
		return 0;
	}
	if (res->nactions == res->actions_cap) {
		size_t cap = res->actions_cap ? res->actions_cap * 2 : 8;

		a = realloc(res->actions, cap * sizeof(*a));
		if (!a)
			return -1;
		res->actions = a;
		res->actions_cap = cap;
	}
	a = &res->actions[res->nactions];
	a->text = strdup(text);
	if (!a->text)
		return -1;
	a->count = 1;
	res->nactions++;
	return 0;
}

int cdr_action(cdr_result_t *res, const char *fmt, ...)
{
	char text[CDR_ACTION_TEXT_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	return action_add(res, text);
}

bool cdr_timed_out(const cdr_job_t *job)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	if (now.tv_sec != job->deadline.tv_sec)
		return now.tv_sec > job->deadline.tv_sec;
	return now.tv_nsec > job->deadline.tv_nsec;
}

/* The policy key of a kind, or -1 for kinds that are always blocked. */
static int policy_key(cdr_kind_t k)
{
	switch (k) {
	case CT_PDF: return CFG_PDF_POLICY;
	case CT_PNG: case CT_JPEG: case CT_GIF: case CT_BMP: case CT_TIFF:
		return CFG_IMAGE_POLICY;
	case CT_TEXT: return CFG_TEXT_POLICY;
	default: return -1; /* zip, OOXML, ODF: decided in zip.c once classified */
	}
}

static int block_kind(cdr_kind_t k, cdr_result_t *res)
{
	switch (k) {
	case CT_EMPTY: return cdr_block(res, "empty");
	case CT_OLE2:
		return cdr_block(res, "unsupported-type: legacy Office (OLE2) or encrypted Office file");
	case CT_RTF: return cdr_block(res, "unsupported-type: RTF");
	case CT_EXE: return cdr_block(res, "executable: program file");
	case CT_SCRIPT: return cdr_block(res, "script: script file");
	case CT_HTML: return cdr_block(res, "unsupported-type: HTML");
	case CT_XML: return cdr_block(res, "unsupported-type: XML");
	case CT_ARCHIVE: return cdr_block(res, "unsupported-type: archive format");
	case CT_MEDIA: return cdr_block(res, "unsupported-type: media format");
	default: return cdr_block(res, "unsupported-type: unknown type");
	}
}

static int dispatch(cdr_job_t *job, cdr_kind_t k, const unsigned char *in, size_t len,
		    cdr_result_t *res)
{
	switch (k) {
	case CT_PDF: return cdr_pdf(job, in, len, res);
	case CT_PNG: case CT_JPEG: case CT_GIF: case CT_BMP: case CT_TIFF:
		return cdr_image(job, in, len, res);
	case CT_TEXT: return cdr_text(job, in, len, res);
	case CT_ZIP: return cdr_zip(job, in, len, res);
	case CT_OLE2: case CT_RTF: return cdr_legacy(job, k, in, len, res);
	default: return block_kind(k, res);
	}
}

/* Note a name whose extension disagrees with the content. */
static int note_name(const cdr_job_t *job, cdr_result_t *res)
{
	const char *ext = cdr_name_ext(job->name), *want = cdr_type_ext(res->type);

	if (!*ext || !want || strcasecmp(ext, want) == 0)
		return 0;
	if (strcmp(res->type, "jpeg") == 0 && strcasecmp(ext, "jpeg") == 0)
		return 0;
	if (strcmp(res->type, "tiff") == 0 && strcasecmp(ext, "tif") == 0)
		return 0;
	if (strcmp(res->type, "text") == 0 && (!strcasecmp(ext, "log") || !strcasecmp(ext, "tsv")))
		return 0;
	return cdr_action(res, "extension-mismatch: name extension .%s disagrees with content (%s)", ext, res->type);
}

int cdr_run(cdr_job_t *job, const unsigned char *in, size_t len, cdr_result_t *res)
{
	cdr_kind_t k;
	int key, rc = 0;

	cdr_result_init(res, job, len);
	k = cdr_sniff(in, len, &res->type);
	if (len > (size_t)lim(job->lim, LIM_FILE_SIZE))
		return cdr_block(res, "limit:file_size_max: %zu bytes", len);
	if (cdr_ext_dangerous(cdr_name_ext(job->name)))
		return cdr_block(res, "dangerous-extension: .%s", cdr_name_ext(job->name));
	key = policy_key(k);
	if (key >= 0 && cfg_is(job->cfg, (cfg_id_t)key, "remove"))
		return cdr_block(res, "policy:%s", cfg_table[key].name);
	if (cdr_timed_out(job))
		return cdr_block(res, "limit:cdr_time_max");
	rc = dispatch(job, k, in, len, res);
	if (rc == 0 && note_name(job, res) < 0)
		rc = -1;
	if (rc == 0 && res->verdict == CDR_SANITIZED && res->out.capped)
		return cdr_block(res, "limit:cdr_output_max");
	if (rc == 0 && cdr_pending(res)) /* a handler that neither blocked nor finished */
		return cdr_block(res, "internal-error: no output");
	return rc;
}

/* The last component of a path ("dir/a.txt" → "a.txt"). */
static const char *base_name(const char *path)
{
	const char *s = strrchr(path, '/');

	return s ? s + 1 : path;
}

static const cdr_spill_t *spill_now;

void cdr_spill_set(const cdr_spill_t *s)
{
	spill_now = s;
}

int cdr_sanitize(const cfg_t *cfg, const char *name, const void *in, size_t len,
		 cdr_mode_t mode, cdr_result_t *res)
{
	return cdr_sanitize_pw(cfg, name, in, len, mode, NULL, 0, res);
}

int cdr_sanitize_pw(const cfg_t *cfg, const char *name, const void *in, size_t len,
		    cdr_mode_t mode, const char *const *pw, size_t n_pw, cdr_result_t *res)
{
	cdr_job_t job = { .cfg = cfg, .lim = &cfg->lim, .mode = mode, .name = name,
			  .pw = pw, .n_pw = pw ? n_pw : 0, .spill = spill_now, .spill_res = res };
	char *safe = name ? cdr_name_safe_dup(name) : NULL;
	int rc;

	if (name && !safe) {
		cdr_result_init(res, &job, len);
		cdr_block(res, "internal-error");
		return -1;
	}
	job.name = safe; /* the name as Windows will read it ("a.exe." is a.exe) */
	if (mode == CDR_MODE_DEFAULT)
		job.mode = cfg_is(cfg, CFG_PDF_MODE, "rebuild") ? CDR_MODE_REBUILD : CDR_MODE_FLATTEN;
	job.zip_budget = lim(&cfg->lim, LIM_ZIP_TOTAL);
	clock_gettime(CLOCK_MONOTONIC, &job.deadline);
	job.deadline.tv_sec += lim(&cfg->lim, LIM_CDR_TIME);
	rc = cdr_run(&job, in, len, res);
	if (rc == 0 && res->verdict == CDR_SANITIZED && safe &&
	    strcmp(base_name(safe), base_name(name)) != 0)
		rc = cdr_action(res, "file-renamed: %s to %s", base_name(name), base_name(safe));
	free(safe);
	if (rc < 0)
		cdr_block(res, "internal-error");
	if (res->verdict != CDR_SANITIZED)
		buf_reset(&res->out);
	return rc;
}

static void json_actions(json_t *j, const cdr_result_t *res)
{
	char more[64];

	json_arr_begin(j);
	for (size_t i = 0; i < res->nactions; i++) {
		if (res->actions[i].count <= 1) {
			json_str(j, res->actions[i].text);
			continue;
		}
		buf_t b;
		buf_init(&b, CDR_ACTION_JSON_MAX);
		if (buf_printf(&b, "%s (x%u)", res->actions[i].text, res->actions[i].count) == 0)
			json_str(j, b.data);
		buf_free(&b);
	}
	if (res->actions_more) {
		snprintf(more, sizeof(more), "... and %zu more", res->actions_more);
		json_str(j, more);
	}
	json_arr_end(j);
}

/* The same actions as Japanese sentences, detail quoted (same order). */
static void json_actions_ja(json_t *j, const cdr_result_t *res)
{
	json_arr_begin(j);
	for (size_t i = 0; i < res->nactions; i++) {
		buf_t b;

		buf_init(&b, CDR_WORDS_MAX);
		if (cdr_words_append(res->actions[i].text, false, &b) == 0 &&
		    (res->actions[i].count <= 1 || buf_printf(&b, "（%u件）", res->actions[i].count) == 0))
			json_str(j, b.data ? b.data : "");
		buf_free(&b);
	}
	json_arr_end(j);
}

static void json_reason_ja(json_t *j, const cdr_result_t *res)
{
	buf_t b;

	buf_init(&b, CDR_WORDS_MAX);
	if (cdr_words_append(res->reason, true, &b) == 0)
		json_str(j, b.data ? b.data : "");
	else
		json_null(j);
	buf_free(&b);
}

int cdr_result_json(const cdr_result_t *res, buf_t *out)
{
	json_t j;
	bool ok = res->verdict == CDR_SANITIZED;

	json_init(&j, out);
	json_obj_begin(&j);
	json_key(&j, "verdict");
	json_str(&j, ok ? "sanitized" : "blocked");
	json_key(&j, "type");
	json_str(&j, res->type);
	json_key(&j, "out_type");
	ok && res->out_type ? json_str(&j, res->out_type) : json_null(&j);
	json_key(&j, "mode");
	res->mode ? json_str(&j, res->mode) : json_null(&j);
	json_key(&j, "actions");
	json_actions(&j, res);
	json_key(&j, "reason");
	ok ? json_null(&j) : json_str(&j, res->reason);
	json_key(&j, "type_ja");
	cdr_words_kind(res->type) ? json_str(&j, cdr_words_kind(res->type)) : json_null(&j);
	json_key(&j, "actions_ja");
	json_actions_ja(&j, res);
	json_key(&j, "reason_ja");
	ok ? json_null(&j) : json_reason_ja(&j, res);
	json_key(&j, "pages");
	json_int(&j, res->pages);
	json_key(&j, "in_bytes");
	json_int(&j, (long long)res->in_bytes);
	json_key(&j, "out_bytes");
	json_int(&j, ok ? (long long)(res->spilled + res->out.len) : 0);
	json_obj_end(&j);
	return json_finish(&j);
}

int cdr_mode_parse(const char *s, cdr_mode_t *mode)
{
	if (strcmp(s, "flatten") == 0)
		*mode = CDR_MODE_FLATTEN;
	else if (strcmp(s, "rebuild") == 0)
		*mode = CDR_MODE_REBUILD;
	else if (strcmp(s, "default") == 0)
		*mode = CDR_MODE_DEFAULT;
	else
		return -1;
	return 0;
}

static const struct { const char *type, *ext; } type_exts[] = {
	{ "pdf", "pdf" }, { "png", "png" }, { "jpeg", "jpg" }, { "gif", "gif" },
	{ "bmp", "bmp" }, { "tiff", "tiff" }, { "zip", "zip" }, { "text", "txt" },
	{ "csv", "csv" }, { "docx", "docx" }, { "docm", "docm" }, { "dotx", "dotx" },
	{ "dotm", "dotm" }, { "xlsx", "xlsx" }, { "xlsm", "xlsm" }, { "xltx", "xltx" },
	{ "xltm", "xltm" }, { "pptx", "pptx" }, { "pptm", "pptm" }, { "ppsx", "ppsx" },
	{ "ppsm", "ppsm" }, { "potx", "potx" }, { "potm", "potm" }, { "odt", "odt" },
	{ "ods", "ods" }, { "odp", "odp" }, { "odg", "odg" },
};

const char *cdr_type_ext(const char *type)
{
	for (size_t i = 0; type && i < MUGAI_ARRAY_LEN(type_exts); i++)
		if (strcmp(type_exts[i].type, type) == 0)
			return type_exts[i].ext;
	return NULL;
}

static const struct { const char *type, *mime; } type_mimes[] = {
	{ "pdf", "application/pdf" }, { "png", "image/png" }, { "jpeg", "image/jpeg" },
	{ "gif", "image/gif" }, { "zip", "application/zip" }, { "text", "text/plain" },
	{ "csv", "text/csv" },
	{ "docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document" },
	{ "dotx", "application/vnd.openxmlformats-officedocument.wordprocessingml.template" },
	{ "xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" },
	{ "xltx", "application/vnd.openxmlformats-officedocument.spreadsheetml.template" },
	{ "pptx", "application/vnd.openxmlformats-officedocument.presentationml.presentation" },
	{ "ppsx", "application/vnd.openxmlformats-officedocument.presentationml.slideshow" },
	{ "potx", "application/vnd.openxmlformats-officedocument.presentationml.template" },
	{ "odt", "application/vnd.oasis.opendocument.text" },
	{ "ods", "application/vnd.oasis.opendocument.spreadsheet" },
	{ "odp", "application/vnd.oasis.opendocument.presentation" },
	{ "odg", "application/vnd.oasis.opendocument.graphics" },
};

const char *cdr_type_mime(const char *type)
{
	for (size_t i = 0; type && i < MUGAI_ARRAY_LEN(type_mimes); i++)
		if (strcmp(type_mimes[i].type, type) == 0)
			return type_mimes[i].mime;
	return "application/octet-stream";
}

static bool ext_fits(const char *ext, const char *out_type)
{
	const char *want = cdr_type_ext(out_type);

	if (!want || strcasecmp(ext, want) == 0)
		return true;
	if (strcmp(out_type, "jpeg") == 0)
		return strcasecmp(ext, "jpeg") == 0 || strcasecmp(ext, "jpe") == 0;
	if (strcmp(out_type, "text") == 0)
		return strcasecmp(ext, "log") == 0 || strcasecmp(ext, "tsv") == 0;
	return false;
}

int cdr_output_name(const char *name, const char *out_type, char *out, size_t outlen)
{
	char *safe = cdr_name_safe_dup(name && *name ? name : "file");
	const char *ext, *want = cdr_type_ext(out_type);
	size_t stem;
	int n;

	if (!safe)
		return -1;
	ext = cdr_name_ext(safe);
	stem = strlen(safe) - (*ext ? strlen(ext) + 1 : 0);
	if (ext_fits(ext, out_type))
		n = snprintf(out, outlen, "%s", safe);
	else
		n = snprintf(out, outlen, "%.*s.%s", (int)stem, safe, want);
	free(safe);
	return n < 0 || (size_t)n >= outlen ? -1 : 0;
}
