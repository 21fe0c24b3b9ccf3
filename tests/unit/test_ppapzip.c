/*
 * test_ppapzip.c — PPAP in file CDR: an encrypted zip (WinZip AES-256
 * written here with libzip (AE-1), AE-2 from 7-Zip and traditional
 * ZipCrypto from `zip -P` embedded below) is blocked "encrypted" without candidates, opened with the right
 * candidate among wrong ones (its entry sanitized and readable in the new,
 * unencrypted archive), "ppap-wrong-password" when none fits, and only the
 * first ppap_candidates_max candidates are tried. No candidate appears in
 * the result.
 */
#include "testutil.h"

#include <zip.h>
#include "cdr/cdr.h"

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

/* zip -X -P 'Zc-pass1' zc.zip note.txt ("hello ppap\r\n") */
static const unsigned char zc_zip[] = {
  0x50, 0x4b, 0x03, 0x04, 0x0a, 0x00, 0x09, 0x00, 0x00, 0x00, 0x80, 0xbe,
  0x7e, 0x5d, 0x4d, 0x79, 0x12, 0xb3, 0x18, 0x00, 0x00, 0x00, 0x0c, 0x00,
  0x00, 0x00, 0x08, 0x00, 0x00, 0x00, 0x6e, 0x6f, 0x74, 0x65, 0x2e, 0x74,
  0x78, 0x74, 0x07, 0xab, 0xc1, 0x4a, 0xbd, 0x3f, 0xda, 0x8b, 0xf7, 0x30,
  0x0b, 0x41, 0x15, 0x26, 0xf5, 0x3c, 0xae, 0xa4, 0xaf, 0x59, 0x51, 0x75,
  0xcf, 0xca, 0x50, 0x4b, 0x07, 0x08, 0x4d, 0x79, 0x12, 0xb3, 0x18, 0x00,
  0x00, 0x00, 0x0c, 0x00, 0x00, 0x00, 0x50, 0x4b, 0x01, 0x02, 0x1e, 0x03,
  0x0a, 0x00, 0x09, 0x00, 0x00, 0x00, 0x80, 0xbe, 0x7e, 0x5d, 0x4d, 0x79,
  0x12, 0xb3, 0x18, 0x00, 0x00, 0x00, 0x0c, 0x00, 0x00, 0x00, 0x08, 0x00,
  0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0xa4, 0x81,
  0x00, 0x00, 0x00, 0x00, 0x6e, 0x6f, 0x74, 0x65, 0x2e, 0x74, 0x78, 0x74,
  0x50, 0x4b, 0x05, 0x06, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00,
  0x36, 0x00, 0x00, 0x00, 0x4e, 0x00, 0x00, 0x00, 0x00, 0x00
};

/* 7z a -tzip -p'Ae2-pass' -mem=AES256 ae2.zip note2.txt ("hello ae2\r\n"):
 * WinZip AE-2, stored, CRC 0 (libzip 1.7.3 reports a CRC error at its end). */
static const unsigned char ae2_zip[] = {
  0x50, 0x4b, 0x03, 0x04, 0x33, 0x00, 0x01, 0x00, 0x63, 0x00, 0xe7, 0x00,
  0x81, 0x5d, 0x00, 0x00, 0x00, 0x00, 0x27, 0x00, 0x00, 0x00, 0x0b, 0x00,
  0x00, 0x00, 0x09, 0x00, 0x0b, 0x00, 0x6e, 0x6f, 0x74, 0x65, 0x32, 0x2e,
  0x74, 0x78, 0x74, 0x01, 0x99, 0x07, 0x00, 0x02, 0x00, 0x41, 0x45, 0x03,
  0x00, 0x00, 0xf1, 0xe2, 0x72, 0x53, 0x19, 0x36, 0x1a, 0xa3, 0xd2, 0x58,
  0x09, 0x72, 0x3c, 0xd5, 0xa0, 0xa9, 0x11, 0x9a, 0x2a, 0x71, 0x24, 0x42,
  0xea, 0xfa, 0xf6, 0xfa, 0xd0, 0x06, 0x6b, 0x26, 0x2b, 0x30, 0xf2, 0x16,
  0xa4, 0xdd, 0xc2, 0x35, 0xba, 0x50, 0x4b, 0x01, 0x02, 0x3f, 0x03, 0x33,
  0x00, 0x01, 0x00, 0x63, 0x00, 0xe7, 0x00, 0x81, 0x5d, 0x00, 0x00, 0x00,
  0x00, 0x27, 0x00, 0x00, 0x00, 0x0b, 0x00, 0x00, 0x00, 0x09, 0x00, 0x2f,
  0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x20, 0x80, 0xa4, 0x81, 0x00,
  0x00, 0x00, 0x00, 0x6e, 0x6f, 0x74, 0x65, 0x32, 0x2e, 0x74, 0x78, 0x74,
  0x0a, 0x00, 0x20, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x18, 0x00,
  0x1d, 0x80, 0xd4, 0xea, 0x27, 0x81, 0xdd, 0x01, 0x00, 0x00, 0x00, 0x00,
  0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
  0x01, 0x99, 0x07, 0x00, 0x02, 0x00, 0x41, 0x45, 0x03, 0x00, 0x00, 0x50,
  0x4b, 0x05, 0x06, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x66,
  0x00, 0x00, 0x00, 0x59, 0x00, 0x00, 0x00, 0x00, 0x00
};

/* One entry "報告.txt" encrypted with WinZip AES-256 under pw (libzip writes AE-1). */
static unsigned char *aes_zip(const char *pw, const char *text, size_t *len)
{
	zip_source_t *src = zip_source_buffer_create(NULL, 0, 0, NULL), *f;
	zip_t *za;
	zip_stat_t st;
	zip_int64_t idx;
	unsigned char *out;

	assert_non_null(src);
	za = zip_open_from_source(src, ZIP_TRUNCATE, NULL);
	assert_non_null(za);
	zip_source_keep(src);
	f = zip_source_buffer(za, text, strlen(text), 0);
	idx = zip_file_add(za, "報告.txt", f, ZIP_FL_ENC_UTF_8);
	assert_true(idx >= 0);
	assert_int_equal(zip_file_set_encryption(za, (zip_uint64_t)idx, ZIP_EM_AES_256, pw), 0);
	assert_int_equal(zip_close(za), 0);
	assert_int_equal(zip_source_stat(src, &st), 0);
	out = malloc(st.size);
	assert_int_equal(zip_source_open(src), 0);
	assert_int_equal(zip_source_read(src, out, st.size), (zip_int64_t)st.size);
	zip_source_close(src);
	zip_source_free(src);
	*len = (size_t)st.size;
	return out;
}

/* The one entry of a (plain) zip as a string. */
static char *only_entry(const buf_t *z, char *name, size_t nsize)
{
	zip_source_t *src = zip_source_buffer_create(z->data, z->len, 0, NULL);
	zip_t *za = zip_open_from_source(src, ZIP_RDONLY, NULL);
	zip_stat_t st;
	zip_file_t *f;
	char *s;

	assert_non_null(za);
	assert_int_equal(zip_get_num_entries(za, 0), 1);
	assert_int_equal(zip_stat_index(za, 0, 0, &st), 0);
	assert_int_equal(st.encryption_method, ZIP_EM_NONE);
	snprintf(name, nsize, "%s", st.name);
	s = calloc(1, st.size + 1);
	f = zip_fopen_index(za, 0, 0);
	assert_non_null(f);
	assert_int_equal(zip_fread(f, s, st.size), (zip_int64_t)st.size);
	zip_fclose(f);
	zip_discard(za);
	return s;
}

static bool has_action(const cdr_result_t *r, const char *code)
{
	for (size_t i = 0; i < r->nactions; i++)
		if (strcmp(r->actions[i].text, code) == 0)
			return true;
	return false;
}

/* No byte of any candidate in the reason, the actions or the JSON. */
static void no_candidate(const cdr_result_t *r, const char *const *pw, size_t n)
{
	buf_t j;

	buf_init(&j, 1 << 20);
	assert_int_equal(cdr_result_json(r, &j), 0);
	for (size_t i = 0; i < n; i++) {
		assert_null(strstr(j.data, pw[i]));
		assert_null(strstr(r->reason, pw[i]));
	}
	buf_free(&j);
}

static void aes_right_among_wrong(void **st)
{
	static const char *const pw[] = { "nope1", "Wrong-2", "Aes-Right9", "later" };
	size_t len;
	unsigned char *z = aes_zip("Aes-Right9", "売上 1,234 円\r\n", &len);
	cdr_result_t r;
	char name[256], *text;

	(void)st;
	assert_int_equal(cdr_sanitize(&cfg, "a.zip", z, len, CDR_MODE_DEFAULT, &r), 0);
	assert_int_equal(r.verdict, CDR_BLOCKED);
	assert_string_equal(r.reason, "encrypted");
	cdr_result_free(&r);
	assert_int_equal(cdr_sanitize_pw(&cfg, "a.zip", z, len, CDR_MODE_DEFAULT, pw, 4, &r), 0);
	assert_int_equal(r.verdict, CDR_SANITIZED);
	assert_string_equal(r.out_type, "zip");
	assert_true(has_action(&r, "zip-decrypted"));
	text = only_entry(&r.out, name, sizeof(name));
	assert_string_equal(name, "報告.txt");
	assert_string_equal(text, "売上 1,234 円\r\n");
	no_candidate(&r, pw, 4);
	free(text);
	cdr_result_free(&r);
	free(z);
}

static void zipcrypto_right(void **st)
{
	static const char *const pw[] = { "zc-pass1", "Zc-pass1" }; /* case matters */
	cdr_result_t r;
	char name[256], *text;

	(void)st;
	assert_int_equal(cdr_sanitize_pw(&cfg, "z.zip", zc_zip, sizeof(zc_zip), CDR_MODE_DEFAULT,
					 pw, 2, &r), 0);
	assert_int_equal(r.verdict, CDR_SANITIZED);
	text = only_entry(&r.out, name, sizeof(name));
	assert_string_equal(name, "note.txt");
	assert_string_equal(text, "hello ppap\r\n");
	no_candidate(&r, pw, 2);
	free(text);
	cdr_result_free(&r);
}

static void ae2_from_7zip(void **st)
{
	static const char *const pw[] = { "Ae2-pas", "Ae2-pass" };
	cdr_result_t r;
	char name[256], *text;

	(void)st;
	assert_int_equal(cdr_sanitize_pw(&cfg, "s.zip", ae2_zip, sizeof(ae2_zip), CDR_MODE_DEFAULT,
					 pw, 2, &r), 0);
	assert_int_equal(r.verdict, CDR_SANITIZED);
	text = only_entry(&r.out, name, sizeof(name));
	assert_string_equal(name, "note2.txt");
	assert_string_equal(text, "hello ae2\r\n");
	free(text);
	cdr_result_free(&r);
	assert_int_equal(cdr_sanitize_pw(&cfg, "s.zip", ae2_zip, sizeof(ae2_zip), CDR_MODE_DEFAULT,
					 pw, 1, &r), 0);
	assert_string_equal(r.reason, "ppap-wrong-password");
	cdr_result_free(&r);
}

static void none_fits(void **st)
{
	static const char *const pw[] = { "a1", "b2", "c3" };
	size_t len;
	unsigned char *z = aes_zip("Secret77", "x", &len);
	cdr_result_t r;

	(void)st;
	assert_int_equal(cdr_sanitize_pw(&cfg, "a.zip", z, len, CDR_MODE_DEFAULT, pw, 3, &r), 0);
	assert_int_equal(r.verdict, CDR_BLOCKED);
	assert_string_equal(r.reason, "ppap-wrong-password");
	cdr_result_free(&r);
	assert_int_equal(cdr_sanitize_pw(&cfg, "z.zip", zc_zip, sizeof(zc_zip), CDR_MODE_DEFAULT,
					 pw, 3, &r), 0);
	assert_int_equal(r.verdict, CDR_BLOCKED);
	assert_string_equal(r.reason, "ppap-wrong-password");
	cdr_result_free(&r);
	free(z);
}

static void candidates_capped(void **st)
{
	static const char *const pw[] = { "w1", "w2", "Right-3" };
	size_t len;
	unsigned char *z = aes_zip("Right-3", "x", &len);
	cdr_result_t r;

	(void)st;
	cfg.lim.v[LIM_PPAP_CANDIDATES] = 2; /* the third is never tried */
	assert_int_equal(cdr_sanitize_pw(&cfg, "a.zip", z, len, CDR_MODE_DEFAULT, pw, 3, &r), 0);
	assert_string_equal(r.reason, "ppap-wrong-password");
	cdr_result_free(&r);
	cfg.lim.v[LIM_PPAP_CANDIDATES] = limit_table[LIM_PPAP_CANDIDATES].def;
	free(z);
}

int main(void)
{
	const struct CMUnitTest t[] = {
		cmocka_unit_test(aes_right_among_wrong), cmocka_unit_test(zipcrypto_right),
		cmocka_unit_test(ae2_from_7zip), cmocka_unit_test(none_fits),
		cmocka_unit_test(candidates_capped),
	};

	return cmocka_run_group_tests_name("ppapzip", t, setup, teardown);
}
