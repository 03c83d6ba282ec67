#!/usr/bin/env bash
# Choosing the engine by hand: --engine on both programs, the
# RINGPIPED_ENGINE environment variable, -Z (SEND_ZC on io_uring), and the
# errors when the requested engine cannot run or does not exist.  Each
# choice carries a verified echo through -e -> -d.
. "$(dirname "$0")/lib.sh"
KEY=$T_TMP/key
t_key "$KEY"
t_echo

# pair NAME FLAGS...: ringpiped -e -> ringpiped -d -> echo with FLAGS on
# both; PASS if 4 MB echo back intact over 4 connections.
pair() {
  local name=$1; shift
  local d e
  d=$(t_port); e=$(t_port)
  t_daemon ring -d "$(t_addr "$d")" "$(t_addr "$ECHO_PORT")" "$KEY" "$@" \
    || { t_fail "$name: -d starts"; return; }
  local dp=$T_LAST
  t_daemon ring -e "$(t_addr "$e")" "$(t_addr "$d")" "$KEY" "$@" \
    || { t_fail "$name: -e starts"; return; }
  local ep=$T_LAST
  t_check "$name: 4 connections x 1 MB echoed intact" \
    "$RPLOAD" echo -q -c "$(t_addr "$e")" -n 4 -b 1M --timeout 20
  kill "$dp" "$ep" 2>/dev/null
}

pair "--engine epoll" --engine epoll
pair "--engine auto" --engine auto
# (In the epoll run every ringpiped is under the filter: io_uring cannot.)
if [ "$RP_ENGINE_RUN" = auto ]; then
  pair "--engine io_uring" --engine io_uring
  pair "-Z (SEND_ZC, falls back to send where the kernel copies)" -Z
fi
RINGPIPED_ENGINE=epoll pair "RINGPIPED_ENGINE=epoll"

# Errors: a name that is no engine; io_uring asked for where it is blocked.
t_check "--engine with a bad name fails and says so" sh -c \
  "! '$RINGPIPED' -F -d -s '[127.0.0.1]:1' -t '[127.0.0.1]:2' -k '$KEY' --engine fast 2>'$T_TMP/err' && grep -q 'engine' '$T_TMP/err'"
t_check "RINGPIPED_ENGINE with a bad name fails and says so" sh -c \
  "! RINGPIPED_ENGINE=fast timeout 5 '$RINGPIPED' -F -d -s '[127.0.0.1]:$(t_port)' -t '[127.0.0.1]:2' -k '$KEY' 2>'$T_TMP/err' && grep -q 'RINGPIPED_ENGINE' '$T_TMP/err'"
t_check "--engine io_uring where io_uring is blocked fails at once, naming the cause" sh -c \
  "! timeout 5 '$RPNOURING' '$RINGPIPED_REAL' -F -d -s '[127.0.0.1]:$(t_port)' -t '[127.0.0.1]:2' -k '$KEY' --engine io_uring 2>'$T_TMP/err' && grep -q 'EPERM' '$T_TMP/err'"

# ringpipe picks its engine the same way.
D=$(t_port)
t_daemon ring -d "$(t_addr "$D")" "$(t_addr "$ECHO_PORT")" "$KEY"
head -c 3000000 /dev/urandom >"$T_TMP/in"
for eng in epoll auto; do
  t_check "ringpipe --engine $eng: 3 MB through stdin/stdout, identical" sh -c \
    "'$RINGPIPE' -t '$(t_addr "$D")' -k '$KEY' --engine $eng <'$T_TMP/in' >'$T_TMP/out' && cmp -s '$T_TMP/in' '$T_TMP/out'"
done
t_exit
