#!/usr/bin/env bash
# The Raspberry Pi end: ringpiped cross-built for aarch64 (make arm64:
# Debian's gcc-aarch64-linux-gnu, the arm64 libraries from multiarch,
# CRYPTO=openssl, no -march=native), its unit tests run under
# qemu-aarch64-static, then the arm64 ringpiped and ringpipe under qemu
# against this machine's stock spiped in every role.  qemu-user has no
# io_uring, so the arm64 programs run the epoll engine, found by themselves.
# Each step's time is in its PASS line.  Skipped (PASS line) when the cross
# tools are not installed, except under CI, where ci/deps.sh installs them.
# Runs once: in the auto engine run, not under a sanitizer build.
. "$(dirname "$0")/lib.sh"

if [ -n "${SAN:-}" ] || [ "$RP_ENGINE_RUN" != auto ]; then
  t_pass "arm64 tests run once, in the auto run without sanitizers (this run: ${SAN:-no sanitizer}, $RP_ENGINE_RUN)"
  t_exit
fi
unset MAKEFLAGS MFLAGS MAKELEVEL
QEMU=qemu-aarch64-static
lacking=""
for c in aarch64-linux-gnu-gcc "$QEMU"; do command -v "$c" >/dev/null || lacking="$lacking $c"; done
for p in libssl-dev:arm64 liburing-dev:arm64 libcmocka-dev:arm64; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || lacking="$lacking $p"
done
if [ -n "$lacking" ]; then
  if [ "${CI:-}" = true ]; then
    t_fail "arm64: the cross tools are installed (ci/deps.sh installs them); lacking:$lacking"
  else
    t_pass "arm64 tests skipped: no cross tools here (lacking:$lacking; bash ci/deps.sh installs them)"
  fi
  t_exit
fi

# secs_since START: seconds since START (date +%s.%N), one decimal.
secs_since() { awk -v s="$1" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }'; }
# t_timed NAME CMD...: t_check with the time CMD took in the PASS line.
t_timed() {
  local name=$1 start rc; shift
  start=$(date +%s.%N)
  "$@" >"$T_TMP/cmd.log" 2>&1; rc=$?
  if [ $rc -eq 0 ]; then t_pass "$name ($(secs_since "$start")s)"
  else t_fail "$name (rc $rc)"; tail -n 5 "$T_TMP/cmd.log" | sed 's/^/    /'; fi
}
# Cases that check a ratio of two timings measured on the machine: qemu's
# emulation changes the ratio (e.g. SHA-256 against bignum arithmetic), so
# their outcome is reported with the figures, not judged.
EMU_TIMING_CASES="test_hs_keys:test_refused_cost"

# qemu-user runs the binaries with the arm64 loader and libraries that
# multiarch installed (/lib/ld-linux-aarch64.so.1, /usr/lib/aarch64-linux-gnu).
# Not -L /usr/aarch64-linux-gnu: that loader comes from the cross libc
# package, whose version differs from libc6:arm64's, and the pair hangs in
# the first pthread_create.
A=$BUILD-arm64
start=$(date +%s.%N)
if make --no-print-directory arm64 ARM64_BUILD="$A" >"$T_TMP/build.log" 2>&1; then
  t_pass "make arm64: cross build into $A/ ($(secs_since "$start")s)"
else
  t_fail "make arm64"; tail -n 8 "$T_TMP/build.log" | sed 's/^/    /'
  t_exit
fi
machine=$(readelf -h "$A/ringpiped" 2>/dev/null | sed -n 's/^ *Machine: *//p')
if [ "$machine" = AArch64 ] && ! readelf -d "$A/ringpiped" | grep -q IPSec_MB; then
  t_pass "$A/ringpiped is an AArch64 program without ipsec-mb (CRYPTO=openssl)"
else
  t_fail "$A/ringpiped is an AArch64 program (machine: ${machine:-none})"
fi

# The unit tests under qemu: each binary's cmocka summary.
for t in "$A"/tests/test_*; do
  name=$(basename "$t")
  start=$(date +%s.%N)
  timeout -k 5 240 "$QEMU" "$t" >"$T_TMP/$name.log" 2>&1 </dev/null
  rc=$?
  p=$(awk '/^\[  PASSED  \] [0-9]+ test/ { s += $4 } END { print s + 0 }' "$T_TMP/$name.log")
  s=$(awk '/^\[  SKIPPED \] [0-9]+ test/ { s += $4 } END { print s + 0 }' "$T_TMP/$name.log")
  f=$(awk '/^\[  FAILED  \] [0-9]+ test/ { s += $4 } END { print s + 0 }' "$T_TMP/$name.log")
  failed=$(sed -n 's/^\[  FAILED  \] \(test_[a-z0-9_]*\)$/\1/p' "$T_TMP/$name.log" | sort -u)
  timing_only=1
  for c in $failed; do
    case " $EMU_TIMING_CASES " in *" $name:$c "*) ;; *) timing_only=0 ;; esac
  done
  # A binary whose every case needs io_uring (test_bufring) skips them all
  # under qemu-user, which has no io_uring: that is a pass, saying so.
  if [ $rc -eq 0 ] && [ "$f" -eq 0 ] && [ $((p + s)) -gt 0 ]; then
    t_pass "arm64 unit $name under qemu: $p passed, $s skipped ($(secs_since "$start")s)"
  elif [ -n "$failed" ] && [ $timing_only = 1 ] && [ "$p" -gt 0 ] && [ $rc -lt 124 ]; then
    t_pass "arm64 unit $name under qemu: $p passed, $s skipped; timing-ratio case(s) $(echo $failed) not judged under emulation ($(grep -h -E '^[a-z].* us' "$T_TMP/$name.log" | head -n 1)) ($(secs_since "$start")s)"
  else
    t_fail "arm64 unit $name under qemu (rc $rc, $p passed, $f failed)"
    # Indented, so that tests/run.sh does not read these as cmocka's.
    grep -E '^\[  (FAILED|ERROR) |^\[   LINE' "$T_TMP/$name.log" | head -n 10 | sed 's/^/    /'
  fi
done

# --- Interop: the arm64 programs under qemu with x86 stock spiped.
KEY=$T_TMP/key
t_key "$KEY"
t_echo
# arm64_daemon MODE SRC TGT: the arm64 ringpiped under qemu, in the
# background, its standard error in $T_TMP/arm64.<port>.err; wait (at most
# 20 s: qemu starts slower) for its port.
arm64_daemon() {
  local mode=$1 src=$2 tgt=$3 port=${2##*:} i
  t_bg "$QEMU" "$A/ringpiped" -F "$mode" -s "$src" -t "$tgt" -k "$KEY" -n 0 \
    2>"$T_TMP/arm64.$port.err"
  for i in $(seq 1 200); do
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && return 0
    kill -0 "$T_LAST" 2>/dev/null || break
    sleep 0.1
  done
  echo "arm64 ringpiped $mode on $src did not come up" >&2
  sed 's/^/    /' "$T_TMP/arm64.$port.err" >&2
  return 1
}
# engine_line PORT: the engine the daemon on PORT said it runs.
engine_line() {
  sed -n 's/^ringpiped: [0-9]* workers, \([a-z_]*\) engine.*/\1/p' "$T_TMP/arm64.$1.err" | head -n 1
}
MB=${ARM64_MB:-16}

# arm64 ringpiped -e -> x86 stock spiped -d -> echo.
d=$(t_port); e=$(t_port)
t_daemon stock -d "$(t_addr "$d")" "$(t_addr "$ECHO_PORT")" "$KEY"
arm64_daemon -e "$(t_addr "$e")" "$(t_addr "$d")"
t_timed "arm64 ringpiped -e (qemu) -> stock spiped -d -> echo: $MB MB over 4 connections verified" \
  "$RPLOAD" echo -q -c "$(t_addr "$e")" -n 4 -b "$((MB / 4))M" --timeout 120
eng=$(engine_line "$e")
if [ "$eng" = epoll ] && grep -q 'using the epoll engine' "$T_TMP/arm64.$e.err"; then
  t_pass "arm64 ringpiped under qemu chose the epoll engine by itself: $(sed -n 's/^ringpiped: using the epoll engine: //p' "$T_TMP/arm64.$e.err" | head -n 1)"
else
  t_fail "arm64 ringpiped under qemu chose the epoll engine by itself (engine: ${eng:-none})"
  sed 's/^/    /' "$T_TMP/arm64.$e.err"
fi

# x86 stock spiped -e -> arm64 ringpiped -d -> echo.
d=$(t_port); e=$(t_port)
arm64_daemon -d "$(t_addr "$d")" "$(t_addr "$ECHO_PORT")"
t_daemon stock -e "$(t_addr "$e")" "$(t_addr "$d")" "$KEY"
t_timed "stock spiped -e -> arm64 ringpiped -d (qemu) -> echo: $MB MB over 4 connections verified" \
  "$RPLOAD" echo -q -c "$(t_addr "$e")" -n 4 -b "$((MB / 4))M" --timeout 120
# Half-close through the arm64 -d: a sink that answers only after EOF.
SINK_PORT=$(t_port)
t_bg "$RPTARGET" --auto -l "$(t_addr "$SINK_PORT")"
t_wait_port "$SINK_PORT"
d=$(t_port); e=$(t_port)
arm64_daemon -d "$(t_addr "$d")" "$(t_addr "$SINK_PORT")"
t_daemon stock -e "$(t_addr "$e")" "$(t_addr "$d")" "$KEY"
t_timed "stock spiped -e -> arm64 ringpiped -d (qemu) -> sink: half-close, the reply after EOF arrives" \
  "$RPLOAD" stream -q -c "$(t_addr "$e")" -b 4M --timeout 60
# The client: arm64 ringpipe under qemu -> stock spiped -d -> echo.
d=$(t_port)
t_daemon stock -d "$(t_addr "$d")" "$(t_addr "$ECHO_PORT")" "$KEY"
head -c $((MB * 1024 * 1024)) /dev/urandom >"$T_TMP/in"
start=$(date +%s.%N)
if timeout 120 "$QEMU" "$A/ringpipe" -t "$(t_addr "$d")" -k "$KEY" \
    <"$T_TMP/in" >"$T_TMP/out" 2>"$T_TMP/ringpipe.err" && cmp -s "$T_TMP/in" "$T_TMP/out"; then
  t_pass "arm64 ringpipe (qemu) -> stock spiped -d -> echo: $MB MB back identical, exit 0 ($(secs_since "$start")s)"
else
  t_fail "arm64 ringpipe (qemu) -> stock spiped -d -> echo"; sed 's/^/    /' "$T_TMP/ringpipe.err"
fi
t_exit
