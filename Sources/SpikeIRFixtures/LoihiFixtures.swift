// Seeded random VALID Loihi-mode programs (spec §3.10–§3.12) for the Lava conformance vectors:
// every parameter range is visited (du/dv at 0, 4095 and between, vth 0 and large, bias_exp 0…7,
// bias mantissas near ±4096, weight_exp −8…7, negative currents and voltages, the −(2^23 − 1)
// voltage clip), within the static bounds of §7.8.
import SNEBase
import SpikeIR

public struct LoihiFixtures: Sendable {
    public var rng: SplitMix64
    public init(seed: UInt64) { rng = SplitMix64(seed: seed ^ 0x1011_4111_0000_0000) }

    mutating func weights(_ n: Int, maxAbs: Int, sparsity: Double = 0.3) -> [Int8] {
        (0..<n).map { _ in rng.chance(sparsity) ? 0 : Int8(rng.int(-maxAbs...maxAbs)) }
    }

    mutating func decay() -> Int { rng.pick([0, 4095, rng.int(1...4094), rng.int(1...600), rng.int(3500...4094)]) }

    /// A loihi_lif whose parameters respect §7.8 given the feeding bound `amax` (synaptic) or the
    /// input current bound `curmax` (bias source).
    mutating func lif(_ source: LoihiSource, channels c: Int, feed: Int, T: Int) -> LoihiLIF {
        var du = decay()
        if source == .synaptic {
            // 64 · A · min(T, ceil(4096/(du+1))) ≤ 2^23 − 1: raise du until it holds.
            while 64 * feed * min(T, (4096 + du) / (du + 1)) > (1 << 23) - 1 && du < 4095 { du = min(4095, du * 2 + 1) }
        }
        let room = source == .bias ? max(0, 4095 - feed) : 4095
        let mant = (0..<c).map { _ -> Int16 in
            switch rng.int(0...4) {
            case 0: return 0
            case 1: return Int16(room)
            case 2: return Int16(-min(room + 1, 4096))
            default: return Int16(rng.int(-room...room))
            }
        }
        if source == .bias && T > 16 && rng.chance(0.7) {
            // no leak, the largest bias: v runs into the clip at −(2^23 − 1) or past vth = 2^17 − 1
            let m = mant.map { $0 == 0 ? Int16(-min(room + 1, 4096)) : $0 }
            return LoihiLIF(source: source, du: du, dv: 0, vth: 131_071, biasExp: 7, biasMant: m)
        }
        let vth = Int32(rng.pick([0, rng.int(1...64), rng.int(1...64), rng.int(1...4000), rng.int(100_000...131_071)]))
        return LoihiLIF(source: source, du: du, dv: decay(), vth: vth, biasExp: rng.int(0...7), biasMant: mant)
    }

    /// The next random valid Loihi-mode program (validated; retries until one passes).
    public mutating func program() -> Program {
        for _ in 0..<10_000 {
            if let p = try? candidate(), (try? ProgramValidator.validate(p)) != nil { return p }
        }
        preconditionFailure("LoihiFixtures: no valid program in 10,000 tries (generator bug)")
    }

    mutating func candidate() throws -> Program {
        let T = rng.chance(0.2) ? rng.int(17...24) : rng.int(1...8), K = rng.int(1...2), classes = rng.int(2...4)
        let side = rng.int(3...6), cin = rng.int(1...2)
        let input = Shape(h: side, w: side, c: cin)
        var students: [Student] = []
        for _ in 0..<K {
            var ops: [Op] = []
            var shape: Shape
            // input op with |cur| ≤ ~2000 so the bias mantissa has room
            if rng.chance(0.7) {
                let cout = rng.int(1...3), k = rng.pick([1, 2, 3])
                var c = Conv2D(cout: cout, kh: k, kw: k, stride: rng.int(1...2), pad: rng.int(0...(k - 1)), shift: 0,
                               weights: weights(cin * k * k * cout, maxAbs: 127), bias: (0..<cout).map { _ in Int32(rng.int(-3000...3000)) })
                while c.outputShape(input).h < 1 { c.pad += 1 }
                var curmax = Int.max
                while curmax > 2000 {
                    curmax = (0..<cout).map { o in
                        var s = 0
                        for i in stride(from: o, to: c.weights.count, by: cout) { s += abs(Int(c.weights[i])) }
                        let a = abs(Int(c.bias[o])) + 255 * s + (c.shift == 0 ? 0 : 1 << (c.shift - 1))
                        return (a + (1 << c.shift) - 1) >> c.shift
                    }.max()!
                    if curmax > 2000 { c.shift += 1 }
                }
                ops.append(.inputConv2D(c)); shape = c.outputShape(input)
                ops.append(.loihi(.lif(lif(.bias, channels: cout, feed: curmax, T: T))))
            } else {
                let out = rng.int(2...8)
                var d = Dense(out: out, shift: 0, weights: weights(input.size * out, maxAbs: 127), bias: (0..<out).map { _ in Int32(rng.int(-3000...3000)) })
                var curmax = Int.max
                while curmax > 2000 {
                    curmax = (0..<out).map { o in
                        var s = 0
                        for i in stride(from: o, to: d.weights.count, by: out) { s += abs(Int(d.weights[i])) }
                        let a = abs(Int(d.bias[o])) + 255 * s + (d.shift == 0 ? 0 : 1 << (d.shift - 1))
                        return (a + (1 << d.shift) - 1) >> d.shift
                    }.max()!
                    if curmax > 2000 { d.shift += 1 }
                }
                ops.append(.inputDense(d)); shape = .vector(out)
                ops.append(.loihi(.lif(lif(.bias, channels: out, feed: curmax, T: T))))
            }
            // 0…2 spiking conv layers (spatial inputs only), then flatten
            if shape.h > 1 || shape.w > 1 {
                for _ in 0..<rng.int(0...2) where shape.h >= 2 {
                    let cout = rng.int(1...3), k = rng.pick([1, 2, 3]), st = rng.int(1...2)
                    let pad = min(rng.int(0...(k - 1)), k - 1)
                    let c = LoihiConv2D(cout: cout, kh: k, kw: k, stride: st, pad: pad, weights: weights(shape.c * k * k * cout, maxAbs: 127))
                    let o = c.geometry.outputShape(shape)
                    if o.h < 1 || o.w < 1 { break }
                    ops.append(.loihi(.conv2D(c)))
                    let amax = (0..<cout).map { co in stride(from: co, to: c.weights.count, by: cout).reduce(0) { $0 + abs(Int(c.weights[$1])) } }.max()!
                    ops.append(.loihi(.lif(lif(.synaptic, channels: cout, feed: amax, T: T))))
                    shape = o
                }
                ops.append(.flatten); shape = .vector(shape.size)
            }
            // 0…1 hidden dense layers, then the readout dense
            for last in (rng.chance(0.6) ? [false, true] : [true]) {
                let out = last ? rng.int(1...4) : rng.int(2...6)
                let e = rng.int(-8...7)
                var w = weights(shape.size * out, maxAbs: 127)
                func amax() -> Int {
                    (0..<out).map { o in
                        let s = stride(from: o, to: w.count, by: out).reduce(0) { $0 + abs(Int(w[$1])) }
                        return e >= 0 ? s << e : (s + (1 << -e) - 1) >> -e
                    }.max()!
                }
                while amax() > (1 << 15) - 1 { w = w.map { $0 / 2 } }
                ops.append(.loihi(.dense(LoihiDense(out: out, weightExp: e, weights: w))))
                if last { ops.append(.readout); shape = .vector(out) } else {
                    ops.append(.loihi(.lif(lif(.synaptic, channels: out, feed: amax(), T: T))))
                    shape = .vector(out)
                }
            }
            students.append(Student(ops: ops, features: shape.size, featMult: (0..<shape.size).map { _ in Int32(rng.int(1...1000)) },
                                    featShift: (0..<shape.size).map { _ in rng.int(0...20) }))
        }
        let head = Head(bias: (0..<classes).map { _ in Int32(rng.int(-1000...1000)) },
                        weights: students.map { s in weights(s.features * classes, maxAbs: 127) })
        var p = Program(name: "loihi_fixture", input: input, timesteps: T, classes: classes, selection: .fixed,
                        order: Array(0..<K), students: students, head: head)
        if rng.chance(0.5) { p.inputZeroPoint = (0..<cin).map { _ in UInt8(rng.int(0...255)) } }   // padding reads these (spec §3.1)
        return p
    }
}
