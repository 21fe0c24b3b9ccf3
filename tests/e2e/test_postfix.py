"""End to end through a real Postfix (a private instance, see pfinstance.py):
smtpd → content_filter → mugaid → re-injection smtpd → virtual Maildir.
Each message must arrive exactly once per envelope recipient, sanitized
(one text/plain part, X-Mugai-Sanitized), also after the faults: a worker
SIGKILLed mid-message, mugaid SIGKILLed under load, the next hop down, the
state directory full. Count in == count out; nothing bounces; the Postfix
queue ends empty."""
import email
import email.policy
import os
import signal
import subprocess
import time

import pytest

from e2eutil import DOMAIN, Ledger, Mugaid, delivered, e2e_base, iso2022jp_nec, make
from pfinstance import Postfix

LEDGER = Ledger()
SENT = LEDGER.sent  # Message-ID -> list of recipients
submit, wait_all = LEDGER.submit, LEDGER.wait_all
check_exactly_once_and_sanitized = LEDGER.check_exactly_once_and_sanitized


def after_queue_mugaid(base, pf):
    return Mugaid(base, f"listen = 127.0.0.1:{pf.filter_port}\n"
                        f"next_hop = smtp:127.0.0.1:{pf.reinj_port}\nmax_sessions = 4\n"
                        "wall_time_max = 20\ncpu_time_max = 20\ncdr_time_max = 20\n"
                        "next_hop_timeout = 10\n")


@pytest.fixture(scope="module")
def env():
    with e2e_base("mugai-e2e-", Postfix, after_queue_mugaid) as (_, pf, m):
        yield pf, m, m.mounted


def test_delivery_japanese_html_attachments_hostile(env):
    pf, m, _ = env
    cases = [
        iso2022jp_nec(),
        make("HTML お知らせ", body=None, html="<h1>見出し</h1><p>本文<a href='https://evil.example.com/'>リンク</a>"
             "</p><script>alert(1)</script>"),
        make("添付あり", attach=("請求書.exe", b"MZ\x90\x00" * 1000)),
        make("hostile", html="<div>" * 5000 + "深い" + "</div>" * 5000,
             attach=("a.zip", b"PK\x03\x04" + os.urandom(2000))),
    ]
    submit(pf, cases[:2], [f"taro@{DOMAIN}"])
    submit(pf, cases[2:], [f"taro@{DOMAIN}", f"hanako@{DOMAIN}"])
    r = subprocess.run(["swaks", "--server", f"127.0.0.1:{pf.smtp_port}", "--from",
                        "sender@example.jp", "--to", f"jiro@{DOMAIN},saburo@{DOMAIN}",
                        "--header", "Message-Id: <swaks-1@e2e.test>", "--header",
                        "Subject: swaks テスト", "--attach-type", "text/html", "--attach",
                        "<b>太字</b><img src=x onerror=alert(1)>"], capture_output=True, timeout=60)
    assert r.returncode == 0, r.stdout
    SENT["<swaks-1@e2e.test>"] = [f"jiro@{DOMAIN}", f"saburo@{DOMAIN}"]
    wait_all(pf)
    counts, msgs = check_exactly_once_and_sanitized(pf)
    by_subject = {x["Subject"]: x.get_content() for x in msgs}
    assert "日本語: ①②③" in by_subject["日本語"]
    assert "見出し" in by_subject["HTML お知らせ"] and "alert" not in by_subject["HTML お知らせ"]
    assert "請求書.exe" in by_subject["添付あり"] and "MZ" not in by_subject["添付あり"]
    assert "onerror" not in by_subject["swaks テスト"]
    assert "queue_id=" in m.log() and "queue_id=-" not in m.log()  # XFORWARD IDENT


def test_fault_worker_killed_mid_message(env):
    pf, m, _ = env
    m.stop()
    m.start(env={"MUGAID_TEST_WORKER": "spin:4000"})
    msg = make("worker kill", body="殺される")
    submit(pf, [msg], [f"shiro@{DOMAIN}"])
    del SENT[msg["Message-ID"]]              # the notice replaces it (no Message-ID kept)
    victim, end = None, time.monotonic() + 30
    while victim is None and time.monotonic() < end:
        for pid in os.listdir("/proc"):
            try:
                with open(f"/proc/{pid}/stat") as f:
                    st = f.read()
            except OSError:
                continue
            if "(mugaid-worker) R" in st:
                victim = int(pid)
        time.sleep(0.05)
    assert victim, "no busy worker found"
    os.kill(victim, signal.SIGKILL)
    end = time.monotonic() + 60
    while time.monotonic() < end and not os.listdir(f"{pf.mail}/shiro/new") if os.path.isdir(
            f"{pf.mail}/shiro/new") else time.monotonic() < end:
        time.sleep(0.3)
    files = os.listdir(f"{pf.mail}/shiro/new")
    assert len(files) == 1
    with open(f"{pf.mail}/shiro/new/{files[0]}", "rb") as f:
        n = email.message_from_binary_file(f, policy=email.policy.default)
    assert "verdict=quarantined" in n["X-Mugai-Sanitized"]
    assert "殺される" not in n.get_content()
    assert "worker failure: worker-crash signal=9" in m.log()
    m.stop()
    m.start()


def test_fault_mugaid_sigkill_under_load_then_restart(env):
    pf, m, _ = env
    msgs = [make(f"load {i}", body=f"負荷 {i}\n" * 200) for i in range(40)]
    submit(pf, msgs, [f"user{i % 10}@{DOMAIN}" for i in range(2)])
    time.sleep(0.7)
    m.stop(signal.SIGKILL)
    time.sleep(1)
    m.start()
    pf.flush()
    wait_all(pf)
    check_exactly_once_and_sanitized(pf)


def test_fault_next_hop_down_then_back(env):
    pf, m, _ = env
    pf.write_master(reinj=False)
    pf.reload()
    time.sleep(1)
    before = m.log().count("status=deferred")
    msgs = [make(f"hop down {i}") for i in range(5)]
    submit(pf, msgs, [f"hanako@{DOMAIN}"])
    end = time.monotonic() + 30
    while m.log().count("status=deferred") - before < 5 and time.monotonic() < end:
        time.sleep(0.3)
    assert m.log().count("status=deferred") - before >= 5
    counts, _ = delivered(pf)
    assert not any(k[0] in {x["Message-ID"] for x in msgs} for k in counts)
    pf.write_master(reinj=True)
    pf.reload()
    time.sleep(1)
    pf.flush()
    wait_all(pf)
    check_exactly_once_and_sanitized(pf)


def test_fault_state_dir_full_then_freed(env):
    pf, m, mounted = env
    if not mounted:
        pytest.skip("cannot mount a tmpfs for the state directory")
    filler = f"{m.state}/filler"
    subprocess.run(["dd", "if=/dev/zero", f"of={filler}", "bs=1M", "count=100"],
                   capture_output=True)
    before = m.log().count("quarantine store (put)")
    msgs = [make(f"disk full {i}", body="満杯\n" * 500) for i in range(5)]
    submit(pf, msgs, [f"jiro@{DOMAIN}"])
    end = time.monotonic() + 30
    while "quarantine store" not in m.log()[-20000:] and time.monotonic() < end:
        time.sleep(0.3)
    counts, _ = delivered(pf)
    assert not any(k[0] in {x["Message-ID"] for x in msgs} for k in counts)
    assert "status=deferred" in m.log()
    os.unlink(filler)
    pf.flush()
    wait_all(pf)
    check_exactly_once_and_sanitized(pf)
    assert m.log().count("quarantine store (put)") > before


def test_count_in_equals_count_out_and_queue_empty(env):
    pf, m, _ = env
    pf.flush()
    end = time.monotonic() + 60
    while not pf.queue_empty() and time.monotonic() < end:
        time.sleep(0.5)
    assert pf.queue_empty()
    counts, msgs = check_exactly_once_and_sanitized(pf)
    expected = sum(len(r) for r in SENT.values()) + 1  # + the worker-kill notice
    assert len(msgs) == expected, (len(msgs), expected)
    assert "status=bounced" not in pf.log()
