// The frontier's training levers end to end in real processes on sklearn digits: augmentation with
// the teacher's targets on cached views, the per-step loss and the learned decay (PLIF) train a
// model that compiles — each LIF's learned β becomes its op's leak — and verifies bit-exact in C;
// LaSNN layer-wise distillation and the group-dropout teacher write their caches and train
// deterministically; combinations that cannot work are refused with one line and exit 2.
import Testing
import Foundation
import SNEEnsemble
import SNETrain
import SpikeIR
import SNEData

@Suite(.serialized) struct TrainingLeverTests {
    static let common = ["--dataset", "digits", "--teacher-width", "8", "--teacher-epochs", "2", "--students", "2", "--conv", "4,8",
                         "--hidden", "16", "--features", "8", "--student-epochs", "2", "--head-epochs", "2", "--finetune-epochs", "1",
                         "--threads", "2", "--seed", "5", "--limit", "600", "--cascade"]

    @Test func augmentTetAndLearnedDecayFromTrainingToC() throws {
        guard let data = TrainProcessTests.dataRoot, TrainProcessTests.binary != nil else {
            Issue.record("needs ../shared/data/sklearn-digits and the built sne binary"); return
        }
        let dir = TrainProcessTests.tempDir("levers")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try TrainProcessTests.run(["train", "sne", "--out", dir, "--data", data, "--augment", "crop", "--tet", "--learn-beta"] + Self.common)
        #expect(FileManager.default.fileExists(atPath: dir + "/teacher.train.aug-crop-4x600.features.npy"))
        let c = try TrainConfig.read(dir + "/config.json")
        #expect(c.augment == "crop" && c.loss.tet == true && c.student.learnDecay == true, "the saved config keeps the levers")
        let m = try SNEModel.load(from: dir + "/model.sne")
        #expect(m.spec.student.learnDecay == true)
        let betas = m.students.flatMap { s in s.layers.compactMap { ($0.layer as? SNETrain.LIF)?.beta } }
        #expect(betas.count == 6 && betas.contains { abs($0 - 0.5) > 1e-4 }, "learned decays \(betas)")
        try TrainProcessTests.run(["compile", dir + "/model.sne", "-o", dir + "/p.snep", "--data", data, "--allow-inactive"])
        let p = try ProgramFile.read(path: dir + "/p.snep")
        var leaks: [String] = []
        for s in p.students { for op in s.ops { if case .lif(let l) = op { leaks.append("\(l.leak)") } } }
        #expect(leaks.count == 6 && Set(leaks).count > 1, "per-layer leaks \(leaks)")
        try TrainProcessTests.run(["verify", dir + "/p.snep", "--target", "host", "--budget", "all"])
    }

    @Test func layerwiseAndGroupDropoutTeacherTrainDeterministically() throws {
        guard let data = TrainProcessTests.dataRoot, TrainProcessTests.binary != nil else {
            Issue.record("needs ../shared/data/sklearn-digits and the built sne binary"); return
        }
        let a = TrainProcessTests.tempDir("lw-a"), b = TrainProcessTests.tempDir("lw-b")
        defer { for d in [a, b] { try? FileManager.default.removeItem(atPath: d) } }
        for d in [a, b] {
            try TrainProcessTests.run(["train", "sne", "--out", d, "--data", data, "--layerwise", "1", "--teacher-group-dropout", "1"] + Self.common)
        }
        #expect(FileManager.default.fileExists(atPath: a + "/teacher.train.attention600.npy"))
        #expect(FileManager.default.fileExists(atPath: a + "/teacher-gd.ckpt"))
        // the students learned from the fine-tuned teacher's features, not the original's
        let gd = try Checkpoint.read(from: a + "/teacher-gd.ckpt"), t = try Checkpoint.read(from: a + "/teacher.ckpt")
        #expect(gd.byName["conv1.weight"]!.data != t.byName["conv1.weight"]!.data)
        for k in 0..<2 {
            #expect(try TrainProcessTests.tensors(a + "/student-\(k).ckpt") == TrainProcessTests.tensors(b + "/student-\(k).ckpt"), "student \(k)")
        }
    }

    @Test func combinationsThatCannotWorkAreRefused() throws {
        guard let data = TrainProcessTests.dataRoot, let sne = TrainProcessTests.binary else {
            Issue.record("needs ../shared/data/sklearn-digits and the built sne binary"); return
        }
        let dir = TrainProcessTests.tempDir("lever-refusals")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let z = dir + "-z.npy"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        for (extra, says) in [(["--learn-beta", "--stem", "1"], "--learn-beta with --stem"),
                              (["--augment", "crop", "--layerwise", "1"], "--layerwise and --augment"),
                              (["--augment", "crop", "--teacher-group-dropout", "1"], "--augment and --teacher-group-dropout"),
                              (["--augment", "crop,flip"], "change meaning when mirrored"),
                              (["--augment", "rotate"], "crop, flip or crop,flip"),
                              (["--layerwise", "-1"], "must be ≥ 0")] {
            let (code, msg) = try CascadeTests.sne(sne, ["train", "sne", "--out", dir + "/r\(says.count)", "--data", data] + Self.common + extra)
            // one line, the last (a progress line about the data may come first)
            #expect(code == 2 && msg.split(separator: "\n").last?.contains(says) == true && msg.split(separator: "\n").count <= 2, "\(extra): \(code) \(msg)")
        }
        // an external teacher has no augmented views: refused when the student stage starts
        try NPY.write(.float32([Float](repeating: 0.5, count: 600 * 10), shape: [600, 10]), to: z)
        let (code, msg) = try CascadeTests.sne(sne, ["train", "student", "--index", "0", "--out", dir + "/ext", "--data", data, "--augment", "crop",
                                                     "--teacher-features", z, "--teacher-logits", z] + Self.common)
        #expect(code == 2 && msg.contains("--augment needs the built-in teacher"), "\(code) \(msg)")
    }
}
