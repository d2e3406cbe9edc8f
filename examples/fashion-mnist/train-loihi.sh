#!/usr/bin/env bash
# Regenerates examples/models/fashion-mnist-loihi: the same ensemble as train.sh, trained for Loihi's
# neuron (reset to 0, the LIF Lava's bit-accurate model computes; docs/neuromorphic.md). Reuses the
# teacher of train.sh (runs/fm2) when it is there. About 15-30 minutes on 2 cores after the teacher.
set -euo pipefail
cd "$(dirname "$0")/../.."
swift build -c release
S=.build/release/sne
DATA=${DATA:-../shared/data}
TEACHER=${TEACHER:-runs/fm2}
OUT=${OUT:-runs/fm2z}
mkdir -p "$OUT"
if [ -f "$TEACHER/teacher.ckpt" ]; then cp "$TEACHER"/teacher.* "$OUT"/
else $S train teacher --out "$OUT" --data "$DATA" --teacher-width 32 --teacher-epochs 12; fi
$S train sne --out "$OUT" --data "$DATA" --dataset fashion-mnist --conv 4,16 --hidden 64 --features 32 \
    --student-epochs 8 --finetune-epochs 6 --reset zero
mkdir -p examples/models/fashion-mnist-loihi
cp "$OUT/model.sne" "$OUT/partition.json" examples/models/fashion-mnist-loihi/
M=examples/models/fashion-mnist-loihi
$S compile $M/model.sne -o $M/fashion_loihi.snep --data "$DATA/fashion-mnist" --stop-margin 0.5
$S check $M/model.sne $M/fashion_loihi.snep --data "$DATA/fashion-mnist" --limit 10000 --loihi
$S compile $M/model.sne --target loihi --data "$DATA/fashion-mnist" -o "$OUT/loihi"
