"""The mail engine's side of PPAP (`mugai mail sanitize`): an encrypted zip
(7z AES, zip -P ZipCrypto) is listed and named in the waiting line of the
notice, exactly; not with ppap_window = 0 or attachments = remove; a custom
template keeps the line; a zip bomb stays a limit even when encrypted."""
import shutil
import subprocess

import pytest

from mailutil import sanitize
from ppaputil import PASSWORD, WAITING, make_zip, zip_mail

pytestmark = pytest.mark.skipif(not shutil.which("7z") or not shutil.which("zip"),
                                reason="needs 7z (p7zip-full) and zip: scripts/deps.sh")

SANITIZE = "attachments = sanitize\n"


@pytest.mark.parametrize("kind,cp932", [("aes", False), ("zipcrypto", True)])
def test_waiting_line_and_report(tmp_path, kind, cp932):
    r = sanitize(zip_mail(make_zip(tmp_path, kind, PASSWORD, cp932)), config=SANITIZE)
    lines = r.notice.split("\r\n")
    assert lines[2] == WAITING
    assert "  1. 「見積書.zip」 (" in r.notice
    assert "バイト) — 無害化できないファイル: 「パスワード付きのため無害化できません」" in r.notice
    assert "見積書をお送りします。" in r.body
    assert r.report["ppap_waiting"] == 1
    assert r.report["ppap_opened"] == 0 and r.report["ppap_of"] is None
    assert r.verdict == "sanitized"
    assert r.report["actions"] == ["DEL_ATTACH", "PPAP"]
    assert PASSWORD not in r.raw.decode("utf-8", "replace")


def test_window_off_and_attachments_removed(tmp_path):
    raw = zip_mail(make_zip(tmp_path, "aes", PASSWORD))
    r = sanitize(raw, config=SANITIZE + "ppap_window = 0\n")
    assert "パスワードのメールを待っています" not in r.notice
    assert "「パスワード付きのため無害化できません」" in r.notice
    assert r.report["ppap_waiting"] == 0
    r = sanitize(raw)                       # attachments = remove (default): never opened
    assert "パスワードのメールを待っています" not in r.notice
    assert r.report["ppap_waiting"] == 0


def test_window_length_and_english(tmp_path):
    raw = zip_mail(make_zip(tmp_path, "aes", PASSWORD))
    r = sanitize(raw, config=SANITIZE + "ppap_window = 120\n")
    assert "パスワード付きZIP（「見積書.zip」）: パスワードのメールを待っています（最長 120 分）" in r.notice
    r = sanitize(raw, config=SANITIZE + "notice_lang = en\n")
    assert ("Password-protected zip (「見積書.zip」): waiting for the password mail "
            "(up to 60 minutes)") in r.notice


def test_template_without_placeholder_keeps_the_line(tmp_path):
    tpl = tmp_path / "notice.txt"
    tpl.write_text("無害化 {verdict} / ID {id}\n")
    r = sanitize(zip_mail(make_zip(tmp_path, "zipcrypto", PASSWORD)),
                 config=SANITIZE + f"notice_template = {tpl}\n")
    assert r.notice == f"無害化 sanitized / ID {r.report['id']}\r\n{WAITING}"


def test_encrypted_bomb_is_a_limit_not_a_wait(tmp_path):
    """Declared sizes are checked before any password: 20 MB of zeros in an
    encrypted zip is zip_ratio_max, not a zip waiting for its password."""
    work = tmp_path / "bomb"
    work.mkdir()
    (work / "zeros.txt").write_bytes(b"\0" * (20 << 20))
    subprocess.run(["7z", "a", "-tzip", f"-p{PASSWORD}", "-mem=AES256", "b.zip", "zeros.txt"],
                   cwd=work, check=True, capture_output=True)
    r = sanitize(zip_mail((work / "b.zip").read_bytes()), config=SANITIZE)
    assert "パスワードのメールを待っています" not in r.notice
    assert r.report["ppap_waiting"] == 0
    assert r.report["removed"][0]["detail"] == \
        "大きさや数が上限を超えたため無害化できません（「entry 20971520:24640」）"
