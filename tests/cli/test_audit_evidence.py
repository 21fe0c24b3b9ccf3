"""Audit evidence (issue 14 item 4): config.load with the config digest at start
and on every SIGHUP, each mail.verdict carries that digest; each store has an
identity that witness lines carry, and `audit verify --witness` ignores lines of
other stores; a deferred message is stored once; the CSV export has a BOM and
JST times beside UTC."""
import email
import email.policy
import json
import os
import re
import signal
import smtplib
import subprocess
import time

from daemonutil import MUGAI, Daemon, Sink
from storeutil import Store

MAIL = (b"From: a@example.jp\r\nTo: b@example.lg.jp\r\nSubject: evidence\r\n\r\n"
        b"hello\r\n")


def audit(cf):
    r = subprocess.run([MUGAI, "audit", "-c", cf, "export", "--format", "jsonl"],
                       capture_output=True, timeout=30)
    assert r.returncode == 0, r.stderr
    return [json.loads(l) for l in r.stdout.decode().splitlines()]


def send(d, data=MAIL, ident=None):
    with smtplib.SMTP("127.0.0.1", d.port, timeout=60) as s:
        s.ehlo("t")
        if ident:
            assert s.docmd("XFORWARD", f"IDENT={ident}")[0] == 250
        return s.sendmail("a@example.jp", ["b@example.lg.jp"], data)


def wait_log(d, text, n=1, seconds=15):
    end = time.monotonic() + seconds
    while d.logtext().count(text) < n and time.monotonic() < end:
        time.sleep(0.1)
    return d.logtext().count(text)


def test_config_load_at_start_and_sighup_and_digest_in_verdicts(tmp_path):
    d = Daemon(tmp_path).start()
    try:
        send(d)
        d.write_config(link_style="plain")
        d.proc.send_signal(signal.SIGHUP)
        assert wait_log(d, "SIGHUP: config") == 1
        time.sleep(0.5)
        send(d)
    finally:
        assert d.stop() == 0
    recs = audit(d.cf)
    loads = [r for r in recs if r["action"] == "config.load" and r["actor"] == "mugaid"]
    assert len(loads) == 2
    first, second = (json.loads(r["details"]) for r in loads)
    assert re.fullmatch(r"[0-9a-f]{64}", first["digest"])
    assert first["digest"] != second["digest"]
    assert first["path"] == d.cf
    assert "link_style = defang\n" in first["config"]
    assert "link_style = plain\n" in second["config"]
    verdicts = [json.loads(r["details"]) for r in recs if r["action"] == "mail.verdict"]
    assert [v["config_digest"] for v in verdicts] == [first["digest"], second["digest"]]
    # the digest is what the log line at start says
    assert f"config digest {first['digest'][:16]}" in d.logtext()


def test_witness_of_two_stores_in_one_file(tmp_path):
    witness = str(tmp_path / "witness.log")
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    a = Store(tmp_path / "a", audit_witness_file=witness, audit_witness_every="1")
    b = Store(tmp_path / "b", audit_witness_file=witness, audit_witness_every="1")
    for i in range(3):
        a.put(b"a%d" % i)
        b.put(b"b%d" % i)
    ids = {s: s.sql("SELECT value FROM meta WHERE key='store_id'")[0][0] for s in (a, b)}
    assert ids[a] != ids[b] and all(re.fullmatch(r"[0-9a-f]{32}", v) for v in ids.values())
    lines = open(witness).read().splitlines()
    assert {re.search(r" store=([0-9a-f]{32}) ", l).group(1) for l in lines} == set(ids.values())
    for s in (a, b):
        rc, out = s.verify("--witness", witness)
        assert rc == 0, out
        assert out.startswith("audit chain intact: ")
    # a rewritten chain of one store is still caught by its own lines
    a.sql("UPDATE audit SET details='{\"x\":1}' WHERE seq=2")
    assert a.verify("--witness", witness)[0] == 1


def test_deferred_then_delivered_leaves_one_entry(tmp_path):
    sink = Sink(mode="refuse-data")
    d = Daemon(tmp_path, next_hop=f"smtp:127.0.0.1:{sink.port}").start()
    try:
        for _ in range(2):
            try:
                send(d, ident="4B4F6A74339")
                assert False, "the next hop is down: 451 expected"
            except smtplib.SMTPDataError as e:
                assert e.smtp_code == 451
        r = subprocess.run([MUGAI, "quarantine", "-c", d.cf, "list", "--undelivered"],
                           capture_output=True, text=True, timeout=30)
        (line,) = r.stdout.splitlines()
        qid = line.split("\t")[0]
        assert line.split("\t")[2] == "held (undelivered)"
        sink.mode = "accept"
        assert send(d, ident="4B4F6A74339") == {}
        assert len(sink.messages) == 1
        assert f"id={qid}" in sink.messages[0][2].decode()
        # the earlier attempts' entry is this message's own: the sender is
        # still a first contact (SEEN asked again naming the reused id)
        delivered = email.message_from_bytes(sink.messages[0][2], policy=email.policy.default)
        assert "注意: 初めてのお相手からのメールです" in delivered.get_content()
        assert delivered["X-Mugai-Warning"] == "first-contact"
        r = subprocess.run([MUGAI, "quarantine", "-c", d.cf, "list", "--json"],
                           capture_output=True, text=True, timeout=30)
        items = [json.loads(l) for l in r.stdout.splitlines()]
        assert [(i["id"], i["delivery"]) for i in items] == [(qid, "done")]
        r = subprocess.run([MUGAI, "quarantine", "-c", d.cf, "list", "--undelivered"],
                           capture_output=True, text=True, timeout=30)
        assert r.stdout == ""
    finally:
        assert d.stop() == 0
        sink.close()
    recs = audit(d.cf)
    assert [r["action"] for r in recs if r["object"] == qid] == [
        "quarantine.put", "mail.verdict", "mail.deferred", "mail.verdict", "mail.deferred",
        "mail.verdict"]
    retry = [json.loads(r["details"]).get("retry") for r in recs if r["action"] == "mail.verdict"]
    assert retry == [None, True, True]


def test_undelivered_entry_is_listed_and_purged_as_such(tmp_path):
    sink = Sink(mode="refuse-data")
    d = Daemon(tmp_path, next_hop=f"smtp:127.0.0.1:{sink.port}", undelivered_days="5",
               retention_days="90").start()
    try:
        try:
            send(d, ident="AAA111")
        except smtplib.SMTPDataError as e:
            assert e.smtp_code == 451
    finally:
        assert d.stop() == 0
        sink.close()
    (tmp_path / "s").mkdir()
    s = Store(tmp_path / "s", state_dir=d.state, retention_days="90", undelivered_days="5")
    s.state = d.state
    (qid,) = [r[0] for r in s.sql("SELECT id FROM quarantine WHERE delivery='pending'")]
    s.sql("UPDATE quarantine SET received = received - ? WHERE id=?", 6 * 86400, qid)
    r = s.run("quarantine", "purge", "--older-than", "90", check=0)
    assert s.sql("SELECT status, delivery FROM quarantine") == [("expired", "pending")]
    expire = [json.loads(x["details"]) for x in audit(s.cf) if x["action"] == "quarantine.expire"]
    assert expire == [{"sha256": expire[0]["sha256"], "undelivered": True}]


def test_csv_export_has_bom_and_jst(tmp_path):
    s = Store(tmp_path)
    s.put(b"x")
    raw = s.run("audit", "export", "--format", "csv", check=0).stdout
    assert raw.startswith(b"\xef\xbb\xbfseq,time,time_jst,actor,")
    rows = raw.decode("utf-8-sig").split("\r\n")[1:-1]
    for row in rows:
        cells = row.split('","')
        utc, jst = cells[1], cells[2]
        m = re.fullmatch(r"(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)\.(\d{3})Z", utc)
        assert m
        t = time.mktime(time.strptime(utc[:19], "%Y-%m-%dT%H:%M:%S")) + 9 * 3600
        assert jst == time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(t)) + f".{m.group(7)} JST"
