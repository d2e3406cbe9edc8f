#!/usr/bin/env bash
# MNIST on a short schedule: train, compile, check. Needs ../shared/data beside the checkout (or DATA=).
set -euo pipefail
cd "$(dirname "$0")/../.."
swift build -c release
S=.build/release/sne
DATA=${DATA:-../shared/data}
$S train sne --dataset mnist --data "$DATA" --out runs/mnist --teacher-width 16 --teacher-epochs 3 \
   --conv 4,16 --hidden 64 --features 16 --student-epochs 3 --finetune-epochs 1
$S compile runs/mnist/model.sne -o runs/mnist/mnist_sne.snep --data "$DATA/mnist"
$S check runs/mnist/model.sne runs/mnist/mnist_sne.snep --data "$DATA/mnist" --limit 10000
