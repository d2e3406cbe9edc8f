// `sne check` output: a terminal table, JSON, and a self-contained HTML report (inline SVG, no
// scripts, no network): accuracy–energy curve, spike rates float vs integer, histograms.
import Foundation
import SNEEnsemble
import SpikeIR

public enum CheckRender {
    static func pct(_ x: Double) -> String { String(format: "%.2f", 100 * x) }

    // MARK: terminal

    public static func table(_ r: CheckResult) -> String {
        var s = "sne check: program \(r.program), \(r.images) images (float model vs integer program)\n"
        s += "budget      float%   int%    Δpp  agree%  |Δlogit|/|logit|  students  energy µJ  synops/inf  macs/inf  updates/inf\n"
        for row in r.rows + (r.confidence.map { [$0] } ?? []) {
            let n = Double(max(row.images, 1))
            let name = row.confidence ? "conf M=\(r.marginSteps ?? 0)" : "k=\(row.budget)"
            s += name.count < 11 ? name.padding(toLength: 11, withPad: " ", startingAt: 0) : name + " "
            s += String(format: "%6.2f  %6.2f  %+5.2f  %6.2f  %8.4f/%-8.3f  %4.2f/%4.2f  %9.4f  %10.0f  %8.0f  %11.0f\n",
                        100 * row.floatAccuracy, 100 * row.intAccuracy, 100 * (row.intAccuracy - row.floatAccuracy), 100 * row.agreement,
                        row.logitError, row.logitMagnitude, row.intStudents, row.floatStudents, row.energy,
                        Double(row.total.synops) / n, Double(row.total.macs) / n, Double(row.total.neuronUpdates) / n)
        }
        s += "energy table: \(r.energyTable.mac) pJ/MAC, \(r.energyTable.accumulate) pJ/accumulate (neuron updates counted, not priced)\n"
        s += "spike rates (\(r.activityImages) images, all students, stop off):\n"
        for a in r.activity {
            s += String(format: "  student %d %-8@ op %2d  float %7.3f%%  int %7.3f%%  Δ %+7.3f pp\n", a.student, a.name, a.op,
                        100 * a.floatRate, 100 * a.intRate, 100 * (a.intRate - a.floatRate))
        }
        if let last = r.rows.last {
            let n = Double(max(last.images, 1))
            s += "op counts per inference at k=\(last.budget) (interpreter counts, mean over images):\n"
            s += String(format: "  gate       synops %10.1f  macs %10.1f\n", Double(last.gateCounts.synops) / n, Double(last.gateCounts.macs) / n)
            for (k, ops) in last.opCounts.enumerated() {
                let t = ops.reduce(Counts(), +)
                s += String(format: "  student %d  synops %10.1f  macs %10.1f  updates %10.1f\n", k, Double(t.synops) / n, Double(t.macs) / n, Double(t.neuronUpdates) / n)
                for (j, c) in ops.enumerated() where c != Counts() {
                    s += String(format: "    op %2d %-13@ synops %10.1f  macs %10.1f  updates %10.1f\n", j, r.opNames[k][j],
                                Double(c.synops) / n, Double(c.macs) / n, Double(c.neuronUpdates) / n)
                }
            }
            s += String(format: "  head       macs %10.1f\n", Double(last.headCounts.macs) / n)
        }
        for m in r.memory {
            s += "memory \(m.target.padding(toLength: max(9, m.target.count), withPad: " ", startingAt: 0)) flash \(m.flash) B  RAM \(m.ram) B (arena \(m.arena) B)\(m.fits ? "" : "  DOES NOT FIT")\(m.note.isEmpty ? "" : "  " + m.note)\n"
        }
        if let c = r.mode { s += modeTable(c) }
        for p in r.problems { s += "problem: \(p)\n" }
        return s
    }

    /// The second mode (Loihi) next to the checked program, per budget.
    static func modeTable(_ c: ModeComparison) -> String {
        var s = "\(c.label) (program \(c.program), T = \(c.timesteps)) vs the checked program, same images, reference interpreter:\n"
        s += "budget   \(c.label.prefix(12).padding(toLength: 12, withPad: " ", startingAt: 0)) checked%   Δpp  agree%  energy µJ  synops/inf  updates/inf\n"
        for row in c.rows {
            let n = Double(max(row.images, 1))
            s += String(format: "k=%-6d %11.2f%% %8.2f  %+5.2f  %6.2f  %9.4f  %10.0f  %11.0f\n", row.budget, 100 * row.accuracy, 100 * row.referenceAccuracy,
                        100 * (row.accuracy - row.referenceAccuracy), 100 * row.agreement, row.energy,
                        Double(row.total.synops) / n, Double(row.total.neuronUpdates) / n)
        }
        for line in c.notes { s += "  lowering: \(line)\n" }
        return s
    }

    // MARK: JSON

    static func counts(_ c: Counts) -> [String: Any] { ["synops": c.synops, "macs": c.macs, "neuron_updates": c.neuronUpdates] }

    public static func json(_ r: CheckResult) -> String {
        func row(_ b: BudgetRow) -> [String: Any] {
            ["budget": b.budget, "confidence": b.confidence, "float_accuracy": b.floatAccuracy, "int_accuracy": b.intAccuracy,
             "agreement": b.agreement, "logit_error": b.logitError, "logit_magnitude": b.logitMagnitude,
             "int_students": b.intStudents, "float_students": b.floatStudents, "energy_uj": b.energy, "images": b.images,
             "counts": ["total": counts(b.total), "gate": counts(b.gateCounts), "head": counts(b.headCounts),
                        "students": b.opCounts.map { $0.map(counts) }]]
        }
        var o: [String: Any] = [
            "program": r.program, "images": r.images, "budgets": r.rows.map(row),
            "energy_table_pj": ["mac": r.energyTable.mac, "accumulate": r.energyTable.accumulate],
            "spike_rates": r.activity.map { ["student": $0.student, "layer": $0.name, "op": $0.op, "float": $0.floatRate, "int": $0.intRate] },
            "activity_images": r.activityImages,
            "weight_histogram": r.weightHistogram,
            "thresholds": r.thresholds.map { ["layer": $0.name, "theta": Int($0.theta)] },
            "op_names": r.opNames,
            "memory": r.memory.map { ["target": $0.target, "flash": $0.flash, "ram": $0.ram, "arena": $0.arena, "fits": $0.fits, "note": $0.note] },
            "references": r.references.map { ["label": $0.label, "accuracy": $0.accuracy, "energy_uj": $0.energy] },
            "problems": r.problems,
        ]
        if let c = r.confidence { o["confidence"] = row(c); o["margin_steps"] = Int(r.marginSteps ?? 0) }
        if let c = r.mode {
            o["mode"] = ["label": c.label, "program": c.program, "timesteps": c.timesteps, "notes": c.notes,
                         "budgets": c.rows.map { ["budget": $0.budget, "accuracy": $0.accuracy, "checked_accuracy": $0.referenceAccuracy,
                                                  "agreement": $0.agreement, "energy_uj": $0.energy, "images": $0.images,
                                                  "counts": counts($0.total)] as [String: Any] }] as [String: Any]
        }
        let d = (try? JSONSerialization.data(withJSONObject: o, options: [.sortedKeys, .prettyPrinted])) ?? Data("{}".utf8)
        return String(decoding: d, as: UTF8.self) + "\n"
    }

    // MARK: HTML

    static func esc(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
    }

    /// A nice axis step for a range.
    static func ticks(_ lo: Double, _ hi: Double, count: Int = 5) -> [Double] {
        let span = max(hi - lo, 1e-12), raw = span / Double(count)
        let mag = pow(10, floor(log10(raw)))
        let step = [1.0, 2, 2.5, 5, 10].map { $0 * mag }.first { $0 >= raw } ?? raw
        var t: [Double] = [], v = ceil(lo / step) * step
        while v <= hi + step * 1e-9 { t.append(v); v += step }
        return t
    }

    static func fmtTick(_ v: Double) -> String {
        abs(v) >= 1e6 ? String(format: "%.3gM", v / 1e6) : abs(v) >= 1e4 ? String(format: "%.3gk", v / 1e3)
            : abs(v) >= 100 ? String(format: "%.0f", v) : abs(v) >= 1 ? String(format: "%.1f", v) : String(format: "%.3g", v)
    }

    /// Reference markers: one shape and colour per reference, in the legend by label.
    static let refStyles = [("#d62728", "M0 -6 l6 10 h-12 z"), ("#9467bd", "M-6 -6 h12 v12 h-12 z"), ("#8c564b", "M0 -7 l7 7 l-7 7 l-7 -7 z"),
                            ("#e377c2", "M-6 -4 h12 l-6 10 z"), ("#17becf", "M-6 0 a6 6 0 1 0 12 0 a6 6 0 1 0 -12 0")]

    /// The accuracy–energy plot. The x range follows the ensemble's points (budgets and the
    /// confidence stop) and the references within 10x of them, on a log scale when that span is
    /// over 10x; a reference further away (a teacher at ~100 µJ) is drawn at the plot's edge with
    /// its energy written next to an arrow, so it cannot squeeze the ensemble's curve.
    static func curve(_ r: CheckResult) -> String {
        var own: [(Double, Double)] = r.rows.flatMap { [($0.energy, $0.floatAccuracy), ($0.energy, $0.intAccuracy)] }
        if let c = r.confidence { own += [(c.energy, c.intAccuracy), (c.energy, c.floatAccuracy)] }
        let ownX = own.map(\.0).filter { $0 > 0 }
        let lo = (ownX.min() ?? 1) / 10, hi = (ownX.max() ?? 1) * 10
        let inRange = r.references.filter { $0.energy >= lo && $0.energy <= hi }
        let points = own + inRange.map { ($0.energy, $0.accuracy) }
        let ys = (points.map { 100 * $0.1 } + r.references.map { 100 * $0.accuracy })
        return plot(points: points.map(\.0), ys: ys, xTitle: "energy per inference (µJ", extra: r, xOf: { $0.energy }, refs: r.references,
                    inRange: { $0.energy >= lo && $0.energy <= hi }, xLabel: { String(format: "%.3g µJ", $0) })
    }

    /// One accuracy plot against `x` (energy, or instructions): float and integer per budget,
    /// the confidence stop (integer filled, float hollow), references; every marker in the legend.
    static func plot(points xs: [Double], ys: [Double], xTitle: String, extra r: CheckResult, xOf: (BudgetRow) -> Double,
                     refs: [RefPoint], inRange: (RefPoint) -> Bool, xLabel: (Double) -> String, floatCurve: Bool = true) -> String {
        let W = 700.0, H = 380.0, l = 60.0, rt = 210.0, t = 20.0, b = 45.0
        let pos = xs.filter { $0 > 0 }
        let logX = (pos.max() ?? 1) / (pos.min() ?? 1) > 10
        // linear: the points' range with 10 % margins (not from 0, which would squeeze them)
        let xmin = xs.min() ?? 0, xmax = xs.max() ?? 1, pad = max((xmax - xmin) * 0.1, xmax * 0.05, 1e-12)
        var x0 = logX ? log10(pos.min()!) - 0.15 : max(0, xmin - pad), x1 = logX ? log10(pos.max()!) + 0.15 : xmax + pad
        var y0 = floor((ys.min() ?? 0) - 2), y1 = min(100, ceil((ys.max() ?? 100) + 1))
        if x1 <= x0 { x1 = x0 + 1 }
        if y1 <= y0 { y0 -= 1; y1 += 1 }
        func X(_ v: Double) -> Double { l + ((logX ? log10(max(v, 1e-12)) : v) - x0) / (x1 - x0) * (W - l - rt) }
        var xticks = ticks(x0, x1)
        if logX {
            xticks = []
            for d in Int(floor(x0))...Int(ceil(x1)) { for m in [1.0, 2, 5] {
                let v = m * pow(10, Double(d))
                if log10(v) >= x0 && log10(v) <= x1 { xticks.append(v) }
            } }
        }
        func Y(_ v: Double) -> Double { H - b - (v - y0) / (y1 - y0) * (H - t - b) }
        var s = "<svg xmlns='http://www.w3.org/2000/svg' width='\(Int(W))' height='\(Int(H))' font-family='sans-serif' font-size='11'>"
        s += "<rect x='\(l)' y='\(t)' width='\(W - l - rt)' height='\(H - t - b)' fill='#fafafa' stroke='#999'/>"
        for v in xticks { s += "<line x1='\(X(v))' x2='\(X(v))' y1='\(t)' y2='\(H - b)' stroke='#e3e3e3'/><text x='\(X(v))' y='\(H - b + 14)' text-anchor='middle'>\(fmtTick(v))</text>" }
        for v in ticks(y0, y1) { s += "<line x1='\(l)' x2='\(W - rt)' y1='\(Y(v))' y2='\(Y(v))' stroke='#e3e3e3'/><text x='\(l - 6)' y='\(Y(v) + 4)' text-anchor='end'>\(fmtTick(v))</text>" }
        s += "<text x='\((l + W - rt) / 2)' y='\(H - 8)' text-anchor='middle'>\(xTitle)\(logX ? ", log scale" : ""))</text>"
        s += "<text transform='translate(14,\((t + H - b) / 2)) rotate(-90)' text-anchor='middle'>accuracy (%)</text>"
        let series: [(String, String, (BudgetRow) -> Double)] = floatCurve
            ? [("float", "#1f77b4", { $0.floatAccuracy }), ("integer", "#ff7f0e", { $0.intAccuracy })] : [("integer", "#ff7f0e", { $0.intAccuracy })]
        for (name, color, get) in series {
            let p = r.rows.map { "\(X(xOf($0))),\(Y(100 * get($0)))" }.joined(separator: " ")
            // float drawn wide underneath, integer dashed on top: both stay visible where they coincide
            s += name == "float" ? "<polyline points='\(p)' fill='none' stroke='\(color)' stroke-width='5' stroke-opacity='0.5'/>"
                                 : "<polyline points='\(p)' fill='none' stroke='\(color)' stroke-width='2' stroke-dasharray='6 3'/>"
            for row in r.rows {
                s += "<circle cx='\(X(xOf(row)))' cy='\(Y(100 * get(row)))' r='\(name == "float" ? 6 : 3)' fill='\(color)'><title>\(name) k=\(row.budget): \(pct(get(row)))% at \(xLabel(xOf(row)))</title></circle>"
                if name == "integer" { s += "<text x='\(X(xOf(row)) + 6)' y='\(Y(100 * get(row)) + 14)' fill='#555'>k=\(row.budget)</text>" }
            }
        }
        if let c = r.confidence, xOf(c) > 0 {
            s += "<rect x='\(X(xOf(c)) - 4)' y='\(Y(100 * c.intAccuracy) - 4)' width='8' height='8' fill='#2ca02c'><title>confidence stop, integer: \(pct(c.intAccuracy))% at \(xLabel(xOf(c)))</title></rect>"
            if floatCurve {
                s += "<rect x='\(X(xOf(c)) - 4)' y='\(Y(100 * c.floatAccuracy) - 4)' width='8' height='8' fill='none' stroke='#2ca02c' stroke-width='2'><title>confidence stop, float: \(pct(c.floatAccuracy))%</title></rect>"
            }
        }
        for (i, ref) in refs.enumerated() {
            let (color, shape) = refStyles[i % refStyles.count]
            let y = Y(100 * ref.accuracy)
            if inRange(ref) {
                s += "<path transform='translate(\(X(ref.energy)) \(y))' d='\(shape)' fill='\(color)'><title>\(esc(ref.label)): \(pct(ref.accuracy))% at \(String(format: "%.3g", ref.energy)) µJ</title></path>"
            } else {
                // off the scale: at the edge it lies beyond, with its energy and an arrow
                let right = ref.energy > 0 && X(ref.energy) > W - rt
                let ex = right ? W - rt - 8 : l + 8
                s += "<path transform='translate(\(ex) \(y))' d='\(shape)' fill='\(color)'/>"
                s += "<text x='\(right ? ex - 10 : ex + 10)' y='\(y + 4)' text-anchor='\(right ? "end" : "start")' fill='\(color)'>\(right ? "" : "← ")\(String(format: "%.3g", ref.energy)) µJ\(right ? " →" : "")</text>"
            }
        }
        // legend: every marker drawn above
        let lx = W - rt + 12
        var ly = 30.0
        func entry(_ mark: String, _ text: String) { s += mark.replacingOccurrences(of: "@Y", with: "\(ly)") + "<text x='\(lx + 26)' y='\(ly + 4)'>\(esc(text))</text>"; ly += 18 }
        if floatCurve {
            entry("<line x1='\(lx)' x2='\(lx + 20)' y1='@Y' y2='@Y' stroke='#1f77b4' stroke-width='5' stroke-opacity='0.5'/><circle cx='\(lx + 10)' cy='@Y' r='5' fill='#1f77b4'/>", "float model, budget k")
        }
        entry("<line x1='\(lx)' x2='\(lx + 20)' y1='@Y' y2='@Y' stroke='#ff7f0e' stroke-width='2' stroke-dasharray='6 3'/><circle cx='\(lx + 10)' cy='@Y' r='3' fill='#ff7f0e'/>", "integer program, budget k")
        if let c = r.confidence, xOf(c) > 0 {
            entry("<rect x='\(lx + 6)' y='\(ly - 4)' width='8' height='8' fill='#2ca02c'/>", "confidence stop, integer")
            if floatCurve { entry("<rect x='\(lx + 6)' y='\(ly - 4)' width='8' height='8' fill='none' stroke='#2ca02c' stroke-width='2'/>", "confidence stop, float") }
        }
        for (i, ref) in refs.enumerated() {
            let (color, shape) = refStyles[i % refStyles.count]
            entry("<path transform='translate(\(lx + 10) \(ly))' d='\(shape)' fill='\(color)'/>",
                  "\(ref.label) \(pct(ref.accuracy))%" + (inRange(ref) ? "" : " (off scale)"))
        }
        return s + "</svg>"
    }

    /// The second plot: integer accuracy per budget against instructions per inference on a target.
    static func instructionPlot(_ r: CheckResult, _ ic: InstructionCurve) -> String {
        var rr = r
        rr.rows = zip(r.rows, ic.perBudget).map { row, n in var x = row; x.energy = n; return x }
        rr.confidence = nil
        return plot(points: rr.rows.map(\.energy), ys: rr.rows.map { 100 * $0.intAccuracy }, xTitle: "instructions per inference on \(ic.target) (",
                    extra: rr, xOf: { $0.energy }, refs: [], inRange: { _ in true }, xLabel: { String(format: "%.3g instructions", $0) }, floatCurve: false)
            .replacingOccurrences(of: "(, log scale)", with: "(log scale)").replacingOccurrences(of: " ()", with: "")
    }

    /// Grouped horizontal bars: per LIF layer, float and integer spike rate (%).
    static func rates(_ r: CheckResult) -> String {
        let rowH = 26.0, l = 150.0, W = 640.0, t = 10.0
        let H = t + rowH * Double(max(r.activity.count, 1)) + 40
        let mx = max(r.activity.map { max($0.floatRate, $0.intRate) }.max() ?? 0, 0.01) * 100 * 1.15
        func X(_ v: Double) -> Double { l + v / mx * (W - l - 60) }
        var s = "<svg xmlns='http://www.w3.org/2000/svg' width='\(Int(W))' height='\(Int(H))' font-family='sans-serif' font-size='11'>"
        for v in ticks(0, mx) { s += "<line x1='\(X(v))' x2='\(X(v))' y1='\(t)' y2='\(H - 30)' stroke='#e3e3e3'/><text x='\(X(v))' y='\(H - 16)' text-anchor='middle'>\(fmtTick(v))</text>" }
        s += "<text x='\((l + W) / 2)' y='\(H - 2)' text-anchor='middle'>spikes per neuron per step (%)</text>"
        for (i, a) in r.activity.enumerated() {
            let y = t + rowH * Double(i)
            s += "<text x='\(l - 6)' y='\(y + 15)' text-anchor='end'>student \(a.student) \(esc(a.name))</text>"
            s += "<rect x='\(l)' y='\(y + 3)' width='\(X(100 * a.floatRate) - l)' height='9' fill='#1f77b4'><title>float \(pct(a.floatRate))%</title></rect>"
            s += "<rect x='\(l)' y='\(y + 12)' width='\(X(100 * a.intRate) - l)' height='9' fill='#ff7f0e'><title>integer \(pct(a.intRate))%</title></rect>"
            s += "<text x='\(X(100 * max(a.floatRate, a.intRate)) + 4)' y='\(y + 16)' fill='#555'>\(pct(a.floatRate)) / \(pct(a.intRate))</text>"
        }
        return s + "</svg>"
    }

    /// Vertical bars of `values` with x labels every `labelEvery`.
    static func bars(_ values: [Double], labels: [String], labelEvery: Int, color: String, xTitle: String, yTitle: String, logY: Bool = false) -> String {
        let W = 640.0, H = 240.0, l = 60.0, t = 10.0, b = 50.0
        let tv = values.map { logY ? log10(max($0, 1)) : $0 }
        let mx = max(tv.max() ?? 1, 1e-9) * 1.05
        let bw = (W - l - 10) / Double(max(values.count, 1))
        func Y(_ v: Double) -> Double { H - b - v / mx * (H - t - b) }
        var s = "<svg xmlns='http://www.w3.org/2000/svg' width='\(Int(W))' height='\(Int(H))' font-family='sans-serif' font-size='11'>"
        for v in ticks(0, mx, count: 4) {
            let lab = logY ? fmtTick(pow(10, v)) : fmtTick(v)
            s += "<line x1='\(l)' x2='\(W - 10)' y1='\(Y(v))' y2='\(Y(v))' stroke='#e3e3e3'/><text x='\(l - 6)' y='\(Y(v) + 4)' text-anchor='end'>\(lab)</text>"
        }
        for (i, v) in tv.enumerated() {
            s += "<rect x='\(l + Double(i) * bw)' y='\(Y(v))' width='\(max(bw - (bw > 4 ? 1 : 0), 0.5))' height='\(H - b - Y(v))' fill='\(color)'><title>\(esc(labels[i])): \(values[i])</title></rect>"
            if i % labelEvery == 0 {
                s += "<text x='\(l + (Double(i) + 0.5) * bw)' y='\(H - b + 14)' text-anchor='middle'>\(esc(labels[i]))</text>"
            }
        }
        s += "<text x='\((l + W) / 2)' y='\(H - 14)' text-anchor='middle'>\(esc(xTitle))</text>"
        s += "<text transform='translate(14,\((t + H - b) / 2)) rotate(-90)' text-anchor='middle'>\(esc(yTitle))</text>"
        return s + "</svg>"
    }

    /// What each point of the energy plot was measured on, and how to add the plain SNN.
    static func sizesNote(_ r: CheckResult) -> String {
        var parts = ["Ensemble (float and integer, every budget and the confidence stop): the first \(r.images) test images (sne check --limit)."]
        for ref in r.references {
            parts.append("\(esc(ref.label)): \(pct(ref.accuracy))% " + (ref.images.map { "on \($0) test images" } ?? "on the test split used when it was trained (its size is not recorded in this model)") + ".")
        }
        if !r.references.contains(where: { $0.label.lowercased().contains("plain") }) {
            parts.append("No plain-SNN point: add one with --snn ACC:UJ, or --refs FILE with the output of sne eval --json for a plain SNN (sne train plain).")
        }
        return parts.joined(separator: " ")
    }

    public static func html(_ r: CheckResult) -> String {
        var s = "<!DOCTYPE html><html><head><meta charset='utf-8'><title>sne check: \(esc(r.program))</title><style>"
        s += "body{font-family:sans-serif;margin:24px;max-width:960px;color:#222}table{border-collapse:collapse;margin:8px 0 20px}"
        s += "td,th{border:1px solid #ccc;padding:3px 8px;text-align:right;font-size:13px}th{background:#f0f0f0}td.l{text-align:left}"
        s += "h2{margin-top:28px;font-size:18px}.bad{color:#b00}.note{color:#666;font-size:12px}</style></head><body>"
        s += "<h1>sne check: \(esc(r.program))</h1><p>\(r.images) images; float model vs the integer program (reference interpreter).</p>"
        if !r.problems.isEmpty { s += "<ul>" + r.problems.map { "<li class='bad'>\(esc($0))</li>" }.joined() + "</ul>" }
        s += "<h2>Accuracy and energy per budget</h2><table><tr><th>budget</th><th>float %</th><th>integer %</th><th>Δ pp</th><th>agreement %</th><th>mean |Δlogit|</th><th>mean |logit|</th><th>students run</th><th>energy µJ</th><th>synops</th><th>MACs</th><th>neuron updates</th></tr>"
        for row in r.rows + (r.confidence.map { [$0] } ?? []) {
            let n = Double(max(row.images, 1))
            s += "<tr><td class='l'>\(row.confidence ? "confidence (M=\(r.marginSteps ?? 0))" : "k=\(row.budget)")</td><td>\(pct(row.floatAccuracy))</td><td>\(pct(row.intAccuracy))</td>"
            s += String(format: "<td>%+.2f</td><td>%.2f</td><td>%.4f</td><td>%.3f</td><td>%.2f</td><td>%.4f</td><td>%.0f</td><td>%.0f</td><td>%.0f</td></tr>",
                        100 * (row.intAccuracy - row.floatAccuracy), 100 * row.agreement, row.logitError, row.logitMagnitude, row.intStudents,
                        row.energy, Double(row.total.synops) / n, Double(row.total.macs) / n, Double(row.total.neuronUpdates) / n)
        }
        s += "</table><p class='note'>Energy: \(r.energyTable.mac) pJ per MAC, \(r.energyTable.accumulate) pJ per accumulate (neuron updates counted, not priced, as in sne eval); counts are the interpreter's (spec §8), per inference.</p>"
        s += "<h2>Accuracy vs energy (Pareto)</h2>" + curve(r)
        s += "<p class='note'>" + sizesNote(r) + "</p>"
        if let ic = r.instructions {
            s += "<h2>Accuracy vs instructions on \(esc(ic.target))</h2>" + instructionPlot(r, ic)
            s += "<p class='note'>Instructions per inference of the integer program at k = 1…\(ic.perBudget.count) on \(esc(ic.target)), as given with --instructions (sne verify … --budget k counts them); integer accuracy on the same \(r.images) images as above.</p>"
            if !ic.clocks.isEmpty {
                s += "<table><tr><th>k</th><th>instructions</th>" + ic.clocks.map { "<th>ms at \(String(format: "%g", $0)) MHz</th>" }.joined() + "</tr>"
                for (i, n) in ic.perBudget.enumerated() {
                    s += "<tr><td>\(i + 1)</td><td>\(String(format: "%.0f", n))</td>"
                        + ic.clocks.map { "<td>\(String(format: "%.3g", n / ($0 * 1000)))</td>" }.joined() + "</tr>"
                }
                s += "</table><p class='note'>Latency at one cycle per instruction: a lower bound on a Cortex-M or RV32 core (QEMU counts instructions, not cycles; loads, LDM/STM and taken branches take more); exact where the counts are simavr cycles (avr).</p>"
            }
        }
        if let c = r.mode {
            s += "<h2>\(esc(c.label)) vs the checked program</h2><p class='note'>program \(esc(c.program)), T = \(c.timesteps); both run in the reference interpreter on the same images.</p>"
            s += "<table><tr><th>budget</th><th>\(esc(c.label)) %</th><th>checked %</th><th>Δ pp</th><th>agreement %</th><th>energy µJ</th><th>synops</th><th>neuron updates</th></tr>"
            for row in c.rows {
                let n = Double(max(row.images, 1))
                s += String(format: "<tr><td class='l'>k=%d</td><td>%.2f</td><td>%.2f</td><td>%+.2f</td><td>%.2f</td><td>%.4f</td><td>%.0f</td><td>%.0f</td></tr>", row.budget,
                            100 * row.accuracy, 100 * row.referenceAccuracy, 100 * (row.accuracy - row.referenceAccuracy), 100 * row.agreement,
                            row.energy, Double(row.total.synops) / n, Double(row.total.neuronUpdates) / n)
            }
            s += "</table>"
            if !c.notes.isEmpty { s += "<ul class='note'>" + c.notes.map { "<li>\(esc($0))</li>" }.joined() + "</ul>" }
        }
        s += "<h2>Spike rates per layer: float (blue) vs integer (orange)</h2><p class='note'>\(r.activityImages) images, every student run, confidence stop off.</p>" + rates(r)
        s += "<h2>Weights (int8, all students)</h2>"
        s += bars(r.weightHistogram.map(Double.init), labels: (0..<256).map { String($0 - 128) }, labelEvery: 32, color: "#6a51a3", xTitle: "weight value", yTitle: "count (log10)", logY: true)
        s += "<h2>LIF thresholds: the largest channel threshold θ of each layer (integer membrane units)</h2>"
        s += "<p class='note'>Per-channel thresholds (spec §3.5): each bar is the layer's maximum over its channels.</p>"
        s += bars(r.thresholds.map { Double($0.theta) }, labels: r.thresholds.map(\.name), labelEvery: 1, color: "#31a354", xTitle: "layer", yTitle: "theta (log10)", logY: true)
        if !r.memory.isEmpty {
            s += "<h2>Memory per target</h2><table><tr><th>target</th><th>flash B</th><th>RAM B</th><th>arena B</th><th>fits</th><th>note</th></tr>"
            for m in r.memory { s += "<tr><td class='l'>\(m.target)</td><td>\(m.flash)</td><td>\(m.ram)</td><td>\(m.arena)</td><td>\(m.fits ? "yes" : "<span class='bad'>no</span>")</td><td class='l'>\(esc(m.note))</td></tr>" }
            s += "</table>"
        }
        if let last = r.rows.last {
            let n = Double(max(last.images, 1))
            s += "<h2>Operations per inference at k=\(last.budget)</h2><table><tr><th>where</th><th>synops</th><th>MACs</th><th>neuron updates</th></tr>"
            s += String(format: "<tr><td class='l'>gate</td><td>%.1f</td><td>%.1f</td><td>0</td></tr>", Double(last.gateCounts.synops) / n, Double(last.gateCounts.macs) / n)
            for (k, ops) in last.opCounts.enumerated() {
                for (j, c) in ops.enumerated() where c != Counts() {
                    s += String(format: "<tr><td class='l'>student %d op %d %@</td><td>%.1f</td><td>%.1f</td><td>%.1f</td></tr>", k, j, r.opNames[k][j],
                                Double(c.synops) / n, Double(c.macs) / n, Double(c.neuronUpdates) / n)
                }
            }
            s += String(format: "<tr><td class='l'>head</td><td>0</td><td>%.1f</td><td>0</td></tr></table>", Double(last.headCounts.macs) / n)
        }
        return s + "</body></html>\n"
    }
}
