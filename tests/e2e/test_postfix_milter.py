"""End to end through a real Postfix with mugaid as its milter (a private
instance, see pfinstance.py): smtpd ⇄ mugaid milter_listen, then virtual
Maildir; one queue pass. Each message must arrive exactly once per
envelope recipient, rebuilt (one text/plain part, X-Mugai-Sanitized, none
of the original's headers left), also after the faults: a worker SIGKILLed
mid-message (its notice replaces the message), mugaid SIGKILLed mid-message
(Postfix answers the client 451 under milter_default_action = tempfail;
the client's retry is delivered), the state directory full (451, nothing
queued; the retry after space is back is delivered). Count in == count out; nothing bounces;
the Postfix queue ends empty."""
import email
import email.policy
import os
import signal
import smtplib
import subprocess
import threading
import time

import pytest

from e2eutil import DOMAIN, Ledger, Mugaid, delivered, e2e_base, iso2022jp_nec, make
from pfinstance import Postfix, ensure_user

LEDGER = Ledger(rebuilt_headers=True)
SENT = LEDGER.sent  # Message-ID -> list of recipients
submit, wait_all = LEDGER.submit, LEDGER.wait_all
check_exactly_once_and_sanitized = LEDGER.check_exactly_once_and_sanitized


def milter_mugaid(base, pf):
    os.makedirs(f"{base}/unused-maildir", exist_ok=True)
    os.chown(f"{base}/unused-maildir", ensure_user().pw_uid, ensure_user().pw_gid)
    return Mugaid(base, f"listen = 127.0.0.1:{pf.filter_port}\n"
                        f"milter_listen = 127.0.0.1:{pf.milter_port}\n"
                        f"next_hop = maildir:{base}/unused-maildir\nmax_sessions = 8\n"
                        "wall_time_max = 20\ncpu_time_max = 20\ncdr_time_max = 20\n")


@pytest.fixture(scope="module")
def env():
    with e2e_base("mugai-e2e-milter-", lambda base: Postfix(base, milter=True),
                  milter_mugaid) as (_, pf, m):
        yield pf, m


def test_delivery_japanese_html_attachments_hostile(env):
    pf, m = env
    hostile = make("hostile", html="<div>" * 5000 + "深い" + "</div>" * 5000,
                   attach=("a.zip", b"PK\x03\x04" + os.urandom(2000)))
    hostile["X-Evil"] = "<script>alert(1)</script>"
    cases = [
        iso2022jp_nec(),
        make("HTML お知らせ", body=None, html="<h1>見出し</h1><p>本文<a href='https://evil.example.com/'>リンク</a>"
             "</p><script>alert(1)</script>"),
        make("添付あり", attach=("請求書.exe", b"MZ\x90\x00" * 1000)),
        hostile,
    ]
    submit(pf, cases[:2], [f"taro@{DOMAIN}"])
    submit(pf, cases[2:], [f"taro@{DOMAIN}", f"hanako@{DOMAIN}"])
    r = subprocess.run(["swaks", "--server", f"127.0.0.1:{pf.smtp_port}", "--from",
                        "sender@example.jp", "--to", f"jiro@{DOMAIN},saburo@{DOMAIN}",
                        "--header", "Message-Id: <swaks-m1@e2e.test>", "--header",
                        "Subject: swaks テスト", "--attach-type", "text/html", "--attach",
                        "<b>太字</b><img src=x onerror=alert(1)>"], capture_output=True, timeout=60)
    assert r.returncode == 0, r.stdout
    SENT["<swaks-m1@e2e.test>"] = [f"jiro@{DOMAIN}", f"saburo@{DOMAIN}"]
    wait_all(pf)
    counts, msgs = check_exactly_once_and_sanitized(pf)
    by_subject = {x["Subject"]: x.get_content() for x in msgs}
    assert "日本語: ①②③" in by_subject["日本語"]
    assert "見出し" in by_subject["HTML お知らせ"] and "alert" not in by_subject["HTML お知らせ"]
    assert "evil.example.com" not in by_subject["HTML お知らせ"]
    assert "請求書.exe" in by_subject["添付あり"] and "MZ" not in by_subject["添付あり"]
    assert "本文" in by_subject["hostile"] and "alert" not in by_subject["hostile"]
    assert "onerror" not in by_subject["swaks テスト"]
    log = m.log()
    assert "status=sent (milter accept)" in log
    assert "queue_id=-" not in log  # the i macro
    assert "relay=" in pf.log() and "status=sent" in pf.log()
    # one queue pass: no content filter transport, no re-injection
    assert "mugai:[" not in pf.log()


def ppid(pid):
    with open(f"/proc/{pid}/stat") as f:
        return int(f.read().rsplit(")", 1)[1].split()[1])


def find_worker(m):
    """A busy worker of this mugaid (worker → session → master): the machine
    may run other mugaid instances."""
    for pid in os.listdir("/proc"):
        try:
            with open(f"/proc/{pid}/stat") as f:
                if "(mugaid-worker) R" in f.read() and ppid(ppid(int(pid))) == m.proc.pid:
                    return int(pid)
        except (OSError, ValueError):
            pass
    return None


def test_fault_worker_killed_mid_message_notice_replaces_it(env):
    pf, m = env
    m.stop()
    m.start(env={"MUGAID_TEST_WORKER": "spin:4000"})
    msg = make("worker kill", body="殺される")
    t = threading.Thread(target=submit, args=(pf, [msg], [f"shiro@{DOMAIN}"], False))
    t.start()
    victim, end = None, time.monotonic() + 30
    while victim is None and time.monotonic() < end:
        victim = find_worker(m)
        time.sleep(0.05)
    assert victim, "no busy worker found"
    os.kill(victim, signal.SIGKILL)
    t.join(120)
    end = time.monotonic() + 60
    box = f"{pf.mail}/shiro/new"
    while time.monotonic() < end and not (os.path.isdir(box) and os.listdir(box)):
        time.sleep(0.3)
    files = os.listdir(box)
    assert len(files) == 1
    with open(f"{box}/{files[0]}", "rb") as f:
        n = email.message_from_binary_file(f, policy=email.policy.default)
    assert "verdict=quarantined" in n["X-Mugai-Sanitized"]
    assert "殺される" not in n.get_content() and n["Subject"] != "worker kill"
    assert "worker failure: worker-crash signal=9" in m.log()
    m.stop()
    m.start()


def test_fault_mugaid_sigkill_mid_message_tempfail_then_delivered(env):
    """milter_default_action = tempfail: Postfix answers the client 451 and
    keeps nothing; the client's retry after the restart is delivered once."""
    pf, m = env
    m.stop()
    m.start(env={"MUGAID_TEST_WORKER": "spin:3000"})
    msg = make("mugaid kill", body="再送される本文")
    err = {}

    def send():
        try:
            submit(pf, [msg], [f"user3@{DOMAIN}"], record=False)
        except smtplib.SMTPDataError as e:
            err["code"] = e.smtp_code
    t = threading.Thread(target=send)
    t.start()
    end = time.monotonic() + 30
    while find_worker(m) is None and time.monotonic() < end:
        time.sleep(0.05)
    m.stop(signal.SIGKILL)
    t.join(120)
    assert err.get("code") == 451, err
    assert "milter" in pf.log() and not delivered_to(pf, "user3")
    m.start()
    submit(pf, [msg], [f"user3@{DOMAIN}"])
    wait_all(pf)
    [x] = delivered_to(pf, "user3")
    assert "再送される本文" in x.get_content() and x["Subject"] == "mugaid kill"


def delivered_to(pf, user):
    return [x for x in delivered(pf)[1] if x["Delivered-To"] == f"{user}@{DOMAIN}"]


def test_fault_state_dir_full_then_freed(env):
    """The store cannot write: the milter answers tempfail, Postfix tells the
    client 451 and queues nothing; once space is back, the client's retry is
    delivered once, rebuilt."""
    pf, m = env
    if not m.mounted:
        pytest.skip("cannot mount a tmpfs for the state directory")
    filler = f"{m.state}/filler"
    subprocess.run(["dd", "if=/dev/zero", f"of={filler}", "bs=1M", "count=100"],
                   capture_output=True)
    before = m.log().count("quarantine store (put)")
    msgs = [make(f"milter disk full {i}", body="満杯\n" * 500) for i in range(3)]
    for msg in msgs:
        with pytest.raises(smtplib.SMTPResponseException) as e:
            submit(pf, [msg], [f"jiro@{DOMAIN}"], record=False)
        assert e.value.smtp_code == 451, e.value
    assert m.log().count("quarantine store (put)") >= before + 3
    counts, _ = delivered(pf)
    ids = {x["Message-ID"] for x in msgs}
    assert not any(k[0] in ids for k in counts)
    os.unlink(filler)
    submit(pf, msgs, [f"jiro@{DOMAIN}"])      # the client's retry
    wait_all(pf)
    check_exactly_once_and_sanitized(pf)


def test_load_eight_clients_count_in_equals_count_out_and_queue_empty(env):
    pf, m = env
    msgs = [make(f"load {i}", body=f"負荷 {i}\n" * 200) for i in range(40)]
    threads = [threading.Thread(target=submit, args=(pf, msgs[k::8], [f"user{k}@{DOMAIN}"]))
               for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(300)
    wait_all(pf)
    end = time.monotonic() + 60
    while not pf.queue_empty() and time.monotonic() < end:
        time.sleep(0.5)
    assert pf.queue_empty()
    counts, msgs_out = check_exactly_once_and_sanitized(pf)
    expected = sum(len(r) for r in SENT.values()) + 1  # + the worker-kill notice
    assert len(msgs_out) == expected, (len(msgs_out), expected)
    assert "status=bounced" not in pf.log()
