#!/usr/bin/env bash
# Regenerates examples/models/fashion-mnist-k2 from the full Fashion-MNIST (2 cores: 49 min 36 s measured
# with three other trainings beside it; see examples/fashion-mnist/README.md):
# the accurate recipe, a K = 2 cascade of a small stride-2 student distilling the teacher's features
# and a 16/32/128 student learning the labels and the teacher's logits, with prefix temperatures.
set -euo pipefail
cd "$(dirname "$0")/../.."
swift build -c release
S=.build/release/sne
DATA=${DATA:-../shared/data}
OUT=${OUT:-runs/fm-k2}
$S train teacher --out "$OUT" --data "$DATA" --teacher-width 32 --teacher-epochs 12
$S train sne --out "$OUT" --cascade --prefix-temperature --finetune-rate 0.01 --students 2 --student-sizes 4,16,64/16,32,128 \
  --input-stride 2,1 --student-targets features,logits --features 64 --student-epochs 8 --finetune-epochs 6
$S eval "$OUT/model.sne" --teacher "$OUT/teacher.ckpt"
$S compile "$OUT/model.sne" -o "$OUT/fashion_sne_k2.snep" --data "$DATA/fashion-mnist" --stop-margin 0.5
$S check "$OUT/model.sne" "$OUT/fashion_sne_k2.snep" --data "$DATA/fashion-mnist" --limit 10000 --html "$OUT/report.html"
mkdir -p examples/models/fashion-mnist-k2
cp "$OUT/model.sne" "$OUT/partition.json" examples/models/fashion-mnist-k2/
$S compile examples/models/fashion-mnist-k2/model.sne -o examples/models/fashion-mnist-k2/fashion_sne_k2.snep --data "$DATA/fashion-mnist" --stop-margin 0.5
