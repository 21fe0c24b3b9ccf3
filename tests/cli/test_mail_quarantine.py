"""`mugai mail sanitize --quarantine`: the original and its report go into
the store under the id the notice quotes; the verdict is in the audit trail."""
import json
import subprocess

from mailutil import MUGAI, msg, sanitize


def run(*args):
    return subprocess.run([MUGAI, *args], capture_output=True, timeout=60)


def test_quarantine_keeps_original_under_the_notice_id(tmp_path):
    cf = tmp_path / "mugai.cf"
    cf.write_text(f"state_dir = {tmp_path / 'state'}\n")
    original = msg({"From": "=?UTF-8?B?5bGx55Sw?= <taro@example.jp>", "To": "b@example.lg.jp",
                    "Subject": "=?UTF-8?B?6KaL56mN5pu4?="},
                   "--B\nContent-Type: text/plain\n\nsee pdf\n--B\nContent-Type: application/pdf\n"
                   "Content-Disposition: attachment; filename=q.pdf\n\n%PDF-1.4\n--B--\n",
                   ctype='multipart/mixed; boundary="B"')
    r = sanitize(original, config=cf.read_text(),
                 extra=("--quarantine", "--sender", "taro@example.jp", "--rcpt", "b@example.lg.jp"))
    qid = r.report["id"]
    assert qid in r.notice
    show = run("quarantine", "-c", str(cf), "show", qid, "--json")
    assert show.returncode == 0, show.stderr
    row = json.loads(show.stdout)
    assert row["verdict"] == "sanitized"
    assert row["subject"] == "見積書" and row["from"] == "山田 <taro@example.jp>"
    assert row["env_from"] == "taro@example.jp" and row["status"] == "held"
    out = tmp_path / "orig.eml"
    assert run("quarantine", "-c", str(cf), "get", qid, "-o", str(out)).returncode == 0
    assert out.read_bytes() == original
    assert run("audit", "-c", str(cf), "verify").returncode == 0
    export = run("audit", "-c", str(cf), "export", "--format", "jsonl")
    actions = [(json.loads(l)["action"], json.loads(l)["object"]) for l in export.stdout.splitlines()]
    assert ("quarantine.put", qid) in actions and ("mail.verdict", qid) in actions


def test_store_failure_is_an_io_error_not_a_pass(tmp_path):
    blocker = tmp_path / "state"
    blocker.write_text("a file where the state directory should be")
    src = tmp_path / "in.eml"
    src.write_bytes(msg({"From": "a@example.jp", "Subject": "s"}, "x\n"))
    out = tmp_path / "out.eml"
    cf = tmp_path / "mugai.cf"
    cf.write_text(f"state_dir = {blocker}\n")
    r = run("mail", "sanitize", "-c", str(cf), "--quarantine", str(src), str(out))
    assert r.returncode == 74
    assert b"quarantine store" in r.stderr
    assert not out.exists()
