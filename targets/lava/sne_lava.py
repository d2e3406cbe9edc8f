#!/usr/bin/env python3
"""Run an sne Loihi-mode program (written by `sne compile PROGRAM --target loihi -o DIR`) in Lava.

Builds one Lava process graph per student from DIR/model.json and the .npy arrays beside it and
runs it with Loihi2SimCfg(select_tag='fixed_pt'), i.e. Lava's bit-accurate CPU models
(lava/proc/lif/models.py PyLifModelBitAcc, lava/proc/dense/models.py PyDenseModelBitAcc,
lava/proc/conv/models.py PyConvModelFixed). What runs on the host, in exact integer numpy, is
only what Loihi does not do: the input op (spec §3.1/§3.2, computed once; its current becomes
the first neuron layer's bias mantissa), the readout sums, the int8 feature requantization and
the head (spec §4, §6). All students run (budget K).

Array layouts in DIR are sne's (HWC activations, conv weights [cin][kh][kw][cout], dense weights
[in][out]); this script converts them to Lava's (x, y, c) order and flips conv kernels (Lava's
Conv is a true convolution; sne's conv2d is a correlation).

usage: python sne_lava.py DIR --input FILE [--json OUT]    FILE: raw H*W*C uint8 bytes or .npy
prints the logits and prediction; --json writes the full trace (spikes, v, u per loihi_lif op
and step in HWC order, features, quantized features, logits).
"""
import argparse
import json
import os
import sys

import numpy as np


def rshr(x, s):
    """spec §1 rshr: round half up; x is int64 numpy (no overflow for |x| < 2^62)."""
    return x if s == 0 else (x + (1 << (s - 1))) >> s


def input_current(op, x, d, zp):
    """spec §3.1 / §3.2 in exact int64: the static current of op 0, HWC; padded positions of
    input_conv2d read the input zero point zp[c] (spec §2, version 2)."""
    w = np.load(os.path.join(d, op["w"])).astype(np.int64)
    b = np.load(os.path.join(d, op["bias"])).astype(np.int64)
    if op["op"] == "input_dense":
        return rshr(b + x.reshape(-1) @ w, op["shift"]).reshape(op["out_shape"])
    H, W, C = op["in_shape"]
    Ho, Wo, Co = op["out_shape"]
    kh, kw, st, p = op["kh"], op["kw"], op["stride"], op["pad"]
    xp = np.broadcast_to(np.asarray(zp, np.int64).reshape(1, 1, C), (H + 2 * p, W + 2 * p, C)).copy()
    xp[p:p + H, p:p + W, :] = x
    acc = np.broadcast_to(b, (Ho, Wo, Co)).copy()
    for ky in range(kh):
        for kx in range(kw):
            patch = xp[ky:ky + st * (Ho - 1) + 1:st, kx:kx + st * (Wo - 1) + 1:st, :]
            acc += patch @ w[:, ky, kx, :]
    return rshr(acc, op["shift"])


SPATIAL = ("input_conv2d", "loihi_conv2d")


def lava_shape(hwc, spatial):
    """Lava's shape of an sne (H, W, C) tensor: (x, y, c) after a convolution, else 1-D."""
    H, W, C = hwc
    return (W, H, C) if spatial else (H * W * C,)


def to_lava(a, hwc, spatial):
    H, W, C = hwc
    a = np.asarray(a).reshape(H, W, C)
    return a.transpose(1, 0, 2) if spatial else a.reshape(-1)


def from_lava_steps(a, hwc, spatial, T):
    """(T, lava shape) monitor data → (T, H·W·C) in sne's HWC order."""
    H, W, C = hwc
    a = np.asarray(a).reshape((T,) + lava_shape(hwc, spatial))
    if spatial:
        a = a.transpose(0, 2, 1, 3)
    return np.rint(a.reshape(T, H * W * C)).astype(np.int64)


def run_student(st, x, d, T, zp):
    from lava.magma.core.run_conditions import RunSteps
    from lava.magma.core.run_configs import Loihi2SimCfg
    from lava.proc.conv.process import Conv
    from lava.proc.dense.process import Dense
    from lava.proc.lif.process import LIF
    from lava.proc.monitor.process import Monitor
    from lava.utils.weightutils import SignMode

    ops = st["ops"]
    cur = input_current(ops[0], x, d, zp)
    prev = None          # the last Lava process (its output port feeds the next op)
    prev_shape = None    # sne shape of what prev emits
    prev_spatial = False # whether prev's port has Lava's (x, y, c) shape
    probes = []          # (kind, op index, monitor, sne shape, spatial)
    procs = []
    for j, op in enumerate(ops[1:], start=1):
        kind = op["op"]
        if kind == "loihi_lif":
            shape = op["in_shape"]
            spatial = ops[j - 1]["op"] in SPATIAL
            mant = np.tile(np.load(os.path.join(d, op["bias_mant"])).astype(np.int64), shape[0] * shape[1])
            if op["source"] == "bias":
                mant = mant + cur.reshape(-1)
            lif = LIF(shape=lava_shape(shape, spatial), du=op["du"], dv=op["dv"], vth=op["vth"],
                      bias_mant=to_lava(mant, shape, spatial).astype(np.int32), bias_exp=op["bias_exp"])
            if prev is not None:
                prev.a_out.connect(lif.a_in)
            for var in ("s_out", "v", "u"):
                m = Monitor()
                m.probe(getattr(lif, var), T)
                probes.append((var, j, m, shape, spatial))
            prev, prev_shape, prev_spatial = lif, shape, spatial
            procs.append(lif)
        elif kind == "flatten":
            pass                 # sne's flatten keeps HWC order; the dense below reorders its rows
        elif kind == "loihi_conv2d":
            w = np.load(os.path.join(d, op["w"])).astype(np.int32)          # [cin][kh][kw][cout]
            wl = w.transpose(3, 2, 1, 0)[:, ::-1, ::-1, :].copy()           # [cout][x][y][cin], flipped
            H, W, C = op["in_shape"]
            conv = Conv(weight=wl, input_shape=(W, H, C), padding=(op["pad"], op["pad"]),
                        stride=(op["stride"], op["stride"]))
            port = prev.s_out if prev_spatial else prev.s_out.reshape(new_shape=(W, H, C))  # 1x1xC only
            port.connect(conv.s_in)
            prev, prev_shape, prev_spatial = conv, op["out_shape"], True
            procs.append(conv)
        elif kind == "loihi_dense":
            w = np.load(os.path.join(d, op["w"])).astype(np.int32)          # [in][out], in in HWC order
            H, W, C = prev_shape
            if prev_spatial:     # Lava flattens (x, y, c); sne's rows are in (y, x, c) order
                w = w.reshape(H, W, C, -1).transpose(1, 0, 2, 3).reshape(H * W * C, -1)
            # 2·w with weight_exp − 1 and sign_mode MIXED: Lava clips MIXED weights to −256…255 and
            # drops their lowest bit, so even weights pass exactly and the exponent undoes the 2.
            dense = Dense(weights=(2 * w.T).astype(np.int32), weight_exp=op["weight_exp"] - 1,
                          sign_mode=SignMode.MIXED, num_message_bits=0)
            port = prev.s_out.reshape(new_shape=(H * W * C,)) if prev_spatial else prev.s_out
            port.connect(dense.s_in)
            prev, prev_shape, prev_spatial = dense, op["out_shape"], False
            procs.append(dense)
        elif kind == "readout":
            m = Monitor()
            m.probe(prev.a_out, T)
            probes.append(("a", j, m, op["in_shape"], prev_spatial))
        else:
            raise SystemExit(f"sne_lava: op {j} ({kind}) has no Lava mapping")
    procs[0].run(condition=RunSteps(num_steps=T), run_cfg=Loihi2SimCfg(select_tag="fixed_pt"))
    out = {"lif": {}, "features": None}
    for var, j, m, shape, spatial in probes:
        data = m.get_data()
        arr = next(iter(next(iter(data.values())).values()))
        steps = from_lava_steps(arr, shape, spatial, T)
        if var == "a":
            out["features"] = steps.sum(axis=0)
        else:
            out["lif"].setdefault(j, {})[var] = steps
    procs[0].stop()
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("dir")
    ap.add_argument("--input", required=True)
    ap.add_argument("--json")
    a = ap.parse_args()
    d = a.dir
    with open(os.path.join(d, "model.json")) as f:
        model = json.load(f)
    H, W, C = model["input"]
    if a.input.endswith(".npy"):
        x = np.load(a.input).astype(np.int64).reshape(-1)
    else:
        x = np.frombuffer(open(a.input, "rb").read(), np.uint8).astype(np.int64)
    if x.size != H * W * C:
        raise SystemExit(f"sne_lava: {a.input}: {x.size} values, the program needs {H * W * C}")
    x = x.reshape(H, W, C)
    T = model["T"]
    logits = np.load(os.path.join(d, model["head_bias"])).astype(np.int64)
    trace = {"students": []}
    for k, st in enumerate(model["students"]):
        r = run_student(st, x, d, T, model.get("input_zero_point", [0] * C))
        f = r["features"]
        fm, fs = np.asarray(st["feat_mult"], np.int64), st["feat_shift"]
        q = np.clip([rshr(int(f[i]) * int(fm[i]), fs[i]) for i in range(len(f))], -128, 127)   # spec §4, per feature
        hw = np.load(os.path.join(d, st["head_w"])).astype(np.int64)
        logits = logits + q @ hw                                               # spec §6
        trace["students"].append({
            "student": k,
            "lif": [{"op": j, "s": v["s_out"].tolist(), "v": v["v"].tolist(), "u": v["u"].tolist()}
                    for j, v in sorted(r["lif"].items())],
            "features": f.tolist(), "q": q.tolist()})
    trace["logits"] = logits.tolist()
    trace["prediction"] = int(np.argmax(logits))
    print("logits", " ".join(str(v) for v in trace["logits"]), "prediction", trace["prediction"])
    if a.json:
        tmp = a.json + ".tmp"
        with open(tmp, "w") as f:
            json.dump(trace, f)
        os.replace(tmp, a.json)


if __name__ == "__main__":
    sys.exit(main())
