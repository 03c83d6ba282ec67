#!/usr/bin/env bash
# --coalesce: small writes share packets.  A client writes 300 lines of 34
# bytes, one write each, about 1 ms apart (a metrics firehose), through
# ringpiped -e --coalesce 50 -> a byte-counting relay -> stock spiped -d
# (which must read the coalesced stream as it is) -> an echo target.
# Checked: every byte comes back in order; the wire carries at least 10x
# fewer bytes than without --coalesce (same run, same load); a lone line
# waits no longer than the coalescing time plus a tick; and a bulk stream
# is not slowed (full packets go at once).
. "$(dirname "$0")/lib.sh"
KEY=$T_TMP/key
t_key "$KEY"
t_echo

cat >"$T_TMP/relay.py" <<'PY'
import socket, sys, threading
lport, dport, countfile = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
total = [0]
lock = threading.Lock()
def pump(a, b, count):
    while True:
        try:
            d = a.recv(65536)
        except OSError:
            d = b""
        if not d:
            try: b.shutdown(socket.SHUT_WR)
            except OSError: pass
            return
        if count:
            with lock:
                total[0] += len(d)
                open(countfile, "w").write(str(total[0]))
        b.sendall(d)
ls = socket.socket(); ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind(("127.0.0.1", lport)); ls.listen(64)
while True:
    c, _ = ls.accept()
    u = socket.create_connection(("127.0.0.1", dport))
    for s in (c, u): s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    threading.Thread(target=pump, args=(c, u, True), daemon=True).start()
    threading.Thread(target=pump, args=(u, c, False), daemon=True).start()
PY

# lines.py PORT N GAP_MS: N 34-byte lines, one write each, GAP_MS apart;
# reads the echo; prints "ok SECONDS" if it all came back in order.
cat >"$T_TMP/lines.py" <<'PY'
import socket, sys, time, threading
port, n, gap = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
s = socket.create_connection(("127.0.0.1", port)); s.settimeout(10)
s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
lines = [("m.%04d %8d 1700000000\n" % (i, i * 7))[:33].ljust(33).encode() + b"\n" for i in range(n)]
want = b"".join(lines); got = bytearray()
def rd():
    while len(got) < len(want):
        d = s.recv(65536)
        if not d: break
        got.extend(d)
t = threading.Thread(target=rd); t.start()
t0 = time.monotonic()
for l in lines:
    s.sendall(l)
    if gap: time.sleep(gap / 1000.0)
t.join(15)
print("ok" if bytes(got) == want else "bad %d/%d" % (len(got), len(want)), "%.3f" % (time.monotonic() - t0))
PY

# wire NAME FLAGS...: start -e FLAGS -> relay -> stock -d -> echo; set
# E_ADDR and COUNT (the relay's byte count file).
wire() {
  local d r e
  d=$(t_port); r=$(t_port); e=$(t_port)
  t_daemon stock -d "$(t_addr "$d")" "$(t_addr "$ECHO_PORT")" "$KEY" || return 1
  COUNT="$T_TMP/count.$1"
  t_bg python3 "$T_TMP/relay.py" "$r" "$d" "$COUNT"
  t_wait_port "$r" || return 1
  shift
  t_daemon ring -e "$(t_addr "$e")" "$(t_addr "$r")" "$KEY" "$@" || return 1
  E_ADDR=$e
}

wire plain || t_fail "plain pipe starts"
E_PLAIN=$E_ADDR; C_PLAIN=$COUNT
wire coal --coalesce 50 || t_fail "coalescing pipe starts"
E_COAL=$E_ADDR; C_COAL=$COUNT

read -r r1 s1 < <(python3 "$T_TMP/lines.py" "$E_PLAIN" 300 1)
read -r r2 s2 < <(python3 "$T_TMP/lines.py" "$E_COAL" 300 1)
b1=$(cat "$C_PLAIN" 2>/dev/null || echo 0); b2=$(cat "$C_COAL" 2>/dev/null || echo 0)
t_check "300 lines without --coalesce all came back in order ($s1 s)" test "$r1" = ok
t_check "300 lines with --coalesce 50 all came back in order, through stock -d ($s2 s)" test "$r2" = ok
if [ "$b2" -gt 0 ] && [ $((b1 / b2)) -ge 10 ]; then
  t_pass "--coalesce 50 cut the wire bytes $((b1 / b2))x: $b1 -> $b2 bytes for 10200 bytes of lines ($((b1 / 300)) -> $((b2 / 300)) wire bytes per line)"
else
  t_fail "--coalesce 50 cuts the wire bytes at least 10x: $b1 -> $b2"
fi

# A lone line waits for the coalescing time, and not much longer: the
# quickest of 3 lone lines is judged (load, or one retransmitted segment on
# a busy machine, only adds), and none may come back early.
r3=ok; s3=; all3=""
for i in 1 2 3; do
  read -r r s < <(python3 "$T_TMP/lines.py" "$E_COAL" 1 0)
  [ "$r" = ok ] || r3=$r
  all3="$all3${all3:+, }$s"
  s3=$(awk -v a="${s3:-1e9}" -v b="${s:-1e9}" 'BEGIN{print (b < a) ? b : a}')
  awk -v s="${s:-0}" 'BEGIN{exit !(s < 0.045)}' && r3="early($s)"
done
if [ "$r3" = ok ] && awk -v s="$s3" 'BEGIN{exit !(s >= 0.045 && s < 0.050 + 0.040)}'; then
  t_pass "a lone line came back after $s3 s (quickest of $all3 s; held 50 ms on the -e side, limit 50 ms + 40 ms)"
else
  t_fail "a lone line comes back after about 50 ms: $r3, quickest $s3 s of $all3 s"
fi

# Bulk through the coalescing pipe: full packets are not held.
t_check "64 MB echoed intact through --coalesce 50" \
  "$RPLOAD" echo -q -c "$(t_addr "$E_COAL")" -b 64M --timeout 30
t_exit
