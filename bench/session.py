"""bench/session.py BUILD [MESSAGES] [ROUNDS] — mugaid's own cost per message,
without Postfix: SMTP clients (smtplib, CONC connections; each message with
XFORWARD IDENT=queue id, as Postfix's after-queue client) send the corpus of
bench/gen_corpus.py (mean ~40 KB) to mugaid, whose next hop is a sink in
this process (asyncio, answers as soon as a command or the final dot
arrives). Measured per message: mugaid's CPU (all its processes: master,
sessions, workers, store; from the rusage of reaped children), the sink's
reads before the body (round trips to the next hop) and wall time. Runs
alternate (ROUNDS each) between:
  pipelining   the sink announces PIPELINING (MAIL, RCPTs, DATA in one write)
  no-pipe      the sink does not (one command, one reply, in turn)
and, when BENCH_BEFORE_BUILD names another build directory (bench/e2e.sh
builds main's there), that build's mugaid with the pipelining sink, and
BENCH_BUILDS=name=DIR,... more builds the same way. BENCH_MUGAID_CONF
adds lines (";"-separated) to every mugaid's configuration. Count in ==
count out is checked for every run.
SECURITY: benchmark harness only; listens on 127.0.0.1."""
import asyncio
import glob
import os
import resource
import smtplib
import statistics
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "cli"))
from daemonutil import free_port, wait_port  # noqa: E402

BUILD = sys.argv[1] if len(sys.argv) > 1 else "build"
N = int(sys.argv[2]) if len(sys.argv) > 2 else 400
ROUNDS = int(sys.argv[3]) if len(sys.argv) > 3 else 3
CONC = 4
RCPTS = ["a@lg.example.jp", "b@lg.example.jp", "c@lg.example.jp"]


class Sink:
    """An SMTP sink on its own event loop thread: counts messages and the
    reads that carried envelope commands."""

    def __init__(self):
        self.port = free_port()
        self.pipelining = True
        self.messages = self.env_reads = 0
        self.loop = asyncio.new_event_loop()
        ready = threading.Event()
        threading.Thread(target=self._run, args=(ready,), daemon=True).start()
        ready.wait()

    def _run(self, ready):
        asyncio.set_event_loop(self.loop)
        self.server = self.loop.run_until_complete(
            asyncio.start_server(self.handle, "127.0.0.1", self.port))
        ready.set()
        self.loop.run_forever()

    async def handle(self, r, w):
        w.write(b"220 sink ESMTP\r\n")
        buf, data = b"", False
        while True:
            chunk = await r.read(1 << 20)
            if not chunk:
                break
            buf += chunk
            out = []
            env = False
            while True:
                if data:
                    end = 3 if buf.startswith(b".\r\n") else buf.find(b"\r\n.\r\n") + 5
                    if end == 4:
                        break
                    buf, data = buf[end:], False
                    self.messages += 1
                    out.append(b"250 2.0.0 queued")
                    continue
                nl = buf.find(b"\r\n")
                if nl < 0:
                    break
                line, buf = buf[:nl], buf[nl + 2:]
                verb = line[:4].upper()
                env = env or verb in (b"MAIL", b"RCPT", b"DATA", b"RSET")
                if verb == b"EHLO":
                    out.append(b"250-sink\r\n250-SMTPUTF8\r\n" +
                               (b"250-PIPELINING\r\n" if self.pipelining else b"") + b"250 8BITMIME")
                elif verb == b"DATA":
                    data = True
                    out.append(b"354 go")
                elif verb == b"QUIT":
                    w.write(b"221 bye\r\n")
                    await w.drain()
                    w.close()
                    return
                else:
                    out.append(b"250 ok")
            self.env_reads += env
            if out:
                w.write(b"\r\n".join(out) + b"\r\n")
                await w.drain()
        w.close()


def send_all(port, corpus, n):
    per = n // CONC
    errors = []

    def client(k):
        try:
            with smtplib.SMTP("127.0.0.1", port, timeout=120) as s:
                s.ehlo("bench")
                for i in range(per):
                    # the queue id, as Postfix's smtp client forwards it: the
                    # session then looks for an earlier attempt (FIND, a hash)
                    s.docmd("XFORWARD", f"IDENT=B{k:02X}{i:06X}")
                    s.sendmail("sender@example.jp", RCPTS, corpus[(k * per + i) % len(corpus)])
        except Exception as e:  # noqa: BLE001
            errors.append(e)
    ts = [threading.Thread(target=client, args=(k,)) for k in range(CONC)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    if errors:
        raise errors[0]
    return per * CONC


def run(build, sink, corpus, pipelining):
    sink.pipelining = pipelining
    sink.messages = sink.env_reads = 0
    with tempfile.TemporaryDirectory(prefix="mugai-bench-session-") as d:
        port = free_port()
        with open(f"{d}/mugaid.cf", "w") as f:
            f.write(f"listen = 127.0.0.1:{port}\nnext_hop = smtp:127.0.0.1:{sink.port}\n"
                    f"state_dir = {d}/state\nmetrics_file = \nmax_sessions = {CONC}\nuser = \n")
            f.write(os.environ.get("BENCH_MUGAID_CONF", "").replace(";", "\n") + "\n")
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        log = open(f"{d}/mugaid.log", "w")
        p = subprocess.Popen([f"{build}/mugaid", "-f", "-c", f"{d}/mugaid.cf"], stdout=log,
                             stderr=subprocess.STDOUT)
        try:
            wait_port(port, proc=p)
            base = tree_cpu(p.pid)
            t0 = time.monotonic()
            sent = send_all(port, corpus, N)
            dt = time.monotonic() - t0
            parts = tree_cpu(p.pid)
        finally:
            p.terminate()
            p.wait()
            log.close()
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    assert sink.messages == sent, f"count in {sent} != count out {sink.messages}"
    def part(name):
        return 1000 * (parts.get(name, 0) - base.get(name, 0)) / sent
    return {"cpu_ms": 1000 * cpu / sent, "rate": sent / dt, "reads": sink.env_reads / sent,
            "smtp_ms": part("mugaid-smtp"), "worker_ms": part("mugaid-worker"),
            "store_ms": part("mugaid-store"), "master_ms": part("mugaid")}


TICK = os.sysconf("SC_CLK_TCK")


def tree_cpu(root):
    """CPU seconds (own utime + stime) of root's live descendants, by name."""
    procs = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open(f"/proc/{d}/stat") as f:
                    st = f.read()
            except OSError:
                continue
            comm = st[st.index("(") + 1:st.rindex(")")]
            f = st[st.rindex(")") + 2:].split()
            procs[int(d)] = (int(f[1]), comm, (int(f[11]) + int(f[12])) / TICK,
                             (int(f[13]) + int(f[14])) / TICK)
    out = {}
    for pid, (ppid, comm, cpu, reaped) in procs.items():
        p = pid
        while p in procs and p != root:
            p = procs[p][0]
        if p == root:
            out[comm] = out.get(comm, 0) + cpu
            if comm == "mugaid-smtp":  # its reaped children: recycled workers
                out["mugaid-worker"] = out.get("mugaid-worker", 0) + reaped
    return out


def main():
    with tempfile.TemporaryDirectory() as cdir:
        subprocess.run([sys.executable, os.path.join(os.path.dirname(__file__), "gen_corpus.py"),
                        cdir, "20"], check=True, capture_output=True)
        corpus = []
        for path in sorted(glob.glob(f"{cdir}/*"))[:20]:
            with open(path, "rb") as f:
                corpus.append(f.read().replace(b"\r\n", b"\n").replace(b"\n", b"\r\n"))
    sink = Sink()
    variants = [("pipelining", BUILD, True), ("no-pipe", BUILD, False)]
    before = os.environ.get("BENCH_BEFORE_BUILD", "")
    if before:
        variants.append(("before", before, True))
    for extra in filter(None, os.environ.get("BENCH_BUILDS", "").split(",")):
        name, build = extra.split("=", 1)
        variants.append((name, build, True))
    res = {v[0]: [] for v in variants}
    run(BUILD, sink, corpus, True)  # warm-up (page cache, corpus)
    for _ in range(ROUNDS):
        for name, build, pipe in variants:
            res[name].append(run(build, sink, corpus, pipe))
    print(f"session: {N} messages of mean {statistics.mean(map(len, corpus)) / 1024:.1f} KB, "
          f"3 recipients, {CONC} connections, {ROUNDS} alternating rounds, loopback sink")
    print(f"{'variant':12} {'CPU ms/msg':>11} {'session ms':>11} {'worker ms':>10} "
          f"{'store ms':>9} {'master ms':>10} {'msg/s':>8} {'env reads/msg':>14}")
    for name, rs in res.items():
        print(f"{name:12} {statistics.median(r['cpu_ms'] for r in rs):11.3f} "
              f"{statistics.median(r['smtp_ms'] for r in rs):11.3f} "
              f"{statistics.median(r['worker_ms'] for r in rs):10.3f} "
              f"{statistics.median(r['store_ms'] for r in rs):9.3f} "
              f"{statistics.median(r['master_ms'] for r in rs):10.3f} "
              f"{statistics.median(r['rate'] for r in rs):8.1f} "
              f"{statistics.median(r['reads'] for r in rs):14.2f}")
    print("CPU ms/msg: every mugaid process (master, sessions, workers, store); session ms: the "
          "session processes alone (SMTP, spool, store client, delivery); worker, store, master: "
          "the sanitizer workers (live and recycled), the store process, the master; env reads/msg: reads "
          "the next hop made for MAIL..DATA (round trips)")


main()
