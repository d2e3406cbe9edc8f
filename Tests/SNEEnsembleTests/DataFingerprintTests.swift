// The data record of a model: the known test-split fingerprints recomputed from the real files,
// and the mismatch rule (another dataset, another shape, labels beyond the classes).
import Foundation
import Testing
@testable import SNEEnsemble
import SNEData

@Suite struct DataFingerprintTests {
    static let checkout = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    /// Where each known dataset lives in this checkout's neighbourhood.
    static let roots = [checkout.deletingLastPathComponent().appendingPathComponent("shared/data").path,
                        checkout.appendingPathComponent("examples/data").path]

    @Test func knownFingerprintsMatchTheFiles() throws {
        var checked = 0
        for (name, fp) in DataFingerprint.known.sorted(by: { $0.key < $1.key }) {
            guard let d = Self.roots.lazy.compactMap({ try? Datasets.load(name, root: $0, limit: 1, testLimit: DataFingerprint.images) }).first else {
                print("skipping \(name): not found under \(Self.roots)"); continue
            }
            #expect(DataFingerprint.of(d.test) == fp, "\(name): \(DataFingerprint.of(d.test))")
            checked += 1
        }
        print("data fingerprints: \(checked) of \(DataFingerprint.known.count) known datasets recomputed from their files")
        for name in Datasets.known where DataFingerprint.known[name] == nil {
            if let d = Self.roots.lazy.compactMap({ try? Datasets.load(name, root: $0, limit: 1, testLimit: DataFingerprint.images) }).first {
                Issue.record("\(name) is present but not in DataFingerprint.known: \(DataFingerprint.of(d.test))")
            }
        }
    }

    @Test func mismatchRule() throws {
        let a = try LabeledImages(shape: [64, 1, 2, 2], pixels: (0..<256).map { Float($0 % 7) / 6 }, labels: (0..<64).map { $0 % 10 })
        var b = a; b.pixels[3] = 0.9
        let info = ["dataset": "toy", "data.fingerprint": DataFingerprint.of(a), "data.input": "1x2x2", "data.classes": "10"]
        #expect(DataFingerprint.mismatch(info: info, test: a) == nil)
        #expect(DataFingerprint.mismatch(info: info, test: b)?.contains("first test images differ") == true)
        let wide = try LabeledImages(shape: [64, 1, 2, 3], pixels: [Float](repeating: 0, count: 384), labels: [Int](repeating: 0, count: 64))
        #expect(DataFingerprint.mismatch(info: info, test: wide)?.contains("inputs 1x2x2, this data has 1x2x3") == true)
        var many = a; many.labels[0] = 12
        #expect(DataFingerprint.mismatch(info: info, test: many)?.contains("10 classes, this data has label 12") == true)
        // A model that records only its dataset name is checked against the known table; one that
        // records nothing known is not checked.
        #expect(DataFingerprint.mismatch(info: ["dataset": "toy"], test: a) == nil)
        if let (name, _) = DataFingerprint.known.first {
            #expect(DataFingerprint.mismatch(info: ["dataset": name], test: a) != nil)
        }
    }
}
