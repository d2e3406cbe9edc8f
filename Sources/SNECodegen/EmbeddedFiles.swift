// The C runtime and target ports compiled into the binary (Plugins/EmbedRuntime), and their
// extraction to a per-build cache folder, so an installed `sne` needs no checkout.
import Foundation

/// One embedded file: its path relative to the package root, its executable bit, its bytes.
struct EmbeddedFile: Sendable {
    let path: String
    let executable: Bool
    let base64: String
}

/// `files` and `digest` come from the generated extension (EmbeddedRuntimeData.swift, written by the plugin).
enum EmbeddedFiles {
    /// The folder holding the extracted `runtime-c/` and `targets/`, extracted on first use:
    /// `$XDG_CACHE_HOME/sne/<digest>` (else `~/.cache/sne/<digest>`, else the temporary
    /// directory). Written to a temporary sibling and renamed, so a concurrent `sne` sees the
    /// whole folder or none of it; an existing folder of the same digest is reused.
    static func extracted() throws -> String {
        let env = ProcessInfo.processInfo.environment
        var bases: [String] = []
        if let x = env["XDG_CACHE_HOME"], x.hasPrefix("/") { bases.append(x + "/sne") }
        if let h = env["HOME"], h.hasPrefix("/") { bases.append(h + "/.cache/sne") }
        bases.append(NSTemporaryDirectory() + "sne-\(getuid())")
        var reasons: [String] = []
        for base in bases {
            let dir = base + "/" + digest
            if FileManager.default.fileExists(atPath: dir + "/.complete") { return dir }
            do {
                try write(into: dir)
                return dir
            } catch {
                reasons.append("\(base): \(error)")
            }
        }
        throw CodegenError.failure("cannot extract the embedded C runtime (\(reasons.joined(separator: "; "))); set SNE_ROOT to a checkout of sne")
    }

    private static func write(into dir: String) throws {
        let fm = FileManager.default
        let parent = (dir as NSString).deletingLastPathComponent
        try fm.createDirectory(atPath: parent, withIntermediateDirectories: true)
        let tmp = parent + "/.tmp-\(digest)-\(getpid())-\(UUID().uuidString)"
        defer { try? fm.removeItem(atPath: tmp) }
        for f in files {
            let path = tmp + "/" + f.path
            try fm.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            guard let data = Data(base64Encoded: f.base64) else { throw CodegenError.failure("embedded \(f.path) is corrupt") }
            guard fm.createFile(atPath: path, contents: data, attributes: [.posixPermissions: f.executable ? 0o755 : 0o644]) else {
                throw CodegenError.failure("\(path): cannot write")
            }
        }
        guard fm.createFile(atPath: tmp + "/.complete", contents: Data()) else { throw CodegenError.failure("\(tmp): cannot write") }
        if rename(tmp, dir) != 0 {
            // Another process got there first with the same digest: use its copy.
            if fm.fileExists(atPath: dir + "/.complete") { return }
            throw CodegenError.failure("\(dir): cannot create (\(String(cString: strerror(errno))))")
        }
    }
}
