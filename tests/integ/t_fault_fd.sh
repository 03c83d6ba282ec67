#!/usr/bin/env bash
# Descriptor exhaustion: ringpiped under RLIMIT_NOFILE 32 gets more
# connections than fit.  It must not crash, not spin (its CPU time over 2 s
# of saturation stays low), keep the healthy pair it already carries, and
# serve again once descriptors free up.  Stock spiped's behaviour in the
# same spot is measured and documented.
. "$(dirname "$0")/lib.sh"
t_auto_run_only "descriptor exhaustion hits accept and dial: the control plane"
FC="python3 $ROOT/tests/integ/fault_clients.py"
KEY=$T_TMP/key
t_key "$KEY"
t_echo
HZ=$(getconf CLK_TCK)

# saturate NAME PID PORT N: hold N connects at PORT for 4 s; measure PID's
# CPU over 2 s in the middle; PASS if it used under 0.3 s of CPU.
saturate() {
  local name=$1 pid=$2 port=$3 n=$4 c0 c1
  $FC idle "127.0.0.1:$port" "$n" --time 4 >"$T_TMP/sat.out" &
  local fc=$!
  sleep 1
  c0=$(t_cpu_ticks "$pid")
  sleep 2
  c1=$(t_cpu_ticks "$pid")
  SAT_FDS=$(t_nfds "$pid")
  wait $fc
  SAT_CPU=$(awk -v a="$c0" -v b="$c1" -v hz="$HZ" 'BEGIN{printf "%.2f", (b-a)/hz}')
  if awk -v c="$SAT_CPU" 'BEGIN{exit !(c < 0.3)}'; then
    t_pass "$name: no busy spin while out of descriptors (${SAT_CPU} s CPU in 2 s, $SAT_FDS fds open)"
  else
    t_fail "$name: busy spin while out of descriptors (${SAT_CPU} s CPU in 2 s)"
  fi
}

# --- ringpiped -d limited to 32 descriptors, behind a normal -e.
D=$(t_port); E=$(t_port)
t_bg prlimit --nofile=32:32 -- "$RINGPIPED" -F -d -s "$(t_addr "$D")" \
  -t "$(t_addr "$ECHO_PORT")" -k "$KEY" -n 0 -o 2 2>"$T_TMP/d.err"
DPID=$T_LAST
t_wait_port "$D"
t_daemon ring -e "$(t_addr "$E")" "$(t_addr "$D")" "$KEY" -o 2
EPID=$T_LAST
# A slow request/response pair: its own CPU stays out of the measurement.
t_healthy_start fd "$(t_addr "$E")" 7 rr
sleep 0.5
saturate "-d at RLIMIT_NOFILE 32, 60 connections through -e" "$DPID" "$E" 60
t_alive "-d is still running after exhaustion" "$DPID"
t_healthy_check fd
t_check "-d serves again once descriptors are free: 4 x 2 MB intact" \
  "$RPLOAD" echo -q -c "$(t_addr "$E")" -n 4 -b 2M --timeout 20
if [ -s "$T_TMP/d.err" ]; then
  t_pass "-d said why: $(sort -u "$T_TMP/d.err" | head -2 | tr '\n' ' ')"
fi

# --- ringpiped -e limited: accept itself hits EMFILE.
E2=$(t_port)
t_bg prlimit --nofile=32:32 -- "$RINGPIPED" -F -e -s "$(t_addr "$E2")" \
  -t "$(t_addr "$D")" -k "$KEY" -n 0 -o 2 2>"$T_TMP/e.err"
E2PID=$T_LAST
t_wait_port "$E2"
saturate "-e at RLIMIT_NOFILE 32, 80 raw connects" "$E2PID" "$E2" 80
t_alive "-e is still running after exhaustion" "$E2PID"
# The -e now works through the connections left in its backlog (each one
# costs the -d, which is also at 32, descriptors): wait until both are idle.
# (Idle for 0.5 s in a row: a moment between two backlog rounds is not.)
idle=0
for i in $(seq 150); do
  if [ "$(t_nfds "$E2PID")" -le 12 ] && [ "$(t_nfds "$DPID")" -le 12 ]; then
    idle=$((idle + 1)); [ "$idle" -ge 5 ] && break
  else
    idle=0
  fi
  sleep 0.1
done
t_check "-e serves again once descriptors are free: 4 x 2 MB intact" \
  "$RPLOAD" echo -q -c "$(t_addr "$E2")" -n 4 -b 2M --timeout 20

# --- Stock spiped in the same spot (documented, not judged).
SD=$(t_port)
t_bg prlimit --nofile=32:32 -- "$SPIPED" -F -d -s "$(t_addr "$SD")" \
  -t "$(t_addr "$ECHO_PORT")" -k "$KEY" -n 0 -o 2 2>"$T_TMP/s.err"
SPID=$T_LAST
if t_wait_port "$SD"; then
  sleep 0.3
  $FC idle "127.0.0.1:$SD" 80 --time 4 >/dev/null &
  sleep 1
  c0=$(t_cpu_ticks "$SPID"); sleep 2; c1=$(t_cpu_ticks "$SPID")
  wait
  alive=dead; kill -0 "$SPID" 2>/dev/null && alive=running
  t_pass "documented: stock spiped -d at RLIMIT_NOFILE 32 with 80 connects used $(awk -v a="$c0" -v b="$c1" -v hz="$HZ" 'BEGIN{printf "%.2f", (b-a)/hz}') s CPU in 2 s, is $alive ($(sort -u "$T_TMP/s.err" | head -1))"
fi
t_exit
