/*
 * fuzz_cdr_ppap.c — libFuzzer target for encrypted zips opened with PPAP
 * password candidates (cdr_sanitize_pw: ZipCrypto and WinZip AES through
 * libzip, the AE-2 CRC quirk, the candidate loop). The seeds are zips
 * encrypted under one of the candidates below, so mutations reach the
 * decryption and the entries behind it.
 *
 * Invariants: those of every CDR verdict (fuzz_cdr_common.h), and no
 * candidate appears in the reason or the JSON report.
 *
 * SECURITY: test harness only.
 */
#include "fuzz_cdr_common.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	static const char *const pw[] = { "Pw-cand-0", "Zc-pass1", "Ae2-pass", "Aes-Right9" };
	cdr_result_t r;
	buf_t j;

	(void)fuzz_one; /* the shared body, for the targets without candidates */
	if (cdr_sanitize_pw(fuzz_cfg(), "f.zip", data, size, CDR_MODE_REBUILD, pw, 4, &r) < 0)
		abort();
	if (r.verdict == CDR_BLOCKED && (!r.reason[0] || r.out.len))
		abort();
	if (r.verdict == CDR_SANITIZED && (!r.out_type || !r.out.len))
		abort();
	buf_init(&j, 1 << 20);
	if (cdr_result_json(&r, &j) < 0)
		abort();
	for (size_t i = 0; i < sizeof(pw) / sizeof(pw[0]); i++)
		if (strstr(r.reason, pw[i]) || (j.data && strstr(j.data, pw[i])))
			abort();
	buf_free(&j);
	cdr_result_free(&r);
	return 0;
}
