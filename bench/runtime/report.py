"""report.py - the tables of bench/runtime.sh from its run folder (dump, driver output, profile, nm).

Usage (by runtime.sh): report.py TMP TARGET PROGRAM JSON|'' MODE...
Per mode: instructions per inference (runtime only: the driver's marker 0 excluded), per op
(layer) with the op's unit (MAC, accumulate, neuron update, pooled output) and per function."""
import bisect, json, re, sys

tmp, target, prog, jpath, modes = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5:]
dump = open(f"{tmp}/dump.txt").read().splitlines()
T = int(re.search(r"\bT=(\d+)", dump[0]).group(1))
ops = []
for line in dump:
    if line.startswith("student 1"):
        break
    m = re.match(r"\s+(\d+) (\w+)\s+(\d+)x(\d+)x(\d+)(?: -> (\d+)x(\d+)x(\d+))?", line)
    if m:
        g = m.groups()
        out = [int(x) for x in (g[5:8] if g[5] else g[2:5])]
        ops.append((int(g[0]), g[1], out[0] * out[1] * out[2]))
unit = {"input_conv2d": ("MAC", "macs"), "input_dense": ("MAC", "macs"), "conv2d": ("accumulate", "synops"),
        "dense": ("accumulate", "synops"), "readout": ("accumulate", "synops"), "avgpool": ("accumulate", "synops"),
        "lif": ("neuron update", "updates"), "loihi_lif": ("neuron update", "updates"),
        "loihi_dense": ("accumulate", "synops"), "loihi_conv2d": ("accumulate", "synops"),
        "maxpool": ("pooled output", None), "flatten": ("-", None)}
result = {"target": target, "program": prog, "T": T, "modes": {}}
for md in modes:
    out = open(f"{tmp}/m{md}.out").read().splitlines()
    n = int(next(l.split()[1] for l in out if l.startswith("inferences")))
    students = int(next(l.split()[1] for l in out if l.startswith("students")))
    counts = {int(l.split()[1]): [int(x) for x in l.split()[2:5]] for l in out if l.startswith("op ")}
    prof = open(f"{tmp}/m{md}.prof").read().splitlines()
    marks = {int(l.split()[1]): int(l.split()[2]) for l in prof if l.startswith("mark ")}
    total = int(prof[0].split()[1])
    runtime = total - marks.get(0, 0)
    rows = []
    for j, kind, size in ops:
        ins = marks.get(j + 1, 0)
        u, key = unit.get(kind, ("-", None))
        c = counts.get(j, [0, 0, 0])
        if key == "macs": cnt = c[1] - (c[1] if kind == "readout" else 0)
        elif key == "synops": cnt = c[0]
        elif key == "updates": cnt = c[2]
        elif kind == "maxpool": cnt = size * T * students
        else: cnt = 0
        rows.append({"op": j, "kind": kind, "instructions": ins / n, "unit": u, "units": cnt / n,
                     "per_unit": ins / cnt if cnt else None})
    feats = marks.get(62, 0); gate = marks.get(63, 0); head = marks.get(64, 0)
    nm = []
    for l in open(f"{tmp}/m{md}.nm"):
        f = l.split()
        if len(f) == 3 and f[1] in "tTW":
            nm.append((int(f[0], 16) & ~1, f[2]))
    nm.sort()
    addrs = [a for a, _ in nm]
    fn = {}
    for l in prof:
        if l.startswith("pc "):
            _, pc, c = l.split(); pc = int(pc, 16) & ~1
            i = bisect.bisect_right(addrs, pc) - 1
            name = nm[i][1] if i >= 0 else "?"
            fn[name] = fn.get(name, 0) + int(c)
    funcs = sorted(fn.items(), key=lambda kv: -kv[1])
    result["modes"][md] = {"inferences": n, "students_per_inference": students / n,
                           "instructions_per_inference": runtime / n, "ops": rows,
                           "features": feats / n, "gate": gate / n, "head": head / n,
                           "functions": [{"name": k, "instructions": v / n} for k, v in funcs if v / n >= 1]}
print(f"{target}, {prog}: instructions per inference (QEMU instruction count; QEMU has no cycle model),"
      f" runtime only (driver excluded), deployed build (-O2, no trace hash), mean of {n} inputs")
print(f"{'mode':<6} {'students':>8} {'instructions':>13}")
for md in modes:
    r = result["modes"][md]
    label = "conf" if md == "conf" else f"k={md}"
    print(f"{label:<6} {r['students_per_inference']:>8.2f} {r['instructions_per_inference']:>13,.0f}")
for md in modes:
    r = result["modes"][md]
    print(f"\nmode {md}: per op (summed over the students run), per inference")
    print(f"  {'op':>3} {'kind':<13} {'instructions':>12} {'units':>10} {'unit':<14} {'instr/unit':>10}")
    for o in r["ops"]:
        pu = f"{o['per_unit']:.2f}" if o["per_unit"] else "-"
        print(f"  {o['op']:>3} {o['kind']:<13} {o['instructions']:>12,.0f} {o['units']:>10,.0f} {o['unit']:<14} {pu:>10}")
    for k in ("features", "gate", "head"):
        print(f"  {'':>3} {k:<13} {r[k]:>12,.0f}")
    print("  functions: " + ", ".join(f"{f['name']} {f['instructions']:,.0f}" for f in r["functions"][:10]))
if jpath:
    with open(jpath + ".tmp", "w") as f:
        json.dump(result, f, indent=1)
    import os; os.replace(jpath + ".tmp", jpath)
