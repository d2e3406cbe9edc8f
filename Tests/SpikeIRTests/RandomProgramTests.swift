// The random program generator: valid programs, deterministic, covering every feature.
import Testing
@testable import SpikeIR
@testable import SpikeIRFixtures

@Suite struct RandomProgramTests {
    @Test func generatedProgramsAreValidAndRun() throws {
        var gen = RandomProgram(seed: 1, limits: .tiny)
        var opsSeen = Set<String>(), leaks = Set<String>(), bits = Set<Int>(), resets = Set<Reset>()
        var gates = 0, stops = 0, t1 = 0, ks = Set<Int>(), strides = 0, pads = 0
        for _ in 0..<150 {
            let p = gen.program()
            try ProgramValidator.validate(p)
            let interp = try Interpreter(p)
            let x = gen.input(for: p)
            for k in 1...p.students.count {
                let r = try interp(x, budget: k)
                #expect(r.active.count >= 1 && r.active.count <= k)
                #expect(r.logits.count == p.classes)
            }
            if p.gate != nil { gates += 1 }
            if p.stopMargin != nil { stops += 1 }
            if p.timesteps == 1 { t1 += 1 }
            ks.insert(p.students.count)
            for s in p.students { for op in s.ops {
                opsSeen.insert(op.name)
                if case .lif(let l) = op {
                    bits.insert(l.stateBits); resets.insert(l.reset)
                    switch l.leak { case .none: leaks.insert("none"); case .mulShift: leaks.insert("mulshift"); case .shift: leaks.insert("shift") }
                }
                if case .conv2D(let c) = op { if c.stride > 1 { strides += 1 }; if c.pad > 0 { pads += 1 } }
            } }
        }
        #expect(opsSeen.count == 10, "ops seen: \(opsSeen.sorted())")   // the 9 of 2.0 and stem (2.2; no Loihi ops)
        #expect(leaks.count == 3 && bits.count == 2 && resets.count == 2)
        #expect(gates > 10 && stops > 10 && t1 > 5 && ks == [1, 2, 3, 4] && strides > 0 && pads > 0)
    }

    @Test func generatorIsDeterministic() {
        var a = RandomProgram(seed: 42, limits: .tiny), b = RandomProgram(seed: 42, limits: .tiny)
        for _ in 0..<5 { #expect(a.program() == b.program()) }
    }
}
