// Opening an input file the way every reader should: say what the path is when it is not a
// regular file, know its size before reading, and read only as many bytes as a header allows.
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Hard caps every reader applies before it allocates (docs/loaders.md).
public enum DataLimits {
    /// The most elements (bytes, for uint8 data) one array may have: 2^31. Training data is
    /// widened to float32 in memory, so this is already 8 GiB there.
    public static let maxElements = 1 << 31
    /// The most bytes a gzip file may inflate to when the format gives no tighter bound.
    public static let maxInflated = 1 << 32
    /// numpy's own default `max_header_size` for `.npy` headers.
    public static let maxNPYHeader = 10_000

    /// `a * b`, or nil when it overflows `Int` or exceeds `cap`.
    public static func product(_ factors: [Int], cap: Int = maxElements) -> Int? {
        var p = 1
        for f in factors {
            guard f >= 0 else { return nil }
            let (m, o) = p.multipliedReportingOverflow(by: f)
            guard !o, m <= cap else { return nil }
            p = m
        }
        return p
    }
}

/// A regular file opened for bounded reads. Opening refuses directories, FIFOs, devices and
/// sockets by name (a FIFO would block a plain read forever) and missing or unreadable paths.
public struct InputFile: ~Copyable {
    public let path: String
    /// The size in bytes from `fstat`.
    public let size: Int
    private let fd: Int32

    /// Opens `path`; the error says what the path is when it is not a readable regular file.
    public init(_ path: String) throws {
        var st = stat()
        guard stat(path, &st) == 0 else { throw DataError("\(path): \(InputFile.reason(errno))") }
        if let kind = InputFile.kind(st.st_mode) {
            throw DataError("\(path): is \(kind), not a regular file")
        }
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw DataError("\(path): \(InputFile.reason(errno))") }
        var st2 = stat()
        guard fstat(fd, &st2) == 0, InputFile.kind(st2.st_mode) == nil else {   // replaced between stat and open
            close(fd); throw DataError("\(path): is not a regular file")
        }
        self.path = path; self.fd = fd; self.size = Int(st2.st_size)
    }

    deinit { close(fd) }

    /// The bytes `offset ..< offset + count` (fewer when the file ends first).
    public func read(at offset: Int, count: Int) throws -> [UInt8] {
        let n = max(0, min(count, size - offset))
        guard n > 0 else { return [] }
        var out = [UInt8](repeating: 0, count: n)
        var done = 0
        try out.withUnsafeMutableBytes { buf in
            while done < n {
                let r = pread(fd, buf.baseAddress! + done, n - done, off_t(offset + done))
                if r < 0 {
                    if errno == EINTR { continue }
                    throw DataError("\(path): read failed (\(InputFile.reason(errno)))")
                }
                if r == 0 { break }   // the file shrank while reading
                done += r
            }
        }
        if done < n { out.removeLast(n - done) }
        return out
    }

    /// The whole file, refused without reading when it is larger than `max` bytes.
    public func readAll(max: Int, what: String) throws -> [UInt8] {
        guard size <= max else { throw DataError("\(path): \(size) bytes is more than \(what) can be (\(max) bytes)") }
        return try read(at: 0, count: size)
    }

    /// A one-line reason for `errno` (without Foundation's wording).
    static func reason(_ e: Int32) -> String {
        switch e {
        case ENOENT: return "no such file"
        case ENOTDIR: return "a parent of this path is not a directory"
        case EACCES, EPERM: return "permission denied"
        case ELOOP: return "too many symbolic links"
        case ENAMETOOLONG: return "path too long"
        case EISDIR: return "is a directory, not a regular file"
        default: return "cannot open (\(String(cString: strerror(e))))"
        }
    }

    /// What a non-regular file is ("a directory", "a FIFO", ...), or nil for a regular file.
    public static func kind(_ mode: mode_t) -> String? {
        switch mode & S_IFMT {
        case S_IFREG: return nil
        case S_IFDIR: return "a directory"
        case S_IFIFO: return "a FIFO (named pipe)"
        case S_IFCHR: return "a character device"
        case S_IFBLK: return "a block device"
        case S_IFSOCK: return "a socket"
        default: return "not a regular file"
        }
    }
}

/// A file's bytes after gzip decoding (by magic, whatever its name), read with bounds that the
/// caller derives from the format: `limit` = return only this many leading bytes (a header or a
/// prefix of items; no CRC check is possible then), `maxOutput` = refuse the file once it
/// decodes to more than this many bytes (checked before reading a plain file, and while
/// inflating a gzip one, which then stops).
public func readMaybeGzip(_ path: String, limit: Int? = nil, maxOutput: Int = DataLimits.maxInflated,
                          what: String = "the file") throws -> [UInt8] {
    let f = try InputFile(path)
    let magic = try f.read(at: 0, count: 2)
    if Gzip.isGzip(magic) {
        // A deflate stream that decodes to N bytes needs far fewer than 2N + 1 MiB bytes in any
        // encoder's output; a larger file is refused before it is read (docs/loaders.md).
        let cap = DataLimits.product([min(limit ?? maxOutput, maxOutput), 2], cap: Int.max / 2).map { $0 + (1 << 20) } ?? Int.max
        let z = try f.read(at: 0, count: limit != nil ? min(f.size, cap) : f.size)
        if limit == nil, f.size > cap {
            throw DataError("\(path): gzip file of \(f.size) bytes is larger than \(what) can be compressed (\(maxOutput) bytes at most)")
        }
        return try Gzip.decompress(z, source: path, limit: limit, maxOutput: maxOutput, what: what)
    }
    if let limit { return try f.read(at: 0, count: min(limit, maxOutput)) }
    return try f.readAll(max: maxOutput, what: what)
}
