// Versioned checkpoints of float models (named tensors + metadata), written atomically (temp + rename).
import SNETensor
import Foundation

/// A checkpoint read or write failure, one line naming the file and the problem.
public struct CheckpointError: Error, CustomStringConvertible, Equatable {
    public let message: String
    public var description: String { message }
}

/// Named float tensors and string metadata.
///
/// File layout (little-endian): magic `"SNECKPT\0"`, u32 version (1), u32 metadata bytes + JSON
/// object of strings, u32 tensor count, then per tensor: u32 name bytes + UTF-8 name, u32 rank,
/// rank × u32 dims, float32 data.
public struct Checkpoint: Equatable {
    public static let version: UInt32 = 1
    static let magic: [UInt8] = Array("SNECKPT\0".utf8)

    public var tensors: [(String, Tensor)]
    public var metadata: [String: String]

    public init(tensors: [(String, Tensor)] = [], metadata: [String: String] = [:]) {
        self.tensors = tensors; self.metadata = metadata
    }

    public static func == (a: Checkpoint, b: Checkpoint) -> Bool {
        a.metadata == b.metadata && a.tensors.count == b.tensors.count && zip(a.tensors, b.tensors).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
    }

    /// Tensors by name.
    public var byName: [String: Tensor] { Dictionary(tensors, uniquingKeysWith: { a, _ in a }) }

    /// Serialises to bytes.
    public func encoded() throws -> Data {
        var d = Data(Self.magic)
        func u32(_ v: Int) { var x = UInt32(v).littleEndian; withUnsafeBytes(of: &x) { d.append(contentsOf: $0) } }
        u32(Int(Self.version))
        let meta = try JSONEncoder().encode(metadata)
        u32(meta.count); d.append(meta)
        u32(tensors.count)
        for (name, t) in tensors {
            let nb = Array(name.utf8)
            u32(nb.count); d.append(contentsOf: nb)
            u32(t.rank); for s in t.shape { u32(s) }
            t.data.withUnsafeBufferPointer { p in
                for v in p { var b = v.bitPattern.littleEndian; withUnsafeBytes(of: &b) { d.append(contentsOf: $0) } }
            }
        }
        return d
    }

    /// Parses bytes; `source` names the file in errors.
    public init(decoding data: Data, source: String = "checkpoint") throws {
        let bytes = [UInt8](data)
        var pos = 0
        func fail(_ why: String) -> CheckpointError { CheckpointError(message: "\(source): \(why)") }
        func take(_ n: Int) throws -> ArraySlice<UInt8> {
            guard n >= 0, pos + n <= bytes.count else { throw fail("truncated at byte \(pos) (needed \(n) more bytes, file has \(bytes.count))") }
            defer { pos += n }
            return bytes[pos..<(pos + n)]
        }
        func u32() throws -> Int { let s = try take(4); return Int(UInt32(s[s.startIndex]) | UInt32(s[s.startIndex + 1]) << 8 | UInt32(s[s.startIndex + 2]) << 16 | UInt32(s[s.startIndex + 3]) << 24) }
        guard Array(try take(8)) == Self.magic else { throw fail("not an sne checkpoint (bad magic)") }
        let ver = try u32()
        guard ver == Int(Self.version) else { throw fail("checkpoint version \(ver) is not supported (expected \(Self.version))") }
        let metaLen = try u32()
        guard let meta = try? JSONDecoder().decode([String: String].self, from: Data(try take(metaLen))) else { throw fail("metadata is not a JSON object of strings") }
        metadata = meta
        let count = try u32()
        var ts: [(String, Tensor)] = []
        for _ in 0..<count {
            let nl = try u32()
            guard let name = String(bytes: try take(nl), encoding: .utf8) else { throw fail("tensor name is not UTF-8") }
            let rank = try u32()
            guard rank <= 8 else { throw fail("tensor '\(name)' has rank \(rank)") }
            var shape: [Int] = []
            for _ in 0..<rank { shape.append(try u32()) }
            let n = shape.reduce(1, *)
            let raw = try take(n * 4)
            var vals = [Float](repeating: 0, count: n)
            var k = raw.startIndex
            for i in 0..<n {
                vals[i] = Float(bitPattern: UInt32(raw[k]) | UInt32(raw[k + 1]) << 8 | UInt32(raw[k + 2]) << 16 | UInt32(raw[k + 3]) << 24)
                k += 4
            }
            ts.append((name, try Tensor(shape: shape, data: vals)))
        }
        guard pos == bytes.count else { throw fail("\(bytes.count - pos) unexpected bytes after the last tensor") }
        tensors = ts
    }

    /// Writes atomically: a temporary file in the same directory, then rename over `path`.
    public func write(to path: String) throws {
        let data = try encoded()
        let url = URL(fileURLWithPath: path)
        let tmp = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).tmp-\(getpid())")
        do {
            try data.write(to: tmp)
            if rename(tmp.path, url.path) != 0 {
                throw CheckpointError(message: "\(path): cannot rename temporary file into place (errno \(errno))")
            }
        } catch let e as CheckpointError {
            try? FileManager.default.removeItem(at: tmp); throw e
        } catch {
            try? FileManager.default.removeItem(at: tmp)
            throw CheckpointError(message: "\(path): cannot write checkpoint (\(error.localizedDescription))")
        }
    }

    /// Reads and validates a checkpoint file.
    public static func read(from path: String) throws -> Checkpoint {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw CheckpointError(message: "\(path): cannot read checkpoint (missing or unreadable)")
        }
        return try Checkpoint(decoding: data, source: path)
    }
}

extension Layer {
    /// Every parameter and buffer as `(name, value)`, for checkpoints and the compiler.
    public func stateDict() -> [(String, Tensor)] { namedParameters().map { ($0.0, $0.1.value) } }

    /// Loads values by name; throws naming the first missing or mis-shaped tensor. `partial`: only
    /// the parameters `tensors` names are loaded, the others keep their values.
    public func loadStateDict(_ tensors: [String: Tensor], prefix: String = "", partial: Bool = false) throws {
        for (name, p) in namedParameters() {
            if partial && tensors[prefix + name] == nil { continue }
            guard let t = tensors[prefix + name] else { throw CheckpointError(message: "checkpoint lacks tensor '\(prefix + name)'") }
            guard t.shape == p.value.shape else {
                throw CheckpointError(message: "tensor '\(prefix + name)' has shape \(t.shape), model expects \(p.value.shape)")
            }
            p.value = t
        }
    }
}

/// A training snapshot: model state, optimizer state and step, random-stream state, and free-form
/// progress fields (epoch, batch). Resuming from it continues bit-identically.
public enum TrainingCheckpoint {
    /// Builds a checkpoint of `model` + `optimizer` + `rng` + `progress`.
    public static func make(model: any Layer, optimizer: any Optimizer, rng: SeededRNG, progress: [String: String]) -> Checkpoint {
        var meta = progress
        meta["optimizer.steps"] = "\(optimizer.steps)"
        meta["rng"] = rng.stateWords.map { String($0) }.joined(separator: ",")
        meta["format"] = "sne-training"
        return Checkpoint(tensors: model.stateDict().map { ("model.\($0.0)", $0.1) } + optimizer.stateTensors().map { ("optim.\($0.0)", $0.1) },
                          metadata: meta)
    }

    /// Restores `model` and `optimizer` and returns the saved random-stream state and progress fields.
    public static func restore(_ ck: Checkpoint, model: any Layer, optimizer: any Optimizer) throws -> (SeededRNG, [String: String]) {
        let byName = ck.byName
        try model.loadStateDict(byName, prefix: "model.")
        var opt: [String: Tensor] = [:]
        for (k, v) in byName where k.hasPrefix("optim.") { opt[String(k.dropFirst(6))] = v }
        guard let s = ck.metadata["optimizer.steps"], let steps = Int(s) else { throw CheckpointError(message: "checkpoint lacks optimizer.steps") }
        try optimizer.loadState(opt, steps: steps)
        let words = (ck.metadata["rng"] ?? "").split(separator: ",").compactMap { UInt64($0) }
        guard words.count == 4 else { throw CheckpointError(message: "checkpoint lacks a valid rng state") }
        return (SeededRNG(state: words), ck.metadata)
    }
}
