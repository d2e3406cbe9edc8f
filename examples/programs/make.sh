#!/bin/sh
# Regenerates the example program and the Fashion-MNIST test images next to this script.
#   fmnist4.snep          Fixtures.fmnistSized(seed: 1) (sne vectors --fmnist)
#   fmnist-test-N.u8      Fashion-MNIST test images 0…4, raw 784 bytes each (28x28, HWC uint8)
# Needs ../shared/data/fashion-mnist (relative to the repository root) and python3.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
cd "$root"
swift run -c release sne vectors --fmnist "$here/fmnist4.snep"
python3 - "$root/../shared/data/fashion-mnist/t10k-images-idx3-ubyte.gz" "$here" <<'PY'
import gzip, sys
src, out = sys.argv[1], sys.argv[2]
with gzip.open(src, 'rb') as f:
    data = f.read()
assert data[:4] == b'\x00\x00\x08\x03', 'not an IDX3 uint8 file'
for i in range(5):
    img = data[16 + 784 * i: 16 + 784 * (i + 1)]
    with open(f'{out}/fmnist-test-{i}.u8', 'wb') as g:
        g.write(img)
PY
cp "$root/../shared/data/licenses/fashion-mnist-debian-copyright.txt" "$here/LICENSE-fashion-mnist.txt"
echo "wrote $here"
