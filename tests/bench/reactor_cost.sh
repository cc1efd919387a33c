#!/bin/bash
# CPU time per request of cork's reactor thread (the main thread) and of all its other threads,
# from their /proc task times over one wrk run: the basis of the estimate of when one reactor
# becomes the limit (tests/bench/PERFORMANCE.md, "Beyond this machine").
#   tests/bench/reactor_cost.sh [CORK_BINARY] [keep-alive|close]
# Uses port 18190, a temporary root with one 1 KiB file, 2 workers; needs wrk.
set -euo pipefail
cork=${1:-build/cork}
mode=${2:-keep-alive}
dir=$(mktemp -d /tmp/cork-reactor-XXXXXX)
trap 'kill "$pid" 2>/dev/null || true; rm -rf "$dir"' EXIT
mkdir "$dir/root"
head -c 1024 /dev/zero >"$dir/root/1k.bin"
cat >"$dir/cork.ini" <<INI
[server]
host = 127.0.0.1
port = 18190
root = $dir/root
threads = 2
[log]
access_log = off
level = warn
INI
"$cork" -c "$dir/cork.ini" >"$dir/log" 2>&1 &
pid=$!
sleep 0.8
args=(-t2 -c64)
[ "$mode" = close ] && args=(-t2 -c32 -H "Connection: close")
url=http://127.0.0.1:18190/1k.bin
wrk "${args[@]}" -d2s "$url" >/dev/null  # warm-up
snapshot() { for s in /proc/"$pid"/task/*/stat; do awk '{print $1, $14 + $15}' "$s"; done | sort; }
before=$(snapshot)
out=$(wrk "${args[@]}" -d6s "$url")
after=$(snapshot)
requests=$(awk '/requests in/ {print $1}' <<<"$out")
rate=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
ticks=$(getconf CLK_TCK)
join <(echo "$before") <(echo "$after") | awk -v pid="$pid" -v n="$requests" -v rate="$rate" \
  -v hz="$ticks" -v mode="$mode" '
  { d = $3 - $2; if ($1 == pid) reactor += d; else others += d }
  END { printf "%s: %s req/s; reactor %.2f us/request, other threads %.2f us/request\n",
        mode, rate, reactor * 1e6 / hz / n, others * 1e6 / hz / n }'
