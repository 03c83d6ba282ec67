#!/usr/bin/env bash
# UNIX sockets as source and as target, for ringpiped in both modes and
# against stock spiped.
. "$(dirname "$0")/lib.sh"
KEY=$T_TMP/key
t_key "$KEY"
ECHO_SOCK=$T_TMP/echo.sock
t_bg "$RPTARGET" --echo -l "$ECHO_SOCK"
t_wait_port "$ECHO_SOCK"

# -e listens on a UNIX socket, -d targets a UNIX socket.
t_daemon ring -d "$T_TMP/d1.sock" "$ECHO_SOCK" "$KEY"
t_daemon ring -e "$T_TMP/e1.sock" "$T_TMP/d1.sock" "$KEY"
t_check "ringpiped -e (unix source) -> ringpiped -d (unix source, unix target)" \
  "$RPLOAD" echo -q -c "$T_TMP/e1.sock" -b 32M --timeout 30

t_daemon stock -d "$T_TMP/d2.sock" "$ECHO_SOCK" "$KEY"
t_daemon ring -e "$T_TMP/e2.sock" "$T_TMP/d2.sock" "$KEY"
t_check "ringpiped -e (unix) -> stock -d (unix)" \
  "$RPLOAD" echo -q -c "$T_TMP/e2.sock" -b 32M --timeout 30

t_daemon ring -d "$T_TMP/d3.sock" "$ECHO_SOCK" "$KEY"
t_daemon stock -e "$T_TMP/e3.sock" "$T_TMP/d3.sock" "$KEY"
t_check "stock -e (unix) -> ringpiped -d (unix)" \
  "$RPLOAD" echo -q -c "$T_TMP/e3.sock" -b 32M --timeout 30

# Mixed: TCP source, UNIX target and the other way round.
P=$(t_port)
t_daemon ring -d "$T_TMP/d4.sock" "$ECHO_SOCK" "$KEY"
t_daemon ring -e "$(t_addr "$P")" "$T_TMP/d4.sock" "$KEY"
t_check "ringpiped -e (tcp source, unix target)" \
  "$RPLOAD" echo -q -c "$(t_addr "$P")" -b 8M --timeout 30
t_exit
