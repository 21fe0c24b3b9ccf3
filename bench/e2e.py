"""bench/e2e.py BUILD [MESSAGES] — messages/s, p50/p99 latency and CPU per
message through a private Postfix on loopback (tests/e2e/pfinstance.py),
smtp-source as the load generator, bodies from bench/gen_corpus.py (mean
~40 KB). The paths, measured in alternating rounds (BENCH_ROUNDS, default 3;
the median of each is printed):
  relay        Postfix relaying with no filter (the ceiling);
  null-filter  the after-queue wiring (content_filter, a second smtpd) with a
               filter that does nothing: Postfix's own smtp client hands the
               message straight to the re-injection smtpd (the ceiling of any
               after-queue filter: two queue passes);
  mugaid       Postfix → mugaid (content_filter) → re-injection;
  milter       Postfix with mugaid as its milter (smtpd_milters; one pass);
  null-milter  Postfix with a milter that does nothing but the edits mugaid
               sends (every header deleted and added again, the body
               replaced, on the message as it came: bench/null_milter.c,
               built from mugaid's own protocol code): the ceiling of any
               milter that replaces the message;
  accept-milter  the same milter accepting every message unchanged, no edits
               (null_milter -a): what the milter protocol alone costs Postfix;
  mimedefang   Postfix with MIMEDefang as its milter and a filter that drops
               every non-text part (the peer), when the Debian package is
               installed (`make bench-peers`);
  mugaid-before  (b) with an older build (BENCH_BEFORE_BUILD, bench/e2e.sh);
  milter-before  (m) with that older build;
  mugaid+av    (b) with antivirus = clamd: a private clamd with a small
               signature database written here (no download), when clamd
               is installed.
CPU per message per component (Postfix, the filter, clamd, the load
generator) comes from cgroup v1 cpuacct groups made for the run. The queues,
mugaid's store and the Maildirs live on a journaled ext4 made for the run
(a loop-mounted image): the root filesystem of the development machines is
ext4 without a journal, where creating files costs unusually much.
Latency per message: Postfix's own delay= of the final virtual delivery, plus
for (b) the delay= of the first leg (smtpd → mugaid), joined through mugaid's
log line (queue_id=FIRST ... queued as SECOND)."""
import glob
import hashlib
import os
import shutil
import re
import socket
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
CONC = int(os.environ.get("BENCH_CONC", "8"))  # sessions: smtp-source clients, smtpd and mugaid processes
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
CG_ROOT = "/sys/fs/cgroup/cpuacct"
MIMEDEFANG = shutil.which("mimedefang") or "/usr/bin/mimedefang"
MULTIPLEXOR = shutil.which("mimedefang-multiplexor") or "/usr/bin/mimedefang-multiplexor"


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
    proc = spawn_in("clamd", [CLAMD, "-c", f"{base}/clamd.conf"], stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL)
    end = time.monotonic() + 120
    while not os.path.exists(sock):
        if proc.poll() is not None or time.monotonic() > end:
            raise RuntimeError("clamd did not start")
        time.sleep(0.1)
    return proc, sock


# ---- CPU accounting: one cpuacct group per component ----

def cg_path(name):
    return f"{CG_ROOT}/mugai-bench-{name}"


def cg_ok():
    try:
        os.makedirs(cg_path("probe"), exist_ok=True)
        os.rmdir(cg_path("probe"))
        return True
    except OSError:
        return False


def cg_reset(names):
    for n in names:
        os.makedirs(cg_path(n), exist_ok=True)
        with open(f"{cg_path(n)}/cpuacct.usage", "w") as f:
            f.write("0")


def cg_enter(name):
    """Move the calling process into the group (its children follow)."""
    with open(f"{cg_path(name) if name else CG_ROOT}/cgroup.procs", "w") as f:
        f.write(str(os.getpid()))


def cg_usage_ms(name):
    try:
        with open(f"{cg_path(name)}/cpuacct.usage") as f:
            return int(f.read()) / 1e6
    except OSError:
        return float("nan")


def cg_cleanup(names):
    for n in names:
        try:
            os.rmdir(cg_path(n))
        except OSError:
            pass


COMPONENTS = ("postfix", "filter", "clamd", "load")


def spawn_in(group, argv, **kw):
    if CG:
        kw["preexec_fn"] = lambda: cg_enter(group)
    return subprocess.Popen(argv, **kw)


# ---- a journaled filesystem for the queues ----

def ext4_journal(path):
    """'yes', 'no' or '?' for the ext4 holding path (its data= mode is shown
    in /proc only when it has a journal)."""
    r = subprocess.run(["findmnt", "-no", "SOURCE,FSTYPE", "-T", path], capture_output=True, text=True)
    parts = r.stdout.split()
    if len(parts) < 2 or parts[1] != "ext4":
        return "?"
    dev = os.path.basename(os.path.realpath(parts[0]))
    try:
        with open(f"/proc/fs/ext4/{dev}/options") as f:
            return "yes" if "data=" in f.read() else "no"
    except OSError:
        return "?"


def journaled_fs():
    """A loop-mounted ext4 (with its journal) for the run, or None."""
    img, mnt = "/var/tmp/mugai-bench-fs.img", "/var/tmp/mugai-bench-fs"
    try:
        subprocess.run(["truncate", "-s", "4G", img], check=True)
        subprocess.run(["mkfs.ext4", "-q", "-F", img], check=True, capture_output=True)
        os.makedirs(mnt, exist_ok=True)
        subprocess.run(["mount", "-o", "loop", img, mnt], check=True, capture_output=True)
        os.chmod(mnt, 0o755)
        return img, mnt
    except (OSError, subprocess.CalledProcessError):
        if os.path.exists(img):
            os.unlink(img)
        return None


def drop_fs(fs):
    if fs:
        subprocess.run(["umount", fs[1]], capture_output=True)
        os.unlink(fs[0])


# ---- MIMEDefang, the peer ----

MD_FILTER = """# mugai bench: keep text parts, drop every other part
sub filter {
    my($entity, $fname, $ext, $type) = @_;
    return action_drop() unless $type =~ m{^text/}i;
    return action_accept();
}
1;
"""


def start_mimedefang(base, port, user):
    """mimedefang-multiplexor with our filter, and mimedefang on port."""
    spool = f"{base}/mdspool"
    os.makedirs(spool)
    os.chown(spool, user.pw_uid, user.pw_gid)
    with open(f"{base}/mimedefang-filter", "w") as f:
        f.write(MD_FILTER)
    with open(f"{base}/md-filter.sh", "w") as f:  # the multiplexor passes no filter file
        f.write(f'#!/bin/sh\nexec /usr/bin/mimedefang.pl -f {base}/mimedefang-filter "$@"\n')
    os.chmod(f"{base}/md-filter.sh", 0o755)
    sock = f"{spool}/mimedefang-multiplexor.sock"
    mux = spawn_in("filter", [MULTIPLEXOR, "-D", "-U", user.pw_name, "-z", spool, "-s", sock,
                              "-f", f"{base}/md-filter.sh", "-m", "2", "-x", str(CONC)],
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    end = time.monotonic() + 30
    while not os.path.exists(sock):
        if mux.poll() is not None or time.monotonic() > end:
            raise RuntimeError("mimedefang-multiplexor did not start")
        time.sleep(0.1)
    md = spawn_in("filter", [MIMEDEFANG, "-D", "-U", user.pw_name, "-z", spool, "-m", sock,
                             "-p", f"inet:{port}@127.0.0.1"],
                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_port(port, md, "mimedefang")
    return [md, mux]


def wait_port(port, proc, name):
    end = time.monotonic() + 30
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            if proc.poll() is not None or time.monotonic() > end:
                raise RuntimeError(f"{name} did not start")
            time.sleep(0.1)


# ---- one run ----

def run(mode, corpus, root, build=BUILD):
    base = tempfile.mkdtemp(prefix=f"mugai-bench-{mode}-", dir=root)
    os.chmod(base, 0o755)
    milter = mode in ("milter", "milter-before", "mimedefang", "null-milter", "accept-milter")
    filtered = mode not in ("relay",)
    pf = Postfix(base, filter=filtered, maxproc=CONC, milter=milter)
    if mode == "null-filter":
        pf.filter_port = pf.reinj_port  # the mugai transport delivers straight back
    pf.setup()
    procs = []
    clamd = None
    try:
        if CG:
            cg_reset(COMPONENTS)
            cg_enter("postfix")
        try:
            pf.start()
        finally:
            if CG:
                cg_enter(None)
        av = ""
        if mode == "mugaid+av":
            clamd, sock = start_clamd(base)
            av = f"antivirus = clamd:{sock}\n"
        if mode == "mimedefang":
            procs = start_mimedefang(base, pf.milter_port, ensure_user())
        elif mode in ("null-milter", "accept-milter"):
            procs = [spawn_in("filter", [f"{build}/bench/null_milter"]
                              + (["-a"] if mode == "accept-milter" else []) + [str(pf.milter_port)])]
            wait_port(pf.milter_port, procs[0], "null_milter")
        elif filtered and mode != "null-filter":
            user = ensure_user()
            state = f"{base}/state"
            os.makedirs(state)
            os.chown(state, user.pw_uid, user.pw_gid)
            with open(f"{base}/mugaid.cf", "w") as f:
                f.write(f"listen = 127.0.0.1:{pf.filter_port}\nnext_hop = smtp:127.0.0.1:{pf.reinj_port}\n"
                        f"state_dir = {state}\nmetrics_file = \nmax_sessions = {CONC}\nuser = mugai\n{av}")
                if mode in ("milter", "milter-before"):
                    f.write(f"milter_listen = 127.0.0.1:{pf.milter_port}\n")
                f.write(os.environ.get("BENCH_MUGAID_CONF", "").replace(";", "\n") + "\n")
            procs = [spawn_in("filter", [f"{build}/mugaid", "-f", "-c", f"{base}/mugaid.cf"],
                              stdout=open(f"{base}/mugaid.log", "w"), stderr=subprocess.STDOUT)]
            time.sleep(1.5)
        if CG:
            cg_reset(COMPONENTS)
        per = N // len(corpus)
        t0 = time.monotonic()
        load = []
        for i, path in enumerate(corpus):
            load.append(spawn_in("load",
                ["smtp-source", "-s", "1", "-m", str(per), "-F", path, "-f", "sender@example.jp",
                 "-t", f"user{i % 10}@lg.example.jp", f"127.0.0.1:{pf.smtp_port}"]))
            while sum(p.poll() is None for p in load) >= CONC:
                time.sleep(0.01)
        for p in load:
            p.wait()
        total = per * len(corpus)
        end = time.monotonic() + 600
        while len(pf.delivered_files()) < total and time.monotonic() < end:
            time.sleep(0.05)
        dt = time.monotonic() - t0
        cpu = {c: cg_usage_ms(c) / max(total, 1) for c in COMPONENTS} if CG else {}
        got = len(pf.delivered_files())
        check_filtered(mode, pf.delivered_files(), corpus)
        log = pf.log()
        if os.environ.get("BENCH_KEEP_LOGS"):  # a directory: mugaid's and Postfix's logs kept there
            os.makedirs(os.environ["BENCH_KEEP_LOGS"], exist_ok=True)
            with open(os.path.join(os.environ["BENCH_KEEP_LOGS"], f"{mode}.postfix.log"), "w") as f:
                f.write(log)
            if os.path.exists(f"{base}/mugaid.log"):
                shutil.copy(f"{base}/mugaid.log", os.path.join(os.environ["BENCH_KEEP_LOGS"], f"{mode}.mugaid.log"))
        final = delays(log, "virtual")
        if mode in ("mugaid", "mugaid-before", "mugaid+av"):
            first = delays(log, "smtp")
            with open(f"{base}/mugaid.log") as f:
                link = dict(re.findall(r"queue_id=([0-9A-F]+) .*?queued as ([0-9A-F]+)\)", f.read()))
            lat = [first[a] + final[b] for a, b in link.items() if a in first and b in final]
        else:  # (null filter: its two legs cannot be joined; the final leg's delay)
            lat = list(final.values())
        lat.sort()
        p = lambda q: lat[min(len(lat) - 1, int(q * len(lat)))] if lat else float("nan")
        return {"mode": mode, "sent": total, "delivered": got, "seconds": dt,
                "rate": got / dt, "p50": p(0.50), "p99": p(0.99), "cpu": cpu}
    finally:
        for d in procs:
            d.terminate()
            try:
                d.wait(timeout=30)
            except subprocess.TimeoutExpired:
                d.kill()
        if clamd:
            clamd.terminate()
            clamd.wait()
        pf.stop()
        subprocess.run(["rm", "-rf", base])


def body_of(data):
    """The body, LF line ends, without the line end smtp-source adds."""
    return data.replace(b"\r\n", b"\n").split(b"\n\n", 1)[-1].rstrip(b"\n")


def check_filtered(mode, files, corpus):
    """The path measured is the path named: a delivered message carries the
    filter's mark (mugaid's X-Mugai-Sanitized, MIMEDefang's X-Scanned-By,
    the null milter's X-Null-Milter), and the unfiltered paths carry none.
    The null milter's replaced body must be the body it was given."""
    if not files:
        return
    with open(files[0], "rb") as f:
        data = f.read()
    head = data.split(b"\n\n", 1)[0]
    want = {"mimedefang": b"MIMEDefang", "null-milter": b"X-Null-Milter"}.get(mode, b"X-Mugai-Sanitized")
    if mode in ("null-milter", "accept-milter"):
        bodies = set()
        for c in corpus:
            with open(c, "rb") as f:
                bodies.add(body_of(f.read()))
        if body_of(data) not in bodies:
            raise RuntimeError("null-milter: a delivered body is not the body sent")
        if mode == "accept-milter":
            if b"X-Null-Milter" in head:
                raise RuntimeError("accept-milter: a delivered message was edited")
            return
    if mode in ("relay", "null-filter"):
        if b"X-Mugai-Sanitized" in head or b"MIMEDefang" in head:
            raise RuntimeError(f"{mode}: a delivered message was filtered")
    elif want not in head:
        raise RuntimeError(f"{mode}: a delivered message lacks {want.decode()}")


def median_of(rs):
    pick = lambda k: statistics.median(r[k] for r in rs)
    out = {"mode": rs[0]["mode"], "sent": sum(r["sent"] for r in rs),
           "delivered": sum(r["delivered"] for r in rs), "rate": pick("rate"),
           "p50": pick("p50"), "p99": pick("p99"), "rates": [r["rate"] for r in rs]}
    out["cpu"] = {c: statistics.median(r["cpu"][c] for r in rs) for c in rs[0]["cpu"]}
    return out


def main():
    global CG
    CG = cg_ok()
    modes = ["relay", "null-filter", "mugaid", "accept-milter", "null-milter", "milter"]
    peers = []
    if os.path.exists(MIMEDEFANG) and os.path.exists(MULTIPLEXOR):
        modes.append("mimedefang")
    else:
        peers.append("MIMEDefang: not measured (not installed; `make bench-peers` installs it)")
    before = os.environ.get("BENCH_BEFORE_BUILD", "")
    if before:
        modes += ["mugaid-before", "milter-before"]
    if os.path.exists(CLAMD):
        modes.append("mugaid+av")
    else:
        peers.append(f"antivirus: not measured ({CLAMD} is not installed: clamav-daemon)")
    if os.environ.get("BENCH_MODES"):  # e.g. BENCH_MODES=relay,mugaid while profiling
        modes = [m for m in modes if m in os.environ["BENCH_MODES"].split(",")]
    fs = journaled_fs()
    root = fs[1] if fs else "/tmp"
    res = {m: [] for m in modes}
    try:
        with tempfile.TemporaryDirectory() as cdir:
            subprocess.run([sys.executable, os.path.join(os.path.dirname(__file__), "gen_corpus.py"),
                            cdir, str(FILES)], check=True, capture_output=True)
            corpus = sorted(glob.glob(f"{cdir}/*"))[:FILES]
            sizes = [os.path.getsize(c) for c in corpus]
            print(f"corpus: {len(corpus)} messages, mean {statistics.mean(sizes) / 1024:.1f} KB; "
                  f"{N} messages per run, {CONC} concurrent sessions, loopback; {ROUNDS} rounds, "
                  f"paths alternating, medians shown")
            print(f"filesystem: queues, store and Maildirs on "
                  + ("a loop-mounted ext4 made for this run (journal: "
                     f"{ext4_journal(root)}); " if fs else f"{root} (journal: {ext4_journal(root)}; "
                     "the loop mount failed); ")
                  + f"root filesystem ext4, journal: {ext4_journal('/')}")
            for r in range(ROUNDS):
                for m in modes:
                    res[m].append(run(m, corpus, root, before if m.endswith("-before") else BUILD))
    finally:
        drop_fs(fs)
        if CG:
            cg_cleanup(COMPONENTS)
    med = {m: median_of(rs) for m, rs in res.items()}
    cpu_cols = "  CPU ms/msg: postfix filter clamd load" if CG else ""
    print(f"{'path':14} {'sent':>6} {'deliv':>6} {'msg/s':>8} {'p50 s':>7} {'p99 s':>7}{cpu_cols}")
    for m in modes:
        r = med[m]
        c = r["cpu"]
        cpu = (f"  {c['postfix']:6.2f} {c['filter']:6.2f} {c['clamd']:5.2f} {c['load']:5.2f}"
               if CG else "")
        print(f"{m:14} {r['sent']:6} {r['delivered']:6} {r['rate']:8.1f} {r['p50']:7.2f} "
              f"{r['p99']:7.2f}{cpu}   (rounds: {', '.join(f'{x:.0f}' for x in r['rates'])})")
    rate = lambda m: med[m]["rate"]
    if not all(m in med for m in ("relay", "null-filter", "mugaid", "milter")):
        return  # BENCH_MODES chose a subset: no ratios
    print(f"milter / bare relay: {rate('milter') / rate('relay'):.2f}   (issue #12 target >= 0.60)")
    if "accept-milter" in med:
        print(f"accept milter / bare relay (the milter protocol alone): "
              f"{rate('accept-milter') / rate('relay'):.2f}")
    if "null-milter" in med:
        print(f"null milter / bare relay (milter ceiling: the protocol and mugaid's edits): "
              f"{rate('null-milter') / rate('relay'):.2f}")
        print(f"milter / null milter: {rate('milter') / rate('null-milter'):.2f}")
    print(f"after-queue / bare relay: {rate('mugaid') / rate('relay'):.2f}")
    print(f"after-queue / null filter (after-queue ceiling): {rate('mugaid') / rate('null-filter'):.2f}"
          "   (target >= 0.80)")
    print(f"null filter / bare relay: {rate('null-filter') / rate('relay'):.2f}")
    if CG:
        print(f"mugaid CPU per message: after-queue {med['mugaid']['cpu']['filter']:.2f} ms, "
              f"milter {med['milter']['cpu']['filter']:.2f} ms   (target <= 0.8 ms)")
        print(f"Postfix CPU per message: relay {med['relay']['cpu']['postfix']:.2f} ms, null filter "
              f"{med['null-filter']['cpu']['postfix']:.2f} ms, after-queue "
              f"{med['mugaid']['cpu']['postfix']:.2f} ms, milter {med['milter']['cpu']['postfix']:.2f} ms")
    else:
        print("CPU per message: not measured (no writable cgroup v1 cpuacct hierarchy)")
    if "mimedefang" in med:
        md = med["mimedefang"]
        print(f"mugaid milter / MIMEDefang milter throughput: {rate('milter') / md['rate']:.2f}"
              + (f"; filter CPU per message {med['milter']['cpu']['filter']:.2f} vs "
                 f"{md['cpu']['filter']:.2f} ms" if CG else ""))
    if before:
        print(f"mugaid after / before ({os.environ.get('BENCH_BEFORE', 'before')}) throughput: "
              f"after-queue {rate('mugaid') / rate('mugaid-before'):.2f}, "
              f"milter {rate('milter') / rate('milter-before'):.2f}")
    if "mugaid+av" in med:
        av, off = med["mugaid+av"], med["mugaid"]
        print(f"antivirus (clamd) on / off (after-queue): {av['rate']:.1f} / {off['rate']:.1f} msg/s = "
              f"{av['rate'] / off['rate']:.2f}; p50 {av['p50']:.2f} / {off['p50']:.2f} s, "
              f"p99 {av['p99']:.2f} / {off['p99']:.2f} s")
    for line in peers:
        print(line)
    print("amavisd-new: not measured (see README.md, mugaid Benchmark)")


CG = False
main()
