// A program flattened into the runtime's descriptor tables (runtime-c/include/sne.h):
// one int8 table, one int32 table, op/student/gate descriptors with element offsets.
import SpikeIR

/// Descriptor field values, in the C structs' field order.
public struct ModelTables: Sendable {
    public var w8: [Int8] = []
    public var b32: [Int32] = []
    /// One `sne_op` per op (runtime-c/include/sne.h): opcode, shapes and its family's parameters.
    public var ops: [OpDescriptor] = []
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
    public static let opDescriptorBytes = 56, studentDescriptorBytes = 24, gateLayerDescriptorBytes = 24

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
            let outs = ProgramValidator.outputShapes(Student(ops: list, features: 0, featMult: [], featShift: []), input: input)
            var inS = input
            for (j, op) in list.enumerated() {
                let o = outs[j]
                let win = { (c: Conv2D) -> [Int64] in [Int64(c.kh), Int64(c.kw), Int64(c.stride), Int64(c.pad)] }
                let params: OpDescriptor.Params
                switch op.fields {                               // the record's fields (SpikeIR OpFields)
                case .conv(let c):
                    params = .syn(w: Int64(addW(c.weights)), b: Int64(addB(c.bias)), shift: Int64(c.shift), window: win(c))
                case .dense(let d):
                    params = .syn(w: Int64(addW(d.weights)), b: Int64(addB(d.bias)), shift: Int64(d.shift), window: [0, 0, 0, 0])
                case .lif(let l):
                    let theta = Int64(addB(l.thetas))
                    let (leak, ls, lm): (Int64, Int64, Int64)
                    switch l.leak {
                    case .none: (leak, ls, lm) = (0, 0, 0)
                    case .mulShift(let m, let s): (leak, ls, lm) = (1, Int64(s), Int64(m))
                    case .shift(let s): (leak, ls, lm) = (2, Int64(s), 0)
                    }
                    params = .lif(theta: theta, leak: leak, leakShift: ls, leakMult: lm,
                                  reset: Int64(l.reset.rawValue), stateBits: Int64(l.stateBits))
                case .pool(let q): params = .pool(size: Int64(q))
                case .loihi(.lif(let l)):
                    // int16 LE bias_mant bytes in w8 (sne_loihi_lif_params.bias_mant, both modes)
                    let bm = Int64(addW(l.biasMant.flatMap { v -> [Int8] in
                        let u = UInt16(bitPattern: v)
                        return [Int8(bitPattern: UInt8(u & 0xFF)), Int8(bitPattern: UInt8(u >> 8))]
                    }))
                    params = .loihiLIF(biasMant: bm, source: Int64(l.source.rawValue), du: Int64(l.du), dv: Int64(l.dv),
                                       vth: Int64(l.vth), biasExp: Int64(l.biasExp))
                case .loihi(.dense(let d)):
                    params = .loihiDense(w: Int64(addW(d.weights)), weightExp: Int64(d.weightExp))
                case .loihi(.conv2D(let c)):
                    params = .loihiConv2D(w: Int64(addW(c.weights)), window: [Int64(c.kh), Int64(c.kw), Int64(c.stride), Int64(c.pad)])
                case .none: params = .none                       // flatten, readout, stem (sne.h: all words 0)
                }
                let f = OpDescriptor(opcode: Int64(op.opcode), input: [Int64(inS.h), Int64(inS.w), Int64(inS.c)],
                                     output: [Int64(o.h), Int64(o.w), Int64(o.c)], params: params)
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

/// One `sne_op` descriptor (runtime-c/include/sne.h): the opcode, the input and output shapes and
/// the parameters of the opcode's family (the member of the `sne_op_params` union it fills).
public struct OpDescriptor: Sendable, Equatable {
    /// The `sne_op_params` member and its fields, in the C structs' field order.
    public enum Params: Sendable, Equatable {
        /// `syn` (sne_syn_params): input_conv2d, input_dense, conv2d, dense. window: kh, kw, stride, pad (dense: 0s).
        case syn(w: Int64, b: Int64, shift: Int64, window: [Int64])
        /// `lif` (sne_lif_params): theta is the b32 offset of the per-channel thresholds.
        case lif(theta: Int64, leak: Int64, leakShift: Int64, leakMult: Int64, reset: Int64, stateBits: Int64)
        /// `pool` (sne_pool_params): maxpool, avgpool.
        case pool(size: Int64)
        /// `loihi_lif` (sne_loihi_lif_params): biasMant is the w8 byte offset of int16 LE bias_mant; vth a value.
        case loihiLIF(biasMant: Int64, source: Int64, du: Int64, dv: Int64, vth: Int64, biasExp: Int64)
        /// `loihi_dense` (sne_loihi_dense_params).
        case loihiDense(w: Int64, weightExp: Int64)
        /// `loihi_conv2d` (sne_loihi_conv2d_params). window: kh, kw, stride, pad.
        case loihiConv2D(w: Int64, window: [Int64])
        /// flatten, readout, stem: no parameters (all words 0).
        case none
    }
    public var opcode: Int64
    public var input: [Int64], output: [Int64]   // h, w, c
    public var params: Params

    /// The C99 initializer of this `sne_op`: positional common fields, then the union member by
    /// designator (`{.syn = {...}}`); an op without parameters zero-initializes the union (`{{0}}`).
    public var cInitializer: String {
        func list(_ v: [Int64]) -> String { v.map(String.init).joined(separator: ",") }
        let par: String
        switch params {
        case .syn(let w, let b, let shift, let window): par = "{.syn={\(list([w, b, shift])),{\(list(window))}}}"
        case .lif(let th, let leak, let ls, let lm, let reset, let bits): par = "{.lif={\(list([th, leak, ls, lm, reset, bits]))}}"
        case .pool(let size): par = "{.pool={\(size)}}"
        case .loihiLIF(let bm, let src, let du, let dv, let vth, let be): par = "{.loihi_lif={\(list([bm, src, du, dv, vth, be]))}}"
        case .loihiDense(let w, let e): par = "{.loihi_dense={\(w),\(e)}}"
        case .loihiConv2D(let w, let window): par = "{.loihi_conv2d={\(w),{\(list(window))}}}"
        case .none: par = "{{0}}"
        }
        return "{" + list([opcode] + input + output) + "," + par + "}"
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
        let outs = ProgramValidator.outputShapes(Student(ops: ops, features: features, featMult: [], featShift: []), input: input)
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
