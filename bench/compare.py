#!/usr/bin/env python3
"""End-to-end comparison of ringpiped against stock spiped (make bench).

Starts -e/-d daemon pairs of both implementations on loopback in front of one
rp-target (sink + echo), runs the same rp-load work against each, alternating
stock / ringpiped, several repetitions, and reports medians:

  * throughput, one connection one way and both ways at once;
  * aggregate throughput at 1, 4, 16, 64, 256 connections;
  * CPU seconds per GB of each daemon (utime+stime from /proc/PID/stat),
    and of -e against bare OpenSSL AES-256-CTR + HMAC-SHA256 at 1 KiB
    (`openssl speed`, measured in the same run);
  * new connections per second, with forward secrecy and with -f;
  * 100-byte echo latency p50/p99/p99.9, idle and under bulk load (2
    streams capped at 40 MiB/s each: the same work for both daemons);
  * peak RSS (VmHWM) and memory per idle connection (-e and -d);
  * single-connection throughput and rr latency across an rp-delay link
    (20 ms RTT, 1 Gbit/s cap).

The one-connection stream and the new-connection rate (the headline
figures, and the noisiest) run 3 times per repetition.

Writes a terminal table with ringpiped/stock ratios, bench/out/bench-*.json
(every figure, every repetition; latest.json points to the last one) and
bench/out/throughput.png (gnuplot).  Every process it starts is killed on
exit, even on failure; every wait is bounded.

Usage: python3 bench/compare.py [--quick] [--build DIR] [--out DIR]
Environment: RINGPIPED (default BUILD/ringpiped), SPIPED (default
/usr/bin/spiped), BENCH_REPS, BENCH_SECS (override the repetitions and the
seconds per run).  If RINGPIPED does not exist, stock spiped runs in both
slots and every output says so.

Exit status: 0 if every run verified its data, 1 otherwise, 2 on set-up errors.
"""

import argparse
import atexit
import datetime
import json
import os
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


class Impl:
    """One implementation (stock or ringpiped) and its daemon pairs."""

    def __init__(self, name, binary, label, bench):
        self.name = name
        self.binary = binary
        self.label = label
        self.bench = bench
        self.pairs = {}
        self.delay = None

    def daemon(self, role, src_port, dst, extra, tag):
        b = self.bench
        argv = [self.binary, role, "-s", "[127.0.0.1]:%d" % src_port,
                "-t", dst, "-k", b.keyfile, "-F", "-n", "0"] + extra
        log = os.path.join(b.logdir, "%s-%s%s.log" % (self.name, tag, role))
        p = PROCS.start(argv, log)
        try:
            wait_for(lambda: listening(src_port) or p.poll() is not None, 5,
                     "%s %s to listen on %d" % (self.name, role, src_port))
        except SetupError:
            pass
        if p.poll() is not None or not listening(src_port):
            raise SetupError("%s %s did not start: %s\n%s" % (
                self.name, role, " ".join(argv), tail(log)))
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
        self.budget = 50 if self.quick else 330
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
        # per repetition, alternating stock and ringpiped, so that their
        # medians rest on more samples.
        self.inner = {} if self.quick else {"agg_1": 3, "connrate_pfs": 3}
        self.grace = 10 if self.quick else 15
        self.delay_ms = 10
        self.delay_rate = "1G"
        self.failures = []
        self.rate_est = {}      # impl -> best MB/s seen (sizes -b runs)
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
        for ${secs}; several send a fixed amount sized from the rate seen so
        far, because with many connections the data queued in socket buffers
        when a timed sender stops would take seconds to drain."""
        secs = secs or self.secs
        pair = impl.pairs[tag]
        c0 = self.cpu(pair)
        est = self.rate_est.get(impl.name)
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
            self.rate_est[impl.name] = max(self.rate_est.get(impl.name, 0),
                                           out["MBps"])
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
        """1000 idle connections through a fresh pair: RSS delta / N."""
        pair = impl.start_pair("idle")
        try:
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
        return t

    def run(self, impls):
        results = {}
        tests = self.tests()
        skipped_reps = 0
        for rep in range(self.reps):
            if rep > 0 and self.left() < self.rep_secs * 1.1:
                skipped_reps = self.reps - rep
                sys.stderr.write("\nbench: time budget reached; skipping %d "
                                 "repetition(s)\n" % skipped_reps)
                break
            t_rep = time.monotonic()
            order = impls if rep % 2 == 0 else list(reversed(impls))
            for name, fn in tests:
                for impl in [i for k in range(self.inner.get(name, 1))
                             for i in (order if k % 2 == 0 else
                                       list(reversed(order)))]:
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
                    out, raw = fn(impl)
                    self.note(impl, name, raw)
                    self.runs.append({"rep": rep, "test": name,
                                      "impl": impl.name, "figures": out,
                                      "rp_load": raw})
                    results.setdefault(name, {}).setdefault(
                        impl.name, []).append(out)
            self.rep_secs = time.monotonic() - t_rep
        if self.progress:
            sys.stderr.write("\r\033[K")
        return results, skipped_reps

    progress = sys.stderr.isatty()
    rep_secs = 0.0


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


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true",
                    help="fewer repetitions, shorter runs (< 1 minute)")
    ap.add_argument("--build", default=os.environ.get("BUILD", "build"))
    ap.add_argument("--out", default="bench/out")
    args = ap.parse_args()

    atexit.register(PROCS.stop_all)
    for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(s, on_signal)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = 65536 if hard == resource.RLIM_INFINITY else min(65536, hard)
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))

    b = Bench(args)
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
    stock_vs_stock = not os.access(ringpiped, os.X_OK)
    if stock_vs_stock:
        sys.stderr.write("bench: %s does not exist: running STOCK vs STOCK "
                         "(both slots are %s)\n" % (ringpiped, spiped))
        ring_label = "stock-as-ringpiped"
        ringpiped = spiped
    else:
        ring_label = "ringpiped"

    b.keyfile = os.path.join(b.logdir, "key")
    with open(b.keyfile, "wb") as f:
        f.write(os.urandom(32))
    os.chmod(b.keyfile, 0o600)

    pf = os.path.join(b.logdir, "target.port")
    tgt = PROCS.start([b.tool("rp-target"), "--auto", "-l", "127.0.0.1:0",
                       "--port-file", pf, "--lifetime", "900"],
                      os.path.join(b.logdir, "target.log"))
    try:
        b.target = read_file_wait(pf, 5, tgt)
        stock = Impl("stock", spiped, "stock spiped", b)
        ring = Impl("ringpiped", ringpiped, ring_label, b)
        impls = [stock, ring]
        for impl in impls:
            impl.start_pair("fs")
            impl.start_pair("f", ["-f"])
            impl.start_pair("wan", via_delay=True)
    except SetupError as e:
        sys.stderr.write("bench: set-up failed: %s\n" % e)
        return 2

    print("bench: %s vs %s; %d rep(s) x %.1fs per run%s; logs in %s" % (
        spiped, ringpiped + (" (STOCK vs STOCK)" if stock_vs_stock else ""),
        b.reps, b.secs, " (quick)" if b.quick else "", b.logdir))
    sys.stdout.flush()
    bare = [bare_crypto_s_per_gb()]
    results, skipped = b.run(impls)
    bare.append(bare_crypto_s_per_gb())
    bare = median(bare)

    # Peak RSS over the whole run of the main (-e/-d, PFS) pair.
    for impl in impls:
        pair = impl.pairs["fs"]
        if impl.alive("fs"):
            results.setdefault("peak_rss", {})[impl.name] = [{
                "e_KiB": proc_mem(pair["e"].pid)[1],
                "d_KiB": proc_mem(pair["d"].pid)[1]}]
    elapsed = time.monotonic() - b.t0
    PROCS.stop_all()

    # Table.
    lines = []
    hdr = "%-38s %-6s %10s %10s %7s  %s" % (
        "metric (median of %d)" % (b.reps - skipped), "unit", "stock",
        ring_label[:10], "ratio", "better")
    lines.append(hdr)
    lines.append("-" * len(hdr))
    medians = {}
    for label, test, key, unit, better in ROWS:
        s = med(results, test, "stock", key)
        r = med(results, test, "ringpiped", key)
        ratio = (r / s) if (s and r is not None) else None
        medians.setdefault(test, {})[key] = {"stock": s, "ringpiped": r,
                                             "ratio": ratio, "unit": unit,
                                             "better": better}
        lines.append("%-38s %-6s %10s %10s %7s  %s" % (
            label, unit, fmt(s), fmt(r),
            ("%.2fx" % ratio) if ratio is not None else "-", better))
    for test, k in sorted(b.inner.items()):
        n = len(results.get(test, {}).get("ringpiped", []))
        lines.append("(%s: median of %d runs, %d per repetition)" % (
            test, n, k))
    if bare:
        lines.append("")
        lines.append("CPU -e per GB against bare single-buffer OpenSSL "
                     "AES-256-CTR + HMAC-SHA256")
        lines.append("(openssl speed, 1 KiB, this run: %.3f s/GB):" % bare)
        for impl in ("stock", "ringpiped"):
            v = med(results, "agg_1", impl, "cpu_e_s_per_GB")
            if v is not None:
                medians.setdefault("bare_crypto", {})[impl] = v / bare
                lines.append("  %-10s %5.2fx" % (
                    impl if impl == "stock" else ring_label[:10], v / bare))
        medians.setdefault("bare_crypto", {})["s_per_GB"] = bare
    print("\n".join(lines))

    # Chart.
    os.makedirs(b.out, exist_ok=True)
    dat = os.path.join(b.out, "throughput.dat")
    with open(dat, "w") as f:
        f.write("# conns stock_MBps %s_MBps\n" % ring_label)
        for n in b.conn_counts:
            s = med(results, "agg_%d" % n, "stock", "MBps")
            r = med(results, "agg_%d" % n, "ringpiped", "MBps")
            f.write("%d %s %s\n" % (n, s if s is not None else "NaN",
                                    r if r is not None else "NaN"))
    png = os.path.join(b.out, "throughput.png")
    gp = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                      "throughput.gp")
    if shutil.which("gnuplot"):
        sub = "%s, median of %d x %.1fs, %s" % (
            b.stamp, b.reps - skipped, b.secs,
            "STOCK vs STOCK" if stock_vs_stock else ringpiped)
        r = subprocess.run(["gnuplot", "-e",
                            "datafile='%s'; outfile='%s'; label_a='stock "
                            "spiped'; label_b='%s'; subtitle='%s'" % (
                                dat, png, ring_label, sub), gp],
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
        "stock_vs_stock": stock_vs_stock, "ring_label": ring_label,
        "wan": {"one_way_delay_ms": b.delay_ms, "rate": b.delay_rate},
        "idle_conns": b.idle_conns, "connrate_parallel": b.connrate_par,
        "host": {"nproc": os.cpu_count(), "uname": " ".join(os.uname())},
        "medians": medians, "results": results, "runs": b.runs,
        "failures": b.failures, "chart": png,
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
        print("bench: NOTE: %s was missing, both columns are stock spiped"
              % os.environ.get("RINGPIPED", os.path.join(args.build,
                                                         "ringpiped")))
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
