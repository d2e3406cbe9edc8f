#!/usr/bin/env bash
# Runs the snnTorch reference-student benchmark and `sne bench` in the same sitting and prints both.
#   bench/side_by_side.sh [threads]      (default 2)
# Needs the peer venv:  python3 -m venv ~/peers-venv && ~/peers-venv/bin/pip install -q torch==2.15.0 snntorch==1.0.0
set -euo pipefail
cd "$(dirname "$0")/.."
threads="${1:-2}"
peer="${PEER_PYTHON:-$HOME/peers-venv/bin/python}"
script="${PEER_SCRIPT:-../shared/peers/snntorch_student_bench.py}"
swift build -c release --product sne >/dev/null 2>&1 || { echo "release build failed"; exit 1; }
echo "== machine: $(nproc) cores, load: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "== snnTorch peer ($script, $threads threads)"
peer_out="$("$peer" "$script" "$threads" 2>/dev/null)"
echo "$peer_out"
echo "== sne bench gemm (512^3; torch.mm for comparison)"
.build/release/sne bench gemm --threads "$threads"
"$peer" - "$threads" 2>/dev/null <<'PY'
import sys, time, statistics, torch
torch.set_num_threads(int(sys.argv[1]))
a = torch.randn(512, 512); b = torch.randn(512, 512)
for _ in range(10): torch.mm(a, b)
rates = []
for _ in range(7):
    n = 50; t0 = time.perf_counter()
    for _ in range(n): torch.mm(a, b)
    rates.append(n * 2 * 512**3 / (time.perf_counter() - t0) / 1e9)
print(f"torch.mm 512^3: median {statistics.median(rates):.1f} GFLOP/s")
PY
echo "== sne bench train"
sne_out="$(.build/release/sne bench train --threads "$threads")"
echo "$sne_out"
peer_rate="$(echo "$peer_out" | sed -n 's/.*median \([0-9.]*\).*/\1/p')"
sne_rate="$(echo "$sne_out" | sed -n 's/.*Adam) *\([0-9.]*\) images.*/\1/p')"
if [[ -n "$peer_rate" && -n "$sne_rate" ]]; then
  awk -v s="$sne_rate" -v p="$peer_rate" 'BEGIN { printf "== reference student: sne %.0f images/s vs snnTorch %.0f images/s = %.2fx\n", s, p, s / p }'
fi
