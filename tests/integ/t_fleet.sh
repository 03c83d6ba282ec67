#!/usr/bin/env bash
# A fleet behind a real balancer: HAProxy (Debian's 2.6, TCP mode) in front
# of 3 ringpiped -d instances, each health-checked through GET /readyz on
# its --metrics port (inter 200ms, fall 2, rise 1), all in front of one echo
# target; a stock spiped -e in front of HAProxy carries continuous short
# connections (random bytes, echo verified) and a few long-lived paced
# transfers.  Judged:
#  (a) all three are UP in HAProxy's `show stat` and every connection
#      verifies;
#  (b) kill -9 one: once HAProxy marks it DOWN, no new connection fails;
#  (c) SIGTERM another (--drain-delay 2): /readyz is 503 while its port
#      still accepts, HAProxy marks it DOWN before the port closes, no
#      connection fails, the long-lived transfer through it completes, and
#      it exits 0;
#  (d) the last one carries every new connection.
# HAProxy has no retries and no redispatch here, so that a connection sent
# to a dead or closed instance fails and shows.  FLEET_DRAIN_DELAY=0 runs
# the instances without --drain-delay: then (c) must fail (the listener
# closes before the balancer has seen /readyz turn).
. "$(dirname "$0")/lib.sh"
t_auto_run_only "HAProxy and /readyz: the control plane and health"
if ! command -v haproxy >/dev/null 2>&1 && [ ! -x /usr/sbin/haproxy ]; then
  echo "FAIL: haproxy is not installed (ci/deps.sh installs it)"; exit 1
fi
HAPROXY=$(command -v haproxy || echo /usr/sbin/haproxy)
if ! "$RINGPIPED_REAL" -F -d -s "$(t_addr 1)" -t "$(t_addr 1)" -k /dev/null \
    --metrics bad 2>&1 | grep -q 'Invalid metrics address'; then
  echo "this ringpiped was built without libmicrohttpd: --metrics is off"
  exit 0
fi
command -v curl >/dev/null || { echo "FAIL: no curl"; exit 1; }
DELAY=${FLEET_DRAIN_DELAY:-2}
# Debian's python3 itself where it is: a version manager's shim on PATH
# (pyenv) costs about 0.4 s a start.
PY=python3
[ -x /usr/bin/python3 ] && PY=/usr/bin/python3
KEY=$T_TMP/key
t_key "$KEY"
t_echo

# now: wall-clock seconds (the clients' log uses the same clock).
now() { echo "${EPOCHREALTIME/,/.}"; }
# ms_since T: milliseconds from T (a now) to now.
ms_since() { awk -v s="$1" -v e="$(now)" 'BEGIN{printf "%d", (e - s) * 1000}'; }
# code URL: the HTTP status of URL ("fail" if none).
code() {
  curl -s --max-time 2 -o "$T_TMP/body" -w '%{http_code}' "$1" 2>/dev/null ||
    echo fail
}
# accepts PORT: whether 127.0.0.1:PORT takes a TCP connection now.
accepts() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# --- The three instances, each with its exit status in $T_TMP/dN.rc.
# inst N: start ringpiped -d number N on port D[N], metrics on M[N].
declare -A D M PID
inst() {
  local n=$1 i flags=()
  D[$n]=$(t_port); M[$n]=$(t_port)
  [ "$DELAY" != 0 ] && flags=(--drain-delay "$DELAY")
  ( "$RINGPIPED" -F -d -s "$(t_addr "${D[$n]}")" -t "$(t_addr "$ECHO_PORT")" \
      -k "$KEY" -n 0 -w 2 --metrics "$(t_addr "${M[$n]}")" "${flags[@]}" \
      2>"$T_TMP/d$n.err" &
    echo $! >"$T_TMP/d$n.pid"
    wait $!
    echo $? >"$T_TMP/d$n.rc" ) 2>/dev/null &
  for i in $(seq 100); do [ -s "$T_TMP/d$n.pid" ] && break; sleep 0.02; done
  PID[$n]=$(cat "$T_TMP/d$n.pid")
  T_PIDS+=("${PID[$n]}")
  t_wait_port "${D[$n]}" || return 1
  for i in $(seq 100); do
    [ "$(code "http://127.0.0.1:${M[$n]}/readyz")" = 200 ] && return 0
    sleep 0.05
  done
  echo "FAIL: instance $n: /readyz never 200"; sed 's/^/    /' "$T_TMP/d$n.err"
  return 1
}
for n in 1 2 3; do inst "$n" || exit 1; done

# --- HAProxy.
HP=$(t_port)
SP=$(t_port)
cat >"$T_TMP/haproxy.cfg" <<CFG
global
  stats socket ipv4@127.0.0.1:$SP level admin
  log stdout format iso local0 info
  maxconn 4000
defaults
  mode tcp
  log global
  option tcplog
  timeout connect 2s
  timeout client 30s
  timeout server 30s
  retries 0
frontend fe
  bind 127.0.0.1:$HP
  default_backend be
backend be
  balance roundrobin
  option httpchk GET /readyz
  default-server inter 200ms fall 2 rise 1
  server s1 127.0.0.1:${D[1]} check port ${M[1]}
  server s2 127.0.0.1:${D[2]} check port ${M[2]}
  server s3 127.0.0.1:${D[3]} check port ${M[3]}
CFG
# Its log (stdout) is kept, to show on failure.
t_bg "$HAPROXY" -db -f "$T_TMP/haproxy.cfg" >"$T_TMP/haproxy.log" 2>&1
t_wait_port "$HP" || { echo "FAIL: haproxy did not start"; exit 1; }

# hastat: "svname status stot scur check_status" for each server of be,
# from HAProxy's stats socket (on loopback TCP, which bash can talk to).
hastat() {
  { exec 3<>"/dev/tcp/127.0.0.1/$SP" && printf 'show stat\n' >&3 && cat <&3; } 2>/dev/null |
    awk -F, 'NR == 1 { sub(/^# /, ""); for (i = 1; i <= NF; i++) c[$i] = i; next }
      $1 == "be" && $2 != "BACKEND" && $2 != "" {
        # check_status reads "* L7OK" while a check is under way.
        st = $c["status"]; gsub(/ /, "_", st)
        ck = $c["check_status"]; sub(/^\* */, "", ck)
        print $2, st, $c["stot"], $c["scur"], (ck == "" ? "-" : ck) }'
}
# logged_down SERVER: the time (as now prints it) HAProxy logged SERVER
# DOWN last, from its log's ISO timestamps; nothing if it has not.
logged_down() {
  local ts
  ts=$(grep -a "^[0-9-]*T[^ ]* Server be/$1 is DOWN" "$T_TMP/haproxy.log" |
    tail -n 1 | cut -d' ' -f1)
  [ -n "$ts" ] && date -d "$ts" +%s.%N
}
# sv FIELD SERVER: one field (status stot scur check) of one server.
sv() {
  hastat | awk -v f="$1" -v s="$2" '$1 == s {
    print (f == "status" ? $2 : f == "stot" ? $3 : f == "scur" ? $4 : $5) }'
}
# until_status SERVER STATUS SECS: poll (every 20 ms, at most SECS s by the
# clock) until HAProxy shows SERVER in STATUS; 0 if it did.
until_status() {
  local t0; t0=$(now)
  while [ "$(ms_since "$t0")" -lt $(($3 * 1000)) ]; do
    [ "$(sv status "$1")" = "$2" ] && return 0
    sleep 0.02
  done
  return 1
}

# All three UP, their last check a good answer of /readyz (at most 5 s).
t0=$(now); up=0
while [ "$(ms_since "$t0")" -lt 5000 ]; do
  up=$(hastat | awk '$2 == "UP" && $5 == "L7OK"' | wc -l)
  [ "$up" = 3 ] && break
  sleep 0.05
done
if [ "$up" = 3 ]; then
  t_pass "(a) HAProxy shows all three instances UP, checked by GET /readyz (L7OK)"
else
  t_fail "(a) HAProxy shows all three instances UP: $(hastat | tr '\n' ';')"
  exit 1
fi

# --- The stock spiped -e in front of HAProxy.
E=$(t_port)
t_daemon stock -e "$(t_addr "$E")" "$(t_addr "$HP")" "$KEY" || exit 1

# --- The long-lived transfers: long.py PORT READY FINISH OUT: a connection
# sending 16 KiB of random bytes every 20 ms (and checking the echo as it
# comes back) until the file FINISH exists (at most 60 s), then EOF; writes
# READY once its first chunk is back; prints a JSON line to OUT.
cat >"$T_TMP/long.py" <<'PY'
import json, os, socket, sys, threading, time
port, ready, finish, out = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
res = {"ok": False, "sent": 0, "echoed": 0, "error": ""}
pending = bytearray()
lock = threading.Lock()
bad = []
def reader(s):
    try:
        while True:
            b = s.recv(65536)
            if not b:
                return
            with lock:
                if pending[:len(b)] != b:
                    bad.append("corrupt echo at byte %d" % res["echoed"])
                    return
                del pending[:len(b)]
                res["echoed"] += len(b)
            if not os.path.exists(ready):
                open(ready, "w").close()
    except OSError as e:
        bad.append("recv: %r" % e)
t0 = time.time()
try:
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.settimeout(20)
    r = threading.Thread(target=reader, args=(s,))
    r.start()
    while not os.path.exists(finish) and time.time() - t0 < 60 and not bad:
        chunk = os.urandom(16384)
        with lock:
            pending += chunk
        s.sendall(chunk)
        res["sent"] += len(chunk)
        time.sleep(0.02)
    s.shutdown(socket.SHUT_WR)
    r.join(25)
    if bad:
        res["error"] = bad[0]
    elif r.is_alive():
        res["error"] = "no EOF"
    elif res["echoed"] != res["sent"]:
        res["error"] = "short echo: %d of %d" % (res["echoed"], res["sent"])
    else:
        res["ok"] = True
except OSError as e:
    res["error"] = repr(e)
res["secs"] = round(time.time() - t0, 2)
open(out, "w").write(json.dumps(res) + "\n")
PY
# long N: start long-lived transfer N; wait (5 s) until its first echo.
long_() {
  local n=$1 i
  t_bg "$PY" "$T_TMP/long.py" "$E" "$T_TMP/long$n.ready" \
    "$T_TMP/long$n.finish" "$T_TMP/long$n.out"
  for i in $(seq 100); do [ -e "$T_TMP/long$n.ready" ] && return 0; sleep 0.05; done
  return 1
}
# Open them one by one, before the short load, until s2 and s3 each carry
# one: HAProxy's scur says which instance each went to (once the probe
# connection of t_daemon through spiped -e is gone, at most 2 s).
for i in $(seq 40); do
  [ "$(hastat | awk '{n += $4} END {print n + 0}')" = 0 ] && break
  sleep 0.05
done
declare -A ON
NLONG=0
for n in 1 2 3 4 5; do
  NLONG=$n
  before=$(hastat | awk '{print $1, $4}')
  long_ "$n" || { t_fail "long-lived transfer $n did not start"; break; }
  after=$(hastat | awk '{print $1, $4}')
  ON[$n]=$(join <(echo "$before") <(echo "$after") | awk '$3 > $2 {print $1}')
  if printf '%s\n' "${ON[@]}" | grep -qx s2 && printf '%s\n' "${ON[@]}" | grep -qx s3; then
    break
  fi
done
LONG2=""; LONG3=""
for n in "${!ON[@]}"; do
  [ "${ON[$n]}" = s2 ] && [ -z "$LONG2" ] && LONG2=$n
  [ "${ON[$n]}" = s3 ] && [ -z "$LONG3" ] && LONG3=$n
done
if [ -z "$LONG2" ] || [ -z "$LONG3" ]; then
  t_fail "a long-lived transfer through s2 and s3 each (got: $(for n in "${!ON[@]}"; do printf '%s->%s ' "$n" "${ON[$n]}"; done))"
  exit 1
fi

# --- The short connections: load.py PORT LOG STOP THREADS: each thread
# connects, sends 1-16384 random bytes, shuts its side, reads the echo to
# EOF and compares; a line per connection to LOG: "start end status size
# detail", status ok, or the failure (refused, reset, short, corrupt,
# timeout, error).  Runs until the file STOP exists (at most 90 s).
cat >"$T_TMP/load.py" <<'PY'
import os, random, socket, sys, threading, time
port, log, stop, nthr = int(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4])
out = open(log, "a", buffering=1)
lock = threading.Lock()
t_end = time.time() + 90
def one():
    size = random.randint(1, 16384)
    data = os.urandom(size)
    t0 = time.time()
    st, detail = "ok", ""
    s = socket.socket()
    s.settimeout(5)
    try:
        s.connect(("127.0.0.1", port))
        s.sendall(data)
        s.shutdown(socket.SHUT_WR)
        got = bytearray()
        while True:
            b = s.recv(65536)
            if not b:
                break
            got += b
        if bytes(got) != data:
            if len(got) < size and data.startswith(bytes(got)):
                st, detail = "short", "%d of %d" % (len(got), size)
            else:
                st, detail = "corrupt", "%d bytes back" % len(got)
    except ConnectionRefusedError as e:
        st, detail = "refused", repr(e)
    except ConnectionResetError as e:
        st, detail = "reset", repr(e)
    except socket.timeout as e:
        st, detail = "timeout", repr(e)
    except OSError as e:
        st, detail = "error", repr(e)
    finally:
        s.close()
    with lock:
        out.write("%.6f %.6f %s %d %s\n" % (t0, time.time(), st, size, detail))
def run():
    while not os.path.exists(stop) and time.time() < t_end:
        one()
ts = [threading.Thread(target=run) for _ in range(nthr)]
for t in ts: t.start()
for t in ts: t.join()
PY
# tally FROM TO [ENDED]: "N F": the connections started in [FROM, TO)
# (with ENDED, only those that ended before ENDED; with ENDED "after", only
# those that ended at TO or later) and how many failed; the first failures
# go to $T_TMP/tally.fail.
tally() {
  awk -v a="$1" -v b="$2" -v e="${3:-}" -v f="$T_TMP/tally.fail" '
    $1 >= a && $1 < b && (e == "" || (e == "after" ? $2 >= b : $2 < e)) {
      n++; if ($3 != "ok") { k++; if (k <= 5) print > f } }
    END { print n + 0, k + 0 }' "$T_TMP/load.log"
}
# judge NAME FROM TO [ENDED]: PASS if the connections tally counts number
# at least 20 and none failed (NAME gets the figures).
judge() {
  local name=$1 n f; shift
  rm -f "$T_TMP/tally.fail"
  read -r n f < <(tally "$@")
  if [ "$n" -ge 20 ] && [ "$f" = 0 ]; then
    t_pass "$name: $n connections, all verified"
  else
    t_fail "$name: $n connections, $f failed"
    sed 's/^/    /' "$T_TMP/tally.fail" 2>/dev/null
  fi
}
# stot: "server stot" lines; moved BEFORE AFTER: "s1 +N, s2 +N, s3 +N".
stot() { hastat | awk '{print $1, $3}'; }
moved() {
  join <(echo "$1") <(echo "$2") | awk '{printf "%s%s +%d", (NR > 1 ? ", " : ""), $1, $3 - $2}'
}

# --- (a) Three instances serve.  The windows of the judgements below are
# contiguous, by the time a connection started: (a) up to kill -9 (only
# those that ended before it), in flight at kill -9, kill -9 to s1 DOWN (not
# judged), (b) DOWN to SIGTERM, (c) SIGTERM to the drained instance's exit,
# (d) the rest.
st0=$(stot)
tA=$(now)
t_bg "$PY" "$T_TMP/load.py" "$E" "$T_TMP/load.log" "$T_TMP/load.stop" 3
LOADPID=$T_LAST
sleep 3
st1=$(stot)
tB=$(now)
if [ "$(join <(echo "$st0") <(echo "$st1") | awk '$3 > $2' | wc -l)" = 3 ]; then
  t_pass "(a) HAProxy sent connections to each instance ($(moved "$st0" "$st1"))"
else
  t_fail "(a) HAProxy sent connections to each instance ($(moved "$st0" "$st1"))"
fi

# --- (b) kill -9 instance 1.
kill -9 "${PID[1]}"
if until_status s1 DOWN 5; then
  # HAProxy's own time of the change, from its log; else this poll's.
  tBd=""
  for i in $(seq 20); do tBd=$(logged_down s1) && [ -n "$tBd" ] && break; sleep 0.05; done
  [ -z "$tBd" ] && tBd=$(now)
  t_pass "(b) HAProxy marks the killed instance DOWN ($(awk -v a="$tB" -v b="$tBd" 'BEGIN{printf "%d", (b - a) * 1000}') ms after kill -9)"
else
  t_fail "(b) HAProxy marks the killed instance DOWN within 5 s: $(hastat | tr '\n' ';')"
  tBd=$(now)
fi
judge "(a) three instances: connections through spiped -e -> HAProxy -> ringpiped -d" "$tA" "$tB" "$tB"
sleep 3
read -r ni fi_ < <(tally "$tA" "$tB" after)
read -r nb fb < <(tally "$tB" "$tBd")
tC=$(now)
judge "(b) after s1 is DOWN no new connection fails (not judged: in flight at kill -9 $ni, $fi_ failed; started before DOWN $nb, $fb failed)" "$tBd" "$tC"

# --- (c) SIGTERM instance 2, with a long-lived transfer through it.
# Poll /readyz and the listening port until the port refuses (at most 6 s):
# the ms after SIGTERM of the first 503 and of the port closed, and
# whether a 503 was seen while the port took connections.  HAProxy's log
# says when it marked s2 DOWN.
kill -TERM "${PID[2]}"
t503=""; tclosed=""; seen503open=0
while [ "$(ms_since "$tC")" -lt 6000 ]; do
  c=$(code "http://127.0.0.1:${M[2]}/readyz")
  if accepts "${D[2]}"; then open=1; else open=0; fi
  ms=$(ms_since "$tC")
  if [ "$c" = 503 ]; then
    [ -z "$t503" ] && t503=$ms
    [ "$open" = 1 ] && seen503open=1
  fi
  if [ "$open" = 0 ]; then tclosed=$ms; break; fi
  sleep 0.02
done
tdown=""
for i in $(seq 20); do
  [ "$(sv status s2)" = DOWN ] && t=$(logged_down s2) && [ -n "$t" ] &&
    [ "$(awk -v a="$t" -v b="$tC" 'BEGIN{print (a > b)}')" = 1 ] &&
    { tdown=$(awk -v a="$tC" -v b="$t" 'BEGIN{printf "%d", (b - a) * 1000}'); break; }
  sleep 0.1
done
echo "    after SIGTERM: /readyz 503 at ${t503:-never} ms, HAProxy s2 DOWN at ${tdown:-never} ms, port closed at ${tclosed:-never} ms"
if [ "$seen503open" = 1 ]; then
  t_pass "(c) /readyz answered 503 while the port still accepted (first 503 ${t503} ms after SIGTERM)"
else
  t_fail "(c) /readyz answered 503 while the port still accepted (503 at ${t503:-never} ms, port closed at ${tclosed:-never} ms)"
fi
if [ -n "$tdown" ] && [ -n "$tclosed" ] && [ "$tdown" -lt "$tclosed" ]; then
  t_pass "(c) HAProxy marked it DOWN ($tdown ms) before its port closed ($tclosed ms)"
else
  t_fail "(c) HAProxy marked it DOWN (${tdown:-never} ms) before its port closed (${tclosed:-never} ms)"
fi
sleep 1
# The long-lived transfer through s2 ends now, past the listener's close.
# (Every other one too but the one through s3: one whose instance went
# unseen would hold the draining one open.)
for n in $(seq "$NLONG"); do
  [ "$n" != "$LONG3" ] && touch "$T_TMP/long$n.finish"
done
for i in $(seq 200); do [ -s "$T_TMP/long$LONG2.out" ] && break; sleep 0.05; done
if grep -q '"ok": true' "$T_TMP/long$LONG2.out" 2>/dev/null; then
  t_pass "(c) the long-lived transfer through it completed intact ($(
    "$PY" -c 'import json,sys; d=json.load(open(sys.argv[1])); print("%d bytes echoed over %.1f s" % (d["echoed"], d["secs"]))' \
    "$T_TMP/long$LONG2.out"))"
else
  t_fail "(c) the long-lived transfer through it completed intact: $(cat "$T_TMP/long$LONG2.out" 2>/dev/null || echo 'no result')"
fi
for i in $(seq 100); do [ -s "$T_TMP/d2.rc" ] && break; sleep 0.05; done
rc=$(cat "$T_TMP/d2.rc" 2>/dev/null || echo running)
if [ "$rc" = 0 ] && ! grep -q 'Sanitizer' "$T_TMP/d2.err"; then
  t_pass "(c) the drained instance exits 0 after its last connection"
else
  t_fail "(c) the drained instance exits 0 after its last connection (status $rc)"
  tail -n 5 "$T_TMP/d2.err" | sed 's/^/    /'
fi
st2=$(stot)
tD=$(now)
judge "(c) from SIGTERM to exit no connection fails" "$tC" "$tD"

# --- (d) The last instance carries everything.
sleep 3
st3=$(stot)
touch "$T_TMP/load.stop"
for i in $(seq 140); do kill -0 "$LOADPID" 2>/dev/null || break; sleep 0.05; done
judge "(d) one instance left: connections" "$tD" "$(now)"
if join <(echo "$st2") <(echo "$st3") |
    awk '$1 != "s3" && $3 != $2 {bad = 1} $1 == "s3" && $3 - $2 < 20 {bad = 1} END {exit bad}'; then
  t_pass "(d) HAProxy sent every new connection to the last instance ($(moved "$st2" "$st3"))"
else
  t_fail "(d) HAProxy sent every new connection to the last instance ($(moved "$st2" "$st3"))"
fi
if [ "$(code "http://127.0.0.1:${M[3]}/readyz")" = 200 ] && [ "$(sv status s3)" = UP ]; then
  t_pass "(d) the last instance is ready and UP"
else
  t_fail "(d) the last instance is ready and UP: $(sv status s3) $(cat "$T_TMP/body")"
fi
touch "$T_TMP/long$LONG3.finish"
for i in $(seq 200); do [ -s "$T_TMP/long$LONG3.out" ] && break; sleep 0.05; done
if grep -q '"ok": true' "$T_TMP/long$LONG3.out" 2>/dev/null; then
  t_pass "(d) the long-lived transfer through it ran through it all intact"
else
  t_fail "(d) the long-lived transfer through it ran through it all intact: $(cat "$T_TMP/long$LONG3.out" 2>/dev/null || echo 'no result')"
fi
echo "    short connections in all: $(wc -l <"$T_TMP/load.log"), $(awk '$3 != "ok"' "$T_TMP/load.log" | wc -l) failed"
if [ "$T_FAILS" -gt 0 ]; then
  echo "    HAProxy's log, server changes:"
  grep -a '^[0-9-]*T.* Server be/' "$T_TMP/haproxy.log" | tail -n 10 | sed 's/^/    /'
fi
t_exit
