// `sne lava-vecs`: regenerates the Loihi conformance vectors WITH Lava (maintainers; called by
// Tests/SpikeIRTests/LoihiVectors/regenerate.sh). Each vector is a random Loihi-mode program
// (LoihiFixtures), one input, and the trace Lava's bit-accurate models produced for it.
import Foundation
import SNEBase
import SNECodegen
import SpikeIR
import SpikeIRFixtures

struct LoihiVectorsCommand: Command {
    static let name = "lava-vecs"
    static let summary = "(maintainers) regenerate the Loihi conformance vectors with Lava"
    static let usage = """
        usage: sne lava-vecs OUTDIR [--count N] [--seed S]
          writes N random Loihi-mode programs (lNN.snep), one input each (lNN.input.u8) and the
          trace Lava produced (lNN.lava.json: spikes, v, u per loihi_lif op and step, features,
          logits); needs Lava ($SNE_LAVA_PYTHON, else python3 if it imports lava)
        """
    let outdir: String, count: Int, seed: Int
    init(_ args: Arguments) throws {
        var a = args
        count = try a.int("count", in: 1...200) ?? 16
        seed = try a.int("seed", in: 0...Int(Int32.max)) ?? 11
        outdir = try a.positional("OUTDIR")
        try a.finish()
    }

    func run(out: inout TextSink, err: inout TextSink) throws {
        if let why = LavaVerify.unavailable() { throw CLIError.failure("sne lava-vecs: \(why)") }
        try FileManager.default.createDirectory(atPath: outdir, withIntermediateDirectories: true)
        var gen = LoihiFixtures(seed: UInt64(seed))
        var inputs = SplitMix64(seed: UInt64(seed) &+ 99)
        for i in 0..<count {
            let p = gen.program()
            let x: [UInt8] = (0..<p.input.size).map { _ in
                inputs.chance(0.3) ? 0 : UInt8(inputs.int(0...255))
            }
            let stem = (outdir as NSString).appendingPathComponent(String(format: "l%02d", i))
            let dir = NSTemporaryDirectory() + "sne-loihi-vec-\(UUID().uuidString)"
            defer { try? FileManager.default.removeItem(atPath: dir) }
            do {
                try LoihiExport(p).write(to: dir)
                let trace = try LavaVerify.run(dir: dir, input: x)
                let r = try LavaVerify.compare(program: p, lavaTrace: trace, input: x)
                try ProgramFile.write(p, path: stem + ".snep")
                try AtomicFile.write(x, to: stem + ".input.u8")
                try AtomicFile.write(trace, to: stem + ".lava.json")
                out.write("\(stem): \(r.firstMismatch.map { "DIFFERS from the interpreter: " + $0 } ?? "interpreter bit-exact (\(r.neuronsCompared) values)")\n")
            } catch let e as CodegenError { throw CLIError.failure(e.description) }
            catch let e as SpikeIRError { throw CLIError.failure(e.description) }
        }
    }
}
