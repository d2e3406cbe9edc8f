#!/usr/bin/env bash
# Regenerates examples/models/fashion-mnist from the full Fashion-MNIST (about 20 minutes on 2 cores).
set -euo pipefail
cd "$(dirname "$0")/../.."
swift build -c release
S=.build/release/sne
DATA=${DATA:-../shared/data}
OUT=${OUT:-runs/fm2}
$S train teacher --out "$OUT" --data "$DATA" --teacher-width 32 --teacher-epochs 12
$S train sne --out "$OUT" --cascade --finetune-rate 0.01 --input-stride 2 --conv 4,16 --hidden 64 --features 32 --student-epochs 8 --finetune-epochs 6
$S eval "$OUT/model.sne" --noise --teacher "$OUT/teacher.ckpt"
$S compile "$OUT/model.sne" -o "$OUT/fashion_sne.snep" --data "$DATA/fashion-mnist" --stop-margin 0.5
$S check "$OUT/model.sne" "$OUT/fashion_sne.snep" --data "$DATA/fashion-mnist" --limit 10000 --html "$OUT/report.html"
mkdir -p examples/models/fashion-mnist
cp "$OUT/model.sne" "$OUT/partition.json" examples/models/fashion-mnist/
$S compile examples/models/fashion-mnist/model.sne -o examples/models/fashion-mnist/fashion_sne.snep --data "$DATA/fashion-mnist" --stop-margin 0.5
