/* fuzz_milter.c — libFuzzer target for mugaid's milter protocol functions
 * (src/daemon/milter.c): the input is a stream of milter packets, each
 * handled as the milter front does (negotiation, macros, addresses, the
 * connect host, headers into the spool form and the names list); the
 * remaining bytes after an 'E' packet (or the whole input, when there is
 * none) are read as a rebuilt message and turned into modification
 * packets. Checks: every packet we produce frames back exactly to the end
 * of the output; strings we keep are NUL-terminated and bounded. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "daemon/milter.c"

static void check_frames(const buf_t *b)
{
	size_t off = 0;

	while (off < b->len) {
		char cmd;
		const char *d;
		size_t n, used;

		if (milter_frame_find(b->data + off, b->len - off, (size_t)1 << 30, &cmd, &d, &n,
				      &used) != MILTER_FRAME_OK)
			abort();
		off += used;
	}
}

static void packet(char cmd, const char *d, size_t n, milter_macros_t *m, buf_t *msg,
		   buf_t *names, bool *leadspc)
{
	char a[SMTP_PATH_MAX + 1], h[MILTER_CLIENT_MAX];
	milter_neg_t neg;

	switch (cmd) {
	case 'O':
		if (milter_negotiate(d, n, &neg) == 0)
			*leadspc = neg.proto & MILTER_P_HDR_LEADSPC;
		break;
	case 'D':
		(void)milter_macros(d, n, m);
		if (strlen(m->queue_id) > SMTP_IDENT_MAX || strlen(m->mail_addr) > SMTP_PATH_MAX)
			abort();
		break;
	case 'M': case 'R':
		if (milter_addr(d, n, a, sizeof(a)) == 0 && strlen(a) > SMTP_PATH_MAX)
			abort();
		break;
	case 'C':
		if (milter_connect_host(d, n, h, sizeof(h)) == 0 && strlen(h) >= sizeof(h))
			abort();
		break;
	case 'L':
		(void)milter_header(d, n, *leadspc, msg, names);
		break;
	default:
		(void)milter_wants_reply(0x1fffff, cmd);
		break;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data;
	milter_macros_t m = { 0 };
	buf_t msg, names, out;
	bool leadspc = true;
	size_t off = 0;

	buf_init(&msg, 1 << 20);
	buf_init(&names, 1 << 20);
	buf_init(&out, 1 << 24);
	while (off < size) {
		char cmd;
		const char *d;
		size_t n, used;

		if (milter_frame_find(p + off, size - off, 1 << 16, &cmd, &d, &n, &used) !=
		    MILTER_FRAME_OK)
			break;
		if (used > size - off || n + 5 != used)
			abort();
		off += used;
		packet(cmd, d, n, &m, &msg, &names, &leadspc);
		if (cmd == 'E')
			break;
	}
	if (names.len && names.data[names.len - 1] != '\0')
		abort();
	if (milter_put_edits(&out, names.data ? names.data : "", names.len, p + off, size - off,
			     leadspc) == 0)
		check_frames(&out);
	buf_reset(&out);
	if (milter_put_reply(&out, "451 4.3.0", msg.data ? msg.data : "") == 0)
		check_frames(&out);
	buf_free(&msg);
	buf_free(&names);
	buf_free(&out);
	return 0;
}
