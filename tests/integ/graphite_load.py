#!/usr/bin/env python3
"""Graphite plaintext load and its check, for t_graphite.sh.

    graphite_load.py send  --addr HOST:PORT --prefix P [--senders N]
                           [--metrics M] [--points K] --base TS
    graphite_load.py count --dir WHISPER_DIR --prefix P [--senders N]
                           [--metrics M] [--points K] --base TS
                           [--wait SECS]

send: N concurrent senders (threads), each on its own TCP connection with
TCP_NODELAY, connecting --connect-gap seconds apart and all connected
before any writes (so all N are open at once); each writes, one line per
send() as collectd and statsd do, "P.sI.mJ VALUE TS\\n" for its M metrics
and K timestamps TS = base .. base + K - 1 (so N * M * K datapoints, every
(metric, timestamp) distinct, VALUE a function of sender, metric and
point), then half-closes and waits (bounded) for the far end to close.
Prints "senders=.. lines=.. closed=.. seconds=.." and exits 0 if every
line was written and every connection closed cleanly.

count: read every expected whisper file P/sI/mJ.wsp with whisper.fetch and
count the datapoints whose value is the one sent for that timestamp;
retry until all are there or --wait seconds have passed (carbon-cache
writes its cache to disk in the background).  Prints "found=.. of ..
files=.. wrong=.." and exits 0 if every datapoint is there.
"""
import argparse
import os
import socket
import sys
import threading
import time


def value(i, j, k):
    """The value of sender ${i}'s metric ${j} at point ${k}."""
    return i * 10000 + j * 1000 + k + 0.5


def name(prefix, i, j):
    return "%s.s%02d.m%d" % (prefix, i, j)


def send(a):
    host, port = a.addr.rsplit(":", 1)
    addr = (host.strip("[]"), int(port))
    barrier = threading.Barrier(a.senders, timeout=a.timeout)
    t0 = time.monotonic()
    res = [None] * a.senders

    def sender(i):
        lines = 0
        stage = "connect"
        try:
            s = socket.create_connection(addr, timeout=a.timeout)
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            stage = "wait for the others"
            barrier.wait()
            stage = "write"
            # Interleave the metrics as an agent does: each interval, one
            # line per metric, one write per line.
            for k in range(a.points):
                for j in range(a.metrics):
                    s.sendall(("%s %r %d\n" % (name(a.prefix, i, j),
                                               value(i, j, k),
                                               a.base + k)).encode())
                    lines += 1
                time.sleep(0.001)
            stage = "wait for the close"
            s.shutdown(socket.SHUT_WR)
            # carbon closes once it has read our EOF: the whole pipe has
            # carried every byte by then.
            deadline = time.monotonic() + a.timeout
            closed = False
            while time.monotonic() < deadline:
                s.settimeout(max(0.01, deadline - time.monotonic()))
                if not s.recv(4096):
                    closed = True
                    break
            s.close()
            res[i] = (lines, closed, None)
        except Exception as e:          # reported, never raised
            # Free the others from the barrier, if it is still ahead (an
            # abort after it opened could reach waiters not yet awake).
            if stage in ("connect", "wait for the others"):
                barrier.abort()
            res[i] = (lines, False, "%s: %s: %s %.3f s" % (
                stage, type(e).__name__, e, time.monotonic() - t0))

    threads = [threading.Thread(target=sender, args=(i,), daemon=True)
               for i in range(a.senders)]
    for t in threads:
        t.start()
        # Spaced connects: stock spiped listens with a backlog of 10, and
        # a burst of 50 SYNs overflows it (SYN cookies, then resets of
        # connections the sender believed open: up to 38 of 50 here).
        time.sleep(a.connect_gap)
    for t in threads:
        t.join(3 * a.timeout + a.points)
    secs = time.monotonic() - t0
    done = [r for r in res if r is not None]
    lines = sum(r[0] for r in done)
    closed = sum(1 for r in done if r[1])
    # The first cause, not the senders it stopped at the barrier.
    errs = sorted(set(r[2] for r in done if r[2]),
                  key=lambda e: "BrokenBarrierError" in e)
    want = a.senders * a.metrics * a.points
    print("senders=%d lines=%d of %d closed=%d seconds=%.2f%s" % (
        a.senders, lines, want, closed, secs,
        (" errors=%s" % "; ".join(errs)) if errs else ""))
    return 0 if (lines == want and closed == a.senders) else 1


def count(a):
    import whisper

    want = a.senders * a.metrics * a.points
    deadline = time.monotonic() + a.wait
    while True:
        found = wrong = files = 0
        for i in range(a.senders):
            for j in range(a.metrics):
                path = os.path.join(a.dir, *name(a.prefix, i, j).split(".")) \
                    + ".wsp"
                if not os.path.exists(path):
                    continue
                files += 1
                try:
                    (start, _, step), vals = whisper.fetch(
                        path, a.base - 1, a.base + a.points)
                except Exception:
                    continue        # being created: look again
                for n, v in enumerate(vals):
                    k = (start + n * step) - a.base
                    if v is None:
                        continue
                    if 0 <= k < a.points and v == value(i, j, k):
                        found += 1
                    else:
                        wrong += 1
        if found == want or time.monotonic() >= deadline:
            break
        time.sleep(0.25)
    print("found=%d of %d files=%d of %d wrong=%d" % (
        found, want, files, a.senders * a.metrics, wrong))
    return 0 if (found == want and wrong == 0) else 1


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=("send", "count"))
    ap.add_argument("--addr")
    ap.add_argument("--dir")
    ap.add_argument("--prefix", required=True)
    ap.add_argument("--senders", type=int, default=50)
    ap.add_argument("--metrics", type=int, default=4)
    ap.add_argument("--points", type=int, default=20)
    ap.add_argument("--base", type=int, required=True)
    ap.add_argument("--timeout", type=float, default=10.0)
    ap.add_argument("--connect-gap", type=float, default=0.005,
                    help="seconds between two senders' connects")
    ap.add_argument("--wait", type=float, default=20.0)
    a = ap.parse_args()
    if a.mode == "send":
        if not a.addr:
            ap.error("send needs --addr")
        return send(a)
    if not a.dir:
        ap.error("count needs --dir")
    return count(a)


if __name__ == "__main__":
    sys.exit(main())
