"""Hostile input: every case finishes in bounded time and memory with an
exact verdict (issue #2 §4). The CLI runs under RLIMIT_AS and a timeout; the
worker inside it has its own limits."""
import pytest

from mailutil import check_wire_format, msg, sanitize

H = {"From": "a@example.jp", "To": "b@example.lg.jp", "Subject": "hostile"}
SECONDS = 30


def assert_quarantined(r, limit=None, warning=None):
    check_wire_format(r.raw)
    assert r.verdict == "quarantined", r.report
    if limit:
        assert limit in r.report["limits_hit"], r.report
    if warning:
        assert any(warning in w for w in r.report["warnings"]), r.report
    assert r.body == ""
    assert "【隔離】" in r.notice
    assert r.report["id"] in r.notice
    assert r.seconds < SECONDS


def test_10000_deep_nesting():
    body = "".join(f'Content-Type: multipart/mixed; boundary="b{i}"\n\n--b{i}\n' for i in range(10000))
    data = "From: a@example.jp\nSubject: deep\nMIME-Version: 1.0\n" + body + "Content-Type: text/plain\n\nhi\n"
    r = sanitize(data, timeout=SECONDS)
    assert_quarantined(r, limit="mime_depth_max")
    assert str(r.msg["Subject"]) == "[無害化:隔離] deep"


def test_100000_parts():
    parts = "".join("--P\nContent-Type: text/plain\n\nx\n" for _ in range(100000))
    r = sanitize(msg(H, parts + "--P--\n", ctype='multipart/mixed; boundary="P"'), timeout=SECONDS)
    assert_quarantined(r, limit="mime_parts_max")


def test_one_megabyte_header_of_one_byte_lines():
    folded = "Subject: x" + "\n y" * (512 * 1024)
    data = "From: a@example.jp\n" + folded + "\nMIME-Version: 1.0\n\nbody\n"
    r = sanitize(data, timeout=SECONDS)
    assert_quarantined(r, limit="header_bytes_max")


def test_100_megabyte_single_line():
    data = b"From: a@example.jp\nSubject: long\n\n" + b"A" * (100 * 1024 * 1024)
    r = sanitize(data, timeout=SECONDS)
    assert_quarantined(r, limit="message_size_max")


def test_long_line_over_line_length_max():
    data = b"From: a@example.jp\nSubject: long\n\n" + b"A" * (2 * 1024 * 1024) + b"\n"
    r = sanitize(data, timeout=SECONDS)
    assert_quarantined(r, limit="line_length_max")


def test_nul_bytes_are_removed_and_reported():
    r = sanitize(msg(H, b"abc\x00def\nghi\x00\n"), timeout=SECONDS)
    assert r.verdict == "sanitized"
    assert r.body == "abcdef\nghi\n"
    assert "2 NUL bytes removed" in r.report["warnings"]


def test_bare_cr_and_lf_mixes():
    data = (b"From: a@example.jp\r\nSubject: mixed\rMIME-Version: 1.0\n"
            b"Content-Type: text/plain\r\n\r\none\rtwo\nthree\r\n")
    r = sanitize(data, timeout=SECONDS)
    assert r.verdict == "sanitized"
    assert str(r.msg["Subject"]) == "mixed"
    assert r.body == "one\ntwo\nthree\n"
    assert "bare CR line ends" in r.report["warnings"]
    assert "mixed CRLF and bare LF line ends" in r.report["warnings"]
    check_wire_format(r.raw)


def test_garbage_base64_text():
    r = sanitize(msg(H, "SGVs!!bG8g***d29y\x01bGQ=\n", cte="base64"), timeout=SECONDS)
    assert r.verdict == "sanitized"
    assert r.body == "Hello world\n"
    assert "invalid base64 characters in a text part" in r.report["warnings"]


def test_garbage_quoted_printable_text():
    r = sanitize(msg(H, "a=3Db =ZZ c=\nd =E3=81=82\n", cte="quoted-printable"), timeout=SECONDS)
    assert r.body == "a=b =ZZ cd あ\n"


def test_missing_end_boundary_is_quarantined_by_config():
    data = msg(H, "--B\nContent-Type: text/plain\n\npart one\n--B\nContent-Type: text/plain\n\npart two\n",
               ctype='multipart/mixed; boundary="B"')
    r = sanitize(data, config="on_truncated_multipart = quarantine\n", timeout=SECONDS)
    assert_quarantined(r, warning="truncated multipart")


def test_look_alike_boundaries():
    body = ("--B\nContent-Type: text/plain\n\nfirst\n--Bx\nnot a boundary\n-- B\nnor this\n"
            "--B\nContent-Type: text/plain\n\nsecond\n--B--\n")
    r = sanitize(msg(H, body, ctype='multipart/mixed; boundary="B"'), timeout=SECONDS)
    assert r.body == "first\n--Bx\nnot a boundary\n-- B\nnor this\n\nsecond\n"


def test_preamble_and_epilogue_never_reach_the_reader():
    body = ("HIDDEN PREAMBLE https://evil.example/\n--B\nContent-Type: text/plain\n\nvisible\n"
            "--B--\nHIDDEN EPILOGUE\n")
    r = sanitize(msg(H, body, ctype='multipart/mixed; boundary="B"'), timeout=SECONDS)
    assert r.body == "visible\n"
    assert b"HIDDEN" not in r.raw and b"evil" not in r.raw


@pytest.mark.parametrize("dup", [
    "Content-Type: text/plain\nContent-Type: text/html\n",
    "Content-Type: text/plain\nContent-Transfer-Encoding: base64\nContent-Transfer-Encoding: 7bit\n",
])
def test_duplicate_content_headers_are_quarantined(dup):
    data = "From: a@example.jp\nSubject: dup\nMIME-Version: 1.0\n" + dup + "\nPGI+aGk8L2I+\n"
    r = sanitize(data, timeout=SECONDS)
    assert_quarantined(r, warning="conflicting header")


def test_multipart_without_boundary_is_quarantined():
    r = sanitize(msg(H, "--x\n\nhi\n", ctype="multipart/mixed"), timeout=SECONDS)
    assert_quarantined(r, warning="multipart without boundary")


def test_not_a_message_at_all():
    r = sanitize(b"\x00\x01\x02 binary junk \xff\xfe", timeout=SECONDS)
    assert_quarantined(r, warning="invalid header name")
    assert "not a parseable message" in r.report["warnings"]


def test_conflicting_from_is_quarantined():
    data = "From: boss@example.lg.jp\nFrom: attacker@evil.example\nSubject: s\n\nx\n"
    r = sanitize(data, timeout=SECONDS)
    assert_quarantined(r, warning="conflicting header")


def test_conflicting_subject_uses_the_first_and_warns():
    r = sanitize("From: a@example.jp\nSubject: first\nSubject: second\n\nx\n", timeout=SECONDS)
    assert r.verdict == "sanitized"
    assert str(r.msg["Subject"]) == "first"
    assert r.body == "x\n"


def test_truncated_multipart_is_sanitized_by_default_with_a_note():
    data = msg(H, "--B\nContent-Type: text/plain\n\npart one\n", ctype='multipart/mixed; boundary="B"')
    r = sanitize(data, timeout=SECONDS)
    assert r.verdict == "sanitized"
    assert r.body == "part one\n"
    assert r.notice.split("\r\n")[2] == ("注意: このメールは終わりの区切りが欠けていました。"
                                         "最後の部分はメールの末尾まで続くものとして変換しました。")


def test_html_entity_bomb():
    html = "<p>" + "\n".join(["&amp;&lt;&#x1F600;&NotNestedGreaterGreater;" * 10] * 4000) + "</p>"
    r = sanitize(msg(H, html, ctype="text/html; charset=utf-8"), timeout=SECONDS)
    assert r.verdict == "sanitized"
    assert r.body == " ".join(["&<😀⪢̸" * 10] * 4000) + "\n"


def test_100000_deep_html_nesting():
    html = "<div>\n" * 100000 + "deep" + "</div>\n" * 100000
    r = sanitize(msg(H, html, ctype="text/html; charset=utf-8"), timeout=SECONDS)
    assert_quarantined(r, limit="html_depth_max")


def test_script_style_and_hidden_html_never_reach_the_reader():
    html = ("<html><head><style>.x{}</style><script>steal()</script><title>T</title></head><body>"
            "<p>visible</p><p hidden>h1</p><div style='display:none'>h2</div><!-- c -->"
            "<a href='javascript:steal()'>click</a><iframe src='https://evil.example/'></iframe></body></html>")
    r = sanitize(msg(H, html, ctype="text/html; charset=utf-8"), timeout=SECONDS)
    assert r.body == "visible\n\nclick\n"
    assert r.report["links_removed"] == 1
    assert b"steal" not in r.raw and b"evil" not in r.raw


@pytest.mark.parametrize("style,want", [
    ("defang", "see hxxps://www[.]example[.]jp/a?b=1 or taro[@]example[.]jp\n"),
    ("plain", "see https://www.example.jp/a?b=1 or mailto:taro@example.jp\n"),
    ("remove", "see [URL] or [URL]\n"),
])
def test_link_styles_in_text(style, want):
    r = sanitize(msg(H, "see https://www.example.jp/a?b=1 or mailto:taro@example.jp\n"),
                 config=f"link_style = {style}\n", timeout=SECONDS)
    assert r.body == want


def test_html_link_defanged_with_label():
    html = '<p>詳しくは<a href="https://www.example-town.lg.jp/news/">こちら</a></p>'
    r = sanitize(msg(H, html, ctype="text/html; charset=utf-8"), timeout=SECONDS)
    assert r.body == "詳しくはこちら <hxxps://www[.]example-town[.]lg[.]jp/news/>\n"
    assert r.report["links_defanged"] == 1


def test_text_over_text_size_max_is_truncated_with_a_note():
    body = ("あいうえお" * 20 + "\n") * 2000          # ~600 KB of text
    r = sanitize(msg(H, body), config="text_size_max = 64k\n", timeout=SECONDS)
    assert r.verdict == "sanitized"
    assert "text_size_max" in r.report["limits_hit"]
    assert r.body.endswith("\n[本文が上限 (text_size_max) を超えたため、以降を省略しました。]\n")
    kept = r.body.split("\n[本文が上限")[0]
    assert len(kept.encode()) <= 64 * 1024
    assert kept.startswith("あいうえお" * 20 + "\n")


def test_text_made_of_line_ends():
    r = sanitize(msg(H, "\n" * 5000 + "end\n"), timeout=SECONDS)
    assert r.verdict == "clean"
    assert r.body == "\n" * 5000 + "end\n"
