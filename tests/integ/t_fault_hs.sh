#!/usr/bin/env bash
# Faults before the data phase, against ringpiped -d (and -e): garbage at the
# -d port, truncated handshakes, a reflecting or truncating server behind
# -e, slowloris (idle half-open handshakes past -n, freed by -o), and a
# connection flood far past -n.  A healthy pair of echo connections runs
# through the same daemons during each fault and must come back intact.
. "$(dirname "$0")/lib.sh"
t_auto_run_only "handshake faults: the control plane"
FC="python3 $ROOT/tests/integ/fault_clients.py"
KEY=$T_TMP/key
t_key "$KEY"
t_echo
D=$(t_port); E=$(t_port)
t_daemon ring -d "$(t_addr "$D")" "$(t_addr "$ECHO_PORT")" "$KEY" -o 1
DPID=$T_LAST
t_daemon ring -e "$(t_addr "$E")" "$(t_addr "$D")" "$KEY"
EPID=$T_LAST

# kv KEY FILE: the value of KEY=value in FILE.
kv() { tr ' ' '\n' <"$2" | sed -n "s/^$1=//p"; }

# --- Garbage and truncated handshakes at the -d port.
t_healthy_start garbage "$(t_addr "$E")" 4
sleep 0.3
$FC garbage "127.0.0.1:$D" 300 --time 8 >"$T_TMP/garbage.out"
if [ "$(kv dropped "$T_TMP/garbage.out")" = 300 ]; then
  t_pass "300 garbage connections (1..4000 random bytes) dropped by -d"
else t_fail "300 garbage connections dropped by -d: $(cat "$T_TMP/garbage.out")"; fi
# The server sends its 32-byte nonce at once and nothing after bad input.
if [ "$(kv maxback "$T_TMP/garbage.out")" -le 32 ]; then
  t_pass "nothing but the nonce goes back to a garbage peer ($(kv maxback "$T_TMP/garbage.out") bytes)"
else t_fail "a garbage peer got $(kv maxback "$T_TMP/garbage.out") bytes back"; fi
t_check "200 nonce-then-close handshakes" $FC nonce "127.0.0.1:$D" 200
t_check "200 nonce + half the DH message, then close" $FC half "127.0.0.1:$D" 200
$FC halfhold "127.0.0.1:$D" 50 --time 6 >"$T_TMP/halfhold.out"
if [ "$(kv dropped "$T_TMP/halfhold.out")" = 50 ] &&
   awk -v s="$(kv secs "$T_TMP/halfhold.out")" 'BEGIN{exit !(s >= 0.8 && s < 3)}'; then
  t_pass "50 stalled half handshakes dropped by -o 1 (last after $(kv secs "$T_TMP/halfhold.out") s)"
else t_fail "stalled half handshakes dropped by -o 1: $(cat "$T_TMP/halfhold.out")"; fi
t_healthy_check garbage
t_alive "ringpiped -d survived garbage and truncated handshakes" "$DPID"

# --- -e against a peer that is not a spiped server.
SRV=""
t_serve SRV $FC server 127.0.0.1:0 0 --time 20 --send 176
E2=$(t_port)
t_daemon ring -e "$(t_addr "$E2")" "$SRV" "$KEY" -o 1
t_check_fails "-e against a server that sends a nonce + half a DH message and closes: the client is dropped" \
  "$RPLOAD" echo -q -c "$(t_addr "$E2")" -b 64k --timeout 5
t_serve SRV2 $FC server 127.0.0.1:0 0 --time 20 --send 400 --rst
E3=$(t_port)
t_daemon ring -e "$(t_addr "$E3")" "$SRV2" "$KEY" -o 1
t_check_fails "-e against a server that sends 400 random bytes and resets: the client is dropped" \
  "$RPLOAD" echo -q -c "$(t_addr "$E3")" -b 64k --timeout 5
E4=$(t_port)
t_daemon ring -e "$(t_addr "$E4")" "$(t_addr "$ECHO_PORT")" "$KEY" -o 1
t_check_fails "-e against an echo server (its own handshake reflected): refused" \
  "$RPLOAD" echo -q -c "$(t_addr "$E4")" -b 64k --timeout 5

# --- Slowloris: -n 8 -o 1, 20 idle + 4 trickling connects.
D2=$(t_port); E5=$(t_port)
t_daemon ring -d "$(t_addr "$D2")" "$(t_addr "$ECHO_PORT")" "$KEY" -n 8 -o 1
D2PID=$T_LAST
t_daemon ring -e "$(t_addr "$E5")" "$(t_addr "$D2")" "$KEY"
t_healthy_start slowloris "$(t_addr "$E5")" 5
sleep 0.5
$FC idle "127.0.0.1:$D2" 20 --time 10 >"$T_TMP/idle.out" &
IDLE=$!
$FC trickle "127.0.0.1:$D2" 4 --time 10 >"$T_TMP/trickle.out" &
TRICKLE=$!
sleep 0.3
t_check "a good connection gets through behind 24 stalled ones (-n 8 -o 1)" \
  "$RPLOAD" echo -q -c "$(t_addr "$E5")" -b 1M --timeout 15
wait $IDLE $TRICKLE
# 6 free slots under -n 8: 20 idle + 4 trickling need 4 rounds of -o 1.
if [ "$(kv dropped "$T_TMP/idle.out")" = 20 ] &&
   awk -v s="$(kv secs "$T_TMP/idle.out")" 'BEGIN{exit !(s >= 1.9)}'; then
  t_pass "20 idle connects all freed by -o 1, a few at a time under -n 8 ($(kv secs "$T_TMP/idle.out") s)"
else t_fail "20 idle connects freed by -o 1: $(cat "$T_TMP/idle.out")"; fi
if [ "$(kv dropped "$T_TMP/trickle.out")" = 4 ]; then
  t_pass "4 trickling handshakes (1 byte / 0.2 s) freed by -o 1 ($(kv secs "$T_TMP/trickle.out") s)"
else t_fail "trickling handshakes freed by -o 1: $(cat "$T_TMP/trickle.out")"; fi
t_check "after the slowloris, 6 good connections at once (8 minus the healthy pair)" \
  "$RPLOAD" echo -q -c "$(t_addr "$E5")" -n 6 -b 1M --timeout 15
t_healthy_check slowloris

# --- Flood far past -n: 500 rapid connects at -d and at -e (-n 16).
D3=$(t_port); E6=$(t_port)
t_daemon ring -d "$(t_addr "$D3")" "$(t_addr "$ECHO_PORT")" "$KEY" -n 16 -o 1
D3PID=$T_LAST
t_daemon ring -e "$(t_addr "$E6")" "$(t_addr "$D3")" "$KEY" -n 16 -o 1
E6PID=$T_LAST
t_healthy_start flood "$(t_addr "$E6")" 5
sleep 0.5
t_check "500 rapid connects at -d (-n 16), reset after 0.5 s" \
  $FC flood "127.0.0.1:$D3" 500 --hold 0.5
t_check "500 rapid connects at -e (-n 16), reset after 0.5 s" \
  $FC flood "127.0.0.1:$E6" 500 --hold 0.5
t_check "500 rapid connects at -e, held 2 s (handshakes queue behind -n)" \
  $FC flood "127.0.0.1:$E6" 500 --hold 2
t_check "after the floods, good connections work (4 x 2 MB)" \
  "$RPLOAD" echo -q -c "$(t_addr "$E6")" -n 4 -b 2M --timeout 20
t_healthy_check flood
t_alive "-d survived the floods" "$D3PID"
t_alive "-e survived the floods" "$E6PID"
t_alive "the first -d is still up" "$DPID"
t_alive "the first -e is still up" "$EPID"
t_alive "the slowloris -d is still up" "$D2PID"
t_exit
