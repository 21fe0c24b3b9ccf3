/* test_clamd.c — the clamd protocol pieces (src/daemon/clamd.c): the
 * `antivirus` value, the chunk length prefix and the reply parser, which
 * reads a reply from a process that read the hostile original. The daemon
 * is not in libmugai.a, so its pure protocol file is compiled in directly. */
#include "testutil.h"
#include <arpa/inet.h>
#include "daemon/clamd.c"

static void replies(void **state)
{
	static const struct { const char *in; size_t len; clamd_verdict_t want; const char *sig; } t[] = {
		{ "stream: OK", 0, CLAMD_CLEAN, "" },
		{ "stream: OK\n", 0, CLAMD_CLEAN, "" },
		{ "stream: OK\0", 11, CLAMD_CLEAN, "" },
		{ "stream: Eicar-Test-Signature FOUND", 0, CLAMD_FOUND, "Eicar-Test-Signature" },
		{ "stream: Win.Test.EICAR_HDB-1 FOUND\0", 36, CLAMD_FOUND, "Win.Test.EICAR_HDB-1" },
		{ "stream: a b FOUND", 0, CLAMD_FOUND, "a?b" },
		{ "stream: Evil\x1b[31m FOUND", 0, CLAMD_FOUND, "Evil?[31m" },
		{ "stream: \xe2\x80\xae FOUND", 0, CLAMD_FOUND, "???" },
		{ "stream:  FOUND", 0, CLAMD_ERROR, "" },
		{ "stream: FOUND", 0, CLAMD_ERROR, "" },
		{ "stream: OKAY", 0, CLAMD_ERROR, "" },
		{ "stream: ok", 0, CLAMD_ERROR, "" },
		{ "INSTREAM size limit exceeded. ERROR", 0, CLAMD_ERROR, "" },
		{ "stream: Can't allocate memory ERROR", 0, CLAMD_ERROR, "" },
		{ "Stream: OK", 0, CLAMD_ERROR, "" },
		{ "", 0, CLAMD_ERROR, "" },
		{ "stream: OK\0stream: X FOUND", 27, CLAMD_ERROR, "" },
		{ "stream: X\0 FOUND", 16, CLAMD_ERROR, "" },
	};

	(void)state;
	for (size_t i = 0; i < MUGAI_ARRAY_LEN(t); i++) {
		char sig[CLAMD_SIG_MAX];
		size_t len = t[i].len ? t[i].len : strlen(t[i].in);
		clamd_verdict_t v = clamd_reply_parse(t[i].in, len, sig, sizeof(sig));

		if (v != t[i].want || strcmp(sig, t[i].sig) != 0)
			print_error("case %zu [%s]: got %d [%s], want %d [%s]\n", i, t[i].in, v, sig,
				    t[i].want, t[i].sig);
		assert_int_equal(v, t[i].want);
		assert_str_eq_msg(sig, t[i].sig);
	}
}

/* A long name is cut to the buffer, never past it. */
static void long_signature_cut(void **state)
{
	char in[CLAMD_SIG_MAX * 2 + 32], sig[CLAMD_SIG_MAX];
	size_t n = (size_t)snprintf(in, sizeof(in), "stream: ");

	(void)state;
	memset(in + n, 'A', CLAMD_SIG_MAX * 2);
	n += CLAMD_SIG_MAX * 2;
	n += (size_t)snprintf(in + n, sizeof(in) - n, " FOUND");
	assert_int_equal(clamd_reply_parse(in, n, sig, sizeof(sig)), CLAMD_FOUND);
	assert_int_equal(strlen(sig), CLAMD_SIG_MAX - 1);
}

static void targets(void **state)
{
	static const struct { const char *in; int rc; av_kind_t kind; const char *err; } t[] = {
		{ "none", 0, AV_NONE, NULL },
		{ "", 0, AV_NONE, NULL },
		{ "clamd:/run/clamav/clamd.ctl", 0, AV_UNIX, NULL },
		{ "clamd:127.0.0.1:3310", 0, AV_INET, NULL },
		{ "clamd:[::1]:3310", 0, AV_INET, NULL },
		{ "clamd:127.0.0.1:0", -1, AV_NONE, "want clamd:/path or clamd:IP:PORT" },
		{ "clamd:127.0.0.1:65536", -1, AV_NONE, "want clamd:/path" },
		{ "clamd:127.0.0.1:+33", -1, AV_NONE, "want clamd:/path" },
		{ "clamd:127.0.0.1", -1, AV_NONE, "want clamd:/path" },
		{ "clamd:localhost:3310", -1, AV_NONE, "must be a numeric IP address" },
		{ "clamd:run/clamd.ctl", -1, AV_NONE, "want clamd:/path" },
		{ "clamav:/x", -1, AV_NONE, "want none, clamd:/path" },
	};

	(void)state;
	for (size_t i = 0; i < MUGAI_ARRAY_LEN(t); i++) {
		av_target_t tg;
		char err[256] = "";
		int rc = clamd_parse_target(t[i].in, &tg, err, sizeof(err));

		if (rc != t[i].rc || (rc == 0 && tg.kind != t[i].kind) ||
		    (t[i].err && !strstr(err, t[i].err)))
			print_error("case %zu [%s]: got %d kind %d [%s]\n", i, t[i].in, rc, tg.kind, err);
		assert_int_equal(rc, t[i].rc);
		if (rc == 0)
			assert_int_equal(tg.kind, t[i].kind);
		if (t[i].err)
			assert_non_null(strstr(err, t[i].err));
	}
}

static void unix_path_too_long(void **state)
{
	char spec[200];
	av_target_t tg;
	char err[512];

	(void)state;
	memset(spec, 'a', sizeof(spec));
	memcpy(spec, "clamd:/", 7);
	spec[sizeof(spec) - 1] = '\0';
	assert_int_equal(clamd_parse_target(spec, &tg, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "must be an absolute path shorter than"));
}

static void inet_address(void **state)
{
	av_target_t tg;
	char err[256];
	const struct sockaddr_in *in4 = (const struct sockaddr_in *)&tg.sa;

	(void)state;
	assert_int_equal(clamd_parse_target("clamd:10.1.2.3:3310", &tg, err, sizeof(err)), 0);
	assert_int_equal(in4->sin_family, AF_INET);
	assert_int_equal(ntohs(in4->sin_port), 3310);
	assert_int_equal(ntohl(in4->sin_addr.s_addr), 0x0a010203);
}

static void chunk_header(void **state)
{
	unsigned char h[4];

	(void)state;
	clamd_chunk_header(0x01020304, h);
	assert_memory_equal(h, "\x01\x02\x03\x04", 4);
	clamd_chunk_header(0, h);
	assert_memory_equal(h, "\0\0\0\0", 4);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(replies),
		cmocka_unit_test(long_signature_cut),
		cmocka_unit_test(targets),
		cmocka_unit_test(unix_path_too_long),
		cmocka_unit_test(inet_address),
		cmocka_unit_test(chunk_header),
	};

	return cmocka_run_group_tests_name("clamd", tests, NULL, NULL);
}
