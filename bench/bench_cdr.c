/*
 * bench_cdr.c — file CDR throughput: flatten pages/s at pdf_dpi (150) on
 * generated text pages and image pages, rebuild MB/s, and in the same run
 * MuPDF's render-only time for the same pages at the same resolution (the
 * ceiling flatten cannot beat), plus peak RSS after each stage.
 *
 *   bench_cdr [PAGES]     (default 100)
 *
 * SECURITY: benchmark harness only; trusted generated input.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include <mupdf/fitz.h>
#include <mupdf/pdf.h>

#include "cdr/cdr.h"

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static long rss_mb(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_maxrss / 1024;
}

static void text_page(fz_context *ctx, pdf_document *doc, pdf_obj *font, int n)
{
	fz_buffer *c = fz_new_buffer(ctx, 8192);
	pdf_obj *res = pdf_new_dict(ctx, doc, 1), *page;

	pdf_dict_puts(ctx, pdf_dict_put_dict(ctx, res, PDF_NAME(Font), 1), "F1", font);
	fz_append_string(ctx, c, "BT /F1 10 Tf 12 TL 56 780 Td\n");
	for (int l = 0; l < 60; l++)
		fz_append_printf(ctx, c, "(Page %d line %d: the quick brown fox jumps over the lazy dog 0123456789) '\n", n, l);
	fz_append_string(ctx, c, "ET\n");
	page = pdf_add_page(ctx, doc, fz_make_rect(0, 0, 595, 842), 0, res, c);
	pdf_insert_page(ctx, doc, -1, page);
	pdf_drop_obj(ctx, page);
	pdf_drop_obj(ctx, res);
	fz_drop_buffer(ctx, c);
}

static void image_page(fz_context *ctx, pdf_document *doc, pdf_obj *img)
{
	fz_buffer *c = fz_new_buffer(ctx, 64);
	pdf_obj *res = pdf_new_dict(ctx, doc, 1), *page;

	pdf_dict_puts(ctx, pdf_dict_put_dict(ctx, res, PDF_NAME(XObject), 1), "Im0", img);
	fz_append_string(ctx, c, "q 595 0 0 842 0 0 cm /Im0 Do Q\n");
	page = pdf_add_page(ctx, doc, fz_make_rect(0, 0, 595, 842), 0, res, c);
	pdf_insert_page(ctx, doc, -1, page);
	pdf_drop_obj(ctx, page);
	pdf_drop_obj(ctx, res);
	fz_drop_buffer(ctx, c);
}

/* An 800×1130 photo-like RGB image (smooth gradients plus noise). */
static pdf_obj *make_image(fz_context *ctx, pdf_document *doc)
{
	fz_pixmap *pix = fz_new_pixmap(ctx, fz_device_rgb(ctx), 800, 1130, NULL, 0);
	unsigned seed = 1;
	fz_image *im;
	pdf_obj *ref;

	for (int y = 0; y < pix->h; y++)
		for (int x = 0; x < pix->w; x++) {
			unsigned char *p = pix->samples + y * pix->stride + x * 3;
			seed = seed * 1103515245 + 12345;
			p[0] = (unsigned char)(x / 4 + (seed >> 28));
			p[1] = (unsigned char)(y / 5 + (seed >> 27 & 7));
			p[2] = (unsigned char)((x + y) / 8);
		}
	im = fz_new_image_from_pixmap(ctx, pix, NULL);
	ref = pdf_add_image(ctx, doc, im);
	fz_drop_image(ctx, im);
	fz_drop_pixmap(ctx, pix);
	return ref;
}

static buf_t make_pdf(fz_context *ctx, int pages, int images)
{
	pdf_document *doc = pdf_create_document(ctx);
	pdf_obj *font = pdf_add_simple_font(ctx, doc, fz_new_base14_font(ctx, "Helvetica"), 0);
	pdf_obj *img = images ? make_image(ctx, doc) : NULL;
	fz_buffer *b = fz_new_buffer(ctx, 1 << 20);
	fz_output *o = fz_new_output_with_buffer(ctx, b);
	pdf_write_options opts = pdf_default_write_options;
	buf_t out;

	for (int i = 0; i < pages; i++)
		images ? image_page(ctx, doc, img) : text_page(ctx, doc, font, i);
	opts.do_compress = 1;
	pdf_write_document(ctx, doc, o, &opts);
	fz_close_output(ctx, o);
	buf_init(&out, (size_t)1 << 31);
	if (buf_append(&out, b->data, b->len) < 0)
		abort();
	fz_drop_output(ctx, o);
	fz_drop_buffer(ctx, b);
	pdf_drop_obj(ctx, img);
	pdf_drop_obj(ctx, font);
	pdf_drop_document(ctx, doc);
	return out;
}

/* MuPDF render-only: every page to an RGB pixmap at dpi, dropped at once. */
static double render_only(const buf_t *pdf, int dpi)
{
	fz_context *ctx = fz_new_context(NULL, NULL, 64u << 20);
	fz_stream *stm = fz_open_memory(ctx, (const unsigned char *)pdf->data, pdf->len);
	pdf_document *doc = pdf_open_document_with_stream(ctx, stm);
	double t0 = now();
	int n = pdf_count_pages(ctx, doc);

	for (int i = 0; i < n; i++) {
		fz_page *p = fz_load_page(ctx, (fz_document *)doc, i);
		fz_pixmap *pix = fz_new_pixmap_from_page(ctx, p, fz_scale(dpi / 72.0f, dpi / 72.0f),
							 fz_device_rgb(ctx), 0);
		fz_drop_pixmap(ctx, pix);
		fz_drop_page(ctx, p);
	}
	t0 = now() - t0;
	pdf_drop_document(ctx, doc);
	fz_drop_stream(ctx, stm);
	fz_drop_context(ctx);
	return t0;
}

static double sanitize(const cfg_t *cfg, const buf_t *pdf, cdr_mode_t mode, size_t *out_len)
{
	cdr_result_t r;
	double t0 = now();

	if (cdr_sanitize(cfg, "b.pdf", pdf->data, pdf->len, mode, &r) < 0 || r.verdict != CDR_SANITIZED) {
		fprintf(stderr, "bench_cdr: not sanitized: %s\n", r.reason);
		exit(1);
	}
	t0 = now() - t0;
	*out_len = r.out.len;
	cdr_result_free(&r);
	return t0;
}

static void bench_kind(fz_context *ctx, const cfg_t *cfg, const char *kind, int pages, int images)
{
	buf_t pdf = make_pdf(ctx, pages, images);
	int dpi = (int)cfg_int(cfg, CFG_PDF_DPI);
	size_t out = 0;
	double r = render_only(&pdf, dpi);
	double f = sanitize(cfg, &pdf, CDR_MODE_FLATTEN, &out);
	long rss = rss_mb();
	double b = sanitize(cfg, &pdf, CDR_MODE_REBUILD, &out);

	printf("cdr %-5s pages=%d in=%.1fMB  flatten %.1f pages/s (%.1f ms/page)  "
	       "render-only %.1f pages/s  ratio %.2fx  peak-rss %ld MB\n",
	       kind, pages, (double)pdf.len / 1e6, pages / f, 1000 * f / pages, pages / r, f / r, rss);
	printf("cdr %-5s rebuild %.1f MB/s (%.1f ms)  out=%.1fMB\n", kind,
	       (double)pdf.len / 1e6 / b, 1000 * b, (double)out / 1e6);
	buf_free(&pdf);
}

int main(int argc, char **argv)
{
	int pages = argc > 1 ? atoi(argv[1]) : 100;
	fz_context *ctx = fz_new_context(NULL, NULL, FZ_STORE_DEFAULT);
	cfg_t cfg;
	char err[128];

	if (!ctx || cfg_init(&cfg) < 0 || cfg_set(&cfg, "pdf_pages_max", "100000", err, sizeof(err)) < 0)
		return 1;
	fz_set_warning_callback(ctx, NULL, NULL);
	bench_kind(ctx, &cfg, "text", pages, 0);
	bench_kind(ctx, &cfg, "image", pages, 1);
	bench_kind(ctx, &cfg, "text", pages * 4, 0);
	printf("cdr peak RSS after %d-page run: %ld MB (target < 256 MB, flat in page count)\n",
	       pages * 4, rss_mb());
	cfg_free(&cfg);
	fz_drop_context(ctx);
	return 0;
}
