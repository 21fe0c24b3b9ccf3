"""bench/e2e.py BUILD [MESSAGES] — messages/s and p50/p99 latency through a
private Postfix on loopback (tests/e2e/pfinstance.py), smtp-source as the
load generator, bodies from bench/gen_corpus.py (mean ~40-50 KB):
  (a) Postfix relaying with no filter (the ceiling),
  (b) Postfix → mugaid (content_filter) → re-injection,
  (c) Postfix with mugaid as its milter (smtpd_milters; one queue pass),
  and, when BENCH_BEFORE_BUILD names a build directory (bench/e2e.sh builds
  main's mugaid there), (b) with that older binary first: before vs after in
  the same run, on the same corpus;
  (c) (b) with antivirus = clamd (issue #11): a private clamd on a unix socket
  with a small signature database written here (EICAR hash and a body
  signature; no download, so clamd's scan engine and the zINSTREAM round
  trip are measured, not the size of the official database), printed side by
  side with (b). Skipped when clamd is not installed.
Latency per message: Postfix's own delay= of the final virtual delivery, plus
for (b) the delay= of the first leg (smtpd → mugaid), joined through mugaid's
log line (queue_id=FIRST ... queued as SECOND)."""
import glob
import hashlib
import os
import shutil
import re
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "e2e"))
from pfinstance import Postfix, ensure_user  # noqa: E402

BUILD = sys.argv[1] if len(sys.argv) > 1 else "build"
N = int(sys.argv[2]) if len(sys.argv) > 2 else 400
FILES = 20
CONC = 8


def delays(log, agent):
    out = {}
    for m in re.finditer(r"postfix/%s\[\d+\]: ([0-9A-F]+): to=<[^>]+>.*? delay=([0-9.]+),.*?status=sent" % agent, log):
        out[m.group(1)] = float(m.group(2))
    return out


CLAMD = shutil.which("clamd") or "/usr/sbin/clamd"
EICAR = rb"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"


def start_clamd(base):
    """A private clamd (unix socket in base), our small database; its socket path."""
    db = f"{base}/clamdb"
    os.makedirs(db)
    with open(f"{db}/bench.hdb", "w") as f:
        f.write(f"{hashlib.md5(EICAR).hexdigest()}:{len(EICAR)}:Bench.EICAR\n")
    with open(f"{db}/bench.ndb", "w") as f:
        f.write(f"Bench.Marker:0:*:{b'MUGAI-BENCH-MARKER'.hex()}\n")
    sock = f"{base}/clamd.ctl"
    with open(f"{base}/clamd.conf", "w") as f:
        f.write(f"Foreground yes\nLocalSocket {sock}\nLocalSocketMode 666\nDatabaseDirectory {db}\n"
                f"StreamMaxLength 60M\nMaxThreads {CONC}\n")
    proc = subprocess.Popen([CLAMD, "-c", f"{base}/clamd.conf"], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    end = time.monotonic() + 120
    while not os.path.exists(sock):
        if proc.poll() is not None or time.monotonic() > end:
            raise RuntimeError("clamd did not start")
        time.sleep(0.1)
    return proc, sock


def run(mode, corpus, build=BUILD):
    base = tempfile.mkdtemp(prefix=f"mugai-bench-{mode}-", dir="/tmp")
    os.chmod(base, 0o755)
    filtered = mode != "relay"
    milter = mode == "mugaid-milter"
    pf = Postfix(base, filter=filtered, maxproc=CONC, milter=milter).setup()
    d = clamd = None
    try:
        pf.start()
        av = ""
        if mode == "mugaid+av":
            clamd, sock = start_clamd(base)
            av = f"antivirus = clamd:{sock}\n"
        if filtered:
            user = ensure_user()
            state = f"{base}/state"
            os.makedirs(state)
            os.chown(state, user.pw_uid, user.pw_gid)
            with open(f"{base}/mugaid.cf", "w") as f:
                f.write(f"listen = 127.0.0.1:{pf.filter_port}\nnext_hop = smtp:127.0.0.1:{pf.reinj_port}\n"
                        f"state_dir = {state}\nmetrics_file = \nmax_sessions = {CONC}\nuser = mugai\n{av}")
                if milter:
                    f.write(f"milter_listen = 127.0.0.1:{pf.milter_port}\n")
            d = subprocess.Popen([f"{build}/mugaid", "-f", "-c", f"{base}/mugaid.cf"],
                                 stdout=open(f"{base}/mugaid.log", "w"), stderr=subprocess.STDOUT)
            time.sleep(1.5)
        per = N // len(corpus)
        t0 = time.monotonic()
        procs = []
        for i, path in enumerate(corpus):
            procs.append(subprocess.Popen(
                ["smtp-source", "-s", "1", "-m", str(per), "-F", path, "-f", "sender@example.jp",
                 "-t", f"user{i % 10}@lg.example.jp", f"127.0.0.1:{pf.smtp_port}"]))
            while sum(p.poll() is None for p in procs) >= CONC:
                time.sleep(0.01)
        for p in procs:
            p.wait()
        total = per * len(corpus)
        end = time.monotonic() + 600
        while len(pf.delivered_files()) < total and time.monotonic() < end:
            time.sleep(0.05)
        dt = time.monotonic() - t0
        got = len(pf.delivered_files())
        log = pf.log()
        final = delays(log, "virtual")
        if filtered and not milter:
            first = delays(log, "smtp")
            with open(f"{base}/mugaid.log") as f:
                link = dict(re.findall(r"queue_id=([0-9A-F]+) .*?queued as ([0-9A-F]+)\)", f.read()))
            lat = [first[a] + final[b] for a, b in link.items() if a in first and b in final]
        else:
            lat = list(final.values())
        lat.sort()
        p = lambda q: lat[min(len(lat) - 1, int(q * len(lat)))] if lat else float("nan")
        return {"mode": mode, "sent": total, "delivered": got, "seconds": dt,
                "rate": got / dt, "p50": p(0.50), "p99": p(0.99)}
    finally:
        if d:
            d.terminate()
            d.wait()
        if clamd:
            clamd.terminate()
            clamd.wait()
        pf.stop()
        subprocess.run(["rm", "-rf", base])


def main():
    with tempfile.TemporaryDirectory() as cdir:
        subprocess.run([sys.executable, os.path.join(os.path.dirname(__file__), "gen_corpus.py"),
                        cdir, str(FILES)], check=True, capture_output=True)
        corpus = sorted(glob.glob(f"{cdir}/*"))[:FILES]
        sizes = [os.path.getsize(c) for c in corpus]
        print(f"corpus: {len(corpus)} messages, mean {statistics.mean(sizes) / 1024:.1f} KB; "
              f"{N} messages per run, {CONC} concurrent sessions, loopback")
        before = os.environ.get("BENCH_BEFORE_BUILD", "")
        res = [run("relay", corpus)]
        if before:
            res.append(run("mugaid-before", corpus, before))
        res.append(run("mugaid", corpus))
        res.append(run("mugaid-milter", corpus))
        av = run("mugaid+av", corpus) if os.path.exists(CLAMD) else None
    print(f"{'path':14} {'sent':>6} {'deliv':>6} {'msg/s':>8} {'p50 s':>7} {'p99 s':>7}")
    for r in res:
        print(f"{r['mode']:14} {r['sent']:6} {r['delivered']:6} {r['rate']:8.1f} {r['p50']:7.2f} {r['p99']:7.2f}")
    print(f"mugaid (after-queue) / bare relay throughput: {res[-2]['rate'] / res[0]['rate']:.2f}")
    print(f"mugaid (milter) / bare relay throughput: {res[-1]['rate'] / res[0]['rate']:.2f}")
    if before:
        print(f"mugaid after / before ({os.environ.get('BENCH_BEFORE', 'before')}) throughput: "
              f"{res[-2]['rate'] / res[1]['rate']:.2f}")
    if av:
        off = res[-2]
        print(f"{'mugaid+av':14} {av['sent']:6} {av['delivered']:6} {av['rate']:8.1f} {av['p50']:7.2f} {av['p99']:7.2f}")
        print(f"antivirus (clamd) on / off (after-queue): {av['rate']:.1f} / {off['rate']:.1f} msg/s = "
              f"{av['rate'] / off['rate']:.2f}; p50 {av['p50']:.2f} / {off['p50']:.2f} s, "
              f"p99 {av['p99']:.2f} / {off['p99']:.2f} s")
    else:
        print(f"antivirus: not measured ({CLAMD} is not installed: clamav-daemon)")
    print("amavisd-new: not measured (see README.md, mugaid Benchmark)")


main()
