"""Blob segments (issue 12 part 2): originals appended to state_dir/blobs/
seg-NNNNNN, one flush per transaction; purge really removes their bytes;
the per-file layout of older stores is still read and purged; the tail a
killed writer left behind is cut; a new segment past store_segment_max."""
import fcntl
import hashlib
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
from storeutil import Store  # noqa: E402


def age(s, qid, days):
    s.sql("UPDATE quarantine SET received = received - ? WHERE id=?", days * 86400, qid)


def get(s, qid, name):
    out = os.path.join(s.dir, name)
    r = s.run("quarantine", "get", qid, "-o", out)
    return r.returncode, open(out, "rb").read() if r.returncode == 0 else r.stderr


def test_puts_append_to_one_segment_in_order(tmp_path):
    s = Store(tmp_path)
    a, b = b"first original\r\n" * 10, bytes(range(256)) * 3
    qa, qb = s.put(a), s.put(b)
    assert s.location(qa) == (1, 0, len(a))
    assert s.location(qb) == (1, len(a), len(b))
    assert os.path.getsize(s.seg_path(1)) == len(a) + len(b)
    assert s.original_bytes(qa) == a and s.original_bytes(qb) == b
    assert get(s, qb, "b") == (0, b)


def test_purge_deallocates_the_bytes_and_keeps_the_neighbours(tmp_path):
    s = Store(tmp_path, retention_days=30)
    secret = b"MYNUMBER-0123-4567-8901 " * 20000  # 480 KB: whole blocks to punch
    keep = b"kept original\r\n" * 100
    qold, qkeep = s.put(secret), s.put(keep)
    age(s, qold, 31)
    before = os.stat(s.seg_path(1)).st_blocks
    out = s.run("quarantine", "purge", check=0).stdout.decode()
    assert "1 originals older than 30 days expired, 1 blobs removed" in out
    data = open(s.seg_path(1), "rb").read()
    assert b"MYNUMBER" not in data, "the purged original's bytes must be gone"
    no, off, size = s.location(qold)
    assert data[off:off + size] == b"\0" * size
    assert os.stat(s.seg_path(1)).st_blocks < before
    assert get(s, qkeep, "k") == (0, keep)
    rc, err = get(s, qold, "o")
    assert rc == 65 and b"expired" in err
    assert s.verify()[0] == 0


def test_a_segment_whose_originals_all_expired_is_removed(tmp_path):
    s = Store(tmp_path, retention_days=30, store_segment_max="1M")
    big = [os.urandom(700 * 1024) for _ in range(3)]
    ids = [s.put(x) for x in big]
    assert [s.location(q)[0] for q in ids] == [1, 1, 2], "a new segment past the limit"
    for q in ids[:2]:
        age(s, q, 31)
    out = s.run("quarantine", "purge", check=0).stdout.decode()
    assert "2 originals older than 30 days expired, 2 blobs removed" in out
    assert not os.path.exists(s.seg_path(1))
    assert get(s, ids[2], "c") == (0, big[2])


def test_the_tail_of_a_killed_writer_is_cut_by_the_next_one(tmp_path):
    """A writer killed after appending and before its commit leaves bytes
    no row points to; the next writer of that segment starts where the
    committed originals end, so those bytes are overwritten and cut."""
    s = Store(tmp_path)
    a = b"committed\r\n" * 50
    qa = s.put(a)
    with open(s.seg_path(1), "ab") as f:
        f.write(b"UNCOMMITTED-ORIGINAL " * 5000)
    b = b"next\r\n"
    qb = s.put(b)
    assert s.location(qb) == (1, len(a), len(b))
    assert os.path.getsize(s.seg_path(1)) == len(a) + len(b)
    assert b"UNCOMMITTED" not in open(s.seg_path(1), "rb").read()
    assert get(s, qa, "a") == (0, a)


def test_purge_cuts_a_tail_no_writer_took_over(tmp_path):
    s = Store(tmp_path, store_segment_max="1M")
    a = os.urandom(1100 * 1024)
    qa = s.put(a)        # segment 1 is full after it
    qb = s.put(b"b")     # segment 2
    assert s.location(qb)[0] == 2
    with open(s.seg_path(1), "ab") as f:
        f.write(b"UNCOMMITTED-ORIGINAL " * 100)
    s.run("quarantine", "purge", check=0)
    assert os.path.getsize(s.seg_path(1)) == len(a)
    assert get(s, qa, "a") == (0, a)


def test_per_file_originals_of_older_stores_are_read_and_purged(tmp_path):
    """Rows from before schema v6 have no segment: their original is the
    file blobs/ab/abcd... (content-addressed); it is still read, checked,
    and removed by purge when no live row references it."""
    s = Store(tmp_path, retention_days=30)
    data = b"an original stored before v6\r\n" * 30
    qid = s.put(data)
    digest = hashlib.sha256(data).hexdigest()
    shard = os.path.join(s.state, "blobs", digest[:2])
    os.makedirs(shard, mode=0o700)
    with open(os.path.join(shard, digest), "wb") as f:
        f.write(data)
    s.sql("UPDATE quarantine SET seg=NULL, seg_off=NULL WHERE id=?", qid)
    os.truncate(s.seg_path(1), 0)
    assert get(s, qid, "o1") == (0, data)
    age(s, qid, 31)
    out = s.run("quarantine", "purge", check=0).stdout.decode()
    assert "1 originals older than 30 days expired, 1 blobs removed" in out
    assert not os.path.exists(os.path.join(shard, digest))
    assert s.verify()[0] == 0


def test_a_writer_finding_the_segment_held_takes_the_next(tmp_path):
    """Another writer (mugaid's store process) holds segment 1: the CLI's
    put goes to segment 2, and a later put without the holder goes back to
    the highest one."""
    s = Store(tmp_path)
    s.put(b"one")
    with open(s.seg_path(1), "rb") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        q2 = s.put(b"two")
        assert s.location(q2)[:2] == (2, 0)
    q3 = s.put(b"three")
    assert s.location(q3)[:2] == (2, 3)
    for q, want in ((q2, b"two"), (q3, b"three")):
        assert s.original_bytes(q) == want
