#!/usr/bin/env bash
# A peer with the wrong key is refused (no plaintext reaches the target) and
# the daemon keeps serving peers with the right key, in both roles.
. "$(dirname "$0")/lib.sh"
KEY=$T_TMP/key
BAD=$T_TMP/bad
t_key "$KEY"
t_key "$BAD"
SINKLOG=$T_TMP/sink.log
t_echo

D=$(t_port); E_GOOD=$(t_port); E_BAD=$(t_port)
t_daemon ring -d "$(t_addr "$D")" "$(t_addr "$ECHO_PORT")" "$KEY"
t_daemon stock -e "$(t_addr "$E_GOOD")" "$(t_addr "$D")" "$KEY"
t_daemon stock -e "$(t_addr "$E_BAD")" "$(t_addr "$D")" "$BAD"
for i in 1 2 3; do
  t_check_fails "ringpiped -d refuses a wrong-key stock -e (try $i)" \
    "$RPLOAD" echo -q -c "$(t_addr "$E_BAD")" -b 64k --timeout 3
  t_check "ringpiped -d still serves the right key (after try $i)" \
    "$RPLOAD" echo -q -c "$(t_addr "$E_GOOD")" -b 4M --timeout 20
done

D2=$(t_port); E2=$(t_port)
t_daemon stock -d "$(t_addr "$D2")" "$(t_addr "$ECHO_PORT")" "$BAD"
t_daemon ring -e "$(t_addr "$E2")" "$(t_addr "$D2")" "$KEY"
t_check_fails "ringpiped -e refused by a stock -d with another key" \
  "$RPLOAD" echo -q -c "$(t_addr "$E2")" -b 64k --timeout 3
E3=$(t_port)
t_daemon ring -e "$(t_addr "$E3")" "$(t_addr "$D")" "$KEY"
t_check "the same ringpiped build still works with the right key" \
  "$RPLOAD" echo -q -c "$(t_addr "$E3")" -b 4M --timeout 20
t_check_fails "ringpipe with a wrong key exits non-zero" \
  timeout 10 "$RINGPIPE" -t "$(t_addr "$D")" -k "$BAD" < /dev/null
t_exit
