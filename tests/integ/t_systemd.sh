#!/usr/bin/env bash
# systemd: socket activation (-s systemd:NAME takes the socket that
# systemd-socket-activate, from Debian's systemd package, passes in:
# LISTEN_FDS/LISTEN_FDNAMES) serves verified round trips to stock spiped
# clients, also daemonized; readiness (Type=notify): a NOTIFY_SOCKET
# listener (notify_listener.py) sees READY=1 once the daemon serves,
# RELOADING=1 (with MONOTONIC_USEC) then READY=1 around each SIGHUP, a
# failed one too, and STOPPING=1 on SIGTERM, with no READY=1 after it;
# the same for a configuration file (-c, as ringpiped-config.service runs
# it), one of whose pipes takes the socket systemd passed in.
. "$(dirname "$0")/lib.sh"
t_auto_run_only "sd_notify and the units: the process"
KEY=$T_TMP/key
t_key "$KEY"
t_echo
ECHO=$(t_addr "$ECHO_PORT")
SSA=$(command -v systemd-socket-activate)
if [ -z "$SSA" ]; then
  t_fail "systemd-socket-activate (Debian's systemd package) is installed"
  t_exit
fi

via() { t_check "$1" "$RPLOAD" echo -q -c "$(t_addr "$2")" -b 1M --timeout 20; }
# activate LOG SPEC NAMES RINGPIPED-ARGS...: systemd-socket-activate
# listening on 127.0.0.1:PORT for each PORT in SPEC (space-separated),
# passing them in as NAMES (colon-separated), exec'ing ringpiped with the
# args on the first connection; pid in T_LAST.  The child's environment
# is only what systemd-socket-activate sets, plus NOTIFY_SOCKET if set.
activate() {
  local log=$1 ports=$2 names=$3 p ls=(); shift 3
  for p in $ports; do ls+=(-l "127.0.0.1:$p"); done
  [ -n "${NOTIFY_SOCKET:-}" ] && ls+=(-E NOTIFY_SOCKET)
  t_bg "$SSA" "${ls[@]}" --fdname="$names" "$RINGPIPED" "$@" 2>"$log"
}

# --- Socket activation: one socket, by name.
P=$(t_port); E=$(t_port)
activate "$T_TMP/a1.log" "$P" web -F -d -s systemd:web -t "$ECHO" -k "$KEY" -n 0
t_wait_port "$P"    # systemd-socket-activate listens; this connect starts ringpiped
t_daemon stock -e "$(t_addr "$E")" "$(t_addr "$P")" "$KEY"
via "-s systemd:web: stock -e -> socket-activated ringpiped -d, 1 MiB verified" "$E"
head -c 65536 /dev/urandom > "$T_TMP/in"
if timeout 10 "$SPIPE" -t "$(t_addr "$P")" -k "$KEY" < "$T_TMP/in" \
    > "$T_TMP/out" && cmp -s "$T_TMP/in" "$T_TMP/out"; then
  t_pass "-s systemd:web: spipe round trip, byte-exact"
else
  t_fail "-s systemd:web: spipe round trip, byte-exact"
fi
grep -q "Execing" "$T_TMP/a1.log" && ! grep -q "ringpiped:.*rror" "$T_TMP/a1.log" &&
  t_pass "ringpiped was exec'd by systemd-socket-activate with the socket" ||
  t_fail "ringpiped was exec'd by systemd-socket-activate with the socket"

# --- Two sockets: systemd:b takes the second, systemd: the first.
P1=$(t_port); P2=$(t_port); E=$(t_port)
activate "$T_TMP/a2.log" "$P1 $P2" a:b -F -d -s systemd:b -t "$ECHO" -k "$KEY" -n 0
t_wait_port "$P1"
t_daemon stock -e "$(t_addr "$E")" "$(t_addr "$P2")" "$KEY"
via "two sockets passed in (a, b): -s systemd:b serves the second" "$E"
P3=$(t_port); P4=$(t_port); E=$(t_port)
activate "$T_TMP/a3.log" "$P3 $P4" a:b -F -d -s systemd: -t "$ECHO" -k "$KEY" -n 0
t_wait_port "$P3"
t_daemon stock -e "$(t_addr "$E")" "$(t_addr "$P3")" "$KEY"
via "two sockets passed in (a, b): -s systemd: serves the first" "$E"

# --- Daemonized (no -F): the socket is taken before the fork.
P=$(t_port); E=$(t_port)
activate "$T_TMP/a4.log" "$P" web -d -s systemd:web -t "$ECHO" -k "$KEY" -n 0 \
  -p "$T_TMP/d.pid"
A4=$T_LAST
t_wait_port "$P"
for i in $(seq 1 100); do [ -s "$T_TMP/d.pid" ] && break; sleep 0.05; done
[ -s "$T_TMP/d.pid" ] && T_PIDS+=("$(cat "$T_TMP/d.pid")")
t_daemon stock -e "$(t_addr "$E")" "$(t_addr "$P")" "$KEY"
via "daemonized under socket activation: served" "$E"
t_wait_gone "$A4" && t_pass "daemonized: the process systemd started exits once the daemon serves" ||
  t_fail "daemonized: the process systemd started exits once the daemon serves"

# --- Errors: a name not passed in, and no socket passed in at all.
P=$(t_port)
activate "$T_TMP/a5.log" "$P" web -F -d -s systemd:nope -t "$ECHO" -k "$KEY"
A5=$T_LAST
t_wait_port "$P"
if t_wait_gone "$A5" && grep -q "systemd:nope: systemd passed in no socket of that name (1 passed in: web)" "$T_TMP/a5.log"; then
  t_pass "-s systemd:nope: exits, naming what was passed in"
else
  t_fail "-s systemd:nope: exits, naming what was passed in"
  tail -n 3 "$T_TMP/a5.log" | sed 's/^/    /'
fi
if timeout 5 "$RINGPIPED" -F -d -s systemd:web -t "$ECHO" -k "$KEY" \
    2>"$T_TMP/a6.log"; then
  t_fail "-s systemd:web without socket activation fails"
else
  grep -q "no socket of that name (0 passed in)" "$T_TMP/a6.log" &&
    t_pass "-s systemd:web without socket activation fails, saying 0 were passed in" ||
    t_fail "-s systemd:web without socket activation fails, saying 0 were passed in"
fi

# --- Readiness: READY=1, RELOADING=1/READY=1 around SIGHUP, STOPPING=1.
NS=$T_TMP/notify.sock NOUT=$T_TMP/notify.out
: > "$NOUT"
t_bg python3 "$ROOT/tests/integ/notify_listener.py" "$NS" "$NOUT" --lifetime 120
for i in $(seq 1 100); do [ -S "$NS" ] && break; sleep 0.05; done
D=$(t_port); E=$(t_port)
cp "$KEY" "$T_TMP/slot"
NOTIFY_SOCKET=$NS t_bg "$RINGPIPED" -F -d -s "$(t_addr "$D")" -t "$ECHO" \
  -k "$T_TMP/slot" -n 0 2>"$T_TMP/n.log"
DP=$T_LAST
if t_wait_log "$NOUT" "^READY=1$" 1 && (exec 3<>"/dev/tcp/127.0.0.1/$D") 2>/dev/null; then
  t_pass "READY=1, and the port accepts at once"
else
  t_fail "READY=1, and the port accepts at once"
fi
[ "$(head -n 1 "$NOUT")" = "READY=1" ] && t_pass "READY=1 is the first notification" ||
  t_fail "READY=1 is the first notification ($(head -n 1 "$NOUT"))"
t_daemon stock -e "$(t_addr "$E")" "$(t_addr "$D")" "$KEY"
via "the notifying daemon serves" "$E"
kill -HUP "$DP"
t_wait_log "$NOUT" "^READY=1$" 2
if sed -n 2p "$NOUT" | grep -qE "^RELOADING=1 MONOTONIC_USEC=[0-9]+$" &&
    [ "$(sed -n 3p "$NOUT")" = "READY=1" ]; then
  t_pass "SIGHUP: RELOADING=1 (MONOTONIC_USEC) then READY=1"
else
  t_fail "SIGHUP: RELOADING=1 (MONOTONIC_USEC) then READY=1"; sed 's/^/    /' "$NOUT"
fi
rm "$T_TMP/slot"
kill -HUP "$DP"
t_wait_log "$NOUT" "^READY=1$" 3
if sed -n 4p "$NOUT" | grep -q "^RELOADING=1 " && [ "$(sed -n 5p "$NOUT")" = "READY=1" ] &&
    grep -q "Reload failed" "$T_TMP/n.log"; then
  t_pass "a failed reload: RELOADING=1 then READY=1 too (the old keys serve on)"
else
  t_fail "a failed reload: RELOADING=1 then READY=1 too"; sed 's/^/    /' "$NOUT"
fi
via "after the failed reload: still serves" "$E"
kill -TERM "$DP"
t_wait_log "$NOUT" "^STOPPING=1$" 1
if t_wait_gone "$DP" && [ "$(tail -n 1 "$NOUT")" = "STOPPING=1" ] &&
    [ "$(wc -l < "$NOUT")" -eq 6 ]; then
  t_pass "SIGTERM: STOPPING=1, the last notification, and the daemon exits"
else
  t_fail "SIGTERM: STOPPING=1, the last notification, and the daemon exits"; sed 's/^/    /' "$NOUT"
fi

# --- Both at once, as a Type=notify unit with a .socket would run it.
: > "$NOUT"
P=$(t_port); E=$(t_port)
NOTIFY_SOCKET=$NS activate "$T_TMP/a7.log" "$P" web -F -d -s systemd:web \
  -t "$ECHO" -k "$KEY" -n 0
t_wait_port "$P"
t_wait_log "$NOUT" "^READY=1$" 1 && t_pass "socket-activated and notifying: READY=1" ||
  t_fail "socket-activated and notifying: READY=1"
t_daemon stock -e "$(t_addr "$E")" "$(t_addr "$P")" "$KEY"
via "socket-activated and notifying: served" "$E"

# --- A configuration file (ringpiped-config.service's -c mode): one pipe
# on a socket systemd passes in (source = systemd:web), one on its own;
# READY=1 once both serve, RELOADING=1/READY=1 around a SIGHUP, a reload
# that would add a pipe on a socket from systemd refused (it cannot be
# passed in after start) with READY=1 all the same, and STOPPING=1.
: > "$NOUT"
P=$(t_port); P2=$(t_port); E=$(t_port); E2=$(t_port)
CF=$T_TMP/pipes.conf
cat >"$CF" <<CONF
[global]
workers = 1

[web]
mode = decrypt
source = systemd:web
target = $ECHO
key = $KEY

[other]
mode = decrypt
source = $(t_addr "$P2")
target = $ECHO
key = $KEY
CONF
NOTIFY_SOCKET=$NS activate "$T_TMP/a8.log" "$P" web -c "$CF" -F
CP=$T_LAST    # systemd-socket-activate, which execs ringpiped
t_wait_port "$P"
if t_wait_log "$NOUT" "^READY=1$" 1 && t_wait_port "$P2" &&
    [ "$(head -n 1 "$NOUT")" = "READY=1" ]; then
  t_pass "-c: socket-activated and notifying, READY=1 first, both pipes listen"
else
  t_fail "-c: socket-activated and notifying, READY=1 first"; sed 's/^/    /' "$NOUT" "$T_TMP/a8.log"
fi
t_daemon stock -e "$(t_addr "$E")" "$(t_addr "$P")" "$KEY"
t_daemon stock -e "$(t_addr "$E2")" "$(t_addr "$P2")" "$KEY"
via "-c: the pipe on the socket from systemd (source = systemd:web) serves" "$E"
via "-c: the pipe on a socket of its own serves" "$E2"
kill -HUP "$CP"
t_wait_log "$NOUT" "^READY=1$" 2
if sed -n 2p "$NOUT" | grep -qE "^RELOADING=1 MONOTONIC_USEC=[0-9]+$" &&
    [ "$(sed -n 3p "$NOUT")" = "READY=1" ] &&
    grep -q "Reloaded $CF: 2 pipes unchanged" "$T_TMP/a8.log"; then
  t_pass "-c: SIGHUP (ExecReload): RELOADING=1 then READY=1, the file re-read"
else
  t_fail "-c: SIGHUP: RELOADING=1 then READY=1"; sed 's/^/    /' "$NOUT"
fi
printf '\n[late]\nmode = decrypt\nsource = systemd:late\ntarget = %s\nkey = %s\n' \
  "$ECHO" "$KEY" >>"$CF"
kill -HUP "$CP"
t_wait_log "$NOUT" "^READY=1$" 3
if [ "$(sed -n 5p "$NOUT")" = "READY=1" ] &&
    grep -q "$CF:[0-9]*: a reload cannot take a socket from systemd (systemd:late)" "$T_TMP/a8.log" &&
    grep -q "Reload failed ($CF): nothing changed" "$T_TMP/a8.log"; then
  t_pass "-c: a reload adding a pipe on a socket from systemd is refused, naming the line; READY=1 after it"
else
  t_fail "-c: a reload adding a pipe on a socket from systemd is refused"; tail -n 4 "$T_TMP/a8.log" | sed 's/^/    /'
fi
via "-c: after the refused reload, the pipe on the socket from systemd still serves" "$E"
kill -TERM "$CP"
t_wait_log "$NOUT" "^STOPPING=1$" 1
if t_wait_gone "$CP" && [ "$(tail -n 1 "$NOUT")" = "STOPPING=1" ]; then
  t_pass "-c: SIGTERM: STOPPING=1, and the daemon exits"
else
  t_fail "-c: SIGTERM: STOPPING=1, and the daemon exits"; sed 's/^/    /' "$NOUT"
fi
t_exit
