// The host differential harness's vector file (runtime-c/tests/sne_diff.c) and its result lines.
import Foundation
import SpikeIR

public enum DiffVectors {
    static func u32(_ v: Int, _ b: inout [UInt8]) { for s in stride(from: 0, to: 32, by: 8) { b.append(UInt8((v >> s) & 0xFF)) } }
    static func pad(_ b: inout [UInt8]) { while b.count % 4 != 0 { b.append(0) } }

    /// "SNED" file: per program its blob bytes and inputs.
    public static func encode(_ items: [(blob: [UInt8], inputs: [[UInt8]], inputSize: Int)]) -> [UInt8] {
        var b: [UInt8] = Array("SNED".utf8)
        u32(items.count, &b)
        for it in items {
            u32(it.blob.count, &b); b += it.blob; pad(&b)
            u32(it.inputs.count, &b); u32(it.inputSize, &b)
            for x in it.inputs { b += x }
            pad(&b)
        }
        return b
    }

    /// Builds runtime-c/tests/sne_diff.c + the runtime with the host compiler and `flags`.
    /// `traceHash`: build with `SNE_TRACE_HASH=1` (the hash is compared) or 0, the deployment build,
    /// whose faster paths (the stem, lif + maxpool in one pass: docs/c-runtime.md) run only there.
    public static func buildDriver(into dir: String, compiler: String = "cc", flags: [String] = ["-O2"], traceHash: Bool = true) throws -> String {
        let rt = SNEPaths.runtime
        let exe = dir + "/sne_diff"
        let argv = [compiler, "-std=c99", "-Wall", "-Wextra", "-Wpedantic", "-Wconversion", "-Wshadow", "-Wswitch-enum", "-Werror", "-DSNE_TRACE_HASH=\(traceHash ? 1 : 0)"] + flags
            + ["-I\(rt)/include", "\(rt)/tests/sne_diff.c"] + SNEPaths.runtimeSources.map { rt + "/" + $0 } + ["-o", exe]
        let r = try Shell.run(argv)
        if r.status != 0 {
            throw CodegenError.failure("building sne_diff failed: \(r.stderr.split(separator: "\n").first ?? "")")
        }
        return exe
    }
}
