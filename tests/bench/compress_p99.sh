#!/usr/bin/env bash
# The latency of small requests while cork compresses large files (issue 13: the p99 of 1 KiB
# requests while a 5 MiB JavaScript file is first compressed stays within 2x the idle p99).
#
# Usage: tests/bench/compress_p99.sh [CORK_BINARY] [ROUNDS]
# Starts cork on a temporary root with a 1 KiB file and a 5 MiB JavaScript file, then measures
# `wrk -t2 -c64 -d5s` on the 1 KiB file ROUNDS times each (interleaved):
#   idle:        nothing else happening;
#   compressing: a loop changes the 5 MiB file and asks for it with Accept-Encoding (br, then
#                zstd, then gzip) for the whole run, so that the compression thread is never idle.
# Prints each run's p99 and req/s, the medians, and p99(compressing) / p99(idle). Loopback only;
# everything it starts it stops.
set -euo pipefail
cd "$(dirname "$0")/../.."
CORK=${1:-build/cork}
ROUNDS=${2:-5}
PORT=${PORT:-18390}
command -v wrk >/dev/null || { echo "needs wrk" >&2; exit 2; }
work=$(mktemp -d)
cork_pid=
cleanup() {
  [ -n "$cork_pid" ] && kill "$cork_pid" 2>/dev/null && wait "$cork_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
mkdir -p "$work/root"
head -c 1024 /dev/urandom >"$work/root/1k.bin"
python3 - "$work/root/big.js" <<'EOF'
import random, sys
r = random.Random(5)
words = ["render", "state", "props", "update", "value", "index", "event", "node", "list"]
out, size, i = [], 0, 0
while size < 5 * 1024 * 1024:
    a, b = r.choice(words), r.choice(words)
    line = f"export function {a}{i}({b}) {{ return {b} * {r.randint(0, 99999)} + {i}; }}\n"
    out.append(line); size += len(line); i += 1
open(sys.argv[1], "w").write("".join(out))
EOF
cat >"$work/cork.ini" <<EOF
[server]
host = 127.0.0.1
port = $PORT
root = $work/root
[log]
access_log = off
level = warn
EOF
"$CORK" -c "$work/cork.ini" 2>"$work/cork.log" &
cork_pid=$!
for _ in $(seq 50); do curl -sf -o /dev/null "http://127.0.0.1:$PORT/1k.bin" && break; sleep 0.1; done

run_wrk() {  # prints "p99_us rps"
  wrk -t2 -c64 -d5s --latency "http://127.0.0.1:$PORT/1k.bin" | awk '
    /^ +99%/ { v=$2; u=1; if (v ~ /ms$/) u=1000; else if (v ~ /us$/) u=1; else if (v ~ /s$/) u=1000000;
               sub(/[a-z]+$/, "", v); p99=v*u }
    /^Requests\/sec/ { rps=$2 }
    END { printf "%d %d\n", p99, rps }'
}
compress_loop() {  # until killed: change big.js, ask for it compressed
  local codings=(br zstd gzip) n=0
  while :; do
    echo "// $n" >>"$work/root/big.js"
    curl -s -o /dev/null -H "Accept-Encoding: ${codings[$((n % 3))]}" \
      "http://127.0.0.1:$PORT/big.js" || true
    n=$((n + 1))
    sleep 0.05
  done
}

idle=() compressing=()
wrk -t2 -c64 -d1s "http://127.0.0.1:$PORT/1k.bin" >/dev/null  # warm-up
for round in $(seq "$ROUNDS"); do
  r=$(run_wrk)
  idle+=("${r%% *}")
  echo "round $round idle:        p99 ${r%% *} us, ${r##* } req/s"
  compress_loop &
  loop=$!
  r=$(run_wrk)
  kill "$loop" 2>/dev/null; wait "$loop" 2>/dev/null || true
  compressing+=("${r%% *}")
  echo "round $round compressing: p99 ${r%% *} us, ${r##* } req/s"
done
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
mi=$(median "${idle[@]}")
mc=$(median "${compressing[@]}")
copies=$(curl -s "http://127.0.0.1:$PORT/big.js" -o /dev/null -w '%{http_code}')
echo "median p99: idle $mi us, compressing $mc us, ratio $(awk -v a="$mc" -v b="$mi" 'BEGIN {printf "%.2f", a / b}')"
echo "(compression thread busy throughout: 5 MiB file changed and re-requested every ~50 ms; last answer $copies)"
