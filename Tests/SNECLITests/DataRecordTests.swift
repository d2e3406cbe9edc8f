// A model is never silently measured on data it was not trained on: check, eval and compile
// --data refuse (exit 2) without --force and warn with it; the right data passes untouched.
import Foundation
import Testing
@testable import SNECLI

@Suite struct DataRecordTests {
    static let fm = repoRoot.appendingPathComponent("examples/models/fashion-mnist").path
    static let mnist = repoRoot.deletingLastPathComponent().appendingPathComponent("shared/data/mnist").path
    static let slice = repoRoot.appendingPathComponent("examples/data/fashion-mnist-slice").path

    @Test func otherDatasetIsRefusedWithoutForce() throws {
        guard FileManager.default.fileExists(atPath: Self.mnist) else { print("skipping: \(Self.mnist) not found"); return }
        let model = Self.fm + "/model.sne", program = Self.fm + "/fashion_sne.snep"
        for argv in [["check", model, program, "--data", Self.mnist, "--limit", "64"],
                     ["eval", model, "--dataset", "mnist", "--data", Self.mnist.replacingOccurrences(of: "/mnist", with: ""), "--limit", "64"],
                     ["compile", model, "-o", NSTemporaryDirectory() + "sne-datarec-\(getpid()).snep", "--data", Self.mnist]] {
            let r = sne(argv)
            #expect(r.0 == 2 && r.2.contains("the model was trained on fashion-mnist") && r.2.contains("--force"), "\(argv[0]): \(r.2)")
            #expect(r.1.isEmpty, "\(argv[0]) printed results: \(r.1.prefix(200))")
        }
        let forced = sne(["check", model, program, "--data", Self.mnist, "--limit", "64", "--force", "--activity-images", "8"])
        #expect(forced.0 == 0 && forced.2.contains("warning: ") && forced.2.contains("going on (--force)"), "\(forced.2)")
    }

    @Test func theTrainingDataPasses() {
        // The slice shares Fashion-MNIST's first test images: the full-data model checks on it.
        let r = sne(["check", Self.fm + "/model.sne", Self.fm + "/fashion_sne.snep", "--data", Self.slice, "--limit", "64", "--activity-images", "8"])
        #expect(r.0 == 0 && !r.2.contains("trained on"), "\(r.2)")
    }
}
