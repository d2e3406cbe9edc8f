#!/usr/bin/env bash
# run.sh ELF [timeout_s] - run a cortex-m3 ELF in qemu-system-arm -M mps2-an385.
exec "$(dirname "$0")/../arm-mps2/run-qemu.sh" mps2-an385 "$@"
