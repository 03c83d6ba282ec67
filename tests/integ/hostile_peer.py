#!/usr/bin/env python3
"""A spiped peer that holds the key and misbehaves, for t_hostile.sh.

Written from the protocol description (PROTOCOL.md) alone, with no code
of ringpiped's: group 14 arithmetic with Python ints and pow(), and
AES-256-CTR, HMAC-SHA256 and PBKDF2-HMAC-SHA256 (1 iteration) from
Debian's python3-cryptography.

    hostile_peer.py --role client --key FILE --daemon ADDR --peer PORT
                    [--y Y] [--case CASE] [--at N] [--expect E] [--name S]
    hostile_peer.py --role server ...  (same options)
    hostile_peer.py --key FILE --cases FILE   (many cases, one process)

--role client: we are the protocol client and connect to ADDR, a -d daemon;
    we also listen on 127.0.0.1:PORT as that daemon's target (a recorder
    that sends a greeting, echoes and records every byte it gets).
--role server: we listen on 127.0.0.1:PORT as the target of a -e daemon
    (the protocol server), and connect to ADDR, that daemon's plaintext
    side, as its victim client (which records every byte it gets).
--y: the DH value we send: genuine (2^x mod p, x random), 0, 1, 2, pm1
    (p - 1), p, pp1 (p + 1), max (2^2048 - 1).
--case: what we send once the handshake is done:
    probe     (default) a packet sealed with the keys that our y forces;
    good      64 KiB each way in packets of random sizes, then half-close:
              both directions must arrive byte for byte;
    len0, len1025, lenmax
              packet N (--at) has a valid MAC but encodes a length of 0,
              1025 or 2^32 - 1;
    tamper    packet N has one bit of its ciphertext flipped;
    tampermac packet N has one bit of its MAC flipped;
    replay    packet N is packet N - 1 again (needs --at >= 1);
    reorder   packets N and N + 1 are swapped;
    every bad case sends packets 0..N-1 good, the bad one, then two more
    good packets numbered as if nothing was wrong, all in one write.
--expect: refused (the handshake is not completed: the daemon closes
    without sending more, and nothing reaches the far end), accepted (the
    handshake completes and our probe gets through), dropped (the daemon
    closes after the bad packet, and the far end got exactly the packets
    before it), intact (case good); without it we only report.

Prints one line saying what happened and exits 0 if it matches --expect
(or without --expect), 1 if not, 2 if the test could not run.  With
--cases, each line of FILE is a case name, a tab and that case's options
(--ref: only report, always PASS); each case prints "PASS: name: ..." or
"FAIL: name: ...", and the exit status is 1 if any failed.  Every wait
is bounded (--timeout, default 5 s, per step).
"""
import argparse
import hashlib
import hmac
import json
import os
import shlex
import socket
import struct
import sys
import threading
import time

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC

# RFC 3526 group 14: the 2048-bit MODP prime, generator 2.  Copied from the
# RFC on purpose (tests/fuzz/gen_hs_seeds.py has it too): this peer imports
# nothing of the project's.
P = int(
    "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74"
    "020BBEA63B139B22514A08798E3404DDEF9519B3CD3A431B302B0A6DF25F1437"
    "4FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7ED"
    "EE386BFB5A899FA5AE9F24117C4B1FE649286651ECE45B3DC2007CB8A163BF05"
    "98DA48361C55D39A69163FA8FD24CF5F83655D23DCA3AD961C62F356208552BB"
    "9ED529077096966D670C354E4ABC9804F1746C08CA18217C32905E462E36CE3B"
    "E39E772C180E86039B2783A2EC07A28FB5C55DF06F4C52C9DE2BCBF695581718"
    "3995497CEA956AE515D2261898FA051015728E5A8AACAA68FFFFFFFFFFFFFFFF", 16)
MAXD = 1024            # most plaintext bytes per packet
PADDED = MAXD + 4      # plaintext || be32(length)
PKT = PADDED + 32      # ciphertext || MAC
GREETING = b"greeting from the target\n"
PROBE = b"attacker's probe packet\n"
SECRET = b"the victim's plaintext\n"
GOOD_BYTES = 64 * 1024

Y_VALUES = {"0": 0, "1": 1, "2": 2, "pm1": P - 1, "p": P, "pp1": P + 1,
            "max": (1 << 2048) - 1}


def pbkdf2(password, salt, length):
    """PBKDF2-HMAC-SHA256 with one iteration."""
    return PBKDF2HMAC(algorithm=hashes.SHA256(), length=length, salt=salt,
                      iterations=1).derive(password)


def mac(key, data):
    return hmac.new(key, data, hashlib.sha256).digest()


def i2b(n):
    return n.to_bytes(256, "big")


def z_candidates(y_ours, x_ours, y_peer):
    """The shared secrets the peer may have computed from our y.

    The peer computes Z = y_ours^x_peer mod p, with x_peer unknown to us;
    a genuine y (we know x_ours) gives y_peer^x_ours.  None: we cannot know.
    """
    if x_ours is not None:
        return [pow(y_peer, x_ours, P)]
    r = y_ours % P
    if r == 0:
        return [0]
    if r == 1:
        return [1]
    if r == P - 1:
        return [1, P - 1]     # (-1)^x: depends on the parity of x_peer
    if r == 2:
        return [y_peer]       # 2^x_peer is the peer's own y
    return []


class Keys:
    """The session keys of one side for one Z."""

    def __init__(self, K, nonce_c, nonce_s, Z, role):
        dk2 = pbkdf2(K, nonce_c + nonce_s + i2b(Z), 128)
        c = (dk2[0:32], dk2[32:64])
        s = (dk2[64:96], dk2[96:128])
        self.send, self.recv = (c, s) if role == "client" else (s, c)
        self.Z = Z
        self.npkt_send = 0
        self.npkt_recv = 0

    @staticmethod
    def _ctr(key, pnum, data):
        ctr = struct.pack(">QQ", pnum, 0)
        e = Cipher(algorithms.AES(key), modes.CTR(ctr)).encryptor()
        return e.update(data) + e.finalize()

    def seal(self, msg, pnum=None, length=None):
        """Packet number ${pnum} (default: the next) carrying ${msg}, with
        its length field set to ${length} (default: len(msg))."""
        if pnum is None:
            pnum = self.npkt_send
            self.npkt_send += 1
        if length is None:
            length = len(msg)
        padded = msg + bytes(MAXD - len(msg)) + struct.pack(">I", length)
        c = self._ctr(self.send[0], pnum, padded)
        return c + mac(self.send[1], c + struct.pack(">Q", pnum))

    def open(self, pkt, pnum=None):
        """The plaintext of ${pkt}, or None if its MAC or length is bad."""
        if pnum is None:
            pnum = self.npkt_recv
        tag = mac(self.recv[1], pkt[:PADDED] + struct.pack(">Q", pnum))
        if not hmac.compare_digest(tag, pkt[PADDED:PKT]):
            return None
        p = self._ctr(self.recv[0], pnum, pkt[:PADDED])
        n = struct.unpack(">I", p[MAXD:])[0]
        if n == 0 or n > MAXD:
            return None
        self.npkt_recv = pnum + 1
        return p[:n]


class Closed(Exception):
    """The other side closed or reset the connection."""


def recv_exact(s, n, deadline):
    buf = b""
    while len(buf) < n:
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("timed out")
        s.settimeout(left)
        try:
            b = s.recv(n - len(buf))
        except (ConnectionResetError, BrokenPipeError):
            raise Closed("reset")
        if not b:
            raise Closed("eof")
        buf += b
    return buf


def drain(s, deadline):
    """Read until EOF/reset or ${deadline}: (bytes, how it ended)."""
    buf = b""
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return buf, "timeout"
        s.settimeout(left)
        try:
            b = s.recv(65536)
        except (ConnectionResetError, BrokenPipeError):
            return buf, "reset"
        except socket.timeout:
            return buf, "timeout"
        if not b:
            return buf, "eof"
        buf += b


def send_all(s, data):
    """Send ${data}; False if the other side has gone."""
    try:
        s.sendall(data)
        return True
    except (BrokenPipeError, ConnectionResetError):
        return False


def nodelay(s):
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class FarEnd(threading.Thread):
    """The plaintext end behind the daemon: records every byte it gets.

    role client: the -d daemon's target (listens, greets, echoes);
    role server: the -e daemon's victim client (connects, sends ${first},
    then with ${half_close} shuts down its sending side).
    """

    def __init__(self, role, lsock, addr, first, half_close, timeout):
        super().__init__(daemon=True)
        self.role, self.lsock, self.addr = role, lsock, addr
        self.first, self.half_close, self.timeout = first, half_close, timeout
        self.got = b""
        self.conns = 0
        self.live = 0           # connections still being recorded
        self.end = None         # how the last one ended
        self.stop = threading.Event()
        self.lock = threading.Lock()

    def run(self):
        if self.role == "client":
            self.as_target()
        else:
            self.as_victim()

    def _record(self, s):
        """Record (and as a target, echo) until EOF, reset, stop or 3
        timeouts; then say how it ended in self.end.  The caller has
        counted it in self.live."""
        end = "timeout"
        deadline = time.monotonic() + 3 * self.timeout
        while time.monotonic() < deadline:
            s.settimeout(0.1)
            try:
                b = s.recv(65536)
            except socket.timeout:
                if self.stop.is_set():
                    end = "open"
                    break
                continue
            except (ConnectionResetError, BrokenPipeError):
                end = "reset"
                break
            if not b:
                end = "eof"
                break
            with self.lock:
                self.got += b
            if self.role == "client":
                send_all(s, b)          # echo
        with self.lock:
            self.end = end
            self.live -= 1

    def settle(self, timeout):
        """Wait (at most ${timeout} s) until every connection has ended and
        none has come for a moment, then stop."""
        quiet_since = None
        t_end = time.monotonic() + timeout
        while time.monotonic() < t_end:
            with self.lock:
                done = (self.live == 0) and (self.end is not None or
                                             self.role == "client")
            if done:
                quiet_since = quiet_since or time.monotonic()
                if time.monotonic() - quiet_since > 0.1:
                    break
            else:
                quiet_since = None
            time.sleep(0.02)
        self.stop.set()
        self.join(3 * self.timeout + 1)

    def as_target(self):
        """Accept every connection the daemon makes to its target."""
        threads = []
        self.lsock.settimeout(0.1)
        while not self.stop.is_set():
            try:
                c, _ = self.lsock.accept()
            except socket.timeout:
                continue
            nodelay(c)
            with self.lock:
                self.conns += 1
                self.live += 1
            send_all(c, GREETING)

            def one(c=c):
                self._record(c)
                try:
                    c.shutdown(socket.SHUT_WR)
                except OSError:
                    pass
                c.close()
            t = threading.Thread(target=one, daemon=True)
            t.start()
            threads.append(t)
        for t in threads:
            t.join(3 * self.timeout)

    def as_victim(self):
        try:
            s = socket.create_connection(self.addr, timeout=self.timeout)
        except OSError:
            self.end = "connect failed"
            return
        nodelay(s)
        with self.lock:
            self.conns = 1
            self.live = 1
        if self.first:
            send_all(s, self.first)
        if self.half_close:
            s.shutdown(socket.SHUT_WR)
        self._record(s)
        s.close()


def plain_bytes(n, seed):
    """${n} deterministic bytes, different per ${seed}."""
    out = b""
    i = 0
    while len(out) < n:
        out += hashlib.sha256(b"%s %d" % (seed.encode(), i)).digest()
        i += 1
    return out[:n]


def chunks(data, seed):
    """Split ${data} into packet-sized pieces of pseudo-random sizes."""
    out, i, k = [], 0, 0
    while i < len(data):
        n = 1 + hashlib.sha256(b"%s %d" % (seed.encode(), k)).digest()[0] * 4
        n = min(n, MAXD, len(data) - i)
        out.append(data[i:i + n])
        i += n
        k += 1
    return out


def bad_stream(keys, case, at):
    """The packets of a bad case (a list) and the plaintext of the good
    packets before the bad one, the most that may arrive."""
    msgs = [b"good packet %d\n" % i for i in range(at + 3)]
    pkts = [keys.seal(m, pnum=i) for i, m in enumerate(msgs)]
    if case in ("len0", "len1025", "lenmax"):
        length = {"len0": 0, "len1025": 1025, "lenmax": 0xffffffff}[case]
        pkts[at] = keys.seal(msgs[at], pnum=at, length=length)
    elif case == "tamper":
        p = bytearray(pkts[at])
        p[5] ^= 0x01
        pkts[at] = bytes(p)
    elif case == "tampermac":
        p = bytearray(pkts[at])
        p[PADDED + 7] ^= 0x80
        pkts[at] = bytes(p)
    elif case == "replay":
        pkts[at] = pkts[at - 1]
    elif case == "reorder":
        pkts[at], pkts[at + 1] = pkts[at + 1], pkts[at]
    return pkts, b"".join(msgs[:at])


class Session:
    """One hostile connection and its outcome."""

    def __init__(self, a):
        self.a = a
        self.K = hashlib.sha256(open(a.key, "rb").read()).digest()
        self.facts = {"role": a.role, "y": a.y, "case": a.case}
        self.s = None

    # The handshake, as PROTOCOL.md says, with our chosen y.
    def handshake(self, s):
        a = self.a
        deadline = time.monotonic() + a.timeout
        if a.y == "genuine":
            x = int.from_bytes(os.urandom(32), "big")
            y = pow(2, x, P)
        else:
            x, y = None, Y_VALUES[a.y]
        nonce = os.urandom(32)
        if a.role == "client":
            send_all(s, nonce)
            nonce_s = recv_exact(s, 32, deadline)
            nonce_c = nonce
            dk1 = pbkdf2(self.K, nonce_c + nonce_s, 64)
            send_all(s, i2b(y) + mac(dk1[0:32], i2b(y)))
            yh = recv_exact(s, 288, deadline)
            dh_peer = dk1[32:64]
        else:
            send_all(s, nonce)
            nonce_c = recv_exact(s, 32, deadline)
            nonce_s = nonce
            dk1 = pbkdf2(self.K, nonce_c + nonce_s, 64)
            yh = recv_exact(s, 288, deadline)
            dh_peer = dk1[0:32]
        if not hmac.compare_digest(mac(dh_peer, yh[:256]), yh[256:]):
            raise RuntimeError("the daemon's DH value has a bad MAC")
        y_peer = int.from_bytes(yh[:256], "big")
        if a.role == "server":
            send_all(s, i2b(y) + mac(dk1[32:64], i2b(y)))
        zs = z_candidates(y, x, y_peer)
        return [Keys(self.K, nonce_c, nonce_s, z, a.role) for z in zs]

    def first_packet(self, s):
        """The daemon's first data packet (the target's greeting, or the
        victim's plaintext); raises Closed or TimeoutError."""
        return recv_exact(s, PKT, time.monotonic() + self.a.timeout)

    @staticmethod
    def pick_keys(pkt, cands):
        """The candidate keys that open ${pkt}, and its plaintext."""
        for k in cands:
            m = k.open(pkt)
            if m is not None:
                return k, m
        return None, None

    def run(self, lsock):
        """Play the case on listening socket ${lsock} (our --peer port);
        return what the far end received."""
        a = self.a
        flush_backlog(lsock)
        host, port = a.daemon.rsplit(":", 1)
        daddr = (host.strip("[]"), int(port))
        sent_good = plain_bytes(GOOD_BYTES, "victim " + a.name)
        back_good = plain_bytes(GOOD_BYTES, "hostile " + a.name)
        f = self.facts

        if a.role == "client":
            far = FarEnd("client", lsock, None, None, False, a.timeout)
            self.far = far
            far.start()
            s = socket.create_connection(daddr, timeout=a.timeout)
        else:
            first = {"good": sent_good, "probe": SECRET}.get(a.case, b"")
            far = FarEnd("server", None, daddr, first, a.case == "good",
                         a.timeout)
            self.far = far
            far.start()
            lsock.settimeout(a.timeout)
            try:
                s, _ = lsock.accept()
            except socket.timeout:
                raise RuntimeError("the -e daemon never connected to us")
        nodelay(s)

        # A refusal is the daemon closing before the handshake is over: a
        # client sees it before y_S; a server (which sends y_S last) sees
        # it when the first packet should come (probe: the victim's).
        first = None
        try:
            cands = self.handshake(s)
            if a.role == "server" and a.case == "probe":
                first = self.first_packet(s)
            f["handshake"] = "done"
        except Closed as e:
            f["handshake"] = "refused (%s)" % e
            cands = []
        except TimeoutError:
            f["handshake"] = "stalled (the daemon neither went on nor closed)"
            cands = []
        f["z_candidates"] = len(cands)
        if f["handshake"] == "done":
            self.data_phase(s, cands, first, sent_good, back_good)
        else:
            # Whatever the daemon still sends: nothing, then EOF or reset.
            rest, how = drain(s, time.monotonic() + a.timeout)
            f["after_refusal"] = "%d bytes then %s" % (len(rest), how)
        s.close()

        # Let the far end see its connection close (bounded), then judge.
        far.settle(2 * a.timeout)
        got = far.got
        f["far_end_conns"] = far.conns
        f["far_end_got"] = len(got)
        f["far_end_close"] = far.end
        return got

    def data_phase(self, s, cands, first, sent_good, back_good):
        a, f = self.a, self.facts
        if not cands:
            f["keys"] = "unknown to us"
            return
        if a.case == "probe":
            try:
                pkt = first or self.first_packet(s)
            except (Closed, TimeoutError) as e:
                f["keys"] = "not tried: no packet came (%s)" % e
                return
            k, text = self.pick_keys(pkt, cands)
            if k is None:
                f["keys"] = "not found: no candidate Z opens its packet"
                return
            f["keys"] = "derived (Z = %s)" % zname(k.Z)
            f["daemon_sent_first"] = text.decode(errors="replace")
            f["probe_sent"] = send_all(s, k.seal(PROBE))
            s.shutdown(socket.SHUT_WR)
            rest, how = drain(s, time.monotonic() + a.timeout)
            f["daemon_close"] = how
            self.expected = PROBE
            return
        k = cands[0]
        if a.case == "good":
            self.good_session(s, k, sent_good, back_good)
            return
        # A bad packet among good ones, all in one write.
        if a.role == "client":
            # The greeting comes first; it must open with our keys.
            try:
                _, text = self.pick_keys(self.first_packet(s), [k])
            except (Closed, TimeoutError):
                text = None
            f["greeting_ok"] = (text == GREETING)
        pkts, self.expected = bad_stream(k, a.case, a.at)
        if a.split and a.at > 0:
            # The good packets first, until the far end has them all.
            send_all(s, b"".join(pkts[:a.at]))
            f["prefix_arrived"] = self.wait_prefix(s, k, self.expected)
            pkts = pkts[a.at:]
        f["bad_stream_sent"] = send_all(s, b"".join(pkts))
        rest, how = drain(s, time.monotonic() + a.timeout)
        f["daemon_close"] = how

    def wait_prefix(self, s, k, prefix):
        """Wait (bounded) until the far end has received ${prefix}: as a
        client, from the target's echo; as a server, from the victim."""
        deadline = time.monotonic() + self.a.timeout
        if self.a.role == "server":
            while time.monotonic() < deadline:
                with self.far.lock:
                    if len(self.far.got) >= len(prefix):
                        return self.far.got == prefix
                time.sleep(0.01)
            return False
        echoed = b""
        try:
            while len(echoed) < len(prefix):
                m = k.open(recv_exact(s, PKT, deadline))
                if m is None:
                    return False
                echoed += m
        except (Closed, TimeoutError):
            return False
        return echoed == prefix

    def good_session(self, s, k, sent_good, back_good):
        """Both directions byte for byte, each ended by a half-close."""
        a, f = self.a, self.facts
        if a.role == "client":
            send_all(s, b"".join(k.seal(m) for m in chunks(sent_good, "c")))
            s.shutdown(socket.SHUT_WR)
            raw, how = drain(s, time.monotonic() + 3 * a.timeout)
            self.back = GREETING + sent_good     # what the target echoes
            self.expected = sent_good
        else:
            # The victim's bytes up to its half-close (the daemon packs
            # them as it reads them), then our answer and our half-close.
            raw, how = drain(s, time.monotonic() + 3 * a.timeout)
            f["victim_half_close"] = how
            got = self.open_all(k, raw)
            f["hostile_got_intact"] = (got == sent_good)
            send_all(s, b"".join(k.seal(m) for m in chunks(back_good, "s")))
            s.shutdown(socket.SHUT_WR)
            raw, how = drain(s, time.monotonic() + 3 * a.timeout)
            self.back = b""
            self.expected = back_good
        f["daemon_close"] = how
        got = self.open_all(k, raw)
        if a.role == "client":
            f["hostile_got_intact"] = (got == self.back)

    @staticmethod
    def open_all(k, raw):
        out = b""
        for i in range(0, len(raw) - len(raw) % PKT, PKT):
            m = k.open(raw[i:i + PKT])
            if m is None:
                return None
            out += m
        return out


def listener(port, cache):
    """A listening socket on 127.0.0.1:${port}, kept in ${cache} for the
    later cases on that port (binding it again could find the port taken
    by some other connection in the meantime)."""
    if port not in cache:
        ls = socket.socket()
        ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        ls.bind(("127.0.0.1", port))
        ls.listen(64)
        cache[port] = ls
    return cache[port]


def flush_backlog(ls):
    """Close connections left waiting from an earlier case, so that each
    case sees only its own."""
    ls.settimeout(0)
    while True:
        try:
            c, _ = ls.accept()
        except (BlockingIOError, socket.timeout):
            return
        c.close()


def zname(z):
    return {0: "0", 1: "1", P - 1: "p-1"}.get(z, "g^xy")


def judge(a, f, got, expected):
    """Does what happened match --expect?  (verdict, description)"""
    hs_done = f.get("handshake") == "done"
    far = "the target" if a.role == "client" else "the victim client"
    if not hs_done:
        desc = "handshake refused (%s); %s" % (
            f["handshake"].split(" ", 1)[1].strip("()"),
            f.get("after_refusal", ""))
    elif a.case == "probe":
        desc = "handshake accepted, keys %s" % f.get("keys")
        if f.get("keys", "").startswith("derived"):
            desc += "; our probe %s %s" % (
                "reached" if got == expected else "did not reach", far)
    elif a.case == "good":
        desc = "session: %d bytes each way, %s, we got ours %s" % (
            GOOD_BYTES, "far end intact" if got == expected else
            "far end got %d bytes" % len(got),
            "intact" if f.get("hostile_got_intact") else "damaged")
    else:
        if got == expected:
            what = "all the good packets before it, nothing after"
        elif expected.startswith(got):
            what = "%d of the %d good bytes before it, nothing after" % (
                len(got), len(expected))
        else:
            what = "BYTES FROM THE BAD PACKET ON"
        desc = "%d good packet(s) then a %s packet%s: daemon %s; %s got %s" % (
            a.at, a.case, " (in a later write)" if a.split else
            " (in the same write)", {
                "eof": "closed", "reset": "reset",
                "timeout": "kept the connection"}.get(f.get("daemon_close"),
                                                      f.get("daemon_close")),
            far, what)
    desc += "; %s: %d connection(s), %d bytes" % (far, f["far_end_conns"],
                                                  len(got))
    if a.expect is None:
        return True, desc
    if a.expect == "refused":
        ok = not hs_done and len(got) == 0 and \
            f.get("after_refusal", "").startswith("0 bytes")
        if a.role == "server":
            # The victim's plaintext must not have reached us either.
            ok = ok and f.get("far_end_close") in ("eof", "reset")
    elif a.expect == "accepted":
        ok = hs_done and got == expected
    elif a.expect == "dropped":
        # Nothing from the bad packet on; the good packets before it in
        # the same write may be lost with the connection, but once the far
        # end has them (--split) they stay delivered.
        ok = hs_done and f.get("daemon_close") in ("eof", "reset") and \
            expected.startswith(got) and \
            f.get("far_end_close") in ("eof", "reset")
        if a.split and a.at > 0:
            ok = ok and f.get("prefix_arrived") is True and got == expected
    elif a.expect == "intact":
        ok = hs_done and got == expected and \
            f.get("hostile_got_intact") is True and \
            f.get("daemon_close") == "eof"
    else:
        return False, "unknown --expect %s" % a.expect
    return ok, desc


CASE_OPTS = ("--role", "--daemon", "--peer", "--y", "--case", "--at",
             "--split", "--expect", "--ref")


def parser():
    ap = argparse.ArgumentParser()
    ap.add_argument("--role", choices=("client", "server"))
    ap.add_argument("--key", required=True)
    ap.add_argument("--daemon")
    ap.add_argument("--peer", type=int)
    ap.add_argument("--y", default="genuine",
                    choices=["genuine"] + sorted(Y_VALUES))
    ap.add_argument("--case", default="probe",
                    choices=("probe", "good", "len0", "len1025", "lenmax",
                             "tamper", "tampermac", "replay", "reorder"))
    ap.add_argument("--at", type=int, default=1)
    ap.add_argument("--split", action="store_true",
                    help="send the good packets before the bad one first and "
                    "wait until the far end has them")
    ap.add_argument("--expect",
                    choices=("refused", "accepted", "dropped", "intact"))
    ap.add_argument("--ref", action="store_true",
                    help="(with --cases) report only: always PASS")
    ap.add_argument("--name", default="")
    ap.add_argument("--timeout", type=float, default=5.0)
    ap.add_argument("--json", action="store_true",
                    help="also print every fact gathered")
    ap.add_argument("--cases",
                    help="a file of cases, one a line: NAME, a tab, then "
                    "the case options; print PASS:/FAIL: NAME: what happened")
    return ap


def play(a, cache):
    """Run the case ${a}: (verdict, description, facts)."""
    if a.role is None or a.daemon is None or a.peer is None:
        return None, "needs --role, --daemon and --peer", {}
    if a.case == "replay" and a.at < 1:
        return None, "replay needs --at >= 1", {}
    sess = Session(a)
    sess.expected = b""
    try:
        got = sess.run(listener(a.peer, cache))
    except Exception as e:            # the test itself could not run
        return None, "%s: %s" % (type(e).__name__, e), sess.facts
    ok, desc = judge(a, sess.facts, got, sess.expected)
    return ok, desc, sess.facts


def main():
    ap = parser()
    a = ap.parse_args()
    cache = {}
    if a.cases is None:
        ok, desc, facts = play(a, cache)
        if a.json:
            print(json.dumps(facts, sort_keys=True))
        print(desc if ok is not None else "ERROR: " + desc)
        return 2 if ok is None else (0 if ok else 1)

    # Batch: every case in one process, on long-lived listening sockets.
    fails = 0
    for line in open(a.cases):
        line = line.rstrip("\n")
        if not line.strip() or line.startswith("#"):
            continue
        name, _, opts = line.partition("\t")
        argv = shlex.split(opts)
        if any(o.startswith("--") and o not in CASE_OPTS for o in argv):
            ok, desc = None, "bad case options: %s" % opts
        else:
            c = ap.parse_args(["--key", a.key, "--timeout", str(a.timeout),
                               "--name", name] + argv)
            ok, desc, facts = play(c, cache)
            if c.ref and ok is not None:
                ok = True
        if ok is None:
            desc = "could not run: " + desc
        if a.json and ok is not None:
            print("  facts: " + json.dumps(facts, sort_keys=True))
        print("%s: %s: %s" % ("PASS" if ok else "FAIL", name, desc),
              flush=True)
        fails += not ok
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
