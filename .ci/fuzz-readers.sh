#!/usr/bin/env bash
# .ci/fuzz-readers.sh [N] - in-process fuzz runs of the Swift readers, then the .snep differential.
#   1. N mutated NPY, IDX and gzip files through NPY.decode, IDX.parse and Gzip.decompress
#      (SNEDataTests ReaderFuzzTests): every file parses or throws a one-line DataError.
#   2. N mutants of every valid .snep file in the checkout, loaded by the Swift decoder and the
#      C blob loader (SNECodegenTests SnepDifferentialFuzzTests): same accept/reject and error
#      class. Disagreeing files are kept in $SNE_SNEP_FUZZ_KEEP (default .build/fuzz/snep-disagree).
# Exit status 0 = no crash and no disagreement. Default N = 100000.
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-100000}
export SNE_SNEP_FUZZ_KEEP=${SNE_SNEP_FUZZ_KEEP:-$(pwd)/.build/fuzz/snep-disagree}
log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0
SNE_FUZZ_N=$n swift test --filter ReaderFuzzTests > "$log" 2>&1 || status=1
grep -E "^reader fuzz:|✘" "$log" || { tail -20 "$log"; status=1; }
SNE_SNEP_FUZZ_N=$n swift test --filter SnepDifferentialFuzzTests > "$log" 2>&1 || status=1
grep -E "^snep differential:|✘" "$log" || { tail -20 "$log"; status=1; }
[ "$status" = 0 ] && echo "fuzz-readers: OK" || echo "fuzz-readers: FAILED" >&2
exit "$status"
