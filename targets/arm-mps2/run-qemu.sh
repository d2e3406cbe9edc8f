#!/usr/bin/env bash
# run-qemu.sh MACHINE ELF [timeout_s]  (called by cortex-m3/run.sh, cortex-m4/run.sh)
# Semihosting console -> stdout; SYS_EXIT_EXTENDED status -> our exit status.
# SNE_COUNT=1 (default): count executed guest instructions with the TCG plugin
#   insn_count.c (built here once with the host cc, cached in targets/build/):
#   one inline add per executed block, so counting costs almost nothing.
#   When the plugin cannot be built or loaded, the run goes on without a count.
# SNE_COUNT=step: the old exact method, one instruction per translation block
#   (-singlestep -d exec,nochain) counting "Trace" lines; ~100x slower, kept as
#   a cross-check of the plugin.  SNE_COUNT=0 disables counting.
set -u
mach=${1:?machine}; elf=${2:?usage: run.sh ELF [timeout_s]}; tmo=${3:-60}
count=${SNE_COUNT:-1}
[ -f "$elf" ] || { echo "run.sh($mach): no such ELF: $elf" >&2; exit 126; }
here=$(cd "$(dirname "$0")" && pwd)

# The plugin, rebuilt when its source is newer; built to a temporary name and renamed so
# that parallel runs never load a half-written file.
plugin_so() {
    local dir=${SNE_PLUGIN_DIR:-$here/../build/qemu-plugin} so
    so=$dir/insn_count.so
    if [ ! -f "$so" ] || [ "$here/insn_count.c" -nt "$so" ]; then
        mkdir -p "$dir" 2>/dev/null || return 1
        ${HOSTCC:-cc} -shared -fPIC -O2 -o "$so.tmp.$$" "$here/insn_count.c" 2>/dev/null || { rm -f "$so.tmp.$$"; return 1; }
        mv -f "$so.tmp.$$" "$so"
    fi
    echo "$so"
}

tmpd=$(mktemp -d)
finish() { rm -rf "$tmpd"; exit "$1"; }   # no EXIT trap: subshells would inherit it

qemu=(qemu-system-arm -M "$mach" -nodefaults -nic none -display none -monitor none -serial none
      -chardev stdio,id=sh0,signal=off
      -semihosting-config enable=on,target=native,chardev=sh0
      -kernel "$elf")
plugin=()
if [ "$count" = 1 ]; then
    if so=$(plugin_so); then
        plugin=(-plugin "$so,out=$tmpd/n")
    else
        echo "run.sh($mach): no instruction count (the insn_count plugin did not build with ${HOSTCC:-cc})" >&2
        count=0
    fi
elif [ "$count" = step ]; then
    mkfifo "$tmpd/trace"
    grep -c '^Trace' < "$tmpd/trace" > "$tmpd/n" &
    cpid=$!
    qemu+=(-singlestep -d exec,nochain -D "$tmpd/trace")
fi
timeout --foreground -k 5 "$tmo" "${qemu[@]}" "${plugin[@]}" < /dev/null 2> "$tmpd/err"
rc=$?
if [ "$count" = 1 ] && [ "$rc" != 0 ] && grep -qi 'plugin' "$tmpd/err"; then
    # This QEMU refused the plugin (its API moved on): the guest never started, so run again
    # without counting.
    echo "run.sh($mach): no instruction count (QEMU refused the insn_count plugin: $(grep -i -m1 plugin "$tmpd/err"))" >&2
    count=0
    timeout --foreground -k 5 "$tmo" "${qemu[@]}" < /dev/null 2> "$tmpd/err"
    rc=$?
fi
# QEMU warns that the board's built-in lan9118 has no peer; drop only that.
grep -v 'warning: nic lan9118.0 has no peer' "$tmpd/err" >&2
n=
if [ "$count" = 1 ]; then
    # The plugin writes "instructions=N" at exit; a QEMU that refused the plugin leaves no file.
    sed -n 's/^instructions=//p' "$tmpd/n" 2>/dev/null > "$tmpd/n1"; read -r n 2>/dev/null < "$tmpd/n1"
elif [ "$count" = step ]; then
    # If QEMU never opened the log (e.g. it failed to start), grep is still
    # blocked opening the FIFO: open it for writing once to release it.
    if kill -0 "$cpid" 2>/dev/null; then
        { exec 3<>"$tmpd/trace"; exec 3>&-; } 2>/dev/null
    fi
    wait "$cpid" 2>/dev/null
    read -r n 2>/dev/null < "$tmpd/n"
fi
if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
    echo "run.sh($mach): TIMEOUT after ${tmo}s: $elf" >&2; finish 124
fi
[ -n "$n" ] && echo "sne-count: instructions=$n" >&2
[ "$rc" = 70 ] && echo "run.sh($mach): program faulted (status 70): $elf" >&2
finish "$rc"
