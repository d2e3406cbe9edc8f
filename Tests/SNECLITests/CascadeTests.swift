// Cascade training (`--cascade`) and heterogeneous students (`--student-sizes`), in real processes
// on sklearn digits: the run order is fixed cheapest-first, the shapes travel in the model, and the
// program compiles, checks and runs bit-exact in C on the host at every budget.
import Testing
import Foundation
import SNEEnsemble

@Suite(.serialized) struct CascadeTests {
    @Test func denseMACsByHand() {
        // conv 1→4 on 8x8: 1·4·9·64 = 2304; pool → 4x4x4 = 64 → fc1 64·16 = 1024; fc2 16·16 = 256.
        let s = StudentSpec(conv: [4], hidden: 16, features: 16)
        #expect(s.denseMACs(input: [1, 8, 8]) == 2304 + 1024 + 256)
        // No hidden layer: conv 1→4 (2304), conv 4→8 on 4x4 (4·8·9·16 = 4608), fc2 (8·2·2)·16 = 512.
        #expect(StudentSpec(conv: [4, 8], hidden: 0, features: 16).denseMACs(input: [1, 8, 8]) == 2304 + 4608 + 512)
    }

    @Test func configStudentSizesRepeatTheLastEntry() throws {
        var c = TrainConfig()
        c.students = 3
        c.studentSizes = [[4, 8, 16], [8, 16, 32]]
        #expect(c.studentSpec(0).conv == [4, 8] && c.studentSpec(0).hidden == 16)
        #expect(c.studentSpec(2).conv == [8, 16] && c.studentSpec(2).hidden == 32)
        #expect(c.perStudentSpecs?.count == 3)
        try c.validate()
        c.studentSizes = [[4]]   // a hidden width but no conv
        #expect(throws: SNEError.self) { try c.validate() }
        c.studentSizes = nil
        c.cascade = true          // the gate is still on
        #expect(throws: SNEError.self) { try c.validate() }
    }

    @Test func prefixWeightsSumToOne() throws {
        var c = TrainConfig()
        for w in [nil, "uniform", "linear"] {
            c.cascadeWeights = w
            for K in 1...6 { #expect(abs((1...K).map { c.prefixWeight($0, of: K) }.reduce(0, +) - 1) < 1e-6) }
        }
        c.cascadeWeights = "linear"
        #expect(c.prefixWeight(4, of: 4) == 0.4 && c.prefixWeight(1, of: 4) == 0.1)
        c.cascadeWeights = "square"
        #expect(throws: SNEError.self) { try c.validate() }
    }

    @Test func cascadeOfHeterogeneousStudents() throws {
        guard let data = TrainProcessTests.dataRoot, let sne = TrainProcessTests.binary else {
            Issue.record("needs ../shared/data/sklearn-digits and the built sne binary"); return
        }
        let dir = TrainProcessTests.tempDir("cascade")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let args = ["--out", dir, "--data", data, "--dataset", "digits", "--teacher-width", "8", "--teacher-epochs", "2",
                    "--students", "3", "--student-sizes", "8,16,32/4,8,16", "--features", "16", "--cascade",
                    "--student-epochs", "2", "--head-epochs", "2", "--finetune-epochs", "1", "--threads", "2", "--seed", "5",
                    "--limit", "1200"]
        try TrainProcessTests.run(["train", "teacher"] + args)
        try TrainProcessTests.run(["train", "sne"] + args)
        let m = try SNEModel.load(from: dir + "/model.sne")
        #expect(m.gate == nil && m.info["train.cascade"] == "1")
        #expect(m.spec.perStudent?.map(\.conv) == [[8, 16], [4, 8], [4, 8]])
        // cheapest first: the two 4/8/16 students before the 8/16/32 one
        #expect(m.order.last == 0, "order \(m.order)")
        let cfg = try TrainConfig.read(dir + "/config.json")
        #expect(cfg.isCascade && cfg.studentSizes == [[8, 16, 32], [4, 8, 16]])
        try TrainProcessTests.run(["compile", dir + "/model.sne", "-o", dir + "/p.snep", "--data", data, "--stop-margin", "1", "--allow-inactive"])
        try TrainProcessTests.run(["verify", dir + "/p.snep", "--target", "host", "--budget", "all"])
        // The held-out split: training images 1200… were not used; 200 of them check, 1000 do not exist.
        #expect(m.info["train.images"] == "1200")
        let (ok, text) = try Self.sne(sne, ["check", dir + "/model.sne", dir + "/p.snep", "--data", data, "--held-out", "200", "--json"])
        #expect(ok == 0 || ok == 1, "\(text)")
        let j = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any]
        #expect(j?["images"] as? Int == 200)
        let (bad, msg) = try Self.sne(sne, ["check", dir + "/model.sne", dir + "/p.snep", "--data", data, "--held-out", "1000"])
        #expect(bad == 2 && msg.contains("at most"), "\(msg)")
    }

    /// Runs sne; (exit code, stdout, or stderr when stdout is empty).
    static func sne(_ bin: String, _ args: [String]) throws -> (Int32, String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: bin)
        p.arguments = args
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let o = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let e = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        return (p.terminationStatus, o.isEmpty ? e : o)
    }

    @Test func badFlagsAreUsageErrors() throws {
        guard let sne = TrainProcessTests.binary else { Issue.record("needs the built sne binary"); return }
        for (extra, needle) in [(["--cascade", "--gate-pool", "2"], "takes no gate"),
                                (["--student-sizes", "4,x"], "--student-sizes '4,x'")] {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: sne)
            p.arguments = ["train", "sne", "--out", TrainProcessTests.tempDir("cascade-bad"), "--dataset", "digits"] + extra
            let err = Pipe()
            p.standardError = err
            p.standardOutput = FileHandle.nullDevice
            try p.run()
            let text = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            p.waitUntilExit()
            #expect(p.terminationStatus == 2 && text.contains(needle), "\(extra): \(text)")
        }
    }
}
