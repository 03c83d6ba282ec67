#!/usr/bin/env bash
# make demo: a ringpiped pipe on loopback in front of an echo server.
#   client --plaintext--> ringpiped -e --spiped protocol--> ringpiped -d
#          --plaintext--> echo server, and back.
# Makes a key, starts everything, pushes verified data through, prints what
# happened and the throughput, and stops everything.
set -euo pipefail
BUILD=${BUILD:-build}
MB=${DEMO_MB:-512}
cd "$(dirname "$0")/.."
dir=$(mktemp -d /tmp/ringpiped-demo.XXXXXX)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$dir"; }
trap cleanup EXIT
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
waitport() { for _ in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/$1) 2>/dev/null && return 0; sleep 0.05; done; return 1; }

ECHO=$(port); D=$(port); E=$(port)
echo "== key: dd if=/dev/urandom of=$dir/key bs=32 count=1"
dd if=/dev/urandom of="$dir/key" bs=32 count=1 status=none
echo "== echo server on 127.0.0.1:$ECHO"
"$BUILD/tools/rp-target" --echo -l "[127.0.0.1]:$ECHO" & pids+=($!)
echo "== ringpiped -d -s [127.0.0.1]:$D -t [127.0.0.1]:$ECHO -k key -F"
"$BUILD/ringpiped" -d -s "[127.0.0.1]:$D" -t "[127.0.0.1]:$ECHO" -k "$dir/key" -F & pids+=($!)
echo "== ringpiped -e -s [127.0.0.1]:$E -t [127.0.0.1]:$D -k key -F"
"$BUILD/ringpiped" -e -s "[127.0.0.1]:$E" -t "[127.0.0.1]:$D" -k "$dir/key" -F & pids+=($!)
waitport "$ECHO"; waitport "$D"; waitport "$E"

echo "== a line through the pipe:"
printf 'hello through ringpiped\n' | "$BUILD/ringpipe" -t "[127.0.0.1]:$D" -k "$dir/key"
echo "== $MB MB each way through -e -> -d -> echo, every byte verified:"
"$BUILD/tools/rp-load" echo -q -c "[127.0.0.1]:$E" -b "${MB}M" --timeout 120 > "$dir/r.json"
python3 - "$dir/r.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
print("   sent %d bytes, got %d back, verified: %s, in %.2f s" % (
    r["tx_bytes"], r["rx_bytes"], "yes" if r["ok"] else "NO", r["elapsed_s"]))
print("   throughput: %.0f MB/s each way (%.0f MB/s total)" % (r["tx_MBps"], r["total_MBps"]))
PY
echo "== done: stopping the daemons"
