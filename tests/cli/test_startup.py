"""mugaid proves it can work before it says ready (issue 14 item 3): as its run
user it opens and writes the store, writes the maildir (or resolves the next
hop), writes the metrics file; otherwise it exits 78 with a message naming
the path and the fix. Started as root, a missing run user is fatal. `-n` and
`mugai config check` validate ports, paths and relations between limits."""
import os
import pwd
import shutil
import subprocess
import tempfile

import pytest

from daemonutil import MUGAI, MUGAID, Daemon

NEEDS_ROOT = pytest.mark.skipif(os.geteuid() != 0, reason="needs root (drops to a user)")


def run(args, timeout=30):
    return subprocess.run(args, capture_output=True, text=True, timeout=timeout)


def write(tmp_path, text, name="m.cf"):
    p = tmp_path / name
    p.write_text(text)
    return str(p)


def ensure_mugai_user():
    try:
        return pwd.getpwnam("mugai")
    except KeyError:
        subprocess.run(["useradd", "--system", "--no-create-home", "--shell",
                        "/usr/sbin/nologin", "mugai"], check=True)
        return pwd.getpwnam("mugai")


@pytest.fixture
def open_tmp():
    """A temp dir every user may traverse (pytest's own tmp is root-only)."""
    d = tempfile.mkdtemp(prefix="mugai-startup-", dir="/tmp")
    os.chmod(d, 0o755)
    yield __import__("pathlib").Path(d)
    shutil.rmtree(d, ignore_errors=True)


def test_n_refuses_a_next_hop_port_out_of_range(tmp_path):
    cf = write(tmp_path, "next_hop = smtp:127.0.0.1:99999\n")
    r = run([MUGAID, "-n", "-c", cf])
    assert r.returncode == 78
    assert r.stderr == "mugaid: config: next_hop: port 99999 is not in 1-65535\n"


def test_n_refuses_a_listen_port_out_of_range(tmp_path):
    cf = write(tmp_path, "listen = 127.0.0.1:65536\n")
    r = run([MUGAID, "-n", "-c", cf])
    assert (r.returncode, r.stderr) == (78, "mugaid: config: listen: port 65536 is not in 1-65535\n")


def test_n_refuses_a_state_dir_whose_parent_is_missing(tmp_path):
    cf = write(tmp_path, f"state_dir = {tmp_path}/no/such/var\n")
    r = run([MUGAID, "-n", "-c", cf])
    assert r.returncode == 78
    assert r.stderr == (f"mugaid: config: state_dir = {tmp_path}/no/such/var: directory "
                        f"{tmp_path}/no/such does not exist; fix: create it or choose another path\n")


@pytest.mark.parametrize("text,msg", [
    ("wall_time_max = 10\n", "wall_time_max = 10 must be at least cpu_time_max (30)"),
    ("cpu_time_max = 10\nwall_time_max = 20\n",
     "wall_time_max = 20 must be at least cdr_time_max (60)"),
    ("result_size_max = 100M\n",
     "result_size_max = 104857600 must be at least cdr_output_max base64-encoded + "
     "text_size_max + report_size_max (391468376)"),
    ("message_size_max = 1G\nresult_size_max = 600M\n",
     "result_size_max = 629145600 must be at least message_size_max (1073741824)"),
])
def test_related_limits_are_checked_by_both_commands(tmp_path, text, msg):
    cf = write(tmp_path, text)
    r = run([MUGAI, "config", "check", "-c", cf])
    assert (r.returncode, r.stderr) == (78, f"mugai: config: {cf}: {msg}\n")
    r = run([MUGAID, "-n", "-c", cf])
    assert (r.returncode, r.stderr) == (78, f"mugaid: config: {cf}: {msg}\n")


def test_defaults_pass_and_metrics_default_is_under_state_dir():
    r = run([MUGAID, "-n"])
    assert (r.returncode, r.stdout) == (0, "mugaid: config (embedded defaults) ok\n")
    r = run([MUGAI, "config", "defaults"])
    assert "metrics_file = {state_dir}/mugaid.prom\n" in r.stdout


def test_metrics_default_is_absolute_under_state_dir(tmp_path):
    d = Daemon(tmp_path, metrics_file="{state_dir}/mugaid.prom")
    d.start()
    try:
        assert os.path.isfile(os.path.join(d.state, "mugaid.prom"))
    finally:
        assert d.stop() == 0


@NEEDS_ROOT
def test_missing_run_user_is_fatal(tmp_path):
    d = Daemon(tmp_path, user="mugai-no-such-user")
    r = run([MUGAID, "-f", "-c", d.cf])
    assert r.returncode == 78
    assert r.stderr == ("mugaid: user 'mugai-no-such-user' does not exist; fix: create it "
                        "(useradd --system --home-dir /nonexistent --shell /usr/sbin/nologin "
                        "mugai-no-such-user), or set user = to another account\n")


def _locked(tmp_path):
    """A directory the run user cannot enter (a checkout under /root)."""
    locked = tmp_path / "root-only"
    locked.mkdir(mode=0o700)
    return str(locked)


def _not_ready(tmp_path, **cfg):
    ensure_mugai_user()
    d = Daemon(tmp_path, user="mugai", **cfg)
    r = run([MUGAID, "-f", "-c", d.cf])
    assert "ready" not in r.stderr.replace("not ready", "")
    return r


@NEEDS_ROOT
def test_unreachable_state_dir_is_fatal(tmp_path):
    state = os.path.join(_locked(tmp_path), "var")
    r = _not_ready(tmp_path, state_dir=state, metrics_file="")
    assert r.returncode == 78
    assert r.stderr.splitlines()[-1] == (
        f"mugaid: not ready: state_dir {state}: cannot write as user mugai (Permission denied); "
        f"fix: make it writable by that user (chown -R mugai: {state}, and every parent "
        f"directory searchable), or set state_dir to a directory that user can reach")


@NEEDS_ROOT
def test_unreachable_maildir_is_fatal(open_tmp):
    tmp_path = open_tmp
    user = ensure_mugai_user()
    state = tmp_path / "state"
    state.mkdir(mode=0o700)
    os.chown(state, user.pw_uid, user.pw_gid)
    md = os.path.join(_locked(tmp_path), "maildir")
    r = _not_ready(tmp_path, state_dir=str(state), next_hop=f"maildir:{md}", metrics_file="")
    assert r.returncode == 78
    assert r.stderr.splitlines()[-1] == (
        f"mugaid: not ready: next_hop maildir {md}: cannot write as user mugai (Permission "
        f"denied); fix: make it writable by that user (chown -R mugai: {md}, and every parent "
        f"directory searchable), or set next_hop maildir to a directory that user can reach")


@NEEDS_ROOT
def test_unwritable_metrics_file_is_fatal(open_tmp):
    tmp_path = open_tmp
    user = ensure_mugai_user()
    state = tmp_path / "state"
    state.mkdir(mode=0o700)
    os.chown(state, user.pw_uid, user.pw_gid)
    md = tmp_path / "md"
    md.mkdir(mode=0o700)
    os.chown(md, user.pw_uid, user.pw_gid)
    prom = os.path.join(_locked(tmp_path), "mugaid.prom")
    r = _not_ready(tmp_path, state_dir=str(state), next_hop=f"maildir:{md}", metrics_file=prom)
    assert r.returncode == 78
    assert r.stderr.splitlines()[-1] == (
        f"mugaid: not ready: metrics_file {prom}: cannot write as user mugai (Permission "
        f"denied); fix: make it writable by that user (chown -R mugai: {prom}, and every "
        f"parent directory searchable), or set metrics_file to a directory that user can reach")


def test_unresolvable_next_hop_is_fatal(tmp_path):
    d = Daemon(tmp_path, next_hop="smtp:no-such-host.invalid:25")
    r = run([MUGAID, "-f", "-c", d.cf])
    assert r.returncode == 78
    assert r.stderr.splitlines()[-1].startswith(
        "mugaid: not ready: next_hop smtp:no-such-host.invalid:25: cannot resolve "
        "'no-such-host.invalid' (")
