#!/usr/bin/env bash
# run.sh ELF [timeout_s] - run a host executable.
# SNE_COUNT=1 (default): run under valgrind callgrind, counting instructions
#   executed from main() on (dynamic loader / libc startup excluded), and print
#   "sne-count: instructions=N" on stderr. SNE_COUNT=0: run natively.
set -u
elf=${1:?usage: run.sh ELF [timeout_s]}
tmo=${2:-60}
count=${SNE_COUNT:-1}
[ -x "$elf" ] || { echo "run.sh(host): not an executable: $elf" >&2; exit 126; }

if [ "$count" = 1 ] && command -v valgrind >/dev/null 2>&1; then
    log=$(mktemp); trap 'rm -f "$log"' EXIT
    timeout --foreground -k 5 "$tmo" valgrind --tool=callgrind --log-file="$log" \
        --callgrind-out-file=/dev/null --collect-atstart=no --toggle-collect=main \
        "$elf"
    rc=$?
    if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
        echo "run.sh(host): TIMEOUT after ${tmo}s: $elf" >&2; exit 124
    fi
    n=; n=$(sed -n 's/^==[0-9]*== Collected : *\([0-9]*\).*/\1/p' "$log" | tail -n1)
    if [ -n "$n" ]; then
        echo "sne-count: instructions=$n" >&2
    else
        echo "run.sh(host): valgrind gave no count (rc=$rc):" >&2; cat "$log" >&2
    fi
else
    timeout --foreground -k 5 "$tmo" "$elf"
    rc=$?
    if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
        echo "run.sh(host): TIMEOUT after ${tmo}s: $elf" >&2; exit 124
    fi
fi
if [ "$rc" -ge 128 ]; then
    echo "run.sh(host): program killed by signal $((rc - 128)): $elf" >&2
fi
exit "$rc"
