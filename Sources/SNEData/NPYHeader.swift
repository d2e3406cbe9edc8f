// The `.npy` header, read exactly as the NPY format (versions 1.0, 2.0, 3.0) defines it: the
// magic, the version, the header length, and a Python literal dict with exactly the keys
// 'descr', 'fortran_order' and 'shape' (numpy's format.py). Every refusal names the reason.

/// The element types sne reads from `.npy` files.
public enum NPYDType: String, Sendable, Equatable {
    case uint8 = "uint8", int32 = "int32", float32 = "float32"
    /// Bytes per element.
    public var width: Int { self == .uint8 ? 1 : 4 }
}

/// A parsed, checked `.npy` header.
public struct NPYHeader: Sendable, Equatable {
    /// (major, minor): (1, 0), (2, 0) or (3, 0).
    public var version: (UInt8, UInt8) { (major, 0) }
    public let major: UInt8
    public let dtype: NPYDType
    public let shape: [Int]
    /// Elements (the product of `shape`, 1 for a 0-d array), checked against `DataLimits.maxElements`.
    public let count: Int
    /// The byte offset of the data: 10 or 12 plus the header length.
    public let dataOffset: Int
    /// `count * dtype.width`.
    public var dataBytes: Int { count * dtype.width }

    /// The bytes needed before `parse` can read the header length (v2/v3 need 12).
    public static let prefixBytes = 12

    /// How many leading bytes hold magic + header: reads only the fixed prefix.
    public static func headerEnd(_ b: [UInt8], source: String) throws -> Int {
        func fail(_ why: String) -> DataError { DataError("\(source): \(why)") }
        guard b.count >= 6, b[0] == 0x93, Array(b[1..<6]) == Array("NUMPY".utf8) else {
            throw fail("not an NPY file (bad magic; expected \\x93NUMPY)")
        }
        guard b.count >= 10 else { throw fail("truncated NPY header (\(b.count) bytes)") }
        let major = b[6], minor = b[7]
        guard [1, 2, 3].contains(major), minor == 0 else {
            throw fail("NPY format version \(major).\(minor) unsupported (1.0, 2.0 or 3.0)")
        }
        var hl: Int, start: Int
        if major == 1 { hl = Int(b[8]) | Int(b[9]) << 8; start = 10 }
        else {
            guard b.count >= 12 else { throw fail("truncated NPY header (\(b.count) bytes)") }
            hl = Int(b[8]) | Int(b[9]) << 8 | Int(b[10]) << 16 | Int(b[11]) << 24; start = 12
        }
        guard hl <= DataLimits.maxNPYHeader else {
            throw fail("NPY header length \(hl) exceeds \(DataLimits.maxNPYHeader) bytes (numpy's max_header_size)")
        }
        return start + hl
    }

    /// Parses the header at the start of `b` (which must hold at least `headerEnd` bytes).
    public static func parse(_ b: [UInt8], source: String) throws -> NPYHeader {
        func fail(_ why: String) -> DataError { DataError("\(source): \(why)") }
        let end = try headerEnd(b, source: source)
        guard b.count >= end else { throw fail("truncated NPY header (file has \(b.count) bytes, header ends at byte \(end))") }
        let major = b[6], start = major == 1 ? 10 : 12
        let raw = Array(b[start..<end])
        // v1/v2 headers are latin-1, v3 UTF-8; the only valid dict is ASCII in both.
        let text: [UInt8]
        if major == 3 {
            guard String(validating: raw, as: UTF8.self) != nil else { throw fail("NPY 3.0 header is not valid UTF-8") }
            text = raw
        } else { text = raw }
        var p = PyLiteral(text, source: source)
        let dict = try p.dict()
        let keys = dict.map(\.key).sorted()
        guard keys == ["descr", "fortran_order", "shape"] else {
            throw fail("NPY header keys are \(keys), must be exactly 'descr', 'fortran_order', 'shape'")
        }
        let v = Dictionary(uniqueKeysWithValues: dict.map { ($0.key, $0.value) })
        guard case .bool(let fortran)? = v["fortran_order"] else { throw fail("NPY 'fortran_order' must be True or False") }
        guard case .tuple(let shape)? = v["shape"] else { throw fail("NPY 'shape' must be a tuple of non-negative integers") }
        let dtype: NPYDType
        switch v["descr"] {
        case .string(let d)?:
            switch d {
            case "|u1", "<u1", ">u1", "=u1", "u1", "|B", "B": dtype = .uint8
            case "<f4": dtype = .float32
            case "<i4": dtype = .int32
            case ">f4", ">i4": throw fail("NPY dtype '\(d)' is big-endian; save as little-endian ('<\(d.dropFirst())')")
            default: throw fail("NPY dtype '\(d)' unsupported (uint8 '|u1', float32 '<f4' or int32 '<i4')")
            }
        default: throw fail("NPY 'descr' must be a dtype string (structured dtypes are unsupported)")
        }
        guard let count = DataLimits.product(shape) else {
            throw fail("NPY shape \(shape) has more than \(DataLimits.maxElements) elements")
        }
        if fortran && shape.filter({ $0 > 1 }).count > 1 {
            throw fail("NPY array is in Fortran order (fortran_order: True); save it C-ordered (np.ascontiguousarray)")
        }
        return NPYHeader(major: major, dtype: dtype, shape: shape, count: count, dataOffset: end)
    }

    public static func == (a: NPYHeader, b: NPYHeader) -> Bool {
        a.major == b.major && a.dtype == b.dtype && a.shape == b.shape && a.dataOffset == b.dataOffset
    }
}

/// The Python literal subset an NPY header may use: a dict of string keys to strings
/// (single or double quoted), `True`/`False` and tuples of non-negative decimal integers, with
/// any whitespace and optional trailing commas. Anything else is refused with its byte offset.
struct PyLiteral {
    enum Value: Equatable { case string(String), bool(Bool), tuple([Int]) }
    let b: [UInt8]
    let source: String
    var i = 0
    init(_ b: [UInt8], source: String) { self.b = b; self.source = source }

    func fail(_ why: String) -> DataError { DataError("\(source): NPY header \(why) at header byte \(i)") }
    mutating func skipSpace() {
        while i < b.count, [0x20, 0x09, 0x0A, 0x0D, 0x0B, 0x0C].contains(b[i]) { i += 1 }
    }
    mutating func expect(_ c: UInt8) throws {
        skipSpace()
        guard i < b.count, b[i] == c else { throw fail("expected '\(Character(Unicode.Scalar(c)))'") }
        i += 1
    }
    mutating func peek() -> UInt8? { skipSpace(); return i < b.count ? b[i] : nil }

    /// `{ key: value, ... }` followed only by whitespace.
    mutating func dict() throws -> [(key: String, value: Value)] {
        try expect(UInt8(ascii: "{"))
        var out: [(key: String, value: Value)] = []
        while peek() != UInt8(ascii: "}") {
            let k = try string()
            guard !out.contains(where: { $0.key == k }) else { throw fail("repeats key '\(k)'") }
            try expect(UInt8(ascii: ":"))
            out.append((k, try value()))
            if peek() == UInt8(ascii: ",") { i += 1 } else { break }
        }
        try expect(UInt8(ascii: "}"))
        skipSpace()
        guard i == b.count else { throw fail("has text after the dict") }
        return out
    }

    mutating func value() throws -> Value {
        switch peek() {
        case UInt8(ascii: "'"), UInt8(ascii: "\""): return .string(try string())
        case UInt8(ascii: "("): return .tuple(try tuple())
        case UInt8(ascii: "T"), UInt8(ascii: "F"):
            for (word, v) in [("True", true), ("False", false)] where b[i...].starts(with: word.utf8) {
                let after = i + word.utf8.count
                if after == b.count || !Self.isIdent(b[after]) { i = after; return .bool(v) }
            }
            throw fail("has an unknown name")
        default: throw fail("has a value that is not a string, True/False or a tuple")
        }
    }

    /// A quoted string without escapes (none are valid in a dtype name).
    mutating func string() throws -> String {
        guard let q = peek(), q == UInt8(ascii: "'") || q == UInt8(ascii: "\"") else { throw fail("expected a quoted key") }
        i += 1
        let s = i
        while i < b.count, b[i] != q {
            guard b[i] >= 0x20, b[i] < 0x7F, b[i] != UInt8(ascii: "\\") else { throw fail("has an escape or non-ASCII byte in a string") }
            i += 1
        }
        guard i < b.count else { throw fail("has an unterminated string") }
        defer { i += 1 }
        return String(decoding: b[s..<i], as: UTF8.self)
    }

    /// `()`, `(n,)`, `(a, b, ...)` with an optional trailing comma; `(n)` is an int, not a tuple.
    mutating func tuple() throws -> [Int] {
        try expect(UInt8(ascii: "("))
        var out: [Int] = [], commas = 0
        while peek() != UInt8(ascii: ")") {
            out.append(try int())
            if peek() == UInt8(ascii: ",") { i += 1; commas += 1 } else { break }
        }
        try expect(UInt8(ascii: ")"))
        guard out.count != 1 || commas == 1 else { throw fail("has '(n)' for a shape; a 1-element tuple is '(n,)'") }
        return out
    }

    /// A non-negative decimal integer (Python 2 files may end it in `L`).
    mutating func int() throws -> Int {
        skipSpace()
        let s = i
        var v = 0
        while i < b.count, b[i] >= 0x30, b[i] <= 0x39 {
            let (m, o1) = v.multipliedReportingOverflow(by: 10)
            let (a, o2) = m.addingReportingOverflow(Int(b[i] - 0x30))
            guard !o1, !o2 else { throw fail("has a shape entry too large for a size") }
            v = a; i += 1
        }
        guard i > s else { throw fail("has a shape entry that is not a non-negative integer") }
        guard i - s == 1 || b[s] != 0x30 else { throw fail("has a shape entry with a leading zero") }
        if i < b.count, b[i] == UInt8(ascii: "L") { i += 1 }
        if i < b.count, Self.isIdent(b[i]) { throw fail("has a shape entry that is not a non-negative integer") }
        return v
    }

    static func isIdent(_ c: UInt8) -> Bool {
        (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || c == 0x5F || c == 0x2E
    }
}
