// Lowering a Spike IR program to its Loihi mode: every student's spiking part rewritten with the
// Loihi ops of spec §3.10–§3.12, so that Lava's bit-accurate models can run it (docs/neuromorphic.md).
//
// The Loihi-mode program is a *different* program from the MCU one (Loihi resets v to 0, its
// decays are 12-bit, each synaptic op delays by one step, its neurons have no rounding shift);
// the rules below keep it as close as those constraints allow, and `sne verify --target lava`
// checks the lowered program bit for bit against Lava. Rules, per student:
//   input op               kept; its shift grows until |cur| ≤ 4095 (the 13-bit bias mantissa)
//   lif after the input op loihi_lif(source bias, bias_exp 6, du 4095, vth = θ' − 1)
//   conv2d/dense + lif     loihi_conv2d/loihi_dense (bias moved to the neuron's bias mantissa,
//                          the shift moved into vth = 2^shift·θ − 1) + loihi_lif(source synaptic)
//   maxpool p              loihi_conv2d p×p stride p (channel identity weights) + loihi_lif(du 4095,
//                          dv 4095, vth 0): an exact OR, one step later
//   flatten                kept
//   dense + readout        loihi_dense + readout; the shift moves into feat_shift, the bias
//                          (T·bias/2^shift per feature) is folded into the head bias
//   leak β                 dv = 4096 − round(4096·β); reset subtract becomes reset to 0
// T grows by the deepest student's number of synaptic ops (the pipeline's delay).
import SpikeIR

/// Why a program has no Loihi mode (one line; `sne` reports it as exit 1).
public struct LoweringError: Error, CustomStringConvertible, Equatable {
    public var description: String
    public init(_ description: String) { self.description = description }
}

public enum LoihiLowering {
    /// What the lowering changed that is not exact, for the report.
    public struct Notes: Sendable {
        public var lines: [String] = []
    }

    /// `Σ|w|`-based bound of an input op's current for a given shift (spec §7.4).
    static func inputCurMax(w: [Int8], bias: [Int32], shift: Int) -> Int {
        let out = bias.count
        var sums = [Int](repeating: 0, count: out)
        var i = 0
        while i < w.count { for o in 0..<out { sums[o] += abs(Int(w[i + o])) }; i += out }
        var m = 0
        for o in 0..<out {
            let a = abs(Int(bias[o])) + 255 * sums[o] + (shift == 0 ? 0 : 1 << (shift - 1))
            m = max(m, (a + (1 << shift) - 1) >> shift)
        }
        return m
    }

    /// `dv` for a float decay β (v keeps (4096 − dv)/4096 per step).
    static func dv(_ leak: Leak) -> Int {
        let beta: Double
        switch leak {
        case .none: beta = 1
        case .mulShift(let m, let s): beta = Double(m) / Double(1 << s)
        case .shift(let s): beta = 1 - 1 / Double(UInt64(1) << UInt64(s))
        }
        return min(max(4096 - Int((beta * 4096).rounded()), 0), 4095)
    }

    /// Bias mantissa/exponent for `64·bias` (units of the Loihi voltage, spec §3.10).
    static func biasMant(_ bias: [Int32], notes: inout Notes, _ where_: String) -> (Int, [Int16]) {
        let m = bias.map { abs(Int($0)) }.max() ?? 0
        let e = m <= 4095 ? 6 : 7
        var clipped = 0
        let mant = bias.map { b -> Int16 in
            let v = e == 6 ? Int(b) : Int((Double(b) / 2).rounded())
            if v > 4095 || v < -4096 { clipped += 1 }
            return Int16(min(max(v, -4096), 4095))
        }
        if e == 7 { notes.lines.append("\(where_): bias halved to fit the 13-bit mantissa (bias_exp 7)") }
        if clipped > 0 { notes.lines.append("\(where_): \(clipped) bias values clipped to −4096…4095") }
        return (e, mant)
    }

    /// One threshold for a layer whose channels have their own (Lava's bit-accurate LIF has a single
    /// `vth`; sne 2.x one per channel). Channel `c`'s weights and bias are scaled by
    /// `f_c = Θ / θ_c`, which scales its current — and so its membrane — by `f_c`: the neuron fires
    /// at the same steps against the common threshold `Θ` (up to the rounding of the scaled
    /// weights). `Θ` is the largest value with every `|round(w·f_c)| ≤ 127`, so no weight saturates;
    /// channels with a larger θ_c lose weight resolution. `thetas` are in the units of the layer's
    /// accumulator (θ_c · 2^shift); returns `Θ` in the same units.
    static func unify(weights: inout [Int8], bias: inout [Int32], channels C: Int, thetas: [Int],
                      notes: inout Notes, _ where_: String) -> Int {
        guard Set(thetas).count > 1 else { return thetas.first ?? 1 }
        var wmax = [Int](repeating: 0, count: C)
        for (i, w) in weights.enumerated() { wmax[i % C] = max(wmax[i % C], abs(Int(w))) }
        var target = Double.infinity
        for c in 0..<C where wmax[c] > 0 { target = min(target, Double(thetas[c]) * 127 / Double(wmax[c])) }
        let theta = target.isFinite ? max(Int(target.rounded(.down)), 1) : thetas.min()!
        let f = (0..<C).map { Double(theta) / Double(thetas[$0]) }
        for i in weights.indices { weights[i] = Int8(max(-127, min(127, (Double(weights[i]) * f[i % C]).rounded()))) }
        for c in bias.indices { bias[c] = Int32(max(Double(Int32.min), min(Double(Int32.max), (Double(bias[c]) * f[c]).rounded()))) }
        notes.lines.append(String(format: "%@: per-channel thresholds %d…%d made one (%d): channel weights and bias scaled by %.3f…%.3f (Lava's LIF has one vth)",
                                  where_, thetas.min()!, thetas.max()!, theta, f.min()!, f.max()!))
        return theta
    }

    static func vth(_ theta: Int, notes: inout Notes, _ where_: String) -> Int32 {
        let v = max(theta - 1, 0)
        if v > (1 << 17) - 1 { notes.lines.append("\(where_): vth \(v) clipped to 2^17−1"); return (1 << 17) - 1 }
        return Int32(v)
    }

    /// The input op before a `loihi_lif` (source bias): one threshold for its channels (`unify`),
    /// then its shift grown until |cur| ≤ 4095 (the 13-bit bias mantissa); returns the threshold
    /// in the new current's units.
    static func fitInput(weights: inout [Int8], bias: inout [Int32], shift: inout Int, channels: Int, lif l: LIF,
                         notes: inout Notes, _ where_: String) -> Int {
        let th = unify(weights: &weights, bias: &bias, channels: channels, thetas: l.thetas.map(Int.init), notes: &notes, where_)
        let base = shift
        while inputCurMax(w: weights, bias: bias, shift: shift) > 4095 && shift < 31 { shift += 1 }
        if shift > base { notes.lines.append("\(where_): shift \(base) → \(shift) so |cur| ≤ 4095 (13-bit bias mantissa)") }
        return max(Int((Double(th) / Double(1 << (shift - base))).rounded()), 1)
    }

    /// The `loihi_lif` after a conv2d/dense (source synaptic): one threshold (`unify`, which also
    /// rescales `weights`), in accumulator units since Loihi has no rounding shift
    /// (`vth = 2^shift·θ − 1`), and the bias as the neuron's bias mantissa.
    static func synapticLIF(weights: inout [Int8], bias: [Int32], shift: Int, channels: Int, lif l: LIF,
                            notes: inout Notes, _ where_: String) -> LoihiLIF {
        var b = bias
        let th = unify(weights: &weights, bias: &b, channels: channels, thetas: l.thetas.map { Int($0) << shift }, notes: &notes, where_)
        let (e, mant) = biasMant(b, notes: &notes, where_)
        return LoihiLIF(source: .synaptic, du: 4095, dv: dv(l.leak), vth: vth(th, notes: &notes, where_), biasExp: e, biasMant: mant)
    }

    /// A readout dense's bias, placed after the pass (it depends on the lowered T).
    struct ReadoutBias {
        var student: Int, readout: Int, shift: Int, bias: [Int32], where_: String
    }

    /// Lava's `Dense` has no bias, so a readout dense's bias `b` (accumulator units, every step)
    /// becomes `n` extra neurons in the LIF op before it: no input, a bias mantissa that crosses
    /// `vth` from 0 in one step, so each spikes at every step. Their weights into the readout dense
    /// carry `r = T·b / (T' − 1)` in total (the readout hears them T' − 1 times, one step late),
    /// split over `n = ⌈max|r| / 127⌉ ≤ 16` rows: the features get `T·b` up to rounding at every
    /// budget, where folding the bias into the head is exact only when all students run.
    /// Returns false (nothing changed) when the LIF before is not a vector fed by `loihi_dense`.
    static func addBiasNeurons(_ ops: inout [Op], _ rb: ReadoutBias, steps T: Int, loihiSteps T2: Int, notes: inout Notes) -> Bool {
        let j = rb.readout
        guard j >= 2, T2 > 1, case .loihi(.dense(var rd)) = ops[j], case .loihi(.lif(var lif)) = ops[j - 1],
              case .loihi(.dense(var pd)) = ops[j - 2], lif.source == .synaptic, lif.biasMant.count == pd.out else { return false }
        let r = rb.bias.map { Double(T) * Double($0) / Double(T2 - 1) }
        let n = max(1, Int((r.map(abs).max()! / 127).rounded(.up)))
        let mant = (Int(lif.vth) << 6) >> lif.biasExp + 1   // mant·2^e > vth·2^6
        guard n <= 16, mant <= 4095 else { return false }
        let H = pd.out, out = rd.out, inputs = pd.weights.count / H
        var w = [Int8](repeating: 0, count: inputs * (H + n))
        for i in 0..<inputs { for o in 0..<H { w[i * (H + n) + o] = pd.weights[i * H + o] } }
        pd.weights = w; pd.out = H + n
        lif.biasMant += [Int16](repeating: Int16(mant), count: n)
        for b in 0..<n {
            rd.weights += (0..<out).map { i in
                Int8((r[i] * Double(b + 1) / Double(n)).rounded() - (r[i] * Double(b) / Double(n)).rounded())
            }
        }
        ops[j - 2] = .loihi(.dense(pd)); ops[j - 1] = .loihi(.lif(lif)); ops[j] = .loihi(.dense(rd))
        notes.lines.append("\(rb.where_): bias carried by \(n) always-spiking bias neuron(s) added to the LIF before it (Lava's Dense has no bias)")
        return true
    }

    /// The Loihi-mode program of `p`; a program already in Loihi mode is returned unchanged.
    public static func lower(_ program: Program) throws -> (Program, Notes) {
        var notes = Notes()
        // A shared stem (spec §4.1) is expanded into every student that uses it: the Loihi mode
        // runs all students side by side on the chip, so each keeps its own copy (same spikes).
        let p = StemSharing.expand(program)
        if program.stem != nil {
            notes.lines.append("stem: expanded into every student that uses it (\(program.stem!.count) ops each; Loihi runs the students side by side)")
        }
        let already = p.students.allSatisfy { s in
            s.ops.allSatisfy { op in
                switch op.interop {
                case .inputConv2D, .inputDense, .flatten, .readout, .loihi: true
                case .conv2D, .dense, .lif, .maxPool, .avgPool, .stem, .unsupported: false
                }
            }
        }
        for (k, s) in p.students.enumerated() where !s.ops.contains(where: { if case .loihi(.lif) = $0 { true } else { false } }) && already {
            throw LoweringError("student \(k) has no spiking layer (input op straight to the readout): nothing of it runs on Loihi")
        }
        if already { return (p, notes) }
        var q = p
        var maxDelay = 0
        var readoutBias: [ReadoutBias] = []
        var headBias = p.head.bias.map { Int64($0) }
        for (k, s) in p.students.enumerated() {
            var ops: [Op] = []
            var delay = 0
            var shape = p.input
            var j = 0
            func fail(_ why: String) -> LoweringError {
                LoweringError("student \(k) op \(j) (\(s.ops[j].name)): \(why) — no Loihi lowering")
            }
            var st = s
            while j < s.ops.count {
                let op = s.ops[j]
                let next: Op? = j + 1 < s.ops.count ? s.ops[j + 1] : nil
                let here = "student \(k) op \(j) (\(op.name))"
                switch op.interop {
                case .inputConv2D(var c):
                    guard case .lif(let l)? = next else { throw fail("the input op must be followed by lif") }
                    let th = fitInput(weights: &c.weights, bias: &c.bias, shift: &c.shift, channels: c.cout, lif: l, notes: &notes, here)
                    ops.append(.inputConv2D(c))
                    let o = c.outputShape(shape)
                    ops.append(.loihi(.lif(LoihiLIF(source: .bias, du: 4095, dv: dv(l.leak), vth: vth(th, notes: &notes, here),
                                                    biasExp: 6, biasMant: [Int16](repeating: 0, count: o.c)))))
                    shape = o; j += 2
                case .inputDense(var dd):
                    guard case .lif(let l)? = next else { throw fail("the input op must be followed by lif") }
                    let th = fitInput(weights: &dd.weights, bias: &dd.bias, shift: &dd.shift, channels: dd.out, lif: l, notes: &notes, here)
                    ops.append(.inputDense(dd))
                    ops.append(.loihi(.lif(LoihiLIF(source: .bias, du: 4095, dv: dv(l.leak), vth: vth(th, notes: &notes, here),
                                                    biasExp: 6, biasMant: [Int16](repeating: 0, count: dd.out)))))
                    shape = .vector(dd.out); j += 2
                case .maxPool(let size):
                    let C = shape.c
                    var w = [Int8](repeating: 0, count: C * size * size * C)
                    for ci in 0..<C { for ky in 0..<size { for kx in 0..<size { w[((ci * size + ky) * size + kx) * C + ci] = 1 } } }
                    ops.append(.loihi(.conv2D(LoihiConv2D(cout: C, kh: size, kw: size, stride: size, pad: 0, weights: w))))
                    ops.append(.loihi(.lif(LoihiLIF(source: .synaptic, du: 4095, dv: 4095, vth: 0, biasExp: 0,
                                                    biasMant: [Int16](repeating: 0, count: C)))))
                    shape = op.outputShape(shape); delay += 1; j += 1
                case .conv2D(var c):
                    guard case .lif(let l)? = next else { throw fail("conv2d must be followed by lif") }
                    let neuron = synapticLIF(weights: &c.weights, bias: c.bias, shift: c.shift, channels: c.cout, lif: l, notes: &notes, here)
                    ops.append(.loihi(.conv2D(LoihiConv2D(cout: c.cout, kh: c.kh, kw: c.kw, stride: c.stride, pad: c.pad, weights: c.weights))))
                    ops.append(.loihi(.lif(neuron)))
                    shape = c.outputShape(shape); delay += 1; j += 2
                case .dense(var dn):
                    if case .lif(let l)? = next {
                        let neuron = synapticLIF(weights: &dn.weights, bias: dn.bias, shift: dn.shift, channels: dn.out, lif: l, notes: &notes, here)
                        ops.append(.loihi(.dense(LoihiDense(out: dn.out, weightExp: 0, weights: dn.weights))))
                        ops.append(.loihi(.lif(neuron)))
                        shape = .vector(dn.out); delay += 1; j += 2
                    } else if case .readout? = next {
                        ops.append(.loihi(.dense(LoihiDense(out: dn.out, weightExp: 0, weights: dn.weights))))
                        ops.append(.readout)
                        if st.featShift.contains(where: { $0 + dn.shift > 62 }) { throw fail("feat_shift + shift exceeds 62") }
                        st.featShift = st.featShift.map { $0 + dn.shift }
                        if dn.bias.contains(where: { $0 != 0 }) {
                            // the bias enters through always-spiking bias neurons added to the LIF
                            // before this dense (placed once T' is known, below); else the head.
                            readoutBias.append(ReadoutBias(student: k, readout: ops.count - 2, shift: dn.shift, bias: dn.bias, where_: here))
                        }
                        shape = .vector(dn.out); delay += 1; j += 2
                    } else { throw fail("dense must be followed by lif or readout") }
                case .flatten:
                    ops.append(.flatten); shape = op.outputShape(shape); j += 1
                case .lif(let l):
                    if l.reset == .subtract { notes.lines.append("\(here): reset subtract → reset to 0 (Loihi)") }
                    throw fail("lif must follow the input op, conv2d or dense")
                case .avgPool, .readout, .loihi, .stem, .unsupported:
                    throw fail("this op has no Loihi counterpart")
                }
            }
            if s.ops.contains(where: { if case .lif(let l) = $0 { l.reset == .subtract } else { false } }) {
                notes.lines.append("student \(k): reset subtract → reset to 0 (Loihi)")
            }
            st.ops = ops
            q.students[k] = st
            maxDelay = max(maxDelay, delay)
        }
        q.timesteps = min(p.timesteps + maxDelay, 1024)
        for rb in readoutBias {
            if !addBiasNeurons(&q.students[rb.student].ops, rb, steps: p.timesteps, loihiSteps: q.timesteps, notes: &notes) {
                // fold T·bias/2^shift (in q units) into the head bias (exact only when all students run).
                let s = p.students[rb.student], w = p.head.weights[rb.student]
                for i in rb.bias.indices where rb.bias[i] != 0 {
                    let dq = (Double(p.timesteps) * Double(rb.bias[i]) / Double(1 << rb.shift) * Double(s.featMult[i])
                              / Double(UInt64(1) << UInt64(s.featShift[i]))).rounded()
                    for c in 0..<p.classes { headBias[c] += Int64(dq) * Int64(w[i * p.classes + c]) }
                }
                notes.lines.append("\(rb.where_): bias folded into the head bias (exact in the linear part only when all students run)")
            }
        }
        for c in 0..<p.classes {
            guard let b = Int32(exactly: headBias[c]) else { throw LoweringError("head bias of class \(c) overflows after folding the readout biases") }
            q.head.bias[c] = b
        }
        notes.lines.append("T \(p.timesteps) → \(q.timesteps) (\(maxDelay) synaptic delay steps)")
        q.meta["loihi_lowered_from"] = p.name
        do { try ProgramValidator.validate(q) } catch let e as SpikeIRError {
            throw LoweringError("the Loihi-mode program is invalid: \(e.description)")
        }
        return (q, notes)
    }
}
