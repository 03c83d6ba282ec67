#!/usr/bin/env bash
# --metrics: what GET /metrics answers passes `promtool check metrics`
# (Debian's prometheus package), and its counters match a known workload
# exactly: clean echo connections of known sizes through -e -> -d -> echo,
# wrong-key clients, a tampered packet, a failed connect, an -o timeout, -g
# against -f, degenerate DH values, -n deferring connections.  Garbage,
# oversized and wrong requests to the endpoint get an HTTP error and the
# daemon keeps serving, both its pipe and its metrics.
. "$(dirname "$0")/lib.sh"
t_auto_run_only "the metrics endpoint: the process"
HOSTILE="$ROOT/tests/integ/hostile_peer.py"
PROMTOOL=${PROMTOOL:-promtool}
if ! "$RINGPIPED_REAL" -F -d -s "$(t_addr 1)" -t "$(t_addr 1)" -k /dev/null \
    --metrics bad 2>&1 | grep -q 'Invalid metrics address'; then
  echo "this ringpiped was built without libmicrohttpd: --metrics is off"
  "$RINGPIPED_REAL" -F -d -s "$(t_addr 1)" -t "$(t_addr 1)" -k /dev/null \
    --metrics "$(t_addr 1)" 2>&1 | sed 's/^/    /'
  exit 0
fi
command -v "$PROMTOOL" >/dev/null || { echo "FAIL: no promtool (apt-get install prometheus)"; exit 1; }
command -v curl >/dev/null || { echo "FAIL: no curl"; exit 1; }

KEY=$T_TMP/key
BAD=$T_TMP/bad
t_key "$KEY"
t_key "$BAD"
t_echo

# scrape PORT FILE: GET /metrics of the daemon whose metrics listen on
# PORT into FILE; prints the HTTP status.
scrape() {
  curl -sS --max-time 5 -o "$2" -w '%{http_code}' \
    "http://127.0.0.1:$1/metrics" 2>/dev/null || echo fail
}
# mval FILE SERIES: the value of SERIES (its name and labels as written)
# in FILE, or "none".
mval() { awk -v k="$2" '$1 == k { v = $2 } END { print (v == "" ? "none" : v) }' "$1"; }
# msum FILE NAME: the sum of every series of NAME in FILE.
msum() { awk -v k="$2" 'index($1, k "{") == 1 || $1 == k { s += $2 } END { print s + 0 }' "$1"; }
# want WHO FILE SERIES VALUE: PASS if SERIES in FILE has VALUE.
want() {
  local got
  got=$(mval "$2" "$3")
  if [ "$got" = "$4" ]; then t_pass "$1: $3 $4"
  else t_fail "$1: $3 is $got, want $4"; fi
}
# settle PORT FILE ACCEPTED: scrape PORT into FILE until it has accepted
# ACCEPTED connections and none is active (at most 5 s).
settle() {
  local i
  for i in $(seq 1 50); do
    if [ "$(scrape "$1" "$2")" = 200 ] &&
       [ "$(mval "$2" ringpiped_connections_accepted_total)" = "$3" ] &&
       [ "$(mval "$2" ringpiped_connections_active)" = 0 ]; then
      return 0
    fi
    sleep 0.1
  done
  return 0
}
# promcheck WHO FILE: PASS if promtool accepts FILE (lint included).
promcheck() {
  if "$PROMTOOL" check metrics <"$2" >"$T_TMP/promtool.out" 2>&1; then
    t_pass "$1: promtool check metrics accepts the scrape ($(grep -c '^ringpiped_' "$2") samples)"
  else
    t_fail "$1: promtool check metrics"; head -n 5 "$T_TMP/promtool.out" | sed 's/^/    /'
  fi
}
# metrics_daemon VAR MODE SRCPORT TARGET KEY FLAGS...: start a ringpiped
# with --metrics on a fresh port, which VAR is set to (stderr in
# $T_TMP/VAR.err), and wait until GET /metrics answers: it does once the
# source socket listens.  (Waiting on the source port instead would be a
# connection of its own in the counters.)
metrics_daemon() {
  local var=$1 mode=$2 src=$3 tgt=$4 key=$5 mp i a nflag=(-n 0); shift 5
  for a in "$@"; do [ "$a" = -n ] && nflag=(); done
  mp=$(t_port)
  printf -v "$var" '%s' "$mp"
  t_bg "$RINGPIPED" -F "$mode" -s "$(t_addr "$src")" -t "$tgt" -k "$key" \
    -w 2 "${nflag[@]}" --metrics "$(t_addr "$mp")" "$@" 2>"$T_TMP/$var.err"
  for i in $(seq 1 100); do
    [ "$(scrape "$mp" /dev/null)" = 200 ] && return 0
    kill -0 "$T_LAST" 2>/dev/null || break
    sleep 0.05
  done
  echo "FAIL: ringpiped $mode --metrics $mp did not come up"
  sed 's/^/    /' "$T_TMP/$var.err"
  return 1
}

D=$(t_port); E=$(t_port)
metrics_daemon MD -d "$D" "$(t_addr "$ECHO_PORT")" "$KEY" || exit 1
DPID=$T_LAST
metrics_daemon ME -e "$E" "$(t_addr "$D")" "$KEY" || exit 1

# --- The endpoint: the only path, the only methods; HTTP errors for what
# the library cannot parse or will not hold; the pipe works throughout.
code() { curl -s --max-time 5 -o /dev/null -w '%{http_code}' "$@" 2>/dev/null; }
t_check "GET /metrics answers 200 with the 0.0.4 text format" \
  sh -c "curl -sS --max-time 5 -D - -o /dev/null http://127.0.0.1:$MD/metrics | grep -qi '^content-type: text/plain; version=0.0.4'"
[ "$(code "http://127.0.0.1:$MD/")" = 404 ] && t_pass "GET / is 404" || t_fail "GET / is 404"
[ "$(code "http://127.0.0.1:$MD/metrics/x")" = 404 ] && t_pass "GET /metrics/x is 404" || t_fail "GET /metrics/x is 404"
[ "$(code -X POST -d x=1 "http://127.0.0.1:$MD/metrics")" = 405 ] &&
  t_pass "POST /metrics is 405" || t_fail "POST /metrics is 405"
[ "$(code -X DELETE "http://127.0.0.1:$MD/metrics")" = 405 ] &&
  t_pass "DELETE /metrics is 405" || t_fail "DELETE /metrics is 405"
[ "$(code -I "http://127.0.0.1:$MD/metrics")" = 200 ] &&
  t_pass "HEAD /metrics is 200" || t_fail "HEAD /metrics is 200"
BIG=$(head -c 40000 /dev/zero | tr '\0' a)
c=$(code -H "X-Big: $BIG" "http://127.0.0.1:$MD/metrics")
[ "$c" = 431 ] && t_pass "a 40 kB header is refused (431)" || t_fail "a 40 kB header is refused (got $c)"
c=$(code "http://127.0.0.1:$MD/metrics?$BIG")
[ "$c" = 414 ] && t_pass "a 40 kB URI is refused (414)" || t_fail "a 40 kB URI is refused (got $c)"

# raw NAME BYTES-EXPR: send BYTES-EXPR (a Python bytes expression) to the
# metrics port of -d and print the status line it answers, or what
# happened (every wait bounded).
raw() {
  python3 - "$MD" "$2" <<'PY'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5)
s.sendall(eval(sys.argv[2]))
out = b""
try:
    while b"\r\n" not in out:
        b = s.recv(4096)
        if not b:
            break
        out += b
except OSError as e:
    print("error: %s" % e)
    sys.exit(0)
print(out.split(b"\r\n")[0].decode("latin-1") or "closed")
PY
}
c=$(raw garbage 'b"\x01\x02GARBAGE \xff\xfe nonsense\r\n\r\n"')
[[ "$c" == "HTTP/1.1 400"* ]] && t_pass "a garbage request gets 400 ($c)" || t_fail "a garbage request gets 400 (got $c)"
c=$(raw header 'b"GET /metrics HTTP/1.1\r\nno colon here\r\n\r\n"')
[[ "$c" == "HTTP/1.1 400"* ]] && t_pass "a header line without a colon gets 400" || t_fail "a header line without a colon gets 400 (got $c)"
c=$(raw flood 'b"G" * 100000')
[[ "$c" == "HTTP/1.1 4"* ]] && t_pass "100 kB without a line end gets an error ($c)" || t_fail "100 kB without a line end gets an error (got $c)"
c=$(raw body 'b"GET /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello"')
[[ "$c" == "HTTP/1.1 200"* ]] && t_pass "a GET with a body is answered (the body unread)" || t_fail "a GET with a body (got $c)"

# Clients that connect and say nothing hold no scrape up.
python3 - "$MD" 3 <<'PY' &
import socket, sys, time
socks = [socket.create_connection(("127.0.0.1", int(sys.argv[1]))) for _ in range(int(sys.argv[2]))]
time.sleep(3)
PY
T_PIDS+=("$!")
sleep 0.3
[ "$(scrape "$MD" "$T_TMP/x")" = 200 ] && t_pass "a scrape is answered while 3 idle clients hold connections" ||
  t_fail "a scrape is answered while 3 idle clients hold connections"
t_alive "ringpiped -d with --metrics is still up after the bad requests" "$DPID"

# --- The workload through -e -> -d -> echo: connections of known sizes
# (the first after the bad requests), every byte checked by rp-load.
SIZES=(1 1024 1025 100000 1048576)
total=0; npk=0; n=0
for b in "${SIZES[@]}"; do
  t_check "echo of $b bytes through -e -> -d" \
    "$RPLOAD" echo -q -c "$(t_addr "$E")" -b "$b" --timeout 20
  total=$((total + b)); npk=$((npk + (b + 1023) / 1024)); n=$((n + 1))
done
t_check "4 parallel echoes of 64 KiB through -e -> -d" \
  "$RPLOAD" echo -q -c "$(t_addr "$E")" -n 4 -b 64k --timeout 20
total=$((total + 4 * 65536)); npk=$((npk + 4 * 64)); n=$((n + 4))

# Wrong keys: a ringpipe and an -e (whose own metrics see the peer close).
t_check_fails "ringpipe with another key is refused by -d" \
  timeout 10 "$RINGPIPE" -t "$(t_addr "$D")" -k "$BAD" </dev/null
EB=$(t_port)
metrics_daemon MEB -e "$EB" "$(t_addr "$D")" "$BAD" || exit 1
t_check_fails "an -e with another key is refused by -d" \
  "$RPLOAD" echo -q -c "$(t_addr "$EB")" -b 1000 --timeout 5

# A tampered first data packet (offset 320 + 10: inside packet 0, which
# holds the client's one byte): -d drops the pair and opens nothing of it.
t_serve RELAY "$RPTAMPER" -l 127.0.0.1:0 -c "$(t_addr "$D")" --lifetime 120 \
  --flip up:330 || exit 1
ET=$(t_port)
metrics_daemon MET -e "$ET" "$RELAY" "$KEY" || exit 1
t_check_fails "a tampered packet drops the connection" \
  "$RPLOAD" echo -q -c "$(t_addr "$ET")" -b 1 --timeout 5

# A target that refuses: the connect fails.
EC=$(t_port); DEAD=$(t_port)
metrics_daemon MEC -e "$EC" "$(t_addr "$DEAD")" "$KEY" || exit 1
t_check_fails "a refused target fails the connection" \
  "$RPLOAD" echo -q -c "$(t_addr "$EC")" -b 1000 --timeout 5

settle "$MD" "$T_TMP/d.prom" $((n + 3))
settle "$ME" "$T_TMP/e.prom" "$n"
promcheck "-d" "$T_TMP/d.prom"
promcheck "-e" "$T_TMP/e.prom"

for who in -d -e; do
  f=$T_TMP/d.prom; acc=$((n + 3)); ok=$((n + 1))
  [ "$who" = -e ] && { f=$T_TMP/e.prom; acc=$n; ok=$n; }
  want "$who" "$f" ringpiped_connections_accepted_total "$acc"
  want "$who" "$f" ringpiped_connections_active 0
  want "$who" "$f" ringpiped_handshakes_ok_total "$ok"
  want "$who" "$f" ringpiped_handshake_duration_seconds_count "$ok"
  want "$who" "$f" 'ringpiped_handshake_duration_seconds_bucket{le="+Inf"}' "$ok"
  want "$who" "$f" 'ringpiped_connections_closed_total{reason="eof"}' "$n"
  want "$who" "$f" 'ringpiped_connections_closed_total{reason="reset"}' 0
  want "$who" "$f" 'ringpiped_plaintext_bytes_total{direction="encrypted"}' "$total"
  want "$who" "$f" 'ringpiped_plaintext_bytes_total{direction="decrypted"}' "$total"
  want "$who" "$f" 'ringpiped_worker_pairs{worker="0"}' 0
  want "$who" "$f" 'ringpiped_worker_pairs{worker="1"}' 0
  want "$who" "$f" 'ringpiped_connections_closed_total{reason="timeout"}' 0
done
want -d "$T_TMP/d.prom" 'ringpiped_handshakes_failed_total{reason="bad_mac"}' 2
want -d "$T_TMP/d.prom" 'ringpiped_connections_closed_total{reason="handshake_failed"}' 2
want -d "$T_TMP/d.prom" 'ringpiped_connections_closed_total{reason="bad_packet"}' 1
want -d "$T_TMP/d.prom" 'ringpiped_connections_closed_total{reason="connect_failed"}' 0
want -e "$T_TMP/e.prom" 'ringpiped_handshakes_failed_total{reason="bad_mac"}' 0
want -e "$T_TMP/e.prom" 'ringpiped_connections_closed_total{reason="bad_packet"}' 0
# Every connection -d accepted is closed, by one reason or another.
c=$(msum "$T_TMP/d.prom" ringpiped_connections_closed_total)
[ "$c" = $((n + 3)) ] && t_pass "-d: connections_closed_total sums to the $c accepted" ||
  t_fail "-d: connections_closed_total sums to $c, want $((n + 3))"

# Packets: what -e sealed -d opened and the other way round, at least one
# per 1024 bytes of each connection (reads may end packets early).
pe=$(mval "$T_TMP/e.prom" 'ringpiped_packets_total{direction="encrypted"}')
pd=$(mval "$T_TMP/d.prom" 'ringpiped_packets_total{direction="decrypted"}')
qd=$(mval "$T_TMP/d.prom" 'ringpiped_packets_total{direction="encrypted"}')
qe=$(mval "$T_TMP/e.prom" 'ringpiped_packets_total{direction="decrypted"}')
if [ "$pe" = "$pd" ] && [ "$qd" = "$qe" ] && [ "$pe" -ge "$npk" ] && [ "$qd" -ge "$npk" ]; then
  t_pass "packets: -e sealed $pe = -d opened $pd; -d sealed $qd = -e opened $qe (>= $npk each)"
else
  t_fail "packets: -e sealed $pe, -d opened $pd; -d sealed $qd, -e opened $qe (>= $npk each)"
fi

# The info metric names the engine the daemon logged at start.
eng=epoll
grep -q 'io_uring engine' "$T_TMP/MD.err" && eng=io_uring
[ "$RP_ENGINE_RUN" = epoll ] && [ "$eng" != epoll ] && eng="epoll (log says io_uring)"
if grep -q "^ringpiped_info{version=\"[^\"]*\",mode=\"decrypt\",engine=\"$eng\",crypto=\"seal: [^\"]*\"} 1\$" "$T_TMP/d.prom"; then
  t_pass "-d: ringpiped_info says mode decrypt, engine $eng and the crypto paths"
else
  t_fail "-d: ringpiped_info (want engine $eng)"; grep '^ringpiped_info' "$T_TMP/d.prom" | sed 's/^/    /'
fi
grep -q '^ringpiped_info{[^}]*mode="encrypt"' "$T_TMP/e.prom" && t_pass "-e: ringpiped_info says mode encrypt" ||
  t_fail "-e: ringpiped_info says mode encrypt"

settle "$MEB" "$T_TMP/eb.prom" 1
want "-e (wrong key)" "$T_TMP/eb.prom" 'ringpiped_handshakes_failed_total{reason="peer_closed"}' 1
want "-e (wrong key)" "$T_TMP/eb.prom" ringpiped_handshakes_ok_total 0
settle "$MET" "$T_TMP/et.prom" 1
want "-e (tampered)" "$T_TMP/et.prom" ringpiped_handshakes_ok_total 1
want "-e (tampered)" "$T_TMP/et.prom" 'ringpiped_plaintext_bytes_total{direction="encrypted"}' 1
want "-e (tampered)" "$T_TMP/et.prom" 'ringpiped_packets_total{direction="encrypted"}' 1
c=$(msum "$T_TMP/et.prom" ringpiped_connections_closed_total)
[ "$c" = 1 ] && t_pass "-e (tampered): one connection closed" || t_fail "-e (tampered): $c closed, want 1"
settle "$MEC" "$T_TMP/ec.prom" 1
want "-e (refused target)" "$T_TMP/ec.prom" 'ringpiped_handshakes_failed_total{reason="connect_failed"}' 1
want "-e (refused target)" "$T_TMP/ec.prom" 'ringpiped_connections_closed_total{reason="connect_failed"}' 1

# --- -n 2, -o 1, -g: two clients held open, a third deferred until one
# goes; an -f client; a client that says nothing.
DN=$(t_port)
metrics_daemon MDN -d "$DN" "$(t_addr "$ECHO_PORT")" "$KEY" -n 2 -o 1 -g || exit 1
( sleep 1.5 | timeout 20 "$RINGPIPE" -t "$(t_addr "$DN")" -k "$KEY" >/dev/null ) &
T_PIDS+=("$!")
( sleep 4 | timeout 20 "$RINGPIPE" -t "$(t_addr "$DN")" -k "$KEY" >/dev/null ) &
T_PIDS+=("$!")
for i in $(seq 1 50); do
  [ "$(scrape "$MDN" "$T_TMP/n.prom")" = 200 ] &&
    [ "$(mval "$T_TMP/n.prom" ringpiped_connections_active)" = 2 ] && break
  sleep 0.05
done
( echo third | timeout 20 "$RINGPIPE" -t "$(t_addr "$DN")" -k "$KEY" >"$T_TMP/third.out" ) &
T_PIDS+=("$!")
sleep 0.5
scrape "$MDN" "$T_TMP/n.prom" >/dev/null
want "-d -n 2 (two held, one waiting)" "$T_TMP/n.prom" ringpiped_connections_active 2
want "-d -n 2 (two held, one waiting)" "$T_TMP/n.prom" ringpiped_connections_accepted_total 2
want "-d -n 2 (two held, one waiting)" "$T_TMP/n.prom" ringpiped_connection_limit_hits_total 1
c=$(msum "$T_TMP/n.prom" ringpiped_worker_pairs)
[ "$c" = 2 ] && t_pass "-d -n 2: the workers carry 2 pairs" || t_fail "-d -n 2: the workers carry $c pairs, want 2"
for i in $(seq 1 100); do grep -q third "$T_TMP/third.out" 2>/dev/null && break; sleep 0.05; done
grep -q third "$T_TMP/third.out" && t_pass "-d -n 2: the deferred client is served once one goes" ||
  t_fail "-d -n 2: the deferred client is served once one goes"
scrape "$MDN" "$T_TMP/n.prom" >/dev/null
want "-d -n 2 (the third taken)" "$T_TMP/n.prom" ringpiped_connection_limit_hits_total 2
settle "$MDN" "$T_TMP/n.prom" 3
t_check_fails "ringpipe -f is refused by -d -g" \
  timeout 10 "$RINGPIPE" -f -t "$(t_addr "$DN")" -k "$KEY" </dev/null
python3 -c 'import socket, sys, time; s = socket.create_connection(("127.0.0.1", int(sys.argv[1]))); time.sleep(2.5)' "$DN"
settle "$MDN" "$T_TMP/n.prom" 5
promcheck "-d -n 2 -o 1 -g" "$T_TMP/n.prom"
want "-d -g" "$T_TMP/n.prom" 'ringpiped_handshakes_failed_total{reason="pfs_required"}' 1
want "-d -o 1" "$T_TMP/n.prom" 'ringpiped_handshakes_failed_total{reason="timeout"}' 1
want "-d -o 1" "$T_TMP/n.prom" 'ringpiped_connections_closed_total{reason="timeout"}' 1
want "-d -n 2" "$T_TMP/n.prom" ringpiped_connection_limit_hits_total 2
want "-d -n 2" "$T_TMP/n.prom" 'ringpiped_connections_closed_total{reason="eof"}' 3

# --- Degenerate DH values from a peer that holds the key (y = 0, y = p).
DY=$(t_port); PY=$(t_port)
metrics_daemon MDY -d "$DY" "$(t_addr "$PY")" "$KEY" || exit 1
for y in 0 p; do
  t_check "-d refuses y = $y" python3 "$HOSTILE" --role client --key "$KEY" \
    --daemon "$(t_addr "$DY")" --peer "$PY" --y "$y" --expect refused
done
settle "$MDY" "$T_TMP/y.prom" 2
want "-d (hostile y)" "$T_TMP/y.prom" 'ringpiped_handshakes_failed_total{reason="bad_y"}' 2
want "-d (hostile y)" "$T_TMP/y.prom" 'ringpiped_handshakes_failed_total{reason="bad_mac"}' 0

# --- Still serving after all of it: a pipe and the metrics.
t_check "after everything, a 1 MiB echo still goes through -e -> -d" \
  "$RPLOAD" echo -q -c "$(t_addr "$E")" -b 1M --timeout 20
[ "$(scrape "$MD" "$T_TMP/last.prom")" = 200 ] && promcheck "-d (at the end)" "$T_TMP/last.prom" ||
  t_fail "-d still answers GET /metrics at the end"
t_exit
