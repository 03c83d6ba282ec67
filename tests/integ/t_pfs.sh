#!/usr/bin/env bash
# -f / -g combinations between ringpiped and stock spiped, both roles:
# -f on one side and -g on the other must be refused (no byte through, and
# the daemons keep serving); every other combination carries data.
. "$(dirname "$0")/lib.sh"
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
t_exit
