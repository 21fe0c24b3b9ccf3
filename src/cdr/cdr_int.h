/*
 * cdr_int.h — internals shared by the CDR modules (not part of the API).
 *
 * A cdr_job_t carries what every per-type sanitizer needs: the policy, the
 * limits, the mode, the nesting depth and the budgets shared by nested
 * archives (uncompressed bytes, deadline). Each sanitizer has the shape
 *     int cdr_X(cdr_job_t *job, const unsigned char *in, size_t len,
 *               cdr_result_t *res);
 * and returns 0 with res->verdict set (sanitized: res->out filled; blocked:
 * res->reason set by cdr_block), or -1 on an internal failure. A result
 * starts CDR_PENDING (cdr_result_init); only cdr_block (blocked) and
 * cdr_done (sanitized, called where res->out is complete) end it, so there
 * are no provisional verdicts: "still going" is cdr_pending(res).
 *
 * SECURITY: see cdr.h.
 */
#ifndef MUGAI_CDR_INT_H
#define MUGAI_CDR_INT_H

#include <time.h>
#include "cdr/cdr.h"

typedef enum {
	CT_UNKNOWN, CT_EMPTY, CT_PDF, CT_PNG, CT_JPEG, CT_GIF, CT_BMP, CT_TIFF,
	CT_ZIP, CT_OOXML, CT_ODF, CT_TEXT, CT_OLE2, CT_RTF, CT_EXE, CT_SCRIPT,
	CT_HTML, CT_XML, CT_ARCHIVE, CT_MEDIA,
} cdr_kind_t;

typedef struct cdr_job {
	const cfg_t *cfg;
	const limits_t *lim;
	cdr_mode_t mode;
	int depth;                 /* 0 for the top-level file */
	long long zip_budget;      /* uncompressed bytes left (shared by nesting) */
	struct timespec deadline;  /* CLOCK_MONOTONIC */
	const char *name;          /* hint, may be NULL */
	const char *const *pw;     /* PPAP password candidates for encrypted zips (worker memory only) */
	size_t n_pw;
	const cdr_spill_t *spill;  /* cdr_spill_set: for the result spill_res only */
	const cdr_result_t *spill_res;
} cdr_job_t;

/* sniff.c: the type from the content. *type gets a static name. */
cdr_kind_t cdr_sniff(const unsigned char *in, size_t len, const char **type);
/* Case-insensitive extension of name ("" when none). */
const char *cdr_name_ext(const char *name);

/* cdr.c: dispatch (used by zip.c for entries, one level deeper). */
int cdr_run(cdr_job_t *job, const unsigned char *in, size_t len,
	    cdr_result_t *res) MUGAI_WUR;
void cdr_result_init(cdr_result_t *res, const cdr_job_t *job, size_t in_len);
/* Set verdict blocked with a printf reason; always returns 0. */
int cdr_block(cdr_result_t *res, const char *fmt, ...) MUGAI_PRINTF(2, 3);
/* res->out is complete and of type out_type: a pending result becomes
 * CDR_SANITIZED (a blocked one stays blocked). Returns 0. */
int cdr_done(cdr_result_t *res, const char *out_type);
/* Neither blocked nor finished yet. */
static inline bool cdr_pending(const cdr_result_t *res) { return res->verdict == CDR_PENDING; }
/* Record an action (deduplicated, counted). Returns -1 on OOM. */
int cdr_action(cdr_result_t *res, const char *fmt, ...) MUGAI_PRINTF(2, 3) MUGAI_WUR;
/* text.c: a zip entry name as UTF-8 (valid UTF-8 kept, else CP932). */
int cdr_name_to_utf8(const unsigned char *raw, size_t len, buf_t *out) MUGAI_WUR;
/* Has the deadline passed? */
bool cdr_timed_out(const cdr_job_t *job);

/* Per-type sanitizers. */
int cdr_pdf(cdr_job_t *job, const unsigned char *in, size_t len, cdr_result_t *res) MUGAI_WUR;
int cdr_image(cdr_job_t *job, const unsigned char *in, size_t len, cdr_result_t *res) MUGAI_WUR;
int cdr_text(cdr_job_t *job, const unsigned char *in, size_t len, cdr_result_t *res) MUGAI_WUR;
int cdr_zip(cdr_job_t *job, const unsigned char *in, size_t len, cdr_result_t *res) MUGAI_WUR;
/* legacy.c: OLE2 Office and RTF: blocked, with res->convert when
 * legacy_policy = convert (the caller converts it in the jail). */
/* legacy.c: an OOXML (odf false) or ODF verdict blocked for its structure
 * becomes a conversion request as cdr_legacy's (legacy_policy = convert,
 * not in an archive); any other verdict is left as it is. */
int cdr_legacy_route(cdr_job_t *job, bool odf, cdr_result_t *res) MUGAI_WUR;
int cdr_legacy(cdr_job_t *job, cdr_kind_t k, const unsigned char *in, size_t len,
	       cdr_result_t *res) MUGAI_WUR;

/* pdf_flatten.c: a multi-page TIFF as a PDF of its pages (page size from the TIFF
 * resolution); a page that cannot be decoded, or whose declared size
 * exceeds image_pixels_max, is left out and listed (tiff-pages-lost). */
int cdr_tiff_pdf(cdr_job_t *job, const unsigned char *in, size_t len, int pages,
		 cdr_result_t *res) MUGAI_WUR;

/* image.c: declared dimensions from the header, before any decoding.
 * 0 when found, -1 when the header is unreadable. */
int cdr_image_dims(const unsigned char *in, size_t len, cdr_kind_t kind,
		   unsigned long *w, unsigned long *h) MUGAI_WUR;
/* image.c: declared size of page k (0 = first) of a TIFF, from its IFD
 * chain. 0 when found, -1 when there is no such readable page. */
int cdr_tiff_page_dims(const unsigned char *in, size_t len, int k, unsigned long *w,
		       unsigned long *h) MUGAI_WUR;
/* image.c: decode and re-encode one image (also used by ooxml.c/odf.c for
 * media parts): JPEG stays JPEG, everything else becomes PNG. Returns 0 with
 * res->verdict set (out_type "png" or "jpeg"), -1 on internal failure. */
int cdr_image_reencode(cdr_job_t *job, cdr_kind_t kind, const unsigned char *in,
		       size_t len, cdr_result_t *res) MUGAI_WUR;

/* image.c: JPEG-encode 8-bit gray (n = 1) or RGB (n = 3) samples. */
int cdr_jpeg_encode(const unsigned char *px, int w, int h, int n, size_t stride, int quality,
		    buf_t *out) MUGAI_WUR;

/* zip.c: a checked view of an archive, shared by zip.c, ooxml.c, odf.c. */
typedef struct cdr_zentry {
	char *name;              /* normalized UTF-8 path */
	unsigned char *data;     /* uncompressed bytes (owned) */
	size_t len;
	bool keep;               /* set by the format code */
} cdr_zentry_t;

typedef struct cdr_zip {
	cdr_zentry_t *e;
	size_t n;
} cdr_zip_t;

/* Check the archive's structure (central directory vs local headers,
 * overlaps, encryption, counts, ratios, budget) and read every entry.
 * Returns 0 with z filled, 0 with res blocked, or -1 on internal failure. */
int cdr_zip_read(cdr_job_t *job, const unsigned char *in, size_t len,
		 cdr_zip_t *z, cdr_result_t *res) MUGAI_WUR;
void cdr_zip_free(cdr_zip_t *z);
/* OOXML and ODF packages, already read and checked by cdr_zip_read. */
int cdr_ooxml(cdr_job_t *job, cdr_zip_t *z, cdr_result_t *res) MUGAI_WUR;
int cdr_odf(cdr_job_t *job, cdr_zip_t *z, cdr_result_t *res) MUGAI_WUR;
/* Find an entry by exact name, or NULL. */
cdr_zentry_t *cdr_zip_find(cdr_zip_t *z, const char *name);
/* Write a new archive from (name, data) pairs of entries with keep set, in
 * order; `stored_first` names an entry written first and uncompressed (ODF
 * "mimetype"), or NULL. */
int cdr_zip_write(const cdr_zip_t *z, const char *stored_first, buf_t *out) MUGAI_WUR;

#endif
