#!/usr/bin/env python3
"""Independent check of a mugai audit chain, for auditors.

Reads `mugai audit export --format jsonl` (file argument or stdin),
recomputes every record hash as documented in README.md, "The audit trail", and prints
"ok N HEAD" or the first broken seq. Exit 0 when the chain holds.
"""
import hashlib
import json
import sys

FIELDS = ("seq", "time", "actor", "action", "object", "details", "prev_hash")


def record_hash(rec):
    h = hashlib.sha256(b"mugai-audit-v1\n")
    for name in FIELDS:
        b = str(rec[name]).encode("utf-8")
        h.update(str(len(b)).encode() + b":" + b + b"\n")
    return h.hexdigest()


def verify(lines):
    prev, seq = "0" * 64, 0
    for line in lines:
        rec, seq = json.loads(line), seq + 1
        if rec["seq"] != seq:
            return False, f"seq {seq}: missing"
        if rec["prev_hash"] != prev or record_hash(rec) != rec["hash"]:
            return False, f"seq {seq}: broken"
        prev = rec["hash"]
    return True, f"ok {seq} {prev}"


if __name__ == "__main__":
    src = open(sys.argv[1], encoding="utf-8") if len(sys.argv) > 1 else sys.stdin
    good, msg = verify(src)
    print(msg)
    sys.exit(0 if good else 1)
