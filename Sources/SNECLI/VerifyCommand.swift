// `sne verify`: check the emitted C bit-exactly against the interpreter on a target.
import Foundation
import SNECodegen
import SpikeIR
import SpikeIRFixtures
import SNEData

struct VerifyCommand: Command {
    static let name = "verify"
    static let summary = "check the emitted C bit-exactly against the interpreter on a target"
    static let usage = """
        usage: sne verify PROGRAM --target T [--inputs FILE | --random N] [--budget k|all] [--seed S] [--mode specialized|blob]
                          [--trace-hash on|off] [--clock MHZ[,MHZ]]
          builds the emitted C with the vectors for T, runs it (host, qemu, simavr), and compares
          logits, prediction, active students, counts and the trace hash of every vector with the
          interpreter; on a mismatch names the first differing student, op, step and neuron.
          --inputs   raw file of N·H·W·C bytes (N inputs, HWC uint8), or one .npy/IDX input
          --random   N random inputs (default 4; 2 with --target lava), seeded by --seed (default 1)
          --target lava: lowers PROGRAM to its Loihi mode, runs it in Lava's bit-accurate models
                     (Python: $SNE_LAVA_PYTHON, else python3 on PATH if it imports lava) and compares
                     spikes, v and u of every loihi_lif op at every step, features and logits
                     (all students: --budget, --mode and --trace-hash do not apply)
          --budget   one budget k, or all (default)
          --trace-hash on (default): build with SNE_TRACE_HASH=1 and compare the hash;
                     off: the deployment build (no hash; everything else is compared)
          --clock    clocks to state the latency at (default per target: cortex-m4 64,84,100,168;
                     cortex-m3 72; riscv32 100,320; avr 16); QEMU counts instructions (the latency
                     at one cycle each is a lower bound), simavr counts cycles (exact)
        """
    let program: String, target: String, inputs: String?, random: Int?, budget: String, seed: Int, mode: EmitMode
    let traceHash: Bool
    let clock: [Double]?
    init(_ args: Arguments) throws {
        var a = args
        guard let t = try a.option("target") else { throw CLIError.usage("sne verify: --target is required (host, cortex-m4, cortex-m3, riscv32, avr, or lava)") }
        target = t
        inputs = try a.option("inputs")
        random = try a.int("random", in: 1...100_000)
        if inputs != nil && random != nil { throw CLIError.usage("sne verify: give --inputs or --random, not both") }
        let budgetOpt = try a.option("budget")
        budget = budgetOpt ?? "all"
        seed = try a.int("seed", in: 0...Int(Int32.max)) ?? 1
        let modeOpt = try a.option("mode")
        let m = modeOpt ?? "specialized"
        guard let md = EmitMode(rawValue: m) else { throw CLIError.usage("sne verify: --mode must be specialized or blob, got '\(m)'") }
        mode = md
        let thOpt = try a.option("trace-hash")
        let th = thOpt ?? "on"
        guard th == "on" || th == "off" else { throw CLIError.usage("sne verify: --trace-hash must be on or off, got '\(th)'") }
        traceHash = th == "on"
        if let c = try a.option("clock") {
            guard let mhz = Latency.parseClocks(c) else { throw CLIError.usage("sne verify: --clock must be MHz values like 84 or 64,168, got '\(c)'") }
            clock = mhz
        } else { clock = nil }
        program = try a.positional("PROGRAM")
        try a.finish()
        if target == "lava" {
            // Lava runs every student of the Loihi mode in one build: refuse what it would ignore.
            for (flag, given) in [("budget", budgetOpt), ("mode", modeOpt), ("trace-hash", thOpt)] where given != nil {
                throw CLIError.usage("sne verify: --\(flag) does not apply to --target lava (Lava runs all students of the Loihi mode; drop --\(flag))")
            }
        }
    }

    func run(out: inout TextSink, err: inout TextSink) throws {
        if target == "lava" { return try LoihiCommands.verify(program, inputs: inputs, random: random, seed: seed, &out) }   // LoihiCommands.swift
        let p = try InputFiles.program(program)
        let t = try cliTarget(target)
        // The compiler and the emulator first: without them nothing can be built or run.
        let missing = t.missingTools
        if !missing.isEmpty {
            throw CLIError.failure("verify on \(t.name) needs \(missing.joined(separator: " and ")), not on PATH; install with: sudo apt-get install -y \(t.package)")
        }
        let budgets = try Budget.parse(budget, command: Self.name, students: p.students.count, allowAll: true)
        var xs: [[UInt8]] = []
        if let path = inputs {
            xs = try InputFiles.batch(path, shape: p.input)
        } else {
            var g = RandomProgram(seed: UInt64(seed))
            xs = (0..<(random ?? 4)).map { _ in g.input(for: p) }
        }
        Progress.warnIfLong(p, budgets: budgets.isEmpty ? Array(1...p.students.count) : budgets, runs: xs.count, command: Self.name, err: &err)
        let r: VerifyReport
        do { r = try Verifier.verify(p, target: t, inputs: xs, budgets: budgets, mode: mode, traceHash: traceHash) }
        catch let e as CodegenError {
            if case .usage(let m) = e { throw CLIError.usage(m) }
            throw CLIError.failure(e.description)
        }
        // The same memory lines as `sne compile` for this target and mode (runtime code and stack
        // measured with the target's compiler), then the whole test ELF, which adds the driver,
        // the test vectors and the port.
        let rm = try? RuntimeMeasure.runtime(t, mode: mode)
        for l in MemoryReport(p, target: t, mode: mode, runtimeCode: rm?.code, stack: rm?.stack).lines { out.write(l + "\n") }
        if let s = r.elfSize { out.write("size (\(t.sizeTool) -B, whole test ELF with driver, \(plural(xs.count, "input")) and port): \(s.trimmingCharacters(in: .whitespaces))\n") }
        if let c = r.countValue, r.vectors > 0 {
            out.write("count: \(r.count ?? "") for \(r.vectors) inferences (+ startup) = \(c / r.vectors) per inference\n")
            let clocks = clock ?? Latency.defaultClocks(t.name)
            if !clocks.isEmpty {
                out.write(Latency(perInference: c / r.vectors, cycles: (r.count ?? "").hasPrefix("cycles")).line(clocks: clocks) + "\n")
            }
        }
        if r.passed {
            out.write("verify \(p.name) on \(t.name): PASS, \(r.vectors) vectors (\(plural(xs.count, "input")) x \(plural(budgets.isEmpty ? p.students.count : 1, "budget"))) bit-exact"
                      + (traceHash ? "\n" : " (trace hash off)\n"))
        } else {
            for m in r.mismatches { out.write("MISMATCH " + m + "\n") }
            throw CLIError.failure("verify \(p.name) on \(t.name): FAIL, \(r.mismatches.count) mismatching vector(s); first: \(r.mismatches[0])")
        }
    }
}
