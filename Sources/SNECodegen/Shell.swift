// Running tools (compilers, make, emulators) and locating the repository's C files.
import Foundation

/// The result of one external command.
public struct ShellResult: Sendable {
    public var status: Int32
    public var stdout: String
    public var stderr: String
}

public enum Shell {
    /// Runs `argv` (argv[0] looked up in PATH) in `cwd`, capturing both streams.
    public static func run(_ argv: [String], cwd: String? = nil, env: [String: String] = [:]) throws -> ShellResult {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = argv
        if let cwd { p.currentDirectoryURL = URL(fileURLWithPath: cwd) }
        if !env.isEmpty {
            var e = ProcessInfo.processInfo.environment
            for (k, v) in env { e[k] = v }
            p.environment = e
        }
        let errPath = NSTemporaryDirectory() + "sne-err-\(UUID().uuidString)"
        _ = FileManager.default.createFile(atPath: errPath, contents: nil)
        defer { try? FileManager.default.removeItem(atPath: errPath) }
        guard let errHandle = FileHandle(forWritingAtPath: errPath) else {
            throw CodegenError.failure("cannot create a temporary file in \(NSTemporaryDirectory())")
        }
        let out = Pipe()
        p.standardOutput = out; p.standardError = errHandle
        p.standardInput = FileHandle.nullDevice
        try p.run()
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        try? errHandle.close()
        let errData = FileManager.default.contents(atPath: errPath) ?? Data()
        return ShellResult(status: p.terminationStatus,
                           stdout: String(decoding: outData, as: UTF8.self),
                           stderr: String(decoding: errData, as: UTF8.self))
    }

    /// True when `tool` is on PATH.
    public static func has(_ tool: String) -> Bool {
        (try? run(["sh", "-c", "command -v \(tool)"]))?.status == 0
    }
}

/// Where the C runtime and target ports live: `$SNE_ROOT`, else the repository this file was built from.
public enum SNEPaths {
    public static var root: String {
        if let r = ProcessInfo.processInfo.environment["SNE_ROOT"], !r.isEmpty { return r }
        // Sources/SNECodegen/Shell.swift -> repository root
        return URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().path
    }
    public static var runtime: String { root + "/runtime-c" }
    public static var targets: String { root + "/targets" }
    /// The runtime's files, relative to `runtime`.
    public static let runtimeFiles = ["include/sne.h", "include/sne_port.h", "src/sne_fixed.h", "src/sne_internal.h",
                                      "src/sne_ops.c", "src/sne_run.c", "src/sne_blob.c"]
    public static let runtimeSources = ["src/sne_ops.c", "src/sne_run.c", "src/sne_blob.c"]
}
