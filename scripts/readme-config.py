#!/usr/bin/env python3
"""Regenerate the config table in README.md from `mugai config defaults --markdown`."""
import subprocess
import sys

mugai = sys.argv[1] if len(sys.argv) > 1 else "build/mugai"
text = open("README.md", encoding="utf-8").read()
begin = text.index("\n", text.index("<!-- config-table:begin")) + 1
end = text.index("<!-- config-table:end -->")
table = subprocess.run([mugai, "config", "defaults", "--markdown"], capture_output=True,
                       text=True, check=True).stdout
open("README.md", "w", encoding="utf-8").write(text[:begin] + table + text[end:])
