#!/bin/sh
# install.sh [PREFIX]: builds sne (release) and installs it as PREFIX/bin/sne, with the demo's
# Fashion-MNIST slice in PREFIX/share/sne/data (default PREFIX: ~/.local). The C runtime and
# target ports are inside the binary; nothing else is needed. Uninstall: remove PREFIX/bin/sne
# and PREFIX/share/sne.
set -eu
cd "$(dirname "$0")"
prefix="${1:-$HOME/.local}"
case "$prefix" in /*) ;; *) prefix="$(pwd)/$prefix" ;; esac
swift build -c release --product sne
bin="$(swift build -c release --show-bin-path)/sne"
install -d "$prefix/bin" "$prefix/share/sne/data/fashion-mnist-slice"
install -m 755 "$bin" "$prefix/bin/sne"
install -m 644 examples/data/fashion-mnist-slice/*.gz examples/data/fashion-mnist-slice/LICENSE-fashion-mnist.txt "$prefix/share/sne/data/fashion-mnist-slice/"
echo "installed $prefix/bin/sne and $prefix/share/sne/data/fashion-mnist-slice"
case ":$PATH:" in
  *":$prefix/bin:"*) ;;
  *) echo "$prefix/bin is not on PATH; add it: export PATH=\"$prefix/bin:\$PATH\"" ;;
esac
