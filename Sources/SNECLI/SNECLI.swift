// The `sne` command table and dispatcher: `sne help`, `sne <cmd> --help`, exit codes 0/1/2.
import Foundation
import SNEData

public enum SNECLI {
    /// Every subcommand, in the order `sne help` lists them (pipeline order).
    public static let commands: [any Command.Type] = [
        DemoCommand.self,
        TrainCommand.self, EvalCommand.self,
        RunCommand.self, InfoCommand.self, DumpCommand.self,
        CompileCommand.self, CheckCommand.self, VerifyCommand.self, ExportCommand.self,
        BenchCommand.self,
        ExampleCommand.self,
        ConformanceGenCommand.self, LoihiVectorsCommand.self,
    ]

    /// Runs `sne` with `argv` (without the program name) and returns the exit code.
    public static func main(_ argv: [String]) -> Int32 {
        var out = TextSink.stdout, err = TextSink.stderr
        return main(argv, out: &out, err: &err)
    }

    /// Testable entry point: output goes to the given sinks.
    public static func main(_ argv: [String], out: inout TextSink, err: inout TextSink) -> Int32 {
        guard let word = argv.first, !["help", "--help", "-h"].contains(word) else {
            if argv.count > 1, let c = commands.first(where: { $0.name == argv[1] }) {
                out.write(c.usage + "\n"); return 0
            }
            out.write(helpText); return 0
        }
        if word == "--version" || word == "version" { out.write("sne \(version)\n"); return 0 }
        guard let cmd = commands.first(where: { $0.name == word }) else {
            let near = Arguments.closest(word, in: Set(commands.map { $0.name })).map { "; did you mean '\($0)'?" } ?? ""
            err.write("sne: unknown command '\(CLIText.escaped(word))'\(near) (see 'sne help')\n"); return ExitCode.usage
        }
        let args = Arguments(command: word, Array(argv.dropFirst()))
        if args.wantsHelp { out.write(cmd.usage + "\n"); return 0 }
        do {
            try args.checkKnown(Arguments.flags(in: cmd.usage))
            let c = try cmd.init(args)
            try c.run(out: &out, err: &err)
            return ExitCode.ok
        } catch let e as CLIError {
            err.write(Self.oneLine("sne \(word): \(e.description)".replacingOccurrences(of: "sne \(word): sne \(word): ", with: "sne \(word): ")))
            return e.exitCode
        } catch let e as DataError {
            err.write(Self.oneLine("sne \(word): \(e.message)")); return ExitCode.usage
        } catch let e as CocoaError {
            // A file operation outside the checked paths: name the file and the POSIX reason,
            // never Foundation's NSCocoaErrorDomain text.
            let reason = (e.userInfo[NSUnderlyingErrorKey] as? NSError).map { String(cString: strerror(Int32($0.code))) } ?? "file operation failed"
            err.write("sne \(word): \(e.filePath ?? "a file"): \((256..<512).contains(e.code.rawValue) ? "cannot read" : "cannot write") (\(reason))\n")
            return ExitCode.failure
        } catch {
            err.write(Self.oneLine("sne \(word): \(error)")); return ExitCode.failure
        }
    }

    /// A message as one line: a newline or other control character that reached it (in an echoed
    /// file name, program name or value) is escaped, so the error never spans two lines.
    static func oneLine(_ m: String) -> String { CLIText.escaped(m) + "\n" }

    public static let version = "0.1.0"

    static var helpText: String {
        var s = "sne \(version) — spiking neural ensembles: train, compile to integer spike programs, emit C, verify\n\n"
        s += "usage: sne <command> [flags]    (sne <command> --help for its flags)\n\ncommands:\n"
        for c in commands { s += "  " + c.name.padding(toLength: 10, withPad: " ", startingAt: 0) + c.summary + "\n" }
        return s
    }
}
