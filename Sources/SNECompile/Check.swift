// `sne check` measurements: float vs integer accuracy per budget and in confidence mode,
// agreement, logit error, per-layer spike rates, op counts (summed from the interpreter's own
// counts, so they are what it executed), energy from a pJ table, weight/threshold histograms.
import Foundation
import SNEEnsemble
import SNEData
import SNETensor
import SNETrain
import SNEPasses
import SpikeIR

/// Energy of interpreter counts with the trainer's pJ table (`SNEEnsemble.EnergyTable`: MACs and
/// accumulates priced, neuron updates not — the same rule as `sne eval`).
extension EnergyTable {
    public func microjoules(_ c: Counts) -> Double { microjoules(macs: Double(c.macs), synops: Double(c.synops)) }
}

/// One budget (or the confidence mode) over the check set.
public struct BudgetRow: Sendable {
    /// Budget k; for the confidence row, K with the stop margin on.
    public var budget: Int
    public var confidence: Bool
    public var floatAccuracy: Double, intAccuracy: Double
    /// Fraction of images where float and integer predictions agree.
    public var agreement: Double
    /// Mean over images and classes of |integer logit · step − float logit|, and the mean |float logit|.
    public var logitError: Double, logitMagnitude: Double
    /// Mean students run (integer / float).
    public var intStudents: Double, floatStudents: Double
    /// Counts summed over all images (what the interpreter executed).
    public var total: Counts
    /// Per student, per op, summed; gate and head summed.
    public var opCounts: [[Counts]]
    public var gateCounts: Counts, headCounts: Counts
    public var images: Int
    /// Mean energy per inference (µJ).
    public var energy: Double
    /// The integer program's prediction per image (kept for comparing with another mode of it).
    public var predictions: [Int] = []
}

/// One budget of a second integer program of the same model (e.g. its Loihi mode) next to the
/// program `sne check` measured.
public struct ModeRow: Sendable {
    public var budget: Int
    /// Accuracy of this mode and of the checked (MCU) program on the same images.
    public var accuracy: Double, referenceAccuracy: Double
    /// Fraction of images where both programs predict the same class.
    public var agreement: Double
    /// Counts summed over all images, and mean energy per inference (µJ).
    public var total: Counts
    public var energy: Double
    public var images: Int
}

/// A second integer program of the same model measured on the check set (`sne check --loihi`).
public struct ModeComparison: Sendable {
    public var label: String
    public var program: String
    public var timesteps: Int
    /// What the lowering changed that is not exact (from the lowering itself).
    public var notes: [String]
    public var rows: [ModeRow]
}

/// A reference point for the accuracy–energy plot (teacher, plain SNN, another model).
public struct RefPoint: Sendable, Equatable {
    public var label: String, accuracy: Double, energy: Double
    /// The number of test images its accuracy was measured on, when known.
    public var images: Int?
    public init(label: String, accuracy: Double, energy: Double, images: Int? = nil) {
        self.label = label; self.accuracy = accuracy; self.energy = energy; self.images = images
    }
}

/// Instructions per inference of the integer program on one target, per budget k = 1…K (as
/// `sne verify --budget k` counts them), for the report's second plot.
public struct InstructionCurve: Sendable, Equatable {
    public var target: String
    public var perBudget: [Double]
    /// Clocks (MHz) the report states the latency at: instructions / (MHz · 1000) ms, one cycle per
    /// instruction (a lower bound from a QEMU count; exact when the counts are simavr cycles).
    public var clocks: [Double]
    public init(target: String, perBudget: [Double], clocks: [Double] = []) {
        self.target = target; self.perBudget = perBudget; self.clocks = clocks
    }
}

/// Memory of the program on one target (filled in by the CLI from SNECodegen.MemoryReport).
public struct MemoryRow: Sendable, Equatable {
    public var target: String, flash: Int, ram: Int, arena: Int, fits: Bool, note: String
    public init(target: String, flash: Int, ram: Int, arena: Int, fits: Bool, note: String) {
        self.target = target; self.flash = flash; self.ram = ram; self.arena = arena; self.fits = fits; self.note = note
    }
}

public struct CheckResult: Sendable {
    public var program: String
    public var images: Int
    public var rows: [BudgetRow]
    public var confidence: BudgetRow?
    public var marginSteps: Int32?
    public var activity: [LayerActivity]
    public var activityImages: Int
    /// int8 weight histogram (index = value + 128) over all students, and per-LIF thresholds.
    public var weightHistogram: [Int]
    public var thresholds: [(name: String, theta: Int32)]
    public var opNames: [[String]]
    public var energyTable: EnergyTable
    public var memory: [MemoryRow] = []
    public var references: [RefPoint] = []
    public var problems: [String]
    /// A second mode of the program (its Loihi mode), when asked for.
    public var mode: ModeComparison? = nil
    /// Instructions per inference on a target, when given (`sne check --instructions`).
    public var instructions: InstructionCurve? = nil
}

public enum Check {
    /// A second integer program of the checked model to run next to it: a label for the report,
    /// the program, and the notes of the lowering that made it.
    public typealias Mode = (label: String, program: Program, notes: [String])

    /// The Loihi mode of `program` (SNEPasses `LoihiLowering`, as `sne compile --target loihi`
    /// writes it) as a second mode for `run`; throws `LoweringError` when it has none.
    public static func loihiMode(of program: Program) throws -> Mode {
        let (q, notes) = try LoihiLowering.lower(program)
        return ("Loihi mode", q, notes.lines)
    }

    /// Runs the float model and the program on `data` (NCHW /255 floats; the program reads the same
    /// pixels as HWC uint8). `margin` overrides the program's stop margin for the confidence row.
    /// `mode`, when given, is a second integer program of the same model (the Loihi-mode lowering
    /// of `program`): it runs on the same images at every budget and is compared with `program`.
    public static func run(model: SNEModel, program: Program, data: LabeledImages, margin: Int32? = nil,
                           energy: EnergyTable = EnergyTable(), activityImages: Int = 200,
                           compute: ComputeContext = ComputeContext(threads: 1),
                           mode: Mode? = nil) throws -> CheckResult {
        guard Array(data.shape.dropFirst()) == model.spec.input else {
            throw CompileError("check images are \(Array(data.shape.dropFirst())), the model expects \(model.spec.input)")
        }
        guard program.input == Shape(h: model.spec.input[1], w: model.spec.input[2], c: model.spec.input[0]),
              program.students.count == model.K, program.classes == model.spec.classes, program.timesteps == model.T else {
            throw CompileError("program \(program.name) (input \(program.input), K=\(program.students.count), classes \(program.classes), T=\(program.timesteps)) does not match the model (input \(model.spec.input), K=\(model.K), classes \(model.spec.classes), T=\(model.T))")
        }
        let step = Double(program.meta["sne.logit_step"] ?? "") ?? 1
        let n = data.count
        let (c, h, w) = (model.spec.input[0], model.spec.input[1], model.spec.input[2])
        let images = (0..<n).map { HWCLayout.imageHWC(data.pixels[($0 * data.imageSize)..<(($0 + 1) * data.imageSize)], c: c, h: h, w: w) }
        let fe = try FloatEval.run(model, data, compute: compute)
        var plain = program; plain.stopMargin = nil
        let K = model.K
        var rows: [BudgetRow] = []
        for k in 1...K {
            rows.append(try row(model: model, program: plain, fe: fe, images: images, labels: data.labels, budget: k, marginSteps: nil, step: step, energy: energy))
        }
        let m = margin ?? program.stopMargin
        var conf: BudgetRow? = nil
        if let m {
            var p = program; p.stopMargin = m
            conf = try row(model: model, program: p, fe: fe, images: images, labels: data.labels, budget: K, marginSteps: m, step: step, energy: energy)
        }
        let na = min(activityImages, n)
        let lifNames = model.students.map { s in s.layers.filter { $0.layer is SNETrain.LIF }.map(\.name) }
        let feAct = na == n ? fe : try FloatEval.run(model, data.prefix(na), compute: compute)
        let act = try ActivityCheck.compare(program, lifNames: lifNames, float: feAct, images: Array(images.prefix(na)))
        var hist = [Int](repeating: 0, count: 256), th: [(String, Int32)] = []
        // every op list: the students' and the shared stem's (spec §4.1; its thresholds are named "stem")
        let lists = program.students.enumerated().map { (k, s) in (k, s.ops) } + (program.stem.map { [(-1, $0)] } ?? [])
        let stemLIFs = program.stem?.filter { if case .lif = $0 { return true }; return false }.count ?? 0
        for (k, ops) in lists {
            // a student on the stem: its own lifs follow the stem's in the float model's names
            var j = k >= 0 && ops.first == .stem ? stemLIFs : 0
            for op in ops {
                switch op.interop {
                case .inputConv2D(let cv), .conv2D(let cv): for v in cv.weights { hist[Int(v) + 128] += 1 }
                case .inputDense(let d), .dense(let d): for v in d.weights { hist[Int(v) + 128] += 1 }
                case .lif(let l):
                    // one bar per layer: the largest channel threshold
                    th.append((k < 0 ? "stem " + (j < lifNames[0].count ? lifNames[0][j] : "lif\(j)") : "s\(k) " + (j < lifNames[k].count ? lifNames[k][j] : "lif\(j)"), l.thetas.max()!)); j += 1
                case .maxPool, .avgPool, .flatten, .readout, .stem: break
                case .loihi: break   // a Loihi-mode program is checked through its MCU program (`check --loihi`)
                case .unsupported(let w): for v in w { hist[Int(v) + 128] += 1 }
                }
            }
        }
        var refs: [RefPoint] = []
        // the teacher as `sne train` records it: test accuracy (fraction) and its MACs (priced as MACs)
        if let a = Double(model.info["teacher.test_accuracy"] ?? ""), let macs = Double(model.info["teacher.macs"] ?? "") {
            refs.append(RefPoint(label: "teacher", accuracy: a, energy: energy.microjoules(macs: macs, synops: 0),
                                 images: Int(model.info["teacher.test_images"] ?? "")))
        }
        let cmp = try mode.map { try compare($0, with: program, rows: rows, images: images, labels: data.labels, energy: energy) }
        return CheckResult(program: program.name, images: n, rows: rows, confidence: conf, marginSteps: m, activity: act, activityImages: na,
                           weightHistogram: hist, thresholds: th, opNames: program.students.map { $0.ops.map(\.name) },
                           energyTable: energy, references: refs, problems: ActivityCheck.problems(act), mode: cmp)
    }

    /// `mode` (another integer program of the same model) at every budget, with stop off, against
    /// the checked program's predictions in `rows`.
    static func compare(_ mode: Mode, with program: Program, rows: [BudgetRow], images: [[UInt8]], labels: [Int],
                        energy: EnergyTable) throws -> ModeComparison {
        guard mode.program.input == program.input, mode.program.students.count == program.students.count,
              mode.program.classes == program.classes else {
            throw CompileError("program \(mode.program.name) is not a mode of \(program.name) (input, students or classes differ)")
        }
        var q = mode.program; q.stopMargin = nil
        let interp = try Interpreter(q)
        let n = Double(max(images.count, 1))
        let mrows = try rows.map { row in
            let k = row.budget
            let res = try parallelMap(images.count) { i in try interp(images[i], budget: k, traceHash: false) }
            var acc = 0, agree = 0, total = Counts()
            for (i, x) in res.enumerated() {
                if x.prediction == labels[i] { acc += 1 }
                if x.prediction == row.predictions[i] { agree += 1 }
                total += x.total
            }
            return ModeRow(budget: k, accuracy: Double(acc) / n, referenceAccuracy: row.intAccuracy,
                           agreement: Double(agree) / n, total: total, energy: energy.microjoules(total) / n, images: images.count)
        }
        return ModeComparison(label: mode.label, program: q.name, timesteps: q.timesteps, notes: mode.notes, rows: mrows)
    }

    static func row(model: SNEModel, program: Program, fe: FloatEval, images: [[UInt8]], labels: [Int], budget k: Int,
                    marginSteps: Int32?, step: Double, energy: EnergyTable) throws -> BudgetRow {
        let interp = try Interpreter(program)
        let results = try parallelMap(images.count) { i in try interp(images[i], budget: k, traceHash: false) }
        var fAcc = 0, iAcc = 0, agree = 0, err = 0.0, mag = 0.0, iStud = 0, fStud = 0
        var opCounts = program.students.map { [Counts](repeating: Counts(), count: $0.ops.count) }
        var gate = Counts(), head = Counts(), total = Counts()
        for (i, r) in results.enumerated() {
            let order = Array(fe.runOrder(model, image: i).prefix(k))
            var active = order
            if let m = marginSteps {   // float confidence stop: the same rule in float logit units
                active = []
                for s in order {
                    active.append(s)
                    if active.count < k {
                        let z = fe.logits(model, image: i, active: active).sorted(by: >)
                        if z[0] - z[1] >= Double(m) * step { break }
                    }
                }
            }
            let z = fe.logits(model, image: i, active: active)
            var fp = 0
            for c in 1..<z.count where z[c] > z[fp] { fp = c }
            if fp == labels[i] { fAcc += 1 }
            if r.prediction == labels[i] { iAcc += 1 }
            if r.prediction == fp { agree += 1 }
            for c in 0..<z.count { err += abs(Double(r.logits[c]) * step - z[c]); mag += abs(z[c]) }
            iStud += r.active.count; fStud += active.count
            for s in 0..<opCounts.count { for j in 0..<opCounts[s].count { opCounts[s][j] += r.opCounts[s][j] } }
            gate += r.gateCounts; head += r.headCounts; total += r.total
        }
        let n = Double(max(images.count, 1)), nc = n * Double(program.classes)
        return BudgetRow(budget: k, confidence: marginSteps != nil, floatAccuracy: Double(fAcc) / n, intAccuracy: Double(iAcc) / n,
                         agreement: Double(agree) / n, logitError: err / nc, logitMagnitude: mag / nc,
                         intStudents: Double(iStud) / n, floatStudents: Double(fStud) / n, total: total, opCounts: opCounts,
                         gateCounts: gate, headCounts: head, images: images.count, energy: energy.microjoules(total) / n,
                         predictions: results.map(\.prediction))
    }
}
