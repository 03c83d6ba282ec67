#!/usr/bin/env bash
# The benchmark tools work: rp-load's modes against rp-target directly, over a
# UNIX socket and through rp-delay, and rp-load notices corruption, resets and
# short transfers.  Servers bind port 0 and publish the port (no races); every
# process is killed on exit; every step is bounded in time (< 30 s in all).
. "$(dirname "$0")/lib.sh"
t_auto_run_only "the benchmark tools, not ringpiped's engines"
T="$ROOT/$BUILD/tools"
TMP=$T_TMP
pass() { t_pass "$@"; }
fail() { t_fail "$@"; }
# ok NAME CMD...: PASS if CMD succeeds (bounded to 20 s).
ok() {
  local name=$1; shift
  if timeout -k 2 20 "$@" >"$TMP/out" 2>"$TMP/err"; then pass "$name"
  else fail "$name"; tail -n 5 "$TMP/err" | sed 's/^/    /'; fi
}
# must_fail NAME PATTERN CMD...: PASS if CMD fails and says PATTERN.
must_fail() {
  local name=$1 pat=$2; shift 2
  if timeout -k 2 20 "$@" >"$TMP/out" 2>"$TMP/err"; then
    fail "$name (succeeded)"
  elif grep -q -- "$pat" "$TMP/err"; then pass "$name"
  else fail "$name (no '$pat' in the error)"; tail -n 5 "$TMP/err" | sed 's/^/    /'; fi
}
# serve VAR CMD...: start a server with --port-file, set VAR to its address.
serve() {
  local var=$1; shift
  local pf="$TMP/port.$RANDOM$RANDOM"
  "$@" --port-file "$pf" --lifetime 60 &
  T_PIDS+=($!)
  local i
  for i in $(seq 100); do [ -s "$pf" ] && break; sleep 0.05; done
  if [ ! -s "$pf" ]; then fail "start: $*"; exit 1; fi
  printf -v "$var" '%s' "$(cat "$pf")"
}

for t in rp-load rp-target rp-delay; do
  [ -x "$T/$t" ] || { fail "$t built"; exit 1; }
done

serve AUTO "$T/rp-target" --auto -l 127.0.0.1:0
serve ECHO "$T/rp-target" --echo -l 127.0.0.1:0
serve SINK "$T/rp-target" --sink -l 127.0.0.1:0

ok "stream one way, 8 MB verified by the sink" \
  "$T/rp-load" stream -q -c "$SINK" -b 8M
ok "stream both ways, 2 conns" "$T/rp-load" stream -q -c "$AUTO" -n 2 -b 4M --both
ok "stream for a time, both ways" "$T/rp-load" stream -q -c "$AUTO" -n 3 -t 0.3 --both
ok "echo, 4 conns x 4 MB" "$T/rp-load" echo -q -c "$ECHO" -n 4 -b 4M
ok "echo through --auto" "$T/rp-load" echo -q -c "$AUTO" -b 1M
ok "rr, 200 requests" "$T/rp-load" rr -q -c "$ECHO" --count 200
ok "connrate, 0.3 s" "$T/rp-load" connrate -q -c "$ECHO" -n 4 -t 0.3
ok "idle, 50 conns held 0.2 s" \
  "$T/rp-load" idle -q -c "$ECHO" -n 50 -t 0.2 --ready-file "$TMP/ready"
if [ -s "$TMP/ready" ]; then pass "idle wrote its ready file"
else fail "idle wrote its ready file"; fi
if grep -q '"ok":true' "$TMP/out" && grep -q '"established":50' "$TMP/out"; then
  pass "JSON result line"
else fail "JSON result line"; cat "$TMP/out"; fi

# UNIX sockets.
serve USOCK "$T/rp-target" --auto -l "$TMP/target.sock"
ok "echo over a UNIX socket" "$T/rp-load" echo -q -c "$TMP/target.sock" -b 2M
ok "stream over a UNIX socket" "$T/rp-load" stream -q -c "$TMP/target.sock" -b 2M --both

# Through rp-delay: 5 ms each way, 200 Mbit/s.
serve DELAY "$T/rp-delay" -l 127.0.0.1:0 -c "$AUTO" --delay 5 --rate 200M
ok "stream through rp-delay (half-close: the sink replies after EOF)" \
  "$T/rp-load" stream -q -c "$DELAY" -b 2M --both
ok "echo through rp-delay" "$T/rp-load" echo -q -c "$DELAY" -n 2 -b 1M
if timeout 20 "$T/rp-load" rr -q -c "$DELAY" --count 10 >"$TMP/out" 2>"$TMP/err"; then
  p50=$(python3 -c 'import json,sys; print(int(json.load(open(sys.argv[1]))["lat_us"]["p50"]))' "$TMP/out")
  if [ "$p50" -ge 10000 ] && [ "$p50" -lt 40000 ]; then
    pass "rp-delay adds the round trip (rr p50 ${p50} us, want ~10000)"
  else fail "rp-delay adds the round trip (rr p50 ${p50} us, want ~10000)"; fi
else fail "rr through rp-delay"; tail -n 5 "$TMP/err"; fi
# Rate cap: 4 MB at 200 Mbit/s takes at least ~0.16 s.
if timeout 20 "$T/rp-load" stream -q -c "$DELAY" -b 4M >"$TMP/out" 2>"$TMP/err"; then
  mbps=$(python3 -c 'import json,sys; print(int(json.load(open(sys.argv[1]))["tx_MBps"]))' "$TMP/out")
  if [ "$mbps" -le 30 ]; then pass "rp-delay caps the rate (${mbps} MB/s <= 25 + slack)"
  else fail "rp-delay caps the rate (${mbps} MB/s, cap 25)"; fi
else fail "stream for the rate cap"; tail -n 5 "$TMP/err"; fi

# Detection of bad targets.
serve BADECHO "$T/rp-target" --echo -l 127.0.0.1:0 --corrupt-after 100000
must_fail "echo detects a flipped bit" mismatch \
  "$T/rp-load" echo -q -c "$BADECHO" -b 1M
serve BADSINK "$T/rp-target" --sink -l 127.0.0.1:0 --corrupt-after 100000
must_fail "stream: sink reports a flipped bit" mismatch \
  "$T/rp-load" stream -q -c "$BADSINK" -b 1M
serve BADDELAY "$T/rp-delay" -l 127.0.0.1:0 -c "$BADECHO" --delay 1
must_fail "corruption seen through rp-delay" mismatch \
  "$T/rp-load" echo -q -c "$BADDELAY" -b 1M
serve RST "$T/rp-target" --echo -l 127.0.0.1:0 --reset-after 50000
must_fail "echo detects a reset" reset "$T/rp-load" echo -q -c "$RST" -b 1M
serve RSTSINK "$T/rp-target" --sink -l 127.0.0.1:0 --reset-after 50000
must_fail "stream detects a reset" reset "$T/rp-load" stream -q -c "$RSTSINK" -b 1M
# A "echo" server that swallows everything and closes: a short transfer.
SWPF="$TMP/swallow.port"
timeout 15 python3 - "$SWPF" <<'PY' &
import socket, sys
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(4)
open(sys.argv[1] + ".tmp", "w").write("127.0.0.1:%d\n" % s.getsockname()[1])
import os; os.rename(sys.argv[1] + ".tmp", sys.argv[1])
c, _ = s.accept(); c.settimeout(10)
while c.recv(65536): pass
c.close()
PY
T_PIDS+=($!)
for i in $(seq 100); do [ -s "$SWPF" ] && break; sleep 0.05; done
must_fail "echo detects a short transfer" short \
  "$T/rp-load" echo -q -c "$(cat "$SWPF")" -b 100k
# Nothing listening: a connect error, not a hang.
must_fail "connect failure is reported" connect \
  "$T/rp-load" echo -q -c 127.0.0.1:1 -b 1k
# Usage errors exit 2.
"$T/rp-load" bogus >/dev/null 2>&1; rc=$?
if [ $rc -eq 2 ]; then pass "usage error exits 2"; else fail "usage error exits 2 (rc $rc)"; fi

t_exit
