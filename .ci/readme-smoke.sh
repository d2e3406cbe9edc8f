#!/usr/bin/env bash
# readme-smoke.sh [PREFIX]: the README as a new user meets it — a fresh clone of this checkout in a
# temporary folder (with ../shared/data linked beside it when this checkout has one), installed
# with ./install.sh PREFIX (default: a temporary prefix), then the README's hands-on commands run
# as written from the clone's root with `sne` from the PATH, HOME and the cache fresh. Prints each
# command and its exit code; exits 1 if any command that should succeed fails. The Lava line
# needs Lava (it must then say how to set it up, exit 1). SNE_PREFIX=DIR skips the install and uses
# DIR/bin/sne (already installed from this commit with ./install.sh DIR).
set -uo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
prefix=${SNE_PREFIX:-${1:-$work/prefix}}
trap 'rm -rf "$work"' EXIT
git clone -q "$src" "$work/sne" && git -C "$work/sne" checkout -q "$(git -C "$src" rev-parse HEAD)"
[ -d "$src/../shared/data" ] && ln -s "$(cd "$src/../shared" && pwd)" "$work/shared"
if [ -z "${SNE_PREFIX:-}" ]; then
    (cd "$work/sne" && ./install.sh "$prefix") > "$work/install.log" 2>&1 || { tail -5 "$work/install.log"; exit 1; }
fi
export PATH="$prefix/bin:$PATH" HOME="$work/home"
unset SNE_ROOT SNE_DATA
mkdir -p "$HOME"
cd "$work/sne"
fail=0
run() {   # run EXPECTED_CODE COMMAND...
    local want=$1; shift
    "$@" > "$work/out.txt" 2> "$work/err.txt"; local rc=$?
    printf '%-3s rc=%d  %s\n' "$([ $rc -eq "$want" ] && echo ok || echo BAD)" "$rc" "$*"
    [ $rc -eq "$want" ] || { fail=1; tail -3 "$work/err.txt"; }
}
M=examples/models/fashion-mnist-loihi
run 0 sne run examples/models/fashion-mnist/fashion_sne.snep --input examples/programs/fmnist-test-0.u8 --budget 2
run 0 sne check examples/models/fashion-mnist/model.sne examples/models/fashion-mnist/fashion_sne.snep --data ../shared/data/fashion-mnist
run 0 sne compile examples/models/fashion-mnist/fashion_sne.snep --target cortex-m4 -o out/
run 0 sne info examples/models/fashion-mnist/fashion_sne.snep --board stm32f411
run 0 sne verify examples/programs/fmnist4.snep --target cortex-m4
run 0 sne verify examples/models/fashion-mnist/fashion_sne.snep --target riscv32 --random 8
run 0 sne compile "$M/model.sne" --target loihi --data examples/data/fashion-mnist-slice -o out-loihi/
run 0 sne check "$M/model.sne" "$M/fashion_loihi.snep" --data ../shared/data/fashion-mnist --loihi
if python3 -c "import lava.proc.lif.models" 2>/dev/null || [ -n "${SNE_LAVA_PYTHON:-}" ]; then
    run 0 sne verify "$M/fashion_loihi.snep" --target lava --inputs examples/programs/fmnist-test-1.u8
else
    run 1 sne verify "$M/fashion_loihi.snep" --target lava --inputs examples/programs/fmnist-test-1.u8
    grep -q "pip install lava-nc" "$work/err.txt" || { echo "BAD: no Lava setup line"; fail=1; }
fi
run 0 sne compile out-loihi/program.snep --target cortex-m4 -o out-loihi-c/
run 0 sne export examples/models/fashion-mnist/fashion_sne.snep --nir fashion.nir
run 0 examples/c-dropin/run.sh
run 0 examples/cortex-m4/run.sh
(cd "$work" && run 2 sne demo --dataset mnist --data "$work/nowhere")   # outside the clone: a clear refusal, nothing written
[ ! -e "$work/runs" ] || { echo "BAD: a refused demo left $work/runs"; fail=1; }
exit $fail
