"""Output paths the user names: only a new path or a regular file is replaced
by rename; a FIFO or character device is written in place and stays what it
was; anything else is refused with a clear message (issue 14: `mugai mail
sanitize in.eml /dev/null` run as root used to replace /dev/null with a file).

The device is one the test makes itself in a temp dir (a copy of /dev/null's
major/minor), never the machine's own /dev/null."""
import email
import email.policy
import os
import stat
import subprocess

import pytest

from mailutil import MUGAI

MAIL = b"From: a@example.jp\nTo: b@example.jp\nSubject: hi\n\nhello\n"
NEEDS_ROOT = pytest.mark.skipif(os.geteuid() != 0, reason="mknod needs root")


def _clean_hello(raw):
    """The output is a sanitized mail whose text still says hello."""
    m = email.message_from_bytes(raw, policy=email.policy.default)
    assert m["X-Mugai-Sanitized"].startswith("verdict=clean; ")
    return m.get_body(("plain",)).get_content().rstrip().endswith("hello")


def _inp(tmp_path):
    p = tmp_path / "in.eml"
    p.write_bytes(MAIL)
    return str(p)


def _chardev(tmp_path, name="null"):
    p = str(tmp_path / name)
    os.mknod(p, 0o666 | stat.S_IFCHR, os.makedev(1, 3))
    return p, os.stat(p)


def _same_node(path, before):
    after = os.lstat(path)
    return (stat.S_ISCHR(after.st_mode) and after.st_rdev == before.st_rdev
            and after.st_ino == before.st_ino)


@NEEDS_ROOT
def test_mail_sanitize_to_char_device_writes_in_place(tmp_path):
    dev, before = _chardev(tmp_path)
    r = subprocess.run([MUGAI, "mail", "sanitize", _inp(tmp_path), dev],
                       capture_output=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert r.stderr == b""
    assert _same_node(dev, before)
    assert sorted(os.listdir(tmp_path)) == ["in.eml", "null"]  # no temp file left


@NEEDS_ROOT
def test_mail_report_to_char_device_writes_in_place(tmp_path):
    dev, before = _chardev(tmp_path)
    out = tmp_path / "out.eml"
    r = subprocess.run([MUGAI, "mail", "sanitize", "-r", dev, _inp(tmp_path), str(out)],
                       capture_output=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert _same_node(dev, before)
    assert _clean_hello(out.read_bytes())


@NEEDS_ROOT
def test_file_sanitize_rejected_input_leaves_char_device(tmp_path):
    # a file that is not sanitized used to unlink OUT: a device must survive
    dev, before = _chardev(tmp_path)
    bad = tmp_path / "x.exe"
    bad.write_bytes(b"MZ\x90\x00" + b"\x00" * 60)
    r = subprocess.run([MUGAI, "file", "sanitize", "-r", str(tmp_path / "r.json"),
                        str(bad), dev], capture_output=True, timeout=60)
    assert r.returncode in (0, 65), r.stderr
    assert _same_node(dev, before)


def test_mail_sanitize_to_fifo_with_reader(tmp_path):
    fifo = str(tmp_path / "pipe")
    os.mkfifo(fifo)
    ino = os.stat(fifo).st_ino
    # a reader that is open before mugai runs (non-blocking open for read
    # succeeds without a writer); the output fits in the pipe buffer
    rfd = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
    try:
        r = subprocess.run([MUGAI, "mail", "sanitize", _inp(tmp_path), fifo],
                           capture_output=True, timeout=60)
        got = [os.read(rfd, 1 << 16)]
    finally:
        os.close(rfd)
    assert r.returncode == 0, r.stderr
    st = os.lstat(fifo)
    assert stat.S_ISFIFO(st.st_mode) and st.st_ino == ino
    assert _clean_hello(got[0])


def test_mail_sanitize_to_fifo_without_reader_is_refused(tmp_path):
    fifo = str(tmp_path / "pipe")
    os.mkfifo(fifo)
    r = subprocess.run([MUGAI, "mail", "sanitize", _inp(tmp_path), fifo],
                       capture_output=True, timeout=60)
    assert r.returncode == 74
    assert r.stderr.decode() == f"mugai: {fifo}: FIFO has no reader; refusing to wait\n"
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    assert sorted(os.listdir(tmp_path)) == ["in.eml", "pipe"]


def test_mail_sanitize_to_directory_is_refused(tmp_path):
    d = tmp_path / "dir"
    d.mkdir()
    r = subprocess.run([MUGAI, "mail", "sanitize", _inp(tmp_path), str(d)],
                       capture_output=True, timeout=60)
    assert r.returncode == 74
    assert r.stderr.decode() == (f"mugai: {d}: not a regular file, FIFO or character "
                                 "device; refusing to write to it\n")
    assert d.is_dir() and list(d.iterdir()) == []


def test_regular_file_is_still_replaced_atomically(tmp_path):
    out = tmp_path / "out.eml"
    out.write_bytes(b"old")
    old_ino = os.stat(out).st_ino
    r = subprocess.run([MUGAI, "mail", "sanitize", _inp(tmp_path), str(out)],
                       capture_output=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert os.stat(out).st_ino != old_ino  # replaced by rename, not rewritten
    assert _clean_hello(out.read_bytes())
    assert sorted(os.listdir(tmp_path)) == ["in.eml", "out.eml"]
