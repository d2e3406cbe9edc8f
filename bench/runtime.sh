#!/usr/bin/env bash
# bench/runtime.sh - instructions per inference of the deployed C runtime on an emulated Cortex-M,
# per budget, per op (layer) and per function, with instructions per neuron update / MAC /
# accumulate / pooled output (docs/c-runtime.md, "Cost on the device").
#
#   bench/runtime.sh PROGRAM.snep [--target cortex-m4|cortex-m3] [--inputs RAW] [--count N]
#                    [--modes "1 2 3 4 conf"] [--mode specialized|blob] [--json FILE]
#
# PROGRAM is compiled with `sne compile --target T` (the deployed build: SNE_TRACE_HASH=0, the
# target's own -O2 flags), linked with bench/runtime/prof_driver.c, and run in QEMU with the
# profiling plugin targets/arm-mps2/insn_prof.c. Modes: k = budget k with the confidence stop off
# (k students always run), conf = budget K with the program's stop margin (if it has one).
# RAW holds N·H·W·C input bytes (default: 16 random inputs -- pass real test images for real
# spike rates). QEMU counts instructions, not cycles (it has no timing model).
# SNE_BENCH_CFLAGS adds compiler flags (e.g. -DSNE_SPECIALIZE=0). Needs: a built sne (SNE=path, default .build/release/sne), arm-none-eabi-gcc, qemu-system-arm, python3.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd); root=$(cd "$here/.." && pwd)
sne=${SNE:-$root/.build/release/sne}
export SNE_ROOT=${SNE_ROOT:-$root}   # measure this checkout's runtime-c, not the copy built into sne
prog=""; target=cortex-m4; inputs=""; count=16; modes=""; mode=specialized; json=""
while [ $# -gt 0 ]; do
  case "$1" in
    --target) target=$2; shift 2;;
    --inputs) inputs=$2; shift 2;;
    --count) count=$2; shift 2;;
    --modes) modes=$2; shift 2;;
    --mode) mode=$2; shift 2;;
    --json) json=$2; shift 2;;
    -h|--help) sed -n '2,17p' "$0"; exit 0;;
    -*) echo "bench/runtime.sh: unknown flag '$1' (see --help)" >&2; exit 2;;
    *) [ -z "$prog" ] || { echo "bench/runtime.sh: one PROGRAM only, got '$prog' and '$1'" >&2; exit 2; }; prog=$1; shift;;
  esac
done
[ -n "$prog" ] || { echo "bench/runtime.sh: PROGRAM.snep is required (see --help)" >&2; exit 2; }
[ -f "$prog" ] || { echo "bench/runtime.sh: no such program: $prog" >&2; exit 2; }
[ -x "$sne" ] || { echo "bench/runtime.sh: no sne binary at $sne (swift build -c release, or set SNE)" >&2; exit 2; }
case "$target" in cortex-m4) mach=mps2-an386;; cortex-m3) mach=mps2-an385;;
  *) echo "bench/runtime.sh: --target must be cortex-m4 or cortex-m3, got '$target'" >&2; exit 2;; esac
for t in arm-none-eabi-gcc qemu-system-arm python3; do
  command -v $t >/dev/null || { echo "bench/runtime.sh: $t not found (apt-get install gcc-arm-none-eabi libnewlib-arm-none-eabi qemu-system-arm python3)" >&2; exit 2; }
done
tmp=$(mktemp -d); [ -n "${SNE_BENCH_KEEP:-}" ] && echo "bench/runtime.sh: keeping $tmp" >&2 || trap 'rm -rf "$tmp"' EXIT
"$sne" compile "$prog" --target "$target" --mode "$mode" -o "$tmp/out" > "$tmp/compile.txt"
name=$(sed -n 's/^#define SNE_\(.*\)_INPUT_BYTES .*/\1/p' "$tmp"/out/*.h | head -1)
hdr=$(basename "$(grep -l '_INPUT_BYTES' "$tmp"/out/*.h | head -1)")
base=${hdr%.h}; P=sne_$base
K=$(sed -n "s/^#define SNE_.*_STUDENTS \([0-9]*\)u.*/\1/p" "$tmp/out/$hdr")
insize=$(sed -n "s/^#define SNE_.*_INPUT_BYTES \([0-9]*\)u.*/\1/p" "$tmp/out/$hdr")
hasstop=$("$sne" dump "$prog" | head -1 | grep -c 'stop=margin' || true)
[ -n "$modes" ] || { modes=$(seq -s ' ' 1 "$K"); [ "$hasstop" = 1 ] && modes="$modes conf"; }
"$sne" dump "$prog" > "$tmp/dump.txt"
python3 - "$tmp" "$insize" "$count" "$inputs" <<'PY'
import sys, random
tmp, n, count, path = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
if path:
    data = open(path, 'rb').read()
    if len(data) < n or len(data) % n:
        sys.exit(f"bench/runtime.sh: {path}: {len(data)} bytes is not a whole number of {n}-byte inputs")
    data = data[:n * count]
else:
    rnd = random.Random(1); data = bytes(rnd.randrange(256) for _ in range(n * count))
k = len(data) // n
with open(tmp + '/inputs.h', 'w') as f:
    f.write(f'#define SNE_BENCH_N {k}u\n#define SNE_BENCH_IN {n}u\n')
    f.write('static const SNE_FLASH uint8_t vin[%d] = {\n%s\n};\n' % (len(data), ','.join(map(str, data))))
PY
cat >> "$tmp/inputs.h" <<EOF2
#define SNE_BENCH_INIT ${P}_init
#define SNE_BENCH_INFER ${P}_infer
#define SNE_BENCH_MODEL ${P}_model
#define SNE_BENCH_CTX ${P}_ctx
EOF2
printf '#ifndef __ASSEMBLER__\n#include <stdint.h>\nvoid sne_prof_mark(uint32_t id);\n#define SNE_PROF(id) sne_prof_mark((id) + 1u)\n#endif\n' > "$tmp/prof.h"
plugdir=$root/targets/build/qemu-plugin; mkdir -p "$plugdir"
so=$plugdir/insn_prof.so
if [ ! -f "$so" ] || [ "$root/targets/arm-mps2/insn_prof.c" -nt "$so" ]; then
  cc -shared -fPIC -O2 -o "$so.tmp.$$" "$root/targets/arm-mps2/insn_prof.c" && mv -f "$so.tmp.$$" "$so"
fi
srcs="$tmp/out/$base.c $tmp/out/sne_ops.c $tmp/out/sne_run.c $tmp/out/sne_blob.c $here/runtime/prof_driver.c"
for md in $modes; do
  if [ "$md" = conf ]; then b=$K; nostop=0; else b=$md; nostop=1; fi
  elf=$tmp/m$md.elf
  make --no-print-directory -s -C "$root/targets" build TARGET="$target" SRCS="$srcs" OUT="$elf" \
    INCS="${SNE_BENCH_CFLAGS:-} -I$tmp/out -I$tmp -DSNE_USE_TARGET_PORT -include $tmp/prof.h -DSNE_BENCH_HEADER=\\\"$hdr\\\" -DSNE_BENCH_BUDGET=$b -DSNE_BENCH_NOSTOP=$nostop" >/dev/null
  lo=$(arm-none-eabi-nm "$elf" | awk '$3=="sne_prof_marks"{print $1}')
  arm-none-eabi-nm -n --defined-only "$elf" > "$tmp/m$md.nm"
  timeout 600 qemu-system-arm -M "$mach" -nodefaults -nic none -display none -monitor none -serial none \
    -chardev stdio,id=sh0,signal=off -semihosting-config enable=on,target=native,chardev=sh0 \
    -kernel "$elf" -plugin "$so,out=$tmp/m$md.prof,marks=0x$lo:128:8" < /dev/null > "$tmp/m$md.out" 2> "$tmp/m$md.err" \
    || { echo "bench/runtime.sh: run failed for mode $md:"; cat "$tmp/m$md.err" "$tmp/m$md.out" | tail -5; exit 1; } >&2
done
python3 "$here/runtime/report.py" "$tmp" "$target" "$prog" "$json" $modes
