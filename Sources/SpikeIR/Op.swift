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
