/*
 * id.c — id generation and syntax check (see id.h).
 *
 * SECURITY: getrandom(2) is allowed in the worker's seccomp filter.
 */
#include "id.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

int mugai_id_new(char out[MUGAI_ID_LEN + 1])
{
	uint32_t r;
	time_t now = time(NULL);
	struct tm tm;

	if (getrandom(&r, sizeof(r), 0) != (ssize_t)sizeof(r))
		return -1;
	if (!gmtime_r(&now, &tm))
		return -1;
	char tmp[64];
	int n = snprintf(tmp, sizeof(tmp), "%04d%02d%02d-%02d%02d%02d-%08x",
			 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
			 tm.tm_min, tm.tm_sec, r);

	if (n != MUGAI_ID_LEN)
		return -1;
	memcpy(out, tmp, MUGAI_ID_LEN + 1);
	return 0;
}

int mugai_id_valid(const char *s)
{
	static const char shape[] = "dddddddd-dddddd-xxxxxxxx";

	if (strlen(s) != MUGAI_ID_LEN)
		return 0;
	for (size_t i = 0; i < MUGAI_ID_LEN; i++) {
		unsigned char c = (unsigned char)s[i];

		if (shape[i] == '-' ? c != '-'
		    : shape[i] == 'd' ? !isdigit(c)
		    : !(isdigit(c) || (c >= 'a' && c <= 'f')))
			return 0;
	}
	return 1;
}

void mugai_id_short(const char *id, char out[MUGAI_ID_SHORT_LEN + 1])
{
	const char *r = id + MUGAI_ID_LEN - 8;

	snprintf(out, MUGAI_ID_SHORT_LEN + 1, "%.4s-%.4s", r, r + 4);
}

int mugai_id_short_parse(const char *s, char tail[8 + 1])
{
	size_t k = 0;

	for (size_t i = 0; s[i]; i++) {
		unsigned char c = (unsigned char)tolower((unsigned char)s[i]);

		if (c == '-' && i == 4 && k == 4)
			continue;
		if (k == 8 || !(isdigit(c) || (c >= 'a' && c <= 'f')))
			return 0;
		tail[k++] = (char)c;
	}
	tail[k] = '\0';
	return k == 8;
}
