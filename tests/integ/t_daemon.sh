#!/usr/bin/env bash
# Daemon plumbing as in stock spiped: daemonizing with a pidfile (default
# <source>.pid and -p), -u dropping privileges after binding, -k - reading
# the key from standard input, -v, and make install.
. "$(dirname "$0")/lib.sh"
t_auto_run_only "daemonizing, pidfile, -u: the process"
KEY=$T_TMP/key
t_key "$KEY"
t_echo

# Wait (at most 5 s) for a pidfile to appear; print the pid.
pidof_file() {
  local i
  for i in $(seq 1 100); do
    [ -s "$1" ] && { cat "$1"; return 0; }
    sleep 0.05
  done
  return 1
}

D=$(t_port); E=$(t_port)
( cd "$T_TMP" && "$RINGPIPED" -d -s "$(t_addr "$D")" -t "$(t_addr "$ECHO_PORT")" -k "$KEY" )
rc=$?
DPID=$(pidof_file "$T_TMP/[127.0.0.1]:$D.pid") && T_PIDS+=("$DPID")
t_check "daemonizes: parent exits 0, default pidfile <source>.pid names a live daemon" \
  test "$rc" = 0 -a -n "$DPID" -a -d "/proc/${DPID:-0}"
"$RINGPIPED" -e -s "$(t_addr "$E")" -t "$(t_addr "$D")" -k "$KEY" -p "$T_TMP/e.pid"
EPID=$(pidof_file "$T_TMP/e.pid") && T_PIDS+=("$EPID")
t_check "-p names the pidfile" test -n "$EPID" -a -d "/proc/${EPID:-0}"
t_wait_port "$E"
t_check "daemonized pair carries data" \
  "$RPLOAD" echo -q -c "$(t_addr "$E")" -b 4M --timeout 20
kill -TERM "$EPID" "$DPID" 2>/dev/null
t_check "SIGTERM with no connections: both daemons exit" t_wait_gone "$EPID"
t_wait_gone "$DPID"

if id nobody >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
  D2=$(t_port); E2=$(t_port)
  t_daemon ring -d "$(t_addr "$D2")" "$(t_addr "$ECHO_PORT")" "$KEY" -u nobody
  DP=$T_LAST
  t_daemon ring -e "$(t_addr "$E2")" "$(t_addr "$D2")" "$KEY" -u nobody:nogroup
  t_check "-u nobody: runs as nobody" test "$(stat -c %U /proc/$DP)" = nobody
  t_check "-u: the unprivileged pair carries data" \
    "$RPLOAD" echo -q -c "$(t_addr "$E2")" -b 4M --timeout 20
  t_check_fails "-u with an unknown user fails" \
    timeout 5 "$RINGPIPED" -F -d -s "$(t_addr "$(t_port)")" \
    -t "$(t_addr "$ECHO_PORT")" -k "$KEY" -u no-such-user-rp
fi

D3=$(t_port); E3=$(t_port)
# (Background commands get /dev/null as input unless redirected inside.)
t_bg sh -c "exec '$RINGPIPED' -F -d -s '$(t_addr "$D3")' \
  -t '$(t_addr "$ECHO_PORT")' -k - < '$KEY'"
t_wait_port "$D3"
t_daemon stock -e "$(t_addr "$E3")" "$(t_addr "$D3")" "$KEY"
t_check "-k - reads the key from standard input" \
  "$RPLOAD" echo -q -c "$(t_addr "$E3")" -b 1M --timeout 20

t_check "ringpiped -v prints a version and exits 0" \
  sh -c "'$RINGPIPED' -v 2>&1 | grep -q '^ringpiped '"
t_check "ringpipe -v prints a version and exits 0" \
  sh -c "'$RINGPIPE' -v 2>&1 | grep -q '^ringpipe '"

if [ -z "${CI_SKIP_INSTALL:-}" ]; then
  t_check "make install PREFIX DESTDIR installs both programs" \
    sh -c "make -s install BUILD='$BUILD' PREFIX=/usr/local DESTDIR='$T_TMP/root' >/dev/null && \
      test -x '$T_TMP/root/usr/local/bin/ringpiped' -a -x '$T_TMP/root/usr/local/bin/ringpipe'"
fi
t_exit
