#!/usr/bin/env bash
# Keys are read before any fork: in every combination of -D, -F, -k - (the
# key on standard input) and systemd socket activation, a ringpiped -d
# serves stock spiped's client (spipe) holding the real key and refuses one
# holding an empty key.  (Daemonizing points standard input at /dev/null: a daemon
# that read "-k -" after forking hashed zero bytes and served everyone with
# an empty key file.)  An empty key file or input is taken, as stock takes
# it, with a warning naming it.
. "$(dirname "$0")/lib.sh"
t_auto_run_only "reading keys: the control plane"
KEY=$T_TMP/key
EMPTY=$T_TMP/empty
t_key "$KEY"
: >"$EMPTY"
t_echo
ECHO=$(t_addr "$ECHO_PORT")
SSA=$(command -v systemd-socket-activate || true)

# Wait (at most 5 s) for the file $1 to be non-empty.
wait_file() {
  local i
  for i in $(seq 1 100); do
    [ -s "$1" ] && return 0
    sleep 0.05
  done
  return 1
}

head -c 65536 /dev/urandom >"$T_TMP/in"
# spipe_via PORT KEY: stock spiped's client (spipe) with KEY sends 64 KiB
# through the -d on PORT to the echo target and gets them back intact.
spipe_via() {
  timeout 10 "$SPIPE" -t "$(t_addr "$1")" -k "$2" -o 2 <"$T_TMP/in" \
    >"$T_TMP/out" 2>/dev/null && cmp -s "$T_TMP/in" "$T_TMP/out"
}
# serves NAME PORT: stock spipe with the real key is served through the
# -d on PORT, and stock spipe with an empty key is not.
serves() {
  t_check "$1: stock spipe with the real key is served" spipe_via "$2" "$KEY"
  t_check_fails "$1: stock spipe with an empty key is refused" \
    spipe_via "$2" "$EMPTY"
}

# One case: FLAGS for ringpiped (besides -d -s -t -k -p), KEYARG ("file" or
# "stdin"), and whether the socket comes from systemd-socket-activate.
run_case() {
  local flags=$1 keyarg=$2 sd=$3 name p src k in pidf
  name="ringpiped -d ${flags:-(daemon)} -k $([ "$keyarg" = stdin ] && echo - || echo FILE)"
  [ "$sd" = 1 ] && name="$name, socket-activated"
  p=$(t_port)
  pidf=$T_TMP/$p.pid
  k=$KEY; in=/dev/null
  [ "$keyarg" = stdin ] && { k=-; in=$KEY; }
  src=$(t_addr "$p")
  [ "$sd" = 1 ] && src=systemd:web
  local cmd=("$RINGPIPED" $flags -d -s "$src" -t "$ECHO" -k "$k" -n 0 -p "$pidf")
  if [ "$sd" = 1 ]; then
    cmd=("$SSA" -l "127.0.0.1:$p" --fdname=web "${cmd[@]}")
    t_bg sh -c 'exec "$@" <"'"$in"'" 2>"'"$T_TMP/$p.log"'"' sh "${cmd[@]}"
  elif [[ " $flags " == *" -F "* ]]; then
    t_bg sh -c 'exec "$@" <"'"$in"'" 2>"'"$T_TMP/$p.log"'"' sh "${cmd[@]}"
  else
    # The parent exits once the daemon serves (or, with -D, waits).
    timeout 10 "${cmd[@]}" <"$in" 2>"$T_TMP/$p.log"
  fi
  t_wait_port "$p"
  # A socket-activated daemon starts on the first connection.
  [ "$sd" = 1 ] && "$RPLOAD" echo -q -c "$(t_addr "$p")" -b 1 --timeout 1 >/dev/null 2>&1
  if [[ " $flags " != *" -F "* ]]; then
    wait_file "$pidf" && T_PIDS+=("$(cat "$pidf")")
  fi
  serves "$name" "$p"
}

for sd in 0 1; do
  [ "$sd" = 1 ] && [ -z "$SSA" ] && {
    t_fail "systemd-socket-activate (Debian's systemd package) is installed"
    continue
  }
  for flags in "-F" "" "-D -F" "-D"; do
    for keyarg in file stdin; do
      run_case "$flags" "$keyarg" "$sd"
    done
  done
done

# An empty key is taken (stock takes it) but named in a warning.
P=$(t_port)
t_bg sh -c "exec '$RINGPIPED' -F -d -s '$(t_addr "$P")' -t '$ECHO' -k - \
  -k '$EMPTY' </dev/null 2>'$T_TMP/empty.log'"
t_wait_port "$P"
t_check "empty key on standard input: a warning names it" \
  grep -q "key from standard input is empty" "$T_TMP/empty.log"
t_check "empty key file: a warning names it" \
  grep -q "key from $EMPTY is empty" "$T_TMP/empty.log"
t_check "an empty key is still taken, as stock takes it" \
  grep -q "workers" "$T_TMP/empty.log"
t_exit
