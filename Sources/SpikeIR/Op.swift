// One student op and everything the rest of the toolchain needs to know about it (spec §3, §7, §9):
// its opcode and version, value kinds, output shape, record size, parameter count, dense operation
// bound, runtime state and buffer bytes. Every switch here (and over `Op` anywhere in Sources) is
// exhaustive, with no `default:`, so adding an op makes the compiler list every place that must
// handle it (docs/design.md "A new op").

/// One student op (spec §3). Opcodes are the file's (spec §9).
public enum Op: Hashable, Sendable {
    case inputConv2D(Conv2D)   // 1, U8 → CUR
    case inputDense(Dense)     // 2, U8 → CUR
    case conv2D(Conv2D)        // 3, SPK → CUR
    case dense(Dense)          // 4, SPK → CUR
    case lif(LIF)              // 5, CUR → SPK
    case maxPool(size: Int)    // 6, SPK → SPK
    case avgPool(size: Int)    // 7, CUR → CUR
    case flatten               // 8, SPK → SPK
    case readout               // 9, CUR → FEAT
    case loihi(LoihiOp)        // 10–12, Lava-compatible ops (spec §3.10–§3.12, Loihi.swift)
    /// 13, → SPK, op 0 of a student only: the output of the program's shared stem (spec §3.13,
    /// §4.1). For typing it consumes the input image (U8), like an input op; its input and
    /// output shape are the stem's output shape (`Program.studentInput`).
    case stem
}

/// The opcodes of the file format (spec §9), one case per op. A byte that is none of these is
/// refused by the loader; `minorVersion` says which files may hold it.
public enum Opcode: UInt8, CaseIterable, Sendable {
    case inputConv2D = 1, inputDense = 2, conv2D = 3, dense = 4, lif = 5, maxPool = 6, avgPool = 7
    case flatten = 8, readout = 9, loihiLIF = 10, loihiDense = 11, loihiConv2D = 12, stem = 13

    /// The spec's name of the op (spec §3).
    public var name: String {
        switch self {
        case .inputConv2D: "input_conv2d"
        case .inputDense: "input_dense"
        case .conv2D: "conv2d"
        case .dense: "dense"
        case .lif: "lif"
        case .maxPool: "maxpool"
        case .avgPool: "avgpool"
        case .flatten: "flatten"
        case .readout: "readout"
        case .loihiLIF: "loihi_lif"
        case .loihiDense: "loihi_dense"
        case .loihiConv2D: "loihi_conv2d"
        case .stem: "stem"
        }
    }

    /// The Spike IR 2.x minor version that introduced the op (spec §9): a file holding it has at
    /// least this minor version, and a reader refuses it in an older file.
    public var minorVersion: UInt16 {
        switch self {
        case .inputConv2D, .inputDense, .conv2D, .dense, .lif, .maxPool, .avgPool, .flatten, .readout: 0
        case .loihiLIF, .loihiDense, .loihiConv2D: 1
        case .stem: 2
        }
    }
}

extension Op {
    /// The op's opcode (spec §9).
    public var code: Opcode {
        switch self {
        case .inputConv2D: .inputConv2D
        case .inputDense: .inputDense
        case .conv2D: .conv2D
        case .dense: .dense
        case .lif: .lif
        case .maxPool: .maxPool
        case .avgPool: .avgPool
        case .flatten: .flatten
        case .readout: .readout
        case .loihi(.lif): .loihiLIF
        case .loihi(.dense): .loihiDense
        case .loihi(.conv2D): .loihiConv2D
        case .stem: .stem
        }
    }

    /// The opcode byte in the file format (spec §9).
    public var opcode: UInt8 { code.rawValue }

    /// The spec's name of the op.
    public var name: String { code.name }

    /// `(in kind, out kind)` of the op (spec §3).
    public var kinds: (ValueKind, ValueKind) {
        switch self {
        case .inputConv2D, .inputDense: (.u8, .cur)
        case .conv2D, .dense: (.spk, .cur)
        case .lif: (.cur, .spk)
        case .maxPool, .flatten: (.spk, .spk)
        case .avgPool: (.cur, .cur)
        case .readout: (.cur, .feat)
        case .loihi(.lif): (.cur, .spk)
        case .loihi(.dense), .loihi(.conv2D): (.spk, .cur)
        case .stem: (.u8, .spk)            // op 0 only: the image, through the shared stem (spec §3.13)
        }
    }

    /// True when the op's output is spikes (one byte per element in the runtime, spec §1).
    public var outputIsSpikes: Bool { kinds.1 == .spk }

    /// Output shape for input shape `s` (spec §3); unchecked.
    public func outputShape(_ s: Shape) -> Shape {
        switch self {
        case .inputConv2D(let c), .conv2D(let c): c.outputShape(s)
        case .inputDense(let d), .dense(let d): .vector(d.out)
        case .lif, .readout: s
        case .maxPool(let p), .avgPool(let p): Shape(h: s.h / p, w: s.w / p, c: s.c)
        case .flatten: .vector(s.size)
        case .loihi(.lif): s
        case .loihi(.dense(let d)): .vector(d.out)
        case .loihi(.conv2D(let c)): c.geometry.outputShape(s)
        case .stem: s                      // `s` is the stem's output shape (`Program.studentInput`)
        }
    }

    /// Bytes of the op's record as its arrays stand (spec §9), header included.
    public var recordSize: Int {
        switch self {
        case .inputConv2D(let c), .conv2D(let c): 16 + align4(c.weights.count) + 4 * c.bias.count
        case .inputDense(let d), .dense(let d): 16 + align4(d.weights.count) + 4 * d.bias.count
        case .lif(let l): 16 + 4 * l.thetas.count
        case .maxPool, .avgPool: 12
        case .flatten, .readout, .stem: 8
        case .loihi(.lif(let l)): 20 + align4(2 * l.biasMant.count)
        case .loihi(.dense(let d)): 16 + align4(d.weights.count)
        case .loihi(.conv2D(let c)): 16 + align4(c.weights.count)
        }
    }

    /// Bytes of the op's record for input shape `s`, from its fixed fields alone (spec §9): what
    /// the loader requires `record_size` to be before it reads the arrays.
    public func recordSize(input s: Shape) -> Int {
        switch self {
        case .inputConv2D(let c), .conv2D(let c): 16 + align4(s.c * c.kh * c.kw * c.cout) + 4 * c.cout
        case .inputDense(let d), .dense(let d): 16 + align4(s.size * d.out) + 4 * d.out
        case .lif: 16 + 4 * s.c
        case .maxPool, .avgPool: 12
        case .flatten, .readout, .stem: 8
        case .loihi(.lif): 20 + align4(2 * s.c)
        case .loihi(.dense(let d)): 16 + align4(s.size * d.out)
        case .loihi(.conv2D(let c)): 16 + align4(s.c * c.kh * c.kw * c.cout)
        }
    }

    /// Trained parameters the op stores: weights, biases, per-channel thresholds or bias mantissas.
    public var parameterCount: Int {
        switch self {
        case .inputConv2D(let c), .conv2D(let c): c.weights.count + c.bias.count
        case .inputDense(let d), .dense(let d): d.weights.count + d.bias.count
        case .lif(let l): l.thetas.count                 // per-channel thresholds (spec §3.5)
        case .maxPool, .avgPool, .flatten, .readout, .stem: 0   // stem: its parameters are the stem's ops
        case .loihi(.lif(let l)): l.biasMant.count       // per-channel bias mantissas (spec §3.10)
        case .loihi(.dense(let d)): d.weights.count
        case .loihi(.conv2D(let c)): c.weights.count
        }
    }

    /// A dense upper bound of the operations the op executes in one inference (spec §8 counts):
    /// every neuron spiking every step, every pixel nonzero; input-conv MACs without border
    /// clipping. `s` / `o` are the input / output shapes, `t` the timesteps. Products saturate at
    /// `Int.max` instead of trapping.
    public func opBound(input s: Shape, output o: Shape, timesteps t: Int) -> Counts {
        func mul(_ xs: Int...) -> Int { Counts.saturatingProduct(xs) }
        var c = Counts()
        switch self {
        case .inputConv2D(let cv): c.macs = mul(s.size, cv.kh, cv.kw, cv.cout)
        case .inputDense(let d): c.macs = mul(s.size, d.out)
        case .conv2D(let cv): c.synops = mul(t, s.size, cv.kh, cv.kw, cv.cout)
        case .dense(let d): c.synops = mul(t, s.size, d.out)
        case .lif(let l):
            c.neuronUpdates = mul(t, o.size)
            switch l.leak {
            case .mulShift: c.macs = mul(t, o.size)
            case .none, .shift: break
            }
        case .maxPool, .flatten: break                   // comparisons and aliasing are not counted (spec §8)
        case .avgPool(let q): c.synops = mul(t, o.size, q, q)
        case .readout: c.synops = mul(t, o.size); c.macs = o.size
        case .loihi(.conv2D(let cv)): c.synops = mul(t, s.size, cv.kh, cv.kw, cv.cout)   // spec §3.12: as conv2d
        case .loihi(.dense(let d)): c.synops = mul(t, s.size, d.out)                     // spec §3.11
        case .loihi(.lif): c.neuronUpdates = mul(t, o.size); c.macs = mul(2, t, o.size)  // spec §3.10: two decays
        case .stem: break                                // spec §3.13: costs nothing (the stem's ops are counted as the stem)
        }
        return c
    }

    /// Bytes of per-inference state the C runtime keeps for the op in its arena, for an output of
    /// `n` elements (runtime-c/src/sne_run.c `op_memory`; `ArenaPlan` adds them up).
    public func stateBytes(elements n: Int) -> Int {
        switch self {
        case .lif(let l): align4((l.stateBits == 16 ? 2 : 4) * n)   // membranes
        case .readout: 4 * n                                       // the feature accumulators (spec §3.9)
        case .loihi(.lif): 8 * n                                   // v and u, int32 each
        case .loihi(.dense), .loihi(.conv2D): 4 * n                // the pending output (one-step delay)
        case .inputConv2D, .inputDense, .conv2D, .dense, .maxPool, .avgPool, .flatten: 0
        case .stem: 0                                              // S lives in the stem's region (ArenaPlan)
        }
    }

    /// Bytes of the op's output buffer in the C runtime's arena for `n` output elements, nil when
    /// the op has none of its own (`flatten` aliases its input, spec §3.8; `readout` accumulates
    /// into its state). Spikes take a byte per element, currents an int32.
    public func outputBufferBytes(elements n: Int) -> Int? {
        switch self {
        case .flatten, .readout, .stem: nil                        // stem: reads S[t] in the stem's region
        case .inputConv2D, .inputDense, .conv2D, .dense, .lif, .maxPool, .avgPool, .loihi:
            align4(outputIsSpikes ? n : 4 * n)
        }
    }
}

extension Op {
    /// The op's text after its name in the dump (spec §10): shapes and parameters, for input
    /// shape `s`, output shape `o` and `t` timesteps.
    func dumpText(input s: Shape, output o: Shape, timesteps t: Int) -> String {
        switch self {
        case .inputConv2D(let c), .conv2D(let c):
            "\(s) -> \(o)  k=\(c.kh)x\(c.kw) s=\(c.stride) p=\(c.pad) shift=\(c.shift)  weights=\(c.weights.count)"
        case .inputDense(let d), .dense(let d):
            "\(s) -> \(o)  shift=\(d.shift)  weights=\(d.weights.count)"
        case .lif(let l):
            "\(s)  theta=\(Dump.list(l.thetas)) state=\(l.stateBits) reset=\(l.reset) leak=\(l.leak)"
        case .maxPool(let q), .avgPool(let q):
            "\(s) -> \(o)  size=\(q)"
        case .flatten:
            "\(s) -> \(o)"
        case .readout:
            "\(s)  T=\(t)"
        case .loihi(.lif(let l)):
            "\(s)  source=\(l.source) du=\(l.du) dv=\(l.dv) vth=\(l.vth) bias_exp=\(l.biasExp)"
        case .loihi(.dense(let d)):
            "\(s) -> \(o)  weight_exp=\(d.weightExp) delay=1  weights=\(d.weights.count)"
        case .loihi(.conv2D(let c)):
            "\(s) -> \(o)  k=\(c.kh)x\(c.kw) s=\(c.stride) p=\(c.pad) delay=1  weights=\(c.weights.count)"
        case .stem:
            "-> \(o)"
        }
    }
}

extension Counts {
    /// `Π xs`, `Int.max` when it overflows.
    public static func saturatingProduct(_ xs: [Int]) -> Int {
        xs.reduce(1) { a, b in let (m, o) = a.multipliedReportingOverflow(by: b); return o ? Int.max : m }
    }
}

// MARK: - the record (spec §9): fields, arrays, ranges and static bounds of each op

/// The fixed fields and arrays an op's record holds (spec §9), one case per record layout: what the
/// codec writes after the 8-byte header (`ProgramFile`) and what the C runtime's descriptor holds
/// (`sne_op_params`, SNECodegen `ModelTables`). An op without any is `.none` and needs no edit
/// there; a new layout is a new case here, a build error at both.
public enum OpFields: Sendable {
    case conv(Conv2D)          // input_conv2d, conv2d
    case dense(Dense)          // input_dense, dense
    case lif(LIF)
    case pool(size: Int)       // maxpool, avgpool
    case loihi(LoihiOp)        // loihi_lif, loihi_dense, loihi_conv2d (Loihi.swift)
    case none                  // flatten, readout, stem
}

extension Op {
    /// The op's record fields and arrays (spec §9).
    public var fields: OpFields {
        switch self {
        case .inputConv2D(let c), .conv2D(let c): .conv(c)
        case .inputDense(let d), .dense(let d): .dense(d)
        case .lif(let l): .lif(l)
        case .maxPool(let q), .avgPool(let q): .pool(size: q)
        case .loihi(let l): .loihi(l)
        case .flatten, .readout, .stem: .none
        }
    }
}

extension Opcode {
    /// Reads the op's fixed fields after its record header (spec §9) and checks what a field
    /// alone decides (enumerations, must-be-zero); arrays stay empty until `Op.decodeArrays`.
    /// `f` names the op in messages, `at` = the record's offset.
    func decodeFields(_ s: inout ByteReader, _ f: String, at: Int) throws -> Op {
        switch self {
        case .inputConv2D: .inputConv2D(try s.conv2DFields(f))
        case .conv2D: .conv2D(try s.conv2DFields(f))
        case .inputDense: .inputDense(try s.denseFields(f))
        case .dense: .dense(try s.denseFields(f))
        case .lif: .lif(try s.lifFields(f, at: at))
        case .maxPool: .maxPool(size: try s.poolFields(f))
        case .avgPool: .avgPool(size: try s.poolFields(f))
        case .flatten: .flatten
        case .readout: .readout
        case .loihiLIF: .loihi(try LoihiRules.decodeLIF(&s, f, at: at))
        case .loihiDense: .loihi(try LoihiRules.decodeDense(&s, f))
        case .loihiConv2D: .loihi(try LoihiRules.decodeConv2D(&s, f))
        case .stem: .stem                                  // no parameters (spec §3.13)
        }
    }
}

extension Op {
    /// Reads the op's arrays (spec §9) for input shape `s` and output shape `o` and checks them;
    /// `features` = the student's F (the readout's size must equal it). Returns the op with them.
    func decodeArrays(_ r: inout ByteReader, _ f: String, input s: Shape, output o: Shape, features: Int, at: Int) throws -> Op {
        switch self {
        case .inputConv2D(var c), .conv2D(var c):
            c.weights = try r.i8s(s.c * c.kh * c.kw * c.cout, "\(f) w")
            c.bias = try r.i32s(c.cout, "\(f) bias")
            return code == .inputConv2D ? .inputConv2D(c) : .conv2D(c)
        case .inputDense(var d), .dense(var d):
            d.weights = try r.i8s(s.size * d.out, "\(f) w")
            d.bias = try r.i32s(d.out, "\(f) bias")
            return code == .inputDense ? .inputDense(d) : .dense(d)
        case .lif(var l):
            l.thetas = try r.i32s(s.c, "\(f) theta")
            try ProgramValidator.validateThetas(l, channels: s.c, f, at: at)
            return .lif(l)
        case .readout:
            try ProgramValidator.validateReadoutSize(o, features: features, f, at: at)
            return self
        case .loihi(let l):
            let full = try LoihiRules.decodeArrays(l, &r, f, input: s)
            try LoihiRules.validateArrays(full, f, input: s, at: at)
            return .loihi(full)
        case .maxPool, .avgPool, .flatten, .stem:
            return self                                    // no arrays
        }
    }

    /// The ranges of the op's fixed fields (spec §3, §9); `at` = the record's offset.
    func validateParams(_ f: String, at: Int) throws {
        let range = ProgramValidator.range
        switch self {
        case .inputConv2D(let c), .conv2D(let c):
            try range("\(f) cout", at + 8, c.cout, 1, 4096)
            try range("\(f) kh", at + 10, c.kh, 1, 15)
            try range("\(f) kw", at + 11, c.kw, 1, 15)
            try range("\(f) stride", at + 12, c.stride, 1, 15)
            try range("\(f) pad", at + 13, c.pad, 0, min(c.kh, c.kw) - 1)
            try range("\(f) shift", at + 14, c.shift, 0, 31)
        case .inputDense(let d), .dense(let d):
            try range("\(f) out", at + 8, d.out, 1, 65536)
            try range("\(f) shift", at + 12, d.shift, 0, 31)
        case .lif(let l):
            if l.stateBits != 16 && l.stateBits != 32 { throw ProgramValidator.fail("\(f) state_bits", at + 13, "\(l.stateBits), must be 16 or 32") }
            switch l.leak {
            case .none: break
            case .mulShift(let m, let s):
                try range("\(f) leak_shift", at + 9, s, 0, 15)
                try range("\(f) leak_mult", at + 10, m, 0, 1 << s)
            case .shift(let s):
                try range("\(f) leak_shift", at + 9, s, 1, 31)
            }
        case .maxPool(let p):
            try range("\(f) size", at + 8, p, 2, 15)
        case .avgPool(let p):
            if p != 2 && p != 4 { throw ProgramValidator.fail("\(f) size", at + 8, "\(p), must be 2 or 4") }
        case .flatten, .readout, .stem: break
        case .loihi(let l): try LoihiRules.validateParams(l, f, at: at)
        }
    }

    /// The op's arrays as they stand in memory (spec §3, §9) for input shape `s` and output shape
    /// `o`; `previous` = the op before it in its list; `features` = the student's F.
    func validateArrays(_ f: String, input s: Shape, output o: Shape, features: Int, previous: Op?, at: Int) throws {
        let fail = ProgramValidator.fail
        switch self {
        case .inputConv2D(let c), .conv2D(let c):
            let nw = s.c * c.kh * c.kw * c.cout
            if c.weights.count != nw { throw fail("\(f) w", at + 16, "\(c.weights.count) weights, must be cin·kh·kw·cout = \(nw)") }
            if c.bias.count != c.cout { throw fail("\(f) bias", at + 16 + align4(nw), "\(c.bias.count) biases, must be \(c.cout)") }
        case .inputDense(let d), .dense(let d):
            let nw = s.size * d.out
            if d.weights.count != nw { throw fail("\(f) w", at + 16, "\(d.weights.count) weights, must be in·out = \(nw)") }
            if d.bias.count != d.out { throw fail("\(f) bias", at + 16 + align4(nw), "\(d.bias.count) biases, must be \(d.out)") }
        case .lif(let l):
            try ProgramValidator.validateThetas(l, channels: s.c, f, at: at)
        case .readout:
            try ProgramValidator.validateReadoutSize(o, features: features, f, at: at)
        case .loihi(let l):
            try LoihiRules.validateSource(l, previous: previous, f, at: at)
            try LoihiRules.validateArrays(l, f, input: s, at: at)
        case .maxPool, .avgPool, .flatten, .stem: break   // no arrays
        }
    }

    /// The static bounds of spec §7 (§7.1, §7.3, §7.4, §7.8) at this op: `curmax` bounds |value|
    /// of its CUR input; returns the bound of its output (unchanged for an op that keeps it).
    func bound(curmax: Int, timesteps T: Int, _ f: String, at: Int) throws -> Int {
        let B = ProgramValidator.B, fail = ProgramValidator.fail, syn = ProgramValidator.synapticBound
        switch self {
        case .inputConv2D(let c): return try syn(f, at, c.weights, c.bias, c.shift, 255)
        case .inputDense(let d): return try syn(f, at, d.weights, d.bias, d.shift, 255)
        case .conv2D(let c): return try syn(f, at, c.weights, c.bias, c.shift, 1)
        case .dense(let d): return try syn(f, at, d.weights, d.bias, d.shift, 1)
        case .avgPool(let q):
            let a = curmax * q * q + (q * q) / 2
            if a > B { throw fail(f, at, "static bound §7.3 fails: input bound \(curmax) · p² + p²/2 = \(a) > 2^31−1") }
            return curmax
        case .readout:
            let a = T * curmax
            if a > B { throw fail(f, at, "static bound §7.4 fails: T · curmax = \(T) · \(curmax) = \(a) > 2^31−1") }
            return curmax
        case .loihi(let l):
            return try LoihiRules.validateBounds(l, f, at: at, curmax: curmax, timesteps: T)
        case .lif, .maxPool, .flatten, .stem: return curmax   // unchanged (stem: spikes follow)
        }
    }
}

// MARK: - the reference interpreter (spec §3, §4): each op's work

extension Interpreter {
    /// An input op (spec §3.1/§3.2), once per inference; returns its MACs. Nil for any other op.
    func inputOp(_ op: Op, _ x: UnsafeBufferPointer<UInt8>, _ si: Shape, _ so: Shape, _ dst: Buf) -> Int? {
        switch op {
        case .inputConv2D(let c): inputConv(c, x, si, so, program.inputZeroPoint, dst.cur)
        case .inputDense(let d): inputDense(d, x, dst.cur)
        case .conv2D, .dense, .lif, .maxPool, .avgPool, .flatten, .readout, .loihi, .stem: nil
        }
    }

    /// One time step of op `j` (not op 0) of a student or of the stem (spec §3): reads `src` (the
    /// op before it), writes `dst`; `si` / `so` = its input / output shape. Adds its counts to
    /// `c`; a `lif` / `loihi_lif` op hashes its spikes and state into `hasher` (spec §8) when `hash`
    /// and returns its trace when `trace` (nil otherwise and for every other op).
    func stepOp(_ op: Op, _ j: Int, _ src: Buf, _ dst: Buf, _ si: Shape, _ so: Shape, _ loihi: LoihiState,
                counts c: inout Counts, hasher: inout FNV1a32, hash: Bool, trace: Bool) -> LayerStep? {
        switch op {
        case .conv2D(let cv):
            c.synops += spikeConv(cv, src, si, so, dst.cur)
        case .dense(let d):
            c.synops += spikeDense(d, src, dst.cur)
        case .lif(let p):
            lif(p, src.cur, dst)
            c.neuronUpdates += dst.size
            if case .mulShift = p.leak { c.macs += dst.size }
            if hash {
                for i in 0..<dst.size { hasher.byte(dst.spk[i]) }
                for i in 0..<dst.size { hasher.int32(dst.cur[i]) }
            }
            if trace {
                return LayerStep(op: j, spikes: Array(UnsafeBufferPointer(start: dst.spk, count: dst.size)),
                                 membranes: Array(UnsafeBufferPointer(start: dst.cur, count: dst.size)))
            }
        case .maxPool(let p):
            maxPool(p, src, si, so, dst)
        case .avgPool(let p):
            avgPool(p, src.cur, si, so, dst.cur)
            c.synops += so.size * p * p
        case .flatten:
            break
        case .readout:
            for i in 0..<dst.size { dst.cur[i] &+= src.cur[i] }   // exact by §7.4
            c.synops += dst.size
        case .loihi(let l):
            c += loihiStep(l, j, loihi, src, dst)
            if case .lif = l {
                let u = loihi.aux[j]!.cur
                if hash {
                    for i in 0..<dst.size { hasher.byte(dst.spk[i]) }
                    for i in 0..<dst.size { hasher.int32(dst.cur[i]) }
                    for i in 0..<dst.size { hasher.int32(u[i]) }
                }
                if trace {
                    return LayerStep(op: j, spikes: Array(UnsafeBufferPointer(start: dst.spk, count: dst.size)),
                                     membranes: Array(UnsafeBufferPointer(start: dst.cur, count: dst.size)),
                                     currents: Array(UnsafeBufferPointer(start: u, count: dst.size)))
                }
            }
        case .inputConv2D, .inputDense, .stem:
            break  // op 0 only: not reachable in a validated program
        }
        return nil
    }
}

// MARK: - what the op is to the other back-ends

/// What an op is to the consumers beyond the file format and the two runtimes: the Loihi lowering
/// (SNEPasses) and export, the NIR export (SNECodegen) and `sne check`'s weight histogram
/// (SNECompile). They switch over this view (`Op.interop`), not over `Op`: an op none of them
/// supports is `.unsupported` here and needs no edit there (the lowering and both exports refuse
/// it by name, `check` histograms its weights); a new case of this view is a build error at each.
public enum InteropOp: Sendable {
    case inputConv2D(Conv2D), inputDense(Dense), conv2D(Conv2D), dense(Dense), lif(LIF)
    case maxPool(size: Int), avgPool(size: Int), flatten, readout, loihi(LoihiOp), stem
    /// An op without a Loihi lowering or a NIR form; `weights`: its int8 weights (for `check`).
    case unsupported(weights: [Int8])
}

extension Op {
    /// The op as the Loihi lowering and export, the NIR export and `check` see it.
    public var interop: InteropOp {
        switch self {
        case .inputConv2D(let c): .inputConv2D(c)
        case .inputDense(let d): .inputDense(d)
        case .conv2D(let c): .conv2D(c)
        case .dense(let d): .dense(d)
        case .lif(let l): .lif(l)
        case .maxPool(let q): .maxPool(size: q)
        case .avgPool(let q): .avgPool(size: q)
        case .flatten: .flatten
        case .readout: .readout
        case .loihi(let l): .loihi(l)
        case .stem: .stem
        }
    }
}
