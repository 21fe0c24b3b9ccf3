/*
 * pdf.c — PDF CDR through MuPDF, from memory.
 *
 *   flatten  render every page (pdf_dpi, default 150) to an RGB image and
 *            build a new PDF of one image per page, keeping the page sizes
 *            (the guideline's 画像化). Gray pages (most text) are stored as
 *            one-channel Flate (lossless), colour pages as JPEG
 *            (image_jpeg_quality). Pages are rendered one at a time and each
 *            pixmap is dropped before the next, so memory grows only with
 *            the (compressed) output. A page whose pixmap would exceed
 *            pdf_page_pixels_max, or worker_memory_max / 32 bytes a pixel,
 *            is rendered at the resolution that fits (reported).
 *   rebuild  walk every object of the (repaired, decrypted) document and
 *            remove JavaScript, OpenAction/AA, Launch/SubmitForm/ImportData/
 *            GoToR/GoToE (and Rendition/Movie/Sound/RichMediaExecute)
 *            actions, URI actions (unless pdf_keep_uri), embedded files and
 *            file attachment annotations, RichMedia, XFA; then write a new
 *            file in one revision (incremental updates collapsed, object
 *            streams expanded, unreachable objects dropped, no encryption).
 *
 * Specs: ISO 32000-1 (PDF 1.7) §7.5 (file structure), §7.6 (encryption),
 * §12.6 (actions), §12.5 (annotations), §7.11.4 (embedded files).
 *
 * SECURITY: runs in the sanitizer worker on hostile bytes; MuPDF reads from
 * memory only (fz_open_memory), its store is capped, its messages are
 * silenced. Limits: pdf_pages_max, pdf_objects_max, pdf_page_pixels_max,
 * cdr_time_max (checked between pages and every 1024 objects). A PDF that
 * needs a user password is blocked ("encrypted").
 */
#include "cdr/cdr_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include <mupdf/fitz.h>
#include <mupdf/pdf.h>

#define PDF_STORE_MAX (64u << 20)
#define PDF_NEST_MAX 64

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

static void quiet(void *user, const char *msg)
{
	(void)user;
	(void)msg;
}

static fz_context *new_ctx(void)
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
	pj->res->verdict = CDR_SANITIZED; /* provisional: checks passed */
	return 0;
}

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
	buf_init(&enc, (size_t)1 << 31);
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

/* Render page i of the source and append it to dst. 0, -1 (broken page),
 * FLAT_MEMORY (out of memory: the worker's address space is the limit) or
 * FLAT_BYTES (pdf_flatten_bytes_max). */
#define FLAT_MEMORY (-2)
#define FLAT_BYTES (-3)
static int flatten_page(pdf_job_t *pj, pdf_document *dst, int i, int *lowered_count)
{
	fz_context *ctx = pj->ctx;
	fz_page *page = NULL;
	fz_pixmap *pix = NULL;
	page_img_t pi = { 0 };
	volatile int rc = 0;
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
		rc = pj->flat_bytes > (size_t)lim(pj->job->lim, LIM_PDF_FLATTEN_BYTES) ? FLAT_BYTES
		   : fz_caught(ctx) == FZ_ERROR_MEMORY ? FLAT_MEMORY : -1;
	*lowered_count += lowered;
	return rc;
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

static int save_doc(fz_context *ctx, pdf_document *doc, int garbage, buf_t *out)
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

/* Block with the true reason of a page that could not be flattened. */
static void flatten_failed(cdr_result_t *res, int why, int i)
{
	if (why == FLAT_MEMORY)
		cdr_block(res, "limit:worker_memory_max: page %d needs more memory", i + 1);
	else if (why == FLAT_BYTES)
		cdr_block(res, "limit:pdf_flatten_bytes_max: page %d", i + 1);
	else
		cdr_block(res, "broken: PDF page %d could not be rendered", i + 1);
}

static int flatten(pdf_job_t *pj)
{
	pdf_document *volatile dst = NULL;
	int lowered = 0, rc = 0, dpi = (int)cfg_int(pj->job->cfg, CFG_PDF_DPI);

	fz_try(pj->ctx)
		dst = pdf_create_document(pj->ctx);
	fz_catch(pj->ctx)
		return -1;
	for (int i = 0; i < pj->res->pages && pj->res->verdict == CDR_SANITIZED; i++) {
		if (cdr_timed_out(pj->job))
			cdr_block(pj->res, "limit:cdr_time_max");
		else if ((rc = flatten_page(pj, dst, i, &lowered)) < 0)
			flatten_failed(pj->res, rc, i);
	}
	rc = 0;
	if (pj->res->verdict == CDR_SANITIZED && save_doc(pj->ctx, dst, 0, &pj->res->out) < 0)
		cdr_block(pj->res, "internal-error: PDF could not be written");
	pdf_drop_document(pj->ctx, dst);
	if (pj->res->verdict != CDR_SANITIZED)
		goto out;
	pj->res->mode = "flatten";
	pj->res->out_type = "pdf";
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
	fz_context *ctx = new_ctx();
	pdf_document *volatile dst = NULL;
	int rc = -1;

	if (!ctx)
		return -1;
	fz_try(ctx)
		dst = pdf_create_document(ctx);
	fz_catch(ctx)
		goto out;
	res->verdict = CDR_SANITIZED; /* provisional */
	rc = tiff_pages_into(job, ctx, dst, in, len, pages, res);
	if (rc < 0 || res->verdict != CDR_SANITIZED)
		goto out;
	if (save_doc(ctx, dst, 0, &res->out) < 0) {
		rc = res->out.capped ? cdr_block(res, "limit:cdr_output_max") : -1;
		goto out;
	}
	res->out_type = "pdf";
	rc = cdr_action(res, "tiff-pages-to-pdf: %d of %d pages", res->pages, pages);
out:
	pdf_drop_document(ctx, dst);
	fz_drop_context(ctx);
	return rc;
}

/* ---- rebuild ------------------------------------------------------------ */

static bool name_in(fz_context *ctx, pdf_obj *n, const char *const *set, size_t cnt)
{
	const char *s;

	if (!pdf_is_name(ctx, n))
		return false;
	s = pdf_to_name(ctx, n);
	for (size_t i = 0; i < cnt; i++)
		if (strcmp(s, set[i]) == 0)
			return true;
	return false;
}

/* Every action type of PDF 2.0 §12.6.4 (and Adobe's extensions): a dict
 * whose /S is one of these is an action wherever it is found. */
static const char *const action_types[] = {
	"GoTo", "GoToR", "GoToE", "GoToDp", "Launch", "Thread", "URI", "Sound", "Movie",
	"Hide", "Named", "SubmitForm", "ResetForm", "ImportData", "SetOCGState", "Rendition",
	"Trans", "GoTo3DView", "JavaScript", "RichMediaExecute",
};

/* The allowlist: GoTo (a destination inside this document), the Named
 * navigation actions, and URI when pdf_keep_uri is set. */
static bool action_allowed(pdf_job_t *pj, pdf_obj *d, pdf_obj *s)
{
	static const char *const named[] = { "NextPage", "PrevPage", "FirstPage", "LastPage" };
	fz_context *ctx = pj->ctx;

	if (pdf_name_eq(ctx, s, PDF_NAME(GoTo)))
		return true;
	if (pdf_name_eq(ctx, s, PDF_NAME(Named)))
		return name_in(ctx, pdf_dict_get(ctx, d, PDF_NAME(N)), named, MUGAI_ARRAY_LEN(named));
	return pj->keep_uri && pdf_name_eq(ctx, s, PDF_NAME(URI));
}

/* Is this dict an action we remove? Returns its type (or "unknown") or
 * NULL. in_action: the dict is the value of /A, /Next or /OpenAction, so it
 * is an action whatever its /S says. */
static const char *bad_action(pdf_job_t *pj, pdf_obj *d, bool in_action)
{
	fz_context *ctx = pj->ctx;
	pdf_obj *s = pdf_dict_get(ctx, d, PDF_NAME(S));

	if (!in_action && !pdf_name_eq(ctx, pdf_dict_get(ctx, d, PDF_NAME(Type)), PDF_NAME(Action)) &&
	    !name_in(ctx, s, action_types, MUGAI_ARRAY_LEN(action_types)))
		return NULL;
	if (pdf_dict_len(ctx, d) == 0 || action_allowed(pj, d, s))
		return NULL;
	return pdf_is_name(ctx, s) ? pdf_to_name(ctx, s) : "unknown";
}

/* Is this dict an annotation we remove? Returns its /Subtype or NULL. */
static const char *bad_annot(pdf_job_t *pj, pdf_obj *d)
{
	static const char *const bad[] = {
		"FileAttachment", "RichMedia", "Screen", "Movie", "Sound", "3D",
	};
	pdf_obj *s = pdf_dict_get(pj->ctx, d, PDF_NAME(Subtype));

	return name_in(pj->ctx, s, bad, MUGAI_ARRAY_LEN(bad)) ? pdf_to_name(pj->ctx, s) : NULL;
}

static void empty_dict(fz_context *ctx, pdf_obj *d)
{
	for (int i = pdf_dict_len(ctx, d) - 1; i >= 0; i--)
		pdf_dict_del(ctx, d, pdf_dict_get_key(ctx, d, i));
}

static void note(pdf_job_t *pj, const char *verb, const char *what, const char *tail)
{
	if (cdr_action(pj->res, "%s%s%s", verb, what, tail) < 0)
		pj->oom = true;
}

/* Keys removed wherever they appear. */
static void drop_keys(pdf_job_t *pj, pdf_obj *d)
{
	static const char *const keys[] = {
		"JS", "JavaScript", "AA", "OpenAction", "EmbeddedFiles", "EF", "XFA",
		"RichMediaContent", "RichMediaSettings", "Collection", "AF", "URI",
	};
	fz_context *ctx = pj->ctx;

	for (size_t i = 0; i < MUGAI_ARRAY_LEN(keys); i++) {
		if (i == MUGAI_ARRAY_LEN(keys) - 1 && pj->keep_uri)
			break;
		if (pdf_dict_gets(ctx, d, keys[i])) {
			pdf_dict_dels(ctx, d, keys[i]);
			note(pj, i < 4 || i == MUGAI_ARRAY_LEN(keys) - 1 ? "pdf-action-removed: /" : "pdf-part-removed: /", keys[i], "");
		}
	}
}

static void scrub(pdf_job_t *pj, pdf_obj *o, int depth);

/* Is o (direct or indirect) an action outside the allowlist? */
static const char *bad_action_value(pdf_job_t *pj, pdf_obj *o)
{
	pdf_obj *r = pdf_resolve_indirect(pj->ctx, o);

	return pdf_is_dict(pj->ctx, r) ? bad_action(pj, r, true) : NULL;
}

/* The values of /A and /Next (one action or an array of them) are actions
 * whatever their /S: unknown or unlisted ones are cut off here, also when
 * they are indirect objects shared with other places. */
static void drop_actions(pdf_job_t *pj, pdf_obj *d)
{
	fz_context *ctx = pj->ctx;
	pdf_obj *keys[] = { PDF_NAME(A), PDF_NAME(Next) };
	const char *what;

	for (size_t k = 0; k < MUGAI_ARRAY_LEN(keys); k++) {
		pdf_obj *v = pdf_dict_get(ctx, d, keys[k]);

		if (pdf_is_array(ctx, v)) {
			for (int i = pdf_array_len(ctx, v) - 1; i >= 0; i--)
				if ((what = bad_action_value(pj, pdf_array_get(ctx, v, i))) != NULL) {
					note(pj, "pdf-action-removed: ", what, " action");
					pdf_array_delete(ctx, v, i);
				}
		} else if (v && (what = bad_action_value(pj, v)) != NULL) {
			note(pj, "pdf-action-removed: ", what, " action");
			pdf_dict_del(ctx, d, keys[k]);
		}
	}
}

static void scrub_dict(pdf_job_t *pj, pdf_obj *d, int depth)
{
	fz_context *ctx = pj->ctx;
	const char *what;

	if ((what = bad_action(pj, d, false)) != NULL) {
		note(pj, "pdf-action-removed: ", what, " action");
		empty_dict(ctx, d);
		return;
	}
	if ((what = bad_annot(pj, d)) != NULL) {
		note(pj, "pdf-annotation-removed: ", what, " annotation");
		empty_dict(ctx, d);
		return;
	}
	drop_keys(pj, d);
	drop_actions(pj, d);
	for (int i = 0; i < pdf_dict_len(ctx, d); i++)
		scrub(pj, pdf_dict_get_val(ctx, d, i), depth + 1);
}

/* Scrub a direct object (indirect ones are visited by the object loop). */
static void scrub(pdf_job_t *pj, pdf_obj *o, int depth)
{
	fz_context *ctx = pj->ctx;

	if (!o || pdf_is_indirect(ctx, o))
		return;
	if (depth > PDF_NEST_MAX) {
		pj->too_deep = true;
		return;
	}
	if (pdf_is_dict(ctx, o))
		scrub_dict(pj, o, depth);
	else if (pdf_is_array(ctx, o))
		for (int i = 0; i < pdf_array_len(ctx, o); i++)
			scrub(pj, pdf_array_get(ctx, o, i), depth + 1);
}

/* An embedded file stream keeps no bytes, even if still referenced. */
static void scrub_stream(pdf_job_t *pj, int num, pdf_obj *o)
{
	fz_context *ctx = pj->ctx;
	pdf_obj *ref;
	fz_buffer *empty;

	if (!pdf_name_eq(ctx, pdf_dict_get(ctx, o, PDF_NAME(Type)), PDF_NAME(EmbeddedFile)))
		return;
	note(pj, "pdf-part-removed: ", "EmbeddedFile", " stream");
	ref = pdf_new_indirect(ctx, pj->doc, num, 0);
	empty = fz_new_buffer(ctx, 1);
	fz_try(ctx) {
		pdf_update_stream(ctx, pj->doc, ref, empty, 0);
		empty_dict(ctx, o);
	}
	fz_always(ctx) {
		fz_drop_buffer(ctx, empty);
		pdf_drop_obj(ctx, ref);
	}
	fz_catch(ctx)
		fz_rethrow(ctx);
}

/* Visit object num; an object that does not load becomes null. */
static void scrub_object(pdf_job_t *pj, int num)
{
	fz_context *ctx = pj->ctx;
	pdf_obj *o = NULL;
	volatile bool broken = false;

	fz_var(o);
	fz_try(ctx) {
		o = pdf_load_object(ctx, pj->doc, num);
		if (pdf_is_stream(ctx, o))
			scrub_stream(pj, num, o);
		scrub(pj, o, 0);
	}
	fz_always(ctx)
		pdf_drop_obj(ctx, o);
	fz_catch(ctx)
		broken = true;
	if (broken) {
		fz_try(ctx)
			pdf_update_object(ctx, pj->doc, num, PDF_NULL);
		fz_catch(ctx)
			pj->oom = true;
	}
}

/* Remove emptied annotations from the pages' /Annots arrays. */
static void prune_annots(pdf_job_t *pj)
{
	fz_context *ctx = pj->ctx;

	for (int p = 0; p < pj->res->pages; p++) {
		pdf_obj *annots = pdf_dict_get(ctx, pdf_lookup_page_obj(ctx, pj->doc, p), PDF_NAME(Annots));

		for (int i = pdf_array_len(ctx, annots) - 1; i >= 0; i--) {
			pdf_obj *a = pdf_array_get(ctx, annots, i);

			if (!pdf_is_dict(ctx, a) || !pdf_dict_get(ctx, a, PDF_NAME(Subtype)))
				pdf_array_delete(ctx, annots, i);
		}
	}
}

static int scrub_all(pdf_job_t *pj)
{
	fz_context *ctx = pj->ctx;
	int n = pdf_xref_len(ctx, pj->doc);
	volatile int rc = 0;

	for (int i = 1; i < n && !pj->oom; i++) {
		if ((i & 1023) == 0 && cdr_timed_out(pj->job))
			return cdr_block(pj->res, "limit:cdr_time_max");
		scrub_object(pj, i);
	}
	fz_try(ctx) {
		scrub(pj, pdf_trailer(ctx, pj->doc), 0);
		prune_annots(pj);
	}
	fz_catch(ctx)
		rc = cdr_block(pj->res, "broken: PDF structure");
	if (pj->oom)
		return -1;
	if (pj->too_deep)
		return cdr_block(pj->res, "broken: PDF objects nested deeper than %d", PDF_NEST_MAX);
	return rc;
}

/* Keep only streams in a page's /Contents. */
static void fix_contents(fz_context *ctx, pdf_obj *page)
{
	pdf_obj *c = pdf_dict_get(ctx, page, PDF_NAME(Contents));

	if (pdf_is_array(ctx, c)) {
		for (int i = pdf_array_len(ctx, c) - 1; i >= 0; i--)
			if (!pdf_is_stream(ctx, pdf_array_get(ctx, c, i)))
				pdf_array_delete(ctx, c, i);
	} else if (c && !pdf_is_stream(ctx, c)) {
		pdf_dict_del(ctx, page, PDF_NAME(Contents));
	}
}

/* Page i as a page object of its own: inherited items copied in, a page
 * reached twice (a loop or a shared kid) duplicated. */
static pdf_obj *own_page(pdf_job_t *pj, pdf_obj **seen, int i)
{
	fz_context *ctx = pj->ctx;
	pdf_obj *pg = pdf_lookup_page_obj(ctx, pj->doc, i);
	int num = pdf_to_num(ctx, pg);

	for (int k = 0; k < i && num > 0; k++)
		if (pdf_to_num(ctx, seen[k]) == num)
			return pdf_add_object_drop(ctx, pj->doc, pdf_copy_dict(ctx, pg));
	if (num <= 0)
		return pdf_add_object_drop(ctx, pj->doc, pdf_copy_dict(ctx, pg));
	return pdf_new_indirect(ctx, pj->doc, num, 0);
}

/* A new flat page tree: one /Pages node whose kids are the pages in order. */
static void new_page_tree(pdf_job_t *pj)
{
	fz_context *ctx = pj->ctx;
	int n = pj->res->pages;
	pdf_obj **pg = fz_malloc_array(ctx, n, pdf_obj *);
	pdf_obj *kids = NULL, *root = NULL;
	int got = 0;

	fz_var(kids);
	fz_var(root);
	fz_var(got);
	fz_try(ctx) {
		while (got < n) {
			pg[got] = own_page(pj, pg, got);
			got++; /* owned from here, even if the next call throws */
			pdf_flatten_inheritable_page_items(ctx, pg[got - 1]);
		}
		root = pdf_add_new_dict(ctx, pj->doc, 3);
		kids = pdf_dict_put_array(ctx, root, PDF_NAME(Kids), n);
		pdf_dict_put(ctx, root, PDF_NAME(Type), PDF_NAME(Pages));
		pdf_dict_put_int(ctx, root, PDF_NAME(Count), n);
		for (int i = 0; i < n; i++) {
			pdf_dict_put(ctx, pg[i], PDF_NAME(Parent), root);
			fix_contents(ctx, pg[i]);
			pdf_array_push(ctx, kids, pg[i]);
		}
		pdf_dict_put(ctx, pdf_dict_get(ctx, pdf_trailer(ctx, pj->doc), PDF_NAME(Root)),
			     PDF_NAME(Pages), root);
	}
	fz_always(ctx) {
		for (int i = 0; i < got; i++)
			pdf_drop_obj(ctx, pg[i]);
		fz_free(ctx, pg);
		pdf_drop_obj(ctx, root);
	}
	fz_catch(ctx)
		fz_rethrow(ctx);
}

static int rebuild(pdf_job_t *pj)
{
	int rc = 0;

	pj->keep_uri = cfg_int(pj->job->cfg, CFG_PDF_KEEP_URI) != 0;
	if (pdf_was_repaired(pj->ctx, pj->doc) &&
	    cdr_action(pj->res, "pdf-repaired: broken cross-reference table") < 0)
		return -1;
	if (pdf_count_versions(pj->ctx, pj->doc) > 1 &&
	    cdr_action(pj->res, "pdf-versions-collapsed: %d incremental updates", pdf_count_versions(pj->ctx, pj->doc) - 1) < 0)
		return -1;
	if (scrub_all(pj) < 0 || pj->res->verdict != CDR_SANITIZED)
		return pj->oom ? -1 : 0;
	fz_try(pj->ctx)
		new_page_tree(pj);
	fz_catch(pj->ctx)
		rc = -2;
	if (rc == -2)
		return cdr_block(pj->res, "broken: PDF page tree cannot be rebuilt");
	if (save_doc(pj->ctx, pj->doc, 2, &pj->res->out) < 0)
		return cdr_block(pj->res, "internal-error: PDF could not be written");
	pj->res->mode = "rebuild";
	pj->res->out_type = "pdf";
	return rc;
}

int cdr_pdf(cdr_job_t *job, const unsigned char *in, size_t len, cdr_result_t *res)
{
	pdf_job_t pj = { .job = job, .res = res };
	int rc = 0;

	pj.ctx = new_ctx();
	if (!pj.ctx)
		return -1;
	pj.doc = open_doc(pj.ctx, in, len);
	if (!pj.doc) {
		cdr_block(res, "broken: PDF cannot be parsed");
		goto out;
	}
	if (check_doc(&pj) < 0 || res->verdict != CDR_SANITIZED)
		goto out;
	rc = job->mode == CDR_MODE_REBUILD ? rebuild(&pj) : flatten(&pj);
out:
	if (pj.doc)
		pdf_drop_document(pj.ctx, pj.doc);
	fz_drop_context(pj.ctx);
	return rc;
}
