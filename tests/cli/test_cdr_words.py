"""Every CDR action and block reason a clerk can see has a Japanese sentence
(src/cdr/words.c), and the README lists each code with that same sentence
(issue #9: "each reason code and its Japanese wording"). The codes are read
from the C sources: every cdr_action/cdr_block/note format string starts
with its code."""
import glob
import os
import re

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def words_tables():
    s = open(os.path.join(ROOT, "src/cdr/words.c"), encoding="utf-8").read()

    def table(name):
        body = s[s.index(name):]
        return re.findall(r'\{ "([^"]+)", "([^"]+)" \}', body[:body.index("};")])
    return dict(table("action_words[]")), dict(table("reason_words[]"))


def codes_in_sources():
    used = {"action": set(), "reason": set()}
    for f in glob.glob(os.path.join(ROOT, "src/cdr/*.c")):
        s = open(f, encoding="utf-8").read()
        for kind, fn in (("action", r"cdr_action"), ("reason", r"cdr_block")):
            for m in re.finditer(fn + r'\([^,]+,\s*"([^"%]*)', s):
                if m.group(1):
                    used[kind].add(m.group(1).split(": ")[0])
        for m in re.finditer(r'note\(pj, "([a-z-]+): ', s):
            used["action"].add(m.group(1))
    return used


def known(code, table):
    return code in table or any(k.endswith(":") and code.startswith(k) for k in table)


def test_every_code_in_the_sources_has_a_sentence():
    acts, reas = words_tables()
    used = codes_in_sources()
    assert len(used["action"]) > 30 and len(used["reason"]) > 15
    assert sorted(c for c in used["action"] if not known(c, acts)) == []
    assert sorted(c for c in used["reason"] if not known(c, reas)) == []
    for code in used["action"] | used["reason"]:      # a code, not an English phrase
        assert re.fullmatch(r"[a-z][a-z0-9-]*(:[a-z_]*)?", code), code


def test_readme_lists_every_code_with_its_sentence():
    acts, reas = words_tables()
    readme = open(os.path.join(ROOT, "README.md"), encoding="utf-8").read().splitlines()
    rows = [line for line in readme if line.startswith("| `")]
    missing = []
    for code, ja in list(acts.items()) + list(reas.items()):
        shown = {"limit:": "`limit:<other>`", "policy:": "`policy:<key>`"}.get(code, "`%s`" % code)
        if not any(shown in r and "| %s |" % ja in r for r in rows):
            missing.append((code, ja))
    assert missing == []
