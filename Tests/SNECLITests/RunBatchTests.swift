// `sne run PROGRAM --input IDX --count N [--index S] [--labels IDX] [--no-stop] [--json]`: one
// prediction per item, the same as N single runs; accuracy against labels; one-line errors.
import Foundation
import Testing
@testable import SNECLI
import SpikeIR

@Suite struct RunBatchTests {
    static let root = repoRoot
    static let trained = root.appendingPathComponent("examples/models/fashion-mnist/fashion_sne.snep").path

    /// An IDX image file of the five example test images (examples/programs/fmnist-test-<i>.u8) and
    /// a label file whose labels are `labels`; removed by the caller.
    static func files(labels: [UInt8]) throws -> (String, String) {
        let base = NSTemporaryDirectory() + "sne-batch-\(UUID().uuidString.prefix(8))"
        var idx: [UInt8] = [0, 0, 8, 3, 0, 0, 0, 5, 0, 0, 0, 28, 0, 0, 0, 28]
        for i in 0..<5 {
            idx += [UInt8](try Data(contentsOf: Self.root.appendingPathComponent("examples/programs/fmnist-test-\(i).u8")))
        }
        try Data(idx).write(to: URL(fileURLWithPath: base + "-images-idx3-ubyte"))
        try Data([0, 0, 8, 1, 0, 0, 0, UInt8(labels.count)] + labels).write(to: URL(fileURLWithPath: base + "-labels-idx1-ubyte"))
        return (base + "-images-idx3-ubyte", base + "-labels-idx1-ubyte")
    }

    func single(_ images: String, _ i: Int, _ extra: [String] = []) throws -> [String: Any] {
        let (c, o, e) = sne(["run", Self.trained, "--input", images, "--index", "\(i)", "--json"] + extra)
        #expect(c == 0, "\(e)")
        return try JSONSerialization.jsonObject(with: Data(o.utf8)) as? [String: Any] ?? [:]
    }

    @Test("--count N --json: one object per item equal to N single runs, then a summary with the accuracy")
    func batchMatchesSingleRuns() throws {
        // labels: the first four from single runs, the fifth deliberately one off
        let (images, labelsPath) = try Self.files(labels: [0, 0, 0, 0, 0])
        defer { unlink(images); unlink(labelsPath) }
        let singles = try (0..<5).map { try single(images, $0) }
        let preds = singles.map { $0["prediction"] as? Int ?? -1 }
        let labels = preds.enumerated().map { UInt8($0.offset == 4 ? ($0.element + 1) % 10 : $0.element) }
        try Data([0, 0, 8, 1, 0, 0, 0, 5] + labels).write(to: URL(fileURLWithPath: labelsPath))
        let (c, o, e) = sne(["run", Self.trained, "--input", images, "--index", "1", "--count", "4", "--labels", labelsPath, "--json"])
        #expect(c == 0, "\(e)")
        let lines = o.split(separator: "\n").map { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        #expect(lines.count == 5)
        for (j, l) in lines.prefix(4).enumerated() {
            let i = j + 1
            #expect(l?["item"] as? Int == i)
            #expect(l?["prediction"] as? Int == preds[i])
            #expect(l?["label"] as? Int == Int(labels[i]))
            #expect(l?["logits"] as? [Int] == singles[i]["logits"] as? [Int])
            #expect(l?["active"] as? [Int] == singles[i]["active"] as? [Int])
        }
        let s = lines.last??["summary"] as? [String: Any]
        #expect(s?["items"] as? Int == 4 && s?["first"] as? Int == 1 && s?["correct"] as? Int == 3)
        #expect(s?["accuracy"] as? Double == 0.75)
        let (ct, ot, _) = sne(["run", Self.trained, "--input", images, "--count", "5", "--labels", labelsPath])
        #expect(ct == 0 && ot.contains("item 4  prediction \(preds[4])  label \(labels[4])") && ot.contains("accuracy 4/5 = 80.00%"), "\(ot)")
    }

    @Test("--no-stop runs all k students (the trained ensemble stops after one on example image 0)")
    func noStopRunsEveryStudent() throws {
        let (images, labels) = try Self.files(labels: [0])
        defer { unlink(images); unlink(labels) }
        #expect((try single(images, 0)["active"] as? [Int])?.count == 1, "the program's confidence stop")
        let (c, o, e) = sne(["run", Self.trained, "--input", images, "--count", "1", "--no-stop", "--json"])
        #expect(c == 0, "\(e)")
        let first = try JSONSerialization.jsonObject(with: Data(o.split(separator: "\n")[0].utf8)) as? [String: Any]
        #expect((first?["active"] as? [Int])?.sorted() == [0, 1, 2, 3])
        #expect(o.contains("\"stop\":false"))
    }

    @Test("bad batch arguments and files: one-line errors, exit 2 (README \"Exit codes\")")
    func batchErrors() throws {
        let (images, labels) = try Self.files(labels: [1, 2])
        defer { unlink(images); unlink(labels) }
        let cases: [([String], Int32, String)] = [   // (arguments, exit code, part of the message)
            (["--input", images, "--labels", labels], 2, "--labels needs --count"),
            (["--input", images, "--count", "2", "--trace", "/tmp/x.json"], 2, "--trace is for one input"),
            (["--input", images, "--count", "6"], 2, "items 0…5 asked, the file has 5"),
            (["--input", images, "--index", "4", "--count", "2"], 2, "items 4…5 asked"),
            (["--input", images, "--count", "3", "--labels", labels], 2, "--labels \(labels): items 0…2 asked, the file has 2"),
            (["--input", images, "--count", "1", "--labels", images], 2, "a label file is a one-dimensional IDX"),
            (["--input", labels, "--count", "1"], 2, "IDX items are single bytes (a one-dimensional IDX, such as a label file; give the images file), the program input is 28x28x1"),
            (["--input", images, "--count", "0"], 2, "--count"),
        ]
        for (args, code, message) in cases {
            let (c, _, e) = sne(["run", Self.trained] + args)
            #expect(c == code && e.contains(message), "\(args): \(c) \(e)")
            #expect(e.split(separator: "\n").count == 1, "\(args): \(e)")
        }
    }
}
