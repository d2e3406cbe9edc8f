// Test support shared by SNECompileTests and SNECLITests: the shared data folder and a small
// trained ensemble (built once per test process).
import Foundation
import SNECompile
import SNEData
import SNEEnsemble
import SNETensor

/// `../shared/data/<sub>` from this file's path, or nil.
public func sharedData(_ sub: String) -> String? {
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    let dir = root.deletingLastPathComponent().appendingPathComponent("shared/data/\(sub)").path
    return FileManager.default.fileExists(atPath: dir) ? dir : nil
}

/// A small ensemble (K = 2, conv [4, 8], hidden 16, F = 16, T = 4, gate) trained for 2 epochs on
/// 512 Fashion-MNIST images, built once per test process.
public final class TinyModel: @unchecked Sendable {
    public static let shared: TinyModel? = try? TinyModel()
    public let dir: String
    public let train: LabeledImages, test: LabeledImages
    public let path: String
    init() throws {
        guard let d = sharedData("fashion-mnist") else { throw CompileError("no data") }
        dir = d
        train = try IDX.load(directory: d, split: "train", limit: 512)
        test = try IDX.load(directory: d, split: "t10k", limit: 200)
        let spec = EnsembleSpec(input: [1, 28, 28], classes: 10, students: 2,
                                student: StudentSpec(conv: [4, 8], hidden: 16, features: 16, timesteps: 4),
                                gate: GateSpec(pool: 4, hidden: 8))
        let m = try SNEModel(spec: spec, seed: 7)
        var o = FineTuneOptions()
        o.qat = false; o.epochs = 2; o.batch = 32; o.lr = 3e-3
        try FineTune.run(m, data: train, options: o, compute: ComputeContext(threads: 2))
        path = NSTemporaryDirectory() + "sne-compile-test-\(getpid()).model"
        try m.save(to: path)
    }
    /// A fresh copy (tests may modify it).
    public func model() throws -> SNEModel { try SNEModel.load(from: path) }
}
