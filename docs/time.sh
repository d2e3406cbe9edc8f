#!/usr/bin/env bash
# docs/time.sh ID DOC -- 'COMMAND LINE'
#
# Measures the wall time of one shell command line (run with bash -c from the checkout's root, so
# `cd`, `nice`, `~` and redirections read as in the doc) and records it in docs/timings.tsv as row ID
# (replacing an earlier row ID): the time, the date, the machine (CPU, cores, load average at the
# start) and the command. The time is written in one fixed format (0.19 s, 6.5 s, 55 s,
# 1 min 14 s, 1 h 05 min); when DOC quotes the row's previous figure once, that figure is
# replaced by the new one, else the script says what to quote. A failing command records nothing.
# DocTimingsTests (in `swift test`) checks that README.md, docs/*.md and examples/*/README.md
# quote no time that docs/timings.tsv does not record.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ $# -ne 4 ] || [ "$3" != "--" ]; then
  echo "usage: docs/time.sh ID DOC -- 'COMMAND LINE'   (e.g. docs/time.sh demo README.md -- 'cd \"\$(mktemp -d)\" && sne demo')" >&2
  exit 2
fi
id=$1 doc=$2 command=$4
file=docs/timings.tsv
case "$id" in *[!a-z0-9-]*|"") echo "docs/time.sh: ID '$id': use a-z, 0-9 and -" >&2; exit 2 ;; esac
[ -f "$doc" ] || { echo "docs/time.sh: $doc: no such file (a path from the checkout's root)" >&2; exit 2; }
case "$command" in *$'\t'*|*$'\n'*) echo "docs/time.sh: the command must not hold a tab or a newline" >&2; exit 2 ;; esac

cpu=$( (grep -m1 'model name' /proc/cpuinfo 2>/dev/null || sysctl -n machdep.cpu.brand_string 2>/dev/null || uname -m) | sed 's/^model name[[:space:]]*:[[:space:]]*//')
cores=$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo '?')
load=$(cut -d' ' -f1 /proc/loadavg 2>/dev/null || uptime | sed 's/.*averages*: *//; s/,.*//')
machine="$cpu, $cores cores, load $load"

start=$(date +%s.%N)
bash -c "$command" || { rc=$?; echo "docs/time.sh: the command failed (exit $rc); nothing recorded" >&2; exit "$rc"; }
end=$(date +%s.%N)
seconds=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.2f", b - a }')

# The one format; DocTimingsTests.format repeats it.
quote=$(awk -v s="$seconds" 'BEGIN {
  if (s < 1) printf "%.2f s", s
  else if (s < 10) printf "%.1f s", s
  else if (s < 59.5) printf "%d s", int(s + 0.5)
  else { t = int(s + 0.5)
    if (t < 3600) printf "%d min %d s", int(t / 60), t % 60
    else printf "%d h %02d min", int(t / 3600), int((t % 3600) / 60 + 0.5) } }')

old=$(awk -F'\t' -v id="$id" '$1 == id { print $3 }' "$file")
row=$(printf '%s\t%s\t%s\tmeasured\t%s\t%s\t%s\t%s' "$id" "$doc" "$quote" "$seconds" "$(date -u +%Y-%m-%d)" "$machine" "$command")
ROW="$row" awk -F'\t' -v id="$id" 'BEGIN { row = ENVIRON["ROW"]; done = 0 }
  $1 == id { if (!done) print row; done = 1; next } { print }
  END { if (!done) print row }' "$file" > "$file.tmp" && mv "$file.tmp" "$file"
echo "docs/time.sh: $id: $quote ($seconds s) recorded in $file"

if [ -n "$old" ] && [ "$old" != "$quote" ]; then
  # The old figure as a whole (not inside a longer number), white space matching any run of it.
  n=$(QOLD="$old" perl -0ne '$q = quotemeta $ENV{QOLD}; $q =~ s/(\\ )+/\\s+/g; $n = () = /(?<![\w.,])$q(?!\w)/g; print $n' "$doc")
  if [ "$n" -eq 1 ]; then
    QOLD="$old" QNEW="$quote" perl -0pi -e '$q = quotemeta $ENV{QOLD}; $q =~ s/(\\ )+/\\s+/g; s/(?<![\w.,])$q(?!\w)/$ENV{QNEW}/' "$doc"
    echo "docs/time.sh: $doc: '$old' → '$quote'"
  else
    echo "docs/time.sh: $doc quotes '$old' $n times: change the one this row is about to '$quote' by hand" >&2
  fi
elif [ -z "$old" ]; then
  echo "docs/time.sh: quote '$quote' in $doc"
fi
