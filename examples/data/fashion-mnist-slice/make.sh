#!/usr/bin/env bash
# Regenerates the slice from the full Fashion-MNIST (first 8000 train, first 2000 test images).
set -euo pipefail
src="${1:-$(dirname "$0")/../../../../shared/data/fashion-mnist}"
cd "$(dirname "$0")"
python3 - "$src" <<'PY'
import gzip, struct, sys
src = sys.argv[1].rstrip('/') + '/'
def cut(name, n):
    d = gzip.open(src + name, 'rb').read()
    nd = d[3]
    dims = list(struct.unpack('>' + 'I' * nd, d[4:4 + 4 * nd]))
    per = 1
    for x in dims[1:]: per *= x
    dims[0] = n
    with open(name, 'wb') as f, gzip.GzipFile(fileobj=f, mode='wb', mtime=0, filename='') as g:
        g.write(d[:4] + struct.pack('>' + 'I' * nd, *dims) + d[4 + 4 * nd:4 + 4 * nd + n * per])
cut('train-images-idx3-ubyte.gz', 8000); cut('train-labels-idx1-ubyte.gz', 8000)
cut('t10k-images-idx3-ubyte.gz', 2000); cut('t10k-labels-idx1-ubyte.gz', 2000)
PY
