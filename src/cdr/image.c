/*
 * image.c — image CDR: PNG, JPEG, GIF, BMP and TIFF are decoded and
 * re-encoded from pixels only (all metadata, comments, ICC/EXIF/XMP
 * segments, trailing data and extra GIF frames are dropped). JPEG stays
 * JPEG (libjpeg, image_jpeg_quality); everything else becomes PNG (MuPDF),
 * except a multi-page TIFF, which becomes a PDF with one image page per
 * TIFF page (pdf_flatten.c: cdr_tiff_pdf), each page's declared size checked
 * before it is decoded (an oversized page is left out and listed).
 *
 * The declared width and height are read from the header by our own code
 * and checked against image_pixels_max BEFORE MuPDF allocates anything;
 * MuPDF's own idea of the size is checked again before decoding pixels.
 *
 * Specs: PNG (ISO/IEC 15948) IHDR; JPEG (ITU T.81) SOFn markers; GIF89a
 * logical screen descriptor; BMP BITMAPINFOHEADER/BITMAPCOREHEADER; TIFF 6.0
 * IFD tags 256/257.
 *
 * SECURITY: runs in the sanitizer worker on hostile bytes; decoders read
 * from memory only. Limit: image_pixels_max.
 */
#include "cdr/cdr_int.h"

#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jpeglib.h>

#include <mupdf/fitz.h>

static unsigned long be16(const unsigned char *p) { return (unsigned long)p[0] << 8 | p[1]; }
static unsigned long be32(const unsigned char *p) { return be16(p) << 16 | be16(p + 2); }
static unsigned long le16(const unsigned char *p) { return (unsigned long)p[1] << 8 | p[0]; }
static unsigned long le32(const unsigned char *p) { return le16(p + 2) << 16 | le16(p); }

static int dims_jpeg(const unsigned char *in, size_t len, unsigned long *w, unsigned long *h)
{
	size_t i = 2;

	while (i + 4 <= len) {
		unsigned m;

		if (in[i] != 0xff)
			return -1;
		while (i < len && in[i] == 0xff)
			i++;
		if (i >= len)
			return -1;
		m = in[i++];
		if (m == 0x01 || (m >= 0xd0 && m <= 0xd7))
			continue;
		if (m == 0xd9 || m == 0xda || i + 2 > len)
			return -1; /* EOI or scan before any frame header */
		if (m >= 0xc0 && m <= 0xcf && m != 0xc4 && m != 0xc8 && m != 0xcc) {
			if (i + 7 > len)
				return -1;
			*h = be16(in + i + 3);
			*w = be16(in + i + 5);
			return 0;
		}
		i += be16(in + i);
	}
	return -1;
}

static int dims_bmp(const unsigned char *in, size_t len, unsigned long *w, unsigned long *h)
{
	unsigned long hs;
	long sh;

	if (len < 26)
		return -1;
	hs = le32(in + 14);
	if (hs == 12) {
		*w = le16(in + 18), *h = le16(in + 20);
		return 0;
	}
	if (hs < 40 || len < 26)
		return -1;
	*w = le32(in + 18);
	sh = (long)(int32_t)le32(in + 22);
	*h = (unsigned long)(sh < 0 ? -sh : sh);
	return (int32_t)*w < 0 ? -1 : 0;
}

/* Width and height of the IFD at off; *next gets the next IFD's offset. */
static int dims_ifd(const unsigned char *in, size_t len, unsigned long off, unsigned long *w,
		    unsigned long *h, unsigned long *next)
{
	bool le = in[0] == 'I';
	unsigned long (*u16)(const unsigned char *) = le ? le16 : be16;
	unsigned long (*u32)(const unsigned char *) = le ? le32 : be32;
	unsigned long n;

	*w = *h = *next = 0;
	if (off < 8 || off + 2 > len)
		return -1;
	n = u16(in + off);
	for (unsigned long i = 0; i < n && off + 2 + i * 12 + 12 <= len; i++) {
		const unsigned char *e = in + off + 2 + i * 12;
		unsigned long tag = u16(e), v = u16(e + 2) == 3 ? u16(e + 8) : u32(e + 8);

		if (tag == 256)
			*w = v;
		else if (tag == 257)
			*h = v;
	}
	if (off + 2 + n * 12 + 4 <= len)
		*next = u32(in + off + 2 + n * 12);
	return *w && *h ? 0 : -1;
}

static int dims_tiff(const unsigned char *in, size_t len, unsigned long *w, unsigned long *h)
{
	unsigned long next;

	return len >= 8 ? dims_ifd(in, len, (in[0] == 'I' ? le32 : be32)(in + 4), w, h, &next) : -1;
}

/* Pages of a TIFF: follows the IFD chain (at most max + 1 steps, so a loop
 * ends), reading every page's declared size. Returns the count, 0 when a
 * page is unreadable. Sizes are checked page by page (cdr_tiff_page_dims):
 * one oversized page costs that page only. */
static int tiff_pages(const unsigned char *in, size_t len, int max)
{
	unsigned long off = len >= 8 ? (in[0] == 'I' ? le32 : be32)(in + 4) : 0, w, h;
	int n = 0;

	while (off && n <= max) {
		if (dims_ifd(in, len, off, &w, &h, &off) < 0)
			return 0;
		n++;
	}
	return n;
}

int cdr_tiff_page_dims(const unsigned char *in, size_t len, int k, unsigned long *w,
		       unsigned long *h)
{
	unsigned long off = len >= 8 ? (in[0] == 'I' ? le32 : be32)(in + 4) : 0;

	for (int i = 0; off; i++) {
		if (dims_ifd(in, len, off, w, h, &off) < 0)
			return -1;
		if (i == k)
			return 0;
	}
	return -1;
}

int cdr_image_dims(const unsigned char *in, size_t len, cdr_kind_t kind, unsigned long *w,
		   unsigned long *h)
{
	switch (kind) {
	case CT_PNG:
		if (len < 24 || memcmp(in + 12, "IHDR", 4) != 0)
			return -1;
		*w = be32(in + 16), *h = be32(in + 20);
		return 0;
	case CT_JPEG: return dims_jpeg(in, len, w, h);
	case CT_GIF:
		if (len < 10)
			return -1;
		*w = le16(in + 6), *h = le16(in + 8);
		return 0;
	case CT_BMP: return dims_bmp(in, len, w, h);
	case CT_TIFF: return dims_tiff(in, len, w, h);
	default: return -1;
	}
}

/* ---- JPEG encoder (libjpeg) ---------------------------------------------- */

typedef struct jerr {
	struct jpeg_error_mgr mgr;
	jmp_buf jmp;
} jerr_t;

static void jpeg_fail(j_common_ptr c)
{
	longjmp(((jerr_t *)c->err)->jmp, 1);
}

static void jpeg_silent(j_common_ptr c, int level)
{
	(void)c;
	(void)level;
}

/* Encode 8-bit gray or RGB samples (no alpha). */
int cdr_jpeg_encode(const unsigned char *px, int w, int h, int n, size_t stride, int quality,
		       buf_t *out)
{
	struct jpeg_compress_struct c;
	jerr_t err;
	unsigned char *mem = NULL;
	unsigned long size = 0;
	volatile int rc = -1;

	c.err = jpeg_std_error(&err.mgr);
	err.mgr.error_exit = jpeg_fail;
	err.mgr.emit_message = jpeg_silent;
	jpeg_create_compress(&c);
	if (setjmp(err.jmp))
		goto out;
	jpeg_mem_dest(&c, &mem, &size);
	c.image_width = (JDIMENSION)w;
	c.image_height = (JDIMENSION)h;
	c.input_components = n;
	c.in_color_space = n == 1 ? JCS_GRAYSCALE : JCS_RGB;
	jpeg_set_defaults(&c);
	jpeg_set_quality(&c, quality, TRUE);
	jpeg_start_compress(&c, TRUE);
	while (c.next_scanline < c.image_height) {
		JSAMPROW row = (JSAMPROW)(px + (size_t)c.next_scanline * stride);
		jpeg_write_scanlines(&c, &row, 1);
	}
	jpeg_finish_compress(&c);
	rc = buf_append(out, mem, size);
out:
	jpeg_destroy_compress(&c);
	free(mem);
	return rc;
}

/* ---- decode and re-encode (MuPDF) ---------------------------------------- */

static void quiet(void *user, const char *msg)
{
	(void)user;
	(void)msg;
}

/* Pixmap in gray or RGB (alpha kept only for PNG output). */
static fz_pixmap *decode(fz_context *ctx, const unsigned char *in, size_t len, long long maxpix,
			 bool jpeg_out)
{
	fz_buffer *b = NULL;
	fz_image *img = NULL;
	fz_pixmap *pix = NULL, *conv = NULL;

	fz_var(b);
	fz_var(img);
	fz_var(pix);
	fz_try(ctx) {
		b = fz_new_buffer_from_copied_data(ctx, in, len);
		img = fz_new_image_from_buffer(ctx, b);
		if (img->w <= 0 || img->h <= 0 || (long long)img->w * img->h > maxpix)
			fz_throw(ctx, FZ_ERROR_GENERIC, "too large");
		pix = fz_get_pixmap_from_image(ctx, img, NULL, NULL, NULL, NULL);
		if (pix->n - pix->alpha != 1 && pix->n - pix->alpha != 3) {
			conv = fz_convert_pixmap(ctx, pix, fz_device_rgb(ctx), NULL, NULL,
						 fz_default_color_params, !jpeg_out);
			fz_drop_pixmap(ctx, pix);
			pix = conv;
		}
	}
	fz_always(ctx) {
		fz_drop_image(ctx, img);
		fz_drop_buffer(ctx, b);
	}
	fz_catch(ctx) {
		fz_drop_pixmap(ctx, pix);
		pix = NULL;
	}
	return pix;
}

static int encode_png(fz_context *ctx, fz_pixmap *pix, buf_t *out)
{
	fz_buffer *b = NULL;
	volatile int rc = 0;

	fz_var(b);
	fz_try(ctx)
		b = fz_new_buffer_from_pixmap_as_png(ctx, pix, fz_default_color_params);
	fz_catch(ctx)
		rc = -1;
	if (rc == 0 && buf_append(out, b->data, b->len) < 0)
		rc = -1;
	fz_drop_buffer(ctx, b);
	return rc;
}

/* JPEG needs no alpha: flatten it away by dropping the channel. */
static fz_pixmap *no_alpha(fz_context *ctx, fz_pixmap *src)
{
	fz_pixmap *volatile conv = NULL;
	fz_pixmap *const pix = src;
	fz_colorspace *cs;

	if (!pix->alpha)
		return pix;
	cs = pix->n - 1 == 1 ? fz_device_gray(ctx) : fz_device_rgb(ctx);
	fz_try(ctx)
		conv = fz_convert_pixmap(ctx, pix, cs, NULL, NULL, fz_default_color_params, 0);
	fz_catch(ctx)
		conv = NULL;
	fz_drop_pixmap(ctx, pix);
	return conv;
}

static int reencode(cdr_job_t *job, fz_context *ctx, cdr_kind_t kind, const unsigned char *in,
		    size_t len, cdr_result_t *res)
{
	bool jpeg = kind == CT_JPEG;
	fz_pixmap *pix = decode(ctx, in, len, lim(job->lim, LIM_IMAGE_PIXELS), jpeg);
	int rc;

	if (pix && jpeg)
		pix = no_alpha(ctx, pix);
	if (!pix)
		return cdr_block(res, "broken: image cannot be decoded");
	if (jpeg)
		rc = cdr_jpeg_encode(pix->samples, pix->w, pix->h, pix->n, (size_t)pix->stride,
				 (int)cfg_int(job->cfg, CFG_IMAGE_JPEG_QUALITY), &res->out);
	else
		rc = encode_png(ctx, pix, &res->out);
	fz_drop_pixmap(ctx, pix);
	if (rc < 0)
		return res->out.capped ? cdr_block(res, "limit:cdr_output_max") : -1;
	return cdr_done(res, jpeg ? "jpeg" : "png");
}

int cdr_image_reencode(cdr_job_t *job, cdr_kind_t kind, const unsigned char *in, size_t len,
		       cdr_result_t *res)
{
	unsigned long w = 0, h = 0;
	fz_context *ctx;
	int rc;

	cdr_result_init(res, job, len);
	if (cdr_image_dims(in, len, kind, &w, &h) < 0 || w == 0 || h == 0)
		return cdr_block(res, "broken: image header unreadable");
	if ((unsigned long long)w * h > (unsigned long long)lim(job->lim, LIM_IMAGE_PIXELS))
		return cdr_block(res, "limit:image_pixels_max: %lux%lu", w, h);
	ctx = fz_new_context(NULL, NULL, 32u << 20);
	if (!ctx)
		return -1;
	fz_set_warning_callback(ctx, quiet, NULL);
	fz_set_error_callback(ctx, quiet, NULL);
	rc = reencode(job, ctx, kind, in, len, res);
	fz_drop_context(ctx);
	return rc;
}

int cdr_image(cdr_job_t *job, const unsigned char *in, size_t len, cdr_result_t *res)
{
	const char *type;
	cdr_kind_t kind = cdr_sniff(in, len, &type);
	cdr_result_t r;
	int rc, pages = 1;

	if (kind == CT_TIFF) {
		/* a multi-page TIFF (a scanned FAX) becomes a PDF of its pages */
		pages = tiff_pages(in, len, lim(job->lim, LIM_PDF_PAGES));
		if (pages > lim(job->lim, LIM_PDF_PAGES))
			return cdr_block(res, "limit:pdf_pages_max: TIFF with more than %lld pages",
					 lim(job->lim, LIM_PDF_PAGES));
		if (pages > 1)
			return cdr_tiff_pdf(job, in, len, pages, res);
	}
	rc = cdr_image_reencode(job, kind, in, len, &r);

	if (rc == 0 && r.verdict == CDR_SANITIZED) {
		buf_free(&res->out);
		res->out = r.out;
		buf_init(&r.out, 0);
		cdr_done(res, r.out_type);
		rc = cdr_action(res, "image-reencoded: %s as %s, metadata dropped", type, r.out_type);
	} else if (rc == 0) {
		cdr_block(res, "%s", r.reason);
	}
	cdr_result_free(&r);
	return rc;
}
