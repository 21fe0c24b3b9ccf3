/*
 * legacy.c — legacy Office (.doc .xls .ppt, OLE2) and RTF: the engine side
 * of their conversion to a PDF of page images.
 *
 * The engine cannot convert them itself (it runs in a seccomp worker that
 * may not open files or start processes), so for these types it only
 * decides: with legacy_policy = block, or inside an archive, the file is
 * blocked; with legacy_policy = convert (the default) it is blocked with
 * res->convert set and res->type naming what it is ("doc", "xls", "ppt",
 * "rtf", or "ole2" when the OLE2 directory names none of them). The
 * process that drives the worker then runs LibreOffice in its own jail
 * (common/jail.h) and sends the PDF back into a sandboxed worker, which
 * calls cdr_sanitize_converted(): a normal flatten of that hostile PDF.
 *
 * OOXML and ODF documents that CDR blocks for their structure (an unknown
 * main part such as Visio, an ODF drawing, fields nested too deep) are
 * routed the same way by cdr_legacy_route(), called from zip.c: LibreOffice
 * may open what CDR's allowlist cannot rebuild, and the result is pixels.
 * Encrypted, broken, over-limit or policy-blocked files stay blocked.
 *
 * Specs: MS-CFB (the directory names are UTF-16LE: "WordDocument",
 * "Workbook"/"Book", "PowerPoint Document", "EncryptedPackage").
 *
 * SECURITY: runs in the worker on hostile bytes; only scans for fixed
 * byte strings. The type it reports only chooses LibreOffice's file name
 * extension (from a fixed list); LibreOffice detects the format itself.
 */
#include "cdr/cdr_int.h"

#include <stdio.h>
#include <string.h>

static const struct {
	const char *type;
	const char *u16;   /* directory entry name, UTF-16LE */
	size_t len;
} ole_names[] = {
#define U(s) s, sizeof(s) - 1
	{ "encrypted", U("E\0n\0c\0r\0y\0p\0t\0e\0d\0P\0a\0c\0k\0a\0g\0e\0") },
	{ "doc", U("W\0o\0r\0d\0D\0o\0c\0u\0m\0e\0n\0t\0") },
	{ "xls", U("W\0o\0r\0k\0b\0o\0o\0k\0") },
	{ "xls", U("B\0o\0o\0k\0\0\0") },
	{ "ppt", U("P\0o\0w\0e\0r\0P\0o\0i\0n\0t\0 \0D\0o\0c\0u\0m\0e\0n\0t\0") },
#undef U
};

static const char *const legacy_types[] = { "doc", "xls", "ppt", "rtf", "ole2", "docx", "xlsx",
					     "pptx", "odt", "ods", "odp", "ooxml", "odf" };

const char *cdr_legacy_type(const char *s)
{
	for (size_t i = 0; s && i < MUGAI_ARRAY_LEN(legacy_types); i++)
		if (strcmp(s, legacy_types[i]) == 0)
			return legacy_types[i];
	return NULL;
}

const char *cdr_legacy_label(const char *type)
{
	static const struct { const char *type, *label; } labels[] = {
		{ "doc", "legacy Word (.doc)" }, { "xls", "legacy Excel (.xls)" },
		{ "ppt", "legacy PowerPoint (.ppt)" }, { "rtf", "RTF" },
		{ "docx", "Word (.docx)" }, { "xlsx", "Excel (.xlsx)" },
		{ "pptx", "PowerPoint (.pptx)" }, { "odt", "ODF text (.odt)" },
		{ "ods", "ODF spreadsheet (.ods)" }, { "odp", "ODF presentation (.odp)" },
		{ "ooxml", "Office (OOXML)" }, { "odf", "OpenDocument (ODF)" },
	};

	for (size_t i = 0; type && i < MUGAI_ARRAY_LEN(labels); i++)
		if (strcmp(type, labels[i].type) == 0)
			return labels[i].label;
	return "legacy Office (OLE2)";
}

static const char *ole_type(const unsigned char *in, size_t len)
{
	for (size_t i = 0; i < MUGAI_ARRAY_LEN(ole_names); i++)
		if (memmem(in, len, ole_names[i].u16, ole_names[i].len))
			return ole_names[i].type;
	return "ole2";
}

int cdr_legacy(cdr_job_t *job, cdr_kind_t k, const unsigned char *in, size_t len,
	       cdr_result_t *res)
{
	const char *t = k == CT_RTF ? "rtf" : ole_type(in, len);

	if (strcmp(t, "encrypted") == 0)
		return cdr_block(res, "encrypted: Office");
	res->type = t;
	if (cfg_is(job->cfg, CFG_LEGACY_POLICY, "block"))
		return cdr_block(res, "policy:legacy_policy: %s", cdr_legacy_label(t));
	if (job->depth > 0)
		return cdr_block(res, "legacy-in-archive: %s", cdr_legacy_label(t));
	res->convert = true;
	/* Callers that convert (mugai file sanitize) replace this reason;
	 * the others (the mail path, for now) block with it. */
	return cdr_block(res, "legacy-not-converted: %s", cdr_legacy_label(t));
}

/* Blocks of OOXML/ODF for a structure CDR has no allowlist for (an
 * ordinary document of a kind it does not rebuild), as reason prefixes.
 * Not: encrypted, a broken zip, a limit, a policy, and not the signs of an
 * attack on parsers (a DTD, XML that does not parse, two [Content_Types]
 * differing in case): those stay blocked. */
static const char *const structure_reasons[] = {
	"unsupported-type: OOXML", "unsupported-type: ODF document type not supported",
	"ooxml-fields-too-deep:",
};

static bool structure_block(const char *reason)
{
	for (size_t i = 0; i < MUGAI_ARRAY_LEN(structure_reasons); i++)
		if (strncmp(reason, structure_reasons[i], strlen(structure_reasons[i])) == 0)
			return true;
	return false;
}

int cdr_legacy_route(cdr_job_t *job, bool odf, cdr_result_t *res)
{
	const char *t = cdr_legacy_type(res->type);
	char why[sizeof(res->reason)];

	if (res->verdict != CDR_BLOCKED || !structure_block(res->reason) || job->depth > 0 ||
	    !cfg_is(job->cfg, CFG_LEGACY_POLICY, "convert"))
		return 0;
	if (!t || strcmp(t, "ole2") == 0 || strcmp(t, "doc") == 0 || strcmp(t, "xls") == 0 ||
	    strcmp(t, "ppt") == 0 || strcmp(t, "rtf") == 0)
		t = odf ? "odf" : "ooxml"; /* docm, xltx, odg, ...: LibreOffice detects it */
	memcpy(why, res->reason, sizeof(why));
	res->type = t;
	res->convert = true;
	return cdr_block(res, "legacy-not-converted: %s: %.200s", cdr_legacy_label(t), why);
}

int cdr_sanitize_converted(const cfg_t *cfg, const char *name, const char *orig_type,
			   size_t orig_len, const void *pdf, size_t len, cdr_result_t *res)
{
	const char *t = cdr_legacy_type(orig_type), *base;
	char pdfname[ZIP_NAME_MAX];
	int rc;

	/* Flatten under the output name, so that the original extension is
	 * not reported as disagreeing with the PDF. */
	if (cdr_output_name(name, "pdf", pdfname, sizeof(pdfname)) < 0)
		snprintf(pdfname, sizeof(pdfname), "file.pdf");
	rc = cdr_sanitize(cfg, pdfname, pdf, len, CDR_MODE_FLATTEN, res);

	if (rc < 0 || !t)
		return rc < 0 ? rc : (cdr_block(res, "internal-error"), -1);
	if (strcmp(res->type, "pdf") != 0)
		cdr_block(res, "legacy-conversion-failed: %s: no PDF",
			  cdr_legacy_label(t));
	else if (res->verdict == CDR_BLOCKED) {
		char why[sizeof(res->reason)];

		memcpy(why, res->reason, sizeof(why));
		cdr_block(res, "legacy-conversion-failed: %s: %.200s",
			  cdr_legacy_label(t), why);
	}
	res->type = t;
	res->in_bytes = orig_len;
	res->convert = false;
	base = name ? strrchr(name, '/') : NULL;
	base = base ? base + 1 : name;
	if (res->verdict == CDR_SANITIZED &&
	    cdr_action(res, "legacy-converted: %s", base && *base ? base : t) < 0) {
		cdr_block(res, "internal-error");
		return -1;
	}
	return 0;
}
