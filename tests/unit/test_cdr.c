/* test_cdr.c — the CDR engine through its API: sniffing, names, report
 * JSON, image limits before allocation, JPEG round trip and truncation,
 * text/CSV, PDF and zip verdicts. Inputs are built in memory. */
#include "testutil.h"
#include <jpeglib.h>
#include "cdr/cdr.h"
#include "cdr/cdr_int.h"

static cfg_t cfg;

static int setup(void **state)
{
	(void)state;
	return cfg_init(&cfg);
}

static int teardown(void **state)
{
	(void)state;
	cfg_free(&cfg);
	return 0;
}

static void run(const char *name, const void *in, size_t len, cdr_result_t *r)
{
	assert_int_equal(cdr_sanitize(&cfg, name, in, len, CDR_MODE_DEFAULT, r), 0);
}

static void sniff_types(void **state)
{
	static const struct { const char *in; size_t len; const char *type; } t[] = {
		{ "%PDF-1.4\n", 9, "pdf" },
		{ "junk\n%PDF-1.7", 13, "pdf" },
		{ "\x89PNG\r\n\x1a\n", 8, "png" },
		{ "\xff\xd8\xff\xe0", 4, "jpeg" },
		{ "PK\x03\x04", 4, "zip" },
		{ "\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", 8, "ole2" },
		{ "{\\rtf1", 6, "rtf" },
		{ "MZ\x90", 3, "exe" },
		{ "  <!DOCTYPE html>", 17, "html" },
		{ "hello\n", 6, "text" },
		{ "a\0b", 3, "unknown" },
		{ "", 0, "empty" },
	};
	const char *type;

	(void)state;
	for (size_t i = 0; i < MUGAI_ARRAY_LEN(t); i++) {
		cdr_sniff((const unsigned char *)t[i].in, t[i].len, &type);
		assert_str_eq_msg(type, t[i].type);
	}
}

/* Windows drops trailing dots and spaces: "run.exe." opens as run.exe. */
static void dangerous_names(void **st)
{
	(void)st;
	assert_true(cdr_name_dangerous("run.exe"));
	assert_true(cdr_name_dangerous("run.EXE."));
	assert_true(cdr_name_dangerous("run.exe. . "));
	assert_true(cdr_name_dangerous("a.settingcontent-ms"));
	assert_false(cdr_name_dangerous("report.pdf"));
	assert_false(cdr_name_dangerous("report.pdf."));
	assert_false(cdr_name_dangerous("exe"));
	assert_false(cdr_name_dangerous("..."));
	assert_false(cdr_name_dangerous(""));
	assert_false(cdr_name_dangerous(NULL));
	assert_false(cdr_name_dangerous("a.exetoolongextensionxxxxxxxxxxxxxxxxxxx"));
}

static void output_names(void **state)
{
	static const struct { const char *name, *type, *want; } t[] = {
		{ "報告.docm", "docx", "報告.docx" },
		{ "a.bmp", "png", "a.png" },
		{ "a.JPEG", "jpeg", "a.JPEG" },
		{ "page.html", "text", "page.txt" },
		{ "noext", "pdf", "noext.pdf" },
		{ "x.pdf", "pdf", "x.pdf" },
		{ "dir.v1/file", "zip", "dir.v1/file.zip" },
	};
	char out[64];

	(void)state;
	for (size_t i = 0; i < MUGAI_ARRAY_LEN(t); i++) {
		assert_int_equal(cdr_output_name(t[i].name, t[i].type, out, sizeof(out)), 0);
		assert_str_eq_msg(out, t[i].want);
	}
	assert_int_equal(cdr_output_name("a.bmp", "png", out, 4), -1);
}

static void report_json(void **state)
{
	cdr_result_t r;
	buf_t j;

	(void)state;
	run("x.exe", "MZ\x90\x00", 4, &r);
	buf_init(&j, 4096);
	assert_int_equal(cdr_result_json(&r, &j), 0);
	assert_str_eq_msg(j.data, "{\"verdict\":\"blocked\",\"type\":\"exe\",\"out_type\":null,"
			  "\"mode\":null,\"actions\":[],\"reason\":\"dangerous-extension: .exe\","
			  "\"type_ja\":\"プログラム\",\"actions_ja\":[],"
			  "\"reason_ja\":\"開くとプログラムが実行されるおそれのある名前のため添付しませんでした（「.exe」）\","
			  "\"pages\":0,\"in_bytes\":4,\"out_bytes\":0}");
	buf_free(&j);
	cdr_result_free(&r);
}

/* words.c: codes → Japanese sentences, families by prefix, detail quoted,
 * unknown codes returned as they are. */
static void words_japanese(void **state)
{
	buf_t b;

	(void)state;
	assert_string_equal(cdr_words_action("macro-removed: word/vbaProject.bin"), "マクロを削除しました");
	assert_string_equal(cdr_words_action("pdf-flattened"),
			    "PDFを画像に変換しました（文字の検索・コピーはできません）");
	assert_null(cdr_words_action("macro-removed-not: x"));
	assert_null(cdr_words_action("no such code"));
	assert_string_equal(cdr_words_reason("encrypted"), "パスワード付きのため無害化できません");
	assert_string_equal(cdr_words_reason("limit:zip_ratio_max: entry 1:2"),
			    "大きさや数が上限を超えたため無害化できません");
	assert_string_equal(cdr_words_reason("limit:pdf_pages_max: 600 pages"),
			    "ページ数が多すぎるため無害化できません");
	assert_string_equal(cdr_words_reason("policy:pdf_policy"),
			    "設定により、この種類のファイルは添付しないことになっています");
	assert_null(cdr_words_reason("limit"));
	assert_string_equal(cdr_words_kind("xlsx"), "Excel ブック");
	assert_string_equal(cdr_words_kind("png"), "画像 (PNG)");
	assert_null(cdr_words_kind("application/pdf"));
	assert_string_equal(cdr_words_detail("a: b: c"), "b: c");
	assert_null(cdr_words_detail("encrypted"));
	buf_init(&b, 1024);
	assert_int_equal(cdr_words_append("entry-removed: x.exe: executable", false, &b), 0);
	assert_string_equal(b.data, "圧縮ファイルの中の無害化できないファイルを削除しました"
			    "（「x.exe」：プログラム（実行ファイル）のため添付しませんでした）");
	buf_reset(&b);
	assert_int_equal(cdr_words_append("zip-nothing-left: a.zip/b.js: dangerous-extension: .js", true, &b), 0);
	assert_string_equal(b.data, "圧縮ファイルの中に無害化できるファイルがありませんでした"
			    "（「a.zip/b.js」：開くとプログラムが実行されるおそれのある名前のため添付しませんでした"
			    "（「.js」））");
	buf_reset(&b);
	/* a reason without a sentence is quoted as it is, never lost */
	assert_int_equal(cdr_words_append("entry-removed: x: no-such-code", false, &b), 0);
	assert_string_equal(b.data, "圧縮ファイルの中の無害化できないファイルを削除しました（「x: no-such-code」）");
	buf_reset(&b);
	assert_int_equal(cdr_words_append("odd text", true, &b), 0);
	assert_string_equal(b.data, "odd text");
	buf_free(&b);
}

/* A PNG header declaring w×h with nothing after IHDR: if the engine
 * allocated from the declared size before checking, ASan would see it. */
static void png_dims_checked_first(void **state)
{
	unsigned char png[33] = "\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR";
	unsigned long w = 0, h = 0;
	cdr_result_t r;

	(void)state;
	png[16] = 0x00, png[17] = 0x01, png[18] = 0x86, png[19] = 0xa0; /* 100000 */
	memcpy(png + 20, png + 16, 4);
	png[24] = 8, png[25] = 2;
	assert_int_equal(cdr_image_dims(png, sizeof(png), CT_PNG, &w, &h), 0);
	assert_int_equal(w, 100000);
	assert_int_equal(h, 100000);
	run("huge.png", png, sizeof(png), &r);
	assert_int_equal(r.verdict, CDR_BLOCKED);
	assert_non_null(strstr(r.reason, "image_pixels_max"));
	cdr_result_free(&r);
}

static void make_jpeg(buf_t *out, int w, int h)
{
	struct jpeg_compress_struct c;
	struct jpeg_error_mgr e;
	unsigned char *mem = NULL, row[3 * 64];
	unsigned long size = 0;

	c.err = jpeg_std_error(&e);
	jpeg_create_compress(&c);
	jpeg_mem_dest(&c, &mem, &size);
	c.image_width = (JDIMENSION)w, c.image_height = (JDIMENSION)h;
	c.input_components = 3, c.in_color_space = JCS_RGB;
	jpeg_set_defaults(&c);
	jpeg_start_compress(&c, TRUE);
	jpeg_write_marker(&c, JPEG_COM, (const JOCTET *)"secret-comment", 14);
	for (int x = 0; x < 3 * w; x++)
		row[x] = (unsigned char)(x * 7);
	while (c.next_scanline < c.image_height) {
		JSAMPROW p = row;
		jpeg_write_scanlines(&c, &p, 1);
	}
	jpeg_finish_compress(&c);
	jpeg_destroy_compress(&c);
	assert_int_equal(buf_append(out, mem, size), 0);
	free(mem);
}

static void jpeg_roundtrip_and_truncated(void **state)
{
	cdr_result_t r;
	buf_t j;

	(void)state;
	buf_init(&j, 1 << 20);
	make_jpeg(&j, 64, 48);
	run("p.jpg", j.data, j.len, &r);
	assert_int_equal(r.verdict, CDR_SANITIZED);
	assert_str_eq_msg(r.out_type, "jpeg");
	assert_null(memmem(r.out.data, r.out.len, "secret-comment", 14));
	cdr_result_free(&r);
	/* Cut inside the frame header: blocked. */
	run("t.jpg", j.data, 40, &r);
	assert_int_equal(r.verdict, CDR_BLOCKED);
	cdr_result_free(&r);
	/* Cut in the scan data: what decodes is re-encoded or it is blocked;
	 * never passed through. */
	run("t.jpg", j.data, j.len / 2, &r);
	assert_true(r.verdict == CDR_BLOCKED ||
		    (r.out.len > 0 && memcmp(r.out.data, j.data, j.len / 2) != 0));
	cdr_result_free(&r);
	buf_free(&j);
}

static void csv_cells(void **state)
{
	static const char in[] = "a,=1,\"+x\",-5,@y\r\n\"q\"\"=\",\t1\n";
	cdr_result_t r;

	(void)state;
	run("l.csv", in, sizeof(in) - 1, &r);
	assert_int_equal(r.verdict, CDR_SANITIZED);
	assert_str_eq_msg(r.out.data, "a,'=1,\"'+x\",-5,'@y\r\n\"q\"\"=\",'\t1\n");
	cdr_result_free(&r);
}

static void pdf_rebuild_minimal(void **state)
{
	static const char pdf[] =
		"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R/OpenAction<</S/JavaScript/JS(x)>>>>endobj\n"
		"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
		"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 100 100]>>endobj\n"
		"trailer<</Root 1 0 R>>\n%%EOF\n";
	cdr_result_t r;

	(void)state;
	assert_int_equal(cdr_sanitize(&cfg, "a.pdf", pdf, sizeof(pdf) - 1, CDR_MODE_REBUILD, &r), 0);
	assert_int_equal(r.verdict, CDR_SANITIZED);
	assert_int_equal(r.pages, 1);
	assert_null(memmem(r.out.data, r.out.len, "JavaScript", 10));
	assert_null(memmem(r.out.data, r.out.len, "OpenAction", 10));
	cdr_result_free(&r);
	assert_int_equal(cdr_sanitize(&cfg, "a.pdf", pdf, sizeof(pdf) - 1, CDR_MODE_FLATTEN, &r), 0);
	assert_int_equal(r.verdict, CDR_SANITIZED);
	assert_str_eq_msg(r.mode, "flatten");
	cdr_result_free(&r);
	assert_int_equal(cdr_sanitize(&cfg, "a.pdf", pdf, 40, CDR_MODE_REBUILD, &r), 0);
	assert_int_equal(r.verdict, CDR_BLOCKED);
	cdr_result_free(&r);
}

static void zip_garbage_blocked(void **state)
{
	static const char z[] = "PK\x03\x04 not really a zip PK\x05\x06";
	cdr_result_t r;

	(void)state;
	run("a.zip", z, sizeof(z) - 1, &r);
	assert_int_equal(r.verdict, CDR_BLOCKED);
	assert_int_equal(r.out.len, 0);
	cdr_result_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(sniff_types),
		cmocka_unit_test(output_names),
		cmocka_unit_test(dangerous_names),
		cmocka_unit_test(report_json),
		cmocka_unit_test(words_japanese),
		cmocka_unit_test(png_dims_checked_first),
		cmocka_unit_test(jpeg_roundtrip_and_truncated),
		cmocka_unit_test(csv_cells),
		cmocka_unit_test(pdf_rebuild_minimal),
		cmocka_unit_test(zip_garbage_blocked),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
