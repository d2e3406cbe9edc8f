// `sne train --input-stride 2` from training to C, in real processes on sklearn digits: the students'
// first conv runs at stride 2 with no pool after it, the compiled program's input_conv2d has stride
// 2 and no max_pool follows it, the interpreter's input MACs are fewer than the stride-1 model's, and
// the C build is bit-exact on the host at every budget. Combinations it cannot serve are refused.
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

    @Test func combinationsItCannotServeAreRefused() throws {
        guard let sne = TrainProcessTests.binary else { Issue.record("needs the built sne binary"); return }
        let out = TrainProcessTests.tempDir("stride-bad")
        defer { try? FileManager.default.removeItem(atPath: out) }
        for (flags, message) in [(["--input-stride", "3"], "--input-stride must be an integer 1…2, got '3'"),
                                 (["--input-stride", "2", "--stem", "1"], "--input-stride 2 with --stem"),
                                 (["--input-stride", "2", "--layerwise", "1"], "--input-stride 2 with --layerwise")] {
            let (code, msg) = try CascadeTests.sne(sne, ["train", "sne", "--out", out] + flags)
            #expect(code == 2 && msg.contains(message), "\(flags): \(msg)")
        }
    }
}
