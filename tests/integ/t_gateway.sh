#!/usr/bin/env bash
# One process against many (issue 20): 20 pipes from one configuration file
# (ringpiped -c, mode encrypt) against 20 command-line ringpiped -e daemons
# doing the same work, both with the default workers (one per CPU).  Pipe i
# of either side goes to the same stock spiped -d number i (its own key),
# and all 20 stock -d go to one echo target; 20 rp-load clients (one per
# pipe, echo mode: every byte that comes back is verified) load all pipes at
# once.  The two sides take turns (A/B/A/B..., GW_ROUNDS rounds each, never
# loaded at the same time: the side that waits carries nothing, and its CPU
# time over the other's round is printed to show it idles).  Judged:
#  (a) every pipe of every round verifies its bytes;
#  (b) the one process has at most CPUs + 6 threads (/proc/PID/task,
#      sampled during the load); the 20 daemons' total is printed;
#  (c) its peak private memory (RssAnon, sampled every 100 ms during the
#      load, as t_memory and bench/compare.py sample it) is below the sum
#      of the 20 daemons' peaks;
#  (d) the median of its aggregate throughput (verified echo bytes of the
#      20 pipes over the round's time) is at least GW_TPUT_MIN (0.85) of the
#      20 daemons' median, over 5 rounds each.  The issue asks for 1.0;
#      on the shared 2-CPU machines the medians of 3 rounds measured
#      0.73-1.08, and of 5 rounds 0.87-1.07 (median 1.0 over seven runs,
#      with the one process's -e side 4-13% less CPU), so the bar here
#      catches a real loss without failing CI on noise; the ratio is
#      printed.
#
# Which side limits, and why the comparison is fair: on this 2-CPU machine
# nothing has a core to itself; the clients, the echo target, the 20 stock
# -d and the -e side share both cores, so the aggregate is set by the CPU
# time each byte costs all of them together, and by how the scheduler
# shares the cores out.  Stock spiped costs about 3x ringpiped's CPU per GB
# (bench/README.md): the stock -d side takes the largest share (about 2x
# the -e side's CPU seconds; the figures are printed) and bounds the
# aggregate.  Everything but the -e side is the same processes doing the
# same work in both configurations, so any difference is the -e side's:
# its CPU per byte (printed as s per GB echoed), its scheduling (40 worker
# threads against 2) and the buffer memory it lets each connection have.
# The -e side, the peers and the clients each run in a session of their own
# (in_session below), so that the cores are shared between them as between
# hosts, not thread by thread.  The stock share dilutes the -e side's
# difference (a -e side 10% dearer shows as a few % less aggregate), which
# is why the bar has no more tolerance than the noise of a shared machine
# needs; a ringpiped -d side would dilute less but would not be the stock
# peer the issue names.
#
# Reload under load: while all 20 pipes of the file carry long echo
# transfers at full speed, the file is rewritten to add a pipe (its own
# stock -d), remove one and change the key and target of one (to a new
# stock -d holding only the new key), then SIGHUP.  Judged: the log counts
# 18 unchanged, 1 changed, 1 added, 1 removed while every transfer is still
# in flight; the 18 unchanged pipes' transfers lose no byte (ok, no reset);
# the removed pipe stops listening and its in-flight transfer drains and
# completes; the changed pipe's in-flight transfer completes (old key, old
# target) and new connections through it work (only the new key and target
# can take them); the added pipe serves; the metrics label the added pipe
# and no longer the removed one once it has drained.
#
# GW_TPUT_MIN, GW_THREAD_SLACK and GW_ANON_MAX (the fraction of the sum the
# one process may reach, default 1) set the bars, to check that each
# judgement can fail; GW_ROUNDS, GW_SECS, GW_CONNS (connections per pipe)
# and GW_LONG (seconds of the reload transfers) the work; GW_GLOBAL adds
# lines to the file's [global] (e.g. 'buffer-memory = 8192\n').  Under a
# sanitizer build the memory and throughput figures are printed, not
# judged.
. "$(dirname "$0")/lib.sh"
t_auto_run_only "one process against many: the control plane and the set of workers; the data path of each engine is judged by the other suites"
NP=20
NCPU=$(nproc)
ROUNDS=${GW_ROUNDS:-5}
SECS=${GW_SECS:-3}
CONNS=${GW_CONNS:-1}
LONG=${GW_LONG:-8}
TPUT_MIN=${GW_TPUT_MIN:-0.85}
THREAD_SLACK=${GW_THREAD_SLACK:-6}
ANON_MAX=${GW_ANON_MAX:-1}
SANBUILD=${SAN:-}
case "$BUILD" in *asan*) SANBUILD=${SANBUILD:-asan};; *tsan*) SANBUILD=${SANBUILD:-tsan};; esac
# Debian's python3 itself where it is (a version manager's shim costs about
# 0.4 s a start).
PY=python3
[ -x /usr/bin/python3 ] && PY=/usr/bin/python3
# ports N: N free loopback ports at once (t_port's python start, through a
# version manager's shim, costs up to 0.4 s each on a loaded machine: 64 of
# them were a quarter of the test); recorded as t_port records them.
ports() {
  "$PY" - "$1" "$T_TMP/ports" <<'PY'
import socket, sys
n, seen = int(sys.argv[1]), set()
try:
    seen = set(open(sys.argv[2]).read().split())
except OSError:
    pass
socks, out = [], []
while len(out) < n:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    socks.append(s)
    p = str(s.getsockname()[1])
    if p not in seen:
        seen.add(p); out.append(p)
open(sys.argv[2], "a").write("".join(p + "\n" for p in out))
print(" ".join(out))
PY
}
# stamp WHAT: the seconds since the start, for the log.
stamp() { echo "    [${SECONDS}s] $*"; }
t_nofile_atleast 4096 || { t_fail "RLIMIT_NOFILE allows 4096 descriptors"; t_exit; }

# judge NAME OK FIGURES: PASS/FAIL on OK (0 = within the bar), or printed
# only under a sanitizer build.
judge() {
  if [ -n "$SANBUILD" ]; then t_pass "documented ($SANBUILD build, not judged): $1: $3"
  elif [ "$2" = 0 ]; then t_pass "$1: $3"
  else t_fail "$1: $3"; fi
}

# The sampler: until STOP exists (at most MAXSECS), every 100 ms, the
# RssAnon and thread count of each pid of the group "e"; at the start and
# the end, the CPU time (utime + stime) of each group; both read as
# bench/compare.py reads them (its functions).  Writes one JSON
# object to OUT; READY once the start has been read.
cat >"$T_TMP/sample.py" <<'PY'
import json, os, sys, time
out, ready, stop, maxsecs, bench = sys.argv[1:6]
sys.dont_write_bytecode = True
sys.path.insert(0, bench)
from compare import proc_cpu, rss_anon as anon
groups = {}
for g in sys.argv[6:]:
    name, _, pids = g.partition(":")
    groups[name] = [int(p) for p in pids.split(",") if p]
def cpu(pid):
    try:
        return proc_cpu(pid)
    except OSError:
        return 0.0
def threads(pid):
    try:
        return len(os.listdir("/proc/%d/task" % pid))
    except OSError:
        return 0
c0 = {g: sum(cpu(p) for p in ps) for g, ps in groups.items()}
open(ready, "w").write("ok\n")
peak_a = {p: 0 for p in groups.get("e", [])}
peak_t = dict(peak_a)
end = time.monotonic() + float(maxsecs)
n = 0
while time.monotonic() < end:
    for p in peak_a:
        peak_a[p] = max(peak_a[p], anon(p))
        peak_t[p] = max(peak_t[p], threads(p))
    n += 1
    if os.path.exists(stop):
        break
    time.sleep(0.1)
c1 = {g: sum(cpu(p) for p in ps) for g, ps in groups.items()}
json.dump({"anon": peak_a, "threads": peak_t, "samples": n,
           "cpu": {g: c1[g] - c0[g] for g in groups}}, open(out, "w"))
PY

# The figures of one round from the 20 clients' JSON: "OK NP MBPS MB BAD..." where
# OK is the number of pipes that verified (ok, bytes back, exit 0) and MBPS
# the verified echo bytes of all 20 over the longest client's time, MB those
# bytes.
cat >"$T_TMP/round.py" <<'PY'
import json, sys
d = sys.argv[1]; n = int(sys.argv[2])
ok = 0; rx = 0; el = 0.0; bad = []; els = []
for i in range(1, n + 1):
    try:
        rc = open("%s/%02d.rc" % (d, i)).read().strip()
        j = json.loads(open("%s/%02d.out" % (d, i)).read())
    except (OSError, ValueError):
        bad.append("p%02d(no result)" % i); continue
    rx += j.get("rx_bytes", 0)
    el = max(el, j.get("elapsed_s", 0.0)); els.append(j.get("elapsed_s", 0.0))
    if rc == "0" and j.get("ok") and j.get("rx_bytes", 0) > 0:
        ok += 1
    else:
        bad.append("p%02d(rc %s, %d errors)" % (i, rc, j.get("errors", -1)))
print(ok, n, "%.1f" % (rx / el / 1e6 if el > 0 else 0.0), "%.1f" % (rx / 1e6),
      "%.1f-%.1f" % (min(els or [0]), el), " ".join(bad))
PY

KEYS=$T_TMP/keys
mkdir -p "$KEYS"
for i in $(seq -w 1 $((NP + 1))); do t_key "$KEYS/k$i"; done
t_key "$KEYS/knew"

# Every port: SD[1..20] the stock -d, CP[1..20] the 20 daemons, GP[1..21]
# the file's pipes, MP its metrics, SDN and SD21 the stock -d of the
# changed and the added pipe, ECHO_PORT the echo target, CM[1..20] the 20
# daemons' metrics.
read -r -a PORTS <<<"$(ports $((4 * NP + 5)))"
[ ${#PORTS[@]} = $((4 * NP + 5)) ] || { t_fail "free ports"; t_exit; }
declare -a SD GP CP CM CPID SDPID
for i in $(seq 1 "$NP"); do
  SD[i]=${PORTS[i - 1]}; CP[i]=${PORTS[NP + i - 1]}; GP[i]=${PORTS[2 * NP + i - 1]}
  CM[i]=${PORTS[3 * NP + 4 + i]}
done
GP[NP + 1]=${PORTS[3 * NP]}; MP=${PORTS[3 * NP + 1]}
SDN=${PORTS[3 * NP + 2]}; SD21=${PORTS[3 * NP + 3]}; ECHO_PORT=${PORTS[3 * NP + 4]}
stamp "ports and keys ready"

# Each side runs in a session of its own (setsid), and so do the peers
# (the stock -d and the echo target): the kernel's autogroup then shares
# the CPUs between them and the clients (this test's session) as between
# programs on three hosts.  Within one session CFS shares them thread by
# thread: the 20 daemons' 40 worker threads would take a larger share
# from the co-located peers (which bound the aggregate) and clients than
# the one process's 2 workers, a bias of this bench (on a gateway host the
# peers and the clients are other machines), not a property of either
# side.  (And this shell, which must act during the reload under load,
# keeps a share of its own.)
[ "$(cat /proc/sys/kernel/sched_autogroup_enabled 2>/dev/null)" = 1 ] ||
  echo "note: kernel.sched_autogroup_enabled is not 1: the sessions share the CPUs thread by thread"
# in_session SCRIPT: run the bash SCRIPT (a file) as the leader of a new
# session, in the background; the whole session is killed at the end (its
# leader's pid is its process group: a background job of this script leads
# no group, so setsid makes it the leader in place).
in_session() {
  setsid bash "$1" </dev/null &
  T_PIDS+=("$!" "-$!")
}
# pidof_file FILE: the pid written to FILE (waited for, at most 5 s), or 0.
pidof_file() {
  local i
  for i in $(seq 1 100); do [ -s "$1" ] && break; sleep 0.05; done
  cat "$1" 2>/dev/null || echo 0
}

# --- The peers, in one session: the echo target; the stock -d SD[i] (key
# k<i>) of pipe i, shared by both sides; SDN (the new key) and SD21 (k21)
# for the reload.
{
  printf '%q --echo -l %q & echo $! >%q\n' "$RPTARGET" "$(t_addr "$ECHO_PORT")" \
    "$T_TMP/echo.pid"
  for i in $(seq 1 $((NP + 2))); do
    ii=$(printf %02d "$i") port=${SD[i]:-}
    [ "$i" = $((NP + 1)) ] && { port=$SDN; ii=new; }
    [ "$i" = $((NP + 2)) ] && { port=$SD21; ii=21; }
    printf '%q -F -d -s %q -t %q -k %q -n 0 & echo $! >%q\n' "$SPIPED" \
      "$(t_addr "$port")" "$(t_addr "$ECHO_PORT")" "$KEYS/k$ii" "$T_TMP/sd$i.pid"
  done
  echo wait
} >"$T_TMP/peers.sh"
in_session "$T_TMP/peers.sh"
ECHO_PID=$(pidof_file "$T_TMP/echo.pid")
for i in $(seq 1 $((NP + 2))); do
  SDPID[i]=$(pidof_file "$T_TMP/sd$i.pid")
  port=${SD[i]:-}
  [ "$i" = $((NP + 1)) ] && port=$SDN
  [ "$i" = $((NP + 2)) ] && port=$SD21
  if ! t_wait_port "$port" || ! kill -0 "${SDPID[i]}" 2>/dev/null; then
    t_fail "stock spiped -d number $i starts"; t_exit
  fi
done
unset 'SDPID[NP + 1]' 'SDPID[NP + 2]'

# --- Side B: 20 command-line ringpiped -e daemons, in one session.  Each
# has --metrics, as the one process has: a deployed daemon is watched, and
# the metrics cost CPU per byte (about a fifth of the -e side's, measured
# here with them on the one process alone), which must count on both sides.
for i in $(seq 1 "$NP"); do
  ii=$(printf %02d "$i")
  printf '%q -F -e -s %q -t %q -k %q -n 0 --metrics %q 2>%q & echo $! >%q\n' \
    "$RINGPIPED" "$(t_addr "${CP[i]}")" "$(t_addr "${SD[i]}")" "$KEYS/k$ii" \
    "$(t_addr "${CM[i]}")" "$T_TMP/cli$ii.err" "$T_TMP/cli$ii.pid"
done >"$T_TMP/cli.sh"
echo wait >>"$T_TMP/cli.sh"
in_session "$T_TMP/cli.sh"
for i in $(seq 1 "$NP"); do
  ii=$(printf %02d "$i")
  CPID[i]=$(pidof_file "$T_TMP/cli$ii.pid")
  T_PIDS+=("${CPID[i]}")
  if ! t_wait_port "${CP[i]}" || ! kill -0 "${CPID[i]}" 2>/dev/null; then
    t_fail "ringpiped -e number $i starts"; cat "$T_TMP/cli$ii.err"; t_exit
  fi
done

# --- Side A: one ringpiped -c with 20 pipes p01..p20.
G=$T_TMP/etc/gateway.conf
mkdir -p "$T_TMP/etc"
# section NAME PORT TARGETPORT KEY: one encrypt pipe.
section() {
  printf '[%s]\nmode = encrypt\nsource = [127.0.0.1]:%s\n' "$1" "$2"
  printf 'target = [127.0.0.1]:%s\nkey = %s\nmax-connections = 0\n\n' "$3" "$4"
}
{
  printf '[global]\nmetrics = [127.0.0.1]:%s\n%b\n' "$MP" "${GW_GLOBAL:-}"
  for i in $(seq 1 "$NP"); do
    ii=$(printf %02d "$i")
    section "p$ii" "${GP[i]}" "${SD[i]}" "$KEYS/k$ii"
  done
} >"$G"
printf 'echo $$ >%q; exec %q -F -c %q 2>%q\n' "$T_TMP/g.pid" "$RINGPIPED" "$G" \
  "$T_TMP/g.err" >"$T_TMP/g.sh"
in_session "$T_TMP/g.sh"
GPID=$(pidof_file "$T_TMP/g.pid")
T_PIDS+=("$GPID")
for i in $(seq 1 "$NP"); do
  t_wait_port "${GP[i]}" || { t_fail "the one process listens on all 20 pipes"; cat "$T_TMP/g.err"; t_exit; }
done
t_pass "one ringpiped -c serves 20 encrypt pipes; 20 ringpiped -e daemons and 20 stock spiped -d are up ($NCPU CPUs, default workers)"

# round SIDE N: one round of load on SIDE (gw or cli); its clients' results
# go to $T_TMP/r.SIDE.N/, the sampler's to $T_TMP/r.SIDE.N.json, and
# "OK NP MBPS BAD..." to $T_TMP/r.SIDE.N.fig.
round() {
  local side=$1 n=$2 d="$T_TMP/r.$1.$2" i port epids idle sp pids=()
  mkdir -p "$d"
  if [ "$side" = gw ]; then
    epids=$GPID; idle=$(IFS=,; echo "${CPID[*]}")
  else
    epids=$(IFS=,; echo "${CPID[*]}"); idle=$GPID
  fi
  rm -f "$T_TMP/stop" "$T_TMP/ready"
  "$PY" "$T_TMP/sample.py" "$T_TMP/r.$side.$n.json" "$T_TMP/ready" \
    "$T_TMP/stop" $((SECS + 40)) "$ROOT/bench" "e:$epids" "idle:$idle" \
    "d:$(IFS=,; echo "${SDPID[*]}")" "x:$ECHO_PID" &
  sp=$!
  T_PIDS+=("$sp")
  for i in $(seq 1 100); do [ -s "$T_TMP/ready" ] && break; sleep 0.05; done
  for i in $(seq 1 "$NP"); do
    port=${GP[i]}; [ "$side" = cli ] && port=${CP[i]}
    ( timeout -k 2 $((SECS + 35)) "${CTIME[@]}" ${CTIME:+"$d/$(printf %02d "$i").cpu"} "$RPLOAD" echo -q -c "127.0.0.1:$port" \
        -n "$CONNS" -t "$SECS" --timeout 30 --seed $((i * 1000 + n)) \
        >"$d/$(printf %02d "$i").out" 2>"$d/$(printf %02d "$i").err"
      echo $? >"$d/$(printf %02d "$i").rc" ) &
    pids+=("$!")
  done
  T_PIDS+=("${pids[@]}")
  wait "${pids[@]}"
  touch "$T_TMP/stop"
  wait "$sp"
  "$PY" "$T_TMP/round.py" "$d" "$NP" >"$T_TMP/r.$side.$n.fig"
  # The clients' CPU seconds (user + system), printed with the round.
  cat "$d"/*.cpu 2>/dev/null | awk '{u += $1; s += $2} END {printf "%.1f\n", u + s}' \
    >"$d/clients.cpu"
}

# /usr/bin/time -o FILE, where there is one, records each client's CPU.
CTIME=()
[ -x /usr/bin/time ] && CTIME=(/usr/bin/time -f "%U %S" -o)
ORDER=()
for n in $(seq 1 "$ROUNDS"); do ORDER+=("gw $n" "cli $n"); done
for r in "${ORDER[@]}"; do
  # shellcheck disable=SC2086
  round $r
  stamp "round $r: $(cut -d' ' -f1-5 "$T_TMP/r.${r/ /.}.fig") (pipes verified, of, MB/s, MB, clients' seconds); clients' CPU $(cat "$T_TMP/r.${r/ /.}/clients.cpu" 2>/dev/null) s"
done

# The figures of every round, judged.
"$PY" - "$T_TMP" "$ROUNDS" "$NP" "$NCPU" >"$T_TMP/sum.txt" <<'PY'
import json, statistics, sys
t, rounds, np_, ncpu = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
res = {}
for side in ("gw", "cli"):
    anon, thr, mbps, ok, cpu = {}, {}, [], 0, {"e": 0, "d": 0, "x": 0, "idle": 0}
    idle_max = 0.0; bad = []; mb = 0.0
    for n in range(1, rounds + 1):
        j = json.load(open("%s/r.%s.%d.json" % (t, side, n)))
        for p, v in j["anon"].items():
            anon[p] = max(anon.get(p, 0), v)
        for p, v in j["threads"].items():
            thr[p] = max(thr.get(p, 0), v)
        for g in cpu:
            cpu[g] += j["cpu"][g]
        idle_max = max(idle_max, j["cpu"]["idle"])
        f = open("%s/r.%s.%d.fig" % (t, side, n)).read().split()
        ok += int(f[0] == f[1]); mbps.append(float(f[2])); mb += float(f[3])
        bad += ["round %d: %s" % (n, " ".join(f[5:]))] if f[0] != f[1] else []
    res[side] = dict(anon=sum(anon.values()), nproc=len(anon),
                     threads=sum(thr.values()), mbps=mbps,
                     med=statistics.median(mbps), ok=ok, cpu=cpu,
                     idle=idle_max, bad="; ".join(bad), mb=mb)
g, c = res["gw"], res["cli"]
print("ROUNDS_OK", g["ok"], c["ok"], rounds)
print("BAD", g["bad"] or "-", "|", c["bad"] or "-")
print("THREADS", g["threads"], c["threads"], ncpu + 0)
print("ANON", g["anon"], c["anon"])
print("MBPS", "%.1f" % g["med"], "%.1f" % c["med"],
      "%.3f" % (g["med"] / c["med"] if c["med"] > 0 else 0),
      ",".join("%.0f" % x for x in g["mbps"]), ",".join("%.0f" % x for x in c["mbps"]))
for side in ("gw", "cli"):
    s = res[side]["cpu"]
    print("CPU", side, "%.1f" % s["e"], "%.1f" % s["d"], "%.1f" % s["x"],
          "%.2f" % res[side]["idle"],
          "%.1f" % (s["e"] / res[side]["mb"] * 1000 if res[side]["mb"] else 0))
PY
read -r _ GOK COK _ < <(grep '^ROUNDS_OK' "$T_TMP/sum.txt")
read -r _ GTHR CTHR _ < <(grep '^THREADS' "$T_TMP/sum.txt")
read -r _ GANON CANON < <(grep '^ANON' "$T_TMP/sum.txt")
read -r _ GMB CMB RATIO GLIST CLIST < <(grep '^MBPS' "$T_TMP/sum.txt")
read -r _ _ GCE GCD GCX GIDLE GPERGB < <(grep '^CPU gw' "$T_TMP/sum.txt")
read -r _ _ CCE CCD CCX CIDLE CPERGB < <(grep '^CPU cli' "$T_TMP/sum.txt")
if [ "$GOK" = "$ROUNDS" ] && [ "$COK" = "$ROUNDS" ]; then
  t_pass "(a) every pipe verified its echoed bytes in every round: $ROUNDS rounds x $NP pipes x $CONNS connection(s) on each side"
else
  t_fail "(a) every pipe verifies ($GOK/$ROUNDS rounds of the one process, $COK/$ROUNDS of the 20 daemons clean): $(grep '^BAD' "$T_TMP/sum.txt")"
  for f in "$T_TMP"/r.*/*.err; do [ -s "$f" ] && { echo "    $f:"; tail -n 3 "$f" | sed 's/^/      /'; }; done
fi
[ "$GTHR" -le $((NCPU + THREAD_SLACK)) ] && [ "$GTHR" -gt 0 ]; ok=$?
if [ "$ok" = 0 ]; then
  t_pass "(b) threads: the one process has $GTHR (at most $NCPU CPUs + $THREAD_SLACK); the 20 daemons $CTHR in all ($(cat /proc/"${CPID[1]}"/task/*/comm 2>/dev/null | wc -l) each)"
else
  t_fail "(b) threads: the one process has $GTHR (at most $NCPU CPUs + $THREAD_SLACK); the 20 daemons $CTHR in all"
  cat /proc/"$GPID"/task/*/comm 2>/dev/null | sort | uniq -c | sed 's/^/    /'
fi
awk -v g="$GANON" -v c="$CANON" -v m="$ANON_MAX" 'BEGIN{exit !(g > 0 && g < c * m)}'; ok=$?
judge "(c) peak private memory (RssAnon) of the one process is below the sum of the 20 daemons' peaks" "$ok" \
  "$(awk -v g="$GANON" -v c="$CANON" 'BEGIN{printf "%.1f MB against %.1f MB (%.2fx)", g/1024, c/1024, (c > 0 ? g/c : 0)}')"
awk -v r="$RATIO" -v m="$TPUT_MIN" 'BEGIN{exit !(r >= m)}'; ok=$?
judge "(d) aggregate throughput over the 20 pipes: the one process's median at least ${TPUT_MIN}x the 20 daemons'" "$ok" \
  "$GMB MB/s against $CMB MB/s, ratio $RATIO (verified echo bytes; rounds $GLIST against $CLIST; CPU s over all rounds: -e side $GCE vs $CCE ($GPERGB vs $CPERGB s per GB echoed), stock -d side $GCD vs $CCD, echo target $GCX vs $CCX; the idle side used at most $GIDLE / $CIDLE CPU s in a round of the other)"

stamp "the comparison is done"

# --- Reload under load.  The command-line daemons are done.
for i in $(seq 1 "$NP"); do kill -9 "${CPID[i]}" 2>/dev/null; done
CHG=3 RM=20 NUN=$((NP - 2))
curl -s --max-time 5 "127.0.0.1:$MP/metrics" >"$T_TMP/m1.txt"
# The new file, written before the load starts (the shell is slow to fork
# on two loaded cores).
{
  printf '[global]\nmetrics = [127.0.0.1]:%s\n%b\n' "$MP" "${GW_GLOBAL:-}"
  for i in $(seq 1 "$NP"); do
    ii=$(printf %02d "$i")
    [ "$i" = "$RM" ] && continue
    if [ "$i" = "$CHG" ]; then section "p$ii" "${GP[i]}" "$SDN" "$KEYS/knew"
    else section "p$ii" "${GP[i]}" "${SD[i]}" "$KEYS/k$ii"; fi
  done
  section p21 "${GP[21]}" "$SD21" "$KEYS/k21"
} >"$G.new"
# The 20 long transfers run in a session of their own, so that the CPU
# share of this shell, which must act while they run, does not shrink with
# their number.  Each writes its exit status to $L/NN.rc.
L=$T_TMP/long
mkdir -p "$L"
for i in $(seq 1 "$NP"); do
  ii=$(printf %02d "$i")
  printf '( timeout -k 2 %d %q echo -q -c 127.0.0.1:%d -n 1 -t %d --timeout 30 --seed %d >%q 2>%q; echo $? >%q ) & echo $! >%q\n' \
    $((LONG + 40)) "$RPLOAD" "${GP[i]}" "$LONG" $((i * 7)) "$L/$ii.out" \
    "$L/$ii.err" "$L/$ii.rc" "$L/$ii.pid"
done >"$T_TMP/long.sh"
echo wait >>"$T_TMP/long.sh"
in_session "$T_TMP/long.sh"
stamp "20 long transfers started"
sleep 1.5
mv "$G.new" "$G"
stamp "SIGHUP"
ended=$(ls "$L"/*.rc 2>/dev/null | wc -l)
t0=$EPOCHREALTIME
kill -HUP "$GPID"
if t_wait_log "$T_TMP/g.err" "Reloaded $G: $NUN pipes unchanged (keys read again), 1 changed, 1 added, 1 removed" 1; then
  ms=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN{printf "%d", (b - a) * 1000}')
  if [ "$ended" = 0 ]; then
    t_pass "reload under load: the log counts $NUN unchanged, 1 changed, 1 added, 1 removed, $ms ms after SIGHUP, all 20 transfers in flight at the SIGHUP"
  else
    t_fail "reload under load: $ended of the 20 transfers had ended before the SIGHUP (the log line came $ms ms after it)"
    for f in "$L"/*.rc; do echo "    ${f##*/}: rc $(cat "$f"); $(cut -c1-300 "${f%.rc}.out")"; done
  fi
else
  t_fail "reload under load: the log counts $NUN unchanged, 1 changed, 1 added, 1 removed"
  tail -n 8 "$T_TMP/g.err" | sed 's/^/    /'
fi
# The removed pipe stops listening.
for i in $(seq 1 50); do
  [ "$(ss -Htln "( sport = :${GP[RM]} )" | wc -l)" = 0 ] && break; sleep 0.1
done
ms=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN{printf "%d", (b - a) * 1000}')
[ "$(ss -Htln "( sport = :${GP[RM]} )" | wc -l)" = 0 ] &&
  t_pass "the removed pipe p$RM stopped listening ($ms ms after SIGHUP)" ||
  t_fail "the removed pipe p$RM stopped listening (still listening $ms ms after SIGHUP)"
# New connections through the changed and the added pipe, while the long
# transfers still run.
newconn() {
  local t0=$EPOCHREALTIME ms
  if timeout -k 2 60 "$RPLOAD" echo -q -c "127.0.0.1:$2" -n 2 -b 2000000 \
      --timeout 30 >"$T_TMP/new.out" 2>&1 && grep -q '"ok":true' "$T_TMP/new.out"; then
    ms=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN{printf "%d", (b - a) * 1000}')
    t_pass "$1 (in $ms ms; $(ls "$L"/*.rc 2>/dev/null | wc -l) of the 20 long transfers ended by then)"
  else
    t_fail "$1"; tail -n 3 "$T_TMP/new.out" | sed 's/^/    /'
  fi
}
newconn "new connections through the changed pipe p0$CHG work with its new key and target (2 x 2 MB echoed, verified)" "${GP[CHG]}"
newconn "the added pipe p21 serves (2 x 2 MB echoed, verified)" "${GP[21]}"
# Every long transfer ends within LONG + 40 s (timeout).
for i in $(seq 1 $(((LONG + 45) * 10))); do
  [ "$(ls "$L"/*.rc 2>/dev/null | wc -l)" = "$NP" ] && break
  sleep 0.1
done
stamp "the long transfers ended"
# long NAME I: PASS if the long transfer through pipe I verified every byte
# with no reset, for its whole time.
long_ok() {
  local f="$L/$(printf %02d "$1")"
  [ "$(cat "$f.rc" 2>/dev/null)" = 0 ] && grep -q '"ok":true' "$f.out" &&
    grep -q '"err_reset":0' "$f.out"
}
mb() { sed -n 's/.*"rx_bytes":\([0-9]*\).*/\1/p' "$L/$(printf %02d "$1").out" | awk '{printf "%.0f", $1/1e6}'; }
nok=0 bad="" tot=0 lo=-1 hi=0
for i in $(seq 1 "$NP"); do
  [ "$i" = "$CHG" ] || [ "$i" = "$RM" ] && continue
  if long_ok "$i"; then
    nok=$((nok + 1)); m=$(mb "$i"); tot=$((tot + m))
    [ "$lo" -lt 0 ] || [ "$m" -lt "$lo" ] && lo=$m
    [ "$m" -gt "$hi" ] && hi=$m
  else bad="$bad p$(printf %02d "$i")"; fi
done
if [ "$nok" = "$NUN" ]; then
  t_pass "the $NUN unchanged pipes' transfers through the reload lost no byte (no reset; $tot MB echoed and verified in ${LONG} s, $lo to $hi MB a pipe)"
else
  t_fail "the $NUN unchanged pipes' transfers lost no byte: failed:$bad"
  for i in $bad; do tail -n 2 "$L/${i#p}.err" | sed "s/^/    $i: /"; done
fi
long_ok "$RM" && t_pass "the removed pipe p$RM's in-flight transfer drained and completed ($(mb "$RM") MB verified)" ||
  { t_fail "the removed pipe p$RM's in-flight transfer completed"; tail -n 3 "$L/$RM.err" | sed 's/^/    /'; }
long_ok "$CHG" && t_pass "the changed pipe p0$CHG's in-flight transfer completed with its old key and target ($(mb "$CHG") MB verified)" ||
  { t_fail "the changed pipe p0$CHG's in-flight transfer completed"; tail -n 3 "$L/0$CHG.err" | sed 's/^/    /'; }
# The removed pipe's series go once its last connection has closed.
for i in $(seq 1 50); do
  curl -s --max-time 5 "127.0.0.1:$MP/metrics" >"$T_TMP/m2.txt"
  grep -q "pipe=\"p$RM\"" "$T_TMP/m2.txt" || break
  sleep 0.1
done
if grep -q "pipe=\"p$RM\"" "$T_TMP/m1.txt" && ! grep -q "pipe=\"p$RM\"" "$T_TMP/m2.txt" &&
   grep -q 'pipe="p21"' "$T_TMP/m2.txt"; then
  t_pass "metrics: the added pipe p21 is labelled; the drained, removed p$RM is gone"
else
  t_fail "metrics: p21 labelled, p$RM gone after its drain"
fi
kill -TERM "$GPID"
t_wait_gone "$GPID" && t_pass "SIGTERM: the one process exits" || t_fail "SIGTERM: the one process exits"
t_exit
