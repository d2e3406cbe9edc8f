#!/usr/bin/env python3
"""bench/frontier/frontier.py - the accuracy/cost frontier of a set of models (issue 16's benchmark).

    bench/frontier/frontier.py CONFIG.json [--out DIR] [--sne PATH] [--only NAME[,NAME]] [--dry-run]

For every run of CONFIG and every seed: `sne train` (resumable: a run whose model.sne exists is not
trained again), `sne compile` to the integer program, `sne check` on the test split (integer
accuracy of the program at every budget and in confidence mode, energy from the op counts), and,
when CONFIG names a device, `bench/runtime.sh` on the deployed C (instructions per inference on
cortex-m4/m3 per budget and in confidence mode, over the first `images` test images). Then one
table (frontier.md), one JSON (frontier.json) and one HTML page with two Pareto plots (accuracy vs
energy and vs instructions, log x) with the reference points of CONFIG's `refs` file.

Every accuracy is the integer program's in the reference interpreter, mean (and sd) over the seeds;
energy and instructions are means. Runs with "teacher": true share one built-in teacher (trained
once with the first seed and CONFIG's `teacher` flags) through symlinks of its files. Long runs
are benchmarks: the small config (small.json) is what the tests run.

CONFIG (JSON): {"dataset": NAME, "data": DIR (relative to CONFIG), "seeds": [..], "limit": N (test
images for sne check), "common": [flags for every train], "teacher": [flags], "refs": FILE,
"device": {"target": "cortex-m4", "images": 16} or null, "gap_range_uj": [LO, HI], "runs": [{"name": .., "train": [stage,
flags..], "teacher": bool, "compile": [flags], "margins": [X, ..], "students_from": NAME}]}

"choose_margin": {"limit": N, "held_out": M, "tolerance_pp": P} picks the run's stop margin (its
"confidence" mode) on a validation split instead of the compile flag's: see choose_margin().

"students_from" names an earlier run whose trained students (and partition) this run reuses, with
`--resume`: for variants that change only the join (head, order, gate, cascade, fine-tune).

"margins" adds confidence operating points: for each X the model is compiled again with
`--stop-margin X` (float logit units) and that program's confidence mode is checked and measured
(mode "conf@X"). They trace the accuracy/cost curve of the confidence stop; the margin a shipped
model uses is chosen on a validation split, never read off this test-set curve.
"""
import argparse, gzip, json, math, os, re, shutil, statistics, subprocess, sys, time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def die(msg):
    sys.exit(f"frontier.py: {msg}")


def slug(name):
    return re.sub(r"[^A-Za-z0-9]+", "-", name).strip("-").lower()


def atomic_write(path, text):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, path)


REPORT_ONLY = False   # --report: read what was measured, run nothing


def run(cmd, log, dry):
    """Runs cmd, appending its output to log; exits with the command's last lines on failure."""
    line = " ".join(cmd)
    if REPORT_ONLY:
        return 0.0
    print(f"  $ {line}", flush=True)
    if dry:
        return 0.0
    t0 = time.time()
    with open(log, "a") as f:
        f.write(f"$ {line}\n")
        f.flush()
        r = subprocess.run(cmd, stdout=f, stderr=subprocess.STDOUT)
    if r.returncode != 0:
        tail = open(log).read().splitlines()[-5:]
        die(f"failed ({r.returncode}): {line}\n  " + "\n  ".join(tail))
    return time.time() - t0


def load_config(path):
    try:
        cfg = json.load(open(path))
    except (OSError, ValueError) as e:
        die(f"{path}: {e}")
    for key in ("dataset", "data", "seeds", "runs"):
        if key not in cfg:
            die(f"{path}: missing '{key}'")
    if not cfg["seeds"] or not all(isinstance(s, int) for s in cfg["seeds"]):
        die(f"{path}: 'seeds' must be a non-empty list of integers")
    names = [r.get("name") for r in cfg["runs"]]
    if not names or None in names or len(set(names)) != len(names):
        die(f"{path}: every run needs a distinct 'name'")
    for r in cfg["runs"]:
        if not r.get("train") or r["train"][0] not in ("sne", "plain"):
            die(f"{path}: run '{r['name']}': 'train' must start with the stage sne or plain")
    base = os.path.dirname(os.path.abspath(path))
    cfg["data"] = os.path.normpath(os.path.join(base, cfg["data"]))
    if cfg.get("refs"):
        cfg["refs"] = os.path.normpath(os.path.join(base, cfg["refs"]))
    return cfg


def device_images(cfg, out, n):
    """The first n test images as one raw file (IDX datasets), or None."""
    for name in ("t10k-images-idx3-ubyte.gz", "t10k-images-idx3-ubyte"):
        p = os.path.join(cfg["data"], cfg["dataset"], name)
        if os.path.exists(p):
            raw = (gzip.open if p.endswith(".gz") else open)(p, "rb").read()
            h, w = int.from_bytes(raw[8:12], "big"), int.from_bytes(raw[12:16], "big")
            path = os.path.join(out, f"test-{n}.u8")
            with open(path, "wb") as f:
                f.write(raw[16:16 + n * h * w])
            return path
    return None


def mode_label(mode):
    """k=2, confidence, confidence (margin 0.5)."""
    if mode == "conf":
        return "confidence"
    if mode.startswith("conf@"):
        return f"confidence (margin {mode[5:]})"
    return "k=" + mode


def strip_margin(flags):
    """flags without a `--stop-margin X` pair."""
    out, skip = [], False
    for f in flags:
        if skip:
            skip = False
        elif f == "--stop-margin":
            skip = True
        else:
            out.append(f)
    return out


def train_teacher(cfg, out, sne, dry):
    tdir = os.path.join(out, "teacher")
    if os.path.exists(os.path.join(tdir, "teacher.test.logits.npy")):   # the last file sne train teacher writes
        return tdir
    os.makedirs(tdir, exist_ok=True)
    cmd = [sne, "train", "teacher", "--out", tdir, "--dataset", cfg["dataset"], "--data", cfg["data"],
           "--seed", str(cfg["seeds"][0])] + cfg.get("common", []) + cfg.get("teacher", [])
    print(f"teacher: {run(cmd, os.path.join(tdir, 'frontier.log'), dry):.0f} s")
    return tdir


def link_teacher(tdir, d):
    """Symlinks the shared teacher's files (not its progress checkpoint) into run folder d."""
    for f in os.listdir(tdir):
        if f.startswith("teacher.") and not f.endswith(".progress.ckpt") and not os.path.lexists(os.path.join(d, f)):
            os.symlink(os.path.join(tdir, f), os.path.join(d, f))


def check_json(sne, model, prog, data_dir, extra, path, dry):
    """`sne check --json` into path, or the kept file (exit 1 is an activity warning; the report is written)."""
    if os.path.exists(path):
        return json.load(open(path))
    cmd = [sne, "check", model, prog, "--data", data_dir, "--json"] + extra
    print(f"  $ {' '.join(cmd)} > {path}", flush=True)
    if dry:
        return None
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode not in (0, 1) or not p.stdout.strip().startswith("{"):
        die(f"sne check failed ({p.returncode}): {p.stderr.strip()[-400:]}")
    atomic_write(path, p.stdout)
    return json.loads(p.stdout)


def choose_margin(cfg, r, out, sne, tdir, dry):
    """The stop margin of run r chosen on a validation split, never the test set: the recipe is
    trained once more (first seed) on the first `limit` training images; for every candidate margin
    (r's margins and its compile margin) the program is checked on the `held_out` training images
    after them (`sne check --held-out`); the choice is the cheapest margin whose held-out accuracy is
    within `tolerance_pp` of all students (stop off). Returns the margin (written to val.json)."""
    spec = r["choose_margin"]
    seed = cfg["seeds"][0]
    d = os.path.join(out, "runs", f"{slug(r['name'])}-val")
    os.makedirs(d, exist_ok=True)
    log, model = os.path.join(d, "frontier.log"), os.path.join(d, "model.sne")
    choice = os.path.join(d, "val.json")
    if os.path.exists(choice):
        return json.load(open(choice))["margin"]
    if not os.path.exists(model):
        if r.get("teacher"):
            link_teacher(tdir, d)
        run([sne, "train", r["train"][0], "--out", d, "--dataset", cfg["dataset"], "--data", cfg["data"], "--seed", str(seed),
             "--limit", str(spec["limit"])] + cfg.get("common", []) + r["train"][1:], log, dry)
    flags = r.get("compile", [])
    base = float(flags[flags.index("--stop-margin") + 1]) if "--stop-margin" in flags else None
    rows = []
    for m in sorted(set(r.get("margins", [])) | ({base} if base is not None else set())):
        prog = os.path.join(d, f"program-m{m:g}.snep")
        if not os.path.exists(prog):
            run([sne, "compile", model, "-o", prog, "--data", cfg["data"], "--stop-margin", f"{m:g}"] + strip_margin(flags), log, dry)
        c = check_json(sne, model, prog, cfg["data"], ["--held-out", str(spec["held_out"])], os.path.join(d, f"check-m{m:g}.json"), dry)
        if c:
            rows.append({"margin": m, "accuracy": c["confidence"]["int_accuracy"], "energy_uj": c["confidence"]["energy_uj"],
                         "all_students": c["budgets"][-1]["int_accuracy"]})
    if dry or not rows:
        return base
    tol = spec.get("tolerance_pp", 0.1) / 100
    ok = [x for x in rows if x["accuracy"] >= x["all_students"] - tol]
    pick = min(ok, key=lambda x: x["energy_uj"]) if ok else max(rows, key=lambda x: x["margin"])
    atomic_write(choice, json.dumps({"margin": pick["margin"], "rule": f"cheapest margin within {100 * tol:g} pp of all students "
                                     f"on training images {spec['limit']}..{spec['limit'] + spec['held_out'] - 1} (held out)",
                                     "candidates": rows}, indent=1))
    print(f"  {r['name']}: stop margin {pick['margin']:g} chosen on the held-out split ({len(rows)} candidates)")
    return pick["margin"]


def one(cfg, r, seed, out, sne, tdir, images, dry):
    """Train, compile, check and measure one (run, seed); returns its results dict."""
    d = os.path.join(out, "runs", f"{slug(r['name'])}-s{seed}")
    os.makedirs(d, exist_ok=True)
    log = os.path.join(d, "frontier.log")
    res = {"run": r["name"], "seed": seed, "dir": os.path.relpath(d, out), "seconds": {}}
    if "chosen_margin" in r:
        res["chosen_margin"] = r["chosen_margin"]
    model, prog = os.path.join(d, "model.sne"), os.path.join(d, "program.snep")
    if not os.path.exists(model):
        if r.get("teacher"):
            link_teacher(tdir, d)
        resume = []
        if r.get("students_from"):
            # A variant that changes only the join reuses the trained students of an earlier run.
            src = os.path.join(out, "runs", f"{slug(r['students_from'])}-s{seed}")
            names = [f for f in os.listdir(src) if re.fullmatch(r"student-\d+\.ckpt|partition\.json", f)] if os.path.isdir(src) else []
            if not any(f.startswith("student-") for f in names) and not dry:
                die(f"run '{r['name']}': students_from '{r['students_from']}' has no trained students in {src} (list it earlier)")
            for f in names:
                shutil.copyfile(os.path.join(src, f), os.path.join(d, f))
            resume = ["--resume"]
        cmd = [sne, "train", r["train"][0], "--out", d, "--dataset", cfg["dataset"], "--data", cfg["data"],
               "--seed", str(seed)] + cfg.get("common", []) + r["train"][1:] + resume
        res["seconds"]["train"] = run(cmd, log, dry)
    data_dir = cfg["data"]   # compile and check find the dataset of the model under this root
    flags_file, flags = os.path.join(d, "compile.flags"), " ".join(r.get("compile", []))
    if not REPORT_ONLY and os.path.exists(prog) and (not os.path.exists(flags_file) or open(flags_file).read() != flags):
        for f in ("program.snep", "check.json", "device.json"):   # compiled with other flags: redo
            if os.path.exists(os.path.join(d, f)):
                os.remove(os.path.join(d, f))
    if not dry and not REPORT_ONLY:
        atomic_write(flags_file, flags)
    if not os.path.exists(prog):
        res["seconds"]["compile"] = run([sne, "compile", model, "-o", prog, "--data", data_dir] + r.get("compile", []), log, dry)
    check = os.path.join(d, "check.json")
    if not REPORT_ONLY:
        check_json(sne, model, prog, data_dir, ["--limit", str(cfg.get("limit", 10000))], check, dry)
    dev = cfg.get("device")
    devjson = os.path.join(d, "device.json")
    if dev and images and not os.path.exists(devjson):
        cmd = [os.path.join(ROOT, "bench", "runtime.sh"), prog, "--target", dev.get("target", "cortex-m4"),
               "--inputs", images, "--json", devjson]
        res["seconds"]["device"] = run(cmd, log, dry)
    extra = {}   # margin -> (check.json, device.json or None)
    for m in r.get("margins", []):
        tag = f"m{m:g}"
        mprog, mcheck, mdev = (os.path.join(d, f"program-{tag}.snep"), os.path.join(d, f"check-{tag}.json"),
                               os.path.join(d, f"device-{tag}.json"))
        if not os.path.exists(mprog):
            run([sne, "compile", model, "-o", mprog, "--data", data_dir, "--stop-margin", f"{m:g}"]
                + strip_margin(r.get("compile", [])), log, dry)
        if not REPORT_ONLY:
            check_json(sne, model, mprog, data_dir, ["--limit", str(cfg.get("limit", 10000))], mcheck, dry)
        if dev and images and not os.path.exists(mdev):
            run([os.path.join(ROOT, "bench", "runtime.sh"), mprog, "--target", dev.get("target", "cortex-m4"),
                 "--inputs", images, "--modes", "conf", "--json", mdev], log, dry)
        if os.path.exists(mcheck):
            extra[f"conf@{m:g}"] = (mcheck, mdev if os.path.exists(mdev) else None)
    if dry:
        return res
    c = json.load(open(check))
    res["modes"] = {}
    for b in c["budgets"]:
        res["modes"][str(b["budget"])] = {"accuracy": b["int_accuracy"], "energy_uj": b["energy_uj"],
                                          "students": b["int_students"]}
    if c.get("confidence"):
        b = c["confidence"]
        res["modes"]["conf"] = {"accuracy": b["int_accuracy"], "energy_uj": b["energy_uj"], "students": b["int_students"]}
    for mode, (mcheck, mdev) in extra.items():
        b = json.load(open(mcheck)).get("confidence")
        if not b:
            continue
        res["modes"][mode] = {"accuracy": b["int_accuracy"], "energy_uj": b["energy_uj"], "students": b["int_students"]}
        if mdev:
            ins = json.load(open(mdev))["modes"].get("conf")
            if ins:
                res["modes"][mode]["instructions"] = ins["instructions_per_inference"]
    res["images"] = c["images"]
    res["references"] = c.get("references", [])
    if os.path.exists(devjson):
        dj = json.load(open(devjson))
        for mode, m in dj["modes"].items():
            if mode in res["modes"]:
                res["modes"][mode]["instructions"] = m["instructions_per_inference"]
        res["device"] = {"target": dj["target"], "images": next(iter(dj["modes"].values()))["inferences"]}
    return res


def aggregate(results):
    """Per (run, mode): mean/sd accuracy over the seeds, mean energy and instructions."""
    rows = {}
    for r in results:
        for mode, m in r.get("modes", {}).items():
            rows.setdefault((r["run"], mode), []).append(m)
    out = []
    for (name, mode), ms in rows.items():
        acc = [m["accuracy"] for m in ms]
        row = {"run": name, "mode": mode, "seeds": len(ms), "accuracy": statistics.mean(acc),
               "accuracy_sd": statistics.stdev(acc) if len(acc) > 1 else 0.0,
               "energy_uj": statistics.mean(m["energy_uj"] for m in ms),
               "students": statistics.mean(m["students"] for m in ms)}
        ins = [m["instructions"] for m in ms if "instructions" in m]
        if len(ins) == len(ms):
            row["instructions"] = statistics.mean(ins)
        out.append(row)
    for key in ("energy_uj", "instructions"):
        pts = [r for r in out if key in r]
        for r in pts:
            r[f"pareto_{key}"] = not any(o is not r and o[key] <= r[key] and o["accuracy"] >= r["accuracy"]
                                         and (o[key] < r[key] or o["accuracy"] > r["accuracy"]) for o in pts)
    return sorted(out, key=lambda r: (r["run"], r["mode"]))


def best_at(points, cost):
    """The best accuracy among (cost, accuracy) points costing at most cost (None if none)."""
    acc = [a for c, a in points if c <= cost]
    return max(acc) if acc else None


def gaps(rows, refs, key, lo, hi):
    """Per non-plain run: the smallest margin (pp) of its best curve over the best plain SNN (with or
    without KD) of no more cost, over every cost point in [lo, hi] (key: energy_uj or instructions);
    with key instructions the reference rows count as competitors too."""
    plain = [(r[key], r["accuracy"]) for r in rows if r["run"].startswith("plain") and key in r]
    if key == "instructions":
        plain += [(x[key], x["accuracy"]) for x in refs if key in x]
    out = {}
    ens = sorted({r["run"] for r in rows if not r["run"].startswith("plain")})
    for name in ens + (["best of all ensembles"] if len(ens) > 1 else []):
        mine = [(r[key], r["accuracy"]) for r in rows if (r["run"] == name or name == "best of all ensembles")
                and not r["run"].startswith("plain") and key in r]
        costs = sorted({c for c, _ in mine + plain if lo <= c <= hi})
        worst, curve = None, []
        for c in costs:
            a, b = best_at(mine, c), best_at(plain, c)
            if a is None:
                continue
            g = 100 * (a - (b if b is not None else 0))
            curve.append({"cost": c, "ensemble": a, "plain": b, "gap_pp": g})
            if worst is None or g < worst[0]:
                worst = (g, c)
        if worst:
            out[name] = {"min_gap_pp": worst[0], "at": worst[1], "curve": curve}
    return out


def marker(family, x, y, color, filled, title=""):
    """An SVG marker: circle (ensemble), square (plain SNN), triangle (plain SNN with KD)."""
    fill = color if filled else "white"
    t = f"<title>{title}</title>" if title else ""
    if family == "plain":
        return f'<rect x="{x - 4:.1f}" y="{y - 4:.1f}" width="8" height="8" stroke="{color}" fill="{fill}">{t}</rect>'
    if family == "kd":
        return f'<polygon points="{x:.1f},{y - 5:.1f} {x + 5:.1f},{y + 4:.1f} {x - 5:.1f},{y + 4:.1f}" stroke="{color}" fill="{fill}">{t}</polygon>'
    return f'<circle cx="{x:.1f}" cy="{y:.1f}" r="4" stroke="{color}" fill="{fill}">{t}</circle>'


def tick(v):
    """An axis label: 0.2, 5, 200k, 2M."""
    return f"{v / 1e6:g}M" if v >= 1e6 else f"{v / 1e3:g}k" if v >= 1e4 else f"{v:g}"


def family(run):
    return "kd" if run.startswith("plain+KD") else "plain" if run.startswith("plain") else "sne"


def svg_plot(rows, refs, key, label):
    """An inline SVG: accuracy (%) against key on a log axis; Pareto points filled. Reference points
    far beyond the models' costs (e.g. the teacher) are listed under the plot instead of squeezing it."""
    pts = [(r[key], 100 * r["accuracy"], f"{r['run']} {mode_label(r['mode'])}", r[f"pareto_{key}"], r["run"])
           for r in rows if key in r]
    if not pts:
        return f"<p>no {label} values (no device measured)</p>"
    top = max(p[0] for p in pts)
    rpts = [(x[key], 100 * x["accuracy"], x["label"]) for x in refs if key in x and x[key] <= 3 * top]
    off = [x for x in refs if key in x and x[key] > 3 * top]
    xs = [p[0] for p in pts + rpts if p[0] > 0]
    ys = [p[1] for p in pts + rpts]
    x0, x1 = math.log10(min(xs)) - 0.05, math.log10(max(xs)) + 0.05
    y0, y1 = math.floor(min(ys)) - 0.5, math.ceil(max(ys)) + 0.5
    W, H, L, B = 820, 460, 60, 40
    fx = lambda x: L + (math.log10(x) - x0) / (x1 - x0) * (W - L - 20)
    fy = lambda y: H - B - (y - y0) / (y1 - y0) * (H - B - 20)
    runs = sorted({p[4] for p in pts}, key=lambda n: ({"sne": 0, "kd": 1, "plain": 2}[family(n)], n))
    colors = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf", "#bcbd22", "#7f7f7f",
              "#393b79", "#637939", "#8c6d31", "#843c39", "#7b4173", "#3182bd", "#e6550d", "#31a354", "#756bb1", "#636363"]
    col = {n: colors[i % len(colors)] for i, n in enumerate(runs)}
    n_legend = len(runs) + (1 if rpts else 0) + len(off)
    s = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H + 20 * (n_legend + 1)}" font-family="sans-serif" font-size="11">']
    s.append(f'<rect x="{L}" y="20" width="{W - L - 20}" height="{H - B - 20}" fill="none" stroke="#888"/>')
    for e in range(math.floor(x0), math.ceil(x1) + 1):
        for m in (1, 2, 5):
            v = m * 10 ** e
            if x0 <= math.log10(v) <= x1:
                s.append(f'<line x1="{fx(v):.1f}" y1="20" x2="{fx(v):.1f}" y2="{H - B}" stroke="#eee"/>'
                         f'<text x="{fx(v):.1f}" y="{H - B + 14}" text-anchor="middle">{tick(v)}</text>')
    for y in range(math.ceil(y0), math.floor(y1) + 1):
        s.append(f'<line x1="{L}" y1="{fy(y):.1f}" x2="{W - 20}" y2="{fy(y):.1f}" stroke="#eee"/>'
                 f'<text x="{L - 6}" y="{fy(y) + 4:.1f}" text-anchor="end">{y}</text>')
    s.append(f'<text x="{(L + W) / 2}" y="{H - 6}" text-anchor="middle">{label} (log scale)</text>')
    s.append(f'<text x="14" y="{H / 2}" transform="rotate(-90 14 {H / 2})" text-anchor="middle">integer accuracy (%)</text>')
    for n in runs:
        line = sorted((p for p in pts if p[4] == n), key=lambda p: p[0])
        s.append('<polyline fill="none" stroke="%s" stroke-opacity="0.5" points="%s"/>' % (
            col[n], " ".join(f"{fx(p[0]):.1f},{fy(p[1]):.1f}" for p in line)))
    for x, y, lab, par, n in pts:
        s.append(marker(family(n), fx(x), fy(y), col[n], par, f"{lab}: {y:.2f} % at {x:.4g}"))
    for x, y, lab in rpts:
        s.append(f'<path d="M{fx(x) - 5:.1f},{fy(y) - 5:.1f} L{fx(x) + 5:.1f},{fy(y) + 5:.1f} M{fx(x) - 5:.1f},{fy(y) + 5:.1f} '
                 f'L{fx(x) + 5:.1f},{fy(y) - 5:.1f}" stroke="black" stroke-width="2"><title>{lab}: {y:.2f} % at {x:.4g}</title></path>')
    legend = [(marker(family(n), L + 6, 0, col[n], True), f"{n} (filled: on the Pareto frontier)") for n in runs]
    if rpts:
        legend.append(("X", "reference points (black crosses; hover for the label): " + "; ".join(f"{lab} {y:.2f} %" for _, y, lab in rpts)))
    legend += [("", f"off the plot: {x['label']}, {100 * x['accuracy']:.2f} % at {x[key]:.4g}") for x in off]
    for i, (mk, text) in enumerate(legend):
        yy = H + 14 + 20 * i
        if mk == "X":
            mk = f'<path d="M{L + 1},{yy - 9} L{L + 11},{yy + 1} M{L + 1},{yy + 1} L{L + 11},{yy - 9}" stroke="black" stroke-width="2"/>'
        else:
            mk = mk.replace(' cy="0.0"', f' cy="{yy - 4}"').replace(' y="-4.0"', f' y="{yy - 8}"').replace(",-5.0 ", f",{yy - 9} ").replace(",4.0", f",{yy}")
        s.append(mk + f'<text x="{L + 16}" y="{yy}">{text}</text>')
    s.append("</svg>")
    return "\n".join(s)


def report(cfg, rows, refs, out, results):
    seeds = cfg["seeds"]
    images = results[0].get("images") if results else None
    dev = next((r["device"] for r in results if "device" in r), None)
    head = (f"Frontier on {cfg['dataset']}: integer program accuracy on {images} test images (mean over the seeds each row counts, of {seeds}), "
            f"energy at 4.6 pJ/MAC + 0.9 pJ/accumulate" +
            (f", instructions per inference on {dev['target']} (deployed build, QEMU count, mean of {dev['images']} test images)" if dev else ""))
    md = [head, "", "| run | mode | seeds | accuracy % (sd) | energy µJ | instructions | students | Pareto (energy / instr.) |",
          "| --- | --- | ---: | ---: | ---: | ---: | ---: | --- |"]
    for r in rows:
        ins = f"{r['instructions']:,.0f}" if "instructions" in r else "-"
        par = ("E" if r["pareto_energy_uj"] else "") + ("/I" if r.get("pareto_instructions") else "")
        md.append(f"| {r['run']} | {mode_label(r['mode'])} | {r['seeds']} | "
                  f"{100 * r['accuracy']:.2f} ({100 * r['accuracy_sd']:.2f}) | {r['energy_uj']:.3f} | {ins} | {r['students']:.2f} | {par} |")
    if refs:
        md += ["", "References (from " + os.path.basename(cfg.get("refs") or "the models") + "):", ""]
        for x in refs:
            md.append(f"- {x['label']}: {100 * x['accuracy']:.2f} %" + (f", {x['energy_uj']:.3g} µJ" if "energy_uj" in x else "")
                      + (f", {x['instructions']:,.0f} instructions" if "instructions" in x else ""))
    lo, hi = cfg.get("gap_range_uj", [0, float("inf")])
    g_e = gaps(rows, refs, "energy_uj", lo, hi)
    g_i = gaps(rows, refs, "instructions", 0, float("inf"))
    if g_e or g_i:
        md += ["", "Margin of each ensemble's best curve over the best plain SNN (with or without KD) of no more cost, "
               f"worst case over the cost points (energy {lo:g}-{hi:g} µJ; instructions: plain SNNs and the reference rows):", ""]
        for name in sorted(set(g_e) | set(g_i)):
            e, i = g_e.get(name), g_i.get(name)
            md.append(f"- {name}: " + (f"energy {e['min_gap_pp']:+.2f} pp (at {e['at']:.3f} µJ)" if e else "energy -")
                      + "; " + (f"instructions {i['min_gap_pp']:+.2f} pp (at {i['at']:,.0f})" if i else "instructions -"))
    for key, g, unit in (("energy_uj", g_e, "µJ"), ("instructions", g_i, "instructions")):
        best = g.get("best of all ensembles")
        if best:
            md += ["", f"Best of all ensembles vs the best plain SNN (or reference) of no more cost, by {unit}:", "",
                   f"| cost ({unit}) | ensembles % | plain % | gap pp |", "| ---: | ---: | ---: | ---: |"]
            prev = None
            for p in best["curve"]:
                if prev and (p["ensemble"], p["plain"]) == prev:
                    continue   # the same step as the row before
                prev = (p["ensemble"], p["plain"])
                cost = f"{p['cost']:,.3f}" if key == "energy_uj" else f"{p['cost']:,.0f}"
                have = p["plain"] is not None   # no plain SNN that cheap: no gap to state
                md.append(f"| {cost} | {100 * p['ensemble']:.2f} | " + (f"{100 * p['plain']:.2f}" if have else "-")
                          + (f" | {p['gap_pp']:+.2f} |" if have else " | - |"))
    atomic_write(os.path.join(out, "frontier.md"), "\n".join(md) + "\n")
    shown = dict(cfg, **{k: os.path.relpath(cfg[k], ROOT) for k in ("data", "refs") if cfg.get(k)})   # no machine paths
    atomic_write(os.path.join(out, "frontier.json"), json.dumps({"config": shown, "rows": rows, "references": refs,
                                                               "gaps": {"energy_uj": g_e, "instructions": g_i},
                                                               "results": results}, indent=1))
    html = ["<!doctype html><meta charset=utf-8><title>sne frontier</title>",
            "<style>body{font-family:sans-serif;max-width:980px;margin:2em auto}table{border-collapse:collapse}"
            "td,th{border:1px solid #ccc;padding:2px 6px;text-align:right}</style>",
            f"<h1>Accuracy per unit of work: {cfg['dataset']}</h1><p>{head}.</p>",
            "<h2>Accuracy vs energy (µJ per inference)</h2>", svg_plot(rows, refs, "energy_uj", "energy per inference (µJ)"),
            "<h2>Accuracy vs instructions per inference</h2>", svg_plot(rows, refs, "instructions", "instructions per inference"),
            "<h2>Table</h2><table><tr><th>run<th>mode<th>seeds<th>accuracy %<th>sd<th>µJ<th>instructions<th>students</tr>"]
    for r in rows:
        html.append(f"<tr><td style=text-align:left>{r['run']}<td>{r['mode']}<td>{r['seeds']}<td>{100 * r['accuracy']:.2f}"
                    f"<td>{100 * r['accuracy_sd']:.2f}<td>{r['energy_uj']:.3f}<td>{format(r['instructions'], ',.0f') if 'instructions' in r else '-'}"
                    f"<td>{r['students']:.2f}</tr>")
    html.append("</table>")
    atomic_write(os.path.join(out, "frontier.html"), "\n".join(html) + "\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("config")
    ap.add_argument("--out", help="results folder (default runs/frontier-<config name>)")
    ap.add_argument("--sne", default=os.environ.get("SNE", os.path.join(ROOT, ".build", "release", "sne")))
    ap.add_argument("--only", help="comma-separated run names")
    ap.add_argument("--seeds", help="comma-separated seeds instead of CONFIG's (screening; the table says which)")
    ap.add_argument("--dry-run", action="store_true", help="print the commands only")
    ap.add_argument("--report", action="store_true",
                    help="train and measure nothing: the table and plots from the (run, seed) pairs already measured")
    a = ap.parse_args()
    global REPORT_ONLY
    REPORT_ONLY = a.report
    cfg = load_config(a.config)
    if a.seeds:
        try:
            cfg["seeds"] = [int(x) for x in a.seeds.split(",")]
        except ValueError:
            die(f"--seeds: expected comma-separated integers, got {a.seeds!r}")
    if not (os.path.isfile(a.sne) and os.access(a.sne, os.X_OK)):
        die(f"no sne binary at {a.sne} (swift build -c release, or --sne PATH)")
    out = os.path.abspath(a.out or os.path.join("runs", "frontier-" + os.path.splitext(os.path.basename(a.config))[0]))
    os.makedirs(out, exist_ok=True)
    runs = cfg["runs"]
    if a.only:
        want = a.only.split(",")
        missing = [w for w in want if w not in {r["name"] for r in runs}]
        if missing:
            die(f"--only: no run named {missing[0]!r}")
        runs = [r for r in runs if r["name"] in want]
    dev = cfg.get("device")
    images = device_images(cfg, out, int(dev.get("images", 16))) if dev else None
    if dev and not images:
        print(f"device: skipped (no t10k IDX images in {cfg['data']}/{cfg['dataset']})")
    if dev and images and not shutil.which("qemu-system-arm"):
        print("device: skipped (qemu-system-arm not installed)")
        cfg["device"], images = None, None
    tdir = train_teacher(cfg, out, a.sne, a.dry_run) if any(r.get("teacher") for r in runs) and not a.report else None
    results = []
    for i, r in enumerate(runs):
        if r.get("choose_margin") and not a.report:
            m = choose_margin(cfg, r, out, a.sne, tdir, a.dry_run)
            if m is not None:
                runs[i] = r = dict(r, compile=strip_margin(r.get("compile", [])) + ["--stop-margin", f"{m:g}"], chosen_margin=m)
    for r in runs:
        for seed in cfg["seeds"]:
            if a.report and not os.path.exists(os.path.join(out, "runs", f"{slug(r['name'])}-s{seed}", "check.json")):
                continue
            print(f"{r['name']} seed {seed}", flush=True)
            results.append(one(cfg, r, seed, out, a.sne, tdir, images, a.dry_run))
    if a.dry_run:
        return
    refs = []
    if cfg.get("refs"):
        try:
            refs = json.load(open(cfg["refs"]))
        except (OSError, ValueError) as e:
            die(f"refs: {e}")
    rows = aggregate(results)
    report(cfg, rows, refs, out, results)
    print(f"wrote {out}/frontier.md, frontier.json, frontier.html")


if __name__ == "__main__":
    main()
