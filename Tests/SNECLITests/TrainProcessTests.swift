// `sne train` as a user runs it, in real processes on real data (sklearn digits, 8x8): students
// trained as separate processes equal the single-process run, and a run killed mid-epoch and
// resumed ends with the same weights as an uninterrupted one.
import Testing
import Foundation
@testable import SNECLI
import SNETrain
import SNEEnsemble

@Suite(.serialized) struct TrainProcessTests {
    /// The `sne` executable next to the test bundle (built by `swift build` / `swift test`).
    static var binary: String? {
        let dir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for cand in [dir.appendingPathComponent("sne"), dir.deletingLastPathComponent().appendingPathComponent("sne")] where FileManager.default.isExecutableFile(atPath: cand.path) {
            return cand.path
        }
        return nil
    }

    /// `../shared/data` (beside the checkout), where the digits live.
    static var dataRoot: String? {
        var dir = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { dir = dir.deletingLastPathComponent() }
        let root = dir.deletingLastPathComponent().appendingPathComponent("shared/data").path
        return FileManager.default.fileExists(atPath: root + "/sklearn-digits/digits.csv.gz") ? root : nil
    }

    static let common = ["--dataset", "digits", "--teacher-width", "8", "--teacher-epochs", "2", "--students", "2", "--conv", "4",
                         "--hidden", "16", "--features", "16", "--head-epochs", "3", "--gate-epochs", "2", "--threads", "2", "--seed", "3"]

    @discardableResult
    static func run(_ args: [String], wait: Bool = true) throws -> Process {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: binary!)
        p.arguments = args
        p.standardOutput = FileHandle.nullDevice
        let errPipe = Pipe()
        p.standardError = errPipe
        try p.run()
        if wait {
            let errText = String(decoding: errPipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            p.waitUntilExit()
            #expect(p.terminationStatus == 0, "sne \(args.joined(separator: " ")) failed: \(errText.suffix(400))")
        }
        return p
    }

    static func tensors(_ path: String) throws -> [String: [UInt32]] {
        Dictionary(uniqueKeysWithValues: try Checkpoint.read(from: path).tensors.map { ($0.0, $0.1.data.map(\.bitPattern)) })
    }

    static func tempDir(_ name: String) -> String {
        let d = FileManager.default.temporaryDirectory.appendingPathComponent("sne-\(name)-\(getpid())").path
        try? FileManager.default.removeItem(atPath: d)
        return d
    }

    @Test func separateStudentProcessesEqualOneProcess() throws {
        guard let data = Self.dataRoot, Self.binary != nil else {
            Issue.record("needs ../shared/data/sklearn-digits and the built sne binary"); return
        }
        let one = Self.tempDir("one"), two = Self.tempDir("two")
        defer { try? FileManager.default.removeItem(atPath: one); try? FileManager.default.removeItem(atPath: two) }
        let base = ["--data", data, "--student-epochs", "2"] + Self.common
        try Self.run(["train", "teacher", "--out", one] + base)
        try FileManager.default.copyItem(atPath: one, toPath: two)
        // One process: both students and the join.
        try Self.run(["train", "sne", "--out", one])
        // Two student processes at the same time, then the join.
        let p0 = try Self.run(["train", "student", "--index", "0", "--out", two], wait: false)
        let p1 = try Self.run(["train", "student", "--index", "1", "--out", two], wait: false)
        p0.waitUntilExit(); p1.waitUntilExit()
        #expect(p0.terminationStatus == 0 && p1.terminationStatus == 0)
        try Self.run(["train", "join", "--out", two])
        for k in 0..<2 { #expect(try Self.tensors("\(one)/student-\(k).ckpt") == Self.tensors("\(two)/student-\(k).ckpt"), "student \(k)") }
        #expect(try Self.tensors("\(one)/model.sne") == Self.tensors("\(two)/model.sne"))
        // The model records what it was trained on (DataFingerprint): name, shape, classes, fingerprint.
        let info = try SNEModel.load(from: "\(one)/model.sne").info
        #expect(info["dataset"] == "digits" && info["data.input"] == "1x8x8" && info["data.classes"] == "10"
                && info["data.fingerprint"] == DataFingerprint.known["digits"], "\(info)")
    }

    @Test func killedRunResumesToTheSameWeights() throws {
        guard let data = Self.dataRoot, Self.binary != nil else {
            Issue.record("needs ../shared/data/sklearn-digits and the built sne binary"); return
        }
        let ref = Self.tempDir("ref"), cut = Self.tempDir("cut")
        defer { try? FileManager.default.removeItem(atPath: ref); try? FileManager.default.removeItem(atPath: cut) }
        let base = ["--data", data, "--student-epochs", "6", "--batch", "8"] + Self.common
        try Self.run(["train", "teacher", "--out", ref] + base)
        try FileManager.default.copyItem(atPath: ref, toPath: cut)
        try Self.run(["train", "student", "--index", "0", "--out", ref])

        // Start the same run, kill it (SIGKILL) once its first epoch checkpoint exists, resume.
        let p = try Self.run(["train", "student", "--index", "0", "--out", cut], wait: false)
        let progress = "\(cut)/student-0.progress.ckpt"
        let deadline = Date().addingTimeInterval(120)
        while !FileManager.default.fileExists(atPath: progress) && p.isRunning && Date() < deadline { usleep(20_000) }
        usleep(150_000)   // into the next epoch
        let killedMidRun = p.isRunning
        if killedMidRun { kill(p.processIdentifier, SIGKILL) }
        p.waitUntilExit()
        #expect(killedMidRun, "the run finished before it could be killed; make it longer")
        #expect(!FileManager.default.fileExists(atPath: "\(cut)/student-0.ckpt"))   // nothing final was written
        let epochDone = try Checkpoint.read(from: progress).metadata["epoch"]
        #expect(epochDone != nil && epochDone != "6")
        try Self.run(["train", "student", "--index", "0", "--out", cut, "--resume"])
        #expect(try Self.tensors("\(ref)/student-0.ckpt") == Self.tensors("\(cut)/student-0.ckpt"))
    }

    @Test func badConfigurationsAreOneLineUsageErrors() throws {
        var out = TextSink.capture(), err = TextSink.capture()
        #expect(SNECLI.main(["train", "student"], out: &out, err: &err) == 2)
        #expect(err.captured.contains("--index k is required"))
        err = .capture()
        #expect(SNECLI.main(["train", "student", "--index", "5", "--students", "2"], out: &out, err: &err) == 2)
        err = .capture()
        #expect(SNECLI.main(["train", "sne", "--partition", "clever"], out: &out, err: &err) == 2)
        #expect(err.captured == "sne train: --partition 'clever' (partition in a config file): must be informed, contiguous, random or spread\n")
        err = .capture()
        #expect(SNECLI.main(["train", "sne", "--conv", "8,x"], out: &out, err: &err) == 2)
        let cfg = FileManager.default.temporaryDirectory.appendingPathComponent("sne-bad-config-\(getpid()).json").path
        defer { try? FileManager.default.removeItem(atPath: cfg) }
        try Data("{\"students\": \"four\"}".utf8).write(to: URL(fileURLWithPath: cfg))
        err = .capture()
        #expect(SNECLI.main(["train", "sne", "--config", cfg], out: &out, err: &err) == 2)
        #expect(err.captured == "sne train: \(cfg): field 'students' has the wrong type\n")
        err = .capture()
        #expect(SNECLI.main(["train", "teacher", "--dataset", "digits", "--data", "/nonexistent/sne", "--out", cfg + ".d"], out: &out, err: &err) == 2)
        #expect(err.captured.hasPrefix("sne train: dataset digits not found; tried: /nonexistent/sne/sklearn-digits"))
        try? FileManager.default.removeItem(atPath: cfg + ".d")
    }
}
