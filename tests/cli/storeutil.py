"""Helpers for the store CLI tests: a temp state_dir with its config."""
import os
import pwd
import sqlite3
import subprocess

import pytest

MUGAI = os.environ.get("MUGAI", "build/mugai")
# The CLI's actor: the OS user (README "Identity of CLI actions").
OS_ACTOR = "os:" + pwd.getpwuid(os.geteuid()).pw_name


def as_person(login):
    """(env, actor) of a CLI run by `login` through sudo: as root the CLI
    believes SUDO_USER, so two admins on one gateway are two identities.
    Without root there is only one identity: the test skips."""
    if os.geteuid() != 0:
        pytest.skip("two CLI identities need root (SUDO_USER is believed only for root)")
    return dict(os.environ, SUDO_USER=login), f"{OS_ACTOR}(sudo:{login})"


class Store:
    def __init__(self, tmp, **cfg):
        self.dir = str(tmp)
        self.state = os.path.join(self.dir, "var")
        self.cf = os.path.join(self.dir, "mugai.cf")
        cfg.setdefault("state_dir", self.state)
        with open(self.cf, "w") as f:
            for k, v in cfg.items():
                f.write(f"{k} = {v}\n")

    def run(self, *args, check=None, timeout=30, env=None):
        r = subprocess.run([MUGAI, args[0], "-c", self.cf, *args[1:]],
                           capture_output=True, timeout=timeout, env=env)
        if check is not None:
            assert r.returncode == check, (args, r.returncode, r.stdout, r.stderr)
        return r

    def put(self, data, verdict="withheld", *extra):
        path = os.path.join(self.dir, "in.eml")
        with open(path, "wb") as f:
            f.write(data)
        r = self.run("quarantine", "put", path, "--verdict", verdict, *extra, check=0)
        return r.stdout.decode().strip()

    def db(self):
        return sqlite3.connect(os.path.join(self.state, "mugai.db"))

    def sql(self, q, *params):
        con = self.db()
        try:
            rows = con.execute(q, params).fetchall()
            con.commit()
            return rows
        finally:
            con.close()

    def seg_path(self, no):
        return os.path.join(self.state, "blobs", f"seg-{no:06d}")

    def location(self, qid):
        """(segment number, offset, size) of an original (segment None:
        the per-file layout of schema v1-v4)."""
        return tuple(self.sql("SELECT seg, seg_off, size FROM quarantine WHERE id=?", qid)[0])

    def original_bytes(self, qid):
        """The original's bytes as stored, read straight from its segment."""
        no, off, size = self.location(qid)
        with open(self.seg_path(no), "rb") as f:
            f.seek(off)
            return f.read(size)

    def verify(self, *extra):
        r = self.run("audit", "verify", *extra)
        return r.returncode, r.stdout.decode()

    def export(self, *extra):
        return self.run("audit", "export", *extra, check=0).stdout.decode()
