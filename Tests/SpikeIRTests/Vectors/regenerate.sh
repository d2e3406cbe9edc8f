#!/bin/sh
# Regenerates the Spike IR conformance vectors in this folder:
#   vNN.snep           a random valid program (RandomProgram seed 2024+NN; tiny limits for even NN)
#   vNN.input.u8       one input (raw uint8, HWC)
#   vNN.expected.json  for every budget k = 1…K: logits, prediction, active, gate scores,
#                      trace hash (spec §8) and counts (total, gate, head, per student per op)
# Run from anywhere; rewrites the files only if the generator or the semantics changed.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
cd "$here/../../.."
swift run sne vectors "$here" --count 24 --seed 2024
