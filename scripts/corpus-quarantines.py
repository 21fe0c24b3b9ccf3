#!/usr/bin/env python3
"""List every quarantine of the mail corpus with its reason, and check the
accounting invariant (parts_total = parts_rendered + parts_listed) on every
message that is delivered.

usage: scripts/corpus-quarantines.py [MUGAI] [CORPUS_DIR]
Prints one line per quarantined message: path, limits, warnings; then a
summary; exit status 1 when the invariant fails anywhere."""
import json
import os
import subprocess
import sys
import tempfile

mugai = sys.argv[1] if len(sys.argv) > 1 else "build/mugai"
root = sys.argv[2] if len(sys.argv) > 2 else os.path.join(
    os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "shared", "corpus", "mail")
bad, quarantined, total = [], [], 0
with tempfile.TemporaryDirectory() as d:
    out, rep = os.path.join(d, "out.eml"), os.path.join(d, "r.json")
    for dirpath, _, files in sorted(os.walk(root)):
        for f in sorted(files):
            if not f.endswith(".eml"):
                continue
            path = os.path.join(dirpath, f)
            total += 1
            subprocess.run([mugai, "mail", "sanitize", "-r", rep, path, out],
                           capture_output=True, check=True, timeout=120)
            with open(rep) as fh:
                r = json.load(fh)
            rel = os.path.relpath(path, root)
            if r["verdict"] == "quarantined":
                why = [" ".join(w.split()) for w in r["limits_hit"] + r["warnings"]]
                quarantined.append(rel)
                print(f"{rel}\t{'; '.join(why)}")
            elif r["parts_total"] != r["parts_rendered"] + r["parts_listed"]:
                bad.append(rel)
                print(f"ACCOUNTING {rel}: total {r['parts_total']} rendered "
                      f"{r['parts_rendered']} listed {r['parts_listed']}", file=sys.stderr)
print(f"{len(quarantined)} of {total} quarantined; accounting failures: {len(bad)}")
sys.exit(1 if bad else 0)
