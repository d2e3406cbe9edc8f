// Figures in the READMEs that the tool prints (memory reports, stop margins, flash/RAM sizes) are
// checked against the tool's own output, so they cannot drift: a change of the runtime or of a
// shipped program fails here until `docs/update-figures.sh` (SNE_UPDATE_DOCS=1 with this suite)
// rewrites them.
import Foundation
import Testing
@testable import SNECLI
import SNECodegen
import SpikeIR

@Suite(.serialized) struct DocFiguresTests {
    static let update = ProcessInfo.processInfo.environment["SNE_UPDATE_DOCS"] == "1"
    static func path(_ rel: String) -> String { repoRoot.appendingPathComponent(rel).path }

    /// The `memory (T): …` lines `sne compile PROGRAM --target T` prints.
    static func memoryLines(_ program: String, _ target: String) -> [String]? {
        let dir = NSTemporaryDirectory() + "sne-docfig-\(getpid())-\(target)"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let r = sne(["compile", path(program), "--target", target, "-o", dir])
        guard r.0 == 0 else { return nil }
        return r.1.split(separator: "\n").map(String.init).filter { $0.hasPrefix("memory (\(target)):") }
    }

    /// Replaces (update mode) or checks each line of `file` that starts with `prefix` of one of `lines`.
    static func sync(_ file: String, _ lines: [String], prefixLength: (String) -> String) throws {
        let p = path(file)
        var text = try String(contentsOfFile: p, encoding: .utf8)
        for want in lines {
            let prefix = prefixLength(want)
            let have = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init).filter {
                $0.trimmingCharacters(in: .whitespaces).hasPrefix(prefix)
            }
            #expect(!have.isEmpty, "\(file): no line starting '\(prefix)'")
            for h in have where h.trimmingCharacters(in: .whitespaces) != want {
                if update {
                    let indent = String(h.prefix { $0 == " " })
                    text = text.replacingOccurrences(of: h, with: indent + want)
                } else {
                    Issue.record("\(file): '\(h.trimmingCharacters(in: .whitespaces))' but sne prints '\(want)' (run docs/update-figures.sh)")
                }
            }
        }
        if update { try text.write(toFile: p, atomically: true, encoding: .utf8) }
    }

    static func memoryPrefix(_ line: String) -> String {
        // "memory (host): flash" / "memory (host): RAM"
        let parts = line.split(separator: " ")
        return parts.prefix(3).joined(separator: " ")
    }

    @Test func memoryReportsInTheExampleReadmes() throws {
        let cases: [(String, String, String)] = [
            ("examples/c-dropin/README.md", "examples/programs/fmnist4.snep", "host"),
            ("examples/cortex-m4/README.md", "examples/programs/fmnist4.snep", "cortex-m4"),
            ("examples/digits/README.md", "examples/models/digits/digits_sne.snep", "avr"),
        ]
        for (file, program, target) in cases {
            let t = try Target.named(target)
            guard t.toolchainPresent else { print("skipping \(file): \(t.compiler) not installed (the runtime code size needs it)"); continue }
            guard let lines = Self.memoryLines(program, target), lines.count == 2 else { Issue.record("compile \(program) for \(target) failed"); continue }
            try Self.sync(file, lines, prefixLength: Self.memoryPrefix)
        }
    }

    @Test func fashionMNISTFigures() throws {
        let p = try ProgramFile.read(path: Self.path("examples/models/fashion-mnist/fashion_sne.snep"))
        let margin = try #require(p.stopMargin)
        let file = "examples/fashion-mnist/README.md"
        let text = try String(contentsOfFile: Self.path(file), encoding: .utf8)
        let marginLine = "| confidence (stop margin \(margin) integer steps) |"
        let m = MemoryReport(p, target: try Target.named("cortex-m4"))
        let sizes = "Flash \(Int((Double(m.flash) / 1000).rounded())) KB (tables + descriptor), RAM \(Int((Double(m.ram) / 1000).rounded())) KB (arena + context) per MCU target;"
        if Self.update {
            var t = text
            t = t.replacingOccurrences(of: #"\| confidence \(stop margin \d+ integer steps\) \|"#, with: marginLine, options: .regularExpression)
            t = t.replacingOccurrences(of: #"Flash \d+ KB \(tables \+ descriptor\), RAM \d+ KB \(arena \+ context\) per MCU target;"#, with: sizes, options: .regularExpression)
            try t.write(toFile: Self.path(file), atomically: true, encoding: .utf8)
        } else {
            #expect(text.contains(marginLine), "\(file): the program's stop margin is \(margin) (run docs/update-figures.sh)")
            #expect(text.contains(sizes), "\(file): expected '\(sizes)' (run docs/update-figures.sh)")
        }
    }

    /// The README's table of the shipped Fashion-MNIST model: float and integer accuracy and energy
    /// per budget and in confidence mode, as `sne check` measures them on all 10,000 test images.
    @Test func shippedModelAccuracyTable() throws {
        guard let data = TrainProcessTests.dataRoot, FileManager.default.fileExists(atPath: data + "/fashion-mnist") else {
            Issue.record("needs ../shared/data/fashion-mnist (the README's figures are measured on its 10,000 test images)"); return
        }
        let dir = "examples/models/fashion-mnist/"
        let r = sne(["check", Self.path(dir + "model.sne"), Self.path(dir + "fashion_sne.snep"), "--data", data, "--limit", "10000", "--json"])
        guard r.0 == 0, let j = (try? JSONSerialization.jsonObject(with: Data(r.1.utf8))) as? [String: Any],
              let budgets = j["budgets"] as? [[String: Any]], let conf = j["confidence"] as? [String: Any] else {
            Issue.record("sne check of the shipped model failed: \(r.2)"); return
        }
        func pct(_ v: Any?) -> String { String(format: "%.2f %%", 100 * ((v as? Double) ?? .nan)) }
        func uj(_ v: Any?) -> String { String(format: "%.3f", (v as? Double) ?? .nan) }
        var rows: [String] = []
        for b in budgets {
            let k = (b["budget"] as? Int) ?? 0
            let lead = k == 1 ? "| SNE, K = 4 students 4/16/64 (conv1 stride 2), T = 4, cascade (fixed order) | first 1 |" : "| | first \(k) |"
            rows.append("\(lead) \(pct(b["float_accuracy"])) | **\(pct(b["int_accuracy"]))** | \(uj(b["energy_uj"])) |")
        }
        let students = String(format: "%.2f", (conf["int_students"] as? Double) ?? .nan)
        rows.append("| | confidence stop (\(students) students) | \(pct(conf["float_accuracy"])) | **\(pct(conf["int_accuracy"]))** | \(uj(conf["energy_uj"])) |")
        // A row is found by what precedes its first number (the model and budget cells).
        try Self.sync("README.md", rows) { line in
            let cells = line.split(separator: "|", omittingEmptySubsequences: false)
            let head = cells.prefix(3).joined(separator: "|")
            return head.replacingOccurrences(of: #"\(\d+\.\d+ students\)"#, with: "(", options: .regularExpression)
                .components(separatedBy: "(").first!
        }
    }

    /// The command reference in docs/user-guide.md is the commands' own --help
    /// (docs/make-user-guide.sh writes it).
    @Test func userGuideIsTheHelpText() throws {
        let guide = try String(contentsOfFile: Self.path("docs/user-guide.md"), encoding: .utf8)
        for c in SNECLI.commands {
            let block = "### sne \(c.name)\n\n```\n" + sne([c.name, "--help"]).1 + "```\n"
            #expect(guide.contains(block), "docs/user-guide.md: the section of sne \(c.name) is not its --help (run docs/make-user-guide.sh)")
        }
    }
}
