// Measures the runtime's code size and a stack bound on a target by compiling runtime-c with the
// target's own compiler and flags (targets/<t>/target.mk via `make vars`).
import Foundation

public struct RuntimeMeasure: Sendable {
    /// text + data of the runtime objects (`size` Berkeley totals).
    public var code: Int
    /// Sum of the `depth` largest frames reported by -fstack-usage (no recursion in the runtime, and no
    /// call chain is deeper than `depth`, so this bounds the stack any call of the API uses).
    public var stack: Int
    public static let depth = 8

    /// The target's compiler command line pieces from `make -C targets vars`.
    public static func vars(_ t: Target) throws -> [String: String] {
        let r = try Shell.run(["make", "--no-print-directory", "-C", SNEPaths.targets, "vars", "TARGET=\(t.name)"])
        guard r.status == 0 else { throw CodegenError.failure("make vars for \(t.name) failed: \(r.stderr.prefix(200))") }
        var v: [String: String] = [:]
        for l in r.stdout.split(separator: "\n") {
            if let eq = l.firstIndex(of: "=") { v[String(l[..<eq])] = String(l[l.index(after: eq)...]) }
        }
        return v
    }

    /// Compiles `sources` (absolute) for `t` in `dir` with -fstack-usage; measures them.
    public static func measure(_ t: Target, sources: [String], includes: [String], dir: String) throws -> RuntimeMeasure {
        try t.requireToolchain()
        let v = try vars(t)
        let cc = v["CC"] ?? t.compiler
        let flags = (v["CFLAGS"] ?? "").split(separator: " ").map(String.init) + (v["PORT_INCS"] ?? "").split(separator: " ").map(String.init)
        var objs: [String] = []
        var frames: [Int] = []
        for src in sources {
            let obj = dir + "/" + (src as NSString).lastPathComponent.replacingOccurrences(of: ".c", with: ".o")
            let r = try Shell.run([cc] + flags + includes.map { "-I" + $0 } + ["-DSNE_USE_TARGET_PORT", "-fstack-usage", "-c", src, "-o", obj])
            if r.status != 0 {
                throw CodegenError.failure("compiling \((src as NSString).lastPathComponent) for \(t.name) failed: \(r.stderr.split(separator: "\n").first { $0.contains("error") } ?? "")")
            }
            objs.append(obj)
            let su = obj.replacingOccurrences(of: ".o", with: ".su")
            if let text = try? String(contentsOfFile: su, encoding: .utf8) {
                for l in text.split(separator: "\n") {
                    let f = l.split(separator: "\t")
                    if f.count >= 2, let n = Int(f[1]) { frames.append(n) }
                }
            }
        }
        let s = try Shell.run([t.sizeTool, "-B"] + objs)
        var code = 0
        for l in s.stdout.split(separator: "\n").dropFirst() {
            let f = l.split(whereSeparator: { $0 == " " || $0 == "\t" })
            if f.count >= 2, let a = Int(f[0]), let b = Int(f[1]) { code += a + b }
        }
        return RuntimeMeasure(code: code, stack: frames.sorted(by: >).prefix(depth).reduce(0, +))
    }

    /// Measures the runtime alone (no model) for `t`.
    public static func runtime(_ t: Target, mode: EmitMode = .specialized) throws -> RuntimeMeasure {
        let dir = NSTemporaryDirectory() + "sne-measure-\(t.name)-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // specialized builds never call the blob loader (the linker's --gc-sections drops it)
        let srcs = SNEPaths.runtimeSources.filter { mode == .blob || !$0.hasSuffix("sne_blob.c") }
        return try measure(t, sources: srcs.map { SNEPaths.runtime + "/" + $0 },
                           includes: [SNEPaths.runtime + "/include", SNEPaths.runtime + "/src"], dir: dir)
    }
}
