#!/usr/bin/env bash
# Bad flags and configuration: ringpiped exits non-zero at once with a clear
# message (and never daemonizes: -F is always given, and each run is bounded
# to 5 s).  Where stock spiped rejects the same thing, it is checked too.
. "$(dirname "$0")/lib.sh"
t_auto_run_only "flags and start-up errors: the process"
KEY=$T_TMP/key
t_key "$KEY"
P1=$(t_port); P2=$(t_port)
S="[127.0.0.1]:$P1"; T="[127.0.0.1]:$P2"

# bad NAME PATTERN ARGS...: ringpiped ARGS fails within 5 s and says PATTERN.
bad() {
  local name=$1 pat=$2; shift 2
  timeout -k 1 5 "$RINGPIPED" "$@" >"$T_TMP/out" 2>"$T_TMP/err"
  local rc=$?
  if [ $rc -ne 0 ] && [ $rc -ne 124 ] && [ $rc -ne 137 ] &&
     grep -qi -- "$pat" "$T_TMP/err"; then
    t_pass "$name: exit $rc, \"$(grep -i -m1 -- "$pat" "$T_TMP/err")\""
  else
    t_fail "$name (exit $rc, wanted a message matching '$pat')"
    head -n 3 "$T_TMP/err" | sed 's/^/    /'
  fi
}

bad "no -e or -d" "one of -e and -d" -F -s "$S" -t "$T" -k "$KEY"
bad "both -e and -d" "mutually exclusive" -F -e -d -s "$S" -t "$T" -k "$KEY"
bad "-f with -g" "-f and -g" -F -e -f -g -s "$S" -t "$T" -k "$KEY"
bad "no key file" "key file is required" -F -e -s "$S" -t "$T"
bad "no source" "source address is required" -F -e -t "$T" -k "$KEY"
bad "no target" "target address is required" -F -e -s "$S" -k "$KEY"
bad "missing key file" "No such file" -F -e -s "$S" -t "$T" -k "$T_TMP/nope"
# Root reads any file whatever its mode, so "unreadable" is a directory
# here (and a mode-000 file when not root).
bad "unreadable key file (a directory)" "key" -F -e -s "$S" -t "$T" -k "$T_TMP"
if [ "$(id -u)" != 0 ]; then
  cp "$KEY" "$T_TMP/k000"; chmod 000 "$T_TMP/k000"
  bad "unreadable key file (mode 000)" "Permission denied" -F -e -s "$S" -t "$T" -k "$T_TMP/k000"
fi
for a in "127.0.0.1" "[127.0.0.1]" "[127.0.0.1]:" "[127.0.0.1]:99999" \
    "[127.0.0.1]:http" "[::1:80" ":80" "relative/path" "[1.2.3.4.5]:80" \
    ""; do
  bad "bad source address '$a'" "Invalid source address\|Error resolving\|source address is required" \
    -F -e -s "$a" -t "$T" -k "$KEY"
done
for a in "[127.0.0.1]" "host-without-port" "[::1:80"; do
  bad "bad target address '$a'" "Invalid target address\|Error resolving" \
    -F -d -s "$S" -t "$a" -k "$KEY"
done
for v in -1 abc 1e3 "" 99999999999999999999999 " 5" 5x; do
  bad "bad -n '$v'" "Error parsing argument: -n" -F -e -s "$S" -t "$T" -k "$KEY" -n "$v"
done
for v in -1 abc nan inf "" 1x; do
  bad "bad -o '$v'" "Error parsing argument: -o" -F -e -s "$S" -t "$T" -k "$KEY" -o "$v"
done
for v in -5 abc inf; do
  bad "bad -r '$v'" "Error parsing argument: -r" -F -e -s "$S" -t "$T" -k "$KEY" -r "$v"
done
bad "bad -w 0" "Error parsing argument: -w" -F -e -s "$S" -t "$T" -k "$KEY" -w 0
for v in 0 -1 86401 abc 1.5 ""; do
  bad "bad --keepalive '$v'" "Error parsing argument: --keepalive" -F -e -s "$S" -t "$T" -k "$KEY" --keepalive "$v"
done
bad "--keepalive with -j" "--keepalive and -j are mutually exclusive" -F -d -s "$S" -t "$T" -k "$KEY" --keepalive 10 -j
# -k may be repeated (key rotation: t_keyrot.sh); every other flag may not.
for f in "-s $S" "-t $T" "-n 5" "-o 2" "-e" "-F" "-r 5" "-p $T_TMP/x.pid" "-b [127.0.0.1]:0"; do
  # shellcheck disable=SC2086
  bad "repeated $f" "more than once" -F -e -s "$S" -t "$T" -k "$KEY" $f $f
done
bad "-r with -R" "-r and -R" -F -e -s "$S" -t "$T" -k "$KEY" -r 5 -R
bad "-r 60 (the default value) with -R" "-r and -R" -F -e -s "$S" -t "$T" -k "$KEY" -r 60 -R
bad "an extra argument" "unexpected argument" -F -e -s "$S" -t "$T" -k "$KEY" extra
bad "an unknown flag" "usage" -F -e -s "$S" -t "$T" -k "$KEY" -X

# Port in use: the second daemon on the same source address fails.
t_daemon ring -e "$S" "$T" "$KEY"
bad "source port in use" "Address already in use" -F -e -s "$S" -t "$T" -k "$KEY"
USOCK=$T_TMP/in-use.sock
t_daemon ring -d "$USOCK" "$T" "$KEY"
bad "UNIX source socket in use" "in use\|Error binding" -F -d -s "$USOCK" -t "$T" -k "$KEY"

# Stock spiped rejects the same (its wording), for comparison.
stock_bad() {
  local name=$1; shift
  if timeout -k 1 5 "$SPIPED" -F "$@" >/dev/null 2>&1; then t_fail "stock: $name accepted"
  else t_pass "stock spiped also rejects: $name"; fi
}
stock_bad "both -e and -d" -e -d -s "$S" -t "$T" -k "$KEY"
stock_bad "-f with -g" -e -f -g -s "$S" -t "$T" -k "$KEY"
stock_bad "missing key file" -e -s "$S" -t "$T" -k "$T_TMP/nope"
stock_bad "-r with -R" -e -s "$S" -t "$T" -k "$KEY" -r 5 -R
stock_bad "source port in use" -e -s "$S" -t "$T" -k "$KEY"
t_exit
