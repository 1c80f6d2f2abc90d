#!/usr/bin/env bash
# Host benchmark: /api/health keep-alive throughput and latency (wrk), exec-to-listening time
# with every module, idle RSS. Usage: bench/host/run.sh [build-dir]
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
build="${1:-$root/build}"
bin="$build/bin/atelier"
probe="$build/bin/atelier_startup_probe"
command -v wrk >/dev/null || { echo "wrk is required (apt-get install wrk)"; exit 1; }
[ -x "$bin" ] || { echo "build first: $bin not found"; exit 1; }

echo "== exec to listening (median of 10, every module in $build/lib/atelier/modules)"
"$probe" "$bin" "$build/lib/atelier/modules" 10

data="$(mktemp -d)"
"$bin" serve --port 0 --data-dir "$data" >"$data/server.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$data"' EXIT
for _ in $(seq 200); do [ -s "$data/server-port" ] && break; sleep 0.01; done
port="$(cat "$data/server-port")"
modules="$(curl -s "http://127.0.0.1:$port/api/health" | sed 's/.*"modules":\([0-9]*\).*/\1/')"
echo "== modules running: $modules"
sleep 1
echo "== idle RSS"
grep -E 'VmRSS|Threads' "/proc/$pid/status"

for run in 1 2 3; do
  echo "== wrk -t1 -c32 -d10s --latency /api/health (run $run)"
  wrk -t1 -c32 -d10s --latency "http://127.0.0.1:$port/api/health" | grep -E 'Requests/sec|  50%|  99%|Latency  '
done
echo "== RSS after load"
grep -E 'VmRSS|Threads' "/proc/$pid/status"
