#!/usr/bin/env python3
"""What --metrics costs the data path: one connection streamed one way
through ringpiped -e -> -d -> rp-target, with and without --metrics on both
daemons (scraped every --scrape seconds, both endpoints, while the stream
runs), alternating which goes first in each round, a fresh pair for every
run.  Reports the medians of throughput and of each daemon's CPU seconds
per GB (utime+stime from /proc/PID/stat) and their ratios, on: off.

Usage: python3 bench/metrics_cost.py [--build DIR] [--runs N] [--secs S]
           [--scrape S] [--json FILE]

Uses bench/compare.py's process handling.  Every process it starts is
killed on exit; every wait is bounded.  Exit status: 0 if every run
verified its data and every scrape answered 200, 1 otherwise.
"""

import argparse
import json
import os
import signal
import sys
import tempfile
import threading
import time
import urllib.request

sys.dont_write_bytecode = True     # No bench/__pycache__ from the import.
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from compare import (PROCS, SetupError, free_port, listening,  # noqa: E402
                     median, on_signal, proc_cpu, read_file_wait, tail,
                     wait_for)


class Scraper(threading.Thread):
    """GET each of ${urls} every ${period} seconds until stopped; counts
    the answers and the failures."""

    def __init__(self, urls, period):
        super().__init__(daemon=True)
        self.urls, self.period = urls, period
        self.done = threading.Event()
        self.ok = self.failed = 0

    def run(self):
        while not self.done.wait(self.period):
            for u in self.urls:
                try:
                    with urllib.request.urlopen(u, timeout=2) as r:
                        r.read()
                        self.ok += (r.status == 200)
                        self.failed += (r.status != 200)
                except OSError:
                    self.failed += 1


def start_daemon(a, role, port, dst, mport, log):
    argv = [a.ringpiped, role, "-s", "[127.0.0.1]:%d" % port, "-t", dst,
            "-k", a.keyfile, "-F", "-n", "0"]
    if mport:
        argv += ["--metrics", "[127.0.0.1]:%d" % mport]
    p = PROCS.start(argv, log)
    wait_for(lambda: listening(port) or p.poll() is not None, 5,
             "%s to listen on %d" % (role, port))
    if p.poll() is not None:
        raise SetupError("%s did not start:\n%s" % (role, tail(log)))
    return p


def one_run(a, metrics, n):
    """One stream through a fresh pair; its figures as a dict."""
    dport, eport = free_port(), free_port()
    mports = (free_port(), free_port()) if metrics else (None, None)
    tag = "%s-%d" % ("on" if metrics else "off", n)
    d = start_daemon(a, "-d", dport, a.target, mports[0],
                     os.path.join(a.logdir, tag + "-d.log"))
    e = start_daemon(a, "-e", eport, "[127.0.0.1]:%d" % dport, mports[1],
                     os.path.join(a.logdir, tag + "-e.log"))
    scraper = None
    if metrics:
        scraper = Scraper(["http://127.0.0.1:%d/metrics" % m
                           for m in mports], a.scrape)
        scraper.start()
    c0 = (proc_cpu(e.pid), proc_cpu(d.pid))
    argv = [a.rpload, "stream", "-c", "[127.0.0.1]:%d" % eport, "-q",
            "-n", "1", "-t", str(a.secs), "--timeout", "30"]
    log = os.path.join(a.logdir, tag + "-load.log")
    p = PROCS.start(argv, log)
    try:
        p.wait(timeout=a.secs + 40)
    except Exception:
        PROCS.stop(p)
    c1 = (proc_cpu(e.pid), proc_cpu(d.pid))
    if scraper:
        scraper.done.set()
        scraper.join(5)
    PROCS.stop(p)
    PROCS.stop(e)
    PROCS.stop(d)
    with open(log) as f:
        res = json.loads(f.read().strip().splitlines()[-1])
    gb = res.get("tx_bytes", 0) / 1e9
    out = {"metrics": metrics, "ok": bool(res.get("ok")) and p.returncode == 0,
           "MBps": res.get("total_MBps", 0.0),
           "cpu_e_s_per_GB": (c1[0] - c0[0]) / gb if gb else None,
           "cpu_d_s_per_GB": (c1[1] - c0[1]) / gb if gb else None}
    if scraper:
        out["scrapes_ok"], out["scrapes_failed"] = scraper.ok, scraper.failed
        out["ok"] = out["ok"] and scraper.failed == 0 and scraper.ok > 0
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.environ.get("BUILD", "build"))
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--secs", type=float, default=5.0)
    ap.add_argument("--scrape", type=float, default=1.0)
    ap.add_argument("--json")
    a = ap.parse_args()
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    a.ringpiped = os.path.join(a.build, "ringpiped")
    a.rpload = os.path.join(a.build, "tools", "rp-load")
    a.logdir = tempfile.mkdtemp(prefix="rp-metrics-cost.")
    a.keyfile = os.path.join(a.logdir, "key")
    with open(a.keyfile, "wb") as f:
        f.write(os.urandom(32))
    pf = os.path.join(a.logdir, "target.port")
    tgt = PROCS.start([os.path.join(a.build, "tools", "rp-target"), "--auto",
                       "-l", "127.0.0.1:0", "--port-file", pf,
                       "--lifetime", "3600"],
                      os.path.join(a.logdir, "target.log"))
    a.target = read_file_wait(pf, 5, tgt)

    runs = []
    for i in range(a.runs):
        for metrics in ((False, True) if i % 2 == 0 else (True, False)):
            r = one_run(a, metrics, i)
            runs.append(r)
            sys.stderr.write("run %d metrics %-3s %7.1f MB/s  -e %.3f  -d "
                             "%.3f s/GB%s\n" % (
                                 i, "on" if metrics else "off", r["MBps"],
                                 r["cpu_e_s_per_GB"] or 0,
                                 r["cpu_d_s_per_GB"] or 0,
                                 "" if r["ok"] else "  FAILED"))

    # The ratio of the medians, and the median of the ratios within each
    # round (its two runs are next to each other in time, so a slow
    # moment of the machine weighs on both).
    print("median of %d runs of %.0f s, one connection one way, "
          "scraped every %.1f s when on" % (a.runs, a.secs, a.scrape))
    print("%-24s %10s %10s %8s %8s" % ("", "off", "on", "on/off",
                                       "rounds"))
    summary = {}
    for key, name in (("MBps", "throughput MB/s"),
                      ("cpu_e_s_per_GB", "CPU -e s/GB"),
                      ("cpu_d_s_per_GB", "CPU -d s/GB")):
        off = median([r[key] for r in runs if not r["metrics"]])
        on = median([r[key] for r in runs if r["metrics"]])
        pairs = [(runs[i], runs[i + 1]) for i in range(0, len(runs), 2)]
        rr = median([(p[1][key] / p[0][key]) if p[1]["metrics"] else
                     (p[0][key] / p[1][key]) for p in pairs])
        summary[key] = {"off": off, "on": on, "ratio": on / off,
                        "round_ratio": rr}
        print("%-24s %10.3f %10.3f %8.3f %8.3f" % (name, off, on, on / off,
                                                   rr))
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"runs": runs, "summary": summary, "secs": a.secs,
                       "scrape": a.scrape}, f, indent=1)
    return 0 if all(r["ok"] for r in runs) else 1


if __name__ == "__main__":
    try:
        sys.exit(main())
    finally:
        PROCS.stop_all()
