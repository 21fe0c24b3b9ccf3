"""CLI tests for `mugai config`."""
import os
import subprocess
import tempfile

MUGAI = os.environ.get("MUGAI", "build/mugai")


def run(*args):
    return subprocess.run([MUGAI, *args], capture_output=True, text=True, timeout=60)


def test_defaults_lists_every_key_and_limit():
    r = run("config", "defaults")
    assert r.returncode == 0
    assert "link_style = defang\n" in r.stdout
    assert "message_size_max = 52428800\n" in r.stdout


def test_check_reports_file_and_line():
    with tempfile.NamedTemporaryFile("w", suffix=".cf", delete=False) as f:
        f.write("link_style = plain\nmime_depth_max = 0\n")
    r = run("config", "check", "-c", f.name)
    os.unlink(f.name)
    assert r.returncode == 78
    assert f"{f.name}:2: mime_depth_max: 0 out of range" in r.stderr


def test_usage_error_is_64():
    assert run("bogus").returncode == 64
