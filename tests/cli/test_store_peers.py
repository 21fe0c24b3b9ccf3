"""Red team for the one store process (issue 12 part 2), spoken to directly
as the master and its peers would: mugaid-store daemon with descriptor 3 its
control channel. Roles stay checked per peer (a session may not ask
RELEASE_NEXT, the releaser may not mark a delivery), a role the master never
hands out is refused, a peer that stalls in the middle of a frame or sends a
bad header holds nobody else up, and the process exits when the master and
every peer have gone, saying how it batched."""
import os
import select
import socket
import struct
import subprocess
import time

import pytest

from daemonutil import MUGAID

STORE = os.path.abspath(os.path.join(os.path.dirname(MUGAID), "mugaid-store"))
MAGIC = 0x3153474D
DELIVERED, RELEASE_NEXT, SEEN = 4, 5, 8
OK, ERR = 0x100, 0x101
PROTO = 4
QID = "20260101-000000-00000000"


def frame(t, body=b""):
    return struct.pack("<III", MAGIC, t, len(body)) + body


def s(x):
    x = x.encode() + b"\0"
    return struct.pack("<I", len(x)) + x


def seen():
    return frame(SEEN, s("taro@example.jp") + struct.pack("<Q", 0) + s(""))


def recv_exact(sock, n, timeout=10):
    out, end = b"", time.monotonic() + timeout
    while len(out) < n:
        left = end - time.monotonic()
        assert left > 0, f"no answer within {timeout} s (got {out!r})"
        r, _, _ = select.select([sock], [], [], left)
        if r:
            chunk = sock.recv(n - len(out))
            assert chunk, "the store process hung up"
            out += chunk
    return out


def answer(sock):
    magic, t, n = struct.unpack("<III", recv_exact(sock, 12))
    assert magic == MAGIC
    body = recv_exact(sock, n)
    if t == ERR:
        cls, k = struct.unpack("<II", body[:8])
        return "ERR", cls, body[8:8 + k - 1].decode()
    assert t == OK
    k = struct.unpack("<I", body[:4])[0]
    return "OK", body[4:4 + k - 1].decode()


def hung_up(sock, timeout=10):
    """The store process closed its end (unread bytes make that a reset)."""
    r, _, _ = select.select([sock], [], [], timeout)
    try:
        return bool(r) and sock.recv(1) == b""
    except ConnectionResetError:
        return True


@pytest.fixture
def store(tmp_path):
    ctl, far = socket.socketpair()
    p = subprocess.Popen(["sh", "-c", 'exec "$0" daemon - 3<&0 </dev/null', STORE],
                         stdin=far, cwd=tmp_path, stderr=subprocess.PIPE)
    far.close()

    def attach(role):
        mine, theirs = socket.socketpair()
        socket.send_fds(ctl, [role], [theirs.fileno()])
        theirs.close()
        return mine
    yield p, ctl, attach
    if p.poll() is None:
        p.kill()
        p.wait()


def test_roles_are_checked_per_peer(store):
    _, _, attach = store
    sess, rel = attach(b"s"), attach(b"r")
    sess.sendall(frame(RELEASE_NEXT, s("") + s("")))
    assert answer(sess) == ("ERR", PROTO, "request 5 is not allowed for this peer")
    rel.sendall(frame(DELIVERED, s(QID)))
    assert answer(rel) == ("ERR", PROTO, "request 4 is not allowed for this peer")
    rel.sendall(frame(RELEASE_NEXT, s("") + s("")))
    assert answer(rel) == ("OK", "")      # nothing queued
    sess.sendall(seen())
    assert answer(sess) == ("OK", "")     # a first contact


def test_a_role_the_master_never_gives_is_refused(store):
    p, _, attach = store
    forged = attach(b"m")                  # the startup check's role, or any other byte
    assert hung_up(forged)
    ok = attach(b"s")
    ok.sendall(seen())
    assert answer(ok) == ("OK", "")


def test_a_stalled_or_broken_peer_holds_nobody_up(store):
    _, _, attach = store
    stalled, broken, other = attach(b"s"), attach(b"s"), attach(b"s")
    stalled.sendall(seen()[:7])           # half a header, then nothing
    broken.sendall(b"XXXX" + seen()[4:])  # a bad magic
    assert answer(broken) == ("ERR", PROTO, "bad frame header or frame too large")
    assert hung_up(broken)
    t0 = time.monotonic()
    other.sendall(seen())
    assert answer(other) == ("OK", "")
    assert time.monotonic() - t0 < 5
    stalled.sendall(seen()[7:])           # it finishes its frame later: served
    assert answer(stalled) == ("OK", "")


def test_exits_when_the_master_and_its_peers_have_gone(store):
    p, ctl, attach = store
    a = attach(b"s")
    a.sendall(seen())
    assert answer(a) == ("OK", "")
    ctl.close()                           # the master has gone: a is still served
    a.sendall(seen())
    assert answer(a) == ("OK", "")
    a.close()
    assert p.wait(timeout=10) == 0
    err = p.stderr.read().decode()
    # two lookups: answered as soon as they were in, no batch
    assert "store process: 0 requests in 0 batches (largest 0), 2 lookups answered at once" \
        in err, err
