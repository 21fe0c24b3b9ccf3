/*
 * cdr_pdf.h — internals shared by pdf.c (open, checks, writer),
 * pdf_flatten.c and pdf_rebuild.c.
 *
 * SECURITY: see pdf.c.
 */
#ifndef MUGAI_CDR_PDF_H
#define MUGAI_CDR_PDF_H

#include "cdr/cdr_int.h"

#include <mupdf/fitz.h>
#include <mupdf/pdf.h>

typedef struct pdf_job {
	fz_context *ctx;
	pdf_document *doc;
	cdr_job_t *job;
	cdr_result_t *res;
	bool keep_uri;
	bool too_deep;
	bool oom;
	size_t flat_bytes;  /* encoded page images so far (pdf_flatten_bytes_max) */
} pdf_job_t;

/* pdf.c: a MuPDF context with a capped store and no messages (NULL on OOM). */
fz_context *cdr_pdf_new_ctx(void);
/* pdf.c: write doc into out (capped); garbage 0 keeps every object (a new
 * flattened document), 2 drops unreachable ones and re-encodes streams. */
int cdr_pdf_save(fz_context *ctx, pdf_document *doc, int garbage, buf_t *out) MUGAI_WUR;
/* pdf_flatten.c / pdf_rebuild.c: the two modes on a checked document.
 * 0 with pj->res's verdict set, -1 on internal failure. */
int cdr_pdf_flatten(pdf_job_t *pj) MUGAI_WUR;
int cdr_pdf_rebuild(pdf_job_t *pj) MUGAI_WUR;

#endif
