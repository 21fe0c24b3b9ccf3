/*
 * formula.c — one tokenizer for every spreadsheet formula the package
 * formats hold: SpreadsheetML cells (<f>), defined names, conditional
 * formats (<formula>), data validation (<formula1>/<formula2>), chart
 * references (<c:f>), and OpenFormula in ODF (table:formula, conditions,
 * validations, named expressions).
 *
 * A formula passes only when (1) every function it calls is on the
 * allowlist below (functions with no effect outside the workbook: maths,
 * statistics, text, dates, lookups inside the workbook), (2) it has no DDE
 * ('|' outside a string), (3) no external workbook reference ("[1]Sheet!A1",
 * "'C:\x\[a.xlsx]S'!A1", "'\\host\share\[a.xlsx]S'!A1", ODF
 * "['file:///x.ods'#$S.A1]"), (4) no string literal that is a URL or a UNC
 * path, and (5) no character outside the formula grammar. Everything else
 * fails: an unknown function is as bad as a known-bad one.
 *
 * Not on the allowlist, on purpose: HYPERLINK (opens a URL or file), IMAGE
 * (fetches a URL), WEBSERVICE and FILTERXML (sends cell data to a URL and
 * parses the answer), STOCKHISTORY, TRANSLATE, DETECTLANGUAGE, PY (online
 * services), RTD and the CUBE* functions (external data servers), CALL,
 * REGISTER, REGISTER.ID, EXEC, RUN, DDE and every XLM macro function
 * (run code), INFO (reports the directory and the system), SQL.REQUEST,
 * EUROCONVERT and any add-in (_xludf.) or user function. CELL is allowed
 * (it only reads the workbook; the file name it can return goes nowhere
 * without a function above). To allow a function, add its upper-case name to
 * fn_allow (kept sorted: it is binary-searched); the test
 * tests/cli/test_file_office_cdr.py holds the independent copy.
 *
 * Specs: ECMA-376 Part 1 §18.17 (formulas), OASIS OpenFormula (ODF 1.2
 * Part 2) §5 (expression syntax), ODF 1.2 Part 1 §19.648 (conditions).
 *
 * SECURITY: pure function on a bounded string from a hostile document; no
 * allocation, no recursion. Fuzzed by fuzz/fuzz_formula.c.
 */
#include "cdr/cdr_formula.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "common/limits.h"

static const char *const fn_allow[] = {
	"ABS", "ACCRINT", "ACCRINTM", "ACOS", "ACOSH", "ACOT", "ACOTH", "ADDRESS", "AGGREGATE",
	"AMORDEGRC", "AMORLINC", "AND", "ARABIC", "AREAS", "ARRAYTOTEXT", "ASC", "ASIN", "ASINH",
	"ATAN", "ATAN2", "ATANH", "AVEDEV", "AVERAGE", "AVERAGEA", "AVERAGEIF", "AVERAGEIFS", "B",
	"BAHTTEXT", "BASE", "BESSELI", "BESSELJ", "BESSELK", "BESSELY", "BETA.DIST", "BETA.INV",
	"BETADIST", "BETAINV", "BIN2DEC", "BIN2HEX", "BIN2OCT", "BINOM.DIST", "BINOM.DIST.RANGE",
	"BINOM.INV", "BINOMDIST", "BITAND", "BITLSHIFT", "BITOR", "BITRSHIFT", "BITXOR", "BYCOL",
	"BYROW", "CEILING", "CEILING.MATH", "CEILING.PRECISE", "CELL", "CHAR", "CHIDIST",
	"CHIINV", "CHISQ.DIST", "CHISQ.DIST.RT", "CHISQ.INV", "CHISQ.INV.RT", "CHISQ.TEST",
	"CHISQDIST", "CHISQINV", "CHITEST", "CHOOSE", "CHOOSECOLS", "CHOOSEROWS", "CLEAN", "CODE",
	"COLUMN", "COLUMNS", "COMBIN", "COMBINA", "COMPLEX", "CONCAT", "CONCATENATE",
	"CONFIDENCE", "CONFIDENCE.NORM", "CONFIDENCE.T", "CONVERT", "CORREL", "COS", "COSH",
	"COT", "COTH", "COUNT", "COUNTA", "COUNTBLANK", "COUNTIF", "COUNTIFS", "COUPDAYBS",
	"COUPDAYS", "COUPDAYSNC", "COUPNCD", "COUPNUM", "COUPPCD", "COVAR", "COVARIANCE.P",
	"COVARIANCE.S", "CRITBINOM", "CSC", "CSCH", "CUMIPMT", "CUMPRINC", "CURRENT", "DATE",
	"DATEDIF", "DATEVALUE", "DAVERAGE", "DAY", "DAYS", "DAYS360", "DAYSINMONTH", "DAYSINYEAR",
	"DB", "DBCS", "DCOUNT", "DCOUNTA", "DDB", "DEC2BIN", "DEC2HEX", "DEC2OCT", "DECIMAL",
	"DEGREES", "DELTA", "DEVSQ", "DGET", "DISC", "DMAX", "DMIN", "DOLLAR", "DOLLARDE",
	"DOLLARFR", "DPRODUCT", "DROP", "DSTDEV", "DSTDEVP", "DSUM", "DURATION", "DVAR", "DVARP",
	"EASTERSUNDAY", "EDATE", "EFFECT", "ENCODEURL", "EOMONTH", "ERF", "ERF.PRECISE", "ERFC",
	"ERFC.PRECISE", "ERROR.TYPE", "ERRORTYPE", "EVEN", "EXACT", "EXP", "EXPAND", "EXPON.DIST",
	"EXPONDIST", "F.DIST", "F.DIST.RT", "F.INV", "F.INV.RT", "F.TEST", "FACT", "FACTDOUBLE",
	"FALSE", "FDIST", "FILTER", "FIND", "FINDB", "FINV", "FISHER", "FISHERINV", "FIXED",
	"FLOOR", "FLOOR.MATH", "FLOOR.PRECISE", "FORECAST", "FORECAST.ETS",
	"FORECAST.ETS.CONFINT", "FORECAST.ETS.SEASONALITY", "FORECAST.ETS.STAT",
	"FORECAST.LINEAR", "FORMULATEXT", "FREQUENCY", "FTEST", "FV", "FVSCHEDULE", "GAMMA",
	"GAMMA.DIST", "GAMMA.INV", "GAMMADIST", "GAMMAINV", "GAMMALN", "GAMMALN.PRECISE", "GAUSS",
	"GCD", "GEOMEAN", "GESTEP", "GETPIVOTDATA", "GROWTH", "HARMEAN", "HEX2BIN", "HEX2DEC",
	"HEX2OCT", "HLOOKUP", "HOUR", "HSTACK", "HYPGEOM.DIST", "HYPGEOMDIST", "IF", "IFERROR",
	"IFNA", "IFS", "IMABS", "IMAGINARY", "IMARGUMENT", "IMCONJUGATE", "IMCOS", "IMCOSH",
	"IMCOT", "IMCSC", "IMCSCH", "IMDIV", "IMEXP", "IMLN", "IMLOG10", "IMLOG2", "IMPOWER",
	"IMPRODUCT", "IMREAL", "IMSEC", "IMSECH", "IMSIN", "IMSINH", "IMSQRT", "IMSUB", "IMSUM",
	"IMTAN", "INDEX", "INDIRECT", "INT", "INTERCEPT", "INTRATE", "IPMT", "IRR", "ISBLANK",
	"ISERR", "ISERROR", "ISEVEN", "ISFORMULA", "ISLEAPYEAR", "ISLOGICAL", "ISNA", "ISNONTEXT",
	"ISNUMBER", "ISO.CEILING", "ISODD", "ISOMITTED", "ISOWEEKNUM", "ISPMT", "ISREF", "ISTEXT",
	"JIS", "KURT", "LAMBDA", "LARGE", "LCM", "LEFT", "LEFTB", "LEGACY.CHIDIST",
	"LEGACY.CHIINV", "LEGACY.FDIST", "LEGACY.FINV", "LEGACY.NORMSDIST", "LEGACY.NORMSINV",
	"LEGACY.TDIST", "LEGACY.TINV", "LEN", "LENB", "LET", "LINEST", "LN", "LOG", "LOG10",
	"LOGEST", "LOGINV", "LOGNORM.DIST", "LOGNORM.INV", "LOGNORMDIST", "LOOKUP", "LOWER",
	"MAKEARRAY", "MAP", "MATCH", "MAX", "MAXA", "MAXIFS", "MDETERM", "MDURATION", "MEDIAN",
	"MID", "MIDB", "MIN", "MINA", "MINIFS", "MINUTE", "MINVERSE", "MIRR", "MMULT", "MOD",
	"MODE", "MODE.MULT", "MODE.SNGL", "MONTH", "MONTHS", "MROUND", "MULTINOMIAL",
	"MULTIPLE.OPERATIONS", "MUNIT", "N", "NA", "NEGBINOM.DIST", "NEGBINOMDIST", "NETWORKDAYS",
	"NETWORKDAYS.INTL", "NOMINAL", "NORM.DIST", "NORM.INV", "NORM.S.DIST", "NORM.S.INV",
	"NORMDIST", "NORMINV", "NORMSDIST", "NORMSINV", "NOT", "NOW", "NPER", "NPV",
	"NUMBERVALUE", "OCT2BIN", "OCT2DEC", "OCT2HEX", "ODD", "ODDFPRICE", "ODDFYIELD",
	"ODDLPRICE", "ODDLYIELD", "OFFSET", "OR", "PDURATION", "PEARSON", "PERCENTILE",
	"PERCENTILE.EXC", "PERCENTILE.INC", "PERCENTRANK", "PERCENTRANK.EXC", "PERCENTRANK.INC",
	"PERMUT", "PERMUTATIONA", "PHI", "PHONETIC", "PI", "PMT", "POISSON", "POISSON.DIST",
	"POWER", "PPMT", "PRICE", "PRICEDISC", "PRICEMAT", "PROB", "PRODUCT", "PROPER", "PV",
	"QUARTILE", "QUARTILE.EXC", "QUARTILE.INC", "QUOTIENT", "RADIANS", "RAND", "RANDARRAY",
	"RANDBETWEEN", "RANK", "RANK.AVG", "RANK.EQ", "RATE", "RECEIVED", "REDUCE", "REPLACE",
	"REPLACEB", "REPT", "RIGHT", "RIGHTB", "ROMAN", "ROT13", "ROUND", "ROUNDDOWN", "ROUNDUP",
	"ROW", "ROWS", "RRI", "RSQ", "SCAN", "SEARCH", "SEARCHB", "SEC", "SECH", "SECOND",
	"SEQUENCE", "SERIESSUM", "SHEET", "SHEETS", "SIGN", "SIN", "SINGLE", "SINH", "SKEW",
	"SKEW.P", "SLN", "SLOPE", "SMALL", "SORT", "SORTBY", "SQRT", "SQRTPI", "STANDARDIZE",
	"STDEV", "STDEV.P", "STDEV.S", "STDEVA", "STDEVP", "STDEVPA", "STEYX", "SUBSTITUTE",
	"SUBTOTAL", "SUM", "SUMIF", "SUMIFS", "SUMPRODUCT", "SUMSQ", "SUMX2MY2", "SUMX2PY2",
	"SUMXMY2", "SWITCH", "SYD", "T", "T.DIST", "T.DIST.2T", "T.DIST.RT", "T.INV", "T.INV.2T",
	"T.TEST", "TAKE", "TAN", "TANH", "TBILLEQ", "TBILLPRICE", "TBILLYIELD", "TDIST", "TEXT",
	"TEXTAFTER", "TEXTBEFORE", "TEXTJOIN", "TEXTSPLIT", "TIME", "TIMEVALUE", "TINV", "TOCOL",
	"TODAY", "TOROW", "TRANSPOSE", "TREND", "TRIM", "TRIMMEAN", "TRUE", "TRUNC", "TTEST",
	"TYPE", "UNICHAR", "UNICODE", "UNIQUE", "UPPER", "VALUE", "VALUETOTEXT", "VAR", "VAR.P",
	"VAR.S", "VARA", "VARP", "VARPA", "VDB", "VLOOKUP", "VSTACK", "WEEKDAY", "WEEKNUM",
	"WEEKS", "WEEKSINYEAR", "WEIBULL", "WEIBULL.DIST", "WORKDAY", "WORKDAY.INTL", "WRAPCOLS",
	"WRAPROWS", "XIRR", "XLOOKUP", "XMATCH", "XNPV", "XOR", "YEAR", "YEARFRAC", "YEARS",
	"YIELD", "YIELDDISC", "YIELDMAT", "Z.TEST", "ZTEST",
};

/* ODF condition pseudo-functions (table:condition, style:condition,
 * calcext:value); only in CDR_F_ODF_COND. Sorted. */
static const char *const cond_allow[] = {
	"ABOVE-AVERAGE", "ABOVE-EQUAL-AVERAGE", "BEGINS-WITH", "BELOW-AVERAGE",
	"BELOW-EQUAL-AVERAGE", "BETWEEN", "BOTTOM-ELEMENTS", "BOTTOM-PERCENT",
	"CELL-CONTENT", "CELL-CONTENT-IS-BETWEEN", "CELL-CONTENT-IS-DATE",
	"CELL-CONTENT-IS-DECIMAL-NUMBER", "CELL-CONTENT-IS-IN-LIST",
	"CELL-CONTENT-IS-NOT-BETWEEN", "CELL-CONTENT-IS-TIME", "CELL-CONTENT-IS-WHOLE-NUMBER",
	"CELL-CONTENT-TEXT-LENGTH", "CELL-CONTENT-TEXT-LENGTH-IS-BETWEEN",
	"CELL-CONTENT-TEXT-LENGTH-IS-NOT-BETWEEN", "CONTAINS-TEXT", "DUPLICATE", "ENDS-WITH",
	"ERROR", "FORMULA-IS", "IS-TRUE-FORMULA", "NO-ERROR", "NOT-BETWEEN", "NOT-CONTAINS-TEXT",
	"TOP-ELEMENTS", "TOP-PERCENT", "UNIQUE", "VALUE",
};

/* Prefixes a stored function name may carry (Excel's future-function
 * markers, ODF namespaces for Excel/OOo functions); stripped before lookup. */
static const char *const fn_prefix[] = {
	"_XLFN.", "_XLWS.", "COM.MICROSOFT.", "ORG.OPENOFFICE.", "ORG.LIBREOFFICE.",
};

typedef struct fx {
	const char *p, *end;
	cdr_formula_dialect_t d;
	char *why;
	size_t whylen;
} fx_t;

static int cmp_name(const void *k, const void *e)
{
	return strcmp((const char *)k, *(const char *const *)e);
}

static bool in_list(const char *name, const char *const *list, size_t n)
{
	return bsearch(name, list, n, sizeof(*list), cmp_name) != NULL;
}

bool cdr_formula_fn_allowed(const char *name)
{
	return in_list(name, fn_allow, sizeof(fn_allow) / sizeof(fn_allow[0]));
}

static bool fail(fx_t *x, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static bool fail(fx_t *x, const char *fmt, ...)
{
	va_list ap;

	if (x->why && x->whylen) {
		va_start(ap, fmt);
		vsnprintf(x->why, x->whylen, fmt, ap);
		va_end(ap);
	}
	return false;
}

static bool has(const char *s, size_t n, const char *needle)
{
	size_t m = strlen(needle);

	for (size_t i = 0; i + m <= n; i++)
		if (strncasecmp(s + i, needle, m) == 0)
			return true;
	return false;
}

/* A string literal that names a place outside the workbook. */
static bool url_like(const char *s, size_t n)
{
	static const char *const bad[] = { "://", "\\\\", "mailto:", "file:", "http:", "https:",
					   "ftp:", "ms-", "\\\\?\\", "//" };

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (has(s, n, bad[i]))
			return true;
	return false;
}

/* Read a quoted run (q = '"' or '\'', doubled to escape) starting at x->p;
 * s and n get the raw inside. false when unterminated. */
static bool quoted(fx_t *x, char q, const char **s, size_t *n)
{
	const char *p = x->p + 1;

	*s = p;
	for (; p < x->end; p++) {
		if (*p != q)
			continue;
		if (p + 1 < x->end && p[1] == q) {
			p++;
			continue;
		}
		*n = (size_t)(p - *s);
		x->p = p + 1;
		return true;
	}
	return false;
}

/* A quoted sheet (or ODF document) name: a path or URL means another file. */
static bool sheet_name_ok(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strchr("[]\\/:|", s[i]))
			return false;
	return !url_like(s, n);
}

static bool ident_char(fx_t *x, unsigned char c)
{
	return isalnum(c) || c == '_' || c == '.' || c == '$' || c >= 0x80 ||
	       (c == '-' && x->d == CDR_F_ODF_COND);
}

static bool function_ok(fx_t *x, const char *s, size_t n)
{
	char name[FN_NAME_MAX];
	const char *p;
	bool stripped = true;

	if (n >= sizeof(name))
		return fail(x, "function %.40s... not allowed", s);
	for (size_t i = 0; i < n; i++)
		name[i] = (char)toupper((unsigned char)s[i]);
	name[n] = '\0';
	p = name;
	while (stripped) {
		stripped = false;
		for (size_t i = 0; i < sizeof(fn_prefix) / sizeof(fn_prefix[0]); i++)
			if (strncmp(p, fn_prefix[i], strlen(fn_prefix[i])) == 0) {
				p += strlen(fn_prefix[i]);
				stripped = true;
			}
	}
	if (cdr_formula_fn_allowed(p))
		return true;
	if (x->d == CDR_F_ODF_COND && in_list(p, cond_allow, sizeof(cond_allow) / sizeof(cond_allow[0])))
		return true;
	return fail(x, "function %s not allowed", name);
}

/* OOXML "[...]" after an operand start or a table name (structured
 * reference); "[1]Sheet!A1" style external references fail. */
static bool ooxml_bracket(fx_t *x, bool after_name)
{
	int depth = 0;

	if (!after_name && !(x->p + 1 < x->end && strchr("[#@", x->p[1])))
		return fail(x, "external workbook reference");
	for (; x->p < x->end; x->p++) {
		if (*x->p == '\'' && x->p + 1 < x->end) {
			x->p++; /* escapes the next character */
			continue;
		}
		if (*x->p == '|')
			return fail(x, "DDE"); /* even as a column name: no '|' outside strings */
		if (*x->p == '[')
			depth++;
		else if (*x->p == ']' && --depth == 0) {
			x->p++;
			return true;
		}
	}
	return fail(x, "unterminated reference");
}

/* ODF "[.A1]", "[$Sheet1.A1:.B2]", "['file:///x.ods'#$S.A1]" (fails). */
static bool odf_bracket(fx_t *x)
{
	x->p++;
	while (x->p < x->end && *x->p != ']') {
		const char *s;
		size_t n;

		if (*x->p == '\'') {
			if (!quoted(x, '\'', &s, &n))
				return fail(x, "unterminated name");
			if (!sheet_name_ok(s, n))
				return fail(x, "external document reference");
			continue;
		}
		if (*x->p == '#' || *x->p == '|' || *x->p == '\\' || *x->p == '[')
			return fail(x, "external document reference");
		x->p++;
	}
	if (x->p >= x->end)
		return fail(x, "unterminated reference");
	x->p++;
	return true;
}

static void skip_space(fx_t *x)
{
	while (x->p < x->end && (*x->p == ' ' || *x->p == '\t' || *x->p == '\r' || *x->p == '\n'))
		x->p++;
}

/* "of:=", "oooc:=", "msoxl:=" namespace prefix of ODF formulas. */
static void skip_prefix(fx_t *x)
{
	static const char *const ns[] = { "of:", "oooc:", "msoxl:" };

	skip_space(x);
	for (size_t i = 0; x->d != CDR_F_OOXML && i < sizeof(ns) / sizeof(ns[0]); i++)
		if ((size_t)(x->end - x->p) >= strlen(ns[i]) &&
		    strncasecmp(x->p, ns[i], strlen(ns[i])) == 0) {
			x->p += strlen(ns[i]);
			if (i == 2)
				x->d = CDR_F_OOXML; /* Excel syntax inside ODF */
			break;
		}
	skip_space(x);
	if (x->p < x->end && *x->p == '=')
		x->p++;
}

static bool identifier(fx_t *x, bool *was_name)
{
	const char *s = x->p;
	size_t n;

	while (x->p < x->end && ident_char(x, (unsigned char)*x->p))
		x->p++;
	n = (size_t)(x->p - s);
	skip_space(x);
	*was_name = true;
	if (x->p < x->end && *x->p == '(')
		return function_ok(x, s, n);
	return true;
}

bool cdr_formula_ok(const char *f, size_t len, cdr_formula_dialect_t d, char *why, size_t whylen)
{
	fx_t x = { .p = f, .end = f + len, .d = d, .why = why, .whylen = whylen };
	bool after_name = false;

	if (why && whylen)
		why[0] = '\0';
	skip_prefix(&x);
	while (x.p < x.end) {
		unsigned char c = (unsigned char)*x.p;
		const char *s;
		size_t n;
		bool name = false;

		if (c == '"') {
			if (!quoted(&x, '"', &s, &n))
				return fail(&x, "unterminated string");
			if (url_like(s, n))
				return fail(&x, "URL or UNC path in a string");
		} else if (c == '\'') {
			if (!quoted(&x, '\'', &s, &n))
				return fail(&x, "unterminated name");
			if (!sheet_name_ok(s, n))
				return fail(&x, "external workbook reference");
			name = true;
		} else if (c == '[') {
			if (!(x.d == CDR_F_OOXML ? ooxml_bracket(&x, after_name) : odf_bracket(&x)))
				return false;
			name = x.d == CDR_F_OOXML;
		} else if (c == '|') {
			return fail(&x, "DDE");
		} else if (ident_char(&x, c)) {
			if (!identifier(&x, &name))
				return false;
		} else if (strchr(" \t\r\n!:,;()+-*/^&=<>%{}#@~", c) && c) {
			x.p++;
		} else {
			return fail(&x, "unexpected character 0x%02x", c);
		}
		after_name = name;
	}
	return true;
}
