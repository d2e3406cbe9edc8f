// Generators of bad inputs for the readers: malformed NPY headers, IDX headers whose sizes
// overflow, gzip bombs, and a seeded byte mutator for the fuzz run. Nothing here is a literal
// file; every case is built from a valid encoding plus one named change.
import Foundation
@testable import SNEData

enum BadInputs {
    /// A v1 NPY file around `header` (padded as numpy pads it) and `body`.
    static func npy(_ header: String, body: [UInt8] = [], major: UInt8 = 1, minor: UInt8 = 0) -> [UInt8] {
        var h = Array(header.utf8)
        let pre = major == 1 ? 10 : 12
        h += [UInt8](repeating: 0x20, count: (64 - (pre + h.count + 1) % 64) % 64) + [0x0A]
        let len: [UInt8] = major == 1 ? [UInt8(h.count & 0xFF), UInt8(h.count >> 8)]
            : [UInt8(h.count & 0xFF), UInt8(h.count >> 8 & 0xFF), UInt8(h.count >> 16 & 0xFF), UInt8(h.count >> 24)]
        return [0x93] + Array("NUMPY".utf8) + [major, minor] + len + h + body
    }

    static let good = "{'descr': '|u1', 'fortran_order': False, 'shape': (2, 3), }"

    /// (what is wrong, file bytes, a phrase the error must contain).
    static func malformedNPY() -> [(String, [UInt8], String)] {
        let body = [UInt8](repeating: 7, count: 6)
        var out: [(String, [UInt8], String)] = []
        func add(_ what: String, _ header: String, _ phrase: String, body b: [UInt8]? = nil) { out.append((what, npy(header, body: b ?? body), phrase)) }
        var badMagic = npy(good, body: body); badMagic[1] = UInt8(ascii: "X")
        out.append(("bad magic", badMagic, "bad magic"))
        out.append(("version 4.0", npy(good, body: body, major: 4), "version 4.0"))
        out.append(("version 1.1", npy(good, body: body, minor: 1), "version 1.1"))
        var longHL = npy(good, body: body); longHL[8] = 0xFF; longHL[9] = 0xFF
        out.append(("header length 65535", longHL, "max_header_size"))
        var pastEnd = npy(good, body: body); pastEnd[8] = 0x00; pastEnd[9] = 0x10   // 4096 > file
        out.append(("header past end of file", pastEnd, "truncated NPY header"))
        out.append(("only magic", Array(npy(good).prefix(8)), "truncated"))
        add("not a dict", "['descr', '|u1']", "expected '{'")
        add("duplicate key", "{'descr': '|u1', 'descr': '|u1', 'fortran_order': False, 'shape': (2, 3)}", "repeats key")
        add("unterminated string", "{'descr: '|u1', 'fortran_order': False, 'shape': (2, 3)}", "")
        add("mismatched quotes", "{'descr\": '|u1', 'fortran_order': False, 'shape': (2, 3)}", "")
        add("escape in string", "{'descr': '|u\\x31', 'fortran_order': False, 'shape': (2, 3)}", "escape")
        add("negative size", "{'descr': '|u1', 'fortran_order': False, 'shape': (-2, 3)}", "non-negative")
        add("float size", "{'descr': '|u1', 'fortran_order': False, 'shape': (2.0, 3)}", "non-negative")
        add("leading zero", "{'descr': '|u1', 'fortran_order': False, 'shape': (02, 3)}", "leading zero")
        add("size past Int", "{'descr': '|u1', 'fortran_order': False, 'shape': (99999999999999999999, 3)}", "too large")
        add("product overflows", "{'descr': '|u1', 'fortran_order': False, 'shape': (4294967296, 4294967296, 4294967296)}", "more than")
        add("product past the cap", "{'descr': '<f4', 'fortran_order': False, 'shape': (65536, 65536)}", "more than")
        add("(n) for a shape", "{'descr': '|u1', 'fortran_order': False, 'shape': (6)}", "1-element tuple")
        add("lowercase false", "{'descr': '|u1', 'fortran_order': false, 'shape': (2, 3)}", "not a string")
        add("Truey", "{'descr': '|u1', 'fortran_order': Truey, 'shape': (2, 3)}", "unknown name")
        add("fortran 2-D", "{'descr': '|u1', 'fortran_order': True, 'shape': (2, 3)}", "Fortran order")
        add("text after the dict", good + " x", "text after the dict")
        add("second dict", good + good, "text after the dict")
        add("missing key", "{'descr': '|u1', 'shape': (2, 3)}", "must be exactly")
        add("extra key", "{'descr': '|u1', 'fortran_order': False, 'shape': (2, 3), 'x': 'y'}", "must be exactly")
        add("dtype object", "{'descr': '|O', 'fortran_order': False, 'shape': (2, 3)}", "unsupported")
        add("dtype float64", "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3)}", "unsupported")
        add("non-ASCII in descr", "{'descr': '|u1é', 'fortran_order': False, 'shape': (2, 3)}", "non-ASCII")
        add("empty header", "", "expected '{'")
        add("data short", good, "truncated", body: Array(body.dropLast()))
        add("data long", good, "extra bytes", body: body + [0])
        return out
    }

    /// An IDX file: uint8, `dims` (written as u32, so any value up to 2^32 - 1), then `data`.
    static func idx(_ dims: [UInt32], data: [UInt8] = []) -> [UInt8] {
        var b: [UInt8] = [0, 0, 8, UInt8(dims.count)]
        for d in dims { b += [UInt8(d >> 24), UInt8(d >> 16 & 0xFF), UInt8(d >> 8 & 0xFF), UInt8(d & 0xFF)] }
        return b + data
    }

    /// IDX headers whose sizes multiply past `Int` or past the cap, with a little data after them.
    static func overflowingIDX() -> [(String, [UInt8])] {
        let m = UInt32.max
        return [
            ("4 x 2^32-1", idx([m, m, m, m], data: [1, 2, 3])),
            ("3 x 2^32-1", idx([m, m, m], data: [1, 2, 3])),
            ("images 2^31 x 2^31 x 4", idx([1 << 31, 1 << 31, 4], data: [1])),
            ("items 1 x 65536 x 65536", idx([1, 65536, 65536])),
            ("labels 2^32-1", idx([m], data: [1])),
        ]
    }

    /// A gzip member whose deflate stream (one fixed-Huffman block: a literal `byte`, then
    /// matches of length 258 at distance 1) inflates to at least `count` bytes; the trailer is
    /// left zero because a reader must stop long before it.
    static func gzipBomb(byte: UInt8 = 0, count: Int) -> [UInt8] {
        var bits = BitWriter()
        bits.put(1, 1); bits.put(1, 2)                  // BFINAL, BTYPE = fixed
        bits.putCode(0x30 + Int(byte), 8)               // literal `byte` (0...143: 8-bit codes 0x30+)
        for _ in 0..<((count + 257) / 258) {
            bits.putCode(0xC5, 8)                       // length symbol 285 = 258 (280...287: 0xC0+)
            bits.putCode(0, 5)                          // distance code 0 = 1
        }
        bits.putCode(0, 7)                              // end of block (256: 7-bit code 0)
        return [0x1F, 0x8B, 8, 0, 0, 0, 0, 0, 0, 0xFF] + bits.flushed + [UInt8](repeating: 0, count: 8)
    }

    struct BitWriter {
        var bytes: [UInt8] = []
        var acc = 0, n = 0
        /// `count` bits of `v`, least significant first (header fields, extra bits).
        mutating func put(_ v: Int, _ count: Int) {
            for i in 0..<count {
                acc |= ((v >> i) & 1) << n; n += 1
                if n == 8 { bytes.append(UInt8(acc)); acc = 0; n = 0 }
            }
        }
        /// A Huffman code, most significant bit first.
        mutating func putCode(_ code: Int, _ len: Int) {
            for i in stride(from: len - 1, through: 0, by: -1) { put((code >> i) & 1, 1) }
        }
        var flushed: [UInt8] { n > 0 ? bytes + [UInt8(acc)] : bytes }
    }

    /// A seeded mutator: flips, sets, inserts, deletes or truncates a few bytes of `seed`.
    struct Mutator {
        var state: UInt64
        init(seed: UInt64) { state = seed &+ 0x9E37_79B9_7F4A_7C15 }
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        mutating func below(_ n: Int) -> Int { n <= 1 ? 0 : Int(next() % UInt64(n)) }
        /// Bytes that often sit on a boundary: 0, 1, 0x7F, 0x80, 0xFF and the format's own delimiters.
        static let interesting: [UInt8] = [0, 1, 2, 0x7F, 0x80, 0xFE, 0xFF, 0x27, 0x22, 0x28, 0x29, 0x2C, 0x3A, 0x7B, 0x7D, 0x30, 0x39, 0x20, 0x0A]

        mutating func mutate(_ seed: [UInt8], focus: Int) -> [UInt8] {
            var b = seed
            for _ in 0...below(4) {
                // Most edits land in the first `focus` bytes (the header), where the checks are.
                let at = b.isEmpty ? 0 : (below(4) == 0 ? below(b.count) : below(min(focus, b.count)))
                switch below(7) {
                case 0: if !b.isEmpty { b[at] ^= UInt8(1 << below(8)) }
                case 1: if !b.isEmpty { b[at] = Self.interesting[below(Self.interesting.count)] }
                case 2: if !b.isEmpty { b[at] = UInt8(truncatingIfNeeded: next()) }
                case 3: b.insert(Self.interesting[below(Self.interesting.count)], at: min(at, b.count))
                case 4: if !b.isEmpty { b.remove(at: at) }
                case 5: b = Array(b.prefix(below(b.count + 1)))
                default:   // overwrite a 4-byte field with an extreme value
                    if b.count >= at + 4 { let v = [UInt32.max, 0, 1 << 31, 0x10000][below(4)]; for k in 0..<4 { b[at + k] = UInt8(v >> (8 * UInt32(k)) & 0xFF) } }
                }
            }
            return b
        }
    }
}
