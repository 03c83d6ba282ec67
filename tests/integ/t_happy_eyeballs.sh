#!/usr/bin/env bash
# Target names with several addresses (issue 10, item 1): -e, -d and
# ringpipe try a name's addresses in order, in the Happy Eyeballs manner
# (the next attempt 250 ms after the one before if it has not connected,
# at once if it failed; the first to connect wins, the others are closed),
# within -o.  The name comes from a private /etc/hosts (unshare -m):
# rp-multi.test is ::1 then 127.0.0.1, and every target listens on
# 127.0.0.1 only, so the first address is refused.  A first address that
# never answers is a [::1] listener with a full backlog (t_blackhole: the
# kernel drops every later SYN), on the same port as the IPv4 target.
. "$(dirname "$0")/lib.sh"
t_auto_run_only "dialling the target: the control plane"
t_private_names "$@"
KEY=$T_TMP/key
t_key "$KEY"
NAME=rp-multi.test
t_hosts "127.0.0.1 localhost" "::1 $NAME" "127.0.0.1 $NAME"

order=$(t_resolve "$NAME" 80 | tr '\n' ' ')
t_check "the private /etc/hosts gives $NAME as ::1 then 127.0.0.1 ($order)" \
  test "$order" = "::1 127.0.0.1 "

# ms_under NAME MAX ADDR: a fresh connection through ADDR echoes a line in
# under MAX ms.
ms_under() {
  local name=$1 max=$2 ms
  ms=$(t_rtt_ms "$3" 10)
  if [ "$ms" != fail ] && [ "$ms" -lt "$max" ]; then
    t_pass "$name ($ms ms)"
  else
    t_fail "$name ($ms ms, wanted under $max)"
  fi
}

# --- The first address refused (nothing on ::1): the second serves.
t_echo
D=$(t_port); E=$(t_port); E2=$(t_port); D2=$(t_port)
t_daemon ring -d "$(t_addr "$D")" "$(t_addr "$ECHO_PORT")" "$KEY"
t_daemon ring -e "$(t_addr "$E")" "$NAME:$D" "$KEY"
t_check "ring -e -t $NAME (::1 refused): 3 concurrent connections echo" \
  "$RPLOAD" echo -q -c "$(t_addr "$E")" -n 3 -b 1M --timeout 20
t_daemon ring -d "$(t_addr "$D2")" "$NAME:$ECHO_PORT" "$KEY"
t_daemon stock -e "$(t_addr "$E2")" "$(t_addr "$D2")" "$KEY"
t_check "ring -d -t $NAME (::1 refused): 3 concurrent connections echo" \
  "$RPLOAD" echo -q -c "$(t_addr "$E2")" -n 3 -b 1M --timeout 20
t_check "ringpipe -t $NAME (::1 refused) to ring -d: 1 MiB round trip" \
  sh -c "head -c 1048576 /dev/urandom >'$T_TMP/in' &&
    timeout 20 '$RINGPIPE' -t '$NAME:$D' -k '$KEY' <'$T_TMP/in' >'$T_TMP/out' &&
    cmp '$T_TMP/in' '$T_TMP/out'"

# --- The first address never answers: the second attempt starts after
# the stagger and wins, well within -o; the unanswered one is closed.
ECHO_BH=$(t_port); DB=$(t_port); EB=$(t_port); EB1=$(t_port); EDB=$(t_port)
DBB=$(t_port)
t_bg "$RPTARGET" --echo -l "$(t_addr "$ECHO_BH")"
t_wait_port "$ECHO_BH"
t_blackhole ::1 "$ECHO_BH"
t_blackhole ::1 "$DB"
t_daemon ring -d "$(t_addr "$DB")" "$(t_addr "$ECHO_PORT")" "$KEY"
t_daemon ring -e "$(t_addr "$EB")" "$NAME:$DB" "$KEY" -o 5
t_daemon ring -e "$(t_addr "$EB1")" "$NAME:$DB" "$KEY" -o 1
for i in 1 2 3; do
  ms_under "ring -e -o 5 -t $NAME (::1 unanswered): fresh connection $i echoes" \
    1500 "$(t_addr "$EB")"
done
ms_under "ring -e -o 1 -t $NAME (::1 unanswered): a fresh connection echoes" \
  1000 "$(t_addr "$EB1")"
left=$(ss -Htn state syn-sent "( dport = :$DB )" | wc -l)
t_check "ring -e: no attempt to the unanswered address is left open ($left)" \
  test "$left" = 0
t_daemon ring -d "$(t_addr "$DBB")" "$NAME:$ECHO_BH" "$KEY" -o 5
t_daemon stock -e "$(t_addr "$EDB")" "$(t_addr "$DBB")" "$KEY"
for i in 1 2; do
  ms_under "ring -d -t $NAME (::1 unanswered): fresh connection $i echoes" \
    1500 "$(t_addr "$EDB")"
done
left=$(ss -Htn state syn-sent "( dport = :$ECHO_BH )" | wc -l)
t_check "ring -d: no attempt to the unanswered address is left open ($left)" \
  test "$left" = 0
start=$(date +%s%N)
t_check "ringpipe -o 5 -t $NAME (::1 unanswered) to ring -d: a line comes back" \
  sh -c "echo rp-line | timeout 10 '$RINGPIPE' -o 5 -t '$NAME:$DB' -k '$KEY' | grep -qx rp-line"
ms=$(( ($(date +%s%N) - start) / 1000000 ))
t_check "ringpipe: the unanswered first address cost a stagger, not -o ($ms ms)" \
  test "$ms" -lt 2000

# --- No address answers: the connection is dropped once -o is over (not
# after one attempt's share of it); every address refused: at once.
DNONE=$(t_port); DDEAD=$(t_port); EN=$(t_port); ED=$(t_port)
t_blackhole ::1 "$DNONE"
t_blackhole 127.0.0.1 "$DNONE"
t_daemon ring -e "$(t_addr "$EN")" "$NAME:$DNONE" "$KEY" -o 1
ms=$(t_closed_ms "$(t_addr "$EN")" 10)
t_check "ring -e -o 1, both addresses unanswered: dropped after -o ($ms ms)" \
  test "$ms" != open -a "${ms:-0}" -ge 900 -a "${ms:-0}" -lt 2500
t_daemon ring -e "$(t_addr "$ED")" "$NAME:$DDEAD" "$KEY" -o 5
ms=$(t_closed_ms "$(t_addr "$ED")" 10)
t_check "ring -e -o 5, both addresses refused: dropped at once ($ms ms)" \
  test "$ms" != open -a "${ms:-9999}" -lt 500
t_check "ring -e still serves after those" \
  "$RPLOAD" echo -q -c "$(t_addr "$E")" -b 1M --timeout 20
t_exit
