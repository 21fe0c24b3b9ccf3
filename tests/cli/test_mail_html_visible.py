"""HTML keeps every visible word (issue #8, class 6) and the stub rule of
multipart/alternative: each case asserts the exact text the reader gets."""
from mailutil import msg, sanitize

BASE = {
    "From": "News <news@example.jp>",
    "To": "soumu@city.example.lg.jp",
    "Subject": "html",
    "Date": "Tue, 24 Nov 2026 10:00:00 +0900",
    "Message-ID": "<h1@example.jp>",
}


def html_body(html):
    return sanitize(msg(BASE, html, ctype="text/html; charset=utf-8")).body


def alternative(plain, html, boundary="ALT"):
    parts = [("text/plain; charset=utf-8", plain), ("text/html; charset=utf-8", html)]
    body = "".join(f"--{boundary}\nContent-Type: {ct}\n\n{b}\n" for ct, b in parts)
    body += f"--{boundary}--\n"
    return sanitize(msg(BASE, body, ctype=f'multipart/alternative; boundary="{boundary}"'))


def test_noscript_is_what_the_client_shows():
    body = html_body("<p>前文</p><script>document.write('x')</script>"
                     "<noscript><p>本文は<b>ここ</b>です</p></noscript>")
    assert body == "前文\n\n本文はここです\n"


def test_noscript_link_is_disarmed():
    body = html_body('<noscript><a href="https://evil.example/p">開く</a></noscript>')
    assert body == "開く <hxxps://evil[.]example/p>\n"


def test_object_video_audio_canvas_fallback():
    body = html_body("<object data=a.swf><param name=x value=y><p>代替文</p></object>"
                     "<video src=v.mp4><source src=w.mp4><p>動画の説明</p></video>"
                     "<audio src=a.mp3><p>音声の説明</p></audio><canvas><p>グラフ</p></canvas>")
    assert body == "代替文\n\n動画の説明\n\n音声の説明\n\nグラフ\n"


def test_svg_text_and_tspan_only():
    body = html_body("<svg><title>ツールチップ</title><style>text{}</style>"
                     "<text x=0>売上<tspan>12%増</tspan></text><g>描かれない</g></svg>")
    assert body == "売上12%増\n"


def test_input_values_and_placeholders():
    body = html_body('<form>氏名<input value="山田太郎"> メール<input type=email placeholder="例">'
                     '<input type=password value="secret"><input type=hidden value="tok">'
                     '<input type=submit value="申し込む"></form>')
    assert body == "氏名[山田太郎] メール[例][申し込む]\n"


def test_selected_option_or_first():
    body = html_body("<p>区分<select><option>個人<option selected>法人</select></p>"
                     "<p>地域<select><option>北区<option>南区</select></p>")
    assert body == "区分[法人]\n\n地域[北区]\n"


def test_textarea_button_math_details():
    body = html_body("<textarea>ご意見欄</textarea><button>送信する</button>"
                     "<p><math><mi>x</mi><mo>=</mo><mn>3</mn></math></p>"
                     "<details><summary>詳細</summary>折りたたまれた本文</details>")
    assert body == "ご意見欄\n\n送信する\n\nx=3\n\n詳細\n折りたたまれた本文\n"


def test_script_style_template_still_dropped():
    body = html_body("<style>p{}</style><script>alert(1)</script>"
                     "<template><p>テンプレート</p></template><p>残る</p>")
    assert body == "残る\n"


def test_css_hidden_text_stays_dropped():
    body = html_body('<p>見える</p><div style="display:none">プリヘッダー</div>'
                     '<noscript hidden>隠し</noscript>')
    assert body == "見える\n"


STUB = "このメールはHTML形式です。HTML表示できるメールソフトでご覧ください"
NEWS = ("<html><body><h1>市政だより 12月号</h1>"
        + "".join(f"<p>第{i}項: 年末年始の窓口業務についてお知らせします。</p>" for i in range(1, 9))
        + "</body></html>")


def test_japanese_stub_loses_to_html():
    assert len(STUB) == 37
    r = alternative(STUB, NEWS)
    assert r.body.startswith("市政だより 12月号\n\n第1項: 年末年始の窓口業務についてお知らせします。\n")
    assert "第8項: 年末年始の窓口業務についてお知らせします。\n" in r.body
    assert STUB not in r.body


def test_faithful_plain_wins():
    plain = "市政だより 12月号\n" + "".join(
        f"第{i}項: 年末年始の窓口業務についてお知らせします。\n" for i in range(1, 9))
    r = alternative(plain, NEWS)
    assert r.body == plain


def test_plain_with_urls_wins_over_html_with_hrefs():
    plain = "詳細は https://www.city.example.lg.jp/news/2026/12/detail.html をご覧ください。\n"
    html = '<p>詳細は<a href="https://www.city.example.lg.jp/news/2026/12/detail.html">こちら</a>をご覧ください。</p>'
    r = alternative(plain, html)
    assert r.body == "詳細は hxxps://www[.]city[.]example[.]lg[.]jp/news/2026/12/detail.html をご覧ください。\n"


def test_html_bytes_without_words_do_not_beat_plain():
    # 20 KB of markup and styles, few visible words: plain is kept
    html = "<style>" + "p{color:red}" * 1500 + "</style><table>" + \
        "<tr><td style='padding:0'><img src=x></td></tr>" * 100 + "</table><p>ご案内</p>"
    r = alternative("ご案内\n", html)
    assert r.body == "ご案内\n"


def test_empty_plain_loses():
    r = alternative("\n  \n", "<p>本文だけ</p>")
    assert r.body == "本文だけ\n"


def test_parser_replacements_are_counted():
    # a raw control byte and &#0; become U+FFFD: both counted as losses
    r = sanitize(msg(BASE, b"<p>a\x01b&#0;c</p>\n", ctype="text/html; charset=utf-8"))
    assert r.body == "a\ufffdb\ufffdc\n"
    assert r.report["decoding_losses"] == 2
