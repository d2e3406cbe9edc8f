// `sne info`: shapes, parameters, RAM/flash needs and op estimate of a program.
import Foundation
import SNECodegen
import SpikeIR
import SpikeIRFixtures

struct InfoCommand: Command {
    static let name = "info"
    static let summary = "shapes, parameters, RAM/flash needs and op estimate of a program"
    static let usage = """
        usage: sne info PROGRAM [--input FILE [--index N]] [--board B] [--target T [--clock MHZ[,MHZ]]]
          prints shapes per op, parameter counts, a dense upper bound of the operations per
          inference (every neuron spiking every step, every pixel nonzero, all K students), the
          memory the emitted C needs, and with --input the operations actually executed at k = 1…K;
          then which boards the program fits (flash and RAM from the datasheets)
          --board B   only that board: \(Board.names)
          --target T  also build the deployed C for T (cortex-m4, cortex-m3, riscv32, avr), run the
                      input (else one random input) at every budget in its emulator, bit-exact, and
                      print instructions (QEMU) or cycles (simavr) per inference and the latency
          --clock     MHz to state the latency at (default per target: cortex-m4 64,84,100,168;
                      cortex-m3 72; riscv32 100,320; avr 16); from QEMU's instruction count the
                      latency at one cycle per instruction is a lower bound, from simavr it is exact
        """
    let program: String, input: String?, index: Int?, board: Board?, target: String?, clock: [Double]?
    init(_ args: Arguments) throws {
        var a = args
        board = try a.option("board").map(Board.named)
        input = try a.option("input")
        index = try a.int("index", in: 0...Int(Int32.max))
        target = try a.option("target")
        if let t = target {
            guard t != "host" else { throw CLIError.usage("sne info: --target host has no device latency; give cortex-m4, cortex-m3, riscv32 or avr") }
            _ = try cliTarget(t)
        }
        if let c = try a.option("clock") {
            guard let mhz = Latency.parseClocks(c) else { throw CLIError.usage("sne info: --clock must be MHz values like 84 or 64,168, got '\(c)'") }
            guard target != nil else { throw CLIError.usage("sne info: --clock needs --target") }
            clock = mhz
        } else { clock = nil }
        program = try a.positional("PROGRAM")
        try a.finish()
    }

    func run(out: inout TextSink, err: inout TextSink) throws {
        let p = try InputFiles.program(program)
        out.write(Dump.text(p).split(separator: "\n").first.map { String($0) + "\n" } ?? "")
        var params = 0
        if let g = p.gate {
            for layer in g.layers { params += layer.weights.count + layer.bias.count }
            out.write("gate       pool=\(g.pool) layers=\(g.layers.count) params=\(params)\n")
        }
        func opLines(_ ops: [Op], input: Shape) {
            var shape = input
            for (j, op) in ops.enumerated() {
                let o = op.outputShape(shape)
                let n = op.parameterCount
                params += n
                out.write("  \(j) \(op.name.padding(toLength: 13, withPad: " ", startingAt: 0)) \(shape) -> \(o)  params=\(n)\n")
                shape = o
            }
        }
        if let st = p.stem {                               // the shared stem (spec §4.1), counted once
            out.write("stem  ops=\(st.count)  output \(p.stemOutput ?? p.input) kept for T=\(p.timesteps) steps\n")
            opLines(st, input: p.input)
        }
        for (k, s) in p.students.enumerated() {
            out.write("student \(k)  features=\(s.features)\n")
            opLines(s.ops, input: p.studentInput(s))
        }
        let headParams = p.head.bias.count + p.head.weights.reduce(0) { $0 + $1.count }
        params += headParams
        let bound = OpEstimate.bound(p, budget: p.students.count)
        if p.stem != nil {
            let s = OpEstimate.stem(p)
            out.write("stem bound synops≤\(s.synops) macs≤\(s.macs) neuron_updates≤\(s.neuronUpdates)  (once per inference, when a student starting with stem runs)\n")
        }
        out.write("head       classes=\(p.classes) params=\(headParams)\n")
        out.write("parameters \(params) total\n")
        out.write("ops bound  synops≤\(bound.synops) macs≤\(bound.macs) neuron_updates≤\(bound.neuronUpdates)  (dense upper bound, k = K; input-conv MACs counted without border clipping)\n")
        let secs = Progress.seconds(p, budgets: [p.students.count], runs: 1)
        out.write("estimate   ~\(secs < 0.01 ? "<0.01" : String(format: "%.2g", secs)) s per inference at k = K in the interpreter (dense bound at \(Int(Progress.opsPerSecond / 1e6)) M ops/s)\n")
        if let input {
            let x = try InputFiles.read(input, shape: p.input, index: index)
            do {
                let interp = try Interpreter(p)
                for k in 1...p.students.count {
                    let r = try interp(x, budget: k)
                    let t = r.total
                    out.write("ops k=\(k)    synops=\(t.synops) macs=\(t.macs) neuron_updates=\(t.neuronUpdates)  active=\(r.active)"
                              + (r.stemOpCounts.isEmpty ? "" : "  stem synops=\(r.stemCounts.synops) macs=\(r.stemCounts.macs) neuron_updates=\(r.stemCounts.neuronUpdates)")
                              + "  (on \(input))\n")
                }
            } catch let e as SpikeIRError { throw CLIError.failure(e.description) }
        }
        for line in memoryLines(for: p) { out.write(line + "\n") }
        let fits = try (board.map { [$0] } ?? Board.all).map { try $0.fit(p) }
        for f in fits { out.write(f.line + "\n") }
        if board == nil {
            let ok = fits.filter(\.fits).map(\.board.name)
            out.write("fits: \(ok.isEmpty ? "none of the boards" : ok.joined(separator: ", "))\n")
        }
        if let target {
            var g = RandomProgram(seed: 1)
            let x = try input.map { try InputFiles.read($0, shape: p.input, index: index) } ?? g.input(for: p)
            for line in try InfoMeasure.lines(p, target: target, inputs: [x], clocks: clock) { out.write(line + "\n") }
        }
    }
}
