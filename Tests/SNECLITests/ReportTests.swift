// The HTML report of `sne check`: the ensemble readable next to a far teacher, every marker in
// the legend, the test-set sizes stated, reference points from a file (CSV or `sne eval --json`),
// the instruction plot when given, and the threshold bars labelled as per-layer maxima.
import Foundation
import Testing
@testable import SNECLI
@testable import SNECompile

@Suite struct ReportTests {
    static let fm = repoRoot.appendingPathComponent("examples/models/fashion-mnist").path
    static let slice = repoRoot.appendingPathComponent("examples/data/fashion-mnist-slice").path
    static let tmp: String = {
        let d = NSTemporaryDirectory() + "sne-report-\(getpid())"
        try? FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
        return d
    }()

    @Test func reportHasEveryMarkerInTheLegendAndStatesSizes() throws {
        let refs = Self.tmp + "/refs.csv"
        try "# label, accuracy %, µJ, test images\nplain SNN 4/8/32,87.60,0.112,10000\n".write(toFile: refs, atomically: true, encoding: .utf8)
        let html = Self.tmp + "/r.html"
        let r = sne(["check", Self.fm + "/model.sne", Self.fm + "/fashion_sne.snep", "--data", Self.slice, "--limit", "100",
                     "--activity-images", "8", "--html", html, "--refs", refs, "--instructions", "cortex-m4=2290000,2550000,2680000,2680000"])
        #expect(r.0 == 0, "\(r.2)")
        let h = try String(contentsOfFile: html, encoding: .utf8)
        for legend in ["float model, budget k", "integer program, budget k", "confidence stop, integer", "confidence stop, float",
                       "teacher 92.99% (off scale)", "plain SNN 4/8/32 87.60%"] {
            #expect(h.contains(legend), "legend lacks '\(legend)'")
        }
        #expect(h.contains("101 µJ →"), "the far teacher is drawn at the edge with its energy")
        #expect(h.contains("the first 100 test images (sne check --limit)") && h.contains("plain SNN 4/8/32: 87.60% on 10000 test images"))
        #expect(h.contains("Accuracy vs instructions on cortex-m4") && h.contains("instructions per inference on cortex-m4") && h.contains(">2.4M<"))
        // the latency at cortex-m4's common clocks: 2,290,000 instructions at 100 MHz = 22.9 ms
        #expect(h.contains("<th>ms at 100 MHz</th>") && h.contains("<td>2290000</td><td>35.8</td><td>27.3</td><td>22.9</td><td>13.6</td>"))
        #expect(h.contains("the largest channel threshold θ of each layer") && h.contains("maximum over its channels"))
        // Without a plain SNN, the report says how to add one.
        let h2 = Self.tmp + "/r2.html"
        #expect(sne(["check", Self.fm + "/model.sne", Self.fm + "/fashion_sne.snep", "--data", Self.slice, "--limit", "64",
                     "--activity-images", "8", "--html", h2]).0 == 0)
        #expect(try String(contentsOfFile: h2, encoding: .utf8).contains("No plain-SNN point: add one with --snn ACC:UJ, or --refs FILE"))
    }

    @Test func refsFromEvalJSON() throws {
        let json = Self.tmp + "/eval.json"
        try """
        {"energy": {"mac": 4.6, "accumulate": 0.9}, "teacherNoise": [], "models": [
          {"model": "runs/fm-plain/model.sne", "samples": 10000, "spikeRates": [], "lifNames": [], "noise": [], "info": {"kind": "plain"},
           "rows": [{"selection": "fixed", "budget": 1, "accuracy": 0.876, "students": 1, "macs": 1, "synops": 1, "energyMicrojoules": 0.112}]},
          {"model": "runs/fm/model.sne", "samples": 10000, "spikeRates": [], "lifNames": [], "noise": [], "info": {},
           "rows": [{"selection": "gate", "budget": 1, "accuracy": 0.88, "students": 1, "macs": 1, "synops": 1, "energyMicrojoules": 0.2},
                    {"selection": "gate", "budget": 4, "accuracy": 0.906, "students": 4, "macs": 1, "synops": 1, "energyMicrojoules": 0.7},
                    {"selection": "confidence", "budget": 4, "margin": 2, "accuracy": 0.9, "students": 1.2, "macs": 1, "synops": 1, "energyMicrojoules": 0.25}]}]}
        """.write(toFile: json, atomically: true, encoding: .utf8)
        let refs = try CheckCommand.readRefs(json)
        #expect(refs == [RefPoint(label: "plain SNN", accuracy: 0.876, energy: 0.112, images: 10000),
                         RefPoint(label: "fm", accuracy: 0.906, energy: 0.7, images: 10000)])
        let bad = Self.tmp + "/bad.csv"
        try "teacher,93.1\n".write(toFile: bad, atomically: true, encoding: .utf8)
        #expect(throws: CLIError.self) { try CheckCommand.readRefs(bad) }
    }
}
