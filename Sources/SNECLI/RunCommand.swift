// `sne run`: run a program on one input in the reference interpreter.
import Foundation

struct RunCommand: Command {
    static let name = "run"
    static let summary = "run a program on one input in the reference interpreter"
    static let usage = "usage: sne run   (not implemented yet)"
    init(_ args: Arguments) throws { try args.finish() }
    func run(out: inout TextSink, err: inout TextSink) throws {
        throw CLIError.failure("not implemented yet")
    }
}
