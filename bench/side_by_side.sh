#!/usr/bin/env bash
# sne and its peers in one sitting: `sne bench train` runs the reference student vs snnTorch, the
# teacher vs PyTorch, SGEMM 512^3 vs torch.mm and every conv shape vs PyTorch, then prints the ratios.
#   SNE_PEERS_PYTHON=/path/to/venv/bin/python bench/side_by_side.sh [threads] [sittings]   (defaults 2, 1)
# The peer venv (outside the repository): see the header of bench/torch_peer_bench.py.
set -euo pipefail
cd "$(dirname "$0")/.."
threads="${1:-2}"
sittings="${2:-1}"
if [[ -z "${SNE_PEERS_PYTHON:-}" ]]; then
  echo "bench/side_by_side.sh: set SNE_PEERS_PYTHON to the python of a venv with torch and snntorch (bench/torch_peer_bench.py says how)" >&2
  exit 2
fi
swift build -c release --product sne >/dev/null 2>&1 || { echo "release build failed" >&2; exit 1; }
for s in $(seq 1 "$sittings"); do
  echo "== sitting $s, load: $(cut -d' ' -f1-3 /proc/loadavg)"
  .build/release/sne bench train --threads "$threads" --runs 5
done
