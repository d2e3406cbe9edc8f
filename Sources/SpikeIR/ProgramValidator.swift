// The validator (the static rules of a program): ranges, typing, shapes and the static bounds of spec §7, with every failure
// naming the field and its byte offset in the (canonical, spec §9) file layout of the program.

/// The kind of value flowing between student ops (spec §1).
public enum ValueKind: String, Sendable { case u8 = "U8", cur = "CUR", spk = "SPK", feat = "FEAT" }

@inline(__always) func align4(_ n: Int) -> Int { (n + 3) & ~3 }

/// Byte offsets of every section and op record in the canonical (packed) file layout (spec §9).
public struct FileLayout: Sendable {
    public var sectionCount: Int
    public var header: Int
    public var gate: Int?
    /// Per gate layer: offset of its 12-byte layer header.
    public var gateLayers: [Int]
    /// The STEM section (spec §9), nil without a stem; `stemOps[j]`: offset of stem op j's record.
    public var stem: Int?
    public var stemOps: [Int]
    public var students: [Int]
    /// `ops[k][j]`: offset of op j's record in student k.
    public var ops: [[Int]]
    public var head: Int
    public var meta: Int?
    public var metaBytes: [UInt8]
    /// Offset of the CRC; file size = crc + 4.
    public var crc: Int

    /// Bytes of a STUDENT section's fixed part: `u16 ops, u16 features, i32 feat_mult[F], u8 feat_shift[F]` (+pad).
    static func studentHeaderSize(features f: Int) -> Int { 4 + 4 * f + align4(f) }

    public init(_ p: Program) {
        metaBytes = p.meta.bytes
        sectionCount = 2 + (p.gate != nil ? 1 : 0) + (p.stem != nil ? 1 : 0) + p.students.count + (metaBytes.isEmpty ? 0 : 1)
        var at = 16 + 12 * sectionCount
        header = at; at += 84
        gateLayers = []
        if let g = p.gate {
            gate = at; at += 4
            for l in g.layers { gateLayers.append(at); at += 12 + align4(l.weights.count) + 4 * l.bias.count }
        } else { gate = nil }
        stemOps = []
        if let st = p.stem {
            stem = at; at += 4                                   // u16 ops, u16 reserved
            for op in st { stemOps.append(at); at += op.recordSize }
        } else { stem = nil }
        students = []; ops = []
        for s in p.students {
            students.append(at); at += FileLayout.studentHeaderSize(features: s.features)
            var o: [Int] = []
            for op in s.ops { o.append(at); at += op.recordSize }
            ops.append(o)
        }
        head = at; at += 4 + 4 * p.head.bias.count
        for w in p.head.weights { at += align4(w.count) }
        if metaBytes.isEmpty { meta = nil } else { meta = at; at += align4(metaBytes.count) }
        crc = at
    }
}

/// Who owns an op list: a student or the shared stem (spec §3, §4.1). Names it in messages.
public enum OpOwner: Sendable, Equatable {
    case student(Int), stem
    public var label: String {
        switch self {
        case .student(let k): "student \(k)"
        case .stem: "stem"
        }
    }
}

public enum ProgramValidator {
    static let B: Int = Int(Int32.max)
    static let maxSize = 1 << 20

    @inline(__always) static func fail(_ field: String, _ at: Int, _ reason: String) -> SpikeIRError {
        .invalid(field: field, offset: at, reason: reason)
    }
    static func range(_ field: String, _ at: Int, _ v: Int, _ lo: Int, _ hi: Int) throws {
        if v < lo || v > hi { throw fail(field, at, "\(v), must be \(lo)…\(hi)") }
    }

    /// Output shapes of every op of a (valid) student whose op 0 reads `input` (the image, or for a
    /// student starting with `stem` the stem's output shape: use `outputShapes(_:student:)`).
    public static func outputShapes(_ s: Student, input: Shape) -> [Shape] {
        var shape = input, r: [Shape] = []
        for op in s.ops { shape = op.outputShape(shape); r.append(shape) }
        return r
    }

    /// Output shapes of every op of student `k` of `p` (op 0 `stem` outputs the stem's output shape).
    public static func outputShapes(_ p: Program, student k: Int) -> [Shape] {
        outputShapes(p.students[k], input: p.studentInput(p.students[k]))
    }

    /// True for a name of 1…31 chars `[A-Za-z_][A-Za-z0-9_]*` (spec §2).
    public static func validName(_ n: String) -> Bool {
        let u = Array(n.utf8)
        guard (1...31).contains(u.count) else { return false }
        func alpha(_ c: UInt8) -> Bool { (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c == 95 }
        return alpha(u[0]) && u.allSatisfy { alpha($0) || ($0 >= 48 && $0 <= 57) }
    }

    /// Checks the header fields (spec §2, §9 HEADER). `at` = HEADER section offset.
    static func validateHeader(_ p: Program, at h: Int) throws {
        guard validName(p.name) else {
            throw fail("header name", h, "'\(p.name.prefix(40))' must be 1…31 chars [A-Za-z_][A-Za-z0-9_]*")
        }
        try range("header H", h + 32, p.input.h, 1, 4096)
        try range("header W", h + 34, p.input.w, 1, 4096)
        try range("header C", h + 36, p.input.c, 1, 4096)
        if p.input.size > maxSize { throw fail("header H·W·C", h + 32, "input size \(p.input.size) exceeds 2^20") }
        try range("header T", h + 38, p.timesteps, 1, 1024)
        try range("header K", h + 40, p.students.count, 1, 16)
        try range("header classes", h + 42, p.classes, 2, 1024)
        if (p.selection == .gate) != (p.gate != nil) {
            throw fail("header select", h + 44, "select = \(p.selection) but the gate is \(p.gate == nil ? "absent" : "present")")
        }
        if let m = p.stopMargin, m < 0 { throw fail("header margin", h + 48, "\(m), must be 0…2^31−1") }
        let K = p.students.count
        if p.order.count != K || Set(p.order) != Set(0..<K) {
            throw fail("header order", h + 52, "\(p.order) is not a permutation of 0…\(K - 1)")
        }
        try validateZeroPoint(p, at: h)
    }

    /// `input_zero_point` (spec §3.1, §9 HEADER bytes 68…83): C entries; a nonzero entry needs C ≤ 16.
    static func validateZeroPoint(_ p: Program, at h: Int) throws {
        let zp = p.inputZeroPoint, C = p.input.c
        if zp.count != C { throw fail("header zero_point", h + 68, "\(zp.count) entries, must be C = \(C)") }
        if C > 16, let i = zp.firstIndex(where: { $0 != 0 }) {
            throw fail("header zero_point", h + 68, "channel \(i) is \(zp[i]); a nonzero input zero point needs C ≤ 16 (C = \(C))")
        }
    }

    /// Checks gate fields and shapes (spec §5.1, §9 GATE). Returns nothing; throws on failure.
    static func validateGate(_ p: Program, _ g: Gate, at: Int, layers: [Int]) throws {
        guard [1, 2, 4].contains(g.pool) else { throw fail("gate pool", at, "\(g.pool), must be 1, 2 or 4") }
        let ph = p.input.h / g.pool, pw = p.input.w / g.pool
        if ph < 1 || pw < 1 { throw fail("gate pool", at, "pool \(g.pool) leaves an empty \(ph)x\(pw) map from \(p.input)") }
        try range("gate layers", at + 1, g.layers.count, 1, 4)
        var expectIn = ph * pw * p.input.c
        for (l, layer) in g.layers.enumerated() {
            let o = l < layers.count ? layers[l] : at + 4
            let f = "gate layer \(l)"
            if layer.inputs != expectIn { throw fail("\(f) in", o, "\(layer.inputs), must be \(expectIn)") }
            try range("\(f) in", o, layer.inputs, 1, 65535)
            let last = l == g.layers.count - 1
            if last {
                if layer.outputs != p.students.count { throw fail("\(f) out", o + 2, "\(layer.outputs), the last layer must have out = K = \(p.students.count)") }
                if layer.mult != 0 || layer.shift != 0 { throw fail("\(f) mult", o + 4, "the last layer must have mult = shift = 0") }
            } else {
                try range("\(f) out", o + 2, layer.outputs, 1, 65535)
                try range("\(f) mult", o + 4, Int(layer.mult), 0, B)
                try range("\(f) shift", o + 8, layer.shift, 0, 62)
            }
            if layer.weights.count != layer.inputs * layer.outputs {
                throw fail("\(f) w", o + 12, "\(layer.weights.count) weights, must be in·out = \(layer.inputs * layer.outputs)")
            }
            if layer.bias.count != layer.outputs {
                throw fail("\(f) bias", o + 12 + align4(layer.weights.count), "\(layer.bias.count) biases, must be \(layer.outputs)")
            }
            expectIn = layer.outputs
        }
    }

    /// Student header fields (spec §4, §9 STUDENT): counts, then every feat_mult[i], then every feat_shift[i].
    static func validateStudentFields(_ s: Student, _ k: Int, at: Int) throws {
        try range("student \(k) ops", at, s.ops.count, 2, 65535)
        try range("student \(k) features", at + 2, s.features, 1, 4096)
        let F = s.features
        if s.featMult.count != F { throw fail("student \(k) feat_mult", at + 4, "\(s.featMult.count) entries, must be F = \(F)") }
        if s.featShift.count != F { throw fail("student \(k) feat_shift", at + 4 + 4 * F, "\(s.featShift.count) entries, must be F = \(F)") }
        for (i, m) in s.featMult.enumerated() { try range("student \(k) feat_mult[\(i)]", at + 4 + 4 * i, Int(m), 0, B) }
        for (i, sh) in s.featShift.enumerated() { try range("student \(k) feat_shift[\(i)]", at + 4 + 4 * F + i, sh, 0, 62) }
    }

    /// A lif op's thresholds (spec §3.5): one per channel `C` of its shape, each 1 … 2^(state_bits−1) − 1.
    /// `at` = the op record's offset (thresholds start at `at + 16`).
    static func validateThetas(_ l: LIF, channels C: Int, _ f: String, at: Int) throws {
        if l.thetas.count != C { throw fail("\(f) theta", at + 16, "\(l.thetas.count) thresholds, must be one per channel, C = \(C)") }
        let hi = (1 << (l.stateBits - 1)) - 1
        for (c, t) in l.thetas.enumerated() { try range("\(f) theta[\(c)]", at + 16 + 4 * c, Int(t), 1, hi) }
    }

    /// A readout's size (spec §3.9): the student's features F.
    static func validateReadoutSize(_ o: Shape, features: Int, _ f: String, at: Int) throws {
        if o.size != features { throw fail(f, at, "readout size \(o.size) ≠ the student's features \(features)") }
    }

    /// One op's parameter ranges, typing and output shape (spec §3, §4.1, §7.6); arrays are not
    /// looked at. `owner` = a student or the stem; `prev` = the kind flowing in; `hasStem` = the
    /// program has a stem (a student's `stem` op needs one). Returns the output shape and kind.
    public static func validateOpParams(_ op: Op, owner: OpOwner, index j: Int, count n: Int,
                                     input s: Shape, prev: ValueKind, hasStem: Bool, at: Int) throws -> (Shape, ValueKind) {
        let f = "\(owner.label) op \(j) (\(op.name))"
        let (inK, outK) = op.kinds
        try op.validateParams(f, at: at)                       // ranges (Op.swift)
        switch owner {
        case .student:
            // typing (spec §3): op 0 is an input op or `stem`, kinds chain, readout last and only there.
            if op == .stem && j > 0 { throw fail(f, at, "stem must be op 0 of a student") }
            if op == .stem && !hasStem { throw fail(f, at, "the program has no stem (no STEM section, spec §4.1)") }
            if j == 0 && inK != .u8 { throw fail(f, at, "op 0 must be input_conv2d, input_dense or stem") }
            if j > 0 && inK != prev { throw fail(f, at, "consumes \(inK.rawValue) but the previous op produces \(prev.rawValue)") }
            if (j == n - 1) != (outK == .feat) { throw fail(f, at, j == n - 1 ? "the last op must be readout" : "readout must be the last op") }
        case .stem:
            // typing (spec §4.1): op 0 an input op, then any op but input ops, readout and stem;
            // kinds chain; the last op produces SPK.
            if op == .stem || outK == .feat { throw fail(f, at, "\(op.name) is not allowed in the stem (spec §4.1)") }
            if j == 0 && inK != .u8 { throw fail(f, at, "stem op 0 must be input_conv2d or input_dense") }
            if j > 0 && inK != prev { throw fail(f, at, "consumes \(inK.rawValue) but the previous op produces \(prev.rawValue)") }
            if j == n - 1 && outK != .spk { throw fail(f, at, "the last op of the stem must produce SPK, it produces \(outK.rawValue)") }
        }
        // shapes (spec §7.6)
        let o = op.outputShape(s)
        if o.h < 1 || o.w < 1 || o.c < 1 { throw fail(f, at, "output shape \(o.h)x\(o.w)x\(o.c) from input \(s) has an empty dimension") }
        if o.size > maxSize { throw fail(f, at, "output size \(o.size) exceeds 2^20") }
        return (o, outK)
    }

    /// Checks one student completely except the static bounds.
    static func validateStudent(_ p: Program, _ k: Int, at: Int, ops: [Int]) throws {
        let s = p.students[k]
        try validateStudentFields(s, k, at: at)
        try validateOps(s.ops, owner: .student(k), features: s.features, p, at: at, ops: ops)
    }

    /// The stem (spec §4.1, §9 STEM): 2…65535 ops, typing, shapes, arrays. `at` = section offset.
    static func validateStem(_ p: Program, at: Int, ops: [Int]) throws {
        guard let st = p.stem else { return }
        try range("stem ops", at, st.count, 2, 65535)
        try validateOps(st, owner: .stem, features: 0, p, at: at, ops: ops)
    }

    /// A program with a stem has at least one student whose op 0 is `stem` (spec §4.1); checked
    /// after the students. `at` = the STEM section's offset.
    static func validateStemUsed(_ p: Program, at: Int) throws {
        if p.stem != nil && p.stemStudents.isEmpty {
            throw fail("stem", at, "no student's op 0 is stem; a program with a stem needs at least one (spec §4.1)")
        }
    }

    /// The op list of a student or of the stem: parameters, typing, shapes and arrays (not the bounds).
    static func validateOps(_ list: [Op], owner: OpOwner, features: Int, _ p: Program, at: Int, ops: [Int]) throws {
        var shape = p.input, kind = ValueKind.u8
        if case .student = owner, list.first == .stem { shape = p.stemOutput ?? p.input }
        for (j, op) in list.enumerated() {
            let o = j < ops.count ? ops[j] : at
            let f = "\(owner.label) op \(j) (\(op.name))"
            let (os, ok) = try validateOpParams(op, owner: owner, index: j, count: list.count, input: shape, prev: kind,
                                             hasStem: p.stem != nil, at: o)
            try op.validateArrays(f, input: shape, output: os, features: features, previous: j > 0 ? list[j - 1] : nil, at: o)
            shape = os; kind = ok
        }
    }

    static func validateHead(_ p: Program, at: Int) throws {
        let h = p.head
        if h.bias.count != p.classes { throw fail("head classes", at, "\(h.bias.count), must equal the header's classes \(p.classes)") }
        if h.weights.count != p.students.count { throw fail("head", at, "\(h.weights.count) weight matrices, must be K = \(p.students.count)") }
        var o = at + 4 + 4 * p.classes
        for (k, w) in h.weights.enumerated() {
            let need = p.students[k].features * p.classes
            if w.count != need { throw fail("head w_\(k)", o, "\(w.count) weights, must be F_\(k)·classes = \(need)") }
            o += align4(w.count)
        }
    }

    /// META entries (spec §9): key non-empty without `=` (0x3D) or `\n` (0x0A), value without `\n`,
    /// both valid UTF-8. Byte strings: no normalisation. `at` = the entry's line offset.
    static func validateMeta(_ p: Program, at: Int) throws {
        var o = at
        for e in p.meta.entries {
            let k = Meta.printable(e.key)
            if e.key.isEmpty || e.key.contains(0x3D) || e.key.contains(0x0A) {
                throw fail("meta", o, "key '\(k)' must be non-empty without '=' or newline")
            }
            if e.value.contains(0x0A) { throw fail("meta", o, "the value of key '\(k)' contains a newline") }
            if Meta.firstInvalidUTF8(e.key) != nil || Meta.firstInvalidUTF8(e.value) != nil {
                throw fail("meta", o, "key '\(k)' or its value is not valid UTF-8")
            }
            o += e.key.count + e.value.count + 2
        }
    }

    // MARK: static bounds (spec §7)

    /// `2^(shift−1)`, 0 when shift = 0 (spec §7).
    @inline(__always) static func half(_ s: Int) -> Int { s == 0 ? 0 : 1 << (s - 1) }

    /// Per-output `Σ|w|` for a `[in][out]` (or `[cin·kh·kw][cout]`) weight array.
    static func absSums(_ w: [Int8], out: Int) -> [Int] {
        var s = [Int](repeating: 0, count: out)
        w.withUnsafeBufferPointer { w in
            var i = 0
            while i < w.count { for o in 0..<out { s[o] += abs(Int(w[i + o])) }; i += out }
        }
        return s
    }

    /// Bound check of a synaptic op (§7.1/§7.3); returns curmax = max over channels (§7.4).
    static func synapticBound(_ f: String, _ at: Int, w: [Int8], bias: [Int32], shift: Int, scale: Int) throws -> Int {
        let sums = absSums(w, out: bias.count)
        var curmax = 0
        for o in 0..<bias.count {
            let a = abs(Int(bias[o])) + scale * sums[o] + half(shift)
            if a > B { throw fail(f, at, "static bound §7 fails for output \(o): |bias| + \(scale == 1 ? "" : "\(scale)·")Σ|w| + 2^(shift−1) = \(a) > 2^31−1") }
            curmax = max(curmax, (a + (1 << shift) - 1) >> shift)
        }
        return curmax
    }

    static func validateBounds(_ p: Program, _ L: FileLayout) throws {
        if let g = p.gate {
            for (l, layer) in g.layers.enumerated() {
                let sums = absSums(layer.weights, out: layer.outputs)
                let scale = l == 0 ? 255 : 127
                for o in 0..<layer.outputs {
                    let a = abs(Int(layer.bias[o])) + scale * sums[o]
                    if a > B { throw fail("gate layer \(l) w", L.gateLayers[l] + 12, "static bound §7.2 fails for output \(o): |bias| + \(scale)·Σ|w| = \(a) > 2^31−1") }
                }
            }
        }
        if let st = p.stem { try opBounds(st, owner: .stem, p, at: L.stemOps) }
        for (k, s) in p.students.enumerated() { try opBounds(s.ops, owner: .student(k), p, at: L.ops[k]) }
        var sums = [Int](repeating: 0, count: p.classes)
        for w in p.head.weights {
            let s = absSums(w, out: p.classes)
            for c in 0..<p.classes { sums[c] += s[c] }
        }
        for c in 0..<p.classes {
            let a = abs(Int(p.head.bias[c])) + 128 * sums[c]
            if a > B { throw fail("head bias", L.head + 4 + 4 * c, "static bound §7.5 fails for class \(c): |bias| + 128·ΣΣ|w| = \(a) > 2^31−1") }
        }
    }

    /// §7.1, §7.3, §7.4, §7.8 along one op list (a student's or the stem's); `at[j]` = op j's offset.
    static func opBounds(_ ops: [Op], owner: OpOwner, _ p: Program, at offsets: [Int]) throws {
            var curmax = 0
            for (j, op) in ops.enumerated() {
                let f = "\(owner.label) op \(j) (\(op.name))", at = offsets[j]
                curmax = try op.bound(curmax: curmax, timesteps: p.timesteps, f, at: at)   // Op.swift
            }
    }

    /// Validates a whole in-memory program (spec §2–§7); offsets refer to its canonical file layout.
    public static func validate(_ p: Program) throws {
        let L = FileLayout(p)
        try validateHeader(p, at: L.header)
        if let g = p.gate { try validateGate(p, g, at: L.gate!, layers: L.gateLayers) }
        if p.stem != nil { try validateStem(p, at: L.stem!, ops: L.stemOps) }
        for k in p.students.indices { try validateStudent(p, k, at: L.students[k], ops: L.ops[k]) }
        if let at = L.stem { try validateStemUsed(p, at: at) }
        try validateHead(p, at: L.head)
        try validateMeta(p, at: L.meta ?? L.crc)
        try validateBounds(p, L)
    }
}
