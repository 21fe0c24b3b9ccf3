"""mugaid's milter front (milter_listen) spoken to from Python as an MTA
would (milterclient.py): the rebuilt message replaces the MTA's copy
through actions (every original header deleted, the rebuilt ones added,
the body replaced), the original is durable in the store before the
accept, the envelope and queue id come from the macros, our own failure
is 451, a crashed worker's notice replaces the original, and a hostile or
broken MTA side only closes the connection."""
import email
import email.policy
import json
import os
import signal
import socket
import struct
import subprocess
import threading
import time

import pytest

from daemonutil import MUGAI, Daemon, assert_sanitized, free_port
from milterclient import (ACTIONS_ALL, LEADSPC, MilterClient, MilterClosed, PROTO_ALL, apply,
                          packet, split_message)
from test_daemon import japanese_mail


@pytest.fixture
def mdaemon(tmp_path):
    made = []

    def make(env=None, **cfg):
        port = free_port()
        d = Daemon(tmp_path / f"m{len(made)}", env=env, milter_listen=f"127.0.0.1:{port}", **cfg)
        d.milter_port = port
        made.append(d)
        return d.start()
    yield make
    for d in made:
        d.stop()


def ppid(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return int(f.read().rsplit(")", 1)[1].split()[1])
    except (OSError, ValueError, IndexError):
        return 0


def procs(name):
    out = []
    for pid in os.listdir("/proc"):
        try:
            with open(f"/proc/{pid}/comm") as f:
                if f.read().strip() == name:
                    out.append(int(pid))
        except OSError:
            pass
    return out


def quarantine_list(d):
    r = subprocess.run([MUGAI, "quarantine", "-c", d.cf, "list", "--json"], capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    return [json.loads(x) for x in r.stdout.splitlines()]


def run(d, raw, sender=b"yamada@example.jp", rcpts=(b"b@lg.example.jp",), **kw):
    c = MilterClient(d.milter_port, **kw)
    try:
        assert c.connect() is None  # NR_CONN negotiated
        actions, final = c.message(sender, list(rcpts), raw)
        return c, actions, final
    finally:
        c.close()


def test_negotiation_asks_only_for_header_and_body_actions_and_the_no_reply_steps(mdaemon):
    d = mdaemon()
    c = MilterClient(d.milter_port)
    assert (c.version, c.actions) == (6, 0x01 | 0x02 | 0x10)
    assert c.proto == 0x2 | 0x80 | 0x100 | 0x200 | 0x1000 | 0x40000 | 0x80000 | 0x100000
    c.close()


def test_japanese_html_attachment_replaced_by_the_rebuilt_message(mdaemon):
    d = mdaemon()
    raw = japanese_mail()
    c, actions, final = run(d, raw)
    assert final == (b"a", b"")
    orig_headers, _ = split_message(raw)
    deletions = [a for a in actions if a[0] == b"m"]
    # every original header deleted, with an empty value, the last of a name first
    assert len(deletions) == len(orig_headers)
    assert all(x[1].endswith(b"\0\0") for x in deletions)
    kinds = [a[0] for a in actions]
    assert kinds == sorted(kinds, key=lambda k: b"mhb".index(k))  # delete, add, body
    out = apply(raw, actions)
    m = email.message_from_bytes(out, policy=email.policy.default)
    text = assert_sanitized(m)
    assert "本文です。①②③ 髙﨑" in text
    assert "alert" not in text and "evil.example.com" not in out.decode("utf-8", "replace")
    assert "請求書.exe" in text and "MZ" not in out.decode("utf-8", "replace").split("\r\n\r\n", 1)[1]
    assert m["Subject"] == "会議のお知らせ"
    assert "verdict=sanitized" in m["X-Mugai-Sanitized"]
    # the original, exactly as the MTA gave it, is in the store; queue id and
    # envelope from the macros
    [e] = quarantine_list(d)
    assert e["env_from"] == "yamada@example.jp" and e["rcpt"] == "b@lg.example.jp"
    assert d.quarantine_get(e["id"]) == raw
    log = d.logtext()
    assert f"id={e['id']} queue_id=4ABCDEF123 client=192.0.2.1 from=<yamada@example.jp> " \
           f"to=<b@lg.example.jp>" in log
    assert "status=sent (milter accept)" in log
    end = time.monotonic() + 5  # the master rewrites the metrics file every second
    while (d.metrics().get("mugaid_milter_connections_total"),
           d.metrics().get("mugaid_messages_delivered_total")) != (1, 1) and time.monotonic() < end:
        time.sleep(0.2)
    assert d.metrics()["mugaid_milter_connections_total"] == 1
    assert d.metrics()["mugaid_messages_delivered_total"] == 1


def test_without_leadspc_and_with_every_reply_the_same_message(mdaemon):
    """An MTA that offers no protocol flags (every step answered, the
    value's leading space stripped by the MTA): the same rebuilt message."""
    d = mdaemon()
    raw = japanese_mail(attach=False)
    c = MilterClient(d.milter_port, proto=0)
    assert c.proto == 0
    assert c.connect() == (b"c", b"")
    actions, final = c.message(b"yamada@example.jp", [b"b@lg.example.jp"], raw)
    c.close()
    assert final == (b"a", b"")
    m = email.message_from_bytes(apply(raw, actions, leadspc=False), policy=email.policy.default)
    assert "本文です。①②③ 髙﨑" in assert_sanitized(m)
    assert m["Subject"] == "会議のお知らせ"


def test_two_messages_on_one_connection_and_abort(mdaemon):
    d = mdaemon()
    c = MilterClient(d.milter_port)
    c.connect()
    raw1, raw2 = japanese_mail("一通目", attach=False), japanese_mail("二通目", attach=False)
    a1, f1 = c.message(b"a@example.jp", [b"x@lg.example.jp", b"y@lg.example.jp"], raw1, b"Q1")
    c.envelope(b"c@example.jp", [b"z@lg.example.jp"], b"Q2")
    c.send(b"A")  # the client went away before DATA
    a2, f2 = c.message(b"d@example.jp", [b"w@lg.example.jp"], raw2, b"Q3")
    c.close()
    assert f1 == f2 == (b"a", b"")
    got = {e["env_from"]: e for e in quarantine_list(d)}
    assert set(got) == {"a@example.jp", "d@example.jp"}
    assert got["a@example.jp"]["rcpt"] == "x@lg.example.jp,y@lg.example.jp"
    assert got["d@example.jp"]["rcpt"] == "w@lg.example.jp"
    log = d.logtext()
    assert f"id={got['a@example.jp']['id']} queue_id=Q1 " in log
    assert f"id={got['d@example.jp']['id']} queue_id=Q3 " in log and "queue_id=Q2" not in log
    assert email.message_from_bytes(apply(raw2, a2), policy=email.policy.default)["Subject"] \
        == "二通目"


def test_worker_crash_notice_replaces_the_original(mdaemon):
    d = mdaemon(env={"MUGAID_TEST_WORKER": "open"})
    raw = japanese_mail("秘密の件", attach=False)
    c, actions, final = run(d, raw)
    assert final == (b"a", b"")
    out = apply(raw, actions)
    m = email.message_from_bytes(out, policy=email.policy.default)
    text = assert_sanitized(m)
    assert "verdict=quarantined" in m["X-Mugai-Sanitized"]
    assert "本文です" not in text and "秘密の件" not in out.decode("utf-8", "replace")
    [e] = quarantine_list(d)
    assert d.quarantine_get(e["id"]) == raw
    assert "worker failure: worker-crash" in d.logtext()


def test_store_failure_sends_the_edits_then_451_never_accept(mdaemon):
    """The edits go out while the store commits; the accept only after its
    answer. A failed commit: the actions (which the MTA applies only with
    an accept) and then 451 instead of the accept; once the store is back,
    the same message is accepted, the original stored."""
    d = mdaemon()
    os.rename(d.state, d.state + ".moved")
    with open(d.state, "w") as f:           # state_dir is now a file: the store cannot open
        f.write("x")
    raw = japanese_mail("保留", attach=False)
    c, actions, final = run(d, raw)
    assert [a[0] for a in actions][-1:] == [b"b"] and b"m" in [a[0] for a in actions]
    assert final[0] == b"y" and final[1].startswith(b"451 4.3.0 Error: quarantine store unavailable")
    assert "status=deferred" in d.logtext() and "status=sent" not in d.logtext()
    os.remove(d.state)
    os.rename(d.state + ".moved", d.state)
    c, actions, final = run(d, raw)
    assert final == (b"a", b"")
    [e] = quarantine_list(d)
    assert d.quarantine_get(e["id"]) == raw


def test_store_killed_in_flight_451_then_accepted(mdaemon):
    d = mdaemon(max_sessions="1", env={"MUGAID_TEST_WORKER": "spin:1500"})
    raw = japanese_mail("再送", attach=False)
    # only this daemon's store process (others may run on the machine)
    stores = [p for p in procs("mugaid-store") if ppid(p) == d.proc.pid]
    assert len(stores) == 1
    result = {}

    def inflight():
        result["r"] = run(d, raw)
    t = threading.Thread(target=inflight)
    t.start()
    time.sleep(0.7)
    for p in stores:
        try:
            os.kill(p, signal.SIGKILL)
        except ProcessLookupError:
            pass
    t.join(60)
    _, actions, final = result["r"]
    assert actions == []
    assert final[0] == b"y"
    assert final[1].startswith(b"451 4.3.0 Error: quarantine store unavailable: store process:")
    assert final[1].endswith(b"\0")
    assert "status=deferred" in d.logtext()
    end = time.monotonic() + 30
    while True:
        try:
            _, actions, final = run(d, raw)
            if final == (b"a", b""):
                break
        except (MilterClosed, OSError):
            pass
        assert time.monotonic() < end
        time.sleep(0.3)
    assert email.message_from_bytes(apply(raw, actions), policy=email.policy.default)[
        "Subject"] == "再送"


def test_too_big_552_and_too_many_recipients_452(mdaemon):
    d = mdaemon(message_size_max="2048", smtp_recipients_max="2")
    c = MilterClient(d.milter_port)
    c.connect()
    r, rr = c.envelope(b"a@example.jp", [b"1@lg.example.jp", b"2@lg.example.jp",
                                         b"3@lg.example.jp"])
    assert rr[:2] == [(b"c", b""), (b"c", b"")]
    assert rr[2] == (b"y", b"452 4.5.3 Error: too many recipients\0")
    actions, final = c.content(japanese_mail("大きい", attach=False) + b"x" * 4000 + b"\r\n")
    c.close()
    assert actions == [] and final == (b"y", b"552 5.3.4 Error: message file too big\0")
    assert quarantine_list(d) == []


def test_mta_without_the_needed_actions_is_refused(mdaemon):
    d = mdaemon()
    with pytest.raises(MilterClosed):
        MilterClient(d.milter_port, actions=0x01 | 0x10)  # no SMFIF_CHGBODY
    assert "does not allow adding and changing headers and replacing the body" in d.logtext()


def test_red_team_oversized_packet_and_unterminated_strings_close_the_connection(mdaemon):
    """An attacker who controls the MTA side: a length word of 4 GiB, a
    header without its NUL, a macro without its value. Each closes the
    connection before anything is spooled; the daemon serves the next one."""
    d = mdaemon()
    for bad in (struct.pack(">I", 0xFFFFFFFF) + b"L",
                packet(b"L", b"Subject\0no terminator"),
                packet(b"D", b"M{mail_addr}\0"),
                packet(b"D", b"M{mail_addr}\0a\x01b@example.jp\0"),
                packet(b"Z")):
        c = MilterClient(d.milter_port)
        c.connect()
        c.envelope(b"a@example.jp", [b"b@lg.example.jp"]) if bad[4:5] == b"L" else None
        c.s.sendall(bad)
        with pytest.raises((MilterClosed, ConnectionError)):
            c.recv()
        c.s.close()
    raw = japanese_mail(attach=False)
    _, actions, final = run(d, raw)
    assert final == (b"a", b"")
    assert len(quarantine_list(d)) == 1


def test_red_team_header_count_bomb_552(mdaemon):
    d = mdaemon(milter_headers_max="100")
    raw = b"".join(b"X-A: %d\r\n" % i for i in range(150)) + japanese_mail(attach=False)
    _, actions, final = run(d, raw)
    assert actions == [] and final == (b"y", b"552 5.3.4 Error: too many header lines\0")
    assert quarantine_list(d) == []


def test_milter_listen_is_checked(tmp_path):
    d = Daemon(tmp_path, milter_listen="127.0.0.1:99999")
    r = subprocess.run([os.environ.get("MUGAID", "build/mugaid"), "-n", "-c", d.cf],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 78
    assert "milter_listen: want HOST:PORT with a port in 1-65535, got '127.0.0.1:99999'" \
        in r.stderr
