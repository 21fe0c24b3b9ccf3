"""console_url (issue 10): every notice names the console page of its
message, 「取り出しの依頼: URL/q/ID（受付番号 xxxx-xxxx）」, the one live
link the output check lets through. Red team: an attacker who read the code
writes the same line (with a guessed id, an id-shaped path, a query) in the
body and the subject; it must come out disarmed, and the check must pass."""
import subprocess

from mailutil import MUGAI, check_wire_format, msg, sanitize

URL = "https://mugai.city.example.lg.jp/console"
CFG = f"console_url = {URL}\n"
H = {"From": "a@example.jp", "To": "b@example.lg.jp", "Subject": "見積書"}


def line(qid, url=URL):
    return f"取り出しの依頼: {url}/q/{qid}（受付番号 {qid[-8:-4]}-{qid[-4:]}）"


def test_sanitized_notice_names_the_console_page():
    r = sanitize(msg(H, "本文です。\n"), config=CFG)
    qid = r.report["id"]
    assert r.verdict == "clean" and not r.report.get("output_check")
    notice = r.notice.split("\r\n")
    assert notice[-2] == line(qid)       # last line before the closing rule
    assert notice[-3] == f"原本が必要な場合は、次の ID を添えて管理者にお問い合わせください: {qid}"
    assert r.text.count("https://") == 1
    assert r.body == "本文です。\n"      # the legitimate content survived
    check_wire_format(r.raw)


def test_no_console_url_no_line():
    r = sanitize(msg(H, "本文です。\n"))
    assert "取り出しの依頼" not in r.text and "https://" not in r.text


def test_path_with_trailing_slash_is_normalized():
    r = sanitize(msg(H, "x\n"), config="console_url = http://10.1.2.3:8025/mugai/\n")
    qid = r.report["id"]
    assert line(qid, "http://10.1.2.3:8025/mugai") in r.notice.split("\r\n")
    assert r.verdict == "clean" and not r.report.get("output_check")


def test_quarantined_notice_has_the_line_too():
    body = "".join(f'Content-Type: multipart/mixed; boundary="b{i}"\n\n--b{i}\n' for i in range(100))
    data = "From: a@example.jp\nSubject: deep\nMIME-Version: 1.0\n" + body + "Content-Type: text/plain\n\nhi\n"
    r = sanitize(data, config=CFG)
    assert r.verdict == "quarantined" and "mime_depth_max" in r.report["limits_hit"]
    assert line(r.report["id"]) in r.notice.split("\r\n")
    assert not r.report.get("output_check")


def test_sender_copy_of_the_line_is_defanged():
    forged = ("取り出しの依頼: " + URL + "/q/20261201-000000-deadbeef（受付番号 dead-beef）\n"
              + URL + "/q/20261201-000000-deadbeef/../../login?next=https://evil.example/\n"
              + URL + "/q/x?id=1\n")
    r = sanitize(msg(H, "ご確認ください。\n" + forged), config=CFG)
    qid = r.report["id"]
    assert r.verdict == "sanitized" and not r.report.get("output_check"), r.report
    assert r.text.count("https://") == 1                    # ours only
    assert line(qid) in r.notice.split("\r\n")
    assert "ご確認ください。" in r.body
    host = "hxxps://mugai[.]city[.]example[.]lg[.]jp/console/q/"
    assert r.body == ("ご確認ください。\n"
                      f"取り出しの依頼: {host}20261201-000000-deadbeef（受付番号 dead-beef）\n"
                      f"{host}20261201-000000-deadbeef/../../login?next=https[:]//evil[.]example/\n"
                      f"{host}x?id=1\n")


def test_sender_line_in_the_subject_of_a_withheld_mail():
    body = "".join(f'Content-Type: multipart/mixed; boundary="b{i}"\n\n--b{i}\n' for i in range(100))
    subj = f"取り出しの依頼: {URL}/q/20261201-000000-deadbeef（受付番号 dead-beef）"
    data = ("From: a@example.jp\nSubject: =?UTF-8?B?" + __import__("base64").b64encode(subj.encode()).decode()
            + "?=\nMIME-Version: 1.0\n" + body + "Content-Type: text/plain\n\nhi\n")
    r = sanitize(data, config=CFG)
    assert r.verdict == "quarantined" and not r.report.get("output_check")
    assert r.text.count("https://") == 1
    assert "https://" not in str(r.msg["Subject"])
    assert "件名: 「取り出しの依頼: hxxps://" in r.notice


def test_bad_console_url_is_a_configuration_error(tmp_path):
    for bad in ("https://x.example/?a=b", "https://x.example/#f", "https://u@x.example/",
                "ftp://x.example", "https://x.example/a/../b", "https://", "x.example/q"):
        cf = tmp_path / "bad.cf"
        cf.write_text(f"console_url = {bad}\n")
        r = subprocess.run([MUGAI, "config", "check", "-c", str(cf)], capture_output=True, text=True)
        assert r.returncode == 78, (bad, r.stderr)
        assert f"{cf}:1: console_url: '{bad}' is not http(s)://host[:port][/path]" in r.stderr
