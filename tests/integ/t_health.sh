#!/usr/bin/env bash
# /healthz and /readyz on the --metrics address (rp_ctl_health.h): /healthz
# is 200 while the process serves; /readyz is 200 while the pipe listens,
# is not draining and its target answers, else 503 naming what is not
# ready: the target (killed, then back), a target down from the start, and
# SIGTERM with --drain-delay, when /readyz turns 503 while the port still
# accepts, and the port closes only after the delay.  HEAD answers as GET;
# other paths stay 404.
. "$(dirname "$0")/lib.sh"
t_auto_run_only "/healthz and /readyz: the control plane"
if ! "$RINGPIPED_REAL" -F -d -s "$(t_addr 1)" -t "$(t_addr 1)" -k /dev/null \
    --metrics bad 2>&1 | grep -q 'Invalid metrics address'; then
  echo "this ringpiped was built without libmicrohttpd: --metrics is off"
  exit 0
fi
command -v curl >/dev/null || { echo "FAIL: no curl"; exit 1; }

KEY=$T_TMP/key
t_key "$KEY"
t_echo
ECHO_PID=$T_LAST

# code URL [CURL-FLAGS...]: the HTTP status of URL ("fail" if none).
code() {
  local u=$1; shift
  curl -s --max-time 5 -o "$T_TMP/body" -w '%{http_code}' "$@" "$u" \
    2>/dev/null || echo fail
}
# health_daemon VAR SRCPORT TARGET FLAGS...: start ringpiped -d with
# --metrics on a fresh port, which VAR is set to; wait until /healthz
# answers (stderr in $T_TMP/VAR.err).
health_daemon() {
  local var=$1 src=$2 tgt=$3 mp i; shift 3
  mp=$(t_port)
  printf -v "$var" '%s' "$mp"
  t_bg "$RINGPIPED" -F -d -s "$(t_addr "$src")" -t "$tgt" -k "$KEY" -w 2 \
    -n 0 --metrics "$(t_addr "$mp")" "$@" 2>"$T_TMP/$var.err"
  for i in $(seq 1 100); do
    [ "$(code "http://127.0.0.1:$mp/healthz")" = 200 ] && return 0
    kill -0 "$T_LAST" 2>/dev/null || break
    sleep 0.05
  done
  echo "FAIL: ringpiped --metrics $mp did not come up"
  sed 's/^/    /' "$T_TMP/$var.err"
  return 1
}
# want NAME URL STATUS [BODY-REGEX [CURL-FLAGS...]]: PASS if URL answers
# STATUS (and its body matches BODY-REGEX).
want() {
  local name=$1 url=$2 st=$3 re=${4:-} c; shift 3; [ $# -gt 0 ] && shift
  c=$(code "$url" "$@")
  if [ "$c" = "$st" ] && { [ -z "$re" ] || grep -Eq "$re" "$T_TMP/body"; }; then
    t_pass "$name"
  else
    t_fail "$name (got $c: $(head -c 200 "$T_TMP/body" 2>/dev/null))"
  fi
}
# until_status URL STATUS SECS: poll URL until it answers STATUS (every
# 0.1 s, at most SECS seconds); 0 if it did.
until_status() {
  local i
  for i in $(seq 1 $(($3 * 10))); do
    [ "$(code "$1")" = "$2" ] && return 0
    sleep 0.1
  done
  return 1
}
# poke PORT: a client with the key (ringpipe) through the -d on PORT,
# which dials its target once the handshake is done (the dial's outcome is
# what /readyz judges by); bounded.
poke() {
  echo ping | timeout -k 1 5 "$RINGPIPE" -t "$(t_addr "$1")" -k "$KEY" \
    >/dev/null 2>&1
}
# accepts PORT: whether PORT takes a TCP connection now.
accepts() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
# closed_ms PORT T0: poll PORT (every 20 ms, at most 5 s) until it refuses
# connections; print the ms from T0 (date +%s%N) to then, or nothing.
closed_ms() {
  local i
  for i in $(seq 1 250); do
    if ! accepts "$1"; then echo $(( ($(date +%s%N) - $2) / 1000000 )); return; fi
    sleep 0.02
  done
}

D=$(t_port)
health_daemon M "$D" "$(t_addr "$ECHO_PORT")" || exit 1
DPID=$T_LAST
U=http://127.0.0.1:$M

# --- The endpoints.
want "GET /healthz is 200 ok" "$U/healthz" 200 '^ok$'
want "HEAD /healthz is 200" "$U/healthz" 200 '' -I
want "GET /readyz is 200 ok with a live target (probed: no traffic yet)" \
  "$U/readyz" 200 '^ok$'
want "HEAD /readyz is 200" "$U/readyz" 200 '' -I
want "GET /metrics is still 200" "$U/metrics" 200 '^ringpiped_info'
want "GET /readyz/x is 404" "$U/readyz/x" 404 'healthz'
want "GET /health is 404" "$U/health" 404
want "POST /readyz is 405" "$U/readyz" 405 '' -X POST -d x=1

# --- The target goes down: a connection's dial fails, /readyz says so.
kill "$ECHO_PID"
for i in $(seq 1 50); do accepts "$ECHO_PORT" || break; sleep 0.05; done
poke "$D"
if until_status "$U/readyz" 503 5; then
  t_pass "/readyz turns 503 once a dial to the killed target fails"
else
  t_fail "/readyz turns 503 once a dial to the killed target fails"
fi
want "the 503 names the target and the error" "$U/readyz" 503 \
  "^not ready: target \\[127\\.0\\.0\\.1\\]:$ECHO_PORT: connect failed .*Connection refused"
want "HEAD /readyz is 503 then" "$U/readyz" 503 '' -I
want "/healthz stays 200 (the process serves)" "$U/healthz" 200 '^ok$'

# --- The target comes back on its port: a probe finds it.
t_bg "$RPTARGET" --echo -l "$(t_addr "$ECHO_PORT")"
t_wait_port "$ECHO_PORT"
t0=$(date +%s%N)
if until_status "$U/readyz" 200 5; then
  t_pass "/readyz is 200 again within $(( ($(date +%s%N) - t0) / 1000000 )) ms of the target's return"
else
  t_fail "/readyz is 200 again once the target returns"; cat "$T_TMP/body"
fi

# --- A target down from the start: the first probe fails.
DEAD=$(t_port)
D2=$(t_port)
health_daemon M2 "$D2" "$(t_addr "$DEAD")" || exit 1
want "a target down from the start: /readyz is 503 naming it" \
  "http://127.0.0.1:$M2/readyz" 503 "target \\[127\\.0\\.0\\.1\\]:$DEAD: connect failed"
kill "$T_LAST"

# --- SIGTERM with --drain-delay 2: 503 while the port still accepts, then
# the port closes, then the daemon exits.
D3=$(t_port)
health_daemon M3 "$D3" "$(t_addr "$ECHO_PORT")" --drain-delay 2 || exit 1
P3=$T_LAST
U3=http://127.0.0.1:$M3
want "before SIGTERM: /readyz 200" "$U3/readyz" 200 '^ok$'
t0=$(date +%s%N)
kill -TERM "$P3"
if until_status "$U3/readyz" 503 1; then
  t_pass "SIGTERM: /readyz is 503 within 1 s"
else
  t_fail "SIGTERM: /readyz is 503 within 1 s"
fi
grep -q 'draining (SIGTERM)' "$T_TMP/body" &&
  t_pass "the 503 says draining" || t_fail "the 503 says draining: $(cat "$T_TMP/body")"
if accepts "$D3"; then
  t_pass "while /readyz is 503 the port still accepts connections"
else
  t_fail "while /readyz is 503 the port still accepts connections"
fi
closed=$(closed_ms "$D3" "$t0")
if [ -n "$closed" ] && [ "$closed" -ge 1800 ]; then
  t_pass "the port closes after the drain delay ($closed ms after SIGTERM)"
else
  t_fail "the port closes after the drain delay (${closed:-never} ms after SIGTERM)"
fi
for i in $(seq 1 100); do kill -0 "$P3" 2>/dev/null || break; sleep 0.05; done
t_check_fails "then the daemon exits" kill -0 "$P3"
grep -q 'closes in 2 s (--drain-delay)' "$T_TMP/M3.err" &&
  t_pass "SIGTERM with a delay is logged" || t_fail "SIGTERM with a delay is logged"

# --- Without --drain-delay (stock behaviour): the port closes at once.
D4=$(t_port)
health_daemon M4 "$D4" "$(t_addr "$ECHO_PORT")" || exit 1
t0=$(date +%s%N)
kill -TERM "$T_LAST"
closed=$(closed_ms "$D4" "$t0")
if [ -n "$closed" ] && [ "$closed" -lt 1000 ]; then
  t_pass "without --drain-delay the port closes at once ($closed ms)"
else
  t_fail "without --drain-delay the port closes at once (${closed:-never} ms)"
fi
t_check_fails "--drain-delay -1 is refused" "$RINGPIPED_REAL" -F -d \
  -s "$(t_addr 1)" -t "$(t_addr 1)" -k "$KEY" --drain-delay -1
t_alive "the first daemon still serves" "$DPID"
t_exit
