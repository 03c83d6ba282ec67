#!/usr/bin/env python3
"""Misbehaving spiped peers for the fault-injection tests.

    fault_clients.py MODE HOST:PORT N [options]

Client modes (each opens N connections to HOST:PORT):
  garbage   send 1..4000 random bytes, then read until the daemon closes;
            report the most bytes any connection got back.
  nonce     send a 32-byte nonce, then close.
  half      send a nonce and half (144 bytes) of the 288-byte DH message,
            then close.
  halfhold  the same but keep the connection open until the daemon drops it.
  idle      connect and send nothing; wait until the daemon drops it.
  trickle   send one random byte every 0.2 s until the daemon drops it.
  rstmid    send 256 KB, read at least 64 KB of the echo, then reset
            (SO_LINGER 0) in the middle of the transfer.
  flood     connect N times as fast as possible (at most --hold s open),
            then close them all with a reset.
Server mode:
  server    listen on HOST:PORT (port 0: write it to --port-file); to each
            connection send --send bytes (a nonce and part of a DH message),
            then close it (or with --rst reset it); runs --time seconds.

Every wait is bounded (--time, default 10 s).  Prints one line "key=value
..." and exits 0 unless something could not be done at all.
"""
import argparse
import os
import select
import socket
import struct
import sys
import time


def parse_addr(s):
    host, port = s.rsplit(":", 1)
    return host.strip("[]"), int(port)


def connect(addr, timeout=5.0):
    s = socket.socket()
    s.settimeout(timeout)
    s.connect(addr)
    return s


def rst_close(s):
    try:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                     struct.pack("ii", 1, 0))
    except OSError:
        pass
    s.close()


def wait_dropped(socks, deadline, got, trickle=False):
    """Read from socks until each sees EOF/reset or deadline; return how
    many were dropped by the peer and when the last one was."""
    live = {s.fileno(): s for s in socks}
    for s in socks:
        s.setblocking(False)
    dropped, last = 0, None
    next_trickle = time.monotonic()
    while live and time.monotonic() < deadline:
        if trickle and time.monotonic() >= next_trickle:
            for s in list(live.values()):
                try:
                    s.send(os.urandom(1))
                except OSError:
                    pass
            next_trickle = time.monotonic() + 0.2
        r, _, _ = select.select(list(live.values()), [], [], 0.1)
        for s in r:
            try:
                data = s.recv(65536)
            except (ConnectionResetError, OSError):
                data = b""
            if data:
                got[s.fileno()] = got.get(s.fileno(), 0) + len(data)
                continue
            dropped += 1
            last = time.monotonic()
            del live[s.fileno()]
    for s in socks:
        s.close()
    return dropped, last


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mode")
    ap.add_argument("addr")
    ap.add_argument("n", type=int)
    ap.add_argument("--time", type=float, default=10.0)
    ap.add_argument("--hold", type=float, default=0.5)
    ap.add_argument("--send", type=int, default=32 + 144)
    ap.add_argument("--rst", action="store_true")
    ap.add_argument("--port-file")
    a = ap.parse_args()
    addr = parse_addr(a.addr)
    t0 = time.monotonic()
    deadline = t0 + a.time

    if a.mode == "server":
        ls = socket.socket()
        ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        ls.bind(addr)
        ls.listen(128)
        if a.port_file:
            with open(a.port_file + ".tmp", "w") as f:
                f.write("[127.0.0.1]:%d\n" % ls.getsockname()[1])
            os.rename(a.port_file + ".tmp", a.port_file)
        ls.settimeout(0.2)
        served = 0
        while time.monotonic() < deadline:
            try:
                c, _ = ls.accept()
            except socket.timeout:
                continue
            try:
                c.sendall(os.urandom(a.send))
            except OSError:
                pass
            served += 1
            time.sleep(0.05)
            if a.rst:
                rst_close(c)
            else:
                c.close()
        print("served=%d" % served)
        return 0

    socks, failed, early = [], 0, 0
    got = {}
    if a.mode == "flood":
        for _ in range(a.n):
            s = socket.socket()
            s.setblocking(False)
            try:
                s.connect(addr)
            except BlockingIOError:
                pass
            except OSError:
                failed += 1
                s.close()
                continue
            socks.append(s)
        time.sleep(a.hold)
        for s in socks:
            rst_close(s)
        print("opened=%d failed=%d secs=%.2f" %
              (len(socks), failed, time.monotonic() - t0))
        return 0

    if a.mode == "rstmid":
        done = 0
        for i in range(a.n):
            try:
                s = connect(addr)
                s.sendall(os.urandom(256 * 1024))
                got_n = 0
                while got_n < 64 * 1024 and time.monotonic() < deadline:
                    d = s.recv(65536)
                    if not d:
                        break
                    got_n += len(d)
                if got_n >= 64 * 1024:
                    done += 1
                rst_close(s)
            except OSError:
                failed += 1
        print("reset_mid=%d failed=%d" % (done, failed))
        return 0

    for i in range(a.n):
        try:
            s = connect(addr)
            if a.mode == "garbage":
                s.sendall(os.urandom(1 + (i * 7919) % 4000))
                s.shutdown(socket.SHUT_WR)
            elif a.mode == "nonce":
                s.sendall(os.urandom(32))
            elif a.mode in ("half", "halfhold"):
                s.sendall(os.urandom(32 + 144))
            if a.mode in ("nonce", "half"):
                s.close()
                continue
            socks.append(s)
        except OSError:
            if a.mode == "garbage":
                early += 1  # reset while sending: dropped already
            else:
                failed += 1
    if a.mode in ("nonce", "half"):
        print("sent=%d failed=%d" % (a.n - failed, failed))
        return 0
    dropped, last = wait_dropped(socks, deadline, got,
                                 trickle=(a.mode == "trickle"))
    print("opened=%d failed=%d dropped=%d maxback=%d secs=%.2f" %
          (len(socks) + early, failed, dropped + early, max(got.values(), default=0),
           (last or time.monotonic()) - t0))
    return 0


if __name__ == "__main__":
    sys.exit(main())
