"""The independent output check (issue #8) seen from outside: a live link
that the text writer misses gives exactly verdict `quarantined`, reason
`output-check:<rule>` in the report and the audit record, and a message
that holds only the notice. Over ../shared/corpus/mail (skipped when
absent): zero output-check hits, and every output re-checked in Python by a
small re-implementation of rules 1, 2 and 4 of the writer/check contract
(independent of both the writer and mail/outcheck.c)."""
import base64
import email
import email.policy
import glob
import json
import os
import re
import subprocess
import tempfile

import pytest

from mailutil import CORPUS, MUGAI, msg, sanitize

FILES = sorted(glob.glob(os.path.join(CORPUS, "mail", "*", "*.eml")))
H = {"From": "山田 <taro@example.jp>", "To": "b@example.lg.jp", "Subject": "会議"}
REASON_JA = "出力検査で安全でない内容が見つかったため"

# ---- Python re-implementation of contract rules 1, 2 and 4 ----

_FORBIDDEN = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u00ad\u061c\u200b\u200e\u200f\u2028-\u202e"
    "\u2060-\u2064\u2066-\u2069\ufeff\ufff9-\ufffb\U000e0000-\U000e007f]")
_RUN = "A-Za-z0-9+.-"
_SCHEME = re.compile(rf"(?<![{_RUN}])([A-Za-z][{_RUN}]+):(?=\S)")
_WWW = re.compile(rf"(?<![{_RUN}])www\.", re.I)
_INERT = {"hxxp", "hxxps", "fxp"}


def live_121(text, plain=False):
    """The first live rule-1/2/4 finding in `text` (CRLF allowed), or None."""
    t = text.replace("\r\n", "\n")
    m = _FORBIDDEN.search(t)
    if m:
        return "control", m.start()
    for m in _SCHEME.finditer(t):
        name = m.group(1).lower()
        if name in _INERT and t.startswith("//", m.end()):
            continue
        if plain and name in {"http", "https", "mailto"}:
            continue
        return "scheme", m.start()
    m = _WWW.search(t)
    if m:
        return "www", m.start()
    return None


def texts(raw):
    """Decoded texts the contract examines: body of the text part, Subject,
    display names of the address headers, attachment filenames."""
    m = email.message_from_bytes(raw, policy=email.policy.default)
    first = next(m.iter_parts()) if m.is_multipart() else m
    out = [("body", (first.get_payload(decode=True) or b"").decode("utf-8", "replace"))]
    out.append(("Subject", str(m.get("Subject", ""))))
    for h in ("From", "To", "Cc", "Reply-To"):
        if m.get(h) is not None:
            for a in m[h].addresses:
                out.append((h, a.display_name or ""))
    if m.is_multipart():
        for p in list(m.iter_parts())[1:]:
            out.append(("filename", p.get_filename() or ""))
    return out


def check_121(raw, plain=False):
    for where, t in texts(raw):
        if where == "body" and raw.count(b"\r") != raw.count(b"\r\n"):
            return "control", where
        hit = live_121(t, plain)
        if hit:
            return hit[0], where, t[max(0, hit[1] - 20):hit[1] + 40]
    return None


def test_python_rules_agree_on_known_shapes():
    assert live_121("https://evil.example/") == ("scheme", 0)
    assert live_121("ms-msdt[:]/id hxxps://a[.]jp tel[:]1 Re: x 12:30 C:\\x") is None
    assert live_121("see WWW.x.jp")[0] == "www"
    assert live_121("a\u202eb")[0] == "control"
    assert live_121("https://good.example/", plain=True) is None


# ---- a live link the current writer misses ----

def body_of(r):
    return r.text.replace("\r\n", "\n")


def b64msg(text):
    return msg(H, base64.b64encode(text.encode()).decode() + "\n", cte="base64")


# The writer of issue #8 disarms every shape of the contract this suite
# knows (the last one it missed, a host with an IDN label after "//", is
# below). The gate's rebuilds are driven here by the test hook
# MUGAI_TEST_OUTCHECK=N: the first N checks of a message report a live UNC
# form, as a writer miss would (it can only make the gate withhold).
LIVE = "see //例え.jp/x\n"
MISS1 = {"MUGAI_TEST_OUTCHECK": "1"}
MISS2 = {"MUGAI_TEST_OUTCHECK": "2"}


def test_idn_host_after_slashes_is_written_inert():
    r = sanitize(b64msg(LIVE + "本文 http://日本.jp/a\n"))
    assert r.verdict == "sanitized"
    assert r.report["output_check"] is None
    assert r.report["links_defanged"] == 2
    assert body_of(r).endswith("see //例え[.]jp/x\n本文 hxxp://日本[.]jp/a\n")
    assert check_121(r.raw) is None


def test_live_link_gives_notice_only_quarantine():
    r = sanitize(b64msg(LIVE), env=MISS1)
    assert r.verdict == "quarantined"
    assert r.report["output_check"] == "output-check:unc"
    rid = r.report["id"]
    rule_line = "━" * 40
    assert body_of(r).startswith(
        f"{rule_line}\n"
        "【隔離】このメールは安全に変換できない内容を含むため、本文を配信せず隔離しました。\n")
    assert f"  - {REASON_JA}\n" in body_of(r)
    assert body_of(r).endswith(
        f"原本が必要な場合は、次の ID を添えて管理者にお問い合わせください: {rid}\n"
        f"{rule_line}\n\n")
    assert str(r.msg["Subject"]) == "[無害化:隔離] 会議"
    assert r.msg["From"].addresses[0].addr_spec == "taro@example.jp"
    assert "例え" not in body_of(r)
    assert check_121(r.raw) is None


def test_live_subject_gives_the_fixed_notice():
    h = dict(H, Subject="=?utf-8?b?" + base64.b64encode("//例え.jp/x".encode()).decode() + "?=")
    r = sanitize(msg(h, "本文\n"), env=MISS2)
    assert r.verdict == "quarantined"
    assert r.report["output_check"] == "output-check:unc"
    rule_line = "━" * 40
    assert body_of(r) == (
        f"{rule_line}\n"
        "【隔離】このメールは安全に変換できない内容を含むため、本文を配信せず隔離しました。\n"
        "原本が必要な場合は、管理者にお問い合わせください。\n"
        f"{rule_line}\n")
    assert str(r.msg["Subject"]) == "配信を保留したメール"
    assert r.msg["From"] is None and r.msg["To"] is None
    assert "例え" not in r.raw.decode()


def test_live_link_in_english_notice():
    r = sanitize(b64msg(LIVE), config="notice_lang = en\n", env=MISS1)
    assert r.report["output_check"] == "output-check:unc"
    assert "  - the final check found unsafe content in the converted message\n" in body_of(r)
    assert "例え" not in body_of(r)


def test_sanitized_text_attachments_pass_the_check():
    body = ("--B\nContent-Type: text/plain; charset=utf-8\n\nhello\n"
            "--B\nContent-Type: text/csv; name=a.csv\nContent-Disposition: attachment; filename=a.csv\n\n"
            "a,b\n1,2\n--B--\n")
    r = sanitize(msg(H, body, ctype="multipart/mixed; boundary=B"), config="attachments = sanitize\n")
    assert r.verdict == "sanitized"
    assert r.report["output_check"] is None
    assert [x["out_filename"] for x in r.report["sanitized"]] == ["a.csv"]


def test_clean_mail_has_no_output_check():
    r = sanitize(msg(H, "会議は3時からです。\n"))
    assert r.verdict == "clean"
    assert r.report["output_check"] is None


def test_output_check_reaches_the_audit_record(tmp_path):
    cf = tmp_path / "mugai.cf"
    cf.write_text(f"state_dir = {tmp_path / 'state'}\n")
    r = sanitize(b64msg(LIVE), config=cf.read_text(),
                 extra=("--quarantine", "--sender", "taro@example.jp", "--rcpt", "b@example.lg.jp"),
                 env=MISS1)
    qid = r.report["id"]
    export = subprocess.run([MUGAI, "audit", "-c", str(cf), "export", "--format", "jsonl"],
                            capture_output=True, timeout=60)
    assert export.returncode == 0, export.stderr
    recs = [json.loads(x) for x in export.stdout.splitlines()]
    verdict = [x for x in recs if x["action"] == "mail.verdict" and x["object"] == qid]
    assert len(verdict) == 1
    details = json.loads(verdict[0]["details"])
    assert details["verdict"] == "quarantined"
    assert details["output_check"] == "output-check:unc"


# ---- the corpus ----

def run_corpus():
    results = []
    with tempfile.TemporaryDirectory() as d:
        out, rep = os.path.join(d, "o.eml"), os.path.join(d, "r.json")
        for path in FILES:
            r = subprocess.run([MUGAI, "mail", "sanitize", "-r", rep, path, out],
                               capture_output=True, timeout=60)
            assert r.returncode == 0, (path, r.stderr)
            results.append((path, json.load(open(rep)), open(out, "rb").read()))
    return results


_CORPUS = None


def corpus():
    global _CORPUS
    if _CORPUS is None:
        _CORPUS = run_corpus()
    return _CORPUS


@pytest.mark.skipif(not FILES, reason="../shared/corpus absent")
def test_corpus_outputs_pass_the_python_rules():
    """Every output (delivered or notice) passes rules 1, 2, 4 as re-implemented
    here: the gate never lets through what this independent reading sees."""
    bad = [(p, check_121(raw)) for p, _, raw in corpus() if check_121(raw)]
    assert bad == []


@pytest.mark.skipif(not FILES, reason="../shared/corpus absent")
def test_corpus_has_no_output_check_hits():
    hits = {}
    quarantined = []
    for path, rep, _ in corpus():
        if rep["output_check"]:
            hits.setdefault(rep["output_check"], []).append(os.path.basename(path))
        if rep["verdict"] == "quarantined":
            quarantined.append((os.path.basename(path), rep["output_check"] or
                                ",".join(rep["limits_hit"] + rep["warnings"][:1])))
    print("corpus quarantines:", *quarantined, sep="\n  ")
    assert {k: len(v) for k, v in hits.items()} == {}


def test_latin1_display_name_and_attachment_name_are_not_quarantined():
    """GMime writes a value that fits Latin-1 as iso-8859-1 (encoded-word or
    RFC 2231); the check reads it instead of calling it a format hit (a
    European sender must not be withheld)."""
    from email.message import EmailMessage
    from mailutil import sanitize
    m = EmailMessage()
    m["From"] = "Frédéric Müller <f@example.fr>"
    m["To"] = "soumu@city.example.lg.jp"
    m["Subject"] = "Frösche"
    m.set_content("Bonjour, voici mon CV.")
    m.add_attachment(b"a,b\n1,2\n", maintype="text", subtype="csv", filename="Résumé.csv")
    r = sanitize(bytes(m), config="attachments = sanitize\n")
    assert r.report["output_check"] is None
    assert r.verdict == "sanitized"
    assert r.msg["From"] == "Frédéric Müller <f@example.fr>"
    assert [p.get_filename() for p in r.msg.iter_attachments()] == ["Résumé.csv"]
    assert "Bonjour, voici mon CV." in r.body
