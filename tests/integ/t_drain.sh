#!/usr/bin/env bash
# --drain-timeout: SIGTERM waits at most that long for live connections,
# then closes them and exits 0.  Without it the wait is unbounded, as in
# stock spiped.  An idle connection is held open through -e -> -d -> echo.
. "$(dirname "$0")/lib.sh"
KEY=$T_TMP/key
t_key "$KEY"
t_echo

# hold PORT SECS READY: a client that echoes one line, creates the file
# READY, then idles SECS seconds with the connection open; prints "closed"
# if the pipe closed it first.
cat >"$T_TMP/hold.py" <<'PY'
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"ping 12345\n"); s.settimeout(5)
assert s.recv(64) == b"ping 12345\n"
open(sys.argv[3], "w").close()
s.settimeout(float(sys.argv[2]))
try:
    print("closed" if s.recv(64) == b"" else "data")
except socket.timeout:
    print("open")
PY

# case NAME FLAGS...: -d with FLAGS; SIGTERM it while a client holds a
# connection; print the seconds until it exited (or "alive"), and its rc.
# It runs in a subshell, whose daemons t_cleanup does not know: it kills
# them itself.
case_() {
  local d e pid epid t0 i
  d=$(t_port); e=$(t_port)
  t_daemon ring -d "$(t_addr "$d")" "$(t_addr "$ECHO_PORT")" "$KEY" "$@" || return 1
  pid=$T_LAST
  t_daemon ring -e "$(t_addr "$e")" "$(t_addr "$d")" "$KEY" || return 1
  epid=$T_LAST
  rm -f "$T_TMP/hold.ready"
  python3 "$T_TMP/hold.py" "$e" 4 "$T_TMP/hold.ready" >"$T_TMP/hold.out" &
  # SIGTERM only once the connection is through (a busy machine can take
  # longer than a fixed sleep to start the client).
  for i in $(seq 100); do [ -e "$T_TMP/hold.ready" ] && break; sleep 0.05; done
  t0=$(date +%s.%N)
  kill -TERM "$pid"
  # Watched for 3 s by the clock, not by a count of sleeps: on a loaded
  # machine 60 rounds of 0.05 s took over 4 s, past the client's hold.
  until [ "$(awk -v s="$t0" -v e="$(date +%s.%N)" 'BEGIN{print (e-s >= 3)}')" = 1 ]; do
    kill -0 "$pid" 2>/dev/null || break; sleep 0.05
  done
  if kill -0 "$pid" 2>/dev/null; then echo alive; else
    wait "$pid" 2>/dev/null; echo "$(awk -v s="$t0" -v e="$(date +%s.%N)" 'BEGIN{printf "%.2f", e-s}') $?"
  fi
  kill -9 "$pid" "$epid" 2>/dev/null
  wait 2>/dev/null
}

read -r secs rc < <(case_ --drain-timeout 1)
if [ "$secs" != alive ] && awk -v s="$secs" 'BEGIN{exit !(s >= 0.9 && s < 2.0)}'; then
  t_pass "--drain-timeout 1: SIGTERM closed the live connection and exited after $secs s (rc $rc)"
else
  t_fail "--drain-timeout 1: exits about 1 s after SIGTERM (got: $secs, rc $rc)"
fi
t_check "--drain-timeout 1: the client saw its connection closed" grep -qx closed "$T_TMP/hold.out"
read -r secs rc < <(case_)
t_check "no --drain-timeout: after 3 s of drain the daemon still waits for the connection (as stock)" \
  test "$secs" = alive
t_check_fails "--drain-timeout takes seconds, not words" \
  "$RINGPIPED" -F -d -s "[127.0.0.1]:$(t_port)" -t "[127.0.0.1]:1" -k "$KEY" --drain-timeout soon
t_exit
