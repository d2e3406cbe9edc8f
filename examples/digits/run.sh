#!/usr/bin/env bash
# The digits pipeline: train, compile, check, verify on AVR (simavr). Needs ../shared/data beside the checkout.
set -euo pipefail
cd "$(dirname "$0")/../.."
# $SNE, else the installed sne on the PATH, else this checkout's release build.
S=${SNE:-$(command -v sne || true)}
if [ -z "$S" ]; then swift build -c release; S=.build/release/sne; fi
DATA=${DATA:-../shared/data}
$S train sne --dataset digits --data "$DATA" --out runs/digits --teacher-width 16 --teacher-epochs 30 --students 4 \
   --conv 4,8 --hidden 32 --features 16 --student-epochs 30 --batch 32 --head-epochs 40 --gate-epochs 30 --gate-pool 2 --finetune-epochs 10
$S compile runs/digits/model.sne -o runs/digits/digits_sne.snep --data "$DATA"
$S check runs/digits/model.sne runs/digits/digits_sne.snep --data "$DATA" --limit 359
$S verify runs/digits/digits_sne.snep --target avr --random 4
