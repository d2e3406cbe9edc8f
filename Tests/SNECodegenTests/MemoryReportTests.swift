// The compile-time memory report equals the real toolchain's `size` of the emitted model, per target.
import Foundation
import Testing
@testable import SNECodegen
import SpikeIR
@testable import SpikeIRFixtures

@Suite("memory report == size, per target")
struct MemoryReportTests {
    static func programs() -> [Program] {
        var g = RandomProgram(seed: 11, limits: .tiny)
        var l = LoihiFixtures(seed: 12), mx = MixedLoihiPrograms(seed: 13)   // 2.1: Loihi ops (bias_mant in the int8 table)
        return (0..<4).map { _ in g.program() } + [Fixtures.fmnistSized(seed: 1), l.program(), mx.program()]
    }

    @Test("tables, descriptor and arena+context equal size -A sections", arguments: Target.names)
    func matchesSize(_ name: String) throws {
        guard let t = try installedTarget(name) else { return }
        for p in Self.programs() {
            for mode in [EmitMode.specialized, .blob] {
                let m = MemoryReport(p, target: t, mode: mode)
                if m.largestTable > m.maxObject { continue }   // refused for this target (see refusal test)
                let s = try SizeCheck.measure(p, target: t, mode: mode)
                #expect(SizeCheck.compare(m, s) == nil, "\(p.name) \(mode): \(SizeCheck.compare(m, s) ?? "")")
            }
        }
    }

    @Test("arena plan in Swift equals sne_arena_size() in C (host, 300 random + 100 Loihi-mode + 100 mixed 2.1 programs)")
    func arenaPlanMatchesC() throws {
        var l = LoihiFixtures(seed: 6), mx = MixedLoihiPrograms(seed: 7)
        let cases = randomCases(seed: 5, programs: 300, inputs: 0)
            + (0..<100).map { _ in DiffCase(program: l.program(), inputs: []) } + (0..<100).map { _ in DiffCase(program: mx.program(), inputs: []) }
        let dir = tempDir("arena")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let exe = try DiffVectors.buildDriver(into: dir, flags: ["-O2", "-DSNE_DIFF_PRINT_ARENA"])
        let items = try cases.map { (blob: try ProgramFile.encode($0.program), inputs: [[UInt8]](), inputSize: $0.program.input.size) }
        try Data(DiffVectors.encode(items)).write(to: URL(fileURLWithPath: dir + "/v.sned"))
        let r = try Shell.run([exe, dir + "/v.sned"])
        var n = 0
        for l in r.stdout.split(separator: "\n") where l.hasPrefix("A ") {
            let f = l.split(separator: " ")
            guard let p = Int(f[1]), let a = Int(f[2]) else { continue }
            #expect(a == ArenaPlan.arenaBytes(cases[p].program), "program \(p)")
            n += 1
        }
        #expect(n == cases.count)
    }

    @Test("a program too large for AVR is refused with the numbers")
    func refusal() throws {
        let m = MemoryReport(Fixtures.fmnistSized(seed: 1), target: try Target.named("avr"))
        let e = try #require(m.fitError)
        #expect(e.contains("RAM needs") && e.contains("> 8192 B"))
    }
}

/// The target `name`, or nil (with a printed note naming the apt package) when its toolchain is
/// not installed on this machine.
/// The target when its compiler and emulator are installed; nil (the test skips, saying why)
/// otherwise. With SNE_REQUIRE_TARGETS=all (set by .ci/run) or a comma list naming the target,
/// a skip is a test failure.
func installedTarget(_ name: String) throws -> Target? {
    let t = try Target.named(name)
    let missing = t.missingTools
    if missing.isEmpty { return t }
    let why = "skipped \(name): \(missing.joined(separator: ", ")) not installed (apt-get install \(t.package))"
    if TargetSummary.required.contains(name) { Issue.record("SNE_REQUIRE_TARGETS: \(why)") } else { print(why) }
    return nil
}

/// Which targets the target tests can run here, as one line.
enum TargetSummary {
    /// The targets SNE_REQUIRE_TARGETS names ("all" = every target).
    static var required: Set<String> {
        let v = ProcessInfo.processInfo.environment["SNE_REQUIRE_TARGETS"] ?? ""
        return v == "all" ? Set(Target.names) : Set(v.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) })
    }
    static func line() throws -> String {
        var ran: [String] = [], skipped: [String] = []
        for n in Target.names {
            let m = try Target.named(n).missingTools
            if m.isEmpty { ran.append(n) } else { skipped.append("\(n) (no \(m.joined(separator: ", ")))") }
        }
        return "target tests: ran \(ran.isEmpty ? "none" : ran.joined(separator: ", ")); skipped \(skipped.isEmpty ? "none" : skipped.joined(separator: ", "))"
            + (required.isEmpty ? "" : "; required: \(required.sorted().joined(separator: ", "))")
    }
}

@Suite("target summary")
struct TargetSummaryTests {
    @Test("one line: which targets ran and which were skipped; SNE_REQUIRE_TARGETS makes a skip fail")
    func summary() throws {
        let line = try TargetSummary.line()
        print(line)
        for n in TargetSummary.required.sorted() {
            let m = try Target.named(n).missingTools
            #expect(m.isEmpty, "SNE_REQUIRE_TARGETS names \(n), but \(m.joined(separator: ", ")) is not installed")
        }
        #expect(line.hasPrefix("target tests: ran "))
    }
}
