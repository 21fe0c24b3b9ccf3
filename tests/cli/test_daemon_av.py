"""mugaid with a REAL clamd as the second opinion (issue #11 part 3): the
session streams the original to clamd with zINSTREAM before the worker
sees it. clamd (Debian clamav-daemon) is started by this module with a
signature database written here: an .hdb hash of the EICAR test file, an
.ndb body signature, and one whose name looks like a link (no freshclam, no
download). The one fake is a socket that accepts and never answers (or
answers a hostile reply): a clamd that fails on purpose.

Covered: detection (exact verdict, header tokens, notice text, report and
audit, release only with --admin), a clean mail passes, clamd down → 451
and delivery once it is back (count in = count out), clamd slow → timeout
(451, or continue with antivirus_error), a hostile reply is cleaned."""
import email.message
import email.policy
import json
import os
import shutil
import smtplib
import socket
import subprocess
import threading
import time

import pytest

from daemonutil import MUGAI, Daemon, free_port, parse
from storeutil import as_person

CLAMD = shutil.which("clamd") or "/usr/sbin/clamd"
EICAR = rb"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"
MARKER = b"MUGAI-TEST-VIRUS-MARKER-7f3a"
LINKISH = b"MUGAI-TEST-LINKISH-MARKER-91c2"
RULE = "━" * 40
RCPT = "b@city.example.lg.jp"


class Clamd:
    """A private clamd: unix socket and 127.0.0.1:port, our database only."""

    def __init__(self, d):
        import hashlib
        self.dir = str(d)
        db = os.path.join(self.dir, "db")
        os.makedirs(db, exist_ok=True)
        with open(os.path.join(db, "mugai-test.hdb"), "w") as f:
            f.write(f"{hashlib.md5(EICAR).hexdigest()}:{len(EICAR)}:Mugai.Test.EICAR\n")
        with open(os.path.join(db, "mugai-test.ndb"), "w") as f:
            f.write(f"Mugai.Test.Marker:0:*:{MARKER.hex()}\n")
            f.write(f"Mugai.www.evil.example:0:*:{LINKISH.hex()}\n")
        self.sock = os.path.join(self.dir, "clamd.ctl")
        self.port = free_port()
        self.conf = os.path.join(self.dir, "clamd.conf")
        with open(self.conf, "w") as f:
            f.write(f"Foreground yes\nLocalSocket {self.sock}\nTCPSocket {self.port}\n"
                    f"TCPAddr 127.0.0.1\nDatabaseDirectory {db}\n"
                    f"LogFile {os.path.join(self.dir, 'clamd.log')}\nStreamMaxLength 60M\n")
        self.proc = None

    def start(self, timeout=120):
        self.out = open(os.path.join(self.dir, "clamd.out"), "ab")
        self.proc = subprocess.Popen([CLAMD, "-c", self.conf], stdout=self.out,
                                     stderr=subprocess.STDOUT)
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if self.proc.poll() is not None:
                raise RuntimeError(f"clamd exited {self.proc.returncode}: " + self.log())
            try:
                with socket.socket(socket.AF_UNIX) as s:
                    s.settimeout(2)
                    s.connect(self.sock)
                    s.sendall(b"zPING\0")
                    if s.recv(16).startswith(b"PONG"):
                        return self
            except OSError:
                time.sleep(0.2)
        raise RuntimeError("clamd did not answer PING: " + self.log())

    def log(self):
        out = ""
        for n in ("clamd.out", "clamd.log"):
            p = os.path.join(self.dir, n)
            if os.path.exists(p):
                with open(p, errors="replace") as f:
                    out += f.read()[-2000:]
        return out

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc:
            self.out.close()
        if os.path.exists(self.sock):
            os.unlink(self.sock)


def clamd_missing():
    if not os.path.exists(CLAMD):
        return "clamd is not installed (Debian clamav-daemon; scripts/deps.sh installs it)"
    return None


@pytest.fixture(scope="module")
def clamd(tmp_path_factory):
    why = clamd_missing()
    if why:
        pytest.skip(why)
    c = Clamd(tmp_path_factory.mktemp("clamd"))
    try:
        c.start()
    except RuntimeError as e:
        c.stop()
        pytest.skip(f"clamd cannot run in this environment: {e}")
    yield c
    c.stop()


@pytest.fixture
def daemon(tmp_path):
    made = []

    def make(**cfg):
        cfg.setdefault("first_contact_days", "0")   # tests/cli/test_daemon_sender.py
        d = Daemon(tmp_path / f"d{len(made)}", **cfg)
        made.append(d)
        return d.start()
    yield make
    for d in made:
        d.stop()


class Fake:
    """A clamd that fails on purpose: accepts on a unix socket, reads the
    stream, then never answers (reply=None) or answers `reply`."""

    def __init__(self, path, reply=None):
        self.path, self.reply, self.conns = path, reply, []
        self.srv = socket.socket(socket.AF_UNIX)
        self.srv.bind(path)
        self.srv.listen(8)
        self.stopped = False
        threading.Thread(target=self.loop, daemon=True).start()

    def loop(self):
        while not self.stopped:
            try:
                c, _ = self.srv.accept()
            except OSError:
                return
            self.conns.append(c)
            threading.Thread(target=self.serve, args=(c,), daemon=True).start()

    def serve(self, c):
        buf = b""
        try:
            while not buf.endswith(b"\0\0\0\0"):
                b = c.recv(65536)
                if not b:
                    return
                buf += b
            if self.reply is not None:
                c.sendall(self.reply)
        except OSError:
            pass

    def close(self):
        self.stopped = True
        self.srv.close()
        for c in self.conns:
            c.close()


def mail(subject, body="本文です。\n", attach=None):
    m = email.message.EmailMessage()
    m["From"] = "取引先 <sales@example.jp>"
    m["To"] = RCPT
    m["Subject"] = subject
    m.set_content(body)
    if attach:
        m.add_attachment(attach, maintype="application", subtype="octet-stream",
                         filename="invoice.com")
    return m.as_bytes(policy=email.policy.SMTP)


def send(d, data):
    with smtplib.SMTP("127.0.0.1", d.port, timeout=120) as s:
        s.ehlo("test")
        return s.sendmail("sales@example.jp", [RCPT], data)


def send_code(d, data):
    """(code, text) of the reply to the end of DATA."""
    try:
        send(d, data)
        return 250, ""
    except smtplib.SMTPDataError as e:
        return e.smtp_code, e.smtp_error.decode()


def qcli(d, *args, env=None):
    return subprocess.run([MUGAI, "quarantine", "-c", d.cf, *args], capture_output=True,
                          timeout=60, text=True, env=env)


def report(d, qid):
    r = qcli(d, "show", qid, "--json")
    assert r.returncode == 0, r.stderr
    rep = json.loads(r.stdout)["report"]
    return json.loads(rep) if isinstance(rep, str) else rep


def audit(d):
    r = subprocess.run([MUGAI, "audit", "-c", d.cf, "export"], capture_output=True,
                       timeout=60, text=True)
    assert r.returncode == 0, r.stderr
    return [json.loads(l) for l in r.stdout.splitlines() if l.strip()]


def verdict_details(d, qid):
    recs = [a for a in audit(d) if a["action"] == "mail.verdict" and a["object"] == qid]
    assert len(recs) == 1, recs
    det = recs[0]["details"]
    return json.loads(det) if isinstance(det, str) else det


def only_delivered(d):
    files = d.delivered(RCPT)
    assert len(files) == 1, files
    return parse(files[0])


def text(m):
    return m.get_content().replace("\r\n", "\n")


def qid_of(m):
    return str(m["X-Mugai-Sanitized"]).split("id=")[1]


def virus_notice(qid, sig, subject):
    return "\n".join([
        RULE,
        "【隔離】このメールは安全に変換できない内容を含むため、本文を配信せず隔離しました。",
        f"注意: ウイルス対策ソフトがウイルス「{sig}」を検出したため、このメールを隔離しました。"
        "原本の取り出しには管理者の承認が必要です。",
        "差出人: 「取引先 <sales[@]example[.]jp>」",
        "宛先: 「b[@]city[.]example[.]lg[.]jp」",
        f"件名: 「{subject}」",
        "隔離の理由:",
        "  - ウイルスを検出しました",
        f"原本が必要な場合は、次の ID を添えて管理者にお問い合わせください: {qid}",
        RULE, "", ""])


def test_eicar_attachment_quarantined_and_only_an_admin_releases_it(clamd, daemon):
    d = daemon(antivirus=f"clamd:{clamd.sock}")
    data = mail("請求書", attach=EICAR)
    assert send(d, data) == {}
    m = only_delivered(d)
    qid = qid_of(m)
    assert str(m["X-Mugai-Sanitized"]) == f"verdict=quarantined; actions=HOLD AV; id={qid}"
    assert m["X-Mugai-Warning"] is None
    assert str(m["Subject"]) == "[無害化:隔離] 請求書"
    assert not m.is_multipart()
    assert text(m) == virus_notice(qid, "Mugai.Test.EICAR.UNOFFICIAL", "請求書")
    assert EICAR not in open(d.delivered(RCPT)[0], "rb").read()
    rep = report(d, qid)
    assert (rep["verdict"], rep["antivirus"], rep["virus"], rep["antivirus_error"]) == \
        ("quarantined", "virus", "Mugai.Test.EICAR.UNOFFICIAL", None)
    assert rep["actions"] == ["HOLD", "AV"]
    det = verdict_details(d, qid)
    assert (det["antivirus"], det["virus"]) == ("virus", "Mugai.Test.EICAR.UNOFFICIAL")
    assert "virus Mugai.Test.EICAR.UNOFFICIAL found" in d.logtext()
    # the two-person clerk flow is not enough: an administrator must approve
    clerk, clerk_actor = as_person("clerk")
    assert qcli(d, "request", qid, "--reason", "取引先の請求書", env=clerk).returncode == 0
    r = qcli(d, "approve", qid, "-o", os.path.join(d.dir, "x.eml"), env=as_person("kacho")[0])
    assert r.returncode == 65
    assert "only an administrator may release it (approve --admin)" in r.stderr
    assert not os.path.exists(os.path.join(d.dir, "x.eml"))
    refused = [a for a in audit(d) if a["action"] == "quarantine.approve.refused"]
    assert len(refused) == 1 and refused[0]["object"] == qid
    out = os.path.join(d.dir, "orig.eml")
    r = qcli(d, "approve", qid, "--admin", "-o", out, env=as_person("admin")[0])
    assert r.returncode == 0, r.stderr
    with open(out, "rb") as f:
        assert f.read() == data.replace(b"\r\n", b"\r\n")
    ok = [a for a in audit(d) if a["action"] == "quarantine.approve" and a["object"] == qid]
    det = ok[0]["details"]
    det = json.loads(det) if isinstance(det, str) else det
    assert det == {"requested_by": clerk_actor, "admin": True}


def test_ndb_signature_over_tcp(clamd, daemon):
    d = daemon(antivirus=f"clamd:127.0.0.1:{clamd.port}")
    assert send(d, mail("見積", body=f"本文 {MARKER.decode()}\n")) == {}
    m = only_delivered(d)
    qid = qid_of(m)
    assert text(m) == virus_notice(qid, "Mugai.Test.Marker.UNOFFICIAL", "見積")
    assert report(d, qid)["virus"] == "Mugai.Test.Marker.UNOFFICIAL"


def test_signature_name_goes_through_the_writer(clamd, daemon):
    """A signature name is text we did not write: it is quoted 「…」 by the
    writer like any sender string (clamd's ".UNOFFICIAL" ends it, so it is
    no host name to disarm) and the output check passes."""
    d = daemon(antivirus=f"clamd:{clamd.sock}")
    assert send(d, mail("linkish", body=f"x {LINKISH.decode()}\n")) == {}
    m = only_delivered(d)
    qid = qid_of(m)
    assert text(m) == virus_notice(qid, "Mugai.www.evil.example.UNOFFICIAL", "linkish")
    assert report(d, qid)["output_check"] is None
    assert report(d, qid)["virus"] == "Mugai.www.evil.example.UNOFFICIAL"


def test_clean_mail_passes_with_its_text(clamd, daemon):
    d = daemon(antivirus=f"clamd:{clamd.sock}")
    assert send(d, mail("会議", body="明日の会議は 10 時からです。\n")) == {}
    m = only_delivered(d)
    qid = qid_of(m)
    assert str(m["X-Mugai-Sanitized"]) == f"verdict=clean; id={qid}"
    assert "明日の会議は 10 時からです。" in text(m)
    rep = report(d, qid)
    assert (rep["verdict"], rep["antivirus"], rep["virus"]) == ("clean", "clean", None)
    assert verdict_details(d, qid)["antivirus"] == "clean"


def test_clamd_down_451_then_delivered_once_back_count_in_equals_out(tmp_path, daemon):
    why = clamd_missing()
    if why:
        pytest.skip(why)
    c = Clamd(tmp_path / "clamd2")
    d = daemon(antivirus=f"clamd:{c.sock}")
    msgs = [mail(f"down {i}", body=f"本文 {i}\n") for i in range(3)]
    try:
        for data in msgs:
            code, text = send_code(d, data)
            assert code == 451, text
            assert text == ("4.7.0 Error: antivirus unavailable: clamd connect: "
                            "No such file or directory, try again later")
        assert d.delivered(RCPT) == []
        end = time.monotonic() + 5   # the metrics file is rewritten every second
        while d.metrics().get('mugaid_tempfail_total{reason="antivirus"}') != 3:
            assert time.monotonic() < end, d.metrics()
            time.sleep(0.2)
        try:
            c.start()
        except RuntimeError as e:
            pytest.skip(f"clamd cannot run in this environment: {e}")
        for data in msgs:      # what the upstream MTA's retry does
            assert send_code(d, data) == (250, "")
    finally:
        c.stop()
    files = d.delivered(RCPT)
    assert len(files) == len(msgs)
    subjects = sorted(str(parse(f)["Subject"]) for f in files)
    assert subjects == ["down 0", "down 1", "down 2"]


def test_clamd_slow_times_out_451(tmp_path, daemon):
    fake = Fake(str(tmp_path / "slow.ctl"))
    try:
        d = daemon(antivirus=f"clamd:{fake.path}", antivirus_timeout="2")
        t0 = time.monotonic()
        code, text = send_code(d, mail("slow"))
        took = time.monotonic() - t0
    finally:
        fake.close()
    assert code == 451
    assert text == "4.7.0 Error: antivirus unavailable: clamd reply: timeout, try again later"
    assert 1.5 < took < 10
    assert d.delivered(RCPT) == []


def test_clamd_slow_continue_delivers_with_the_error_recorded(tmp_path, daemon):
    fake = Fake(str(tmp_path / "slow.ctl"))
    try:
        d = daemon(antivirus=f"clamd:{fake.path}", antivirus_timeout="1",
                   antivirus_on_error="continue")
        assert send(d, mail("continue", body="届くべき本文\n")) == {}
    finally:
        fake.close()
    m = only_delivered(d)
    qid = qid_of(m)
    assert "届くべき本文" in text(m)
    assert str(m["X-Mugai-Sanitized"]) == f"verdict=clean; id={qid}"
    rep = report(d, qid)
    assert (rep["antivirus"], rep["antivirus_error"], rep["virus"]) == \
        ("error", "clamd reply: timeout", None)
    det = verdict_details(d, qid)
    assert (det["antivirus"], det["antivirus_error"]) == ("error", "clamd reply: timeout")
    assert "continuing without it (antivirus_on_error = continue)" in d.logtext()


def test_hostile_reply_is_cleaned(tmp_path, daemon):
    """clamd read the attacker's bytes: its reply is parsed, never trusted.
    Controls and a bidi override in a signature name become '?'."""
    fake = Fake(str(tmp_path / "evil.ctl"),
                reply="stream: Evil\u202eName\x1b[31m FOUND\0".encode())
    try:
        d = daemon(antivirus=f"clamd:{fake.path}")
        assert send(d, mail("hostile")) == {}
    finally:
        fake.close()
    m = only_delivered(d)
    qid = qid_of(m)
    assert report(d, qid)["virus"] == "Evil???Name?[31m"
    assert text(m) == virus_notice(qid, "Evil???Name?[31m", "hostile")


def test_clamd_error_reply_is_an_error_not_a_pass(tmp_path, daemon):
    fake = Fake(str(tmp_path / "err.ctl"), reply=b"INSTREAM size limit exceeded. ERROR\0")
    try:
        d = daemon(antivirus=f"clamd:{fake.path}")
        code, text = send_code(d, mail("too big for clamd"))
    finally:
        fake.close()
    assert code == 451
    assert text == ("4.7.0 Error: antivirus unavailable: clamd: INSTREAM size limit "
                    "exceeded. ERROR, try again later")


@pytest.mark.parametrize("value,msg", [
    ("clamd:relative.ctl", "antivirus: want clamd:/path or clamd:IP:PORT, got 'clamd:relative.ctl'"),
    ("clamd:localhost:3310", "antivirus: clamd host 'localhost' must be a numeric IP address"),
    ("clamav:/run/clamav/clamd.ctl", "antivirus: want none, clamd:/path or clamd:IP:PORT"),
])
def test_bad_antivirus_value_refuses_to_start(tmp_path, value, msg):
    d = Daemon(tmp_path, antivirus=value)
    r = subprocess.run([os.environ.get("MUGAID", "build/mugaid"), "-f", "-c", d.cf],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 78, r.stderr
    assert msg in r.stderr
