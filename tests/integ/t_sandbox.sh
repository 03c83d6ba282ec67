#!/usr/bin/env bash
# The Landlock sandbox (rp_sandbox.h), on by default: the start line says
# so; a key rotation (a new file renamed over the old one in the key's
# directory) reloads; a key file replaced by a symbolic link into another
# directory is refused on reload with an error naming the sandbox, and the
# old key still serves; -t is re-resolved (-r 1) from a private /etc/hosts
# inside the sandbox; the pidfile, which the sandbox may not remove, is
# emptied at exit.  --no-sandbox turns it off: the start line says so, the
# symlink reload then works and the pidfile is removed.
. "$(dirname "$0")/lib.sh"
t_auto_run_only "Landlock: the process (t_seccomp runs the epoll engine sandboxed)"
t_private_names "$@"

KEYS=$T_TMP/keys OTHER=$T_TMP/other
mkdir -p "$KEYS" "$OTHER"
t_key "$KEYS/k"
t_key "$OTHER/k2"
t_echo

# through PORT KEY: one line through the -d on PORT with KEY (ringpipe);
# prints what came back (bounded).
through() {
  echo "rp-sandbox-ping" | timeout -k 1 5 "$RINGPIPE" -t "$(t_addr "$1")" \
    -k "$2" 2>/dev/null
}
# serves NAME PORT KEY: PASS if a line comes back through PORT with KEY.
serves() {
  if [ "$(through "$2" "$3")" = rp-sandbox-ping ]; then t_pass "$1"
  else t_fail "$1"; fi
}
# refuses NAME PORT KEY: PASS if nothing comes back through PORT with KEY.
refuses() {
  if [ "$(through "$2" "$3")" = rp-sandbox-ping ]; then t_fail "$1"
  else t_pass "$1"; fi
}
# hup NAME PID LOG N PATTERN: SIGHUP PID, PASS if LOG then has N lines of
# the grep PATTERN (the Nth reload's outcome).
hup() {
  kill -HUP "$2"
  if t_wait_log "$3" "$5" "$4" 2>/dev/null; then t_pass "$1"
  else t_fail "$1"; tail -n 4 "$3" | sed 's/^/    /'; fi
}
# replace_link: make $KEYS/k a symbolic link to $OTHER/k2, renamed over
# the key file (as a rotation would).
replace_link() {
  ln -sf "$OTHER/k2" "$KEYS/k.new" && mv -T "$KEYS/k.new" "$KEYS/k"
}

# --- Sandboxed (the default).
D=$(t_port)
t_bg "$RINGPIPED" -F -d -s "$(t_addr "$D")" -t "$(t_addr "$ECHO_PORT")" \
  -k "$KEYS/k" -w 2 -n 0 2>"$T_TMP/d.err"
DPID=$T_LAST
# The port listens before the start line is written.
t_wait_port "$D" && t_wait_log "$T_TMP/d.err" 'sandbox: ' 1 ||
  { t_fail "sandboxed -d started"; cat "$T_TMP/d.err"; t_exit; }
if grep -q 'sandbox: unavailable' "$T_TMP/d.err"; then
  echo "Landlock is unavailable here: $(grep -o 'sandbox: [^;]*' "$T_TMP/d.err")"
  t_pass "the start line says the sandbox is unavailable"
  t_exit
fi
t_check "the start line says the sandbox is on (landlock ABI N)" \
  grep -Eq 'sandbox: landlock ABI [1-9]' "$T_TMP/d.err"
serves "the sandboxed pipe serves with the key" "$D" "$KEYS/k"

# A rotation: a new key renamed over the old one in the allowed directory.
cp "$KEYS/k" "$T_TMP/k.old"
t_key "$KEYS/k.new"
cp "$KEYS/k.new" "$T_TMP/k.rotated"
mv -T "$KEYS/k.new" "$KEYS/k"
hup "a rotation in the key's directory reloads (SIGHUP)" "$DPID" \
  "$T_TMP/d.err" 1 '^ringpiped: Reloaded: 1 key'
serves "the rotated key serves" "$D" "$T_TMP/k.rotated"
refuses "the key from before the rotation is refused" "$D" "$T_TMP/k.old"

# A symbolic link into another directory: the kernel refuses it.
replace_link
hup "a key file turned symbolic link into another directory: the reload fails" \
  "$DPID" "$T_TMP/d.err" 1 'Reload failed (a key file)'
t_check "the error says the sandbox refused the key file" \
  grep -q "$KEYS/k: refused by the sandbox (Landlock)" "$T_TMP/d.err"
serves "the key in use before still serves" "$D" "$T_TMP/k.rotated"
refuses "the key behind the link does not" "$D" "$OTHER/k2"
t_alive "the sandboxed daemon is still up" "$DPID"

# -r 1 re-resolves -t from /etc/hosts (private) inside the sandbox: the
# name first leads nowhere (127.0.0.2, where nothing listens), then to
# the echo.
t_hosts "127.0.0.2 rp-sandbox-target"
t_key "$KEYS/k3"
D2=$(t_port)
t_bg "$RINGPIPED" -F -d -s "$(t_addr "$D2")" -t "rp-sandbox-target:$ECHO_PORT" \
  -r 1 -k "$KEYS/k3" -w 2 -n 0 2>"$T_TMP/d2.err"
R2PID=$T_LAST
t_wait_port "$D2" || { t_fail "-r 1 daemon started"; cat "$T_TMP/d2.err"; t_exit; }
refuses "-t NAME at 127.0.0.2 (nothing there): no echo" "$D2" "$KEYS/k3"
t_hosts "127.0.0.1 rp-sandbox-target"
ok=
for i in $(seq 1 20); do
  [ "$(through "$D2" "$KEYS/k3")" = rp-sandbox-ping ] && { ok=1; break; }
  sleep 0.25
done
[ -n "$ok" ] && t_pass "-r 1 re-resolves NAME from /etc/hosts inside the sandbox" ||
  t_fail "-r 1 re-resolves NAME from /etc/hosts inside the sandbox"
kill "$R2PID"

# The pidfile: written before the sandbox, emptied at exit (no right to
# remove it).
D3=$(t_port)
"$RINGPIPED" -d -s "$(t_addr "$D3")" -t "$(t_addr "$ECHO_PORT")" \
  -k "$KEYS/k3" -w 1 -p "$T_TMP/sb.pid" 2>"$T_TMP/d3.err"
P3=$(cat "$T_TMP/sb.pid" 2>/dev/null)
[ -n "$P3" ] && T_PIDS+=("$P3")
t_check "daemonized in the sandbox: the pidfile names a live daemon" \
  test -n "$P3" -a -d "/proc/${P3:-0}"
kill -TERM "$P3" 2>/dev/null
for i in $(seq 1 100); do kill -0 "$P3" 2>/dev/null || break; sleep 0.05; done
t_check "at exit the sandboxed daemon empties its pidfile" \
  test -f "$T_TMP/sb.pid" -a ! -s "$T_TMP/sb.pid"

# --- --no-sandbox.
t_key "$KEYS/k"
D4=$(t_port)
t_bg "$RINGPIPED" -F -d -s "$(t_addr "$D4")" -t "$(t_addr "$ECHO_PORT")" \
  -k "$KEYS/k" -w 2 -n 0 --no-sandbox 2>"$T_TMP/d4.err"
NPID=$T_LAST
t_wait_port "$D4" && t_wait_log "$T_TMP/d4.err" 'sandbox: ' 1 ||
  { t_fail "--no-sandbox started"; cat "$T_TMP/d4.err"; t_exit; }
t_check "--no-sandbox: the start line says sandbox: off (--no-sandbox)" \
  grep -q 'sandbox: off (--no-sandbox)' "$T_TMP/d4.err"
replace_link
hup "--no-sandbox: the symlink reload succeeds" "$NPID" "$T_TMP/d4.err" 1 \
  '^ringpiped: Reloaded: 1 key'
serves "--no-sandbox: the key behind the link serves" "$D4" "$OTHER/k2"
D5=$(t_port)
"$RINGPIPED" -d -s "$(t_addr "$D5")" -t "$(t_addr "$ECHO_PORT")" \
  -k "$OTHER/k2" -w 1 -p "$T_TMP/nosb.pid" --no-sandbox 2>"$T_TMP/d5.err"
P5=$(cat "$T_TMP/nosb.pid" 2>/dev/null)
[ -n "$P5" ] && T_PIDS+=("$P5")
kill -TERM "$P5" 2>/dev/null
for i in $(seq 1 100); do kill -0 "$P5" 2>/dev/null || break; sleep 0.05; done
t_check_fails "--no-sandbox: at exit the pidfile is removed" test -e "$T_TMP/nosb.pid"
t_exit
