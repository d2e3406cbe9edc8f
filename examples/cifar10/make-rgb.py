#!/usr/bin/env python3
"""Writes an RGB stand-in for CIFAR-10, in CIFAR-10's binary format, made from Fashion-MNIST.

Each 28x28 Fashion-MNIST image is padded to 32x32 and coloured: a random foreground colour per
image, a random background colour (dark, or light with a dark garment in a quarter of the images)
and a per-pixel texture (random low bits), so the three channels differ and, as in natural images,
almost no pixel is zero. The class is carried by the shape only (colours are drawn independently
of the label).

Output (the layout `sne train --dataset cifar10 --data DIR` reads, DIR or DIR/cifar10):
  data_batch_1.bin ... data_batch_5.bin   the first 50,000 training images, 10,000 per batch
  test_batch.bin                          the 10,000 test images
  batches.meta.txt                        the class names, one per line
Each record is 1 label byte + 3072 bytes: the R, G and B planes of 32x32, row-major.

usage: python3 make-rgb.py [--fashion DIR] [--out DIR] [--limit N] [--test-limit N] [--seed S]
  --fashion DIR    folder with Fashion-MNIST's IDX files (.gz or plain; default ../shared/data/fashion-mnist)
  --out DIR        where the batches go (default rgb-data/cifar10)
  --limit N        at most N training images (split over the 5 batches) and, unless --test-limit
                   is given, at most N test images
  --test-limit N   at most N test images
  --seed S         colour seed (default 1); the same seed gives the same bytes
Python 3 standard library only.
"""
import argparse
import gzip
import os
import random
import struct
import sys

CLASSES = ["t-shirt/top", "trouser", "pullover", "dress", "coat",
           "sandal", "shirt", "sneaker", "bag", "ankle-boot"]
SIDE, PAD = 32, 2          # 28 + 2 + 2
PLANE = SIDE * SIDE
NOISE_BITS = 0x1F          # texture: the low 5 bits of every pixel are random


def read_idx(path):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    magic = struct.unpack(">I", data[:4])[0]
    dims = magic & 0xFF
    shape = struct.unpack(">" + "I" * dims, data[4:4 + 4 * dims])
    return shape, data[4 + 4 * dims:]


def find(directory, stem):
    for name in (stem + ".gz", stem):
        p = os.path.join(directory, name)
        if os.path.exists(p):
            return p
    sys.exit(f"make-rgb.py: {directory}: no {stem}[.gz] (give --fashion DIR, the folder with Fashion-MNIST's IDX files)")


def load(directory, split, limit):
    ishape, pixels = read_idx(find(directory, f"{split}-images-idx3-ubyte"))
    lshape, labels = read_idx(find(directory, f"{split}-labels-idx1-ubyte"))
    if ishape[1:] != (28, 28) or ishape[0] != lshape[0]:
        sys.exit(f"make-rgb.py: {directory}: {split} images {ishape}, labels {lshape}; expected N x 28 x 28 and N labels")
    n = ishape[0] if limit is None else min(limit, ishape[0])
    return n, pixels, labels


def colours(rng):
    """(background, foreground) RGB triples with a clear luminance difference."""
    def lum(c):
        return 0.299 * c[0] + 0.587 * c[1] + 0.114 * c[2]
    while True:
        bg = [rng.randint(0, 110) for _ in range(3)]
        fg = [rng.randint(40, 255) for _ in range(3)]
        fg[rng.randrange(3)] = rng.randint(200, 255)       # one strong channel: saturated colours
        if lum(fg) - lum(bg) >= 70:
            break
    if rng.random() < 0.25:                                 # light background, dark garment
        bg, fg = [255 - v for v in bg], [255 - v for v in fg]
    return bg, fg


def record(rng, noise, label, gray):
    """One CIFAR-10 record: label byte + R, G, B planes."""
    rows = [b"\0" * (SIDE * PAD)]
    for r in range(28):
        rows.append(b"\0\0" + gray[r * 28:(r + 1) * 28] + b"\0\0")
    rows.append(b"\0" * (SIDE * PAD))
    img = int.from_bytes(b"".join(rows), "little")
    off = rng.randrange(len(noise) - PLANE)
    img |= int.from_bytes(noise[off:off + PLANE], "little")
    img = img.to_bytes(PLANE, "little")
    bg, fg = colours(rng)
    out = [bytes([label])]
    for c in range(3):
        table = bytes((bg[c] * (255 - v) + fg[c] * v + 127) // 255 for v in range(256))
        out.append(img.translate(table))
    return b"".join(out)


def main():
    ap = argparse.ArgumentParser(description="RGB Fashion-MNIST in CIFAR-10's binary format")
    ap.add_argument("--fashion", default="../shared/data/fashion-mnist")
    ap.add_argument("--out", default="rgb-data/cifar10")
    ap.add_argument("--limit", type=int)
    ap.add_argument("--test-limit", type=int)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    if a.limit is not None and a.limit < 1 or a.test_limit is not None and a.test_limit < 1:
        sys.exit("make-rgb.py: --limit and --test-limit must be at least 1")
    train_limit = min(50000, a.limit) if a.limit else 50000
    test_limit = a.test_limit or a.limit
    rng = random.Random(a.seed)
    noise = bytes(rng.getrandbits(8) & NOISE_BITS for _ in range(1 << 16))
    os.makedirs(a.out, exist_ok=True)

    n, px, lb = load(a.fashion, "train", train_limit)
    per = -(-n // 5)                                        # ceil: batches 1..5, the last may be shorter
    for b in range(5):
        with open(os.path.join(a.out, f"data_batch_{b + 1}.bin"), "wb") as f:
            for i in range(b * per, min(n, (b + 1) * per)):
                f.write(record(rng, noise, lb[i], px[i * 784:(i + 1) * 784]))
    m, px, lb = load(a.fashion, "t10k", test_limit)
    with open(os.path.join(a.out, "test_batch.bin"), "wb") as f:
        for i in range(m):
            f.write(record(rng, noise, lb[i], px[i * 784:(i + 1) * 784]))
    with open(os.path.join(a.out, "batches.meta.txt"), "w") as f:
        f.write("\n".join(CLASSES) + "\n\n")
    print(f"{a.out}: {n} training images in data_batch_1..5.bin, {m} test images in test_batch.bin (32x32x3)")


if __name__ == "__main__":
    main()
