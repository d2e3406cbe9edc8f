// `sne info`: shapes, parameters, RAM/flash needs and op estimate of a program.
import Foundation

struct InfoCommand: Command {
    static let name = "info"
    static let summary = "shapes, parameters, RAM/flash needs and op estimate of a program"
    static let usage = "usage: sne info   (not implemented yet)"
    init(_ args: Arguments) throws { try args.finish() }
    func run(out: inout TextSink, err: inout TextSink) throws {
        throw CLIError.failure("not implemented yet")
    }
}
