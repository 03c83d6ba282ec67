#!/usr/bin/env bash
# -D (wait for DNS) daemonized, and the pidfile.  The parent is let go at
# the first failed look-up; a start-up error after that (here: the name
# resolves at last, but its port is taken) must still reach the standard
# error the daemon was started with, and the daemon must exit and remove
# its pidfile.  A name that resolves late with a free port is served.  The
# pidfile is never written through a symbolic link (it is written as root),
# and goes on a clean exit.  Names resolve from a private /etc/hosts.
. "$(dirname "$0")/lib.sh"
t_auto_run_only "name resolution at start: the control plane"
t_private_names "$@"
KEY=$T_TMP/key
t_key "$KEY"
t_echo
ECHO=$(t_addr "$ECHO_PORT")

# wait_grep PATTERN FILE: wait (at most 5 s) until FILE has PATTERN.
wait_grep() {
  local i
  for i in $(seq 1 100); do
    grep -q "$1" "$2" 2>/dev/null && return 0
    sleep 0.05
  done
  return 1
}

# --- The name resolves late and its port is taken: the error is seen.
BUSY=$(t_port)
t_bg "$RPTARGET" --echo -l "$(t_addr "$BUSY")"
t_wait_port "$BUSY"
PIDF=$T_TMP/late.pid
start=$(date +%s)
timeout 10 "$RINGPIPED" -D -d -s "late-busy.rp.test:$BUSY" -t "$ECHO" \
  -k "$KEY" -p "$PIDF" 2>"$T_TMP/busy.log"
rc=$?
t_check "-D: the parent exits 0 while the daemon waits for DNS" \
  test "$rc" = 0 -a $(($(date +%s) - start)) -le 5
DPID=$(cat "$PIDF" 2>/dev/null)
[ -n "$DPID" ] && T_PIDS+=("$DPID")
t_check "-D: the daemon waits (pidfile names a live process)" \
  test -n "$DPID" -a -d "/proc/${DPID:-0}"
echo "127.0.0.1 late-busy.rp.test" >>"$T_HOSTS"
t_check "a bind failure after the DNS wait is on the daemon's standard error" \
  wait_grep "Address already in use" "$T_TMP/busy.log"
t_check "the daemon exits after that start-up error" t_wait_gone "${DPID:-0}"
t_check "and removes its pidfile" test ! -e "$PIDF"

# --- The name resolves late and its port is free: served.
P=$(t_port); E=$(t_port)
PIDF=$T_TMP/ok.pid
timeout 10 "$RINGPIPED" -D -d -s "late-ok.rp.test:$P" -t "$ECHO" \
  -k "$KEY" -p "$PIDF" 2>"$T_TMP/ok.log"
DPID=$(cat "$PIDF" 2>/dev/null)
[ -n "$DPID" ] && T_PIDS+=("$DPID")
echo "127.0.0.1 late-ok.rp.test" >>"$T_HOSTS"
t_wait_port "$P"
t_daemon stock -e "$(t_addr "$E")" "$(t_addr "$P")" "$KEY"
t_check "-D: a name that resolves late is served (stock -e, 1 MiB verified)" \
  "$RPLOAD" echo -q -c "$(t_addr "$E")" -b 1M --timeout 20
kill -TERM "${DPID:-0}" 2>/dev/null
t_check "SIGTERM: the daemon exits" t_wait_gone "${DPID:-0}"
# (In the sandbox, which may not remove it, it is emptied instead.)
t_check "a clean exit removes the pidfile (or empties it in the sandbox)" \
  test ! -s "$PIDF"

# --- The pidfile is not written through a symbolic link.
echo "precious" >"$T_TMP/victim"
ln -s "$T_TMP/victim" "$T_TMP/link.pid"
P=$(t_port)
timeout 10 "$RINGPIPED" -d -s "$(t_addr "$P")" -t "$ECHO" -k "$KEY" \
  -p "$T_TMP/link.pid" 2>"$T_TMP/link.log"
rc=$?
t_check "a pidfile that is a symbolic link: start-up fails" test "$rc" != 0
t_check "... saying why" grep -q "Cannot write pidfile" "$T_TMP/link.log"
t_check "... and the link's target is untouched" \
  test "$(cat "$T_TMP/victim")" = precious
t_exit
