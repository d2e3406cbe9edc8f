#!/usr/bin/env bash
# Regenerates the command reference in docs/user-guide.md from `sne <cmd> --help` (run from the checkout;
# UserGuideTests checks that the file matches the built sne).
set -euo pipefail
S=${SNE:-.build/release/sne}
help=$(mktemp)
trap 'rm -f "$help"' EXIT
guide=docs/user-guide.md
head -n "$(grep -n '^## Commands' "$guide" | cut -d: -f1)" "$guide" > "$guide.tmp"
for c in demo train eval compile check run info dump verify export bench example vectors lava-vecs; do
  if "$S" "$c" --help >"$help" 2>/dev/null; then printf '\n### sne %s\n\n```\n' "$c"; cat "$help"; printf '```\n'; fi
done >> "$guide.tmp"
mv "$guide.tmp" "$guide"
