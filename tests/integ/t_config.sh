#!/usr/bin/env bash
# ringpiped -c FILE: many pipes from one configuration file.
#  - a bad file is refused at start with the file, the line and the reason,
#    and nothing listens: an unknown key, a key in the wrong section, a
#    pipe without target, a pipe name given twice, two pipes on one source,
#    an unreadable key file, a bad value, a malformed line; -c with another
#    option;
#  - a good file: one process serves three pipes (an -e and two -d) against
#    stock spiped, on one set of workers; metrics label each pipe
#    (promtool-clean); /readyz names the pipe that is not ready;
#  - SIGHUP: a file that fails to parse changes nothing (logged as an
#    error); adding, removing and changing pipes takes effect, a
#    connection of an unchanged pipe carries on;
#  - the sandbox: a reload naming a key in a directory outside those of
#    the start-up files is refused by the kernel, changing nothing, and
#    the allowed paths still reload.
. "$(dirname "$0")/lib.sh"
t_auto_run_only "the configuration file: the control plane"

CONF=$T_TMP/etc
OTHER=$T_TMP/other
mkdir -p "$CONF" "$OTHER"
t_key "$CONF/k1"
t_key "$CONF/k2"
t_key "$OTHER/k3"
t_echo

# refused NAME FILE LINE PATTERN: PASS if ringpiped -c FILE exits 1 at once,
# says FILE:LINE: and PATTERN, and the port of FILE's first pipe is not
# listening.
refused() {
  local name=$1 file=$2 line=$3 pat=$4 rc
  timeout -k 1 10 "$RINGPIPED" -F -c "$file" >"$T_TMP/r.out" 2>&1
  rc=$?
  if [ "$rc" = 1 ] && grep -q "$file:$line: .*$pat" "$T_TMP/r.out" &&
     ! (exec 3<>"/dev/tcp/127.0.0.1/$GOODPORT") 2>/dev/null; then
    t_pass "$name: refused, naming line $line ($(grep -m1 "$file:$line" \
      "$T_TMP/r.out" | sed 's/^ringpiped: //'))"
  else
    t_fail "$name (rc $rc)"; sed 's/^/    /' "$T_TMP/r.out"
  fi
}

GOODPORT=$(t_port)
# pipe NAME PORT [KEY] [TARGET]: a -d pipe section.
pipe() {
  printf '[%s]\nmode = decrypt\nsource = [127.0.0.1]:%s\n' "$1" "$2"
  printf 'target = %s\nkey = %s\n\n' "${4:-[127.0.0.1]:$ECHO_PORT}" \
    "${3:-$CONF/k1}"
}

F=$T_TMP/bad.conf
{ echo "[global]"; echo "workers = 1"; echo; pipe a "$GOODPORT"; \
  echo "[b]"; echo "mode = decrypt"; echo "sourc = [127.0.0.1]:1"; } >"$F"
refused "unknown key" "$F" 12 "unknown key: sourc"

{ pipe a "$GOODPORT"; echo "[b]"; echo "workers = 2"; } >"$F"
refused "a [global] key in a pipe" "$F" 8 "workers belongs in \[global\]"

{ echo "[global]"; echo "target = [127.0.0.1]:1"; pipe a "$GOODPORT"; } >"$F"
refused "a pipe key in [global]" "$F" 2 "target belongs in a pipe"

{ pipe a "$GOODPORT"; echo "[b]"; echo "mode = decrypt"; \
  echo "source = [127.0.0.1]:$(t_port)"; echo "key = $CONF/k1"; } >"$F"
refused "missing target" "$F" 7 "no target"

{ pipe a "$GOODPORT"; pipe a "$(t_port)"; } >"$F"
refused "duplicate pipe name" "$F" 7 "pipe \[a\] defined twice (first on line 1)"

{ pipe a "$GOODPORT"; pipe b "$GOODPORT"; } >"$F"
refused "two pipes on one source" "$F" 9 "source .* is pipe \[a\]'s too"

{ pipe a "$GOODPORT"; pipe b "$(t_port)" "$CONF/nokey"; } >"$F"
refused "unreadable key" "$F" 11 "cannot read key file $CONF/nokey of pipe \[b\]"

{ pipe a "$GOODPORT"; echo "[b]"; echo "max-connections = many"; } >"$F"
refused "a bad value" "$F" 8 "bad value for max-connections: many"

{ pipe a "$GOODPORT"; echo "[b]"; echo "no-pfs = perhaps"; } >"$F"
refused "a bad yes/no" "$F" 8 "bad value for no-pfs: perhaps (yes or no)"

{ pipe a "$GOODPORT"; echo "[b"; } >"$F"
refused "a malformed line" "$F" 7 "bad section line"

{ pipe a "$GOODPORT"; echo "[b]"; echo "mode = decrypt"; echo "mode = encrypt"; } >"$F"
refused "mode given twice" "$F" 9 "option given more than once: mode"

if timeout 5 "$RINGPIPED" -c "$F" -d >"$T_TMP/r.out" 2>&1; then
  t_fail "-c with -d is refused"
else
  grep -q -- '-c takes no other option but -F: -d' "$T_TMP/r.out" &&
    t_pass "-c with -d is refused" || { t_fail "-c with -d is refused"; cat "$T_TMP/r.out"; }
fi

# --- A good file: an -e and two -d, stock spiped at the other ends.
PE=$(t_port) PD1=$GOODPORT PD2=$(t_port) SD=$(t_port) SE=$(t_port)
SE2=$(t_port) MP=$(t_port)
# Stock -d behind our -e pipe; stock -e in front of each of our -d pipes.
t_daemon stock -d "$(t_addr "$SD")" "$(t_addr "$ECHO_PORT")" "$CONF/k2"
t_daemon stock -e "$(t_addr "$SE")" "$(t_addr "$PD1")" "$CONF/k1"
t_daemon stock -e "$(t_addr "$SE2")" "$(t_addr "$PD2")" "$CONF/k2"
G=$CONF/gateway.conf
cat >"$G" <<CONF
# A gateway of three pipes.
[global]
workers = 2                         # -w
metrics = [127.0.0.1]:$MP           ; --metrics

[out]
mode = encrypt
source = [127.0.0.1]:$PE
target = [127.0.0.1]:$SD
key = $CONF/k2
max-connections = 50

$(pipe in1 "$PD1")
$(pipe in2 "$PD2" "$CONF/k2")
CONF
t_bg "$RINGPIPED" -F -c "$G" 2>"$T_TMP/g.err"
GPID=$T_LAST
if t_wait_port "$PE" && t_wait_port "$PD2" && t_wait_log "$T_TMP/g.err" 'pipe \[in2\]' 1; then
  t_pass "one process serves the three pipes of the file"
else
  t_fail "one process serves the three pipes of the file"; cat "$T_TMP/g.err"; t_exit
fi
# load NAME PORT: 4 echo connections of 2 MB through PORT, verified.
load() {
  if timeout -k 2 60 "$RPLOAD" echo -q -c "127.0.0.1:$2" -n 4 -b 2000000 \
      >"$T_TMP/load.out" 2>&1 && grep -q '"ok":true' "$T_TMP/load.out"; then
    t_pass "$1"
  else
    t_fail "$1"; tail -n 3 "$T_TMP/load.out" | sed 's/^/    /'
  fi
}
load "pipe out (-e) to stock -d: bytes verified" "$PE"
load "pipe in1 (-d) from stock -e: bytes verified" "$SE"
load "pipe in2 (-d, another key) from stock -e: bytes verified" "$SE2"
nthr=$(ls "/proc/$GPID/task" | wc -l)
nw=$(cat "/proc/$GPID/task/"*/comm | grep -c rp-worker)
[ "$nw" = 2 ] && t_pass "one set of workers for the three pipes (2 rp-worker threads, $nthr threads in all)" ||
  t_fail "one set of workers ($nw rp-worker threads)"
# metric FILE SERIES: the value of SERIES (name and labels) in FILE, or -1.
metric() {
  awk -v s="$2" '$1 == s { print $2; f = 1 } END { if (!f) print -1 }' "$1"
}
curl -s "127.0.0.1:$MP/metrics" >"$T_TMP/m.txt"
hs_out=$(metric "$T_TMP/m.txt" 'ringpiped_handshakes_ok_total{pipe="out"}')
hs_in2=$(metric "$T_TMP/m.txt" 'ringpiped_handshakes_ok_total{pipe="in2"}')
eof_in1=$(metric "$T_TMP/m.txt" 'ringpiped_connections_closed_total{pipe="in1",reason="eof"}')
if [ "$hs_out" -ge 4 ] && [ "$hs_in2" -ge 4 ] && [ "$eof_in1" -ge 4 ]; then
  t_pass "metrics label each pipe (pipe=\"NAME\"): handshakes out $hs_out, in2 $hs_in2; in1 closed at eof $eof_in1"
else
  t_fail "metrics label each pipe ($hs_out $hs_in2 $eof_in1)"; grep accepted "$T_TMP/m.txt"
fi
if command -v promtool >/dev/null; then
  t_check "promtool check metrics accepts the labelled scrape" \
    sh -c "promtool check metrics <'$T_TMP/m.txt'"
fi
[ "$(curl -s "127.0.0.1:$MP/readyz")" = ok ] && t_pass "/readyz: ok with every pipe ready" ||
  t_fail "/readyz: ok with every pipe ready"

# --- SIGHUP with a file that does not parse: nothing changes.
cp "$G" "$T_TMP/g.good"
echo "bogus line" >>"$G"
kill -HUP "$GPID"
t_wait_log "$T_TMP/g.err" "error: Reload failed ($G): nothing changed" 1 &&
  grep -q "$G:[0-9]*: bad line" "$T_TMP/g.err" &&
  t_pass "a reload of a bad file is an error naming the line, and changes nothing" ||
  t_fail "a reload of a bad file is an error"
load "after the failed reload, pipe in1 still serves" "$SE"

# --- SIGHUP: in2 removed, in3 added, out's key and target changed, in1
# unchanged with a connection open through it.
SD3=$(t_port) PD3=$(t_port) SE3=$(t_port)
t_daemon stock -d "$(t_addr "$SD3")" "$(t_addr "$ECHO_PORT")" "$CONF/k1"
t_daemon stock -e "$(t_addr "$SE3")" "$(t_addr "$PD3")" "$CONF/k1"
( timeout -k 2 60 "$RPLOAD" echo -q -c "127.0.0.1:$SE" -n 2 -t 4 \
    >"$T_TMP/long.out" 2>&1; echo $? >"$T_TMP/long.rc" ) &
T_PIDS+=("$!")
sleep 1
cat >"$G" <<CONF
[global]
workers = 2
metrics = [127.0.0.1]:$MP

[out]
mode = encrypt
source = [127.0.0.1]:$PE
target = [127.0.0.1]:$SD3
key = $CONF/k1
max-connections = 50

$(pipe in1 "$PD1")
$(pipe in3 "$PD3")
CONF
kill -HUP "$GPID"
if t_wait_log "$T_TMP/g.err" "Reloaded $G: 1 pipe unchanged (keys read again), 1 changed, 1 added, 1 removed" 1; then
  t_pass "reload: 1 unchanged, 1 changed, 1 added, 1 removed"
else
  t_fail "reload: 1 unchanged, 1 changed, 1 added, 1 removed"; tail -n 8 "$T_TMP/g.err"
fi
load "the added pipe in3 serves" "$SE3"
load "the changed pipe out serves with its new key and target" "$PE"
for i in $(seq 1 40); do (exec 3<>"/dev/tcp/127.0.0.1/$PD2") 2>/dev/null || break; sleep 0.1; done
(exec 3<>"/dev/tcp/127.0.0.1/$PD2") 2>/dev/null && t_fail "the removed pipe in2 stopped listening" ||
  t_pass "the removed pipe in2 stopped listening"
for i in $(seq 1 200); do [ -s "$T_TMP/long.rc" ] && break; sleep 0.05; done
[ "$(cat "$T_TMP/long.rc" 2>/dev/null)" = 0 ] && grep -q '"ok":true' "$T_TMP/long.out" &&
  t_pass "a connection of the unchanged pipe in1 carried on through the reload, every byte intact" ||
  { t_fail "the connection of in1 carried on"; cat "$T_TMP/long.out"; }
curl -s "127.0.0.1:$MP/metrics" >"$T_TMP/m2.txt"
hs_out2=$(metric "$T_TMP/m2.txt" 'ringpiped_handshakes_ok_total{pipe="out"}')
if [ "$hs_out2" -ge $((hs_out + 4)) ] && ! grep -q 'pipe="in2"' "$T_TMP/m2.txt" &&
   grep -q 'pipe="in3"' "$T_TMP/m2.txt"; then
  t_pass "metrics: the changed pipe's counters go on ($hs_out -> $hs_out2 handshakes); the removed one is gone; the added one is there"
else
  t_fail "metrics after the reload ($hs_out -> $hs_out2)"; grep handshakes_ok "$T_TMP/m2.txt"
fi

# --- /readyz names a pipe that is not ready.
cat >>"$G" <<CONF

[dead]
mode = decrypt
source = [127.0.0.1]:$(t_port)
target = [127.0.0.1]:$(t_port)
key = $CONF/k1
CONF
kill -HUP "$GPID"
t_wait_log "$T_TMP/g.err" "pipe \[dead\] added" 1
r=$(curl -s -w ' %{http_code}' "127.0.0.1:$MP/readyz")
case "$r" in
  *"pipe dead: target"*503) t_pass "/readyz is 503 naming the pipe whose target is down";;
  *) t_fail "/readyz names the pipe that is not ready: $r";;
esac

# --- The sandbox: a key in a directory outside the start-up set.
if grep -q 'sandbox: landlock' "$T_TMP/g.err"; then
  sed -i "s|key = $CONF/k1|key = $OTHER/k3|" "$G"
  kill -HUP "$GPID"
  if t_wait_log "$T_TMP/g.err" "Reload failed ($G): nothing changed" 2 &&
     grep -q "$OTHER/k3.*sandbox" "$T_TMP/g.err"; then
    t_pass "a reload naming a key outside the allowed directories is refused by the sandbox, and changes nothing"
  else
    t_fail "a reload naming a key outside the sandbox is refused"; tail -n 6 "$T_TMP/g.err"
  fi
  load "after the refused reload, in1 still serves" "$SE"
  # A rotation in the allowed directory still reloads.
  sed -i "s|key = $OTHER/k3|key = $CONF/k1|" "$G"
  t_key "$CONF/k1.new"; mv "$CONF/k1.new" "$CONF/k1"
  kill -HUP "$GPID"
  t_wait_log "$T_TMP/g.err" "Reloaded $G" 3 &&
    t_pass "a key rotated in an allowed directory reloads inside the sandbox" ||
    { t_fail "a rotation in an allowed directory reloads"; tail -n 4 "$T_TMP/g.err"; }
else
  echo "Landlock unavailable: $(grep -o 'sandbox: [^;]*' "$T_TMP/g.err")"
fi

# --- SIGTERM: every pipe drains and the process exits 0.
kill -TERM "$GPID"
if t_wait_gone "$GPID"; then
  wait "$GPID" 2>/dev/null; t_pass "SIGTERM: the process exits"
else
  t_fail "SIGTERM: the process exits"
fi
t_exit
