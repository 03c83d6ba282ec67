#!/usr/bin/env bash
# Authenticate before connecting (issue 10, item 4; Tarsnap/spiped#429):
# -d connects to its target only once the client's y has passed its MAC
# check, so a client without the key makes no connection reach the target
# (and cannot tell whether the target is up).  The target here counts the
# connections it accepts (and echoes).  Stock spiped 1.6.2 -d, which
# connects at accept, is the reference that the count sees a stranger.
. "$(dirname "$0")/lib.sh"
t_auto_run_only "the handshake before the dial: the control plane"
KEY=$T_TMP/key
BAD=$T_TMP/bad
t_key "$KEY"
t_key "$BAD"

# A target that appends a line to $T_TMP/accepts.PORT per connection it
# accepts, and echoes.
count_target() {
  t_bg python3 -c '
import socket, sys, threading
port, log = int(sys.argv[1]), sys.argv[2]
lsn = socket.socket()
lsn.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
lsn.bind(("127.0.0.1", port))
lsn.listen(64)
def echo(c):
    with c:
        while True:
            b = c.recv(65536)
            if not b:
                break
            c.sendall(b)
while True:
    c, _ = lsn.accept()
    with open(log, "a") as f:
        f.write("accept\n")
    threading.Thread(target=echo, args=(c,), daemon=True).start()' \
    "$1" "$T_TMP/accepts.$1"
  t_wait_listen "$1"
}
accepts() { cat "$T_TMP/accepts.$1" 2>/dev/null | wc -l; }

# stranger ADDR KIND: a client without the key, of KIND: "wrongkey"
# (ringpipe with another key), "stock" (spipe with another key), "garbage"
# (320 random bytes), "nonce" (a nonce, then nothing until -o drops it),
# "flood" (20 garbage clients at once).
stranger() {
  case "$2" in
    wrongkey) echo x | timeout 10 "$RINGPIPE" -t "$1" -k "$BAD" >/dev/null 2>&1 ;;
    stock) echo x | timeout 10 "$SPIPE" -t "$1" -k "$BAD" >/dev/null 2>&1 ;;
    garbage|nonce|flood)
      python3 -c '
import os, socket, sys
host, port = sys.argv[1].strip("[").split("]:")
kind = sys.argv[2]
n = 20 if kind == "flood" else 1
socks = []
for _ in range(n):
    s = socket.create_connection((host, int(port)), timeout=10)
    s.sendall(os.urandom(32 if kind == "nonce" else 320))
    socks.append(s)
for s in socks:
    try:
        while s.recv(4096):
            pass
    except OSError:
        pass' "$1" "$2" ;;
  esac
}

for mode in "" -f -g; do
  T=$(t_port); D=$(t_port)
  count_target "$T"
  # shellcheck disable=SC2086
  t_daemon ring -d "$(t_addr "$D")" "$(t_addr "$T")" "$KEY" -o 2 $mode
  for kind in wrongkey stock garbage nonce flood; do
    stranger "$(t_addr "$D")" "$kind"
    sleep 0.2	# (A connect made at accept would be counted by now.)
    t_check "ring -d ${mode:-(none)}: a $kind stranger makes no connection reach the target ($(accepts "$T"))" \
      test "$(accepts "$T")" = 0
  done
  fopt=""
  [ "$mode" = -f ] && fopt=-f
  # shellcheck disable=SC2086
  t_check "ring -d ${mode:-(none)}: a client with the key gets its line back" \
    sh -c "echo rp-line | timeout 10 '$RINGPIPE' $fopt -t '$(t_addr "$D")' -k '$KEY' | grep -qx rp-line"
  t_check "ring -d ${mode:-(none)}: ... through exactly one target connection ($(accepts "$T"))" \
    test "$(accepts "$T")" = 1
done

# The target down: a keyed client is dropped once its connect fails, a
# stranger sees the same drop (it learns nothing about the target).
D=$(t_port); T=$(t_port)
t_daemon ring -d "$(t_addr "$D")" "$(t_addr "$T")" "$KEY" -o 2
t_check_fails "ring -d, target down: a client with the key fails" \
  sh -c "echo x | timeout 10 '$RINGPIPE' -t '$(t_addr "$D")' -k '$KEY' | grep -q x"

# The reference: stock -d connects at accept, so the same stranger does
# reach the target (what the count above would have seen).
T=$(t_port); D=$(t_port)
count_target "$T"
t_daemon stock -d "$(t_addr "$D")" "$(t_addr "$T")" "$KEY" -o 2
before=$(accepts "$T")	# (t_daemon's probe connection is one.)
stranger "$(t_addr "$D")" garbage
for _ in $(seq 1 40); do [ "$(accepts "$T")" -gt "$before" ] && break; sleep 0.05; done
t_check "reference: stock -d lets a garbage stranger reach the target ($before, then $(accepts "$T"))" \
  test "$(accepts "$T")" -gt "$before"
t_exit
