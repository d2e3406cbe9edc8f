// Input images for `sne run` / `sne info`: raw uint8, NPY (uint8) or IDX (+ --index).
import Foundation
import SpikeIR
import SNEData

enum InputFiles {
    /// Reads one input of exactly `size` bytes from `path` (raw, .npy, or IDX with `index`).
    static func read(_ path: String, size: Int, index: Int?) throws -> [UInt8] {
        var lower = path.lowercased()
        let b: [UInt8]
        do { b = try readMaybeGzip(path) } catch { throw CLIError.failure("\(error)") }   // gzip by magic (SNEData)
        if lower.hasSuffix(".gz") { lower.removeLast(3) }
        if lower.hasSuffix(".npy") {
            if index != nil { throw CLIError.usage("--index applies to IDX files only") }
            return try npy(b, path: path, size: size)
        }
        if lower.hasSuffix(".idx") || lower.hasSuffix("-ubyte") || lower.contains("idx3") || index != nil {
            return try idx(b, path: path, size: size, index: index ?? 0)
        }
        if b.count != size {
            throw CLIError.failure("\(path): raw input has \(b.count) bytes, the program needs exactly \(size) (H·W·C uint8, HWC order)")
        }
        return b
    }

    /// A minimal NPY v1/v2/v3 reader for uint8 (`|u1`) C-order arrays of `size` elements.
    static func npy(_ b: [UInt8], path: String, size: Int) throws -> [UInt8] {
        guard b.count >= 10, b[0] == 0x93, Array(b[1..<6]) == Array("NUMPY".utf8) else {
            throw CLIError.failure("\(path): not an NPY file (bad magic)")
        }
        let major = b[6]
        var hlen = 0, start = 0
        if major == 1 { hlen = Int(b[8]) | Int(b[9]) << 8; start = 10 }
        else if major == 2 || major == 3 {
            guard b.count >= 12 else { throw CLIError.failure("\(path): truncated NPY header") }
            hlen = Int(b[8]) | Int(b[9]) << 8 | Int(b[10]) << 16 | Int(b[11]) << 24; start = 12
        } else { throw CLIError.failure("\(path): unsupported NPY version \(major)") }
        guard start + hlen <= b.count else { throw CLIError.failure("\(path): truncated NPY header") }
        let header = String(decoding: b[start..<(start + hlen)], as: UTF8.self)
        guard header.contains("'|u1'") || header.contains("'u1'") || header.contains("'<u1'") else {
            throw CLIError.failure("\(path): NPY dtype must be uint8 ('|u1'); header is \(header.trimmingCharacters(in: .whitespacesAndNewlines))")
        }
        if header.contains("'fortran_order': True") { throw CLIError.failure("\(path): Fortran-order NPY arrays are not supported") }
        let payload = b.count - start - hlen
        guard payload == size else {
            throw CLIError.failure("\(path): NPY array has \(payload) elements, the program needs exactly \(size)")
        }
        return Array(b[(start + hlen)...])
    }

    /// IDX (uint8 type 0x08): item `index` of a file whose items have `size` bytes.
    static func idx(_ b: [UInt8], path: String, size: Int, index: Int) throws -> [UInt8] {
        guard b.count >= 4, b[0] == 0, b[1] == 0 else { throw CLIError.failure("\(path): not an IDX file (bad magic)") }
        guard b[2] == 0x08 else { throw CLIError.failure("\(path): IDX type 0x\(String(b[2], radix: 16)) is not uint8 (0x08)") }
        let dims = Int(b[3])
        guard dims >= 1, b.count >= 4 + 4 * dims else { throw CLIError.failure("\(path): truncated IDX header") }
        var shape: [Int] = []
        for d in 0..<dims {
            let o = 4 + 4 * d
            shape.append(Int(b[o]) << 24 | Int(b[o + 1]) << 16 | Int(b[o + 2]) << 8 | Int(b[o + 3]))
        }
        let item = shape.dropFirst().reduce(1, *)
        guard item == size else { throw CLIError.failure("\(path): IDX items have \(item) bytes, the program needs \(size)") }
        guard index >= 0 && index < shape[0] else { throw CLIError.usage("--index \(index) out of range 0…\(shape[0] - 1)") }
        let start = 4 + 4 * dims + index * item
        guard start + item <= b.count else { throw CLIError.failure("\(path): truncated IDX data") }
        return Array(b[start..<(start + item)])
    }

    /// Loads a program, mapping SpikeIR errors to CLI failures.
    static func program(_ path: String) throws -> Program {
        do { return try ProgramFile.read(path: path) } catch let e as SpikeIRError {
            throw CLIError.failure("\(path): \(e)")
        }
    }
}
