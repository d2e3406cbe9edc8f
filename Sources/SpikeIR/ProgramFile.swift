// The `.snep` program file (spec §9): encode, decode (validating everything, in the spec's order),
// CRC-32, atomic write and read. The decoder never reads outside the buffer, checks every size
// against the bytes actually present before allocating, and builds no partial state.
import Foundation
import SNEBase

// CRC-32 (spec §9): SNEBase `CRC32`, shared with the gzip reader.

/// Section kinds (spec §9).
public enum SectionKind: UInt32, Sendable { case header = 1, gate = 2, student = 3, head = 4, meta = 5, stem = 6 }

/// Little-endian writer.
struct ByteWriter {
    var bytes: [UInt8] = []
    mutating func u8(_ v: UInt8) { bytes.append(v) }
    mutating func u16(_ v: UInt16) { bytes.append(UInt8(v & 0xFF)); bytes.append(UInt8(v >> 8)) }
    mutating func u32(_ v: UInt32) { for i in 0..<4 { bytes.append(UInt8((v >> (8 * UInt32(i))) & 0xFF)) } }
    mutating func i32(_ v: Int32) { u32(UInt32(bitPattern: v)) }
    mutating func zeros(_ n: Int) { bytes.append(contentsOf: repeatElement(0, count: n)) }
    mutating func pad4() { zeros(align4(bytes.count) - bytes.count) }
    mutating func i8s(_ a: [Int8]) { for v in a { bytes.append(UInt8(bitPattern: v)) }; pad4() }
    mutating func i32s(_ a: [Int32]) { for v in a { i32(v) } }
    mutating func set32(_ at: Int, _ v: UInt32) { for i in 0..<4 { bytes[at + i] = UInt8((v >> (8 * UInt32(i))) & 0xFF) } }
}

/// Bounds-checked little-endian reader over `[start, end)`; every read names its field.
struct ByteReader {
    let b: [UInt8]
    var pos: Int
    let end: Int
    let context: String

    func fail(_ field: String, _ at: Int, _ reason: String) -> SpikeIRError {
        .invalid(field: field, offset: at, reason: reason)
    }
    mutating func need(_ n: Int, _ field: String) throws {
        if n < 0 || n > end - pos {
            throw fail(field, pos, "needs \(n) bytes but only \(max(end - pos, 0)) remain in the \(context)")
        }
    }
    mutating func u8(_ f: String) throws -> Int { try need(1, f); defer { pos += 1 }; return Int(b[pos]) }
    mutating func u16(_ f: String) throws -> Int {
        try need(2, f); defer { pos += 2 }; return Int(b[pos]) | Int(b[pos + 1]) << 8
    }
    mutating func u32(_ f: String) throws -> Int {
        try need(4, f); defer { pos += 4 }
        return Int(b[pos]) | Int(b[pos + 1]) << 8 | Int(b[pos + 2]) << 16 | Int(b[pos + 3]) << 24
    }
    mutating func i32(_ f: String) throws -> Int32 { Int32(truncatingIfNeeded: try u32(f)) }
    /// Reserved bytes (spec §9): must be 0.
    mutating func reserved(_ n: Int, _ f: String) throws {
        try need(n, f)
        for i in 0..<n where b[pos + i] != 0 { throw fail(f, pos + i, "reserved byte is \(b[pos + i]), must be 0") }
        pos += n
    }
    mutating func i8s(_ n: Int, _ f: String) throws -> [Int8] {
        try need(n, f)
        let r = b[pos..<(pos + n)].map { Int8(bitPattern: $0) }
        pos += n
        try reserved(align4(pos) - pos, "\(f) padding")
        return r
    }
    mutating func i32s(_ n: Int, _ f: String) throws -> [Int32] {
        try need(n.multipliedReportingOverflow(by: 4).overflow ? -1 : n * 4, f)
        var r = [Int32](); r.reserveCapacity(n)
        for _ in 0..<n { r.append(try i32(f)) }
        return r
    }
}

extension ByteReader {
    /// `u16 cout, u8 kh, kw, stride, pad, shift, u8 reserved` (spec §9: input_conv2d, conv2d).
    mutating func conv2DFields(_ f: String) throws -> Conv2D {
        let cout = try u16("\(f) cout"), kh = try u8("\(f) kh"), kw = try u8("\(f) kw")
        let st = try u8("\(f) stride"), pad = try u8("\(f) pad"), sh = try u8("\(f) shift")
        try reserved(1, "\(f) reserved")
        return Conv2D(cout: cout, kh: kh, kw: kw, stride: st, pad: pad, shift: sh, weights: [], bias: [])
    }

    /// `u32 out, u8 shift, u8 reserved[3]` (spec §9: input_dense, dense).
    mutating func denseFields(_ f: String) throws -> Dense {
        let out = try u32("\(f) out"), sh = try u8("\(f) shift")
        try reserved(3, "\(f) reserved")
        return Dense(out: out, shift: sh, weights: [], bias: [])
    }

    /// `u8 leak, u8 leak_shift, u16 leak_mult, u8 reset, u8 state_bits, u16 reserved` (spec §9: lif);
    /// `at` = the record's offset.
    mutating func lifFields(_ f: String, at: Int) throws -> LIF {
        func fail(_ field: String, _ o: Int, _ r: String) -> SpikeIRError { .invalid(field: field, offset: o, reason: r) }
        let lk = try u8("\(f) leak"), ls = try u8("\(f) leak_shift"), lm = try u16("\(f) leak_mult")
        let rst = try u8("\(f) reset"), bits = try u8("\(f) state_bits")
        try reserved(2, "\(f) reserved")
        let leak: Leak
        switch lk {
        case 0:
            if ls != 0 || lm != 0 { throw fail("\(f) leak_shift", at + 9, "leak_shift/leak_mult must be 0 for leak none") }
            leak = .none
        case 1: leak = .mulShift(mult: lm, shift: ls)
        case 2:
            if lm != 0 { throw fail("\(f) leak_mult", at + 10, "\(lm), must be 0 for leak shift") }
            leak = .shift(ls)
        default: throw fail("\(f) leak", at + 8, "\(lk), must be 0 (none), 1 (mulshift) or 2 (shift)")
        }
        guard let reset = Reset(rawValue: UInt8(rst)) else { throw fail("\(f) reset", at + 12, "\(rst), must be 0 (subtract) or 1 (zero)") }
        return LIF(stateBits: bits, thetas: [], reset: reset, leak: leak)
    }

    /// `u8 size, u8 reserved[3]` (spec §9: maxpool, avgpool).
    mutating func poolFields(_ f: String) throws -> Int {
        let sz = try u8("\(f) size")
        try reserved(3, "\(f) reserved")
        return sz
    }
}

public enum ProgramFile {
    /// Encodes a program (validating it first: an invalid program throws, spec §7).
    public static func encode(_ p: Program) throws -> [UInt8] {
        try ProgramValidator.validate(p)
        let L = FileLayout(p)
        var w = ByteWriter()
        w.bytes.append(contentsOf: Array("SNEP".utf8))
        w.u16(Program.versionMajor); w.u16(p.fileVersionMinor)
        w.u32(UInt32(L.crc + 4)); w.u32(UInt32(L.sectionCount))
        var table: [(SectionKind, Int)] = [(.header, L.header)]
        if let g = L.gate { table.append((.gate, g)) }
        if let s = L.stem { table.append((.stem, s)) }
        for s in L.students { table.append((.student, s)) }
        table.append((.head, L.head))
        if let m = L.meta { table.append((.meta, m)) }
        let ends = table.dropFirst().map(\.1) + [L.crc]
        for (i, (kind, off)) in table.enumerated() {
            w.u32(kind.rawValue); w.u32(UInt32(off))
            w.u32(UInt32(kind == .meta ? L.metaBytes.count : ends[i] - off))
        }
        // HEADER
        var name = Array(p.name.utf8); name += [UInt8](repeating: 0, count: 32 - name.count)
        w.bytes += name
        for v in [p.input.h, p.input.w, p.input.c, p.timesteps, p.students.count, p.classes] { w.u16(UInt16(v)) }
        w.u8(p.selection.rawValue); w.u8(p.stopMargin == nil ? 0 : 1); w.u16(0)
        w.i32(p.stopMargin ?? 0)
        for i in 0..<16 { w.u8(i < p.order.count ? UInt8(p.order[i]) : 0) }
        for i in 0..<16 { w.u8(i < p.inputZeroPoint.count ? p.inputZeroPoint[i] : 0) }
        if let g = p.gate {
            w.u8(UInt8(g.pool)); w.u8(UInt8(g.layers.count)); w.u16(0)
            for l in g.layers {
                w.u16(UInt16(l.inputs)); w.u16(UInt16(l.outputs)); w.i32(l.mult); w.u8(UInt8(l.shift)); w.zeros(3)
                w.i8s(l.weights); w.i32s(l.bias)
            }
        }
        func record(_ op: Op) {
                w.u8(op.opcode); w.zeros(3); w.u32(UInt32(op.recordSize))
                switch op.fields {
                case .conv(let c):
                    w.u16(UInt16(c.cout)); w.u8(UInt8(c.kh)); w.u8(UInt8(c.kw)); w.u8(UInt8(c.stride))
                    w.u8(UInt8(c.pad)); w.u8(UInt8(c.shift)); w.u8(0)
                    w.i8s(c.weights); w.i32s(c.bias)
                case .dense(let d):
                    w.u32(UInt32(d.out)); w.u8(UInt8(d.shift)); w.zeros(3)
                    w.i8s(d.weights); w.i32s(d.bias)
                case .lif(let l):
                    switch l.leak {
                    case .none: w.u8(0); w.u8(0); w.u16(0)
                    case .mulShift(let m, let s): w.u8(1); w.u8(UInt8(s)); w.u16(UInt16(m))
                    case .shift(let s): w.u8(2); w.u8(UInt8(s)); w.u16(0)
                    }
                    w.u8(l.reset.rawValue); w.u8(UInt8(l.stateBits)); w.u16(0); w.i32s(l.thetas)
                case .pool(let s):
                    w.u8(UInt8(s)); w.zeros(3)
                case .none: break
                case .loihi(let l): LoihiRules.encode(l, &w)
                }
        }
        if let st = p.stem {                                   // STEM: u16 ops, u16 reserved, records (spec §9)
            w.u16(UInt16(st.count)); w.u16(0)
            for op in st { record(op) }
        }
        for s in p.students {
            w.u16(UInt16(s.ops.count)); w.u16(UInt16(s.features)); w.i32s(s.featMult)
            w.i8s(s.featShift.map { Int8($0) })
            for op in s.ops { record(op) }
        }
        w.u16(UInt16(p.classes)); w.u16(0); w.i32s(p.head.bias)
        for hw in p.head.weights { w.i8s(hw) }
        if !L.metaBytes.isEmpty { w.bytes += L.metaBytes; w.pad4() }
        precondition(w.bytes.count == L.crc, "layout mismatch")  // internal invariant, not file data
        w.u32(CRC32.checksum(w.bytes))
        return w.bytes
    }

    /// Decodes and fully validates a program file (spec §9 "Loading", in that order).
    public static func decode(_ b: [UInt8]) throws -> Program {
        func fail(_ f: String, _ at: Int, _ r: String) -> SpikeIRError { .invalid(field: f, offset: at, reason: r) }
        if b.count < 24 { throw fail("file", 0, "\(b.count) bytes, a program file has at least 24") }
        if Array(b[0..<4]) != Array("SNEP".utf8) { throw fail("magic", 0, "not \"SNEP\" (got \(b[0..<4].map { String($0, radix: 16) }.joined(separator: " ")))") }
        var r = ByteReader(b: b, pos: 4, end: b.count, context: "file")
        let major = try r.u16("version major"), minor = try r.u16("version minor")
        if major != Int(Program.versionMajor) {
            throw fail("version major", 4, "version \(major).\(minor) file: this sne reads \(Program.versionMajor).x"
                       + (major < Int(Program.versionMajor) ? "; recompile the model" : ""))
        }
        if minor > Int(Program.versionMinor) { throw fail("version minor", 6, "\(major).\(minor), this reader reads up to \(Program.versionMajor).\(Program.versionMinor)") }
        let size = try r.u32("file size")
        if size != b.count { throw fail("file size", 8, "\(size), but the file has \(b.count) bytes") }
        let stored = UInt32(b[size - 4]) | UInt32(b[size - 3]) << 8 | UInt32(b[size - 2]) << 16 | UInt32(b[size - 1]) << 24
        let crc = CRC32.checksum(b[0..<(size - 4)])
        if stored != crc { throw fail("crc", size - 4, "stored 0x\(String(stored, radix: 16)), computed 0x\(String(crc, radix: 16))") }
        let n = try r.u32("section count")
        if n < 3 || n > 21 { throw fail("section count", 12, "\(n), must be 3…21") }
        let tableEnd = 16 + 12 * n
        if tableEnd > size - 4 { throw fail("section table", 16, "\(n) entries need \(12 * n) bytes, the file has \(size - 4 - 16) before the CRC") }
        // Section table (spec §9): kinds in order, packed at 4-aligned offsets.
        var sections: [(kind: SectionKind, off: Int, size: Int)] = []
        var expect = tableEnd
        var stage = 0   // 0 header, 1 gate, 2 stem, 3 students, 4 head, 5 meta
        for i in 0..<n {
            let at = 16 + 12 * i
            let kraw = try r.u32("section \(i) kind"), off = try r.u32("section \(i) offset"), sz = try r.u32("section \(i) size")
            guard let kind = SectionKind(rawValue: UInt32(kraw)) else { throw fail("section \(i) kind", at, "\(kraw), must be 1…6") }
            let ok: Bool
            switch kind {
            case .header: ok = i == 0; stage = 0
            case .gate: ok = stage == 0 && i == 1; stage = 1
            case .stem: ok = stage <= 1 && i > 0; stage = 2
            case .student: ok = stage <= 3 && i > 0; stage = 3
            case .head: ok = stage == 3; stage = 4
            case .meta: ok = stage == 4; stage = 5
            }
            if !ok { throw fail("section \(i) kind", at, "\(kind) out of order (HEADER, GATE?, STEM?, STUDENT×K, HEAD, META?)") }
            if kind == .stem && minor < Int(Program.stemMinorVersion) {
                throw fail("section \(i) kind", at, "a STEM section needs version ≥ \(major).\(Program.stemMinorVersion), the file is \(major).\(minor)")
            }
            if off != expect { throw fail("section \(i) offset", at + 4, "\(off), must be \(expect) (sections are packed at 4-aligned offsets in table order)") }
            if sz > size - 4 - off { throw fail("section \(i) size", at + 8, "\(sz) overruns the CRC at \(size - 4) from offset \(off)") }
            if kind != .meta && sz % 4 != 0 { throw fail("section \(i) size", at + 8, "\(sz), must be a multiple of 4") }
            sections.append((kind, off, sz))
            expect = align4(off + sz)
        }
        if stage < 4 { throw fail("section table", 16, "no HEAD section") }
        if expect != size - 4 { throw fail("section table", 16, "sections end at \(expect), the CRC is at \(size - 4)") }
        if let last = sections.last, last.kind == .meta {
            var pr = ByteReader(b: b, pos: last.off + last.size, end: size - 4, context: "file")
            try pr.reserved(size - 4 - pr.pos, "meta padding")
        }
        func reader(_ s: (kind: SectionKind, off: Int, size: Int), _ what: String) -> ByteReader {
            ByteReader(b: b, pos: s.off, end: s.off + s.size, context: "\(what) section")
        }
        func finish(_ r: ByteReader, _ what: String) throws {
            if r.pos != r.end { throw fail(what, r.pos, "section size is \(r.end - r.pos) bytes larger than its fields") }
        }

        // HEADER
        let hs = sections[0]
        if hs.size != 84 { throw fail("header size", 24, "\(hs.size), must be 84") }
        var h = ByteReader(b: b, pos: hs.off, end: hs.off + 84, context: "header section")
        let nameBytes = Array(b[hs.off..<(hs.off + 32)])
        guard let nul = nameBytes.firstIndex(of: 0) else { throw fail("header name", hs.off, "no NUL terminator in 32 bytes") }
        for i in nul..<32 where nameBytes[i] != 0 { throw fail("header name", hs.off + i, "padding after the NUL must be 0") }
        let name = String(decoding: nameBytes[..<nul], as: UTF8.self)
        h.pos += 32
        let H = try h.u16("header H"), W = try h.u16("header W"), C = try h.u16("header C")
        let T = try h.u16("header T"), K = try h.u16("header K"), classes = try h.u16("header classes")
        let sel = try h.u8("header select"), stop = try h.u8("header stop")
        try h.reserved(2, "header reserved")
        let margin = try h.i32("header margin")
        let orderBytes = Array(b[(hs.off + 52)..<(hs.off + 68)]); h.pos += 16
        let zpBytes = Array(b[(hs.off + 68)..<(hs.off + 84)]); h.pos += 16
        guard let selection = Selection(rawValue: UInt8(sel)) else { throw fail("header select", hs.off + 44, "\(sel), must be 0 (fixed) or 1 (gate)") }
        if stop > 1 { throw fail("header stop", hs.off + 45, "\(stop), must be 0 (off) or 1 (margin)") }
        if stop == 0 && margin != 0 { throw fail("header margin", hs.off + 48, "\(margin), must be 0 when stop is off") }
        let kk = min(K, 16)
        for i in kk..<16 where orderBytes[i] != 0 { throw fail("header order", hs.off + 52 + i, "entry \(i) ≥ K must be 0") }
        for i in 0..<16 where zpBytes[i] != 0 && (i >= C || C > 16) {
            throw fail("header zero_point", hs.off + 68 + i, C > 16 ? "\(zpBytes[i]), must be 0: a nonzero zero point needs C ≤ 16 (C = \(C))" : "entry \(i) ≥ C = \(C) must be 0")
        }
        let placeholder = Student(ops: [], features: 0, featMult: 0, featShift: 0)
        var p = Program(name: name, input: Shape(h: H, w: W, c: C), timesteps: T, classes: classes,
                        selection: selection, order: orderBytes.prefix(kk).map(Int.init),
                        stopMargin: stop == 1 ? margin : nil,
                        gate: selection == .gate ? Gate(pool: 1, layers: []) : nil,
                        students: [Student](repeating: placeholder, count: K),
                        head: Head(bias: [], weights: []),
                        inputZeroPoint: C <= 16 ? Array(zpBytes.prefix(C)) : [UInt8](repeating: 0, count: C))
        try ProgramValidator.validateHeader(p, at: hs.off)
        let studentSecs = sections.filter { $0.kind == .student }
        if studentSecs.count != K { throw fail("section table", 16, "\(studentSecs.count) STUDENT sections, header K = \(K)") }
        let gateSec = sections.first { $0.kind == .gate }
        if (gateSec != nil) != (selection == .gate) { throw fail("section table", 16, "a GATE section must be present iff select = gate") }

        // GATE
        if let gs = gateSec {
            var g = reader(gs, "gate")
            let pool = try g.u8("gate pool"), nl = try g.u8("gate layers")
            try g.reserved(2, "gate reserved")
            if ![1, 2, 4].contains(pool) { throw fail("gate pool", gs.off, "\(pool), must be 1, 2 or 4") }
            if nl < 1 || nl > 4 { throw fail("gate layers", gs.off + 1, "\(nl), must be 1…4") }
            var layers: [GateLayer] = [], offs: [Int] = []
            for l in 0..<nl {
                offs.append(g.pos)
                let f = "gate layer \(l)"
                let inN = try g.u16("\(f) in"), out = try g.u16("\(f) out"), mult = try g.i32("\(f) mult"), sh = try g.u8("\(f) shift")
                try g.reserved(3, "\(f) reserved")
                let w = try g.i8s(inN * out, "\(f) w")
                let bias = try g.i32s(out, "\(f) bias")
                layers.append(GateLayer(inputs: inN, outputs: out, weights: w, bias: bias, mult: mult, shift: sh))
            }
            try finish(g, "gate")
            p.gate = Gate(pool: pool, layers: layers)
            try ProgramValidator.validateGate(p, p.gate!, at: gs.off, layers: offs)
        }

        // One op list (a student's or the stem's), op by op (spec §9 "Loading"): fields and
        // ranges, typing, output shape, record_size, then the arrays.
        func decodeOps(_ s: inout ByteReader, owner: OpOwner, count nops: Int, features feats: Int) throws -> [Op] {
            var ops: [Op] = [], shape = p.input, kind = ValueKind.u8
            let who = owner.label
            for j in 0..<nops {
                let at = s.pos
                let opcode = try s.u8("\(who) op \(j) opcode")
                try s.reserved(3, "\(who) op \(j) reserved")
                let rs = try s.u32("\(who) op \(j) record_size")
                if rs < 8 || rs % 4 != 0 || rs - 8 > s.end - s.pos {
                    throw fail("\(who) op \(j) record_size", at + 4, "\(rs), must be a multiple of 4, ≥ 8 and inside the section (\(s.end - at) bytes left)")
                }
                guard let code = Opcode(rawValue: UInt8(opcode)) else {
                    throw fail("\(who) op \(j) opcode", at, "\(opcode), must be 1…\(Opcode.allCases.last!.rawValue)")
                }
                if minor < code.minorVersion {
                    throw fail("\(who) op \(j) opcode", at, "\(opcode) needs version ≥ \(major).\(code.minorVersion), the file is \(major).\(minor)")
                }
                var f = "\(who) op \(j) (\(code.name))"
                var op = try code.decodeFields(&s, f, at: at)        // Op.swift
                // a student's op 0 `stem` reads the stem's output shape (spec §3.13)
                if j == 0, op == .stem, case .student = owner, let so = p.stemOutput { shape = so }
                let (os, ok) = try ProgramValidator.validateOpParams(op, owner: owner, index: j, count: nops, input: shape, prev: kind,
                                                                 hasStem: p.stem != nil, at: at)
                if case .loihi(let l) = op { try LoihiRules.validateSource(l, previous: ops.last, "\(who) op \(j) (\(op.name))", at: at) }
                let need = op.recordSize(input: shape)
                f = "\(who) op \(j) (\(op.name))"
                if rs != need { throw fail("\(f) record_size", at + 4, "\(rs), must be \(need) for these parameters and input \(shape)") }
                op = try op.decodeArrays(&s, f, input: shape, output: os, features: feats, at: at)   // Op.swift
                ops.append(op); shape = os; kind = ok
            }
            return ops
        }

        // STEM (spec §9, §4.1): u16 ops, u16 reserved, then the op records.
        let stemSec = sections.first { $0.kind == .stem }
        if let ss = stemSec {
            var s = reader(ss, "stem")
            let nops = try s.u16("stem ops")
            try s.reserved(2, "stem reserved")
            try ProgramValidator.range("stem ops", ss.off, nops, 2, 65535)
            p.stem = try decodeOps(&s, owner: .stem, count: nops, features: 0)
            try finish(s, "stem")
        }

        // STUDENTS
        for (k, ss) in studentSecs.enumerated() {
            var s = reader(ss, "student \(k)")
            let nops = try s.u16("student \(k) ops"), feats = try s.u16("student \(k) features")
            try ProgramValidator.range("student \(k) ops", ss.off, nops, 2, 65535)
            try ProgramValidator.range("student \(k) features", ss.off + 2, feats, 1, 4096)
            let fm = try s.i32s(feats, "student \(k) feat_mult")
            let fsh = try s.i8s(feats, "student \(k) feat_shift").map { Int(UInt8(bitPattern: $0)) }
            try ProgramValidator.validateStudentFields(
                Student(ops: [Op](repeating: .flatten, count: nops), features: feats, featMult: fm, featShift: fsh), k, at: ss.off)
            let ops = try decodeOps(&s, owner: .student(k), count: nops, features: feats)
            try finish(s, "student \(k)")
            p.students[k] = Student(ops: ops, features: feats, featMult: fm, featShift: fsh)
        }
        if let ss = stemSec { try ProgramValidator.validateStemUsed(p, at: ss.off) }

        // HEAD
        guard let hd = sections.first(where: { $0.kind == .head }) else { throw fail("section table", 16, "no HEAD section") }
        var hr = reader(hd, "head")
        let hc = try hr.u16("head classes")
        try hr.reserved(2, "head reserved")
        if hc != classes { throw fail("head classes", hd.off, "\(hc), must equal the header's classes \(classes)") }
        let bias = try hr.i32s(classes, "head bias")
        var hw: [[Int8]] = []
        for k in 0..<K { hw.append(try hr.i8s(p.students[k].features * classes, "head w_\(k)")) }
        try finish(hr, "head")
        p.head = Head(bias: bias, weights: hw)

        // META (spec §9): bytes. Lines split on 0x0A only; key = bytes before the first '=';
        // key equality is byte equality. Checks: UTF-8 of the whole text, then line by line.
        if let ms = sections.first(where: { $0.kind == .meta }) {
            let bytes = Array(b[ms.off..<(ms.off + ms.size)])
            if let bad = Meta.firstInvalidUTF8(bytes) { throw fail("meta", ms.off + bad, "not valid UTF-8") }
            var meta = Meta(), line = 0
            while line < bytes.count {
                let eol = bytes[line...].firstIndex(of: 0x0A) ?? bytes.count
                if eol > line {
                    guard let eq = bytes[line..<eol].firstIndex(of: 0x3D), eq > line else {
                        throw fail("meta", ms.off + line, "line is not key=value")
                    }
                    let key = Array(bytes[line..<eq])
                    if meta[bytes: key] != nil {
                        throw fail("meta", ms.off + line, "duplicate key '\(Meta.printable(key))'")
                    }
                    meta[bytes: key] = Array(bytes[(eq + 1)..<eol])
                }
                line = eol + 1
            }
            p.meta = meta
        }
        // Everything else (head shapes, static bounds §7): offsets are the file's (canonical layout).
        try ProgramValidator.validate(p)
        return p
    }

    /// Reads and decodes a program file.
    public static func read(path: String) throws -> Program {
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw SpikeIRError.io(path: path, reason: "cannot read: \(error.localizedDescription)")
        }
        return try decode([UInt8](data))
    }

    /// Encodes and writes atomically (SNEBase `AtomicFile`: temporary file + rename).
    public static func write(_ p: Program, path: String) throws {
        let bytes = try encode(p)
        do { try AtomicFile.write(bytes, to: path) } catch let e as AtomicWriteError {
            throw SpikeIRError.io(path: e.path, reason: e.reason)
        }
    }
}
