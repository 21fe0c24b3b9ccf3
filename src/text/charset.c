/*
 * charset.c — bytes in a declared (possibly lying) charset → UTF-8, losing
 * no Japanese character (see charset.h).
 *
 * Specs: RFC 1468 ISO-2022-JP with Microsoft CP50220/CP50221 practice
 * (ESC ( I and SO/SI half-width katakana, raw 8-bit kana, ESC $ ( D JIS X
 * 0212, NEC row 13 and NEC-selected IBM extensions via the CP932 mapping),
 * RFC 1554 ISO-2022-JP-2 (its Japanese parts, ESC $ A / ESC $ ( C via iconv,
 * ESC . A + ESC N), Microsoft CP932, eucJP-ms, RFC 3629 UTF-8, WHATWG
 * Encoding (iso-8859-1 and us-ascii decode as windows-1252).
 *
 * Japanese decoding is table lookup in tables generated at build time
 * (tools/gen_jis_tables.c); every other charset goes through iconv
 * converters that charset_init() opens before the sandbox closes the file
 * system.
 *
 * Label fitting (the label is a hint, the bytes decide):
 *   - 7-bit bytes with ISO-2022-JP escapes decode as ISO-2022-JP whatever
 *     the label (unless the label is ASCII-incompatible: UTF-16/32/7,
 *     ISO-2022-KR/CN are trusted).
 *   - 8-bit bytes that are valid UTF-8 decode as UTF-8 whatever the label.
 *   - Otherwise a Japanese, multibyte or single-byte iconv label is tried
 *     first and kept when it decodes without error (CP932: and without
 *     half-width katakana, which EUC-JP produces when misread as CP932).
 *   - A Japanese or multibyte label that loses characters: CP932, EUC-JP
 *     (and ISO-2022-JP when escapes are present) are scored by errors (and
 *     CP932 by half-width katakana); the fewest win, the label wins ties;
 *     UTF-8 wins when it has fewer errors still.
 *   - A single-byte iconv label that loses characters (bytes it does not
 *     define prove it false): plausible Japanese, else the label (losses
 *     counted). A Latin label (ISO-8859-1 = windows-1252): plausible
 *     Japanese, else the label. No label, unknown, or us-ascii: plausible
 *     Japanese by the looser unlabelled rule, else windows-1252 (WHATWG).
 *   - Plausible Japanese (jp_plausible): no error, no PUA character, and a
 *     kana or three double-byte characters in a row; unlabelled also any
 *     double-byte text without half-width katakana in which at most half
 *     the CP932 pairs end in a lowercase ASCII letter (Latin misread as
 *     CP932: é+d, ’+s). So Frösche, Intel® and It’s stay Latin.
 *
 * ISO-2022-JP line ends: RFC 1468 says every line ends in ASCII, yet many
 * mailers forget ESC ( B. At CR/LF in a two-byte or kana mode the decoder
 * returns to ASCII unless the next line (up to its first ESC or line end)
 * is non-empty, of even length, all 0x21-0x7E, and every pair is a defined
 * character of the current set — i.e. it only keeps the mode when the next
 * line is itself plainly two-byte text without its own escape.
 *
 * SECURITY: runs in the sanitizer worker on hostile bytes. Output goes only
 * to the caller's capped buf_t (through a fixed stack block); every input
 * index is bounds-checked; decoding is linear in the input. No file access
 * after charset_init().
 */
#include "text/charset.h"

#include <errno.h>
#include <iconv.h>
#include <string.h>
#include <strings.h>

#include "common/utf8.h"
#include "jis_tables.h"
#include "common/limits.h"

/* ---------------------------------------------------------------- table */

enum kind {
	K_ASCII, K_UTF8, K_2022JP, K_CP932, K_EUCJP, K_1252,
	K_ICONV_SB,   /* single-byte, ASCII-compatible */
	K_ICONV_MB,   /* multibyte, ASCII-compatible (GBK, Big5, UHC) */
	K_ICONV_RAW,  /* ASCII-incompatible or stateful: trusted as labelled */
};

typedef struct cs {
	const char *name;   /* canonical, static */
	const char *iconv;  /* iconv name, NULL for our own decoders */
	enum kind kind;
	unsigned unit;      /* bytes skipped on an iconv error */
} cs_t;

static const cs_t charsets[] = {
	{ "US-ASCII", NULL, K_ASCII, 1 },
	{ "UTF-8", NULL, K_UTF8, 1 },
	{ "ISO-2022-JP", NULL, K_2022JP, 1 },
	{ "CP932", NULL, K_CP932, 1 },
	{ "EUC-JP", NULL, K_EUCJP, 1 },
	{ "WINDOWS-1252", NULL, K_1252, 1 },
#define CS_ASCII (&charsets[0])
#define CS_UTF8 (&charsets[1])
#define CS_2022 (&charsets[2])
#define CS_CP932 (&charsets[3])
#define CS_EUCJP (&charsets[4])
#define CS_1252 (&charsets[5])
#define SB(n) { n, n, K_ICONV_SB, 1 }
	SB("ISO-8859-2"), SB("ISO-8859-3"), SB("ISO-8859-4"), SB("ISO-8859-5"),
	SB("ISO-8859-6"), SB("ISO-8859-7"), SB("ISO-8859-8"), SB("ISO-8859-9"),
	SB("ISO-8859-10"), SB("ISO-8859-13"), SB("ISO-8859-14"),
	SB("ISO-8859-15"), SB("ISO-8859-16"), SB("WINDOWS-1250"),
	SB("WINDOWS-1251"), SB("WINDOWS-1253"), SB("WINDOWS-1254"),
	SB("WINDOWS-1255"), SB("WINDOWS-1256"), SB("WINDOWS-1257"),
	SB("WINDOWS-1258"), SB("WINDOWS-874"), SB("KOI8-R"), SB("KOI8-U"),
	SB("IBM866"), SB("MACINTOSH"), SB("IBM437"), SB("IBM850"), SB("IBM852"),
	SB("IBM855"), SB("IBM857"), SB("IBM862"), SB("KOI8-RU"), SB("ARMSCII-8"),
	SB("GEORGIAN-PS"), SB("VISCII"), SB("PT154"), SB("CP1125"),
	SB("MACCYRILLIC"),
#undef SB
	{ "GBK", "GBK", K_ICONV_MB, 1 },
	{ "GB18030", "GB18030", K_ICONV_MB, 1 },
	{ "BIG5", "BIG5-HKSCS", K_ICONV_MB, 1 },
	{ "EUC-KR", "CP949", K_ICONV_MB, 1 },
	{ "EUC-TW", "EUC-TW", K_ICONV_MB, 1 },
	{ "JOHAB", "JOHAB", K_ICONV_MB, 1 },
	{ "UTF-16", "UTF-16", K_ICONV_RAW, 2 },
	{ "UTF-16LE", "UTF-16LE", K_ICONV_RAW, 2 },
	{ "UTF-16BE", "UTF-16BE", K_ICONV_RAW, 2 },
	{ "UTF-32", "UTF-32", K_ICONV_RAW, 4 },
	{ "UTF-32LE", "UTF-32LE", K_ICONV_RAW, 4 },
	{ "UTF-32BE", "UTF-32BE", K_ICONV_RAW, 4 },
	{ "UTF-7", "UTF-7", K_ICONV_RAW, 1 },
	{ "ISO-2022-KR", "ISO-2022-KR", K_ICONV_RAW, 1 },
	{ "ISO-2022-CN", "ISO-2022-CN-EXT", K_ICONV_RAW, 1 },
};

typedef struct alias {
	const char *label;
	const char *canon;
} alias_t;

/* Labels that are not canonical names themselves (case-insensitive). */
static const alias_t aliases[] = {
	{ "ascii", "US-ASCII" }, { "us", "US-ASCII" },
	{ "ansi_x3.4-1968", "US-ASCII" }, { "iso646-us", "US-ASCII" },
	{ "utf8", "UTF-8" }, { "unicode-1-1-utf-8", "UTF-8" },
	{ "x-unicode20utf8", "UTF-8" },
	{ "csiso2022jp", "ISO-2022-JP" }, { "iso-2022-jp-ms", "ISO-2022-JP" },
	{ "iso-2022-jp-1", "ISO-2022-JP" }, { "iso-2022-jp-2", "ISO-2022-JP" },
	{ "iso-2022-jp-3", "ISO-2022-JP" }, { "csiso2022jp2", "ISO-2022-JP" },
	{ "cp50220", "ISO-2022-JP" }, { "cp50221", "ISO-2022-JP" },
	{ "cp50222", "ISO-2022-JP" }, { "jis", "ISO-2022-JP" },
	{ "shift_jis", "CP932" }, { "shift-jis", "CP932" }, { "x-sjis", "CP932" },
	{ "sjis", "CP932" }, { "ms932", "CP932" }, { "windows-31j", "CP932" },
	{ "ms_kanji", "CP932" }, { "csshiftjis", "CP932" },
	{ "cswindows31j", "CP932" }, { "x-ms-cp932", "CP932" },
	{ "shift_jisx0213", "CP932" }, { "shift_jis-2004", "CP932" },
	{ "x-euc-jp", "EUC-JP" }, { "eucjp", "EUC-JP" }, { "eucjp-ms", "EUC-JP" },
	{ "euc-jp-ms", "EUC-JP" }, { "x-euc", "EUC-JP" }, { "ujis", "EUC-JP" },
	{ "cseucpkdfmtjapanese", "EUC-JP" }, { "euc-jisx0213", "EUC-JP" },
	{ "iso-8859-1", "WINDOWS-1252" }, { "iso8859-1", "WINDOWS-1252" },
	{ "iso_8859-1", "WINDOWS-1252" }, { "latin1", "WINDOWS-1252" },
	{ "l1", "WINDOWS-1252" }, { "cp1252", "WINDOWS-1252" },
	{ "x-cp1252", "WINDOWS-1252" }, { "cp819", "WINDOWS-1252" },
	{ "ibm819", "WINDOWS-1252" }, { "iso-8859-15", "ISO-8859-15" },
	{ "latin2", "ISO-8859-2" }, { "latin-9", "ISO-8859-15" },
	{ "cp1250", "WINDOWS-1250" }, { "cp1251", "WINDOWS-1251" },
	{ "tis-620", "WINDOWS-874" }, { "iso-8859-11", "WINDOWS-874" },
	{ "koi8", "KOI8-R" }, { "cp866", "IBM866" }, { "mac", "MACINTOSH" },
	{ "gb2312", "GBK" }, { "csgb2312", "GBK" }, { "euc-cn", "GBK" },
	{ "cp936", "GBK" }, { "x-gbk", "GBK" }, { "big5-hkscs", "BIG5" },
	{ "x-x-big5", "BIG5" }, { "cn-big5", "BIG5" }, { "cp950", "BIG5" },
	{ "ks_c_5601-1987", "EUC-KR" }, { "cp949", "EUC-KR" },
	{ "ks_c_5601", "EUC-KR" }, { "windows-949", "EUC-KR" },
	{ "ucs-2", "UTF-16" }, { "unicode", "UTF-16" },
	{ "cp1253", "WINDOWS-1253" }, { "cp1254", "WINDOWS-1254" },
	{ "cp1255", "WINDOWS-1255" }, { "cp1256", "WINDOWS-1256" },
	{ "cp1257", "WINDOWS-1257" }, { "cp1258", "WINDOWS-1258" },
	{ "cp874", "WINDOWS-874" }, { "tis620", "WINDOWS-874" },
	{ "iso-8859-8-i", "ISO-8859-8" }, { "iso-8859-8-e", "ISO-8859-8" },
	{ "logical", "ISO-8859-8" }, { "visual", "ISO-8859-8" },
	{ "hebrew", "ISO-8859-8" }, { "iso-8859-6-i", "ISO-8859-6" },
	{ "iso-8859-6-e", "ISO-8859-6" }, { "arabic", "ISO-8859-6" },
	{ "greek", "ISO-8859-7" }, { "cyrillic", "ISO-8859-5" },
	{ "latin3", "ISO-8859-3" }, { "latin4", "ISO-8859-4" },
	{ "latin5", "ISO-8859-9" }, { "latin6", "ISO-8859-10" },
	{ "latin7", "ISO-8859-13" }, { "latin8", "ISO-8859-14" },
	{ "latin10", "ISO-8859-16" }, { "cskoi8r", "KOI8-R" },
	{ "x-mac-roman", "MACINTOSH" }, { "macintosh", "MACINTOSH" },
	{ "x-mac-cyrillic", "MACCYRILLIC" }, { "cp437", "IBM437" },
	{ "cp850", "IBM850" }, { "cp852", "IBM852" }, { "cp855", "IBM855" },
	{ "cp857", "IBM857" }, { "cp862", "IBM862" }, { "ibm-866", "IBM866" },
	{ "uhc", "EUC-KR" }, { "x-windows-949", "EUC-KR" },
	{ "ks_c_5601-1989", "EUC-KR" }, { "ksc5601", "EUC-KR" },
	{ "gb_2312-80", "GBK" }, { "chinese", "GBK" }, { "x-euc-cn", "GBK" },
	{ "big5", "BIG5" }, { "x-euc-tw", "EUC-TW" },
	{ "iso_8859-1:1987", "WINDOWS-1252" }, { "us-ascii", "US-ASCII" },
};

#define N_CS MUGAI_ARRAY_LEN(charsets)
static iconv_t cds[N_CS];
static bool cds_opened[N_CS];

static iconv_t cd_get(const cs_t *cs);

static const cs_t *cs_by_name(const char *name)
{
	size_t i;

	for (i = 0; i < N_CS; i++)
		if (strcasecmp(charsets[i].name, name) == 0)
			return &charsets[i];
	return NULL;
}

/* Copy label into tmp without surrounding blanks and quotes. */
static const char *label_clean(const char *label, char *tmp, size_t cap)
{
	size_t n;

	while (*label == ' ' || *label == '\t' || *label == '"' || *label == '\'')
		label++;
	n = strcspn(label, " \t\"'");
	if (n == 0 || n >= cap)
		return NULL;
	memcpy(tmp, label, n);
	tmp[n] = '\0';
	return tmp;
}

static const cs_t *cs_lookup(const char *label)
{
	char tmp[64];
	const cs_t *cs;
	size_t i;

	if (!label || !(label = label_clean(label, tmp, sizeof(tmp))))
		return NULL;
	cs = cs_by_name(label);
	for (i = 0; !cs && i < MUGAI_ARRAY_LEN(aliases); i++)
		if (strcasecmp(aliases[i].label, label) == 0)
			cs = cs_by_name(aliases[i].canon);
	/* A converter iconv cannot open is an unknown label: sniff. */
	if (cs && cs->iconv && cd_get(cs) == (iconv_t)-1)
		cs = NULL;
	return cs;
}

const char *charset_canonical(const char *label)
{
	const cs_t *cs = cs_lookup(label);

	return cs ? cs->name : NULL;
}

static iconv_t cd_get(const cs_t *cs)
{
	size_t i = (size_t)(cs - charsets);

	if (!cds_opened[i]) {
		cds[i] = iconv_open("UTF-8", cs->iconv);
		cds_opened[i] = true;
	}
	return cds[i];
}

int charset_init(void)
{
	size_t i;

	for (i = 0; i < N_CS; i++)
		if (charsets[i].iconv)
			(void)cd_get(&charsets[i]);
	return 0;
}

/* -------------------------------------------------------------- emitter */

/* Output goes through a stack block; out == NULL makes a dry run that only
 * counts (used to score candidate charsets). */
typedef struct emit {
	buf_t *out;
	int err;
	size_t n;
	size_t chars, bad, dbcs, run, maxrun, hwkana;
	size_t kana, pua;   /* double-byte kana; user-defined (PUA) characters */
	size_t lowtrail;    /* CP932 pairs whose trail byte is an ASCII a-z */
	char blk[SCAN_CHUNK];
} emit_t;

static void em_init(emit_t *e, buf_t *out)
{
	e->out = out;
	e->err = 0;
	e->n = 0;
	e->chars = e->bad = e->dbcs = e->run = e->maxrun = e->hwkana = 0;
	e->kana = e->pua = e->lowtrail = 0;
}

static void em_flush(emit_t *e)
{
	if (e->n && e->out && !e->err && buf_append(e->out, e->blk, e->n) < 0)
		e->err = -1;
	e->n = 0;
}

static inline void em_cp(emit_t *e, uint32_t cp)
{
	char *p;

	if (e->n > sizeof(e->blk) - 4)
		em_flush(e);
	p = e->blk + e->n;
	e->chars++;
	e->run = 0;
	if (cp < 0x80) {
		p[0] = (char)cp;
		e->n += 1;
	} else if (cp < 0x800) {
		p[0] = (char)(0xC0 | (cp >> 6));
		p[1] = (char)(0x80 | (cp & 0x3F));
		e->n += 2;
	} else if (cp < 0x10000) {
		p[0] = (char)(0xE0 | (cp >> 12));
		p[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
		p[2] = (char)(0x80 | (cp & 0x3F));
		e->n += 3;
	} else {
		p[0] = (char)(0xF0 | (cp >> 18));
		p[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
		p[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
		p[3] = (char)(0x80 | (cp & 0x3F));
		e->n += 4;
	}
}

static inline void em_bad(emit_t *e)
{
	em_cp(e, 0xFFFD);
	e->bad++;
}

/* A double-byte character (for scoring: count and consecutive run). */
static inline void em_dbcs(emit_t *e, uint32_t cp)
{
	size_t run = e->run + 1;

	if (!cp) {
		em_bad(e);
		return;
	}
	em_cp(e, cp);
	e->dbcs++;
	e->kana += cp >= 0x3041 && cp <= 0x30FF;
	e->pua += cp >= 0xE000 && cp <= 0xF8FF;
	e->run = run;
	if (run > e->maxrun)
		e->maxrun = run;
}

static void em_bytes(emit_t *e, const unsigned char *s, size_t n)
{
	if (n > sizeof(e->blk) - e->n) {
		em_flush(e);
		if (e->out && !e->err && buf_append(e->out, s, n) < 0)
			e->err = -1;
	} else {
		memcpy(e->blk + e->n, s, n);
		e->n += n;
	}
	e->chars += n;
	e->run = 0;
}

/* Length of the leading run of ASCII bytes. */
static inline size_t ascii_run(const unsigned char *s, size_t n)
{
	size_t i = 0;
	uint64_t w;

	while (i + 8 <= n) {
		memcpy(&w, s + i, 8);
		if (w & 0x8080808080808080ull)
			break;
		i += 8;
	}
	while (i < n && s[i] < 0x80)
		i++;
	return i;
}

/* ------------------------------------------------------------- decoders */

typedef void (*dec_fn)(emit_t *e, const unsigned char *s, size_t n);

static void dec_utf8(emit_t *e, const unsigned char *s, size_t n)
{
	size_t i = 0, k;
	uint32_t cp;

	while (i < n) {
		k = ascii_run(s + i, n - i);
		if (k) {
			em_bytes(e, s + i, k);
			i += k;
			continue;
		}
		k = utf8_decode_one(s + i, n - i, &cp);
		if (cp == UTF8_INVALID)
			em_bad(e);
		else {
			em_bytes(e, s + i, k);
			e->chars -= k - 1;
		}
		i += k;
	}
}

static void dec_ascii(emit_t *e, const unsigned char *s, size_t n)
{
	size_t i = 0, k;

	while (i < n) {
		k = ascii_run(s + i, n - i);
		em_bytes(e, s + i, k);
		i += k;
		if (i < n) {
			em_bad(e);
			i++;
		}
	}
}

static const uint16_t w1252_c1[32] = {
	0x20AC, 0x0081, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021,
	0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0x008D, 0x017D, 0x008F,
	0x0090, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014,
	0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0x009D, 0x017E, 0x0178,
};

static void dec_1252(emit_t *e, const unsigned char *s, size_t n)
{
	size_t i = 0, k;

	while (i < n) {
		k = ascii_run(s + i, n - i);
		em_bytes(e, s + i, k);
		i += k;
		if (i < n) {
			em_cp(e, s[i] < 0xA0 ? w1252_c1[s[i] - 0x80] : s[i]);
			i++;
		}
	}
}

static inline bool sj_lead(unsigned c)
{
	return (c >= 0x81 && c <= 0x9F) || (c >= 0xE0 && c <= 0xFC);
}

static inline bool sj_trail(unsigned c)
{
	return c >= 0x40 && c <= 0xFC && c != 0x7F;
}

static void dec_cp932(emit_t *e, const unsigned char *s, size_t n)
{
	size_t i = 0, k;
	unsigned c, l;

	while (i < n) {
		k = ascii_run(s + i, n - i);
		if (k) {
			em_bytes(e, s + i, k);
			i += k;
			continue;
		}
		c = s[i];
		if (sj_lead(c) && i + 1 < n && sj_trail(s[i + 1])) {
			l = c <= 0x9F ? c - 0x81 : c - 0xE0 + 31;
			em_dbcs(e, cp932_dbcs[l * 189 + s[i + 1] - 0x40]);
			e->lowtrail += s[i + 1] >= 'a' && s[i + 1] <= 'z';
			i += 2;
		} else if (!sj_lead(c) && cp932_sbcs[c - 0x80]) {
			em_cp(e, cp932_sbcs[c - 0x80]);
			e->hwkana++;
			i++;
		} else {
			em_bad(e);
			i++;
		}
	}
}

static inline bool euc_byte(unsigned c)
{
	return c >= 0xA1 && c <= 0xFE;
}

/* One EUC-JP sequence starting with high byte s[0]; returns bytes used. */
static size_t euc_one(emit_t *e, const unsigned char *s, size_t n)
{
	unsigned c = s[0];

	if (euc_byte(c) && n >= 2 && euc_byte(s[1])) {
		em_dbcs(e, jis0208[(c - 0xA1) * 94 + s[1] - 0xA1]);
		return 2;
	}
	if (c == 0x8E && n >= 2 && s[1] >= 0xA1 && s[1] <= 0xDF) {
		em_cp(e, 0xFF61 + (uint32_t)(s[1] - 0xA1));
		return 2;
	}
	if (c == 0x8F && n >= 3 && euc_byte(s[1]) && euc_byte(s[2])) {
		em_dbcs(e, jis0212[(s[1] - 0xA1) * 94 + s[2] - 0xA1]);
		return 3;
	}
	em_bad(e);
	return 1;
}

static void dec_eucjp(emit_t *e, const unsigned char *s, size_t n)
{
	size_t i = 0, k;

	while (i < n) {
		k = ascii_run(s + i, n - i);
		if (k) {
			em_bytes(e, s + i, k);
			i += k;
			continue;
		}
		i += euc_one(e, s + i, n - i);
	}
}

/* ----------------------------------------------------------------- iconv */

static void iconv_chunk_out(emit_t *e, const char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (((unsigned char)p[i] & 0xC0) != 0x80)
			e->chars++;
	if (!utf8_valid(p, n)) { /* never expected from glibc; stay safe */
		e->chars -= utf8_count(p, n);
		dec_utf8(e, (const unsigned char *)p, n);
		return;
	}
	if (n > sizeof(e->blk) - e->n)
		em_flush(e);
	memcpy(e->blk + e->n, p, n);
	e->n += n;
}

static void dec_iconv(emit_t *e, const cs_t *cs, const unsigned char *s, size_t n)
{
	iconv_t cd = cd_get(cs);
	char tmp[ICONV_CHUNK], *ip = (char *)(uintptr_t)s, *op;
	size_t il = n, ol, r;

	if (cd == (iconv_t)-1) { /* unreachable: cs_lookup() checks */
		dec_1252(e, s, n);
		e->bad += n > 0;
		return;
	}
	iconv(cd, NULL, NULL, NULL, NULL);
	for (;;) {
		op = tmp;
		ol = sizeof(tmp);
		r = iconv(cd, il ? &ip : NULL, il ? &il : NULL, &op, &ol);
		iconv_chunk_out(e, tmp, sizeof(tmp) - ol);
		if (r != (size_t)-1 && il == 0)
			break;
		if (r == (size_t)-1 && errno == E2BIG)
			continue;
		if (r == (size_t)-1 && errno == EILSEQ && il) {
			em_bad(e);
			r = il < cs->unit ? il : cs->unit;
			ip += r;
			il -= r;
			continue;
		}
		if (il) /* EINVAL: truncated sequence at the end */
			em_bad(e);
		break;
	}
}

/* Decode one 94x94 pair of a charset we reach through iconv (2022-JP-2). */
static void iconv_pair(emit_t *e, const char *canon, unsigned a, unsigned b)
{
	unsigned char in[2] = { (unsigned char)(a | 0x80), (unsigned char)(b | 0x80) };
	emit_t sub;
	const cs_t *cs = cs_by_name(canon);

	em_init(&sub, NULL);
	dec_iconv(&sub, cs, in, 2);
	if (sub.bad || sub.chars != 1) {
		em_bad(e);
		return;
	}
	em_flush(e);
	dec_iconv(e, cs, in, 2);
}

/* ----------------------------------------------------------- ISO-2022-JP */

enum jmode { J_ASCII, J_KANA, J_208, J_212, J_GB, J_KSC };

typedef struct jstate {
	enum jmode mode;
	bool so;     /* SO kana shift */
	bool g2l1;   /* ESC . A: G2 is ISO-8859-1 high half */
} jstate_t;

/* Recognise an escape sequence at s[0] == ESC; returns its length, 0 when
 * unknown. */
static size_t jis_esc(const unsigned char *s, size_t n, jstate_t *js)
{
	static const struct { const char *seq; int mode; } tab[] = {
		{ "(B", J_ASCII }, { "(J", J_ASCII }, { "(H", J_ASCII },
		{ "(I", J_KANA }, { "$@", J_208 }, { "$B", J_208 },
		{ "$(@", J_208 }, { "$(B", J_208 }, { "$(O", J_208 },
		{ "$(Q", J_208 }, { "$(D", J_212 }, { "$A", J_GB },
		{ "$(C", J_KSC }, { "&@", -1 }, { ".A", -2 }, { ".F", -3 },
	};
	size_t i, l;

	for (i = 0; i < MUGAI_ARRAY_LEN(tab); i++) {
		l = strlen(tab[i].seq);
		if (n < l + 1 || memcmp(s + 1, tab[i].seq, l) != 0)
			continue;
		if (tab[i].mode >= 0)
			js->mode = (enum jmode)tab[i].mode;
		else if (tab[i].mode != -1)
			js->g2l1 = tab[i].mode == -2;
		return l + 1;
	}
	return 0;
}

static uint32_t jis_lookup(enum jmode m, unsigned a, unsigned b)
{
	size_t idx = (size_t)(a - 0x21) * 94 + (b - 0x21);

	return m == J_212 ? jis0212[idx] : jis0208[idx];
}

static inline bool jis_byte(unsigned c)
{
	return c >= 0x21 && c <= 0x7E;
}

/* Does the line starting at s continue the two-byte mode m? */
static bool jis_line_continues(const unsigned char *s, size_t n, enum jmode m)
{
	size_t i = 0;

	while (i < n && jis_byte(s[i]))
		i++;
	if (i == 0 || (i & 1) || (i < n && s[i] != 0x1B && s[i] != '\r' &&
				  s[i] != '\n'))
		return false;
	if (m != J_208 && m != J_212)
		return false;
	for (size_t k = 0; k + 1 < i; k += 2)
		if (!jis_lookup(m == J_212 ? J_212 : J_208, s[k], s[k + 1]))
			return false;
	return true;
}

static size_t jis_newline(emit_t *e, const unsigned char *s, size_t n,
			  size_t i, jstate_t *js)
{
	em_cp(e, s[i]);
	i++;
	if (s[i - 1] == '\r' && i < n && s[i] == '\n') {
		em_cp(e, '\n');
		i++;
	}
	if (js->so || !jis_line_continues(s + i, n - i, js->mode)) {
		js->mode = J_ASCII;
		js->so = false;
	}
	return i;
}

/* One byte or pair in a two-byte mode at s[0] (0x21-0x7E). */
static size_t jis_pair(emit_t *e, const unsigned char *s, size_t n,
		       enum jmode m)
{
	if (n < 2 || !jis_byte(s[1])) {
		em_bad(e);
		return 1;
	}
	if (m == J_GB)
		iconv_pair(e, "GBK", s[0], s[1]);
	else if (m == J_KSC)
		iconv_pair(e, "EUC-KR", s[0], s[1]);
	else
		em_dbcs(e, jis_lookup(m, s[0], s[1]));
	return 2;
}

static size_t jis_escape(emit_t *e, const unsigned char *s, size_t n,
			 jstate_t *js)
{
	size_t k = jis_esc(s, n, js);

	if (k)
		return k;
	if (n >= 3 && s[1] == 'N' && js->g2l1 && s[2] >= 0x20 && s[2] < 0x80) {
		em_cp(e, s[2] | 0x80u);
		return 3;
	}
	em_bad(e);
	return 1;
}

/* One unit of ISO-2022-JP at s[0] (not an ASCII fast-path byte). */
static size_t jis_one(emit_t *e, const unsigned char *s, size_t n, jstate_t *js)
{
	unsigned c = s[0];

	if (c == 0x1B)
		return jis_escape(e, s, n, js);
	if (c == 0x0E || c == 0x0F) {
		js->so = c == 0x0E;
		return 1;
	}
	if (c >= 0x80) {
		if (c >= 0xA1 && c <= 0xDF) {
			em_cp(e, 0xFF61 + (c - 0xA1));
			e->hwkana++; /* raw 8-bit kana: legal but suspicious */
		} else
			em_bad(e);
		return 1;
	}
	if ((js->so || js->mode == J_KANA) && c >= 0x21 && c <= 0x5F) {
		em_cp(e, 0xFF61 + (c - 0x21));
		return 1;
	}
	if ((js->so || js->mode == J_KANA) && jis_byte(c)) {
		em_bad(e);
		return 1;
	}
	if (js->mode >= J_208 && jis_byte(c))
		return jis_pair(e, s, n, js->mode);
	em_cp(e, c); /* ASCII, space and controls pass in every mode */
	return 1;
}

static void dec_2022jp(emit_t *e, const unsigned char *s, size_t n)
{
	jstate_t js = { J_ASCII, false, false };
	size_t i = 0, k;

	while (i < n) {
		if (js.mode == J_ASCII && !js.so) {
			k = 0;
			while (i + k < n && s[i + k] >= 0x10 && s[i + k] < 0x80 &&
			       s[i + k] != 0x1B)
				k++;
			if (k) {
				em_bytes(e, s + i, k);
				i += k;
				continue;
			}
		}
		if (s[i] == '\r' || s[i] == '\n')
			i = jis_newline(e, s, n, i, &js);
		else
			i += jis_one(e, s + i, n - i, &js);
	}
}

/* ------------------------------------------------------------- sniffing */

static void run_cs(emit_t *e, const cs_t *cs, const unsigned char *s, size_t n)
{
	switch (cs->kind) {
	case K_ASCII: dec_ascii(e, s, n); break;
	case K_UTF8: dec_utf8(e, s, n); break;
	case K_2022JP: dec_2022jp(e, s, n); break;
	case K_CP932: dec_cp932(e, s, n); break;
	case K_EUCJP: dec_eucjp(e, s, n); break;
	case K_1252: dec_1252(e, s, n); break;
	default: dec_iconv(e, cs, s, n); break;
	}
	em_flush(e);
}

typedef struct score {
	const cs_t *cs;
	size_t bad, dbcs, maxrun, rank, kana, pua, hw, lowtrail;
} score_t;

static score_t score_cs(const cs_t *cs, const unsigned char *s, size_t n)
{
	emit_t e;
	score_t sc;

	em_init(&e, NULL);
	run_cs(&e, cs, s, n);
	sc.cs = cs;
	sc.bad = e.bad;
	sc.dbcs = e.dbcs;
	sc.maxrun = e.maxrun;
	sc.kana = e.kana;
	sc.pua = e.pua;
	sc.hw = e.hwkana;
	sc.lowtrail = e.lowtrail;
	/* Half-width katakana is rare in real text but is what EUC-JP looks
	 * like when read as CP932. */
	sc.rank = e.bad * 4 + e.hwkana;
	return sc;
}

/* ESC sequences that designate an ISO-2022-JP set. */
static bool has_jis_escape(const unsigned char *s, size_t n)
{
	const unsigned char *p = s, *end = s + n;
	jstate_t js = { J_ASCII, false, false };

	while ((p = memchr(p, 0x1B, (size_t)(end - p)))) {
		if (jis_esc(p, (size_t)(end - p), &js))
			return true;
		p++;
	}
	return false;
}

/* ISO-2022-JP escapes or SO kana shifts: raw 8-bit kana next to them is
 * CP50221 practice, not EUC-JP. */
static bool jis_evidence(const unsigned char *s, size_t n)
{
	return memchr(s, 0x0E, n) || has_jis_escape(s, n);
}

/* Best Japanese reading of 8-bit bytes. */
static score_t best_japanese(const unsigned char *s, size_t n, bool esc)
{
	score_t cp = score_cs(CS_CP932, s, n), eu = score_cs(CS_EUCJP, s, n), j;

	if (eu.rank < cp.rank)
		cp = eu;
	if (esc) {
		j = score_cs(CS_2022, s, n);
		if (j.rank <= cp.rank)
			cp = j;
	}
	return cp;
}

/* Valid, plausible Japanese: no error, no user-defined (PUA) character,
 * and kana or a run of three double-byte characters. Latin text misread
 * as CP932 gives isolated kanji ("Frédéric" → 2 kanji, "It’s" → 1), PUA
 * (ö, ß, ü lead bytes F0-F9) or half-width katakana (®, À-ß), never kana. */
static bool jp_plausible(const score_t *j)
{
	return j->bad == 0 && j->pua == 0 && (j->kana > 0 || j->maxrun >= 3);
}

/* Without a label (or under a us-ascii label the bytes disprove) short
 * kanji-only text counts too ("表.txt", "会議"), unless it looks like the
 * accented or curly-quoted Latin it would be in windows-1252: half-width
 * katakana, or most pairs ending in a lowercase ASCII letter (é+d, ’+s). */
static bool jp_plausible_unlabelled(const score_t *j)
{
	return jp_plausible(j) || (j->bad == 0 && j->pua == 0 && j->hw == 0 &&
				   j->dbcs > 0 && j->lowtrail * 2 <= j->dbcs);
}

/* 8-bit bytes that are not valid UTF-8; lab_rank is the label's score
 * (errors * 4 + half-width kana) when the label was tried. */
static const cs_t *pick_legacy(const cs_t *lab, size_t lab_rank,
			       const unsigned char *s, size_t n, bool esc)
{
	score_t jp = best_japanese(s, n, esc), u8;
	enum kind k = lab ? lab->kind : K_ASCII;
	const cs_t *best = lab;
	size_t rank = lab_rank;

	if (k == K_CP932 || k == K_EUCJP || k == K_2022JP || k == K_UTF8 ||
	    k == K_ICONV_MB) {
		if (jp.rank < rank) {
			best = jp.cs;
			rank = jp.rank;
		}
		u8 = score_cs(CS_UTF8, s, n);
		return u8.bad * 4 < rank ? CS_UTF8 : best;
	}
	if (k == K_ASCII ? jp_plausible_unlabelled(&jp) : jp_plausible(&jp))
		return jp.cs;
	if (k == K_ICONV_SB) /* errors, but no better reading: the label */
		return lab;
	if (k == K_ASCII && jp.dbcs > 3 * jp.bad && jp.kana > jp.bad) {
		u8 = score_cs(CS_UTF8, s, n);
		return u8.bad < jp.bad ? CS_UTF8 : jp.cs;
	}
	return (lab && k != K_ASCII) ? lab : CS_1252;
}

static void scan(const unsigned char *s, size_t n, bool *high, bool *esc)
{
	*high = ascii_run(s, n) < n;
	*esc = n && memchr(s, 0x1B, n) && has_jis_escape(s, n);
}

/* The decoder to try first, before any dry run. *tentative says whether
 * its losses must be checked against the alternatives. */
static const cs_t *pick_first(const cs_t *lab, const unsigned char *s, size_t n,
			      bool *tentative)
{
	bool high, esc;

	*tentative = false;
	if (lab && lab->kind == K_ICONV_RAW)
		return lab;
	scan(s, n, &high, &esc);
	if (!high)
		return esc ? CS_2022 : (lab ? lab : CS_ASCII);
	if (utf8_valid((const char *)s, n))
		return CS_UTF8;
	*tentative = true;
	return lab;
}

const char *charset_sniff(const char *in, size_t len)
{
	const unsigned char *s = (const unsigned char *)in;
	bool tentative;
	const cs_t *cs = pick_first(NULL, s, len, &tentative);

	if (tentative)
		cs = pick_legacy(NULL, 0, s, len, has_jis_escape(s, len));
	return cs->name;
}

static void stats_add(charset_stats_t *st, const emit_t *e, const cs_t *cs,
		      const cs_t *lab, const char *label)
{
	if (!st)
		return;
	st->losses += e->bad;
	st->chars += e->chars;
	st->used = cs->name;
	st->relabelled = label && *label && cs != lab;
}

/* Bytes already proven valid UTF-8 (pick_first): the output is the input. */
static int utf8_copy(const unsigned char *s, size_t len, buf_t *out, charset_stats_t *st,
		     const cs_t *lab, const char *label)
{
	size_t chars = 0;

	if (buf_append(out, s, len) < 0)
		return -1;
	for (size_t i = 0; i < len; i++)
		chars += (s[i] & 0xC0) != 0x80;
	if (st) {
		st->chars += chars;
		st->used = CS_UTF8->name;
		st->relabelled = label && *label && lab != CS_UTF8;
	}
	return 0;
}

int charset_decode(const char *label, const char *in, size_t len, buf_t *out,
		   charset_stats_t *st)
{
	const unsigned char *s = (const unsigned char *)in;
	const cs_t *lab = cs_lookup(label), *cs;
	bool tentative, esc;
	size_t saved = out->len;
	emit_t em, *e = &em;
	int rc = -1;

	em_init(e, out);
	cs = pick_first(lab, s, len, &tentative);
	if (!tentative && cs == CS_UTF8)
		return utf8_copy(s, len, out, st, lab, label);
	if (tentative && cs && (cs->kind == K_CP932 || cs->kind == K_EUCJP ||
				cs->kind == K_2022JP || cs->kind == K_ICONV_MB ||
				cs->kind == K_ICONV_SB || cs->kind == K_UTF8)) {
		run_cs(e, cs, s, len);
		if (e->err || (e->bad == 0 && (e->hwkana == 0 ||
					       cs->kind == K_EUCJP ||
					       (cs->kind == K_2022JP &&
						jis_evidence(s, len)))))
			goto done;
		out->len = saved;
		if (out->data)
			out->data[saved] = '\0';
	}
	if (tentative) {
		esc = has_jis_escape(s, len);
		cs = pick_legacy(lab, e->bad * 4 + e->hwkana, s, len, esc);
		em_init(e, out);
	}
	run_cs(e, cs, s, len);
done:
	if (e->err)
		goto out;
	stats_add(st, e, cs, lab, label);
	rc = 0;
out:
	return rc;
}
