// `sne check` output: a terminal table, JSON, and a self-contained HTML report (inline SVG, no
// scripts, no network): accuracy–energy curve, spike rates float vs integer, histograms.
import Foundation
import SNE
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
        abs(v) >= 100 ? String(format: "%.0f", v) : abs(v) >= 1 ? String(format: "%.1f", v) : String(format: "%.3g", v)
    }

    /// Accuracy (y, %) against energy (x, µJ): float and integer curves over budgets, the confidence
    /// points and reference points.
    static func curve(_ r: CheckResult) -> String {
        let W = 640.0, H = 360.0, l = 60.0, rt = 150.0, t = 20.0, b = 45.0
        var pts: [(Double, Double)] = r.rows.flatMap { [($0.energy, $0.floatAccuracy), ($0.energy, $0.intAccuracy)] }
        if let c = r.confidence { pts += [(c.energy, c.intAccuracy), (c.energy, c.floatAccuracy)] }
        pts += r.references.map { ($0.energy, $0.accuracy) }
        let xs = pts.map { $0.0 }, ys = pts.map { 100 * $0.1 }
        // a log energy axis when the points span more than 10x (e.g. a teacher far to the right)
        let pos = xs.filter { $0 > 0 }
        let logX = (pos.max() ?? 1) / (pos.min() ?? 1) > 10
        var x0 = logX ? log10(pos.min()!) - 0.15 : 0.0, x1 = logX ? log10(pos.max()!) + 0.15 : (xs.max() ?? 1) * 1.1
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
        s += "<text x='\((l + W - rt) / 2)' y='\(H - 8)' text-anchor='middle'>energy per inference (µJ\(logX ? ", log scale" : ""))</text>"
        s += "<text transform='translate(14,\((t + H - b) / 2)) rotate(-90)' text-anchor='middle'>accuracy (%)</text>"
        for (name, color, get) in [("float", "#1f77b4", { (x: BudgetRow) in x.floatAccuracy }), ("integer", "#ff7f0e", { (x: BudgetRow) in x.intAccuracy })] {
            let p = r.rows.map { "\(X($0.energy)),\(Y(100 * get($0)))" }.joined(separator: " ")
            // float drawn wide underneath, integer dashed on top: both stay visible where they coincide
            s += name == "float" ? "<polyline points='\(p)' fill='none' stroke='\(color)' stroke-width='5' stroke-opacity='0.5'/>"
                                 : "<polyline points='\(p)' fill='none' stroke='\(color)' stroke-width='2' stroke-dasharray='6 3'/>"
            for row in r.rows {
                s += "<circle cx='\(X(row.energy))' cy='\(Y(100 * get(row)))' r='\(name == "float" ? 6 : 3)' fill='\(color)'><title>\(name) k=\(row.budget): \(pct(get(row)))% at \(String(format: "%.4f", row.energy)) µJ</title></circle>"
                if name == "integer" { s += "<text x='\(X(row.energy) + 6)' y='\(Y(100 * get(row)) + 14)' fill='#555'>k=\(row.budget)</text>" }
            }
        }
        if let c = r.confidence {
            s += "<rect x='\(X(c.energy) - 4)' y='\(Y(100 * c.intAccuracy) - 4)' width='8' height='8' fill='#2ca02c'/>"
            s += "<rect x='\(X(c.energy) - 4)' y='\(Y(100 * c.floatAccuracy) - 4)' width='8' height='8' fill='none' stroke='#2ca02c' stroke-width='2'/>"
        }
        for ref in r.references {
            s += "<path d='M\(X(ref.energy)) \(Y(100 * ref.accuracy) - 6) l6 10 h-12 z' fill='#d62728'/>"
            // label left of the point near the right edge (keeps it off the legend)
            let nearRight = X(ref.energy) > W - rt - 70
            s += "<text x='\(X(ref.energy) + (nearRight ? -8 : 8))' y='\(Y(100 * ref.accuracy) + 4)' text-anchor='\(nearRight ? "end" : "start")'>\(esc(ref.label))</text>"
        }
        // legend
        let lx = W - rt + 12
        s += "<line x1='\(lx)' x2='\(lx + 20)' y1='30' y2='30' stroke='#1f77b4' stroke-width='5' stroke-opacity='0.5'/><text x='\(lx + 26)' y='34'>float, budget k</text>"
        s += "<line x1='\(lx)' x2='\(lx + 20)' y1='48' y2='48' stroke='#ff7f0e' stroke-width='2' stroke-dasharray='6 3'/><text x='\(lx + 26)' y='52'>integer, budget k</text>"
        if r.confidence != nil { s += "<rect x='\(lx + 6)' y='62' width='8' height='8' fill='#2ca02c'/><text x='\(lx + 26)' y='70'>confidence (int)</text>" }
        if !r.references.isEmpty { s += "<path d='M\(lx + 10) 80 l6 10 h-12 z' fill='#d62728'/><text x='\(lx + 26)' y='90'>reference</text>" }
        return s + "</svg>"
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
        s += curve(r)
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
        s += "<h2>LIF thresholds (integer membrane units)</h2>"
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
