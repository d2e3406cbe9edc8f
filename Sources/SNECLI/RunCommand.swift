// `sne run`: run a program on one input in the reference interpreter, or on N items of an IDX file
// (one prediction per item, accuracy against an IDX label file).
import Foundation
import SpikeIR

struct RunCommand: Command {
    static let name = "run"
    static let summary = "run a program on one input (or N items of an IDX file) in the reference interpreter"
    static let usage = """
        usage: sne run PROGRAM --input FILE [--index N] [--budget k] [--no-stop] [--trace FILE] [--json]
               sne run PROGRAM --input IDX --count N [--index S] [--labels IDX] [--budget k] [--no-stop] [--json]
          --input FILE   raw uint8 (exactly H·W·C bytes, HWC), .npy (uint8), or an IDX file (-ubyte/.idx)
          --index N      item of an IDX file (default 0); with --count the first item
          --budget k     students to run, 1…K (default K)
          --trace FILE   write the full trace (per student, step, lif layer: spikes and membranes) as JSON
          --json         machine-readable output
          --count N      run items S … S+N−1 of the IDX file: one line per item (with --json one JSON
                         object per line: item, prediction, label, active, logits), then the summary
          --labels IDX   an IDX label file (items S … S+N−1): adds each label and the accuracy
          --no-stop      run all k students even if the program's confidence stop (spec §6) would
                         stop earlier (to compare with exports that cannot stop, e.g. NIR)
        """
    let program: String, input: String, index: Int?, budget: String?, trace: String?, json: Bool
    let count: Int?, labels: String?, noStop: Bool
    init(_ args: Arguments) throws {
        var a = args
        json = a.flag("json")
        noStop = a.flag("no-stop")
        count = try a.int("count", in: 1...1_000_000)
        labels = try a.option("labels")
        guard let i = try a.option("input") else { throw CLIError.usage("sne run: --input FILE is required") }
        input = i
        index = try a.int("index", in: 0...Int(Int32.max))
        budget = try a.option("budget")
        trace = try a.option("trace")
        program = try a.positional("PROGRAM")
        try a.finish()
        if count == nil, labels != nil { throw CLIError.usage("sne run: --labels needs --count N (a batch of IDX items)") }
        if count != nil, trace != nil { throw CLIError.usage("sne run: --trace is for one input; drop it or --count") }
    }

    func run(out: inout TextSink, err: inout TextSink) throws {
        var p = try InputFiles.program(program)
        if noStop { p.stopMargin = nil }
        let k = try Budget.parse(budget, command: Self.name, students: p.students.count, allowAll: false).first ?? p.students.count
        if let n = count { return try runBatch(p, budget: k, count: n, out: &out, err: &err) }
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
        if let st = p.stem {                                  // the shared stem (spec §4.1): once, or not at all
            let c = r.stemCounts
            out.write("  stem      synops=\(c.synops) macs=\(c.macs) neuron_updates=\(c.neuronUpdates)\(r.stemOpCounts.isEmpty ? "  (not run)" : "")\n")
            for (j, oc) in r.stemOpCounts.enumerated() where oc != Counts() {
                out.write("    op \(j) \(st[j].name.padding(toLength: 13, withPad: " ", startingAt: 0)) synops=\(oc.synops) macs=\(oc.macs) neuron_updates=\(oc.neuronUpdates)\n")
            }
        }
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

extension RunCommand {
    /// `--count N`: items `index … index+N−1` of an IDX file, one line each, then the summary.
    func runBatch(_ p: Program, budget k: Int, count n: Int, out: inout TextSink, err: inout TextSink) throws {
        let first = index ?? 0
        let xs = try InputFiles.idxItems(input, shape: p.input, from: first, count: n)
        let ys = try labels.map { try InputFiles.labels($0, from: first, count: n) }
        Progress.warnIfLong(p, budgets: [k], runs: n, command: Self.name, err: &err)
        let interp: Interpreter
        do { interp = try Interpreter(p) } catch let e as SpikeIRError { throw CLIError.failure(e.description) }
        var correct = 0, students = 0
        for (i, x) in xs.enumerated() {
            let r: InferenceResult
            do { r = try interp(x, budget: k, traceHash: false) } catch let e as SpikeIRError { throw CLIError.failure(e.description) }
            students += r.active.count
            let y = ys?[i]
            if let y, r.prediction == Int(y) { correct += 1 }
            if json {
                var s = "{\"item\":\(first + i),\"prediction\":\(r.prediction)"
                if let y { s += ",\"label\":\(y)" }
                out.write(s + ",\"active\":\(ResultJSON.arr(r.active)),\"logits\":\(ResultJSON.arr(r.logits))}\n")
            } else {
                out.write("item \(first + i)  prediction \(r.prediction)" + (y.map { "  label \($0)" } ?? "")
                          + "  active \(r.active.map(String.init).joined(separator: " "))\n")
            }
        }
        let mean = Double(students) / Double(n)
        let acc = ys.map { _ in Double(correct) / Double(n) }
        if json {
            var s = "{\"summary\":{\"program\":\"\(p.name)\",\"items\":\(n),\"first\":\(first),\"budget\":\(k),\"stop\":\(p.stopMargin != nil),"
            s += "\"mean_students\":\(mean)"
            if let acc { s += ",\"correct\":\(correct),\"accuracy\":\(acc)" }
            out.write(s + "}}\n")
        } else {
            out.write("program \(p.name)  items \(first)…\(first + n - 1)  budget k=\(k) of K=\(p.students.count)"
                      + (noStop ? "  (confidence stop off)" : "") + "  mean students run \(String(format: "%.3f", mean))\n")
            if let acc { out.write("accuracy \(correct)/\(n) = \(String(format: "%.2f", 100 * acc))%\n") }
        }
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
        s += "\"students\":[" + r.opCounts.map { "[" + $0.map(counts).joined(separator: ",") + "]" }.joined(separator: ",") + "]"
        // the shared stem's per-op counts (spec §8), only when it ran: results of programs without
        // a stem keep their exact text
        if !r.stemOpCounts.isEmpty { s += ",\"stem\":[" + r.stemOpCounts.map(counts).joined(separator: ",") + "]" }
        s += "}}"
        return s
    }
    static func trace(_ t: Trace, _ p: Program) -> String {
        func steps(_ ss: [[LayerStep]]) -> String {
            ss.enumerated().map { (ti, layers) in
                "{\"t\":\(ti),\"lif\":[" + layers.map { l in
                    "{\"op\":\(l.op),\"spikes\":\(arr(l.spikes)),\"membranes\":\(arr(l.membranes))}"
                }.joined(separator: ",") + "]}"
            }.joined(separator: ",")
        }
        var s = "{"
        if let st = t.stem { s += "\"stem\":{\"before\":\(st.before),\"steps\":[" + steps(st.steps) + "]},\n" }
        s += "\"students\":["
        s += t.students.map { st in
            var o = "{\"student\":\(st.student),\"steps\":["
            o += steps(st.steps)
            o += "],\"features\":\(arr(st.features)),\"quantized\":\(arr(st.quantized))}"
            return o
        }.joined(separator: ",\n")
        return s + "]}\n"
    }
}
