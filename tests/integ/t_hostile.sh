#!/usr/bin/env bash
# A peer that holds the key and misbehaves (tests/integ/hostile_peer.py,
# written from PROTOCOL.md alone), in both roles: as the client of a -d
# (whose target records every byte it gets) and as the server behind a -e
# (whose plaintext client records every byte it gets).
#
# ringpiped must refuse a DH value y of 0, p - 1, p, p + 1 or 2^2048 - 1,
# and 1 under -g (the connection dropped, nothing through to the far end);
# after a valid handshake it must drop the connection on a packet with a
# valid MAC but a length of 0, 1025 or 2^32 - 1, on a tampered packet (the
# ciphertext or the MAC), a replayed or a reordered one, and nothing from
# the bad packet on may reach the far end (when the good packets before it
# came in the same write they may be lost with the connection; when the
# far end already had them they stay delivered).  A valid session through
# the same daemons works byte for byte before and after, and the daemons
# keep running.
#
# Stock spiped 1.6.2 gets the same inputs, for reference: its lines say
# what it did and always pass (it accepts y = 0 and y = p - 1).
. "$(dirname "$0")/lib.sh"

# Debian's python3 with Debian's python3-cryptography (ci/deps.sh).
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
if ! "$PY" -c 'import cryptography.hazmat.primitives.ciphers' 2>/dev/null; then
  t_fail "python3-cryptography is importable by $PY"
  t_exit
fi
HOSTILE="$ROOT/tests/integ/hostile_peer.py"
KEY=$T_TMP/key
t_key "$KEY"
CASES=$T_TMP/cases

# daemons KIND: start KIND's -d, -d -g, -e and -e -g; set PORT_<KIND>_<D|DG|E|EG>
# (where the daemon listens) and PEER_... (its target: the hostile peer's
# port, or its recorder's).
daemons() {
  local kind=$1 v mode flag src peer
  for v in D DG E EG; do
    mode=-d; flag=
    case $v in E*) mode=-e;; esac
    case $v in *G) flag=-g;; esac
    src=$(t_port) && peer=$(t_port) || return 1
    t_daemon "$kind" "$mode" "$(t_addr "$src")" "$(t_addr "$peer")" "$KEY" \
      $flag || return 1
    printf -v "PORT_${kind}_$v" '%s' "$src"
    printf -v "PID_${kind}_$v" '%s' "$T_LAST"
    printf -v "PEER_${kind}_$v" '%s' "$peer"
  done
}

# add NAME VERDICT ARGS...: one case line; the verdict (what ringpiped
# must do) is left out of the names of the stock reference cases.
add() {
  local n=$1 v=$2; shift 2
  [ -n "$ref" ] && v=
  printf '%s%s\t%s\n' "$n" "${v:+ $v}" "$* $ref" >>"$CASES"
}

# cases KIND: every case against KIND's daemons; ring cases state what
# must happen, stock cases (--ref) only report.
cases() {
  local kind=$1 role v d p who y c sp pre at atg how
  ref=
  [ "$kind" = stock ] && ref=--ref
  for role in client server; do
    if [ $role = client ]; then v=D; who="$kind -d, hostile client"
    else v=E; who="$kind -e, hostile server"; fi
    d=PORT_${kind}_$v; p=PEER_${kind}_$v
    at="--role $role --daemon 127.0.0.1:${!d} --peer ${!p}"
    d=PORT_${kind}_${v}G; p=PEER_${kind}_${v}G
    atg="--role $role --daemon 127.0.0.1:${!d} --peer ${!p}"
    pre=; [ "$kind" = stock ] && pre="reference (not required): "

    add "$pre$who: a valid session before, 64 KiB each way" works $at \
      --case good --expect intact
    for y in 0 pm1 p pp1 max; do
      add "$pre$who: y = $y" refused $at --y $y --expect refused
      add "$pre$who -g: y = $y" refused $atg --y $y --expect refused
    done
    add "$pre$who -g: y = 1" refused $atg --y 1 --expect refused
    add "$pre$who: y = 1 (a -f peer)" accepted $at --y 1 --expect accepted
    add "$pre$who: a genuine y" accepted $at --expect accepted
    for c in len0 len1025 lenmax tamper tampermac replay reorder; do
      for sp in "" --split; do
        how="good packet 0 then a bad packet ($c) in the same write"
        [ -n "$sp" ] && how="good packet 0 delivered, then a bad packet ($c)"
        add "$pre$who: $how" "drops it" $at --case $c --at 1 $sp \
          --expect dropped
      done
    done
    add "$pre$who: a bad first packet (len1025)" "drops it" $at \
      --case len1025 --at 0 --expect dropped
    add "$pre$who: a valid session after, 64 KiB each way" works $at \
      --case good --expect intact
    add "$pre$who -g: a valid session after, 64 KiB each way" works $atg \
      --case good --expect intact
  done
}

started=$(date +%s.%N)
if daemons ring && daemons stock; then
  : >"$CASES"
  cases ring
  cases stock
  timeout -k 5 240 "$PY" "$HOSTILE" --key "$KEY" --cases "$CASES" \
    --timeout 5 >"$T_TMP/out" 2>"$T_TMP/err"
  rc=$?
  cat "$T_TMP/out"
  grep -q '^FAIL: ' "$T_TMP/out" && T_FAILS=$((T_FAILS + 1))
  want=$(grep -c . "$CASES")
  got=$(grep -cE '^(PASS|FAIL): ' "$T_TMP/out")
  if [ "$got" -ne "$want" ] || { [ $rc -ne 0 ] && [ $rc -ne 1 ]; }; then
    t_fail "hostile_peer.py ran all $want cases (ran $got, rc $rc)"
    tail -n 5 "$T_TMP/err" | sed 's/^/    /'
  fi
  for v in D DG E EG; do
    p=PID_ring_$v
    t_alive "ring $v daemon still running after every hostile case (engine run $RP_ENGINE_RUN, seccomp mode $(t_seccomp_mode "${!p}"))" "${!p}"
  done
else
  t_fail "daemons started"
fi
t_pass "timing: $(awk -v s="$started" -v e="$(date +%s.%N)" \
  'BEGIN{printf "%.1f", e-s}') s for $(grep -c . "$CASES" 2>/dev/null) cases"
t_exit
