#!/usr/bin/env bash
# What ships: the man pages (mandoc -Tlint and groff -ww clean, every flag
# of the usage messages documented and nothing else; ringpiped.conf(5)'s
# table of keys is the daemon's: every key, scope and flag, and its example
# parses), the systemd units (systemd-analyze verify clean; the template's
# ExecStart with a flags file runs today's daemon against stock spiped;
# ringpiped-config.service has the template's hardening and its ExecStart
# serves the shipped example file, reloads it, and passes traffic; every
# system call the daemon makes on both engines, in both modes, is inside
# the units' SystemCallFilter), the example configuration file (it parses
# as shipped, and a copy with real keys and free ports serves its five
# pipes against stock spiped), the Debian package (make deb, lintian
# without errors, the units, man pages and examples in it), and, as root,
# the package installed with apt-get, its /usr/bin/ringpiped and ringpipe
# run against stock spiped (also under the io_uring-blocking seccomp
# filter), and removed with every file gone.  The install part changes the machine: it is
# skipped (with a PASS line saying so) when not root or with SHIP_TESTS=0.
# Runs once: in the auto engine run, not under a sanitizer build.
. "$(dirname "$0")/lib.sh"

if [ -n "${SAN:-}" ] || [ "$RP_ENGINE_RUN" != auto ]; then
  t_pass "ship tests run once, in the auto run without sanitizers (this run: ${SAN:-no sanitizer}, $RP_ENGINE_RUN)"
  t_exit
fi
unset MAKEFLAGS MFLAGS MAKELEVEL
KEY=$T_TMP/key
t_key "$KEY"

# --- Man pages.
if ! command -v mandoc >/dev/null || ! command -v groff >/dev/null; then
  t_fail "man pages: mandoc and groff are installed (ci/deps.sh installs them)"
else
  # Run in man/ so that each page's .Xr to the other is found; a
  # reference to a page of another package that is not installed here is
  # only noted, and mandoc's complaint about the system's own outdated
  # mandoc.db is not about these pages.
  (cd man && mandoc -Tlint ringpiped.1 ringpipe.1 ringpiped.conf.5) >"$T_TMP/lint" 2>&1
  grep -v 'outdated mandoc.db' "$T_TMP/lint" >"$T_TMP/lint.ours"
  missing=$(grep -c 'referenced manual not found' "$T_TMP/lint.ours")
  if grep -v 'STYLE: referenced manual not found: Xr \(spipe\|spiped\|systemd\|systemd.exec\|systemd.service\|syslog\|ssh\) [0-9]' \
      "$T_TMP/lint.ours" | grep -q .; then
    t_fail "man pages: mandoc -Tlint clean"; sed 's/^/    /' "$T_TMP/lint.ours"
  else
    t_pass "man pages: mandoc -Tlint clean ($missing references to other packages' pages not installed here)"
  fi
  if (cd man && groff -mandoc -ww -z ringpiped.1 ringpipe.1 ringpiped.conf.5) >"$T_TMP/groff" 2>&1 &&
      ! grep -q . "$T_TMP/groff"; then
    t_pass "man pages: groff -mandoc -ww clean"
  else
    t_fail "man pages: groff -mandoc -ww clean"; sed 's/^/    /' "$T_TMP/groff"
  fi
fi

# flags_of_usage PROGRAM: the flags its usage message shows, one a line
# (-x for each letter of a short-option group, --name for long options).
flags_of_usage() {
  "$1" 2>&1 </dev/null | python3 -c '
import re, sys
u = sys.stdin.read()
out = set()
for m in re.finditer(r"(?<![\w-])-([A-Za-z]+)\b", u):
    out.update("-" + c for c in m.group(1))
out.update(re.findall(r"--[a-z][a-z0-9-]*", u))
print("\n".join(sorted(out)))'
}
# flags_of_page PAGE: the flags the page documents as list items (.It Fl x).
flags_of_page() {
  sed -n 's/^\.It Fl \(\\-\)\{0,1\}\([A-Za-z][A-Za-z0-9-]*\).*/\1\2/p' "$1" |
    sed 's/^\\-/--/; s/^\([^-]\)/-\1/' | sort -u
}
for prog in ringpiped ringpipe; do
  flags_of_usage "$ROOT/$BUILD/$prog" >"$T_TMP/u.$prog"
  flags_of_page "man/$prog.1" >"$T_TMP/m.$prog"
  undoc=$(comm -23 "$T_TMP/u.$prog" "$T_TMP/m.$prog" | tr '\n' ' ')
  extra=$(comm -13 "$T_TMP/u.$prog" "$T_TMP/m.$prog" | tr '\n' ' ')
  n=$(wc -l <"$T_TMP/u.$prog")
  if [ "$n" -ge 3 ] && [ -z "$undoc" ] && [ -z "$extra" ]; then
    t_pass "$prog(1) documents exactly the $n flags of its usage message"
  else
    t_fail "$prog(1) documents the flags of its usage message (usage: $n; not in the page: ${undoc:-none}; in the page, not in usage: ${extra:-none})"
  fi
done

# ringpiped.conf(5): its one table of keys (.It Ic KEY Ta FLAG Ta SCOPE Ta),
# and the README's copy of it, are the daemon's (opt_table in
# src/process/rp_options.c): the same keys, each in its scope and with its
# flag (the letter, else --KEY; mode: -e, -d).
python3 - src/process/rp_options.c man/ringpiped.conf.5 README.md >"$T_TMP/keys" 2>&1 <<'EOF'
import re, sys
src = open(sys.argv[1]).read()
i = src.index("opt_table[] = {")
rows = re.findall(r'\{\s*([^,]+),\s*"([a-z-]+)",\s*\d,\s*RP_OPT_(PIPE|GLOBAL)\s*\}',
                  src[i:src.index("};", i)])
want = {}
for ch, key, scope in rows:
    flag = "Fl " + ch.strip("'") if ch.startswith("'") else "Fl \\-" + key
    want[key] = (flag, scope.lower())
want["mode"] = ("Fl e , Fl d", "pipe")
page = open(sys.argv[2]).read()
have = {k: (f, s) for k, f, s in
        re.findall(r"^\.It Ic ([a-z-]+) Ta (.*?) Ta (pipe|global) Ta", page, re.M)}
# The README shows the same table: | `key` | `-x` | scope | meaning |.
def plain(fl):  # "Fl \\-keepalive" -> "--keepalive", "Fl e , Fl d" -> "-e, -d"
    return fl.replace("Fl \\-", "--").replace("Fl ", "-").replace(" , ", ", ")
readme = {k: (", ".join(re.findall(r"`(-[^`]+)`", f)), s)
          for k, f, s in re.findall(r"^\| `([a-z-]+)` \| (.*?) \| (pipe|global) \|",
                                    open(sys.argv[3]).read(), re.M)}
bad = sorted(k for k in set(want) | set(have) if want.get(k) != have.get(k))
for k in bad:
    print("%s: daemon %s, page %s" % (k, want.get(k), have.get(k)))
want_plain = {k: (plain(f), sc) for k, (f, sc) in want.items()}
rbad = sorted(k for k in set(want) | set(readme) if want_plain.get(k) != readme.get(k))
for k in rbad:
    print("%s: daemon %s, README %s" % (k, want_plain.get(k), readme.get(k)))
print("%d keys" % len(want))
sys.exit(1 if bad or rbad or len(want) < 20 else 0)
EOF
if [ $? -eq 0 ]; then
  t_pass "ringpiped.conf(5) and the README: their table has every key of the daemon's, each with its scope and flag ($(tail -n 1 "$T_TMP/keys"))"
else
  t_fail "ringpiped.conf(5) and the README: their table is the daemon's"; sed 's/^/    /' "$T_TMP/keys"
fi
# The page's example (its first literal display under EXAMPLES), the
# README's and the shipped example file parse: with no key files here, the only complaint is
# the first key file, which is read after the whole file has been checked.
awk '/^\.Sh EXAMPLES/ { e = 1 } e && /^\.Ed/ { exit } p; e && /^\.Bd -literal/ { p = 1 }' \
  man/ringpiped.conf.5 >"$T_TMP/man-example.conf"
# parses FILE LABEL: ringpiped -c FILE gets through the file to its first key.
parses() {
  timeout -k 1 10 "$RINGPIPED" -F -c "$1" >"$T_TMP/parse.out" 2>&1
  if [ $? = 1 ] && grep -q "^ringpiped: $1:[0-9]*: cannot read key file /etc/ringpiped/[a-z0-9-]*\.key of pipe \[" \
      "$T_TMP/parse.out" && [ "$(grep -c "$1:" "$T_TMP/parse.out")" = 1 ] &&
      [ "$(grep -c '^\[' "$1")" -ge 6 ]; then
    t_pass "$2 parses ($(grep -c '^\[' "$1") sections; stops at the first key file, absent here)"
  else
    t_fail "$2 parses"; sed 's/^/    /' "$T_TMP/parse.out"
  fi
}
if [ -e /etc/ringpiped/web-dc1.key ]; then
  t_pass "example files: parse check skipped (/etc/ringpiped/web-dc1.key exists here)"
else
  parses "$T_TMP/man-example.conf" "ringpiped.conf(5)'s example"
  parses "$ROOT/systemd/ringpiped.conf" "the example file systemd/ringpiped.conf"
  # The README's example: the block that starts with its path.
  awk '/^```/ { if (p) exit; n = NR } NR == n + 1 && /^# \/etc\/ringpiped\/ringpiped.conf$/ { p = 1 } p' \
    README.md >"$T_TMP/readme-example.conf"
  parses "$T_TMP/readme-example.conf" "the README's example"
fi

# --- The systemd unit.
UNIT=systemd/ringpiped@.service
CUNIT=systemd/ringpiped-config.service
# verify_unit FILE LABEL [ENV...]: systemd-analyze verify FILE is clean (for
# this unit; other units on the machine may say things of their own).
verify_unit() {
  local f=$1 label=$2; shift 2
  env "$@" systemd-analyze verify "$f" >"$T_TMP/verify" 2>&1
  local rc=$?
  if [ $rc -eq 0 ] && ! grep -q 'ringpiped' "$T_TMP/verify"; then
    t_pass "$label"
  else
    t_fail "$label (rc $rc)"; grep 'ringpiped' "$T_TMP/verify" | sed 's/^/    /'
  fi
}
if ! command -v systemd-analyze >/dev/null; then
  t_fail "systemd-analyze is installed (ci/deps.sh installs systemd)"
else
  # The unit as make install writes it for this tree (binary and man page
  # where they are here), as an instance, so that %i and %d expand.
  mkdir -p "$T_TMP/units" "$T_TMP/man/man1" "$T_TMP/man/man5"
  sed "s|/usr/bin/ringpiped|$ROOT/$BUILD/ringpiped|" "$UNIT" \
    >"$T_TMP/units/ringpiped@web.service"
  cp man/ringpiped.1 man/ringpipe.1 "$T_TMP/man/man1/"
  cp man/ringpiped.conf.5 "$T_TMP/man/man5/"
  verify_unit "$T_TMP/units/ringpiped@web.service" \
    "systemd-analyze verify ringpiped@web.service clean" \
    MANPATH="$T_TMP/man:/usr/share/man"
  # The optional socket unit, as an instance (the port) beside its service.
  cp systemd/ringpiped@.socket "$T_TMP/units/ringpiped@8025.socket"
  cp "$T_TMP/units/ringpiped@web.service" "$T_TMP/units/ringpiped@8025.service"
  verify_unit "$T_TMP/units/ringpiped@8025.socket" \
    "systemd-analyze verify ringpiped@8025.socket clean" \
    MANPATH="$T_TMP/man:/usr/share/man"
  # The configuration-file unit (its Documentation= names ringpiped.conf(5)).
  sed "s|/usr/bin/ringpiped|$ROOT/$BUILD/ringpiped|" "$CUNIT" \
    >"$T_TMP/units/ringpiped-config.service"
  verify_unit "$T_TMP/units/ringpiped-config.service" \
    "systemd-analyze verify ringpiped-config.service clean" \
    MANPATH="$T_TMP/man:/usr/share/man"
fi
sock=systemd/ringpiped@.socket
if grep -qx 'ListenStream=%i' "$sock" && grep -qx 'FileDescriptorName=listen' "$sock" &&
   grep -qx 'Service=ringpiped@%i.service' "$sock"; then
  t_pass "socket unit: listens on the instance's port and passes it to ringpiped@NAME as systemd:listen"
else
  t_fail "socket unit: ListenStream=%i, FileDescriptorName=listen, Service=ringpiped@%i.service"
fi
for u in "$UNIT" "$CUNIT"; do
  if grep -q '^Type=notify$' "$u" && grep -q '^ExecReload=/bin/kill -HUP \$MAINPID$' "$u"; then
    t_pass "$(basename "$u"): Type=notify (ringpiped sends READY=1/RELOADING=1/STOPPING=1) and ExecReload sends SIGHUP"
  else
    t_fail "$(basename "$u"): Type=notify with ExecReload=/bin/kill -HUP \$MAINPID"
  fi
done
if grep -qx 'ExecStart=/usr/bin/ringpiped -c /etc/ringpiped/ringpiped.conf -F' "$CUNIT"; then
  t_pass "ringpiped-config.service: ExecStart runs ringpiped -c /etc/ringpiped/ringpiped.conf -F"
else
  t_fail "ringpiped-config.service: ExecStart runs ringpiped -c /etc/ringpiped/ringpiped.conf -F"
fi
# The same hardening and limits as the template: every directive of its
# [Service] section but the ones that say what to run.
hardening() {
  sed -n '/^\[Service\]/,/^\[Install\]/p' "$1" | grep -E '^[A-Za-z]+=' |
    grep -vE '^(EnvironmentFile|ExecStart)='
}
if diff <(hardening "$UNIT") <(hardening "$CUNIT") >"$T_TMP/hardening.diff" &&
    [ "$(hardening "$CUNIT" | wc -l)" -ge 30 ]; then
  t_pass "ringpiped-config.service: the template's $(hardening "$CUNIT" | wc -l) other [Service] settings (user, sandboxing, system call filter, limits)"
else
  t_fail "ringpiped-config.service: the template's hardening"; sed 's/^/    /' "$T_TMP/hardening.diff"
fi
nofile=$(sed -n 's/^LimitNOFILE=//p' "$UNIT")
ex_n=$(sed -n 's/^RINGPIPED_ARGS=.*-n \([0-9]*\).*/\1/p' systemd/example.conf)
# Two descriptors per connection, three per worker at -w 256, 64 more.
if [ -n "$nofile" ] && [ -n "$ex_n" ] && [ "$nofile" -ge $((2 * 32000 + 3 * 256 + 64)) ] &&
    [ "$nofile" -ge $((2 * ex_n + 3 * 256 + 64)) ]; then
  t_pass "unit: LimitNOFILE=$nofile carries -n 32000 (and the example's -n $ex_n) at -w 256"
else
  t_fail "unit: LimitNOFILE ($nofile) sized for -n (example -n $ex_n)"
fi

# unit_cmd CONF KEYDIR BIN: the unit's ExecStart as systemd would run it
# for instance CONF (EnvironmentFile=CONF), with the unit's
# /usr/bin/ringpiped replaced by BIN and its /etc/ringpiped/%i.key by
# KEYDIR/key (the machine's /etc is not touched); one word per line.
unit_cmd() {
  local conf=$1 cred=$2 bin=$3 args w
  args=$(sed -n 's/^RINGPIPED_ARGS=//p' "$conf")
  for w in $(sed -n 's/^ExecStart=//p' "$UNIT"); do
    case $w in
      /usr/bin/ringpiped) echo "$bin" ;;
      '$RINGPIPED_ARGS') printf '%s\n' $args ;;
      /etc/ringpiped/%i.key) echo "$cred/key" ;;
      *) echo "$w" ;;
    esac
  done
}
# unit_env CONF: the other VAR=value lines of CONF, as env(1) arguments.
unit_env() { grep -E '^[A-Z_]+=' "$1" | grep -v '^RINGPIPED_ARGS='; }

t_echo
mkdir -p "$T_TMP/cred"
cp "$KEY" "$T_TMP/cred/key"
# unit_pipe LABEL EXTRA_CONF_LINE [strace]: a ringpiped -d started as the
# unit would from a flags file, behind stock spiped -e, echo verified.
unit_pipe() {
  local label=$1 extra=$2 trace=${3:-} d e pid i
  d=$(t_port); e=$(t_port)
  printf 'RINGPIPED_ARGS=-d -s [127.0.0.1]:%s -t [127.0.0.1]:%s -n 100\n%s\n' \
    "$d" "$ECHO_PORT" "$extra" >"$T_TMP/inst.conf"
  mapfile -t cmd < <(unit_cmd "$T_TMP/inst.conf" "$T_TMP/cred" "$RINGPIPED")
  mapfile -t envs < <(unit_env "$T_TMP/inst.conf")
  if [ -n "$trace" ]; then
    t_bg strace -f -qq -o "$T_TMP/strace.$trace" env "${envs[@]}" "${cmd[@]}"
  else
    t_bg env "${envs[@]}" "${cmd[@]}"
  fi
  pid=$T_LAST
  t_wait_port "$d" || { t_fail "$label: the unit's command line starts ringpiped"; return 1; }
  t_daemon stock -e "$(t_addr "$e")" "$(t_addr "$d")" "$KEY"
  t_check "$label: stock -e -> ringpiped -d -> echo, 8 MB over 4 connections verified" \
    "$RPLOAD" echo -q -c "$(t_addr "$e")" -n 4 -b 2M --timeout 60
  if [ -n "$trace" ]; then
    # Stop the traced daemon (strace's child) with SIGTERM and let strace end.
    kill -TERM "$(pgrep -P "$pid" | head -1)" 2>/dev/null
    for i in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  fi
}
unit_pipe "unit command line (auto engine)" ""
unit_pipe "unit command line with RINGPIPED_ENGINE=epoll in the flags file" "RINGPIPED_ENGINE=epoll"

# config_run LABEL ENGINE [strace]: ringpiped-config.service's ExecStart,
# its /usr/bin/ringpiped the daemon under test and its
# /etc/ringpiped/ringpiped.conf a copy of the shipped example with its key
# files in a directory of its own, free ports and engine = ENGINE; stock
# spiped at the far end of each of its five pipes (a stock -d in front of
# the echo server as an encrypting pipe's target, a stock -e in front of a
# decrypting pipe).  Each pipe carries verified bytes (a proxy-protocol
# pipe: its PROXY v2 header comes back ahead of them); then a reload
# (SIGHUP) that adds a pipe and removes web-dc2; then SIGTERM.
config_run() {
  local label=$1 eng=$2 trace=${3:-} ex=$T_TMP/ex.$2 pid s line mode=
  local -A smode=() ssrc=() stgt=() skey=() sproxy=()
  local names=() f
  mkdir -p "$ex"
  while IFS= read -r line; do
    case $line in
      '['*']'*) s=${line#[}; s=${s%%]*}; [ "$s" = global ] || names+=("$s") ;;
      'engine = '*) line="engine = $eng" ;;
      'metrics = '*) line="metrics = $(t_addr "$(t_port)")" ;;
      'bind = '*) line="bind = 127.0.0.1" ;;
      'key = /etc/ringpiped/'*) line="key = $ex/${line#key = /etc/ringpiped/}"
        [ -n "${skey[$s]:-}" ] || skey[$s]=${line#key = }
        t_key "${line#key = }" ;;
      'mode = '*) smode[$s]=${line#mode = } ;;
      'proxy-protocol = '*) sproxy[$s]=1 ;;
      'source = '*) ssrc[$s]=$(t_port); line="source = $(t_addr "${ssrc[$s]}")" ;;
      'target = '*)
        if [ "${smode[$s]}" = encrypt ]; then stgt[$s]=$(t_port); else stgt[$s]=$ECHO_PORT; fi
        line="target = $(t_addr "${stgt[$s]}")" ;;
    esac
    printf '%s\n' "$line"
  done <systemd/ringpiped.conf >"$ex/ringpiped.conf"
  f=$ex/ringpiped.conf
  mapfile -t cmd < <(sed -n 's/^ExecStart=//p' "$CUNIT" | tr ' ' '\n' |
    sed "s|^/usr/bin/ringpiped\$|$RINGPIPED|; s|^/etc/ringpiped/ringpiped.conf\$|$f|")
  if [ -n "$trace" ]; then
    t_bg strace -f -qq -o "$T_TMP/strace.config.$eng" "${cmd[@]}" 2>"$ex/err"
  else
    t_bg "${cmd[@]}" 2>"$ex/err"
  fi
  pid=$T_LAST
  for s in "${names[@]}"; do
    if [ "${smode[$s]}" = encrypt ]; then
      t_daemon stock -d "$(t_addr "${stgt[$s]}")" "$(t_addr "$ECHO_PORT")" "${skey[$s]}"
    fi
    t_wait_port "${ssrc[$s]}" || break
  done
  if [ ${#names[@]} = 5 ] && t_wait_log "$ex/err" "pipe \[${names[4]}\]" 1; then
    t_pass "$label: the unit's command line serves the example's five pipes (${names[*]})"
  else
    t_fail "$label: the unit's command line serves the example's pipes (${names[*]})"
    sed 's/^/    /' "$ex/err"; return 1
  fi
  # Every pipe: verified bytes through it and stock spiped.
  local ok=() bad=() e
  for s in "${names[@]}"; do
    if [ "${smode[$s]}" = decrypt ]; then
      e=$(t_port)
      t_daemon stock -e "$(t_addr "$e")" "$(t_addr "${ssrc[$s]}")" "${skey[$s]}"
      "$RPLOAD" echo -q -c "$(t_addr "$e")" -n 2 -b 1M --timeout 30 >/dev/null 2>&1 &&
        ok+=("$s") || bad+=("$s")
    elif [ -n "${sproxy[$s]:-}" ]; then
      # PROXY v2: the 12-byte signature, then the bytes sent.
      python3 - "${ssrc[$s]}" <<'PY' && ok+=("$s") || bad+=("$s")
import os, socket, sys
data = os.urandom(100000)
c = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=20)
c.sendall(data)
c.shutdown(socket.SHUT_WR)
got = b""
while True:
    b = c.recv(65536)
    if not b:
        break
    got += b
sig = b"\r\n\r\n\x00\r\nQUIT\n"
sys.exit(0 if got.startswith(sig) and got.endswith(data) and
         len(got) == 16 + int.from_bytes(got[14:16], "big") + len(data) else 1)
PY
    else
      "$RPLOAD" echo -q -c "$(t_addr "${ssrc[$s]}")" -n 2 -b 1M --timeout 30 >/dev/null 2>&1 &&
        ok+=("$s") || bad+=("$s")
    fi
  done
  if [ ${#bad[@]} = 0 ]; then
    t_pass "$label: every pipe carries verified bytes to or from stock spiped (${ok[*]}; the PROXY v2 header ahead of the web pipes' bytes)"
  else
    t_fail "$label: pipes that did not carry their bytes: ${bad[*]}"
  fi
  # Reload: web-dc2 removed, a pipe "extra" added.
  local xs=$(t_port) xe=$(t_port)
  awk '/^\[/ { skip = ($0 ~ /^\[web-dc2\]/) } !skip' "$f" >"$f.new"
  printf '\n[extra]\nmode = decrypt\nsource = %s\ntarget = %s\nkey = %s\n' \
    "$(t_addr "$xs")" "$(t_addr "$ECHO_PORT")" "${skey[akka]}" >>"$f.new"
  mv "$f.new" "$f"
  kill -HUP "$(pgrep -P "$pid" -x ringpiped || echo "$pid")"
  if t_wait_log "$ex/err" "Reloaded $f: 4 pipes unchanged (keys read again), 0 changed, 1 added, 1 removed" 1 &&
      t_wait_port "$xs" && t_daemon stock -e "$(t_addr "$xe")" "$(t_addr "$xs")" "${skey[akka]}" &&
      "$RPLOAD" echo -q -c "$(t_addr "$xe")" -n 2 -b 1M --timeout 30 >/dev/null 2>&1 &&
      ! (exec 3<>"/dev/tcp/127.0.0.1/${ssrc[web-dc2]}") 2>/dev/null; then
    t_pass "$label: SIGHUP (systemctl reload) after an edit: the added pipe serves, the removed one no longer listens"
  else
    t_fail "$label: SIGHUP after an edit adds and removes pipes"; tail -n 6 "$ex/err" | sed 's/^/    /'
  fi
  kill -TERM "$(pgrep -P "$pid" -x ringpiped || echo "$pid")"
  for s in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
}
config_run "ringpiped-config.service" auto

# Every system call of a -d on each engine, and of ringpiped-config.service's
# command line through the example's pipes and a reload, is allowed by the
# units' filter (SystemCallFilter=@system-service, then ~@privileged
# @resources, plus the calls a further SystemCallFilter= line names, e.g.
# Landlock's; the two units have the same filter, checked above).
syscall_set() {
  systemd-analyze syscall-filter "$1" 2>/dev/null | awk 'NR > 1 && /^    [@a-z_0-9]/ { print $1 }' |
    while read -r x; do case $x in @*) syscall_set "$x" ;; *) echo "$x" ;; esac; done
}
if command -v strace >/dev/null && command -v systemd-analyze >/dev/null &&
    grep -qx 'SystemCallFilter=@system-service' "$UNIT" &&
    grep -qx 'SystemCallFilter=~@privileged @resources' "$UNIT"; then
  syscall_set @system-service | sort -u >"$T_TMP/allow"
  { syscall_set @privileged; syscall_set @resources; } | sort -u >"$T_TMP/deny"
  { comm -23 "$T_TMP/allow" "$T_TMP/deny"
    sed -n 's/^SystemCallFilter=\([a-z_0-9][a-z_0-9 ]*\)$/\1/p' "$UNIT" |
      tr ' ' '\n' | grep -v '^$'; } | sort -u >"$T_TMP/allowed"
  for eng in io_uring epoll; do
    extra=""; [ $eng = epoll ] && extra="RINGPIPED_ENGINE=epoll"
    unit_pipe "traced, $eng" "$extra" "$eng"
    sed -E 's/^[0-9]+ +//; s/^<\.\.\. ([a-z_0-9]+) resumed.*/\1/; s/\(.*//' \
      "$T_TMP/strace.$eng" | grep -E '^[a-z_0-9]+$' | sort -u >"$T_TMP/calls.$eng"
    # execve is strace's env starting the daemon, before any filter.
    out=$(comm -23 "$T_TMP/calls.$eng" "$T_TMP/allowed" | grep -vx execve | tr '\n' ' ')
    if [ -s "$T_TMP/calls.$eng" ] && [ -z "$out" ]; then
      t_pass "unit: the $(wc -l <"$T_TMP/calls.$eng") system calls of ringpiped -d on $eng ($(grep -qx io_uring_enter "$T_TMP/calls.$eng" && echo "io_uring_setup/enter among them" || echo "no io_uring calls")) are all inside its SystemCallFilter"
    else
      t_fail "unit: ringpiped -d on $eng makes calls outside its SystemCallFilter: ${out:-none traced}"
    fi
    config_run "ringpiped-config.service traced, $eng" "$eng" trace
    sed -E 's/^[0-9]+ +//; s/^<\.\.\. ([a-z_0-9]+) resumed.*/\1/; s/\(.*//' \
      "$T_TMP/strace.config.$eng" | grep -E '^[a-z_0-9]+$' | sort -u >"$T_TMP/ccalls.$eng"
    out=$(comm -23 "$T_TMP/ccalls.$eng" "$T_TMP/allowed" | grep -vx execve | tr '\n' ' ')
    if [ -s "$T_TMP/ccalls.$eng" ] && [ -z "$out" ]; then
      t_pass "ringpiped-config.service: the $(wc -l <"$T_TMP/ccalls.$eng") system calls of ringpiped -c on $eng (five pipes, a reload) are all inside its SystemCallFilter"
    else
      t_fail "ringpiped-config.service: ringpiped -c on $eng makes calls outside its SystemCallFilter: ${out:-none traced}"
    fi
  done
else
  t_pass "unit: system call check skipped (no strace or systemd-analyze here)"
fi

# --- The Debian package.
DEB_BUILD=$BUILD-deb
start=$(date +%s.%N)
if make --no-print-directory deb DEB_BUILD="$DEB_BUILD" >"$T_TMP/deb.log" 2>&1; then
  DEB=$(tail -n 1 "$T_TMP/deb.log")
  secs=$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }')
  t_pass "make deb built $(basename "$DEB") ($(du -k "$DEB" | cut -f1) KiB, ${secs}s)"
else
  t_fail "make deb"; tail -n 5 "$T_TMP/deb.log" | sed 's/^/    /'
  t_exit
fi
dpkg-deb -c "$DEB" | awk '{ print $6 }' | sed 's|^\./|/|' >"$T_TMP/deb.files"
want="/usr/bin/ringpiped /usr/bin/ringpipe /usr/share/man/man1/ringpiped.1.gz
  /usr/share/man/man1/ringpipe.1.gz /usr/share/man/man5/ringpiped.conf.5.gz
  /lib/systemd/system/ringpiped@.service /lib/systemd/system/ringpiped@.socket
  /lib/systemd/system/ringpiped-config.service
  /usr/share/doc/ringpiped/examples/example.conf /usr/share/doc/ringpiped/examples/ringpiped.conf
  /usr/share/doc/ringpiped/README.md.gz /usr/share/doc/ringpiped/copyright"
absent=""
for f in $want; do grep -qx "$f" "$T_TMP/deb.files" || absent="$absent $f"; done
if [ -z "$absent" ]; then
  t_pass "the package holds the binaries, man pages (ringpiped.conf(5) in section 5), units (ringpiped-config.service too), examples and README"
else
  t_fail "the package lacks:$absent"
fi
if command -v lintian >/dev/null; then
  lintian -I -E --pedantic "$DEB" 2>&1 | grep -v 'running with root privileges' >"$T_TMP/lintian"
  tags=$(awk '{ print $1 $3 }' "$T_TMP/lintian" | sort | uniq -c | awk '{ printf "%s%s x%s", sep, $2, $1; sep = ", " }')
  if grep -q '^E: ' "$T_TMP/lintian"; then
    t_fail "lintian: no errors"; sed 's/^/    /' "$T_TMP/lintian"
  else
    t_pass "lintian: no errors (tags: ${tags:-none})"
  fi
else
  t_fail "lintian is installed (ci/deps.sh installs it)"
fi

# --- Installed with apt-get, run, removed (root only; changes the machine).
if [ "$(id -u)" -ne 0 ] || [ "${SHIP_TESTS:-1}" = 0 ]; then
  t_pass "package install/run/remove skipped: it needs root and changes the machine (uid $(id -u), SHIP_TESTS=${SHIP_TESTS:-1})"
  t_exit
fi
if dpkg-query -W -f='${Status}' ringpiped 2>/dev/null | grep -q 'ok installed'; then
  t_pass "package install/run/remove skipped: a ringpiped package is already installed here; this test leaves it alone"
  t_exit
fi
APT=(apt-get -y -qq -o DPkg::Lock::Timeout=120)
INSTALLED=0
ship_cleanup() {
  [ $INSTALLED = 1 ] && DEBIAN_FRONTEND=noninteractive "${APT[@]}" purge ringpiped >/dev/null 2>&1
  t_cleanup
}
trap ship_cleanup EXIT
start=$(date +%s.%N)
if DEBIAN_FRONTEND=noninteractive "${APT[@]}" install "$(realpath "$DEB")" \
    >"$T_TMP/apt.log" 2>&1 </dev/null; then
  INSTALLED=1
  secs=$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }')
  t_pass "apt-get install ./$(basename "$DEB") (${secs}s): $(dpkg-query -W -f='${Package} ${Version} ${Architecture}' ringpiped)"
else
  t_fail "apt-get install ./$(basename "$DEB")"; tail -n 5 "$T_TMP/apt.log" | sed 's/^/    /'
  t_exit
fi
t_check "installed: /usr/bin/ringpiped -v is this version" sh -c \
  "/usr/bin/ringpiped -v 2>&1 | grep -q \"^ringpiped $(dpkg-query -W -f='${Version}' ringpiped) \""
t_check "installed: man -w finds ringpiped(1), ringpipe(1) and ringpiped.conf(5)" sh -c \
  'man -w ringpiped >/dev/null && man -w ringpipe >/dev/null && man -w 5 ringpiped.conf | grep -q man5/'
if command -v systemd-analyze >/dev/null; then
  verify_unit /lib/systemd/system/ringpiped@.service \
    "installed: systemd-analyze verify /lib/systemd/system/ringpiped@.service clean"
  verify_unit /lib/systemd/system/ringpiped-config.service \
    "installed: systemd-analyze verify /lib/systemd/system/ringpiped-config.service clean"
fi
t_check "installed: the example /usr/share/doc/ringpiped/examples/ringpiped.conf is the tree's" \
  cmp -s /usr/share/doc/ringpiped/examples/ringpiped.conf systemd/ringpiped.conf

# The template's service user, and what it is for: reading its own key
# files, so that a reload (SIGHUP) reads a rewritten one.
if getent passwd ringpiped | grep -q ':/nonexistent:' && getent group ringpiped >/dev/null; then
  t_pass "installed: the system user ringpiped exists ($(getent passwd ringpiped | cut -d: -f3-7))"
  svc=$T_TMP/svc
  chmod o+x "$T_TMP"
  install -d -m 0750 -g ringpiped "$svc"
  install -m 0640 -g ringpiped "$KEY" "$svc/web.key"
  head -c 32 /dev/urandom >"$T_TMP/key2"
  d=$(t_port); e=$(t_port); e2=$(t_port)
  t_bg setpriv --reuid ringpiped --regid ringpiped --clear-groups --inh-caps=-all \
    /usr/bin/ringpiped -F -d -s "$(t_addr "$d")" -t "$(t_addr "$ECHO_PORT")" \
    -k "$svc/web.key" 2>"$T_TMP/svc.err"
  svcpid=$T_LAST
  t_wait_port "$d"
  t_daemon stock -e "$(t_addr "$e")" "$(t_addr "$d")" "$KEY"
  t_daemon stock -e "$(t_addr "$e2")" "$(t_addr "$d")" "$T_TMP/key2"
  t_check "installed ringpiped -d as user ringpiped, key root:ringpiped 0640: stock -e round trip" \
    "$RPLOAD" echo -q -c "$(t_addr "$e")" -n 2 -b 1M --timeout 30
  install -m 0640 -g ringpiped "$T_TMP/key2" "$svc/web.key"
  kill -HUP "$svcpid"
  for i in $(seq 50); do grep -q '^ringpiped: Reloaded' "$T_TMP/svc.err" && break; sleep 0.1; done
  t_check "installed, as user ringpiped: after the key file is rewritten and SIGHUP, the new key is served" \
    "$RPLOAD" echo -q -c "$(t_addr "$e2")" -n 2 -b 1M --timeout 30
  # ringpiped-config.service's way: the file and its keys in one directory,
  # root:ringpiped, read by the daemon itself as user ringpiped, at start
  # and at a reload (inside its sandbox) that adds a pipe.
  cdir=$T_TMP/cfgdir
  install -d -m 0750 -g ringpiped "$cdir"
  install -m 0640 -g ringpiped "$KEY" "$cdir/a.key"
  install -m 0640 -g ringpiped "$T_TMP/key2" "$cdir/b.key"
  d=$(t_port); e=$(t_port); d2=$(t_port); e2=$(t_port)
  install -m 0640 -g ringpiped /dev/null "$cdir/ringpiped.conf"
  printf '[a]\nmode = decrypt\nsource = %s\ntarget = %s\nkey = %s\n' \
    "$(t_addr "$d")" "$(t_addr "$ECHO_PORT")" "$cdir/a.key" >"$cdir/ringpiped.conf"
  t_bg setpriv --reuid ringpiped --regid ringpiped --clear-groups --inh-caps=-all \
    /usr/bin/ringpiped -c "$cdir/ringpiped.conf" -F 2>"$T_TMP/cfg.err"
  cfgpid=$T_LAST
  t_wait_port "$d"
  t_daemon stock -e "$(t_addr "$e")" "$(t_addr "$d")" "$KEY"
  t_check "installed ringpiped -c as user ringpiped, file and key root:ringpiped 0640: stock -e round trip" \
    "$RPLOAD" echo -q -c "$(t_addr "$e")" -n 2 -b 1M --timeout 30
  printf '\n[b]\nmode = decrypt\nsource = %s\ntarget = %s\nkey = %s\n' \
    "$(t_addr "$d2")" "$(t_addr "$ECHO_PORT")" "$cdir/b.key" >>"$cdir/ringpiped.conf"
  kill -HUP "$cfgpid"
  if t_wait_log "$T_TMP/cfg.err" "Reloaded $cdir/ringpiped.conf: 1 pipe unchanged (keys read again), 0 changed, 1 added" 1 &&
      t_wait_port "$d2" && t_daemon stock -e "$(t_addr "$e2")" "$(t_addr "$d2")" "$T_TMP/key2" &&
      "$RPLOAD" echo -q -c "$(t_addr "$e2")" -n 2 -b 1M --timeout 30 >/dev/null 2>&1; then
    t_pass "installed, -c as user ringpiped: a reload of the edited file ($(grep -o 'sandbox: [^;]*' "$T_TMP/cfg.err")) adds a pipe that serves"
  else
    t_fail "installed, -c as user ringpiped: a reload adds a pipe"; tail -n 5 "$T_TMP/cfg.err" | sed 's/^/    /'
  fi
else
  t_fail "installed: the system user and group ringpiped exist (home /nonexistent)"
fi

# The installed programs against stock spiped.
d=$(t_port); e=$(t_port)
t_daemon stock -d "$(t_addr "$d")" "$(t_addr "$ECHO_PORT")" "$KEY"
RINGPIPED=/usr/bin/ringpiped t_daemon ring -e "$(t_addr "$e")" "$(t_addr "$d")" "$KEY"
t_check "installed /usr/bin/ringpiped -e -> stock spiped -d -> echo: 64 MB over 4 connections verified" \
  "$RPLOAD" echo -q -c "$(t_addr "$e")" -n 4 -b 16M --timeout 120
head -c 4000000 /dev/urandom >"$T_TMP/in"
if timeout 60 /usr/bin/ringpipe -t "$(t_addr "$d")" -k "$KEY" <"$T_TMP/in" >"$T_TMP/out" &&
    cmp -s "$T_TMP/in" "$T_TMP/out"; then
  t_pass "installed /usr/bin/ringpipe -> stock spiped -d -> echo: 4 MB back identical, exit 0"
else
  t_fail "installed /usr/bin/ringpipe -> stock spiped -d -> echo"
fi
# In a container: io_uring blocked by seccomp, the package's binary falls
# back to epoll by itself.
if [ -x "$RPNOURING" ]; then
  d2=$(t_port); e2=$(t_port)
  t_bg "$RPNOURING" /usr/bin/ringpiped -F -d -s "$(t_addr "$d2")" -t "$(t_addr "$ECHO_PORT")" \
    -k "$KEY" 2>"$T_TMP/nouring.err"
  t_wait_port "$d2"
  t_daemon stock -e "$(t_addr "$e2")" "$(t_addr "$d2")" "$KEY"
  if "$RPLOAD" echo -q -c "$(t_addr "$e2")" -n 4 -b 4M --timeout 60 >/dev/null 2>&1 &&
      grep -q 'using the epoll engine' "$T_TMP/nouring.err"; then
    t_pass "installed ringpiped -d with io_uring blocked (seccomp, as in a container): epoll by itself, stock -e round trip verified"
  else
    t_fail "installed ringpiped -d with io_uring blocked"; sed 's/^/    /' "$T_TMP/nouring.err"
  fi
fi

# Removed: every file the package installed is gone.
for p in "${T_PIDS[@]}"; do kill -9 "$p" 2>/dev/null; done
start=$(date +%s.%N)
if DEBIAN_FRONTEND=noninteractive "${APT[@]}" remove ringpiped >"$T_TMP/apt.log" 2>&1 </dev/null; then
  INSTALLED=0
  secs=$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }')
  left=""
  while read -r f; do
    [ -f "$f" ] || [ -L "$f" ] && left="$left $f"
  done < <(dpkg-deb -c "$DEB" | awk '$1 !~ /^d/ { print $6 }' | sed 's|^\./|/|')
  # A package with a postrm stays known to dpkg as "config-files" until
  # purged, even with no conffiles: purge it too, then dpkg forgets it.
  status=$(dpkg-query -W -f='${Status}' ringpiped 2>/dev/null)
  DEBIAN_FRONTEND=noninteractive "${APT[@]}" purge ringpiped >>"$T_TMP/apt.log" 2>&1 </dev/null
  purged=$(dpkg-query -W -f='${Status}' ringpiped 2>/dev/null || true)
  if [ -z "$left" ] && ! echo "$status" | grep -q ' installed$' &&
      { [ -z "$purged" ] || echo "$purged" | grep -q 'not-installed$'; }; then
    t_pass "apt-get remove ringpiped (${secs}s): no file of the package left (dpkg: $status; after purge dpkg no longer knows it)"
  else
    t_fail "apt-get remove ringpiped: left:${left:- nothing}; dpkg: $status; after purge: ${purged:-unknown}"
  fi
else
  t_fail "apt-get remove ringpiped"; tail -n 5 "$T_TMP/apt.log" | sed 's/^/    /'
fi
t_exit
