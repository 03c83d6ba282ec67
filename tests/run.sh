#!/usr/bin/env bash
# Run unit-test binaries (cmocka) and integration scripts; print one line per
# case and finish with "N passed, M failed".  Exit non-zero on any failure.
#
# A cmocka binary counts each of its test cases.  An integration script may
# print lines "PASS: name" / "FAIL: name", each counted as a case; a script
# that prints none counts as one case judged by its exit status.
# Each program is bounded by TEST_TIMEOUT seconds (default 300).
set -u
export BUILD="${BUILD:-build}"
TIMEOUT="${TEST_TIMEOUT:-300}"
passed=0
failed=0
failures=()
logdir=$(mktemp -d /tmp/rp-test.XXXXXX)
for t in "$@"; do
  name=$(basename "$t")
  log="$logdir/$name.log"
  start=$(date +%s.%N)
  if [[ "$t" == *.sh ]]; then
    timeout -k 10 "$TIMEOUT" bash "$t" >"$log" 2>&1 </dev/null
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
    grep -E '^\[  (ERROR|FAILED) \] [a-z_]' "$log" | sed "s/^/  $name: /"
  elif grep -qE '^(PASS|FAIL): ' "$log"; then
    p=$(grep -c '^PASS: ' "$log")
    f=$(grep -c '^FAIL: ' "$log")
    grep -E '^(PASS|FAIL): ' "$log" | sed "s/^/  $name: /"
  elif [ $rc -eq 0 ]; then
    p=1
  fi
  if [ $rc -ne 0 ] && [ "$f" -eq 0 ]; then
    f=1  # crashed, timed out or failed without saying which case
  fi
  passed=$((passed + p)); failed=$((failed + f))
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
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
