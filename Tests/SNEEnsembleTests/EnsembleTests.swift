// The ensemble model: building, saving and loading.
import Testing
import Foundation
import SNETensor
import SNETrain
@testable import SNEEnsemble

@Suite struct EnsembleModelTests {
    @Test func saveLoadRoundTrip() throws {
        let spec = EnsembleSpec(input: [1, 8, 8], classes: 3, students: 2,
                                student: StudentSpec(conv: [2], hidden: 4, features: 3, timesteps: 2), gate: GateSpec(pool: 2, hidden: 4))
        let m = try SNEModel(spec: spec, seed: 7, partition: [[0, 2], [1, 3]])
        m.order = [1, 0]
        m.info["teacher"] = "test"
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("sne-model-\(getpid()).sne").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try m.save(to: path)
        let r = try SNEModel.load(from: path)
        #expect(r.spec == spec && r.partition == m.partition && r.order == [1, 0] && r.info["teacher"] == "test")
        for k in 0..<2 { #expect(r.students[k].stateDict().map(\.1) == m.students[k].stateDict().map(\.1)) }
        #expect(r.head.weight.value == m.head.weight.value)
        #expect(r.gate!.stateDict().map(\.1) == m.gate!.stateDict().map(\.1))
    }

    @Test func badSpecsAreOneLineErrors() throws {
        #expect(throws: SNEError.self) { try StudentSpec(conv: []).validate() }
        #expect(throws: SNEError.self) { try StudentSpec(reset: "soft").validate() }
        #expect(throws: SNEError.self) { try GateSpec(pool: 3).validate() }
        let bad = EnsembleSpec(input: [1, 8, 8], classes: 1, students: 2, student: StudentSpec(), gate: nil)
        #expect(throws: SNEError.self) { try SNEModel(spec: bad, seed: 1) }
    }
}
