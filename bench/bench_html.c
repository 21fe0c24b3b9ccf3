/* bench_html.c — html_to_text throughput on a generated ~40 KB Japanese
 * newsletter, against gumbo_parse alone (parse + destroy: the ceiling).
 *
 * Usage: bench_html [iterations]   (default 300)
 * SECURITY: benchmark program only; no input from outside. */
#include <gumbo.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "text/html.h"

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int gen_section(buf_t *b, int i)
{
	return buf_printf(b,
		"<tr><td style=\"padding:8px\"><h2>第%d号 市からのお知らせ</h2>\n"
		"<p>市民の皆様へ。いつも市政にご協力いただきありがとうございます。\n"
		"今月は<b>健康診断</b>と<a href=\"https://www.city.example.lg.jp/kenko/%d.html\">"
		"予防接種のご案内</a>をお届けします。詳しくは https://www.city.example.lg.jp/ "
		"をご覧ください。&nbsp;&nbsp;お問い合わせ：<a href=\"mailto:info%d@city.example.lg.jp\">"
		"info%d@city.example.lg.jp</a></p>\n"
		"<ul><li>受付期間：4月1日〜4月30日</li><li>会場：市民会館 大ホール</li>"
		"<li>持ち物：保険証、筆記用具</li></ul>\n"
		"<table border=\"1\"><tr><th>日付</th><th>内容</th><th>定員</th></tr>"
		"<tr><td>4/6</td><td>説明会</td><td>50名</td></tr>"
		"<tr><td>4/20</td><td>相談会</td><td>30名</td></tr></table>\n"
		"<div style=\"display:none\">preheader</div><img src=\"cid:x\" alt=\"写真\">"
		"</td></tr>\n", i, i, i, i);
}

static char *gen(size_t *len)
{
	buf_t b;
	int i;

	buf_init(&b, 1 << 20);
	if (buf_puts(&b, "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>市報</title>"
		     "<style>td{font-size:14px}</style></head><body><table width=\"600\">") < 0)
		return NULL;
	for (i = 0; b.len < 40000; i++)
		if (gen_section(&b, i) < 0)
			return NULL;
	if (buf_puts(&b, "</table></body></html>") < 0)
		return NULL;
	return buf_steal(&b, len);
}

int main(int argc, char **argv)
{
	int iters = argc > 1 ? atoi(argv[1]) : 300, i;
	html_opts_t o = { LINK_DEFANG, 256, 8 };
	html_result_t r;
	size_t len, outlen = 0;
	char *html = gen(&len);
	double t0, t_conv, t_parse;
	buf_t out;

	if (!html || iters < 1)
		return 1;
	buf_init(&out, 64 << 20);
	t0 = now();
	for (i = 0; i < iters; i++) {
		buf_reset(&out);
		if (html_to_text(html, len, &o, &out, &r) != 0)
			return 1;
		outlen = out.len;
	}
	t_conv = now() - t0;
	t0 = now();
	for (i = 0; i < iters; i++) {
		GumboOutput *g = gumbo_parse_with_options(&kGumboDefaultOptions, html, len);

		gumbo_destroy_output(&kGumboDefaultOptions, g);
	}
	t_parse = now() - t0;
	printf("input %zu bytes, output %zu bytes, %d iterations\n", len, outlen, iters);
	printf("html_to_text:       %7.1f MB/s\n", (double)len * iters / t_conv / 1e6);
	printf("gumbo_parse alone:  %7.1f MB/s (ceiling)\n", (double)len * iters / t_parse / 1e6);
	buf_free(&out);
	free(html);
	return 0;
}
