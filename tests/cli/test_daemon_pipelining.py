"""mugaid's SMTP client towards the next hop with PIPELINING (RFC 2920):
a next hop written here records every read() it makes, so the tests see
how the commands arrived (MAIL, all RCPTs and DATA in one read; RSET in
front of them on a kept connection), and refuses on purpose (one of three
recipients, all of them, the DATA command, the message after its dot).
Every refusal is 451 to the upstream, no data reaches the hop for a
refused envelope, and the retry delivers each message once: count in ==
count out."""
import email
import email.policy
import re
import smtplib
import socketserver
import threading
import time

import pytest

from daemonutil import Daemon

SENDER = "yamada@example.jp"
RCPTS = ["x@lg.example.jp", "y@lg.example.jp", "z@lg.example.jp"]
BODY = ("From: 山田 <yamada@example.jp>\r\nTo: x@lg.example.jp\r\nSubject: 会議\r\n"
        "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=UTF-8\r\n"
        "Content-Transfer-Encoding: 8bit\r\n\r\n"
        "本文です。①②③\r\n.leading dot\r\n..two dots\r\n.\r\nend\r\n").encode()


class Hop(socketserver.ThreadingTCPServer):
    """A next hop that records each read of each connection and every
    command, answers the commands of one read together (as a pipelining
    server does), and refuses on purpose:
      refuse: recipients answered 550; data_cmd: the reply to DATA when a
      recipient was accepted (else 554 as RFC 2920 servers do); final: the
      reply after the dot."""
    allow_reuse_address = True
    daemon_threads = True

    def __init__(self, pipelining=True, lmtp=False):
        self.pipelining, self.lmtp = pipelining, lmtp
        self.refuse, self.data_cmd, self.final = set(), "354 go ahead", "250 2.0.0 queued"
        self.conns, self.messages, self.aborted, self.lock = [], [], 0, threading.Lock()
        super().__init__(("127.0.0.1", 0), HopHandler)
        self.port = self.server_address[1]
        threading.Thread(target=self.serve_forever, daemon=True).start()

    def close(self):
        self.shutdown()
        self.server_close()


class HopHandler(socketserver.BaseRequestHandler):
    def handle(self):
        srv, sock = self.server, self.request
        conn = {"reads": [], "cmds": []}
        with srv.lock:
            srv.conns.append(conn)
        sock.sendall(b"220 hop ESMTP\r\n")
        pending, in_data, sender, rcpts = b"", False, None, []
        while True:
            chunk = sock.recv(1 << 20)
            if not chunk:
                if in_data:
                    with srv.lock:
                        srv.aborted += 1
                return
            conn["reads"].append(chunk)
            pending += chunk
            out = []
            while True:
                if in_data:
                    if pending.startswith(b".\r\n"):
                        end, skip = 0, 3
                    else:
                        end, skip = pending.find(b"\r\n.\r\n"), 5
                    if end < 0:
                        break
                    body = pending[:end + 2] if skip == 5 else b""
                    pending, in_data = pending[end + skip:], False
                    lines = body.split(b"\r\n")
                    text = b"\r\n".join(l[1:] if l.startswith(b".") else l for l in lines)
                    if srv.final.startswith("2"):
                        with srv.lock:
                            srv.messages.append((sender, list(rcpts), text))
                    out += [srv.final] * (len(rcpts) if srv.lmtp else 1)
                    continue
                nl = pending.find(b"\r\n")
                if nl < 0:
                    break
                line, pending = pending[:nl].decode(), pending[nl + 2:]
                conn["cmds"].append(line)
                verb = line.split(" ")[0].upper()
                if verb in ("EHLO", "LHLO"):
                    out.append("250-hop\r\n250-SMTPUTF8\r\n" +
                               ("250-PIPELINING\r\n" if srv.pipelining else "") + "250 8BITMIME")
                elif verb == "MAIL":
                    sender, rcpts = line[10:].split(">")[0].lstrip("<"), []
                    out.append("250 2.1.0 ok")
                elif verb == "RCPT":
                    addr = line[8:].split(">")[0].lstrip("<")
                    if addr in srv.refuse:
                        out.append("550 5.1.1 no such user")
                    else:
                        rcpts.append(addr)
                        out.append("250 2.1.5 ok")
                elif verb == "DATA":
                    reply = srv.data_cmd if rcpts else "554 5.5.1 no valid recipients"
                    in_data = reply.startswith("354")
                    out.append(reply)
                elif verb == "RSET":
                    sender, rcpts = None, []
                    out.append("250 2.0.0 ok")
                elif verb == "QUIT":
                    sock.sendall(b"221 bye\r\n")
                    return
                else:
                    out.append("250 ok")
            if out:
                sock.sendall(("\r\n".join(out) + "\r\n").encode())


@pytest.fixture
def hop():
    made = []

    def make(**kw):
        h = Hop(**kw)
        made.append(h)
        return h
    yield make
    for h in made:
        h.close()


@pytest.fixture
def daemon(tmp_path):
    made = []

    def make(port):
        d = Daemon(tmp_path / f"d{len(made)}", next_hop=f"smtp:127.0.0.1:{port}")
        made.append(d)
        return d.start()
    yield make
    for d in made:
        d.stop()


def group(rcpts, rset=False):
    return ((b"RSET\r\n" if rset else b"") + f"MAIL FROM:<{SENDER}>\r\n".encode() +
            b"".join(f"RCPT TO:<{r}>\r\n".encode() for r in rcpts) + b"DATA\r\n")


def text_of(raw):
    m = email.message_from_bytes(raw, policy=email.policy.default)
    assert m["X-Mugai-Sanitized"] is not None
    return m.get_content().replace("\r\n", "\n")


def assert_legit(raw):
    """The content a reader expects survived, dot lines included."""
    text = text_of(raw)
    assert "本文です。①②③\n.leading dot\n..two dots\n.\nend" in text, text


def wait_for(cond, timeout=10):
    end = time.monotonic() + timeout
    while not cond() and time.monotonic() < end:
        time.sleep(0.02)
    return cond()


def test_envelope_arrives_in_one_read_and_the_kept_connection_leads_with_rset(hop, daemon):
    h = hop()
    d = daemon(h.port)
    with smtplib.SMTP("127.0.0.1", d.port, timeout=60) as s:
        s.ehlo("t")
        assert s.sendmail(SENDER, RCPTS, BODY) == {}
        assert s.sendmail(SENDER, RCPTS[:1], BODY) == {}
    assert len(h.messages) == 2
    assert [m[1] for m in h.messages] == [RCPTS, RCPTS[:1]]
    for m in h.messages:
        assert m[0] == SENDER
        assert_legit(m[2])
    assert len(h.conns) == 1, "the second message reuses the connection"
    reads = h.conns[0]["reads"]
    # EHLO, then one read per envelope (the body follows the 354)
    assert reads[0].startswith(b"EHLO ") and reads[0].endswith(b"\r\n")
    assert reads[1] == group(RCPTS)
    assert group(RCPTS[:1], rset=True) in reads, reads
    assert h.conns[0]["cmds"].count("RSET") == 1


def test_without_pipelining_one_command_per_read(hop, daemon):
    h = hop(pipelining=False)
    d = daemon(h.port)
    with smtplib.SMTP("127.0.0.1", d.port, timeout=60) as s:
        s.ehlo("t")
        assert s.sendmail(SENDER, RCPTS, BODY) == {}
        assert s.sendmail(SENDER, RCPTS[:1], BODY) == {}
    assert [m[1] for m in h.messages] == [RCPTS, RCPTS[:1]]
    for m in h.messages:
        assert_legit(m[2])
    reads = h.conns[0]["reads"]
    env = [r for r in reads if r[:4] in (b"MAIL", b"RCPT", b"DATA", b"RSET")]
    assert env == [f"MAIL FROM:<{SENDER}>\r\n".encode()] + \
        [f"RCPT TO:<{r}>\r\n".encode() for r in RCPTS] + [b"DATA\r\n", b"RSET\r\n",
                                                          f"MAIL FROM:<{SENDER}>\r\n".encode(),
                                                          f"RCPT TO:<{RCPTS[0]}>\r\n".encode(),
                                                          b"DATA\r\n"]


def test_one_of_three_recipients_refused_sends_no_data_then_retry_delivers_once(hop, daemon):
    h = hop()
    h.refuse = {RCPTS[1]}
    d = daemon(h.port)
    with smtplib.SMTP("127.0.0.1", d.port, timeout=60) as s:
        s.ehlo("t")
        with pytest.raises(smtplib.SMTPDataError) as e:
            s.sendmail(SENDER, RCPTS, BODY)
        assert e.value.smtp_code == 451
        assert e.value.smtp_error.startswith(b"4.4.0 Error: next hop: next hop 127.0.0.1:")
        assert b"refused RCPT: 550 5.1.1 no such user" in e.value.smtp_error
        # the hop accepted DATA (two recipients were fine): mugaid closes the
        # connection instead of sending anything, which aborts the transaction
        assert wait_for(lambda: h.aborted == 1)
        assert h.messages == []
        assert h.conns[0]["reads"][1] == group(RCPTS)
        assert len(h.conns[0]["reads"]) == 2
        h.refuse = set()
        assert s.sendmail(SENDER, RCPTS, BODY) == {}
    assert len(h.messages) == 1 and h.messages[0][1] == RCPTS
    assert_legit(h.messages[0][2])
    assert len(h.conns) == 2
    assert "status=deferred" in d.logtext() and "status=sent" in d.logtext()


def test_all_recipients_refused_no_data_rset_and_the_connection_is_kept(hop, daemon):
    h = hop()
    h.refuse = set(RCPTS)
    d = daemon(h.port)
    with smtplib.SMTP("127.0.0.1", d.port, timeout=60) as s:
        s.ehlo("t")
        with pytest.raises(smtplib.SMTPDataError) as e:
            s.sendmail(SENDER, RCPTS, BODY)
        assert e.value.smtp_code == 451 and b"refused RCPT: 550 5.1.1" in e.value.smtp_error
        assert wait_for(lambda: h.conns[0]["cmds"][-1:] == ["RSET"])
        h.refuse = set()
        assert s.sendmail(SENDER, RCPTS, BODY) == {}
    assert len(h.conns) == 1
    cmds = h.conns[0]["cmds"]
    assert cmds[1:] == (["MAIL FROM:<%s>" % SENDER] + ["RCPT TO:<%s>" % r for r in RCPTS] +
                        ["DATA", "RSET", "RSET", "MAIL FROM:<%s>" % SENDER] +
                        ["RCPT TO:<%s>" % r for r in RCPTS] + ["DATA"])
    assert h.aborted == 0 and len(h.messages) == 1
    assert_legit(h.messages[0][2])


@pytest.mark.parametrize("where", ["data-command", "after-dot"])
def test_451_to_data_is_451_then_retry_delivers_once(hop, daemon, where):
    h = hop()
    if where == "data-command":
        h.data_cmd = "451 4.3.0 try again later"
    else:
        h.final = "451 4.3.0 try again later"
    d = daemon(h.port)
    sent = 0
    with smtplib.SMTP("127.0.0.1", d.port, timeout=60) as s:
        s.ehlo("t")
        for _ in range(2):
            with pytest.raises(smtplib.SMTPDataError) as e:
                s.sendmail(SENDER, RCPTS, BODY)
            assert e.value.smtp_code == 451
            what = "DATA" if where == "data-command" else "the message"
            assert f"refused {what}: 451 4.3.0 try again later".encode() in e.value.smtp_error
        h.data_cmd, h.final = "354 go ahead", "250 2.0.0 queued"
        for _ in range(3):
            assert s.sendmail(SENDER, RCPTS, BODY) == {}
            sent += 1
    assert len(h.messages) == sent == 3
    for m in h.messages:
        assert m[1] == RCPTS
        assert_legit(m[2])
    verbs = {c.split(" ")[0] for conn in h.conns for c in conn["cmds"]}
    assert verbs <= {"EHLO", "MAIL", "RCPT", "DATA", "RSET"}, "no body line read as a command"
    if where == "data-command":
        assert len(h.conns) == 1, "refused DATA: RSET, the connection is kept"
        assert h.conns[0]["cmds"].count("RSET") == 2 + 4  # after each refusal; before each later message
    ids = re.findall(r"status=sent", d.logtext())
    assert len(ids) == 3 and d.logtext().count("status=deferred") == 2


def test_lmtp_pipelined_one_final_reply_per_recipient(hop, tmp_path):
    """LMTP (RFC 2033, whose servers pipeline): the same one-read envelope,
    then one reply per recipient after the dot, read in full, so the kept
    connection stays in step for the next message."""
    h = hop(lmtp=True)
    d = Daemon(tmp_path / "d", next_hop=f"lmtp:127.0.0.1:{h.port}").start()
    try:
        with smtplib.SMTP("127.0.0.1", d.port, timeout=60) as s:
            s.ehlo("t")
            assert s.sendmail(SENDER, RCPTS, BODY) == {}
            assert s.sendmail(SENDER, RCPTS[1:], BODY) == {}
    finally:
        d.stop()
    assert [m[1] for m in h.messages] == [RCPTS, RCPTS[1:]]
    for m in h.messages:
        assert_legit(m[2])
    assert len(h.conns) == 1
    reads = h.conns[0]["reads"]
    assert reads[0].startswith(b"LHLO ")
    assert reads[1] == group(RCPTS) and group(RCPTS[1:], rset=True) in reads
