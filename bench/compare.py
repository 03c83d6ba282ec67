#!/usr/bin/env python3
"""End-to-end comparison of ringpiped against stock spiped (make bench).

Starts -e/-d daemon pairs on loopback in front of one rp-target (sink +
echo) for three columns: stock spiped, ringpiped on its default engine
(io_uring), and ringpiped under tests/helpers' rp-nouring, a seccomp filter
that fails io_uring_setup/enter/register with EPERM as Docker's default
profile does, so that ringpiped falls back to its epoll engine as it would
in a container.  Each daemon's log is checked for the engine it says it
runs.  The same rp-load work runs against each column, alternating (the
order rotates every run, so every column takes every place in turn),
several repetitions, and it reports medians:

  * throughput, one connection one way and both ways at once;
  * aggregate throughput at 1, 4, 16, 64, 256 connections;
  * CPU seconds per GB of each daemon (utime+stime from /proc/PID/stat),
    and of -e against bare OpenSSL AES-256-CTR + HMAC-SHA256 at 1 KiB
    (`openssl speed`, measured in the same run);
  * new connections per second, with forward secrecy and with -f;
  * 100-byte echo latency p50/p99/p99.9, idle and under bulk load (2
    streams capped at 40 MiB/s each: the same work for every daemon);
  * peak RSS (VmHWM), peak private memory (RssAnon, sampled) and memory per
    idle connection (-e and -d);
  * single-connection throughput and rr latency across an rp-delay link
    (20 ms RTT, 1 Gbit/s cap).

The one-connection stream, the new-connection rate and the idle echo
latency (the headline figures, and the noisiest) run 3 times per
repetition; memory per idle connection runs in the first repetition only.

Writes a terminal table with each ringpiped column's ratio against stock
and the issue 12 targets checked, bench/out/bench-*.json (every figure,
every repetition; latest.json points to the last one) and
bench/out/throughput.png (gnuplot).  Every process it starts is killed on
exit, even on failure; every wait is bounded.

Usage: python3 bench/compare.py [--quick] [--build DIR] [--out DIR]
           [--engines io_uring,epoll] [--old PATH] [--no-stock]
           [--tests NAME,...]
  --engines  which ringpiped columns to run (default both)
  --old PATH add a column "old": the ringpiped at PATH on its default
             engine, for an A/B of two builds in one run
  --no-stock leave stock spiped out; ratios are then against the first
             column (old if given)
  --tests    run only these tests (agg_1 ... wan_rr; see Bench.tests)
Environment: RINGPIPED (default BUILD/ringpiped), SPIPED (default
/usr/bin/spiped), NOURING (default BUILD/tests/rp-nouring; built with make
if missing), BENCH_REPS, BENCH_SECS (override the repetitions and the
seconds per run).  If RINGPIPED does not exist, stock spiped runs in the
ringpiped slots and every output says so.  RINGPIPED_ENGINE is removed from
the daemons' environment.

Exit status: 0 if every run verified its data, 1 otherwise, 2 on set-up errors.
"""

import argparse
import atexit
import datetime
import json
import os
import re
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time

CLK_TCK = os.sysconf("SC_CLK_TCK")


class Procs:
    """Every child process, so that all of them die with us."""

    def __init__(self):
        self.procs = []

    def start(self, argv, log, **kw):
        f = open(log, "ab")
        p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=f,
                             stderr=subprocess.STDOUT, start_new_session=True,
                             **kw)
        f.close()
        p.argv = argv
        p.log = log
        self.procs.append(p)
        return p

    def stop(self, p, grace=0.5):
        """SIGTERM, then SIGKILL after ${grace} seconds; reap."""
        if p.poll() is None:
            try:
                os.killpg(p.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                p.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(p.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                try:
                    p.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    pass
        if p in self.procs:
            self.procs.remove(p)

    def stop_all(self):
        for p in list(self.procs):
            if p.poll() is None:
                try:
                    os.killpg(p.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        for p in list(self.procs):
            try:
                p.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
        self.procs = []


PROCS = Procs()


def on_signal(signum, frame):
    PROCS.stop_all()
    sys.stderr.write("bench: interrupted (signal %d)\n" % signum)
    os._exit(130)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def listening(port):
    """Is something listening on 127.0.0.1:${port}? (/proc/net/tcp, so the
    check opens no connection through a daemon.)"""
    want = ":%04X" % port
    try:
        with open("/proc/net/tcp") as f:
            for line in f.readlines()[1:]:
                fields = line.split()
                if fields[1].endswith(want) and fields[3] == "0A":
                    return True
    except OSError:
        pass
    return False


def wait_for(cond, timeout, what):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return
        time.sleep(0.02)
    raise SetupError("timed out after %.0fs waiting for %s" % (timeout, what))


def read_file_wait(path, timeout, proc=None):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if os.path.exists(path):
            with open(path) as f:
                txt = f.read().strip()
            if txt:
                return txt
        if proc is not None and proc.poll() is not None:
            break
        time.sleep(0.02)
    raise SetupError("no %s after %.0fs" % (path, timeout))


def proc_cpu(pid):
    """utime+stime of process ${pid} (all threads), in seconds."""
    with open("/proc/%d/stat" % pid) as f:
        s = f.read()
    rest = s[s.rfind(")") + 2:].split()
    return (int(rest[11]) + int(rest[12])) / CLK_TCK


def rss_anon(pid):
    """RssAnon of ${pid} in KiB (private memory; 0 once it is gone)."""
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("RssAnon:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


class AnonPeak:
    """Samples the RssAnon of each implementation's main (-e/-d, PFS) pair
    every ${period} seconds in a thread, keeping the highest: library
    pages are shared and file-backed, so private memory is what a daemon
    costs."""

    def __init__(self, impls, period=0.05):
        import threading
        self.impls, self.period = impls, period
        self.peak = {}
        self.by_test = {}       # (impl, side) -> {test: peak KiB}
        self.test = None        # The test running now (Bench.run sets it).
        self.stop_ev = threading.Event()
        self.thr = threading.Thread(target=self.run, daemon=True)
        self.thr.start()

    def run(self):
        while not self.stop_ev.wait(self.period):
            for impl in self.impls:
                pair = impl.pairs.get("fs") if impl.pairs else None
                if not pair:
                    continue
                for side in ("e", "d"):
                    kib = rss_anon(pair[side].pid)
                    key = (impl.name, side)
                    if kib > self.peak.get(key, 0):
                        self.peak[key] = kib
                    t = self.by_test.setdefault(key, {})
                    if self.test and kib > t.get(self.test, 0):
                        t[self.test] = kib

    def stop(self):
        self.stop_ev.set()
        self.thr.join()


def proc_mem(pid):
    """(VmRSS, VmHWM) of ${pid} in KiB."""
    rss = hwm = 0
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1])
            elif line.startswith("VmHWM:"):
                hwm = int(line.split()[1])
    return rss, hwm


def tail(path, n=15):
    try:
        with open(path, errors="replace") as f:
            return "".join(f.readlines()[-n:])
    except OSError:
        return ""


class SetupError(Exception):
    pass


EPOLL_LINE = "using the epoll engine"


class Impl:
    """One column (stock, or ringpiped on one engine) and its daemon pairs.
    ${wrap} prefixes each daemon's argv (rp-nouring for the epoll column);
    ${engine} is the engine the daemons must say they run (None: stock)."""

    def __init__(self, name, binary, label, bench, wrap=(), engine=None):
        self.name = name
        self.binary = binary
        self.label = label
        self.bench = bench
        self.wrap = list(wrap)
        self.engine = engine
        self.pairs = {}
        self.delay = None
        self.engine_seen = set()

    def check_engine(self, p, log):
        """Record the engine daemon ${p} runs, from its log.  ringpiped
        logs the line that says it falls back to epoll before it listens,
        and "N workers, <engine> engine (...)" just after (older builds do
        not log the second line: without either, it runs io_uring)."""
        if self.engine is None:
            return
        end = time.monotonic() + 0.5
        while True:
            txt = tail(log, 50)
            said = re.findall(r"workers, (\w+) engine", txt)
            if EPOLL_LINE in txt or said or time.monotonic() > end or \
                    p.poll() is not None:
                break
            time.sleep(0.01)
        if EPOLL_LINE in txt:
            seen = "epoll"
        else:
            seen = said[-1] if said else "io_uring"
        self.engine_seen.add(seen)
        if seen != self.engine:
            msg = ("%s: a daemon runs %s, not %s: %s" % (
                self.name, seen, self.engine, " ".join(p.argv)))
            if msg not in self.bench.engine_mismatch:
                self.bench.engine_mismatch.append(msg)
                sys.stderr.write("\nbench: WARNING: " + msg + "\n")

    def daemon(self, role, src_port, dst, extra, tag):
        b = self.bench
        argv = self.wrap + [
            self.binary, role, "-s", "[127.0.0.1]:%d" % src_port,
            "-t", dst, "-k", b.keyfile, "-F", "-n", "0"] + extra
        log = os.path.join(b.logdir, "%s-%s%s.log" % (self.name, tag, role))
        p = PROCS.start(argv, log, env=b.daemon_env)
        try:
            wait_for(lambda: listening(src_port) or p.poll() is not None, 5,
                     "%s %s to listen on %d" % (self.name, role, src_port))
        except SetupError:
            pass
        if p.poll() is not None or not listening(src_port):
            raise SetupError("%s %s did not start: %s\n%s" % (
                self.name, role, " ".join(argv), tail(log)))
        self.check_engine(p, log)
        return p

    def start_pair(self, tag, extra=(), via_delay=False):
        """-e on a port -> (rp-delay ->) -d -> the target.  Returns a dict
        with the -e address and both processes."""
        b = self.bench
        dport, eport = free_port(), free_port()
        d = self.daemon("-d", dport, b.target, list(extra), tag)
        dst = "[127.0.0.1]:%d" % dport
        if via_delay:
            pf = os.path.join(b.logdir, "%s-delay.port" % self.name)
            if os.path.exists(pf):
                os.unlink(pf)
            self.delay = PROCS.start(
                [b.tool("rp-delay"), "-l", "127.0.0.1:0", "-c", dst,
                 "--delay", "%dms" % b.delay_ms, "--rate", b.delay_rate,
                 "--port-file", pf, "--lifetime", "900"],
                os.path.join(b.logdir, "%s-delay.log" % self.name))
            dst = read_file_wait(pf, 5, self.delay)
        e = self.daemon("-e", eport, dst, list(extra), tag)
        pair = {"addr": "[127.0.0.1]:%d" % eport, "e": e, "d": d,
                "extra": list(extra), "via_delay": via_delay}
        self.pairs[tag] = pair
        return pair

    def stop_pair(self, tag):
        pair = self.pairs.pop(tag)
        PROCS.stop(pair["e"])
        PROCS.stop(pair["d"])

    def alive(self, tag):
        pair = self.pairs[tag]
        return pair["e"].poll() is None and pair["d"].poll() is None


class Bench:
    def __init__(self, args):
        self.args = args
        self.quick = args.quick
        self.build = args.build
        self.t0 = time.monotonic()
        # Seconds per column, for the whole run (see run()).
        self.budget_per_impl = 27 if self.quick else 160
        self.budget = self.budget_per_impl * 3
        self.reps = int(os.environ.get("BENCH_REPS", 1 if self.quick else 3))
        self.secs = float(os.environ.get("BENCH_SECS",
                                         0.5 if self.quick else 2.0))
        self.wan_secs = self.secs * 2 if self.quick else self.secs * 1.5
        self.idle_conns = 200 if self.quick else 1000
        self.idle_hold = 0.3 if self.quick else 1.0
        self.conn_counts = [1, 4, 16, 64, 256]
        self.connrate_par = 8
        # The headline one-connection figures are the noisiest (one
        # sender, one path through the 2 cores): run them several times
        # per repetition, alternating the columns, so that their medians
        # rest on more samples.
        # The idle echo latency too: its p99 and p99.9 on this shared
        # machine moved by 2-4x between single 2 s runs; and the -f
        # connection rate, whose single runs spread 3100-4700/s for one
        # column within one bench.
        self.inner = {} if self.quick else {"agg_1": 3, "connrate_pfs": 3,
                                            "connrate_f": 3, "rr_idle": 3}
        # Tests that run in the first repetition only: memory per idle
        # connection repeats to 0.2% (6.48/6.50 KiB, 19.31/19.30 KiB), and
        # its 1000 handshakes through stock take 3-5 s per repetition.
        self.first_rep_only = {"idle_mem"}
        self.grace = 10 if self.quick else 15
        self.delay_ms = 10
        self.delay_rate = "1G"
        self.failures = []
        self.engine_mismatch = []
        self.daemon_env = {k: v for k, v in os.environ.items()
                           if k != "RINGPIPED_ENGINE"}
        self.only = None        # None: every test; else a set of names
        self.rate_est = {}      # (impl, conns) -> best MB/s (sizes -b runs)
        self.runs = []          # every run, raw
        self.stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
        self.out = args.out
        self.logdir = os.path.join(self.out, "logs-" + self.stamp)
        os.makedirs(self.logdir, exist_ok=True)

    def tool(self, name):
        return os.path.join(self.build, "tools", name)

    def left(self):
        return self.budget - (time.monotonic() - self.t0)

    # -- running rp-load -------------------------------------------------

    def load_argv(self, mode, addr, *extra):
        return [self.tool("rp-load"), mode, "-c", addr, "-q",
                "--timeout", str(self.grace)] + [str(x) for x in extra]

    def load(self, argv, budget_secs):
        """Run rp-load; return its JSON (with "rc"), bounded in time."""
        try:
            r = subprocess.run(argv, stdin=subprocess.DEVNULL,
                               capture_output=True, text=True,
                               timeout=budget_secs + self.grace + 10)
            out, err, rc = r.stdout, r.stderr, r.returncode
        except subprocess.TimeoutExpired as e:
            out = e.stdout or ""
            err = (e.stderr or "") + "\n(killed: took too long)"
            if isinstance(out, bytes):
                out = out.decode(errors="replace")
            if isinstance(err, bytes):
                err = err.decode(errors="replace")
            rc = -9
        res = None
        for line in reversed(out.splitlines()):
            if line.startswith("{"):
                try:
                    res = json.loads(line)
                except ValueError:
                    pass
                break
        if res is None:
            res = {"ok": False}
        res["rc"] = rc
        if rc != 0:
            res["ok"] = False
            res["stderr"] = err.strip()[-2000:]
        return res

    def bg_load(self, argv, tag):
        log = os.path.join(self.logdir, "bg-%s.json" % tag)
        return PROCS.start(argv, log), log

    def bg_result(self, p, log, timeout):
        try:
            p.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            PROCS.stop(p)
        PROCS.stop(p)
        res = {"ok": False}
        for line in reversed(tail(log, 50).splitlines()):
            if line.startswith("{"):
                try:
                    res = json.loads(line)
                except ValueError:
                    pass
                break
        res["rc"] = p.returncode
        if p.returncode != 0:
            res["ok"] = False
            res["stderr"] = tail(log, 10)
        return res

    def cpu(self, pair):
        return proc_cpu(pair["e"].pid), proc_cpu(pair["d"].pid)

    def note(self, impl, test, res):
        if not res.get("ok"):
            msg = "%s %s: FAILED rc=%s %s" % (impl.name, test, res.get("rc"),
                                             res.get("stderr", "").strip())
            self.failures.append(msg)
            sys.stderr.write("\n" + msg + "\n")

    # -- the tests ---------------------------------------------------------

    def t_stream(self, impl, n, both=False, tag="fs", secs=None):
        """${n} connections one way (or both ways).  One connection runs
        for ${secs}; several send a fixed amount sized to take about
        ${secs}, because with many connections the data queued in socket
        buffers when a timed sender stops would take seconds to drain.  The
        size comes from this column's best rate at ${n} connections, or
        before its first run there from its rate at the next lower count
        (the aggregate falls with the count: sizing 256 connections from
        the one-connection rate made the run take 2-6 times ${secs})."""
        secs = secs or self.secs
        pair = impl.pairs[tag]
        c0 = self.cpu(pair)
        est = None
        for k in sorted((k for k in self.conn_counts if k <= n),
                        reverse=True):
            est = self.rate_est.get((impl.name, k))
            if est:
                break
        if n > 1 and est:
            per = max(256 * 1024, int(est * 1e6 * secs / n))
            argv = self.load_argv("stream", pair["addr"], "-n", n, "-b", per)
        else:
            argv = self.load_argv("stream", pair["addr"], "-n", n, "-t", secs)
        if both:
            argv.append("--both")
        res = self.load(argv, secs)
        c1 = self.cpu(pair)
        gb = (res.get("tx_bytes", 0) + res.get("rx_bytes", 0)) / 1e9
        out = {"MBps": res.get("total_MBps", 0.0),
               "tx_MBps": res.get("tx_MBps", 0.0),
               "rx_MBps": res.get("rx_MBps", 0.0),
               "cpu_e_s": c1[0] - c0[0], "cpu_d_s": c1[1] - c0[1],
               "bytes": gb * 1e9, "ok": res.get("ok", False)}
        if tag == "fs" and not both and res.get("ok"):
            self.rate_est[(impl.name, n)] = max(
                self.rate_est.get((impl.name, n), 0), out["MBps"])
        if gb > 0:
            out["cpu_e_s_per_GB"] = out["cpu_e_s"] / gb
            out["cpu_d_s_per_GB"] = out["cpu_d_s"] / gb
            out["cpu_s_per_GB"] = (out["cpu_e_s"] + out["cpu_d_s"]) / gb
        return out, res

    def t_connrate(self, impl, tag):
        pair = impl.pairs[tag]
        c0 = self.cpu(pair)
        res = self.load(self.load_argv("connrate", pair["addr"], "-n",
                                       self.connrate_par, "-t", self.secs),
                        self.secs)
        c1 = self.cpu(pair)
        n = res.get("completed", 0)
        out = {"per_s": res.get("per_s", 0.0), "completed": n,
               "ok": res.get("ok", False),
               "lat_p50_us": res.get("lat_us", {}).get("p50"),
               "lat_p99_us": res.get("lat_us", {}).get("p99")}
        if n:
            out["cpu_e_ms_per_conn"] = (c1[0] - c0[0]) * 1e3 / n
            out["cpu_d_ms_per_conn"] = (c1[1] - c0[1]) * 1e3 / n
        return out, res

    def t_rr(self, impl, tag="fs", loaded=False, secs=None):
        secs = secs or self.secs
        pair = impl.pairs[tag]
        bg = None
        if loaded:
            # The same background work for both daemons: 2 streams of
            # 40 MiB/s each, well within what stock spiped sustains.
            bg = self.bg_load(self.load_argv("stream", pair["addr"], "-n", 2,
                                             "-t", secs + 0.6,
                                             "--rate", "40M"),
                              "%s-%s" % (impl.name, tag))
            time.sleep(0.3)
        res = self.load(self.load_argv("rr", pair["addr"], "-n", 1,
                                       "-t", secs), secs)
        lat = res.get("lat_us", {})
        out = {"p50_us": lat.get("p50"), "p99_us": lat.get("p99"),
               "p999_us": lat.get("p999"), "mean_us": lat.get("mean"),
               "per_s": res.get("per_s"), "ok": res.get("ok", False)}
        if bg is not None:
            bres = self.bg_result(bg[0], bg[1], secs + self.grace + 5)
            out["bulk_MBps"] = bres.get("total_MBps", 0.0)
            if not bres.get("ok"):
                out["ok"] = False
                res["ok"] = False
                res["stderr"] = "background bulk load: " + \
                    bres.get("stderr", "")
        return out, res

    def t_idle(self, impl):
        """1000 idle connections through a fresh pair: RSS delta / N.  The
        pair first carries 50 short connections (closed again), so that
        what any first connection costs once (code and tables faulting in,
        allocator arenas) is not counted per connection."""
        pair = impl.start_pair("idle")
        try:
            time.sleep(0.1)
            self.load(self.load_argv("echo", pair["addr"], "-n", 50, "-b",
                                     "4k"), 10)
            time.sleep(0.1)
            e0, _ = proc_mem(pair["e"].pid)
            d0, _ = proc_mem(pair["d"].pid)
            ready = os.path.join(self.logdir, "idle-%s.ready" % impl.name)
            if os.path.exists(ready):
                os.unlink(ready)
            hold = self.idle_hold + 30   # released early, see below
            argv = self.load_argv("idle", pair["addr"], "-n", self.idle_conns,
                                  "-t", self.idle_hold, "--ready-file", ready)
            p, log = self.bg_load(argv, "idle-" + impl.name)
            setup = 0.0
            try:
                t = time.monotonic()
                read_file_wait(ready, self.grace + 5, p)
                setup = time.monotonic() - t
                time.sleep(min(0.2, self.idle_hold / 2))
                e1, _ = proc_mem(pair["e"].pid)
                d1, _ = proc_mem(pair["d"].pid)
            except SetupError:
                e1, d1 = e0, d0
            res = self.bg_result(p, log, hold)
            n = self.idle_conns
            out = {"conns": n, "setup_s": res.get("setup_s", setup),
                   "e_rss_before_KiB": e0, "d_rss_before_KiB": d0,
                   "e_rss_idle_KiB": e1, "d_rss_idle_KiB": d1,
                   "e_KiB_per_conn": (e1 - e0) / n,
                   "d_KiB_per_conn": (d1 - d0) / n,
                   "ok": res.get("ok", False)}
            return out, res
        finally:
            impl.stop_pair("idle")

    # -- orchestration -----------------------------------------------------

    def tests(self):
        t = []
        for n in self.conn_counts:
            t.append(("agg_%d" % n, lambda i, n=n: self.t_stream(i, n)))
        t.append(("stream1_both", lambda i: self.t_stream(i, 1, both=True)))
        t.append(("connrate_pfs", lambda i: self.t_connrate(i, "fs")))
        t.append(("connrate_f", lambda i: self.t_connrate(i, "f")))
        t.append(("rr_idle", lambda i: self.t_rr(i)))
        t.append(("rr_loaded", lambda i: self.t_rr(i, loaded=True)))
        t.append(("idle_mem", lambda i: self.t_idle(i)))
        t.append(("wan_stream1", lambda i: self.t_stream(
            i, 1, tag="wan", secs=self.wan_secs)))
        t.append(("wan_rr", lambda i: self.t_rr(i, tag="wan")))
        if self.only is not None:
            t = [x for x in t if x[0] in self.only]
        return t

    @staticmethod
    def order(impls, k):
        """The columns in the order of their ${k}th turn: rotated by one
        place each turn, and reversed every other cycle, so that with
        several turns every column runs first, last and between, and every
        column follows every other one."""
        n = len(impls)
        r = impls[k % n:] + impls[:k % n]
        return r if (k // n) % 2 == 0 else list(reversed(r))

    def run(self, impls):
        results = {}
        tests = self.tests()
        skipped_reps = 0
        turn = {}               # test -> how many turns it has had
        for rep in range(self.reps):
            if rep > 0 and self.left() < self.rep_secs * 1.1:
                skipped_reps = self.reps - rep
                sys.stderr.write("\nbench: time budget reached; skipping %d "
                                 "repetition(s)\n" % skipped_reps)
                break
            t_rep = time.monotonic()
            for name, fn in tests:
                if rep > 0 and name in self.first_rep_only:
                    continue
                seq = []
                for k in range(self.inner.get(name, 1)):
                    t = turn.get(name, 0)
                    seq += [(t, i) for i in self.order(impls, t)]
                    turn[name] = t + 1
                for t, impl in seq:
                    for tag in list(impl.pairs):
                        if not impl.alive(tag):
                            self.failures.append(
                                "%s: daemon pair %s exited; restarting it:\n%s"
                                % (impl.name, tag,
                                   tail(impl.pairs[tag]["e"].log) +
                                   tail(impl.pairs[tag]["d"].log)))
                            sys.stderr.write("\n" + self.failures[-1] + "\n")
                            p = impl.pairs[tag]
                            impl.stop_pair(tag)
                            impl.start_pair(tag, p["extra"], p["via_delay"])
                    if self.progress:
                        sys.stderr.write("\r\033[Krep %d/%d  %-13s %-9s "
                                         "(%.0fs)" % (
                                             rep + 1, self.reps, name,
                                             impl.name,
                                             time.monotonic() - self.t0))
                        sys.stderr.flush()
                    t_run = time.monotonic()
                    if self.anon is not None:
                        self.anon.test = name
                    out, raw = fn(impl)
                    self.note(impl, name, raw)
                    self.runs.append({"rep": rep, "test": name,
                                      "impl": impl.name, "figures": out,
                                      "rp_load": raw,
                                      "wall_s": time.monotonic() - t_run,
                                      "turn": t})
                    results.setdefault(name, {}).setdefault(
                        impl.name, []).append(out)
            self.rep_secs = time.monotonic() - t_rep
        if self.progress:
            sys.stderr.write("\r\033[K")
        return results, skipped_reps

    progress = sys.stderr.isatty()
    rep_secs = 0.0
    anon = None         # An AnonPeak told which test runs, if any.


def openssl_rate(args):
    """Bytes/s of `openssl speed ${args}` at 1024-byte blocks, or None."""
    try:
        r = subprocess.run(["openssl", "speed", "-seconds", "1", "-bytes",
                            "1024"] + args, capture_output=True, text=True,
                           timeout=30, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired):
        return None
    lines = [l for l in r.stdout.splitlines() if l.strip()]
    if r.returncode != 0 or not lines:
        return None
    last = lines[-1].split()
    if not last or not last[-1].endswith("k"):
        return None
    try:
        return float(last[-1][:-1]) * 1000.0
    except ValueError:
        return None


def bare_crypto_s_per_gb():
    """CPU seconds per GB (1e9 bytes) of single-buffer OpenSSL AES-256-CTR
    plus HMAC-SHA256 at 1 KiB (`openssl speed`): the yardstick of the -e
    CPU target.  Measured now, because this shared machine's speed drifts
    by 10% and more over minutes.  None if openssl is unusable."""
    aes = openssl_rate(["-evp", "aes-256-ctr"])
    mac = openssl_rate(["-hmac", "sha256"])
    if not aes or not mac:
        return None
    return 1e9 / aes + 1e9 / mac


def median(vals):
    vals = [v for v in vals if v is not None]
    return statistics.median(vals) if vals else None


def med(results, test, impl, key):
    return median([r.get(key) for r in results.get(test, {}).get(impl, [])])


def paired(runs, test, impl, ref, key):
    """The median over turns of ${impl}'s figure over ${ref}'s in the same
    turn (the columns of one turn run back to back), or None.  Steadier
    than the ratio of medians where the machine's state changes between
    turns: e.g. the idle echo p50 here sits near 65 us or near 110 us for
    every column, by how the scheduler places the four processes."""
    by = {}
    for r in runs:
        if r["test"] == test and "turn" in r:
            by.setdefault((r["rep"], r["turn"]), {})[r["impl"]] = \
                r["figures"].get(key)
    ratios = [g[impl] / g[ref] for g in by.values()
              if g.get(impl) is not None and g.get(ref)]
    return median(ratios)


ROWS = [
    # (label, test, key, unit, which way is better)
    ("throughput, 1 conn one way", "agg_1", "MBps", "MB/s", "higher"),
    ("throughput, 1 conn both ways (sum)", "stream1_both", "MBps", "MB/s",
     "higher"),
    ("aggregate, 4 conns", "agg_4", "MBps", "MB/s", "higher"),
    ("aggregate, 16 conns", "agg_16", "MBps", "MB/s", "higher"),
    ("aggregate, 64 conns", "agg_64", "MBps", "MB/s", "higher"),
    ("aggregate, 256 conns", "agg_256", "MBps", "MB/s", "higher"),
    ("CPU -e, 1 conn", "agg_1", "cpu_e_s_per_GB", "s/GB", "lower"),
    ("CPU -d, 1 conn", "agg_1", "cpu_d_s_per_GB", "s/GB", "lower"),
    ("CPU -e, 64 conns", "agg_64", "cpu_e_s_per_GB", "s/GB", "lower"),
    ("CPU -d, 64 conns", "agg_64", "cpu_d_s_per_GB", "s/GB", "lower"),
    ("new conns/s, forward secrecy", "connrate_pfs", "per_s", "conn/s",
     "higher"),
    ("new conns/s, -f", "connrate_f", "per_s", "conn/s", "higher"),
    ("CPU -e per new conn (PFS)", "connrate_pfs", "cpu_e_ms_per_conn", "ms",
     "lower"),
    ("CPU -d per new conn (PFS)", "connrate_pfs", "cpu_d_ms_per_conn", "ms",
     "lower"),
    ("rr latency p50, idle", "rr_idle", "p50_us", "us", "lower"),
    ("rr latency p99, idle", "rr_idle", "p99_us", "us", "lower"),
    ("rr latency p99.9, idle", "rr_idle", "p999_us", "us", "lower"),
    ("rr latency p50, bulk load", "rr_loaded", "p50_us", "us", "lower"),
    ("rr latency p99, bulk load", "rr_loaded", "p99_us", "us", "lower"),
    ("rr latency p99.9, bulk load", "rr_loaded", "p999_us", "us", "lower"),
    ("  (bulk load alongside)", "rr_loaded", "bulk_MBps", "MB/s", "higher"),
    ("memory per idle conn, -e", "idle_mem", "e_KiB_per_conn", "KiB",
     "lower"),
    ("memory per idle conn, -d", "idle_mem", "d_KiB_per_conn", "KiB",
     "lower"),
    ("peak RSS -e (VmHWM)", "peak_rss", "e_KiB", "KiB", "lower"),
    ("peak RSS -d (VmHWM)", "peak_rss", "d_KiB", "KiB", "lower"),
    ("peak private -e (RssAnon)", "peak_anon", "e_KiB", "KiB", "lower"),
    ("peak private -d (RssAnon)", "peak_anon", "d_KiB", "KiB", "lower"),
    ("WAN 20ms/1Gbit: 1 conn throughput", "wan_stream1", "MBps", "MB/s",
     "higher"),
    ("WAN 20ms/1Gbit: rr p50", "wan_rr", "p50_us", "us", "lower"),
    ("WAN 20ms/1Gbit: rr p99", "wan_rr", "p99_us", "us", "lower"),
]


def fmt(v):
    if v is None:
        return "-"
    if abs(v) >= 100:
        return "%.0f" % v
    if abs(v) >= 10:
        return "%.1f" % v
    return "%.3g" % v


# The issue 12 targets, checked against stock in the same run:
# (what, column, test, key, relation, bound).  "ratio >=": the column's
# figure over stock's at least ${bound}; "ratio <=": at most.
TARGETS = [
    ("epoll >= 2.5x stock, 1 conn", "epoll", "agg_1", "MBps", ">=", 2.5),
    ("epoll >= 3x stock, 64 conns", "epoll", "agg_64", "MBps", ">=", 3.0),
] + [
    ("%s echo %s %s <= stock" % (col, pct, load), col, test, key, "<=", 1.0)
    for col in ("io_uring", "epoll")
    for test, load in (("rr_idle", "idle"), ("rr_loaded", "bulk load"))
    for key, pct in (("p50_us", "p50"), ("p99_us", "p99"),
                     ("p999_us", "p99.9"))
]

# io_uring against an older build (--old): the figures that must not drop.
OLD_TARGETS = [
    ("agg_1", "MBps", "higher"), ("agg_64", "MBps", "higher"),
    ("agg_256", "MBps", "higher"), ("connrate_pfs", "per_s", "higher"),
    ("connrate_f", "per_s", "higher"), ("rr_idle", "p50_us", "lower"),
    ("rr_idle", "p99_us", "lower"), ("rr_loaded", "p50_us", "lower"),
    ("rr_loaded", "p99_us", "lower"),
]


def find_nouring(build, repo):
    """The rp-nouring wrapper: $NOURING, or BUILD/tests/rp-nouring, built
    with make if missing.  None if there is none."""
    path = os.environ.get("NOURING",
                          os.path.join(build, "tests", "rp-nouring"))
    if os.access(path, os.X_OK):
        return path
    if "NOURING" not in os.environ:
        rel = os.path.relpath(os.path.abspath(build), repo)
        try:
            subprocess.run(["make", "--no-print-directory", "-C", repo,
                            "BUILD=" + rel,
                            os.path.join(rel, "tests", "rp-nouring")],
                           stdin=subprocess.DEVNULL, capture_output=True,
                           timeout=120)
        except (OSError, subprocess.TimeoutExpired):
            pass
    return path if os.access(path, os.X_OK) else None


def git_state(repo):
    """HEAD of the checkout the daemons were built from, and the files
    under src/ that differ from it (a build may include them)."""
    def git(*a):
        try:
            r = subprocess.run(["git", "-C", repo] + list(a),
                               capture_output=True, text=True, timeout=10,
                               stdin=subprocess.DEVNULL)
            return r.stdout.strip() if r.returncode == 0 else None
        except (OSError, subprocess.TimeoutExpired):
            return None
    head = git("rev-parse", "--short", "HEAD")
    dirty = git("diff", "--name-only", "HEAD", "--", "src")
    return {"head": head, "src_changes": (dirty or "").split()}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true",
                    help="fewer repetitions, shorter runs (~1.5 minutes)")
    ap.add_argument("--build", default=os.environ.get("BUILD", "build"))
    ap.add_argument("--out", default="bench/out")
    ap.add_argument("--engines", default="io_uring,epoll",
                    help="ringpiped columns: io_uring, epoll or both")
    ap.add_argument("--old", metavar="PATH",
                    help="add a column: the ringpiped at PATH (default "
                    "engine), for an A/B in one run")
    ap.add_argument("--no-stock", action="store_true",
                    help="leave stock spiped out (ratios against the first "
                    "column)")
    ap.add_argument("--tests", help="comma-separated test names to run")
    args = ap.parse_args()
    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

    atexit.register(PROCS.stop_all)
    for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(s, on_signal)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = 65536 if hard == resource.RLIM_INFINITY else min(65536, hard)
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))

    b = Bench(args)
    if args.tests:
        b.only = set(t.strip() for t in args.tests.split(",") if t.strip())
        known = set(n for n, _ in b.tests())
        if not b.only <= known:
            sys.stderr.write("bench: unknown test(s) %s; known: %s\n" % (
                ",".join(sorted(b.only - known)), ",".join(sorted(known))))
            return 2
    engines = [e.strip() for e in args.engines.split(",") if e.strip()]
    if not set(engines) <= {"io_uring", "epoll"}:
        sys.stderr.write("bench: --engines takes io_uring and/or epoll\n")
        return 2
    # 1000 idle conns: rp-load ~1000 fds, each daemon ~2000, target ~1000.
    nofile = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    if nofile < 2 * b.idle_conns + 200:
        b.idle_conns = max(10, (nofile - 200) // 2)
        sys.stderr.write("bench: RLIMIT_NOFILE %d: idle test uses %d conns\n"
                         % (nofile, b.idle_conns))
    for t in ("rp-load", "rp-target", "rp-delay"):
        if not os.access(b.tool(t), os.X_OK):
            sys.stderr.write("bench: %s missing: make %s first\n"
                             % (b.tool(t), b.tool(t)))
            return 2
    spiped = os.environ.get("SPIPED", "/usr/bin/spiped")
    ringpiped = os.environ.get("RINGPIPED",
                               os.path.join(args.build, "ringpiped"))
    if not os.access(spiped, os.X_OK):
        sys.stderr.write("bench: SPIPED=%s is not executable\n" % spiped)
        return 2
    if args.old and not os.access(args.old, os.X_OK):
        sys.stderr.write("bench: --old %s is not executable\n" % args.old)
        return 2
    stock_vs_stock = not os.access(ringpiped, os.X_OK)
    if stock_vs_stock:
        sys.stderr.write("bench: %s does not exist: running STOCK in the "
                         "ringpiped columns (%s)\n" % (ringpiped, spiped))
        ringpiped = spiped

    # The epoll column: ringpiped where io_uring is blocked, as in a
    # container.  Without rp-nouring it falls back to forcing epoll with
    # RINGPIPED_ENGINE, and says so.
    nouring = None
    epoll_how = None
    if "epoll" in engines:
        nouring = find_nouring(args.build, repo)
        if nouring:
            epoll_wrap = [nouring]
            epoll_how = "seccomp (rp-nouring: io_uring_* fail with EPERM)"
        else:
            epoll_wrap = ["env", "RINGPIPED_ENGINE=epoll"]
            epoll_how = "FORCED with RINGPIPED_ENGINE=epoll (no rp-nouring)"
            sys.stderr.write("bench: %s/tests/rp-nouring missing and make "
                             "could not build it: the epoll column is %s\n"
                             % (args.build, epoll_how))

    b.keyfile = os.path.join(b.logdir, "key")
    with open(b.keyfile, "wb") as f:
        f.write(os.urandom(32))
    os.chmod(b.keyfile, 0o600)

    impls = []
    if not args.no_stock:
        impls.append(Impl("stock", spiped, "stock", b))
    ring_engine = None if stock_vs_stock else "io_uring"
    if args.old:
        impls.append(Impl("old", args.old, "old", b, engine="io_uring"))
    if "io_uring" in engines:
        impls.append(Impl("io_uring", ringpiped,
                          "STOCK" if stock_vs_stock else "io_uring", b,
                          engine=ring_engine))
    if "epoll" in engines:
        forced = epoll_wrap[0] == "env"
        impls.append(Impl("epoll", ringpiped,
                          "STOCK" if stock_vs_stock else "epoll", b,
                          wrap=epoll_wrap,
                          engine=None if (stock_vs_stock or forced)
                          else "epoll"))
    if not impls:
        sys.stderr.write("bench: no columns to run\n")
        return 2
    ref = impls[0]
    b.budget = float(os.environ.get("BENCH_BUDGET",
                                    b.budget_per_impl * len(impls)))

    pf = os.path.join(b.logdir, "target.port")
    tgt = PROCS.start([b.tool("rp-target"), "--auto", "-l", "127.0.0.1:0",
                       "--port-file", pf, "--lifetime", "1200"],
                      os.path.join(b.logdir, "target.log"))
    try:
        b.target = read_file_wait(pf, 5, tgt)
        for impl in impls:
            impl.start_pair("fs")
            impl.start_pair("f", ["-f"])
            impl.start_pair("wan", via_delay=True)
    except SetupError as e:
        sys.stderr.write("bench: set-up failed: %s\n" % e)
        return 2

    gs = git_state(repo)
    print("bench: %s at %s%s" % (repo, gs["head"], (
        "; src/ differs from it in " + ", ".join(gs["src_changes"]))
        if gs["src_changes"] else ""))
    print("bench: columns %s; %d rep(s) x %.1fs per run%s; logs in %s" % (
        ", ".join("%s=%s%s" % (i.name, " ".join(i.wrap + [i.binary]),
                               " (STOCK)" if stock_vs_stock and
                               i.binary == spiped and i.name != "stock"
                               else "") for i in impls),
        b.reps, b.secs, " (quick)" if b.quick else "", b.logdir))
    if epoll_how:
        print("bench: epoll column: %s" % epoll_how)
    sys.stdout.flush()
    run_all = b.only is None
    bare = [bare_crypto_s_per_gb()] if run_all else []
    anon = AnonPeak(impls) if run_all else None
    b.anon = anon
    results, skipped = b.run(impls)
    if anon:
        anon.stop()
    if run_all:
        bare.append(bare_crypto_s_per_gb())
    bare = median(bare)

    # Peak RSS over the whole run of the main (-e/-d, PFS) pair.
    if run_all:
        for impl in impls:
            pair = impl.pairs["fs"]
            if impl.alive("fs"):
                results.setdefault("peak_rss", {})[impl.name] = [{
                    "e_KiB": proc_mem(pair["e"].pid)[1],
                    "d_KiB": proc_mem(pair["d"].pid)[1]}]
            results.setdefault("peak_anon", {})[impl.name] = [{
                "e_KiB": anon.peak.get((impl.name, "e"), 0),
                "d_KiB": anon.peak.get((impl.name, "d"), 0),
                "by_test": {side: anon.by_test.get((impl.name, side), {})
                            for side in ("e", "d")}}]
    elapsed = time.monotonic() - b.t0
    PROCS.stop_all()

    # Table: the reference column (stock unless --no-stock), then each
    # other column with its ratio against the reference.
    lines = []
    cols = "".join(("%10s" % i.label[:10]) if i is ref else
                   ("%10s %7s" % (i.label[:10], "ratio")) for i in impls)
    hdr = "%-36s %-6s%s  %s" % (
        "metric (median of %d)" % (b.reps - skipped), "unit", cols, "better")
    lines.append(hdr)
    lines.append("-" * len(hdr))
    medians = {}
    for label, test, key, unit, better in ROWS:
        if test not in results:
            continue
        m = {"unit": unit, "better": better, "ref": ref.name, "ratio": {}}
        cells = ""
        s = med(results, test, ref.name, key)
        for i in impls:
            v = med(results, test, i.name, key)
            m[i.name] = v
            if i is ref:
                cells += "%10s" % fmt(v)
                continue
            ratio = (v / s) if (s and v is not None) else None
            m["ratio"][i.name] = ratio
            cells += "%10s %7s" % (fmt(v), ("%.2fx" % ratio)
                                   if ratio is not None else "-")
        medians.setdefault(test, {})[key] = m
        lines.append("%-36s %-6s%s  %s" % (label[:36], unit, cells, better))
    for test, k in sorted(b.inner.items()):
        if test in results:
            n = len(results[test].get(ref.name, []))
            lines.append("(%s: median of %d runs, %d per repetition)" % (
                test, n, k))
    for test in sorted(b.first_rep_only):
        if test in results and b.reps - skipped > 1:
            lines.append("(%s: first repetition only, 1 run)" % test)
    if bare:
        lines.append("")
        lines.append("CPU -e per GB against bare single-buffer OpenSSL "
                     "AES-256-CTR + HMAC-SHA256")
        lines.append("(openssl speed, 1 KiB, this run: %.3f s/GB):" % bare)
        for impl in impls:
            v = med(results, "agg_1", impl.name, "cpu_e_s_per_GB")
            if v is not None:
                medians.setdefault("bare_crypto", {})[impl.name] = v / bare
                lines.append("  %-10s %5.2fx" % (impl.label[:10], v / bare))
        medians.setdefault("bare_crypto", {})["s_per_GB"] = bare

    # The issue 12 targets, from this run's ratios.
    targets = []
    if ref.name == "stock" and not stock_vs_stock:
        for what, col, test, key, rel, bound in TARGETS:
            r = medians.get(test, {}).get(key, {}).get("ratio", {}).get(col)
            if r is None:
                continue
            ok = r >= bound if rel == ">=" else r <= bound
            pr = paired(b.runs, test, col, "stock", key)
            targets.append({"target": what, "ratio": r, "bound": bound,
                            "relation": rel, "holds": ok, "paired": pr,
                            "paired_holds": None if pr is None else (
                                pr >= bound if rel == ">=" else pr <= bound)})
    names = [i.name for i in impls]
    if "old" in names and "io_uring" in names:
        for test, key, better in OLD_TARGETS:
            o = med(results, test, "old", key)
            n = med(results, test, "io_uring", key)
            if not o or n is None:
                continue
            r = n / o
            gain = r if better == "higher" else 1 / r
            targets.append({"target": "io_uring %s %s vs old" % (test, key),
                            "ratio": r, "better": better,
                            "holds": gain >= 1.0,
                            "within_5pct": gain >= 0.95,
                            "paired": paired(b.runs, test, "io_uring", "old",
                                             key)})
    if targets:
        lines.append("")
        lines.append("issue 12 targets, from this run: the ratio of the "
                     "medians above, and the median")
        lines.append("of the ratios within each turn (paired), with a "
                     "verdict on each")
        for t in targets:
            pr = ("%6.2fx" % t["paired"]) if t["paired"] is not None \
                else "     -"
            if "bound" in t:
                verdict = "holds" if t["holds"] else "MISSED"
                pv = "" if t["paired_holds"] is None else (
                    "holds" if t["paired_holds"] else "MISSED")
                lines.append("  %-38s %6.2fx %-6s paired %s %-6s (%s %.1fx)"
                             % (t["target"], t["ratio"], verdict, pr, pv,
                                t["relation"], t["bound"]))
            else:
                verdict = "holds" if t["holds"] else (
                    "within 5%" if t["within_5pct"] else "SLOWER")
                lines.append("  %-38s %6.2fx %-9s paired %s  (%s is better)"
                             % (t["target"], t["ratio"], verdict, pr,
                                t["better"]))
    for i in impls:
        if i.engine and i.engine_seen and i.engine_seen != {i.engine}:
            lines.append("WARNING: column %s should run %s but its daemons "
                         "ran %s" % (i.name, i.engine,
                                     ", ".join(sorted(i.engine_seen))))
    print("\n".join(lines))

    # Chart: aggregate throughput of every column against connections.
    os.makedirs(b.out, exist_ok=True)
    png = None
    counts = [n for n in b.conn_counts if "agg_%d" % n in results]
    if counts:
        dat = os.path.join(b.out, "throughput.dat")
        with open(dat, "w") as f:
            f.write("conns %s\n" % " ".join(
                ("stock_spiped" if i.name == "stock" else
                 "ringpiped_" + i.name) for i in impls))
            for n in counts:
                vals = [med(results, "agg_%d" % n, i.name, "MBps")
                        for i in impls]
                f.write("%d %s\n" % (n, " ".join(
                    "%s" % v if v is not None else "NaN" for v in vals)))
        png = os.path.join(b.out, "throughput.png")
        gp = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                          "throughput_columns.gp")
        if shutil.which("gnuplot"):
            sub = "%s, median of %d x %.1fs, %s" % (
                b.stamp, b.reps - skipped, b.secs,
                "STOCK in every column" if stock_vs_stock else ringpiped)
            r = subprocess.run(["gnuplot", "-e",
                                "datafile='%s'; outfile='%s'; ncols=%d; "
                                "subtitle='%s'" % (dat, png, len(impls) + 1,
                                                   sub), gp],
                               capture_output=True, text=True, timeout=30)
            if r.returncode != 0:
                sys.stderr.write("bench: gnuplot failed: %s\n" % r.stderr)
                png = None
        else:
            png = None

    # JSON.
    doc = {
        "stamp": b.stamp, "quick": b.quick, "reps": b.reps,
        "reps_done": b.reps - skipped, "secs_per_run": b.secs,
        "elapsed_s": elapsed, "stock": spiped, "ringpiped": ringpiped,
        "old": args.old, "tests_only": sorted(b.only) if b.only else None,
        "columns": [{"name": i.name, "label": i.label, "binary": i.binary,
                     "wrap": i.wrap, "engine": i.engine,
                     "engine_seen": sorted(i.engine_seen)} for i in impls],
        "epoll_how": epoll_how, "engine_mismatch": b.engine_mismatch,
        "stock_vs_stock": stock_vs_stock, "git": gs,
        "wan": {"one_way_delay_ms": b.delay_ms, "rate": b.delay_rate},
        "idle_conns": b.idle_conns, "connrate_parallel": b.connrate_par,
        "host": {"nproc": os.cpu_count(), "uname": " ".join(os.uname())},
        "medians": medians, "targets": targets, "results": results,
        "runs": b.runs, "failures": b.failures, "chart": png,
    }
    jpath = os.path.join(b.out, "bench-%s.json" % b.stamp)
    with open(jpath, "w") as f:
        json.dump(doc, f, indent=1, sort_keys=True)
    latest = os.path.join(b.out, "latest.json")
    if os.path.lexists(latest):
        os.unlink(latest)
    os.symlink(os.path.basename(jpath), latest)
    print("bench: %.0fs; results %s; chart %s" % (elapsed, jpath,
                                                   png or "(none)"))
    if stock_vs_stock:
        print("bench: NOTE: %s was missing, the ringpiped columns are stock "
              "spiped" % os.environ.get("RINGPIPED", os.path.join(
                  args.build, "ringpiped")))
    if b.failures:
        print("bench: %d run(s) FAILED verification or set-up:" %
              len(b.failures))
        for f in b.failures:
            print("  " + f.replace("\n", "\n    "))
        return 1
    return 0


if __name__ == "__main__":
    try:
        rc = main()
    finally:
        PROCS.stop_all()
    sys.exit(rc)
