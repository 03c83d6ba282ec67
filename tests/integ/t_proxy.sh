#!/usr/bin/env bash
# --proxy-protocol: ringpiped -e writes a PROXY header (v1 or v2) with the
# client's address as the first plaintext of each connection, so a real
# nginx with "listen ... proxy_protocol" behind the -d (ringpiped or stock)
# logs the original client's address and port.  Clients come from
# 127.0.0.2 with a fixed source port, so they differ from the -d's own
# address; a UNIX-socket client gets the UNKNOWN (v1) or LOCAL (v2) form.
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
echo "hello through the pipe" > "$W/index.html"
NP=$(t_port)
cat > "$T_TMP/ng/nginx.conf" <<NG
daemon off;
worker_processes 1;
pid $T_TMP/ng/nginx.pid;
error_log $T_TMP/ng/error.log;
events { worker_connections 64; }
http {
  log_format pp '\$proxy_protocol_addr \$proxy_protocol_port \$remote_addr \$request_uri';
  access_log $T_TMP/ng/access.log pp;
  client_body_temp_path $T_TMP/ng;
  proxy_temp_path $T_TMP/ng;
  fastcgi_temp_path $T_TMP/ng;
  uwsgi_temp_path $T_TMP/ng;
  scgi_temp_path $T_TMP/ng;
  server { listen 127.0.0.1:$NP proxy_protocol; root $W; }
}
NG
t_bg "$NGINX" -c "$T_TMP/ng/nginx.conf" -p "$T_TMP/ng"
NGINX_PID=$T_LAST
trap 'kill -TERM $NGINX_PID 2>/dev/null; sleep 0.3; t_cleanup' EXIT
t_wait_port "$NP"

# logged URI: the access-log line of the request for URI.
logged() {
  local i
  for i in $(seq 50); do
    grep -q " $1\$" "$T_TMP/ng/access.log" 2>/dev/null && break
    sleep 0.05
  done
  grep " $1\$" "$T_TMP/ng/access.log" | tail -n 1
}

for dkind in ring stock; do
  D=$(t_port)
  t_daemon "$dkind" -d "$(t_addr "$D")" "$(t_addr "$NP")" "$KEY"
  for v in v1 v2; do
    E=$(t_port); CP=$(t_port)
    t_daemon ring -e "$(t_addr "$E")" "$(t_addr "$D")" "$KEY" --proxy-protocol "$v"
    uri="/index.html?$dkind-$v"
    body=$(curl -sS --fail --max-time 10 --interface 127.0.0.2 --local-port "$CP" \
      "http://127.0.0.1:$E$uri")
    line=$(logged "$uri")
    if [ "$body" = "hello through the pipe" ] && [ "$line" = "127.0.0.2 $CP 127.0.0.1 $uri" ]; then
      t_pass "--proxy-protocol $v through $dkind -d: nginx logged the client 127.0.0.2:$CP ($line)"
    else
      t_fail "--proxy-protocol $v through $dkind -d: nginx logs the client 127.0.0.2:$CP (got: '$line', body '$body')"
    fi
    # A UNIX-socket client: no address to tell.
    U=$T_TMP/e-$dkind-$v.sock
    t_daemon ring -e "$U" "$(t_addr "$D")" "$KEY" --proxy-protocol "$v"
    uri="/index.html?unix-$dkind-$v"
    body=$(curl -sS --fail --max-time 10 --unix-socket "$U" "http://localhost$uri")
    line=$(logged "$uri")
    # UNKNOWN / LOCAL: nginx has no PROXY address (logged as "-" or empty).
    case "$line" in
      "- - 127.0.0.1 $uri"|"  127.0.0.1 $uri")
        t_pass "--proxy-protocol $v, UNIX-socket client through $dkind -d: served, no address claimed ($line)" ;;
      *) t_fail "--proxy-protocol $v, UNIX-socket client through $dkind -d: served as UNKNOWN/LOCAL (got: '$line', body '$body')" ;;
    esac
  done
done
t_check_fails "--proxy-protocol with -d is refused" \
  "$RINGPIPED" -F -d -s "[127.0.0.1]:$(t_port)" -t "[127.0.0.1]:1" -k "$KEY" --proxy-protocol v1
t_check_fails "--proxy-protocol v3 is refused" \
  "$RINGPIPED" -F -e -s "[127.0.0.1]:$(t_port)" -t "[127.0.0.1]:1" -k "$KEY" --proxy-protocol v3
t_exit
