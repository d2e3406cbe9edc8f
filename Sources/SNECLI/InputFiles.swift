// Input images and programs for `sne run` / `info` / `verify`: raw uint8, NPY (uint8) or IDX
// (+ --index), plain or gzip, and `.snep` programs. Headers are checked before data is read,
// and only the bytes a header allows are read (docs/loaders.md).
import Foundation
import SNEBase
import SpikeIR
import SNEData

enum InputFiles {
    /// How an input file is read: by its name (`.npy`, `.idx`, `-ubyte`, `idx3`, also `.gz`), and
    /// as IDX whenever `--index` is given; anything else is raw bytes.
    enum Kind: Equatable { case raw, npy, idx }

    static func kind(_ path: String, index: Int?) -> Kind {
        var lower = (path as NSString).lastPathComponent.lowercased()
        if lower.hasSuffix(".gz") { lower.removeLast(3) }
        if lower.hasSuffix(".npy") { return .npy }
        if lower.hasSuffix(".idx") || lower.hasSuffix("-ubyte") || lower.contains("idx3") || index != nil { return .idx }
        return .raw
    }

    /// Reads one input of exactly `shape.size` bytes (HWC uint8) from `path`.
    static func read(_ path: String, shape: Shape, index: Int?) throws -> [UInt8] {
        do {
            switch kind(path, index: index) {
            case .npy:
                if index != nil { throw CLIError.usage("--index applies to IDX files only; \(path) is read as .npy") }
                return try npy(path, shape: shape)
            case .idx: return try idx(path, shape: shape, index: index ?? 0)
            case .raw:
                // A file of exactly one input's size is raw bytes whatever it starts with.
                let f = try InputFile(path)
                if f.size != shape.size, let image = imageFormat(try f.read(at: 0, count: 8)) {
                    let mode = shape.c == 1 ? "L" : "RGB"
                    throw CLIError.input("\(path): is a \(image) image; inputs are raw uint8 (H·W·C = \(shape.h)x\(shape.w)x\(shape.c), HWC), .npy (uint8) or IDX; convert it, e.g. python3 -c \"from PIL import Image; import numpy as np; np.save('x.npy', np.asarray(Image.open('\(CLIText.escaped(path))').convert('\(mode)').resize((\(shape.w), \(shape.h))), dtype=np.uint8))\"")
                }
                return try readMaybeGzip(path, maxOutput: shape.size, what: "a raw input for \(shape) (H·W·C uint8)")
                    .checkedRaw(path: path, size: shape.size, shape: shape)
            }
        } catch let e as DataError { throw CLIError.input(e.message) }
    }

    /// The shapes a `.npy` or IDX item may have for a program input of `s` (HWC): `(H, W, C)` or
    /// `(1, H, W, C)`, and with C = 1 also `(H, W)` and `(1, H, W)`.
    static func accepts(_ dims: [Int], _ s: Shape) -> Bool {
        var ok = [[s.h, s.w, s.c], [1, s.h, s.w, s.c]]
        if s.c == 1 { ok += [[s.h, s.w], [1, s.h, s.w]] }
        return ok.contains(dims)
    }

    /// A uint8 `.npy` whose shape is the program input (spec: numpy's format.py, NPY 1.0/2.0/3.0).
    static func npy(_ path: String, shape s: Shape) throws -> [UInt8] {
        let end = try NPYHeader.headerEnd(try readMaybeGzip(path, limit: NPYHeader.prefixBytes), source: path)
        let h = try NPYHeader.parse(try readMaybeGzip(path, limit: end), source: path)
        guard h.dtype == .uint8 else {
            throw CLIError.input("\(path): NPY dtype is \(h.dtype.rawValue), program inputs are uint8 ('|u1'); convert with .astype(np.uint8)")
        }
        guard accepts(h.shape, s) else {
            throw CLIError.input("\(path): NPY shape \(tuple(h.shape)) does not match the program input (\(s.h), \(s.w), \(s.c)) (H, W, C)")
        }
        let b = try readMaybeGzip(path, maxOutput: h.dataOffset + h.dataBytes, what: "an NPY file of shape \(tuple(h.shape))")
        guard b.count == h.dataOffset + h.dataBytes else {
            throw CLIError.input("\(path): NPY data has \(b.count - h.dataOffset) bytes, shape \(tuple(h.shape)) needs \(h.dataBytes) (truncated)")
        }
        return Array(b[h.dataOffset...])
    }

    /// Item `index` of a uint8 IDX file whose items are the program input; reads the header and
    /// then only the bytes up to the end of that item.
    static func idx(_ path: String, shape s: Shape, index: Int) throws -> [UInt8] {
        let pre = try readMaybeGzip(path, limit: IDXHeader.prefixBytes)
        guard pre.count >= 4, pre[0] == 0, pre[1] == 0, pre[2] == 0x08 else {
            if kind(path, index: nil) == .raw {
                throw CLIError.usage("--index picks an item of an IDX file, but \(path) does not start with the IDX magic 00 00 08 <ndim>; a raw input is one H·W·C image, give it without --index")
            }
            _ = try IDXHeader.headerBytes(pre, source: path)   // the precise reason
            throw CLIError.input("\(path): not an IDX file")
        }
        let h = try idxHeader(path, prefix: pre)
        let item = Array(h.dims.dropFirst())
        guard accepts(item, s) else {
            throw CLIError.input("\(path): IDX items are \(itemText(item)), the program input is \(s.h)x\(s.w)x\(s.c) (H·W·C)")
        }
        guard index < h.dims[0] else {
            throw CLIError.usage("--index \(index) is out of range for \(path), which has \(h.dims[0]) items (0…\(max(0, h.dims[0] - 1)))")
        }
        return try idxItemBytes(path, h, from: index, count: 1)[0]
    }

    /// An IDX item shape for messages; a one-dimensional file (labels) has single-byte items.
    static func itemText(_ item: [Int]) -> String {
        item.isEmpty ? "single bytes (a one-dimensional IDX, such as a label file; give the images file)" : item.map(String.init).joined(separator: "x")
    }

    /// Items `from … from+count−1` of a uint8 IDX file whose items are the program input.
    static func idxItems(_ path: String, shape s: Shape, from: Int, count: Int) throws -> [[UInt8]] {
        do {
            let h = try idxHeader(path)
            try checkRange(h, path, from: from, count: count, what: "--input")
            let item = Array(h.dims.dropFirst())
            guard accepts(item, s) else {
                throw CLIError.input("\(path): IDX items are \(itemText(item)), the program input is \(s.h)x\(s.w)x\(s.c) (H·W·C)")
            }
            return try idxItemBytes(path, h, from: from, count: count)
        } catch let e as DataError { throw CLIError.input(e.message) }
    }

    /// Items `from … from+count−1` of a one-dimensional uint8 IDX label file.
    static func labels(_ path: String, from: Int, count: Int) throws -> [UInt8] {
        do {
            let h = try idxHeader(path)
            try checkRange(h, path, from: from, count: count, what: "--labels")
            guard h.dims.count == 1 else {
                throw CLIError.input("\(path): a label file is a one-dimensional IDX (00 00 08 01), this one has \(h.dims.count) dimensions")
            }
            return try idxItemBytes(path, h, from: from, count: count).flatMap { $0 }
        } catch let e as DataError { throw CLIError.input(e.message) }
    }

    /// The checked header of an IDX file (two bounded reads: the prefix, then the header).
    static func idxHeader(_ path: String, prefix: [UInt8]? = nil) throws -> IDXHeader {
        let pre = try prefix ?? readMaybeGzip(path, limit: IDXHeader.prefixBytes)
        return try IDXHeader(try readMaybeGzip(path, limit: try IDXHeader.headerBytes(pre, source: path)), source: path)
    }

    static func checkRange(_ h: IDXHeader, _ path: String, from: Int, count: Int, what: String) throws {
        guard from + count <= h.dims[0] else {
            throw CLIError.usage("\(what) \(path): items \(from)…\(from + count - 1) asked, the file has \(h.dims[0]) (0…\(max(0, h.dims[0] - 1)))")
        }
    }

    /// Items `from … from+count−1` (in range, checked by the caller) of the IDX file with header
    /// `h`: one read of the bytes up to the end of the last one.
    static func idxItemBytes(_ path: String, _ h: IDXHeader, from: Int, count: Int) throws -> [[UInt8]] {
        let start = h.dataOffset + from * h.itemBytes
        let end = start + count * h.itemBytes   // from + count ≤ dims[0], so ≤ dataOffset + dataBytes: no overflow
        let b = try readMaybeGzip(path, limit: end)
        guard b.count == end else {
            throw CLIError.input("\(path): IDX data is truncated (item \(from + count - 1) ends at byte \(end), the data has \(b.count))")
        }
        return (0..<count).map { Array(b[(start + $0 * h.itemBytes)..<(start + ($0 + 1) * h.itemBytes)]) }
    }

    /// `(a, b, c)` as numpy prints a shape.
    static func tuple(_ d: [Int]) -> String { d.count == 1 ? "(\(d[0]),)" : "(" + d.map(String.init).joined(separator: ", ") + ")" }

    /// The longest `.snep` file read (far above any program a target can hold).
    static let maxProgramBytes = 1 << 30

    /// Loads a program: a regular file, magic checked before the rest is read, then the full
    /// loader (spec §9); errors name the path once.
    static func program(_ path: String) throws -> Program {
        let bytes: [UInt8]
        do {
            let f = try InputFile(path)
            let head = try f.read(at: 0, count: 4)
            if head.count >= 2, head[0] == 0x1f, head[1] == 0x8b {
                // docs/loaders.md §6, decision 3: programs are never read compressed (the C
                // loader on a device cannot inflate; both loaders refuse the same bytes).
                throw DataError("\(path): is gzip-compressed; Spike IR programs are read uncompressed (gunzip it first)")
            }
            if let what = foreignFormat(head) {
                throw DataError("\(path): \(what)")
            }
            if head.count == 4, head != Array("SNEP".utf8) {
                throw DataError("\(path): not a Spike IR program (magic at byte 0 is \(head.map { String($0, radix: 16) }.joined(separator: " ")), expected \"SNEP\")")
            }
            bytes = try f.readAll(max: maxProgramBytes, what: "a Spike IR program")
        } catch let e as DataError { throw CLIError.input(e.message) }
        do { return try ProgramFile.decode(bytes) } catch let e as SpikeIRError {
            throw CLIError.input("\(path): \(e)")
        }
    }

    /// The image format named by a file's first bytes (PNG, JPEG, GIF), or nil.
    static func imageFormat(_ head: [UInt8]) -> String? {
        if head.starts(with: [0x89, 0x50, 0x4E, 0x47]) { return "PNG" }
        if head.starts(with: [0xFF, 0xD8, 0xFF]) { return "JPEG" }
        if head.starts(with: Array("GIF8".utf8)) { return "GIF" }
        return nil
    }

    /// What a file given where a program belongs is, from its first bytes, with the fix; nil
    /// when it is none of the usual mix-ups.
    static func foreignFormat(_ head: [UInt8]) -> String? {
        if head.starts(with: Array("SNEC".utf8)) {   // "SNECKPT": a model or checkpoint written by sne train
            return "is a model, not a Spike IR program; compile it first: sne compile MODEL -o PROGRAM.snep --data DIR"
        }
        if let image = imageFormat(head) { return "is a \(image) image, not a Spike IR program (images go to --input)" }
        if head.starts(with: [0x93] + Array("NUMP".utf8)) { return "is an NPY array, not a Spike IR program (inputs go to --input)" }
        return nil
    }

    /// Writes `bytes` to `path` via a temporary file and rename; refuses a path that exists and is
    /// not a regular file (a directory, FIFO or /dev/null) with a message that says so.
    static func writeAtomically(_ bytes: [UInt8], path: String, flag: String) throws {
        if let kind = OutputPath.existingNonRegular(path) {
            throw CLIError.usage("\(flag) \(path): is \(kind); give the path of a regular file to create or replace")
        }
        do { try AtomicFile.write(bytes, to: path) } catch {
            throw CLIError.failure("\(path): cannot write (\(OutputPath.reason(forWriting: path)))")
        }
    }
}

extension Array where Element == UInt8 {
    /// A raw input must be exactly one image.
    func checkedRaw(path: String, size: Int, shape: Shape) throws -> [UInt8] {
        guard count == size else {
            throw CLIError.input("\(path): raw input has \(count) bytes, the program needs exactly \(size) (\(shape.h)x\(shape.w)x\(shape.c) uint8, HWC order)")
        }
        return self
    }
}

/// Checks on an output path, worded without Foundation's error domains.
extension InputFiles {
    /// The inputs of `verify`: a raw file holding one or more inputs of `shape` back to back
    /// (at most 100,000), or one `.npy` / IDX input.
    static func batch(_ path: String, shape: Shape) throws -> [[UInt8]] {
        let n = shape.size
        guard kind(path, index: nil) == .raw else { return [try read(path, shape: shape, index: nil)] }
        let b: [UInt8]
        do { b = try readMaybeGzip(path, maxOutput: n * 100_000, what: "a raw inputs file (at most 100000 inputs of \(n) bytes)") }
        catch let e as DataError { throw CLIError.input(e.message) }
        guard !b.isEmpty, b.count % n == 0 else {
            throw CLIError.input("\(path): raw inputs file has \(b.count) bytes, not a positive multiple of the input size \(n) (\(shape.h)x\(shape.w)x\(shape.c) uint8, HWC)")
        }
        return stride(from: 0, to: b.count, by: n).map { Array(b[$0..<$0 + n]) }
    }
}

enum OutputPath {
    /// What an existing non-regular path is ("a directory", "a FIFO (named pipe)", ...), or nil.
    static func existingNonRegular(_ path: String) -> String? {
        var st = stat()
        guard stat(path, &st) == 0 else { return nil }
        return InputFile.kind(st.st_mode)
    }

    /// Why `path` cannot be written: its directory is missing, not a directory, or not writable.
    static func reason(forWriting path: String) -> String {
        let dir = (path as NSString).deletingLastPathComponent.isEmpty ? "." : (path as NSString).deletingLastPathComponent
        var isDir: ObjCBool = false
        if !FileManager.default.fileExists(atPath: dir, isDirectory: &isDir) { return "directory \(dir) does not exist" }
        if !isDir.boolValue { return "\(dir) is not a directory" }
        if access(dir, W_OK) != 0 { return "directory \(dir) is not writable" }
        return "the file system refused the write"
    }
}
