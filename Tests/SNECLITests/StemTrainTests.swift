// The shared stem from training to C (`sne train --stem N`, spec §4.1), in real processes on sklearn
// digits: the students share student 0's first blocks bit for bit, the compiled program computes
// them once (a STEM section, minor version 2), its logits equal those of the same program with the
// stem expanded into every student, and the C build is bit-exact on the host at every budget.
import Testing
import Foundation
import SNEEnsemble
import SNEPasses
import SpikeIR

@Suite(.serialized) struct StemTrainTests {
    static let common = ["--dataset", "digits", "--teacher-width", "8", "--teacher-epochs", "2", "--students", "3", "--conv", "4,8",
                         "--hidden", "16", "--features", "8", "--student-epochs", "2", "--head-epochs", "2", "--finetune-epochs", "1",
                         "--threads", "2", "--seed", "5", "--limit", "1000"]

    @Test func stemOfTwoBlocksFromTrainingToC() throws {
        guard let data = TrainProcessTests.dataRoot, TrainProcessTests.binary != nil else {
            Issue.record("needs ../shared/data/sklearn-digits and the built sne binary"); return
        }
        let dir = TrainProcessTests.tempDir("stem")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let args = ["--out", dir, "--data", data, "--stem", "2", "--cascade"] + Self.common
        try TrainProcessTests.run(["train", "sne"] + args)
        let m = try SNEModel.load(from: dir + "/model.sne")
        #expect(m.spec.stem == 2)
        // every student holds student 0's stem (after the joint fine-tune), and it is frozen
        let s0 = Dictionary(uniqueKeysWithValues: m.students[0].stateDict())
        for k in 1..<m.K {
            for (name, t) in m.students[k].stateDict() where StudentSpec.isStemTensor(name, blocks: 2) {
                #expect(t.data == s0[name]!.data, "student \(k) \(name)")
            }
            #expect(m.students[k].frozenPrefix == StudentSpec.stemLayers(2))
        }
        try TrainProcessTests.run(["compile", dir + "/model.sne", "-o", dir + "/p.snep", "--data", data, "--stop-margin", "1", "--allow-inactive"])
        let p = try ProgramFile.read(path: dir + "/p.snep")
        #expect(p.stem?.count == 6 && p.fileVersionMinor == 2)
        #expect(p.students.allSatisfy { $0.ops.first == .stem })
        // same logits as every student computing the stem itself; the stem costs once
        let x = [UInt8](repeating: 0, count: 64).enumerated().map { UInt8(($0.offset * 37) % 17) }
        let shared = try Interpreter(p), own = try Interpreter(StemSharing.expand(p))
        for k in 1...p.students.count {
            let a = try shared(x, budget: k), b = try own(x, budget: k)
            #expect(a.logits == b.logits && a.active == b.active)
            if a.active.count > 1 { #expect(a.total.macs < b.total.macs) }
        }
        try TrainProcessTests.run(["verify", dir + "/p.snep", "--target", "host", "--budget", "all"])
    }

    @Test func studentsBeforeStudentZeroAndChangedStemsAreRefused() throws {
        guard let data = TrainProcessTests.dataRoot, let sne = TrainProcessTests.binary else {
            Issue.record("needs ../shared/data/sklearn-digits and the built sne binary"); return
        }
        let dir = TrainProcessTests.tempDir("stem-order")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let args = ["--out", dir, "--data", data, "--stem", "1"] + Self.common
        try TrainProcessTests.run(["train", "teacher"] + args)
        var (code, msg) = try CascadeTests.sne(sne, ["train", "student", "--index", "1"] + args)
        #expect(code == 2 && msg.contains("student 0 is not trained yet") && msg.contains("--index 0"), "\(msg)")
        for k in 0..<3 { try TrainProcessTests.run(["train", "student", "--index", "\(k)"] + args) }
        // student 0 retrained with another seed after the others: join refuses the mismatch
        try TrainProcessTests.run(["train", "student", "--index", "0"] + args.map { $0 == "5" ? "6" : $0 })
        (code, msg) = try CascadeTests.sne(sne, ["train", "join"] + args)
        #expect(code == 2 && msg.contains("stem differs from student 0's"), "\(msg)")
        // widths that cannot share
        (code, msg) = try CascadeTests.sne(sne, ["train", "sne", "--out", dir + "-w", "--stem", "1", "--student-sizes", "4,8,16/8,8,16",
                                                 "--dataset", "digits", "--data", data])
        #expect(code == 2 && msg.contains("same widths"), "\(msg)")
        (code, msg) = try CascadeTests.sne(sne, ["train", "sne", "--out", dir + "-b", "--stem", "3", "--conv", "4,8", "--dataset", "digits", "--data", data])
        #expect(code == 2 && msg.contains("only 2 conv blocks"), "\(msg)")
    }
}

/// A run's saved config.json keeps "no gate", so a later stage run from it alone (`sne train join
/// --out DIR`) does not bring the default gate back.
@Suite struct SavedConfigTests {
    @Test func noGateSurvivesTheSavedConfig() throws {
        let dir = TrainProcessTests.tempDir("cfg")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        var c = TrainConfig()
        c.gate = nil; c.cascade = true; c.stem = 1
        try c.write(dir + "/config.json")
        let back = try TrainConfig.read(dir + "/config.json")
        #expect(back.gate == nil && back.isCascade && back.stem == 1)
        try back.validate()
        // a cascade config written before the gate was saved as null (no "gate" key)
        try #"{"cascade": true, "students": 2}"#.write(toFile: dir + "/old.json", atomically: true, encoding: .utf8)
        let old = try TrainConfig.read(dir + "/old.json")
        #expect(old.gate == nil)
        try old.validate()
        // a default config keeps its gate
        try TrainConfig().write(dir + "/d.json")
        #expect(try TrainConfig.read(dir + "/d.json").gate == GateSpec())
    }
}
