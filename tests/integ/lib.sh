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
t_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
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
  t_bg "$bin" -F "$mode" -s "$src" -t "$tgt" -k "$key" -n 0 "$@"
  local p=${src##*:}
  [[ "$src" == /* ]] && p=$src
  t_wait_port "$p"
}

# t_addr PORT: the spiped form of 127.0.0.1:PORT.
t_addr() { echo "[127.0.0.1]:$1"; }

# t_echo: start an echo target; sets ECHO_PORT.
t_echo() {
  ECHO_PORT=$(t_port)
  t_bg "$RPTARGET" --echo -l "$(t_addr "$ECHO_PORT")"
  t_wait_port "$ECHO_PORT"
}
