/*
 * test_encblock.c — uuencode, BinHex 4.0 and yEnc blocks cut out of text:
 * the block goes, its decoded name and size are reported, the words
 * around it stay; malformed blocks are cut too.
 */
#include "testutil.h"

#include "common/defs.h"
#include "text/encblock.h"

typedef struct seen {
	encblock_t b[4];
	int n;
} seen_t;

static int record(void *arg, const encblock_t *b)
{
	seen_t *s = arg;

	if (s->n < 4)
		s->b[s->n] = *b;
	s->n++;
	return 0;
}

static char *strip(const char *in, seen_t *s, int want)
{
	buf_t out;
	int n;

	memset(s, 0, sizeof(*s));
	buf_init(&out, 1 << 20);
	n = encblock_strip(in, strlen(in), &out, record, s);
	assert_int_equal(n, want);
	assert_int_equal(s->n, want);
	return buf_steal(&out, NULL);
}

static void uu_complete(void **st)
{
	seen_t s;
	char *o = strip("before\n"
			"begin 644 invoice.exe\n"
			"$35H``0``\n"
			"`\n"
			"end\n"
			"after\n", &s, 1);

	(void)st;
	assert_str_eq_msg(o, "before\nafter\n");
	assert_int_equal(s.b[0].kind, ENCBLOCK_UU);
	assert_str_eq_msg(s.b[0].name, "invoice.exe");
	assert_int_equal(s.b[0].size, 4);
	assert_true(s.b[0].complete);
	free(o);
}

static void uu_no_end(void **st)
{
	seen_t s;
	char *o = strip("  begin 0755 請求書.exe\r\n"
			"M5&AE(&1A=&$@;V8@=&AE(&9I;&4@=&AA=\"!S:&]U;&0@;F]T(&-R;W-S\r\n"
			"\r\n"
			"ご確認ください。\r\n", &s, 1);

	(void)st;
	assert_str_eq_msg(o, "\r\nご確認ください。\r\n");
	assert_str_eq_msg(s.b[0].name, "請求書.exe");
	assert_int_equal(s.b[0].size, 45);
	assert_false(s.b[0].complete);
	free(o);
}

static void uu_base64(void **st)
{
	seen_t s;
	char *o = strip("begin-base64 644 a.scr\nTVqQAAMAAAAEAAAA\n====\nok\n", &s, 1);

	(void)st;
	assert_str_eq_msg(o, "ok\n");
	assert_str_eq_msg(s.b[0].name, "a.scr");
	assert_int_equal(s.b[0].size, 12);
	free(o);
}

static void not_a_block(void **st)
{
	seen_t s;
	const char *in = "Let us begin 644 tasks.\nbegin with this\nbegin 644\n=y begin\n"
			 "(This file is BinHex)\n";
	char *o = strip(in, &s, 0);

	(void)st;
	assert_str_eq_msg(o, in);
	assert_false(encblock_has_start(in, strlen(in)));
	free(o);
}

static void binhex(void **st)
{
	seen_t s;
	char *o = strip("本文です。\n"
			"(This file must be converted with BinHex 4.0)\n"
			"\n"
			":#A0PG(9`,Q9iC3\"\"8&\"-699(33!!!!!!,!!!!!#-[NeDN!!!38&\"38&\"38&\"38&\n"
			"\"38&\"38&\"38&\"38&\"38&\"38&\"38&\"38&\"38&\"3C@M!!!:\n"
			"以上。\n", &s, 1);

	(void)st;
	assert_str_eq_msg(o, "本文です。\n以上。\n");
	assert_int_equal(s.b[0].kind, ENCBLOCK_BINHEX);
	assert_str_eq_msg(s.b[0].name, "setup.exe");
	assert_int_equal(s.b[0].size, 44);
	assert_true(s.b[0].complete);
	free(o);
}

static void binhex_malformed(void **st)
{
	seen_t s;
	char *o = strip("(this file must be converted with binhex 5.0)\n:!!!!\n\nnext\n", &s, 1);

	(void)st;
	assert_str_eq_msg(o, "\nnext\n");
	assert_false(s.b[0].complete);
	assert_str_eq_msg(s.b[0].name, "");
	free(o);
}

static void yenc(void **st)
{
	seen_t s;
	char *o = strip("hi\n=ybegin line=128 size=3 name=run me.bat\nabc\n=yend size=3\nbye\n",
			&s, 1);

	(void)st;
	assert_str_eq_msg(o, "hi\nbye\n");
	assert_int_equal(s.b[0].kind, ENCBLOCK_YENC);
	assert_str_eq_msg(s.b[0].name, "run me.bat");
	assert_int_equal(s.b[0].size, 3);
	free(o);
}

static void yenc_no_end(void **st)
{
	seen_t s;
	char *o = strip("hi\n=ybegin name=x.exe\nabc\nmore text\n", &s, 1);

	(void)st;
	assert_str_eq_msg(o, "hi\n");
	assert_false(s.b[0].complete);
	free(o);
}

static void several_and_long_name(void **st)
{
	char in[2048];
	seen_t s;
	char *o;

	(void)st;
	memset(in, 0, sizeof(in));
	strcpy(in, "begin 644 ");
	for (int i = 0; i < 200; i++)
		strcat(in, "あ"); /* 600 bytes: cut at 255 → 85 characters */
	strcat(in, "\nend\nx\n=ybegin name=b\n=yend\n");
	o = strip(in, &s, 2);
	assert_str_eq_msg(o, "x\n");
	assert_int_equal(strlen(s.b[0].name), 255);
	assert_str_eq_msg(s.b[1].name, "b");
	free(o);
}

static void linear(void **st)
{
	size_t n = 4 << 20;
	char *in = malloc(n + 1);
	buf_t out;

	(void)st;
	for (size_t i = 0; i < n; i++)
		in[i] = "begin 7 \n=ybegin"[i % 16];
	in[n] = '\0';
	buf_init(&out, n + 1);
	assert_true(encblock_strip(in, n, &out, NULL, NULL) >= 1);
	buf_free(&out);
	free(in);
}

int main(void)
{
	const struct CMUnitTest t[] = {
		cmocka_unit_test(uu_complete), cmocka_unit_test(uu_no_end),
		cmocka_unit_test(uu_base64), cmocka_unit_test(not_a_block),
		cmocka_unit_test(binhex), cmocka_unit_test(binhex_malformed),
		cmocka_unit_test(yenc), cmocka_unit_test(yenc_no_end),
		cmocka_unit_test(several_and_long_name), cmocka_unit_test(linear),
	};

	return cmocka_run_group_tests_name("encblock", t, NULL, NULL);
}
