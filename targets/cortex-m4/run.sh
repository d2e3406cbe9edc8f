#!/usr/bin/env bash
# run.sh ELF [timeout_s] - run a cortex-m4 ELF in qemu-system-arm -M mps2-an386.
exec "$(dirname "$0")/../arm-mps2/run-qemu.sh" mps2-an386 "$@"
