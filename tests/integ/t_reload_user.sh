#!/usr/bin/env bash
# Key reload under -u.  Keys are first read as root; SIGHUP reads them again
# as the -u user.  With a root-only key file the daemon warns at start that
# reloads will fail, and each failed reload is an error-level line and a
# metrics counter (ringpiped_reloads_total{result="failed"}), while the old
# key keeps serving.  With the key readable by the user's group (root:GROUP
# 0640, as the README says) a rotated key takes effect on SIGHUP and counts
# as result="ok".  Clients are stock spiped -e.
. "$(dirname "$0")/lib.sh"
t_auto_run_only "reload after -u: the control plane"
if [ "$(id -u)" != 0 ] || ! id nobody >/dev/null 2>&1; then
  t_fail "runs as root with a user nobody (needed for -u)"
  t_exit
fi
t_echo
ECHO=$(t_addr "$ECHO_PORT")
# nobody must reach the key files: a directory of their own, traversable.
KD=$T_TMP/keys
mkdir "$KD"
chmod 0711 "$T_TMP" "$KD"
t_key "$T_TMP/A"; t_key "$T_TMP/B"
A=$T_TMP/A B=$T_TMP/B
NOGROUP=$(id -gn nobody)

via() { t_check "$1" "$RPLOAD" echo -q -c "$(t_addr "$2")" -b 256K --timeout 20; }
novia() { t_check_fails "$1" "$RPLOAD" echo -q -c "$(t_addr "$2")" -b 16K --timeout 3; }
# reloads URL RESULT: the value of ringpiped_reloads_total{result=RESULT}.
reloads() {
  curl -fsS "$1/metrics" 2>/dev/null |
    awk -v r="$2" '$1 == "ringpiped_reloads_total{result=\"" r "\"}" {print $2}'
}
# wait_reloads URL RESULT N: wait (at most 5 s) until the counter is N.
wait_reloads() {
  local i
  for i in $(seq 1 100); do
    [ "$(reloads "$1" "$2")" = "$3" ] && return 0
    sleep 0.05
  done
  return 1
}

# start NAME KEYFILE: a -d as -u nobody with KEYFILE and --metrics; sets
# PORT, PID, LOG, URL, and a stock -e with key A (EA) and with key B (EB).
start() {
  PORT=$(t_port); local m; m=$(t_port)
  LOG=$T_TMP/$1.log; URL="http://127.0.0.1:$m"
  t_bg "$RINGPIPED" -F -d -s "$(t_addr "$PORT")" -t "$ECHO" -k "$2" -n 0 \
    -u nobody --metrics "$(t_addr "$m")" 2>"$LOG"
  PID=$T_LAST
  t_wait_port "$PORT"
  t_wait_port "$m"
  EA=$(t_port); EB=$(t_port)
  t_daemon stock -e "$(t_addr "$EA")" "$(t_addr "$PORT")" "$A"
  t_daemon stock -e "$(t_addr "$EB")" "$(t_addr "$PORT")" "$B"
}

# --- A root-only key file: warned at start, reloads fail loudly.
install -m 0600 -o root -g root "$A" "$KD/rootonly.key"
start rootonly "$KD/rootonly.key"
t_check "root-only key under -u: a warning at start names the file" \
  grep -q "WARNING: key file $KD/rootonly.key cannot be opened as -u nobody" "$LOG"
via "root-only key: key A served (read as root at start)" "$EA"
install -m 0600 -o root -g root "$B" "$KD/rootonly.key"
kill -HUP "$PID"
t_check "SIGHUP: the failed reload is an error-level line" \
  t_wait_log "$LOG" "error: Reload failed (a key file)" 1
t_check "SIGHUP: the failure is counted (reloads_total{result=\"failed\"} 1)" \
  wait_reloads "$URL" failed 1
t_check "... and none counted ok" test "$(reloads "$URL" ok)" = 0
via "after the failed reload: key A still served" "$EA"
novia "after the failed reload: key B refused" "$EB"

# --- The key readable by the user's group: no warning, rotation works.
install -m 0640 -o root -g "$NOGROUP" "$A" "$KD/group.key"
start group "$KD/group.key"
t_check_fails "root:$NOGROUP 0640 key under -u nobody: no warning" \
  grep -q "WARNING: key file" "$LOG"
via "group-readable key: key A served" "$EA"
install -m 0640 -o root -g "$NOGROUP" "$B" "$KD/group.key.new"
mv "$KD/group.key.new" "$KD/group.key"
kill -HUP "$PID"
t_check "SIGHUP as nobody: reloaded" t_wait_log "$LOG" "Reloaded:" 1
t_check "the reload is counted (reloads_total{result=\"ok\"} 1)" \
  wait_reloads "$URL" ok 1
via "after the reload: key B served" "$EB"
novia "after the reload: key A refused" "$EA"
t_exit
