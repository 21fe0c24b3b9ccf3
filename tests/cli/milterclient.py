"""A small milter client (the MTA's side of the milter protocol, version 6)
for mugaid's tests: it negotiates like Postfix, sends the macros Postfix
sends by default, the envelope, the headers one packet each and the body
in 64 KiB chunks, collects the actions at end of message and applies them
to its own copy of the message the way an MTA does (SMFIR_CHGHEADER by
name and occurrence, SMFIR_ADDHEADER at the end, SMFIR_REPLBODY)."""
import socket
import struct

# Postfix 3.x offers every action and every protocol step it can skip
ACTIONS_ALL = 0x1FF
PROTO_ALL = 0x1FFFFF
NR_FLAGS = {b"C": 0x1000, b"H": 0x2000, b"M": 0x4000, b"R": 0x8000, b"T": 0x10000,
            b"U": 0x20000, b"N": 0x40000, b"B": 0x80000, b"L": 0x80}
NOHELO, NODATA, NOUNKNOWN, LEADSPC = 0x2, 0x200, 0x100, 0x100000


class MilterClosed(Exception):
    pass


def packet(cmd, data=b""):
    return struct.pack(">I", len(data) + 1) + cmd + data


def split_message(raw):
    """(headers [(name, value)], body) as an MTA sees them: the value is all
    after the colon (leading space kept), folded lines joined by CRLF."""
    head, _, body = raw.partition(b"\r\n\r\n")
    headers = []
    for line in head.split(b"\r\n"):
        if line[:1] in (b" ", b"\t") and headers:
            n, v = headers[-1]
            headers[-1] = (n, v + b"\r\n" + line)
        else:
            n, _, v = line.partition(b":")
            headers.append((n, v))
    return headers, body


class MilterClient:
    def __init__(self, port, actions=ACTIONS_ALL, proto=PROTO_ALL, timeout=60):
        self.s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.buf = b""
        self.send(b"O", struct.pack(">III", 6, actions, proto))
        cmd, data = self.recv()
        assert cmd == b"O", (cmd, data)
        self.version, self.actions, self.proto = struct.unpack(">III", data[:12])

    def close(self):
        try:
            self.send(b"Q")
        except OSError:
            pass
        self.s.close()

    def send(self, cmd, data=b""):
        self.s.sendall(packet(cmd, data))

    def recv(self):
        while len(self.buf) < 4 or len(self.buf) < 4 + struct.unpack(">I", self.buf[:4])[0]:
            chunk = self.s.recv(65536)
            if not chunk:
                raise MilterClosed(self.buf)
            self.buf += chunk
        n = struct.unpack(">I", self.buf[:4])[0]
        pkt, self.buf = self.buf[4:4 + n], self.buf[4 + n:]
        return pkt[:1], pkt[1:]

    def step(self, cmd, data=b""):
        """Send a command; its reply unless negotiated away."""
        self.send(cmd, data)
        if self.proto & NR_FLAGS.get(cmd, 0):
            return None
        return self.recv()

    def macro(self, stage, pairs):
        self.send(b"D", stage + b"".join(k + b"\0" + v + b"\0" for k, v in pairs))

    def connect(self, host=b"mx.example.jp", addr=b"192.0.2.1"):
        self.macro(b"C", [(b"j", b"e2e.mugai.test"), (b"{daemon_name}", b"smtpd")])
        return self.step(b"C", host + b"\0" + b"4" + struct.pack(">H", 25) + addr + b"\0")

    def envelope(self, sender, rcpts, queue_id=b"4ABCDEF123"):
        self.macro(b"M", [(b"i", queue_id), (b"{mail_addr}", sender)])
        r = self.step(b"M", b"<" + sender + b">\0")
        if r and r[0] != b"c":
            return r, []
        out = []
        for rc in rcpts:
            self.macro(b"R", [(b"i", queue_id), (b"{rcpt_addr}", rc)])
            out.append(self.step(b"R", b"<" + rc + b">\0"))
        return r, out

    def content(self, raw, queue_id=b"4ABCDEF123"):
        """Headers, body and end of message: (actions, final reply)."""
        headers, body = split_message(raw)
        lead = bool(self.proto & LEADSPC)
        if not self.proto & NODATA:
            self.step(b"T")
        for n, v in headers:
            self.step(b"L", n + b"\0" + (v if lead else v.lstrip(b" ")) + b"\0")
        self.step(b"N")
        for off in range(0, len(body), 65535):
            self.step(b"B", body[off:off + 65535])
        self.macro(b"E", [(b"i", queue_id)])
        self.send(b"E")
        actions = []
        while True:
            cmd, data = self.recv()
            if cmd in (b"a", b"c", b"t", b"r", b"d", b"y"):
                return actions, (cmd, data)
            actions.append((cmd, data))

    def message(self, sender, rcpts, raw, queue_id=b"4ABCDEF123"):
        r, rr = self.envelope(sender, rcpts, queue_id)
        assert r is None or r[0] == b"c", r
        return self.content(raw, queue_id)


def apply(raw, actions, leadspc=True):
    """The MTA's copy after the actions: bytes with CRLF line ends."""
    headers, body = split_message(raw)
    headers = [[n, v] for n, v in headers]
    new_body = None
    for cmd, data in actions:
        if cmd == b"m":
            idx = struct.unpack(">I", data[:4])[0]
            name, value, _ = data[4:].split(b"\0")
            hits = [h for h in headers if h[0].lower() == name.lower()]
            assert 1 <= idx <= len(hits), (name, idx, len(hits))
            if value:
                hits[idx - 1][1] = value
            else:
                headers.remove(hits[idx - 1])
        elif cmd == b"h":
            name, value, _ = data.split(b"\0")
            headers.append([name, (b"" if leadspc else b" ") + value.replace(b"\n", b"\r\n")])
        elif cmd == b"b":
            new_body = (new_body or b"") + data
        else:
            raise AssertionError(f"unexpected action {cmd!r}")
    head = b"".join(n + b":" + v + b"\r\n" for n, v in headers)
    return head + b"\r\n" + (body if new_body is None else new_body)
