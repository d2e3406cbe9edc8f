// What a model was trained on, recorded in the model (`info`: dataset name, input shape,
// classes, a fingerprint of the test split's first images) and checked by `check`, `eval` and
// `compile --data` against the data they are given, so a model is never silently measured on
// another dataset.
import Foundation
import SNEData

public enum DataFingerprint {
    /// Images hashed: the test split's first 64 (or all, when it has fewer).
    public static let images = 64

    /// FNV-1a 64 over the shape of one image, then the first `images` images as uint8 pixels
    /// (round(p·255)) and their labels: 16 hex digits.
    public static func of(_ d: LabeledImages) -> String {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        func mix(_ v: UInt8) { h = (h ^ UInt64(v)) &* 0x100_0000_01b3 }
        for s in d.shape.dropFirst() { for k in 0..<4 { mix(UInt8((s >> (8 * k)) & 0xFF)) } }
        let n = min(images, d.count), size = d.imageSize
        for i in 0..<n {
            for p in d.pixels[(i * size)..<((i + 1) * size)] { mix(UInt8(max(0, min(255, (p * 255).rounded())))) }
            mix(UInt8(truncatingIfNeeded: d.labels[i]))
        }
        return String(h, radix: 16)
    }

    /// The fingerprints of the test splits of the datasets sne knows (measured on their files:
    /// `DataFingerprintTests` recomputes them from ../shared/data and examples/data), for models
    /// written before models recorded their own (they record only the dataset name).
    /// The slice shares Fashion-MNIST's first test images, so a slice model matches both.
    public static let known: [String: String] = [
        "digits": "134649b2ef906b8d",
        "fashion-mnist": "edb8d3efa997376c",
        "fashion-mnist-slice": "edb8d3efa997376c",
        "mnist": "d4bab24d77ff0d9d",
    ]

    /// The `info` entries a model gets for the data `d` it was trained on.
    public static func info(for d: DatasetSplits) -> [String: String] {
        ["data.fingerprint": of(d.test), "data.input": d.inputShape.map(String.init).joined(separator: "x"),
         "data.classes": "\(d.classes)"]
    }

    /// nil when `test` (the first test images of the data given to a command) is what `info`
    /// says the model was trained on, or when the model records nothing to compare; else one
    /// line saying what differs.
    public static func mismatch(info: [String: String], test: LabeledImages) -> String? {
        let name = info["dataset"] ?? "unknown data"
        let shape = test.shape.dropFirst().map(String.init).joined(separator: "x")
        if let s = info["data.input"], s != shape {
            return "the model was trained on \(name) with inputs \(s), this data has \(shape)"
        }
        if let c = info["data.classes"], let n = Int(c), let top = test.labels.max(), top >= n {
            return "the model was trained on \(name) with \(n) classes, this data has label \(top)"
        }
        guard let expected = info["data.fingerprint"] ?? info["dataset"].flatMap({ known[$0] }) else { return nil }
        let got = of(test)
        if got != expected {
            return "the model was trained on \(name) (test-split fingerprint \(expected)), this data's first test images differ (fingerprint \(got))"
        }
        return nil
    }
}

public enum SubsetBalance {
    /// One line when `labels` (the first N test images a command measures on) are far from
    /// class-balanced — total variation distance from uniform over `classes` above 0.15, as on
    /// class-sorted data, where the first N images hold a few classes only — else nil.
    public static func warning(labels: [Int], classes: Int, what: String) -> String? {
        guard classes > 1, labels.count >= classes else { return nil }
        var h = [Int](repeating: 0, count: classes)
        for l in labels where l >= 0 && l < classes { h[l] += 1 }
        let n = Double(labels.count)
        let tv = 0.5 * h.reduce(0) { $0 + abs(Double($1) / n - 1 / Double(classes)) }
        guard tv > 0.15 else { return nil }
        let counts = h.enumerated().map { "\($0.offset):\($0.element)" }.joined(separator: " ")
        return "warning: \(what) are not class-balanced (per class \(counts)); accuracy on them can differ from the whole test set: measure on all of it, or shuffle the data"
    }
}
