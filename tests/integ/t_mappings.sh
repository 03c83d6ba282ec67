#!/usr/bin/env bash
# ringpiped never drops pages of mappings it does not own: no
# madvise(MADV_DONTNEED) (or MADV_PAGEOUT/COLD/FREE) lands on a file-backed
# mapping, from start-up through serving a verified connection.  Dropping a
# private file mapping's pages throws away relocated or written copies (a
# RELRO segment, a text-relocated one), which then read back as the file's
# unrelocated bytes; that a page looks clean in smaps says nothing of swap,
# and other threads can change the mapping meanwhile.
. "$(dirname "$0")/lib.sh"
if ! command -v strace >/dev/null; then
  t_fail "strace (Debian's strace package) is installed"
  t_exit
fi
KEY=$T_TMP/key
t_key "$KEY"
t_echo
D=$(t_port); E=$(t_port)
t_bg strace -f -qq -o "$T_TMP/strace" -e trace=madvise \
  "$RINGPIPED" -F -d -s "$(t_addr "$D")" -t "$(t_addr "$ECHO_PORT")" \
  -k "$KEY" -n 0
t_wait_port "$D"
# The daemon is strace's child (the epoll run's wrapper execs in place).
DP=$(pgrep -P "$T_LAST" | head -n 1)
[ -n "$DP" ] && T_PIDS+=("$DP")
t_daemon stock -e "$(t_addr "$E")" "$(t_addr "$D")" "$KEY"
t_check "the daemon under strace serves (stock -e, 1 MiB verified)" \
  "$RPLOAD" echo -q -c "$(t_addr "$E")" -b 1M --timeout 20
cp "/proc/${DP:-0}/maps" "$T_TMP/maps" 2>/dev/null
t_check "its mappings were read" test -s "$T_TMP/maps"
# Every madvise that drops or pages out: the range must touch no mapping
# with a file (an inode other than 0).
t_check "no madvise drops pages of a file-backed mapping" \
  python3 - "$T_TMP/strace" "$T_TMP/maps" <<'PY'
import re, sys
trace, maps = sys.argv[1], sys.argv[2]
files = []
for line in open(maps):
    f = line.split()
    lo, hi = (int(x, 16) for x in f[0].split("-"))
    if len(f) >= 6 and f[4] != "0":
        files.append((lo, hi, f[5]))
bad = 0
pat = re.compile(r"madvise\((0x[0-9a-f]+|NULL), (\d+), (MADV_\w+)")
for line in open(trace):
    m = pat.search(line)
    if not m or m.group(3) not in ("MADV_DONTNEED", "MADV_PAGEOUT",
                                   "MADV_COLD", "MADV_FREE"):
        continue
    a = int(m.group(1), 16) if m.group(1) != "NULL" else 0
    n = int(m.group(2))
    for lo, hi, path in files:
        if a < hi and a + n > lo:
            print("madvise %s on %s: %s" % (m.group(3), path, line.strip()))
            bad += 1
            break
sys.exit(1 if bad else 0)
PY
t_exit
