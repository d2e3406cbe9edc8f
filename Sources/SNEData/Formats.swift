// Readers for IDX (MNIST / Fashion-MNIST, plain or .gz), CIFAR-10 binary batches, and NPY read/write.
import Foundation

/// Images as float32 NCHW in [0, 1] (or any float array with a shape) plus integer labels.
public struct LabeledImages: Sendable, Equatable {
    /// `[N, C, H, W]`.
    public var shape: [Int]
    /// Row-major pixels, `shape.reduce(1, *)` of them.
    public var pixels: [Float]
    /// One label per image.
    public var labels: [Int]
    public var count: Int { shape.first ?? 0 }
    /// Floats per image.
    public var imageSize: Int { shape.dropFirst().reduce(1, *) }

    public init(shape: [Int], pixels: [Float], labels: [Int]) throws {
        guard shape.count == 4, shape.reduce(1, *) == pixels.count, labels.count == shape[0] else {
            throw DataError("LabeledImages: shape \(shape), \(pixels.count) pixels and \(labels.count) labels do not agree")
        }
        self.shape = shape; self.pixels = pixels; self.labels = labels
    }

    /// The first `n` images (all when `n >= count`).
    public func prefix(_ n: Int) -> LabeledImages {
        let k = min(n, count)
        var s = shape; s[0] = k
        return try! LabeledImages(shape: s, pixels: Array(pixels[0..<(k * imageSize)]), labels: Array(labels[0..<k]))
    }
}

/// Reads a whole file, decompressing it when it is gzip (by magic, whatever its name). With
/// `limit`, returns at most that many (decompressed) bytes.
public func readMaybeGzip(_ path: String, limit: Int? = nil) throws -> [UInt8] {
    guard let d = FileManager.default.contents(atPath: path) else { throw DataError("\(path): cannot read file (missing or unreadable)") }
    let bytes = [UInt8](d)
    if Gzip.isGzip(bytes) { return try Gzip.decompress(bytes, source: path, limit: limit) }
    return limit.map { Array(bytes.prefix($0)) } ?? bytes
}

/// The IDX format (LeCun's MNIST files): magic `0 0 type ndim`, big-endian u32 dims, data.
public enum IDX {
    /// Parses an unsigned-byte IDX array: returns (dims, bytes). With `items`, only the first
    /// `items` entries of the outer dimension are expected (the input may be a prefix of the file).
    public static func parse(_ b: [UInt8], source: String, items: Int? = nil) throws -> (dims: [Int], data: ArraySlice<UInt8>) {
        guard b.count >= 4 else { throw DataError("\(source): truncated IDX header (\(b.count) bytes)") }
        guard b[0] == 0, b[1] == 0 else { throw DataError("\(source): not an IDX file (bad magic)") }
        guard b[2] == 0x08 else { throw DataError("\(source): IDX element type 0x\(String(b[2], radix: 16)) unsupported (only unsigned byte)") }
        let nd = Int(b[3])
        guard nd >= 1, nd <= 4, b.count >= 4 + 4 * nd else { throw DataError("\(source): truncated IDX header (\(nd) dimensions)") }
        var dims: [Int] = []
        for i in 0..<nd {
            let o = 4 + 4 * i
            dims.append(Int(b[o]) << 24 | Int(b[o + 1]) << 16 | Int(b[o + 2]) << 8 | Int(b[o + 3]))
        }
        if let items { dims[0] = min(dims[0], items) }
        let n = dims.reduce(1, *), start = 4 + 4 * nd
        if items != nil, b.count - start > n { return (dims, b[start..<(start + n)]) }
        guard b.count - start == n else {
            throw DataError("\(source): IDX data has \(b.count - start) bytes, header \(dims) needs \(n)\(b.count - start < n ? " (truncated)" : "")")
        }
        return (dims, b[start...])
    }

    /// Reads an IDX image file (`N x H x W` bytes) and label file into `[N, 1, H, W]` floats `/255`;
    /// with `limit`, only the first `limit` images (decompressing only what they need).
    public static func load(images: String, labels: String, limit: Int? = nil) throws -> LabeledImages {
        var imgBytes: Int? = nil
        if let limit {   // read the header first, then exactly the bytes of `limit` images
            let head = try readMaybeGzip(images, limit: 16)
            guard head.count == 16 else { throw DataError("\(images): truncated IDX header (\(head.count) bytes)") }
            let h = Int(head[8]) << 24 | Int(head[9]) << 16 | Int(head[10]) << 8 | Int(head[11])
            let w = Int(head[12]) << 24 | Int(head[13]) << 16 | Int(head[14]) << 8 | Int(head[15])
            imgBytes = 16 + limit * h * w
        }
        let (d, px) = try parse(try readMaybeGzip(images, limit: imgBytes), source: images, items: limit)
        guard d.count == 3 else { throw DataError("\(images): expected a 3-D IDX image array, got dims \(d)") }
        let (ld, lb) = try parse(try readMaybeGzip(labels, limit: limit.map { 8 + $0 }), source: labels, items: limit)
        guard ld.count == 1 else { throw DataError("\(labels): expected a 1-D IDX label array, got dims \(ld)") }
        guard ld[0] == d[0] else { throw DataError("\(labels): \(ld[0]) labels but \(images) has \(d[0]) images") }
        let pixels = px.map { Float($0) / 255 }
        return try LabeledImages(shape: [d[0], 1, d[1], d[2]], pixels: pixels, labels: lb.map { Int($0) })
    }

    /// MNIST-style directory: `train-images-idx3-ubyte[.gz]` etc. `split` is "train" or "t10k".
    public static func load(directory: String, split: String, limit: Int? = nil) throws -> LabeledImages {
        func find(_ stem: String) throws -> String {
            for cand in [stem + ".gz", stem] {
                let p = (directory as NSString).appendingPathComponent(cand)
                if FileManager.default.fileExists(atPath: p) { return p }
            }
            throw DataError("\(directory): no \(stem)[.gz]")
        }
        return try load(images: try find("\(split)-images-idx3-ubyte"), labels: try find("\(split)-labels-idx1-ubyte"), limit: limit)
    }
}

/// CIFAR-10 binary batches: records of 1 label byte + 3072 pixel bytes (R, G, B planes of 32x32).
public enum CIFAR10 {
    public static let recordSize = 1 + 3 * 32 * 32

    /// Parses one or more concatenated batch files' bytes into `[N, 3, 32, 32]` floats `/255`.
    public static func parse(_ b: [UInt8], source: String) throws -> LabeledImages {
        guard !b.isEmpty, b.count % recordSize == 0 else {
            throw DataError("\(source): \(b.count) bytes is not a whole number of CIFAR-10 records (\(recordSize) bytes each)")
        }
        let n = b.count / recordSize
        var labels = [Int](repeating: 0, count: n)
        var pixels = [Float](repeating: 0, count: n * 3072)
        for i in 0..<n {
            let r = i * recordSize
            guard b[r] < 10 else { throw DataError("\(source): record \(i) has label \(b[r]), expected 0...9") }
            labels[i] = Int(b[r])
            for j in 0..<3072 { pixels[i * 3072 + j] = Float(b[r + 1 + j]) / 255 }
        }
        return try LabeledImages(shape: [n, 3, 32, 32], pixels: pixels, labels: labels)
    }

    /// Reads batch files (e.g. `data_batch_1.bin` ... ) and concatenates them.
    public static func load(files: [String]) throws -> LabeledImages {
        var all: [UInt8] = []
        for f in files { all += try readMaybeGzip(f) }
        return try parse(all, source: files.joined(separator: ", "))
    }
}

/// An n-dimensional array read from / written to `.npy`.
public enum NPYArray: Equatable, Sendable {
    case float32([Float], shape: [Int])
    case int32([Int32], shape: [Int])
    case uint8([UInt8], shape: [Int])

    public var shape: [Int] {
        switch self { case .float32(_, let s), .int32(_, let s), .uint8(_, let s): return s }
    }
}

/// NumPy `.npy` version 1.0/2.0, little-endian `<f4`, `<i4`, `|u1`, C order.
public enum NPY {
    public static func encode(_ a: NPYArray) -> [UInt8] {
        let descr: String
        var body: [UInt8] = []
        switch a {
        case .float32(let v, _): descr = "<f4"; body.reserveCapacity(v.count * 4); for x in v { withUnsafeBytes(of: x.bitPattern.littleEndian) { body += $0 } }
        case .int32(let v, _): descr = "<i4"; body.reserveCapacity(v.count * 4); for x in v { withUnsafeBytes(of: x.littleEndian) { body += $0 } }
        case .uint8(let v, _): descr = "|u1"; body = v
        }
        let s = a.shape
        let shapeText = s.count == 1 ? "(\(s[0]),)" : "(" + s.map(String.init).joined(separator: ", ") + ")"
        var header = "{'descr': '\(descr)', 'fortran_order': False, 'shape': \(shapeText), }"
        let total = 10 + header.utf8.count + 1
        header += String(repeating: " ", count: (64 - total % 64) % 64) + "\n"
        let hl = header.utf8.count
        return [0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(hl & 0xFF), UInt8(hl >> 8)] + Array(header.utf8) + body
    }

    public static func write(_ a: NPYArray, to path: String) throws {
        do { try Data(encode(a)).write(to: URL(fileURLWithPath: path), options: .atomic) }
        catch { throw DataError("\(path): cannot write NPY file (\(error.localizedDescription))") }
    }

    public static func read(_ path: String) throws -> NPYArray {
        guard let d = FileManager.default.contents(atPath: path) else { throw DataError("\(path): cannot read file (missing or unreadable)") }
        return try decode([UInt8](d), source: path)
    }

    public static func decode(_ b: [UInt8], source: String) throws -> NPYArray {
        func fail(_ why: String) -> DataError { DataError("\(source): \(why)") }
        guard b.count >= 10, b[0] == 0x93, Array(b[1..<6]) == Array("NUMPY".utf8) else { throw fail("not an NPY file (bad magic)") }
        let major = b[6]
        var hl: Int, start: Int
        switch major {
        case 1: hl = Int(b[8]) | Int(b[9]) << 8; start = 10
        case 2, 3:
            guard b.count >= 12 else { throw fail("truncated NPY header") }
            hl = Int(b[8]) | Int(b[9]) << 8 | Int(b[10]) << 16 | Int(b[11]) << 24; start = 12
        default: throw fail("NPY version \(major) unsupported")
        }
        guard b.count >= start + hl, let header = String(bytes: b[start..<(start + hl)], encoding: .utf8) else { throw fail("truncated NPY header") }
        func field(_ key: String) -> String? {
            guard let r = header.range(of: "'\(key)':") else { return nil }
            return String(header[r.upperBound...]).trimmingCharacters(in: .whitespaces)
        }
        guard let dv = field("descr"), let q1 = dv.firstIndex(of: "'") else { throw fail("NPY header lacks 'descr'") }
        let rest = dv[dv.index(after: q1)...]
        guard let q2 = rest.firstIndex(of: "'") else { throw fail("NPY header has a malformed 'descr'") }
        let descr = String(rest[..<q2])
        if let fo = field("fortran_order"), fo.hasPrefix("True") { throw fail("Fortran-order NPY arrays are unsupported") }
        guard let sv = field("shape"), let open = sv.firstIndex(of: "("), let close = sv.firstIndex(of: ")") else { throw fail("NPY header lacks 'shape'") }
        let dims = sv[sv.index(after: open)..<close].split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        var shape: [Int] = []
        for d in dims { guard let v = Int(d), v >= 0 else { throw fail("NPY shape entry '\(d)' is not a size") }; shape.append(v) }
        let n = shape.reduce(1, *)
        let body = b[(start + hl)...]
        let width: Int
        switch descr {
        case "<f4", "<i4": width = 4
        case "|u1", "<u1", "u1": width = 1
        default: throw fail("NPY dtype '\(descr)' unsupported (float32 '<f4', int32 '<i4', uint8 '|u1')")
        }
        guard body.count == n * width else { throw fail("NPY data has \(body.count) bytes, shape \(shape) needs \(n * width)\(body.count < n * width ? " (truncated)" : "")") }
        if width == 1 { return .uint8(Array(body), shape: shape) }
        var words = [UInt32](repeating: 0, count: n)
        var k = body.startIndex
        for i in 0..<n { words[i] = UInt32(b[k]) | UInt32(b[k + 1]) << 8 | UInt32(b[k + 2]) << 16 | UInt32(b[k + 3]) << 24; k += 4 }
        return descr == "<f4" ? .float32(words.map { Float(bitPattern: $0) }, shape: shape) : .int32(words.map { Int32(bitPattern: $0) }, shape: shape)
    }
}
