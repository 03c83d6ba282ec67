#!/usr/bin/env bash
# layers.sh LIB...: the layers' static libraries, from the top down (as
# make layers passes them).  For each library print what it takes from the
# libraries below it, as "librp_A.a -> librp_B.a: symbols", and fail on a
# symbol it takes from itself-or-above: a call against the direction
# programs -> process -> control -> ring -> proto -> crypto (base, the log
# and fatal-error reporting, is below them all).
set -euo pipefail
libs=("$@")
declare -A owner rank
for i in "${!libs[@]}"; do
  rank[${libs[$i]}]=$i
  while read -r sym; do
    owner[$sym]=${libs[$i]}
  done < <(nm -g --defined-only "${libs[$i]}" 2>/dev/null |
           awk 'NF == 3 && $2 ~ /[TDBRVWC]/ {print $3}' | sort -u)
done
bad=0
for lib in "${libs[@]}"; do
  declare -A takes=()
  while read -r sym; do
    o=${owner[$sym]:-}
    [ -z "$o" ] && continue           # libc, OpenSSL, liburing, ...
    [ "$o" = "$lib" ] && continue     # within the layer
    if [ "${rank[$o]}" -lt "${rank[$lib]}" ]; then
      echo "layers: $(basename "$lib") calls $sym in $(basename "$o"), a layer above it" >&2
      bad=1
    fi
    takes[$o]+=" $sym"
  done < <(nm -u "$lib" | awk '$1 == "U" {print $2}' | sort -u)
  for o in "${libs[@]}"; do
    [ -n "${takes[$o]:-}" ] || continue
    echo "$(basename "$lib") -> $(basename "$o"):${takes[$o]}"
  done
  unset takes
done
exit $bad
