#!/usr/bin/env bash
# SIGHUP reloads (stock spiped 1.6.2 exits on SIGHUP: checked as a
# reference): the key files are read again and the target resolved again,
# and new connections use them; connections in flight carry on byte-exact;
# a reload that fails (a key file missing or unreadable, the target not
# resolving) changes nothing, not even the parts that did read, and says
# why.  The clients are stock spiped -e.  The test runs in a mount
# namespace whose /etc/hosts it rewrites (t_private_names), and the
# re-resolution case uses -R, so that only SIGHUP resolves again.
. "$(dirname "$0")/lib.sh"
t_auto_run_only "reload: the control plane"
t_private_names "$@"
for k in A B C; do t_key "$T_TMP/$k"; done
A=$T_TMP/A B=$T_TMP/B C=$T_TMP/C
t_echo
ECHO=$(t_addr "$ECHO_PORT")

via() { t_check "$1" "$RPLOAD" echo -q -c "$(t_addr "$2")" -b 1M --timeout 20; }
novia() { t_check_fails "$1" "$RPLOAD" echo -q -c "$(t_addr "$2")" -b 64k --timeout 3; }
# hup NAME PID LOG N: SIGHUP PID; PASS once LOG says "Reloaded:" N times
# and PID is alive.
hup() {
  kill -HUP "$2"
  if t_wait_log "$3" "Reloaded:" "$4" && kill -0 "$2" 2>/dev/null; then
    t_pass "$1"
  else
    t_fail "$1"
  fi
}

# --- Stock spiped dies on SIGHUP (the reference).
S=$(t_port)
t_daemon stock -d "$(t_addr "$S")" "$ECHO" "$A"
SP=$T_LAST
kill -HUP "$SP"; sleep 0.5
if kill -0 "$SP" 2>/dev/null; then
  t_fail "reference: stock spiped 1.6.2 exits on SIGHUP (it did not)"
else
  t_pass "reference: stock spiped 1.6.2 exits on SIGHUP"
fi

# --- ringpiped -d -k slot1 -k slot2; stock -e clients with A and with B.
cp "$A" "$T_TMP/slot1"; cp "$A" "$T_TMP/slot2"
D=$(t_port); EA=$(t_port); EB=$(t_port)
LOG=$T_TMP/d.log
t_bg "$RINGPIPED" -F -d -s "$(t_addr "$D")" -t "$ECHO" -k "$T_TMP/slot1" \
  -k "$T_TMP/slot2" -n 0 2>"$LOG"
DP=$T_LAST
t_wait_port "$D"
t_daemon stock -e "$(t_addr "$EA")" "$(t_addr "$D")" "$A"
t_daemon stock -e "$(t_addr "$EB")" "$(t_addr "$D")" "$B"
via "before: key A served" "$EA"
novia "before: key B refused" "$EB"

# Two connections stream through key A for 8 s while the keys rotate
# under them: B added, then A dropped.
t_healthy_start reload "$(t_addr "$EA")" 8
sleep 1
cp "$B" "$T_TMP/slot2"
hup "SIGHUP with slot2 = B: reloaded, daemon alive" "$DP" "$LOG" 1
grep -q "^ringpiped: Reloaded: 2 keys" "$LOG" && t_pass "the log says: Reloaded: 2 keys" \
  || t_fail "the log says: Reloaded: 2 keys"
via "after adding B: key B served" "$EB"
via "after adding B: key A still served" "$EA"
cp "$B" "$T_TMP/slot1"
hup "SIGHUP with slot1 = B (A dropped): reloaded" "$DP" "$LOG" 2
via "after dropping A: key B served" "$EB"
novia "after dropping A: key A refused" "$EA"
for i in 1 2 3; do kill -HUP "$DP"; sleep 0.2; done
t_wait_log "$LOG" "Reloaded:" 3 || true
t_healthy_check reload

# --- Failed reloads change nothing: slot2 missing, then a directory.
rm "$T_TMP/slot2"
kill -HUP "$DP"
t_wait_log "$LOG" "Reload failed (a key file)" 1 &&
  grep -q "slot2" "$LOG" && t_pass "a missing key file: reload failed, the log says which file and why" ||
  t_fail "a missing key file: reload failed, the log says which file and why"
via "after the failed reload: key B still served" "$EB"
novia "after the failed reload: key A still refused" "$EA"
mkdir "$T_TMP/slot2"
kill -HUP "$DP"
t_wait_log "$LOG" "Reload failed (a key file)" 2 &&
  t_pass "a key file that cannot be read (a directory): reload failed" ||
  t_fail "a key file that cannot be read (a directory): reload failed"
via "after the second failed reload: key B still served" "$EB"
t_alive "ringpiped -d alive after the failed reloads" "$DP"
tail -n 8 "$LOG" | sed 's/^/    log: /'

# --- ringpiped -e switches its key on SIGHUP (the -e step of a rotation):
# its target is a stock -d with key B.
DSB=$(t_port)
t_daemon stock -d "$(t_addr "$DSB")" "$ECHO" "$B"
cp "$A" "$T_TMP/eslot"
E=$(t_port); ELOG=$T_TMP/e.log
t_bg "$RINGPIPED" -F -e -s "$(t_addr "$E")" -t "$(t_addr "$DSB")" \
  -k "$T_TMP/eslot" -n 0 2>"$ELOG"
EP=$T_LAST
t_wait_port "$E"
novia "ringpiped -e with key A refused by a stock -d with B" "$E"
cp "$B" "$T_TMP/eslot"
hup "ringpiped -e: SIGHUP with its key file now B" "$EP" "$ELOG" 1
via "ringpiped -e now uses B: served by the stock -d with B" "$E"

# --- The target is resolved again on SIGHUP (and only then, with -R).
t_hosts "127.0.0.1 localhost" "127.0.0.2 rptarget.test"
TP=$(t_port)
t_bg "$RPTARGET" --echo -l "[127.0.0.2]:$TP"
ECHO1=$T_LAST
t_bg "$RPTARGET" --echo -l "[127.0.0.3]:$TP"
ECHO2=$T_LAST
cp "$A" "$T_TMP/rslot"
R=$(t_port); RE=$(t_port); RLOG=$T_TMP/r.log
t_bg "$RINGPIPED" -F -d -R -s "$(t_addr "$R")" -t "rptarget.test:$TP" \
  -k "$T_TMP/rslot" -n 0 2>"$RLOG"
RP=$T_LAST
t_wait_port "$R"
t_daemon stock -e "$(t_addr "$RE")" "$(t_addr "$R")" "$A"
via "-t rptarget.test (127.0.0.2) served" "$RE"
# Stop the 127.0.0.2 echo and move the name: nothing follows without SIGHUP.
kill -9 "$ECHO1" 2>/dev/null
t_hosts "127.0.0.1 localhost" "127.0.0.3 rptarget.test"
novia "rptarget.test moved to 127.0.0.3, no SIGHUP (-R): still dialled at 127.0.0.2, refused" "$RE"
hup "SIGHUP: reloaded" "$RP" "$RLOG" 1
via "after SIGHUP: rptarget.test dialled at 127.0.0.3, served" "$RE"

# A reload whose look-up fails keeps everything, even the key that read.
cp "$B" "$T_TMP/rslot"
t_hosts "127.0.0.1 localhost"
kill -HUP "$RP"
t_wait_log "$RLOG" "Reload failed (cannot resolve rptarget.test:$TP)" 1 &&
  t_pass "the target no longer resolves: reload failed, the log says so" ||
  t_fail "the target no longer resolves: reload failed, the log says so"
via "after the failed look-up: the old address and the old key A still serve" "$RE"
t_alive "127.0.0.3 echo alive" "$ECHO2"
t_exit
