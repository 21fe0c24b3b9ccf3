/* test_common.c — buf, json, utf8, sha256, config and limits. */
#include "testutil.h"
#include "common/buf.h"
#include "common/config.h"
#include "common/json.h"
#include "common/rec.h"
#include "common/sha256.h"
#include "common/utf8.h"

static void buf_cap_is_hard(void **state)
{
	buf_t b;

	(void)state;
	buf_init(&b, 8);
	assert_int_equal(buf_puts(&b, "12345678"), 0);
	assert_int_equal(buf_putc(&b, '9'), -1);
	assert_true(b.capped);
	assert_int_equal(b.len, 8);
	assert_str_eq_msg(b.data, "12345678");
	buf_free(&b);
}

static void buf_utf8_and_printf(void **state)
{
	buf_t b;

	(void)state;
	buf_init(&b, 100);
	assert_int_equal(buf_put_utf8(&b, 0x2460), 0);
	assert_int_equal(buf_put_utf8(&b, 0xD800), 0);
	assert_int_equal(buf_printf(&b, "%d-%s", 42, "x"), 0);
	assert_str_eq_msg(b.data, "\xE2\x91\xA0\xEF\xBF\xBD" "42-x");
	buf_free(&b);
}

static void json_escapes_and_repairs(void **state)
{
	buf_t b;
	json_t j;

	(void)state;
	buf_init(&b, 1000);
	json_init(&j, &b);
	json_obj_begin(&j);
	json_key(&j, "s");
	json_str(&j, "a\"b\\\n\x01\xff" "①");
	json_key(&j, "n");
	json_int(&j, -5);
	json_key(&j, "l");
	json_arr_begin(&j);
	json_bool(&j, true);
	json_null(&j);
	json_arr_end(&j);
	json_obj_end(&j);
	assert_int_equal(json_finish(&j), 0);
	assert_str_eq_msg(b.data,
		"{\"s\":\"a\\\"b\\\\\\n\\u0001\xEF\xBF\xBD①\",\"n\":-5,\"l\":[true,null]}");
	buf_free(&b);
}

static void utf8_rejects_overlong_and_surrogates(void **state)
{
	(void)state;
	assert_true(utf8_valid("日本語", strlen("日本語")));
	assert_false(utf8_valid("\xC0\xAF", 2));
	assert_false(utf8_valid("\xED\xA0\x80", 3));
	assert_false(utf8_valid("\xF4\x90\x80\x80", 4));
	assert_false(utf8_valid("\xE3\x81", 2));
	assert_int_equal(utf8_count("a①\xff", 5), 3);
}

static void config_types_and_limits(void **state)
{
	cfg_t c;
	char err[256];

	(void)state;
	assert_int_equal(cfg_init(&c), 0);
	assert_true(cfg_is(&c, CFG_LINK_STYLE, "defang"));
	assert_int_equal(cfg_set(&c, "link_style", "plain", err, sizeof(err)), 0);
	assert_int_equal(cfg_int(&c, CFG_LINK_STYLE), 1);
	assert_int_equal(cfg_set(&c, "link_style", "bogus", err, sizeof(err)), -1);
	assert_str_eq_msg(err, "link_style: 'bogus' is not one of defang|plain|remove");
	assert_int_equal(cfg_set(&c, "message_size_max", "10M", err, sizeof(err)), 0);
	assert_int_equal(lim(&c.lim, LIM_MESSAGE_SIZE), 10 * 1024 * 1024);
	assert_int_equal(cfg_set(&c, "mime_depth_max", "0", err, sizeof(err)), -1);
	assert_int_equal(cfg_set(&c, "nope", "1", err, sizeof(err)), -1);
	assert_str_eq_msg(err, "unknown key 'nope'");
	assert_true(cfg_list_has(&c, CFG_HEADER_KEEP, "message-id"));
	assert_false(cfg_list_has(&c, CFG_HEADER_KEEP, "Received"));
	cfg_free(&c);
}

static void config_file_errors_name_the_line(void **state)
{
	cfg_t c;
	char err[512], path[] = "/tmp/mugai-cfg-XXXXXX";
	int fd = mkstemp(path);
	FILE *f = fdopen(fd, "w");

	(void)state;
	fputs("# comment\n\nnotice_lang = en\nattachments = explode\n", f);
	fclose(f);
	assert_int_equal(cfg_init(&c), 0);
	assert_int_equal(cfg_load(&c, path, err, sizeof(err)), -1);
	assert_non_null(strstr(err, ":4: attachments: 'explode' is not one of"));
	assert_true(cfg_is(&c, CFG_NOTICE_LANG, "en"));
	unlink(path);
	cfg_free(&c);
}

/* Records: what is written reads back; a short or oversized field fails
 * without moving the reader; text with a control or bad UTF-8 is refused. */
static void rec_round_trip_and_bounds(void **state)
{
	buf_t b;
	rec_reader_t r, save;
	uint32_t u32;
	uint64_t u64;
	const char *p;
	size_t n;

	(void)state;
	buf_init(&b, 1024);
	assert_int_equal(rec_put_u32(&b, 7), 0);
	assert_int_equal(rec_put_u64(&b, 1ull << 40), 0);
	assert_int_equal(rec_put_bytes(&b, "見積", 6), 0);
	r = rec_reader(b.data, b.len);
	assert_int_equal(rec_get_u32(&r, &u32), 0);
	assert_int_equal(u32, 7);
	assert_int_equal(rec_get_u64(&r, &u64), 0);
	assert_true(u64 == 1ull << 40);
	save = r;
	assert_int_equal(rec_get_bytes(&r, 5, &p, &n), -1);   /* over max */
	assert_ptr_equal(r.p, save.p);
	assert_int_equal(rec_get_bytes(&r, 6, &p, &n), 0);
	assert_int_equal(n, 6);
	assert_memory_equal(p, "見積", 6);
	assert_true(rec_text_ok(p, n));
	assert_int_equal(r.left, 0);
	assert_int_equal(rec_get_u32(&r, &u32), -1);           /* nothing left */
	r = rec_reader(b.data, b.len - 1);                      /* cut short */
	assert_int_equal(rec_view(&r, 12, &p), 0);
	save = r;
	assert_int_equal(rec_get_bytes(&r, 100, &p, &n), -1);
	assert_ptr_equal(r.p, save.p);
	assert_false(rec_text_ok("a\0b", 3));
	assert_false(rec_text_ok("a\rb", 3));
	assert_false(rec_text_ok("a\x7f", 2));
	assert_false(rec_text_ok("\xe8\xa6", 2));
	buf_free(&b);
}

/* FIPS 180-4 examples (and the million a's of its test vectors), and
 * the same digest fed in uneven steps. */
static void sha256_known_vectors(void **state)
{
	static const struct { const char *in; const char *hex; } v[] = {
		{ "", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" },
		{ "abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" },
		{ "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
		  "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1" },
	};
	char hex[SHA256_HEX_LEN + 1];
	char *a = malloc(1000000);
	sha256_t h;

	(void)state;
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		sha256_hex(v[i].in, strlen(v[i].in), hex);
		assert_str_eq_msg(hex, v[i].hex);
	}
	assert_non_null(a);
	memset(a, 'a', 1000000);
	sha256_hex(a, 1000000, hex);
	assert_str_eq_msg(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
	sha256_begin(&h);
	for (size_t off = 0, k = 1; off < 1000000; off += k, k = k * 3 % 1001 + 1)
		sha256_add(&h, a + off, off + k > 1000000 ? 1000000 - off : k);
	sha256_hex_end(&h, hex);
	assert_str_eq_msg(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
	free(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(buf_cap_is_hard),
		cmocka_unit_test(buf_utf8_and_printf),
		cmocka_unit_test(json_escapes_and_repairs),
		cmocka_unit_test(utf8_rejects_overlong_and_surrogates),
		cmocka_unit_test(config_types_and_limits),
		cmocka_unit_test(config_file_errors_name_the_line),
		cmocka_unit_test(rec_round_trip_and_bounds),
		cmocka_unit_test(sha256_known_vectors),
	};
	return cmocka_run_group_tests_name("common", tests, NULL, NULL);
}
