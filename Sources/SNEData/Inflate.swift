// A small pure-Swift gzip/DEFLATE decoder (RFC 1951/1952) so `.gz` datasets are read directly.
import Foundation
import SNEBase

/// A malformed, truncated or unsupported data file; the message is one line naming file and problem.
public struct DataError: Error, CustomStringConvertible, Equatable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// gzip and raw DEFLATE decompression.
public enum Gzip {
    /// True when `data` starts with the gzip magic bytes.
    public static func isGzip(_ data: [UInt8]) -> Bool { data.count >= 2 && data[0] == 0x1f && data[1] == 0x8b }

    /// Decompresses every gzip member in `data`, checking CRC-32 and length; `source` names the file in errors.
    /// With `limit`, stops once more than `limit` bytes are out and returns the first `limit` (no
    /// CRC check is possible then) — for reading the head of a large file quickly; a member that
    /// ends before passing `limit` (also one whose output is exactly `limit` bytes) has its trailer
    /// checked as usual (docs/loaders.md §1, decision 2). Once the output exceeds
    /// `maxOutput` (what `what` can need at most), inflation stops and the data is refused.
    public static func decompress(_ data: [UInt8], source: String = "gzip data", limit: Int? = nil,
                                  maxOutput: Int = DataLimits.maxInflated, what: String = "the file") throws -> [UInt8] {
        var out: [UInt8] = []
        // Inflate one byte past `limit`: only then is it known that the stream goes on (and the
        // trailer cannot be reached); a stream ending exactly at `limit` is checked in full.
        let stopAt = min(limit.map { $0 == Int.max ? $0 : $0 + 1 } ?? Int.max, maxOutput == Int.max ? Int.max : maxOutput + 1)
        out.reserveCapacity(min(data.count * 4, stopAt, 1 << 26))
        var pos = 0
        func fail(_ why: String) -> DataError { DataError("\(source): \(why)") }
        while pos < data.count {
            guard data.count - pos >= 18 else { throw fail("truncated gzip header at byte \(pos)") }
            guard data[pos] == 0x1f, data[pos + 1] == 0x8b else { throw fail("not gzip data (bad magic at byte \(pos))") }
            guard data[pos + 2] == 8 else { throw fail("unsupported gzip compression method \(data[pos + 2])") }
            let flags = data[pos + 3]
            var p = pos + 10
            if flags & 4 != 0 {   // FEXTRA
                guard p + 2 <= data.count else { throw fail("truncated gzip header") }
                p += 2 + (Int(data[p]) | Int(data[p + 1]) << 8)
            }
            if flags & 8 != 0 { while p < data.count && data[p] != 0 { p += 1 }; p += 1 }    // FNAME
            if flags & 16 != 0 { while p < data.count && data[p] != 0 { p += 1 }; p += 1 }   // FCOMMENT
            if flags & 2 != 0 { p += 2 }                                                      // FHCRC
            guard p < data.count else { throw fail("truncated gzip header") }
            let start = out.count
            var inflater = Inflater(data, start: p, source: source)
            inflater.limit = stopAt == Int.max ? Int.max : stopAt - start
            do { try inflater.run(into: &out) } catch is Inflater.LimitReached {
                if let limit, limit <= maxOutput, out.count > limit { return Array(out[0..<limit]) }
                throw fail("inflates to more than the \(maxOutput) bytes \(what) can need (stopped there)")
            }
            p = inflater.bytePosition
            guard p + 8 <= data.count else { throw fail("truncated: gzip trailer missing (file cut short?)") }
            let crc = UInt32(data[p]) | UInt32(data[p + 1]) << 8 | UInt32(data[p + 2]) << 16 | UInt32(data[p + 3]) << 24
            let isize = UInt32(data[p + 4]) | UInt32(data[p + 5]) << 8 | UInt32(data[p + 6]) << 16 | UInt32(data[p + 7]) << 24
            guard UInt32(truncatingIfNeeded: out.count - start) == isize else { throw fail("gzip length check failed (corrupt file)") }
            guard out[start...].withUnsafeBytes({ CRC32.checksum($0) }) == crc else { throw fail("gzip CRC-32 check failed (corrupt file)") }
            pos = p + 8
            while pos < data.count && data[pos] == 0 { pos += 1 }   // tolerate zero padding
        }
        if let limit, out.count > limit { return Array(out[0..<limit]) }
        return out
    }
}


/// A canonical Huffman decoding table: `table[reversed code bits]` = symbol << 4 | length.
struct Huffman {
    var table: [UInt32]
    var bits: Int

    init(lengths: [Int], source: String) throws {
        let maxLen = lengths.max() ?? 0
        bits = max(1, maxLen)
        table = [UInt32](repeating: 0, count: 1 << bits)
        guard maxLen > 0 else { return }
        var count = [Int](repeating: 0, count: 16)
        for l in lengths { count[l] += 1 }
        count[0] = 0
        var next = [Int](repeating: 0, count: 16)
        var code = 0
        var left = 1
        for len in 1...15 {
            left <<= 1; left -= count[len]
            if left < 0 { throw DataError("\(source): corrupt deflate stream (over-subscribed Huffman code)") }
            code = (code + (len > 1 ? count[len - 1] : 0)) << 1
            next[len] = code
        }
        code = 0
        var n = [Int](repeating: 0, count: 16)
        for len in 1...15 { n[len] = code; code = (code + count[len]) << 1 }
        for (sym, len) in lengths.enumerated() where len > 0 {
            let c = n[len]; n[len] += 1
            var r = 0
            for i in 0..<len where c & (1 << i) != 0 { r |= 1 << (len - 1 - i) }
            let entry = UInt32(sym) << 4 | UInt32(len)
            var k = r
            while k < (1 << bits) { table[k] = entry; k += 1 << len }
        }
    }
}

/// The DEFLATE block decoder over a byte array.
struct Inflater {
    let data: [UInt8]
    let source: String
    var pos: Int
    var bitBuf: UInt64 = 0
    var bitCount = 0

    init(_ data: [UInt8], start: Int, source: String) { self.data = data; self.pos = start; self.source = source }

    /// The byte after the stream (after discarding bits up to a byte boundary).
    var bytePosition: Int { pos - bitCount / 8 }

    func fail(_ why: String) -> DataError { DataError("\(source): \(why)") }

    @inline(__always) mutating func need(_ n: Int) throws {
        while bitCount < n {
            guard pos < data.count else { throw fail("truncated deflate stream (file cut short?)") }
            bitBuf |= UInt64(data[pos]) << UInt64(bitCount)
            pos += 1; bitCount += 8
        }
    }
    @inline(__always) mutating func bits(_ n: Int) throws -> Int {
        if n == 0 { return 0 }
        try need(n)
        let v = Int(bitBuf & ((1 << UInt64(n)) - 1))
        bitBuf >>= UInt64(n); bitCount -= n
        return v
    }
    @inline(__always) mutating func decode(_ h: Huffman) throws -> Int {
        // Fill as much as possible (but not past the end, so short final codes still decode).
        while bitCount < h.bits && pos < data.count { bitBuf |= UInt64(data[pos]) << UInt64(bitCount); pos += 1; bitCount += 8 }
        let e = h.table[Int(bitBuf & ((1 << UInt64(h.bits)) - 1))]
        let len = Int(e & 15)
        guard len > 0, len <= bitCount else { throw fail(len == 0 ? "corrupt deflate stream (bad Huffman code)" : "truncated deflate stream (file cut short?)") }
        bitBuf >>= UInt64(len); bitCount -= len
        return Int(e >> 4)
    }

    static let lenBase = [3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258]
    static let lenExtra = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0]
    static let distBase = [1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577]
    static let distExtra = [0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13]

    /// Output bytes after which decoding may stop early (`Int.max`: decode everything).
    var limit = Int.max
    struct LimitReached: Error {}

    mutating func run(into out: inout [UInt8]) throws {
        let start = out.count
        var final = false
        while !final {
            final = try bits(1) == 1
            switch try bits(2) {
            case 0:
                // Skip to a byte boundary, then give whole read-ahead bytes back to the byte stream.
                pos -= (bitCount - bitCount % 8) / 8; bitBuf = 0; bitCount = 0
                guard pos + 4 <= data.count else { throw fail("truncated stored block") }
                let len = Int(data[pos]) | Int(data[pos + 1]) << 8
                let nlen = Int(data[pos + 2]) | Int(data[pos + 3]) << 8
                guard len == (~nlen & 0xFFFF) else { throw fail("corrupt stored block length") }
                pos += 4
                guard pos + len <= data.count else { throw fail("truncated stored block (file cut short?)") }
                out.append(contentsOf: data[pos..<(pos + len)])
                pos += len
                if out.count - start >= limit { throw LimitReached() }
            case 1:
                var l = [Int](repeating: 8, count: 288)
                for i in 144..<256 { l[i] = 9 }
                for i in 256..<280 { l[i] = 7 }
                try block(&out, start: start, lit: Huffman(lengths: l, source: source),
                          dist: Huffman(lengths: [Int](repeating: 5, count: 30), source: source))
            case 2:
                let hlit = try bits(5) + 257, hdist = try bits(5) + 1, hclen = try bits(4) + 4
                let order = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15]
                var cl = [Int](repeating: 0, count: 19)
                for i in 0..<hclen { cl[order[i]] = try bits(3) }
                let ch = try Huffman(lengths: cl, source: source)
                var lens: [Int] = []
                while lens.count < hlit + hdist {
                    let s = try decode(ch)
                    switch s {
                    case 0...15: lens.append(s)
                    case 16:
                        guard let prev = lens.last else { throw fail("corrupt deflate stream (repeat with no previous length)") }
                        lens += [Int](repeating: prev, count: 3 + (try bits(2)))
                    case 17: lens += [Int](repeating: 0, count: 3 + (try bits(3)))
                    default: lens += [Int](repeating: 0, count: 11 + (try bits(7)))
                    }
                }
                guard lens.count == hlit + hdist else { throw fail("corrupt deflate stream (code lengths overrun)") }
                try block(&out, start: start, lit: Huffman(lengths: Array(lens[0..<hlit]), source: source),
                          dist: Huffman(lengths: Array(lens[hlit...]), source: source))
            default:
                throw fail("corrupt deflate stream (reserved block type)")
            }
        }
        // Give back whole unread bytes held in the bit buffer.
        pos -= bitCount / 8; bitCount = 0; bitBuf = 0
    }

    mutating func block(_ out: inout [UInt8], start: Int, lit: Huffman, dist: Huffman) throws {
        while true {
            let sym = try decode(lit)
            if sym < 256 {
                out.append(UInt8(sym))
                if out.count - start >= limit { throw LimitReached() }
                continue
            }
            if sym == 256 { return }
            let li = sym - 257
            guard li < 29 else { throw fail("corrupt deflate stream (bad length code)") }
            let len = Self.lenBase[li] + (try bits(Self.lenExtra[li]))
            let di = try decode(dist)
            guard di < 30 else { throw fail("corrupt deflate stream (bad distance code)") }
            let d = Self.distBase[di] + (try bits(Self.distExtra[di]))
            guard d <= out.count - start else { throw fail("corrupt deflate stream (distance too far back)") }
            let from = out.count - d
            // Element-wise copy (overlap allowed); slicing `out` while appending would copy the whole buffer.
            for k in 0..<len { out.append(out[from + k]) }
            if out.count - start >= limit { throw LimitReached() }
        }
    }
}
