// Readers for IDX (MNIST / Fashion-MNIST, plain or .gz), CIFAR-10 binary batches, and NPY read/write.
import Foundation
import SNEBase

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

    /// The last `n` images (all when `n >= count`).
    public func suffix(_ n: Int) -> LabeledImages {
        let k = min(n, count), lo = count - k
        var s = shape; s[0] = k
        return try! LabeledImages(shape: s, pixels: Array(pixels[(lo * imageSize)...]), labels: Array(labels[lo...]))
    }
}

/// An IDX header (LeCun's MNIST files): magic `0 0 type ndim`, then `ndim` big-endian u32 sizes.
public struct IDXHeader: Sendable, Equatable {
    /// The sizes, outermost first.
    public let dims: [Int]
    /// Bytes before the data: `4 + 4 * dims.count`.
    public var dataOffset: Int { 4 + 4 * dims.count }
    /// Bytes of one item (the product of all but the first size), checked.
    public let itemBytes: Int
    /// Bytes of the whole data (`dims[0] * itemBytes`), checked.
    public let dataBytes: Int

    /// The bytes needed to know the header length.
    public static let prefixBytes = 4

    /// Checks the 4-byte prefix and returns the header length.
    public static func headerBytes(_ b: [UInt8], source: String) throws -> Int {
        guard b.count >= 4 else { throw DataError("\(source): truncated IDX header (\(b.count) bytes, the magic alone is 4)") }
        guard b[0] == 0, b[1] == 0 else { throw DataError("\(source): not an IDX file (bad magic; expected 00 00 08 <ndim>)") }
        guard b[2] == 0x08 else { throw DataError("\(source): IDX element type 0x\(String(b[2], radix: 16)) unsupported (only unsigned byte, 0x08)") }
        let nd = Int(b[3])
        guard nd >= 1, nd <= 4 else { throw DataError("\(source): IDX has \(nd) dimensions (1 to 4 supported)") }
        return 4 + 4 * nd
    }

    /// Parses and checks the header at the start of `b`: every product of sizes is checked for
    /// overflow and against `DataLimits.maxElements` before it is used.
    public init(_ b: [UInt8], source: String) throws {
        let end = try IDXHeader.headerBytes(b, source: source)
        guard b.count >= end else { throw DataError("\(source): truncated IDX header (\(b.count) bytes, \((end - 4) / 4) dimensions need \(end))") }
        var dims: [Int] = []
        for o in stride(from: 4, to: end, by: 4) {
            dims.append(Int(b[o]) << 24 | Int(b[o + 1]) << 16 | Int(b[o + 2]) << 8 | Int(b[o + 3]))
        }
        guard let item = DataLimits.product(Array(dims.dropFirst())), let all = DataLimits.product([dims[0], item]) else {
            throw DataError("\(source): IDX sizes \(dims) describe more than \(DataLimits.maxElements) bytes")
        }
        self.dims = dims; itemBytes = item; dataBytes = all
    }
}

/// The IDX format (LeCun's MNIST files): magic `0 0 type ndim`, big-endian u32 dims, data.
public enum IDX {
    /// Parses an unsigned-byte IDX array: returns (dims, bytes). With `items`, only the first
    /// `items` entries of the outer dimension are expected (the input may be a prefix of the file).
    public static func parse(_ b: [UInt8], source: String, items: Int? = nil) throws -> (dims: [Int], data: ArraySlice<UInt8>) {
        let h = try IDXHeader(b, source: source)
        var dims = h.dims
        let start = h.dataOffset, have = b.count - start
        if let items { dims[0] = min(dims[0], max(0, items)) }
        let n = dims[0] * h.itemBytes   // <= h.dataBytes, checked
        if items != nil, have > n { return (dims, b[start..<(start + n)]) }
        guard have == n else {
            throw DataError("\(source): IDX data has \(have) bytes, header \(dims) needs \(n)\(have < n ? " (truncated)" : " (extra bytes after the data)")")
        }
        return (dims, b[start...])
    }

    /// Reads header first, then exactly the data bytes it allows (of the first `items` items).
    static func read(_ path: String, items: Int?) throws -> (dims: [Int], data: ArraySlice<UInt8>) {
        let pre = try readMaybeGzip(path, limit: IDXHeader.prefixBytes)
        let hb = try IDXHeader.headerBytes(pre, source: path)
        let h = try IDXHeader(try readMaybeGzip(path, limit: hb), source: path)
        if let items, items < h.dims[0] {
            let need = hb + items * h.itemBytes
            return try parse(try readMaybeGzip(path, limit: need), source: path, items: items)
        }
        // The whole file: refuse (or stop inflating) past what the header allows.
        let b = try readMaybeGzip(path, maxOutput: hb + h.dataBytes, what: "an IDX file with sizes \(h.dims)")
        return try parse(b, source: path, items: items)
    }

    /// Reads an IDX image file (`N x H x W` bytes) and label file into `[N, 1, H, W]` floats `/255`;
    /// with `limit`, only the first `limit` images (decompressing only what they need).
    public static func load(images: String, labels: String, limit: Int? = nil) throws -> LabeledImages {
        if let limit, limit < 1 { throw DataError("\(images): limit must be at least 1, got \(limit)") }
        let (d, px) = try read(images, items: limit)
        guard d.count == 3 else { throw DataError("\(images): expected a 3-D IDX image array, got dims \(d)") }
        let (ld, lb) = try read(labels, items: limit)
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
        for f in files {
            let room = DataLimits.maxElements - all.count   // records of 3073 bytes; the cap bounds the sum
            all += try readMaybeGzip(f, maxOutput: room, what: "CIFAR-10 data (at most \(DataLimits.maxElements) bytes in all)")
        }
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

/// NumPy `.npy` (format versions 1.0/2.0/3.0 read, 1.0 written), little-endian `<f4`, `<i4`, `|u1`, C order.
public enum NPY {
    public static func encode(_ a: NPYArray) -> [UInt8] {
        let descr: String
        var body: [UInt8] = []
        switch a {
        case .float32(let v, _): descr = "<f4"; body.reserveCapacity(v.count * 4); for x in v { withUnsafeBytes(of: x.bitPattern.littleEndian) { body += $0 } }
        case .int32(let v, _): descr = "<i4"; body.reserveCapacity(v.count * 4); for x in v { withUnsafeBytes(of: x.littleEndian) { body += $0 } }
        case .uint8(let v, _): descr = "|u1"; body = v
        }
        return NPYFormat.encode(descr: descr, shape: a.shape, data: body)   // SNEBase
    }

    public static func write(_ a: NPYArray, to path: String) throws {
        do { try Data(encode(a)).write(to: URL(fileURLWithPath: path), options: .atomic) }
        catch { throw DataError("\(path): cannot write NPY file (\(error.localizedDescription))") }
    }

    /// Reads a `.npy` file: the header first, then exactly the data bytes it describes.
    public static func read(_ path: String) throws -> NPYArray {
        let (h, body) = try readChecked(path)
        return decode(h, body)
    }

    /// The checked header and data bytes of a `.npy` file (plain or gzip), read header first.
    public static func readChecked(_ path: String) throws -> (NPYHeader, ArraySlice<UInt8>) {
        let end = try NPYHeader.headerEnd(try readMaybeGzip(path, limit: NPYHeader.prefixBytes), source: path)
        let h = try NPYHeader.parse(try readMaybeGzip(path, limit: end), source: path)
        let b = try readMaybeGzip(path, maxOutput: h.dataOffset + h.dataBytes, what: "an NPY file of shape \(h.shape)")
        return (h, try body(b, h, source: path))
    }

    /// The data bytes after header `h`, which must be exactly `h.dataBytes` long.
    static func body(_ b: [UInt8], _ h: NPYHeader, source: String) throws -> ArraySlice<UInt8> {
        let have = b.count - h.dataOffset, need = h.dataBytes
        guard have == need else {
            throw DataError("\(source): NPY data has \(have) bytes, shape \(h.shape) of \(h.dtype) needs \(need)\(have < need ? " (truncated)" : " (extra bytes after the data)")")
        }
        return b[h.dataOffset...]
    }

    /// Decodes a whole `.npy` file held in memory.
    public static func decode(_ b: [UInt8], source: String) throws -> NPYArray {
        let h = try NPYHeader.parse(b, source: source)
        return decode(h, try body(b, h, source: source))
    }

    static func decode(_ h: NPYHeader, _ body: ArraySlice<UInt8>) -> NPYArray {
        let n = h.count
        if h.dtype == .uint8 { return .uint8(Array(body), shape: h.shape) }
        var words = [UInt32](repeating: 0, count: n)
        var k = body.startIndex
        for i in 0..<n { words[i] = UInt32(body[k]) | UInt32(body[k + 1]) << 8 | UInt32(body[k + 2]) << 16 | UInt32(body[k + 3]) << 24; k += 4 }
        return h.dtype == .float32 ? .float32(words.map { Float(bitPattern: $0) }, shape: h.shape) : .int32(words.map { Int32(bitPattern: $0) }, shape: h.shape)
    }
}
