"""mugaid spoken to directly over SMTP (smtplib and raw sockets): every
reply code of the session, store-before-deliver-before-250, the next hops
(maildir, SMTP, LMTP), the worker sandbox, signals and counters."""
import email.message
import email.policy
import os
import re
import signal
import smtplib
import socket
import subprocess
import threading
import time

import pytest

from daemonutil import MUGAID, Daemon, Sink, assert_sanitized, parse

JP_HTML = """<html><body><h1>お知らせ</h1><p>①②の件、<a href="https://evil.example.com/x">こちら</a>。</p>
<script>alert(1)</script></body></html>"""


def japanese_mail(subject="会議のお知らせ", attach=True):
    m = email.message.EmailMessage()
    m["From"] = "山田 <yamada@example.jp>"
    m["To"] = "b@lg.example.jp"
    m["Subject"] = subject
    m.set_content("本文です。①②③ 髙﨑\n")
    m.add_alternative(JP_HTML, subtype="html")
    if attach:
        m.add_attachment(b"MZ\x90\x00evil", maintype="application", subtype="octet-stream",
                         filename="請求書.exe")
    return m.as_bytes().replace(b"\n", b"\r\n").replace(b"\r\r\n", b"\r\n")


@pytest.fixture
def daemon(tmp_path):
    made = []

    def make(env=None, **cfg):
        d = Daemon(tmp_path / f"d{len(made)}", env=env, **cfg)
        os.makedirs(d.dir, exist_ok=True)
        d.write_config()
        made.append(d)
        return d.start()
    yield make
    for d in made:
        d.stop()


def send(d, data, rcpts=("b@lg.example.jp",), sender="yamada@example.jp", **kw):
    with smtplib.SMTP("127.0.0.1", d.port, timeout=60) as s:
        s.ehlo("test")
        return s.sendmail(sender, list(rcpts), data, **kw)


def send_raw(d, chunks, wait=1.0):
    with socket.create_connection(("127.0.0.1", d.port), timeout=30) as s:
        s.recv(1000)
        for c in chunks:
            s.sendall(c)
        out, end = b"", time.monotonic() + wait
        s.settimeout(0.5)
        while time.monotonic() < end:
            try:
                b = s.recv(65536)
            except socket.timeout:
                continue
            if not b:
                break
            out += b
        return out.decode()


def qid_from_log(d):
    ids = re.findall(r"id=(\d{8}-\d{6}-[0-9a-f]{8}) .*status=sent", d.logtext())
    return ids


def test_maildir_every_recipient_sanitized_and_original_stored(daemon):
    d = daemon()
    data = japanese_mail()
    rcpts = ["b@lg.example.jp", "c@lg.example.jp"]
    assert send(d, data, rcpts) == {}
    for r in rcpts:
        files = d.delivered(r)
        assert len(files) == 1, (r, files)
        m = parse(files[0])
        text = assert_sanitized(m)
        assert m["Delivered-To"] == r
        assert m["Subject"] == "会議のお知らせ"
        assert "①②③ 髙﨑" in text
        assert "請求書.exe" in text          # listed in the notice, not attached
        assert "MZ" not in text and "evil.example.com" not in text
        assert "verdict=sanitized" in m["X-Mugai-Sanitized"]
    qid = re.search(r"id=([0-9a-f-]+)", m["X-Mugai-Sanitized"]).group(1)
    assert d.quarantine_get(qid) == data     # the original, byte for byte (unstuffed)
    log = d.logtext()
    line = [l for l in log.splitlines() if f"id={qid}" in l][0]
    for part in ("from=<yamada@example.jp>", "to=<b@lg.example.jp>,<c@lg.example.jp>",
                 "verdict=sanitized", "removed=2", "ms=", "status=sent"):
        assert part in line, line
    time.sleep(1.3)
    m = d.metrics()
    assert m["mugaid_messages_delivered_total"] == 1
    assert m['mugaid_verdicts_total{verdict="sanitized"}'] == 1


def test_dot_stuffing_roundtrip(daemon):
    d = daemon()
    data = b"From: a@b.jp\r\nSubject: dots\r\n\r\n.leading dot\r\n..two\r\n.\r\nend\r\n"
    send(d, data)
    text = assert_sanitized(parse(d.delivered("b@lg.example.jp")[0]))
    assert ".leading dot" in text and "..two" in text and "\nend" in text.replace("\r", "")


def test_smtp_next_hop_keeps_envelope(daemon):
    sink = Sink()
    try:
        d = daemon(next_hop=f"smtp:127.0.0.1:{sink.port}")
        send(d, japanese_mail(), ["x@lg.example.jp", "y@lg.example.jp", "z@lg.example.jp"],
             sender="")
        assert len(sink.messages) == 1
        sender, rcpts, body = sink.messages[0]
        assert sender == "" and rcpts == ["x@lg.example.jp", "y@lg.example.jp", "z@lg.example.jp"]
        assert b"X-Mugai-Sanitized:" in body and b"MZ" not in body
    finally:
        sink.close()


def test_lmtp_next_hop(daemon):
    sink = Sink(lmtp=True)
    try:
        d = daemon(next_hop=f"lmtp:127.0.0.1:{sink.port}")
        send(d, japanese_mail(attach=False), ["x@lg.example.jp", "y@lg.example.jp"])
        assert [m[1] for m in sink.messages] == [["x@lg.example.jp", "y@lg.example.jp"]]
    finally:
        sink.close()


@pytest.mark.parametrize("mode", ["refuse-rcpt", "refuse-data"])
def test_next_hop_refusing_is_451_then_retry_delivers_once(daemon, mode):
    sink = Sink(mode)
    try:
        d = daemon(next_hop=f"smtp:127.0.0.1:{sink.port}")
        with pytest.raises(smtplib.SMTPDataError) as e:
            send(d, japanese_mail())
        assert e.value.smtp_code == 451 and e.value.smtp_error.startswith(b"4.4.0")
        assert sink.messages == []
        sink.mode = "accept"
        send(d, japanese_mail())
        assert len(sink.messages) == 1
    finally:
        sink.close()


def test_next_hop_down_is_451(daemon):
    d = daemon(next_hop="smtp:127.0.0.1:1")
    with pytest.raises(smtplib.SMTPDataError) as e:
        send(d, japanese_mail())
    assert e.value.smtp_code == 451 and e.value.smtp_error.startswith(b"4.4.1")
    assert "status=deferred" in d.logtext()


def test_store_failure_is_451_and_nothing_delivered(daemon):
    d = daemon()
    os.rename(d.state, d.state + ".moved")
    with open(d.state, "w") as f:           # state_dir is now a file: the store cannot open
        f.write("x")
    with pytest.raises(smtplib.SMTPDataError) as e:
        send(d, japanese_mail())
    assert e.value.smtp_code == 451 and b"quarantine store" in e.value.smtp_error
    assert d.delivered("b@lg.example.jp") == []


def test_store_failure_holds_the_final_dot_next_hop_keeps_nothing(daemon):
    """The rebuilt message goes to the next hop while the store commits the
    original, but its final dot waits for the store's answer: a failed
    commit drops the connection before the dot (the next hop keeps
    nothing) and answers 451; once the store is back, one delivery."""
    sink = Sink()
    try:
        d = daemon(next_hop=f"smtp:127.0.0.1:{sink.port}")
        os.rename(d.state, d.state + ".moved")
        with open(d.state, "w") as f:       # state_dir is now a file: the store cannot open
            f.write("x")
        with pytest.raises(smtplib.SMTPDataError) as e:
            send(d, japanese_mail(subject="保留"))
        assert e.value.smtp_code == 451
        assert e.value.smtp_error.startswith(b"4.3.0 Error: quarantine store unavailable")
        end = time.monotonic() + 10
        while not sink.aborted and time.monotonic() < end:
            time.sleep(0.05)
        assert sink.messages == []
        (sender, rcpts, data), = sink.aborted   # the body was there, its dot was not
        assert (sender, rcpts) == ("yamada@example.jp", ["b@lg.example.jp"])
        assert "保留" in str(email.message_from_bytes(data, policy=email.policy.default)["Subject"])
        os.remove(d.state)
        os.rename(d.state + ".moved", d.state)
        assert send(d, japanese_mail(subject="保留")) == {}
        assert len(sink.messages) == 1 and len(sink.aborted) == 1
        assert re.search(r"status=sent \(250 2\.0\.0 queued\)", d.logtext())  # the hop's reply
    finally:
        sink.close()


def test_maildir_failure_is_451(daemon, tmp_path):
    # the startup check proved the maildir writable; it breaks afterwards
    box = tmp_path / "box"
    d = daemon(next_hop=f"maildir:{box}")
    os.rmdir(box)
    box.write_text("not a directory")
    with pytest.raises(smtplib.SMTPDataError) as e:
        send(d, japanese_mail())
    assert e.value.smtp_code == 451 and e.value.smtp_error.startswith(b"4.3.0")


def test_ehlo_extensions(daemon):
    d = daemon()
    with smtplib.SMTP("127.0.0.1", d.port) as s:
        code, text = s.ehlo("t")
    assert code == 250
    for ext in (b"PIPELINING", b"SIZE 52428800", b"8BITMIME", b"SMTPUTF8",
                b"ENHANCEDSTATUSCODES", b"XFORWARD"):
        assert ext in text


def test_pipelining_replies_in_order(daemon):
    d = daemon()
    out = send_raw(d, [b"EHLO t\r\nMAIL FROM:<a@b.jp>\r\nRCPT TO:<c@d.jp>\r\nRCPT TO:<e@f.jp>\r\nDATA\r\n",
                       b"Subject: p\r\n\r\nbody\r\n.\r\nQUIT\r\n"], wait=3)
    codes = [l[:3] for l in out.splitlines() if l[3:4] == " "]
    assert codes == ["250", "250", "250", "250", "354", "250", "221"], out


@pytest.mark.parametrize("payload,what", [
    (b"Subject: x\r\n\r\nline\n.\r\n", "LF"),
    (b"Subject: x\r\n\r\nline\rmore\r\n.\r\n", "CR"),
    (b"Subject: x\r\n\r\nsmuggled\r\n.\nMAIL FROM:<evil@x>\r\n", "LF"),
])
def test_bare_newline_in_data_refused(daemon, payload, what):
    d = daemon()
    out = send_raw(d, [b"EHLO t\r\nMAIL FROM:<a@b.jp>\r\nRCPT TO:<c@d.jp>\r\nDATA\r\n", payload])
    assert f"521 5.5.2 Error: bare <{what}> received" in out
    assert d.delivered("c@d.jp") == []


def test_bare_lf_in_command_refused(daemon):
    d = daemon()
    out = send_raw(d, [b"EHLO t\n"])
    assert "521 5.5.2 Error: bare <LF> received" in out


def test_limits(daemon):
    d = daemon(smtp_recipients_max="2", message_size_max="2k", smtp_line_length_max="512")
    out = send_raw(d, [b"EHLO t\r\nMAIL FROM:<a@b.jp> SIZE=999999\r\nMAIL FROM:<a@b.jp>\r\n"
                       b"RCPT TO:<1@x>\r\nRCPT TO:<2@x>\r\nRCPT TO:<3@x>\r\nDATA\r\n",
                       b"Subject: big\r\n\r\n" + b"x" * 3000 + b"\r\n.\r\nNOOP " + b"y" * 600 + b"\r\n"])
    assert "552 5.3.4 Message size exceeds fixed limit" in out
    assert "452 4.5.3 Error: too many recipients" in out
    assert "552 5.3.4 Error: message file too big" in out
    assert "500 5.5.2 Error: line too long" in out
    assert d.delivered("1@x") == []


def test_sequence_errors(daemon):
    d = daemon()
    out = send_raw(d, [b"MAIL FROM:<a@b>\r\nEHLO t\r\nRCPT TO:<a@b>\r\nDATA\r\nMAIL FROM:<a@b>\r\n"
                       b"DATA\r\nMAIL FROM:<a@b>\r\nRCPT TO:<\xe5\xb1\xb1@x>\r\nBDAT 10\r\n"])
    for want in ("503 5.5.1 Error: send HELO/EHLO first", "503 5.5.1 Error: need MAIL command",
                 "554 5.5.1 Error: no valid recipients", "503 5.5.1 Error: nested MAIL command",
                 "553 5.6.7", "502 5.5.1 Error: BDAT not supported"):
        assert want in out, (want, out)


def test_smtputf8_address(daemon):
    d = daemon()
    data = "From: 山田@例え.jp\r\nSubject: utf8\r\n\r\nこんにちは\r\n".encode()
    with smtplib.SMTP("127.0.0.1", d.port) as s:
        s.ehlo("t")
        s.sendmail("山田@例え.jp", ["受付@lg.example.jp"], data, mail_options=["SMTPUTF8"])
    m = parse(d.delivered("______@lg.example.jp")[0])
    assert "こんにちは" in assert_sanitized(m)


@pytest.mark.parametrize("hook", ["open", "socket"])
def test_worker_is_sandboxed_and_a_killed_worker_yields_the_notice(daemon, hook):
    """The daemon's own worker (test hook) calls open()/socket() mid-job: seccomp
    kills it (SIGSYS = 31). The message is not retried: the notice is delivered,
    the original quarantined."""
    d = daemon(env={"MUGAID_TEST_WORKER": hook})
    data = japanese_mail()
    assert send(d, data) == {}
    m = parse(d.delivered("b@lg.example.jp")[0])
    text = assert_sanitized(m)
    assert "verdict=quarantined" in m["X-Mugai-Sanitized"]
    assert "①②③" not in text and "MZ" not in text
    # the notice names whose mail it is by the envelope (the header is not read)
    assert "\nヘッダーを読み取れませんでした。\n送信元 (エンベロープ): 「yamada[@]example[.]jp」\n" in \
        text.replace("\r\n", "\n")
    log = d.logtext()
    assert "worker failure: worker-crash signal=31" in log, log
    qid = re.search(r"id=([0-9a-f-]+)", m["X-Mugai-Sanitized"]).group(1)
    assert d.quarantine_get(qid) == data


def test_worker_timeout_is_a_verdict(daemon):
    d = daemon(env={"MUGAID_TEST_WORKER": "spin:5000"}, wall_time_max="1", cpu_time_max="1",
               cdr_time_max="1")
    t0 = time.monotonic()
    send(d, japanese_mail())
    assert time.monotonic() - t0 < 4
    m = parse(d.delivered("b@lg.example.jp")[0])
    assert "verdict=quarantined" in m["X-Mugai-Sanitized"]
    assert "worker failure: timeout" in d.logtext()


def test_refuses_to_start_without_sandbox(tmp_path):
    d = Daemon(tmp_path, env={"MUGAID_TEST_WORKER": "nosandbox"})
    r = subprocess.run([MUGAID, "-f", "-c", d.cf], capture_output=True, timeout=30, env=d.env)
    assert r.returncode == 70
    assert b"refusing to start" in r.stderr


def test_config_check(tmp_path):
    d = Daemon(tmp_path)
    assert subprocess.run([MUGAID, "-n", "-c", d.cf], capture_output=True).returncode == 0
    assert subprocess.run([MUGAID, "-n"], capture_output=True).returncode == 0
    for bad in ("next_hop = ftp:x", "listen = nowhere", "max_sessions = 0", "no_such_key = 1"):
        with open(d.cf, "a") as f:
            f.write(bad + "\n")
        r = subprocess.run([MUGAID, "-n", "-c", d.cf], capture_output=True)
        assert r.returncode == 78, (bad, r)
        d.write_config()


def test_worker_recycled_after_max_use(daemon):
    d = daemon(worker_max_use="2", max_sessions="1")
    for i in range(5):
        send(d, japanese_mail(subject=f"n{i}", attach=False))
    time.sleep(1.3)
    m = d.metrics()
    assert m["mugaid_messages_delivered_total"] == 5
    assert m["mugaid_workers_started_total"] >= 3


def test_sighup_reloads_config(daemon, tmp_path):
    d = daemon()
    send(d, japanese_mail(attach=False))
    other = str(tmp_path / "other-maildir")
    d.write_config(next_hop=f"maildir:{other}")
    d.proc.send_signal(signal.SIGHUP)
    time.sleep(1.5)
    send(d, japanese_mail(attach=False))
    assert len(d.delivered("b@lg.example.jp")) == 1
    assert len(os.listdir(os.path.join(other, "b@lg.example.jp", "new"))) == 1
    assert "reloaded" in d.logtext()


def test_sigterm_drains_in_flight_message(daemon):
    d = daemon(env={"MUGAID_TEST_WORKER": "spin:1500"})
    result = {}

    def client():
        s = smtplib.SMTP("127.0.0.1", d.port, timeout=60)
        s.ehlo("t")
        result["r"] = s.sendmail("a@b.jp", ["b@lg.example.jp"], japanese_mail())
        result["quit"] = s.docmd("QUIT")[0]  # 421 4.3.2 once draining: the message had its 250
        s.close()
    t = threading.Thread(target=client)
    t.start()
    time.sleep(0.8)                         # the worker is busy with the message
    d.proc.send_signal(signal.SIGTERM)
    t.join(30)
    assert result.get("r") == {}            # answered 250, not cut off
    assert result["quit"] in (221, 421)
    assert d.proc.wait(30) == 0
    assert len(d.delivered("b@lg.example.jp")) == 1


def test_killed_session_is_restarted(daemon):
    d = daemon(max_sessions="1")
    send(d, japanese_mail(attach=False))
    kids = subprocess.run(["pgrep", "-P", str(d.proc.pid)], capture_output=True, text=True).stdout.split()
    assert kids
    for k in kids:
        os.kill(int(k), signal.SIGKILL)
    time.sleep(0.8)
    send(d, japanese_mail(attach=False))
    assert len(d.delivered("b@lg.example.jp")) == 2
    assert "killed by signal 9; restarting" in d.logtext()


def test_unreadable_header_notice_shows_the_envelope_sender(daemon):
    """Issue #8 class 7: when the header itself trips a limit and no From can
    be read, the quarantine notice names the SMTP envelope sender."""
    d = daemon()
    junk = b"".join(b"X-Junk-%d: %s\r\n" % (i, b"a" * 70) for i in range(4000))  # ~330 KB
    data = junk + b"From: late@example.jp\r\nSubject: s\r\n\r\nbody\r\n"
    assert send(d, data, sender="envelope@example.com") == {}
    m = parse(d.delivered("b@lg.example.jp")[0])
    assert "verdict=quarantined" in m["X-Mugai-Sanitized"]
    text = m.get_payload(decode=True).decode("utf-8").replace("\r\n", "\n")
    assert "\nヘッダーを読み取れませんでした。\n送信元 (エンベロープ): 「envelope[@]example[.]com」\n" in text
