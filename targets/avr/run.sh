#!/usr/bin/env bash
# run.sh ELF [timeout_s] - run an atmega2560 ELF in simavr at 16 MHz.
# simavr prints USART0 output line by line on its stderr as
#   ESC[32m<line with '\n' shown as '.'>ESC[0m   (and other chars < ' ' as '.')
# This script decodes those lines to stdout, moves "sne-count:" lines to
# stderr, turns "sne-exit: N" (printed by port_exit) into the exit status,
# and passes any other simavr message to stderr.
# Limits of the decoding: control characters (tab, CR) arrive as '.', and
# simavr flushes its 256-byte line buffer without a newline, so a line of
# exactly 255 characters merges with the next one.
set -u
elf=${1:?usage: run.sh ELF [timeout_s]}; tmo=${2:-120}
[ -f "$elf" ] || { echo "run.sh(avr): no such ELF: $elf" >&2; exit 126; }
tmpd=$(mktemp -d)
timeout --foreground -k 5 "$tmo" simavr -m atmega2560 -f 16000000 "$elf" \
    2>&1 >/dev/null < /dev/null | awk -v st="$tmpd/status" '
    {
        line = $0
        p = index(line, "\033[32m")
        if (p == 0) {                         # not UART output
            gsub(/\033\[0m/, "", line)
            if (line != "") print "simavr: " line > "/dev/stderr"
            next
        }
        line = substr(line, p + 5)
        sub(/\033\[0m$/, "", line)
        if (length(line) >= 256) {            # buffer-full flush, no newline
            partial = partial line; next
        }
        sub(/\.$/, "", line)                  # the newline simavr shows as "."
        line = partial line; partial = ""
        if (line ~ /^sne-exit: [0-9]+$/) { split(line, a, " "); print a[2] > st; next }
        if (line ~ /^sne-count: /) { print line > "/dev/stderr"; next }
        print line; fflush()
    }
    END { if (partial != "") print partial }'
rc=${PIPESTATUS[0]}
status=; read -r status 2>/dev/null < "$tmpd/status"
rm -rf "$tmpd"
if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
    echo "run.sh(avr): TIMEOUT after ${tmo}s: $elf" >&2; exit 124
fi
if [ -z "$status" ]; then
    echo "run.sh(avr): simavr stopped (rc=$rc) without sne-exit: crash or exit outside port_exit: $elf" >&2
    exit 125
fi
exit "$status"
