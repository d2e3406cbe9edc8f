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
    ///
    /// Spawned with posix_spawn, an empty signal mask and default signal dispositions: the
    /// caller may be a Dispatch or test-runner thread that blocks most signals, and a child
    /// that inherits that mask never sees SIGCHLD or SIGTERM (cmake then waits forever for
    /// its own children, and `timeout` cannot stop qemu). Foundation's Process passes the mask on.
    public static func run(_ argv: [String], cwd: String? = nil, env: [String: String] = [:]) throws -> ShellResult {
        var e = ProcessInfo.processInfo.environment
        for (k, v) in env { e[k] = v }
        let errPath = NSTemporaryDirectory() + "sne-err-\(UUID().uuidString)"
        defer { unlink(errPath) }
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { throw CodegenError.failure("cannot create a pipe for \(argv.first ?? "a command")") }
        var fa = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&fa)
        defer { posix_spawn_file_actions_destroy(&fa) }
        posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&fa, fds[1], 1)
        posix_spawn_file_actions_addopen(&fa, 2, errPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_addclose(&fa, fds[0])
        posix_spawn_file_actions_addclose(&fa, fds[1])
        var attr = posix_spawnattr_t()
        posix_spawnattr_init(&attr)
        defer { posix_spawnattr_destroy(&attr) }
        var none = sigset_t(), all = sigset_t()
        sigemptyset(&none); sigfillset(&all)
        sigdelset(&all, SIGKILL); sigdelset(&all, SIGSTOP)
        posix_spawnattr_setsigmask(&attr, &none)
        posix_spawnattr_setsigdefault(&attr, &all)
        posix_spawnattr_setflags(&attr, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        // In `cwd`: a shell changes directory, then execs env (the mask and dispositions carry over).
        let args = cwd.map { ["/bin/sh", "-c", "cd \"$0\" && exec /usr/bin/env \"$@\"", $0] + argv } ?? ["/usr/bin/env"] + argv
        let cArgs = args.map { strdup($0) } + [nil]
        let cEnv = e.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { cArgs.forEach { free($0) }; cEnv.forEach { free($0) } }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, args[0], &fa, &attr, cArgs, cEnv)
        close(fds[1])
        guard rc == 0 else {
            close(fds[0])
            throw CodegenError.failure("cannot start \(argv.first ?? "a command"): \(String(cString: strerror(rc)))")
        }
        var outData = Data()
        var buf = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = read(fds[0], &buf, buf.count)
            if n > 0 { outData.append(contentsOf: buf[0..<n]); continue }
            if n < 0 && errno == EINTR { continue }
            break
        }
        close(fds[0])
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        // Exit status, or 128 + signal when the child was killed (as a shell reports it).
        let code: Int32 = (status & 0x7F) == 0 ? (status >> 8) & 0xFF : 128 + (status & 0x7F)
        let errData = FileManager.default.contents(atPath: errPath) ?? Data()
        return ShellResult(status: code,
                           stdout: String(decoding: outData, as: UTF8.self),
                           stderr: String(decoding: errData, as: UTF8.self))
    }

    /// True when `tool` is on PATH.
    public static func has(_ tool: String) -> Bool {
        (try? run(["sh", "-c", "command -v \(tool)"]))?.status == 0
    }
}

/// Where the C runtime and target ports live: `$SNE_ROOT` (a checkout of sne, to try edits to
/// `runtime-c/` or `targets/` without rebuilding), else the copy embedded in the binary at build
/// time, extracted once per build to a cache folder (`EmbeddedFiles`). Never the folder the
/// binary was built in: an installed or copied `sne` works from any directory.
public enum SNEPaths {
    public static var root: String {
        if let r = ProcessInfo.processInfo.environment["SNE_ROOT"], !r.isEmpty { return r }
        return embeddedRoot
    }
    /// The extracted embedded files (computed once per process); when extraction fails, a path
    /// that does not exist, so the first read names the missing file, and a stderr line says why.
    static let embeddedRoot: String = {
        do { return try EmbeddedFiles.extracted() } catch {
            FileHandle.standardError.write(Data("sne: \(error)\n".utf8))
            return NSTemporaryDirectory() + "sne-runtime-unavailable"
        }
    }()
    public static var runtime: String { root + "/runtime-c" }
    public static var targets: String { root + "/targets" }
    /// The runtime's files, relative to `runtime`.
    public static let runtimeFiles = ["include/sne.h", "include/sne_port.h", "src/sne_fixed.h", "src/sne_internal.h",
                                      "src/sne_ops.c", "src/sne_run.c", "src/sne_blob.c"]
    public static let runtimeSources = ["src/sne_ops.c", "src/sne_run.c", "src/sne_blob.c"]
}
