/* test_formula.c — formula.c, the one formula checker of OOXML and ODF CDR:
 * exact verdicts and reasons for allowed functions, external references,
 * DDE, URL/UNC literals, prefixes, dialects and lengths that are not
 * NUL-terminated; and that the function allowlist is sorted (binary search). */
#include "testutil.h"
#include "cdr/cdr_formula.h"

static void expect(const char *f, cdr_formula_dialect_t d, const char *why_want)
{
	char why[96];
	bool ok = cdr_formula_ok(f, strlen(f), d, why, sizeof(why));

	if (!why_want) {
		if (!ok)
			fail_msg("%s: refused (%s)", f, why);
		return;
	}
	if (ok)
		fail_msg("%s: passed", f);
	assert_string_equal(why, why_want);
}

static void ooxml_formulas(void **state)
{
	(void)state;
	expect("SUM(A1:B2)", CDR_F_OOXML, NULL);
	expect("_xlfn._xlws.FILTER(A1:A9,B1:B9>0)", CDR_F_OOXML, NULL);
	expect("'My Sheet'!A1*2+Table1[[#This Row],[Col]]", CDR_F_OOXML, NULL);
	expect("IF(A1>0,\"ok\",\"\")&T(\"a\"\"b\")", CDR_F_OOXML, NULL);
	expect("{1,2;3,4}+#REF!+A1#", CDR_F_OOXML, NULL);
	expect("HYPERLINK(\"https://x\",\"y\")", CDR_F_OOXML, "function HYPERLINK not allowed");
	expect("_xlfn.IMAGE(\"http://x\")", CDR_F_OOXML, "function _XLFN.IMAGE not allowed");
	expect("_xlfn.WEBSERVICE(A1)", CDR_F_OOXML, "function _XLFN.WEBSERVICE not allowed");
	expect("_xludf.MINE(1)", CDR_F_OOXML, "function _XLUDF.MINE not allowed");
	expect("cmd|' /c calc'!A0", CDR_F_OOXML, "DDE");
	expect("=cmd|x!A0", CDR_F_OOXML, "DDE");
	expect("[1]Sheet1!A1", CDR_F_OOXML, "external workbook reference");
	expect("'C:\\x\\[a.xlsx]S'!A1", CDR_F_OOXML, "external workbook reference");
	expect("'\\\\host\\s\\[a.xlsx]S'!A1", CDR_F_OOXML, "external workbook reference");
	expect("LEN(\"\\\\host\\share\")", CDR_F_OOXML, "URL or UNC path in a string");
	expect("LEN(\"file:///etc\")", CDR_F_OOXML, "URL or UNC path in a string");
	expect("T1[a|b]", CDR_F_OOXML, "DDE");
	expect("SUM(A1", CDR_F_OOXML, NULL); /* unbalanced is Excel's problem, not ours */
	expect("\"open", CDR_F_OOXML, "unterminated string");
	expect("A1\\B1", CDR_F_OOXML, "unexpected character 0x5c");
	expect("INFO(\"directory\")", CDR_F_OOXML, "function INFO not allowed");
	expect("CELL(\"address\",A1)", CDR_F_OOXML, NULL);
}

static void odf_formulas(void **state)
{
	(void)state;
	expect("of:=SUM([.A1:.B2])", CDR_F_ODF, NULL);
	expect("of:=[$'My Sheet'.A1]", CDR_F_ODF, NULL);
	expect("of:=['file:///C:/x.ods'#$Sheet1.A1]", CDR_F_ODF, "external document reference");
	expect("of:=[$Sheet1.A1#x]", CDR_F_ODF, "external document reference");
	expect("of:=COM.MICROSOFT.WEBSERVICE(\"x\")", CDR_F_ODF, "function COM.MICROSOFT.WEBSERVICE not allowed");
	expect("of:=DDE(\"soffice\";\"x\";\"y\")", CDR_F_ODF, "function DDE not allowed");
	expect("msoxl:=[1]S!A1", CDR_F_ODF, "external workbook reference");
	expect("of:cell-content-is-between(1;10)", CDR_F_ODF_COND, NULL);
	expect("of:cell-content-is-between(1;10)", CDR_F_ODF, "function BETWEEN not allowed");
	expect("of:is-true-formula(WEBSERVICE(\"x\"))", CDR_F_ODF_COND, "function WEBSERVICE not allowed");
}

static void length_is_honoured(void **state)
{
	char why[96];

	(void)state;
	/* the part after len is never read: "SUM(1)" passes, "SUM(1)|x" would not */
	assert_true(cdr_formula_ok("SUM(1)|x", 6, CDR_F_OOXML, why, sizeof(why)));
	assert_false(cdr_formula_ok("SUM(1)|x", 8, CDR_F_OOXML, NULL, 0));
	assert_true(cdr_formula_ok("", 0, CDR_F_OOXML, why, sizeof(why)));
}

static void allowlist_sorted(void **state)
{
	static const char *const some[] = { "ABS", "SUM", "VLOOKUP", "XLOOKUP", "Z.TEST", "LET",
					    "LAMBDA", "TEXTJOIN", "IFERROR", "NETWORKDAYS.INTL" };

	(void)state;
	for (size_t i = 0; i < sizeof(some) / sizeof(some[0]); i++)
		if (!cdr_formula_fn_allowed(some[i]))
			fail_msg("%s not found: fn_allow not sorted?", some[i]);
	assert_false(cdr_formula_fn_allowed("HYPERLINK"));
	assert_false(cdr_formula_fn_allowed("RTD"));
	assert_false(cdr_formula_fn_allowed("CALL"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(ooxml_formulas),
		cmocka_unit_test(odf_formulas),
		cmocka_unit_test(length_is_honoured),
		cmocka_unit_test(allowlist_sorted),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
