// `sne train --input-stride 2` from training to C, in real processes on sklearn digits: the students'
// first conv runs at stride 2 with no pool after it, the compiled program's input_conv2d has stride
// 2 and no max_pool follows it, the interpreter's input MACs are fewer than the stride-1 model's, and
// the C build is bit-exact on the host at every budget. Per student (`--input-stride 2,1`) with a
// logits-trained second student (`--student-targets features,logits`) the same holds student by
// student. Combinations it cannot serve are refused.
import Testing
import Foundation
import SNEEnsemble
import SNETrain
import SpikeIR

@Suite(.serialized) struct InputStrideTests {
    static let common = ["--dataset", "digits", "--teacher-width", "8", "--teacher-epochs", "2", "--students", "2", "--conv", "4,8",
                         "--hidden", "16", "--features", "8", "--student-epochs", "2", "--head-epochs", "2", "--finetune-epochs", "1",
                         "--threads", "2", "--seed", "5", "--limit", "1000", "--cascade"]

    @Test func strideTwoFromTrainingToC() throws {
        guard let data = TrainProcessTests.dataRoot, TrainProcessTests.binary != nil else {
            Issue.record("needs ../shared/data/sklearn-digits and the built sne binary"); return
        }
        let dir = TrainProcessTests.tempDir("stride")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var macs: [Int: Int] = [:]
        for stride in [1, 2] {
            let out = dir + "/s\(stride)"
            try TrainProcessTests.run(["train", "sne", "--out", out, "--data", data, "--input-stride", "\(stride)"] + Self.common)
            let m = try SNEModel.load(from: out + "/model.sne")
            #expect(m.spec.student.inputStride == stride)
            #expect(m.students.allSatisfy { ($0.layers[0].layer as? Conv2d)?.stride == stride })
            #expect(m.students.allSatisfy { $0.layers.contains { $0.name == "pool1" } == (stride == 1) })
            try TrainProcessTests.run(["compile", out + "/model.sne", "-o", out + "/p.snep", "--data", data, "--allow-inactive"])
            let p = try ProgramFile.read(path: out + "/p.snep")
            for s in p.students {
                guard case .inputConv2D(let c) = s.ops[0] else { Issue.record("op 0 is \(s.ops[0].name)"); continue }
                #expect(c.stride == stride)
                if case .maxPool = s.ops[2] { #expect(stride == 1) } else { #expect(stride == 2) }
            }
            let x = (0..<64).map { UInt8(($0 * 37) % 17) }
            macs[stride] = try Interpreter(p)(x, budget: 1).total.macs
            try TrainProcessTests.run(["verify", out + "/p.snep", "--target", "host", "--budget", "all", "--random", "8"])
        }
        #expect(macs[2]! < macs[1]!, "\(macs)")
    }

    /// Student 0 at stride 2 distilling features, student 1 at stride 1 learning the labels and the
    /// teacher's logits, with prefix temperatures in the cascade's training: each student's conv, pool and program op follow its own stride, the
    /// checkpoints say which target each learned, the logits student classifies above chance
    /// with its temporary classifier, and the C build is bit-exact at every budget.
    @Test func perStudentStrideAndLogitsTargetFromTrainingToC() throws {
        guard let data = TrainProcessTests.dataRoot, let sne = TrainProcessTests.binary else {
            Issue.record("needs ../shared/data/sklearn-digits and the built sne binary"); return
        }
        let out = TrainProcessTests.tempDir("stride-mixed")
        defer { try? FileManager.default.removeItem(atPath: out) }
        // 8 student epochs (common's 2 are too few steps for the labels on 1,000 digits)
        let common = Self.common.enumerated().map { $0.offset > 0 && Self.common[$0.offset - 1] == "--student-epochs" ? "8" : $0.element }
        let p0 = Process(), pipe = Pipe()
        p0.executableURL = URL(fileURLWithPath: sne)
        p0.arguments = ["train", "sne", "--out", out, "--data", data, "--input-stride", "2,1", "--student-targets", "features,logits",
                        "--prefix-temperature"] + common
        p0.standardOutput = pipe; p0.standardError = pipe
        try p0.run()
        let log = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p0.waitUntilExit()
        #expect(p0.terminationStatus == 0, "\(log.suffix(400))")
        let m = try SNEModel.load(from: out + "/model.sne")
        #expect((0..<2).map { m.spec.studentSpec($0).inputStride ?? 1 } == [2, 1])
        #expect(m.info["train.prefix_scales"]?.hasPrefix("1:") == true, "\(m.info)")   // --prefix-temperature learned prefix 1's scale
        #expect((0..<2).map { (m.students[$0].layers[0].layer as? Conv2d)?.stride } == [2, 1])
        #expect((0..<2).map { k in m.students[k].layers.contains { $0.name == "pool1" } } == [false, true])
        #expect(try (0..<2).map { try Checkpoint.read(from: out + "/student-\($0).ckpt").metadata["target"] } == ["features", "logits"])
        // "student 1 epoch 8/8: loss …, train acc A%, test acc (first N, own classifier) B%": above chance (10 %)
        let line = log.split(separator: "\n").last { $0.hasPrefix("student 1 epoch 8/8:") }.map(String.init) ?? ""
        let acc = line.range(of: "own classifier) ").flatMap { r in Double(line[r.upperBound...].prefix { $0 != "%" }) }
        #expect((acc ?? 0) > 25, "\(line)")
        try TrainProcessTests.run(["compile", out + "/model.sne", "-o", out + "/p.snep", "--data", data, "--allow-inactive"])
        let p = try ProgramFile.read(path: out + "/p.snep")
        #expect(p.students.map { s -> Int in if case .inputConv2D(let c) = s.ops[0] { return c.stride }; return 0 } == [2, 1])
        try TrainProcessTests.run(["verify", out + "/p.snep", "--target", "host", "--budget", "all", "--random", "8"])
    }

    @Test func combinationsItCannotServeAreRefused() throws {
        guard let sne = TrainProcessTests.binary else { Issue.record("needs the built sne binary"); return }
        let out = TrainProcessTests.tempDir("stride-bad")
        defer { try? FileManager.default.removeItem(atPath: out) }
        for (flags, message) in [(["--input-stride", "3"], "--input-stride must be 1 or 2, or one per student like 2,1, got '3'"),
                                 (["--input-stride", "2,x"], "--input-stride must be 1 or 2, or one per student like 2,1, got '2,x'"),
                                 (["--students", "2", "--input-stride", "2,1,1"], "--input-stride 2,1,1 (inputStrides in a config file): 1…K strides"),
                                 (["--input-stride", "2,1", "--stem", "1"], "--input-stride 2 with --stem"),
                                 (["--student-targets", "features,labels"], "--student-targets features,labels (studentTargets in a config file): 1…K entries of features or logits"),
                                 (["--student-targets", "logits", "--layerwise", "1"], "--student-targets logits with --layerwise"),
                                 (["--student-targets", "logits", "--ce", "0", "--kl", "0"], "a logits student needs a class loss"),
                                 (["--prefix-temperature"], "--prefix-temperature belongs to a cascade"),
                                 (["--input-stride", "2", "--stem", "1"], "--input-stride 2 with --stem"),
                                 (["--input-stride", "2", "--layerwise", "1"], "--input-stride 2 with --layerwise")] {
            let (code, msg) = try CascadeTests.sne(sne, ["train", "sne", "--out", out] + flags)
            #expect(code == 2 && msg.contains(message), "\(flags): \(msg)")
        }
    }
}
