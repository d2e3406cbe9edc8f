// `sne vectors`: regenerates the Spike IR conformance vectors and the example program
// (maintainers; called by Tests/SpikeIRTests/Vectors/regenerate.sh and examples/programs/make.sh).
import Foundation
import SNEBase
import SpikeIR
import SpikeIRFixtures

struct ConformanceGenCommand: Command {
    static let name = "vectors"
    static let summary = "(maintainers) regenerate conformance vectors / the example program"
    static let usage = """
        usage: sne vectors OUTDIR [--count N] [--seed S]
               sne vectors --fmnist FILE.snep
          writes N random valid programs (tiny limits) with one input each and the expected
          outputs for every budget (vNN.snep, vNN.input.u8, vNN.expected.json) plus the
          edge-value programs (eNN.*), or the Fashion-MNIST-sized fixture program
        """
    let outdir: String?, fmnist: String?, count: Int, seed: Int
    init(_ args: Arguments) throws {
        var a = args
        fmnist = try a.option("fmnist")
        count = try a.int("count", in: 1...1000) ?? 24
        seed = try a.int("seed", in: 0...Int(Int32.max)) ?? 2024
        outdir = a.optionalPositional()
        try a.finish()
        if (outdir == nil) == (fmnist == nil) { throw CLIError.usage("sne vectors: give OUTDIR or --fmnist FILE") }
    }

    func run(out: inout TextSink, err: inout TextSink) throws {
        do {
            if let f = fmnist {
                try ProgramFile.write(Fixtures.fmnistSized(seed: 1), path: f)
                out.write("wrote \(f)\n"); return
            }
            guard let dir = outdir else { return }
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            for (name, bytes) in try ConformanceVectors.generate(count: count, seed: UInt64(seed)) {
                try AtomicFile.write(bytes, to: (dir as NSString).appendingPathComponent(name))
            }
            out.write("wrote \(count) vectors to \(dir)\n")
        } catch let e as SpikeIRError { throw CLIError.failure(e.description) }
    }
}

/// The conformance vector files (name → bytes). Program i uses generator seed `seed + i`; the
/// limits alternate between tiny and default so both very small and larger programs appear.
/// vNN have no stem (their files predate 2.2 and stay byte-identical); wNN are random programs
/// that all have a shared stem (the same seeds, `stemChance` 1); sNN the hand-built stem cases
/// (StemFixtures); eNN the edge values (Fixtures.edgePrograms).
enum ConformanceVectors {
    static func generate(count: Int, seed: UInt64) throws -> [(String, [UInt8])] {
        var cases: [(String, Program, [UInt8])] = []
        for i in 0..<count {
            var lim = i % 2 == 0 ? RandomProgram.Limits.tiny : RandomProgram.Limits()
            lim.stemChance = 0
            var gen = RandomProgram(seed: seed &+ UInt64(i), limits: lim)
            let p = gen.program()
            cases.append((String(format: "v%02d", i), p, gen.input(for: p)))
        }
        // Spike IR 2.2: random programs with a shared stem (every one of them has one)
        for i in 0..<min(count, 8) {
            var lim = i % 2 == 0 ? RandomProgram.Limits.tiny : RandomProgram.Limits()
            lim.stemChance = 1
            var gen = RandomProgram(seed: seed &+ UInt64(i), limits: lim)
            let p = gen.program()
            cases.append((String(format: "w%02d", i), p, gen.input(for: p)))
        }
        // Spike IR 2.2: the shared stem's cases (StemFixtures.programs)
        for (i, (p, x)) in StemFixtures.programs().enumerated() { cases.append((String(format: "s%02d", i), p, x)) }
        // Spike IR 2.0 fields at their edge values (Fixtures.edgePrograms)
        for (i, (p, x)) in Fixtures.edgePrograms().enumerated() { cases.append((String(format: "e%02d", i), p, x)) }
        var files: [(String, [UInt8])] = []
        for (stem, p, x) in cases {
            files.append(("\(stem).snep", try ProgramFile.encode(p)))
            files.append(("\(stem).input.u8", x))
            let interp = try Interpreter(p)
            var results: [String] = []
            for k in 1...p.students.count { results.append(ResultJSON.result(try interp(x, budget: k), budget: k)) }
            let json = "{\"program\":\"\(stem).snep\",\"input\":\"\(stem).input.u8\",\"students\":\(p.students.count),\"results\":[\n"
                + results.joined(separator: ",\n") + "\n]}\n"
            files.append(("\(stem).expected.json", Array(json.utf8)))
        }
        return files
    }
}
