// The shared stem (Spike IR 2.2, spec §3.13, §4.1): a hand-computed case (values, counts, the
// trace byte stream), the writer's minor version, the dump, and the validator's refusals.
import Foundation
import Testing
@testable import SpikeIR
@testable import SpikeIRFixtures

@Suite struct StemTests {
    /// Input (1,1,2) = [2, 1]. Stem: input_dense identity → cur [2, 1]; lif θ = 3 (subtract, no leak):
    ///   t0 v [2,1] S [0,0] · t1 v [4,2] → S [1,0], v [1,2] · t2 v [3,3] → S [1,1], v [0,0] · t3 v [2,1] S [0,0].
    /// Student 0: stem → dense w [1, 2] bias 10 → readout: 10 + 11 + 13 + 10 = 44.
    /// Student 1: stem → dense w [3, −1] bias 0 → readout: 0 + 3 + 2 + 0 = 5.
    /// Student 2 (own input op): input_dense w [1, 1] → readout: 3 · 4 = 12. Order 2, 0, 1.
    static func tiny() -> Program {
        let stem: [Op] = [.inputDense(Dense(out: 2, shift: 0, weights: [1, 0, 0, 1], bias: [0, 0])),
                          .lif(LIF(stateBits: 32, thetas: [3, 3], reset: .subtract, leak: .none))]
        let s0 = Student(ops: [.stem, .dense(Dense(out: 1, shift: 0, weights: [1, 2], bias: [10])), .readout], features: 1, featMult: 1, featShift: 0)
        let s1 = Student(ops: [.stem, .dense(Dense(out: 1, shift: 0, weights: [3, -1], bias: [0])), .readout], features: 1, featMult: 1, featShift: 0)
        let s2 = Student(ops: [.inputDense(Dense(out: 1, shift: 0, weights: [1, 1], bias: [0])), .readout], features: 1, featMult: 1, featShift: 0)
        return Program(name: "tiny_stem", input: Shape(h: 1, w: 1, c: 2), timesteps: 4, classes: 2, selection: .fixed,
                       order: [2, 0, 1], students: [s0, s1, s2], head: Head(bias: [0, 0], weights: [[1, 0], [0, 1], [1, 1]]), stem: stem)
    }

    @Test func handComputed() throws {
        let p = Self.tiny()
        let interp = try Interpreter(p)
        let x: [UInt8] = [2, 1]
        // k = 1: only student 2 (its own input op) runs, so the stem does not run and costs nothing.
        let r1 = try interp(x, budget: 1, trace: true)
        #expect(r1.logits == [12, 12] && r1.active == [2])
        #expect(r1.stemOpCounts.isEmpty && r1.stemCounts == Counts() && r1.trace?.stem == nil)
        #expect(r1.total == Counts(synops: 4, macs: 2 + 1 + 2, neuronUpdates: 0))   // input 2, feature 1, head 2
        // k = 2: the stem runs lazily before student 0, after student 2.
        let r2 = try interp(x, budget: 2, trace: true)
        #expect(r2.logits == [56, 12] && r2.active == [2, 0] && r2.prediction == 0)
        #expect(r2.stemOpCounts == [Counts(macs: 4), Counts(neuronUpdates: 8)])          // 2 nonzero inputs × 2 outs; 2 neurons × 4 steps
        #expect(r2.opCounts[0] == [Counts(), Counts(synops: 3), Counts(synops: 4, macs: 1)])   // stem op free; 3 spikes × 1 out
        #expect(r2.trace?.stem?.before == 1)
        #expect(r2.trace?.stem?.steps.map { $0[0].spikes } == [[0, 0], [1, 0], [1, 1], [0, 0]])
        #expect(r2.trace?.stem?.steps.map { $0[0].membranes } == [[2, 1], [1, 2], [0, 0], [2, 1]])
        // the trace byte stream (spec §8): student 2's f and q, the stem's steps, student 0's f and q, logits
        var bytes: [UInt8] = []
        func le(_ v: Int32) { let u = UInt32(bitPattern: v); for i in 0..<4 { bytes.append(UInt8((u >> (8 * UInt32(i))) & 0xFF)) } }
        le(12); bytes.append(12)
        for (s, v) in [([0, 0], [2, 1]), ([1, 0], [1, 2]), ([1, 1], [0, 0]), ([0, 0], [2, 1])] as [([UInt8], [Int32])] {
            bytes += s; v.forEach(le)
        }
        le(44); bytes.append(44)
        le(56); le(12)
        var h = FNV1a32(); h.bytes(bytes)
        #expect(r2.traceHash == h.value)
        // k = 3: student 1 reuses S; the stem ran once.
        let r3 = try interp(x, budget: 3)
        #expect(r3.logits == [56, 17] && r3.stemCounts == Counts(macs: 4, neuronUpdates: 8))
        #expect(r3.total == Counts(synops: 4 + 7 + 7, macs: 3 + 4 + 1 + 1 + 3 * 2, neuronUpdates: 8))
    }

    @Test func versionsAndDump() throws {
        let p = Self.tiny()
        let b = try ProgramFile.encode(p)
        #expect(b[6] == 2, "a program with a stem is a 2.2 file")
        #expect(try ProgramFile.decode(b) == p)
        var noStem = p; noStem.stem = nil; noStem.students = [p.students[2]]; noStem.order = [0]; noStem.head.weights = [[1, 1]]
        #expect(try ProgramFile.encode(noStem)[6] == 0)
        #expect(Program.versionMinor >= 2 && Opcode.stem.rawValue == 13 && Opcode.stem.minorVersion == 2)   // a later op may add 2.3
        let d = Dump.text(p)
        #expect(d.contains("version 2.2"))
        #expect(d.contains("\nstem  ops=2\n  0 input_dense  1x1x2 -> 1x1x2"))
        #expect(d.contains("student 0  features=1  feat_mult=1 feat_shift=0\n  0 stem         -> 1x1x2\n  1 dense        1x1x2 -> 1x1x1"))
        // a stem with Loihi ops (fixture s04) is still a 2.2 file; the stem fixtures all round-trip
        for (q, _) in StemFixtures.programs() {
            let e = try ProgramFile.encode(q)
            let d = try ProgramFile.decode(e)
            #expect(e[6] == 2 && d == q, "\(q.name)")
        }
    }

    func expectInvalid(_ p: Program, _ field: String, _ reason: String = "", sourceLocation: SourceLocation = #_sourceLocation) {
        do { try ProgramValidator.validate(p); Issue.record("accepted, expected \(field)", sourceLocation: sourceLocation) } catch let SpikeIRError.invalid(f, _, r) {
            #expect(f == field && (reason.isEmpty || r.contains(reason)), "got \(f): \(r)", sourceLocation: sourceLocation)
        } catch { Issue.record("\(error)", sourceLocation: sourceLocation) }
    }

    @Test func invalidStems() {
        let base = Self.tiny()
        var p = base; p.stem!.append(.readout); expectInvalid(p, "stem op 2 (readout)", "not allowed in the stem")
        p = base; p.stem!.append(.stem); expectInvalid(p, "stem op 2 (stem)", "not allowed in the stem")
        p = base; p.stem = [p.stem![1], p.stem![0]]; expectInvalid(p, "stem op 0 (lif)", "stem op 0 must be")
        p = base; p.stem = [p.stem![0]]; expectInvalid(p, "stem ops", "must be 2…65535")
        p = base; p.stem = [p.stem![0], .avgPool(size: 2)]; expectInvalid(p, "stem op 1 (avgpool)")   // (1,1) input: empty
        p = base; p.stem![0] = .inputConv2D(Conv2D(cout: 2, kh: 1, kw: 1, stride: 1, pad: 0, shift: 0, weights: [1, 0, 0, 1], bias: [0, 0]))
        #expect((try? ProgramValidator.validate(p)) != nil, "input_conv2d as stem op 0")
        p.stem = [p.stem![0], p.stem![1], .flatten, .dense(Dense(out: 2, shift: 0, weights: [1, 0, 0, 1], bias: [0, 0]))]
        expectInvalid(p, "stem op 3 (dense)", "the last op of the stem must produce SPK")
        p = base; p.stem = nil; expectInvalid(p, "student 0 op 0 (stem)", "the program has no stem")
        p = base; p.students[0].ops.insert(.stem, at: 1); expectInvalid(p, "student 0 op 1 (stem)", "stem must be op 0")
        p = base; p.students = [p.students[2]]; p.order = [0]; p.head.weights = [[1, 1]]; expectInvalid(p, "stem", "no student's op 0 is stem")
        // §7 bounds apply to stem ops (§7.1 for its input op)
        p = base; p.stem![0] = .inputDense(Dense(out: 2, shift: 0, weights: [127, 0, 0, 1], bias: [Int32.max, 0]))
        expectInvalid(p, "stem op 0 (input_dense)", "static bound")
    }
}
