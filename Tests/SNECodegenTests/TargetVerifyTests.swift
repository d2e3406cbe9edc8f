// `sne verify` on every target: random programs (both emit modes) and the example program with
// its Fashion-MNIST images (where it fits), compared bit-exactly with the interpreter.
import Foundation
import Testing
@testable import SNECodegen
import SNEPasses
import SpikeIR
@testable import SpikeIRFixtures

@Suite("verify on targets", .serialized)
struct TargetVerifyTests {
    @Test("random programs x inputs x all budgets, specialized and blob", arguments: Target.names)
    func randomPrograms(_ name: String) throws {
        guard let t = try installedTarget(name) else { return }
        var g = RandomProgram(seed: 1000 + UInt64(Target.names.firstIndex(of: name)!), limits: .tiny)
        var vectors = 0
        for i in 0..<4 {
            let p = g.program()
            let xs = (0..<2).map { _ in g.input(for: p) }
            let r = try Verifier.verify(p, target: t, inputs: xs, mode: i % 2 == 0 ? .specialized : .blob, count: false)
            #expect(r.passed, "\(name) \(p.name): \(r.mismatches.joined(separator: "; "))")
            vectors += r.vectors
        }
        print("verify \(name): 4 random programs, \(vectors) vectors bit-exact")
    }

    @Test("Spike IR 2.1: fmnist4 lowered to its Loihi mode (opcodes 10–12) on host (blob) and cortex-m4 (specialized)")
    func loihiModeExample() throws {
        let dir = checkoutRoot + "/examples/programs"
        let (q, _) = try LoihiLowering.lower(try ProgramFile.read(path: dir + "/fmnist4.snep"))
        #expect(q.fileVersionMinor == 1)
        let x = try #require(FileManager.default.contents(atPath: dir + "/fmnist-test-0.u8").map { [UInt8]($0) })
        for (name, mode) in [("host", EmitMode.blob), ("cortex-m4", .specialized)] {
            guard let t = try installedTarget(name) else { continue }
            do {
                let r = try Verifier.verify(q, target: t, inputs: [x], mode: mode, count: false)
                #expect(r.passed, "\(name) \(mode): \(r.mismatches.joined(separator: "; "))")
                #expect(r.vectors == q.students.count)
            }
        }
    }

    @Test("cortex-m4 SIMD row adds (SXTAB path) on larger random programs")
    func cortexM4Wide() throws {
        guard let t = try installedTarget("cortex-m4") else { return }
        var g = RandomProgram(seed: 4242)
        for _ in 0..<6 {
            let p = g.program()
            let r = try Verifier.verify(p, target: t, inputs: (0..<3).map { _ in g.input(for: p) }, count: false)
            #expect(r.passed, "\(p.name): \(r.mismatches.joined(separator: "; "))")
        }
    }

    @Test("conformance: examples/programs/fmnist4.snep on the Fashion-MNIST test images", arguments: Target.names)
    func exampleProgram(_ name: String) throws {
        guard let t = try installedTarget(name) else { return }
        let dir = checkoutRoot + "/examples/programs"
        let p = try ProgramFile.read(path: dir + "/fmnist4.snep")
        if let e = MemoryReport(p, target: t).fitError { print("skipped \(name): \(e)"); return }
        let xs = (0..<5).compactMap { FileManager.default.contents(atPath: dir + "/fmnist-test-\($0).u8").map { [UInt8]($0) } }
        try #require(xs.count == 5)
        let r = try Verifier.verify(p, target: t, inputs: name == "host" ? xs : Array(xs.prefix(2)), count: false)
        #expect(r.passed, "\(r.mismatches.joined(separator: "; "))")
    }
}

@Suite("verify pinpoints mismatches")
struct PinpointTests {
    @Test("a reference differing in one lif theta is reported with student, op, step and neuron")
    func pinpoint() throws {
        let t = try Target.named("host")
        var g = RandomProgram(seed: 31337, limits: .tiny)
        var found = false
        for _ in 0..<20 where !found {
            let p = g.program()
            var q = p
            guard let j = q.students[0].ops.firstIndex(where: { if case .lif = $0 { return true } else { return false } }),
                  case .lif(var l) = q.students[0].ops[j], l.thetas[0] > 1 else { continue }
            l.thetas = l.thetas.map { $0 > 1 ? $0 - 1 : $0 }
            q.students[0].ops[j] = .lif(l)
            let xs = (0..<3).map { _ in g.input(for: p) }
            let r = try Verifier.verify(p, target: t, inputs: xs, budgets: [p.students.count], count: false, reference: q)
            if r.passed { continue }   // theta change invisible on these inputs
            let m = r.mismatches[0]
            #expect(m.contains("first difference: student") || m.contains("step matches"), "\(m)")
            print("pinpoint: \(m)")
            found = m.contains("first difference: student 0 op \(j) (lif)")
        }
        #expect(found)
    }

    @Test("a reference differing in one loihi_lif vth is reported with student, op, step and neuron")
    func pinpointLoihi() throws {
        let t = try Target.named("host")
        var g = LoihiFixtures(seed: 4711)
        var found = false
        for _ in 0..<30 where !found {
            let p = g.program()
            var q = p
            guard let j = q.students[0].ops.firstIndex(where: { if case .loihi(.lif) = $0 { return true } else { return false } }),
                  case .loihi(.lif(var l)) = q.students[0].ops[j] else { continue }
            l.vth = l.vth > 0 ? l.vth - 1 : 1
            q.students[0].ops[j] = .loihi(.lif(l))
            let n = p.input.size
            let xs: [[UInt8]] = [0, 1].map { (s: Int) -> [UInt8] in (0..<n).map { (i: Int) -> UInt8 in UInt8((i * 97 + s * 31 + 5) % 256) } }
            let r = try Verifier.verify(p, target: t, inputs: xs, budgets: [p.students.count], count: false, reference: q)
            if r.passed { continue }   // vth change invisible on these inputs
            print("pinpoint loihi: \(r.mismatches[0])")
            found = r.mismatches[0].contains("first difference: student 0 op \(j) (loihi_lif)")
        }
        #expect(found)
    }
}

@Suite("emitted library builds")
struct EmittedBuildTests {
    @Test("generated Makefile (and CMakeLists.txt when cmake is installed) build the library, both modes")
    func builds() throws {
        var g = RandomProgram(seed: 9, limits: .tiny)
        let p = g.program()
        for mode in [EmitMode.specialized, .blob] {
            let dir = tempDir("lib") + "/out"
            defer { try? FileManager.default.removeItem(atPath: (dir as NSString).deletingLastPathComponent) }
            try CEmitter(p, mode: mode).write(to: dir)
            let r = try Shell.run(["make", "-s", "-C", dir, "CFLAGS=-std=c99 -O2 -Wall -Wextra -Wpedantic -Wconversion -Wshadow -Werror"])
            #expect(r.status == 0, "\(r.stderr)")
            #expect(FileManager.default.fileExists(atPath: dir + "/lib\(p.name).a"))
            // a second compile replaces the directory (it holds .sne-output)
            try CEmitter(p, mode: mode).write(to: dir)
            if Shell.has("cmake") {
                let c = try Shell.run(["sh", "-c", "cmake -S '\(dir)' -B '\(dir)/build' >/dev/null && cmake --build '\(dir)/build'"])
                #expect(c.status == 0, "\(c.stdout)\(c.stderr)")
            } else { print("cmake not installed: CMakeLists.txt not built") }
        }
        // a directory sne did not write is never overwritten
        let foreign = tempDir("foreign")
        defer { try? FileManager.default.removeItem(atPath: foreign) }
        try Data("keep".utf8).write(to: URL(fileURLWithPath: foreign + "/mine.txt"))
        #expect(throws: CodegenError.self) { try CEmitter(p).write(to: foreign) }
        #expect(FileManager.default.fileExists(atPath: foreign + "/mine.txt"))
    }
}
