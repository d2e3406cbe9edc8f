// The teacher's per-sample outputs the students learn from — penultimate features and logits for the
// training (and test) set — computed once and cached as .npy, or read from files another framework
// wrote (.npy or .safetensors).
import Foundation
import SNETensor
import SNEData

/// Per-sample teacher outputs, row-major `[N, D]` features and `[N, classes]` logits.
public struct TeacherTargets: Sendable {
    public var features: [Float]
    public var logits: [Float]
    public var count: Int
    public var dims: Int
    public var classes: Int

    public init(features: [Float], logits: [Float], count: Int, dims: Int, classes: Int) throws {
        guard count >= 1, dims >= 1, classes >= 1, features.count == count * dims, logits.count == count * classes else {
            throw SNEError("teacher targets: \(features.count) feature values and \(logits.count) logits do not fit \(count) samples x \(dims) dims / \(classes) classes")
        }
        self.features = features; self.logits = logits; self.count = count; self.dims = dims; self.classes = classes
    }

    /// Runs `teacher` over `data` (evaluation mode, no augmentation).
    public static func compute(_ teacher: Teacher, on data: LabeledImages, compute: ComputeContext, progress: ProgressSink, what: String) throws -> TeacherTargets {
        try Self.compute(teacher, count: data.count, compute: compute, progress: progress, what: what) { r in
            try Tensor(shape: [r.count] + data.shape.dropFirst(), data: Array(data.pixels[(r.lowerBound * data.imageSize)..<(r.upperBound * data.imageSize)]))
        }
    }

    /// Runs `teacher` (evaluation mode) over `count` images that `images` gives a range at a time
    /// (`[n, C, H, W]` for images `r`), in batches of 200.
    static func compute(_ teacher: Teacher, count: Int, compute: ComputeContext, progress: ProgressSink, what: String,
                        images: (Range<Int>) throws -> Tensor) throws -> TeacherTargets {
        var f: [Float] = [], z: [Float] = []
        f.reserveCapacity(count * teacher.spec.features); z.reserveCapacity(count * teacher.classes)
        let bs = 200   // width-32 28x28 activations stay under the allocator's mmap threshold (buffers reused); eval results do not depend on the batch
        for lo in stride(from: 0, to: count, by: bs) {
            let (ft, lt) = try teacher(try images(lo..<min(lo + bs, count)), compute: compute)
            f += ft.data; z += lt.data
            progress.bar("teacher outputs (\(what)): \(min(lo + bs, count))/\(count)")
        }
        return try TeacherTargets(features: f, logits: z, count: count, dims: teacher.spec.features, classes: teacher.classes)
    }

    /// Writes `<prefix>.features.npy` and `<prefix>.logits.npy` (float32), each atomically.
    public func save(prefix: String) throws {
        do {
            try NPY.write(.float32(features, shape: [count, dims]), to: prefix + ".features.npy")
            try NPY.write(.float32(logits, shape: [count, classes]), to: prefix + ".logits.npy")
        } catch let e as DataError { throw SNEError(e.message) }
    }

    /// Reads features and logits from `.npy` (float32 `[N, D]`, `[N, classes]`) or `.safetensors`
    /// files (one float32 or float16/bfloat16 2-D tensor each, or a single file with tensors named
    /// `features` and `logits`), checking them against `samples` and `classes`. With `limited`
    /// (`--limit N`: the first N training images), files of the full training set give their
    /// first `samples` rows.
    public static func load(features fp: String, logits lp: String, samples: Int, classes: Int, limited: Bool = false) throws -> TeacherTargets {
        var (f, fs) = try readMatrix(fp, preferred: "features")
        var (z, zs) = try readMatrix(lp, preferred: "logits")
        for (path, what, rows) in [(fp, "teacher features (--teacher-features)", fs[0]), (lp, "teacher logits (--teacher-logits)", zs[0])] {
            if rows < samples || (rows > samples && !limited) {
                throw SNEError("\(path): \(rows) rows of \(what), but the training set has \(samples) images"
                               + (rows > samples ? " (with --limit N the first N rows are used)" : ""))
            }
        }
        if fs[0] > samples { f = Array(f[0..<(samples * fs[1])]); fs[0] = samples }
        if zs[0] > samples { z = Array(z[0..<(samples * zs[1])]); zs[0] = samples }
        guard zs[1] == classes else { throw SNEError("\(lp): teacher logits have \(zs[1]) classes, the dataset has \(classes)") }
        guard f.allSatisfy(\.isFinite) else { throw SNEError("\(fp): teacher features contain NaN or infinity") }
        guard z.allSatisfy(\.isFinite) else { throw SNEError("\(lp): teacher logits contain NaN or infinity") }
        return try TeacherTargets(features: f, logits: z, count: samples, dims: fs[1], classes: classes)
    }

    /// A 2-D float matrix from `.npy` or `.safetensors`.
    static func readMatrix(_ path: String, preferred: String) throws -> ([Float], [Int]) {
        if path.hasSuffix(".safetensors") {
            let tensors = try SafeTensors.read(path)
            let pick = tensors.count == 1 ? tensors.first!.value : tensors[preferred]
            guard let t = pick else {
                throw SNEError("\(path): no tensor named '\(preferred)' (has: \(tensors.keys.sorted().joined(separator: ", ")))")
            }
            guard t.shape.count == 2 else { throw SNEError("\(path): tensor '\(preferred)' has shape \(t.shape), expected [N, D]") }
            return (t.data, t.shape)
        }
        let a: NPYArray
        do { a = try NPY.read(path) } catch let e as DataError { throw SNEError(e.message) }
        let found: String
        switch a {
        case .float32(let v, let s):
            guard s.count == 2, s[0] >= 1, s[1] >= 1 else { throw SNEError("\(path): expected a 2-D array [N, D], got shape \(s)") }
            return (v, s)
        case .int32: found = "int32 ('<i4')"
        case .uint8: found = "uint8 ('|u1')"
        }
        throw SNEError("\(path): the array is \(found); teacher outputs must be float32 ('<f4'): save them with .astype(np.float32)")
    }
}

/// A reader for the safetensors format: an 8-byte little-endian header length, a JSON header
/// `{name: {"dtype", "shape", "data_offsets": [begin, end]}, "__metadata__": {...}}`, then the
/// tensor bytes (offsets relative to the end of the header). Floating-point tensors only.
public enum SafeTensors {
    public struct Entry: Sendable { public var shape: [Int]; public var data: [Float] }

    public static func read(_ path: String) throws -> [String: Entry] {
        guard let d = FileManager.default.contents(atPath: path) else { throw SNEError("\(path): cannot read file (missing or unreadable)") }
        return try decode([UInt8](d), source: path)
    }

    public static func decode(_ b: [UInt8], source: String) throws -> [String: Entry] {
        guard b.count >= 8 else { throw SNEError("\(source): too short for a safetensors file (\(b.count) bytes)") }
        var n: UInt64 = 0
        for i in 0..<8 { n |= UInt64(b[i]) << (8 * UInt64(i)) }
        guard n >= 2, n <= UInt64(b.count - 8), n <= 100_000_000 else { throw SNEError("\(source): safetensors header length \(n) does not fit the file (\(b.count) bytes)") }
        let hEnd = 8 + Int(n)
        guard let json = try? JSONSerialization.jsonObject(with: Data(b[8..<hEnd])) as? [String: Any] else {
            throw SNEError("\(source): safetensors header is not a JSON object")
        }
        let dataLen = b.count - hEnd
        var out: [String: Entry] = [:]
        for (name, v) in json where name != "__metadata__" {
            guard let e = v as? [String: Any], let dtype = e["dtype"] as? String, let shapeAny = e["shape"] as? [Any],
                  let offs = e["data_offsets"] as? [Any], offs.count == 2 else {
                throw SNEError("\(source): tensor '\(name)' lacks dtype, shape or data_offsets")
            }
            let shape = shapeAny.compactMap { ($0 as? NSNumber)?.intValue }
            let o = offs.compactMap { ($0 as? NSNumber)?.intValue }
            guard shape.count == shapeAny.count, shape.allSatisfy({ $0 >= 0 }), o.count == 2, o[0] >= 0, o[0] <= o[1], o[1] <= dataLen else {
                throw SNEError("\(source): tensor '\(name)' has a bad shape \(shapeAny) or offsets \(offs) (data is \(dataLen) bytes)")
            }
            var count = 1
            for s in shape {
                let (m, over) = count.multipliedReportingOverflow(by: s)
                guard !over, m <= 1 << 31 else { throw SNEError("\(source): tensor '\(name)' shape \(shape) is too large") }
                count = m
            }
            let width: Int
            switch dtype { case "F32": width = 4; case "F16", "BF16": width = 2; case "F64": width = 8
            default: throw SNEError("\(source): tensor '\(name)' has dtype \(dtype); only F32, F16, BF16, F64 are read") }
            guard o[1] - o[0] == count * width else {
                throw SNEError("\(source): tensor '\(name)' spans \(o[1] - o[0]) bytes, shape \(shape) x \(dtype) needs \(count * width)")
            }
            var vals = [Float](repeating: 0, count: count)
            let base = hEnd + o[0]
            for i in 0..<count {
                let p = base + i * width
                switch dtype {
                case "F32": vals[i] = Float(bitPattern: UInt32(b[p]) | UInt32(b[p + 1]) << 8 | UInt32(b[p + 2]) << 16 | UInt32(b[p + 3]) << 24)
                case "BF16": vals[i] = Float(bitPattern: (UInt32(b[p]) | UInt32(b[p + 1]) << 8) << 16)
                case "F16": vals[i] = Float(halfBits: UInt16(b[p]) | UInt16(b[p + 1]) << 8)
                default:
                    var u: UInt64 = 0
                    for j in 0..<8 { u |= UInt64(b[p + j]) << (8 * UInt64(j)) }
                    vals[i] = Float(Double(bitPattern: u))
                }
            }
            out[name] = Entry(shape: shape, data: vals)
        }
        return out
    }

    /// Encodes float32 tensors (sorted by name) — for tests and tools.
    public static func encode(_ tensors: [(String, [Int], [Float])]) -> [UInt8] {
        var header: [String] = [], body: [UInt8] = []
        for (name, shape, data) in tensors.sorted(by: { $0.0 < $1.0 }) {
            let begin = body.count
            for v in data { withUnsafeBytes(of: v.bitPattern.littleEndian) { body += $0 } }
            header.append("\"\(name)\":{\"dtype\":\"F32\",\"shape\":[\(shape.map(String.init).joined(separator: ","))],\"data_offsets\":[\(begin),\(body.count)]}")
        }
        var h = Array(("{" + header.joined(separator: ",") + "}").utf8)
        while h.count % 8 != 0 { h.append(0x20) }
        var out: [UInt8] = []
        withUnsafeBytes(of: UInt64(h.count).littleEndian) { out += $0 }
        return out + h + body
    }
}

extension Float {
    /// IEEE 754 binary16 bits to Float (exact).
    init(halfBits h: UInt16) {
        let sign = UInt32(h >> 15) << 31, exp = Int((h >> 10) & 0x1F), mant = UInt32(h & 0x3FF)
        if exp == 0 {
            self = Float(bitPattern: sign) + (sign != 0 ? -1 : 1) * Float(mant) * 0x1p-24
        } else if exp == 31 {
            self = Float(bitPattern: sign | 0x7F80_0000 | (mant << 13))
        } else {
            self = Float(bitPattern: sign | UInt32(exp - 15 + 127) << 23 | mant << 13)
        }
    }
}
