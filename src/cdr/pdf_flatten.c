/*
 * pdf_flatten.c — PDF flatten and multi-page TIFF → PDF.
 *
 * Flatten renders every page (pdf_dpi, default 150) to an RGB image and
 * builds a new PDF of one image per page, keeping the page sizes (the
 * guideline's 画像化). Gray pages (most text) are stored as one channel,
 * run-length encoded then Flate (both lossless; the white runs of a text
 * page shrink before deflate sees them: a third smaller and about twice as
 * fast as Flate alone), colour pages as JPEG (image_jpeg_quality). The PDF is
 * written here, streamed page by page into the output: each page's pixmap
 * is encoded (into one scratch buffer reused for every page) and its page,
 * image and content objects appended at once, then the pixmap dropped; the
 * page tree, catalog and cross-reference table follow the last page. So
 * memory is one page's pixmap and encoding plus the output itself, flat in
 * the page count (MuPDF holds no document of the result, and the result is
 * never held twice). With a spill (cdr_spill_set, `mugai file sanitize`)
 * the finished pages leave as they are done and object offsets count from
 * the start of the whole file, so not even the output is held whole; the
 * whole file stays within cdr_output_max. A page whose pixmap would exceed
 * pdf_page_pixels_max, or worker_memory_max / 32 bytes a pixel, is rendered
 * at the resolution that fits (reported). The page images total at most
 * pdf_flatten_bytes_max.
 *
 * A multi-page TIFF becomes a PDF with one image page per TIFF page (page
 * size from the TIFF resolution), written the same way; a page that cannot
 * be decoded, or whose declared size exceeds image_pixels_max, is left out
 * and listed.
 *
 * Specs: ISO 32000-1 §7.5 (file structure: header, body, xref table,
 * trailer), §7.4.4-5 (FlateDecode, RunLengthDecode, a filter array),
 * §7.7.2-3 (catalog, page tree), §8.9 (images).
 *
 * SECURITY: runs in the sanitizer worker on hostile bytes; only pixels
 * reach the output, and every byte of the output's structure is written
 * here from numbers (sizes, offsets). Limits: pdf_page_pixels_max,
 * worker_memory_max (pixel cap and out-of-memory pages blocked as
 * limit:worker_memory_max), pdf_flatten_bytes_max, cdr_output_max (the
 * output buffer), image_pixels_max (TIFF pages, checked before decoding),
 * cdr_time_max (between pages).
 */
#include "cdr/cdr_pdf.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#if defined(__SSE2__)
#include <immintrin.h>
#endif
#include <libdeflate.h>

/* ---- the output PDF, written as it goes ------------------------------- */

/* Objects: 1 the catalog, 2 the page tree, then three per page (page,
 * image, content), written in that order. */
#define OBJ_CATALOG 1
#define OBJ_PAGES 2
#define OBJ_FIRST_PAGE 3

typedef struct flat_out {
	buf_t *out;
	size_t *offs;       /* byte offset of object k at offs[k] */
	int max_pages, pages;
	buf_t enc;          /* the page being encoded (reused for every page) */
	unsigned char *gray; /* one-channel copy of the page (reused) */
	size_t gray_cap;
	unsigned char *rle;  /* the same run-length encoded (reused) */
	size_t rle_cap;
	struct libdeflate_compressor *z;
	const cdr_spill_t *spill; /* finished pages handed over (cdr_spill_set), or NULL */
	size_t *spilled;          /* bytes handed over: they precede out's */
} flat_out_t;

/* A rendered page, encoded into f->enc: gray → Flate, colour → JPEG. */
typedef struct page_img {
	int w, h;
	bool gray;
} page_img_t;

/* The output is reserved up front for the page images' budget
 * (pdf_flatten_bytes_max, already counted in worker_memory_max): address
 * space only until written, and one mapping from the start, so the buffer
 * never grows by copying (a heap realloc would hold the output twice). */
static int fo_begin(flat_out_t *f, buf_t *out, size_t budget, int max_pages)
{
	size_t room = out->max > out->len ? out->max - out->len : 0;

	memset(f, 0, sizeof(*f));
	if (buf_reserve(out, budget < room ? budget : room) < 0)
		return -1;
	f->out = out;
	f->max_pages = max_pages;
	buf_init(&f->enc, (size_t)PDF_PAGE_ENC_MIB * MiB);
	f->offs = calloc((size_t)max_pages * 3 + OBJ_FIRST_PAGE, sizeof(*f->offs));
	f->z = libdeflate_alloc_compressor(1);
	if (!f->offs || !f->z)
		return -1;
	/* a binary comment line: the file is binary (ISO 32000-1 §7.5.2) */
	return buf_puts(out, "%PDF-1.7\n%\xe2\xe3\xcf\xd3\n");
}

static void fo_free(flat_out_t *f)
{
	buf_free(&f->enc);
	free(f->offs);
	free(f->gray);
	free(f->rle);
	libdeflate_free_compressor(f->z);
	memset(f, 0, sizeof(*f));
}

/* A page dimension in points as a PDF number: at most two decimals, no
 * exponent (%.2f of any finite float fits PDF_NUM_LEN). */
#define PDF_NUM_LEN 48

static void pdf_num(char *out, float v)
{
	size_t n;

	snprintf(out, PDF_NUM_LEN, "%.2f", (double)v);
	n = strlen(out);
	while (n > 1 && out[n - 1] == '0')
		out[--n] = '\0';
	if (n > 1 && out[n - 1] == '.')
		out[--n] = '\0';
}

/* Where the next byte goes in the whole file. */
static size_t fo_at(const flat_out_t *f)
{
	return (f->spilled ? *f->spilled : 0) + f->out->len;
}

/* Object k starts here. */
static int fo_obj(flat_out_t *f, int k)
{
	f->offs[k] = fo_at(f);
	return buf_printf(f->out, "%d 0 obj\n", k);
}

/* With a spill, the whole file (handed over and held) within out->max,
 * which the buffer alone no longer sees: -1 (capped) when it is not. */
static int fo_fits(flat_out_t *f)
{
	if (f->spilled && *f->spilled + f->out->len > f->out->max) {
		f->out->capped = true;
		return -1;
	}
	return 0;
}

/* After a page: the finished bytes handed over once enough are waiting;
 * the buffer is then reused (its pages stay mapped: memory stays flat in
 * the page count). */
static int fo_spill(flat_out_t *f)
{
	buf_t *o = f->out;

	if (!f->spill || o->len < f->spill->at)
		return 0;
	if (fo_fits(f) < 0)
		return -1;
	if (f->spill->fn(f->spill->arg, o->data, o->len) < 0)
		return -1;
	*f->spilled += o->len;
	buf_reset(o);
	return 0;
}

/* The page in f->enc as page k's three objects, w × h points. */
static int fo_page(flat_out_t *f, const page_img_t *pi, float w, float h)
{
	int k = OBJ_FIRST_PAGE + 3 * f->pages;
	char ws[PDF_NUM_LEN], hs[PDF_NUM_LEN], cont[3 * PDF_NUM_LEN];
	buf_t *o = f->out;
	int cl;

	if (f->pages >= f->max_pages)
		return -1;
	if (!isfinite(w) || !isfinite(h))
		return -1;
	pdf_num(ws, w);
	pdf_num(hs, h);
	cl = snprintf(cont, sizeof(cont), "q %s 0 0 %s 0 0 cm /Im0 Do Q\n", ws, hs);
	if (fo_obj(f, k) < 0 ||
	    buf_printf(o, "<</Type/Page/Parent %d 0 R/MediaBox[0 0 %s %s]/Resources<</XObject<</Im0 "
		       "%d 0 R>>>>/Contents %d 0 R>>\nendobj\n", OBJ_PAGES, ws, hs, k + 1, k + 2) < 0 ||
	    fo_obj(f, k + 1) < 0 ||
	    buf_printf(o, "<</Type/XObject/Subtype/Image/Width %d/Height %d/ColorSpace/%s"
		       "/BitsPerComponent 8/Filter%s/Length %zu>>\nstream\n", pi->w, pi->h,
		       pi->gray ? "DeviceGray" : "DeviceRGB", pi->gray ? "[/FlateDecode/RunLengthDecode]" : "/DCTDecode",
		       f->enc.len) < 0 ||
	    buf_append(o, f->enc.data, f->enc.len) < 0 ||
	    buf_puts(o, "\nendstream\nendobj\n") < 0 ||
	    fo_obj(f, k + 2) < 0 ||
	    buf_printf(o, "<</Length %d>>\nstream\n%sendstream\nendobj\n", cl, cont) < 0)
		return -1;
	f->pages++;
	return fo_spill(f);
}

/* Page tree, catalog, cross-reference table and trailer. */
static int fo_end(flat_out_t *f)
{
	buf_t *o = f->out;
	int n = OBJ_FIRST_PAGE + 3 * f->pages; /* objects 0 .. n-1 */
	size_t xref;

	if (fo_obj(f, OBJ_PAGES) < 0 || buf_printf(o, "<</Type/Pages/Count %d/Kids[", f->pages) < 0)
		return -1;
	for (int i = 0; i < f->pages; i++)
		if (buf_printf(o, "%s%d 0 R", i ? " " : "", OBJ_FIRST_PAGE + 3 * i) < 0)
			return -1;
	if (buf_puts(o, "]>>\nendobj\n") < 0 || fo_obj(f, OBJ_CATALOG) < 0 ||
	    buf_printf(o, "<</Type/Catalog/Pages %d 0 R>>\nendobj\n", OBJ_PAGES) < 0)
		return -1;
	xref = fo_at(f);
	if (buf_printf(o, "xref\n0 %d\n0000000000 65535 f \n", n) < 0)
		return -1;
	for (int k = 1; k < n; k++) /* 20 bytes an entry (§7.5.4) */
		if (buf_printf(o, "%010zu 00000 n \n", f->offs[k]) < 0)
			return -1;
	if (buf_printf(o, "trailer\n<</Size %d/Root %d 0 R>>\nstartxref\n%zu\n%%%%EOF\n", n,
		       OBJ_CATALOG, xref) < 0)
		return -1;
	return fo_fits(f);
}

/* ---- page encoding ----------------------------------------------------- */

/* One row of 3-channel pixels as one channel into d; false at the first
 * coloured pixel. White runs (most of a text page) go 8 pixels, 24 bytes,
 * at a time. */
static bool gray_row(const unsigned char *p, int w, unsigned char *d)
{
	int x = 0;

	for (; x + 8 <= w; x += 8, p += 24, d += 8) {
		uint64_t a, b, c;

		memcpy(&a, p, 8);
		memcpy(&b, p + 8, 8);
		memcpy(&c, p + 16, 8);
		if ((a & b & c) == UINT64_MAX) {
			memset(d, 0xff, 8);
			continue;
		}
		for (int k = 0; k < 8; k++) {
			const unsigned char *q = p + 3 * k;

			if (q[0] != q[1] || q[1] != q[2])
				return false;
			d[k] = q[0];
		}
	}
	for (; x < w; x++, p += 3, d++) {
		if (p[0] != p[1] || p[1] != p[2])
			return false;
		*d = p[0];
	}
	return true;
}

/* Run-length encode (ISO 32000-1 §7.4.5: a length byte L, then L + 1
 * literal bytes (L < 128), or one byte repeated 257 - L times (L > 128);
 * 128 ends the data) of in into out, which holds n + n / 128 + 2 bytes.
 * Its length. */
static size_t rle_encode(const unsigned char *in, size_t n, unsigned char *out)
{
	size_t i = 0, o = 0;

	while (i < n) {
		uint64_t pat = in[i] * UINT64_C(0x0101010101010101), w;
		size_t j = i; /* in[i] compares equal to itself: a run of 1+ */
#if defined(__SSE2__)
		__m128i pv = _mm_set1_epi8((char)in[i]);

		for (unsigned m; j + 16 <= n && j - i + 16 <= 128; j += 16) {
			m = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(
				_mm_loadu_si128((const __m128i *)(const void *)(in + j)), pv));
			if (m != 0xFFFF) {
				j += (size_t)__builtin_ctz(~m);
				goto ended;
			}
		}
#endif
		while (j + 8 <= n && j - i + 8 <= 128 && (memcpy(&w, in + j, 8), w == pat))
			j += 8;
		while (j < n && j - i < 128 && in[j] == in[i])
			j++;
#if defined(__SSE2__)
ended:
#endif
		if (j - i >= 3) {
			out[o++] = (unsigned char)(257 - (j - i));
			out[o++] = in[i];
			i = j;
			continue;
		}
		for (j = i; j < n && j - i < 128; j++)
			if (j + 2 < n && in[j] == in[j + 1] && in[j] == in[j + 2])
				break;
		out[o++] = (unsigned char)(j - i - 1);
		memcpy(out + o, in + i, j - i);
		o += j - i;
		i = j;
	}
	out[o++] = 128;
	return o;
}

/* f->gray holds n bytes (reused across pages); -1 when out of memory. */
static int gray_room(flat_out_t *f, size_t n)
{
	if (n <= f->gray_cap)
		return 0;
	free(f->gray);
	f->gray_cap = 0;
	if (!(f->gray = malloc(n)))
		return -1;
	f->gray_cap = n;
	return 0;
}

/* The n bytes of one channel in `gray`, run-length encoded, then
 * zlib-wrapped deflate at level 1 by libdeflate (lossless, crisp text),
 * into f->enc. */
static int encode_gray_bytes(flat_out_t *f, const unsigned char *gray, size_t n)
{
	size_t zlen;

	if (n + n / 128 + 2 > f->rle_cap) {
		free(f->rle);
		f->rle_cap = 0;
		if (!(f->rle = malloc(n + n / 128 + 2)))
			return -1;
		f->rle_cap = n + n / 128 + 2;
	}
	n = rle_encode(gray, n, f->rle);
	if (buf_reserve(&f->enc, libdeflate_zlib_compress_bound(f->z, n)) < 0)
		return -1;
	zlen = libdeflate_zlib_compress(f->z, f->rle, n, f->enc.data, f->enc.cap);
	f->enc.len = zlen;
	f->enc.data[zlen] = '\0';
	return zlen ? 0 : -1;
}

/* An RGB page that is gray after all (R = G = B everywhere): one channel,
 * encoded as encode_gray_bytes. One pass both checks and converts; *gray
 * is false (nothing written) at the first coloured pixel. */
static int encode_gray(flat_out_t *f, const fz_pixmap *pix, bool *gray)
{
	size_t n = (size_t)pix->w * (size_t)pix->h;

	*gray = true;
	if (gray_room(f, n) < 0)
		return -1;
	for (int y = 0; y < pix->h && *gray; y++)
		*gray = gray_row(pix->samples + (size_t)y * (size_t)pix->stride, pix->w,
				 f->gray + (size_t)y * (size_t)pix->w);
	return *gray ? encode_gray_bytes(f, f->gray, n) : 0;
}

/* Encode a rendered page into f->enc: a one-channel pixmap (a page that
 * uses no colour, rendered gray) as gray; an RGB one as gray when it is
 * gray after all, else as JPEG. */
static int pixmap_encode(flat_out_t *f, fz_pixmap *pix, int quality, page_img_t *pi)
{
	size_t w = (size_t)pix->w;
	int rc;

	pi->w = pix->w;
	pi->h = pix->h;
	buf_reset(&f->enc);
	if (pix->n == 1) {
		pi->gray = true;
		if ((size_t)pix->stride == w)
			return encode_gray_bytes(f, pix->samples, w * (size_t)pix->h);
		if (gray_room(f, w * (size_t)pix->h) < 0)
			return -1;
		for (int y = 0; y < pix->h; y++)
			memcpy(f->gray + (size_t)y * w, pix->samples + (size_t)y * (size_t)pix->stride, w);
		return encode_gray_bytes(f, f->gray, w * (size_t)pix->h);
	}
	rc = encode_gray(f, pix, &pi->gray);
	if (rc == 0 && !pi->gray)
		rc = cdr_jpeg_encode(pix->samples, pix->w, pix->h, 3, (size_t)pix->stride, quality, &f->enc);
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

/* Why a page could not be flattened. */
typedef enum {
	PAGE_DONE,   /* appended to the output */
	PAGE_BROKEN, /* MuPDF could not render it */
	PAGE_MEMORY, /* out of memory: the worker's address space is the limit */
	PAGE_BYTES,  /* pdf_flatten_bytes_max */
	PAGE_OUTPUT, /* cdr_output_max */
} page_status_t;

/* The page as a pixmap at zoom: interpreted once into a display list
 * through MuPDF's test device, then rendered from the list in gray when the
 * page uses no colour (exactly: threshold 0; images and shadings are
 * looked at pixel by pixel), else in RGB. A gray render paints one channel
 * instead of three and needs no gray check afterwards. Throws as MuPDF
 * does. */
static fz_pixmap *render_list(fz_context *ctx, fz_page *page, float zoom)
{
	fz_display_list *list = NULL;
	fz_device *test = NULL, *ld = NULL;
	fz_pixmap *pix = NULL;
	int color = 2;

	fz_var(list);
	fz_var(test);
	fz_var(ld);
	fz_var(pix);
	fz_try(ctx) {
		list = fz_new_display_list(ctx, fz_bound_page(ctx, page));
		ld = fz_new_list_device(ctx, list);
		test = fz_new_test_device(ctx, &color, 0.0f,
					  FZ_TEST_OPT_IMAGES | FZ_TEST_OPT_SHADINGS, ld);
		fz_run_page(ctx, page, test, fz_identity, NULL);
		fz_close_device(ctx, test);
		fz_close_device(ctx, ld);
		pix = fz_new_pixmap_from_display_list(ctx, list, fz_scale(zoom, zoom),
						      color == 0 ? fz_device_gray(ctx)
								 : fz_device_rgb(ctx), 0);
	}
	fz_always(ctx) {
		fz_drop_device(ctx, test);
		fz_drop_device(ctx, ld);
		fz_drop_display_list(ctx, list);
	}
	fz_catch(ctx)
		fz_rethrow(ctx);
	return pix;
}

/* Render page i of the source into f->enc; *w, *h its size in points. */
static page_status_t render_page(pdf_job_t *pj, flat_out_t *f, int i, page_img_t *pi, float *w,
				 float *h, bool *lowered)
{
	fz_context *ctx = pj->ctx;
	fz_page *page = NULL;
	fz_pixmap *pix = NULL;
	volatile page_status_t rc = PAGE_DONE;
	volatile bool low = false;
	volatile float pw = 1, ph = 1;

	fz_var(page);
	fz_var(pix);
	fz_try(ctx) {
		bool l = false;
		float zoom;
		fz_rect r;

		page = fz_load_page(ctx, (fz_document *)pj->doc, i);
		r = fz_bound_page(ctx, page);
		zoom = page_zoom(pj, r, &l);
		low = l;
		pw = fmaxf(r.x1 - r.x0, 1);
		ph = fmaxf(r.y1 - r.y0, 1);
		pix = render_list(ctx, page, zoom);
		if (pixmap_encode(f, pix, (int)cfg_int(pj->job->cfg, CFG_IMAGE_JPEG_QUALITY), pi) < 0)
			fz_throw(ctx, FZ_ERROR_MEMORY, "image");
	}
	fz_always(ctx) {
		fz_drop_pixmap(ctx, pix);
		fz_drop_page(ctx, page);
	}
	fz_catch(ctx)
		rc = fz_caught(ctx) == FZ_ERROR_MEMORY ? PAGE_MEMORY : PAGE_BROKEN;
	*w = pw;
	*h = ph;
	*lowered = low;
	return rc;
}

/* Render page i of the source and append it to the output. */
static page_status_t flatten_page(pdf_job_t *pj, flat_out_t *f, int i, int *lowered_count)
{
	page_img_t pi = { 0 };
	float w = 1, h = 1;
	bool lowered = false;
	page_status_t rc = render_page(pj, f, i, &pi, &w, &h, &lowered);

	*lowered_count += lowered;
	if (rc != PAGE_DONE)
		return rc;
	pj->flat_bytes += f->enc.len;
	if (pj->flat_bytes > (size_t)lim(pj->job->lim, LIM_PDF_FLATTEN_BYTES))
		return PAGE_BYTES;
	if (fo_page(f, &pi, w, h) < 0)
		return f->out->capped ? PAGE_OUTPUT : PAGE_MEMORY;
	return PAGE_DONE;
}

/* Block with the true reason of a page that could not be flattened. */
static void flatten_failed(cdr_result_t *res, page_status_t why, int i)
{
	if (why == PAGE_MEMORY)
		cdr_block(res, "limit:worker_memory_max: page %d needs more memory", i + 1);
	else if (why == PAGE_BYTES)
		cdr_block(res, "limit:pdf_flatten_bytes_max: page %d", i + 1);
	else if (why == PAGE_OUTPUT)
		cdr_block(res, "limit:cdr_output_max");
	else
		cdr_block(res, "broken: PDF page %d could not be rendered", i + 1);
}

int cdr_pdf_flatten(pdf_job_t *pj)
{
	flat_out_t f;
	int lowered = 0, rc = 0, dpi = (int)cfg_int(pj->job->cfg, CFG_PDF_DPI);
	page_status_t st;

	if (fo_begin(&f, &pj->res->out, (size_t)lim(pj->job->lim, LIM_PDF_FLATTEN_BYTES),
		     pj->res->pages) < 0) {
		rc = pj->res->out.capped ? cdr_block(pj->res, "limit:cdr_output_max") : -1;
		goto out;
	}
	if (pj->job->spill && pj->job->spill_res == pj->res) {
		f.spill = pj->job->spill;
		f.spilled = &pj->res->spilled;
	}
	for (int i = 0; i < pj->res->pages && cdr_pending(pj->res); i++) {
		if (cdr_timed_out(pj->job))
			cdr_block(pj->res, "limit:cdr_time_max");
		else if ((st = flatten_page(pj, &f, i, &lowered)) != PAGE_DONE)
			flatten_failed(pj->res, st, i);
	}
	if (cdr_pending(pj->res) && fo_end(&f) < 0) {
		rc = pj->res->out.capped ? cdr_block(pj->res, "limit:cdr_output_max") : -1;
		goto out;
	}
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
	fo_free(&f);
	return rc;
}

/* ---- multi-page TIFF → PDF -------------------------------------------- */

/* TIFF page k encoded into f->enc (RGB without alpha, then the same
 * encoding as flattened pages); *w, *h get its size in points. */
static void tiff_page(fz_context *ctx, flat_out_t *f, const unsigned char *in, size_t len, int k,
		      int quality, page_img_t *pi, float *w, float *h)
{
	fz_pixmap *pix = NULL, *rgb = NULL;

	fz_var(pix);
	fz_var(rgb);
	fz_try(ctx) {
		pix = fz_load_tiff_subimage(ctx, in, len, k);
		rgb = fz_convert_pixmap(ctx, pix, fz_device_rgb(ctx), NULL, NULL, fz_default_color_params, 0);
		*w = (float)rgb->w * 72.0f / (float)(pix->xres > 0 ? pix->xres : 72);
		*h = (float)rgb->h * 72.0f / (float)(pix->yres > 0 ? pix->yres : 72);
		if (pixmap_encode(f, rgb, quality, pi) < 0)
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

/* Decode page k into f->enc: 0, or -1 when it could not be decoded. */
static int tiff_decode(cdr_job_t *job, fz_context *ctx, flat_out_t *f, const unsigned char *in,
		       size_t len, int k, page_img_t *pi, float *w, float *h)
{
	volatile int rc = 0;

	fz_try(ctx)
		tiff_page(ctx, f, in, len, k, (int)cfg_int(job->cfg, CFG_IMAGE_JPEG_QUALITY), pi, w, h);
	fz_catch(ctx)
		rc = -1;
	return rc;
}

static int tiff_pages_into(cdr_job_t *job, fz_context *ctx, flat_out_t *f,
			   const unsigned char *in, size_t len, int pages, cdr_result_t *res)
{
	size_t bytes = 0;
	int kept = 0, big = 0;

	for (int k = 0; k < pages; k++) {
		page_img_t pi = { 0 };
		float w = 1, h = 1;
		bool ok;
		int fits;

		if (cdr_timed_out(job))
			return cdr_block(res, "limit:cdr_time_max");
		if ((fits = tiff_page_fits(job, in, len, k, pages, res)) <= 0) {
			if (fits < 0)
				return -1;
			big++;
			continue;
		}
		ok = tiff_decode(job, ctx, f, in, len, k, &pi, &w, &h) == 0;
		if (ok && (bytes += f->enc.len) > (size_t)lim(job->lim, LIM_PDF_FLATTEN_BYTES))
			return cdr_block(res, "limit:pdf_flatten_bytes_max: TIFF page %d", k + 1);
		if (ok && fo_page(f, &pi, fmaxf(w, 1), fmaxf(h, 1)) < 0)
			return res->out.capped ? cdr_block(res, "limit:cdr_output_max") : -1;
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
	flat_out_t f;
	int rc = -1;

	if (!ctx)
		return -1;
	if (fo_begin(&f, &res->out, (size_t)lim(job->lim, LIM_PDF_FLATTEN_BYTES), pages) < 0) {
		rc = res->out.capped ? cdr_block(res, "limit:cdr_output_max") : -1;
		goto out;
	}
	rc = tiff_pages_into(job, ctx, &f, in, len, pages, res);
	if (rc < 0 || !cdr_pending(res))
		goto out;
	if (fo_end(&f) < 0) {
		rc = res->out.capped ? cdr_block(res, "limit:cdr_output_max") : -1;
		goto out;
	}
	cdr_done(res, "pdf");
	rc = cdr_action(res, "tiff-pages-to-pdf: %d of %d pages", res->pages, pages);
out:
	fo_free(&f);
	fz_drop_context(ctx);
	return rc;
}
