// An installed `sne` as a user has it: the built binary copied to PREFIX/bin (as ./install.sh
// does), run from a directory outside the checkout with no SNE_ROOT, emits, builds and verifies
// C (the runtime travels inside the binary), finds data in the documented order, and a demo
// that cannot find its data leaves nothing behind.
import Foundation
import Testing
@testable import SNECLI
import SNEEnsemble
import SNECodegen

@Suite(.serialized) struct InstallTests {
    /// A fresh PREFIX/bin/sne copied from the build, a working directory and a HOME outside the checkout.
    struct Install {
        let prefix: String, cwd: String, home: String
        var sne: String { prefix + "/bin/sne" }
        init(_ name: String) throws {
            let base = FileManager.default.temporaryDirectory.appendingPathComponent("sne-install-\(name)-\(getpid())").path
            try? FileManager.default.removeItem(atPath: base)
            prefix = base + "/prefix"; cwd = base + "/work"; home = base + "/home"
            for d in [prefix + "/bin", cwd, home] { try FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true) }
            guard let built = TrainProcessTests.binary else { throw InstallError("the built sne binary is not beside the test bundle") }
            try FileManager.default.copyItem(atPath: built, toPath: sne)
        }
        /// Runs the installed binary in `cwd` with SNE_ROOT and SNE_DATA unset and HOME = `home`.
        func run(_ args: [String], env extra: [String: String] = [:]) throws -> (Int32, String, String) {
            var env = ProcessInfo.processInfo.environment
            env["SNE_ROOT"] = nil; env["SNE_DATA"] = nil; env["XDG_CACHE_HOME"] = nil; env["HOME"] = home
            for (k, v) in extra { env[k] = v }
            // A child forked by a concurrent test while the copy was open for writing can hold that
            // descriptor until it execs: exec then fails with ETXTBSY for a moment; retry.
            for attempt in 0... {
                let p = Process()
                p.executableURL = URL(fileURLWithPath: sne)
                p.arguments = args
                p.currentDirectoryURL = URL(fileURLWithPath: cwd)
                p.environment = env
                let out = Pipe(), err = Pipe()
                p.standardOutput = out; p.standardError = err
                do { try p.run() } catch let e as NSError where attempt < 50 && (e.userInfo[NSUnderlyingErrorKey] as? NSError)?.code == Int(ETXTBSY) {
                    Thread.sleep(forTimeInterval: 0.1); continue
                }
                let o = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
                let e = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
                p.waitUntilExit()
                return (p.terminationStatus, o, e)
            }
            fatalError("unreachable")
        }
    }
    struct InstallError: Error, CustomStringConvertible { let description: String; init(_ d: String) { description = d } }

    @Test func installedBinaryEmitsBuildsAndVerifiesFromAnyDirectory() throws {
        let i = try Install("emit")
        let program = repoRoot.appendingPathComponent("examples/programs/fmnist4.snep").path
        let c = try i.run(["compile", program, "--target", "host", "-o", "out"])
        #expect(c.0 == 0, "\(c.2)")
        for f in ["sne.h", "sne_run.c", "sne_ops.c", "sne_port_target.h", "Makefile", "fmnist4.c"] {
            #expect(FileManager.default.fileExists(atPath: i.cwd + "/out/" + f), "out/\(f) missing")
        }
        // The runtime came from the binary: extracted under HOME's cache, never from the checkout.
        let cache = i.home + "/.cache/sne"
        #expect(((try? FileManager.default.contentsOfDirectory(atPath: cache)) ?? []).count == 1)
        guard Shell.has("cc") else { print("skipping the host verify: no cc"); return }
        let v = try i.run(["verify", program, "--target", "host", "--random", "1", "--budget", "1"])
        #expect(v.0 == 0 && v.1.contains("PASS"), "\(v.1) \(v.2)")
    }

    @Test func dataSearchOrderIsTheDocumentedOne() throws {
        let i = try Install("data")
        // PREFIX/share/sne/data is searched (what ./install.sh fills), after $SNE_DATA and ../shared/data.
        let r = try i.run(["train", "teacher", "--dataset", "mnist", "--out", "r"], env: ["SNE_DATA": "/nonexistent-sne-data"])
        #expect(r.0 == 2, "\(r.2)")
        let tried = ["/nonexistent-sne-data", "../shared/data", i.prefix + "/share/sne/data", "examples/data"]
        let at = tried.map { r.2.range(of: $0)?.lowerBound }
        #expect(at.allSatisfy { $0 != nil } && zip(at, at.dropFirst()).allSatisfy { $0! < $1! }, "\(r.2)")
        #expect(!FileManager.default.fileExists(atPath: i.cwd + "/r"), "a refused train left r/ behind")
        // The same order in code and --help.
        #expect(Datasets.searchOrder.contains("$SNE_DATA, ../shared/data, PREFIX/share/sne/data"))
        for cmd in ["train", "eval", "demo", "example"] { #expect(sne([cmd, "--help"]).1.contains(Datasets.searchOrder), "\(cmd) --help") }
    }

    @Test func demoWithoutDataLeavesNothingAndFindsTheInstalledSlice() throws {
        let i = try Install("demo")
        let r = try i.run(["demo"])
        #expect(r.0 == 2 && r.2.contains("fashion-mnist-slice not found"), "\(r.2)")
        #expect(!FileManager.default.fileExists(atPath: i.cwd + "/runs"), "a failed demo left runs/ behind")
        // With the slice installed where ./install.sh puts it, the data is found (the run is
        // stopped at the first stage by an impossible thread count check instead of training).
        let share = i.prefix + "/share/sne/data/fashion-mnist-slice"
        try FileManager.default.createDirectory(atPath: share, withIntermediateDirectories: true)
        for f in ["train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"] {
            try FileManager.default.copyItem(atPath: repoRoot.appendingPathComponent("examples/data/fashion-mnist-slice/" + f).path, toPath: share + "/" + f)
        }
        let found = try i.run(["train", "teacher", "--dataset", "fashion-mnist-slice", "--out", "r", "--limit", "64", "--test-limit", "64",
                               "--teacher-width", "4", "--teacher-epochs", "0", "--threads", "1"])
        #expect(found.0 == 0 && found.2.contains("from \(share)"), "\(found.2)")
    }

    @Test func runDirectoryOfAnotherDatasetIsRefused() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("sne-otherds-\(getpid())").path
        try? FileManager.default.removeItem(atPath: dir)
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        var c = TrainConfig(); c.dataset = "fashion-mnist"
        try c.write(dir + "/config.json")
        for argv in [["train", "teacher", "--dataset", "mnist", "--out", dir], ["demo", "--dataset", "mnist", "--out", dir]] {
            let r = sne(argv)
            #expect(r.0 == 2 && r.2.contains("holds a run on fashion-mnist, not mnist"), "\(argv): \(r.2)")
        }
    }
}

@Suite struct RunConfigPathTests {
    /// Relative paths given as flags are stored absolute in the run's config, so a later stage
    /// run from another directory still finds them; flags win over the config file.
    @Test func relativeFlagPathsAreStoredAbsolute() throws {
        let c = try TrainCommand(Arguments(command: "train", ["teacher", "--teacher-features", "t/f.npy", "--teacher-logits", "t/z.npy",
                                                             "--data", "d", "--out", NSTemporaryDirectory() + "sne-abs-\(getpid())"]))
        let cwd = FileManager.default.currentDirectoryPath
        #expect(c.config.teacherFeatures == cwd + "/t/f.npy" && c.config.teacherLogits == cwd + "/t/z.npy" && c.config.data == cwd + "/d")
    }

    /// Range errors name the flag (and the config field it sets), not only the config field.
    @Test func rangeErrorsNameTheFlag() {
        let cases: [([String], String)] = [
            (["--student-lr", "-1"], "--student-lr -1.0 (studentStage.lr in a config file): must be > 0"),
            (["--beta", "2"], "--beta 2.0 (student.beta in a config file): must be in [0, 1]"),
            (["--reset", "soft"], "--reset 'soft' (student.reset in a config file): must be subtract or zero"),
            (["--tau", "0"], "--mse, --kl, --ce, --rate, --finetune-rate, --layerwise must be ≥ 0 and --tau > 0"),
            (["--rate", "-1"], "--mse, --kl, --ce, --rate, --finetune-rate, --layerwise must be ≥ 0"),
            (["--finetune-rate", "-0.5"], "--mse, --kl, --ce, --rate, --finetune-rate, --layerwise must be ≥ 0"),
            (["--rate-weights", "energy"], "--rate-weights 'energy' (loss.rateWeights in a config file): must be uniform or synops"),
        ]
        for (flags, message) in cases {
            let r = sne(["train", "sne", "--out", NSTemporaryDirectory() + "sne-range-\(getpid())"] + flags)
            #expect(r.0 == 2 && r.2.contains(message), "\(flags): \(r.2)")
        }
    }
}
