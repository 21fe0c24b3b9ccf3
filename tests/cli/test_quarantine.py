"""CLI tests for `mugai quarantine`: put/get round trip, list filters, show,
the two-step release with a refused self-approval, purge and retention."""
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from storeutil import OS_ACTOR, Store, as_person  # noqa: E402

BINARY = bytes(range(256)) * 64 + os.urandom(100_000) + b"\r\n.\r\n\x00"


def test_put_get_round_trip_is_byte_for_byte(tmp_path):
    s = Store(tmp_path)
    qid = s.put(BINARY, "withheld", "--rcpt", "a@city.lg.jp")
    out = os.path.join(s.dir, "out.bin")
    s.run("quarantine", "get", qid, "-o", out, check=0)
    assert open(out, "rb").read() == BINARY
    assert oct(os.stat(out).st_mode & 0o777) == "0o600"
    # never overwrites an existing file
    assert s.run("quarantine", "get", qid, "-o", out).returncode == 74


def test_state_layout_and_modes(tmp_path):
    s = Store(tmp_path)
    qid = s.put(b"x")
    assert s.location(qid) == (1, 0, 1)
    p = s.seg_path(1)
    assert os.stat(p).st_mode & 0o777 == 0o600
    assert os.stat(os.path.dirname(p)).st_mode & 0o777 == 0o700
    assert os.listdir(os.path.dirname(p)) == ["seg-000001"], "no shard directory any more"
    assert os.stat(s.state).st_mode & 0o777 == 0o700
    assert os.stat(os.path.join(s.state, "mugai.db")).st_mode & 0o777 == 0o600
    # v2: queue_id, delivery; v3: sender index; v4: console accounts, release kind;
    # v5: admin release; v6: blob segments; v7: the outbox
    assert s.sql("PRAGMA user_version")[0][0] == 7
    assert s.sql("PRAGMA journal_mode")[0][0] == "wal"


def test_corrupted_blob_is_refused(tmp_path):
    s = Store(tmp_path)
    qid = s.put(b"original bytes")
    no, off, _ = s.location(qid)
    with open(s.seg_path(no), "r+b") as f:
        f.seek(off)
        f.write(b"tampered bytes")
    r = s.run("quarantine", "get", qid, "-o", os.path.join(s.dir, "o"))
    assert r.returncode == 65
    assert b"does not match" in r.stderr


def test_get_unknown_and_bad_id(tmp_path):
    s = Store(tmp_path)
    s.put(b"x")  # a store must exist: list/show/get never create one
    assert s.run("quarantine", "get", "20260101-000000-00000000", "-o",
                 os.path.join(s.dir, "o")).returncode == 65
    assert s.run("quarantine", "show", "../../etc/passwd").returncode == 64
    n = s.sql("SELECT count(*) FROM audit WHERE action='quarantine.get'")[0][0]
    assert n == 1, "failed lookups are audited too"


def test_list_filters(tmp_path):
    s = Store(tmp_path)
    a = s.put(b"a", "withheld", "--sender", "x@example.com", "--rcpt", "u1@city.lg.jp")
    b = s.put(b"b", "sanitized", "--sender", "y@example.com", "--rcpt", "u2@city.lg.jp",
              "--rcpt", "u3@city.lg.jp")

    def ids(*f):
        out = s.run("quarantine", "list", "--json", *f, check=0).stdout.decode()
        return {json.loads(x)["id"] for x in out.splitlines()}

    assert ids() == {a, b}
    assert ids("--verdict", "sanitized") == {b}
    assert ids("--sender", "X@example.com") == {a}
    assert ids("--rcpt", "u3@city.lg.jp") == {b}
    assert ids("--since", "2999-01-01") == set()
    assert ids("--until", "2000-01-01") == set()
    assert ids("--status", "held") == {a, b}
    assert len(ids("--limit", "1")) == 1
    assert s.run("quarantine", "list", "--since", "yesterday").returncode == 64
    assert s.sql("SELECT count(*) FROM audit WHERE action='quarantine.list'")[0][0] == 8


def test_show_prints_report_and_headers_not_content(tmp_path):
    s = Store(tmp_path)
    rep = os.path.join(s.dir, "r.json")
    with open(rep, "w") as f:
        f.write('{"verdict":"withheld","removed":["invoice.exe"]}')
    qid = s.put(b"SECRET-BODY\r\n", "withheld", "--subject", "請求書", "--from",
                "経理 <a@example.com>", "--report", rep)
    out = s.run("quarantine", "show", qid, check=0).stdout.decode()
    assert "subject: 請求書" in out and "invoice.exe" in out
    assert "SECRET-BODY" not in out
    j = json.loads(s.run("quarantine", "show", qid, "--json", check=0).stdout)
    assert j["report"]["removed"] == ["invoice.exe"] and j["from"] == "経理 <a@example.com>"
    # control characters in decoded headers are refused at put time
    r = s.run("quarantine", "put", rep, "--verdict", "x", "--subject", "a\x1b[2Jb")
    assert r.returncode == 64


def test_release_flow_with_refused_self_approval(tmp_path):
    """The actor is the OS identity (alice and bob sudo to root on the
    gateway); --by is only a display name: it cannot make one person two."""
    alice, alice_actor = as_person("alice")
    bob, bob_actor = as_person("bob")
    s = Store(tmp_path)
    qid = s.put(BINARY)
    out = os.path.join(s.dir, "released.bin")
    r = s.run("quarantine", "approve", qid, "--by", "管理者", "-o", out, env=bob)
    assert r.returncode == 65 and b"release-requested" not in r.stderr
    r = s.run("quarantine", "request", qid, "--by", "山田", "--reason", "取引先の請求書",
              env=alice, check=0)
    assert r.stdout.decode() == f"{qid}: release requested by {alice_actor}\n"
    assert s.run("quarantine", "request", qid, "--reason", "again", env=alice).returncode == 65
    r = s.run("quarantine", "approve", qid, "--by", "別人", "-o", out, env=alice)
    assert r.returncode == 65 and b"may not approve" in r.stderr
    assert not os.path.exists(out)
    s.run("quarantine", "approve", qid, "--by", "管理者", "-o", out, env=bob, check=0)
    assert open(out, "rb").read() == BINARY
    row = s.sql("SELECT status, requested_by, approved_by FROM quarantine WHERE id=?", qid)
    assert row == [("released", alice_actor, bob_actor)]
    recs = [(a, x, json.loads(d)) for a, x, d in s.sql(
        "SELECT actor, action, details FROM audit WHERE object=? ORDER BY seq", qid)]
    assert [(a, x) for a, x, _ in recs] == [
        (OS_ACTOR, "quarantine.put"), (bob_actor, "cli.refused"),
        (alice_actor, "quarantine.request"), (alice_actor, "cli.refused"),
        (alice_actor, "quarantine.approve.refused"), (bob_actor, "quarantine.approve"),
        (bob_actor, "quarantine.release")]
    assert recs[1][2] == {"by": "管理者", "command": "approve",
                          "why": f"{qid}: held"}
    assert recs[2][2] == {"by": "山田", "reason": "取引先の請求書", "kind": "original",
                          "deliver_to": ""}
    assert recs[3][2]["command"] == "request" and "by" not in recs[3][2]
    assert recs[4][2]["by"] == "別人"
    assert s.verify()[0] == 0


def test_one_os_user_is_one_person_whatever_by_says(tmp_path):
    s = Store(tmp_path)
    qid = s.put(BINARY)
    out = os.path.join(s.dir, "released.bin")
    env = {k: v for k, v in os.environ.items() if k != "SUDO_USER"}
    s.run("quarantine", "request", qid, "--by", "alice", "--reason", "r", env=env, check=0)
    r = s.run("quarantine", "approve", qid, "--by", "bob", "-o", out, env=env)
    assert r.returncode == 65 and b"may not approve" in r.stderr
    assert s.sql("SELECT actor, action FROM audit WHERE object=? AND action LIKE"
                 " 'quarantine.%' ORDER BY seq", qid) == [
        (OS_ACTOR, "quarantine.put"), (OS_ACTOR, "quarantine.request"),
        (OS_ACTOR, "quarantine.approve.refused")]


def test_self_approval_allowed_when_configured(tmp_path):
    s = Store(tmp_path, release_distinct_approver="no")
    qid = s.put(b"x")
    s.run("quarantine", "request", qid, "--by", "solo", "--reason", "r", check=0)
    s.run("quarantine", "approve", qid, "--by", "solo", "--queue", check=0)
    assert s.sql("SELECT release_to FROM quarantine")[0][0] == "queue"


def age(s, qid, days):
    s.sql("UPDATE quarantine SET received = received - ? WHERE id=?", days * 86400, qid)


def test_purge_respects_retention_and_removes_last_reference(tmp_path):
    s = Store(tmp_path, retention_days=30)
    old = s.put(b"old original")
    shared_old = s.put(b"shared original")
    shared_new = s.put(b"shared original")
    young = s.put(b"young original")
    for q in (old, shared_old):
        age(s, q, 31)
    age(s, young, 29)
    r = s.run("quarantine", "purge", "--older-than", "10")
    assert r.returncode == 65 and b"retention_days is 30" in r.stderr
    out = s.run("quarantine", "purge", check=0).stdout.decode()
    assert "2 originals older than 30 days expired, 2 blobs removed" in out
    st = dict(s.sql("SELECT id, status FROM quarantine"))
    assert st == {old: "expired", shared_old: "expired", shared_new: "held", young: "held"}
    subj = s.sql("SELECT env_from, subject, report FROM quarantine WHERE id=?", old)
    assert subj == [("", "", "{}")], "personal data is wiped from expired rows"
    assert s.run("quarantine", "get", old, "-o", os.path.join(s.dir, "o")).returncode == 65
    s.run("quarantine", "get", shared_new, "-o", os.path.join(s.dir, "o2"), check=0)
    acts = [a for (a,) in s.sql("SELECT action FROM audit WHERE action LIKE "
                                "'quarantine.purge%' OR action='quarantine.expire'")]
    assert acts == ["quarantine.purge.refused", "quarantine.expire", "quarantine.expire",
                    "quarantine.purge"]
    assert s.verify()[0] == 0


def test_purge_sweeps_orphans_and_stale_temp_files(tmp_path):
    s = Store(tmp_path)
    keep = s.put(b"kept")
    shard = os.path.join(s.state, "blobs", "ab")
    os.makedirs(shard, exist_ok=True)
    orphan = os.path.join(shard, "ab" + "0" * 62)
    tmpf = os.path.join(shard, ".tmp-1-deadbeef")
    fresh = os.path.join(shard, "ab" + "1" * 62)
    for p in (orphan, tmpf, fresh):
        open(p, "wb").close()
    past = time.time() - 7200
    os.utime(orphan, (past, past))
    os.utime(tmpf, (past, past))
    s.run("quarantine", "purge", check=0)
    assert not os.path.exists(orphan) and not os.path.exists(tmpf)
    assert os.path.exists(fresh), "a blob younger than the grace period may be a put in flight"
    s.run("quarantine", "get", keep, "-o", os.path.join(s.dir, "o"), check=0)


def test_usage(tmp_path):
    s = Store(tmp_path)
    s.put(b"x")
    assert s.run("quarantine").returncode == 64
    assert s.run("quarantine", "get", "20260101-000000-00000000").returncode == 64
    assert s.run("quarantine", "request", "20260101-000000-00000000",
                 "--by", "a").returncode == 64
