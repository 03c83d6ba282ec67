#!/usr/bin/env bash
# Clients that stop reading must not freeze anyone else (issue 12).
# One ringpiped -e -> ringpiped -d pair in front of one rp-target --auto.
# N stalled clients each open a download through the pair (the rp-load sink
# header asking for a stream until EOF, which never comes) and never read,
# with a small receive buffer; the target floods them until every buffer on
# the way is full.  Then a fresh connection through the SAME daemons echoes
# 1 MiB through the SAME target (rp-target --auto echoes a connection that
# does not start with the sink header) and must finish within 1 s (three
# fresh connections one after the other; the median is judged, so one slow
# run on a loaded machine does not decide, while a frozen worker fails all):
#   (a) -w 1 -n 0 on both daemons (so stalled and fresh share the one
#       worker of each), 300 stalled clients;
#   (b) the default worker count, -n 0, 700 stalled clients.
# Every wait is bounded; the figures are in the PASS/FAIL lines.
#
# The kernel's TCP memory is one pool for the whole machine
# (net.ipv4.tcp_mem).  700 stalled downloads through three hops can fill
# it, and then the kernel itself drops or starves any connection, fresh
# or not, whatever daemon is in the way.  So the test runs in a network
# namespace of its own whose loopback has a LAN's MTU (1500: loopback's
# 64 KiB MTU hands each new socket a 1.3 MiB send buffer), the target's
# send buffers are fixed at 64 KiB (the target is scaffolding, not what is
# tested), and each line gives the TCP memory in use.
. "$(dirname "$0")/lib.sh"
t_private_net 1500 "$@"
KEY=$T_TMP/key
t_key "$KEY"
HZ=$(getconf CLK_TCK)
LIMIT_S=${STALL_LIMIT_S:-1.0}

# The stalled clients: stall.py PORT N READYFILE HOLDSECS.  Connects N
# clients to 127.0.0.1:PORT (SO_RCVBUF 4096, at most 32 waiting for their
# first byte at once), each sends the sink header for an endless download
# and never reads.  Once every client has data queued (or no progress for
# 3 s), waits up to 3 s until the bytes queued at the clients stop growing,
# then writes "key=value ..." figures to READYFILE and holds the sockets
# open for HOLDSECS or until SIGTERM.
cat >"$T_TMP/stall.py" <<'PY'
import array, fcntl, os, signal, socket, struct, sys, termios, time
port, n, ready, hold = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], float(sys.argv[4])
signal.signal(signal.SIGTERM, lambda *a: os._exit(0))
HDR = b"RPLOAD01" + struct.pack("<QQQ", 7, 11, 2**64 - 1)  # until EOF
def queued(s):
    b = array.array("i", [0])
    fcntl.ioctl(s, termios.FIONREAD, b)
    return b[0]
socks, pending, errors = [], [], 0
t0 = time.monotonic()
deadline, progress = t0 + 10 + n / 50.0, t0
while (len(socks) < n or pending) and time.monotonic() < deadline:
    while len(socks) < n and len(pending) < 32:
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        s.settimeout(5)
        try:
            s.connect(("127.0.0.1", port))
            s.sendall(HDR)
        except OSError:
            errors += 1
            s.close()
            if errors > 10:
                break
            continue
        socks.append(s)
        pending.append(s)
    still = [s for s in pending if queued(s) == 0]
    now = time.monotonic()
    if len(still) < len(pending):
        progress = now
    pending = still
    if errors > 10 or now - progress > 3:
        break
    if pending:
        time.sleep(0.01)
setup = time.monotonic() - t0
t1, prev, stable = time.monotonic(), -1, 0
while time.monotonic() < t1 + 3 and stable < 3:
    tot = sum(queued(s) for s in socks)
    stable = stable + 1 if tot == prev else 0
    prev = tot
    time.sleep(0.1)
q = [queued(s) for s in socks]
with open(ready + ".tmp", "w") as f:
    f.write("conns=%d with_data=%d errors=%d setup_s=%.2f fill_s=%.2f "
            "stable=%d queued_KiB=%d min_queued=%d\n" % (
                len(socks), sum(1 for x in q if x > 0), errors, setup,
                time.monotonic() - t1, stable >= 3, sum(q) // 1024,
                min(q) if q else 0))
os.rename(ready + ".tmp", ready)
time.sleep(hold)
PY

# kv KEY FILE: the value of KEY=value in FILE.
kv() { tr ' ' '\n' <"$2" | sed -n "s/^$1=//p"; }

# quiet PIDS...: wait (at most 6 s) until none of PIDS uses CPU over 0.3 s;
# print how long it took, or "busy".
quiet() {
  local i p a b t0 busy
  t0=$(date +%s.%N)
  for i in $(seq 20); do
    a=0; b=0
    for p in "$@"; do a=$((a + $(t_cpu_ticks "$p"))); done
    sleep 0.3
    for p in "$@"; do b=$((b + $(t_cpu_ticks "$p"))); done
    if [ "$a" = "$b" ]; then
      awk -v s="$t0" -v e="$(date +%s.%N)" 'BEGIN{printf "%.1f s\n", e-s}'
      return 0
    fi
  done
  echo "busy: $(( (b - a) * 1000 / HZ )) ms CPU in the last 0.3 s"
}

# stall NAME N DAEMON-FLAGS...: the case described at the top.
stall() {
  local name=$1 n=$2; shift 2
  local tgt="" d e dpid epid spid ready=$T_TMP/stall.$n.ready i t0 t1 rc secs
  t_serve tgt "$RPTARGET" --auto --buf 32k --sndbuf 64k -l 127.0.0.1:0 --lifetime 300 || return
  local tpid=$T_LAST
  d=$(t_port); e=$(t_port)
  t_daemon ring -d "$(t_addr "$d")" "$tgt" "$KEY" -n 0 "$@" || { t_fail "$name: -d starts"; return; }
  dpid=$T_LAST
  t_daemon ring -e "$(t_addr "$e")" "$(t_addr "$d")" "$KEY" -n 0 "$@" || { t_fail "$name: -e starts"; return; }
  epid=$T_LAST
  t_bg python3 "$T_TMP/stall.py" "$e" "$n" "$ready" 120
  spid=$T_LAST
  for i in $(seq $(( (20 + n / 50) * 10 ))); do
    [ -s "$ready" ] && break
    kill -0 "$spid" 2>/dev/null || break
    sleep 0.1
  done
  if [ ! -s "$ready" ]; then
    t_fail "$name: the $n stalled clients were set up (no report)"
    kill -9 "$spid" "$epid" "$dpid" "$tpid" 2>/dev/null
    return
  fi
  local q
  q=$(quiet "$epid" "$dpid" "$tpid")
  local tcpmem
  tcpmem=$(t_tcp_mem)
  # Three fresh connections, one after the other.
  local times=() rcs=0 med
  for i in 1 2 3; do
    t0=$(date +%s.%N)
    timeout -k 2 12 "$RPLOAD" echo -q -c "$(t_addr "$e")" -b 1M --timeout 10 \
      --seed $((100 + i)) >"$T_TMP/fresh.out" 2>"$T_TMP/fresh.err"
    rc=$?
    t1=$(date +%s.%N)
    secs=$(awk -v s="$t0" -v e="$t1" 'BEGIN{printf "%.3f", e-s}')
    if [ "$rc" != 0 ]; then
      rcs=$((rcs + 1))
      secs="$secs (rc $rc: $(grep -o 'FAILED: .*' "$T_TMP/fresh.err" | head -1)$(
        sed -n 's/.*"rx_bytes":\([0-9]*\).*/, \1 bytes echoed/p' "$T_TMP/fresh.out"))"
      # Timed out: the next two would too.
      [ "$rc" = 1 ] && grep -q timeout "$T_TMP/fresh.err" && { times+=("$secs"); break; }
    fi
    times+=("$secs")
  done
  med=$(printf '%s\n' "${times[@]}" | awk '{print $1}' | sort -n |
    awk '{v[NR] = $1} END{print (NR == 3) ? v[2] : v[NR]}')
  local fig="$(kv with_data "$ready") of $n stalled clients got data (set up in $(kv setup_s "$ready") s), $(kv queued_KiB "$ready") KiB queued at them, daemons quiet after $q; $tcpmem"
  local all
  all=$(printf '%s, ' "${times[@]}"); all=${all%, }
  if [ "$rcs" = 0 ] && [ ${#times[@]} = 3 ] &&
     awk -v s="$med" -v l="$LIMIT_S" 'BEGIN{exit !(s < l)}'; then
    t_pass "$name: a fresh connection echoed 1 MiB in $med s (median of $all s; limit $LIMIT_S s); $fig"
  else
    t_fail "$name: a fresh connection echoes 1 MiB within $LIMIT_S s: $med s (of: $all); $fig"
  fi
  t_alive "$name: -e still running" "$epid"
  t_alive "$name: -d still running" "$dpid"
  kill -9 "$spid" "$epid" "$dpid" "$tpid" 2>/dev/null
}

# Descriptors: 700 clients cost each daemon ~1400, the target and the
# clients ~700 each.
if ! t_nofile_atleast 4096; then
  t_fail "RLIMIT_NOFILE allows 4096 descriptors (hard limit $(ulimit -Hn))"
  t_exit
fi
stall "(a) -w 1 -n 0, 300 stalled downloads" 300 -w 1
stall "(b) default workers ($(nproc) online CPUs), -n 0, 700 stalled downloads" 700
t_exit
