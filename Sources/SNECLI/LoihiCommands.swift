// `sne compile --target loihi` and `sne verify --target lava` (docs/neuromorphic.md).
import Foundation
import SNECodegen
import SNEPasses
import SpikeIR
import SpikeIRFixtures

enum LoihiCommands {
    /// Lowers `path`'s program to its Loihi mode and writes the Lava-loadable directory.
    static func compile(_ path: String, out dir: String, _ o: inout TextSink) throws {
        try compile(try InputFiles.program(path), out: dir, &o)
    }

    /// Lowers `p` to its Loihi mode and writes the Lava-loadable directory.
    static func compile(_ p: Program, out dir: String, _ o: inout TextSink) throws {
        let (q, notes) = try lowered(p)
        do { try LoihiExport(q).write(to: dir) } catch let e as CodegenError { throw CLIError.failure(e.description) }
        o.write("wrote \(dir.hasSuffix("/") ? String(dir.dropLast()) : dir)/model.json, program.snep (Loihi mode, version \(Program.versionMajor).\(q.fileVersionMinor)), per-op .npy arrays, sne_lava.py, run_lava.sh\n")
        for l in notes.lines { o.write("lowering: \(l)\n") }
        o.write("run: \(dir.hasSuffix("/") ? dir : dir + "/")run_lava.sh INPUT   (runs $SNE_LAVA_PYTHON, else python3; it must import lava)\n")
    }

    static func lowered(_ p: Program) throws -> (Program, LoihiLowering.Notes) {
        do { return try LoihiLowering.lower(p) } catch let e as LoweringError { throw CLIError.failure(e.description) }
    }

    /// Runs the Loihi-mode program in Lava and compares it bit for bit with the interpreter.
    static func verify(_ path: String, inputs: String?, random: Int?, seed: Int, _ o: inout TextSink) throws {
        let p = try InputFiles.program(path)
        // Lava first: without it nothing below can run, so nothing is printed before saying so.
        if let why = LavaVerify.unavailable() { throw CLIError.failure("--target lava: \(why)") }
        let (q, notes) = try lowered(p)
        for l in notes.lines { o.write("lowering: \(l)\n") }
        var xs: [[UInt8]] = []
        if let path = inputs {
            xs = try InputFiles.batch(path, shape: p.input)
        } else {
            var g = RandomProgram(seed: UInt64(seed))
            xs = (0..<(random ?? 2)).map { _ in g.input(for: q) }
        }
        let dir = NSTemporaryDirectory() + "sne-loihi-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        do { try LoihiExport(q).write(to: dir) } catch let e as CodegenError { throw CLIError.failure(e.description) }
        var neurons = 0, agree = 0
        for (i, x) in xs.enumerated() {
            let r: LavaVerify.Result
            do { r = try LavaVerify.check(program: q, dir: dir, input: x) } catch let e as CodegenError { throw CLIError.failure(e.description) }
            if let m = r.firstMismatch {
                throw CLIError.failure("verify \(q.name) on lava: FAIL at input \(i): \(m)")
            }
            neurons += r.neuronsCompared
            if r.lavaPrediction == r.interpPrediction { agree += 1 }
            o.write("input \(i): bit-exact (\(r.neuronsCompared) spike/v/u values, features, logits), prediction \(r.lavaPrediction)\n")
        }
        o.write("verify \(q.name) on lava: PASS, \(plural(xs.count, "input")), \(neurons) neuron-step values bit-exact (T = \(q.timesteps), \(q.students.count) students)\n")
    }
}
