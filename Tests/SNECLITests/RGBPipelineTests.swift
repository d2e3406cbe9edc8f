// RGB inputs (32x32x3) through the whole pipeline in real processes: a small CIFAR-10-format set
// made by examples/cifar10/make-rgb.py from Fashion-MNIST, then train teacher, train sne (cascade,
// heterogeneous students, spike-rate cost; and once with the default gate and a shared stem), compile (confidence
// stop), check --json and verify on the host at every budget, bit-exact.
import Testing
import Foundation
import SNEEnsemble
import SpikeIR

@Suite(.serialized) struct RGBPipelineTests {
    static var checkout: URL {
        var dir = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { dir = dir.deletingLastPathComponent() }
        return dir
    }

    static var python3: String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        return path.split(separator: ":").map { "\($0)/python3" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// `../shared/data/fashion-mnist` beside the checkout.
    static var fashion: String? {
        let dir = checkout.deletingLastPathComponent().appendingPathComponent("shared/data/fashion-mnist").path
        return FileManager.default.fileExists(atPath: dir + "/train-images-idx3-ubyte.gz") ? dir : nil
    }

    static var ready: Bool { python3 != nil && fashion != nil && TrainProcessTests.binary != nil }

    /// Writes `root/cifar10/{data_batch_1..5,test_batch}.bin` with `train` + `test` images.
    static func makeRGB(root: String, train: Int, test: Int) throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: python3!)
        p.arguments = [checkout.appendingPathComponent("examples/cifar10/make-rgb.py").path, "--fashion", fashion!,
                       "--out", root + "/cifar10", "--limit", "\(train)", "--test-limit", "\(test)", "--seed", "3"]
        p.standardOutput = FileHandle.nullDevice
        let err = Pipe()
        p.standardError = err
        try p.run()
        let text = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        #expect(p.terminationStatus == 0, "make-rgb.py failed: \(text)")
    }

    /// Runs `sne args` and returns its standard output (and asserts exit code 0).
    static func output(_ args: [String], in dir: String) throws -> String {
        let outPath = dir + "/stdout.txt"
        FileManager.default.createFile(atPath: outPath, contents: nil)
        let out = try FileHandle(forWritingTo: URL(fileURLWithPath: outPath))
        let p = Process()
        p.executableURL = URL(fileURLWithPath: TrainProcessTests.binary!)
        p.arguments = args
        p.standardOutput = out
        let err = Pipe()
        p.standardError = err
        try p.run()
        let errText = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        try out.close()
        #expect(p.terminationStatus == 0, "sne \(args.joined(separator: " ")) failed: \(errText.suffix(400))")
        return try String(contentsOfFile: outPath, encoding: .utf8)
    }

    @Test(.enabled(if: RGBPipelineTests.ready, "needs python3, ../shared/data/fashion-mnist and the built sne binary"))
    func cifar10FormatRGBThroughThePipeline() throws {
        let root = TrainProcessTests.tempDir("rgb")
        defer { try? FileManager.default.removeItem(atPath: root) }
        try Self.makeRGB(root: root, train: 1000, test: 100)
        // The loader reads the generated batches as 3-channel 32x32 images.
        let d = try Datasets.load("cifar10", root: root)
        #expect(d.inputShape == [3, 32, 32] && d.train.count == 1000 && d.test.count == 100)
        let px = d.train.pixels
        let channelsDiffer = (0..<1024).contains { px[$0] != px[1024 + $0] || px[$0] != px[2048 + $0] }
        #expect(channelsDiffer, "the three planes of the first image are equal")

        let data = ["--dataset", "cifar10", "--data", root, "--teacher-width", "4", "--teacher-epochs", "2",
                    "--features", "8", "--rate", "0.01", "--head-epochs", "2", "--finetune-epochs", "1",
                    "--threads", "1", "--seed", "2"]
        let cascade = root + "/cascade"
        try TrainProcessTests.run(["train", "teacher", "--out", cascade] + data)
        try TrainProcessTests.run(["train", "sne", "--out", cascade, "--students", "3", "--student-sizes", "8,8,16/4,8,16",
                                   "--cascade", "--student-epochs", "3"] + data)
        let m = try SNEModel.load(from: cascade + "/model.sne")
        #expect(m.gate == nil && m.info["train.cascade"] == "1" && m.info["data.input"] == "3x32x32", "\(m.info)")
        #expect(m.spec.perStudent?.map(\.conv) == [[8, 8], [4, 8], [4, 8]])
        #expect(m.order.last == 0, "cheapest first, order \(m.order)")

        try TrainProcessTests.run(["compile", cascade + "/model.sne", "-o", cascade + "/p.snep", "--data", root, "--stop-margin", "1", "--calibration", "64"])
        let p = try ProgramFile.read(path: cascade + "/p.snep")
        #expect(p.input == Shape(h: 32, w: 32, c: 3) && p.students.count == 3 && p.gate == nil && p.stopMargin != nil)

        let json = try Self.output(["check", cascade + "/model.sne", cascade + "/p.snep", "--data", root, "--json", "--activity-images", "50"], in: root)
        let report = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        let budgets = try #require(report["budgets"] as? [[String: Any]])
        #expect(budgets.count == 3)
        for b in budgets {
            #expect(b["int_accuracy"] is Double && b["images"] as? Int == 100, "\(b.keys.sorted())")
            // The integer program sees the same pixels as the float model (channel order HWC vs CHW).
            #expect((b["agreement"] as? Double ?? 0) >= 0.5, "budget \(b["budget"] ?? "?"): agreement \(b["agreement"] ?? "none")")
        }
        #expect((report["confidence"] as? [String: Any])?["int_accuracy"] is Double)
        #expect((report["problems"] as? [Any])?.isEmpty == true, "\(report["problems"] ?? "")")

        let verified = try Self.output(["verify", cascade + "/p.snep", "--target", "host", "--budget", "all"], in: root)
        #expect(verified.contains("PASS, 12 vectors (4 inputs x 3 budgets) bit-exact"), "\(verified)")

        // The default path (gate, one student size) on the same teacher, with a shared stem: the
        // input layer computed once (spec §4.1) — on RGB it is most of a student's cost.
        let gate = root + "/gate"
        try FileManager.default.createDirectory(atPath: gate, withIntermediateDirectories: true)
        for f in try FileManager.default.contentsOfDirectory(atPath: cascade) where f.hasPrefix("teacher.") && !f.contains("progress") {
            try FileManager.default.copyItem(atPath: cascade + "/" + f, toPath: gate + "/" + f)
        }
        try TrainProcessTests.run(["train", "sne", "--out", gate, "--students", "2", "--conv", "4,8", "--hidden", "16", "--stem", "1",
                                   "--student-epochs", "2", "--gate-epochs", "2"] + data)
        let g = try SNEModel.load(from: gate + "/model.sne")
        #expect(g.gate != nil && g.info["data.input"] == "3x32x32")
        try TrainProcessTests.run(["compile", gate + "/model.sne", "-o", gate + "/p.snep", "--data", root, "--calibration", "64", "--allow-inactive"])
        let gp = try ProgramFile.read(path: gate + "/p.snep")
        #expect(gp.input == Shape(h: 32, w: 32, c: 3) && gp.gate != nil && gp.stem?.count == 3)
        let gv = try Self.output(["verify", gate + "/p.snep", "--target", "host", "--budget", "all"], in: root)
        #expect(gv.contains("PASS, 8 vectors (4 inputs x 2 budgets) bit-exact"), "\(gv)")
    }
}
