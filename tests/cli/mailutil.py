"""Helpers for mail sanitizer CLI tests: run `mugai mail sanitize` on bytes
and read the result back with Python's email parser (an independent MIME
implementation), so every assertion is about what a real client would see."""
import email
import email.policy
import json
import os
import resource
import subprocess
import tempfile
import time

MUGAI = os.environ.get("MUGAI", "build/mugai")
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CORPUS = os.path.join(os.path.dirname(ROOT), "shared", "corpus")


class Result:
    def __init__(self, raw, report, seconds):
        self.raw = raw
        self.report = report
        self.seconds = seconds
        self.msg = email.message_from_bytes(raw, policy=email.policy.default)
        first = next(self.msg.iter_parts()) if self.msg.is_multipart() else self.msg
        assert first.get_content_type() == "text/plain"
        self.text = (first.get_payload(decode=True) or b"").decode("utf-8")
        # the notice block ends at the second rule line and a blank line
        self.notice, _, self.body = self.text.partition("\r\n\r\n")
        self.body = self.body.replace("\r\n", "\n")

    @property
    def verdict(self):
        return self.report["verdict"]


def _limit_memory(max_bytes):
    def f():
        resource.setrlimit(resource.RLIMIT_AS, (max_bytes, max_bytes))
    return f


def sanitize(data, *, config=None, timeout=60, mem=4 << 30, extra=(), env=None):
    """Sanitize `data` (bytes or str); returns Result. Bounded in time and memory."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    with tempfile.TemporaryDirectory() as d:
        inp, out, rep = (os.path.join(d, n) for n in ("in.eml", "out.eml", "r.json"))
        with open(inp, "wb") as f:
            f.write(data)
        args = [MUGAI, "mail", "sanitize", "-r", rep, *extra]
        if config is not None:
            cf = os.path.join(d, "mugai.cf")
            with open(cf, "w") as f:
                f.write(config)
            args += ["-c", cf]
        t0 = time.monotonic()
        r = subprocess.run(args + [inp, out], capture_output=True, timeout=timeout,
                           preexec_fn=_limit_memory(mem),
                           env=None if env is None else {**os.environ, **env})
        dt = time.monotonic() - t0
        assert r.returncode == 0, r.stderr.decode(errors="replace")
        with open(out, "rb") as f:
            raw = f.read()
        with open(rep) as f:
            report = json.load(f)
    if report["verdict"] != "quarantined":
        # exact accounting on every test mail: each MIME leaf is rendered or listed
        assert report["parts_total"] == report["parts_rendered"] + report["parts_listed"], report
    return Result(raw, report, dt)


def check_wire_format(raw):
    """Rebuilt output: CRLF only, 7-bit, lines <= 998 octets."""
    assert b"\r\n" in raw
    assert b"\n" not in raw.replace(b"\r\n", b"")
    assert b"\r" not in raw.replace(b"\r\n", b"")
    assert all(b < 0x80 for b in raw), "output must be 7-bit"
    assert max(len(l) for l in raw.split(b"\r\n")) <= 998


def msg(headers, body, *, ctype="text/plain; charset=utf-8", cte=None):
    """Build a simple message as bytes (LF line ends)."""
    h = dict(headers)
    lines = [f"{k}: {v}" for k, v in h.items()]
    lines.append("MIME-Version: 1.0")
    lines.append(f"Content-Type: {ctype}")
    if cte:
        lines.append(f"Content-Transfer-Encoding: {cte}")
    if isinstance(body, str):
        body = body.encode("utf-8")
    return ("\n".join(lines) + "\n\n").encode("utf-8") + body
