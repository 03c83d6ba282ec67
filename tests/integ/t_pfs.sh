#!/usr/bin/env bash
# -f / -g combinations between ringpiped and stock spiped, both roles:
# -f on one side and -g on the other must be refused (no byte through, and
# the daemons keep serving); every other combination carries data.
. "$(dirname "$0")/lib.sh"
t_auto_run_only "forward secrecy is the handshake, on the control thread"
KEY=$T_TMP/key
t_key "$KEY"
t_echo

# combo EKIND EFLAG DKIND DFLAG EXPECT(ok|refused)
combo() {
  local ek=$1 ef=$2 dk=$3 df=$4 want=$5
  local e=$(t_port) d=$(t_port)
  local name="$ek -e ${ef:-(none)} -> $dk -d ${df:-(none)}: $want"
  t_daemon "$dk" -d "$(t_addr "$d")" "$(t_addr "$ECHO_PORT")" "$KEY" $df
  t_daemon "$ek" -e "$(t_addr "$e")" "$(t_addr "$d")" "$KEY" $ef
  if [ "$want" = ok ]; then
    t_check "$name" "$RPLOAD" echo -q -c "$(t_addr "$e")" -b 1M --timeout 10
  else
    t_check_fails "$name" "$RPLOAD" echo -q -c "$(t_addr "$e")" -b 64k \
      --timeout 3
  fi
}

for pair in "ring stock" "stock ring" "ring ring"; do
  set -- $pair
  for ef in "" -f -g; do
    for df in "" -f -g; do
      want=ok
      { [ "$ef" = -f ] && [ "$df" = -g ]; } && want=refused
      { [ "$ef" = -g ] && [ "$df" = -f ]; } && want=refused
      combo "$1" "$ef" "$2" "$df" "$want"
    done
  done
done
# Each Diffie-Hellman path this CPU has, forced with RINGPIPED_DH, against
# stock in both roles; the start line names the path in use.
paths=openssl
if grep -qw avx512ifma /proc/cpuinfo && grep -qw avx512vl /proc/cpuinfo; then
  paths="openssl ifma"
fi
for dh in $paths; do
  e=$(t_port) d=$(t_port) se=$(t_port) sd=$(t_port)
  RINGPIPED_DH=$dh t_daemon ring -d "$(t_addr "$d")" "$(t_addr "$ECHO_PORT")" \
    "$KEY" 2>"$T_TMP/dh-$dh-d.err"
  t_daemon stock -e "$(t_addr "$se")" "$(t_addr "$d")" "$KEY"
  RINGPIPED_DH=$dh t_daemon ring -e "$(t_addr "$e")" "$(t_addr "$sd")" \
    "$KEY" 2>"$T_TMP/dh-$dh-e.err"
  t_daemon stock -d "$(t_addr "$sd")" "$(t_addr "$ECHO_PORT")" "$KEY"
  t_check "RINGPIPED_DH=$dh: stock -e -> ring -d, 1 MB echoed" \
    "$RPLOAD" echo -q -c "$(t_addr "$se")" -b 1M -n 4 --timeout 10
  t_check "RINGPIPED_DH=$dh: ring -e -> stock -d, 1 MB echoed" \
    "$RPLOAD" echo -q -c "$(t_addr "$e")" -b 1M -n 4 --timeout 10
  for r in d e; do
    t_check "RINGPIPED_DH=$dh: the -$r start line says Diffie-Hellman: $dh" \
      t_wait_log "$T_TMP/dh-$dh-$r.err" "Diffie-Hellman: $dh\$" 1
  done
done
f=$(t_port)
t_daemon ring -e "$(t_addr "$f")" "$(t_addr "$ECHO_PORT")" "$KEY" -f \
  2>"$T_TMP/dh-f.err"
# The port answers before the workers start and the line is written.
t_check "-f: the start line says Diffie-Hellman: none (-f)" \
  t_wait_log "$T_TMP/dh-f.err" "Diffie-Hellman: none (-f)" 1
t_exit
