// Writing a generated folder (emitted C, a Loihi export) as a whole: a temporary sibling directory,
// then a rename, so a reader never sees half a folder and nothing the user made is overwritten.
import Foundation

enum OutputDirectory {
    /// Writes `files` (name → bytes) into `dir` atomically. An existing `dir` is replaced only if sne
    /// wrote it (it holds `.sne-output`) or it is empty; `executables` get mode 0755.
    static func write(_ files: [String: [UInt8]], to dir: String, executables: [String] = []) throws {
        let fm = FileManager.default
        let url = URL(fileURLWithPath: dir).standardizedFileURL
        var isDir: ObjCBool = false
        if fm.fileExists(atPath: url.path, isDirectory: &isDir) {
            let entries = (try? fm.contentsOfDirectory(atPath: url.path)) ?? []
            if !isDir.boolValue || (!entries.isEmpty && !fm.fileExists(atPath: url.path + "/.sne-output")) {
                throw CodegenError.failure("\(dir) exists and was not written by sne compile; refusing to overwrite it")
            }
        }
        let parent = url.deletingLastPathComponent()
        let tmp = parent.appendingPathComponent(".\(url.lastPathComponent).tmp-\(getpid())")
        try? fm.removeItem(at: tmp)
        do {
            try fm.createDirectory(at: tmp, withIntermediateDirectories: true)
            for (name, bytes) in files { try Data(bytes).write(to: tmp.appendingPathComponent(name)) }
            for name in executables { try fm.setAttributes([.posixPermissions: 0o755], ofItemAtPath: tmp.appendingPathComponent(name).path) }
            if fm.fileExists(atPath: url.path) {
                let old = parent.appendingPathComponent(".\(url.lastPathComponent).old-\(getpid())")
                try fm.moveItem(at: url, to: old)
                try fm.moveItem(at: tmp, to: url)
                try? fm.removeItem(at: old)
            } else {
                try fm.moveItem(at: tmp, to: url)
            }
        } catch {
            try? fm.removeItem(at: tmp)
            throw CodegenError.failure("cannot write \(dir): \(error.localizedDescription)")
        }
    }
}
