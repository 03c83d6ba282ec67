#!/usr/bin/env python3
"""A stand-in for systemd's notification socket, for t_systemd.sh.

Binds an AF_UNIX SOCK_DGRAM socket at PATH (what a service manager names
in $NOTIFY_SOCKET) and appends every datagram it receives to OUT as one
line, its newline-separated assignments joined by spaces (e.g.
"RELOADING=1 MONOTONIC_USEC=123"), flushed at once.  Exits after
--lifetime seconds (default 60), so it never outlives a test.

    notify_listener.py PATH OUT [--lifetime S]
"""
import argparse
import os
import socket
import sys
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("path")
    ap.add_argument("out")
    ap.add_argument("--lifetime", type=float, default=60.0)
    a = ap.parse_args()
    try:
        os.unlink(a.path)
    except FileNotFoundError:
        pass
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind(a.path)
    end = time.monotonic() + a.lifetime
    with open(a.out, "a") as out:
        while True:
            left = end - time.monotonic()
            if left <= 0:
                break
            s.settimeout(left)
            try:
                msg = s.recv(4096)
            except socket.timeout:
                break
            line = " ".join(x for x in msg.decode("utf-8", "replace")
                            .split("\n") if x)
            out.write(line + "\n")
            out.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
