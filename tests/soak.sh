#!/usr/bin/env bash
# Soak: mixed load through a ringpiped -e/-d pair for SOAK_SECONDS (default
# 60): bulk streams both ways and echoes (every byte checksummed by
# rp-load / rp-target), connection churn, tampered connections (rp-tamper:
# bit flips, reordered/replayed/dropped packets) and resets from clients and
# from a target, all into the same -d.  Samples RSS and open descriptors of
# both daemons every second and fails if they grow beyond a small bound
# after warm-up.  Prints PASS:/FAIL: lines (tests/run.sh counts them) and a
# summary.  BUILD picks the binaries (build, build-asan, build-tsan).
. "$(dirname "$0")/integ/lib.sh"
SECS=${SOAK_SECONDS:-60}
# RSS bound after warm-up.  ASan keeps freed memory in a quarantine (256 MB
# by default) that looks like growth: cap it, and allow for it.
RSS_SLACK_KB=16384
if [[ "$BUILD" == *asan* ]]; then
  export ASAN_OPTIONS="${ASAN_OPTIONS:-}:quarantine_size_mb=16:thread_local_quarantine_size_kb=256"
  RSS_SLACK_KB=$((16384 + 24576))
fi
FC="python3 $ROOT/tests/integ/fault_clients.py"
KEY=$T_TMP/key
t_key "$KEY"
OUT=$T_TMP/soak
mkdir -p "$OUT"

TGT=""
t_serve TGT "$RPTARGET" --auto -v -l 127.0.0.1:0 --lifetime $((SECS + 120)) \
  2>"$OUT/target.log"
TGTPID=$T_LAST
RST=""
t_serve RST "$RPTARGET" --echo -l 127.0.0.1:0 --reset-after 300000 \
  --lifetime $((SECS + 120))
D=$(t_port); E=$(t_port); D2=$(t_port); E2=$(t_port)
t_daemon ring -d "$(t_addr "$D")" "$TGT" "$KEY" -n 0 -o 2
DPID=$T_LAST
t_daemon ring -e "$(t_addr "$E")" "$(t_addr "$D")" "$KEY" -n 0 -o 2
EPID=$T_LAST
t_daemon ring -d "$(t_addr "$D2")" "$RST" "$KEY"
t_daemon ring -e "$(t_addr "$E2")" "$(t_addr "$D2")" "$KEY"
# Tampering relays in front of the shared -d, each behind its own -e.
TE=()
for op in "--flip up:5000" "--flip down:7000" "--reorder up:3" \
    "--replay down:2" "--drop up:4"; do
  relay=""
  # shellcheck disable=SC2086
  t_serve relay "$RPTAMPER" -l 127.0.0.1:0 -c "$(t_addr "$D")" \
    --lifetime $((SECS + 120)) $op
  p=$(t_port)
  t_daemon ring -e "$(t_addr "$p")" "$relay" "$KEY"
  TE+=("$p")
done

END=$(( $(date +%s) + SECS ))
running() { [ "$(date +%s)" -lt "$END" ]; }

# healthy NAME RPLOAD-ARGS...: repeat an rp-load run until the end; every
# run must succeed.  Results go to $OUT/NAME.json, failures to NAME.fail.
healthy() {
  local name=$1; shift
  while running; do
    if timeout -k 2 120 "$RPLOAD" "$@" -q --timeout 30 >>"$OUT/$name.json" \
        2>>"$OUT/$name.err"; then :; else
      echo "$name" >>"$OUT/$name.fail"
    fi
  done
}
# damaged: rp-load through each tamperer must fail, never with a mismatch
# or a hang.
damaged() {
  local i=0 p
  while running; do
    p=${TE[$((i % ${#TE[@]}))]}
    i=$((i + 1))
    timeout -k 2 60 "$RPLOAD" echo -q -c "$(t_addr "$p")" -b 512k --timeout 10 \
      >"$OUT/dmg.last" 2>/dev/null && echo ok >>"$OUT/damaged.undetected"
    grep -q '"err_mismatch":0' "$OUT/dmg.last" &&
      grep -q '"err_timeout":0' "$OUT/dmg.last" ||
      echo bad >>"$OUT/damaged.bad"
    echo x >>"$OUT/damaged.count"
  done
}
resets() {
  while running; do
    $FC rstmid "127.0.0.1:$E" 3 >>"$OUT/resets.log" 2>&1
    timeout -k 2 60 "$RPLOAD" echo -q -c "$(t_addr "$E2")" -n 2 -b 1M \
      --timeout 10 >"$OUT/rst.last" 2>/dev/null && echo ok >>"$OUT/reset.undetected"
    grep -q '"err_mismatch":0' "$OUT/rst.last" || echo bad >>"$OUT/reset.bad"
    echo x >>"$OUT/resets.count"
    sleep 0.2
  done
}
sample() {
  echo "t rss_d fds_d rss_e fds_e" >"$OUT/samples"
  local t0 t
  t0=$(date +%s)
  while running; do
    t=$(( $(date +%s) - t0 ))
    echo "$t $(t_rss_kb "$DPID") $(t_nfds "$DPID") $(t_rss_kb "$EPID") $(t_nfds "$EPID")" \
      >>"$OUT/samples"
    sleep 1
  done
}

FDS_D0=$(t_nfds "$DPID"); FDS_E0=$(t_nfds "$EPID")
pids=()
healthy stream stream -c "$(t_addr "$E")" -n 2 -b 48M --both & pids+=($!)
healthy echo echo -c "$(t_addr "$E")" -n 2 -b 32M & pids+=($!)
healthy churn connrate -c "$(t_addr "$E")" -n 4 -t 3 & pids+=($!)
damaged & pids+=($!)
resets & pids+=($!)
sample & pids+=($!)
for p in "${pids[@]}"; do T_PIDS+=("$p"); done
wait "${pids[@]}"
sleep 1

# Bytes moved and failures of the healthy loops.
read -r RUNS BYTES NOTOK < <(cat "$OUT"/stream.json "$OUT"/echo.json \
  "$OUT"/churn.json 2>/dev/null | python3 -c '
import json, sys
runs = byts = notok = 0
for line in sys.stdin:
    line = line.strip()
    if not line.startswith("{"):
        continue
    d = json.loads(line)
    runs += 1
    byts += d.get("tx_bytes", 0) + d.get("rx_bytes", 0)
    notok += 0 if d.get("ok") else 1
print(runs, byts, notok)')
FAILS=$(cat "$OUT"/*.fail 2>/dev/null | wc -l)
MISMATCH=$(cat "$OUT"/*.err 2>/dev/null | grep -c 'mismatch')
DMG=$(cat "$OUT/damaged.count" 2>/dev/null | wc -l)
DMGBAD=$(cat "$OUT/damaged.bad" "$OUT/damaged.undetected" 2>/dev/null | wc -l)
RSTS=$(cat "$OUT/resets.count" 2>/dev/null | wc -l)
RSTBAD=$(cat "$OUT/reset.bad" "$OUT/reset.undetected" 2>/dev/null | wc -l)
echo "soak: ${SECS} s, $RUNS healthy runs, $BYTES bytes moved and verified, $FAILS failed runs, $MISMATCH mismatches"
echo "soak: $DMG tampered connections ($DMGBAD not cleanly dropped), $RSTS reset rounds ($RSTBAD bad)"
if [ "$RUNS" -gt 0 ] && [ "$FAILS" -eq 0 ] && [ "$NOTOK" -eq 0 ] && [ "$MISMATCH" -eq 0 ]; then
  t_pass "soak: $RUNS healthy runs, $BYTES bytes moved, 0 corrupted or lost"
else
  t_fail "soak: healthy runs: $FAILS failed, $NOTOK not ok, $MISMATCH mismatches"
  cat "$OUT"/*.err 2>/dev/null | grep -v '^$' | head -n 8 | sed 's/^/    /'
fi
if [ "$DMG" -gt 0 ] && [ "$DMGBAD" -eq 0 ]; then
  t_pass "soak: $DMG tampered connections all dropped, none delivered damage or hung"
else t_fail "soak: tampered connections: $DMGBAD of $DMG not cleanly dropped"; fi
if [ "$RSTS" -gt 0 ] && [ "$RSTBAD" -eq 0 ]; then
  t_pass "soak: $RSTS rounds of client and target resets handled"
else t_fail "soak: resets: $RSTBAD of $RSTS rounds bad"; fi

# The target saw no damaged stream.
kill -TERM "$TGTPID" 2>/dev/null
for i in $(seq 50); do grep -q 'bad-streams' "$OUT/target.log" && break; sleep 0.1; done
if grep -q 'bad-streams 0 ' "$OUT/target.log"; then
  t_pass "soak: the target verified every stream ($(grep -o 'accepted [0-9]*' "$OUT/target.log") connections)"
else t_fail "soak: the target saw a damaged stream: $(tail -n 2 "$OUT/target.log")"; fi

# Resources: after warm-up (a quarter of the run, at least 3 s) RSS may grow
# by at most 16 MB over the warm-up sample; descriptors must be back to the
# idle count once the load stopped.
python3 - "$OUT/samples" "$SECS" >"$OUT/res" <<'PY'
import sys
rows = [l.split() for l in open(sys.argv[1]).read().split("\n")[1:] if l.strip()]
rows = [list(map(int, r)) for r in rows if len(r) == 5]
warm = max(3, int(sys.argv[2]) // 4)
w = next((r for r in rows if r[0] >= warm), rows[-1])
last = rows[-1]
after = [r for r in rows if r[0] >= warm]
print(w[1], max(r[1] for r in after), last[1], w[3], max(r[3] for r in after),
      last[3], max(r[2] for r in rows), max(r[4] for r in rows), len(rows))
PY
read -r RD_W RD_MAX RD_END RE_W RE_MAX RE_END FD_DMAX FD_EMAX NS <"$OUT/res"
FDS_D1=$(t_nfds "$DPID"); FDS_E1=$(t_nfds "$EPID")
echo "soak: -d RSS warm-up ${RD_W} kB, max ${RD_MAX} kB, end ${RD_END} kB; fds idle ${FDS_D0} -> ${FDS_D1} (max ${FD_DMAX} under load)"
echo "soak: -e RSS warm-up ${RE_W} kB, max ${RE_MAX} kB, end ${RE_END} kB; fds idle ${FDS_E0} -> ${FDS_E1} (max ${FD_EMAX} under load); $NS samples"
if [ "$RD_W" -gt 0 ] && [ "$RE_W" -gt 0 ] && [ "$RD_END" -gt 0 ] &&
   [ "$RE_END" -gt 0 ] && [ $((RD_MAX - RD_W)) -le "$RSS_SLACK_KB" ] &&
   [ $((RE_MAX - RE_W)) -le "$RSS_SLACK_KB" ]; then
  t_pass "soak: RSS bounded after warm-up (slack $RSS_SLACK_KB kB; -d ${RD_W} -> max ${RD_MAX} kB, -e ${RE_W} -> max ${RE_MAX} kB)"
else t_fail "soak: RSS grew after warm-up (-d ${RD_W} -> ${RD_MAX} kB, -e ${RE_W} -> ${RE_MAX} kB)"; fi
if [ "$FDS_D1" -gt 0 ] && [ "$FDS_E1" -gt 0 ] &&
   [ "$FDS_D1" -le "$FDS_D0" ] && [ "$FDS_E1" -le "$FDS_E0" ]; then
  t_pass "soak: descriptors back to idle (-d ${FDS_D0} -> ${FDS_D1}, -e ${FDS_E0} -> ${FDS_E1})"
else t_fail "soak: descriptors leaked (-d ${FDS_D0} -> ${FDS_D1}, -e ${FDS_E0} -> ${FDS_E1})"; fi
t_alive "soak: -d still running" "$DPID"
t_alive "soak: -e still running" "$EPID"
t_exit
