/* test_html.c — html_to_text: exact text for each rule, and hostile input. */
#include "testutil.h"
#include <time.h>
#include "text/html.h"

typedef struct {
	const char *name, *html, *want;
	link_style_t style;
} hcase_t;

static const hcase_t cases[] = {
	{ "para+ul", "<p>お知らせ</p><ul><li>一</li><li>二</li></ul>", "お知らせ\n\n・ 一\n・ 二", LINK_DEFANG },
	{ "collapse", "  a \n\t b   <b>c</b>  ", "a b c", LINK_DEFANG },
	{ "cjk-segment-break", "<p>お知らせ\nです。\nABC\nDEF</p>", "お知らせです。 ABC DEF", LINK_DEFANG },
	{ "paragraphs", "<p>一</p><p>二</p>", "一\n\n二", LINK_DEFANG },
	{ "div-lines", "<div>一</div><div>二</div>", "一\n二", LINK_DEFANG },
	{ "br", "一<br>二<br><br><br><br>三", "一\n二\n\n三", LINK_DEFANG },
	{ "hr", "上<hr>下", "上\n----------\n下", LINK_DEFANG },
	{ "headings", "<h1>見出し</h1>本文<h2>小見出し</h2>", "見出し\n\n本文\n\n小見出し", LINK_DEFANG },
	{ "ol-start-rev", "<ol start=3><li>a<li>b</ol><ol reversed><li>x<li>y<li>z</ol>",
	  "3. a\n4. b\n3. x\n2. y\n1. z", LINK_DEFANG },
	{ "nested-lists", "<ul><li>親<ul><li>子<ol><li>孫</ol></ul></li><li>次</ul>",
	  "・ 親\n  ・ 子\n    1. 孫\n・ 次", LINK_DEFANG },
	{ "table", "<table><tr><th>日付</th><th>内容</th></tr><tr><td></td><td> </td></tr>"
		   "<tr><td>4月1日</td><td>説明会</td></tr></table>",
	  "日付 | 内容\n4月1日 | 説明会", LINK_DEFANG },
	{ "table-nested", "<table><tr><td>a</td><td><table><tr><td>b</td><td>c</td></tr></table></td><td>d</td></tr></table>",
	  "a\nb | c\nd", LINK_DEFANG },
	{ "blockquote", "<p>返信</p><blockquote><p>一</p><p>二</p><blockquote>深い</blockquote></blockquote>後",
	  "返信\n\n> 一\n>\n> 二\n>\n> > 深い\n\n後", LINK_DEFANG },
	{ "pre", "<p>x</p><pre>  a  b  \n\n\n\n  c</pre>", "x\n\n  a  b\n\n  c", LINK_DEFANG },
	{ "textarea", "<textarea>ｘ  y</textarea>", "ｘ  y", LINK_DEFANG },
	{ "entities", "&lt;tag&gt; &amp; &#x1F600; &#12354; &copy;&nbsp;&nbsp;!", "<tag> & 😀 あ © !", LINK_DEFANG },
	/* gumbo itself turns a raw C0 byte into U+FFFD (shown: it marks a lost
	 * character); controls written as references are dropped by us */
	{ "controls", "a&#1;b\x01" "c&#x7f;d\te&#x202E;f&#0;", "ab\xEF\xBF\xBD" "cd ef\xEF\xBF\xBD", LINK_DEFANG },
	{ "img", "<img src=x alt=\"ロゴ\"><img src=y><img alt=\"  \">文", "[ロゴ]文", LINK_DEFANG },
	{ "dropped", "<head><title>T</title><style>p{}</style></head><script>x()</script>本文"
		     "<!-- c --><template>t</template><iframe>i</iframe><noembed>e</noembed>"
		     "<svg><script>s()</script><style>x{}</style><title>t</title><desc>d</desc>"
		     "<defs><text>def</text></defs>z<g>g</g></svg>"
		     "<math><semantics><mi>m</mi><annotation>a</annotation></semantics></math>",
	  "本文m", LINK_DEFANG },
	{ "noscript", "<p>前</p><noscript><p>画像を表示するには<a href=\"https://example.jp/v\">こちら</a></p></noscript>後",
	  "前\n\n画像を表示するにはこちら <hxxps://example[.]jp/v>\n\n後", LINK_DEFANG },
	{ "noscript-head", "<html><head><noscript><style>p{}</style></noscript></head><body>本文</body></html>",
	  "本文", LINK_DEFANG },
	{ "fallback", "<object data=x.swf><param name=a value=b>代替<b>文</b></object>"
		      "<video src=v.mp4><source src=a>動画を再生できません</video><audio>音声</audio>"
		      "<canvas>図</canvas><applet>ア</applet>", "代替文動画を再生できません音声図ア", LINK_DEFANG },
	{ "svg-text", "<svg><text x=1>売上<tspan>前年比</tspan></text><g>描かれない</g>"
		      "<text><![CDATA[CD]]></text><textPath>p</textPath><foreignObject><p>外部</p></foreignObject>"
		      "<text display=none>隠し</text></svg>後", "売上前年比\nCD\n\n外部\n\n後", LINK_DEFANG },
	{ "svg-link", "<svg><a href=\"https://evil.example/x\"><text>押す</text></a></svg>", "押す <hxxps://evil[.]example/x>", LINK_DEFANG },
	{ "input", "<input value=\"山田\"><input type=email placeholder=\"メール\">"
		   "<input type=SUBMIT value=\"送信\"><input type=password value=pw>"
		   "<input type=checkbox value=c><input type=image alt=\"地図\"><input type=hidden value=h>"
		   "<input value=\" \">", "[山田][メール][送信][地図]", LINK_DEFANG },
	{ "input-url", "<input value=\"https://evil.example/p\">", "[hxxps://evil[.]example/p]", LINK_DEFANG },
	{ "select", "<select><option>一<option selected>二<option>三</select>"
		    "<select><optgroup label=g><option>甲<option>乙</optgroup></select>"
		    "<select><option selected>x<option selected>y</select>", "[二][甲][y]", LINK_DEFANG },
	{ "select-list", "<select multiple><option>A<option>B</select><select size=2><option>C</select>", "[A]\n[B]\n[C]", LINK_DEFANG },
	{ "math", "<math><mi>x</mi><mo>=</mo><mn>2</mn></math>", "x=2", LINK_DEFANG },
	{ "details", "<details><summary>概要</summary>詳細本文</details>", "概要\n詳細本文", LINK_DEFANG },
	{ "css-hidden-stays", "見える<noscript style=\"display:none\">n</noscript><object hidden>o</object>",
	  "見える", LINK_DEFANG },
	{ "hidden", "<p hidden>h</p><div style=\"color:red; DISPLAY : none !important\">d</div>"
		    "<span style='visibility:hidden'>v</span><div style=\"mso-hide:all\">m</div>"
		    "<input type=hidden value=secret><span aria-hidden=true>★</span>見える",
	  "★見える", LINK_DEFANG },
	{ "button-kept", "<button>送信</button>", "送信", LINK_DEFANG },
	{ "ruby", "<ruby>漢字<rp>(</rp><rt>かんじ</rt><rp>)</rp></ruby>", "漢字(かんじ)", LINK_DEFANG },
	{ "link-defang", "<a href=\"https://www.example.jp/a?b=1\">詳細</a>",
	  "詳細 <hxxps://www[.]example[.]jp/a?b=1>", LINK_DEFANG },
	{ "link-same", "<a href=\"http://example.com/\"> http://example.com </a>",
	  "hxxp://example[.]com/", LINK_DEFANG },
	{ "link-phish", "<a href=\"http://evil.example/\">https://bank.example.jp</a>",
	  "hxxps://bank[.]example[.]jp <hxxp://evil[.]example/>", LINK_DEFANG },
	{ "link-plain", "<a href=\"https://example.jp/\">こちら</a>", "こちら <https://example.jp/>", LINK_PLAIN },
	{ "link-remove", "<a href=\"https://example.jp/\">こちら</a> https://x.jp/", "こちら [URL]", LINK_REMOVE },
	{ "link-js", "<a href=\" java&#9;script:alert(1)\">押す</a><a href=\"JaVaScRiPt:x\">y</a>",
	  "押すy", LINK_DEFANG },
	{ "link-data-vb", "<a href=\"data:text/html,x\">d</a> <a href=\"vbscript:x\">v</a> "
			  "<a href=\"ms-word:x\">w</a> <a href=\"#top\">t</a>", "d v w t", LINK_PLAIN },
	{ "mailto-tel", "<a href=\"mailto:taro@example.jp\">taro@example.jp</a> <a href=\"tel:03-1234-5678\">電話</a>",
	  "taro[@]example[.]jp 電話 <tel[:]03-1234-5678>", LINK_DEFANG },
	{ "bare-urls", "<p>詳しくは https://example.jp/a. または www.example.com（公式）</p>",
	  "詳しくは hxxps://example[.]jp/a. または www[.]example[.]com（公式）", LINK_DEFANG },
	{ "split-url", "<b>http:</b>//evil.example/x", "http[:]//evil[.]example/x", LINK_DEFANG },
	{ "area", "<map><area href=\"http://a.example/\" alt=\"地図\"></map>", "地図 <hxxp://a[.]example/>", LINK_DEFANG },
	{ "img-in-link", "<a href=\"https://x.example/\"><img alt=\"バナー\"></a>", "[バナー] <hxxps://x[.]example/>", LINK_DEFANG },
	{ "empty", "", "", LINK_DEFANG },
	{ "only-ws", " <p> </p>\n<div></div> ", "", LINK_DEFANG },
};

static void run_case(const hcase_t *c)
{
	html_opts_t o = { c->style, 256, 8 };
	html_result_t r;
	buf_t b;

	buf_init(&b, 1 << 20);
	if (html_to_text(c->html, strlen(c->html), &o, &b, &r) != 0)
		fail_msg("case %s: failed", c->name);
	if (strcmp(b.data ? b.data : "", c->want) != 0)
		print_message("case %s:\n", c->name);
	assert_str_eq_msg(b.data ? b.data : "", c->want);
	assert_false(r.depth_exceeded);
	assert_false(r.expansion_exceeded);
	buf_free(&b);
}

static void html_case(void **state)
{
	run_case(*state);
}

static void html_counts(void **state)
{
	const char *h = "<img alt=a><img><a href=\"javascript:x\">j</a><a href=\"http://a.jp\">a</a> www.b.jp";
	html_opts_t o = { LINK_DEFANG, 256, 8 };
	html_result_t r;
	buf_t b;

	(void)state;
	buf_init(&b, 1 << 20);
	assert_int_equal(html_to_text(h, strlen(h), &o, &b, &r), 0);
	assert_int_equal(r.images, 2);
	assert_int_equal(r.links.removed, 1);
	assert_int_equal(r.links.defanged, 2);
	buf_free(&b);
}

static char *repeat(const char *unit, size_t n, const char *tail)
{
	size_t ul = strlen(unit), tl = strlen(tail), i;
	char *s = malloc(ul * n + tl + 1);

	assert_non_null(s);
	for (i = 0; i < n; i++)
		memcpy(s + i * ul, unit, ul);
	memcpy(s + ul * n, tail, tl + 1);
	return s;
}

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* Hostile nesting: depth_exceeded, quickly, nothing written. */
static void html_deep(void **state)
{
	static const char *const units[] = {
		"<div>", "<b>", "<i><b>", "<table><tr><td>", "<ul><li>", "<span>",
		"<x-a>", "<font><center>", "<svg><g>",
	};
	html_opts_t o = { LINK_DEFANG, 256, 8 };
	html_result_t r;
	size_t i;
	buf_t b;

	(void)state;
	for (i = 0; i < MUGAI_ARRAY_LEN(units); i++) {
		char *s = repeat(units[i], 100000, "x");
		double t0 = now();

		buf_init(&b, 64 << 20);
		assert_int_equal(html_to_text(s, strlen(s), &o, &b, &r), 0);
		print_message("deep %s: %.3fs\n", units[i], now() - t0);
		assert_true(r.depth_exceeded);
		assert_int_equal(b.len, 0);
		assert_true(now() - t0 < 2.0);
		buf_free(&b);
		free(s);
	}
}

/* Formatting elements closed by </p> stay in the active formatting list
 * and are all reopened by the next text: deep although every tag closed. */
static void html_deep_reconstruct(void **state)
{
	html_opts_t o = { LINK_DEFANG, 256, 8 };
	html_result_t r;
	buf_t s, b;
	int i;

	(void)state;
	buf_init(&s, 8 << 20);
	buf_init(&b, 8 << 20);
	assert_int_equal(buf_puts(&s, "<p>"), 0);
	for (i = 0; i < 100000; i++)  /* each paragraph stays under the limit */
		assert_int_equal(buf_printf(&s, i % 200 ? "<b id=%d>" : "</p><p><b id=%d>", i), 0);
	assert_int_equal(buf_puts(&s, "</p>x"), 0);
	assert_int_equal(html_to_text(s.data, s.len, &o, &b, &r), 0);
	assert_true(r.depth_exceeded);
	buf_free(&s);
	buf_free(&b);
}

/* Legitimate repetition must not look deep. */
static void html_wide_not_deep(void **state)
{
	static const char *const units[] = {
		"<p>a", "<li>a", "<tr><td>a<td>b", "<div>a</div>", "<b>a</b>",
		"<dt>a<dd>b", "<option>o", "<p><font>a</font>", "<p><font size=2>a",
		"<p><b><i><u><font color=red>a",
	};
	html_opts_t o = { LINK_DEFANG, 256, 8 };
	html_result_t r;
	size_t i;
	buf_t b;

	(void)state;
	for (i = 0; i < MUGAI_ARRAY_LEN(units); i++) {
		char *s = repeat(units[i], 2000, "");

		buf_init(&b, 64 << 20);
		assert_int_equal(html_to_text(s, strlen(s), &o, &b, &r), 0);
		if (r.depth_exceeded)
			fail_msg("%s flagged deep", units[i]);
		buf_free(&b);
		free(s);
	}
}

static void html_entity_bomb(void **state)
{
	char *s = repeat("&amp;&lt;&#x1F600;", 1000000 / 19, "");
	html_opts_t o = { LINK_DEFANG, 256, 8 };
	html_result_t r;
	double t0 = now();
	buf_t b;

	(void)state;
	buf_init(&b, 64 << 20);
	assert_int_equal(html_to_text(s, strlen(s), &o, &b, &r), 0);
	assert_false(r.expansion_exceeded);
	assert_int_equal(b.len, (1000000 / 19) * 6);
	assert_int_equal(memcmp(b.data, "&<\xF0\x9F\x98\x80&<", 8), 0);
	print_message("entity bomb: %.3fs\n", now() - t0);
	buf_free(&b);
	free(s);
}

static void html_many_cells(void **state)
{
	char *s = repeat("<td>", 10 << 18, "");  /* 10 MB */
	html_opts_t o = { LINK_DEFANG, 256, 8 };
	html_result_t r;
	double t0 = now();
	buf_t b;

	(void)state;
	buf_init(&b, 64 << 20);
	assert_int_equal(html_to_text(s, strlen(s), &o, &b, &r), 0);
	assert_false(r.depth_exceeded);
	assert_int_equal(b.len, 0);
	print_message("10 MB of <td>: %.3fs\n", now() - t0);
	buf_free(&b);
	free(s);
}

static void html_expansion(void **state)
{
	const char *h = "<ol start=-999999999><li>a<li>b<li>c<li>d</ol>";
	html_opts_t o = { LINK_DEFANG, 256, 1 };
	html_result_t r;
	char *big = repeat("www.a.b.c.d.e.f.g.h.i.j ", 2000, "");
	buf_t b;

	(void)state;
	buf_init(&b, 1 << 20);
	assert_int_equal(html_to_text(h, strlen(h), &o, &b, &r), 0);
	assert_false(r.expansion_exceeded);
	assert_int_equal(html_to_text(big, strlen(big), &o, &b, &r), 0);
	assert_true(r.expansion_exceeded);
	assert_str_eq_msg(b.data, "-999999999. a\n-999999998. b\n-999999997. c\n-999999996. d");
	buf_free(&b);
	free(big);
}

static void html_out_cap(void **state)
{
	const char *h = "<p>0123456789</p>";
	html_opts_t o = { LINK_DEFANG, 256, 8 };
	html_result_t r;
	buf_t b;

	(void)state;
	buf_init(&b, 4);
	assert_int_equal(html_to_text(h, strlen(h), &o, &b, &r), -1);
	assert_int_equal(b.len, 0);
	buf_free(&b);
}

static void html_replacements_counted(void **state)
{
	/* raw C0 and &#0; become U+FFFD in gumbo: counted; a U+FFFD that was
	 * in the input (already counted by the charset layer) is not */
	const char *h = "a\x01" "b&#0;c\xEF\xBF\xBD<script>\x01</script>";
	html_opts_t o = { LINK_DEFANG, 256, 8 };
	html_result_t r;
	buf_t b;

	(void)state;
	buf_init(&b, 1 << 16);
	assert_int_equal(html_to_text(h, strlen(h), &o, &b, &r), 0);
	assert_str_eq_msg(b.data, "a\xEF\xBF\xBD" "b\xEF\xBF\xBD" "c\xEF\xBF\xBD");
	assert_int_equal(r.replaced, 2);
	buf_free(&b);
}

static void html_text_chars_estimate(void **state)
{
	static const struct { const char *html; size_t want; } t[] = {
		{ "<p>お知らせ</p>", 4 },
		{ "<head><title>T</title><style>p{}</style></head><p>a b</p>", 2 },
		{ "<script>var x = '<p>';</script>x<!-- c -- > -->y", 2 },
		{ "&amp;&nbsp;&#12354;\xC2\xA0\xE3\x80\x80z", 3 },
		{ "<header>h</header><a href=\"https://a.example/\">l</a>", 2 },
		{ "<img alt=\"logo\"><input value=v>", 0 },
		{ "a < b & c", 5 },
		{ "<script>never closed", 0 },
		{ "<!-- never closed", 0 },
	};
	size_t i;

	(void)state;
	for (i = 0; i < MUGAI_ARRAY_LEN(t); i++)
		assert_int_equal(html_text_chars(t[i].html, strlen(t[i].html)), t[i].want);
}

int main(void)
{
	struct CMUnitTest tests[MUGAI_ARRAY_LEN(cases) + 10];
	const struct CMUnitTest rest[] = {
		cmocka_unit_test(html_counts),
		cmocka_unit_test(html_deep),
		cmocka_unit_test(html_deep_reconstruct),
		cmocka_unit_test(html_wide_not_deep),
		cmocka_unit_test(html_entity_bomb),
		cmocka_unit_test(html_many_cells),
		cmocka_unit_test(html_expansion),
		cmocka_unit_test(html_out_cap),
		cmocka_unit_test(html_replacements_counted),
		cmocka_unit_test(html_text_chars_estimate),
	};
	size_t i;

	for (i = 0; i < MUGAI_ARRAY_LEN(cases); i++) {
		struct CMUnitTest t = { cases[i].name, html_case, NULL, NULL, (void *)&cases[i] };

		tests[i] = t;
	}
	for (i = 0; i < MUGAI_ARRAY_LEN(rest); i++)
		tests[MUGAI_ARRAY_LEN(cases) + i] = rest[i];
	return _cmocka_run_group_tests("html", tests, MUGAI_ARRAY_LEN(tests), NULL, NULL);
}
