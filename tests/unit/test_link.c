/* test_link.c — link_rewrite_text and link_emit: exact text per style. */
#include "testutil.h"
#include "text/link.h"

typedef struct {
	const char *in, *want;
	link_style_t style;
	size_t defanged, removed;
} tcase_t;

static const tcase_t text_cases[] = {
	{ "see https://www.example.com/a?b=c.", "see hxxps://www[.]example[.]com/a?b=c.", LINK_DEFANG, 1, 0 },
	{ "HTTP://192.168.0.1:8080/x", "hxxp://192[.]168[.]0[.]1[:]8080/x", LINK_DEFANG, 1, 0 },
	{ "ftp://ftp.example.jp/pub", "fxp://ftp[.]example[.]jp/pub", LINK_DEFANG, 1, 0 },
	{ "www.example.com です", "www[.]example[.]com です", LINK_DEFANG, 1, 0 },
	{ "mailto:taro@example.jp", "taro[@]example[.]jp", LINK_DEFANG, 1, 0 },
	{ "tel:03-1234-5678", "tel[:]03-1234-5678", LINK_DEFANG, 1, 0 },
	{ "詳細はhttps://example.jp/お知らせをご覧ください。", "詳細はhxxps://example[.]jp/お知らせをご覧ください。", LINK_DEFANG, 1, 0 },
	{ "「https://a.jp/x」（https://b.jp）", "「hxxps://a[.]jp/x」（hxxps://b[.]jp）", LINK_DEFANG, 2, 0 },
	{ "(see http://a.jp/x)", "(see hxxp://a[.]jp/x)", LINK_DEFANG, 1, 0 },
	{ "http://w.org/Foo_(bar)!", "hxxp://w[.]org/Foo_(bar)!", LINK_DEFANG, 1, 0 },
	{ "<http://a.jp/>", "<hxxp://a[.]jp/>", LINK_DEFANG, 1, 0 },
	{ "http://a.jp/?u=http://evil.jp/&w=www.evil.jp", "hxxp://a[.]jp/?u=http[:]//evil[.]jp/&w=www[.]evil[.]jp", LINK_DEFANG, 1, 0 },
	/* fuzz: "www[.]www.x" in a path would start a new live www. run */
	{ "http://a/www.www.b", "hxxp://a/www[.]www[.]b", LINK_DEFANG, 1, 0 },
	{ "http://a/www.mailto:b", "hxxp://a/www[.]mailto[:]b", LINK_DEFANG, 1, 0 },
	{ "javascript://%0aalert(1) file:///etc/passwd", "[URL] [URL]", LINK_DEFANG, 0, 2 },
	{ "already hxxps://www[.]x[.]jp/", "already hxxps://www[.]x[.]jp/", LINK_DEFANG, 0, 0 },
	{ "3http://a.jp", "[URL]", LINK_DEFANG, 0, 1 },
	{ "a https://a.jp b", "a https://a.jp b", LINK_PLAIN, 1, 0 },
	{ "a https://a.jp b www.c.jp", "a [URL] b [URL]", LINK_REMOVE, 0, 2 },
	/* contract rule 4: a run-initial "www." is live whatever follows */
	{ "no links: data: 1.5, www. ok, mailto: x", "no links: data: 1.5, www[.] ok, mailto: x", LINK_DEFANG, 1, 0 },
	{ "http://", "hxxp://", LINK_DEFANG, 1, 0 },
	/* fuzz: the authority ended in ':' right before "//" */
	{ "http://a.bhxxps://c", "hxxp://a[.]bhxxps[:]//c", LINK_DEFANG, 1, 0 },
	{ "www.a.jp://x", "[URL]", LINK_DEFANG, 0, 1 },
	/* fuzz: a host label followed by ':' must not start a live tel:/mailto: */
	{ "www.w.mailto:tap http://a.tel:1/ mailto:a@b.tel:2", "www[.]w[.]mailto[:]tap hxxp://a[.]tel[:]1/ a[@]b[.]tel[:]2", LINK_DEFANG, 3, 0 },
	/* fuzz: dropping "mailto:" must not join "http:" with "//" */
	{ "http:mailto://x mailto:?subject=a", "http[:]mailto[:]//x mailto[:]?subject=a", LINK_DEFANG, 3, 0 },
	{ ",www.. www.-a www.", ",www[.][.] www[.]-a www[.]", LINK_DEFANG, 3, 0 },
	/* class 2 of issue #8: forms other than scheme:// */
	{ "共有は\\\\fs01\\share\\x です", "共有は[\\\\]fs01\\share\\x です", LINK_DEFANG, 1, 0 },
	{ "\\\\fs01\\share", "[\\\\]fs01\\share", LINK_PLAIN, 1, 0 },
	{ "\\\\fs01\\share", "[\\\\]fs01\\share", LINK_REMOVE, 1, 0 },
	{ "a\\/evil.com b/\\evil c\\\\ d\\\\]", "a[\\/]evil[.]com b[/\\]evil c\\\\ d\\\\]", LINK_DEFANG, 2, 0 },
	{ "file:evil/x file:///c:/a", "file[:]evil/x [URL]", LINK_DEFANG, 1, 1 },
	{ "http:\\\\evil.com\\s", "http[:][\\\\]evil[.]com\\s", LINK_DEFANG, 1, 0 },
	{ "https:evil.com/reset", "https[:]evil[.]com/reset", LINK_PLAIN, 1, 0 },
	{ "ms-msdt:/id PCWDiagnostic search-ms:query=a ms-officecmd:{}",
	  "ms-msdt[:]/id PCWDiagnostic search-ms[:]query=a ms-officecmd[:]{}", LINK_DEFANG, 3, 0 },
	{ "ms-word:ofe|u|http://evil.com/a.docx", "ms-word[:]ofe|u|hxxp://evil[.]com/a.docx", LINK_DEFANG, 2, 0 },
	{ "vbscript:msgbox sip:a callto:b skype:c ms-teams:d",
	  "vbscript[:]msgbox sip[:]a callto[:]b skype[:]c ms-teams[:]d", LINK_REMOVE, 5, 0 },
	/* disarmed, but not reported as a link: a letter's "Re:" is no link */
	{ "Re:Hello 10:30 C:\\tmp note: x", "Re[:]Hello 10:30 C:\\tmp note: x", LINK_DEFANG, 0, 0 },
	{ "詳細はexample.com/resetへ", "詳細はexample[.]com/resetへ", LINK_DEFANG, 1, 0 },
	{ "example.com/reset", "example[.]com/reset", LINK_PLAIN, 1, 0 },
	{ "file.pdf 1.5/2 v1.2/x", "file.pdf 1.5/2 v1.2/x", LINK_DEFANG, 0, 0 },
	{ "担当 taro@example.jp まで", "担当 taro[@]example[.]jp まで", LINK_DEFANG, 1, 0 },
	{ "taro@example.jp", "taro[@]example[.]jp", LINK_PLAIN, 1, 0 },
	{ "@user a@b", "@user a@b", LINK_DEFANG, 0, 0 },
	{ "x?u=//evil.com/a", "x?u=//evil[.]com/a", LINK_DEFANG, 1, 0 },
	{ "hxxp://evil.com/a", "hxxp://evil[.]com/a", LINK_DEFANG, 1, 0 },
	{ "a https://a.jp/?u=//b.jp b", "a https://a.jp/?u=//b[.]jp b", LINK_PLAIN, 1, 0 },
	{ "https://a.jp/r?u=http://evil.jp/x", "https://a.jp/r?u=http[:]//evil[.]jp/x", LINK_PLAIN, 1, 0 },
	{ "tel:0312345678 ftp://a.jp www.a.jp", "tel[:]0312345678 fxp://a[.]jp www[.]a[.]jp", LINK_PLAIN, 3, 0 },
	/* fuzz: a URL ending before a stripped '.' must not leave a live "www." */
	{ "tel:www.\x82 http://a/www.", "tel[:]www[.]\x82 hxxp://a/www[.]", LINK_DEFANG, 2, 0 },
	/* fuzz: a backslash right after the URL's "//" must not break "hxxp://" */
	{ "FTP://\\evil", "fxp://[\\]evil", LINK_DEFANG, 1, 0 },
	/* the output so far decides: a ':' after a host label, a scheme at the end */
	{ "a.tel:1 ms-msdt:", "a.tel[:]1 ms-msdt[:]", LINK_DEFANG, 1, 0 },
	{ "https://a.jp/\\\\evil\\s", "https://a.jp[/\\]\\evil\\s", LINK_PLAIN, 1, 0 },	/* an IDN or '_' label after "//" (the input's or our "hxxp://") */
	{ "see //例え.jp/x", "see //例え[.]jp/x", LINK_DEFANG, 1, 0 },
	{ "http://例え.jp/x", "hxxp://例え[.]jp/x", LINK_DEFANG, 1, 0 },
	{ "https://日本.example.jp です", "hxxps://日本[.]example[.]jp です", LINK_PLAIN, 1, 0 },
	{ "//a_b.jp //xn--eckwd4c7c.jp", "//a_b[.]jp //xn--eckwd4c7c[.]jp", LINK_DEFANG, 2, 0 },
	{ "x//例え。jp //例.日本 //\xef\xbf\xbd.ab", "x//例え。jp //例.日本 //\xef\xbf\xbd[.]ab", LINK_DEFANG, 1, 0 },
	{ "http://a.jp/?u=//例え.jp", "hxxp://a[.]jp/?u=//例え[.]jp", LINK_DEFANG, 2, 0 },
	{ "日付 2026//11.30 と a//b.c", "日付 2026//11.30 と a//b.c", LINK_DEFANG, 0, 0 },
	/* fuzz: the URL ends at the first non-ASCII byte, inside the host */
	{ "http://evil.c\xef\xbf\xbdm2.jp x", "hxxp://evil[.]c\xef\xbf\xbdm2[.]jp x", LINK_DEFANG, 1, 0 },
	{ "x?u=//evil.c\xef\xbf\xbdm.jp", "x?u=//evil[.]c\xef\xbf\xbdm[.]jp", LINK_DEFANG, 1, 0 },
	/* fuzz: "www[.]" later in the chain makes an earlier label the last one */
	{ "//0.例www.例 x", "//0[.]例www[.]例 x", LINK_DEFANG, 1, 0 },
	/* fuzz: plain style keeps a URL clickable only with a host after "//" */
	{ "a https://%3E%3C/x b https://例え.jp", "a hxxps://%3E%3C/x b hxxps://例え[.]jp", LINK_PLAIN, 2, 0 },
};

static void text_case(void **state)
{
	const tcase_t *c = *state;
	link_counts_t n = { 0, 0 };
	buf_t b;

	buf_init(&b, 4096);
	assert_int_equal(link_rewrite_text(c->in, strlen(c->in), c->style, &b, &n), 0);
	assert_str_eq_msg(b.data ? b.data : "", c->want);
	assert_int_equal(n.defanged, c->defanged);
	assert_int_equal(n.removed, c->removed);
	buf_free(&b);
}

typedef struct {
	const char *label, *url, *want;
	link_style_t style;
	size_t defanged, removed;
} ecase_t;

static const ecase_t emit_cases[] = {
	{ "詳細", "https://example.com/path", "詳細 <hxxps://example[.]com/path>", LINK_DEFANG, 1, 0 },
	{ "", "https://example.com/", "hxxps://example[.]com/", LINK_DEFANG, 1, 0 },
	{ " example.com ", "http://example.com/", "hxxp://example[.]com/", LINK_DEFANG, 1, 0 },
	{ "https://bank.jp", "http://evil.jp", "hxxps://bank[.]jp <hxxp://evil[.]jp>", LINK_DEFANG, 2, 0 },
	{ "x", " \x01http:\\\\a.jp\\b c", "x <hxxp://a[.]jp/b%20c>", LINK_DEFANG, 1, 0 },
	{ "x", "java\tscript:alert(1)", "x", LINK_DEFANG, 0, 1 },
	{ "x", "\n JAVASCRIPT:alert(1)", "x", LINK_PLAIN, 0, 1 },
	{ "x", "vbscript:x", "x", LINK_DEFANG, 0, 1 },
	{ "x", "data:text/html;base64,AA", "x", LINK_DEFANG, 0, 1 },
	{ "x", "file:///c:/a", "x", LINK_DEFANG, 0, 1 },
	{ "x", "ms-excel:ofe|u|http://a", "x", LINK_DEFANG, 0, 1 },
	{ "x", "search-ms:query=a", "x", LINK_DEFANG, 0, 1 },
	{ "x", "/relative", "x", LINK_DEFANG, 0, 1 },
	{ "x", "hxxp://a.jp", "x", LINK_DEFANG, 0, 1 },
	{ "taro@example.jp", "mailto:taro@example.jp", "taro[@]example[.]jp", LINK_DEFANG, 1, 0 },
	{ "電話", "tel:03-1234-5678", "電話 <tel[:]03-1234-5678>", LINK_DEFANG, 1, 0 },
	{ "こちら", "https://a.jp/", "こちら <https://a.jp/>", LINK_PLAIN, 1, 0 },
	{ "こちら http://b.jp", "https://a.jp/", "こちら [URL]", LINK_REMOVE, 0, 2 },
	{ "", "https://a.jp/", "", LINK_REMOVE, 0, 1 },
	{ "x", "http://a.jp/?u=https://b.jp", "x <hxxp://a[.]jp/?u=https[:]//b[.]jp>", LINK_DEFANG, 1, 0 },
	{ "x", "http://a.jp/\">y", "x <hxxp://a[.]jp/%22%3Ey>", LINK_DEFANG, 1, 0 },
	/* plain style keeps only http, https and mailto clickable */
	{ "電話", "tel:03-1234-5678", "電話 <tel[:]03-1234-5678>", LINK_PLAIN, 1, 0 },
	{ "", "ftp://a.jp/x", "fxp://a[.]jp/x", LINK_PLAIN, 1, 0 },
	{ "", "mailto:a@b.jp", "mailto:a@b.jp", LINK_PLAIN, 1, 0 },
	{ "x", "https://a.jp/?u=http://evil.jp", "x <https://a.jp/?u=http[:]//evil[.]jp>", LINK_PLAIN, 1, 0 },
	/* the label of a removed href is text: every form is disarmed */
	{ "\\\\fs01\\share", "javascript:x", "[\\\\]fs01\\share", LINK_PLAIN, 1, 1 },
	{ "search-ms:query=x", "ms-msdt:/id", "search-ms[:]query=x", LINK_DEFANG, 1, 1 },
	{ "example.com/reset", "vbscript:x", "example[.]com/reset", LINK_REMOVE, 1, 1 },
};

static void emit_case(void **state)
{
	const ecase_t *c = *state;
	link_counts_t n = { 0, 0 };
	buf_t b;

	buf_init(&b, 4096);
	assert_int_equal(link_emit(&b, c->label, strlen(c->label), c->url, strlen(c->url),
				   c->style, &n), 0);
	assert_str_eq_msg(b.data ? b.data : "", c->want);
	assert_int_equal(n.defanged, c->defanged);
	assert_int_equal(n.removed, c->removed);
	buf_free(&b);
}

/* Nested URLs in one long token must stay linear. */
static void text_linear(void **state)
{
	size_t n = 200000, i;
	char *s = malloc(n * 9 + 1);
	link_counts_t c = { 0, 0 };
	buf_t b;

	(void)state;
	assert_non_null(s);
	for (i = 0; i < n; i++)
		memcpy(s + i * 9, "http://a/", 9);
	s[n * 9] = '\0';
	buf_init(&b, 64 << 20);
	assert_int_equal(link_rewrite_text(s, n * 9, LINK_DEFANG, &b, &c), 0);
	assert_int_equal(c.defanged, 1);
	assert_int_equal(memcmp(b.data, "hxxp://a/http[:]//a/", 20), 0);
	buf_free(&b);
	free(s);
}

/* Token bounds at every alignment (the token walks and the scanner step
 * over kana sixteen bytes at a time): a URL after p kana, q ASCII letters
 * (a space, tab, CR or LF among them at every place, or none) and 「、」 or
 * a space comes out defanged, and so does a "www." host after r more kana
 * in the same token; the text around them byte for byte. */
static void text_wide_steps(void **state)
{
	char in[512], want[512];
	link_counts_t c;
	buf_t b;

	(void)state;
	for (size_t p = 0; p < 24; p++) {
		for (size_t q = 0; q < 20; q++) {
			for (size_t sp = 0; sp <= q; sp++) { /* sp == q: no space */
				size_t n = 0, w = 0;

				for (size_t k = 0; k < p; k++, n += 3, w += 3) {
					memcpy(in + n, "\xE3\x81\x82", 3); /* あ */
					memcpy(want + w, "\xE3\x81\x82", 3);
				}
				for (size_t k = 0; k < q; k++)
					in[n++] = want[w++] = k == sp ? " \t\r\n"[k % 4] : 'x';
				/* after 、 or right after a space */
				const char *sep = sp % 2 ? " " : "、";
				size_t r = (p + q + sp) % 24, n0, w0;

				n += (size_t)sprintf(in + n, "%shttps://evil.example/a です。", sep);
				w += (size_t)sprintf(want + w, "%shxxps://evil[.]example/a です。", sep);
				n0 = n, w0 = w;
				for (int two = 0; two < 2; two++) {
					n = n0, w = w0;
					for (size_t k = 0; two && k < r; k++, n += 3, w += 3) {
						memcpy(in + n, "\xE3\x81\x84", 3); /* い */
						memcpy(want + w, "\xE3\x81\x84", 3);
					}
					n += (size_t)sprintf(in + n, "%s\n次", two ? "www.evil.example/b" : "");
					w += (size_t)sprintf(want + w, "%s\n次", two ? "www[.]evil[.]example/b" : "");
					memset(&c, 0, sizeof(c));
					buf_init(&b, 4096);
					assert_int_equal(link_rewrite_text(in, n, LINK_DEFANG, &b, &c), 0);
					want[w] = '\0';
					assert_str_eq_msg(b.data, want);
					assert_int_equal(c.defanged, 1 + two);
					buf_free(&b);
				}
			}
		}
	}
}

int main(void)
{
	struct CMUnitTest t[MUGAI_ARRAY_LEN(text_cases) + MUGAI_ARRAY_LEN(emit_cases) + 2];
	size_t i, k = 0;

	for (i = 0; i < MUGAI_ARRAY_LEN(text_cases); i++, k++) {
		struct CMUnitTest u = { text_cases[i].in, text_case, NULL, NULL, (void *)&text_cases[i] };
		t[k] = u;
	}
	for (i = 0; i < MUGAI_ARRAY_LEN(emit_cases); i++, k++) {
		struct CMUnitTest u = { emit_cases[i].url, emit_case, NULL, NULL, (void *)&emit_cases[i] };
		t[k] = u;
	}
	t[k++] = (struct CMUnitTest)cmocka_unit_test(text_linear);
	t[k++] = (struct CMUnitTest)cmocka_unit_test(text_wide_steps);
	return _cmocka_run_group_tests("link", t, k, NULL, NULL);
}
