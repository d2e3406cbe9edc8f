// bench/frontier/frontier.py on its small config (sklearn digits, tiny models, two seeds): every
// stage runs in real processes, the table, JSON and HTML are written, and a second run reuses the
// trained models. The real configs (bench/frontier/fashion-mnist.json) are benchmarks, not tests.
import Foundation
import Testing

@Suite(.serialized) struct FrontierBenchTests {
    @Test func smallConfig() throws {
        guard let data = TrainProcessTests.dataRoot, let sne = TrainProcessTests.binary else {
            print("skipped: needs ../shared/data/sklearn-digits and the built sne binary"); return
        }
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/python3") else { print("skipped: no python3"); return }
        _ = data
        let out = TrainProcessTests.tempDir("frontier")
        defer { try? FileManager.default.removeItem(atPath: out) }
        func frontier() throws -> (Int32, String) {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
            p.arguments = [repoRoot.appendingPathComponent("bench/frontier/frontier.py").path,
                           repoRoot.appendingPathComponent("bench/frontier/small.json").path, "--out", out, "--sne", sne]
            let pipe = Pipe()
            p.standardOutput = pipe
            p.standardError = pipe
            try p.run()
            let text = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            p.waitUntilExit()
            return (p.terminationStatus, text)
        }
        let (code, text) = try frontier()
        #expect(code == 0, "\(text.suffix(800))")
        let j = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out + "/frontier.json"))) as? [String: Any]
        let rows = j?["rows"] as? [[String: Any]] ?? []
        // plain (k=1), plain+KD (k=1), SNE K=2 (k=1, k=2, confidence), SNE K=2 cascade (k=1, k=2,
        // confidence and its two margins): ten rows of two seeds each
        #expect(rows.count == 10)
        #expect(rows.allSatisfy { ($0["seeds"] as? Int) == 2 })
        #expect(rows.allSatisfy { (($0["accuracy"] as? Double) ?? -1) >= 0 && (($0["energy_uj"] as? Double) ?? 0) > 0 })
        #expect(rows.contains { ($0["pareto_energy_uj"] as? Bool) == true })
        let md = try String(contentsOfFile: out + "/frontier.md", encoding: .utf8)
        #expect(md.contains("| SNE K=2 4/8/16 | confidence | 2 |"))
        #expect(md.contains("| SNE K=2 4/8/16 cascade | confidence (margin 2) | 2 |"))
        // its stop margin chosen on the held-out split of a --limit 1200 run, among its candidates
        let val = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out + "/runs/sne-k-2-4-8-16-cascade-val/val.json"))) as? [String: Any]
        #expect([0.5, 1, 2].contains(val?["margin"] as? Double ?? -1) && (val?["candidates"] as? [Any])?.count == 3)
        let html = try String(contentsOfFile: out + "/frontier.html", encoding: .utf8)
        #expect(html.contains("<svg") && html.contains("nothing: a constant class"))
        // resumable: the second run trains nothing and gives the same table
        let (code2, text2) = try frontier()
        #expect(code2 == 0 && !text2.contains("sne train"), "\(text2.suffix(400))")
        #expect(try String(contentsOfFile: out + "/frontier.md", encoding: .utf8) == md)
    }
}
