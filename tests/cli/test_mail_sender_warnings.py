"""Sender warnings (issue #11 part 4) and the X-Mugai-Sanitized action
tokens (part 5), through `mugai mail sanitize`: exact notice lines, the
X-Mugai-Warning header, the report fields. Written as an attacker who has
read sender.c: look-alike domains by confusables, an own domain in the
display name, forged Authentication-Results (an untrusted authserv-id is
ignored; a forged "pass" cannot hide a trusted "fail"), forged X-Mugai-*
headers."""
import pytest

from mailutil import sanitize

OWN = "city.example.lg.jp"
CFG = f"own_domains = {OWN}, town.example.lg.jp\nauthserv_id = mx.{OWN}\n"
RULE = "━" * 40
HEAD = "【無害化済み】このメールは無害化装置 (mugai) がテキスト形式に変換しました。"
LOOKALIKE = ("注意: 差出人のドメインは当組織のドメインに似ていますが、別のドメインです。"
             "なりすましに注意してください。")
NAME_OWN = ("注意: 外部からのメールですが、差出人の表示名に当組織のドメインが含まれています。"
            "なりすましに注意してください。")


def msg(frm, *headers, body="本文です。\r\n"):
    lines = [f"From: {frm}", f"To: soumu@{OWN}", "Subject: test", *headers,
             "Content-Type: text/plain; charset=utf-8", "MIME-Version: 1.0", "", body]
    return "\r\n".join(lines).encode()


def notice(r, *warnings):
    qid = r.report["id"]
    return "\r\n".join([RULE, HEAD, *warnings, "削除した項目はありません。",
                        f"原本が必要な場合は、次の ID を添えて管理者にお問い合わせください: {qid}",
                        RULE])


def check(r, codes, lines, tokens="WARN"):
    assert r.notice == notice(r, *lines)
    assert r.report["sender_warnings"] == codes
    qid = r.report["id"]
    if tokens:
        assert r.msg["X-Mugai-Sanitized"] == f"verdict={r.verdict}; actions={tokens}; id={qid}"
    else:
        assert r.msg["X-Mugai-Sanitized"] == f"verdict={r.verdict}; id={qid}"
    if codes:
        assert r.msg["X-Mugai-Warning"] == " ".join(codes)
    else:
        assert r.msg["X-Mugai-Warning"] is None
    assert "本文です。" in r.body      # the legitimate text survives


@pytest.mark.parametrize("domain", [
    "clty.example.lg.jp",              # i → l
    "c1ty.example.lg.jp",              # 1 → l
    "city.exarnple.lg.jp",             # rn → m
    "ctiy.example.lg.jp",              # neighbours swapped
    "city-example.lg.jp",              # one edit
    "city.example.lg.jp.evil.example",  # ours as a prefix
    "xn--cty-9na.example.lg.jp",       # a punycode label in place of ours
    "towm.example.lg.jp",              # the second own domain
])
def test_lookalike_domain(domain):
    r = sanitize(msg(f"総務課 <soumu@{domain}>"), config=CFG)
    assert r.verdict == "clean"
    check(r, ["lookalike-domain"], [LOOKALIKE])


@pytest.mark.parametrize("domain", ["c\u0456ty.example.lg.jp",    # Cyrillic і
                                    "c\u00edty.example.lg.jp"])   # í
def test_homoglyph_domain_in_utf8_address(domain):
    """In an SMTPUTF8 address. (A fullwidth ｃ is not among them: IDNA maps
    it to c, so that address IS our domain, rebuilt as such; whether our
    domain may send from outside is DMARC's question.)"""
    r = sanitize(msg(f"総務課 <soumu@{domain}>"), config=CFG)
    check(r, ["lookalike-domain"], [LOOKALIKE])


def test_own_domain_in_display_name_of_outside_mail():
    r = sanitize(msg("city.example.lg.jp 総務課 <soumu.city@gmail.com>"), config=CFG)
    check(r, ["own-domain-in-name"], [NAME_OWN])


def test_own_domain_in_fullwidth_display_name():
    r = sanitize(msg("=?UTF-8?B?" + __import__("base64").b64encode(
        "ｃｉｔｙ．ｅｘａｍｐｌｅ．ｌｇ．ｊｐ 総務課".encode()).decode() + "?= <x@gmail.com>"),
        config=CFG)
    check(r, ["own-domain-in-name"], [NAME_OWN])


def test_own_sender_from_inside_gets_no_warning():
    """The exact own domain (and a subdomain): no look-alike, and its own
    name in the display name is no impersonation."""
    for frm in (f"city.example.lg.jp 総務課 <soumu@{OWN}>", f"総務課 <soumu@mail.{OWN}>",
                "総務課 <SOUMU@CITY.EXAMPLE.LG.JP>"):
        r = sanitize(msg(frm), config=CFG)
        assert r.verdict == "clean"
        check(r, [], [], tokens=None)


def test_no_own_domains_no_lookalike_check():
    r = sanitize(msg("総務課 <soumu@clty.example.lg.jp>"), config=f"authserv_id = mx.{OWN}\n")
    check(r, [], [], tokens=None)


def test_trusted_dmarc_fail():
    r = sanitize(msg("取引先 <a@example.jp>",
                     f"Authentication-Results: mx.{OWN}; spf=pass smtp.mailfrom=example.jp;"
                     " dkim=none; dmarc=fail (p=none dis=none) header.from=example.jp"),
                 config=CFG)
    check(r, ["dmarc-fail"], ["注意: 送信元の認証に失敗しました（DMARC fail）"])


def test_trusted_dkim_and_spf_fail_one_line():
    r = sanitize(msg("取引先 <a@example.jp>",
                     f"Authentication-Results: mx.{OWN};\r\n\tdkim=fail header.d=example.jp;"
                     "\r\n\tspf=fail smtp.mailfrom=example.jp"),
                 config=CFG)
    check(r, ["dkim-fail", "spf-fail"], ["注意: 送信元の認証に失敗しました（DKIM fail、SPF fail）"])


def test_untrusted_authserv_id_is_ignored():
    r = sanitize(msg("取引先 <a@example.jp>",
                     "Authentication-Results: mx.evil.example; dmarc=fail; dkim=fail; spf=fail",
                     f"Authentication-Results: mx.{OWN}.evil.example; dmarc=fail"),
                 config=CFG)
    check(r, [], [], tokens=None)


def test_no_authserv_id_ignores_every_authentication_results():
    r = sanitize(msg("取引先 <a@example.jp>", f"Authentication-Results: mx.{OWN}; dmarc=fail"),
                 config=f"own_domains = {OWN}\n")
    check(r, [], [], tokens=None)


def test_forged_pass_cannot_hide_a_trusted_fail():
    """The sender adds its own Authentication-Results with our authserv-id
    saying pass (and a comment faking one): the trusted fail still counts."""
    r = sanitize(msg("取引先 <a@example.jp>",
                     f"Authentication-Results: mx.{OWN}; dmarc=pass (dmarc=fail) header.from=x",
                     f"Authentication-Results: mx.{OWN}; dmarc=fail header.from=example.jp"),
                 config=CFG)
    check(r, ["dmarc-fail"], ["注意: 送信元の認証に失敗しました（DMARC fail）"])


def test_comment_or_quoted_fail_is_not_a_result():
    r = sanitize(msg("取引先 <a@example.jp>",
                     f"Authentication-Results: mx.{OWN}; dkim=pass (dmarc=fail; spf=fail)"
                     ' header.b="x; dmarc=fail"'),
                 config=CFG)
    check(r, [], [], tokens=None)


def test_every_warning_together_in_order():
    r = sanitize(msg("city.example.lg.jp 総務課 <soumu@clty.example.lg.jp>",
                     f"Authentication-Results: mx.{OWN}; dmarc=fail"), config=CFG)
    check(r, ["lookalike-domain", "own-domain-in-name", "dmarc-fail"],
          [LOOKALIKE, NAME_OWN, "注意: 送信元の認証に失敗しました（DMARC fail）"])


def test_english_notice():
    r = sanitize(msg("総務課 <soumu@clty.example.lg.jp>",
                     f"Authentication-Results: mx.{OWN}; dmarc=fail"),
                 config=CFG + "notice_lang = en\n")
    lines = r.notice.split("\r\n")
    assert lines[2:4] == [
        "Caution: the sender's domain looks like one of ours but is a different domain; "
        "beware of impersonation.",
        "Caution: the sender's authentication failed (DMARC fail)"]


def test_template_without_placeholder_still_shows_the_warnings(tmp_path):
    tpl = tmp_path / "notice.txt"
    tpl.write_text("無害化しました（{id}）\n")
    r = sanitize(msg("総務課 <soumu@clty.example.lg.jp>"),
                 config=CFG + f"notice_template = {tpl}\n")
    assert r.notice == f"無害化しました（{r.report['id']}）\r\n{LOOKALIKE}"


def test_forged_mugai_headers_are_not_kept():
    data = msg("取引先 <a@example.jp>", "X-Mugai-Warning: none",
               "X-Mugai-Sanitized: verdict=clean; id=20260101-000000-00000000")
    r = sanitize(data, config=CFG + "header_keep = From, To, Cc, Subject, Date, X-Mugai-Warning, "
                 "X-Mugai-Sanitized\n")
    assert r.msg.get_all("X-Mugai-Warning") is None
    assert r.msg.get_all("X-Mugai-Sanitized") == [f"verdict=clean; id={r.report['id']}"]


def test_action_tokens_for_html_attachment_and_link():
    body = ("--B\r\nContent-Type: text/html; charset=utf-8\r\n\r\n"
            "<p>見てください <a href='https://evil.example/x'>ここ</a></p>\r\n"
            "--B\r\nContent-Type: application/octet-stream; name=a.exe\r\n"
            "Content-Disposition: attachment; filename=a.exe\r\n"
            "Content-Transfer-Encoding: base64\r\n\r\nTVqQAA==\r\n--B--\r\n")
    data = ("From: a <a@example.jp>\r\nTo: b@example.jp\r\nSubject: t\r\nMIME-Version: 1.0\r\n"
            "Content-Type: multipart/mixed; boundary=B\r\n\r\n" + body).encode()
    r = sanitize(data)
    assert r.report["actions"] == ["DEL_ATTACH", "CHG_TEXT", "REP_LINK"]
    assert r.msg["X-Mugai-Sanitized"] == \
        f"verdict=sanitized; actions=DEL_ATTACH CHG_TEXT REP_LINK; id={r.report['id']}"
    assert "見てください" in r.body


def test_action_tokens_cdr_attachment():
    data = ("From: a <a@example.jp>\r\nTo: b@example.jp\r\nSubject: t\r\nMIME-Version: 1.0\r\n"
            "Content-Type: multipart/mixed; boundary=B\r\n\r\n"
            "--B\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n本文\r\n"
            "--B\r\nContent-Type: text/csv; name=a.csv\r\n"
            "Content-Disposition: attachment; filename=a.csv\r\n\r\nx,y\r\n1,2\r\n--B--\r\n").encode()
    r = sanitize(data, config="attachments = sanitize\n")
    assert r.report["actions"] == ["CDR"]
    assert r.msg["X-Mugai-Sanitized"] == f"verdict=sanitized; actions=CDR; id={r.report['id']}"


def test_action_tokens_quarantined():
    data = b"From: a <a@example.jp>\r\nTo: b@example.jp\r\nSubject: t\r\nMIME-Version: 1.0\r\n" \
           b"Content-Type: multipart/mixed\r\n\r\nno boundary\r\n"
    r = sanitize(data)
    assert r.verdict == "quarantined"
    assert r.report["actions"] == ["HOLD"]
    assert r.msg["X-Mugai-Sanitized"] == f"verdict=quarantined; actions=HOLD; id={r.report['id']}"


def test_clean_mail_has_no_actions():
    r = sanitize(msg("取引先 <a@example.jp>"))
    assert r.report["actions"] == [] and r.report["sender_warnings"] == []
    assert r.report["antivirus"] is None and r.report["virus"] is None
    assert r.msg["X-Mugai-Sanitized"] == f"verdict=clean; id={r.report['id']}"
