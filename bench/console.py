#!/usr/bin/env python3
"""console.py BUILD [MESSAGES] [SECONDS] — the console's list page with MESSAGES
stored messages for one clerk (default 10,000; the page shows the newest
console_list_max = 500), requests per second over one keep-alive connection,
next to the same libmicrohttpd server answering its static style sheet (the
ceiling: HTTP and the server loop without the store). Each list request also
appends its audit record (quarantine.list), a durable commit.

The index rows are inserted with sqlite3 in one transaction (the list reads
only the index; putting 10,000 originals through the CLI would time the CLI)."""
import http.client
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests",
                                "cli"))
os.environ.setdefault("MUGAI_CONFIG", "")


def fill(con, n, rcpt):
    con.put_mail(rcpt)
    db = con.db()
    (seq,), = db.execute("SELECT max(seq) FROM audit").fetchall()
    now = int(time.time())
    rows = [(f"20260101-000000-{i:08x}", now - i, "inbound", "taro@example.co.jp", rcpt,
             "山田 太郎 <taro@example.co.jp>", f"請求書の件 その{i}", "sanitized",
             '{"removed":[]}', "0" * 64, 100, seq) for i in range(n)]
    db.executemany("INSERT INTO quarantine(id, received, flow, env_from, rcpt, hdr_from, subject,"
                   " verdict, report, sha256, size, audit_seq) VALUES(?,?,?,?,?,?,?,?,?,?,?,?)",
                   rows)
    db.executemany("INSERT INTO quarantine_rcpt(id, rcpt) VALUES(?, ?)",
                   [(r[0], rcpt) for r in rows])
    db.commit()
    db.close()


def rate(port, path, cookie, seconds):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    n, size, end = 0, 0, time.monotonic() + seconds
    start = time.monotonic()
    while time.monotonic() < end:
        c.request("GET", path, headers={"Cookie": cookie})
        r = c.getresponse()
        body = r.read()
        assert r.status == 200, (r.status, body[:200])
        n, size = n + 1, len(body)
    c.close()
    return n / (time.monotonic() - start), size


def main():
    build = sys.argv[1] if len(sys.argv) > 1 else "build"
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 10000
    seconds = float(sys.argv[3]) if len(sys.argv) > 3 else 5
    os.environ["MUGAI"] = os.path.abspath(os.path.join(build, "mugai"))
    from consoleutil import Console  # MUGAI must be set first
    with tempfile.TemporaryDirectory(prefix="mugai-bench-console-") as d:
        con = Console(d)
        acct = con.user_add("tanaka", "clerk", "tanaka@city.example.lg.jp")
        fill(con, n, "tanaka@city.example.lg.jp")
        con.start()
        try:
            cl = con.client()
            assert cl.login(acct).status == 303
            cookie = f"mugai_session={cl.cookies['mugai_session']}"
            static, ssize = rate(con.port, "/style.css", cookie, seconds)
            listing, lsize = rate(con.port, "/", cookie, seconds)
        finally:
            con.stop()
    print(f"list page ({n} messages stored, {lsize} bytes): {listing:8.1f} requests/s "
          f"(each with its durable audit record)")
    print(f"static page (same server, {ssize} bytes):    {static:8.1f} requests/s  (ceiling)")


if __name__ == "__main__":
    main()
