"""CLI tests for `mugai audit`: verify, tamper detection, export, witness.

Each tamper test edits the SQLite file behind mugai's back (as an insider
with file access would) and expects `audit verify` to exit 1 naming the
first broken seq and the kind of damage. The chain is also recomputed by an
independent script (audit_recompute.py), not by mugai's own code.
"""
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(__file__))
from storeutil import Store  # noqa: E402
import audit_recompute  # noqa: E402


def make_chain(tmp, n=10, **cfg):
    s = Store(tmp, **cfg)
    for i in range(n):
        s.run("audit", "note", "--by", "admin", "--action", "test", "--object",
              f"obj{i}", "--text", f"note {i}", check=0)
    # seq 1 is config.load, then n notes
    assert s.sql("SELECT max(seq) FROM audit")[0][0] == n + 1
    return s


def test_intact_chain_verifies_and_matches_independent_recompute(tmp_path):
    s = make_chain(tmp_path)
    s.put(b"hello\r\n")
    rc, out = s.verify()
    assert rc == 0, out
    assert "audit chain intact" in out
    head = out.split("hash=")[1].strip()
    lines = s.export().splitlines()
    good, msg = audit_recompute.verify(lines[:-1])  # the export itself is the last record
    assert good, msg
    assert msg.split()[2] == head


def test_recompute_script_runs_standalone(tmp_path):
    s = make_chain(tmp_path, 3)
    path = os.path.join(s.dir, "audit.jsonl")
    s.run("audit", "export", "-o", path, check=0)
    r = subprocess.run([sys.executable, os.path.join(os.path.dirname(__file__),
                                                     "audit_recompute.py"), path],
                       capture_output=True, text=True)
    assert r.returncode == 0 and r.stdout.startswith("ok "), r.stdout


def test_edited_row_is_changed(tmp_path):
    s = make_chain(tmp_path)
    s.sql("UPDATE audit SET details='{\"text\":\"forged\"}' WHERE seq=5")
    rc, out = s.verify()
    assert rc == 1
    assert "BROKEN at seq 5: changed" in out, out


def test_edited_row_with_recomputed_hash_is_changed(tmp_path):
    s = make_chain(tmp_path)
    row = s.sql("SELECT seq, time, actor, action, object, details, prev_hash FROM audit "
                "WHERE seq=6")[0]
    rec = dict(zip(audit_recompute.FIELDS, row))
    rec["actor"] = "someone-else"
    s.sql("UPDATE audit SET actor=?, hash=? WHERE seq=6", rec["actor"],
          audit_recompute.record_hash(rec))
    rc, out = s.verify()
    assert rc == 1
    assert "BROKEN at seq 6: changed" in out, out
    assert "recomputed" in out


def test_deleted_row_is_missing(tmp_path):
    s = make_chain(tmp_path)
    s.sql("DELETE FROM audit WHERE seq=4")
    rc, out = s.verify()
    assert rc == 1
    assert "BROKEN at seq 4: missing" in out, out


def test_swapped_rows_are_reordered(tmp_path):
    s = make_chain(tmp_path)
    cols = "time, actor, action, object, details, prev_hash, hash"
    a = s.sql(f"SELECT {cols} FROM audit WHERE seq=7")[0]
    b = s.sql(f"SELECT {cols} FROM audit WHERE seq=8")[0]
    sets = ", ".join(f"{c.strip()}=?" for c in cols.split(","))
    s.sql(f"UPDATE audit SET {sets} WHERE seq=7", *b)
    s.sql(f"UPDATE audit SET {sets} WHERE seq=8", *a)
    rc, out = s.verify()
    assert rc == 1
    assert "BROKEN at seq 7: reordered" in out, out


def test_truncated_tail_is_caught_by_the_witness(tmp_path):
    witness = os.path.join(str(tmp_path), "witness.log")
    s = make_chain(tmp_path, 10, audit_witness_every=1, audit_witness_file=witness)
    assert open(witness).read().count("head seq=") >= 10
    s.sql("DELETE FROM audit WHERE seq > 8")
    rc, out = s.verify()
    assert rc == 0, "without the witness a clean truncation is invisible"
    rc, out = s.verify("--witness", witness)
    assert rc == 1
    assert "BROKEN at seq 9: truncated" in out, out


def test_truncated_tail_is_caught_by_the_index(tmp_path):
    s = make_chain(tmp_path, 3)
    s.put(b"original\r\n")
    head = s.sql("SELECT audit_seq FROM quarantine")[0][0]
    s.sql("DELETE FROM audit WHERE seq >= ?", head)
    rc, out = s.verify()
    assert rc == 1
    assert f"BROKEN at seq {head}: truncated" in out, out


def test_rewritten_chain_is_caught_by_the_witness(tmp_path):
    witness = os.path.join(str(tmp_path), "witness.log")
    s = make_chain(tmp_path, 6, audit_witness_every=2, audit_witness_file=witness)
    # An insider rewrites record 3 and re-hashes everything after it.
    rows = s.sql("SELECT seq, time, actor, action, object, details, prev_hash FROM audit "
                 "ORDER BY seq")
    prev = None
    for row in rows:
        rec = dict(zip(audit_recompute.FIELDS, row))
        if rec["seq"] == 3:
            rec["details"] = '{"text":"rewritten"}'
        if prev:
            rec["prev_hash"] = prev
        prev = audit_recompute.record_hash(rec)
        s.sql("UPDATE audit SET details=?, prev_hash=?, hash=? WHERE seq=?",
              rec["details"], rec["prev_hash"], prev, rec["seq"])
    assert s.verify()[0] == 0
    rc, out = s.verify("--witness", witness)
    assert rc == 1
    assert "BROKEN at seq 4: witness mismatch" in out, out


def test_export_jsonl_csv_and_since(tmp_path):
    s = make_chain(tmp_path, 2)
    s.run("audit", "note", "--by", "管理者", "--action", "x", "--object", "=cmd|' /C calc'!A0",
          check=0)
    recs = [json.loads(x) for x in s.export().splitlines()]
    assert [r["seq"] for r in recs] == list(range(1, len(recs) + 1))
    assert recs[1]["action"] == "admin.test"
    assert isinstance(recs[1]["details"], str)
    csv = s.export("--format", "csv")
    assert csv.startswith("\ufeffseq,time,time_jst,actor,action,object,details,prev_hash,hash\r\n")
    assert "\"'=cmd|' /C calc'!A0\"" in csv
    assert s.export("--since", "2999-01-01") == ""
    assert s.run("audit", "export", "--format", "xml").returncode == 64


def test_config_change_is_recorded_once(tmp_path):
    s = make_chain(tmp_path, 2)
    n = s.sql("SELECT count(*) FROM audit WHERE action='config.load'")[0][0]
    assert n == 1
    with open(s.cf, "a") as f:
        f.write("retention_days = 120\n")
    s.run("quarantine", "list", check=0)
    s.run("quarantine", "list", check=0)
    assert s.sql("SELECT count(*) FROM audit WHERE action='config.load'")[0][0] == 2


def test_witness_command_and_usage(tmp_path):
    witness = os.path.join(str(tmp_path), "w.log")
    s = make_chain(tmp_path, 1, audit_witness_every=0, audit_witness_minutes=0,
                   audit_witness_file=witness)
    assert not os.path.exists(witness)
    s.run("audit", "witness", check=0)
    assert "head seq=2 hash=" in open(witness).read()
    assert s.run("audit", "bogus").returncode == 64
    assert s.run("audit", "note", "--by", "x").returncode == 64


def test_verify_refuses_a_missing_store(tmp_path):
    import subprocess
    cf = tmp_path / "m.cf"
    cf.write_text(f"state_dir = {tmp_path / 'nowhere'}\n")
    for sub in (["verify"], ["export", "--format", "jsonl"]):
        r = subprocess.run([os.environ.get("MUGAI", "build/mugai"), "audit", "-c", str(cf), *sub],
                           capture_output=True, timeout=30)
        assert r.returncode == 74, r
        assert b"no quarantine store at" in r.stderr
    assert not (tmp_path / "nowhere").exists()
