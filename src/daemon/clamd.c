/*
 * clamd.c — the clamd protocol as pure functions (see clamd.h): the
 * target of the `antivirus` key, the zINSTREAM chunk framing and the
 * reply parser. Unit-tested (tests/unit/test_clamd.c) and fuzzed
 * (fuzz/fuzz_clamd.c).
 *
 * Spec: clamd(8), "zINSTREAM" and "IDSESSION, END" (reply format).
 *
 * SECURITY: parses a reply from clamd (which read the hostile original):
 * bounded by its length, no allocation; the signature name is reduced to
 * printable ASCII and cut.
 */
#include "daemon/clamd.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


static int parse_unix(const char *path, av_target_t *t, char *err, size_t errlen)
{
	struct sockaddr_un *un = (struct sockaddr_un *)&t->sa;

	if (path[0] != '/' || strlen(path) >= sizeof(un->sun_path)) {
		snprintf(err, errlen, "antivirus: clamd socket '%s' must be an absolute path "
			 "shorter than %zu bytes", path, sizeof(un->sun_path));
		return -1;
	}
	un->sun_family = AF_UNIX;
	memcpy(un->sun_path, path, strlen(path) + 1);
	t->sa_len = (socklen_t)sizeof(*un);
	t->kind = AV_UNIX;
	return 0;
}

static int parse_port(const char *s, uint16_t *port)
{
	char *end;
	long v = strtol(s, &end, 10);

	if (!*s || strspn(s, "0123456789") != strlen(s) || *end || v < 1 || v > 65535)
		return -1;
	*port = (uint16_t)v;
	return 0;
}

/* "IP:PORT" or "[IPv6]:PORT" into host (NUL-terminated) and port. */
static int split_host_port(const char *spec, char *host, size_t hn, uint16_t *port)
{
	const char *colon = strrchr(spec, ':');
	size_t h;

	if (!colon || colon == spec || parse_port(colon + 1, port) < 0)
		return -1;
	h = (size_t)(colon - spec);
	if (spec[0] == '[' && h >= 2 && spec[h - 1] == ']')
		spec++, h -= 2;
	if (h >= hn)
		return -1;
	memcpy(host, spec, h);
	host[h] = '\0';
	return 0;
}

static int parse_inet(const char *spec, av_target_t *t, char *err, size_t errlen)
{
	char host[HOST_BUF_MAX];
	struct sockaddr_in *in4 = (struct sockaddr_in *)&t->sa;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&t->sa;
	uint16_t p;

	if (split_host_port(spec, host, sizeof(host), &p) < 0) {
		snprintf(err, errlen, "antivirus: want clamd:/path or clamd:IP:PORT, got 'clamd:%s'",
			 spec);
		return -1;
	}
	if (inet_pton(AF_INET, host, &in4->sin_addr) == 1) {
		in4->sin_family = AF_INET;
		in4->sin_port = htons(p);
		t->sa_len = (socklen_t)sizeof(*in4);
	} else if (inet_pton(AF_INET6, host, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(p);
		t->sa_len = (socklen_t)sizeof(*in6);
	} else {
		snprintf(err, errlen, "antivirus: clamd host '%s' must be a numeric IP address "
			 "(the session looks up no names)", host);
		return -1;
	}
	t->kind = AV_INET;
	return 0;
}

int clamd_parse_target(const char *spec, av_target_t *t, char *err, size_t errlen)
{
	memset(t, 0, sizeof(*t));
	if (!spec || !*spec || strcmp(spec, "none") == 0)
		return 0;
	if (strncmp(spec, "clamd:", 6) != 0) {
		snprintf(err, errlen, "antivirus: want none, clamd:/path or clamd:IP:PORT, got '%s'",
			 spec);
		return -1;
	}
	spec += 6;
	return spec[0] == '/' ? parse_unix(spec, t, err, errlen) : parse_inet(spec, t, err, errlen);
}

static bool ends_with(const char *s, size_t len, const char *suffix)
{
	size_t n = strlen(suffix);

	return len >= n && memcmp(s + len - n, suffix, n) == 0;
}

static void copy_sig(const char *p, size_t n, char *sig, size_t sigcap)
{
	size_t k = 0;

	for (size_t i = 0; i < n && k + 1 < sigcap; i++) {
		unsigned char ch = (unsigned char)p[i];

		sig[k++] = ch > 0x20 && ch < 0x7f ? (char)ch : '?';
	}
	if (sigcap)
		sig[k] = '\0';
}

clamd_verdict_t clamd_reply_parse(const char *reply, size_t len, char *sig, size_t sigcap)
{
	static const char pre[] = "stream: ";
	const size_t np = sizeof(pre) - 1;

	if (sigcap)
		sig[0] = '\0';
	while (len && (reply[len - 1] == '\n' || reply[len - 1] == '\0'))
		len--;
	if (len < np || memcmp(reply, pre, np) != 0 || memchr(reply, '\0', len))
		return CLAMD_ERROR;
	reply += np;
	len -= np;
	if (len == 2 && memcmp(reply, "OK", 2) == 0)
		return CLAMD_CLEAN;
	if (!ends_with(reply, len, " FOUND") || len == 6)
		return CLAMD_ERROR;
	len -= 6;
	/* clamd may add the hash ("Sig(hash:size) FOUND") with ExtendedDetectionInfo */
	copy_sig(reply, len, sig, sigcap);
	return sig[0] ? CLAMD_FOUND : CLAMD_ERROR;
}

void clamd_chunk_header(uint32_t len, unsigned char out[4])
{
	out[0] = (unsigned char)(len >> 24);
	out[1] = (unsigned char)(len >> 16);
	out[2] = (unsigned char)(len >> 8);
	out[3] = (unsigned char)len;
}
