/*
 * name.c — file names that Windows reads as what they say: the last step
 * before a sanitized file (a mail attachment, a zip entry, a converted
 * legacy document) gets its name.
 *
 * Per path component ('/'-separated): trailing dots and spaces are dropped
 * (Windows drops them: "a.exe." opens as a.exe), the characters Windows
 * refuses or reads specially (controls, \ : * ? " < > |; ':' would make
 * "evil.exe:x.txt" an alternate data stream of evil.exe) become '_', and
 * a component whose stem is a DOS device name (CON, PRN, AUX, NUL,
 * CONIN$, CONOUT$, COM0-9, LPT0-9, COM¹²³/LPT¹²³; any case, with or without
 * an extension, spaces before the dot ignored) gets a leading '_', so that
 * "con.txt" is saved as "_con.txt" instead of opening the console device.
 *
 * Specs: Microsoft "Naming Files, Paths, and Namespaces" (reserved names,
 * trailing dots/spaces), NTFS alternate data streams.
 *
 * SECURITY: pure string work on hostile names; the output is bounded by
 * twice the input plus one (buffer sized by the caller from the input).
 */
#include "cdr/cdr_int.h"

#include <string.h>
#include <strings.h>

/* Characters Windows refuses in a name (plus '\', a separator there). */
static bool bad_char(unsigned char c)
{
	return c < 0x20 || c == 0x7f || strchr("\\:*?\"<>|", c) != NULL;
}

/* Is the n bytes at p a digit Windows counts in COMn/LPTn (0-9, ¹ ² ³)? */
static bool device_digit(const char *p, size_t n)
{
	if (n == 1)
		return p[0] >= '0' && p[0] <= '9';
	return n == 2 && (unsigned char)p[0] == 0xc2 &&
	       ((unsigned char)p[1] == 0xb9 || (unsigned char)p[1] == 0xb2 || (unsigned char)p[1] == 0xb3);
}

/* Is the stem (the component up to its first dot, trailing spaces
 * dropped) a DOS device name? */
static bool is_device(const char *p, size_t n)
{
	static const char *const plain[] = { "con", "prn", "aux", "nul", "conin$", "conout$" };
	size_t stem = 0;

	while (stem < n && p[stem] != '.')
		stem++;
	while (stem && p[stem - 1] == ' ')
		stem--;
	for (size_t i = 0; i < MUGAI_ARRAY_LEN(plain); i++)
		if (stem == strlen(plain[i]) && strncasecmp(p, plain[i], stem) == 0)
			return true;
	return stem > 3 && (strncasecmp(p, "com", 3) == 0 || strncasecmp(p, "lpt", 3) == 0) &&
	       device_digit(p + 3, stem - 3);
}

/* One component of n bytes (no '/'). */
static int safe_component(const char *p, size_t n, buf_t *out)
{
	size_t m = n;

	while (m && (p[m - 1] == '.' || p[m - 1] == ' '))
		m--;
	if (n == 0) /* "a//b", "/abs": left as they are */
		return 0;
	if (m == 0) /* "...", " " */
		return buf_putc(out, '_');
	if (is_device(p, m) && buf_putc(out, '_') < 0)
		return -1;
	for (size_t i = 0; i < m; i++)
		if (buf_putc(out, bad_char((unsigned char)p[i]) ? '_' : p[i]) < 0)
			return -1;
	return 0;
}

int cdr_name_safe(const char *name, buf_t *out)
{
	const char *p = name ? name : "";

	while (*p) {
		size_t n = strcspn(p, "/");

		if (safe_component(p, n, out) < 0)
			return -1;
		p += n;
		if (*p && buf_putc(out, *p++) < 0)
			return -1;
	}
	return 0;
}

char *cdr_name_safe_dup(const char *name)
{
	size_t len = name ? strlen(name) : 0;
	buf_t b;
	char *s;

	buf_init(&b, 2 * len + 2);
	if (cdr_name_safe(name, &b) < 0) {
		buf_free(&b);
		return NULL;
	}
	s = buf_steal(&b, NULL);
	return s ? s : strdup("");
}
