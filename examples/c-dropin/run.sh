#!/bin/sh
# run.sh [PROGRAM.snep [IMAGE...]] - the whole c-dropin example from a fresh clone:
#   1. uses $SNE, else the sne on the PATH, else builds sne (swift build -c release);
#   2. sne compile PROGRAM --target host -o build/model;
#   3. builds classify twice: plain make (Makefile) and CMake (CMakeLists.txt);
#   4. runs both on every IMAGE at every budget k = 1..K and checks
#      that their program/logits/prediction/active/gate scores/ops lines equal `sne run PROGRAM --input IMG --budget k`.
# PROGRAM defaults to examples/programs/fmnist4.snep, the IMAGEs (raw uint8, HWC, the program's input
# size) to examples/programs/fmnist-test-*.u8. Exit status 0 when every check passed, 1 otherwise.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
prog=${1:-$root/examples/programs/fmnist4.snep}
[ "$#" -gt 0 ] && shift
[ "$#" -gt 0 ] || set -- "$root"/examples/programs/fmnist-test-*.u8
[ -f "$prog" ] || { echo "run.sh: no such program: $prog" >&2; exit 2; }
for img in "$@"; do [ -f "$img" ] || { echo "run.sh: no such image: $img" >&2; exit 2; }; done
prog=$(cd "$(dirname "$prog")" && pwd)/$(basename "$prog")
build=$here/build

if [ -z "${SNE:-}" ] && command -v sne > /dev/null; then
    SNE=$(command -v sne)      # installed (./install.sh)
fi
if [ -z "${SNE:-}" ]; then
    echo "== swift build -c release"
    (cd "$root" && swift build -c release)
    SNE=$root/.build/release/sne
fi

echo "== sne compile $prog --target host -o $build/model"
mkdir -p "$build"
"$SNE" compile "$prog" --target host -o "$build/model"

echo "== make (plain Makefile)"
make -C "$here" MODEL="$build/model" BUILD="$build/make"

echo "== cmake"
cmake -S "$here" -B "$build/cmake" -DSNE_MODEL_DIR="$build/model" > "$build/cmake-configure.log"
cmake --build "$build/cmake"

# K from the interpreter's own output ("... budget k=K of K=K" at the default budget).
img0=$1
K=$("$SNE" run "$prog" --input "$img0" | sed -n 's/.* of K=\([0-9]*\)$/\1/p')
[ -n "$K" ] || { echo "run.sh: cannot read K from sne run" >&2; exit 1; }

echo "== compare with sne run: every image, k = 1..$K"
keep='^(program|logits|prediction|active|gate scores|ops) '
fail=0; n=0
for img in "$@"; do
    k=1
    while [ "$k" -le "$K" ]; do
        "$SNE" run "$prog" --input "$img" --budget "$k" | grep -E "$keep" > "$build/expect.txt"
        for exe in "$build/make/classify" "$build/cmake/classify"; do
            "$exe" "$img" "$k" | grep -E "$keep" > "$build/got.txt"
            if cmp -s "$build/expect.txt" "$build/got.txt"; then n=$((n + 1)); else
                echo "MISMATCH $exe $(basename "$img") k=$k:"; diff "$build/expect.txt" "$build/got.txt" || true; fail=1
            fi
        done
        printf '%s k=%s prediction %s\n' "$(basename "$img")" "$k" "$(sed -n 's/^prediction  //p' "$build/got.txt")"
        k=$((k + 1))
    done
done
if [ "$fail" = 0 ]; then echo "OK: $n runs (make + cmake builds) equal sne run"; else echo "FAILED"; exit 1; fi
