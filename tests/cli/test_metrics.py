"""mugaid's metrics file as node_exporter's textfile collector reads it: a
*.prom name (else `mugaid -n` refuses it), replaced whole, mode 0644, and the
Prometheus text format 0.0.4 parsed strictly: HELP and TYPE once per family,
before its samples, a family's samples contiguous, counters named *_total, the
message time a summary of _sum and _count; the counts are those of the mail
sent."""
import os
import re
import smtplib
import stat
import subprocess
import time

from daemonutil import MUGAID, Daemon

NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
SAMPLE = re.compile(r'([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([a-zA-Z_]\w*="(?:[^"\\\n]|\\.)*"'
                    r'(?:,[a-zA-Z_]\w*="(?:[^"\\\n]|\\.)*")*)\})? (\d+)')


def family_of(name, types):
    for sfx in ("_sum", "_count"):
        if name.endswith(sfx) and types.get(name[:-len(sfx)]) == "summary":
            return name[:-len(sfx)]
    return name


def parse_prom(text):
    """{family: {"help", "type", "samples": {name{labels}: value}}}, or AssertionError."""
    assert text.endswith("\n") and "\r" not in text
    fams, types, order, current = {}, {}, [], None
    for line in text.splitlines():
        if line.startswith("# HELP "):
            name, help_ = line[7:].split(" ", 1)
            assert NAME.fullmatch(name) and name not in fams, line
            assert help_.strip(), line
            fams[name] = {"help": help_, "type": None, "samples": {}}
            current = name
        elif line.startswith("# TYPE "):
            name, typ = line[7:].split(" ")
            assert name == current and fams[name]["type"] is None, line
            assert typ in ("counter", "gauge", "summary", "histogram", "untyped"), line
            fams[name]["type"] = types[name] = typ
            order.append(name)
        else:
            m = SAMPLE.fullmatch(line)
            assert m, line
            fam = family_of(m.group(1), types)
            assert fam == current, f"{line}: sample outside its family block"
            if types[fam] == "counter":
                assert m.group(1).endswith("_total"), line
            key = m.group(1) + (m.group(2) or "")
            assert key not in fams[fam]["samples"], line
            fams[fam]["samples"][key] = int(m.group(4))
    assert all(f["type"] and f["samples"] for f in fams.values())
    return fams


def test_the_metrics_file_is_what_the_textfile_collector_reads(tmp_path):
    prom = tmp_path / "textfile" / "mugaid.prom"
    prom.parent.mkdir()
    d = Daemon(tmp_path, metrics_file=str(prom))
    old = os.umask(0o077)
    try:
        d.start()
    finally:
        os.umask(old)
    try:
        with smtplib.SMTP("127.0.0.1", d.port, timeout=60) as s:
            s.sendmail("yamada@example.jp", ["b@lg.example.jp"],
                       b"From: yamada@example.jp\r\nTo: b@lg.example.jp\r\nSubject: hi\r\n\r\nhello\r\n")
        end = time.monotonic() + 15
        while time.monotonic() < end:
            fams = parse_prom(prom.read_text())
            if fams["mugaid_messages_delivered_total"]["samples"][
                    "mugaid_messages_delivered_total"] == 1:
                break
            time.sleep(0.2)
        assert stat.S_IMODE(os.stat(prom).st_mode) == 0o644
        assert sorted(os.listdir(prom.parent)) == ["mugaid.prom"]
    finally:
        assert d.stop() == 0
    fams = parse_prom(prom.read_text())
    assert fams["mugaid_message_milliseconds"]["type"] == "summary"
    assert set(fams["mugaid_message_milliseconds"]["samples"]) == {
        "mugaid_message_milliseconds_sum", "mugaid_message_milliseconds_count"}
    assert fams["mugaid_message_milliseconds"]["samples"]["mugaid_message_milliseconds_count"] == 1
    assert fams["mugaid_verdicts_total"]["help"] == "verdicts of delivered messages"
    assert sum(fams["mugaid_verdicts_total"]["samples"].values()) == 1
    assert fams["mugaid_tempfail_total"]["samples"] == {
        f'mugaid_tempfail_total{{reason="{r}"}}': 0
        for r in ("worker", "store", "next_hop", "spool", "antivirus")}
    assert fams["mugaid_messages_received_total"]["samples"] == {
        "mugaid_messages_received_total": 1}


def test_a_metrics_file_not_named_prom_is_refused(tmp_path):
    cf = tmp_path / "m.cf"
    cf.write_text(f"metrics_file = {tmp_path}/mugaid.txt\n")
    r = subprocess.run([MUGAID, "-n", "-c", str(cf)], capture_output=True, text=True,
                       timeout=30)
    assert (r.returncode, r.stderr) == (78, (
        f"mugaid: config: metrics_file {tmp_path}/mugaid.txt: must be named NAME.prom "
        "(node_exporter's textfile collector reads only *.prom)\n"))
