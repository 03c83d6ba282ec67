#!/usr/bin/env bash
# Run unit-test binaries (cmocka) and integration scripts; print one line per
# case and finish with "N passed, M failed".  Exit non-zero on any failure.
#
# A cmocka binary counts each of its test cases.  An integration script may
# print lines "PASS: name" / "FAIL: name", each counted as a case; a script
# that prints none counts as one case judged by its exit status.
# Each program is bounded by TEST_TIMEOUT seconds (default 300).
#
# RUN_ENGINES (default "auto") lists the engine runs of the integration
# scripts; each script runs once per entry with RP_ENGINE_RUN set to it
# (tests/integ/lib.sh): "auto" as the programs are, "epoll" with every
# ringpiped/ringpipe under tests/helpers/rp-nouring (io_uring blocked, as in
# a container).  With more than one run, or another run than auto, each
# script's name carries its run ("io_uring/t_interop.sh",
# "epoll/t_interop.sh"; the auto run is named io_uring when the kernel lets
# this process use io_uring, else auto).  Unit tests run once, first.  The
# final line counts every case of every run.
set -u
export BUILD="${BUILD:-build}"
TIMEOUT="${TEST_TIMEOUT:-300}"
read -r -a engines <<<"${RUN_ENGINES:-auto}"
passed=0
failed=0
failures=()
declare -A run_passed=() run_failed=()
logdir=$(mktemp -d /tmp/rp-test.XXXXXX)

# What the auto run will use here: io_uring if io_uring_setup is not
# refused (a bad argument gives EFAULT/EINVAL; a block gives EPERM, ENOSYS...).
auto_label() {
  python3 - <<'PY' 2>/dev/null || echo auto
import ctypes, errno
libc = ctypes.CDLL(None, use_errno=True)
r = libc.syscall(425, 0, None)
e = ctypes.get_errno()
print("io_uring" if r == -1 and e in (errno.EFAULT, errno.EINVAL) else "auto")
PY
}

units=(); scripts=()
for t in "$@"; do
  if [[ "$t" == *.sh ]]; then scripts+=("$t"); else units+=("$t"); fi
done
# The order of the runs: the unit tests, then every script per engine.
jobs=()
for t in "${units[@]}"; do jobs+=("-|$t"); done
for e in "${engines[@]}"; do
  for t in "${scripts[@]}"; do jobs+=("$e|$t"); done
done
prefix_runs=0
if [ ${#engines[@]} -gt 1 ] || [ "${engines[0]}" != auto ]; then
  prefix_runs=1
  AUTO_LABEL=$(auto_label)
fi

for job in "${jobs[@]}"; do
  engine=${job%%|*}
  t=${job#*|}
  name=$(basename "$t")
  label=$engine
  [ "$engine" = auto ] && label=${AUTO_LABEL:-auto}
  [ "$engine" != - ] && [ $prefix_runs = 1 ] && name="$label/$name"
  log="$logdir/${name//\//_}.log"
  start=$(date +%s.%N)
  if [[ "$t" == *.sh ]]; then
    RP_ENGINE_RUN=$engine timeout -k 10 "$TIMEOUT" bash "$t" >"$log" 2>&1 </dev/null
  else
    timeout -k 10 "$TIMEOUT" "$t" >"$log" 2>&1 </dev/null
  fi
  rc=$?
  secs=$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN{printf "%.1f", e-s}')
  p=0; f=0
  if grep -q '^\[==========\]' "$log"; then
    # cmocka summary lines.
    p=$(awk '/^\[  PASSED  \] [0-9]+ test/{s+=$4} END{print s+0}' "$log")
    f=$(awk '/^\[  FAILED  \] [0-9]+ test/{s+=$4} END{print s+0}' "$log")
    grep -E '^\[  (ERROR|FAILED) \] [a-z_]' "$log" | sed "s|^|  $name: |"
  elif grep -qE '^(PASS|FAIL): ' "$log"; then
    p=$(grep -c '^PASS: ' "$log")
    f=$(grep -c '^FAIL: ' "$log")
    grep -E '^(PASS|FAIL): ' "$log" | sed "s|^|  $name: |"
  elif [ $rc -eq 0 ]; then
    p=1
  fi
  if [ $rc -ne 0 ] && [ "$f" -eq 0 ]; then
    f=1  # crashed, timed out or failed without saying which case
  fi
  passed=$((passed + p)); failed=$((failed + f))
  if [ "$engine" != - ]; then
    run_passed[$label]=$(( ${run_passed[$label]:-0} + p ))
    run_failed[$label]=$(( ${run_failed[$label]:-0} + f ))
  fi
  if [ $rc -eq 0 ] && [ "$f" -eq 0 ]; then
    echo "ok   $name ($p cases, ${secs}s)"
  else
    echo "FAIL $name (rc=$rc, $p passed, $f failed, ${secs}s) -- last lines:"
    tail -n 25 "$log" | sed 's/^/    | /'
    failures+=("$name")
  fi
done
rm -rf "$logdir"
[ ${#failures[@]} -gt 0 ] && echo "failed: ${failures[*]}"
if [ $prefix_runs = 1 ]; then
  for e in "${engines[@]}"; do
    label=$e; [ "$e" = auto ] && label=$AUTO_LABEL
    echo "$label run: ${run_passed[$label]:-0} passed, ${run_failed[$label]:-0} failed"
  done
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
