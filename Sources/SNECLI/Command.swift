// The command protocol, the flag parser and the error type every `sne` subcommand shares.
import Foundation

/// One `sne` subcommand. `run` returns normally on success and throws `CLIError` otherwise.
public protocol Command: Sendable {
    /// The word after `sne`.
    static var name: String { get }
    /// One line for `sne help`.
    static var summary: String { get }
    /// The full `sne <cmd> --help` text: usage line, then one line per flag.
    static var usage: String { get }
    /// Parses and validates the flags (no work is done here), or throws `CLIError.usage`.
    init(_ args: Arguments) throws
    /// Does the work, writing results to `out` and progress to `err`.
    func run(out: inout TextSink, err: inout TextSink) throws
}

/// Where a command writes text; stdout/stderr in the executable, strings in tests.
public struct TextSink: TextOutputStream {
    private let handle: FileHandle?
    public private(set) var captured = ""
    public static var stdout: TextSink { TextSink(handle: .standardOutput) }
    public static var stderr: TextSink { TextSink(handle: .standardError) }
    public static func capture() -> TextSink { TextSink(handle: nil) }
    init(handle: FileHandle?) { self.handle = handle }
    public mutating func write(_ string: String) {
        if let handle { handle.write(Data(string.utf8)) } else { captured += string }
    }
}

/// The exit codes of every `sne` command, defined once (README "Exit codes").
public enum ExitCode {
    /// The command did what was asked.
    public static let ok: Int32 = 0
    /// The work failed: a verify mismatch, a toolchain or emulator failure, an output not written.
    public static let failure: Int32 = 1
    /// The command line or an input it names is wrong: unknown flag, value out of range, missing,
    /// unreadable or malformed input file or program. Nothing was run.
    public static let usage: Int32 = 2
}

/// A failed command; the message is one line naming the file or flag, what is wrong, and the fix.
public enum CLIError: Error, Equatable, CustomStringConvertible {
    /// A wrong flag or value (exit 2).
    case usage(String)
    /// A missing, unreadable or malformed input file or program (exit 2).
    case input(String)
    /// The work itself failed (exit 1).
    case failure(String)
    public var description: String {
        switch self {
        case .usage(let m), .input(let m), .failure(let m): return m
        }
    }
    public var exitCode: Int32 {
        switch self {
        case .usage, .input: return ExitCode.usage
        case .failure: return ExitCode.failure
        }
    }
}

/// A parsed command line: `--flag value`, `--flag=value`, boolean `--flag`, and positionals.
///
/// Commands take what they know with `option`/`flag`/`positional`, then call `finish()`, which
/// rejects anything left over, so a misspelt flag is a usage error rather than silently ignored.
public struct Arguments: Sendable {
    private var options: [(name: String, value: String?)] = []
    private var positionals: [String] = []
    private var consumed: Set<Int> = []
    private var usedPositionals = 0
    public let command: String

    /// Splits `argv` (without the command word). A token `--x` followed by a token that does not
    /// start with `--` is an option with a value unless the command asks for it as a `flag`.
    public init(command: String, _ argv: [String]) {
        self.command = command
        var i = 0
        while i < argv.count {
            let a = argv[i]
            if a == "--" {
                positionals.append(contentsOf: argv[(i + 1)...]); break
            }
            if a.hasPrefix("--") && a.count > 2 {
                let body = a.dropFirst(2)
                if let eq = body.firstIndex(of: "=") {
                    options.append((String(body[..<eq]), String(body[body.index(after: eq)...])))
                } else if i + 1 < argv.count, !argv[i + 1].hasPrefix("--") {
                    options.append((String(body), argv[i + 1])); i += 1
                } else {
                    options.append((String(body), nil))
                }
            } else {
                positionals.append(a)
            }
            i += 1
        }
    }

    /// True when `--help` or `-h` was given.
    public var wantsHelp: Bool {
        options.contains { $0.name == "help" } || positionals.contains("-h")
    }

    /// The value of `--name`, or nil when absent. A flag given twice or without a value is a usage error.
    public mutating func option(_ name: String) throws -> String? {
        let hits = options.indices.filter { options[$0].name == name }
        guard let i = hits.first else { return nil }
        if hits.count > 1 { throw CLIError.usage("sne \(command): --\(name) given more than once") }
        consumed.insert(i)
        guard let v = options[i].value else { throw CLIError.usage("sne \(command): --\(name) needs a value") }
        return v
    }

    /// `--name` parsed as an integer in `range`, or nil when absent.
    public mutating func int(_ name: String, in range: ClosedRange<Int>) throws -> Int? {
        guard let s = try option(name) else { return nil }
        guard let v = Int(s), range.contains(v) else {
            throw CLIError.usage("sne \(command): --\(name) must be an integer \(Arguments.describe(range)), got '\(CLIText.escaped(s))'")
        }
        return v
    }

    /// "1…K", "≥ 0" or "≤ 5" (an open side is not printed as Int.min / Int.max).
    static func describe(_ r: ClosedRange<Int>) -> String {
        switch (r.lowerBound == Int.min, r.upperBound == Int.max) {
        case (true, true): return "(any)"
        case (false, true): return "≥ \(r.lowerBound)"
        case (true, false): return "≤ \(r.upperBound)"
        default: return "\(r.lowerBound)…\(r.upperBound)"
        }
    }

    /// `--name` parsed as a finite number, or nil when absent.
    public mutating func double(_ name: String) throws -> Double? {
        guard let s = try option(name) else { return nil }
        guard let v = Double(s), v.isFinite else {
            throw CLIError.usage("sne \(command): --\(name) must be a number, got '\(CLIText.escaped(s))'")
        }
        return v
    }

    /// True when the boolean `--name` is present. A boolean flag that swallowed the next word as
    /// its value gives the word back as a positional.
    public mutating func flag(_ name: String) -> Bool {
        guard let i = options.firstIndex(where: { $0.name == name }) else { return false }
        consumed.insert(i)
        if let v = options[i].value { positionals.append(v); options[i].value = nil }
        return true
    }

    /// The next positional argument, or a usage error naming `what`.
    public mutating func positional(_ what: String) throws -> String {
        guard let v = optionalPositional() else {
            throw CLIError.usage("sne \(command): missing \(what) (see 'sne \(command) --help')")
        }
        return v
    }

    /// The next positional argument, or nil.
    public mutating func optionalPositional() -> String? {
        guard usedPositionals < positionals.count else { return nil }
        defer { usedPositionals += 1 }
        return positionals[usedPositionals]
    }

    /// Rejects every flag that is not in `known` (the flags a command's `--help` lists), before
    /// the command looks at any flag: a misspelt required flag (`--targt`) is reported as
    /// unknown, with the closest known flag, rather than as the required flag missing.
    public func checkKnown(_ known: Set<String>) throws {
        for o in options where o.name != "help" && !known.contains(o.name) {
            let name = CLIText.escaped(o.name)
            if let near = Arguments.closest(o.name, in: known) {
                throw CLIError.usage("sne \(command): unknown flag --\(name); did you mean --\(near)? (see 'sne \(command) --help')")
            }
            throw CLIError.usage("sne \(command): unknown flag --\(name) (see 'sne \(command) --help')")
        }
    }

    /// Every `--flag` named in a `--help` text.
    public static func flags(in usage: String) -> Set<String> {
        var r: Set<String> = ["help"]
        var rest = Substring(usage)
        while let at = rest.range(of: "--") {
            let tail = rest[at.upperBound...]
            let name = tail.prefix { $0.isLetter || $0.isNumber || $0 == "-" }
            if let f = name.first, f.isLetter || f.isNumber { r.insert(String(name)) }
            rest = tail
        }
        return r
    }

    /// The known flag closest to `name`: edit distance ≤ 2 (≤ 1 for names of 3 letters or
    /// fewer), or `name` a prefix of exactly one flag; nil when none is that close.
    static func closest(_ name: String, in known: Set<String>) -> String? {
        let limit = name.count <= 3 ? 1 : 2
        let scored = known.filter { $0 != "help" }.map { ($0, editDistance(name, $0)) }.filter { $0.1 <= limit }
        if let best = scored.min(by: { $0.1 != $1.1 ? $0.1 < $1.1 : $0.0 < $1.0 }) { return best.0 }
        let prefixed = known.filter { $0.hasPrefix(name) && name.count >= 2 }
        return prefixed.count == 1 ? prefixed.first : nil
    }

    /// Levenshtein distance (insert, delete, substitute; adjacent swap counts 1).
    static func editDistance(_ a: String, _ b: String) -> Int {
        let x = Array(a), y = Array(b)
        if x.isEmpty || y.isEmpty { return max(x.count, y.count) }
        var d = [[Int]](repeating: [Int](repeating: 0, count: y.count + 1), count: x.count + 1)
        for i in 0...x.count { d[i][0] = i }
        for j in 0...y.count { d[0][j] = j }
        for i in 1...x.count {
            for j in 1...y.count {
                d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (x[i - 1] == y[j - 1] ? 0 : 1))
                if i > 1, j > 1, x[i - 1] == y[j - 2], x[i - 2] == y[j - 1] { d[i][j] = min(d[i][j], d[i - 2][j - 2] + 1) }
            }
        }
        return d[x.count][y.count]
    }

    /// Rejects unknown flags and extra positionals.
    public func finish() throws {
        for (i, o) in options.enumerated() where !consumed.contains(i) && o.name != "help" {
            throw CLIError.usage("sne \(command): unknown flag --\(CLIText.escaped(o.name)) (see 'sne \(command) --help')")
        }
        if usedPositionals < positionals.count {
            throw CLIError.usage("sne \(command): unexpected argument '\(CLIText.escaped(positionals[usedPositionals]))'")
        }
    }
}

/// Text that goes into one-line messages.
public enum CLIText {
    /// `s` with control characters (newline, tab, escape, other C0/C1, DEL) written as `\n`,
    /// `\t`, `\u{1B}`…, so an echoed file name or value cannot break a one-line message or
    /// drive the terminal.
    public static func escaped(_ s: String) -> String {
        var r = ""
        for u in s.unicodeScalars {
            switch u {
            case "\n": r += "\\n"
            case "\r": r += "\\r"
            case "\t": r += "\\t"
            default:
                if u.value < 0x20 || (0x7F...0x9F).contains(u.value) || u.value == 0x2028 || u.value == 0x2029 {
                    r += "\\u{" + String(u.value, radix: 16, uppercase: true) + "}"
                } else { r.unicodeScalars.append(u) }
            }
        }
        return r
    }
}

/// "1 input", "2 inputs".
func plural(_ n: Int, _ word: String) -> String { "\(n) \(word)\(n == 1 ? "" : "s")" }
