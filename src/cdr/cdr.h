/*
 * cdr.h — file 無害化 (CDR, content disarm and reconstruction): the engine API.
 *
 * cdr_sanitize() is a pure function of (config, limits, input bytes, name
 * hint, mode) → (output bytes, report). It opens no files and no sockets:
 * MuPDF reads from memory, libzip from a buffer source, libxml2 from memory
 * with XML_PARSE_NONET and no DTD or entity loading. The type comes from the
 * content (sniff.c); the name is only a hint, used to choose text vs CSV, to
 * note a disagreeing extension, and to block dangerous extensions (it never
 * lets anything through).
 *
 * Verdicts: CDR_SANITIZED (res->out holds a new file rebuilt from decoded
 * values; no byte of the input is copied through) or CDR_BLOCKED (res->reason
 * says why; res->out is empty). Per type (dispatch in cdr.c):
 *   pdf                flatten (pages rendered to images) or rebuild (pdf.c)
 *   png jpeg gif bmp tiff  decoded and re-encoded, metadata dropped (image.c)
 *   docx xlsx pptx (+m, templates)  zip rebuilt from allowlisted parts,
 *                      macros/ActiveX/OLE/external links/DDE removed (ooxml.c)
 *   odt ods odp        scripts, events, objects and external links dropped (odf.c)
 *   text csv           decoded to UTF-8 (or CP932), controls removed, CSV
 *                      formula cells neutralized (text.c)
 *   zip                every entry sanitized recursively (zip.c)
 *   doc xls ppt rtf    blocked with res->convert set (legacy_policy = convert):
 *                      the caller converts them in the LibreOffice jail
 *                      (common/jail.h) and flattens the PDF with
 *                      cdr_sanitize_converted() (legacy.c); so are OOXML
 *                      and ODF blocked for a structure CDR has no allowlist
 *                      for (xlsb, Visio, ODF drawings: cdr_legacy_route)
 *   everything else    blocked with a reason (encrypted Office, executables,
 *                      scripts, HTML, other archives, unknown)
 *
 * Usage (e.g. from the mail engine, for an attachment):
 *     cdr_result_t r;
 *     if (cdr_sanitize(cfg, "報告.docm", data, len, CDR_MODE_DEFAULT, &r) < 0)
 *             ... internal failure (out of memory): treat as blocked ...
 *     else if (r.verdict == CDR_SANITIZED)
 *             attach r.out.data / r.out.len under cdr_output_name(...)
 *     else
 *             list the file in the notice with r.reason
 *     cdr_result_free(&r);
 *
 * SECURITY: runs in the sanitizer worker (seccomp, rlimits) on hostile bytes.
 * Limits (limits.h, cdr section): file_size_max, cdr_output_max, cdr_time_max,
 * pdf_pages_max, pdf_page_pixels_max, pdf_objects_max, image_pixels_max,
 * zip_depth_max, zip_entries_max, zip_total_max, zip_ratio_max, xml_part_max.
 * Hitting one is a blocked verdict whose reason names the limit.
 */
#ifndef MUGAI_CDR_H
#define MUGAI_CDR_H

#include <stdbool.h>
#include "common/buf.h"
#include "common/config.h"
#include "common/defs.h"

typedef enum {
	CDR_MODE_DEFAULT = 0, /* PDF mode from the config key pdf_mode */
	CDR_MODE_FLATTEN,
	CDR_MODE_REBUILD,
} cdr_mode_t;

/* CDR_PENDING is internal: a result being worked on (not blocked, output not
 * complete). cdr_sanitize never returns it; it turns a result left pending
 * into "internal-error". */
typedef enum { CDR_BLOCKED = 0, CDR_SANITIZED = 1, CDR_PENDING = 2 } cdr_verdict_t;

typedef struct cdr_action {
	char *text;      /* "removed /OpenAction", "removed word/vbaProject.bin" */
	unsigned count;  /* identical actions are counted, not repeated */
} cdr_action_t;

typedef struct cdr_result {
	cdr_verdict_t verdict;
	const char *type;      /* detected input type (static string) */
	const char *out_type;  /* output type, NULL when blocked */
	const char *mode;      /* "flatten" / "rebuild" for PDF, NULL otherwise */
	char reason[CDR_REASON_MAX];      /* why blocked; "" when sanitized */
	cdr_action_t *actions;
	size_t nactions, actions_cap, actions_more;
	bool convert;          /* blocked here, but a legacy document the caller may
				* convert in the jail (legacy.c, common/jail.h) */
	int pages;             /* PDF pages, 0 otherwise */
	size_t in_bytes;
	buf_t out;             /* the sanitized file (capped by cdr_output_max), or
				* its tail after `spilled` bytes (cdr_spill_set) */
	size_t spilled;
} cdr_result_t;

/* Output handed over while it is being written (the CLI's one-shot worker,
 * so that a flattened document is not held whole): a top-level PDF flatten
 * gives its finished pages to fn(arg, bytes, n) whenever at least `at`
 * bytes are waiting; the result's out then holds only the rest, and its
 * spilled count what went before. cdr_output_max still caps the whole. A
 * file inside a zip never spills (its bytes go into the zip). fn returns
 * 0, or -1 to stop (the flatten then fails). */
typedef struct cdr_spill {
	int (*fn)(void *arg, const char *p, size_t n);
	void *arg;
	size_t at;
} cdr_spill_t;

/* From now on in this process (NULL: never spill). */
void cdr_spill_set(const cdr_spill_t *s);

/* Sanitize one file. name may be NULL. Always initializes *res (free it with
 * cdr_result_free). Returns 0 when a verdict was reached (sanitized or
 * blocked) and -1 on an internal failure (out of memory), in which case the
 * verdict is blocked with reason "internal error". */
int cdr_sanitize(const cfg_t *cfg, const char *name, const void *in, size_t len,
		 cdr_mode_t mode, cdr_result_t *res) MUGAI_WUR;

/* The same with password candidates for encrypted zips (PPAP, mail/ppapscan.h):
 * each is tried in order until one opens every entry (its CRC or AES
 * authentication checked); none: blocked "ppap-wrong-password". The
 * candidates are never copied into the result. pw NULL: cdr_sanitize. */
int cdr_sanitize_pw(const cfg_t *cfg, const char *name, const void *in, size_t len,
		    cdr_mode_t mode, const char *const *pw, size_t n_pw,
		    cdr_result_t *res) MUGAI_WUR;

/* Process-wide setup before the sandbox: libzip's WinZip AES goes through
 * OpenSSL, which reads its configuration and loads its providers on first
 * use; one AES zip is written and read back here so that none of that
 * happens under seccomp. -1 when it fails (AES zips then stay closed). */
int cdr_init(void) MUGAI_WUR;

/* Append the report (verdict, type, out_type, mode, actions, reason, pages,
 * in_bytes, out_bytes) as one JSON object. */
int cdr_result_json(const cdr_result_t *res, buf_t *out) MUGAI_WUR;

void cdr_result_free(cdr_result_t *res);

/* The usual extension of a type ("docx", "png", "jpg", "txt"), or NULL. */
const char *cdr_type_ext(const char *type);

/* The MIME type of an output type; application/octet-stream when unknown. */
const char *cdr_type_mime(const char *type);

/* The one dangerous-extension table (sniff.c), used by CDR and by the mail
 * engine's classification: does the extension (no dot, any case) run code
 * or script when opened on Windows? */
bool cdr_ext_dangerous(const char *ext);
/* Does the file name end in such an extension? (trailing dots and spaces,
 * which Windows drops, are ignored: "run.exe." is run.exe) */
bool cdr_name_dangerous(const char *name);

/* name.c: name made safe to save on Windows, per '/' component: trailing
 * dots and spaces dropped, refused characters (controls \ : * ? " < > |)
 * as '_', DOS device names (CON, NUL, COM1, LPT1…, any case, any
 * extension) prefixed with '_' ("con.txt" → "_con.txt"). Appends to out;
 * at most 2 * strlen(name) + 1 bytes. cdr_name_safe_dup: malloc'd copy
 * (NULL on OOM). */
int cdr_name_safe(const char *name, buf_t *out) MUGAI_WUR;
char *cdr_name_safe_dup(const char *name);

/* Name for the sanitized file: name made safe (cdr_name_safe), with its
 * extension replaced by the output type's when the type changed or the
 * extension does not fit
 * ("a.docm" → "a.docx", "b.bmp" → "b.png", "c.html" as text → "c.txt").
 * Writes at most outlen bytes (NUL included); -1 when it does not fit. */
int cdr_output_name(const char *name, const char *out_type, char *out,
		    size_t outlen) MUGAI_WUR;

/* words.c: Japanese for people. Action texts and block reasons are
 * "code" or "code: detail"; these return the sentence for the code (NULL
 * when unknown), the detail (NULL when none), and the file kind in words
 * ("xlsx" → "Excel ブック"). cdr_words_append writes the sentence followed by
 * the quoted detail (or the text itself when the code is unknown). */
const char *cdr_words_action(const char *action_text);
const char *cdr_words_reason(const char *reason);
const char *cdr_words_kind(const char *type);
const char *cdr_words_detail(const char *text);
int cdr_words_append(const char *text, bool reason, buf_t *out) MUGAI_WUR;

/* legacy.c: the second half of a legacy conversion. pdf is the (hostile)
 * PDF the jail produced from a file of type orig_type ("doc", "xls", "ppt",
 * "rtf", "ole2") of orig_len bytes; it is flattened, and the result reports
 * type orig_type, in_bytes orig_len,
 * out_type "pdf" and the action "legacy-converted: NAME". */
int cdr_sanitize_converted(const cfg_t *cfg, const char *name, const char *orig_type,
			   size_t orig_len, const void *pdf, size_t len,
			   cdr_result_t *res) MUGAI_WUR;
/* legacy.c: the static type name for a legacy type passed back by a
 * caller, or NULL when it is not one. */
const char *cdr_legacy_type(const char *s);
/* legacy.c: "legacy Word (.doc)", "RTF", ... for reasons. */
const char *cdr_legacy_label(const char *type);

/* "flatten" / "rebuild" / "default" for the CLI. -1 when unknown. */
int cdr_mode_parse(const char *s, cdr_mode_t *mode) MUGAI_WUR;

#endif
