#!/usr/bin/env python3
"""A spiped client whose key the server does not hold, for t_keyrot.sh.

Written from PROTOCOL.md: for each of N connections it sends a fresh
nonce, reads the server's nonce, and sends a genuine y = 2^x mod p with
HMAC(dhmac_C, y), dhmac_C from PBKDF2-HMAC-SHA256 of its own key (SHA-256
of the key file) over nonce_C || nonce_S.  The server must then close
without sending anything more.  With --pid it reports the CPU time the
daemon (all its threads, from /proc/PID/task/*/schedstat, in ns) spent per
connection.

    stranger_client.py --key FILE --addr HOST:PORT -n N [--pid PID]

Prints one JSON line: {"n": N, "refused": R, "answered": A, "errors": E,
"cpu_us_per_conn": C}; exits 0 if every connection was refused.  Every
wait is bounded (5 s per step).
"""
import argparse
import hashlib
import hmac
import json
import os
import secrets
import socket
import sys

# RFC 3526 group 14 (2048-bit MODP) prime.
P = int(
    "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD1"
    "29024E088A67CC74020BBEA63B139B22514A08798E3404DD"
    "EF9519B3CD3A431B302B0A6DF25F14374FE1356D6D51C245"
    "E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7ED"
    "EE386BFB5A899FA5AE9F24117C4B1FE649286651ECE45B3D"
    "C2007CB8A163BF0598DA48361C55D39A69163FA8FD24CF5F"
    "83655D23DCA3AD961C62F356208552BB9ED529077096966D"
    "670C354E4ABC9804F1746C08CA18217C32905E462E36CE3B"
    "E39E772C180E86039B2783A2EC07A28FB5C55DF06F4C52C9"
    "DE2BCBF6955817183995497CEA956AE515D2261898FA0510"
    "15728E5A8AACAA68FFFFFFFFFFFFFFFF", 16)


def cpu_ns(pid):
    """On-CPU time of every thread of pid, in ns."""
    total = 0
    tdir = "/proc/%d/task" % pid
    for tid in os.listdir(tdir):
        try:
            with open("%s/%s/schedstat" % (tdir, tid)) as f:
                total += int(f.read().split()[0])
        except (OSError, ValueError, IndexError):
            pass
    return total


def recv_exact(s, n):
    buf = b""
    while len(buf) < n:
        chunk = s.recv(n - len(buf))
        if not chunk:
            break
        buf += chunk
    return buf


def one(addr, K, y):
    """One connection: 'refused', 'answered' or 'error'."""
    s = socket.create_connection(addr, timeout=5)
    try:
        nc = secrets.token_bytes(32)
        s.sendall(nc)
        ns = recv_exact(s, 32)
        if len(ns) != 32:
            return "error"
        dk1 = hashlib.pbkdf2_hmac("sha256", K, nc + ns, 1, 64)
        s.sendall(y + hmac.new(dk1[:32], y, hashlib.sha256).digest())
        try:
            more = s.recv(1)
        except ConnectionResetError:
            more = b""
        return "answered" if more else "refused"
    except (OSError, socket.timeout):
        return "error"
    finally:
        s.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--key", required=True)
    ap.add_argument("--addr", required=True)
    ap.add_argument("-n", type=int, default=100)
    ap.add_argument("--pid", type=int)
    a = ap.parse_args()
    host, port = a.addr.rsplit(":", 1)
    addr = (host.strip("[]"), int(port))
    with open(a.key, "rb") as f:
        K = hashlib.sha256(f.read()).digest()
    y = pow(2, secrets.randbits(256), P).to_bytes(256, "big")
    counts = {"refused": 0, "answered": 0, "error": 0}
    t0 = cpu_ns(a.pid) if a.pid else 0
    for _ in range(a.n):
        counts[one(addr, K, y)] += 1
    cpu = (cpu_ns(a.pid) - t0) if a.pid else 0
    print(json.dumps({"n": a.n, "refused": counts["refused"],
                      "answered": counts["answered"],
                      "errors": counts["error"],
                      "cpu_us_per_conn": round(cpu / 1000.0 / a.n, 2)}))
    return 0 if counts["refused"] == a.n else 1


if __name__ == "__main__":
    sys.exit(main())
