/*
 * bench_cdr.c — file CDR throughput: flatten pages/s at pdf_dpi (150) on
 * generated text pages and image pages, rebuild MB/s, and in the same run
 * MuPDF's render-only time for the same pages at the same resolution (the
 * ceiling flatten cannot beat), plus peak RSS after each stage. Then peak
 * memory flat in the page count: text PDFs of 25, PAGES, 250 and 4 x PAGES
 * pages, each flattened and rendered (render-only) in a fresh process of
 * this program (its peak RSS from wait4), the output size beside it.
 *
 *   bench_cdr [PAGES]     (default 100)
 *   bench_cdr --one flatten|render FILE   (internal: one measured run)
 *
 * SECURITY: benchmark harness only; trusted generated input.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

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

/* --one MODE FILE: read FILE, flatten or render it, print "SECONDS BYTES". */
static int one_run(const cfg_t *cfg, const char *mode, const char *path)
{
	FILE *f = fopen(path, "rb");
	buf_t pdf;
	char chunk[65536];
	size_t n, out = 0;
	double t;

	buf_init(&pdf, (size_t)1 << 31);
	while (f && (n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		if (buf_append(&pdf, chunk, n) < 0)
			return 1;
	if (!f || fclose(f) != 0)
		return 1;
	if (strcmp(mode, "render") == 0)
		t = render_only(&pdf, (int)cfg_int(cfg, CFG_PDF_DPI));
	else
		t = sanitize(cfg, &pdf, CDR_MODE_FLATTEN, &out);
	printf("%.6f %zu\n", t, out);
	buf_free(&pdf);
	return 0;
}

/* Run "--one MODE FILE" in a fresh process: its seconds, output bytes and
 * peak RSS (MB). */
static int measured(const char *self, const char *mode, const char *path, double *secs,
		    size_t *out, long *rss_mb)
{
	int p[2], status;
	struct rusage ru;
	char line[128] = "";
	pid_t pid;
	FILE *r;

	if (pipe(p) < 0 || (pid = fork()) < 0)
		return -1;
	if (pid == 0) {
		dup2(p[1], 1);
		close(p[0]);
		close(p[1]);
		execl(self, self, "--one", mode, path, (char *)NULL);
		_exit(127);
	}
	close(p[1]);
	r = fdopen(p[0], "r");
	if (!r || !fgets(line, sizeof(line), r))
		line[0] = '\0';
	if (r)
		fclose(r);
	if (wait4(pid, &status, 0, &ru) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0 ||
	    sscanf(line, "%lf %zu", secs, out) != 2)
		return -1;
	*rss_mb = ru.ru_maxrss / 1024;
	return 0;
}

/* Text PDFs of each size: render-only and flatten, each in a fresh process. */
static int bench_memory(fz_context *ctx, const char *self, int pages)
{
	int sizes[] = { 25, pages, 250, pages * 4 };
	long first_rss = 0, first_out = 0, rss[4] = { 0 }, rrss[4] = { 0 };
	size_t outs[4] = { 0 };

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		char path[] = "/tmp/bench-cdr-XXXXXX";
		buf_t pdf = make_pdf(ctx, sizes[i], 0);
		int fd = mkstemp(path);
		double rt = 0, ft = 0;
		size_t ro = 0, fo = 0;
		long rr = 0, fr = 0;
		int bad = fd < 0 || write(fd, pdf.data, pdf.len) != (ssize_t)pdf.len;

		if (fd >= 0)
			close(fd);
		bad = bad || measured(self, "render", path, &rt, &ro, &rr) < 0 ||
		      measured(self, "flatten", path, &ft, &fo, &fr) < 0;
		unlink(path);
		buf_free(&pdf);
		if (bad) {
			fprintf(stderr, "bench_cdr: memory run of %d pages failed\n", sizes[i]);
			return -1;
		}
		rss[i] = fr;
		rrss[i] = rr;
		outs[i] = fo;
		if (i == 0) {
			first_rss = fr;
			first_out = (long)(fo >> 20);
		}
		printf("cdr text  pages=%-4d flatten %.1f ms/page  render-only %.1f ms/page  ratio %.2fx  "
		       "peak-rss flatten %ld MB (render-only %ld MB)  out=%.1fMB  rss vs %d pages %+.1f%%"
		       " (output %+ld MB)\n", sizes[i], 1000 * ft / sizes[i], 1000 * rt / sizes[i],
		       ft / rt, fr, rr, (double)fo / 1e6, sizes[0],
		       100.0 * (double)(fr - first_rss) / (double)first_rss, (long)(fo >> 20) - first_out);
	}
	for (size_t i = 0; i < 2; i++) {
		double a = (double)rss[i + 2] - (double)outs[i + 2] / MiB;
		double b = (double)rss[i] - (double)outs[i] / MiB;

		printf("cdr flatten peak RSS %d vs %d pages: %ld vs %ld MB (%+.1f%%); less the output "
		       "buffer itself (%.1f vs %.1f MB): %.1f vs %.1f MB (%+.1f%%); beyond MuPDF's "
		       "render-only of the same file (%ld vs %ld MB): %.1f vs %.1f MB\n", sizes[i + 2],
		       sizes[i], rss[i + 2], rss[i], 100.0 * (double)(rss[i + 2] - rss[i]) / (double)rss[i],
		       (double)outs[i + 2] / MiB, (double)outs[i] / MiB, a, b, 100.0 * (a - b) / b,
		       rrss[i + 2], rrss[i], a - (double)rrss[i + 2], b - (double)rrss[i]);
	}
	return 0;
}

int main(int argc, char **argv)
{
	int pages = argc > 1 ? atoi(argv[1]) : 100;
	fz_context *ctx = fz_new_context(NULL, NULL, FZ_STORE_DEFAULT);
	cfg_t cfg;
	char err[128];
	int rc = 0;

	if (!ctx || cfg_init(&cfg) < 0 || cfg_set(&cfg, "pdf_pages_max", "100000", err, sizeof(err)) < 0)
		return 1;
	fz_set_warning_callback(ctx, NULL, NULL);
	if (argc == 4 && strcmp(argv[1], "--one") == 0) {
		rc = one_run(&cfg, argv[2], argv[3]);
	} else {
		bench_kind(ctx, &cfg, "text", pages, 0);
		bench_kind(ctx, &cfg, "image", pages, 1);
		printf("cdr peak memory in the page count (each run a fresh process; target: flatten "
		       "<= 2x render-only, peak RSS within 10%% from %d to %d pages):\n", pages, pages * 4);
		rc = bench_memory(ctx, "/proc/self/exe", pages) < 0;
	}
	cfg_free(&cfg);
	fz_drop_context(ctx);
	return rc;
}
