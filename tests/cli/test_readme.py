"""The README's config table and caps list are the ones the binary prints, and
every command the usage text lists is documented."""
import os
import subprocess

from mailutil import MUGAI, ROOT


def readme():
    return open(os.path.join(ROOT, "README.md"), encoding="utf-8").read()


def test_config_table_matches_the_binary():
    text = readme()
    begin = text.index("<!-- config-table:begin")
    begin = text.index("\n", begin) + 1
    end = text.index("<!-- config-table:end -->")
    table = subprocess.run([MUGAI, "config", "defaults", "--markdown"], capture_output=True,
                           text=True, check=True).stdout
    assert text[begin:end] == table, "README config table is stale: regenerate it"


def test_caps_list_matches_the_binary():
    text = readme()
    begin = text.index("\n", text.index("<!-- caps-table:begin")) + 1
    end = text.index("<!-- caps-table:end -->")
    table = subprocess.run([MUGAI, "config", "caps", "--markdown"], capture_output=True,
                           text=True, check=True).stdout
    assert text[begin:end] == table, "README caps list is stale: regenerate it (make readme)"


def test_every_usage_line_is_documented():
    usage = subprocess.run([MUGAI], capture_output=True, text=True).stderr
    text = readme()
    for line in usage.splitlines():
        words = line.replace("usage:", "").split()
        cmd = " ".join(w for w in words[:3] if w.isalpha())
        assert cmd in text, cmd
