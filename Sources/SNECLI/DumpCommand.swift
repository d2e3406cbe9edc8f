// `sne dump`: print a program as readable text (spec §10).
import Foundation
import SpikeIR

struct DumpCommand: Command {
    static let name = "dump"
    static let summary = "print a program as readable text"
    static let usage = "usage: sne dump PROGRAM     print one line per section and op (spec §10)"
    let program: String
    init(_ args: Arguments) throws {
        var a = args
        program = try a.positional("PROGRAM")
        try a.finish()
    }
    func run(out: inout TextSink, err: inout TextSink) throws {
        out.write(Dump.text(try InputFiles.program(program)))
    }
}
