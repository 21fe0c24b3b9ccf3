"""What the end-to-end suites share: mugaid started on a private Postfix
(Mugaid, its config lines given by each suite), the module's working
directory with the state directory on a small tmpfs (e2e_base), the mails
the suites send (make, iso2022jp_nec) and the ledger of what was sent
against what arrived (Ledger: submit, delivered, wait_all,
check_exactly_once_and_sanitized)."""
import collections
import contextlib
import email
import email.message
import email.policy
import email.utils
import os
import signal
import smtplib
import sqlite3
import subprocess
import tempfile
import time

from pfinstance import ensure_user

MUGAID = os.environ.get("MUGAID", "build/mugaid")
DOMAIN = "lg.example.jp"


class Mugaid:
    """mugaid in the foreground with the config lines `lines` (the state,
    metrics and pid files are added here)."""

    def __init__(self, base, lines):
        self.base = base
        self.state = f"{base}/state"
        self.cf = f"{base}/mugaid.cf"
        self.logpath = f"{base}/mugaid.log"
        self.proc = None
        self.mounted = False
        with open(self.cf, "w") as f:
            f.write(lines + f"state_dir = {self.state}\nmetrics_file = {self.state}/mugaid.prom\n"
                    f"pid_file = {self.state}/mugaid.pid\nuser = mugai\n")

    def start(self, env=None):
        e = dict(os.environ, **(env or {}))
        self.proc = subprocess.Popen([MUGAID, "-f", "-c", self.cf], env=e,
                                     stdout=open(self.logpath, "ab"), stderr=subprocess.STDOUT)
        end = time.monotonic() + 15
        while "mugaid ready" not in self.log()[-2000:] and time.monotonic() < end:
            assert self.proc.poll() is None, self.log()
            time.sleep(0.05)
        time.sleep(0.2)

    def stop(self, sig=signal.SIGTERM):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def log(self):
        try:
            with open(self.logpath, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def db(self, write=False):
        if write:
            return sqlite3.connect(f"{self.state}/mugai.db", timeout=30)
        return sqlite3.connect(f"file:{self.state}/mugai.db?mode=ro", uri=True, timeout=30)


@contextlib.contextmanager
def e2e_base(prefix, pf_factory, mugaid_factory, tmpfs=True):
    """A working directory, Postfix and mugaid started in it (the state
    directory on a 48 MB tmpfs when `tmpfs` and mount works: m.mounted);
    everything stopped and removed afterwards (kept with E2E_KEEP)."""
    base = tempfile.mkdtemp(prefix=prefix, dir="/tmp")  # postfix and nobody traverse it
    os.chmod(base, 0o755)
    user = ensure_user()
    pf = pf_factory(base).setup()
    m = mugaid_factory(base, pf)
    os.makedirs(m.state)
    if tmpfs:
        m.mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=48m,mode=0700", "tmpfs",
                                    m.state]).returncode == 0
    os.chown(m.state, user.pw_uid, user.pw_gid)
    try:
        pf.start()
        m.start()
        yield base, pf, m
    finally:
        m.stop()
        pf.stop()
        if m.mounted:
            subprocess.run(["umount", "-l", m.state])
        if os.environ.get("E2E_KEEP") is None:
            subprocess.run(["rm", "-rf", base])


def make(subject, body="本文", html=None, attach=None, charset="utf-8"):
    msg = email.message.EmailMessage()
    msg["From"] = "送信者 <sender@example.jp>"
    msg["To"] = f"taro@{DOMAIN}"
    msg["Subject"] = subject
    msg["Message-ID"] = email.utils.make_msgid(domain="e2e.test")
    if body is None:
        msg.set_content(html, subtype="html")
    else:
        msg.set_content(body, charset=charset)
    if html and body is not None:
        msg.add_alternative(html, subtype="html")
    if attach:
        msg.add_attachment(attach[1], maintype="application", subtype="octet-stream",
                           filename=attach[0])
    return msg


def iso2022jp_nec():
    """ISO-2022-JP with NEC row 13 (①②③) that Python's codec cannot write."""
    body = (b"\x1b$B\x46\x7c\x4b\x5c\x38\x6c\x1b(B: \x1b$B\x2d\x21\x2d\x22\x2d\x23\x1b(B\r\n")
    mid = email.utils.make_msgid(domain="e2e.test")
    return (f"From: sender@example.jp\r\nTo: taro@{DOMAIN}\r\nSubject: =?ISO-2022-JP?B?"
            f"GyRCRnxLXDhsGyhC?=\r\nMessage-ID: {mid}\r\nMIME-Version: 1.0\r\n"
            "Content-Type: text/plain; charset=ISO-2022-JP\r\n"
            "Content-Transfer-Encoding: 7bit\r\n\r\n").encode() + body


def delivered(pf):
    """(Message-ID, Delivered-To) -> count, and every parsed message."""
    counts, msgs = collections.Counter(), []
    for path in pf.delivered_files():
        with open(path, "rb") as f:
            m = email.message_from_binary_file(f, policy=email.policy.default)
        msgs.append(m)
        counts[(m["Message-ID"], m["Delivered-To"])] += 1
    return counts, msgs


class Ledger:
    """What a suite sent (Message-ID -> recipients), to be found delivered
    exactly once per recipient."""

    def __init__(self, rebuilt_headers=False):
        self.sent = {}
        self.rebuilt_headers = rebuilt_headers  # the milter front: none of the sender's left

    def submit(self, pf, msgs, rcpts, record=True):
        with smtplib.SMTP("127.0.0.1", pf.smtp_port, timeout=120) as s:
            for m in msgs:
                raw = m if isinstance(m, bytes) else m.as_bytes()
                mid = email.message_from_bytes(raw, policy=email.policy.default)["Message-ID"]
                s.sendmail("sender@example.jp", rcpts, raw)
                if record:
                    self.sent[mid] = list(rcpts)

    def wait_all(self, pf, timeout=90):
        want = {(mid, r) for mid, rs in self.sent.items() for r in rs}
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            counts, _ = delivered(pf)
            if want <= set(counts):
                return
            time.sleep(0.3)
        counts, _ = delivered(pf)
        raise AssertionError(f"missing: {sorted(want - set(counts))[:5]}\n{pf.log()[-3000:]}")

    def check_exactly_once_and_sanitized(self, pf):
        counts, msgs = delivered(pf)
        for m in msgs:
            assert not m.is_multipart() and m.get_content_type() == "text/plain", m
            assert m["X-Mugai-Sanitized"], m
            if self.rebuilt_headers:
                assert len(m.get_all("X-Mugai-Sanitized")) == 1, m
                # none of the sender's headers survive; Postfix's own trace may
                assert m["X-Evil"] is None and m["Content-Disposition"] is None, m
        dup = {k: v for k, v in counts.items() if v != 1 and k[0] is not None}
        assert not dup, dup
        return counts, msgs

    def expected(self):
        return sum(len(r) for r in self.sent.values())
