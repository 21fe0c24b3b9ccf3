"""One caps list: scripts/check-caps.py passes on the tree and fails, naming file
and line, on each kind of literal cap injected into a copy of it; every cap of
`mugai config caps` derives from a real limit or key (or "none")."""
import os
import re
import shutil
import subprocess
import sys

from mailutil import MUGAI, ROOT

CHECK = os.path.join(ROOT, "scripts", "check-caps.py")


def run_check(root):
    return subprocess.run([sys.executable, CHECK, root], capture_output=True, text=True)


def copy_src(tmp_path):
    shutil.copytree(os.path.join(ROOT, "src"), tmp_path / "src")
    return tmp_path


def inject(root, rel, after, line):
    """Insert line after the first line containing `after`; returns its line number."""
    path = root / rel
    lines = path.read_text(encoding="utf-8").split("\n")
    at = next(i for i, l in enumerate(lines) if after in l) + 1
    lines.insert(at, line)
    path.write_text("\n".join(lines), encoding="utf-8")
    return at + 1


def test_the_tree_has_no_literal_cap():
    r = run_check(ROOT)
    assert (r.returncode, r.stdout, r.stderr) == (0, "", "")


def test_make_check_runs_it_first():
    mk = open(os.path.join(ROOT, "Makefile"), encoding="utf-8").read()
    recipe = mk[mk.index("\ncheck: deps\n"):].split("\n")[2]
    assert recipe.strip() == "@$(MAKE) --no-print-directory check-caps"


def test_a_defined_cap_fails(tmp_path):
    root = copy_src(tmp_path)
    n = inject(root, "src/mail/sanitize.c", '#include "mail/mail_int.h"', "#define PARTS_MAX 123")
    r = run_check(str(root))
    assert r.returncode == 1
    assert r.stdout == (f"src/mail/sanitize.c:{n}: literal cap: #define PARTS_MAX with a number: "
                        "move it to MUGAI_CAPS\n")
    assert r.stderr == ("check-caps: 1 literal cap(s); every cap has a name, a value and a "
                        "reason in src/common/limits.h\n")


def test_every_cap_word_and_form_is_caught(tmp_path):
    root = copy_src(tmp_path)
    rel = "src/text/link.c"
    bad = ["#define URL_DEPTH (64)", "# define HOPS_LIMIT 5", "#define CAP_WORDS 10u",
           "#define WAIT_MAX_MS 100"]
    lines = [inject(root, rel, '#include "text/link.h"', b) for b in reversed(bad)]
    r = run_check(str(root))
    names = ["URL_DEPTH", "HOPS_LIMIT", "CAP_WORDS", "WAIT_MAX_MS"]
    got = re.findall(r"#define (\w+) with a number", r.stdout)
    assert r.returncode == 1 and sorted(got) == sorted(names), r.stdout
    assert len(lines) == 4


def test_an_array_sized_by_a_number_fails(tmp_path):
    root = copy_src(tmp_path)
    n = inject(root, "src/store/blob.c", '#include "common/limits.h"', "static char spare[4096];")
    r = run_check(str(root))
    assert r.returncode == 1
    assert r.stdout == (f"src/store/blob.c:{n}: literal cap: array size [4096]: name its cap "
                        "in MUGAI_CAPS\n")


def test_literal_buf_init_caps_fail(tmp_path):
    root = copy_src(tmp_path)
    rel = "src/cdr/zip.c"
    n1 = inject(root, rel, '#include "common/utf8.h"',
                "static void spare(buf_t *b) { buf_init(b, (size_t)64 << 20); }")
    n2 = inject(root, rel, "static void spare(", "static void spare2(buf_t *b) { buf_init(b,\n"
                "\tSIZE_MAX / 2); }")
    r = run_check(str(root))
    assert r.returncode == 1
    assert r.stdout == (
        f"src/cdr/zip.c:{n1}: literal cap: buf_init cap (size_t)64 << 20: name its cap in "
        "MUGAI_CAPS\n"
        f"src/cdr/zip.c:{n2}: literal cap: buf_init cap SIZE_MAX / 2: name the cap or "
        "UNCAPPED_BY(LIM_x)\n")


def test_named_small_and_commented_numbers_pass(tmp_path):
    root = copy_src(tmp_path)
    rel = "src/cdr/zip.c"
    for line in ["static char hex[65];", "/* char old[4096]; #define OLD_MAX 9 */",
                 'static const char *s = "[4096]";', "static char p[PATH_BUF_MAX];",
                 "static void f(buf_t *b, size_t n) { buf_init(b, n * 3 + 64); }",
                 "static void g(buf_t *b) { buf_init(b, UNCAPPED_BY(LIM_FILE_SIZE)); }",
                 "#define OLD_SIZE 4096"]:
        inject(root, rel, '#include "common/utf8.h"', line)
    r = run_check(str(root))
    assert (r.returncode, r.stdout) == (0, "")


def test_limits_h_itself_is_the_place(tmp_path):
    root = copy_src(tmp_path)
    inject(root, "src/common/limits.h", "#include <stdint.h>", "#define NEW_MAX 42")
    assert run_check(str(root)).returncode == 0


def caps():
    out = subprocess.run([MUGAI, "config", "caps"], capture_output=True, text=True,
                         check=True).stdout
    return [re.fullmatch(r"(\w+) = (\d+) \(([\w-]+)\)", l).groups() for l in out.splitlines()]


def test_every_cap_derives_from_a_real_limit_or_key():
    keys = {l.split(" = ")[0] for l in subprocess.run(
        [MUGAI, "config", "defaults"], capture_output=True, text=True,
        check=True).stdout.splitlines()}
    got = caps()
    assert len(got) > 60
    for name, _, frm in got:
        assert frm == "none" or frm in keys, (name, frm)


def test_the_session_slots_hold_two_generations_of_max_sessions(tmp_path):
    cf = tmp_path / "m.cf"
    cf.write_text("max_sessions = 999999\n")
    r = subprocess.run([MUGAI, "config", "check", "-c", str(cf)], capture_output=True,
                       text=True)
    top = int(re.search(r"\[1, (\d+)\]", r.stderr).group(1))
    slots = dict((n, int(v)) for n, v, _ in caps())["SLOTS_MAX"]
    assert slots >= 2 * top


def limit_max(name):
    md = subprocess.run([MUGAI, "config", "defaults", "--markdown"], capture_output=True,
                        text=True, check=True).stdout
    return int(re.search(rf"^\| `{name}` \| \d+ \| \w+ \| \d+–(\d+) \|", md, re.M).group(1))


def test_the_stored_recipient_list_holds_the_most_recipients():
    c = dict((n, int(v)) for n, v, _ in caps())
    most = limit_max("smtp_recipients_max")
    assert most == 100000
    assert c["STORE_RCPT_LIST_MAX"] >= most * (c["SMTP_PATH_MAX"] + 1)



def test_uncapped_names_one_table_limit(tmp_path):
    root = copy_src(tmp_path)
    n = inject(root, "src/cdr/zip.c", '#include "common/utf8.h"',
               "static void spare(buf_t *b) { buf_init(b, UNCAPPED_BY(1 << 30)); }")
    r = run_check(str(root))
    assert r.returncode == 1
    assert r.stdout == (f"src/cdr/zip.c:{n}: literal cap: UNCAPPED_BY(1 << 30): name one table "
                        "limit, LIM_x\n")
