#!/usr/bin/env python3
"""Regenerate the generated tables in README.md from the binary: the config table
(`mugai config defaults --markdown`) and the compile-time caps list
(`mugai config caps --markdown`)."""
import subprocess
import sys

mugai = sys.argv[1] if len(sys.argv) > 1 else "build/mugai"
TABLES = (("config-table", ["config", "defaults", "--markdown"]),
          ("caps-table", ["config", "caps", "--markdown"]))

text = open("README.md", encoding="utf-8").read()
for marker, args in TABLES:
    begin = text.index("\n", text.index(f"<!-- {marker}:begin")) + 1
    end = text.index(f"<!-- {marker}:end -->")
    table = subprocess.run([mugai, *args], capture_output=True, text=True, check=True).stdout
    text = text[:begin] + table + text[end:]
open("README.md", "w", encoding="utf-8").write(text)
