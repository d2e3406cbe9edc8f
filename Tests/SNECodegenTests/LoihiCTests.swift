// The C runtime on Spike IR 2.1 programs (the Loihi ops, spec §3.10–§3.12): the 24 Lava conformance
// vectors (Tests/SpikeIRTests/Vectors/loihi) on every target and in both emit modes, compared with the
// interpreter (logits, prediction, active list, total counts, trace hash) AND directly with Lava's
// own trace (the §8 trace hash recomputed from lNN.lava.json, and its logits); random Loihi-mode and
// mixed 2.0/2.1 programs through the host differential (per-op counts too) and its ASan+UBSan build;
// mutated 2.1 blobs through both loaders.
import Foundation
import Testing
@testable import SNECodegen
import SNEBase
import SpikeIR
@testable import SpikeIRFixtures

/// One Lava conformance vector: program, input, Lava's trace.
struct LoihiVector { var name: String; var program: Program; var input: [UInt8]; var lava: [String: Any] }

func loadLoihiVectors() throws -> [LoihiVector] {
    let dir = checkoutRoot + "/Tests/SpikeIRTests/Vectors/loihi"
    let names = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasSuffix(".snep") }.sorted()
    return try names.map { f in
        let stem = String(f.dropLast(5))
        let p = try ProgramFile.read(path: dir + "/" + f)
        let x = [UInt8](try Data(contentsOf: URL(fileURLWithPath: dir + "/\(stem).input.u8")))
        let j = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/\(stem).lava.json"))) as! [String: Any]
        return LoihiVector(name: stem, program: p, input: x, lava: j)
    }
}

/// The spec §8 trace hash of Lava's trace (budget K, fixed order): per student in run order, per step,
/// per loihi_lif op: spikes (bytes), v, u (int32 LE); then features and q; finally the logits.
func lavaTraceHash(_ v: LoihiVector) -> (hash: UInt32, logits: [Int32]) {
    func ints(_ a: Any?) -> [Int] { (a as? [Any])?.compactMap { ($0 as? NSNumber)?.intValue } ?? [] }
    var stream: [UInt8] = []
    func le(_ x: Int) { let u = UInt32(bitPattern: Int32(truncatingIfNeeded: x)); for i in 0..<4 { stream.append(UInt8((u >> (8 * UInt32(i))) & 0xFF)) } }
    let students = v.lava["students"] as? [[String: Any]] ?? []
    for k in v.program.order.prefix(v.program.students.count) where k < students.count {
        let lifs = students[k]["lif"] as? [[String: Any]] ?? []
        for t in 0..<v.program.timesteps {
            for l in lifs {
                for key in ["s", "v", "u"] {
                    let rows = l[key] as? [Any] ?? []
                    let row = t < rows.count ? ints(rows[t]) : []
                    if key == "s" { stream += row.map { UInt8(truncatingIfNeeded: $0) } } else { row.forEach(le) }
                }
            }
        }
        ints(students[k]["features"]).forEach(le)
        stream += ints(students[k]["q"]).map { UInt8(bitPattern: Int8(truncatingIfNeeded: $0)) }
    }
    let logits = ints(v.lava["logits"])
    logits.forEach(le)
    var h: UInt32 = 2_166_136_261
    for b in stream { h = (h ^ UInt32(b)) &* 16_777_619 }
    return (h, logits.map { Int32(truncatingIfNeeded: $0) })
}

/// Seeded random programs that mix 2.0 and 2.1 ops in one student: a plain `lif` feeding a
/// `loihi_dense` / `loihi_conv2d`, a Loihi synaptic op feeding a plain `lif`, `avgpool` or `readout`,
/// a `loihi_lif` feeding `maxpool` and a plain `conv2d` / `dense`. Every program is verified.
struct MixedLoihiPrograms {
    var rng: SplitMix64
    init(seed: UInt64) { rng = SplitMix64(seed: seed) }

    mutating func w(_ n: Int, _ m: Int = 40) -> [Int8] { (0..<n).map { _ in rng.chance(0.3) ? 0 : Int8(rng.int(-m...m)) } }

    mutating func loihiLIF(_ c: Int, du: Int) -> Op {
        .loihi(.lif(LoihiLIF(source: .synaptic, du: du, dv: rng.pick([0, 4095, rng.int(1...4094)]),
                             vth: Int32(rng.pick([0, rng.int(1...20), rng.int(1...400)])), biasExp: rng.int(0...7),
                             biasMant: (0..<c).map { _ in Int16(rng.int(-4096...4095)) })))
    }

    mutating func candidate() -> Program {
        let T = rng.int(1...6), side = rng.int(4...6), cin = rng.int(1...2), K = rng.int(1...2), classes = rng.int(2...3)
        let input = Shape(h: side, w: side, c: cin)
        var students: [Student] = []
        for _ in 0..<K {
            let c0 = rng.int(1...3)
            var ops: [Op] = [
                .inputConv2D(Conv2D(cout: c0, kh: 3, kw: 3, stride: 1, pad: 1, shift: 8, weights: w(cin * 9 * c0, 127),
                                    bias: (0..<c0).map { _ in Int32(rng.int(-500...500)) })),
                .lif(LIF(stateBits: rng.pick([16, 32]), thetas: (0..<c0).map { _ in Int32(rng.int(1...60)) }, reset: .subtract, leak: .shift(2))),
            ]
            var shape = Shape(h: side, w: side, c: c0)
            // plain lif -> loihi_conv2d (stride 1, pad 1: same spatial size)
            let c1 = rng.int(1...3)
            ops.append(.loihi(.conv2D(LoihiConv2D(cout: c1, kh: 3, kw: 3, stride: 1, pad: 1, weights: w(c0 * 9 * c1)))))
            shape = Shape(h: side, w: side, c: c1)
            if rng.chance(0.5) {
                // loihi_conv2d -> loihi_lif -> maxpool -> conv2d -> lif
                ops.append(loihiLIF(c1, du: rng.pick([4095, 2000])))
                ops.append(.maxPool(size: 2)); shape = Shape(h: side / 2, w: side / 2, c: c1)
                let c2 = rng.int(1...2)
                ops.append(.conv2D(Conv2D(cout: c2, kh: 1, kw: 1, stride: 1, pad: 0, shift: 0, weights: w(c1 * c2), bias: (0..<c2).map { _ in Int32(rng.int(-5...5)) })))
                ops.append(.lif(LIF(stateBits: 32, thetas: (0..<c2).map { _ in Int32(rng.int(1...30)) }, reset: .zero, leak: .mulShift(mult: 3, shift: 2))))
                shape.c = c2
            } else {
                // loihi_conv2d -> avgpool -> plain lif
                ops.append(.avgPool(size: 2)); shape = Shape(h: side / 2, w: side / 2, c: c1)
                ops.append(.lif(LIF(stateBits: 32, thetas: (0..<c1).map { _ in Int32(rng.int(1...30)) }, reset: .subtract, leak: .none)))
            }
            ops.append(.flatten); shape = .vector(shape.size)
            // spikes -> loihi_dense -> (loihi_lif -> dense ->)? readout
            let out = rng.int(1...4)
            ops.append(.loihi(.dense(LoihiDense(out: out, weightExp: rng.int(-3...3), weights: w(shape.size * out)))))
            if rng.chance(0.5) {
                ops.append(loihiLIF(out, du: 4095))
                let f = rng.int(1...3)
                ops.append(.dense(Dense(out: f, shift: 0, weights: w(out * f), bias: (0..<f).map { _ in Int32(rng.int(-9...9)) })))
                ops.append(.readout); shape = .vector(f)
            } else {
                ops.append(.readout); shape = .vector(out)
            }
            students.append(Student(ops: ops, features: shape.size, featMult: (0..<shape.size).map { _ in Int32(rng.int(1...500)) },
                                    featShift: (0..<shape.size).map { _ in rng.int(0...12) }))
        }
        return Program(name: "mixed_loihi", input: input, timesteps: T, classes: classes, selection: K > 1 && rng.chance(0.5) ? .gate : .fixed,
                       order: Array((0..<K).reversed()), stopMargin: rng.chance(0.3) ? Int32(rng.int(0...50)) : nil,
                       gate: nil, students: students,
                       head: Head(bias: (0..<classes).map { _ in Int32(rng.int(-50...50)) }, weights: students.map { w($0.features * classes, 100) }))
    }

    mutating func program() -> Program {
        for _ in 0..<1000 {
            var p = candidate()
            if p.selection == .gate {
                let n = p.input.size
                p.gate = Gate(pool: 1, layers: [GateLayer(inputs: n, outputs: p.students.count, weights: w(n * p.students.count, 3),
                                                          bias: (0..<p.students.count).map { _ in Int32(rng.int(-9...9)) }, mult: 0, shift: 0)])
            }
            if (try? ProgramValidator.validate(p)) != nil { return p }
        }
        preconditionFailure("MixedLoihiPrograms: no valid program in 1000 tries")
    }

    mutating func input(_ p: Program) -> [UInt8] { (0..<p.input.size).map { _ in rng.chance(0.3) ? 0 : UInt8(rng.int(0...255)) } }
}

@Suite("C runtime: Loihi ops (Spike IR 2.1)", .serialized)
struct LoihiCTests {
    /// One build + run per vector (~1.5 s on host, ~2.5 s emulated), so host runs every 2nd vector and
    /// an emulated target every 8th, specialized and blob alternating; SNE_LOIHI_ALL_TARGET_VECTORS=1
    /// runs all 24 everywhere. All 24 run on host in `hostDifferential` (blob mode, one driver).
    @Test("the Lava conformance vectors on every target: equal to the interpreter and to Lava", arguments: Target.names)
    func lavaVectors(_ name: String) throws {
        guard let t = try installedTarget(name) else { return }
        let all = try loadLoihiVectors()
        try #require(all.count >= 24)
        let every = ProcessInfo.processInfo.environment["SNE_LOIHI_ALL_TARGET_VECTORS"] == "1" ? 1 : name == "host" ? 2 : 8
        let vs = stride(from: 0, to: all.count, by: every).map { all[$0] }
        var n = 0, skipped = 0
        for (vi, v) in vs.enumerated() {
            if MemoryReport(v.program, target: t).fitError != nil { skipped += 1; continue }
            let K = v.program.students.count, ks = Array(1...K)
            let dir = tempDir("loihi-\(name)")
            defer { try? FileManager.default.removeItem(atPath: dir) }
            let (got, _, _) = try Verifier.runDevice(v.program, target: t, inputs: [v.input], budgets: ks,
                                                    mode: vi % 2 == 0 ? .specialized : .blob, dir: dir, count: false)
            let interp = try Interpreter(v.program)
            for k in ks {
                let want = Verifier.expectedResult(try interp(v.input, budget: k))
                #expect(got["0 \(k)"] == want, "\(name) \(v.name) budget \(k): C \(String(describing: got["0 \(k)"])) vs Swift \(want)")
                n += 1
            }
            // Lava itself (no interpreter in between): its trace hashed as spec §8, and its logits.
            let (h, logits) = lavaTraceHash(v)
            #expect(got["0 \(K)"]?.hash == h, "\(name) \(v.name): C trace hash vs the hash of Lava's trace")
            #expect(got["0 \(K)"]?.logits == logits, "\(name) \(v.name): C logits vs Lava's")
        }
        print("loihi conformance \(name): \(vs.count - skipped) of \(all.count) vectors (\(skipped) do not fit), \(n) (vector, budget) results equal the interpreter; budget K equals Lava's trace hash and logits")
    }

    @Test("host differential: Loihi vectors, random Loihi-mode and mixed 2.0/2.1 programs, per-op counts")
    func hostDifferential() throws {
        let vectors = try loadLoihiVectors()
        // C == interpreter below (every budget, per-op counts, trace hash); interpreter == Lava here
        // (the hash of Lava's own trace and its logits at budget K), so C == Lava on all 24 vectors.
        for v in vectors {
            let r = try Interpreter(v.program)(v.input, budget: v.program.students.count)
            let (h, logits) = lavaTraceHash(v)
            #expect(r.traceHash == h && r.logits == logits, "\(v.name): interpreter vs Lava's trace hash / logits")
        }
        var cases = vectors.map { DiffCase(program: $0.program, inputs: [$0.input]) }
        var fx = LoihiFixtures(seed: 2026)
        var rng = SplitMix64(seed: 7)
        for _ in 0..<300 {
            let p = fx.program()
            cases.append(DiffCase(program: p, inputs: (0..<3).map { _ in (0..<p.input.size).map { _ in rng.chance(0.3) ? 0 : UInt8(rng.int(0...255)) } }))
        }
        var mx = MixedLoihiPrograms(seed: 11)
        for _ in 0..<200 {
            let p = mx.program()
            cases.append(DiffCase(program: p, inputs: (0..<3).map { _ in mx.input(p) }))
        }
        let (mism, n) = try runDifferential(cases)
        print("loihi differential host: \(cases.count) programs (24 Lava vectors, 300 Loihi-mode, 200 mixed), \(n) runs")
        #expect(mism.isEmpty, "\(mism.prefix(5).joined(separator: "\n"))")
        #expect(n > 3000)
    }

    @Test("host differential under ASan + UBSan (clang)")
    func sanitizers() throws {
        guard let clang = sanitizerClang() else { print("skipped: no clang"); return }
        var fx = LoihiFixtures(seed: 99)
        var mx = MixedLoihiPrograms(seed: 98)
        var cases: [DiffCase] = []
        for _ in 0..<40 {
            let p = fx.program(), q = mx.program()
            cases.append(DiffCase(program: p, inputs: [[UInt8](repeating: 255, count: p.input.size), (0..<p.input.size).map { UInt8(($0 * 53 + 7) % 256) }]))
            cases.append(DiffCase(program: q, inputs: [mx.input(q)]))
        }
        let (mism, n) = try runDifferential(cases, compiler: clang,
            flags: ["-O1", "-g", "-fsanitize=address,undefined", "-fno-sanitize-recover=all", "-fno-omit-frame-pointer"],
            env: ["ASAN_OPTIONS": "detect_leaks=1", "UBSAN_OPTIONS": "print_stacktrace=1"])
        print("loihi differential ASan+UBSan: \(cases.count) programs, \(n) runs")
        #expect(mism.isEmpty, "\(mism.prefix(5).joined(separator: "\n"))")
    }

    @Test("mutated 2.1 blobs: the C loader accepts exactly what the Swift decoder accepts, same error class")
    func loaderAgreement() throws {
        var fx = LoihiFixtures(seed: 404)
        var mx = MixedLoihiPrograms(seed: 405)
        var rng = SplitMix64(seed: 406)
        var blobs: [[UInt8]] = []
        for i in 0..<160 {
            let clean = try ProgramFile.encode(i % 2 == 0 ? fx.program() : mx.program())
            for m in 0..<8 {
                var b = clean
                for _ in 0..<(m == 0 ? 0 : rng.int(1...3)) {
                    // half of the edits inside the op records (after the header and section table)
                    let lo = rng.chance(0.5) ? min(130, b.count - 5) : 0
                    let at = rng.int(lo...(b.count - 5))
                    b[at] = rng.chance(0.5) ? UInt8(rng.int(0...255)) : b[at] ^ UInt8(1 << rng.int(0...7))
                }
                let c = CRC32.checksum(b[0..<(b.count - 4)])
                for k in 0..<4 { b[b.count - 4 + k] = UInt8((c >> (8 * UInt32(k))) & 0xFF) }
                blobs.append(b)
            }
        }
        let dir = tempDir("loihi-loader")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let exe = try DiffVectors.buildDriver(into: dir)
        try Data(DiffVectors.encode(blobs.map { ($0, [], 0) })).write(to: URL(fileURLWithPath: dir + "/v.sned"))
        let r = try Shell.run([exe, dir + "/v.sned"])
        try #require(r.status == 0)
        var accepted = 0, refused = 0, sameOffset = 0, mism: [String] = []
        for l in r.stdout.split(separator: "\n") where l.hasPrefix("L ") {
            let f = l.split(separator: " ")
            guard f.count >= 4, let i = Int(f[1]), let st = Int(f[2]), let off = Int(f[3]) else { continue }
            let (sc, so) = SnepDifferentialFuzzTests.swiftClass(blobs[i])
            let cc = SnepDifferentialFuzzTests.cClass(st)
            if sc != cc { mism.append("blob \(i): Swift \(sc.rawValue) at \(so.map(String.init) ?? "?"), C \(cc.rawValue) (status \(st)) at \(off)"); continue }
            if sc == .ok { accepted += 1 } else { refused += 1; if so == off { sameOffset += 1 } }
        }
        print("loihi loader differential: \(blobs.count) blobs, both accept \(accepted), both refuse \(refused) (same byte offset \(sameOffset)), disagreements \(mism.count)")
        #expect(accepted + refused + mism.count == blobs.count)
        #expect(accepted >= 160 && refused > 300)
        #expect(mism.isEmpty, "\(mism.prefix(8).joined(separator: "\n"))")
    }
}
