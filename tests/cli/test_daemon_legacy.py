"""mugaid with attachments = sanitize: legacy attachments are converted in
LibreOffice's jail by the session process between two passes of its
sandboxed worker (mail/conv.h), and reach the Maildir as PDFs of pictures;
a conversion that trips a limit blocks that attachment only."""
import smtplib
import time

import pytest

from daemonutil import Daemon, parse
from test_file_legacy import HAVE, docs, needs_jail  # noqa: F401
from test_mail_legacy import ACTION, CTYPES, assert_pictures_only, with_files

pytestmark = pytest.mark.skipif(not HAVE, reason="bwrap, LibreOffice, poppler or test_jail missing")


def deliver(d, data, timeout=120):
    with smtplib.SMTP("127.0.0.1", d.port, timeout=timeout) as s:
        s.sendmail("a@example.jp", ["b@example.lg.jp"], data.replace(b"\n", b"\r\n"))
    end = time.monotonic() + 30
    while not d.delivered("b@example.lg.jp") and time.monotonic() < end:
        time.sleep(0.2)
    return parse(d.delivered("b@example.lg.jp")[0])


def notice(m):
    first = next(m.iter_parts()) if m.is_multipart() else m
    return first.get_payload(decode=True).decode("utf-8")


@needs_jail
def test_daemon_converts_legacy_attachments(tmp_path, docs):  # noqa: F811
    d = Daemon(tmp_path, attachments="sanitize").start()
    try:
        m = deliver(d, with_files(("見積書.doc", CTYPES["doc"], docs[1]["doc"][0]),
                                  ("集計.xls", CTYPES["xls"], docs[1]["xls"][0])))
        assert "verdict=sanitized" in str(m["X-Mugai-Sanitized"])
        atts = [(a.get_filename(), a.get_content_type(), a.get_payload(decode=True))
                for a in m.iter_attachments()]
        assert [(n, c) for n, c, _ in atts] == [("見積書.pdf", "application/pdf"),
                                                 ("集計.pdf", "application/pdf")]
        for _, _, pdf in atts:
            assert_pictures_only(pdf)
        text = notice(m)
        assert "「見積書.pdf」 ← 「見積書.doc」" in text and "「集計.pdf」 ← 「集計.xls」" in text
        assert text.count(ACTION) == 2
        assert text.endswith("添付をご確認ください。\r\n")
        log = d.logtext()
        assert "converting 2 legacy attachment(s) in the jail" in log and "worker=ok" in log
    finally:
        assert d.stop() == 0


@needs_jail
def test_daemon_time_limit_blocks_that_attachment_only(tmp_path, docs):  # noqa: F811
    d = Daemon(tmp_path, attachments="sanitize", legacy_time_max="1").start()
    try:
        m = deliver(d, with_files(("説明会.ppt", CTYPES["ppt"], docs[1]["ppt"][0]),
                                  ("memo.txt", "text/plain", "議事録\n".encode())))
        assert "verdict=sanitized" in str(m["X-Mugai-Sanitized"])
        atts = [(a.get_filename(), a.get_payload(decode=True)) for a in m.iter_attachments()]
        assert atts == [("memo.txt", "議事録\n".encode())]
        assert ("「説明会.ppt」 ({:,} バイト) — 無害化できないファイル: "
                "「旧形式の文書の変換に時間がかかりすぎるため添付しませんでした（「legacy PowerPoint "
                "(.ppt)」）」".format(len(docs[1]["ppt"][0]))) in notice(m)
    finally:
        assert d.stop() == 0


def test_daemon_without_bwrap_blocks_with_the_reason(tmp_path, docs):  # noqa: F811
    """The refusal path, also where bwrap cannot build namespaces (a chroot)."""
    d = Daemon(tmp_path, attachments="sanitize", legacy_bwrap="/nonexistent/bwrap").start()
    try:
        m = deliver(d, with_files(("見積書.doc", CTYPES["doc"], docs[1]["doc"][0])))
        assert list(m.iter_attachments()) == []
        assert ("無害化できないファイル: 「変換用の隔離環境を用意できないため、旧形式の文書を変換しません"
                "でした（「legacy Word (.doc): bubblewrap (/nonexistent/bwrap) is not installed」）」"
                ) in notice(m)
    finally:
        assert d.stop() == 0


def intervals(tmp_path, concurrent, docs):  # noqa: F811
    """Two messages at once, each with a .doc, through a stub "bwrap" that
    logs when it starts and ends (and converts nothing): the jails' times."""
    import os
    import threading
    log = tmp_path / "jail.log"
    stub = tmp_path / "bwrap"
    stub.write_text("#!/bin/sh\necho start $(date +%%s.%%N) >> %s\nsleep 3\n"
                    "echo end $(date +%%s.%%N) >> %s\nexit 1\n" % (log, log))
    os.chmod(stub, 0o755)
    d = Daemon(tmp_path, attachments="sanitize", legacy_bwrap=str(stub),
               legacy_concurrent_max=str(concurrent), max_sessions="2").start()
    try:
        data = with_files(("見積書.doc", CTYPES["doc"], docs[1]["doc"][0])).replace(b"\n", b"\r\n")

        def send():
            with smtplib.SMTP("127.0.0.1", d.port, timeout=120) as s:
                s.sendmail("a@example.jp", ["b@example.lg.jp"], data)
        ts = [threading.Thread(target=send) for _ in range(2)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        assert len(d.delivered("b@example.lg.jp")) == 2
        for p in d.delivered("b@example.lg.jp"):
            assert "旧形式の文書を変換できませんでした" in notice(parse(p))
    finally:
        assert d.stop() == 0
    ev = [line.split() for line in log.read_text().splitlines()]
    assert sorted(e[0] for e in ev) == ["end", "end", "start", "start"], ev
    starts = sorted(float(t) for k, t in ev if k == "start")
    ends = sorted(float(t) for k, t in ev if k == "end")
    return starts, ends


def test_daemon_one_conversion_at_a_time(tmp_path, docs):  # noqa: F811
    """legacy_concurrent_max = 1 across sessions: the second jail starts after the first ends."""
    starts, ends = intervals(tmp_path, 1, docs)
    assert starts[1] >= ends[0], (starts, ends)


def test_daemon_two_conversions_at_once(tmp_path, docs):  # noqa: F811
    """The same with 2: they overlap (the test above tells the two apart)."""
    starts, ends = intervals(tmp_path, 2, docs)
    assert starts[1] < ends[0], (starts, ends)
