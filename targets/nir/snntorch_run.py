#!/usr/bin/env python3
"""Run an sne-exported NIR graph in snnTorch and compare its predictions with sne's.

Loads FILE.nir with nir.read (type-checked), converts it with snnTorch's importer
(snntorch.import_nir: its node map for Affine/Conv2d/LIF/...) plus handlers for the NIR nodes
snnTorch's importer does not map — SumPool2d (a sum over each window), Threshold
(spike = x > threshold) and I (an integrator: the running sum of its input) — and a batched
Flatten (NIR's Flatten has no batch dimension; start_dim is shifted by one). Runs it for T steps
(the graph's metadata) per image on the raw uint8 pixels, a batch of images at a time.
logits = the sum of the inputs of the Output node (one head Affine per student) after the last
step; prediction = argmax (lowest index on a tie, as sne).

usage: snntorch_run.py FILE.nir (--idx IMAGES[.gz] | --images DIR) [--count N] [--start S]
                       [--labels LABELS[.gz]] [--expect FILE] [--reset importer|subtract|sne]
                       [--batch B] [--per-image] [--predictions FILE]
  --idx      an IDX image file (e.g. Fashion-MNIST t10k-images-idx3-ubyte.gz): items S … S+N−1
  --images   a directory of <i>.u8 raw images (HWC), i = S … S+N−1
  --labels   an IDX label file: prints snnTorch's accuracy
  --expect   sne's predictions for the same items: one integer per line, or one JSON object per
             line with a "prediction" key (the output of `sne run … --count N --json`); prints the
             agreement
  --reset    importer (default): the modules snnTorch's importer builds (reset to zero);
             subtract: sne-aware — the imported Leaky modules switched to snnTorch's reset by
             subtraction (its reset_delay=False form lowers the next step's membrane by the
             threshold once more while the reset membrane stays above it; sne does not);
             sne: sne-aware — each LIF node becomes SneLIF: snnTorch's beta and threshold, and the
             program's reset from the node's metadata (sne_reset, sne_reset_subtract)
  (both sne-aware settings are post-import changes, not part of the NIR graph)
Prints the summary lines (and one line per image with --per-image).
"""
import argparse
import gzip
import json
import os
import sys

import nir
import nirtorch
import numpy as np
import snntorch as snn
import snntorch.utils
import torch
from snntorch import import_nir as sni


class SumPool2d(torch.nn.Module):
    def __init__(self, n):
        super().__init__()
        self.k, self.s, self.p = tuple(int(v) for v in n.kernel_size), tuple(int(v) for v in n.stride), tuple(int(v) for v in n.padding)

    def forward(self, x):
        return torch.nn.functional.avg_pool2d(x, self.k, self.s, self.p) * (self.k[0] * self.k[1])


class Threshold(torch.nn.Module):
    def __init__(self, n):
        super().__init__()
        self.register_buffer("thr", torch.tensor(np.asarray(n.threshold), dtype=torch.float32))

    def forward(self, x):
        return (x > self.thr).float()


class Integrator(torch.nn.Module):
    """NIR I: dx/dt = r·input, discretized as a running sum (state reset per batch)."""
    def __init__(self, n):
        super().__init__()
        self.register_buffer("r", torch.tensor(np.asarray(n.r), dtype=torch.float32))
        self.state = None

    def forward(self, x):
        self.state = self.r * x if self.state is None else self.state + self.r * x
        return self.state


class SneLIF(torch.nn.Module):
    """sne-aware LIF: v = beta·v + x; spike = v > threshold (beta and threshold as snnTorch's
    importer computes them); on a spike v −= sne_reset_subtract (reset=subtract: θ in the node's
    units) or v = 0 (reset=zero), read from the LIF node's metadata written by `sne export`."""
    def __init__(self, n):
        super().__init__()
        leaky = sni._nir_to_snntorch_module(n, init_hidden=True)
        md = getattr(n, "metadata", None) or {}
        if "sne_reset_subtract" not in md:
            sys.exit("--reset sne: a LIF node has no sne_reset_subtract metadata (export it with this sne)")
        kind = md.get("sne_reset", b"subtract")
        self.subtract = (kind.decode() if isinstance(kind, bytes) else str(kind)) == "subtract"
        self.register_buffer("beta", leaky.beta.detach().clone().float())
        self.register_buffer("threshold", leaky.threshold.detach().clone().float())
        self.register_buffer("amount", torch.tensor(np.asarray(md["sne_reset_subtract"]), dtype=torch.float32))
        self.mem = None

    def forward(self, x):
        if self.mem is None or self.mem.shape != x.shape:
            self.mem = torch.zeros_like(x)
        self.mem = self.beta * self.mem + x
        spk = (self.mem > self.threshold).float()
        self.mem = self.mem - spk * self.amount if self.subtract else self.mem * (1 - spk)
        return spk


def batched_flatten(n):
    """NIR's Flatten counts dimensions without the batch; the executor runs with one."""
    start = int(n.start_dim)
    return torch.nn.Flatten(start + 1 if start >= 0 else start, int(n.end_dim))


def leaky(n, reset):
    m = sni._nir_to_snntorch_module(n, init_hidden=True)
    if reset == "subtract":   # sne-aware: the program's LIFs subtract θ on a spike
        m.reset_mechanism = "subtract"
        m.state_function = m._base_sub
    return m


def load(path, reset="importer"):
    g = nir.read(path)
    integrators = []   # stateful modules snn.utils.reset does not know: reset by run()

    def make_i(n):
        m = Integrator(n)
        integrators.append(m)
        return m

    def make_lif(n):
        if reset != "sne":
            return leaky(n, reset)
        m = SneLIF(n)
        integrators.append(m)
        return m
    node_map = {
        nir.Affine: lambda n: sni._nir_to_snntorch_module(n, init_hidden=True),
        nir.Linear: lambda n: sni._nir_to_snntorch_module(n, init_hidden=True),
        nir.Conv2d: lambda n: sni._nir_to_snntorch_module(n, init_hidden=True),
        nir.Flatten: batched_flatten,
        nir.AvgPool2d: lambda n: sni._nir_to_snntorch_module(n, init_hidden=True),
        nir.LIF: make_lif,
        nir.CubaLIF: lambda n: sni._nir_to_snntorch_module(n, init_hidden=True),
        nir.SumPool2d: SumPool2d,
        nir.Threshold: Threshold,
        nir.I: make_i,
    }
    net = nirtorch.nir_to_torch(g, node_map)
    meta = getattr(g, "metadata", None) or {}
    T = int(np.asarray(meta["T"])) if "T" in meta else 4
    return g, net, integrators, T


def run(net, integrators, x, T):
    """logits (B, classes) of a batch x (B, C, H, W) after T steps from reset state."""
    snn.utils.reset(net)
    for m in integrators:
        if isinstance(m, SneLIF):
            m.mem = None
        else:
            m.state = None
    out = None
    with torch.no_grad():
        for _ in range(T):
            out = net(x)
    if isinstance(out, dict):
        outs = list(out.values())
    elif isinstance(out, (tuple, list)):
        outs = list(out)
    else:
        outs = [out]
    # nirtorch returns the Output node's value (the sum of its inputs, one head Affine per
    # student) and its state dict
    return sum(o.reshape(x.shape[0], -1) for o in outs if torch.is_tensor(o))


def read_idx(path, start, count):
    """Items start … start+count−1 of a uint8 IDX file (plain or .gz) as an array (count, ...)."""
    data = (gzip.open if path.endswith(".gz") else open)(path, "rb").read()
    if len(data) < 4 or data[0:3] != b"\x00\x00\x08":
        sys.exit(f"{path}: not a uint8 IDX file (magic 00 00 08 <ndim>)")
    nd = data[3]
    dims = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(nd)]
    if start + count > dims[0]:
        sys.exit(f"{path}: items {start}…{start + count - 1} asked, the file has {dims[0]}")
    item = int(np.prod(dims[1:])) if nd > 1 else 1
    off = 4 + 4 * nd + start * item
    return np.frombuffer(data, np.uint8, count * item, off).reshape([count] + dims[1:])


def read_expect(path):
    """Predictions, one a line: an integer, or a JSON object with "prediction" (objects without
    one, such as the summary line of `sne run --count N --json`, are skipped)."""
    preds = []
    for line in open(path):
        line = line.strip()
        if line.startswith("{"):
            o = json.loads(line)
            if "prediction" in o:
                preds.append(int(o["prediction"]))
        elif line:
            preds.append(int(line))
    return preds


def main():
    ap = argparse.ArgumentParser(description="run an sne NIR export in snnTorch")
    ap.add_argument("nir_file")
    src = ap.add_mutually_exclusive_group(required=True)
    src.add_argument("--idx")
    src.add_argument("--images")
    ap.add_argument("--count", type=int, default=10)
    ap.add_argument("--start", type=int, default=0)
    ap.add_argument("--labels")
    ap.add_argument("--expect")
    ap.add_argument("--reset", choices=["importer", "subtract", "sne"], default="importer")
    ap.add_argument("--batch", type=int, default=500)
    ap.add_argument("--per-image", action="store_true")
    ap.add_argument("--predictions")
    a = ap.parse_args()
    torch.set_num_threads(1)
    g, net, integ, T = load(a.nir_file, a.reset)
    shape = tuple(int(v) for v in g.nodes["input"].input_type["input"])   # (C, H, W)
    C, H, W = shape
    if a.idx:
        imgs = read_idx(a.idx, a.start, a.count).reshape(a.count, H, W, C)
    else:
        imgs = np.stack([np.fromfile(os.path.join(a.images, f"{i}.u8"), np.uint8).reshape(H, W, C)
                         for i in range(a.start, a.start + a.count)])
    labels = read_idx(a.labels, a.start, a.count).reshape(-1) if a.labels else None
    expect = read_expect(a.expect) if a.expect else None
    if expect is not None and len(expect) < a.count:
        sys.exit(f"{a.expect}: {len(expect)} predictions, --count {a.count} needs as many")
    preds = []
    for b in range(0, a.count, a.batch):
        x = torch.tensor(imgs[b:b + a.batch].transpose(0, 3, 1, 2).astype(np.float32))   # HWC → CHW
        logits = run(net, integ, x, T)
        preds += [int(v) for v in torch.argmax(logits, dim=1)]   # first maximum, as sne
    agree = correct = sne_correct = 0
    for i, p in enumerate(preds):
        line = f"image {a.start + i}: snntorch {p}"
        if expect is not None:
            agree += p == expect[i]
            line += f", sne {expect[i]}"
        if labels is not None:
            correct += p == labels[i]
            line += f", label {labels[i]}"
            if expect is not None:
                sne_correct += expect[i] == labels[i]
        if a.per_image:
            print(line)
    if a.predictions:
        with open(a.predictions, "w") as f:
            f.write("".join(f"{p}\n" for p in preds))
    n = a.count
    print(f"snntorch ({a.reset} reset): {n} images {a.start}…{a.start + n - 1}, T={T}")
    if labels is not None:
        print(f"snntorch accuracy: {correct}/{n} = {100.0 * correct / n:.2f}%")
        if expect is not None:
            print(f"sne accuracy: {sne_correct}/{n} = {100.0 * sne_correct / n:.2f}%")
    if expect is not None:
        print(f"agreement: {agree}/{n} = {100.0 * agree / n:.2f}%")


if __name__ == "__main__":
    main()
