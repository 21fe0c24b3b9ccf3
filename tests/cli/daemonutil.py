"""Helpers for mugaid tests: start the daemon on a free loopback port with a
temp state_dir, talk SMTP to it with smtplib, and run a Python SMTP sink as
the next hop (the sink can refuse on purpose: the one mock, for a component
that fails on purpose)."""
import email
import email.policy
import glob
import os
import signal
import socket
import socketserver
import subprocess
import threading
import time

MUGAID = os.environ.get("MUGAID", "build/mugaid")
MUGAI = os.environ.get("MUGAI", "build/mugai")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, timeout=15, proc=None):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if proc is not None and proc.poll() is not None:
            raise AssertionError(f"mugaid exited {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                s.recv(100)
                return
        except OSError:
            time.sleep(0.05)
    raise AssertionError(f"port {port} not listening")


class Daemon:
    def __init__(self, tmp, env=None, **cfg):
        self.dir = str(tmp)
        os.makedirs(self.dir, exist_ok=True)
        self.state = os.path.join(self.dir, "var")
        self.maildir = os.path.join(self.dir, "maildir")
        self.port = free_port()
        self.cf = os.path.join(self.dir, "mugaid.cf")
        self.log = os.path.join(self.dir, "mugaid.log")
        self.cfg = {"listen": f"127.0.0.1:{self.port}", "state_dir": self.state,
                    "next_hop": f"maildir:{self.maildir}", "max_sessions": "2",
                    "metrics_file": os.path.join(self.state, "mugaid.prom"), "user": "",
                    "smtp_timeout": "30"}
        self.cfg.update(cfg)
        self.env = dict(os.environ, **(env or {}))
        self.proc = None
        self.write_config()

    def write_config(self, **more):
        self.cfg.update(more)
        with open(self.cf, "w") as f:
            for k, v in self.cfg.items():
                f.write(f"{k} = {v}\n")

    def start(self):
        self.logf = open(self.log, "ab")
        self.proc = subprocess.Popen([MUGAID, "-f", "-c", self.cf], stdout=self.logf,
                                     stderr=subprocess.STDOUT, env=self.env)
        wait_port(self.port, proc=self.proc)
        return self

    def stop(self, sig=signal.SIGTERM, timeout=60):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc:
            self.logf.close()
        return self.proc.returncode if self.proc else None

    def logtext(self):
        with open(self.log, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def delivered(self, rcpt):
        return sorted(glob.glob(os.path.join(self.maildir, rcpt.lower(), "new", "*")))

    def metrics(self):
        out = {}
        with open(self.cfg["metrics_file"]) as f:
            for line in f:
                if line and not line.startswith("#"):
                    k, v = line.rsplit(" ", 1)
                    out[k] = int(v)
        return out

    def quarantine_get(self, qid):
        path = os.path.join(self.dir, f"{qid}.orig")
        r = subprocess.run([MUGAI, "quarantine", "-c", self.cf, "get", qid, "-o", path],
                           capture_output=True, timeout=30)
        assert r.returncode == 0, r.stderr
        with open(path, "rb") as f:
            return f.read()


def parse(path):
    with open(path, "rb") as f:
        return email.message_from_binary_file(f, policy=email.policy.default)


def assert_sanitized(msg):
    """One text/plain part, the X-Mugai-Sanitized header: what a reader sees."""
    assert not msg.is_multipart()
    assert msg.get_content_type() == "text/plain"
    assert msg["X-Mugai-Sanitized"] is not None
    return msg.get_content()


class Sink(socketserver.ThreadingTCPServer):
    """A next-hop SMTP server that records (from, rcpts, data), or refuses
    on purpose (mode: 'accept' | 'refuse-rcpt' | 'refuse-data'; and in any
    mode RCPT of an address in refuse_rcpts). A DATA the client leaves
    before its final dot is kept in aborted, never in messages."""
    allow_reuse_address = True
    daemon_threads = True

    def __init__(self, mode="accept", lmtp=False):
        self.mode, self.lmtp, self.messages, self.aborted = mode, lmtp, [], []
        self.refuse_rcpts = set()
        super().__init__(("127.0.0.1", 0), SinkHandler)
        self.port = self.server_address[1]
        threading.Thread(target=self.serve_forever, daemon=True).start()

    def close(self):
        self.shutdown()
        self.server_close()


class SinkHandler(socketserver.StreamRequestHandler):
    def say(self, line):
        self.wfile.write(line.encode() + b"\r\n")

    def handle(self):
        srv, rcpts, sender = self.server, [], None
        self.say("220 sink ESMTP")
        while True:
            line = self.rfile.readline()
            if not line:
                return
            cmd = line.decode("utf-8", "replace").strip()
            verb = cmd.split(" ")[0].upper()
            if verb in ("EHLO", "LHLO"):
                self.say("250-sink\r\n250-SMTPUTF8\r\n250 8BITMIME")
            elif verb == "MAIL":
                sender, rcpts = cmd[10:].split(">")[0].lstrip("<"), []
                self.say("250 2.1.0 ok")
            elif verb == "RCPT":
                if srv.mode == "refuse-rcpt" or \
                        cmd[8:].split(">")[0].lstrip("<") in srv.refuse_rcpts:
                    self.say("450 4.2.0 mailbox busy")
                    continue
                rcpts.append(cmd[8:].split(">")[0].lstrip("<"))
                self.say("250 2.1.5 ok")
            elif verb == "DATA":
                self.say("354 go")
                data = b""
                while True:
                    l = self.rfile.readline()
                    if l in (b".\r\n", b""):
                        break
                    data += l[1:] if l.startswith(b"..") else l
                if l == b"":  # the client left before the final dot: nothing is kept
                    srv.aborted.append((sender, rcpts, data))
                    return
                if srv.mode == "refuse-data":
                    self.say("452 4.3.1 insufficient storage")
                    continue
                srv.messages.append((sender, rcpts, data))
                for _ in (rcpts if srv.lmtp else [0]):
                    self.say("250 2.0.0 queued")
            elif verb == "QUIT":
                self.say("221 bye")
                return
            else:
                self.say("250 ok")
