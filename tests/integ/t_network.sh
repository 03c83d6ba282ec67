#!/usr/bin/env bash
# A network that misbehaves (issue 18 item 7).  The -e side and the -d side
# (with its echo target) live in two network namespaces of their own joined
# by a veth pair; nftables rules in each namespace drop what arrives over
# the veth: some of it (loss) or all of it (a partition, a peer that
# vanished).  The kernel here may have no netem, hence nftables.
#   loss:      2% loss each way; 32 connections each echo 4 MB through
#              -e -> -d -> target, every byte verified; then the same with
#              stock spiped as the -e.
#   partition: everything dropped for 20 s under 8 steady connections, then
#              healed; the daemons run with --keepalive 10.  Each connection
#              completes and verifies or is closed, none is still open on
#              either daemon once the partition has lasted past the
#              keepalive time, and new connections are served once healed.
#   vanish:    a -d with -n 4 --keepalive 10 holds 4 idle connections from
#              the far namespace when the link starts dropping everything
#              for good; a fifth client in the -d's own namespace is served
#              within 45 s, and the -d's metrics count the 4 timed-out
#              closes.  (NET_KEEPALIVE=off runs it without --keepalive: the
#              four slots stay held and the fifth client is not served.)
#   sigkill:   the -e is killed with SIGKILL during transfers; the -d closes
#              their pairs (its target's connections close) within 3 s and
#              serves a new -e.
# The cases run at once, each in its own pair of namespaces, as runs of
# this script with "case NAME" (bounded by timeout); NET_CASES picks some.
# Every namespace is named after this run's pid and removed on exit.
. "$(dirname "$0")/lib.sh"
SELF=$ROOT/tests/integ/$(basename "$0")
NET_ID=${NET_ID:-$$}
NET_KEEPALIVE=${NET_KEEPALIVE:-10}
NET_CASES=${NET_CASES:-loss partition vanish sigkill}
IPA=10.77.0.1			# The -e side's end of the veth.
IPB=10.77.0.2			# The -d side's.
PT=7000				# The echo target (in the -d's namespace).
PD=7100				# The -d.
PE=7200				# The -e.
PM=9100				# --metrics.
NS_MADE=()

# net_down: kill what runs in the namespaces this run made, remove them.
net_down() {
  local ns pids
  for ns in "${NS_MADE[@]}"; do
    pids=$(ip netns pids "$ns" 2>/dev/null)
    # shellcheck disable=SC2086
    [ -n "$pids" ] && kill -9 $pids 2>/dev/null
    ip netns del "$ns" 2>/dev/null
  done
}
trap 'net_down; t_cleanup' EXIT
trap 'exit 143' TERM INT

# net_pair TAG: make the namespaces NA (the -e side, $IPA) and NB (the -d
# side, $IPB), joined by a veth pair whose ends are IA and IB, loopback up,
# and an empty nftables input chain in each.  The veth sends one packet per
# TCP segment (gso_max_segs 1): a rule then drops a segment, not 64 KiB.
net_pair() {
  local tag=$1 ns
  NA=rpnet-$NET_ID-${tag}a; NB=rpnet-$NET_ID-${tag}b
  IA=rn$NET_ID${tag}a; IB=rn$NET_ID${tag}b
  ip netns add "$NA" || return 1
  NS_MADE+=("$NA")
  ip netns add "$NB" || return 1
  NS_MADE+=("$NB")
  ip link add name "$IA" netns "$NA" type veth peer name "$IB" netns "$NB" ||
    return 1
  ip -n "$NA" addr add "$IPA/24" dev "$IA" &&
    ip -n "$NB" addr add "$IPB/24" dev "$IB" &&
    ip -n "$NA" link set "$IA" gso_max_segs 1 up &&
    ip -n "$NB" link set "$IB" gso_max_segs 1 up || return 1
  for ns in "$NA" "$NB"; do
    ip -n "$ns" link set lo up || return 1
    ip netns exec "$ns" nft -f - <<'EOF' || return 1
table inet rpnet {
  chain input {
    type filter hook input priority 0; policy accept;
  }
}
EOF
  done
}

# net_rule loss|all|heal: in both namespaces, replace the input rules by
# one that drops 2% (loss) or all (all) of what arrives over the veth, or
# by none (heal).
net_rule() {
  local ns if match=()
  [ "$1" = loss ] && match=(numgen random mod 100 '<' 2)
  for ns in "$NA" "$NB"; do
    if=$IA; [ "$ns" = "$NB" ] && if=$IB
    ip netns exec "$ns" nft flush chain inet rpnet input || return 1
    [ "$1" = heal ] && continue
    ip netns exec "$ns" nft add rule inet rpnet input iifname "$if" \
      "${match[@]}" counter drop || return 1
  done
}

# net_dropped: packets the rules dropped so far, both namespaces together.
net_dropped() {
  local ns n=0 c
  for ns in "$NA" "$NB"; do
    c=$(ip netns exec "$ns" nft list chain inet rpnet input |
      sed -n 's/.*counter packets \([0-9]*\).*/\1/p' | head -1)
    n=$((n + ${c:-0}))
  done
  echo "$n"
}

# in_ns NS CMD...: run CMD in namespace NS (t_bg takes "ip netns exec"
# itself, so that its pid is the command's).
in_ns() { ip netns exec "$@"; }

# ns_listening NS PORT: wait (at most 5 s) until something listens on
# PORT in NS.
ns_listening() {
  local i
  for i in $(seq 100); do
    [ "$(in_ns "$1" ss -Htln "( sport = :$2 )" | wc -l)" -ge 1 ] && return 0
    sleep 0.05
  done
  echo "nothing listens on port $2 in $1" >&2
  return 1
}

# ns_target NS: start the echo target on 127.0.0.1:$PT in NS.
ns_target() {
  t_bg ip netns exec "$1" "$RPTARGET" --echo -l "[127.0.0.1]:$PT" --lifetime 200
  ns_listening "$1" "$PT"
}

# ns_daemon NS KIND MODE SRC TGT [FLAGS...]: start ringpiped (KIND ring)
# or stock spiped (stock) in the foreground in NS; its pid in T_LAST.
ns_daemon() {
  local ns=$1 kind=$2 mode=$3 src=$4 tgt=$5 bin=$RINGPIPED
  shift 5
  [ "$kind" = stock ] && bin=$SPIPED
  t_bg ip netns exec "$ns" "$bin" -F "$mode" -s "$src" -t "$tgt" -k "$NET_KEY" "$@"
  ns_listening "$ns" "${src##*:}" && kill -0 "$T_LAST" 2>/dev/null
}

# ns_metric NS NAME: the value of the unlabelled metric NAME of the
# ringpiped serving --metrics on 127.0.0.1:$PM in NS ("none" if absent).
ns_metric() {
  in_ns "$1" curl -s -m 3 "http://127.0.0.1:$PM/metrics" |
    awk -v n="$2" '$1 == n { v = $2 } END { print (v == "") ? "none" : v }'
}

# ns_metric_wait NS NAME VALUE SECS: wait (at most SECS) until metric NAME
# of NS is VALUE; print how long that took, or "no (it is V)".
ns_metric_wait() {
  local t0 i v
  t0=$(date +%s.%N)
  for i in $(seq $(( $4 * 10 ))); do
    v=$(ns_metric "$1" "$2")
    if [ "$v" = "$3" ]; then
      awk -v s="$t0" -v e="$(date +%s.%N)" 'BEGIN{printf "%.1f s\n", e-s}'
      return 0
    fi
    sleep 0.1
  done
  echo "no (it is $v)"
  return 1
}

# json KEY FILE: the number KEY in rp-load's JSON result FILE.
json() { sed -n "s/.*\"$1\":\([0-9.a-z]*\).*/\1/p" "$2"; }

# since T0: seconds since the date +%s.%N time T0.
since() { awk -v s="$1" -v e="$(date +%s.%N)" 'BEGIN{printf "%.1f", e-s}'; }

# load_bg NAME NS ARGS...: rp-load ARGS in NS in the background (at most
# 90 s); its JSON in $T_TMP/NAME.out, its status in $T_TMP/NAME.rc.
load_bg() {
  local name=$1 ns=$2
  shift 2
  ( in_ns "$ns" timeout -k 2 90 "$RPLOAD" "$@" -q >"$T_TMP/$name.out" \
      2>"$T_TMP/$name.err"
    echo $? >"$T_TMP/$name.rc" ) &
  T_PIDS+=("$!")
}

# load_wait NAME SECS: wait (at most SECS) for load_bg NAME to end.
load_wait() {
  local i
  for i in $(seq $(( $2 * 10 ))); do
    [ -s "$T_TMP/$1.rc" ] && return 0
    sleep 0.1
  done
  return 1
}

# net_serve CASE TAG [FLAGS...]: the namespaces of CASE (net_pair TAG),
# and in NB the echo target and a ringpiped -d with FLAGS and --metrics,
# its pid in DPID; fails, having said what did not start, if one did not.
net_serve() {
  local name=$1 tag=$2
  shift 2
  net_pair "$tag" || { t_fail "$name: namespaces set up"; return 1; }
  ns_target "$NB" || { t_fail "$name: target starts"; return 1; }
  ns_daemon "$NB" ring -d "[$IPB]:$PD" "[127.0.0.1]:$PT" \
    --metrics "[127.0.0.1]:$PM" "$@" || { t_fail "$name: -d starts"; return 1; }
  DPID=$T_LAST
}

# The --keepalive flags of this run: none with NET_KEEPALIVE=off.
KA=()
[ "$NET_KEEPALIVE" != off ] && KA=(--keepalive "$NET_KEEPALIVE")

# --- loss: 2% each way, 32 x 4 MB echoed, ringpiped then stock as the -e.
case_loss() {
  local kind port t0 rc before
  net_serve loss l -n 0 || return
  net_rule loss || { t_fail "loss: nft rules"; return; }
  port=$PE
  for kind in ring stock; do
    ns_daemon "$NA" "$kind" -e "[127.0.0.1]:$port" "[$IPB]:$PD" -n 0 ||
      { t_fail "loss: $kind -e starts"; continue; }
    before=$(net_dropped)
    t0=$(date +%s.%N)
    in_ns "$NA" timeout -k 2 100 "$RPLOAD" echo -q -c "[127.0.0.1]:$port" \
      -n 32 -b 4M --timeout 60 >"$T_TMP/loss.out" 2>"$T_TMP/loss.err"
    rc=$?
    if [ "$rc" = 0 ] && grep -q '"ok":true' "$T_TMP/loss.out"; then
      t_pass "loss: 2% loss each way, 32 x 4 MB echoed intact through $kind -e and ringpiped -d in $(since "$t0") s ($(( $(net_dropped) - before )) packets dropped)"
    else
      t_fail "loss: 32 x 4 MB through $kind -e under 2% loss (rc $rc after $(since "$t0") s)"
      tail -n 5 "$T_TMP/loss.err" | sed 's/^/    /'
    fi
    port=$((port + 1))
  done
}

# --- partition: 20 s of nothing under steady connections, then healed.
case_partition() {
  local t0 eact dact ok
  net_serve partition p -n 0 "${KA[@]}" || return
  ns_daemon "$NA" ring -e "[127.0.0.1]:$PE" "[$IPB]:$PD" -n 0 "${KA[@]}" \
    --metrics "[127.0.0.1]:$PM" || { t_fail "partition: -e starts"; return; }
  # 8 connections echoing 256 KiB/s each for 40 s: each has bytes in
  # flight whenever the partition starts.
  load_bg part "$NA" echo -c "[127.0.0.1]:$PE" -n 8 -t 40 --rate 256k \
    --timeout 20
  sleep 3
  net_rule all || { t_fail "partition: nft drop-all"; return; }
  t0=$(date +%s.%N)
  sleep 20
  # The partition has lasted twice the keepalive time: nothing of it may
  # still be open on either daemon.
  eact=$(ns_metric "$NA" ringpiped_connections_active)
  dact=$(ns_metric "$NB" ringpiped_connections_active)
  net_rule heal
  if [ "$eact" = 0 ] && [ "$dact" = 0 ]; then
    t_pass "partition: after 20 s of partition no connection is open on either daemon (timed out: -e $(ns_metric "$NA" ringpiped_pairs_timed_out_total), -d $(ns_metric "$NB" ringpiped_pairs_timed_out_total))"
  else
    t_fail "partition: after 20 s of partition (keepalive $NET_KEEPALIVE) connections still open: -e $eact, -d $dact"
  fi
  if load_wait part 30; then
    ok=$(( 8 - $(json errors "$T_TMP/part.out") ))
    if [ "$(json err_mismatch "$T_TMP/part.out")" = 0 ] &&
       [ "$(json err_timeout "$T_TMP/part.out")" = 0 ]; then
      t_pass "partition: each of the 8 connections verified ($ok) or was closed ($(( 8 - ok ))), none corrupt or hung"
    else
      t_fail "partition: a connection was corrupt or hung: $(cat "$T_TMP/part.out")"
    fi
  else
    t_fail "partition: the 8 connections ended within 30 s of healing"
  fi
  t_check "partition: healed, 4 new connections echo 1 MB each" \
    in_ns "$NA" timeout -k 2 40 "$RPLOAD" echo -q -c "[127.0.0.1]:$PE" \
    -n 4 -b 1M --timeout 30
}

# --- vanish: 4 idle connections hold -n 4, then their peer vanishes.
case_vanish() {
  local t0 rc secs n
  net_serve vanish v -n 4 "${KA[@]}" || return
  ns_daemon "$NA" ring -e "[127.0.0.1]:$PE" "[$IPB]:$PD" -n 0 ||
    { t_fail "vanish: far -e starts"; return; }
  load_bg idle "$NA" idle -c "[127.0.0.1]:$PE" -n 4 -t 80 --timeout 5 \
    --ready-file "$T_TMP/idle.ready"
  for n in $(seq 150); do
    [ -s "$T_TMP/idle.ready" ] && break
    sleep 0.1
  done
  if [ ! -s "$T_TMP/idle.ready" ] ||
     [ "$(ns_metric "$NB" ringpiped_connections_active)" != 4 ]; then
    t_fail "vanish: 4 idle connections hold the -d's 4 slots"
    return
  fi
  net_rule all || { t_fail "vanish: nft drop-all"; return; }
  t0=$(date +%s.%N)
  # The fifth client, beside the -d: its own -e waits up to 50 s (-o) for
  # the -d to take the connection from its backlog.
  ns_daemon "$NB" ring -e "[127.0.0.1]:$((PE + 1))" "[$IPB]:$PD" -n 0 -o 50 ||
    { t_fail "vanish: local -e starts"; return; }
  in_ns "$NB" timeout -k 2 50 "$RPLOAD" echo -q -c "[127.0.0.1]:$((PE + 1))" \
    -b 64k --timeout 48 >"$T_TMP/fifth.out" 2>"$T_TMP/fifth.err"
  rc=$?
  secs=$(since "$t0")
  if [ "$rc" = 0 ] && awk -v s="$secs" 'BEGIN{exit !(s <= 45)}'; then
    t_pass "vanish: with the far side gone, a fifth client was served ${secs} s later (-n 4, keepalive $NET_KEEPALIVE)"
  else
    t_fail "vanish: a fifth client is served within 45 s of the far side going (rc $rc after $secs s; keepalive $NET_KEEPALIVE; -d active $(ns_metric "$NB" ringpiped_connections_active))"
  fi
  # The fifth client is served once the first of the 4 times out; the
  # others were opened a little later and time out a little later (at
  # most 5 s more, bounded).
  for secs in $(seq 50); do
    n=$(ns_metric "$NB" ringpiped_pairs_timed_out_total)
    [ "$n" = 4 ] && break
    sleep 0.1
  done
  if [ "$n" = 4 ]; then
    t_pass "vanish: the -d's metrics count 4 timed-out closes"
  else
    t_fail "vanish: the -d's metrics count 4 timed-out closes (ringpiped_pairs_timed_out_total $n)"
  fi
}

# --- sigkill: the -e dies mid-stream; the -d lets go at once.
case_sigkill() {
  local epid t0 r n
  net_serve sigkill k -n 0 || return
  ns_daemon "$NA" ring -e "[127.0.0.1]:$PE" "[$IPB]:$PD" -n 0 ||
    { t_fail "sigkill: -e starts"; return; }
  epid=$T_LAST
  load_bg bulk "$NA" echo -c "[127.0.0.1]:$PE" -n 4 -t 30 --rate 4M \
    --timeout 5
  if ! r=$(ns_metric_wait "$NB" ringpiped_connections_active 4 10); then
    t_fail "sigkill: 4 transfers under way through the -d: $r"
    return
  fi
  sleep 1
  kill -9 "$epid"
  t0=$(date +%s.%N)
  r=$(ns_metric_wait "$NB" ringpiped_connections_active 0 3)
  n=$(in_ns "$NB" ss -Htn state established "( dport = :$PT )" | wc -l)
  if [ "$r" != "${r#no}" ] || [ "$n" != 0 ]; then
    t_fail "sigkill: the -d closes the 4 pairs within 3 s ($r; $n connections to the target left)"
  else
    t_pass "sigkill: the -d closed the 4 pairs of the killed -e and their target connections in $r"
  fi
  ns_daemon "$NA" ring -e "[127.0.0.1]:$PE" "[$IPB]:$PD" -n 0 ||
    { t_fail "sigkill: a new -e starts"; return; }
  t_check "sigkill: the -d serves the new -e: 4 x 4 MB echoed" \
    in_ns "$NA" timeout -k 2 40 "$RPLOAD" echo -q -c "[127.0.0.1]:$PE" \
    -n 4 -b 4M --timeout 30
  t_alive "sigkill: the -d still runs" "$DPID"
}

# One case, as run by the top of this script.
if [ "${1:-}" = case ]; then
  "case_$2"
  t_exit
fi

if ! command -v nft >/dev/null || ! ip netns add "rpnet-$NET_ID-probe"; then
  t_fail "nft and ip netns are available (ci/deps.sh installs nftables)"
  t_exit
fi
ip netns del "rpnet-$NET_ID-probe"
# On exit, also the namespaces of a case run that was killed before it
# could remove them (this run's, by their names).
net_sweep() {
  local ns
  for ns in $(ip netns list |
      awk -v p="rpnet-$NET_ID-" 'index($1, p) == 1 {print $1}'); do
    NS_MADE+=("$ns")
  done
}
trap 'net_sweep; net_down; t_cleanup' EXIT
export NET_KEY=$T_TMP/key NET_ID NET_KEEPALIVE
t_key "$NET_KEY"
# Each case in its own run, at once; their lines in order once all ended.
declare -A cpid=()
T0=$(date +%s.%N)
for c in $NET_CASES; do
  timeout -k 5 120 bash "$SELF" case "$c" >"$T_TMP/case.$c" 2>&1 </dev/null &
  cpid[$c]=$!
done
for c in $NET_CASES; do
  wait "${cpid[$c]}"
  rc=$?
  cat "$T_TMP/case.$c"
  if [ "$rc" != 0 ] && ! grep -q '^FAIL: ' "$T_TMP/case.$c"; then
    t_fail "$c: the case ended with status $rc"
  fi
  T_FAILS=$((T_FAILS + $(grep -c '^FAIL: ' "$T_TMP/case.$c")))
done
echo "cases took $(since "$T0") s in all"
t_exit
