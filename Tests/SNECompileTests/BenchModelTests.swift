// Opt-in: trains a Fashion-MNIST-size ensemble (K = 4 students conv [8, 16], hidden 64, F = 32,
// T = 4, gate pool 4 / 32) with joint cross-entropy (FineTune, plain mode) and saves it, so the
// compiler and `sne check` can be measured before the ensemble trainer (`sne train`) lands.
//   SNE_COMPILE_MAKE_MODEL=/tmp/fm4.model [SNE_COMPILE_MAKE_IMAGES=6000] [SNE_COMPILE_MAKE_EPOCHS=1] \
//     swift test --filter BenchModelTests
import XCTest
import Foundation
import SNEEnsemble
import SNEData
import SNETensor
@testable import SNECompile
import SNETestSupport

final class BenchModelTests: XCTestCase {
    func testMakeFashionMNISTEnsemble() throws {
        let env = ProcessInfo.processInfo.environment
        guard let out = env["SNE_COMPILE_MAKE_MODEL"] else { throw XCTSkip("set SNE_COMPILE_MAKE_MODEL=PATH to train and save a Fashion-MNIST-size ensemble") }
        guard let dir = sharedData("fashion-mnist") else { throw XCTSkip("../shared/data/fashion-mnist not found") }
        let n = Int(env["SNE_COMPILE_MAKE_IMAGES"] ?? "") ?? 6000, epochs = Int(env["SNE_COMPILE_MAKE_EPOCHS"] ?? "") ?? 1
        let train = try IDX.load(directory: dir, split: "train", limit: n)
        let spec = EnsembleSpec(input: [1, 28, 28], classes: 10, students: 4,
                                student: StudentSpec(conv: [8, 16], hidden: 64, features: 32, timesteps: 4),
                                gate: GateSpec(pool: 4, hidden: 32))
        let m = try SNEModel(spec: spec, seed: 11)
        var o = FineTuneOptions()
        o.qat = false; o.epochs = epochs; o.batch = 64; o.lr = 2e-3
        var lines: [String] = []
        try FineTune.run(m, data: train, options: o, compute: ComputeContext(threads: 2)) { print($0); lines.append($0) }
        m.info["trained_by"] = "SNECompileTests FineTune (joint cross-entropy, \(n) images, \(epochs) epochs; gate untrained)"
        try m.save(to: out)
        XCTAssertEqual(lines.count, epochs)
    }
}
