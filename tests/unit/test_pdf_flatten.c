/* test_pdf_flatten.c — PDF flatten written page by page (src/cdr/pdf_flatten.c):
 * the memory a flatten needs beyond MuPDF's own render-only of the same file
 * and beyond the output buffer itself does not grow with the page count
 * (25 and 250 text pages, each run in a child process, peak RSS by wait4),
 * and a flattened PDF opens again in MuPDF with every page at its size.
 * Skipped under AddressSanitizer (its shadow memory is not the program's). */
#include "testutil.h"
#include <sys/resource.h>
#include <sys/wait.h>
#include <mupdf/fitz.h>
#include <mupdf/pdf.h>
#include "cdr/cdr.h"

static cfg_t cfg;

static int setup(void **state)
{
	char err[128];

	(void)state;
	return cfg_init(&cfg) < 0 || cfg_set(&cfg, "pdf_pages_max", "100000", err, sizeof(err)) < 0;
}

static int teardown(void **state)
{
	(void)state;
	cfg_free(&cfg);
	return 0;
}

/* A PDF of n A4 text pages (60 lines each), in memory. */
static buf_t text_pdf(int n)
{
	fz_context *ctx = fz_new_context(NULL, NULL, FZ_STORE_DEFAULT);
	pdf_document *doc = pdf_create_document(ctx);
	fz_font *helv = fz_new_base14_font(ctx, "Helvetica");
	pdf_obj *font = pdf_add_simple_font(ctx, doc, helv, 0);
	fz_buffer *b = fz_new_buffer(ctx, 1 << 16);
	fz_output *o = fz_new_output_with_buffer(ctx, b);
	pdf_write_options opts = pdf_default_write_options;
	buf_t out;

	for (int i = 0; i < n; i++) {
		fz_buffer *c = fz_new_buffer(ctx, 8192);
		pdf_obj *res = pdf_new_dict(ctx, doc, 1), *page;

		pdf_dict_puts(ctx, pdf_dict_put_dict(ctx, res, PDF_NAME(Font), 1), "F1", font);
		fz_append_string(ctx, c, "BT /F1 10 Tf 12 TL 56 780 Td\n");
		for (int l = 0; l < 60; l++)
			fz_append_printf(ctx, c, "(Page %d line %d: the quick brown fox 0123456789) '\n", i, l);
		fz_append_string(ctx, c, "ET\n");
		page = pdf_add_page(ctx, doc, fz_make_rect(0, 0, 595, 842), 0, res, c);
		pdf_insert_page(ctx, doc, -1, page);
		pdf_drop_obj(ctx, page);
		pdf_drop_obj(ctx, res);
		fz_drop_buffer(ctx, c);
	}
	opts.do_compress = 1;
	pdf_write_document(ctx, doc, o, &opts);
	fz_close_output(ctx, o);
	buf_init(&out, (size_t)1 << 30);
	assert_int_equal(buf_append(&out, b->data, b->len), 0);
	fz_drop_output(ctx, o);
	fz_drop_buffer(ctx, b);
	pdf_drop_obj(ctx, font);
	fz_drop_font(ctx, helv);
	pdf_drop_document(ctx, doc);
	fz_drop_context(ctx);
	return out;
}

/* Child: render every page (render-only) or flatten; the output size to fd. */
static void child(const buf_t *pdf, bool flatten, int fd)
{
	size_t out = 0;

	if (flatten) {
		cdr_result_t r;

		if (cdr_sanitize(&cfg, "t.pdf", pdf->data, pdf->len, CDR_MODE_FLATTEN, &r) < 0 ||
		    r.verdict != CDR_SANITIZED)
			_exit(1);
		out = r.out.len;
		cdr_result_free(&r);
	} else {
		fz_context *ctx = fz_new_context(NULL, NULL, (size_t)64 << 20);
		fz_stream *stm = fz_open_memory(ctx, (const unsigned char *)pdf->data, pdf->len);
		pdf_document *doc = pdf_open_document_with_stream(ctx, stm);

		for (int i = 0; i < pdf_count_pages(ctx, doc); i++) {
			fz_page *p = fz_load_page(ctx, (fz_document *)doc, i);
			fz_pixmap *pix = fz_new_pixmap_from_page(ctx, p, fz_scale(150 / 72.0f, 150 / 72.0f),
								 fz_device_rgb(ctx), 0);
			fz_drop_pixmap(ctx, pix);
			fz_drop_page(ctx, p);
		}
		pdf_drop_document(ctx, doc);
		fz_drop_stream(ctx, stm);
		fz_drop_context(ctx);
	}
	_exit(write(fd, &out, sizeof(out)) == (ssize_t)sizeof(out) ? 0 : 1);
}

/* Peak RSS in KiB of one run in a child; *out the output bytes. */
static long peak_kib(const buf_t *pdf, bool flatten, size_t *out)
{
	struct rusage ru;
	int p[2], status;
	pid_t pid;

	assert_int_equal(pipe(p), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		child(pdf, flatten, p[1]);
	close(p[1]);
	assert_int_equal(read(p[0], out, sizeof(*out)), (ssize_t)sizeof(*out));
	close(p[0]);
	assert_int_equal(wait4(pid, &status, 0, &ru), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	return ru.ru_maxrss;
}

static void flatten_memory_flat_in_page_count(void **state)
{
#ifdef __SANITIZE_ADDRESS__
	skip(); /* shadow memory and quarantine are not the program's */
#endif
	buf_t small = text_pdf(25), large = text_pdf(250);
	size_t out_s = 0, out_l = 0, none;
	long render_s = peak_kib(&small, false, &none), render_l = peak_kib(&large, false, &none);
	long flat_s = peak_kib(&small, true, &out_s), flat_l = peak_kib(&large, true, &out_l);
	/* what flatten holds beyond rendering and beyond its output */
	long extra_s = flat_s - render_s - (long)(out_s / 1024);
	long extra_l = flat_l - render_l - (long)(out_l / 1024);

	(void)state;
	print_message("render-only %ld/%ld KiB, flatten %ld/%ld KiB, output %zu/%zu bytes, "
		      "extra %ld/%ld KiB (25/250 pages)\n", render_s, render_l, flat_s, flat_l, out_s,
		      out_l, extra_s, extra_l);
	assert_true(out_l > 6 * out_s);           /* the output does grow: ~37 KB a page */
	assert_true(extra_l - extra_s < 3 * 1024); /* the rest does not (MuPDF's document held the
						    * page images again until saved: ~+7 MiB) */
	buf_free(&small);
	buf_free(&large);
}

static void flattened_pdf_reopens_with_every_page(void **state)
{
	buf_t src = text_pdf(3);
	cdr_result_t r;
	fz_context *ctx = fz_new_context(NULL, NULL, FZ_STORE_DEFAULT);
	fz_stream *stm;
	pdf_document *doc;

	(void)state;
	assert_int_equal(cdr_sanitize(&cfg, "t.pdf", src.data, src.len, CDR_MODE_FLATTEN, &r), 0);
	assert_int_equal(r.verdict, CDR_SANITIZED);
	assert_int_equal(r.pages, 3);
	stm = fz_open_memory(ctx, (const unsigned char *)r.out.data, r.out.len);
	doc = pdf_open_document_with_stream(ctx, stm);
	assert_false(pdf_was_repaired(ctx, doc)); /* the xref table is exact */
	assert_int_equal(pdf_count_pages(ctx, doc), 3);
	for (int i = 0; i < 3; i++) {
		fz_page *p = fz_load_page(ctx, (fz_document *)doc, i);
		fz_rect b = fz_bound_page(ctx, p);

		assert_true(b.x1 - b.x0 == 595 && b.y1 - b.y0 == 842);
		fz_drop_page(ctx, p);
	}
	pdf_drop_document(ctx, doc);
	fz_drop_stream(ctx, stm);
	fz_drop_context(ctx);
	cdr_result_free(&r);
	buf_free(&src);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(flattened_pdf_reopens_with_every_page),
		cmocka_unit_test(flatten_memory_flat_in_page_count),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
