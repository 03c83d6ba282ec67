#!/usr/bin/env bash
# Choosing the engine by hand: --engine on both programs, the
# RINGPIPED_ENGINE environment variable, -Z (SEND_ZC on io_uring), and the
# errors when the requested engine cannot run or does not exist.  Each
# choice carries a verified echo through -e -> -d.
. "$(dirname "$0")/lib.sh"
KEY=$T_TMP/key
t_key "$KEY"
t_echo

# pair NAME FLAGS...: ringpiped -e -> ringpiped -d -> echo with FLAGS on
# both; PASS if 4 MB echo back intact over 4 connections.
pair() {
  local name=$1; shift
  local d e
  d=$(t_port); e=$(t_port)
  t_daemon ring -d "$(t_addr "$d")" "$(t_addr "$ECHO_PORT")" "$KEY" "$@" \
    || { t_fail "$name: -d starts"; return; }
  local dp=$T_LAST
  t_daemon ring -e "$(t_addr "$e")" "$(t_addr "$d")" "$KEY" "$@" \
    || { t_fail "$name: -e starts"; return; }
  local ep=$T_LAST
  t_check "$name: 4 connections x 1 MB echoed intact" \
    "$RPLOAD" echo -q -c "$(t_addr "$e")" -n 4 -b 1M --timeout 20
  kill "$dp" "$ep" 2>/dev/null
}

pair "--engine epoll" --engine epoll
pair "--engine auto" --engine auto
# (In the epoll run every ringpiped is under the filter: io_uring cannot.)
if [ "$RP_ENGINE_RUN" = auto ]; then
  pair "--engine io_uring" --engine io_uring
  pair "-Z (SEND_ZC, falls back to send where the kernel copies)" -Z
fi
RINGPIPED_ENGINE=epoll pair "RINGPIPED_ENGINE=epoll"

# Errors: a name that is no engine; io_uring asked for where it is blocked.
t_check "--engine with a bad name fails and says so" sh -c \
  "! '$RINGPIPED' -F -d -s '[127.0.0.1]:1' -t '[127.0.0.1]:2' -k '$KEY' --engine fast 2>'$T_TMP/err' && grep -q 'engine' '$T_TMP/err'"
t_check "RINGPIPED_ENGINE with a bad name fails and says so" sh -c \
  "! RINGPIPED_ENGINE=fast timeout 5 '$RINGPIPED' -F -d -s '[127.0.0.1]:$(t_port)' -t '[127.0.0.1]:2' -k '$KEY' 2>'$T_TMP/err' && grep -q 'RINGPIPED_ENGINE' '$T_TMP/err'"
t_check "--engine io_uring where io_uring is blocked fails at once, naming the cause" sh -c \
  "! timeout 5 '$RPNOURING' '$RINGPIPED_REAL' -F -d -s '[127.0.0.1]:$(t_port)' -t '[127.0.0.1]:2' -k '$KEY' --engine io_uring 2>'$T_TMP/err' && grep -q 'EPERM' '$T_TMP/err'"

# The locked-memory limit: io_uring's rings (and fixed buffers) count
# against RLIMIT_MEMLOCK for a process that may not lock memory.  As an
# unprivileged user (nobody, through setpriv), ulimit -l 64 (an old
# default, and many containers'): the workers take smaller rings and
# start, on io_uring or (when the probe's ring is not yet given back as
# the second worker starts) on epoll; ulimit -l 16: the probe's ring fits
# but a worker's does not, so auto runs epoll for all, saying why.  Each
# carries a verified echo (the release before exited in both).
memlock() {
  local kib=$1 want=$2 d e dir
  dir=$(mktemp -d); chmod 0755 "$dir"; cp "$KEY" "$dir/key"; chmod 0644 "$dir/key"
  d=$(t_port); e=$(t_port)
  t_daemon ring -d "$(t_addr "$d")" "$(t_addr "$ECHO_PORT")" "$KEY" \
    || { t_fail "memlock $kib KiB: -d starts"; return; }
  local dp=$T_LAST
  t_bg sh -c "ulimit -l $kib && exec setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all '$RINGPIPED_REAL' -F -e -s '$(t_addr "$e")' -t '$(t_addr "$d")' -k '$dir/key' -n 0 2>'$T_TMP/ml$kib'"
  local ep=$T_LAST
  if t_wait_port "$e"; then
    # The start line may follow the listening socket by a moment.
    for _ in $(seq 1 50); do grep -q 'workers, ' "$T_TMP/ml$kib" && break; sleep 0.1; done
    if grep -q "$want" "$T_TMP/ml$kib" &&
      "$RPLOAD" echo -q -c "$(t_addr "$e")" -n 4 -b 1M --timeout 20 >"$T_TMP/ml$kib.load" 2>&1; then
      t_pass "ulimit -l $kib, unprivileged: $want; 4 connections x 1 MB echoed intact"
    else
      t_fail "ulimit -l $kib, unprivileged: $want; 4 connections x 1 MB echoed intact"
      sed 's/^/    log: /' "$T_TMP/ml$kib"; tail -n 3 "$T_TMP/ml$kib.load" 2>/dev/null | sed 's/^/    /'
    fi
  else
    t_fail "ulimit -l $kib, unprivileged: -e starts ($(head -c 300 "$T_TMP/ml$kib"))"
  fi
  kill "$dp" "$ep" 2>/dev/null
  rm -rf "$dir"
}
if [ "$RP_ENGINE_RUN" = auto ] && [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
  memlock 64 "workers, [a-z_]* engine"
  memlock 16 "using the epoll engine: worker [0-9]* could not set up its io_uring"
  grep -q "locked-memory limit, 16 KiB" "$T_TMP/ml16" \
    && t_pass "ulimit -l 16: the log names the locked-memory limit" \
    || t_fail "ulimit -l 16: the log names the locked-memory limit ($(head -c 300 "$T_TMP/ml16"))"
else
  t_pass "skipped: the locked-memory cases need root, setpriv and the io_uring run"
fi

# ringpipe picks its engine the same way.
D=$(t_port)
t_daemon ring -d "$(t_addr "$D")" "$(t_addr "$ECHO_PORT")" "$KEY"
head -c 3000000 /dev/urandom >"$T_TMP/in"
for eng in epoll auto; do
  t_check "ringpipe --engine $eng: 3 MB through stdin/stdout, identical" sh -c \
    "'$RINGPIPE' -t '$(t_addr "$D")' -k '$KEY' --engine $eng <'$T_TMP/in' >'$T_TMP/out' && cmp -s '$T_TMP/in' '$T_TMP/out'"
done
t_exit
