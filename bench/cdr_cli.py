#!/usr/bin/env python3
"""bench/cdr_cli.py BUILD — `mugai file sanitize --mode flatten` on generated
text PDFs of 25, 100 and 400 pages: the peak resident memory of the command
and its worker together (measured in a fresh interpreter, its children only),
against issue #12's target: 100 and 400 pages within 10 % of each other."""
import json
import os
import resource
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "cli"))
from test_file_pdf_stream_out import text_pdf  # noqa: E402

BUILD = sys.argv[1] if len(sys.argv) > 1 else "build"
CODE = ("import resource, subprocess, sys\n"
        "r = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL)\n"
        "print(r.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n")


def main():
    peaks = {}
    with tempfile.TemporaryDirectory() as d:
        for n in (25, 100, 400):
            src, out, rep = (os.path.join(d, x) for x in (f"in{n}.pdf", f"out{n}.pdf", "r.json"))
            with open(src, "wb") as f:
                f.write(text_pdf(n))
            r = subprocess.run([sys.executable, "-c", CODE, f"{BUILD}/mugai", "file", "sanitize",
                                "-r", rep, "--mode", "flatten", src, out],
                               capture_output=True, text=True, check=True)
            code, kb = (int(x) for x in r.stdout.split())
            verdict = json.load(open(rep))["verdict"]
            peaks[n] = kb / 1024
            print(f"cli flatten text pages={n:<4} {verdict}  out={os.path.getsize(out) / 2**20:5.1f} MB  "
                  f"peak RSS (command + worker) {peaks[n]:5.1f} MB")
    grow = 100 * (peaks[400] / peaks[100] - 1)
    print(f"cli flatten peak RSS 400 vs 100 pages: {peaks[400]:.1f} vs {peaks[100]:.1f} MB "
          f"({grow:+.1f} %; target within 10 %: {'met' if abs(grow) <= 10 else 'not met'})")


main()
