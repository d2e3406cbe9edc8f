// Wall times in the docs cannot drift silently: every time that README.md, docs/*.md or
// examples/*/README.md quotes must be a row of docs/timings.tsv (which docs/time.sh writes with
// the machine, the date and the command), and every row's quote must be in its doc. Nothing is
// timed here: the test reads text only.
import Foundation
import Testing

@Suite struct DocTimingsTests {
    struct Row {
        let id, doc, quote, kind, seconds, date, machine, command: String
    }

    static let file = "docs/timings.tsv"

    static func rows() throws -> [Row] {
        let text = try String(contentsOf: repoRoot.appendingPathComponent(file), encoding: .utf8)
        var rows: [Row] = []
        for line in text.split(separator: "\n").map(String.init) where !line.hasPrefix("#") && !line.hasPrefix("id\t") {
            let c = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            guard c.count == 8 else { Issue.record("\(file): '\(line)' has \(c.count) columns, not 8"); continue }
            rows.append(Row(id: c[0], doc: c[1], quote: c[2], kind: c[3], seconds: c[4], date: c[5], machine: c[6], command: c[7]))
        }
        return rows
    }

    /// The docs whose times are checked.
    static func docs() throws -> [String] {
        let fm = FileManager.default
        var docs = ["README.md"]
        docs += try fm.contentsOfDirectory(atPath: repoRoot.appendingPathComponent("docs").path)
            .filter { $0.hasSuffix(".md") }.sorted().map { "docs/" + $0 }
        docs += try fm.contentsOfDirectory(atPath: repoRoot.appendingPathComponent("examples").path).sorted()
            .map { "examples/\($0)/README.md" }.filter { fm.fileExists(atPath: repoRoot.appendingPathComponent($0).path) }
        return docs
    }

    /// A doc's text with every run of white space made one space (a figure may wrap).
    static func text(_ doc: String) throws -> String {
        let t = try String(contentsOf: repoRoot.appendingPathComponent(doc), encoding: .utf8)
        return t.replacingOccurrences(of: #"\s+"#, with: " ", options: .regularExpression)
    }

    /// A time figure: a number or range and a unit of time ("25 s", "1–5 minutes", "0.2–0.5 s").
    static let figure = try! NSRegularExpression(
        pattern: #"(?<![\w.,])\d+(?:[.,]\d+)?(?:\s?[–-]\s?\d+(?:[.,]\d+)?)?\s?(?:ms|µs|s|min|minutes|seconds|hours|h)(?![\w/=])"#)

    /// Where `quote` stands in `text` as a whole (not inside a longer number or word).
    static func occurrences(_ quote: String, in text: String) -> [NSRange] {
        let re = try! NSRegularExpression(pattern: #"(?<![\w.,])"# + NSRegularExpression.escapedPattern(for: quote) + #"(?!\w)"#)
        return re.matches(in: text, range: NSRange(text.startIndex..., in: text)).map(\.range)
    }

    /// docs/time.sh's format of a measured time (its awk block does the same).
    static func format(_ s: Double) -> String {
        if s < 1 { return String(format: "%.2f s", s) }
        if s < 10 { return String(format: "%.1f s", s) }
        if s < 59.5 { return "\(Int(s + 0.5)) s" }
        let t = Int(s + 0.5)
        if t < 3600 { return "\(t / 60) min \(t % 60) s" }
        return String(format: "%d h %02d min", t / 3600, Int(Double(t % 3600) / 60 + 0.5))
    }

    @Test func everyQuotedTimeIsRecorded() throws {
        let rows = try Self.rows()
        for doc in try Self.docs() {
            let text = try Self.text(doc)
            let covered = rows.filter { $0.doc == doc }.flatMap { Self.occurrences($0.quote, in: text) }
            for m in Self.figure.matches(in: text, range: NSRange(text.startIndex..., in: text))
            where !covered.contains(where: { NSIntersectionRange($0, m.range).length == m.range.length }) {
                let ns = text as NSString
                let context = ns.substring(with: NSRange(location: max(0, m.range.location - 40), length: min(ns.length - max(0, m.range.location - 40), m.range.length + 60)))
                Issue.record("\(doc): '\(ns.substring(with: m.range))' is not in \(Self.file) (…\(context)…); measure it with docs/time.sh ID \(doc) -- COMMAND")
            }
        }
    }

    @Test func everyRecordIsQuotedAndComplete() throws {
        let rows = try Self.rows()
        #expect(!rows.isEmpty)
        #expect(Set(rows.map(\.id)).count == rows.count, "\(Self.file): an id is used twice")
        let docs = Set(try Self.docs())
        for r in rows {
            #expect(docs.contains(r.doc), "\(Self.file) \(r.id): \(r.doc) is not a checked doc")
            if docs.contains(r.doc) {
                #expect(!Self.occurrences(r.quote, in: try Self.text(r.doc)).isEmpty,
                        "\(Self.file) \(r.id): \(r.doc) does not quote '\(r.quote)' (docs/time.sh rewrites a quote it finds once; else edit the doc)")
            }
            #expect(!r.command.isEmpty && r.command != "-", "\(Self.file) \(r.id): no command (or, when not measured, what the figure is)")
            switch r.kind {
            case "measured":
                let s = Double(r.seconds)
                #expect(s != nil && Self.format(s!) == r.quote, "\(Self.file) \(r.id): quote '\(r.quote)' is not the measured \(r.seconds) s (\(s.map(Self.format) ?? "?"))")
                #expect(r.date.range(of: #"^\d{4}-\d\d-\d\d$"#, options: .regularExpression) != nil && r.machine.contains("cores"),
                        "\(Self.file) \(r.id): a measured row names its date and machine (CPU, cores, load)")
            case "carried":
                #expect(r.machine != "-" && !r.machine.isEmpty, "\(Self.file) \(r.id): a carried row says what is known of the machine")
            case "not-measured":
                break
            default:
                Issue.record("\(Self.file) \(r.id): kind '\(r.kind)' is not measured, carried or not-measured")
            }
        }
        let carried = rows.filter { $0.kind == "carried" }.count
        print("docs/timings.tsv: \(rows.count - carried) of \(rows.count) rows measured by docs/time.sh or not times; \(carried) carried over from before it")
    }

    @Test func formatIsTheScripts() {
        #expect(Self.format(0.194) == "0.19 s" && Self.format(6.54) == "6.5 s" && Self.format(12.38) == "12 s")
        #expect(Self.format(74.03) == "1 min 14 s" && Self.format(59.6) == "1 min 0 s" && Self.format(3930) == "1 h 06 min")
    }
}
