#!/usr/bin/env bash
# A real HTTP server behind the pipe: nginx on loopback, reached through
# ringpiped -e -> ringpiped -d (and stock -e -> ringpiped -d) with curl;
# a 64 MB download and many small keep-alive requests, checksummed.
. "$(dirname "$0")/lib.sh"
if ! command -v nginx >/dev/null 2>&1 && [ ! -x /usr/sbin/nginx ]; then
  echo "FAIL: nginx is not installed (ci/deps.sh installs it)"; exit 1
fi
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
KEY=$T_TMP/key
t_key "$KEY"
W=$T_TMP/www
mkdir -p "$W" "$T_TMP/ng"
chmod 755 "$T_TMP" "$W"	# nginx's workers run unprivileged
head -c $((64 * 1024 * 1024)) /dev/urandom > "$W/big.bin"
for i in $(seq 1 50); do head -c $((i * 997)) /dev/urandom > "$W/s$i.bin"; done
NP=$(t_port)
cat > "$T_TMP/ng/nginx.conf" <<NG
daemon off;
worker_processes 1;
pid $T_TMP/ng/nginx.pid;
error_log $T_TMP/ng/error.log;
events { worker_connections 256; }
http {
  access_log off;
  client_body_temp_path $T_TMP/ng;
  proxy_temp_path $T_TMP/ng;
  fastcgi_temp_path $T_TMP/ng;
  uwsgi_temp_path $T_TMP/ng;
  scgi_temp_path $T_TMP/ng;
  server { listen 127.0.0.1:$NP; root $W; }
}
NG
t_bg "$NGINX" -c "$T_TMP/ng/nginx.conf" -p "$T_TMP/ng"
NGINX_PID=$T_LAST
# nginx's master must stop its workers: TERM it before the usual clean-up.
trap 'kill -TERM $NGINX_PID 2>/dev/null; sleep 0.3; t_cleanup' EXIT
t_wait_port "$NP"

D=$(t_port); E=$(t_port); E2=$(t_port)
t_daemon ring -d "$(t_addr "$D")" "$(t_addr "$NP")" "$KEY"
t_daemon ring -e "$(t_addr "$E")" "$(t_addr "$D")" "$KEY"
t_daemon stock -e "$(t_addr "$E2")" "$(t_addr "$D")" "$KEY"

want=$(sha256sum < "$W/big.bin")
for port in "$E" "$E2"; do
  via="ringpiped -e"; [ "$port" = "$E2" ] && via="stock -e"
  got=$(curl -sS --fail --max-time 60 "http://127.0.0.1:$port/big.bin" | sha256sum)
  t_check "nginx through $via -> ringpiped -d: 64 MB download intact" \
    test "$got" = "$want"
done
# 50 small files over one keep-alive connection, each compared.
urls=(); for i in $(seq 1 50); do urls+=("http://127.0.0.1:$E/s$i.bin" -o "$T_TMP/got$i"); done
curl -sS --fail --max-time 60 "${urls[@]}"
ok=1
for i in $(seq 1 50); do cmp -s "$W/s$i.bin" "$T_TMP/got$i" || ok=0; done
t_check "nginx: 50 keep-alive requests of 1-50 KB intact" test "$ok" = 1
t_exit
