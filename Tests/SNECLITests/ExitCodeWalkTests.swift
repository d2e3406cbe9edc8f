// One exit-code rule for every command (0 ok, 1 the work failed, 2 bad input or usage), walked
// over every command: a missing file, a malformed file, an unknown flag, and a typo of each
// required flag, each checked for its code and its one-line message.
import Foundation
import Testing
@testable import SNECLI

@Suite struct ExitCodeWalkTests {
    static let dir: String = {
        let d = NSTemporaryDirectory() + "sne-walk-\(getpid())"
        try? FileManager.default.removeItem(atPath: d)
        try? FileManager.default.createDirectory(atPath: d + "/baddata/fashion-mnist", withIntermediateDirectories: true)
        let junk = Data("this is not what the reader expects\n".utf8)
        _ = FileManager.default.createFile(atPath: d + "/junk.bin", contents: junk)
        for f in ["train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"] {
            _ = FileManager.default.createFile(atPath: d + "/baddata/fashion-mnist/" + f, contents: junk)
        }
        return d
    }()
    static let program = repoRoot.appendingPathComponent("examples/programs/fmnist4.snep").path
    static let model = repoRoot.appendingPathComponent("examples/models/digits/model.sne").path
    static let image = repoRoot.appendingPathComponent("examples/programs/fmnist-test-0.u8").path

    /// One line on stderr, nothing on stdout that looks like results, the expected code.
    func expect(_ argv: [String], code: Int32, says phrase: String, _ loc: SourceLocation = #_sourceLocation) {
        let (c, _, err) = sne(argv)
        #expect(c == code, "\(argv): exit \(c), expected \(code): \(err)", sourceLocation: loc)
        #expect(err.contains(phrase), "\(argv): '\(err)' does not say '\(phrase)'", sourceLocation: loc)
        #expect(err.hasSuffix("\n") && err.dropLast().split(separator: "\n", omittingEmptySubsequences: false).count == 1,
                "\(argv): not one line: \(err)", sourceLocation: loc)
    }

    @Test func missingAndMalformedFilesAreBadInput() {
        let missing = Self.dir + "/missing.bin", junk = Self.dir + "/junk.bin", bad = Self.dir + "/baddata"
        // (argv with FILE standing for the file under test)
        let perFile: [[String]] = [
            ["eval", "FILE"],
            ["compile", "FILE", "-o", Self.dir + "/x.snep", "--data", bad],
            ["compile", "FILE", "--target", "host", "-o", Self.dir + "/c"],
            ["compile", "FILE", "--target", "loihi", "-o", Self.dir + "/l"],
            ["check", "FILE", Self.program, "--data", bad],
            ["check", Self.model, "FILE", "--data", bad],
            ["run", "FILE", "--input", Self.image],
            ["run", Self.program, "--input", "FILE"],
            ["info", "FILE"],
            ["info", Self.program, "--input", "FILE"],
            ["dump", "FILE"],
            ["verify", "FILE", "--target", "host"],
            ["verify", Self.program, "--target", "host", "--inputs", "FILE"],
            ["export", "FILE", "--nir", Self.dir + "/x.nir"],
            ["train", "teacher", "--config", "FILE", "--out", Self.dir + "/r"],
        ]
        for argv in perFile {
            expect(argv.map { $0 == "FILE" ? missing : $0 }, code: 2, says: "\(missing): no such file")
            let j = argv.map { $0 == "FILE" ? junk : $0 }
            let (c, _, err) = sne(j)
            #expect(c == 2 && err.contains(junk) && err.split(separator: "\n").count == 1, "\(j): exit \(c): \(err)")
        }
        // Datasets: missing and malformed data folders.
        for argv in [["demo", "--data", "DATA", "--out", Self.dir + "/demo"], ["train", "teacher", "--data", "DATA", "--out", Self.dir + "/t"],
                     ["eval", Self.model, "--data", "DATA", "--dataset", "fashion-mnist"],
                     ["compile", Self.model, "-o", Self.dir + "/y.snep", "--data", "DATA"],
                     ["check", Self.model, Self.program, "--data", "DATA"],
                     ["example", "mnist-cnn", "--data", "DATA", "--dataset", "fashion-mnist"]] {
            let m = sne(argv.map { $0 == "DATA" ? missing : $0 })
            #expect(m.0 == 2 && m.2.contains(missing), "\(argv) missing data: exit \(m.0): \(m.2)")
            let b = sne(argv.map { $0 == "DATA" ? bad : $0 })
            #expect(b.0 == 2 && b.2.contains(bad), "\(argv) malformed data: exit \(b.0): \(b.2)")
        }
        #expect(!FileManager.default.fileExists(atPath: Self.dir + "/demo/config.json"))
        #expect(!FileManager.default.fileExists(atPath: Self.dir + "/t/config.json"))
    }

    @Test func unknownFlagsAreReportedAsUnknownInEveryCommand() {
        for c in SNECLI.commands {
            expect([c.name, "--no-such-flag", "1"], code: 2, says: "sne \(c.name): unknown flag --no-such-flag")
        }
    }

    /// A typo of each required flag is an unknown flag with the right suggestion, never "missing".
    @Test func typoOfEachRequiredFlagSuggestsIt() {
        let cases: [([String], String, String)] = [
            (["verify", Self.program, "--targt", "host"], "targt", "target"),
            (["compile", Self.program, "--trget", "host", "-o", Self.dir + "/c"], "trget", "target"),
            (["compile", Self.model, "-o", Self.dir + "/z.snep", "--dat", Self.dir], "dat", "data"),
            (["check", Self.model, Self.program, "--dta", Self.dir], "dta", "data"),
            (["run", Self.program, "--inptu", Self.image], "inptu", "input"),
            (["export", Self.program, "--nri", Self.dir + "/x.nir"], "nri", "nir"),
            (["train", "student", "--indx", "0"], "indx", "index"),
            (["demo", "--ouy", Self.dir + "/d"], "ouy", "out"),
            (["eval", Self.model, "--limt", "5"], "limt", "limit"),
            (["info", Self.program, "--inpt", Self.image], "inpt", "input"),
            (["vectors", "--fmnst", Self.dir + "/f.snep"], "fmnst", "fmnist"),
        ]
        for (argv, typo, right) in cases {
            expect(argv, code: 2, says: "unknown flag --\(typo); did you mean --\(right)?")
            #expect(!sne(argv).2.contains("required"), "\(argv)")
        }
        expect(["verfy"], code: 2, says: "unknown command 'verfy'; did you mean 'verify'?")
    }

    /// Every flag a command reads is in its --help (the unknown-flag check relies on it), so a
    /// correct flag is never refused: each command accepts `--help` and parses its documented flags.
    @Test func everyHelpListsItsFlags() {
        for c in SNECLI.commands {
            let flags = Arguments.flags(in: c.usage)
            #expect(flags.count > 1 || c.name == "dump", "\(c.name): --help names no flag")
        }
        #expect(Arguments.closest("targt", in: ["target", "trace"]) == "target")
        #expect(Arguments.closest("zzzzzz", in: ["target", "trace"]) == nil)
    }

    @Test func controlCharactersInEchoedValuesAreEscaped() {
        let r = sne(["run", Self.program, "--input", Self.image, "--budget", "2\nX"])
        #expect(r.0 == 2 && r.2.contains("2\\nX") && r.2.split(separator: "\n").count == 1, "\(r.2)")
        let u = sne(["run", Self.program, "--input", Self.image, "--bu\u{1B}[31m", "2"])
        #expect(u.0 == 2 && u.2.contains("\\u{1B}[31m") && !u.2.contains("\u{1B}"), "\(u.2)")
        let f = sne(["info", Self.dir + "/a\nb.snep"])
        #expect(f.0 == 2 && f.2.contains("a\\nb.snep") && f.2.split(separator: "\n").count == 1, "\(f.2)")
    }
}

@Suite struct LoaderDecisionCLITests {
    /// docs/loaders.md §6 decision 3: a gzipped program is refused with the fix, exit 2.
    @Test func gzippedProgramIsRefusedWithTheFix() throws {
        let dir = NSTemporaryDirectory() + "sne-gz-cli-\(getpid())"
        try? FileManager.default.removeItem(atPath: dir)
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let p = dir + "/p.snep"
        try FileManager.default.copyItem(atPath: ExitCodeWalkTests.program, toPath: p)
        let g = Process(); g.executableURL = URL(fileURLWithPath: "/usr/bin/env"); g.arguments = ["gzip", "-n", p]
        try g.run(); g.waitUntilExit()
        for cmd in ["info", "dump"] {
            let r = sne([cmd, p + ".gz"])
            #expect(r.0 == 2 && r.2.contains("is gzip-compressed; Spike IR programs are read uncompressed (gunzip it first)"), "\(r.2)")
        }
    }
}
