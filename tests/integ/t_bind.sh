#!/usr/bin/env bash
# -b as stock spiped 1.6.3 and later take it (issue 10, item 2): an address
# without a port ("127.0.0.2", "[127.0.0.2]": the OS picks the port) or
# with one, SO_REUSEADDR set before the bind.  Checked by where -e's
# connections to its target come from (ss), with three at once.  A fixed
# port allows one connection per target address at a time (the kernel
# refuses a second socket with the same address pair, SO_REUSEADDR or
# not), so three at once go to a target name with three addresses
# (127.0.0.11-13, from a private /etc/hosts): each new one is refused by
# the kernel on the addresses in use and moves on to the next (rp_dial).
# One after another they reuse the port although the last one's socket
# waits in TIME_WAIT.  (Any other connection through that -e at the same
# time takes one of the address pairs: the daemons with a fixed -b port
# are waited for without t_daemon's probe connection.)
. "$(dirname "$0")/lib.sh"
t_auto_run_only "binding and addresses: the control plane"
t_private_names "$@"
KEY=$T_TMP/key
t_key "$KEY"
t_echo
D=$(t_port)
t_daemon ring -d "$(t_addr "$D")" "$(t_addr "$ECHO_PORT")" "$KEY"

# srcs PORT: the local address of each connection to port PORT that is
# established now, one per line.
srcs() {
  ss -Htn state established "( dport = :$1 )" | awk '{print $3}' | sort
}

# three_at_once NAME ADDR DPORT WANT: 3 connections at once through the
# -e at ADDR echo; then, 3 held open at once, there are 3 connections to
# DPORT, each from an address matching WANT (a grep -E pattern).
three_at_once() {
  local name=$1 addr=$2 dport=$3 want=$4 n bad
  t_check "$name: 3 concurrent connections echo" \
    "$RPLOAD" echo -q -c "$addr" -n 3 -b 256k --timeout 20
  rm -f "$T_TMP/idle.ready"
  ( timeout 30 "$RPLOAD" idle -q -c "$addr" -n 3 -t 2 \
      --ready-file "$T_TMP/idle.ready" >"$T_TMP/idle.out" 2>&1 ) &
  T_PIDS+=("$!")
  for _ in $(seq 1 100); do [ -s "$T_TMP/idle.ready" ] && break; sleep 0.05; done
  srcs "$dport" >"$T_TMP/srcs"
  n=$(wc -l <"$T_TMP/srcs")
  bad=$(grep -cvE "^($want)$" "$T_TMP/srcs")
  t_check "$name: 3 held at once, each from ${want//\\/} ($(tr '\n' ' ' <"$T_TMP/srcs"))" \
    test "$n" = 3 -a "$bad" = 0
  wait "${T_PIDS[-1]}" 2>/dev/null
}

E1=$(t_port); E2=$(t_port); E3=$(t_port)
t_daemon ring -e "$(t_addr "$E1")" "$(t_addr "$D")" "$KEY" -b 127.0.0.2
three_at_once "-e -b 127.0.0.2" "$(t_addr "$E1")" "$D" '127\.0\.0\.2:[0-9]+'
t_daemon ring -e "$(t_addr "$E2")" "$(t_addr "$D")" "$KEY" -b '[127.0.0.3]'
three_at_once "-e -b [127.0.0.3]" "$(t_addr "$E2")" "$D" '127\.0\.0\.3:[0-9]+'
t_daemon ring -e "$(t_addr "$E3")" "$(t_addr "$D")" "$KEY" -b '[127.0.0.4]:0'
three_at_once "-e -b [127.0.0.4]:0" "$(t_addr "$E3")" "$D" '127\.0\.0\.4:[0-9]+'

# A fixed port: three target addresses, a -d on each.
t_hosts "127.0.0.1 localhost" "127.0.0.11 rp-three.test" \
  "127.0.0.12 rp-three.test" "127.0.0.13 rp-three.test"
DT=$(t_port); BP=$(t_port); EF=$(t_port); EF1=$(t_port); BP1=$(t_port)
for h in 11 12 13; do
  t_bg "$RINGPIPED" -F -d -s "[127.0.0.$h]:$DT" -t "$(t_addr "$ECHO_PORT")" \
    -k "$KEY" -n 0
done
t_wait_listen "$DT" 3
# Without t_daemon's probe connection: it would hold the port for a moment.
t_bg "$RINGPIPED" -F -e -s "$(t_addr "$EF")" -t "rp-three.test:$DT" -k "$KEY" \
  -n 0 -b "[127.0.0.5]:$BP"
t_wait_listen "$EF"
three_at_once "-e -b [127.0.0.5]:$BP -t rp-three.test" "$(t_addr "$EF")" "$DT" \
  "127\.0\.0\.5:$BP"
for i in 1 2 3; do
  t_check "-e -b [127.0.0.5]:$BP: connection $i of 3 one after another" \
    "$RPLOAD" echo -q -c "$(t_addr "$EF")" -b 64k --timeout 10
done
t_bg "$RINGPIPED" -F -e -s "$(t_addr "$EF1")" -t "$(t_addr "$D")" -k "$KEY" \
  -n 0 -b "127.0.0.6:$BP1"
t_wait_listen "$EF1"
for i in 1 2 3; do
  t_check "-e -b 127.0.0.6:$BP1, one target address: connection $i of 3 one after another (TIME_WAIT port reused)" \
    "$RPLOAD" echo -q -c "$(t_addr "$EF1")" -b 64k --timeout 10
done

# ringpipe takes the same forms.
t_check "ringpipe -b 127.0.0.7: a line comes back" \
  sh -c "echo rp-line | timeout 10 '$RINGPIPE' -b 127.0.0.7 -t '$(t_addr "$D")' -k '$KEY' | grep -qx rp-line"
t_check "ringpipe -b [127.0.0.7]: a line comes back" \
  sh -c "echo rp-line | timeout 10 '$RINGPIPE' -b '[127.0.0.7]' -t '$(t_addr "$D")' -k '$KEY' | grep -qx rp-line"

# Forms that are still wrong.
for b in ":80" "[127.0.0.1" "[127.0.0.1]:99999" "[127.0.0.1]:x" ""; do
  t_check_fails "-b '$b' is refused" \
    timeout 5 "$RINGPIPED" -F -e -s "$(t_addr "$(t_port)")" -t "$(t_addr "$D")" \
    -k "$KEY" -b "$b"
done
t_exit
