// Byte-level helpers shared by the data side (SNEData, the trainer) and the program side
// (SpikeIR, SNECodegen), each written once: CRC-32, the SplitMix64 generator, the NPY 1.0
// writer's framing and the atomic file write. No dependencies, no global mutable state.
import Foundation

/// CRC-32 IEEE 802.3 (reflected, poly 0xEDB88320, init and final XOR 0xFFFFFFFF): the `.snep`
/// checksum (docs/spike-ir.md §9) and gzip's (RFC 1952).
public enum CRC32 {
    static let table: [UInt32] = (0..<256).map { i -> UInt32 in
        var c = UInt32(i)
        for _ in 0..<8 { c = c & 1 != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
        return c
    }

    /// The CRC-32 of `bytes`.
    public static func checksum(_ bytes: UnsafeRawBufferPointer) -> UInt32 {
        var c: UInt32 = 0xFFFF_FFFF
        table.withUnsafeBufferPointer { t in
            for b in bytes { c = t[Int((c ^ UInt32(b)) & 0xFF)] ^ (c >> 8) }
        }
        return c ^ 0xFFFF_FFFF
    }

    /// The CRC-32 of a byte collection (contiguous storage is read in place).
    public static func checksum<C: Collection>(_ bytes: C) -> UInt32 where C.Element == UInt8 {
        if let c = bytes.withContiguousStorageIfAvailable({ checksum(UnsafeRawBufferPointer($0)) }) { return c }
        return Array(bytes).withUnsafeBytes { checksum($0) }
    }
}

/// SplitMix64 (Steele, Lea, Flood 2014): a tiny seedable generator (data order, augmentation,
/// generated test programs). Same seed, same stream on every platform.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    public var state: UInt64
    public init(seed: UInt64) { state = seed }
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// NumPy `.npy` format 1.0 framing: magic, version, the header dictionary padded to 64 bytes.
public enum NPYFormat {
    /// A whole `.npy` file: `descr` a numpy dtype string (`|u1`, `|i1`, `<i2`, `<i4`, `<f4`), C
    /// order, `data` the raw little-endian element bytes.
    public static func encode(descr: String, shape: [Int], data: [UInt8]) -> [UInt8] {
        let dims = shape.count == 1 ? "\(shape[0])," : shape.map(String.init).joined(separator: ", ")
        var header = "{'descr': '\(descr)', 'fortran_order': False, 'shape': (\(dims)), }"
        let total = 10 + header.utf8.count + 1
        header += String(repeating: " ", count: (64 - total % 64) % 64) + "\n"
        let n = header.utf8.count
        return [0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(n & 0xFF), UInt8(n >> 8)] + Array(header.utf8) + data
    }
}

/// Why an atomic write failed (one line).
public struct AtomicWriteError: Error, CustomStringConvertible {
    public var path: String, reason: String
    public var description: String { "\(path): \(reason)" }
}

public enum AtomicFile {
    /// Writes `bytes` to `path` through a temporary file in the same directory and a rename, so a
    /// reader never sees a half-written file and an existing file is only replaced whole.
    public static func write(_ bytes: [UInt8], to path: String) throws {
        do { try Data(bytes).write(to: URL(fileURLWithPath: path), options: .atomic) } catch {
            throw AtomicWriteError(path: path, reason: "cannot write: \(error.localizedDescription)")
        }
    }
}
