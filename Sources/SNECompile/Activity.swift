// The activity check: per-LIF spike rates of the float model and of the integer program (from the
// interpreter's full trace), and the refusal of a silent or saturated layer (issue 9, item 2).
import Foundation
import SpikeIR
import SNEPasses

/// One LIF layer's activity.
public struct LayerActivity: Sendable, Equatable {
    public var student: Int
    public var name: String
    /// Index of the `lif` op in the Spike IR student.
    public var op: Int
    /// Spikes per neuron per step.
    public var floatRate: Double
    public var intRate: Double
}

public struct ActivityThresholds: Sendable {
    /// A layer firing on fewer than `silent` of its neuron-steps is silent (default 0.1 %).
    public var silent = 0.001
    /// More than `saturated` is saturated (default 95 %).
    public var saturated = 0.95
    public init() {}
}

public enum ActivityCheck {
    /// Integer spike rates per student and per `lif` op, over `images` with every student run
    /// (budget K, confidence stop off). `spikes[k][j]` / `steps[k][j]` for the j-th lif of student k.
    public static func integerRates(_ program: Program, images: [[UInt8]]) throws -> [[Double]] {
        var p = program
        p.stopMargin = nil
        let interp = try Interpreter(p)
        let K = p.students.count
        let nLIF = p.students.map { $0.ops.filter { if case .lif = $0 { return true }; return false }.count }
        // per image: spikes per (student, lif) with every student run
        let perImage = try parallelMap(images.count) { i -> [[Double]] in
            var acc = nLIF.map { [Double](repeating: 0, count: $0) }
            let r = try interp(images[i], budget: K, trace: true, traceHash: false)
            for st in r.trace!.students {
                for step in st.steps { for (j, l) in step.enumerated() { acc[st.student][j] += Double(l.spikes.reduce(0) { $0 + Int($1) }) } }
            }
            return acc
        }
        let parts = perImage
        var rates = nLIF.map { [Double](repeating: 0, count: $0) }
        for k in 0..<K {
            let lifOps = p.students[k].ops.indices.filter { if case .lif = p.students[k].ops[$0] { return true }; return false }
            let shapes = ProgramValidator.outputShapes(p, student: k)
            for (j, op) in lifOps.enumerated() {
                let total = parts.reduce(0.0) { $0 + $1[k][j] }
                rates[k][j] = total / Double(shapes[op].size * p.timesteps * max(images.count, 1))
            }
        }
        return rates
    }

    /// Float and integer rates side by side.
    /// A shared stem (spec §4.1) is expanded first, so every student's lifs line up with the float
    /// model's (same spikes; the stem's layers are reported under every student).
    public static func compare(_ shared: Program, lifNames: [[String]], float: FloatEval, images: [[UInt8]]) throws -> [LayerActivity] {
        let program = StemSharing.expand(shared)
        let ir = try integerRates(program, images: images)
        var out: [LayerActivity] = []
        for k in 0..<program.students.count {
            let fr = float.rates(k)
            let lifOps = program.students[k].ops.indices.filter { if case .lif = program.students[k].ops[$0] { return true }; return false }
            for (j, op) in lifOps.enumerated() {
                out.append(LayerActivity(student: k, name: j < lifNames[k].count ? lifNames[k][j] : "lif\(j)", op: op,
                                         floatRate: j < fr.count ? fr[j] : 0, intRate: ir[k][j]))
            }
        }
        return out
    }

    /// One line per silent or saturated layer (integer rates decide), with a suggested fix.
    public static func problems(_ layers: [LayerActivity], _ t: ActivityThresholds = ActivityThresholds()) -> [String] {
        layers.compactMap { l in
            let where_ = "student \(l.student) \(l.name) (op \(l.op))"
            let rates = String(format: "integer %.3f %%, float %.3f %%", 100 * l.intRate, 100 * l.floatRate)
            if l.intRate < t.silent {
                let fix = l.floatRate < t.silent
                    ? "the float model is silent there too: retrain with a lower threshold θ or a larger input scale"
                    : "quantization silenced it: use finer weights (--weight-bits 8), per-channel scales once Spike IR 2.0 lands, or fine-tune with --qat-epochs N"
                return "\(where_) is silent (\(rates) < \(100 * t.silent) %): \(fix); --allow-inactive compiles anyway"
            }
            if l.intRate > t.saturated {
                return "\(where_) is saturated (\(rates) > \(100 * t.saturated) %): raise θ or retrain with an activity penalty; --allow-inactive compiles anyway"
            }
            return nil
        }
    }
}
