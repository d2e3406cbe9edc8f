// The shared stem (Spike IR 2.2) in the C runtime: random stem programs against the interpreter
// (blob loader, trace and deployment builds, arena size = ArenaPlan), the hand-built stem fixtures
// through `verify` in both emit modes (host, and cortex-m4 under QEMU when installed), the loaders'
// refusals of every new invalid case (Swift and C: same class, same byte offset), and the
// neuromorphic paths that refuse a stem for now.
import Foundation
import Testing
@testable import SNECodegen
import SNEBase
import SNEPasses
@testable import SpikeIR
@testable import SpikeIRFixtures

@Suite("C runtime: the shared stem (Spike IR 2.2)", .serialized)
struct StemCTests {
    static func stemCases(seed: UInt64, programs: Int, inputs: Int) -> [DiffCase] {
        var lim = RandomProgram.Limits.tiny; lim.stemChance = 1
        let cases = randomCases(seed: seed, programs: programs, inputs: inputs, limits: lim)
        return cases + StemFixtures.programs().map { DiffCase(program: $0.0, inputs: [$0.1]) }
    }

    @Test("random stem programs x inputs x all budgets, bit-exact (trace and deployment builds)")
    func differential() throws {
        let cases = Self.stemCases(seed: 2202, programs: 300, inputs: 3)
        let withStem = cases.filter { $0.program.stem != nil }.count
        #expect(withStem > cases.count / 2, "most random programs have a stem (\(withStem) of \(cases.count))")
        for traceHash in [true, false] {
            let (mism, n) = try runDifferential(cases, traceHash: traceHash)
            print("stem differential (trace hash \(traceHash)): \(cases.count) programs (\(withStem) with a stem), \(n) runs, \(mism.count) disagreements")
            #expect(mism.isEmpty, "\(mism.prefix(5).joined(separator: "\n"))")
        }
    }

    @Test("sne_arena_size equals ArenaPlan.arenaBytes (S and the stem's plan counted)")
    func arena() throws {
        let cases = Self.stemCases(seed: 2203, programs: 60, inputs: 0)
        let dir = tempDir("stem-arena")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let exe = try DiffVectors.buildDriver(into: dir, flags: ["-O2", "-DSNE_DIFF_PRINT_ARENA"])
        let items = try cases.map { (blob: try ProgramFile.encode($0.program), inputs: [[UInt8]](), inputSize: $0.program.input.size) }
        try Data(DiffVectors.encode(items)).write(to: URL(fileURLWithPath: dir + "/v.sned"))
        let r = try Shell.run([exe, dir + "/v.sned"])
        try #require(r.status == 0, "\(r.stderr)")
        var sizes: [Int: Int] = [:]
        for l in r.stdout.split(separator: "\n") where l.hasPrefix("A ") {
            let f = l.split(separator: " ")
            if let i = Int(f[1]), let a = Int(f[2]) { sizes[i] = a }
        }
        for (i, c) in cases.enumerated() {
            #expect(sizes[i] == ArenaPlan.arenaBytes(c.program), "\(c.program.name)")
            if c.program.stem != nil { #expect(ArenaPlan.stemOutputBytes(c.program) > 0) }
        }
    }

    @Test("the stem fixtures on host and cortex-m4: emitted tables and blob, bit-exact", arguments: ["host", "cortex-m4"])
    func fixturesVerify(_ name: String) throws {
        guard let t = try installedTarget(name) else { return }
        for (p, x) in StemFixtures.programs() {
            for mode in [EmitMode.specialized, .blob] {
                let r = try Verifier.verify(p, target: t, inputs: [x], mode: mode, count: false)
                #expect(r.passed, "\(name) \(mode) \(p.name): \(r.mismatches.joined(separator: "; "))")
            }
        }
    }

    // MARK: loaders

    /// The sections of a valid file: (kind, payload).
    static func sections(_ b: [UInt8]) -> [(UInt32, [UInt8])] {
        func u32(_ i: Int) -> Int { Int(b[i]) | Int(b[i + 1]) << 8 | Int(b[i + 2]) << 16 | Int(b[i + 3]) << 24 }
        return (0..<u32(12)).map { i in
            let at = 16 + 12 * i
            return (UInt32(u32(at)), Array(b[u32(at + 4)..<(u32(at + 4) + u32(at + 8))]))
        }
    }

    /// A packed file of these sections with this minor version and a correct CRC (spec §9).
    static func assemble(_ secs: [(UInt32, [UInt8])], minor: UInt16) -> [UInt8] {
        var w: [UInt8] = Array("SNEP".utf8)
        func u16(_ v: Int) { w.append(UInt8(v & 0xFF)); w.append(UInt8((v >> 8) & 0xFF)) }
        func u32(_ v: Int) { for s in [0, 8, 16, 24] { w.append(UInt8((v >> s) & 0xFF)) } }
        u16(2); u16(Int(minor))
        var off = 16 + 12 * secs.count, table: [(Int, Int)] = []
        for (_, s) in secs { table.append((off, s.count)); off = (off + s.count + 3) & ~3 }
        u32(off + 4); u32(secs.count)
        for (i, (k, _)) in secs.enumerated() { u32(Int(k)); u32(table[i].0); u32(table[i].1) }
        for (_, s) in secs { w += s; while w.count % 4 != 0 { w.append(0) } }
        u32(Int(CRC32.checksum(w)))
        return w
    }

    /// Swift decode and C sne_blob_load of each blob: (Swift field or "ok", Swift offset, C status, C offset).
    static func both(_ blobs: [[UInt8]]) throws -> [(String, Int, Int, Int)] {
        let dir = tempDir("stem-loaders")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let exe = try DiffVectors.buildDriver(into: dir)
        try Data(DiffVectors.encode(blobs.map { ($0, [], 0) })).write(to: URL(fileURLWithPath: dir + "/v.sned"))
        let r = try Shell.run([exe, dir + "/v.sned"])
        try #require(r.status == 0, "sne_diff: \(r.stderr)")
        var c: [Int: (Int, Int)] = [:]
        for l in r.stdout.split(separator: "\n") where l.hasPrefix("L ") {
            let f = l.split(separator: " ")
            if f.count >= 4, let i = Int(f[1]), let s = Int(f[2]), let o = Int(f[3]) { c[i] = (s, o) }
        }
        return blobs.enumerated().map { (i, b) in
            var field = "ok", off = -1
            do { _ = try ProgramFile.decode(b) } catch let SpikeIRError.invalid(f, o, _) { field = f; off = o } catch { field = "\(error)" }
            return (field, off, c[i]?.0 ?? -1, c[i]?.1 ?? -1)
        }
    }

    @Test("every new invalid case is refused by both loaders at the same byte")
    func invalidFiles() throws {
        let (p, _) = StemFixtures.programs()[1]          // stem_mixed: HEADER, STEM, STUDENT×3, HEAD, META
        let good = try ProgramFile.encode(p)
        let secs = Self.sections(good)
        try #require(secs.map(\.0) == [1, 6, 3, 3, 3, 4, 5])
        let stem = secs[1].1, own = secs[2].1, reader = secs[3].1
        func u16(_ v: Int) -> [UInt8] { [UInt8(v & 0xFF), UInt8(v >> 8)] }
        func opRecords(_ payload: [UInt8], from: Int) -> [[UInt8]] {   // the op records of a section, from byte `from`
            var r: [[UInt8]] = [], at = from
            while at < payload.count {
                let n = Int(payload[at + 4]) | Int(payload[at + 5]) << 8
                r.append(Array(payload[at..<(at + n)])); at += n
            }
            return r
        }
        let stemOps = opRecords(stem, from: 4)
        let readout: [UInt8] = [9, 0, 0, 0, 8, 0, 0, 0], stemOp: [UInt8] = [13, 0, 0, 0, 8, 0, 0, 0]
        var cases: [(String, [UInt8], String)] = []     // (what, blob, Swift field)
        func with(_ s: [(UInt32, [UInt8])], minor: UInt16 = 2) -> [UInt8] { Self.assemble(s, minor: minor) }
        cases.append(("valid", with(secs), "ok"))
        cases.append(("STEM in a 2.1 file", with(secs, minor: 1), "section 1 kind"))
        var s = secs; s.swapAt(1, 2)
        cases.append(("STEM after a STUDENT", with(s), "section 2 kind"))
        s = secs; s.insert(secs[1], at: 1)
        cases.append(("two STEM sections", with(s), "section 2 kind"))
        s = secs; s[1].1 = u16(stemOps.count + 1) + [0, 0] + stemOps.joined() + readout
        cases.append(("readout in the stem", with(s), "stem op 3 (readout)"))
        s = secs; s[1].1 = u16(stemOps.count + 1) + [0, 0] + stemOps.joined() + stemOp
        cases.append(("stem in the stem", with(s), "stem op 3 (stem)"))
        s = secs; s[1].1 = u16(1) + [0, 0] + stemOps[0]
        cases.append(("one op", with(s), "stem ops"))
        s = secs; s[1].1 = u16(2) + [0, 0] + stemOps[1] + stemOps[2]
        cases.append(("op 0 not an input op", with(s), "stem op 0 (lif)"))
        s = secs; s[1].1 = u16(1) + [1, 0] + stemOps.joined()
        cases.append(("reserved ≠ 0", with(s), "stem reserved"))
        // the last op must produce SPK: input op, lif, maxpool, then a conv2d of the fixture's readers (SPK → CUR)
        let conv = opRecords(reader, from: 4 + 4 * 5 + 8)[1]
        s = secs; s[1].1 = u16(4) + [0, 0] + stemOps.joined() + conv
        cases.append(("last op CUR", with(s), "stem op 3 (conv2d)"))
        // no student reads the stem: the readers' op 0 replaced by... drop them; K = 1
        var h = secs[0].1; h[40] = 1; h[41] = 0; for i in 53..<56 { h[i] = 0 }   // K = 1, order = [0]
        let head = Self.sections(try ProgramFile.encode({ var q = p; q.stem = nil; q.students = [p.students[0]]; q.order = [0]; q.head.weights = [p.head.weights[0]]; return q }()))
        s = [(1, h), secs[1], (3, own), head.first { $0.0 == 4 }!]
        cases.append(("no student reads the stem", with(s), "stem"))
        // a student's op 0 stem without a STEM section: 2.2 (typing) and 2.1 (the opcode's version)
        s = [(1, h), (3, reader), head.first { $0.0 == 4 }!]
        let noStem2 = with(s), noStem1 = with(s, minor: 1)
        cases.append(("stem op without a stem", noStem2, "student 0 op 0 (stem)"))
        cases.append(("opcode 13 in a 2.1 file", noStem1, "student 0 op 0 opcode"))
        // stem op at j > 0 of a student
        var r2 = reader; let at1 = 4 + 4 * 5 + 8 + 8    // op 1's record (after feat arrays and the 8-byte stem record)
        r2.replaceSubrange(at1..<(at1 + 8), with: stemOp); r2.removeSubrange((at1 + 8)..<(at1 + conv.count))
        s = secs; s[3].1 = r2
        cases.append(("stem at op 1", with(s), "student 1 op 1 (stem)"))

        let res = try Self.both(cases.map(\.1))
        for (i, (what, _, field)) in cases.enumerated() {
            let (f, so, cs, co) = res[i]
            #expect(f == field, "\(what): Swift refused at '\(f)', expected '\(field)'")
            #expect((cs == 0) == (f == "ok"), "\(what): C status \(cs), Swift \(f)")
            if f != "ok" { #expect(so == co, "\(what): Swift offset \(so), C offset \(co) (status \(cs))") }
            print("stem loader case '\(what)': Swift \(f) at \(so), C status \(cs) at \(co)")
        }
    }

    @Test("Loihi lowering and NIR export expand the stem into its students; the Lava runner takes only Loihi-mode programs")
    func neuromorphicExpandsTheStem() throws {
        let (p, _) = StemFixtures.programs()[0]
        let expanded = StemSharing.expand(p)
        #expect(expanded.stem == nil && expanded.students.allSatisfy { $0.ops.first != .stem })
        let (lp, notes) = try LoihiLowering.lower(p)
        let (le, _) = try LoihiLowering.lower(expanded)
        #expect(lp == le, "lowering a stem program = lowering its expansion")
        #expect(notes.lines.contains { $0.hasPrefix("stem: expanded") })
        #expect(try NIRExport.encode(p) == NIRExport.encode(expanded))
        do { _ = try LoihiExport(p).files(); Issue.record("the Lava export accepted a stem") } catch let e as CodegenError {
            #expect(e.description.contains("the shared stem is not supported by the Lava runner"))
        }
    }

    @Test("StemSharing: share and expand are inverse, and both programs give the same logits; the stem is paid once")
    func shareAndExpand() throws {
        for (p, input) in StemFixtures.programs() where p.students.allSatisfy({ $0.ops.first == .stem }) {
            let e = StemSharing.expand(p)
            let n = p.stem!.count
            let again = try StemSharing.share(e, ops: n)
            #expect(again == p, "\(p.name): share(expand(p)) = p")
            let a = try Interpreter(p), b = try Interpreter(e)
            for k in 1...p.students.count {
                let ra = try a(input, budget: k), rb = try b(input, budget: k)
                #expect(ra.logits == rb.logits && ra.active == rb.active, "\(p.name) k=\(k)")
                // the stem once vs once per student that ran
                #expect(rb.total.synops + rb.total.macs + rb.total.neuronUpdates >= ra.total.synops + ra.total.macs + ra.total.neuronUpdates)
            }
        }
        // students that do not share their first ops are refused in one line
        var p = StemSharing.expand(StemFixtures.programs()[0].0)
        if case .inputConv2D(var c) = p.students[1].ops[0] { c.bias[0] &+= 1; p.students[1].ops[0] = .inputConv2D(c) }
        else if case .inputDense(var d) = p.students[1].ops[0] { d.bias[0] &+= 1; p.students[1].ops[0] = .inputDense(d) }
        #expect(throws: LoweringError.self) { try StemSharing.share(p, ops: 2) }
    }
}
