#!/usr/bin/env python3
"""Run an sne-exported NIR graph in snnTorch and compare its predictions with sne's.

Loads FILE.nir with nir.read (type-checked), converts it with snnTorch's importer
(snntorch.import_nir: its node map for Affine/Conv2d/Flatten/LIF/...) plus three handlers for NIR
nodes snnTorch's importer does not map — SumPool2d (a sum over each window), Threshold
(spike = x > threshold) and I (an integrator: the running sum of its input) — and runs it for T steps
per image on the raw uint8 pixels (no batch dimension). logits = the sum of the inputs of the
Output node (one head Affine per student) after the last step; prediction = argmax.

usage: snntorch_run.py FILE.nir --images DIR --count N [--expect FILE]
  DIR holds <i>.u8 raw images; --expect: a file of sne's predictions (one per line) to compare with.
Prints one line per image and the agreement.
"""
import argparse
import os

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
    """NIR I: dx/dt = r·input, discretized as a running sum (state reset per image)."""
    def __init__(self, n):
        super().__init__()
        self.register_buffer("r", torch.tensor(np.asarray(n.r), dtype=torch.float32))
        self.state = None

    def forward(self, x):
        self.state = self.r * x if self.state is None else self.state + self.r * x
        return self.state


def load(path):
    g = nir.read(path)
    integrators = []

    def make_i(n):
        m = Integrator(n)
        integrators.append(m)
        return m
    node_map = {
        nir.Affine: lambda n: sni._nir_to_snntorch_module(n, init_hidden=True),
        nir.Linear: lambda n: sni._nir_to_snntorch_module(n, init_hidden=True),
        nir.Conv2d: lambda n: sni._nir_to_snntorch_module(n, init_hidden=True),
        nir.Flatten: lambda n: sni._nir_to_snntorch_module(n, init_hidden=True),
        nir.AvgPool2d: lambda n: sni._nir_to_snntorch_module(n, init_hidden=True),
        nir.LIF: lambda n: sni._nir_to_snntorch_module(n, init_hidden=True),
        nir.CubaLIF: lambda n: sni._nir_to_snntorch_module(n, init_hidden=True),
        nir.SumPool2d: SumPool2d,
        nir.Threshold: Threshold,
        nir.I: make_i,
    }
    net = nirtorch.nir_to_torch(g, node_map)
    T = int(np.asarray(g.metadata.get("T", 4))) if getattr(g, "metadata", None) else 4
    return g, net, integrators, T


def run(net, integrators, x, T):
    snn.utils.reset(net)
    for m in integrators:
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
    # nirtorch returns the Output node's inputs (one head Affine per student) and its state dict
    return sum(o.reshape(-1) for o in outs if torch.is_tensor(o))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("nir_file")
    ap.add_argument("--images", required=True)
    ap.add_argument("--count", type=int, default=10)
    ap.add_argument("--expect")
    a = ap.parse_args()
    g, net, integ, T = load(a.nir_file)
    expect = [int(l) for l in open(a.expect)] if a.expect else None
    agree = 0
    for i in range(a.count):
        raw = np.fromfile(os.path.join(a.images, f"{i}.u8"), np.uint8)
        shape = tuple(int(v) for v in g.nodes["input"].input_type["input"])
        x = torch.tensor(raw.reshape(28, 28, -1).transpose(2, 0, 1).astype(np.float32)).reshape(shape)
        logits = run(net, integ, x, T)
        pred = int(torch.argmax(logits))
        line = f"image {i}: snntorch prediction {pred}"
        if expect is not None:
            agree += pred == expect[i]
            line += f", sne {expect[i]}"
        print(line, flush=True)
    if expect is not None:
        print(f"agreement: {agree}/{a.count} = {100.0 * agree / a.count:.1f}%")


if __name__ == "__main__":
    main()
