// `sne verify`: check the emitted C bit-exactly against the interpreter on a target.
import Foundation

struct VerifyCommand: Command {
    static let name = "verify"
    static let summary = "check the emitted C bit-exactly against the interpreter on a target"
    static let usage = "usage: sne verify   (not implemented yet)"
    init(_ args: Arguments) throws { try args.finish() }
    func run(out: inout TextSink, err: inout TextSink) throws {
        throw CLIError.failure("not implemented yet")
    }
}
