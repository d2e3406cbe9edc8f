// The dispatcher: help, unknown commands and exit codes.
import Testing
@testable import SNECLI

@Suite struct CLITests {
    @Test func helpListsEveryCommand() {
        let (code, out, _) = sne(["help"])
        #expect(code == 0)
        for c in SNECLI.commands { #expect(out.contains(c.name)) }
    }

    @Test func unknownCommandIsUsageError() {
        let (code, _, err) = sne(["frobnicate"])
        #expect(code == 2)
        #expect(err.contains("unknown command 'frobnicate'"))
    }

    @Test func unknownFlagIsUsageError() {
        let a = Arguments(command: "x", ["--bogus", "1"])
        #expect(throws: CLIError.self) { try a.finish() }
    }

    @Test func argumentsParse() throws {
        var a = Arguments(command: "x", ["prog.snep", "--budget", "3", "--trace=t.json", "--verbose"])
        let budget = try a.int("budget", in: 1...16)
        let trace = try a.option("trace")
        let verbose = a.flag("verbose")
        let program = try a.positional("program")
        #expect(budget == 3 && trace == "t.json" && verbose && program == "prog.snep")
        try a.finish()
    }
}
