/*
 * pdf_flatten.c — PDF flatten and multi-page TIFF → PDF.
 *
 * Flatten renders every page (pdf_dpi, default 150) to an RGB image and
 * builds a new PDF of one image per page, keeping the page sizes (the
 * guideline's 画像化). Gray pages (most text) are stored as one-channel
 * Flate (lossless), colour pages as JPEG (image_jpeg_quality). Pages are
 * rendered one at a time and each pixmap is dropped before the next, so
 * memory grows only with the (compressed) output. A page whose pixmap would
 * exceed pdf_page_pixels_max, or worker_memory_max / 32 bytes a pixel, is
 * rendered at the resolution that fits (reported). The page images are
 * written as already-encoded streams, capped by pdf_flatten_bytes_max.
 *
 * A multi-page TIFF becomes a PDF with one image page per TIFF page (page
 * size from the TIFF resolution); a page that cannot be decoded, or whose
 * declared size exceeds image_pixels_max, is left out and listed.
 *
 * Specs: ISO 32000-1 §8.9 (images), §7.7.3 (page tree); TIFF 6.0 (pages).
 *
 * SECURITY: runs in the sanitizer worker on hostile bytes; only pixels
 * reach the output. Limits: pdf_page_pixels_max, worker_memory_max (pixel
 * cap and out-of-memory pages blocked as limit:worker_memory_max),
 * pdf_flatten_bytes_max, image_pixels_max (TIFF pages, checked before
 * decoding), cdr_time_max (between pages).
 */
#include "cdr/cdr_pdf.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

/* ---- flatten ------------------------------------------------------------ */

/* Are all pixels gray (R = G = B)? Text pages usually are. */
static bool is_gray(const fz_pixmap *pix)
{
	for (int y = 0; y < pix->h; y++) {
		const unsigned char *p = pix->samples + (size_t)y * (size_t)pix->stride;

		for (int x = 0; x < pix->w; x++, p += 3)
			if (p[0] != p[1] || p[1] != p[2])
				return false;
	}
	return true;
}

/* Gray pages: one channel, deflate level 1 (lossless, fast, crisp text). */
static int encode_gray(const fz_pixmap *pix, buf_t *out)
{
	size_t n = (size_t)pix->w * (size_t)pix->h;
	unsigned char *g = malloc(n ? n : 1);
	uLongf zlen = compressBound((uLong)n);
	int rc = -1;

	if (!g)
		return -1;
	for (int y = 0; y < pix->h; y++) {
		const unsigned char *p = pix->samples + (size_t)y * (size_t)pix->stride;

		for (int x = 0; x < pix->w; x++)
			g[(size_t)y * (size_t)pix->w + (size_t)x] = p[3 * x];
	}
	if (buf_reserve(out, zlen) == 0 &&
	    compress2((Bytef *)out->data, &zlen, g, (uLong)n, 1) == Z_OK) {
		out->len = zlen;
		rc = 0;
	}
	free(g);
	return rc;
}

/* A rendered page, encoded: gray → Flate, colour → JPEG (small, fast). */
typedef struct page_img {
	fz_buffer *data;
	int w, h;
	bool gray;
} page_img_t;

static int pixmap_encode(fz_context *ctx, fz_pixmap *pix, int quality, page_img_t *pi)
{
	buf_t enc;
	volatile int rc; /* set before and read after fz_try (setjmp) */

	pi->gray = is_gray(pix);
	pi->w = pix->w;
	pi->h = pix->h;
	buf_init(&enc, (size_t)PDF_PAGE_ENC_MIB * MiB);
	rc = pi->gray ? encode_gray(pix, &enc)
		      : cdr_jpeg_encode(pix->samples, pix->w, pix->h, 3, (size_t)pix->stride, quality, &enc);
	if (rc == 0) {
		fz_try(ctx)
			pi->data = fz_new_buffer_from_copied_data(ctx, (unsigned char *)enc.data, enc.len);
		fz_catch(ctx)
			rc = -1;
	}
	buf_free(&enc);
	return rc;
}

/* Bytes of worker memory budgeted per rendered pixel: the RGB pixmap (3),
 * the gray copy (1), the encoded page (up to 3 for JPEG), MuPDF's scaled
 * copy of a large image (3) and its subsampled decode (up to 4x the page in
 * each direction), plus its store (PDF_STORE_MAX) and the libraries'
 * mappings. A ratio, not a limit: the limits are pdf_page_pixels_max and
 * worker_memory_max (tests/cli/test_file_pdf_memory.py: a 14400 pt page
 * flattens under a 256 MB address space with it). */
#define PDF_BYTES_PER_PIXEL 32

/* The pixel cap of one rendered page: pdf_page_pixels_max, and never more
 * than the worker's address space (worker_memory_max) can hold. */
static double page_pixels_cap(const limits_t *l)
{
	double cap = (double)lim(l, LIM_PDF_PAGE_PIXELS);
	double mem = (double)lim(l, LIM_WORKER_MEMORY) / PDF_BYTES_PER_PIXEL;

	return mem < cap ? mem : cap;
}

/* Zoom for a page: pdf_dpi, lowered so the pixmap fits page_pixels_cap. */
static float page_zoom(pdf_job_t *pj, fz_rect r, bool *lowered)
{
	float zoom = (float)cfg_int(pj->job->cfg, CFG_PDF_DPI) / 72.0f;
	double w = fmax(r.x1 - r.x0, 1.0), h = fmax(r.y1 - r.y0, 1.0);
	double maxpix = page_pixels_cap(pj->job->lim);

	*lowered = false;
	if (w * zoom * h * zoom > maxpix) {
		zoom = (float)sqrt(maxpix / (w * h)) * 0.999f;
		*lowered = true;
	}
	return zoom;
}

/* The image XObject of an encoded page, written as is (already encoded:
 * MuPDF neither decodes nor caches it). */
static pdf_obj *add_page_image(fz_context *ctx, pdf_document *dst, const page_img_t *pi)
{
	pdf_obj *d = pdf_new_dict(ctx, dst, 8), *ref = NULL;

	fz_try(ctx) {
		pdf_dict_put(ctx, d, PDF_NAME(Type), PDF_NAME(XObject));
		pdf_dict_put(ctx, d, PDF_NAME(Subtype), PDF_NAME(Image));
		pdf_dict_put_int(ctx, d, PDF_NAME(Width), pi->w);
		pdf_dict_put_int(ctx, d, PDF_NAME(Height), pi->h);
		pdf_dict_put(ctx, d, PDF_NAME(ColorSpace), pi->gray ? PDF_NAME(DeviceGray) : PDF_NAME(DeviceRGB));
		pdf_dict_put_int(ctx, d, PDF_NAME(BitsPerComponent), 8);
		pdf_dict_put(ctx, d, PDF_NAME(Filter), pi->gray ? PDF_NAME(FlateDecode) : PDF_NAME(DCTDecode));
		ref = pdf_add_stream(ctx, dst, pi->data, d, 1);
	}
	fz_always(ctx)
		pdf_drop_obj(ctx, d);
	fz_catch(ctx)
		fz_rethrow(ctx);
	return ref;
}

/* Add a page to dst showing the image over the whole page (w × h points). */
static void add_image_page(fz_context *ctx, pdf_document *dst, const page_img_t *pi, float w, float h)
{
	pdf_obj *res = NULL, *ref = NULL, *page = NULL;
	fz_buffer *cont = NULL;

	fz_var(res);
	fz_var(ref);
	fz_var(page);
	fz_var(cont);
	fz_try(ctx) {
		ref = add_page_image(ctx, dst, pi);
		res = pdf_new_dict(ctx, dst, 1);
		pdf_dict_puts(ctx, pdf_dict_put_dict(ctx, res, PDF_NAME(XObject), 1), "Im0", ref);
		cont = fz_new_buffer(ctx, 64);
		fz_append_printf(ctx, cont, "q %g 0 0 %g 0 0 cm /Im0 Do Q\n", w, h);
		page = pdf_add_page(ctx, dst, fz_make_rect(0, 0, w, h), 0, res, cont);
		pdf_insert_page(ctx, dst, -1, page);
	}
	fz_always(ctx) {
		pdf_drop_obj(ctx, page);
		pdf_drop_obj(ctx, res);
		pdf_drop_obj(ctx, ref);
		fz_drop_buffer(ctx, cont);
	}
	fz_catch(ctx)
		fz_rethrow(ctx);
}

/* Why a page could not be flattened. */
typedef enum {
	PAGE_DONE,   /* appended to dst */
	PAGE_BROKEN, /* MuPDF could not render it */
	PAGE_MEMORY, /* out of memory: the worker's address space is the limit */
	PAGE_BYTES,  /* pdf_flatten_bytes_max */
} page_status_t;

/* Render page i of the source and append it to dst. */
static page_status_t flatten_page(pdf_job_t *pj, pdf_document *dst, int i, int *lowered_count)
{
	fz_context *ctx = pj->ctx;
	fz_page *page = NULL;
	fz_pixmap *pix = NULL;
	page_img_t pi = { 0 };
	volatile page_status_t rc = PAGE_DONE;
	volatile bool lowered = false;

	fz_var(page);
	fz_var(pix);
	fz_var(pi);
	fz_try(ctx) {
		page = fz_load_page(ctx, (fz_document *)pj->doc, i);
		fz_rect r = fz_bound_page(ctx, page);
		bool low = false;
		float zoom = page_zoom(pj, r, &low);
		lowered = low;
		pix = fz_new_pixmap_from_page(ctx, page, fz_scale(zoom, zoom), fz_device_rgb(ctx), 0);
		if (pixmap_encode(ctx, pix, (int)cfg_int(pj->job->cfg, CFG_IMAGE_JPEG_QUALITY), &pi) < 0)
			fz_throw(ctx, FZ_ERROR_MEMORY, "image");
		fz_drop_pixmap(ctx, pix);
		pix = NULL;
		pj->flat_bytes += pi.data->len;
		if (pj->flat_bytes > (size_t)lim(pj->job->lim, LIM_PDF_FLATTEN_BYTES))
			fz_throw(ctx, FZ_ERROR_GENERIC, "pdf_flatten_bytes_max");
		add_image_page(ctx, dst, &pi, fmaxf(r.x1 - r.x0, 1), fmaxf(r.y1 - r.y0, 1));
	}
	fz_always(ctx) {
		fz_drop_buffer(ctx, pi.data);
		fz_drop_pixmap(ctx, pix);
		fz_drop_page(ctx, page);
	}
	fz_catch(ctx)
		rc = pj->flat_bytes > (size_t)lim(pj->job->lim, LIM_PDF_FLATTEN_BYTES) ? PAGE_BYTES
		   : fz_caught(ctx) == FZ_ERROR_MEMORY ? PAGE_MEMORY : PAGE_BROKEN;
	*lowered_count += lowered;
	return rc;
}

/* Block with the true reason of a page that could not be flattened. */
static void flatten_failed(cdr_result_t *res, page_status_t why, int i)
{
	if (why == PAGE_MEMORY)
		cdr_block(res, "limit:worker_memory_max: page %d needs more memory", i + 1);
	else if (why == PAGE_BYTES)
		cdr_block(res, "limit:pdf_flatten_bytes_max: page %d", i + 1);
	else
		cdr_block(res, "broken: PDF page %d could not be rendered", i + 1);
}

int cdr_pdf_flatten(pdf_job_t *pj)
{
	pdf_document *volatile dst = NULL;
	int lowered = 0, rc = 0, dpi = (int)cfg_int(pj->job->cfg, CFG_PDF_DPI);
	page_status_t st;

	fz_try(pj->ctx)
		dst = pdf_create_document(pj->ctx);
	fz_catch(pj->ctx)
		return -1;
	for (int i = 0; i < pj->res->pages && cdr_pending(pj->res); i++) {
		if (cdr_timed_out(pj->job))
			cdr_block(pj->res, "limit:cdr_time_max");
		else if ((st = flatten_page(pj, dst, i, &lowered)) != PAGE_DONE)
			flatten_failed(pj->res, st, i);
	}
	if (cdr_pending(pj->res) && cdr_pdf_save(pj->ctx, dst, 0, &pj->res->out) < 0)
		cdr_block(pj->res, "internal-error: PDF could not be written");
	pdf_drop_document(pj->ctx, dst);
	if (!cdr_pending(pj->res))
		goto out;
	pj->res->mode = "flatten";
	cdr_done(pj->res, "pdf");
	if (cdr_action(pj->res, "pdf-flattened: %d pages at %d dpi", pj->res->pages, dpi) < 0 ||
	    (lowered && cdr_action(pj->res, "pdf-resolution-lowered: %d pages below %d dpi (at most %.0f "
				   "pixels a page: pdf_page_pixels_max, worker_memory_max)",
				   lowered, dpi, page_pixels_cap(pj->job->lim)) < 0))
		rc = -1;
out:
	return rc;
}

/* ---- multi-page TIFF → PDF -------------------------------------------- */

/* TIFF page k as an encoded page image (RGB without alpha, then the same
 * encoding as flattened pages); *w, *h get its size in points. */
static void tiff_page(fz_context *ctx, const unsigned char *in, size_t len, int k, int quality,
		      page_img_t *pi, float *w, float *h)
{
	fz_pixmap *pix = NULL, *rgb = NULL;

	fz_var(pix);
	fz_var(rgb);
	fz_try(ctx) {
		pix = fz_load_tiff_subimage(ctx, in, len, k);
		rgb = fz_convert_pixmap(ctx, pix, fz_device_rgb(ctx), NULL, NULL, fz_default_color_params, 0);
		*w = (float)rgb->w * 72.0f / (float)(pix->xres > 0 ? pix->xres : 72);
		*h = (float)rgb->h * 72.0f / (float)(pix->yres > 0 ? pix->yres : 72);
		if (pixmap_encode(ctx, rgb, quality, pi) < 0)
			fz_throw(ctx, FZ_ERROR_MEMORY, "encode");
	}
	fz_always(ctx) {
		fz_drop_pixmap(ctx, rgb);
		fz_drop_pixmap(ctx, pix);
	}
	fz_catch(ctx)
		fz_rethrow(ctx);
}

/* Is page k's declared size within image_pixels_max? 1 yes, 0 no (listed
 * as lost; the other pages are kept), -1 on OOM. */
static int tiff_page_fits(cdr_job_t *job, const unsigned char *in, size_t len, int k, int pages,
			  cdr_result_t *res)
{
	unsigned long w = 0, h = 0;

	if (cdr_tiff_page_dims(in, len, k, &w, &h) < 0 ||
	    (unsigned long long)w * h <= (unsigned long long)lim(job->lim, LIM_IMAGE_PIXELS))
		return 1; /* an unreadable page fails to decode below, with its reason */
	return cdr_action(res, "tiff-pages-lost: page %d of %d is too large (%lux%lu pixels, image_pixels_max)",
			  k + 1, pages, w, h) < 0 ? -1 : 0;
}

static int tiff_pages_into(cdr_job_t *job, fz_context *ctx, pdf_document *dst,
			   const unsigned char *in, size_t len, int pages, cdr_result_t *res)
{
	volatile size_t bytes = 0;
	volatile int kept = 0;
	volatile int big = 0;

	for (volatile int k = 0; k < pages; k++) {
		page_img_t pi = { 0 };
		float w = 1, h = 1;
		volatile bool ok = true;
		int fits;

		if (cdr_timed_out(job))
			return cdr_block(res, "limit:cdr_time_max");
		if ((fits = tiff_page_fits(job, in, len, k, pages, res)) <= 0) {
			if (fits < 0)
				return -1;
			big++;
			continue;
		}
		fz_try(ctx) {
			tiff_page(ctx, in, len, k, (int)cfg_int(job->cfg, CFG_IMAGE_JPEG_QUALITY), &pi, &w, &h);
			bytes += pi.data->len;
			if (bytes > (size_t)lim(job->lim, LIM_PDF_FLATTEN_BYTES))
				fz_throw(ctx, FZ_ERROR_GENERIC, "budget");
			add_image_page(ctx, dst, &pi, fmaxf(w, 1), fmaxf(h, 1));
		}
		fz_always(ctx)
			fz_drop_buffer(ctx, pi.data);
		fz_catch(ctx)
			ok = false;
		if (bytes > (size_t)lim(job->lim, LIM_PDF_FLATTEN_BYTES))
			return cdr_block(res, "limit:pdf_flatten_bytes_max: TIFF page %d", k + 1);
		if (!ok && cdr_action(res, "tiff-pages-lost: page %d of %d could not be decoded", k + 1, pages) < 0)
			return -1;
		kept += ok;
	}
	res->pages = kept;
	if (!kept && big == pages)
		return cdr_block(res, "limit:image_pixels_max: every TIFF page is too large");
	return kept ? 0 : cdr_block(res, "broken: no TIFF page could be decoded");
}

int cdr_tiff_pdf(cdr_job_t *job, const unsigned char *in, size_t len, int pages, cdr_result_t *res)
{
	fz_context *ctx = cdr_pdf_new_ctx();
	pdf_document *volatile dst = NULL;
	int rc = -1;

	if (!ctx)
		return -1;
	fz_try(ctx)
		dst = pdf_create_document(ctx);
	fz_catch(ctx)
		goto out;
	rc = tiff_pages_into(job, ctx, dst, in, len, pages, res);
	if (rc < 0 || !cdr_pending(res))
		goto out;
	if (cdr_pdf_save(ctx, dst, 0, &res->out) < 0) {
		rc = res->out.capped ? cdr_block(res, "limit:cdr_output_max") : -1;
		goto out;
	}
	cdr_done(res, "pdf");
	rc = cdr_action(res, "tiff-pages-to-pdf: %d of %d pages", res->pages, pages);
out:
	pdf_drop_document(ctx, dst);
	fz_drop_context(ctx);
	return rc;
}
