// `sne dump`: print a program as readable text.
import Foundation

struct DumpCommand: Command {
    static let name = "dump"
    static let summary = "print a program as readable text"
    static let usage = "usage: sne dump   (not implemented yet)"
    init(_ args: Arguments) throws { try args.finish() }
    func run(out: inout TextSink, err: inout TextSink) throws {
        throw CLIError.failure("not implemented yet")
    }
}
