#!/usr/bin/env bash
# What the io_uring data path submits, seen through the io_uring
# tracepoints (issue 19): an -e -> -d pair on io_uring carries 4
# connections x 50 MB into a sink, then 3 short connections.  Judged:
#   - every ring that carries data operations registered buffers
#     (io_uring_register opcode 0 or 15 with buffers, or 22, returning 0);
#   - at least 90% of receive submissions (RECV, RECVMSG, READ,
#     READ_FIXED) are READ_FIXED or select a provided buffer (flag 0x20);
#   - at most 0.25 receive submissions per 64 KiB moved (both daemons);
#   - SEND_ZC submissions appear without -Z;
#   - every ring that sends SEND_ZC has a fixed-buffer table (opcode 15,
#     sparse) and registered a slot of it on first use (opcode 16): the
#     fixed-buffer form (tests/unit/test_fixbuf.c proves that such a send
#     arrives intact and that one from an unregistered slot is refused).
#     How many SEND_ZC went out in the fixed form is printed from the
#     request flags (bit 39, REQ_F_IMPORT_BUFFER in 6.18: kernel-internal,
#     so printed, not judged).
# Tracing goes to an instance of its own.  Needs tracefs (root); without
# it, and in the epoll run, one PASS line says why it was skipped.
. "$(dirname "$0")/lib.sh"
TR=/sys/kernel/tracing
if [ "$RP_ENGINE_RUN" != auto ]; then
  t_pass "skipped: the $RP_ENGINE_RUN run has no io_uring"; t_exit
fi
[ -d "$TR/instances" ] || mount -t tracefs nodev "$TR" 2>/dev/null
INST=$TR/instances/rp-shape-$$
if ! mkdir "$INST" 2>/dev/null; then
  t_pass "skipped: tracefs cannot be mounted or written here"; t_exit
fi
trap 'echo 0 >"$INST/tracing_on"; rmdir "$INST" 2>/dev/null; t_cleanup' EXIT
echo 32768 >"$INST/buffer_size_kb"
KEY=$T_TMP/key
t_key "$KEY"
t_serve SINK "$RPTARGET" --sink -l 127.0.0.1:0 --lifetime 120 || t_exit
for ev in io_uring_create io_uring_register io_uring_submit_req; do
  echo 1 >"$INST/events/io_uring/$ev/enable"
done
echo 1 >"$INST/tracing_on"
d=$(t_port); e=$(t_port)
t_daemon ring -d "$(t_addr "$d")" "[127.0.0.1]:${SINK##*:}" "$KEY" \
  --engine io_uring || { t_fail "-d starts"; t_exit; }
dp=$T_LAST
t_daemon ring -e "$(t_addr "$e")" "$(t_addr "$d")" "$KEY" \
  --engine io_uring || { t_fail "-e starts"; t_exit; }
ep=$T_LAST
# Only the threads of these two daemons count (other programs may use
# io_uring on this machine meanwhile).
ls "/proc/$dp/task" "/proc/$ep/task" 2>/dev/null | grep -E '^[0-9]+$' \
  >"$T_TMP/tids"
MB=50
t_check "4 connections x $MB MB into the sink" \
  "$RPLOAD" stream -q -c "$(t_addr "$e")" -n 4 -b "${MB}M" --timeout 60
t_check "3 short connections" \
  "$RPLOAD" stream -q -c "$(t_addr "$e")" -n 3 -b 1k --timeout 10
sleep 0.5
echo 0 >"$INST/tracing_on"
cp "$INST/trace" "$T_TMP/trace"
python3 - "$T_TMP/trace" "$MB" "$T_TMP/tids" >"$T_TMP/shape" <<'PY'
import re, sys
recv_ops = {"RECV", "RECVMSG", "READ", "READ_FIXED"}
data_ops = recv_ops | {"SEND", "SENDMSG", "WRITE", "WRITE_FIXED", "SEND_ZC",
                       "SENDMSG_ZC"}
reg_ok, data_rings = set(), set()
table, slot, zc_rings = set(), set(), set()
nrecv = nsel = nzc = nzcfix = 0
tids = set(open(sys.argv[3]).read().split())
for line in open(sys.argv[1]):
    m = re.match(r"\s*\S+-(\d+)\s", line)
    if not m or m.group(1) not in tids:
        continue
    m = re.search(r"io_uring_register: ring (\S+), opcode (\d+), "
                  r"nr_user_files \d+, nr_user_bufs (\d+), ret (-?\d+)", line)
    if m:
        op, nb, ret = int(m.group(2)), int(m.group(3)), int(m.group(4))
        if ret == 0 and (op == 22 or (op in (0, 15) and nb > 0)):
            reg_ok.add(m.group(1))
        if ret == 0 and op == 15 and nb > 0:
            table.add(m.group(1))
        if ret >= 1 and op == 16:
            slot.add(m.group(1))
        continue
    m = re.search(r"io_uring_submit_req: ring (\S+), req \S+, user_data "
                  r"\S+, opcode (\S+), flags (0x[0-9a-f]+)", line)
    if not m:
        continue
    ring, op, fl = m.group(1), m.group(2).rstrip(","), int(m.group(3), 16)
    if op in data_ops:
        data_rings.add(ring)
    if op in recv_ops:
        nrecv += 1
        if op == "READ_FIXED" or fl & 0x20:
            nsel += 1
    if op in ("SEND_ZC", "SENDMSG_ZC"):
        nzc += 1
        zc_rings.add(ring)
        if fl & (1 << 39):
            nzcfix += 1
moved = 4 * int(sys.argv[2]) * 1024 * 1024 + 3 * 1024
per64k = nrecv / (moved / 65536.0)
print("rings %d registered %d unregistered %d" % (len(data_rings),
      len(data_rings & reg_ok), len(data_rings - reg_ok)))
print("recv %d fixed-or-selected %d (%.1f%%) per64k %.3f send_zc %d "
      "(%d fixed) on %d rings, %d with a fixed table, %d with a slot" % (
      nrecv, nsel, 100.0 * nsel / max(nrecv, 1), per64k, nzc, nzcfix,
      len(zc_rings), len(zc_rings & table), len(zc_rings & slot)))
print("ok_reg %d" % (len(data_rings) > 0 and not (data_rings - reg_ok)))
print("ok_sel %d" % (nrecv > 0 and nsel >= 0.9 * nrecv))
print("ok_rate %d" % (per64k <= 0.25))
print("ok_zc %d" % (nzc > 0))
print("ok_fix %d" % (nzc > 0 and not (zc_rings - (table & slot))))
PY
S=$(cat "$T_TMP/shape")
echo "$S" | head -2 | sed 's/^/# /'
ok() { echo "$S" | grep -q "^$1 1"; }
sum=$(echo "$S" | head -2 | tr '\n' ';')
ok ok_reg && t_pass "every data ring registered buffers ($sum)" \
  || t_fail "every data ring registered buffers ($sum)"
ok ok_sel && t_pass "at least 90% of receives are READ_FIXED or select a buffer" \
  || t_fail "at least 90% of receives are READ_FIXED or select a buffer ($sum)"
ok ok_rate && t_pass "at most 0.25 receive submissions per 64 KiB moved ($sum)" \
  || t_fail "at most 0.25 receive submissions per 64 KiB moved ($sum)"
ok ok_zc && t_pass "SEND_ZC submissions without -Z" \
  || t_fail "SEND_ZC submissions without -Z ($sum)"
ok ok_fix && t_pass "every ring sending SEND_ZC has fixed buffers, registered on first use" \
  || t_fail "every ring sending SEND_ZC has fixed buffers, registered on first use ($sum)"
t_exit
