// `sne eval`: float accuracy of trained models at every budget, in confidence mode, with ops and
// energy per inference, spike rates and noise robustness — a table, or JSON.
import Foundation
import SNEEnsemble
import SNETensor

struct EvalCommand: Command {
    static let name = "eval"
    static let summary = "float accuracy per budget k and in confidence mode, ops, energy, noise robustness"
    static let usage = """
    usage: sne eval MODEL [MODEL ...] [flags]
      MODEL                 a model written by 'sne train' (DIR/model.sne); several are compared
                            side by side (e.g. the three partitions, or an SNE and a plain SNN)
      --dataset NAME        dataset (default: the one the model was trained on)
      --data DIR            dataset root (searched: \(Datasets.searchOrder))
      --limit N             evaluate on the first N test images (default: all)
      --margins A,B,...     confidence-mode margins on the float logits (default 2,4,6,8)
      --noise               also measure accuracy (all students) under Gaussian and salt-and-pepper noise
      --teacher FILE        a teacher.ckpt to add to the noise comparison
      --pj-mac X            pJ per multiply-accumulate (default 4.6)
      --pj-acc X            pJ per synaptic accumulate (default 0.9)
      --threads N           worker threads (default: all cores)
      --json                print one JSON document instead of tables
      --force               go on when the data is not what a model was trained on (its test
                            split's first images differ from the model's record); warns instead
    Ops are counted from the measured spikes the way the integer program counts them (spec §3, §8):
    MACs = input-conv multiplies, readout requant, head and gate multiplies; accumulates =
    spike-driven conv/dense adds, readout and pooling adds. Energy = MACs·pJ_mac + accumulates·pJ_acc.
    """

    let models: [String]
    let dataset: String?
    let dataRoot: String?
    let limit: Int?
    let margins: [Double]
    let noise: Bool
    let teacher: String?
    let energy: EnergyTable
    let threads: Int?
    let json: Bool
    let force: Bool

    init(_ args: Arguments) throws {
        var a = args
        var ms: [String] = [try a.positional("model file (DIR/model.sne)")]
        dataset = try a.option("dataset")
        dataRoot = try a.option("data")
        limit = try a.int("limit", in: 1...10_000_000)
        if let m = try a.option("margins") {
            let v = m.split(separator: ",").map { Double($0.trimmingCharacters(in: .whitespaces)) }
            guard !v.isEmpty, v.allSatisfy({ $0 != nil && $0! >= 0 }) else { throw CLIError.usage("sne eval: --margins must be comma-separated numbers ≥ 0, got '\(m)'") }
            margins = v.map { $0! }
        } else { margins = [2, 4, 6, 8] }
        noise = a.flag("noise")
        teacher = try a.option("teacher")
        let mac = try a.double("pj-mac") ?? 4.6, acc = try a.double("pj-acc") ?? 0.9
        guard mac >= 0, acc >= 0 else { throw CLIError.usage("sne eval: energy per operation must be ≥ 0") }
        energy = EnergyTable(mac: mac, accumulate: acc)
        threads = try a.int("threads", in: 1...256)
        json = a.flag("json")
        force = a.flag("force")
        while let m = a.optionalPositional() { ms.append(m) }
        try a.finish()
        models = ms
    }

    func run(out: inout TextSink, err: inout TextSink) throws {
        let compute = ComputeContext(threads: threads)
        let progress = ProgressSink.standardError()
        var reports: [EvalReport] = []
        var teacherNoise: [NoisePoint] = []
        do {
            let loaded = try models.map { try ModelFiles.load($0) }
            let name = dataset ?? loaded[0].info["dataset"] ?? "fashion-mnist"
            let d = try Datasets.load(name, root: dataRoot, limit: 1, testLimit: limit)
            let first = d.test.count >= DataFingerprint.images ? d.test : try Datasets.load(name, root: dataRoot, limit: 1, testLimit: DataFingerprint.images).test
            if limit != nil, let w = SubsetBalance.warning(labels: d.test.labels, classes: d.classes, what: "the first \(d.test.count) test images (--limit)") {
                err.write(w + "\n")
            }
            for (path, m) in zip(models, loaded) {
                try ModelFiles.checkData(m, path: path, test: first, force: force, err: &err)
                guard m.spec.input == d.inputShape else {
                    throw SNEError("\(path): model input \(m.spec.input) does not match \(d.name) images \(d.inputShape)")
                }
                reports.append(try Evaluator.evaluate(m, name: path, data: d.test, energy: energy, margins: margins, noise: noise,
                                                      seed: 1, compute: compute, progress: progress))
            }
            if noise, let teacher {
                let t = try Teacher.load(from: teacher)
                teacherNoise = try Evaluator.robustness(data: d.test, seed: 1) { data in
                    var correct = 0
                    for lo in stride(from: 0, to: data.count, by: 500) {
                        let n = min(500, data.count - lo)
                        let x = try Tensor(shape: [n] + data.shape.dropFirst(), data: Array(data.pixels[(lo * data.imageSize)..<((lo + n) * data.imageSize)]))
                        let z = try t(x, compute: compute).logits
                        for i in 0..<n {
                            var best = 0
                            for j in 1..<t.classes where z.data[i * t.classes + j] > z.data[i * t.classes + best] { best = j }
                            if best == data.labels[lo + i] { correct += 1 }
                        }
                    }
                    return Double(correct) / Double(data.count)
                }
            }
        } catch let e as SNEError { throw e.isInput ? CLIError.input(e.message) : CLIError.failure(e.message) }
        progress.line("")
        if json {
            struct Doc: Codable { var energy: EnergyTable; var models: [EvalReport]; var teacherNoise: [NoisePoint] }
            let enc = JSONEncoder(); enc.outputFormatting = [.prettyPrinted, .sortedKeys]
            out.write(String(decoding: try enc.encode(Doc(energy: energy, models: reports, teacherNoise: teacherNoise)), as: UTF8.self) + "\n")
            return
        }
        for r in reports { out.write(Self.table(r, energy: energy)) }
        if reports.count > 1 {
            out.write("side by side (accuracy %, fixed order / gate):\n")
            let kmax = reports.map { $0.rows.filter { $0.selection == "fixed" }.count }.max() ?? 0
            out.write("  " + "model".padding(toLength: 40, withPad: " ", startingAt: 0) + (1...max(kmax, 1)).map { "k=\($0)".padding(toLength: 16, withPad: " ", startingAt: 0) }.joined() + "\n")
            for r in reports {
                var s = "  " + String(r.model.suffix(40)).padding(toLength: 40, withPad: " ", startingAt: 0)
                for k in 1...max(kmax, 1) {
                    let f = r.rows.first { $0.selection == "fixed" && $0.budget == k }
                    let g = r.rows.first { $0.selection == "gate" && $0.budget == k }
                    let cell = f.map { String(format: "%.2f", 100 * $0.accuracy) + (g.map { String(format: "/%.2f", 100 * $0.accuracy) } ?? "") } ?? "-"
                    s += cell.padding(toLength: 16, withPad: " ", startingAt: 0)
                }
                out.write(s + "\n")
            }
        }
        if noise {
            out.write("noise robustness (accuracy %, all students):\n  kind          level   " + reports.map { String($0.model.suffix(24)).padding(toLength: 26, withPad: " ", startingAt: 0) }.joined() + (teacherNoise.isEmpty ? "" : "teacher") + "\n")
            for (i, p) in (reports.first?.noise ?? []).enumerated() {
                var s = "  " + p.kind.padding(toLength: 12, withPad: " ", startingAt: 0) + String(format: "%6.2f  ", p.level)
                for r in reports { s += String(format: "%-26.2f", 100 * r.noise[i].accuracy) }
                if i < teacherNoise.count { s += String(format: "%.2f", 100 * teacherNoise[i].accuracy) }
                out.write(s + "\n")
            }
        }
    }

    static func table(_ r: EvalReport, energy: EnergyTable) -> String {
        var s = "\(r.model): \(r.samples) test images"
        if let t = r.info["teacher.test_accuracy"], let v = Double(t) {
            s += String(format: "; teacher %.2f%%", 100 * v)
            if let m = r.info["teacher.macs"], let macs = Double(m) { s += String(format: " at %.0f MACs = %.2f µJ", macs, energy.microjoules(macs: macs, synops: 0)) }
        }
        s += "\n  selection     k   margin   accuracy   students        MACs      synops   energy µJ\n"
        for row in r.rows {
            s += "  " + row.selection.padding(toLength: 12, withPad: " ", startingAt: 0)
            let margin = row.margin.map { String(format: "%.1f", $0) } ?? "-"
            s += String(format: "%2d   ", row.budget) + String(repeating: " ", count: max(0, 6 - margin.count)) + margin
            s += String(format: "   %7.2f%%   %8.2f   %9.0f   %9.0f   %9.4f\n", 100 * row.accuracy, row.students, row.macs, row.synops, row.energyMicrojoules)
        }
        s += "  spike rates per LIF layer (\(r.lifNames.joined(separator: ", "))):\n"
        for (k, rates) in r.spikeRates.enumerated() {
            s += "    student \(k): " + rates.map { String(format: "%.3f", $0) }.joined(separator: "  ") + "\n"
        }
        return s
    }
}
