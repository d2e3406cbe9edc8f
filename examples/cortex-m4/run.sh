#!/bin/sh
# run.sh [PROGRAM.snep [IMAGE...]] - the whole cortex-m4 example from a fresh clone:
#   1. uses $SNE, else the sne on the PATH, else builds sne (swift build -c release);
#   2. sne compile PROGRAM --target cortex-m4 -o build/model;
#   3. gen-images.sh: every IMAGE -> build/images.h;
#   4. builds build/firmware.elf with arm-none-eabi-gcc through targets/Makefile (TARGET=cortex-m4:
#      targets/arm-mps2 startup, linker script and semihosting port);
#   5. runs it in qemu-system-arm -M mps2-an386 (targets/cortex-m4/run.sh) with no command line:
#      every image at every budget k = 1..K;
#   6. runs it again with the budget given at run time (QEMU -append "k", read by the firmware
#      through semihosting SYS_GET_CMDLINE) for k = 1;
#   7. checks both outputs line by line against `sne run PROGRAM --input IMG --budget k`.
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
model=$build/model
for tool in arm-none-eabi-gcc qemu-system-arm; do
    command -v "$tool" > /dev/null || {
        echo "run.sh: $tool not found (apt-get install gcc-arm-none-eabi libnewlib-arm-none-eabi qemu-system-arm)" >&2; exit 1; }
done

if [ -z "${SNE:-}" ] && command -v sne > /dev/null; then
    SNE=$(command -v sne)      # installed (./install.sh)
fi
if [ -z "${SNE:-}" ]; then
    echo "== swift build -c release"
    (cd "$root" && swift build -c release)
    SNE=$root/.build/release/sne
fi

echo "== sne compile $prog --target cortex-m4 -o $model"
mkdir -p "$build"
"$SNE" compile "$prog" --target cortex-m4 -o "$model"

# The program name and the C sources come from the emitted folder's Makefile (lib<name>.a, OBJS).
name=$(sed -n 's/^lib\([A-Za-z_][A-Za-z0-9_]*\)\.a:.*/\1/p' "$model/Makefile")
objs=$(sed -n 's/^OBJS *= *//p' "$model/Makefile")
[ -n "$name" ] && [ -n "$objs" ] || { echo "run.sh: $model/Makefile: no lib<name>.a rule or OBJS line" >&2; exit 1; }
srcs="$here/main.c"
for o in $objs; do srcs="$srcs $model/${o%.o}.c"; done

echo "== gen-images.sh $build/images.h"
"$here/gen-images.sh" "$build/images.h" "$@"

echo "== build $build/firmware.elf (model $name)"
make --no-print-directory -C "$root/targets" build TARGET=cortex-m4 SRCS="$srcs" \
    INCS="-I$model -I$build -DSNE_USE_TARGET_PORT -DSNE_MODEL=$name" OUT="$build/firmware.elf"
make --no-print-directory -C "$root/targets" size TARGET=cortex-m4 ELF="$build/firmware.elf"

# Expected output: sne run on the host, in the firmware's format.
expect() {  # expect IMG k
    echo "image $(basename "$1") k=$2"
    "$SNE" run "$prog" --input "$1" --budget "$2" | grep -E '^(logits|prediction|active|gate scores|ops) '
}
img0=$1
K=$("$SNE" run "$prog" --input "$img0" | sed -n 's/.* of K=\([0-9]*\)$/\1/p')
[ -n "$K" ] || { echo "run.sh: cannot read K from sne run" >&2; exit 1; }
: > "$build/expect-all.txt"; : > "$build/expect-k1.txt"
for img in "$@"; do
    k=1
    while [ "$k" -le "$K" ]; do expect "$img" "$k" >> "$build/expect-all.txt"; k=$((k + 1)); done
    expect "$img" 1 >> "$build/expect-k1.txt"
done

echo "== qemu (targets/cortex-m4/run.sh): every budget k = 1..$K"
rc=0
SNE_COUNT=${SNE_COUNT:-0} "$root/targets/cortex-m4/run.sh" "$build/firmware.elf" 600 > "$build/qemu-all.txt" || rc=$?
cat "$build/qemu-all.txt"
[ "$rc" = 0 ] || { echo "run.sh: firmware exited with status $rc" >&2; exit 1; }

echo "== qemu -append 1: budget chosen at run time"
timeout 600 qemu-system-arm -M mps2-an386 -nodefaults -nic none -display none -monitor none -serial none \
    -chardev stdio,id=sh0,signal=off -semihosting-config enable=on,target=native,chardev=sh0 \
    -kernel "$build/firmware.elf" -append 1 < /dev/null > "$build/qemu-k1.txt" 2> "$build/qemu-k1.err" || rc=$?
cat "$build/qemu-k1.txt"
[ "$rc" = 0 ] || { echo "run.sh: firmware exited with status $rc (stderr: $build/qemu-k1.err)" >&2; exit 1; }

fail=0
for run in all k1; do
    if cmp -s "$build/expect-$run.txt" "$build/qemu-$run.txt"; then
        echo "OK: qemu run '$run' ($(grep -c '^image ' "$build/qemu-$run.txt") inferences) equals sne run"
    else
        echo "MISMATCH: qemu run '$run' differs from sne run:"; diff "$build/expect-$run.txt" "$build/qemu-$run.txt" || true; fail=1
    fi
done
exit "$fail"
