#!/usr/bin/env python3
"""check-caps.py [ROOT] — refuse a literal cap outside src/common/limits.h.

Every runtime limit and compile-time cap of mugai has a name, a value and a
reason in src/common/limits.h (DESIGN.md, promise 6). This check, run first by
`make check`, fails naming file and line when a C source under ROOT/src (default:
the current directory) writes a cap as a bare number instead. The rules, on the
code with comments and string literals blanked:

  define  `#define NAME <number...>` where NAME has a word MAX, CAP, LIMIT or
          DEPTH (FOO_MAX, FOO_MAX_MS, CAP_FOO...): such a name belongs in
          MUGAI_CAPS.
  array   an array dimension written as a decimal number of 256 or more
          (`char path[4096]`): name its cap (PATH_BUF_MAX, IO_CHUNK...).
  buffer  buf_init() whose cap is a constant of numbers only, of 256 or more
          (`buf_init(&b, 64 * 1024)`), or SIZE_MAX: name the cap, or say
          UNCAPPED_BY(LIM_x) when the table limit x bounds the input upstream.
  uncapped  UNCAPPED_BY() whose argument is not one table limit (LIM_x).

Smaller numbers are sizes of a format (a hash in hex, a time stamp, digits),
not caps. Exit 0 when clean, 1 with one line per finding otherwise.
"""
import os
import re
import sys

EXEMPT = "src/common/limits.h"
THRESHOLD = 256
CAP_WORD = re.compile(r"(^|_)(MAX|CAP|LIMIT|DEPTH)(_|$)")
DEFINE = re.compile(r"^\s*#\s*define\s+([A-Za-z_]\w*)\s+\(*\s*(?:\(\s*\w+\s*\)\s*)?\d")
ARRAY = re.compile(r"\[\s*(\d+)[uUlL]*\s*\]")
BUF_INIT = re.compile(r"\bbuf_init\s*\(")
UNCAPPED = re.compile(r"\bUNCAPPED_BY\s*\(([^()]*)\)")
NUMERIC = re.compile(r"^[\s\d()+\-*/<>xXa-fA-FuUlL]*$")
CASTS = re.compile(r"\(\s*(size_t|unsigned|int|long|long long|uint64_t)\s*\)")


def blank(text):
    """Comments and string/char literals replaced by spaces (newlines kept)."""
    out, i, n = [], 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append(re.sub(r"[^\n]", " ", text[i:j]))
            i = j
        elif text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            out.append(" " * (j - i))
            i = j
        elif c in "\"'":
            j = i + 1
            while j < n and text[j] != c and text[j] != "\n":
                j += 2 if text[j] == "\\" else 1
            j = min(j + 1, n)
            out.append(c + re.sub(r"[^\n]", " ", text[i + 1:j - 1]) + c)
            i = j
        else:
            out.append(c)
            i += 1
    return "".join(out)


def call_arg(code, start):
    """The text of the 2nd argument of the call whose '(' is at start."""
    depth, args, cur = 0, [], []
    for i in range(start, len(code)):
        ch = code[i]
        if ch == "(":
            depth += 1
            if depth == 1:
                continue
        elif ch == ")":
            depth -= 1
            if depth == 0:
                args.append("".join(cur))
                break
        elif ch == "," and depth == 1:
            args.append("".join(cur))
            cur = []
            continue
        cur.append(ch)
    return args[1].strip() if len(args) > 1 else ""


def numeric_value(expr):
    """The value of a numbers-only expression, or None."""
    e = CASTS.sub("", expr)
    if not NUMERIC.match(e) or not re.search(r"\d", e):
        return None
    try:
        return int(eval(re.sub(r"(?<=[\dA-Fa-f])[uUlL]+", "", e), {"__builtins__": {}}))
    except Exception:  # not a plain constant: not ours to judge
        return None


def check_file(path, rel):
    code = blank(open(path, encoding="utf-8", errors="replace").read())
    found = []
    line_of = lambda pos: code.count("\n", 0, pos) + 1
    for no, line in enumerate(code.split("\n"), 1):
        m = DEFINE.match(line)
        if m and CAP_WORD.search(m.group(1)):
            found.append((no, f"#define {m.group(1)} with a number: move it to MUGAI_CAPS"))
        for a in ARRAY.finditer(line):
            if int(a.group(1)) >= THRESHOLD:
                found.append((no, f"array size [{a.group(1)}]: name its cap in MUGAI_CAPS"))
    for m in UNCAPPED.finditer(code):
        if not re.fullmatch(r"\s*LIM_[A-Z0-9_]+\s*", m.group(1)):
            found.append((line_of(m.start()), f"UNCAPPED_BY({m.group(1)}): name one table "
                          "limit, LIM_x"))
    for m in BUF_INIT.finditer(code):
        arg = call_arg(code, m.end() - 1)
        v = numeric_value(arg)
        if "SIZE_MAX" in arg and numeric_value(arg.replace("SIZE_MAX", "1")) is not None:
            found.append((line_of(m.start()), f"buf_init cap {arg}: name the cap or "
                          "UNCAPPED_BY(LIM_x)"))
        elif v is not None and v >= THRESHOLD:
            found.append((line_of(m.start()), f"buf_init cap {arg}: name its cap in MUGAI_CAPS"))
    return [f"{rel}:{no}: literal cap: {why}" for no, why in sorted(found)]


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else "."
    bad = []
    for d, _, files in sorted(os.walk(os.path.join(root, "src"))):
        for f in sorted(files):
            if not f.endswith((".c", ".h")):
                continue
            path = os.path.join(d, f)
            rel = os.path.relpath(path, root)
            if rel != EXEMPT:
                bad += check_file(path, rel)
    for b in bad:
        print(b)
    if bad:
        print(f"check-caps: {len(bad)} literal cap(s); every cap has a name, a value and a "
              f"reason in {EXEMPT}", file=sys.stderr)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
