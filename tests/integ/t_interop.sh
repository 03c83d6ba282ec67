#!/usr/bin/env bash
# The interop matrix against stock spiped 1.6.2: each pairing carries a
# checksummed 256 MB transfer both ways through an echo target (rp-load
# verifies every byte, and the echo finishing after the client's EOF checks
# half-close), and a sink target that answers only after EOF.
. "$(dirname "$0")/lib.sh"
MB=${INTEROP_MB:-256}
KEY=$T_TMP/key
t_key "$KEY"
t_echo
SINK_PORT=$(t_port)
t_bg "$RPTARGET" --auto -l "$(t_addr "$SINK_PORT")"
t_wait_port "$SINK_PORT"

# pipe NAME EKIND DKIND: EKIND -e -> DKIND -d -> targets.
pipe() {
  local name=$1 ek=$2 dk=$3
  local e=$(t_port) d=$(t_port) d2=$(t_port) e2=$(t_port)
  t_daemon "$dk" -d "$(t_addr "$d")" "$(t_addr "$ECHO_PORT")" "$KEY"
  t_daemon "$ek" -e "$(t_addr "$e")" "$(t_addr "$d")" "$KEY"
  t_check "$name: ${MB} MB echoed both ways, verified" \
    "$RPLOAD" echo -q -c "$(t_addr "$e")" -b "${MB}M" --timeout 120
  t_daemon "$dk" -d "$(t_addr "$d2")" "$(t_addr "$SINK_PORT")" "$KEY"
  t_daemon "$ek" -e "$(t_addr "$e2")" "$(t_addr "$d2")" "$KEY"
  t_check "$name: half-close (sink replies after EOF)" \
    "$RPLOAD" stream -q -c "$(t_addr "$e2")" -b 8M --timeout 60
}

pipe "ringpiped -e -> stock -d" ring stock
pipe "stock -e -> ringpiped -d" stock ring
pipe "ringpiped -e -> ringpiped -d" ring ring

# The clients: stdin -> pipe -> echo -> stdout, compared with cmp.
head -c "$((MB * 1024 * 1024))" /dev/urandom > "$T_TMP/in"
client() {
  local name=$1 cbin=$2 dk=$3
  local d=$(t_port)
  t_daemon "$dk" -d "$(t_addr "$d")" "$(t_addr "$ECHO_PORT")" "$KEY"
  if timeout 120 "$cbin" -t "$(t_addr "$d")" -k "$KEY" \
      < "$T_TMP/in" > "$T_TMP/out" && cmp -s "$T_TMP/in" "$T_TMP/out"; then
    t_pass "$name: ${MB} MB through stdin/stdout, identical, exit 0"
  else
    t_fail "$name: ${MB} MB through stdin/stdout"
  fi
}
client "spipe -> ringpiped -d" "$SPIPE" ring
client "ringpipe -> stock -d" "$RINGPIPE" stock
client "ringpipe -> ringpiped -d" "$RINGPIPE" ring
t_exit
