// The two embedded examples (examples/c-dropin, examples/cortex-m4) built with their own build files
// and run on every shipped Fashion-MNIST test image at every budget: their printed lines must equal
// the reference interpreter's (the lines `sne run` prints). Skips when a tool is absent.
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Testing
@testable import SNECodegen
import SpikeIR

/// Runs argv (looked up in PATH) with stdin from /dev/null, stdout and stderr together in the returned
/// text, and an EMPTY signal mask. Shell.run (Foundation.Process) spawns from the test's thread, whose
/// blocked signals (SIGCHLD among them) the child inherits; cmake then waits forever for its own
/// children. This spawns with POSIX_SPAWN_SETSIGMASK instead, under `timeout -k 10 600`.
private func runUnblocked(_ argv: [String]) throws -> (status: Int32, output: String) {
    let log = NSTemporaryDirectory() + "sne-examples-\(UUID().uuidString).log"
    defer { try? FileManager.default.removeItem(atPath: log) }
    var fa = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&fa)
    defer { posix_spawn_file_actions_destroy(&fa) }
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0)
    posix_spawn_file_actions_addopen(&fa, 1, log, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    posix_spawn_file_actions_adddup2(&fa, 1, 2)
    var attr = posix_spawnattr_t()
    posix_spawnattr_init(&attr)
    defer { posix_spawnattr_destroy(&attr) }
    var none = sigset_t()
    sigemptyset(&none)
    posix_spawnattr_setsigmask(&attr, &none)
    var dflt = sigset_t()
    sigemptyset(&dflt)
    sigaddset(&dflt, SIGCHLD)
    sigaddset(&dflt, SIGPIPE)
    posix_spawnattr_setsigdefault(&attr, &dflt)
    posix_spawnattr_setflags(&attr, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
    let args = ["/usr/bin/env", "timeout", "-k", "10", "600"] + argv
    let env = ProcessInfo.processInfo.environment.map { "\($0.key)=\($0.value)" }
    var cargs: [UnsafeMutablePointer<CChar>?] = args.map { strdup($0) } + [nil]
    var cenv: [UnsafeMutablePointer<CChar>?] = env.map { strdup($0) } + [nil]
    defer { (cargs + cenv).forEach { free($0) } }
    var pid = pid_t()
    let rc = posix_spawn(&pid, "/usr/bin/env", &fa, &attr, &cargs, &cenv)
    guard rc == 0 else { throw CodegenError.failure("posix_spawn \(argv[0]): error \(rc)") }
    var st: Int32 = 0
    while waitpid(pid, &st, 0) < 0 { guard errno == EINTR else { throw CodegenError.failure("waitpid: errno \(errno)") } }
    let status = (st & 0x7f) == 0 ? (st >> 8) & 0xff : 128 + (st & 0x7f)
    let out = String(decoding: FileManager.default.contents(atPath: log) ?? Data(), as: UTF8.self)
    return (status, out)
}

@Suite("examples", .serialized)
struct ExamplesTests {
    static let programs = checkoutRoot + "/examples/programs"

    /// The shipped program and its test images (path, bytes).
    static func shipped() throws -> (Program, [(String, [UInt8])]) {
        let p = try ProgramFile.read(path: programs + "/fmnist4.snep")
        let imgs = try (0..<5).map { i -> (String, [UInt8]) in
            let path = programs + "/fmnist-test-\(i).u8"
            let d = try #require(FileManager.default.contents(atPath: path), "missing \(path)")
            return (path, [UInt8](d))
        }
        return (p, imgs)
    }

    /// The interpreter's result as the example programs print it (the first lines of `sne run`,
    /// without the `program` line).
    static func expected(_ p: Program, _ x: [UInt8], budget k: Int) throws -> String {
        let r = try Interpreter(p)(x, budget: k)
        let t = r.total
        var s = "logits      \(r.logits.map(String.init).joined(separator: " "))\n"
        s += "prediction  \(r.prediction)\n"
        s += "active      \(r.active.map(String.init).joined(separator: " "))\n"
        if !r.gateScores.isEmpty { s += "gate scores \(r.gateScores.map(String.init).joined(separator: " "))\n" }
        s += "ops         synops=\(t.synops) macs=\(t.macs) neuron_updates=\(t.neuronUpdates)\n"
        return s
    }

    static func tempDir(_ tag: String) throws -> String {
        let d = NSTemporaryDirectory() + "sne-examples-\(tag)-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
        return d
    }

    @Test("c-dropin: classify built by the plain Makefile and by CMake equals the interpreter")
    func cDropin() throws {
        for tool in ["cc", "make"] where !Shell.has(tool) { print("skipped c-dropin: \(tool) not installed"); return }
        let (p, imgs) = try Self.shipped()
        let tmp = try Self.tempDir("c-dropin")
        defer { try? FileManager.default.removeItem(atPath: tmp) }
        let ex = checkoutRoot + "/examples/c-dropin"
        try CEmitter(p).write(to: tmp + "/model")
        let mk = try Shell.run(["make", "-C", ex, "MODEL=\(tmp)/model", "BUILD=\(tmp)/make"])
        try #require(mk.status == 0, "make: \(mk.stderr)")
        var exes = [tmp + "/make/classify"]
        if Shell.has("cmake") {
            let cfg = try runUnblocked(["cmake", "-S", ex, "-B", tmp + "/cmake", "-DSNE_MODEL_DIR=\(tmp)/model"])
            try #require(cfg.status == 0, "cmake: \(cfg.output)")
            let b = try runUnblocked(["cmake", "--build", tmp + "/cmake"])
            try #require(b.status == 0, "cmake --build: \(b.output)")
            exes.append(tmp + "/cmake/classify")
        } else {
            print("c-dropin: cmake not installed, CMake build not checked")
        }
        let K = p.students.count
        var runs = 0
        for (path, x) in imgs {
            for k in 1...K {
                let want = "program \(p.name)  input \(path)  budget k=\(k) of K=\(K)\n" + (try Self.expected(p, x, budget: k))
                for exe in exes {
                    let r = try Shell.run([exe, path, String(k)])
                    #expect(r.status == 0 && r.stdout == want, "\(exe) \(path) k=\(k): \(r.stdout)\(r.stderr)")
                    runs += 1
                }
            }
        }
        // Bad input: one line on stderr, the documented exit codes.
        let bad = try Shell.run([exes[0], imgs[0].0, String(K + 1)])
        #expect(bad.status == 2 && bad.stderr == "classify: BUDGET must be an integer in 1..\(K), got '\(K + 1)'\n", "\(bad.stderr)")
        let short = try Shell.run([exes[0], ex + "/main.c"])
        #expect(short.status == 1 && short.stderr.hasPrefix("classify: ") && short.stderr.split(separator: "\n").count == 1,
                "\(short.stderr)")
        print("c-dropin: \(runs) runs (\(exes.count) builds x \(imgs.count) images x k=1..\(K)) equal the interpreter")
    }

    @Test("cortex-m4: the firmware in qemu mps2-an386 equals the interpreter (all budgets, and k from the command line)")
    func cortexM4() throws {
        guard let t = try installedTarget("cortex-m4") else { return }
        guard Shell.has("qemu-system-arm") else { print("skipped cortex-m4 example: qemu-system-arm not installed"); return }
        let (p, imgs) = try Self.shipped()
        let tmp = try Self.tempDir("m4")
        defer { try? FileManager.default.removeItem(atPath: tmp) }
        let ex = checkoutRoot + "/examples/cortex-m4", model = tmp + "/model", elf = tmp + "/firmware.elf"
        try CEmitter(p).write(to: model)
        let gen = try Shell.run([ex + "/gen-images.sh", tmp + "/images.h"] + imgs.map { $0.0 })
        try #require(gen.status == 0, "gen-images.sh: \(gen.stderr)")
        let srcs = [ex + "/main.c"] + CEmitter(p).sources.map { model + "/" + $0 }
        let b = try Shell.run(["make", "--no-print-directory", "-C", SNEPaths.targets, "build", "TARGET=\(t.name)",
                               "SRCS=\(srcs.joined(separator: " "))",
                               "INCS=-I\(model) -I\(tmp) -DSNE_USE_TARGET_PORT -DSNE_MODEL=\(p.name)", "OUT=\(elf)"])
        try #require(b.status == 0, "firmware build: \(b.stderr)")

        let K = p.students.count
        func want(_ budgets: [Int]) throws -> String {
            var s = ""
            for (path, x) in imgs {
                for k in budgets { s += "image \((path as NSString).lastPathComponent) k=\(k)\n" + (try Self.expected(p, x, budget: k)) }
            }
            return s
        }
        let all = try Shell.run([SNEPaths.targets + "/cortex-m4/run.sh", elf, "300"], env: ["SNE_COUNT": "0"])
        let wantAll = try want(Array(1...K))
        #expect(all.status == 0 && all.stdout == wantAll, "no command line: \(all.stdout)\(all.stderr)")

        func qemu(_ append: String) throws -> ShellResult {
            try Shell.run(["timeout", "300", "qemu-system-arm", "-M", "mps2-an386", "-nodefaults", "-nic", "none",
                           "-display", "none", "-monitor", "none", "-serial", "none", "-chardev", "stdio,id=sh0,signal=off",
                           "-semihosting-config", "enable=on,target=native,chardev=sh0", "-kernel", elf, "-append", append])
        }
        let k2 = try qemu("2")
        let want2 = try want([2])
        #expect(k2.status == 0 && k2.stdout == want2, "-append 2: \(k2.stdout)\(k2.stderr)")
        let bad = try qemu(String(K + 1))
        #expect(bad.status == 2 && bad.stdout == "firmware: budget must be one integer in 1..\(K), got: \(K + 1)\n",
                "-append \(K + 1): \(bad.stdout)")
        print("cortex-m4 example: \(imgs.count * (K + 1)) inferences in qemu equal the interpreter")
    }
}
