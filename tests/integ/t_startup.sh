#!/usr/bin/env bash
# Start-up errors reach the person who started the daemon (issue 10, item
# 3): without -F the parent stays until the daemon has finished start-up
# (workers, buffers, the -u drop, the control thread), then exits 0; if
# start-up fails it prints the daemon's message and exits non-zero.  With
# -D the parent goes once the daemon waits for DNS.  As PID 1 (a
# container's init, here a new PID namespace: unshare -pf) ringpiped exits
# on SIGINT as stock spiped does; SIGTERM still drains.  Names come from a
# private /etc/hosts (unshare -m) for the -D case.
. "$(dirname "$0")/lib.sh"
t_auto_run_only "start-up errors: the process"
t_private_names "$@"
KEY=$T_TMP/key
t_key "$KEY"
t_echo

# gone PID: wait (at most 5 s) for PID to exit.
gone() {
  local i
  for i in $(seq 1 100); do [ -d "/proc/$1" ] || return 0; sleep 0.05; done
  return 1
}

# daemon_run NAME ARGS...: run ringpiped ARGS (no -F) bounded to 10 s;
# sets RC, and ERR to what it printed.
daemon_run() {
  timeout -k 1 10 "$RINGPIPED" "$@" >"$T_TMP/out" 2>"$T_TMP/err"
  RC=$?
  ERR=$(tr '\n' ' ' <"$T_TMP/err")
}

# --- Failures after the fork are reported by the parent.
for u in no-such-user-rp :no-such-group-rp; do
  D=$(t_port)
  daemon_run -d -s "$(t_addr "$D")" -t "$(t_addr "$ECHO_PORT")" -k "$KEY" \
    -p "$T_TMP/u.pid" -u "$u"
  t_check "-u $u without -F: exit 1 with the daemon's message ($ERR)" \
    sh -c "[ $RC = 1 ] && grep -q 'No such' '$T_TMP/err'"
  t_check "-u $u: the daemon did not stay" \
    sh -c "! (exec 3<>/dev/tcp/127.0.0.1/$D) 2>/dev/null"
done

# --- A good start: exit 0 once the daemon is ready, which serves at once.
D=$(t_port); E=$(t_port)
daemon_run -d -s "$(t_addr "$D")" -t "$(t_addr "$ECHO_PORT")" -k "$KEY" \
  -p "$T_TMP/d.pid"
DPID=$(cat "$T_TMP/d.pid" 2>/dev/null)
[ -n "$DPID" ] && T_PIDS+=("$DPID")
t_check "a good start without -F: exit 0, pidfile names a live daemon" \
  test "$RC" = 0 -a -n "$DPID" -a -d "/proc/${DPID:-0}"
daemon_run -e -s "$(t_addr "$E")" -t "$(t_addr "$D")" -k "$KEY" \
  -p "$T_TMP/e.pid"
EPID=$(cat "$T_TMP/e.pid" 2>/dev/null)
[ -n "$EPID" ] && T_PIDS+=("$EPID")
t_check "the pair serves as soon as both parents have exited" \
  "$RPLOAD" echo -q -c "$(t_addr "$E")" -b 1M --timeout 10
if [ -n "$DPID" ]; then
  t_check "the daemon holds no descriptor of the parent's stderr" \
    sh -c "[ \"\$(readlink /proc/$DPID/fd/2)\" = /dev/null ]"
fi
kill -TERM "$EPID" "$DPID" 2>/dev/null
gone "$EPID"; gone "$DPID"

# --- -D: the parent goes once the daemon waits for DNS; the daemon serves
# once the name resolves.
D=$(t_port)
t_hosts "127.0.0.1 localhost"
start=$(date +%s%N)
daemon_run -D -d -s "rp-later.test:$D" -t "$(t_addr "$ECHO_PORT")" \
  -k "$KEY" -p "$T_TMP/dd.pid"
ms=$(( ($(date +%s%N) - start) / 1000000 ))
DDPID=$(cat "$T_TMP/dd.pid" 2>/dev/null)
[ -n "$DDPID" ] && T_PIDS+=("$DDPID")
t_check "-D with a name not yet known: exit 0 at once ($ms ms), the daemon waits" \
  test "$RC" = 0 -a "$ms" -lt 3000 -a -d "/proc/${DDPID:-0}"
t_hosts "127.0.0.1 localhost" "127.0.0.1 rp-later.test"
t_check "-D: the daemon listens once the name resolves" t_wait_listen "$D"
E=$(t_port)
t_daemon stock -e "$(t_addr "$E")" "$(t_addr "$D")" "$KEY"
t_check "-D: and serves" \
  "$RPLOAD" echo -q -c "$(t_addr "$E")" -b 1M --timeout 10
kill -TERM "$DDPID" 2>/dev/null
gone "$DDPID"

# --- PID 1: SIGINT exits at once (from outside the namespace: only a
# signal PID 1 handles gets there), SIGTERM drains and exits.
for sig in INT TERM; do
  D=$(t_port)
  # (Not t_bg: its exit status is wanted, so it stays a job of ours.)
  unshare -pf --mount-proc "$RINGPIPED" -F -d -s "$(t_addr "$D")" \
    -t "$(t_addr "$ECHO_PORT")" -k "$KEY" &
  UPID=$!
  T_PIDS+=("$UPID")
  t_wait_listen "$D"
  INIT=$(pgrep -P "$UPID" | head -n 1)
  nspid=$(awk '/^NSpid:/{print $NF}' "/proc/${INIT:-0}/status" 2>/dev/null)
  t_check "ringpiped runs as PID 1 of its namespace (NSpid $nspid)" \
    test "$nspid" = 1
  kill "-$sig" "$INIT" 2>/dev/null
  t_check "as PID 1, SIG$sig ends ringpiped" gone "$INIT"
  # (If it did not, SIGKILL ends it, so that the wait is bounded.)
  kill -KILL "$INIT" 2>/dev/null
  wait "$UPID" 2>/dev/null
  rc=$?
  t_check "as PID 1, SIG$sig: exit status 0 ($rc)" test "$rc" = 0
done
t_exit
