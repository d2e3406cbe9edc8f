#!/usr/bin/env bash
# run.sh ELF [timeout_s] - run an rv32 ELF in qemu-system-riscv32 -M virt.
# Semihosting console -> stdout; the SiFive test finisher status -> our exit status.
# port_exit prints "sne-count: instructions=N" (minstret under -icount
# shift=0,sleep=off, counted from reset; sleep=off keeps it reproducible); this script moves that line to stderr.
set -u
elf=${1:?usage: run.sh ELF [timeout_s]}; tmo=${2:-60}
[ -f "$elf" ] || { echo "run.sh(riscv32): no such ELF: $elf" >&2; exit 126; }
timeout --foreground -k 5 "$tmo" qemu-system-riscv32 -M virt -bios none -nodefaults \
    -display none -monitor none -serial none -chardev stdio,id=sh0,signal=off \
    -semihosting-config enable=on,target=native,chardev=sh0 -icount shift=0,sleep=off -kernel "$elf" \
    < /dev/null | awk '/^sne-count: /{ print > "/dev/stderr"; next } { print; fflush() }'
rc=${PIPESTATUS[0]}
if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
    echo "run.sh(riscv32): TIMEOUT after ${tmo}s: $elf" >&2; exit 124
fi
[ "$rc" = 70 ] && echo "run.sh(riscv32): program trapped (status 70): $elf" >&2
exit "$rc"
