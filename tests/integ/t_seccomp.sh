#!/usr/bin/env bash
# Where io_uring is blocked.  tests/helpers/rp-nouring installs a seccomp
# filter that makes io_uring_setup/enter/register fail with EPERM, as
# Docker's default profile does, and execs the program in place; the epoll
# run of make test starts every ringpiped and ringpipe under it.  This
# checks that the filter does what it says (and only that), then that
# ringpiped under it picks the epoll engine by itself, says so in one line
# naming the cause, and serves, in both roles and with ringpipe; and that
# without the filter the default choice is io_uring when the kernel allows it.
. "$(dirname "$0")/lib.sh"
KEY=$T_TMP/key
t_key "$KEY"
t_echo

# The errno of io_uring_setup(0, NULL), io_uring_enter(-1, ...) and
# io_uring_register(-1, ...) as seen by a process, e.g. "EFAULT EBADF EBADF",
# then its pid.
PROBE='import ctypes, errno, os
libc = ctypes.CDLL(None, use_errno=True)
out = []
for nr, args in ((425, (0, None)), (426, (-1, 0, 0, 0, None, 0)),
                 (427, (-1, 0, None, 0))):
    ctypes.set_errno(0)
    r = libc.syscall(nr, *args)
    out.append(errno.errorcode.get(ctypes.get_errno(), "ok") if r == -1 else "ok")
print(" ".join(out), os.getpid())'

if [ ! -x "$RPNOURING" ]; then
  t_fail "rp-nouring is built ($RPNOURING)"; t_exit
fi

# --- The filter.
read -r s0 e0 r0 _ < <(python3 -c "$PROBE")
read -r s1 e1 r1 _ < <("$RPNOURING" python3 -c "$PROBE")
if [ "$s1 $e1 $r1" = "EPERM EPERM EPERM" ]; then
  t_pass "under rp-nouring io_uring_setup, io_uring_enter and io_uring_register fail with EPERM"
else
  t_fail "under rp-nouring the io_uring calls fail with EPERM (got: $s1 $e1 $r1)"
fi
case "$s0" in
  EFAULT|EINVAL)
    t_pass "without the filter io_uring_setup is not refused here ($s0 for a bad argument; enter/register: $e0 $r0)"
    URING_HERE=1 ;;
  *)
    t_pass "documented: io_uring_setup is already refused on this host ($s0): both runs of make test use epoll"
    URING_HERE=0 ;;
esac
read -r sn _ < <("$RPNOURING" --errno ENOSYS python3 -c "$PROBE")
t_check "--errno ENOSYS makes io_uring_setup fail with ENOSYS instead" test "$sn" = ENOSYS
# Everything else is allowed: a program with threads, sockets and files runs
# normally, and exec keeps the pid with the filter in force.
t_check "other system calls are allowed: rp-load under rp-nouring echoes 1 MB through the echo target" \
  "$RPNOURING" "$RPLOAD" echo -q -c "$(t_addr "$ECHO_PORT")" -b 1M --timeout 10
t_bg "$RPNOURING" sleep 30
SPID=$T_LAST
for i in $(seq 50); do [ "$(cat "/proc/$SPID/comm" 2>/dev/null)" = sleep ] && break; sleep 0.02; done
t_check "rp-nouring execs in place: the pid \$! names the program, under a seccomp filter" \
  test "$(cat "/proc/$SPID/comm" 2>/dev/null)" = sleep -a "$(t_seccomp_mode "$SPID")" = 2
t_check_fails "rp-nouring without a program fails" "$RPNOURING"
t_check_fails "rp-nouring with a program that does not exist fails" "$RPNOURING" "$T_TMP/nope"

# --- ringpiped under the filter: the default choice falls back to epoll.
# fallback_line NAME FILE: PASS if FILE holds exactly one line saying that
# the epoll engine runs, naming the refused io_uring_setup (EPERM).
fallback_line() {
  local n
  n=$(grep -c 'using the epoll engine: ' "$2")
  if [ "$n" = 1 ] && grep 'using the epoll engine: ' "$2" | grep -q 'EPERM'; then
    t_pass "$1 logs one line: \"$(grep -m1 'using the epoll engine' "$2")\""
  else
    t_fail "$1 logs one 'using the epoll engine: <cause: EPERM>' line ($n such lines)"
    head -n 5 "$2" | sed 's/^/    /'
  fi
}
NOURING_D=$(t_nouring_wrap ringpiped "$RINGPIPED_REAL")
NOURING_C=$(t_nouring_wrap ringpipe "$RINGPIPE_REAL")
D=$(t_port); E=$(t_port)
# (An assignment before a function call holds for that call only.)
RINGPIPED=$NOURING_D t_daemon ring -d "$(t_addr "$D")" "$(t_addr "$ECHO_PORT")" \
  "$KEY" 2>"$T_TMP/d.err"
DPID=$T_LAST
RINGPIPED=$NOURING_D t_daemon ring -e "$(t_addr "$E")" "$(t_addr "$D")" "$KEY" \
  2>"$T_TMP/e.err"
EPID=$T_LAST
t_alive "ringpiped -d starts under the filter" "$DPID"
t_alive "ringpiped -e starts under the filter" "$EPID"
fallback_line "ringpiped -d under the filter" "$T_TMP/d.err"
fallback_line "ringpiped -e under the filter" "$T_TMP/e.err"
t_check "ringpiped -e -> -d, both under the filter: 4 x 8 MB echoed intact" \
  "$RPLOAD" echo -q -c "$(t_addr "$E")" -n 4 -b 8M --timeout 30
SD=$(t_port); SE=$(t_port); SE2=$(t_port)
t_daemon stock -d "$(t_addr "$SD")" "$(t_addr "$ECHO_PORT")" "$KEY"
RINGPIPED=$NOURING_D t_daemon ring -e "$(t_addr "$SE")" "$(t_addr "$SD")" "$KEY" \
  2>/dev/null
t_check "ringpiped -e under the filter -> stock -d: 8 MB echoed intact" \
  "$RPLOAD" echo -q -c "$(t_addr "$SE")" -b 8M --timeout 30
t_daemon stock -e "$(t_addr "$SE2")" "$(t_addr "$D")" "$KEY"
t_check "stock -e -> ringpiped -d under the filter: 8 MB echoed intact" \
  "$RPLOAD" echo -q -c "$(t_addr "$SE2")" -b 8M --timeout 30
head -c $((4 * 1024 * 1024)) /dev/urandom >"$T_TMP/in"
if timeout 30 "$NOURING_C" -t "$(t_addr "$D")" -k "$KEY" <"$T_TMP/in" \
    >"$T_TMP/out" 2>"$T_TMP/c.err" && cmp -s "$T_TMP/in" "$T_TMP/out"; then
  t_pass "ringpipe under the filter -> ringpiped -d under the filter: 4 MB identical"
else
  t_fail "ringpipe under the filter: 4 MB through stdin/stdout"
  head -n 3 "$T_TMP/c.err" | sed 's/^/    /'
fi
fallback_line "ringpipe under the filter" "$T_TMP/c.err"

# --- Forcing an engine (--engine io_uring|epoll).
bad_rc=0
timeout -k 1 5 "$NOURING_D" --engine io_uring -F -d -s "$(t_addr "$(t_port)")" \
  -t "$(t_addr "$ECHO_PORT")" -k "$KEY" >/dev/null 2>"$T_TMP/force.err" || bad_rc=$?
if [ "$bad_rc" != 0 ] && [ "$bad_rc" != 124 ] && grep -q 'EPERM' "$T_TMP/force.err"; then
  t_pass "--engine io_uring under the filter exits $bad_rc and says why: \"$(grep -m1 EPERM "$T_TMP/force.err")\""
else
  t_fail "--engine io_uring under the filter fails with the cause (exit $bad_rc)"
  head -n 3 "$T_TMP/force.err" | sed 's/^/    /'
fi
FD=$(t_port); FE=$(t_port)
RINGPIPED=$RINGPIPED_REAL t_daemon ring -d "$(t_addr "$FD")" \
  "$(t_addr "$ECHO_PORT")" "$KEY" --engine epoll 2>"$T_TMP/fd.err"
RINGPIPED=$RINGPIPED_REAL t_daemon ring -e "$(t_addr "$FE")" "$(t_addr "$FD")" \
  "$KEY" --engine epoll 2>"$T_TMP/fe.err"
t_check "--engine epoll without the filter: -e -> -d echoes 8 MB intact" \
  "$RPLOAD" echo -q -c "$(t_addr "$FE")" -b 8M --timeout 30

# --- This run: the daemons the other tests start.
RD=$(t_port)
t_daemon ring -d "$(t_addr "$RD")" "$(t_addr "$ECHO_PORT")" "$KEY" 2>"$T_TMP/run.err"
RPID=$T_LAST
if [ "$RP_ENGINE_RUN" = epoll ]; then
  t_check "epoll run: \$RINGPIPED starts ringpiped under the seccomp filter (pid $RPID)" \
    test "$(t_seccomp_mode "$RPID")" = 2 -a "$(cat "/proc/$RPID/comm" 2>/dev/null)" = ringpiped
  fallback_line "epoll run: \$RINGPIPED" "$T_TMP/run.err"
elif [ "$URING_HERE" = 1 ]; then
  t_check "auto run: ringpiped uses io_uring here (no 'using the epoll engine' line)" \
    sh -c "kill -0 $RPID && ! grep -q 'using the epoll engine' '$T_TMP/run.err'"
fi
t_exit
