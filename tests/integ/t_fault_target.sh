#!/usr/bin/env bash
# The far ends misbehave: the target is absent (closed TCP port, missing
# UNIX path), refuses (accepts and closes at once), then comes up; the -d
# is absent behind an -e, then comes up; the target or the client resets in
# the middle of transfers.  Connections fail cleanly (an error, never a
# hang), the daemons keep no descriptors of them, and serve once the far end
# is back.  A healthy pair runs through the same -e meanwhile.
. "$(dirname "$0")/lib.sh"
FC="python3 $ROOT/tests/integ/fault_clients.py"
KEY=$T_TMP/key
t_key "$KEY"
t_echo

# fails_clean NAME ADDR: 10 connections fail, each within the bound.
fails_clean() {
  local name=$1 addr=$2 t0 t1
  t0=$(date +%s.%N)
  timeout -k 2 30 "$RPLOAD" echo -q -c "$addr" -n 10 -b 64k --timeout 8 \
    >"$T_TMP/fc.out" 2>"$T_TMP/fc.err"
  local rc=$?
  t1=$(date +%s.%N)
  if [ $rc -eq 1 ] && grep -q '"err_timeout":0' "$T_TMP/fc.out" &&
     grep -q '"err_mismatch":0' "$T_TMP/fc.out"; then
    t_pass "$name: 10 connections fail cleanly ($(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.2f", b-a}') s)"
  else
    t_fail "$name (rc $rc)"; tail -n 3 "$T_TMP/fc.err" | sed 's/^/    /'
  fi
}
# fds_settle NAME PID BASE: PASS once PID has at most BASE descriptors
# (waits up to 3 s for closes to land).
fds_settle() {
  local i n
  for i in $(seq 60); do
    n=$(t_nfds "$2"); [ "$n" -le "$3" ] && break; sleep 0.05
  done
  if [ "$n" -le "$3" ]; then t_pass "$1: no descriptors left over ($n <= $3)"
  else t_fail "$1: $n descriptors open, $3 at start"; ls -l "/proc/$2/fd" | tail -n 5; fi
}

# --- Target absent (TCP), then up.
TP=$(t_port); D=$(t_port); E=$(t_port)
t_daemon ring -d "$(t_addr "$D")" "$(t_addr "$TP")" "$KEY" -o 2
DPID=$T_LAST
t_daemon ring -e "$(t_addr "$E")" "$(t_addr "$D")" "$KEY" -o 2
EPID=$T_LAST
sleep 0.2
DBASE=$(t_nfds_settled "$DPID"); EBASE=$(t_nfds_settled "$EPID")
fails_clean "-d's TCP target absent" "$(t_addr "$E")"
fails_clean "-d's TCP target absent (again)" "$(t_addr "$E")"
fds_settle "-d after its target was absent" "$DPID" "$DBASE"
fds_settle "-e after the far target was absent" "$EPID" "$EBASE"
t_bg "$RPTARGET" --echo -l "$(t_addr "$TP")" --lifetime 120
t_wait_port "$TP"
t_check "the TCP target comes up: 4 x 4 MB intact" \
  "$RPLOAD" echo -q -c "$(t_addr "$E")" -n 4 -b 4M --timeout 20

# --- A target that accepts and closes at once (refuses), then a real one.
REF=""
t_serve REF $FC server 127.0.0.1:0 0 --time 60 --send 0
D2=$(t_port); E2=$(t_port)
t_daemon ring -d "$(t_addr "$D2")" "$REF" "$KEY"
t_daemon ring -e "$(t_addr "$E2")" "$(t_addr "$D2")" "$KEY"
fails_clean "a target that accepts and closes at once" "$(t_addr "$E2")"

# --- UNIX target path that does not exist, then created.
USOCK=$T_TMP/target.sock
D3=$(t_port); E3=$(t_port)
t_daemon ring -d "$(t_addr "$D3")" "$USOCK" "$KEY"
D3PID=$T_LAST
t_daemon ring -e "$(t_addr "$E3")" "$(t_addr "$D3")" "$KEY"
sleep 0.2
D3BASE=$(t_nfds_settled "$D3PID")
fails_clean "UNIX target path missing" "$(t_addr "$E3")"
fds_settle "-d after its UNIX target was missing" "$D3PID" "$D3BASE"
t_bg "$RPTARGET" --auto -l "$USOCK" --lifetime 120
t_wait_port "$USOCK"
t_check "the UNIX target appears: 2 x 4 MB both ways intact" \
  "$RPLOAD" stream -q -c "$(t_addr "$E3")" -n 2 -b 4M --both --timeout 20

# --- The -d behind an -e absent, then up (ringpiped and stock -d).
D4=$(t_port); E4=$(t_port)
t_daemon ring -e "$(t_addr "$E4")" "$(t_addr "$D4")" "$KEY"
E4PID=$T_LAST
sleep 0.2
E4BASE=$(t_nfds_settled "$E4PID")
fails_clean "-e whose -d is absent" "$(t_addr "$E4")"
fds_settle "-e after its -d was absent" "$E4PID" "$E4BASE"
t_daemon stock -d "$(t_addr "$D4")" "$(t_addr "$ECHO_PORT")" "$KEY"
t_check "a stock -d comes up behind it: 4 MB intact" \
  "$RPLOAD" echo -q -c "$(t_addr "$E4")" -b 4M --timeout 20

# --- Resets in the middle of transfers, from either side.
RST=""
t_serve RST "$RPTARGET" --echo -l 127.0.0.1:0 --reset-after 200000 --lifetime 120
D5=$(t_port); E5=$(t_port); E6=$(t_port)
t_daemon ring -d "$(t_addr "$D5")" "$RST" "$KEY"
D5PID=$T_LAST
t_daemon ring -e "$(t_addr "$E5")" "$(t_addr "$D5")" "$KEY"
E5PID=$T_LAST
t_daemon ring -e "$(t_addr "$E6")" "$(t_addr "$D")" "$KEY"
E6PID=$T_LAST
sleep 0.2
D5BASE=$(t_nfds_settled "$D5PID"); E5BASE=$(t_nfds_settled "$E5PID"); E6BASE=$(t_nfds_settled "$E6PID")
DBASE=$(t_nfds_settled "$DPID")
t_healthy_start resets "$(t_addr "$E6")" 4
sleep 0.3
timeout -k 2 30 "$RPLOAD" echo -q -c "$(t_addr "$E5")" -n 8 -b 2M --timeout 8 \
  >"$T_TMP/rst.out" 2>"$T_TMP/rst.err"
if grep -q '"err_reset":8\|"err_short":8' "$T_TMP/rst.out" ||
   { grep -q '"err_timeout":0' "$T_TMP/rst.out" && grep -q '"errors":8' "$T_TMP/rst.out" &&
     grep -q '"err_mismatch":0' "$T_TMP/rst.out"; }; then
  t_pass "the target resets 8 connections after 200 kB: each is cut, not hung"
else t_fail "target resets mid-stream"; cat "$T_TMP/rst.out"; fi
t_check "clients reset 20 connections mid-transfer (SO_LINGER 0)" \
  $FC rstmid "127.0.0.1:$E6" 20
t_check "clients reset 20 more through the first -e/-d pair" \
  $FC rstmid "127.0.0.1:$E" 20
t_healthy_check resets
fds_settle "-d whose target resets" "$D5PID" "$D5BASE"
fds_settle "-e whose target resets" "$E5PID" "$E5BASE"
fds_settle "-e whose clients reset" "$E6PID" "$E6BASE"
fds_settle "-d behind resetting clients" "$DPID" "$DBASE"
t_check "after the resets: 4 x 4 MB intact through the same daemons" \
  "$RPLOAD" echo -q -c "$(t_addr "$E6")" -n 4 -b 4M --timeout 20
for p in "$DPID" "$EPID" "$D3PID" "$E4PID" "$D5PID" "$E5PID" "$E6PID"; do
  kill -0 "$p" 2>/dev/null || t_fail "daemon $p died"
done
t_exit
