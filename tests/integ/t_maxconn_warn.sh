#!/usr/bin/env bash
# The -n warning (issue 10, item 6): stock spiped says "Maximum number of
# connections (N) reached" each time it is reached, which floods the log of
# a daemon that runs at its limit; ringpiped said it once per process.  Now
# it says it at once, then at most once per 10 s with the count of the
# times in between.  20 connections one after another through -n 1 reach
# the limit 20 times.
. "$(dirname "$0")/lib.sh"
t_auto_run_only "the -n warning: the control plane"
KEY=$T_TMP/key
t_key "$KEY"
t_echo
D=$(t_port); E=$(t_port); ES=$(t_port)
t_daemon stock -d "$(t_addr "$D")" "$(t_addr "$ECHO_PORT")" "$KEY"
t_bg "$RINGPIPED" -F -e -s "$(t_addr "$E")" -t "$(t_addr "$D")" -k "$KEY" \
  -n 1 2>"$T_TMP/ring.err"
t_wait_listen "$E"
t_bg "$SPIPED" -F -e -s "$(t_addr "$ES")" -t "$(t_addr "$D")" -k "$KEY" \
  -n 1 2>"$T_TMP/stock.err"
t_wait_listen "$ES"

# twenty ADDR: 20 connections one after another through ADDR.
twenty() {
  local i ok=0
  for i in $(seq 1 20); do
    "$RPLOAD" echo -q -c "$1" -b 4k --timeout 10 >/dev/null 2>&1 && ok=$((ok + 1))
  done
  echo "$ok"
}
lines() { grep -c "Maximum number of connections (1) reached" "$1"; }

start=$(date +%s)
ok=$(twenty "$(t_addr "$E")")
t_check "ring -e -n 1: 20 connections one after another all echo ($ok)" \
  test "$ok" = 20
n=$(lines "$T_TMP/ring.err")
t_check "ring -e -n 1: reached 20 times, said once so far ($n line)" \
  test "$n" = 1
# The rest is said once the 10 s are over (the loop looks every tick).
for _ in $(seq 1 150); do
  [ "$(lines "$T_TMP/ring.err")" -ge 2 ] && break
  sleep 0.1
done
last=$(grep "Maximum number" "$T_TMP/ring.err" | tail -n 1)
secs=$(( $(date +%s) - start ))
t_check "ring -e -n 1: after 10 s, one line counts the rest ($secs s: $last)" \
  sh -c "[ $(lines "$T_TMP/ring.err") = 2 ] &&
    echo '$last' | grep -q 'reached 19 times in the last 1[0-9] s'"
ok=$(twenty "$(t_addr "$ES")")
n=$(lines "$T_TMP/stock.err")
t_check "reference: stock -e -n 1, the same 20 connections: said $n times" \
  test "$n" -ge 20
t_exit
