# Shared helpers for the integration tests (sourced, bash).
# Every test prints "PASS: name" / "FAIL: name" lines; every process it
# starts is killed on exit; every wait is bounded.

set -u
BUILD="${BUILD:-build}"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT" || exit 1
RINGPIPED="${RINGPIPED:-$ROOT/$BUILD/ringpiped}"
RINGPIPE="${RINGPIPE:-$ROOT/$BUILD/ringpipe}"
RPLOAD="$ROOT/$BUILD/tools/rp-load"
RPTARGET="$ROOT/$BUILD/tools/rp-target"
SPIPED="${SPIPED:-/usr/bin/spiped}"
SPIPE="${SPIPE:-/usr/bin/spipe}"
T_TMP=$(mktemp -d /tmp/rp-integ.XXXXXX)
T_PIDS=()
T_FAILS=0

t_cleanup() {
  local p
  for p in "${T_PIDS[@]}"; do kill -9 "$p" 2>/dev/null; done
  wait 2>/dev/null
  rm -rf "$T_TMP"
}
trap t_cleanup EXIT

t_pass() { echo "PASS: $*"; }
t_fail() { echo "FAIL: $*"; T_FAILS=$((T_FAILS + 1)); }
# t_check NAME CMD...: run CMD (output kept in a log, shown on failure),
# PASS if it succeeds.
t_check() {
  local name=$1; shift
  if "$@" >"$T_TMP/cmd.log" 2>&1; then
    t_pass "$name"
  else
    t_fail "$name"; tail -n 5 "$T_TMP/cmd.log" | sed 's/^/    /'
  fi
}
# t_check_fails NAME CMD...: PASS if CMD fails.
t_check_fails() {
  local name=$1; shift
  if "$@" >"$T_TMP/cmd.log" 2>&1; then
    t_fail "$name"; tail -n 5 "$T_TMP/cmd.log" | sed 's/^/    /'
  else
    t_pass "$name"
  fi
}
t_exit() { exit $((T_FAILS > 0)); }

# A free TCP port on 127.0.0.1 (bound to 0 and released).
# Never the same port twice in one test: two daemons given one port would
# see one of them fail to bind while the other answers in its place.
t_port() {
  local p i
  for i in $(seq 1 50); do
    p=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    if ! grep -qx "$p" "$T_TMP/ports" 2>/dev/null; then
      echo "$p" >> "$T_TMP/ports"
      echo "$p"
      return 0
    fi
  done
  return 1
}

# t_key FILE: a fresh 32-byte key.
t_key() { dd if=/dev/urandom of="$1" bs=32 count=1 status=none; }

# t_bg CMD...: start CMD in the background, remember its pid in T_LAST.
t_bg() {
  "$@" &
  disown $! 2>/dev/null
  T_LAST=$!
  T_PIDS+=("$T_LAST")
}

# t_wait_port PORT|/path: wait (at most 5 s) until it accepts connections.
t_wait_port() {
  local i
  for i in $(seq 1 100); do
    if [[ "$1" == /* ]]; then
      [ -S "$1" ] && return 0
    elif (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then
      return 0
    fi
    sleep 0.05
  done
  echo "port $1 never came up" >&2
  return 1
}

# t_daemon KIND MODE SRC TGT KEY [FLAGS...]: start spiped or ringpiped in
# the foreground mode, in the background; wait for its port.
t_daemon() {
  local kind=$1 mode=$2 src=$3 tgt=$4 key=$5; shift 5
  local bin=$RINGPIPED
  [ "$kind" = stock ] && bin=$SPIPED
  # -n 0 (no cap) unless the caller sets -n.
  local nflag=(-n 0) a
  for a in "$@"; do [ "$a" = -n ] && nflag=(); done
  t_bg "$bin" -F "$mode" -s "$src" -t "$tgt" -k "$key" "${nflag[@]}" "$@"
  local p=${src##*:}
  [[ "$src" == /* ]] && p=$src
  t_wait_port "$p" || return 1
  # The port must be answered by this daemon, not by something else.
  if ! kill -0 "$T_LAST" 2>/dev/null; then
    echo "$kind $mode on $src exited at start" >&2
    return 1
  fi
}

# t_addr PORT: the spiped form of 127.0.0.1:PORT.
t_addr() { echo "[127.0.0.1]:$1"; }

# t_echo: start an echo target; sets ECHO_PORT.
t_echo() {
  ECHO_PORT=$(t_port)
  t_bg "$RPTARGET" --echo -l "$(t_addr "$ECHO_PORT")"
  t_wait_port "$ECHO_PORT"
}

# --- Helpers for the fault-injection tests (t_fault_*.sh, t_soak_short.sh).
RPDELAY="$ROOT/$BUILD/tools/rp-delay"
RPTAMPER="$ROOT/$BUILD/tools/rp-tamper"

# t_serve VAR CMD...: start a tool server that takes --port-file (bound to
# port 0 by the caller) and set VAR to the address it publishes.
t_serve() {
  local var=$1; shift
  local pf="$T_TMP/port.$RANDOM$RANDOM" i
  t_bg "$@" --port-file "$pf"
  for i in $(seq 100); do [ -s "$pf" ] && break; sleep 0.05; done
  if [ ! -s "$pf" ]; then echo "server did not start: $*" >&2; return 1; fi
  printf -v "$var" '%s' "$(cat "$pf")"
}

# t_healthy_start NAME ADDR SECS: start a healthy echo connection pair of
# about SECS seconds through ADDR in the background, paced by an rp-delay
# relay (10 ms each way) so it runs for the whole fault in large chunks.
# (A low rate cap would dribble tiny chunks, each costing a whole packet;
# small --buf with --rate none sometimes loses the EOF in rp-delay.)
# With a 4th argument "rr" it is a slow request/response pair instead (25 ms
# each way, 1000-byte messages: next to no CPU, for CPU measurements).
t_healthy_start() {
  local name=$1 addr=$2 secs=$3 mode=${4:-echo} relay
  local args=(echo) delay=10
  [ "$mode" = rr ] && { args=(rr --size 1000); delay=25; }
  t_serve relay "$RPDELAY" -l 127.0.0.1:0 -c "$addr" --delay "$delay" \
    --lifetime $((secs + 60))
  rm -f "$T_TMP/healthy.$name.rc"
  ( timeout -k 2 $((secs + 40)) "$RPLOAD" "${args[@]}" -q -c "$relay" -n 2 \
      -t "$secs" --timeout 30 >"$T_TMP/healthy.$name.out" \
      2>"$T_TMP/healthy.$name.err"
    echo $? >"$T_TMP/healthy.$name.rc" ) &
  T_PIDS+=("$!")
}

# t_healthy_check NAME: wait (bounded) for the healthy connections started
# by t_healthy_start NAME; PASS if every byte came back intact.
t_healthy_check() {
  local name=$1 i rc
  for i in $(seq 1 1200); do
    [ -s "$T_TMP/healthy.$name.rc" ] && break
    sleep 0.05
  done
  rc=$(cat "$T_TMP/healthy.$name.rc" 2>/dev/null || echo none)
  if [ "$rc" = 0 ] && grep -q '"ok":true' "$T_TMP/healthy.$name.out"; then
    t_pass "healthy connections during $name carried on intact ($(
      python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print("%d bytes echoed" % d.get("rx_bytes", 0))' \
      "$T_TMP/healthy.$name.out" 2>/dev/null))"
  else
    t_fail "healthy connections during $name carried on intact (rc $rc)"
    tail -n 5 "$T_TMP/healthy.$name.err" | sed 's/^/    /'
  fi
}

# t_alive NAME PID: PASS if process PID is still running.
# t_wait_gone PID: wait (at most 5 s) until PID has exited.
t_wait_gone() {
  local i
  for i in $(seq 1 100); do
    kill -0 "$1" 2>/dev/null || return 0
    sleep 0.05
  done
  return 1
}

t_alive() {
  if kill -0 "$2" 2>/dev/null; then t_pass "$1"
  else t_fail "$1"; fi
}

# t_cpu_ticks PID: user+system CPU time of PID in clock ticks.
t_cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; }

# t_nfds PID: open descriptors of PID.
t_nfds() { ls "/proc/$1/fd" 2>/dev/null | wc -l; }

# t_nfds_settled PID: the open descriptors of PID once the count has held
# still for 0.5 s (at most 5 s): a daemon's port answers before its workers
# have made their rings and eventfds, so a count taken at once can be a
# start-up count, not the one the daemon idles at.
t_nfds_settled() {
  local i n prev=-1 same=0
  for i in $(seq 100); do
    n=$(t_nfds "$1")
    if [ "$n" = "$prev" ]; then same=$((same + 1)); else same=0; fi
    [ "$same" -ge 10 ] && break
    prev=$n
    sleep 0.05
  done
  echo "$n"
}

# t_rss_kb PID: resident set size of PID in kB.
t_rss_kb() { awk '/^VmRSS:/{print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }

# --- The engine run (tests/run.sh sets RP_ENGINE_RUN for each run).
# Unset or "auto": ringpiped and ringpipe run as they are (the default
# engine choice: io_uring where the kernel allows it).  "epoll": every
# ringpiped and ringpipe a test starts through $RINGPIPED / $RINGPIPE runs
# under tests/helpers/rp-nouring, a seccomp filter that makes io_uring_setup,
# io_uring_enter and io_uring_register fail with EPERM as Docker's default
# profile does, so the default choice must fall back to epoll (no flag
# forces it).  RINGPIPED and RINGPIPE then name wrapper scripts that exec
# the real binary under the filter in place (same pid), so a test that
# starts "$RINGPIPED" directly, through prlimit, timeout or sh -c needs no
# change.  RINGPIPED_REAL / RINGPIPE_REAL name the binaries themselves.
RPNOURING="$ROOT/$BUILD/tests/rp-nouring"
RP_ENGINE_RUN="${RP_ENGINE_RUN:-auto}"
RINGPIPED_REAL=$RINGPIPED
RINGPIPE_REAL=$RINGPIPE

# t_nouring_wrap NAME REAL: write the wrapper $T_TMP/bin/NAME that execs
# REAL under rp-nouring with its arguments; print its path.
t_nouring_wrap() {
  local w="$T_TMP/bin/$1"
  case "$RPNOURING$2" in *"'"*) echo "t_nouring_wrap: a quote in $2" >&2; return 1;; esac
  mkdir -p "$T_TMP/bin"
  printf "#!/bin/sh\nexec '%s' '%s' \"\$@\"\n" "$RPNOURING" "$2" >"$w"
  chmod 755 "$w"
  echo "$w"
}

# t_auto_run_only WHY: a suite whose subject is above the data path (the
# control plane, a fleet, a configuration file) runs in the auto run only:
# in the epoll run it passes at once, saying WHY, to keep CI within its
# time (both engines drive the same control plane).
t_auto_run_only() {
  if [ "$RP_ENGINE_RUN" != auto ]; then
    t_pass "runs in the auto run only ($1); this run: $RP_ENGINE_RUN"
    exit 0
  fi
}

case "$RP_ENGINE_RUN" in
  auto) ;;
  epoll)
    if [ ! -x "$RPNOURING" ]; then
      echo "FAIL: $RPNOURING is not built (make BUILD=$BUILD test-build)"
      exit 1
    fi
    RINGPIPED=$(t_nouring_wrap ringpiped "$RINGPIPED_REAL") || exit 1
    RINGPIPE=$(t_nouring_wrap ringpipe "$RINGPIPE_REAL") || exit 1
    ;;
  *)
    echo "FAIL: RP_ENGINE_RUN=$RP_ENGINE_RUN: want auto or epoll"
    exit 1
    ;;
esac

# t_seccomp_mode PID: the Seccomp field of PID's status (0 none, 2 filter).
t_seccomp_mode() { awk '/^Seccomp:/{print $2}' "/proc/$1/status" 2>/dev/null || echo none; }

# t_hwm_kb PID: peak resident set size (VmHWM) of PID in kB.
t_hwm_kb() { awk '/^VmHWM:/{print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }

# t_nofile_atleast N: raise this shell's soft RLIMIT_NOFILE to at least N
# (up to the hard limit) for what it starts; fail if the hard limit is lower.
t_nofile_atleast() {
  local hard
  [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -ge "$1" ] && return 0
  hard=$(ulimit -Hn)
  if [ "$hard" != unlimited ] && [ "$hard" -lt "$1" ]; then
    echo "RLIMIT_NOFILE hard limit $hard < $1" >&2
    return 1
  fi
  ulimit -Sn "$1"
}

# --- Names, addresses and timing (t_happy_eyeballs.sh, t_bind.sh, ...).

# t_private_names "$@": run the rest of this test in a private mount
# namespace (unshare -m) in which /etc/hosts is $T_HOSTS, a file of the
# test's own (fill it with t_hosts), and /etc/nsswitch.conf says
# "hosts: files", so that a name resolves from $T_HOSTS alone; the
# machine's own files are never touched.  Call it right after sourcing
# lib.sh, with the test's arguments.
t_private_names() {
  if [ -z "${RP_PRIVATE_NAMES:-}" ]; then
    # The namespace runs the test again from the top, with a T_TMP of
    # its own: this one goes now (exec runs no EXIT trap).
    rm -rf "$T_TMP"
    trap - EXIT
    exec unshare -m --propagation private env RP_PRIVATE_NAMES=1 \
      bash "$0" "$@"
    echo "FAIL: unshare -m: cannot make a private mount namespace"
    exit 1
  fi
  T_HOSTS=$T_TMP/hosts
  printf '127.0.0.1 localhost\n::1 localhost ip6-localhost\n' >"$T_HOSTS"
  printf 'hosts: files\n' >"$T_TMP/nsswitch.conf"
  if ! mount --bind "$T_HOSTS" /etc/hosts ||
     ! mount --bind "$T_TMP/nsswitch.conf" /etc/nsswitch.conf; then
    echo "FAIL: cannot bind-mount a private /etc/hosts"
    exit 1
  fi
}

# t_private_net MTU "$@": run the rest of this test in a network namespace
# of its own (unshare -n), whose loopback is up with an MTU of MTU, so that
# TCP on it sizes its buffers as on a LAN (loopback's 64 KiB MTU gives each
# new socket a send buffer of about 1.3 MiB).  Call it right after
# sourcing lib.sh, with the test's arguments.  Fails the test if the
# namespace cannot be made.
t_private_net() {
  local mtu=$1; shift
  if [ -z "${RP_PRIVATE_NET:-}" ]; then
    rm -rf "$T_TMP"
    trap - EXIT
    # net.ipv4.tcp_mem is read here: only the first namespace has it.
    exec unshare -n env RP_PRIVATE_NET=1 \
      RP_TCP_MEM="$(cat /proc/sys/net/ipv4/tcp_mem 2>/dev/null)" bash "$0" "$@"
    echo "FAIL: unshare -n: cannot make a network namespace"
    exit 1
  fi
  if ! ip link set lo mtu "$mtu" up; then
    echo "FAIL: cannot bring up loopback (MTU $mtu) in a private network namespace"
    exit 1
  fi
}

# t_tcp_mem: "N pages of TCP memory in use (pressure from P, limit L)",
# machine-wide (net.ipv4.tcp_mem is not per namespace).
t_tcp_mem() {
  local used lim
  used=$(awk '/^TCP:/{for (i = 1; i < NF; i++) if ($i == "mem") print $(i + 1)}' /proc/net/sockstat)
  read -r -a lim <<<"${RP_TCP_MEM:-$(cat /proc/sys/net/ipv4/tcp_mem 2>/dev/null)}"
  [ ${#lim[@]} -ge 3 ] || lim=(? ? ?)
  echo "$used pages of TCP memory in use (pressure from ${lim[1]}, limit ${lim[2]})"
}

# t_hosts LINE...: make these lines the whole of $T_HOSTS (written in
# place: the bind mount follows the file, not its name).
t_hosts() { printf '%s\n' "$@" >"$T_HOSTS"; }

# t_resolve NAME PORT: the addresses NAME:PORT resolves to, in the order
# getaddrinfo gives them (AF_UNSPEC, SOCK_STREAM, no flags: as ringpiped
# asks), one per line.
t_resolve() {
  python3 -c '
import socket, sys
for ai in socket.getaddrinfo(sys.argv[1], int(sys.argv[2]), socket.AF_UNSPEC,
                             socket.SOCK_STREAM):
    print(ai[4][0])' "$1" "$2"
}

# t_blackhole HOST PORT: listen on HOST:PORT (e.g. ::1) with a full listen
# backlog (listen(0) and one connection that is never accepted), so that
# the kernel drops every later SYN to it: an address that never answers,
# on loopback.  Returns once a probe connect has gone unanswered for 0.5 s.
t_blackhole() {
  local ready="$T_TMP/blackhole.$1.$2" i
  t_bg python3 -c '
import socket, sys, time
host, port, ready = sys.argv[1], int(sys.argv[2]), sys.argv[3]
fam = socket.AF_INET6 if ":" in host else socket.AF_INET
lsn = socket.socket(fam)
lsn.bind((host, port))
lsn.listen(0)
filler = socket.socket(fam)
filler.connect((host, port))
probe = socket.socket(fam)
probe.settimeout(0.5)
try:
    probe.connect((host, port))
    sys.exit("t_blackhole: a probe connected")
except socket.timeout:
    pass
probe.close()
open(ready, "w").write("ok\n")
time.sleep(3600)' "$1" "$2" "$ready"
  for i in $(seq 1 100); do [ -s "$ready" ] && return 0; sleep 0.05; done
  echo "t_blackhole $1 $2 did not come up" >&2
  return 1
}

# t_rtt_ms ADDR [TIMEOUT]: connect to the echo behind ADDR ([ip]:port or
# /path), send one line and wait for it to come back, within TIMEOUT
# seconds (default 10); print the milliseconds that took, or "fail" (and
# return 1) if it did not come back whole.
t_rtt_ms() {
  python3 -c '
import socket, sys, time
addr, timeout = sys.argv[1], float(sys.argv[2])
t0 = time.monotonic()
try:
    if addr.startswith("/"):
        s = socket.socket(socket.AF_UNIX)
        target = addr
    else:
        host, port = addr.rsplit(":", 1)
        host = host.strip("[]")
        s = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
        target = (host, int(port))
    s.settimeout(timeout)
    s.connect(target)
    msg = b"rp-rtt\n"
    s.sendall(msg)
    got = b""
    while len(got) < len(msg):
        b = s.recv(len(msg) - len(got))
        if not b:
            break
        got += b
    if got != msg:
        raise OSError("short echo")
    print("%.0f" % ((time.monotonic() - t0) * 1000))
except OSError:
    print("fail")
    sys.exit(1)' "$1" "${2:-10}"
}

# t_closed_ms ADDR [TIMEOUT]: connect to ADDR ([ip]:port) and wait, within
# TIMEOUT seconds (default 10), for it to close the connection without
# sending anything; print the milliseconds that took, or "open" (and
# return 1) if it was still open or sent data.
t_closed_ms() {
  python3 -c '
import socket, sys, time
addr, timeout = sys.argv[1], float(sys.argv[2])
host, port = addr.rsplit(":", 1)
host = host.strip("[]")
s = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
t0 = time.monotonic()
s.settimeout(timeout)
try:
    s.connect((host, int(port)))
    data = s.recv(1)
except ConnectionResetError:
    data = b""
except OSError:
    print("open")
    sys.exit(1)
if data:
    print("open")
    sys.exit(1)
print("%.0f" % ((time.monotonic() - t0) * 1000))' "$1" "${2:-10}"
}

# t_wait_listen PORT [N]: wait (at most 5 s) until N (default 1) sockets
# listen on PORT, without connecting to it (t_wait_port's probe connection
# would hold a -b port of the daemon's for a moment).
t_wait_listen() {
  local i
  for i in $(seq 1 100); do
    [ "$(ss -Htln "( sport = :$1 )" | wc -l)" -ge "${2:-1}" ] && return 0
    sleep 0.05
  done
  echo "nothing listens on port $1" >&2
  return 1
}

# t_wait_log FILE PATTERN N: wait (at most 10 s) until FILE has at least N
# lines matching the grep PATTERN.
t_wait_log() {
  local i
  for i in $(seq 1 200); do
    [ "$(grep -c -- "$2" "$1" 2>/dev/null)" -ge "$3" ] && return 0
    sleep 0.05
  done
  echo "t_wait_log: $3 x '$2' not seen in $1" >&2
  return 1
}
