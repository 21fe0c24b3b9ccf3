/* test_milter.c — the milter protocol's pure functions (src/daemon/milter.c):
 * packet framing and its bound, option negotiation, which steps want a
 * reply, macros and envelope addresses, header accumulation into the spool
 * form, the reply code packet, and the exact modification packets (every
 * original header deleted by name and occurrence, last first; rebuilt
 * headers added in order with folding; the body in chunks). The daemon is
 * not in libmugai.a, so its pure protocol file is compiled in directly. */
#include "testutil.h"
#include "daemon/milter.c"

static void frames(void **state)
{
	static const char pk[] = "\0\0\0\3Lab" "\0\0\0\1E";
	char cmd = 0;
	const char *d = NULL;
	size_t n = 0, used = 0;

	(void)state;
	assert_int_equal(milter_frame_find(pk, 0, 100, &cmd, &d, &n, &used), MILTER_FRAME_MORE);
	assert_int_equal(milter_frame_find(pk, 3, 100, &cmd, &d, &n, &used), MILTER_FRAME_MORE);
	assert_int_equal(milter_frame_find(pk, 6, 100, &cmd, &d, &n, &used), MILTER_FRAME_MORE);
	assert_int_equal(milter_frame_find(pk, 7, 100, &cmd, &d, &n, &used), MILTER_FRAME_OK);
	assert_int_equal(cmd, 'L');
	assert_int_equal(n, 2);
	assert_memory_equal(d, "ab", 2);
	assert_int_equal(used, 7);
	assert_int_equal(milter_frame_find(pk + 7, 5, 100, &cmd, &d, &n, &used), MILTER_FRAME_OK);
	assert_int_equal(cmd, 'E');
	assert_int_equal(n, 0);
	/* length 0, and a length above max, before any data is there */
	assert_int_equal(milter_frame_find("\0\0\0\0", 4, 100, &cmd, &d, &n, &used), MILTER_FRAME_BAD);
	assert_int_equal(milter_frame_find("\xff\xff\xff\xffL", 5, 100, &cmd, &d, &n, &used),
			 MILTER_FRAME_BAD);
	assert_int_equal(milter_frame_find("\0\0\0\x65", 4, 100, &cmd, &d, &n, &used), MILTER_FRAME_BAD);
	assert_int_equal(milter_frame_find("\0\0\0\x64", 4, 100, &cmd, &d, &n, &used), MILTER_FRAME_MORE);
}

static void put_roundtrip(void **state)
{
	buf_t b;
	char cmd = 0;
	const char *d = NULL;
	size_t n = 0, used = 0;

	(void)state;
	buf_init(&b, 1000);
	assert_int_equal(milter_put(&b, 'c', NULL, 0), 0);
	assert_int_equal(milter_put(&b, 'b', "body", 4), 0);
	assert_int_equal(b.len, 5 + 9);
	assert_memory_equal(b.data, "\0\0\0\1c\0\0\0\5bbody", 14);
	assert_int_equal(milter_frame_find(b.data + 5, b.len - 5, 100, &cmd, &d, &n, &used),
			 MILTER_FRAME_OK);
	assert_int_equal(cmd, 'b');
	assert_memory_equal(d, "body", 4);
	buf_free(&b);
}

static void negotiation(void **state)
{
	milter_neg_t o;
	buf_t b;

	(void)state;
	/* Postfix 3.x: version 6, every action, every step */
	assert_int_equal(milter_negotiate("\0\0\0\6\0\0\1\xff\0\x1f\xff\xff", 12, &o), 0);
	assert_int_equal(o.version, 6);
	assert_int_equal(o.actions, 0x13);
	assert_int_equal(o.proto, MILTER_PROTO_WANT);
	/* an older MTA: its version, only the flags it offers */
	assert_int_equal(milter_negotiate("\0\0\0\2\0\0\0\x13\0\0\0\x7f", 12, &o), 0);
	assert_int_equal(o.version, 2);
	assert_int_equal(o.proto, 0x02);
	/* a newer one: our version */
	assert_int_equal(milter_negotiate("\0\0\0\x09\0\0\0\x13\0\0\0\0", 12, &o), 0);
	assert_int_equal(o.version, 6);
	/* refused: short, version 1, no body replacement, no header change */
	assert_int_equal(milter_negotiate("\0\0\0\6\0\0\0\x13\0\0\0", 11, &o), -1);
	assert_int_equal(milter_negotiate("\0\0\0\1\0\0\0\x13\0\0\0\0", 12, &o), -1);
	assert_int_equal(milter_negotiate("\0\0\0\6\0\0\0\x11\0\0\0\0", 12, &o), -1);
	assert_int_equal(milter_negotiate("\0\0\0\6\0\0\0\x03\0\0\0\0", 12, &o), -1);
	buf_init(&b, 100);
	o = (milter_neg_t){ 6, 0x13, 0x1c1382 };
	assert_int_equal(milter_put_neg(&b, &o), 0);
	assert_int_equal(b.len, 17);
	assert_memory_equal(b.data, "\0\0\0\x0dO\0\0\0\6\0\0\0\x13\0\x1c\x13\x82", 17);
	buf_free(&b);
}

static void replies_wanted(void **state)
{
	(void)state;
	assert_true(milter_wants_reply(0, 'C'));
	assert_false(milter_wants_reply(MILTER_P_NR_CONN, 'C'));
	assert_true(milter_wants_reply(MILTER_PROTO_WANT, 'M'));
	assert_true(milter_wants_reply(MILTER_PROTO_WANT, 'R'));
	assert_false(milter_wants_reply(MILTER_PROTO_WANT, 'L'));
	assert_false(milter_wants_reply(MILTER_PROTO_WANT, 'N'));
	assert_false(milter_wants_reply(MILTER_PROTO_WANT, 'B'));
	assert_true(milter_wants_reply(MILTER_PROTO_WANT, 'E'));
	assert_true(milter_wants_reply(0xffffffffu, 'E'));
	assert_false(milter_wants_reply(0, 'D'));
	assert_false(milter_wants_reply(0, 'A'));
	assert_false(milter_wants_reply(0, 'Q'));
	assert_false(milter_wants_reply(0, 'K'));
}

#define PK(s) s, sizeof(s) - 1

static void macros(void **state)
{
	milter_macros_t m = { 0 };

	(void)state;
	assert_int_equal(milter_macros(PK("Mi\0" "4XyZ\0{mail_addr}\0a@example.jp\0{auth_type}\0\0"), &m), 0);
	assert_string_equal(m.queue_id, "4XyZ");
	assert_true(m.have_mail);
	assert_string_equal(m.mail_addr, "a@example.jp");
	/* {i} and a rcpt macro; a mail_addr sent for RCPT is not the sender */
	assert_int_equal(milter_macros(PK("R{i}\0Q 2\x01\0{rcpt_addr}\0<b@lg.jp>\0{mail_addr}\0x@y\0"), &m), 0);
	assert_string_equal(m.queue_id, "Q2");
	assert_true(m.have_rcpt);
	assert_string_equal(m.rcpt_addr, "b@lg.jp");
	assert_string_equal(m.mail_addr, "a@example.jp");
	/* a new MAIL stage forgets the old sender until its macro comes */
	assert_int_equal(milter_macros(PK("Mi\0Q3\0"), &m), 0);
	assert_false(m.have_mail);
	/* malformed: no stage, a name without value, a value without NUL,
	 * control characters or <> inside an address, an address too long */
	assert_int_equal(milter_macros("", 0, &m), -1);
	assert_int_equal(milter_macros(PK("Mi\0"), &m), -1);
	assert_int_equal(milter_macros(PK("Mi\0abc"), &m), -1);
	assert_int_equal(milter_macros(PK("M{mail_addr}\0a\rb@c\0"), &m), -1);
	assert_int_equal(milter_macros(PK("M{mail_addr}\0a<b@c\0"), &m), -1);
	{
		char big[SMTP_PATH_MAX + 40];

		memcpy(big, "M{mail_addr}", 13);
		memset(big + 13, 'a', SMTP_PATH_MAX + 1);
		big[13 + SMTP_PATH_MAX + 1] = '\0';
		assert_int_equal(milter_macros(big, 13 + SMTP_PATH_MAX + 2, &m), -1);
	}
	/* a long queue id is cut, not refused */
	{
		char q[SMTP_IDENT_MAX * 2 + 8] = "Di";

		memset(q + 3, 'Q', SMTP_IDENT_MAX * 2);
		q[3 + SMTP_IDENT_MAX * 2] = '\0';
		assert_int_equal(milter_macros(q, 4 + SMTP_IDENT_MAX * 2, &m), 0);
		assert_int_equal(strlen(m.queue_id), SMTP_IDENT_MAX);
	}
}

static void addresses(void **state)
{
	char a[SMTP_PATH_MAX + 1], h[MILTER_CLIENT_MAX];

	(void)state;
	assert_int_equal(milter_addr(PK("<a@example.jp>\0SIZE=10\0"), a, sizeof(a)), 0);
	assert_string_equal(a, "a@example.jp");
	assert_int_equal(milter_addr(PK("<>\0"), a, sizeof(a)), 0);
	assert_string_equal(a, "");
	assert_int_equal(milter_addr(PK("b@x\0"), a, sizeof(a)), 0);
	assert_string_equal(a, "b@x");
	assert_int_equal(milter_addr(PK("<a@x>"), a, sizeof(a)), -1);
	assert_int_equal(milter_addr(PK("<a\n@x>\0"), a, sizeof(a)), -1);
	assert_int_equal(milter_addr(PK("<<a@x>>\0"), a, sizeof(a)), -1);
	assert_int_equal(milter_connect_host(PK("mx.example.jp\0" "4\0\x19" "192.0.2.1\0"), h,
					     sizeof(h)), 0);
	assert_string_equal(h, "192.0.2.1");
	assert_int_equal(milter_connect_host(PK("local\0L"), h, sizeof(h)), 0);
	assert_string_equal(h, "local");
	assert_int_equal(milter_connect_host(PK("e\x1bvil host\0U"), h, sizeof(h)), 0);
	assert_string_equal(h, "e?vil?host");
	assert_int_equal(milter_connect_host(PK("nonul"), h, sizeof(h)), -1);
}

static void headers(void **state)
{
	buf_t m, n;

	(void)state;
	buf_init(&m, 1000);
	buf_init(&n, 1000);
	assert_int_equal(milter_header(PK("Subject\0 =?UTF-8?B?5Lya6K2w?=\n\t=?UTF-8?B?eA==?=\0"),
				       true, &m, &n), 0);
	assert_int_equal(milter_header(PK("To\0b@x\0"), false, &m, &n), 0);
	assert_int_equal(milter_header(PK("X\0a\r\n b\0"), true, &m, &n), 0);
	assert_int_equal(m.len, strlen("Subject: =?UTF-8?B?5Lya6K2w?=\r\n\t=?UTF-8?B?eA==?=\r\n"
				       "To: b@x\r\nX:a\r\n b\r\n"));
	assert_memory_equal(m.data, "Subject: =?UTF-8?B?5Lya6K2w?=\r\n\t=?UTF-8?B?eA==?=\r\n"
			    "To: b@x\r\nX:a\r\n b\r\n", m.len);
	assert_int_equal(n.len, 13);
	assert_memory_equal(n.data, "Subject\0To\0X\0", 13);
	/* refused: no value NUL, empty name, a name with a space or colon */
	assert_int_equal(milter_header(PK("Subject\0x"), true, &m, &n), -1);
	assert_int_equal(milter_header(PK("\0x\0"), true, &m, &n), -1);
	assert_int_equal(milter_header(PK("Sub ject\0x\0"), true, &m, &n), -1);
	assert_int_equal(milter_header(PK("Sub:\0x\0"), true, &m, &n), -1);
	buf_free(&m);
	buf_free(&n);
}

static void reply_code(void **state)
{
	buf_t b;

	(void)state;
	buf_init(&b, 1000);
	assert_int_equal(milter_put_reply(&b, "451 4.3.0", "Error: a\r\n%s b"), 0);
	assert_int_equal(b.len, 5 + strlen("451 4.3.0 Error: a   s b") + 1);
	assert_memory_equal(b.data, "\0\0\0\x1ay451 4.3.0 Error: a   s b", b.len);
	buf_free(&b);
}

/* The next packet of b at *off: its command and data. */
static void next(const buf_t *b, size_t *off, char want, const char *data, size_t len)
{
	char cmd = 0;
	const char *d = NULL;
	size_t n = 0, used = 0;

	assert_int_equal(milter_frame_find(b->data + *off, b->len - *off, 1 << 20, &cmd, &d, &n,
					   &used), MILTER_FRAME_OK);
	assert_int_equal(cmd, want);
	assert_int_equal(n, len);
	assert_memory_equal(d, data, len);
	*off += used;
}

static void edits(void **state)
{
	static const char names[] = "Received\0Subject\0received\0From\0RECEIVED\0";
	static const char msg[] = "From: a@x\r\nSubject: =?UTF-8?B?eA==?=\r\n =?UTF-8?B?eQ==?=\r\n"
				  "X-Mugai-Sanitized: yes\r\n\r\nbody\r\n";
	buf_t b;
	size_t off = 0;

	(void)state;
	buf_init(&b, 10000);
	assert_int_equal(milter_put_edits(&b, PK(names), PK(msg), true), 0);
	/* deletions: last header first; index = occurrence among its name */
	next(&b, &off, 'm', PK("\0\0\0\3RECEIVED\0\0"));
	next(&b, &off, 'm', PK("\0\0\0\1From\0\0"));
	next(&b, &off, 'm', PK("\0\0\0\2received\0\0"));
	next(&b, &off, 'm', PK("\0\0\0\1Subject\0\0"));
	next(&b, &off, 'm', PK("\0\0\0\1Received\0\0"));
	/* additions in order, the leading space kept (HDR_LEADSPC), folds by LF */
	next(&b, &off, 'h', PK("From\0 a@x\0"));
	next(&b, &off, 'h', PK("Subject\0 =?UTF-8?B?eA==?=\n =?UTF-8?B?eQ==?=\0"));
	next(&b, &off, 'h', PK("X-Mugai-Sanitized\0 yes\0"));
	next(&b, &off, 'b', PK("body\r\n"));
	assert_int_equal(off, b.len);
	/* without HDR_LEADSPC the MTA adds the space itself */
	buf_reset(&b);
	off = 0;
	assert_int_equal(milter_put_edits(&b, "", 0, PK("A: 1\r\n\r\n"), false), 0);
	next(&b, &off, 'h', PK("A\0" "1\0"));
	next(&b, &off, 'b', "", 0);  /* an empty body is replaced by an empty one */
	assert_int_equal(off, b.len);
	/* refused: no header/body separator, a header line without a colon */
	buf_reset(&b);
	assert_int_equal(milter_put_edits(&b, "", 0, PK("A: 1\r\n"), true), -1);
	assert_int_equal(milter_put_edits(&b, "", 0, PK("A 1\r\n\r\nx"), true), -1);
	buf_free(&b);
}

static void body_chunks(void **state)
{
	size_t len = MILTER_CHUNK * 2 + 10, off = 0;
	char *msg = malloc(len + 4);
	buf_t b;
	char cmd = 0;
	const char *d = NULL;
	size_t n = 0, used = 0, total = 0, packets = 0;

	(void)state;
	assert_non_null(msg);
	memcpy(msg, "\r\n", 2);  /* no headers at all */
	memset(msg + 2, 'x', len);
	buf_init(&b, len * 2);
	assert_int_equal(milter_put_edits(&b, "", 0, msg, len + 2, true), 0);
	while (off < b.len) {
		assert_int_equal(milter_frame_find(b.data + off, b.len - off, 1 << 20, &cmd, &d, &n,
						   &used), MILTER_FRAME_OK);
		assert_int_equal(cmd, 'b');
		assert_true(n <= MILTER_CHUNK);
		total += n;
		packets++;
		off += used;
	}
	assert_int_equal(total, len);
	assert_int_equal(packets, 3);
	buf_free(&b);
	free(msg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(frames),
		cmocka_unit_test(put_roundtrip),
		cmocka_unit_test(negotiation),
		cmocka_unit_test(replies_wanted),
		cmocka_unit_test(macros),
		cmocka_unit_test(addresses),
		cmocka_unit_test(headers),
		cmocka_unit_test(reply_code),
		cmocka_unit_test(edits),
		cmocka_unit_test(body_chunks),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
