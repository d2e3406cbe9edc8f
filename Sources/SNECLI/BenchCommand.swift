// `sne bench`: benchmarks (release build): kernels, training, interpreter.
import Foundation

struct BenchCommand: Command {
    static let name = "bench"
    static let summary = "benchmarks (release build): kernels, training, interpreter"
    static let usage = "usage: sne bench   (not implemented yet)"
    init(_ args: Arguments) throws { try args.finish() }
    func run(out: inout TextSink, err: inout TextSink) throws {
        throw CLIError.failure("not implemented yet")
    }
}
