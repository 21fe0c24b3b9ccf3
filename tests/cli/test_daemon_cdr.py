"""mugaid with attachments = sanitize: file CDR runs inside the daemon's
sandboxed worker and the rebuilt file reaches the Maildir; checked with
Python's email parser and qpdf."""
import smtplib
import time

from daemonutil import Daemon, parse
from test_file_util import assert_pdf_clean, simple_pdf
from test_mail_attachments import with_files


def test_daemon_attaches_a_flattened_pdf(tmp_path):
    d = Daemon(tmp_path, attachments="sanitize").start()
    try:
        src = simple_pdf("/OpenAction << /S /JavaScript /JS (app.alert(1)) >>")
        with smtplib.SMTP("127.0.0.1", d.port, timeout=60) as s:
            s.sendmail("a@example.jp", ["b@example.lg.jp"],
                       with_files(("見積書.pdf", "application/pdf", src)).replace(b"\n", b"\r\n"))
        end = time.monotonic() + 30
        while not d.delivered("b@example.lg.jp") and time.monotonic() < end:
            time.sleep(0.2)
        msg = parse(d.delivered("b@example.lg.jp")[0])
        assert "verdict=sanitized" in str(msg["X-Mugai-Sanitized"])
        (att,) = list(msg.iter_attachments())
        assert (att.get_filename(), att.get_content_type()) == ("見積書.pdf", "application/pdf")
        assert_pdf_clean(att.get_payload(decode=True))
        assert "worker=ok" in d.logtext()
    finally:
        assert d.stop() == 0
