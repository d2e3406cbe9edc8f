#!/usr/bin/env bash
# Rewrites the tool-printed figures in the READMEs (memory reports, the Fashion-MNIST stop margin
# and sizes) and the command reference in docs/user-guide.md from the current build; the same
# checks run in `swift test` (DocFiguresTests), which fail until this is run after a change.
set -euo pipefail
cd "$(dirname "$0")/.."
# The first run rewrites the figures (and fails if the user guide is stale, which the next step fixes).
SNE_UPDATE_DOCS=1 swift test --filter DocFiguresTests || true
swift build --product sne
SNE="$(swift build --show-bin-path)/sne" docs/make-user-guide.sh
swift test --filter DocFiguresTests
