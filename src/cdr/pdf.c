/*
 * pdf.c — PDF CDR through MuPDF, from memory: open the document, check it
 * (password, page and object counts), and hand it to one of two modes:
 *
 *   flatten  (pdf_flatten.c) every page rendered to an image, a new PDF of
 *            one image per page; also multi-page TIFF → PDF.
 *   rebuild  (pdf_rebuild.c) every object walked, actions outside the
 *            allowlist and active parts removed, written in one revision.
 *
 * This file holds what both share: the MuPDF context (store capped,
 * messages silenced), the open and the checks, and the writer into a
 * capped buf_t.
 *
 * Specs: ISO 32000-1 (PDF 1.7) §7.5 (file structure), §7.6 (encryption).
 *
 * SECURITY: runs in the sanitizer worker on hostile bytes; MuPDF reads from
 * memory only (fz_open_memory), its store is capped (PDF_STORE_MAX in
 * src/common/limits.h), its messages are silenced. Limits: pdf_pages_max,
 * pdf_objects_max here; cdr_output_max through the output buffer. A PDF
 * that needs a user password is blocked ("encrypted").
 */
#include "cdr/cdr_pdf.h"

#include <string.h>

static void quiet(void *user, const char *msg)
{
	(void)user;
	(void)msg;
}

fz_context *cdr_pdf_new_ctx(void)
{
	fz_context *ctx = fz_new_context(NULL, NULL, PDF_STORE_MAX);

	if (ctx) {
		fz_set_warning_callback(ctx, quiet, NULL);
		fz_set_error_callback(ctx, quiet, NULL);
	}
	return ctx;
}

static pdf_document *open_doc(fz_context *ctx, const unsigned char *in, size_t len)
{
	fz_stream *stm = NULL;
	pdf_document *doc = NULL;

	fz_var(stm);
	fz_var(doc);
	fz_try(ctx) {
		stm = fz_open_memory(ctx, in, len);
		doc = pdf_open_document_with_stream(ctx, stm);
	}
	fz_always(ctx)
		fz_drop_stream(ctx, stm);
	fz_catch(ctx)
		doc = NULL;
	return doc;
}

/* Structure checks shared by both modes: password, page and object counts. */
static int check_doc(pdf_job_t *pj)
{
	fz_context *ctx = pj->ctx;
	volatile int pages = -1, objs = 0;

	if (pdf_needs_password(ctx, pj->doc) && !pdf_authenticate_password(ctx, pj->doc, ""))
		return cdr_block(pj->res, "encrypted");
	fz_try(ctx) {
		pages = pdf_count_pages(ctx, pj->doc);
		objs = pdf_xref_len(ctx, pj->doc);
	}
	fz_catch(ctx)
		pages = -1;
	if (pages < 0)
		return cdr_block(pj->res, "broken: PDF page tree");
	pj->res->pages = pages;
	if (pages == 0)
		return cdr_block(pj->res, "broken: PDF without pages");
	if (pages > lim(pj->job->lim, LIM_PDF_PAGES))
		return cdr_block(pj->res, "limit:pdf_pages_max: %d pages", pages);
	if (objs > lim(pj->job->lim, LIM_PDF_OBJECTS))
		return cdr_block(pj->res, "limit:pdf_objects_max: %d objects", objs);
	return 0;
}

/* fz_output that appends to a capped buf_t (no intermediate copy). */
static void out_write(fz_context *ctx, void *state, const void *data, size_t n)
{
	if (buf_append(state, data, n) < 0)
		fz_throw(ctx, FZ_ERROR_GENERIC, "output limit");
}

static int64_t out_tell(fz_context *ctx, void *state)
{
	(void)ctx;
	return (int64_t)((buf_t *)state)->len;
}

int cdr_pdf_save(fz_context *ctx, pdf_document *doc, int garbage, buf_t *out)
{
	pdf_write_options opts = pdf_default_write_options;
	fz_output *o = NULL;
	volatile int rc = 0;

	opts.do_garbage = garbage;
	opts.do_compress = 1;
	/* rebuild: every stream but images and fonts is decoded and re-encoded */
	opts.do_decompress = garbage > 0;
	opts.do_compress_images = 1;
	opts.do_compress_fonts = 1;
	opts.do_encrypt = PDF_ENCRYPT_NONE;
	fz_var(o);
	fz_try(ctx) {
		o = fz_new_output(ctx, 0, out, out_write, NULL, NULL);
		o->tell = out_tell;
		pdf_write_document(ctx, doc, o, &opts);
		fz_close_output(ctx, o);
	}
	fz_always(ctx)
		fz_drop_output(ctx, o);
	fz_catch(ctx)
		rc = -1;
	return rc;
}

int cdr_pdf(cdr_job_t *job, const unsigned char *in, size_t len, cdr_result_t *res)
{
	pdf_job_t pj = { .job = job, .res = res };
	int rc = 0;

	pj.ctx = cdr_pdf_new_ctx();
	if (!pj.ctx)
		return -1;
	pj.doc = open_doc(pj.ctx, in, len);
	if (!pj.doc) {
		cdr_block(res, "broken: PDF cannot be parsed");
		goto out;
	}
	if (check_doc(&pj) < 0 || !cdr_pending(res))
		goto out;
	rc = job->mode == CDR_MODE_REBUILD ? cdr_pdf_rebuild(&pj) : cdr_pdf_flatten(&pj);
out:
	if (pj.doc)
		pdf_drop_document(pj.ctx, pj.doc);
	fz_drop_context(pj.ctx);
	return rc;
}
