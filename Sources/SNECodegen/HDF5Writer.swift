// A small HDF5 writer for the subset NIR files need (docs/neuromorphic.md): nested groups and
// contiguous datasets of float32, int64 and fixed-length UTF-8 strings, scalar or n-dimensional.
//
// File layout (HDF5 format spec 3.0): superblock version 2 at offset 0; every object has a
// version-2 object header ("OHDR"); groups are "compact new-style" groups (Link Info + Group Info
// messages + one hard Link message per child, no heaps or B-trees); datasets carry Dataspace v2,
// Datatype v1, Fill Value v3 and Data Layout v3 (contiguous) messages, their raw data stored
// before their header. Children are written before their parent, so every address is known when
// it is written; the root group comes last. Checksums are Jenkins lookup3 (`HDF5Writer.lookup3`).

/// One dataset: a flat array in C order with its shape (`[]` = scalar).
public struct HDF5Dataset: Sendable, Equatable {
    public enum Values: Sendable, Equatable {
        case float32([Float])
        case int64([Int64])
        /// Fixed-length strings, NUL-padded to the longest (at least 1 byte).
        case strings([String])
    }
    public var shape: [Int]
    public var values: Values
    public init(shape: [Int], _ values: Values) { self.shape = shape; self.values = values }
    public static func scalar(_ s: String) -> HDF5Dataset { HDF5Dataset(shape: [], .strings([s])) }
    public static func scalar(_ v: Int64) -> HDF5Dataset { HDF5Dataset(shape: [], .int64([v])) }
    public static func floats(_ v: [Float], shape: [Int]? = nil) -> HDF5Dataset { HDF5Dataset(shape: shape ?? [v.count], .float32(v)) }
    public static func ints(_ v: [Int], shape: [Int]? = nil) -> HDF5Dataset { HDF5Dataset(shape: shape ?? [v.count], .int64(v.map(Int64.init))) }
    var count: Int { shape.reduce(1, *) }
}

/// A group's member: a dataset or a nested group (members in the order given).
public indirect enum HDF5Node: Sendable, Equatable {
    case group([(String, HDF5Node)])
    case dataset(HDF5Dataset)

    public static func == (a: HDF5Node, b: HDF5Node) -> Bool {
        switch (a, b) {
        case (.dataset(let x), .dataset(let y)): x == y
        case (.group(let x), .group(let y)): x.count == y.count && zip(x, y).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
        default: false
        }
    }
}

public enum HDF5Error: Error, CustomStringConvertible, Equatable {
    case invalid(String)
    public var description: String { "HDF5: " + self.invalid }
    var invalid: String { switch self { case .invalid(let m): m } }
}

public enum HDF5Writer {
    static let undefined: UInt64 = .max

    /// The bytes of an HDF5 file whose root group holds `root`.
    public static func encode(_ root: [(String, HDF5Node)]) throws -> [UInt8] {
        var f = [UInt8](repeating: 0, count: 48)       // superblock, filled in at the end
        let rootAddr = try writeGroup(root, &f, path: "/")
        var sb: [UInt8] = [0x89, 0x48, 0x44, 0x46, 0x0D, 0x0A, 0x1A, 0x0A]   // format signature
        sb += [2, 8, 8, 0]                              // version 2, 8-byte offsets and lengths, flags 0
        le64(&sb, 0)                                    // base address
        le64(&sb, undefined)                            // superblock extension: none
        le64(&sb, UInt64(f.count))                      // end of file
        le64(&sb, rootAddr)                             // root group object header
        le32(&sb, lookup3(sb))
        f.replaceSubrange(0..<48, with: sb)
        return f
    }

    // MARK: objects

    static func writeGroup(_ members: [(String, HDF5Node)], _ f: inout [UInt8], path: String) throws -> UInt64 {
        var seen = Set<String>()
        var links: [(String, UInt64)] = []
        for (name, node) in members {
            let u = Array(name.utf8)
            if u.isEmpty || u.count > 255 || name.contains("/") || name == "." {
                throw HDF5Error.invalid("\(path): member name '\(name.prefix(40))' must be 1…255 bytes without '/'")
            }
            if !seen.insert(name).inserted { throw HDF5Error.invalid("\(path): duplicate member '\(name.prefix(40))'") }
            switch node {
            case .group(let g): links.append((name, try writeGroup(g, &f, path: path + name + "/")))
            case .dataset(let d): links.append((name, try writeDataset(d, &f, path: path + name)))
            }
        }
        var msgs: [(UInt8, [UInt8], UInt8)] = []
        var li: [UInt8] = [0, 0]; le64(&li, undefined); le64(&li, undefined)   // Link Info v0: compact storage
        msgs.append((0x02, li, 0))
        msgs.append((0x0A, [0, 0], 0))                                         // Group Info v0
        for (name, addr) in links {
            var m: [UInt8] = [1, 0, UInt8(name.utf8.count)] + Array(name.utf8)  // Link v1, hard link, ASCII/1-byte length
            le64(&m, addr)
            msgs.append((0x06, m, 0))
        }
        return objectHeader(msgs, &f)
    }

    static func writeDataset(_ d: HDF5Dataset, _ f: inout [UInt8], path: String) throws -> UInt64 {
        if d.shape.contains(where: { $0 < 0 }) { throw HDF5Error.invalid("\(path): negative dimension in \(d.shape)") }
        var raw: [UInt8] = [], dtype: [UInt8]
        let n: Int
        switch d.values {
        case .float32(let v):
            n = v.count
            for x in v { le32(&raw, x.bitPattern) }
            // class 1 (float) v1; LE, mantissa normalization 2 (implied msb), sign bit 31
            dtype = [0x11, 0x20, 31, 0]; le32(&dtype, 4)
            dtype += [0, 0, 32, 0, 23, 8, 0, 23]; le32(&dtype, 127)
        case .int64(let v):
            n = v.count
            for x in v { le64(&raw, UInt64(bitPattern: x)) }
            dtype = [0x10, 0x08, 0, 0]; le32(&dtype, 8)                     // class 0 (fixed) v1, LE, signed
            dtype += [0, 0, 64, 0]                                          // bit offset 0, precision 64
        case .strings(let v):
            n = v.count
            let width = max(1, v.map { $0.utf8.count }.max() ?? 1)
            for s in v { let u = Array(s.utf8); raw += u + [UInt8](repeating: 0, count: width - u.count) }
            dtype = [0x13, 0x11, 0, 0]; le32(&dtype, UInt32(width))         // class 3 (string) v1, NUL-pad, UTF-8
        }
        if n != d.count { throw HDF5Error.invalid("\(path): \(n) values for shape \(d.shape)") }
        while f.count % 8 != 0 { f.append(0) }
        let dataAddr = UInt64(f.count)
        f += raw
        var space: [UInt8] = [2, UInt8(d.shape.count), 0, d.shape.isEmpty ? 0 : 1]   // Dataspace v2, scalar or simple
        for s in d.shape { le64(&space, UInt64(s)) }
        var layout: [UInt8] = [3, 1]; le64(&layout, raw.isEmpty ? undefined : dataAddr); le64(&layout, UInt64(raw.count))  // Layout v3, contiguous
        return objectHeader([(0x01, space, 0), (0x03, dtype, 1), (0x05, [3, 0x09], 1), (0x08, layout, 0)], &f)
    }

    /// A version-2 object header with the given `(type, data, flags)` messages; returns its address.
    static func objectHeader(_ msgs: [(UInt8, [UInt8], UInt8)], _ f: inout [UInt8]) -> UInt64 {
        var body: [UInt8] = []
        for (type, data, flags) in msgs {
            body.append(type); le16(&body, UInt16(data.count)); body.append(flags); body += data
        }
        var h: [UInt8] = Array("OHDR".utf8) + [2, 0x02]                     // version 2, chunk-0 size in 4 bytes
        le32(&h, UInt32(body.count))
        h += body
        le32(&h, lookup3(h))
        while f.count % 8 != 0 { f.append(0) }
        let addr = UInt64(f.count)
        f += h
        return addr
    }

    // MARK: bytes

    static func le16(_ b: inout [UInt8], _ v: UInt16) { b.append(UInt8(v & 0xFF)); b.append(UInt8(v >> 8)) }
    static func le32(_ b: inout [UInt8], _ v: UInt32) { for i in 0..<4 { b.append(UInt8((v >> (8 * UInt32(i))) & 0xFF)) } }
    static func le64(_ b: inout [UInt8], _ v: UInt64) { for i in 0..<8 { b.append(UInt8((v >> (8 * UInt64(i))) & 0xFF)) } }

    /// Bob Jenkins' lookup3 `hashlittle` with initval 0, the checksum of HDF5 metadata.
    public static func lookup3(_ k: [UInt8]) -> UInt32 {
        @inline(__always) func rot(_ x: UInt32, _ r: UInt32) -> UInt32 { (x << r) | (x >> (32 - r)) }
        var len = k.count
        var a: UInt32 = 0xdeadbeef &+ UInt32(truncatingIfNeeded: len)
        var b = a, c = a
        var i = 0
        func w(_ j: Int) -> UInt32 { UInt32(k[j]) | UInt32(k[j + 1]) << 8 | UInt32(k[j + 2]) << 16 | UInt32(k[j + 3]) << 24 }
        while len > 12 {
            a = a &+ w(i); b = b &+ w(i + 4); c = c &+ w(i + 8)
            a = a &- c; a ^= rot(c, 4); c = c &+ b
            b = b &- a; b ^= rot(a, 6); a = a &+ c
            c = c &- b; c ^= rot(b, 8); b = b &+ a
            a = a &- c; a ^= rot(c, 16); c = c &+ b
            b = b &- a; b ^= rot(a, 19); a = a &+ c
            c = c &- b; c ^= rot(b, 4); b = b &+ a
            len -= 12; i += 12
        }
        if len == 0 { return c }
        var tail = [UInt8](repeating: 0, count: 12)
        for j in 0..<len { tail[j] = k[i + j] }
        func t(_ j: Int) -> UInt32 { UInt32(tail[j]) | UInt32(tail[j + 1]) << 8 | UInt32(tail[j + 2]) << 16 | UInt32(tail[j + 3]) << 24 }
        a = a &+ t(0); b = b &+ t(4); c = c &+ t(8)
        c ^= b; c = c &- rot(b, 14)
        a ^= c; a = a &- rot(c, 11)
        b ^= a; b = b &- rot(a, 25)
        c ^= b; c = c &- rot(b, 16)
        a ^= c; a = a &- rot(c, 4)
        b ^= a; b = b &- rot(a, 14)
        c ^= b; c = c &- rot(b, 24)
        return c
    }
}
