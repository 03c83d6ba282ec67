#!/usr/bin/env bash
# The metrics firehose: a real carbon-cache (Debian's graphite-carbon, in
# the foreground from a temporary config on test ports, its whisper files
# in $T_TMP) behind -e -> -d, with ringpiped at either end and stock spiped
# at the other, and ringpiped at both.  Through each pair, 50 concurrent
# senders (tests/integ/graphite_load.py), all connected at once, write one
# "metric value timestamp" line per write with TCP_NODELAY, as collectd and
# statsd do: 8000 datapoints, every metric and timestamp distinct.  The
# senders connect 5 ms apart: stock spiped listens with a backlog of 10,
# and a burst of 50 connects overflows it and has connections reset (seen
# here: up to 38 of 50).  Three more runs connect all 50 in one burst:
# ringpiped -e -> ringpiped -d (backlog 4096) must still carry every
# datapoint; with stock at either end the line only reports what happened.  Every datapoint
# must arrive with its value: counted from the whisper files (whisper.fetch),
# not from our logs.  The schema keeps every point (1 s resolution over 2 h;
# the timestamps are an hour old at most), and carbon may create and update
# without limit, so a missing point can only have been lost on the way.
. "$(dirname "$0")/lib.sh"

PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
LOAD="$ROOT/tests/integ/graphite_load.py"
SENDERS=50 METRICS=4 POINTS=40
if ! command -v carbon-cache >/dev/null || ! "$PY" -c 'import whisper' 2>/dev/null; then
  t_fail "carbon-cache and python3-whisper are installed (ci/deps.sh)"
  t_exit
fi
KEY=$T_TMP/key
t_key "$KEY"

# A carbon-cache of our own: every directory under $T_TMP/carbon, test
# ports on 127.0.0.1 only, no rate limits (the defaults cap creates at 50
# a minute, which would leave points in the cache), sparse files.
C=$T_TMP/carbon
mkdir -p "$C/conf" "$C/storage/whisper" "$C/storage/lists" "$C/log"
LINE_PORT=$(t_port) PICKLE_PORT=$(t_port) QUERY_PORT=$(t_port)
cat >"$C/conf/carbon.conf" <<EOF
[cache]
STORAGE_DIR = $C/storage/
LOCAL_DATA_DIR = $C/storage/whisper/
WHITELISTS_DIR = $C/storage/lists/
CONF_DIR = $C/conf/
LOG_DIR = $C/log/
PID_DIR = $C/
USER =
DATABASE = whisper
MAX_CACHE_SIZE = inf
MAX_UPDATES_PER_SECOND = inf
MAX_CREATES_PER_MINUTE = inf
LINE_RECEIVER_INTERFACE = 127.0.0.1
LINE_RECEIVER_PORT = $LINE_PORT
ENABLE_UDP_LISTENER = False
PICKLE_RECEIVER_INTERFACE = 127.0.0.1
PICKLE_RECEIVER_PORT = $PICKLE_PORT
CACHE_QUERY_INTERFACE = 127.0.0.1
CACHE_QUERY_PORT = $QUERY_PORT
USE_FLOW_CONTROL = True
LOG_UPDATES = False
LOG_CREATES = False
WHISPER_AUTOFLUSH = False
WHISPER_SPARSE_CREATE = True
WHISPER_FALLOCATE_CREATE = False
ENABLE_TAGS = False
EOF
cat >"$C/conf/storage-schemas.conf" <<EOF
[everything]
pattern = .*
retentions = 1s:2h
EOF
# --debug: foreground, log to stdout.  It does not fork, so the pid t_bg
# keeps is carbon's own and the cleanup kills it (no timeout wrapper: one
# killed with SIGKILL would leave carbon running).
t_bg carbon-cache --config="$C/conf/carbon.conf" --pidfile="$C/carbon.pid" \
  --debug start >"$C/log/stdout" 2>&1
CARBON_PID=$T_LAST
for i in $(seq 1 200); do
  (exec 3<>"/dev/tcp/127.0.0.1/$LINE_PORT") 2>/dev/null && break
  sleep 0.05
done
if ! (exec 3<>"/dev/tcp/127.0.0.1/$LINE_PORT") 2>/dev/null; then
  t_fail "carbon-cache listens on $LINE_PORT"
  tail -n 10 "$C/log/stdout" | sed 's/^/    /'
  t_exit
fi
t_pass "carbon-cache started in the foreground on test port $LINE_PORT"

# The timestamps: an hour ago onwards, inside the 2 h retention.
BASE=$(( $(date +%s) - 3600 ))

# pair EKIND DKIND [burst|burst-ref]: 50 senders -> EKIND -e -> DKIND -d ->
# carbon; every datapoint counted from the whisper files.  burst: all
# connects at once; burst-ref: the same, only reported.
pair() {
  local ek=$1 dk=$2 mode=${3:-} e d prefix t0 secs out gap=0.005 what=
  e=$(t_port) d=$(t_port)
  prefix="rp_${ek}_${dk}${mode:+_${mode//-/_}}"
  if [ -n "$mode" ]; then gap=0; what=", all 50 connects in one burst"; fi
  [ "$mode" = burst-ref ] && what="$what, reference (not required)"
  t_daemon "$dk" -d "$(t_addr "$d")" "$(t_addr "$LINE_PORT")" "$KEY" || {
    t_fail "$ek -e -> $dk -d: daemons start"; return; }
  t_daemon "$ek" -e "$(t_addr "$e")" "$(t_addr "$d")" "$KEY" || {
    t_fail "$ek -e -> $dk -d: daemons start"; return; }
  t0=$(date +%s.%N)
  out=$(timeout -k 2 60 "$PY" "$LOAD" send --addr "127.0.0.1:$e" \
    --prefix "$prefix" --senders $SENDERS --metrics $METRICS \
    --points $POINTS --base "$BASE" --connect-gap $gap 2>&1)
  local src=$? wait=20 counted rc
  # Once a sender has failed, some points are surely missing: wait less.
  [ $src -eq 0 ] || wait=3
  counted=$(timeout -k 2 60 "$PY" "$LOAD" count --dir "$C/storage/whisper" \
    --prefix "$prefix" --senders $SENDERS --metrics $METRICS \
    --points $POINTS --base "$BASE" --wait $wait 2>&1)
  rc=$?
  out="$counted; $out"
  secs=$(awk -v s="$t0" -v e="$(date +%s.%N)" 'BEGIN{printf "%.1f", e-s}')
  local name="$ek -e -> $dk -d$what: every line written, every datapoint in whisper with its value"
  if [ "$mode" = burst-ref ]; then
    t_pass "$name: $out; ${secs} s"
  elif [ $src -eq 0 ] && [ $rc -eq 0 ]; then
    t_pass "$name ($out; ${secs} s from the first connect to the last point on disk)"
  else
    t_fail "$name ($out; after ${secs} s)"
    tail -n 5 "$C/log/stdout" | sed 's/^/    /'
  fi
}

started=$(date +%s.%N)
pair ring stock
pair stock ring
pair ring ring
pair ring ring burst
pair ring stock burst-ref
pair stock ring burst-ref
t_alive "carbon-cache still running" "$CARBON_PID"
t_pass "timing: $(awk -v s="$started" -v e="$(date +%s.%N)" \
  'BEGIN{printf "%.1f", e-s}') s for 6 runs of $SENDERS senders, $((6 * SENDERS * METRICS * POINTS)) datapoints"
t_exit
