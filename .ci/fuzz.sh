#!/usr/bin/env bash
# .ci/fuzz.sh [SECONDS] - build the libFuzzer harness for the C blob loader and run it.
# Seeds: valid random programs from `sne vectors` + examples/programs/*.snep + the 2.1 (Loihi) vectors.
# Exit status 0 = no crash, leak, ASan or UBSan report within SECONDS (default 60).
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-60}
CLANG=${CLANG:-clang}   # the Swift toolchain's clang (on the PATH) has libFuzzer, ASan and UBSan
work=${FUZZ_DIR:-.build/fuzz}
mkdir -p "$work/corpus" "$work/seeds"
"$CLANG" -std=c99 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
    -Iruntime-c/include runtime-c/fuzz/fuzz_blob.c runtime-c/src/sne_ops.c runtime-c/src/sne_run.c \
    runtime-c/src/sne_blob.c -o "$work/fuzz_blob" 2> >(grep -v "Cannot export local symbol" >&2)
if [ ! -e "$work/seeds/.done" ]; then
    sne=${SNE:-$(swift build --show-bin-path 2>/dev/null)/sne}
    if [ -x "$sne" ]; then
        "$sne" vectors "$work/seeds/gen" --count 40 --seed 7 >/dev/null || true
        cp "$work"/seeds/gen/*.snep "$work/seeds/" 2>/dev/null || true
    fi
    cp examples/programs/*.snep Tests/SpikeIRTests/Vectors/loihi/*.snep runtime-c/fuzz/regressions/* "$work/seeds/" 2>/dev/null || true
    touch "$work/seeds/.done"
fi
"$work/fuzz_blob" -max_total_time="$secs" -max_len=65536 -timeout=10 -rss_limit_mb=2048 \
    -print_final_stats=1 "$work/corpus" "$work/seeds" 2>&1 | tee "$work/last.log" | grep -E "^(#[0-9]+ +(DONE|INITED)|stat::|==.*ERROR|SUMMARY)" || true
if grep -qE "ERROR: (AddressSanitizer|libFuzzer|LeakSanitizer)|runtime error:|SUMMARY: " "$work/last.log"; then
    echo "fuzz: FAILED (see $work/last.log; crash inputs in $(pwd))" >&2; exit 1
fi
echo "fuzz: OK, $(grep -o 'stat::number_of_executed_units: [0-9]*' "$work/last.log" | awk '{print $2}') executions, 0 crashes"
