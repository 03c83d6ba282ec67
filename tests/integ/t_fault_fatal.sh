#!/usr/bin/env bash
# Fatal errors end the process cleanly (issue 18 item 4).  A ringpiped -d
# carries an open connection, verified end to end (a client through stock
# spiped -e to an echo); then tests/helpers/rp-fault.so (LD_PRELOAD) makes
# one call fail once with EBADF in one thread:
#   ctl:    the control thread's epoll_wait (picked by its name, rp-ctl,
#           and its 64 events);
#   worker: the worker engine's wait (epoll_wait with 256 events under the
#           epoll engine, io_uring_submit_and_wait[_timeout] under io_uring;
#           an idle worker makes no call until woken, so a second
#           connection wakes one: the other worker's pair is the one held);
#   hs:     a handshake thread's write to the control thread's eventfd (a
#           second connection makes it compute).
# Each time the daemon must exit within 5 s with a non-zero status, say
# what failed on stderr (no sanitizer report either, and no word of the
# watchdog: the orderly end must come first), and the client's connection
# must be closed (EOF or reset), not left open.
. "$(dirname "$0")/lib.sh"
RPFAULT="$ROOT/$BUILD/tests/rp-fault.so"
if [ ! -f "$RPFAULT" ]; then
  echo "FAIL: $RPFAULT is not built (make BUILD=$BUILD test-build)"
  exit 1
fi
# The shim is preloaded ahead of a sanitizer build's runtime; ASan's
# interceptors then call into the shim, which calls libc.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0"
KEY=$T_TMP/key
t_key "$KEY"
t_echo

# The client: connect to 127.0.0.1:PORT, see one line echoed, write "ok" to
# READY, then wait (at most SECS) for the connection to end; write
# "closed", "open" (still open after SECS) or "data" to RESULT.
cat >"$T_TMP/hold.py" <<'PY'
import os, socket, sys
port, ready, result, secs = int(sys.argv[1]), sys.argv[2], sys.argv[3], float(sys.argv[4])
def put(path, what):
    with open(path + ".tmp", "w") as f:
        f.write(what + "\n")
    os.rename(path + ".tmp", path)
s = socket.create_connection(("127.0.0.1", port), timeout=10)
s.sendall(b"rp-fatal-check\n")
if s.makefile("rb").readline() != b"rp-fatal-check\n":
    put(ready, "bad echo")
    sys.exit(1)
put(ready, "ok")
s.settimeout(secs)
try:
    put(result, "data" if s.recv(1) else "closed")
except ConnectionResetError:
    put(result, "closed")
except socket.timeout:
    put(result, "open")
PY

# wait_file FILE SECS: wait until FILE is not empty, at most SECS seconds.
wait_file() {
  local i
  for i in $(seq $(($2 * 20))); do [ -s "$1" ] && return 0; sleep 0.05; done
  return 1
}

# fatal_case NAME PATTERN TRIGGER VAR=VALUE...: run ringpiped -d with the
# shim set up by the VAR=VALUE settings (armed by a file), open and verify
# a connection through it, arm the fault and check the end.  PATTERN (an
# extended grep pattern) must appear on the daemon's stderr; TRIGGER "new"
# opens one more connection after arming (the fault is in the handshake).
fatal_case() {
  local name=$1 pat=$2 trig=$3; shift 3
  local d e arm=$T_TMP/$name.arm err=$T_TMP/$name.err rcf=$T_TMP/$name.rc
  local pid t0 ms rc res
  d=$(t_port); e=$(t_port)
  ( env LD_PRELOAD="$RPFAULT" RP_FAULT_ARM="$arm" "$@" \
      "$RINGPIPED" -F -d -s "$(t_addr "$d")" -t "$(t_addr "$ECHO_PORT")" \
      -k "$KEY" -n 0 2>"$err" &
    echo $! >"$T_TMP/$name.pid"
    wait $!
    echo $? >"$rcf" ) &
  wait_file "$T_TMP/$name.pid" 5
  pid=$(cat "$T_TMP/$name.pid")
  T_PIDS+=("$pid")
  if ! t_wait_port "$d" || ! t_daemon stock -e "$(t_addr "$e")" \
      "$(t_addr "$d")" "$KEY"; then
    t_fail "$name: daemons start"
    kill -9 "$pid" 2>/dev/null
    return
  fi
  local spiped=$T_LAST
  t_bg python3 "$T_TMP/hold.py" "$e" "$T_TMP/$name.ready" \
    "$T_TMP/$name.res" 15
  if ! wait_file "$T_TMP/$name.ready" 10 ||
     [ "$(cat "$T_TMP/$name.ready")" != ok ]; then
    t_fail "$name: a connection through ringpiped -d is open and echoes"
    kill -9 "$pid" "$spiped" 2>/dev/null
    return
  fi
  t_pass "$name: a connection through ringpiped -d is open and echoes"

  t0=$(date +%s%N)
  : >"$arm"
  if [ "$trig" = new ]; then
    # A second connection: its handshake runs on a handshake thread, and
    # the least-loaded worker is woken to take it.
    t_bg python3 -c 'import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5)
s.sendall(b"x")
time.sleep(10)' "$e"
  fi
  if wait_file "$rcf" 5; then
    ms=$(( ($(date +%s%N) - t0) / 1000000 ))
    rc=$(cat "$rcf")
    t_pass "$name: the daemon exits after the fault (${ms} ms)"
    if [ "$rc" != 0 ]; then t_pass "$name: exit status non-zero ($rc)"
    else t_fail "$name: exit status non-zero (0)"; fi
  else
    t_fail "$name: the daemon exits after the fault (still running after 5 s)"
  fi
  # Looked at before the daemon is killed (which would close it).
  wait_file "$T_TMP/$name.res" 1
  res=$(cat "$T_TMP/$name.res" 2>/dev/null || echo open)
  kill -9 "$pid" 2>/dev/null
  if grep -q '^rp-fault: failing' "$err" && grep -Eq "$pat" "$err"; then
    t_pass "$name: stderr names the failure ($(grep -Eo "$pat" "$err" | head -n 1))"
  else
    t_fail "$name: stderr names the failure (/$pat/)"
    tail -n 5 "$err" | sed 's/^/    /'
  fi
  # The watchdog (_exit after RP_FATAL_GRACE s) is only the backstop: the
  # orderly end must have come first.
  if grep -q 'taking too long' "$err"; then
    t_fail "$name: the orderly end came first, not the watchdog"
  else
    t_pass "$name: the orderly end came first, not the watchdog"
  fi
  if grep -q 'Sanitizer' "$err"; then
    t_fail "$name: no sanitizer report"
    grep -A12 'Sanitizer' "$err" | head -n 30 | sed 's/^/    /'
  fi
  if [ "$res" = closed ]; then
    t_pass "$name: the client's connection is closed"
  else
    t_fail "$name: the client's connection is closed ($res)"
  fi
  kill -9 "$pid" "$spiped" 2>/dev/null
}

fatal_case ctl 'epoll_wait: Bad file descriptor' - \
  RP_FAULT_CALL=epoll_wait RP_FAULT_MAXEVENTS=64 RP_FAULT_THREAD=rp-ctl
fatal_case worker \
  'worker [0-9]+: (epoll_wait|io_uring_enter): Bad file descriptor' new \
  RP_FAULT_CALL=epoll_wait,io_uring_submit_and_wait,io_uring_submit_and_wait_timeout \
  RP_FAULT_MAXEVENTS=256 RP_FAULT_THREAD=rp-worker
fatal_case hs 'write: Bad file descriptor' new \
  RP_FAULT_CALL=write RP_FAULT_THREAD=rp-hs
t_exit
