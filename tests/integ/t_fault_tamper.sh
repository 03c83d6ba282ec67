#!/usr/bin/env bash
# Tampering between -e and -d (rp-tamper): a flipped bit in the handshake or
# in a data packet, and dropped, replayed or reordered whole packets, in
# either direction.  Each damaged connection must be dropped (not hang) and
# no damaged byte may reach either end: rp-load verifies what comes back,
# rp-target --sink verifies what reaches the target.  A healthy pair runs
# through the same -d meanwhile.  Stock spiped takes either role too.
. "$(dirname "$0")/lib.sh"
KEY=$T_TMP/key
t_key "$KEY"
t_echo
SINK=""
t_serve SINK "$RPTARGET" --sink -v -l 127.0.0.1:0 --lifetime 120 \
  2>"$T_TMP/sink.log"
SINKPID=$T_LAST
D=$(t_port); DS=$(t_port); E0=$(t_port)
t_daemon ring -d "$(t_addr "$D")" "$(t_addr "$ECHO_PORT")" "$KEY"
DPID=$T_LAST
t_daemon ring -d "$(t_addr "$DS")" "$SINK" "$KEY"
DSPID=$T_LAST
t_daemon ring -e "$(t_addr "$E0")" "$(t_addr "$D")" "$KEY"

# via KIND DADDR OPS...: start an -e (ringpiped or stock) whose target is
# an rp-tamper relay with OPS in front of DADDR; set e to the -e port.
via() {
  local kind=$1 daddr=$2 relay; shift 2
  t_serve relay "$RPTAMPER" -l 127.0.0.1:0 -c "$daddr" --lifetime 120 "$@" ||
    return 1
  e=$(t_port)
  t_daemon "$kind" -e "$(t_addr "$e")" "$relay" "$KEY"
}

# dropped NAME RPLOAD-ARGS...: PASS if rp-load fails because the connection
# was cut (reset or short), never with a mismatch or a timeout (a hang).
dropped() {
  local name=$1; shift
  timeout -k 2 30 "$RPLOAD" "$@" --timeout 10 >"$T_TMP/dl.out" \
    2>"$T_TMP/dl.err"
  local rc=$?
  if [ $rc -ne 0 ] && grep -q '"err_mismatch":0' "$T_TMP/dl.out" &&
     grep -q '"err_timeout":0' "$T_TMP/dl.out" &&
     ! grep -q mismatch "$T_TMP/dl.err"; then
    t_pass "$name: dropped, nothing damaged delivered ($(
      grep -o 'FAILED: .*' "$T_TMP/dl.err" | head -1))"
  else
    t_fail "$name (rc $rc)"; tail -n 4 "$T_TMP/dl.err" | sed 's/^/    /'
    cat "$T_TMP/dl.out" | sed 's/^/    /'
  fi
}

t_healthy_start tamper "$(t_addr "$E0")" 6
sleep 0.3

# Echo path: the reply direction is checked by rp-load byte for byte.
for op in "flip up:100" "flip up:319" "flip up:5000" "flip down:100" \
    "flip down:5000" "drop up:3" "replay up:3" "reorder up:3" \
    "drop down:3" "replay down:3" "reorder down:3" "replay up:0" \
    "flip up:1379"; do
  set -- $op
  via ring "$(t_addr "$D")" --$1 "$2"
  dropped "echo, ring -e -> tamper --$1 $2 -> ring -d" \
    echo -q -c "$(t_addr "$e")" -b 2M
done

# Sink path: the target verifies what reaches it.
for op in "flip up:5000" "drop up:3" "replay up:3" "reorder up:3" \
    "flip up:2000000"; do
  set -- $op
  via ring "$(t_addr "$DS")" --$1 "$2"
  dropped "stream to a verifying sink, tamper --$1 $2" \
    stream -q -c "$(t_addr "$e")" -b 4M
done

# Stock spiped on either side of the tamperer.
via stock "$(t_addr "$D")" --flip up:9000
dropped "echo, stock -e -> tamper --flip up:9000 -> ring -d" \
  echo -q -c "$(t_addr "$e")" -b 2M
via stock "$(t_addr "$D")" --reorder down:5
dropped "echo, stock -e -> tamper --reorder down:5 -> ring -d" \
  echo -q -c "$(t_addr "$e")" -b 2M
DST=$(t_port)
t_daemon stock -d "$(t_addr "$DST")" "$(t_addr "$ECHO_PORT")" "$KEY"
via ring "$(t_addr "$DST")" --flip down:6000
dropped "echo, ring -e -> tamper --flip down:6000 -> stock -d" \
  echo -q -c "$(t_addr "$e")" -b 2M
via ring "$(t_addr "$DST")" --replay down:2
dropped "echo, ring -e -> tamper --replay down:2 -> stock -d" \
  echo -q -c "$(t_addr "$e")" -b 2M

via ring "$(t_addr "$DS")"
t_check "the sink path still carries 8 MB intact through an idle rp-tamper" \
  "$RPLOAD" stream -q -c "$(t_addr "$e")" -b 8M --timeout 20

t_healthy_check tamper
t_alive "ringpiped -d (echo) still up" "$DPID"
t_alive "ringpiped -d (sink) still up" "$DSPID"
kill -TERM "$SINKPID" 2>/dev/null
for i in $(seq 50); do grep -q 'bad-streams' "$T_TMP/sink.log" && break; sleep 0.1; done
if grep -q 'bad-streams 0 ' "$T_TMP/sink.log" && ! grep -q mismatch "$T_TMP/sink.log"; then
  t_pass "the sink never received a damaged byte ($(grep -o 'accepted.*' "$T_TMP/sink.log"))"
else
  t_fail "the sink never received a damaged byte"; tail -n 5 "$T_TMP/sink.log" | sed 's/^/    /'
fi
t_exit
