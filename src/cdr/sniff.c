/*
 * sniff.c — the type of a file from its content (magic numbers), never from
 * its name; plus the name helpers used to note or block names.
 *
 * Specs: PDF 1.7 §7.5.2 (header may follow junk: readers search the first
 * 1024 bytes), PNG §5.2, JPEG (JFIF SOI), GIF87a/89a, BMP, TIFF 6.0,
 * APPNOTE.TXT (zip), MS-CFB (OLE2).
 *
 * SECURITY: reads at most the first few KiB; runs in the sanitizer worker.
 */
#include "cdr/cdr_int.h"

#include <string.h>
#include <strings.h>

static bool has(const unsigned char *in, size_t len, const char *magic, size_t n)
{
	return len >= n && memcmp(in, magic, n) == 0;
}

/* "%PDF-" within the first 1024 bytes (readers tolerate leading junk). */
static bool is_pdf(const unsigned char *in, size_t len)
{
	size_t n = len < SNIFF_TEXT_WINDOW ? len : SNIFF_TEXT_WINDOW;

	return n >= 5 && memmem(in, n, "%PDF-", 5) != NULL;
}

static cdr_kind_t sniff_binary(const unsigned char *in, size_t len, const char **type)
{
	static const struct { const char *magic; size_t n; cdr_kind_t k; const char *name; } m[] = {
		{ "\x89PNG\r\n\x1a\n", 8, CT_PNG, "png" },
		{ "\xff\xd8\xff", 3, CT_JPEG, "jpeg" },
		{ "GIF87a", 6, CT_GIF, "gif" },
		{ "GIF89a", 6, CT_GIF, "gif" },
		{ "BM", 2, CT_BMP, "bmp" },
		{ "II*\0", 4, CT_TIFF, "tiff" },
		{ "MM\0*", 4, CT_TIFF, "tiff" },
		{ "PK\x03\x04", 4, CT_ZIP, "zip" },
		{ "PK\x05\x06", 4, CT_ZIP, "zip" },
		{ "\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", 8, CT_OLE2, "ole2" },
		{ "{\\rt", 4, CT_RTF, "rtf" },
		{ "MZ", 2, CT_EXE, "exe" },
		{ "\x7f" "ELF", 4, CT_EXE, "elf" },
		{ "\xca\xfe\xba\xbe", 4, CT_EXE, "macho" },
		{ "\xcf\xfa\xed\xfe", 4, CT_EXE, "macho" },
		{ "L\0\0\0\x01\x14\x02\0", 8, CT_EXE, "lnk" },
		{ "Rar!", 4, CT_ARCHIVE, "rar" },
		{ "7z\xbc\xaf\x27\x1c", 6, CT_ARCHIVE, "7z" },
		{ "\x1f\x8b", 2, CT_ARCHIVE, "gzip" },
		{ "BZh", 3, CT_ARCHIVE, "bzip2" },
		{ "\xfd" "7zXZ", 5, CT_ARCHIVE, "xz" },
		{ "MSCF", 4, CT_ARCHIVE, "cab" },
		{ "ITSF", 4, CT_EXE, "chm" },
		{ "\0\0\x01\0", 4, CT_MEDIA, "ico" },
		{ "RIFF", 4, CT_MEDIA, "riff" },
		{ "%!PS", 4, CT_SCRIPT, "postscript" },
		{ "#!", 2, CT_SCRIPT, "script" },
		{ "ID;P", 4, CT_SCRIPT, "sylk" },
		{ "WEB\r\n", 5, CT_SCRIPT, "iqy" },
	};

	for (size_t i = 0; i < MUGAI_ARRAY_LEN(m); i++)
		if (has(in, len, m[i].magic, m[i].n)) {
			*type = m[i].name;
			return m[i].k;
		}
	return CT_UNKNOWN;
}

/* Markup that a browser or Office would interpret: blocked, not text. */
static cdr_kind_t sniff_markup(const unsigned char *in, size_t len, const char **type)
{
	size_t i = 0, n;
	static const char *html[] = { "<html", "<!doctype html", "<head", "<body",
				      "<script", "<svg", "<iframe", "<meta", "<hta:" };

	if (has(in, len, "\xef\xbb\xbf", 3))
		i = 3;
	while (i < len && i < SNIFF_SPACE_MAX && strchr(" \t\r\n", in[i]))
		i++;
	n = len - i;
	for (size_t k = 0; k < MUGAI_ARRAY_LEN(html); k++) {
		size_t m = strlen(html[k]);

		if (n >= m && strncasecmp((const char *)in + i, html[k], m) == 0) {
			*type = "html";
			return CT_HTML;
		}
	}
	if (n >= 5 && strncmp((const char *)in + i, "<?xml", 5) == 0) {
		*type = "xml";
		return CT_XML;
	}
	return CT_UNKNOWN;
}

/* Text: no NUL and under 10% other C0 controls in the first 64 KiB. UTF-16 and
 * UTF-32 (NULs) are not text here. */
static bool looks_text(const unsigned char *in, size_t len)
{
	size_t n = len < SNIFF_UTF8_WINDOW ? len : SNIFF_UTF8_WINDOW, bad = 0;

	for (size_t i = 0; i < n; i++) {
		if (in[i] == 0)
			return false;
		if (in[i] < 0x20 && !strchr("\t\n\r\f\x1b", in[i]))
			bad++;
	}
	return bad * 10 <= n;
}

cdr_kind_t cdr_sniff(const unsigned char *in, size_t len, const char **type)
{
	cdr_kind_t k;

	*type = "empty";
	if (len == 0)
		return CT_EMPTY;
	if (is_pdf(in, len)) {
		*type = "pdf";
		return CT_PDF;
	}
	k = sniff_binary(in, len, type);
	if (k != CT_UNKNOWN)
		return k;
	k = sniff_markup(in, len, type);
	if (k != CT_UNKNOWN)
		return k;
	*type = "text";
	if (looks_text(in, len))
		return CT_TEXT;
	*type = "unknown";
	return CT_UNKNOWN;
}

const char *cdr_name_ext(const char *name)
{
	const char *dot, *slash;

	if (!name)
		return "";
	dot = strrchr(name, '.');
	slash = strrchr(name, '/');
	if (!dot || dot == name || (slash && dot < slash) || !dot[1])
		return "";
	return dot + 1;
}

bool cdr_ext_dangerous(const char *ext)
{
	static const char *bad[] = {
		"exe", "com", "scr", "pif", "bat", "cmd", "ps1", "psm1", "vbs", "vbe",
		"js", "jse", "wsf", "wsh", "hta", "msi", "msp", "lnk", "cpl", "dll",
		"jar", "reg", "inf", "scf", "url", "chm", "iso", "img", "vhd", "vhdx",
		"appx", "msix", "application", "gadget", "sh", "py", "pl", "library-ms",
		"settingcontent-ms", "svg", "slk", "iqy", "dqy", "rqy", "oqy", "xll", "xlam",
		"ppam", "xla", "ppa", "wll", "ws", "wsc", "sct", "mde", "ade", "adp", "accde", "htm", "html", "xht", "xhtml", "mht", "mhtml",
		"apk",
	};

	for (size_t i = 0; i < MUGAI_ARRAY_LEN(bad); i++)
		if (strcasecmp(ext, bad[i]) == 0)
			return true;
	return false;
}

bool cdr_name_dangerous(const char *name)
{
	/* longer than every extension of the table: cannot match */
	enum { EXT_LONGEST = sizeof("settingcontent-ms") };
	char ext[EXT_LONGEST + 1];
	size_t n = name ? strlen(name) : 0, d;

	/* Windows drops trailing dots and spaces: "run.exe." and "run.exe "
	 * open as run.exe */
	while (n && (name[n - 1] == '.' || name[n - 1] == ' '))
		n--;
	for (d = n; d > 0 && name[d - 1] != '.'; d--)
		;
	if (d == 0 || d == n || n - d > EXT_LONGEST)
		return false;
	memcpy(ext, name + d, n - d);
	ext[n - d] = '\0';
	return cdr_ext_dangerous(ext);
}
