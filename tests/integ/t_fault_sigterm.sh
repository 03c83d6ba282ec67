#!/usr/bin/env bash
# SIGTERM during transfers: the listener closes at once (new connects are
# refused), the transfers in flight finish intact, and the daemon exits 0
# after the last one, in both roles.  The exit must be clean: under the
# sanitizer builds (make asan: ASan + LeakSanitizer) nothing may be reported
# at exit, which checks that ringpiped frees its workers and buffers.
. "$(dirname "$0")/lib.sh"
KEY=$T_TMP/key
t_key "$KEY"
t_echo
SINK=""
t_serve SINK "$RPTARGET" --sink -l 127.0.0.1:0 --lifetime 120

# start_daemon NAME MODE SRC TGT: run ringpiped in the background with its
# exit status written to $T_TMP/NAME.rc and stderr to $T_TMP/NAME.err; sets
# PID.
start_daemon() {
  local name=$1 mode=$2 src=$3 tgt=$4
  ( "$RINGPIPED" -F "$mode" -s "$(t_addr "$src")" -t "$tgt" -k "$KEY" -n 0 \
      2>"$T_TMP/$name.err" &
    echo $! >"$T_TMP/$name.pid"
    wait $!
    echo $? >"$T_TMP/$name.rc" ) &
  local i
  for i in $(seq 100); do [ -s "$T_TMP/$name.pid" ] && break; sleep 0.02; done
  PID=$(cat "$T_TMP/$name.pid")
  T_PIDS+=("$PID")
  t_wait_port "$src"
}
# refused PORT: a connect to 127.0.0.1:PORT is refused.
refused() {
  python3 -c 'import socket,sys
s=socket.socket(); s.settimeout(2)
try:
    s.connect(("127.0.0.1", int(sys.argv[1]))); sys.exit(1)
except ConnectionRefusedError:
    sys.exit(0)' "$1"
}
# exits NAME PID SECS: PASS if PID exits with status 0 within SECS and its
# stderr holds no sanitizer report.
exits() {
  local name=$1 i
  for i in $(seq $(($3 * 20))); do
    [ -s "$T_TMP/$name.rc" ] && break; sleep 0.05
  done
  local rc
  rc=$(cat "$T_TMP/$name.rc" 2>/dev/null || echo running)
  if [ "$rc" = 0 ]; then t_pass "$name exits 0 after the last transfer"
  else t_fail "$name exits 0 after the last transfer (status $rc)"; fi
  if grep -q 'Sanitizer' "$T_TMP/$name.err"; then
    t_fail "$name: sanitizer report at exit"
    grep -A12 'Sanitizer' "$T_TMP/$name.err" | head -n 30 | sed 's/^/    /'
  else
    t_pass "$name: clean exit, no sanitizer or leak report (binary: ${RINGPIPED#$ROOT/})"
  fi
}

for role in d e; do
  D=$(t_port); E=$(t_port)
  start_daemon "ring-d-$role" -d "$D" "$SINK"
  DPID=$PID
  start_daemon "ring-e-$role" -e "$E" "$(t_addr "$D")"
  EPID=$PID
  # Paced transfers (10 ms each way, 1 Gbit/s), 4 x 64 MB both ways.
  RELAY=""
  t_serve RELAY "$RPDELAY" -l 127.0.0.1:0 -c "$(t_addr "$E")" --delay 10 \
    --lifetime 60
  rm -f "$T_TMP/xfer.rc"
  ( timeout -k 2 60 "$RPLOAD" stream -q -c "$RELAY" -n 4 -b 64M --both \
      --timeout 30 >"$T_TMP/xfer.out" 2>"$T_TMP/xfer.err"
    echo $? >"$T_TMP/xfer.rc" ) &
  T_PIDS+=("$!")
  sleep 0.5
  if [ "$role" = d ]; then VICTIM=$DPID; VPORT=$D; VNAME=ring-d-$role
  else VICTIM=$EPID; VPORT=$E; VNAME=ring-e-$role; fi
  kill -TERM "$VICTIM"
  sleep 0.2
  if refused "$VPORT"; then t_pass "-$role: new connects refused at once after SIGTERM"
  else t_fail "-$role: new connects refused at once after SIGTERM"; fi
  if [ -s "$T_TMP/xfer.rc" ]; then
    t_fail "-$role: transfers were still in flight at SIGTERM (too fast to test)"
  else
    t_alive "-$role: the daemon stays up while transfers are in flight" "$VICTIM"
  fi
  for i in $(seq 600); do [ -s "$T_TMP/xfer.rc" ] && break; sleep 0.05; done
  if [ "$(cat "$T_TMP/xfer.rc" 2>/dev/null)" = 0 ]; then
    t_pass "-$role: the 4 in-flight transfers (64 MB each way each) finished intact"
  else
    t_fail "-$role: in-flight transfers finished intact"; tail -n 3 "$T_TMP/xfer.err" | sed 's/^/    /'
  fi
  exits "$VNAME" "$VICTIM" 10
  # The other daemon: SIGTERM with nothing in flight exits at once.
  if [ "$role" = d ]; then OTHER=$EPID; ONAME=ring-e-$role
  else OTHER=$DPID; ONAME=ring-d-$role; fi
  kill -TERM "$OTHER"
  exits "$ONAME" "$OTHER" 5
done

# Idle daemon, traffic already finished: SIGTERM exits promptly; and with
# -r (the resolver thread) too.
D=$(t_port)
start_daemon idle -d "$D" "$SINK"
"$RPLOAD" stream -q -c "$(t_addr "$D")" -b 1k --timeout 3 >/dev/null 2>&1
kill -TERM "$PID"
exits idle "$PID" 5
t_exit
