// `sne compile`: emit C99 for a target from a program.
import Foundation

struct CompileCommand: Command {
    static let name = "compile"
    static let summary = "emit C99 for a target from a program"
    static let usage = "usage: sne compile   (not implemented yet)"
    init(_ args: Arguments) throws { try args.finish() }
    func run(out: inout TextSink, err: inout TextSink) throws {
        throw CLIError.failure("not implemented yet")
    }
}
