// Issue 19 item 10, from a held-out run on another dataset: full-size teacher files with --limit,
// errors that name flags and what they found, and a warning for a class-sorted test subset.
import Foundation
import Testing
@testable import SNEEnsemble
import SNEData

@Suite struct HeldOutRunTests {
    static let dir: String = {
        let d = NSTemporaryDirectory() + "sne-heldout-\(getpid())"
        try? FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
        return d
    }()

    @Test func fullSizeTeacherFilesGiveTheirFirstRowsUnderLimit() throws {
        let f = Self.dir + "/f.npy", z = Self.dir + "/z.npy"
        try NPY.write(.float32((0..<(10 * 3)).map(Float.init), shape: [10, 3]), to: f)
        try NPY.write(.float32((0..<(10 * 4)).map { Float($0) / 10 }, shape: [10, 4]), to: z)
        let t = try TeacherTargets.load(features: f, logits: z, samples: 6, classes: 4, limited: true)
        #expect(t.count == 6 && t.features == (0..<18).map(Float.init))
        do { _ = try TeacherTargets.load(features: f, logits: z, samples: 6, classes: 4); Issue.record("accepted") }
        catch let e as SNEError { #expect(e.message.contains("10 rows of teacher features (--teacher-features), but the training set has 6 images (with --limit N the first N rows are used)"), "\(e.message)") }
        do { _ = try TeacherTargets.load(features: f, logits: z, samples: 12, classes: 4, limited: true); Issue.record("accepted") }
        catch let e as SNEError { #expect(e.message.contains("10 rows"), "\(e.message)") }
    }

    @Test func dtypeErrorSaysWhatItFound() throws {
        let f = Self.dir + "/i.npy"
        try NPY.write(.int32([1, 2, 3, 4], shape: [2, 2]), to: f)
        do { _ = try TeacherTargets.readMatrix(f, preferred: "features"); Issue.record("accepted") }
        catch let e as SNEError { #expect(e.message.contains("the array is int32 ('<i4'); teacher outputs must be float32 ('<f4'): save them with .astype(np.float32)"), "\(e.message)") }
    }

    @Test func configErrorsNameTheFlags() {
        var c = TrainConfig(); c.teacherFeatures = "f.npy"
        do { try c.validate(); Issue.record("accepted") } catch let e as SNEError {
            #expect(e.message.contains("--teacher-features and --teacher-logits") && e.message.contains("--teacher-logits is missing"), "\(e.message)")
        } catch { Issue.record("\(error)") }
    }

    @Test func classSortedSubsetIsWarned() {
        let sorted = (0..<10).flatMap { [Int](repeating: $0, count: 100) }
        #expect(SubsetBalance.warning(labels: Array(sorted.prefix(300)), classes: 10, what: "the first 300 test images")?.contains("not class-balanced") == true)
        var g = SystemRandomNumberGenerator()
        #expect(SubsetBalance.warning(labels: sorted.shuffled(using: &g), classes: 10, what: "x") == nil)
        #expect(SubsetBalance.warning(labels: (0..<1000).map { $0 % 10 }, classes: 10, what: "x") == nil)
    }
}

@Suite struct ExternalTeacherTestOutputsTests {
    /// With --teacher-test-logits, the model gets the external teacher's test accuracy (for eval
    /// and check), computed from the logits and the test labels.
    @Test func externalTeacherTestAccuracy() throws {
        let root = DataFingerprintTests.roots[0]
        guard let d = try? Datasets.load("digits", root: root) else { print("skipping: digits not under \(root)"); return }
        let dir = HeldOutRunTests.dir + "/ext"
        let z = dir + "-z.npy"
        // Right on every test image but the first 10: accuracy (n − 10) / n.
        var logits = [Float](repeating: 0, count: d.test.count * d.classes)
        for (i, l) in d.test.labels.enumerated() { logits[i * d.classes + (i < 10 ? (l + 1) % d.classes : l)] = 5 }
        try NPY.write(.float32(logits, shape: [d.test.count, d.classes]), to: z)
        var c = TrainConfig(); c.dataset = "digits"; c.data = root
        c.teacherFeatures = z; c.teacherLogits = z; c.teacherTestLogits = z
        let run = try TrainRun(dir: dir, config: c, progress: .standardError())
        let info = run.teacherInfo()
        #expect(info["teacher.test_accuracy"] == String(format: "%.4f", Double(d.test.count - 10) / Double(d.test.count)), "\(info)")
        #expect(info["teacher.kind"] == "external" && info["teacher.test_images"] == "\(d.test.count)")
        var bad = c; bad.teacherFeatures = nil; bad.teacherLogits = nil
        #expect(throws: SNEError.self) { try bad.validate() }
    }
}
