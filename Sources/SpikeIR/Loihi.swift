// The Loihi-compatible ops of Spike IR 2.1 (spec §3.10–§3.12, §7.8, §9 opcodes 10–12): a CUBA LIF
// neuron and the two synaptic ops exactly as Lava's bit-accurate CPU models compute them
// (lava-nc 0.10: `lava/proc/lif/models.py` PyLifModelBitAcc, `lava/proc/dense/models.py`
// PyDenseModelBitAcc, `lava/proc/conv/models.py` PyConvModelFixed). Types, the integer arithmetic
// (one place: `LoihiMath`), field ranges, static bounds and the per-step kernels live here; the
// shared codec, validator and interpreter only dispatch to them.

/// Where a `loihi_lif` neuron's input enters (spec §3.10).
public enum LoihiSource: UInt8, Hashable, Sendable {
    /// Per-step synaptic input `a` from a `loihi_dense` / `loihi_conv2d`: `u += a << 6`.
    case synaptic = 0
    /// The static current of the input op (op 0) enters as the bias mantissa: `mant = cur + bias_mant[c]`.
    case bias = 1
}

/// A CUBA LIF neuron as Lava's `PyLifModelBitAcc` computes it (spec §3.10).
public struct LoihiLIF: Hashable, Sendable {
    public var source: LoihiSource
    /// Current decay `du` 0…4095: `u` keeps `(4095 − du)/4096` per step (Lava adds ds_offset = 1).
    public var du: Int
    /// Voltage decay `dv` 0…4095: `v` keeps `(4096 − dv)/4096` per step.
    public var dv: Int
    /// Threshold 0…2^17−1; a neuron spikes when `v > vth << 6`.
    public var vth: Int32
    /// Bias exponent 0…7: effective bias = `mant << bias_exp`.
    public var biasExp: Int
    /// Bias mantissa per channel (HWC index mod C), −4096…4095.
    public var biasMant: [Int16]
    public init(source: LoihiSource, du: Int, dv: Int, vth: Int32, biasExp: Int, biasMant: [Int16]) {
        self.source = source; self.du = du; self.dv = dv; self.vth = vth
        self.biasExp = biasExp; self.biasMant = biasMant
    }
}

/// Lava's bit-accurate `Dense` (spec §3.11): no bias, a shared weight exponent, one step of delay.
public struct LoihiDense: Hashable, Sendable {
    public var out: Int
    /// −8…7: the accumulated sum is shifted left (≥ 0) or floor-shifted right (< 0).
    public var weightExp: Int
    /// int8 weights, layout (in, out).
    public var weights: [Int8]
    public init(out: Int, weightExp: Int, weights: [Int8]) {
        self.out = out; self.weightExp = weightExp; self.weights = weights
    }
}

/// Lava's fixed-point `Conv` (spec §3.12): no bias, no shift, one step of delay. Geometry and weight
/// layout `[cin][kh][kw][cout]` as `conv2d` (spec §3.3).
public struct LoihiConv2D: Hashable, Sendable {
    public var cout: Int, kh: Int, kw: Int, stride: Int, pad: Int
    public var weights: [Int8]
    public init(cout: Int, kh: Int, kw: Int, stride: Int, pad: Int, weights: [Int8]) {
        self.cout = cout; self.kh = kh; self.kw = kw; self.stride = stride; self.pad = pad; self.weights = weights
    }
    /// The same geometry as a `conv2d` (used for shapes and the spike walk).
    public var geometry: Conv2D { Conv2D(cout: cout, kh: kh, kw: kw, stride: stride, pad: pad, shift: 0, weights: weights, bias: []) }
}

/// One Loihi-compatible op (opcodes 10–12, spec §9).
public enum LoihiOp: Hashable, Sendable {
    case lif(LoihiLIF)          // 10, CUR → SPK
    case dense(LoihiDense)      // 11, SPK → CUR
    case conv2D(LoihiConv2D)    // 12, SPK → CUR

    // opcode, name, kinds, shapes and sizes: Op.swift (one switch per fact over every op).
}

/// The integer arithmetic of Lava's bit-accurate models (spec §3.10–§3.12), written once.
public enum LoihiMath {
    /// Bound of `|u|` and `|v|`: Lava's 24-bit state, `2^23 − 1` (spec §3.10, §7.8).
    public static let stateMax: Int64 = (1 << 23) - 1
    /// Bound of a synaptic op's output `|a|`: Lava's 16-bit `a_out` (spec §7.8).
    public static let activationMax: Int64 = (1 << 15) - 1

    /// `trunc(x · keep / 4096)`: the product rounded toward zero, as Lava's
    /// `sign(p) · (|p| >> 12)` (spec §3.10 `decay`). `keep` is 0…4096, the product exact in int64.
    @inline(__always) public static func decay(_ x: Int64, keep: Int64) -> Int64 {
        let p = x * keep
        return p >= 0 ? p >> 12 : -((-p) >> 12)   // truncation toward zero, not floor
    }

    /// `x << e` for `e ≥ 0`, `floor_shr(x, −e)` for `e < 0` (Lava's weight exponent, spec §3.11).
    @inline(__always) public static func weightScale(_ x: Int64, _ e: Int) -> Int64 {
        e >= 0 ? x << Int64(e) : x >> Int64(-e)
    }

    /// One neuron step (spec §3.10). `a` is the synaptic input (0 for the bias source), `mant` the
    /// bias mantissa. Returns the new `(u, v, spike)`.
    @inline(__always) public static func lifStep(u: Int64, v: Int64, a: Int64, mant: Int64,
                                                 p: LoihiLIF) -> (Int64, Int64, Bool) {
        let u1 = decay(u, keep: Int64(4095 - p.du)) + (a << 6)            // exact: §7.8 keeps |u1| ≤ 2^23 − 1 (no 24-bit wrap)
        var v1 = decay(v, keep: Int64(4096 - p.dv)) + u1 + (mant << Int64(p.biasExp))
        v1 = min(max(v1, -stateMax), stateMax)                            // Lava's clip of v to ±(2^23 − 1): a saturation
        if v1 > Int64(p.vth) << 6 { return (u1, 0, true) }                // strict compare, reset to 0
        return (u1, v1, false)
    }
}

extension ByteWriter {
    mutating func i16s(_ a: [Int16]) {
        for v in a { u16(UInt16(bitPattern: v)) }
        pad4()
    }
}

extension ByteReader {
    mutating func i16s(_ n: Int, _ f: String) throws -> [Int16] {
        try need(2 * n, f)
        var r = [Int16](); r.reserveCapacity(n)
        for _ in 0..<n { r.append(Int16(bitPattern: UInt16(try u16(f)))) }
        try reserved(align4(pos) - pos, "\(f) padding")
        return r
    }
}

/// Codec, checks and bounds of the Loihi ops (spec §9, §7.8), called by the shared code.
enum LoihiRules {
    /// Writes the fields after the 8-byte record header (spec §9).
    static func encode(_ op: LoihiOp, _ w: inout ByteWriter) {
        switch op {
        case .lif(let l):
            w.u8(l.source.rawValue); w.u8(UInt8(l.biasExp)); w.u16(UInt16(l.du)); w.u16(UInt16(l.dv)); w.u16(0)
            w.i32(l.vth); w.i16s(l.biasMant)
        case .dense(let d):
            w.u32(UInt32(d.out)); w.u8(UInt8(bitPattern: Int8(d.weightExp))); w.zeros(3); w.i8s(d.weights)
        case .conv2D(let c):
            w.u16(UInt16(c.cout)); w.u8(UInt8(c.kh)); w.u8(UInt8(c.kw)); w.u8(UInt8(c.stride)); w.u8(UInt8(c.pad)); w.zeros(2)
            w.i8s(c.weights)
        }
    }

    /// Reads the fixed fields of a `loihi_lif` record (opcode 10, spec §9); `biasMant` stays empty
    /// until `decodeArrays` fills it once the input shape is checked. `at` = record offset.
    static func decodeLIF(_ s: inout ByteReader, _ f: String, at: Int) throws -> LoihiOp {
        let src = try s.u8("\(f) source"), be = try s.u8("\(f) bias_exp")
        let du = try s.u16("\(f) du"), dv = try s.u16("\(f) dv")
        try s.reserved(2, "\(f) reserved")
        let vth = try s.i32("\(f) vth")
        guard let source = LoihiSource(rawValue: UInt8(src)) else {
            throw SpikeIRError.invalid(field: "\(f) source", offset: at + 8, reason: "\(src), must be 0 (synaptic) or 1 (bias)")
        }
        return .lif(LoihiLIF(source: source, du: du, dv: dv, vth: vth, biasExp: be, biasMant: []))
    }

    /// Reads the fixed fields of a `loihi_dense` record (opcode 11, spec §9); weights stay empty.
    static func decodeDense(_ s: inout ByteReader, _ f: String) throws -> LoihiOp {
        let out = try s.u32("\(f) out"), e = Int(Int8(bitPattern: UInt8(try s.u8("\(f) weight_exp"))))
        try s.reserved(3, "\(f) reserved")
        return .dense(LoihiDense(out: out, weightExp: e, weights: []))
    }

    /// Reads the fixed fields of a `loihi_conv2d` record (opcode 12, spec §9); weights stay empty.
    static func decodeConv2D(_ s: inout ByteReader, _ f: String) throws -> LoihiOp {
        let cout = try s.u16("\(f) cout"), kh = try s.u8("\(f) kh"), kw = try s.u8("\(f) kw")
        let st = try s.u8("\(f) stride"), pad = try s.u8("\(f) pad")
        try s.reserved(2, "\(f) reserved")
        return .conv2D(LoihiConv2D(cout: cout, kh: kh, kw: kw, stride: st, pad: pad, weights: []))
    }

    /// Reads the arrays of a checked op whose input shape is `shape`.
    static func decodeArrays(_ op: LoihiOp, _ s: inout ByteReader, _ f: String, input shape: Shape) throws -> LoihiOp {
        switch op {
        case .lif(var l): l.biasMant = try s.i16s(shape.c, "\(f) bias_mant"); return .lif(l)
        case .dense(var d): d.weights = try s.i8s(shape.size * d.out, "\(f) w"); return .dense(d)
        case .conv2D(var c): c.weights = try s.i8s(shape.c * c.kh * c.kw * c.cout, "\(f) w"); return .conv2D(c)
        }
    }

    /// Field ranges (spec §3.10–§3.12). `at` = record offset.
    static func validateParams(_ op: LoihiOp, _ f: String, at: Int) throws {
        let r = ProgramValidator.range
        switch op {
        case .lif(let l):
            try r("\(f) bias_exp", at + 9, l.biasExp, 0, 7)
            try r("\(f) du", at + 10, l.du, 0, 4095)
            try r("\(f) dv", at + 12, l.dv, 0, 4095)
            try r("\(f) vth", at + 16, Int(l.vth), 0, (1 << 17) - 1)
        case .dense(let d):
            try r("\(f) out", at + 8, d.out, 1, 65536)
            try r("\(f) weight_exp", at + 12, d.weightExp, -8, 7)
        case .conv2D(let c):
            try r("\(f) cout", at + 8, c.cout, 1, 4096)
            try r("\(f) kh", at + 10, c.kh, 1, 15)
            try r("\(f) kw", at + 11, c.kw, 1, 15)
            try r("\(f) stride", at + 12, c.stride, 1, 15)
            try r("\(f) pad", at + 13, c.pad, 0, min(c.kh, c.kw) - 1)
        }
    }

    /// Where a `loihi_lif` may take its input (spec §3.10): `bias` only right after the input op
    /// (j = 1, a static current), `synaptic` only after `loihi_dense` / `loihi_conv2d`.
    static func validateSource(_ op: LoihiOp, previous: Op?, _ f: String, at: Int) throws {
        guard case .lif(let l) = op, let prev = previous else { return }
        // bias: an input op (the only ops reading U8, spec §3); synaptic: a Loihi synaptic op. Any
        // other op, present or future, is refused.
        let ok = l.source == .bias ? prev.kinds == (.u8, .cur) : [Opcode.loihiDense, .loihiConv2D].contains(prev.code)
        if !ok {
            throw SpikeIRError.invalid(field: "\(f) source", offset: at + 8, reason: l.source == .bias
                ? "bias source needs the input op right before it, found \(prev.name)"
                : "synaptic source needs loihi_dense or loihi_conv2d right before it, found \(prev.name)")
        }
    }

    /// Array sizes against the input shape. `at` = record offset.
    static func validateArrays(_ op: LoihiOp, _ f: String, input s: Shape, at: Int) throws {
        func fail(_ what: String, _ got: Int, _ need: Int) -> SpikeIRError {
            .invalid(field: "\(f) \(what)", offset: at + (what == "bias_mant" ? 20 : 16), reason: "\(got) elements, must be \(need)")
        }
        switch op {
        case .lif(let l):
            if l.biasMant.count != s.c { throw fail("bias_mant", l.biasMant.count, s.c) }
            if let bad = l.biasMant.firstIndex(where: { $0 < -4096 || $0 > 4095 }) {
                throw SpikeIRError.invalid(field: "\(f) bias_mant", offset: at + 20 + 2 * bad, reason: "\(l.biasMant[bad]) at channel \(bad), must be −4096…4095")
            }
        case .dense(let d): if d.weights.count != s.size * d.out { throw fail("w", d.weights.count, s.size * d.out) }
        case .conv2D(let c):
            let n = s.c * c.kh * c.kw * c.cout
            if c.weights.count != n { throw fail("w", c.weights.count, n) }
        }
    }

    /// Static bounds of spec §7.8. `curmax` bounds `|cur|` of the op feeding this one; returns the
    /// bound of this op's output (a synaptic op's `|a|`; unchanged through a LIF).
    static func validateBounds(_ op: LoihiOp, _ f: String, at: Int, curmax: Int, timesteps T: Int) throws -> Int {
        func fail(_ reason: String) -> SpikeIRError { .invalid(field: f, offset: at, reason: "static bound §7.8 fails: " + reason) }
        let amax = Int(LoihiMath.activationMax)
        switch op {
        case .dense(let d):
            let sums = ProgramValidator.absSums(d.weights, out: d.out)
            var m = 0
            for (o, s) in sums.enumerated() {
                let a = d.weightExp >= 0 ? s << d.weightExp : (s + (1 << -d.weightExp) - 1) >> -d.weightExp
                if a > amax { throw fail("output \(o): Σ|w| scaled by 2^\(d.weightExp) = \(a) > 2^15−1") }
                m = max(m, a)
            }
            return m
        case .conv2D(let c):
            let sums = ProgramValidator.absSums(c.weights, out: c.cout)
            for (o, s) in sums.enumerated() where s > amax { throw fail("output channel \(o): Σ|w| = \(s) > 2^15−1") }
            return sums.max() ?? 0
        case .lif(let l):
            let bmax = l.biasMant.map { abs(Int($0)) }.max() ?? 0
            switch l.source {
            case .bias:
                if curmax + bmax > 4095 { throw fail("bias mantissa |cur| + |bias_mant| ≤ \(curmax) + \(bmax) > 4095 (13-bit)") }
            case .synaptic:
                // |u_t| ≤ r·|u_{t−1}| + 64·A with r = (4095 − du)/4096 < 1, so |u_t| ≤ 64·A·min(t+1, 4096/(du+1)).
                let steps = min(T, (4096 + l.du) / (l.du + 1))
                let u = 64 * curmax * steps
                if u > Int(LoihiMath.stateMax) { throw fail("|u| ≤ 64 · \(curmax) · min(T, ⌈4096/(du+1)⌉ = \(steps)) = \(u) > 2^23−1 (Lava would wrap u)") }
            }
            return curmax
        }
    }
}

// MARK: interpreter kernels (spec §3.10–§3.12)

/// Per-student state of the Loihi ops: `aux[j]` holds `u` of a `loihi_lif` or the pending
/// accumulation (the one-step delay) of a `loihi_dense` / `loihi_conv2d`; all 0 at the start of
/// every inference. `dense[j]` / `conv[j]` are the ops as zero-bias, zero-shift spike ops.
final class LoihiState {
    var aux: [Interpreter.Buf?] = []
    var dense: [Dense?] = []
    var conv: [Conv2D?] = []
    let ins: [Shape], outs: [Shape]
    init(ops: [Op], ins: [Shape], outs: [Shape]) {
        self.ins = ins; self.outs = outs
        for (j, op) in ops.enumerated() {
            guard case .loihi(let l) = op else { aux.append(nil); dense.append(nil); conv.append(nil); continue }
            aux.append(Interpreter.Buf(outs[j].size))
            switch l {
            case .lif: dense.append(nil); conv.append(nil)
            case .dense(let d):
                dense.append(Dense(out: d.out, shift: 0, weights: d.weights, bias: [Int32](repeating: 0, count: d.out))); conv.append(nil)
            case .conv2D(let c):
                var g = c.geometry; g.bias = [Int32](repeating: 0, count: c.cout)
                conv.append(g); dense.append(nil)
            }
        }
    }
}

extension Interpreter {
    /// One step of Loihi op `j` (spec §3.10–§3.12); returns the operations executed.
    func loihiStep(_ op: LoihiOp, _ j: Int, _ st: LoihiState, _ src: Buf, _ dst: Buf) -> Counts {
        let aux = st.aux[j]!, n = dst.size
        switch op {
        case .dense(let d):
            // a(t) = the accumulation of step t−1 (Lava's a_buff; 0 at t = 0), then accumulate step t.
            dst.cur.update(from: aux.cur, count: n)
            let syn = spikeDense(st.dense[j]!, src, aux.cur)
            for o in 0..<n { aux.cur[o] = Int32(truncatingIfNeeded: LoihiMath.weightScale(Int64(aux.cur[o]), d.weightExp)) }  // |·| ≤ 2^15−1 by §7.8
            return Counts(synops: syn)
        case .conv2D:
            dst.cur.update(from: aux.cur, count: n)
            return Counts(synops: spikeConv(st.conv[j]!, src, st.ins[j], st.outs[j], aux.cur))
        case .lif(let p):
            let C = st.ins[j].c, cur = src.cur, u = aux.cur, v = dst.cur
            let synaptic = p.source == .synaptic
            var count = 0
            for i in 0..<n {
                let c = i % C, x = Int64(cur[i])
                let (u1, v1, s) = LoihiMath.lifStep(u: Int64(u[i]), v: Int64(v[i]), a: synaptic ? x : 0,
                                                    mant: Int64(p.biasMant[c]) + (synaptic ? 0 : x), p: p)
                u[i] = Int32(truncatingIfNeeded: u1); v[i] = Int32(truncatingIfNeeded: v1)   // |u|, |v| ≤ 2^23 − 1
                dst.spk[i] = s ? 1 : 0
                if s { dst.list[count] = Int32(truncatingIfNeeded: i); count += 1 }
            }
            dst.n = count
            return Counts(macs: 2 * n, neuronUpdates: n)
        }
    }
}
