"""Packaging (issue 14 item 5): make install with DESTDIR, the hardened unit
measured by systemd-analyze, CLI commands that read MUGAI_CONFIG (or
/etc/mugai/mugaid.cf) and never create a store implicitly, disk full said as
disk full."""
import os
import re
import shutil
import stat
import subprocess

import pytest

from daemonutil import MUGAI
from storeutil import Store

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.environ.get("BUILD", "build")
DISK_FULL = "disk full (ディスクがいっぱいです)"


def make_install(destdir):
    return subprocess.run(["make", "-s", "-C", ROOT, f"BUILD={BUILD}", "install",
                           f"DESTDIR={destdir}"], capture_output=True, text=True, timeout=300)


def test_make_install_destdir_and_config_kept(tmp_path):
    dest = tmp_path / "stage"
    r = make_install(dest)
    assert r.returncode == 0, r.stderr
    files = sorted(str(p.relative_to(dest)) for p in dest.rglob("*") if p.is_file())
    assert files == ["etc/mugai/mugaid.cf", "etc/systemd/system/mugai-purge.service",
                     "etc/systemd/system/mugai-purge.timer", "etc/systemd/system/mugaid.service",
                     "usr/local/bin/mugai", "usr/local/sbin/mugaid",
                     "usr/local/sbin/mugaid-store",
                     "usr/local/share/doc/mugai/README.md",
                     "usr/local/share/doc/mugai/install.ja.md"]
    assert stat.S_IMODE(os.stat(dest / "usr/local/sbin/mugaid").st_mode) == 0o755
    cf = dest / "etc/mugai/mugaid.cf"
    cf.write_text("# the site's own\nlink_style = plain\n")
    r = make_install(dest)
    assert r.returncode == 0, r.stderr
    assert cf.read_text() == "# the site's own\nlink_style = plain\n"
    assert f"install: {cf} exists, kept (new one: contrib/mugaid.cf)" in r.stdout
    # the installed config passes the daemon's own check
    r = subprocess.run([str(dest / "usr/local/sbin/mugaid"), "-n", "-c",
                        os.path.join(ROOT, "contrib/mugaid.cf")], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr


@pytest.mark.skipif(not shutil.which("systemd-analyze"), reason="systemd-analyze not installed")
@pytest.mark.parametrize("unit", ["mugaid.service", "mugai-purge.service"])
def test_unit_exposure_at_most_3(unit):
    r = subprocess.run(["systemd-analyze", "security", "--offline=yes", f"./{unit}"],
                       capture_output=True, text=True, cwd=os.path.join(ROOT, "contrib"))
    m = re.search(r"Overall exposure level for \S+: (\d+\.\d) (\w+)", r.stdout)
    assert m, r.stdout + r.stderr
    assert float(m.group(1)) <= 3.0, r.stdout
    unit_text = open(os.path.join(ROOT, "contrib", unit)).read()
    for key in ("User=mugai", "StateDirectory=mugai", "ProtectSystem=strict", "PrivateTmp=yes",
                "NoNewPrivileges=yes", "RestrictAddressFamilies=", "SystemCallFilter=@system-service"):
        assert key in unit_text


def test_quarantine_list_on_a_missing_store_says_so(tmp_path):
    s = Store(tmp_path)
    for args in (("quarantine", "list"), ("audit", "verify"), ("quarantine", "purge")):
        r = s.run(*args)
        assert r.returncode == 74
        assert r.stderr.decode() == (f"mugai: no quarantine store at {s.state} (state_dir): "
                                     f"nothing to {args[1]}\n")
    assert not os.path.exists(s.state)


def test_mugai_config_is_the_default_config(tmp_path):
    s = Store(tmp_path)
    s.put(b"x")
    env = dict(os.environ, MUGAI_CONFIG=s.cf)
    r = subprocess.run([MUGAI, "quarantine", "list"], capture_output=True, text=True, env=env,
                       cwd=tmp_path, timeout=30)
    assert r.returncode == 0 and len(r.stdout.splitlines()) == 1
    # empty: the embedded defaults (./var), and no store is made there
    env["MUGAI_CONFIG"] = ""
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    r = subprocess.run([MUGAI, "quarantine", "list"], capture_output=True, text=True, env=env,
                       cwd=elsewhere, timeout=30)
    assert (r.returncode, r.stderr) == (74, "mugai: no quarantine store at ./var (state_dir): "
                                            "nothing to list\n")
    assert not os.path.exists(elsewhere / "var")


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to mount a small tmpfs")
def test_disk_full_is_reported_as_disk_full(tmp_path):
    mnt = tmp_path / "small"
    mnt.mkdir()
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m,mode=0700", "tmpfs", str(mnt)])
    if r.returncode != 0:
        pytest.skip("cannot mount tmpfs")
    try:
        s = Store(tmp_path, state_dir=str(mnt / "var"))
        s.put(b"first")
        with open(mnt / "filler", "wb", buffering=0) as f:  # unbuffered: close cannot fail
            try:
                while True:
                    f.write(b"\0" * 65536)
            except OSError:
                pass
        path = tmp_path / "big.eml"
        path.write_bytes(os.urandom(256 * 1024))
        r = s.run("quarantine", "put", str(path), "--verdict", "withheld")
        assert r.returncode == 74
        err = r.stderr.decode()
        # the store open (config.load) or the put itself meets the full disk
        assert re.fullmatch(rf"mugai: (store|quarantine put): {re.escape(DISK_FULL)}: .+\n",
                            err), err
    finally:
        subprocess.run(["umount", "-l", str(mnt)])
