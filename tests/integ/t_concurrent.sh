#!/usr/bin/env bash
# 32 concurrent connections through ringpiped pairs (and mixed with stock),
# every byte verified; then a burst of 200 short connections.
. "$(dirname "$0")/lib.sh"
KEY=$T_TMP/key
t_key "$KEY"
t_echo
D=$(t_port); E=$(t_port); E2=$(t_port)
t_daemon ring -d "$(t_addr "$D")" "$(t_addr "$ECHO_PORT")" "$KEY"
t_daemon ring -e "$(t_addr "$E")" "$(t_addr "$D")" "$KEY"
t_daemon stock -e "$(t_addr "$E2")" "$(t_addr "$D")" "$KEY"
t_check "32 concurrent connections ringpiped -> ringpiped, 8 MB each, intact" \
  "$RPLOAD" echo -q -c "$(t_addr "$E")" -n 32 -b 8M --timeout 60
t_check "32 concurrent connections stock -e -> ringpiped -d, 4 MB each, intact" \
  "$RPLOAD" echo -q -c "$(t_addr "$E2")" -n 32 -b 4M --timeout 60
t_check "connection churn: 16 parallel loops for 2 s, every echo verified" \
  "$RPLOAD" connrate -q -c "$(t_addr "$E")" -n 16 -t 2 --timeout 20
t_exit
