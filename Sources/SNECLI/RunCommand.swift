// `sne run`: run a program on one input in the reference interpreter.
import Foundation
import SpikeIR

struct RunCommand: Command {
    static let name = "run"
    static let summary = "run a program on one input in the reference interpreter"
    static let usage = """
        usage: sne run PROGRAM --input FILE [--index N] [--budget k] [--trace FILE] [--json]
          --input FILE   raw uint8 (exactly H·W·C bytes, HWC), .npy (uint8), or an IDX file (-ubyte/.idx)
          --index N      item of an IDX file (default 0)
          --budget k     students to run, 1…K (default K)
          --trace FILE   write the full trace (per student, step, lif layer: spikes and membranes) as JSON
          --json         machine-readable output
        """
    let program: String, input: String, index: Int?, budget: String?, trace: String?, json: Bool
    init(_ args: Arguments) throws {
        var a = args
        json = a.flag("json")
        guard let i = try a.option("input") else { throw CLIError.usage("sne run: --input FILE is required") }
        input = i
        index = try a.int("index", in: 0...Int(Int32.max))
        budget = try a.option("budget")
        trace = try a.option("trace")
        program = try a.positional("PROGRAM")
        try a.finish()
    }

    func run(out: inout TextSink, err: inout TextSink) throws {
        let p = try InputFiles.program(program)
        let k = try Budget.parse(budget, command: Self.name, students: p.students.count, allowAll: false).first ?? p.students.count
        if let t = trace, let kind = OutputPath.existingNonRegular(t) {
            throw CLIError.usage("sne run: --trace \(t): is \(kind); give the path of a regular file to create or replace")
        }
        let x = try InputFiles.read(input, shape: p.input, index: index)
        Progress.warnIfLong(p, budgets: [k], runs: 1, command: Self.name, err: &err)
        let r: InferenceResult
        do { r = try Interpreter(p)(x, budget: k, trace: trace != nil) } catch let e as SpikeIRError {
            throw CLIError.failure(e.description)
        }
        if let t = trace, let tr = r.trace {
            try InputFiles.writeAtomically(Array(ResultJSON.trace(tr, p).utf8), path: t, flag: "--trace")
        }
        if json { out.write(ResultJSON.result(r, budget: k) + "\n"); return }
        let t = r.total
        out.write("program \(p.name)  input \(input)  budget k=\(k) of K=\(p.students.count)\n")
        out.write("logits      \(r.logits.map(String.init).joined(separator: " "))\n")
        out.write("prediction  \(r.prediction)\n")
        out.write("active      \(r.active.map(String.init).joined(separator: " "))\n")
        if !r.gateScores.isEmpty { out.write("gate scores \(r.gateScores.map(String.init).joined(separator: " "))\n") }
        out.write("ops         synops=\(t.synops) macs=\(t.macs) neuron_updates=\(t.neuronUpdates)\n")
        out.write("  gate      synops=\(r.gateCounts.synops) macs=\(r.gateCounts.macs)\n")
        for s in r.active {
            let c = r.opCounts[s].reduce(Counts(), +)
            out.write("  student \(s) synops=\(c.synops) macs=\(c.macs) neuron_updates=\(c.neuronUpdates)\n")
            for (j, oc) in r.opCounts[s].enumerated() where oc != Counts() {
                out.write("    op \(j) \(p.students[s].ops[j].name.padding(toLength: 13, withPad: " ", startingAt: 0)) synops=\(oc.synops) macs=\(oc.macs) neuron_updates=\(oc.neuronUpdates)\n")
            }
        }
        out.write("  head      macs=\(r.headCounts.macs)\n")
        out.write("trace hash  0x\(String(format: "%08x", r.traceHash))\n")
        if let t = trace { out.write("trace       written to \(t)\n") }
    }
}

/// JSON text for results and traces (hand-written: small, stable key order).
enum ResultJSON {
    static func arr<T>(_ a: [T]) -> String { "[" + a.map { "\($0)" }.joined(separator: ",") + "]" }
    static func counts(_ c: Counts) -> String { "{\"synops\":\(c.synops),\"macs\":\(c.macs),\"neuron_updates\":\(c.neuronUpdates)}" }
    static func result(_ r: InferenceResult, budget: Int) -> String {
        var s = "{\"budget\":\(budget),\"logits\":\(arr(r.logits)),\"prediction\":\(r.prediction),\"active\":\(arr(r.active)),"
        s += "\"gate_scores\":\(arr(r.gateScores)),\"trace_hash\":\(r.traceHash),"
        s += "\"counts\":{\"total\":\(counts(r.total)),\"gate\":\(counts(r.gateCounts)),\"head\":\(counts(r.headCounts)),"
        s += "\"students\":[" + r.opCounts.map { "[" + $0.map(counts).joined(separator: ",") + "]" }.joined(separator: ",") + "]}}"
        return s
    }
    static func trace(_ t: Trace, _ p: Program) -> String {
        var s = "{\"students\":["
        s += t.students.map { st in
            var o = "{\"student\":\(st.student),\"steps\":["
            o += st.steps.enumerated().map { (ti, layers) in
                "{\"t\":\(ti),\"lif\":[" + layers.map { l in
                    "{\"op\":\(l.op),\"spikes\":\(arr(l.spikes)),\"membranes\":\(arr(l.membranes))}"
                }.joined(separator: ",") + "]}"
            }.joined(separator: ",")
            o += "],\"features\":\(arr(st.features)),\"quantized\":\(arr(st.quantized))}"
            return o
        }.joined(separator: ",\n")
        return s + "]}\n"
    }
}
