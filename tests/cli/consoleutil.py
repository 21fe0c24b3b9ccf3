"""Helpers for the console tests: a store with accounts, `mugai console` on a
free loopback port, TOTP computed from the otpauth secret (RFC 6238), and a
small HTTP client that keeps cookies and follows nothing by itself."""
import base64
import hashlib
import hmac
import html
import http.client
import json
import os
import re
import signal
import socket
import struct
import subprocess
import sys
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(__file__))
from storeutil import MUGAI, Store  # noqa: E402

MSG_BAD_LOGIN = "ユーザー名、パスワード、または確認コードが正しくありません。"
MSG_LOCKED = ("ログインに続けて失敗したため、このアカウントは一時的にロックされています。"
              "しばらく待ってからログインするか、管理者に連絡してください。")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def totp(secret, t=None, step=30):
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    counter = int((time.time() if t is None else t) // step)
    mac = hmac.new(key, struct.pack(">Q", counter), hashlib.sha1).digest()
    off = mac[-1] & 0x0F
    return "%06d" % ((struct.unpack(">I", mac[off:off + 4])[0] & 0x7FFFFFFF) % 1000000)


class Account:
    def __init__(self, name, password, uri):
        self.name, self.password, self.uri = name, password, uri
        q = urllib.parse.parse_qs(urllib.parse.urlparse(uri).query)
        self.secret = q["secret"][0]
        self.logins = 0

    def code(self):
        """A code the console accepts: each login uses the next step (a used
        step is never accepted again; the window is one step either side)."""
        c = totp(self.secret, time.time() + 30 * self.logins)
        self.logins += 1
        return c


class Console(Store):
    def __init__(self, tmp, **cfg):
        self.port = free_port()
        cfg.setdefault("console_listen", f"127.0.0.1:{self.port}")
        super().__init__(tmp, **cfg)
        self.proc = None

    def user_add(self, name, role, *addrs, dept=None):
        args = ["user", "add", name, "--role", role]
        for a in addrs:
            args += ["--addr", a]
        if dept is not None:
            args += ["--dept", dept]
        out = self.run(*args, check=0).stdout.decode()
        m = re.fullmatch(r"password: (\S+)\ntotp: (otpauth://\S+)\n", out)
        assert m, out
        return Account(name, m.group(1), m.group(2))

    def put_mail(self, rcpt, subject="請求書の件", sender="taro@example.co.jp",
                 verdict="sanitized", removed=(), limits=()):
        rep = {"verdict": verdict, "removed": [
            {"filename": n, "content_type": "application/octet-stream", "size": 10,
             "reason": r} for n, r in removed], "limits_hit": list(limits)}
        rp = os.path.join(self.dir, "report.json")
        with open(rp, "w") as f:
            json.dump(rep, f, ensure_ascii=False)
        return self.put(b"From: x\r\n\r\nbody\r\n", verdict, "--rcpt", rcpt, "--sender", sender,
                        "--from", f"山田 太郎 <{sender}>", "--subject", subject,
                        "--report", rp)

    def start(self):
        self.proc = subprocess.Popen([MUGAI, "console", "-c", self.cf],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        end = time.monotonic() + 15
        while time.monotonic() < end:
            assert self.proc.poll() is None, self.proc.stderr.read()
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return self
            except OSError:
                time.sleep(0.05)
        raise AssertionError("console not listening")

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(timeout=10)
        if self.proc:
            self.proc.stdout.close()
            self.proc.stderr.close()

    def client(self):
        return Client(self.port)

    def audit(self, action):
        return self.sql("SELECT actor, object, details FROM audit WHERE action=? ORDER BY seq",
                        action)


class Response:
    def __init__(self, r):
        self.status = r.status
        self.headers = r.getheaders()
        self.body = r.read().decode("utf-8")

    def header(self, name):
        return [v for k, v in self.headers if k.lower() == name.lower()]


class Client:
    def __init__(self, port):
        self.port = port
        self.cookies = {}

    def request(self, method, path, body=None, headers=None):
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        h = dict(headers or {})
        if self.cookies:
            h["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if body is not None and not isinstance(body, bytes):
            body = urllib.parse.urlencode(body).encode()
            h.setdefault("Content-Type", "application/x-www-form-urlencoded")
        c.request(method, path, body=body, headers=h)
        r = Response(c.getresponse())
        c.close()
        for sc in r.header("Set-Cookie"):
            k, v = sc.split(";", 1)[0].split("=", 1)
            if "Max-Age=0" in sc:
                self.cookies.pop(k, None)
            else:
                self.cookies[k] = v
        return r

    def get(self, path):
        return self.request("GET", path)

    def post(self, path, fields, csrf=True):
        if csrf is True:
            csrf = self.csrf
        if csrf:
            fields = dict(fields, csrf=csrf)
        return self.request("POST", path, fields)

    @staticmethod
    def hidden_csrf(body):
        m = re.search(r'name="csrf" value="([^"]+)"', body)
        return m.group(1) if m else None

    def login(self, acct, password=None, code=None):
        page = self.get("/login")
        assert page.status == 200, page.body
        fields = {"user": acct.name,
                  "password": acct.password if password is None else password,
                  "otp": acct.code() if code is None else code}
        r = self.post("/login", fields, csrf=self.hidden_csrf(page.body))
        if r.status == 303:
            home = self.get("/")
            self.csrf = self.hidden_csrf(home.body)
        return r


def text(body):
    """The page's text with tags and line ends removed, entities decoded."""
    return html.unescape(re.sub(r"<[^>]+>", "", body)).replace("\n", "")
