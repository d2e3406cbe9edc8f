// The dense operation bound of a program (what `sne info` prints), the `--budget` parser shared
// by `run` and `verify`, and the one stderr line that warns before a long run.
import Foundation
import SpikeIR

/// A dense upper bound of the operations per inference: every neuron spiking every step, every
/// pixel nonzero. Products saturate at `Int.max` instead of trapping.
enum OpEstimate {
    static func mul(_ xs: Int...) -> Int { Counts.saturatingProduct(xs) }
    static func add(_ a: Counts, _ b: Counts) -> Counts {
        func s(_ x: Int, _ y: Int) -> Int { let (v, o) = x.addingReportingOverflow(y); return o ? Int.max : v }
        return Counts(synops: s(a.synops, b.synops), macs: s(a.macs, b.macs), neuronUpdates: s(a.neuronUpdates, b.neuronUpdates))
    }

    /// The gate's bound (pooling adds and MACs), zero without a gate.
    static func gate(_ p: Program) -> Counts {
        guard let g = p.gate else { return Counts() }
        var c = Counts()
        if g.pool > 1 { c.synops = mul((p.input.h / g.pool) * (p.input.w / g.pool) * p.input.c, g.pool, g.pool) }
        for (l, layer) in g.layers.enumerated() {
            c.macs = add(c, Counts(macs: mul(layer.inputs, layer.outputs) + (l < g.layers.count - 1 ? layer.outputs : 0))).macs
        }
        return c
    }

    /// The bound of one op list whose op 0 reads `input`.
    static func ops(_ p: Program, _ list: [Op], input: Shape) -> Counts {
        var shape = input, c = Counts()
        for op in list {
            let o = op.outputShape(shape)
            c = add(c, op.opBound(input: shape, output: o, timesteps: p.timesteps))
            shape = o
        }
        return c
    }

    /// The bound of student `s` alone (a student starting with `stem` costs only its own ops).
    static func student(_ p: Program, _ s: Int) -> Counts {
        ops(p, p.students[s].ops, input: p.studentInput(p.students[s]))
    }

    /// The bound of the shared stem (spec §4.1; run at most once per inference), zero without one.
    static func stem(_ p: Program) -> Counts {
        guard let st = p.stem else { return Counts() }
        return ops(p, st, input: p.input)
    }

    /// The bound with the `k` most expensive students active (gate, stem and head included).
    static func bound(_ p: Program, budget k: Int) -> Counts {
        var c = add(gate(p), stem(p))
        let per = (0..<p.students.count).map { student(p, $0) }.sorted { $0.synops + $0.macs > $1.synops + $1.macs }
        for s in per.prefix(k) { c = add(c, s) }
        c.macs = add(c, Counts(macs: mul(p.students.reduce(0) { $0 + $1.features }, p.classes))).macs
        return c
    }
}

/// `--budget` for `run` (one k) and `verify` (one k, or `all`): an integer 1…K, checked once the
/// program's K is known; a bad value is a usage error (exit 2) in both commands.
enum Budget {
    /// `[k]`, or `[]` for all budgets (absent, or `all` when allowed).
    static func parse(_ s: String?, command: String, students K: Int, allowAll: Bool) throws -> [Int] {
        guard let s else { return [] }
        if allowAll && s == "all" { return [] }
        guard let k = Int(s), k >= 1, k <= K else {
            throw CLIError.usage("sne \(command): --budget must be \(allowAll ? "all or " : "")an integer 1…\(K) (K = \(K) students), got '\(s)'")
        }
        return [k]
    }
}

/// The one "this will take a while" line on stderr, printed before a long run starts.
enum Progress {
    /// Reference-interpreter throughput used for the estimate, in synaptic ops + MACs per second
    /// (measured: fmnist4, the dense bound over the actual time, on this project's CI machine).
    static let opsPerSecond = 5.0e8
    /// Runs estimated to take longer than this many seconds get the line.
    static let threshold = 10.0

    /// Seconds the dense bound predicts for `runs` inputs at each of `budgets`.
    static func seconds(_ p: Program, budgets: [Int], runs: Int) -> Double {
        budgets.reduce(0.0) { acc, k in
            let c = OpEstimate.bound(p, budget: k)
            return acc + Double(runs) * (Double(c.synops) + Double(c.macs) + Double(c.neuronUpdates)) / opsPerSecond
        }
    }

    static func warnIfLong(_ p: Program, budgets: [Int], runs: Int, command: String, err: inout TextSink) {
        let s = seconds(p, budgets: budgets, runs: runs)
        guard s > threshold else { return }
        let c = OpEstimate.bound(p, budget: budgets.max() ?? p.students.count)
        err.write("sne \(command): heavy program (dense bound \(c.synops) synops + \(c.macs) MACs per inference at k = \(budgets.max() ?? p.students.count)); \(runs * budgets.count) inference(s) in the interpreter may take up to ~\(Int(s.rounded())) s\n")
    }
}
