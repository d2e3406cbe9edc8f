// A program flattened into the runtime's descriptor tables (runtime-c/include/sne.h):
// one int8 table, one int32 table, op/student/gate descriptors with element offsets.
import SpikeIR

/// Descriptor field values, in the C structs' field order.
public struct ModelTables: Sendable {
    public var w8: [Int8] = []
    public var b32: [Int32] = []
    /// `sne_op`: w, b, in_h, in_w, in_c, out_h, out_w, out_c, theta (b32 offset of the per-channel
    /// thresholds), opcode, kh, kw, stride, pad, shift, leak, leak_shift, leak_mult, reset, state_bits, size.
    /// The Loihi ops reuse fields as runtime-c/include/sne.h documents (bias_mant bytes live in `w8`).
    public var ops: [[Int64]] = []
    /// `sne_student`: op0, nops, features, head_w, feat_mult (b32 offset of F multipliers),
    /// feat_shift (w8 offset of F shifts).
    public var students: [[Int64]] = []
    /// `sne_gate_layer`: w, b, in, out, mult, shift.
    public var gate: [[Int64]] = []
    public var headBias: Int = 0
    /// The shared stem (`sne_model.stem_op0`, `stem_nops`): its ops follow every student's ops in
    /// `ops`; 0 / 0 without a stem (spec §4.1).
    public var stemOp0: Int = 0, stemNops: Int = 0
    /// Per student, the output shape of every op.
    public var outShapes: [[Shape]] = []

    /// Bytes of one `sne_op`, `sne_student` and `sne_gate_layer` descriptor in flash (sne.h).
    public static let opDescriptorBytes = 84, studentDescriptorBytes = 24, gateLayerDescriptorBytes = 24

    public init(_ p: Program) {
        func addW(_ w: [Int8]) -> Int { defer { w8 += w }; return w8.count }
        func addB(_ b: [Int32]) -> Int { defer { b32 += b }; return b32.count }
        headBias = addB(p.head.bias)
        if let g = p.gate {
            for l in g.layers {
                gate.append([Int64(addW(l.weights)), Int64(addB(l.bias)), Int64(l.inputs), Int64(l.outputs), Int64(l.mult), Int64(l.shift)])
            }
        }
        // One `sne_op` row per op of a list whose op 0 reads `input`.
        func addOps(_ list: [Op], input: Shape) -> [Shape] {
            let outs = ProgramVerifier.outputShapes(Student(ops: list, features: 0, featMult: [], featShift: []), input: input)
            var inS = input
            for (j, op) in list.enumerated() {
                let o = outs[j]
                var f = [Int64](repeating: 0, count: 21)
                f[2] = Int64(inS.h); f[3] = Int64(inS.w); f[4] = Int64(inS.c)
                f[5] = Int64(o.h); f[6] = Int64(o.w); f[7] = Int64(o.c)
                f[9] = Int64(op.opcode)
                switch op {
                case .inputConv2D(let c), .conv2D(let c):
                    f[0] = Int64(addW(c.weights)); f[1] = Int64(addB(c.bias))
                    f[10] = Int64(c.kh); f[11] = Int64(c.kw); f[12] = Int64(c.stride); f[13] = Int64(c.pad); f[14] = Int64(c.shift)
                case .inputDense(let d), .dense(let d):
                    f[0] = Int64(addW(d.weights)); f[1] = Int64(addB(d.bias)); f[14] = Int64(d.shift)
                case .lif(let l):
                    f[8] = Int64(addB(l.thetas)); f[18] = Int64(l.reset.rawValue); f[19] = Int64(l.stateBits)
                    switch l.leak {
                    case .none: break
                    case .mulShift(let m, let s): f[15] = 1; f[16] = Int64(s); f[17] = Int64(m)
                    case .shift(let s): f[15] = 2; f[16] = Int64(s)
                    }
                case .maxPool(let q), .avgPool(let q): f[20] = Int64(q)
                case .flatten, .readout: break
                case .loihi(.lif(let l)):
                    // sne.h: b = w8 byte offset of int16 LE bias_mant; leak = source; leak_mult = du,
                    // leak_shift = dv; theta = vth (a value); shift = bias_exp.
                    f[1] = Int64(addW(l.biasMant.flatMap { v -> [Int8] in
                        let u = UInt16(bitPattern: v)
                        return [Int8(bitPattern: UInt8(u & 0xFF)), Int8(bitPattern: UInt8(u >> 8))]
                    }))
                    f[15] = Int64(l.source.rawValue); f[17] = Int64(l.du); f[16] = Int64(l.dv)
                    f[8] = Int64(l.vth); f[14] = Int64(l.biasExp)
                case .loihi(.dense(let d)):
                    f[0] = Int64(addW(d.weights)); f[14] = Int64(d.weightExp + 8)   // sne.h: weight_exp + 8
                case .loihi(.conv2D(let c)):
                    f[0] = Int64(addW(c.weights))
                    f[10] = Int64(c.kh); f[11] = Int64(c.kw); f[12] = Int64(c.stride); f[13] = Int64(c.pad)
                case .stem: break                                // sne.h: in and out shape = the stem's output shape
                }
                ops.append(f)
                inS = o
            }
            return outs
        }
        for s in p.students {
            let op0 = ops.count
            outShapes.append(addOps(s.ops, input: p.studentInput(s)))
            students.append([Int64(op0), Int64(s.ops.count), Int64(s.features), 0,
                             Int64(addB(s.featMult)), Int64(addW(s.featShift.map { Int8($0) }))])
        }
        if let st = p.stem {                                     // after every student's ops (sne.h)
            stemOp0 = ops.count; stemNops = st.count
            _ = addOps(st, input: p.input)
        }
        for (k, w) in p.head.weights.enumerated() { students[k][3] = Int64(addW(w)) }
    }
}

/// The runtime's arena plan (mirror of sne_plan_student / sne_plan_gate in runtime-c/src/sne_run.c).
public enum ArenaPlan {
    static func a4(_ n: Int) -> Int { (n + 3) & ~3 }   // the C runtime's A4

    /// Arena bytes student `k` needs: its input op's output, two ping-pong buffers, the int8
    /// features and every op's state (`Op.stateBytes`, `Op.outputBufferBytes`).
    public static func studentArenaBytes(_ p: Program, _ k: Int) -> Int {
        let s = p.students[k]
        return opsArenaBytes(s.ops, input: p.studentInput(s), features: s.features)
    }

    /// Working bytes of the stem's own run (sne_plan_ops with F = 0): its input op's output, two
    /// ping-pong buffers and its ops' states; 0 without a stem.
    public static func stemWorkBytes(_ p: Program) -> Int {
        guard let st = p.stem else { return 0 }
        return opsArenaBytes(st, input: p.input, features: 0)
    }

    /// Bytes of the stem's output S kept for the students (spec §4.1): T rows of its output size,
    /// one byte per spike, each row rounded up to 4 (sne_stem_s_bytes); 0 without a stem.
    public static func stemOutputBytes(_ p: Program) -> Int {
        guard let o = p.stemOutput else { return 0 }
        return p.timesteps * a4(o.size)
    }

    /// The plan of one op list (sne_plan_ops).
    static func opsArenaBytes(_ ops: [Op], input: Shape, features: Int) -> Int {
        let outs = ProgramVerifier.outputShapes(Student(ops: ops, features: features, featMult: [], featShift: []), input: input)
        var which = 2, sz = [0, 0], states = 0, buf0 = 0
        for (j, op) in ops.enumerated() {
            let n = outs[j].size
            states += op.stateBytes(elements: n)                         // Op.swift, one fact per op
            guard let bytes = op.outputBufferBytes(elements: n) else { continue }   // flatten, readout
            if j == 0 { buf0 = bytes; continue }
            which = which == 0 ? 1 : 0                                   // ping-pong buffers
            sz[which] = max(sz[which], bytes)
        }
        return buf0 + sz[0] + sz[1] + a4(features) + states
    }

    public static func gateBytes(_ p: Program) -> Int {
        guard p.selection == .gate, let g = p.gate else { return 0 }
        let maxout = g.layers.map(\.outputs).max() ?? 0
        var b = 4 * maxout + 2 * a4(maxout)
        if g.pool > 1 { b += a4((p.input.h / g.pool) * (p.input.w / g.pool) * p.input.c) }
        return b
    }

    /// Bytes `sne_arena_size()` returns for `p`: the largest of the gate's, every student's and the
    /// stem's working plan, then the stem's output S after it (it outlives the stem's run).
    public static func arenaBytes(_ p: Program) -> Int {
        p.students.indices.map { studentArenaBytes(p, $0) }.reduce(max(gateBytes(p), stemWorkBytes(p)), max)
            + stemOutputBytes(p)
    }
}
