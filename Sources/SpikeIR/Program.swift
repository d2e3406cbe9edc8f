// The in-memory Spike IR program: plain value types mirroring docs/spike-ir.md §2–§6 and §9.
//
// These types carry no behaviour beyond shape arithmetic; the codec (`ProgramCodec`), the
// validator (`ProgramValidator`) and the interpreter (`Interpreter`) give them meaning. A
// `Program` value may be invalid; only `ProgramValidator` (run by every loader) says it is not.

/// An activation shape, stored HWC (spec §1).
public struct Shape: Hashable, Sendable, CustomStringConvertible {
    public var h: Int, w: Int, c: Int
    public init(h: Int, w: Int, c: Int) { self.h = h; self.w = w; self.c = c }
    /// A vector `(1, 1, n)`.
    public static func vector(_ n: Int) -> Shape { Shape(h: 1, w: 1, c: n) }
    public var size: Int { h * w * c }
    public var description: String { "\(h)x\(w)x\(c)" }
}

/// The membrane leak of a `lif` op (spec §3.5).
public enum Leak: Hashable, Sendable {
    /// `v' = v` (integrate-and-fire).
    case none
    /// `v' = rshr(v · mult, shift)`, `0 ≤ shift ≤ 15`, `0 ≤ mult ≤ 2^shift`.
    case mulShift(mult: Int, shift: Int)
    /// `v' = v − rshr(v, shift)`, `1 ≤ shift ≤ 31`.
    case shift(Int)
}

/// What a `lif` op does after a spike (spec §3.5 step 4).
public enum Reset: UInt8, Hashable, Sendable {
    case subtract = 0
    case zero = 1
}

/// A convolution's geometry and parameters (spec §3.1, §3.3). Weights are `[cin][kh][kw][cout]`.
public struct Conv2D: Hashable, Sendable {
    public var cout: Int, kh: Int, kw: Int, stride: Int, pad: Int, shift: Int
    /// int8 weights, layout (C_in, kh, kw, C_out), `cin·kh·kw·cout` elements.
    public var weights: [Int8]
    /// int32 bias, `cout` elements.
    public var bias: [Int32]
    public init(cout: Int, kh: Int, kw: Int, stride: Int, pad: Int, shift: Int, weights: [Int8], bias: [Int32]) {
        self.cout = cout; self.kh = kh; self.kw = kw; self.stride = stride; self.pad = pad
        self.shift = shift; self.weights = weights; self.bias = bias
    }
    /// Output shape for an input shape (spec §3.1); dimensions may be ≤ 0 for invalid programs.
    public func outputShape(_ s: Shape) -> Shape {
        // floor division (spec §3.1): a kernel larger than the padded input gives 0, not 1.
        func dim(_ n: Int, _ k: Int) -> Int { n + 2 * pad < k || stride < 1 ? 0 : (n + 2 * pad - k) / stride + 1 }
        return Shape(h: dim(s.h, kh), w: dim(s.w, kw), c: cout)
    }
}

/// A fully connected layer (spec §3.2, §3.4). Weights are `[in][out]`.
public struct Dense: Hashable, Sendable {
    public var out: Int, shift: Int
    /// int8 weights, layout (in, out).
    public var weights: [Int8]
    /// int32 bias, `out` elements.
    public var bias: [Int32]
    public init(out: Int, shift: Int, weights: [Int8], bias: [Int32]) {
        self.out = out; self.shift = shift; self.weights = weights; self.bias = bias
    }
}

/// A leaky integrate-and-fire layer's parameters (spec §3.5).
public struct LIF: Hashable, Sendable {
    public var stateBits: Int
    /// Per-channel thresholds: one per channel `c` of the op's `(H, W, C)` shape (for a vector
    /// `(1, 1, N)` one per element), each `1 … 2^(stateBits−1) − 1`. Neuron `(y, x, c)` fires on
    /// `v ≥ thetas[c]`.
    public var thetas: [Int32]
    public var reset: Reset, leak: Leak
    public init(stateBits: Int = 32, thetas: [Int32], reset: Reset = .subtract, leak: Leak = .none) {
        self.stateBits = stateBits; self.thetas = thetas; self.reset = reset; self.leak = leak
    }
    /// One threshold shared by all `channels` channels.
    public init(stateBits: Int = 32, theta: Int32, reset: Reset = .subtract, leak: Leak = .none, channels: Int) {
        self.init(stateBits: stateBits, thetas: [Int32](repeating: theta, count: channels), reset: reset, leak: leak)
    }
}

// `Op`, its opcodes and per-op facts: Op.swift.

/// One spiking student (spec §3, §4).
public struct Student: Hashable, Sendable {
    public var ops: [Op]
    /// Readout size F (spec §3.9).
    public var features: Int
    /// Per-feature requantization to int8 for the head (spec §4): `F` entries each,
    /// `q[i] = requant(f[i], featMult[i], featShift[i], −128, 127)`.
    public var featMult: [Int32], featShift: [Int]
    public init(ops: [Op], features: Int, featMult: [Int32], featShift: [Int]) {
        self.ops = ops; self.features = features; self.featMult = featMult; self.featShift = featShift
    }
    /// One multiplier and shift shared by all `features` features.
    public init(ops: [Op], features: Int, featMult: Int32, featShift: Int) {
        self.init(ops: ops, features: features, featMult: [Int32](repeating: featMult, count: features),
                  featShift: [Int](repeating: featShift, count: features))
    }
}

/// One gate layer (spec §5.1); hidden layers requantize with `mult`/`shift` and ReLU.
public struct GateLayer: Hashable, Sendable {
    public var inputs: Int, outputs: Int
    /// int8 weights, layout (in, out).
    public var weights: [Int8]
    public var bias: [Int32]
    /// Requantization of a hidden layer; 0/0 on the last layer.
    public var mult: Int32, shift: Int
    public init(inputs: Int, outputs: Int, weights: [Int8], bias: [Int32], mult: Int32, shift: Int) {
        self.inputs = inputs; self.outputs = outputs; self.weights = weights; self.bias = bias
        self.mult = mult; self.shift = shift
    }
}

/// The gate: input pooling then a small integer MLP producing K scores (spec §5.1).
public struct Gate: Hashable, Sendable {
    public var pool: Int
    public var layers: [GateLayer]
    public init(pool: Int, layers: [GateLayer]) { self.pool = pool; self.layers = layers }
}

/// The head: `bias[classes]` plus one `[F_k][classes]` int8 matrix per student (spec §6).
public struct Head: Hashable, Sendable {
    public var bias: [Int32]
    /// `weights[k]` has layout (F_k, classes).
    public var weights: [[Int8]]
    public init(bias: [Int32], weights: [[Int8]]) { self.bias = bias; self.weights = weights }
}

/// How the run order of students is chosen (spec §5).
public enum Selection: UInt8, Hashable, Sendable {
    case fixed = 0
    case gate = 1
}

/// A whole Spike IR program (spec §2).
public struct Program: Hashable, Sendable {
    public static let versionMajor: UInt16 = 2
    /// The newest minor version this reader accepts: the newest `Opcode.minorVersion` (2.1 adds
    /// the Loihi ops, opcodes 10–12; 2.2 the shared stem, opcode 13 and the STEM section), so a
    /// new op's version is stated once, with the op.
    public static let versionMinor: UInt16 = max(Opcode.allCases.map(\.minorVersion).max() ?? 0, stemMinorVersion)

    /// The minor version that introduced the shared stem (spec §4.1, §9 STEM): the `stem` opcode's.
    public static let stemMinorVersion: UInt16 = Opcode.stem.minorVersion

    /// The minor version a writer puts in the file, in one place: the newest `Opcode.minorVersion`
    /// among the program's ops (students' and stem's), and 2 when the program has a stem. So a
    /// file has minor 2 iff the program has a stem, 1 iff it has Loihi ops and no stem, else 0:
    /// files without a newer feature stay readable by older readers, byte for byte (spec §9).
    public var fileVersionMinor: UInt16 {
        let ops = students.flatMap(\.ops) + (stem ?? [])
        return max(ops.map(\.code.minorVersion).max() ?? 0, stem != nil ? Program.stemMinorVersion : 0)
    }

    public var name: String
    public var input: Shape
    /// Input zero point per channel (`C` entries, default all 0): the value `input_conv2d` reads at
    /// padded positions (spec §3.1), so a normalised input `(x − μ)/σ` folds into weights and bias
    /// exactly. A nonzero entry needs `C ≤ 16` (it is stored in the HEADER, spec §9).
    public var inputZeroPoint: [UInt8]
    public var timesteps: Int
    public var classes: Int
    public var selection: Selection
    /// Fixed run order: a permutation of 0..<K.
    public var order: [Int]
    /// Confidence-stop margin (spec §6), nil when off.
    public var stopMargin: Int32?
    public var gate: Gate?
    public var students: [Student]
    /// The shared stem (spec §2, §4.1): ops computed at most once per inference, read by every
    /// student whose op 0 is `stem`. nil = no stem (the default; the file then has no STEM section).
    public var stem: [Op]?
    public var head: Head
    /// Free-form `key=value` metadata (spec §9 META, byte strings); ignored by runtimes.
    public var meta: Meta

    public var studentCount: Int { students.count }

    public init(name: String, input: Shape, timesteps: Int, classes: Int, selection: Selection,
                order: [Int], stopMargin: Int32? = nil, gate: Gate? = nil, students: [Student],
                head: Head, meta: Meta = [:], inputZeroPoint: [UInt8]? = nil, stem: [Op]? = nil) {
        self.name = name; self.input = input; self.timesteps = timesteps; self.classes = classes
        self.inputZeroPoint = inputZeroPoint ?? [UInt8](repeating: 0, count: max(input.c, 0))
        self.selection = selection; self.order = order; self.stopMargin = stopMargin
        self.gate = gate; self.students = students; self.head = head; self.meta = meta
        self.stem = stem
    }

    /// Output shapes of the stem's ops (empty without a stem); unchecked.
    public var stemShapes: [Shape] {
        var shape = input, r: [Shape] = []
        for op in stem ?? [] { shape = op.outputShape(shape); r.append(shape) }
        return r
    }

    /// The stem's output shape (that of S[t], spec §4.1), nil without a stem.
    public var stemOutput: Shape? { stem == nil ? nil : (stemShapes.last ?? input) }

    /// True when student `s` starts with `stem` (spec §3.13).
    public static func readsStem(_ s: Student) -> Bool { s.ops.first == .stem }

    /// The shape op 0 of student `s` reads: the input image's, or the stem's output shape when
    /// op 0 is `stem` (which passes S[t] through unchanged, spec §3.13).
    public func studentInput(_ s: Student) -> Shape {
        Program.readsStem(s) ? (stemOutput ?? input) : input
    }

    /// Indices of the students whose op 0 is `stem`.
    public var stemStudents: [Int] { students.indices.filter { Program.readsStem(students[$0]) } }
}

/// The META section (spec §9): `key=value` entries whose keys and values are BYTE strings. Key
/// equality is byte equality (no Unicode normalisation: an NFC and an NFD spelling of the same
/// text are two different keys); entries are kept sorted by key bytes (unsigned lexicographic),
/// the order writers use. Keys are non-empty without `=` or `\n`; values have no `\n`; both are
/// valid UTF-8 in a valid program (checked by `ProgramValidator`).
public struct Meta: Hashable, Sendable, ExpressibleByDictionaryLiteral, CustomStringConvertible {
    public struct Entry: Hashable, Sendable {
        public var key: [UInt8], value: [UInt8]
        public init(key: [UInt8], value: [UInt8]) { self.key = key; self.value = value }
        /// The key and value as text (lossless for the valid UTF-8 a valid program holds).
        public var keyText: String { String(decoding: key, as: UTF8.self) }
        public var valueText: String { String(decoding: value, as: UTF8.self) }
    }
    /// Entries sorted by key bytes, keys unique.
    public private(set) var entries: [Entry] = []

    public init() {}
    public init(dictionaryLiteral elements: (String, String)...) {
        for (k, v) in elements { self[k] = v }
    }
    public var isEmpty: Bool { entries.isEmpty }
    public var count: Int { entries.count }

    static func less(_ a: [UInt8], _ b: [UInt8]) -> Bool { a.lexicographicallyPrecedes(b) }

    /// The value stored under exactly these key bytes; setting nil removes the entry.
    public subscript(bytes key: [UInt8]) -> [UInt8]? {
        get { entries.first { $0.key == key }?.value }
        set {
            let i = entries.firstIndex { !Meta.less($0.key, key) } ?? entries.count
            let present = i < entries.count && entries[i].key == key
            switch (newValue, present) {
            case (let v?, true): entries[i].value = v
            case (let v?, false): entries.insert(Entry(key: key, value: v), at: i)
            case (nil, true): entries.remove(at: i)
            case (nil, false): break
            }
        }
    }
    /// Text access: the key's UTF-8 bytes, compared byte for byte.
    public subscript(key: String) -> String? {
        get { self[bytes: Array(key.utf8)].map { String(decoding: $0, as: UTF8.self) } }
        set { self[bytes: Array(key.utf8)] = newValue.map { Array($0.utf8) } }
    }
    /// The section text: `key=value\n` per entry in key-byte order (spec §9).
    public var bytes: [UInt8] {
        var b: [UInt8] = []
        for e in entries { b += e.key; b.append(0x3D); b += e.value; b.append(0x0A) }
        return b
    }
    /// Bytes as one line of text: at most `limit` scalars, control characters (e.g. `\r`) as `\u{..}`.
    static func printable(_ b: [UInt8], limit: Int = 40) -> String {
        var o = ""
        for u in String(decoding: b, as: UTF8.self).unicodeScalars.prefix(limit) {
            if u.value < 0x20 || u.value == 0x7F { o += "\\u{\(String(u.value, radix: 16))}" } else { o.unicodeScalars.append(u) }
        }
        return o
    }

    /// Offset of the first byte that does not start a well-formed UTF-8 sequence (Unicode 3.9 D92:
    /// no overlongs, no surrogates, nothing above U+10FFFF), nil if all of `b` is valid. The C
    /// loader's `utf8_len` is the same table.
    public static func firstInvalidUTF8(_ b: [UInt8]) -> Int? {
        var i = 0
        while i < b.count {
            let c = b[i]
            var n = 1, lo: UInt8 = 0x80, hi: UInt8 = 0xBF
            switch c {
            case 0x00...0x7F: i += 1; continue
            case 0xC2...0xDF: n = 2
            case 0xE0...0xEF: n = 3; if c == 0xE0 { lo = 0xA0 }; if c == 0xED { hi = 0x9F }
            case 0xF0...0xF4: n = 4; if c == 0xF0 { lo = 0x90 }; if c == 0xF4 { hi = 0x8F }
            default: return i
            }
            if n > b.count - i { return i }
            for k in 1..<n {
                let d = b[i + k]
                if d < (k == 1 ? lo : 0x80) || d > (k == 1 ? hi : 0xBF) { return i }
            }
            i += n
        }
        return nil
    }

    public var description: String { entries.map { "\($0.keyText)=\($0.valueText)" }.joined(separator: ", ") }
}
