#!/usr/bin/env bash
# Quick side-by-side: cork vs nginx (Debian nginx-light) on a 1 KiB file, keep-alive, wrk -t2
# -c64, interleaved rounds, medians and the ratio. The full benchmark (all scenarios and peers)
# belongs to the performance issue; this is the baseline number. Loopback only; stops by itself.
#   usage: tests/bench/quick_compare.sh [ROUNDS] [SECONDS]
set -euo pipefail
ROUNDS=${1:-3}
SECONDS_PER_RUN=${2:-10}
HERE=$(cd "$(dirname "$0")/../.." && pwd)
CORK=${CORK:-$HERE/build/cork}
CORK_PORT=18080
NGINX_PORT=18081

for tool in wrk nginx; do
  command -v "$tool" >/dev/null || command -v "/usr/sbin/$tool" >/dev/null || {
    echo "installing wrk and nginx-light"
    SUDO=$([ "$(id -u)" = 0 ] || echo sudo)
    $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq wrk nginx-light
    break
  }
done
[ -x "$CORK" ] || { echo "build cork first (make build)"; exit 1; }

WORK=$(mktemp -d /tmp/cork-bench-XXXXXX)
chmod 755 "$WORK"  # nginx workers run as an unprivileged user and must read the root
CORK_PID=""; NGINX_PID=""
cleanup() {
  [ -n "$CORK_PID" ] && kill "$CORK_PID" 2>/dev/null || true
  [ -n "$NGINX_PID" ] && kill "$NGINX_PID" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

mkdir -p "$WORK/root" "$WORK/nginx"
head -c 1024 /dev/urandom | base64 -w 76 | head -c 1024 > "$WORK/root/1k.txt"

cat > "$WORK/cork.ini" <<INI
[server]
host = 127.0.0.1
port = $CORK_PORT
root = $WORK/root
threads = 2
[log]
access_log = off
level = warn
INI
cat > "$WORK/nginx/nginx.conf" <<CONF
worker_processes 2;
daemon off;
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  keepalive_requests 1000000;
  types { text/plain txt; }
  client_body_temp_path $WORK/nginx;
  server {
    listen 127.0.0.1:$NGINX_PORT;
    root $WORK/root;
  }
}
CONF

"$CORK" -c "$WORK/cork.ini" & CORK_PID=$!
/usr/sbin/nginx -c "$WORK/nginx/nginx.conf" -p "$WORK/nginx" -e "$WORK/nginx/error.log" & NGINX_PID=$!
for port in $CORK_PORT $NGINX_PORT; do
  for _ in $(seq 50); do curl -sf -o /dev/null "http://127.0.0.1:$port/1k.txt" && break; sleep 0.1; done
  curl -sf -o /dev/null "http://127.0.0.1:$port/1k.txt" || { echo "server on $port did not start"; exit 1; }
done

run() {  # prints req/s
  wrk -t2 -c64 -d"${SECONDS_PER_RUN}s" "http://127.0.0.1:$1/1k.txt" | awk '/Requests\/sec/ {print $2}'
}
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

: > "$WORK/cork.txt"; : > "$WORK/nginx.txt"
for r in $(seq "$ROUNDS"); do
  c=$(run $CORK_PORT); n=$(run $NGINX_PORT)
  echo "round $r: cork $c req/s, nginx $n req/s"
  echo "$c" >> "$WORK/cork.txt"; echo "$n" >> "$WORK/nginx.txt"
done
C=$(median < "$WORK/cork.txt"); N=$(median < "$WORK/nginx.txt")
echo "median: cork $C req/s, nginx $N req/s, cork/nginx = $(awk -v c="$C" -v n="$N" 'BEGIN {printf "%.2f", c/n}')"
