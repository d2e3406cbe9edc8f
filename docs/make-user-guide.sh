#!/usr/bin/env bash
# Regenerates the command reference in docs/user-guide.md from `sne <cmd> --help` (run from the checkout).
set -euo pipefail
S=${SNE:-.build/release/sne}
guide=docs/user-guide.md
head -n "$(grep -n '^## Commands' "$guide" | cut -d: -f1)" "$guide" > "$guide.tmp"
for c in demo train eval compile check run info dump verify export bench example vectors lava-vecs; do
  if "$S" "$c" --help >/tmp/sne-help.txt 2>/dev/null; then printf '\n### sne %s\n\n```\n' "$c"; cat /tmp/sne-help.txt; printf '```\n'; fi
done >> "$guide.tmp"
mv "$guide.tmp" "$guide"
