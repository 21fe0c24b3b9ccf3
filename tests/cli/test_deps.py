"""scripts/deps.sh installs every program a test calls that a minimal Debian 12
(debootstrap --variant=minbase bookworm) lacks (issue 14: pgrep was missing,
so the Postfix suite never ran on a fresh machine)."""
import os
import re

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# program -> Debian package, for programs the tests run that minbase lacks
NOT_IN_MINBASE = {"pgrep": "procps", "pkill": "procps", "ps": "procps", "ip": "iproute2",
                  "ss": "iproute2", "qpdf": "qpdf", "sqlite3": "sqlite3", "unzip": "unzip", "zip": "zip",
                  "swaks": "swaks", "postfix": "postfix", "postqueue": "postfix",
                  "systemd-analyze": "systemd", "clamd": "clamav-daemon", "zbarimg": "zbar-tools"}


def _deps_packages():
    text = open(os.path.join(ROOT, "scripts", "deps.sh")).read()
    return set(re.search(r'PKGS="([^"]*)"', text).group(1).split())


def _programs_called():
    found = set()
    for d in ("tests/cli", "tests/e2e"):
        for name in os.listdir(os.path.join(ROOT, d)):
            if name.endswith(".py") and name != "test_deps.py":
                text = open(os.path.join(ROOT, d, name)).read()
                found |= set(re.findall(r'subprocess\.\w+\(\s*\["([\w.-]+)"', text))
    return found


def test_pgrep_is_installed_by_deps():
    assert "procps" in _deps_packages()


def test_clamd_is_installed_by_deps():
    """tests/cli/test_daemon_av.py starts a real clamd (CLAMD = shutil.which)."""
    assert "clamav-daemon" in _deps_packages()


def test_every_called_program_outside_minbase_is_in_deps():
    pkgs = _deps_packages()
    missing = {p: NOT_IN_MINBASE[p] for p in _programs_called()
               if p in NOT_IN_MINBASE and NOT_IN_MINBASE[p] not in pkgs
               and p != "systemd-analyze"}  # optional: its test skips without it
    assert missing == {}


def test_make_run_runs_mugaid_as_the_invoking_user():
    run = open(os.path.join(ROOT, "scripts", "run.sh")).read()
    assert "\nuser =\n" in run and 'exec "$build/mugaid" -f -c "$cf"' in run
    assert "chown" not in run
