"""The SIGKILL loop: several writer processes doing puts and audit appends
are killed with SIGKILL again and again. Afterwards the chain verifies and
every put that reported success (its id is written to a side file only after
qstore_put returned) reads back byte for byte."""
import hashlib
import os
import random
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from storeutil import MUGAI, Store  # noqa: E402

WRITERS = 4
ROUNDS = 12


def content(qid):
    n = int(qid[16:], 16) % 2000 + 1
    return (qid + "\n").encode() * n


def spawn(s, i):
    side = os.path.join(s.dir, f"side{i}")
    return subprocess.Popen([MUGAI, "quarantine", "-c", s.cf, "selftest-writer", side,
                             "100000"], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)


def test_sigkill_loop_keeps_chain_and_every_acknowledged_put(tmp_path):
    s = Store(tmp_path, audit_witness_every=50)
    s.run("audit", "note", "--by", "t", "--action", "start", "--object", "x", check=0)
    rng = random.Random(4)
    deadline = time.time() + 6
    for rnd in range(ROUNDS):
        procs = [spawn(s, i) for i in range(WRITERS)]
        time.sleep(rng.uniform(0.05, 0.3))
        if rnd % 3 == 0:  # verify while the writers append: never a false alarm
            rc, out = s.verify()
            assert rc == 0, out
        for p in procs:
            p.send_signal(signal.SIGKILL)
        for p in procs:
            p.wait()
        if time.time() > deadline:
            break
    rc, out = s.verify()
    assert rc == 0, out
    acked = []
    for i in range(WRITERS):
        path = os.path.join(s.dir, f"side{i}")
        if os.path.exists(path):
            acked += [x for x in open(path).read().split("\n") if len(x) == 24]
    assert len(acked) >= 20, "the writers should have made progress"
    rows = dict(s.sql("SELECT id, sha256 FROM quarantine"))
    for qid in acked:
        assert qid in rows, f"acknowledged put {qid} lost"
        want = content(qid)
        assert rows[qid] == hashlib.sha256(want).hexdigest()
        assert s.original_bytes(qid) == want
    for qid in rng.sample(acked, 10):  # and through mugai's own read path
        out = os.path.join(s.dir, f"get-{qid}")
        s.run("quarantine", "get", qid, "-o", out, check=0)
        assert open(out, "rb").read() == content(qid)
    # every indexed put has its audit record, nothing forked
    n_put = s.sql("SELECT count(*) FROM audit WHERE action='quarantine.put'")[0][0]
    assert n_put == len(rows)
    seqs = [x for (x,) in s.sql("SELECT seq FROM audit ORDER BY seq")]
    assert seqs == list(range(1, len(seqs) + 1))
    assert s.verify()[0] == 0
