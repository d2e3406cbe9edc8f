// An emitted folder carries its target: built with nothing but its own Makefile (or
// CMakeLists.txt), its model object has exactly the sections `sne compile` reports.
import Foundation
import Testing
@testable import SNECodegen
import SpikeIR
@testable import SpikeIRFixtures

@Suite("emitted folders build for their target")
struct TargetBuildFilesTests {
    @Test("make in the folder alone: size -A of the model object == the compile report", arguments: Target.names)
    func makefileBuildsForTarget(_ name: String) throws {
        guard let t = try installedTarget(name) else { return }
        var g = RandomProgram(seed: 77, limits: .tiny)
        for mode in [EmitMode.specialized, .blob] {
            let p = g.program()
            let m = MemoryReport(p, target: t, mode: mode)
            if m.fitError != nil { continue }
            let dir = tempDir("emitted-\(name)")
            defer { try? FileManager.default.removeItem(atPath: dir) }
            try CEmitter(p, mode: mode, target: t).write(to: dir)
            let mk = try String(contentsOfFile: dir + "/Makefile", encoding: .utf8)
            #expect(mk.contains("CC     = \(t.compiler)"), "\(mk.prefix(400))")
            if name == "avr" { #expect(mk.contains("-mmcu=atmega2560") && mk.contains("-DSNE_USE_TARGET_PORT")) }
            if name.hasPrefix("cortex") { #expect(mk.contains("-mcpu=\(name)") && mk.contains("-mthumb")) }
            let b = try Shell.run(["make", "--no-print-directory", "-C", dir], env: ["MAKEFLAGS": ""])
            #expect(b.status == 0, "\(name): \(b.stderr.prefix(600))")
            #expect(FileManager.default.fileExists(atPath: dir + "/lib\(p.name).a"))
            let s = try Shell.run(["make", "--no-print-directory", "-s", "-C", dir, "size"], env: ["MAKEFLAGS": ""])
            let sec = SizeCheck.parse(s.stdout)
            #expect(SizeCheck.compare(m, sec) == nil, "\(name) \(mode): \(SizeCheck.compare(m, sec) ?? "")")
            if name == "avr" {   // the tables are in flash (.progmemx), not copied to RAM (.data)
                #expect(s.stdout.contains(".progmem") && sec.data == m.descriptor, "\(s.stdout)")
            }
        }
    }

    @Test("CMakeLists.txt sets the cross compiler and flags (cortex-m4, when cmake is installed)")
    func cmakeBuildsForTarget() throws {
        guard let t = try installedTarget("cortex-m4") else { return }
        guard Shell.has("cmake") else { print("skipped cmake build: cmake not installed"); return }
        var g = RandomProgram(seed: 78, limits: .tiny)
        let p = g.program()
        let dir = tempDir("emitted-cmake"), build = dir + "-build"
        defer { try? FileManager.default.removeItem(atPath: dir); try? FileManager.default.removeItem(atPath: build) }
        try CEmitter(p, target: t).write(to: dir)
        let c = try Shell.run(["cmake", "-S", dir, "-B", build])
        #expect(c.status == 0, "\(c.stderr.prefix(600))")
        let b = try Shell.run(["cmake", "--build", build])
        #expect(b.status == 0, "\(b.stdout.suffix(600)) \(b.stderr.prefix(600))")
        // The object is <name>.c.obj for a Generic (cross) system, <name>.c.o on the host.
        let obj = try Shell.run(["find", build, "(", "-name", "\(p.name).c.o", "-o", "-name", "\(p.name).c.obj", ")"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let s = try Shell.run([t.sizeTool, "-A", obj])
        #expect(SizeCheck.compare(MemoryReport(p, target: t), SizeCheck.parse(s.stdout)) == nil, "\(s.stdout)")
    }
}

@Suite("instruction count on the qemu Cortex-M boards")
struct QemuCountTests {
    @Test("the TCG plugin count equals the single-step count (smoke test ELF)", arguments: ["cortex-m4", "cortex-m3"])
    func pluginMatchesSingleStep(_ name: String) throws {
        guard let t = try installedTarget(name) else { return }
        let dir = tempDir("count-\(name)")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let elf = dir + "/smoke.elf"
        try Verifier.build(target: t, sources: [SNEPaths.targets + "/smoke/smoke.c"], includes: [], elf: elf)
        var counts: [String: String] = [:]
        for mode in ["1", "step"] {
            let r = try Shell.run([SNEPaths.targets + "/\(name)/run.sh", elf, "120"], env: ["SNE_COUNT": mode])
            #expect(r.status == 0 && r.stdout.contains("smoke: OK"), "\(mode): \(r.stderr)")
            counts[mode] = r.stderr.split(separator: "\n").first { $0.hasPrefix("sne-count: instructions=") }.map(String.init)
        }
        #expect(counts["1"] != nil && counts["1"] == counts["step"], "\(counts)")
        print("count \(name): plugin \(counts["1"] ?? "none") == single-step \(counts["step"] ?? "none")")
    }
}
