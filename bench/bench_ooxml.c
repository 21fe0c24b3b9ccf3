/*
 * bench_ooxml.c — OOXML CDR throughput (positive selection rebuild) next to
 * the ceiling it cannot beat, measured in the same run on the same files: a
 * plain unzip-and-rezip of every entry with libzip (deflate), no XML work.
 * Input: generated docx (paragraphs, split fields, an image) and xlsx
 * (cells with formulas, defined names, conditional formats), or every
 * .docx/.xlsx/.pptx given on the command line.
 *
 *   bench_ooxml [ROUNDS] [FILE...]     (default 20 rounds of the generated set)
 *
 * SECURITY: benchmark harness only; trusted input.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <zip.h>

#include "cdr/cdr.h"

typedef struct file {
	char name[64];
	buf_t data;
} file_t;

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void die(const char *what)
{
	fprintf(stderr, "bench_ooxml: %s\n", what);
	exit(1);
}

/* Write a zip of (name, text) pairs into out. */
static void make_zip(const char *const *names, buf_t *texts, size_t n, buf_t *out)
{
	zip_source_t *src = zip_source_buffer_create(NULL, 0, 0, NULL);
	zip_t *za;
	zip_stat_t st;

	if (!src)
		die("zip source");
	zip_source_keep(src);
	za = zip_open_from_source(src, ZIP_TRUNCATE, NULL);
	if (!za)
		die("zip open");
	for (size_t i = 0; i < n; i++) {
		zip_source_t *s = zip_source_buffer(za, texts[i].data, texts[i].len, 0);

		if (!s || zip_file_add(za, names[i], s, ZIP_FL_ENC_UTF_8) < 0)
			die("zip add");
	}
	if (zip_close(za) < 0 || zip_source_open(src) < 0 || zip_source_stat(src, &st) < 0)
		die("zip close");
	buf_init(out, (size_t)1 << 31);
	if (buf_reserve(out, st.size) < 0)
		die("oom");
	out->len = (size_t)zip_source_read(src, out->data, st.size);
	zip_source_close(src);
	zip_source_free(src);
}

#define CT "<?xml version=\"1.0\"?><Types xmlns=\"http://schemas.openxmlformats.org/package/2006/content-types\">" \
	"<Default Extension=\"rels\" ContentType=\"application/vnd.openxmlformats-package.relationships+xml\"/>" \
	"<Default Extension=\"xml\" ContentType=\"application/xml\"/>"
#define RELS "<?xml version=\"1.0\"?><Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">"
#define RT "http://schemas.openxmlformats.org/officeDocument/2006/relationships/"

static void put(buf_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void put(buf_t *b, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (buf_vprintf(b, fmt, ap) < 0)
		die("oom");
	va_end(ap);
}

static void gen_docx(file_t *f, int paras)
{
	static const char *const names[] = { "[Content_Types].xml", "_rels/.rels", "word/document.xml",
					     "word/_rels/document.xml.rels" };
	buf_t t[4];

	for (int i = 0; i < 4; i++)
		buf_init(&t[i], (size_t)1 << 30);
	put(&t[0], CT "<Override PartName=\"/word/document.xml\" ContentType=\"application/"
		   "vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml\"/></Types>");
	put(&t[1], RELS "<Relationship Id=\"rId1\" Type=\"" RT "officeDocument\" Target=\"word/document.xml\"/>"
		   "</Relationships>");
	put(&t[2], "<w:document xmlns:w=\"http://schemas.openxmlformats.org/wordprocessingml/2006/main\"><w:body>");
	for (int i = 0; i < paras; i++)
		put(&t[2], "<w:p><w:r><w:t>第%d段落 住民の皆様へのお知らせ。the quick brown fox jumps over the lazy dog.</w:t></w:r>"
			   "<w:r><w:fldChar w:fldCharType=\"begin\"/></w:r><w:r><w:instrText> PA</w:instrText></w:r>"
			   "<w:r><w:instrText>GE </w:instrText></w:r><w:r><w:fldChar w:fldCharType=\"separate\"/></w:r>"
			   "<w:r><w:t>%d</w:t></w:r><w:r><w:fldChar w:fldCharType=\"end\"/></w:r></w:p>", i, i);
	put(&t[2], "</w:body></w:document>");
	put(&t[3], RELS "</Relationships>");
	snprintf(f->name, sizeof(f->name), "gen%d.docx", paras);
	make_zip(names, t, 4, &f->data);
	for (int i = 0; i < 4; i++)
		buf_free(&t[i]);
}

static void gen_xlsx(file_t *f, int rows)
{
	static const char *const names[] = { "[Content_Types].xml", "_rels/.rels", "xl/workbook.xml",
					     "xl/_rels/workbook.xml.rels", "xl/worksheets/sheet1.xml" };
	buf_t t[5];

	for (int i = 0; i < 5; i++)
		buf_init(&t[i], (size_t)1 << 30);
	put(&t[0], CT "<Override PartName=\"/xl/workbook.xml\" ContentType=\"application/vnd.openxmlformats-"
		   "officedocument.spreadsheetml.sheet.main+xml\"/><Override PartName=\"/xl/worksheets/sheet1.xml\" "
		   "ContentType=\"application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml\"/></Types>");
	put(&t[1], RELS "<Relationship Id=\"rId1\" Type=\"" RT "officeDocument\" Target=\"xl/workbook.xml\"/>"
		   "</Relationships>");
	put(&t[2], "<workbook xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\" "
		   "xmlns:r=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships\"><sheets>"
		   "<sheet name=\"S\" sheetId=\"1\" r:id=\"rId1\"/></sheets><definedNames>"
		   "<definedName name=\"total\">SUM(S!$C$1:$C$%d)</definedName></definedNames></workbook>", rows);
	put(&t[3], RELS "<Relationship Id=\"rId1\" Type=\"" RT "worksheet\" Target=\"worksheets/sheet1.xml\"/>"
		   "</Relationships>");
	put(&t[4], "<worksheet xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\"><sheetData>");
	for (int r = 1; r <= rows; r++)
		put(&t[4], "<row r=\"%d\"><c r=\"A%d\"><v>%d</v></c><c r=\"B%d\"><v>%d.5</v></c>"
			   "<c r=\"C%d\"><f>IF(A%d&gt;0,ROUND(A%d*B%d,2),VLOOKUP(A%d,A:B,2,FALSE))</f><v>1</v></c></row>",
		    r, r, r, r, r, r, r, r, r, r);
	put(&t[4], "</sheetData><conditionalFormatting sqref=\"C1:C9\"><cfRule type=\"expression\" priority=\"1\">"
		   "<formula>C1&gt;100</formula></cfRule></conditionalFormatting></worksheet>");
	snprintf(f->name, sizeof(f->name), "gen%d.xlsx", rows);
	make_zip(names, t, 5, &f->data);
	for (int i = 0; i < 5; i++)
		buf_free(&t[i]);
}

static void load(file_t *f, const char *path)
{
	FILE *fp = fopen(path, "rb");
	char tmp[65536];
	size_t n;

	if (!fp)
		die(path);
	buf_init(&f->data, (size_t)1 << 31);
	while ((n = fread(tmp, 1, sizeof(tmp), fp)) > 0)
		if (buf_append(&f->data, tmp, n) < 0)
			die("oom");
	fclose(fp);
	snprintf(f->name, sizeof(f->name), "%s", strrchr(path, '/') ? strrchr(path, '/') + 1 : path);
}

/* The ceiling: read every entry with libzip and write them all again. */
static void rezip(const buf_t *in)
{
	zip_source_t *src = zip_source_buffer_create(in->data, in->len, 0, NULL), *dst;
	zip_t *za = src ? zip_open_from_source(src, ZIP_RDONLY, NULL) : NULL, *zo;
	zip_int64_t n = za ? zip_get_num_entries(za, 0) : 0;

	if (!za)
		die("rezip open");
	dst = zip_source_buffer_create(NULL, 0, 0, NULL);
	zip_source_keep(dst);
	zo = zip_open_from_source(dst, ZIP_TRUNCATE, NULL);
	for (zip_int64_t i = 0; i < n; i++) {
		zip_stat_t st;
		zip_file_t *zf;
		void *data;

		if (zip_stat_index(za, (zip_uint64_t)i, 0, &st) < 0 || !(zf = zip_fopen_index(za, (zip_uint64_t)i, 0)))
			die("rezip read");
		data = malloc(st.size ? st.size : 1);
		if (!data || zip_fread(zf, data, st.size) != (zip_int64_t)st.size)
			die("rezip read");
		zip_fclose(zf);
		if (zip_file_add(zo, st.name, zip_source_buffer(zo, data, st.size, 1), 0) < 0)
			die("rezip add");
	}
	zip_close(zo);
	zip_source_free(dst);
	zip_discard(za);
}

int main(int argc, char **argv)
{
	int rounds = argc > 1 ? atoi(argv[1]) : 20, nf = argc > 2 ? argc - 2 : 4;
	file_t *files = calloc((size_t)nf, sizeof(*files));
	double bytes = 0, t_cdr, t_zip;
	cfg_t cfg;

	if (!files || rounds < 1 || cfg_init(&cfg) < 0)
		die("usage: bench_ooxml [ROUNDS] [FILE...]");
	if (argc > 2) {
		for (int i = 0; i < nf; i++)
			load(&files[i], argv[i + 2]);
	} else {
		gen_docx(&files[0], 200);
		gen_docx(&files[1], 2000);
		gen_xlsx(&files[2], 500);
		gen_xlsx(&files[3], 5000);
	}
	for (int i = 0; i < nf; i++)
		bytes += (double)files[i].data.len;
	t_cdr = now();
	for (int r = 0; r < rounds; r++)
		for (int i = 0; i < nf; i++) {
			cdr_result_t res;

			if (cdr_sanitize(&cfg, files[i].name, files[i].data.data, files[i].data.len,
					 CDR_MODE_DEFAULT, &res) < 0 || res.verdict != CDR_SANITIZED) {
				fprintf(stderr, "bench_ooxml: %s: %s\n", files[i].name, res.reason);
				exit(1);
			}
			cdr_result_free(&res);
		}
	t_cdr = now() - t_cdr;
	t_zip = now();
	for (int r = 0; r < rounds; r++)
		for (int i = 0; i < nf; i++)
			rezip(&files[i].data);
	t_zip = now() - t_zip;
	printf("ooxml cdr:     %d files, %.1f MB in %.2f s: %.1f files/s, %.2f MB/s\n", nf * rounds,
	       bytes * rounds / 1e6, t_cdr, nf * rounds / t_cdr, bytes * rounds / 1e6 / t_cdr);
	printf("unzip+rezip:   %d files, %.1f MB in %.2f s: %.1f files/s, %.2f MB/s (libzip ceiling)\n",
	       nf * rounds, bytes * rounds / 1e6, t_zip, nf * rounds / t_zip, bytes * rounds / 1e6 / t_zip);
	printf("cdr / rezip:   %.1fx the time of a plain rezip\n", t_cdr / t_zip);
	for (int i = 0; i < nf; i++)
		buf_free(&files[i].data);
	free(files);
	cfg_free(&cfg);
	return 0;
}
