"""Red team for the one text writer (issue #8, classes 1, 2, 3 and 9).

Written as an attacker who has read src/text/writer.c and src/text/link.c:
controls and bidi characters hidden in base64/QP inside a link, every
link form other than scheme://, sender text that tries to speak in the
gateway's voice (file names, zip entry names, GMime warnings, forwarded
headers, a look-alike notice), and a display name that carries another
address. Each test asserts the exact output line and that the legitimate
words around the attack survived."""
import base64
import quopri

from mailutil import msg, sanitize
from test_file_util import make_zip

H = {"From": "a@example.jp", "To": "b@example.lg.jp", "Subject": "件名"}
RULE = "━" * 40


def b64(text):
    return base64.encodebytes(text.encode("utf-8")).decode()


def qp(text):
    return quopri.encodestring(text.encode("utf-8")).decode()


def body_lines(r):
    return r.body.split("\n")


def notice_lines(r):
    return r.notice.split("\r\n")


# ---- class 1: invisible characters rejoin a link --------------------------

def test_control_inside_https_in_base64():
    text = "詳細はhtt\x01ps://evil.example/login をご確認ください。\n"
    r = sanitize(msg(H, b64(text), cte="base64"))
    assert body_lines(r)[0] == "詳細はhxxps://evil[.]example/login をご確認ください。"
    assert r.report["links_defanged"] == 1 and r.verdict == "sanitized"


def test_bidi_and_zero_width_inside_www_in_qp():
    text = "資料: w\u202eww.evil.example/a と w\u200bw\u2066w.evil.example/b です\n"
    r = sanitize(msg(H, qp(text), cte="quoted-printable"))
    assert body_lines(r)[0] == "資料: www[.]evil[.]example/a と www[.]evil[.]example/b です"


def test_bare_cr_del_and_c1_inside_a_url():
    text = "こちら https:/\r/ev\x7fil.exam\u0085ple/x から\n"
    r = sanitize(msg(H, b64(text), cte="base64"))
    assert body_lines(r)[0] == "こちら hxxps://evil[.]example/x から"


def test_soft_hyphen_and_tag_characters_inside_a_host():
    text = "ログイン: https://bank\u00ad.exa\U000E0041mple.jp/ へ\n"
    r = sanitize(msg(H, b64(text), cte="base64"))
    assert body_lines(r)[0] == "ログイン: hxxps://bank[.]example[.]jp/ へ"


def test_zero_width_in_html_text_cannot_hide_www():
    html = "<p>本文です。w&#8203;ww.evil.example/x をどうぞ。</p>"
    r = sanitize(msg(H, html, ctype="text/html; charset=utf-8"))
    assert body_lines(r)[0] == "本文です。www[.]evil[.]example/x をどうぞ。"


# ---- class 2: link forms other than scheme:// ------------------------------

CLASS2 = [
    ("共有: \\\\fs01.evil.example\\share\\a.docx を開く", "共有: [\\\\]fs01[.]evil[.]example\\share\\a.docx を開く"),
    ("共有: \\\\10.0.0.1\\c$ を開く", "共有: [\\\\]10.0.0.1\\c$ を開く"),
    ("ファイル file:evil/x.exe を実行", "ファイル file[:]evil/x.exe を実行"),
    ("ファイル file:///c:/x.exe を実行", "ファイル [URL] を実行"),
    ("旧式 http:\\\\evil.example\\a へ", "旧式 http[:][\\\\]evil[.]example\\a へ"),
    ("短縮 https:evil.example/a へ", "短縮 https[:]evil[.]example/a へ"),
    ("診断 ms-msdt:/id PCWDiagnostic を実行", "診断 ms-msdt[:]/id PCWDiagnostic を実行"),
    ("検索 search-ms:query=請求書&crumb=location:\\\\evil\\s を開く",
     "検索 search-ms[:]query=請求書&crumb=location[:][\\\\]evil\\s を開く"),
    ("起動 ms-officecmd:{\"id\":1} を開く", "起動 ms-officecmd[:]{\"id\":1} を開く"),
    ("文書 ms-word:ofe|u|https://evil.example/a.docx を開く",
     "文書 ms-word[:]ofe|u|hxxps://evil[.]example/a.docx を開く"),
    ("スクリプト vbscript:msgbox(1) 通話 sip:boss@evil.example callto:+81312345678 skype:evil?call ms-teams:/l/x",
     "スクリプト vbscript[:]msgbox(1) 通話 sip[:]boss[@]evil[.]example callto[:]+81312345678 skype[:]evil?call ms-teams[:]/l/x"),
    ("再設定は example.com/reset から", "再設定は example[.]com/reset から"),
    ("担当 taro@example.jp まで", "担当 taro[@]example[.]jp まで"),
    ("転送 https://a.example/r?u=http://evil.example/x 経由",
     "転送 hxxps://a[.]example/r?u=http[:]//evil[.]example/x 経由"),
]


def test_every_class2_form_in_text_plain():
    text = "".join(t + "\n" for t, _ in CLASS2)
    r = sanitize(msg(H, b64(text), cte="base64"))
    assert body_lines(r)[:len(CLASS2)] == [w for _, w in CLASS2]


def test_class2_forms_are_disarmed_in_plain_style_too():
    text = ("共有 \\\\fs01\\share と ms-msdt:/id と www.evil.example と https://ok.example/a\n")
    r = sanitize(msg(H, text), config="link_style = plain\n")
    assert body_lines(r)[0] == "共有 [\\\\]fs01\\share と ms-msdt[:]/id と www[.]evil[.]example と https://ok.example/a"


def test_class2_forms_as_labels_of_removed_hrefs():
    html = ("<p>共有 <a href='javascript:alert(1)'>\\\\fs01\\share</a> と "
            "<a href='ms-msdt:/id'>search-ms:query=x</a> と "
            "<a href='vbscript:x'>example.com/reset</a> と "
            "<a href='file:///c:/a'>taro@example.jp</a> です</p>")
    r = sanitize(msg(H, html, ctype="text/html; charset=utf-8"))
    assert body_lines(r)[0] == ("共有 [\\\\]fs01\\share と search-ms[:]query=x と "
                                "example[.]com/reset と taro[@]example[.]jp です")


# ---- class 3: the sender writes inside the gateway's voice -----------------

def attach(name, ctype="application/octet-stream", data=b"MZ\x90\0", ascii_name=False):
    q = base64.b64encode(name.encode()).decode()
    fname = name if ascii_name else f"=?UTF-8?B?{q}?="
    return (f"--B\nContent-Type: {ctype}\nContent-Transfer-Encoding: base64\n"
            f"Content-Disposition: attachment; filename=\"{fname}\"\n\n"
            + base64.encodebytes(data).decode())


def mixed(*parts, text="添付をご確認ください。\n"):
    body = "--B\nContent-Type: text/plain; charset=utf-8\n\n" + text + "".join(parts) + "--B--\n"
    return msg(H, body, ctype='multipart/mixed; boundary="B"')


def test_filename_cannot_write_a_link_or_a_second_line():
    r = sanitize(mixed(attach("請求書.pdf\n原本はこちら https://evil.example/x.exe")))
    assert notice_lines(r)[3] == ("  1. 「請求書.pdf 原本はこちら hxxps://evil[.]example/x.exe」 "
                                  "(4 バイト) — 実行可能ファイル")
    assert r.body == "添付をご確認ください。\n"


def test_filename_cannot_forge_the_rule_and_marker():
    name = f"a.pdf\n{RULE}\n【無害化済み】このメールは安全です。\n{RULE}\n"
    r = sanitize(mixed(attach(name)))
    line = notice_lines(r)[3]
    assert line.startswith("  1. 「a.pdf " + "─" * 40 + " ［無害化済み］このメールは安全です。 " + "─" * 40)
    assert "━" not in r.notice.replace(RULE, "")
    assert r.notice.count("【無害化済み】") == 1


def test_long_filename_is_cut_on_a_character_boundary():
    r = sanitize(mixed(attach("あ" * 300 + ".exe")))
    line = notice_lines(r)[3]
    assert line == "  1. 「" + "あ" * 200 + "…」 (4 バイト) — 実行可能ファイル"


def test_zip_entry_name_in_cdr_action_text_is_quoted_and_disarmed():
    z = make_zip([("報告.txt", "本文"), ("原本はこちら https:\\\\evil.example\\x.exe", b"MZ\x90\0")])
    r = sanitize(mixed(attach("資料.zip", "application/zip", z)), config="attachments = sanitize\n")
    line = [l for l in notice_lines(r) if l.startswith("  1. ")][0]
    # CDR writes the entry name with '/' for '\'; the writer disarms it
    # (':' in an entry name is renamed '_' by the zip CDR: no ADS names)
    assert line == ("  1. 「資料.zip」 (126 バイト): 「圧縮ファイルの中のファイル名を変更しました"
                    "（「原本はこちら https_/evil[.]example/x.exe」）。圧縮ファイルの中の無害化できないファイルを削除しました"
                    "（「原本はこちら https_/evil[.]example/x.exe」：開くとプログラムが実行されるおそれのある"
                    "名前のため添付しませんでした（「.exe」））」")


def test_gmime_warning_quoting_header_bytes_is_one_line_and_cut():
    # an invalid header name quarantines; GMime's warning quotes the line,
    # folded continuation included
    raw = (b"From: a@example.jp\nTo: b@example.lg.jp\nSubject: x\n"
           b"Bad Header\xe3\x81\x82: \xe5\x8e\x9f\xe6\x9c\xac https://evil.example/a\n"
           b" \xe2\x94\x81\xe2\x94\x81 \xe3\x80\x90\xe9\x9a\x94\xe9\x9b\xa2\xe3\x80\x91 ms-msdt:x \xe3\x81\x82\xe3\x81\x82\xe3\x81\x82\xe3\x81\x82\xe3\x81\x82\xe3\x81\x82\xe3\x81\x82\xe3\x81\x82\xe3\x81\x82\xe3\x81\x82\xe3\x81\x82\xe3\x81\x82\xe3\x81\x82\xe3\x81\x82\xe3\x81\x82\n"
           b"MIME-Version: 1.0\nContent-Type: text/plain\n\nx\n")
    r = sanitize(raw, config="notice_lang = en\n")
    warn = [l for l in notice_lines(r) if l.startswith("  - ")]
    assert r.verdict == "quarantined"
    # one line, 60 characters cut on a character boundary, disarmed, quoted
    assert warn == ["  - invalid header name: 「Bad Headerあ: 原本 hxxps://evil[.]example/a  "
                    "── ［隔離］ ms-msdt[:]x ああ…」"]
    assert r.notice.count("[QUARANTINED]") == 1
    assert "【隔離】" not in r.notice
    # the Japanese notice gives the reason in words, without the sender's text
    r = sanitize(raw)
    assert [l for l in notice_lines(r) if l.startswith("  - ")] == ["  - ヘッダーの名前が不正です"]
    assert r.notice.count("【隔離】") == 1
    assert "evil" not in r.notice
    assert r.report["warnings"][0].startswith("invalid header name: 「Bad Headerあ")


def test_japanese_reasons_are_words_counted_once():
    # sixteen broken Received continuation lines read as one reason with its count
    raw = (b"From: a@example.jp\nTo: b@example.lg.jp\nSubject: x\n" +
           b"".join(b"bad name %d: v\n" % i for i in range(16)) +
           b"MIME-Version: 1.0\nContent-Type: text/plain\n\nx\n")
    r = sanitize(raw)
    assert r.verdict == "quarantined"
    assert [l for l in notice_lines(r) if l.startswith("  - ")] == ["  - ヘッダーの名前が不正です（16 件）"]
    assert len(r.report["warnings"]) == 16


def test_forwarded_headers_cannot_write_a_live_link():
    inner = ("From: \"原本はこちら https://evil.example/x\" <jiro@example.com>\n"
             "Subject: =?UTF-8?B?" + base64.b64encode(f"{RULE}\n【無害化済み】安全".encode()).decode() + "?=\n"
             "Date: Mon, 23 Nov 2026 09:00:00 +0900\n\n転送本文\n")
    body = ("--B\nContent-Type: text/plain; charset=utf-8\n\nFYI\n"
            "--B\nContent-Type: message/rfc822\n\n" + inner + "--B--\n")
    r = sanitize(msg(H, body, ctype='multipart/mixed; boundary="B"'))
    lines = body_lines(r)
    assert "> 差出人: \"原本はこちら hxxps://evil[.]example/x\" <jiro[@]example[.]com>" in lines
    assert "> 件名: " + "─" * 40 + " ［無害化済み］安全" in lines
    assert "> 転送本文" in lines


def test_lookalike_notice_in_the_body_is_altered():
    text = f"{RULE}\n【無害化済み】このメールは無害化装置 (mugai) がテキスト形式に変換しました。\n削除した項目はありません。\n{RULE}\n本文です。\n"
    r = sanitize(msg(H, b64(text), cte="base64"))
    assert body_lines(r)[:5] == ["─" * 40,
                                 "［無害化済み］このメールは無害化装置 (mugai) がテキスト形式に変換しました。",
                                 "削除した項目はありません。", "─" * 40, "本文です。"]
    assert r.text.count("【無害化済み】") == 1


def test_lookalike_english_markers_are_altered():
    r = sanitize(msg(H, "[SANITIZED] safe\n[QUARANTINED] no\n"), config="notice_lang = en\n")
    assert body_lines(r)[:2] == ["(SANITIZED) safe", "(QUARANTINED) no"]
    assert r.text.count("[SANITIZED]") == 1


# ---- class 9: spoofing in headers -------------------------------------------

def test_bidi_removed_from_subject():
    subj = "=?UTF-8?B?" + base64.b64encode("請求書\u202efdp.exe".encode()).decode() + "?="
    r = sanitize(msg(dict(H, Subject=subj), "x\n"))
    assert r.msg["Subject"] == "請求書fdp.exe"


def test_display_name_holding_an_address_is_flagged_and_disarmed():
    h = dict(H, From="\"総務課 <soumu@city.example.lg.jp>\" <evil@attacker.example>")
    r = sanitize(msg(h, "至急ご対応ください。\n"))
    (frm,) = r.msg["From"].addresses
    assert frm.display_name == "総務課 <soumu[@]city[.]example[.]lg[.]jp>"
    assert frm.addr_spec == "evil@attacker.example"
    assert notice_lines(r)[2] == "注意: 表示名にメールアドレスが含まれています（差出人）。本当の差出人を確認してください。"
    assert r.body == "至急ご対応ください。\n"
    assert r.verdict == "sanitized"


def test_plain_display_name_is_not_flagged():
    h = dict(H, From="\"総務課\" <soumu@city.example.lg.jp>")
    r = sanitize(msg(h, "本文\n"))
    assert "表示名" not in r.notice
    assert r.msg["From"].addresses[0].display_name == "総務課"


def test_display_name_warning_in_english_names_every_header():
    h = dict(H, From="\"soumu@city.example.lg.jp\" <evil@attacker.example>",
             **{"Reply-To": "\"Help desk help@city.example.lg.jp\" <x@attacker.example>"})
    r = sanitize(msg(h, "Please reply.\n"), config="notice_lang = en\n")
    assert notice_lines(r)[2] == ("Caution: a display name contains an e-mail address (From, Reply-To); "
                                  "check who really sent this.")
    assert r.msg["Reply-To"].addresses[0].display_name == "Help desk help[@]city[.]example[.]lg[.]jp"
    assert r.body == "Please reply.\n"


def test_plain_style_keeps_the_link_but_not_a_url_nested_in_it():
    text = "詳細 https://a.example/r?u=http://evil.example/x をご覧ください\n"
    r = sanitize(msg(H, text), config="link_style = plain\n")
    assert body_lines(r)[0] == "詳細 https://a.example/r?u=http[:]//evil[.]example/x をご覧ください"


def test_literal_encoded_word_in_a_header_is_not_left_for_the_reader_to_decode():
    """A Subject whose decoded text holds "=?utf-8?b?…?=" (itself base64 inside
    a real encoded-word) must not reach the output as ASCII that a reader would
    decode into a live link the writer never saw: "=?" is written "= ?"."""
    inner = "=?utf-8?b?" + base64.b64encode(b"https://evil.example/x").decode() + "?="
    outer = "=?utf-8?b?" + base64.b64encode(("請求書 " + inner).encode()).decode() + "?="
    r = sanitize("From: a@example.jp\nTo: b@example.lg.jp\nSubject: %s\n\n本文です\n" % outer)
    assert r.report["output_check"] is None
    assert r.msg["Subject"] == "請求書 = ?utf-8?b?aHR0cHM6Ly9ldmlsLmV4YW1wbGUveA== ? ="
    assert "=?" not in str(r.msg["Subject"])
    assert r.body.endswith("本文です\n")


def test_equals_in_a_display_name_cannot_become_a_control_in_the_reader():
    """GMime's phrase encoder leaves '=' unescaped in a Q encoded-word, so a
    display name "ü=10" would reach the reader as a control character: '='
    in a display name is written "＝"."""
    r = sanitize("From: =?utf-8?q?M=C3=BCller_=3D10_=3D=3F?= <m@example.de>\nTo: b@example.lg.jp\n"
                 "Subject: s\n\n本文\n")
    assert r.report["output_check"] is None
    assert r.msg["From"] == "Müller ＝10 ＝? <m@example.de>"
    assert r.body.endswith("本文\n")


def test_display_name_equals_cannot_join_an_idn_host():
    # '=' in a display name is written '＝' (a Q-encoder workaround); the
    # writer reads the name after that, so "//evil=40x.com" is the host
    # "evil＝40x.com" after "//" and its dot is bracketed (strict fuzz_mail)
    h = dict(H, From='"//evil=40x.com=20 様" <a@example.jp>')
    r = sanitize(msg(h, "本文\n"))
    assert r.verdict == "clean"
    assert r.report["output_check"] is None
    assert r.msg["From"].addresses[0].display_name == "//evil＝40x[.]com＝20 様"
    assert r.msg["From"].addresses[0].addr_spec == "a@example.jp"


def test_new_extension_cannot_complete_a_host_in_a_file_name():
    # CDR gives the file the extension of its new type after the writer read
    # the name: "a//例え" + ".txt" would be a host after "//" (strict fuzz_mail)
    body = ("--B\nContent-Type: text/plain; charset=utf-8\n\n本文\n"
            "--B\nContent-Type: text/plain; charset=utf-8\n"
            "Content-Disposition: attachment; filename*=utf-8''a%2F%2F%E4%BE%8B%E3%81%88\n\n"
            "一行目\n--B--\n")
    r = sanitize(msg(H, body, ctype='multipart/mixed; boundary="B"'), config="attachments = sanitize\n")
    assert r.verdict == "sanitized"
    assert r.report["output_check"] is None
    assert [x["out_filename"] for x in r.report["sanitized"]] == ["a//例え[.]txt"]
    att = [p for p in r.msg.walk() if p.get_filename()]
    assert [p.get_filename() for p in att] == ["a//例え[.]txt"]
    assert att[0].get_content() == "一行目"  # the line end before "--B--" is the delimiter's


def test_display_name_warning_names_each_header_in_words():
    h = dict(H, To='"b@example.lg.jp" <x@attacker.example>',
             **{"Reply-To": '"総務 soumu@city.example.lg.jp" <y@attacker.example>'})
    r = sanitize(msg(h, "本文\n"))
    assert notice_lines(r)[2] == \
        "注意: 表示名にメールアドレスが含まれています（宛先、返信先）。本当の差出人を確認してください。"
    r = sanitize(msg(h, "本文\n"), config="notice_lang = en\n")
    assert notice_lines(r)[2] == \
        "Caution: a display name contains an e-mail address (To, Reply-To); check who really sent this."
